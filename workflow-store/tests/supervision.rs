//! 督办 through the engine: the item a 批办 asks for (opened in the same group as the 批办,
//! exactly once, across retries and rebuilds), the sample flow, lists and the to-do list, the
//! deadline sweep's reminders, and the 月通报 as a function of the log as of the month's end.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use chrono::Duration;
use common::*;
use workflow_core::supervision::bulletin::Month;
use workflow_core::supervision::{ItemStep, Source, SupervisionAction};
use workflow_core::{
    DocumentId, FlowState, StreamKind, incoming::IncomingAction, supervision::linked_item_id,
};
use workflow_store::{Engine, ListQuery, Request};
use workflow_testkit::incoming::{incoming_sample, instruct_flow};
use workflow_testkit::supervision::{HANDLER, SUPERVISOR, item_flow};

fn item(engine: &Engine, id: DocumentId) -> workflow_core::supervision::Item {
    engine
        .state(id)
        .unwrap()
        .and_then(FlowState::into_supervision)
        .unwrap_or_else(|| panic!("no item {id}"))
}

fn items(engine: &Engine) -> Vec<workflow_core::supervision::Item> {
    engine
        .list(&ListQuery {
            flow: Some(StreamKind::Supervision),
            page_size: 500,
            ..ListQuery::default()
        })
        .unwrap()
        .states
        .into_iter()
        .filter_map(FlowState::into_supervision)
        .collect()
}

/// The sample 收文 up to its 批办, which asks for supervision: returns the 收文's id and the
/// 批办's outcome.
async fn instructed_with_supervision(engine: &Engine) -> (DocumentId, workflow_store::Outcome) {
    let sample = incoming_sample();
    let id = new_id();
    let steps = instruct_flow(&sample, "J012");
    for (actor, action) in steps[..3].iter().cloned() {
        run(engine, id, actor, action).await;
    }
    let IncomingAction::Instruct {
        lead_unit,
        co_units,
        deadline,
        opinion,
        ..
    } = steps[3].1.clone()
    else {
        panic!("step 3 is the 批办")
    };
    let instruct = Request {
        command_id: "instruct-with-supervision".into(),
        ..Request::new(
            id,
            "lin.zhiyuan",
            IncomingAction::Instruct {
                lead_unit,
                co_units,
                deadline,
                opinion,
                supervise: true,
            },
        )
    };
    (id, engine.execute(instruct).await.unwrap())
}

#[tokio::test]
async fn a_batch_instruction_asking_for_supervision_opens_its_item_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let (receipt, outcome) = instructed_with_supervision(&engine).await;
    let position = outcome.events[0].position;
    let opened = engine.read_log(position + 1, 1).unwrap();
    assert_eq!(opened[0].event_type, "ItemOpened");
    assert_eq!(opened[0].command_id, format!("supervise:{position}"));
    assert_eq!(opened[0].actor.as_str(), "system");
    let r = engine.state(receipt).unwrap().unwrap();
    let r = r.incoming().unwrap();
    let id = linked_item_id(receipt, r.version());
    assert_eq!(opened[0].stream_id, id);
    assert_eq!(r.supervision_items(), &[id]);
    let i = item(&engine, id);
    assert_eq!(i.spec().source, Source::Instruction { receipt });
    assert_eq!(i.spec().lead_unit.as_str(), "JWC");
    assert_eq!(i.step(), ItemStep::Opened);
    // A retry of the 批办 opens nothing more.
    let head = engine.head();
    let (_, again) = {
        let sample = incoming_sample();
        let IncomingAction::Instruct {
            lead_unit,
            co_units,
            deadline,
            opinion,
            ..
        } = instruct_flow(&sample, "J012")[3].1.clone()
        else {
            panic!()
        };
        let retry = Request {
            command_id: "instruct-with-supervision".into(),
            ..Request::new(
                receipt,
                "lin.zhiyuan",
                IncomingAction::Instruct {
                    lead_unit,
                    co_units,
                    deadline,
                    opinion,
                    supervise: true,
                },
            )
        };
        ((), engine.execute(retry).await.unwrap())
    };
    assert!(again.replayed);
    assert_eq!(engine.head(), head);
    // A rebuild derives the same item from the log, and no second one.
    engine.rebuild(|_, _| {}).await.unwrap();
    assert_eq!(items(&engine).len(), 1);
    assert_eq!(item(&engine, id), i);
}

