//! What the commands found, for people (aligned text, times in China Standard Time) or for
//! machines (JSON with `--json`). Nothing here opens a store or changes anything.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::{FixedOffset, Offset, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use workflow_core::{
    ActorId, DocumentId, FlowState, Timestamp, UnitCode, incoming::Receipt, outgoing::Document,
    route::StageSpec,
};
use workflow_store::{
    Engine, Envelope, LogHead, access::AccessReport, export::Manifest, export::PackageReport,
    read::Stats, replay::CopyReport, replay::VerifyReport,
};

mod item;
mod sheet;
pub(crate) use item::item;
pub(crate) use sheet::sheet;

/// China Standard Time, in which operators read times.
pub(crate) fn cst() -> FixedOffset {
    // 8 hours is within FixedOffset's range, so the fallback is never taken.
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| Utc.fix())
}

/// A time as operators read it.
pub(crate) fn local(t: Timestamp) -> String {
    workflow_core::ids::china_time(t)
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

/// The names of the directory's actors, for labels like `李强 li.qiang`.
#[derive(Debug, Default)]
pub(crate) struct Names(BTreeMap<ActorId, String>);

impl Names {
    /// The names in an engine's directory.
    pub(crate) fn of(engine: &Engine) -> Names {
        Names(
            engine
                .actors()
                .into_iter()
                .filter(|a| !a.name.is_empty())
                .map(|a| (a.id, a.name))
                .collect(),
        )
    }

    /// `name id`, or the id alone for an actor without a name.
    fn label(&self, id: &ActorId) -> String {
        match self.0.get(id) {
            Some(name) => format!("{name} {id}"),
            None => id.to_string(),
        }
    }
}

/// The command line shows people as `name id`, units by code and times in China time.
impl workflow_core::sheet::Names for Names {
    fn actor(&self, id: &ActorId) -> String {
        self.label(id)
    }
}

/// A document's timeline: its title, its events, and the names of the actors in them.
#[derive(Debug)]
pub(crate) struct Timeline {
    pub(crate) id: DocumentId,
    pub(crate) title: String,
    pub(crate) events: Vec<Envelope>,
    pub(crate) names: Names,
}

/// The timeline.
/// `history`: the timeline, one line per event; with `json`, one envelope per line.
pub(crate) fn timeline(t: &Timeline, json: bool) -> Result<()> {
    if json {
        for e in &t.events {
            println!("{}", serde_json::to_string(e)?);
        }
        return Ok(());
    }
    println!("《{}》 {} — {} events", t.title, t.id, t.events.len());
    for e in &t.events {
        let data = e
            .event()
            .with_context(|| format!("position {}", e.position))?
            .data;
        println!(
            "{:>3}. {}  {:<18} {:<6} {}",
            e.version,
            local(e.recorded_at),
            t.names.label(&e.actor),
            data.step(),
            workflow_core::summary::summary(&data, &t.names)
        );
    }
    Ok(())
}

/// A label of the 批办单 padded to four wide (CJK) characters, so the columns line up.
fn pad(label: &str) -> String {
    pad_to(label, 8)
}

/// `text` padded with spaces to `columns` terminal columns (a Chinese character takes two).
fn pad_to(text: &str, columns: usize) -> String {
    let width: usize = text.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum();
    format!("{text}{}", " ".repeat(columns.saturating_sub(width)))
}

/// `show` for a 收文: the registration line as a 收文登记簿 has it, then the 批办单 (拟办意见,
/// 领导批示, 承办情况, 办结) or the 传阅 marks; with `json`, its state as JSON.
pub(crate) fn receipt(r: &Receipt, names: &Names, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(r)?);
        return Ok(());
    }
    let reg = r.registration();
    println!("《{}》", reg.title);
    println!("  id            {}", r.id());
    println!(
        "  version       {} (updated {})",
        r.version(),
        local(r.updated_at())
    );
    println!(
        "  step          {} ({})",
        r.step().name(),
        r.step().chinese()
    );
    println!(
        "  收文登记簿    收文编号 | 收文日期 | 来文单位 | 来文字号 | 文种 | 密级 | 紧急程度 | 页数 | 办结时限 | 回复"
    );
    println!(
        "                {} | {} | {} | {} | {} | {} | {} | {}页 | {} | {}",
        r.number(),
        reg.received_on,
        reg.from,
        if reg.from_number.is_empty() {
            "-"
        } else {
            &reg.from_number
        },
        reg.kind.chinese(),
        reg.classification.chinese(),
        reg.urgency.chinese(),
        reg.pages,
        r.deadline()
            .map_or_else(|| "-".to_owned(), |d| d.to_string()),
        if reg.reply_required {
            "需回复"
        } else {
            "无需回复"
        }
    );
    println!(
        "  receiving     {} (registered by {})",
        r.unit(),
        names.label(r.registrar())
    );
    if let Some(source) = reg.source {
        println!("  source        发文 {source} of this system");
    }
    for a in &reg.attachments {
        println!("  attachment    {}  sha256 {}", a.name, a.sha256);
    }
    let opinion_line = |label: &str, step: &str| {
        for o in r.opinions().iter().filter(|o| o.step == step) {
            println!(
                "  {}  {}  {}  {}",
                pad(label),
                names.label(&o.actor),
                local(o.at),
                o.text
            );
        }
    };
    println!("  ── 批办单 ──");
    opinion_line("初审", "screen");
    opinion_line("退文", "reject");
    opinion_line("拟办意见", "propose");
    opinion_line("会批", "comment");
    opinion_line("转批", "transfer");
    opinion_line("领导批示", "instruct");
    if let Some(i) = r.instruction() {
        println!(
            "  {}  主办 {}{}  时限 {}{}",
            pad(""),
            i.lead_unit,
            if i.co_units.is_empty() {
                String::new()
            } else {
                format!(
                    "  协办 {}",
                    i.co_units
                        .iter()
                        .map(UnitCode::as_str)
                        .collect::<Vec<_>>()
                        .join("、")
                )
            },
            i.deadline,
            if i.supervise { "  督办" } else { "" }
        );
    }
    for n in r.progress() {
        println!(
            "  {}  [{}] {}  {}  {}",
            pad("承办情况"),
            n.unit,
            names.label(&n.actor),
            local(n.at),
            n.text
        );
    }
    for n in r.co_inputs().values() {
        println!(
            "  {}  [{} 协办] {}  {}  {}",
            pad("承办情况"),
            n.unit,
            names.label(&n.actor),
            local(n.at),
            n.text
        );
    }
    for u in r.pending_co_units() {
        println!("  {}  [{u} 协办] 未反馈", pad("承办情况"));
    }
    opinion_line("延期申请", "extension");
    opinion_line("延期审批", "extension_decision");
    if let Some(e) = r.extension() {
        println!(
            "  {}  待审批: 延至 {} ({})",
            pad("延期"),
            e.until,
            names.label(&e.by)
        );
    }
    opinion_line("退回", "send_back");
    for (reader, mark) in r.readers() {
        // 阅办 (to act on, by a day) or 阅知.
        let how = r
            .acting()
            .get(reader)
            .map(|d| format!("阅办（{d} 前）"))
            .unwrap_or_else(|| "阅知".to_owned());
        match mark {
            Some(m) => println!(
                "  {}  {} {how} 已阅 {}  {}",
                pad("传阅"),
                names.label(reader),
                local(m.at),
                m.opinion
            ),
            None => println!("  {}  {} {how} 未阅", pad("传阅"), names.label(reader)),
        }
    }
    if let Some(c) = r.closure() {
        println!(
            "  {}  {}  {}  {}",
            pad("办结"),
            names.label(&c.by),
            local(c.at),
            c.result
        );
        if !c.reply.is_empty() {
            println!("  {}  {}", pad("答复"), c.reply);
        }
    }
    if let Some(a) = r.archive() {
        println!(
            "  {}  档号 {}  {}  fixity {}",
            pad("归档"),
            a.reference,
            a.reference.retention.chinese(),
            a.fixity_hash.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}

/// The 正文 file and attachments a document names, one line each.
pub(crate) fn files(files: &workflow_core::content::DocumentFiles) {
    let main = files.main.as_deref().map(|f| ("正文", f));
    let attachments = files.attachments.iter().map(|f| ("附件", f));
    for (label, f) in main.into_iter().chain(attachments) {
        println!(
            "  {}  {}  {} bytes, {}  sha256 {}",
            pad(label),
            f.name,
            f.size,
            f.media_type,
            f.digest
        );
    }
}

/// `show`: the document for people; with `json`, its state as JSON.
pub(crate) fn document(d: &Document, names: &Names, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(d)?);
        return Ok(());
    }
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
        names.label(d.drafter()),
        d.drafter_unit(),
        local(d.created_at())
    );
    println!(
        "  main / cc     {} / {}",
        f.main_recipients.join("、"),
        f.cc.join("、")
    );
    if let Some(a) = &f.annotation {
        println!("  附注          （{a}）");
    }
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
                    format!("审核 {}", names.label(reviewer))
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
    // Each acknowledging unit's 收文, registered with it (the id derives from both).
    for (unit, at) in d.acknowledged() {
        println!(
            "  acknowledged  {unit} {}  → 收文 {}",
            local(*at),
            workflow_core::incoming::linked_receipt_id(d.id(), unit)
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
                names.label(&o.actor),
                o.unit
                    .as_ref()
                    .map(|u| format!("[{u}] "))
                    .unwrap_or_default(),
                o.text
            );
        }
    }
    Ok(())
}

