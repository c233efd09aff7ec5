//! A group being decided: the commands of one group commit, each decided against the
//! stream's state as the group left it, sealed into envelopes chained after the head, folded
//! into the stream's record, with the reactions its events ask for. A value of its own,
//! reading the store only through `GroupReads` (a test gives it a map): the writer makes
//! one per group, commits what it gathered, and moves its head on.

use std::collections::HashMap;

use uuid::Uuid;
use workflow_core::archive::RetentionSchedule;
use workflow_core::codec::SCHEMA_VERSION;
use workflow_core::{DocumentId, FlowEvent, Recorded, UnitCode};

use super::group::{GroupContext, GroupReads, Overlay, decide};
use super::{Clock, Outcome, Request, validate_id};
use crate::directory::DirectoryCache;
use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::projection::{DocRecord, index_keys};
use crate::storage::{CommandRecord, LogEntry, PartsStored};

/// A group being decided (see the module's docs).
pub(super) struct PendingGroup<'a> {
    /// The last position sealed, and its hash.
    pub(super) head: u64,
    pub(super) head_hash: String,
    /// What the group has changed so far.
    pub(super) overlay: Overlay,
    pub(super) directory: &'a DirectoryCache,
    pub(super) schedule: &'a RetentionSchedule,
    pub(super) clock: &'a Clock,
    pub(super) reads: &'a dyn GroupReads,
    /// What prints an issued 发文 at 印发, if anything does.
    pub(super) printer: Option<crate::print::Press<'a>>,
    /// Whether other processes write the store: a reaction refused then is a race, not an
    /// error.
    pub(super) shared: bool,
}

