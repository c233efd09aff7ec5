//! 督办 end to end over gRPC: the sample item from 立项 to 归档 sent by
//! `workflow_grpc::client::send`, the item a 批办 with `supervise` opens, lists by flow,
//! leader and source, the 月通报, and the error table.

use crate::common::*;
use chrono::{Datelike, Duration};
use tonic::Code;
use tonic_types::StatusExt;
use workflow_grpc::pb;
use workflow_testkit::supervision::item_flow;

/// Today, China time, as the server's clock (the kit's) sees it.
fn today() -> chrono::NaiveDate {
    workflow_testkit::clock::today()
}

async fn get_item(c: &mut Client, id: &str) -> pb::SupervisionItem {
    c.get_item(pb::GetDocumentRequest {
        actor_id: "ding.xin".into(),
        document_id: id.into(),
        as_of_version: None,
    })
    .await
    .unwrap()
    .into_inner()
}

fn spec() -> pb::ItemSpec {
    pb::ItemSpec {
        source: "meeting".into(),
        source_reference: "校长办公会纪要〔2026〕21号".into(),
        title: "制定本科教学工作合格评估整改方案".into(),
        requirements: "形成整改方案和任务清单。".into(),
        leader: "lin.zhiyuan".into(),
        lead_unit: "JWC".into(),
        co_units: vec!["RSC".into()],
        deadline: (today() + Duration::days(20)).to_string(),
        feedback: pb::FeedbackFrequency::Weekly as i32,
        ..Default::default()
    }
}

