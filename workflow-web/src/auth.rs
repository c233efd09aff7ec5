//! Who is signed in (`dev`: an actor chosen on the sign-in page; `header`: the user id a
//! trusted proxy passes), CSRF protection of every form, and the security headers of every
//! answer.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use subtle::ConstantTimeEq;
use workflow_core::{directory::Actor, directory::Role};
use workflow_store::Reader;

use crate::AppState;
use crate::config::AuthMode;
use crate::error::WebError;

pub(crate) const ACTOR_COOKIE: &str = "wf_actor";
pub(crate) const CSRF_COOKIE: &str = "wf_csrf";

/// Pages may load scripts, styles and images from the console itself only; nothing inline,
/// no frames, forms post back to the console.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; \
                   base-uri 'none'";

/// The CSRF token of this browser (a random value in a cookie, repeated in every form).
#[derive(Debug, Clone)]
pub(crate) struct CsrfToken(pub(crate) String);

/// The signed-in person, as every page and action sees them.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub(crate) reader: Reader,
    pub(crate) actor: Actor,
    /// What the person's forms carry: the browser's CSRF token and, after a dot, whom the
    /// page was made for (`<token>.<actor>`), so that a form from a tab opened as someone
    /// else is noticed (see [`Person::check_csrf`]).
    pub(crate) csrf: String,
}

impl Person {
    /// Refuses a form whose token is not this browser's; and a form this browser made for
    /// another person — a tab left open while someone else signed in in another — with a
    /// conflict that says so, so that nothing is done under the wrong name.
    pub(crate) fn check_csrf(&self, submitted: &str) -> Result<(), WebError> {
        let token = browser_token(&self.csrf);
        if token.is_empty() {
            // No token for this browser: nothing a form sends can match it.
            return check_csrf("", submitted);
        }
        // This page's own form, or a form of this browser that names nobody.
        if check_csrf(&self.csrf, submitted).is_ok() || check_csrf(token, submitted).is_ok() {
            return Ok(());
        }
        if let Some((sent, who)) = submitted.split_once('.')
            && check_csrf(token, sent).is_ok()
        {
            return Err(WebError::OtherPerson(format!(
                "这张表单是以“{who}”的身份打开的，而此浏览器现在登录的是{}（{}）——可能在另一个标签页换了人。为免以错误的身份办理，这次没有办理：请刷新本页，确认身份后再办。",
                self.actor.name, self.actor.id
            )));
        }
        check_csrf(&self.csrf, submitted)
    }

    /// Whether the operator page is theirs: 系统管理员 and the archive's staff, who answer
    /// for the log's integrity.
    pub(crate) fn is_operator(&self) -> bool {
        self.actor
            .roles
            .iter()
            .any(|r| matches!(r, Role::Admin | Role::Archivist | Role::ArchiveOffice))
    }
}

/// The browser's token in what a form carries (`<token>.<actor>` or the token alone).
pub(crate) fn browser_token(form_token: &str) -> &str {
    form_token.split_once('.').map_or(form_token, |(t, _)| t)
}

pub(crate) fn check_csrf(expected: &str, submitted: &str) -> Result<(), WebError> {
    if !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(submitted.as_bytes())) {
        Ok(())
    } else {
        Err(WebError::Forbidden(
            "表单已失效（缺少或不符的 CSRF 令牌）：请刷新页面后重新提交".into(),
        ))
    }
}

pub(crate) fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

/// A cookie the console sets: not readable by scripts, never sent cross-site, and over
/// HTTPS only when `secure` (see [`crate::WebConfig::secure_cookies`]).
pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    remove: bool,
    secure: bool,
) -> Option<HeaderValue> {
    let mut c = Cookie::build((name.to_owned(), value.to_owned()))
        .path("/")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .build();
    if remove {
        c.make_removal();
    }
    HeaderValue::from_str(&c.to_string()).ok()
}

fn new_token() -> Result<String, WebError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| WebError::Internal(format!("no randomness for a CSRF token: {e}")))?;
    Ok(hex::encode(bytes))
}

fn peer(parts: &Parts) -> Option<SocketAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| *a)
}

