//! The pages and the forms they post: 待办, a document's card with its actions, its
//! timeline, lists, the 月通报, signing in and out. Every read goes through the engine's
//! reading rules (clearance, the access log) as over gRPC; every action is a command the
//! engine decides.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Extension, Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use workflow_core::supervision::bulletin::{Bulletin, Month};
use workflow_core::{DocumentId, FlowState, StreamKind, directory::Role, kind::Kind};
use workflow_store::{ListQuery, Request};

use crate::actions::{self, ActionForm, Input};
use crate::auth::{self, CsrfToken, Person};
use crate::config::AuthMode;
use crate::error::WebError;
use crate::pickers::{Directory, Group};
use crate::view::{self, Card, EventView, Row};
use crate::{AppState, Nav};

type Page = Result<Response, WebError>;

fn html(t: &impl Template) -> Page {
    Ok(Html(t.render()?).into_response())
}

pub(crate) fn document_id(text: &str) -> Result<DocumentId, WebError> {
    text.trim()
        .parse::<uuid::Uuid>()
        .map(DocumentId)
        .map_err(|_| WebError::bad_form("id", format!("{text} 不是文件编号（UUID）")))
}

/// `/`: the 待办.
pub(crate) async fn home() -> Redirect {
    Redirect::to("/todo")
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SignIn {
    nav: Option<Nav>,
    csrf: String,
    dev: bool,
    actors: Vec<(String, String, String)>,
}

/// The sign-in page: in `dev` mode, every active actor of the directory to choose from.
pub(crate) async fn signin(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
) -> Page {
    let dev = state.config.auth == AuthMode::Dev;
    let mut actors: Vec<(String, String, String)> = if dev {
        state
            .engine
            .actors()
            .into_iter()
            .filter(|a| !state.engine.is_deactivated(&a.id))
            .map(|a| {
                let roles = a
                    .roles
                    .iter()
                    .map(|r| r.chinese())
                    .collect::<Vec<_>>()
                    .join("、");
                (a.id.to_string(), format!("{}（{}）", a.name, a.unit), roles)
            })
            .collect()
    } else {
        Vec::new()
    };
    actors.sort();
    html(&SignIn {
        nav: None,
        csrf: csrf.0,
        dev,
        actors,
    })
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    actor: String,
}

/// Signs in as the chosen actor (`dev` mode only).
pub(crate) async fn signin_post(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Form(form): Form<SignInForm>,
) -> Page {
    auth::check_csrf(&csrf.0, &form.csrf)?;
    if state.config.auth != AuthMode::Dev {
        return Err(WebError::Forbidden("本系统经由统一身份认证网关登录".into()));
    }
    let reader = state.engine.reader(&state.config.channel, &form.actor)?;
    let id = reader.actor_id().map(|a| a.to_string()).unwrap_or_default();
    let mut response = Redirect::to("/todo").into_response();
    if let Some(v) = auth::set_cookie(
        auth::ACTOR_COOKIE,
        &id,
        false,
        state.config.secure_cookies(),
    ) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    tracing::info!(actor = %id, "web console: signed in (dev)");
    Ok(response)
}

#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Signs out.
pub(crate) async fn signout(
    State(state): State<AppState>,
    Extension(csrf): Extension<CsrfToken>,
    Form(form): Form<CsrfForm>,
) -> Page {
    // Signing out is the browser's, whoever a tab was opened as.
    auth::check_csrf(&csrf.0, auth::browser_token(&form.csrf))?;
    let mut response = Redirect::to("/signin").into_response();
    if let Some(v) = auth::set_cookie(auth::ACTOR_COOKIE, "", true, state.config.secure_cookies()) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

#[derive(Template)]
#[template(path = "todo.html")]
struct Todo {
    nav: Option<Nav>,
    rows: Vec<Row>,
    overdue: usize,
    /// How many arrived or moved on since the person last looked (marked 新).
    fresh: usize,
    next: Option<String>,
    /// How many rows may be ticked for a batch step (阅知, 签收), and the steps' names.
    batchable: usize,
    batch_labels: String,
    /// What the last batch did, if this page answers one.
    notice: Option<BatchNotice>,
    csrf: String,
    command_id: String,
}

/// What a batch of ticked steps did: how many were done, and each one refused, by title,
/// with why in words.
pub(crate) struct BatchNotice {
    done: usize,
    refused: Vec<String>,
}

/// The cookie that remembers when a person last looked at their 待办: `<actor>.<ns>` (the
/// actor as [`seen_key`] gives it;
/// instant exactly, so that what came a moment before the look is not new after it)
/// (the actor, so that another person signing in on the browser starts afresh). It marks
/// what is new, nothing else: no record, and a phone and a desk each keep their own.
const SEEN_COOKIE: &str = "wf_todo_seen";

/// Who a `wf_todo_seen` cookie is for: the actor id in hex (an id may hold characters a
/// cookie may not).
fn seen_key(actor: &workflow_core::ActorId) -> String {
    hex::encode(actor.as_str())
}

/// When `actor` (its [`seen_key`]) last looked at their 待办 in this browser, if it said.
fn todo_seen(headers: &axum::http::HeaderMap, actor: &str) -> Option<workflow_core::Timestamp> {
    let value = crate::auth::cookie_value(headers, SEEN_COOKIE)?;
    let (who, ms) = value.rsplit_once('.')?;
    if who != actor {
        return None;
    }
    Some(chrono::DateTime::from_timestamp_nanos(ms.parse().ok()?))
}

#[derive(Deserialize, Default)]
pub(crate) struct PageQuery {
    #[serde(default)]
    page_token: String,
}

/// 待办: what waits for this person across the flows, the overdue first (a page of 500).
pub(crate) async fn todo(
    State(state): State<AppState>,
    person: Person,
    headers: axum::http::HeaderMap,
    Query(p): Query<PageQuery>,
) -> Page {
    let token = (!p.page_token.trim().is_empty()).then(|| p.page_token.trim().to_owned());
    todo_page(&state, &person, &headers, token, None).await
}

/// The 待办 page (after a batch, with what it did).
async fn todo_page(
    state: &AppState,
    person: &Person,
    headers: &axum::http::HeaderMap,
    page_token: Option<String>,
    notice: Option<BatchNotice>,
) -> Page {
    let first = page_token.is_none();
    let q = ListQuery {
        page_size: workflow_store::read::MAX_PAGE_SIZE,
        page_token,
        ..ListQuery::default()
    };
    let page = state.engine.read_page(&person.reader, &q, true).await?;
    let now = (state.clock)();
    let mut rows = view::rows(
        &state.engine,
        &page,
        now,
        view::Order::Due,
        Some(&person.actor.id),
    );
    // The menu's count is this very page when it is the first.
    let nav = if first {
        state.nav_counted(person, Some((rows.len(), page.next_page_token.is_some())))
    } else {
        state.nav(person)
    };
    // What may be taken with a tick (阅知, 签收): asked of the engine per row, as the card
    // asks for its forms.
    let batch: HashMap<String, (&'static str, &'static str)> = page
        .states
        .iter()
        .filter_map(|s| {
            actions::batchable(&state.engine, s, &person.actor.id).map(|b| (s.id().to_string(), b))
        })
        .collect();
    for r in &mut rows {
        r.batch = batch.get(&r.id).copied();
    }
    let mut labels: Vec<&str> = batch.values().map(|(_, label)| *label).collect();
    labels.sort_unstable();
    labels.dedup();
    // 新: what changed after the person last looked here (nothing, the first time: a new
    // browser is not a flood of marks).
    let actor = seen_key(&person.actor.id);
    if let Some(seen) = todo_seen(headers, &actor) {
        for r in &mut rows {
            r.fresh = r.updated_at > seen;
        }
    }
    // Seen: now, or the latest change the page shows if that is later (the engine's clock
    // and the console's are the same in a server; this keeps a row shown from being new
    // again even if they were not).
    let seen = rows.iter().map(|r| r.updated_at).fold(now, Ord::max);
    let batched = notice.is_some();
    let mut response = html(&Todo {
        overdue: rows.iter().filter(|r| r.overdue).count(),
        fresh: rows.iter().filter(|r| r.fresh).count(),
        nav: Some(nav),
        batchable: batch.len(),
        batch_labels: labels.join("、"),
        rows,
        next: page.next_page_token.clone(),
        notice,
        csrf: person.csrf.clone(),
        command_id: uuid::Uuid::new_v4().to_string(),
    })?;
    // Looked at: the first page as such (not a later page, nor the answer to a batch,
    // whose rows the person has not read through).
    if first
        && !batched
        && let Some(v) = crate::auth::set_cookie(
            SEEN_COOKIE,
            &format!("{actor}.{}", seen.timestamp_nanos_opt().unwrap_or(i64::MAX)),
            false,
            state.config.secure_cookies(),
        )
    {
        response
            .headers_mut()
            .append(axum::http::header::SET_COOKIE, v);
    }
    Ok(response)
}

/// 批量办理: the ticked rows of the 待办, each taken (阅知, 签收) against the version the row
/// showed, each on its own — one refused (someone acted first) leaves the others done —
/// with a command id per document from the page's, so that a form sent twice is done once.
pub(crate) async fn batch(
    State(state): State<AppState>,
    person: Person,
    headers: axum::http::HeaderMap,
    Form(sent): Form<Vec<(String, String)>>,
) -> Page {
    let field = |n: &str| {
        sent.iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    };
    person.check_csrf(&field("csrf"))?;
    let command_id = field("command_id");
    let picks: Vec<&str> = sent
        .iter()
        .filter(|(k, _)| k == "pick")
        .map(|(_, v)| v.trim())
        .collect();
    if picks.is_empty() {
        return Err(WebError::bad_form("pick", "请先勾选要办理的文件。"));
    }
    // At most a 待办 page's worth, each document once however often it was ticked.
    let max = workflow_store::read::MAX_PAGE_SIZE;
    if picks.len() > max {
        return Err(WebError::bad_form(
            "pick",
            format!("一次最多办理 {max} 件，请分批勾选。"),
        ));
    }
    let mut parsed: Vec<(DocumentId, u64, &str)> = Vec::with_capacity(picks.len());
    for pick in picks {
        let bad = || WebError::bad_form("pick", "所选的文件有误，请刷新待办后重新勾选。");
        let mut parts = pick.splitn(3, ':');
        let (Some(id), Some(version), Some(name)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let id = document_id(id).map_err(|_| bad())?;
        let version: u64 = version.parse().map_err(|_| bad())?;
        let name = actions::BATCH
            .iter()
            .map(|(_, n, _)| *n)
            .find(|n| *n == name)
            .ok_or_else(bad)?;
        if !parsed.iter().any(|(seen, ..)| *seen == id) {
            parsed.push((id, version, name));
        }
    }
    let names = view::Names::of(&state.engine);
    let mut notice = BatchNotice {
        done: 0,
        refused: Vec::new(),
    };
    for (id, version, name) in parsed {
        let mut title = String::new();
        let outcome = async {
            let s = state.engine.may_act_on(&person.reader, id)?;
            title = s.title().to_owned();
            let action = actions::command(&s, name, &actions::Values::new(), None)?;
            let mut request = Request::new(id, person.actor.id.clone(), action);
            if !command_id.is_empty() {
                request.command_id = format!("{command_id}-{id}");
            }
            request.expected_version = Some(version);
            state.engine.execute(request).await.map_err(WebError::from)
        }
        .await;
        match outcome {
            Ok(o) => {
                tracing::info!(actor = %person.actor.id, command = name, doc = %id, version = o.version, replayed = o.replayed, "web console: batch step executed");
                notice.done += 1;
            }
            Err(e) => {
                tracing::info!(actor = %person.actor.id, command = name, doc = %id, error = %e, "web console: batch step refused");
                let shown = e.shown_for(Some(name), &names);
                let title = if title.is_empty() {
                    "（无法读取的文件）".to_owned()
                } else {
                    format!("《{title}》")
                };
                notice.refused.push(format!("{title}：{}", shown.message));
            }
        }
    }
    todo_page(&state, &person, &headers, None, Some(notice)).await
}

/// A person's own lists beside the 待办 (DESIGN §13): what they acted on, what they
/// started, and what of theirs is archived — newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mine {
    /// 已办: every document the person recorded a step of.
    Done,
    /// 我发起的: what they drafted, registered or opened.
    Started,
    /// 已归档: what they took part in that has been archived.
    Archived,
}

impl Mine {
    fn title(self) -> &'static str {
        match self {
            Mine::Done => "已办",
            Mine::Started => "我发起的",
            Mine::Archived => "已归档",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Mine::Done => "/done",
            Mine::Started => "/mine",
            Mine::Archived => "/archived",
        }
    }

    fn about(self) -> &'static str {
        match self {
            Mine::Done => {
                "您办理过的文件（拟稿、审核、会签、签发、批示、阅知等任一步），最近起草或登记的在前。"
            }
            Mine::Started => "您起草、登记或立项的文件，最近的在前。",
            Mine::Archived => "您经办过的文件中已经归档的，最近起草或登记的在前。",
        }
    }

    fn empty(self) -> &'static str {
        match self {
            Mine::Done => "您还没有办理过文件。",
            Mine::Started => "您还没有起草、登记或立项过文件。",
            Mine::Archived => "您经办过的文件还没有归档的。",
        }
    }

    fn query(self, actor: &workflow_core::ActorId, page_token: Option<String>) -> ListQuery {
        let mut q = ListQuery {
            page_size: 100,
            page_token,
            newest_first: true,
            ..ListQuery::default()
        };
        match self {
            Mine::Done => q.acted_by = Some(actor.clone()),
            Mine::Started => q.started_by = Some(actor.clone()),
            Mine::Archived => {
                q.acted_by = Some(actor.clone());
                q.step = Some("Archived".to_owned());
            }
        }
        q
    }
}

