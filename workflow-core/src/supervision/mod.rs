//! 督办: supervision items as a flow of their own (DESIGN §3b) — 立项 (directly, from a
//! meeting decision or an annual key task, or from a leader's 批示 on a 收文), 交办, 进展反馈,
//! 延期, 办结报告, 销号 or sent back, 归档; reminders for missed feedback, an approaching and
//! a passed deadline; and the 月通报 ([`bulletin`]).

mod apply;
pub mod bulletin;
mod command;
mod decide;
mod event;
mod publication;
mod sheet;
mod state;
mod summary;

pub use summary::source_reference;

pub use command::{
    DEFAULT_WARN_DAYS, Frequency, Grade, ItemSpec, ReminderReason, Source, SupervisionAction,
};
pub use event::SupervisionEvent;
pub use publication::{
    BulletinDigests, Publication, PublicationAction, PublicationEvent, Publications,
    publication_id, sha256_hex,
};
pub use state::{
    CompletionReport, ExtensionDecision, Feedback, Item, ItemExtensionRequest, ItemStep,
    ReminderCount, Urged,
};

use crate::context::Context;
use crate::directory::{Classification, Role};
use crate::error::Error;
use crate::flow::{
    Closing, Flow, FlowCommand, Listing, Particulars, Recorded, ReminderDue, ReminderSent,
    StreamKind,
};
use crate::ids::{ActorId, DocumentId, Timestamp, china_date, end_of_day};
use crate::numbering::Series;
use crate::todo::Assignee;

pub use crate::links::linked_item_id;

/// The 督办 flow on the flow boundary.
#[derive(Debug, Clone, Copy)]
pub struct Supervision;

impl Flow for Supervision {
    const KIND: StreamKind = StreamKind::Supervision;
    type State = Item;
    type Action = SupervisionAction;
    type Event = SupervisionEvent;

    const CONTENT_FIELD: Option<&'static str> = Some("spec");
    const OPINIONS_FIELD: Option<&'static str> = Some("opinions");

