//! The engine: one writer thread with group commit, and the read side over projections.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use chrono::Utc;
use tokio::sync::{oneshot, watch};
use uuid::Uuid;
use workflow_core::{
    Action, Actor, ActorId, Command, Context, ContextError, Document, DocumentId,
    RetentionSchedule, SCHEMA_VERSION, Series, Timestamp, Unit, UnitCode, handle,
};

use crate::durable::Durability;
use crate::envelope::{Envelope, GENESIS_HASH, fixity_digest};
use crate::error::{Error, Result};
use crate::projection::{DocRecord, IndexKeys, index_diff_from_keys, index_keys};
use crate::storage::{
    CommandRecord, CommitError, DocChange, Group, LogEntry, ProjectionEntry, SledStorage, Storage,
};

/// Longest accepted command id.
pub const MAX_COMMAND_ID: usize = 128;
/// Most commands the writer folds into one group commit.
const MAX_GROUP: usize = 512;

/// Where time comes from when a request carries none. Tests inject a fixed or stepping clock.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// How to open an engine.
#[derive(Clone)]
pub struct Config {
    /// The sled directory.
    pub path: PathBuf,
    /// The clock for requests without `at` (default: the system clock, UTC).
    pub clock: Clock,
    /// sled's page cache in bytes (default 256 MiB). Give it room for the state records of
    /// the documents in use: past that, commands wait on page-ins.
    pub cache_bytes: u64,
    /// How many documents a rebuild folds in memory before writing them out (default
    /// 20,000, some 10 KB each). Within it each document's projection is written once, not
    /// once per event; past it, documents are written and read back when they continue.
    pub rebuild_resident_documents: usize,
    /// Whether to create a new store when `path` holds none (default `true`). Operator
    /// tools set it to `false`, so that a mistyped path is refused
    /// ([`Error::NotAStore`]) instead of turned into an empty store.
    pub create: bool,
    /// What a command answered as succeeded survives (default [`Durability::Strict`]: a
    /// power loss).
    pub durability: Durability,
    /// The retention schedule (保管期限表) archiving proposes from (default: drawn from
    /// 国家档案局令第8号).
    pub retention_schedule: RetentionSchedule,
}

/// The layout of the projections this build writes. Opening a store whose projections
/// have an older layout rebuilds them (in place) first. 2: the deadline index.
pub(crate) const PROJECTION_VERSION: u32 = 2;

/// The default page cache: 256 MiB.
pub const DEFAULT_CACHE_BYTES: u64 = 256 * 1024 * 1024;

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Defaults for a data directory: the system clock.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Config {
            path: path.into(),
            clock: Arc::new(Utc::now),
            cache_bytes: DEFAULT_CACHE_BYTES,
            rebuild_resident_documents: 20_000,
            create: true,
            durability: Durability::Strict,
            retention_schedule: RetentionSchedule::default(),
        }
    }
}

/// A command as the engine receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The caller's idempotency key: resending the same key returns the first outcome.
    pub command_id: String,
    /// The document.
    pub document_id: DocumentId,
    /// Who acts.
    pub actor: ActorId,
    /// When; `None` takes the engine's clock.
    pub at: Option<Timestamp>,
    /// If set, the command applies only if the document is at this version (0: does not
    /// exist yet); otherwise it fails with [`Error::Conflict`].
    pub expected_version: Option<u64>,
    /// What to do.
    pub action: Action,
}

impl Request {
    /// SHA-256 (hex) of what the request asks: document, actor, expected version and action
    /// (not the command id, not `at`). Recorded with its events; a later request with the
    /// same command id but another digest is refused ([`Error::CommandIdMismatch`]) instead
    /// of being answered with the first outcome.
    pub fn digest(&self) -> String {
        #[derive(serde::Serialize)]
        struct Asked<'a> {
            document_id: &'a DocumentId,
            actor: &'a ActorId,
            expected_version: Option<u64>,
            action: &'a Action,
        }
        let asked = Asked {
            document_id: &self.document_id,
            actor: &self.actor,
            expected_version: self.expected_version,
            action: &self.action,
        };
        // Plain data serializes infallibly.
        let bytes = serde_json::to_vec(&asked).unwrap_or_default();
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes))
    }

    /// A request with a fresh random command id, the engine's clock, and no expected version.
    pub fn new(document_id: DocumentId, actor: impl Into<ActorId>, action: Action) -> Self {
        Request {
            command_id: Uuid::new_v4().to_string(),
            document_id,
            actor: actor.into(),
            at: None,
            expected_version: None,
            action,
        }
    }
}

/// What an executed command did. A retry with the same command id gets the same outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The document.
    pub document_id: DocumentId,
    /// The document's version after the command.
    pub version: u64,
    /// The events appended, in order.
    pub events: Vec<Envelope>,
    /// Whether this is a retry answered from the record rather than a new append.
    pub replayed: bool,
}

/// Which earlier state of a document to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    /// After this many events.
    Version(u64),
    /// After every event recorded at or before this instant.
    Instant(Timestamp),
}

enum Msg {
    Execute(Box<Request>, oneshot::Sender<Result<Outcome>>),
    Rebuild {
        from_scratch: bool,
        progress: Box<dyn FnMut(u64, u64) + Send>,
        reply: oneshot::Sender<Result<u64>>,
    },
    PutActor(Actor, oneshot::Sender<Result<()>>),
    PutUnit(Unit, oneshot::Sender<Result<()>>),
    PutDirectory(Vec<Unit>, Vec<Actor>, oneshot::Sender<Result<()>>),
}

