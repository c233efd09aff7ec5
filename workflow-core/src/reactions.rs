//! Cross-flow reactions: what an event of one flow asks of another stream. No flow imports
//! another; the links between them live here, above the flows and the registry.
//!
//! An 发文 acknowledged (签收) by a unit of the directory becomes that unit's 收文 (DESIGN
//! §3a), with the id [`crate::incoming::linked_receipt_id`] gives; a 批办 that asks for supervision
//! opens a 督办 item (DESIGN §3b), with the id [`crate::supervision::linked_item_id`] gives;
//! so does a 签报's 批示 that asks for it (DESIGN §3c).

use crate::flow::{Flow, Recorded};
use crate::ids::{ActorId, DocumentId, Timestamp, UnitCode, china_date};
use crate::incoming::{Incoming, IncomingAction, IncomingEvent, Receipt, Registration};
use crate::kind::Kind;
use crate::links::{linked_item_id, linked_receipt_id};
use crate::outgoing::{self, Document, Outgoing};
use crate::registry::{FlowAction, FlowEvent, FlowState};
use crate::submission::{Memo, Submission, SubmissionEvent, Supervise};
use crate::supervision::{DEFAULT_WARN_DAYS, Frequency, ItemSpec, Source, SupervisionAction};

/// A reason quoted in another stream's record: its first 200 characters.
fn shortened(reason: &str) -> String {
    const QUOTED: usize = 200;
    if reason.chars().count() <= QUOTED {
        reason.to_owned()
    } else {
        let mut s: String = reason.chars().take(QUOTED - 1).collect();
        s.push('…');
        s
    }
}

/// A command an event asks of another stream (a reaction): the store decides it in the same
/// group as the event, so both are written together or not at all, and its command id,
/// derived from the event's position, makes it happen exactly once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reaction {
    /// Its idempotency key, derived from the reacting event's position.
    pub command_id: String,
    /// The stream it is for.
    pub document_id: DocumentId,
    /// The version that stream must be at (0: it must not exist yet); `None`: whatever it
    /// is now (a stream the reacting one names but does not follow, e.g. a 收文's 督办 item).
    pub expected_version: Option<u64>,
    /// Whether it may no longer apply when decided (the item was closed meanwhile): its
    /// refusal is expected, and logged quietly.
    pub optional: bool,
    /// The instant of the event it reacts to.
    pub at: Timestamp,
    /// What it asks, given by the system actor.
    pub action: FlowAction,
}

/// The reactions an event asks for, given the state of its stream after it and its
/// position in the log.
pub fn reactions(state: &FlowState, event: &Recorded<FlowEvent>, position: u64) -> Vec<Reaction> {
    match (state, &event.data) {
        (
            FlowState::Outgoing(doc),
            FlowEvent::Outgoing(outgoing::EventData::Acknowledged { recipient }),
        ) => vec![Reaction {
            command_id: format!("link:{position}"),
            document_id: linked_receipt_id(Outgoing::id(doc), recipient),
            expected_version: Some(0),
            optional: false,
            at: event.at,
            action: registration_for(doc, recipient, event.at).into(),
        }],
        (
            FlowState::Incoming(receipt),
            FlowEvent::Incoming(IncomingEvent::Instructed {
                supervise: true, ..
            }),
        ) => item_for(receipt)
            .map(|action| Reaction {
                command_id: format!("supervise:{position}"),
                document_id: linked_item_id(Incoming::id(receipt), Incoming::version(receipt)),
                expected_version: Some(0),
                optional: false,
                at: event.at,
                action: action.into(),
            })
            .into_iter()
            .collect(),
        // The lead unit sent the 收文 back (not theirs): the items its 批办s opened for that
        // unit are withdrawn, each once; one reported complete or closed already stays, and
        // one of an earlier 批办 to another unit is not this unit's to drop.
        (
            FlowState::Incoming(receipt),
            FlowEvent::Incoming(IncomingEvent::SentBack { unit, reason }),
        ) => receipt
            .supervision_items()
            .iter()
            .map(|item| Reaction {
                command_id: format!("withdraw:{position}:{item}"),
                document_id: *item,
                expected_version: None,
                optional: true,
                at: event.at,
                action: SupervisionAction::WithdrawItem {
                    unit: unit.clone(),
                    reason: format!(
                        "收文 {} 被 {unit} 退回拟办：{}",
                        receipt.number(),
                        shortened(reason)
                    ),
                }
                .into(),
            })
            .collect(),
        (
            FlowState::Submission(memo),
            FlowEvent::Submission(SubmissionEvent::MemoEndorsed {
                supervise: Some(order),
                text,
                ..
            }),
        ) => vec![Reaction {
            command_id: format!("supervise:{position}"),
            document_id: linked_item_id(Submission::id(memo), Submission::version(memo)),
            expected_version: Some(0),
            optional: false,
            at: event.at,
            action: memo_item_for(memo, &event.actor, text, order).into(),
        }],
        _ => Vec::new(),
    }
}

