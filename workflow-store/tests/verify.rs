//! `verify` against each way of tampering with the log: an edited event, one deleted in the
//! middle, the tail cut off, two events swapped, and an insider's edit with the chain
//! recomputed after it (caught by an archived document's fixity digest, or by a witness
//! head kept elsewhere). Also: a data directory written by an earlier build still opens,
//! verifies, reads and rebuilds.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use common::*;
use workflow_core::{DocumentId, outgoing::Action, outgoing::State, retention::Retention};
use workflow_store::{Engine, Envelope, LogHead, Request, replay::VerifyOptions};

/// A position counted from the first document's first event (after the directory's).
fn p(n: u64) -> u64 {
    directory_events() + n
}

/// Two documents after the directory: A archived (11 events, `p(1..=10)` and `p(12)`; its
/// 签收 at `p(10)` registered RSC's 收文 at `p(11)` in the same group), B in review (3
/// events, `p(13..=15)`).
async fn two_documents(dir: &std::path::Path) -> (Engine, DocumentId, DocumentId) {
    let engine = open(dir).await;
    let a = drive(&engine, 11).await;
    let b = drive(&engine, 3).await;
    assert_eq!(engine.head(), p(15));
    (engine, a, b)
}

fn envelope_at(engine: &Engine, position: u64) -> Envelope {
    serde_json::from_slice(&engine.raw_log_entry(position).unwrap().unwrap()).unwrap()
}

fn broken_at(engine: &Engine, options: &VerifyOptions) -> (u64, String) {
    let report = engine.verify_with(options, |_, _| {}).unwrap();
    let b = report.first_break.expect("tampering must be caught");
    (b.position, b.reason)
}

/// What an insider with access to the files does: rewrites the event at `position` with
/// `edit`, then recomputes every later hash and the recorded head, so the chain is whole.
fn rewrite_and_rechain(engine: &Engine, position: u64, edit: impl FnOnce(&mut Envelope)) {
    let head = engine.head();
    let mut prev = envelope_at(engine, position - 1).hash;
    let mut edit = Some(edit);
    for p in position..=head {
        let mut e = envelope_at(engine, p);
        if let Some(edit) = edit.take() {
            edit(&mut e);
        }
        e.prev_hash = prev;
        e.hash = e.compute_hash();
        prev = e.hash.clone();
        engine
            .tamper_log_entry(p, &serde_json::to_vec(&e).unwrap())
            .unwrap();
    }
    engine.tamper_recorded_head(head, &prev).unwrap();
}

#[tokio::test]
async fn an_intact_log_reports_its_head_fixity_and_witness() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _, _) = two_documents(dir.path()).await;
    let head = engine.log_head().unwrap();
    assert_eq!(head.position, p(15));
    let report = engine.verify(|_, _| {}).unwrap();
    assert!(report.is_intact(), "{:?}", report.first_break);
    assert_eq!(report.head(), head);
    assert_eq!(report.recorded_head, Some(head.clone()));
    assert_eq!(report.fixity_checked, 1, "A's fixity digest was recomputed");
    // A head kept earlier by another system is extended by the log as it grows.
    let witness = head.clone();
    drive(&engine, 2).await;
    let options = VerifyOptions {
        against: Some(witness.clone()),
    };
    let report = engine.verify_with(&options, |_, _| {}).unwrap();
    assert!(report.is_intact(), "{:?}", report.first_break);
    assert_eq!(report.extends, Some(witness));
    // The text form the CLI takes and prints.
    let parsed: LogHead = head.to_string().parse().unwrap();
    assert_eq!(parsed, head);
    assert!("12:abc".parse::<LogHead>().is_err());
}

#[tokio::test]
async fn an_edited_event_is_caught_at_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _, _) = two_documents(dir.path()).await;
    let stored = String::from_utf8(engine.raw_log_entry(p(4)).unwrap().unwrap()).unwrap();
    let edited = stored.replace("同意。", "不同意。");
    assert_ne!(stored, edited);
    engine.tamper_log_entry(p(4), edited.as_bytes()).unwrap();
    let (at, why) = broken_at(&engine, &VerifyOptions::default());
    assert_eq!(at, p(4));
    assert!(why.contains("hash mismatch"), "{why}");
}

