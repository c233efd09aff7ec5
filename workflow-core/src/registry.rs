//! The registry: every flow of the engine, in one table, and the dispatch over them.
//!
//! The store keeps streams of every flow in one log and one set of projections, so it holds
//! their states, actions and events as the enums below ([`FlowState`], [`FlowAction`],
//! [`FlowEvent`]), one variant per flow, each named after the flow's [`StreamKind`]. The
//! `flows!` table at the bottom is the one dispatch over the flows: it declares the enums,
//! their conversions, and every dispatching method, each written once over all flows.
//! Adding a flow is a module implementing [`Flow`], its [`StreamKind`] variant, and one line
//! in the table (ARCHITECTURE.md's recipe lists what else a flow brings: its RPCs, its
//! console forms, its parts).

use serde::{Deserialize, Serialize};

use crate::codec::{DecodeError, EventCodec, PayloadError};
use crate::context::Context;
use crate::directory::Classification;
use crate::error::Error;
use crate::flow::{
    Closing, Flow, FlowCommand, Listing, Particulars, Recorded, ReminderDue, ReminderSent,
    StreamKind,
};
use crate::ids::{DocumentId, Timestamp};
use crate::numbering::Series;
use crate::sheet::Sheet;
use crate::todo::Assignee;

/// A flow of the table, as the dispatching enums hold it: how to find its state, action and
/// event inside them. Implemented by the table for every flow, and only there.
pub trait Registered: Flow {
    /// Its state, if `state` is one of its streams.
    fn state(state: &FlowState) -> Option<&Self::State>;
    /// Its state, by value.
    fn into_state(state: FlowState) -> Option<Self::State>;
    /// Its event, if `event` is one of its events.
    fn event(event: &FlowEvent) -> Option<&Self::Event>;
    /// Its event, by value.
    fn into_event(event: FlowEvent) -> Option<Self::Event>;
}

/// Decides one flow's command against its state, as the dispatching types.
fn decide_as<F: Flow>(
    state: Option<&F::State>,
    command: &FlowCommand<FlowAction>,
    action: &F::Action,
    ctx: &dyn Context,
) -> Result<Vec<Recorded<FlowEvent>>, Error>
where
    F::Event: Into<FlowEvent>,
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
            data: e.data.into(),
        })
        .collect())
}

/// A command for a stream of another flow, refused naming both.
fn mismatch(state: &FlowState, command: &FlowCommand<FlowAction>) -> Error {
    Error::field(
        "document_id",
        format!(
            "{} is a {} stream; {} is a command for {} streams",
            command.document_id,
            state.kind(),
            command.action.name(),
            command.action.kind()
        ),
    )
}

