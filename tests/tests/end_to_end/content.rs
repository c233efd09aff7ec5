//! Files over gRPC (DESIGN §10): a 20 MiB PDF uploaded with `PutContent` in 1 MiB chunks,
//! named by a 收文's registration, and downloaded with `GetContent` through that 收文 — whole
//! and as a range — with its digest checked; a 发文 whose approvals are bound to its 正文;
//! and the refusals, each keeping nothing.

use crate::common::*;
use sha2::Digest as _;
use tokio_stream::StreamExt;
use tonic::Code;
use tonic_types::StatusExt;
use workflow_grpc::pb;

fn pdf(n: usize) -> Vec<u8> {
    let mut b = b"%PDF-1.7\n".to_vec();
    b.extend((0..n.saturating_sub(b.len())).map(|i| (i % 253) as u8));
    b
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

fn chunks(name: &str, bytes: &[u8], sha256: &str, size: usize) -> Vec<pb::PutContentRequest> {
    chunks_by("he.ping", name, bytes, sha256, size)
}

fn chunks_by(
    actor: &str,
    name: &str,
    bytes: &[u8],
    sha256: &str,
    size: usize,
) -> Vec<pb::PutContentRequest> {
    bytes
        .chunks(size)
        .enumerate()
        .map(|(i, c)| pb::PutContentRequest {
            actor_id: if i == 0 { actor.into() } else { String::new() },
            name: if i == 0 { name.into() } else { String::new() },
            chunk: c.to_vec(),
            sha256: if i == 0 { sha256.into() } else { String::new() },
        })
        .collect()
}

async fn download(
    c: &mut Client,
    id: &str,
    sha256: &str,
    offset: u64,
    length: u64,
) -> (pb::FileInfo, Vec<u8>) {
    let mut stream = c
        .get_content(pb::GetContentRequest {
            actor_id: "he.ping".into(),
            document_id: id.into(),
            sha256: sha256.into(),
            offset,
            length,
        })
        .await
        .unwrap()
        .into_inner();
    let mut info = None;
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        assert_eq!(chunk.offset, offset + bytes.len() as u64);
        assert!(chunk.chunk.len() <= 1 << 20);
        if let Some(f) = chunk.file {
            info = Some(f);
        }
        bytes.extend(chunk.chunk);
    }
    (info.expect("the first chunk names the file"), bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_20_mib_pdf_goes_up_and_comes_down_through_the_document_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let bytes = pdf(20 << 20);
    let digest = sha(&bytes);
    let up = c
        .put_content(tokio_stream::iter(chunks(
            "自评自建工作方案.pdf",
            &bytes,
            &digest,
            1 << 20,
        )))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(up.sha256, digest);
    assert_eq!(up.size, bytes.len() as u64);
    assert_eq!(up.media_type, "application/pdf");
    // A 收文 whose attachment it is.
    let id = new_id();
    let s = workflow_testkit::incoming::incoming_sample().registration;
    c.register_incoming(pb::RegisterIncomingRequest {
        command_id: cid(),
        actor_id: "he.ping".into(),
        document_id: id.clone(),
        expected_version: None,
        registration: Some(pb::Registration {
            channel: 0,
            copies: 0,
            copy_numbers: String::new(),
            important: false,
            slip_required: false,
            files: Some(pb::DocumentFiles {
                main: None,
                attachments: vec![up.clone()],
            }),
            from: s.from,
            from_number: s.from_number,
            title: s.title,
            kind: pb::Kind::Circular as i32,
            received_on: workflow_testkit::clock::today().to_string(),
            deadline: (workflow_testkit::clock::today() + chrono::Duration::days(20)).to_string(),
            ..Default::default()
        }),
        unit: String::new(),
    })
    .await
    .unwrap();
    let (info, down) = download(&mut c, &id, &digest, 0, 0).await;
    assert_eq!(info.name, "自评自建工作方案.pdf");
    assert_eq!(info.media_type, "application/pdf");
    assert_eq!(info.size, bytes.len() as u64);
    assert_eq!(
        sha(&down),
        digest,
        "the bytes that came down are the ones that went up"
    );
    // A range across a chunk boundary, and one longer than a chunk (streamed in several).
    let (_, part) = download(&mut c, &id, &digest, (1 << 20) - 10, 30).await;
    assert_eq!(part, bytes[(1 << 20) - 10..(1 << 20) + 20]);
    let (_, long) = download(&mut c, &id, &digest, 3_000_000, 2_500_000).await;
    assert_eq!(long, bytes[3_000_000..5_500_000]);
    server.stop().await;
}

#[tokio::test]
async fn refused_uploads_and_downloads_say_why_and_keep_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let bytes = pdf(100_000);
    let uploader = c.clone();
    let put = |reqs: Vec<pb::PutContentRequest>| {
        let mut c = uploader.clone();
        async move { c.put_content(tokio_stream::iter(reqs)).await }
    };
    // A digest that does not match what arrived.
    let e = put(chunks("a.pdf", &bytes, &"0".repeat(64), 1 << 16))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(
        e.message().contains("damaged or cut short"),
        "{}",
        e.message()
    );
    // A chunk over 1 MiB.
    let big = pdf((1 << 20) + 1);
    let e = put(chunks("b.pdf", &big, "", big.len())).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    // A name with a path separator; bytes of no kept kind.
    let e = put(chunks("dir/c.pdf", &bytes, "", 1 << 16))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    let e = put(chunks("d.pdf", b"MZ an executable", "", 1 << 16))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(
        !dir.path().join("content").join(&sha(&bytes)[..2]).exists(),
        "nothing was kept"
    );
    // A download of a file no document names, through a 发文.
    let doc = new_id();
    sample_steps(&mut c, &doc, 0, 1).await;
    let ok = put(chunks("e.pdf", &bytes, "", 1 << 16))
        .await
        .unwrap()
        .into_inner();
    let e = c
        .get_content(pb::GetContentRequest {
            actor_id: "wang.fang".into(),
            document_id: doc.clone(),
            sha256: ok.sha256.clone(),
            offset: 0,
            length: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("names no file"), "{}", e.message());
    // An upload names its uploader.
    let e = put(chunks_by("", "f.pdf", &bytes, "", 1 << 16))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("actor_id"), "{}", e.message());
    // A draft naming a file its drafter did not upload (he.ping did; and bytes nobody
    // uploaded): FAILED_PRECONDITION naming it, nothing recorded.
    let mut never = ok.clone();
    never.sha256 = "e".repeat(64);
    for file in [ok.clone(), never] {
        let mut fields = fields();
        fields.files = Some(pb::DocumentFiles {
            main: Some(file.clone()),
            attachments: vec![],
        });
        let e = c
            .draft_document(pb::DraftDocumentRequest {
                command_id: cid(),
                actor_id: "wang.fang".into(),
                document_id: new_id(),
                expected_version: Some(0),
                fields: Some(fields),
            })
            .await
            .unwrap_err();
        assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
        assert!(e.message().contains(&file.sha256), "{}", e.message());
        let details = e.get_error_details();
        let info = details.error_info().unwrap();
        assert_eq!(info.reason, "FILE_NOT_UPLOADED");
        assert_eq!(info.metadata["sha256"], file.sha256);
        assert_eq!(info.metadata["actor"], "wang.fang");
    }
    server.stop().await;
}

