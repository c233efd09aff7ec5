//! Two engines writing through one storage, as several server processes will share one
//! PostgreSQL database (DESIGN §8): the storage refuses a group decided against a log that
//! moved, nothing of it is written, and the writer decides the group again.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

use std::sync::Arc;

use workflow_core::outgoing::Action;
use workflow_store::{Config, Durability, Engine, Error, Request, SledStorage, Storage};
use workflow_testkit::engine::{new_id, stepping_clock};
use workflow_testkit::{CAMPUS, fields};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_decided_against_a_moved_log_is_refused_and_decided_again() {
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
    // The storage refuses it whole, and B decides it again against the log as it is now.
    let y = Request::new(new_id(), "wang.fang", Action::Draft(fields()));
    let written = b.execute(y.clone()).await.unwrap();
    assert_eq!(b.redecided_groups(), 1, "the first decision was refused");
    assert_eq!(written.events[0].position, d + 2);
    assert!(!written.replayed);
    assert_eq!(storage.log_end().unwrap().unwrap().position, d + 2);
    // A retry is answered from the record.
    assert!(b.execute(y).await.unwrap().replayed);
    assert!(
        b.verify(|_, _| {}).unwrap().is_intact(),
        "the chain runs on across writers"
    );
    // What a caller gets when a group keeps losing: retryable, with a stable code.
    let lost = Error::WriteConflict {
        reason: "log position 9 is taken".into(),
    };
    assert!(lost.is_retryable());
    assert_eq!(lost.reason(), "WRITE_CONFLICT");
}
