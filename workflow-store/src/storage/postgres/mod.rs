//! The PostgreSQL backend (DESIGN §8): the same engine past one machine, on an existing,
//! trusted database.
//!
//! | table | key | value |
//! |---|---|---|
//! | `wf_log` | `position` (gapless, commit-ordered), `UNIQUE (stream_id, version)` | stored envelope |
//! | `wf_head` | one row, locked by every commit | the recorded head |
//! | `wf_commands` | command id (`COLLATE "C"`) | [`CommandRecord`] JSON |
//! | `wf_docs` | stream id | [`DocRecord`] JSON |
//! | `wf_lists`, `wf_inbox` | the same sortable `bytea` keys as sled's trees (`storage/keys.rs`) | |
//! | `wf_numbers` | series + number | stream id |
//! | `wf_actors`, `wf_units` | id | JSON |
//! | `wf_access` | access-log position | stored entry |
//! | `wf_meta` | `schema`, `projection_layout`, `rebuilding`, `access-head` | |
//!
//! **Positions stay gapless and commit-ordered across processes**: a commit first locks the
//! head row (`SELECT … FOR UPDATE`), so commits are serialized by the database; it then checks
//! that its first position follows the log's end and each stream's first version follows the
//! stream's last (`CommitError::Conflict` otherwise: another process appended first), and
//! writes events, projections, command records, numbers and the head in the same
//! transaction. Sequences are never used: a rolled-back `nextval` leaves a gap.
//!
//! **Several processes**: the engine's writer asks [`Storage::shared`] and reads the log's
//! end before deciding each group; a commit that finds another process's events first is
//! decided again. Every commit sends `NOTIFY workflow_commits` (delivered when it commits),
//! and each storage keeps one connection of its own listening, so that live subscribers and
//! the directory of the other processes follow within milliseconds.
//!
//! **Durable means committed with `synchronous_commit = on`**: every session sets it, and
//! opening refuses a server running with `fsync = off` unless told otherwise
//! ([`PostgresOptions::allow_fsync_off`]).
//!
//! The [`Storage`] interface is synchronous (the engine's writer is a thread); this backend
//! runs `tokio-postgres` on a small runtime of its own and waits for each call on a plain
//! channel, so it may be called from any thread, inside an async runtime or not.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use serde::{Deserialize, Serialize};
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};
use uuid::Uuid;
use workflow_core::{
    DocumentId, Timestamp, directory::Actor, directory::Unit, numbering::Series, todo::Assignee,
};

use super::keys::head_value;
use super::keys::{
    DUE_PREFIX, IndexTree, cursor_from_suffix, dim_from_prefix, dim_prefix, index_key, series_key,
    series_prefix, sortable_instant,
};
use super::prelude::*;
use super::produced::Produced;
use super::{
    CommandRecord, CommitError, ForeignCommits, Group, ProjectionEntry, RebuildMode, Storage,
    StoredEvent,
};
use crate::durability::Durability;
use crate::envelope::LogHead;
use crate::error::{Error, Result};
use crate::projection::{Cursor, Dim, DocRecord};

mod access;
mod commit;
#[cfg(any(test, feature = "fault-injection"))]
mod drills;
mod legacy;
mod log;
mod projections;
mod rebuild;
mod writers;

/// The schema version this build writes; `workflow migrate` and every open apply the
/// migrations up to it, and a database of a newer version is refused.
pub const SCHEMA_VERSION: u32 = 1;

