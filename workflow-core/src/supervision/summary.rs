//! One 督办 event's particulars, in Chinese, for a timeline line (see [`crate::summary`]).

use super::command::Source;
use super::event::SupervisionEvent;
use crate::sheet::Names;

/// Where an item came from, as a reference after its source's name.
pub fn source_reference(s: &Source) -> String {
    match s {
        Source::Instruction { receipt } => format!(" (收文 {receipt})"),
        Source::Submission { submission } => format!(" (签报 {submission})"),
        Source::Meeting { reference } | Source::KeyTask { reference } => format!(" {reference}"),
        Source::Direct => String::new(),
    }
}

/// One 督办 event's particulars, for a timeline line.
pub(crate) fn summary(data: &SupervisionEvent, n: &dyn Names) -> String {
    match data {
        SupervisionEvent::ItemOpened { spec, number, .. } => format!(
            "{}{}{} 主办 {}{} 时限 {} 反馈 {} 《{}》",
            number.map(|n| format!("{n} ")).unwrap_or_default(),
            spec.source.chinese(),
            source_reference(&spec.source),
            n.unit_name(&spec.lead_unit),
            if spec.co_units.is_empty() {
                String::new()
            } else {
                format!(" 协办 {}", n.unit_names(&spec.co_units))
            },
            n.date(spec.deadline),
            spec.feedback.chinese(),
            spec.title
        ),
        SupervisionEvent::ItemAccepted { responsible, note } => {
            format!("责任人 {} {note}", n.actor(responsible))
                .trim()
                .to_owned()
        }
        SupervisionEvent::ItemProgressReported { text, percent } => match percent {
            Some(p) => format!("{p}% {text}"),
            None => text.clone(),
        },
        SupervisionEvent::ItemExtensionRequested { until, reason } => {
            format!("至 {} 理由：{reason}", n.date(*until))
        }
        SupervisionEvent::ItemExtensionDecided {
            granted,
            from,
            until,
            reason,
        } => format!(
            "{} → {} {reason}",
            n.date(*from),
            n.date(if *granted { *until } else { *from })
        ),
        SupervisionEvent::ItemCompletionReported { result } => format!("成果: {result}"),
        SupervisionEvent::ItemClosed { note, grade } => match grade {
            Some(g) => format!("考评 {} {note}", g.chinese()).trim().to_owned(),
            None => note.clone(),
        },
        SupervisionEvent::ItemReturned { reason } => format!("理由: {reason}"),
        SupervisionEvent::ItemArchived {
            reference,
            scheduled_retention,
            deviation,
            ..
        } => crate::summary::archived(reference, Some(*scheduled_retention), deviation.as_deref()),
        SupervisionEvent::ItemWithdrawn { reason } => reason.clone(),
        SupervisionEvent::ItemCoInputGiven { unit, text } => {
            format!("{}：{text}", n.unit_name(unit))
        }
        SupervisionEvent::ItemUrged { message, to } => match to {
            Some(to) => format!("致 {}：{message}", n.actor(to)),
            None => message.clone(),
        },
        SupervisionEvent::ItemReminded {
            due_on,
            escalated_to,
            ..
        } => format!(
            "时限 {}{}",
            n.date(*due_on),
            escalated_to
                .as_ref()
                .map(|a| format!(" 督办→{}", n.actor(a)))
                .unwrap_or_default()
        ),
    }
}
