//! Notifications delivered (DESIGN §12) to real parts on loopback: a local HTTP receiver that
//! speaks the request shapes of a Standard Webhooks endpoint, 企业微信 (gettoken, application
//! message, group robot) and 钉钉 (robot with 加签, OAuth token, 待办 create and complete),
//! and Debian's aiosmtpd, a real SMTP server process, taking mail over STARTTLS. A
//! 秘密 document's title is never in any message; an endpoint down for a while gets its
//! notices after the backoff; one down for good gives a dead letter an operator retries.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use workflow_core::directory::{Classification, Reach};
use workflow_core::notice::NoticeKind;
use workflow_core::outgoing::Action;
use workflow_store::notify::webhook::{Secret, verifies};
use workflow_store::notify::{
    ChannelConfig, Delivery, DeliveryState, Notifier, NotifyConfig, dingtalk_sign,
};
use workflow_store::{Config, Engine};
use workflow_testkit::engine::{new_id, open_with, run};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const DING_SECRET: &str = "SECtest-dingtalk-robot-secret";

/// One request the receiver took.
#[derive(Debug, Clone)]
struct Hit {
    method: Method,
    path: String,
    query: BTreeMap<String, String>,
    headers: HeaderMap,
    body: String,
}

impl Hit {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A local HTTP server answering as the campus's webhook receiver, 企业微信 and 钉钉 do.
#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    hits: Arc<Mutex<Vec<Hit>>>,
    /// The webhook answers 503 to this many more requests.
    down: Arc<AtomicU32>,
    /// 钉钉 refuses to create 待办 (503) while set.
    todo_down: Arc<std::sync::atomic::AtomicBool>,
    /// 钉钉待办 created.
    tasks: Arc<AtomicU32>,
}

