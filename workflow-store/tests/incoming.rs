//! 收文 through the engine: the link from an acknowledged 发文 (exactly once, in the same
//! group as the 签收, across retries and rebuilds), the sample 批办 flow, lists and the to-do
//! list across flows, and the deadline sweep for 收文.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use chrono::Duration;
use common::*;
use workflow_core::incoming::Step;
use workflow_core::{
    DocumentId, FlowState, StreamKind, UnitCode, incoming::IncomingAction,
    incoming::linked_receipt_id, outgoing::Action,
};
use workflow_store::{Engine, ListQuery, Request};
use workflow_testkit::incoming::{incoming_sample, instruct_flow};

fn receipt(engine: &Engine, id: DocumentId) -> workflow_core::incoming::Receipt {
    engine
        .state(id)
        .unwrap()
        .and_then(FlowState::into_incoming)
        .unwrap_or_else(|| panic!("no 收文 {id}"))
}

fn receipts_from(engine: &Engine, source: DocumentId) -> Vec<workflow_core::incoming::Receipt> {
    let mut q = ListQuery {
        flow: Some(StreamKind::Incoming),
        page_size: 500,
        ..ListQuery::default()
    };
    let mut out = Vec::new();
    loop {
        let page = engine.list(&q).unwrap();
        assert!(page.documents().is_empty(), "a 收文 list holds no 发文");
        out.extend(
            page.receipts()
                .into_iter()
                .filter(|r| r.registration().source == Some(source))
                .cloned(),
        );
        match page.next_page_token {
            Some(t) => q.page_token = Some(t),
            None => return out,
        }
    }
}

#[tokio::test]
async fn an_acknowledged_outgoing_document_becomes_the_units_receipt_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let a = drive(&engine, steps::ISSUED).await;
    let ack = Request {
        command_id: "ack-rsc".into(),
        ..Request::new(a, "zhao.min", Action::Acknowledge)
    };
    let first = engine.execute(ack.clone()).await.unwrap();
    let ack_position = first.events[0].position;
    // Registered right after the 签收, in the same group, by the engine.
    let linked = engine.read_log(ack_position + 1, 1).unwrap();
    assert_eq!(linked[0].event_type, "Registered");
    assert_eq!(linked[0].command_id, format!("link:{ack_position}"));
    assert_eq!(linked[0].actor.as_str(), "system");
    let id = linked_receipt_id(a, &UnitCode::from("RSC"));
    assert_eq!(linked[0].stream_id, id);
    let r = receipt(&engine, id);
    let doc = engine.document(a).unwrap().unwrap();
    assert_eq!(r.registration().source, Some(a));
    assert_eq!(r.registration().title, doc.fields().title);
    assert_eq!(
        r.registration().from_number,
        doc.issue().unwrap().number.to_string()
    );
    assert_eq!(r.unit().as_str(), "RSC");
    assert_eq!(r.number().to_string(), "X校人收〔2026〕1号");
    assert_eq!(r.step(), Step::Registered);
    // Linked both ways: the 发文 names its 收文 by the acknowledging unit.
    assert_eq!(
        doc.acknowledged()
            .keys()
            .map(|u| linked_receipt_id(a, u))
            .collect::<Vec<_>>(),
        vec![id]
    );
    // A retry of the 签收 is answered from its record and registers nothing more.
    let head = engine.head();
    let again = engine.execute(ack).await.unwrap();
    assert!(again.replayed);
    assert_eq!(engine.head(), head);
    // CWC (抄送) acknowledges too: its own 收文, its own number series.
    run(&engine, a, "sun.li", Action::Acknowledge).await;
    let cwc = receipt(&engine, linked_receipt_id(a, &UnitCode::from("CWC")));
    assert_eq!(cwc.number().to_string(), "X校财收〔2026〕1号");
    assert_eq!(receipts_from(&engine, a).len(), 2);
    // A rebuild from the log alone finds the same, and adds nothing.
    let before = engine.dump_projections().unwrap();
    let head = engine.head();
    engine.rebuild_from_scratch(|_, _| {}).await.unwrap();
    assert_eq!(engine.head(), head);
    assert_eq!(engine.dump_projections().unwrap(), before);
    assert_eq!(receipts_from(&engine, a).len(), 2);
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
    drop(engine);
    // And so does a restart.
    let engine = open(dir.path()).await;
    assert_eq!(engine.head(), head);
    assert_eq!(receipts_from(&engine, a).len(), 2);
}

