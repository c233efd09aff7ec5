//! A group's commit in SQL: the head-row lock, the checks of its expectations, the writes.

use super::rows::*;
use super::sql::*;
use super::*;

/// Begins a commit's transaction and takes the head-row lock, which serializes the commits
/// of every process: positions are assigned in commit order and stay gapless.
pub(super) async fn lock_head(
    c: &mut deadpool_postgres::Object,
) -> std::result::Result<Tx<'_>, CommitError> {
    let tx = c
        .transaction()
        .await
        .map_err(|e| CommitError::NotWritten(from_pg(e)))?;
    exec(&tx, LOCK_HEAD, &[])
        .await
        .map_err(|e| CommitError::NotWritten(from_pg(e)))?;
    Ok(tx)
}

pub(super) const LOCK_HEAD: &str = "SELECT 1 FROM wf_head WHERE id = 1 FOR UPDATE";

/// One group commit in three round trips: `BEGIN`; the head-row lock, the checks and the
/// writes sent together as one pipeline (the server runs them in order, so the checks see
/// the log as the lock holds it, and the writes follow them in the same transaction);
/// `COMMIT` once every check passed. A check that fails rolls the writes back with the
/// transaction; a write that fails because another process took its key (a position, a
/// stream's version) is the same conflict the checks look for.
pub(super) async fn commit_group(
    pool: Pool,
    group: &Group,
    relaxed: bool,
    token: &str,
) -> std::result::Result<(), CommitError> {
    let mut c = pool
        .get()
        .await
        .map_err(|e| CommitError::NotWritten(from_pool(e)))?;
    let checks = Checks::of(group);
    let writes = Writes::of(group, token);
    let mut statements: Vec<(&str, Vec<&(dyn ToSql + Sync)>)> = vec![(LOCK_HEAD, vec![])];
    let (checking, what) = checks.statements();
    let checked = checking.len();
    statements.extend(checking);
    statements.extend(writes.statements());
    // Prepared before the transaction (cached on the connection, which the transaction
    // shares): preparing takes the tables' locks until the transaction ends, and a
    // transaction must take none before the head-row lock — a rebuild holding that lock
    // truncates the tables.
    futures::future::try_join_all(statements.iter().map(|(sql, _)| c.prepare_cached(sql)))
        .await
        .map_err(|e| CommitError::NotWritten(from_pg(e)))?;
    let tx = c
        .transaction()
        .await
        .map_err(|e| CommitError::NotWritten(from_pg(e)))?;
    if relaxed {
        tx.batch_execute("SET LOCAL synchronous_commit TO off")
            .await
            .map_err(|e| CommitError::NotWritten(from_pg(e)))?;
    }
    let answers = pipelined_all(&tx, statements)
        .await
        .map_err(|e| CommitError::NotWritten(from_pg(e)))?;
    // Every statement's answer looked at: a key another process took (a position, a
    // stream's version) is a conflict, whichever statement's error came back first; the
    // statements after a failed one only say the transaction is aborted.
    let mut rows = Vec::with_capacity(answers.len());
    let mut failed = None;
    let mut aborted = None;
    for answer in answers {
        match answer {
            Ok(r) => rows.push(r),
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {
                return Err(CommitError::Conflict(format!(
                    "another process committed first ({})",
                    from_pg(e)
                )));
            }
            Err(e) => {
                if e.code() == Some(&tokio_postgres::error::SqlState::IN_FAILED_SQL_TRANSACTION) {
                    aborted.get_or_insert(e);
                } else if failed.is_none() {
                    failed = Some(e);
                }
                rows.push(Vec::new());
            }
        }
    }
    // Any error at all: nothing is committed (an aborted transaction's COMMIT would only
    // roll back, answering as if it had worked).
    if let Some(e) = failed.or(aborted) {
        return Err(CommitError::NotWritten(from_pg(e)));
    }
    let answers = rows;
    checks.evaluate(what, answers.into_iter().skip(1).take(checked))?;
    // Once COMMIT is sent, a lost answer leaves the outcome unknown.
    tx.commit()
        .await
        .map_err(|e| CommitError::NotDurable(from_pg(e)))
}

