//! Crash safety: a child process executes commands in a loop and reports each acknowledged
//! one; the parent kills it with SIGKILL at random moments, reopens the directory, and
//! checks that every acknowledged command is there, nothing is half-applied, positions are
//! gapless and the hash chain verifies. Several rounds on the same directory. The links
//! between flows hold however the kills fell: every 签收 has its one 收文, every 批办 that
//! asks for supervision its one 督办 item.
//!
//! The same on PostgreSQL: rounds killing the child (a server process), and one round
//! crashing PostgreSQL itself (an immediate shutdown, then recovery from its WAL) while the
//! child writes; the child's engine answers what it cannot commit with an error (one whose
//! COMMIT went unanswered stops it writing: its outcome is unknown), and then every
//! acknowledged command is there all the same.
//!
//! This file has its own `main` (harness = false): run with the argument `child PLACE` (a
//! data directory or a `postgres://` URL) it is the child; otherwise it is the test.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // test

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use workflow_store::Request;

const ROUNDS: usize = 5;

/// How a round ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// SIGKILL to the child.
    KillChild,
    /// PostgreSQL stopped with an immediate shutdown and started again; then the child,
    /// unable to go on, ends or is killed.
    CrashDatabase,
}

/// Opens the engine of a data directory or a PostgreSQL database, the fixture loaded.
async fn open_place(place: &str) -> workflow_store::Engine {
    if !place.starts_with("postgres://") {
        return open(std::path::Path::new(place)).await;
    }
    let storage = workflow_store::PostgresStorage::open(
        place,
        &workflow_testkit::postgres::Database::options(),
    )
    .unwrap();
    let engine = workflow_store::Engine::with_storage(
        std::sync::Arc::new(storage),
        workflow_store::Config {
            clock: stepping_clock(),
            ..workflow_store::Config::new(place)
        },
    )
    .unwrap();
    if engine.units().is_empty() {
        engine
            .load_directory_json(CAMPUS, "test", "the campus fixture")
            .await
            .unwrap();
    }
    engine
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("child") {
        child(&args[2]);
        return;
    }
    // cargo test passes harness flags; this binary has one test and ignores them.
    if args.iter().any(|a| a == "--list") {
        println!("crash_safety: test");
        return;
    }
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    parent(dir.path().to_str().unwrap(), &[Ending::KillChild; ROUNDS]);
    let db = workflow_testkit::postgres::Database::new();
    if workflow_testkit::postgres::server().can_crash() {
        parent(
            &db.url,
            &[
                Ending::KillChild,
                Ending::KillChild,
                Ending::CrashDatabase,
                Ending::KillChild,
            ],
        );
    } else {
        eprintln!(
            "crash test: WORKFLOW_TEST_POSTGRES names an outside server, which this test may not \
             crash: the PostgreSQL rounds kill the child only"
        );
        parent(&db.url, &[Ending::KillChild; 3]);
    }
    println!(
        "test crash_safety ... ok ({:.1}s)",
        started.elapsed().as_secs_f64()
    );
    println!("\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out");
}