/// A 批办 the lead unit sends back (not theirs) takes its item with it, in the same commit:
/// withdrawn, off the lead unit's 待办, never overdue against it; the next 批办 asking for
/// supervision opens an item of its own, with the next 立项号.
#[tokio::test]
async fn an_item_follows_its_instruction_sent_back_and_the_next_one_opens_anew() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let (receipt, _) = instructed_with_supervision(&engine).await;
    let r = engine.state(receipt).unwrap().unwrap();
    let first = r.incoming().unwrap().supervision_items()[0];
    assert_eq!(
        item(&engine, first)
            .number()
            .map(ToString::to_string)
            .as_deref(),
        Some("督〔2026〕1号")
    );
    let sent = engine
        .execute(Request::new(
            receipt,
            "fang.yu",
            IncomingAction::SendBack {
                reason: "不属本单位职责".into(),
            },
        ))
        .await
        .unwrap();
    let position = sent.events[0].position;
    let withdrawn = engine.read_log(position + 1, 1).unwrap();
    assert_eq!(withdrawn[0].event_type, "ItemWithdrawn");
    assert_eq!(
        withdrawn[0].command_id,
        format!("withdraw:{position}:{first}")
    );
    let i = item(&engine, first);
    assert_eq!(i.step(), ItemStep::Withdrawn);
    assert!(
        engine
            .inbox(&"fang.yu".into(), &ListQuery::default())
            .unwrap()
            .items()
            .is_empty(),
        "off the lead unit's 待办"
    );
    assert!(
        engine
            .list(&ListQuery {
                overdue_at: Some(workflow_testkit::clock::now() + Duration::days(400)),
                flow: Some(StreamKind::Supervision),
                ..ListQuery::default()
            })
            .unwrap()
            .items()
            .is_empty(),
        "never overdue"
    );
    // 拟办 again, 批办 again to 人事处 with supervision: a new item, the next 立项号.
    let sample = incoming_sample();
    run(
        &engine,
        receipt,
        sample.director.as_str(),
        IncomingAction::Propose {
            plan: workflow_core::incoming::Plan::instruct("lin.zhiyuan".into()),
            opinion: "请林校长改批人事处办理。".into(),
        },
    )
    .await;
    run(
        &engine,
        receipt,
        "lin.zhiyuan",
        IncomingAction::Instruct {
            lead_unit: "RSC".into(),
            co_units: Vec::new(),
            deadline: chrono::NaiveDate::from_ymd_opt(2026, 12, 20).unwrap(),
            opinion: "请人事处牵头办理。".into(),
            supervise: true,
        },
    )
    .await;
    let r = engine.state(receipt).unwrap().unwrap();
    let items_now = r.incoming().unwrap().supervision_items().to_vec();
    assert_eq!(items_now.len(), 2);
    let second = item(&engine, items_now[1]);
    assert_eq!(second.step(), ItemStep::Opened);
    assert_eq!(second.spec().lead_unit.as_str(), "RSC");
    assert_eq!(
        second.number().map(ToString::to_string).as_deref(),
        Some("督〔2026〕2号")
    );
    assert_eq!(
        item(&engine, first).step(),
        ItemStep::Withdrawn,
        "the first stays withdrawn"
    );
    // A rebuild gives the same.
    engine.rebuild(|_, _| {}).await.unwrap();
    assert_eq!(item(&engine, first).step(), ItemStep::Withdrawn);
}