/// Checks and writes a group in a transaction that holds the head-row lock, and commits.
pub(super) async fn finish_commit(
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

pub(super) const CHECK_POSITION: &str = "SELECT count(*) FILTER (WHERE position = $1), \
                                     count(*) FILTER (WHERE position = $1 - 1) \
                              FROM wf_log WHERE position IN ($1, $1 - 1)";
pub(super) const CHECK_STREAMS: &str = "SELECT s.id, s.v, \
       EXISTS (SELECT 1 FROM wf_log l WHERE l.stream_id = s.id AND l.version = s.v), \
       s.v = 1 OR EXISTS (SELECT 1 FROM wf_log l \
                          WHERE l.stream_id = s.id AND l.version = s.v - 1) \
     FROM UNNEST($1::uuid[], $2::bigint[]) AS s(id, v)";
pub(super) const CHECK_COMMANDS: &str =
    "SELECT command_id FROM wf_commands WHERE command_id = ANY($1)";
pub(super) const CHECK_NUMBERS: &str = "SELECT n.key, n.stream_id FROM wf_numbers n \
     JOIN UNNEST($1::bytea[], $2::uuid[]) AS g(key, id) ON g.key = n.key \
     WHERE n.stream_id <> g.id";

/// The group's expectations, checked inside the commit's transaction, which holds the
/// head-row lock: the log ends right before the group's first event; each stream ends
/// right before the group's first event of it; no command id it records is used already; no
/// number it draws is held by another stream. Sent together (one round trip), on their own
/// or in the commit's pipeline.
pub(super) struct Checks {
    first: i64,
    ids: Vec<Uuid>,
    versions: Vec<i64>,
    command_ids: Vec<String>,
    number_keys: Vec<Vec<u8>>,
    number_streams: Vec<Uuid>,
}

impl Checks {
    pub(super) fn of(group: &Group) -> Checks {
        let first = group.envelopes.first().map_or(0, |e| pos(e.position));
        let mut starts: Vec<(Uuid, i64)> = Vec::new();
        for e in &group.envelopes {
            if !starts.iter().any(|(id, _)| *id == e.stream_id.0) {
                starts.push((e.stream_id.0, pos(e.version)));
            }
        }
        let (ids, versions): (Vec<Uuid>, Vec<i64>) = starts.iter().copied().unzip();
        let command_ids: Vec<String> = group.commands.iter().map(|(id, _)| id.clone()).collect();
        let numbers: BTreeMap<Vec<u8>, Uuid> = group
            .numbers
            .iter()
            .map(|(s, n, id)| (series_key(s, *n), id.0))
            .collect();
        let (number_keys, number_streams): (Vec<Vec<u8>>, Vec<Uuid>) = numbers.into_iter().unzip();
        Checks {
            first,
            ids,
            versions,
            command_ids,
            number_keys,
            number_streams,
        }
    }

    /// The checking statements, and which check each is.
    #[allow(clippy::type_complexity)]
    pub(super) fn statements(
        &self,
    ) -> (
        Vec<(&'static str, Vec<&(dyn ToSql + Sync)>)>,
        Vec<&'static str>,
    ) {
        let mut statements: Vec<(&'static str, Vec<&(dyn ToSql + Sync)>)> = Vec::new();
        if self.first > 0 {
            statements.push((CHECK_POSITION, vec![&self.first]));
        }
        if !self.ids.is_empty() {
            statements.push((CHECK_STREAMS, vec![&self.ids, &self.versions]));
        }
        if !self.command_ids.is_empty() {
            statements.push((CHECK_COMMANDS, vec![&self.command_ids]));
        }
        if !self.number_keys.is_empty() {
            statements.push((CHECK_NUMBERS, vec![&self.number_keys, &self.number_streams]));
        }
        let what = statements.iter().map(|(sql, _)| *sql).collect();
        (statements, what)
    }

    /// What the checks found: the first expectation that does not hold, as a conflict.
    pub(super) fn evaluate(
        &self,
        what: Vec<&'static str>,
        answers: impl IntoIterator<Item = Vec<Row>>,
    ) -> std::result::Result<(), CommitError> {
        let first = self.first;
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
}

/// The group's expectations checked (one round trip) in a transaction holding the
/// head-row lock.
pub(super) async fn check_group(
    tx: &Tx<'_>,
    group: &Group,
) -> std::result::Result<(), CommitError> {
    let checks = Checks::of(group);
    let (statements, what) = checks.statements();
    let answers = pipelined(tx, statements, |tx, statement, params| {
        Box::pin(async move { tx.query(&statement, &params).await })
    })
    .await
    .map_err(|e| CommitError::NotWritten(from_pg(e)))?;
    checks.evaluate(what, answers)
}

pub(super) const INSERT_LOG: &str = "INSERT INTO wf_log (position, stream_id, version, bytes) \
     SELECT * FROM UNNEST($1::bigint[], $2::uuid[], $3::bigint[], $4::bytea[])";
pub(super) const UPDATE_HEAD: &str = "UPDATE wf_head SET position = $1, hash = $2 WHERE id = 1";
pub(super) const NOTIFY: &str = "SELECT pg_notify($1, $2)";

/// The group's rows: events, projections, command records, numbers, index entries, the
/// head, and the notification — written by statements sent together (one round trip), on
/// their own or in the commit's pipeline.
pub(super) struct Writes<'g> {
    positions: Vec<i64>,
    streams: Vec<Uuid>,
    versions: Vec<i64>,
    bytes: Vec<&'g [u8]>,
    rows: Rows,
    lists: (Vec<Vec<u8>>, Vec<Vec<u8>>),
    inbox: (Vec<Vec<u8>>, Vec<Vec<u8>>),
    last: Option<(i64, String)>,
    payload: String,
    upserts: [String; 3],
    index_sql: [String; 4],
}

impl<'g> Writes<'g> {
    pub(super) fn of(group: &'g Group, token: &str) -> Writes<'g> {
        let index = IndexWrites::of(group);
        let last = group
            .envelopes
            .last()
            .map(|e| (pos(e.position), e.hash.clone()));
        let payload = last
            .as_ref()
            .map(|(p, _)| format!("{token} {p}"))
            .unwrap_or_default();
        Writes {
            positions: group.envelopes.iter().map(|e| pos(e.position)).collect(),
            streams: group.envelopes.iter().map(|e| e.stream_id.0).collect(),
            versions: group.envelopes.iter().map(|e| pos(e.version)).collect(),
            bytes: group.envelopes.iter().map(|e| e.bytes.as_slice()).collect(),
            rows: Rows::of(group),
            lists: IndexWrites::split(index.lists),
            inbox: IndexWrites::split(index.inbox),
            last,
            payload,
            upserts: [
                Keyed::new("wf_commands", ("command_id", "text"), ("value", "bytea")).sql(false),
                Keyed::new("wf_docs", ("stream_id", "uuid"), ("value", "bytea")).sql(false),
                Keyed::new("wf_numbers", ("key", "bytea"), ("stream_id", "uuid")).sql(false),
            ],
            index_sql: [
                index_sql("wf_lists", false),
                index_sql("wf_lists", true),
                index_sql("wf_inbox", false),
                index_sql("wf_inbox", true),
            ],
        }
    }

    /// The writing statements.
    pub(super) fn statements(&self) -> Vec<(&str, Vec<&(dyn ToSql + Sync)>)> {
        let rows = &self.rows;
        let mut statements: Vec<(&str, Vec<&(dyn ToSql + Sync)>)> = Vec::new();
        if !self.positions.is_empty() {
            statements.push((
                INSERT_LOG,
                vec![&self.positions, &self.streams, &self.versions, &self.bytes],
            ));
        }
        if !rows.command_ids.is_empty() {
            statements.push((&self.upserts[0], vec![&rows.command_ids, &rows.commands]));
        }
        if !rows.doc_ids.is_empty() {
            statements.push((&self.upserts[1], vec![&rows.doc_ids, &rows.docs]));
        }
        if !rows.number_keys.is_empty() {
            statements.push((
                &self.upserts[2],
                vec![&rows.number_keys, &rows.number_streams],
            ));
        }
        // Removed and added keys are disjoint: their order does not matter.
        for (sql, keys) in
            self.index_sql
                .iter()
                .zip([&self.lists.0, &self.lists.1, &self.inbox.0, &self.inbox.1])
        {
            if !keys.is_empty() {
                statements.push((sql, vec![keys]));
            }
        }
        // The head travels with the events it names, so a log cut short is detectable; the
        // notification is delivered when (and only if) the transaction commits.
        if let Some((position, hash)) = &self.last {
            statements.push((UPDATE_HEAD, vec![position, hash]));
            statements.push((NOTIFY, vec![&NOTIFY_CHANNEL, &self.payload]));
        }
        statements
    }
}

/// The group's rows written, all statements at once (one round trip).
pub(super) async fn write_group(
    tx: &Tx<'_>,
    group: &Group,
    token: &str,
) -> std::result::Result<(), tokio_postgres::Error> {
    let writes = Writes::of(group, token);
    pipelined(tx, writes.statements(), |tx, statement, params| {
        Box::pin(async move { tx.query(&statement, &params).await.map(|_| ()) })
    })
    .await?;
    Ok(())
}
