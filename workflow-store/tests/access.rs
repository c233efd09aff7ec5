//! The access log: classified reads recorded durably beside the event log, with a chain of
//! their own that survives a restart and shows tampering.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use common::*;
use workflow_core::{DocumentId, directory::Classification};
use workflow_store::{access::AccessQuery, access::AccessRecord};

fn read(doc: DocumentId, actor: &str, what: &str) -> AccessRecord {
    AccessRecord {
        system: "oa-portal".into(),
        actor: Some(actor.into()),
        what: what.into(),
        document_id: doc,
        classification: Classification::Secret,
        detail: String::new(),
    }
}

#[tokio::test]
async fn reads_are_chained_listed_by_filter_and_verified_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (new_id(), new_id());
    {
        let engine = open(dir.path()).await;
        assert!(workflow_store::access::is_recorded(Classification::Secret));
        assert!(!workflow_store::access::is_recorded(Classification::None));
        let first = engine
            .record_access(read(a, "wang.fang", "get"))
            .await
            .unwrap();
        assert_eq!(first.position, 1);
        assert_eq!(first.prev_hash, workflow_store::envelope::GENESIS_HASH);
        engine
            .record_access(read(b, "li.qiang", "history"))
            .await
            .unwrap();
        // The event log is untouched: reads are not events.
        assert_eq!(engine.head(), directory_events());
    }
    // After a restart the chain continues where it ended.
    let engine = open(dir.path()).await;
    let third = engine
        .record_access(read(a, "li.qiang", "as_of"))
        .await
        .unwrap();
    assert_eq!(third.position, 3);
    let report = engine.verify_access_log().unwrap();
    assert!(report.is_intact(), "{:?}", report.first_break);
    assert_eq!(
        (report.checked, report.head_hash.clone()),
        (3, third.hash.clone())
    );
    let of_a = engine
        .access_log(&AccessQuery {
            document: Some(a),
            ..AccessQuery::default()
        })
        .unwrap();
    assert_eq!(of_a.iter().map(|e| e.position).collect::<Vec<_>>(), [1, 3]);
    let by_li = engine
        .access_log(&AccessQuery {
            actor: Some("li.qiang".into()),
            ..AccessQuery::default()
        })
        .unwrap();
    assert_eq!(
        by_li.iter().map(|e| e.what.as_str()).collect::<Vec<_>>(),
        ["history", "as_of"]
    );
    let all = engine.access_log(&AccessQuery::default()).unwrap();
    let since = engine
        .access_log(&AccessQuery {
            since: Some(all[1].at),
            ..AccessQuery::default()
        })
        .unwrap();
    assert!(since.iter().all(|e| e.at >= all[1].at));
    assert!(!since.iter().any(|e| e.position == 1), "{since:?}");
    // An edited entry is caught at its position.
    let mut edited = of_a[0].clone();
    edited.actor = Some("zhou.jie".into());
    engine
        .tamper_access_entry(1, &serde_json::to_vec(&edited).unwrap())
        .unwrap();
    let report = engine.verify_access_log().unwrap();
    let (at, why) = report.first_break.unwrap();
    assert_eq!((at, report.checked), (1, 0));
    assert!(why.contains("hash mismatch"), "{why}");
    engine
        .tamper_access_entry(1, &serde_json::to_vec(&of_a[0]).unwrap())
        .unwrap();
    assert!(engine.verify_access_log().unwrap().is_intact());
    // Entries cut off the end are caught by the head recorded with the last append.
    engine.tamper_remove_access_entry(3).unwrap();
    let report = engine.verify_access_log().unwrap();
    let (at, why) = report.first_break.unwrap();
    assert_eq!((at, report.checked), (3, 2));
    assert!(why.contains("cut short"), "{why}");
}
