//! One 发文 event's particulars, in Chinese, for a timeline line (see [`crate::summary`]).

use super::event::EventData;
use crate::ids::{UnitCode, china_time};
use crate::route::StageSpec;

/// Warnings a draft was accepted with, as a timeline shows them.
fn flagged(warnings: &[String]) -> String {
    warnings
        .iter()
        .map(|w| format!(" ⚠ {w}"))
        .collect::<String>()
}

/// One 发文 event's particulars, for a timeline line.
pub(crate) fn summary(data: &EventData) -> String {
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
            ..
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
        } => crate::summary::archived(reference, *scheduled_retention, deviation.as_deref()),
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
