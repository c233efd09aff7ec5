//! The deadline sweep (催办): it writes, so it lives on the write side. Each reminder's
//! command id is derived from the document, round, stage, stage start and reminder count, so
//! racing or repeated sweeps cannot remind twice; a dry run decides the same way and writes
//! nothing.

use workflow_core::{ActorId, Document, DocumentId, Timestamp, UnitCode};

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
struct ReadOnlyContext<'a>(&'a DirectoryCache, &'a workflow_core::RetentionSchedule);

impl workflow_core::Context for ReadOnlyContext<'_> {
    fn actor(&self, id: &ActorId) -> Option<workflow_core::Actor> {
        self.0.actors.get(id).cloned()
    }
    fn unit(&self, code: &UnitCode) -> Option<workflow_core::Unit> {
        self.0.units.get(code).cloned()
    }
    fn next_number(
        &self,
        series: &workflow_core::Series,
    ) -> std::result::Result<u32, workflow_core::ContextError> {
        Err(workflow_core::ContextError(
            format!("a read-only decision draws no numbers ({series:?})").into(),
        ))
    }
    fn fixity_hash(&self) -> std::result::Result<Option<String>, workflow_core::ContextError> {
        Ok(None)
    }
    fn actors_of(&self, unit: &UnitCode) -> Vec<workflow_core::Actor> {
        self.0.actors_of(unit)
    }
    fn retention_schedule(&self) -> &workflow_core::RetentionSchedule {
        self.1
    }
}

impl Engine {
    /// The documents whose current stage is overdue at `now` and was not reminded within
    /// the interval, each with the command id its reminder takes: derived from the
    /// document, round, stage, stage start and reminder count, so that racing or repeated
    /// sweeps cannot remind twice.
    fn due_for_reminders(
        &self,
        now: Timestamp,
        interval_hours: u32,
    ) -> Result<Vec<(Document, String)>> {
        if interval_hours == 0 {
            return Err(Error::InvalidRequest {
                field: "interval_hours",
                reason: "must be at least 1".into(),
            });
        }
        let interval = chrono::Duration::hours(i64::from(interval_hours));
        let mut due = Vec::new();
        for id in self.inner.storage.due_before(now)? {
            let Some(d) = self
                .inner
                .storage
                .doc(id)?
                .and_then(|r| r.state.outgoing().cloned())
            else {
                continue;
            };
            let Some((i, stage)) = d.current() else {
                continue;
            };
            let overdue = stage.due_at.is_some_and(|at| now > at);
            let quiet = stage.last_reminded_at.is_none_or(|last| {
                last.checked_add_signed(interval)
                    .is_some_and(|next| now >= next)
            });
            if overdue && quiet {
                let started = stage.started_at.map_or(0, |t| t.timestamp_micros());
                let key = format!(
                    "remind:{}:{}:{i}:{started}:{}",
                    d.id(),
                    d.round(),
                    stage.reminders
                );
                due.push((d, key));
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
        for (d, _) in due {
            let command = workflow_core::Command {
                document_id: d.id(),
                actor: ActorId::from(workflow_core::SYSTEM_ACTOR),
                at: now,
                action: workflow_core::Action::Remind { interval_hours },
            };
            // Refused means not due after all (the rule in the core has the last word).
            let Ok(events) = workflow_core::handle(Some(&d), &command, &ctx) else {
                continue;
            };
            for e in events {
                if let workflow_core::EventData::Reminded {
                    stage,
                    due_at,
                    waiting_for,
                    escalated_to,
                } = e.data
                {
                    out.push(DueReminder {
                        document_id: d.id(),
                        title: d.fields().title.clone(),
                        stage,
                        due_at,
                        waiting_for,
                        escalated_to,
                        reminders_before: d.route().get(stage).map_or(0, |s| s.reminders),
                    });
                }
            }
        }
        Ok(out)
    }

    /// The deadline sweep (催办): for every running stage past its deadline that was not
    /// reminded within `interval_hours`, appends one `Reminded` event (escalated where the
    /// route names someone). Returns the outcomes appended.
    ///
    /// Safe to run from several places at once and after restarts: each reminder's command
    /// id is derived from the document, round, stage, stage start and reminder count, so a
    /// second sweep for the same reminder is answered from the idempotency record.
    pub async fn sweep_deadlines(
        &self,
        now: Timestamp,
        interval_hours: u32,
    ) -> Result<Vec<Outcome>> {
        let due = self.due_for_reminders(now, interval_hours)?;
        let mut outcomes = Vec::new();
        for (d, key) in due {
            let request = Request {
                command_id: key,
                document_id: d.id(),
                actor: ActorId::from(workflow_core::SYSTEM_ACTOR),
                at: Some(now),
                expected_version: None,
                action: workflow_core::Action::Remind { interval_hours }.into(),
            };
            match self.execute(request).await {
                Ok(o) if !o.replayed => outcomes.push(o),
                Ok(_) => {}
                // The document moved on since it was listed: nothing to remind. (A reminder
                // key sent before with another interval was sent: nothing to remind either.)
                Err(Error::Rejected(_) | Error::CommandIdMismatch { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(outcomes)
    }
}
