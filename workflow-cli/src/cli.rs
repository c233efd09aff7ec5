//! The command line: arguments, logging, and dispatch to the server, the operator commands
//! and the benchmark.

use std::path::PathBuf;
use std::sync::Arc;

use crate::config::ServerConfig;
use crate::{bench, ops, render};
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use workflow_store::notify::DeliveryState;

/// The official-document (公文) workflow engine.
#[derive(Debug, Parser)]
#[command(name = "workflow", version, about, long_about = None)]
struct Cli {
    /// Configuration file (TOML); `workflow.toml` in the current directory if it exists.
    #[arg(long, global = true, env = "WORKFLOW_CONFIG")]
    config: Option<PathBuf>,
    /// The data directory (default: the configuration's `data_dir`, else `data`).
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// The store, overriding the configuration's `store`: `sled` (the data directory) or a
    /// PostgreSQL URL, `postgres://user:password@host:port/database`.
    #[arg(long, global = true, env = "WORKFLOW_STORE")]
    store: Option<String>,
    /// Log lines on stderr as text (colours only on a terminal) or as JSON, one object per
    /// line, for log shippers.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Cmd,
}

/// How a report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ReportFormat {
    /// For a person to read.
    Text,
    /// One JSON object.
    Json,
    /// One row per line, for a spreadsheet.
    Csv,
}

/// A witness head as `--against` gives it: `POSITION:HASH`, or the file of a signed head
/// whose SM2 signature verifies under the trusted `public_key` (PEM; required for a file:
/// a key the file itself names proves nothing). What it found goes to stderr (the report on
/// stdout may be JSON). `Ok(Err(why))`: a signed head whose signature does not verify (a
/// failed check, exit code 1, not a usage error).
fn witness(
    against: Option<&str>,
    public_key: Option<&std::path::Path>,
) -> Result<std::result::Result<Option<workflow_store::LogHead>, String>> {
    use workflow_store::sign::{SignedHead, key_fingerprint, public_key_from_pem};
    let Some(against) = against else {
        anyhow::ensure!(
            public_key.is_none(),
            "--public-key checks a signed head given as --against FILE, or a package given as --package DIR"
        );
        return Ok(Ok(None));
    };
    let path = std::path::Path::new(against);
    if !path.is_file() {
        anyhow::ensure!(
            public_key.is_none(),
            "--public-key checks a signed head's file; {against:?} is none"
        );
        return against
            .parse()
            .map(|head| Ok(Some(head)))
            .map_err(|e| anyhow::anyhow!("--against: {e}, and no file of a signed head"));
    }
    let Some(public_key) = public_key else {
        anyhow::bail!(
            "{} is a signed head: give --public-key, the key you trust it to be signed with \
             (a key the file names itself proves nothing)",
            path.display()
        );
    };
    let trusted = public_key_from_pem(
        &std::fs::read_to_string(public_key)
            .with_context(|| format!("cannot read {}", public_key.display()))?,
    )?;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let signed: SignedHead = match serde_json::from_str(&text) {
        Ok(signed) => signed,
        Err(e) => {
            return Ok(Err(format!(
                "signed head {} REFUSED: not a signed head ({e})",
                path.display()
            )));
        }
    };
    match signed.check(Some(&trusted)) {
        Ok(()) => {
            eprintln!(
                "signed head {}: SM2 signature by {} at {} verifies under the trusted key {}",
                path.display(),
                signed.signer,
                signed.signed_at,
                key_fingerprint(&trusted),
            );
            Ok(Ok(Some(signed.head())))
        }
        Err(e) => Ok(Err(format!("signed head {} REFUSED: {e}", path.display()))),
    }
}

/// The SM2 key of `--sign-key` (PKCS#8 PEM), signing as `signer`, when one is given.
fn signing_key(
    path: Option<&std::path::Path>,
    signer: &str,
) -> Result<Option<workflow_store::sign::SoftwareSm2>> {
    Ok(path
        .map(|k| workflow_store::sign::SoftwareSm2::from_file(k, signer))
        .transpose()?)
}

/// Where a file's signature lies beside it: `<file>.sig.json`.
fn signature_beside(file: &std::path::Path) -> PathBuf {
    let mut sig = file.as_os_str().to_owned();
    sig.push(".sig.json");
    PathBuf::from(sig)
}

