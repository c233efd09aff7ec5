//! A throwaway PostgreSQL for tests: one cluster per test process, one fresh database per
//! store, removed afterwards.
//!
//! - With `WORKFLOW_TEST_POSTGRES=postgres://user@host:port/db` set, that server is used
//!   (the URL names a database the user may `CREATE DATABASE` from).
//! - Otherwise a cluster is made in a temporary directory with Debian's PostgreSQL
//!   (`/usr/lib/postgresql/<version>/bin`): `initdb` and the server run as the `postgres`
//!   user when the tests run as root (`initdb` refuses root), on a free loopback port. A
//!   watchdog stops it and removes its directory when the test process ends.
//! - Without PostgreSQL installed, the tests **fail** (never skip) naming the command that
//!   installs it and runs the whole suite: `scripts/test`.
//!
//! The cluster runs with `fsync = off` (the tests kill processes, never the machine, and
//! page-cache writes survive a process's death); stores opened here say so explicitly with
//! [`PostgresOptions::allow_fsync_off`], and a test checks that without it the server is
//! refused.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use workflow_store::{PostgresOptions, PostgresStorage};

/// The setup command named when PostgreSQL is missing.
pub const SETUP: &str = "scripts/test";

/// The environment variable naming an existing server to test against.
pub const ENV: &str = "WORKFLOW_TEST_POSTGRES";

/// A running test server: the URL of its administrative database.
#[derive(Debug)]
pub struct Server {
    /// e.g. `postgres://postgres@127.0.0.1:41234/postgres`.
    pub admin_url: String,
    /// Its data directory, when this process made the cluster.
    pub data_dir: Option<PathBuf>,
    /// Its binaries, when known.
    pub bin: Option<PathBuf>,
    /// The shell command that starts it again, when this process made the cluster.
    start: Option<String>,
    /// Its port, when this process made the cluster.
    port: Option<u16>,
}

impl Server {
    /// Stops the server with an immediate shutdown — its processes quit without a
    /// checkpoint, as in a crash of the database server (the operating system keeps what
    /// was written) — and starts it again, recovering from its WAL. Panics unless the test
    /// kit made the cluster (with [`ENV`] set, there is no cluster of ours to stop).
    pub fn crash_and_restart(&self) {
        let (Some(data), Some(bin), Some(start), Some(port)) =
            (&self.data_dir, &self.bin, &self.start, self.port)
        else {
            panic!("crash_and_restart needs the test kit's own cluster ({ENV} is set)");
        };
        let stopped = as_server_user(&bin.join("pg_ctl"))
            .arg("-D")
            .arg(data)
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(stopped, "pg_ctl stop -m immediate failed");
        let started = Command::new("sh")
            .arg("-c")
            .arg(start)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(started, "the server does not start again");
        wait_ready(bin, port, data.parent().unwrap_or(data));
    }

    /// Whether [`Server::crash_and_restart`] can run here.
    pub fn can_crash(&self) -> bool {
        self.start.is_some()
    }
}

/// Waits (a minute at most) until the server on `port` accepts connections.
fn wait_ready(bin: &Path, port: u16, dir: &Path) {
    let started = Instant::now();
    loop {
        let ready = Command::new(bin.join("pg_isready"))
            .args(["-q", "-h", "127.0.0.1", "-p", &port.to_string()])
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            return;
        }
        if started.elapsed() > Duration::from_secs(60) {
            let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
            missing(&format!("the server did not become ready in 60 s: {log}"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The test server of this process (made on first use).
pub fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| match std::env::var(ENV) {
        Ok(url) if !url.trim().is_empty() => Server {
            admin_url: url,
            data_dir: None,
            bin: find_bin(),
            start: None,
            port: None,
        },
        _ => start_cluster(),
    })
}

/// Debian's PostgreSQL binaries, the newest version installed.
pub fn find_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, b)| b)
}

