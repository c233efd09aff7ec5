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
mod commit_sql;
mod contents;
#[cfg(any(test, feature = "fault-injection"))]
mod drills;
mod legacy;
mod listen;
mod log;
mod outbox;
mod projections;
mod rebuild;
mod rows;
mod sql;
mod store;
mod writers;

/// The schema version this build writes; `workflow migrate` and every open apply the
/// migrations up to it, and a database of a newer version is refused.
pub const SCHEMA_VERSION: u32 = 7;

/// The migrations, in order: `MIGRATIONS[i]` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    r#"
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
"#,
    r#"
CREATE TABLE wf_contents (
    digest text COLLATE "C" PRIMARY KEY,
    size bigint NOT NULL CHECK (size >= 0),
    kept_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE wf_content_chunks (
    digest text COLLATE "C" NOT NULL REFERENCES wf_contents (digest),
    n int NOT NULL CHECK (n >= 0),
    bytes bytea NOT NULL,
    PRIMARY KEY (digest, n)
);
"#,
    r#"
CREATE TABLE wf_content_uploads (
    digest text COLLATE "C" NOT NULL REFERENCES wf_contents (digest),
    actor text COLLATE "C" NOT NULL,
    PRIMARY KEY (digest, actor)
);
"#,
    r#"
CREATE TABLE wf_outbox (
    id text COLLATE "C" PRIMARY KEY,
    position bigint NOT NULL,
    channel text COLLATE "C" NOT NULL,
    state text NOT NULL,
    next_at bigint NOT NULL,
    value bytea NOT NULL
);
CREATE INDEX wf_outbox_due ON wf_outbox (channel, next_at) WHERE state = 'pending';
CREATE INDEX wf_outbox_position ON wf_outbox (position);
CREATE TABLE wf_outbox_memo (key text COLLATE "C" PRIMARY KEY, value text NOT NULL);
"#,
    r#"
CREATE TABLE wf_outbox_channel (
    channel text COLLATE "C" PRIMARY KEY,
    through bigint NOT NULL,
    delivered bigint NOT NULL,
    settled_at bigint NOT NULL,
    holder text COLLATE "C" NOT NULL,
    lease_until bigint NOT NULL
);
-- The first outbox kept one position derived through: each channel it has deliveries of
-- takes that place, so that no notice since is skipped.
INSERT INTO wf_outbox_channel (channel, through, delivered, settled_at, holder, lease_until)
SELECT DISTINCT o.channel, ('x' || encode(m.value, 'hex'))::bit(64)::bigint, 0, 0, '', 0
FROM wf_outbox o JOIN wf_meta m ON m.key = 'outbox-through' AND length(m.value) = 8;
DELETE FROM wf_meta WHERE key = 'outbox-through';
"#,
    r#"
-- A commit's checks raise this with their reason (SQLSTATE WF409), so that a check that does
-- not hold aborts the transaction it runs in: a commit is sent whole, COMMIT included.
CREATE FUNCTION wf_conflict(reason text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'WF409', MESSAGE = reason;
END
$$;
"#,
    r#"
-- Every command rewrites its document's record (several KB, stored compressed): lz4 takes a
-- fraction of the default pglz's time. Values written before keep their compression. A
-- server built without lz4 (or older than PostgreSQL 14) keeps pglz.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE wf_docs ALTER COLUMN value SET COMPRESSION lz4';
    EXECUTE 'ALTER TABLE wf_log ALTER COLUMN bytes SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported OR syntax_error THEN
    NULL;
END
$$;
"#,
];

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
    /// Where uploads are spooled: a folder of this storage's own.
    spool: std::path::PathBuf,
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
        let _ = std::fs::remove_dir_all(&self.spool);
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
    pg_error(&e)
}

/// [`from_pg`] of an error the caller keeps.
fn pg_error(e: &tokio_postgres::Error) -> Error {
    let transient = e.code().is_none_or(|c| {
        let class = &c.code()[..2];
        matches!(class, "08" | "53" | "57" | "40" | "58")
    });
    // The server's own words and code, not only "db error".
    let shown = match e.as_db_error() {
        Some(db) => format!("{e}: {} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    };
    if transient {
        Error::Unavailable {
            reason: format!("PostgreSQL: {shown}"),
        }
    } else {
        Error::Internal {
            reason: format!("PostgreSQL: {shown}"),
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
/// without its content does not parse, so it is corrupt. A missing opinions list is not
/// noticed here: it reads as none, as it did before the parts were kept apart.
fn whole_record(id: DocumentId, bytes: &[u8]) -> Result<DocRecord> {
    parse(format_args!("document {id}"), bytes)
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
