//! Two `workflow serve` processes on one PostgreSQL database (DESIGN §8), as a deployment
//! past one machine runs them: clients spread over both, a subscriber on one receives what
//! was written through the other, positions stay gapless, the chain intact and 发文字号
//! unique across processes; then both are killed (SIGKILL) and nothing acknowledged is lost.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::StreamExt;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use workflow_grpc::pb;
use workflow_grpc::pb::document_workflow_client::DocumentWorkflowClient;
use workflow_testkit::postgres::Database;

const TOKEN: &str = "two-servers-token";

#[derive(Clone)]
struct Bearer(MetadataValue<Ascii>);

impl Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

type Client = DocumentWorkflowClient<InterceptedService<Channel, Bearer>>;

/// A `workflow serve` child and the address it serves on.
struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(config: &std::path::Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_workflow"))
        .arg("--config")
        .arg(config)
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // "workflow: serving on 127.0.0.1:PORT (…)" on stderr; the rest of stderr is drained.
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.strip_prefix("workflow: serving on ") {
                let _ = tx.send(rest.to_owned());
            }
        }
    });
    let serving = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the server says where it serves");
    // It names the database it uses, not a sled directory it never uses.
    assert!(
        serving.contains("(store: postgres://") && !serving.contains("data"),
        "{serving}"
    );
    let addr = serving.split(' ').next().unwrap_or_default().to_owned();
    Server { child, addr }
}

