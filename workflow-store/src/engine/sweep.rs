//! The deadline sweep (催办): it writes, so it lives on the write side. Each reminder's
//! command id is derived from the document, round, stage, stage start and reminder count, so
//! racing or repeated sweeps cannot remind twice; a dry run decides the same way and writes
//! nothing.

use workflow_core::{
    ActorId, DocumentId, FlowAction, FlowCommand, FlowState, Timestamp, UnitCode, flow::ReminderDue,
};

use super::{Engine, Outcome, Request};
use crate::directory::DirectoryCache;
use crate::error::{Error, Result};

/// A 催办 reminder the deadline sweep would send (see [`Engine::due_reminders`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueReminder {
    /// The document.
    pub document_id: DocumentId,
    /// Its title.
    pub title: String,
    /// The overdue stage (0-based).
    pub stage: usize,
    /// When it was due.
    pub due_at: Timestamp,
    /// Whom it waits for, as to-do keys (`li.qiang`, `Countersigner@RSC`).
    pub waiting_for: Vec<String>,
    /// The actor it would be escalated to, if the route names one.
    pub escalated_to: Option<ActorId>,
    /// Reminders the stage already had.
    pub reminders_before: u32,
}

/// The directory as a decision's context, for decisions that are reported, never appended
/// (a dry run of the sweep). It draws no numbers and keeps no chain: `Remind` needs neither.
struct ReadOnlyContext<'a>(
    &'a DirectoryCache,
    &'a workflow_core::archive::RetentionSchedule,
);

impl workflow_core::Context for ReadOnlyContext<'_> {
    fn actor(&self, id: &ActorId) -> Option<workflow_core::directory::Actor> {
        self.0.actors.get(id).cloned()
    }
    fn unit(&self, code: &UnitCode) -> Option<workflow_core::directory::Unit> {
        self.0.units.get(code).cloned()
    }
    fn next_number(
        &self,
        series: &workflow_core::numbering::Series,
    ) -> std::result::Result<u32, workflow_core::context::ContextError> {
        Err(workflow_core::context::ContextError(
            format!("a read-only decision draws no numbers ({series:?})").into(),
        ))
    }
    fn fixity_hash(
        &self,
    ) -> std::result::Result<Option<String>, workflow_core::context::ContextError> {
        Ok(None)
    }
    fn actors_of(&self, unit: &UnitCode) -> Vec<workflow_core::directory::Actor> {
        self.0.actors_of(unit)
    }
    fn retention_schedule(&self) -> &workflow_core::archive::RetentionSchedule {
        self.1
    }
}

impl Engine {
    /// The streams whose current step is overdue at `now` and was not reminded within the
    /// interval, each with the reminder its flow says is due (whose key is the command id
    /// it takes, so that racing or repeated sweeps cannot remind twice).
    fn due_for_reminders(
        &self,
        now: Timestamp,
        interval_hours: u32,
    ) -> Result<Vec<(FlowState, ReminderDue<FlowAction>)>> {
        if interval_hours == 0 {
            return Err(Error::InvalidRequest {
                field: "interval_hours",
                reason: "must be at least 1".into(),
            });
        }
        let mut due = Vec::new();
        for id in self.inner.storage.due_before(now)? {
            let Some(record) = self.inner.storage.doc(id)? else {
                continue;
            };
            if let Some(reminder) = record.state.reminder(now, interval_hours) {
                due.push((record.state, reminder));
            }
        }
        Ok(due)
    }

    /// What the deadline sweep would send at `now` (any time: "what is overdue tomorrow at
    /// nine?"), decided by the same rule, without appending anything.
    pub fn due_reminders(&self, now: Timestamp, interval_hours: u32) -> Result<Vec<DueReminder>> {
        let due = self.due_for_reminders(now, interval_hours)?;
        let directory = self.inner.directory.read().map_err(|_| Error::Closed)?;
        let ctx = ReadOnlyContext(&directory, &self.inner.retention_schedule);
        let mut out = Vec::new();
        for (state, reminder) in due {
            let command = FlowCommand {
                document_id: state.id(),
                actor: ActorId::from(workflow_core::ids::SYSTEM_ACTOR),
                at: now,
                action: reminder.action,
            };
            // Refused means not due after all (the rule in the core has the last word).
            let Ok(events) = workflow_core::decide(Some(&state), &command, &ctx) else {
                continue;
            };
            for sent in events.iter().filter_map(|e| e.data.reminded()) {
                out.push(DueReminder {
                    document_id: state.id(),
                    title: state.title().to_owned(),
                    stage: sent.stage,
                    due_at: sent.due_at,
                    waiting_for: sent.waiting_for,
                    escalated_to: sent.escalated_to,
                    reminders_before: reminder.reminders_before,
                });
            }
        }
        Ok(out)
    }

    /// The deadline sweep (催办): for every running step past its deadline that was not
    /// reminded within `interval_hours`, appends the reminder its flow gives (escalated
    /// where the route names someone). Returns the outcomes appended.
    ///
    /// Safe to run from several places at once and after restarts: each reminder's command
    /// id is derived from the stream, round, stage, stage start and reminder count, so a
    /// second sweep for the same reminder is answered from the idempotency record.
    pub async fn sweep_deadlines(
        &self,
        now: Timestamp,
        interval_hours: u32,
    ) -> Result<Vec<Outcome>> {
        let due = self.due_for_reminders(now, interval_hours)?;
        let mut outcomes = Vec::new();
        for (state, reminder) in due {
            let request = Request {
                command_id: reminder.key,
                document_id: state.id(),
                actor: ActorId::from(workflow_core::ids::SYSTEM_ACTOR),
                at: Some(now),
                expected_version: None,
                action: reminder.action,
            };
            match self.execute(request).await {
                Ok(o) if !o.replayed => outcomes.push(o),
                Ok(_) => {}
                // The stream moved on since it was listed: nothing to remind. (A reminder
                // key sent before with another interval was sent: nothing to remind either.)
                Err(Error::Rejected(_) | Error::CommandIdMismatch { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        crate::telemetry::sweep(outcomes.len());
        Ok(outcomes)
    }
}