#[tokio::test]
async fn the_sample_instruct_flow_runs_through_the_engine_and_its_lists() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let sample = incoming_sample();
    let id = new_id();
    let steps = instruct_flow(&sample, "J012");
    // 登记 → 初审 → 拟办: the leader's to-do list holds it, beside 发文 waiting for nobody.
    for (actor, action) in steps[..3].iter().cloned() {
        run(&engine, id, actor, action).await;
    }
    let todo = engine
        .inbox(&"lin.zhiyuan".into(), &ListQuery::default())
        .unwrap();
    assert_eq!(
        todo.receipts().iter().map(|r| r.id()).collect::<Vec<_>>(),
        vec![id]
    );
    // One to-do list across flows: li.qiang has a 发文 to review and nothing else.
    let d = drive(&engine, steps::IN_REVIEW).await;
    let todo = engine
        .inbox(&"li.qiang".into(), &ListQuery::default())
        .unwrap();
    assert_eq!(
        todo.documents().iter().map(|d| d.id()).collect::<Vec<_>>(),
        vec![d]
    );
    assert!(todo.receipts().is_empty());
    for (actor, action) in steps[3..].iter().cloned() {
        run(&engine, id, actor, action).await;
    }
    let r = receipt(&engine, id);
    assert_eq!(r.step(), Step::Archived);
    assert_eq!(r.number().to_string(), "X校收〔2026〕1号");
    assert_eq!(
        r.archive().unwrap().reference.to_string(),
        "J012-WS·2026-D30-JWC-0001"
    );
    // Lists by flow and step: the 收文 is archived, the 发文 in review.
    let archived = engine
        .list(&ListQuery {
            step: Some("Archived".into()),
            ..ListQuery::default()
        })
        .unwrap();
    assert_eq!(archived.receipts().len(), 1);
    assert!(archived.documents().is_empty());
    let outgoing = engine
        .list(&ListQuery {
            flow: Some(StreamKind::Outgoing),
            ..ListQuery::default()
        })
        .unwrap();
    assert_eq!(outgoing.documents().len(), 1);
    assert!(outgoing.receipts().is_empty());
    // By unit: the lead and cooperating units list it.
    for unit in ["XB", "JWC", "RSC", "CWC"] {
        let page = engine
            .list(&ListQuery {
                flow: Some(StreamKind::Incoming),
                unit: Some(unit.into()),
                ..ListQuery::default()
            })
            .unwrap();
        assert_eq!(page.receipts().len(), 1, "{unit}");
    }
    // The stream's history replays to the live state.
    let history = engine.history(id).unwrap();
    assert_eq!(history.len(), steps.len());
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
}

