//! Files through the engine (DESIGN §10): an upload checked — its name, size, kind by the
//! bytes' signature, digest — and kept once by its digest; a read through a document that
//! names the file, under that document's reading rules (clearance, the access log).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use common::*;
use sha2::Digest as _;
use workflow_core::content::{Digest, FileKind};
use workflow_core::directory::Classification;
use workflow_core::incoming::{Attachment, IncomingAction};
use workflow_store::content::ContentLimits;
use workflow_store::{Config, Engine, Error};

/// A small PDF (the signature is what the engine reads) of `n` bytes in all.
fn pdf(n: usize) -> Vec<u8> {
    let mut b = b"%PDF-1.7\n".to_vec();
    b.extend((0..n.saturating_sub(b.len())).map(|i| b'a' + (i % 26) as u8));
    b
}

fn sha(bytes: &[u8]) -> Digest {
    Digest::parse(&hex::encode(sha2::Sha256::digest(bytes))).unwrap()
}

fn upload(
    engine: &Engine,
    name: &str,
    bytes: &[u8],
    expected: Option<&Digest>,
) -> Result<workflow_core::content::FileRef, Error> {
    let by = engine.reader("test", "he.ping")?;
    let mut u = engine.upload(&by, name)?;
    for chunk in bytes.chunks(1 << 20) {
        u.write(chunk)?;
    }
    u.finish(expected)
}

fn field(e: &Error) -> &str {
    match e {
        Error::InvalidRequest { field, .. } => field,
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

#[tokio::test]
async fn an_upload_is_checked_and_kept_once_by_its_digest() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let bytes = pdf(3 << 20);
    let f = upload(&engine, "自评自建工作方案.pdf", &bytes, Some(&sha(&bytes))).unwrap();
    assert_eq!(f.digest, sha(&bytes));
    assert_eq!(f.size, bytes.len() as u64);
    assert_eq!(f.media_type, "application/pdf");
    // The same bytes under another name: the same digest, kept once.
    let again = upload(&engine, "副本.pdf", &bytes, None).unwrap();
    assert_eq!(again.digest, f.digest);
    let kept = dir.path().join("content").join(&f.digest.as_str()[..2]);
    assert_eq!(std::fs::read_dir(&kept).unwrap().count(), 1);
    // Nothing is left in the spool.
    let spool = dir.path().join("content/spool");
    assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 0);
    // A digest that does not match, a name that could name a place, bytes of no kept kind,
    // an empty file: refused, nothing kept, nothing left behind.
    let other = pdf(1000);
    let e = upload(&engine, "x.pdf", &other, Some(&f.digest)).unwrap_err();
    assert_eq!(field(&e), "sha256", "{e}");
    assert!(e.to_string().contains("damaged or cut short"), "{e}");
    let e = upload(&engine, "../x.pdf", &other, None).unwrap_err();
    assert_eq!(field(&e), "name");
    let e = upload(&engine, "setup.pdf", b"MZ\x90\x00 an executable", None).unwrap_err();
    assert_eq!(field(&e), "chunk");
    assert!(e.to_string().contains("none of the kinds kept"), "{e}");
    let e = upload(&engine, "empty.pdf", b"", None).unwrap_err();
    assert_eq!(field(&e), "chunk");
    assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 0);
    assert!(
        !dir.path()
            .join("content")
            .join(&sha(&other).as_str()[..2])
            .join(sha(&other).as_str())
            .exists()
    );
    // An upload dropped half-way (a stream that broke off) leaves nothing behind.
    let by = engine.reader("test", "he.ping").unwrap();
    let mut u = engine.upload(&by, "half.pdf").unwrap();
    u.write(&other[..100]).unwrap();
    drop(u);
    assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 0);
    // What a crash left in the spool is swept when the store opens again.
    drop(engine);
    std::fs::write(spool.join("left-by-a-crash.part"), b"%PDF-half").unwrap();
    let engine = open(dir.path()).await;
    assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 0);
    drop(engine);
}

