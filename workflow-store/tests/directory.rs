//! The directory in the log (DESIGN §4): units, actors, roles and clearances are events of
//! the directory stream in the same hash chain, each with the system and the reason; the
//! directory, and everything that depends on it, is rebuilt from the log alone; a
//! deactivated actor keeps their history and their open tasks go to the office clerk.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use common::*;
use workflow_core::{
    directory::Classification, directory::DIRECTORY_STREAM, directory::DirectoryAction,
    directory::DirectoryEvent, directory::Role, outgoing::Action, outgoing::State,
};
use workflow_store::{Error, ListQuery, Request};

fn deactivate(actor: &str, reason: &str) -> DirectoryAction {
    DirectoryAction::DeactivateActor {
        actor: actor.into(),
        system: "hr-system".into(),
        reason: reason.into(),
    }
}

#[tokio::test]
async fn the_fixture_load_is_one_group_of_directory_events_in_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let events = engine.history(DIRECTORY_STREAM).unwrap();
    assert_eq!(events.len() as u64, directory_events());
    // One command: one atomic group, at the start of the log.
    assert!(events.iter().all(|e| e.command_id == events[0].command_id));
    assert_eq!(events[0].position, 1);
    for e in &events {
        let data = e.event().unwrap().data;
        let d = data.directory().expect("a directory event");
        assert_eq!(d.provenance(), ("test", "the campus fixture"));
        assert_eq!(e.actor.0, "system:test");
    }
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
    // Loading the same file again changes nothing and appends nothing.
    let again = engine
        .load_directory_json(CAMPUS, "test", "again")
        .await
        .unwrap();
    assert!(again.events.is_empty());
    assert_eq!(engine.head(), directory_events());
}

#[tokio::test]
async fn an_actors_grants_are_recorded_with_system_and_reason() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let mut li = engine.actor(&"li.qiang".into()).unwrap();
    li.roles.insert(Role::Signatory);
    li.clearance = Classification::TopSecret;
    engine
        .put_actor(li.clone(), "oa-admin", "任命为副校长")
        .await
        .unwrap();
    // No reason, no change.
    li.roles.insert(Role::Archivist);
    let e = engine
        .put_actor(li.clone(), "oa-admin", " ")
        .await
        .unwrap_err();
    assert_eq!(e.reason(), "INVALID_FIELD", "{e}");
    assert!(e.to_string().contains("reason"), "{e}");
    assert!(
        !engine
            .actor(&"li.qiang".into())
            .unwrap()
            .has_role(Role::Archivist)
    );
    // An unknown unit is refused, naming it.
    li.unit = "NOPE".into();
    let e = engine.put_actor(li, "oa-admin", "调岗").await.unwrap_err();
    assert!(e.to_string().contains("unknown unit NOPE"), "{e}");

    let history = engine.actor_history(&"li.qiang".into()).unwrap();
    assert_eq!(history.len(), 2, "registered, then granted");
    let last = history[1].event().unwrap().data;
    match last.directory().unwrap() {
        DirectoryEvent::ActorPut {
            actor,
            system,
            reason,
        } => {
            assert!(actor.has_role(Role::Signatory));
            assert_eq!(
                (system.as_str(), reason.as_str()),
                ("oa-admin", "任命为副校长")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_deactivated_actor_keeps_their_history_and_the_clerk_gets_their_tasks() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    // li.qiang reviews the first stage.
    let id = drive(&engine, steps::IN_REVIEW).await;
    engine
        .change_directory(deactivate("li.qiang", "离职"))
        .await
        .unwrap();
    assert!(engine.is_deactivated(&"li.qiang".into()));
    // He may not act…
    let e = engine
        .execute(Request::new(
            id,
            "li.qiang",
            Action::Approve {
                content: None,
                stage: None,
                opinion: "同意。".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.reason(), "ACTOR_DEACTIVATED", "{e}");
    // …or be named on a route…
    let other = drive(&engine, steps::DRAFTED).await;
    let e = engine
        .execute(Request::new(
            other,
            "wang.fang",
            Action::SubmitForReview { route: route() },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.reason(), "ACTOR_DEACTIVATED", "{e}");
    assert!(
        e.to_string()
            .contains("names actor li.qiang, who was deactivated"),
        "{e}"
    );
    // …but his history stays, and his open task is in the office clerk's to-do list.
    assert_eq!(engine.history(id).unwrap().len(), 2);
    let todo = |who: &str| {
        engine
            .inbox(&who.into(), &ListQuery::default())
            .unwrap()
            .documents()
            .into_iter()
            .map(|d| d.id())
            .collect::<Vec<_>>()
    };
    assert_eq!(todo("liu.yang"), [id]);
    // The clerk hands it on (转办); it leaves the clerk's list.
    run(
        &engine,
        id,
        "liu.yang",
        Action::Reassign {
            to: "chen.hong".into(),
            reason: "李强离职，转陈红审核".into(),
            stage: Some(0),
        },
    )
    .await;
    assert!(todo("liu.yang").is_empty());
    assert_eq!(todo("chen.hong"), [id]);
    // Deactivating twice is refused; reactivating restores him.
    let e = engine
        .change_directory(deactivate("li.qiang", "again"))
        .await
        .unwrap_err();
    assert_eq!(e.reason(), "NOT_NOW", "{e}");
    engine
        .change_directory(DirectoryAction::ReactivateActor {
            actor: "li.qiang".into(),
            system: "hr-system".into(),
            reason: "返聘".into(),
        })
        .await
        .unwrap();
    assert!(!engine.is_deactivated(&"li.qiang".into()));
    let history = engine.actor_history(&"li.qiang".into()).unwrap();
    let steps: Vec<&str> = history.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(steps, ["ActorPut", "ActorDeactivated", "ActorReactivated"]);
    assert_eq!(
        engine.document(id).unwrap().unwrap().state(),
        State::InReview
    );
}

#[tokio::test]
async fn rebuild_takes_the_directory_from_the_log_alone() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    drive(&engine, steps::ACKNOWLEDGED).await;
    drive(&engine, steps::IN_REVIEW).await;
    engine
        .change_directory(deactivate("zhou.jie", "调岗"))
        .await
        .unwrap();
    let mut unit = engine.units()[0].clone();
    unit.name.push_str("（新）");
    engine.put_unit(unit, "oa-admin", "更名").await.unwrap();
    let before = engine.dump_projections().unwrap();
    let actors = engine.actors();
    let units = engine.units();
    // Drop the directory's own record: only the log knows it now.
    let record = before
        .iter()
        .find(|(part, key, _)| part == "docs" && key.as_slice() == DIRECTORY_STREAM.0.as_bytes())
        .expect("the directory's record")
        .clone();
    engine
        .tamper_projection(&record.0, &record.1, None)
        .unwrap();
    engine.rebuild_from_scratch(|_, _| {}).await.unwrap();
    assert_eq!(engine.dump_projections().unwrap(), before);
    assert_eq!(engine.actors(), actors);
    assert_eq!(engine.units(), units);
    assert!(engine.is_deactivated(&"zhou.jie".into()));
    // Reopened, the engine reads the same directory.
    drop(engine);
    let engine = open(dir.path()).await;
    assert_eq!(engine.actors(), actors);
    assert!(engine.is_deactivated(&"zhou.jie".into()));
    // A directory command cannot go to a document, nor a document command to the directory.
    let e = engine
        .execute(Request::new(
            DIRECTORY_STREAM,
            "wang.fang",
            Action::Draft(fields()),
        ))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Rejected(_)), "{e}");
    assert!(e.to_string().contains("directory stream"), "{e}");
}