#[tokio::test]
async fn an_event_deleted_in_the_middle_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _, _) = two_documents(dir.path()).await;
    engine.tamper_remove_log_entry(p(7)).unwrap();
    let (at, why) = broken_at(&engine, &VerifyOptions::default());
    assert_eq!(at, p(7));
    assert!(
        why.contains(&format!("position {} is missing", p(7))),
        "{why}"
    );
}

#[tokio::test]
async fn a_log_cut_short_is_caught_by_the_recorded_head_and_the_indexes() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _, b) = two_documents(dir.path()).await;
    // While the engine runs, its durable head says where the log must end.
    engine.tamper_remove_log_entry(p(15)).unwrap();
    let (at, why) = broken_at(&engine, &VerifyOptions::default());
    assert_eq!(at, p(15));
    assert!(why.contains("cut short"), "{why}");
    drop(engine);
    // Opened again (an operator, after the fact): the head recorded with the last commit
    // says it. The engine refuses to write on, which would reuse position 15 and overwrite
    // the evidence; reads and verify still work.
    let engine = open(dir.path()).await;
    assert_eq!(engine.head(), p(14));
    let (at, why) = broken_at(&engine, &VerifyOptions::default());
    assert_eq!(at, p(15));
    assert!(
        why.contains("the head recorded with the last commit"),
        "{why}"
    );
    assert!(why.contains("cut short"), "{why}");
    let e = engine
        .execute(Request::new(new_id(), "wang.fang", Action::Draft(fields())))
        .await
        .unwrap_err();
    assert_eq!(e.reason(), "STORE_CORRUPT", "{e}");
    assert!(e.to_string().contains("run `workflow verify`"), "{e}");
    assert_eq!(engine.head(), p(14), "nothing written");
    assert!(engine.document(b).unwrap().is_some());
    // An insider who also rewrites the recorded head is caught by the stream index, which
    // still has B's third version at position 15.
    let last = envelope_at(&engine, p(14));
    engine.tamper_recorded_head(p(14), &last.hash).unwrap();
    drop(engine);
    let engine = open(dir.path()).await;
    let (at, why) = broken_at(&engine, &VerifyOptions::default());
    assert_eq!(at, p(15));
    assert!(
        why.contains(&format!(
            "the stream index has an entry at position {}",
            p(15)
        )),
        "{why}"
    );
    let _ = b;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_while_commands_land_reports_no_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _, _) = two_documents(dir.path()).await;
    let writer = {
        let engine = engine.clone();
        tokio::spawn(async move {
            for _ in 0..30 {
                drive(&engine, 4).await;
            }
        })
    };
    let mut checks = 0;
    while !writer.is_finished() {
        let e = engine.clone();
        let report = tokio::task::spawn_blocking(move || e.verify(|_, _| {}))
            .await
            .unwrap()
            .unwrap();
        assert!(report.is_intact(), "{:?}", report.first_break);
        checks += 1;
    }
    writer.await.unwrap();
    assert!(checks > 0);
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
}

#[tokio::test]
async fn two_swapped_events_are_caught() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _, _) = two_documents(dir.path()).await;
    let five = engine.raw_log_entry(p(5)).unwrap().unwrap();
    let six = engine.raw_log_entry(p(6)).unwrap().unwrap();
    engine.tamper_log_entry(p(5), &six).unwrap();
    engine.tamper_log_entry(p(6), &five).unwrap();
    let (at, why) = broken_at(&engine, &VerifyOptions::default());
    assert_eq!(at, p(5));
    assert!(
        why.contains(&format!("says position {} but is stored at {}", p(6), p(5))),
        "{why}"
    );
}

#[tokio::test]
async fn an_insiders_recomputed_chain_is_caught_by_the_fixity_digest() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, a, _) = two_documents(dir.path()).await;
    // Rewrite li.qiang's review opinion of A (position 3), then rechain everything after.
    rewrite_and_rechain(&engine, p(3), |e| {
        e.payload["opinion"] = "不同意，退回重拟。".into();
    });
    // The chain itself is whole again…
    let archived = engine
        .history(a)
        .unwrap()
        .into_iter()
        .find(|e| e.event_type == "Archived")
        .unwrap();
    // …but A's events no longer hash to the fixity digest recorded when it was archived.
    let (at, why) = broken_at(&engine, &VerifyOptions::default());
    assert_eq!(at, archived.position);
    assert!(why.contains(&format!("document {a}")), "{why}");
    assert!(why.contains("fixity digest"), "{why}");
}

