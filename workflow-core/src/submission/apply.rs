//! Folding 签报 events into its state: one arm per event, never failing.

use super::event::SubmissionEvent;
use super::state::{Directive, Memo, Step};
use crate::archive::ArchiveRecord;
use crate::ids::{ActorId, Timestamp, UnitCode};
use crate::links::linked_item_id;
use crate::opinion::Opinion;
use crate::route::{Stage, StageOutcome, StageSpec};

impl Memo {
    /// The state a `MemoDrafted` event creates.
    pub(crate) fn created(actor: &ActorId, at: Timestamp, event: &SubmissionEvent) -> Option<Memo> {
        let SubmissionEvent::MemoDrafted {
            document_id,
            fields,
            unit,
        } = event
        else {
            return None;
        };
        Some(Memo {
            id: *document_id,
            version: 1,
            step: Step::Drafting,
            fields: fields.clone(),
            unit: unit.clone(),
            drafter: actor.clone(),
            created_at: at,
            updated_at: at,
            revision: 1,
            round: 0,
            route: Vec::new(),
            current_stage: None,
            number: None,
            leaders: Vec::new(),
            directives: Vec::new(),
            items: Vec::new(),
            closing_note: None,
            archive: None,
            opinions: Vec::new(),
            void_reason: None,
            reminders: 0,
        })
    }

    /// Folds one more event, given by `actor` at `at`.
    pub(crate) fn apply_event(&mut self, actor: &ActorId, at: Timestamp, event: &SubmissionEvent) {
        self.version += 1;
        self.updated_at = at;
        match event {
            SubmissionEvent::MemoDrafted { .. } => {}
            SubmissionEvent::MemoRevised { fields } => {
                self.fields = fields.clone();
                self.revision += 1;
            }
            SubmissionEvent::MemoSubmitted { round, route } => {
                self.round = *round;
                self.route = route.iter().cloned().map(Stage::fresh).collect();
                self.start_stage(0, at);
            }
            SubmissionEvent::MemoApproved { stage, opinion, .. } => {
                self.opinion("review", Some(*stage), None, actor, true, opinion, at);
                self.complete_stage(*stage, at);
            }
            SubmissionEvent::MemoCountersigned {
                stage,
                unit,
                agree,
                opinion,
                ..
            } => self.countersigned(actor, at, *stage, unit, *agree, opinion),
            SubmissionEvent::MemoCountersignersNotNeeded { stage, units } => {
                if let Some(s) = self.route.get_mut(*stage) {
                    s.not_needed.extend(units.iter().cloned());
                }
            }
            SubmissionEvent::MemoReturned { reason, .. } => {
                self.opinion("return", self.current_stage, None, actor, false, reason, at);
                self.back_to_drafting();
            }
            SubmissionEvent::MemoAccepted {
                number,
                opinion,
                leaders,
            } => self.accepted(actor, at, number.as_ref(), opinion, leaders),
            SubmissionEvent::MemoEndorsed {
                decision,
                text,
                supervise,
                ..
            } => self.endorsed(actor, at, *decision, text, supervise.is_some()),
            SubmissionEvent::MemoReferred { to, opinion } => {
                self.opinion("transfer", None, None, actor, true, opinion, at);
                match self.leaders.first_mut() {
                    Some(first) => *first = to.clone(),
                    None => self.leaders.push(to.clone()),
                }
            }
            SubmissionEvent::MemoClosed { note } => {
                self.opinion("close", None, None, actor, true, note, at);
                self.closing_note = Some(note.clone());
                self.step = Step::Closed;
            }
            SubmissionEvent::MemoArchived {
                reference,
                fixity_hash,
                scheduled_retention,
                deviation,
            } => {
                self.archive = Some(ArchiveRecord {
                    reference: reference.clone(),
                    fixity_hash: fixity_hash.clone(),
                    at,
                    scheduled_retention: Some(*scheduled_retention),
                    deviation: deviation.clone(),
                });
                self.step = Step::Archived;
            }
            SubmissionEvent::MemoVoided { reason } => {
                self.opinion("void", None, None, actor, false, reason, at);
                self.void_reason = Some(reason.clone());
                self.current_stage = None;
                self.step = Step::Voided;
            }
            SubmissionEvent::MemoReminded { stage, .. } => {
                self.reminders += 1;
                if let Some(s) = self.route.get_mut(*stage) {
                    s.reminders += 1;
                    s.last_reminded_at = Some(at);
                }
            }
        }
    }

