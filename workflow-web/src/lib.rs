//! The web console (办公系统页面) over the engine, for the people around it: the clerk
//! watching what is stuck, a leader reading the 月通报, an auditor showing that the log is
//! intact. Pages in Chinese, rendered on the server from templates compiled into the binary
//! (askama), with htmx vendored for the one live panel: no CDN, no JavaScript build step,
//! usable on a closed campus network.
//!
//! The console is an adapter beside gRPC, never a second set of rules: who may read what is
//! the engine's ([`workflow_store::Reader`], classified reads recorded in the access log),
//! and every action is a command the engine decides. Sign-in is `dev` (choose an actor, on
//! loopback only) or `header` (a trusted proxy's header). Every form carries a CSRF token;
//! every answer a content security policy.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use workflow_web::{WebConfig, router};
//!
//! let dir = tempfile::tempdir()?;
//! let engine = workflow_store::Engine::open(dir.path())?;
//! let config = WebConfig::dev("127.0.0.1:0".parse()?);
//! let clock: workflow_store::Clock = std::sync::Arc::new(chrono::Utc::now);
//! let app = router(engine, config, clock)?;
//! // axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
//! # drop(app);
//! # Ok(()) }
//! ```

mod actions;
mod auth;
mod config;
mod error;
mod files;
mod ops;
mod pages;
mod pickers;
mod register;
mod view;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use workflow_store::{Clock, Engine};

pub use config::{AuthMode, WebConfig};
pub use error::WebError;

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) engine: Engine,
    pub(crate) config: Arc<WebConfig>,
    pub(crate) clock: Clock,
    pub(crate) ops: Arc<ops::OpsState>,
}

/// The top of every page: who is signed in, and what they may open.
#[derive(Debug, Clone)]
pub(crate) struct Nav {
    pub(crate) actor: String,
    pub(crate) name: String,
    pub(crate) unit: String,
    pub(crate) roles: String,
    pub(crate) clearance: String,
    pub(crate) operator: bool,
    /// Whether the person registers 收文 (the menu offers 收文登记).
    pub(crate) registrar: bool,
    pub(crate) csrf: String,
    pub(crate) dev: bool,
    /// How many wait in the person's 待办 (`None` if it could not be counted), and whether
    /// there are more than a page holds.
    pub(crate) todo: Option<(usize, bool)>,
}

impl AppState {
    pub(crate) fn nav(&self, person: &auth::Person) -> Nav {
        self.nav_counted(person, self.engine.read_todo_count(&person.reader).ok())
    }

    /// [`AppState::nav`] with the 待办's count already known (the 待办 page has just read
    /// it: not counted twice).
    pub(crate) fn nav_counted(&self, person: &auth::Person, todo: Option<(usize, bool)>) -> Nav {
        let a = &person.actor;
        Nav {
            actor: a.id.to_string(),
            name: a.name.clone(),
            unit: self
                .engine
                .units()
                .into_iter()
                .find(|u| u.code == a.unit)
                .map_or_else(|| a.unit.to_string(), |u| u.name),
            roles: a
                .roles
                .iter()
                .map(|r| r.chinese())
                .collect::<Vec<_>>()
                .join("、"),
            clearance: a.clearance.chinese().to_owned(),
            operator: person.is_operator(),
            registrar: a.has_role(workflow_core::directory::Role::Registrar),
            csrf: person.csrf.clone(),
            dev: self.config.auth == AuthMode::Dev,
            todo,
        }
    }
}

const HTMX: &str = include_str!("../assets/htmx.min.js");
const CSS: &str = include_str!("../assets/app.css");
const JS: &str = include_str!("../assets/app.js");

fn asset(body: &'static str, mime: &'static str) -> axum::response::Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
        .into_response()
}

/// The console's routes over `engine`, after checking `config`; `clock` decides what is
/// overdue. Serve it with connection info (`header` sign-in checks the peer's address):
/// `into_make_service_with_connect_info::<SocketAddr>()`.
pub fn router(engine: Engine, config: WebConfig, clock: Clock) -> Result<Router, WebError> {
    config.validate()?;
    // A form with a file as large as the engine keeps, and its few other fields.
    let upload_limit = usize::try_from(engine.content_limits().max_bytes)
        .unwrap_or(usize::MAX)
        .saturating_add(64 << 10);
    let state = AppState {
        engine,
        config: Arc::new(config),
        clock,
        ops: Arc::new(ops::OpsState::default()),
    };
    Ok(Router::new()
        .route("/", get(pages::home))
        .route("/signin", get(pages::signin).post(pages::signin_post))
        .route("/signout", post(pages::signout))
        .route("/todo", get(pages::todo))
        .route("/todo/batch", post(pages::batch))
        .route("/done", get(pages::done))
        .route("/mine", get(pages::started))
        .route("/archived", get(pages::archived))
        .route("/doc/{id}", get(pages::document).post(pages::act))
        .route("/doc/{id}/timeline", get(pages::timeline))
        .route("/doc/{id}/file/{sha256}", get(files::download))
        .route("/doc/{id}/issued.pdf", get(files::issued))
        .route(
            "/doc/{id}/files",
            post(files::upload).layer(axum::extract::DefaultBodyLimit::max(upload_limit)),
        )
        .route("/doc/{id}/files/remove", post(files::remove))
        .route(
            "/register",
            get(register::form).post(register::register).layer(
                // A 正文 and a few attachments as large as the engine keeps each.
                axum::extract::DefaultBodyLimit::max(upload_limit.saturating_mul(8)),
            ),
        )
        .route("/search", get(pages::search))
        .route("/bulletin", get(pages::bulletin))
        .route("/bulletin/file", get(pages::bulletin_file))
        .route("/bulletin/publish", post(pages::publish))
        .route("/ops", get(ops::page))
        .route(
            "/ops/verify",
            get(ops::verify_status).post(ops::verify_start),
        )
        .route(
            "/ops/archive-check",
            get(ops::check_status).post(ops::check_start),
        )
        .route("/ops/archive-check.csv", get(ops::check_csv))
        .route("/ops/export", get(ops::export))
        .route("/ops/notify/retry", post(ops::retry_notification))
        .route(
            "/static/htmx.min.js",
            get(|| async { asset(HTMX, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/static/app.js",
            get(|| async { asset(JS, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/static/app.css",
            get(|| async { asset(CSS, "text/css; charset=utf-8") }),
        )
        .fallback(|uri: axum::http::Uri| async move { WebError::NoPage(uri.path().to_owned()) })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::protect,
        ))
        .with_state(state))
}

/// Serves the console on `listener` until `shutdown` completes.
pub async fn serve(
    engine: Engine,
    config: WebConfig,
    clock: Clock,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WebError> {
    // `dev` only on loopback, whatever the configuration says the address is.
    let local = listener
        .local_addr()
        .map_err(|e| WebError::Internal(format!("the console's listener: {e}")))?;
    if config.auth == AuthMode::Dev && !local.ip().is_loopback() {
        return Err(WebError::Config {
            field: "web.listen",
            reason: format!("auth = \"dev\" is served on a loopback address only, not {local}"),
        });
    }
    let app = router(engine, config, clock)?;
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(|e| WebError::Internal(format!("serving the web console: {e}")))
}