#[tokio::test]
async fn the_size_limit_and_the_allowed_kinds_are_the_configuration_s() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open_with(Config {
        content_limits: ContentLimits {
            max_bytes: 10_000,
            kinds: vec![FileKind::Pdf, FileKind::Docx],
        },
        ..Config::new(dir.path())
    })
    .await;
    let e = upload(&engine, "big.pdf", &pdf(10_001), None).unwrap_err();
    assert_eq!(field(&e), "chunk");
    assert!(e.to_string().contains("limit of 10000 bytes"), "{e}");
    upload(&engine, "fits.pdf", &pdf(10_000), None).unwrap();
    // A PNG is a kind the engine knows, but not one allowed here.
    let png = b"\x89PNG\r\n\x1a\n rest of an image".to_vec();
    let e = upload(&engine, "photo.png", &png, None).unwrap_err();
    assert!(e.to_string().contains("png"), "{e}");
    // A ZIP is told by its entries: a Word document is allowed, another archive is not.
    let zip = |entry: &str| {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        w.start_file(
            entry,
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored),
        )
        .unwrap();
        std::io::Write::write_all(&mut w, b"<xml/>").unwrap();
        w.finish().unwrap().into_inner()
    };
    let docx = upload(&engine, "正文.docx", &zip("word/document.xml"), None).unwrap();
    assert_eq!(docx.media_type, FileKind::Docx.media_type());
    let e = upload(&engine, "正文.docx", &zip("notes.txt"), None).unwrap_err();
    assert!(e.to_string().contains("zip"), "{e}");
}

#[tokio::test]
async fn a_file_is_read_through_a_document_that_names_it_under_its_reading_rules() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let bytes = pdf(2_500_000);
    let f = upload(&engine, "自评自建工作方案.pdf", &bytes, None).unwrap();
    // A 秘密 收文 whose attachment is the file.
    let mut registration = workflow_testkit::incoming::incoming_sample().registration;
    registration.classification = Classification::Secret;
    registration.classification_period_years = Some(5);
    registration.attachments = vec![Attachment {
        name: "自评自建工作方案.pdf".into(),
        sha256: f.digest.to_string(),
    }];
    let id = new_id();
    run(
        &engine,
        id,
        "he.ping",
        IncomingAction::Register {
            registration,
            unit: None,
        },
    )
    .await;
    // 何平 (机密 clearance) reads it in ranges; the read is recorded in the access log.
    let he = engine.reader("test", "he.ping").unwrap();
    let (name, size, head) = engine
        .read_file(&he, id, &f.digest, 0, 1 << 20)
        .await
        .unwrap();
    assert_eq!(
        (name.as_str(), size),
        ("自评自建工作方案.pdf", bytes.len() as u64)
    );
    assert_eq!(head, bytes[..1 << 20]);
    let (_, _, tail) = engine
        .read_file(&he, id, &f.digest, 2_000_000, 1 << 20)
        .await
        .unwrap();
    assert_eq!(tail, bytes[2_000_000..]);
    // Past the end: nothing, and no error.
    let (_, _, none) = engine
        .read_file(&he, id, &f.digest, bytes.len() as u64 + 10, 100)
        .await
        .unwrap();
    assert!(none.is_empty());
    // Each read through the 秘密 收文 is one entry of the access log, naming 何平.
    let reads = engine.access_log(&Default::default()).unwrap();
    let his: Vec<_> = reads
        .iter()
        .filter(|r| r.document_id == id && r.actor.as_ref().map(|a| a.as_str()) == Some("he.ping"))
        .collect();
    assert_eq!(his.len(), 3, "{reads:?}");
    // 周杰 holds no clearance: refused, as the document is.
    let zhou = engine.reader("test", "zhou.jie").unwrap();
    let e = engine
        .read_file(&zhou, id, &f.digest, 0, 10)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Rejected(workflow_core::Error::InsufficientClearance { .. })
        ),
        "{e}"
    );
    // A file the document does not name is not read through it.
    let other = upload(&engine, "别的.pdf", &pdf(500), None).unwrap();
    let e = engine
        .read_file(&he, id, &other.digest, 0, 10)
        .await
        .unwrap_err();
    assert_eq!(field(&e), "sha256");
}

