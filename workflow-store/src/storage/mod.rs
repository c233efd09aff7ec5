//! The storage interface the engine runs on, in domain terms, and its backends.
//!
//! The engine (write path, queries, verify, rebuild) speaks only [`Storage`] and the
//! interfaces beneath it: the log as stored envelopes by position and by stream
//! ([`EventLog`]), a group appended atomically with its projection changes and command
//! outcomes ([`Storage::commit`]), projections read by key and by range ([`Projections`]),
//! their rebuild ([`Rebuild`]), the access log ([`AccessLog`]), and the directory an early
//! build kept beside the log ([`LegacyDirectory`]). Every key encoding lives in `keys.rs`
//! (both backends share them) and every error of a backend stays inside it; errors come
//! out as [`Error::Unavailable`](crate::Error::Unavailable) (I/O: a retry may help), [`Error::Corrupt`](crate::Error::Corrupt) or
//! [`Error::Internal`](crate::Error::Internal).
//!
//! - [`sled`](mod@sled): the embedded default, one data directory;
//! - [`postgres`]: PostgreSQL, for several server processes on one database.
//!
//! A new backend implements [`Storage`], passes the storage conformance suite (the
//! `workflow-testkit` crate's `conformance` module, written against this interface only),
//! and is given to [`crate::Engine::with_storage`].

#[cfg(any(test, feature = "fault-injection"))]
pub(crate) mod faults;
pub(crate) mod kept;
// Shared by the backends: a build with one of them leaves some of it unused.
#[cfg_attr(not(all(feature = "sled", feature = "postgres")), allow(dead_code))]
mod keys;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg_attr(not(all(feature = "sled", feature = "postgres")), allow(dead_code))]
mod produced;
#[cfg(feature = "sled")]
pub mod sled;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use workflow_core::{
    ActorId, DocumentId, Timestamp, directory::Actor, directory::Unit, numbering::Series,
    todo::Assignee,
};

use crate::envelope::LogHead;
use crate::error::Result;
use crate::notify::{Delivery, DeliveryState};
use crate::projection::{Cursor, Dim, DocRecord, IndexDiff};

#[cfg(any(test, feature = "fault-injection"))]
pub use faults::{Faults, faults_for};

/// What a command id was used for: the outcome a retry gets back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandRecord {
    /// The stream the command was for.
    pub document_id: DocumentId,
    /// The position of its first event.
    pub first_position: u64,
    /// The position of its last event.
    pub last_position: u64,
    /// The stream's version after it.
    pub version: u64,
}

/// One event as the log stores it: its position and its stored bytes (the envelope's JSON,
/// as hashed, with its `hash` appended; see [`crate::Envelope`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// The position.
    pub position: u64,
    /// The stored bytes.
    pub bytes: Vec<u8>,
}

/// Stored events read back as envelopes.
pub(crate) fn decode_all(stored: &[StoredEvent]) -> crate::Result<Vec<crate::envelope::Envelope>> {
    stored
        .iter()
        .map(|e| {
            serde_json::from_slice(&e.bytes)
                .map_err(|err| crate::Error::corrupt(format_args!("position {}", e.position), err))
        })
        .collect()
}

/// One new event in a commit group: its stored bytes (serialized once, while hashing) and
/// the fields a backend indexes it by.
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// Its global position.
    pub position: u64,
    /// Its stream.
    pub stream_id: DocumentId,
    /// Its version within the stream.
    pub version: u64,
    /// Its hash (hex).
    pub hash: String,
    /// The stored bytes.
    pub bytes: Vec<u8>,
}

/// One stream's projection change in a commit group: its new record, the index entries
/// that appear and disappear, and how much of the record's parts the store held before.
#[derive(Debug, Clone)]
pub struct DocChange {
    /// The record after the group.
    pub record: DocRecord,
    /// The index entries it gains and loses (ordered by its cursor).
    pub diff: IndexDiff,
    /// How much of the record's parts the store held before the group: a backend that keeps
    /// them apart from the record writes only what is new.
    pub stored: PartsStored,
}

