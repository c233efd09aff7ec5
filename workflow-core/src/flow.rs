//! The flow boundary: what a flow (发文, 收文, 督办, the directory) is to the rest of the engine.
//!
//! A flow decides a command against the state of one stream, folds an event into that state,
//! and says what the projections index of a state: whom it waits for (to-do keys), the list
//! dimensions it appears under, and the deadline its current step is due by. The store keeps
//! every flow's streams through [`Flow`] and the dispatching enums below ([`FlowState`],
//! [`FlowAction`], [`FlowEvent`]); adding a flow is a module implementing [`Flow`] and one
//! variant in each enum.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::codec::{DecodeError, PayloadError};
use crate::context::Context;
use crate::directory::{
    Classification, DirectoryAction, DirectoryEvent, DirectoryState, DirectoryStream,
};
use crate::error::Error;
use crate::ids::{ActorId, DocumentId, Timestamp, UnitCode};
use crate::incoming::{Incoming, IncomingAction, IncomingEvent, Receipt};
use crate::kind::Kind;
use crate::numbering::Series;
use crate::outgoing::{self, Document};
use crate::supervision::{
    Item, Publication, PublicationAction, PublicationEvent, Publications, Supervision,
    SupervisionAction, SupervisionEvent,
};
use crate::todo::Assignee;

/// The kind of a stream in the log (DESIGN §4). Every event's envelope names it; events
/// written before kinds existed read as [`StreamKind::Outgoing`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum StreamKind {
    /// 发文: an outgoing document.
    #[default]
    Outgoing,
    /// 收文: an incoming document.
    Incoming,
    /// 督办: a supervision item.
    Supervision,
    /// The directory: units, actors, roles and clearances.
    Directory,
    /// A published bulletin (月通报).
    Bulletin,
}

impl StreamKind {
    /// The name stored in envelopes: `outgoing`, `incoming`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            StreamKind::Outgoing => "outgoing",
            StreamKind::Incoming => "incoming",
            StreamKind::Supervision => "supervision",
            StreamKind::Directory => "directory",
            StreamKind::Bulletin => "bulletin",
        }
    }
}

impl fmt::Display for StreamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

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

/// A reminder an event sent: which step, due when, waiting for whom, escalated to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderSent {
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
    type Action;
    /// What happened.
    type Event;

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
    /// How an event closes its stream's record, if it does (none by default).
    fn closing(_event: &Self::Event) -> Option<Closing<'_>> {
        None
    }
    /// The state's title, for people (reminders, lists).
    fn title(state: &Self::State) -> &str;
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
    /// The version that stream must be at (0: it must not exist yet).
    pub expected_version: u64,
    /// The instant of the event it reacts to.
    pub at: Timestamp,
    /// What it asks, given by the system actor.
    pub action: FlowAction,
}

