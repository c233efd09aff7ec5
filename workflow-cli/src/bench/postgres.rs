//! `workflow bench --store postgres://…`: the engine's figures on PostgreSQL, each against a
//! raw PostgreSQL reference measured in the same run, and the scale-out figure with two
//! server processes on one database.
//!
//! 1. raw PostgreSQL: rows of the engine's bytes per command, inserted by one writer with
//!    the engine's batching (up to 512 per transaction, `INSERT … SELECT FROM UNNEST`) and
//!    committed with `synchronous_commit = on` — the physical reference;
//! 2. the engine in-process on PostgreSQL, 1, 8 and 64 clients, and its ratio to (1);
//! 3. over gRPC: one server process, then two on the same database with the clients split
//!    between them (the scale-out figure);
//! 4. rebuild (in place, from scratch) and verify, events/s.
//!
//! Each part gets a database of its own, made from the URL's (which the user must be
//! allowed to `CREATE DATABASE` from) and dropped afterwards.

use std::time::Instant;

use anyhow::{Context, Result};
use serde_json::json;
use tokio::sync::oneshot;
use tokio_postgres::NoTls;

use super::{
    Rate, ServerChild, engine_flows, grpc_flow, line, load_directory, measure, profile_json,
    profile_line, rate_line, raw_rates, round,
};

/// The databases a run makes, dropped when it ends.
struct Databases {
    admin: tokio_postgres::Client,
    base: String,
    query: String,
    made: Vec<String>,
}

impl Databases {
    async fn connect(url: &str) -> Result<Databases> {
        let (admin, connection) = tokio_postgres::connect(url, NoTls)
            .await
            .with_context(|| format!("connecting to {}", redact(url)))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        // postgres://user@host:port/db?options: the part databases are named after, and
        // the options every one of them keeps.
        let (address, query) = match url.split_once('?') {
            Some((u, q)) => (u, format!("?{q}")),
            None => (url, String::new()),
        };
        let base = address
            .split_once("://")
            .and_then(|(_, rest)| rest.contains('/').then_some(()))
            .and_then(|()| address.rsplit_once('/'))
            .map(|(head, _)| head.to_owned())
            .context("the URL names no database (postgres://user@host:port/database)")?;
        Ok(Databases {
            admin,
            base,
            query,
            made: Vec::new(),
        })
    }

    /// A new, empty database; its URL.
    async fn make(&mut self, what: &str) -> Result<String> {
        let name = format!("workflow_bench_{}_{what}", std::process::id());
        // Two statements: neither may run inside a transaction block.
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            self.admin
                .batch_execute(&sql)
                .await
                .with_context(|| format!("creating the database {name}"))?;
        }
        self.made.push(name.clone());
        Ok(format!("{}/{name}{}", self.base, self.query))
    }

    async fn drop_all(&mut self) {
        for name in self.made.drain(..) {
            let _ = self
                .admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
        }
    }
}

fn redact(url: &str) -> String {
    workflow_store::storage::postgres::redact(url)
}

/// Where raw-PostgreSQL clients send a record and wait for its commit.
type RawSender = tokio::sync::mpsc::UnboundedSender<(Vec<u8>, oneshot::Sender<()>)>;

/// (1) The raw PostgreSQL writer: the engine's group commit without the domain.
async fn raw_postgres(url: &str) -> Result<RawSender> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
        .batch_execute(
            "SET synchronous_commit = on; \
             CREATE TABLE raw_log (position bigint PRIMARY KEY, bytes bytea NOT NULL)",
        )
        .await?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(Vec<u8>, oneshot::Sender<()>)>();
    tokio::spawn(async move {
        let mut client = client;
        let mut next = 0i64;
        while let Some(first) = rx.recv().await {
            let mut group = vec![first];
            while group.len() < 512 {
                match rx.try_recv() {
                    Ok(x) => group.push(x),
                    Err(_) => break,
                }
            }
            let positions: Vec<i64> = (1..=group.len() as i64).map(|i| next + i).collect();
            let bytes: Vec<&[u8]> = group.iter().map(|(b, _)| b.as_slice()).collect();
            let written = async {
                let t = client.transaction().await?;
                t.execute(
                    "INSERT INTO raw_log (position, bytes) \
                     SELECT * FROM UNNEST($1::bigint[], $2::bytea[])",
                    &[&positions, &bytes],
                )
                .await?;
                t.commit().await
            }
            .await;
            if written.is_err() {
                return;
            }
            next += group.len() as i64;
            for (_, reply) in group {
                let _ = reply.send(());
            }
        }
    });
    Ok(tx)
}

/// Runs the PostgreSQL figures against the server at `url`.
pub(super) async fn run(
    url: &str,
    seconds: f64,
    clients: &[usize],
    record_bytes: usize,
    summary: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let mut dbs = Databases::connect(url).await?;
    let result = figures(&mut dbs, seconds, clients, record_bytes, summary).await;
    dbs.drop_all().await;
    result
}

