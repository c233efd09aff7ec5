//! The single writer: it takes every waiting request, decides each against the state
//! projection plus the group's own earlier changes, chains the hashes, commits the group in
//! one atomic write, makes it durable, and only then answers every caller (see
//! ARCHITECTURE.md, "Durability, step by step").
//!
//! A directory change is a group of its own, synced whatever the durability, and the
//! in-memory directory is replaced before its caller is answered: every command decided
//! after it sees it.
//!
//! A backend refuses a group that does not follow what it stores (first position right
//! after the log's end; each stream's next version; a command id or a number not held
//! already) with `CommitError::Conflict`, having written nothing; the writer reloads the
//! log's end and decides the group again (`workflow-store/tests/shared.rs`: two engines on
//! one sled storage). A backend several processes share (`Storage::shared`: PostgreSQL)
//! also makes the writer read the log's end before deciding each group — when it moved, the
//! writer drops the states it holds in memory and reloads the directory — and from the
//! third attempt hold the other writers off (`hold_commits`: the head-row lock taken before
//! deciding), so a group cannot keep losing. Other processes' commits reach the engine
//! through `watch_foreign_commits` (PostgreSQL: `LISTEN/NOTIFY`) as a message in the
//! writer's queue, which catches up the same way: live subscribers and the directory follow
//! them. The writer's head only moves forward, and only the writer moves it: a catch-up
//! that finds the store's log behind what the writer saw stops writing (a restore or a
//! failover lost commits). Opening (reading the log's end and the recorded head, finishing
//! a rebuild) and every rebuild hold the other writers off for their duration.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, RwLock};

use tokio::sync::{oneshot, watch};
use workflow_core::{
    DocumentId, StreamKind, UnitCode, archive::RetentionSchedule, directory::DIRECTORY_STREAM,
    directory::DirectoryAction,
};

use super::group::Overlay;
use super::group::StoreReads;
use super::halt::Halt;
use super::pending::PendingGroup;
use super::{Clock, Msg, Outcome, Request};
use crate::directory::DirectoryCache;
use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::projection::{DocRecord, index_diff_from_keys};
use crate::storage::{CommitError, DocChange, Group, PartsStored, Storage};

/// Most commands the writer folds into one group commit.
const MAX_GROUP: usize = 512;

/// The single writer: decides, chains, commits and flushes groups of commands.
pub(super) struct Writer {
    pub(super) storage: Arc<dyn Storage>,
    /// What the engine's readers share with the writer.
    pub(super) readers: WriterReaders,
    // Shared with the engine's readers; never a reference to `Inner`, whose drop joins us.
    pub(super) directory: Arc<RwLock<DirectoryCache>>,
    pub(super) clock: Clock,
    pub(super) head: u64,
    pub(super) head_hash: String,
    /// Recently written state records, so a stream's next command skips decoding its
    /// projection. Holds exactly what was committed; cleared on a failed commit or rebuild.
    pub(super) cache: HashMap<DocumentId, DocRecord>,
    pub(super) rebuild_resident_documents: usize,
    /// Set when writing must stop: from then on every write is refused.
    pub(super) halted: Option<Halt>,
    pub(super) retention_schedule: Arc<RetentionSchedule>,
    /// What prints an issued 发文 at 印发, if anything does.
    pub(super) printer: Option<Arc<dyn crate::print::Printer>>,
    /// Copies of issued 公文 printed ahead of the writer's decision (shared with the engine).
    pub(super) printed_ahead: Arc<crate::print::PrintedAhead>,
    /// Where written groups go to be made durable and answered, when the backend splits
    /// its commits (see [`super::syncer`]); `None`: each commit is durable on return.
    pub(super) syncer: Option<std_mpsc::Sender<super::syncer::ToSyncer>>,
    pub(super) syncer_thread: Option<std::thread::JoinHandle<()>>,
    /// Set by the syncer when a sync failed.
    pub(super) sync_failed: Arc<std::sync::Mutex<Option<String>>>,
    /// What the last group wrote, for the syncer.
    pub(super) written: Option<WrittenGroup>,
    /// On a shared store: whether another process may have committed since this writer
    /// last read the log's end — at start, and once told of a foreign commit (PostgreSQL:
    /// a notification, or its listening connection made again). While it is not, a group
    /// is decided without reading the log's end first: were it wrong, the group's commit
    /// finds its first position taken (the log is gapless), and the group is decided again
    /// after catching up.
    pub(super) maybe_behind: bool,
}

