//! The 收文批办单: a 收文 as the office reads it (see [`crate::sheet`]).

use super::state::Receipt;
use crate::ids::china_time;
use crate::sheet::{Line, Sheet};
use crate::summary::join_units;

pub(crate) fn sheet(r: &Receipt) -> Sheet<'_> {
    let mut s = Sheet::new("收文批办单");
    let reg = r.registration();
    s.text("收文编号", r.number());
    s.text("来文单位", &reg.from);
    s.text("来文字号", &reg.from_number);
    s.text("文种", reg.kind.chinese());
    s.text("密级", reg.classification.chinese());
    s.text("收文日期", reg.received_on);
    s.push(Line::actor("登记", r.registrar(), r.unit()));
    if let Some(l) = r.leader() {
        s.push(Line::actor("呈批领导", l, ""));
    }
    if let Some(i) = r.instruction() {
        s.push(Line::actor("批示领导", &i.leader, ""));
        s.text("主办单位", &i.lead_unit);
        s.text("协办单位", join_units(&i.co_units));
        s.text("列入督办", if i.supervise { "是" } else { "" });
    }
    s.text(
        "办结时限",
        r.deadline().map(|d| d.to_string()).unwrap_or_default(),
    );
    for n in r.progress() {
        s.text(
            "办理情况",
            format!("{} {} {}", china_time(n.at), n.unit, n.text),
        );
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
