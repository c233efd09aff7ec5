//! The operator page (系统运维), for the archive's staff and administrators: verify the log
//! with progress (optionally against a witness head), the 四性检测 of a year's archived
//! records (DA/T 70) with its CSV, the head to copy as a witness, the
//! notification outbox (where it stands, the deliveries that failed and why, 重新发送), an
//! archived document's package as a download, and counts by state and by month.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use workflow_store::LogHead;
use workflow_store::replay::{Problem, VerifyOptions};

use crate::auth::Person;
use crate::error::WebError;
use crate::pages::document_id;
use crate::{AppState, Nav};

mod archive;
use archive::CheckPanel;
pub(crate) use archive::{check_csv, check_start, check_status};
use workflow_store::archive_check::ArchiveCheck;

/// What the operator page keeps between requests: the verify run and the 四性检测 under
/// way or last finished, and the events counted per month so far (extended from where it
/// stopped).
#[derive(Debug, Default)]
pub(crate) struct OpsState {
    verify: Slot<VerifySummary>,
    check: Slot<ArchiveCheck>,
    months: Mutex<MonthCounts>,
}

/// The one run of a kind under way or last finished.
type Slot<T> = Mutex<Option<Arc<Run<T>>>>;

#[derive(Debug, Default)]
struct MonthCounts {
    counted_to: u64,
    by_month: BTreeMap<String, u64>,
}

/// A long check run in the background for the operator page (verify, 四性检测): its
/// progress while under way, then its result; one of each kind at a time.
#[derive(Debug)]
struct Run<T> {
    done: AtomicU64,
    total: AtomicU64,
    /// What it was asked, in words (the witness head; the 四性检测's scope).
    about: Option<String>,
    /// Who started it, by name (the panel is the same for every operator who opens the
    /// page: a result is shown as someone's run at some time, never as the reader's own).
    started_by: String,
    /// When, as the office writes it.
    started_at: String,
    result: Mutex<Option<Result<T, String>>>,
}

impl<T: Clone> Run<T> {
    fn new(state: &AppState, person: &Person, about: Option<String>) -> Run<T> {
        Run {
            done: AtomicU64::new(0),
            total: AtomicU64::new(state.engine.head()),
            about,
            started_by: format!("{}（{}）", person.actor.name, person.actor.id),
            started_at: crate::view::when((state.clock)()),
            result: Mutex::new(None),
        }
    }

    fn finished(&self) -> Option<Result<T, String>> {
        self.result.lock().ok().and_then(|r| r.clone())
    }

    fn progress(&self) -> (u64, u64, u64) {
        let (done, total) = (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
        );
        (done, total, (done * 100).checked_div(total).unwrap_or(0))
    }
}

/// The run in `slot`, if any.
fn current<T>(slot: &Slot<T>) -> Option<Arc<Run<T>>> {
    slot.lock().ok().and_then(|r| r.clone())
}

/// Starts `work` on a blocking thread as the run in `slot` — unless one is under way, which
/// is answered instead (one at a time) — and returns the run the page now shows.
fn start<T: Clone + Send + 'static>(
    slot: &Slot<T>,
    run: Run<T>,
    work: impl FnOnce(&Run<T>) -> Result<T, String> + Send + 'static,
) -> Result<Arc<Run<T>>, WebError> {
    let mut slot = slot
        .lock()
        .map_err(|_| WebError::Internal("operator page lock poisoned".into()))?;
    if let Some(r) = slot.as_ref()
        && r.finished().is_none()
    {
        return Ok(r.clone());
    }
    let run = Arc::new(run);
    *slot = Some(run.clone());
    let worker = run.clone();
    tokio::task::spawn_blocking(move || {
        let outcome = work(&worker);
        if let Ok(mut r) = worker.result.lock() {
            *r = Some(outcome);
        }
    });
    Ok(run)
}

/// A finished verify run, as the page shows it.
#[derive(Debug, Clone)]
pub(crate) struct VerifySummary {
    pub(crate) intact: bool,
    pub(crate) checked: u64,
    pub(crate) head: String,
    pub(crate) fixity_checked: u64,
    pub(crate) bulletins_checked: u64,
    pub(crate) problem: String,
    pub(crate) extends: String,
    pub(crate) access_entries: u64,
    pub(crate) access_intact: bool,
}

