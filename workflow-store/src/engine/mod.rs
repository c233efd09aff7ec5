//! The engine: opening a store, the writer thread it runs (group commit), and the
//! directory and operations around it. Reading is in [`crate::read`], replay and verify in
//! [`crate::replay`].
//!
//! - `request`: what a caller sends and gets back;
//! - `writer`: the single writer, and `syncer`, which makes its groups durable;
//! - `group`: one commit group under way and the context its decisions consult;
//! - `sweep`: the deadline sweep, which writes reminders.

mod check;
mod group;
mod halt;
mod pending;
mod request;
mod sweep;
mod syncer;
mod writer;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use chrono::Utc;
use tokio::sync::{oneshot, watch};
use workflow_core::{
    ActorId, DocumentId, FlowAction, Timestamp, archive::RetentionSchedule, directory::Actor,
    directory::DIRECTORY_STREAM, directory::DirectoryAction, directory::Unit,
};

use self::halt::Halt;
pub use self::request::{AsOf, MAX_COMMAND_ID, Outcome, Request};
pub(crate) use self::request::{outcome_from_record, validate_id};
pub use self::sweep::DueReminder;
use self::writer::Writer;
use crate::directory::DirectoryCache;
use crate::durability::Durability;
use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::projection::PROJECTION_VERSION;
use crate::storage::{ProjectionEntry, RebuildMode, Storage};

/// Where time comes from when a request carries none. Tests inject a fixed or stepping clock.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// How to open an engine.
#[derive(Clone)]
pub struct Config {
    /// The sled directory (with another backend, only a name for the engine in logs).
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
    /// What uploaded files may be (default: 100 MiB, every kind the engine knows).
    pub content_limits: crate::content::ContentLimits,
    /// What prints an issued 发文 as its 公文 at 印发 (none by default: the `Issued` event
    /// then names no printed file). The `workflow` binary gives `workflow-render`'s.
    pub printer: Option<crate::print::PrinterHandle>,
    /// Where the keyword index of 查询 lives (default: with the store — beside a sled store,
    /// in memory on PostgreSQL).
    pub search_index: crate::search::SearchIndex,
    /// The digest of the log's hash chain and fixity digests for a new store (default: none
    /// asked, SHA-256). A store keeps the digest of its first event; asking another for a
    /// store that has events is refused ([`Error::InvalidRequest`], field `chain_digest`).
    pub chain_digest: Option<crate::envelope::ChainDigest>,
}

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
            content_limits: crate::content::ContentLimits::default(),
            printer: None,
            search_index: crate::search::SearchIndex::default(),
            chain_digest: None,
        }
    }
}

/// What the writer thread is asked to do.
enum Msg {
    Execute(Box<Request>, oneshot::Sender<Result<Outcome>>),
    Rebuild {
        mode: RebuildMode,
        progress: Box<dyn FnMut(u64, u64) + Send>,
        reply: oneshot::Sender<Result<u64>>,
    },
    /// Another process committed to the shared store.
    Foreign,
}

