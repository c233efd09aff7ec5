//! A gRPC client that drives one document through the whole flow against a running server
//! — draft, review, countersign by three departments, a second review, sign-off, issue,
//! acknowledgement, archive — printing each step and then the document's history.
//!
//! Start the server first (`cargo run --release -p workflow-cli -- serve`), then:
//! `cargo run -p examples --example client`
//! Environment: `WORKFLOW_ADDR` (default `http://127.0.0.1:50051`), `WORKFLOW_TOKEN`
//! (default the development token of `workflow.toml`).

use anyhow::{Context, Result};
use tonic::metadata::MetadataValue;
use tonic::transport::Endpoint;
use workflow_grpc::convert;
use workflow_grpc::pb;
use workflow_grpc::pb::document_workflow_client::DocumentWorkflowClient;

#[tokio::main]
async fn main() -> Result<()> {
    let addr = std::env::var("WORKFLOW_ADDR").unwrap_or_else(|_| "http://127.0.0.1:50051".into());
    let token = std::env::var("WORKFLOW_TOKEN").unwrap_or_else(|_| "dev-oa-portal-token".into());
    let channel = Endpoint::from_shared(addr.clone())?
        .connect()
        .await
        .with_context(|| format!("cannot reach the server at {addr}; start it with `cargo run --release -p workflow-cli -- serve`"))?;
    let bearer: MetadataValue<_> = format!("Bearer {token}").parse()?;
    let mut client =
        DocumentWorkflowClient::with_interceptor(channel, move |mut req: tonic::Request<()>| {
            req.metadata_mut().insert("authorization", bearer.clone());
            Ok(req)
        });

    let doc = uuid::Uuid::new_v4().to_string();
    // Each command gets its own idempotency key; a retry would reuse it.
    let run = doc[..8].to_owned();
    let mut n = 0;
    let mut cid = move || {
        n += 1;
        format!("example-{run}-{n}")
    };
    let id = || doc.clone();

    let r = client
        .draft_document(pb::DraftDocumentRequest {
            command_id: cid(),
            actor_id: "wang.fang".into(),
            document_id: id(),
            expected_version: Some(0),
            // The fixture's sample document (fixtures/campus.json), in its wire form.
            fields: Some(convert::draft_fields_to(&workflow_testkit::fields())),
        })
        .await?;
    step("拟稿 wang.fang", r.get_ref());

    let r = client
        .submit_for_review(pb::SubmitForReviewRequest {
            command_id: cid(),
            actor_id: "wang.fang".into(),
            document_id: id(),
            expected_version: Some(1),
            // Review by li.qiang (2 days), 会签 by RSC, CWC and XSC (3 days), review by
            // chen.hong (1 day): the sample's route.
            route: convert::route_to(&workflow_testkit::route()),
        })
        .await?;
    step("送审 wang.fang", r.get_ref());

    // Each stage action names the stage (0-based) its actor saw, so that one arriving after
    // the route moved on is refused instead of landing on the next stage.
    let approve = |actor: &str, opinion: &str, stage: u32, cid: String| pb::ApproveRequest {
        stage: Some(stage),
        command_id: cid,
        actor_id: actor.into(),
        document_id: id(),
        expected_version: None,
        opinion: opinion.into(),
    };
    let r = client
        .approve(approve("li.qiang", "同意，请各相关部门会签。", 0, cid()))
        .await?;
    step("审核 li.qiang", r.get_ref());
    for (actor, opinion) in [
        (
            "zhao.min",
            "同意。监考人员安排按人事处年度工作量核定办法执行。",
        ),
        ("sun.li", "同意。考务经费从教务处年度预算中列支。"),
        ("zhou.jie", "同意。请各学院做好学生考风考纪教育。"),
    ] {
        let r = client
            .countersign(pb::CountersignRequest {
                stage: Some(1),
                command_id: cid(),
                actor_id: actor.into(),
                document_id: id(),
                expected_version: None,
                agree: true,
                opinion: opinion.into(),
            })
            .await?;
        step(&format!("会签 {actor}"), r.get_ref());
    }
    let r = client
        .approve(approve(
            "chen.hong",
            "经审核，格式规范，文种正确，同意报签。",
            2,
            cid(),
        ))
        .await?;
    step("审核 chen.hong", r.get_ref());
    let r = client
        .sign_off(pb::SignOffRequest {
            command_id: cid(),
            actor_id: "huang.wei".into(),
            document_id: id(),
            expected_version: None,
            opinion: "同意印发。".into(),
        })
        .await?;
    step("签发 huang.wei", r.get_ref());
    let r = client
        .issue(pb::IssueRequest {
            command_id: cid(),
            actor_id: "liu.yang".into(),
            document_id: id(),
            expected_version: None,
            // Dates on documents are China Standard Time, like the signature date.
            issue_date: workflow_core::china_date(chrono::Utc::now()).to_string(),
            copies: 40,
        })
        .await?;
    step("印发 liu.yang", r.get_ref());
    // 人事处 (RSC) is a 主送 unit of the directory: one of its people signs for receipt.
    let r = client
        .acknowledge(pb::AcknowledgeRequest {
            command_id: cid(),
            actor_id: "zhao.min".into(),
            document_id: id(),
            expected_version: None,
        })
        .await?;
    step("签收 zhao.min", r.get_ref());
    let r = client
        .archive(pb::ArchiveRequest {
            command_id: cid(),
            actor_id: "xu.jing".into(),
            document_id: id(),
            expected_version: None,
            fonds: "J012".into(),
            retention: pb::Retention::Years30 as i32,
            unit_code: "JWC".into(),
            deviation_reason: String::new(),
        })
        .await?;
    step("归档 xu.jing", r.get_ref());

    let d = client
        .get_document(pb::GetDocumentRequest {
            actor_id: "liu.yang".into(),
            document_id: id(),
            as_of_version: None,
        })
        .await?
        .into_inner();
    let number = d
        .issue
        .as_ref()
        .map(|i| i.document_number.clone())
        .unwrap_or_default();
    let reference = d
        .archive
        .as_ref()
        .map(|a| a.reference.clone())
        .unwrap_or_default();
    println!(
        "\n《{}》 {number}  档号 {reference}  state {:?}",
        d.fields.map(|f| f.title).unwrap_or_default(),
        pb::State::try_from(d.state)?
    );

    println!("\nhistory of {}:", id());
    let h = client
        .get_history(pb::GetHistoryRequest {
            actor_id: "liu.yang".into(),
            document_id: id(),
        })
        .await?
        .into_inner();
    for e in h.events {
        let at = e
            .recorded_at
            .map(|t| {
                chrono::DateTime::from_timestamp(t.seconds, 0)
                    .unwrap_or_default()
                    .to_rfc3339()
            })
            .unwrap_or_default();
        println!(
            "  #{:<5} v{:<2} {at} {:<10} {:<18} {}",
            e.position, e.version, e.actor_id, e.r#type, e.payload_json
        );
    }
    Ok(())
}

fn step(what: &str, r: &pb::CommandResponse) {
    let types: Vec<&str> = r.events.iter().map(|e| e.r#type.as_str()).collect();
    println!("{what:<18} → version {} {types:?}", r.version);
}