#[tokio::test]
async fn an_insiders_recomputed_chain_is_caught_by_a_witness_head() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, _, b) = two_documents(dir.path()).await;
    let witness = engine.log_head().unwrap();
    // B is not archived, so no fixity digest covers it: rewrite its draft's title.
    let first_of_b = engine.history(b).unwrap()[0].position;
    rewrite_and_rechain(&engine, first_of_b, |e| {
        e.payload["fields"]["title"] = "关于另一件事的通知".into();
    });
    // On its own the log now looks intact: that is what a witness head is for.
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
    let options = VerifyOptions {
        against: Some(witness),
    };
    let (at, why) = broken_at(&engine, &options);
    assert_eq!(at, p(15));
    assert!(why.contains("witness head"), "{why}");
    // A witness head past the end of the log is refused too.
    let past = LogHead {
        position: 99,
        hash: witness_hash(),
    };
    let (at, why) = broken_at(
        &engine,
        &VerifyOptions {
            against: Some(past),
        },
    );
    assert_eq!(at, p(16));
    assert!(
        why.contains("before the witness head's position 99"),
        "{why}"
    );
}

fn witness_hash() -> String {
    "ab".repeat(32)
}

/// A copy of a data directory an earlier build wrote (`fixtures/stores/`).
fn legacy_copy(name: &str) -> tempfile::TempDir {
    let from = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/stores")
        .join(name);
    let to = tempfile::tempdir().unwrap();
    copy_dir(&from, to.path());
    to
}

/// Opens a legacy copy with the stepping clock (as the build that wrote it ran) and verifies
/// it intact against the head that build left.
async fn open_legacy_and_verify(
    dir: &tempfile::TempDir,
    old_head: &LogHead,
) -> (Engine, workflow_store::replay::VerifyReport) {
    let engine = open_with(workflow_store::Config {
        create: false,
        ..workflow_store::Config::new(dir.path())
    })
    .await;
    let report = verify_against(&engine, old_head);
    (engine, report)
}

/// Verifies a store intact against the head an older build left.
fn verify_against(engine: &Engine, old_head: &LogHead) -> workflow_store::replay::VerifyReport {
    let report = engine
        .verify_with(
            &VerifyOptions {
                against: Some(old_head.clone()),
            },
            |_, _| {},
        )
        .unwrap();
    assert!(report.is_intact(), "{:?}", report.first_break);
    report
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test]
async fn a_data_directory_written_by_main_at_bda0245_opens_verifies_and_rebuilds() {
    let dir = legacy_copy("bda0245");
    let engine = Engine::open_with(workflow_store::Config {
        create: false,
        ..workflow_store::Config::new(dir.path())
    })
    .unwrap();
    // Opened by this build, the directory it kept beside the log was recorded as the
    // directory stream's first event, after its 26 events, which are unchanged: the head it
    // had is a witness the log still extends.
    let old_head = LogHead {
        position: 26,
        hash: "4ec1ac48036ea09020e96624b2bf248e5982b465ced70084ae31891740e3f973".into(),
    };
    let report = verify_against(&engine, &old_head);
    assert_eq!(report.extends, Some(old_head));
    assert_eq!(report.checked, 27);
    assert_directory_imported(&engine, 27);
    // It was given the recorded head it lacked.
    assert_eq!(report.recorded_head, Some(report.head()));
    assert_eq!(report.fixity_checked, 1);
    let doc = |n: u128| {
        engine
            .document(DocumentId(uuid::Uuid::from_u128(n)))
            .unwrap()
            .unwrap()
    };
    assert_eq!(doc(0xA).state(), State::Archived);
    assert_eq!(
        doc(0xA).archive().unwrap().reference.to_string(),
        "J012-WS·2026-D30-JWC-0001"
    );
    assert_eq!(
        doc(0xB).issue().unwrap().number.to_string(),
        "X校发〔2026〕2号"
    );
    assert_eq!(doc(0xC).state(), State::Countersigning);
    assert_eq!(doc(0xD).state(), State::Voided);
    assert_eq!(doc(0xE).state(), State::InReview);
    let before = engine.dump_projections().unwrap();
    engine.rebuild(|_, _| {}).await.unwrap();
    assert_same_projections(&engine, &before);
    // Its command ids still answer retries (its events carry no request digest to compare).
    let mut retry = Request::new(
        DocumentId(uuid::Uuid::from_u128(0xE)),
        "wang.fang",
        Action::SubmitForReview { route: route() },
    );
    retry.command_id = "legacy-4-1".into();
    let o = engine.execute(retry).await.unwrap();
    assert!(o.replayed);
    assert_eq!(o.version, 2);
    // And it takes new commands, chained onto its old head.
    let next = drive(&engine, 1).await;
    assert_eq!(engine.history(next).unwrap()[0].position, 28);
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
}