// Declares the dispatching enums and their methods over the flows listed, each given as
// `Variant(FlowType) as accessor, into_accessor;`, `Variant` being the flow's `StreamKind`
// variant (so that matching on a kind covers the table).
macro_rules! flows {
    ($( $(#[$doc:meta])* $variant:ident($flow:ty) as $get:ident, $into:ident; )*) => {
        /// The state of a stream of any flow, as the store keeps it.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        // The document flows' states are the hot, large variants; boxing them would add an
        // allocation to every command for the sake of the one small directory record.
        #[allow(clippy::large_enum_variant)]
        pub enum FlowState {
            $( $(#[$doc])* $variant(<$flow as Flow>::State), )*
        }

        /// A command's action, for a stream of any flow.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(untagged)]
        pub enum FlowAction {
            $( $(#[$doc])* $variant(<$flow as Flow>::Action), )*
        }

        /// An event of a stream of any flow.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(untagged)]
        pub enum FlowEvent {
            $( $(#[$doc])* $variant(<$flow as Flow>::Event), )*
        }

        $(
            impl From<<$flow as Flow>::State> for FlowState {
                fn from(s: <$flow as Flow>::State) -> Self {
                    FlowState::$variant(s)
                }
            }

            impl From<<$flow as Flow>::Action> for FlowAction {
                fn from(a: <$flow as Flow>::Action) -> Self {
                    FlowAction::$variant(a)
                }
            }

            impl From<<$flow as Flow>::Event> for FlowEvent {
                fn from(e: <$flow as Flow>::Event) -> Self {
                    FlowEvent::$variant(e)
                }
            }

            impl Registered for $flow {
                fn state(state: &FlowState) -> Option<&Self::State> {
                    match state {
                        FlowState::$variant(s) => Some(s),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
                fn into_state(state: FlowState) -> Option<Self::State> {
                    match state {
                        FlowState::$variant(s) => Some(s),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
                fn event(event: &FlowEvent) -> Option<&Self::Event> {
                    match event {
                        FlowEvent::$variant(e) => Some(e),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
                fn into_event(event: FlowEvent) -> Option<Self::Event> {
                    match event {
                        FlowEvent::$variant(e) => Some(e),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
            }
        )*

        impl FlowAction {
            /// The kind of stream it is for.
            pub fn kind(&self) -> StreamKind {
                match self {
                    $( FlowAction::$variant(_) => <$flow as Flow>::KIND, )*
                }
            }

            /// The command's name, as used in messages and on the wire.
            pub fn name(&self) -> &'static str {
                match self {
                    $( FlowAction::$variant(a) => <$flow as Flow>::command_name(a), )*
                }
            }
        }

        impl FlowEvent {
            $(
                #[doc = concat!("The event, if it is one of [`", stringify!($flow), "`]'s.")]
                pub fn $get(&self) -> Option<&<$flow as Flow>::Event> {
                    <$flow as Registered>::event(self)
                }

                #[doc = concat!("The event, if it is one of [`", stringify!($flow), "`]'s, by value.")]
                pub fn $into(self) -> Option<<$flow as Flow>::Event> {
                    <$flow as Registered>::into_event(self)
                }
            )*

            /// The kind of stream it belongs to.
            pub fn kind(&self) -> StreamKind {
                match self {
                    $( FlowEvent::$variant(_) => <$flow as Flow>::KIND, )*
                }
            }

            /// The stable type name stored in the log.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $( FlowEvent::$variant(e) => e.type_name(), )*
                }
            }

            /// The step in the office's words, for timelines.
            pub fn step(&self) -> &'static str {
                match self {
                    $( FlowEvent::$variant(e) => e.step(), )*
                }
            }

            /// The payload alone, as stored in the envelope's `payload` field.
            pub fn payload(&self) -> serde_json::Value {
                match self {
                    $( FlowEvent::$variant(e) => e.payload(), )*
                }
            }

            /// Its particulars, in Chinese, for a timeline line.
            pub fn summary(&self, names: &dyn crate::sheet::Names) -> String {
                match self {
                    $( FlowEvent::$variant(e) => <$flow as Flow>::summary(e, names), )*
                }
            }

            /// The number it claims in a series, if any.
            pub fn number_claim(&self) -> Option<(Series, u32)> {
                match self {
                    $( FlowEvent::$variant(e) => <$flow as Flow>::number_claim(e), )*
                }
            }

            /// Whether it is a 催办 by hand, and whom it urges (see [`Flow::urged_by_hand`]).
            pub fn urged_by_hand(&self) -> Option<Vec<Assignee>> {
                match self {
                    $( FlowEvent::$variant(e) => <$flow as Flow>::urged_by_hand(e), )*
                }
            }

            /// The reminder it sent, if it is one.
            pub fn reminded(&self) -> Option<ReminderSent> {
                match self {
                    $( FlowEvent::$variant(e) => <$flow as Flow>::reminded(e), )*
                }
            }

            /// How it closes its stream's record, if it does.
            pub fn closing(&self) -> Option<Closing<'_>> {
                match self {
                    $( FlowEvent::$variant(e) => <$flow as Flow>::closing(e), )*
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
                    $(
                        StreamKind::$variant => {
                            <<$flow as Flow>::Event as EventCodec>::decode_ref(
                                type_name, version, payload,
                            )
                            .map(FlowEvent::$variant)
                        }
                    )*
                }
            }

            /// Reads a stored payload from any serde deserializer, given the stream's kind
            /// and the stored type and schema version (replay and verify decode in the same
            /// pass that reads the envelope).
            pub fn deserialize_payload<'de, D: serde::Deserializer<'de>>(
                kind: StreamKind,
                type_name: &str,
                version: u32,
                payload: D,
            ) -> Result<Self, PayloadError<D::Error>> {
                match kind {
                    $(
                        StreamKind::$variant => {
                            <<$flow as Flow>::Event as EventCodec>::deserialize_payload(
                                type_name, version, payload,
                            )
                            .map(FlowEvent::$variant)
                        }
                    )*
                }
            }
        }

        impl FlowState {
            $(
                #[doc = concat!("The state, if this is a stream of [`", stringify!($flow), "`].")]
                pub fn $get(&self) -> Option<&<$flow as Flow>::State> {
                    <$flow as Registered>::state(self)
                }

                #[doc = concat!("The state, if this is a stream of [`", stringify!($flow), "`], by value.")]
                pub fn $into(self) -> Option<<$flow as Flow>::State> {
                    <$flow as Registered>::into_state(self)
                }
            )*

            /// The kind of the stream.
            pub fn kind(&self) -> StreamKind {
                match self {
                    $( FlowState::$variant(_) => <$flow as Flow>::KIND, )*
                }
            }

            /// The state a stream's first event creates.
            pub fn create(event: &Recorded<FlowEvent>) -> Option<FlowState> {
                match &event.data {
                    $(
                        FlowEvent::$variant(data) => {
                            <$flow as Flow>::create(&event.actor, event.at, data)
                                .map(FlowState::$variant)
                        }
                    )*
                }
            }

            /// Folds one more event of the same stream (an event of another flow is
            /// ignored: it cannot have been decided against this state).
            pub fn apply(&mut self, event: &Recorded<FlowEvent>) {
                match (self, &event.data) {
                    $(
                        (FlowState::$variant(s), FlowEvent::$variant(data)) => {
                            <$flow as Flow>::apply(s, &event.actor, event.at, data);
                        }
                    )*
                    // Decided against this state, an event is always of its flow.
                    #[allow(unreachable_patterns)]
                    _ => {}
                }
            }

            /// The 催办 reminder it is due at `now` (see [`Flow::reminder`]).
            pub fn reminder(
                &self,
                now: Timestamp,
                interval_hours: u32,
            ) -> Option<ReminderDue<FlowAction>> {
                match self {
                    $(
                        FlowState::$variant(s) => <$flow as Flow>::reminder(s, now, interval_hours)
                            .map(|r| ReminderDue {
                                key: r.key,
                                action: FlowAction::$variant(r.action),
                                reminders_before: r.reminders_before,
                            }),
                    )*
                }
            }

            /// Its form as the office reads it.
            pub fn sheet(&self) -> Sheet<'_> {
                match self {
                    $( FlowState::$variant(s) => <$flow as Flow>::sheet(s), )*
                }
            }

            /// What people read of it in lists and exports.
            pub fn particulars(&self) -> Particulars<'_> {
                match self {
                    $( FlowState::$variant(s) => <$flow as Flow>::particulars(s), )*
                }
            }

            /// The flow's own state as JSON, without the flow's tag around it (what an
            /// archive package's `document.json` and `workflow list --json` hold).
            pub fn to_json(&self, pretty: bool) -> serde_json::Result<Vec<u8>> {
                match self {
                    $(
                        FlowState::$variant(s) if pretty => serde_json::to_vec_pretty(s),
                        FlowState::$variant(s) => serde_json::to_vec(s),
                    )*
                }
            }

            /// Reads back what [`FlowState::to_json`] wrote of a stream of `kind`.
            pub fn from_json(kind: StreamKind, json: &[u8]) -> serde_json::Result<FlowState> {
                match kind {
                    $(
                        StreamKind::$variant => serde_json::from_slice(json).map(FlowState::$variant),
                    )*
                }
            }

            /// Its title, for people.
            pub fn title(&self) -> &str {
                match self {
                    $( FlowState::$variant(s) => <$flow as Flow>::title(s), )*
                }
            }

            /// The stream's id.
            pub fn id(&self) -> DocumentId {
                match self {
                    $( FlowState::$variant(s) => <$flow as Flow>::id(s), )*
                }
            }

            /// How many events made it.
            pub fn version(&self) -> u64 {
                match self {
                    $( FlowState::$variant(s) => <$flow as Flow>::version(s), )*
                }
            }

            /// Its 密级.
            pub fn classification(&self) -> Classification {
                match self {
                    $( FlowState::$variant(s) => <$flow as Flow>::classification(s), )*
                }
            }

            /// Whom it waits for.
            pub fn assignees(&self, is_unit: &dyn Fn(&str) -> bool) -> Vec<Assignee> {
                match self {
                    $( FlowState::$variant(s) => <$flow as Flow>::assignees(s, is_unit), )*
                }
            }

            /// The list dimensions it appears under, if it is listed.
            pub fn listing(&self) -> Option<Listing> {
                match self {
                    $( FlowState::$variant(s) => <$flow as Flow>::listing(s), )*
                }
            }

            /// The states or steps of the flow of `kind`, in flow order: (stable name, the
            /// office's word).
            pub fn steps(kind: StreamKind) -> Vec<(&'static str, &'static str)> {
                match kind {
                    $( StreamKind::$variant => <$flow as Flow>::steps(), )*
                }
            }

            /// The fields of its stored form a store may keep apart: its content's and its
            /// opinions' (see [`Flow::CONTENT_FIELD`]).
            pub fn parts_fields(kind: StreamKind) -> (Option<&'static str>, Option<&'static str>) {
                match kind {
                    $(
                        StreamKind::$variant => (
                            <$flow as Flow>::CONTENT_FIELD,
                            <$flow as Flow>::OPINIONS_FIELD,
                        ),
                    )*
                }
            }

            /// The field of its stored form holding its content, if a store may keep it apart.
            pub fn content_field(&self) -> Option<&'static str> {
                Self::parts_fields(self.kind()).0
            }

            /// The field of its stored form holding its opinions, if a store may keep them
            /// apart.
            pub fn opinions_field(&self) -> Option<&'static str> {
                Self::parts_fields(self.kind()).1
            }

            /// How many times its content was set (see [`Flow::content_revision`]).
            pub fn content_revision(&self) -> u32 {
                match self {
                    $( FlowState::$variant(s) => <$flow as Flow>::content_revision(s), )*
                }
            }

            /// Its 正文 file and attachments (see [`Flow::document_files`]).
            pub fn document_files(&self) -> Option<&crate::content::DocumentFiles> {
                match self {
                    $( FlowState::$variant(s) => <$flow as Flow>::document_files(s), )*
                }
            }

            /// The files it names, as (name, SHA-256 hex) (see [`Flow::files`]).
            pub fn files(&self) -> Vec<(&str, &str)> {
                match self {
                    $( FlowState::$variant(s) => <$flow as Flow>::files(s), )*
                }
            }

            /// How many opinions it holds.
            pub fn opinion_count(&self) -> usize {
                match self {
                    $( FlowState::$variant(s) => <$flow as Flow>::opinion_count(s), )*
                }
            }

            /// The route stage it is at, for a flow that routes (see [`Flow::current_stage`]).
            pub fn current_stage(&self) -> Option<usize> {
                match self {
                    $( FlowState::$variant(s) => <$flow as Flow>::current_stage(s), )*
                }
            }

            /// When its current step falls due.
            pub fn due(&self) -> Option<Timestamp> {
                match self {
                    $( FlowState::$variant(s) => <$flow as Flow>::due(s), )*
                }
            }

            /// Whether it is past its deadline at `now` (what `overdue` lists filter on).
            pub fn is_overdue(&self, now: Timestamp) -> bool {
                match self {
                    $( FlowState::$variant(s) => <$flow as Flow>::is_overdue(s, now), )*
                }
            }
        }

        /// Decides a command for a stream of any flow against its state (`None` when the
        /// stream is empty). A command for one flow against another flow's stream is refused.
        pub fn decide(
            state: Option<&FlowState>,
            command: &FlowCommand<FlowAction>,
            ctx: &dyn Context,
        ) -> Result<Vec<Recorded<FlowEvent>>, Error> {
            match &command.action {
                $(
                    FlowAction::$variant(action) => {
                        let own = match state {
                            None => None,
                            Some(FlowState::$variant(s)) => Some(s),
                            #[allow(unreachable_patterns)]
                            Some(other) => return Err(mismatch(other, command)),
                        };
                        decide_as::<$flow>(own, command, action, ctx)
                    }
                )*
            }
        }

        #[cfg(test)]
        mod table {
            use super::*;

            /// Each flow sits under its own kind's variant, in `StreamKind::ALL`'s order (the
            /// compiler sees that every kind has one: `FlowEvent::decode` matches on them).
            #[test]
            fn one_flow_per_kind() {
                let table = [$( <$flow as Flow>::KIND, )*];
                assert_eq!(table, StreamKind::ALL);
                $( assert_eq!(<$flow as Flow>::KIND, StreamKind::$variant); )*
            }
        }
    };
}

flows! {
    /// 发文.
    Outgoing(crate::outgoing::Outgoing) as outgoing, into_outgoing;
    /// 收文.
    Incoming(crate::incoming::Incoming) as incoming, into_incoming;
    /// 督办.
    Supervision(crate::supervision::Supervision) as supervision, into_supervision;
    /// 签报.
    Submission(crate::submission::Submission) as submission, into_submission;
    /// The directory.
    Directory(crate::directory::DirectoryStream) as directory, into_directory;
    /// A published 月通报.
    Bulletin(crate::supervision::Publications) as bulletin, into_bulletin;
}
