//! One 收文 event's particulars, in Chinese, for a timeline line (see [`crate::summary`]).

use super::command::Plan;
use super::event::IncomingEvent;
use crate::ids::{ActorId, UnitCode};

/// One 收文 event's particulars, for a timeline line.
pub(crate) fn summary(data: &IncomingEvent) -> String {
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
        } => crate::summary::archived(reference, Some(*scheduled_retention), deviation.as_deref()),
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
