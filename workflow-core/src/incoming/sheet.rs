//! The 收文批办单: a 收文 as the office reads it (see [`crate::sheet`]).

use super::state::Receipt;
use crate::sheet::{Line, Part, Sheet};

pub(crate) fn sheet(r: &Receipt) -> Sheet<'_> {
    let mut s = Sheet::new("收文批办单");
    let reg = r.registration();
    s.text("收文编号", r.number());
    s.parts("来文单位", vec![Part::Named(reg.from.clone())]);
    s.text("来文字号", &reg.from_number);
    s.text("文种", reg.kind.chinese());
    s.text(
        "密级",
        reg.classification.marking(reg.classification_period_years),
    );
    s.parts("收文日期", vec![Part::Date(reg.received_on)]);
    if let Some(c) = reg.channel {
        s.text("来文方式", c.chinese());
    }
    if reg.copies > 0 {
        s.text("份数", reg.copies.to_string());
    }
    s.text("份号", &reg.copy_numbers);
    s.text("重要", if reg.important { "是" } else { "" });
    match r.slip_returned() {
        Some(n) => s.parts(
            "回执",
            vec![
                Part::Text("已回".into()),
                Part::Time(n.at),
                Part::Actor(n.actor.clone()),
                Part::Text(n.text.clone()),
            ],
        ),
        None if reg.slip_required => s.text("回执", "需回执，尚未回"),
        None => {}
    }
    s.parts(
        "登记",
        vec![
            Part::Actor(r.registrar().clone()),
            Part::Unit(r.unit().clone()),
        ],
    );
    if let Some(l) = r.leader() {
        s.push(Line::actor("呈批领导", l, ""));
    }
    for l in r.pending_co_leaders() {
        s.push(Line::actor("待会批", l, ""));
    }
    if let Some(i) = r.instruction() {
        s.push(Line::actor("批示领导", &i.leader, ""));
        s.parts("主办单位", vec![Part::Unit(i.lead_unit.clone())]);
        s.parts("协办单位", vec![Part::units(&i.co_units)]);
        s.text("列入督办", if i.supervise { "是" } else { "" });
    }
    if let Some(d) = r.deadline() {
        s.parts("办结时限", vec![Part::Date(d)]);
    }
    for n in r.progress() {
        s.parts(
            "办理情况",
            vec![
                Part::Time(n.at),
                Part::Unit(n.unit.clone()),
                Part::Text(n.text.clone()),
            ],
        );
    }
    for n in r.urged() {
        s.parts(
            "催办",
            vec![
                Part::Time(n.at),
                Part::Actor(n.actor.clone()),
                Part::Text(n.text.clone()),
            ],
        );
    }
    for (reader, mark) in r.readers() {
        let acting = r.acting().get(reader);
        let mut parts = vec![
            Part::Actor(reader.clone()),
            Part::Text(if acting.is_some() { "阅办" } else { "阅知" }.into()),
        ];
        if let Some(d) = acting {
            parts.push(Part::Text("时限".into()));
            parts.push(Part::Date(*d));
        }
        match mark {
            Some(m) => {
                parts.push(Part::Text("已阅".into()));
                parts.push(Part::Time(m.at));
            }
            None => parts.push(Part::Text("未阅".into())),
        }
        s.parts("传阅", parts);
    }
    if let Some(cl) = r.closure() {
        s.text("办理结果", &cl.result);
        s.text("答复", &cl.reply);
    }
    s.text("退文理由", r.rejection().unwrap_or_default());
    s.archive(r.archive());
    for a in &reg.attachments {
        s.digests.push((a.name.clone(), a.sha256.clone()));
    }
    if let Some(src) = reg.source {
        s.links.push(("来文（本系统发文）".into(), src));
    }
    for item in r.supervision_items() {
        s.links.push(("督办事项".into(), *item));
    }
    s.opinions = r.opinions();
    s
}
