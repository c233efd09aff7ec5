//! 督办 items for people: a timeline line's particulars and the 督办单 that `show` prints.

use anyhow::Result;
use workflow_core::UnitCode;
use workflow_core::supervision::{Item, Source, SupervisionEvent};

use super::{Names, local, pad};

/// One 督办 event's particulars, for a timeline line.
pub(crate) fn item_detail(data: &SupervisionEvent) -> String {
    match data {
        SupervisionEvent::ItemOpened { spec, .. } => format!(
            "{}{} 主办 {}{} 时限 {} 反馈 {} 《{}》",
            spec.source.chinese(),
            source_reference(&spec.source),
            spec.lead_unit,
            if spec.co_units.is_empty() {
                String::new()
            } else {
                format!(" 协办 {}", join(&spec.co_units))
            },
            spec.deadline,
            spec.feedback.chinese(),
            spec.title
        ),
        SupervisionEvent::ItemAccepted { responsible, note } => {
            format!("责任人 {responsible} {note}").trim().to_owned()
        }
        SupervisionEvent::ItemProgressReported { text, percent } => match percent {
            Some(p) => format!("{p}% {text}"),
            None => text.clone(),
        },
        SupervisionEvent::ItemExtensionRequested { until, reason } => {
            format!("至 {until} 理由: {reason}")
        }
        SupervisionEvent::ItemExtensionDecided {
            granted,
            from,
            until,
            reason,
        } => format!(
            "{from} → {} {reason}",
            if *granted { *until } else { *from }
        ),
        SupervisionEvent::ItemCompletionReported { result } => format!("成果: {result}"),
        SupervisionEvent::ItemClosed { note } => note.clone(),
        SupervisionEvent::ItemReturned { reason } => format!("理由: {reason}"),
        SupervisionEvent::ItemArchived {
            reference,
            scheduled_retention,
            deviation,
            ..
        } => {
            let mut text = format!("档号 {reference} {}", reference.retention.chinese());
            if let Some(why) = deviation {
                text.push_str(&format!(
                    "（偏离保管期限表的{}：{why}）",
                    scheduled_retention.chinese()
                ));
            }
            text
        }
        SupervisionEvent::ItemReminded {
            due_on,
            escalated_to,
            ..
        } => format!(
            "时限 {due_on}{}",
            escalated_to
                .as_ref()
                .map(|a| format!(" 督办→{a}"))
                .unwrap_or_default()
        ),
    }
}

fn source_reference(s: &Source) -> String {
    match s {
        Source::Instruction { receipt } => format!(" (收文 {receipt})"),
        Source::Meeting { reference } | Source::KeyTask { reference } => format!(" {reference}"),
        Source::Direct => String::new(),
    }
}

fn join(units: &[UnitCode]) -> String {
    units
        .iter()
        .map(UnitCode::as_str)
        .collect::<Vec<_>>()
        .join("、")
}

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
    println!(
        "  {}  {}{}",
        pad("立项依据"),
        s.source.chinese(),
        source_reference(&s.source)
    );
    println!("  {}  {}", pad("任务要求"), s.requirements);
    println!("  {}  {}", pad("牵头领导"), names.label(&s.leader));
    println!("  {}  {}", pad("主办"), s.lead_unit);
    if !s.co_units.is_empty() {
        println!("  {}  {}", pad("协办"), join(&s.co_units));
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
