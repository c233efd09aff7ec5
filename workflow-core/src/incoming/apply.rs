//! Folding 收文 events into its state: one arm per event, never failing.

use super::command::Plan;
use super::event::IncomingEvent;
use super::state::{Closure, ExtensionRequest, Instruction, Note, ReadMark, Receipt, Step};
use crate::archive::ArchiveRecord;
use crate::ids::{ActorId, Timestamp};
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
            items: Vec::new(),
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
                match plan {
                    Plan::Circulate { readers } => {
                        self.step = Step::Circulating;
                        self.readers = readers.iter().map(|r| (r.clone(), None)).collect();
                    }
                    Plan::Instruct { leader } => {
                        self.step = Step::AwaitingInstruction;
                        self.leader = Some(leader.clone());
                    }
                }
                self.plan = Some(plan.clone());
                self.opinion("propose", actor, true, opinion, at);
            }
            IncomingEvent::Instructed {
                lead_unit,
                co_units,
                deadline,
                opinion,
                supervise,
            } => {
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
            IncomingEvent::InstructionTransferred { to, opinion } => {
                self.leader = Some(to.clone());
                self.opinion("transfer", actor, true, opinion, at);
            }
            IncomingEvent::ProgressRecorded { unit, text } => self.progress.push(Note {
                actor: actor.clone(),
                unit: unit.clone(),
                text: text.clone(),
                at,
            }),
            IncomingEvent::CoInputGiven { unit, text } => {
                self.co_inputs.insert(
                    unit.clone(),
                    Note {
                        actor: actor.clone(),
                        unit: unit.clone(),
                        text: text.clone(),
                        at,
                    },
                );
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
            IncomingEvent::SentBack { reason, .. } => {
                self.step = Step::Proposing;
                self.plan = None;
                self.instruction = None;
                self.extension = None;
                // Back to 拟办, after 初审: the deadline 初审 set (else the registration's).
                self.deadline = self.screened_deadline.or(self.registration.deadline);
                self.opinion("send_back", actor, false, reason, at);
            }
            IncomingEvent::IncomingCompleted { result, reply } => {
                self.step = Step::Completed;
                self.closure = Some(Closure {
                    result: result.clone(),
                    reply: reply.clone(),
                    by: actor.clone(),
                    at,
                });
            }
            IncomingEvent::Read { opinion } => {
                self.readers.insert(
                    actor.clone(),
                    Some(ReadMark {
                        at,
                        opinion: opinion.clone(),
                    }),
                );
                self.opinion("read", actor, true, opinion, at);
                if self.readers.values().all(Option::is_some) {
                    self.step = Step::Completed;
                    self.closure = Some(Closure {
                        result: "传阅完毕".into(),
                        reply: String::new(),
                        by: actor.clone(),
                        at,
                    });
                }
            }
            IncomingEvent::ReadersAdded { readers } => {
                for r in readers {
                    self.readers.entry(r.clone()).or_insert(None);
                }
            }
            IncomingEvent::IncomingArchived {
                reference,
                fixity_hash,
                scheduled_retention,
                deviation,
            } => {
                self.step = Step::Archived;
                self.archive = Some(ArchiveRecord {
                    reference: reference.clone(),
                    fixity_hash: fixity_hash.clone(),
                    at,
                    scheduled_retention: Some(*scheduled_retention),
                    deviation: deviation.clone(),
                });
            }
            IncomingEvent::IncomingReminded { .. } => {
                self.reminders += 1;
                self.last_reminded_at = Some(at);
            }
        }
    }
}