/// `retention-schedule`: the 保管期限表 archiving proposes from, as configured.
pub(crate) fn retention_schedule(
    schedule: &workflow_core::archive::RetentionSchedule,
    configured: bool,
) {
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
        let flow = format!("{} {}", r.flow.label(), r.flow);
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
}

/// `verify`: the report; `false` when anything is broken.
pub(crate) fn verify(
    report: &VerifyReport,
    access: &workflow_store::access::AccessReport,
    against: Option<&LogHead>,
    secs: f64,
) -> bool {
    let log_intact = verify_log(report, against, secs);
    match &access.first_break {
        None => println!(
            "access log: {} entries (reads of classified documents), chain intact",
            access.checked
        ),
        Some((position, reason)) => {
            println!(
                "access log: {} entries checked before the break",
                access.checked
            );
            println!("access log BROKEN at position {position}: {reason}");
        }
    }
    log_intact && access.is_intact()
}

fn verify_log(report: &VerifyReport, against: Option<&LogHead>, secs: f64) -> bool {
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
            println!(
                "  published 月通报: {} produced again from the log, digests equal",
                report.bulletins_checked
            );
            println!(
                "  files (正文, attachments): {} read again, digests equal{}",
                report.files_checked,
                if report.files_not_kept > 0 {
                    format!(
                        "; {} named by documents but kept elsewhere (registered before files were kept)",
                        report.files_not_kept
                    )
                } else {
                    String::new()
                }
            );
            for f in &report.file_problems {
                println!(
                    "  BROKEN file {}: {} (named by {})",
                    f.digest,
                    f.reason,
                    if f.documents.is_empty() {
                        "no document".to_owned()
                    } else {
                        f.documents
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                );
            }
            println!(
                "  issued 公文 (印发): {} printed again from the log, byte for byte equal to the kept copy{}",
                report.printed_checked,
                if report.printed_not_checked.is_empty() {
                    String::new()
                } else {
                    format!(
                        "; {} could not be printed the same way here",
                        report.printed_not_checked.len()
                    )
                }
            );
            for p in &report.printed_not_checked {
                println!(
                    "    not checked {} ({}): {}",
                    p.number, p.document, p.reason
                );
            }
            for p in &report.printed_problems {
                println!(
                    "  BROKEN issued 公文 {} ({}): {}",
                    p.number, p.document, p.reason
                );
            }
            if let Some(w) = &report.extends {
                println!("  extends the witness head {w}: yes");
            }
            println!("witness head (keep it elsewhere): {}", report.head());
            eprintln!("({:.0} events/s)", report.checked as f64 / secs.max(1e-9));
            report.is_intact()
        }
        Some(b) => {
            if b.position > report.checked {
                println!("{} events checked before the break", report.checked);
            } else {
                // The chain is whole; a published record it holds no longer matches it.
                println!("{} events checked: chain intact", report.checked);
            }
            println!("BROKEN at position {}: {}", b.position, b.reason);
            if let Some(w) = against {
                println!("  does NOT show that the log extends the witness head {w}");
            }
            false
        }
    }
}