/// How much of a stream's parts (its content and its opinions, the fields its flow names in
/// [`workflow_core::Flow::CONTENT_FIELD`] and [`workflow_core::Flow::OPINIONS_FIELD`]) a
/// store holds: a backend that keeps them apart from the record it rewrites on every command
/// writes the content only when its revision changes and each opinion once. The default, nothing, makes it write (or, in a rebuild, compare) them all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PartsStored {
    /// The content revision held (`None`: no content, or not known).
    pub content_revision: Option<u32>,
    /// How many opinions are held.
    pub opinions: usize,
}

impl PartsStored {
    /// What a store holds of a record it wrote.
    pub fn of(record: &DocRecord) -> PartsStored {
        PartsStored {
            content_revision: Some(record.state.content_revision()),
            opinions: record.state.opinion_count(),
        }
    }
}

/// Everything one group commit writes, atomically: events (with their stream index),
/// projection changes, command outcomes and the numbers drawn.
#[derive(Debug, Default, Clone)]
pub struct Group {
    /// New events, in position order.
    pub envelopes: Vec<LogEntry>,
    /// Command ids and what they were used for.
    pub commands: Vec<(String, CommandRecord)>,
    /// Stream projections that change.
    pub docs: Vec<DocChange>,
    /// Numbers drawn: series, number, and the stream that holds it. A number already held
    /// by another stream aborts the whole group.
    pub numbers: Vec<(Series, u32, DocumentId)>,
    /// Make it durable even where the configured durability is relaxed (a directory
    /// change: who may act is not to be lost with the last half second of commands).
    pub sync_always: bool,
    /// Command ids of the group's requests that were decided as new without reading
    /// whether they are recorded (a remote store's writer skips that round trip when it
    /// holds every stream of the group): a backend refuses the whole group as a
    /// [`CommitError::Conflict`] when any of them is recorded, and the writer decides it
    /// again with the records read — a retry is answered with its first outcome.
    pub unread_commands: Vec<String>,
}

impl Group {
    /// Whether it writes nothing.
    pub fn is_empty(&self) -> bool {
        self.envelopes.is_empty()
            && self.commands.is_empty()
            && self.docs.is_empty()
            && self.numbers.is_empty()
    }
}

/// Why a group commit failed, which decides what the writer may do next.
#[derive(Debug)]
pub enum CommitError {
    /// Nothing of the group was written: the backend says so for certain (a database
    /// that refused or could not be reached before the commit was sent).
    NotWritten(crate::Error),
    /// The group may have been written, wholly or in part, and may not be durable: a flush
    /// or sync failed, or a storage error came while writing it (sled applies a transaction
    /// to its trees in memory before its log write can fail on a full disk; a `COMMIT`
    /// whose answer was lost). The backend's memory may be ahead of its disk, so the writer
    /// stops (fail-stop) and answers nothing from that state.
    NotDurable(crate::Error),
    /// Nothing was written: the group does not follow what is stored — its first position
    /// is not the one after the log's end, an event's version is not the next of its
    /// stream, or a number it draws is held by another stream. Another writer got there
    /// first; the group must be decided again against what is stored now.
    Conflict(String),
}

impl CommitError {
    /// What went wrong, in words (for a writer that stops on it): the storage's own words,
    /// without the "nothing was written" an `Unavailable` answer adds, which a writer that
    /// stops cannot say.
    pub(crate) fn reason(self) -> String {
        match self {
            CommitError::NotWritten(crate::Error::Unavailable { reason })
            | CommitError::NotDurable(crate::Error::Unavailable { reason }) => reason,
            CommitError::NotWritten(e) | CommitError::NotDurable(e) => e.to_string(),
            CommitError::Conflict(reason) => reason,
        }
    }
}

/// Where a rebuild's projection writes go: entries equal to what is stored are only read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebuildMode {
    /// Compare and repair in place, then remove what the replay did not produce.
    InPlace,
    /// Drop every projection first and write them anew.
    FromScratch,
}

