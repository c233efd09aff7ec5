//! Shared setup for the store's tests: an engine on a temp directory with the campus
//! fixture loaded, and the fixture document's flow as requests.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used
)] // test helpers

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{NaiveDate, TimeZone, Utc};
use uuid::Uuid;
use workflow_core::{Action, DocumentId, DraftFields, Kind, Retention, StageSpec, Timestamp};
use workflow_store::{Config, Engine, Request};

pub const CAMPUS: &str = include_str!("../../../fixtures/campus.json");

/// A clock that starts at 2026-11-02 09:00 CST and moves one minute per reading.
pub fn stepping_clock() -> workflow_store::Clock {
    let base = Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap();
    let minutes = Arc::new(AtomicI64::new(0));
    Arc::new(move || base + chrono::Duration::minutes(minutes.fetch_add(1, Ordering::SeqCst)))
}

pub async fn open(path: &std::path::Path) -> Engine {
    open_with(Config::new(path)).await
}

/// As [`open`], with the stepping clock set on `config`.
pub async fn open_with(config: Config) -> Engine {
    let engine = Engine::open_with(Config {
        clock: stepping_clock(),
        ..config
    })
    .unwrap();
    if engine.units().is_empty() {
        engine.load_directory_json(CAMPUS).await.unwrap();
    }
    engine
}

pub fn fields() -> DraftFields {
    DraftFields {
        kind: Kind::Circular,
        title: "关于做好2026年秋季学期期末考试工作的通知".into(),
        body: "各学院、各部门：……".into(),
        issuing_unit: "XB".into(),
        co_issuing_units: vec![],
        classification: Default::default(),
        classification_period_years: None,
        urgency: Default::default(),
        important: false,
        main_recipients: vec!["各学院".into(), "RSC".into()],
        cc: vec!["校党委".into()],
    }
}

pub fn route() -> Vec<StageSpec> {
    vec![
        StageSpec::Review {
            reviewer: "li.qiang".into(),
            deadline_days: Some(2),
            escalate_to: None,
        },
        StageSpec::Countersign {
            departments: vec!["RSC".into(), "CWC".into(), "XSC".into()],
            deadline_days: Some(3),
            completion: Default::default(),
            escalate_to: None,
        },
        StageSpec::Review {
            reviewer: "chen.hong".into(),
            deadline_days: Some(1),
            escalate_to: None,
        },
    ]
}

/// The fixture document's whole flow, draft to archive: (actor, action).
pub fn full_flow() -> Vec<(&'static str, Action)> {
    vec![
        ("wang.fang", Action::Draft(fields())),
        ("wang.fang", Action::SubmitForReview { route: route() }),
        (
            "li.qiang",
            Action::Approve {
                stage: None,
                opinion: "同意，请各相关部门会签。".into(),
            },
        ),
        (
            "zhao.min",
            Action::Countersign {
                stage: None,
                agree: true,
                opinion: "同意。".into(),
            },
        ),
        (
            "sun.li",
            Action::Countersign {
                stage: None,
                agree: true,
                opinion: "同意。考务经费从教务处年度预算中列支。".into(),
            },
        ),
        (
            "zhou.jie",
            Action::Countersign {
                stage: None,
                agree: true,
                opinion: "同意。".into(),
            },
        ),
        (
            "chen.hong",
            Action::Approve {
                stage: None,
                opinion: "经审核，格式规范，文种正确，同意报签。".into(),
            },
        ),
        (
            "huang.wei",
            Action::SignOff {
                opinion: "同意印发。".into(),
            },
        ),
        (
            "liu.yang",
            Action::Issue {
                issue_date: NaiveDate::from_ymd_opt(2026, 11, 5).unwrap(),
                copies: 40,
            },
        ),
        ("zhao.min", Action::Acknowledge),
        (
            "xu.jing",
            Action::Archive {
                fonds: "J012".into(),
                retention: Some(Retention::Years30),
                unit_code: "JWC".into(),
                deviation_reason: String::new(),
            },
        ),
    ]
}

pub fn new_id() -> DocumentId {
    DocumentId(Uuid::new_v4())
}

pub async fn run(
    engine: &Engine,
    id: DocumentId,
    actor: &str,
    action: Action,
) -> workflow_store::Outcome {
    let name = action.name();
    match engine.execute(Request::new(id, actor, action)).await {
        Ok(o) => o,
        Err(e) => panic!("{actor} {name}: {e}"),
    }
}

/// Drives a new document through the first `steps` steps of the full flow.
pub async fn drive(engine: &Engine, steps: usize) -> DocumentId {
    let id = new_id();
    for (actor, action) in full_flow().into_iter().take(steps) {
        run(engine, id, actor, action).await;
    }
    id
}

pub fn at(y: i32, m: u32, d: u32, h: u32) -> Timestamp {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0).unwrap()
}
