//! 四性检测 (`Engine::check_archive`): a clean year passes every check; each kind of damage
//! fails the check that names it.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use common::*;
use workflow_core::DocumentId;
use workflow_store::archive_check::ArchiveScope;
use workflow_store::{Config, Engine};
use workflow_testkit::print::SmallPdf as Printer;

/// An engine in `dir` with `printer`, and three 发文 issued and archived in it.
async fn archived_year(
    dir: &std::path::Path,
    printer: std::sync::Arc<Printer>,
    encrypted: bool,
) -> (Engine, Vec<DocumentId>) {
    let engine = open_with(Config {
        printer: Some(printer.clone().handle()),
        ..Config::new(dir)
    })
    .await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let id = new_id();
        if encrypted && n == 1 {
            *printer.encrypted.lock().unwrap() = Some(id);
        }
        for (actor, action) in full_flow().into_iter().take(steps::ARCHIVED) {
            run(&engine, id, actor.as_str(), action).await;
        }
        ids.push(id);
    }
    (engine, ids)
}

/// The year's scope, from the first record's 档号.
fn year_of(engine: &Engine, id: DocumentId) -> ArchiveScope {
    let state = engine.state(id).unwrap().unwrap();
    let reference = &state.particulars().archive.unwrap().reference;
    ArchiveScope {
        fonds: Some(reference.fonds.clone()),
        year: Some(reference.year),
        retention: Some(reference.retention),
        against: None,
        viewer: None,
    }
}

/// The position of the event of `id`'s stream with this type.
fn position_of(engine: &Engine, id: DocumentId, event_type: &str) -> u64 {
    engine
        .history(id)
        .unwrap()
        .into_iter()
        .find(|e| e.event_type == event_type)
        .unwrap()
        .position
}

#[tokio::test]
async fn a_clean_year_passes_every_check() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, ids) = archived_year(dir.path(), Default::default(), false).await;
    let scope = year_of(&engine, ids[0]);
    let report = engine.check_archive(&scope).unwrap();
    assert!(report.passed(), "{}", report.to_text());
    assert_eq!(report.records, 3);
    assert_eq!(failing(&report), Vec::<&str>::new());
    let codes: Vec<_> = report.items.iter().map(|i| i.code).collect();
    for code in [
        "authenticity.fixity",
        "authenticity.content_digests",
        "authenticity.printed",
        "authenticity.metadata",
        "integrity.item_numbers",
        "integrity.document_numbers",
        "integrity.process",
        "integrity.content",
        "usability.formats",
        "usability.readable",
        "usability.rendering",
        "security.witness",
    ] {
        assert!(codes.contains(&code), "{code} in {codes:?}");
    }
    // Three 件号 and three 发文字号 looked at; three printed 公文 read.
    let checked = |code: &str| {
        report
            .items
            .iter()
            .find(|i| i.code == code)
            .unwrap()
            .checked
    };
    assert_eq!(checked("integrity.item_numbers"), 3);
    assert!(checked("integrity.document_numbers") >= 3);
    assert_eq!(checked("usability.readable"), 3);
    assert_eq!(checked("usability.rendering"), 3, "the three printed 公文");
    let text = report.to_text();
    assert!(
        text.contains("四性检测报告") && text.contains("全部通过"),
        "{text}"
    );
    assert!(text.contains("[完整性] 件号连续性"), "{text}");
    let csv = report.to_csv();
    assert!(
        csv.starts_with("\u{feff}性,代码,检测项,结果,检查数,说明\n"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 1 + report.items.len());
    // Another year holds none of them.
    let other = ArchiveScope {
        year: scope.year.map(|y| y - 1),
        ..scope.clone()
    };
    let empty = engine.check_archive(&other).unwrap();
    assert_eq!(empty.records, 0);
    assert!(!empty.passed(), "a scope that covers nothing is no pass");
    assert!(empty.to_text().contains("范围内没有归档记录"));
    // A witness head the log extends passes; one it does not, fails the security check.
    let head = engine.verify(|_, _| {}).unwrap().head();
    let witnessed = engine
        .check_archive(&ArchiveScope {
            against: Some(head.clone()),
            ..scope.clone()
        })
        .unwrap();
    assert!(witnessed.passed(), "{}", witnessed.to_text());
    let mut forged = head;
    forged.hash = "0".repeat(64);
    let report = engine
        .check_archive(&ArchiveScope {
            against: Some(forged),
            ..scope
        })
        .unwrap();
    assert!(failing(&report).contains(&"security.witness"), "{report:?}");
}

