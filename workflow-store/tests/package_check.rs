//! 四性检测 of one archive package (`archive_check::check_package`), as the archives that
//! receives it checks it: a package as exported passes every line; each kind of damage —
//! a content file flipped by one byte, a file slipped in, a bad or foreign signature, a
//! metadata value out of its 值域 in an otherwise consistent forgery, a record not filed —
//! fails exactly the line that names it.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use std::path::{Path, PathBuf};

use common::*;
use workflow_store::Config;
use workflow_store::archive_check::check_package;
use workflow_store::sign::{Signer as _, SoftwareSm2};

fn key(seed: u8) -> SoftwareSm2 {
    SoftwareSm2::from_bytes(&[seed; 32], "office@campus").unwrap()
}

/// A 发文 taken to `steps` steps (all of them: filed) and exported, signed with `key(9)`,
/// into a package; the package's path and its temporary directory.
async fn exported(steps: usize, signed: bool) -> (PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_with(Config {
        printer: Some(std::sync::Arc::new(workflow_testkit::print::SmallPdf::default()).handle()),
        ..Config::new(dir.path())
    })
    .await;
    let id = new_id();
    for (actor, action) in full_flow().into_iter().take(steps) {
        run(&engine, id, actor.as_str(), action).await;
    }
    let package = dir.path().join("package");
    let signer = key(9);
    engine
        .export_document_signed(
            id,
            &package,
            workflow_testkit::clock::now(),
            signed.then_some(&signer as &dyn workflow_store::sign::Signer),
        )
        .unwrap();
    (package, dir)
}

/// The manifest's SHA-256 of `path` set to the file's as it now is (what someone altering a
/// package and covering their tracks in the manifest does).
fn restate_digest(package: &Path, path: &str) {
    let manifest_path = package.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    let bytes = std::fs::read(package.join(path)).unwrap();
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes));
    for f in manifest["files"].as_array_mut().unwrap() {
        if f["path"] == path {
            f["sha256"] = sha.clone().into();
            f["bytes"] = bytes.len().into();
        }
    }
    std::fs::write(
        &manifest_path,
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
}

