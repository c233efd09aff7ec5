//! 收文: incoming documents as a flow of their own (DESIGN §3a) — 签收 and 登记 with a gapless
//! 收文编号, 初审 or 退文, 拟办 (阅知 or 批办), 批示 with one 主办 and any 协办, 承办 with
//! cooperating input and extensions, 传阅, 办结, 归档.

mod apply;
mod command;
mod decide;
mod event;
mod sheet;
mod state;
mod summary;

pub use command::{Attachment, Channel, IncomingAction, Plan, Registration};
pub use event::IncomingEvent;
pub use state::{Closure, ExtensionRequest, Instruction, Note, ReadMark, Receipt, Step};

use crate::context::Context;
use crate::directory::{Classification, Role};
use crate::error::Error;
use crate::flow::{
    Closing, Flow, FlowCommand, Listing, Particulars, Recorded, ReminderDue, ReminderSent,
    StreamKind,
};
use crate::ids::{ActorId, DocumentId, Timestamp};
use crate::numbering::Series;
use crate::todo::Assignee;

pub use crate::links::linked_receipt_id;

/// The 收文 flow on the flow boundary.
#[derive(Debug, Clone, Copy)]
pub struct Incoming;

impl Flow for Incoming {
    const KIND: StreamKind = StreamKind::Incoming;
    type State = Receipt;
    type Action = IncomingAction;
    type Event = IncomingEvent;

    const CONTENT_FIELD: Option<&'static str> = Some("registration");
    const OPINIONS_FIELD: Option<&'static str> = Some("opinions");

