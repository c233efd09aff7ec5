//! Two engines writing through one storage, as several server processes will share one
//! PostgreSQL database (DESIGN §8): the storage refuses a group decided against a log that
//! moved, nothing of it is written, and the caller's retry succeeds.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

use std::sync::Arc;

use workflow_core::Action;
use workflow_store::{Config, Durability, Engine, Error, Request, SledStorage, Storage};
use workflow_testkit::engine::{new_id, stepping_clock};
use workflow_testkit::{CAMPUS, fields};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_decided_against_a_moved_log_is_refused_and_its_retry_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn Storage> =
        Arc::new(SledStorage::open(dir.path(), 16 << 20, true, Durability::Strict).unwrap());
    let config = || Config {
        clock: stepping_clock(),
        ..Config::new(dir.path())
    };
    let a = Engine::with_storage(storage.clone(), config()).unwrap();
    a.load_directory_json(CAMPUS, "test", "the campus fixture")
        .await
        .unwrap();
    let b = Engine::with_storage(storage.clone(), config()).unwrap();

    let x = a
        .execute(Request::new(new_id(), "wang.fang", Action::Draft(fields())))
        .await
        .unwrap();
    let d = workflow_testkit::directory_events();
    assert_eq!(x.events[0].position, d + 1);

    // B still believes the log ends at the directory: its group would take A's position.
    let y = Request::new(new_id(), "wang.fang", Action::Draft(fields()));
    let refused = b.execute(y.clone()).await.unwrap_err();
    assert!(
        matches!(refused, Error::WriteConflict { .. }),
        "expected a write conflict, got {refused}"
    );
    assert!(refused.is_retryable());
    assert_eq!(refused.reason(), "WRITE_CONFLICT");
    assert_eq!(
        storage.log_end().unwrap().unwrap().position,
        d + 1,
        "nothing was written"
    );
    assert!(storage.doc(y.document_id).unwrap().is_none());

    // The retry is decided against the log as it is now.
    let retried = b.execute(y.clone()).await.unwrap();
    assert_eq!(retried.events[0].position, d + 2);
    assert!(!retried.replayed);
    assert!(
        b.verify(|_, _| {}).unwrap().is_intact(),
        "the chain runs on across writers"
    );
}
