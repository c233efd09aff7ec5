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

/// One group commit in one round trip: `BEGIN`, the head-row lock, the checks, the writes
/// and `COMMIT` are sent together as one pipeline, and the server runs them in order — the
/// checks see the log as the lock holds it, the writes follow in the same transaction.
/// A check that fails raises an error (`wf_conflict`, SQLSTATE [`CONFLICT_STATE`]), which
/// aborts the transaction: every statement after it is refused, and the `COMMIT` at the end
/// rolls back. A write refused for a key another process took (a position, a stream's
/// version) is the same conflict.
///
/// What the answers mean: an error the server gave before `COMMIT` means nothing was
/// written; every statement answered and `COMMIT` answered means committed; an answer lost
/// on the way (the connection broke) with no server error before it leaves the outcome
/// unknown — the `COMMIT` may have run.
pub(super) async fn commit_group(
    pool: Pool,
    group: &Group,
    relaxed: bool,
    token: &str,
) -> std::result::Result<(), CommitError> {
    let c = pool
        .get()
        .await
        .map_err(|e| CommitError::NotWritten(from_pool(e)))?;
    let checks = Checks::of(group);
    let writes = Writes::of(group, token);
    let mut statements: Vec<(&str, Vec<&(dyn ToSql + Sync)>)> = vec![(LOCK_HEAD, vec![])];
    statements.extend(checks.statements());
    statements.extend(writes.statements());
    // Prepared before the transaction (cached on the connection): preparing takes the
    // tables' locks until the transaction ends, and a transaction must take none before the
    // head-row lock — a rebuild holding that lock truncates the tables.
    let prepared =
        futures::future::try_join_all(statements.iter().map(|(sql, _)| c.prepare_cached(sql)))
            .await
            .map_err(|e| CommitError::NotWritten(from_pg(e)))?;
    let client: &tokio_postgres::Client = &c;
    // A connection the pool holds may have been closed since (the server restarted): say so
    // now, while nothing is sent.
    if client.is_closed() {
        return Err(CommitError::NotWritten(Error::Unavailable {
            reason: "PostgreSQL: the connection was closed".into(),
        }));
    }
    let begin = if relaxed {
        "BEGIN; SET LOCAL synchronous_commit TO off"
    } else {
        "BEGIN"
    };
    // Each future builds and sends its messages when first polled, and `join_all` polls
    // them in this order: BEGIN, the statements, COMMIT leave together. One the client
    // refuses on its first poll sent nothing (its parameters did not encode, or the
    // connection is gone), and the group must not commit without it: `ROLLBACK` goes in
    // place of `COMMIT`, which is polled after every statement was.
    let unsent = std::sync::atomic::AtomicBool::new(false);
    let unsent = &unsent;
    let mut pipeline: Vec<Pending<'_, ()>> = Vec::with_capacity(statements.len() + 2);
    pipeline.push(first_poll_noted(client.batch_execute(begin), unsent));
    for (statement, (_, params)) in prepared.into_iter().zip(statements) {
        pipeline.push(first_poll_noted(
            async move { client.query(&statement, &params).await.map(|_| ()) },
            unsent,
        ));
    }
    pipeline.push(Box::pin(async move {
        let end = if unsent.load(std::sync::atomic::Ordering::SeqCst) {
            "ROLLBACK"
        } else {
            "COMMIT"
        };
        client.batch_execute(end).await
    }));
    let mut answers = futures::future::join_all(pipeline).await;
    let committed = answers.pop().unwrap_or(Ok(()));
    // The server's first refusal before COMMIT says why nothing was written (the statements
    // after it only say the transaction is aborted).
    let server_errors = || {
        answers
            .iter()
            .filter_map(|a| a.as_ref().err())
            .filter(|e| e.as_db_error().is_some())
    };
    let refused = server_errors()
        .find(|e| e.code() != Some(&tokio_postgres::error::SqlState::IN_FAILED_SQL_TRANSACTION))
        .or_else(|| server_errors().next());
    if let Some(e) = refused {
        return Err(refusal(e));
    }
    if unsent.load(std::sync::atomic::Ordering::SeqCst) {
        // ROLLBACK went in place of COMMIT: nothing is written.
        let e = answers.iter().find_map(|a| a.as_ref().err()).map_or_else(
            || Error::Internal {
                reason: "a statement of the commit was not sent".into(),
            },
            pg_error,
        );
        return Err(CommitError::NotWritten(e));
    }
    // No refusal: every statement ran, or an answer was lost with the connection — then
    // whether COMMIT ran is unknown.
    if let Some(Err(e)) = answers.into_iter().find(Result::is_err) {
        return Err(CommitError::NotDurable(from_pg(e)));
    }
    committed.map_err(|e| CommitError::NotDurable(from_pg(e)))
}

