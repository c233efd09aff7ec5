//! 签报 through the engine: the sample from 拟稿 to 归档 (its lists and to-do lists, the
//! 签报编号 claimed gapless, the 督办 item its 批示 opens in the same group, exactly once),
//! the deadline sweep's 催办, a rebuild, verify and the archive package.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use common::*;
use workflow_core::route::StageSpec;
use workflow_core::submission::{Memo, Step, SubmissionAction};
use workflow_core::supervision::{ItemStep, Source};
use workflow_core::{DocumentId, FlowState, StreamKind, supervision::linked_item_id};
use workflow_store::{Engine, ListQuery};
use workflow_testkit::submission::{CLERK, DEPUTY, DRAFTER, HEAD, PRINCIPAL, memo_flow};

fn memo(engine: &Engine, id: DocumentId) -> Memo {
    engine
        .state(id)
        .unwrap()
        .and_then(FlowState::into_submission)
        .unwrap_or_else(|| panic!("no 签报 {id}"))
}

fn todo(engine: &Engine, actor: &str) -> Vec<DocumentId> {
    engine
        .inbox(&actor.into(), &ListQuery::default())
        .unwrap()
        .states
        .iter()
        .map(FlowState::id)
        .collect()
}

fn deadline() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2027, 4, 30).unwrap()
}

#[tokio::test]
async fn the_sample_runs_through_the_engine_its_lists_and_to_do_lists() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let id = new_id();
    let flow = memo_flow(deadline(), "J012");
    for (actor, action) in flow[..2].iter().cloned() {
        run(&engine, id, actor, action).await;
    }
    assert_eq!(todo(&engine, HEAD), vec![id], "the unit head reviews");
    for (actor, action) in flow[2..5].iter().cloned() {
        run(&engine, id, actor, action).await;
    }
    assert_eq!(memo(&engine, id).step(), Step::OfficeReview);
    assert_eq!(todo(&engine, CLERK), vec![id], "the office's 核稿");
    assert!(todo(&engine, HEAD).is_empty());
    run(&engine, id, flow[5].0, flow[5].1.clone()).await;
    assert_eq!(todo(&engine, DEPUTY), vec![id]);
    assert!(
        todo(&engine, PRINCIPAL).is_empty(),
        "not yet the principal's turn"
    );
    run(&engine, id, flow[6].0, flow[6].1.clone()).await;
    assert_eq!(todo(&engine, PRINCIPAL), vec![id]);
    // The principal's 批示 opens a 督办 item in the same group, by the system.
    let endorse = workflow_store::Request {
        command_id: "principal-endorses".into(),
        ..workflow_store::Request::new(id, flow[7].0, flow[7].1.clone())
    };
    let outcome = engine.execute(endorse.clone()).await.unwrap();
    let position = outcome.events[0].position;
    let opened = engine.read_log(position + 1, 1).unwrap();
    assert_eq!(opened[0].event_type, "ItemOpened");
    assert_eq!(opened[0].command_id, format!("supervise:{position}"));
    let m = memo(&engine, id);
    let item_id = linked_item_id(id, m.version());
    assert_eq!(opened[0].stream_id, item_id);
    assert_eq!(m.supervision_items(), &[item_id]);
    let item = engine
        .state(item_id)
        .unwrap()
        .and_then(FlowState::into_supervision)
        .unwrap();
    assert_eq!(item.spec().source, Source::Submission { submission: id });
    assert_eq!(item.step(), ItemStep::Opened);
    // Resent (a retry after a lost answer), the 批示 is answered from the record and opens
    // nothing more.
    let head = engine.head();
    let again = engine.execute(endorse).await.unwrap();
    assert!(again.replayed);
    assert_eq!(engine.head(), head);
    // Decided: back with the unit, whose drafter and head have it to close.
    assert_eq!(m.step(), Step::Decided);
    assert!(todo(&engine, DRAFTER).contains(&id));
    assert!(todo(&engine, HEAD).contains(&id));
    // Listed under its flow, its unit and the year of its number.
    let listed = engine
        .list(&ListQuery {
            flow: Some(StreamKind::Submission),
            unit: Some("JWC".into()),
            year: Some(2026),
            ..ListQuery::default()
        })
        .unwrap();
    assert_eq!(
        listed.states.iter().map(FlowState::id).collect::<Vec<_>>(),
        vec![id]
    );
    for (actor, action) in flow[8..].iter().cloned() {
        run(&engine, id, actor, action).await;
    }
    let m = memo(&engine, id);
    assert_eq!(m.step(), Step::Archived);
    assert_eq!(m.number().unwrap().to_string(), "X校教签〔2026〕1号");
    let archive = m.archive().unwrap();
    assert!(
        archive.fixity_hash.is_some(),
        "the fixity digest is recorded"
    );
    assert_eq!(engine.stats().unwrap().by_flow.get("submission"), Some(&1));
    // A rebuild derives the same state, and no second item; verify finds the log intact.
    engine.rebuild(|_, _| {}).await.unwrap();
    assert_eq!(memo(&engine, id), m);
    assert_eq!(
        engine
            .list(&ListQuery {
                flow: Some(StreamKind::Supervision),
                ..ListQuery::default()
            })
            .unwrap()
            .states
            .len(),
        1
    );
    let report = engine.verify(|_, _| {}).unwrap();
    assert!(report.is_intact(), "{report:?}");
    // Its archive package holds the 签报 in its own form, and checks offline as intact.
    let package = dir.path().join("package");
    let manifest = engine
        .export_document(id, &package, workflow_testkit::clock::now())
        .unwrap();
    assert_eq!(manifest.flow, Some(StreamKind::Submission));
    assert_eq!(manifest.state, "Archived");
    let report = workflow_store::export::verify_package(&package).unwrap();
    assert!(report.is_intact(), "{:?}", report.problems);
}

#[tokio::test]
async fn numbers_are_gapless_per_unit_and_year_across_memos() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let flow = memo_flow(deadline(), "J012");
    let mut numbers = Vec::new();
    for _ in 0..3 {
        let id = new_id();
        for (actor, action) in flow[..6].iter().cloned() {
            run(&engine, id, actor, action).await;
        }
        numbers.push(memo(&engine, id).number().unwrap().to_string());
    }
    assert_eq!(
        numbers,
        [
            "X校教签〔2026〕1号",
            "X校教签〔2026〕2号",
            "X校教签〔2026〕3号"
        ]
    );
}

#[tokio::test]
async fn the_sweep_reminds_an_overdue_stage_once() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let id = new_id();
    let flow = memo_flow(deadline(), "J012");
    run(&engine, id, flow[0].0, flow[0].1.clone()).await;
    run(
        &engine,
        id,
        DRAFTER,
        SubmissionAction::SubmitMemo {
            route: vec![StageSpec::review(HEAD).with_deadline(1)],
        },
    )
    .await;
    let due = memo(&engine, id).current().unwrap().1.due_at.unwrap();
    let later = due + chrono::Duration::hours(2);
    let reminders = engine.due_reminders(later, 24).unwrap();
    assert_eq!(reminders.len(), 1, "{reminders:?}");
    let outcomes = engine.sweep_deadlines(later, 24).await.unwrap();
    assert_eq!(outcomes.len(), 1);
    assert_eq!(memo(&engine, id).reminders(), 1);
    assert!(engine.due_reminders(later, 24).unwrap().is_empty());
}
