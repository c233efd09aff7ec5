//! The shared live tail (issue #22): live subscribers take the events the writer published
//! once for all of them; one that falls behind reads the log and rejoins the tail, with no
//! gap and no duplicate; one that never reads neither blocks writers nor grows memory.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use std::time::Duration;

use common::*;
use futures::StreamExt;
use workflow_store::{Engine, Request};

/// An engine on the kit's running clock (so that many flows can run: the sample's 印发 date
/// is its today), with the campus directory.
async fn engine_in(dir: &std::path::Path) -> Engine {
    let engine = Engine::open_with(workflow_store::Config {
        clock: workflow_testkit::clock::running_clock(),
        ..workflow_store::Config::new(dir)
    })
    .unwrap();
    engine
        .load_directory_json(CAMPUS, "test", "the campus fixture")
        .await
        .unwrap();
    engine
}

/// The sample's flow, issued today.
fn today_flow() -> Vec<(workflow_core::ActorId, workflow_core::outgoing::Action)> {
    let mut sample = workflow_testkit::sample();
    sample.issue_date = workflow_testkit::clock::today();
    sample.flow(&workflow_testkit::directory())
}

/// Writes `docs` documents' full flows from eight concurrent clients.
async fn load(engine: &Engine, docs: usize) {
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let engine = engine.clone();
            tokio::spawn(async move {
                for _ in 0..docs / 8 {
                    let id = new_id();
                    for (actor, action) in today_flow() {
                        engine
                            .execute(Request::new(id, actor, action))
                            .await
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

/// The next event, within twenty seconds.
async fn next<S: futures::Stream + Unpin>(sub: &mut S) -> S::Item {
    tokio::time::timeout(Duration::from_secs(20), sub.next())
        .await
        .expect("the subscription delivers")
        .expect("the subscription goes on")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_behind_the_tail_reads_the_log_and_rejoins_it_without_gap_or_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let from = engine.head() + 1;
    let mut sub = Box::pin(engine.subscribe_shared(from, Default::default()));
    let mut got = Vec::new();
    // Live at first: the writer publishes while someone subscribes.
    let writer = {
        let engine = engine.clone();
        tokio::spawn(async move { load(&engine, 64).await })
    };
    for _ in 0..20 {
        let e = next(&mut sub).await.unwrap();
        got.push(e.position);
    }
    // Then it stops reading while the writers go on, far past what the tail keeps.
    writer.await.unwrap();
    load(&engine, 480).await;
    let (tail_before, log_before, held) = engine.subscription_counters();
    assert!(held <= 4096, "the tail is bounded: {held}");
    assert!(engine.head() - got.last().unwrap() > 4096);
    // It catches up from the log, then takes from the tail again, live under load.
    let writer = {
        let engine = engine.clone();
        tokio::spawn(async move { load(&engine, 64).await })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        // Done once the writers are and the subscriber has the log's end.
        if writer.is_finished() && got.last() == Some(&engine.head()) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not caught up in a minute"
        );
        if let Ok(e) = tokio::time::timeout(Duration::from_millis(200), sub.next()).await {
            got.push(e.expect("the subscription goes on").unwrap().position);
        }
    }
    writer.await.unwrap();
    let (tail_after, log_after, _) = engine.subscription_counters();
    assert!(log_after > log_before, "it read the log while behind");
    assert!(tail_after > tail_before, "and the tail once caught up");
    assert_eq!(
        got,
        (from..=engine.head()).collect::<Vec<_>>(),
        "every event once, in order"
    );
    // Live again: a new event comes from the tail, not the log.
    let log_now = engine.subscription_counters().1;
    let id = new_id();
    let (actor, action) = today_flow().swap_remove(0);
    engine
        .execute(Request::new(id, actor, action))
        .await
        .unwrap();
    let e = next(&mut sub).await.unwrap();
    assert_eq!(e.stream_id, id);
    assert_eq!(
        engine.subscription_counters().1,
        log_now,
        "no log read for a live event"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_that_never_read_neither_block_writers_nor_grow_memory() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let from = engine.head() + 1;
    // Five subscriptions, polled once each and then never again.
    let mut idle = Vec::new();
    for _ in 0..5 {
        let mut s = Box::pin(engine.subscribe_shared(from, Default::default()));
        let _ = tokio::time::timeout(Duration::from_millis(10), s.next()).await;
        idle.push(s);
    }
    // The writers go on regardless (this would hang if a reader held them up) ...
    load(&engine, 560).await;
    // ... and what is kept for subscribers stays bounded: the tail, not a buffer per reader.
    let (_, _, held) = engine.subscription_counters();
    assert!(held <= 4096, "{held}");
    assert!(engine.head() > 5000);
    // The idle ones still get every event, from the log, when they read at last.
    let mut s = idle.pop().unwrap();
    let mut last = from - 1;
    while last < engine.head() {
        let e = s.next().await.unwrap().unwrap();
        assert_eq!(e.position, last + 1);
        last = e.position;
    }
}

/// Writes one document whose co-issuing units go none → DW → none → DW (a draft and three
/// revisions); returns its four positions.
async fn toggling_units(engine: &Engine) -> Vec<u64> {
    let id = new_id();
    let mut positions = Vec::new();
    for (n, with_dw) in [false, true, false, true].into_iter().enumerate() {
        let mut fields = workflow_testkit::fields();
        fields.co_issuing_units = if with_dw { vec!["DW".into()] } else { vec![] };
        let action = if n == 0 {
            workflow_core::outgoing::Action::Draft(fields)
        } else {
            workflow_core::outgoing::Action::Revise(fields)
        };
        let o = engine
            .execute(Request::new(id, "wang.fang", action))
            .await
            .unwrap();
        positions.push(o.events[0].position);
    }
    positions
}

/// Up to `n` positions a subscription delivers (stops early when it goes quiet).
async fn positions<S>(sub: S, n: usize) -> Vec<u64>
where
    S: futures::Stream<Item = workflow_store::Result<std::sync::Arc<workflow_store::Envelope>>>,
{
    let mut sub = Box::pin(sub);
    let mut got = Vec::new();
    while got.len() < n {
        match tokio::time::timeout(Duration::from_millis(500), sub.next()).await {
            Ok(Some(e)) => got.push(e.unwrap().position),
            _ => break,
        }
    }
    got
}

/// A unit filter tests each event against the units its document had once that event was
/// applied: live (the shared tail), from the log and on resuming, the same events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_filter_is_the_units_as_of_each_event_live_from_the_log_and_resumed() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_in(dir.path()).await;
    let dw = workflow_store::read::SubscribeFilter {
        units: vec!["DW".into()],
        ..Default::default()
    };
    // Written with nobody subscribed: read back from the log.
    let p = toggling_units(&engine).await;
    let expected = vec![p[1], p[3]];
    assert_eq!(
        positions(engine.subscribe_shared(p[0], dw.clone()), 4).await,
        expected
    );
    assert_eq!(
        positions(engine.subscribe_shared(p[2], dw.clone()), 4).await,
        vec![p[3]]
    );
    assert_eq!(
        positions(engine.subscribe_shared(p[1], dw.clone()), 4).await,
        expected
    );
    // Written while subscribed: taken from the shared tail.
    let from = engine.head() + 1;
    let live = engine.subscribe_shared(from, dw.clone());
    let writer = {
        let engine = engine.clone();
        tokio::spawn(async move { toggling_units(&engine).await })
    };
    let got = positions(live, 2).await;
    let p = writer.await.unwrap();
    assert_eq!(got, vec![p[1], p[3]]);
    // And the same from the log afterwards, and resumed in the middle.
    assert_eq!(
        positions(engine.subscribe_shared(from, dw.clone()), 4).await,
        got
    );
    assert_eq!(
        positions(engine.subscribe_shared(p[2], dw), 4).await,
        vec![p[3]]
    );
}
