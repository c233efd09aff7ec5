//! A console over an engine with the campus fixture, driven in-process (no socket) with
//! signed-in browsers as cookie pairs.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;
use workflow_core::{DocumentId, outgoing::Action};
use workflow_store::Engine;
use workflow_web::WebConfig;

pub struct Console {
    pub engine: Engine,
    pub app: Router,
    _dir: tempfile::TempDir,
}

/// A browser: its cookies and CSRF token.
#[derive(Clone, Debug)]
pub struct Browser {
    pub cookies: String,
    pub csrf: String,
}

/// The boundary of the multipart forms tests send.
pub const BOUNDARY: &str = "----wf-test-boundary";

/// A multipart form: text fields, then files as (field, file name, bytes).
pub fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (field, name, bytes) in files {
        body.extend(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend(*bytes);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

/// The console's development settings (dev sign-in on loopback).
fn dev() -> WebConfig {
    WebConfig::dev("127.0.0.1:0".parse().unwrap())
}

pub const LOOPBACK: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40000);

impl Console {
    pub async fn new() -> Console {
        Self::with(dev()).await
    }

    pub async fn with(config: WebConfig) -> Console {
        Self::over(tempfile::tempdir().unwrap(), |c| c, config).await
    }

    /// A console over an engine that keeps uploads within `limits`.
    pub async fn with_content_limits(limits: workflow_store::content::ContentLimits) -> Console {
        let store = |c| workflow_store::Config {
            content_limits: limits,
            ..c
        };
        Self::over(tempfile::tempdir().unwrap(), store, dev()).await
    }

    /// The same store opened again with a printer (the console lays out, through the
    /// engine, what was issued before without one). Its clock starts again at the kit's
    /// start: what it records next is dated before what it recorded, which the tests using
    /// it do not read.
    pub async fn reopened_with_printer(self) -> Console {
        let Console { engine, app, _dir } = self;
        drop(app);
        drop(engine);
        let store = |c| workflow_store::Config {
            printer: Some(workflow_render::printer::lazy_printer()),
            ..c
        };
        Self::over(_dir, store, dev()).await
    }

    /// The console over the store in `dir`, its engine configured by `store` (on the kit's
    /// stepping clock, with the fixture's directory).
    async fn over(
        dir: tempfile::TempDir,
        store: impl FnOnce(workflow_store::Config) -> workflow_store::Config,
        config: WebConfig,
    ) -> Console {
        let engine =
            workflow_testkit::engine::open_with(store(workflow_store::Config::new(dir.path())))
                .await;
        let clock = workflow_testkit::clock::running_clock();
        let app = workflow_web::router(engine.clone(), config, clock).unwrap();
        Console {
            engine,
            app,
            _dir: dir,
        }
    }

    pub async fn send(&self, req: Request<Body>, peer: SocketAddr) -> Answer {
        let mut req = req;
        req.extensions_mut().insert(ConnectInfo(peer));
        let response = self.app.clone().oneshot(req).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, browser: &Browser, path: &str) -> Answer {
        let req = Request::get(path)
            .header(header::COOKIE, &browser.cookies)
            .body(Body::empty())
            .unwrap();
        self.send(req, LOOPBACK).await
    }

    pub async fn post(&self, browser: &Browser, path: &str, form: &[(&str, &str)]) -> Answer {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let req = Request::post(path)
            .header(header::COOKIE, &browser.cookies)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.send(req, LOOPBACK).await
    }

    /// Posts a multipart `body` (see [`multipart`]) to `path`.
    pub async fn post_multipart(&self, browser: &Browser, path: &str, body: Vec<u8>) -> Answer {
        let req = Request::post(path)
            .header(header::COOKIE, &browser.cookies)
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(body))
            .unwrap();
        self.send(req, LOOPBACK).await
    }

    /// Sends a document page's form for `id` with the browser's CSRF token.
    pub async fn act(&self, browser: &Browser, id: DocumentId, fields: &[(&str, &str)]) -> Answer {
        let mut form = vec![("csrf", browser.csrf.as_str())];
        form.extend_from_slice(fields);
        self.post(browser, &format!("/doc/{id}"), &form).await
    }

    /// A new browser: its first visit gets the CSRF cookie.
    pub async fn browser(&self) -> Browser {
        let req = Request::get("/signin").body(Body::empty()).unwrap();
        let a = self.send(req, LOOPBACK).await;
        let csrf = cookie(&a, "wf_csrf").expect("the first visit sets a CSRF cookie");
        Browser {
            cookies: format!("wf_csrf={csrf}"),
            csrf,
        }
    }

    /// A browser signed in as `actor` (dev sign-in).
    pub async fn signed_in(&self, actor: &str) -> Browser {
        let mut b = self.browser().await;
        let csrf = b.csrf.clone();
        let a = self
            .post(&b, "/signin", &[("csrf", &csrf), ("actor", actor)])
            .await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.body);
        let who = cookie(&a, "wf_actor").expect("sign-in sets the actor cookie");
        b.cookies = format!("{}; wf_actor={who}", b.cookies);
        b
    }

    /// The fixture's sample 发文, drafted and submitted, `steps` of its flow taken.
    pub async fn sample_document(
        &self,
        steps: usize,
        fields: Option<workflow_core::outgoing::DraftFields>,
    ) -> DocumentId {
        let sample = workflow_testkit::sample();
        let dir = workflow_testkit::directory();
        let id = workflow_testkit::engine::new_id();
        let mut flow = sample.flow(&dir);
        if let Some(f) = fields {
            flow[0].1 = Action::Draft(f);
        }
        for (actor, action) in flow.into_iter().take(steps) {
            let req = workflow_store::Request::new(id, actor, action);
            self.engine.execute(req).await.unwrap();
        }
        id
    }
}

