//! The 发文稿纸: a 发文 as the office reads it (see [`crate::sheet`]).

use super::state::Document;
use crate::links::linked_receipt_id;
use crate::sheet::{Part, RouteStage, Sheet};

pub(crate) fn sheet(d: &Document) -> Sheet<'_> {
    let mut s = Sheet::new("发文稿纸");
    let x = d.fields();
    s.text("文种", x.kind.chinese());
    s.text(
        "发文字号",
        d.issue().map(|i| i.number.to_string()).unwrap_or_default(),
    );
    s.parts("主办单位", vec![Part::Unit(x.issuing_unit.clone())]);
    s.parts("联合发文", vec![Part::units(&x.co_issuing_units)]);
    s.text(
        "密级",
        x.classification.marking(x.classification_period_years),
    );
    s.text("紧急程度", x.urgency.chinese());
    s.parts(
        "拟稿",
        vec![
            Part::Actor(d.drafter().clone()),
            Part::Unit(d.drafter_unit().clone()),
        ],
    );
    s.parts("拟稿时间", vec![Part::Time(d.created_at())]);
    s.parts("主送", vec![Part::named(&x.main_recipients)]);
    s.parts("抄送", vec![Part::named(&x.cc)]);
    s.text("附注", x.annotation.as_deref().unwrap_or_default());
    for sig in d.signatures() {
        s.parts(
            "签发",
            vec![
                Part::Unit(sig.unit.clone()),
                Part::Text(sig.name.clone()),
                Part::Date(sig.date),
                Part::Text(sig.opinion.clone()),
            ],
        );
    }
    if let Some(w) = d.written_date() {
        s.parts("成文日期", vec![Part::Date(w)]);
    }
    if let Some(i) = d.issue() {
        s.parts(
            "印发",
            vec![
                Part::Date(i.issue_date),
                Part::Text(format!("{} 份", i.copies)),
            ],
        );
    }
    for (unit, at) in d.acknowledged() {
        s.parts("签收", vec![Part::Unit(unit.clone()), Part::Time(*at)]);
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