impl FromRequestParts<AppState> for Person {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default();
        let config = &state.config;
        let id = match config.auth {
            AuthMode::Dev => match cookie_value(&parts.headers, ACTOR_COOKIE) {
                Some(id) if !id.is_empty() => id,
                _ => return Err(Redirect::to("/signin").into_response()),
            },
            AuthMode::Header => {
                let trusted = peer(parts)
                    .is_some_and(|p| config.trusted_proxies.contains(&p.ip().to_canonical()));
                if !trusted {
                    return Err(WebError::Unauthenticated(format!(
                        "请经由统一身份认证网关访问（来自 {} 的请求不是受信任的代理）",
                        peer(parts).map_or_else(|| "未知地址".to_owned(), |p| p.ip().to_string())
                    ))
                    .into_response());
                }
                let name = config.header.as_deref().unwrap_or_default().trim();
                match parts.headers.get(name).and_then(|v| v.to_str().ok()) {
                    Some(id) if !id.trim().is_empty() => id.trim().to_owned(),
                    _ => {
                        return Err(WebError::Unauthenticated(format!(
                            "代理未传来用户（请求头 {name} 缺失）"
                        ))
                        .into_response());
                    }
                }
            }
        };
        let reader = state.engine.reader(&config.channel, &id).map_err(|e| {
            WebError::Unauthenticated(format!("{id} 不能登录：{e}")).into_response()
        })?;
        let actor = reader
            .actor()
            .cloned()
            .ok_or_else(|| WebError::Unauthenticated(id.clone()).into_response())?;
        let csrf = format!("{csrf}.{}", actor.id);
        Ok(Person {
            reader,
            actor,
            csrf,
        })
    }
}

/// Every request: a CSRF token for the browser (made on its first visit), unsafe methods
/// only from the console's own pages (`Sec-Fetch-Site`, `Origin`), and the security headers
/// on every answer.
pub(crate) async fn protect(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    if state.config.auth == AuthMode::Dev
        && let Err(e) = loopback_only(&req)
    {
        return secured(e.into_response(), None, false);
    }
    let secure = state.config.secure_cookies();
    let existing = cookie_value(req.headers(), CSRF_COOKIE)
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()));
    let (token, fresh) = match existing {
        Some(t) => (t, false),
        None => match new_token() {
            Ok(t) => (t, true),
            Err(e) => return e.into_response(),
        },
    };
    if req.method() != Method::GET
        && req.method() != Method::HEAD
        && let Err(e) = same_origin(req.headers())
    {
        return secured(e.into_response(), None, secure);
    }
    req.extensions_mut().insert(CsrfToken(token.clone()));
    let response = next.run(req).await;
    secured(response, fresh.then_some(token), secure)
}

/// `dev` sign-in lets whoever reaches the console be anyone: it answers only connections
/// from this machine, and only for a loopback host name, so that another site's page cannot
/// reach it through a name it points at 127.0.0.1 (DNS rebinding).
fn loopback_only(req: &Request) -> Result<(), WebError> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip().to_canonical());
    if !peer.is_some_and(|ip| ip.is_loopback()) {
        return Err(WebError::Forbidden(format!(
            "试用登录（auth = \"dev\"）只接受本机的连接，不接受 {}",
            peer.map_or_else(|| "未知地址".to_owned(), |ip| ip.to_string())
        )));
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    if !matches!(name, "" | "localhost" | "127.0.0.1" | "[::1]") {
        return Err(WebError::Forbidden(format!(
            "试用登录（auth = \"dev\"）只在 localhost 或 127.0.0.1 上提供，不在 {name} 上"
        )));
    }
    Ok(())
}

/// Refuses a state-changing request another site's page made the browser send.
fn same_origin(headers: &HeaderMap) -> Result<(), WebError> {
    let refused = || {
        Err(WebError::Forbidden(
            "跨站提交被拒绝：请在本系统页面中操作".into(),
        ))
    };
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && site != "same-origin"
        && site != "none"
    {
        return refused();
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let origin_host = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .unwrap_or_default();
        if origin_host.is_empty() || origin_host != host {
            return refused();
        }
    }
    Ok(())
}

/// `Referrer-Policy: same-origin`, not `no-referrer`: under `no-referrer` a browser sends
/// `Origin: null` with a form post, which the same-origin check could not tell from another
/// site's; other sites get no referrer either way.
fn secured(mut response: Response, new_csrf: Option<String>, secure: bool) -> Response {
    let h = response.headers_mut();
    // A file shown in the card's frame says its own (see `files.rs`).
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CSP));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.entry(header::X_FRAME_OPTIONS)
        .or_insert(HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(token) = new_csrf
        && let Some(v) = set_cookie(CSRF_COOKIE, &token, false, secure)
    {
        h.append(header::SET_COOKIE, v);
    }
    response
}