/// `future`, noting in `unsent` when the client refuses it on its first poll — before it
/// sent anything (its parameters did not encode, or the connection is gone).
fn first_poll_noted<'a>(
    future: impl Future<Output = std::result::Result<(), tokio_postgres::Error>> + Send + 'a,
    unsent: &'a std::sync::atomic::AtomicBool,
) -> Pending<'a, ()> {
    let mut future = Box::pin(future);
    let mut first = true;
    Box::pin(futures::future::poll_fn(move |cx| {
        let polled = future.as_mut().poll(cx);
        // Only the client's own refusal: the server's answer can already be there at the
        // first poll (this thread descheduled between sending and looking), and a server
        // error aborts the transaction, whose COMMIT then rolls back anyway.
        if std::mem::take(&mut first)
            && matches!(&polled, std::task::Poll::Ready(Err(e)) if e.as_db_error().is_none())
        {
            unsent.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        polled
    }))
}

/// SQLSTATE of a failed check (`wf_conflict`): the group does not follow what is stored.
pub(super) const CONFLICT_STATE: &str = "WF409";

/// A statement's refusal inside a commit, in the commit's terms: a failed check or a key
/// another process took is a conflict (decide again); anything else wrote nothing.
fn refusal(e: &tokio_postgres::Error) -> CommitError {
    match e.as_db_error() {
        Some(db) if db.code().code() == CONFLICT_STATE => {
            CommitError::Conflict(db.message().to_owned())
        }
        Some(db) if db.code() == &tokio_postgres::error::SqlState::UNIQUE_VIOLATION => {
            CommitError::Conflict(format!(
                "another process committed first ({}: {})",
                db.message(),
                db.code().code()
            ))
        }
        _ => CommitError::NotWritten(pg_error(e)),
    }
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
        .map_err(|e| refusal(&e))?;
    // Once COMMIT is sent, a lost answer leaves the outcome unknown.
    tx.commit()
        .await
        .map_err(|e| CommitError::NotDurable(from_pg(e)))
}

// The checks raise `wf_conflict` (a PL/pgSQL function of the schema, volatile so that it is
// never evaluated ahead) with the reason when an expectation does not hold, so that a failed
// check aborts the transaction it runs in.
pub(super) const CHECK_POSITION: &str = "SELECT CASE \
       WHEN EXISTS (SELECT 1 FROM wf_log WHERE position = $1::bigint) \
         THEN wf_conflict('log position ' || $1::bigint || ' is taken') \
       WHEN $1::bigint > 1 AND NOT EXISTS (SELECT 1 FROM wf_log WHERE position = $1::bigint - 1) \
         THEN wf_conflict('log position ' || $1::bigint || ' would leave a gap: ' \
                          || ($1::bigint - 1) || ' is not stored') \
     END";
pub(super) const CHECK_STREAMS: &str = "SELECT CASE \
       WHEN EXISTS (SELECT 1 FROM wf_log l WHERE l.stream_id = s.id AND l.version = s.v) \
         THEN wf_conflict('document ' || s.id || ' already has version ' || s.v) \
       WHEN s.v > 1 AND NOT EXISTS (SELECT 1 FROM wf_log l \
                                    WHERE l.stream_id = s.id AND l.version = s.v - 1) \
         THEN wf_conflict('document ' || s.id || ' has no version ' || (s.v - 1) || ' to follow') \
     END \
     FROM UNNEST($1::uuid[], $2::bigint[]) AS s(id, v)";
pub(super) const CHECK_COMMANDS: &str = "SELECT wf_conflict('command id \"' || command_id \
     || '\" is recorded already') FROM wf_commands WHERE command_id = ANY($1)";
pub(super) const CHECK_NUMBERS: &str = "SELECT wf_conflict('number already held by another \
     document (key ' || encode(n.key, 'hex') || ')') FROM wf_numbers n \
     JOIN UNNEST($1::bytea[], $2::uuid[]) AS g(key, id) ON g.key = n.key \
     WHERE n.stream_id <> g.id";

/// The group's expectations, checked inside the commit's transaction, which holds the
/// head-row lock: the log ends right before the group's first event; each stream ends
/// right before the group's first event of it; no command id it records (or decided as new
/// without reading) is recorded already; no
/// number it draws is held by another stream. Sent together (one round trip), on their own
/// or in the commit's pipeline; the first that does not hold raises a conflict.
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
        // The ids it records, and those of its requests decided without reading them.
        let mut command_ids: Vec<String> = group
            .commands
            .iter()
            .map(|(id, _)| id)
            .chain(&group.unread_commands)
            .cloned()
            .collect();
        command_ids.sort();
        command_ids.dedup();
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

    /// The checking statements.
    pub(super) fn statements(&self) -> Vec<(&'static str, Vec<&(dyn ToSql + Sync)>)> {
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
        statements
    }
}

/// The group's expectations checked (one round trip) in a transaction holding the
/// head-row lock.
pub(super) async fn check_group(
    tx: &Tx<'_>,
    group: &Group,
) -> std::result::Result<(), CommitError> {
    let checks = Checks::of(group);
    pipelined(tx, checks.statements(), |tx, statement, params| {
        Box::pin(async move { tx.query(&statement, &params).await.map(|_| ()) })
    })
    .await
    .map_err(|e| refusal(&e))?;
    Ok(())
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