impl Console {
    /// The test kit's sample 签报, `steps` of its flow taken (its 督办 item due in 60 days).
    pub async fn sample_memo(&self, steps: usize) -> DocumentId {
        let id = workflow_testkit::engine::new_id();
        let deadline = workflow_testkit::clock::today() + chrono::Duration::days(60);
        let flow = workflow_testkit::submission::memo_flow(deadline, "J012");
        for (actor, action) in flow.into_iter().take(steps) {
            let req = workflow_store::Request::new(id, actor, action);
            self.engine.execute(req).await.unwrap();
        }
        id
    }
}

pub fn cookie(a: &Answer, name: &str) -> Option<String> {
    a.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let (pair, _) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=')?;
            (k.trim() == name).then(|| val.to_owned())
        })
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The value of a hidden input in a form for `action` on a page.
pub fn form_value(page: &str, action: &str, name: &str) -> Option<String> {
    let start = page.find(&format!("data-action=\"{action}\""))?;
    let rest = &page[start..];
    let end = rest.find("</form>")?;
    let form = &rest[..end];
    let at = form.find(&format!("name=\"{name}\" value=\""))?;
    let v = &form[at + name.len() + 15..];
    Some(v[..v.find('"')?].to_owned())
}

/// The engine's reason code and words the page folds beside its error message, if any.
pub fn error_detail(page: &str) -> String {
    const MARK: &str = "id=\"error-detail\">";
    let Some(start) = page.find(MARK) else {
        return String::new();
    };
    let rest = &page[start + MARK.len()..];
    rest[..rest.find("</code>").unwrap_or(rest.len())].to_owned()
}

/// The text of the page's error message, if it has one.
pub fn error_message(page: &str) -> String {
    const MARK: &str = "id=\"error-message\">";
    let Some(start) = page.find(MARK) else {
        return String::new();
    };
    let rest = &page[start + MARK.len()..];
    rest[..rest.find("</p>").unwrap_or(rest.len())].to_owned()
}