fn child(place: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let engine = open_place(place).await;
        let out = std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
        println!("READY");
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                let (engine, out) = (engine.clone(), out.clone());
                tokio::spawn(async move {
                    loop {
                        let id = new_id();
                        for (actor, action) in full_flow() {
                            let r = Request::new(id, actor, action);
                            let cid = r.command_id.clone();
                            let o = match engine.execute(r).await {
                                Ok(o) => o,
                                Err(e) => {
                                    eprintln!("child: {e}");
                                    return;
                                }
                            };
                            let last = o.events.last().map_or(0, |e| e.position);
                            let mut out = out.lock().unwrap();
                            writeln!(out, "ACK {cid} {id} {} {last}", o.version).unwrap();
                            out.flush().unwrap();
                        }
                    }
                })
            })
            .collect();
        // One more task: the sample 收文 up to a 批办 that asks for supervision, whose 督办
        // item the engine opens in the same group.
        let supervised = {
            let (engine, out) = (engine.clone(), out.clone());
            tokio::spawn(async move {
                let sample = workflow_testkit::incoming::incoming_sample();
                loop {
                    let id = new_id();
                    let steps = workflow_testkit::incoming::instruct_flow(&sample, "J012");
                    for (actor, action) in steps.into_iter().take(4) {
                        let action = match action {
                            workflow_core::incoming::IncomingAction::Instruct {
                                lead_unit,
                                co_units,
                                deadline,
                                opinion,
                                ..
                            } => workflow_core::incoming::IncomingAction::Instruct {
                                lead_unit,
                                co_units,
                                deadline,
                                opinion,
                                supervise: true,
                            },
                            other => other,
                        };
                        let r = Request::new(id, actor, action);
                        let cid = r.command_id.clone();
                        let o = match engine.execute(r).await {
                            Ok(o) => o,
                            Err(e) => {
                                eprintln!("child: {e}");
                                return;
                            }
                        };
                        let last = o.events.last().map_or(0, |e| e.position);
                        let mut out = out.lock().unwrap();
                        writeln!(out, "ACK {cid} {id} {} {last}", o.version).unwrap();
                        out.flush().unwrap();
                    }
                }
            })
        };
        // The tasks loop until the parent kills this process.
        futures::future::join_all(tasks.into_iter().chain([supervised])).await;
    });
}

/// A small xorshift generator seeded from the clock: random kill moments, reproducible by
/// printing the seed.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn parent(place: &str, endings: &[Ending]) {
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("crash test seed {seed}");
    let mut rng = Rng(seed);
    let exe = std::env::current_exe().unwrap();
    let mut acked: BTreeMap<String, (String, u64, u64)> = BTreeMap::new();
    for (round, ending) in endings.iter().enumerate() {
        let mut child = Command::new(&exe)
            .arg("child")
            .arg(place)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait until the child is working, then let it run a random while.
        assert_eq!(rx.recv_timeout(Duration::from_secs(60)).unwrap(), "READY");
        std::thread::sleep(Duration::from_millis(100 + rng.next() % 700));
        assert!(
            child.try_wait().unwrap().is_none(),
            "round {round}: the child stopped by itself"
        );
        if *ending == Ending::CrashDatabase {
            workflow_testkit::postgres::server().crash_and_restart();
            // Each of its writing tasks stops at its first refused command, so the child
            // ends by itself once it has noticed.
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline && child.try_wait().unwrap().is_none() {
                std::thread::sleep(Duration::from_millis(100));
            }
            assert!(
                child.try_wait().unwrap().is_some(),
                "round {round}: the child did not notice that the database crashed"
            );
        }
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        let mut this_round = 0;
        for line in rx.try_iter() {
            let parts: Vec<&str> = line.split(' ').collect();
            if let ["ACK", cid, doc, version, last] = parts[..] {
                acked.insert(
                    cid.to_owned(),
                    (
                        doc.to_owned(),
                        version.parse().unwrap(),
                        last.parse().unwrap(),
                    ),
                );
                this_round += 1;
            }
        }
        eprintln!("{place}: round {round} ({ending:?})");
        check(place, &acked, round, this_round);
    }
    assert!(
        acked.len() > 50,
        "too few commands acknowledged to mean anything: {}",
        acked.len()
    );
}