#[tokio::test]
async fn the_sample_item_runs_through_the_engine_its_lists_and_to_do_lists() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let id = new_id();
    let deadline = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let flow = item_flow(deadline, "J012");
    run(&engine, id, flow[0].0, flow[0].1.clone()).await;
    // Waiting for a handler of the lead unit.
    let todo = engine
        .inbox(&HANDLER.into(), &ListQuery::default())
        .unwrap();
    assert_eq!(
        todo.items().iter().map(|i| i.id()).collect::<Vec<_>>(),
        vec![id]
    );
    // Signed for, the 协办 unit's input, the completion reported.
    for (actor, action) in flow[1..7].iter().cloned() {
        run(&engine, id, actor, action).await;
    }
    // Completion reported: the supervisor's to-do.
    let todo = engine
        .inbox(&SUPERVISOR.into(), &ListQuery::default())
        .unwrap();
    assert_eq!(
        todo.items().iter().map(|i| i.id()).collect::<Vec<_>>(),
        vec![id]
    );
    assert!(
        engine
            .inbox(&HANDLER.into(), &ListQuery::default())
            .unwrap()
            .items()
            .is_empty()
    );
    // Lists by flow, unit and step.
    let by = |q: ListQuery| engine.list(&q).unwrap().items().len();
    assert_eq!(
        by(ListQuery {
            flow: Some(StreamKind::Supervision),
            ..ListQuery::default()
        }),
        1
    );
    assert_eq!(
        by(ListQuery {
            unit: Some("RSC".into()),
            ..ListQuery::default()
        }),
        1,
        "a cooperating unit lists it"
    );
    assert_eq!(
        by(ListQuery {
            step: Some("CompletionReported".into()),
            ..ListQuery::default()
        }),
        1
    );
    assert_eq!(
        by(ListQuery {
            flow: Some(StreamKind::Incoming),
            ..ListQuery::default()
        }),
        0
    );
    for (actor, action) in flow[7..].iter().cloned() {
        run(&engine, id, actor, action).await;
    }
    let i = item(&engine, id);
    assert_eq!(i.step(), ItemStep::Archived);
    assert_eq!(i.deadline(), deadline + Duration::days(10));
    // Stats count it under its flow.
    assert_eq!(engine.stats().unwrap().by_flow.get("supervision"), Some(&1));
    // Its archive package holds the item in its own form, and checks offline as intact
    // (the check once read every document.json that was not a 收文's as a 发文's).
    let package = dir.path().join("package");
    let manifest = engine
        .export_document(id, &package, workflow_testkit::clock::now())
        .unwrap();
    assert_eq!(manifest.state, "Archived");
    assert_eq!(manifest.flow, Some(StreamKind::Supervision));
    assert!(manifest.archival_reference.is_some());
    let report = workflow_store::export::verify_package(&package).unwrap();
    assert!(report.is_intact(), "{:?}", report.problems);
}

#[tokio::test]
async fn the_deadline_sweep_reminds_items_of_missed_feedback_and_passed_deadlines() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let id = new_id();
    let deadline = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let flow = item_flow(deadline, "J012");
    for (actor, action) in flow[..2].iter().cloned() {
        run(&engine, id, actor, action).await;
    }
    let overdue_at = |t| {
        engine
            .list(&ListQuery {
                flow: Some(StreamKind::Supervision),
                overdue_at: Some(t),
                ..ListQuery::default()
            })
            .unwrap()
            .items()
            .len()
    };
    // Eight days on: the weekly feedback is missed — a reminder is due, but the item is
    // not overdue, and an `overdue` list does not show it.
    let later = start_of_term() + Duration::days(8);
    let due = engine.due_reminders(later, 24).unwrap();
    assert_eq!(due.len(), 1);
    assert!(!item(&engine, id).is_overdue(later));
    assert_eq!(
        overdue_at(later),
        0,
        "a missed feedback is not a passed deadline"
    );
    let sent = engine.sweep_deadlines(later, 24).await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].events[0].event_type, "ItemReminded");
    assert!(sent[0].events[0].payload.to_string().contains("feedback"));
    // The same sweep again sends nothing.
    assert!(engine.sweep_deadlines(later, 24).await.unwrap().is_empty());
    // Inside the 临近提醒 window (three days before the deadline): not overdue either.
    let warned = at(2026, 11, 28, 2);
    assert_eq!(overdue_at(warned), 0, "a warning is not a passed deadline");
    // The deadline day runs out at 24:00 China time (2026-11-30 16:00 UTC).
    assert_eq!(overdue_at(at(2026, 11, 30, 15)), 0);
    assert_eq!(overdue_at(at(2026, 11, 30, 17)), 1);
    // Past the deadline: the overdue notice.
    let overdue = at(2026, 12, 2, 1);
    let sent = engine.sweep_deadlines(overdue, 24).await.unwrap();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].events[0].payload.to_string().contains("overdue"));
    let overdue_now = engine
        .list(&ListQuery {
            flow: Some(StreamKind::Supervision),
            overdue_at: Some(overdue),
            ..ListQuery::default()
        })
        .unwrap();
    assert_eq!(overdue_now.items().len(), 1);
}

