//! `handle`: every business rule of DESIGN §2. A command is checked against the current
//! state and the acting actor and either yields events or a typed rejection.

use std::collections::BTreeSet;

use chrono::{Datelike, FixedOffset, NaiveDate};

use crate::command::{
    Action, Command, Completion, DraftFields, SYSTEM_ACTOR, StageSpec, stage_label,
};
use crate::context::Context;
use crate::document::{Document, Stage, StageOutcome, State};
use crate::error::Error;
use crate::event::{Event, EventData};
use crate::number::{ArchiveReference, DocumentNumber, Series};
use crate::types::{
    Actor, ActorId, Classification, FlowKind, Kind, Retention, Role, Timestamp, UnitCode,
};

/// Longest title accepted, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest body, opinion or reason accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 100_000;
/// Most stages a route may have.
pub const MAX_STAGES: usize = 50;
/// Most departments, recipients or co-issuers in one list.
pub const MAX_LIST: usize = 200;
/// Longest stage deadline, in days.
pub const MAX_DEADLINE_DAYS: u32 = 365;

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
        ctx.actor(&command.actor)
            .ok_or_else(|| Error::UnknownActor {
                actor: command.actor.clone(),
            })?
    };
    let name = command.action.name();
    let data = match (document, &command.action) {
        (None, Action::Draft(fields)) => draft(command, &actor, fields, ctx)?,
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

fn draft(
    command: &Command,
    actor: &Actor,
    fields: &DraftFields,
    ctx: &dyn Context,
) -> Result<Vec<EventData>, Error> {
    require_role(actor, Role::Drafter, "Draft")?;
    let warnings = validate_fields(fields, ctx)?;
    require_clearance(actor, fields.classification)?;
    Ok(vec![EventData::Drafted {
        document_id: command.document_id,
        fields: normalized(fields),
        drafter_unit: actor.unit.clone(),
        warnings,
    }])
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
    fn decide(&self, action: &Action) -> Result<Vec<EventData>, Error> {
        let d = self.doc;
        match action {
            Action::Draft(_) => Err(Error::DocumentExists(d.id())),
            Action::Revise(fields) => {
                self.require_state(&[State::Drafting])?;
                self.require_drafter()?;
                let warnings = validate_fields(fields, self.ctx)?;
                require_clearance(self.actor, fields.classification)?;
                Ok(vec![EventData::Revised {
                    fields: normalized(fields),
                    warnings,
                }])
            }
            Action::SubmitForReview { route } => {
                self.require_state(&[State::Drafting])?;
                self.require_drafter()?;
                self.validate_route(route)?;
                Ok(vec![EventData::SubmittedForReview {
                    round: d.round() + 1,
                    route: route.iter().map(normalized_stage).collect(),
                }])
            }
            Action::Approve { opinion, stage } => {
                self.require_meant_stage(*stage)?;
                self.require_state(&[State::InReview])?;
                let (stage, as_delegate) = self.require_current_reviewer()?;
                check_text("opinion", opinion, false)?;
                let opinion = opinion.trim().to_owned();
                Ok(vec![if as_delegate {
                    EventData::DelegateReported {
                        stage,
                        agree: true,
                        opinion,
                    }
                } else {
                    EventData::Approved { stage, opinion }
                }])
            }
            Action::Return { reason, stage } => {
                self.require_meant_stage(*stage)?;
                self.return_(reason)
            }
            Action::Withdraw { reason } => {
                self.require_state(&[State::InReview, State::Countersigning])?;
                self.require_drafter()?;
                check_text("reason", reason, false)?;
                if d.acted_in_round() {
                    return Err(
                        self.not_now("a reviewer or department has already acted in this round")
                    );
                }
                Ok(vec![EventData::Withdrawn {
                    reason: reason.trim().to_owned(),
                }])
            }
            Action::Countersign {
                agree,
                opinion,
                stage,
            } => {
                self.require_meant_stage(*stage)?;
                self.require_state(&[State::Countersigning])?;
                let (stage, unit) = self.require_pending_countersigner()?;
                check_text("opinion", opinion, !agree)?;
                let mut after = self.current_stage_clone()?;
                after.countersigns.insert(unit.clone(), *agree);
                let mut events = vec![EventData::Countersigned {
                    stage,
                    unit,
                    agree: *agree,
                    opinion: opinion.trim().to_owned(),
                }];
                events.extend(not_needed(stage, &after));
                Ok(events)
            }
            Action::RemoveCountersigner { unit, stage } => {
                self.require_state(&[State::Countersigning])?;
                let (index, current) = self.require_stage_manager(*stage)?;
                let unit = UnitCode(unit.0.trim().to_owned());
                let StageSpec::Countersign { departments, .. } = &current.spec else {
                    return Err(self.not_now("the current stage is not a countersign"));
                };
                if !departments.contains(&unit) {
                    return Err(Error::field(
                        "unit",
                        format!("{unit} is not in this countersign stage"),
                    ));
                }
                if current.countersigns.contains_key(&unit) {
                    return Err(self.not_now(&format!(
                        "{unit} has already countersigned; it cannot be removed"
                    )));
                }
                if departments.len() == 1 {
                    return Err(self.not_now(&format!(
                        "{unit} is the only department of the stage; return or void the document instead"
                    )));
                }
                let mut after = current.clone();
                if let StageSpec::Countersign { departments, .. } = &mut after.spec {
                    departments.retain(|d| *d != unit);
                }
                let mut events = vec![EventData::CountersignerRemoved { stage: index, unit }];
                events.extend(not_needed(index, &after));
                Ok(events)
            }
            Action::AddReviewer {
                reviewer,
                before,
                stage,
            } => {
                self.require_meant_stage(*stage)?;
                self.require_state(&[State::InReview])?;
                let (index, current) = self.require_stage_manager(None)?;
                if current.delegate.is_some() && current.delegate_report.is_none() {
                    return Err(
                        self.not_now("the stage is delegated; wait for the delegate's report")
                    );
                }
                if d.route().len() >= MAX_STAGES {
                    return Err(Error::field(
                        "reviewer",
                        format!("a route has at most {MAX_STAGES} stages"),
                    ));
                }
                let reviewer = self.check_reviewer("reviewer", reviewer)?;
                Ok(vec![EventData::ReviewerAdded {
                    stage: if *before { index } else { index + 1 },
                    reviewer,
                    before: *before,
                }])
            }
            Action::Reassign { to, reason, stage } => {
                self.require_meant_stage(*stage)?;
                self.require_state(&[State::InReview])?;
                let (stage, current) = self.require_stage_manager(None)?;
                let from = match &current.spec {
                    StageSpec::Review { reviewer, .. } => reviewer.clone(),
                    StageSpec::Countersign { .. } => {
                        return Err(self.not_now("the current stage is not a review"));
                    }
                };
                let to = self.check_reviewer("to", to)?;
                if to == from {
                    return Err(Error::field("to", format!("{to} already has this task")));
                }
                check_text("reason", reason, false)?;
                Ok(vec![EventData::Reassigned {
                    stage,
                    from,
                    to,
                    reason: reason.trim().to_owned(),
                }])
            }
            Action::Delegate { to, reason, stage } => {
                self.require_meant_stage(*stage)?;
                self.require_state(&[State::InReview])?;
                let (stage, as_delegate) = self.require_current_reviewer()?;
                let current = self.current_stage_clone()?;
                if as_delegate || (current.delegate.is_some() && current.delegate_report.is_none())
                {
                    return Err(self.not_now("the task is already delegated"));
                }
                let to = self.check_reviewer("to", to)?;
                if to == self.actor.id {
                    return Err(Error::field(
                        "to",
                        "a reviewer cannot delegate to themselves",
                    ));
                }
                check_text("reason", reason, false)?;
                Ok(vec![EventData::Delegated {
                    stage,
                    from: self.actor.id.clone(),
                    to,
                    reason: reason.trim().to_owned(),
                }])
            }
            Action::ReturnToStage {
                stage,
                reason,
                from_stage,
            } => {
                self.require_meant_stage(*from_stage)?;
                self.require_state(&[
                    State::InReview,
                    State::Countersigning,
                    State::AwaitingSignOff,
                ])?;
                let limit = match d.current() {
                    Some((i, _)) => i,
                    None => d.route().len(),
                };
                if *stage >= limit {
                    let now = match d.current() {
                        Some((i, _)) => stage_label(i),
                        None => format!(
                            "sign-off (签发), after the last stage, {}",
                            stage_label(limit - 1)
                        ),
                    };
                    return Err(Error::field(
                        "stage",
                        format!(
                            "{} is not before where the document is now: {now}",
                            stage_label(*stage)
                        ),
                    ));
                }
                if !self.actor.has_role(Role::Clerk) {
                    self.require_may_return()?;
                }
                check_text("reason", reason, true)?;
                Ok(vec![EventData::ReturnedToStage {
                    from: d.state(),
                    stage: *stage,
                    reason: reason.trim().to_owned(),
                }])
            }
            Action::Remind { interval_hours } => {
                if self.actor.id.0 != SYSTEM_ACTOR {
                    return Err(Error::NotAssigned {
                        actor: self.actor.id.clone(),
                        command: self.name,
                        expected: "the engine's deadline sweep".into(),
                    });
                }
                self.require_state(&[State::InReview, State::Countersigning])?;
                let Some((stage, current)) = d.current() else {
                    return Err(self.not_now("no stage is running"));
                };
                let Some(due_at) = current.due_at else {
                    return Err(self.not_now("the current stage has no deadline"));
                };
                if self.at <= due_at {
                    return Err(
                        self.not_now(&format!("the stage is due at {due_at}, not overdue yet"))
                    );
                }
                if *interval_hours == 0 {
                    return Err(Error::field("interval_hours", "must be at least 1"));
                }
                if let Some(last) = current.last_reminded_at
                    && last
                        .checked_add_signed(chrono::Duration::hours(i64::from(*interval_hours)))
                        .is_none_or(|next| self.at < next)
                {
                    return Err(
                        self.not_now(&format!("already reminded at {last}, within the interval"))
                    );
                }
                let waiting_for = d
                    .assignees(|code| self.ctx.unit(&UnitCode::from(code)).is_some())
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                Ok(vec![EventData::Reminded {
                    stage,
                    due_at,
                    waiting_for,
                    escalated_to: current.spec.escalate_to().cloned(),
                }])
            }
            Action::AddCountersigner { unit, stage } => {
                self.require_state(&[State::Countersigning])?;
                let (index, current) = self.require_stage_manager(*stage)?;
                let unit = UnitCode(unit.0.trim().to_owned());
                if self.ctx.unit(&unit).is_none() {
                    return Err(Error::field("unit", format!("unknown unit {unit}")));
                }
                let StageSpec::Countersign { departments, .. } = &current.spec else {
                    return Err(self.not_now("the current stage is not a countersign"));
                };
                if departments.contains(&unit) {
                    return Err(Error::field(
                        "unit",
                        format!("{unit} is already in this countersign stage"),
                    ));
                }
                if let Some(why) = cannot_countersign(self.ctx, &unit, d.classification()) {
                    return Err(Error::field("unit", why));
                }
                if departments.len() >= MAX_LIST {
                    return Err(Error::field(
                        "unit",
                        format!("a stage holds at most {MAX_LIST} departments"),
                    ));
                }
                Ok(vec![EventData::CountersignerAdded { stage: index, unit }])
            }
            Action::SignOff { opinion } => {
                self.require_state(&[State::AwaitingSignOff])?;
                let unit = self.require_signer()?;
                check_text("opinion", opinion, true)?;
                Ok(vec![EventData::Signed {
                    unit,
                    signer_name: self.actor.name.clone(),
                    opinion: opinion.trim().to_owned(),
                    date: china_date(self.at),
                }])
            }
            Action::Issue { issue_date, copies } => {
                self.require_state(&[State::SignedOff])?;
                require_role(self.actor, Role::Clerk, self.name)?;
                if *copies == 0 {
                    return Err(Error::field("copies", "at least one copy must be issued"));
                }
                if let Some(written) = d.written_date()
                    && *issue_date < written
                {
                    return Err(Error::field(
                        "issue_date",
                        format!("{issue_date} is before the 成文日期 {written}"),
                    ));
                }
                let unit = &d.fields().issuing_unit;
                let prefix = self
                    .ctx
                    .unit(unit)
                    .map(|u| u.doc_prefix)
                    .filter(|p| !p.trim().is_empty())
                    .ok_or_else(|| {
                        self.not_now(&format!(
                            "issuing unit {unit} has no document-number prefix in the directory"
                        ))
                    })?;
                let year = issue_date.year();
                let seq = self.ctx.next_number(&Series::Document {
                    prefix: prefix.clone(),
                    year,
                })?;
                Ok(vec![EventData::Issued {
                    number: DocumentNumber { prefix, year, seq },
                    issue_date: *issue_date,
                    copies: *copies,
                    main_recipients: d.fields().main_recipients.clone(),
                    cc: d.fields().cc.clone(),
                }])
            }
            Action::Acknowledge => {
                self.require_state(&[State::Issued])?;
                let unit = self.actor.unit.clone();
                let is_recipient = d
                    .issue()
                    .is_some_and(|i| i.main_recipients.iter().chain(&i.cc).any(|r| *r == unit.0));
                if !is_recipient {
                    return Err(Error::NotAssigned {
                        actor: self.actor.id.clone(),
                        command: self.name,
                        expected: "an actor of a recipient unit (主送 or 抄送)".into(),
                    });
                }
                if d.acknowledged().contains_key(&unit) {
                    return Err(self.not_now(&format!("recipient {unit} has already acknowledged")));
                }
                Ok(vec![EventData::Acknowledged { recipient: unit }])
            }
            Action::Archive {
                fonds,
                retention,
                unit_code,
                deviation_reason,
            } => {
                self.require_state(&[State::Issued])?;
                require_role(self.actor, Role::Archivist, self.name)?;
                let fonds = check_code("fonds", fonds)?;
                let unit = check_code("unit_code", unit_code)?;
                let (retention, scheduled, deviation) =
                    self.retention(*retention, deviation_reason)?;
                // 年度 is the year the document was made (形成年度): its 成文日期, the date of
                // the last required signature (DA/T 22-2015), not the issue date.
                let year = d
                    .written_date()
                    .or_else(|| d.issue().map(|i| i.issue_date))
                    .map_or_else(|| china_date(self.at).year(), |date| date.year());
                let item = self.ctx.next_number(&Series::Item {
                    fonds: fonds.clone(),
                    year,
                    retention,
                })?;
                Ok(vec![EventData::Archived {
                    reference: ArchiveReference {
                        fonds,
                        year,
                        retention,
                        unit,
                        item,
                    },
                    fixity_hash: self.ctx.fixity_hash()?,
                    scheduled_retention: Some(scheduled),
                    deviation,
                }])
            }
            Action::Void { reason } => {
                self.require_state(&[
                    State::Drafting,
                    State::InReview,
                    State::Countersigning,
                    State::AwaitingSignOff,
                    State::SignedOff,
                ])?;
                if self.actor.id != *d.drafter() && !self.actor.has_role(Role::Clerk) {
                    return Err(Error::NotAssigned {
                        actor: self.actor.id.clone(),
                        command: self.name,
                        expected: format!("the drafter {} or an office clerk", d.drafter()),
                    });
                }
                check_text("reason", reason, true)?;
                Ok(vec![EventData::Voided {
                    reason: reason.trim().to_owned(),
                }])
            }
        }
    }

    fn return_(&self, reason: &str) -> Result<Vec<EventData>, Error> {
        let d = self.doc;
        let from = d.state();
        let to = match from {
            State::InReview => {
                let (stage, as_delegate) = self.require_current_reviewer()?;
                if as_delegate {
                    check_text("reason", reason, true)?;
                    return Ok(vec![EventData::DelegateReported {
                        stage,
                        agree: false,
                        opinion: reason.trim().to_owned(),
                    }]);
                }
                State::Drafting
            }
            State::Countersigning => {
                self.require_pending_countersigner()?;
                State::Drafting
            }
            State::AwaitingSignOff => {
                self.require_signer()?;
                State::Drafting
            }
            State::SignedOff => {
                // 复核 found a substantive change: back to the signers (原签批人复审).
                require_role(self.actor, Role::Clerk, self.name)?;
                State::AwaitingSignOff
            }
            _ => {
                return Err(Error::WrongState {
                    command: self.name,
                    state: from,
                });
            }
        };
        check_text("reason", reason, true)?;
        Ok(vec![EventData::Returned {
            from,
            to,
            reason: reason.trim().to_owned(),
        }])
    }

    fn require_state(&self, allowed: &[State]) -> Result<(), Error> {
        if allowed.contains(&self.doc.state()) {
            Ok(())
        } else {
            Err(Error::WrongState {
                command: self.name,
                state: self.doc.state(),
            })
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

    /// The retention to archive with (the schedule's unless the archivist chose another),
    /// the schedule's, and the recorded deviation: another period needs a reason, a shorter
    /// one the archive office's role.
    fn retention(
        &self,
        chosen: Option<Retention>,
        reason: &str,
    ) -> Result<(Retention, Retention, Option<String>), Error> {
        let d = self.doc;
        let important = d.fields().important;
        let scheduled =
            self.ctx
                .retention_schedule()
                .retention(FlowKind::Outgoing, d.kind(), important);
        let what = format!(
            "{}{} ({})",
            if important { "an important " } else { "a " },
            d.kind().chinese(),
            format_args!("{:?}", d.kind())
        );
        let retention = chosen.unwrap_or(scheduled);
        if retention == scheduled {
            if !reason.trim().is_empty() {
                return Err(Error::field(
                    "deviation_reason",
                    format!(
                        "is only for a retention other than the schedule's {scheduled} for {what}"
                    ),
                ));
            }
            return Ok((retention, scheduled, None));
        }
        if reason.trim().is_empty() {
            return Err(Error::field(
                "deviation_reason",
                format!(
                    "retention {retention} differs from the schedule's {scheduled} for {what}: \
                     a deviation needs its reason"
                ),
            ));
        }
        check_text("deviation_reason", reason, true)?;
        if retention.is_shorter_than(scheduled) && !self.actor.has_role(Role::ArchiveOffice) {
            return Err(Error::MissingRole {
                actor: self.actor.id.clone(),
                role: Role::ArchiveOffice,
                command: self.name,
            });
        }
        Ok((retention, scheduled, Some(reason.trim().to_owned())))
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
            state => Err(Error::WrongState {
                command: self.name,
                state,
            }),
        }
    }

    /// A reviewer to put on the route: exists, holds Reviewer, cleared for the document.
    fn check_reviewer(&self, field: &str, id: &ActorId) -> Result<ActorId, Error> {
        let id = trimmed(id);
        let Some(r) = self.ctx.actor(&id) else {
            return Err(Error::field(field, format!("unknown actor {id}")));
        };
        // Who may act on the stage: a matter of permission, not of the request's form.
        if !r.has_role(Role::Reviewer) {
            return Err(Error::NamedActorMissingRole {
                field: field.to_owned(),
                actor: id,
                role: Role::Reviewer,
            });
        }
        let c = self.doc.classification();
        if !r.may_see(c) {
            return Err(Error::NamedActorClearance {
                field: field.to_owned(),
                actor: id,
                clearance: r.clearance,
                classification: c,
            });
        }
        Ok(id)
    }

    /// The stage and the actor's department, if the actor may countersign for it now.
    fn require_pending_countersigner(&self) -> Result<(usize, UnitCode), Error> {
        let Some((
            i,
            Stage {
                spec: StageSpec::Countersign { departments, .. },
                countersigns,
                ..
            },
        )) = self.doc.current()
        else {
            return Err(self.not_now("the current stage is not a countersign"));
        };
        require_role(self.actor, Role::Countersigner, self.name)?;
        let unit = &self.actor.unit;
        if !departments.contains(unit) {
            return Err(Error::NotAssigned {
                actor: self.actor.id.clone(),
                command: self.name,
                expected: format!("a countersigner of {}", join(departments)),
            });
        }
        if countersigns.contains_key(unit) {
            return Err(self.not_now(&format!(
                "department {unit} has already countersigned in round {}",
                self.doc.round()
            )));
        }
        Ok((i, unit.clone()))
    }

    /// The unit the actor signs for, if they may sign now.
    fn require_signer(&self) -> Result<UnitCode, Error> {
        let role = self.doc.required_sign_role();
        let has_authority = self.actor.has_role(role)
            || (role == Role::Signatory && self.actor.has_role(Role::PrincipalSignatory));
        if !has_authority {
            return Err(Error::MissingRole {
                actor: self.actor.id.clone(),
                role,
                command: self.name,
            });
        }
        let unit = &self.actor.unit;
        let signing = self.doc.signing_units();
        if !signing.contains(unit) {
            return Err(Error::NotAssigned {
                actor: self.actor.id.clone(),
                command: self.name,
                expected: format!("a {role} of {}", join(&signing)),
            });
        }
        if self.doc.signatures().iter().any(|s| s.unit == *unit) {
            return Err(self.not_now(&format!("unit {unit} has already signed")));
        }
        Ok(unit.clone())
    }

    fn validate_route(&self, route: &[StageSpec]) -> Result<(), Error> {
        if route.is_empty() {
            return Err(Error::field("route", "a route needs at least one stage"));
        }
        if route.len() > MAX_STAGES {
            return Err(Error::field(
                "route",
                format!("a route has at most {MAX_STAGES} stages"),
            ));
        }
        let classification = self.doc.classification();
        for (i, stage) in route.iter().enumerate() {
            if let Some(days) = stage.deadline_days()
                && (days == 0 || days > MAX_DEADLINE_DAYS)
            {
                return Err(Error::field(
                    format!("route[{i}].deadline_days"),
                    format!("must be between 1 and {MAX_DEADLINE_DAYS}"),
                ));
            }
            if let Some(to) = stage.escalate_to() {
                let field = format!("route[{i}].escalate_to");
                match self.ctx.actor(&trimmed(to)) {
                    None => return Err(Error::field(field, format!("unknown actor {to}"))),
                    Some(a) if !a.may_see(classification) => {
                        return Err(Error::field(
                            field,
                            format!(
                                "actor {to} has clearance {} below {classification}",
                                a.clearance
                            ),
                        ));
                    }
                    Some(_) => {}
                }
            }
            match stage {
                StageSpec::Review { reviewer, .. } => {
                    let field = format!("route[{i}].reviewer");
                    if reviewer.0.trim().is_empty() {
                        return Err(Error::field(field, "a review stage needs a reviewer"));
                    }
                    let Some(r) = self.ctx.actor(&trimmed(reviewer)) else {
                        return Err(Error::field(field, format!("unknown actor {reviewer}")));
                    };
                    if !r.has_role(Role::Reviewer) {
                        return Err(Error::field(
                            field,
                            format!("actor {reviewer} does not hold the role Reviewer"),
                        ));
                    }
                    if !r.may_see(classification) {
                        return Err(Error::field(
                            field,
                            format!(
                                "actor {reviewer} has clearance {} below {classification}",
                                r.clearance
                            ),
                        ));
                    }
                }
                StageSpec::Countersign {
                    departments,
                    completion,
                    ..
                } => {
                    if let Completion::Ratio { percent } = completion
                        && !(1..=100).contains(percent)
                    {
                        return Err(Error::field(
                            format!("route[{i}].completion"),
                            format!("a ratio is 1-100 percent, not {percent}"),
                        ));
                    }
                    let field = format!("route[{i}].departments");
                    if departments.is_empty() {
                        return Err(Error::field(
                            field,
                            "a countersign stage needs at least one department",
                        ));
                    }
                    if departments.len() > MAX_LIST {
                        return Err(Error::field(
                            field,
                            format!("at most {MAX_LIST} departments"),
                        ));
                    }
                    let mut seen = BTreeSet::new();
                    let mut unable = Vec::new();
                    for dep in departments {
                        let code = UnitCode(dep.0.trim().to_owned());
                        if code.0.is_empty() {
                            return Err(Error::field(field, "a department may not be empty"));
                        }
                        if self.ctx.unit(&code).is_none() {
                            return Err(Error::field(field, format!("unknown unit {code}")));
                        }
                        if !seen.insert(code.clone()) {
                            return Err(Error::field(field, format!("{code} is listed twice")));
                        }
                        if let Some(why) = cannot_countersign(self.ctx, &code, classification) {
                            unable.push(why);
                        }
                    }
                    // A stage whose rule can never be met would wait for ever: refuse it now.
                    let able = departments.len() - unable.len();
                    let completes = match completion {
                        Completion::All => unable.is_empty(),
                        Completion::Any => able > 0,
                        Completion::Ratio { percent } => {
                            able * 100 >= usize::from(*percent) * departments.len()
                        }
                    };
                    if !completes {
                        return Err(Error::field(
                            field,
                            format!("{}: the stage could never complete", unable.join("; ")),
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    fn not_now(&self, reason: &str) -> Error {
        Error::NotNow {
            command: self.name,
            reason: reason.to_owned(),
        }
    }
}

/// Why a department cannot countersign a document of this classification — no actor of it
/// holds `Countersigner` with the clearance — or `None` if it can.
fn cannot_countersign(
    ctx: &dyn Context,
    unit: &UnitCode,
    classification: Classification,
) -> Option<String> {
    let actors = ctx.actors_of(unit);
    let countersigners: Vec<&Actor> = actors
        .iter()
        .filter(|a| a.has_role(Role::Countersigner))
        .collect();
    if countersigners.is_empty() {
        return Some(format!("department {unit} has no countersigner (会签人)"));
    }
    if !countersigners.iter().any(|a| a.may_see(classification)) {
        return Some(format!(
            "department {unit} has no countersigner cleared for {classification} ({})",
            classification.chinese()
        ));
    }
    None
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

fn trimmed(id: &ActorId) -> ActorId {
    ActorId(id.0.trim().to_owned())
}

fn require_role(actor: &Actor, role: Role, command: &'static str) -> Result<(), Error> {
    if actor.has_role(role) {
        Ok(())
    } else {
        Err(Error::MissingRole {
            actor: actor.id.clone(),
            role,
            command,
        })
    }
}

fn require_clearance(actor: &Actor, c: Classification) -> Result<(), Error> {
    if actor.may_see(c) {
        Ok(())
    } else {
        Err(Error::InsufficientClearance {
            actor: actor.id.clone(),
            clearance: actor.clearance,
            classification: c,
        })
    }
}

/// The field rules checked at drafting (DESIGN §2), and what they accept but flag.
fn validate_fields(f: &DraftFields, ctx: &dyn Context) -> Result<Vec<String>, Error> {
    let title = f.title.trim();
    if title.is_empty() {
        return Err(Error::field("title", "a document needs a title"));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(Error::field(
            "title",
            format!("longer than {MAX_TITLE_CHARS} characters"),
        ));
    }
    check_text("body", &f.body, false)?;
    let lead = UnitCode(f.issuing_unit.0.trim().to_owned());
    if lead.0.is_empty() {
        return Err(Error::field(
            "issuing_unit",
            "a document needs an issuing unit",
        ));
    }
    if ctx.unit(&lead).is_none() {
        return Err(Error::field("issuing_unit", format!("unknown unit {lead}")));
    }
    if f.co_issuing_units.len() > MAX_LIST {
        return Err(Error::field(
            "co_issuing_units",
            format!("at most {MAX_LIST}"),
        ));
    }
    let mut seen = BTreeSet::from([lead.clone()]);
    for u in &f.co_issuing_units {
        let code = UnitCode(u.0.trim().to_owned());
        if ctx.unit(&code).is_none() {
            return Err(Error::field(
                "co_issuing_units",
                format!("unknown unit {code}"),
            ));
        }
        if !seen.insert(code.clone()) {
            return Err(Error::field(
                "co_issuing_units",
                format!("{code} is listed twice or is the issuing unit"),
            ));
        }
    }
    let mut recipients = BTreeSet::new();
    for (field, list) in [("main_recipients", &f.main_recipients), ("cc", &f.cc)] {
        if list.len() > MAX_LIST {
            return Err(Error::field(
                field,
                format!("at most {MAX_LIST} recipients"),
            ));
        }
        for r in list {
            let r = r.trim();
            if r.is_empty() {
                return Err(Error::field(field, "a recipient may not be empty"));
            }
            if r.chars().count() > MAX_TITLE_CHARS {
                return Err(Error::field(
                    field,
                    format!("a recipient is longer than {MAX_TITLE_CHARS} characters"),
                ));
            }
            if !recipients.insert(r.to_owned()) {
                return Err(Error::field(
                    field,
                    format!("recipient {r} is listed twice"),
                ));
            }
        }
    }
    if f.kind == Kind::Request && f.main_recipients.len() != 1 {
        return Err(Error::field(
            "main_recipients",
            format!(
                "a Request (请示) has exactly one main recipient, not {}",
                f.main_recipients.len()
            ),
        ));
    }
    if f.kind.needs_main_recipient() && f.main_recipients.is_empty() {
        return Err(Error::field(
            "main_recipients",
            format!("a {:?} needs at least one main recipient (主送)", f.kind),
        ));
    }
    let mut warnings = Vec::new();
    if f.kind.is_upward() && f.main_recipients.len() > 1 {
        warnings.push(format!(
            "原则上主送一个上级机关（《党政机关公文处理工作条例》第十五条）: this {:?} ({}) has {} \
             main recipients",
            f.kind,
            f.kind.chinese(),
            f.main_recipients.len()
        ));
    }
    match (
        f.classification.max_period_years(),
        f.classification_period_years,
    ) {
        (None, None) => {}
        (None, Some(_)) => {
            return Err(Error::field(
                "classification_period_years",
                "an unclassified document has no classification period",
            ));
        }
        (Some(_), None) => {
            return Err(Error::field(
                "classification_period_years",
                format!(
                    "a {} document needs a classification period",
                    f.classification
                ),
            ));
        }
        (Some(cap), Some(p)) => {
            if p == 0 || p > cap {
                return Err(Error::field(
                    "classification_period_years",
                    format!("{p} years is outside 1..={cap} for {}", f.classification),
                ));
            }
        }
    }
    Ok(warnings)
}

/// The fields as recorded: ids and recipients trimmed.
fn normalized(f: &DraftFields) -> DraftFields {
    let trim_all = |v: &[String]| v.iter().map(|s| s.trim().to_owned()).collect();
    DraftFields {
        title: f.title.trim().to_owned(),
        issuing_unit: UnitCode(f.issuing_unit.0.trim().to_owned()),
        co_issuing_units: f
            .co_issuing_units
            .iter()
            .map(|u| UnitCode(u.0.trim().to_owned()))
            .collect(),
        main_recipients: trim_all(&f.main_recipients),
        cc: trim_all(&f.cc),
        ..f.clone()
    }
}

fn normalized_stage(s: &StageSpec) -> StageSpec {
    match s {
        StageSpec::Review {
            reviewer,
            deadline_days,
            escalate_to,
        } => StageSpec::Review {
            reviewer: trimmed(reviewer),
            deadline_days: *deadline_days,
            escalate_to: escalate_to.as_ref().map(trimmed),
        },
        StageSpec::Countersign {
            departments,
            deadline_days,
            completion,
            escalate_to,
        } => StageSpec::Countersign {
            departments: departments
                .iter()
                .map(|u| UnitCode(u.0.trim().to_owned()))
                .collect(),
            deadline_days: *deadline_days,
            completion: *completion,
            escalate_to: escalate_to.as_ref().map(trimmed),
        },
    }
}

/// The engine itself, acting for the deadline sweep.
fn system_actor() -> Actor {
    Actor {
        id: ActorId::from(SYSTEM_ACTOR),
        name: "系统".into(),
        unit: UnitCode::from(""),
        roles: Default::default(),
        clearance: Classification::TopSecret,
    }
}

/// `CountersignersNotNeeded` when a stage is decided (`after` the change) before all its
/// departments acted, so they are recorded rather than silently dropped.
fn not_needed(stage: usize, after: &Stage) -> Option<EventData> {
    let pending = after.pending();
    (after.outcome() != StageOutcome::Pending && !pending.is_empty()).then_some(
        EventData::CountersignersNotNeeded {
            stage,
            units: pending,
        },
    )
}

fn check_text(field: &str, text: &str, required: bool) -> Result<(), Error> {
    if required && text.trim().is_empty() {
        return Err(Error::field(field, "is required and may not be empty"));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::field(
            field,
            format!("longer than {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(())
}

/// An archival code (全宗号, 机构): 1–16 ASCII letters or digits.
fn check_code(field: &str, code: &str) -> Result<String, Error> {
    let code = code.trim();
    if code.is_empty() || code.len() > 16 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::field(
            field,
            format!("{code:?} is not 1-16 ASCII letters or digits"),
        ));
    }
    Ok(code.to_owned())
}

fn join(units: &[UnitCode]) -> String {
    units
        .iter()
        .map(|u| u.0.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The calendar date in China Standard Time (UTC+8), where the offices are.
pub fn china_date(at: Timestamp) -> NaiveDate {
    match FixedOffset::east_opt(8 * 3600) {
        Some(cst) => at.with_timezone(&cst).date_naive(),
        None => at.date_naive(),
    }
}
