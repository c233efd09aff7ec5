//! A given/when/then driver for the pure core: one or more documents taken through commands
//! by [`workflow_core::handle`] against an in-memory [`Directory`], with a clock that moves
//! one hour a step. No store: what the core decides, and nothing else.

use chrono::Duration;
use uuid::Uuid;
use workflow_core::{
    Action, ActorId, Command, Directory, Document, DocumentId, DraftFields, Error, Event, State,
    Timestamp,
};

use crate::{Sample, sample, steps};

/// Documents driven through commands. Steps that must succeed panic with the rejection;
/// steps that must fail check that they changed nothing.
#[derive(Debug)]
pub struct Script {
    /// The directory commands are decided against (add actors and units to it freely).
    pub dir: Directory,
    /// The current document.
    pub id: DocumentId,
    /// Its state, once drafted.
    pub doc: Option<Document>,
    /// Its events so far.
    pub events: Vec<Event>,
    /// The instant the next command is given at.
    pub clock: Timestamp,
    /// The sample document (its fields, route and flow).
    pub sample: Sample,
    next_id: u128,
}

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

    /// On a directory of the caller's.
    pub fn with_directory(dir: Directory) -> Self {
        Script {
            dir,
            id: DocumentId(Uuid::from_u128(1)),
            doc: None,
            events: Vec::new(),
            clock: crate::engine::start_of_term(),
            sample: sample(),
            next_id: 2,
        }
    }

    /// Starts on a fresh document, keeping directory, numbering and clock.
    pub fn next_document(&mut self) {
        self.id = DocumentId(Uuid::from_u128(self.next_id));
        self.next_id += 1;
        self.doc = None;
        self.events.clear();
    }

    /// Gives a command; its events are applied and recorded.
    pub fn run(&mut self, actor: &str, action: Action) -> Result<Vec<Event>, Error> {
        let cmd = Command {
            document_id: self.id,
            actor: actor.into(),
            at: self.clock,
            action,
        };
        self.clock = self
            .clock
            .checked_add_signed(Duration::hours(1))
            .unwrap_or(self.clock);
        let events = workflow_core::handle(self.doc.as_ref(), &cmd, &self.dir)?;
        for e in &events {
            match self.doc.as_mut() {
                Some(d) => d.apply(e),
                None => self.doc = Document::created_by(e),
            }
        }
        self.dir
            .record_numbers(events.iter().filter_map(|e| e.data.number_claim()));
        self.events.extend(events.iter().cloned());
        Ok(events)
    }

    /// Gives a command that must succeed.
    #[track_caller]
    pub fn ok(&mut self, actor: &str, action: Action) -> &mut Self {
        let name = action.name();
        if let Err(e) = self.run(actor, action) {
            panic!("{actor} {name} should succeed but: {e}");
        }
        self
    }

    /// Gives a command that must be rejected, checks that it changed nothing, and returns
    /// the rejection.
    #[track_caller]
    pub fn err(&mut self, actor: &str, action: Action) -> Error {
        let before = self.doc.clone();
        let n = self.events.len();
        let name = action.name();
        match self.run(actor, action) {
            Ok(_) => panic!("{actor} {name} should be rejected"),
            Err(e) => {
                assert_eq!(self.doc, before, "a rejected command changed the state");
                assert_eq!(self.events.len(), n, "a rejected command recorded events");
                e
            }
        }
    }

    /// The current document (panics before it is drafted).
    #[track_caller]
    pub fn doc(&self) -> &Document {
        match self.doc.as_ref() {
            Some(d) => d,
            None => panic!("no document drafted yet"),
        }
    }

    /// Its state.
    #[track_caller]
    pub fn state(&self) -> State {
        self.doc().state()
    }

    /// Its state folded again from its events alone.
    pub fn fold(&self) -> Option<Document> {
        Document::from_events(&self.events)
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
        if self.doc.is_none() {
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
