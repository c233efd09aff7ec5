//! The operator commands: they work directly on a data directory (refusing, not
//! corrupting, when a server holds it) and return what they found; [`crate::render`]
//! prints it, for people or as JSON.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use std::sync::Arc;
use workflow_core::EventCodec;
use workflow_core::{DocumentId, FlowState, Timestamp, UnitCode, kind::Kind, outgoing::State};

use workflow_store::{
    AsOf, Engine, ListQuery, LogHead, Storage, access::AccessEntry, access::AccessQuery,
    access::AccessRecord, access::AccessReport, export::Manifest, export::PackageReport,
    read::Stats, replay::VerifyOptions, replay::VerifyReport,
};

use crate::config::shown;
use crate::render::{ActorChange, Copied, Migrated, Names, NewToken, Progress, Timeline, cst};

/// Opens the engine of an existing data directory for an operator command. A directory
/// that holds no workflow store (a mistyped path, an empty or unrelated folder) is refused
/// and left exactly as it was: only `serve` and `init` create stores.
/// Opens the store operator commands work on: the data directory, or the PostgreSQL
/// database when `place` is a `postgres://` URL (see [`data_dir`]).
pub(crate) fn open(place: &Path) -> Result<Engine> {
    let text = place.to_string_lossy();
    if crate::config::is_postgres(&text) {
        let storage = workflow_store::PostgresStorage::open(&text, &postgres_options())
            .with_context(|| {
                format!(
                    "cannot open the PostgreSQL store {}",
                    workflow_store::storage::postgres::redact(&text)
                )
            })?;
        return Engine::with_storage(
            std::sync::Arc::new(storage),
            workflow_store::Config {
                printer: Some(workflow_render::printer::lazy_printer()),
                // An operator command reads what it needs; it builds no keyword index.
                search_index: workflow_store::SearchIndex::Off,
                ..workflow_store::Config::new(place)
            },
        )
        .with_context(|| {
            format!(
                "cannot open the PostgreSQL store {}",
                workflow_store::storage::postgres::redact(&text)
            )
        });
    }
    Engine::open_with(workflow_store::Config {
        create: false,
        printer: Some(workflow_render::printer::lazy_printer()),
        // Leaves the data directory as it was: no keyword index is created or built.
        search_index: workflow_store::SearchIndex::Off,
        ..workflow_store::Config::new(place)
    })
    .with_context(|| format!("cannot open data directory {}", place.display()))
}

/// A store's storage for `copy`: the PostgreSQL database of a `postgres://` URL, else the
/// sled data directory (created only if `create`).
fn storage_at(place: &Path, create: bool) -> Result<Arc<dyn Storage>> {
    let text = place.to_string_lossy();
    if crate::config::is_postgres(&text) {
        let shown = workflow_store::storage::postgres::redact(&text);
        return Ok(Arc::new(
            workflow_store::PostgresStorage::open(&text, &postgres_options())
                .with_context(|| format!("cannot open the PostgreSQL store {shown}"))?,
        ));
    }
    Ok(Arc::new(
        workflow_store::SledStorage::open(
            place,
            workflow_store::engine::DEFAULT_CACHE_BYTES,
            create,
            workflow_store::Durability::Strict,
        )
        .with_context(|| format!("cannot open data directory {}", place.display()))?,
    ))
}

/// `copy`: copies a store into an empty one, compares them and verifies the copy.
pub(crate) fn copy(from: &Path, to: &Path) -> Result<Copied> {
    if from == to {
        bail!("--from and --to name the same store");
    }
    let started = Instant::now();
    let source = storage_at(from, false)?;
    let target = storage_at(to, true)?;
    let bars: [(&str, Progress); 4] = [
        ("log", Progress::new("copy log")),
        ("access log", Progress::new("copy access log")),
        ("rebuild", Progress::new("rebuild")),
        ("verify", Progress::new("verify")),
    ];
    let report =
        workflow_store::replay::copy_store(&*source, &*target, move |step, done, total| {
            for (name, bar) in &bars {
                if *name == step {
                    bar.update(done, total);
                    if done >= total {
                        bar.finish();
                    }
                }
            }
        })
        .with_context(|| format!("cannot copy into {}", shown(to)))?;
    drop(source);
    // The access log's chain is checked by an engine; opening one on the copy of an early
    // build's store would record its directory in the log first, so that is left to the
    // first real open.
    let access = if report.legacy_directory {
        None
    } else {
        let engine = Engine::with_storage(target, workflow_store::Config::new(to))?;
        Some(engine.verify_access_log()?)
    };
    Ok(Copied {
        report,
        access,
        secs: started.elapsed().as_secs_f64(),
    })
}

