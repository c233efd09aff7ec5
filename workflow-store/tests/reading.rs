//! The reading rules every adapter shares (clearance, the access log) and the dry run of a
//! command the web console offers actions by.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

use workflow_core::{StreamKind, directory::Classification, outgoing::Action};
use workflow_store::{Error, Reader, Request, access::AccessQuery};

#[tokio::test]
async fn a_dry_run_decides_as_the_writer_would_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let engine = workflow_testkit::engine::open(dir.path()).await;
    let sample = workflow_testkit::sample();
    let flow = sample.flow(&workflow_testkit::directory());
    let id = workflow_testkit::engine::new_id();
    for (actor, action) in flow.iter().take(2).cloned() {
        engine
            .execute(Request::new(id, actor, action))
            .await
            .unwrap();
    }
    let head = engine.head();
    let approve = |actor: &str| {
        let mut r = Request::new(
            id,
            actor,
            Action::Approve {
                content: None,
                opinion: "同意".into(),
                stage: Some(0),
            },
        );
        r.expected_version = Some(2);
        r
    };
    engine.check(&approve("li.qiang")).unwrap();
    assert!(matches!(
        engine.check(&approve("wang.fang")),
        Err(Error::Rejected(_))
    ));
    let mut stale = approve("li.qiang");
    stale.expected_version = Some(1);
    assert!(matches!(engine.check(&stale), Err(Error::Conflict { .. })));
    // Nothing written, no command id taken: the same request still executes.
    assert_eq!(engine.head(), head);
    let checked = approve("li.qiang");
    engine.check(&checked).unwrap();
    let outcome = engine.execute(checked).await.unwrap();
    assert!(!outcome.replayed);
    assert_eq!(outcome.version, 3);
}

#[tokio::test]
async fn reads_are_refused_above_clearance_and_recorded_below_it() {
    let dir = tempfile::tempdir().unwrap();
    let engine = workflow_testkit::engine::open(dir.path()).await;
    let mut fields = workflow_testkit::fields();
    fields.classification = Classification::Secret;
    fields.classification_period_years = Some(10);
    let id = workflow_testkit::engine::new_id();
    engine
        .execute(Request::new(id, "wang.fang", Action::Draft(fields)))
        .await
        .unwrap();
    // A system naming no actor, up to 非密; an actor cleared for nothing.
    let system = Reader::system("oa-portal", Classification::None);
    let e = engine
        .read_state(&system, id, None, None)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::SystemClearance { .. }), "{e}");
    assert_eq!(e.reason(), "CLEARANCE_TOO_LOW");
    let zhou = engine.reader("web", "zhou.jie").unwrap();
    assert!(matches!(
        engine.read_state(&zhou, id, None, None).await,
        Err(Error::Rejected(
            workflow_core::Error::InsufficientClearance { .. }
        ))
    ));
    // Both attempts are on record as refused, with what was asked and the levels.
    let attempts: Vec<(String, String, String)> = engine
        .access_log(&AccessQuery::default())
        .unwrap()
        .into_iter()
        .map(|e| {
            let actor = e.actor.map(|a| a.to_string()).unwrap_or_default();
            (format!("{} {actor}", e.system), e.what, e.detail)
        })
        .collect();
    assert_eq!(
        attempts,
        [
            (
                "oa-portal ".to_owned(),
                "refused".to_owned(),
                "get: clearance None below Secret".to_owned()
            ),
            (
                "web zhou.jie".to_owned(),
                "refused".to_owned(),
                "get: clearance None below Secret".to_owned()
            ),
        ]
    );
    // Another flow's stream is not found as this one.
    let wang = engine.reader("web", "wang.fang").unwrap();
    assert!(matches!(
        engine
            .read_state(&wang, id, Some(StreamKind::Incoming), None)
            .await,
        Err(Error::NotFound(_))
    ));
    engine
        .read_state(&wang, id, Some(StreamKind::Outgoing), None)
        .await
        .unwrap();
    engine.read_history(&wang, id).await.unwrap();
    engine.may_act_on(&wang, id).unwrap();
    let log = engine.access_log(&AccessQuery::default()).unwrap();
    let what: Vec<_> = log
        .iter()
        .map(|e| (e.system.as_str(), e.what.as_str()))
        .collect();
    assert_eq!(
        what,
        vec![
            ("oa-portal", "refused"),
            ("web", "refused"),
            ("web", "get"),
            ("web", "history")
        ]
    );
    // Unknown, empty and deactivated readers are refused by name.
    assert!(matches!(
        engine.reader("web", "nobody"),
        Err(Error::Rejected(workflow_core::Error::UnknownActor { .. }))
    ));
    assert!(matches!(
        engine.reader("web", "  "),
        Err(Error::InvalidRequest {
            field: "actor_id",
            ..
        })
    ));
}