#[tokio::test]
async fn verify_reads_every_kept_file_again_and_names_the_documents_of_an_altered_one() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let bytes = pdf(1_500_000);
    let f = upload(&engine, "自评自建工作方案.pdf", &bytes, None).unwrap();
    let mut registration = workflow_testkit::incoming::incoming_sample().registration;
    // Named by digest alone, as 收文 were registered before files were kept (and uploaded
    // by its registrar, as a new registration must be). A digest of bytes kept elsewhere is
    // found in the store written before files were kept (`verify.rs`, 0332cc5).
    registration.attachments = vec![Attachment {
        name: "自评自建工作方案.pdf".into(),
        sha256: f.digest.to_string(),
    }];
    let id = new_id();
    run(
        &engine,
        id,
        "he.ping",
        IncomingAction::Register {
            registration,
            unit: None,
        },
    )
    .await;
    let report = engine.verify(|_, _| {}).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!((report.files_checked, report.files_not_kept), (1, 0));
    // The archive package holds the kept file and checks offline; a flipped byte in the
    // package's copy is found.
    let package = dir.path().join("package");
    let manifest = engine
        .export_document(id, &package, workflow_testkit::clock::now())
        .unwrap();
    let in_package = manifest
        .files
        .iter()
        .find(|p| p.name.as_deref() == Some("自评自建工作方案.pdf"))
        .unwrap();
    assert_eq!(in_package.path, "files/01-自评自建工作方案.pdf");
    assert_eq!(in_package.sha256, f.digest.to_string());
    assert_eq!(
        std::fs::read(package.join(&in_package.path)).unwrap(),
        bytes
    );
    assert!(manifest.not_included.is_empty());
    let checked = workflow_store::export::verify_package(&package).unwrap();
    assert!(checked.is_intact(), "{:?}", checked.problems);
    let copy = package.join(&in_package.path);
    let mut altered = std::fs::read(&copy).unwrap();
    altered[10] ^= 0x20;
    std::fs::write(&copy, altered).unwrap();
    let checked = workflow_store::export::verify_package(&package).unwrap();
    assert!(
        checked
            .problems
            .iter()
            .any(|p| p.text.contains("files/01-")),
        "{:?}",
        checked.problems
    );
    // One flipped byte in the kept file: verify says which file, and which documents.
    let path = dir
        .path()
        .join("content")
        .join(&f.digest.as_str()[..2])
        .join(f.digest.as_str());
    let mut stored = std::fs::read(&path).unwrap();
    stored[1_200_000] ^= 0x01;
    std::fs::write(&path, &stored).unwrap();
    let report = engine.verify(|_, _| {}).unwrap();
    assert!(!report.is_intact());
    assert_eq!(report.file_problems.len(), 1);
    let p = &report.file_problems[0];
    assert_eq!(p.digest, f.digest);
    assert!(p.reason.contains("altered"), "{}", p.reason);
    assert_eq!(p.documents, vec![id]);
}

