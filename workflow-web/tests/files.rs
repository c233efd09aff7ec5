//! A document's files on the console (DESIGN §10): the drafter uploads a 正文 and
//! attachments and takes one off; readers open them through the document (PDF shown, its
//! Chinese name kept), under its reading rules; an approval is bound to the text the page
//! showed.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;
use workflow_core::content::{DocumentFiles, FileRef};
use workflow_core::directory::Classification;
use workflow_core::{DocumentId, FlowState};
use workflow_testkit::{SAMPLE_FILE, SAMPLE_FILE_NAME};

/// A multipart form: text fields, then the file.
fn multipart(fields: &[(&str, &str)], file: (&str, &[u8])) -> Vec<u8> {
    common::multipart(fields, &[("file", file.0, file.1)])
}

async fn upload_form(
    c: &Console,
    b: &Browser,
    id: DocumentId,
    version: u64,
    role: &str,
    file: (&str, &[u8]),
) -> Answer {
    let body = multipart(
        &[
            ("csrf", &b.csrf),
            ("version", &version.to_string()),
            ("role", role),
        ],
        file,
    );
    c.post_multipart(b, &format!("/doc/{id}/files"), body).await
}

/// The raw answer to a GET: status, headers, bytes.
async fn fetch(
    c: &Console,
    b: &Browser,
    path: &str,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::get(path)
        .header(header::COOKIE, &b.cookies)
        .body(Body::empty())
        .unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(LOOPBACK));
    let response = c.app.clone().oneshot(req).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (parts.status, parts.headers, bytes)
}

fn files_of(c: &Console, id: DocumentId) -> DocumentFiles {
    let state: FlowState = c.engine.state(id).unwrap().unwrap();
    state.document_files().cloned().unwrap()
}

fn version_of(c: &Console, id: DocumentId) -> u64 {
    c.engine.state(id).unwrap().unwrap().version()
}