/// What the engine's readers share with the writer: the durable head, the live tail and
/// who follows it, the classifications in force, the documents a failed group left
/// uncertain, and the writer's counters and halt.
pub(super) struct WriterReaders {
    pub(super) head_tx: Arc<watch::Sender<u64>>,
    pub(super) uncertain: Arc<RwLock<HashSet<DocumentId>>>,
    pub(super) queued: Arc<AtomicUsize>,
    /// Groups decided again because another writer of a shared store committed first.
    pub(super) redecided: Arc<std::sync::atomic::AtomicU64>,
    /// Whether `halted` is set, for the engine's readers (health checks).
    pub(super) halted_flag: Arc<std::sync::atomic::AtomicBool>,
    /// The shared live tail, and how many subscribe to it.
    pub(super) tail: Arc<RwLock<crate::read::tail::Tail>>,
    pub(super) live: Arc<AtomicUsize>,
    /// Documents' classifications as last committed.
    pub(super) classifications: Arc<RwLock<crate::read::tail::Classifications>>,
}

/// What a written group makes visible once durable.
pub(super) struct WrittenGroup {
    head: u64,
    published: Vec<crate::read::tail::TailEvent>,
    docs: Vec<DocumentId>,
    always: bool,
    classifications: Vec<(
        DocumentId,
        workflow_core::directory::Classification,
        workflow_core::directory::Classification,
    )>,
}

/// What went wrong, without the wrapping an `Unavailable` answer adds again.
fn cause(e: &Error) -> String {
    match e {
        Error::Unavailable { reason } => reason.clone(),
        other => other.to_string(),
    }
}

/// How often a group is decided when other writers of a shared store keep committing first.
const MAX_ATTEMPTS: usize = 3;
/// From which attempt a group is decided holding the other writers' commits off.
const HOLD_FROM_ATTEMPT: usize = 3;

/// How one decided group's commit went.
enum Attempt {
    /// Every request's answer.
    Done(Vec<Result<Outcome>>),
    /// Another writer committed first; nothing was written. The answers as decided, and
    /// whether each depends on the group.
    Conflict {
        reason: String,
        answers: Vec<(Result<Outcome>, bool)>,
    },
}

/// Most state records the writer keeps decoded.
const CACHE_DOCS: usize = 4096;

type Reply = oneshot::Sender<Result<Outcome>>;

impl Writer {
    pub(super) fn run(mut self, rx: std_mpsc::Receiver<Msg>) {
        let queued = self.readers.queued.clone();
        let taken = || {
            queued.fetch_sub(1, Ordering::SeqCst);
        };
        // A catch-up after another process's commit that failed (the database unreachable
        // for a moment) is tried again every second until it works, so that live subscribers
        // are not left waiting for the next command.
        let mut behind = false;
        loop {
            let first = if behind {
                match rx.recv_timeout(std::time::Duration::from_secs(1)) {
                    Ok(m) => m,
                    Err(std_mpsc::RecvTimeoutError::Timeout) => {
                        behind = self.halted.is_none() && self.catch_up().is_err();
                        continue;
                    }
                    Err(std_mpsc::RecvTimeoutError::Disconnected) => break,
                }
            } else {
                match rx.recv() {
                    Ok(m) => m,
                    Err(_) => break,
                }
            };
            taken();
            let mut executes: Vec<(Box<Request>, Reply)> = Vec::new();
            let mut foreign = false;
            let mut next = Some(first);
            while let Some(msg) = next.take() {
                match msg {
                    // Another process committed to the shared store: a group catches up
                    // before deciding anyway; without one, catch up below.
                    Msg::Foreign => {
                        foreign = true;
                        self.maybe_behind = true;
                    }
                    // A directory change is a group of its own, so that every command
                    // decided after it sees the directory it made.
                    Msg::Execute(req, reply) if req.action.kind() == StreamKind::Directory => {
                        self.commit_group(std::mem::take(&mut executes));
                        self.commit_group(vec![(req, reply)]);
                    }
                    Msg::Execute(req, reply) => executes.push((req, reply)),
                    other => {
                        // Rebuilds are ordered after the commands before them.
                        self.commit_group(std::mem::take(&mut executes));
                        self.handle_admin(other);
                    }
                }
                if executes.len() < MAX_GROUP {
                    next = rx.try_recv().ok();
                    if next.is_some() {
                        taken();
                    }
                }
            }
            if executes.is_empty() && foreign && self.halted.is_none() {
                if let Err(e) = self.catch_up() {
                    tracing::warn!(error = %e, "cannot read what another process committed; trying again in a second");
                    behind = true;
                }
            } else {
                self.commit_group(executes);
            }
        }
        // Every group handed to the syncer is made durable and answered before the end.
        drop(self.syncer.take());
        if let Some(t) = self.syncer_thread.take() {
            let _ = t.join();
        }
        let _ = self.storage.flush();
    }

