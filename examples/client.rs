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
use workflow_core::{DocumentId, outgoing::Action};
use workflow_grpc::convert;
use workflow_grpc::pb;
use workflow_grpc::pb::document_workflow_client::DocumentWorkflowClient;
use workflow_store::Request;

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

    let doc = DocumentId(uuid::Uuid::new_v4());
    let id = || doc.to_string();
    // The fixture's sample document (fixtures/campus.json) and its whole flow, issued today
    // (China time): an issue date is never before the signature's date.
    let mut sample = workflow_testkit::sample();
    sample.issue_date = workflow_core::ids::china_date(chrono::Utc::now());
    let mut flow = sample.flow(&workflow_testkit::directory()).into_iter();

    // The first command written out as the RPC it is. Each command carries its own
    // idempotency key (a retry reuses it) and may carry the version it expects.
    let Some((drafter, Action::Draft(fields))) = flow.next() else {
        anyhow::bail!("the sample flow starts with a draft");
    };
    let r = client
        .draft_document(pb::DraftDocumentRequest {
            command_id: format!("example-{doc}-1"),
            actor_id: drafter.to_string(),
            document_id: id(),
            expected_version: Some(0),
            fields: Some(convert::draft_fields_to(&fields)),
        })
        .await?;
    step(&format!("拟稿 {drafter}"), r.get_ref());

    // The rest through `workflow_grpc::client::send`, which sends an engine request as its
    // RPC: submit along the sample's route, review, three countersigns, review, sign-off,
    // issue, 签收 by 人事处 (a 主送 unit), archive.
    for (actor, action) in flow {
        let what = format!("{} {actor}", label(&action));
        let r = workflow_grpc::client::send(&mut client, &Request::new(doc, actor, action)).await?;
        step(&what, r.get_ref());
    }

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

/// The step's name in the office's words.
fn label(action: &Action) -> &'static str {
    match action {
        Action::Draft(_) => "拟稿",
        Action::SubmitForReview { .. } => "送审",
        Action::Approve { .. } => "审核",
        Action::Countersign { .. } => "会签",
        Action::SignOff { .. } => "签发",
        Action::Issue { .. } => "印发",
        Action::Acknowledge => "签收",
        Action::Archive { .. } => "归档",
        other => other.name(),
    }
}

fn step(what: &str, r: &pb::CommandResponse) {
    let types: Vec<&str> = r.events.iter().map(|e| e.r#type.as_str()).collect();
    println!("{what:<18} → version {} {types:?}", r.version);
}
