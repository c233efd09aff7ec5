//! 签报 (呈批件): a unit's request to the school's leaders (DESIGN §3c) — 拟稿, the unit
//! head's 审核 and any 会签 along a route as 发文's, the general office's 核稿 with its
//! 拟办意见 and the 签报编号, the leaders' 批示 in turn (会批, 转批, 退回), 办结 by the unit,
//! 归档. A 批示 may open a 督办 item (批必查), as 收文's 批办 does.
//!
//! - `state`: the 签报 and what can be read off it;
//! - `command` and `event`: what a caller asks and what happened;
//! - `decide`: every rule, one function per command;
//! - `apply`: the fold of events into the 签报;
//! - `summary` and `sheet`: its timeline lines and its form (签报单), for people.

mod apply;
mod command;
mod decide;
mod event;
mod sheet;
mod state;
mod summary;

pub use command::{Decision, MemoFields, SubmissionAction, Supervise};
pub use event::SubmissionEvent;
pub use state::{Directive, Memo, MemoNumber, Step};

use chrono::Datelike;

use crate::context::Context;
use crate::directory::Classification;
use crate::error::Error;
use crate::flow::{
    Closing, Flow, FlowCommand, Listing, Particulars, Recorded, ReminderDue, ReminderSent,
    Reminding, StreamKind,
};
use crate::ids::{ActorId, DocumentId, Timestamp, china_date};
use crate::numbering::Series;
use crate::todo::Assignee;

/// The 签报 flow on the flow boundary.
#[derive(Debug, Clone, Copy)]
pub struct Submission;

impl Flow for Submission {
    const KIND: StreamKind = StreamKind::Submission;
    type State = Memo;
    type Action = SubmissionAction;
    type Event = SubmissionEvent;

    fn command_name(action: &SubmissionAction) -> &'static str {
        action.name()
    }

    fn decide(
        state: Option<&Memo>,
        command: &FlowCommand<SubmissionAction>,
        ctx: &dyn Context,
    ) -> Result<Vec<Recorded<SubmissionEvent>>, Error> {
        Ok(decide::decide(state, command, ctx)?
            .into_iter()
            .map(|data| Recorded {
                actor: command.actor.clone(),
                at: command.at,
                data,
            })
            .collect())
    }

    fn create(actor: &ActorId, at: Timestamp, event: &SubmissionEvent) -> Option<Memo> {
        Memo::created(actor, at, event)
    }

    fn apply(state: &mut Memo, actor: &ActorId, at: Timestamp, event: &SubmissionEvent) {
        state.apply_event(actor, at, event);
    }

    fn id(state: &Memo) -> DocumentId {
        state.id()
    }

    fn version(state: &Memo) -> u64 {
        state.version()
    }

    fn classification(state: &Memo) -> Classification {
        state.fields().classification
    }

    fn assignees(state: &Memo, _is_unit: &dyn Fn(&str) -> bool) -> Vec<Assignee> {
        state.assignees()
    }

    fn listing(state: &Memo) -> Option<Listing> {
        let mut units = vec![state.unit().clone()];
        for stage in state.route() {
            if let crate::route::StageSpec::Countersign { departments, .. } = &stage.spec {
                units.extend(departments.iter().cloned());
            }
        }
        units.sort();
        units.dedup();
        Some(Listing {
            state: state.step().name(),
            kind: None,
            units,
            year: listing_year(state),
        })
    }

    fn due(state: &Memo) -> Option<Timestamp> {
        if !matches!(state.step(), Step::InReview | Step::Countersigning) {
            return None;
        }
        state.current()?.1.due_at
    }

    fn document_files(state: &Memo) -> Option<&crate::content::DocumentFiles> {
        Some(&state.fields().files)
    }

    fn files(state: &Memo) -> Vec<(&str, &str)> {
        state.fields().files.names().collect()
    }

    fn current_stage(state: &Memo) -> Option<usize> {
        state.current().map(|(i, _)| i)
    }

    fn number_claim(event: &SubmissionEvent) -> Option<(Series, u32)> {
        match event {
            SubmissionEvent::MemoAccepted {
                number: Some(n), ..
            } => Some((n.series(), n.seq)),
            SubmissionEvent::MemoArchived { reference, .. } => {
                Some((reference.series(), reference.item))
            }
            _ => None,
        }
    }

    fn reminder(
        state: &Memo,
        now: Timestamp,
        interval_hours: u32,
    ) -> Option<ReminderDue<SubmissionAction>> {
        let (i, stage) = state.current()?;
        Some(ReminderDue {
            key: crate::routing::reminder_key(
                state.id(),
                state.round(),
                i,
                stage,
                now,
                interval_hours,
            )?,
            action: SubmissionAction::RemindMemo { interval_hours },
            reminders_before: stage.reminders,
        })
    }

    fn reminded(event: &SubmissionEvent) -> Option<ReminderSent> {
        match event {
            SubmissionEvent::MemoReminded {
                stage,
                due_at,
                waiting_for,
                escalated_to,
            } => Some(ReminderSent {
                reminding: Reminding::Overdue,
                stage: *stage,
                due_at: *due_at,
                waiting_for: waiting_for.clone(),
                escalated_to: escalated_to.clone(),
            }),
            _ => None,
        }
    }

    fn closing(event: &SubmissionEvent) -> Option<Closing<'_>> {
        match event {
            SubmissionEvent::MemoArchived { fixity_hash, .. } => {
                Some(Closing::Filed(fixity_hash.as_deref()))
            }
            SubmissionEvent::MemoVoided { .. } => Some(Closing::Ended),
            _ => None,
        }
    }

    fn title(state: &Memo) -> &str {
        &state.fields().title
    }

    fn steps() -> Vec<(&'static str, &'static str)> {
        Step::ALL.iter().map(|s| (s.name(), s.chinese())).collect()
    }

    fn summary(event: &SubmissionEvent, names: &dyn crate::sheet::Names) -> String {
        summary::summary(event, names)
    }

    fn sheet(state: &Memo) -> crate::sheet::Sheet<'_> {
        sheet::sheet(state)
    }

    fn particulars(m: &Memo) -> Particulars<'_> {
        Particulars {
            state: m.step().name(),
            state_label: m.step().chinese(),
            kind: None,
            unit: Some(m.unit()),
            from: Some(m.unit().as_str()),
            urgency: Some(m.fields().urgency),
            number: m.number().map(ToString::to_string),
            deadline: None,
            updated_at: m.updated_at(),
            archive: m.archive(),
            text: vec![m.fields().summary.as_str(), m.fields().body.as_str()],
        }
    }
}

/// The year a 签报 is listed under: the year of its number once the office accepted it,
/// else its drafting year (China Standard Time).
pub fn listing_year(m: &Memo) -> i32 {
    m.number()
        .map_or_else(|| china_date(m.created_at()).year(), |n| n.year)
}
