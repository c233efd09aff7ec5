//! 收文 across the wire: the fields its command messages carry (the messages themselves are
//! entries of the command table (`commands.rs`)), and a receipt to the wire. Part of
//! [`super`], the one place where wire and domain types meet.

use tonic::Status;
use workflow_core::incoming::{Attachment, Receipt};
use workflow_core::{
    ActorId, Timestamp, directory::Classification, incoming::Plan, incoming::Registration,
    kind::Kind, kind::Urgency,
};

use super::{
    FromWire, classification, date, document_files, document_files_to, invalid, kind, timestamp,
    urgency,
};
use crate::pb;

/// An optional date: empty is none.
pub(super) fn optional_date(field: &str, s: &str) -> Result<Option<chrono::NaiveDate>, Status> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        date(field, s).map(Some)
    }
}

/// Registration fields from the wire; `registration` is required.
pub(super) fn registration(r: Option<pb::Registration>) -> Result<Registration, Status> {
    let r = r.ok_or_else(|| invalid("registration", "is required"))?;
    if !r.source_document_id.trim().is_empty() {
        return Err(invalid(
            "registration.source_document_id",
            "is set by the engine when a unit acknowledges an 发文 of this system",
        ));
    }
    Ok(Registration {
        files: document_files("registration.files", r.files)?,
        from: r.from,
        from_number: r.from_number,
        title: r.title,
        kind: Kind::from_wire("registration.kind", r.kind)?,
        classification: Classification::from_wire("registration.classification", r.classification)?,
        classification_period_years: r.classification_period_years,
        urgency: Urgency::from_wire("registration.urgency", r.urgency)?,
        received_on: date("registration.received_on", &r.received_on)?,
        deadline: optional_date("registration.deadline", &r.deadline)?,
        reply_required: r.reply_required,
        pages: r.pages,
        attachments: r
            .attachments
            .into_iter()
            .map(|a| Attachment {
                name: a.name,
                sha256: a.sha256,
            })
            .collect(),
        source: None,
        channel: super::optional_enum::<workflow_core::incoming::Channel, pb::Channel>(
            "registration.channel",
            r.channel,
        )?,
        copies: r.copies,
        copy_numbers: r.copy_numbers,
        important: r.important,
        slip_required: r.slip_required,
    })
}

/// Registration fields to the wire.
fn registration_to(r: &Registration) -> pb::Registration {
    pb::Registration {
        channel: r.channel.map_or(0, |c| super::channel(c) as i32),
        copies: r.copies,
        copy_numbers: r.copy_numbers.clone(),
        important: r.important,
        slip_required: r.slip_required,
        files: document_files_to(&r.files),
        from: r.from.clone(),
        from_number: r.from_number.clone(),
        title: r.title.clone(),
        kind: kind(r.kind) as i32,
        classification: classification(r.classification) as i32,
        classification_period_years: r.classification_period_years,
        urgency: urgency(r.urgency) as i32,
        received_on: r.received_on.to_string(),
        deadline: r.deadline.map(|d| d.to_string()).unwrap_or_default(),
        reply_required: r.reply_required,
        pages: r.pages,
        attachments: r
            .attachments
            .iter()
            .map(|a| pb::Attachment {
                name: a.name.clone(),
                sha256: a.sha256.clone(),
            })
            .collect(),
        source_document_id: r.source.map(|s| s.to_string()).unwrap_or_default(),
    }
}

pub(super) fn plan(
    readers: Vec<String>,
    leader: String,
    act_by: &str,
    co_leaders: Vec<String>,
    in_turn: bool,
) -> Result<Plan, Status> {
    match (readers.is_empty(), leader.trim().is_empty()) {
        (false, true) if !co_leaders.is_empty() => Err(invalid(
            "co_leaders",
            "会批 leaders go with 批办 (a leader), not with 传阅",
        )),
        (false, true) => Ok(Plan::Circulate {
            readers: readers.into_iter().map(ActorId).collect(),
            act_by: optional_date("act_by", act_by)?,
        }),
        (true, false) if !act_by.trim().is_empty() => Err(invalid(
            "act_by",
            "a day to act by goes with 传阅 (阅办), not with 批办",
        )),
        (true, false) => Ok(Plan::Instruct {
            leader: ActorId(leader),
            co_leaders: co_leaders.into_iter().map(ActorId).collect(),
            in_turn,
        }),
        (false, false) => Err(invalid(
            "leader",
            "name readers (阅知) or a leader (批办), not both",
        )),
        (true, true) => Err(invalid("leader", "name readers (阅知) or a leader (批办)")),
    }
}