/// Operator commands' PostgreSQL options: a small pool; `WORKFLOW_ALLOW_FSYNC_OFF=1` for a
/// throwaway cluster.
fn postgres_options() -> workflow_store::PostgresOptions {
    workflow_store::PostgresOptions {
        pool_size: 4,
        allow_fsync_off: std::env::var("WORKFLOW_ALLOW_FSYNC_OFF").is_ok_and(|v| v == "1"),
        ..workflow_store::PostgresOptions::default()
    }
}

/// `migrate`: applies the PostgreSQL schema's migrations, and says what it found.
pub(crate) fn migrate(place: &Path) -> Result<Migrated> {
    let text = place.to_string_lossy();
    if !crate::config::is_postgres(&text) {
        return Ok(Migrated::Sled(place.display().to_string()));
    }
    let storage =
        workflow_store::PostgresStorage::open(&text, &postgres_options()).with_context(|| {
            format!(
                "cannot open the PostgreSQL store {}",
                workflow_store::storage::postgres::redact(&text)
            )
        })?;
    // Opening applies the migrations; what it found says what was done.
    storage.migrate()?;
    let before = storage.schema_at_open();
    let now = workflow_store::storage::postgres::SCHEMA_VERSION;
    Ok(Migrated::Postgres {
        place: workflow_store::storage::postgres::redact(&text),
        before,
        now,
    })
}

/// A document id from the command line.
pub(crate) fn document_id(s: &str) -> Result<DocumentId> {
    uuid::Uuid::parse_str(s.trim())
        .map(DocumentId)
        .with_context(|| format!("{s:?} is not a document id (a UUID)"))
}

/// A state by its English or Chinese name.
pub(crate) fn parse_state(s: &str) -> Result<State, String> {
    State::ALL
        .into_iter()
        .find(|x| format!("{x:?}").eq_ignore_ascii_case(s) || x.chinese() == s)
        .ok_or_else(|| {
            format!(
                "unknown state {s:?}; one of {}",
                State::ALL.map(|x| format!("{x:?}")).join(", ")
            )
        })
}

/// A kind by its English or Chinese name.
pub(crate) fn parse_kind(s: &str) -> Result<Kind, String> {
    Kind::ALL
        .into_iter()
        .find(|x| format!("{x:?}").eq_ignore_ascii_case(s) || x.chinese() == s)
        .ok_or_else(|| {
            format!(
                "unknown kind {s:?}; one of {}",
                Kind::ALL.map(|x| format!("{x:?}")).join(", ")
            )
        })
}

/// An instant: RFC 3339, or `YYYY-MM-DD[ HH:MM[:SS]]` in China Standard Time; a bare date
/// means the end of that day.
pub(crate) fn parse_instant(s: &str) -> Result<Timestamp, String> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    let local = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(23, 59, 59))
    })
    .ok_or_else(|| {
        format!("{s:?} is not a time (RFC 3339, or YYYY-MM-DD[ HH:MM[:SS]] in China time)")
    })?;
    cst()
        .from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| format!("{s:?} is ambiguous"))
}

/// As [`parse_instant`], but a bare date means the start of that day (China time): for
/// "since".
pub(crate) fn parse_since(s: &str) -> Result<Timestamp, String> {
    match NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d") {
        Ok(d) => parse_instant(&format!("{d} 00:00:00")),
        Err(_) => parse_instant(s),
    }
}

/// `verify`: the hash chain, the log's end, the indexes, the archived documents' fixity
/// digests and optionally a witness head, and how long it took (seconds).
pub(crate) fn verify(
    data_dir: &Path,
    against: Option<LogHead>,
) -> Result<(VerifyReport, AccessReport, f64)> {
    let engine = open(data_dir)?;
    let progress = Progress::new("verify");
    let started = Instant::now();
    let report = engine.verify_with(&VerifyOptions { against }, |d, t| progress.update(d, t))?;
    progress.finish();
    let access = engine.verify_access_log()?;
    Ok((report, access, started.elapsed().as_secs_f64()))
}

