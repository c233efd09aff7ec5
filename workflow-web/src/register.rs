//! 收文登记: the registrar's page to register a 收文 as the 收文登记簿 has it (DESIGN §3a) —
//! the 来文's particulars, how it came, and its files, sent with the form. The engine
//! checks the registration (the console restates none of its rules); a refusal shows the
//! page again with what was typed and a sentence naming the field.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use workflow_core::content::{DocumentFiles, FileRef};
use workflow_core::directory::{Classification, Role};
use workflow_core::incoming::{Channel, IncomingAction, Registration};
use workflow_core::kind::{Kind, Urgency};
use workflow_core::{DocumentId, FlowAction, UnitCode};

use crate::actions::{self, Values};
use crate::auth::Person;
use crate::error::{Shown, WebError};
use crate::{AppState, Nav};

/// The choices of a select: (value, label).
type Choices = Vec<(String, &'static str)>;

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    nav: Option<Nav>,
    csrf: String,
    command_id: String,
    error: Option<Shown>,
    /// What was typed, to show again after a refusal.
    typed: HashMap<String, String>,
    /// The units the registrar may register for: their own, or any for the general
    /// office's.
    units: Vec<(String, String)>,
    kinds: Choices,
    classifications: Choices,
    urgencies: Choices,
    channels: Choices,
    today: String,
}

impl RegisterPage {
    /// What was typed in `name` (empty at first).
    fn value(&self, name: &str) -> &str {
        self.typed.get(name).map_or("", String::as_str)
    }

    /// Whether `value` is the one chosen in `name` (`first`: chosen when nothing was).
    fn chosen(&self, name: &str, value: &str, first: &bool) -> bool {
        match self.typed.get(name) {
            Some(v) => v == value,
            None => *first,
        }
    }

    /// Whether the box `name` was ticked.
    fn ticked(&self, name: &str) -> bool {
        self.typed.contains_key(name)
    }
}

fn choices<T: Copy + std::fmt::Debug>(all: &[T], label: impl Fn(T) -> &'static str) -> Choices {
    all.iter().map(|t| (format!("{t:?}"), label(*t))).collect()
}

const CLASSIFICATIONS: [Classification; 4] = [
    Classification::None,
    Classification::Secret,
    Classification::Confidential,
    Classification::TopSecret,
];
const URGENCIES: [Urgency; 3] = [Urgency::Normal, Urgency::Urgent, Urgency::ExtraUrgent];

/// Only a registrar registers (the engine says so again).
fn require_registrar(person: &Person) -> Result<(), WebError> {
    if person.actor.has_role(Role::Registrar) {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "收文登记由收文登记员办理；您没有这个职务。".into(),
        ))
    }
}

fn page(
    state: &AppState,
    person: &Person,
    typed: HashMap<String, String>,
    error: Option<Shown>,
) -> RegisterPage {
    let units = state.engine.units();
    let in_office = units
        .iter()
        .any(|u| u.code == person.actor.unit && u.office);
    let mut mine: Vec<(String, String)> = units
        .iter()
        .filter(|u| in_office || u.code == person.actor.unit)
        .map(|u| (u.code.to_string(), u.name.clone()))
        .collect();
    // The registrar's own unit first: the one most often meant.
    mine.sort_by_key(|(code, _)| (*code != person.actor.unit.as_str(), code.clone()));
    let now = (state.clock)();
    RegisterPage {
        nav: Some(state.nav(person)),
        csrf: person.csrf.clone(),
        command_id: uuid::Uuid::new_v4().to_string(),
        error,
        typed,
        units: mine,
        // 通知 first: the commonest 来文.
        kinds: choices(
            &std::iter::once(Kind::Circular)
                .chain(Kind::ALL.into_iter().filter(|k| *k != Kind::Circular))
                .collect::<Vec<_>>(),
            Kind::chinese,
        ),
        classifications: choices(&CLASSIFICATIONS, Classification::chinese),
        urgencies: choices(&URGENCIES, Urgency::chinese),
        channels: choices(&Channel::ALL, Channel::chinese),
        today: workflow_core::ids::china_date(now).to_string(),
    }
}

fn html(p: &RegisterPage, status: StatusCode) -> Result<Response, WebError> {
    Ok((status, axum::response::Html(p.render()?)).into_response())
}

/// `GET /register`: the empty form.
pub(crate) async fn form(
    State(state): State<AppState>,
    person: Person,
) -> Result<Response, WebError> {
    require_registrar(&person)?;
    html(&page(&state, &person, HashMap::new(), None), StatusCode::OK)
}

/// A select's value as one of `all` (by its wire name).
fn pick<T: Copy + std::fmt::Debug>(
    v: &Values,
    name: &str,
    all: &[T],
    label: &str,
) -> Result<T, WebError> {
    let chosen = actions::text(v, name);
    all.iter()
        .copied()
        .find(|t| format!("{t:?}") == chosen)
        .ok_or_else(|| WebError::bad_form(name, format!("请选择“{label}”")))
}

