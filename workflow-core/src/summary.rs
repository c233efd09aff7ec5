//! One line of particulars for each event, in Chinese, as a timeline shows it (the command
//! line's `history` and the web console's 时间线 alike). Times in China Standard Time.

//!
//! Each flow writes its own events' particulars ([`crate::Flow::summary`], in its module's
//! `summary.rs`); this module holds what they share.

use crate::ids::UnitCode;
use crate::registry::FlowEvent;

pub use crate::supervision::source_reference;

/// The particulars of one event (who and when are the envelope's).
pub fn summary(event: &FlowEvent) -> String {
    event.summary()
}

/// Units joined with 、.
pub fn join_units(units: &[UnitCode]) -> String {
    units
        .iter()
        .map(UnitCode::as_str)
        .collect::<Vec<_>>()
        .join("、")
}
