//! `workflow bench`: the performance figures of DESIGN §6, measured on this machine in one
//! run, with ratios between them. Not a test: it prints, it never fails on a slow machine.
//!
//! 1. raw sled: records of the engine's bytes per command, written and flushed by one
//!    writer thread with the engine's batching (group commit) — the physical reference;
//! 2. the engine in-process: durable commands/s and p50/p99 latency with 1, 8, 64 clients;
//! 3. the engine over gRPC on loopback (the server is a child process of this binary);
//! 4. rebuild and verify, events/s (single-threaded: per core);
//! 5. cost growth with 10k, 100k (and with `--large` 1M) documents stored;
//! 6. the server's peak resident memory during (3);
//! 7. the 月通报 over 10,000 督办 items (target: under a second);
//! 8. fan-out: 8 writing clients with 0, 50 and 200 live in-process subscribers, commands/s
//!    and the process's CPU time per command (target: 200 subscribers cost at most 50% more
//!    CPU per command than none); then the same over gRPC, with the server in a child
//!    process and its CPU per command;
//! 11. notifications: commands/s with the outbox on and three channels configured (a
//!     webhook, a 企业微信 and a 钉钉 robot on a local receiver) against none (target:
//!     within 5%), and notifications delivered per second to the local webhook.
//!
//! With `--store postgres://…`, the figures on PostgreSQL instead (see [`postgres`]).

mod postgres;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde_json::json;
use tokio::sync::oneshot;
use workflow_core::{ActorId, DocumentId, outgoing::Action};
use workflow_grpc::pb;
use workflow_store::{Engine, Request};

use workflow_testkit::CAMPUS;
const TOKEN: &str = "bench-token-0123456789";

/// How big a run is.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct BenchArgs {
    /// Tiny sizes and short measurements: checks the program works (CI runs this).
    #[arg(long)]
    smoke: bool,
    /// Also measure with 1,000,000 documents stored (takes minutes).
    #[arg(long)]
    large: bool,
    /// Seconds per round of a throughput measurement (each is measured three times; medians are printed).
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Where to put the temporary data directories (default: the system temp dir).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// sled's page cache for the engines measured, in MiB.
    #[arg(long, default_value_t = 256)]
    cache_mib: u64,
    /// Keep the data directories afterwards (for profiling `verify`/`rebuild` on them).
    #[arg(long)]
    keep_data: bool,
    /// Run only these parts (comma-separated), e.g. `--only raw,engine` while profiling.
    /// `rebuild` needs `engine` (added when missing); ratios are printed when both sides ran.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Part>,
}

/// The parts of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Part {
    /// (1) raw sled.
    Raw,
    /// (2) the engine in-process.
    Engine,
    /// (4) rebuild and verify on what the engine wrote.
    Rebuild,
    /// (3) over gRPC, with the server's memory.
    Grpc,
    /// (5) cost growth.
    Growth,
    /// (2b) the engine with `durability = relaxed`, against (2) in the same run: what the
    /// sync of each group to stable storage costs.
    Durability,
    /// (7) the 月通报 over 10,000 items.
    Bulletin,
    /// (8) fan-out: commands/s and the process's CPU per command with 0, 50 and 200 live
    /// subscribers reading in-process, then the server's over gRPC.
    Fanout,
    /// (9) files: upload and download MB/s against `std::fs` writing (with fsync) and
    /// reading the same bytes; the flow with a 正文 file and an attachment named against
    /// the flow without.
    Files,
    /// (10) the issued 公文: the sample laid out and written as a PDF/A-2b, ms (≤ 200 ms),
    /// with the fonts loaded once beforehand (their load timed apart).
    Render,
    /// (11) notifications: commands/s with the outbox on and three channels against none
    /// (target: within 5%), and notifications delivered per second to a local webhook.
    Notify,
    /// (12) the 四性检测 (`check-archive`) over 10,000 archived 发文 with their 公文 as the
    /// server prints them, seconds (goal: under a minute).
    Archive,
}

/// Realistic opinions: a few hundred characters of Chinese.
fn opinion(seed: usize) -> String {
    let base = "同意。经研究，该文件内容符合学校有关规定，文种使用正确，格式规范。请起草部门进一步核实相关数据，明确责任分工和完成时限，做好与各学院、各部门的沟通协调，确保各项工作按计划推进，并及时报告工作进展情况。";
    format!("{}（{seed}）", base.repeat(3))
}

/// The fixture's sample document, numbered `n` so that every draft differs, with a body
/// of some 300 characters.
fn sample(n: usize) -> workflow_testkit::Sample {
    let mut sample = workflow_testkit::sample();
    sample.fields.title = format!("{}（第{n}号）", sample.fields.title);
    sample.fields.body = sample.fields.body.repeat(2);
    // Reviews and countersigns with realistic opinions; the sign-off's stays short.
    let keys: Vec<String> = sample
        .opinions
        .keys()
        .filter(|k| **k != sample.signatory.as_str())
        .cloned()
        .collect();
    for (i, k) in keys.into_iter().enumerate() {
        sample.opinions.insert(k, opinion(n + i));
    }
    // Issued today (China time): an issue date is never before the signature's date.
    sample.issue_date = workflow_core::ids::china_date(chrono::Utc::now());
    sample
}

/// The sample's full flow, numbered `n`: 11 commands from draft to archive (the test kit's
/// flow, on the fixture's directory).
fn flow(n: usize) -> Vec<(ActorId, Action)> {
    static DIRECTORY: std::sync::OnceLock<workflow_core::Directory> = std::sync::OnceLock::new();
    sample(n).flow(DIRECTORY.get_or_init(workflow_testkit::directory))
}

/// Throughput and latency of one measurement.
#[derive(Debug, Clone, Copy, Default)]
struct Rate {
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    commands: u64,
}

/// Rounds per measurement; the figures printed are medians.
const ROUNDS: usize = 3;

impl Rate {
    /// Each figure's median over several rounds (commands: their sum).
    fn median(rounds: Vec<Rate>) -> Rate {
        let mid = |f: fn(&Rate) -> f64| {
            let mut v: Vec<f64> = rounds.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v.get(v.len() / 2).copied().unwrap_or(0.0)
        };
        Rate {
            per_sec: mid(|r| r.per_sec),
            p50_ms: mid(|r| r.p50_ms),
            p99_ms: mid(|r| r.p99_ms),
            commands: rounds.iter().map(|r| r.commands).sum(),
        }
    }

