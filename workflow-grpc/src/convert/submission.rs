//! 签报 across the wire: the fields its command messages carry (the messages themselves are
//! entries of the command table (`commands.rs`)), and a 签报 to the wire. Part of
//! [`super`], the one place where wire and domain types meet.

use tonic::Status;
use workflow_core::submission::{Decision, Memo, MemoFields, Supervise};
use workflow_core::{
    Flow, Timestamp, UnitCode, directory::Classification, kind::Urgency, submission::Submission,
};

use super::{
    FromWire, archive_record, classification, date, decision, document_files, document_files_to,
    document_id, invalid, opinion, stage_view, timestamp, urgency,
};
use crate::pb;

/// 签报 fields from the wire; `fields` is required.
pub(crate) fn memo_fields(f: Option<pb::MemoFields>) -> Result<MemoFields, Status> {
    let f = f.ok_or_else(|| invalid("fields", "is required"))?;
    Ok(MemoFields {
        files: document_files("fields.files", f.files)?,
        title: f.title,
        summary: f.summary,
        body: f.body,
        classification: Classification::from_wire("fields.classification", f.classification)?,
        classification_period_years: f.classification_period_years,
        urgency: Urgency::from_wire("fields.urgency", f.urgency)?,
        important: f.important,
        answers: if f.answers.trim().is_empty() {
            None
        } else {
            Some(document_id("fields.answers", &f.answers)?)
        },
    })
}

/// 签报 fields to the wire.
pub(crate) fn memo_fields_to(f: &MemoFields) -> pb::MemoFields {
    pb::MemoFields {
        files: document_files_to(&f.files),
        title: f.title.clone(),
        summary: f.summary.clone(),
        body: f.body.clone(),
        classification: classification(f.classification) as i32,
        classification_period_years: f.classification_period_years,
        urgency: urgency(f.urgency) as i32,
        important: f.important,
        answers: f.answers.map(|a| a.to_string()).unwrap_or_default(),
    }
}

/// A 批示's decision from the wire (required).
pub(crate) fn decision_from(raw: i32) -> Result<Decision, Status> {
    Decision::from_wire("decision", raw)
}

/// A 批示's decision to the wire.
pub(crate) fn decision_to(d: Decision) -> i32 {
    decision(d) as i32
}

/// The 督办 item a 批示 asks for, if any.
pub(crate) fn supervise(s: Option<pb::MemoSupervise>) -> Result<Option<Supervise>, Status> {
    let Some(s) = s else {
        return Ok(None);
    };
    Ok(Some(Supervise {
        lead_unit: Some(s.lead_unit.trim().to_owned())
            .filter(|u| !u.is_empty())
            .map(UnitCode),
        co_units: s.co_units.into_iter().map(UnitCode).collect(),
        deadline: date("supervise.deadline", &s.deadline)?,
    }))
}

/// The 督办 item a 批示 asks for, to the wire.
pub(crate) fn supervise_to(s: Option<&Supervise>) -> Option<pb::MemoSupervise> {
    s.map(|s| pb::MemoSupervise {
        lead_unit: s
            .lead_unit
            .as_ref()
            .map(|u| u.0.clone())
            .unwrap_or_default(),
        co_units: s.co_units.iter().map(|u| u.0.clone()).collect(),
        deadline: s.deadline.to_string(),
    })
}

/// A 签报 to the wire, overdue as of `now`.
pub fn memo(m: &Memo, now: Timestamp) -> pb::Memo {
    pb::Memo {
        id: m.id().to_string(),
        version: m.version(),
        step: m.step().name().to_owned(),
        step_chinese: m.step().chinese().to_owned(),
        fields: Some(memo_fields_to(m.fields())),
        unit: m.unit().0.clone(),
        drafter: m.drafter().0.clone(),
        created_at: Some(timestamp(m.created_at())),
        updated_at: Some(timestamp(m.updated_at())),
        round: m.round(),
        route: m.route().iter().map(stage_view).collect(),
        current_stage: m.current().and_then(|(i, _)| u32::try_from(i).ok()),
        number: m.number().map(ToString::to_string).unwrap_or_default(),
        leaders: m.pending_leaders().iter().map(|l| l.0.clone()).collect(),
        directives: m
            .directives()
            .iter()
            .map(|d| pb::MemoDirective {
                leader: d.leader.0.clone(),
                decision: decision_to(d.decision),
                text: d.text.clone(),
                at: Some(timestamp(d.at)),
            })
            .collect(),
        decision: m.decision().map_or(0, decision_to),
        supervision_items: m
            .supervision_items()
            .iter()
            .map(ToString::to_string)
            .collect(),
        closing_note: m.closing_note().unwrap_or_default().to_owned(),
        archive: m.archive().map(archive_record),
        opinions: m.opinions().iter().map(opinion).collect(),
        void_reason: m.void_reason().unwrap_or_default().to_owned(),
        reminders: m.reminders(),
        overdue: Submission::is_overdue(m, now),
    }
}