/// `check-archive`: the 四性检测 of the archived records `scope` covers.
pub(crate) fn check_archive(
    data_dir: &Path,
    scope: &workflow_store::archive_check::ArchiveScope,
) -> Result<workflow_store::archive_check::ArchiveCheck> {
    Ok(open(data_dir)?.check_archive(scope)?)
}

/// Records an operator's read of a classified document (as for any other reader), naming
/// the operating-system user who ran the command.
fn record_operator_read(
    engine: &Engine,
    what: &str,
    document_id: DocumentId,
    classification: workflow_core::directory::Classification,
    detail: String,
) -> Result<()> {
    if workflow_store::access::is_recorded(classification) {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "unknown".into());
        engine
            .record_access_blocking(vec![AccessRecord {
                system: format!("cli (os user {user})"),
                actor: None,
                what: what.into(),
                document_id,
                classification,
                detail,
            }])
            .context("the read of a classified document could not be recorded in the access log")?;
    }
    Ok(())
}

/// `access-log`: the recorded reads matching the filters.
pub(crate) fn access_log(data_dir: &Path, q: &AccessQuery) -> Result<Vec<AccessEntry>> {
    Ok(open(data_dir)?.access_log(q)?)
}

/// `rebuild`: replays every projection (in place, or from scratch); how many events, and
/// how long it took (seconds).
pub(crate) fn rebuild(data_dir: &Path, from_scratch: bool) -> Result<(u64, f64)> {
    let engine = open(data_dir)?;
    let progress = Progress::new("rebuild");
    let p = progress.clone();
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = move |d, t| p.update(d, t);
    let n = if from_scratch {
        rt.block_on(engine.rebuild_from_scratch(report))?
    } else {
        rt.block_on(engine.rebuild(report))?
    };
    progress.finish();
    Ok((n, started.elapsed().as_secs_f64()))
}

/// `history`: a document's events.
pub(crate) fn history(data_dir: &Path, id: &str) -> Result<Timeline> {
    let engine = open(data_dir)?;
    let id = document_id(id)?;
    let events = engine.history(id)?;
    if events.is_empty() {
        bail!("document {id} not found");
    }
    let state = engine.state(id)?.filter(|s| s.directory().is_none());
    let title = state
        .as_ref()
        .map(|s| s.title().to_owned())
        .unwrap_or_default();
    if let Some(s) = &state {
        record_operator_read(
            &engine,
            "history",
            id,
            s.classification(),
            format!("{} events", events.len()),
        )?;
    }
    Ok(Timeline {
        id,
        title,
        events,
        names: Names::of(&engine),
    })
}

/// `show`: the document (a 发文 or a 收文), now or as it was, and the names of the actors
/// in it.
pub(crate) fn show(
    data_dir: &Path,
    id: &str,
    version: Option<u64>,
    at: Option<Timestamp>,
) -> Result<(FlowState, Names)> {
    show_in(&open(data_dir)?, id, version, at)
}

/// [`show`] on an engine already open.
fn show_in(
    engine: &Engine,
    id: &str,
    version: Option<u64>,
    at: Option<Timestamp>,
) -> Result<(FlowState, Names)> {
    let id = document_id(id)?;
    let doc = match (version, at) {
        (Some(v), _) => engine.state_as_of(id, AsOf::Version(v))?,
        (None, Some(t)) => engine.state_as_of(id, AsOf::Instant(t))?,
        (None, None) => engine
            .state(id)?
            .with_context(|| format!("document {id} not found"))?,
    };
    if doc.directory().is_some() {
        bail!("{id} is the directory's stream: see `workflow history --actor`");
    }
    let (what, detail) = match (version, at) {
        (Some(v), _) => ("as_of", format!("version {v}")),
        (None, Some(t)) => ("as_of", format!("at {t}")),
        (None, None) => ("get", String::new()),
    };
    // The stricter of the classification now and as it was.
    let now = engine
        .state(id)?
        .map_or(doc.classification(), |d| d.classification());
    record_operator_read(engine, what, id, now.max(doc.classification()), detail)?;
    Ok((doc, Names::of(engine)))
}