    fn command_name(action: &SupervisionAction) -> &'static str {
        action.name()
    }

    fn decide(
        state: Option<&Item>,
        command: &FlowCommand<SupervisionAction>,
        ctx: &dyn Context,
    ) -> Result<Vec<Recorded<SupervisionEvent>>, Error> {
        Ok(decide::decide(state, command, ctx)?
            .into_iter()
            .map(|data| Recorded {
                actor: command.actor.clone(),
                at: command.at,
                data,
            })
            .collect())
    }

    fn create(actor: &ActorId, at: Timestamp, event: &SupervisionEvent) -> Option<Item> {
        Item::created(actor, at, event)
    }

    fn apply(state: &mut Item, actor: &ActorId, at: Timestamp, event: &SupervisionEvent) {
        state.apply_event(actor, at, event);
    }

    fn id(state: &Item) -> DocumentId {
        state.id()
    }

    fn version(state: &Item) -> u64 {
        state.version()
    }

    fn classification(state: &Item) -> Classification {
        state.spec().classification
    }

    fn assignees(state: &Item, _is_unit: &dyn Fn(&str) -> bool) -> Vec<Assignee> {
        let lead = || match state.responsible() {
            Some(r) => Assignee::Actor(r.clone()),
            None => Assignee::UnitRole {
                unit: state.spec().lead_unit.clone(),
                role: Role::Handler,
            },
        };
        let mut keys = match state.step() {
            ItemStep::Opened | ItemStep::Assigned | ItemStep::InProgress => {
                let mut k = vec![lead()];
                if state.extension().is_some() {
                    k.push(Assignee::Role(Role::Supervisor));
                }
                k
            }
            // 销号 waits for the 协办 units still to give their input (theirs below).
            ItemStep::CompletionReported if state.pending_co_units().is_empty() => {
                vec![Assignee::Role(Role::Supervisor)]
            }
            ItemStep::CompletionReported => Vec::new(),
            ItemStep::Closed | ItemStep::Withdrawn => vec![Assignee::Role(Role::Archivist)],
            ItemStep::Archived => Vec::new(),
        };
        // 协办: each cooperating unit's handlers until the unit gave its input.
        keys.extend(
            state
                .pending_co_units()
                .into_iter()
                .map(|u| Assignee::UnitRole {
                    unit: u.clone(),
                    role: Role::Handler,
                }),
        );
        keys.sort();
        keys.dedup();
        keys
    }

    fn listing(state: &Item) -> Option<Listing> {
        let mut units = vec![state.spec().lead_unit.clone()];
        units.extend(state.spec().co_units.iter().cloned());
        units.sort();
        units.dedup();
        Some(Listing {
            state: state.step().name(),
            kind: None,
            units,
            year: chrono::Datelike::year(&china_date(state.opened_at())),
        })
    }

    fn due(state: &Item) -> Option<Timestamp> {
        [
            state.next_feedback_due(),
            state.warning_due(),
            state.step().is_open().then(|| state.due_at()).flatten(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn is_overdue(state: &Item, now: Timestamp) -> bool {
        state.is_overdue(now)
    }

    fn content_revision(_state: &Item) -> u32 {
        // Set once, when the stream is created.
        1
    }

    fn opinion_count(state: &Item) -> usize {
        state.opinions().len()
    }

    fn number_claim(event: &SupervisionEvent) -> Option<(Series, u32)> {
        match event {
            SupervisionEvent::ItemOpened {
                number: Some(n), ..
            } => Some((n.series(), n.seq)),
            SupervisionEvent::ItemArchived { reference, .. } => {
                Some((reference.series(), reference.item))
            }
            _ => None,
        }
    }

    fn reminder(
        state: &Item,
        now: Timestamp,
        interval_hours: u32,
    ) -> Option<ReminderDue<SupervisionAction>> {
        let interval = chrono::Duration::hours(i64::from(interval_hours));
        // The most pressing first: a passed deadline, then a missed feedback, then the warning.
        let (reason, due) = if state.is_overdue(now) {
            let sent = state.reminder_count(ReminderReason::Overdue);
            if sent.last_at.is_some_and(|last| now < last + interval) {
                None
            } else {
                Some((ReminderReason::Overdue, state.due_at()?))
            }
        } else {
            None
        }
        .or_else(|| {
            state
                .next_feedback_due()
                .filter(|d| *d < now)
                .map(|d| (ReminderReason::Feedback, d))
        })
        .or_else(|| {
            state
                .warning_due()
                .filter(|d| *d <= now && !state.is_overdue(now))
                .map(|d| (ReminderReason::Approaching, d))
        })?;
        let before = state.reminder_count(reason).count;
        // Escalated from the lead unit to the supervisor, then to the leader; the warning
        // goes to the lead unit only.
        let escalate_to = match (reason, before) {
            (ReminderReason::Approaching, _) | (_, 0) => None,
            (_, 1) => state
                .supervisor()
                .cloned()
                .or_else(|| Some(state.spec().leader.clone())),
            _ => Some(state.spec().leader.clone()),
        };
        Some(ReminderDue {
            key: format!(
                "remind-item:{}:{reason:?}:{}:{before}",
                state.id(),
                due.timestamp()
            ),
            action: SupervisionAction::RemindItem {
                reason,
                escalate_to,
            },
            reminders_before: before,
        })
    }

    fn urged_by_hand(event: &SupervisionEvent) -> Option<Vec<Assignee>> {
        match event {
            // The 责任人, once named; else whoever has it to do (the lead unit's handlers).
            SupervisionEvent::ItemUrged { to, .. } => {
                Some(to.iter().map(|a| Assignee::Actor(a.clone())).collect())
            }
            _ => None,
        }
    }

    fn reminded(event: &SupervisionEvent) -> Option<ReminderSent> {
        let SupervisionEvent::ItemReminded {
            reason,
            due_on,
            escalated_to,
        } = event
        else {
            return None;
        };
        Some(ReminderSent {
            reminding: match reason {
                ReminderReason::Feedback => crate::flow::Reminding::Feedback,
                ReminderReason::Approaching => crate::flow::Reminding::Approaching,
                ReminderReason::Overdue => crate::flow::Reminding::Overdue,
            },
            stage: 0,
            due_at: end_of_day(*due_on)?,
            waiting_for: Vec::new(),
            escalated_to: escalated_to.clone(),
        })
    }

    fn closing(event: &SupervisionEvent) -> Option<Closing<'_>> {
        match event {
            SupervisionEvent::ItemArchived { fixity_hash, .. } => {
                Some(Closing::Filed(fixity_hash.as_deref()))
            }
            _ => None,
        }
    }

    fn title(state: &Item) -> &str {
        &state.spec().title
    }

    fn steps() -> Vec<(&'static str, &'static str)> {
        ItemStep::ALL
            .iter()
            .map(|s| (s.name(), s.chinese()))
            .collect()
    }

    fn summary(event: &SupervisionEvent, names: &dyn crate::sheet::Names) -> String {
        summary::summary(event, names)
    }

    fn sheet(state: &Item) -> crate::sheet::Sheet<'_> {
        sheet::sheet(state)
    }

    fn particulars(i: &Item) -> Particulars<'_> {
        Particulars {
            state: i.step().name(),
            state_label: i.step().chinese(),
            kind: None,
            unit: Some(&i.spec().lead_unit),
            from: Some(i.spec().lead_unit.as_str()),
            urgency: None,
            number: i.number().map(ToString::to_string),
            deadline: Some(i.deadline()),
            updated_at: i.updated_at(),
            archive: i.archive(),
            text: vec![i.spec().requirements.as_str()],
        }
    }
}