#[tokio::test]
async fn approvals_over_the_wire_are_bound_to_the_text_the_approver_was_shown() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let text = workflow_testkit::SAMPLE_FILE;
    let up = c
        .put_content(tokio_stream::iter(chunks_by(
            "wang.fang",
            workflow_testkit::SAMPLE_FILE_NAME,
            text,
            "",
            1 << 20,
        )))
        .await
        .unwrap()
        .into_inner();
    let id = new_id();
    let mut fields = fields();
    fields.files = Some(pb::DocumentFiles {
        main: Some(up.clone()),
        attachments: vec![],
    });
    c.draft_document(pb::DraftDocumentRequest {
        command_id: cid(),
        actor_id: "wang.fang".into(),
        document_id: id.clone(),
        expected_version: Some(0),
        fields: Some(fields),
    })
    .await
    .unwrap();
    assert_eq!(
        get(&mut c, &id)
            .await
            .fields
            .unwrap()
            .files
            .unwrap()
            .main
            .unwrap(),
        up
    );
    submit(&mut c, &id).await;
    let reviewer = workflow_testkit::full_flow()[workflow_testkit::steps::IN_REVIEW]
        .0
        .to_string();
    let approve = |content_sha256: String| pb::ApproveRequest {
        content_sha256,
        stage: None,
        command_id: cid(),
        actor_id: reviewer.clone(),
        document_id: id.clone(),
        expected_version: None,
        opinion: "同意。".into(),
    };
    let e = c.approve(approve("b".repeat(64))).await.unwrap_err();
    assert_eq!(e.code(), Code::Aborted, "{e:?}");
    let details = e.get_error_details();
    let info = details.error_info().unwrap();
    assert_eq!(info.reason, "CONTENT_CHANGED");
    assert_eq!(info.metadata["current_sha256"], up.sha256);
    let e = c.approve(approve("not a digest".into())).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    c.approve(approve(up.sha256.clone())).await.unwrap();
    // The log says which text was approved.
    let approved = history(&mut c, &id)
        .await
        .into_iter()
        .find(|e| e.r#type == "Approved")
        .unwrap();
    let payload: serde_json::Value = serde_json::from_str(&approved.payload_json).unwrap();
    assert_eq!(payload["content"], up.sha256.as_str(), "{payload}");
    // The reader downloads the 正文 through the document.
    let (info, down) = {
        let mut stream = c
            .get_content(pb::GetContentRequest {
                actor_id: reviewer.clone(),
                document_id: id.clone(),
                sha256: up.sha256.clone(),
                offset: 0,
                length: 0,
            })
            .await
            .unwrap()
            .into_inner();
        let mut info = None;
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.unwrap();
            info = info.or(chunk.file);
            bytes.extend(chunk.chunk);
        }
        (info.unwrap(), bytes)
    };
    assert_eq!(info.name, workflow_testkit::SAMPLE_FILE_NAME);
    assert_eq!(down, text);
    server.stop().await;
}
