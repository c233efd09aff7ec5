//! `handle`: every business rule of DESIGN §2. A command is checked against the current
//! state and the acting actor and either yields events or a typed rejection.

use std::collections::BTreeSet;

mod archive;
mod countersign;
mod draft;
mod issue;
mod review;
mod route_change;
mod sign_off;

use crate::checks::{check_text, require_clearance, require_role};
use crate::context::Context;
use crate::directory::{Actor, Classification, Role};
use crate::error::Error;
use crate::ids::{ActorId, Timestamp, UnitCode, china_date};
use crate::kind::Kind;
use crate::kind::StreamKind;
use crate::numbering::{DocumentNumber, Series};
use crate::outgoing::command::{Action, Command, SYSTEM_ACTOR};
use crate::outgoing::event::{Event, EventData};
use crate::outgoing::state::{Document, State};
use crate::route::{Stage, StageOutcome, StageSpec, stage_label};

/// Longest title accepted, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest body, opinion or reason accepted, in characters.
pub use crate::checks::MAX_TEXT_CHARS;
pub use crate::routing::{MAX_DEADLINE_DAYS, MAX_LIST, MAX_STAGES};

/// Decides `command` against `document` (`None` when the stream is empty).
///
/// Returns the events to append, in order, or the reason for rejection. Pure: reads nothing
/// but its arguments and `ctx`, so the same inputs always give the same answer.
pub fn handle(
    document: Option<&Document>,
    command: &Command,
    ctx: &dyn Context,
) -> Result<Vec<Event>, Error> {
    let actor = if command.actor.0 == SYSTEM_ACTOR {
        // The engine itself, for the deadline sweep; it may do nothing else.
        if !matches!(command.action, Action::Remind { .. }) {
            return Err(Error::UnknownActor {
                actor: command.actor.clone(),
            });
        }
        system_actor()
    } else {
        let actor = ctx
            .actor(&command.actor)
            .ok_or_else(|| Error::UnknownActor {
                actor: command.actor.clone(),
            })?;
        if ctx.is_deactivated(&actor.id) {
            return Err(Error::ActorDeactivated { actor: actor.id });
        }
        actor
    };
    let name = command.action.name();
    let data = match (document, &command.action) {
        (None, Action::Draft(fields)) => draft::draft(command, &actor, fields, ctx)?,
        (Some(d), Action::Draft(_)) => return Err(Error::DocumentExists(d.id())),
        (None, _) => return Err(Error::DocumentNotFound(command.document_id)),
        (Some(d), action) => {
            if d.id() != command.document_id {
                return Err(Error::field(
                    "document_id",
                    format!(
                        "command for {} given to document {}",
                        command.document_id,
                        d.id()
                    ),
                ));
            }
            if !actor.may_see(d.classification()) {
                return Err(Error::InsufficientClearance {
                    actor: actor.id.clone(),
                    clearance: actor.clearance,
                    classification: d.classification(),
                });
            }
            let ctx = Decide {
                doc: d,
                actor: &actor,
                name,
                at: command.at,
                ctx,
            };
            ctx.decide(action)?
        }
    };
    Ok(data
        .into_iter()
        .map(|data| Event {
            actor: actor.id.clone(),
            at: command.at,
            data,
        })
        .collect())
}

/// One decision on an existing document.
struct Decide<'a> {
    doc: &'a Document,
    actor: &'a Actor,
    name: &'static str,
    at: Timestamp,
    ctx: &'a dyn Context,
}

