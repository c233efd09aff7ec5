//! The flow boundary: what a flow (发文, 收文, 督办, the directory, the published 月通报) is
//! to the rest of the engine.
//!
//! A flow decides a command against the state of one stream, folds an event into that state,
//! and says what the projections index of a state (whom it waits for, the list dimensions it
//! appears under, the deadline its current step is due by) and what people read of it (its
//! particulars in lists and exports, its sheet, an event's timeline line). This module names
//! no flow: the flows implement [`Flow`] below it, and [`crate::registry`], above them,
//! dispatches over them from one table.

use serde::{Deserialize, Serialize};

use crate::archive::ArchiveRecord;
use crate::codec::EventCodec;
use crate::context::Context;
use crate::directory::Classification;
use crate::error::Error;
use crate::ids::{ActorId, DocumentId, Timestamp, UnitCode};
pub(crate) use crate::kind::StreamKind;
use crate::kind::{Kind, Urgency};
use crate::numbering::Series;
use crate::sheet::Sheet;
use crate::todo::Assignee;

/// One recorded event of a flow: who, when, what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded<E> {
    /// The actor whose command produced it.
    pub actor: ActorId,
    /// The instant of that command.
    pub at: Timestamp,
    /// What happened.
    pub data: E,
}

/// A command to one stream of a flow, by one actor, at one instant. Time comes from the
/// caller, never from the core, so that deciding and folding stay deterministic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowCommand<A> {
    /// The stream (document) the command is for.
    pub document_id: DocumentId,
    /// Who gives the command.
    pub actor: ActorId,
    /// When it is given.
    pub at: Timestamp,
    /// What is asked.
    pub action: A,
}

/// The list dimensions a state appears under (lists by state, unit, kind and year).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The flow's name for the state, e.g. `InReview`.
    pub state: &'static str,
    /// Its 文种, if the flow has kinds.
    pub kind: Option<Kind>,
    /// The units it is listed under.
    pub units: Vec<UnitCode>,
    /// The year it is listed under.
    pub year: i32,
}

/// What people read of a state in lists and exports, in its flow's words: the console's
/// rows, the command line's `list` and the archive package iterate flows through it instead
/// of matching on them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Particulars<'a> {
    /// The stable name of its state or step (`InReview`, `Screening`), as exports write it.
    pub state: &'static str,
    /// The same in the office's words (审核中, 初审).
    pub state_label: &'static str,
    /// Its 文种, if the flow has kinds.
    pub kind: Option<Kind>,
    /// The unit it is with (the 收文's receiving unit, the 督办 item's lead unit), where the
    /// flow has one.
    pub unit: Option<&'a UnitCode>,
    /// Who it comes from, as a list's 单位 column shows it: a unit's code (the 发文's and
    /// 签报's own unit, the 督办 item's lead unit) or a 收文's 来文单位 as written.
    pub from: Option<&'a str>,
    /// Its 紧急程度, where the flow has one.
    pub urgency: Option<Urgency>,
    /// Its number as the office writes it (发文字号 once issued, 收文编号), if it has one.
    pub number: Option<String>,
    /// Its 办理时限, where the whole stream has one.
    pub deadline: Option<chrono::NaiveDate>,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Its archive record, once filed.
    pub archive: Option<&'a ArchiveRecord>,
    /// What a keyword search reads besides its title and number: the 正文, 来文单位 and
    /// 来文字号, 任务要求 — each flow says which of its words a person would look it up by.
    pub text: Vec<&'a str>,
}

/// A 催办 reminder a stream is due for (see [`Flow::reminder`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderDue<A> {
    /// Its idempotency key: the same for every sweep that finds the same overdue step
    /// (stream, round, stage, the stage's start, reminders so far), so it is sent once.
    pub key: String,
    /// The action that sends it, given by the system actor.
    pub action: A,
    /// Reminders the overdue step already had.
    pub reminders_before: u32,
}