async fn client(server: &Server) -> Client {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", server.addr))
        .unwrap()
        .connect()
        .await
        .unwrap();
    DocumentWorkflowClient::with_interceptor(
        channel,
        Bearer(format!("Bearer {TOKEN}").parse().unwrap()),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_server_processes_share_one_database() {
    let db = Database::new();
    let root = tempfile::tempdir().unwrap();
    let config = root.path().join("workflow.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\nstore = {:?}\nallow_fsync_off = true\npool_size = 4\n\
             directory = {:?}\nsweep_every_secs = 0\n\
             [[systems]]\nname = \"oa-portal\"\ntoken = \"{TOKEN}\"\n",
            db.url,
            workflow_testkit::fixture_path().display().to_string()
        ),
    )
    .unwrap();
    let a = start(&config);
    let b = start(&config);

    // A subscriber on A, from the start of the log.
    let mut sub = client(&a).await;
    let mut events = sub
        .subscribe(pb::SubscribeRequest {
            from_position: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();

    // Eight clients, alternately on A and B, each taking a document to 印发.
    let mut sample = workflow_testkit::sample();
    // The servers are the `workflow` binary, on the system clock.
    sample.issue_date = workflow_core::ids::china_date(workflow_testkit::clock::wall_now());
    let flow = sample.flow(&workflow_testkit::directory());
    let issued = workflow_testkit::steps::ISSUED;
    let mut tasks = Vec::new();
    for i in 0..8usize {
        let mut c = client(if i % 2 == 0 { &a } else { &b }).await;
        let flow = flow.clone();
        tasks.push(tokio::spawn(async move {
            let doc = workflow_core::DocumentId(uuid::Uuid::new_v4());
            let mut acknowledged = Vec::new();
            for (actor, action) in flow.into_iter().take(issued) {
                let request = workflow_store::Request::new(doc, actor.clone(), action);
                match workflow_grpc::client::send(&mut c, &request).await {
                    Ok(r) => acknowledged.push((request.command_id, r.into_inner().version)),
                    Err(s) => panic!("{actor}: {s:?}"),
                }
            }
            (doc, acknowledged)
        }));
    }
    let mut docs = Vec::new();
    for t in tasks {
        docs.push(t.await.unwrap());
    }

    // Every document issued, each with its own 发文字号, read through either server.
    let drafter = flow[0].0.to_string();
    let mut numbers = std::collections::BTreeSet::new();
    for (i, (doc, _)) in docs.iter().enumerate() {
        let mut c = client(if i % 2 == 0 { &b } else { &a }).await;
        let d = c
            .get_document(pb::GetDocumentRequest {
                actor_id: drafter.clone(),
                document_id: doc.to_string(),
                as_of_version: None,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(d.state, pb::State::Issued as i32);
        numbers.insert(d.issue.unwrap().document_number);
    }
    assert_eq!(numbers.len(), docs.len(), "{numbers:?}");

    // The subscriber on A got every document event of the log (the directory's go only to
    // administering systems), B's included, once and in order.
    let workflow_store_head = {
        let storage = db.open();
        workflow_store::storage::EventLog::log_end(&storage)
            .unwrap()
            .unwrap()
            .position
    };
    let mut seen = Vec::new();
    while seen.last().copied() != Some(workflow_store_head) {
        let e = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("every event reaches the subscriber on A")
            .unwrap()
            .unwrap();
        seen.push(e.position);
    }
    let first = workflow_testkit::directory_events() + 1;
    assert_eq!(seen, (first..=workflow_store_head).collect::<Vec<_>>());

    // Both killed at once: every acknowledged command is in the log, the chain intact.
    drop(a);
    drop(b);
    let engine = workflow_store::Engine::with_storage(
        std::sync::Arc::new(db.open()),
        workflow_store::Config::new(&db.url),
    )
    .unwrap();
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
    for (doc, acknowledged) in &docs {
        for (command_id, version) in acknowledged {
            let o = engine
                .command_outcome(command_id)
                .unwrap()
                .unwrap_or_else(|| panic!("acknowledged {command_id} lost"));
            assert_eq!((o.document_id, o.version), (*doc, *version));
        }
    }
}

/// A local webhook receiver: every `webhook-id` it was posted, in order.
async fn receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let ids = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = ids.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let seen = seen.clone();
            async move {
                if let Some(id) = headers.get("webhook-id").and_then(|v| v.to_str().ok()) {
                    seen.lock().unwrap().push(id.to_owned());
                }
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, ids)
}

/// Takes `n` new documents to 印发, alternately through `servers`.
async fn issue_documents(servers: &[&Server], n: usize) {
    let mut sample = workflow_testkit::sample();
    sample.issue_date = workflow_core::ids::china_date(workflow_testkit::clock::wall_now());
    let flow = sample.flow(&workflow_testkit::directory());
    let mut tasks = Vec::new();
    for i in 0..n {
        let mut c = client(servers[i % servers.len()]).await;
        let flow = flow.clone();
        tasks.push(tokio::spawn(async move {
            let doc = workflow_core::DocumentId(uuid::Uuid::new_v4());
            for (actor, action) in flow.into_iter().take(workflow_testkit::steps::ISSUED) {
                let request = workflow_store::Request::new(doc, actor.clone(), action);
                if let Err(s) = workflow_grpc::client::send(&mut c, &request).await {
                    panic!("{actor}: {s:?}");
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// The notification outbox on two servers sharing one database (DESIGN §12): every notice
/// the log implies reaches the webhook, each once while both run (one server at a time holds
/// the channel); then both are killed (SIGKILL) with deliveries in flight and one restarted:
/// nothing is lost, and what comes twice comes with the same id.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_deliver_each_notice_once_and_a_kill_loses_none() {
    let db = Database::new();
    let (url, posted) = receiver().await;
    let root = tempfile::tempdir().unwrap();
    let config = root.path().join("workflow.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\nstore = {:?}\nallow_fsync_off = true\npool_size = 4\n\
             directory = {:?}\nsweep_every_secs = 0\n\
             [[systems]]\nname = \"oa-portal\"\ntoken = \"{TOKEN}\"\n\
             [notify]\nbase_url = \"https://oa.x.edu.cn\"\n\
             [[notify.channels]]\nname = \"portal\"\nkind = \"webhook\"\nurl = {url:?}\n\
             secrets = [\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"]\nretry_after_secs = 0.05\ntimeout_secs = 5\n",
            db.url,
            workflow_testkit::fixture_path().display().to_string()
        ),
    )
    .unwrap();
    let engine = || {
        workflow_store::Engine::with_storage(
            std::sync::Arc::new(db.open()),
            workflow_store::Config::new(&db.url),
        )
        .unwrap()
    };
    // Every notice id the log implies (the webhook takes every kind, for everyone).
    let implied = || -> std::collections::BTreeSet<String> {
        let (notices, _) = engine().notices(1, usize::MAX).unwrap();
        notices.into_iter().map(|n| n.id).collect()
    };
    let received = |posted: &std::sync::Mutex<Vec<String>>| -> std::collections::BTreeSet<String> {
        posted.lock().unwrap().iter().cloned().collect()
    };
    let wait_for_all = |posted: std::sync::Arc<std::sync::Mutex<Vec<String>>>| async move {
        let want = implied();
        assert!(!want.is_empty());
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        while !want.is_subset(&received(&posted)) {
            assert!(
                std::time::Instant::now() < deadline,
                "{} of {} notices delivered in two minutes",
                want.intersection(&received(&posted)).count(),
                want.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        want
    };

    let a = start(&config);
    let b = start(&config);
    issue_documents(&[&a, &b], 4).await;
    let want = wait_for_all(posted.clone()).await;
    assert_eq!(received(&posted), want, "nothing but what the log implies");
    assert_eq!(
        posted.lock().unwrap().len(),
        want.len(),
        "while both run, each notice is posted once"
    );

    // More documents, and both killed as soon as they are answered: deliveries in flight.
    issue_documents(&[&a, &b], 4).await;
    drop(a);
    drop(b);
    let _a = start(&config);
    let want = wait_for_all(posted.clone()).await;
    assert_eq!(
        received(&posted),
        want,
        "nothing lost, nothing but what the log implies"
    );
    // What the killed servers had not settled is sent again once the channel's lease ends:
    // then the channel is settled through the head, nothing given up.
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        let status = engine().outbox_status().unwrap();
        let n = |s| status.counts.get(&s).copied().unwrap_or(0);
        use workflow_store::notify::DeliveryState::{Dead, Delivered, Pending};
        // The last post may come a moment before its channel settles.
        if n(Pending) == 0 && status.settled() == status.head {
            assert_eq!(n(Dead), 0, "{status:?}");
            assert!(n(Delivered) as usize >= want.len());
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{status:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        received(&posted),
        want,
        "what came twice came with the same id"
    );
}