impl PendingGroup<'_> {
    /// Decides, in this group, the commands the group's new events asked of other streams
    /// (an 发文 acknowledged by a unit becomes that unit's 收文): written together with the
    /// event that asked, or not at all, so no crash can leave one without the other. A
    /// reaction that is refused changes nothing and is logged; a reaction's own reactions
    /// follow, a few generations deep at most.
    pub(super) fn react(&mut self, cache: &mut HashMap<DocumentId, DocRecord>) {
        const MAX_GENERATIONS: usize = 4;
        for _ in 0..MAX_GENERATIONS {
            let pending = std::mem::take(&mut self.overlay.reactions);
            if pending.is_empty() {
                return;
            }
            for r in pending {
                let req = Request {
                    command_id: r.command_id,
                    document_id: r.document_id,
                    actor: workflow_core::ids::SYSTEM_ACTOR.into(),
                    at: Some(r.at),
                    expected_version: r.expected_version,
                    action: r.action,
                };
                let executed = self.append(&req, cache, &[]);
                if let Ok((outcome, _)) = executed {
                    self.overlay.reacted.push(outcome);
                } else if let Err(e) = executed {
                    // With several servers on one database, a reaction decided against a
                    // document another server has just changed is refused, and the group
                    // then conflicts and is decided again: ordinary, not an error. So is a
                    // reaction whose command id (from its event's position) another
                    // server's reaction took: this group's positions are taken, and it is
                    // decided again after catching up.
                    let race = self.shared
                        && matches!(
                            e,
                            Error::Conflict { .. }
                                | Error::CommandIdReused { .. }
                                | Error::Rejected(workflow_core::Error::DocumentExists(_))
                        );
                    // An optional reaction refused because its stream moved on (the item
                    // closed, or led by another unit) is expected; any other refusal is not.
                    let moved_on = r.optional
                        && matches!(
                            e,
                            Error::Rejected(
                                workflow_core::Error::WrongState { .. }
                                    | workflow_core::Error::NotNow { .. }
                            )
                        );
                    if moved_on {
                        tracing::debug!(
                            command_id = %req.command_id,
                            document_id = %req.document_id,
                            command = req.action.name(),
                            error = %e,
                            "an optional reaction no longer applies"
                        );
                    } else if race {
                        tracing::debug!(
                            command_id = %req.command_id,
                            document_id = %req.document_id,
                            command = req.action.name(),
                            error = %e,
                            "a reaction met a document another server changed first; the group will be decided again"
                        );
                    } else {
                        tracing::error!(
                            command_id = %req.command_id,
                            document_id = %req.document_id,
                            command = req.action.name(),
                            error = %e,
                            "a reaction was refused; the event that asked for it stands"
                        );
                    }
                }
            }
        }
        if !self.overlay.reactions.is_empty() {
            tracing::error!(
                left = self.overlay.reactions.len(),
                "reactions still asking after {MAX_GENERATIONS} generations; dropped"
            );
            self.overlay.reactions.clear();
        }
    }

    /// The events a command produces against the stream's current record, or why not:
    /// decided by the stream's flow, through the flow boundary.
    fn decide(
        &self,
        req: &Request,
        current: Option<&DocRecord>,
    ) -> Result<Vec<workflow_core::Recorded<workflow_core::FlowEvent>>> {
        let ctx = GroupContext {
            directory: self.directory,
            schedule: self.schedule,
            reads: self.reads,
            overlay: &self.overlay,
            stream: req.document_id,
            printer: self.printer,
        };
        decide(req, current, &ctx, self.clock)
    }

    /// Decides one request within the group. `Ok((outcome, true))` when the answer names
    /// events of this group (new ones, or a retry of a command earlier in the group), which
    /// may only be acknowledged once the group is durable.
    pub(super) fn append(
        &mut self,
        req: &Request,
        cache: &mut HashMap<DocumentId, DocRecord>,
        earlier: &[(Result<Outcome>, bool)],
    ) -> Result<(Outcome, bool)> {
        validate_id("command_id", &req.command_id)?;
        let digest = req.digest();
        if let Some(answer) = self.answer_known(req, &digest, earlier)? {
            return Ok(answer);
        }
        let id = req.document_id;
        let (current, from_cache) = self.current(id, cache)?;
        let decided = self.decide(req, current.as_ref());
        let events = match decided {
            Ok(events) if events.is_empty() => {
                // A change that changes nothing (a directory entry put as it already is):
                // nothing is appended or recorded, and the answer names the current version.
                let version = current.as_ref().map_or(0, |r| r.state.version());
                if from_cache && let Some(r) = current {
                    cache.insert(id, r);
                }
                return Ok((
                    Outcome {
                        document_id: id,
                        version,
                        events: Vec::new(),
                        replayed: false,
                    },
                    false,
                ));
            }
            Ok(events) => events,
            Err(e) => {
                if from_cache && let Some(r) = current {
                    cache.insert(id, r);
                }
                return Err(e);
            }
        };
        let sealed = self.seal(req, &digest, current, &events)?;
        Ok((self.add_to_group(req, &events, sealed), true))
    }

    /// Idempotency: a command id known already (in this group, prefetched, or stored)
    /// answers with its first outcome, if it is the same request; `None` for a new one. One
    /// done earlier in this group (not yet readable from storage) answers with the events
    /// of that outcome: the group's `earlier` answers, or the reactions it decided.
    fn answer_known(
        &mut self,
        req: &Request,
        digest: &str,
        earlier: &[(Result<Outcome>, bool)],
    ) -> Result<Option<(Outcome, bool)>> {
        let (known, in_group) = match self.overlay.commands.get(&req.command_id) {
            Some(r) => (Some(r.clone()), true),
            None => match self.overlay.prefetched_commands.remove(&req.command_id) {
                Some(record) => (record, false),
                None => (self.reads.command(&req.command_id)?, false),
            },
        };
        let Some(rec) = known else {
            return Ok(None);
        };
        if rec.document_id != req.document_id {
            return Err(Error::CommandIdReused {
                command_id: req.command_id.clone(),
                document_id: rec.document_id,
            });
        }
        let mut o = if in_group {
            let events = earlier
                .iter()
                .filter_map(|(answer, _)| answer.as_ref().ok())
                .chain(&self.overlay.reacted)
                .find(|o| {
                    o.events
                        .first()
                        .is_some_and(|e| e.command_id == req.command_id)
                })
                .map(|o| o.events.clone())
                .ok_or_else(|| Error::Internal {
                    reason: format!(
                        "command {} is recorded in this group, but no outcome of the group has \
                         its events",
                        req.command_id
                    ),
                })?;
            Outcome {
                document_id: rec.document_id,
                version: rec.version,
                events,
                replayed: true,
            }
        } else {
            self.reads.outcome(&rec)?
        };
        // Events written before digests were kept carry none: nothing to compare.
        if let Some(first) = o.events.first().and_then(|e| e.request_digest.as_deref())
            && first != digest
        {
            return Err(Error::CommandIdMismatch {
                command_id: req.command_id.clone(),
                document_id: rec.document_id,
            });
        }
        o.replayed = true;
        Ok(Some((o, in_group)))
    }

    /// The stream's record as the group sees it, and whether it was taken from the writer's
    /// cache (taken, not copied: put back if the command is refused; after a commit the new
    /// record goes back into the cache anyway). The first time the group touches a stream,
    /// what it had before (index keys, parts stored) is kept for the projection changes.
    fn current(
        &mut self,
        id: DocumentId,
        cache: &mut HashMap<DocumentId, DocRecord>,
    ) -> Result<(Option<DocRecord>, bool)> {
        if let Some(r) = self.overlay.docs.get(&id) {
            return Ok((Some(r.clone()), false));
        }
        let (stored, from_cache) = match cache.remove(&id) {
            Some(r) => (Some(r), true),
            None => match self.overlay.prefetched_docs.remove(&id) {
                Some(record) => (record, false),
                None => (self.reads.doc(id)?, false),
            },
        };
        let directory = self.directory;
        let is_unit = |s: &str| directory.units.contains_key(&UnitCode::from(s));
        self.overlay.before.insert(
            id,
            stored
                .as_ref()
                .map(|r| (index_keys(r, &is_unit), PartsStored::of(r))),
        );
        Ok((stored, from_cache))
    }

    /// Seals a command's events into envelopes chained after the writer's head, folding
    /// each into the stream's record. Sealed against a local head: nothing of the writer or
    /// the group changes until the events are known to make a stream (a flow whose first
    /// event creates no state would otherwise leave a gap in the positions and a chain link
    /// never written); then the writer's head moves past them.
    fn seal(
        &mut self,
        req: &Request,
        digest: &str,
        current: Option<DocRecord>,
        events: &[Recorded<FlowEvent>],
    ) -> Result<Sealed> {
        let id = req.document_id;
        let (mut head, mut head_hash) = (self.head, self.head_hash.clone());
        let mut record = current;
        let mut envelopes = Vec::with_capacity(events.len());
        let mut bytes = Vec::with_capacity(events.len());
        let mut listed = Vec::with_capacity(events.len());
        let mut claims = Vec::new();
        for event in events {
            let position = head + 1;
            let version = record.as_ref().map_or(0, |r| r.state.version()) + 1;
            let mut env = Envelope {
                position,
                stream_id: id,
                kind: Some(event.data.kind()),
                version,
                event_id: Uuid::new_v4(),
                command_id: req.command_id.clone(),
                request_digest: Some(digest.to_owned()),
                actor: event.actor.clone(),
                recorded_at: event.at,
                event_type: event.data.type_name().to_owned(),
                schema_version: SCHEMA_VERSION,
                payload: event.data.payload(),
                prev_hash: head_hash.clone(),
                hash: String::new(),
            };
            let stored = env.seal();
            head = position;
            head_hash = env.hash.clone();
            match record.as_mut() {
                Some(r) => r.apply(event),
                None => record = DocRecord::create(position, event),
            }
            claims.extend(event.data.number_claim());
            if let Some(r) = &record {
                let c = r.state.classification();
                let seen = self.overlay.classified.entry(id).or_insert(c);
                *seen = (*seen).max(c);
            }
            if self.overlay.publish {
                listed.push(crate::read::tail::listed(record.as_ref().map(|r| &r.state)));
            }
            envelopes.push(env);
            bytes.push(stored);
        }
        let record = record.ok_or_else(|| Error::Internal {
            reason: format!(
                "{} on {id} decided events that start no stream",
                req.action.name()
            ),
        })?;
        self.head = head;
        self.head_hash = head_hash;
        Ok(Sealed {
            record,
            envelopes,
            bytes,
            listed,
            claims,
        })
    }

    /// Adds a sealed command to the group: its events (published, if anyone listens), the
    /// numbers they claim, the reactions they ask for, its command record and the stream's
    /// new record. Returns its outcome.
    fn add_to_group(
        &mut self,
        req: &Request,
        events: &[Recorded<FlowEvent>],
        sealed: Sealed,
    ) -> Outcome {
        let Sealed {
            record,
            envelopes,
            bytes,
            listed,
            claims,
        } = sealed;
        let id = req.document_id;
        if self.overlay.publish {
            self.overlay
                .published
                .extend(envelopes.iter().cloned().zip(listed));
        }
        for (series, n) in claims {
            let max = self.overlay.numbers.entry(series.clone()).or_insert(0);
            *max = (*max).max(n);
            self.overlay.group.numbers.push((series, n, id));
        }
        for (event, env) in events.iter().zip(&envelopes) {
            self.overlay
                .reactions
                .extend(workflow_core::reactions::reactions(
                    &record.state,
                    event,
                    env.position,
                ));
        }
        let version = record.state.version();
        let rec = CommandRecord {
            document_id: id,
            first_position: envelopes.first().map_or(self.head, |e| e.position),
            last_position: self.head,
            version,
        };
        self.overlay.commands.insert(req.command_id.clone(), rec);
        self.overlay.docs.insert(id, record);
        self.overlay
            .group
            .envelopes
            .extend(envelopes.iter().zip(bytes).map(|(e, bytes)| LogEntry {
                position: e.position,
                stream_id: e.stream_id,
                version: e.version,
                hash: e.hash.clone(),
                bytes,
            }));
        Outcome {
            document_id: id,
            version,
            events: envelopes,
            replayed: false,
        }
    }
}

