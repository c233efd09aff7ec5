//! One 签报 event's particulars, in Chinese, for a timeline line (see [`crate::summary`]).

use super::event::SubmissionEvent;
use crate::sheet::Names;
use crate::summary::archived;

/// One 签报 event's particulars, for a timeline line.
pub(crate) fn summary(data: &SubmissionEvent, n: &dyn Names) -> String {
    match data {
        SubmissionEvent::MemoDrafted { fields, unit, .. } => {
            format!(
                "{} 《{}》 事由：{}",
                n.unit_name(unit),
                fields.title,
                fields.summary
            )
        }
        SubmissionEvent::MemoRevised { fields } => format!("《{}》", fields.title),
        SubmissionEvent::MemoSubmitted { round, route } => {
            format!("第{round}轮，共{}个环节", route.len())
        }
        SubmissionEvent::MemoApproved { stage, opinion, .. } => {
            format!("第{}环节 {opinion}", stage + 1).trim().to_owned()
        }
        SubmissionEvent::MemoCountersigned {
            unit,
            agree,
            opinion,
            ..
        } => format!(
            "{} {} {opinion}",
            n.unit_name(unit),
            if *agree { "同意" } else { "不同意" }
        )
        .trim()
        .to_owned(),
        SubmissionEvent::MemoCountersignersNotNeeded { units, .. } => {
            format!("{} 无需会签", n.unit_names(units))
        }
        SubmissionEvent::MemoReturned { from, reason } => {
            format!("自{}退回拟稿：{reason}", from.chinese())
        }
        SubmissionEvent::MemoAccepted {
            number,
            opinion,
            leaders,
        } => format!(
            "{}拟办意见：{opinion} → {}",
            number.as_ref().map(|n| format!("{n} ")).unwrap_or_default(),
            leaders
                .iter()
                .map(|l| n.actor(l))
                .collect::<Vec<_>>()
                .join(" → ")
        ),
        SubmissionEvent::MemoEndorsed {
            decision,
            text,
            supervise,
            ..
        } => {
            let mut line = format!("{}：{text}", decision.chinese());
            if let Some(s) = supervise {
                line.push_str(&format!(
                    "（列入督办，主办 {}，办结时限 {}）",
                    s.lead_unit
                        .as_ref()
                        .map(|u| n.unit_name(u))
                        .unwrap_or_default(),
                    n.date(s.deadline)
                ));
            }
            line
        }
        SubmissionEvent::MemoReferred { to, opinion } => {
            format!("转批 {} {opinion}", n.actor(to)).trim().to_owned()
        }
        SubmissionEvent::MemoClosed { note } => note.clone(),
        SubmissionEvent::MemoArchived {
            reference,
            scheduled_retention,
            deviation,
            ..
        } => archived(reference, Some(*scheduled_retention), deviation.as_deref()),
        SubmissionEvent::MemoVoided { reason } => format!("理由：{reason}"),
        SubmissionEvent::MemoReminded {
            stage,
            due_at,
            escalated_to,
            ..
        } => {
            let mut line = format!("第{}环节 已超期（时限 {}）", stage + 1, n.time(*due_at));
            if let Some(to) = escalated_to {
                line.push_str(&format!("，并告 {}", n.actor(to)));
            }
            line
        }
    }
}