    fn of(mut latencies: Vec<Duration>, elapsed: Duration) -> Rate {
        latencies.sort_unstable();
        let pick = |q: f64| {
            latencies
                .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        Rate {
            per_sec: latencies.len() as f64 / elapsed.as_secs_f64().max(1e-9),
            p50_ms: pick(0.50),
            p99_ms: pick(0.99),
            commands: latencies.len() as u64,
        }
    }

    fn json(&self) -> serde_json::Value {
        json!({"per_sec": round(self.per_sec), "p50_ms": round(self.p50_ms), "p99_ms": round(self.p99_ms), "commands": self.commands})
    }
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Runs `clients` loops of `work` for `seconds`, collecting every latency.
/// Runs `work` from `clients` concurrent tasks for `seconds`, [`ROUNDS`] times, and gives
/// each figure's median: single rounds on a 2-core machine swing by ±30%.
async fn measure<F, Fut>(clients: usize, seconds: f64, work: F) -> Result<Rate>
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Vec<Duration>>> + Send,
{
    let work = Arc::new(work);
    let mut rounds = Vec::with_capacity(ROUNDS);
    for k in 0..ROUNDS {
        // Rounds number their work apart, so flows never reuse a number.
        rounds.push(measure_once(clients, seconds, work.clone(), k * 1_000_000).await?);
    }
    Ok(Rate::median(rounds))
}

/// Two measurements in turns — a round of `a`, a round of `b`, and so on, [`ROUNDS`] of
/// each — giving each one's medians: what drifts while the bench runs (the machine's
/// clock, caches, files growing) falls on both alike.
async fn measure_in_turns<F, Fut, G, Gut>(
    clients: usize,
    seconds: f64,
    a: F,
    b: G,
) -> Result<(Rate, Rate)>
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Vec<Duration>>> + Send,
    G: Fn(usize, usize) -> Gut + Send + Sync + 'static,
    Gut: std::future::Future<Output = Result<Vec<Duration>>> + Send,
{
    let (a, b) = (Arc::new(a), Arc::new(b));
    let (mut of_a, mut of_b) = (Vec::new(), Vec::new());
    for k in 0..ROUNDS {
        of_a.push(measure_once(clients, seconds, a.clone(), k * 1_000_000).await?);
        of_b.push(measure_once(clients, seconds, b.clone(), k * 1_000_000).await?);
    }
    Ok((Rate::median(of_a), Rate::median(of_b)))
}

async fn measure_once<F, Fut>(
    clients: usize,
    seconds: f64,
    work: Arc<F>,
    first_round: usize,
) -> Result<Rate>
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Vec<Duration>>> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let (stop, work) = (stop.clone(), work.clone());
            tokio::spawn(async move {
                let mut all = Vec::new();
                let mut round = first_round;
                while !stop.load(Ordering::Relaxed) {
                    all.extend(work(c, round).await?);
                    round += 1;
                }
                anyhow::Ok(all)
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    Ok(Rate::of(latencies, started.elapsed()))
}

/// (1)'s measurement at each client count: records of `record_bytes` handed to a raw
/// writer by `send` (false: the writer stopped), which answers on the oneshot once the
/// record is durable; `label` names each line.
async fn raw_rates<S>(
    clients: &[usize],
    seconds: f64,
    record_bytes: usize,
    send: S,
    label: impl Fn(usize) -> String,
) -> Result<Vec<Rate>>
where
    S: Fn(Vec<u8>, oneshot::Sender<()>) -> bool + Clone + Send + Sync + 'static,
{
    let mut rates = Vec::new();
    for &c in clients {
        let (send, record) = (send.clone(), vec![b'x'; record_bytes]);
        let r = measure(c, seconds, move |_, _| {
            let (send, record) = (send.clone(), record.clone());
            async move {
                let t = Instant::now();
                let (reply, wait) = oneshot::channel();
                anyhow::ensure!(send(record, reply), "the raw writer stopped");
                wait.await?;
                Ok(vec![t.elapsed()])
            }
        })
        .await?;
        rate_line(&label(c), &r, None);
        rates.push(r);
    }
    Ok(rates)
}

/// Where raw-sled clients send a record and wait for it to be flushed.
type RawSender = std::sync::mpsc::Sender<(Vec<u8>, oneshot::Sender<()>)>;

/// (1) The raw sled reference: the same group commit, no domain, no projections, and the
/// same durability as the engine's default: sled's flush, then `fdatasync` of its data file.
fn raw_sled(dir: &Path) -> Result<(RawSender, std::thread::JoinHandle<()>)> {
    let db = sled::Config::new()
        .path(dir)
        .cache_capacity(256 * 1024 * 1024)
        .open()?;
    let tree = db.open_tree("log")?;
    let data_file = std::fs::File::open(dir.join("db"))?;
    let (tx, rx) = std::sync::mpsc::channel::<(Vec<u8>, oneshot::Sender<()>)>();
    let handle = std::thread::spawn(move || {
        let mut key = 0u64;
        while let Ok(first) = rx.recv() {
            let mut group = vec![first];
            while group.len() < 512 {
                match rx.try_recv() {
                    Ok(x) => group.push(x),
                    Err(_) => break,
                }
            }
            let mut batch = sled::Batch::default();
            for (bytes, _) in &group {
                key += 1;
                batch.insert(&key.to_be_bytes(), bytes.as_slice());
            }
            if tree.apply_batch(batch).is_err()
                || db.flush().is_err()
                || data_file.sync_data().is_err()
            {
                return;
            }
            for (_, reply) in group {
                let _ = reply.send(());
            }
        }
    });
    Ok((tx, handle))
}

async fn load_directory(engine: &Engine) -> Result<()> {
    engine
        .load_directory_json(CAMPUS, "bench", "the campus fixture")
        .await?;
    Ok(())
}

/// Bytes the engine writes per command of the flow: the envelopes plus what the state
/// projection writes, read from a sled store: the document's record and the parts the
/// command added or changed. With `whole_records`, the record with its parts instead, as
/// the PostgreSQL backend still writes it.
async fn bytes_per_command(dir: &Path, whole_records: bool) -> Result<usize> {
    let engine = Engine::open(dir)?;
    load_directory(&engine).await?;
    let state = |engine: &Engine| -> Result<std::collections::HashMap<(String, Vec<u8>), _>> {
        Ok(engine
            .dump_projections()?
            .into_iter()
            .filter(|(part, _, _)| part == "docs" || part == "parts")
            .map(|(part, k, v)| ((part, k), v))
            .collect())
    };
    let id = DocumentId(uuid::Uuid::new_v4());
    let mut total = 0usize;
    let steps = flow(0);
    let n = steps.len();
    let mut before = state(&engine)?;
    for (actor, action) in steps {
        let o = engine.execute(Request::new(id, actor, action)).await?;
        for e in &o.events {
            total += serde_json::to_vec(e)?.len();
        }
        if whole_records {
            total += serde_json::to_vec(&engine.document(id)?)?.len();
            continue;
        }
        let after = state(&engine)?;
        total += after
            .iter()
            .filter(|(k, v)| before.get(*k) != Some(*v))
            .map(|(_, v)| v.len())
            .sum::<usize>();
        before = after;
    }
    Ok(total / n)
}

async fn engine_flows(engine: Engine, clients: usize, seconds: f64) -> Result<Rate> {
    engine_flows_naming(engine, clients, seconds, None).await
}

/// The flows of [`engine_flows`], each draft naming `files` when given.
async fn engine_flows_naming(
    engine: Engine,
    clients: usize,
    seconds: f64,
    files: Option<workflow_core::content::DocumentFiles>,
) -> Result<Rate> {
    measure(clients, seconds, flows_on(engine, files)).await
}

/// One client's run of the sample flow: each command's latency.
type FlowWork = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Vec<Duration>>> + Send>>;

/// The work of one client in [`engine_flows_naming`]: a new document through the sample
/// flow, each command's latency.
fn flows_on(
    engine: Engine,
    files: Option<workflow_core::content::DocumentFiles>,
) -> impl Fn(usize, usize) -> FlowWork + Send + Sync + 'static {
    move |c, round| {
        let engine = engine.clone();
        let files = files.clone();
        Box::pin(async move {
            let id = DocumentId(uuid::Uuid::new_v4());
            let mut lat = Vec::with_capacity(11);
            let mut steps = flow(c * 1_000_000 + round);
            if let (Some(files), Some((_, Action::Draft(fields)))) = (files, steps.first_mut()) {
                fields.files = files;
            }
            for (actor, action) in steps {
                let t = Instant::now();
                engine.execute(Request::new(id, actor, action)).await?;
                lat.push(t.elapsed());
            }
            Ok(lat)
        })
    }
}

type Client = pb::document_workflow_client::DocumentWorkflowClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Auth>,
>;

#[derive(Clone)]
struct Auth(tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl tonic::service::Interceptor for Auth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        req.metadata_mut().insert("authorization", self.0.clone());
        Ok(req)
    }
}

/// One full flow over gRPC, timing each call: each step of [`flow`] sent as its RPC.
async fn grpc_flow(mut client: Client, n: usize) -> Result<Vec<Duration>> {
    let id = DocumentId(uuid::Uuid::new_v4());
    let mut lat = Vec::with_capacity(11);
    for (actor, action) in flow(n) {
        let t = Instant::now();
        workflow_grpc::client::send(&mut client, &Request::new(id, actor, action)).await?;
        lat.push(t.elapsed());
    }
    Ok(lat)
}

/// The server child process and its address.
struct ServerChild {
    child: std::process::Child,
    addr: String,
}

impl ServerChild {
    fn start(dir: &Path) -> Result<ServerChild> {
        Self::start_on(dir, None)
    }

    /// A server on the data directory `dir/data`, or on the PostgreSQL store `store`.
    fn start_on(dir: &Path, store: Option<&str>) -> Result<ServerChild> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let directory = dir.join("campus.json");
        std::fs::write(&directory, CAMPUS)?;
        let config = dir.join("bench.toml");
        std::fs::write(
            &config,
            format!(
                "listen = \"127.0.0.1:{port}\"\ndata_dir = \"data\"\n{store}directory = \"campus.json\"\n[[systems]]\nname = \"bench\"\ntoken = \"{TOKEN}\"\n",
                store = store.map_or(String::new(), |url| format!("store = {url:?}\n"))
            ),
        )?;
        let child = std::process::Command::new(std::env::current_exe()?)
            .arg("--config")
            .arg(&config)
            .arg("serve")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .context("starting the server child")?;
        Ok(ServerChild {
            child,
            addr: format!("http://127.0.0.1:{port}"),
        })
    }