/// A command's events sealed into envelopes, and the stream's record after them.
struct Sealed {
    record: DocRecord,
    envelopes: Vec<Envelope>,
    /// Each envelope's stored bytes.
    bytes: Vec<Vec<u8>>,
    /// What live subscribers filter each event by (only while anyone subscribes).
    listed: Vec<crate::read::tail::Listed>,
    /// The numbers the events claim.
    claims: Vec<(workflow_core::numbering::Series, u32)>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // tests
mod tests {
    use std::sync::Arc;

    use workflow_core::ActorId;
    use workflow_core::numbering::Series;
    use workflow_core::outgoing::Action;
    use workflow_testkit::script::Script;
    use workflow_testkit::steps;

    use super::*;

    /// The store as a map: what a group reads, without one.
    #[derive(Default)]
    struct MapReads {
        docs: HashMap<DocumentId, DocRecord>,
    }

    impl GroupReads for MapReads {
        fn command(&self, _: &str) -> Result<Option<CommandRecord>> {
            Ok(None)
        }
        fn outcome(&self, record: &CommandRecord) -> Result<Outcome> {
            Err(Error::Internal {
                reason: format!("no stored outcome for {record:?}"),
            })
        }
        fn doc(&self, id: DocumentId) -> Result<Option<DocRecord>> {
            Ok(self.docs.get(&id).cloned())
        }
        fn max_number(&self, _: &Series) -> Result<u32> {
            Ok(0)
        }
        fn stream_hashes(&self, _: DocumentId) -> Result<Vec<String>> {
            Ok(Vec::new())
        }
        fn uploaded_file(
            &self,
            _: &workflow_core::content::Digest,
            _: &ActorId,
        ) -> Result<Option<workflow_core::content::KeptFile>> {
            Ok(None)
        }
        fn keep_printed(
            &self,
            _: &dyn crate::print::Printer,
            _: &workflow_core::outgoing::Document,
            _: &[workflow_core::directory::Unit],
        ) -> Result<workflow_core::content::FileRef> {
            Err(Error::Internal {
                reason: "no storage to keep a printed document in".into(),
            })
        }
    }