#[tokio::test]
async fn only_files_no_event_names_are_removed_and_only_after_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let named = upload(&engine, "正文.pdf", &pdf(2000), None).unwrap();
    let abandoned = upload(&engine, "草稿.pdf", &pdf(3000), None).unwrap();
    let mut registration = workflow_testkit::incoming::incoming_sample().registration;
    registration.attachments = vec![Attachment {
        name: "正文.pdf".into(),
        sha256: named.digest.to_string(),
    }];
    run(
        &engine,
        new_id(),
        "he.ping",
        IncomingAction::Register {
            registration,
            unit: None,
        },
    )
    .await;
    // Both were kept a moment ago: within an hour's grace, nothing is found.
    let hour = std::time::Duration::from_secs(3600);
    assert!(engine.unreferenced_files(hour).unwrap().is_empty());
    // Kept two days earlier, it is found past a day's grace; uploaded again, its grace starts
    // again (someone is about to name it).
    let path = |d: &Digest| {
        dir.path()
            .join("content")
            .join(&d.as_str()[..2])
            .join(d.as_str())
    };
    // Two days before it was kept, by the file's own time (no clock is read here).
    let file = std::fs::File::open(path(&abandoned.digest)).unwrap();
    let kept_at = file.metadata().unwrap().modified().unwrap();
    file.set_modified(kept_at - 48 * hour).unwrap();
    assert_eq!(engine.unreferenced_files(24 * hour).unwrap().len(), 1);
    upload(&engine, "草稿.pdf", &pdf(3000), None).unwrap();
    assert!(engine.unreferenced_files(24 * hour).unwrap().is_empty());
    // Without grace, only the file no event names.
    let none = std::time::Duration::ZERO;
    let found = engine.unreferenced_files(none).unwrap();
    assert_eq!(
        found.iter().map(|k| k.digest.clone()).collect::<Vec<_>>(),
        vec![abandoned.digest.clone()]
    );
    let removed = engine.remove_unreferenced_files(none).unwrap();
    assert_eq!(removed.len(), 1);
    // The named one is still there; the abandoned one is gone, and verify agrees.
    let report = engine.verify(|_, _| {}).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.files_checked, 1);
    assert!(engine.unreferenced_files(none).unwrap().is_empty());
}

#[tokio::test]
async fn an_acknowledged_document_s_receipt_carries_its_files_for_its_unit_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let (flow, text) = workflow_testkit::engine::flow_with_text(&engine);
    let id = new_id();
    for (actor, action) in flow.into_iter().take(workflow_testkit::steps::ACKNOWLEDGED) {
        run(&engine, id, actor.as_str(), action).await;
    }
    let receipt = receipt_of(&engine, id);
    assert_eq!(
        receipt.registration().files.main.as_deref(),
        Some(&text),
        "the 收文 names the 发文's 正文"
    );
    // Its unit's registrar opens it through the 收文.
    let registrar = engine.reader("test", "he.ping").unwrap();
    let (name, size, _) = engine
        .read_file(&registrar, receipt.id(), &text.digest, 0, 16)
        .await
        .unwrap();
    assert_eq!(
        (name.as_str(), size),
        (workflow_testkit::SAMPLE_FILE_NAME, text.size)
    );
}

#[tokio::test]
async fn a_replaced_text_still_opens_through_its_document() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let sample = workflow_testkit::sample();
    let by = engine.reader("test", sample.drafter.as_str()).unwrap();
    let keep = |name: &str, bytes: &[u8]| {
        let mut up = engine.upload(&by, name).unwrap();
        up.write(bytes).unwrap();
        up.finish(None).unwrap()
    };
    let first = keep("正文（初稿）.pdf", &pdf(4000));
    let second = keep("正文（修改稿）.pdf", &pdf(5000));
    let mut fields = sample.fields.clone();
    fields.files.main = Some(Box::new(first.clone()));
    let id = new_id();
    run(
        &engine,
        id,
        sample.drafter.as_str(),
        workflow_core::outgoing::Action::Draft(fields.clone()),
    )
    .await;
    fields.files.main = Some(Box::new(second.clone()));
    run(
        &engine,
        id,
        sample.drafter.as_str(),
        workflow_core::outgoing::Action::Revise(fields),
    )
    .await;
    let reader = engine.reader("test", "li.qiang").unwrap();
    for f in [&first, &second] {
        let (name, _, bytes) = engine
            .read_file(&reader, id, &f.digest, 0, 1 << 20)
            .await
            .unwrap();
        assert_eq!(name, f.name);
        assert_eq!(sha(&bytes), f.digest);
    }
    // A file the document never named is still refused.
    let other = keep("另件.pdf", &pdf(6000));
    let e = engine
        .read_file(&reader, id, &other.digest, 0, 16)
        .await
        .unwrap_err();
    assert_eq!(field(&e), "sha256");
}

