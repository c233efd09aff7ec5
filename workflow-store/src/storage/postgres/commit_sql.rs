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

/// One group commit: lock the head row, check, write, commit.
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
    let tx = lock_head(&mut c).await?;
    finish_commit(tx, group, relaxed, token).await
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

/// The group's expectations, checked together (one round trip) inside the commit's
/// transaction, which holds the head-row lock: the log ends right before the group's first
/// event; each stream ends right before the group's first event of it; no command id it
/// records is used already; no number it draws is held by another stream.
pub(super) async fn check_group(
    tx: &Tx<'_>,
    group: &Group,
) -> std::result::Result<(), CommitError> {
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

pub(super) const INSERT_LOG: &str = "INSERT INTO wf_log (position, stream_id, version, bytes) \
     SELECT * FROM UNNEST($1::bigint[], $2::uuid[], $3::bigint[], $4::bytea[])";
pub(super) const UPDATE_HEAD: &str = "UPDATE wf_head SET position = $1, hash = $2 WHERE id = 1";
pub(super) const NOTIFY: &str = "SELECT pg_notify($1, $2)";

/// The group's rows written, all statements at once (one round trip): events, projections,
/// command records, numbers, index entries, the head, and the notification.
pub(super) async fn write_group(
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
