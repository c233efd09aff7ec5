//! Injected storage faults (a commit refused before writing, a transaction a full disk fails
//! after sled applied it, a flush or a sync that fails, reads that fail) and what callers
//! are told: no caller is answered OK before the events its answer names are flushed, when
//! a group fails every answer that depends on it fails alike, and once storage may hold
//! what the disk does not, the engine stops writing.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use common::*;
use workflow_core::outgoing::Action;
use workflow_store::{Engine, Error, Outcome, Request, faults_for};

fn draft_request() -> Request {
    Request::new(new_id(), "wang.fang", Action::Draft(fields()))
}

/// Sends a request on a task of its own, so that it queues behind a held commit.
fn send(engine: &Engine, r: Request) -> tokio::task::JoinHandle<Result<Outcome, Error>> {
    let engine = engine.clone();
    tokio::spawn(async move { engine.execute(r).await })
}

/// Waits until a group's commit is in flight, held.
async fn in_flight(path: &std::path::Path) {
    let started = std::time::Instant::now();
    while faults_for(path).held_commits() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no commit in flight"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Waits until exactly `n` requests wait in the writer's queue (behind a held commit).
async fn queued(engine: &Engine, n: usize) {
    let started = std::time::Instant::now();
    while engine.queued_requests() != n {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{} queued, expected {n}",
            engine.queued_requests()
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_in_the_same_group_as_its_failed_original_fails_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let faults = faults_for(dir.path());
    // X's commit is in flight; the original A and its retry A' queue behind it, together.
    faults.hold_commits();
    let x = send(&engine, draft_request());
    in_flight(dir.path()).await; // the writer took X; its commit waits
    let a = draft_request();
    let original = send(&engine, a.clone());
    let retry = send(&engine, a.clone());
    queued(&engine, 2).await;
    faults.fail_commit(1); // X's commit succeeds, the next (A and A') fails
    faults.release_commits();
    let x = x.await.unwrap().unwrap();
    for (who, r) in [("original", original), ("retry", retry)] {
        let e = r.await.unwrap().unwrap_err();
        assert!(matches!(e, Error::CommitFailed { .. }), "{who}: {e}");
    }
    // Nothing of A was written, and nothing says it was.
    let head = engine.head();
    assert_eq!(head, x.events[0].position);
    assert!(engine.command_outcome(&a.command_id).unwrap().is_none());
    assert!(engine.document(a.document_id).unwrap().is_none());
    // A third try executes it anew, at the next position, and it survives a restart.
    let o = engine.execute(a.clone()).await.unwrap();
    assert!(!o.replayed);
    assert_eq!(o.events[0].position, head + 1);
    drop(engine);
    let engine = open(dir.path()).await;
    let again = engine.execute(a).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.events, o.events);
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
}

/// A retry decided in the same group as its original is answered with the original's
/// events (those the group is about to write), and a second command id of a different
/// request is refused: the group's own outcomes answer, not a reading back of its bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_in_the_same_group_as_its_original_gets_its_events() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let faults = faults_for(dir.path());
    faults.hold_commits();
    let x = send(&engine, draft_request());
    in_flight(dir.path()).await;
    // In this order (each queued before the next is sent): A, its retry, and another
    // request under A's command id.
    let a = draft_request();
    let original = send(&engine, a.clone());
    queued(&engine, 1).await;
    let retry = send(&engine, a.clone());
    queued(&engine, 2).await;
    let mut other = draft_request();
    other.command_id = a.command_id.clone();
    let reused = send(&engine, other);
    queued(&engine, 3).await;
    faults.release_commits();
    x.await.unwrap().unwrap();
    let original = original.await.unwrap().unwrap();
    let retry = retry.await.unwrap().unwrap();
    assert!(!original.replayed && retry.replayed);
    assert_eq!(retry.events, original.events);
    assert_eq!(retry.version, original.version);
    let e = reused.await.unwrap().unwrap_err();
    assert!(matches!(e, Error::CommandIdReused { .. }), "{e}");
    assert_eq!(
        engine.execute(a).await.unwrap().events,
        original.events,
        "and from the store afterwards"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_queued_behind_its_failing_original_is_executed_anew() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let faults = faults_for(dir.path());
    let before = engine.head();
    // A's group is in flight and fails; its retry waits for the next group.
    faults.hold_commits();
    let a = draft_request();
    let original = send(&engine, a.clone());
    in_flight(dir.path()).await;
    let retry = send(&engine, a.clone());
    queued(&engine, 1).await;
    faults.fail_commit(0);
    faults.release_commits();
    let e = original.await.unwrap().unwrap_err();
    assert!(matches!(e, Error::CommitFailed { .. }), "{e}");
    // The retry is not answered from A's unwritten events: it runs again and lands.
    let o = retry.await.unwrap().unwrap();
    assert!(!o.replayed);
    assert_eq!(o.events[0].position, before + 1);
    assert_eq!(engine.head(), before + 1);
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
}

/// Waits until a condition holds (ten seconds at most).
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !done() {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "not so: {what}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Where in a sled commit an injected failure comes.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// After sled applied the group's transaction to its trees in memory (a full disk).
    Transaction,
    /// At the flush of what was written.
    Flush,
    /// At the sync to stable storage after the flush.
    Sync,
}

impl Step {
    /// Arms the failure: `after` more of this step succeed first.
    fn arm(self, faults: &workflow_store::Faults, after: u32) {
        match self {
            Step::Transaction => faults.fail_transaction(after),
            Step::Flush => faults.fail_flush(after),
            Step::Sync => faults.fail_sync(after),
        }
    }
}

/// Once the engine has stopped writing after an uncertain group A: a later retry of A is
/// not answered OK, nothing reads A's document or outcome, the other documents still read;
/// after a restart, what was acknowledged is there, and a retry of A returns its events or
/// executes it anew — never a different event at its position.
async fn after_an_uncertain_group(
    step: Step,
    dir: &std::path::Path,
    engine: Engine,
    a: Request,
    acknowledged: Outcome,
) {
    assert!(engine.is_halted(), "{step:?}: health says so at once");
    let e = engine.execute(a.clone()).await.unwrap_err();
    assert!(matches!(e, Error::Halted { .. }), "{step:?}: {e}");
    assert!(e.is_retryable());
    assert!(
        e.to_string()
            .contains("retry them with the same command_id"),
        "{e}"
    );
    assert!(
        e.to_string().contains("No space left on device")
            && !e.to_string().contains("nothing was written"),
        "the cause, and no claim that nothing was written: {e}"
    );
    assert!(engine.command_outcome(&a.command_id).unwrap().is_none());
    // Reads of what the failed group touched are refused until the restart: it may not
    // have reached the disk, and no caller was told it did.
    let e = engine.document(a.document_id).unwrap_err();
    assert!(matches!(e, Error::Halted { .. }), "{step:?}: {e}");
    assert!(engine.history(a.document_id).is_err());
    assert!(
        engine.document(acknowledged.document_id).unwrap().is_some(),
        "other documents still read"
    );
    drop(engine);
    let engine = open(dir).await;
    assert!(engine.document(acknowledged.document_id).unwrap().is_some());
    let o = engine.execute(a.clone()).await.unwrap();
    let stored = engine.command_outcome(&a.command_id).unwrap().unwrap();
    assert_eq!(stored.events, o.events, "{step:?}");
    assert_eq!(o.document_id, a.document_id);
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_a_flush_or_sync_fails_neither_the_original_nor_any_retry_is_acknowledged() {
    for step in [Step::Flush, Step::Sync] {
        let dir = tempfile::tempdir().unwrap();
        let engine = open(dir.path()).await;
        let faults = faults_for(dir.path());
        let acknowledged = engine.execute(draft_request()).await.unwrap();
        // X's group is written and its sync waits; then A and A' share the next group,
        // written while X's sync waits, and synced by the next sync — which fails.
        faults.hold_syncs();
        let x = send(&engine, draft_request());
        until("X's sync is under way", || faults.held_syncs() == 1).await;
        let written = faults.groups_written();
        let a = draft_request();
        let original = send(&engine, a.clone());
        let same_group_retry = send(&engine, a.clone());
        until("A's group is written", || {
            faults.groups_written() == written + 1
        })
        .await;
        step.arm(&faults, 1);
        faults.release_syncs();
        x.await.unwrap().unwrap();
        for r in [original, same_group_retry] {
            let e = r.await.unwrap().unwrap_err();
            assert!(matches!(e, Error::Halted { .. }), "{step:?}: {e}");
        }
        after_an_uncertain_group(step, dir.path(), engine, a, acknowledged).await;
    }
}

/// A full disk fails sled's transaction after sled applied it in memory: the group is then
/// readable in sled but not on disk. Neither twin of a command in that group, nor one in
/// the next group (which would find the command's record in sled and replay it), is
/// answered OK; the engine stops writing instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transaction_failed_after_sled_applied_it_acknowledges_no_twin() {
    // Twins in one group, behind X's group in flight.
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let faults = faults_for(dir.path());
    let acknowledged = engine.execute(draft_request()).await.unwrap();
    faults.hold_commits();
    let x = send(&engine, draft_request());
    in_flight(dir.path()).await;
    let a = draft_request();
    let original = send(&engine, a.clone());
    let retry = send(&engine, a.clone());
    queued(&engine, 2).await;
    Step::Transaction.arm(&faults, 1); // X's transaction succeeds, A's group fails
    faults.release_commits();
    x.await.unwrap().unwrap();
    for (who, r) in [("original", original), ("retry", retry)] {
        let e = r.await.unwrap().unwrap_err();
        assert!(matches!(e, Error::Halted { .. }), "{who}: {e}");
    }
    after_an_uncertain_group(Step::Transaction, dir.path(), engine, a, acknowledged).await;

    // Twins across groups: A's group is in flight and fails; A' waits for the next group.
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let faults = faults_for(dir.path());
    let acknowledged = engine.execute(draft_request()).await.unwrap();
    faults.hold_commits();
    let a = draft_request();
    let original = send(&engine, a.clone());
    in_flight(dir.path()).await;
    let retry = send(&engine, a.clone());
    queued(&engine, 1).await;
    Step::Transaction.arm(&faults, 0);
    faults.release_commits();
    let e = original.await.unwrap().unwrap_err();
    assert!(matches!(e, Error::Halted { .. }), "original: {e}");
    let e = retry.await.unwrap().unwrap_err();
    assert!(
        matches!(e, Error::Halted { .. }),
        "the retry is not answered from the unwritten group: {e}"
    );
    // The same client's next command on another document is refused too, not decided
    // against a state memory holds and the disk may not.
    let e = engine.execute(draft_request()).await.unwrap_err();
    assert!(matches!(e, Error::Halted { .. }), "{e}");
    after_an_uncertain_group(Step::Transaction, dir.path(), engine, a, acknowledged).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_answers_unavailable_changes_nothing_and_passes() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let faults = faults_for(dir.path());
    let head = engine.head();
    // Reads fail as sled's do once a background flush hit a full disk.
    faults.fail_reads.store(true, Ordering::SeqCst);
    let r = draft_request();
    let e = engine.execute(r.clone()).await.unwrap_err();
    assert!(matches!(e, Error::Unavailable { .. }), "{e}");
    assert!(e.is_retryable());
    assert_eq!(e.reason(), "STORAGE_UNAVAILABLE");
    assert!(e.to_string().contains("No space left on device"), "{e}");
    assert_eq!(engine.head(), head);
    // Space freed: the same request goes through.
    faults.fail_reads.store(false, Ordering::SeqCst);
    let o = engine.execute(r).await.unwrap();
    assert!(!o.replayed);
    assert_eq!(engine.head(), head + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_decided_against_a_failed_groups_state_fails_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let faults = faults_for(dir.path());
    faults.hold_commits();
    let x = send(&engine, draft_request());
    in_flight(dir.path()).await;
    // In one group: a draft of D, then another draft of D (refused: D exists — but only
    // in this group), then a submission with an expected version only the group reached.
    let d = draft_request();
    let other_draft = Request::new(d.document_id, "wang.fang", Action::Draft(fields()));
    let mut submit = Request::new(
        d.document_id,
        "wang.fang",
        Action::SubmitForReview { route: route() },
    );
    submit.expected_version = Some(5);
    // One at a time, so that they queue in this order.
    let first = send(&engine, d.clone());
    queued(&engine, 1).await;
    let second = send(&engine, other_draft);
    queued(&engine, 2).await;
    let third = send(&engine, submit);
    queued(&engine, 3).await;
    faults.fail_commit(1);
    faults.release_commits();
    x.await.unwrap().unwrap();
    // Nothing of the group was written: no answer may say D exists or has a version.
    for (what, r) in [
        ("draft", first),
        ("second draft", second),
        ("submit", third),
    ] {
        let e = r.await.unwrap().unwrap_err();
        assert!(matches!(e, Error::CommitFailed { .. }), "{what}: {e}");
    }
    assert!(engine.document(d.document_id).unwrap().is_none());
}

#[tokio::test]
async fn a_failed_commit_writes_nothing_and_a_retry_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    faults_for(dir.path()).fail_commit(0);
    let request = draft_request();
    let e = engine.execute(request.clone()).await.unwrap_err();
    assert!(matches!(e, Error::CommitFailed { .. }), "{e}");
    assert!(e.to_string().contains("retry with the same command_id"));
    let d = directory_events();
    assert_eq!(engine.head(), d);
    assert!(engine.document(request.document_id).unwrap().is_none());
    let o = engine.execute(request.clone()).await.unwrap();
    assert!(!o.replayed);
    assert_eq!((engine.head(), o.events[0].position), (d + 1, d + 1));
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
}

#[tokio::test]
async fn a_failed_flush_stops_writing_until_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let acknowledged = engine.execute(draft_request()).await.unwrap();
    faults_for(dir.path()).fail_flush(0);
    let e = engine.execute(draft_request()).await.unwrap_err();
    assert!(matches!(e, Error::Halted { .. }), "{e}");
    // Nothing more is written: not commands, not directory changes, not rebuilds.
    let e = engine.execute(draft_request()).await.unwrap_err();
    assert!(matches!(e, Error::Halted { .. }), "{e}");
    let mut moved = workflow_testkit::directory()
        .actors()
        .next()
        .unwrap()
        .clone();
    moved.name.push('二');
    let e = engine.put_actor(moved, "test", "改名").await.unwrap_err();
    assert!(matches!(e, Error::Halted { .. }), "{e}");
    assert!(matches!(
        engine.rebuild(|_, _| {}).await,
        Err(Error::Halted { .. })
    ));
    drop(engine);
    // After a restart: what was acknowledged is there, the chain is intact (the unflushed
    // group may or may not have survived), and commands work again.
    let engine = open(dir.path()).await;
    assert!(engine.document(acknowledged.document_id).unwrap().is_some());
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
    let head = engine.head();
    let d = directory_events();
    assert!((d + 1..=d + 2).contains(&head), "head {head}");
    let o = engine.execute(draft_request()).await.unwrap();
    assert_eq!(o.events[0].position, head + 1);
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
}