    /// Waits until everything handed to the syncer is durable (and answered), and stops
    /// writing if a sync failed (or the syncer is gone).
    pub(super) fn settle(&mut self) {
        if let Some(tx) = &self.syncer {
            let (done, wait) = std_mpsc::sync_channel(1);
            let settled =
                tx.send(super::syncer::ToSyncer::Barrier(done)).is_ok() && wait.recv().is_ok();
            if !settled {
                self.stop_writing("the syncer thread stopped".into());
            }
        }
        self.notice_sync_failure();
    }

    /// Takes in a failure the syncer found: from then on every write is refused.
    fn notice_sync_failure(&mut self) {
        if self.halted.is_none()
            && let Some(reason) = self.sync_failed.lock().ok().and_then(|f| f.clone())
        {
            self.stop_writing(reason);
        }
    }

    fn stop_writing(&mut self, reason: String) {
        if self.halted.is_none() {
            self.halted = Some(Halt::StorageFailed(reason));
        }
        self.readers.halted_flag.store(true, Ordering::SeqCst);
    }

    /// Records the directory a store written before the directory stream kept beside the
    /// log, as the stream's first event, before the writer serves anyone.
    pub(super) fn import_legacy_directory(
        &mut self,
        units: Vec<workflow_core::directory::Unit>,
        actors: Vec<workflow_core::directory::Actor>,
    ) -> Result<()> {
        if self.halted.is_some() {
            tracing::warn!(
                "the directory kept beside the log is not recorded in it: the store accepts no writes"
            );
            return Ok(());
        }
        tracing::warn!(
            units = units.len(),
            actors = actors.len(),
            "recording the directory an earlier build kept beside the log as the directory stream's first event"
        );
        let mut request = Request::new(
            DIRECTORY_STREAM,
            "system:workflow",
            DirectoryAction::Import {
                units,
                actors,
                system: "workflow".into(),
                reason: "upgrade: the directory an earlier build kept beside the log, in force from the log's start".into(),
            },
        );
        request.command_id = "directory-import".into();
        let (tx, mut rx) = oneshot::channel();
        self.commit_group(vec![(Box::new(request), tx)]);
        self.settle();
        match rx.try_recv() {
            Ok(r) => r.map(|_| ()),
            Err(_) => Err(Error::Closed),
        }
    }

    fn handle_admin(&mut self, msg: Msg) {
        let directory = self.directory.clone();
        // Everything written is durable before the projections are replayed (and a sync
        // that failed stops the rebuild too).
        self.settle();
        if let Some(halt) = &self.halted {
            let halted = || halt.error();
            match msg {
                Msg::Execute(..) | Msg::Foreign => {}
                Msg::Rebuild { reply, .. } => {
                    let _ = reply.send(Err(halted()));
                }
            }
            return;
        }
        match msg {
            Msg::Execute(..) | Msg::Foreign => {}
            Msg::Rebuild {
                mode,
                progress,
                reply,
            } => {
                self.cache.clear();
                // Other processes sharing the store are held off for the whole rebuild: it
                // removes what it did not produce, and a from-scratch one empties the
                // numbers others would draw from.
                let shared = self.storage.shared();
                if shared && let Err(e) = self.storage.hold_commits() {
                    let _ = reply.send(Err(e));
                    return;
                }
                let r = crate::replay::rebuild(
                    &*self.storage,
                    self.rebuild_resident_documents,
                    mode,
                    progress,
                )
                .and_then(|n| {
                    // The directory, too, is what the log says.
                    let rebuilt = DirectoryCache::load(&*self.storage)?;
                    if let Ok(mut d) = directory.write() {
                        *d = rebuilt;
                    }
                    Ok(n)
                });
                if shared {
                    self.storage.release_commits();
                }
                let _ = reply.send(r);
            }
        }
    }