/// A 保管期限 as an archivist writes it: 永久, 定期30年, 定期10年, or the 档号's code.
fn parse_retention(s: &str) -> std::result::Result<workflow_core::retention::Retention, String> {
    use workflow_core::retention::Retention;
    Retention::ALL
        .into_iter()
        .find(|r| {
            let s = s.trim();
            s == r.chinese()
                || s.eq_ignore_ascii_case(r.code())
                || s == r.chinese().trim_start_matches("定期")
        })
        .ok_or_else(|| format!("{s:?} is no 保管期限: 永久 (Y), 定期30年 (D30) or 定期10年 (D10)"))
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// Human-readable lines; ANSI colours only when stderr is a terminal.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the gRPC server on an embedded sled directory.
    #[command(
        after_help = "Example:\n  workflow serve --config workflow.toml --listen 127.0.0.1:50051"
    )]
    Serve(ServeArgs),
    /// Create a data directory (a new store) and load the directory of units and actors
    /// into it; `serve` does the same on first start. Every other command refuses a
    /// directory that holds no store.
    #[command(
        after_help = "Example:\n  workflow init --data-dir /srv/workflow/data --directory fixtures/campus.json"
    )]
    Init {
        /// Directory JSON (units and actors) to load if the store has none, overriding the config.
        #[arg(long)]
        directory: Option<PathBuf>,
    },
    /// Apply the PostgreSQL schema's migrations up to this build's (each server also does
    /// on start); a sled directory is upgraded when opened.
    #[command(
        after_help = "Example:\n  workflow migrate --store postgres://workflow@db.campus/workflow"
    )]
    Migrate,
    /// Verify the whole log: hash chain, end of log, indexes, archived documents' fixity
    /// digests, and optionally a witness head recorded earlier; exit code 1 if anything is
    /// broken.
    #[command(
        after_help = "Examples:\n  workflow verify --data-dir /srv/workflow/data\n  workflow verify --against 1234:4ec1ac48…(64 hex digits)   (a head kept by another system)"
    )]
    Verify {
        /// A head recorded earlier, POSITION:HASH (as `verify` prints it, or as the gRPC
        /// GetLogHead returns it), or the file of a head signed by `sign-head` (its SM2
        /// signature is checked first): the log must still hold that hash at that position.
        #[arg(long)]
        against: Option<String>,
        /// The public key (PEM) a signed head given as `--against` must be signed with
        /// (required for one).
        #[arg(long, requires = "against")]
        public_key: Option<PathBuf>,
    },
    /// Sign the log's head with an SM2 key (国密, SM2 with SM3) for another system to keep
    /// as a witness; the log is verified first, and a broken log is not signed.
    #[command(
        name = "sign-head",
        after_help = "Example:\n  openssl genpkey -algorithm SM2 -out sm2-key.pem   (once; `openssl pkey -in sm2-key.pem -pubout` gives the public key)\n  workflow sign-head --key sm2-key.pem --signer office@campus --out head-2026-12-07.json\n  workflow verify --against head-2026-12-07.json --public-key sm2-pub.pem"
    )]
    SignHead {
        /// The SM2 private key, PKCS#8 PEM (`openssl genpkey -algorithm SM2`).
        #[arg(long)]
        key: PathBuf,
        /// The signer's 用户标识 (GM/T 0009's default when absent).
        #[arg(long, default_value = workflow_store::sign::DEFAULT_SIGNER_ID)]
        signer: String,
        /// Where to write the signed head (JSON), for the witness to keep.
        #[arg(long)]
        out: PathBuf,
    },
    /// 四性检测 (DA/T 70-2018) of archived records: 真实性, 完整性, 可用性 and 安全性, one
    /// line per check with 通过 or 不通过 and why; exit code 1 if any check fails. With
    /// `--package DIR`, of one exported package as the archives receiving it checks it
    /// (no store needed).
    #[command(
        name = "check-archive",
        after_help = "Examples:\n  workflow check-archive --fonds X001 --year 2026 --retention 永久\n  workflow check-archive --year 2026 --format csv > 四性检测-2026.csv\n  workflow check-archive --against 1234:4ec1ac48…(64 hex digits) --format json\n  workflow check-archive --package /archive/X001-WS·2026-Y-JWC-0001 --public-key office.pub.pem"
    )]
    CheckArchive {
        /// An exported package's directory: check it alone (its files, events, eep.xml
        /// and signature), not the store.
        #[arg(long, conflicts_with_all = ["fonds", "year", "retention", "against"])]
        package: Option<PathBuf>,
        /// 全宗号 (every fonds when absent).
        #[arg(long)]
        fonds: Option<String>,
        /// 年度 (every year when absent).
        #[arg(long)]
        year: Option<i32>,
        /// 保管期限: 永久 (Y), 定期30年 (D30) or 定期10年 (D10); every one when absent.
        #[arg(long, value_parser = parse_retention)]
        retention: Option<workflow_core::retention::Retention>,
        /// A head recorded elsewhere, POSITION:HASH or a signed head's file: the log must
        /// extend it (安全性).
        #[arg(long)]
        against: Option<String>,
        /// The public key (PEM) a signed head given as `--against`, or the package given as
        /// `--package`, must be signed with.
        #[arg(long)]
        public_key: Option<PathBuf>,
        /// `text` (a report to read), `json` or `csv` (UTF-8 with a byte-order mark).
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },
    /// Rebuild every projection (state, lists, to-do, numbers, command ids) by replaying
    /// the log, in place: what is already right is only read, the rest is repaired.
    #[command(
        alias = "replay",
        after_help = "Examples:\n  workflow rebuild --data-dir /srv/workflow/data\n  workflow rebuild --from-scratch   (drop the projections first)"
    )]
    Rebuild {
        /// Drop every projection first and write it anew, instead of repairing in place.
        #[arg(long)]
        from_scratch: bool,
    },
    /// A document's events as a timeline (time, actor, step, opinion); with `--actor`, who
    /// granted an actor which unit, roles and clearance, when, through which system and why.
    #[command(
        after_help = "Examples:\n  workflow history 0b7c…-uuid\n  workflow history 0b7c…-uuid --json\n  workflow history --actor li.qiang"
    )]
    History {
        /// The document id (UUID).
        #[arg(required_unless_present = "actor", conflicts_with = "actor")]
        document: Option<String>,
        /// An actor's directory history instead of a document's.
        #[arg(long)]
        actor: Option<String>,
        /// One JSON envelope per line, for machines.
        #[arg(long)]
        json: bool,
    },
    /// The document now, or as it was at a version or an instant.
    #[command(
        after_help = "Examples:\n  workflow show 0b7c…-uuid --as-of-version 3\n  workflow show 0b7c…-uuid --as-of '2026-11-03 18:00'   (China time)\n  workflow show 0b7c…-uuid --as-of 2026-11-03T10:00:00Z --json"
    )]
    Show {
        /// The document id (UUID).
        document: String,
        /// As it was after this many events.
        #[arg(long, conflicts_with = "as_of")]
        as_of_version: Option<u64>,
        /// As it was at this time: RFC 3339, or YYYY-MM-DD[ HH:MM[:SS]] in China time (a bare date: end of day).
        #[arg(long, value_parser = ops::parse_instant)]
        as_of: Option<workflow_core::Timestamp>,
        /// The state as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print an issued 发文 as its 公文: laid out per GB/T 9704-2012 as a PDF/A-2b, from the
    /// document's record (the same record, the same bytes).
    #[command(after_help = "Example:\n  workflow render 0b7c…-uuid --out X校发〔2026〕1号.pdf")]
    Render {
        /// The document id (UUID) of an issued 发文.
        document: String,
        /// Where to write the PDF (default: <发文字号>.pdf in the current directory).
        #[arg(long)]
        out: Option<PathBuf>,
        /// An SM2 private key (PKCS#8 PEM): sign the PDF (国密) into `<out>.sig.json`, when
        /// it is the copy printed at 印发 byte for byte (exit code 1, nothing signed, if not).
        #[arg(long)]
        sign_key: Option<PathBuf>,
        /// The signer's 用户标识 (GM/T 0009's default when absent).
        #[arg(long, default_value = workflow_store::sign::DEFAULT_SIGNER_ID, requires = "sign_key")]
        signer: String,
    },
    /// Check a file signed by `render --sign-key` (an issued 公文): the signature under the
    /// key you trust, and the file's bytes; exit code 1 if either fails.
    #[command(
        name = "verify-signature",
        after_help = "Example:\n  workflow verify-signature X校发〔2026〕12号.pdf --public-key office.pub.pem\n  (reads X校发〔2026〕12号.pdf.sig.json beside it, or the file given as --signature)"
    )]
    VerifySignature {
        /// The signed file.
        file: PathBuf,
        /// Its signature (default: `<file>.sig.json`).
        #[arg(long)]
        signature: Option<PathBuf>,
        /// The public key (PEM) you trust the file to be signed with.
        #[arg(long)]
        public_key: PathBuf,
    },
    /// Write a document's archive package (metadata, event chain, hashes, manifest, and
    /// eep.xml in the shape of DA/T 48's 电子文件封装包, SM2-signed with --sign-key).
    #[command(
        after_help = "Examples:\n  workflow export 0b7c…-uuid --out /archive/J012-WS-2026-D30-JWC-0001\n  workflow export 0b7c…-uuid --out /archive/J012-WS-2026-D30-JWC-0001 --sign-key sm2-key.pem --signer office@campus"
    )]
    Export {
        /// The document id (UUID).
        document: String,
        /// The package directory to create (must not exist or be empty).
        #[arg(long)]
        out: PathBuf,
        /// An SM2 private key (PKCS#8 PEM) to sign the package's eep.xml with (国密).
        #[arg(long)]
        sign_key: Option<PathBuf>,
        /// The signer's 用户标识 (GM/T 0009's default when absent).
        #[arg(long, default_value = workflow_store::sign::DEFAULT_SIGNER_ID, requires = "sign_key")]
        signer: String,
    },
    /// Check an archive package offline; exit code 1 if anything is wrong.
    #[command(after_help = "Example:\n  workflow verify-export /archive/J012-WS-2026-D30-JWC-0001")]
    VerifyExport {
        /// The package directory.
        path: PathBuf,
    },
    /// The 月通报 of supervision items for a month, as the log stood at the month's end.
    #[command(
        after_help = "Examples:\n  workflow bulletin 2026-11\n  workflow bulletin 2026-11 --format html > 2026-11.html\n  workflow bulletin 2026-11 --format csv --as ding.xin\n  workflow bulletin 2026-10 --format html --as ding.xin --publish > 2026-10.html"
    )]
    Bulletin {
        /// The month, YYYY-MM.
        month: workflow_core::supervision::bulletin::Month,
        /// md (the default), csv, json or html.
        #[arg(long, default_value = "md", value_parser = ["md", "csv", "json", "html"])]
        format: String,
        /// Only the items this actor's clearance covers (all when absent).
        #[arg(long = "as", value_name = "ACTOR")]
        viewer: Option<String>,
        /// Publish it (发布): record its digests as an event, once per month and clearance,
        /// after the month's end. Needs --as, a supervisor; the bulletin covers their
        /// clearance. The record is printed on stderr.
        #[arg(long, requires = "viewer")]
        publish: bool,
    },
    /// Copy a store into an empty one — a sled data directory into PostgreSQL or back, or
    /// between two of a kind — then verify the copy: the log and the access log byte for
    /// byte, the projections rebuilt from the copied log and compared with the source's
    /// entry for entry, the copy's hash chain checked. Stop the source's servers first.
    /// Exit code 1 if the copy is not the source's equal.
    #[command(after_help = "Examples:
  workflow copy --from /srv/workflow/data --to postgres://workflow@db.campus/workflow
  workflow copy --from postgres://workflow@db.campus/workflow --to /srv/workflow/restored")]
    Copy {
        /// The store to copy: a data directory or a postgres:// URL.
        #[arg(long, value_name = "DIR|URL")]
        from: PathBuf,
        /// The empty store to copy into: a data directory (created) or a postgres:// URL.
        #[arg(long, value_name = "DIR|URL")]
        to: PathBuf,
    },
    /// The uploaded files (正文, attachments) no event names, kept longer than the grace
    /// period: listed, or removed with --delete. Stop the servers first (on PostgreSQL, all
    /// of them): a file an event names is never removed
    #[command(
        after_help = "Examples:\n  workflow unreferenced-files                 (list those older than 72 hours)\n  workflow unreferenced-files --grace-hours 168 --delete"
    )]
    UnreferencedFiles {
        /// Only files kept longer than this many hours ago.
        #[arg(long, default_value_t = 72)]
        grace_hours: u64,
        /// Remove them (without it, only list them).
        #[arg(long)]
        delete: bool,
    },
    /// Counts by flow, state, unit, kind and year; log size; last position.
    #[command(after_help = "Example:\n  workflow stats --json")]
    Stats {
        /// As JSON.
        #[arg(long)]
        json: bool,
    },
    /// Measure throughput, latency, replay/verify speed, growth and memory (DESIGN §6).
    #[command(
        after_help = "Examples:\n  workflow bench            (about two and a half minutes)\n  workflow bench --store postgres://bench@localhost/postgres   (the figures on PostgreSQL, against raw PostgreSQL)\n  workflow bench --large    (adds 1,000,000 stored documents)\n  workflow bench --smoke    (tiny, checks the program works)"
    )]
    Bench(bench::BenchArgs),
    /// Print the retention schedule (保管期限表) archiving proposes from: the configuration's
    /// `[[retention]]` rows, or the default drawn from 国家档案局令第8号.
    #[command(
        name = "retention-schedule",
        after_help = "Example:\n  workflow retention-schedule --config workflow.toml"
    )]
    RetentionSchedule,
    /// The notices (待办, 催办, 督办提醒, 已办) the log implies from a position on, each with
    /// its stable id and its message as a channel cleared for 非密 documents sends it (the
    /// next position to read on stderr); with `--outbox`, `--failed` or `--retry`, the
    /// outbox's deliveries instead: where each stands on its channel, why the failing ones
    /// failed, and sending one again. (A sled store is held by its server: stop it first, or
    /// use the console's operator page.)
    #[command(
        after_help = "Examples:\n  workflow notifications\n  workflow notifications --from 1200 --limit 500 --base-url https://oa.example.edu.cn\n  workflow notifications --json\n  workflow notifications --failed\n  workflow notifications --retry 3f2a…\n  workflow notifications --outbox --from 1200"
    )]
    Notifications {
        /// The outbox's deliveries (from `--from`), not the log's notices.
        #[arg(long)]
        outbox: bool,
        /// Only the deliveries given up (发送失败) or still failing, with why.
        #[arg(long, conflicts_with = "outbox")]
        failed: bool,
        /// Sends these deliveries again from their first try (ids as `--failed` shows them).
        #[arg(long, value_name = "ID", conflicts_with_all = ["outbox", "failed"])]
        retry: Vec<String>,
        /// The first log position to read.
        #[arg(long, default_value_t = 1)]
        from: u64,
        /// The most log events to read.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        /// The console's address, which the messages' links start with.
        #[arg(long, default_value = "")]
        base_url: String,
        /// One JSON object a line (the notice and its `text`).
        #[arg(long)]
        json: bool,
    },
    /// The access log: who read a document classified 秘密 or above, through which system,
    /// when, and what (get, as-of, history, export, a subscriber's delivery).
    #[command(
        name = "access-log",
        after_help = "Examples:\n  workflow access-log --document 0b7c…-uuid\n  workflow access-log --actor li.qiang --since 2026-11-01\n  workflow access-log --json"
    )]
    AccessLog {
        /// Only reads of this document (UUID).
        #[arg(long)]
        document: Option<String>,
        /// Only reads naming this actor.
        #[arg(long)]
        actor: Option<String>,
        /// Only reads at or after this time: RFC 3339, or YYYY-MM-DD[ HH:MM[:SS]] in China
        /// time (a bare date: from the start of that day).
        #[arg(long, value_parser = ops::parse_since)]
        since: Option<workflow_core::Timestamp>,
        /// At most this many.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        /// One JSON entry per line.
        #[arg(long)]
        json: bool,
    },
    /// Bearer tokens for campus systems.
    #[command(subcommand)]
    Token(TokenCmd),
    /// List documents with the filters of the gRPC list.
    #[command(
        after_help = "Examples:\n  workflow list --state InReview --unit JWC\n  workflow list --overdue\n  workflow list --todo li.qiang --kind 通知"
    )]
    List(ops::ListArgs),
}