#[test]
fn a_creation_killed_while_sled_wrote_its_settings_is_created_afresh() {
    // What a first start killed at the wrong moment leaves: a settings file that fails its
    // checksum, and a data file with nothing in it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("conf"), b"segment_size: 5242").unwrap();
    std::fs::write(dir.path().join("db"), b"").unwrap();
    let engine = workflow_store::Engine::open(dir.path()).unwrap();
    assert_eq!(engine.head(), 0);
    drop(engine);
    // A data file with anything in it is never recreated: that is corruption to report.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("conf"), b"segment_size: 5242").unwrap();
    std::fs::write(dir.path().join("db"), b"not empty").unwrap();
    let e = workflow_store::Engine::open(dir.path()).unwrap_err();
    assert_eq!(e.reason(), "STORE_CORRUPT", "{e}");
    assert_eq!(std::fs::read(dir.path().join("db")).unwrap(), b"not empty");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_written_group_is_neither_answered_nor_visible_before_its_sync() {
    use futures::StreamExt;
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let faults = faults_for(dir.path());
    let head = engine.head();
    let mut live = Box::pin(engine.subscribe_shared(head + 1, Default::default()));
    faults.hold_syncs();
    let a = draft_request();
    let pending = send(&engine, a.clone());
    until("A's sync is under way", || faults.held_syncs() == 1).await;
    // The writer goes on: a retry of A, decided from A's written record, and a new command
    // are written while A's sync waits — and none of them is answered yet.
    let retry = send(&engine, a.clone());
    let b = send(&engine, draft_request());
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!pending.is_finished() && !retry.is_finished() && !b.is_finished());
    // Nor visible to log reads and subscribers: the durable head has not moved.
    assert_eq!(engine.head(), head);
    assert!(engine.command_outcome(&a.command_id).unwrap().is_none());
    assert!(engine.history(a.document_id).unwrap().is_empty());
    assert!(
        tokio::time::timeout(Duration::from_millis(50), live.next())
            .await
            .is_err()
    );
    faults.release_syncs();
    let first = pending.await.unwrap().unwrap();
    let again = retry.await.unwrap().unwrap();
    assert!(again.replayed);
    assert_eq!(again.events, first.events);
    b.await.unwrap().unwrap();
    // Then everything, in order.
    let e = live.next().await.unwrap().unwrap();
    assert_eq!(e.position, head + 1);
    assert!(engine.head() >= head + 2);
}

