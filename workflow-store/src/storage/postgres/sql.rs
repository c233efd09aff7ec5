//! The SQL primitives every statement goes through: parameters that cross to the
//! backend's runtime, the statement cache, several statements in one round trip.

use super::*;

/// A query parameter that can cross to the backend's runtime.
pub(super) type Param = Box<dyn ToSql + Send + Sync>;

pub(super) fn param<T: ToSql + Send + Sync + 'static>(v: T) -> Param {
    Box::new(v)
}

pub(super) fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

/// A transaction on a pooled connection (whose statement cache it uses).
pub(super) type Tx<'a> = deadpool_postgres::Transaction<'a>;

/// A statement's future, for running several at once.
pub(super) type Pending<'a, T> = std::pin::Pin<
    Box<dyn Future<Output = std::result::Result<T, tokio_postgres::Error>> + Send + 'a>,
>;

/// Runs a statement through the connection's statement cache (prepared once per
/// connection, not once per call: each preparation is a round trip).
pub(super) async fn exec(
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
pub(super) async fn pipelined<'a, T>(
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