/// A printer of tests: the 发文字号 and the issuing unit's name (as the directory names it)
/// as a "PDF" of its `edition`, or a refusal.
struct FakePrinter {
    fail: bool,
    edition: &'static str,
}

impl workflow_store::print::Printer for FakePrinter {
    fn print(
        &self,
        doc: &workflow_core::outgoing::Document,
        units: &[workflow_core::directory::Unit],
    ) -> Result<(String, Vec<u8>), workflow_store::print::PrintError> {
        if self.fail {
            return Err(workflow_store::print::PrintError::Unavailable(
                "the fonts are not installed".into(),
            ));
        }
        let number = doc.issue().expect("printed once issued").number.to_string();
        let issuer = units
            .iter()
            .find(|u| u.code == doc.fields().issuing_unit)
            .expect("the printer is given the directory's units");
        Ok((
            format!("{number}.pdf"),
            format!("%PDF-1.7\n{number}\n{}\n{}", issuer.name, self.edition).into_bytes(),
        ))
    }

    fn reprint(
        &self,
        doc: &workflow_core::outgoing::Document,
        units: &[workflow_core::directory::Unit],
        kept: &[u8],
    ) -> Result<workflow_store::print::Reprint, workflow_store::print::PrintError> {
        let (_, again) = self.print(doc, units)?;
        Ok(if again == kept {
            workflow_store::print::Reprint::Same
        } else {
            workflow_store::print::Reprint::Differs(format!(
                "printed again it reads {:?}",
                String::from_utf8_lossy(&again)
            ))
        })
    }
}

fn printing(fail: bool, edition: &'static str) -> Option<workflow_store::print::PrinterHandle> {
    Some(workflow_store::print::PrinterHandle(std::sync::Arc::new(
        FakePrinter { fail, edition },
    )))
}

async fn engine_printing(dir: &std::path::Path, fail: bool) -> Engine {
    workflow_testkit::engine::open_with(Config {
        printer: printing(fail, ""),
        ..Config::new(dir)
    })
    .await
}

#[tokio::test]
async fn verify_prints_each_issued_document_again_with_the_directory_of_its_day() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_printing(dir.path(), false).await;
    let id = new_id();
    for (actor, action) in workflow_testkit::full_flow()
        .into_iter()
        .take(workflow_testkit::steps::ISSUED)
    {
        run(&engine, id, actor.as_str(), action).await;
    }
    let report = engine.verify(|_, _| {}).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(
        (report.printed_checked, report.printed_problems.len()),
        (1, 0)
    );
    // The issuing unit renamed after 印发: the copy printed then shows the name it had then,
    // and verify prints it again with the directory as of the 印发, not today's.
    let code = engine
        .document(id)
        .unwrap()
        .unwrap()
        .fields()
        .issuing_unit
        .clone();
    let mut unit = engine.units().into_iter().find(|u| u.code == code).unwrap();
    let old_name = unit.name.clone();
    unit.name = format!("{old_name}（更名）");
    engine
        .change_directory(workflow_core::directory::DirectoryAction::PutUnit {
            unit,
            system: "hr-system".into(),
            reason: "机构更名".into(),
        })
        .await
        .unwrap();
    let report = engine.verify(|_, _| {}).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.printed_checked, 1, "{report:?}");
    // `workflow render` asks the same: the names as they were at 印发.
    let then = engine.units_at_issue(id).unwrap().unwrap();
    assert!(then.iter().any(|u| u.code == code && u.name == old_name));
    assert!(
        engine
            .units()
            .iter()
            .any(|u| u.code == code && u.name != old_name)
    );
    drop(engine);
    // A printer that prints the same record otherwise: the kept copy does not show what the
    // record prints, a break naming the document and its 发文字号.
    let engine = workflow_testkit::engine::open_with(Config {
        printer: printing(false, "another edition"),
        ..Config::new(dir.path())
    })
    .await;
    let report = engine.verify(|_, _| {}).unwrap();
    assert!(!report.is_intact());
    assert_eq!(report.printed_checked, 0);
    let problem = &report.printed_problems[0];
    assert_eq!(problem.document, id);
    assert!(problem.number.contains('〔'), "{problem:?}");
    assert!(
        problem.reason.contains(&old_name) && problem.reason.contains("another edition"),
        "{problem:?}"
    );
    drop(engine);
    // No printer: counted as not checked, not a break.
    let engine = workflow_testkit::engine::open_with(Config::new(dir.path())).await;
    let report = engine.verify(|_, _| {}).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.printed_not_checked.len(), 1);
    assert!(report.printed_not_checked[0].reason.contains("no printer"));
}