#[derive(Template)]
#[template(path = "mine.html")]
struct MinePage {
    nav: Option<Nav>,
    title: &'static str,
    about: &'static str,
    empty: &'static str,
    path: &'static str,
    rows: Vec<Row>,
    next: Option<String>,
    /// A page after the first (its count is the page's, not the list's).
    paged: bool,
}

async fn mine(state: AppState, person: Person, p: PageQuery, which: Mine) -> Page {
    let token = (!p.page_token.trim().is_empty()).then(|| p.page_token.trim().to_owned());
    let paged = token.is_some();
    let q = which.query(&person.actor.id, token);
    let page = state.engine.read_page(&person.reader, &q, false).await?;
    let rows = view::rows(
        &state.engine,
        &page,
        (state.clock)(),
        view::Order::Listed,
        None,
    );
    html(&MinePage {
        nav: Some(state.nav(&person)),
        title: which.title(),
        about: which.about(),
        empty: which.empty(),
        path: which.path(),
        rows,
        next: page.next_page_token.clone(),
        paged,
    })
}

/// 已办.
pub(crate) async fn done(
    State(state): State<AppState>,
    person: Person,
    Query(p): Query<PageQuery>,
) -> Page {
    mine(state, person, p, Mine::Done).await
}

/// 我发起的.
pub(crate) async fn started(
    State(state): State<AppState>,
    person: Person,
    Query(p): Query<PageQuery>,
) -> Page {
    mine(state, person, p, Mine::Started).await
}