#[tokio::test]
async fn a_file_changed_by_one_byte_fails_its_digest_check() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, ids) = archived_year(dir.path(), Default::default(), false).await;
    let scope = year_of(&engine, ids[0]);
    let printed = engine.state(ids[1]).unwrap().unwrap().files()[0]
        .1
        .to_owned();
    let kept = dir
        .path()
        .join("content")
        .join(&printed[..2])
        .join(&printed);
    let mut bytes = std::fs::read(&kept).unwrap();
    bytes[9] ^= 1;
    std::fs::write(&kept, &bytes).unwrap();
    let report = engine.check_archive(&scope).unwrap();
    assert!(!report.passed());
    let failed = failing(&report);
    assert!(
        failed.contains(&"authenticity.content_digests"),
        "{failed:?}"
    );
    assert!(
        findings(&report, "authenticity.content_digests").contains(&ids[1].to_string()),
        "{report:?}"
    );
    // Nothing else of the record is missing: the log, its numbers, its files are whole.
    for code in [
        "authenticity.fixity",
        "integrity.item_numbers",
        "integrity.document_numbers",
        "integrity.process",
        "integrity.content",
        "usability.readable",
    ] {
        assert!(!failed.contains(&code), "{code} in {failed:?}");
    }
    assert!(report.to_text().contains("不通过"));
}

#[tokio::test]
async fn an_archive_event_removed_leaves_a_gap_in_the_item_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, ids) = archived_year(dir.path(), Default::default(), false).await;
    let scope = year_of(&engine, ids[0]);
    engine
        .tamper_remove_log_entry(position_of(&engine, ids[1], "Archived"))
        .unwrap();
    let report = engine.check_archive(&scope).unwrap();
    let failed = failing(&report);
    assert!(failed.contains(&"integrity.item_numbers"), "{failed:?}");
    assert!(
        findings(&report, "integrity.item_numbers").contains("缺第 2 号"),
        "{report:?}"
    );
    // The chain shows the removal too.
    assert!(failed.contains(&"authenticity.fixity"), "{failed:?}");
    assert_eq!(report.records, 2);
}

#[tokio::test]
async fn a_step_removed_from_a_record_fails_the_process_check() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, ids) = archived_year(dir.path(), Default::default(), false).await;
    let scope = year_of(&engine, ids[0]);
    let history = engine.history(ids[0]).unwrap();
    engine.tamper_remove_log_entry(history[3].position).unwrap();
    let report = engine.check_archive(&scope).unwrap();
    let failed = failing(&report);
    assert!(failed.contains(&"integrity.process"), "{failed:?}");
    let found = findings(&report, "integrity.process");
    assert!(
        found.contains(&ids[0].to_string()) && found.contains("办理过程缺失"),
        "{found}"
    );
    assert!(!failed.contains(&"integrity.item_numbers"), "{failed:?}");
}

#[tokio::test]
async fn an_encrypted_pdf_fails_the_readability_check_only() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, ids) = archived_year(dir.path(), Default::default(), true).await;
    let scope = year_of(&engine, ids[0]);
    let report = engine.check_archive(&scope).unwrap();
    assert_eq!(failing(&report), vec!["usability.readable"], "{report:?}");
    assert!(findings(&report, "usability.readable").contains("加密"));
}

#[tokio::test]
async fn a_printed_document_without_its_layout_and_fonts_fails_the_rendering_check_only() {
    let dir = tempfile::tempdir().unwrap();
    let printer = std::sync::Arc::new(Printer::default());
    let engine = open_with(Config {
        printer: Some(printer.clone().handle()),
        ..Config::new(dir.path())
    })
    .await;
    let id = new_id();
    *printer.unrecorded.lock().unwrap() = Some(id);
    for (actor, action) in full_flow().into_iter().take(steps::ARCHIVED) {
        run(&engine, id, actor.as_str(), action).await;
    }
    let scope = year_of(&engine, id);
    let report = engine.check_archive(&scope).unwrap();
    assert_eq!(failing(&report), vec!["usability.rendering"], "{report:?}");
    assert!(findings(&report, "usability.rendering").contains("未记录其版式与字体"));
    // The same in its package, as the archives receives it.
    let package = dir.path().join("package");
    engine
        .export_document(id, &package, workflow_testkit::clock::now())
        .unwrap();
    let received = workflow_store::archive_check::check_package(&package, None).unwrap();
    assert_eq!(
        failing(&received),
        vec!["usability.rendering"],
        "{}",
        received.to_text()
    );
}