#[tokio::test]
async fn the_item_flow_over_grpc_its_lists_and_the_monthly_bulletin() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let id = workflow_core::DocumentId(uuid::Uuid::new_v4());
    let deadline = today() + Duration::days(20);
    for (actor, action) in item_flow(deadline, "J012") {
        let name = action.name();
        let request = workflow_store::Request::new(id, actor, action);
        workflow_grpc::client::send(&mut c, &request)
            .await
            .unwrap_or_else(|e| panic!("{actor} {name}: {e:?}"));
    }
    let i = get_item(&mut c, &id.to_string()).await;
    assert_eq!(
        (i.step.as_str(), i.step_chinese.as_str()),
        ("Archived", "已归档")
    );
    assert_eq!(i.responsible, "fang.yu");
    assert_eq!(i.spec.as_ref().unwrap().deadline, deadline.to_string());
    assert_eq!(i.deadline, (deadline + Duration::days(10)).to_string());
    assert_eq!(i.extensions.len(), 1);
    // 人事处's 协办 input, which 销号 waited for.
    let co: Vec<(&str, &str)> = i
        .co_inputs
        .iter()
        .map(|c| (c.unit.as_str(), c.actor_id.as_str()))
        .collect();
    assert_eq!(co, [("RSC", "guo.tao")]);
    assert!(i.pending_co_units.is_empty());
    assert!(i.archive.unwrap().reference.starts_with("J012-WS·"));
    // Lists by flow, leader and source.
    let list = |flow: &str, leader: &str, source: &str| pb::ListDocumentsRequest {
        actor_id: "ding.xin".into(),
        flow: flow.into(),
        leader: leader.into(),
        source: source.into(),
        ..Default::default()
    };
    let page = c
        .list_documents(list("supervision", "lin.zhiyuan", "meeting"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.items.len(), 1);
    assert!(page.documents.is_empty() && page.receipts.is_empty());
    let page = c
        .list_documents(list("supervision", "song.hua", ""))
        .await
        .unwrap()
        .into_inner();
    assert!(page.items.is_empty());
    let e = c
        .list_documents(list("supervision", "", "rumour"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    // This month's bulletin so far, as HTML, with its digest.
    let now = today();
    let b = c
        .get_monthly_bulletin(pb::GetMonthlyBulletinRequest {
            actor_id: "ding.xin".into(),
            year: chrono::Datelike::year(&now),
            month: chrono::Datelike::month(&now),
            format: pb::BulletinFormat::Html as i32,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(b.total.unwrap().opened, 1);
    assert_eq!(b.units[0].unit, "JWC");
    assert_eq!(b.units[0].name, "教务处");
    assert!(b.rendered.starts_with("<!DOCTYPE html>"));
    assert_eq!(b.sha256.len(), 64);
    let e = c
        .get_monthly_bulletin(pb::GetMonthlyBulletinRequest {
            actor_id: "ding.xin".into(),
            year: 2026,
            month: 13,
            format: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    server.stop().await;
}

#[tokio::test]
async fn supervision_rejections_map_to_the_error_table() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let id = new_id();
    let open = |actor: &str, spec: pb::ItemSpec| pb::OpenItemRequest {
        command_id: cid(),
        actor_id: actor.into(),
        document_id: id.clone(),
        expected_version: None,
        spec: Some(spec),
    };
    // INVALID_ARGUMENT naming the field.
    let mut bad = spec();
    bad.lead_unit = "NOPE".into();
    let e = c.open_item(open("ding.xin", bad)).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(
        e.get_error_details()
            .bad_request()
            .unwrap()
            .field_violations[0]
            .field,
        "spec.lead_unit"
    );
    let mut bad = spec();
    bad.source = "instruction".into();
    let e = c.open_item(open("ding.xin", bad)).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    // PERMISSION_DENIED: not a supervisor.
    let e = c.open_item(open("fang.yu", spec())).await.unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    // NOT_FOUND before it exists.
    let e = c
        .accept_item(pb::AcceptItemRequest {
            command_id: cid(),
            actor_id: "fang.yu".into(),
            document_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    c.open_item(open("ding.xin", spec())).await.unwrap();
    // ALREADY_EXISTS: opened twice; FAILED_PRECONDITION: closed before it was reported.
    let e = c.open_item(open("ding.xin", spec())).await.unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists);
    let e = c
        .close_item(pb::CloseItemRequest {
            command_id: cid(),
            actor_id: "ding.xin".into(),
            document_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    // ABORTED: a stale expected version.
    let e = c
        .accept_item(pb::AcceptItemRequest {
            command_id: cid(),
            actor_id: "fang.yu".into(),
            document_id: id.clone(),
            expected_version: Some(5),
            note: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Aborted);
    // A percent over 100 is refused on the wire.
    c.accept_item(pb::AcceptItemRequest {
        command_id: cid(),
        actor_id: "fang.yu".into(),
        document_id: id.clone(),
        ..Default::default()
    })
    .await
    .unwrap();
    let e = c
        .report_progress(pb::ReportProgressRequest {
            command_id: cid(),
            actor_id: "fang.yu".into(),
            document_id: id.clone(),
            text: "x".into(),
            percent: Some(300),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    // NOT_FOUND: an item's id is no 收文's.
    let e = c
        .get_incoming(pb::GetDocumentRequest {
            actor_id: "ding.xin".into(),
            document_id: id.clone(),
            as_of_version: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    server.stop().await;
}

#[tokio::test]
async fn publishing_last_months_bulletin_puts_its_digests_on_record_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let last = today().with_day(1).unwrap() - Duration::days(1);
    let (year, month) = (last.year(), last.month());
    let publish = |actor: &str, year: i32, month: u32, clearance: Option<pb::Classification>| {
        pb::PublishBulletinRequest {
            command_id: cid(),
            actor_id: actor.into(),
            year,
            month,
            clearance: clearance.map(|c| c as i32),
            format: pb::BulletinFormat::Markdown as i32,
        }
    };
    // Refused: this month has not ended, a handler is no supervisor, a clearance above the
    // publisher's, a clearance that is none.
    let code = |r: Result<tonic::Response<pb::PublishedBulletin>, tonic::Status>| r.unwrap_err();
    let e = code(
        c.publish_bulletin(publish("ding.xin", today().year(), today().month(), None))
            .await,
    );
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    let e = code(
        c.publish_bulletin(publish("fang.yu", year, month, None))
            .await,
    );
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    let e = code(
        c.publish_bulletin(publish(
            "ding.xin",
            year,
            month,
            Some(pb::Classification::TopSecret),
        ))
        .await,
    );
    assert_eq!(e.code(), Code::PermissionDenied, "{e:?}");
    let mut bad = publish("ding.xin", year, month, None);
    bad.clearance = Some(9);
    let e = code(c.publish_bulletin(bad).await);
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(
        e.get_details_bad_request().unwrap().field_violations[0].field,
        "clearance"
    );

    // Published: the bulletin as published, its event, and the record on every later read.
    let first = publish("ding.xin", year, month, None);
    let p = c
        .publish_bulletin(first.clone())
        .await
        .unwrap()
        .into_inner();
    let b = p.bulletin.unwrap();
    assert!(b.matches_publication);
    assert!(
        b.rendered.starts_with(&format!("# {year}年{month}月")),
        "{}",
        b.rendered
    );
    let record = b.publication.unwrap();
    assert_eq!(record.sha256_markdown, b.sha256);
    assert_eq!(record.published_by, "ding.xin");
    let command = p.command.unwrap();
    assert_eq!(command.events[0].r#type, "BulletinPublished");
    assert_eq!(command.events[0].stream_id, record.document_id);
    let read = |format: pb::BulletinFormat| pb::GetMonthlyBulletinRequest {
        actor_id: "ding.xin".into(),
        year,
        month,
        format: format as i32,
    };
    for format in [
        pb::BulletinFormat::Json,
        pb::BulletinFormat::Csv,
        pb::BulletinFormat::Html,
    ] {
        let b = c
            .get_monthly_bulletin(read(format))
            .await
            .unwrap()
            .into_inner();
        assert!(b.matches_publication, "{format:?}");
        assert_eq!(b.publication.unwrap(), record);
    }
    assert_eq!(record.clearance, pb::Classification::Confidential as i32);
    // fang.yu (秘密) reads the bulletin at their clearance, which was not published.
    let reader = c
        .get_monthly_bulletin(pb::GetMonthlyBulletinRequest {
            actor_id: "fang.yu".into(),
            ..read(pb::BulletinFormat::Markdown)
        })
        .await
        .unwrap()
        .into_inner();
    assert!(reader.publication.is_none() && !reader.matches_publication);
    // A retry is answered from the record; the 非密 edition is a publication of its own,
    // and once published, it already exists.
    let again = c.publish_bulletin(first).await.unwrap().into_inner();
    assert!(again.command.unwrap().replayed);
    let open = c
        .publish_bulletin(publish(
            "ding.xin",
            year,
            month,
            Some(pb::Classification::None),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(
        open.bulletin.unwrap().publication.unwrap().document_id,
        record.document_id
    );
    let e = code(
        c.publish_bulletin(publish(
            "ding.xin",
            year,
            month,
            Some(pb::Classification::None),
        ))
        .await,
    );
    assert_eq!(e.code(), Code::AlreadyExists, "{e:?}");
    // VerifyLog produces both publications again from the log.
    let verified = server
        .admin(ADMIN_TOKEN)
        .await
        .verify_log(pb::VerifyLogRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(verified.intact, "{verified:?}");
    assert_eq!(verified.bulletins_checked, 2);
    server.stop().await;
}