    fn commit_group(&mut self, executes: Vec<(Box<Request>, Reply)>) {
        if executes.is_empty() {
            return;
        }
        let (requests, replies): (Vec<_>, Vec<_>) = executes.into_iter().unzip();
        let answers = self.commit_requests(&requests);
        self.readers
            .halted_flag
            .store(self.halted.is_some(), Ordering::SeqCst);
        // With a syncer, the durable head is the syncer's to report.
        if self.syncer.is_none() {
            crate::telemetry::log_position(self.head);
        }
        crate::telemetry::writer_halted(self.halted.is_some());
        // With a syncer, every answer goes through it, in order: one that names or was
        // decided against a group not yet durable waits for the sync that covers it.
        if let Some(syncer) = &self.syncer {
            let mut written = self.written.take();
            let w = super::syncer::Written {
                replies,
                answers,
                wrote: written.is_some(),
                head: written.as_ref().map_or(self.head, |w| w.head),
                published: written
                    .as_mut()
                    .map(|w| std::mem::take(&mut w.published))
                    .unwrap_or_default(),
                docs: written.as_ref().map(|w| w.docs.clone()).unwrap_or_default(),
                always: written.as_ref().is_some_and(|w| w.always),
                classifications: written
                    .as_mut()
                    .map(|w| std::mem::take(&mut w.classifications))
                    .unwrap_or_default(),
            };
            if let Err(std_mpsc::SendError(super::syncer::ToSyncer::Written(w))) =
                syncer.send(super::syncer::ToSyncer::Written(w))
            {
                self.stop_writing("the syncer thread stopped".into());
                for reply in w.replies {
                    let _ = reply.send(Err(Error::Closed));
                }
            }
            return;
        }
        for (reply, answer) in replies.into_iter().zip(answers) {
            let _ = reply.send(answer);
        }
    }

    /// Takes in what other writers of a shared store committed since this writer last
    /// looked: the log's end, and with it the directory; the streams held in memory may
    /// have moved on, so they are read again. Returns whether anything had changed.
    pub(super) fn catch_up(&mut self) -> Result<bool> {
        // The head watch moves in write order: after what the syncer still holds.
        if self.syncer.is_some() {
            self.settle();
        }
        // A shared store's recorded head is written in the same transaction as the events it
        // names, and is one small row (the last event's bytes are not).
        let end = match self.storage.shared() {
            true => match self.storage.recorded_head()? {
                Some(head) => Some(head),
                None => self.storage.log_end()?,
            },
            false => self.storage.log_end()?,
        };
        let position = end.as_ref().map_or(0, |h| h.position);
        let hash = end.map_or_else(
            // Still empty: its genesis is the one this writer started from (SHA-256's or SM3's).
            || match self.head {
                0 => self.head_hash.clone(),
                _ => crate::envelope::GENESIS_HASH.to_owned(),
            },
            |h| h.hash,
        );
        if position == self.head && hash == self.head_hash {
            self.maybe_behind = false;
            return Ok(false);
        }
        if position <= self.head {
            // The store lost commits this writer made or saw (a database restored or failed
            // over to a standby that lacked them): writing on would reuse their positions,
            // and subscribers past them would skip what is written there. Stop.
            let reason = format!(
                "the store's log now ends at position {position} (hash {hash}), but this server \
                 saw it reach position {} (hash {}): commits were lost (a restore, or a \
                 failover to a standby that lacked them); writing is refused until an operator \
                 has run `workflow verify` and restarted the servers",
                self.head, self.head_hash
            );
            tracing::error!("{reason}");
            let halt = Halt::LogMismatch(reason);
            let error = halt.error();
            self.halted = Some(halt);
            self.readers.halted_flag.store(true, Ordering::SeqCst);
            return Err(error);
        }
        self.cache.clear();
        if let Ok(mut c) = self.readers.classifications.write() {
            c.clear();
        }
        let directory = DirectoryCache::load(&*self.storage)?;
        if let Ok(mut d) = self.directory.write() {
            *d = directory;
        }
        self.head = position;
        self.head_hash = hash;
        let _ = self.readers.head_tx.send(self.head);
        self.maybe_behind = false;
        Ok(true)
    }

