//! A store chained with SM3 (国密, GB/T 32905) instead of SHA-256 (`Config::chain_digest`):
//! every hash and fixity digest is SM3, written `sm3:…`; verify, the archive package, the
//! 四性检测 and a witness head work on it as on a SHA-256 store; an edited event breaks it;
//! and a store keeps the digest it began with.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use common::*;
use workflow_store::archive_check::{ArchiveScope, check_package};
use workflow_store::envelope::ChainDigest;
use workflow_store::replay::VerifyOptions;
use workflow_store::{Config, Engine, Envelope};

fn config(dir: &std::path::Path, digest: Option<ChainDigest>) -> Config {
    Config {
        printer: Some(std::sync::Arc::new(workflow_testkit::print::SmallPdf::default()).handle()),
        chain_digest: digest,
        ..Config::new(dir)
    }
}

fn at(engine: &Engine, position: u64) -> Envelope {
    serde_json::from_slice(&engine.raw_log_entry(position).unwrap().unwrap()).unwrap()
}

#[tokio::test]
async fn an_sm3_store_chains_verifies_packages_and_checks_with_sm3() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_with(config(dir.path(), Some(ChainDigest::Sm3))).await;
    let id = new_id();
    for (actor, action) in full_flow().into_iter().take(steps::ARCHIVED) {
        run(&engine, id, actor.as_str(), action).await;
    }
    // Every event: SM3 of its canonical bytes, by the sm3 crate directly.
    let first = at(&engine, 1);
    assert_eq!(first.prev_hash, format!("sm3:{}", "0".repeat(64)));
    for position in 1..=engine.head() {
        let e = at(&engine, position);
        let direct = hex::encode(<sm3::Sm3 as sm3::Digest>::digest(e.canonical_bytes()));
        assert_eq!(e.hash, format!("sm3:{direct}"), "position {position}");
    }
    let report = engine.verify(|_, _| {}).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert!(
        report.fixity_checked >= 1,
        "the archived record's fixity, SM3"
    );
    let head = report.head();
    assert!(head.hash.starts_with("sm3:"), "{head}");
    let state = engine.state(id).unwrap().unwrap();
    let archive = state.particulars().archive.unwrap();
    assert!(
        archive.fixity_hash.as_deref().unwrap().starts_with("sm3:"),
        "{archive:?}"
    );
    // A witness head of this log, as text, checks.
    let witness: workflow_store::LogHead = head.to_string().parse().unwrap();
    let report = engine
        .verify_with(
            &VerifyOptions {
                against: Some(witness),
            },
            |_, _| {},
        )
        .unwrap();
    assert!(report.is_intact() && report.extends.is_some(), "{report:?}");
    // The archive package says SM3 and checks; so does the 四性检测 of the year.
    let package = dir.path().join("package");
    let manifest = engine
        .export_document(id, &package, workflow_testkit::clock::now())
        .unwrap();
    assert_eq!(manifest.hash_algorithm, "SM3");
    assert!(manifest.fixity_hash.starts_with("sm3:"));
    let checked = workflow_store::export::verify_package(&package).unwrap();
    assert!(checked.is_intact(), "{:?}", checked.problems);
    let received = check_package(&package, None).unwrap();
    assert!(received.passed(), "{}", received.to_text());
    let year = engine
        .check_archive(&ArchiveScope {
            year: Some(archive.reference.year),
            ..ArchiveScope::default()
        })
        .unwrap();
    assert!(year.passed(), "{}", year.to_text());
    // A manifest claiming SHA-256 for SM3 events is caught.
    let path = package.join("manifest.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("\"SM3\"", "\"SHA-256\"")).unwrap();
    let checked = workflow_store::export::verify_package(&package).unwrap();
    assert!(
        checked
            .problems
            .iter()
            .any(|p| p.text.contains("chained with SM3")),
        "{:?}",
        checked.problems
    );
    // An edited event breaks the SM3 chain at its position.
    let position = engine.head() - 3;
    let stored = String::from_utf8(engine.raw_log_entry(position).unwrap().unwrap()).unwrap();
    let edited = stored.replacen("\"actor\":\"", "\"actor\":\"x", 1);
    assert_ne!(stored, edited);
    engine
        .tamper_log_entry(position, edited.as_bytes())
        .unwrap();
    let broken = engine.verify(|_, _| {}).unwrap();
    let first_break = broken.first_break.unwrap();
    assert_eq!(first_break.position, position);
    assert!(
        first_break.reason.contains("hash mismatch"),
        "{first_break:?}"
    );
}

#[tokio::test]
async fn a_store_keeps_the_digest_it_began_with() {
    let dir = tempfile::tempdir().unwrap();
    {
        let engine = open_with(config(dir.path(), Some(ChainDigest::Sm3))).await;
        let id = new_id();
        for (actor, action) in full_flow().into_iter().take(steps::IN_REVIEW) {
            run(&engine, id, actor.as_str(), action).await;
        }
    }
    // Opened without naming one: it goes on with SM3.
    let before = {
        let engine = open_with(config(dir.path(), None)).await;
        let before = engine.head();
        let id = new_id();
        for (actor, action) in full_flow().into_iter().take(steps::DRAFTED) {
            run(&engine, id, actor.as_str(), action).await;
        }
        assert!(at(&engine, engine.head()).hash.starts_with("sm3:"));
        assert!(engine.verify(|_, _| {}).unwrap().is_intact());
        before
    };
    assert!(before > 0);
    // Naming the other: refused, by the field, before anything is written.
    let refused = Engine::open_with(config(dir.path(), Some(ChainDigest::Sha256))).unwrap_err();
    assert!(
        matches!(
            refused,
            workflow_store::Error::InvalidRequest {
                field: "chain_digest",
                ..
            }
        ),
        "{refused}"
    );
    assert!(
        refused.to_string().contains("chained with SM3"),
        "{refused}"
    );
    // And a SHA-256 store is not turned into an SM3 one.
    let other = tempfile::tempdir().unwrap();
    drop(open_with(config(other.path(), None)).await);
    let refused = Engine::open_with(config(other.path(), Some(ChainDigest::Sm3))).unwrap_err();
    assert!(
        refused.to_string().contains("chained with SHA-256"),
        "{refused}"
    );
}

#[tokio::test]
async fn a_genesis_is_taken_at_the_first_position_only() {
    // An event past the first rewritten to start a chain of its own (either digest's
    // genesis as its prev_hash, its hash computed again): the chain breaks there.
    for genesis in [ChainDigest::Sha256.genesis(), ChainDigest::Sm3.genesis()] {
        let dir = tempfile::tempdir().unwrap();
        let engine = open_with(config(dir.path(), Some(ChainDigest::Sm3))).await;
        let id = new_id();
        for (actor, action) in full_flow().into_iter().take(steps::COUNTERSIGNING) {
            run(&engine, id, actor.as_str(), action).await;
        }
        let position = engine.head() - 1;
        let mut e = at(&engine, position);
        e.prev_hash = genesis.clone();
        e.hash = String::new();
        let bytes = e.seal();
        engine.tamper_log_entry(position, &bytes).unwrap();
        let broken = engine.verify(|_, _| {}).unwrap().first_break.unwrap();
        assert_eq!(broken.position, position, "{genesis}: {broken:?}");
        assert!(broken.reason.contains("prev_hash"), "{broken:?}");
    }
}