async fn figures(
    dbs: &mut Databases,
    seconds: f64,
    clients: &[usize],
    record_bytes: usize,
    summary: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let allow_fsync_off = std::env::var("WORKFLOW_ALLOW_FSYNC_OFF").is_ok_and(|v| v == "1");
    {
        let fsync: String = dbs.admin.query_one("SHOW fsync", &[]).await?.get(0);
        line("PostgreSQL fsync", fsync.clone());
        if fsync != "on" {
            println!(
                "  (fsync = off: the figures do not include the cost of syncing; not a measurement of a production server)"
            );
        }
    }

    // (1) raw PostgreSQL
    let raw_url = dbs.make("raw").await?;
    let tx = raw_postgres(&raw_url).await?;
    let send = move |record, reply| tx.send((record, reply)).is_ok();
    let raw = raw_rates(clients, seconds, record_bytes, send, |c| {
        format!("raw PostgreSQL (commit), {c} clients: rows/s")
    })
    .await?;

    // (2) the engine in-process on PostgreSQL
    let engine_url = dbs.make("engine").await?;
    let options = workflow_store::PostgresOptions {
        pool_size: 16,
        allow_fsync_off,
        ..workflow_store::PostgresOptions::default()
    };
    let storage = workflow_store::PostgresStorage::open(&engine_url, &options)?;
    let engine = workflow_store::Engine::with_storage(
        std::sync::Arc::new(storage),
        workflow_store::Config::new(&engine_url),
    )?;
    load_directory(&engine).await?;
    let mut inproc: Vec<Rate> = Vec::new();
    let mut profiles = Vec::new();
    for (i, &c) in clients.iter().enumerate() {
        let before = workflow_store::telemetry::writer_profile();
        let r = engine_flows(engine.clone(), c, seconds).await?;
        let profile = workflow_store::telemetry::writer_profile().since(&before);
        rate_line(
            &format!("engine on PostgreSQL, {c} clients: commands/s"),
            &r,
            raw.get(i).map(|raw| (raw, "raw PostgreSQL")),
        );
        profile_line(c, &profile);
        profiles.push(profile_json(c, &profile));
        inproc.push(r);
    }

    // (4) rebuild and verify on what the engine wrote
    let events = engine.head();
    let t = Instant::now();
    engine.rebuild(|_, _| {}).await?;
    let in_place = events as f64 / t.elapsed().as_secs_f64().max(1e-9);
    let t = Instant::now();
    engine.rebuild_from_scratch(|_, _| {}).await?;
    let scratch = events as f64 / t.elapsed().as_secs_f64().max(1e-9);
    let t = Instant::now();
    let report = engine.verify(|_, _| {})?;
    let verify = events as f64 / t.elapsed().as_secs_f64().max(1e-9);
    anyhow::ensure!(report.is_intact(), "verify found a break: {report:?}");
    line(
        &format!("rebuild on PostgreSQL ({events} events): events/s"),
        format!("{in_place:.0} in place, {scratch:.0} from scratch"),
    );
    line("verify on PostgreSQL: events/s", format!("{verify:.0}"));
    drop(engine);

    // (3) over gRPC: one server, then two on one database
    let heavy = *clients.last().unwrap_or(&64);
    let one_url = dbs.make("one_server").await?;
    let dir = tempfile::tempdir()?;
    let one = {
        let server = ServerChild::start_on(dir.path(), Some(&one_url))?;
        let client = server.client().await?;
        measure(heavy, seconds, move |c, round| {
            grpc_flow(client.clone(), c * 1_000_000 + round)
        })
        .await?
    };
    rate_line(
        &format!("gRPC, one server on PostgreSQL, {heavy} clients: commands/s"),
        &one,
        None,
    );
    let two_url = dbs.make("two_servers").await?;
    let dirs = (tempfile::tempdir()?, tempfile::tempdir()?);
    let a = ServerChild::start_on(dirs.0.path(), Some(&two_url))?;
    let ca = a.client().await?;
    // The second starts once the first has loaded the directory.
    let b = ServerChild::start_on(dirs.1.path(), Some(&two_url))?;
    let cb = b.client().await?;
    let two = measure(heavy, seconds, move |c, round| {
        let client = if c % 2 == 0 { ca.clone() } else { cb.clone() };
        grpc_flow(client, c * 1_000_000 + round)
    })
    .await?;
    rate_line(
        &format!("gRPC, two servers on one database, {heavy} clients: commands/s"),
        &two,
        Some((&one, "one server")),
    );
    drop((a, b));

    summary.insert(
        "postgres".into(),
        json!({
            "raw": clients.iter().zip(&raw).map(|(c, r)| json!({"clients": c, "rate": r.json()})).collect::<Vec<_>>(),
            "engine": clients.iter().zip(&inproc).enumerate().map(|(i, (c, r))| json!({"clients": c, "rate": r.json(), "ratio_to_raw_postgres": raw.get(i).map(|raw| round(r.per_sec / raw.per_sec.max(1e-9)))})).collect::<Vec<_>>(),
            "writer_profile": profiles,
            "rebuild_in_place_events_per_sec": round(in_place),
            "rebuild_from_scratch_events_per_sec": round(scratch),
            "verify_events_per_sec": round(verify),
            "grpc_one_server": one.json(),
            "grpc_two_servers": two.json(),
            "two_over_one": round(two.per_sec / one.per_sec.max(1e-9)),
        }),
    );
    Ok(())
}