    /// Decides and commits one group; on a shared store, decides it again (a few times)
    /// when another writer committed first. Returns each request's answer, in order.
    fn commit_requests(&mut self, requests: &[Box<Request>]) -> Vec<Result<Outcome>> {
        let shared = self.storage.shared();
        let mut attempt = 1;
        loop {
            self.notice_sync_failure();
            if let Some(halt) = &self.halted {
                return refuse_all(requests, || halt.error());
            }
            // A group that lost to other writers twice is decided holding their commits
            // off, so that it cannot lose again.
            let holding = shared && attempt >= HOLD_FROM_ATTEMPT;
            if holding && let Err(e) = self.storage.hold_commits() {
                let reason = format!("cannot hold other writers off: {e}");
                return refuse_all(requests, || Error::Unavailable {
                    reason: reason.clone(),
                });
            }
            // The log's end read first when another process may have committed since this
            // writer last looked, and always when holding the others off (a group that lost
            // to them).
            let looked = shared && (self.maybe_behind || holding);
            if looked && let Err(e) = self.catch_up() {
                self.storage.release_commits();
                if let Some(halt) = &self.halted {
                    return refuse_all(requests, || halt.error());
                }
                // Nothing decided, nothing written: the caller may retry.
                let reason = format!("cannot read the log's end before deciding: {}", cause(&e));
                return refuse_all(requests, || Error::Unavailable {
                    reason: reason.clone(),
                });
            }
            // A first attempt may take command ids as new without reading them (a retry
            // among them makes the commit conflict, and the next attempt reads them).
            let attempted = self.attempt_group(requests, attempt == 1 && !holding);
            if holding {
                // Not committed (nothing to write, or refused before): let others go on.
                self.storage.release_commits();
            }
            match attempted {
                // Decided without reading the log's end, and nothing written: a commit would
                // have shown a stale view (its first position taken), a group refused whole
                // writes none. Refused on what another server has changed since (a person
                // it added, a step it took), it is decided again on what is stored.
                Attempt::Done(answers)
                    if shared
                        && !looked
                        && !answers.is_empty()
                        && answers.iter().all(|a| a.is_err())
                        && attempt < MAX_ATTEMPTS
                        && self.halted.is_none() =>
                {
                    match self.catch_up() {
                        Ok(true) => {
                            attempt += 1;
                            continue;
                        }
                        _ => return answers,
                    }
                }
                Attempt::Done(answers) => return answers,
                Attempt::Conflict { reason, answers } => {
                    // Another writer shares the storage and appended first. Nothing of the
                    // group was written: decide its commands again from what is stored now.
                    self.cache.clear();
                    if let Err(e) = self.catch_up() {
                        if let Some(halt) = &self.halted {
                            return refuse_all(requests, || halt.error());
                        }
                        // Nothing was written, and the next group catches up (or conflicts
                        // and catches up) before it is decided: answer, do not stop.
                        tracing::warn!(error = %e, "cannot read the log's end after a conflict; answering the group as unavailable");
                        let reason =
                            format!("cannot read the log's end after a conflict: {}", cause(&e));
                        return fail_dependent(answers, || Error::Unavailable {
                            reason: reason.clone(),
                        });
                    }
                    if attempt < MAX_ATTEMPTS && self.halted.is_none() {
                        self.readers.redecided.fetch_add(1, Ordering::Relaxed);
                        crate::telemetry::redecided();
                        tracing::debug!(%reason, attempt, "another writer committed first; deciding the group again");
                        attempt += 1;
                        continue;
                    }
                    tracing::warn!(%reason, attempt, "another writer kept committing first; answering the group with the conflict");
                    return fail_dependent(answers, || Error::WriteConflict {
                        reason: reason.clone(),
                    });
                }
            }
        }
    }

    /// After a commit, before the head moves: each changed document's classification is
    /// recorded, and the group's events are made ready for the shared tail with what
    /// subscribers' filters need.
    fn published(
        &self,
        published: Vec<(crate::envelope::Envelope, crate::read::tail::Listed)>,
        docs: &[DocChange],
        classified: &HashMap<DocumentId, workflow_core::directory::Classification>,
    ) -> Vec<crate::read::tail::TailEvent> {
        // With a syncer, they are in force once durable (the syncer sets them).
        if self.syncer.is_none()
            && let Ok(mut c) = self.readers.classifications.write()
        {
            for change in docs {
                let (id, now) = (change.record.id(), change.record.state.classification());
                c.set(id, now, classified.get(&id).copied().unwrap_or(now));
            }
        }
        if published.is_empty() {
            return Vec::new();
        }
        // Each event with its document's kind and units as of that event (not as of the
        // group's end): a subscriber's filter gives the same answer live and from the log.
        published
            .into_iter()
            .map(|(e, (kind, units))| crate::read::tail::TailEvent {
                envelope: Arc::new(e),
                kind,
                units,
            })
            .collect()
    }