/// What a reminder asks of those it reaches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reminding {
    /// 催办: a step is overdue (by hand, or the deadline sweep).
    #[default]
    Overdue,
    /// 催报: a progress report (a 督办 item's feedback) was not given in time.
    Feedback,
    /// 临近提醒: a deadline is near.
    Approaching,
}

impl Reminding {
    /// What it is called in a message's subject: 催办, 催报, 临近提醒.
    pub fn chinese(self) -> &'static str {
        match self {
            Reminding::Overdue => "催办",
            Reminding::Feedback => "催报",
            Reminding::Approaching => "临近提醒",
        }
    }
}

/// A reminder an event sent: which step, due when, waiting for whom, escalated to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderSent {
    /// What it asks.
    pub reminding: Reminding,
    /// The overdue stage (0-based).
    pub stage: usize,
    /// When it was due.
    pub due_at: Timestamp,
    /// Whom it waits for, as to-do keys.
    pub waiting_for: Vec<String>,
    /// The actor it was escalated to, if any.
    pub escalated_to: Option<ActorId>,
}

/// How an event closes its stream's record, for the fixity digest (the hash over the
/// stream's events before it) that verify recomputes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closing<'a> {
    /// It files the stream (归档) with the digest of the events before it (`None` in events
    /// written before digests were recorded).
    Filed(Option<&'a str>),
    /// It ends the stream without a digest (作废).
    Ended,
}

/// What a flow is, to the engine.
pub trait Flow {
    /// The kind of its streams.
    const KIND: StreamKind;
    /// The folded state of one stream.
    type State;
    /// What a caller asks.
    type Action: Clone;
    /// What happened.
    type Event: EventCodec;

    /// The field of its state's stored form holding its content — what its creator (or a
    /// revision) set, which commands seldom change (a 发文's `fields`, a 收文's
    /// `registration`) — if a store may keep it apart from the record it rewrites on every
    /// command; `None` by default: the state is stored whole.
    const CONTENT_FIELD: Option<&'static str> = None;
    /// The field holding its opinions, which only grow, if a store may keep them apart.
    const OPINIONS_FIELD: Option<&'static str> = None;

    /// A command's name, as used in messages and on the wire (`Draft`, `Register`, …).
    fn command_name(action: &Self::Action) -> &'static str;