/// The migrations, in order: `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[r#"
CREATE TABLE wf_meta (key text COLLATE "C" PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE wf_head (id int PRIMARY KEY CHECK (id = 1), position bigint, hash text);
INSERT INTO wf_head (id) VALUES (1);
CREATE TABLE wf_log (
    position bigint PRIMARY KEY CHECK (position > 0),
    stream_id uuid NOT NULL,
    version bigint NOT NULL CHECK (version > 0),
    bytes bytea NOT NULL,
    UNIQUE (stream_id, version)
);
CREATE TABLE wf_commands (command_id text COLLATE "C" PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE wf_docs (stream_id uuid PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE wf_lists (key bytea PRIMARY KEY);
CREATE TABLE wf_inbox (key bytea PRIMARY KEY);
CREATE TABLE wf_numbers (key bytea PRIMARY KEY, stream_id uuid NOT NULL);
CREATE TABLE wf_actors (id text COLLATE "C" PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE wf_units (id text COLLATE "C" PRIMARY KEY, value bytea NOT NULL);
CREATE TABLE wf_access (position bigint PRIMARY KEY CHECK (position > 0), bytes bytea NOT NULL);
"#];

/// A key of `pg_advisory_xact_lock` taken while migrating, so that processes starting
/// together apply each migration once.
const MIGRATION_LOCK: i64 = 0x6777_6f72_6b66_6c6f; // "gworkflo"

/// The projection tables, as [`Projections::dump_projections`] names them (the sled trees'
/// names, so that a copy between backends compares entry for entry).
const PROJECTIONS: [&str; 5] = ["commands", "docs", "lists", "inbox", "numbers"];

/// The channel every commit notifies, with the committing storage's token and the log's new
/// end as payload.
const NOTIFY_CHANNEL: &str = "workflow_commits";

const REBUILDING: &str = "rebuilding";
const PROJECTION_LAYOUT: &str = "projection_layout";
const ACCESS_HEAD: &str = "access-head";

/// How to use the database.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    /// Connections in the pool.
    pub pool_size: usize,
    /// `Relaxed` commits groups with `synchronous_commit = off`: a crash of the database
    /// server may lose the last groups (never corrupt them).
    pub durability: Durability,
    /// Accept a server running with `fsync = off` (it may lose or corrupt acknowledged
    /// commits on a crash). Only for throwaway test clusters; never in production.
    pub allow_fsync_off: bool,
}

impl Default for PostgresOptions {
    fn default() -> Self {
        PostgresOptions {
            pool_size: 8,
            durability: Durability::Strict,
            allow_fsync_off: false,
        }
    }
}

/// The PostgreSQL backend.
pub struct PostgresStorage {
    /// Taken on drop (shut down in the background: dropping a runtime inside another
    /// runtime's task would panic).
    rt: Option<tokio::runtime::Runtime>,
    pool: Pool,
    /// The URL without its password, for messages.
    shown: String,
    durability: Durability,
    rebuild: Mutex<Option<Produced>>,
    /// For the listening connection (the pool's connections cannot receive notifications).
    config: tokio_postgres::Config,
    /// Names this storage's own commits in their notifications, which it then ignores.
    token: String,
    /// Who is told of other processes' commits; the listener starts with the first.
    foreign: Arc<Mutex<Option<ForeignCommits>>>,
    listening: std::sync::atomic::AtomicBool,
    /// A transaction holding the head-row lock for this writer's next commit.
    held: Mutex<Option<tokio::sync::oneshot::Sender<HeldCommit>>>,
    /// The schema version the database had when this opened it (0: none yet), before the
    /// migrations opening applies.
    schema_at_open: std::sync::atomic::AtomicU32,
}

/// What a held transaction is given to finish: the group, whether relaxed, and where to
/// answer.
type HeldCommit = (
    Group,
    bool,
    std::sync::mpsc::SyncSender<std::result::Result<(), CommitError>>,
);

impl Drop for PostgresStorage {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl std::fmt::Debug for PostgresStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStorage")
            .field("database", &self.shown)
            .finish_non_exhaustive()
    }
}

/// A database failure in the store's terms: lost connections, shutdowns and lack of
/// resources are `Unavailable` (a retry may help); the rest are bugs.
fn from_pg(e: tokio_postgres::Error) -> Error {
    let transient = e.code().is_none_or(|c| {
        let class = &c.code()[..2];
        matches!(class, "08" | "53" | "57" | "40" | "58")
    });
    if transient {
        Error::Unavailable {
            reason: format!("PostgreSQL: {e}"),
        }
    } else {
        Error::Internal {
            reason: format!("PostgreSQL: {e}"),
        }
    }
}

fn from_pool(e: deadpool_postgres::PoolError) -> Error {
    match e {
        deadpool_postgres::PoolError::Backend(e) => from_pg(e),
        other => Error::Unavailable {
            reason: format!("PostgreSQL pool: {other}"),
        },
    }
}

/// `?` on a database result.
trait PgResultExt<T> {
    fn db(self) -> Result<T>;
}

impl<T> PgResultExt<T> for std::result::Result<T, tokio_postgres::Error> {
    fn db(self) -> Result<T> {
        self.map_err(from_pg)
    }
}

fn json<T: Serialize>(v: &T) -> Vec<u8> {
    // Plain data types serialize infallibly.
    serde_json::to_vec(v).unwrap_or_default()
}

fn parse<T: for<'de> Deserialize<'de>>(at: impl std::fmt::Display, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| Error::corrupt(at, e))
}

/// A state record as this backend stores it: whole, with its content and opinions. One
/// without its content is corrupt (reading fills a missing content in with a stand-in, for
/// the backends that keep it apart). A missing opinions list is not noticed here: it reads
/// as none, as it did before the parts were kept apart.
fn whole_record(id: DocumentId, bytes: &[u8]) -> Result<DocRecord> {
    let record: DocRecord = parse(format_args!("document {id}"), bytes)?;
    if !record.state.holds_content() {
        return Err(Error::corrupt(
            format_args!("document {id}"),
            "the record has no content",
        ));
    }
    Ok(record)
}

fn pos(p: u64) -> i64 {
    i64::try_from(p).unwrap_or(i64::MAX)
}

fn unpos(p: i64) -> u64 {
    u64::try_from(p).unwrap_or(0)
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The URL with its password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// The index writes of a group, last one per key winning (as in a sled batch).
#[derive(Default)]
struct IndexWrites {
    lists: BTreeMap<Vec<u8>, bool>,
    inbox: BTreeMap<Vec<u8>, bool>,
}

impl IndexWrites {
    fn put(&mut self, (tree, key): (IndexTree, Vec<u8>), add: bool) {
        match tree {
            IndexTree::Lists => self.lists.insert(key, add),
            IndexTree::Inbox => self.inbox.insert(key, add),
        };
    }

    /// A commit's index writes: the last write of each key wins (as in a sled batch).
    fn of(group: &Group) -> IndexWrites {
        let mut w = IndexWrites::default();
        for change in &group.docs {
            let order = change.record.order();
            for (entries, add) in [(&change.diff.remove, false), (&change.diff.add, true)] {
                for entry in entries {
                    w.put(index_key(entry, order), add);
                }
            }
        }
        w
    }

    /// A rebuild's index writes: every removal, then every addition (as the sled
    /// backend converges).
    fn apart(group: &Group) -> (IndexWrites, IndexWrites) {
        let (mut removals, mut additions) = (IndexWrites::default(), IndexWrites::default());
        for change in &group.docs {
            let order = change.record.order();
            for entry in &change.diff.remove {
                removals.put(index_key(entry, order), false);
            }
            for entry in &change.diff.add {
                additions.put(index_key(entry, order), true);
            }
        }
        (removals, additions)
    }

    fn split(map: BTreeMap<Vec<u8>, bool>) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let (add, remove): (Vec<_>, Vec<_>) = map.into_iter().partition(|(_, add)| *add);
        (
            remove.into_iter().map(|(k, _)| k).collect(),
            add.into_iter().map(|(k, _)| k).collect(),
        )
    }
}

/// The rows a group writes to the keyed projection tables, one per key (the last wins).
struct Rows {
    command_ids: Vec<String>,
    commands: Vec<Vec<u8>>,
    doc_ids: Vec<Uuid>,
    docs: Vec<Vec<u8>>,
    number_keys: Vec<Vec<u8>>,
    number_streams: Vec<Uuid>,
}

impl Rows {
    fn of(group: &Group) -> Rows {
        let commands: BTreeMap<&str, Vec<u8>> = group
            .commands
            .iter()
            .map(|(id, rec)| (id.as_str(), json(rec)))
            .collect();
        let docs: BTreeMap<Uuid, Vec<u8>> = group
            .docs
            .iter()
            .map(|c| (c.record.id().0, json(&c.record)))
            .collect();
        let numbers: BTreeMap<Vec<u8>, Uuid> = group
            .numbers
            .iter()
            .map(|(s, n, id)| (series_key(s, *n), id.0))
            .collect();
        let (command_ids, commands) = commands.into_iter().map(|(k, v)| (k.to_owned(), v)).unzip();
        let (doc_ids, docs) = docs.into_iter().unzip();
        let (number_keys, number_streams) = numbers.into_iter().unzip();
        Rows {
            command_ids,
            commands,
            doc_ids,
            docs,
            number_keys,
            number_streams,
        }
    }
}

impl PostgresStorage {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db`), applies
    /// the schema's migrations and checks that the server keeps what it acknowledges.
    pub fn open(url: &str, options: &PostgresOptions) -> Result<Self> {
        let shown = redact(url);
        let bad_url = |reason: String| Error::InvalidRequest {
            field: "store",
            reason,
        };
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| bad_url(format!("{shown} is not a PostgreSQL URL: {e}")))?;
        // Every session commits durably (relaxed durability lowers it per commit), and a
        // session left idle inside a transaction — a server that vanished while holding the
        // head-row lock — is ended by the database after a minute, so the other servers'
        // commits do not wait on it for longer.
        config.options("-c synchronous_commit=on -c idle_in_transaction_session_timeout=60s");
        // A dead peer is noticed in seconds, not after the system's two-hour keepalive.
        config
            .keepalives(true)
            .keepalives_idle(std::time::Duration::from_secs(10))
            .keepalives_interval(std::time::Duration::from_secs(5))
            .keepalives_retries(3)
            .tcp_user_timeout(std::time::Duration::from_secs(30));
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("workflow");
        }
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            // Two at least: a writer holding the head row decides with reads on another.
            .max_size(options.pool_size.max(2))
            .build()
            .map_err(|e| Error::Internal {
                reason: format!("PostgreSQL pool: {e}"),
            })?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("workflow-postgres")
            .enable_all()
            .build()
            .map_err(|e| Error::Unavailable {
                reason: format!("cannot start the PostgreSQL runtime: {e}"),
            })?;
        let storage = PostgresStorage {
            rt: Some(rt),
            pool,
            shown,
            durability: options.durability,
            rebuild: Mutex::new(None),
            config,
            token: Uuid::new_v4().simple().to_string(),
            foreign: Arc::new(Mutex::new(None)),
            listening: std::sync::atomic::AtomicBool::new(false),
            held: Mutex::new(None),
            schema_at_open: std::sync::atomic::AtomicU32::new(0),
        };
        storage.check_server(options.allow_fsync_off)?;
        let found = storage.migrate()?;
        storage
            .schema_at_open
            .store(found, std::sync::atomic::Ordering::Relaxed);
        Ok(storage)
    }

    fn runtime(&self) -> Result<&tokio::runtime::Runtime> {
        self.rt.as_ref().ok_or(Error::Closed)
    }

    /// Runs `f` on the backend's runtime and waits for it, from any thread.
    fn run<T, F>(&self, f: impl FnOnce(Pool) -> F) -> Result<T>
    where
        T: Send + 'static,
        F: Future<Output = Result<T>> + Send + 'static,
    {
        let fut = f(self.pool.clone());
        if tokio::runtime::Handle::try_current().is_err() {
            return self.runtime()?.block_on(fut);
        }
        // Inside another runtime, blocking on this one would panic: hand the call over,
        // and wait telling a multi-threaded caller runtime that this worker blocks (its other
        // tasks move to other workers meanwhile instead of waiting behind the round trip).
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.runtime()?.spawn(async move {
            let _ = tx.send(fut.await);
        });
        let wait = || {
            rx.recv().map_err(|_| Error::Internal {
                reason: "the PostgreSQL task stopped before answering".into(),
            })
        };
        let multi_threaded = tokio::runtime::Handle::try_current()
            .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
        if multi_threaded {
            tokio::task::block_in_place(wait)?
        } else {
            wait()?
        }
    }

    fn check_server(&self, allow_fsync_off: bool) -> Result<()> {
        let shown = self.shown.clone();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(from_pool)?;
            let fsync: String = c.query_one("SHOW fsync", &[]).await.db()?.get(0);
            if fsync != "on" && !allow_fsync_off {
                return Err(Error::NotAStore {
                    path: PathBuf::from(shown),
                    reason: "the server runs with fsync = off: a crash may lose or corrupt \
                             acknowledged commits (set allow_fsync_off only for a throwaway \
                             test cluster)"
                        .into(),
                });
            }
            Ok(())
        })
    }

    /// Applies the schema's migrations up to [`SCHEMA_VERSION`] (once, whatever the
    /// processes starting together); returns the version found before. A database of a
    /// newer schema is refused.
    pub fn migrate(&self) -> Result<u32> {
        self.migrate_now()
    }

    /// The schema version the database had when it was opened here (0 for an empty
    /// database), before opening applied this build's migrations.
    pub fn schema_at_open(&self) -> u32 {
        self.schema_at_open
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn migrate_now(&self) -> Result<u32> {
        let shown = self.shown.clone();
        self.run(move |pool| async move {
            let mut c = pool.get().await.map_err(from_pool)?;
            let tx = c.transaction().await.db()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
                .await
                .db()?;
            let exists: bool = tx
                .query_one("SELECT to_regclass('wf_meta') IS NOT NULL", &[])
                .await
                .db()?
                .get(0);
            let found = if exists {
                let row = tx
                    .query_opt("SELECT value FROM wf_meta WHERE key = 'schema'", &[])
                    .await
                    .db()?;
                match row {
                    Some(r) => {
                        let v: Vec<u8> = r.get(0);
                        let v: [u8; 4] = v.as_slice().try_into().map_err(|_| {
                            Error::corrupt("schema version", "expected 4 bytes")
                        })?;
                        u32::from_be_bytes(v)
                    }
                    None => 0,
                }
            } else {
                0
            };
            if found > SCHEMA_VERSION {
                return Err(Error::NotAStore {
                    path: PathBuf::from(shown),
                    reason: format!(
                        "it was written by a newer build (schema {found}; this build reads up to {SCHEMA_VERSION})"
                    ),
                });
            }
            for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
                tx.batch_execute(sql).await.db()?;
                tracing::info!(to = i + 1, "applied a PostgreSQL schema migration");
            }
            if found < SCHEMA_VERSION {
                tx.execute(
                    "INSERT INTO wf_meta (key, value) VALUES ('schema', $1) \
                     ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                    &[&SCHEMA_VERSION.to_be_bytes().to_vec()],
                )
                .await
                .db()?;
            }
            tx.commit().await.db()?;
            Ok(found)
        })
    }

    /// Runs one query on a pooled connection, through its statement cache.
    fn query(&self, sql: impl Into<String>, params: Vec<Param>) -> Result<Vec<Row>> {
        let sql = sql.into();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(from_pool)?;
            let statement = c.prepare_cached(&sql).await.db()?;
            c.query(&statement, &refs(&params)).await.db()
        })
    }

    /// Runs one query that gives at most one row.
    fn query_opt(&self, sql: impl Into<String>, params: Vec<Param>) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Runs one statement; returns the rows it changed.
    fn execute(&self, sql: impl Into<String>, params: Vec<Param>) -> Result<u64> {
        let sql = sql.into();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(from_pool)?;
            let statement = c.prepare_cached(&sql).await.db()?;
            c.execute(&statement, &refs(&params)).await.db()
        })
    }

    fn get_meta(&self, key: &'static str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .query_opt("SELECT value FROM wf_meta WHERE key = $1", vec![param(key)])?
            .map(|r| r.get(0)))
    }

    fn set_meta(&self, key: &'static str, value: Option<Vec<u8>>) -> Result<()> {
        match value {
            Some(v) => self.execute(
                "INSERT INTO wf_meta (key, value) VALUES ($1, $2) \
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                vec![param(key), param(v)],
            )?,
            None => self.execute("DELETE FROM wf_meta WHERE key = $1", vec![param(key)])?,
        };
        Ok(())
    }

    /// Up to `limit` keys of a keys-only table in `[start, end)`, last first with `desc`.
    fn scan_keys(
        &self,
        table: &'static str,
        (start, end): (Vec<u8>, Vec<u8>),
        limit: usize,
        desc: bool,
    ) -> Result<Vec<Vec<u8>>> {
        let order = if desc { "DESC" } else { "" };
        Ok(self
            .query(
                format!(
                    "SELECT key FROM {table} WHERE key >= $1 AND key < $2 \
                     ORDER BY key {order} LIMIT $3"
                ),
                vec![param(start), param(end), param(self::limit(limit))],
            )?
            .into_iter()
            .map(|r| r.get(0))
            .collect())
    }

    fn scan(
        &self,
        table: &'static str,
        prefix: Vec<u8>,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<Cursor>> {
        let mut start = prefix.clone();
        if let Some(c) = after {
            start.extend_from_slice(&super::keys::order_suffix(c));
            start.push(0); // strictly after
        }
        let mut end = prefix.clone();
        end.push(0xff);
        self.scan_keys(table, (start, end), limit, false)?
            .iter()
            .map(|k| {
                cursor_from_suffix(&k[prefix.len()..])
                    .ok_or_else(|| Error::corrupt("index", "malformed key"))
            })
            .collect()
    }

    fn read_directory<T: for<'de> Deserialize<'de>>(&self, table: &'static str) -> Result<Vec<T>> {
        self.query(format!("SELECT id, value FROM {table} ORDER BY id"), vec![])?
            .iter()
            .map(|r| {
                let (id, v): (String, Vec<u8>) = (r.get(0), r.get(1));
                parse(format_args!("{table} {id}"), &v)
            })
            .collect()
    }

    /// Stored events (or access-log entries): `position, bytes` rows.
    fn stored(&self, sql: &'static str, params: Vec<Param>) -> Result<Vec<StoredEvent>> {
        Ok(self
            .query(sql, params)?
            .into_iter()
            .map(|r| StoredEvent {
                position: unpos(r.get(0)),
                bytes: r.get(1),
            })
            .collect())
    }

    /// Every entry of one projection table, in key order, as sled stores it.
    fn dump_part(&self, part: &'static str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let (table, key_col, value_col) = projection_table(part)?;
        let sql = match value_col {
            Some(v) => format!("SELECT {key_col}, {v} FROM {table} ORDER BY {key_col}"),
            None => format!("SELECT {key_col} FROM {table} ORDER BY {key_col}"),
        };
        Ok(self
            .query(sql, vec![])?
            .iter()
            .map(|r| row_bytes(part, r))
            .collect())
    }

    /// Removes entries of one projection table, given by their keys as
    /// [`Projections::dump_projections`] names them; returns how many were there.
    fn delete_keys(&self, part: &str, keys: Vec<Vec<u8>>) -> Result<u64> {
        let (table, key_col, _) = projection_table(part)?;
        if keys.is_empty() {
            return Ok(0);
        }
        let bad = || Error::corrupt(format_args!("{part} key"), "malformed");
        let (keys, ty): (Param, &str) = match part {
            "commands" => (
                param(
                    keys.into_iter()
                        .map(|k| String::from_utf8(k).map_err(|_| bad()))
                        .collect::<Result<Vec<_>>>()?,
                ),
                "text",
            ),
            "docs" => (
                param(
                    keys.iter()
                        .map(|k| Uuid::from_slice(k).map_err(|_| bad()))
                        .collect::<Result<Vec<_>>>()?,
                ),
                "uuid",
            ),
            _ => (param(keys), "bytea"),
        };
        self.execute(
            format!("DELETE FROM {table} WHERE {key_col} = ANY($1::{ty}[])"),
            vec![keys],
        )
    }
}

/// A query parameter that can cross to the backend's runtime.
type Param = Box<dyn ToSql + Send + Sync>;

fn param<T: ToSql + Send + Sync + 'static>(v: T) -> Param {
    Box::new(v)
}

fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

/// A transaction on a pooled connection (whose statement cache it uses).
type Tx<'a> = deadpool_postgres::Transaction<'a>;

/// A statement's future, for running several at once.
type Pending<'a, T> = std::pin::Pin<
    Box<dyn Future<Output = std::result::Result<T, tokio_postgres::Error>> + Send + 'a>,
>;

/// Runs a statement through the connection's statement cache (prepared once per
/// connection, not once per call: each preparation is a round trip).
async fn exec(
    tx: &Tx<'_>,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> std::result::Result<u64, tokio_postgres::Error> {
    let statement = tx.prepare_cached(sql).await?;
    tx.execute(&statement, params).await
}

/// Runs statements together: each is prepared first (from the cache), then all are sent
/// at once and their answers awaited together — one round trip, not one each.
/// PostgreSQL runs them in the order given.
async fn pipelined<'a, T>(
    tx: &'a Tx<'a>,
    statements: Vec<(&'a str, Vec<&'a (dyn ToSql + Sync)>)>,
    run: impl Fn(&'a Tx<'a>, tokio_postgres::Statement, Vec<&'a (dyn ToSql + Sync)>) -> Pending<'a, T>,
) -> std::result::Result<Vec<T>, tokio_postgres::Error> {
    let prepared =
        futures::future::try_join_all(statements.iter().map(|(sql, _)| tx.prepare_cached(sql)))
            .await?;
    futures::future::try_join_all(
        prepared
            .into_iter()
            .zip(statements)
            .map(|(statement, (_, params))| run(tx, statement, params)),
    )
    .await
}

/// Begins a commit's transaction and takes the head-row lock, which serializes the commits
/// of every process: positions are assigned in commit order and stay gapless.
async fn lock_head(c: &mut deadpool_postgres::Object) -> std::result::Result<Tx<'_>, CommitError> {
    let tx = c
        .transaction()
        .await
        .map_err(|e| CommitError::NotWritten(from_pg(e)))?;
    exec(&tx, LOCK_HEAD, &[])
        .await
        .map_err(|e| CommitError::NotWritten(from_pg(e)))?;
    Ok(tx)
}

const LOCK_HEAD: &str = "SELECT 1 FROM wf_head WHERE id = 1 FOR UPDATE";

/// One group commit: lock the head row, check, write, commit.
async fn commit_group(
    pool: Pool,
    group: &Group,
    relaxed: bool,
    token: &str,
) -> std::result::Result<(), CommitError> {
    let mut c = pool
        .get()
        .await
        .map_err(|e| CommitError::NotWritten(from_pool(e)))?;
    let tx = lock_head(&mut c).await?;
    finish_commit(tx, group, relaxed, token).await
}

/// Checks and writes a group in a transaction that holds the head-row lock, and commits.
async fn finish_commit(
    tx: Tx<'_>,
    group: &Group,
    relaxed: bool,
    token: &str,
) -> std::result::Result<(), CommitError> {
    if relaxed {
        tx.batch_execute("SET LOCAL synchronous_commit TO off")
            .await
            .map_err(|e| CommitError::NotWritten(from_pg(e)))?;
    }
    check_group(&tx, group).await?;
    write_group(&tx, group, token)
        .await
        .map_err(|e| CommitError::NotWritten(from_pg(e)))?;
    // Once COMMIT is sent, a lost answer leaves the outcome unknown.
    tx.commit()
        .await
        .map_err(|e| CommitError::NotDurable(from_pg(e)))
}

const CHECK_POSITION: &str = "SELECT count(*) FILTER (WHERE position = $1), \
                                     count(*) FILTER (WHERE position = $1 - 1) \
                              FROM wf_log WHERE position IN ($1, $1 - 1)";
const CHECK_STREAMS: &str = "SELECT s.id, s.v, \
       EXISTS (SELECT 1 FROM wf_log l WHERE l.stream_id = s.id AND l.version = s.v), \
       s.v = 1 OR EXISTS (SELECT 1 FROM wf_log l \
                          WHERE l.stream_id = s.id AND l.version = s.v - 1) \
     FROM UNNEST($1::uuid[], $2::bigint[]) AS s(id, v)";
const CHECK_COMMANDS: &str = "SELECT command_id FROM wf_commands WHERE command_id = ANY($1)";
const CHECK_NUMBERS: &str = "SELECT n.key, n.stream_id FROM wf_numbers n \
     JOIN UNNEST($1::bytea[], $2::uuid[]) AS g(key, id) ON g.key = n.key \
     WHERE n.stream_id <> g.id";

/// The group's expectations, checked together (one round trip) inside the commit's
/// transaction, which holds the head-row lock: the log ends right before the group's first
/// event; each stream ends right before the group's first event of it; no command id it
/// records is used already; no number it draws is held by another stream.
async fn check_group(tx: &Tx<'_>, group: &Group) -> std::result::Result<(), CommitError> {
    let first = group.envelopes.first().map_or(0, |e| pos(e.position));
    let mut starts: Vec<(Uuid, i64)> = Vec::new();
    for e in &group.envelopes {
        if !starts.iter().any(|(id, _)| *id == e.stream_id.0) {
            starts.push((e.stream_id.0, pos(e.version)));
        }
    }
    let (ids, versions): (Vec<Uuid>, Vec<i64>) = starts.iter().copied().unzip();
    let command_ids: Vec<&str> = group.commands.iter().map(|(id, _)| id.as_str()).collect();
    let numbers: BTreeMap<Vec<u8>, Uuid> = group
        .numbers
        .iter()
        .map(|(s, n, id)| (series_key(s, *n), id.0))
        .collect();
    let (number_keys, number_streams): (Vec<Vec<u8>>, Vec<Uuid>) = numbers.into_iter().unzip();
    let mut statements: Vec<(&str, Vec<&(dyn ToSql + Sync)>)> = Vec::new();
    let mut what = Vec::new();
    if first > 0 {
        statements.push((CHECK_POSITION, vec![&first]));
        what.push(CHECK_POSITION);
    }
    if !ids.is_empty() {
        statements.push((CHECK_STREAMS, vec![&ids, &versions]));
        what.push(CHECK_STREAMS);
    }
    if !command_ids.is_empty() {
        statements.push((CHECK_COMMANDS, vec![&command_ids]));
        what.push(CHECK_COMMANDS);
    }
    if !number_keys.is_empty() {
        statements.push((CHECK_NUMBERS, vec![&number_keys, &number_streams]));
        what.push(CHECK_NUMBERS);
    }
    let answers = pipelined(tx, statements, |tx, statement, params| {
        Box::pin(async move { tx.query(&statement, &params).await })
    })
    .await
    .map_err(|e| CommitError::NotWritten(from_pg(e)))?;
    for (check, found) in what.into_iter().zip(answers) {
        match check {
            CHECK_POSITION => {
                if let Some(row) = found.first() {
                    let (taken, before): (i64, i64) = (row.get(0), row.get(1));
                    if taken > 0 {
                        return Err(CommitError::Conflict(format!(
                            "log position {first} is taken"
                        )));
                    }
                    if first > 1 && before == 0 {
                        return Err(CommitError::Conflict(format!(
                            "log position {first} would leave a gap: {} is not stored",
                            first - 1
                        )));
                    }
                }
            }
            CHECK_STREAMS => {
                for r in found {
                    let (id, v, taken, follows): (Uuid, i64, bool, bool) =
                        (r.get(0), r.get(1), r.get(2), r.get(3));
                    if taken {
                        return Err(CommitError::Conflict(format!(
                            "document {id} already has version {v}"
                        )));
                    }
                    if !follows {
                        return Err(CommitError::Conflict(format!(
                            "document {id} has no version {} to follow",
                            v - 1
                        )));
                    }
                }
            }
            CHECK_COMMANDS => {
                // Another process may have used it (for another document) since this one
                // decided.
                if let Some(r) = found.first() {
                    let id: String = r.get(0);
                    return Err(CommitError::Conflict(format!(
                        "command id {id:?} was used by another process"
                    )));
                }
            }
            _ => {
                if let Some(r) = found.first() {
                    let key: Vec<u8> = r.get(0);
                    return Err(CommitError::Conflict(format!(
                        "number already held by another document (key {})",
                        hex::encode(key)
                    )));
                }
            }
        }
    }
    Ok(())
}

const INSERT_LOG: &str = "INSERT INTO wf_log (position, stream_id, version, bytes) \
     SELECT * FROM UNNEST($1::bigint[], $2::uuid[], $3::bigint[], $4::bytea[])";
const UPDATE_HEAD: &str = "UPDATE wf_head SET position = $1, hash = $2 WHERE id = 1";
const NOTIFY: &str = "SELECT pg_notify($1, $2)";

/// The group's rows written, all statements at once (one round trip): events, projections,
/// command records, numbers, index entries, the head, and the notification.
async fn write_group(
    tx: &Tx<'_>,
    group: &Group,
    token: &str,
) -> std::result::Result<(), tokio_postgres::Error> {
    let positions: Vec<i64> = group.envelopes.iter().map(|e| pos(e.position)).collect();
    let streams: Vec<Uuid> = group.envelopes.iter().map(|e| e.stream_id.0).collect();
    let versions: Vec<i64> = group.envelopes.iter().map(|e| pos(e.version)).collect();
    let bytes: Vec<&[u8]> = group.envelopes.iter().map(|e| e.bytes.as_slice()).collect();
    let rows = Rows::of(group);
    let index = IndexWrites::of(group);
    let (lists_remove, lists_add) = IndexWrites::split(index.lists);
    let (inbox_remove, inbox_add) = IndexWrites::split(index.inbox);
    let last = group
        .envelopes
        .last()
        .map(|e| (pos(e.position), e.hash.clone()));
    let payload = last
        .as_ref()
        .map(|(p, _)| format!("{token} {p}"))
        .unwrap_or_default();
    let upserts = [
        (
            Keyed::new("wf_commands", ("command_id", "text"), ("value", "bytea")).sql(false),
            !rows.command_ids.is_empty(),
        ),
        (
            Keyed::new("wf_docs", ("stream_id", "uuid"), ("value", "bytea")).sql(false),
            !rows.doc_ids.is_empty(),
        ),
        (
            Keyed::new("wf_numbers", ("key", "bytea"), ("stream_id", "uuid")).sql(false),
            !rows.number_keys.is_empty(),
        ),
    ];
    let index_sql = [
        index_sql("wf_lists", false),
        index_sql("wf_lists", true),
        index_sql("wf_inbox", false),
        index_sql("wf_inbox", true),
    ];
    let mut statements: Vec<(&str, Vec<&(dyn ToSql + Sync)>)> = Vec::new();
    if !positions.is_empty() {
        statements.push((INSERT_LOG, vec![&positions, &streams, &versions, &bytes]));
    }
    if upserts[0].1 {
        statements.push((&upserts[0].0, vec![&rows.command_ids, &rows.commands]));
    }
    if upserts[1].1 {
        statements.push((&upserts[1].0, vec![&rows.doc_ids, &rows.docs]));
    }
    if upserts[2].1 {
        statements.push((&upserts[2].0, vec![&rows.number_keys, &rows.number_streams]));
    }
    // Removed and added keys are disjoint: their order does not matter.
    for (sql, keys) in index_sql
        .iter()
        .zip([&lists_remove, &lists_add, &inbox_remove, &inbox_add])
    {
        if !keys.is_empty() {
            statements.push((sql, vec![keys]));
        }
    }
    // The head travels with the events it names, so a log cut short is detectable; the
    // notification is delivered when (and only if) the transaction commits.
    if let Some((position, hash)) = &last {
        statements.push((UPDATE_HEAD, vec![position, hash]));
        statements.push((NOTIFY, vec![&NOTIFY_CHANNEL, &payload]));
    }
    pipelined(tx, statements, |tx, statement, params| {
        Box::pin(async move { tx.query(&statement, &params).await.map(|_| ()) })
    })
    .await?;
    Ok(())
}

/// The statement that removes (`add = false`) or adds keys of an index table.
fn index_sql(table: &str, add: bool) -> String {
    if add {
        format!(
            "INSERT INTO {table} (key) SELECT * FROM UNNEST($1::bytea[]) \
             ON CONFLICT (key) DO NOTHING"
        )
    } else {
        format!("DELETE FROM {table} WHERE key = ANY($1::bytea[])")
    }
}

/// Writes the keyed projection rows; with `only_changed`, rows equal to what is stored are
/// left alone. Returns the rows written.
async fn upsert_rows(
    tx: &Tx<'_>,
    rows: &Rows,
    only_changed: bool,
) -> std::result::Result<u64, tokio_postgres::Error> {
    let mut n = 0;
    if !rows.command_ids.is_empty() {
        let table = Keyed::new("wf_commands", ("command_id", "text"), ("value", "bytea"));
        n += exec(
            tx,
            &table.sql(only_changed),
            &[&rows.command_ids, &rows.commands],
        )
        .await?;
    }
    if !rows.doc_ids.is_empty() {
        let table = Keyed::new("wf_docs", ("stream_id", "uuid"), ("value", "bytea"));
        n += exec(tx, &table.sql(only_changed), &[&rows.doc_ids, &rows.docs]).await?;
    }
    if !rows.number_keys.is_empty() {
        let table = Keyed::new("wf_numbers", ("key", "bytea"), ("stream_id", "uuid"));
        n += exec(
            tx,
            &table.sql(only_changed),
            &[&rows.number_keys, &rows.number_streams],
        )
        .await?;
    }
    Ok(n)
}

/// A keyed projection table: its name, and its key and value columns with their types.
struct Keyed {
    table: &'static str,
    key: (&'static str, &'static str),
    value: (&'static str, &'static str),
}

impl Keyed {
    fn new(
        table: &'static str,
        key: (&'static str, &'static str),
        value: (&'static str, &'static str),
    ) -> Keyed {
        Keyed { table, key, value }
    }

    /// Inserts or replaces rows given as two parallel arrays.
    /// The upsert of many rows at once (`$1` keys, `$2` values); with `only_changed`, a row
    /// equal to what is stored is left alone.
    fn sql(&self, only_changed: bool) -> String {
        let Keyed {
            table,
            key: (key, key_ty),
            value: (value, value_ty),
        } = self;
        let when = if only_changed {
            format!(" WHERE {table}.{value} IS DISTINCT FROM EXCLUDED.{value}")
        } else {
            String::new()
        };
        format!(
            "INSERT INTO {table} ({key}, {value}) \
             SELECT * FROM UNNEST($1::{key_ty}[], $2::{value_ty}[]) \
             ON CONFLICT ({key}) DO UPDATE SET {value} = EXCLUDED.{value}{when}"
        )
    }
}

/// Removes then adds keys of an index table; returns the rows changed.
async fn index_writes(
    tx: &Tx<'_>,
    table: &str,
    remove: &[Vec<u8>],
    add: &[Vec<u8>],
) -> std::result::Result<u64, tokio_postgres::Error> {
    let mut n = 0;
    if !remove.is_empty() {
        n += exec(tx, &index_sql(table, false), &[&remove]).await?;
    }
    if !add.is_empty() {
        n += exec(tx, &index_sql(table, true), &[&add]).await?;
    }
    Ok(n)
}

/// A projection table: its name, its key column and its value column (`None`: keys only).
fn projection_table(part: &str) -> Result<(&'static str, &'static str, Option<&'static str>)> {
    Ok(match part {
        "commands" => ("wf_commands", "command_id", Some("value")),
        "docs" => ("wf_docs", "stream_id", Some("value")),
        "lists" => ("wf_lists", "key", None),
        "inbox" => ("wf_inbox", "key", None),
        "numbers" => ("wf_numbers", "key", Some("stream_id")),
        other => {
            return Err(Error::corrupt(
                format_args!("table {other}"),
                "not a projection",
            ));
        }
    })
}

/// A row of a projection table as `(key, value)` bytes, as sled stores it.
fn row_bytes(part: &str, r: &tokio_postgres::Row) -> (Vec<u8>, Vec<u8>) {
    match part {
        "commands" => (r.get::<_, String>(0).into_bytes(), r.get(1)),
        "docs" => (r.get::<_, Uuid>(0).as_bytes().to_vec(), r.get(1)),
        "numbers" => (r.get(0), r.get::<_, Uuid>(1).as_bytes().to_vec()),
        _ => (r.get(0), Vec::new()),
    }
}

/// Keeps one connection listening for other processes' commits, and tells `foreign` of
/// them (several at once as one). Reconnects when the connection is lost, and then says
/// `0`: commits may have been missed meanwhile.
async fn listen(
    config: tokio_postgres::Config,
    token: String,
    foreign: Arc<Mutex<Option<ForeignCommits>>>,
    shown: String,
) {
    use futures::StreamExt;
    let tell = |end: u64| {
        let f = foreign.lock().ok().and_then(|f| f.clone());
        if let Some(f) = f {
            f(end);
        }
    };
    loop {
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let (ntx, mut nrx) = tokio::sync::mpsc::unbounded_channel::<String>();
                let driver = tokio::spawn(async move {
                    let mut messages = futures::stream::poll_fn(|cx| connection.poll_message(cx));
                    while let Some(m) = messages.next().await {
                        match m {
                            Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                                if ntx.send(n.payload().to_owned()).is_err() {
                                    break;
                                }
                            }
                            Ok(_) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "the PostgreSQL listening connection failed");
                                break;
                            }
                        }
                    }
                });
                match client
                    .batch_execute(&format!("LISTEN {NOTIFY_CHANNEL}"))
                    .await
                {
                    Ok(()) => {
                        // Commits may have been made before anyone listened (between the
                        // engine's reading the log's end and now, or while reconnecting).
                        tell(0);
                        while let Some(payload) = nrx.recv().await {
                            let mut end = foreign_end(&payload, &token);
                            // Several waiting notifications are told as one.
                            while let Ok(more) = nrx.try_recv() {
                                end = end.max(foreign_end(&more, &token));
                            }
                            if end > 0 {
                                tell(end);
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, store = %shown, "cannot LISTEN for other processes' commits");
                    }
                }
                driver.abort();
            }
            Err(e) => {
                tracing::warn!(error = %e, store = %shown, "cannot connect to listen for other processes' commits; retrying");
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// The log's end a notification names, `0` for this storage's own commits (or a payload
/// it does not understand).
fn foreign_end(payload: &str, token: &str) -> u64 {
    match payload.split_once(' ') {
        Some((t, end)) if t != token => end.parse().unwrap_or(0),
        _ => 0,
    }
}

impl PostgresStorage {
    /// Commits a group (see [`Storage::commit`]): through the transaction holding the head
    /// row when one is held, else in a transaction of its own.
    fn commit_now(&self, group: &Group) -> std::result::Result<(), CommitError> {
        let relaxed = self.durability == Durability::Relaxed && !group.sync_always;
        let held = self.held.lock().ok().and_then(|mut h| h.take());
        if let Some(held) = held {
            let (reply, rx) = std::sync::mpsc::sync_channel(1);
            if held.send((group.clone(), relaxed, reply)).is_err() {
                return Err(CommitError::NotWritten(Error::Unavailable {
                    reason: "the transaction holding the log's head was lost".into(),
                }));
            }
            return rx.recv().map_err(|_| {
                CommitError::NotDurable(Error::Internal {
                    reason: "the PostgreSQL commit task stopped before answering".into(),
                })
            })?;
        }
        let rt = self.runtime().map_err(CommitError::NotWritten)?;
        if tokio::runtime::Handle::try_current().is_err() {
            // The engine's writer thread: no copy of the group.
            return rt.block_on(commit_group(self.pool.clone(), group, relaxed, &self.token));
        }
        // Inside another runtime, blocking on this one would panic: hand a copy over.
        let copy = group.clone();
        let (tx_done, rx) = std::sync::mpsc::sync_channel(1);
        let pool = self.pool.clone();
        let token = self.token.clone();
        rt.spawn(async move {
            let _ = tx_done.send(commit_group(pool, &copy, relaxed, &token).await);
        });
        rx.recv().map_err(|_| {
            CommitError::NotDurable(Error::Internal {
                reason: "the PostgreSQL commit task stopped before answering".into(),
            })
        })?
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_password_never_shows() {
        assert_eq!(
            super::redact("postgres://wf:s3cret@db.example:5432/workflow"),
            "postgres://wf:***@db.example:5432/workflow"
        );
        assert_eq!(
            super::redact("postgres://wf@127.0.0.1/workflow"),
            "postgres://wf@127.0.0.1/workflow"
        );
    }
}