    /// Reads the streams and command ids of a group's requests from a remote store at once
    /// (one round trip for both, not two per request). A failure here only means each is read
    /// on its own while deciding, where its error is answered.
    ///
    /// When every stream is in the writer's cache and `assume_new` (a group's first
    /// attempt), nothing is read: the command ids are taken as new — they almost always are —
    /// and listed in the group's `unread_commands`, so that the commit refuses the group
    /// when one is recorded (a retry) and it is decided again with the records read.
    fn prefetch(&self, requests: &[Box<Request>], overlay: &mut Overlay, assume_new: bool) {
        let mut ids: Vec<DocumentId> = requests
            .iter()
            .map(|r| r.document_id)
            .filter(|id| !self.cache.contains_key(id))
            .collect();
        ids.sort();
        ids.dedup();
        let mut command_ids: Vec<String> = requests.iter().map(|r| r.command_id.clone()).collect();
        command_ids.sort();
        command_ids.dedup();
        if ids.is_empty() && assume_new {
            overlay.prefetched_commands = command_ids.iter().map(|id| (id.clone(), None)).collect();
            overlay.group.unread_commands = command_ids;
            return;
        }
        if let Ok((docs, commands)) = self.storage.docs_and_commands(&ids, &command_ids) {
            overlay.prefetched_docs = ids.iter().map(|id| (*id, None)).collect();
            for record in docs {
                overlay.prefetched_docs.insert(record.id(), Some(record));
            }
            overlay.prefetched_commands = command_ids.iter().map(|id| (id.clone(), None)).collect();
            for (id, record) in commands {
                overlay.prefetched_commands.insert(id, Some(record));
            }
        }
    }

    /// Decides every request against the store plus the group's own changes, then commits
    /// the group.
    fn attempt_group(&mut self, requests: &[Box<Request>], assume_new: bool) -> Attempt {
        let directory_lock = self.directory.clone();
        let Ok(directory) = directory_lock.read() else {
            return Attempt::Done(refuse_all(requests, || Error::Closed));
        };
        let (start_head, start_hash) = (self.head, self.head_hash.clone());
        let (answers, overlay) = self.decide_group(requests, &directory, assume_new);
        let projecting = std::time::Instant::now();
        let pending = Pending::of(overlay, &directory);
        drop(directory);
        crate::telemetry::spent(crate::telemetry::Phase::Projections, projecting.elapsed());
        // Nothing to write, so no commit to check the command ids taken as new: read them
        // now, before any answer stands on them.
        let unread = &pending.group.unread_commands;
        if pending.group.is_empty() && !unread.is_empty() {
            match self.storage.commands(unread) {
                Ok(found) if found.is_empty() => {}
                Ok(found) => {
                    let reason = found.first().map_or_else(String::new, |(id, _)| {
                        format!("command id {id:?} is recorded already")
                    });
                    return Attempt::Conflict { reason, answers };
                }
                Err(e) => {
                    let reason = format!(
                        "cannot read whether the command ids were used before: {}",
                        cause(&e)
                    );
                    return Attempt::Done(refuse_all(requests, || Error::Unavailable {
                        reason: reason.clone(),
                    }));
                }
            }
        }
        match self.write(&pending.group, requests.len()) {
            Ok(()) => self.after_commit(pending, answers, &directory_lock),
            Err(e) => self.after_failure(e, &pending.group, answers, (start_head, start_hash)),
        }
    }

    /// Decides every request of the group in order, each against the group's earlier
    /// changes, with the reactions each asks for. Returns each answer and whether it
    /// depends on the group being written: a new append, a retry answered from an append
    /// earlier in the same group, or any answer (a refusal too) decided against a document
    /// or command id the group had already changed.
    fn decide_group(
        &mut self,
        requests: &[Box<Request>],
        directory: &DirectoryCache,
        assume_new: bool,
    ) -> (Vec<(Result<Outcome>, bool)>, Overlay) {
        let mut overlay = Overlay {
            publish: self.readers.live.load(Ordering::SeqCst) > 0,
            ..Overlay::default()
        };
        if self.storage.shared() {
            let reading = std::time::Instant::now();
            self.prefetch(requests, &mut overlay, assume_new);
            crate::telemetry::spent(crate::telemetry::Phase::Read, reading.elapsed());
        }
        let reads = StoreReads(&*self.storage);
        let mut group = PendingGroup {
            head: self.head,
            head_hash: self.head_hash.clone(),
            overlay,
            directory,
            schedule: &self.retention_schedule,
            clock: &self.clock,
            reads: &reads,
            printer: self.printer.as_deref().map(|printer| crate::print::Press {
                printer,
                ahead: &self.printed_ahead,
                printing_ahead: false,
            }),
            shared: self.storage.shared(),
        };
        let mut answers: Vec<(Result<Outcome>, bool)> = Vec::with_capacity(requests.len());
        let deciding = std::time::Instant::now();
        // Command ids taken as new without reading them: every answer stands only once the
        // commit (or the read after deciding) has shown none is recorded — a retry's fresh
        // decision is not its answer.
        let unread = !group.overlay.group.unread_commands.is_empty();
        for req in requests {
            let read_group_state = unread
                || group.overlay.commands.contains_key(&req.command_id)
                || group.overlay.docs.contains_key(&req.document_id);
            let answer = match group.append(req, &mut self.cache, &answers) {
                Ok((o, depends)) => (Ok(o), depends || read_group_state),
                Err(e) => (Err(e), read_group_state),
            };
            answers.push(answer);
            group.react(&mut self.cache);
        }
        crate::telemetry::spent(crate::telemetry::Phase::Decide, deciding.elapsed());
        self.head = group.head;
        self.head_hash = group.head_hash;
        (answers, group.overlay)
    }

