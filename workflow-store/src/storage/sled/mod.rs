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
//! A record's parts (its content and its opinions, the fields a flow names in
//! [`workflow_core::Flow::CONTENT_FIELD`] and [`workflow_core::Flow::OPINIONS_FIELD`]) are kept
//! apart from it (`layout`): the record is rewritten by every command, the content only when
//! it is revised, each opinion once.
//!
//! Every encoding is in `storage/keys.rs` (shared with the PostgreSQL backend); every sled error becomes the store's here.
//!
//! A stream's record is rewritten by every command; its parts (content and opinions) are
//! not: each `DocChange` says how much of them the store holds already (`PartsStored`: the
//! content revision and the opinion count of the record before the group), and sled writes
//! the content only when its revision changed and each opinion once, in the `parts` tree.
//! The record stored says how many opinions it has, and a read takes only those: entries
//! past them (left by an in-place rebuild under way) are never part of a state. The record and its content are two reads: the content is stored with its revision, and a
//! read that a revision came between reads the record again. PostgreSQL still stores whole
//! records; `workflow copy` compares stores by whole records
//! (`Projections::comparable_projections`), so the two layouts compare equal.

pub(crate) mod durable;
mod layout;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError};
use workflow_core::{
    DocumentId, Timestamp, directory::Actor, directory::Unit, numbering::Series, todo::Assignee,
};

use self::durable::StableFiles;
#[cfg(any(test, feature = "fault-injection"))]
use super::faults::{Faults, faults_for};
use super::keys::{
    DUE_PREFIX, IndexTree, content_key, cursor_from_suffix, dim_from_prefix, dim_prefix,
    head_value, index_key, opinion_key, opinion_prefix, series_key, series_prefix,
    sortable_instant, stream_key,
};
use super::prelude::*;
use super::produced::Produced;
use super::{
    CommandRecord, CommitError, DocChange, Group, ProjectionEntry, RebuildMode, Storage,
    StoredEvent,
};
use crate::durability::Durability;
use crate::envelope::LogHead;
use crate::error::{Error, Result};
use crate::projection::{Cursor, Dim, DocRecord};

mod access;
mod commit;
mod contents;
#[cfg(any(test, feature = "fault-injection"))]
mod drills;
mod legacy;
mod log;
mod outbox;
mod projections;
mod rebuild;

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
    /// The notification outbox (`outbox.rs`), in a sled database of its own under
    /// `outbox/` (its writes are never synced with the commits'), and the lock its changes
    /// are made under.
    outbox: sled::Tree,
    outbox_lock: Mutex<()>,
    stable: StableFiles,
    /// Where files are kept by digest (`contents.rs`).
    contents: std::path::PathBuf,
    /// Who uploaded each kept file: `digest \0 actor` keys (`contents.rs`).
    uploads: sled::Tree,
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
/// then the hash, as the log writes it.
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

