//! The 签报单 (呈批件): a 签报 as the office and its leaders read it (see [`crate::sheet`]).

use super::state::Memo;
use crate::sheet::{Line, Part, RouteStage, Sheet};

pub(crate) fn sheet(m: &Memo) -> Sheet<'_> {
    let mut s = Sheet::new("签报单");
    let f = m.fields();
    s.text(
        "签报编号",
        m.number().map(ToString::to_string).unwrap_or_default(),
    );
    s.parts("签报单位", vec![Part::Unit(m.unit().clone())]);
    s.text("事由", &f.summary);
    s.text(
        "密级",
        f.classification.marking(f.classification_period_years),
    );
    s.text("缓急", f.urgency.chinese());
    s.text("全校性事项", if f.important { "是" } else { "" });
    s.parts(
        "拟稿",
        vec![
            Part::Actor(m.drafter().clone()),
            Part::Unit(m.unit().clone()),
        ],
    );
    s.parts("拟稿时间", vec![Part::Time(m.created_at())]);
    for (i, l) in m.pending_leaders().iter().enumerate() {
        let label = if i == 0 && m.leader().is_some() {
            "待批示"
        } else {
            "待会批"
        };
        s.push(Line::actor(label, l, ""));
    }
    for d in m.directives() {
        s.parts(
            "批示",
            vec![
                Part::Actor(d.leader.clone()),
                Part::Text(format!("{}：{}", d.decision.chinese(), d.text)),
                Part::Time(d.at),
            ],
        );
    }
    if let Some(d) = m.decision() {
        s.text("批示结果", d.chinese());
    }
    s.text("办结说明", m.closing_note().unwrap_or_default());
    s.archive(m.archive());
    s.text("作废理由", m.void_reason().unwrap_or_default());
    if let Some(r) = f.answers {
        s.links.push(("所答复的收文".into(), r));
    }
    for item in m.supervision_items() {
        s.links.push(("督办事项".into(), *item));
    }
    s.route = RouteStage::all(m.route(), m.current().map(|(i, _)| i));
    s.opinions = m.opinions();
    s
}
