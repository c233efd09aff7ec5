//! 督办 items for people: a timeline line's particulars and the 督办单 that `show` prints.

use anyhow::Result;
use workflow_core::supervision::Item;

use super::{Names, local, pad};

/// `show` for a 督办 item: its fields as a 督办单 has them, then every step on record; with
/// `json`, its state as JSON.
pub(crate) fn item(i: &Item, names: &Names, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(i)?);
        return Ok(());
    }
    let s = i.spec();
    println!("《{}》", s.title);
    println!("  id            {}", i.id());
    println!(
        "  version       {} (updated {})",
        i.version(),
        local(i.updated_at())
    );
    println!(
        "  step          {} ({})",
        i.step().name(),
        i.step().chinese()
    );
    println!("  ── 督办单 ──");
    if let Some(n) = i.number() {
        println!("  {}  {}", pad("立项号"), n);
    }
    println!(
        "  {}  {}{}",
        pad("立项依据"),
        s.source.chinese(),
        workflow_core::summary::source_reference(&s.source)
    );
    println!("  {}  {}", pad("任务要求"), s.requirements);
    println!("  {}  {}", pad("牵头领导"), names.label(&s.leader));
    println!("  {}  {}", pad("主办"), s.lead_unit);
    if !s.co_units.is_empty() {
        println!(
            "  {}  {}",
            pad("协办"),
            workflow_core::summary::join_units(&s.co_units)
        );
    }
    println!(
        "  {}  {}",
        pad("责任人"),
        i.responsible()
            .map_or_else(|| "（交办时确定）".to_owned(), |r| names.label(r))
    );
    if i.deadline() == s.deadline {
        println!("  {}  {}", pad("办结时限"), s.deadline);
    } else {
        println!(
            "  {}  {} (原定 {})",
            pad("办结时限"),
            i.deadline(),
            s.deadline
        );
    }
    println!(
        "  {}  {}   临近提醒 {} 天前   密级 {}",
        pad("反馈频次"),
        s.feedback.chinese(),
        s.warn_days,
        s.classification.chinese()
    );
    println!(
        "  {}  {} {}",
        pad("督办员"),
        i.supervisor()
            .map_or_else(|| "（由批办立项）".to_owned(), |a| names.label(a)),
        local(i.opened_at())
    );
    if let Some(at) = i.accepted_at() {
        println!("  {}  {}", pad("交办"), local(at));
    }
    for f in i.feedback() {
        println!(
            "  {}  {}  {}  {}{}",
            pad("进展反馈"),
            names.label(&f.actor),
            local(f.at),
            f.percent.map(|p| format!("{p}% ")).unwrap_or_default(),
            f.text
        );
    }
    for o in i.opinions() {
        let label = match o.step.as_str() {
            "extension" => "延期申请",
            "extension_decision" if o.agree => "同意延期",
            "extension_decision" => "不同意延期",
            "completion" => "办结报告",
            "return" => "退回重办",
            "close" => "销号",
            "accept" => "签收",
            _ => continue,
        };
        println!(
            "  {}  {}  {}  {}",
            pad(label),
            names.label(&o.actor),
            local(o.at),
            o.text
        );
    }
    if let Some(e) = i.extension() {
        println!(
            "  {}  待审批: 延至 {} ({})",
            pad("延期"),
            e.until,
            names.label(&e.by)
        );
    }
    if let Some(at) = i.closed_at()
        && !i.opinions().iter().any(|o| o.step == "close")
    {
        println!("  {}  {}", pad("销号"), local(at));
    }
    if let Some(g) = i.grade() {
        println!("  {}  {}", pad("考评"), g.chinese());
    }
    for u in i.urged() {
        println!(
            "  {}  {}  {}  {}",
            pad("催办"),
            names.label(&u.by),
            local(u.at),
            u.message
        );
    }
    for (reason, r) in i.reminders() {
        println!(
            "  {}  {} ×{}{}",
            pad("催办"),
            reason.chinese(),
            r.count,
            r.last_at
                .map(|t| format!(" (last {})", local(t)))
                .unwrap_or_default()
        );
    }
    if let Some(a) = i.archive() {
        println!(
            "  {}  档号 {}  {}  fixity {}",
            pad("归档"),
            a.reference,
            a.reference.retention.chinese(),
            a.fixity_hash.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}