pub(crate) struct Inner {
    pub(crate) storage: Arc<dyn Storage>,
    /// Documents a group whose flush failed may have changed: until a restart, their
    /// stored state may hold what no caller was told and a power loss may take back, so
    /// reads of them are refused.
    pub(crate) uncertain: Arc<RwLock<HashSet<DocumentId>>>,
    /// Requests sent to the writer and not yet taken into a group.
    pub(crate) queued: Arc<AtomicUsize>,
    /// Groups decided again after another writer of a shared store committed first.
    pub(crate) redecided: Arc<std::sync::atomic::AtomicU64>,
    /// Whether the writer refuses every write (see [`Engine::is_halted`]).
    pub(crate) halted: Arc<std::sync::atomic::AtomicBool>,
    /// The shared live tail the writer publishes to while anyone subscribes.
    pub(crate) tail: Arc<RwLock<crate::read::tail::Tail>>,
    /// Live subscriptions (the writer publishes only while there are some).
    pub(crate) live: Arc<AtomicUsize>,
    /// Batches subscribers took from the shared tail, and from the log.
    pub(crate) from_tail: std::sync::atomic::AtomicU64,
    pub(crate) from_log: std::sync::atomic::AtomicU64,
    /// Documents' classifications as last committed (clearance checks per event).
    pub(crate) classifications: Arc<RwLock<crate::read::tail::Classifications>>,
    pub(crate) retention_schedule: Arc<RetentionSchedule>,
    pub(crate) content_limits: crate::content::ContentLimits,
    pub(crate) directory: Arc<RwLock<DirectoryCache>>,
    /// The printer of issued 公文 (the writer prints with it at 印发; verify prints again).
    pub(crate) printer: Option<Arc<dyn crate::print::Printer>>,
    /// Copies of issued 公文 printed ahead of the writer's decision.
    pub(crate) printed_ahead: Arc<crate::print::PrintedAhead>,
    /// Held by a 印发 from its printing ahead to its commit.
    pub(crate) issuing: tokio::sync::Mutex<()>,
    /// The access log's end; appends take this lock, never the writer's queue.
    pub(crate) access: std::sync::Mutex<crate::access::AccessChain>,
    pub(crate) clock: Clock,
    pub(crate) head: watch::Receiver<u64>,
    pub(crate) path: PathBuf,
    /// The keyword index, if there is one.
    pub(crate) search: Option<Arc<crate::search::Search>>,
    tx: Mutex<Option<std_mpsc::Sender<Msg>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The index's thread reads the storage: it ends before the storage may close.
        if let Some(search) = &self.search {
            search.stop();
        }
        // The storage's listener holds a sender too: stop it first.
        self.storage.watch_foreign_commits(None);
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
    #[cfg(feature = "sled")]
    pub fn open(path: impl AsRef<Path>) -> Result<Engine> {
        Engine::open_with(Config::new(path.as_ref()))
    }