fn the_printed_file(package: &Path) -> PathBuf {
    std::fs::read_dir(package.join("files"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path()
}

#[tokio::test]
async fn a_package_as_exported_passes_every_line() {
    let (package, _dir) = exported(steps::ARCHIVED, true).await;
    let trusted = key(9).public_key();
    let report = check_package(&package, Some(&trusted)).unwrap();
    assert!(report.passed(), "{}", report.to_text());
    assert_eq!(report.records, 1);
    let codes: Vec<_> = report.items.iter().map(|i| i.code).collect();
    assert_eq!(
        codes,
        [
            "authenticity.fixity",
            "authenticity.content_digests",
            "authenticity.metadata",
            "authenticity.signature",
            "integrity.elements",
            "integrity.process",
            "integrity.content",
            "usability.formats",
            "usability.readable",
            "usability.rendering",
            "security.package",
        ]
    );
    assert!(
        findings(&report, "authenticity.signature").contains("以可信公钥"),
        "{}",
        report.to_text()
    );
    let text = report.to_text();
    assert!(text.contains("范围：封装包 "), "{text}");
    // Without a trusted key the signature is checked under the package's own key, and the
    // report says that proves nothing of who signed.
    let report = check_package(&package, None).unwrap();
    assert!(report.passed(), "{}", report.to_text());
    assert!(findings(&report, "authenticity.signature").contains("签名人身份未核验"));
}

#[tokio::test]
async fn a_content_file_flipped_by_one_byte_fails_its_digests_only() {
    let (package, _dir) = exported(steps::ARCHIVED, true).await;
    let printed = the_printed_file(&package);
    let mut bytes = std::fs::read(&printed).unwrap();
    // A byte of a comment line: the PDF still opens, only its digests tell.
    let comment = bytes.windows(3).position(|w| w == b"\n% ").unwrap() + 4;
    bytes[comment] ^= 1;
    std::fs::write(&printed, &bytes).unwrap();
    let report = check_package(&package, None).unwrap();
    assert_failing(&report, &["authenticity.content_digests"]);
    // Even with the manifest's SHA-256 restated, eep.xml's SM3 摘要 (under the signature)
    // still tells.
    let rel = printed.strip_prefix(&package).unwrap().to_str().unwrap();
    restate_digest(&package, rel);
    let report = check_package(&package, None).unwrap();
    assert_eq!(failing(&report), ["authenticity.content_digests"]);
    assert!(
        findings(&report, "authenticity.content_digests").contains("SM3 摘要"),
        "{}",
        report.to_text()
    );
}

#[tokio::test]
async fn a_file_slipped_into_the_package_or_its_notes_changed_fail_the_security_line() {
    let (package, _dir) = exported(steps::ARCHIVED, true).await;
    std::fs::write(
        package.join("files").join("99-extra.pdf"),
        b"%PDF-1.7\n%%EOF\n",
    )
    .unwrap();
    let report = check_package(&package, None).unwrap();
    assert_failing(&report, &["security.package"]);
    assert!(findings(&report, "security.package").contains("files/99-extra.pdf 不在清单中"));
    std::fs::remove_file(package.join("files").join("99-extra.pdf")).unwrap();
    let notes = package.join("VERIFY.txt");
    let mut text = std::fs::read_to_string(&notes).unwrap();
    text.push_str("\nAll is well.\n");
    std::fs::write(&notes, text).unwrap();
    let report = check_package(&package, None).unwrap();
    assert_failing(&report, &["security.package"]);
}

#[tokio::test]
async fn a_bad_or_foreign_signature_fails_the_signature_line_only() {
    let (package, _dir) = exported(steps::ARCHIVED, true).await;
    let eep = package.join("eep.xml");
    let xml = std::fs::read_to_string(&eep).unwrap();
    // The title changed in eep.xml alone, its digest restated: the signature tells (and the
    // metadata line, whose 题名 now disagrees with the record's).
    let retitled = xml.replacen("<题名>", "<题名>（改）", 1);
    assert_ne!(retitled, xml);
    std::fs::write(&eep, &retitled).unwrap();
    restate_digest(&package, "eep.xml");
    let report = check_package(&package, None).unwrap();
    assert_failing(
        &report,
        &["authenticity.metadata", "authenticity.signature"],
    );
    assert!(findings(&report, "authenticity.signature").contains("签名无效"));
    // The signature value itself altered: only the signature line fails.
    let start = xml.find("<签名结果>").unwrap() + "<签名结果>".len();
    let mut bad = xml.clone().into_bytes();
    bad[start + 4] = if bad[start + 4] == b'A' { b'B' } else { b'A' };
    std::fs::write(&eep, &bad).unwrap();
    restate_digest(&package, "eep.xml");
    let report = check_package(&package, None).unwrap();
    assert_failing(&report, &["authenticity.signature"]);
    // Intact, but checked against a key that did not sign it.
    std::fs::write(&eep, &xml).unwrap();
    restate_digest(&package, "eep.xml");
    let other = key(7).public_key();
    let report = check_package(&package, Some(&other)).unwrap();
    assert_failing(&report, &["authenticity.signature"]);
    assert!(findings(&report, "authenticity.signature").contains("不是可信公钥"));
    // An unsigned package, when a trusted key is asked for.
    let (unsigned, _dir2) = exported(steps::ARCHIVED, false).await;
    let report = check_package(&unsigned, Some(&other)).unwrap();
    assert_eq!(failing(&report), ["authenticity.signature"]);
    assert!(check_package(&unsigned, None).unwrap().passed());
}

/// A forgery made consistent everywhere a digest of the package itself would tell: the 归档
/// event's 年度 set to 1900, its hash computed again, the fixity digest, document.json and
/// the manifest restated. Returns the event's hash before and after.
fn forge_the_year(package: &Path) -> (String, String) {
    let jsonl = std::fs::read_to_string(package.join("events.jsonl")).unwrap();
    let mut events: Vec<workflow_store::Envelope> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = events.last_mut().unwrap();
    let before = last.hash.clone();
    let text = serde_json::to_string(&last.payload).unwrap();
    let year = format!("\"year\":{}", workflow_testkit::clock::now().format("%Y"));
    assert!(text.contains(&year), "{text}");
    last.payload = serde_json::from_str(&text.replace(&year, "\"year\":1900")).unwrap();
    last.hash = last.compute_hash();
    let after = last.hash.clone();
    let mut out = String::new();
    for e in &events {
        out.push_str(&serde_json::to_string(e).unwrap());
        out.push('\n');
    }
    std::fs::write(package.join("events.jsonl"), out).unwrap();
    let mut state: Option<workflow_core::FlowState> = None;
    for e in &events {
        let e = e.event().unwrap();
        match state.as_mut() {
            Some(s) => s.apply(&e),
            None => state = workflow_core::FlowState::create(&e),
        }
    }
    std::fs::write(
        package.join("document.json"),
        state.unwrap().to_json(true).unwrap(),
    )
    .unwrap();
    let manifest_path = package.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    manifest["fixity_hash"] =
        workflow_store::envelope::fixity_digest(events.iter().map(|e| e.hash.as_str())).into();
    std::fs::write(
        &manifest_path,
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    restate_digest(package, "events.jsonl");
    restate_digest(package, "document.json");
    (before, after)
}

#[tokio::test]
async fn a_metadata_value_out_of_its_range_fails_the_metadata_line() {
    // The forger of an unsigned package restates eep.xml's 事件哈希 too: only the 值域 (and
    // eep.xml's 档号, which now disagrees) tell.
    let (package, _dir) = exported(steps::ARCHIVED, false).await;
    let (before, after) = forge_the_year(&package);
    let eep = package.join("eep.xml");
    let xml = std::fs::read_to_string(&eep).unwrap();
    assert!(xml.contains(&before));
    std::fs::write(&eep, xml.replace(&before, &after)).unwrap();
    restate_digest(&package, "eep.xml");
    let report = check_package(&package, None).unwrap();
    assert_failing(&report, &["authenticity.metadata"]);
    let found = findings(&report, "authenticity.metadata");
    assert!(found.contains("年度 1900 不在值域内"), "{found}");
    assert!(found.contains("档号"), "{found}");
}

#[tokio::test]
async fn eep_xml_elements_out_of_their_range_or_order_fail_the_metadata_line() {
    // Only eep.xml edited (an unsigned package, its digest restated in the manifest): a
    // 保管期限 and a 密级 no record has, the 责任者 emptied, and the 办理过程's last act (归档)
    // dated before the acts it follows.
    let (package, _dir) = exported(steps::ARCHIVED, false).await;
    let eep = package.join("eep.xml");
    let xml = std::fs::read_to_string(&eep).unwrap();
    let replace_text = |xml: &str, element: &str, last: bool, by: &str| -> String {
        let open = format!("<{element}>");
        let close = format!("</{element}>");
        let at = if last {
            xml.rfind(&open)
        } else {
            xml.find(&open)
        }
        .unwrap_or_else(|| panic!("no {element} in eep.xml"));
        let end = at + xml[at..].find(&close).unwrap();
        format!("{}{open}{by}{}", &xml[..at], &xml[end..])
    };
    let xml = replace_text(&xml, "保管期限", false, "定期5年");
    let xml = replace_text(&xml, "密级", false, "内部");
    let xml = replace_text(&xml, "责任者", false, " ");
    let xml = replace_text(&xml, "行为时间", true, "2000-01-01T00:00:00Z");
    std::fs::write(&eep, xml).unwrap();
    restate_digest(&package, "eep.xml");
    let report = check_package(&package, None).unwrap();
    assert_failing(&report, &["authenticity.metadata"]);
    let found = findings(&report, "authenticity.metadata");
    for said in [
        "保管期限 \"定期5年\" 不在值域内",
        "密级 \"内部\" 不在值域内",
        "缺责任者",
        "行为时间 2000-01-01T00:00:00Z 早于前一个",
    ] {
        assert!(found.contains(said), "{said}: {found}");
    }
}

#[tokio::test]
async fn events_rewritten_under_a_signed_record_fail_the_fixity_line() {
    // The same forgery of a signed package, which cannot restate eep.xml without breaking
    // its signature: the events are not those the signed record names.
    let (package, _dir) = exported(steps::ARCHIVED, true).await;
    forge_the_year(&package);
    let trusted = key(9).public_key();
    let report = check_package(&package, Some(&trusted)).unwrap();
    let failed = failing(&report);
    assert!(
        failed.contains(&"authenticity.fixity"),
        "{}",
        report.to_text()
    );
    assert!(
        !failed.contains(&"authenticity.signature"),
        "the signature itself still verifies"
    );
    assert!(
        findings(&report, "authenticity.fixity").contains("事件哈希不符"),
        "{}",
        report.to_text()
    );
}

#[tokio::test]
async fn a_manifest_path_leading_out_of_the_package_is_not_read() {
    let (package, dir) = exported(steps::ARCHIVED, true).await;
    let outside = dir.path().join("secret.txt");
    std::fs::write(&outside, b"not part of the package").unwrap();
    let manifest_path = package.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest_path).unwrap()).unwrap();
    manifest["files"].as_array_mut().unwrap().push(serde_json::json!({
        "path": "../secret.txt",
        "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"not part of the package")),
        "bytes": 23,
    }));
    std::fs::write(
        &manifest_path,
        serde_json::to_vec_pretty(&manifest).unwrap(),
    )
    .unwrap();
    let report = check_package(&package, None).unwrap();
    assert_failing(&report, &["security.package"]);
    assert!(
        findings(&report, "security.package").contains("越出封装包"),
        "{}",
        report.to_text()
    );
    assert!(
        workflow_store::export::verify_package(&package)
            .unwrap()
            .problems
            .iter()
            .any(|p| p.text.contains("not a path inside the package"))
    );
}

#[tokio::test]
async fn a_record_not_yet_filed_fails_the_process_line() {
    let (package, _dir) = exported(steps::ARCHIVED - 1, true).await;
    let report = check_package(&package, None).unwrap();
    assert_failing(&report, &["integrity.process"]);
    assert!(findings(&report, "integrity.process").contains("办理过程未至归档"));
}

#[tokio::test]
async fn a_missing_content_file_fails_the_content_line() {
    let (package, _dir) = exported(steps::ARCHIVED, true).await;
    std::fs::remove_file(the_printed_file(&package)).unwrap();
    let report = check_package(&package, None).unwrap();
    assert_failing(&report, &["integrity.content"]);
    assert!(findings(&report, "integrity.content").contains("缺失或无法读取"));
    // A directory that is no package is an error, not a report.
    assert!(check_package(&package.join("files"), None).is_err());
}