#[tokio::test]
async fn a_data_directory_written_by_main_at_75ab9a3_opens_verifies_and_rebuilds() {
    // The layout before the restructuring: format marker, recorded head, request digests,
    // stage-named actions, scheduled retentions and a recorded deviation, a sweep reminder.
    let dir = legacy_copy("75ab9a3");
    // Opened with the stepping clock: new commands need a date before the sample's issue
    // date.
    let old_head = LogHead {
        position: 42,
        hash: "ce6a12ba12ea64f583005eb467373b35472e51625c0c37f881ac6997d565e9d6".into(),
    };
    let (engine, report) = open_legacy_and_verify(&dir, &old_head).await;
    assert_eq!(report.extends, Some(old_head));
    assert_eq!(report.checked, 43);
    assert_directory_imported(&engine, 43);
    assert_eq!(report.recorded_head, Some(report.head()));
    assert_eq!(report.fixity_checked, 2);
    let doc = |n: u128| {
        engine
            .document(DocumentId(uuid::Uuid::from_u128(n)))
            .unwrap()
            .unwrap()
    };
    let a = doc(0xA);
    assert_eq!(a.state(), State::Archived);
    let archived = a.archive().unwrap();
    assert_eq!(archived.reference.to_string(), "J012-WS·2026-D30-JWC-0001");
    assert_eq!(archived.scheduled_retention, Some(Retention::Years30));
    assert_eq!(archived.deviation, None);
    let f = doc(0xF).archive().unwrap().clone();
    assert_eq!(f.reference.to_string(), "J012-WS·2026-Y-JWC-0001");
    assert_eq!(f.scheduled_retention, Some(Retention::Years30));
    assert!(f.deviation.unwrap().contains("长期查考价值"));
    assert_eq!(
        doc(0xB).issue().unwrap().number.to_string(),
        "X校发〔2026〕2号"
    );
    assert_eq!(doc(0xC).state(), State::Countersigning);
    assert_eq!(doc(0xD).state(), State::Voided);
    assert_eq!(doc(0xE).state(), State::InReview);
    let e_events = engine
        .history(DocumentId(uuid::Uuid::from_u128(0xE)))
        .unwrap();
    assert_eq!(e_events.last().unwrap().event_type, "Reminded");

    let before = engine.dump_projections().unwrap();
    engine.rebuild(|_, _| {}).await.unwrap();
    assert_same_projections(&engine, &before);
    engine.rebuild_from_scratch(|_, _| {}).await.unwrap();
    assert_same_projections(&engine, &before);

    // Its command ids answer retries of the same request (its digest still matches)…
    let e = DocumentId(uuid::Uuid::from_u128(0xE));
    let mut retry = Request::new(e, "wang.fang", Action::SubmitForReview { route: route() });
    retry.command_id = "legacy-4-1".into();
    let o = engine.execute(retry.clone()).await.unwrap();
    assert!(o.replayed);
    assert_eq!(o.version, 2);
    // …and refuse another request under the same id.
    retry.actor = "li.qiang".into();
    let err = engine.execute(retry).await.unwrap_err();
    assert_eq!(err.reason(), "COMMAND_ID_REUSED", "{err}");
    // The 秘密 document's countersign stage takes RSC's peer, named for its stage (1)…
    let c = DocumentId(uuid::Uuid::from_u128(0xC));
    let countersign = |stage| Action::Countersign {
        stage: Some(stage),
        agree: true,
        opinion: "同意。".into(),
        content: None,
    };
    let stale = engine
        .execute(Request::new(c, "sun.li", countersign(0)))
        .await;
    assert_eq!(stale.unwrap_err().reason(), "STAGE_NOT_CURRENT");
    run(&engine, c, "sun.li", countersign(1)).await;
    assert_eq!(doc(0xC).state(), State::InReview);
    // …and new numbers continue the old series: the next 发文字号 is 4号.
    let next = drive(&engine, steps::ISSUED).await;
    assert_eq!(
        engine
            .document(next)
            .unwrap()
            .unwrap()
            .issue()
            .unwrap()
            .number
            .to_string(),
        "X校发〔2026〕4号"
    );
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
}

