//! 送审, 审核通过, 撤回 and 退回: a round along the route, its review stages, and going back.

use super::*;
use crate::outgoing::event::EventData;
use crate::route::StageSpec;

impl Decide<'_> {
    pub(super) fn submit_for_review(&self, route: &[StageSpec]) -> Result<Vec<EventData>, Error> {
        let d = self.doc;

        self.require_state(&[State::Drafting])?;
        self.require_drafter()?;
        let route = crate::routing::check_route(self.ctx, d.classification(), route)?;
        Ok(vec![EventData::SubmittedForReview {
            round: d.round() + 1,
            route,
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
            EventData::Approved {
                stage,
                opinion,
                content: self.main_file(),
            }
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
}
