//! Folding 收文 events into its state: one arm per event, never failing.

use chrono::NaiveDate;

use super::command::Plan;
use super::event::IncomingEvent;
use super::state::{Closure, ExtensionRequest, Instruction, Note, ReadMark, Receipt, Step};
use crate::archive::ArchiveRecord;
use crate::ids::{ActorId, Timestamp, UnitCode};
use crate::opinion::push_note;

impl Receipt {
    /// The state a `Registered` event creates.
    pub(crate) fn created(
        actor: &ActorId,
        at: Timestamp,
        event: &IncomingEvent,
    ) -> Option<Receipt> {
        let IncomingEvent::Registered {
            document_id: id,
            registration,
            unit,
            number,
        } = event
        else {
            return None;
        };
        Some(Receipt {
            id: *id,
            version: 1,
            step: Step::Registered,
            deadline: registration.deadline,
            screened_deadline: None,
            registration: registration.clone(),
            unit: unit.clone(),
            number: number.clone(),
            registrar: actor.clone(),
            created_at: at,
            updated_at: at,
            plan: None,
            leader: None,
            instruction: None,
            progress: Vec::new(),
            co_inputs: Default::default(),
            extension: None,
            readers: Default::default(),
            closure: None,
            rejection: None,
            archive: None,
            opinions: Vec::new(),
            reminders: 0,
            last_reminded_at: None,
            urged: Vec::new(),
            slip_returned: None,
            items: Vec::new(),
            acting: Default::default(),
            commented: Vec::new(),
        })
    }

    fn opinion(&mut self, step: &str, actor: &ActorId, agree: bool, text: &str, at: Timestamp) {
        push_note(&mut self.opinions, step, actor, agree, text, at);
    }

    /// Folds one more event, given by `actor` at `at`.
    pub(crate) fn apply_event(&mut self, actor: &ActorId, at: Timestamp, event: &IncomingEvent) {
        self.version += 1;
        self.updated_at = at;
        match event {
            IncomingEvent::Registered { .. } => {}
            IncomingEvent::Screened { note, deadline } => {
                self.step = Step::Proposing;
                if deadline.is_some() {
                    self.deadline = *deadline;
                    self.screened_deadline = *deadline;
                }
                self.opinion("screen", actor, true, note, at);
            }
            IncomingEvent::IncomingRejected { reason } => {
                self.step = Step::Rejected;
                self.rejection = Some(reason.clone());
                self.opinion("reject", actor, false, reason, at);
            }
            IncomingEvent::HandlingProposed { plan, opinion } => {
                self.proposed(plan);
                self.opinion("propose", actor, true, opinion, at);
            }
            IncomingEvent::Instructed { .. } => self.instructed(actor, at, event),
            IncomingEvent::InstructionTransferred { to, opinion } => {
                self.leader = Some(to.clone());
                self.opinion("transfer", actor, true, opinion, at);
            }
            IncomingEvent::ProgressRecorded { unit, text } => {
                self.progress.push(note(actor, unit, text, at));
            }
            IncomingEvent::CoInputGiven { unit, text } => {
                self.co_inputs
                    .insert(unit.clone(), note(actor, unit, text, at));
            }
            IncomingEvent::ExtensionRequested { until, reason } => {
                self.extension = Some(ExtensionRequest {
                    until: *until,
                    reason: reason.clone(),
                    by: actor.clone(),
                });
                self.opinion("extension", actor, true, reason, at);
            }
            IncomingEvent::ExtensionDecided {
                granted,
                until,
                reason,
                ..
            } => {
                if *granted {
                    self.deadline = Some(*until);
                    self.reminders = 0;
                    self.last_reminded_at = None;
                }
                self.extension = None;
                self.opinion("extension_decision", actor, *granted, reason, at);
            }
            IncomingEvent::SentBack { reason, .. } => self.sent_back(actor, at, reason),
            IncomingEvent::IncomingCompleted { result, reply } => {
                self.step = Step::Completed;
                self.closure = Some(closure(result, reply, actor, at));
            }
            IncomingEvent::Read { opinion } => self.read_by(actor, at, opinion),
            IncomingEvent::ReadersAdded { readers, act_by } => self.add_readers(readers, *act_by),
            IncomingEvent::InstructionCommented { opinion } => {
                self.commented.push(actor.clone());
                self.opinion("comment", actor, true, opinion, at);
            }
            IncomingEvent::IncomingArchived { .. } => self.archived(at, event),
            IncomingEvent::SlipReturned { note } => {
                self.slip_returned = Some(Note {
                    actor: actor.clone(),
                    unit: self.unit.clone(),
                    text: note.clone(),
                    at,
                });
            }
            IncomingEvent::IncomingUrged { message, unit } => self.urged.push(Note {
                actor: actor.clone(),
                unit: unit.clone(),
                text: message.clone(),
                at,
            }),
            IncomingEvent::IncomingReminded { .. } => {
                self.reminders += 1;
                self.last_reminded_at = Some(at);
            }
        }
    }

