//! A given/when/then driver for the pure core, one for every flow: streams taken through
//! commands by the flow's `decide` against an in-memory [`Directory`], with a clock that
//! moves one hour a step. No store: what the core decides, and nothing else.

use chrono::Duration;
use uuid::Uuid;
use workflow_core::{
    ActorId, Directory, DocumentId, Error, Flow, FlowCommand, Recorded, Timestamp,
    outgoing::Action, outgoing::Document, outgoing::DraftFields, outgoing::Outgoing,
    outgoing::State,
};

use crate::{Sample, sample, steps};

/// A flow's streams driven through commands in the pure core, against an in-memory
/// [`Directory`], with a clock that moves one hour a step. Steps that must succeed panic
/// with the rejection; steps that must fail check that they changed nothing. [`Script`]
/// (发文), [`crate::incoming::ReceiptScript`] (收文) and
/// [`crate::supervision::ItemScript`] (督办) add their flow's sample steps.
pub struct FlowScript<F: Scripted> {
    /// The directory commands are decided against (add actors and units to it freely).
    pub dir: Directory,
    /// The current stream.
    pub id: DocumentId,
    /// Its state, once its first command made it.
    pub state: Option<F::State>,
    /// Its events so far.
    pub events: Vec<Recorded<F::Event>>,
    /// The instant the next command is given at.
    pub clock: Timestamp,
    /// The fixture's sample for this flow.
    pub sample: F::Sample,
    next_id: u128,
}

/// A flow the test kit drives: its sample, and where its scripts start.
pub trait Scripted: Flow {
    /// The fixture's sample of the flow (its fields, people and steps).
    type Sample;
    /// What its first command makes, for a panic before it: "document drafted", ….
    const MADE: &'static str;
    /// The id of the first stream a script drives (the next ones count up from it).
    const FIRST_ID: u128;
    /// The sample.
    fn sample() -> Self::Sample;
    /// When a script's first command is given.
    fn start() -> Timestamp;
}

impl Scripted for Outgoing {
    type Sample = Sample;
    const MADE: &'static str = "document drafted";
    const FIRST_ID: u128 = 1;
    fn sample() -> Sample {
        sample()
    }
    fn start() -> Timestamp {
        crate::engine::start_of_term()
    }
}

impl<F: Scripted> std::fmt::Debug for FlowScript<F>
where
    F::State: std::fmt::Debug,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowScript")
            .field("id", &self.id)
            .field("state", &self.state)
            .field("events", &self.events.len())
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl<F: Scripted> FlowScript<F>
where
    F::State: Clone + PartialEq + std::fmt::Debug,
    F::Event: Clone,
{
    /// On a directory of the caller's, at the flow's start.
    pub fn with_directory(dir: Directory) -> Self {
        FlowScript {
            dir,
            id: DocumentId(Uuid::from_u128(F::FIRST_ID)),
            state: None,
            events: Vec::new(),
            clock: F::start(),
            sample: F::sample(),
            next_id: F::FIRST_ID + 1,
        }
    }

    /// Starts on a fresh stream, keeping directory, numbering and clock.
    pub fn next_stream(&mut self) -> &mut Self {
        self.id = DocumentId(Uuid::from_u128(self.next_id));
        self.next_id += 1;
        self.state = None;
        self.events.clear();
        self
    }

    /// Gives a command; its events are applied and recorded, the numbers they claim are
    /// taken in the directory.
    pub fn run(
        &mut self,
        actor: &str,
        action: F::Action,
    ) -> Result<Vec<Recorded<F::Event>>, Error> {
        let cmd = FlowCommand {
            document_id: self.id,
            actor: actor.into(),
            at: self.clock,
            action,
        };
        self.clock = self
            .clock
            .checked_add_signed(Duration::hours(1))
            .unwrap_or(self.clock);
        let events = F::decide(self.state.as_ref(), &cmd, &self.dir)?;
        for e in &events {
            match self.state.as_mut() {
                Some(s) => F::apply(s, &e.actor, e.at, &e.data),
                None => self.state = F::create(&e.actor, e.at, &e.data),
            }
        }
        self.dir
            .record_numbers(events.iter().filter_map(|e| F::number_claim(&e.data)));
        self.events.extend(events.iter().cloned());
        Ok(events)
    }

    /// Gives a command that must succeed.
    #[track_caller]
    pub fn ok(&mut self, actor: &str, action: F::Action) -> &mut Self {
        let name = F::command_name(&action);
        if let Err(e) = self.run(actor, action) {
            panic!("{actor} {name} should succeed but: {e}");
        }
        self
    }

    /// Gives a command that must be rejected, checks that it changed nothing, and returns
    /// the rejection.
    #[track_caller]
    pub fn err(&mut self, actor: &str, action: F::Action) -> Error {
        let before = self.state.clone();
        let n = self.events.len();
        let name = F::command_name(&action);
        match self.run(actor, action) {
            Ok(_) => panic!("{actor} {name} should be rejected"),
            Err(e) => {
                assert_eq!(self.state, before, "a rejected command changed the state");
                assert_eq!(self.events.len(), n, "a rejected command recorded events");
                e
            }
        }
    }

    /// The current stream's state (panics before its first command).
    #[track_caller]
    pub fn current(&self) -> &F::State {
        match self.state.as_ref() {
            Some(s) => s,
            None => panic!("no {} yet", F::MADE),
        }
    }

    /// Its state folded again from its events alone.
    pub fn fold(&self) -> Option<F::State> {
        let mut it = self.events.iter();
        let first = it.next()?;
        let mut s = F::create(&first.actor, first.at, &first.data)?;
        for e in it {
            F::apply(&mut s, &e.actor, e.at, &e.data);
        }
        Some(s)
    }
}