/// The reactions an event asks for, given the state of its stream after it and its
/// position in the log: an 发文 acknowledged (签收) by a unit of the directory becomes that
/// unit's 收文 (DESIGN §3a), with the id [`crate::linked_receipt_id`] gives; a 批办 that asks
/// for supervision opens a 督办 item (DESIGN §3b), with the id
/// [`crate::supervision::linked_item_id`] gives.
pub fn reactions(state: &FlowState, event: &Recorded<FlowEvent>, position: u64) -> Vec<Reaction> {
    match (state, &event.data) {
        (
            FlowState::Outgoing(doc),
            FlowEvent::Outgoing(outgoing::EventData::Acknowledged { recipient }),
        ) => vec![Reaction {
            command_id: format!("link:{position}"),
            document_id: crate::incoming::linked_receipt_id(doc.id(), recipient),
            expected_version: 0,
            at: event.at,
            action: FlowAction::Incoming(crate::incoming::registration_for(
                doc, recipient, event.at,
            )),
        }],
        (
            FlowState::Incoming(receipt),
            FlowEvent::Incoming(IncomingEvent::Instructed {
                supervise: true, ..
            }),
        ) => crate::supervision::item_for(receipt)
            .map(|action| Reaction {
                command_id: format!("supervise:{position}"),
                document_id: crate::supervision::linked_item_id(receipt.id(), receipt.version()),
                expected_version: 0,
                at: event.at,
                action: FlowAction::Supervision(action),
            })
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

/// The state of a stream of any flow, as the store keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
// The document flows' states are the hot, large variants; boxing them would add an
// allocation to every command for the sake of the one small directory record.
#[allow(clippy::large_enum_variant)]
pub enum FlowState {
    /// 发文.
    Outgoing(Document),
    /// 收文.
    Incoming(Receipt),
    /// 督办.
    Supervision(Item),
    /// The directory.
    Directory(DirectoryState),
    /// A published 月通报.
    Bulletin(Publication),
}

/// A command's action, for a stream of any flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FlowAction {
    /// 发文.
    Outgoing(outgoing::Action),
    /// 收文.
    Incoming(IncomingAction),
    /// 督办.
    Supervision(SupervisionAction),
    /// The directory.
    Directory(DirectoryAction),
    /// A 月通报's publication.
    Bulletin(PublicationAction),
}

/// An event of a stream of any flow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum FlowEvent {
    /// 发文.
    Outgoing(outgoing::EventData),
    /// 收文.
    Incoming(IncomingEvent),
    /// 督办.
    Supervision(SupervisionEvent),
    /// The directory.
    Directory(DirectoryEvent),
    /// A 月通报's publication.
    Bulletin(PublicationEvent),
}

impl From<outgoing::Action> for FlowAction {
    fn from(a: outgoing::Action) -> Self {
        FlowAction::Outgoing(a)
    }
}

impl From<outgoing::EventData> for FlowEvent {
    fn from(e: outgoing::EventData) -> Self {
        FlowEvent::Outgoing(e)
    }
}

impl From<IncomingAction> for FlowAction {
    fn from(a: IncomingAction) -> Self {
        FlowAction::Incoming(a)
    }
}

impl From<IncomingEvent> for FlowEvent {
    fn from(e: IncomingEvent) -> Self {
        FlowEvent::Incoming(e)
    }
}

impl From<Receipt> for FlowState {
    fn from(r: Receipt) -> Self {
        FlowState::Incoming(r)
    }
}

impl From<SupervisionAction> for FlowAction {
    fn from(a: SupervisionAction) -> Self {
        FlowAction::Supervision(a)
    }
}

impl From<SupervisionEvent> for FlowEvent {
    fn from(e: SupervisionEvent) -> Self {
        FlowEvent::Supervision(e)
    }
}

impl From<Item> for FlowState {
    fn from(i: Item) -> Self {
        FlowState::Supervision(i)
    }
}

impl From<PublicationAction> for FlowAction {
    fn from(a: PublicationAction) -> Self {
        FlowAction::Bulletin(a)
    }
}

impl From<PublicationEvent> for FlowEvent {
    fn from(e: PublicationEvent) -> Self {
        FlowEvent::Bulletin(e)
    }
}

impl From<Publication> for FlowState {
    fn from(p: Publication) -> Self {
        FlowState::Bulletin(p)
    }
}

impl From<DirectoryAction> for FlowAction {
    fn from(a: DirectoryAction) -> Self {
        FlowAction::Directory(a)
    }
}

impl From<Document> for FlowState {
    fn from(d: Document) -> Self {
        FlowState::Outgoing(d)
    }
}

/// Runs `$body` with `$f` bound to the flow of a dispatching enum's variant.
macro_rules! each_flow {
    ($value:expr, $enum:ident, |$inner:ident| $body:expr) => {
        match $value {
            $enum::Outgoing($inner) => $body,
            $enum::Incoming($inner) => $body,
            $enum::Supervision($inner) => $body,
            $enum::Directory($inner) => $body,
            $enum::Bulletin($inner) => $body,
        }
    };
}

impl FlowAction {
    /// The kind of stream it is for.
    pub fn kind(&self) -> StreamKind {
        match self {
            FlowAction::Outgoing(_) => StreamKind::Outgoing,
            FlowAction::Incoming(_) => StreamKind::Incoming,
            FlowAction::Supervision(_) => StreamKind::Supervision,
            FlowAction::Directory(_) => StreamKind::Directory,
            FlowAction::Bulletin(_) => StreamKind::Bulletin,
        }
    }