    /// 拟办: circulate to readers (阅知, 阅办) or ask a leader (批办, 会批).
    fn proposed(&mut self, plan: &Plan) {
        self.commented.clear();
        match plan {
            Plan::Circulate { readers, act_by } => {
                self.step = Step::Circulating;
                self.add_readers(readers, *act_by);
            }
            Plan::Instruct { leader, .. } => {
                self.step = Step::AwaitingInstruction;
                self.leader = Some(leader.clone());
            }
        }
        self.plan = Some(plan.clone());
    }

    /// 传阅 to `readers`: 阅办 by `act_by` where given, else 阅知. A reader already on the
    /// list keeps their place (and mark).
    fn add_readers(&mut self, readers: &[ActorId], act_by: Option<NaiveDate>) {
        for r in readers {
            self.readers.entry(r.clone()).or_insert(None);
            if let Some(d) = act_by {
                self.acting.insert(r.clone(), d);
            }
        }
    }

    /// 批办: the leader's instruction starts the handling, with its deadline.
    fn instructed(&mut self, actor: &ActorId, at: Timestamp, event: &IncomingEvent) {
        let IncomingEvent::Instructed {
            lead_unit,
            co_units,
            deadline,
            opinion,
            supervise,
        } = event
        else {
            return;
        };
        self.step = Step::InHandling;
        self.instruction = Some(Instruction {
            leader: actor.clone(),
            lead_unit: lead_unit.clone(),
            co_units: co_units.clone(),
            deadline: *deadline,
            supervise: *supervise,
        });
        self.leader = None;
        self.deadline = Some(*deadline);
        self.co_inputs.clear();
        self.extension = None;
        self.reminders = 0;
        self.last_reminded_at = None;
        if *supervise {
            // The item the engine opens for it, in the same commit (see reactions).
            self.items
                .push(crate::links::linked_item_id(self.id, self.version));
        }
        self.opinion("instruct", actor, true, opinion, at);
    }

    /// 退回拟办: back to 拟办, after 初审, with the deadline 初审 set (else the
    /// registration's).
    fn sent_back(&mut self, actor: &ActorId, at: Timestamp, reason: &str) {
        self.step = Step::Proposing;
        self.commented.clear();
        self.plan = None;
        self.instruction = None;
        self.extension = None;
        self.deadline = self.screened_deadline.or(self.registration.deadline);
        self.opinion("send_back", actor, false, reason, at);
    }

    /// 已阅: one reader read it; the last one completes the circulation.
    fn read_by(&mut self, actor: &ActorId, at: Timestamp, opinion: &str) {
        self.readers.insert(
            actor.clone(),
            Some(ReadMark {
                at,
                opinion: opinion.to_owned(),
            }),
        );
        self.opinion("read", actor, true, opinion, at);
        // A circulation (传阅) ends with its last reader; readers beside a 批办 do not
        // end the handling.
        if self.step == Step::Circulating && self.readers.values().all(Option::is_some) {
            self.step = Step::Completed;
            self.closure = Some(closure("传阅完毕", "", actor, at));
        }
    }

    /// 归档.
    fn archived(&mut self, at: Timestamp, event: &IncomingEvent) {
        let IncomingEvent::IncomingArchived {
            reference,
            fixity_hash,
            scheduled_retention,
            deviation,
        } = event
        else {
            return;
        };
        self.step = Step::Archived;
        self.archive = Some(ArchiveRecord {
            reference: reference.clone(),
            fixity_hash: fixity_hash.clone(),
            at,
            scheduled_retention: Some(*scheduled_retention),
            deviation: deviation.clone(),
        });
    }
}

/// A note of the handling (承办, 协办) by `actor` of `unit`.
fn note(actor: &ActorId, unit: &UnitCode, text: &str, at: Timestamp) -> Note {
    Note {
        actor: actor.clone(),
        unit: unit.clone(),
        text: text.to_owned(),
        at,
    }
}

/// How a 收文 was closed (办结).
fn closure(result: &str, reply: &str, by: &ActorId, at: Timestamp) -> Closure {
    Closure {
        result: result.to_owned(),
        reply: reply.to_owned(),
        by: by.clone(),
        at,
    }
}
