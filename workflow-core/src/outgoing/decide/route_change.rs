//! Route changes (DESIGN §2b): 加签/减签, 转办/委派, return to an earlier stage, and the
//! deadline sweep's 催办.

use super::countersign::not_needed;
use super::*;
use crate::ids::{ActorId, UnitCode};
use crate::outgoing::event::EventData;
use crate::route::StageSpec;
use crate::routing::cannot_countersign;

impl Decide<'_> {
    pub(super) fn remove_countersigner(
        &self,
        unit: &UnitCode,
        stage: Option<usize>,
    ) -> Result<Vec<EventData>, Error> {
        let _d = self.doc;

        self.require_state(&[State::Countersigning])?;
        let (index, current) = self.require_stage_manager(stage)?;
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

    pub(super) fn add_reviewer(
        &self,
        reviewer: &ActorId,
        before: bool,
        stage: Option<usize>,
    ) -> Result<Vec<EventData>, Error> {
        let d = self.doc;

        self.require_meant_stage(stage)?;
        self.require_state(&[State::InReview])?;
        let (index, current) = self.require_stage_manager(None)?;
        if current.delegate.is_some() && current.delegate_report.is_none() {
            return Err(self.not_now("the stage is delegated; wait for the delegate's report"));
        }
        if d.route().len() >= MAX_STAGES {
            return Err(Error::field(
                "reviewer",
                format!("a route has at most {MAX_STAGES} stages"),
            ));
        }
        let reviewer = self.check_reviewer("reviewer", reviewer)?;
        Ok(vec![EventData::ReviewerAdded {
            stage: if before { index } else { index + 1 },
            reviewer,
            before,
        }])
    }

    pub(super) fn reassign(
        &self,
        to: &ActorId,
        reason: &str,
        stage: Option<usize>,
    ) -> Result<Vec<EventData>, Error> {
        self.require_meant_stage(stage)?;
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

    pub(super) fn delegate(
        &self,
        to: &ActorId,
        reason: &str,
        stage: Option<usize>,
    ) -> Result<Vec<EventData>, Error> {
        self.require_meant_stage(stage)?;
        self.require_state(&[State::InReview])?;
        let (stage, as_delegate) = self.require_current_reviewer()?;
        let current = self.current_stage_clone()?;
        if as_delegate || (current.delegate.is_some() && current.delegate_report.is_none()) {
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

    pub(super) fn return_to_stage(
        &self,
        stage: usize,
        reason: &str,
        from_stage: Option<usize>,
    ) -> Result<Vec<EventData>, Error> {
        let d = self.doc;

        self.require_meant_stage(from_stage)?;
        self.require_state(&[
            State::InReview,
            State::Countersigning,
            State::AwaitingSignOff,
        ])?;
        let limit = match d.current() {
            Some((i, _)) => i,
            None => d.route().len(),
        };
        if stage >= limit {
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
                    stage_label(stage)
                ),
            ));
        }
        if !self.actor.has_role(Role::Clerk) {
            self.require_may_return()?;
        }
        check_text("reason", reason, true)?;
        Ok(vec![EventData::ReturnedToStage {
            from: d.state(),
            stage,
            reason: reason.trim().to_owned(),
        }])
    }

    pub(super) fn remind(&self, interval_hours: u32) -> Result<Vec<EventData>, Error> {
        let d = self.doc;

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
            return Err(self.not_now(&format!("the stage is due at {due_at}, not overdue yet")));
        }
        if interval_hours == 0 {
            return Err(Error::field("interval_hours", "must be at least 1"));
        }
        if let Some(last) = current.last_reminded_at
            && last
                .checked_add_signed(chrono::Duration::hours(i64::from(interval_hours)))
                .is_none_or(|next| self.at < next)
        {
            return Err(self.not_now(&format!("already reminded at {last}, within the interval")));
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

    pub(super) fn add_countersigner(
        &self,
        unit: &UnitCode,
        stage: Option<usize>,
    ) -> Result<Vec<EventData>, Error> {
        let d = self.doc;

        self.require_state(&[State::Countersigning])?;
        let (index, current) = self.require_stage_manager(stage)?;
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
}