    /// Opens the engine (creating the store if `config.create` and there is none). Fails
    /// with [`Error::Locked`] if another process holds the directory, and with
    /// [`Error::NotAStore`] if it holds something else (or nothing, without `create`).
    #[cfg(feature = "sled")]
    pub fn open_with(mut config: Config) -> Result<Engine> {
        if config.search_index == crate::search::SearchIndex::WithStore {
            config.search_index = crate::search::SearchIndex::At(config.path.join("search"));
        }
        let storage: Arc<dyn Storage> = Arc::new(crate::storage::sled::SledStorage::open(
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
        Engine::with_storage(storage, config)
    }

    /// Runs the engine on any backend (one that passes the storage conformance suite of
    /// `workflow-testkit`).
    ///
    /// Of `config`, the clock, the rebuild's memory and the retention schedule apply; the
    /// path only names the engine; the rest is the backend's own.
    pub fn with_storage(storage: Arc<dyn Storage>, config: Config) -> Result<Engine> {
        // On a store other processes share, their commits are held off while this one reads
        // the log's end and the recorded head (two reads that must agree) and finishes an
        // interrupted or needed rebuild (which must not race their writes).
        let (head, head_hash, halted) = Self::open_log_held(&*storage, &config)?;
        crate::telemetry::head(head, halted.is_some());
        // The directory is derived from the log. A store written before the directory was
        // in the log kept it beside the log: that directory is recorded as the directory
        // stream's first event (below), once.
        let directory = DirectoryCache::load(&*storage)?;
        let legacy = legacy_directory(&*storage)?;
        let (head_tx, head_rx) = watch::channel(head);
        let head_tx = Arc::new(head_tx);
        let (tx, rx) = std_mpsc::channel::<Msg>();
        let directory = Arc::new(RwLock::new(directory));
        let retention_schedule = Arc::new(config.retention_schedule);
        let uncertain = Arc::new(RwLock::new(HashSet::new()));
        let queued = Arc::new(AtomicUsize::new(0));
        let redecided = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let halted_flag = Arc::new(std::sync::atomic::AtomicBool::new(halted.is_some()));
        let tail = Arc::new(RwLock::new(crate::read::tail::Tail::default()));
        let live = Arc::new(AtomicUsize::new(0));
        let classifications = Arc::new(RwLock::new(crate::read::tail::Classifications::default()));
        let search =
            crate::search::Search::start(&config.search_index, storage.clone(), head_rx.clone());
        let printed_ahead = Arc::new(crate::print::PrintedAhead::default());
        let inner = Arc::new(Inner {
            storage: storage.clone(),
            retention_schedule: retention_schedule.clone(),
            content_limits: config.content_limits.clone(),
            directory: directory.clone(),
            printer: config.printer.clone().map(|p| p.0),
            printed_ahead: printed_ahead.clone(),
            issuing: tokio::sync::Mutex::new(()),
            access: crate::access::AccessChain::load(&*storage)?,
            clock: config.clock.clone(),
            head: head_rx,
            path: config.path.clone(),
            search,
            uncertain: uncertain.clone(),
            queued: queued.clone(),
            redecided: redecided.clone(),
            halted: halted_flag.clone(),
            tail: tail.clone(),
            live: live.clone(),
            from_tail: std::sync::atomic::AtomicU64::new(0),
            from_log: std::sync::atomic::AtomicU64::new(0),
            classifications: classifications.clone(),
            tx: Mutex::new(Some(tx)),
            writer: Mutex::new(None),
        });
        let storage_splits = storage.split_commit().is_some() && !storage.shared();
        let mut writer = Writer {
            storage,
            readers: writer::WriterReaders {
                head_tx,
                uncertain,
                queued,
                redecided,
                halted_flag,
                tail: tail.clone(),
                live,
                classifications,
            },
            directory,
            clock: config.clock,
            head,
            head_hash,
            cache: HashMap::new(),
            maybe_behind: true,
            rebuild_resident_documents: config.rebuild_resident_documents.max(1),
            halted,
            retention_schedule,
            printer: config.printer.clone().map(|p| p.0),
            printed_ahead,
            syncer: None,
            syncer_thread: None,
            sync_failed: Arc::new(Mutex::new(None)),
            written: None,
        };
        // A backend that can split its commits gets a syncer: the writer goes on deciding
        // while the last groups are made durable. (Not for a shared store: another process
        // must never see a group this one might still lose.)
        if storage_splits {
            start_syncer(&mut writer, tail)?;
        }
        if let Some((units, actors)) = legacy {
            writer.import_legacy_directory(units, actors)?;
        }
        let handle = std::thread::Builder::new()
            .name("workflow-writer".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| Error::Unavailable {
                reason: format!("cannot start the writer thread: {e}"),
            })?;
        if let Ok(mut w) = inner.writer.lock() {
            *w = Some(handle);
        }
        watch_foreign_commits(&inner);
        Ok(Engine { inner })
    }

    /// [`Engine::open_log`], holding the other writers' commits off on a store other
    /// processes share: reading the log's end and the recorded head (two reads that must
    /// agree) and finishing an interrupted or needed rebuild must not race their writes.
    fn open_log_held(
        storage: &dyn Storage,
        config: &Config,
    ) -> Result<(u64, String, Option<Halt>)> {
        let shared = storage.shared();
        if shared {
            storage.hold_commits()?;
        }
        let opened = Self::open_log(storage, config);
        if shared {
            storage.release_commits();
        }
        opened
    }

    /// Brings the projections up to date (a rebuild if one was interrupted or their layout
    /// is older) and reads where the log ends: its head, and a reason to refuse writing if
    /// the log does not end where the last commit said.
    fn open_log(storage: &dyn Storage, config: &Config) -> Result<(u64, String, Option<Halt>)> {
        let layout = storage.projection_version()?;
        // The log is not touched by a rebuild, so its head can be read before one.
        let last = storage.log_end()?;
        let empty = last.is_none();
        // Before anything is done to it: the log's digest is its first event's, and a store
        // chained with one is never continued with the other.
        if let (Some(last), Some(asked)) = (&last, config.chain_digest) {
            let kept = crate::envelope::ChainDigest::of(&last.hash);
            if kept != asked {
                return Err(Error::InvalidRequest {
                    field: "chain_digest",
                    reason: format!(
                        "this store's log is chained with {kept} from its first event; it cannot \
                         go on with {asked} (leave chain_digest out, or set it to {})",
                        kept.name().to_lowercase().replace('-', "")
                    ),
                });
            }
        }
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
                storage,
                config.rebuild_resident_documents.max(1),
                RebuildMode::InPlace,
                Box::new(|_, _| {}),
            )?;
        } else if layout < PROJECTION_VERSION {
            storage.set_projection_version(PROJECTION_VERSION)?;
        }
        let head = last.as_ref().map_or(0, |e| e.position);
        let head_hash = last.map_or_else(
            || config.chain_digest.unwrap_or_default().genesis(),
            |e| e.hash,
        );
        // The log must end where the last commit said it did. If it does not (its tail was
        // cut, or it was extended outside the engine), writing on would reuse positions and
        // overwrite the evidence: open for reading, refuse every write.
        let halted = match storage.recorded_head()? {
            Some(crate::LogHead { position, hash }) if position != head || hash != head_hash => {
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
        Ok((head, head_hash, halted))
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

    /// How many groups this engine decided again because another process sharing the
    /// store committed first (each is answered as if nothing had happened; only a group
    /// that keeps losing is answered with [`Error::WriteConflict`]).
    pub fn redecided_groups(&self) -> u64 {
        self.inner.redecided.load(Ordering::Relaxed)
    }

    /// Batches of events subscribers took from the shared tail and from the log, and the
    /// events the tail holds (tests and metrics).
    #[doc(hidden)]
    pub fn subscription_counters(&self) -> (u64, u64, usize) {
        (
            self.inner.from_tail.load(Ordering::Relaxed),
            self.inner.from_log.load(Ordering::Relaxed),
            self.inner.tail.read().map_or(0, |t| t.len()),
        )
    }

    /// Whether the engine refuses every write until it is restarted: a flush or a commit
    /// whose outcome is unknown, or a log that does not end where the last commit said.
    /// Reads still work. Health checks report it (`NOT_SERVING`).
    pub fn is_halted(&self) -> bool {
        self.inner.halted.load(Ordering::SeqCst)
    }

    /// Whether storage answers a read now (one small read; a round trip to a database):
    /// what a health check reports between a database that went away and its return. A
    /// blocking call: run it off the async threads.
    pub fn storage_answers(&self) -> bool {
        self.inner
            .storage
            .doc(DocumentId(uuid::Uuid::nil()))
            .is_ok()
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
        if let FlowAction::Bulletin(action) = &request.action {
            // Deciding is pure, so a publication's digests come with the command: they must
            // be those of the bulletin the log gives.
            let engine = self.clone();
            let (action, at) = (action.clone(), request.at);
            tokio::task::spawn_blocking(move || engine.check_publication(&action, at))
                .await
                .map_err(|e| Error::Internal {
                    reason: format!("the bulletin check stopped: {e}"),
                })??;
        }
        let name = request.action.name();
        let started = std::time::Instant::now();
        let answer = if self.inner.printer.is_some()
            && matches!(
                &request.action,
                FlowAction::Outgoing(workflow_core::outgoing::Action::Issue { .. })
            ) {
            self.issue_printed_ahead(request).await
        } else {
            self.submit(request).await
        };
        crate::telemetry::command(name, answer.as_ref().map(|o| o.replayed), started.elapsed());
        answer
    }

    /// Executes a 印发, its 公文 printed here, ahead of the writer (which takes the copy
    /// when its decision prints the same), so that laying a 公文 out does not hold up every
    /// other command behind it. When another 印发 of the series took the predicted 发文字号
    /// meanwhile, the writer sends it back and it is printed again; after a few tries the
    /// writer prints it itself.
    async fn issue_printed_ahead(&self, request: Request) -> Result<Outcome> {
        const TRIES: usize = 3;
        if self.is_halted() {
            // Nothing to print for: the writer refuses it.
            return self.submit(request).await;
        }
        // One 印发 at a time from printing to commit: the next number predicted is the one
        // the writer gives (unless another server took it), and no copy is printed for
        // nothing. A 印发 is rare beside the other commands, which go on meanwhile.
        let _one_at_a_time = self.inner.issuing.lock().await;
        for _ in 1..TRIES {
            let engine = self.clone();
            let ahead = request.clone();
            let printed = tokio::task::spawn_blocking(move || engine.print_ahead(&ahead)).await;
            match printed {
                Ok(Ok(())) => {}
                // The printer refused it (its text, or no fonts now): the writer's decision
                // would print it again only to refuse it the same way.
                Ok(Err(
                    e @ Error::InvalidRequest {
                        field: "document", ..
                    },
                ))
                | Ok(Err(e @ Error::Unavailable { .. })) => return Err(e),
                // Refused as a decision (the writer decides again, on what it holds), or a
                // printer that cannot say what it lays out: the writer's decision answers.
                Ok(Err(_)) => break,
                Err(stopped) => {
                    return Err(Error::Internal {
                        reason: format!("printing the issued document (印发) stopped: {stopped}"),
                    });
                }
            }
            let sent_back = self.inner.printed_ahead.print_again(request.document_id);
            let answer = self.submit(request.clone()).await;
            drop(sent_back);
            match answer {
                Err(Error::PrintedAheadStale { .. }) => continue,
                answer => return answer,
            }
        }
        self.submit(request).await
    }

    /// Hands a request to the writer and waits for its outcome (callers have made the
    /// checks `execute` makes before).
    pub(crate) async fn submit(&self, request: Request) -> Result<Outcome> {
        let (tx, rx) = oneshot::channel();
        self.send(Msg::Execute(Box::new(request), tx))?;
        rx.await.map_err(|_| Error::Closed)?
    }

    /// Changes the directory: the change is an event of the directory stream, in the same
    /// hash chain as the documents, naming the system that asked and the reason it gave.
    /// Durable on return. A change that changes nothing appends nothing.
    pub async fn change_directory(&self, action: DirectoryAction) -> Result<Outcome> {
        let system = match &action {
            DirectoryAction::PutUnit { system, .. }
            | DirectoryAction::PutActor { system, .. }
            | DirectoryAction::DeactivateActor { system, .. }
            | DirectoryAction::ReactivateActor { system, .. }
            | DirectoryAction::Load { system, .. }
            | DirectoryAction::Import { system, .. } => system.trim().to_owned(),
        };
        let request = Request::new(
            DIRECTORY_STREAM,
            format!("system:{system}").as_str(),
            action,
        );
        self.execute(request).await
    }

    /// Adds or replaces an actor (durable on return), recorded with the system and reason.
    pub async fn put_actor(&self, actor: Actor, system: &str, reason: &str) -> Result<Outcome> {
        self.change_directory(DirectoryAction::PutActor {
            actor,
            system: system.to_owned(),
            reason: reason.to_owned(),
        })
        .await
    }

    /// Adds or replaces a unit (durable on return), recorded with the system and reason.
    pub async fn put_unit(&self, unit: Unit, system: &str, reason: &str) -> Result<Outcome> {
        self.change_directory(DirectoryAction::PutUnit {
            unit,
            system: system.to_owned(),
            reason: reason.to_owned(),
        })
        .await
    }

    /// Loads units and actors from a directory JSON file's text (the fixture's form) as one
    /// atomic group: a crash while loading leaves either the whole directory or none of it.
    pub async fn load_directory_json(
        &self,
        json: &str,
        system: &str,
        reason: &str,
    ) -> Result<Outcome> {
        let dir = workflow_core::Directory::from_json(json).map_err(|e| Error::InvalidRequest {
            field: "directory",
            reason: e.to_string(),
        })?;
        self.change_directory(DirectoryAction::Load {
            units: dir.units().cloned().collect(),
            actors: dir.actors().cloned().collect(),
            system: system.to_owned(),
            reason: reason.to_owned(),
        })
        .await
    }

    /// The directory stream's events that concern an actor: who granted them what, when,
    /// through which system and why.
    pub fn actor_history(&self, actor: &ActorId) -> Result<Vec<Envelope>> {
        let mut found = Vec::new();
        for e in self.history(DIRECTORY_STREAM)? {
            let event = e
                .event()
                .map_err(|err| Error::corrupt(format_args!("position {}", e.position), err))?;
            if event.data.directory().is_some_and(|d| d.concerns(actor)) {
                found.push(e);
            }
        }
        Ok(found)
    }

    /// Whether the actor was deactivated.
    pub fn is_deactivated(&self, actor: &ActorId) -> bool {
        self.inner
            .directory
            .read()
            .is_ok_and(|d| d.deactivated.contains(actor))
    }

    /// Rebuilds every projection by replaying the log, in place: entries that already hold
    /// what the replay produces are only read, others are written, and entries the replay
    /// does not produce are removed. `progress(done, total)` is called as it goes. Commands
    /// wait meanwhile. Returns the number of events replayed.
    pub async fn rebuild(&self, progress: impl FnMut(u64, u64) + Send + 'static) -> Result<u64> {
        self.rebuild_with(RebuildMode::InPlace, Box::new(progress))
            .await
    }

    /// As [`Engine::rebuild`], but drops every projection first and writes it anew (slower;
    /// for when the stored projections are not to be trusted even to compare against).
    pub async fn rebuild_from_scratch(
        &self,
        progress: impl FnMut(u64, u64) + Send + 'static,
    ) -> Result<u64> {
        self.rebuild_with(RebuildMode::FromScratch, Box::new(progress))
            .await
    }

    async fn rebuild_with(
        &self,
        mode: RebuildMode,
        progress: Box<dyn FnMut(u64, u64) + Send>,
    ) -> Result<u64> {
        let (reply, rx) = oneshot::channel();
        self.send(Msg::Rebuild {
            mode,
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

    /// Raw stored bytes at a log position (for tamper tests).
    #[cfg(any(test, feature = "fault-injection"))]
    #[doc(hidden)]
    pub fn raw_log_entry(&self, position: u64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .inner
            .storage
            .read_log(position, 1)?
            .into_iter()
            .find(|e| e.position == position)
            .map(|e| e.bytes))
    }

    /// Overwrites the stored bytes at a log position, bypassing every check. Exists only so
    /// tests and drills can simulate tampering; never call it on a real log.
    #[cfg(any(test, feature = "fault-injection"))]
    #[doc(hidden)]
    pub fn tamper_log_entry(&self, position: u64, bytes: &[u8]) -> Result<()> {
        self.inner.storage.raw_put_log(position, bytes)
    }

    /// Removes the event at a log position, bypassing every check. Exists only so tests and
    /// drills can simulate a deleted event; never call it on a real log.
    #[cfg(any(test, feature = "fault-injection"))]
    #[doc(hidden)]
    pub fn tamper_remove_log_entry(&self, position: u64) -> Result<()> {
        self.inner.storage.raw_remove_log(position)
    }

    /// Overwrites the head recorded with the last commit, as an insider who rewrote the
    /// log's tail would. For tests and drills only.
    #[cfg(any(test, feature = "fault-injection"))]
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
    #[cfg(any(test, feature = "fault-injection"))]
    #[doc(hidden)]
    pub fn tamper_projection(&self, tree: &str, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        self.inner.storage.raw_put_projection(tree, key, value)
    }

    /// Leaves the mark an interrupted rebuild leaves, as if the process had died during
    /// one. For tests and drills only.
    #[cfg(any(test, feature = "fault-injection"))]
    #[doc(hidden)]
    pub fn tamper_interrupt_rebuild(&self) -> Result<()> {
        self.inner.storage.raw_mark_rebuilding()
    }

    #[cfg(any(test, feature = "fault-injection"))]
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

/// The directory a store written before the directory was in the log kept beside the log,
/// while the log has no directory stream yet: the writer records it as the stream's first
/// event, once.
fn legacy_directory(
    storage: &dyn Storage,
) -> Result<
    Option<(
        Vec<workflow_core::directory::Unit>,
        Vec<workflow_core::directory::Actor>,
    )>,
> {
    if storage.doc(DIRECTORY_STREAM)?.is_some() {
        return Ok(None);
    }
    let (units, actors) = storage.legacy_units_and_actors()?;
    Ok((!units.is_empty() || !actors.is_empty()).then_some((units, actors)))
}

/// Gives the writer a syncer thread: it goes on deciding while the last groups are made
/// durable.
fn start_syncer(writer: &mut Writer, tail: Arc<RwLock<crate::read::tail::Tail>>) -> Result<()> {
    let (sync_tx, sync_rx) = std_mpsc::channel();
    let syncer = syncer::Syncer {
        storage: writer.storage.clone(),
        head_tx: writer.readers.head_tx.clone(),
        tail,
        uncertain: writer.readers.uncertain.clone(),
        failed: writer.sync_failed.clone(),
        halted_flag: writer.readers.halted_flag.clone(),
        classifications: writer.readers.classifications.clone(),
    };
    let thread = std::thread::Builder::new()
        .name("workflow-syncer".into())
        .spawn(move || syncer.run(sync_rx))
        .map_err(|e| Error::Unavailable {
            reason: format!("cannot start the syncer thread: {e}"),
        })?;
    writer.syncer = Some(sync_tx);
    writer.syncer_thread = Some(thread);
    Ok(())
}

/// On a store other processes share, their commits wake this engine's writer, which
/// catches up: live subscribers see them, and the directory follows changes made elsewhere.
fn watch_foreign_commits(inner: &Arc<Inner>) {
    if !inner.storage.shared() {
        return;
    }
    let Some(tx) = inner.tx.lock().ok().and_then(|guard| guard.clone()) else {
        return;
    };
    let queued = inner.queued.clone();
    inner
        .storage
        .watch_foreign_commits(Some(Arc::new(move |_end: u64| {
            queued.fetch_add(1, Ordering::SeqCst);
            if tx.send(Msg::Foreign).is_err() {
                queued.fetch_sub(1, Ordering::SeqCst);
            }
        })));
}
