//! The connection pool on its own runtime, the schema and its migrations, and what the
//! interfaces share: opening, running a query, the recorded meta values, committing a group.

use super::sql::*;
use super::*;
use super::{commit_sql::*, rows::*};

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
            spool: private_spool()?,
        };
        storage.check_server(options.allow_fsync_off)?;
        let found = storage.migrate()?;
        storage
            .schema_at_open
            .store(found, std::sync::atomic::Ordering::Relaxed);
        Ok(storage)
    }

    pub(super) fn runtime(&self) -> Result<&tokio::runtime::Runtime> {
        self.rt.as_ref().ok_or(Error::Closed)
    }

    /// Runs `f` on the backend's runtime and waits for it, from any thread.
    pub(super) fn run<T, F>(&self, f: impl FnOnce(Pool) -> F) -> Result<T>
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

    pub(super) fn check_server(&self, allow_fsync_off: bool) -> Result<()> {
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

    pub(super) fn migrate_now(&self) -> Result<u32> {
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
    pub(super) fn query(&self, sql: impl Into<String>, params: Vec<Param>) -> Result<Vec<Row>> {
        let sql = sql.into();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(from_pool)?;
            let statement = c.prepare_cached(&sql).await.db()?;
            c.query(&statement, &refs(&params)).await.db()
        })
    }

    /// Runs one query that gives at most one row.
    pub(super) fn query_opt(
        &self,
        sql: impl Into<String>,
        params: Vec<Param>,
    ) -> Result<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// Runs one statement; returns the rows it changed.
    pub(super) fn execute(&self, sql: impl Into<String>, params: Vec<Param>) -> Result<u64> {
        let sql = sql.into();
        self.run(move |pool| async move {
            let c = pool.get().await.map_err(from_pool)?;
            let statement = c.prepare_cached(&sql).await.db()?;
            c.execute(&statement, &refs(&params)).await.db()
        })
    }

    pub(super) fn get_meta(&self, key: &'static str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .query_opt("SELECT value FROM wf_meta WHERE key = $1", vec![param(key)])?
            .map(|r| r.get(0)))
    }

    pub(super) fn set_meta(&self, key: &'static str, value: Option<Vec<u8>>) -> Result<()> {
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
    pub(super) fn scan_keys(
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

    pub(super) fn scan(
        &self,
        table: &'static str,
        prefix: Vec<u8>,
        after: Option<Cursor>,
        limit: usize,
    ) -> Result<Vec<Cursor>> {
        let mut start = prefix.clone();
        if let Some(c) = after {
            start.extend_from_slice(&crate::storage::keys::order_suffix(c));
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

    pub(super) fn read_directory<T: for<'de> Deserialize<'de>>(
        &self,
        table: &'static str,
    ) -> Result<Vec<T>> {
        self.query(format!("SELECT id, value FROM {table} ORDER BY id"), vec![])?
            .iter()
            .map(|r| {
                let (id, v): (String, Vec<u8>) = (r.get(0), r.get(1));
                parse(format_args!("{table} {id}"), &v)
            })
            .collect()
    }

    /// Stored events (or access-log entries): `position, bytes` rows.
    pub(super) fn stored(&self, sql: &'static str, params: Vec<Param>) -> Result<Vec<StoredEvent>> {
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
    pub(super) fn dump_part(&self, part: &'static str) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
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
    pub(super) fn delete_keys(&self, part: &str, keys: Vec<Vec<u8>>) -> Result<u64> {
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

impl PostgresStorage {
    /// Commits a group (see [`Storage::commit`]): through the transaction holding the head
    /// row when one is held, else in a transaction of its own.
    pub(super) fn commit_now(&self, group: &Group) -> std::result::Result<(), CommitError> {
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

/// A folder of this process's own for spooling uploads (readable by its user alone), in the
/// system's temporary directory; removed when the storage is dropped.
fn private_spool() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("workflow-spool-{}", Uuid::new_v4().simple()));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(&dir).map_err(|e| Error::Unavailable {
        reason: format!("cannot make the upload spool {}: {e}", dir.display()),
    })?;
    Ok(dir)
}