/// 发文 driven through commands (see [`FlowScript`]), with the sample document's steps.
pub type Script = FlowScript<Outgoing>;

impl Default for Script {
    fn default() -> Self {
        Self::new()
    }
}

impl Script {
    /// On the fixture's directory, at 2026-11-02 09:00 CST.
    pub fn new() -> Self {
        Self::with_directory(crate::directory())
    }

    /// Starts on a fresh document, keeping directory, numbering and clock.
    pub fn next_document(&mut self) {
        self.next_stream();
    }

    /// The current document (panics before it is drafted).
    #[track_caller]
    pub fn doc(&self) -> &Document {
        self.current()
    }

    /// Its state.
    #[track_caller]
    pub fn state(&self) -> State {
        self.doc().state()
    }

    /// Takes the current document through the sample flow's steps `from..to` (see
    /// [`steps`]).
    #[track_caller]
    pub fn steps(&mut self, from: usize, to: usize) -> &mut Self {
        let flow: Vec<(ActorId, Action)> = self.sample.flow(&self.dir);
        for (actor, action) in flow.into_iter().take(to).skip(from) {
            self.ok(actor.as_str(), action);
        }
        self
    }

    /// Drafted with the sample's fields.
    #[track_caller]
    pub fn drafted(&mut self) -> &mut Self {
        self.steps(0, steps::DRAFTED)
    }

    /// Drafted with other fields, by the sample's drafter.
    #[track_caller]
    pub fn drafted_with(&mut self, fields: DraftFields) -> &mut Self {
        let drafter = self.sample.drafter.clone();
        self.ok(drafter.as_str(), Action::Draft(fields))
    }

    /// Submitted along the sample's route (drafted first if it is not).
    #[track_caller]
    pub fn submitted(&mut self) -> &mut Self {
        if self.state.is_none() {
            self.drafted();
        }
        self.steps(steps::DRAFTED, steps::IN_REVIEW)
    }

    /// In the route's 会签 stage.
    #[track_caller]
    pub fn countersigning(&mut self) -> &mut Self {
        self.submitted()
            .steps(steps::IN_REVIEW, steps::COUNTERSIGNING)
    }

    /// Every stage done: awaiting 签发.
    #[track_caller]
    pub fn awaiting_sign_off(&mut self) -> &mut Self {
        self.countersigning()
            .steps(steps::COUNTERSIGNING, steps::AWAITING_SIGN_OFF)
    }

    /// 签发 by the sample's signatory.
    #[track_caller]
    pub fn signed_off(&mut self) -> &mut Self {
        self.awaiting_sign_off()
            .steps(steps::AWAITING_SIGN_OFF, steps::SIGNED_OFF)
    }

    /// 印发 by the sample's clerk.
    #[track_caller]
    pub fn issued(&mut self) -> &mut Self {
        self.signed_off().steps(steps::SIGNED_OFF, steps::ISSUED)
    }
}
