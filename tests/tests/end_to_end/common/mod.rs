//! Shared setup: a real server on a loopback port over a real sled directory, and clients.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used
)] // test helpers

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::oneshot;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use workflow_cli::ServerConfig;
use workflow_grpc::SystemConfig;
use workflow_grpc::pb;
use workflow_grpc::pb::document_workflow_client::DocumentWorkflowClient;
use workflow_grpc::pb::workflow_admin_client::WorkflowAdminClient;

pub const OA_TOKEN: &str = "test-oa-portal-token";
pub const ADMIN_TOKEN: &str = "test-ops-admin-token";
/// The archive system's token: configured by its SHA-256 only, acting for archivists,
/// receiving up to 秘密 without an actor.
pub const ARCHIVE_TOKEN: &str = "test-archive-system-token";

/// The log position of the `n`-th event after the directory's (a new server loads the
/// fixture's directory into the log first).
pub fn p(n: u64) -> u64 {
    workflow_testkit::directory_events() + n
}

pub fn sha256_hex(token: &str) -> String {
    workflow_grpc::sha256(token)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn fixture() -> PathBuf {
    workflow_testkit::fixture_path()
}

pub fn config(dir: &Path) -> ServerConfig {
    ServerConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_owned(),
        directory: Some(fixture()),
        systems: vec![
            SystemConfig {
                name: "oa-portal".into(),
                token: Some(OA_TOKEN.into()),
                ..SystemConfig::default()
            },
            SystemConfig {
                name: "ops".into(),
                token: Some(ADMIN_TOKEN.into()),
                admin: true,
                ..SystemConfig::default()
            },
            SystemConfig {
                name: "archive-system".into(),
                token_sha256: Some(sha256_hex(ARCHIVE_TOKEN)),
                acts_for: Some(vec!["Archivist".into()]),
                max_classification: workflow_core::directory::Classification::Secret,
                ..SystemConfig::default()
            },
        ],
        tls: None,
        sweep_every_secs: 0,
        cache_mib: 64,
        reminder_interval_hours: 24,
        durability: Default::default(),
        retention: Vec::new(),
        ..ServerConfig::default()
    }
}

/// A running server; `stop` shuts it down gracefully.
pub struct TestServer {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    handle: tokio::task::JoinHandle<Result<(), workflow_cli::ServerError>>,
}

pub async fn start(dir: &Path) -> TestServer {
    start_with_clock(dir, workflow_testkit::clock::running_clock()).await
}

/// A clock the test moves: the kit's running clock plus a number of hours it sets.
pub fn movable_clock() -> (workflow_store::Clock, Arc<std::sync::atomic::AtomicI64>) {
    let hours = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let h = hours.clone();
    let clock: workflow_store::Clock = Arc::new(move || {
        workflow_testkit::clock::now()
            + chrono::Duration::hours(h.load(std::sync::atomic::Ordering::SeqCst))
    });
    (clock, hours)
}

pub async fn start_with_clock(dir: &Path, clock: workflow_store::Clock) -> TestServer {
    start_with(config(dir), clock).await
}

pub async fn start_with(config: ServerConfig, clock: workflow_store::Clock) -> TestServer {
    let engine = workflow_cli::open_engine(&config, clock.clone())
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let handle = tokio::spawn(async move {
        workflow_cli::serve(engine, &config, clock, listener, async {
            let _ = rx.await;
        })
        .await
    });
    TestServer {
        addr,
        shutdown: Some(tx),
        handle,
    }
}

impl TestServer {
    pub async fn channel(&self) -> Channel {
        tonic::transport::Endpoint::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .connect()
            .await
            .unwrap()
    }

    pub async fn client(&self) -> DocumentWorkflowClient<InterceptedService<Channel, Bearer>> {
        self.client_with(Some(OA_TOKEN)).await
    }

    pub async fn client_with(
        &self,
        token: Option<&str>,
    ) -> DocumentWorkflowClient<InterceptedService<Channel, Bearer>> {
        DocumentWorkflowClient::with_interceptor(self.channel().await, Bearer::new(token))
    }

    pub async fn admin(
        &self,
        token: &str,
    ) -> WorkflowAdminClient<InterceptedService<Channel, Bearer>> {
        WorkflowAdminClient::with_interceptor(self.channel().await, Bearer::new(Some(token)))
    }

