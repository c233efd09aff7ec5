//! The 发文稿纸: a 发文 as the office reads it (see [`crate::sheet`]).

use super::state::Document;
use crate::ids::china_time;
use crate::links::linked_receipt_id;
use crate::sheet::{Line, RouteStage, Sheet};
use crate::summary::join_units;

pub(crate) fn sheet(d: &Document) -> Sheet<'_> {
    let mut s = Sheet::new("发文稿纸");
    let x = d.fields();
    s.text("文种", x.kind.chinese());
    s.text(
        "发文字号",
        d.issue().map(|i| i.number.to_string()).unwrap_or_default(),
    );
    s.text("主办单位", &x.issuing_unit);
    s.text("联合发文", join_units(&x.co_issuing_units));
    s.text("密级", x.classification.chinese());
    s.text("紧急程度", x.urgency.chinese());
    s.push(Line::actor("拟稿", d.drafter(), d.drafter_unit()));
    s.text("拟稿时间", china_time(d.created_at()));
    s.text("主送", x.main_recipients.join("、"));
    s.text("抄送", x.cc.join("、"));
    for sig in d.signatures() {
        s.text(
            "签发",
            format!("[{}] {} {} {}", sig.unit, sig.name, sig.date, sig.opinion),
        );
    }
    s.text(
        "成文日期",
        d.written_date().map(|w| w.to_string()).unwrap_or_default(),
    );
    if let Some(i) = d.issue() {
        s.text("印发", format!("{} {} 份", i.issue_date, i.copies));
    }
    for (unit, at) in d.acknowledged() {
        s.text("签收", format!("{unit} {}", china_time(*at)));
        s.links
            .push((format!("{unit} 的收文"), linked_receipt_id(d.id(), unit)));
    }
    s.archive(d.archive());
    s.text("作废理由", d.void_reason().unwrap_or_default());
    for w in d.warnings() {
        s.text("提示", w);
    }
    s.route = RouteStage::all(d.route(), d.current().map(|(i, _)| i));
    s.opinions = d.opinions();
    s
}