/// The item the engine opens for a 签报's 批示 by `leader`: the 签报's title and 密级, the
/// 批示 as 任务要求, the units and deadline the 批示 named.
fn memo_item_for(
    memo: &Memo,
    leader: &ActorId,
    text: &str,
    order: &Supervise,
) -> SupervisionAction {
    let f = memo.fields();
    SupervisionAction::OpenItem {
        spec: ItemSpec {
            source: Source::Submission {
                submission: memo.id(),
            },
            title: f.title.clone(),
            requirements: text.to_owned(),
            leader: leader.clone(),
            lead_unit: order
                .lead_unit
                .clone()
                .unwrap_or_else(|| memo.unit().clone()),
            responsible: None,
            co_units: order.co_units.clone(),
            deadline: order.deadline,
            feedback: LINKED_FEEDBACK,
            warn_days: DEFAULT_WARN_DAYS,
            classification: f.classification,
        },
    }
}

/// The registration of `unit`'s 收文 for the 发文 `doc` it acknowledged at `at`: the 发文's
/// title, 文种, 密级 and 紧急程度, its issuing unit as 来文单位 and its 发文字号 as 来文字号.
/// Its files are the 发文's. A 请示 expects a reply (批复). No deadline: the 发文 carries none for its recipients, so
/// a 特急/加急 one gets its 办结时限 at 初审.
fn registration_for(doc: &Document, unit: &UnitCode, at: Timestamp) -> IncomingAction {
    let f = doc.fields();
    IncomingAction::Register {
        registration: Registration {
            // The recipients open the issued 公文 (as printed at 印发, where it was: the
            // official text) and the attachments through their 收文.
            files: crate::content::DocumentFiles {
                main: doc
                    .issue()
                    .and_then(|i| i.printed.clone())
                    .map(Box::new)
                    .or_else(|| f.files.main.clone()),
                attachments: f.files.attachments.clone(),
            },
            from: f.issuing_unit.0.clone(),
            from_number: doc
                .issue()
                .map(|i| i.number.to_string())
                .unwrap_or_default(),
            title: f.title.clone(),
            kind: f.kind,
            classification: f.classification,
            classification_period_years: f.classification_period_years,
            urgency: f.urgency,
            received_on: china_date(at),
            deadline: None,
            reply_required: f.kind == Kind::Request,
            pages: 0,
            attachments: Vec::new(),
            source: Some(doc.id()),
            // It came through this system; as important as the 发文 it is.
            channel: Some(crate::incoming::Channel::Electronic),
            copies: 0,
            copy_numbers: String::new(),
            important: f.important,
            slip_required: false,
        },
        unit: Some(unit.clone()),
    }
}

/// Linked items are asked for monthly feedback: the 批办 names none, and a month is the
/// 月通报's rhythm.
const LINKED_FEEDBACK: Frequency = Frequency::Monthly;

/// The item the engine opens for the 批办 just folded into `receipt`: the 收文's title and 密级,
/// the 批示 as 任务要求, the instructing leader, units and deadline as instructed.
fn item_for(receipt: &Receipt) -> Option<SupervisionAction> {
    let i = receipt.instruction()?;
    let reg = receipt.registration();
    let requirements = receipt
        .opinions()
        .iter()
        .rev()
        .find(|o| o.step == "instruct")
        .map(|o| o.text.clone())
        .unwrap_or_else(|| reg.title.clone());
    Some(SupervisionAction::OpenItem {
        spec: ItemSpec {
            source: Source::Instruction {
                receipt: receipt.id(),
            },
            title: reg.title.clone(),
            requirements,
            leader: i.leader.clone(),
            lead_unit: i.lead_unit.clone(),
            responsible: None,
            co_units: i.co_units.clone(),
            deadline: i.deadline,
            feedback: LINKED_FEEDBACK,
            warn_days: DEFAULT_WARN_DAYS,
            classification: reg.classification,
        },
    })
}