/// One projection entry as a backend stores it, `(part, key, value)`, for comparing two
/// builds byte for byte and for drills that damage projections. Opaque outside the backend.
pub type ProjectionEntry = (String, Vec<u8>, Vec<u8>);

/// Told of commits other processes made to a shared store: the log's end after them, as far
/// as the backend knows (`0` when it cannot say: commits may have been missed while it was
/// not listening). Called from the backend's own thread; it must not block.
pub type ForeignCommits = std::sync::Arc<dyn Fn(u64) + Send + Sync>;

/// A backend: the capabilities the engine needs, each an interface of its own, and the one
/// write every backend has — [`Storage::commit`]. Implementations must be safe to share
/// between the writer thread and readers; only the writer calls the methods that write.
///
/// - [`EventLog`]: the log as stored envelopes, by position and by stream;
/// - [`Projections`]: state records, lists, to-do entries, deadlines, numbers and command
///   outcomes, by key and by range;
/// - [`Rebuild`]: projections made again from the log;
/// - [`AccessLog`]: classified reads, beside the event log;
/// - [`Contents`]: files by digest (正文, attachments);
/// - what a backend may declare it can do: [`SplitCommit`] (write now, make durable later),
///   [`SharedWriters`] (several processes write the store) and [`LegacyDirectory`] (the
///   directory a store written before the directory stream kept beside the log, read once
///   to record it in the log);
/// - `Drills` (tests and tamper drills only, with the `fault-injection` feature).
pub trait Storage: StorageParts + Send + Sync + std::fmt::Debug {
    /// Writes a group atomically — events, stream index, projection changes, command
    /// records, numbers and the recorded head — and returns once it is durable.
    ///
    /// The backend enforces the group's expectations, whatever its writers: the first
    /// event's position is the one after the log's end (positions stay gapless), each
    /// stream's first event in the group has the version after the stream's last, and a
    /// number is held by one stream only. A group that breaks one is refused whole with
    /// [`CommitError::Conflict`].
    fn commit(&self, group: &Group) -> std::result::Result<(), CommitError>;

    /// The split commit, if the backend can write a group without making it durable yet:
    /// the writer then overlaps the sync of one group with deciding and writing the next,
    /// and answers each group only after a sync that covers it. By default a commit is one
    /// step.
    fn split_commit(&self) -> Option<&dyn SplitCommit> {
        None
    }

    /// How several writers share the store, if other processes may write to it (a database
    /// that several server processes share). The engine's writer then reads the log's end
    /// before deciding each group (a stream it holds in memory may have moved on
    /// elsewhere), and decides a group again when another writer committed first.
    fn shared_writers(&self) -> Option<&dyn SharedWriters> {
        None
    }

    /// The directory a store written before the directory stream kept beside the log, if
    /// the backend can hold one (stores of builds that old, and copies of them, do): read
    /// once, to record it in the log as the directory stream's first event.
    fn legacy_directory(&self) -> Option<&dyn LegacyDirectory> {
        None
    }

    /// Whether other processes may write to this store (it has [`SharedWriters`]).
    fn shared(&self) -> bool {
        self.shared_writers().is_some()
    }
}

/// What the engine asks of any backend, whatever it declared it can do.
impl<'a> dyn Storage + 'a {
    /// Holds other writers' commits off (see [`SharedWriters::hold_commits`]); nothing to do
    /// where the store has one writer.
    pub(crate) fn hold_commits(&self) -> Result<()> {
        self.shared_writers()
            .map_or(Ok(()), SharedWriters::hold_commits)
    }

    /// Lets other writers commit again (see [`SharedWriters::release_commits`]).
    pub(crate) fn release_commits(&self) {
        if let Some(s) = self.shared_writers() {
            s.release_commits();
        }
    }

    /// Asks to be told of other processes' commits (see
    /// [`SharedWriters::watch_foreign_commits`]); a store with one writer has none.
    pub(crate) fn watch_foreign_commits(&self, notify: Option<ForeignCommits>) {
        if let Some(s) = self.shared_writers() {
            s.watch_foreign_commits(notify);
        }
    }

