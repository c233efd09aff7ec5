//! The engine on PostgreSQL: the sample flow, 收文 and 督办 through it, verify, rebuild
//! equality, reopening, two engines (as two server processes would) sharing one database,
//! and the server checks made on opening. Runs on the test kit's throwaway cluster (or the
//! server `WORKFLOW_TEST_POSTGRES` names); fails, naming `scripts/test`, without PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;

use common::*;
use workflow_store::{
    Config, Drills, Engine, Error, PostgresOptions, PostgresStorage, Request, Storage,
};
use workflow_testkit::postgres::Database;

async fn engine_on(db: &Database) -> Engine {
    let storage: Arc<dyn Storage> = Arc::new(db.open());
    let engine = Engine::with_storage(
        storage,
        Config {
            clock: stepping_clock(),
            ..Config::new(&db.url)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_flow_runs_verifies_rebuilds_and_reopens_on_postgres() {
    let db = Database::new();
    let engine = engine_on(&db).await;
    let archived = drive(&engine, steps::ARCHIVED).await;
    let in_review = drive(&engine, steps::IN_REVIEW).await;
    let doc = engine.document(archived).unwrap().unwrap();
    assert_eq!(doc.state(), workflow_core::outgoing::State::Archived);
    assert!(doc.issue().is_some());
    // The 签收 in the flow registered the recipients' 收文 in the same groups.
    let page = engine
        .list(&workflow_store::ListQuery {
            flow: Some(workflow_core::StreamKind::Incoming),
            page_size: 100,
            ..Default::default()
        })
        .unwrap();
    assert!(!page.receipts().is_empty());
    let report = engine.verify(|_, _| {}).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.checked, engine.head());
    assert!(report.fixity_checked >= 1);
    assert!(engine.verify_projections().unwrap().is_empty());
    // Rebuilt in place and from scratch, the projections are what the writes made.
    let before = engine.dump_projections().unwrap();
    engine.rebuild(|_, _| {}).await.unwrap();
    assert_eq!(engine.dump_projections().unwrap(), before);
    engine.rebuild_from_scratch(|_, _| {}).await.unwrap();
    assert_eq!(engine.dump_projections().unwrap(), before);
    // A retry with the same command id is answered from the record.
    let head = engine.head();
    drop(engine);
    let engine = engine_on(&db).await;
    assert_eq!(engine.head(), head, "reopened at the same head");
    assert_eq!(
        engine.document(in_review).unwrap().unwrap().state(),
        workflow_core::outgoing::State::InReview
    );
    drive_on(&engine, in_review, steps::IN_REVIEW, steps::ARCHIVED).await;
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_on_one_database_keep_positions_gapless_and_numbers_unique() {
    let db = Database::new();
    let a = engine_on(&db).await;
    let b = engine_on(&db).await;
    // Both write, interleaved and concurrently. A writer that finds the other appended
    // first decides its group again against what is stored: no client sees the conflict.
    let mut tasks = Vec::new();
    for i in 0..8usize {
        let engine = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let id = new_id();
            for (actor, action) in full_flow().into_iter().take(steps::ISSUED) {
                if let Err(e) = engine.execute(Request::new(id, actor, action)).await {
                    panic!("{e}");
                }
            }
            id
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap());
    }
    // Both started from the same head: the second to commit found the first's events.
    assert!(
        a.redecided_groups() + b.redecided_groups() >= 1,
        "no writer noticed the other"
    );
    // One log: positions 1..=head, each once, the chain intact, seen alike by both.
    let c = engine_on(&db).await;
    let events = c.read_log(1, 100_000).unwrap();
    let positions: Vec<u64> = events.iter().map(|e| e.position).collect();
    assert_eq!(positions, (1..=positions.len() as u64).collect::<Vec<_>>());
    assert!(c.verify(|_, _| {}).unwrap().is_intact());
    // Every document issued, each with its own 发文字号.
    let numbers: BTreeSet<String> = ids
        .iter()
        .map(|id| {
            let d = c.document(*id).unwrap().unwrap();
            assert_eq!(d.state(), workflow_core::outgoing::State::Issued);
            d.issue().unwrap().number.to_string()
        })
        .collect();
    assert_eq!(numbers.len(), ids.len(), "{numbers:?}");
}

/// Waits (up to ten seconds) for `done`.
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("not within ten seconds: {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_moved_on_through_another_engine_is_decided_on_what_it_became() {
    let db = Database::new();
    let a = engine_on(&db).await;
    let b = engine_on(&db).await;
    // A writes the first steps (and holds the document in its writer's memory), B the next,
    // then A the rest: A decides against what B made, not what it remembers.
    let id = drive(&a, steps::IN_REVIEW).await;
    drive_on(&b, id, steps::IN_REVIEW, steps::COUNTERSIGNING).await;
    drive_on(&a, id, steps::COUNTERSIGNING, steps::ISSUED).await;
    let doc = b.document(id).unwrap().unwrap();
    assert_eq!(doc.state(), workflow_core::outgoing::State::Issued);
    // A command with an expected version A's memory would have accepted is refused.
    let (actor, action) = full_flow().swap_remove(steps::ISSUED);
    let mut stale = Request::new(id, actor, action);
    stale.expected_version = Some(steps::IN_REVIEW as u64);
    assert!(matches!(
        a.execute(stale).await,
        Err(Error::Conflict { .. })
    ));
    assert!(a.verify(|_, _| {}).unwrap().is_intact());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_engines_commits_reach_live_subscribers_and_the_directory() {
    use futures::StreamExt;
    let db = Database::new();
    let a = engine_on(&db).await;
    let b = engine_on(&db).await;
    // A live subscriber on A, from the head on.
    let mut live = Box::pin(a.subscribe(a.head() + 1, Default::default()));
    let id = drive(&b, steps::IN_REVIEW).await;
    let expected = b.history(id).unwrap();
    for e in &expected {
        let got = tokio::time::timeout(std::time::Duration::from_secs(10), live.next())
            .await
            .expect("an event written through B reaches A's subscriber")
            .unwrap()
            .unwrap();
        assert_eq!((got.position, &got.hash), (e.position, &e.hash));
    }
    // A directory change made through B is in force on A without a restart.
    assert!(!a.is_deactivated(&"li.qiang".into()));
    b.change_directory(workflow_core::directory::DirectoryAction::DeactivateActor {
        actor: "li.qiang".into(),
        system: "hr-system".into(),
        reason: "调岗".into(),
    })
    .await
    .unwrap();
    eventually("A sees li.qiang deactivated", || {
        a.is_deactivated(&"li.qiang".into())
    })
    .await;
    assert_eq!(a.head(), b.head());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_append_to_one_access_log_in_one_chain() {
    use workflow_store::access::AccessRecord;
    let db = Database::new();
    let a = engine_on(&db).await;
    let b = engine_on(&db).await;
    let read = |actor: &str| AccessRecord {
        system: "oa-portal".into(),
        actor: Some(actor.into()),
        what: "GetDocument".into(),
        document_id: new_id(),
        classification: workflow_core::directory::Classification::Secret,
        detail: String::new(),
    };
    let mut tasks = Vec::new();
    for i in 0..6usize {
        let engine = if i % 2 == 0 { a.clone() } else { b.clone() };
        let records: Vec<AccessRecord> = (0..10).map(|_| read("zhang.wei")).collect();
        tasks.push(tokio::spawn(async move {
            for r in records {
                engine.record_access(r).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let report = a.verify_access_log().unwrap();
    assert!(report.is_intact(), "{:?}", report.first_break);
    assert_eq!(report.checked, 60);
}

#[test]
fn a_server_without_fsync_is_refused_unless_allowed() {
    let db = Database::new();
    // The test cluster runs with fsync = off.
    let refused = PostgresStorage::open(&db.url, &PostgresOptions::default()).unwrap_err();
    match refused {
        Error::NotAStore { reason, .. } => assert!(reason.contains("fsync = off"), "{reason}"),
        other => panic!("not refused as expected: {other}"),
    }
    PostgresStorage::open(&db.url, &Database::options()).unwrap();
}

#[test]
fn the_schema_is_migrated_once_and_a_newer_one_is_refused() {
    let db = Database::new();
    let s = db.open();
    assert_eq!(
        s.migrate().unwrap(),
        workflow_store::storage::postgres::SCHEMA_VERSION
    );
    drop(s);
    db.execute("UPDATE wf_meta SET value = '\\x00000063'::bytea WHERE key = 'schema'");
    match PostgresStorage::open(&db.url, &Database::options()).unwrap_err() {
        Error::NotAStore { reason, .. } => assert!(reason.contains("newer build"), "{reason}"),
        other => panic!("a newer schema was not refused: {other}"),
    }
}

/// Takes `n` new documents through the sample flow to 印发 on `engine`; their ids.
async fn issue_documents(engine: Engine, n: usize) -> Vec<workflow_core::DocumentId> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let id = new_id();
        for (actor, action) in full_flow().into_iter().take(steps::ISSUED) {
            engine
                .execute(Request::new(id, actor, action))
                .await
                .unwrap();
        }
        ids.push(id);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_and_rebuilding_while_another_engine_writes_stay_consistent() {
    let db = Database::new();
    let a = engine_on(&db).await;
    let writer = tokio::spawn(issue_documents(a.clone(), 6));
    // Servers starting while another writes read the log's end and the recorded head
    // together: none of them finds a mismatch.
    for _ in 0..4 {
        let c = engine_on(&db).await;
        assert!(
            !c.is_halted(),
            "a server opened during writes refused to write"
        );
    }
    // A rebuild, in place and from scratch, holds the other writers off: no number is
    // drawn twice, no record of theirs removed.
    let b = engine_on(&db).await;
    b.rebuild_from_scratch(|_, _| {}).await.unwrap();
    b.rebuild(|_, _| {}).await.unwrap();
    let ids = writer.await.unwrap();
    assert!(b.verify(|_, _| {}).unwrap().is_intact());
    assert!(
        b.verify_projections().unwrap().is_empty(),
        "projections = the log"
    );
    let numbers: BTreeSet<String> = ids
        .iter()
        .map(|id| {
            b.document(*id)
                .unwrap()
                .unwrap()
                .issue()
                .unwrap()
                .number
                .to_string()
        })
        .collect();
    assert_eq!(numbers.len(), ids.len(), "{numbers:?}");
    for id in &ids {
        for e in a.history(*id).unwrap() {
            assert!(b.command_outcome(&e.command_id).unwrap().is_some());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_that_lost_commits_this_server_saw_stops_it_writing() {
    let db = Database::new();
    let a = engine_on(&db).await;
    drive(&a, steps::IN_REVIEW).await;
    let head = a.head();
    // As after a failover to a standby that lacked the last commits: the store's head is
    // behind what the server saw.
    let storage = db.open();
    let earlier = a.read_log(head - 1, 1).unwrap().pop().unwrap();
    storage
        .raw_set_recorded_head(earlier.position, &earlier.hash)
        .unwrap();
    storage.raw_remove_log(head).unwrap();
    let refused = a
        .execute(Request::new(
            new_id(),
            "wang.fang",
            workflow_core::outgoing::Action::Draft(fields()),
        ))
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::Corrupt { .. }), "{refused}");
    assert!(a.is_halted());
    assert_eq!(a.head(), head, "the head never moves back");
}

/// PostgreSQL keeps whole records: one without its content (a damaged row; sled keeps the
/// content apart and reads records without it) is corrupt, not read as an empty draft.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_without_its_content_is_corrupt_on_postgres() {
    let db = Database::new();
    let engine = engine_on(&db).await;
    let id = drive(&engine, steps::IN_REVIEW).await;
    let key = id.0.as_bytes().to_vec();
    let (_, _, stored) = engine
        .dump_projections()
        .unwrap()
        .into_iter()
        .find(|(part, k, _)| part == "docs" && *k == key)
        .unwrap();
    let mut record: serde_json::Value = serde_json::from_slice(&stored).unwrap();
    let draft = record["state"]
        .as_object_mut()
        .and_then(|s| s.values_mut().next())
        .and_then(|d| d.as_object_mut())
        .unwrap();
    assert!(draft.remove("fields").is_some(), "{stored:?}");
    let damaged = serde_json::to_vec(&record).unwrap();
    engine
        .tamper_projection("docs", &key, Some(&damaged))
        .unwrap();
    match engine.document(id) {
        Err(Error::Corrupt { at, reason }) => {
            assert!(at.contains(&id.to_string()), "{at}");
            // The state does not parse without its content: never an empty draft.
            assert!(reason.contains("missing field `fields`"), "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    // A rebuild repairs it.
    engine.rebuild(|_, _| {}).await.unwrap();
    assert_eq!(
        engine.document(id).unwrap().unwrap().state(),
        workflow_core::outgoing::State::InReview
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_memo_runs_verifies_rebuilds_and_reopens_on_postgres() {
    use workflow_core::submission::Step;
    let db = Database::new();
    let engine = engine_on(&db).await;
    let deadline = chrono::NaiveDate::from_ymd_opt(2027, 4, 30).unwrap();
    let flow = workflow_testkit::submission::memo_flow(deadline, "J012");
    let id = new_id();
    for (actor, action) in flow.iter().cloned() {
        run(&engine, id, actor, action).await;
    }
    let memo = |engine: &Engine| {
        engine
            .state(id)
            .unwrap()
            .and_then(workflow_core::FlowState::into_submission)
            .unwrap()
    };
    let m = memo(&engine);
    assert_eq!(m.step(), Step::Archived);
    assert_eq!(m.number().unwrap().to_string(), "X校教签〔2026〕1号");
    assert_eq!(
        m.supervision_items().len(),
        1,
        "the 批示 opened its 督办 item"
    );
    let report = engine.verify(|_, _| {}).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert!(report.fixity_checked >= 1);
    assert!(engine.verify_projections().unwrap().is_empty());
    let before = engine.dump_projections().unwrap();
    engine.rebuild_from_scratch(|_, _| {}).await.unwrap();
    assert_eq!(engine.dump_projections().unwrap(), before);
    drop(engine);
    let engine = engine_on(&db).await;
    assert_eq!(memo(&engine), m, "reopened, the same 签报");
    // The next 签报 of the unit takes the next number.
    let next = new_id();
    for (actor, action) in flow[..6].iter().cloned() {
        run(&engine, next, actor, action).await;
    }
    let n = engine
        .state(next)
        .unwrap()
        .and_then(workflow_core::FlowState::into_submission)
        .unwrap();
    assert_eq!(n.number().unwrap().to_string(), "X校教签〔2026〕2号");
}

/// Two servers of a store chained with SM3, both opened while it was still empty: the log
/// each writes on is SM3 from its first event, whoever writes first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_engines_chain_one_empty_database_with_sm3() {
    use workflow_store::envelope::ChainDigest;
    let db = Database::new();
    let open = || {
        let storage: Arc<dyn Storage> = Arc::new(db.open());
        Engine::with_storage(
            storage,
            Config {
                clock: stepping_clock(),
                chain_digest: Some(ChainDigest::Sm3),
                ..Config::new(&db.url)
            },
        )
        .unwrap()
    };
    let (a, b) = (open(), open());
    assert_eq!((a.head(), b.head()), (0, 0));
    a.load_directory_json(CAMPUS, "test", "the campus fixture")
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for i in 0..4usize {
        let engine = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let id = new_id();
            for (actor, action) in full_flow().into_iter().take(steps::ARCHIVED) {
                if let Err(e) = engine.execute(Request::new(id, actor, action)).await {
                    panic!("{e}");
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let c = open();
    let events = c.read_log(1, 100_000).unwrap();
    assert!(events.len() > 40);
    assert!(
        events.iter().all(|e| e.hash.starts_with("sm3:")),
        "every hash SM3"
    );
    let report = c.verify(|_, _| {}).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert!(report.fixity_checked >= 4, "{report:?}");
    // A server asking for SHA-256 on it is refused.
    let storage: Arc<dyn Storage> = Arc::new(db.open());
    let refused = Engine::with_storage(
        storage,
        Config {
            chain_digest: Some(ChainDigest::Sha256),
            ..Config::new(&db.url)
        },
    )
    .unwrap_err();
    assert!(
        refused.to_string().contains("chained with SM3"),
        "{refused}"
    );
}

/// On PostgreSQL the writer does not read a group's command ids when it holds every stream of
/// the group: it takes them as new, and the commit (or, for a group that writes nothing, a
/// read after deciding) finds a recorded one, so that the group is decided again with the
/// records read. A retry is answered with its first outcome however it is grouped: alone
/// (its fresh decision a refusal: the document exists, then has moved on), beside new
/// commands that write, and for another document it is refused as a reused id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_is_answered_with_its_first_outcome_though_its_id_is_not_read_first() {
    use workflow_core::outgoing::Action;
    let db = Database::new();
    let engine = engine_on(&db).await;
    let id = new_id();
    let r = Request {
        command_id: "oa-portal:42".into(),
        ..Request::new(id, "wang.fang", Action::Draft(fields()))
    };
    let first = engine.execute(r.clone()).await.unwrap();
    let redecided = engine.redecided_groups();
    // Alone: decided fresh it would be refused (the document exists).
    let again = engine.execute(r.clone()).await.unwrap();
    assert!(again.replayed && !first.replayed);
    assert_eq!(
        (again.version, &again.events),
        (first.version, &first.events)
    );
    assert!(
        engine.redecided_groups() > redecided,
        "the id was taken as new, found recorded, and the group decided again"
    );
    run(
        &engine,
        id,
        "wang.fang",
        Action::SubmitForReview { route: route() },
    )
    .await;
    let head = engine.head();
    // Beside commands that write, sent at once so that they may share a group.
    let others: Vec<_> = (0..6).map(|_| new_id()).collect();
    let mut sent = vec![engine.execute(r.clone())];
    for other in &others {
        sent.push(engine.execute(Request::new(*other, "wang.fang", Action::Draft(fields()))));
    }
    let answers = futures::future::join_all(sent).await;
    let answers: Vec<_> = answers.into_iter().map(Result::unwrap).collect();
    assert!(answers[0].replayed);
    assert_eq!(answers[0].version, 1);
    assert_eq!(answers[0].events, first.events);
    assert!(answers[1..].iter().all(|o| !o.replayed && o.version == 1));
    assert_eq!(
        engine.head(),
        head + others.len() as u64,
        "each new document's draft once, nothing for the retry"
    );
    // The same id for another document is refused.
    let other = Request {
        document_id: new_id(),
        ..r
    };
    assert!(matches!(
        engine.execute(other).await,
        Err(Error::CommandIdReused { .. })
    ));
    let report = engine.verify(|_, _| {}).unwrap();
    assert!(report.is_intact(), "{report:?}");
}