/// The projection trees, as [`Projections::dump_projections`] names them.
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
            contents: contents::content_dir(path),
            uploads: t("uploads")?,
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
            outbox: outbox::open(path)?,
            outbox_lock: Mutex::new(()),
            rebuild: Mutex::new(None),
            #[cfg(any(test, feature = "fault-injection"))]
            faults: faults_for(path),
            units: t("units")?,
            db,
        };
        storage.sweep_spool();
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
    fn record(&self, id: DocumentId, bytes: &[u8]) -> Result<DocRecord> {
        let mut bytes = bytes.to_vec();
        let mut attempts = 0;
        let at = format!("document {id}");
        loop {
            let stored = layout::read_record(&at, &bytes)?;
            let content_bytes = self.parts.get(content_key(id)).db()?;
            let content = match &content_bytes {
                Some(v) => Some(layout::read_content(&at, v)?),
                None => None,
            };
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
                opinions.push(v);
            }
            if opinions.len() != stored.opinions {
                return Err(Error::corrupt(
                    &at,
                    format!(
                        "the record has {} opinions, the first {} are stored",
                        stored.opinions,
                        opinions.len()
                    ),
                ));
            }
            let opinions: Vec<&[u8]> = opinions.iter().map(|v| v.as_ref()).collect();
            let state = layout::splice(&at, &stored, content.as_ref(), &opinions)?;
            let revision = state.content_revision();
            if let Some(c) = &content
                && c.revision != revision
            {
                attempts += 1;
                match self.docs.get(id.0.as_bytes()).db()? {
                    Some(v) if attempts < 5 => {
                        bytes = v.to_vec();
                        continue;
                    }
                    _ => {
                        return Err(Error::corrupt(
                            &at,
                            format!(
                                "the record is at content revision {revision}, its stored content at {}",
                                c.revision
                            ),
                        ));
                    }
                }
            }
            return Ok(DocRecord {
                drafted_position: stored.drafted_position,
                state,
                started_by: stored.started_by,
                acted: stored.acted,
            });
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

/// One entry of a tree: key and value.
type KeyValue = (Vec<u8>, Vec<u8>);

/// A change's record as the `docs` tree keeps it (without its parts), and the entries of
/// its parts the store does not hold yet, for the `parts` tree (see [`layout`]).
fn record_entries(change: &DocChange) -> Result<(Vec<u8>, Vec<KeyValue>)> {
    let id = change.record.id();
    let revision = change.record.state.content_revision();
    let with_content = change.stored.content_revision != Some(revision);
    let laid = layout::lay_out(&change.record, with_content, change.stored.opinions)?;
    let mut entries = Vec::new();
    if let Some(content) = &laid.content {
        entries.push((
            content_key(id).to_vec(),
            layout::content_entry(revision, content)?,
        ));
    }
    for (n, opinion) in laid.opinions {
        entries.push((opinion_key(id, n).to_vec(), opinion));
    }
    Ok((laid.record, entries))
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
    use workflow_core::FlowState;
    use workflow_core::outgoing::Action;
    use workflow_testkit::engine::{drive, open};

    use crate::storage::PartsStored;

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
        let read = storage.record(id, &stale_record).unwrap();
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

    /// Sample states of every flow with parts, at several points of their flows, and how
    /// much of their parts the store held before: the states the layout test writes.
    fn layout_samples() -> Vec<(String, DocRecord, PartsStored)> {
        use workflow_testkit::incoming::{ReceiptScript, incoming_sample, instruct_flow};
        use workflow_testkit::submission::MemoScript;
        use workflow_testkit::supervision::ItemScript;
        let mut out = Vec::new();
        let mut push = |name: &str, state: FlowState, stored: PartsStored| {
            out.push((name.to_owned(), DocRecord::of(7, state), stored));
        };
        let fresh = PartsStored::default();
        let held = |revision, opinions| PartsStored {
            content_revision: Some(revision),
            opinions,
        };
        let mut doc = workflow_testkit::script::Script::new();
        doc.steps(0, 3);
        push("outgoing-3", FlowState::Outgoing(doc.doc().clone()), fresh);
        push(
            "outgoing-3-held",
            FlowState::Outgoing(doc.doc().clone()),
            held(1, 1),
        );
        let steps = workflow_testkit::full_flow().len();
        doc.steps(3, steps);
        push(
            "outgoing-archived",
            FlowState::Outgoing(doc.doc().clone()),
            held(1, 3),
        );
        let mut receipt = ReceiptScript::with_directory(workflow_testkit::directory());
        let flow = instruct_flow(&incoming_sample(), "J012");
        for (actor, action) in flow {
            receipt.ok(actor.as_str(), action);
        }
        push(
            "incoming-archived",
            FlowState::Incoming(receipt.current().clone()),
            held(1, 2),
        );
        let mut item = ItemScript::with_directory(workflow_testkit::directory());
        item.steps(0, 9);
        push(
            "supervision-archived",
            FlowState::Supervision(item.item().clone()),
            fresh,
        );
        let mut memo = MemoScript::with_directory(workflow_testkit::directory());
        memo.steps(0, 10);
        push(
            "submission-archived",
            FlowState::Submission(memo.memo().clone()),
            fresh,
        );
        // A record that names who started it and who acted (projection layout 7); the
        // others, laid out before, name nobody and read back so.
        let mut named = workflow_testkit::script::Script::new();
        named.steps(0, 3);
        out.push((
            "outgoing-3-named".to_owned(),
            DocRecord {
                started_by: Some("wang.fang".into()),
                acted: vec!["wang.fang".into(), "li.qiang".into()],
                ..DocRecord::of(7, FlowState::Outgoing(named.doc().clone()))
            },
            PartsStored::default(),
        ));
        out
    }

    /// What the sled layout writes for a record: the `docs` value and the `parts` entries.
    fn layout_of(record: &DocRecord, stored: PartsStored) -> serde_json::Value {
        let change = DocChange {
            record: record.clone(),
            diff: Default::default(),
            stored,
        };
        let (bytes, entries) = record_entries(&change).unwrap();
        serde_json::json!({
            "record": String::from_utf8(bytes).unwrap(),
            "parts": entries
                .into_iter()
                .map(|(k, v)| (hex::encode(k), String::from_utf8(v).unwrap()))
                .collect::<Vec<_>>(),
        })
    }

    /// The bytes the layout writes are pinned (`tests/data/sled-layout.json`): a store a
    /// build wrote reads the same under the next, and a rebuild in place finds its records
    /// already right. `WORKFLOW_PIN_LAYOUT=1` writes the file again (only for a new flow or
    /// a deliberate layout change, with a new `PROJECTION_VERSION`).
    #[test]
    fn the_bytes_a_record_is_written_as_are_pinned() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sled-layout.json");
        let now: serde_json::Map<String, serde_json::Value> = layout_samples()
            .into_iter()
            .map(|(name, record, stored)| (name, layout_of(&record, stored)))
            .collect();
        if std::env::var_os("WORKFLOW_PIN_LAYOUT").is_some() {
            std::fs::write(&path, serde_json::to_string_pretty(&now).unwrap()).unwrap();
        }
        let pinned: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for (name, layout) in &now {
            assert_eq!(Some(layout), pinned.get(name), "{name}");
        }
        assert_eq!(now.len(), pinned.len());
    }

    /// Every sample read back from its laid-out bytes is the state written; without its
    /// content, a record of a flow that has one is corrupt, never a state without it.
    #[test]
    fn a_record_laid_out_reads_back_whole_and_never_without_its_content() {
        for (name, record, _) in layout_samples() {
            let change = DocChange {
                record: record.clone(),
                diff: Default::default(),
                stored: PartsStored::default(),
            };
            let (bytes, entries) = record_entries(&change).unwrap();
            let stored = layout::read_record("test", &bytes).unwrap();
            let id = record.id();
            let content = entries
                .iter()
                .find(|(k, _)| k.as_slice() == content_key(id).as_slice())
                .map(|(_, v)| v.clone());
            let content = content
                .as_deref()
                .map(|v| layout::read_content("test", v).unwrap());
            let opinions: Vec<&[u8]> = entries
                .iter()
                .filter(|(k, _)| k.starts_with(&opinion_prefix(id)))
                .map(|(_, v)| v.as_slice())
                .collect();
            assert_eq!(opinions.len(), stored.opinions, "{name}");
            let state = layout::splice("test", &stored, content.as_ref(), &opinions).unwrap();
            assert_eq!(state, record.state, "{name}");
            if record.state.content_field().is_some() {
                match layout::splice("test", &stored, None, &opinions) {
                    Err(Error::Corrupt { reason, .. }) => {
                        assert!(reason.contains("content is missing"), "{name}: {reason}");
                    }
                    other => panic!("{name}: expected Corrupt, got {other:?}"),
                }
            }
        }
    }

    /// Every record a store holds reads back after a reopen, those of streams without parts
    /// (the directory, whose state has no `id` member) among them.
    #[tokio::test]
    async fn every_record_reads_back_after_a_reopen_the_directory_s_too() {
        let dir = tempfile::tempdir().unwrap();
        let engine = open(dir.path()).await;
        let id = drive(&engine, 3).await;
        drop(engine);
        let storage = SledStorage::open(dir.path(), 16 << 20, false, Durability::Strict).unwrap();
        let records = storage.docs_after(None, 1000).unwrap();
        assert!(
            records
                .iter()
                .any(|r| r.state.kind() == workflow_core::StreamKind::Directory),
            "the directory's record is among them"
        );
        assert!(records.iter().any(|r| r.id() == id));
        for r in &records {
            assert_eq!(storage.doc(r.id()).unwrap().as_ref(), Some(r));
        }
    }
}