    /// Hands a decided group to the backend: written (and, with a syncer, made durable
    /// later), or committed durably.
    fn write(&self, group: &Group, requests: usize) -> std::result::Result<(), CommitError> {
        if group.is_empty() {
            return Ok(());
        }
        let started = std::time::Instant::now();
        let committed = if self.syncer.is_some() {
            self.storage.write_group(group)
        } else {
            self.storage.commit(group)
        };
        crate::telemetry::group(requests, started.elapsed());
        committed
    }

    /// After a group is written: a directory change is put in force (durably first), the
    /// group's events become visible (now, or once the syncer made them durable), its
    /// records go into the cache, and the answers stand.
    fn after_commit(
        &mut self,
        pending: Pending,
        answers: Vec<(Result<Outcome>, bool)>,
        directory_lock: &RwLock<DirectoryCache>,
    ) -> Attempt {
        let answering = std::time::Instant::now();
        crate::telemetry::profiled_group(answers.len());
        let Pending {
            group,
            published,
            classified,
        } = pending;
        if !self.directory_in_force(&group, directory_lock) {
            let answers = answers
                .into_iter()
                .map(|_| Err(self.halted.as_ref().map_or(Error::Closed, Halt::error)))
                .collect();
            return Attempt::Done(answers);
        }
        let events = self.published(published, &group.docs, &classified);
        if self.syncer.is_some() {
            // Visible once durable: the syncer moves the head and publishes.
            if !group.is_empty() {
                self.written = Some(WrittenGroup {
                    head: self.head,
                    published: events,
                    docs: group.docs.iter().map(|c| c.record.id()).collect(),
                    always: group.sync_always,
                    classifications: group
                        .docs
                        .iter()
                        .map(|c| {
                            let now = c.record.state.classification();
                            let id = c.record.id();
                            (id, now, classified.get(&id).copied().unwrap_or(now))
                        })
                        .collect(),
                });
            }
        } else {
            if !events.is_empty()
                && let Ok(mut tail) = self.readers.tail.write()
            {
                tail.publish(events);
            }
            let _ = self.readers.head_tx.send(self.head);
        }
        self.keep(group.docs);
        let answers = answers.into_iter().map(|(r, _)| r).collect();
        crate::telemetry::spent(crate::telemetry::Phase::Answer, answering.elapsed());
        Attempt::Done(answers)
    }

    /// Puts the directory a group changed in force before anyone is answered, so that a
    /// caller told its change succeeded finds it; only once it is durable (with a syncer,
    /// a directory change, a group of its own, is synced here with everything before it).
    /// False if that sync failed: the writer has stopped.
    fn directory_in_force(
        &mut self,
        group: &Group,
        directory_lock: &RwLock<DirectoryCache>,
    ) -> bool {
        let Some(d) = group
            .docs
            .iter()
            .find_map(|c| c.record.state.directory().map(DirectoryCache::from_state))
        else {
            return true;
        };
        if self.syncer.is_some() {
            self.settle();
            if self.halted.is_some() {
                return false;
            }
            if let Err(e) = self.storage.sync_written(true) {
                let reason = e.reason();
                if let Ok(mut f) = self.sync_failed.lock() {
                    f.get_or_insert(reason.clone());
                }
                if let Ok(mut uncertain) = self.readers.uncertain.write() {
                    uncertain.extend(group.docs.iter().map(|c| c.record.id()));
                }
                self.stop_writing(reason);
                return false;
            }
        }
        if let Ok(mut cache) = directory_lock.write() {
            *cache = d;
        }
        true
    }