/// `unreferenced-files`: the files found (and removed, with `deleted`).
pub(crate) fn unreferenced_files(files: &[workflow_store::storage::KeptContent], deleted: bool) {
    let total: u64 = files.iter().map(|f| f.size).sum();
    println!(
        "{} file(s) no event names, {total} bytes{}",
        files.len(),
        if deleted {
            ": removed"
        } else {
            " (remove them with --delete)"
        }
    );
    for f in files {
        println!("  {}  {:>12} bytes", f.digest, f.size);
    }
}

/// `copy`: what was copied, whether the copy equals the source, and its verification.
pub(crate) fn copy(c: &Copied, from: &Path, to: &Path) -> bool {
    let r = &c.report;
    println!(
        "copied {} to {} in {:.2}s",
        crate::config::shown(from),
        crate::config::shown(to),
        c.secs
    );
    println!("  events           {}", r.events);
    println!("  access log       {} entries", r.access_entries);
    println!(
        "  files            {} (正文, attachments), {}",
        r.files,
        if r.files_equal {
            "the same as the source's"
        } else {
            "NOT the same as the source's"
        }
    );
    match &r.head {
        Some(h) => println!("  head             {}:{}", h.position, h.hash),
        None => println!("  head             (empty log)"),
    }
    println!(
        "  heads            {}",
        if r.heads_equal {
            "equal (log and access log)"
        } else {
            "DIFFERENT: the source changed during the copy, or the copy is incomplete"
        }
    );
    println!(
        "  projections      {}",
        match r.projections_equal {
            Some(true) => "rebuilt from the copied log, equal to the source's entry for entry",
            Some(false) =>
                "DIFFERENT from the source's (run `workflow rebuild` on the source, then compare again)",
            None => "rebuilt from the copied log (the source's have an older layout: not compared)",
        }
    );
    if r.legacy_directory {
        println!(
            "  directory        kept beside the log by an early build: copied as it was; the first \
             open of the copy records it in the log, as it would have the original's"
        );
    }
    let log_intact = verify_log(&r.verify, None, c.secs);
    let access_intact = match &c.access {
        Some(access) => {
            match &access.first_break {
                None => println!(
                    "access log: {} entries (reads of classified documents), chain intact",
                    access.checked
                ),
                Some((position, reason)) => {
                    println!("access log BROKEN at position {position}: {reason}")
                }
            }
            access.is_intact()
        }
        None => true,
    };
    r.is_equal() && log_intact && access_intact
}

