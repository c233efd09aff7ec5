//! The 督办单: a 督办 item as the office reads it (see [`crate::sheet`]).

use super::state::Item;
use super::summary::source_reference;
use crate::sheet::{Line, Part, Sheet};

pub(crate) fn sheet(i: &Item) -> Sheet<'_> {
    let mut s = Sheet::new("督办单");
    let sp = i.spec();
    s.text(
        "立项号",
        i.number().map(ToString::to_string).unwrap_or_default(),
    );
    s.text(
        "来源",
        format!("{}{}", sp.source.chinese(), source_reference(&sp.source)),
    );
    s.text("督办要求", &sp.requirements);
    s.push(Line::actor("牵头领导", &sp.leader, ""));
    s.parts("主办单位", vec![Part::Unit(sp.lead_unit.clone())]);
    s.parts("协办单位", vec![Part::units(&sp.co_units)]);
    if let Some(r) = i.responsible() {
        s.push(Line::actor("责任人", r, ""));
    }
    s.parts("办结时限", vec![Part::Date(i.deadline())]);
    s.text("反馈频次", sp.feedback.chinese());
    s.text("密级", sp.classification.chinese());
    for fb in i.feedback() {
        s.parts(
            "进展反馈",
            vec![Part::Time(fb.at), Part::Text(fb.text.clone())],
        );
    }
    for (unit, input) in i.co_inputs() {
        s.parts(
            "协办情况",
            vec![
                Part::Unit(unit.clone()),
                Part::Time(input.at),
                Part::Text(input.text.clone()),
            ],
        );
    }
    for unit in i.pending_co_units() {
        s.parts(
            "协办情况",
            vec![Part::Unit(unit.clone()), Part::Text("尚未反馈".into())],
        );
    }
    for u in i.urged() {
        s.parts(
            "催办",
            vec![
                Part::Time(u.at),
                Part::Actor(u.by.clone()),
                Part::Text(u.message.clone()),
            ],
        );
    }
    if let Some(done) = i.completion() {
        s.text("办理成果", &done.result);
    }
    if let Some(g) = i.grade() {
        s.text("考评", g.chinese());
    }
    s.archive(i.archive());
    if let Some((what, id)) = sp.source.linked() {
        s.links.push((format!("来源{what}"), id));
    }
    s.opinions = i.opinions();
    s
}