#[tokio::test]
async fn at_issue_the_printed_document_is_kept_and_named_by_the_issued_event() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_printing(dir.path(), false).await;
    let id = new_id();
    let flow = workflow_testkit::full_flow();
    for (actor, action) in flow.into_iter().take(workflow_testkit::steps::ISSUED) {
        run(&engine, id, actor.as_str(), action).await;
    }
    let doc = engine.document(id).unwrap().unwrap();
    let issue = doc.issue().unwrap();
    let printed = issue
        .printed
        .clone()
        .expect("the Issued event names the printed 公文");
    let number = issue.number.to_string();
    assert_eq!(printed.name, format!("{number}.pdf"));
    assert_eq!(printed.media_type, "application/pdf");
    // Kept before the event: readable through the document, its digest in the chain.
    let reader = engine.reader("test", "li.qiang").unwrap();
    let (name, _, bytes) = engine
        .read_file(&reader, id, &printed.digest, 0, 1 << 20)
        .await
        .unwrap();
    assert_eq!(name, printed.name);
    assert!(
        bytes.starts_with(format!("%PDF-1.7\n{number}\n").as_bytes()),
        "{bytes:?}"
    );
    // Kept readable by the service's user only, as uploads are (a classified 公文 among them).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let d = printed.digest.as_str();
        let kept = dir.path().join("content").join(&d[..2]).join(d);
        let mode = std::fs::metadata(&kept).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{kept:?} is {mode:o}");
    }
    let issued_event = engine.history(id).unwrap().into_iter().last().unwrap();
    assert_eq!(issued_event.event_type, "Issued");
    assert_eq!(
        issued_event.payload["printed"]["digest"],
        printed.digest.as_str()
    );
    let report = engine.verify(|_, _| {}).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.files_checked, 1);
    // Each unit that acknowledges it gets the printed 公文 as its 收文's 正文.
    let (actor, ack) = workflow_testkit::full_flow()[workflow_testkit::steps::ISSUED].clone();
    run(&engine, id, actor.as_str(), ack).await;
    let receipt = receipt_of(&engine, id);
    assert_eq!(receipt.registration().files.main.as_deref(), Some(&printed));
    // The archive package carries the printed 公文 with the document's other files.
    let package = dir.path().join("package");
    let manifest = engine
        .export_document(id, &package, workflow_testkit::clock::now())
        .unwrap();
    let in_package = manifest
        .files
        .iter()
        .find(|f| f.name.as_deref() == Some(printed.name.as_str()))
        .expect("the printed 公文 in the package");
    assert_eq!(in_package.sha256, printed.digest.to_string());
    assert!(
        workflow_store::export::verify_package(&package)
            .unwrap()
            .is_intact()
    );
}