/// 已归档.
pub(crate) async fn archived(
    State(state): State<AppState>,
    person: Person,
    Query(p): Query<PageQuery>,
) -> Page {
    mine(state, person, p, Mine::Archived).await
}

#[derive(Template)]
#[template(path = "document.html")]
struct DocumentPage {
    nav: Option<Nav>,
    id: String,
    flow: &'static str,
    title: String,
    state: String,
    version: u64,
    classification: String,
    due: String,
    overdue: bool,
    card: Card,
    /// Whether the person may upload a 正文 or attachment, or take one off (a revision).
    can_change_files: bool,
    /// Whether it is an issued 发文, which prints as its 公文.
    issued: bool,
    as_of: Option<u64>,
    actions: Vec<ActionView>,
    command_id: String,
    stage: String,
    done: String,
    error: Option<crate::error::Shown>,
    csrf: String,
}

/// An offered action as the page shows it: open or folded, and filled in with what the
/// person typed when it was refused (so that nothing typed is lost).
pub(crate) struct ActionView {
    pub(crate) form: ActionForm,
    pub(crate) open: bool,
    typed: HashMap<String, String>,
    /// The choices of each picker field, by field name.
    groups: HashMap<&'static str, Vec<Group>>,
    /// The slots of each ordered picker field, by field name.
    slots: HashMap<&'static str, Vec<Vec<Group>>>,
}