/// The verify panel, as a fragment the page polls while a run is under way.
#[derive(Template)]
#[template(path = "verify.html")]
pub(crate) struct VerifyPanel {
    running: bool,
    percent: u64,
    done: u64,
    total: u64,
    against: String,
    started_by: String,
    started_at: String,
    result: Option<VerifySummary>,
    failure: String,
    /// What was wrong with the form just sent (a malformed witness head), shown in the
    /// panel itself: the panel is swapped in place, and an error page would not be.
    refused: String,
    /// The witness head as typed, kept after a refusal.
    typed: String,
    csrf: String,
}

impl VerifyPanel {
    fn of(run: Option<&Arc<Run<VerifySummary>>>, csrf: &str) -> VerifyPanel {
        let csrf = csrf.to_owned();
        let Some(run) = run else {
            return VerifyPanel {
                csrf,
                running: false,
                percent: 0,
                done: 0,
                total: 0,
                against: String::new(),
                started_by: String::new(),
                started_at: String::new(),
                result: None,
                failure: String::new(),
                refused: String::new(),
                typed: String::new(),
            };
        };
        let (done, total, percent) = run.progress();
        let finished = run.finished();
        VerifyPanel {
            csrf,
            running: finished.is_none(),
            percent,
            done,
            total,
            against: run.about.clone().unwrap_or_default(),
            started_by: run.started_by.clone(),
            started_at: run.started_at.clone(),
            failure: match &finished {
                Some(Err(e)) => e.clone(),
                _ => String::new(),
            },
            result: finished.and_then(Result::ok),
            refused: String::new(),
            typed: String::new(),
        }
    }
}

/// A bar of a chart (widths in pixels of a 400-pixel scale).
#[derive(Debug, Clone)]
pub(crate) struct Bar {
    pub(crate) label: String,
    pub(crate) value: u64,
    pub(crate) width: u64,
    pub(crate) y: usize,
}

fn bars(counts: impl IntoIterator<Item = (String, u64)>) -> Vec<Bar> {
    let counts: Vec<(String, u64)> = counts.into_iter().collect();
    let max = counts.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    counts
        .into_iter()
        .enumerate()
        .map(|(i, (label, value))| Bar {
            label,
            value,
            width: (value * 400 / max).max(u64::from(value > 0)),
            y: i * 24,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "ops.html")]
struct OpsPage {
    nav: Option<Nav>,
    head: LogHead,
    documents: u64,
    size_mib: String,
    by_state: Vec<Bar>,
    by_month: Vec<Bar>,
    by_flow: Vec<(String, u64)>,
    panel: String,
    check_panel: String,
    outbox: OutboxPanel,
    csrf: String,
}

fn operator(person: &Person) -> Result<(), WebError> {
    if person.is_operator() {
        Ok(())
    } else {
        Err(WebError::Forbidden(format!(
            "系统运维页面仅供系统管理员、档案员和档案部门使用；{} 的角色不含这些",
            person.actor.id
        )))
    }
}

/// Events per month (China time), counted from where the last count stopped.
fn count_months(state: &AppState) -> Result<Vec<(String, u64)>, WebError> {
    let mut counts = state
        .ops
        .months
        .lock()
        .map_err(|_| WebError::Internal("month counts lock poisoned".into()))?;
    let head = state.engine.head();
    while counts.counted_to < head {
        let batch = state.engine.read_log(counts.counted_to + 1, 4096)?;
        let Some(last) = batch.last().map(|e| e.position) else {
            break;
        };
        for e in &batch {
            let d = workflow_core::ids::china_date(e.recorded_at);
            *counts
                .by_month
                .entry(d.format("%Y-%m").to_string())
                .or_default() += 1;
        }
        counts.counted_to = last;
    }
    Ok(counts
        .by_month
        .iter()
        .rev()
        .take(12)
        .rev()
        .map(|(m, n)| (m.clone(), *n))
        .collect())
}

/// The operator page.
pub(crate) async fn page(
    State(state): State<AppState>,
    person: Person,
) -> Result<Response, WebError> {
    operator(&person)?;
    let s = state.clone();
    let (head, stats, months, outbox) = tokio::task::spawn_blocking(move || {
        Ok::<_, WebError>((
            s.engine.log_head()?,
            s.engine.stats()?,
            count_months(&s)?,
            outbox_panel(&s.engine, (s.clock)().timestamp_millis())?,
        ))
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))??;
    let run = current(&state.ops.verify);
    let check = current(&state.ops.check);
    let year = chrono::Datelike::year(&workflow_core::ids::china_date((state.clock)()));
    let page = OpsPage {
        nav: Some(state.nav(&person)),
        head,
        documents: stats.documents,
        size_mib: format!("{:.1}", stats.size_on_disk as f64 / 1_048_576.0),
        by_state: bars(stats.by_state),
        by_month: bars(months),
        by_flow: stats
            .by_flow
            .into_iter()
            .map(|(flow, n)| {
                let label = flow
                    .parse::<workflow_core::StreamKind>()
                    .map_or_else(|_| flow.clone(), |k| k.label().to_owned());
                (label, n)
            })
            .collect(),
        panel: VerifyPanel::of(run.as_ref(), &person.csrf).render()?,
        check_panel: CheckPanel::of(check.as_ref(), &person.csrf, year).render()?,
        outbox,
        csrf: person.csrf.clone(),
    };
    Ok(Html(page.render()?).into_response())
}

/// The verify panel alone (polled while a run is under way).
pub(crate) async fn verify_status(
    State(state): State<AppState>,
    person: Person,
) -> Result<Response, WebError> {
    operator(&person)?;
    let run = current(&state.ops.verify);
    Ok(Html(VerifyPanel::of(run.as_ref(), &person.csrf).render()?).into_response())
}

#[derive(Deserialize)]
pub(crate) struct VerifyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    against: String,
}