/// `rebuild`: how many events were replayed, and how fast.
pub(crate) fn rebuild(events: u64, secs: f64) {
    println!(
        "rebuilt projections from {events} events in {secs:.2}s ({:.0} events/s)",
        events as f64 / secs.max(1e-9)
    );
}

/// `export`: what was written where.
pub(crate) fn export(m: &Manifest, out: &Path) {
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
}

/// `verify-export`: the package's problems; `false` when there is one.
pub(crate) fn verify_export(report: &PackageReport, path: &Path) -> bool {
    if report.is_intact() {
        println!(
            "{}: intact ({} events, every hash and digest checked)",
            path.display(),
            report.events
        );
        true
    } else {
        println!("{}: {} problem(s):", path.display(), report.problems.len());
        for p in &report.problems {
            println!("  - {p}");
        }
        false
    }
}

/// `stats`: counts for people, or as JSON.
pub(crate) fn stats(s: &Stats, json: bool) -> Result<()> {
    if json {
        let v = serde_json::json!({
            "last_position": s.last_position, "documents": s.documents, "size_on_disk": s.size_on_disk,
            "by_state": s.by_state, "by_unit": s.by_unit, "by_kind": s.by_kind, "by_year": s.by_year,
            "by_flow": s.by_flow,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!("documents     {}", s.documents);
    println!("events        {} (last position)", s.last_position);
    println!("size on disk  {:.1} MiB", s.size_on_disk as f64 / 1048576.0);
    for (title, map) in [
        ("by flow", &s.by_flow),
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

/// `list`: one line per document (overdue ones marked as of `now`), or one JSON document
/// per line.
pub(crate) fn list(documents: &[FlowState], now: Timestamp, json: bool) -> Result<()> {
    for s in documents {
        if json {
            println!("{}", String::from_utf8(s.to_json(false)?)?);
            continue;
        }
        let p = s.particulars();
        let overdue = if s.is_overdue(now) { " OVERDUE" } else { "" };
        // The kind's column holds the unit where a flow has no kinds (督办: the lead unit),
        // the number's the 办理时限 where it has no numbers.
        let kind = p
            .kind
            .map(|k| k.chinese().to_owned())
            .or_else(|| p.unit.map(ToString::to_string))
            .unwrap_or_default();
        let number = p
            .number
            .or_else(|| p.deadline.map(|d| format!("时限 {d}")))
            .unwrap_or_else(|| "-".into());
        println!(
            "{}  {} {} {} {} {}{overdue}",
            s.id(),
            s.kind().label(),
            pad_to(&format!("{} ({})", p.state, p.state_label), 24),
            pad_to(&kind, 4),
            pad_to(&number, 20),
            s.title()
        );
    }
    if documents.is_empty() && !json {
        eprintln!("no documents match");
    }
    Ok(())
}

/// `token new`: the token for the system's operator, the lines for the server's operator.
pub(crate) fn new_token(t: &NewToken) {
    println!(
        "Token for {} (give it to that system; it is shown only now):",
        t.system
    );
    println!();
    println!("  {}", t.token);
    println!();
    println!("Add to the server's workflow.toml (only the digest is stored):");
    println!();
    println!("[[systems]]");
    println!("name = \"{}\"", t.system);
    println!("token_sha256 = \"{}\"", t.sha256);
    println!(
        "# acts_for = [\"*\"]              # or the units / roles it may name, e.g. [\"Archivist\"]"
    );
    println!(
        "# max_classification = \"None\"   # the highest 密级 it gets without naming an actor"
    );
}

/// `history --actor`: who granted the actor what, when, through which system and why.
pub(crate) fn actor_history(actor: &str, changes: &[ActorChange], json: bool) -> Result<()> {
    if json {
        for c in changes {
            println!("{}", serde_json::to_string(c)?);
        }
        return Ok(());
    }
    println!(
        "{actor} — {} directory change{}",
        changes.len(),
        if changes.len() == 1 { "" } else { "s" }
    );
    for c in changes {
        println!(
            "{:>6}. {}  {:<16} {:<8} {}  (reason: {})",
            c.position,
            local(c.at),
            c.system,
            c.step,
            c.what,
            c.reason
        );
    }
    Ok(())
}

/// `access-log`: one line per recorded read; with `json`, one entry per line.
pub(crate) fn access_log(
    entries: &[workflow_store::access::AccessEntry],
    json: bool,
) -> Result<()> {
    if json {
        for e in entries {
            println!("{}", serde_json::to_string(e)?);
        }
        return Ok(());
    }
    println!("{} recorded reads of classified documents", entries.len());
    for e in entries {
        println!(
            "{:>6}. {}  {:<24} {:<14} {:<9} {} {}  {}",
            e.position,
            local(e.at),
            e.system,
            e.actor.as_ref().map_or("-", |a| a.0.as_str()),
            e.what,
            e.document_id,
            e.classification.chinese(),
            e.detail
        );
    }
    Ok(())
}

/// Notices, a line each (or JSON), as a channel cleared for 非密 documents words them; the
/// position to read from next on stderr.
pub(crate) fn notifications(
    notices: &[workflow_core::notice::Notice],
    next: u64,
    base_url: &str,
    json: bool,
) -> Result<()> {
    use workflow_core::directory::Classification;
    for n in notices {
        let text = n.text(Classification::None, base_url);
        if json {
            let mut v = serde_json::to_value(n)?;
            if let Some(o) = v.as_object_mut() {
                o.insert("text".into(), text.into());
                // As a 非密 channel: a classified document's title and number stay out.
                if n.classification != Classification::None {
                    o.remove("title");
                    o.remove("number");
                }
            }
            println!("{v}");
        } else {
            println!(
                "{:>6}  {:<9}  {:<14}  {}",
                n.position,
                n.kind.name(),
                n.recipient.as_str(),
                text
            );
        }
    }
    eprintln!("{} notices; next position {next}", notices.len());
    Ok(())
}

/// One outbox delivery: a line (id, state, tries, channel, address, recipient, why it
/// failed) or, with `json`, the delivery as stored.
pub(crate) fn delivery(d: &workflow_store::notify::Delivery, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string(d)?);
        return Ok(());
    }
    let to = if d.address.is_empty() {
        d.recipient.to_string()
    } else {
        format!("{} <{}>", d.recipient, d.address)
    };
    println!(
        "{}  {:>6}  {:<9}  {}次  {:<10}  {:<8}  {}{}",
        d.id,
        d.position,
        d.state.chinese(),
        d.attempts,
        d.channel,
        d.kind.name(),
        to,
        d.last_error
            .as_deref()
            .map(|e| format!("  — {e}"))
            .unwrap_or_default()
    );
    Ok(())
}

/// Where the outbox stands, on stderr: the counts, then each channel's place.
pub(crate) fn outbox_status(s: &workflow_store::notify::OutboxStatus) {
    use workflow_store::notify::DeliveryState;
    eprintln!(
        "outbox: log at position {}; {} 已送达, {} 待重试, {} 发送失败",
        s.head,
        s.count(DeliveryState::Delivered),
        s.count(DeliveryState::Pending),
        s.count(DeliveryState::Dead)
    );
    for c in &s.channels {
        let behind = s.head.saturating_sub(c.through);
        let held = if c.holder.is_empty() {
            "held by none".to_owned()
        } else {
            format!(
                "held by {} until {}",
                c.holder,
                local(chrono::DateTime::from_timestamp_millis(c.lease_until).unwrap_or_default())
            )
        };
        eprintln!(
            "  {}: settled through {} ({behind} behind), {} delivered at the first try, {held}",
            c.channel, c.through, c.delivered
        );
    }
}

/// A bulletin's publication record, on stderr (the bulletin itself is on stdout): when,
/// by whom, at what clearance, and whether the copy just printed is the one published.
pub(crate) fn publication(
    p: &workflow_core::supervision::Publication,
    position: Option<u64>,
    printed: &str,
) {
    let d = p.digests();
    let digest = workflow_core::supervision::sha256_hex(printed);
    let same = [&d.json, &d.csv, &d.markdown, &d.html].contains(&&digest);
    match position {
        Some(pos) => eprintln!("published at log position {pos}:"),
        None => eprintln!("published earlier:"),
    }
    eprintln!(
        "  {} by {} at {}, items up to {} ({} items)",
        p.month(),
        p.published_by(),
        local(p.published_at()),
        p.clearance().chinese(),
        p.items()
    );
    eprintln!(
        "  sha256 json {}\n         csv {}\n          md {}\n        html {}",
        d.json, d.csv, d.markdown, d.html
    );
    eprintln!(
        "  the copy printed {} the one published",
        if same { "is" } else { "is NOT" }
    );
}

/// What `copy` did and found.
#[derive(Debug)]
pub(crate) struct Copied {
    pub(crate) report: CopyReport,
    /// The copy's access log verified (not for a store of an early build, which only an
    /// engine opening the copy completes: see [`CopyReport::legacy_directory`]).
    pub(crate) access: Option<AccessReport>,
    pub(crate) secs: f64,
}

/// A new bearer token for a system, and its SHA-256 for the configuration.
#[derive(Debug)]
pub(crate) struct NewToken {
    pub(crate) system: String,
    pub(crate) token: String,
    pub(crate) sha256: String,
}

/// One directory change that concerns an actor, in words.
#[derive(Debug, serde::Serialize)]
pub(crate) struct ActorChange {
    pub(crate) position: u64,
    pub(crate) at: Timestamp,
    pub(crate) system: String,
    pub(crate) step: &'static str,
    pub(crate) what: String,
    pub(crate) reason: String,
}

/// What `migrate` found.
#[derive(Debug)]
pub(crate) enum Migrated {
    /// A sled data directory (its layout is upgraded when it is opened).
    Sled(String),
    /// A PostgreSQL database, its schema version before and after.
    Postgres {
        place: String,
        before: u32,
        now: u32,
    },
}

/// `migrate`: what was done.
pub(crate) fn migrated(m: &Migrated) {
    match m {
        Migrated::Sled(place) => println!(
            "{place}: a sled data directory; its layout is upgraded when it is opened (nothing to migrate)"
        ),
        Migrated::Postgres {
            place,
            before: 0,
            now,
        } => {
            println!("{place}: an empty database: created the schema, version {now}")
        }
        Migrated::Postgres { place, before, now } if before < now => {
            println!("{place}: schema migrated from version {before} to {now}")
        }
        Migrated::Postgres { place, now, .. } => {
            println!("{place}: schema version {now} (this build's): nothing to migrate")
        }
    }
}