/// A document drafted 秘密 and revised down to 非密 in one commit group keeps 秘密 as the
/// highest classification it ever had, also when a reader had asked for it before it
/// existed (so that Subscribe never hands its 秘密 version to a 非密 reader).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_that_raises_and_lowers_a_classification_keeps_its_highest() {
    use workflow_core::directory::Classification;
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let faults = faults_for(dir.path());
    let id = new_id();
    assert_eq!(
        engine.highest_classification(id).unwrap(),
        Classification::None
    );
    let mut secret = fields();
    secret.classification = Classification::Secret;
    secret.classification_period_years = Some(10);
    // X's commit is in flight; the draft and its revision queue behind it, one group.
    faults.hold_commits();
    let x = send(&engine, draft_request());
    in_flight(dir.path()).await;
    let draft = send(
        &engine,
        Request::new(id, "wang.fang", Action::Draft(secret)),
    );
    queued(&engine, 1).await;
    let revise = send(
        &engine,
        Request::new(id, "wang.fang", Action::Revise(fields())),
    );
    queued(&engine, 2).await;
    faults.release_commits();
    x.await.unwrap().unwrap();
    draft.await.unwrap().unwrap();
    let revised = revise.await.unwrap().unwrap();
    assert_eq!(revised.version, 2);
    assert_eq!(
        engine.document(id).unwrap().unwrap().classification(),
        Classification::None
    );
    assert_eq!(
        engine.highest_classification(id).unwrap(),
        Classification::Secret,
        "the 秘密 draft is in its events"
    );
    // A 非密 subscriber from the start gets nothing of it.
    let open_only = workflow_store::read::SubscribeFilter {
        max_classification: Some(Classification::None),
        ..Default::default()
    };
    let mut sub = Box::pin(engine.subscribe(1, open_only));
    use futures::StreamExt;
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(300), sub.next()).await {
        assert_ne!(
            e.unwrap().stream_id,
            id,
            "a 秘密 version reached a 非密 reader"
        );
    }
}