    pub async fn stop(self) {
        if let Err(e) = self.stop_result().await {
            panic!("the server did not stop cleanly: {e}");
        }
    }

    /// Stops the server gracefully and returns how `serve` ended (what the binary's exit
    /// status says: 0 for `Ok`).
    pub async fn stop_result(mut self) -> Result<(), workflow_cli::ServerError> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.handle.await.unwrap()
    }
}

/// Adds `authorization: Bearer <token>` (or nothing).
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<Ascii>>);

impl Bearer {
    pub fn new(token: Option<&str>) -> Self {
        Bearer(token.map(|t| format!("Bearer {t}").parse().unwrap()))
    }
}

impl Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(v) = &self.0 {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}

pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub fn cid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The sample document's fields, on the wire.
pub fn fields() -> pb::DraftFields {
    workflow_grpc::convert::draft_fields_to(&workflow_testkit::fields())
}

/// The sample document's route, on the wire.
pub fn route() -> Vec<pb::RouteStage> {
    workflow_grpc::convert::route_to(&workflow_testkit::route())
}

pub type Client = DocumentWorkflowClient<InterceptedService<Channel, Bearer>>;

/// Takes document `id` through the sample flow's steps `from..to` over the wire, each step
/// sent as its RPC; the issue date is the kit's today (China time), the server's clock.
pub async fn sample_steps(c: &mut Client, id: &str, from: usize, to: usize) {
    let mut sample = workflow_testkit::sample();
    sample.issue_date = workflow_testkit::clock::today();
    let doc = workflow_core::DocumentId(uuid::Uuid::parse_str(id).unwrap());
    let flow = sample.flow(&workflow_testkit::directory());
    for (actor, action) in flow.into_iter().take(to).skip(from) {
        let name = action.name();
        let request = workflow_store::Request::new(doc, actor.clone(), action);
        if let Err(s) = workflow_grpc::client::send(c, &request).await {
            panic!("{actor} {name}: {s:?}");
        }
    }
}

pub async fn draft(c: &mut Client, id: &str) -> pb::CommandResponse {
    c.draft_document(pb::DraftDocumentRequest {
        command_id: cid(),
        actor_id: "wang.fang".into(),
        document_id: id.into(),
        expected_version: Some(0),
        fields: Some(fields()),
    })
    .await
    .unwrap()
    .into_inner()
}

pub async fn submit(c: &mut Client, id: &str) -> pb::CommandResponse {
    c.submit_for_review(pb::SubmitForReviewRequest {
        command_id: cid(),
        actor_id: "wang.fang".into(),
        document_id: id.into(),
        expected_version: None,
        route: route(),
    })
    .await
    .unwrap()
    .into_inner()
}

pub async fn approve(
    c: &mut Client,
    id: &str,
    actor: &str,
) -> Result<pb::CommandResponse, tonic::Status> {
    c.approve(pb::ApproveRequest {
        content_sha256: Default::default(),
        stage: None,
        command_id: cid(),
        actor_id: actor.into(),
        document_id: id.into(),
        expected_version: None,
        opinion: "同意".into(),
    })
    .await
    .map(tonic::Response::into_inner)
}

pub async fn countersign(
    c: &mut Client,
    id: &str,
    actor: &str,
    agree: bool,
    opinion: &str,
) -> Result<pb::CommandResponse, tonic::Status> {
    c.countersign(pb::CountersignRequest {
        content_sha256: Default::default(),
        stage: None,
        command_id: cid(),
        actor_id: actor.into(),
        document_id: id.into(),
        expected_version: None,
        agree,
        opinion: opinion.into(),
    })
    .await
    .map(tonic::Response::into_inner)
}

pub async fn get(c: &mut Client, id: &str) -> pb::Document {
    c.get_document(pb::GetDocumentRequest {
        actor_id: "liu.yang".into(),
        document_id: id.into(),
        as_of_version: None,
    })
    .await
    .unwrap()
    .into_inner()
}

pub async fn history(c: &mut Client, id: &str) -> Vec<pb::EventEnvelope> {
    c.get_history(pb::GetHistoryRequest {
        actor_id: "liu.yang".into(),
        document_id: id.into(),
    })
    .await
    .unwrap()
    .into_inner()
    .events
}