/// What `render` gives: what prints, the PDF, and the copy kept at 印发 with how it compares.
pub(crate) type Laid = (
    workflow_render::Issued,
    workflow_render::Rendered,
    Option<(workflow_core::content::FileRef, workflow_render::Reprint)>,
);

/// `render`: the issued 发文 `id` laid out as its 公文 (the read recorded like `show`'s), with
/// the unit names of the directory as it was at its 印发, and, where a copy was printed and
/// kept then, whether it is what the record prints ([`workflow_render::Renderer::check`]).
pub(crate) fn render(data_dir: &Path, id: &str) -> Result<Laid> {
    let engine = open(data_dir)?;
    let (state, _) = show_in(&engine, id, None, None)?;
    let Some(doc) = state.into_outgoing() else {
        bail!("{id} is not a 发文: only an issued 发文 prints as a 公文");
    };
    let units = engine.units_at_issue(doc.id())?.unwrap_or_default();
    let issued = workflow_render::Issued::with_units(&doc, &units)?;
    let fonts = workflow_render::Fonts::load(&workflow_render::FontFiles::debian())?;
    let renderer = workflow_render::Renderer::new(fonts);
    let rendered = renderer.render(&issued)?;
    let kept = match doc.issue().and_then(|i| i.printed.clone()) {
        Some(file) => match engine.kept_bytes(&file)? {
            Some(bytes) => Some((file, renderer.check(&issued, &bytes)?)),
            None => None,
        },
        None => None,
    };
    Ok((issued, rendered, kept))
}

/// `export`: writes the archive package into `out`.
pub(crate) fn export(
    data_dir: &Path,
    id: &str,
    out: &Path,
    signer: Option<&dyn workflow_store::sign::Signer>,
) -> Result<Manifest> {
    let engine = open(data_dir)?;
    let id = document_id(id)?;
    if let Some(d) = engine.state(id)? {
        record_operator_read(
            &engine,
            "export",
            id,
            d.classification(),
            out.display().to_string(),
        )?;
    }
    Ok(engine.export_document_signed(id, out, Utc::now(), signer)?)
}

/// `verify-export`: checks a package offline.
pub(crate) fn verify_export(path: &Path) -> Result<PackageReport> {
    Ok(workflow_store::export::verify_package(path)?)
}

/// `stats`.
/// `bulletin`: the 月通报 of `month`, over the items `viewer`'s clearance covers (all when
/// absent).
/// A bulletin's publication record, with the log position it was written at when this
/// run wrote it.
pub(crate) type Published = (workflow_core::supervision::Publication, Option<u64>);

/// `bulletin`: the month's bulletin as `viewer` may read it (all items without one), and
/// its publication record with its position in the log, if it was published at that
/// clearance (`publish` publishes it first).
pub(crate) fn bulletin(
    data_dir: &Path,
    month: workflow_core::supervision::bulletin::Month,
    viewer: Option<&str>,
    publish: bool,
) -> Result<(
    workflow_core::supervision::bulletin::Bulletin,
    Option<Published>,
)> {
    let engine = open(data_dir)?;
    let Some(v) = viewer else {
        return Ok((engine.bulletin(month, None)?, None));
    };
    let actor = engine
        .actor(&v.into())
        .with_context(|| format!("--as {v}: no such actor"))?;
    if publish {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (b, outcome) = rt
            .block_on(engine.publish_bulletin(&actor.id, month, None, None))
            .with_context(|| format!("publishing the bulletin of {month}"))?;
        let record = engine.publication(month, actor.clearance)?;
        let position = outcome.events.first().map(|e| e.position);
        return Ok((b, record.map(|p| (p, position))));
    }
    let b = engine.bulletin(month, Some(actor.clearance))?;
    let record = engine.publication(month, actor.clearance)?;
    Ok((b, record.map(|p| (p, None))))
}