#[tokio::test]
async fn an_event_this_build_cannot_read_is_a_finding_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, ids) = archived_year(dir.path(), Default::default(), false).await;
    let scope = year_of(&engine, ids[0]);
    let position = engine.history(ids[2]).unwrap()[2].position;
    engine
        .tamper_log_entry(position, b"{\"not\": \"an event\"}")
        .unwrap();
    let report = engine.check_archive(&scope).unwrap();
    assert!(
        failing(&report).contains(&"authenticity.fixity"),
        "{report:?}"
    );
    assert!(
        findings(&report, "authenticity.fixity")
            .contains(&format!("位置 {position} 的事件无法读取")),
        "{report:?}"
    );
}

#[tokio::test]
async fn an_issue_event_removed_leaves_a_gap_in_the_document_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let (engine, ids) = archived_year(dir.path(), Default::default(), false).await;
    let scope = year_of(&engine, ids[0]);
    engine
        .tamper_remove_log_entry(position_of(&engine, ids[1], "Issued"))
        .unwrap();
    let report = engine.check_archive(&scope).unwrap();
    let failed = failing(&report);
    assert!(failed.contains(&"integrity.document_numbers"), "{failed:?}");
    let found = findings(&report, "integrity.document_numbers");
    assert!(
        found.contains("发文字号") && found.contains("缺第 2 号"),
        "{found}"
    );
    // The 件号 are whole: only the 发文字号 series has the gap.
    assert!(!failed.contains(&"integrity.item_numbers"), "{failed:?}");
}

#[tokio::test]
async fn a_reader_below_a_record_s_classification_is_not_shown_its_file_names() {
    let dir = tempfile::tempdir().unwrap();
    let printer = std::sync::Arc::new(Printer::default());
    let engine = open_with(Config {
        printer: Some(printer.clone().handle()),
        ..Config::new(dir.path())
    })
    .await;
    let id = new_id();
    *printer.unrecorded.lock().unwrap() = Some(id);
    // The sample, 秘密, without the one department (XSC) whose countersigner is cleared
    // for nothing classified.
    let mut sample = workflow_testkit::sample();
    sample.fields.classification = workflow_core::directory::Classification::Secret;
    sample.fields.classification_period_years = Some(10);
    for stage in &mut sample.route {
        if let workflow_core::route::StageSpec::Countersign { departments, .. } = stage {
            departments.retain(|d| d.as_str() != "XSC");
        }
    }
    for (actor, action) in sample.flow(&workflow_testkit::directory()) {
        run(&engine, id, actor.as_str(), action).await;
    }
    let scope = year_of(&engine, id);
    let number = engine
        .document(id)
        .unwrap()
        .unwrap()
        .issue()
        .unwrap()
        .number
        .to_string();
    // The operator's own report names the file.
    let report = engine.check_archive(&scope).unwrap();
    assert!(
        findings(&report, "usability.rendering").contains(&number),
        "{report:?}"
    );
    // Read by someone cleared for nothing classified: the finding stays, the name does not.
    let report = engine
        .check_archive(&ArchiveScope {
            viewer: Some(workflow_core::directory::Classification::None),
            ..scope.clone()
        })
        .unwrap();
    let found = findings(&report, "usability.rendering");
    assert!(!found.contains(&number), "{found}");
    assert!(
        found.contains("名称不显示") && found.contains(&id.to_string()),
        "{found}"
    );
    // Cleared for it: shown.
    let report = engine
        .check_archive(&ArchiveScope {
            viewer: Some(workflow_core::directory::Classification::Secret),
            ..scope
        })
        .unwrap();
    assert!(findings(&report, "usability.rendering").contains(&number));
}
