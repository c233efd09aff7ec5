//! 签报 end to end over gRPC: the sample from 拟稿 to 归档 sent by
//! `workflow_grpc::client::send` (the 督办 item its 批示 opens, readable as an item), GetMemo
//! and the list by flow, and the error table.

use crate::common::*;
use chrono::Duration;
use tonic::Code;
use tonic_types::StatusExt;
use workflow_grpc::pb;
use workflow_testkit::submission::memo_flow;

async fn get_memo(c: &mut Client, actor: &str, id: &str) -> Result<pb::Memo, tonic::Status> {
    c.get_memo(pb::GetDocumentRequest {
        actor_id: actor.into(),
        document_id: id.into(),
        as_of_version: None,
    })
    .await
    .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn the_sample_memo_over_grpc_with_its_item_its_list_and_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let id = workflow_core::DocumentId(uuid::Uuid::new_v4());
    let deadline = workflow_testkit::clock::today() + Duration::days(60);
    for (actor, action) in memo_flow(deadline, "J012") {
        let name = action.name();
        let request = workflow_store::Request::new(id, actor, action);
        workflow_grpc::client::send(&mut c, &request)
            .await
            .unwrap_or_else(|e| panic!("{actor} {name}: {e:?}"));
    }
    let m = get_memo(&mut c, "wang.fang", &id.to_string())
        .await
        .unwrap();
    assert_eq!(
        (m.step.as_str(), m.step_chinese.as_str()),
        ("Archived", "已归档")
    );
    assert_eq!(m.unit, "JWC");
    assert!(m.number.starts_with("X校教签〔"), "{}", m.number);
    assert_eq!(m.decision, pb::Decision::AgreeWithChanges as i32);
    assert_eq!(
        m.directives
            .iter()
            .map(|d| d.leader.as_str())
            .collect::<Vec<_>>(),
        ["song.hua", "lin.zhiyuan"]
    );
    assert_eq!(m.route.len(), 2);
    assert!(m.archive.unwrap().reference.starts_with("J012-WS·"));
    // The 批示's 督办 item, readable as an item that names the 签报 it came from.
    assert_eq!(m.supervision_items.len(), 1);
    let item = c
        .get_item(pb::GetDocumentRequest {
            actor_id: "ding.xin".into(),
            document_id: m.supervision_items[0].clone(),
            as_of_version: None,
        })
        .await
        .unwrap()
        .into_inner();
    let spec = item.spec.unwrap();
    assert_eq!(spec.source, "submission");
    assert_eq!(spec.source_submission_id, id.to_string());
    assert_eq!(spec.deadline, deadline.to_string());
    // Listed under its flow, in its own field.
    let page = c
        .list_documents(pb::ListDocumentsRequest {
            actor_id: "liu.yang".into(),
            flow: "submission".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.memos.len(), 1);
    assert!(page.documents.is_empty() && page.receipts.is_empty() && page.items.is_empty());
    // As it was after its 核稿 (version 6): awaiting the first leader.
    let then = c
        .get_memo(pb::GetDocumentRequest {
            actor_id: "wang.fang".into(),
            document_id: id.to_string(),
            as_of_version: Some(6),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(then.step, "AwaitingInstruction");
    assert_eq!(then.leaders, ["song.hua", "lin.zhiyuan"]);
    // Its history names every step.
    let h = c
        .get_history(pb::GetHistoryRequest {
            actor_id: "wang.fang".into(),
            document_id: id.to_string(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(h.events[0].r#type, "MemoDrafted");
    assert!(h.events.iter().any(|e| e.r#type == "MemoEndorsed"));
    server.stop().await;
}

#[tokio::test]
async fn memo_rejections_map_to_the_error_table() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let id = new_id();
    let fields = || {
        let f = workflow_testkit::submission::memo_fields();
        pb::MemoFields {
            files: Default::default(),
            title: f.title,
            summary: f.summary,
            body: f.body,
            ..Default::default()
        }
    };
    let draft = |actor: &str, fields: pb::MemoFields| pb::DraftMemoRequest {
        command_id: cid(),
        actor_id: actor.into(),
        document_id: id.clone(),
        expected_version: None,
        fields: Some(fields),
    };
    // INVALID_ARGUMENT naming the field, with its reason code.
    let mut bad = fields();
    bad.summary = " ".into();
    let e = c.draft_memo(draft("wang.fang", bad)).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(
        e.get_error_details()
            .bad_request()
            .unwrap()
            .field_violations[0]
            .field,
        "summary"
    );
    let mut bad = fields();
    bad.answers = "not-an-id".into();
    let e = c.draft_memo(draft("wang.fang", bad)).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    // PERMISSION_DENIED: not a drafter.
    let e = c.draft_memo(draft("li.qiang", fields())).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    // NOT_FOUND before it exists.
    let e = c
        .void_memo(pb::VoidMemoRequest {
            command_id: cid(),
            actor_id: "wang.fang".into(),
            document_id: id.clone(),
            expected_version: None,
            reason: "不再需要".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    c.draft_memo(draft("wang.fang", fields())).await.unwrap();
    // ALREADY_EXISTS: drafted twice; FAILED_PRECONDITION: accepted before its review.
    let e = c
        .draft_memo(draft("wang.fang", fields()))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists);
    let e = c
        .accept_memo(pb::AcceptMemoRequest {
            command_id: cid(),
            actor_id: "liu.yang".into(),
            document_id: id.clone(),
            expected_version: None,
            opinion: "拟同意。".into(),
            leaders: vec!["song.hua".into()],
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    // A 批示 without a decision is refused on the wire.
    let e = c
        .endorse_memo(pb::EndorseMemoRequest {
            content_sha256: Default::default(),
            command_id: cid(),
            actor_id: "song.hua".into(),
            document_id: id.clone(),
            expected_version: None,
            decision: 0,
            text: "同意。".into(),
            supervise: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    // ABORTED: a stale expected version.
    let e = c
        .submit_memo(pb::SubmitMemoRequest {
            command_id: cid(),
            actor_id: "wang.fang".into(),
            document_id: id.clone(),
            expected_version: Some(5),
            route: route(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Aborted);
    // NOT_FOUND: GetMemo for a 发文's id, and GetDocument for the 签报's.
    let doc = new_id();
    sample_steps(&mut c, &doc, 0, 1).await;
    let e = get_memo(&mut c, "wang.fang", &doc).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let e = c
        .get_document(pb::GetDocumentRequest {
            actor_id: "wang.fang".into(),
            document_id: id.clone(),
            as_of_version: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    server.stop().await;
}
