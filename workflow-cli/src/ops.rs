//! The operator subcommands: they work directly on a data directory (refusing, not
//! corrupting, when a server holds it) and print for people, or JSON with `--json`.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{FixedOffset, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use workflow_core::{Document, DocumentId, EventData, Kind, StageSpec, State, Timestamp, UnitCode};
use workflow_store::{AsOf, Engine, Envelope, ListQuery, LogHead, VerifyOptions};

/// China Standard Time, in which operators read times.
fn cst() -> FixedOffset {
    // 8 hours is within FixedOffset's range, so the fallback is never taken.
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

/// A time as operators read it.
pub(crate) fn local(t: Timestamp) -> String {
    t.with_timezone(&cst())
        .format("%Y-%m-%d %H:%M:%S CST")
        .to_string()
}

/// Opens the engine of an existing data directory for an operator command. A directory
/// that holds no workflow store (a mistyped path, an empty or unrelated folder) is refused
/// and left exactly as it was: only `serve` and `init` create stores.
pub(crate) fn open(data_dir: &Path) -> Result<Engine> {
    Engine::open_with(workflow_store::Config {
        create: false,
        ..workflow_store::Config::new(data_dir)
    })
    .with_context(|| format!("cannot open data directory {}", data_dir.display()))
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

/// Progress for long walks: a bar with rate and ETA on a terminal, plain lines otherwise.
#[derive(Clone)]
pub(crate) struct Progress {
    bar: Option<ProgressBar>,
    what: &'static str,
}

impl Progress {
    pub(crate) fn new(what: &'static str) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            if let Ok(style) = ProgressStyle::with_template(
                "{msg} [{bar:40}] {human_pos}/{human_len} events  {per_sec}  ETA {eta}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(what);
            bar
        });
        Progress { bar, what }
    }

    pub(crate) fn update(&self, done: u64, total: u64) {
        match &self.bar {
            Some(bar) => {
                bar.set_length(total);
                bar.set_position(done);
            }
            None => {
                let pct = if total == 0 {
                    100.0
                } else {
                    done as f64 * 100.0 / total as f64
                };
                eprintln!("{}: {done}/{total} events ({pct:.1}%)", self.what);
            }
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `verify`: the hash chain, the log's end, the indexes, the archived documents' fixity
/// digests and optionally a witness head; `Ok(false)` when anything is broken.
pub(crate) fn verify(data_dir: &Path, against: Option<LogHead>) -> Result<bool> {
    let engine = open(data_dir)?;
    let progress = Progress::new("verify");
    let started = std::time::Instant::now();
    let options = VerifyOptions {
        against: against.clone(),
    };
    let report = engine.verify_with(&options, |d, t| progress.update(d, t))?;
    progress.finish();
    let secs = started.elapsed().as_secs_f64();
    match &report.first_break {
        None => {
            println!("{} events checked: intact", report.checked);
            println!("head hash {}", report.head_hash);
            println!(
                "  chain, end of log (= head recorded with the last commit), stream index and \
                 command records: consistent"
            );
            println!(
                "  fixity digests of {} archived documents: recomputed, equal",
                report.fixity_checked
            );
            if let Some(w) = &report.extends {
                println!("  extends the witness head {w}: yes");
            }
            println!("witness head (keep it elsewhere): {}", report.head());
            eprintln!("({:.0} events/s)", report.checked as f64 / secs.max(1e-9));
            Ok(true)
        }
        Some(b) => {
            println!("{} events checked before the break", report.checked);
            println!("BROKEN at position {}: {}", b.position, b.reason);
            if let Some(w) = &against {
                println!("  does NOT show that the log extends the witness head {w}");
            }
            Ok(false)
        }
    }
}

/// `rebuild`: drops and replays every projection.
pub(crate) fn rebuild(data_dir: &Path, from_scratch: bool) -> Result<()> {
    let engine = open(data_dir)?;
    let progress = Progress::new("rebuild");
    let p = progress.clone();
    let started = std::time::Instant::now();
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
    let secs = started.elapsed().as_secs_f64();
    println!(
        "rebuilt projections from {n} events in {secs:.2}s ({:.0} events/s)",
        n as f64 / secs.max(1e-9)
    );
    Ok(())
}

fn actor_label(engine: &Engine, id: &workflow_core::ActorId) -> String {
    match engine.actor(id) {
        Some(a) if !a.name.is_empty() => format!("{} {}", a.name, a.id),
        _ => id.to_string(),
    }
}

/// Warnings a draft was accepted with, as a timeline shows them.
fn flagged(warnings: &[String]) -> String {
    warnings
        .iter()
        .map(|w| format!(" ⚠ {w}"))
        .collect::<String>()
}

fn detail(data: &EventData) -> String {
    match data {
        EventData::Drafted {
            fields, warnings, ..
        } => format!(
            "{} 《{}》{}",
            fields.kind.chinese(),
            fields.title,
            flagged(warnings)
        ),
        EventData::Revised { fields, warnings } => {
            format!("《{}》{}", fields.title, flagged(warnings))
        }
        EventData::SubmittedForReview { round, route } => {
            let stages: Vec<String> = route
                .iter()
                .map(|s| match s {
                    StageSpec::Review { reviewer, .. } => format!("审核:{reviewer}"),
                    StageSpec::Countersign { departments, .. } => {
                        format!(
                            "会签:{}",
                            departments
                                .iter()
                                .map(UnitCode::as_str)
                                .collect::<Vec<_>>()
                                .join("/")
                        )
                    }
                })
                .collect();
            format!("第{round}轮 {}", stages.join(" → "))
        }
        EventData::Approved { opinion, .. } => opinion.clone(),
        EventData::Countersigned { unit, opinion, .. } => format!("[{unit}] {opinion}"),
        EventData::CountersignerAdded { unit, .. } => format!("加入 {unit}"),
        EventData::Returned { reason, to, .. } => format!("→ {} 理由: {reason}", to.chinese()),
        EventData::Withdrawn { reason } => reason.clone(),
        EventData::Signed {
            signer_name,
            opinion,
            date,
            unit,
        } => format!("[{unit}] {signer_name} {date} {opinion}"),
        EventData::Issued {
            number,
            issue_date,
            copies,
            ..
        } => format!("{number} {issue_date} {copies}份"),
        EventData::Acknowledged { recipient } => recipient.to_string(),
        EventData::Archived {
            reference,
            scheduled_retention,
            deviation,
            ..
        } => {
            let mut text = format!("档号 {reference} {}", reference.retention.chinese());
            if let (Some(s), Some(why)) = (scheduled_retention, deviation) {
                text.push_str(&format!("（偏离保管期限表的{}：{why}）", s.chinese()));
            }
            text
        }
        EventData::Voided { reason } => reason.clone(),
        EventData::CountersignerRemoved { unit, .. } => format!("移出 {unit}"),
        EventData::CountersignersNotNeeded { units, .. } => {
            format!(
                "无需 {}",
                units
                    .iter()
                    .map(UnitCode::as_str)
                    .collect::<Vec<_>>()
                    .join("/")
            )
        }
        EventData::ReviewerAdded {
            reviewer,
            before,
            stage,
        } => {
            format!(
                "{} 审核:{reviewer} (环节{})",
                if *before { "前加" } else { "后加" },
                stage + 1
            )
        }
        EventData::Reassigned {
            from, to, reason, ..
        } => format!("{from} → {to} {reason}"),
        EventData::Delegated {
            from, to, reason, ..
        } => format!("{from} 委派 {to} {reason}"),
        EventData::DelegateReported { agree, opinion, .. } => {
            format!("{} {opinion}", if *agree { "同意" } else { "不同意" })
        }
        EventData::ReturnedToStage { stage, reason, .. } => {
            format!("→ 环节{} 理由: {reason}", stage + 1)
        }
        EventData::Reminded {
            due_at,
            waiting_for,
            escalated_to,
            ..
        } => format!(
            "逾期(时限 {}) 待办: {}{}",
            local(*due_at),
            waiting_for.join(", "),
            escalated_to
                .as_ref()
                .map(|a| format!(" 督办→{a}"))
                .unwrap_or_default()
        ),
    }
}

/// `history`: a document's events as a timeline.
pub(crate) fn history(data_dir: &Path, id: &str, json: bool) -> Result<()> {
    let engine = open(data_dir)?;
    let id = document_id(id)?;
    let events = engine.history(id)?;
    if events.is_empty() {
        bail!("document {id} not found");
    }
    if json {
        for e in &events {
            println!("{}", serde_json::to_string(e)?);
        }
        return Ok(());
    }
    print_timeline(&engine, id, &events)
}

fn print_timeline(engine: &Engine, id: DocumentId, events: &[Envelope]) -> Result<()> {
    let title = engine
        .document(id)?
        .map(|d| d.fields().title.clone())
        .unwrap_or_default();
    println!("《{title}》 {id} — {} events", events.len());
    for e in events {
        let data = e
            .event()
            .with_context(|| format!("position {}", e.position))?
            .data;
        println!(
            "{:>3}. {}  {:<18} {:<6} {}",
            e.version,
            local(e.recorded_at),
            actor_label(engine, &e.actor),
            data.step(),
            match &data {
                workflow_core::FlowEvent::Outgoing(d) => detail(d),
            }
        );
    }
    Ok(())
}

/// `show`: the document, now or as it was.
pub(crate) fn show(
    data_dir: &Path,
    id: &str,
    version: Option<u64>,
    at: Option<Timestamp>,
    json: bool,
) -> Result<()> {
    let engine = open(data_dir)?;
    let id = document_id(id)?;
    let doc = match (version, at) {
        (Some(v), _) => engine.document_as_of(id, AsOf::Version(v))?,
        (None, Some(t)) => engine.document_as_of(id, AsOf::Instant(t))?,
        (None, None) => engine
            .document(id)?
            .with_context(|| format!("document {id} not found"))?,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    print_document(&engine, &doc);
    Ok(())
}

fn print_document(engine: &Engine, d: &Document) {
    let f = d.fields();
    println!("《{}》", f.title);
    println!("  id            {}", d.id());
    println!(
        "  version       {} (updated {})",
        d.version(),
        local(d.updated_at())
    );
    println!("  state         {}", d.state());
    println!("  kind          {:?} ({})", f.kind, f.kind.chinese());
    println!(
        "  issuing unit  {}{}",
        f.issuing_unit,
        if f.co_issuing_units.is_empty() {
            String::new()
        } else {
            format!(
                " with {}",
                f.co_issuing_units
                    .iter()
                    .map(UnitCode::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    println!(
        "  classified    {:?}{}  urgency {:?}{}",
        f.classification,
        f.classification_period_years
            .map(|y| format!(" ({y} years)"))
            .unwrap_or_default(),
        f.urgency,
        if f.important { "  important" } else { "" }
    );
    println!(
        "  drafter       {} ({}), drafted {}",
        actor_label(engine, d.drafter()),
        d.drafter_unit(),
        local(d.created_at())
    );
    println!(
        "  main / cc     {} / {}",
        f.main_recipients.join("、"),
        f.cc.join("、")
    );
    if d.round() > 0 {
        println!("  round {} route:", d.round());
        for (i, s) in d.route().iter().enumerate() {
            let mark = if s.completed {
                "done"
            } else if d.current().is_some_and(|(c, _)| c == i) {
                "NOW "
            } else {
                "    "
            };
            let what = match &s.spec {
                StageSpec::Review { reviewer, .. } => {
                    format!("审核 {}", actor_label(engine, reviewer))
                }
                StageSpec::Countersign { departments, .. } => format!(
                    "会签 {}",
                    departments
                        .iter()
                        .map(|u| match s.countersigns.get(u) {
                            Some(true) => format!("{u}✓"),
                            Some(false) => format!("{u}✗"),
                            None => u.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
            };
            let due = s
                .due_at
                .map(|t| format!("  due {}", local(t)))
                .unwrap_or_default();
            println!("    {mark} {}. {what}{due}", i + 1);
        }
    }
    for s in d.signatures() {
        println!(
            "  signed        [{}] {} {} {}",
            s.unit, s.name, s.date, s.opinion
        );
    }
    if let Some(w) = d.written_date() {
        println!("  成文日期      {w}");
    }
    if let Some(i) = d.issue() {
        println!(
            "  issued        {} on {}, {} copies",
            i.number, i.issue_date, i.copies
        );
    }
    if !d.acknowledged().is_empty() {
        println!(
            "  acknowledged  {}",
            d.acknowledged()
                .keys()
                .map(UnitCode::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(a) = d.archive() {
        println!(
            "  archived      {} (fixity {})",
            a.reference,
            a.fixity_hash.as_deref().unwrap_or("-")
        );
        let scheduled = a
            .scheduled_retention
            .map_or_else(|| "not recorded".to_owned(), |r| r.to_string());
        println!(
            "  保管期限      {} (schedule: {scheduled}){}",
            a.reference.retention,
            a.deviation
                .as_ref()
                .map(|why| format!("; deviation: {why}"))
                .unwrap_or_default()
        );
    }
    for w in d.warnings() {
        println!("  warning       {w}");
    }
    if let Some(r) = d.void_reason() {
        println!("  voided        {r}");
    }
    if !d.opinions().is_empty() {
        println!("  opinions:");
        for o in d.opinions() {
            println!(
                "    round {} {:<11} {:<18} {}{}",
                o.round,
                o.step,
                actor_label(engine, &o.actor),
                o.unit
                    .as_ref()
                    .map(|u| format!("[{u}] "))
                    .unwrap_or_default(),
                o.text
            );
        }
    }
}

/// `retention-schedule`: the 保管期限表 archiving proposes from, as configured.
pub(crate) fn retention_schedule(
    schedule: &workflow_core::RetentionSchedule,
    configured: bool,
) -> Result<()> {
    println!(
        "保管期限表 ({}): the first row that matches a document gives its retention",
        if configured {
            "from the configuration's [[retention]] rows"
        } else {
            "the default, drawn from 国家档案局令第8号; override with [[retention]] rows"
        }
    );
    for (i, r) in schedule.rows.iter().enumerate() {
        let kinds = if r.kinds.is_empty() {
            "every kind".to_owned()
        } else {
            r.kinds
                .iter()
                .map(|k| format!("{}({:?})", k.chinese(), k))
                .collect::<Vec<_>>()
                .join(" ")
        };
        let important = match r.important {
            None => "important or not",
            Some(true) => "important",
            Some(false) => "not important",
        };
        let flow = match r.flow {
            workflow_core::FlowKind::Outgoing => "发文 outgoing",
            workflow_core::FlowKind::Incoming => "收文 incoming",
            workflow_core::FlowKind::Supervision => "督办 supervision",
        };
        println!(
            "{:>3}. {flow}, {kinds}, {important} → {} ({})",
            i + 1,
            r.retention.chinese(),
            r.retention.code()
        );
        if !r.basis.is_empty() {
            println!("     {}", r.basis);
        }
    }
    Ok(())
}

/// `export`: writes the archive package.
pub(crate) fn export(data_dir: &Path, id: &str, out: &Path) -> Result<()> {
    let engine = open(data_dir)?;
    let id = document_id(id)?;
    let m = engine.export_document(id, out, Utc::now())?;
    println!("exported 《{}》 to {}", m.title, out.display());
    println!(
        "  events        {} (positions {}..{})",
        m.events, m.positions.0, m.positions.1
    );
    if let Some(n) = &m.document_number {
        println!("  number        {n}");
    }
    if let Some(r) = &m.archival_reference {
        println!("  reference     {r}");
    }
    println!("  fixity        {} ({})", m.fixity_hash, m.hash_algorithm);
    for f in &m.files {
        println!("  {:<13} {} bytes  sha256 {}", f.path, f.bytes, f.sha256);
    }
    Ok(())
}

/// `verify-export`: checks a package offline; `Ok(false)` when something is wrong.
pub(crate) fn verify_export(path: &Path) -> Result<bool> {
    let report = workflow_store::verify_package(path)?;
    if report.is_intact() {
        println!(
            "{}: intact ({} events, every hash and digest checked)",
            path.display(),
            report.events
        );
        Ok(true)
    } else {
        println!("{}: {} problem(s):", path.display(), report.problems.len());
        for p in &report.problems {
            println!("  - {p}");
        }
        Ok(false)
    }
}

/// `stats`.
pub(crate) fn stats(data_dir: &Path, json: bool) -> Result<()> {
    let engine = open(data_dir)?;
    let s = engine.stats()?;
    if json {
        let v = serde_json::json!({
            "last_position": s.last_position, "documents": s.documents, "size_on_disk": s.size_on_disk,
            "by_state": s.by_state, "by_unit": s.by_unit, "by_kind": s.by_kind, "by_year": s.by_year,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!("documents     {}", s.documents);
    println!("events        {} (last position)", s.last_position);
    println!("size on disk  {:.1} MiB", s.size_on_disk as f64 / 1048576.0);
    for (title, map) in [
        ("by state", &s.by_state),
        ("by unit", &s.by_unit),
        ("by kind", &s.by_kind),
        ("by year", &s.by_year),
    ] {
        let row: Vec<String> = map.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("{title:<13} {}", row.join(", "));
    }
    Ok(())
}

/// Filters of `list`.
#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// Only this state (English or Chinese name), e.g. InReview or 会签.
    #[arg(long, value_parser = parse_state)]
    state: Option<State>,
    /// Only this unit (issuing, co-issuing or drafter's), e.g. JWC.
    #[arg(long)]
    unit: Option<String>,
    /// Only this kind (English or Chinese), e.g. Circular or 通知.
    #[arg(long, value_parser = parse_kind)]
    kind: Option<Kind>,
    /// Only this year (issue year, else drafting year).
    #[arg(long)]
    year: Option<i32>,
    /// Only documents whose current stage is past its deadline now.
    #[arg(long)]
    overdue: bool,
    /// Only what waits for this actor (待办).
    #[arg(long, value_name = "ACTOR")]
    todo: Option<String>,
    /// Leave out what this actor's clearance does not cover.
    #[arg(long = "as", value_name = "ACTOR")]
    viewer: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 100)]
    limit: usize,
    /// One JSON document per line.
    #[arg(long)]
    json: bool,
}

/// `list`.
pub(crate) fn list(data_dir: &Path, a: ListArgs) -> Result<()> {
    let engine = open(data_dir)?;
    let now = Utc::now();
    let mut q = ListQuery {
        state: a.state,
        unit: a.unit.map(UnitCode),
        kind: a.kind,
        year: a.year,
        overdue_at: a.overdue.then_some(now),
        viewer: a.viewer.map(Into::into),
        page_token: None,
        page_size: a.limit.clamp(1, workflow_store::MAX_PAGE_SIZE),
    };
    let mut shown = 0;
    loop {
        let page = match &a.todo {
            Some(actor) => engine.inbox(&actor.as_str().into(), &q)?,
            None => engine.list(&q)?,
        };
        for d in &page.documents {
            if shown == a.limit {
                return Ok(());
            }
            shown += 1;
            if a.json {
                println!("{}", serde_json::to_string(d)?);
            } else {
                let number = d
                    .issue()
                    .map(|i| i.number.to_string())
                    .unwrap_or_else(|| "-".into());
                let overdue = if d.is_overdue(now) { " OVERDUE" } else { "" };
                println!(
                    "{}  {:<22} {:<4} {:<18} {}{overdue}",
                    d.id(),
                    d.state(),
                    d.kind().chinese(),
                    number,
                    d.fields().title
                );
            }
        }
        match page.next_page_token {
            Some(t) => q.page_token = Some(t),
            None => break,
        }
    }
    if shown == 0 && !a.json {
        eprintln!("no documents match");
    }
    Ok(())
}

/// The data directory to use: the flag, else the config's, else `data`.
pub(crate) fn data_dir(flag: Option<PathBuf>, config: Option<&PathBuf>) -> Result<PathBuf> {
    if let Some(d) = flag {
        return Ok(d);
    }
    match config
        .cloned()
        .or_else(|| Some(PathBuf::from("workflow.toml")).filter(|p| p.exists()))
    {
        Some(p) => Ok(crate::config::ServerConfig::read(&p)?.data_dir),
        None => Ok(PathBuf::from("data")),
    }
}
