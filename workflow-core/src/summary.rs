//! One line of particulars for each event, in Chinese, as a timeline shows it (the command
//! line's `history` and the web console's 时间线 alike). Times in China Standard Time.

use crate::supervision::{Source, SupervisionEvent};
use crate::{
    ActorId, EventData, FlowEvent, IncomingEvent, Plan, PublicationEvent, StageSpec, UnitCode,
    china_time,
};

/// The particulars of one event (who and when are the envelope's).
pub fn summary(event: &FlowEvent) -> String {
    match event {
        FlowEvent::Outgoing(d) => detail(d),
        FlowEvent::Incoming(d) => incoming_detail(d),
        FlowEvent::Supervision(d) => item_detail(d),
        FlowEvent::Directory(d) => d.provenance().1.to_owned(),
        FlowEvent::Bulletin(PublicationEvent::BulletinPublished {
            month,
            clearance,
            items,
            digests,
            ..
        }) => format!(
            "{month} up to {clearance}, {items} items, html sha256 {}",
            digests.html
        ),
    }
}

/// Where an item came from, as a reference after its source's name.
pub fn source_reference(s: &Source) -> String {
    match s {
        Source::Instruction { receipt } => format!(" (收文 {receipt})"),
        Source::Meeting { reference } | Source::KeyTask { reference } => format!(" {reference}"),
        Source::Direct => String::new(),
    }
}

/// Units joined with 、.
pub fn join_units(units: &[UnitCode]) -> String {
    units
        .iter()
        .map(UnitCode::as_str)
        .collect::<Vec<_>>()
        .join("、")
}

/// Warnings a draft was accepted with, as a timeline shows them.
fn flagged(warnings: &[String]) -> String {
    warnings
        .iter()
        .map(|w| format!(" ⚠ {w}"))
        .collect::<String>()
}

fn detail(data: &EventData) -> String {
    match data {
        EventData::Drafted {
            fields, warnings, ..
        } => format!(
            "{} 《{}》{}",
            fields.kind.chinese(),
            fields.title,
            flagged(warnings)
        ),
        EventData::Revised { fields, warnings } => {
            format!("《{}》{}", fields.title, flagged(warnings))
        }
        EventData::SubmittedForReview { round, route } => {
            let stages: Vec<String> = route
                .iter()
                .map(|s| match s {
                    StageSpec::Review { reviewer, .. } => format!("审核:{reviewer}"),
                    StageSpec::Countersign { departments, .. } => {
                        format!(
                            "会签:{}",
                            departments
                                .iter()
                                .map(UnitCode::as_str)
                                .collect::<Vec<_>>()
                                .join("/")
                        )
                    }
                })
                .collect();
            format!("第{round}轮 {}", stages.join(" → "))
        }
        EventData::Approved { opinion, .. } => opinion.clone(),
        EventData::Countersigned { unit, opinion, .. } => format!("[{unit}] {opinion}"),
        EventData::CountersignerAdded { unit, .. } => format!("加入 {unit}"),
        EventData::Returned { reason, to, .. } => format!("→ {} 理由: {reason}", to.chinese()),
        EventData::Withdrawn { reason } => reason.clone(),
        EventData::Signed {
            signer_name,
            opinion,
            date,
            unit,
        } => format!("[{unit}] {signer_name} {date} {opinion}"),
        EventData::Issued {
            number,
            issue_date,
            copies,
            ..
        } => format!("{number} {issue_date} {copies}份"),
        EventData::Acknowledged { recipient } => recipient.to_string(),
        EventData::Archived {
            reference,
            scheduled_retention,
            deviation,
            ..
        } => {
            let mut text = format!("档号 {reference} {}", reference.retention.chinese());
            if let (Some(s), Some(why)) = (scheduled_retention, deviation) {
                text.push_str(&format!("（偏离保管期限表的{}：{why}）", s.chinese()));
            }
            text
        }
        EventData::Voided { reason } => reason.clone(),
        EventData::CountersignerRemoved { unit, .. } => format!("移出 {unit}"),
        EventData::CountersignersNotNeeded { units, .. } => {
            format!(
                "无需 {}",
                units
                    .iter()
                    .map(UnitCode::as_str)
                    .collect::<Vec<_>>()
                    .join("/")
            )
        }
        EventData::ReviewerAdded {
            reviewer,
            before,
            stage,
        } => {
            format!(
                "{} 审核:{reviewer} (环节{})",
                if *before { "前加" } else { "后加" },
                stage + 1
            )
        }
        EventData::Reassigned {
            from, to, reason, ..
        } => format!("{from} → {to} {reason}"),
        EventData::Delegated {
            from, to, reason, ..
        } => format!("{from} 委派 {to} {reason}"),
        EventData::DelegateReported { agree, opinion, .. } => {
            format!("{} {opinion}", if *agree { "同意" } else { "不同意" })
        }
        EventData::ReturnedToStage { stage, reason, .. } => {
            format!("→ 环节{} 理由: {reason}", stage + 1)
        }
        EventData::Reminded {
            due_at,
            waiting_for,
            escalated_to,
            ..
        } => format!(
            "逾期(时限 {}) 待办: {}{}",
            china_time(*due_at),
            waiting_for.join(", "),
            escalated_to
                .as_ref()
                .map(|a| format!(" 督办→{a}"))
                .unwrap_or_default()
        ),
    }
}