    fn command_name(action: &IncomingAction) -> &'static str {
        action.name()
    }

    fn decide(
        state: Option<&Receipt>,
        command: &FlowCommand<IncomingAction>,
        ctx: &dyn Context,
    ) -> Result<Vec<Recorded<IncomingEvent>>, Error> {
        Ok(decide::decide(state, command, ctx)?
            .into_iter()
            .map(|data| Recorded {
                actor: command.actor.clone(),
                at: command.at,
                data,
            })
            .collect())
    }

    fn create(actor: &ActorId, at: Timestamp, event: &IncomingEvent) -> Option<Receipt> {
        Receipt::created(actor, at, event)
    }

    fn apply(state: &mut Receipt, actor: &ActorId, at: Timestamp, event: &IncomingEvent) {
        state.apply_event(actor, at, event);
    }

    fn id(state: &Receipt) -> DocumentId {
        state.id()
    }

    fn version(state: &Receipt) -> u64 {
        state.version()
    }

    fn classification(state: &Receipt) -> Classification {
        state.registration().classification
    }

    fn assignees(state: &Receipt, _is_unit: &dyn Fn(&str) -> bool) -> Vec<Assignee> {
        let unit_role = |unit: &crate::ids::UnitCode, role| Assignee::UnitRole {
            unit: unit.clone(),
            role,
        };
        // Who may 初审, 拟办 and decide an extension: the receiving unit's registrars or
        // director, and the general office's (`Decide::require_office`).
        let office = |roles: &[Role]| {
            roles
                .iter()
                .flat_map(|r| [unit_role(state.unit(), *r), Assignee::OfficeRole(*r)])
                .collect::<Vec<_>>()
        };
        let mut keys = match state.step() {
            Step::Registered => office(&[Role::Registrar, Role::OfficeDirector]),
            Step::Proposing => office(&[Role::OfficeDirector]),
            Step::AwaitingInstruction => state
                .awaited_leaders()
                .into_iter()
                .map(|l| Assignee::Actor(l.clone()))
                .collect(),
            Step::InHandling => {
                let mut k: Vec<Assignee> = state
                    .instruction()
                    .map(|i| vec![unit_role(&i.lead_unit, Role::Handler)])
                    .unwrap_or_default();
                k.extend(
                    state
                        .pending_co_units()
                        .iter()
                        .map(|u| unit_role(u, Role::Handler)),
                );
                if state.extension().is_some() {
                    k.extend(office(&[Role::OfficeDirector]));
                }
                k
            }
            Step::Circulating => Vec::new(),
            // Filed once every reader has read it (readers beside a 批办 may still read).
            Step::Completed if state.unread().is_empty() => vec![Assignee::Role(Role::Archivist)],
            Step::Completed => Vec::new(),
            Step::Rejected | Step::Archived => return Vec::new(),
        };
        // Readers who have not read it: in a 传阅 and beside a 批办.
        keys.extend(state.unread().into_iter().map(Assignee::Actor));
        keys.sort();
        keys.dedup();
        keys
    }

    fn listing(state: &Receipt) -> Option<Listing> {
        let mut units = vec![state.unit().clone()];
        if let Some(i) = state.instruction() {
            units.push(i.lead_unit.clone());
            units.extend(i.co_units.iter().cloned());
        }
        units.sort();
        units.dedup();
        Some(Listing {
            state: state.step().name(),
            kind: Some(state.registration().kind),
            units,
            year: chrono::Datelike::year(&state.registration().received_on),
        })
    }

    fn due(state: &Receipt) -> Option<Timestamp> {
        (state.step() == Step::InHandling)
            .then(|| state.due_at())
            .flatten()
    }

    fn content_revision(_state: &Receipt) -> u32 {
        // Set once, when the stream is created.
        1
    }

    fn opinion_count(state: &Receipt) -> usize {
        state.opinions().len()
    }

    fn document_files(state: &Receipt) -> Option<&crate::content::DocumentFiles> {
        Some(&state.registration().files)
    }

    fn files(state: &Receipt) -> Vec<(&str, &str)> {
        let reg = state.registration();
        reg.files
            .names()
            .chain(
                reg.attachments
                    .iter()
                    .map(|a| (a.name.as_str(), a.sha256.as_str())),
            )
            .collect()
    }

    fn number_claim(event: &IncomingEvent) -> Option<(Series, u32)> {
        match event {
            IncomingEvent::Registered { number, .. } => Some((number.series(), number.seq)),
            IncomingEvent::IncomingArchived { reference, .. } => {
                Some((reference.series(), reference.item))
            }
            _ => None,
        }
    }

    fn reminder(
        state: &Receipt,
        now: Timestamp,
        interval_hours: u32,
    ) -> Option<ReminderDue<IncomingAction>> {
        if !state.is_overdue(now) {
            return None;
        }
        if let Some(last) = state.last_reminded_at
            && now < last + chrono::Duration::hours(i64::from(interval_hours))
        {
            return None;
        }
        // After the first reminder to the lead unit, escalate to the instructing leader.
        let escalate_to = (state.reminders() > 0)
            .then(|| state.instruction().map(|i| i.leader.clone()))
            .flatten();
        Some(ReminderDue {
            key: format!(
                "remind:{}:{}:{}",
                state.id(),
                state.deadline().map(|d| d.to_string()).unwrap_or_default(),
                state.reminders()
            ),
            action: IncomingAction::RemindIncoming { escalate_to },
            reminders_before: state.reminders(),
        })
    }

    fn urged_by_hand(event: &IncomingEvent) -> Option<Vec<Assignee>> {
        match event {
            // The lead unit's handlers.
            IncomingEvent::IncomingUrged { unit, .. } => Some(vec![Assignee::UnitRole {
                unit: unit.clone(),
                role: Role::Handler,
            }]),
            _ => None,
        }
    }

    fn reminded(event: &IncomingEvent) -> Option<ReminderSent> {
        let IncomingEvent::IncomingReminded {
            due_on,
            escalated_to,
        } = event
        else {
            return None;
        };
        Some(ReminderSent {
            reminding: crate::flow::Reminding::Overdue,
            stage: 0,
            due_at: crate::ids::end_of_day(*due_on)?,
            waiting_for: Vec::new(),
            escalated_to: escalated_to.clone(),
        })
    }

    fn closing(event: &IncomingEvent) -> Option<Closing<'_>> {
        match event {
            IncomingEvent::IncomingArchived { fixity_hash, .. } => {
                Some(Closing::Filed(fixity_hash.as_deref()))
            }
            IncomingEvent::IncomingRejected { .. } => Some(Closing::Ended),
            _ => None,
        }
    }

    fn title(state: &Receipt) -> &str {
        &state.registration().title
    }

    fn steps() -> Vec<(&'static str, &'static str)> {
        Step::ALL.iter().map(|s| (s.name(), s.chinese())).collect()
    }

    fn summary(event: &IncomingEvent, names: &dyn crate::sheet::Names) -> String {
        summary::summary(event, names)
    }

    fn sheet(state: &Receipt) -> crate::sheet::Sheet<'_> {
        sheet::sheet(state)
    }

    fn particulars(r: &Receipt) -> Particulars<'_> {
        Particulars {
            state: r.step().name(),
            state_label: r.step().chinese(),
            kind: Some(r.registration().kind),
            unit: Some(r.unit()),
            from: Some(r.registration().from.as_str()),
            urgency: Some(r.registration().urgency),
            number: Some(r.number().to_string()),
            deadline: r.deadline(),
            updated_at: r.updated_at(),
            archive: r.archive(),
            text: vec![
                r.registration().from.as_str(),
                r.registration().from_number.as_str(),
            ],
        }
    }
}