    fn countersigned(
        &mut self,
        actor: &ActorId,
        at: Timestamp,
        stage: usize,
        unit: &UnitCode,
        agree: bool,
        opinion: &str,
    ) {
        let unit = Some(unit.clone());
        self.opinion(
            "countersign",
            Some(stage),
            unit.clone(),
            actor,
            agree,
            opinion,
            at,
        );
        if let (Some(s), Some(u)) = (self.route.get_mut(stage), unit) {
            s.countersigns.insert(u, agree);
        }
        self.settle_countersign(stage, at);
    }

    /// 核稿: the number (drawn the first time), the 拟办意见, the leaders in turn.
    fn accepted(
        &mut self,
        actor: &ActorId,
        at: Timestamp,
        number: Option<&super::state::MemoNumber>,
        opinion: &str,
        leaders: &[ActorId],
    ) {
        if let Some(n) = number {
            self.number = Some(n.clone());
        }
        self.opinion("office", None, None, actor, true, opinion, at);
        self.leaders = leaders.to_vec();
        self.step = Step::AwaitingInstruction;
    }

    /// A 批示: recorded, the turn passes to the next leader, and the last one decides.
    fn endorsed(
        &mut self,
        actor: &ActorId,
        at: Timestamp,
        decision: super::command::Decision,
        text: &str,
        supervise: bool,
    ) {
        self.opinion("instruct", None, None, actor, decision.agrees(), text, at);
        self.directives.push(Directive {
            leader: actor.clone(),
            decision,
            text: text.to_owned(),
            at,
        });
        if supervise {
            self.items.push(linked_item_id(self.id, self.version));
        }
        if !self.leaders.is_empty() {
            self.leaders.remove(0);
        }
        if self.leaders.is_empty() {
            self.step = Step::Decided;
        }
    }

    #[allow(clippy::too_many_arguments)] // one opinion's fields, as recorded
    fn opinion(
        &mut self,
        step: &str,
        stage: Option<usize>,
        unit: Option<UnitCode>,
        actor: &ActorId,
        agree: bool,
        text: &str,
        at: Timestamp,
    ) {
        // An empty note (an 审核 without 意见, a 办结 without 说明) is no opinion.
        if text.trim().is_empty() && step != "review" && step != "countersign" {
            return;
        }
        self.opinions.push(Opinion {
            round: self.round,
            step: step.to_owned(),
            stage,
            actor: actor.clone(),
            unit,
            agree,
            text: text.to_owned(),
            at,
        });
    }

    fn start_stage(&mut self, index: usize, at: Timestamp) {
        match crate::routing::start_stage(&mut self.route, index, at) {
            Some(stage) => {
                self.step = match stage.spec {
                    StageSpec::Review { .. } => Step::InReview,
                    StageSpec::Countersign { .. } => Step::Countersigning,
                };
                self.current_stage = Some(index);
            }
            // Past the last stage: to the general office's 核稿.
            None => {
                self.current_stage = None;
                self.step = Step::OfficeReview;
            }
        }
    }

    fn complete_stage(&mut self, index: usize, at: Timestamp) {
        if let Some(stage) = self.route.get_mut(index) {
            stage.completed = true;
        }
        self.start_stage(index + 1, at);
    }

    /// Moves a countersign stage on, or back to the drafter, once its rule decides.
    fn settle_countersign(&mut self, stage: usize, at: Timestamp) {
        if self.current_stage != Some(stage) {
            return;
        }
        match self.route.get(stage).map(Stage::outcome) {
            Some(StageOutcome::Complete) => self.complete_stage(stage, at),
            Some(StageOutcome::Failed) => self.back_to_drafting(),
            _ => {}
        }
    }

    fn back_to_drafting(&mut self) {
        self.step = Step::Drafting;
        self.current_stage = None;
        self.leaders.clear();
    }
}