/// Starts verifying the log (one run at a time) and answers with the panel.
pub(crate) async fn verify_start(
    State(state): State<AppState>,
    person: Person,
    Form(form): Form<VerifyForm>,
) -> Result<Response, WebError> {
    operator(&person)?;
    person.check_csrf(&form.csrf)?;
    let against = match form.against.trim() {
        "" => None,
        text => match text.parse::<LogHead>() {
            Ok(head) => Some(head),
            Err(_) => {
                let run = current(&state.ops.verify);
                let mut panel = VerifyPanel::of(run.as_ref(), &person.csrf);
                panel.refused = format!(
                    "见证头“{text}”格式不对，没有开始校验：应为“位置:哈希”，即日志头的位置、一个冒号和日志头的哈希（64 位十六进制；SM3 日志为 sm3: 加 64 位），例如 1024:3f5a…（可从本页“日志头”处复制）。"
                );
                panel.typed = text.to_owned();
                return Ok(Html(panel.render()?).into_response());
            }
        },
    };
    let about = against.as_ref().map(ToString::to_string);
    tracing::info!(actor = %person.actor.id, against = ?about, "web console: verify started");
    let engine = state.engine.clone();
    let run = start(
        &state.ops.verify,
        Run::new(&state, &person, about),
        move |worker| {
            let options = VerifyOptions { against };
            let progress = |done: u64, total: u64| {
                worker.done.store(done, Ordering::Relaxed);
                worker.total.store(total, Ordering::Relaxed);
            };
            engine
                .verify_with(&options, progress)
                .and_then(|report| Ok((report, engine.verify_access_log()?)))
                .map(|(report, access)| VerifySummary {
                    intact: report.is_intact() && access.is_intact(),
                    checked: report.checked,
                    head: report.head().to_string(),
                    fixity_checked: report.fixity_checked,
                    bulletins_checked: report.bulletins_checked,
                    problem: match report.first_problem() {
                        Some(Problem::Chain(b)) => format!("位置 {}：{}", b.position, b.reason),
                        Some(Problem::File(f)) => format!("文件 {}：{}", f.digest, f.reason),
                        Some(Problem::Printed(p)) => {
                            format!("正式公文 {}（{}）：{}", p.number, p.document, p.reason)
                        }
                        None => String::new(),
                    },
                    extends: report
                        .extends
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    access_entries: access.checked,
                    access_intact: access.is_intact(),
                })
                .map_err(|e| e.to_string())
        },
    )?;
    Ok(Html(VerifyPanel::of(Some(&run), &person.csrf).render()?).into_response())
}

#[derive(Deserialize)]
pub(crate) struct ExportQuery {
    #[serde(default)]
    id: String,
}