/// `unreferenced-files`: the kept files no event names, older than the grace period;
/// removed with `delete`.
pub(crate) fn unreferenced_files(
    data_dir: &Path,
    grace_hours: u64,
    delete: bool,
) -> Result<Vec<workflow_store::storage::KeptContent>> {
    let engine = open(data_dir)?;
    let grace = std::time::Duration::from_secs(grace_hours.saturating_mul(3600));
    Ok(if delete {
        engine.remove_unreferenced_files(grace)?
    } else {
        engine.unreferenced_files(grace)?
    })
}

pub(crate) fn stats(data_dir: &Path) -> Result<Stats> {
    Ok(open(data_dir)?.stats()?)
}

/// Filters of `list`.
#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// Only this state (English or Chinese name), e.g. InReview or 会签.
    #[arg(long, value_parser = parse_state)]
    pub(crate) state: Option<State>,
    /// Only this unit (issuing, co-issuing or drafter's), e.g. JWC.
    #[arg(long)]
    pub(crate) unit: Option<String>,
    /// Only this kind (English or Chinese), e.g. Circular or 通知.
    #[arg(long, value_parser = parse_kind)]
    pub(crate) kind: Option<Kind>,
    /// Only this year (issue year, else drafting year).
    #[arg(long)]
    pub(crate) year: Option<i32>,
    /// Only documents whose current stage is past its deadline now.
    #[arg(long)]
    pub(crate) overdue: bool,
    /// Only this flow: outgoing (发文), incoming (收文) or supervision (督办).
    #[arg(long, value_name = "FLOW")]
    pub(crate) flow: Option<String>,
    /// Only 督办 items of this leader (牵头领导).
    #[arg(long, value_name = "ACTOR")]
    pub(crate) leader: Option<String>,
    /// Only 督办 items from: instruction, meeting, key_task, direct.
    #[arg(long, value_name = "SOURCE")]
    pub(crate) source: Option<String>,
    /// Only documents in the state of this name, in any flow (InHandling, Archived, …).
    #[arg(long, value_name = "STATE")]
    pub(crate) step: Option<String>,
    /// Keywords, separated by spaces: each must occur in the 标题, a 文号 (发文字号, 收文编号,
    /// 来文字号), the 来文单位 or the 正文, e.g. "审核评估 教务处".
    #[arg(long, value_name = "WORDS")]
    pub(crate) text: Option<String>,
    /// Only what waits for this actor (待办).
    #[arg(long, value_name = "ACTOR")]
    pub(crate) todo: Option<String>,
    /// Only what this actor started: drafted, registered, opened (我发起的).
    #[arg(long, value_name = "ACTOR")]
    pub(crate) started_by: Option<String>,
    /// Only what this actor recorded any step of (已办).
    #[arg(long, value_name = "ACTOR")]
    pub(crate) acted_by: Option<String>,
    /// The newest started first.
    #[arg(long)]
    pub(crate) newest_first: bool,
    /// Leave out what this actor's clearance does not cover.
    #[arg(long = "as", value_name = "ACTOR")]
    pub(crate) viewer: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    pub(crate) limit: usize,
    /// One JSON document per line.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `list`: up to `limit` documents matching the filters (发文, 收文 and 督办, in list order), and
/// the instant "overdue" was judged at.
pub(crate) fn list(data_dir: &Path, a: &ListArgs) -> Result<(Vec<FlowState>, Timestamp)> {
    let engine = open(data_dir)?;
    let now = Utc::now();
    let flow = a
        .flow
        .as_deref()
        .map(|f| {
            workflow_core::StreamKind::parse_document(f).ok_or_else(|| {
                anyhow::anyhow!(
                    "--flow {f}: give outgoing (发文), incoming (收文) or supervision (督办)"
                )
            })
        })
        .transpose()?;
    if let Some(s) = a.source.as_deref()
        && !matches!(s, "instruction" | "meeting" | "key_task" | "direct")
    {
        bail!("--source {s}: give instruction, meeting, key_task or direct");
    }
    let mut q = ListQuery {
        flow,
        step: a.step.clone(),
        state: a.state,
        unit: a.unit.clone().map(UnitCode),
        kind: a.kind,
        year: a.year,
        overdue_at: a.overdue.then_some(now),
        leader: a.leader.clone().map(Into::into),
        source: a.source.clone(),
        text: a.text.clone().filter(|t| !t.trim().is_empty()),
        started_by: a.started_by.clone().map(Into::into),
        acted_by: a.acted_by.clone().map(Into::into),
        newest_first: a.newest_first,
        viewer: a.viewer.clone().map(Into::into),
        max_classification: None,
        page_token: None,
        page_size: a.limit.clamp(1, workflow_store::read::MAX_PAGE_SIZE),
    };
    let mut found = Vec::new();
    loop {
        let page = match &a.todo {
            Some(actor) => engine.inbox(&actor.as_str().into(), &q)?,
            None => engine.list(&q)?,
        };
        for d in page.states {
            if found.len() == a.limit {
                return Ok((found, now));
            }
            found.push(d);
        }
        match page.next_page_token {
            Some(t) => q.page_token = Some(t),
            None => return Ok((found, now)),
        }
    }
}