/// Uploads through the engine as `actor`.
fn upload(c: &Console, actor: &str, name: &str, bytes: &[u8]) -> FileRef {
    workflow_testkit::engine::upload(&c.engine, actor, name, bytes)
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n a picture of the venue";

#[tokio::test]
async fn the_drafter_uploads_a_text_and_attachments_and_readers_open_them() {
    let c = Console::new().await;
    let id = c.sample_document(1, None).await;
    let wang = c.signed_in("wang.fang").await;
    let page = c.get(&wang, &format!("/doc/{id}")).await;
    assert!(page.body.contains("id=\"upload\""), "{}", page.body);
    // The 正文 as a PDF, then a picture as an attachment: each a revision.
    let a = upload_form(&c, &wang, id, 1, "main", (SAMPLE_FILE_NAME, SAMPLE_FILE)).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let a = upload_form(&c, &wang, id, 2, "attachment", ("会场.png", PNG)).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    let files = files_of(&c, id);
    let main = files.main.clone().expect("the 正文 is named");
    assert_eq!(main.name, SAMPLE_FILE_NAME);
    assert_eq!(main.media_type, "application/pdf");
    assert_eq!(files.attachments.len(), 1);
    assert_eq!(files.attachments[0].media_type, "image/png");
    // The card lists both and shows the PDF 正文 in place.
    let page = c.get(&wang, &format!("/doc/{id}")).await.body;
    let href = format!("/doc/{id}/file/{}", main.digest);
    assert!(page.contains(&format!("<a href=\"{href}\"")), "{page}");
    assert!(page.contains("id=\"viewer\""), "{page}");
    assert!(page.contains("附件1"), "{page}");
    // Opened: the bytes as kept, shown inline, under the Chinese name.
    let (status, headers, bytes) = fetch(&c, &wang, &href).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(bytes, SAMPLE_FILE);
    assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with("inline;"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''%E8%87%AA%E8%AF%84"),
        "{disposition}"
    );
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "SAMEORIGIN");
    // Another person, cleared and not the drafter, reads it too but changes nothing.
    let li = c.signed_in("li.qiang").await;
    let (status, _, bytes) = fetch(&c, &li, &href).await;
    assert_eq!((status, bytes.len()), (StatusCode::OK, SAMPLE_FILE.len()));
    let page = c.get(&li, &format!("/doc/{id}")).await.body;
    assert!(!page.contains("id=\"upload\""), "{page}");
    let before = version_of(&c, id);
    let kept = c
        .engine
        .unreferenced_files(std::time::Duration::ZERO)
        .unwrap()
        .len();
    let other_png: &[u8] = b"\x89PNG\r\n\x1a\n someone else's picture";
    let a = upload_form(&c, &li, id, before, "attachment", ("x.png", other_png)).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert_eq!(version_of(&c, id), before);
    assert_eq!(
        c.engine
            .unreferenced_files(std::time::Duration::ZERO)
            .unwrap()
            .len(),
        kept,
        "nothing kept for someone who may not change the files"
    );
    // Bytes of no kept kind: refused in the person's words, nothing changed.
    let a = upload_form(
        &c,
        &wang,
        id,
        before,
        "attachment",
        ("run.exe", b"MZ\x90\x00"),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    assert!(
        error_message(&a.body).starts_with("此类文件不能上传；可上传：pdf、ofd、"),
        "{}",
        a.body
    );
    assert_eq!(version_of(&c, id), before);
    // A form without its token keeps nothing.
    let mut stranger = wang.clone();
    stranger.csrf = "forged".into();
    let a = upload_form(
        &c,
        &stranger,
        id,
        before,
        "attachment",
        ("y.png", other_png),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    assert_eq!(
        c.engine
            .unreferenced_files(std::time::Duration::ZERO)
            .unwrap()
            .len(),
        kept
    );
    // The attachment taken off: a revision; the log keeps it.
    let digest = files.attachments[0].digest.to_string();
    let a = c
        .post(
            &wang,
            &format!("/doc/{id}/files/remove"),
            &[
                ("csrf", &wang.csrf),
                ("version", &before.to_string()),
                ("sha256", &digest),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert!(files_of(&c, id).attachments.is_empty());
    assert_eq!(files_of(&c, id).main.unwrap().digest, main.digest);
    // A new 正文 replaces the first, which still opens (a reviewer may have approved it).
    let now = version_of(&c, id);
    let a = upload_form(
        &c,
        &wang,
        id,
        now,
        "main",
        ("正文（修改稿）.pdf", b"%PDF-1.7\n revised"),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
    assert_ne!(files_of(&c, id).main.unwrap().digest, main.digest);
    let (status, _, bytes) = fetch(&c, &wang, &href).await;
    assert_eq!((status, bytes.as_slice()), (StatusCode::OK, SAMPLE_FILE));
    // A file the document does not name is not served through it.
    let other = upload(&c, "wang.fang", "另件.pdf", b"%PDF-1.7\n not named");
    let (status, _, _) = fetch(&c, &wang, &format!("/doc/{id}/file/{}", other.digest)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_approval_on_the_page_is_given_on_the_text_the_page_showed() {
    let c = Console::new().await;
    let text = upload(&c, "wang.fang", SAMPLE_FILE_NAME, SAMPLE_FILE);
    let mut fields = workflow_testkit::fields();
    fields.files.main = Some(Box::new(text.clone()));
    let id = c
        .sample_document(workflow_testkit::steps::IN_REVIEW, Some(fields))
        .await;
    let reviewer = workflow_testkit::full_flow()[workflow_testkit::steps::IN_REVIEW]
        .0
        .to_string();
    let b = c.signed_in(&reviewer).await;
    let page = c.get(&b, &format!("/doc/{id}")).await.body;
    assert_eq!(
        form_value(&page, "Approve", "content").as_deref(),
        Some(text.digest.as_str()),
        "{page}"
    );
    let version = version_of(&c, id).to_string();
    let stale = "c".repeat(64);
    let a = c
        .act(
            &b,
            id,
            &[
                ("action", "Approve"),
                ("version", &version),
                ("content", &stale),
                ("opinion", "同意。"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.body);
    assert!(
        error_message(&a.body).starts_with("正文在您阅读后已被修改")
            && error_detail(&a.body).contains(&stale),
        "{}",
        a.body
    );
    assert_eq!(version_of(&c, id).to_string(), version);
    let a = c
        .act(
            &b,
            id,
            &[
                ("action", "Approve"),
                ("version", &version),
                ("content", text.digest.as_str()),
                ("opinion", "同意。"),
            ],
        )
        .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
}

#[tokio::test]
async fn a_classified_document_s_files_follow_its_reading_rules() {
    let c = Console::new().await;
    let text = upload(&c, "wang.fang", SAMPLE_FILE_NAME, SAMPLE_FILE);
    let mut fields = workflow_testkit::fields();
    fields.classification = Classification::Secret;
    fields.classification_period_years = Some(10);
    fields.files.main = Some(Box::new(text.clone()));
    let id = c.sample_document(1, Some(fields)).await;
    let href = format!("/doc/{id}/file/{}", text.digest);
    // zhou.jie is cleared for nothing classified: refused, nothing sent.
    let zhou = c.signed_in("zhou.jie").await;
    let (status, _, bytes) = fetch(&c, &zhou, &href).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!bytes.starts_with(b"%PDF"));
    // li.qiang is: the download is in the access log, once.
    let li = c.signed_in("li.qiang").await;
    let (status, _, bytes) = fetch(&c, &li, &href).await;
    assert_eq!((status, bytes.len()), (StatusCode::OK, SAMPLE_FILE.len()));
    let log = c
        .engine
        .access_log(&workflow_store::access::AccessQuery::default())
        .unwrap();
    let reads: Vec<_> = log
        .iter()
        .filter(|e| e.actor.as_ref().map(|a| a.as_str()) == Some("li.qiang") && e.document_id == id)
        .collect();
    assert_eq!(reads.len(), 1, "{log:?}");
    assert_eq!(reads[0].what, "file");
    assert!(
        reads[0].detail.contains(text.digest.as_str())
            && reads[0].detail.contains(SAMPLE_FILE_NAME),
        "{:?}",
        reads[0]
    );
}

#[tokio::test]
async fn an_issued_document_opens_as_its_official_pdf() {
    let c = Console::new().await;
    let id = c
        .sample_document(workflow_testkit::steps::ISSUED, None)
        .await;
    // Issued where nothing printed: without a printer the console says it cannot lay it
    // out; given one (the server's engine always has one), it lays it out from the record.
    let li = c.signed_in("li.qiang").await;
    let (status, _, _) = fetch(&c, &li, &format!("/doc/{id}/issued.pdf")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let c = c.reopened_with_printer().await;
    let li = c.signed_in("li.qiang").await;
    let page = c.get(&li, &format!("/doc/{id}")).await.body;
    assert!(page.contains("id=\"issued-link\""), "{page}");
    let (status, headers, bytes) = fetch(&c, &li, &format!("/doc/{id}/issued.pdf")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    assert!(bytes.starts_with(b"%PDF-"));
    assert_eq!(headers[header::CONTENT_TYPE], "application/pdf");
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(
        disposition.contains("filename*=UTF-8''X%E6%A0%A1%E5%8F%91"),
        "{disposition}"
    );
    use sha2::Digest as _;
    assert_eq!(
        headers["x-content-sha256"],
        hex::encode(sha2::Sha256::digest(&bytes)).as_str()
    );
    // The same record, the same bytes — with the unit names of its 印发, whatever the
    // directory says since.
    let mut office = c.engine.units().into_iter().find(|u| u.office).unwrap();
    office.name = format!("{}（更名）", office.name);
    c.engine
        .change_directory(workflow_core::directory::DirectoryAction::PutUnit {
            unit: office,
            system: "hr-system".into(),
            reason: "机构更名".into(),
        })
        .await
        .unwrap();
    let (_, _, again) = fetch(&c, &li, &format!("/doc/{id}/issued.pdf")).await;
    assert_eq!(bytes, again);
    // A draft has no 公文 yet: no link, and asking says so.
    let draft = c.sample_document(1, None).await;
    let page = c.get(&li, &format!("/doc/{draft}")).await.body;
    assert!(!page.contains("id=\"issued-link\""));
    let (status, _, _) = fetch(&c, &li, &format!("/doc/{draft}/issued.pdf")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Issued where the engine prints: the copy kept at 印发, served as the document's file.
    let printed = c
        .sample_document(workflow_testkit::steps::ISSUED, None)
        .await;
    let kept = c.engine.document(printed).unwrap().unwrap();
    let kept = kept.issue().unwrap().printed.clone().unwrap();
    let (status, headers, _) = fetch(&c, &li, &format!("/doc/{printed}/issued.pdf")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(
        headers[header::LOCATION],
        format!("/doc/{printed}/file/{}", kept.digest).as_str()
    );
}

#[tokio::test]
async fn a_file_over_the_limit_is_refused_naming_the_limit() {
    let c = Console::with_content_limits(workflow_store::content::ContentLimits {
        max_bytes: 2048,
        ..Default::default()
    })
    .await;
    let id = c.sample_document(1, None).await;
    let wang = c.signed_in("wang.fang").await;
    let before = version_of(&c, id);
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.resize(3000, b' ');
    let a = upload_form(&c, &wang, id, before, "attachment", ("大.pdf", &pdf)).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.body);
    // Said as people read sizes (the limit under 1 MB was "0 MB").
    assert_eq!(
        error_message(&a.body),
        "文件超过了 2 KB 的上限，请压缩或拆分后再上传"
    );
    assert_eq!(version_of(&c, id), before);
}