/// An archived document's package (its events, manifest and fixity) as a tar download.
/// Reading it is a read of the document: clearance applies and it is recorded.
pub(crate) async fn export(
    State(state): State<AppState>,
    person: Person,
    Query(q): Query<ExportQuery>,
) -> Result<Response, WebError> {
    operator(&person)?;
    let id = document_id(&q.id)?;
    state
        .engine
        .read_for(&person.reader, id, "export", "web console download".into())
        .await?;
    let engine = state.engine.clone();
    let now = (state.clock)();
    let bytes = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, WebError> {
        let dir = tempfile::tempdir().map_err(|e| WebError::Internal(e.to_string()))?;
        let package = dir.path().join("package");
        engine.export_document(id, &package, now)?;
        let mut tar = tar::Builder::new(Vec::new());
        tar.append_dir_all(id.to_string(), &package)
            .and_then(|()| tar.into_inner())
            .map_err(|e| WebError::Internal(format!("packing the export: {e}")))
    })
    .await
    .map_err(|e| WebError::Internal(e.to_string()))??;
    tracing::info!(actor = %person.actor.id, doc = %id, bytes = bytes.len(), "web console: export downloaded");
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-tar".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}.tar\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The outbox as the operator page shows it: where it stands, and the deliveries that
/// failed (given up, or still being tried), newest first.
#[derive(Debug, Default)]
pub(crate) struct OutboxPanel {
    pub(crate) head: u64,
    pub(crate) channels: Vec<ChannelRow>,
    pub(crate) pending: u64,
    pub(crate) delivered: u64,
    pub(crate) dead: u64,
    pub(crate) failing: Vec<FailingRow>,
}

/// Where a channel stands, as a line.
#[derive(Debug)]
pub(crate) struct ChannelRow {
    pub(crate) name: String,
    pub(crate) through: u64,
    pub(crate) behind: u64,
    /// Which server sends it (empty: none now).
    pub(crate) holder: String,
}

/// A delivery that failed, as a row.
#[derive(Debug)]
pub(crate) struct FailingRow {
    pub(crate) id: String,
    pub(crate) document: String,
    pub(crate) kind: &'static str,
    pub(crate) channel: String,
    pub(crate) recipient: String,
    pub(crate) state: &'static str,
    pub(crate) attempts: u32,
    pub(crate) reason: String,
}

/// The most failed deliveries the page lists.
const FAILING_SHOWN: usize = 50;

fn outbox_panel(engine: &workflow_store::Engine, now: i64) -> Result<OutboxPanel, WebError> {
    use workflow_store::notify::DeliveryState;
    let status = engine.outbox_status()?;
    let n = |s| status.counts.get(&s).copied().unwrap_or(0);
    let mut failing: Vec<FailingRow> = engine
        .deliveries(None, 0, usize::MAX)?
        .into_iter()
        .filter(|d| d.state != DeliveryState::Delivered && d.last_error.is_some())
        .map(|d| FailingRow {
            document: d.document_id.to_string(),
            kind: d.kind.chinese(),
            recipient: d.recipient.to_string(),
            state: d.state.chinese(),
            attempts: d.attempts,
            reason: d.last_error.unwrap_or_default(),
            channel: d.channel,
            id: d.id,
        })
        .collect();
    failing.reverse();
    failing.truncate(FAILING_SHOWN);
    let channels = status
        .channels
        .iter()
        .map(|c| ChannelRow {
            name: c.channel.clone(),
            through: c.through,
            behind: status.head.saturating_sub(c.through),
            holder: if c.lease_until > now {
                c.holder.clone()
            } else {
                String::new()
            },
        })
        .collect();
    Ok(OutboxPanel {
        head: status.head,
        channels,
        pending: n(DeliveryState::Pending),
        delivered: n(DeliveryState::Delivered),
        dead: n(DeliveryState::Dead),
        failing,
    })
}

#[derive(Deserialize)]
pub(crate) struct RetryForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    id: String,
}

/// Sends a failed delivery again from its first try, then back to the page's panel.
pub(crate) async fn retry_notification(
    State(state): State<AppState>,
    person: Person,
    Form(form): Form<RetryForm>,
) -> Result<Response, WebError> {
    operator(&person)?;
    person.check_csrf(&form.csrf)?;
    let engine = state.engine.clone();
    let id = form.id.clone();
    tokio::task::spawn_blocking(move || engine.retry_delivery(&id))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))??;
    tracing::info!(actor = %person.actor.id, delivery = %form.id, "web console: notification retried");
    Ok(axum::response::Redirect::to("/ops#notify").into_response())
}
