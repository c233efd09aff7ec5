//! The link from 发文: an 发文 of this system acknowledged (签收) by a unit of the directory
//! becomes that unit's 收文, registered by the engine.

use super::command::{IncomingAction, Registration};
use crate::ids::{Timestamp, UnitCode, china_date};
use crate::kind::Kind;
use crate::outgoing::Document;

/// The registration of `unit`'s 收文 for the 发文 `doc` it acknowledged at `at`: the 发文's
/// title, 文种, 密级 and 紧急程度, its issuing unit as 来文单位 and its 发文字号 as 来文字号.
/// A 请示 expects a reply (批复). No deadline: the 发文 carries none for its recipients, so
/// a 特急/加急 one gets its 办结时限 at 初审.
pub(crate) fn registration_for(doc: &Document, unit: &UnitCode, at: Timestamp) -> IncomingAction {
    let f = doc.fields();
    IncomingAction::Register {
        registration: Registration {
            from: f.issuing_unit.0.clone(),
            from_number: doc
                .issue()
                .map(|i| i.number.to_string())
                .unwrap_or_default(),
            title: f.title.clone(),
            kind: f.kind,
            classification: f.classification,
            classification_period_years: f.classification_period_years,
            urgency: f.urgency,
            received_on: china_date(at),
            deadline: None,
            reply_required: f.kind == Kind::Request,
            pages: 0,
            attachments: Vec::new(),
            source: Some(doc.id()),
        },
        unit: Some(unit.clone()),
    }
}