fn missing(what: &str) -> ! {
    panic!(
        "the PostgreSQL tests cannot run: {what}. Run `{SETUP}` (it installs Debian's \
         postgresql package when missing and runs the whole test suite), or set {ENV} to a \
         server's URL"
    )
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program args…`, as the `postgres` user when this process is root.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| missing(&format!("no free loopback port: {e}")))
}

fn start_cluster() -> Server {
    let Some(bin) = find_bin() else {
        missing("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")
    };
    let dir = std::env::temp_dir().join(format!(
        "workflow-test-pg-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    ));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        missing(&format!("cannot make {}: {e}", dir.display()));
    }
    if is_root() {
        let ok = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            missing("cannot give the cluster's directory to the postgres user");
        }
    }
    let data = dir.join("data");
    let out = as_server_user(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
        .output()
        .unwrap_or_else(|e| missing(&format!("initdb does not run: {e}")));
    if !out.status.success() {
        missing(&format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let port = free_port();
    // The server, and a watchdog that stops it (fast shutdown) and removes the cluster
    // once this test process is gone.
    let start = format!(
        "{server} -D {data} -k {dir} -p {port} -c listen_addresses=127.0.0.1 \
         -c fsync=off -c full_page_writes=off -c max_connections=300 \
         -c shared_buffers=64MB >>{dir}/log 2>&1 &",
        server = if is_root() {
            format!("runuser -u postgres -- {}", bin.join("postgres").display())
        } else {
            bin.join("postgres").display().to_string()
        },
        data = data.display(),
        dir = dir.display(),
    );
    let script = format!(
        "{start}\n\
         while kill -0 {parent} 2>/dev/null; do sleep 0.5; done\n\
         if [ -f {data}/postmaster.pid ]; then kill -INT \"$(head -1 {data}/postmaster.pid)\" 2>/dev/null; fi\n\
         for _ in $(seq 100); do [ -f {data}/postmaster.pid ] || break; sleep 0.1; done\n\
         rm -rf {dir}\n",
        data = data.display(),
        dir = dir.display(),
        parent = std::process::id(),
    );
    if let Err(e) = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        missing(&format!("the server does not start: {e}"));
    }
    wait_ready(&bin, port, &dir);
    Server {
        admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
        data_dir: Some(data),
        bin: Some(bin),
        start: Some(start),
        port: Some(port),
    }
}

/// Runs SQL on the administrative database.
pub fn admin(sql: &str) {
    execute(&server().admin_url, sql);
}

/// Runs SQL on the database at `url`.
pub fn execute(url: &str, sql: &str) {
    let url = url.to_owned();
    let shown = sql.to_owned();
    let sql = sql.to_owned();
    // Its own thread and runtime: callers may be inside a runtime of their own.
    let result = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .map_err(|e| e.to_string())?;
            let task = tokio::spawn(conn);
            let r = client.batch_execute(&sql).await.map_err(|e| e.to_string());
            drop(client);
            let _ = task.await;
            r
        })
    })
    .join();
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("PostgreSQL test setup ({shown}): {e}"),
        Err(_) => panic!("PostgreSQL test setup ({shown}) panicked"),
    }
}

/// A fresh database on the test server, dropped with the value.
#[derive(Debug)]
pub struct Database {
    /// Its name.
    pub name: String,
    /// Its URL.
    pub url: String,
}

impl Database {
    /// A new, empty database.
    pub fn new() -> Database {
        static N: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "wf_test_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        admin(&format!("CREATE DATABASE {name}"));
        let base = &server().admin_url;
        let url = match base.rsplit_once('/') {
            Some((head, _)) => format!("{head}/{name}"),
            None => missing(&format!("{ENV} is not a postgres:// URL")),
        };
        Database { name, url }
    }

    /// Runs SQL on it.
    pub fn execute(&self, sql: &str) {
        execute(&self.url, sql);
    }

    /// The options tests open stores with (the test cluster runs without fsync).
    pub fn options() -> PostgresOptions {
        PostgresOptions {
            allow_fsync_off: true,
            pool_size: 4,
            ..PostgresOptions::default()
        }
    }

    /// Opens a store on it.
    pub fn open(&self) -> PostgresStorage {
        PostgresStorage::open(&self.url, &Self::options())
            .unwrap_or_else(|e| panic!("PostgreSQL store at {} does not open: {e}", self.url))
    }
}

impl Default for Database {
    fn default() -> Self {
        Database::new()
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        // Best effort: a panicking test must not panic again here.
        let name = self.name.clone();
        let _ = std::panic::catch_unwind(move || {
            admin(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        });
    }
}
