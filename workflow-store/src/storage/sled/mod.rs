//! The sled backend: one data directory, one tree per concern, every write of a group in
//! one multi-tree transaction followed by a flush and a sync to stable storage.
//!
//! | tree | key | value |
//! |---|---|---|
//! | `log` | position (u64 BE) | stored envelope |
//! | `streams` | stream id (16 bytes) + version (u64 BE) | position |
//! | `commands` | command id | [`CommandRecord`] JSON |
//! | `docs` | stream id | [`DocRecord`] JSON, without its parts |
//! | `parts` | stream id + `c`; stream id + `o` + n (u64 BE) | the record's content; its opinion n (JSON) |
//! | `lists` | dimension prefix + order suffix; `d\0` + due instant + order suffix | empty |
//! | `inbox` | assignee prefix + order suffix | empty |
//! | `numbers` | series prefix + number (u32 BE) | stream id |
//! | `actors`, `units` | id | JSON |
//! | `meta` | `format`, `head`, `projection_layout`, `rebuilding` | |
//!
//! A record's parts (its content and its opinions, see [`workflow_core::StateParts`]) are
//! kept apart from it: the record is rewritten by every command, the content only when it is
//! revised, each opinion once.
//!
//! Every encoding is in [`super::keys`] (shared with the PostgreSQL backend); every sled error becomes the store's here.

pub(crate) mod durable;

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use workflow_core::{Actor, Assignee, DocumentId, Series, StateParts, Timestamp, Unit};

use self::durable::StableFiles;
#[cfg(any(test, feature = "fault-injection"))]
use super::faults::{Faults, faults_for};
use super::keys::{
    DUE_PREFIX, IndexTree, content_key, cursor_from_suffix, dim_from_prefix, dim_prefix, index_key,
    opinion_key, opinion_prefix, series_key, series_prefix, sortable_instant, stream_key,
};
use super::{
    CommandRecord, CommitError, DocChange, Group, ProjectionEntry, RebuildMode, Storage,
    StoredEvent,
};
use crate::durability::Durability;
use crate::envelope::LogHead;
use crate::error::{Error, Result};
use crate::projection::{Cursor, Dim, DocRecord};

/// A sled failure in the store's terms: I/O is `Unavailable` (a retry may help),
/// corruption is `Corrupt`, the rest are bugs.
fn from_sled(e: sled::Error) -> Error {
    match e {
        sled::Error::Io(io) => Error::Unavailable {
            reason: io.to_string(),
        },
        sled::Error::Corruption { at, .. } => Error::corrupt(
            at.map_or_else(|| "sled".to_owned(), |p| format!("sled {p:?}")),
            "the storage engine found corrupt data",
        ),
        other => Error::Internal {
            reason: format!("sled: {other}"),
        },
    }
}

/// A storage error while sled ran a group's transaction: the group may be applied in
/// memory and not on disk ([`CommitError::NotDurable`]).
fn storage_failure(e: Error) -> CommitError {
    CommitError::NotDurable(e)
}

/// A failed sled transaction in the store's terms.
fn from_sled_tx(e: TransactionError<Error>) -> Error {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => from_sled(e),
    }
}

/// `?` on a sled result.
trait SledResultExt<T> {
    fn db(self) -> Result<T>;
}

impl<T> SledResultExt<T> for std::result::Result<T, sled::Error> {
    fn db(self) -> Result<T> {
        self.map_err(from_sled)
    }
}