#[tokio::test]
async fn a_data_directory_written_by_main_at_0332cc5_opens_with_its_records_parts_apart() {
    // The last layout that kept whole records (projections layout 4): every flow, with
    // opinions; `records.json` holds every record as that build stored it.
    let dir = legacy_copy("0332cc5");
    let written: std::collections::BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(&std::fs::read(dir.path().join("records.json")).unwrap()).unwrap();
    let old_head = LogHead {
        position: 75,
        hash: "b94336153f421b2b12cd3cb5d97760c812a908b3ff571b85d17996f710a1bf69".into(),
    };
    let (engine, report) = open_legacy_and_verify(&dir, &old_head).await;
    assert_eq!(report.head(), old_head, "opening wrote no event");
    // Its 收文 names an attachment by digest, bytes kept outside the engine then: counted,
    // not a fault.
    assert_eq!((report.files_checked, report.files_not_kept), (0, 1));
    // Every stream reads back as the older build stored it, opinions and content included.
    let states_as_written = |engine: &Engine| {
        for (hex_id, record) in &written {
            let id = DocumentId(uuid::Uuid::from_slice(&hex::decode(hex_id).unwrap()).unwrap());
            let state = engine.state(id).unwrap().unwrap();
            assert_eq!(
                &serde_json::to_value(&state).unwrap(),
                &record["state"],
                "document {id}"
            );
        }
    };
    states_as_written(&engine);
    let opinions: usize = written
        .values()
        .map(|r| {
            r["state"]
                .as_object()
                .and_then(|s| s.values().next())
                .and_then(|s| s["opinions"].as_array())
                .map_or(0, Vec::len)
        })
        .sum();
    assert!(opinions >= 20, "the fixture holds opinions ({opinions})");
    // The upgrade rebuilt the projections in the new layout: the opinions and contents are
    // entries of their own, and no record carries them.
    let entries = engine.dump_projections().unwrap();
    let parts = entries
        .iter()
        .filter(|(part, _, _)| part == "parts")
        .count();
    let contents = written.len() - 1; // all but the directory stream
    assert_eq!(parts, opinions + contents);
    for (_, _, record) in entries.iter().filter(|(part, _, _)| part == "docs") {
        let text = String::from_utf8_lossy(record);
        assert!(!text.contains("\"opinions\":[{"), "{text}");
        assert!(!text.contains("\"fields\":"), "{text}");
    }
    // Rebuilds reproduce them; the states are unchanged.
    engine.rebuild(|_, _| {}).await.unwrap();
    assert_same_projections(&engine, &entries);
    engine.rebuild_from_scratch(|_, _| {}).await.unwrap();
    assert_same_projections(&engine, &entries);
    states_as_written(&engine);
    // New commands add their opinions to the upgraded streams.
    let c = DocumentId(uuid::Uuid::from_u128(0xC));
    let flow = workflow_testkit::full_flow();
    let (actor, action) = flow[steps::IN_REVIEW].clone();
    run(&engine, c, actor, action).await;
    let doc = engine.document(c).unwrap().unwrap();
    assert_eq!(doc.opinions().len(), 1);
    assert_eq!(doc.state(), State::Countersigning);
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
}