impl Decide<'_> {
    /// The digest of the document's 正文 file, if it has one: what an approval records.
    fn main_file(&self) -> Option<crate::content::Digest> {
        self.doc.fields().files.main_digest().cloned()
    }

    fn decide(&self, action: &Action) -> Result<Vec<EventData>, Error> {
        let events = self.dispatch(action)?;
        // Only once the actor may act at all: whose turn it is, and the state, come first.
        crate::content::require_shown(self.name, action.shown_content(), self.main_file())?;
        Ok(events)
    }

    fn dispatch(&self, action: &Action) -> Result<Vec<EventData>, Error> {
        match action {
            Action::Draft(_) => Err(Error::DocumentExists(self.doc.id())),
            Action::Revise(fields) => self.revise(fields),
            Action::SubmitForReview { route } => self.submit_for_review(route),
            Action::Approve { opinion, stage, .. } => self.approve(opinion, *stage),
            Action::Return { reason, stage } => self.return_from(reason, *stage),
            Action::Withdraw { reason } => self.withdraw(reason),
            Action::Countersign {
                agree,
                opinion,
                stage,
                ..
            } => self.countersign(*agree, opinion, *stage),
            Action::RemoveCountersigner { unit, stage } => self.remove_countersigner(unit, *stage),
            Action::AddReviewer {
                reviewer,
                before,
                stage,
            } => self.add_reviewer(reviewer, *before, *stage),
            Action::Reassign { to, reason, stage } => self.reassign(to, reason, *stage),
            Action::Delegate { to, reason, stage } => self.delegate(to, reason, *stage),
            Action::ReturnToStage {
                stage,
                reason,
                from_stage,
            } => self.return_to_stage(*stage, reason, *from_stage),
            Action::Remind { interval_hours } => self.remind(*interval_hours),
            Action::AddCountersigner { unit, stage } => self.add_countersigner(unit, *stage),
            Action::SignOff { opinion, .. } => self.sign_off(opinion),
            Action::Issue { issue_date, copies } => self.issue(*issue_date, *copies),
            Action::Acknowledge => self.acknowledge(),
            Action::Archive {
                fonds,
                retention,
                unit_code,
                deviation_reason,
            } => self.archive(fonds, *retention, unit_code, deviation_reason),
            Action::Void { reason } => self.void(reason),
        }
    }

    fn require_state(&self, allowed: &[State]) -> Result<(), Error> {
        if allowed.contains(&self.doc.state()) {
            Ok(())
        } else {
            Err(wrong_state(self.name, self.doc.state()))
        }
    }

    fn require_drafter(&self) -> Result<(), Error> {
        if self.actor.id == *self.doc.drafter() {
            Ok(())
        } else {
            Err(Error::NotAssigned {
                actor: self.actor.id.clone(),
                command: self.name,
                expected: format!("the drafter {}", self.doc.drafter()),
            })
        }
    }

    /// The current review stage and whether the actor acts on it as the delegate. While a
    /// task is delegated and not yet reported, only the delegate acts on it.
    fn require_current_reviewer(&self) -> Result<(usize, bool), Error> {
        let Some((i, stage)) = self.doc.current() else {
            return Err(self.not_now("the current stage is not a review"));
        };
        let StageSpec::Review { reviewer, .. } = &stage.spec else {
            return Err(self.not_now("the current stage is not a review"));
        };
        let acting = stage.acting_reviewer().unwrap_or(reviewer);
        if self.actor.id != *acting {
            let expected = if acting == reviewer {
                format!("{reviewer}, the reviewer of {},", stage_label(i))
            } else {
                format!(
                    "{acting}, the delegate of {} until they report to {reviewer},",
                    stage_label(i)
                )
            };
            return Err(Error::NotAssigned {
                actor: self.actor.id.clone(),
                command: self.name,
                expected,
            });
        }
        require_role(self.actor, Role::Reviewer, self.name)?;
        Ok((i, acting != reviewer))
    }

    /// A copy of the current stage.
    fn current_stage_clone(&self) -> Result<Stage, Error> {
        self.doc
            .current()
            .map(|(_, s)| s.clone())
            .ok_or_else(|| self.not_now("no stage is running"))
    }

    /// The current stage, if the actor may change its signers: the office clerk, or the
    /// stage owner (a review stage's reviewer; a countersign stage's drafter, who runs it).
    /// `meant` is the stage the caller had in mind; another stage is refused.
    fn require_stage_manager(&self, meant: Option<usize>) -> Result<(usize, Stage), Error> {
        let Some((i, stage)) = self.doc.current() else {
            return Err(self.not_now("no stage is running"));
        };
        self.require_meant_stage(meant)?;
        let owner = match &stage.spec {
            StageSpec::Review { reviewer, .. } => reviewer,
            StageSpec::Countersign { .. } => self.doc.drafter(),
        };
        if self.actor.id != *owner && !self.actor.has_role(Role::Clerk) {
            return Err(Error::NotAssigned {
                actor: self.actor.id.clone(),
                command: self.name,
                expected: format!("the office clerk or the stage owner ({owner})"),
            });
        }
        Ok((i, stage.clone()))
    }

    /// Refuses a command meant for a stage that is not the current one (it completed, was
    /// returned, or has not started), naming both.
    fn require_meant_stage(&self, meant: Option<usize>) -> Result<(), Error> {
        let Some(m) = meant else {
            return Ok(());
        };
        if self.doc.current().is_some_and(|(i, _)| i == m) {
            return Ok(());
        }
        let d = self.doc;
        let was = match d.route().get(m) {
            Some(s) if s.completed => "completed",
            Some(s) if s.started_at.is_some() => "no longer current",
            Some(_) => "not started",
            None => "not in the route",
        };
        let now = match d.current() {
            Some((i, stage)) => format!("at {}, {}", stage_label(i), describe(&stage.spec)),
            None if d.state() == State::AwaitingSignOff => {
                "awaiting sign-off (待签发), after the last stage".to_owned()
            }
            None => format!("{}", d.state()),
        };
        Err(Error::StageNotCurrent {
            command: self.name,
            meant: m,
            was,
            now,
        })
    }

    /// Whether the actor may return the document from where it stands (as for `Return`).
    fn require_may_return(&self) -> Result<(), Error> {
        match self.doc.state() {
            State::InReview => {
                match self.require_current_reviewer()? {
                    (_, false) => Ok(()),
                    (_, true) => Err(self
                        .not_now("a delegate reports to the reviewer; only the reviewer returns")),
                }
            }
            State::Countersigning => self.require_pending_countersigner().map(|_| ()),
            State::AwaitingSignOff => self.require_signer().map(|_| ()),
            state => Err(wrong_state(self.name, state)),
        }
    }

    /// A reviewer to put on the route: exists, holds Reviewer, cleared for the document.
    fn check_reviewer(&self, field: &str, id: &ActorId) -> Result<ActorId, Error> {
        crate::checks::named_actor(
            self.ctx,
            field,
            id,
            Some(Role::Reviewer),
            self.doc.classification(),
        )
    }

    fn not_now(&self, reason: &str) -> Error {
        Error::NotNow {
            command: self.name,
            reason: reason.to_owned(),
        }
    }
}

/// A stage as messages name it: `a review by li.qiang`, `a countersign by RSC, KYC`.
fn describe(spec: &StageSpec) -> String {
    match spec {
        StageSpec::Review { reviewer, .. } => format!("a review by {reviewer}"),
        StageSpec::Countersign { departments, .. } => {
            format!("a countersign by {}", join(departments))
        }
    }
}

fn wrong_state(command: &'static str, state: State) -> Error {
    Error::WrongState {
        command,
        state: state.name(),
        state_chinese: state.chinese(),
    }
}

/// The engine itself, acting for the deadline sweep.
fn system_actor() -> Actor {
    Actor {
        reach: Vec::new(),
        id: ActorId::from(SYSTEM_ACTOR),
        name: "系统".into(),
        unit: UnitCode::from(""),
        roles: Default::default(),
        clearance: Classification::TopSecret,
    }
}

fn join(units: &[UnitCode]) -> String {
    units
        .iter()
        .map(|u| u.0.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
