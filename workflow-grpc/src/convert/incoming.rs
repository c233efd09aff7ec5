//! 收文 across the wire: its command messages into engine requests, and a receipt to the
//! wire. Part of [`super`], the one place where wire and domain types meet.

use tonic::Status;
use workflow_core::incoming::{Attachment, Receipt};
use workflow_core::{
    ActorId, Classification, IncomingAction, Kind, Plan, Registration, Retention, Timestamp,
    UnitCode, Urgency,
};
use workflow_store::Request;

use super::{
    CommandMessage, FromWire, Header, WireCommand, classification, command_msg, date, invalid,
    kind, optional_enum, request, retention, timestamp, urgency, wire_commands,
};
use crate::pb;

/// An optional date: empty is none.
fn optional_date(field: &str, s: &str) -> Result<Option<chrono::NaiveDate>, Status> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        date(field, s).map(Some)
    }
}

/// Registration fields from the wire; `registration` is required.
fn registration(r: Option<pb::Registration>) -> Result<Registration, Status> {
    let r = r.ok_or_else(|| invalid("registration", "is required"))?;
    if !r.source_document_id.trim().is_empty() {
        return Err(invalid(
            "registration.source_document_id",
            "is set by the engine when a unit acknowledges an 发文 of this system",
        ));
    }
    Ok(Registration {
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
    })
}