/// The sled backend.
#[derive(Debug)]
pub struct SledStorage {
    db: sled::Db,
    log: sled::Tree,
    streams: sled::Tree,
    commands: sled::Tree,
    docs: sled::Tree,
    /// The records' parts: content and opinions.
    parts: sled::Tree,
    lists: sled::Tree,
    inbox: sled::Tree,
    numbers: sled::Tree,
    actors: sled::Tree,
    units: sled::Tree,
    meta: sled::Tree,
    /// The access log (classified reads), keyed by its own position.
    access: sled::Tree,
    stable: StableFiles,
    /// During a rebuild: fingerprints of every projection entry it produced, so that the
    /// ones it did not produce can be swept at its end.
    rebuild: Mutex<Option<Produced>>,
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
/// Meta key: the access log's head (position, hash) recorded with its last append.
const ACCESS_HEAD: &[u8] = b"access-head";

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

pub(crate) fn head_value(position: u64, hash: &str) -> Vec<u8> {
    let mut v = position.to_be_bytes().to_vec();
    v.extend_from_slice(hash.as_bytes());
    v
}

/// The projection trees, as [`Storage::dump_projections`] names them.
const PROJECTIONS: [&str; 6] = ["commands", "docs", "parts", "lists", "inbox", "numbers"];

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

/// Fingerprints of the projection entries a rebuild produced: 128-bit keyed hashes, 16
/// bytes per entry instead of the key; a stale entry survives only if its fingerprint
/// collides with a produced one (odds around 2^-100 even for billions of entries).
#[derive(Debug, Default)]
pub(crate) struct Produced {
    keys: HashSet<u128>,
    hashers: (std::hash::RandomState, std::hash::RandomState),
}

impl Produced {
    /// The record of the rebuild under way, taken at its end.
    pub(crate) fn take(slot: &std::sync::Mutex<Option<Produced>>) -> Result<Produced> {
        slot.lock()
            .map_err(|_| Error::Internal {
                reason: "the rebuild's record was poisoned".into(),
            })?
            .take()
            .ok_or_else(|| Error::Internal {
                reason: "end_rebuild without begin_rebuild".into(),
            })
    }
}

impl Produced {
    fn fingerprint(&self, tree: &str, key: &[u8]) -> u128 {
        use std::hash::BuildHasher;
        let half = |b: &std::hash::RandomState| b.hash_one((tree, key));
        (u128::from(half(&self.hashers.0)) << 64) | u128::from(half(&self.hashers.1))
    }

    pub(crate) fn add(&mut self, tree: &str, key: &[u8]) {
        let f = self.fingerprint(tree, key);
        self.keys.insert(f);
    }

    pub(crate) fn contains(&self, tree: &str, key: &[u8]) -> bool {
        self.keys.contains(&self.fingerprint(tree, key))
    }
}

/// Whether `conf` reads as sled's settings file (`segment_size: …` first), so that an
/// operator tool opening a directory without `create` never rewrites another file.
fn is_sled_settings(conf: &Path) -> bool {
    const FIRST: &[u8] = b"segment_size: ";
    let mut start = [0u8; FIRST.len()];
    std::fs::File::open(conf)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut start))
        .is_ok_and(|()| start == FIRST)
}

