//! The storage interface the engine runs on, and its sled implementation.
//!
//! The engine (write path, queries, verify, rebuild) speaks only [`Storage`]; everything
//! sled-specific lives in [`SledStorage`]. A second backend (PostgreSQL for deployments
//! that outgrow one machine, DESIGN §4) implements the same trait: `commit` is one
//! transaction, `durable` means synchronous commit.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::ConflictableTransactionError;
use workflow_core::{Actor, DocumentId, Series, Timestamp, Unit};

use crate::durable::{Durability, StableFiles};
use crate::envelope::Envelope;
use crate::error::{Error, Result, SledResultExt, from_sled, from_sled_tx};
use crate::projection::{Cursor, DUE_PREFIX, DocRecord, IndexDiff, order_suffix, sortable_instant};

/// What a command id was used for: the outcome a retry gets back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CommandRecord {
    pub(crate) document_id: DocumentId,
    pub(crate) first_position: u64,
    pub(crate) last_position: u64,
    pub(crate) version: u64,
}

/// The key prefix of a numbering series in the `numbers` tree.
fn series_prefix(series: &Series) -> Vec<u8> {
    let mut k = match series {
        Series::Document { prefix, year } => format!("D{prefix}\u{1f}{year:04}"),
        Series::Item {
            fonds,
            year,
            retention,
        } => {
            format!("A{fonds}\u{1f}{year:04}\u{1f}{}", retention.code())
        }
    }
    .into_bytes();
    k.push(0);
    k
}

/// The key of number `n` of a series in the `numbers` tree.
pub(crate) fn series_key(series: &Series, n: u32) -> Vec<u8> {
    let mut k = series_prefix(series);
    k.extend_from_slice(&n.to_be_bytes());
    k
}

/// One document's projection change in a commit group: its new record and the index
/// entries that appear and disappear (computed by [`crate::projection::index_diff`]).
#[derive(Debug, Clone)]
pub(crate) struct DocChange {
    pub(crate) record: DocRecord,
    pub(crate) diff: IndexDiff,
}

/// Why a group commit failed, which decides what the writer may do next.
#[derive(Debug)]
pub(crate) enum CommitError {
    /// The transaction failed: nothing of the group was written.
    NotWritten(Error),
    /// The group was written but the flush failed: it may or may not be on disk.
    NotDurable(Error),
}

#[cfg(any(test, feature = "fault-injection"))]
pub use crate::faults::{Faults, faults_for};

/// One new event as the log stores it: its stored bytes (serialized once, while hashing)
/// and the few fields the writer needs without decoding them again.
#[derive(Debug, Clone)]
pub(crate) struct LogEntry {
    pub(crate) position: u64,
    pub(crate) stream_id: DocumentId,
    pub(crate) version: u64,
    pub(crate) hash: String,
    pub(crate) bytes: Vec<u8>,
}

/// Everything one group commit writes, atomically.
#[derive(Debug, Default)]
pub(crate) struct Group {
    /// New events, as the log stores them.
    pub(crate) envelopes: Vec<LogEntry>,
    pub(crate) commands: Vec<(String, CommandRecord)>,
    pub(crate) docs: Vec<DocChange>,
    pub(crate) numbers: Vec<(Series, u32, DocumentId)>,
}

impl Group {
    pub(crate) fn is_empty(&self) -> bool {
        self.envelopes.is_empty()
            && self.commands.is_empty()
            && self.docs.is_empty()
            && self.numbers.is_empty()
    }
}

/// One projection entry: `(tree, key, value)`.
pub type ProjectionEntry = (String, Vec<u8>, Vec<u8>);