impl Receiver {
    async fn start() -> Receiver {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let down = Arc::new(AtomicU32::new(0));
        let (h, d) = (hits.clone(), down.clone());
        let tasks = Arc::new(AtomicU32::new(0));
        let todo_down = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (t, td) = (tasks.clone(), todo_down.clone());
        let app = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let (hits, down, tasks, todo_down) = (h.clone(), d.clone(), t.clone(), td.clone());
                async move {
                    let query: BTreeMap<String, String> = uri
                        .query()
                        .unwrap_or_default()
                        .split('&')
                        .filter_map(|kv| kv.split_once('='))
                        .map(|(k, v)| (k.to_owned(), percent_decode(v)))
                        .collect();
                    let path = uri.path().to_owned();
                    hits.lock().unwrap().push(Hit {
                        method: method.clone(),
                        path: path.clone(),
                        query: query.clone(),
                        headers,
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                    let ok = |v: serde_json::Value| (axum::http::StatusCode::OK, v.to_string());
                    match path.as_str() {
                        "/hook" => {
                            if down
                                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                                    n.checked_sub(1)
                                })
                                .is_ok()
                            {
                                (axum::http::StatusCode::SERVICE_UNAVAILABLE, "down".into())
                            } else {
                                (axum::http::StatusCode::NO_CONTENT, String::new())
                            }
                        }
                        "/cgi-bin/gettoken" => ok(serde_json::json!({
                            "errcode": 0, "errmsg": "ok", "access_token": "wx-token", "expires_in": 7200
                        })),
                        "/cgi-bin/message/send" if query.get("access_token").map(String::as_str) == Some("wx-token") => {
                            ok(serde_json::json!({ "errcode": 0, "errmsg": "ok" }))
                        }
                        "/cgi-bin/message/send" => {
                            ok(serde_json::json!({ "errcode": 40014, "errmsg": "invalid access_token" }))
                        }
                        "/cgi-bin/webhook/send" | "/robot/send" => {
                            ok(serde_json::json!({ "errcode": 0, "errmsg": "ok" }))
                        }
                        "/v1.0/oauth2/accessToken" => {
                            ok(serde_json::json!({ "accessToken": "dt-token", "expireIn": 7200 }))
                        }
                        p if p.starts_with("/v1.0/todo/users/")
                            && method == Method::POST
                            && todo_down.load(Ordering::Acquire) =>
                        {
                            (axum::http::StatusCode::SERVICE_UNAVAILABLE, "down".into())
                        }
                        p if p.starts_with("/v1.0/todo/users/") && method == Method::POST => {
                            let n = tasks.fetch_add(1, Ordering::AcqRel) + 1;
                            ok(serde_json::json!({ "id": format!("task-{n}"), "done": false }))
                        }
                        p if p.starts_with("/v1.0/todo/users/") => {
                            ok(serde_json::json!({ "result": true }))
                        }
                        _ => (axum::http::StatusCode::NOT_FOUND, String::new()),
                    }
                }
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Receiver {
            addr,
            hits,
            down,
            todo_down,
            tasks,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn hits(&self, path: &str) -> Vec<Hit> {
        self.hits
            .lock()
            .unwrap()
            .iter()
            .filter(|h| h.path.starts_with(path))
            .cloned()
            .collect()
    }
}

/// Debian's aiosmtpd (python3-aiosmtpd), a real SMTP server in its own process, with
/// STARTTLS required, keeping what it takes in a Maildir.
struct Smtp {
    child: std::process::Child,
    port: u16,
    maildir: std::path::PathBuf,
    ca: std::path::PathBuf,
}

impl Smtp {
    fn start(dir: &Path) -> Smtp {
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
        let (ca, key) = (dir.join("smtp-cert.pem"), dir.join("smtp-key.pem"));
        std::fs::write(&ca, cert.cert.pem()).unwrap();
        std::fs::write(&key, cert.signing_key.serialize_pem()).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let maildir = dir.join("maildir");
        let child = std::process::Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--tlscert")
            .arg(&ca)
            .arg("--tlskey")
            .arg(&key)
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .spawn()
            .expect("python3-aiosmtpd (scripts/test installs it)");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Smtp {
            child,
            port,
            maildir,
            ca,
        }
    }

    /// Each mail taken: its To, its decoded Subject and its decoded body, read back with
    /// Python's email module.
    fn mails(&self) -> Vec<(String, String, String)> {
        let script = r#"
import email, email.header, json, os, sys
d = os.path.join(sys.argv[1], "new")
out = []
for f in sorted(os.listdir(d)) if os.path.isdir(d) else []:
    m = email.message_from_binary_file(open(os.path.join(d, f), "rb"))
    subject = str(email.header.make_header(email.header.decode_header(m["Subject"])))
    body = m.get_payload(decode=True).decode(m.get_content_charset() or "utf-8")
    out.append([m["To"], subject, body])
print(json.dumps(out))
"#;
        let out = std::process::Command::new("/usr/bin/python3")
            .args(["-c", script])
            .arg(&self.maildir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn channel(name: &str, kind: &str) -> ChannelConfig {
    ChannelConfig {
        name: name.into(),
        kind: kind.into(),
        retry_after_secs: Some(0.05),
        timeout_secs: Some(5),
        per_minute: Some(0),
        ..Default::default()
    }
}

/// Every channel kind, on the receiver and the SMTP server.
fn config(r: &Receiver, smtp: &Smtp) -> NotifyConfig {
    let api = Some(r.url());
    NotifyConfig {
        base_url: Some("https://oa.x.edu.cn".into()),
        channels: vec![
            ChannelConfig {
                url: Some(format!("{}/hook", r.url())),
                secrets: vec![SECRET.into()],
                ..channel("campus-portal", "webhook")
            },
            ChannelConfig {
                host: Some("127.0.0.1".into()),
                port: Some(smtp.port),
                tls: Some("starttls".into()),
                ca_file: Some(smtp.ca.clone()),
                from: Some("公文系统 <gongwen@x.edu.cn>".into()),
                ..channel("mail", "email")
            },
            ChannelConfig {
                corp_id: Some("ww-corp".into()),
                secret: Some("wx-secret".into()),
                agent_id: Some(1000002),
                api: api.clone(),
                ..channel("wecom", "wecom_app")
            },
            ChannelConfig {
                key: Some("robot-key".into()),
                api: api.clone(),
                ..channel("jwc-wecom", "wecom_robot")
            },
            ChannelConfig {
                key: Some("ding-robot-token".into()),
                secret: Some(DING_SECRET.into()),
                api: api.clone(),
                ..channel("jwc-ding", "dingtalk_robot")
            },
            ChannelConfig {
                key: Some("ding-app-key".into()),
                secret: Some("ding-app-secret".into()),
                api,
                ..channel("ding-todo", "dingtalk_todo")
            },
        ],
    }
}

/// 李强 reached by mail, 企业微信, 钉钉 (@ in the group, and his 钉钉待办); 教务处's 企业微信
/// group for those of its people without a channel of their own.
async fn give_reach(engine: &Engine) {
    let mut li = engine.actor(&"li.qiang".into()).unwrap();
    li.reach = vec![
        Reach {
            channel: "mail".into(),
            address: "li.qiang@x.edu.cn".into(),
        },
        Reach {
            channel: "wecom".into(),
            address: "LiQiang".into(),
        },
        Reach {
            channel: "jwc-ding".into(),
            address: "liqiang-ding".into(),
        },
        Reach {
            channel: "ding-todo".into(),
            address: "union-liqiang".into(),
        },
    ];
    engine.put_actor(li, "test", "通知渠道").await.unwrap();
    let mut jwc = engine
        .units()
        .into_iter()
        .find(|u| u.code.as_str() == "JWC")
        .unwrap();
    jwc.reach = vec![Reach {
        channel: "jwc-wecom".into(),
        address: String::new(),
    }];
    engine.put_unit(jwc, "test", "教务处群").await.unwrap();
}

/// Waits (up to a minute) until `done` holds.
async fn until(what: &str, engine: &Engine, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "waited a minute for {what}; the outbox: {:#?}",
            engine.deliveries(None, 0, 100).map(|ds| ds
                .into_iter()
                .map(|d| format!(
                    "{} {} {} {:?} {:?} {} {:?}",
                    d.position, d.channel, d.recipient, d.kind, d.state, d.attempts, d.last_error
                ))
                .collect::<Vec<_>>())
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The deliveries kept in the outbox: those that did not go through at their first try.
fn deliveries(engine: &Engine) -> Vec<Delivery> {
    engine.deliveries(None, 0, usize::MAX).unwrap()
}

/// Whether each of `channels` channels has settled every notice through the log's head,
/// with none kept to be tried again.
fn settled(engine: &Engine, channels: usize) -> bool {
    let status = engine.outbox_status().unwrap();
    status.channels.len() == channels
        && status.settled() == engine.head()
        && status.count(DeliveryState::Pending) == 0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_todo_reaches_its_holder_on_every_channel_and_a_secret_title_never_does() {
    let dir = tempfile::tempdir().unwrap();
    let r = Receiver::start().await;
    let smtp = Smtp::start(dir.path());
    let engine = open_with(Config::new(dir.path().join("data"))).await;
    give_reach(&engine).await;
    let notifier = Notifier::start(&engine, &config(&r, &smtp))
        .unwrap()
        .unwrap();

    // 王芳 drafts and submits: the review is 李强's.
    let flow = workflow_testkit::full_flow();
    let id = new_id();
    for (actor, action) in flow.iter().take(2).cloned() {
        run(&engine, id, actor, action).await;
    }
    until("李强's notices on every channel", &engine, || {
        settled(&engine, 6)
    })
    .await;

    // The webhook: signed per Standard Webhooks, the notice as data, its id for de-duplication.
    let hooks = r.hits("/hook");
    let todo = hooks
        .iter()
        .find(|h| h.json()["data"]["recipient"] == "li.qiang")
        .expect("李强's 待办 at the webhook");
    let header = |h: &Hit, k: &str| h.headers[k].to_str().unwrap().to_owned();
    let ts: i64 = header(todo, "webhook-timestamp").parse().unwrap();
    assert!(verifies(
        &Secret::parse(SECRET).unwrap(),
        &header(todo, "webhook-signature"),
        &header(todo, "webhook-id"),
        ts,
        todo.body.as_bytes()
    ));
    let body = todo.json();
    assert_eq!(body["type"], "notice.todo");
    assert_eq!(body["data"]["id"], header(todo, "webhook-id"));
    assert_eq!(
        body["data"]["title"],
        workflow_testkit::sample().fields.title
    );
    assert_eq!(body["data"]["url"], format!("https://oa.x.edu.cn/doc/{id}"));
    // 王芳's draft is no longer hers: an 已办 for systems that keep a list of their own.
    assert!(
        hooks
            .iter()
            .any(|h| h.json()["type"] == "notice.done"
                && h.json()["data"]["recipient"] == "wang.fang"),
        "{hooks:?}"
    );

    // Mail over STARTTLS to the real SMTP server: Chinese subject and body, the card's link.
    let mails = smtp.mails();
    let (to, subject, text) = mails
        .iter()
        .find(|m| m.0.contains("li.qiang@x.edu.cn"))
        .unwrap_or_else(|| panic!("{mails:?}"));
    assert!(to.contains("li.qiang@x.edu.cn"));
    assert!(subject.starts_with("【待办】"), "{subject}");
    assert!(
        text.contains("【待办】发文《") && text.contains(&format!("https://oa.x.edu.cn/doc/{id}")),
        "{text}"
    );

    // 企业微信: a token, then the application message to his userid with it.
    assert!(!r.hits("/cgi-bin/gettoken").is_empty());
    let wx = r.hits("/cgi-bin/message/send");
    let m = wx
        .iter()
        .find(|h| h.json()["touser"] == "LiQiang")
        .unwrap()
        .json();
    assert_eq!(m["agentid"], 1000002);
    assert!(m["text"]["content"].as_str().unwrap().contains("【待办】"));
    // 钉钉 robot: signed (加签) and @ him.
    let ding = r.hits("/robot/send");
    let d = ding
        .iter()
        .find(|h| h.json()["at"]["atUserIds"][0] == "liqiang-ding")
        .unwrap();
    let ts: i64 = d.query["timestamp"].parse().unwrap();
    let sign = &d.query["sign"];
    assert_eq!(*sign, dingtalk_sign(ts, DING_SECRET));
    // 钉钉待办: created for his unionId with the card's link.
    let created = r
        .hits("/v1.0/todo/users/union-liqiang/tasks")
        .into_iter()
        .find(|h| h.method == Method::POST)
        .unwrap();
    assert_eq!(created.headers["x-acs-dingtalk-access-token"], "dt-token");
    assert_eq!(
        created.json()["detailUrl"]["pcUrl"],
        format!("https://oa.x.edu.cn/doc/{id}")
    );
    assert_eq!(created.json()["executorIds"][0], "union-liqiang");

    // 李强 approves: his 钉钉待办 is completed (the task the create answered with).
    let (actor, action) = flow[2].clone();
    run(&engine, id, actor, action).await;
    until("李强's 钉钉待办 completed", &engine, || {
        r.hits("/v1.0/todo/users/union-liqiang/tasks/task-1")
            .iter()
            .any(|h| h.method == Method::PUT && h.json()["done"] == true)
    })
    .await;

    // A 秘密 document: announced, never titled, on any channel cleared for 非密.
    let secret = new_id();
    let mut fields = workflow_testkit::fields();
    fields.title = "关于机密人事调整的请示".into();
    fields.classification = Classification::Secret;
    fields.classification_period_years = Some(10);
    run(&engine, secret, "wang.fang", Action::Draft(fields)).await;
    let route = vec![workflow_testkit::sample().route[0].clone()];
    run(
        &engine,
        secret,
        "wang.fang",
        Action::SubmitForReview { route },
    )
    .await;
    until("the 秘密 document's notices", &engine, || {
        settled(&engine, 6)
    })
    .await;
    notifier.stop();
    let everything: String = r
        .hits
        .lock()
        .unwrap()
        .iter()
        .map(|h| h.body.clone())
        .chain(smtp.mails().into_iter().flat_map(|(_, s, b)| [s, b]))
        .collect();
    assert!(everything.contains("您有一件秘密发文待办"), "announced");
    assert!(!everything.contains("机密人事调整"), "never titled");
    // Every delivery was taken at its first try (none kept to be tried again), nothing twice.
    assert_eq!(deliveries(&engine), []);
    assert!(
        engine
            .outbox_status()
            .unwrap()
            .count(DeliveryState::Delivered)
            >= 12
    );
    let ids: std::collections::BTreeSet<_> = r
        .hits("/hook")
        .iter()
        .map(|h| header(h, "webhook-id"))
        .collect();
    assert_eq!(ids.len(), r.hits("/hook").len(), "each notice posted once");
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .unwrap()
        .into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_down_gets_its_notices_after_the_backoff_and_a_dead_letter_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let r = Receiver::start().await;
    let engine = open_with(Config::new(dir.path().join("data"))).await;
    let hook = |max: u32| NotifyConfig {
        base_url: None,
        channels: vec![ChannelConfig {
            url: Some(format!("{}/hook", r.url())),
            secrets: vec![SECRET.into()],
            max_attempts: Some(max),
            ..channel("campus-portal", "webhook")
        }],
    };
    // Down for its first three tries: the fourth delivers.
    r.down.store(3, Ordering::Release);
    let notifier = Notifier::start(&engine, &hook(12)).unwrap().unwrap();
    let id = new_id();
    let flow = workflow_testkit::full_flow();
    for (actor, action) in flow.iter().take(2).cloned() {
        run(&engine, id, actor, action).await;
    }
    until("李强's 待办 delivered", &engine, || {
        deliveries(&engine)
            .iter()
            .any(|d| d.recipient.as_str() == "li.qiang" && d.state == DeliveryState::Delivered)
    })
    .await;
    notifier.stop();
    // Each try recorded: those of the deliveries kept after a failure, and those that went
    // through at their first try.
    let tried: u64 = deliveries(&engine)
        .iter()
        .map(|d| u64::from(d.attempts))
        .sum();
    let at_first: u64 = engine
        .outbox_status()
        .unwrap()
        .channels
        .iter()
        .map(|c| c.delivered)
        .sum();
    let posted = r.hits("/hook").len() as u64;
    assert_eq!(tried + at_first, posted, "each try recorded");
    assert!(posted >= 4, "three refused, then delivered: {posted}");

    // Down for good with two tries allowed: a dead letter with the reason; the operator's
    // retry once it is back delivers it, with the same id.
    r.down.store(u32::MAX, Ordering::Release);
    let notifier = Notifier::start(&engine, &hook(2)).unwrap().unwrap();
    let (actor, action) = flow[2].clone();
    run(&engine, id, actor, action).await;
    // Every try of the new notices made (none left pending), some given up.
    until("the new notices' dead letters", &engine, || {
        let all = deliveries(&engine);
        all.iter().all(|d| d.state != DeliveryState::Pending)
            && all.iter().any(|d| d.state == DeliveryState::Dead)
    })
    .await;
    let dead = engine.deliveries(Some(DeliveryState::Dead), 0, 10).unwrap();
    assert!(dead.iter().all(|d| d.attempts == 2), "{dead:?}");
    assert!(
        dead[0].last_error.as_deref().unwrap().contains("503"),
        "{:?}",
        dead[0].last_error
    );
    r.down.store(0, Ordering::Release);
    for d in &dead {
        engine.retry_delivery(&d.id).unwrap();
    }
    until("the retried letters delivered", &engine, || {
        engine
            .deliveries(Some(DeliveryState::Dead), 0, 10)
            .unwrap()
            .is_empty()
            && engine
                .deliveries(Some(DeliveryState::Pending), 0, 10)
                .unwrap()
                .is_empty()
    })
    .await;
    let last = r.hits("/hook").pop().unwrap();
    assert_eq!(
        last.headers["webhook-id"],
        dead.last().unwrap().notice_id.as_str()
    );
    notifier.stop();
    // Restarted: what was delivered stays delivered, nothing is sent again.
    let before = r.hits("/hook").len();
    let notifier = Notifier::start(&engine, &hook(2)).unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    notifier.stop();
    assert_eq!(r.hits("/hook").len(), before);
    let status = engine.outbox_status().unwrap();
    assert_eq!(status.settled(), engine.head());
}

/// 钉钉待办 kept in step when deliveries come out of order: 李强's 待办 cannot be created
/// (钉钉 answers 503) until after he has acted and his 已办 went through; the 待办 then is
/// not created at all — no task is left open in 钉钉 that nobody will complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dingtalk_todo_done_before_it_was_created_is_never_left_open() {
    let dir = tempfile::tempdir().unwrap();
    let r = Receiver::start().await;
    let engine = open_with(Config::new(dir.path().join("data"))).await;
    give_reach(&engine).await;
    let config = NotifyConfig {
        base_url: None,
        channels: vec![ChannelConfig {
            key: Some("ding-app-key".into()),
            secret: Some("ding-app-secret".into()),
            api: Some(r.url()),
            // The test clock steps a minute a reading: backoffs pass at once.
            max_attempts: Some(100_000),
            ..channel("ding-todo", "dingtalk_todo")
        }],
    };
    r.todo_down.store(true, Ordering::Release);
    let notifier = Notifier::start(&engine, &config).unwrap().unwrap();
    let flow = workflow_testkit::full_flow();
    let id = new_id();
    for (actor, action) in flow.iter().take(2).cloned() {
        run(&engine, id, actor, action).await;
    }
    until("李强's 待办 refused by 钉钉", &engine, || {
        deliveries(&engine)
            .iter()
            .any(|d| d.kind == NoticeKind::Todo && d.attempts >= 1)
    })
    .await;
    // He acts before 钉钉 takes it: his 已办 goes through first.
    let (actor, action) = flow[2].clone();
    run(&engine, id, actor, action).await;
    // His 已办 goes through while 钉钉 still refuses the 待办 (which either keeps failing
    // or, tried again after the 已办, is settled without a task).
    until("李强's 已办 settled", &engine, || {
        engine.outbox_status().unwrap().settled() == engine.head()
    })
    .await;
    assert!(
        deliveries(&engine)
            .iter()
            .all(|d| d.kind == NoticeKind::Todo),
        "only the 待办 failed"
    );
    r.todo_down.store(false, Ordering::Release);
    until("李强's 待办 settled", &engine, || {
        deliveries(&engine)
            .iter()
            .all(|d| d.state == DeliveryState::Delivered)
    })
    .await;
    notifier.stop();
    assert!(
        r.hits("/v1.0/todo/users/union-liqiang/tasks")
            .iter()
            .any(|h| h.method == Method::POST),
        "the 待办 was tried while 钉钉 refused it"
    );
    assert_eq!(
        r.tasks.load(Ordering::Acquire),
        0,
        "no task created after its 已办: none left open"
    );
}