#[tokio::test]
async fn the_monthly_bulletin_is_the_same_whenever_it_is_produced() {
    let dir = tempfile::tempdir().unwrap();
    // The directory is loaded on November 1st; then the server's clock stands in
    // mid-December, and each command says when it was given.
    let december = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = december.clone();
    let engine = Engine::open_with(workflow_store::Config {
        clock: std::sync::Arc::new(move || {
            if flag.load(std::sync::atomic::Ordering::SeqCst) {
                at(2026, 12, 15, 2)
            } else {
                at(2026, 11, 1, 1)
            }
        }),
        ..workflow_store::Config::new(dir.path())
    })
    .unwrap();
    engine
        .load_directory_json(CAMPUS, "test", "the campus fixture")
        .await
        .unwrap();
    december.store(true, std::sync::atomic::Ordering::SeqCst);
    let given = |id: DocumentId, actor: &str, action: SupervisionAction, m: u32, d: u32| {
        let mut r = Request::new(id, actor, action);
        r.at = Some(at(2026, m, d, 2));
        r
    };
    let november = Month::new(2026, 11).unwrap();
    // Two items in November: one closed on time, one still open past its deadline.
    let deadline = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let flow = item_flow(deadline, "J012");
    let closed = new_id();
    for (day, i) in [(3, 0usize), (4, 1), (6, 2), (17, 5), (18, 6), (19, 7)] {
        let (actor, action) = flow[i].clone();
        engine
            .execute(given(closed, actor, action, 11, day))
            .await
            .unwrap();
    }
    let open = new_id();
    for (day, i) in [(5, 0usize), (6, 1)] {
        let (actor, action) = flow[i].clone();
        engine
            .execute(given(open, actor, action, 11, day))
            .await
            .unwrap();
    }
    let before = engine.bulletin(november, None).unwrap();
    assert_eq!(before.total.opened, 2);
    assert_eq!(before.total.closed_on_time, 1);
    assert_eq!(before.total.overdue_at_end, 1);
    assert_eq!(before.overdue[0].id, open);
    // Due on the 20th: the 21st to the 30th past it.
    assert_eq!(before.overdue[0].days_overdue, 10);
    assert_eq!(before.closed[0].id, closed);
    // The open one, signed for on the 6th with weekly feedback and none given: missed on
    // the 13th, 20th and 27th; the closed one reported on the 6th, missed on the 13th.
    assert_eq!(before.total.feedback_missed, 4, "{:?}", before.total);
    assert_eq!(before.units.len(), 1);
    assert_eq!(before.units[0].name, "教务处");
    // December's events do not change November.
    engine
        .execute(given(open, flow[5].0, flow[5].1.clone(), 12, 2))
        .await
        .unwrap();
    engine
        .execute(given(
            open,
            HANDLER,
            SupervisionAction::ReportCompletion {
                result: "十二月完成。".into(),
            },
            12,
            3,
        ))
        .await
        .unwrap();
    engine
        .execute(given(
            open,
            SUPERVISOR,
            SupervisionAction::CloseItem {
                note: String::new(),
                grade: None,
            },
            12,
            4,
        ))
        .await
        .unwrap();
    let after = engine.bulletin(november, None).unwrap();
    assert_eq!(after, before);
    assert_eq!(after.to_json(), before.to_json());
    assert_eq!(after.to_csv(), before.to_csv());
    assert_eq!(after.to_markdown(), before.to_markdown());
    assert_eq!(after.to_html(), before.to_html());
    // December sees the late close.
    let dec = engine
        .bulletin(Month::new(2026, 12).unwrap(), None)
        .unwrap();
    assert_eq!(dec.total.closed_late, 1);
    assert_eq!(dec.total.open_at_start, 1);
    assert_eq!(dec.closed[0].id, open);
    assert!(dec.closed[0].late);
    // A month that has not begun is refused.
    assert!(engine.bulletin(Month::new(2027, 1).unwrap(), None).is_err());
}

