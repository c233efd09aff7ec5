//! Folding 督办 events into its state: one arm per event, never failing.

use super::command::ReminderReason;
use super::event::SupervisionEvent;
use super::state::{
    CoInput, CompletionReport, ExtensionDecision, Feedback, Item, ItemExtensionRequest, ItemStep,
    Urged,
};
use crate::archive::ArchiveRecord;
use crate::ids::SYSTEM_ACTOR;
use crate::ids::{ActorId, Timestamp};
use crate::opinion::push_note;

impl Item {
    /// The state an `ItemOpened` event creates.
    pub(crate) fn created(
        actor: &ActorId,
        at: Timestamp,
        event: &SupervisionEvent,
    ) -> Option<Item> {
        let SupervisionEvent::ItemOpened {
            document_id,
            spec,
            number,
            co_input_required,
        } = event
        else {
            return None;
        };
        Some(Item {
            id: *document_id,
            number: *number,
            version: 1,
            step: ItemStep::Opened,
            supervisor: (actor.0 != SYSTEM_ACTOR).then(|| actor.clone()),
            responsible: spec.responsible.clone(),
            deadline: spec.deadline,
            spec: spec.clone(),
            opened_at: at,
            accepted_at: None,
            updated_at: at,
            feedback: Vec::new(),
            extension: None,
            extensions: Vec::new(),
            completion: None,
            closed_at: None,
            archive: None,
            opinions: Vec::new(),
            reminders: Default::default(),
            urged: Vec::new(),
            grade: None,
            co_input_required: *co_input_required,
            co_inputs: Default::default(),
        })
    }

    fn opinion(&mut self, step: &str, actor: &ActorId, agree: bool, text: &str, at: Timestamp) {
        push_note(&mut self.opinions, step, actor, agree, text, at);
    }

    /// Folds one more event, given by `actor` at `at`.
    pub(crate) fn apply_event(&mut self, actor: &ActorId, at: Timestamp, event: &SupervisionEvent) {
        self.version += 1;
        self.updated_at = at;
        match event {
            SupervisionEvent::ItemOpened { .. } => {}
            SupervisionEvent::ItemCoInputGiven { unit, text } => {
                self.co_inputs.insert(
                    unit.clone(),
                    CoInput {
                        actor: actor.clone(),
                        text: text.clone(),
                        at,
                    },
                );
            }
            SupervisionEvent::ItemAccepted { responsible, note } => {
                self.step = ItemStep::Assigned;
                self.responsible = Some(responsible.clone());
                self.accepted_at = Some(at);
                self.opinion("accept", actor, true, note, at);
            }
            SupervisionEvent::ItemProgressReported { text, percent } => {
                self.progress_reported(Feedback {
                    actor: actor.clone(),
                    text: text.clone(),
                    percent: *percent,
                    at,
                });
            }
            SupervisionEvent::ItemExtensionRequested { until, reason } => {
                self.extension = Some(ItemExtensionRequest {
                    until: *until,
                    reason: reason.clone(),
                    by: actor.clone(),
                    at,
                });
                self.opinion("extension", actor, true, reason, at);
            }
            SupervisionEvent::ItemExtensionDecided {
                granted,
                from,
                until,
                reason,
            } => {
                let decision = ExtensionDecision {
                    granted: *granted,
                    from: *from,
                    until: *until,
                    at,
                };
                self.extension_decided(decision);
                self.opinion("extension_decision", actor, *granted, reason, at);
            }
            SupervisionEvent::ItemCompletionReported { result } => {
                self.opinion("completion", actor, true, result, at);
                self.completion_reported(CompletionReport {
                    result: result.clone(),
                    by: actor.clone(),
                    at,
                });
            }
            SupervisionEvent::ItemClosed { note, grade } => {
                self.step = ItemStep::Closed;
                self.closed_at = Some(at);
                self.grade = *grade;
                self.opinion("close", actor, true, note, at);
            }
            SupervisionEvent::ItemReturned { reason } => {
                // The report sent back is no longer in force (it stays among the opinions).
                self.step = ItemStep::InProgress;
                self.completion = None;
                self.opinion("return", actor, false, reason, at);
            }
            SupervisionEvent::ItemArchived {
                reference,
                fixity_hash,
                scheduled_retention,
                deviation,
            } => {
                self.step = ItemStep::Archived;
                self.archive = Some(ArchiveRecord {
                    reference: reference.clone(),
                    fixity_hash: fixity_hash.clone(),
                    at,
                    scheduled_retention: Some(*scheduled_retention),
                    deviation: deviation.clone(),
                });
            }
            SupervisionEvent::ItemWithdrawn { reason } => {
                self.step = ItemStep::Withdrawn;
                self.extension = None;
                self.opinion("revoke", actor, false, reason, at);
            }
            SupervisionEvent::ItemUrged { message, to } => self.urged.push(Urged {
                by: actor.clone(),
                message: message.clone(),
                to: to.clone(),
                at,
            }),
            SupervisionEvent::ItemReminded { reason, .. } => {
                let r = self.reminders.entry(*reason).or_default();
                r.count += 1;
                r.last_at = Some(at);
            }
        }
    }

    /// 进展反馈: the next feedback is counted from this one.
    fn progress_reported(&mut self, feedback: Feedback) {
        self.step = ItemStep::InProgress;
        self.feedback.push(feedback);
        self.reminders.remove(&ReminderReason::Feedback);
    }

    /// 办结报告: the report waits for the supervisor (an extension asked for lapses).
    fn completion_reported(&mut self, report: CompletionReport) {
        self.step = ItemStep::CompletionReported;
        self.extension = None;
        self.completion = Some(report);
    }

    /// 延期审批: a new deadline is warned of and reminded afresh.
    fn extension_decided(&mut self, decision: ExtensionDecision) {
        if decision.granted {
            self.deadline = decision.until;
            self.reminders.remove(&ReminderReason::Approaching);
            self.reminders.remove(&ReminderReason::Overdue);
        }
        self.extension = None;
        self.extensions.push(decision);
    }
}