    /// The command's name, as used in messages and on the wire.
    pub fn name(&self) -> &'static str {
        each_flow!(self, FlowAction, |a| a.name())
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

impl FlowEvent {
    /// The 发文 event it is, if it is one.
    pub fn into_outgoing(self) -> Option<outgoing::EventData> {
        match self {
            FlowEvent::Outgoing(e) => Some(e),
            _ => None,
        }
    }

    /// The 发文 event it is, if it is one.
    pub fn outgoing(&self) -> Option<&outgoing::EventData> {
        match self {
            FlowEvent::Outgoing(e) => Some(e),
            _ => None,
        }
    }

    /// The 收文 event it is, if it is one.
    pub fn incoming(&self) -> Option<&IncomingEvent> {
        match self {
            FlowEvent::Incoming(e) => Some(e),
            _ => None,
        }
    }

    /// The 督办 event it is, if it is one.
    pub fn supervision(&self) -> Option<&SupervisionEvent> {
        match self {
            FlowEvent::Supervision(e) => Some(e),
            _ => None,
        }
    }

    /// The 月通报 publication it is, if it is one.
    pub fn bulletin(&self) -> Option<&PublicationEvent> {
        match self {
            FlowEvent::Bulletin(e) => Some(e),
            _ => None,
        }
    }

    /// The directory event it is, if it is one.
    pub fn directory(&self) -> Option<&DirectoryEvent> {
        match self {
            FlowEvent::Directory(e) => Some(e),
            _ => None,
        }
    }

    /// The kind of stream it belongs to.
    pub fn kind(&self) -> StreamKind {
        match self {
            FlowEvent::Outgoing(_) => StreamKind::Outgoing,
            FlowEvent::Incoming(_) => StreamKind::Incoming,
            FlowEvent::Supervision(_) => StreamKind::Supervision,
            FlowEvent::Directory(_) => StreamKind::Directory,
            FlowEvent::Bulletin(_) => StreamKind::Bulletin,
        }
    }

    /// The stable type name stored in the log.
    pub fn type_name(&self) -> &'static str {
        each_flow!(self, FlowEvent, |e| e.type_name())
    }

