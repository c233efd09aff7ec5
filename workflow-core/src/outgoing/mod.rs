//! 发文: outgoing documents, from drafting 拟稿 through review 审核, countersign 会签,
//! sign-off 签发 and issue 印发 to archive 归档 (DESIGN §2, §2b).
//!
//! - `state`: the document and what can be read off it;
//! - `command` and `event`: what a caller asks and what happened;
//! - `decide`: every rule, one function per command;
//! - `apply`: the fold of events into the document;
//! - `summary` and `sheet`: its timeline lines and its form (发文稿纸), for people.

pub(crate) mod apply;
pub(crate) mod command;
pub(crate) mod decide;
pub(crate) mod event;
mod sheet;
pub(crate) mod state;
mod summary;

pub use command::{Action, Command, DraftFields, SYSTEM_ACTOR};
pub use decide::handle;
pub use event::{Event, EventData};
pub use state::{Document, IssueRecord, Signature, State};

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

/// The 发文 flow.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing;

impl Flow for Outgoing {
    const KIND: StreamKind = StreamKind::Outgoing;
    type State = Document;
    type Action = Action;
    type Event = EventData;

    const CONTENT_FIELD: Option<&'static str> = Some("fields");
    const OPINIONS_FIELD: Option<&'static str> = Some("opinions");

    fn command_name(action: &Action) -> &'static str {
        action.name()
    }

    fn decide(
        state: Option<&Document>,
        command: &FlowCommand<Action>,
        ctx: &dyn Context,
    ) -> Result<Vec<Recorded<EventData>>, Error> {
        handle(state, command, ctx)
    }

    fn create(actor: &ActorId, at: Timestamp, event: &EventData) -> Option<Document> {
        Document::created_from(actor, at, event)
    }

    fn apply(state: &mut Document, actor: &ActorId, at: Timestamp, event: &EventData) {
        state.apply_parts(actor, at, event);
    }

    fn id(state: &Document) -> DocumentId {
        state.id()
    }

    fn version(state: &Document) -> u64 {
        state.version()
    }

    fn classification(state: &Document) -> Classification {
        state.classification()
    }

    fn assignees(state: &Document, is_unit: &dyn Fn(&str) -> bool) -> Vec<Assignee> {
        state.assignees(is_unit)
    }

    fn listing(state: &Document) -> Option<Listing> {
        let mut units = vec![
            state.fields().issuing_unit.clone(),
            state.drafter_unit().clone(),
        ];
        units.extend(state.fields().co_issuing_units.iter().cloned());
        units.sort();
        units.dedup();
        Some(Listing {
            state: state.state().name(),
            kind: Some(state.kind()),
            units,
            year: listing_year(state),
        })
    }

    fn due(state: &Document) -> Option<Timestamp> {
        if !matches!(state.state(), State::InReview | State::Countersigning) {
            return None;
        }
        state.current()?.1.due_at
    }

    fn current_stage(state: &Document) -> Option<usize> {
        state.current().map(|(i, _)| i)
    }

    fn content_revision(state: &Document) -> u32 {
        state.revision()
    }

    fn opinion_count(state: &Document) -> usize {
        state.opinions().len()
    }

    fn document_files(state: &Document) -> Option<&crate::content::DocumentFiles> {
        Some(&state.fields().files)
    }

    fn files(state: &Document) -> Vec<(&str, &str)> {
        let printed = state
            .issue()
            .and_then(|i| i.printed.as_ref())
            .map(|f| (f.name.as_str(), f.digest.as_str()));
        state.fields().files.names().chain(printed).collect()
    }

    fn number_claim(event: &EventData) -> Option<(Series, u32)> {
        event.number_claim()
    }

    fn reminder(
        state: &Document,
        now: Timestamp,
        interval_hours: u32,
    ) -> Option<ReminderDue<Action>> {
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
            action: Action::Remind { interval_hours },
            reminders_before: stage.reminders,
        })
    }

    fn reminded(event: &EventData) -> Option<ReminderSent> {
        match event {
            EventData::Reminded {
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

    fn closing(event: &EventData) -> Option<Closing<'_>> {
        match event {
            EventData::Archived { fixity_hash, .. } => Some(Closing::Filed(fixity_hash.as_deref())),
            EventData::Voided { .. } => Some(Closing::Ended),
            _ => None,
        }
    }

    fn title(state: &Document) -> &str {
        &state.fields().title
    }

    fn steps() -> Vec<(&'static str, &'static str)> {
        State::ALL.iter().map(|s| (s.name(), s.chinese())).collect()
    }

    fn summary(event: &EventData, names: &dyn crate::sheet::Names) -> String {
        summary::summary(event, names)
    }

    fn sheet(state: &Document) -> crate::sheet::Sheet<'_> {
        sheet::sheet(state)
    }

    fn particulars(d: &Document) -> Particulars<'_> {
        Particulars {
            state: d.state().name(),
            state_label: d.state().chinese(),
            kind: Some(d.kind()),
            unit: None,
            from: Some(d.fields().issuing_unit.as_str()),
            urgency: Some(d.fields().urgency),
            number: d.issue().map(|i| i.number.to_string()),
            deadline: None,
            updated_at: d.updated_at(),
            archive: d.archive(),
            text: vec![d.fields().body.as_str()],
        }
    }
}

/// The year a document is listed under: its issue year once issued, else its drafting year
/// (China Standard Time).
pub fn listing_year(doc: &Document) -> i32 {
    match doc.issue() {
        Some(i) => i.issue_date.year(),
        None => china_date(doc.created_at()).year(),
    }
}