#[derive(Debug, Subcommand)]
enum TokenCmd {
    /// Print a fresh random token for a system, and the configuration lines that admit it
    /// (its SHA-256 only: the token itself is never stored).
    #[command(after_help = "Example:\n  workflow token new --system archive-system")]
    New {
        /// The system's name, as in `[[systems]] name`.
        #[arg(long)]
        system: String,
    },
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on, overriding the config (default 127.0.0.1:50051).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Directory JSON (units and actors) to load when the engine has none, overriding the config.
    #[arg(long)]
    directory: Option<PathBuf>,
}

/// Runs the `workflow` program on the process's arguments.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let default_level = if matches!(cli.command, Cmd::Serve(_)) {
        "info"
    } else {
        "warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => {
            use std::io::IsTerminal;
            logs.with_ansi(std::io::stderr().is_terminal()).init()
        }
    }
    match run(cli) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        // An integrity check failed: its report is printed already.
        Ok(false) => std::process::ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<bool> {
    let config = cli.config.clone();
    let data = || ops::data_dir(cli.data_dir.clone(), cli.store.clone(), config.as_ref());
    match cli.command {
        Cmd::Serve(args) => serve(args, cli.config, cli.data_dir, cli.store).map(|()| true),
        Cmd::Init { directory } => init(
            config.as_ref(),
            cli.data_dir.clone(),
            cli.store.clone(),
            directory,
        )
        .map(|()| true),
        Cmd::Migrate => ops::migrate(&data()?).map(|m| {
            render::migrated(&m);
            true
        }),
        Cmd::Verify {
            against,
            public_key,
        } => {
            let against = match witness(against.as_deref(), public_key.as_deref())? {
                Ok(head) => head,
                Err(why) => {
                    println!("{why}");
                    return Ok(false);
                }
            };
            let (report, access, secs) = ops::verify(&data()?, against.clone())?;
            Ok(render::verify(&report, &access, against.as_ref(), secs))
        }
        Cmd::SignHead { key, signer, out } => {
            let key = workflow_store::sign::SoftwareSm2::from_file(&key, &signer)?;
            let (report, access, secs) = ops::verify(&data()?, None)?;
            if !render::verify(&report, &access, None, secs) {
                println!("not signed: verify found the store not intact (above)");
                return Ok(false);
            }
            let signed =
                workflow_store::sign::SignedHead::sign(&report.head(), chrono::Utc::now(), &key)?;
            let json = serde_json::to_string_pretty(&signed)? + "\n";
            eprintln!(
                "signed head {}:{} by {} (SM2 key {})",
                signed.position,
                signed.hash,
                signed.signer,
                workflow_store::sign::key_fingerprint(&workflow_store::sign::Signer::public_key(
                    &key
                ))
            );
            std::fs::write(&out, json)
                .with_context(|| format!("cannot write {}", out.display()))?;
            Ok(true)
        }
        Cmd::CheckArchive {
            package,
            fonds,
            year,
            retention,
            against,
            public_key,
            format,
        } => {
            let report = if let Some(package) = package {
                let trusted = public_key
                    .map(|path| {
                        let pem = std::fs::read_to_string(&path)
                            .with_context(|| format!("cannot read {}", path.display()))?;
                        anyhow::Ok(workflow_store::sign::public_key_from_pem(&pem)?)
                    })
                    .transpose()?;
                workflow_store::archive_check::check_package(&package, trusted.as_deref())?
            } else {
                let against = match witness(against.as_deref(), public_key.as_deref())? {
                    Ok(head) => head,
                    Err(why) => {
                        eprintln!("{why}");
                        return Ok(false);
                    }
                };
                let scope = workflow_store::archive_check::ArchiveScope {
                    fonds,
                    year,
                    retention,
                    against,
                    viewer: None,
                };
                if let Err(p) = scope.check() {
                    anyhow::bail!("--{}: {}", p.field, p.reason);
                }
                ops::check_archive(&data()?, &scope)?
            };
            match format {
                ReportFormat::Text => print!("{}", report.to_text()),
                ReportFormat::Csv => print!("{}", report.to_csv()),
                ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
            }
            Ok(report.passed())
        }
        Cmd::Rebuild { from_scratch } => {
            let (events, secs) = ops::rebuild(&data()?, from_scratch)?;
            render::rebuild(events, secs);
            Ok(true)
        }
        Cmd::History {
            document,
            actor,
            json,
        } => match (document, actor) {
            (_, Some(actor)) => {
                render::actor_history(&actor, &ops::actor_history(&data()?, &actor)?, json)
                    .map(|()| true)
            }
            (Some(document), None) => {
                render::timeline(&ops::history(&data()?, &document)?, json).map(|()| true)
            }
            (None, None) => anyhow::bail!("give a document id or --actor"),
        },
        Cmd::Render {
            document,
            out,
            sign_key,
            signer,
        } => {
            // The key first: a key that cannot sign is said before anything is laid out.
            let key = signing_key(sign_key.as_deref(), &signer)?;
            let (issued, rendered, printed) = ops::render(&data()?, &document)?;
            let out = out.unwrap_or_else(|| PathBuf::from(issued.file_name()));
            std::fs::write(&out, &rendered.pdf)
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "{}: {} 《{}》, {} page{}, sha256 {}",
                out.display(),
                issued.number,
                issued.title,
                rendered.pages,
                if rendered.pages == 1 { "" } else { "s" },
                rendered.sha256
            );
            for f in &rendered.fonts {
                println!("  {}  {}  sha256 {}", f.role, f.family, f.sha256);
            }
            // Against the copy printed at 印发, where there is one (as verify checks it).
            match &printed {
                Some((kept, workflow_render::Reprint::Same)) => {
                    println!("equal to the copy printed at 印发 ({})", kept.name);
                }
                Some((kept, workflow_render::Reprint::Differs(why))) => {
                    println!(
                        "DIFFERS from the copy printed at 印发 ({}): {why}",
                        kept.name
                    );
                }
                Some((kept, workflow_render::Reprint::CannotTell(why))) => {
                    println!(
                        "not comparable with the copy printed at 印发 ({}, sha256 {}): {why}",
                        kept.name, kept.digest
                    );
                }
                None => {}
            }
            let Some(key) = key else { return Ok(true) };
            // Only the 公文 as issued is signed: the copy kept at 印发, byte for byte.
            if !matches!(printed, Some((_, workflow_render::Reprint::Same))) {
                eprintln!(
                    "not signed: {} is not the copy printed at 印发 byte for byte (above)",
                    out.display()
                );
                return Ok(false);
            }
            let signed = workflow_store::sign::SignedFile::sign(
                &rendered.pdf,
                &document,
                &issued.number.to_string(),
                chrono::Utc::now(),
                &key,
            )?;
            let sig = signature_beside(&out);
            std::fs::write(&sig, serde_json::to_string_pretty(&signed)? + "\n")
                .with_context(|| format!("writing {}", sig.display()))?;
            println!(
                "signed: {} (SM2 by {}, key {})",
                sig.display(),
                signed.signer,
                workflow_store::sign::key_fingerprint(&workflow_store::sign::Signer::public_key(
                    &key
                ))
            );
            Ok(true)
        }
        Cmd::VerifySignature {
            file,
            signature,
            public_key,
        } => {
            let trusted = workflow_store::sign::public_key_from_pem(
                &std::fs::read_to_string(&public_key)
                    .with_context(|| format!("cannot read {}", public_key.display()))?,
            )?;
            let sig = signature.unwrap_or_else(|| signature_beside(&file));
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let text = std::fs::read_to_string(&sig)
                .with_context(|| format!("cannot read {}", sig.display()))?;
            let signed: workflow_store::sign::SignedFile = match serde_json::from_str(&text) {
                Ok(s) => s,
                Err(e) => {
                    println!(
                        "{}: REFUSED: not a signed file's signature ({e})",
                        sig.display()
                    );
                    return Ok(false);
                }
            };
            match signed.check(&bytes, &trusted) {
                Ok(()) => {
                    println!(
                        "{}: {} (document {}), SM2 signature by {} at {} verifies under the \
                         trusted key {}; sha256 {}",
                        file.display(),
                        signed.number,
                        signed.document,
                        signed.signer,
                        signed.signed_at,
                        workflow_store::sign::key_fingerprint(&trusted),
                        signed.sha256
                    );
                    Ok(true)
                }
                Err(e) => {
                    println!("{}: REFUSED: {e}", file.display());
                    Ok(false)
                }
            }
        }
        Cmd::Show {
            document,
            as_of_version,
            as_of,
            json,
        } => {
            let (doc, names) = ops::show(&data()?, &document, as_of_version, as_of)?;
            match &doc {
                workflow_core::FlowState::Incoming(r) => render::receipt(r, &names, json),
                workflow_core::FlowState::Supervision(i) => render::item(i, &names, json),
                workflow_core::FlowState::Outgoing(d) => render::document(d, &names, json),
                workflow_core::FlowState::Directory(_) | workflow_core::FlowState::Bulletin(_) => {
                    anyhow::bail!("{document} is not a document")
                }
                // A flow without a renderer of its own prints its form.
                other => render::sheet(other, &names, json),
            }?;
            if !json && let Some(files) = doc.document_files() {
                render::files(files);
            }
            Ok(true)
        }
        Cmd::Export {
            document,
            out,
            sign_key,
            signer,
        } => {
            let key = signing_key(sign_key.as_deref(), &signer)?;
            let signer = key.as_ref().map(|k| k as &dyn workflow_store::sign::Signer);
            render::export(&ops::export(&data()?, &document, &out, signer)?, &out);
            Ok(true)
        }
        Cmd::VerifyExport { path } => Ok(render::verify_export(&ops::verify_export(&path)?, &path)),
        Cmd::Copy { from, to } => {
            let copied = ops::copy(&from, &to)?;
            Ok(render::copy(&copied, &from, &to))
        }
        Cmd::Stats { json } => render::stats(&ops::stats(&data()?)?, json).map(|()| true),
        Cmd::UnreferencedFiles {
            grace_hours,
            delete,
        } => {
            let files = ops::unreferenced_files(&data()?, grace_hours, delete)?;
            render::unreferenced_files(&files, delete);
            Ok(true)
        }
        Cmd::Bulletin {
            month,
            format,
            viewer,
            publish,
        } => {
            let (b, record) = ops::bulletin(&data()?, month, viewer.as_deref(), publish)?;
            let text = match format.as_str() {
                "csv" => b.to_csv(),
                "json" => b.to_json(),
                "html" => b.to_html(),
                _ => b.to_markdown(),
            };
            print!("{text}");
            if let Some((p, position)) = record {
                render::publication(&p, position, &text);
            }
            Ok(true)
        }
        Cmd::Notifications {
            outbox,
            failed,
            retry,
            from,
            limit,
            base_url,
            json,
        } => {
            let engine = ops::open(&data()?)?;
            if !retry.is_empty() {
                for id in &retry {
                    let d = engine.retry_delivery(id)?;
                    render::delivery(&d, json)?;
                }
                render::outbox_status(&engine.outbox_status()?);
                return Ok(true);
            }
            if outbox || failed {
                let status = engine.outbox_status()?;
                let deliveries = if failed {
                    engine
                        .deliveries(None, from, usize::MAX)?
                        .into_iter()
                        .filter(|d| d.last_error.is_some() && d.state != DeliveryState::Delivered)
                        .take(limit)
                        .collect()
                } else {
                    engine.deliveries(None, from, limit)?
                };
                for d in &deliveries {
                    render::delivery(d, json)?;
                }
                render::outbox_status(&status);
                return Ok(true);
            }
            let (notices, next) = engine.notices(from, limit)?;
            render::notifications(&notices, next, &base_url, json).map(|()| true)
        }
        Cmd::List(args) => {
            let (documents, now) = ops::list(&data()?, &args)?;
            render::list(&documents, now, args.json).map(|()| true)
        }
        Cmd::Bench(args) => bench::run(args, cli.store.clone()).map(|()| true),
        Cmd::AccessLog {
            document,
            actor,
            since,
            limit,
            json,
        } => {
            let q = workflow_store::access::AccessQuery {
                document: document.as_deref().map(ops::document_id).transpose()?,
                actor: actor.map(|a| a.as_str().into()),
                since,
                after: 0,
                limit,
            };
            render::access_log(&ops::access_log(&data()?, &q)?, json).map(|()| true)
        }
        Cmd::Token(TokenCmd::New { system }) => {
            render::new_token(&ops::new_token(&system)?);
            Ok(true)
        }
        Cmd::RetentionSchedule => {
            let config = load_config(config.as_ref())?;
            let schedule = config.retention_schedule()?;
            render::retention_schedule(&schedule, !config.retention.is_empty());
            Ok(true)
        }
    }
}