    /// The step in the office's words, for timelines.
    pub fn step(&self) -> &'static str {
        each_flow!(self, FlowEvent, |e| e.step())
    }

    /// The payload alone, as stored in the envelope's `payload` field.
    pub fn payload(&self) -> serde_json::Value {
        each_flow!(self, FlowEvent, |e| e.payload())
    }

    /// The number it claims in a series, if any.
    pub fn number_claim(&self) -> Option<(Series, u32)> {
        match self {
            FlowEvent::Outgoing(e) => outgoing::Outgoing::number_claim(e),
            FlowEvent::Incoming(e) => Incoming::number_claim(e),
            FlowEvent::Supervision(e) => Supervision::number_claim(e),
            FlowEvent::Directory(e) => DirectoryStream::number_claim(e),
            FlowEvent::Bulletin(e) => Publications::number_claim(e),
        }
    }

    /// The reminder it sent, if it is one.
    pub fn reminded(&self) -> Option<ReminderSent> {
        match self {
            FlowEvent::Outgoing(e) => outgoing::Outgoing::reminded(e),
            FlowEvent::Incoming(e) => Incoming::reminded(e),
            FlowEvent::Supervision(e) => Supervision::reminded(e),
            FlowEvent::Directory(e) => DirectoryStream::reminded(e),
            FlowEvent::Bulletin(e) => Publications::reminded(e),
        }
    }

    /// How it closes its stream's record, if it does.
    pub fn closing(&self) -> Option<Closing<'_>> {
        match self {
            FlowEvent::Outgoing(e) => outgoing::Outgoing::closing(e),
            FlowEvent::Incoming(e) => Incoming::closing(e),
            FlowEvent::Supervision(e) => Supervision::closing(e),
            FlowEvent::Directory(e) => DirectoryStream::closing(e),
            FlowEvent::Bulletin(e) => Publications::closing(e),
        }
    }

    /// Decodes a stored event of a stream of `kind`, upcasting older schema versions.
    pub fn decode(
        kind: StreamKind,
        type_name: &str,
        version: u32,
        payload: &serde_json::Value,
    ) -> Result<Self, DecodeError> {
        match kind {
            StreamKind::Outgoing => {
                outgoing::EventData::decode_ref(type_name, version, payload).map(Self::Outgoing)
            }
            StreamKind::Incoming => {
                IncomingEvent::decode_ref(type_name, version, payload).map(Self::Incoming)
            }
            StreamKind::Supervision => {
                SupervisionEvent::decode_ref(type_name, version, payload).map(Self::Supervision)
            }
            StreamKind::Directory => {
                DirectoryEvent::decode_ref(type_name, version, payload).map(Self::Directory)
            }
            StreamKind::Bulletin => {
                PublicationEvent::decode_ref(type_name, version, payload).map(Self::Bulletin)
            }
        }
    }

    /// Reads a stored payload from any serde deserializer, given the stream's kind and the
    /// stored type and schema version (replay and verify decode in the same pass that reads
    /// the envelope).
    pub fn deserialize_payload<'de, D: serde::Deserializer<'de>>(
        kind: StreamKind,
        type_name: &str,
        version: u32,
        payload: D,
    ) -> Result<Self, PayloadError<D::Error>> {
        match kind {
            StreamKind::Outgoing => {
                outgoing::EventData::deserialize_payload(type_name, version, payload)
                    .map(Self::Outgoing)
            }
            StreamKind::Incoming => {
                IncomingEvent::deserialize_payload(type_name, version, payload).map(Self::Incoming)
            }
            StreamKind::Supervision => {
                SupervisionEvent::deserialize_payload(type_name, version, payload)
                    .map(Self::Supervision)
            }
            StreamKind::Directory => {
                DirectoryEvent::deserialize_payload(type_name, version, payload)
                    .map(Self::Directory)
            }
            StreamKind::Bulletin => {
                PublicationEvent::deserialize_payload(type_name, version, payload)
                    .map(Self::Bulletin)
            }
        }
    }
}

impl FlowState {
    /// The kind of the stream.
    pub fn kind(&self) -> StreamKind {
        match self {
            FlowState::Outgoing(_) => StreamKind::Outgoing,
            FlowState::Incoming(_) => StreamKind::Incoming,
            FlowState::Supervision(_) => StreamKind::Supervision,
            FlowState::Directory(_) => StreamKind::Directory,
            FlowState::Bulletin(_) => StreamKind::Bulletin,
        }
    }

    /// The 催办 reminder it is due at `now` (see [`Flow::reminder`]).
    pub fn reminder(&self, now: Timestamp, interval_hours: u32) -> Option<ReminderDue<FlowAction>> {
        match self {
            FlowState::Outgoing(d) => {
                outgoing::Outgoing::reminder(d, now, interval_hours).map(|r| ReminderDue {
                    key: r.key,
                    action: FlowAction::Outgoing(r.action),
                    reminders_before: r.reminders_before,
                })
            }
            FlowState::Incoming(r) => {
                Incoming::reminder(r, now, interval_hours).map(|r| ReminderDue {
                    key: r.key,
                    action: FlowAction::Incoming(r.action),
                    reminders_before: r.reminders_before,
                })
            }
            FlowState::Supervision(i) => {
                Supervision::reminder(i, now, interval_hours).map(|r| ReminderDue {
                    key: r.key,
                    action: FlowAction::Supervision(r.action),
                    reminders_before: r.reminders_before,
                })
            }
            FlowState::Directory(_) | FlowState::Bulletin(_) => None,
        }
    }

    /// Its title, for people.
    pub fn title(&self) -> &str {
        match self {
            FlowState::Outgoing(d) => outgoing::Outgoing::title(d),
            FlowState::Incoming(r) => Incoming::title(r),
            FlowState::Supervision(i) => Supervision::title(i),
            FlowState::Directory(d) => DirectoryStream::title(d),
            FlowState::Bulletin(p) => Publications::title(p),
        }
    }

