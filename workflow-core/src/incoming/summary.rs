//! One 收文 event's particulars, in Chinese, for a timeline line (see [`crate::summary`]).

use super::command::Plan;
use super::event::IncomingEvent;
use crate::sheet::Names;

/// One 收文 event's particulars, for a timeline line.
pub(crate) fn summary(data: &IncomingEvent, n: &dyn Names) -> String {
    match data {
        IncomingEvent::Registered {
            registration: r,
            number,
            unit,
            ..
        } => format!(
            "{number} {} 来文 {} {} 《{}》{}",
            n.unit_name(unit),
            n.unit(&r.from).unwrap_or_else(|| r.from.clone()),
            r.from_number,
            r.title,
            r.source
                .map(|_| "（本系统发文）".to_owned())
                .unwrap_or_default()
        ),
        IncomingEvent::Screened { note, deadline } => match deadline {
            Some(d) => format!("{note} 办结时限 {}", n.date(*d)).trim().to_owned(),
            None => note.clone(),
        },
        IncomingEvent::IncomingRejected { reason } => format!("理由: {reason}"),
        IncomingEvent::HandlingProposed { plan, opinion } => match plan {
            Plan::Circulate {
                readers,
                act_by: None,
            } => format!("阅知 → {} {opinion}", n.actors(readers)),
            Plan::Circulate {
                readers,
                act_by: Some(d),
            } => format!(
                "阅办 → {}（{} 前） {opinion}",
                n.actors(readers),
                n.date(*d)
            ),
            Plan::Instruct {
                leader,
                co_leaders,
                in_turn,
            } if !co_leaders.is_empty() => format!(
                "会批 → {}{} {} {opinion}",
                n.actors(co_leaders),
                if *in_turn {
                    "（依次）"
                } else {
                    "（同时）"
                },
                n.actor(leader)
            ),
            Plan::Instruct { leader, .. } => format!("批办 → {} {opinion}", n.actor(leader)),
        },
        IncomingEvent::Instructed {
            lead_unit,
            co_units,
            deadline,
            opinion,
            supervise,
        } => format!(
            "主办 {}{} 时限 {}{} {opinion}",
            n.unit_name(lead_unit),
            if co_units.is_empty() {
                String::new()
            } else {
                format!(" 协办 {}", n.unit_names(co_units))
            },
            n.date(*deadline),
            if *supervise { " 督办" } else { "" }
        ),
        IncomingEvent::InstructionTransferred { to, opinion } => {
            format!("→ {} {opinion}", n.actor(to))
        }
        IncomingEvent::ProgressRecorded { unit, text }
        | IncomingEvent::CoInputGiven { unit, text } => format!("{}：{text}", n.unit_name(unit)),
        IncomingEvent::ExtensionRequested { until, reason } => {
            format!("至 {} 理由：{reason}", n.date(*until))
        }
        IncomingEvent::ExtensionDecided {
            from,
            until,
            reason,
            granted,
        } => format!(
            "{} → {} {reason}",
            n.date(*from),
            n.date(if *granted { *until } else { *from })
        ),
        IncomingEvent::SentBack { unit, reason } => {
            format!("{} 理由：{reason}", n.unit_name(unit))
        }
        IncomingEvent::IncomingCompleted { result, reply } => {
            if reply.is_empty() {
                result.clone()
            } else {
                format!("{result} 答复: {reply}")
            }
        }
        IncomingEvent::Read { opinion } => opinion.clone(),
        IncomingEvent::ReadersAdded {
            readers,
            act_by: None,
        } => format!("阅知 → {}", n.actors(readers)),
        IncomingEvent::ReadersAdded {
            readers,
            act_by: Some(d),
        } => format!("阅办 → {}（{} 前）", n.actors(readers), n.date(*d)),
        IncomingEvent::InstructionCommented { opinion } => opinion.clone(),
        IncomingEvent::IncomingArchived {
            reference,
            scheduled_retention,
            deviation,
            ..
        } => crate::summary::archived(reference, Some(*scheduled_retention), deviation.as_deref()),
        IncomingEvent::SlipReturned { note } => note.clone(),
        IncomingEvent::IncomingUrged { message, unit } => {
            format!("致 {}：{message}", n.unit_name(unit))
        }
        IncomingEvent::IncomingReminded {
            due_on,
            escalated_to,
        } => format!(
            "逾期（时限 {}）{}",
            n.date(*due_on),
            escalated_to
                .as_ref()
                .map(|a| format!(" 督办→{}", n.actor(a)))
                .unwrap_or_default()
        ),
    }
}