/// The directory a legacy store kept beside the log is the directory stream's one first
/// event, at `position`, and it is recorded once: opening again adds nothing.
fn assert_directory_imported(engine: &Engine, position: u64) {
    let imported = envelope_at(engine, position);
    assert_eq!(imported.event_type, "DirectoryImported");
    assert_eq!(
        imported.stream_id,
        workflow_core::directory::DIRECTORY_STREAM
    );
    let count = |part: &str| imported.payload[part].as_array().unwrap().len();
    assert_eq!(count("units"), engine.units().len());
    assert_eq!(count("actors"), engine.actors().len());
    assert!(count("actors") >= 10);
    let path = engine.path().to_owned();
    let reopened = Engine::open_with(workflow_store::Config {
        create: false,
        ..workflow_store::Config::new(&path)
    });
    // The directory is locked by `engine`: a second open is refused, never a second import.
    assert!(reopened.is_err());
}

/// The projections equal `before`, or the entries that differ are named.
fn assert_same_projections(engine: &Engine, before: &[workflow_store::storage::ProjectionEntry]) {
    let after = engine.dump_projections().unwrap();
    let show = |e: &workflow_store::storage::ProjectionEntry| {
        format!(
            "{} {} = {}",
            e.0,
            String::from_utf8_lossy(&e.1),
            String::from_utf8_lossy(&e.2)
        )
    };
    let gone: Vec<String> = before
        .iter()
        .filter(|e| !after.contains(e))
        .map(show)
        .collect();
    let new: Vec<String> = after
        .iter()
        .filter(|e| !before.contains(e))
        .map(show)
        .collect();
    assert!(
        gone.is_empty() && new.is_empty(),
        "gone: {gone:#?}\nnew: {new:#?}"
    );
}

/// A 月通报 published before bulletin formats had a number (format 1: a deadline ran out at
/// 23:59:59, days overdue counted one too many, a CSV without byte-order mark) still
/// verifies: verify produces it again in the format its record names, and still catches a
/// digest that is of neither.
#[tokio::test]
async fn a_bulletin_published_in_the_first_format_still_verifies() {
    use workflow_core::supervision::BulletinDigests;
    use workflow_core::supervision::bulletin::Month;
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
    // One item due on 11-20 and still open at the month's end: overdue.
    let flow = workflow_testkit::supervision::item_flow(
        chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        "J012",
    );
    let (actor, open) = flow[0].clone();
    let mut r = Request::new(new_id(), actor, open);
    r.at = Some(at(2026, 11, 3, 2));
    engine.execute(r).await.unwrap();
    let november = Month::new(2026, 11).unwrap();
    let supervisor = workflow_testkit::supervision::SUPERVISOR;
    let (bulletin, outcome) = engine
        .publish_bulletin(&supervisor.into(), november, None, None)
        .await
        .unwrap();
    let position = outcome.events[0].position;
    assert_eq!(
        envelope_at(&engine, position).payload["digests"]["format"],
        workflow_core::supervision::bulletin::BULLETIN_FORMAT
    );
    assert_eq!(bulletin.overdue[0].days_overdue, 10);
    // The record as a build before the format number wrote it.
    let clearance = engine.actor(&supervisor.into()).unwrap().clearance;
    let first = engine
        .bulletin_from_log(november, Some(clearance), 1)
        .unwrap();
    assert_eq!(first.overdue[0].days_overdue, 11);
    let first = BulletinDigests::of(&first);
    let now = BulletinDigests::of(&bulletin);
    assert!(first.csv != now.csv && first.html != now.html && first.json != now.json);
    rewrite_and_rechain(&engine, position, |e| {
        let mut digests = serde_json::to_value(&first).unwrap();
        digests.as_object_mut().unwrap().remove("format");
        e.payload["digests"] = digests;
    });
    let report = engine.verify(|_, _| {}).unwrap();
    assert!(report.is_intact(), "{:?}", report.first_break);
    assert_eq!(report.bulletins_checked, 1);
    // The current format's digests under no format number: of neither, caught.
    rewrite_and_rechain(&engine, position, |e| {
        let mut digests = serde_json::to_value(&now).unwrap();
        digests.as_object_mut().unwrap().remove("format");
        e.payload["digests"] = digests;
    });
    let (at_position, reason) = broken_at(&engine, &VerifyOptions::default());
    assert_eq!(at_position, position);
    assert!(reason.contains("月通报 of 2026-11"), "{reason}");
}