    /// Writes a group without waiting for it to be durable where the backend can, commits
    /// it otherwise (see [`SplitCommit::write_group`]).
    pub(crate) fn write_group(&self, group: &Group) -> std::result::Result<(), CommitError> {
        match self.split_commit() {
            Some(split) => split.write_group(group),
            None => self.commit(group),
        }
    }

    /// The directory kept beside the log ([`Storage::legacy_directory`]): empty where the
    /// backend keeps none.
    pub(crate) fn legacy_units_and_actors(&self) -> Result<(Vec<Unit>, Vec<Actor>)> {
        match self.legacy_directory() {
            Some(d) => Ok((d.units()?, d.actors()?)),
            None => Ok((Vec::new(), Vec::new())),
        }
    }

    /// Makes every group written so far durable (see [`SplitCommit::sync_written`]); a
    /// backend without a split commit made each durable as it committed it.
    pub(crate) fn sync_written(&self, always: bool) -> std::result::Result<(), CommitError> {
        match self.split_commit() {
            Some(split) => split.sync_written(always),
            None => Ok(()),
        }
    }
}

/// Where a channel of the outbox stands in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelCursor {
    /// The channel's name.
    pub channel: String,
    /// Every delivery of the notices of the log's events up to here went through, or is
    /// kept in the outbox as a failure.
    pub through: u64,
    /// How many went through at their first try (those kept as failures are counted by
    /// their state).
    pub delivered: u64,
    /// When it last moved (ms since the epoch).
    pub settled_at: i64,
    /// Who delivers it (a server's outbox; empty: no one).
    pub holder: String,
    /// Until when (ms since the epoch).
    pub lease_until: i64,
}

/// A channel's deliverer's account of what it did since it last settled.
#[derive(Debug, Clone, Copy)]
pub struct Settlement<'a> {
    /// Where the channel stood (settled through).
    pub expected: u64,
    /// Where it stands now.
    pub through: u64,
    /// How many went through at their first try since.
    pub delivered: u64,
    /// Those that did not: kept, to be tried again or given up (dead).
    pub failures: &'a [Delivery],
    /// Now (ms since the epoch).
    pub now: i64,
    /// The lease renewed to.
    pub lease_until: i64,
}