#[tokio::test]
async fn the_deadline_sweep_reminds_an_overdue_receipt_then_escalates() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let sample = incoming_sample();
    let id = new_id();
    let steps = instruct_flow(&sample, "J012");
    for (actor, action) in steps[..4].iter().cloned() {
        run(&engine, id, actor, action).await;
    }
    let due = receipt(&engine, id).due_at().unwrap();
    // Overdue lists and the sweep see it only after its deadline.
    let overdue = |t| {
        engine
            .list(&ListQuery {
                overdue_at: Some(t),
                ..ListQuery::default()
            })
            .unwrap()
            .receipts()
            .len()
    };
    assert_eq!(overdue(due - Duration::hours(1)), 0);
    assert_eq!(overdue(due + Duration::hours(1)), 1);
    assert!(
        engine
            .sweep_deadlines(due - Duration::hours(1), 24)
            .await
            .unwrap()
            .is_empty()
    );
    let sent = engine
        .sweep_deadlines(due + Duration::hours(1), 24)
        .await
        .unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].events[0].event_type, "IncomingReminded");
    // Again within the interval: nothing; the same sweep twice: once.
    assert!(
        engine
            .sweep_deadlines(due + Duration::hours(2), 24)
            .await
            .unwrap()
            .is_empty()
    );
    let dry = engine.due_reminders(due + Duration::hours(30), 24).unwrap();
    assert_eq!(dry.len(), 1);
    assert_eq!(
        dry[0].escalated_to.as_ref().map(|a| a.as_str()),
        Some("lin.zhiyuan")
    );
    let second = engine
        .sweep_deadlines(due + Duration::hours(30), 24)
        .await
        .unwrap();
    assert_eq!(second.len(), 1);
    assert!(
        engine
            .sweep_deadlines(due + Duration::hours(30), 24)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(receipt(&engine, id).reminders(), 2);
    // Done: nothing more to remind.
    let complete = IncomingAction::Complete {
        result: sample.result.clone(),
        reply: sample.reply.clone(),
    };
    run(&engine, id, sample.handler.clone(), complete).await;
    assert!(
        engine
            .sweep_deadlines(due + Duration::hours(80), 24)
            .await
            .unwrap()
            .is_empty()
    );
}

/// For every state a 收文 reaches — registered by the office for itself, for another unit
/// (DW, which has no registrar of its own) and by 签收; screened, proposed, instructed with
/// 协办, with an extension pending, completed; circulated — its to-do holders are exactly
/// the actors who may act on it.
#[tokio::test]
async fn the_todo_holders_of_every_receipt_state_are_exactly_who_may_act() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let s = incoming_sample();
    let actions: Vec<workflow_core::FlowAction> = workflow_testkit::incoming::work_actions(&s)
        .into_iter()
        .map(Into::into)
        .collect();
    let assert_exact = |id: DocumentId, what: &str| {
        let (holders, may_act) =
            workflow_testkit::engine::todo_holders_and_who_may_act(&engine, id, &actions);
        assert_eq!(holders, may_act, "{what}: holders (left) vs who may act");
        assert!(
            !may_act.is_empty() || what.contains("(ArchiveIncoming)"),
            "{what}: nobody"
        );
    };
    // First (while the kit's clock is before the sample's issue date): a 收文 that 签收
    // registered for RSC (which has a registrar but no director).
    let a = drive(&engine, steps::ISSUED).await;
    run(&engine, a, "zhao.min", Action::Acknowledge).await;
    let id = linked_receipt_id(a, &UnitCode::from("RSC"));
    assert_exact(id, "签收 RSC registered");
    run(
        &engine,
        id,
        "guo.tao",
        IncomingAction::Screen {
            note: String::new(),
            // The 发文 was 加急: 初审 sets its 办结时限.
            deadline: Some(workflow_testkit::clock::today() + Duration::days(20)),
        },
    )
    .await;
    assert_exact(id, "签收 RSC screened");
    assert!(
        engine
            .inbox(&"ding.xin".into(), &ListQuery::default())
            .unwrap()
            .receipts()
            .iter()
            .any(|r| r.id() == id),
        "the general office's director, who may 拟办 it, has it"
    );
    // The sample's 批办 flow, for the office's own unit and for DW.
    for unit in [None, Some(UnitCode::from("DW"))] {
        let id = new_id();
        let mut flow = instruct_flow(&s, "J012");
        if let IncomingAction::Register { unit: u, .. } = &mut flow[0].1 {
            *u = unit.clone();
        }
        for (n, (actor, action)) in flow.into_iter().enumerate() {
            let name = action.name();
            run(&engine, id, actor, action).await;
            assert_exact(id, &format!("{unit:?} after step {n} ({name})"));
            if name == "ArchiveIncoming" {
                break;
            }
        }
    }
    // Circulated (a document only to be read): each reader until they have read it.
    let id = new_id();
    let mut flow = instruct_flow(&s, "J012");
    if let IncomingAction::Register { registration, .. } = &mut flow[0].1 {
        registration.reply_required = false;
    }
    for (actor, action) in flow.into_iter().take(2) {
        run(&engine, id, actor, action).await;
    }
    run(
        &engine,
        id,
        s.director.clone(),
        IncomingAction::Propose {
            plan: workflow_core::incoming::Plan::circulate(s.readers.clone()),
            opinion: "请传阅。".into(),
        },
    )
    .await;
    assert_exact(id, "circulating");
    run(
        &engine,
        id,
        s.readers[0].clone(),
        IncomingAction::MarkRead {
            opinion: String::new(),
        },
    )
    .await;
    assert_exact(id, "circulating, one read");
}