    /// The 发文 document, if this is one.
    pub fn outgoing(&self) -> Option<&Document> {
        match self {
            FlowState::Outgoing(d) => Some(d),
            _ => None,
        }
    }

    /// The 收文, if this is one.
    pub fn incoming(&self) -> Option<&Receipt> {
        match self {
            FlowState::Incoming(r) => Some(r),
            _ => None,
        }
    }

    /// The 督办 item, if this is one.
    pub fn supervision(&self) -> Option<&Item> {
        match self {
            FlowState::Supervision(i) => Some(i),
            _ => None,
        }
    }

    /// The 督办 item, if this is one, by value.
    pub fn into_supervision(self) -> Option<Item> {
        match self {
            FlowState::Supervision(i) => Some(i),
            _ => None,
        }
    }

    /// The published 月通报, if this is one.
    pub fn bulletin(&self) -> Option<&Publication> {
        match self {
            FlowState::Bulletin(p) => Some(p),
            _ => None,
        }
    }

    /// The directory, if this is its stream.
    pub fn directory(&self) -> Option<&DirectoryState> {
        match self {
            FlowState::Directory(d) => Some(d),
            _ => None,
        }
    }

    /// The 发文 document, if this is one, by value.
    pub fn into_outgoing(self) -> Option<Document> {
        match self {
            FlowState::Outgoing(d) => Some(d),
            _ => None,
        }
    }

    /// The 收文, if this is one, by value.
    pub fn into_incoming(self) -> Option<Receipt> {
        match self {
            FlowState::Incoming(r) => Some(r),
            _ => None,
        }
    }

    /// The state a stream's first event creates.
    pub fn create(event: &Recorded<FlowEvent>) -> Option<FlowState> {
        match &event.data {
            FlowEvent::Outgoing(data) => {
                outgoing::Outgoing::create(&event.actor, event.at, data).map(FlowState::Outgoing)
            }
            FlowEvent::Incoming(data) => {
                Incoming::create(&event.actor, event.at, data).map(FlowState::Incoming)
            }
            FlowEvent::Supervision(data) => {
                Supervision::create(&event.actor, event.at, data).map(FlowState::Supervision)
            }
            FlowEvent::Directory(data) => {
                DirectoryStream::create(&event.actor, event.at, data).map(FlowState::Directory)
            }
            FlowEvent::Bulletin(data) => {
                Publications::create(&event.actor, event.at, data).map(FlowState::Bulletin)
            }
        }
    }

    /// Folds one more event of the same stream (an event of another flow is ignored: it
    /// cannot have been decided against this state).
    pub fn apply(&mut self, event: &Recorded<FlowEvent>) {
        match (self, &event.data) {
            (FlowState::Outgoing(d), FlowEvent::Outgoing(data)) => {
                outgoing::Outgoing::apply(d, &event.actor, event.at, data);
            }
            (FlowState::Incoming(r), FlowEvent::Incoming(data)) => {
                Incoming::apply(r, &event.actor, event.at, data);
            }
            (FlowState::Supervision(i), FlowEvent::Supervision(data)) => {
                Supervision::apply(i, &event.actor, event.at, data);
            }
            (FlowState::Directory(d), FlowEvent::Directory(data)) => {
                DirectoryStream::apply(d, &event.actor, event.at, data);
            }
            (FlowState::Bulletin(p), FlowEvent::Bulletin(data)) => {
                Publications::apply(p, &event.actor, event.at, data);
            }
            // Decided against this state, an event is always of its flow.
            _ => {}
        }
    }

    /// The stream's id.
    pub fn id(&self) -> DocumentId {
        each_state!(self, |F, s| F::id(s))
    }

    /// How many events made it.
    pub fn version(&self) -> u64 {
        each_state!(self, |F, s| F::version(s))
    }

    /// Its 密级.
    pub fn classification(&self) -> Classification {
        each_state!(self, |F, s| F::classification(s))
    }