/// Registration fields to the wire.
fn registration_to(r: &Registration) -> pb::Registration {
    pb::Registration {
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

fn plan(readers: Vec<String>, leader: String) -> Result<Plan, Status> {
    match (readers.is_empty(), leader.trim().is_empty()) {
        (false, true) => Ok(Plan::Circulate {
            readers: readers.into_iter().map(ActorId).collect(),
        }),
        (true, false) => Ok(Plan::Instruct {
            leader: ActorId(leader),
        }),
        (false, false) => Err(invalid(
            "leader",
            "name readers (阅知) or a leader (批办), not both",
        )),
        (true, true) => Err(invalid("leader", "name readers (阅知) or a leader (批办)")),
    }
}

wire_commands! { IncomingAction:
    pb::RegisterIncomingRequest => |r| IncomingAction::Register {
        registration: registration(r.registration.clone())?,
        unit: (!r.unit.trim().is_empty()).then(|| UnitCode(r.unit.trim().to_owned())),
    };
    pb::ScreenIncomingRequest => |r| IncomingAction::Screen {
        note: r.note.clone(),
        deadline: optional_date("deadline", &r.deadline)?,
    };
    pb::RejectIncomingRequest => |r| IncomingAction::RejectIncoming { reason: r.reason.clone() };
    pb::ProposeHandlingRequest => |r| IncomingAction::Propose {
        plan: plan(r.readers.clone(), r.leader.clone())?,
        opinion: r.opinion.clone(),
    };
    pb::InstructIncomingRequest => |r| IncomingAction::Instruct {
        lead_unit: UnitCode(r.lead_unit.clone()),
        co_units: r.co_units.iter().cloned().map(UnitCode).collect(),
        deadline: date("deadline", &r.deadline)?,
        opinion: r.opinion.clone(),
        supervise: r.supervise,
    };
    pb::TransferInstructionRequest => |r| IncomingAction::TransferInstruction {
        to: ActorId(r.to.clone()),
        opinion: r.opinion.clone(),
    };
    pb::RecordProgressRequest => |r| IncomingAction::RecordProgress { text: r.text.clone() };
    pb::GiveCoInputRequest => |r| IncomingAction::CoInput { text: r.text.clone() };
    pb::RequestExtensionRequest => |r| IncomingAction::RequestExtension {
        until: date("until", &r.until)?,
        reason: r.reason.clone(),
    };
    pb::DecideExtensionRequest => |r| IncomingAction::DecideExtension {
        grant: r.grant,
        reason: r.reason.clone(),
    };
    pb::SendBackRequest => |r| IncomingAction::SendBack { reason: r.reason.clone() };
    pb::CompleteIncomingRequest => |r| IncomingAction::Complete {
        result: r.result.clone(),
        reply: r.reply.clone(),
    };
    pb::MarkReadRequest => |r| IncomingAction::MarkRead { opinion: r.opinion.clone() };
    pb::AddReadersRequest => |r| IncomingAction::AddReaders {
        readers: r.readers.iter().cloned().map(ActorId).collect(),
    };
    pb::ArchiveIncomingRequest => |r| IncomingAction::ArchiveIncoming {
        fonds: r.fonds.clone(),
        retention: optional_enum::<Retention, pb::Retention>("retention", r.retention)?,
        unit_code: r.unit_code.clone(),
        deviation_reason: r.deviation_reason.clone(),
    };
}

/// The wire message of a 收文 request (see [`super::command_message`]).
pub(super) fn command_message(
    header: Header,
    action: &IncomingAction,
) -> Result<CommandMessage, Status> {
    macro_rules! msg {
        ($variant:ident, $ty:ident { $($field:ident: $value:expr),* $(,)? }) => {
            command_msg!(header, $variant, $ty { $($field: $value),* })
        };
    }
    Ok(match action.clone() {
        IncomingAction::Register { registration, unit } => {
            if registration.source.is_some() {
                return Err(invalid(
                    "registration.source_document_id",
                    "a 收文 registered from an 发文 of this system is registered by the engine, \
                     not over the wire",
                ));
            }
            msg!(
                RegisterIncoming,
                RegisterIncomingRequest {
                    registration: Some(registration_to(&registration)),
                    unit: unit.map(|u| u.0).unwrap_or_default(),
                }
            )
        }
        IncomingAction::Screen { note, deadline } => msg!(
            ScreenIncoming,
            ScreenIncomingRequest {
                note: note,
                deadline: deadline.map(|d| d.to_string()).unwrap_or_default(),
            }
        ),
        IncomingAction::RejectIncoming { reason } => {
            msg!(RejectIncoming, RejectIncomingRequest { reason: reason })
        }
        IncomingAction::Propose { plan, opinion } => {
            let (readers, leader) = match plan {
                Plan::Circulate { readers } => {
                    (readers.into_iter().map(|a| a.0).collect(), String::new())
                }
                Plan::Instruct { leader } => (Vec::new(), leader.0),
            };
            msg!(
                ProposeHandling,
                ProposeHandlingRequest {
                    readers: readers,
                    leader: leader,
                    opinion: opinion,
                }
            )
        }
        IncomingAction::Instruct {
            lead_unit,
            co_units,
            deadline,
            opinion,
            supervise,
        } => msg!(
            InstructIncoming,
            InstructIncomingRequest {
                lead_unit: lead_unit.0,
                co_units: co_units.into_iter().map(|u| u.0).collect(),
                deadline: deadline.to_string(),
                opinion: opinion,
                supervise: supervise,
            }
        ),
        IncomingAction::TransferInstruction { to, opinion } => msg!(
            TransferInstruction,
            TransferInstructionRequest {
                to: to.0,
                opinion: opinion,
            }
        ),
        IncomingAction::RecordProgress { text } => {
            msg!(RecordProgress, RecordProgressRequest { text: text })
        }
        IncomingAction::CoInput { text } => msg!(GiveCoInput, GiveCoInputRequest { text: text }),
        IncomingAction::RequestExtension { until, reason } => msg!(
            RequestExtension,
            RequestExtensionRequest {
                until: until.to_string(),
                reason: reason,
            }
        ),
        IncomingAction::DecideExtension { grant, reason } => msg!(
            DecideExtension,
            DecideExtensionRequest {
                grant: grant,
                reason: reason,
            }
        ),
        IncomingAction::SendBack { reason } => msg!(SendBack, SendBackRequest { reason: reason }),
        IncomingAction::Complete { result, reply } => msg!(
            CompleteIncoming,
            CompleteIncomingRequest {
                result: result,
                reply: reply,
            }
        ),
        IncomingAction::MarkRead { opinion } => {
            msg!(MarkRead, MarkReadRequest { opinion: opinion })
        }
        IncomingAction::AddReaders { readers } => msg!(
            AddReaders,
            AddReadersRequest {
                readers: readers.into_iter().map(|a| a.0).collect(),
            }
        ),
        IncomingAction::ArchiveIncoming {
            fonds,
            retention: r,
            unit_code,
            deviation_reason,
        } => msg!(
            ArchiveIncoming,
            ArchiveIncomingRequest {
                fonds: fonds,
                retention: r.map_or(0, |r| retention(r) as i32),
                unit_code: unit_code,
                deviation_reason: deviation_reason,
            }
        ),
        IncomingAction::RemindIncoming { .. } => {
            return Err(invalid(
                "action",
                "RemindIncoming has no RPC: the server's deadline sweep gives it",
            ));
        }
    })
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
            })
            .collect(),
        result: r.closure().map(|c| c.result.clone()).unwrap_or_default(),
        reply: r.closure().map(|c| c.reply.clone()).unwrap_or_default(),
        rejection: r.rejection().unwrap_or_default().to_owned(),
        archive: r.archive().map(super::archive_record),
        opinions: r.opinions().iter().map(super::opinion).collect(),
        reminders: r.reminders(),
        overdue: r.is_overdue(now),
    }
}

/// The flow filter of a list request: `outgoing`, `incoming`, `supervision` or empty.
pub fn flow(field: &str, s: &str) -> Result<Option<workflow_core::StreamKind>, Status> {
    match s.trim() {
        "" => Ok(None),
        "outgoing" => Ok(Some(workflow_core::StreamKind::Outgoing)),
        "incoming" => Ok(Some(workflow_core::StreamKind::Incoming)),
        "supervision" => Ok(Some(workflow_core::StreamKind::Supervision)),
        other => Err(invalid(
            field,
            format!(
                "{other:?} is not a flow: outgoing (发文), incoming (收文) or supervision (督办)"
            ),
        )),
    }
}