/// The data directory to use: the flag, else the config's, else `data`.
/// Where operator commands work: `--store` when it names PostgreSQL, else `--data-dir`,
/// else the configuration's `store` (PostgreSQL) or `data_dir`, else `data`. A PostgreSQL
/// store is passed on as its URL.
pub(crate) fn data_dir(
    flag: Option<PathBuf>,
    store: Option<String>,
    config: Option<&PathBuf>,
) -> Result<PathBuf> {
    if let Some(url) = store.filter(|s| crate::config::is_postgres(s)) {
        return Ok(PathBuf::from(url));
    }
    if let Some(d) = flag {
        return Ok(d);
    }
    match config
        .cloned()
        .or_else(|| Some(PathBuf::from("workflow.toml")).filter(|p| p.exists()))
    {
        Some(p) => {
            let c = crate::config::ServerConfig::read(&p)?;
            Ok(match c.postgres_url()? {
                Some(url) => PathBuf::from(url),
                None => c.data_dir,
            })
        }
        None => Ok(PathBuf::from("data")),
    }
}

/// `token new`: 32 random bytes from the operating system, as 64 hex digits.
pub(crate) fn new_token(system: &str) -> Result<NewToken> {
    let system = system.trim();
    if system.is_empty() || system.contains(['"', '\\', '\n']) {
        bail!("--system must be a plain name, e.g. archive-system");
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness from the OS: {e}"))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let sha256 = workflow_grpc::sha256(&token)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(NewToken {
        system: system.to_owned(),
        token,
        sha256,
    })
}

/// `history --actor`: the directory stream's changes to one actor, each described against
/// the actor's record before it.
pub(crate) fn actor_history(data_dir: &Path, actor: &str) -> Result<Vec<ActorChange>> {
    let engine = open(data_dir)?;
    let id = workflow_core::ActorId::from(actor.trim());
    let events = engine.actor_history(&id)?;
    if events.is_empty() {
        bail!("actor {id} has no directory history (not in the directory)");
    }
    let mut before: Option<workflow_core::directory::Actor> = None;
    let mut changes = Vec::new();
    for e in events {
        let event = e
            .event()
            .with_context(|| format!("position {}", e.position))?;
        let Some(d) = event.data.directory() else {
            continue;
        };
        let (system, reason) = d.provenance();
        let what = match d {
            workflow_core::directory::DirectoryEvent::ActorPut { actor, .. } => {
                let w = workflow_core::directory::describe_actor_change(before.as_ref(), actor);
                before = Some(actor.clone());
                w
            }
            workflow_core::directory::DirectoryEvent::Imported { actors, .. } => {
                match actors.iter().find(|a| a.id == id) {
                    Some(a) => {
                        let w = workflow_core::directory::describe_actor_change(None, a);
                        before = Some(a.clone());
                        w
                    }
                    None => continue,
                }
            }
            workflow_core::directory::DirectoryEvent::ActorDeactivated { .. } => {
                "deactivated".to_owned()
            }
            workflow_core::directory::DirectoryEvent::ActorReactivated { .. } => {
                "reactivated".to_owned()
            }
            workflow_core::directory::DirectoryEvent::UnitPut { .. } => continue,
        };
        changes.push(ActorChange {
            position: e.position,
            at: e.recorded_at,
            system: system.to_owned(),
            step: d.step(),
            what,
            reason: reason.to_owned(),
        });
    }
    Ok(changes)
}