/// The operations the engine needs from a backend.
pub(crate) trait Storage: Send + Sync + std::fmt::Debug {
    /// The last envelope of the log.
    fn last(&self) -> Result<Option<Envelope>>;
    /// Up to `limit` envelopes from `from` on, in order.
    fn log_from(&self, from: u64, limit: usize) -> Result<Vec<Envelope>>;
    /// A stream's envelopes, by version, up to `max_version`.
    fn stream(&self, id: DocumentId, max_version: u64) -> Result<Vec<Envelope>>;
    /// The hashes of a document's events, in order (read without decoding the events).
    fn stream_hashes(&self, id: DocumentId) -> Result<Vec<String>>;
    /// A document's state projection.
    fn doc(&self, id: DocumentId) -> Result<Option<DocRecord>>;
    /// What a command id was used for.
    fn command(&self, command_id: &str) -> Result<Option<CommandRecord>>;
    /// The highest number taken in a series (0 if none).
    fn max_number(&self, series: &Series) -> Result<u32>;
    /// Writes a group atomically and returns once it is on disk.
    fn commit(&self, group: &Group) -> std::result::Result<(), CommitError>;
    /// Makes everything committed so far durable.
    fn flush(&self) -> Result<()>;
    /// Makes the projections hold the projection part of a group (no envelopes), for a
    /// rebuild: entries already equal are left alone, others written, without a transaction
    /// or a flush (atomic per entry only). Returns how many entries it wrote or removed.
    fn converge(&self, group: Group) -> Result<u64>;
    /// Up to `limit` entries of an index prefix after `after`.
    fn scan(
        &self,
        index: Index,
        prefix: &[u8],
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<Cursor>>;
    /// Documents whose current stage fell due before `until`, earliest first (from the
    /// deadline index).
    fn due_before(&self, until: Timestamp) -> Result<Vec<DocumentId>>;
    /// Removes every projection entry (state, indexes, to-do, numbers, command ids) for
    /// which `keep(tree, key)` is false; returns how many went. The log and its stream
    /// index are not projections and stay.
    fn sweep_projections(&self, keep: &dyn Fn(&str, &[u8]) -> bool) -> Result<u64>;
    /// Every projection entry, for comparing two builds byte for byte.
    fn dump_projections(&self) -> Result<Vec<ProjectionEntry>>;
    /// The directory.
    fn actors(&self) -> Result<Vec<Actor>>;
    /// The directory's units.
    fn units(&self) -> Result<Vec<Unit>>;
    /// Adds or replaces units and actors together, atomically and durably (a first start's
    /// directory load is all or nothing).
    fn put_directory(&self, units: &[Unit], actors: &[Actor]) -> Result<()>;
    /// Adds or replaces an actor, durably.
    fn put_actor(&self, actor: &Actor) -> Result<()>;
    /// Adds or replaces a unit, durably.
    fn put_unit(&self, unit: &Unit) -> Result<()>;
    /// Bytes on disk.
    fn size_on_disk(&self) -> Result<u64>;
    /// Up to `limit` raw log entries from `from`: `(key position, stored bytes)`.
    fn raw_log_from(&self, from: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>>;
    /// Up to `limit` state records after document id `after`, by id.
    fn docs_after(&self, after: Option<DocumentId>, limit: usize) -> Result<Vec<DocRecord>>;
    /// Entry counts of an index per dimension prefix (the key up to its 0x00).
    fn count_by_prefix(&self, index: Index) -> Result<std::collections::BTreeMap<Vec<u8>, u64>>;
    /// Raw access for tamper tests and repair tools: the stored bytes at a log position.
    fn raw_log(&self, position: u64) -> Result<Option<Vec<u8>>>;
    /// Raw write of a log value (tests only: simulates tampering).
    fn raw_put_log(&self, position: u64, bytes: &[u8]) -> Result<()>;
    /// Marks (durably) that a rebuild is under way, or that it finished.
    fn set_rebuilding(&self, on: bool) -> Result<()>;
    /// The layout version the projections were built with (0 before versions were kept).
    fn projection_version(&self) -> Result<u32>;
    /// Records (durably) the layout version the projections now have.
    fn set_projection_version(&self, version: u32) -> Result<()>;
    /// Whether a rebuild was started and not finished (it was interrupted).
    fn rebuilding(&self) -> Result<bool>;
    /// Sets (`Some`) or removes (`None`) one projection entry, bypassing every check.
    fn raw_put_projection(&self, tree: &str, key: &[u8], value: Option<&[u8]>) -> Result<()>;
    /// Removes the event at a log position, bypassing every check (tests only: simulates an
    /// event deleted by someone with access to the files).
    fn raw_remove_log(&self, position: u64) -> Result<()>;
    /// The head (position, hash) recorded with the last commit; `None` in a store written
    /// before heads were recorded.
    fn recorded_head(&self) -> Result<Option<(u64, String)>>;
    /// Overwrites the recorded head, bypassing every check (tests only).
    fn raw_set_recorded_head(&self, position: u64, hash: &str) -> Result<()>;
    /// Up to `limit` stream-index entries `(stream, version, position)` after `after`, in
    /// stream and version order.
    fn stream_index_after(
        &self,
        after: Option<(DocumentId, u64)>,
        limit: usize,
    ) -> Result<Vec<(DocumentId, u64, u64)>>;
    /// Up to `limit` command records `(command id, record)` after `after`, by id.
    fn commands_after(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, CommandRecord)>>;
}

/// Which secondary index to scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Index {
    /// Lists by state, unit, kind, year.
    Lists,
    /// To-do entries per assignee.
    Inbox,
}

/// The sled backend: one tree per concern.
///
/// | tree | key | value |
/// |---|---|---|
/// | `log` | position (u64 BE) | envelope JSON |
/// | `streams` | document id (16 bytes) + version (u64 BE) | position |
/// | `commands` | command id | [`CommandRecord`] JSON |
/// | `docs` | document id | [`DocRecord`] JSON |
/// | `lists` | dimension prefix + order suffix | empty |
/// | `inbox` | assignee prefix + order suffix | empty |
/// | `numbers` | series prefix + number (u32 BE) | document id |
/// | `actors`, `units` | id | JSON |
#[derive(Debug)]
pub(crate) struct SledStorage {
    db: sled::Db,
    log: sled::Tree,
    streams: sled::Tree,
    commands: sled::Tree,
    docs: sled::Tree,
    lists: sled::Tree,
    inbox: sled::Tree,
    numbers: sled::Tree,
    actors: sled::Tree,
    units: sled::Tree,
    meta: sled::Tree,
    stable: StableFiles,
    #[cfg(any(test, feature = "fault-injection"))]
    faults: std::sync::Arc<Faults>,
}

/// The `meta` key present while a rebuild is under way.
const REBUILDING: &[u8] = b"rebuilding";
/// The `meta` key holding the projections' layout version (u32, big-endian).
const PROJECTION_LAYOUT: &[u8] = b"projection_layout";
/// The `meta` key holding the store's format marker ([`StoreFormat`], JSON): what makes a
/// directory a workflow data directory.
const FORMAT: &[u8] = b"format";
/// The `meta` key holding the head recorded with each commit: position (u64, big-endian)
/// then the hash (64 hex bytes).
const HEAD: &[u8] = b"head";

/// The name in every store's format marker.
pub(crate) const FORMAT_NAME: &str = "gongwen-workflow-store";
/// The store layout this build writes. 1: the layout before format markers (main up to
/// bda0245), recognised by its `log` tree; 2: format marker, and the head recorded with
/// each commit. Opening an older layout upgrades it in place; a newer one is refused.
pub(crate) const STORE_LAYOUT: u32 = 2;

/// The format marker kept in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoreFormat {
    pub(crate) format: String,
    pub(crate) layout: u32,
}