fn check(
    place: &str,
    acked: &BTreeMap<String, (String, u64, u64)>,
    round: usize,
    this_round: usize,
) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let engine = open_place(place).await;
        let head = engine.head();
        let report = engine.verify(|_, _| {}).unwrap();
        assert!(
            report.is_intact(),
            "round {round}: {:?}",
            report.first_break
        );
        assert_eq!(report.checked, head, "positions are gapless up to the head");
        // Every acknowledged command is present with its outcome.
        for (cid, (doc, version, last)) in acked {
            let o = engine
                .command_outcome(cid)
                .unwrap()
                .unwrap_or_else(|| panic!("round {round}: acknowledged {cid} lost"));
            assert_eq!(
                (o.document_id.to_string(), o.version),
                (doc.clone(), *version)
            );
            assert_eq!(o.events.last().map(|e| e.position), Some(*last));
        }
        // Nothing half-applied: every command in the log has its record, covering exactly
        // its events, and every state projection equals the fold of its stream.
        let log = engine.read_log(1, usize::MAX).unwrap();
        let mut by_command: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
        for e in &log {
            by_command
                .entry(e.command_id.as_str())
                .or_default()
                .push(e.position);
        }
        for (cid, positions) in by_command {
            let o = engine
                .command_outcome(cid)
                .unwrap()
                .unwrap_or_else(|| panic!("{cid} in log without record"));
            assert_eq!(
                o.events.iter().map(|e| e.position).collect::<Vec<_>>(),
                positions
            );
        }
        assert!(
            engine.verify_projections().unwrap().is_empty(),
            "round {round}: projections differ from the log"
        );
        // The link from 发文: every 签收 in the log has exactly one 收文 for its unit, written
        // right after it by the command its position names, and no 收文 came from nothing —
        // however the kills fell.
        let mut acks = BTreeMap::new();
        let mut linked: BTreeMap<u64, usize> = BTreeMap::new();
        // And the link from 批办: every 批办 asking for supervision has exactly one item.
        let mut instructed = BTreeMap::new();
        let mut opened: BTreeMap<u64, usize> = BTreeMap::new();
        for e in &log {
            match e.event().unwrap().data {
                workflow_core::FlowEvent::Outgoing(workflow_core::outgoing::EventData::Acknowledged {
                    recipient,
                }) => {
                    acks.insert(e.position, (e.stream_id, recipient));
                }
                workflow_core::FlowEvent::Incoming(workflow_core::incoming::IncomingEvent::Registered {
                    registration,
                    unit,
                    ..
                }) if registration.source.is_some() || e.command_id.starts_with("link:") => {
                    let at: u64 = e
                        .command_id
                        .strip_prefix("link:")
                        .and_then(|p| p.parse().ok())
                        .unwrap_or_else(|| panic!("a 收文 not from a 签收: {}", e.command_id));
                    let (source, recipient) = acks
                        .get(&at)
                        .unwrap_or_else(|| panic!("round {round}: 收文 at {} names no 签收", e.position));
                    assert_eq!((registration.source, &unit), (Some(*source), recipient));
                    assert_eq!(e.position, at + 1, "registered in the 签收's group, right after it");
                    *linked.entry(at).or_default() += 1;
                }
                workflow_core::FlowEvent::Incoming(workflow_core::incoming::IncomingEvent::Instructed {
                    supervise: true,
                    ..
                }) => {
                    instructed.insert(
                        e.position,
                        workflow_core::supervision::linked_item_id(e.stream_id, e.version),
                    );
                }
                workflow_core::FlowEvent::Supervision(
                    workflow_core::supervision::SupervisionEvent::ItemOpened { spec, .. },
                ) => {
                    let at: u64 = e
                        .command_id
                        .strip_prefix("supervise:")
                        .and_then(|p| p.parse().ok())
                        .unwrap_or_else(|| panic!("an item not from a 批办: {}", e.command_id));
                    let item = instructed.get(&at).unwrap_or_else(|| {
                        panic!("round {round}: item at {} names no 批办", e.position)
                    });
                    assert_eq!(e.stream_id, *item);
                    assert!(matches!(
                        spec.source,
                        workflow_core::supervision::Source::Instruction { .. }
                    ));
                    assert_eq!(e.position, at + 1, "opened in the 批办's group, right after it");
                    *opened.entry(at).or_default() += 1;
                }
                _ => {}
            }
        }
        for at in instructed.keys() {
            assert_eq!(
                opened.get(at),
                Some(&1),
                "round {round}: the 批办 at {at} has {:?} items",
                opened.get(at)
            );
        }
        for at in acks.keys() {
            assert_eq!(
                linked.get(at),
                Some(&1),
                "round {round}: the 签收 at {at} has {:?} 收文",
                linked.get(at)
            );
        }
        eprintln!(
            "round {round}: {this_round} acknowledged, log head {head}, all present; {} 签收, each with its one 收文; {} 批办 with supervision, each with its one 督办 item",
            acks.len(),
            instructed.len()
        );
    });
}