impl ActionView {
    /// What the field named `name` holds.
    pub(crate) fn value(&self, name: &str) -> &str {
        self.typed.get(name).map_or("", String::as_str)
    }

    /// The choices of the picker `name`.
    pub(crate) fn groups(&self, name: &str) -> &[Group] {
        self.groups.get(name).map_or(&[], Vec::as_slice)
    }

    /// The slots of the ordered picker `name`.
    pub(crate) fn slots(&self, name: &str) -> &[Vec<Group>] {
        self.slots.get(name).map_or(&[], Vec::as_slice)
    }
}

/// What a refused form held: its action's name and the values typed.
pub(crate) type Typed<'a> = Option<(&'a str, &'a HashMap<String, String>)>;

#[derive(Deserialize, Default)]
pub(crate) struct DocQuery {
    version: Option<u64>,
    #[serde(default)]
    done: String,
}

/// A document's card, now or as of a version, with the actions this person may take.
pub(crate) async fn document(
    State(state): State<AppState>,
    person: Person,
    Path(id): Path<String>,
    Query(q): Query<DocQuery>,
) -> Page {
    let id = document_id(&id)?;
    let s = state
        .engine
        .read_state(&person.reader, id, None, q.version)
        .await?;
    let done = actions::forms(s.kind())
        .iter()
        .chain(actions::REGISTER)
        .find(|f| f.name == q.done)
        .map(|f| f.label.to_owned())
        .unwrap_or_default();
    render_document(&state, &person, &s, q.version, done, None, StatusCode::OK)
}