    fn fixture_directory() -> DirectoryCache {
        let dir = workflow_testkit::directory();
        DirectoryCache {
            actors: dir.actors().map(|a| (a.id.clone(), a.clone())).collect(),
            units: dir.units().map(|u| (u.code.clone(), u.clone())).collect(),
            deactivated: Default::default(),
        }
    }

    fn request(command_id: &str, id: DocumentId, actor: &ActorId, action: Action) -> Request {
        let mut r = Request::new(id, actor.as_str(), action);
        r.command_id = command_id.into();
        r
    }

    /// A group appends commands against a map: each is sealed after the head it was given,
    /// a retry in the group answers from the original's outcome, a refused command moves
    /// nothing, and an acknowledged 发文's reaction (the unit's 收文) is decided in the group.
    #[test]
    fn a_pending_group_decides_seals_folds_and_reacts_without_storage() {
        // The sample 发文, issued: its record as the store would hold it.
        let mut script = Script::new();
        script.issued();
        let doc = script.doc().clone();
        let id = script.id;
        let mut reads = MapReads::default();
        reads.docs.insert(
            id,
            DocRecord::of(1, workflow_core::FlowState::Outgoing(doc.clone())),
        );
        let directory = fixture_directory();
        let schedule = RetentionSchedule::default();
        let clock: Clock = Arc::new(workflow_testkit::clock::now);
        let mut group = PendingGroup {
            printer: None,
            head: 40,
            head_hash: "h40".into(),
            overlay: Overlay::default(),
            directory: &directory,
            schedule: &schedule,
            clock: &clock,
            reads: &reads,
            shared: false,
        };
        let mut cache = HashMap::new();

        // 签收 by the recipient, as the sample's flow gives it.
        let (actor, action) = script.sample.flow(&script.dir)[steps::ISSUED].clone();
        let ack = request("ack", id, &actor, action.clone());
        let (outcome, depends) = group.append(&ack, &mut cache, &[]).unwrap();
        assert!(depends && !outcome.replayed);
        let event = &outcome.events[0];
        assert_eq!((event.position, event.prev_hash.as_str()), (41, "h40"));
        assert_eq!(event.version, doc.version() + 1);
        assert_eq!(group.head, 41);
        assert_eq!(group.overlay.group.envelopes.len(), 1);
        // The reaction: the unit's 收文, registered in the same group, after the 签收.
        assert_eq!(group.overlay.reactions.len(), 1);
        group.react(&mut cache);
        assert_eq!(group.overlay.reacted.len(), 1);
        let receipt = &group.overlay.reacted[0].events[0];
        assert_eq!(receipt.position, 42);
        assert_eq!(receipt.prev_hash, event.hash);
        assert!(group.overlay.docs.contains_key(&receipt.stream_id));

        // A retry of the 签收 in the group answers with its events, decoding nothing.
        let earlier = vec![(Ok(outcome.clone()), true)];
        let (again, _) = group.append(&ack, &mut cache, &earlier).unwrap();
        assert!(again.replayed);
        assert_eq!(again.events, outcome.events);
        // A command the flow refuses moves nothing.
        let before = (group.head, group.overlay.group.envelopes.len());
        let refused = request("ack-again", id, &actor, action);
        assert!(group.append(&refused, &mut cache, &earlier).is_err());
        assert_eq!((group.head, group.overlay.group.envelopes.len()), before);
    }
}