/// The in-memory copy of the directory (small; every decision consults it).
#[derive(Debug, Default)]
pub(crate) struct DirectoryCache {
    pub(crate) actors: HashMap<ActorId, Actor>,
    pub(crate) units: HashMap<UnitCode, Unit>,
}

impl DirectoryCache {
    /// The actors of a unit.
    pub(crate) fn actors_of(&self, unit: &UnitCode) -> Vec<Actor> {
        self.actors
            .values()
            .filter(|a| a.unit == *unit)
            .cloned()
            .collect()
    }
}

pub(crate) struct Inner {
    pub(crate) storage: Arc<dyn Storage>,
    /// Documents a group whose flush failed may have changed: until a restart, their
    /// stored state may hold what no caller was told and a power loss may take back, so
    /// reads of them are refused.
    pub(crate) uncertain: Arc<RwLock<HashSet<DocumentId>>>,
    /// Requests sent to the writer and not yet taken into a group.
    pub(crate) queued: Arc<AtomicUsize>,
    pub(crate) retention_schedule: Arc<RetentionSchedule>,
    pub(crate) directory: Arc<RwLock<DirectoryCache>>,
    pub(crate) head: watch::Receiver<u64>,
    pub(crate) path: PathBuf,
    tx: Mutex<Option<std_mpsc::Sender<Msg>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // Closing the channel lets the writer finish what it holds, then exit.
        if let Ok(mut tx) = self.tx.lock() {
            tx.take();
        }
        if let Ok(mut w) = self.writer.lock()
            && let Some(handle) = w.take()
        {
            let _ = handle.join();
        }
    }
}