    async fn client(&self) -> Result<Client> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match tonic::transport::Endpoint::from_shared(self.addr.clone())?
                .connect()
                .await
            {
                Ok(ch) => {
                    let auth = Auth(format!("Bearer {TOKEN}").parse()?);
                    return Ok(
                        pb::document_workflow_client::DocumentWorkflowClient::with_interceptor(
                            ch, auth,
                        ),
                    );
                }
                Err(e) if Instant::now() > deadline => {
                    return Err(e).context("the server child did not come up");
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// The server's CPU time so far (user and system), in milliseconds.
    fn cpu_ms(&self) -> f64 {
        process_cpu_ms(&format!("/proc/{}/stat", self.child.id()))
    }

    /// Peak resident set size of the server so far, in MiB (Linux `VmHWM`).
    fn peak_rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Stores `n` documents (drafted and submitted: 2 events each) with 64 concurrent loaders.
/// Mean time of a first to-do page for the reviewer every populated document waits for.
fn inbox_page_ms(engine: &Engine) -> Result<f64> {
    let query = workflow_store::ListQuery {
        page_size: 20,
        ..Default::default()
    };
    let reviewer = workflow_core::ActorId::from("li.qiang");
    let rounds = 20;
    let t = Instant::now();
    for _ in 0..rounds {
        anyhow::ensure!(
            engine.inbox(&reviewer, &query)?.documents().len() == 20,
            "the reviewer's to-do list is shorter than a page"
        );
    }
    Ok(t.elapsed().as_secs_f64() * 1000.0 / f64::from(rounds))
}

/// The console's pages over the store as it is, each served in-process by the console's
/// router (no socket: the server's own time) and timed over several rounds, median in ms:
/// the reviewer's 待办 (every stored document waits for him: a full page of 500, the menu's
/// count and the batch checks), the drafter's 已办 and 我发起的 (every stored document is
/// hers), a card, and 查询 by a common word and by a word in one title only (without the
/// keyword index a scan of everything: the case the index is for, DESIGN §13; timed once
/// the index covers what is stored, as on a server that has been running).
async fn console_pages_ms(engine: &Engine, n: usize) -> Result<Vec<(&'static str, f64)>> {
    use tower::ServiceExt as _;
    let clock: workflow_store::Clock = std::sync::Arc::new(chrono::Utc::now);
    let app = workflow_web::router(
        engine.clone(),
        workflow_web::WebConfig::dev(([127, 0, 0, 1], 0).into()),
        clock,
    )?;
    let one = engine
        .list(&workflow_store::ListQuery {
            page_size: 1,
            ..Default::default()
        })?
        .states
        .first()
        .map(|s| s.id())
        .ok_or_else(|| anyhow::anyhow!("nothing stored for the console's pages"))?;
    let rare = format!(
        "/search?q={}",
        percent_encoding::utf8_percent_encode(
            &format!("第{}号", n / 2),
            percent_encoding::NON_ALPHANUMERIC
        )
    );
    let card = format!("/doc/{one}");
    let pages: [(&'static str, &str, &str); 6] = [
        ("待办 (500 a page)", "li.qiang", "/todo"),
        ("已办", "wang.fang", "/done"),
        ("我发起的", "wang.fang", "/mine"),
        ("a card", "li.qiang", card.as_str()),
        (
            "查询, a common word",
            "li.qiang",
            "/search?q=%E6%9C%9F%E6%9C%AB",
        ),
        ("查询, a word in one title", "li.qiang", rare.as_str()),
    ];
    let mut out = Vec::new();
    for (name, actor, path) in pages {
        let mut times = Vec::new();
        for _ in 0..ROUNDS {
            let mut request = axum::http::Request::get(path)
                .header("cookie", format!("wf_actor={actor}"))
                .body(axum::body::Body::empty())?;
            // As from a browser on this machine (dev sign-in answers no other).
            request.extensions_mut().insert(axum::extract::ConnectInfo(
                std::net::SocketAddr::from(([127, 0, 0, 1], 40000)),
            ));
            let t = Instant::now();
            let response = app.clone().oneshot(request).await?;
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX).await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            anyhow::ensure!(
                status.is_success() && !body.is_empty(),
                "the console's {name} ({path}) answered {status}"
            );
        }
        times.sort_by(f64::total_cmp);
        out.push((name, times[ROUNDS / 2]));
    }
    Ok(out)
}

/// Waits until the keyword index covers the log (at most ten minutes): the seconds waited.
fn search_indexed(engine: &Engine) -> Result<f64> {
    let t = Instant::now();
    loop {
        let status = engine.search_status();
        if let Some(problem) = &status.problem {
            anyhow::bail!("the keyword index failed: {problem}");
        }
        if status.ready && status.indexed_through >= engine.head() {
            return Ok(t.elapsed().as_secs_f64());
        }
        anyhow::ensure!(
            t.elapsed() < std::time::Duration::from_secs(600),
            "the keyword index did not catch up in ten minutes: {status:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

async fn populate(engine: &Engine, already: usize, n: usize) -> Result<()> {
    let per = n.saturating_sub(already).div_ceil(64);
    let tasks: Vec<_> = (0..64)
        .map(|c| {
            let engine = engine.clone();
            tokio::spawn(async move {
                for i in 0..per {
                    let id = DocumentId(uuid::Uuid::new_v4());
                    let k = already + c * per + i;
                    for (actor, action) in
                        flow(k).into_iter().take(workflow_testkit::steps::IN_REVIEW)
                    {
                        engine.execute(Request::new(id, actor, action)).await?;
                    }
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// The month the bulletin part reports on: the last full month.
fn bulletin_month() -> workflow_core::supervision::bulletin::Month {
    use chrono::Datelike;
    let this = workflow_core::supervision::bulletin::month_of(chrono::Utc::now());
    let last_day = this.first_day() - chrono::Duration::days(1);
    workflow_core::supervision::bulletin::Month::new(last_day.year(), last_day.month())
        .unwrap_or(this)
}

/// Stores `n` 督办 items opened over `month` and the one before it, in four lead units, each
/// with the history a real one has: signed for, weekly or monthly feedback (some missed),
/// every fourth extended, about half reported and closed (some late), some overdue at the
/// month's end. Returns the commands given.
async fn populate_items(
    engine: &Engine,
    n: usize,
    month: workflow_core::supervision::bulletin::Month,
) -> Result<usize> {
    use workflow_core::supervision::{Frequency, SupervisionAction as A};
    const UNITS: [(&str, &str); 4] = [
        ("JWC", "fang.yu"),
        ("RSC", "guo.tao"),
        ("KYC", "wu.gang"),
        ("XSC", "ye.qing"),
    ];
    const TASKS: usize = 32;
    let origin = month.start() - chrono::Duration::days(30);
    let tasks: Vec<_> = (0..TASKS)
        .map(|t| {
            let engine = engine.clone();
            tokio::spawn(async move {
                let mut commands = 0usize;
                for k in (t..n).step_by(TASKS) {
                    let id = DocumentId(uuid::Uuid::new_v4());
                    let (unit, handler) = UNITS[k % UNITS.len()];
                    let opened = origin + chrono::Duration::hours((k % (55 * 24)) as i64);
                    let deadline = workflow_core::ids::china_date(opened)
                        + chrono::Duration::days(10 + (k % 30) as i64);
                    let mut spec = workflow_testkit::supervision::item_spec(deadline);
                    spec.lead_unit = unit.into();
                    let (co_unit, co_handler) = UNITS[(k + 1) % UNITS.len()];
                    spec.co_units = vec![co_unit.into()];
                    spec.feedback = if k % 2 == 0 {
                        Frequency::Weekly
                    } else {
                        Frequency::Monthly
                    };
                    spec.title = format!("{}（第{k}项）", spec.title);
                    let day =
                        |d: i64| opened + chrono::Duration::days(d) + chrono::Duration::hours(1);
                    let mut steps = vec![
                        (opened, "ding.xin", A::OpenItem { spec }),
                        (
                            day(0),
                            handler,
                            A::AcceptItem {
                                note: String::new(),
                            },
                        ),
                    ];
                    if k % 3 != 0 {
                        steps.push((
                            day(6),
                            handler,
                            A::ReportProgress {
                                text: format!("已完成第{}阶段工作。", k % 5 + 1),
                                percent: Some(50),
                            },
                        ));
                    }
                    if k % 4 == 0 {
                        steps.push((
                            day(7),
                            handler,
                            A::RequestItemExtension {
                                until: deadline + chrono::Duration::days(7),
                                reason: "工作量较大。".into(),
                            },
                        ));
                        steps.push((
                            day(8),
                            "ding.xin",
                            A::DecideItemExtension {
                                grant: k % 8 == 0,
                                reason: "请按期完成。".into(),
                            },
                        ));
                    }
                    if k % 2 == 0 {
                        let reported = if k % 10 == 0 { 45 } else { 9 };
                        // The 协办 unit's input, which 销号 waits for.
                        steps.push((
                            day(reported),
                            co_handler,
                            A::GiveItemInput {
                                text: "已按分工完成协办事项。".into(),
                            },
                        ));
                        steps.push((
                            day(reported),
                            handler,
                            A::ReportCompletion {
                                result: "已按要求完成，形成工作报告一份。".into(),
                            },
                        ));
                        steps.push((
                            day(reported + 1),
                            "ding.xin",
                            A::CloseItem {
                                note: String::new(),
                                grade: None,
                            },
                        ));
                    }
                    for (at, actor, action) in steps {
                        let mut r = Request::new(id, actor, action);
                        r.at = Some(at);
                        engine.execute(r).await?;
                        commands += 1;
                    }
                }
                anyhow::Ok(commands)
            })
        })
        .collect();
    let mut commands = 0;
    for t in tasks {
        commands += t.await??;
    }
    Ok(commands)
}

/// This process's CPU time so far (user + system), in milliseconds: `/proc/self/stat`'s
/// utime and stime, in the kernel's fixed 100 ticks per second.
fn cpu_ms() -> f64 {
    process_cpu_ms("/proc/self/stat")
}

/// The CPU time (user and system) of the process whose `stat` file is `path`, in ms.
fn process_cpu_ms(path: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(path) else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) * 10.0
}

/// 8 writing clients for `seconds` with `subscribers` live in-process subscribers reading
/// every event: the rate, the CPU per command, and the events the subscribers received.
async fn fanout(engine: &Engine, subscribers: usize, seconds: f64) -> Result<(Rate, f64, u64)> {
    use futures::StreamExt;
    let delivered = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let from = engine.head() + 1;
    let readers: Vec<_> = (0..subscribers)
        .map(|_| {
            let mut stopped = stopped.clone();
            let mut events = Box::pin(
                engine
                    .subscribe_shared(from, Default::default())
                    .take_until(async move {
                        let _ = stopped.wait_for(|s| *s).await;
                    }),
            );
            let delivered = delivered.clone();
            tokio::spawn(async move {
                while let Some(Ok(_)) = events.next().await {
                    delivered.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let cpu = cpu_ms();
    let r = engine_flows(engine.clone(), 8, seconds).await?;
    let cpu = cpu_ms() - cpu;
    let _ = stop.send(true);
    for reader in readers {
        let _ = reader.await;
    }
    Ok((
        r,
        cpu / r.commands.max(1) as f64,
        delivered.load(Ordering::Relaxed),
    ))
}

/// 8 writing gRPC clients for `seconds` with `subscribers` live gRPC subscribers (one
/// connection each, as separate campus systems would have) reading every event: the rate,
/// the server's CPU per command, and the events the subscribers received.
async fn fanout_grpc(
    server: &ServerChild,
    subscribers: usize,
    seconds: f64,
) -> Result<(Rate, f64, u64)> {
    use futures::StreamExt;
    let delivered = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let writer = server.client().await?;
    let head = writer
        .clone()
        .get_log_head(pb::GetLogHeadRequest {})
        .await?
        .into_inner()
        .position;
    let mut readers = Vec::with_capacity(subscribers);
    for _ in 0..subscribers {
        let mut events = server
            .client()
            .await?
            .subscribe(pb::SubscribeRequest {
                from_position: head + 1,
                ..Default::default()
            })
            .await?
            .into_inner();
        let delivered = delivered.clone();
        readers.push(tokio::spawn(async move {
            while let Some(Ok(_)) = events.next().await {
                delivered.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let cpu = server.cpu_ms();
    let r = measure(8, seconds, move |c, round| {
        grpc_flow(writer.clone(), c * 1_000_000 + round)
    })
    .await?;
    let cpu = server.cpu_ms() - cpu;
    for reader in readers {
        reader.abort();
    }
    Ok((
        r,
        cpu / r.commands.max(1) as f64,
        delivered.load(Ordering::Relaxed),
    ))
}

/// Where the writer's time went, per command, by phase.
fn profile_line(clients: usize, p: &workflow_store::telemetry::WriterProfile) {
    let per = |d: Duration| d.as_secs_f64() * 1e6 / p.commands.max(1) as f64;
    let phases: Vec<String> = workflow_store::telemetry::PHASES
        .iter()
        .zip(p.phases)
        .map(|(name, d)| format!("{name} {:.0}", per(d)))
        .collect();
    line(
        &format!("  writer, {clients} clients: µs per command"),
        format!(
            "{}  ({:.1} commands per group)",
            phases.join(", "),
            p.commands as f64 / p.groups.max(1) as f64
        ),
    );
}

fn profile_json(clients: usize, p: &workflow_store::telemetry::WriterProfile) -> serde_json::Value {
    let per = |d: Duration| round(d.as_secs_f64() * 1e6 / p.commands.max(1) as f64);
    let phases: serde_json::Map<String, serde_json::Value> = workflow_store::telemetry::PHASES
        .iter()
        .zip(p.phases)
        .map(|(name, d)| ((*name).to_owned(), json!(per(d))))
        .collect();
    json!({"clients": clients, "groups": p.groups, "commands": p.commands, "us_per_command": phases})
}

/// A throughput line, with its ratio to a reference measured in the same run when there is one.
fn rate_line(name: &str, r: &Rate, reference: Option<(&Rate, &str)>) {
    let ratio = reference.map_or(String::new(), |(base, what)| {
        format!(
            "  = {:.0}% of {what}",
            100.0 * r.per_sec / base.per_sec.max(1e-9)
        )
    });
    line(
        name,
        format!(
            "{:.0}  (p50 {:.2} ms, p99 {:.2} ms){ratio}",
            r.per_sec, r.p50_ms, r.p99_ms
        ),
    );
}

fn line(name: &str, value: String) {
    println!("{name:<52} {value}");
}

/// Removes what a part of the benchmark left in `base` once it is measured (unless the data
/// is to be kept): a smoke run's stores come to some hundreds of MB, and a CI machine's disk
/// once ran out under the suite with all of them kept to the end.
fn tidy(base: &Path, keep: bool) -> Result<()> {
    if keep {
        return Ok(());
    }
    for entry in std::fs::read_dir(base)? {
        let path = entry?.path();
        if path.is_dir() {
            std::fs::remove_dir_all(&path)?;
        } else {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

/// Runs the benchmark and prints its figures and a JSON summary.
pub(crate) fn run(args: BenchArgs, store: Option<String>) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run_async(args, store))
}

async fn run_async(args: BenchArgs, store: Option<String>) -> Result<()> {
    let base = match &args.dir {
        Some(d) => tempfile::tempdir_in(d)?,
        None => tempfile::tempdir()?,
    };
    let seconds = if args.smoke { 0.3 } else { args.seconds };
    let clients: &[usize] = &[1, 8, 64];
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    println!(
        "workflow bench: {cores} cores, medians of {ROUNDS} rounds of {seconds}s per measurement{}",
        if args.smoke { " (smoke)" } else { "" }
    );
    let mut summary = serde_json::Map::new();
    summary.insert("cores".into(), json!(cores));
    summary.insert("seconds_per_measurement".into(), json!(seconds));
    summary.insert("rounds_per_measurement".into(), json!(ROUNDS));

    let runs = |part: Part| {
        args.only.is_empty()
            || args.only.contains(&part)
            || (part == Part::Engine && args.only.contains(&Part::Rebuild))
    };
    let on_postgres = store.as_deref().is_some_and(crate::config::is_postgres);
    let record_bytes = bytes_per_command(&base.path().join("sample"), on_postgres).await?;
    line(
        if on_postgres {
            "bytes written per command (event + whole state record)"
        } else {
            "bytes written per command (event + state record + new parts)"
        },
        format!("{record_bytes}"),
    );
    summary.insert("bytes_per_command".into(), json!(record_bytes));

    if let Some(url) = store.filter(|s| crate::config::is_postgres(s)) {
        postgres::run(&url, seconds, clients, record_bytes, &mut summary).await?;
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::Value::Object(summary))?
        );
        return Ok(());
    }

    // (1) raw sled
    let raw = if runs(Part::Raw) {
        let raw = part_raw(base.path(), clients, seconds, record_bytes, &mut summary).await?;
        tidy(base.path(), args.keep_data)?;
        raw
    } else {
        Vec::new()
    };
    // (2) the engine in-process (with (2b) and (4))
    let inproc = if runs(Part::Engine) {
        let inproc = part_engine(base.path(), clients, seconds, &raw, &runs, &mut summary).await?;
        tidy(base.path(), args.keep_data)?;
        inproc
    } else {
        Vec::new()
    };
    if runs(Part::Grpc) {
        part_grpc(base.path(), clients, seconds, &inproc, &mut summary).await?;
        tidy(base.path(), args.keep_data)?;
    }
    if runs(Part::Growth) {
        part_growth(&args, base.path(), seconds, &mut summary).await?;
        tidy(base.path(), args.keep_data)?;
    }
    if runs(Part::Fanout) {
        part_fanout(base.path(), seconds, &mut summary).await?;
        tidy(base.path(), args.keep_data)?;
    }
    if runs(Part::Bulletin) {
        part_bulletin(&args, base.path(), &mut summary).await?;
        tidy(base.path(), args.keep_data)?;
    }
    if runs(Part::Files) {
        part_files(&args, base.path(), seconds, &mut summary).await?;
        tidy(base.path(), args.keep_data)?;
    }
    if runs(Part::Render) {
        part_render(&args, &mut summary)?;
    }
    if runs(Part::Archive) {
        part_archive(&args, base.path(), &mut summary).await?;
    }
    if runs(Part::Notify) {
        part_notify(base.path(), clients, seconds, args.smoke, &mut summary).await?;
        tidy(base.path(), args.keep_data)?;
    }

    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::Value::Object(summary))?
    );
    if args.keep_data {
        let kept = base.keep();
        eprintln!("data kept in {}", kept.display());
    }
    Ok(())
}

/// (1) raw sled: records of a command's size, flushed and synced, per client count.
async fn part_raw(
    base: &Path,
    clients: &[usize],
    seconds: f64,
    record_bytes: usize,
    summary: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<Rate>> {
    let (tx, writer) = raw_sled(&base.join("raw"))?;
    let send = move |record, reply| tx.send((record, reply)).is_ok();
    let raw = raw_rates(clients, seconds, record_bytes, send, |c| {
        format!("raw sled (flush + fdatasync), {c} clients: records/s")
    })
    .await?;
    let _ = writer.join();
    summary.insert(
        "raw_sled".into(),
        json!(
            clients
                .iter()
                .zip(&raw)
                .map(|(c, r)| json!({"clients": c, "rate": r.json()}))
                .collect::<Vec<_>>()
        ),
    );
    Ok(raw)
}

/// (2) the engine in-process, per client count; (2b) with durability relaxed and (4)
/// rebuild and verify on what it wrote, when those parts run too.
async fn part_engine(
    base: &Path,
    clients: &[usize],
    seconds: f64,
    raw: &[Rate],
    runs: &dyn Fn(Part) -> bool,
    summary: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<Vec<Rate>> {
    let mut inproc = Vec::new();
    let engine_dir = base.join("engine");
    let engine = Engine::open(&engine_dir)?;
    load_directory(&engine).await?;
    let mut profiles = Vec::new();
    for (i, &c) in clients.iter().enumerate() {
        let before = workflow_store::telemetry::writer_profile();
        let r = engine_flows(engine.clone(), c, seconds).await?;
        let profile = workflow_store::telemetry::writer_profile().since(&before);
        rate_line(
            &format!("engine in-process, {c} clients: commands/s"),
            &r,
            raw.get(i).map(|raw| (raw, "raw sled")),
        );
        profile_line(c, &profile);
        profiles.push(profile_json(c, &profile));
        inproc.push(r);
    }
    summary.insert("writer_profile".into(), json!(profiles));
    summary.insert(
    "engine".into(),
    json!(clients.iter().zip(&inproc).enumerate().map(|(i, (c, r))| json!({"clients": c, "rate": r.json(), "ratio_to_raw_sled": raw.get(i).map(|raw| round(r.per_sec / raw.per_sec.max(1e-9)))})).collect::<Vec<_>>()),
);
    if runs(Part::Durability) {
        part_durability(base, clients, seconds, &inproc, summary).await?;
    }
    if runs(Part::Rebuild) {
        part_rebuild(&engine, summary).await?;
    }
    drop(engine);
    Ok(inproc)
}

/// (2b) the engine with durability relaxed: the cost of syncing each group.
async fn part_durability(
    base: &Path,
    clients: &[usize],
    seconds: f64,
    inproc: &[Rate],
    summary: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let relaxed = Engine::open_with(workflow_store::Config {
        durability: workflow_store::Durability::Relaxed,
        ..workflow_store::Config::new(base.join("engine-relaxed"))
    })?;
    load_directory(&relaxed).await?;
    let mut rows = Vec::new();
    for (i, &c) in clients.iter().enumerate() {
        let r = engine_flows(relaxed.clone(), c, seconds).await?;
        rate_line(
            &format!("engine, durability relaxed, {c} clients: commands/s"),
            &r,
            None,
        );
        let strict = &inproc[i];
        line(
            &format!("  strict (synced) / relaxed, {c} clients"),
            format!("{:.0}%", 100.0 * strict.per_sec / r.per_sec.max(1e-9)),
        );
        rows.push(json!({"clients": c, "rate": r.json(), "strict_over_relaxed": round(strict.per_sec / r.per_sec.max(1e-9))}));
    }
    summary.insert("engine_relaxed".into(), json!(rows));
    Ok(())
}

/// Median of [`ROUNDS`] timings of `f`, as MB/s of `bytes` each; `f` is given the round
/// and the round's bytes, made before the clock starts.
fn mb_per_sec(
    bytes: usize,
    make: impl Fn(usize) -> Vec<u8>,
    mut f: impl FnMut(usize, &[u8]) -> Result<()>,
) -> Result<f64> {
    let mut rates = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let data = make(round);
        let t = Instant::now();
        f(round, &data)?;
        rates.push(bytes as f64 / f64::from(1u32 << 20) / t.elapsed().as_secs_f64().max(1e-9));
    }
    rates.sort_by(f64::total_cmp);
    Ok(rates[rates.len() / 2])
}

/// (9) files: a file uploaded (spooled, hashed, checked, synced, renamed, its folders
/// synced) and downloaded through a document, against `std::fs` writing the same bytes to a
/// new file and syncing it, and reading them back; and the flow naming files against the
/// flow without.
async fn part_files(
    args: &BenchArgs,
    base: &Path,
    seconds: f64,
    summary: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    use std::io::{Read, Write};
    let size: usize = if args.smoke { 2 << 20 } else { 20 << 20 };
    let dir = base.join("files");
    let engine = Engine::open(&dir)?;
    load_directory(&engine).await?;
    // Each round's bytes differ (a kept file is not kept twice).
    let bytes = |round: usize, salt: u8| -> Vec<u8> {
        let mut b = b"%PDF-1.7\n".to_vec();
        b.extend((0..size - b.len()).map(|i| (i as u8) ^ (round as u8) ^ salt));
        b
    };
    let reference_dir = dir.join("reference");
    std::fs::create_dir_all(&reference_dir)?;
    let write_ref = mb_per_sec(
        size,
        |round| bytes(round, 1),
        |round, data| {
            let mut f = std::fs::File::create(reference_dir.join(format!("{round}.pdf")))?;
            f.write_all(data)?;
            f.sync_all()?;
            Ok(())
        },
    )?;
    let drafter = workflow_testkit::sample().drafter;
    let by = engine.reader("bench", drafter.as_str())?;
    let mut kept = Vec::new();
    let upload = mb_per_sec(
        size,
        |round| bytes(round, 2),
        |_, data| {
            let mut up = engine.upload(&by, "正文.pdf")?;
            for chunk in data.chunks(1 << 20) {
                up.write(chunk)?;
            }
            kept.push(up.finish(None)?);
            Ok(())
        },
    )?;
    let read_ref = mb_per_sec(
        size,
        |_| Vec::new(),
        |round, _| {
            let mut f = std::fs::File::open(reference_dir.join(format!("{round}.pdf")))?;
            let mut buf = vec![0u8; 1 << 20];
            while f.read(&mut buf)? > 0 {}
            Ok(())
        },
    )?;
    // A draft naming the first file, for the downloads and the flows.
    let main = kept.first().cloned().context("no file uploaded")?;
    let attachment = kept.get(1).cloned().context("no second file uploaded")?;
    let files = workflow_core::content::DocumentFiles {
        main: Some(Box::new(main.clone())),
        attachments: vec![attachment],
    };
    let id = DocumentId(uuid::Uuid::new_v4());
    let mut draft = flow(9_999_999).swap_remove(0);
    if let Action::Draft(fields) = &mut draft.1 {
        fields.files = files.clone();
    }
    engine.execute(Request::new(id, draft.0, draft.1)).await?;
    let mut download_rounds = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let (_, total, first) = engine.read_file(&by, id, &main.digest, 0, 1 << 20).await?;
        let mut offset = first.len() as u64;
        while offset < total {
            offset += engine
                .file_bytes(&main.digest, offset, 1 << 20)
                .await?
                .len() as u64;
        }
        download_rounds
            .push(size as f64 / f64::from(1u32 << 20) / t.elapsed().as_secs_f64().max(1e-9));
    }
    download_rounds.sort_by(f64::total_cmp);
    let download = download_rounds[download_rounds.len() / 2];
    line(
        "files: std::fs write + fsync, MB/s (reference)",
        format!("{write_ref:.0}"),
    );
    line(
        "files: upload (spool, SHA-256, check, fsync, rename, folder syncs), MB/s",
        format!(
            "{upload:.0} ({:.0}% of the reference; goal ≥ 50%)",
            100.0 * upload / write_ref.max(1e-9)
        ),
    );
    line(
        "files: std::fs read, MB/s (reference)",
        format!("{read_ref:.0}"),
    );
    line(
        "files: download through a document, MB/s",
        format!(
            "{download:.0} ({:.0}% of the reference; goal ≥ 50%)",
            100.0 * download / read_ref.max(1e-9)
        ),
    );
    let mut flows = Vec::new();
    for c in [1usize, 8] {
        let plain = engine_flows(engine.clone(), c, seconds).await?;
        let named = engine_flows_naming(engine.clone(), c, seconds, Some(files.clone())).await?;
        rate_line(
            &format!("flow naming a 正文 and an attachment, {c} clients: commands/s"),
            &named,
            Some((&plain, "the flow naming none")),
        );
        flows.push(json!({"clients": c, "plain": plain.json(), "naming_files": named.json(), "ratio": round(named.per_sec / plain.per_sec.max(1e-9))}));
    }
    summary.insert(
        "files".into(),
        json!({
            "bytes": size,
            "write_reference_mb_s": round(write_ref),
            "upload_mb_s": round(upload),
            "upload_ratio": round(upload / write_ref.max(1e-9)),
            "read_reference_mb_s": round(read_ref),
            "download_mb_s": round(download),
            "download_ratio": round(download / read_ref.max(1e-9)),
            "flows": flows,
        }),
    );
    Ok(())
}

/// (10) the issued 公文: the fixture's sample, issued in the pure core, rendered repeatedly
/// with the fonts loaded once (as a server keeps them).
fn part_render(
    args: &BenchArgs,
    summary: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let t = Instant::now();
    let fonts = workflow_render::Fonts::load(&workflow_render::FontFiles::debian())?;
    let renderer = workflow_render::Renderer::new(fonts);
    let load_ms = t.elapsed().as_secs_f64() * 1000.0;
    let mut script = workflow_testkit::script::Script::new();
    script.issued();
    let units: Vec<_> = workflow_testkit::directory().units().cloned().collect();
    let issued = workflow_render::Issued::with_units(script.doc(), &units)?;
    // Each rendering a document of its own (another 发文字号), so that typst's memoized
    // layout of an earlier one is no help; the first (cold) is timed apart.
    let numbered = |i: usize| {
        let mut d = issued.clone();
        d.number = format!("X校发〔2026〕{}号", 100 + i);
        d.document_id = format!("{}-{i}", d.document_id);
        d.title = format!("{}（第{i}号）", d.title);
        d
    };
    let t = Instant::now();
    renderer.render(&numbered(0))?;
    let first_ms = t.elapsed().as_secs_f64() * 1000.0;
    let n = if args.smoke { 3 } else { 15 };
    let mut ms = Vec::with_capacity(n);
    for i in 1..=n {
        let d = numbered(i);
        let t = Instant::now();
        renderer.render(&d)?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    let median = ms[ms.len() / 2];
    line("render: fonts loaded once, ms", format!("{load_ms:.0}"));
    line("render: the first document, ms", format!("{first_ms:.0}"));
    line(
        "render: the sample 公文 as a PDF/A-2b, ms (goal ≤ 200)",
        format!(
            "{median:.0} (fastest {:.0}, slowest {:.0})",
            ms[0],
            ms[ms.len() - 1]
        ),
    );
    summary.insert(
        "render".into(),
        json!({"font_load_ms": round(load_ms), "first_ms": round(first_ms), "render_ms": round(median)}),
    );
    Ok(())
}

/// (4) rebuild (in place, from scratch) and verify on what the engine wrote.
async fn part_rebuild(
    engine: &Engine,
    summary: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let events = engine.head();
    let t = Instant::now();
    engine.rebuild(|_, _| {}).await?;
    let rebuild_rate = events as f64 / t.elapsed().as_secs_f64().max(1e-9);
    let t = Instant::now();
    engine.rebuild_from_scratch(|_, _| {}).await?;
    let scratch_rate = events as f64 / t.elapsed().as_secs_f64().max(1e-9);
    let t = Instant::now();
    let report = engine.verify(|_, _| {})?;
    let verify_rate = events as f64 / t.elapsed().as_secs_f64().max(1e-9);
    anyhow::ensure!(
        report.is_intact(),
        "verify found a break: {:?}",
        report.first_break
    );
    line(
        &format!("rebuild in place ({events} events, one thread): events/s"),
        format!("{rebuild_rate:.0}"),
    );
    line(
        &format!("rebuild from scratch ({events} events, one thread): events/s"),
        format!("{scratch_rate:.0}"),
    );
    line(
        &format!("verify ({events} events, one thread): events/s"),
        format!("{verify_rate:.0}"),
    );
    summary.insert(
        "rebuild_events_per_sec_per_core".into(),
        json!(round(rebuild_rate)),
    );
    summary.insert(
        "rebuild_from_scratch_events_per_sec_per_core".into(),
        json!(round(scratch_rate)),
    );
    summary.insert(
        "verify_events_per_sec_per_core".into(),
        json!(round(verify_rate)),
    );
    Ok(())
}

/// (3) over gRPC, the server in a child process.
async fn part_grpc(
    base: &Path,
    clients: &[usize],
    seconds: f64,
    inproc: &[Rate],
    summary: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let server_dir = base.join("server");
    std::fs::create_dir_all(&server_dir)?;
    let server = ServerChild::start(&server_dir)?;
    let client = server.client().await?;
    let mut grpc = Vec::new();
    for (i, &c) in clients.iter().enumerate() {
        let client = client.clone();
        let r = measure(c, seconds, move |c, round| {
            grpc_flow(client.clone(), c * 1_000_000 + round)
        })
        .await?;
        rate_line(
            &format!("gRPC loopback, {c} clients: commands/s"),
            &r,
            inproc.get(i).map(|ip| (ip, "in-process")),
        );
        grpc.push(r);
    }
    let rss = server.peak_rss_mib();
    line(
        "server peak resident memory during gRPC: MiB",
        rss.map_or("unknown".into(), |m| format!("{m:.1}")),
    );
    drop(server);
    summary.insert(
    "grpc".into(),
    json!(clients.iter().zip(&grpc).enumerate().map(|(i, (c, r))| json!({"clients": c, "rate": r.json(), "ratio_to_in_process": inproc.get(i).map(|ip| round(r.per_sec / ip.per_sec.max(1e-9)))})).collect::<Vec<_>>()),
);
    summary.insert("server_peak_rss_mib".into(), json!(rss.map(round)));
    Ok(())
}

/// (5) cost growth with the documents stored.
async fn part_growth(
    args: &BenchArgs,
    base: &Path,
    seconds: f64,
    summary: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let sizes: Vec<usize> = if args.smoke {
        vec![100, 1_000]
    } else if args.large {
        vec![10_000, 100_000, 1_000_000]
    } else {
        vec![10_000, 100_000]
    };
    let growth_dir = base.join("growth");
    let engine = Engine::open_with(workflow_store::Config {
        cache_bytes: args.cache_mib.saturating_mul(1024 * 1024),
        ..workflow_store::Config::new(&growth_dir)
    })?;
    load_directory(&engine).await?;
    let mut stored = 0;
    let mut growth = Vec::new();
    let mut console = Vec::new();
    for &n in &sizes {
        let t = Instant::now();
        populate(&engine, stored, n).await?;
        stored = n;
        let load_secs = t.elapsed().as_secs_f64();
        let r = engine_flows(engine.clone(), 8, seconds).await?;
        line(
            &format!("with {n} documents stored, 8 clients: commands/s"),
            format!(
                "{:.0}  (p99 {:.2} ms; loaded in {load_secs:.0}s)",
                r.per_sec, r.p99_ms
            ),
        );
        let inbox_ms = inbox_page_ms(&engine)?;
        line(
            &format!("with {n} documents stored, first to-do page: ms"),
            format!("{inbox_ms:.2}  (li.qiang, who has about {n} to-dos; 20 per page)"),
        );
        let caught_up = search_indexed(&engine)?;
        line(
            &format!("with {n} documents stored, keyword index behind by: s"),
            format!("{caught_up:.1}  (waited for it to cover the log after the load and the run)"),
        );
        let by_index = engine.search_status().searches_by_index;
        let pages = console_pages_ms(&engine, n).await?;
        anyhow::ensure!(
            engine.search_status().searches_by_index > by_index,
            "the console's 查询 did not use the keyword index: {:?}",
            engine.search_status()
        );
        for (page, ms) in &pages {
            line(
                &format!("with {n} documents stored, console {page}: ms"),
                format!("{ms:.1}  (target < 50)"),
            );
        }
        console.push((n, pages));
        // Every stored document is in review with a deadline days away: nothing is due.
        let t = Instant::now();
        let reminded = engine.sweep_deadlines(chrono::Utc::now(), 24).await?;
        let sweep_ms = t.elapsed().as_secs_f64() * 1000.0;
        anyhow::ensure!(reminded.is_empty(), "the sweep found due documents");
        line(
            &format!("with {n} documents stored, deadline sweep: ms"),
            format!("{sweep_ms:.2}  (nothing due)"),
        );
        growth.push((n, r, inbox_ms, sweep_ms));
    }
    if let (Some((small_n, small, _, _)), Some((large_n, large, _, _))) =
        (growth.first(), growth.last())
    {
        line(
            &format!("growth {large_n}/{small_n} documents: commands/s ratio"),
            format!("{:.2}", large.per_sec / small.per_sec.max(1e-9)),
        );
        line(
            &format!("growth {large_n}/{small_n} documents: p99 ratio"),
            format!("{:.2}", large.p99_ms / small.p99_ms.max(1e-9)),
        );
        summary.insert(
            "growth_ratio_commands_per_sec".into(),
            json!(round(large.per_sec / small.per_sec.max(1e-9))),
        );
        summary.insert(
            "growth_ratio_p99".into(),
            json!(round(large.p99_ms / small.p99_ms.max(1e-9))),
        );
    }
    summary.insert(
        "console_pages_ms".into(),
        json!(
            console
                .iter()
                .map(|(n, pages)| json!({"documents": n, "pages": pages.iter().map(|(p, ms)| json!({"page": p, "ms": round(*ms)})).collect::<Vec<_>>()}))
                .collect::<Vec<_>>()
        ),
    );
    summary.insert(
        "growth".into(),
        json!(
            growth
                .iter()
                .map(|(n, r, inbox_ms, sweep_ms)| json!({"documents": n, "rate": r.json(), "inbox_page_ms": round(*inbox_ms), "deadline_sweep_ms": round(*sweep_ms)}))
                .collect::<Vec<_>>()
        ),
    );
    drop(engine);
    // The keyword index built again from the stored documents, as after a restore or an
    // upgrade of its layout (the server answers meanwhile, searches reading the documents).
    std::fs::remove_dir_all(growth_dir.join("search"))?;
    let t = Instant::now();
    let engine = Engine::open_with(workflow_store::Config {
        cache_bytes: args.cache_mib.saturating_mul(1024 * 1024),
        ..workflow_store::Config::new(&growth_dir)
    })?;
    search_indexed(&engine)?;
    let built = t.elapsed().as_secs_f64();
    let documents = engine.search_status().documents;
    line(
        &format!("keyword index built from {documents} stored documents: s"),
        format!("{built:.1}"),
    );
    summary.insert(
        "search_index_build".into(),
        json!({"documents": documents, "seconds": round(built)}),
    );
    drop(engine);
    Ok(())
}

/// (8) fan-out to live subscribers, in-process and over gRPC.
async fn part_fanout(
    base: &Path,
    seconds: f64,
    summary: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let engine = Engine::open(base.join("fanout"))?;
    load_directory(&engine).await?;
    let mut rows = Vec::new();
    let mut none_cpu = None;
    for subscribers in [0usize, 50, 200] {
        let r = fanout(&engine, subscribers, seconds).await?;
        let ratio = none_cpu.map(|base: f64| r.1 / base.max(1e-9));
        none_cpu.get_or_insert(r.1);
        line(
            &format!("8 clients, {subscribers} live subscribers: commands/s"),
            format!(
                "{:.0}  (CPU {:.3} ms per command{}; {} events delivered)",
                r.0.per_sec,
                r.1,
                ratio.map_or(String::new(), |x| format!(", {x:.2}× none")),
                r.2
            ),
        );
        rows.push(json!({"subscribers": subscribers, "rate": r.0.json(), "cpu_ms_per_command": round(r.1), "cpu_vs_none": ratio.map(round), "delivered": r.2}));
    }
    summary.insert("fanout".into(), json!(rows));
    drop(engine);
    // The same over gRPC: the server in a child process, its CPU per command.
    let server_dir = base.join("fanout-server");
    std::fs::create_dir_all(&server_dir)?;
    let server = ServerChild::start(&server_dir)?;
    let mut rows = Vec::new();
    let mut none_cpu = None;
    for subscribers in [0usize, 50, 200] {
        let r = fanout_grpc(&server, subscribers, seconds).await?;
        let ratio = none_cpu.map(|base: f64| r.1 / base.max(1e-9));
        none_cpu.get_or_insert(r.1);
        line(
            &format!("gRPC, 8 clients, {subscribers} gRPC subscribers: commands/s"),
            format!(
                "{:.0}  (server CPU {:.3} ms per command{}; {} events delivered)",
                r.0.per_sec,
                r.1,
                ratio.map_or(String::new(), |x| format!(", {x:.2}× none")),
                r.2
            ),
        );
        rows.push(json!({"subscribers": subscribers, "rate": r.0.json(), "server_cpu_ms_per_command": round(r.1), "cpu_vs_none": ratio.map(round), "delivered": r.2}));
    }
    summary.insert("fanout_grpc".into(), json!(rows));
    Ok(())
}

/// A local receiver for the outbox's channels: answers every POST as a webhook endpoint,
/// 企业微信 and 钉钉 robots do (200, `errcode` 0) and counts them.
async fn notify_receiver() -> Result<(String, Arc<std::sync::atomic::AtomicU64>)> {
    let posted = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let count = posted.clone();
    let app = axum::Router::new().fallback(move || {
        let count = count.clone();
        async move {
            count.fetch_add(1, Ordering::Relaxed);
            r#"{"errcode":0,"errmsg":"ok"}"#
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((url, posted))
}

/// The bench's channels on `url`: a webhook, and with `robots` a 企业微信 and a 钉钉 group
/// robot (at their default 20 a minute), each taking every notice.
fn notify_config(url: &str, robots: bool) -> workflow_store::notify::NotifyConfig {
    use workflow_store::notify::{ChannelConfig, NotifyConfig};
    let mut channels = vec![ChannelConfig {
        name: "hook".into(),
        kind: "webhook".into(),
        url: Some(format!("{url}/hook")),
        secrets: vec!["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into()],
        ..Default::default()
    }];
    if robots {
        channels.push(ChannelConfig {
            name: "wecom".into(),
            kind: "wecom_robot".into(),
            key: Some("bench".into()),
            api: Some(url.to_owned()),
            everyone: Some(true),
            ..Default::default()
        });
        channels.push(ChannelConfig {
            name: "ding".into(),
            kind: "dingtalk_robot".into(),
            key: Some("bench".into()),
            secret: Some("SECbench".into()),
            api: Some(url.to_owned()),
            everyone: Some(true),
            ..Default::default()
        });
    }
    NotifyConfig {
        base_url: None,
        channels,
    }
}

/// (11) notifications: commands/s with the outbox on and three channels configured against
/// the same with none, in one run (target: within 5%); then notifications delivered per
/// second to a local webhook receiver, from a backlog.
async fn part_notify(
    base: &Path,
    clients: &[usize],
    seconds: f64,
    smoke: bool,
    summary: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    use workflow_store::notify::{DeliveryState, Notifier};
    let (url, posted) = notify_receiver().await?;
    let off = Engine::open(base.join("notify-off"))?;
    load_directory(&off).await?;
    let on = Engine::open(base.join("notify-on"))?;
    load_directory(&on).await?;
    let notifier = Notifier::start(&on, &notify_config(&url, true))
        .map_err(anyhow::Error::msg)?
        .context("three channels configured")?;
    let mut rows = Vec::new();
    for &c in clients {
        // In turns, a round without and a round with: drift falls on both alike.
        let sent = posted.load(Ordering::Relaxed);
        let (without, with) = measure_in_turns(
            c,
            seconds,
            flows_on(off.clone(), None),
            flows_on(on.clone(), None),
        )
        .await?;
        let sent = posted.load(Ordering::Relaxed) - sent;
        let head = on.head();
        let behind = on
            .outbox_status()?
            .channels
            .iter()
            .map(|ch| head.saturating_sub(ch.through))
            .min()
            .unwrap_or(head);
        rate_line(
            &format!("outbox off, {c} clients: commands/s"),
            &without,
            None,
        );
        rate_line(
            &format!("outbox on (3 channels), {c} clients: commands/s"),
            &with,
            Some((&without, "outbox off")),
        );
        // The outbox did its work meanwhile: what the webhook took, and how far behind the
        // log its channel was at the end.
        line(
            &format!("  webhook posts meanwhile, {c} clients"),
            format!("{sent}  ({behind} events behind at the end)"),
        );
        rows.push(json!({"clients": c, "off": without.json(), "on": with.json(), "ratio": round(with.per_sec / without.per_sec.max(1e-9)), "webhook_posts": sent, "webhook_behind": behind}));
    }
    notifier.stop();
    drop((off, on));
    summary.insert("notify_commands".into(), json!(rows));

    // Delivery: a backlog of notices written with the outbox stopped, then delivered.
    let engine = Engine::open(base.join("notify-delivery"))?;
    load_directory(&engine).await?;
    let config = notify_config(&url, false);
    // Started once on the empty store, so that it derives from here on.
    Notifier::start(&engine, &config)
        .map_err(anyhow::Error::msg)?
        .context("a webhook configured")?
        .stop();
    let flows = if smoke { 20 } else { 1000 };
    for i in 0..flows {
        let id = DocumentId(uuid::Uuid::new_v4());
        for (actor, action) in flow(i) {
            engine.execute(Request::new(id, actor, action)).await?;
        }
    }
    let before = posted.load(Ordering::Relaxed);
    let t = Instant::now();
    let notifier = Notifier::start(&engine, &config)
        .map_err(anyhow::Error::msg)?
        .context("a webhook configured")?;
    loop {
        let status = engine.outbox_status()?;
        if status.settled() == status.head && status.count(DeliveryState::Pending) == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let took = t.elapsed().as_secs_f64();
    notifier.stop();
    let delivered = posted.load(Ordering::Relaxed) - before;
    let per_sec = delivered as f64 / took.max(1e-9);
    line(
        "notifications delivered to a local webhook: per second",
        format!("{per_sec:.0}  ({delivered} in {took:.2} s, derived and posted one by one)"),
    );
    summary.insert(
        "notify_delivery".into(),
        json!({"delivered": delivered, "seconds": round(took), "per_sec": round(per_sec)}),
    );
    Ok(())
}

/// (7) the 月通报 over many items.
async fn part_bulletin(
    args: &BenchArgs,
    base: &Path,
    summary: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let n = if args.smoke { 200 } else { 10_000 };
    let engine = Engine::open(base.join("bulletin"))?;
    load_directory(&engine).await?;
    let month = bulletin_month();
    let t = Instant::now();
    let commands = populate_items(&engine, n, month).await?;
    let load_secs = t.elapsed().as_secs_f64();
    let mut times = Vec::new();
    let mut rendered = Vec::new();
    let mut bulletin = None;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        let b = engine.bulletin(month, None)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let bytes =
            b.to_json().len() + b.to_csv().len() + b.to_markdown().len() + b.to_html().len();
        rendered.push((t.elapsed().as_secs_f64() * 1000.0, bytes));
        bulletin = Some(b);
    }
    times.sort_by(f64::total_cmp);
    rendered.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (ms, (render_ms, bytes)) = (times[ROUNDS / 2], rendered[ROUNDS / 2]);
    let counted = bulletin.map_or(0, |b| b.item_count());
    anyhow::ensure!(
        counted > 0 && counted as usize <= n,
        "the bulletin counted {counted} of {n} items"
    );
    line(
        &format!("月通报 {month}, {n} items stored ({commands} commands): ms"),
        format!(
            "{ms:.0}  (target < 1000; {counted} items in the month; loaded in {load_secs:.0}s)"
        ),
    );
    line(
        "  rendering it as JSON, CSV, Markdown and HTML: ms",
        format!("{render_ms:.1}  ({bytes} bytes)"),
    );
    summary.insert(
        "bulletin".into(),
        json!({"items": n, "items_in_month": counted, "commands": commands, "ms": round(ms), "render_all_formats_ms": round(render_ms)}),
    );
    drop(engine);
    Ok(())
}

/// (12) the 四性检测 (`check-archive`) over 10,000 archived 发文, each with its 公文 as the
/// server prints it (GB/T 9704, typst): seconds (goal: under a minute).
async fn part_archive(
    args: &BenchArgs,
    base: &Path,
    summary: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let n: usize = if args.smoke { 40 } else { 10_000 };
    let engine = Engine::open_with(workflow_store::Config {
        // The GB/T 9704 printer the server has: verify prints each 公文 again.
        printer: Some(workflow_render::printer::printer()),
        ..workflow_store::Config::new(base.join("archive"))
    })?;
    load_directory(&engine).await?;
    let t = Instant::now();
    let clients = 64.min(n);
    let per = n.div_ceil(clients);
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let engine = engine.clone();
            tokio::spawn(async move {
                for i in 0..per {
                    let id = DocumentId(uuid::Uuid::new_v4());
                    for (actor, action) in flow(c * per + i) {
                        engine.execute(Request::new(id, actor, action)).await?;
                    }
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    let load_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let report = engine.check_archive(&workflow_store::archive_check::ArchiveScope::default())?;
    let secs = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        report.passed() && report.records as usize == clients * per,
        "the 四性检测 of {} documents: {}",
        clients * per,
        report.to_text()
    );
    line(
        &format!(
            "四性检测 of {} archived 发文 with their printed 公文 ({} events): s",
            report.records, report.events
        ),
        format!("{secs:.1}  (goal < 60; stored in {load_secs:.0}s)"),
    );
    summary.insert(
        "archive_check".into(),
        json!({"records": report.records, "events": report.events, "seconds": round(secs)}),
    );
    drop(engine);
    Ok(())
}
