//! `cqrs-es-reference postgres://user@host:port/db [--seconds S] [--clients 1,8,64]`
//!
//! The reference issue #41 measures the engine on PostgreSQL against: cqrs-es 0.5 with
//! postgres-es (event-sourced, no snapshots — the framework's own convenience constructor and
//! connection pool), one document aggregate taking the eleven commands of the engine's
//! bench flow (拟稿, then ten steps to 归档), each command's events appended with the
//! framework's optimistic concurrency. Prints commands/s and p50/p99 per client count,
//! medians of three rounds, as `workflow bench` does; run it in the same window as
//! `workflow bench --store postgres://…` and compare the lines.
//!
//! It makes a database of its own from the URL's (`CREATE DATABASE`), and drops it at the end.

use std::time::{Duration, Instant};

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};
use sqlx::Executor;

/// The eleven steps of the bench's flow, after which a document is filed.
const STEPS: u8 = 10;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Document {
    title: String,
    body: String,
    step: u8,
    opinions: Vec<String>,
}

#[derive(Debug, Clone)]
enum Command {
    Draft {
        title: String,
        body: String,
    },
    Advance {
        step: u8,
        actor: String,
        opinion: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Event {
    Drafted {
        title: String,
        body: String,
    },
    Advanced {
        step: u8,
        actor: String,
        opinion: String,
    },
}

impl DomainEvent for Event {
    fn event_type(&self) -> String {
        match self {
            Event::Drafted { .. } => "Drafted".into(),
            Event::Advanced { .. } => "Advanced".into(),
        }
    }
    fn event_version(&self) -> String {
        "1".into()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refused(String);

impl Aggregate for Document {
    const TYPE: &'static str = "document";
    type Command = Command;
    type Event = Event;
    type Error = Refused;
    type Services = ();

    async fn handle(
        &mut self,
        command: Command,
        _: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), Refused> {
        match command {
            Command::Draft { title, body } => {
                if !self.title.is_empty() {
                    return Err(Refused("drafted already".into()));
                }
                if title.trim().is_empty() {
                    return Err(Refused("a title is required".into()));
                }
                sink.write(Event::Drafted { title, body }, self).await;
            }
            Command::Advance {
                step,
                actor,
                opinion,
            } => {
                if self.title.is_empty() || step != self.step + 1 || step > STEPS {
                    return Err(Refused(format!("step {step} is not next")));
                }
                sink.write(
                    Event::Advanced {
                        step,
                        actor,
                        opinion,
                    },
                    self,
                )
                .await;
            }
        }
        Ok(())
    }

    fn apply(&mut self, event: Event) {
        match event {
            Event::Drafted { title, body } => {
                self.title = title;
                self.body = body;
            }
            Event::Advanced { step, opinion, .. } => {
                self.step = step;
                self.opinions.push(opinion);
            }
        }
    }
}

/// The tables postgres-es 0.5 ships in its `db/init.sql`.
const SCHEMA: &str = "
CREATE TABLE events (
    aggregate_type text NOT NULL,
    aggregate_id text NOT NULL,
    sequence bigint CHECK (sequence >= 0) NOT NULL,
    event_type text NOT NULL,
    event_version text NOT NULL,
    payload json NOT NULL,
    metadata json NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);
CREATE TABLE snapshots (
    aggregate_type text NOT NULL,
    aggregate_id text NOT NULL,
    last_sequence bigint CHECK (last_sequence >= 0) NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload json NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);";

struct Args {
    url: String,
    seconds: f64,
    clients: Vec<usize>,
}

fn args() -> Result<Args, String> {
    let mut url = None;
    let mut seconds = 3.0;
    let mut clients = vec![1, 8, 64];
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--seconds" => {
                seconds = it
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--seconds takes a number")?;
            }
            "--clients" => {
                clients = it
                    .next()
                    .map(|s| s.split(',').map(str::parse).collect::<Result<Vec<_>, _>>())
                    .and_then(Result::ok)
                    .ok_or("--clients takes a list such as 1,8,64")?;
            }
            u if u.starts_with("postgres://") || u.starts_with("postgresql://") => {
                url = Some(u.to_owned());
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args {
        url: url.ok_or("usage: cqrs-es-reference postgres://user@host:port/db [--seconds S] [--clients 1,8,64]")?,
        seconds,
        clients,
    })
}

/// One document's eleven commands, each with its latency.
async fn flow(
    cqrs: &postgres_es::PostgresCqrs<Document>,
    id: &str,
    latencies: &mut Vec<Duration>,
) -> Result<(), String> {
    let body = "根据学校工作安排，现将有关事项通知如下。".repeat(24);
    let mut commands = vec![Command::Draft {
        title: format!("关于开展学年工作检查的通知 {id}"),
        body,
    }];
    for step in 1..=STEPS {
        commands.push(Command::Advance {
            step,
            actor: format!("actor-{step}"),
            opinion: "同意，请按程序办理。".into(),
        });
    }
    for command in commands {
        let t = Instant::now();
        cqrs.execute(id, command)
            .await
            .map_err(|e| format!("{id}: {e}"))?;
        latencies.push(t.elapsed());
    }
    Ok(())
}

struct Rate {
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn measure_once(
    cqrs: std::sync::Arc<postgres_es::PostgresCqrs<Document>>,
    clients: usize,
    seconds: f64,
    round: usize,
) -> Result<Rate, String> {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let cqrs = cqrs.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let id = format!("r{round}-c{c}-d{n}");
                    flow(&cqrs, &id, &mut latencies).await?;
                    n += 1;
                }
                Ok::<_, String>(latencies)
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.map_err(|e| e.to_string())??);
    }
    let took = started.elapsed().as_secs_f64();
    all.sort();
    let at = |q: f64| {
        all.get(((all.len() as f64 - 1.0) * q).round() as usize)
            .map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    Ok(Rate {
        per_sec: all.len() as f64 / took,
        p50_ms: at(0.5),
        p99_ms: at(0.99),
    })
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let args = args()?;
    let (base, db_name) = {
        let (head, _) = args
            .url
            .rsplit_once('/')
            .ok_or("the URL names no database")?;
        (
            head.to_owned(),
            format!("cqrs_reference_{}", std::process::id()),
        )
    };
    let admin = postgres_es::default_postgress_pool(&args.url).await;
    admin
        .execute(format!("CREATE DATABASE {db_name}").as_str())
        .await
        .map_err(|e| e.to_string())?;
    let result = async {
        let pool = postgres_es::default_postgress_pool(&format!("{base}/{db_name}")).await;
        pool.execute(SCHEMA).await.map_err(|e| e.to_string())?;
        let fsync: (String,) = sqlx::query_as("SHOW fsync")
            .fetch_one(&pool)
            .await
            .map_err(|e| e.to_string())?;
        println!("cqrs-es 0.5 + postgres-es 0.5 (event-sourced, the framework's pool); PostgreSQL fsync {}", fsync.0);
        let cqrs = std::sync::Arc::new(postgres_es::postgres_cqrs(pool, vec![], ()));
        for &clients in &args.clients {
            let mut rounds = Vec::new();
            for round in 0..3 {
                rounds.push(
                    measure_once(cqrs.clone(), clients, args.seconds, clients * 10 + round)
                        .await?,
                );
            }
            rounds.sort_by(|a, b| a.per_sec.total_cmp(&b.per_sec));
            let median = &rounds[1];
            println!(
                "cqrs-es + postgres-es, {clients} clients: commands/s {:.0}  (p50 {:.2} ms, p99 {:.2} ms)",
                median.per_sec, median.p50_ms, median.p99_ms
            );
        }
        Ok::<_, String>(())
    }
    .await;
    let _ = admin
        .execute(format!("DROP DATABASE IF EXISTS {db_name} WITH (FORCE)").as_str())
        .await;
    result
}