    /// Whom it waits for.
    pub fn assignees(&self, is_unit: &dyn Fn(&str) -> bool) -> Vec<Assignee> {
        each_state!(self, |F, s| F::assignees(s, is_unit))
    }

    /// The list dimensions it appears under, if it is listed.
    pub fn listing(&self) -> Option<Listing> {
        each_state!(self, |F, s| F::listing(s))
    }

    /// When its current step falls due.
    pub fn due(&self) -> Option<Timestamp> {
        each_state!(self, |F, s| F::due(s))
    }

    /// Whether it is past its deadline at `now` (what `overdue` lists filter on).
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        each_state!(self, |F, s| F::is_overdue(s, now))
    }
}

/// Runs `$body` with `$flow` naming the flow type of a state's variant and `$s` its state.
macro_rules! each_state {
    ($value:expr, |$flow:ident, $s:ident| $body:expr) => {
        match $value {
            FlowState::Outgoing($s) => {
                type $flow = outgoing::Outgoing;
                $body
            }
            FlowState::Incoming($s) => {
                type $flow = Incoming;
                $body
            }
            FlowState::Supervision($s) => {
                type $flow = Supervision;
                $body
            }
            FlowState::Directory($s) => {
                type $flow = DirectoryStream;
                $body
            }
            FlowState::Bulletin($s) => {
                type $flow = Publications;
                $body
            }
        }
    };
}
use each_state;

/// Decides one flow's command against its state, as the dispatching types.
fn decide_as<F: Flow>(
    state: Option<&F::State>,
    command: &FlowCommand<FlowAction>,
    action: &F::Action,
    ctx: &dyn Context,
    wrap: fn(F::Event) -> FlowEvent,
) -> Result<Vec<Recorded<FlowEvent>>, Error>
where
    F::Action: Clone,
{
    let own = FlowCommand {
        document_id: command.document_id,
        actor: command.actor.clone(),
        at: command.at,
        action: action.clone(),
    };
    Ok(F::decide(state, &own, ctx)?
        .into_iter()
        .map(|e| Recorded {
            actor: e.actor,
            at: e.at,
            data: wrap(e.data),
        })
        .collect())
}

/// Decides a command for a stream of any flow against its state (`None` when the stream
/// is empty). A command for one flow against another flow's stream is refused.
pub fn decide(
    state: Option<&FlowState>,
    command: &FlowCommand<FlowAction>,
    ctx: &dyn Context,
) -> Result<Vec<Recorded<FlowEvent>>, Error> {
    let mismatch = |state: &FlowState| {
        Err(Error::field(
            "document_id",
            format!(
                "{} is a {} stream; {} is a command for {} streams",
                command.document_id,
                state.kind(),
                command.action.name(),
                command.action.kind()
            ),
        ))
    };
    match (&command.action, state) {
        (FlowAction::Outgoing(action), None | Some(FlowState::Outgoing(_))) => {
            decide_as::<outgoing::Outgoing>(
                state.and_then(FlowState::outgoing),
                command,
                action,
                ctx,
                FlowEvent::Outgoing,
            )
        }
        (FlowAction::Incoming(action), None | Some(FlowState::Incoming(_))) => {
            decide_as::<Incoming>(
                state.and_then(FlowState::incoming),
                command,
                action,
                ctx,
                FlowEvent::Incoming,
            )
        }
        (FlowAction::Supervision(action), None | Some(FlowState::Supervision(_))) => {
            decide_as::<Supervision>(
                state.and_then(FlowState::supervision),
                command,
                action,
                ctx,
                FlowEvent::Supervision,
            )
        }
        (FlowAction::Directory(action), None | Some(FlowState::Directory(_))) => {
            decide_as::<DirectoryStream>(
                state.and_then(FlowState::directory),
                command,
                action,
                ctx,
                FlowEvent::Directory,
            )
        }
        (FlowAction::Bulletin(action), None | Some(FlowState::Bulletin(_))) => {
            decide_as::<Publications>(
                state.and_then(FlowState::bulletin),
                command,
                action,
                ctx,
                FlowEvent::Bulletin,
            )
        }
        (_, Some(other)) => mismatch(other),
    }
}
