//! The operator page's 四性检测 (DA/T 70-2018) of the archived records of a 全宗, 年度 and
//! 保管期限: started from a form, run in the background with its progress shown, then one
//! row per check with 通过 or 不通过 and why, and the report as CSV to hand over.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use askama::Template;
use axum::extract::{Form, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use workflow_core::retention::Retention;
use workflow_store::LogHead;
use workflow_store::archive_check::{ArchiveCheck, ArchiveScope};

use super::{Run, current, operator, start};
use crate::AppState;
use crate::auth::Person;
use crate::error::WebError;

/// One check as the panel shows it.
pub(crate) struct CheckRow {
    aspect: &'static str,
    name: &'static str,
    passed: bool,
    checked: u64,
    findings: Vec<String>,
}

/// A finished check as the panel shows it.
pub(crate) struct CheckView {
    passed: bool,
    conclusion: String,
    rows: Vec<CheckRow>,
}

impl CheckView {
    fn of(report: &ArchiveCheck) -> CheckView {
        CheckView {
            passed: report.passed(),
            conclusion: report.conclusion(),
            rows: report
                .items
                .iter()
                .map(|i| CheckRow {
                    aspect: i.aspect.chinese(),
                    name: i.name,
                    passed: i.passed,
                    checked: i.checked,
                    findings: i.findings.clone(),
                })
                .collect(),
        }
    }
}

/// A 保管期限 in the form's list: its code, its name, whether chosen.
pub(crate) struct Choice {
    code: &'static str,
    name: &'static str,
    selected: bool,
}

/// The 四性检测 panel, as a fragment the page polls while a check is under way.
#[derive(Template)]
#[template(path = "archive_check.html")]
pub(crate) struct CheckPanel {
    running: bool,
    percent: u64,
    done: u64,
    total: u64,
    about: String,
    started_by: String,
    started_at: String,
    result: Option<CheckView>,
    failure: String,
    /// What was wrong with the form just sent, shown in the panel itself.
    refused: String,
    /// The form's fields, as typed (or, at first, this year).
    fonds: String,
    year: String,
    retentions: Vec<Choice>,
    against: String,
    csrf: String,
}

impl CheckPanel {
    pub(crate) fn of(run: Option<&Arc<Run<ArchiveCheck>>>, csrf: &str, year: i32) -> CheckPanel {
        let mut panel = CheckPanel {
            running: false,
            percent: 0,
            done: 0,
            total: 0,
            about: String::new(),
            started_by: String::new(),
            started_at: String::new(),
            result: None,
            failure: String::new(),
            refused: String::new(),
            fonds: String::new(),
            year: year.to_string(),
            retentions: choices(""),
            against: String::new(),
            csrf: csrf.to_owned(),
        };
        if let Some(run) = run {
            let (done, total, percent) = run.progress();
            let finished = run.finished();
            panel.running = finished.is_none();
            (panel.done, panel.total, panel.percent) = (done, total, percent);
            panel.about = run.about.clone().unwrap_or_default();
            panel.started_by = run.started_by.clone();
            panel.started_at = run.started_at.clone();
            match finished {
                Some(Ok(report)) => panel.result = Some(CheckView::of(&report)),
                Some(Err(e)) => panel.failure = e,
                None => {}
            }
        }
        panel
    }
}

fn choices(chosen: &str) -> Vec<Choice> {
    Retention::ALL
        .into_iter()
        .map(|r| Choice {
            code: r.code(),
            name: r.chinese(),
            selected: r.code() == chosen,
        })
        .collect()
}

fn this_year(state: &AppState) -> i32 {
    chrono::Datelike::year(&workflow_core::ids::china_date((state.clock)()))
}

/// The panel alone (polled while a check is under way).
pub(crate) async fn check_status(
    State(state): State<AppState>,
    person: Person,
) -> Result<Response, WebError> {
    operator(&person)?;
    let run = current(&state.ops.check);
    let panel = CheckPanel::of(run.as_ref(), &person.csrf, this_year(&state));
    Ok(Html(panel.render()?).into_response())
}

#[derive(Deserialize)]
pub(crate) struct CheckForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    fonds: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    retention: String,
    #[serde(default)]
    against: String,
}