/// A 月通报 that names classified items (overdue, or closed in the month) is a read of
/// each: recorded before it is returned; one naming none records nothing.
#[tokio::test]
async fn a_bulletin_naming_classified_items_records_each_as_read() {
    use workflow_core::supervision::SupervisionAction;
    use workflow_core::supervision::bulletin::Month;
    let dir = tempfile::tempdir().unwrap();
    // The kit's stepping clock, moved on a month once the item is open: November read
    // whole, in December (a month under way names nobody overdue before their deadline).
    let later = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stepping = workflow_testkit::clock::stepping_clock();
    let moved = later.clone();
    let clock: workflow_store::Clock = std::sync::Arc::new(move || {
        let now = stepping();
        if moved.load(std::sync::atomic::Ordering::SeqCst) {
            now + chrono::Duration::days(30)
        } else {
            now
        }
    });
    let engine = workflow_testkit::engine::open_on_its_clock(workflow_store::Config {
        clock,
        ..workflow_store::Config::new(dir.path())
    })
    .await;
    let mut spec = workflow_testkit::supervision::item_spec(
        chrono::NaiveDate::from_ymd_opt(2026, 11, 10).unwrap(),
    );
    spec.classification = Classification::Confidential;
    // To the 校长办公室, whose 承办人 is cleared for 机密 (教务处's only for 秘密).
    spec.lead_unit = "XB".into();
    spec.co_units.clear();
    spec.responsible = None;
    let id = workflow_testkit::engine::new_id();
    engine
        .execute(Request::new(
            id,
            workflow_testkit::supervision::SUPERVISOR,
            SupervisionAction::OpenItem { spec },
        ))
        .await
        .unwrap();
    // A second 机密 item, due in December: neither overdue nor closed in November, named in
    // its 督办事项一览 all the same.
    let mut spec = workflow_testkit::supervision::item_spec(
        chrono::NaiveDate::from_ymd_opt(2026, 12, 20).unwrap(),
    );
    spec.classification = Classification::Confidential;
    spec.lead_unit = "XB".into();
    spec.co_units.clear();
    spec.responsible = None;
    let listed = workflow_testkit::engine::new_id();
    engine
        .execute(Request::new(
            listed,
            workflow_testkit::supervision::SUPERVISOR,
            SupervisionAction::OpenItem { spec },
        ))
        .await
        .unwrap();
    let november = Month::new(2026, 11).unwrap();
    later.store(true, std::sync::atomic::Ordering::SeqCst);
    let supervisor = engine
        .reader("web", workflow_testkit::supervision::SUPERVISOR)
        .unwrap();
    let b = engine.read_bulletin(&supervisor, november).await.unwrap();
    assert_eq!(b.overdue.len(), 1, "named as overdue");
    let log = engine.access_log(&AccessQuery::default()).unwrap();
    let reads: Vec<(&str, &str, String)> = log
        .iter()
        .map(|e| {
            (
                e.what.as_str(),
                e.detail.as_str(),
                e.document_id.to_string(),
            )
        })
        .collect();
    let mut expected = vec![
        ("bulletin", "2026-11", id.to_string()),
        ("bulletin", "2026-11", listed.to_string()),
    ];
    expected.sort_by(|a, b| a.2.cmp(&b.2));
    assert_eq!(b.items.len(), 2, "both in the 督办事项一览");
    assert_eq!(reads, expected);
    // A reader not cleared for it gets a bulletin without it, and nothing is recorded.
    let zhou = engine.reader("web", "zhou.jie").unwrap();
    let b = engine.read_bulletin(&zhou, november).await.unwrap();
    assert!(b.overdue.is_empty() && b.items.is_empty());
    assert_eq!(engine.access_log(&AccessQuery::default()).unwrap().len(), 2);
}
