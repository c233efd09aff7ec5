//! Folding 发文 events into an outgoing document: `apply` never fails, since every event was
//! decided against the state it is applied to. One function per step of the flow.

use std::collections::BTreeMap;

use crate::archive::ArchiveRecord;
use crate::ids::{ActorId, Timestamp, UnitCode};
use crate::opinion::Opinion;
use crate::outgoing::event::{Event, EventData};
use crate::outgoing::state::{Document, IssueRecord, Signature, State};
use crate::route::{Stage, StageOutcome, StageSpec};

/// Who gave the event being applied, and when.
#[derive(Clone, Copy)]
struct By<'a> {
    actor: &'a ActorId,
    at: Timestamp,
}

impl Document {
    /// Folds a whole stream. `None` if it is empty or does not start with `Drafted`.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a Event>) -> Option<Document> {
        let mut doc: Option<Document> = None;
        for e in events {
            match doc.as_mut() {
                Some(d) => d.apply(e),
                None => doc = Document::created_by(e),
            }
        }
        doc
    }

    /// The new document a `Drafted` event creates; `None` for any other event.
    pub fn created_by(event: &Event) -> Option<Document> {
        Document::created_from(&event.actor, event.at, &event.data)
    }

    /// As [`Document::created_by`], from the event's parts.
    pub fn created_from(actor: &ActorId, at: Timestamp, data: &EventData) -> Option<Document> {
        let EventData::Drafted {
            document_id,
            fields,
            drafter_unit,
            warnings,
        } = data
        else {
            return None;
        };
        Some(Document {
            id: *document_id,
            version: 1,
            state: State::Drafting,
            fields: fields.clone(),
            drafter: actor.clone(),
            drafter_unit: drafter_unit.clone(),
            created_at: at,
            updated_at: at,
            revision: 1,
            round: 0,
            route: Vec::new(),
            current_stage: None,
            acted_in_round: false,
            signatures: Vec::new(),
            written_date: None,
            issue: None,
            acknowledged: BTreeMap::new(),
            archive: None,
            opinions: Vec::new(),
            void_reason: None,
            warnings: warnings.clone(),
        })
    }

    /// Applies one event. Never fails: the event was decided against this state, so it fits.
    pub fn apply(&mut self, event: &Event) {
        self.apply_parts(&event.actor, event.at, &event.data);
    }

    /// As [`Document::apply`], from the event's parts.
    pub fn apply_parts(&mut self, actor: &ActorId, at: Timestamp, data: &EventData) {
        self.version += 1;
        self.updated_at = at;
        let by = By { actor, at };
        match data {
            // A second Drafted cannot be decided; ignoring it keeps `apply` total.
            EventData::Drafted { .. } => {}
            EventData::Revised { fields, warnings } => {
                self.fields = fields.clone();
                self.warnings = warnings.clone();
                self.revision += 1;
            }
            EventData::SubmittedForReview { round, route } => self.submitted(*round, route, at),
            EventData::Approved { stage, opinion, .. } => self.approved(by, *stage, opinion),
            EventData::Countersigned {
                stage,
                unit,
                agree,
                opinion,
                ..
            } => self.countersigned(by, *stage, unit, *agree, opinion),
            EventData::CountersignerAdded { stage, unit } => self.countersigner_added(*stage, unit),
            EventData::CountersignerRemoved { stage, unit } => {
                self.countersigner_removed(*stage, unit, at);
            }
            EventData::CountersignersNotNeeded { stage, units } => {
                if let Some(s) = self.route.get_mut(*stage) {
                    s.not_needed.extend(units.iter().cloned());
                }
            }
            EventData::ReviewerAdded {
                stage,
                reviewer,
                before,
            } => self.reviewer_added(*stage, reviewer, *before, at),
            EventData::Reassigned {
                stage, to, reason, ..
            } => self.reassigned(by, *stage, to, reason),
            EventData::Delegated {
                stage, to, reason, ..
            } => self.delegated(by, *stage, to, reason),
            EventData::DelegateReported {
                stage,
                agree,
                opinion,
            } => self.delegate_reported(by, *stage, *agree, opinion),
            EventData::ReturnedToStage { stage, reason, .. } => {
                self.returned_to_stage(by, *stage, reason);
            }
            EventData::Reminded { stage, .. } => self.reminded(*stage, at),
            EventData::Returned { to, reason, .. } => self.returned(by, *to, reason),
            EventData::Withdrawn { reason } => self.withdrawn(by, reason),
            EventData::Signed {
                unit,
                signer_name,
                opinion,
                date,
                ..
            } => self.signed(by, unit, signer_name, opinion, *date),
            EventData::Issued { .. } => self.issued(data),
            EventData::Acknowledged { recipient } => {
                self.acknowledged.insert(recipient.clone(), at);
            }
            EventData::Archived { .. } => self.archived(data, at),
            EventData::Voided { reason } => {
                self.void_reason = Some(reason.clone());
                self.current_stage = None;
                self.state = State::Voided;
            }
        }
    }

    // ---- 送审, 审核, 会签

    fn submitted(&mut self, round: u32, route: &[StageSpec], at: Timestamp) {
        self.round = round;
        self.route = route.iter().cloned().map(Stage::fresh).collect();
        self.acted_in_round = false;
        self.signatures.clear();
        self.written_date = None;
        self.start_stage(0, at);
    }

    fn approved(&mut self, by: By<'_>, stage: usize, opinion: &str) {
        self.acted_in_round = true;
        self.record_opinion(by, "review", Some(stage), None, true, opinion);
        self.complete_stage(stage, by.at);
    }

    fn countersigned(
        &mut self,
        by: By<'_>,
        stage: usize,
        unit: &UnitCode,
        agree: bool,
        text: &str,
    ) {
        self.acted_in_round = true;
        self.record_opinion(
            by,
            "countersign",
            Some(stage),
            Some(unit.clone()),
            agree,
            text,
        );
        if let Some(s) = self.route.get_mut(stage) {
            s.countersigns.insert(unit.clone(), agree);
        }
        self.settle_countersign(stage, by.at);
    }

    // ---- route changes: 加签/减签, 转办/委派, 退回环节, 催办

    fn countersigner_added(&mut self, stage: usize, unit: &UnitCode) {
        if let Some(Stage {
            spec: StageSpec::Countersign { departments, .. },
            ..
        }) = self.route.get_mut(stage)
        {
            departments.push(unit.clone());
        }
    }

    fn countersigner_removed(&mut self, stage: usize, unit: &UnitCode, at: Timestamp) {
        if let Some(Stage {
            spec: StageSpec::Countersign { departments, .. },
            ..
        }) = self.route.get_mut(stage)
        {
            departments.retain(|d| d != unit);
        }
        self.settle_countersign(stage, at);
    }

    fn reviewer_added(&mut self, stage: usize, reviewer: &ActorId, before: bool, at: Timestamp) {
        let new = Stage::fresh(StageSpec::review(reviewer.clone()));
        let index = stage.min(self.route.len());
        self.route.insert(index, new);
        if before {
            // The displaced stage waits again; it restarts when its turn comes.
            if let Some(next) = self.route.get_mut(index + 1) {
                next.reset();
            }
            self.start_stage(index, at);
        }
    }

    fn reassigned(&mut self, by: By<'_>, stage: usize, to: &ActorId, reason: &str) {
        if let Some(s) = self.route.get_mut(stage) {
            if let StageSpec::Review { reviewer, .. } = &mut s.spec {
                *reviewer = to.clone();
            }
            s.delegate = None;
            s.delegate_report = None;
        }
        if !reason.is_empty() {
            self.record_opinion(by, "reassign", Some(stage), None, true, reason);
        }
    }

    fn delegated(&mut self, by: By<'_>, stage: usize, to: &ActorId, reason: &str) {
        if let Some(s) = self.route.get_mut(stage) {
            s.delegate = Some(to.clone());
            s.delegate_report = None;
        }
        if !reason.is_empty() {
            self.record_opinion(by, "delegate", Some(stage), None, true, reason);
        }
    }

    fn delegate_reported(&mut self, by: By<'_>, stage: usize, agree: bool, opinion: &str) {
        self.acted_in_round = true;
        self.record_opinion(by, "delegate_report", Some(stage), None, agree, opinion);
        if let Some(s) = self.route.get_mut(stage) {
            s.delegate_report = Some(agree);
        }
    }

    fn returned_to_stage(&mut self, by: By<'_>, stage: usize, reason: &str) {
        self.record_opinion(by, "return", self.current_stage, None, false, reason);
        for s in self.route.iter_mut().skip(stage) {
            s.reset();
        }
        self.signatures.clear();
        self.written_date = None;
        self.start_stage(stage, by.at);
    }

    fn reminded(&mut self, stage: usize, at: Timestamp) {
        if let Some(s) = self.route.get_mut(stage) {
            s.last_reminded_at = Some(at);
            s.reminders += 1;
        }
    }

    // ---- 退回, 撤回

    fn returned(&mut self, by: By<'_>, to: State, reason: &str) {
        self.record_opinion(by, "return", self.current_stage, None, false, reason);
        if to == State::AwaitingSignOff {
            self.state = State::AwaitingSignOff;
            self.signatures.clear();
            self.written_date = None;
        } else {
            self.back_to_drafting();
        }
    }

    fn withdrawn(&mut self, by: By<'_>, reason: &str) {
        self.record_opinion(by, "withdraw", self.current_stage, None, false, reason);
        self.back_to_drafting();
    }

    // ---- 签发, 印发, 归档

    fn signed(
        &mut self,
        by: By<'_>,
        unit: &UnitCode,
        signer_name: &str,
        opinion: &str,
        date: chrono::NaiveDate,
    ) {
        self.record_opinion(by, "sign_off", None, Some(unit.clone()), true, opinion);
        self.signatures.push(Signature {
            unit: unit.clone(),
            actor: by.actor.clone(),
            name: signer_name.to_owned(),
            opinion: opinion.to_owned(),
            date,
        });
        if self.unsigned_units().is_empty() {
            self.state = State::SignedOff;
            self.written_date = Some(date);
        }
    }

    fn issued(&mut self, data: &EventData) {
        if let EventData::Issued {
            number,
            issue_date,
            copies,
            main_recipients,
            cc,
            printed,
        } = data
        {
            self.issue = Some(IssueRecord {
                number: number.clone(),
                issue_date: *issue_date,
                copies: *copies,
                main_recipients: main_recipients.clone(),
                cc: cc.clone(),
                printed: printed.clone(),
            });
            self.state = State::Issued;
        }
    }

    fn archived(&mut self, data: &EventData, at: Timestamp) {
        if let EventData::Archived {
            reference,
            fixity_hash,
            scheduled_retention,
            deviation,
        } = data
        {
            self.archive = Some(ArchiveRecord {
                reference: reference.clone(),
                fixity_hash: fixity_hash.clone(),
                at,
                scheduled_retention: *scheduled_retention,
                deviation: deviation.clone(),
            });
            self.state = State::Archived;
        }
    }

    // ---- shared steps

    fn record_opinion(
        &mut self,
        by: By<'_>,
        step: &str,
        stage: Option<usize>,
        unit: Option<UnitCode>,
        agree: bool,
        text: &str,
    ) {
        self.opinions.push(Opinion {
            round: self.round,
            step: step.to_owned(),
            stage,
            actor: by.actor.clone(),
            unit,
            agree,
            text: text.to_owned(),
            at: by.at,
        });
    }

    fn start_stage(&mut self, index: usize, at: Timestamp) {
        match crate::routing::start_stage(&mut self.route, index, at) {
            Some(stage) => {
                self.state = match stage.spec {
                    StageSpec::Review { .. } => State::InReview,
                    StageSpec::Countersign { .. } => State::Countersigning,
                };
                self.current_stage = Some(index);
            }
            None => {
                self.current_stage = None;
                self.state = State::AwaitingSignOff;
                self.signatures.clear();
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
        self.state = State::Drafting;
        self.current_stage = None;
    }
}