#[tokio::test]
async fn a_printer_that_fails_refuses_the_issue_and_takes_no_number() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine_printing(dir.path(), true).await;
    let id = new_id();
    let flow = workflow_testkit::full_flow();
    for (actor, action) in flow
        .iter()
        .take(workflow_testkit::steps::SIGNED_OFF)
        .cloned()
    {
        run(&engine, id, actor.as_str(), action).await;
    }
    let before = engine.document(id).unwrap().unwrap().version();
    let (clerk, issue) = flow[workflow_testkit::steps::SIGNED_OFF].clone();
    let e = engine
        .execute(workflow_store::Request::new(
            id,
            clerk.clone(),
            issue.clone(),
        ))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("the fonts are not installed"), "{e}");
    assert!(matches!(e, Error::Unavailable { .. }), "{e:?}");
    assert!(e.is_retryable());
    let doc = engine.document(id).unwrap().unwrap();
    assert_eq!(doc.version(), before, "nothing written");
    assert!(doc.issue().is_none());
    drop(engine);
    // Once it can print, the same 印发 takes the first number: the refused one took none.
    let engine = engine_printing(dir.path(), false).await;
    run(&engine, id, clerk.as_str(), issue).await;
    let doc = engine.document(id).unwrap().unwrap();
    assert_eq!(doc.issue().unwrap().number.seq, 1);
}

/// The 收文 the engine registered for the unit that acknowledged the 发文 `source`.
fn receipt_of(
    engine: &Engine,
    source: workflow_core::DocumentId,
) -> workflow_core::incoming::Receipt {
    let page = engine
        .list(&workflow_store::ListQuery {
            flow: Some(workflow_core::StreamKind::Incoming),
            ..Default::default()
        })
        .unwrap();
    page.receipts()
        .into_iter()
        .find(|r| r.registration().source == Some(source))
        .expect("the acknowledging unit's 收文")
        .clone()
}

/// A printer of tests that tells what it prints ([`Printer::input`]), counts its prints,
/// and holds the first print of one document until told to go on.
///
/// [`Printer::input`]: workflow_store::print::Printer::input
#[derive(Default)]
struct HeldPrinter {
    printed: std::sync::atomic::AtomicUsize,
    /// Of them, those printed on the engine's writer thread.
    on_writer: std::sync::atomic::AtomicUsize,
    #[allow(clippy::type_complexity)] // a test's hand-off
    hold: std::sync::Mutex<
        Option<(
            workflow_core::DocumentId,
            tokio::sync::oneshot::Sender<()>,
            std::sync::mpsc::Receiver<()>,
        )>,
    >,
}

impl HeldPrinter {
    fn lines(doc: &workflow_core::outgoing::Document) -> String {
        let number = doc.issue().expect("printed once issued").number.to_string();
        format!("%PDF-1.7\n{number}\n{}", doc.id())
    }
}

