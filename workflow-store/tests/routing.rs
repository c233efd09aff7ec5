//! Route changes and the deadline sweep through the engine: the to-do lists follow at once,
//! and reminders come exactly once per interval, across restarts and racing sweeps.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use chrono::Duration;
use common::*;
use workflow_core::{ActorId, outgoing::Action, route::StageSpec};
use workflow_store::{Engine, ListQuery, Request};

fn inbox(engine: &Engine, who: &str) -> usize {
    engine
        .inbox(&ActorId::from(who), &ListQuery::default())
        .unwrap()
        .documents()
        .len()
}

/// To-do counts of the first reviewer and of the one work moves to.
fn li_and_chen(engine: &Engine) -> (usize, usize) {
    (inbox(engine, "li.qiang"), inbox(engine, "chen.hong"))
}

async fn at_time(
    engine: &Engine,
    id: workflow_core::DocumentId,
    actor: &str,
    action: Action,
    t: workflow_core::Timestamp,
) {
    engine
        .execute(Request {
            at: Some(t),
            ..Request::new(id, actor, action)
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn the_inbox_follows_reassign_and_delegate_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let id = new_id();
    run(&engine, id, "wang.fang", Action::Draft(fields())).await;
    run(
        &engine,
        id,
        "wang.fang",
        Action::SubmitForReview {
            route: vec![StageSpec::review("li.qiang")],
        },
    )
    .await;
    assert_eq!(li_and_chen(&engine), (1, 0));
    run(
        &engine,
        id,
        "li.qiang",
        Action::Delegate {
            stage: None,
            to: "chen.hong".into(),
            reason: String::new(),
        },
    )
    .await;
    assert_eq!(li_and_chen(&engine), (0, 1));
    run(
        &engine,
        id,
        "chen.hong",
        Action::Approve {
            content: None,
            stage: None,
            opinion: "核稿无误".into(),
        },
    )
    .await;
    assert_eq!(li_and_chen(&engine), (1, 0));
    run(
        &engine,
        id,
        "liu.yang",
        Action::Reassign {
            stage: None,
            to: "chen.hong".into(),
            reason: "转办".into(),
        },
    )
    .await;
    assert_eq!(li_and_chen(&engine), (0, 1));
    // Rebuilt to-do lists agree with the live ones.
    let live = engine.dump_projections().unwrap();
    engine.rebuild(|_, _| {}).await.unwrap();
    assert!(live == engine.dump_projections().unwrap());
}

#[tokio::test]
async fn a_reminder_is_not_sent_twice_in_one_interval_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = at(2026, 11, 2, 1);
    let id = new_id();
    {
        let engine = open(dir.path()).await;
        at_time(&engine, id, "wang.fang", Action::Draft(fields()), t0).await;
        let route = vec![StageSpec::Review {
            reviewer: "li.qiang".into(),
            deadline_days: Some(2),
            escalate_to: Some("zhang.guoqing".into()),
        }];
        at_time(
            &engine,
            id,
            "wang.fang",
            Action::SubmitForReview { route },
            t0,
        )
        .await;
        // Before the deadline: nothing.
        assert!(
            engine
                .sweep_deadlines(t0 + Duration::days(1), 24)
                .await
                .unwrap()
                .is_empty()
        );
        // Overdue: one reminder, escalated; the escalation target sees it in their to-do.
        assert_eq!(inbox(&engine, "zhang.guoqing"), 0);
        let sent = engine
            .sweep_deadlines(t0 + Duration::days(3), 24)
            .await
            .unwrap();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].events[0].event_type, "Reminded");
        assert_eq!(inbox(&engine, "zhang.guoqing"), 1);
        // Racing sweeps within the interval add nothing.
        let (a, b) = tokio::join!(
            engine.sweep_deadlines(t0 + Duration::days(3) + Duration::hours(1), 24),
            engine.sweep_deadlines(t0 + Duration::days(3) + Duration::hours(2), 24)
        );
        assert!(a.unwrap().is_empty() && b.unwrap().is_empty());
    }
    // After a restart, still nothing within the interval; one more after it. The restart
    // also upgrades a store written before the deadline index existed: drop the index and
    // mark the layout as old, and opening rebuilds it.
    {
        let engine = open(dir.path()).await;
        let due: Vec<_> = engine
            .dump_projections()
            .unwrap()
            .into_iter()
            .filter(|(tree, key, _)| tree == "lists" && key.starts_with(b"d\0"))
            .collect();
        assert_eq!(due.len(), 1, "one document with a deadline");
        engine.tamper_projection("lists", &due[0].1, None).unwrap();
        engine.tamper_projection_layout(1).unwrap();
    }
    let engine = open(dir.path()).await;
    assert!(
        engine
            .sweep_deadlines(t0 + Duration::days(3) + Duration::hours(23), 24)
            .await
            .unwrap()
            .is_empty()
    );
    let sent = engine
        .sweep_deadlines(t0 + Duration::days(4) + Duration::hours(1), 24)
        .await
        .unwrap();
    assert_eq!(sent.len(), 1);
    let reminders = engine
        .history(id)
        .unwrap()
        .iter()
        .filter(|e| e.event_type == "Reminded")
        .count();
    assert_eq!(reminders, 2);
    // Once the stage is done, no more reminders.
    run(
        &engine,
        id,
        "li.qiang",
        Action::Approve {
            content: None,
            stage: None,
            opinion: String::new(),
        },
    )
    .await;
    assert!(
        engine
            .sweep_deadlines(t0 + Duration::days(30), 24)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
}