/// The notification outbox (DESIGN §12): where each channel stands in the log and the
/// deliveries that did not go through at their first try. Operational data, not part of
/// the log: a channel's deliverer derives its deliveries from the log as it goes, keeping
/// in memory those in flight; what a lost write takes back is derived and sent again with
/// the same ids (receivers de-duplicate), so its writes need not be synced with the commits'.
pub trait Outbox {
    /// Takes (or keeps) `channel` for `holder` until `lease_until` — when no one holds it,
    /// `holder` does, or its holder's lease ended by `now` — and returns where it stands; a
    /// channel seen for the first time starts settled through `start`. `None` when another
    /// holder's lease runs on: one server at a time delivers a channel.
    fn outbox_hold(
        &self,
        channel: &str,
        holder: &str,
        now: i64,
        lease_until: i64,
        start: u64,
    ) -> Result<Option<ChannelCursor>>;
    /// Moves `channel` on as `settlement` says — its place, its count of deliveries that
    /// went through at their first try, the failures to keep (one already there is kept as
    /// it stands), the lease renewed — all at once; `false`, with nothing written, when
    /// `holder` no longer holds the channel or it is no longer where the settlement expects.
    fn outbox_settle(
        &self,
        channel: &str,
        holder: &str,
        settlement: &Settlement<'_>,
    ) -> Result<bool>;
    /// Lets go of `channel` if `holder` holds it (a server stopping): another may take it
    /// at once.
    fn outbox_release(&self, channel: &str, holder: &str) -> Result<()>;
    /// Every channel's place, by name.
    fn outbox_channels(&self) -> Result<Vec<ChannelCursor>>;
    /// Up to `limit` pending deliveries of `channel` due by `now` (ms since the epoch),
    /// soonest first, each leased to the caller: due again only at `lease_until`, so that no
    /// other deliverer (of this or another server) takes it meanwhile, and one whose
    /// deliverer died is tried again then.
    fn outbox_claim(
        &self,
        channel: &str,
        now: i64,
        lease_until: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>>;
    /// Records a delivery as it now stands (after a try, or an operator's retry) — with
    /// `fence`, only if it is still pending and due at `fence` (the lease its deliverer
    /// claimed, or the due time the operator saw): `false`, with nothing written, when
    /// another took it meanwhile.
    fn outbox_put(&self, delivery: &Delivery, fence: Option<i64>) -> Result<bool>;
    /// One delivery by its id.
    fn outbox_get(&self, id: &str) -> Result<Option<Delivery>>;
    /// Deliveries in `state` (any when `None`), by position, from `from` on, at most `limit`.
    fn outbox_list(
        &self,
        state: Option<DeliveryState>,
        from: u64,
        limit: usize,
    ) -> Result<Vec<Delivery>>;
    /// How many deliveries are in each state.
    fn outbox_counts(&self) -> Result<BTreeMap<DeliveryState, u64>>;
    /// A value a channel keeps between deliveries (a 钉钉待办's task id), by key.
    fn outbox_memo(&self, key: &str) -> Result<Option<String>>;
    /// Keeps a channel's value.
    fn outbox_set_memo(&self, key: &str, value: &str) -> Result<()>;
}

/// The interfaces every backend implements beneath [`Storage`].
#[cfg(not(any(test, feature = "fault-injection")))]
pub trait StorageParts: EventLog + Projections + Rebuild + AccessLog + Contents + Outbox {}
#[cfg(not(any(test, feature = "fault-injection")))]
impl<T: EventLog + Projections + Rebuild + AccessLog + Contents + Outbox> StorageParts for T {}

/// The interfaces every backend implements beneath [`Storage`] (test builds: with the
/// drills).
#[cfg(any(test, feature = "fault-injection"))]
pub trait StorageParts:
    EventLog + Projections + Rebuild + AccessLog + Contents + Outbox + Drills
{
}
#[cfg(any(test, feature = "fault-injection"))]
impl<T: EventLog + Projections + Rebuild + AccessLog + Contents + Outbox + Drills> StorageParts
    for T
{
}

/// The log: stored events by position and by stream, and the store as a whole.
pub trait EventLog {
    /// The last stored event's position and hash, read from the log itself.
    fn log_end(&self) -> Result<Option<LogHead>>;
    /// The head recorded with the last commit; `None` in a store written before heads were
    /// recorded.
    fn recorded_head(&self) -> Result<Option<LogHead>>;
    /// Up to `limit` stored events from position `from` on, in order.
    fn read_log(&self, from: u64, limit: usize) -> Result<Vec<StoredEvent>>;
    /// A stream's stored events, by version, up to `max_version`.
    fn read_stream(&self, id: DocumentId, max_version: u64) -> Result<Vec<StoredEvent>>;
    /// Up to `limit` stream-index entries `(stream, version, position)` after `after`, in
    /// stream and version order.
    fn stream_index_after(
        &self,
        after: Option<(DocumentId, u64)>,
        limit: usize,
    ) -> Result<Vec<(DocumentId, u64, u64)>>;
    /// Makes everything written so far durable.
    fn flush(&self) -> Result<()>;
    /// Bytes on disk (or in the database).
    fn size_on_disk(&self) -> Result<u64>;
    /// The hashes of a stream's events, in order (read without decoding the events).
    fn stream_hashes(&self, id: DocumentId) -> Result<Vec<String>> {
        self.read_stream(id, u64::MAX)?
            .iter()
            .map(|e| crate::envelope::stored_hash(e.position, &e.bytes))
            .collect()
    }
}

/// What [`Projections::docs_and_commands`] finds: the streams' records, and the command ids'
/// records (those that exist, in any order).
pub type DocsAndCommands = (Vec<DocRecord>, Vec<(String, CommandRecord)>);

/// The projections, read by key and by range (the engine's writer changes them through
/// [`Storage::commit`], a rebuild through [`Rebuild::converge`]).
pub trait Projections {
    /// A stream's state projection.
    fn doc(&self, id: DocumentId) -> Result<Option<DocRecord>>;
    /// Several streams' state projections at once (those that exist, in any order): one
    /// round trip where the backend is remote. The writer reads a group's streams with it.
    fn docs(&self, ids: &[DocumentId]) -> Result<Vec<DocRecord>> {
        let mut found = Vec::with_capacity(ids.len());
        for id in ids {
            found.extend(self.doc(*id)?);
        }
        Ok(found)
    }
    /// Several command ids' records at once (those that exist, in any order).
    fn commands(&self, command_ids: &[String]) -> Result<Vec<(String, CommandRecord)>> {
        let mut found = Vec::with_capacity(command_ids.len());
        for id in command_ids {
            if let Some(r) = self.command(id)? {
                found.push((id.clone(), r));
            }
        }
        Ok(found)
    }
    /// [`Projections::docs`] and [`Projections::commands`] together: one round trip where
    /// the backend is remote (the writer reads a group's streams and command ids with it).
    fn docs_and_commands(
        &self,
        ids: &[DocumentId],
        command_ids: &[String],
    ) -> Result<DocsAndCommands> {
        Ok((self.docs(ids)?, self.commands(command_ids)?))
    }
    /// Up to `limit` state records after stream id `after`, by id.
    fn docs_after(&self, after: Option<DocumentId>, limit: usize) -> Result<Vec<DocRecord>>;
    /// What a command id was used for.
    fn command(&self, command_id: &str) -> Result<Option<CommandRecord>>;
    /// Up to `limit` command records after `after`, by id.
    fn commands_after(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, CommandRecord)>>;
    /// The highest number taken in a series (0 if none).
    fn max_number(&self, series: &Series) -> Result<u32>;
    /// Up to `limit` entries of a list after `after`, in list order.
    fn scan_list(&self, dim: &Dim, after: Option<Cursor>, limit: usize) -> Result<Vec<Cursor>>;
    /// Up to `limit` entries of a list before `before` (from its end when `None`), newest
    /// first: a person's 已办 and 我发起的 open on what they did last.
    fn scan_list_newest(
        &self,
        dim: &Dim,
        before: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<Cursor>>;
    /// Up to `limit` to-do entries of an assignee after `after`, in list order.
    fn scan_todo(
        &self,
        assignee: &Assignee,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<Cursor>>;
    /// Streams whose current step fell due before `until`, earliest first.
    fn due_before(&self, until: Timestamp) -> Result<Vec<DocumentId>>;
    /// How many streams each list holds.
    fn count_lists(&self) -> Result<BTreeMap<Dim, u64>>;
    /// Every projection entry, for comparing two builds (opaque to the engine).
    fn dump_projections(&self) -> Result<Vec<ProjectionEntry>>;
    /// Every projection entry in terms any two backends share, for comparing stores of
    /// different backends (`workflow copy`): the index entries, command records and numbers
    /// as dumped (their encodings are shared, `keys.rs`), and each stream's whole record as
    /// JSON, keyed by its id (a backend may keep a record's parts apart, in its own way).
    fn comparable_projections(&self) -> Result<Vec<ProjectionEntry>> {
        let mut entries: Vec<ProjectionEntry> = self
            .dump_projections()?
            .into_iter()
            .filter(|(part, _, _)| part != "docs" && part != "parts")
            .collect();
        let mut after = None;
        loop {
            let page = self.docs_after(after, 1000)?;
            let Some(last) = page.last() else { break };
            after = Some(last.id());
            for record in page {
                let bytes = serde_json::to_vec(&record).map_err(|e| crate::Error::Internal {
                    reason: format!("serializing document {}: {e}", record.id()),
                })?;
                entries.push(("docs".to_owned(), record.id().0.as_bytes().to_vec(), bytes));
            }
        }
        Ok(entries)
    }
}

/// Making the projections again from the log, in place or from scratch.
pub trait Rebuild {
    /// Starts a rebuild: marks it (durably) as under way, so that an interrupted one is
    /// finished on the next open, and with [`RebuildMode::FromScratch`] drops every
    /// projection.
    fn begin_rebuild(&self, mode: RebuildMode) -> Result<()>;
    /// Makes the projections hold the projection part of a group (no events): entries
    /// already equal are only read. Atomic per entry only. Returns how many it wrote.
    fn converge(&self, group: Group) -> Result<u64>;
    /// Ends a rebuild: removes every projection entry no `converge` of this rebuild
    /// produced, makes everything durable, records `layout` as the projections' layout
    /// version and clears the mark. Returns how many entries it removed.
    fn end_rebuild(&self, layout: u32) -> Result<u64>;
    /// Whether a rebuild was begun and not ended (it was interrupted).
    fn rebuilding(&self) -> Result<bool>;
    /// The layout version the projections were built with (0 before versions were kept).
    fn projection_version(&self) -> Result<u32>;
    /// Records (durably) the layout version the projections now have.
    fn set_projection_version(&self, version: u32) -> Result<()>;
}

/// The access log: classified reads, beside the event log (never in a stream).
pub trait AccessLog {
    /// Appends access-log entries, in position order right after its end, together with
    /// the access log's new head (so that entries cut off its end are noticed), and returns
    /// once they are durable (whatever the configured durability: a read of classified
    /// content is recorded before the content is handed out).
    fn append_access(&self, entries: &[StoredEvent], head: &LogHead) -> Result<()>;
    /// The access log's head recorded with its last append.
    fn access_recorded_head(&self) -> Result<Option<LogHead>>;
    /// Up to `limit` access-log entries from position `from` on, in order.
    fn read_access(&self, from: u64, limit: usize) -> Result<Vec<StoredEvent>>;
    /// The access log's last entry.
    fn access_end(&self) -> Result<Option<StoredEvent>>;
}

/// A file kept by its digest, as a listing names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptContent {
    /// SHA-256 of its bytes.
    pub digest: workflow_core::content::Digest,
    /// Its size in bytes.
    pub size: u64,
    /// When it was kept, where the backend knows.
    pub kept_at: Option<std::time::SystemTime>,
}

/// Files kept by their SHA-256 digest (DESIGN §10): immutable, deduplicated, and durable
/// before any event names them. The engine computes and checks digests, sizes and kinds; a
/// backend keeps bytes under the digest it is given.
pub trait Contents {
    /// Keeps the complete file at `spooled` (whose digest and size the engine checked)
    /// under `digest`, with `uploader` among those who uploaded it (where an actor did: a
    /// copy between stores names none), and returns once both are durable; a file kept
    /// already under that digest is left as it is. The spool file is moved or removed.
    fn keep_content(
        &self,
        digest: &workflow_core::content::Digest,
        spooled: &std::path::Path,
        size: u64,
        uploader: Option<&ActorId>,
    ) -> Result<()>;
    /// The file kept under `digest` (its size and first bytes), if `actor` uploaded it (a
    /// command may name only a file its actor uploaded, or one the document names already):
    /// one look-up, as the writer asks it for every file a command names.
    fn uploaded_file(
        &self,
        digest: &workflow_core::content::Digest,
        actor: &ActorId,
    ) -> Result<Option<workflow_core::content::KeptFile>>;
    /// The size of the file kept under `digest`, if one is.
    fn content_size(&self, digest: &workflow_core::content::Digest) -> Result<Option<u64>>;
    /// Up to `len` bytes of the file kept under `digest`, from `offset` (fewer at its end);
    /// `Corrupt` if none is kept.
    fn read_content(
        &self,
        digest: &workflow_core::content::Digest,
        offset: u64,
        len: usize,
    ) -> Result<Vec<u8>>;
    /// Every file kept, by digest.
    fn list_contents(&self) -> Result<Vec<KeptContent>>;
    /// Removes the file kept under `digest` and who uploaded it (an operator's clean-up of
    /// files no event names); nothing if none is kept.
    fn remove_content(&self, digest: &workflow_core::content::Digest) -> Result<()>;
    /// Where uploads are spooled before they are kept (on the same file system as the kept
    /// files where there are any, so that keeping is a rename).
    fn spool_dir(&self) -> std::path::PathBuf;
}

/// The directory a store written before the directory stream kept beside the log: read once,
/// to record it in the log as the stream's first event (empty otherwise).
pub trait LegacyDirectory {
    /// Every actor kept beside the log.
    fn actors(&self) -> Result<Vec<Actor>>;
    /// Every unit kept beside the log.
    fn units(&self) -> Result<Vec<Unit>>;
    /// Adds or replaces units and actors together, atomically and durably. Only for stores
    /// written before the directory stream (and the drills that make one); the engine keeps
    /// the directory in the log. A backend without such stores may refuse it.
    fn put_directory(&self, units: &[Unit], actors: &[Actor]) -> Result<()>;
}

/// A commit in two steps: write a group now, make it durable later (see
/// [`Storage::split_commit`]).
pub trait SplitCommit {
    /// Writes a group atomically, with [`Storage::commit`]'s checks, without waiting for it
    /// to be durable .
    fn write_group(&self, group: &Group) -> std::result::Result<(), CommitError>;
    /// Makes every group written so far durable (`always`: whatever the configured
    /// durability). A failure is [`CommitError::NotDurable`].
    fn sync_written(&self, always: bool) -> std::result::Result<(), CommitError>;
}

/// Several writers on one store (see [`Storage::shared_writers`]).
pub trait SharedWriters {
    /// Holds every other writer's commits off until this writer's next [`Storage::commit`]
    /// or [`SharedWriters::release_commits`], so that a group decided meanwhile cannot conflict:
    /// for a writer that keeps finding others committed first. Nothing to do where there is
    /// one writer.
    fn hold_commits(&self) -> Result<()>;
    /// Lets other writers commit again without committing (see
    /// [`SharedWriters::hold_commits`]).
    fn release_commits(&self);
    /// Asks to be told of commits that other processes make (`None` stops it), so that live
    /// subscribers and the directory follow them. A store with one writer never calls it.
    fn watch_foreign_commits(&self, notify: Option<ForeignCommits>);
}

/// Tests and tamper drills only, bypassing every check.
#[cfg(any(test, feature = "fault-injection"))]
pub trait Drills {
    /// Overwrites the stored bytes at a log position.
    fn raw_put_log(&self, position: u64, bytes: &[u8]) -> Result<()>;
    /// Overwrites the stored bytes of an access-log entry.
    fn raw_put_access(&self, position: u64, bytes: &[u8]) -> Result<()>;
    /// Removes an access-log entry.
    fn raw_remove_access(&self, position: u64) -> Result<()>;
    /// Removes the event at a log position.
    fn raw_remove_log(&self, position: u64) -> Result<()>;
    /// Overwrites the recorded head.
    fn raw_set_recorded_head(&self, position: u64, hash: &str) -> Result<()>;
    /// Sets (`Some`) or removes (`None`) one projection entry, named as
    /// [`Projections::dump_projections`] names it.
    fn raw_put_projection(&self, part: &str, key: &[u8], value: Option<&[u8]>) -> Result<()>;
    /// Leaves the mark of a rebuild under way, as if one had been interrupted.
    fn raw_mark_rebuilding(&self) -> Result<()>;
}

/// Every storage interface, for a caller that holds a `dyn Storage` (a trait's methods are
/// called where the trait is in scope).
pub mod prelude {
    #[cfg(any(test, feature = "fault-injection"))]
    pub use super::Drills;
    pub use super::{
        AccessLog, EventLog, LegacyDirectory, Outbox, Projections, Rebuild, SharedWriters,
        SplitCommit, Storage,
    };
}