/// The scope the form asks for, or why it cannot be checked (a plain sentence).
fn scope_of(form: &CheckForm) -> Result<ArchiveScope, String> {
    let refused = |why: String| format!("{why}，没有开始检测。");
    let fonds = form.fonds.trim();
    let year = match form.year.trim() {
        "" => None,
        y => Some(y.parse::<i32>().map_err(|_| {
            refused(format!(
                "年度“{y}”不对：年度是四位数字的年份，例如 2026；不填则检测全部年度"
            ))
        })?),
    };
    let retention = match form.retention.trim() {
        "" => None,
        code => Some(
            Retention::ALL
                .into_iter()
                .find(|r| r.code() == code)
                .ok_or_else(|| refused(format!("保管期限“{code}”不对：请从列表中选择")))?,
        ),
    };
    let against = match form.against.trim() {
        "" => None,
        text => Some(text.parse::<LogHead>().map_err(|_| {
            refused(format!(
                "见证头“{text}”格式不对：应为“位置:哈希”，即日志头的位置、一个冒号和日志头的哈希（64 位十六进制；SM3 日志为 sm3: 加 64 位），可从本页“日志头”处复制"
            ))
        })?),
    };
    let scope = ArchiveScope {
        fonds: (!fonds.is_empty()).then(|| fonds.to_owned()),
        year,
        retention,
        against,
        viewer: None,
    };
    scope.check().map_err(|p| refused(p.reason))?;
    Ok(scope)
}

/// Starts the 四性检测 the form asks for (one at a time) and answers with the panel.
pub(crate) async fn check_start(
    State(state): State<AppState>,
    person: Person,
    Form(form): Form<CheckForm>,
) -> Result<Response, WebError> {
    operator(&person)?;
    person.check_csrf(&form.csrf)?;
    let scope = match scope_of(&form) {
        // File names of records above the operator's clearance are not shown to them.
        Ok(scope) => ArchiveScope {
            viewer: Some(person.actor.clearance),
            ..scope
        },
        Err(why) => {
            let run = current(&state.ops.check);
            let mut panel = CheckPanel::of(run.as_ref(), &person.csrf, this_year(&state));
            panel.refused = why;
            panel.fonds = form.fonds.trim().to_owned();
            panel.year = form.year.trim().to_owned();
            panel.retentions = choices(form.retention.trim());
            panel.against = form.against.trim().to_owned();
            return Ok(Html(panel.render()?).into_response());
        }
    };
    let mut about = scope.describe();
    if let Some(head) = &scope.against {
        about.push_str(&format!("，对照见证头 {head}"));
    }
    tracing::info!(actor = %person.actor.id, scope = %about, "web console: 四性检测 started");
    let engine = state.engine.clone();
    let run = start(
        &state.ops.check,
        Run::new(&state, &person, Some(about)),
        move |worker| {
            let progress = |done: u64, total: u64| {
                worker.done.store(done, Ordering::Relaxed);
                worker.total.store(total, Ordering::Relaxed);
            };
            engine
                .check_archive_with(&scope, progress)
                .map_err(|e| e.to_string())
        },
    )?;
    let panel = CheckPanel::of(Some(&run), &person.csrf, this_year(&state));
    Ok(Html(panel.render()?).into_response())
}

/// The last finished 四性检测 as CSV (UTF-8 with a byte-order mark, for a spreadsheet).
pub(crate) async fn check_csv(
    State(state): State<AppState>,
    person: Person,
) -> Result<Response, WebError> {
    operator(&person)?;
    let Some(Ok(report)) = current(&state.ops.check).and_then(|r| r.finished()) else {
        return Err(WebError::bad_form(
            "report",
            "还没有完成的四性检测可下载：请先在系统运维页面开始检测，完成后再下载。",
        ));
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"archive-check.csv\"; filename*=UTF-8''%E5%9B%9B%E6%80%A7%E6%A3%80%E6%B5%8B.csv".to_owned(),
            ),
        ],
        report.to_csv(),
    )
        .into_response())
}
