//! 送审, 审核通过, 撤回 and 退回: a round along the route, its review stages, and going back.

use super::countersign::cannot_countersign;
use super::*;
use crate::outgoing::event::EventData;
use crate::route::StageSpec;

impl Decide<'_> {
    pub(super) fn submit_for_review(&self, route: &[StageSpec]) -> Result<Vec<EventData>, Error> {
        let d = self.doc;

        self.require_state(&[State::Drafting])?;
        self.require_drafter()?;
        self.validate_route(route)?;
        Ok(vec![EventData::SubmittedForReview {
            round: d.round() + 1,
            route: route.iter().map(normalized_stage).collect(),
        }])
    }

    pub(super) fn approve(
        &self,
        opinion: &str,
        stage: Option<usize>,
    ) -> Result<Vec<EventData>, Error> {
        self.require_meant_stage(stage)?;
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

    pub(super) fn return_from(
        &self,
        reason: &str,
        stage: Option<usize>,
    ) -> Result<Vec<EventData>, Error> {
        self.require_meant_stage(stage)?;
        self.return_(reason)
    }

    pub(super) fn withdraw(&self, reason: &str) -> Result<Vec<EventData>, Error> {
        let d = self.doc;

        self.require_state(&[State::InReview, State::Countersigning])?;
        self.require_drafter()?;
        check_text("reason", reason, false)?;
        if d.acted_in_round() {
            return Err(self.not_now("a reviewer or department has already acted in this round"));
        }
        Ok(vec![EventData::Withdrawn {
            reason: reason.trim().to_owned(),
        }])
    }

    pub(super) fn return_(&self, reason: &str) -> Result<Vec<EventData>, Error> {
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
                return Err(wrong_state(self.name, from));
            }
        };
        check_text("reason", reason, true)?;
        Ok(vec![EventData::Returned {
            from,
            to,
            reason: reason.trim().to_owned(),
        }])
    }

    pub(super) fn validate_route(&self, route: &[StageSpec]) -> Result<(), Error> {
        if route.is_empty() {
            return Err(Error::field("route", "a route needs at least one stage"));
        }
        if route.len() > MAX_STAGES {
            return Err(Error::field(
                "route",
                format!("a route has at most {MAX_STAGES} stages"),
            ));
        }
        for (i, stage) in route.iter().enumerate() {
            self.validate_deadline(i, stage)?;
            match stage {
                StageSpec::Review { reviewer, .. } => self.validate_reviewer(i, reviewer)?,
                StageSpec::Countersign {
                    departments,
                    completion,
                    ..
                } => self.validate_countersign(i, departments, *completion)?,
            }
        }
        Ok(())
    }

    /// A stage's time limit and whom it escalates to.
    fn validate_deadline(&self, i: usize, stage: &StageSpec) -> Result<(), Error> {
        if let Some(days) = stage.deadline_days()
            && (days == 0 || days > MAX_DEADLINE_DAYS)
        {
            return Err(Error::field(
                format!("route[{i}].deadline_days"),
                format!("must be between 1 and {MAX_DEADLINE_DAYS}"),
            ));
        }
        if let Some(to) = stage.escalate_to() {
            let classification = self.doc.classification();
            let field = format!("route[{i}].escalate_to");
            match self.ctx.actor(&trimmed(to)) {
                None => return Err(Error::field(field, format!("unknown actor {to}"))),
                Some(a) if self.ctx.is_deactivated(&a.id) => {
                    return Err(Error::NamedActorDeactivated { field, actor: a.id });
                }
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
        Ok(())
    }

    /// A review stage's reviewer: exists, holds Reviewer, cleared for the document.
    fn validate_reviewer(&self, i: usize, reviewer: &ActorId) -> Result<(), Error> {
        let classification = self.doc.classification();
        let field = format!("route[{i}].reviewer");
        if reviewer.0.trim().is_empty() {
            return Err(Error::field(field, "a review stage needs a reviewer"));
        }
        let Some(r) = self.ctx.actor(&trimmed(reviewer)) else {
            return Err(Error::field(field, format!("unknown actor {reviewer}")));
        };
        if self.ctx.is_deactivated(&r.id) {
            return Err(Error::NamedActorDeactivated { field, actor: r.id });
        }
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
        Ok(())
    }

    /// A countersign stage's departments and rule, which must be able to complete.
    fn validate_countersign(
        &self,
        i: usize,
        departments: &[UnitCode],
        completion: Completion,
    ) -> Result<(), Error> {
        if let Completion::Ratio { percent } = completion
            && !(1..=100).contains(&percent)
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
        let classification = self.doc.classification();
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
            Completion::Ratio { percent } => able * 100 >= usize::from(percent) * departments.len(),
        };
        if !completes {
            return Err(Error::field(
                field,
                format!("{}: the stage could never complete", unable.join("; ")),
            ));
        }
        Ok(())
    }
}

pub(super) fn normalized_stage(s: &StageSpec) -> StageSpec {
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
