//! One line of particulars for each event, in Chinese, as a timeline shows it (the command
//! line's `history` and the web console's 时间线 alike). Times in China Standard Time.

//!
//! Each flow writes its own events' particulars ([`crate::Flow::summary`], in its module's
//! `summary.rs`); this module holds what they share.

use crate::ids::UnitCode;
use crate::registry::FlowEvent;

pub use crate::supervision::source_reference;

/// The particulars of one event (who and when are the envelope's), with people, units and
/// dates as `names` shows them (its default methods: by id and code).
pub fn summary(event: &FlowEvent, names: &dyn crate::sheet::Names) -> String {
    event.summary(names)
}

/// Units joined with 、.
pub fn join_units(units: &[UnitCode]) -> String {
    units
        .iter()
        .map(UnitCode::as_str)
        .collect::<Vec<_>>()
        .join("、")
}

/// An archive record's line (归档): the 档号 and its retention, and a deviation from the
/// schedule with its reason.
pub(crate) fn archived(
    reference: &crate::numbering::ArchiveReference,
    scheduled: Option<crate::retention::Retention>,
    deviation: Option<&str>,
) -> String {
    let mut text = format!("档号 {reference} {}", reference.retention.chinese());
    if let (Some(s), Some(why)) = (scheduled, deviation) {
        text.push_str(&format!("（偏离保管期限表的{}：{why}）", s.chinese()));
    }
    text
}