    /// Decides `command` against `state` (`None` when the stream is empty): the events to
    /// append, in order, or why not. Pure: reads nothing but its arguments and `ctx`.
    fn decide(
        state: Option<&Self::State>,
        command: &FlowCommand<Self::Action>,
        ctx: &dyn Context,
    ) -> Result<Vec<Recorded<Self::Event>>, Error>;
    /// The state a stream's first event creates (`None` if it cannot start a stream).
    fn create(actor: &ActorId, at: Timestamp, event: &Self::Event) -> Option<Self::State>;
    /// Folds one more event, given by `actor` at `at`. Never fails: the event was decided
    /// against this state.
    fn apply(state: &mut Self::State, actor: &ActorId, at: Timestamp, event: &Self::Event);
    /// The stream's id.
    fn id(state: &Self::State) -> DocumentId;
    /// How many events made the state.
    fn version(state: &Self::State) -> u64;
    /// Its 密级 (readers need the clearance).
    fn classification(state: &Self::State) -> Classification;
    /// Whom the state waits for (its to-do entries); `is_unit` tells which free-text names
    /// are units of the directory.
    fn assignees(state: &Self::State, is_unit: &dyn Fn(&str) -> bool) -> Vec<Assignee>;
    /// The list dimensions it appears under (`None`: in no list, as the directory).
    fn listing(state: &Self::State) -> Option<Listing>;
    /// When its current step falls due, if it has a deadline (the deadline sweep's index).
    /// None by default: a flow without deadlines.
    fn due(_state: &Self::State) -> Option<Timestamp> {
        None
    }
    /// The 0-based index of the route stage it is at, for a flow that routes (发文, 签报)
    /// while it is in one; `None` by default. Forms send it, so that an action meant for one
    /// stage never lands on the next.
    fn current_stage(_state: &Self::State) -> Option<usize> {
        None
    }
    /// How many times its content was set (see [`Flow::CONTENT_FIELD`]): a store that keeps
    /// the content apart writes it again only when this changes. 0 by default.
    fn content_revision(_state: &Self::State) -> u32 {
        0
    }
    /// How many opinions it holds (see [`Flow::OPINIONS_FIELD`]). 0 by default.
    fn opinion_count(_state: &Self::State) -> usize {
        0
    }
    /// The 正文 file and attachments it names as a drafter set them (DESIGN §10), for a flow
    /// whose documents carry them; `None` by default.
    fn document_files(_state: &Self::State) -> Option<&crate::content::DocumentFiles> {
        None
    }
    /// The files it names, as (name, SHA-256 hex): the ones a reader may fetch through it.
    /// None by default.
    fn files(_state: &Self::State) -> Vec<(&str, &str)> {
        Vec::new()
    }
    /// Whether its current step is past its deadline at `now`. By default: past
    /// [`Flow::due`]; a flow whose due index also holds other instants (a 督办 item's
    /// feedback and warning) says what its deadline is.
    fn is_overdue(state: &Self::State, now: Timestamp) -> bool {
        Self::due(state).is_some_and(|due| now > due)
    }
    /// The number an event claims in a series, which the store keeps unique and gapless.
    /// None by default: a flow without numbers.
    fn number_claim(_event: &Self::Event) -> Option<(Series, u32)> {
        None
    }
    /// The 催办 reminder the state is due at `now`: its current step is past its deadline
    /// and was not reminded within `interval_hours`. The store's deadline sweep sends it.
    /// None by default: a flow without deadlines.
    fn reminder(
        _state: &Self::State,
        _now: Timestamp,
        _interval_hours: u32,
    ) -> Option<ReminderDue<Self::Action>> {
        None
    }
    /// The reminder an event sent, if it is one (none by default).
    fn reminded(_event: &Self::Event) -> Option<ReminderSent> {
        None
    }
    /// Whether an event is a 催办 by hand — a person reminding whoever has it to do, now —
    /// and whom it urges, as to-do keys (empty: whoever holds it). `None` by default; the
    /// sweep's are [`Flow::reminded`].
    fn urged_by_hand(_event: &Self::Event) -> Option<Vec<Assignee>> {
        None
    }
    /// How an event closes its stream's record, if it does (none by default).
    fn closing(_event: &Self::Event) -> Option<Closing<'_>> {
        None
    }
    /// The state's title, for people (reminders, lists).
    fn title(state: &Self::State) -> &str;
    /// What people read of it in lists and exports.
    fn particulars(state: &Self::State) -> Particulars<'_>;
    /// Its states or steps in flow order, each as (stable name, the office's word): what a
    /// search offers to filter by.
    fn steps() -> Vec<(&'static str, &'static str)> {
        Vec::new()
    }
    /// One event's particulars, in Chinese, for a timeline line (who and when are the
    /// envelope's), with people, units and dates as `names` shows them.
    fn summary(event: &Self::Event, names: &dyn crate::sheet::Names) -> String;
    /// Its form as the office reads it (稿纸, 批办单, 督办单). By default a bare record: a
    /// stream people do not handle as a document.
    fn sheet(_state: &Self::State) -> Sheet<'_> {
        Sheet::new("记录")
    }
}

impl<E> Recorded<E> {
    /// The same record with its data transformed (`None` drops it).
    pub fn filter_map<F>(self, f: impl FnOnce(E) -> Option<F>) -> Option<Recorded<F>> {
        Some(Recorded {
            actor: self.actor,
            at: self.at,
            data: f(self.data)?,
        })
    }
}