#[tokio::test]
async fn sweep_reminds_countersign_stages_per_pending_department() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let t0 = at(2026, 11, 2, 1);
    let id = new_id();
    at_time(&engine, id, "wang.fang", Action::Draft(fields()), t0).await;
    let route = vec![StageSpec::countersign(["RSC", "CWC"]).with_deadline(1)];
    at_time(
        &engine,
        id,
        "wang.fang",
        Action::SubmitForReview { route },
        t0,
    )
    .await;
    at_time(
        &engine,
        id,
        "zhao.min",
        Action::Countersign {
            content: None,
            stage: None,
            agree: true,
            opinion: String::new(),
        },
        t0,
    )
    .await;
    let sent = engine
        .sweep_deadlines(t0 + Duration::days(2), 24)
        .await
        .unwrap();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].events[0].payload["waiting_for"] == serde_json::json!(["Countersigner@CWC"]),
        "{}",
        sent[0].events[0].payload
    );
    assert!(matches!(
        engine.sweep_deadlines(t0, 0).await,
        Err(workflow_store::Error::InvalidRequest { .. })
    ));
}

/// For every state the sample 发文 reaches (拟稿 to 归档), its 待办 holders are exactly the
/// actors for whom `Engine::check` accepts one of the flow's steps still ahead, 退回 or a
/// recipient's 签收 — the work it waits for. Left out as options rather than work: the drafter's 撤回 and 作废, and the office
/// clerk's 转办/委派/加签, which the clerk may do on any document in review.
#[tokio::test]
async fn the_todo_holders_of_every_document_state_are_exactly_who_may_act() {
    use workflow_core::{FlowAction, outgoing::Action};
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let flow = full_flow();
    let id = new_id();
    for (n, (actor, action)) in flow.iter().cloned().enumerate() {
        let name = action.name();
        run(&engine, id, actor, action).await;
        let mut candidates: Vec<FlowAction> = flow
            .iter()
            .skip(n + 1)
            .map(|(_, a)| a.clone().into())
            .collect();
        // Each recipient unit's 签收, not only the one the sample's flow takes.
        candidates.push(Action::Acknowledge.into());
        for stage in [None, Some(0), Some(1), Some(2), Some(3)] {
            candidates.push(
                Action::Return {
                    reason: "请修改。".into(),
                    stage,
                }
                .into(),
            );
        }
        let (holders, may_act) =
            workflow_testkit::engine::todo_holders_and_who_may_act(&engine, id, &candidates);
        assert_eq!(
            holders, may_act,
            "after step {n} ({name}): holders vs who may act"
        );
    }
}