impl SledStorage {
    /// Opens the store in `path`; with `create`, makes a new one if there is none. Without
    /// it, a directory that is not a workflow store is refused before anything is written
    /// to it. A store of an older layout is upgraded; one of a newer layout is refused.
    pub fn open(
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
            // Files of another program that happen to be called so: sled would rewrite a
            // `conf` it cannot read and add its `blobs` folder. Its settings file starts
            // with its first setting.
            if !is_sled_settings(&path.join("conf")) {
                return Err(not_a_store(
                    "its `conf` is not a store's settings file (and `db` not a store's data)",
                ));
            }
        }
        // sled takes an exclusive file lock. Its background threads release it a moment
        // after the last handle in this process is dropped, so a quick reopen (a restart,
        // a test) retries briefly; a lock held by another process is reported as such.
        let mut attempts = 0;
        let mut repaired = false;
        let db = loop {
            match sled::Config::new()
                .path(path)
                .cache_capacity(cache_bytes)
                .open()
            {
                Ok(db) => break db,
                // A first start killed while sled wrote its settings file leaves a `conf`
                // that fails its checksum beside a data file that holds nothing: no store
                // was ever written there, so it is created afresh. A `db` with any byte
                // in it is never touched.
                Err(sled::Error::Corruption { .. })
                    if create && !repaired && never_written(path) =>
                {
                    tracing::warn!(path = %path.display(), "a store whose creation was interrupted before anything was written to it (a damaged settings file, an empty data file): creating it afresh");
                    std::fs::remove_file(path.join("conf")).map_err(|e| Error::Unavailable {
                        reason: format!("{}: {e}", path.join("conf").display()),
                    })?;
                    repaired = true;
                }
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
            parts: t("parts")?,
            lists: t("lists")?,
            inbox: t("inbox")?,
            numbers: t("numbers")?,
            actors: t("actors")?,
            meta: t("meta")?,
            access: t("access")?,
            rebuild: Mutex::new(None),
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
                && let Some(end) = storage.log_end()?
            {
                storage
                    .meta
                    .insert(HEAD, head_value(end.position, &end.hash))
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
        #[cfg(any(test, feature = "fault-injection"))]
        if let Some(e) = self.faults.other_flush() {
            return Err(e);
        }
        self.db.flush().db()?;
        self.stable.sync().map_err(|e| unsynced(&e))
    }

    fn tree(&self, t: IndexTree) -> &sled::Tree {
        match t {
            IndexTree::Lists => &self.lists,
            IndexTree::Inbox => &self.inbox,
        }
    }

    fn projection_tree(&self, name: &str) -> Result<&sled::Tree> {
        Ok(match name {
            "commands" => &self.commands,
            "docs" => &self.docs,
            "parts" => &self.parts,
            "lists" => &self.lists,
            "inbox" => &self.inbox,
            "numbers" => &self.numbers,
            other => {
                return Err(Error::corrupt(
                    format_args!("tree {other}"),
                    "not a projection",
                ));
            }
        })
    }

    /// Each stored event of a stream up to `max_version`.
    fn stream_events(&self, id: DocumentId, max_version: u64) -> Result<Vec<StoredEvent>> {
        let mut out = Vec::new();
        if max_version == 0 {
            return Ok(out);
        }
        let range = stream_key(id, 1)..=stream_key(id, max_version);
        for kv in self.streams.range(range) {
            let (_, pos) = kv.db()?;
            let position = u64_of("stream entry", &pos)?;
            let v = self.log.get(position.to_be_bytes()).db()?.ok_or_else(|| {
                Error::corrupt(
                    format_args!("stream {id}"),
                    format!("position {position} missing from the log"),
                )
            })?;
            out.push(StoredEvent {
                position,
                bytes: v.to_vec(),
            });
        }
        Ok(out)
    }

    /// A stored record with its parts put back. The record and its content are two reads:
    /// a commit that revises the content between them is noticed by the content's revision,
    /// and the record is read again.
    fn record(&self, bytes: &[u8]) -> Result<DocRecord> {
        let mut stored: RecordIn = parse("a document record", bytes)?;
        let mut attempts = 0;
        loop {
            let id = stored.state.id();
            let at = || format!("document {id}");
            let content: Option<ContentIn> = match self.parts.get(content_key(id)).db()? {
                Some(v) => Some(parse(at(), &v)?),
                None => None,
            };
            let revision = stored.state.content_revision();
            if let Some(c) = &content
                && c.revision != revision
            {
                attempts += 1;
                let again = self.docs.get(id.0.as_bytes()).db()?;
                match again {
                    Some(v) if attempts < 5 => {
                        stored = parse(at(), &v)?;
                        continue;
                    }
                    _ => {
                        return Err(Error::corrupt(
                            at(),
                            format!(
                                "the record is at content revision {revision}, its stored content at {}",
                                c.revision
                            ),
                        ));
                    }
                }
            }
            // Only as many opinions as the record holds, each under its own index: entries
            // past them are stale (a rebuild under way has not swept them yet).
            let mut opinions = Vec::with_capacity(stored.opinions);
            for kv in self
                .parts
                .scan_prefix(opinion_prefix(id))
                .take(stored.opinions)
            {
                let (k, v) = kv.db()?;
                if k.as_ref() != opinion_key(id, opinions.len()) {
                    break;
                }
                opinions.push(parse(at(), &v)?);
            }
            if opinions.len() != stored.opinions {
                return Err(Error::corrupt(
                    at(),
                    format!(
                        "the record has {} opinions, the first {} are stored",
                        stored.opinions,
                        opinions.len()
                    ),
                ));
            }
            let mut record = DocRecord {
                drafted_position: stored.drafted_position,
                state: stored.state,
            };
            record
                .state
                .put_parts(StateParts {
                    content: content.map(|c| c.content),
                    opinions,
                })
                .map_err(|e| Error::corrupt(at(), e))?;
            return Ok(record);
        }
    }

    /// Up to `limit` cursors of one index prefix after `after`.
    fn scan(
        &self,
        tree: &sled::Tree,
        prefix: &[u8],
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<Cursor>> {
        let mut start = prefix.to_vec();
        if let Some(c) = after {
            start.extend_from_slice(&super::keys::order_suffix(c));
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
            let c = cursor_from_suffix(&k[prefix.len()..])
                .ok_or_else(|| Error::corrupt("index", "malformed key"))?;
            out.push(c);
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// Records (if a rebuild is under way) that the rebuild produced `key` of `tree`.
    fn produced(&self, tree: &str, key: &[u8]) {
        if let Ok(mut r) = self.rebuild.lock()
            && let Some(p) = r.as_mut()
        {
            p.add(tree, key);
        }
    }

    fn set_meta(&self, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        match value {
            Some(v) => {
                self.meta.insert(key, v).db()?;
            }
            None => {
                self.meta.remove(key).db()?;
            }
        }
        self.flush_durably()
    }
}

fn unsynced(e: &std::io::Error) -> Error {
    Error::Unavailable {
        reason: format!("syncing to stable storage failed: {e}"),
    }
}

impl Storage for SledStorage {
    fn log_end(&self) -> Result<Option<LogHead>> {
        match self.log.last().db()? {
            Some((k, v)) => {
                let position = u64_of("log key", &k)?;
                let hash = crate::envelope::stored_hash(position, &v)?;
                Ok(Some(LogHead { position, hash }))
            }
            None => Ok(None),
        }
    }

    fn recorded_head(&self) -> Result<Option<LogHead>> {
        let Some(v) = self.meta.get(HEAD).db()? else {
            return Ok(None);
        };
        if v.len() < 8 {
            return Err(Error::corrupt("recorded head", "shorter than 8 bytes"));
        }
        let position = u64_of("recorded head", &v[..8])?;
        let hash = std::str::from_utf8(&v[8..])
            .map_err(|_| Error::corrupt("recorded head", "hash is not UTF-8"))?;
        Ok(Some(LogHead {
            position,
            hash: hash.to_owned(),
        }))
    }

    fn read_log(&self, from: u64, limit: usize) -> Result<Vec<StoredEvent>> {
        let mut out = Vec::new();
        for kv in self.log.range(from.to_be_bytes()..).take(limit) {
            let (k, v) = kv.db()?;
            out.push(StoredEvent {
                position: u64_of("log key", &k)?,
                bytes: v.to_vec(),
            });
        }
        Ok(out)
    }

    fn read_stream(&self, id: DocumentId, max_version: u64) -> Result<Vec<StoredEvent>> {
        self.stream_events(id, max_version)
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

    fn commit(&self, group: &mut Group) -> std::result::Result<(), CommitError> {
        self.write_group(group)?;
        self.sync_written(group.sync_always)
    }

    fn split_durability(&self) -> bool {
        true
    }

    fn write_group(&self, group: &mut Group) -> std::result::Result<(), CommitError> {
        #[cfg(any(test, feature = "fault-injection"))]
        {
            self.faults.wait_if_held();
            if let Some(e) = self.faults.commit() {
                return Err(CommitError::NotWritten(e));
            }
        }
        let preparing = std::time::Instant::now();
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
        let (mut docs, mut parts, mut lists, mut inbox) = (
            sled::Batch::default(),
            sled::Batch::default(),
            sled::Batch::default(),
            sled::Batch::default(),
        );
        for change in &mut group.docs {
            let order = change.record.order();
            for entry in &change.diff.remove {
                let (tree, key) = index_key(entry, order);
                match tree {
                    IndexTree::Lists => lists.remove(key),
                    IndexTree::Inbox => inbox.remove(key),
                }
            }
            for entry in &change.diff.add {
                let (tree, key) = index_key(entry, order);
                match tree {
                    IndexTree::Lists => lists.insert(key, &[] as &[u8]),
                    IndexTree::Inbox => inbox.insert(key, &[] as &[u8]),
                }
            }
            let (record, new_parts) = record_entries(change).map_err(CommitError::NotWritten)?;
            docs.insert(change.record.id().0.as_bytes(), record);
            for (k, v) in new_parts {
                parts.insert(k, v);
            }
        }
        // What the group expects of the store: the log ends right before its first event,
        // and each stream right before the group's first event of it.
        let first_position = group.envelopes.first().map(|e| e.position);
        let mut stream_starts: Vec<(DocumentId, u64)> = Vec::new();
        for e in &group.envelopes {
            if !stream_starts.iter().any(|(id, _)| *id == e.stream_id) {
                stream_starts.push((e.stream_id, e.version));
            }
        }
        let mut numbers = sled::Batch::default();
        let number_keys: Vec<(Vec<u8>, DocumentId)> = group
            .numbers
            .iter()
            .map(|(s, n, id)| (series_key(s, *n), *id))
            .collect();
        for (k, id) in &number_keys {
            numbers.insert(k.as_slice(), id.0.as_bytes());
        }
        crate::telemetry::spent(crate::telemetry::Phase::Prepare, preparing.elapsed());
        let writing = std::time::Instant::now();
        (
            &self.log,
            &self.streams,
            &self.commands,
            &self.docs,
            &self.parts,
            &self.lists,
            &self.inbox,
            &self.numbers,
            &self.meta,
        )
            .transaction(
                |(tlog, tstreams, tcommands, tdocs, tparts, tlists, tinbox, tnumbers, tmeta)| {
                    let conflict = |reason: String| ConflictableTransactionError::Abort(reason);
                    if let Some(first) = first_position {
                        if tlog.get(first.to_be_bytes())?.is_some() {
                            return Err(conflict(format!("log position {first} is taken")));
                        }
                        if first > 1 && tlog.get((first - 1).to_be_bytes())?.is_none() {
                            return Err(conflict(format!(
                                "log position {first} would leave a gap: {} is not stored",
                                first - 1
                            )));
                        }
                    }
                    for (id, version) in &stream_starts {
                        if tstreams.get(stream_key(*id, *version))?.is_some() {
                            return Err(conflict(format!(
                                "document {id} already has version {version}"
                            )));
                        }
                        if *version > 1 && tstreams.get(stream_key(*id, version - 1))?.is_none() {
                            return Err(conflict(format!(
                                "document {id} has no version {} to follow",
                                version - 1
                            )));
                        }
                    }
                    // Numbers are unique: a number already held by another stream aborts all.
                    for (k, id) in &number_keys {
                        if let Some(held) = tnumbers.get(k)?
                            && held.as_ref() != id.0.as_bytes()
                        {
                            return Err(conflict(format!(
                                "number already held by another document (key {})",
                                hex::encode(k)
                            )));
                        }
                    }
                    tlog.apply_batch(&log)?;
                    tstreams.apply_batch(&streams)?;
                    tcommands.apply_batch(&commands)?;
                    tdocs.apply_batch(&docs)?;
                    tparts.apply_batch(&parts)?;
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
            .map_err(|e| match e {
                TransactionError::Abort(reason) => CommitError::Conflict(reason),
                // sled may have applied the transaction to its trees in memory before the
                // error (a full disk fails the log write afterwards): the group may be
                // readable here and yet not on disk. Never "nothing was written".
                TransactionError::Storage(e) => storage_failure(from_sled(e)),
            })?;
        #[cfg(any(test, feature = "fault-injection"))]
        if let Some(e) = self.faults.transaction() {
            // Injected after the transaction was applied, as sled's own error comes.
            return Err(storage_failure(e));
        }
        crate::telemetry::spent(crate::telemetry::Phase::Transaction, writing.elapsed());
        #[cfg(any(test, feature = "fault-injection"))]
        self.faults.wrote();
        Ok(())
    }

    fn sync_written(&self, always: bool) -> std::result::Result<(), CommitError> {
        #[cfg(any(test, feature = "fault-injection"))]
        {
            self.faults.wait_if_syncs_held();
            if let Some(e) = self.faults.flush() {
                return Err(CommitError::NotDurable(e));
            }
        }
        let flushing = std::time::Instant::now();
        self.db
            .flush()
            .map_err(|e| CommitError::NotDurable(from_sled(e)))?;
        crate::telemetry::spent(crate::telemetry::Phase::Flush, flushing.elapsed());
        #[cfg(any(test, feature = "fault-injection"))]
        if let Some(e) = self.faults.sync() {
            return Err(CommitError::NotDurable(e));
        }
        let syncing = std::time::Instant::now();
        if always {
            self.stable.sync()
        } else {
            self.stable.sync_group()
        }
        .map_err(|e| CommitError::NotDurable(unsynced(&e)))?;
        crate::telemetry::spent(crate::telemetry::Phase::Sync, syncing.elapsed());
        Ok(())
    }

    fn doc(&self, id: DocumentId) -> Result<Option<DocRecord>> {
        #[cfg(any(test, feature = "fault-injection"))]
        self.faults.read()?;
        match self.docs.get(id.0.as_bytes()).db()? {
            Some(v) => Ok(Some(self.record(&v)?)),
            None => Ok(None),
        }
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
            let (_, v) = kv.db()?;
            out.push(self.record(&v)?);
        }
        Ok(out)
    }

    fn command(&self, command_id: &str) -> Result<Option<CommandRecord>> {
        #[cfg(any(test, feature = "fault-injection"))]
        self.faults.read()?;
        match self.commands.get(command_id.as_bytes()).db()? {
            Some(v) => Ok(Some(parse(format_args!("command {command_id}"), &v)?)),
            None => Ok(None),
        }
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

    fn scan_list(&self, dim: &Dim, after: Option<Cursor>, limit: usize) -> Result<Vec<Cursor>> {
        self.scan(&self.lists, &dim_prefix(dim), after, limit)
    }

    fn scan_todo(
        &self,
        assignee: &Assignee,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<Cursor>> {
        self.scan(
            &self.inbox,
            &super::keys::assignee_prefix(assignee),
            after,
            limit,
        )
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

    fn count_lists(&self) -> Result<BTreeMap<Dim, u64>> {
        let mut counts = BTreeMap::new();
        for k in self.lists.iter().keys() {
            let k = k.db()?;
            let end = k.iter().position(|b| *b == 0).unwrap_or(k.len());
            if let Some(dim) = dim_from_prefix(&k[..end]) {
                *counts.entry(dim).or_insert(0) += 1;
            }
        }
        Ok(counts)
    }

    fn begin_rebuild(&self, mode: RebuildMode) -> Result<()> {
        // Marked first, so that an interrupted rebuild is finished when the store next
        // opens instead of leaving half-written projections to be served.
        self.set_meta(REBUILDING, Some(&[]))?;
        if mode == RebuildMode::FromScratch {
            for name in PROJECTIONS {
                self.projection_tree(name)?.clear().db()?;
            }
        }
        if let Ok(mut r) = self.rebuild.lock() {
            *r = Some(Produced::default());
        }
        Ok(())
    }

    fn converge(&self, group: Group) -> Result<u64> {
        debug_assert!(group.envelopes.is_empty(), "a rebuild never writes the log");
        let mut changed = 0u64;
        // Reading is far cheaper than writing in sled (a write copies the node): on intact
        // projections a rebuild writes nothing. Keys in order, so sled mostly revisits the
        // leaf it just touched.
        let put = |name: &str, tree: &sled::Tree, key: &[u8], value: &[u8], changed: &mut u64| {
            self.produced(name, key);
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
            put(
                "commands",
                &self.commands,
                id.as_bytes(),
                &value,
                &mut changed,
            )?;
        }
        let mut remove: [Vec<Vec<u8>>; 2] = Default::default();
        let mut add: [Vec<Vec<u8>>; 2] = Default::default();
        let slot = |t: IndexTree| usize::from(t == IndexTree::Inbox);
        let mut docs = Vec::with_capacity(group.docs.len());
        let mut parts = Vec::new();
        for mut change in group.docs {
            let order = change.record.order();
            for entry in &change.diff.remove {
                let (t, k) = index_key(entry, order);
                remove[slot(t)].push(k);
            }
            for entry in &change.diff.add {
                let (t, k) = index_key(entry, order);
                add[slot(t)].push(k);
            }
            let (record, new_parts) = record_entries(&mut change)?;
            docs.push((change.record.id(), record));
            parts.extend(new_parts);
        }
        // Parts first: a reader during a rebuild in place never finds a record whose parts
        // are not stored yet (a content revision it does not have is read again).
        parts.sort_unstable();
        for (key, value) in parts {
            put("parts", &self.parts, &key, &value, &mut changed)?;
        }
        docs.sort_unstable_by_key(|(id, _)| *id);
        for (id, value) in docs {
            put("docs", &self.docs, id.0.as_bytes(), &value, &mut changed)?;
        }
        for (t, name) in [(IndexTree::Lists, "lists"), (IndexTree::Inbox, "inbox")] {
            let tree = self.tree(t);
            let (mut remove, mut add) = (
                std::mem::take(&mut remove[slot(t)]),
                std::mem::take(&mut add[slot(t)]),
            );
            remove.sort_unstable();
            add.sort_unstable();
            for k in remove {
                if tree.remove(k).db()?.is_some() {
                    changed += 1;
                }
            }
            for k in add {
                put(name, tree, &k, &[], &mut changed)?;
            }
        }
        for (series, n, id) in group.numbers {
            put(
                "numbers",
                &self.numbers,
                &series_key(&series, n),
                id.0.as_bytes(),
                &mut changed,
            )?;
        }
        Ok(changed)
    }

    fn end_rebuild(&self, layout: u32) -> Result<u64> {
        let produced = Produced::take(&self.rebuild)?;
        let mut removed = 0u64;
        for name in PROJECTIONS {
            let t = self.projection_tree(name)?;
            for k in t.iter().keys() {
                let k = k.db()?;
                if !produced.contains(name, &k) {
                    t.remove(k).db()?;
                    removed += 1;
                }
            }
        }
        self.flush_durably()?;
        self.set_projection_version(layout)?;
        self.set_meta(REBUILDING, None)?;
        Ok(removed)
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
        self.set_meta(PROJECTION_LAYOUT, Some(&version.to_be_bytes()))
    }

    fn flush(&self) -> Result<()> {
        self.flush_durably()
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
        self.flush_durably()
    }

    fn access_recorded_head(&self) -> Result<Option<LogHead>> {
        let Some(v) = self.meta.get(ACCESS_HEAD).db()? else {
            return Ok(None);
        };
        if v.len() < 8 {
            return Err(Error::corrupt("access-log head", "shorter than 8 bytes"));
        }
        let position = u64_of("access-log head", &v[..8])?;
        let hash = std::str::from_utf8(&v[8..])
            .map_err(|_| Error::corrupt("access-log head", "hash is not UTF-8"))?;
        Ok(Some(LogHead {
            position,
            hash: hash.to_owned(),
        }))
    }

    fn append_access(&self, entries: &[StoredEvent], head: &LogHead) -> Result<()> {
        let next = self
            .access
            .last()
            .db()?
            .map_or(Ok(1), |(k, _)| u64_of("access key", &k).map(|p| p + 1))?;
        let mut batch = sled::Batch::default();
        for (i, e) in entries.iter().enumerate() {
            if e.position != next + i as u64 {
                return Err(Error::Internal {
                    reason: format!(
                        "access-log entry at position {} does not follow the access log's end {}",
                        e.position,
                        next - 1
                    ),
                });
            }
            batch.insert(&e.position.to_be_bytes(), e.bytes.as_slice());
        }
        let head = head_value(head.position, &head.hash);
        (&self.access, &self.meta)
            .transaction(|(access, meta)| {
                access.apply_batch(&batch)?;
                meta.insert(ACCESS_HEAD, head.as_slice())?;
                Ok::<(), ConflictableTransactionError<Error>>(())
            })
            .map_err(from_sled_tx)?;
        self.flush_durably()
    }

    fn read_access(&self, from: u64, limit: usize) -> Result<Vec<StoredEvent>> {
        let mut out = Vec::new();
        for kv in self.access.range(from.to_be_bytes()..).take(limit) {
            let (k, v) = kv.db()?;
            out.push(StoredEvent {
                position: u64_of("access key", &k)?,
                bytes: v.to_vec(),
            });
        }
        Ok(out)
    }

    fn access_end(&self) -> Result<Option<StoredEvent>> {
        match self.access.last().db()? {
            Some((k, v)) => Ok(Some(StoredEvent {
                position: u64_of("access key", &k)?,
                bytes: v.to_vec(),
            })),
            None => Ok(None),
        }
    }

    fn size_on_disk(&self) -> Result<u64> {
        self.db.size_on_disk().db()
    }

    fn dump_projections(&self) -> Result<Vec<ProjectionEntry>> {
        let mut out = Vec::new();
        for name in PROJECTIONS {
            for kv in self.projection_tree(name)?.iter() {
                let (k, v) = kv.db()?;
                out.push((name.to_owned(), k.to_vec(), v.to_vec()));
            }
        }
        Ok(out)
    }

    fn raw_put_log(&self, position: u64, bytes: &[u8]) -> Result<()> {
        self.log.insert(position.to_be_bytes(), bytes).db()?;
        self.flush_durably()
    }

    fn raw_put_access(&self, position: u64, bytes: &[u8]) -> Result<()> {
        self.access.insert(position.to_be_bytes(), bytes).db()?;
        self.flush_durably()
    }

    fn raw_remove_access(&self, position: u64) -> Result<()> {
        self.access.remove(position.to_be_bytes()).db()?;
        self.flush_durably()
    }

    fn raw_remove_log(&self, position: u64) -> Result<()> {
        self.log.remove(position.to_be_bytes()).db()?;
        self.flush_durably()
    }

    fn raw_set_recorded_head(&self, position: u64, hash: &str) -> Result<()> {
        self.set_meta(HEAD, Some(&head_value(position, hash)))
    }

    fn raw_put_projection(&self, part: &str, key: &[u8], value: Option<&[u8]>) -> Result<()> {
        let t = self.projection_tree(part)?;
        match value {
            Some(v) => {
                t.insert(key, v).db()?;
            }
            None => {
                t.remove(key).db()?;
            }
        }
        self.flush_durably()
    }

    fn raw_mark_rebuilding(&self) -> Result<()> {
        self.set_meta(REBUILDING, Some(&[]))
    }
}

/// One entry of a tree: key and value.
type KeyValue = (Vec<u8>, Vec<u8>);

/// A record as the `docs` tree keeps it: without its parts, with how many opinions it has.
#[derive(Serialize)]
struct RecordOut<'a> {
    drafted_position: u64,
    opinions: usize,
    state: &'a workflow_core::FlowState,
}

/// A record as read from the `docs` tree (see [`RecordOut`]).
#[derive(Deserialize)]
struct RecordIn {
    drafted_position: u64,
    opinions: usize,
    state: workflow_core::FlowState,
}

/// A record's content as the `parts` tree keeps it: with the revision it is, so that a read
/// of a record and its content that a revision came between is noticed.
#[derive(Serialize)]
struct ContentOut<'a> {
    revision: u32,
    content: &'a workflow_core::Content,
}

/// A content as read from the `parts` tree (see [`ContentOut`]).
#[derive(Deserialize)]
struct ContentIn {
    revision: u32,
    content: workflow_core::Content,
}

/// A change's record as the `docs` tree keeps it (without its parts), and the entries of
/// its parts the store does not hold yet, for the `parts` tree. The parts are moved out
/// while the record is serialized and put back before this returns.
fn record_entries(change: &mut DocChange) -> Result<(Vec<u8>, Vec<KeyValue>)> {
    let id = change.record.id();
    let revision = change.record.state.content_revision();
    let parts = change.record.state.take_parts();
    let record = json(&RecordOut {
        drafted_position: change.record.drafted_position,
        opinions: parts.opinions.len(),
        state: &change.record.state,
    });
    let mut entries = Vec::new();
    if let Some(content) = &parts.content
        && change.stored.content_revision != Some(revision)
    {
        entries.push((
            content_key(id).to_vec(),
            json(&ContentOut { revision, content }),
        ));
    }
    for (n, opinion) in parts
        .opinions
        .iter()
        .enumerate()
        .skip(change.stored.opinions)
    {
        entries.push((opinion_key(id, n).to_vec(), json(opinion)));
    }
    // Parts taken out of a state always fit it back: this cannot fail (and if it did, the
    // group is answered with the error and the writer drops its cached records).
    change
        .record
        .state
        .put_parts(parts)
        .map_err(|e| Error::Internal {
            reason: format!("document {id}: {e}"),
        })?;
    Ok((record, entries))
}

/// Whether sled's directory at `path` never had data written to it: its data file is
/// absent or empty.
fn never_written(path: &Path) -> bool {
    std::fs::metadata(path.join("db")).map_or(true, |m| m.len() == 0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)] // tests
mod tests {
    use super::*;
    use workflow_core::Action;
    use workflow_testkit::engine::{drive, open};

    /// One projection entry of a dump.
    fn entry(dump: &[ProjectionEntry], tree: &str, key: &[u8]) -> Vec<u8> {
        dump.iter()
            .find(|(t, k, _)| t == tree && k.as_slice() == key)
            .map(|(_, _, v)| v.clone())
            .unwrap_or_else(|| panic!("no {tree} entry {}", hex::encode(key)))
    }

    /// A record and its content are two reads. A revision committed between them (here: the
    /// record as read before the revision, the content after it) is noticed by the content's
    /// revision and the record is read again; a content that never matches its record is
    /// corruption, named with both revisions, never a mix of two revisions.
    #[tokio::test]
    async fn a_revision_between_reading_a_record_and_its_content_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let engine = open(dir.path()).await;
        let id = drive(&engine, 1).await;
        let before = engine.dump_projections().unwrap();
        // The test kit's engine is this crate as its dependents see it (`workflow_store`).
        let mut fields = workflow_testkit::fields();
        fields.body = "修改后的正文".into();
        engine
            .execute(workflow_store::Request::new(
                id,
                "wang.fang",
                Action::Revise(fields),
            ))
            .await
            .unwrap();
        drop(engine);
        let storage = SledStorage::open(dir.path(), 16 << 20, false, Durability::Strict).unwrap();
        let stale_record = entry(&before, "docs", id.0.as_bytes());
        let stale_content = entry(&before, "parts", &content_key(id));
        // The stale record with the new content: read again, the revised document.
        let read = storage.record(&stale_record).unwrap();
        assert_eq!(read.state.version(), 2);
        assert_eq!(read.state.content_revision(), 2);
        assert_eq!(read, storage.doc(id).unwrap().unwrap());
        let text = serde_json::to_string(&read.state).unwrap();
        assert!(text.contains("修改后的正文"), "{text}");
        // A content of another revision than its record however often it is read: Corrupt.
        storage
            .raw_put_projection("parts", &content_key(id), Some(&stale_content))
            .unwrap();
        match storage.doc(id) {
            Err(Error::Corrupt { at, reason }) => {
                assert!(at.contains(&id.to_string()), "{at}");
                assert!(
                    reason.contains("content revision 2, its stored content at 1"),
                    "{reason}"
                );
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }
}