/// One 收文 event's particulars, for a timeline line.
fn incoming_detail(data: &IncomingEvent) -> String {
    let units = |u: &[UnitCode]| u.iter().map(UnitCode::as_str).collect::<Vec<_>>().join("/");
    match data {
        IncomingEvent::Registered {
            registration: r,
            number,
            unit,
            ..
        } => format!(
            "{number} [{unit}] 来文 {} {} 《{}》{}",
            r.from,
            r.from_number,
            r.title,
            r.source
                .map(|s| format!(" (本系统发文 {s})"))
                .unwrap_or_default()
        ),
        IncomingEvent::Screened { note, deadline } => match deadline {
            Some(d) => format!("{note} 办结时限 {d}").trim().to_owned(),
            None => note.clone(),
        },
        IncomingEvent::IncomingRejected { reason } => format!("理由: {reason}"),
        IncomingEvent::HandlingProposed { plan, opinion } => match plan {
            Plan::Circulate { readers } => format!(
                "阅知 → {} {opinion}",
                readers
                    .iter()
                    .map(ActorId::as_str)
                    .collect::<Vec<_>>()
                    .join("/")
            ),
            Plan::Instruct { leader } => format!("批办 → {leader} {opinion}"),
        },
        IncomingEvent::Instructed {
            lead_unit,
            co_units,
            deadline,
            opinion,
            supervise,
        } => format!(
            "主办 {lead_unit}{} 时限 {deadline}{} {opinion}",
            if co_units.is_empty() {
                String::new()
            } else {
                format!(" 协办 {}", units(co_units))
            },
            if *supervise { " 督办" } else { "" }
        ),
        IncomingEvent::InstructionTransferred { to, opinion } => format!("→ {to} {opinion}"),
        IncomingEvent::ProgressRecorded { unit, text }
        | IncomingEvent::CoInputGiven { unit, text } => format!("[{unit}] {text}"),
        IncomingEvent::ExtensionRequested { until, reason } => format!("至 {until} 理由: {reason}"),
        IncomingEvent::ExtensionDecided {
            from,
            until,
            reason,
            granted,
        } => format!(
            "{from} → {} {reason}",
            if *granted { *until } else { *from }
        ),
        IncomingEvent::SentBack { unit, reason } => format!("[{unit}] 理由: {reason}"),
        IncomingEvent::IncomingCompleted { result, reply } => {
            if reply.is_empty() {
                result.clone()
            } else {
                format!("{result} 答复: {reply}")
            }
        }
        IncomingEvent::Read { opinion } => opinion.clone(),
        IncomingEvent::ReadersAdded { readers } => readers
            .iter()
            .map(ActorId::as_str)
            .collect::<Vec<_>>()
            .join("/"),
        IncomingEvent::IncomingArchived {
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
        IncomingEvent::IncomingReminded {
            due_on,
            escalated_to,
        } => format!(
            "逾期(时限 {due_on}){}",
            escalated_to
                .as_ref()
                .map(|a| format!(" 督办→{a}"))
                .unwrap_or_default()
        ),
    }
}

/// One 督办 event's particulars, for a timeline line.
fn item_detail(data: &SupervisionEvent) -> String {
    match data {
        SupervisionEvent::ItemOpened { spec, .. } => format!(
            "{}{} 主办 {}{} 时限 {} 反馈 {} 《{}》",
            spec.source.chinese(),
            source_reference(&spec.source),
            spec.lead_unit,
            if spec.co_units.is_empty() {
                String::new()
            } else {
                format!(" 协办 {}", join_units(&spec.co_units))
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