/// The workflow engine over one data directory. Cheap to clone; all clones share one
/// writer. See the crate docs for the durability guarantees.
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("path", &self.inner.path)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// Opens (or creates) the engine on a directory with default settings.
    pub fn open(path: impl AsRef<Path>) -> Result<Engine> {
        Engine::open_with(Config::new(path.as_ref()))
    }

    /// Opens the engine (creating the store if `config.create` and there is none). Fails
    /// with [`Error::Locked`] if another process holds the directory, and with
    /// [`Error::NotAStore`] if it holds something else (or nothing, without `create`).
    pub fn open_with(config: Config) -> Result<Engine> {
        let storage: Arc<dyn Storage> = Arc::new(SledStorage::open(
            &config.path,
            config.cache_bytes,
            config.create,
            config.durability,
        )?);
        if config.durability == Durability::Relaxed {
            tracing::warn!(
                path = %config.path.display(),
                "durability is relaxed: a crash of the machine or a power loss may lose the last \
                 acknowledged commands"
            );
        }
        let mut directory = DirectoryCache::default();
        for a in storage.actors()? {
            directory.actors.insert(a.id.clone(), a);
        }
        for u in storage.units()? {
            directory.units.insert(u.code.clone(), u);
        }
        let layout = storage.projection_version()?;
        // The log is not touched by a rebuild, so its head can be read before one.
        let last = storage.last()?;
        let empty = last.is_none();
        if storage.rebuilding()? || (layout < PROJECTION_VERSION && !empty) {
            if layout < PROJECTION_VERSION {
                tracing::warn!(
                    from = layout,
                    to = PROJECTION_VERSION,
                    "the projections have an older layout; rebuilding them before opening"
                );
            } else {
                tracing::warn!("a rebuild was interrupted; finishing it before opening");
            }
            crate::replay::rebuild(
                &*storage,
                &directory,
                config.rebuild_resident_documents.max(1),
                false,
                Box::new(|_, _| {}),
            )?;
        } else if layout < PROJECTION_VERSION {
            storage.set_projection_version(PROJECTION_VERSION)?;
        }
        let head = last.as_ref().map_or(0, |e| e.position);
        let head_hash = last.map_or_else(|| GENESIS_HASH.to_owned(), |e| e.hash);
        // The log must end where the last commit said it did. If it does not (its tail was
        // cut, or it was extended outside the engine), writing on would reuse positions and
        // overwrite the evidence: open for reading, refuse every write.
        let halted = match storage.recorded_head()? {
            Some((position, hash)) if position != head || hash != head_hash => {
                let reason = format!(
                    "the log ends at position {head}, but the head recorded with the last commit \
                     is position {position} (hash {hash}): it was cut short or extended outside \
                     the engine; writing is refused until an operator has run `workflow verify`"
                );
                tracing::error!("{reason}");
                Some(Halt::LogMismatch(reason))
            }
            _ => None,
        };
        let (head_tx, head_rx) = watch::channel(head);
        let (tx, rx) = std_mpsc::channel();
        let directory = Arc::new(RwLock::new(directory));
        let retention_schedule = Arc::new(config.retention_schedule);
        let uncertain = Arc::new(RwLock::new(HashSet::new()));
        let queued = Arc::new(AtomicUsize::new(0));
        let inner = Arc::new(Inner {
            storage: storage.clone(),
            retention_schedule: retention_schedule.clone(),
            directory: directory.clone(),
            head: head_rx,
            path: config.path.clone(),
            uncertain: uncertain.clone(),
            queued: queued.clone(),
            tx: Mutex::new(Some(tx)),
            writer: Mutex::new(None),
        });
        let writer = Writer {
            storage,
            directory,
            clock: config.clock,
            head,
            head_hash,
            head_tx,
            cache: HashMap::new(),
            rebuild_resident_documents: config.rebuild_resident_documents.max(1),
            halted,
            retention_schedule,
            uncertain,
            queued,
        };
        let handle = std::thread::Builder::new()
            .name("workflow-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| Error::Unavailable {
                reason: format!("cannot start the writer thread: {e}"),
            })?;
        if let Ok(mut w) = inner.writer.lock() {
            *w = Some(handle);
        }
        Ok(Engine { inner })
    }

    fn send(&self, msg: Msg) -> Result<()> {
        let tx = self.inner.tx.lock().map_err(|_| Error::Closed)?;
        self.inner.queued.fetch_add(1, Ordering::SeqCst);
        tx.as_ref().ok_or(Error::Closed)?.send(msg).map_err(|_| {
            self.inner.queued.fetch_sub(1, Ordering::SeqCst);
            Error::Closed
        })
    }

    /// Requests waiting for the writer (tests use it to know that requests have queued
    /// behind a group in flight).
    #[doc(hidden)]
    pub fn queued_requests(&self) -> usize {
        self.inner.queued.load(Ordering::SeqCst)
    }

    /// Refuses reads of a document that a group whose flush failed may have changed.
    pub(crate) fn certain(&self, id: DocumentId) -> Result<()> {
        let uncertain = self.inner.uncertain.read().map_err(|_| Error::Closed)?;
        if uncertain.contains(&id) {
            return Err(Error::Halted {
                reason: format!(
                    "document {id} was changed by a group whose flush failed; whether that change \
                     reached the disk is unknown until the server is restarted"
                ),
            });
        }
        Ok(())
    }

    /// Executes one command. Returns once its events are durable (flushed to disk), or with
    /// the reason it was refused; a refused command appends nothing.
    pub async fn execute(&self, request: Request) -> Result<Outcome> {
        let (tx, rx) = oneshot::channel();
        self.send(Msg::Execute(Box::new(request), tx))?;
        rx.await.map_err(|_| Error::Closed)?
    }

    fn validate_actor(actor: &Actor) -> Result<()> {
        validate_id("actor.id", &actor.id.0)?;
        if actor.id.0 == workflow_core::SYSTEM_ACTOR {
            return Err(Error::InvalidRequest {
                field: "actor.id",
                reason: format!(
                    "{:?} is reserved for the engine itself",
                    workflow_core::SYSTEM_ACTOR
                ),
            });
        }
        validate_id("actor.unit", &actor.unit.0)
    }

    /// Adds or replaces an actor in the directory (durable on return).
    pub async fn put_actor(&self, actor: Actor) -> Result<()> {
        Self::validate_actor(&actor)?;
        let (tx, rx) = oneshot::channel();
        self.send(Msg::PutActor(actor, tx))?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Adds or replaces a unit in the directory (durable on return).
    pub async fn put_unit(&self, unit: Unit) -> Result<()> {
        validate_id("unit.code", &unit.code.0)?;
        let (tx, rx) = oneshot::channel();
        self.send(Msg::PutUnit(unit, tx))?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Loads units and actors from a directory JSON file's text (the fixture's form), all
    /// at once: a crash while loading leaves either the whole directory or none of it.
    pub async fn load_directory_json(&self, json: &str) -> Result<()> {
        let dir = workflow_core::Directory::from_json(json).map_err(|e| Error::InvalidRequest {
            field: "directory",
            reason: e.to_string(),
        })?;
        let units: Vec<Unit> = dir.units().cloned().collect();
        let actors: Vec<Actor> = dir.actors().cloned().collect();
        for u in &units {
            validate_id("unit.code", &u.code.0)?;
        }
        for a in &actors {
            Self::validate_actor(a)?;
        }
        let (tx, rx) = oneshot::channel();
        self.send(Msg::PutDirectory(units, actors, tx))?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Rebuilds every projection by replaying the log, in place: entries that already hold
    /// what the replay produces are only read, others are written, and entries the replay
    /// does not produce are removed. `progress(done, total)` is called as it goes. Commands
    /// wait meanwhile. Returns the number of events replayed.
    pub async fn rebuild(&self, progress: impl FnMut(u64, u64) + Send + 'static) -> Result<u64> {
        self.rebuild_with(false, Box::new(progress)).await
    }

    /// As [`Engine::rebuild`], but drops every projection first and writes it anew (slower;
    /// for when the stored projections are not to be trusted even to compare against).
    pub async fn rebuild_from_scratch(
        &self,
        progress: impl FnMut(u64, u64) + Send + 'static,
    ) -> Result<u64> {
        self.rebuild_with(true, Box::new(progress)).await
    }

    async fn rebuild_with(
        &self,
        from_scratch: bool,
        progress: Box<dyn FnMut(u64, u64) + Send>,
    ) -> Result<u64> {
        let (reply, rx) = oneshot::channel();
        self.send(Msg::Rebuild {
            from_scratch,
            progress,
            reply,
        })?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// The last position in the log (0 when empty).
    pub fn head(&self) -> u64 {
        *self.inner.head.borrow()
    }

    /// The retention schedule archiving proposes from.
    pub fn retention_schedule(&self) -> &RetentionSchedule {
        &self.inner.retention_schedule
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// An actor of the directory.
    pub fn actor(&self, id: &ActorId) -> Option<Actor> {
        self.inner.directory.read().ok()?.actors.get(id).cloned()
    }

    /// All actors, ordered by id.
    pub fn actors(&self) -> Vec<Actor> {
        let mut v: Vec<Actor> = match self.inner.directory.read() {
            Ok(d) => d.actors.values().cloned().collect(),
            Err(_) => Vec::new(),
        };
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    /// All units, ordered by code.
    pub fn units(&self) -> Vec<Unit> {
        let mut v: Vec<Unit> = match self.inner.directory.read() {
            Ok(d) => d.units.values().cloned().collect(),
            Err(_) => Vec::new(),
        };
        v.sort_by(|a, b| a.code.cmp(&b.code));
        v
    }

    /// The outcome recorded for a command id, once it is durable (`None` before: a group
    /// between its write and its flush is not reported as executed).
    pub fn command_outcome(&self, command_id: &str) -> Result<Option<Outcome>> {
        match self.inner.storage.command(command_id)? {
            Some(rec) if rec.last_position <= self.head() => {
                Ok(Some(outcome_from_record(&*self.inner.storage, &rec, true)?))
            }
            _ => Ok(None),
        }
    }

    /// Raw stored bytes at a log position (for tools and tamper tests).
    pub fn raw_log_entry(&self, position: u64) -> Result<Option<Vec<u8>>> {
        self.inner.storage.raw_log(position)
    }

    /// Overwrites the stored bytes at a log position, bypassing every check. Exists only so
    /// tests and drills can simulate tampering; never call it on a real log.
    #[doc(hidden)]
    pub fn tamper_log_entry(&self, position: u64, bytes: &[u8]) -> Result<()> {
        self.inner.storage.raw_put_log(position, bytes)
    }

    /// Removes the event at a log position, bypassing every check. Exists only so tests and
    /// drills can simulate a deleted event; never call it on a real log.
    #[doc(hidden)]
    pub fn tamper_remove_log_entry(&self, position: u64) -> Result<()> {
        self.inner.storage.raw_remove_log(position)
    }

    /// Overwrites the head recorded with the last commit, as an insider who rewrote the
    /// log's tail would. For tests and drills only.
    #[doc(hidden)]
    pub fn tamper_recorded_head(&self, position: u64, hash: &str) -> Result<()> {
        self.inner.storage.raw_set_recorded_head(position, hash)
    }

    /// The storage faults a test can inject into this engine (the `fault-injection`
    /// feature; never in a normal build).
    #[cfg(any(test, feature = "fault-injection"))]
    #[doc(hidden)]
    pub fn faults(&self) -> Arc<crate::storage::Faults> {
        crate::storage::faults_for(&self.inner.path)
    }

    /// Sets (`Some`) or removes (`None`) one projection entry (`commands`, `docs`, `lists`,
    /// `inbox`, `numbers`), bypassing every check. Exists only so tests and drills can
    /// damage projections for a rebuild to repair; never call it on a real store.
    #[doc(hidden)]
    pub fn tamper_projection(&self, tree: &str, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        self.inner.storage.raw_put_projection(tree, key, value)
    }

    /// Leaves the mark an interrupted rebuild leaves, as if the process had died during
    /// one. For tests and drills only.
    #[doc(hidden)]
    pub fn tamper_interrupt_rebuild(&self) -> Result<()> {
        self.inner.storage.set_rebuilding(true)
    }

    /// Records another projection layout version, as if the store had been written by an
    /// older build. For tests and drills only.
    #[doc(hidden)]
    pub fn tamper_projection_layout(&self, version: u32) -> Result<()> {
        self.inner.storage.set_projection_version(version)
    }

    /// Every projection entry as `(tree, key, value)`, for byte-for-byte comparisons.
    pub fn dump_projections(&self) -> Result<Vec<ProjectionEntry>> {
        self.inner.storage.dump_projections()
    }

    /// The state projection of a document.
    pub fn document(&self, id: DocumentId) -> Result<Option<Document>> {
        self.certain(id)?;
        Ok(self.inner.storage.doc(id)?.map(|r| r.document))
    }

    /// A document's events, in order: those that are durable (a group between its write
    /// and its sync is not shown).
    pub fn history(&self, id: DocumentId) -> Result<Vec<Envelope>> {
        self.certain(id)?;
        let head = self.head();
        let mut events = self.inner.storage.stream(id, u64::MAX)?;
        events.retain(|e| e.position <= head);
        Ok(events)
    }

    /// The document as it was (time travel): folded from its stream up to a version or an
    /// instant. `NotFound` if it did not exist then.
    ///
    /// `AsOf::Version(0)` and a version past the current one are refused
    /// ([`Error::InvalidRequest`] on `as_of_version`, naming the current version).
    pub fn document_as_of(&self, id: DocumentId, as_of: AsOf) -> Result<Document> {
        self.certain(id)?;
        let max = match as_of {
            AsOf::Version(0) => {
                return Err(Error::InvalidRequest {
                    field: "as_of_version",
                    reason: "versions start at 1 (the draft); 0 is before the document existed"
                        .into(),
                });
            }
            AsOf::Version(v) => {
                let current = self
                    .inner
                    .storage
                    .doc(id)?
                    .ok_or(Error::NotFound(id))?
                    .document
                    .version();
                if v > current {
                    return Err(Error::InvalidRequest {
                        field: "as_of_version",
                        reason: format!(
                            "version {v} is past the document's current version {current}"
                        ),
                    });
                }
                v
            }
            AsOf::Instant(_) => u64::MAX,
        };
        let until = match as_of {
            AsOf::Instant(t) => Some(t),
            AsOf::Version(_) => None,
        };
        self.fold_stream(id, max, until)?.ok_or(Error::NotFound(id))
    }

    /// The fold of a stream up to `max_version` and, if given, events recorded by `until`.
    pub(crate) fn fold_stream(
        &self,
        id: DocumentId,
        max_version: u64,
        until: Option<Timestamp>,
    ) -> Result<Option<Document>> {
        let envelopes = self.inner.storage.stream(id, max_version)?;
        let mut events = Vec::with_capacity(envelopes.len());
        for e in envelopes {
            if until.is_some_and(|t| e.recorded_at > t) {
                break;
            }
            events.push(
                e.event()
                    .map_err(|err| Error::corrupt(format_args!("position {}", e.position), err))?,
            );
        }
        Ok(Document::from_events(&events))
    }

    /// Up to `limit` envelopes of the global log from `from` (inclusive), up to the durable
    /// head.
    pub fn read_log(&self, from: u64, limit: usize) -> Result<Vec<Envelope>> {
        let head = self.head();
        let from = from.max(1);
        if from > head {
            return Ok(Vec::new());
        }
        let limit = limit.min(usize::try_from(head - from + 1).unwrap_or(usize::MAX));
        self.inner.storage.log_from(from, limit)
    }

    /// Waits until the head moves past `position` (or the engine closes).
    pub(crate) async fn wait_past(&self, position: u64) -> bool {
        let mut rx = self.inner.head.clone();
        loop {
            if *rx.borrow_and_update() > position {
                return true;
            }
            if rx.changed().await.is_err() {
                return *rx.borrow() > position;
            }
        }
    }

    /// Bytes the data directory takes on disk.
    pub fn size_on_disk(&self) -> Result<u64> {
        self.inner.storage.size_on_disk()
    }

    /// Makes everything written durable (the writer already flushes before every answer;
    /// this is for shutdown paths).
    pub fn flush(&self) -> Result<()> {
        self.inner.storage.flush()
    }
}

pub(crate) fn validate_id(field: &'static str, id: &str) -> Result<()> {
    if id.trim().is_empty() || id.len() > MAX_COMMAND_ID || id.chars().any(|c| c.is_control()) {
        return Err(Error::InvalidRequest {
            field,
            reason: format!("{id:?} must be 1-{MAX_COMMAND_ID} bytes without control characters"),
        });
    }
    Ok(())
}

fn outcome_from_record(
    storage: &dyn Storage,
    rec: &CommandRecord,
    replayed: bool,
) -> Result<Outcome> {
    let count = (rec.last_position + 1).saturating_sub(rec.first_position) as usize;
    let events = storage.log_from(rec.first_position, count)?;
    Ok(Outcome {
        document_id: rec.document_id,
        version: rec.version,
        events,
        replayed,
    })
}

/// The single writer: decides, chains, commits and flushes groups of commands.
struct Writer {
    storage: Arc<dyn Storage>,
    // Shared with the engine's readers; never a reference to `Inner`, whose drop joins us.
    directory: Arc<RwLock<DirectoryCache>>,
    clock: Clock,
    head: u64,
    head_hash: String,
    head_tx: watch::Sender<u64>,
    /// Recently written state records, so a document's next command skips decoding its
    /// projection. Holds exactly what was committed; cleared on a failed commit or rebuild.
    cache: HashMap<DocumentId, DocRecord>,
    rebuild_resident_documents: usize,
    /// Set when writing must stop: from then on every write is refused.
    halted: Option<Halt>,
    retention_schedule: Arc<RetentionSchedule>,
    uncertain: Arc<RwLock<HashSet<DocumentId>>>,
    queued: Arc<AtomicUsize>,
}

/// Why the writer refuses every write.
enum Halt {
    /// A flush failed after a group was written: whether it reached the disk is unknown.
    FlushFailed(String),
    /// The log does not end at the head recorded with the last commit.
    LogMismatch(String),
}

impl Halt {
    fn error(&self) -> Error {
        match self {
            Halt::FlushFailed(reason) => Error::Halted {
                reason: format!("a flush failed ({reason}); restart the server"),
            },
            Halt::LogMismatch(reason) => Error::Corrupt {
                at: "the end of the log".into(),
                reason: reason.clone(),
            },
        }
    }
}

/// Most state records the writer keeps decoded.
const CACHE_DOCS: usize = 4096;

/// What one group has changed so far, read before the stored state.
#[derive(Default)]
struct Overlay {
    docs: HashMap<DocumentId, DocRecord>,
    /// The index keys each touched document had before the group (its record is not kept:
    /// copying whole records was a measurable share of the writer's time).
    before: HashMap<DocumentId, Option<IndexKeys>>,
    commands: HashMap<String, CommandRecord>,
    numbers: HashMap<Series, u32>,
    group: Group,
}

struct GroupContext<'a> {
    directory: &'a DirectoryCache,
    schedule: &'a RetentionSchedule,
    storage: &'a dyn Storage,
    overlay: &'a Overlay,
    stream: DocumentId,
}

impl Context for GroupContext<'_> {
    fn actor(&self, id: &ActorId) -> Option<Actor> {
        self.directory.actors.get(id).cloned()
    }
    fn actors_of(&self, unit: &UnitCode) -> Vec<Actor> {
        self.directory.actors_of(unit)
    }
    fn retention_schedule(&self) -> &RetentionSchedule {
        self.schedule
    }
    fn unit(&self, code: &UnitCode) -> Option<Unit> {
        self.directory.units.get(code).cloned()
    }
    fn next_number(&self, series: &Series) -> Result<u32, ContextError> {
        let max = match self.overlay.numbers.get(series) {
            Some(n) => *n,
            None => self.storage.max_number(series).map_err(context_error)?,
        };
        Ok(max + 1)
    }
    fn fixity_hash(&self) -> Result<Option<String>, ContextError> {
        let mut hashes: Vec<String> = self
            .storage
            .stream_hashes(self.stream)
            .map_err(context_error)?;
        hashes.extend(
            self.overlay
                .group
                .envelopes
                .iter()
                .filter(|e| e.stream_id == self.stream)
                .map(|e| e.hash.clone()),
        );
        Ok(Some(fixity_digest(hashes.iter().map(String::as_str))))
    }
}

type Reply = oneshot::Sender<Result<Outcome>>;

impl Writer {
    fn run(mut self, rx: std_mpsc::Receiver<Msg>) {
        let queued = self.queued.clone();
        let taken = || {
            queued.fetch_sub(1, Ordering::SeqCst);
        };
        while let Ok(first) = rx.recv() {
            taken();
            let mut executes: Vec<(Box<Request>, Reply)> = Vec::new();
            let mut next = Some(first);
            while let Some(msg) = next.take() {
                match msg {
                    Msg::Execute(req, reply) => executes.push((req, reply)),
                    other => {
                        // Directory changes and rebuilds are ordered after the commands before them.
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
            self.commit_group(executes);
        }
        let _ = self.storage.flush();
    }

    fn handle_admin(&mut self, msg: Msg) {
        let directory = self.directory.clone();
        if let Some(halt) = &self.halted {
            let halted = || halt.error();
            match msg {
                Msg::Execute(..) => {}
                Msg::PutActor(_, reply)
                | Msg::PutUnit(_, reply)
                | Msg::PutDirectory(_, _, reply) => {
                    let _ = reply.send(Err(halted()));
                }
                Msg::Rebuild { reply, .. } => {
                    let _ = reply.send(Err(halted()));
                }
            }
            return;
        }
        match msg {
            Msg::Execute(..) => {}
            Msg::PutActor(actor, reply) => {
                let r = self.storage.put_actor(&actor).map(|()| {
                    if let Ok(mut d) = directory.write() {
                        d.actors.insert(actor.id.clone(), actor);
                    }
                });
                let _ = reply.send(r);
            }
            Msg::PutUnit(unit, reply) => {
                let r = self.storage.put_unit(&unit).map(|()| {
                    if let Ok(mut d) = directory.write() {
                        d.units.insert(unit.code.clone(), unit);
                    }
                });
                let _ = reply.send(r);
            }
            Msg::PutDirectory(units, actors, reply) => {
                let r = self.storage.put_directory(&units, &actors).map(|()| {
                    if let Ok(mut d) = directory.write() {
                        for u in units {
                            d.units.insert(u.code.clone(), u);
                        }
                        for a in actors {
                            d.actors.insert(a.id.clone(), a);
                        }
                    }
                });
                let _ = reply.send(r);
            }
            Msg::Rebuild {
                from_scratch,
                progress,
                reply,
            } => {
                self.cache.clear();
                let r = match directory.read() {
                    Ok(dir) => crate::replay::rebuild(
                        &*self.storage,
                        &dir,
                        self.rebuild_resident_documents,
                        from_scratch,
                        progress,
                    ),
                    Err(_) => Err(Error::Closed),
                };
                let _ = reply.send(r);
            }
        }
    }

    fn commit_group(&mut self, executes: Vec<(Box<Request>, Reply)>) {
        if executes.is_empty() {
            return;
        }
        if let Some(halt) = &self.halted {
            for (_, reply) in executes {
                let _ = reply.send(Err(halt.error()));
            }
            return;
        }
        let directory_lock = self.directory.clone();
        let Ok(directory) = directory_lock.read() else {
            for (_, reply) in executes {
                let _ = reply.send(Err(Error::Closed));
            }
            return;
        };
        let (start_head, start_hash) = (self.head, self.head_hash.clone());
        let mut overlay = Overlay::default();
        // Each answer, and whether it depends on this group being written: a new append, a
        // retry answered from an append earlier in the same group, or any answer (a refusal
        // too) decided against a document or command id the group had already changed.
        let mut answers: Vec<(Reply, Result<Outcome>, bool)> = Vec::with_capacity(executes.len());
        for (req, reply) in executes {
            let read_group_state = overlay.commands.contains_key(&req.command_id)
                || overlay.docs.contains_key(&req.document_id);
            let (r, depends) = match self.execute_one(&req, &directory, &mut overlay) {
                Ok((o, depends)) => (Ok(o), depends || read_group_state),
                Err(e) => (Err(e), read_group_state),
            };
            answers.push((reply, r, depends));
        }
        // Projection changes: one per touched document, from its state before the group.
        let mut group = std::mem::take(&mut overlay.group);
        let is_unit = |s: &str| directory.units.contains_key(&UnitCode::from(s));
        let mut touched: Vec<(DocumentId, DocRecord)> = overlay.docs.into_iter().collect();
        touched.sort_by_key(|(id, _)| *id);
        for (id, after) in touched {
            let before = overlay.before.get(&id).and_then(Option::as_ref);
            let diff = index_diff_from_keys(before, &after, &is_unit);
            group.docs.push(DocChange {
                record: after,
                diff,
            });
        }
        group.commands = overlay.commands.into_iter().collect();
        let committed = if group.is_empty() {
            Ok(())
        } else {
            self.storage.commit(&group)
        };
        match committed {
            Ok(()) => {
                let _ = self.head_tx.send(self.head);
                for change in group.docs {
                    if self.cache.len() >= CACHE_DOCS
                        && let Some(evict) = self.cache.keys().next().copied()
                    {
                        self.cache.remove(&evict);
                    }
                    self.cache
                        .insert(change.record.document.id(), change.record);
                }
                for (reply, r, _) in answers {
                    let _ = reply.send(r);
                }
            }
            Err(CommitError::NotWritten(e)) => {
                tracing::error!(error = %e, "group commit failed and wrote nothing; answering every command in it with the error");
                self.cache.clear();
                self.head = start_head;
                self.head_hash = start_hash;
                let reason = e.to_string();
                // Every answer that names events of this group fails with it, retries of an
                // earlier command of the group included: nothing of it was written.
                for (reply, r, depends) in answers {
                    let _ = reply.send(if depends {
                        Err(Error::CommitFailed {
                            reason: reason.clone(),
                        })
                    } else {
                        r
                    });
                }
            }
            Err(CommitError::NotDurable(e)) => {
                // The group is in sled but maybe not on disk. Reusing its positions would
                // overwrite it; guessing would risk acknowledging what a crash loses. Stop.
                tracing::error!(error = %e, "flush failed after a group was written; the engine stops writing until restarted");
                let halt = Halt::FlushFailed(e.to_string());
                if let Ok(mut uncertain) = self.uncertain.write() {
                    uncertain.extend(group.docs.iter().map(|c| c.record.document.id()));
                }
                for (reply, r, depends) in answers {
                    let _ = reply.send(if depends { Err(halt.error()) } else { r });
                }
                self.halted = Some(halt);
            }
        }
    }

    /// The events a command produces against the document's current record, or why not.
    fn decide(
        &self,
        req: &Request,
        current: Option<&DocRecord>,
        directory: &DirectoryCache,
        overlay: &Overlay,
    ) -> Result<Vec<workflow_core::Event>> {
        let id = req.document_id;
        let actual = current.map_or(0, |r| r.document.version());
        if let Some(expected) = req.expected_version
            && expected != actual
        {
            return Err(Error::Conflict {
                document_id: id,
                expected,
                actual,
            });
        }
        let command = Command {
            document_id: id,
            actor: req.actor.clone(),
            at: req.at.unwrap_or_else(|| (self.clock)()),
            action: req.action.clone(),
        };
        let ctx = GroupContext {
            directory,
            schedule: &self.retention_schedule,
            storage: &*self.storage,
            overlay,
            stream: id,
        };
        handle(current.map(|r| &r.document), &command, &ctx).map_err(from_core)
    }

    /// Decides one request within the group. `Ok((outcome, true))` when the answer names
    /// events of this group (new ones, or a retry of a command earlier in the group), which
    /// may only be acknowledged once the group is durable.
    fn execute_one(
        &mut self,
        req: &Request,
        directory: &DirectoryCache,
        overlay: &mut Overlay,
    ) -> Result<(Outcome, bool)> {
        validate_id("command_id", &req.command_id)?;
        let digest = req.digest();
        // Idempotency: a known command id answers with its first outcome, if it is the
        // same request.
        let (known, in_group) = match overlay.commands.get(&req.command_id) {
            Some(r) => (Some(r.clone()), true),
            None => (self.storage.command(&req.command_id)?, false),
        };
        if let Some(rec) = known {
            if rec.document_id != req.document_id {
                return Err(Error::CommandIdReused {
                    command_id: req.command_id.clone(),
                    document_id: rec.document_id,
                });
            }
            let mut o = if in_group {
                // Appended earlier in this group: not yet readable from storage.
                let events = overlay
                    .group
                    .envelopes
                    .iter()
                    .filter(|e| e.position >= rec.first_position && e.position <= rec.last_position)
                    .map(|e| {
                        serde_json::from_slice(&e.bytes).map_err(|err| {
                            Error::corrupt(format_args!("position {}", e.position), err)
                        })
                    })
                    .collect::<Result<_>>()?;
                Outcome {
                    document_id: rec.document_id,
                    version: rec.version,
                    events,
                    replayed: true,
                }
            } else {
                outcome_from_record(&*self.storage, &rec, true)?
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
            return Ok((o, in_group));
        }
        let id = req.document_id;
        // A record from the writer's cache is taken, not copied, and put back if the command
        // is refused; after a commit the new record goes back into the cache anyway.
        let (current, from_cache) = match overlay.docs.get(&id) {
            Some(r) => (Some(r.clone()), false),
            None => {
                let (stored, from_cache) = match self.cache.remove(&id) {
                    Some(r) => (Some(r), true),
                    None => (self.storage.doc(id)?, false),
                };
                let is_unit = |s: &str| directory.units.contains_key(&UnitCode::from(s));
                overlay
                    .before
                    .insert(id, stored.as_ref().map(|r| index_keys(r, &is_unit)));
                (stored, from_cache)
            }
        };
        let decided = self.decide(req, current.as_ref(), directory, overlay);
        let events = match decided {
            Ok(events) => events,
            Err(e) => {
                if from_cache && let Some(r) = current {
                    self.cache.insert(id, r);
                }
                return Err(e);
            }
        };
        let mut record = current;
        let mut envelopes = Vec::with_capacity(events.len());
        let mut sealed = Vec::with_capacity(events.len());
        for event in &events {
            let position = self.head + 1;
            let version = record.as_ref().map_or(0, |r| r.document.version()) + 1;
            let mut env = Envelope {
                position,
                stream_id: id,
                version,
                event_id: Uuid::new_v4(),
                command_id: req.command_id.clone(),
                request_digest: Some(digest.clone()),
                actor: event.actor.clone(),
                recorded_at: event.at,
                event_type: event.data.type_name().to_owned(),
                schema_version: SCHEMA_VERSION,
                payload: event.data.payload(),
                prev_hash: self.head_hash.clone(),
                hash: String::new(),
            };
            let stored = env.seal();
            self.head = position;
            self.head_hash = env.hash.clone();
            match record.as_mut() {
                Some(r) => r.document.apply(event),
                None => {
                    record = Document::created_by(event).map(|document| DocRecord {
                        drafted_position: position,
                        document,
                    })
                }
            }
            if let Some((series, n)) = event.data.number_claim() {
                let max = overlay.numbers.entry(series.clone()).or_insert(0);
                *max = (*max).max(n);
                overlay.group.numbers.push((series, n, id));
            }
            envelopes.push(env);
            sealed.push(stored);
        }
        let Some(record) = record else {
            return Err(Error::corrupt(
                format_args!("document {id}"),
                "command produced no document",
            ));
        };
        let version = record.document.version();
        let rec = CommandRecord {
            document_id: id,
            first_position: envelopes.first().map_or(self.head, |e| e.position),
            last_position: self.head,
            version,
        };
        overlay.commands.insert(req.command_id.clone(), rec);
        overlay.docs.insert(id, record);
        overlay
            .group
            .envelopes
            .extend(envelopes.iter().zip(sealed).map(|(e, bytes)| LogEntry {
                position: e.position,
                stream_id: e.stream_id,
                version: e.version,
                hash: e.hash.clone(),
                bytes,
            }));
        Ok((
            Outcome {
                document_id: id,
                version,
                events: envelopes,
                replayed: false,
            },
            true,
        ))
    }
}

/// A storage failure, carried through a decision as the core's context error.
fn context_error(e: Error) -> ContextError {
    ContextError(Box::new(e))
}

/// A core error as the store's: a context error gives back the store error inside it.
fn from_core(e: workflow_core::Error) -> Error {
    match e {
        workflow_core::Error::Context(ContextError(inner)) => match inner.downcast::<Error>() {
            Ok(store) => *store,
            Err(other) => Error::Unavailable {
                reason: other.to_string(),
            },
        },
        rejected => Error::Rejected(rejected),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // tests
mod tests {
    use super::*;
    use workflow_core::{Action, DraftFields};

    const CAMPUS: &str = include_str!("../../fixtures/campus.json");

    fn fields() -> DraftFields {
        let campus: serde_json::Value = serde_json::from_str(CAMPUS).unwrap();
        serde_json::from_value(campus["document"].clone()).unwrap()
    }

    fn draft() -> Request {
        Request::new(
            DocumentId(Uuid::new_v4()),
            "wang.fang",
            Action::Draft(fields()),
        )
    }

    #[tokio::test]
    async fn a_failed_commit_writes_nothing_and_a_retry_succeeds() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        engine.load_directory_json(CAMPUS).await.unwrap();
        crate::storage::faults_for(dir.path()).fail_commit(0);
        let request = draft();
        let e = engine.execute(request.clone()).await.unwrap_err();
        assert!(matches!(e, Error::CommitFailed { .. }), "{e}");
        assert!(e.to_string().contains("retry with the same command_id"));
        assert_eq!(engine.head(), 0);
        assert!(engine.document(request.document_id).unwrap().is_none());
        let o = engine.execute(request.clone()).await.unwrap();
        assert!(!o.replayed);
        assert_eq!((engine.head(), o.events[0].position), (1, 1));
        assert!(engine.verify(|_, _| {}).unwrap().is_intact());
    }

    #[tokio::test]
    async fn a_failed_flush_stops_writing_until_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let engine = Engine::open(dir.path()).unwrap();
        engine.load_directory_json(CAMPUS).await.unwrap();
        let acknowledged = engine.execute(draft()).await.unwrap();
        crate::storage::faults_for(dir.path()).fail_flush(0);
        let e = engine.execute(draft()).await.unwrap_err();
        assert!(matches!(e, Error::Halted { .. }), "{e}");
        // Nothing more is written: not commands, not directory changes, not rebuilds.
        let e = engine.execute(draft()).await.unwrap_err();
        assert!(matches!(e, Error::Halted { .. }), "{e}");
        assert!(matches!(
            engine.rebuild(|_, _| {}).await,
            Err(Error::Halted { .. })
        ));
        drop(engine);
        // After a restart: what was acknowledged is there, the chain is intact (the unflushed
        // group may or may not have survived), and commands work again.
        let engine = Engine::open(dir.path()).unwrap();
        assert!(engine.document(acknowledged.document_id).unwrap().is_some());
        assert!(engine.verify(|_, _| {}).unwrap().is_intact());
        let head = engine.head();
        assert!((1..=2).contains(&head), "head {head}");
        let o = engine.execute(draft()).await.unwrap();
        assert_eq!(o.events[0].position, head + 1);
        assert!(engine.verify(|_, _| {}).unwrap().is_intact());
    }
}
