//! The 督办单: a 督办 item as the office reads it (see [`crate::sheet`]).

use super::state::Item;
use super::summary::source_reference;
use crate::ids::china_time;
use crate::sheet::{Line, Sheet};
use crate::summary::join_units;

pub(crate) fn sheet(i: &Item) -> Sheet<'_> {
    let mut s = Sheet::new("督办单");
    let sp = i.spec();
    s.text(
        "来源",
        format!("{}{}", sp.source.chinese(), source_reference(&sp.source)),
    );
    s.text("督办要求", &sp.requirements);
    s.push(Line::actor("牵头领导", &sp.leader, ""));
    s.text("主办单位", &sp.lead_unit);
    s.text("协办单位", join_units(&sp.co_units));
    if let Some(r) = i.responsible() {
        s.push(Line::actor("责任人", r, ""));
    }
    s.text("办结时限", i.deadline());
    s.text("反馈频次", sp.feedback.chinese());
    s.text("密级", sp.classification.chinese());
    for fb in i.feedback() {
        s.text("进展反馈", format!("{} {}", china_time(fb.at), fb.text));
    }
    if let Some(done) = i.completion() {
        s.text("办理成果", &done.result);
    }
    s.archive(i.archive());
    if let Some((what, id)) = sp.source.linked() {
        s.links.push((format!("来源{what}"), id));
    }
    s.opinions = i.opinions();
    s
}