/// The actions offered, the first step forward open — or the refused one, as typed.
fn action_views(
    engine: &workflow_store::Engine,
    s: &FlowState,
    offered: Vec<ActionForm>,
    error: Option<&WebError>,
    typed: Typed<'_>,
) -> Vec<ActionView> {
    // The directory is read only for a card whose forms choose from it.
    let directory = offered
        .iter()
        .any(|f| f.fields.iter().any(|x| x.input.is_picker()))
        .then(|| Directory::of(engine));
    // Someone else's change (a conflict, a revised 正文) is not answered by the same form
    // again, one click from an approval of a text the person has not read: folded, empty.
    let refused = typed
        .filter(|_| error.is_some_and(|e| e.status() != StatusCode::CONFLICT))
        .filter(|(name, _)| offered.iter().any(|f| f.name == *name));
    offered
        .into_iter()
        .enumerate()
        .map(|(i, form)| {
            let mine = refused.filter(|(name, _)| *name == form.name);
            let typed: HashMap<String, String> = match mine {
                Some((_, values)) => form
                    .fields
                    .iter()
                    .filter_map(|f| values.get(f.name).map(|v| (f.name.to_owned(), v.clone())))
                    .collect(),
                None => actions::initial(s, form.name),
            };
            let chosen = |name: &str| typed.get(name).map_or("", String::as_str);
            let pickers = form.fields.iter().filter(|f| f.input.is_picker());
            let (mut groups, mut slots) = (HashMap::new(), HashMap::new());
            for (f, d) in pickers.filter_map(|f| Some((f, directory.as_ref()?))) {
                if matches!(f.input, Input::Ordered(_)) {
                    slots.insert(f.name, d.slots(f.input, chosen(f.name)));
                } else {
                    groups.insert(f.name, d.choices(f.input, chosen(f.name)));
                }
            }
            ActionView {
                groups,
                slots,
                form,
                open: match refused {
                    Some(_) => mine.is_some(),
                    None => i == 0 && !form.back,
                },
                typed,
            }
        })
        .collect()
}