fn load_config(path: Option<&PathBuf>) -> Result<ServerConfig> {
    match path {
        Some(p) => Ok(ServerConfig::load(p)?),
        None => {
            let default = PathBuf::from("workflow.toml");
            if default.exists() {
                Ok(ServerConfig::load(&default)?)
            } else {
                Ok(ServerConfig::default())
            }
        }
    }
}

/// `init`: creates the store (if there is none) and loads the directory file into it (if
/// it has no units yet).
fn init(
    config_path: Option<&PathBuf>,
    data_dir: Option<PathBuf>,
    store: Option<String>,
    directory: Option<PathBuf>,
) -> Result<()> {
    let mut config = load_config(config_path)?;
    if let Some(d) = data_dir {
        config.data_dir = d;
    }
    if store.is_some() {
        config.store = store;
    }
    config.postgres_url()?;
    if let Some(d) = directory {
        config.directory = Some(d);
    }
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let engine = crate::server::open_engine(&config, Arc::new(chrono::Utc::now))
            .await
            .with_context(|| format!("creating the store {}", config.place()))?;
        let head = engine.log_head()?;
        let chained = match head.position {
            0 => format!(
                "its first event will be chained with {} (keep chain_digest in the \
                 configuration until then)",
                config.chain_digest.unwrap_or_default()
            ),
            _ => format!(
                "its log chained with {}",
                workflow_store::envelope::ChainDigest::of(&head.hash)
            ),
        };
        println!(
            "{}: a workflow store with {} events, {} units and {} actors; {chained}",
            config.place(),
            engine.head(),
            engine.units().len(),
            engine.actors().len(),
        );
        if engine.units().is_empty() {
            println!(
                "  no directory loaded: pass --directory FILE (or set `directory` in the config)"
            );
        }
        Ok(())
    })
}

fn serve(
    args: ServeArgs,
    config_path: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    store: Option<String>,
) -> Result<()> {
    let mut config = load_config(config_path.as_ref())?;
    if let Some(l) = args.listen {
        config.listen = l;
    }
    if let Some(d) = data_dir {
        config.data_dir = d;
    }
    if store.is_some() {
        config.store = store;
    }
    if let Some(d) = args.directory {
        config.directory = Some(d);
    }
    config
        .validate()
        .context("no usable configuration (pass --config FILE or create workflow.toml)")?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let clock: workflow_store::Clock = Arc::new(chrono::Utc::now);
        let engine = crate::server::open_engine(&config, clock.clone())
            .await
            .with_context(|| format!("opening the store {}", config.place()))?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        eprintln!(
            "workflow: serving on {} (store: {})",
            listener.local_addr()?,
            config.place()
        );
        crate::server::serve(engine, &config, clock, listener, shutdown_signal()).await?;
        Ok(())
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested; finishing in-flight calls");
}