impl workflow_store::print::Printer for HeldPrinter {
    fn print(
        &self,
        doc: &workflow_core::outgoing::Document,
        _: &[workflow_core::directory::Unit],
    ) -> Result<(String, Vec<u8>), workflow_store::print::PrintError> {
        self.printed
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if std::thread::current().name() == Some("workflow-writer") {
            self.on_writer
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        let held = {
            let mut hold = self.hold.lock().unwrap();
            if hold.as_ref().is_some_and(|(id, _, _)| *id == doc.id()) {
                hold.take()
            } else {
                None
            }
        };
        if let Some((_, entered, go_on)) = held {
            entered.send(()).unwrap();
            go_on.recv().unwrap();
        }
        let number = doc.issue().unwrap().number.to_string();
        Ok((format!("{number}.pdf"), Self::lines(doc).into_bytes()))
    }

    fn input(
        &self,
        doc: &workflow_core::outgoing::Document,
        _: &[workflow_core::directory::Unit],
    ) -> Option<Vec<u8>> {
        Some(Self::lines(doc).into_bytes())
    }

    fn reprint(
        &self,
        doc: &workflow_core::outgoing::Document,
        _: &[workflow_core::directory::Unit],
        kept: &[u8],
    ) -> Result<workflow_store::print::Reprint, workflow_store::print::PrintError> {
        Ok(if Self::lines(doc).as_bytes() == kept {
            workflow_store::print::Reprint::Same
        } else {
            workflow_store::print::Reprint::Differs("printed otherwise".into())
        })
    }
}

/// Runs the full flow on `id` up to its 印发 (signed off), and gives the 印发.
async fn up_to_issue(engine: &Engine, id: workflow_core::DocumentId) -> workflow_store::Request {
    let flow = workflow_testkit::full_flow();
    for (actor, action) in flow
        .iter()
        .take(workflow_testkit::steps::SIGNED_OFF)
        .cloned()
    {
        run(engine, id, actor.as_str(), action).await;
    }
    let (clerk, issue) = flow[workflow_testkit::steps::SIGNED_OFF].clone();
    workflow_store::Request::new(id, clerk, issue)
}

/// The bytes of the 公文 printed at `id`'s 印发, and its 发文字号's number.
async fn printed_copy(engine: &Engine, id: workflow_core::DocumentId) -> (u32, Vec<u8>) {
    let doc = engine.document(id).unwrap().unwrap();
    let issue = doc.issue().unwrap();
    let printed = issue.printed.clone().expect("printed at 印发");
    let reader = engine.reader("test", "li.qiang").unwrap();
    let (_, _, bytes) = engine
        .read_file(&reader, id, &printed.digest, 0, 1 << 20)
        .await
        .unwrap();
    (issue.number.seq, bytes)
}

#[tokio::test]
async fn an_issue_is_printed_ahead_of_the_writer_once_and_one_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let printer = std::sync::Arc::new(HeldPrinter::default());
    let engine = workflow_testkit::engine::open_with(Config {
        printer: Some(workflow_store::print::PrinterHandle(printer.clone())),
        ..Config::new(dir.path())
    })
    .await;
    let printed = || printer.printed.load(std::sync::atomic::Ordering::SeqCst);
    // One 印发: printed once (ahead), the writer takes that copy.
    let first = new_id();
    let issue = up_to_issue(&engine, first).await;
    engine.execute(issue).await.unwrap();
    assert_eq!(printed(), 1);
    let (seq, bytes) = printed_copy(&engine, first).await;
    assert_eq!(seq, 1);
    assert!(bytes.ends_with(first.to_string().as_bytes()), "{bytes:?}");

    // While a 印发 is being printed, the writer goes on with other commands; a second 印发
    // waits for the first to be committed, so each copy printed ahead shows the number its
    // 印发 gets, and none is printed twice.
    let (a, b) = (new_id(), new_id());
    let issue_a = up_to_issue(&engine, a).await;
    let issue_b = up_to_issue(&engine, b).await;
    let (entered_tx, entered) = tokio::sync::oneshot::channel();
    let (go_on, go_on_rx) = std::sync::mpsc::channel();
    *printer.hold.lock().unwrap() = Some((a, entered_tx, go_on_rx));
    let issuing_a = tokio::spawn({
        let engine = engine.clone();
        async move { engine.execute(issue_a).await }
    });
    entered.await.unwrap();
    // (Printed on the writer, the held print would hold every command: this would not end.)
    let (drafter, draft) = workflow_testkit::full_flow()[0].clone();
    let other = workflow_store::Request::new(new_id(), drafter, draft);
    tokio::time::timeout(std::time::Duration::from_secs(60), engine.execute(other))
        .await
        .expect("the writer is not printing")
        .unwrap();
    let issuing_b = tokio::spawn({
        let engine = engine.clone();
        async move { engine.execute(issue_b).await }
    });
    go_on.send(()).unwrap();
    issuing_a.await.unwrap().unwrap();
    issuing_b.await.unwrap().unwrap();
    assert_eq!(printed(), 3, "each printed once");
    assert_eq!(
        printer.on_writer.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the writer printed none"
    );
    let (seq_a, bytes_a) = printed_copy(&engine, a).await;
    let (seq_b, bytes_b) = printed_copy(&engine, b).await;
    assert_eq!((seq_a, seq_b), (2, 3));
    assert!(bytes_a.ends_with(a.to_string().as_bytes()), "{bytes_a:?}");
    assert!(
        String::from_utf8_lossy(&bytes_a).contains("〕2号"),
        "{bytes_a:?}"
    );
    assert!(
        String::from_utf8_lossy(&bytes_b).contains("〕3号"),
        "{bytes_b:?}"
    );
    let report = engine.verify(|_, _| {}).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.printed_checked, 3);
}