/// When the general office's only director leaves (deactivated), the 收文 of other units
/// waiting for 拟办 are not lost: the office clerk sees them for 转办.
#[tokio::test]
async fn an_office_role_nobody_holds_any_more_goes_to_the_office_clerk() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let s = incoming_sample();
    let id = new_id();
    let mut flow = instruct_flow(&s, "J012");
    if let IncomingAction::Register { unit, .. } = &mut flow[0].1 {
        *unit = Some(UnitCode::from("DW"));
    }
    for (actor, action) in flow.into_iter().take(2) {
        run(&engine, id, actor, action).await;
    }
    let holds = |actor: &str| {
        engine
            .inbox(&actor.into(), &ListQuery::default())
            .unwrap()
            .receipts()
            .iter()
            .any(|r| r.id() == id)
    };
    assert!(holds("ding.xin"));
    assert!(!holds("liu.yang"), "the clerk has nothing to hand over yet");
    engine
        .change_directory(workflow_core::directory::DirectoryAction::DeactivateActor {
            actor: "ding.xin".into(),
            system: "hr-system".into(),
            reason: "调岗".into(),
        })
        .await
        .unwrap();
    assert!(holds("liu.yang"), "the office clerk sees it, for 转办");
}

#[tokio::test]
async fn keywords_find_documents_by_title_number_sender_and_text() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    // An issued 发文, acknowledged by 人事处 (its 收文 carries the 发文's title and number),
    // and the fixture's 收文 from 省教育厅.
    let a = drive(&engine, steps::ISSUED).await;
    engine
        .execute(Request::new(a, "zhao.min", Action::Acknowledge))
        .await
        .unwrap();
    let linked = linked_receipt_id(a, &UnitCode::from("RSC"));
    let sample = incoming_sample();
    let b = new_id();
    for (actor, action) in instruct_flow(&sample, "J012")[..1].iter().cloned() {
        run(&engine, b, actor, action).await;
    }
    let number = engine
        .document(a)
        .unwrap()
        .unwrap()
        .issue()
        .unwrap()
        .number
        .to_string();
    let found = |words: &str| {
        let mut ids: Vec<DocumentId> = engine
            .list(&ListQuery {
                text: Some(words.to_owned()),
                ..ListQuery::default()
            })
            .unwrap()
            .states
            .iter()
            .map(|s| s.id())
            .collect();
        ids.sort();
        ids
    };
    let both = {
        let mut v = vec![a, linked];
        v.sort();
        v
    };
    // 标题: the 发文 and the 收文 made of it.
    assert_eq!(found("期末考试"), both);
    // 发文字号 (also the 收文's 来文字号), Latin letters in any case.
    assert_eq!(found(&number), both);
    assert_eq!(found(&number.to_lowercase()), both);
    // 来文单位 and 来文字号 of the registered 收文.
    assert_eq!(found("省教育厅"), vec![b]);
    assert_eq!(found("X教高函〔2026〕45号"), vec![b]);
    // 正文 (the 发文's; the 收文 made of it holds it as a file, not as text).
    assert_eq!(found("考风考纪"), vec![a]);
    // Every word must occur.
    assert_eq!(found("期末考试 考风考纪"), vec![a]);
    assert!(found("期末考试 合格评估").is_empty());
    assert!(found("不存在的词").is_empty());
}