fn head_value(position: u64, hash: &str) -> Vec<u8> {
    let mut v = position.to_be_bytes().to_vec();
    v.extend_from_slice(hash.as_bytes());
    v
}

const PROJECTIONS: [&str; 5] = ["commands", "docs", "lists", "inbox", "numbers"];

fn json<T: Serialize>(v: &T) -> Vec<u8> {
    // Plain data types serialize infallibly.
    serde_json::to_vec(v).unwrap_or_default()
}

fn parse<T: for<'de> Deserialize<'de>>(at: impl std::fmt::Display, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::corrupt(at, e))
}

/// Every value of a directory tree, decoded.
fn read_all<T: for<'de> Deserialize<'de>>(tree: &sled::Tree, what: &str) -> Result<Vec<T>> {
    tree.iter()
        .map(|kv| {
            let (k, v) = kv.db()?;
            parse(format_args!("{what} {}", String::from_utf8_lossy(&k)), &v)
        })
        .collect()
}

fn u64_of(at: &str, b: &[u8]) -> Result<u64> {
    let arr: [u8; 8] = b
        .try_into()
        .map_err(|_| Error::corrupt(at, "expected 8 bytes"))?;
    Ok(u64::from_be_bytes(arr))
}

impl SledStorage {
    /// Opens the store in `path`; with `create`, makes a new one if there is none. Without
    /// it, a directory that is not a workflow store is refused before anything is written
    /// to it. A store of an older layout is upgraded; one of a newer layout is refused.
    pub(crate) fn open(
        path: &Path,
        cache_bytes: u64,
        create: bool,
        durability: Durability,
    ) -> Result<Self> {
        let not_a_store = |reason: &str| Error::NotAStore {
            path: path.to_owned(),
            reason: reason.to_owned(),
        };
        if !create {
            if !path.is_dir() {
                return Err(not_a_store("no such directory"));
            }
            // sled's own files; without them opening would create a new, empty store.
            if !path.join("conf").is_file() || !path.join("db").is_file() {
                return Err(not_a_store(
                    "it holds no store (create one with `workflow init` or `workflow serve`)",
                ));
            }
        }
        // sled takes an exclusive file lock. Its background threads release it a moment
        // after the last handle in this process is dropped, so a quick reopen (a restart,
        // a test) retries briefly; a lock held by another process is reported as such.
        let mut attempts = 0;
        let db = loop {
            match sled::Config::new()
                .path(path)
                .cache_capacity(cache_bytes)
                .open()
            {
                Ok(db) => break db,
                Err(sled::Error::Io(io)) if io.to_string().contains("could not acquire lock") => {
                    attempts += 1;
                    if attempts >= 50 {
                        return Err(Error::Locked {
                            path: path.to_owned(),
                        });
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(other) => return Err(from_sled(other)),
            }
        };
        let trees: Vec<sled::IVec> = db.tree_names();
        let has_tree = |name: &str| trees.iter().any(|t| t.as_ref() == name.as_bytes());
        let marker = if has_tree("meta") {
            db.open_tree("meta").db()?.get(FORMAT).db()?
        } else {
            None
        };
        let format: Option<StoreFormat> = match &marker {
            Some(bytes) => Some(parse("format marker", bytes)?),
            None => None,
        };
        let upgrade_from = match &format {
            Some(f) if f.format != FORMAT_NAME => {
                return Err(not_a_store(&format!(
                    "its format marker names {:?}",
                    f.format
                )));
            }
            Some(f) if f.layout > STORE_LAYOUT => {
                return Err(Error::NotAStore {
                    path: path.to_owned(),
                    reason: format!(
                        "it was written by a newer build (store layout {}; this build reads up to {STORE_LAYOUT})",
                        f.layout
                    ),
                });
            }
            Some(f) => (f.layout < STORE_LAYOUT).then_some(f.layout),
            // A store of the first layout has no marker but has its log.
            None if has_tree("log") => Some(1),
            None if create => None,
            None => {
                return Err(not_a_store(
                    "it is a sled database without the workflow log",
                ));
            }
        };
        let t = |name: &str| db.open_tree(name).db();
        let stable = StableFiles::open(path, durability).map_err(|e| Error::Unavailable {
            reason: format!("cannot sync {} to stable storage: {e}", path.display()),
        })?;
        let storage = SledStorage {
            stable,
            log: t("log")?,
            streams: t("streams")?,
            commands: t("commands")?,
            docs: t("docs")?,
            lists: t("lists")?,
            inbox: t("inbox")?,
            numbers: t("numbers")?,
            actors: t("actors")?,
            meta: t("meta")?,
            #[cfg(any(test, feature = "fault-injection"))]
            faults: faults_for(path),
            units: t("units")?,
            db,
        };
        if format.is_none() || upgrade_from.is_some() {
            if let Some(from) = upgrade_from {
                tracing::info!(from, to = STORE_LAYOUT, "upgrading the store layout");
            }
            // Layout 2 adds the recorded head: the last event's, for a store that has events.
            if storage.meta.get(HEAD).db()?.is_none()
                && let Some((k, v)) = storage.log.last().db()?
            {
                let e = storage.envelope_at(&k, &v)?;
                storage
                    .meta
                    .insert(HEAD, head_value(e.position, &e.hash))
                    .db()?;
            }
            let marker = StoreFormat {
                format: FORMAT_NAME.to_owned(),
                layout: STORE_LAYOUT,
            };
            storage.meta.insert(FORMAT, json(&marker)).db()?;
            storage.flush_durably()?;
        }
        Ok(storage)
    }

    /// sled's flush, then the sync that makes it durable on stable storage.
    fn flush_durably(&self) -> Result<()> {
        self.db.flush().db()?;
        self.stable.sync().map_err(|e| unsynced(&e))
    }

    fn index(&self, index: Index) -> &sled::Tree {
        match index {
            Index::Lists => &self.lists,
            Index::Inbox => &self.inbox,
        }
    }

    /// Reads each stored event of a stream up to `max_version` with `read`.
    fn stream_values<T>(
        &self,
        id: DocumentId,
        max_version: u64,
        read: impl Fn(u64, &[u8]) -> Result<T>,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let range = stream_key(id, 1)..=stream_key(id, max_version.max(1));
        for kv in self.streams.range(range) {
            let (_, pos) = kv.db()?;
            let pos = u64_of("stream entry", &pos)?;
            let v = self.log.get(pos.to_be_bytes()).db()?.ok_or_else(|| {
                Error::corrupt(
                    format_args!("stream {id}"),
                    format!("position {pos} missing from the log"),
                )
            })?;
            out.push(read(pos, &v)?);
        }
        Ok(out)
    }

    fn envelope_at(&self, key: &[u8], value: &[u8]) -> Result<Envelope> {
        let pos = u64_of("log key", key)?;
        parse(format_args!("position {pos}"), value)
    }
}

fn unsynced(e: &std::io::Error) -> Error {
    Error::Unavailable {
        reason: format!("syncing to stable storage failed: {e}"),
    }
}

fn stream_key(id: DocumentId, version: u64) -> [u8; 24] {
    let mut k = [0u8; 24];
    k[..16].copy_from_slice(id.0.as_bytes());
    k[16..].copy_from_slice(&version.to_be_bytes());
    k
}

impl Storage for SledStorage {
    fn last(&self) -> Result<Option<Envelope>> {
        match self.log.last().db()? {
            Some((k, v)) => Ok(Some(self.envelope_at(&k, &v)?)),
            None => Ok(None),
        }
    }

    fn log_from(&self, from: u64, limit: usize) -> Result<Vec<Envelope>> {
        let mut out = Vec::new();
        for kv in self.log.range(from.to_be_bytes()..).take(limit) {
            let (k, v) = kv.db()?;
            out.push(self.envelope_at(&k, &v)?);
        }
        Ok(out)
    }

    fn stream(&self, id: DocumentId, max_version: u64) -> Result<Vec<Envelope>> {
        self.stream_values(id, max_version, |pos, v| {
            parse(format_args!("position {pos}"), v)
        })
    }

    fn stream_hashes(&self, id: DocumentId) -> Result<Vec<String>> {
        /// Only the hash: serde skips the other fields without building them.
        #[derive(Deserialize)]
        struct HashOnly<'a> {
            #[serde(borrow)]
            hash: std::borrow::Cow<'a, str>,
        }
        self.stream_values(id, u64::MAX, |pos, v| {
            let h: HashOnly<'_> = serde_json::from_slice(v)
                .map_err(|e| Error::corrupt(format_args!("position {pos}"), e))?;
            Ok(h.hash.into_owned())
        })
    }

    fn doc(&self, id: DocumentId) -> Result<Option<DocRecord>> {
        #[cfg(any(test, feature = "fault-injection"))]
        self.faults.read()?;
        match self.docs.get(id.0.as_bytes()).db()? {
            Some(v) => Ok(Some(parse(format_args!("document {id}"), &v)?)),
            None => Ok(None),
        }
    }

    fn command(&self, command_id: &str) -> Result<Option<CommandRecord>> {
        #[cfg(any(test, feature = "fault-injection"))]
        self.faults.read()?;
        match self.commands.get(command_id.as_bytes()).db()? {
            Some(v) => Ok(Some(parse(format_args!("command {command_id}"), &v)?)),
            None => Ok(None),
        }
    }

    fn max_number(&self, series: &Series) -> Result<u32> {
        let prefix = series_prefix(series);
        match self.numbers.scan_prefix(&prefix).next_back() {
            Some(kv) => {
                let (k, _) = kv.db()?;
                let tail: [u8; 4] = k[prefix.len()..]
                    .try_into()
                    .map_err(|_| Error::corrupt("numbers index", "malformed key"))?;
                Ok(u32::from_be_bytes(tail))
            }
            None => Ok(0),
        }
    }

    fn commit(&self, group: &Group) -> std::result::Result<(), CommitError> {
        #[cfg(any(test, feature = "fault-injection"))]
        {
            self.faults.wait_if_held();
            if let Some(e) = self.faults.commit() {
                return Err(CommitError::NotWritten(e));
            }
        }
        let mut log = sled::Batch::default();
        let mut streams = sled::Batch::default();
        for e in &group.envelopes {
            log.insert(&e.position.to_be_bytes(), e.bytes.as_slice());
            streams.insert(
                &stream_key(e.stream_id, e.version),
                &e.position.to_be_bytes(),
            );
        }
        let head = group
            .envelopes
            .last()
            .map(|e| head_value(e.position, &e.hash));
        let mut commands = sled::Batch::default();
        for (id, rec) in &group.commands {
            commands.insert(id.as_bytes(), json(rec));
        }
        let (mut docs, mut lists, mut inbox) = (
            sled::Batch::default(),
            sled::Batch::default(),
            sled::Batch::default(),
        );
        for change in &group.docs {
            for k in &change.diff.lists_remove {
                lists.remove(k.as_slice());
            }
            for k in &change.diff.inbox_remove {
                inbox.remove(k.as_slice());
            }
            for k in &change.diff.lists_add {
                lists.insert(k.as_slice(), &[] as &[u8]);
            }
            for k in &change.diff.inbox_add {
                inbox.insert(k.as_slice(), &[] as &[u8]);
            }
            docs.insert(
                change.record.document.id().0.as_bytes(),
                json(&change.record),
            );
        }
        let mut numbers = sled::Batch::default();
        for (series, n, id) in &group.numbers {
            numbers.insert(series_key(series, *n), id.0.as_bytes());
        }
        let number_keys: Vec<(Vec<u8>, DocumentId)> = group
            .numbers
            .iter()
            .map(|(s, n, id)| (series_key(s, *n), *id))
            .collect();
        (
            &self.log,
            &self.streams,
            &self.commands,
            &self.docs,
            &self.lists,
            &self.inbox,
            &self.numbers,
            &self.meta,
        )
            .transaction(
                |(tlog, tstreams, tcommands, tdocs, tlists, tinbox, tnumbers, tmeta)| {
                    // Numbers are unique: a number already held by another document aborts all.
                    for (k, id) in &number_keys {
                        if let Some(held) = tnumbers.get(k)?
                            && held.as_ref() != id.0.as_bytes()
                        {
                            return Err(ConflictableTransactionError::Abort(Error::corrupt(
                                "numbers index",
                                format!(
                                    "number already held by another document (key {})",
                                    hex::encode(k)
                                ),
                            )));
                        }
                    }
                    tlog.apply_batch(&log)?;
                    tstreams.apply_batch(&streams)?;
                    tcommands.apply_batch(&commands)?;
                    tdocs.apply_batch(&docs)?;
                    tlists.apply_batch(&lists)?;
                    tinbox.apply_batch(&inbox)?;
                    tnumbers.apply_batch(&numbers)?;
                    // The head travels with the events it names, so a log cut short is
                    // detectable: the recorded head then points past its end.
                    if let Some(head) = &head {
                        tmeta.insert(HEAD, head.as_slice())?;
                    }
                    Ok(())
                },
            )
            .map_err(|e| CommitError::NotWritten(from_sled_tx(e)))?;
        #[cfg(any(test, feature = "fault-injection"))]
        if let Some(e) = self.faults.flush() {
            return Err(CommitError::NotDurable(e));
        }
        self.db
            .flush()
            .map_err(|e| CommitError::NotDurable(from_sled(e)))?;
        self.stable
            .sync_group()
            .map_err(|e| CommitError::NotDurable(unsynced(&e)))?;
        Ok(())
    }

    fn converge(&self, group: Group) -> Result<u64> {
        debug_assert!(group.envelopes.is_empty(), "a rebuild never writes the log");
        let mut changed = 0u64;
        // Reading is far cheaper than writing in sled (a write copies the node): on intact
        // projections a rebuild writes nothing. Keys in order, so sled mostly revisits the
        // leaf it just touched.
        let put = |tree: &sled::Tree, key: &[u8], value: &[u8], changed: &mut u64| {
            if tree.get(key).db()?.as_deref() != Some(value) {
                tree.insert(key, value).db()?;
                *changed += 1;
            }
            Ok::<(), Error>(())
        };
        let mut commands: Vec<(String, Vec<u8>)> = group
            .commands
            .iter()
            .map(|(id, rec)| (id.clone(), json(rec)))
            .collect();
        commands.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        for (id, value) in commands {
            put(&self.commands, id.as_bytes(), &value, &mut changed)?;
        }
        let (mut lists_remove, mut lists_add, mut inbox_remove, mut inbox_add) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut docs = Vec::with_capacity(group.docs.len());
        for change in group.docs {
            lists_remove.extend(change.diff.lists_remove);
            lists_add.extend(change.diff.lists_add);
            inbox_remove.extend(change.diff.inbox_remove);
            inbox_add.extend(change.diff.inbox_add);
            docs.push((change.record.document.id(), json(&change.record)));
        }
        docs.sort_unstable_by_key(|(id, _)| *id);
        for (id, value) in docs {
            put(&self.docs, id.0.as_bytes(), &value, &mut changed)?;
        }
        for (tree, mut remove, mut add) in [
            (&self.lists, lists_remove, lists_add),
            (&self.inbox, inbox_remove, inbox_add),
        ] {
            remove.sort_unstable();
            add.sort_unstable();
            for k in remove {
                if tree.remove(k).db()?.is_some() {
                    changed += 1;
                }
            }
            for k in add {
                put(tree, &k, &[], &mut changed)?;
            }
        }
        for (series, n, id) in group.numbers {
            put(
                &self.numbers,
                &series_key(&series, n),
                id.0.as_bytes(),
                &mut changed,
            )?;
        }
        Ok(changed)
    }

    fn flush(&self) -> Result<()> {
        self.flush_durably()?;
        Ok(())
    }

    fn scan(
        &self,
        index: Index,
        prefix: &[u8],
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<Cursor>> {
        let tree = self.index(index);
        let mut start = prefix.to_vec();
        if let Some(c) = after {
            start.extend_from_slice(&order_suffix(c.drafted_position, c.id));
            start.push(0); // strictly after
        }
        let mut end = prefix.to_vec();
        end.push(0xff);
        let mut out = Vec::new();
        for kv in tree.range(start..end) {
            let (k, _) = kv.db()?;
            if !k.starts_with(prefix) {
                break;
            }
            let c = Cursor::from_suffix(&k[prefix.len()..])
                .ok_or_else(|| Error::corrupt("index", "malformed key"))?;
            out.push(c);
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    fn due_before(&self, until: Timestamp) -> Result<Vec<DocumentId>> {
        let mut end = DUE_PREFIX.to_vec();
        end.extend_from_slice(&sortable_instant(until));
        let mut out = Vec::new();
        for kv in self.lists.range(DUE_PREFIX.to_vec()..end) {
            let (k, _) = kv.db()?;
            let id = k
                .len()
                .checked_sub(16)
                .and_then(|at| uuid::Uuid::from_slice(&k[at..]).ok())
                .ok_or_else(|| Error::corrupt("deadline index", "malformed key"))?;
            out.push(DocumentId(id));
        }
        Ok(out)
    }

    fn sweep_projections(&self, keep: &dyn Fn(&str, &[u8]) -> bool) -> Result<u64> {
        let mut removed = 0u64;
        for (name, t) in PROJECTIONS.iter().zip([
            &self.commands,
            &self.docs,
            &self.lists,
            &self.inbox,
            &self.numbers,
        ]) {
            for k in t.iter().keys() {
                let k = k.db()?;
                if !keep(name, &k) {
                    t.remove(k).db()?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    fn dump_projections(&self) -> Result<Vec<ProjectionEntry>> {
        let mut out = Vec::new();
        for (name, t) in PROJECTIONS.iter().zip([
            &self.commands,
            &self.docs,
            &self.lists,
            &self.inbox,
            &self.numbers,
        ]) {
            for kv in t.iter() {
                let (k, v) = kv.db()?;
                out.push(((*name).to_owned(), k.to_vec(), v.to_vec()));
            }
        }
        Ok(out)
    }

    fn actors(&self) -> Result<Vec<Actor>> {
        read_all(&self.actors, "actor")
    }

    fn units(&self) -> Result<Vec<Unit>> {
        read_all(&self.units, "unit")
    }

    fn put_directory(&self, units: &[Unit], actors: &[Actor]) -> Result<()> {
        let mut u = sled::Batch::default();
        for unit in units {
            u.insert(unit.code.0.as_bytes(), json(unit));
        }
        let mut a = sled::Batch::default();
        for actor in actors {
            a.insert(actor.id.0.as_bytes(), json(actor));
        }
        (&self.units, &self.actors)
            .transaction(|(tu, ta)| {
                tu.apply_batch(&u)?;
                ta.apply_batch(&a)?;
                Ok::<(), ConflictableTransactionError<Error>>(())
            })
            .map_err(from_sled_tx)?;
        self.flush_durably()?;
        Ok(())
    }

    fn put_actor(&self, actor: &Actor) -> Result<()> {
        self.actors
            .insert(actor.id.0.as_bytes(), json(actor))
            .db()?;
        self.flush_durably()?;
        Ok(())
    }

    fn put_unit(&self, unit: &Unit) -> Result<()> {
        self.units.insert(unit.code.0.as_bytes(), json(unit)).db()?;
        self.flush_durably()?;
        Ok(())
    }

    fn size_on_disk(&self) -> Result<u64> {
        self.db.size_on_disk().db()
    }

    fn raw_log_from(&self, from: u64, limit: usize) -> Result<Vec<(u64, Vec<u8>)>> {
        let mut out = Vec::new();
        for kv in self.log.range(from.to_be_bytes()..).take(limit) {
            let (k, v) = kv.db()?;
            out.push((u64_of("log key", &k)?, v.to_vec()));
        }
        Ok(out)
    }

    fn docs_after(&self, after: Option<DocumentId>, limit: usize) -> Result<Vec<DocRecord>> {
        let iter = match after {
            Some(id) => {
                let mut start = id.0.as_bytes().to_vec();
                start.push(0);
                self.docs.range(start..)
            }
            None => self.docs.range::<&[u8], _>(..),
        };
        let mut out = Vec::new();
        for kv in iter.take(limit) {
            let (k, v) = kv.db()?;
            out.push(parse(format_args!("document {}", hex::encode(&k)), &v)?);
        }
        Ok(out)
    }

    fn count_by_prefix(&self, index: Index) -> Result<std::collections::BTreeMap<Vec<u8>, u64>> {
        let mut counts = std::collections::BTreeMap::new();
        for k in self.index(index).iter().keys() {
            let k = k.db()?;
            let end = k.iter().position(|b| *b == 0).unwrap_or(k.len());
            *counts.entry(k[..end].to_vec()).or_insert(0) += 1;
        }
        Ok(counts)
    }

    fn raw_log(&self, position: u64) -> Result<Option<Vec<u8>>> {
        Ok(self
            .log
            .get(position.to_be_bytes())
            .db()?
            .map(|v| v.to_vec()))
    }

    fn set_rebuilding(&self, on: bool) -> Result<()> {
        if on {
            self.meta.insert(REBUILDING, &[] as &[u8]).db()?;
        } else {
            self.meta.remove(REBUILDING).db()?;
        }
        self.flush_durably()?;
        Ok(())
    }

    fn rebuilding(&self) -> Result<bool> {
        self.meta.contains_key(REBUILDING).db()
    }

    fn projection_version(&self) -> Result<u32> {
        match self.meta.get(PROJECTION_LAYOUT).db()? {
            Some(v) => {
                let bytes: [u8; 4] = v
                    .as_ref()
                    .try_into()
                    .map_err(|_| Error::corrupt("projection layout version", "expected 4 bytes"))?;
                Ok(u32::from_be_bytes(bytes))
            }
            None => Ok(0),
        }
    }

    fn set_projection_version(&self, version: u32) -> Result<()> {
        self.meta
            .insert(PROJECTION_LAYOUT, &version.to_be_bytes())
            .db()?;
        self.flush_durably()?;
        Ok(())
    }

    fn raw_put_projection(&self, tree: &str, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        let t = match tree {
            "commands" => &self.commands,
            "docs" => &self.docs,
            "lists" => &self.lists,
            "inbox" => &self.inbox,
            "numbers" => &self.numbers,
            other => {
                return Err(Error::corrupt(
                    format_args!("tree {other}"),
                    "not a projection",
                ));
            }
        };
        match value {
            Some(v) => t.insert(key, v).db()?,
            None => t.remove(key).db()?,
        };
        self.flush_durably()?;
        Ok(())
    }

    fn raw_put_log(&self, position: u64, bytes: &[u8]) -> Result<()> {
        self.log.insert(position.to_be_bytes(), bytes).db()?;
        self.flush_durably()?;
        Ok(())
    }

    fn raw_remove_log(&self, position: u64) -> Result<()> {
        self.log.remove(position.to_be_bytes()).db()?;
        self.flush_durably()?;
        Ok(())
    }

    fn recorded_head(&self) -> Result<Option<(u64, String)>> {
        let Some(v) = self.meta.get(HEAD).db()? else {
            return Ok(None);
        };
        if v.len() < 8 {
            return Err(Error::corrupt("recorded head", "shorter than 8 bytes"));
        }
        let position = u64_of("recorded head", &v[..8])?;
        let hash = std::str::from_utf8(&v[8..])
            .map_err(|_| Error::corrupt("recorded head", "hash is not UTF-8"))?;
        Ok(Some((position, hash.to_owned())))
    }

    fn raw_set_recorded_head(&self, position: u64, hash: &str) -> Result<()> {
        self.meta.insert(HEAD, head_value(position, hash)).db()?;
        self.flush_durably()?;
        Ok(())
    }

    fn stream_index_after(
        &self,
        after: Option<(DocumentId, u64)>,
        limit: usize,
    ) -> Result<Vec<(DocumentId, u64, u64)>> {
        let iter = match after {
            Some((id, version)) => {
                let mut start = stream_key(id, version).to_vec();
                start.push(0);
                self.streams.range(start..)
            }
            None => self.streams.range::<&[u8], _>(..),
        };
        let mut out = Vec::new();
        for kv in iter.take(limit) {
            let (k, v) = kv.db()?;
            if k.len() != 24 {
                return Err(Error::corrupt("stream index", "malformed key"));
            }
            let id = uuid::Uuid::from_slice(&k[..16])
                .map_err(|_| Error::corrupt("stream index", "malformed key"))?;
            let version = u64_of("stream index key", &k[16..])?;
            out.push((DocumentId(id), version, u64_of("stream index", &v)?));
        }
        Ok(out)
    }

    fn commands_after(
        &self,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<(String, CommandRecord)>> {
        let iter = match after {
            Some(id) => {
                let mut start = id.as_bytes().to_vec();
                start.push(0);
                self.commands.range(start..)
            }
            None => self.commands.range::<&[u8], _>(..),
        };
        let mut out = Vec::new();
        for kv in iter.take(limit) {
            let (k, v) = kv.db()?;
            let id = String::from_utf8_lossy(&k).into_owned();
            let rec = parse(format_args!("command {id}"), &v)?;
            out.push((id, rec));
        }
        Ok(out)
    }
}