/// A 拟办's plan as the wire's fields (the rest left to fill).
pub(super) fn plan_to(plan: &Plan) -> pb::ProposeHandlingRequest {
    let ids = |v: &[ActorId]| v.iter().map(|a| a.0.clone()).collect();
    match plan {
        Plan::Circulate { readers, act_by } => pb::ProposeHandlingRequest {
            readers: ids(readers),
            act_by: act_by.map(|d| d.to_string()).unwrap_or_default(),
            ..Default::default()
        },
        Plan::Instruct {
            leader,
            co_leaders,
            in_turn,
        } => pb::ProposeHandlingRequest {
            leader: leader.0.clone(),
            co_leaders: ids(co_leaders),
            in_turn: *in_turn,
            ..Default::default()
        },
    }
}

/// Registration fields to send: refused for a 收文 the engine registered from an 发文 of
/// this system (no caller could have sent it).
pub(super) fn registration_sent(r: &Registration) -> Result<pb::Registration, Status> {
    if r.source.is_some() {
        return Err(invalid(
            "registration.source_document_id",
            "a 收文 registered from an 发文 of this system is registered by the engine, \
             not over the wire",
        ));
    }
    Ok(registration_to(r))
}

/// A 收文 to the wire, overdue as of `now`.
pub fn receipt(r: &Receipt, now: Timestamp) -> pb::IncomingDocument {
    let note = |n: &workflow_core::incoming::Note| pb::IncomingNote {
        actor_id: n.actor.0.clone(),
        unit: n.unit.0.clone(),
        text: n.text.clone(),
        at: Some(timestamp(n.at)),
    };
    pb::IncomingDocument {
        id: r.id().to_string(),
        version: r.version(),
        step: r.step().name().to_owned(),
        step_chinese: r.step().chinese().to_owned(),
        registration: Some(registration_to(r.registration())),
        unit: r.unit().0.clone(),
        receipt_number: r.number().to_string(),
        registrar: r.registrar().0.clone(),
        created_at: Some(timestamp(r.created_at())),
        updated_at: Some(timestamp(r.updated_at())),
        plan: match r.plan() {
            Some(Plan::Circulate { .. }) => "circulate".into(),
            Some(Plan::Instruct { .. }) => "instruct".into(),
            None => String::new(),
        },
        leader: r.leader().map(|l| l.0.clone()).unwrap_or_default(),
        instruction: r.instruction().map(|i| pb::IncomingInstruction {
            leader: i.leader.0.clone(),
            lead_unit: i.lead_unit.0.clone(),
            co_units: i.co_units.iter().map(|u| u.0.clone()).collect(),
            deadline: i.deadline.to_string(),
            supervise: i.supervise,
        }),
        deadline: r.deadline().map(|d| d.to_string()).unwrap_or_default(),
        progress: r.progress().iter().map(note).collect(),
        co_inputs: r.co_inputs().values().map(note).collect(),
        extension_until: r
            .extension()
            .map(|e| e.until.to_string())
            .unwrap_or_default(),
        extension_reason: r.extension().map(|e| e.reason.clone()).unwrap_or_default(),
        readers: r
            .readers()
            .iter()
            .map(|(a, m)| pb::ReaderMark {
                actor_id: a.0.clone(),
                read: m.is_some(),
                at: m.as_ref().map(|m| timestamp(m.at)),
                opinion: m.as_ref().map(|m| m.opinion.clone()).unwrap_or_default(),
                act_by: r
                    .acting()
                    .get(a)
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            })
            .collect(),
        result: r.closure().map(|c| c.result.clone()).unwrap_or_default(),
        reply: r.closure().map(|c| c.reply.clone()).unwrap_or_default(),
        rejection: r.rejection().unwrap_or_default().to_owned(),
        archive: r.archive().map(super::archive_record),
        opinions: r.opinions().iter().map(super::opinion).collect(),
        reminders: r.reminders(),
        overdue: r.is_overdue(now),
        supervision_items: r
            .supervision_items()
            .iter()
            .map(ToString::to_string)
            .collect(),
        urged: r.urged().iter().map(note).collect(),
        slip_returned: r.slip_returned().map(note),
        co_leaders: match r.plan() {
            Some(Plan::Instruct { co_leaders, .. }) => {
                co_leaders.iter().map(|a| a.0.clone()).collect()
            }
            _ => Vec::new(),
        },
        in_turn: matches!(r.plan(), Some(Plan::Instruct { in_turn: true, .. })),
        awaited_leaders: r.awaited_leaders().iter().map(|a| a.0.clone()).collect(),
    }
}

/// The flow filter of a list request: `outgoing`, `incoming`, `supervision` or empty.
pub fn flow(field: &str, s: &str) -> Result<Option<workflow_core::StreamKind>, Status> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    workflow_core::StreamKind::parse_document(s)
        .map(Some)
        .ok_or_else(|| {
            invalid(
                field,
                format!(
                    "{:?} is not a flow: outgoing (发文), incoming (收文) or supervision (督办)",
                    s.trim()
                ),
            )
        })
}