/// The registration the form describes (the engine checks it), read as the card's forms
/// are: a malformed value is named by the label of [`actions::REGISTER`].
fn registration(v: &Values, files: DocumentFiles) -> Result<Registration, WebError> {
    const FORM: &str = "RegisterIncoming";
    let text = |n: &str| actions::text(v, n);
    let count =
        |n: &str| -> Result<u32, WebError> { Ok(actions::number(v, FORM, n)?.unwrap_or(0)) };
    Ok(Registration {
        from: text("from"),
        from_number: text("from_number"),
        title: text("title"),
        kind: pick(v, "kind", &Kind::ALL, "文种")?,
        classification: pick(v, "classification", &CLASSIFICATIONS, "密级")?,
        classification_period_years: actions::number(v, FORM, "classification_period_years")?
            .filter(|&y: &u32| y > 0),
        urgency: pick(v, "urgency", &URGENCIES, "紧急程度")?,
        received_on: actions::needed_date(v, FORM, "received_on")?,
        deadline: actions::date(v, FORM, "deadline")?,
        reply_required: actions::yes(v, FORM, "reply_required")?,
        pages: count("pages")?,
        attachments: Vec::new(),
        files,
        source: None,
        channel: Some(pick(v, "channel", &Channel::ALL, "来文方式")?),
        copies: count("copies")?,
        copy_numbers: text("copy_numbers"),
        important: actions::yes(v, FORM, "important")?,
        slip_required: actions::yes(v, FORM, "slip_required")?,
    })
}

/// `POST /register` (multipart: the fields, then `main` — the 来文's 正文 — and any
/// `attachment` files): the files are kept as the registrar's uploads, the 收文 registered
/// naming them, and the registrar taken to its card. The same form sent twice registers
/// once (its id comes from the form's command id).
pub(crate) async fn register(
    State(state): State<AppState>,
    person: Person,
    mut form: Multipart,
) -> Result<Response, WebError> {
    require_registrar(&person)?;
    let limits = state.engine.content_limits();
    let mut typed: HashMap<String, String> = HashMap::new();
    let mut files = DocumentFiles::default();
    let outcome: Result<DocumentId, WebError> = async {
        let broken = |e: axum::extract::multipart::MultipartError| {
            tracing::info!(error = %e, "web console: a registration broke off");
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                // The whole form (its files together) is over the page's limit.
                return WebError::bad_form(
                    "attachment",
                    format!(
                        "正文和附件合计超过了 {} MB 的上限，请分批登记附件（登记后在卡片上补充）或压缩后再提交",
                        (limits.max_bytes.saturating_mul(8)) >> 20
                    ),
                );
            }
            WebError::bad_form("main", "上传中断（网络或浏览器中止了发送），请重新提交")
        };
        while let Some(mut field) = form.next_field().await.map_err(broken)? {
            let name = field.name().unwrap_or_default().to_owned();
            if name != "main" && name != "attachment" {
                let mut text = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(broken)? {
                    text.extend_from_slice(&chunk);
                    if text.len() > 16 << 10 {
                        return Err(WebError::bad_form(name, "表单内容过长，请刷新页面后重试"));
                    }
                }
                typed.insert(name, String::from_utf8_lossy(&text).into_owned());
                continue;
            }
            // The token comes before the files (the form puts it first): nothing is kept
            // for a post from elsewhere.
            person.check_csrf(typed.get("csrf").map(String::as_str).unwrap_or_default())?;
            let file_name = field.file_name().unwrap_or_default().to_owned();
            if file_name.is_empty() {
                // A file input left empty.
                while field.chunk().await.map_err(broken)?.is_some() {}
                continue;
            }
            let form_field = if name == "main" { "main" } else { "attachment" };
            let kept: FileRef =
                crate::files::keep(&state, &person, &file_name, &mut field, form_field).await?;
            if name == "main" {
                files.main = Some(Box::new(kept));
            } else {
                files.attachments.push(kept);
            }
        }
        person.check_csrf(typed.get("csrf").map(String::as_str).unwrap_or_default())?;
        let command_id = typed.get("command_id").cloned().unwrap_or_default();
        if command_id.trim().is_empty() {
            return Err(WebError::bad_form(
                "command_id",
                "页面已过期，请刷新后重新填写",
            ));
        }
        let reg = registration(&typed, files.clone())?;
        let unit = typed
            .get("unit")
            .map(|u| u.trim())
            .filter(|u| !u.is_empty())
            .map(UnitCode::from);
        // One form, one 收文: its id from who sent it and the form's command id.
        let id = DocumentId(uuid::Uuid::new_v5(
            &uuid::Uuid::NAMESPACE_OID,
            format!("workflow-web register {} {command_id}", person.actor.id).as_bytes(),
        ));
        let mut request = workflow_store::Request::new(
            id,
            person.actor.id.as_str(),
            FlowAction::Incoming(IncomingAction::Register {
                registration: reg,
                unit,
            }),
        );
        request.command_id = command_id;
        state.engine.execute(request).await?;
        Ok(id)
    }
    .await;
    match outcome {
        Ok(id) => Ok(Redirect::to(&format!("/doc/{id}?done=RegisterIncoming")).into_response()),
        Err(e) => {
            tracing::info!(actor = %person.actor.id, error = %e, "web console: registration refused");
            let names = crate::view::Names::of(&state.engine);
            let mut shown = e.shown_for(Some("RegisterIncoming"), &names);
            // Files kept are not named again by the form (a browser cannot refill them):
            // say so where there were some.
            if !files.is_empty() {
                shown.message.push_str("（已选的文件需要重新选择。）");
            }
            typed.remove("csrf");
            html(&page(&state, &person, typed, Some(shown)), e.status())
        }
    }
}
