//! One 发文 event's particulars, in Chinese, for a timeline line (see [`crate::summary`]).

use super::event::EventData;
use crate::ids::ActorId;
use crate::route::StageSpec;
use crate::sheet::Names;

/// Warnings a draft was accepted with, as a timeline shows them.
fn flagged(warnings: &[String]) -> String {
    warnings
        .iter()
        .map(|w| format!(" ⚠ {w}"))
        .collect::<String>()
}

/// One 发文 event's particulars, for a timeline line.
pub(crate) fn summary(data: &EventData, n: &dyn Names) -> String {
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
                    StageSpec::Review { reviewer, .. } => format!("审核：{}", n.actor(reviewer)),
                    StageSpec::Countersign { departments, .. } => {
                        format!("会签：{}", n.unit_names(departments))
                    }
                })
                .collect();
            format!("第{round}轮 {}", stages.join(" → "))
        }
        EventData::Approved { opinion, .. } => opinion.clone(),
        EventData::Countersigned { unit, opinion, .. } => {
            format!("{}：{opinion}", n.unit_name(unit))
        }
        EventData::CountersignerAdded { unit, .. } => format!("加入 {}", n.unit_name(unit)),
        EventData::Returned { reason, to, .. } => format!("→ {} 理由: {reason}", to.chinese()),
        EventData::Withdrawn { reason } => reason.clone(),
        EventData::Signed {
            signer_name,
            opinion,
            date,
            unit,
            ..
        } => format!(
            "{} {signer_name} {} {opinion}",
            n.unit_name(unit),
            n.date(*date)
        ),
        EventData::Issued {
            number,
            issue_date,
            copies,
            ..
        } => format!("{number} {} {copies}份", n.date(*issue_date)),
        EventData::Acknowledged { recipient } => n.unit_name(recipient),
        EventData::Archived {
            reference,
            scheduled_retention,
            deviation,
            ..
        } => crate::summary::archived(reference, *scheduled_retention, deviation.as_deref()),
        EventData::Voided { reason } => reason.clone(),
        EventData::CountersignerRemoved { unit, .. } => format!("移出 {}", n.unit_name(unit)),
        EventData::CountersignersNotNeeded { units, .. } => {
            format!("无需 {}", n.unit_names(units))
        }
        EventData::ReviewerAdded {
            reviewer,
            before,
            stage,
        } => {
            format!(
                "{} 审核：{}（环节{}）",
                if *before { "前加" } else { "后加" },
                n.actor(reviewer),
                stage + 1
            )
        }
        EventData::Reassigned {
            from, to, reason, ..
        } => format!("{} → {} {reason}", n.actor(from), n.actor(to)),
        EventData::Delegated {
            from, to, reason, ..
        } => format!("{} 委派 {} {reason}", n.actor(from), n.actor(to)),
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
            "逾期（时限 {}） 待办：{}{}",
            n.time(*due_at),
            waiting_for
                .iter()
                .map(|w| n
                    .unit(w)
                    .unwrap_or_else(|| n.actor(&ActorId::from(w.as_str()))))
                .collect::<Vec<_>>()
                .join("、"),
            escalated_to
                .as_ref()
                .map(|a| format!(" 督办→{}", n.actor(a)))
                .unwrap_or_default()
        ),
    }
}