#[tokio::test]
async fn publishing_a_bulletin_records_its_digests_once_and_only_after_the_month() {
    use workflow_core::supervision::{BulletinDigests, PublicationAction, publication_id};
    use workflow_core::{ErrorClass, directory::Classification, supervision::PublicationEvent};

    let dir = tempfile::tempdir().unwrap();
    let engine = Engine::open_with(workflow_store::Config {
        clock: std::sync::Arc::new(|| at(2026, 12, 2, 2)),
        ..workflow_store::Config::new(dir.path())
    })
    .unwrap();
    engine
        .load_directory_json(CAMPUS, "test", "the campus fixture")
        .await
        .unwrap();
    let flow = item_flow(
        chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        "J012",
    );
    let id = new_id();
    for (day, (actor, action)) in [3, 4, 6].into_iter().zip(flow[..3].iter().cloned()) {
        let mut r = Request::new(id, actor, action);
        r.at = Some(at(2026, 11, day, 2));
        engine.execute(r).await.unwrap();
    }
    let november = Month::new(2026, 11).unwrap();
    let december = Month::new(2026, 12).unwrap();
    let class = |r: Result<_, workflow_store::Error>| match r {
        Err(workflow_store::Error::Rejected(e)) => e.class(),
        other => panic!("expected a rejection, got {other:?}"),
    };
    let head = engine.head();

    // December has not ended; a handler is no supervisor.
    assert_eq!(
        class(
            engine
                .publish_bulletin(&SUPERVISOR.into(), december, None, None)
                .await
        ),
        ErrorClass::FailedPrecondition
    );
    assert_eq!(
        class(
            engine
                .publish_bulletin(&HANDLER.into(), november, None, None)
                .await
        ),
        ErrorClass::PermissionDenied
    );
    // Digests that are not the log's bulletin's are refused by name.
    let mut forged = engine
        .bulletin(november, Some(Classification::None))
        .unwrap();
    forged.total.opened += 1;
    let forged = Request::new(
        publication_id(november, Classification::None),
        SUPERVISOR,
        PublicationAction::publish(&forged, Classification::None),
    );
    match engine.execute(forged).await {
        Err(workflow_store::Error::InvalidRequest { field, .. }) => assert_eq!(field, "digests"),
        other => panic!("forged digests accepted: {other:?}"),
    }
    assert_eq!(engine.head(), head, "refusals append nothing");

    // Published at the supervisor's own clearance, the event holds the bulletin's digests.
    let supervisor = engine.actor(&SUPERVISOR.into()).unwrap();
    let (bulletin, outcome) = engine
        .publish_bulletin(
            &SUPERVISOR.into(),
            november,
            None,
            Some("publish-11".into()),
        )
        .await
        .unwrap();
    assert_eq!(bulletin.total.opened, 1);
    assert_eq!(outcome.events.len(), 1);
    let recorded = outcome.events[0].event().unwrap();
    let Some(PublicationEvent::BulletinPublished {
        month,
        clearance,
        items,
        digests,
        ..
    }) = recorded.data.bulletin().cloned()
    else {
        panic!("not a publication: {recorded:?}")
    };
    assert_eq!(
        (month, clearance, items),
        (november, supervisor.clearance, 1)
    );
    assert_eq!(digests, BulletinDigests::of(&bulletin));
    assert_eq!(
        digests.html,
        workflow_core::supervision::sha256_hex(&bulletin.to_html())
    );
    let p = engine
        .publication(november, supervisor.clearance)
        .unwrap()
        .unwrap();
    assert_eq!(p.published_by().0, SUPERVISOR);
    assert_eq!(p.digests(), &digests);
    // Its notice (月通报): to the leaders, the office's director, the handlers and the
    // other supervisors cleared for it — not to whoever published it — with its page.
    {
        use workflow_core::notice::NoticeKind;
        use workflow_testkit::supervision::LEADER;
        let (notices, _) = engine.notices(outcome.events[0].position, 1).unwrap();
        assert!(notices.iter().all(|n| n.kind == NoticeKind::Bulletin));
        use workflow_core::directory::Role;
        let told: Vec<&str> = notices.iter().map(|n| n.recipient.as_str()).collect();
        let readers: Vec<String> = engine
            .actors()
            .into_iter()
            .filter(|a| a.id.as_str() != SUPERVISOR && a.may_see(clearance))
            .filter(|a| {
                [
                    Role::Leader,
                    Role::OfficeDirector,
                    Role::Handler,
                    Role::Supervisor,
                ]
                .iter()
                .any(|r| a.roles.contains(r))
            })
            .map(|a| a.id.to_string())
            .collect();
        assert_eq!(told, readers);
        assert!(told.contains(&LEADER), "{told:?}");
        assert!(!told.contains(&SUPERVISOR), "{told:?}");
        let n = &notices[0];
        assert_eq!(n.link, "/bulletin?month=2026-11");
        let text = n.text(Classification::TopSecret, "https://oa.x.edu.cn");
        assert_eq!(
            text,
            "【月通报】《2026年11月督办工作通报》已发布，请查阅。https://oa.x.edu.cn/bulletin?month=2026-11"
        );
    }
    assert!(
        engine
            .publication(november, Classification::TopSecret)
            .unwrap()
            .is_none()
    );

    // A retry gets the first outcome; a second publication is refused as existing.
    let (_, again) = engine
        .publish_bulletin(
            &SUPERVISOR.into(),
            november,
            None,
            Some("publish-11".into()),
        )
        .await
        .unwrap();
    assert!(again.replayed);
    assert_eq!(
        class(
            engine
                .publish_bulletin(&SUPERVISOR.into(), november, None, None)
                .await
        ),
        ErrorClass::AlreadyExists
    );
    // The record verifies (the bulletin produced again from the log gives its digests)
    // and survives a rebuild.
    let report = engine.verify(|_, _| {}).unwrap();
    assert!(report.is_intact(), "{:?}", report.first_break);
    assert_eq!(report.bulletins_checked, 1);
    // On a machine whose clock stands before the published month, verify still produces it
    // again: the log, not the clock, says the month has begun.
    drop(engine);
    let on_an_early_clock = Engine::open_with(workflow_store::Config {
        clock: std::sync::Arc::new(|| at(2026, 10, 1, 2)),
        create: false,
        ..workflow_store::Config::new(dir.path())
    })
    .unwrap();
    let report = on_an_early_clock.verify(|_, _| {}).unwrap();
    assert!(report.is_intact(), "{:?}", report.first_break);
    assert_eq!(report.bulletins_checked, 1);
    drop(on_an_early_clock);
    let engine = Engine::open_with(workflow_store::Config {
        clock: std::sync::Arc::new(|| at(2026, 12, 2, 2)),
        ..workflow_store::Config::new(dir.path())
    })
    .unwrap();
    engine.rebuild_from_scratch(|_, _| {}).await.unwrap();
    assert_eq!(
        engine.publication(november, supervisor.clearance).unwrap(),
        Some(p)
    );
    // An item opened now but dated in November changes November's figures: the published
    // bulletin no longer matches the log, and verify says where and why.
    let published_at = outcome.events[0].position;
    let late = new_id();
    let mut r = Request::new(late, flow[0].0, flow[0].1.clone());
    r.at = Some(at(2026, 11, 10, 2));
    engine.execute(r).await.unwrap();
    let report = engine.verify(|_, _| {}).unwrap();
    let broken = report.first_break.expect("the changed November is found");
    assert_eq!(broken.position, published_at);
    assert!(
        broken.reason.contains("月通报 of 2026-11"),
        "{}",
        broken.reason
    );
    assert_eq!(report.checked, engine.head(), "the chain itself is intact");
}

/// For every state the sample 督办 item reaches (立项, 交办, 进展, a pending 延期, 办结报告,
/// 销号, 归档), its to-do holders are exactly the actors for whom `Engine::check` accepts
/// some command (the flow's own steps, and 退回).
#[tokio::test]
async fn the_todo_holders_of_every_item_state_are_exactly_who_may_act() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let deadline = chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let flow = item_flow(deadline, "J012");
    let mut candidates: Vec<workflow_core::FlowAction> = flow
        .iter()
        .skip(1)
        .map(|(_, action)| action.clone().into())
        .collect();
    candidates.push(
        SupervisionAction::ReturnItem {
            reason: "报告内容不完整。".into(),
        }
        .into(),
    );
    let id = new_id();
    for (n, (actor, action)) in flow.into_iter().enumerate() {
        let name = action.name();
        run(&engine, id, actor, action).await;
        let (holders, may_act) =
            workflow_testkit::engine::todo_holders_and_who_may_act(&engine, id, &candidates);
        assert_eq!(
            holders, may_act,
            "after step {n} ({name}): holders vs who may act"
        );
        assert!(
            !holders.is_empty() || name == "ArchiveItem",
            "after step {n} ({name}): nobody"
        );
    }
}