pub(crate) fn render_document(
    state: &AppState,
    person: &Person,
    s: &FlowState,
    as_of: Option<u64>,
    done: String,
    refused: Option<(&WebError, Typed<'_>)>,
    status: StatusCode,
) -> Page {
    let (error, typed) = match refused {
        Some((e, typed)) => (Some(e), typed),
        None => (None, None),
    };
    let now = (state.clock)();
    let names = view::Names::of(&state.engine);
    let row = view::row(s, &names, now, Some(&person.actor.id));
    let actions = match as_of {
        None => action_views(
            &state.engine,
            s,
            actions::offered(&state.engine, s, &person.actor, now),
            error,
            typed,
        ),
        Some(_) => Vec::new(),
    };
    let page = DocumentPage {
        nav: Some(state.nav(person)),
        id: s.id().to_string(),
        flow: row.flow,
        title: row.title,
        state: row.state,
        version: s.version(),
        classification: s.classification().chinese().to_owned(),
        due: row.due,
        overdue: row.overdue,
        card: view::card(&names, s),
        issued: s.outgoing().is_some_and(|d| d.issue().is_some()),
        can_change_files: as_of.is_none()
            && crate::files::may_change_files(&state.engine, person, s),
        as_of,
        actions,
        command_id: uuid::Uuid::new_v4().to_string(),
        stage: s.current_stage().map(|i| i.to_string()).unwrap_or_default(),
        done,
        error: error.map(|e| e.shown_for(typed.map(|(form, _)| form), &names)),
        csrf: person.csrf.clone(),
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// Takes an action from a document's page: the command the form names, by this person,
/// against the version they saw (someone else's change first is a conflict, not an
/// overwrite), with the command id the page was rendered with (a form sent twice is done
/// once).
pub(crate) async fn act(
    State(state): State<AppState>,
    person: Person,
    Path(id): Path<String>,
    Form(sent): Form<Vec<(String, String)>>,
) -> Page {
    // A picker of several (协办单位, 阅知人, 会批 leaders) sends its name once per choice, in
    // the order chosen: one value, comma-separated, as a typed list would be.
    // Values are kept as sent (a 正文's indent is the drafter's); each reader trims.
    let mut values: HashMap<String, String> = HashMap::new();
    for (k, v) in sent {
        let joined = values.entry(k).or_default();
        if !joined.trim().is_empty() && !v.trim().is_empty() {
            joined.push(',');
        }
        joined.push_str(&v);
    }
    let field = |n: &str| {
        values
            .get(n)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    person.check_csrf(&field("csrf"))?;
    let id = document_id(&id)?;
    // Acting is no read: the command is the record. Clearance still applies.
    let s = state.engine.may_act_on(&person.reader, id)?;
    let name = field("action");
    let outcome = async {
        let version: u64 = field("version")
            .parse()
            .map_err(|_| WebError::bad_form("version", "页面缺少文件版本，请刷新"))?;
        let stage = match field("stage") {
            s if s.is_empty() => None,
            s => Some(
                s.parse()
                    .map_err(|_| WebError::bad_form("stage", format!("{s} 不是环节序号")))?,
            ),
        };
        let action = actions::command(&s, &name, &values, stage)?;
        actions::confirmed(s.kind(), &name, &values)?;
        let mut request = Request::new(id, person.actor.id.clone(), action);
        let command_id = field("command_id");
        if !command_id.is_empty() {
            request.command_id = command_id;
        }
        request.expected_version = Some(version);
        state.engine.execute(request).await.map_err(WebError::from)
    }
    .await;
    match outcome {
        Ok(o) => {
            tracing::info!(actor = %person.actor.id, command = name, doc = %id, version = o.version, replayed = o.replayed, "web console: command executed");
            Ok(Redirect::to(&format!("/doc/{id}?done={name}")).into_response())
        }
        Err(e) => {
            tracing::info!(actor = %person.actor.id, command = name, doc = %id, error = %e, "web console: command refused");
            refused(&state, &person, id, &e, Some((name.as_str(), &values))).await
        }
    }
}

/// The card again, as it is now, with what was wrong with a refused form (and, for an
/// action, what was typed in it), at the refusal's status.
pub(crate) async fn refused(
    state: &AppState,
    person: &Person,
    id: workflow_core::DocumentId,
    e: &WebError,
    typed: Typed<'_>,
) -> Page {
    let now = state
        .engine
        .read_state(&person.reader, id, None, None)
        .await?;
    render_document(
        state,
        person,
        &now,
        None,
        String::new(),
        Some((e, typed)),
        e.status(),
    )
}

#[derive(Template)]
#[template(path = "timeline.html")]
struct Timeline {
    nav: Option<Nav>,
    id: String,
    title: String,
    flow: &'static str,
    events: Vec<EventView>,
}

/// A document's timeline: every event in order, with its hash.
pub(crate) async fn timeline(
    State(state): State<AppState>,
    person: Person,
    Path(id): Path<String>,
) -> Page {
    let id = document_id(&id)?;
    let (s, events) = state.engine.read_history(&person.reader, id).await?;
    html(&Timeline {
        nav: Some(state.nav(&person)),
        id: id.to_string(),
        title: s.title().to_owned(),
        flow: s.kind().label(),
        events: view::timeline(&state.engine, &events),
    })
}

/// The filters of the search page, as the gRPC `ListDocuments` has them.
#[derive(Deserialize, Default, Debug)]
pub(crate) struct SearchQuery {
    /// Keywords (标题, 文号, 来文单位, 正文).
    #[serde(default)]
    q: String,
    #[serde(default)]
    flow: String,
    #[serde(default)]
    step: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    year: String,
    #[serde(default)]
    overdue: String,
    #[serde(default)]
    leader: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    page_token: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct Search {
    nav: Option<Nav>,
    q: SearchQuery,
    kinds: Vec<(String, &'static str)>,
    /// The document flows to filter on: (name, label).
    flows: Vec<(String, &'static str)>,
    /// The states to filter on, under their flow: (flow's label, [(name, label)]).
    steps: Vec<(&'static str, Vec<(&'static str, &'static str)>)>,
    /// Units to filter on: (code, name).
    units: Vec<(String, String)>,
    /// Leaders to filter 督办 items on: (id, name).
    leaders: Vec<(String, String)>,
    rows: Vec<Row>,
    next: Option<String>,
}

fn list_query(q: &SearchQuery, now: workflow_core::Timestamp) -> Result<ListQuery, WebError> {
    let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    Ok(ListQuery {
        flow: match opt(&q.flow) {
            None => None,
            Some(f) => Some(
                StreamKind::parse_document(&f)
                    .ok_or_else(|| WebError::bad_form("flow", format!("{f} 不是流程")))?,
            ),
        },
        step: opt(&q.step),
        unit: opt(&q.unit).map(|u| workflow_core::UnitCode::from(u.as_str())),
        kind: match opt(&q.kind) {
            None => None,
            Some(k) => Some(
                Kind::ALL
                    .into_iter()
                    .find(|x| format!("{x:?}") == k)
                    .ok_or_else(|| WebError::bad_form("kind", format!("{k} 不是文种")))?,
            ),
        },
        year: match opt(&q.year) {
            None => None,
            Some(y) => Some(
                y.parse()
                    .map_err(|_| WebError::bad_form("year", format!("{y} 不是年份")))?,
            ),
        },
        overdue_at: (!q.overdue.is_empty()).then_some(now),
        leader: opt(&q.leader).map(|l| workflow_core::ActorId::from(l.as_str())),
        source: opt(&q.source),
        text: opt(&q.q),
        page_token: opt(&q.page_token),
        page_size: 50,
        ..ListQuery::default()
    })
}

/// Lists with the gRPC filters, fifty at a time.
pub(crate) async fn search(
    State(state): State<AppState>,
    person: Person,
    Query(q): Query<SearchQuery>,
) -> Page {
    let now = (state.clock)();
    let page = state
        .engine
        .read_page(&person.reader, &list_query(&q, now)?, false)
        .await?;
    let directory = Directory::of(&state.engine);
    html(&Search {
        nav: Some(state.nav(&person)),
        kinds: Kind::ALL
            .into_iter()
            .map(|k| (format!("{k:?}"), k.chinese()))
            .collect(),
        flows: workflow_core::StreamKind::DOCUMENTS
            .map(|k| (k.as_str().to_owned(), k.label()))
            .to_vec(),
        steps: workflow_core::StreamKind::DOCUMENTS
            .iter()
            .map(|k| (k.label(), workflow_core::FlowState::steps(*k)))
            .collect(),
        units: directory.units().to_vec(),
        // Every leader ever in the directory: a search reaches back past those who left.
        leaders: state
            .engine
            .actors()
            .into_iter()
            .filter(|a| a.has_role(workflow_core::directory::Role::Leader))
            .map(|a| {
                let name = if a.name.is_empty() {
                    a.id.to_string()
                } else {
                    a.name.clone()
                };
                let left = state.engine.is_deactivated(&a.id);
                (
                    a.id.to_string(),
                    if left {
                        format!("{name}（已停用）")
                    } else {
                        name
                    },
                )
            })
            .collect(),
        rows: view::rows(&state.engine, &page, now, view::Order::Changed, None),
        next: page.next_page_token.clone(),
        q,
    })
}

#[derive(Deserialize, Default)]
pub(crate) struct MonthQuery {
    #[serde(default)]
    month: String,
}

/// The month a form or address names; without one, the last month that has ended (the
/// bulletin an office reads and publishes; the month under way is one click on).
fn month(text: &str, now: workflow_core::Timestamp) -> Result<Month, WebError> {
    if text.trim().is_empty() {
        return Ok(workflow_core::supervision::bulletin::month_of(now).previous());
    }
    text.trim()
        .split_once('-')
        .and_then(|(y, m)| Month::new(y.parse().ok()?, m.parse().ok()?))
        .ok_or_else(|| WebError::bad_form("month", format!("{text} 不是月份（YYYY-MM）")))
}

#[derive(Template)]
#[template(path = "bulletin.html")]
struct BulletinPage {
    nav: Option<Nav>,
    month: String,
    /// The months either side, to step through (no month to come).
    previous: String,
    next: Option<String>,
    /// What instant it counts to (截至 …).
    as_of: String,
    /// The month is under way: counted so far, not to be published yet.
    under_way: bool,
    b: Bulletin,
    published: Option<String>,
    may_publish: bool,
    command_id: String,
    csrf: String,
}

async fn bulletin_of(
    state: &AppState,
    person: &Person,
    month: Month,
) -> Result<(Bulletin, Option<workflow_core::supervision::Publication>), WebError> {
    // The classified items it names are recorded as read before it is shown.
    let bulletin = state.engine.read_bulletin(&person.reader, month).await?;
    let published = state.engine.publication(month, person.reader.clearance())?;
    Ok((bulletin, published))
}

/// The 月通报 of any month (this month so far by default), at the person's clearance.
pub(crate) async fn bulletin(
    State(state): State<AppState>,
    person: Person,
    Query(q): Query<MonthQuery>,
) -> Page {
    let now = (state.clock)();
    let m = month(&q.month, now)?;
    let (b, published) = bulletin_of(&state, &person, m).await?;
    let current = workflow_core::supervision::bulletin::month_of(now);
    html(&BulletinPage {
        nav: Some(state.nav(&person)),
        month: m.to_string(),
        previous: m.previous().to_string(),
        next: (m.next() <= current).then(|| m.next().to_string()),
        as_of: b.as_of_line(),
        under_way: !b.is_whole_month(),
        published: published.map(|p| p.digests().html.clone()),
        may_publish: person.actor.roles.contains(&Role::Supervisor),
        command_id: uuid::Uuid::new_v4().to_string(),
        csrf: person.csrf.clone(),
        b,
    })
}

#[derive(Deserialize)]
pub(crate) struct BulletinDownload {
    month: String,
    format: String,
}

/// The 月通报 as a file: `md`, `csv`, `json` or `html`.
pub(crate) async fn bulletin_file(
    State(state): State<AppState>,
    person: Person,
    Query(q): Query<BulletinDownload>,
) -> Page {
    let m = month(&q.month, (state.clock)())?;
    let (b, _) = bulletin_of(&state, &person, m).await?;
    let (body, mime) = match q.format.as_str() {
        "md" => (b.to_markdown(), "text/markdown; charset=utf-8"),
        "csv" => (b.to_csv(), "text/csv; charset=utf-8"),
        "json" => (b.to_json(), "application/json"),
        "html" => (b.to_html(), "text/html; charset=utf-8"),
        other => {
            return Err(WebError::bad_form(
                "format",
                format!("{other} 不是 md、csv、json 或 html"),
            ));
        }
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"bulletin-{m}.{}\"", q.format),
            ),
        ],
        body,
    )
        .into_response())
}

#[derive(Deserialize)]
pub(crate) struct PublishForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    month: String,
    #[serde(default)]
    command_id: String,
}

/// 发布: a supervisor publishes a month's bulletin once the month has ended.
pub(crate) async fn publish(
    State(state): State<AppState>,
    person: Person,
    Form(form): Form<PublishForm>,
) -> Page {
    person.check_csrf(&form.csrf)?;
    let now = (state.clock)();
    let m = month(&form.month, now)?;
    if now < m.end() {
        return Err(WebError::bad_form(
            "month",
            format!(
                "{}年{}月还没有结束，月通报要在月末以后才能发布。",
                m.year, m.month
            ),
        ));
    }
    let command_id = (!form.command_id.trim().is_empty()).then(|| form.command_id.clone());
    state
        .engine
        .publish_bulletin(&person.actor.id, m, None, command_id)
        .await?;
    Ok(Redirect::to(&format!("/bulletin?month={m}")).into_response())
}