    /// Keeps a committed group's records in the writer's cache (the oldest go first).
    fn keep(&mut self, docs: Vec<DocChange>) {
        for change in docs {
            if self.cache.len() >= CACHE_DOCS
                && let Some(evict) = self.cache.keys().next().copied()
            {
                self.cache.remove(&evict);
            }
            self.cache.insert(change.record.id(), change.record);
        }
    }

    /// After a group's commit failed: the head goes back to where the group started, and
    /// the answers that depended on the group fail — with the error, when nothing was
    /// written; for a decision again, when another writer came first; with the halt, when
    /// it may be in the backend's memory but not on disk (the writer stops).
    fn after_failure(
        &mut self,
        error: CommitError,
        group: &Group,
        answers: Vec<(Result<Outcome>, bool)>,
        (start_head, start_hash): (u64, String),
    ) -> Attempt {
        self.head = start_head;
        self.head_hash = start_hash;
        match error {
            CommitError::NotWritten(e) => {
                tracing::error!(error = %e, "group commit failed and wrote nothing; answering every command in it with the error");
                self.cache.clear();
                let reason = e.to_string();
                // Every answer that names events of this group fails with it, retries of an
                // earlier command of the group included: nothing of it was written.
                Attempt::Done(fail_dependent(answers, || Error::CommitFailed {
                    reason: reason.clone(),
                }))
            }
            CommitError::Conflict(reason) => Attempt::Conflict { reason, answers },
            CommitError::NotDurable(e) => {
                // The group may be in the backend (in sled's memory) but not on disk. Reusing
                // its positions would overwrite it; answering from it would acknowledge what
                // a crash loses. Stop.
                tracing::error!(error = %cause(&e), "a write to storage failed after the group was handed to it; whether it reached the disk is unknown (a retry with the same command_id is safe after a restart); the engine stops writing until restarted");
                let halt = Halt::StorageFailed(cause(&e));
                if let Ok(mut uncertain) = self.readers.uncertain.write() {
                    uncertain.extend(group.docs.iter().map(|c| c.record.id()));
                }
                // The head stays where the last certain group left it: nothing (the syncer
                // answering the groups before this one included) may publish this one's.
                self.cache.clear();
                let answers = fail_dependent(answers, || halt.error());
                self.halted = Some(halt);
                Attempt::Done(answers)
            }
        }
    }
}

/// A decided group, ready to commit: the backend's group (events, projection changes, one
/// per touched stream from its state before the group, command records, numbers), and what
/// it will make visible — its events for live subscribers, the highest classification each
/// document reached in it.
struct Pending {
    group: Group,
    published: Vec<(Envelope, crate::read::tail::Listed)>,
    classified: HashMap<DocumentId, workflow_core::directory::Classification>,
}

impl Pending {
    fn of(mut overlay: Overlay, directory: &DirectoryCache) -> Pending {
        let mut group = std::mem::take(&mut overlay.group);
        let is_unit = |s: &str| directory.units.contains_key(&UnitCode::from(s));
        let mut touched: Vec<(DocumentId, DocRecord)> = overlay.docs.into_iter().collect();
        touched.sort_by_key(|(id, _)| *id);
        for (id, after) in touched {
            let (keys, stored) = match overlay.before.get(&id).and_then(Option::as_ref) {
                Some((keys, stored)) => (Some(keys), *stored),
                None => (None, PartsStored::default()),
            };
            let diff = index_diff_from_keys(keys, &after, &is_unit);
            group.docs.push(DocChange {
                record: after,
                diff,
                stored,
            });
        }
        group.commands = overlay.commands.into_iter().collect();
        group.sync_always = group
            .docs
            .iter()
            .any(|c| c.record.state.directory().is_some());
        Pending {
            group,
            published: overlay.published,
            classified: overlay.classified,
        }
    }
}

/// A group's answers when its commit did not happen: those that depended on it (new events
/// of the group) get `error`, the others (refusals, earlier outcomes) stand.
fn fail_dependent(
    answers: Vec<(Result<Outcome>, bool)>,
    error: impl Fn() -> Error,
) -> Vec<Result<Outcome>> {
    answers
        .into_iter()
        .map(|(r, depends)| if depends { Err(error()) } else { r })
        .collect()
}

/// A group's answers when none of it can be decided: `error` for every request.
fn refuse_all(requests: &[Box<Request>], error: impl Fn() -> Error) -> Vec<Result<Outcome>> {
    requests.iter().map(|_| Err(error())).collect()
}
