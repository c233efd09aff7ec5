//! Sending one delivery over its channel: the request shapes of a signed webhook, SMTP
//! mail, 企业微信 (application message, group robot) and 钉钉 (custom robot with 加签, 待办).
//! Each try either succeeds (the channel answered that it took the message) or fails with
//! a reason the operator reads; the deliverer decides what comes next.

use std::time::Duration;

use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use workflow_core::notice::NoticeKind;

use super::channel::{Channel, MailTls, Sends};
use super::outbox::Delivery;
use super::webhook;
use crate::storage::Outbox;

/// Why a try failed, in words for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    /// Why.
    pub(crate) reason: String,
    /// Whether trying again cannot help (the address is not one the channel can use): the
    /// delivery is given up at once, for the operator to see.
    pub(crate) permanent: bool,
}

fn fail(what: impl std::fmt::Display) -> Failure {
    Failure {
        reason: what.to_string(),
        permanent: false,
    }
}

/// A failure no retry mends: the directory's address for the person is unusable.
fn unusable(what: impl std::fmt::Display) -> Failure {
    Failure {
        reason: what.to_string(),
        permanent: true,
    }
}

/// The most of an answer's body read (and quoted in a failure).
const ANSWER_LIMIT: u64 = 64 * 1024;

/// A channel's sender, with what it keeps between tries (an HTTP agent and its
/// connections, an access token).
pub(crate) struct Sender {
    channel: Channel,
    http: ureq::Agent,
    mail: Option<lettre::SmtpTransport>,
    /// An access token and when it expires.
    token: Option<(String, std::time::Instant)>,
    /// The engine's clock: the time a signature carries.
    clock: crate::Clock,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("channel", &self.channel.name)
            .finish_non_exhaustive()
    }
}

impl Sender {
    pub(crate) fn new(channel: &Channel, clock: crate::Clock) -> Result<Sender, String> {
        let tls = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::PlatformVerifier)
            .build();
        let http: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(channel.timeout))
            .http_status_as_error(false)
            // A redirect would turn a POST into a GET that delivers nothing: a 3xx fails.
            .max_redirects(0)
            .tls_config(tls)
            .user_agent("gongwen-workflow")
            .build()
            .into();
        let mail = match &channel.sends {
            Sends::Email {
                host,
                port,
                tls,
                ca_pem,
                login,
                ..
            } => Some(mail_transport(
                host,
                *port,
                *tls,
                ca_pem.as_deref(),
                login,
                channel.timeout,
            )?),
            _ => None,
        };
        Ok(Sender {
            channel: channel.clone(),
            http,
            mail,
            token: None,
            clock,
        })
    }

    /// One try of `d`; `memo` keeps what a channel needs later (a 钉钉待办's task id).
    pub(crate) fn send(&mut self, d: &Delivery, memo: &dyn Outbox) -> Result<(), Failure> {
        match self.channel.sends.clone() {
            Sends::Webhook { url, secrets } => self.webhook(&url, &secrets, d),
            Sends::Email { from, .. } => self.mail(&from, d),
            Sends::WecomApp {
                api,
                corp_id,
                secret,
                agent_id,
            } => self.wecom_app(&api, &corp_id, &secret, agent_id, d),
            Sends::WecomRobot { api, key } => {
                let mut text = json!({ "content": d.text });
                if !d.address.is_empty() {
                    text["mentioned_list"] = json!([d.address]);
                }
                let url = format!("{api}/cgi-bin/webhook/send?key={}", enc(&key));
                errcode_ok(self.post_json(
                    &url,
                    &json!({ "msgtype": "text", "text": text }),
                    &[],
                )?)
                .map(|_| ())
            }
            Sends::DingtalkRobot {
                api,
                access_token,
                secret,
            } => {
                let mut url = format!("{api}/robot/send?access_token={}", enc(&access_token));
                if let Some(secret) = secret {
                    let ts = (self.clock)().timestamp_millis();
                    url.push_str(&format!(
                        "&timestamp={ts}&sign={}",
                        enc(&dingtalk_sign(ts, &secret))
                    ));
                }
                let at = if d.address.is_empty() {
                    json!({})
                } else {
                    json!({ "atUserIds": [d.address] })
                };
                let body = json!({ "msgtype": "text", "text": { "content": d.text }, "at": at });
                errcode_ok(self.post_json(&url, &body, &[])?).map(|_| ())
            }
            Sends::DingtalkTodo {
                api,
                app_key,
                app_secret,
            } => self.dingtalk_todo(&api, &app_key, &app_secret, d, memo),
        }
    }

    /// POSTs JSON; the answer's body as JSON when the status is 2xx.
    fn post_json(
        &self,
        url: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Result<Value, Failure> {
        let mut req = self
            .http
            .post(url)
            .header("content-type", "application/json");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        answer(req.send(body.to_string()))
    }

    fn webhook(&self, url: &str, secrets: &[webhook::Secret], d: &Delivery) -> Result<(), Failure> {
        let body = json!({
            "type": format!("notice.{}", d.kind.name()),
            "timestamp": chrono::DateTime::from_timestamp_millis(d.created_at)
                .unwrap_or_default()
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "data": d.data,
        })
        .to_string();
        let ts = (self.clock)().timestamp();
        let signature = webhook::signature(secrets, &d.notice_id, ts, body.as_bytes());
        let ts = ts.to_string();
        let req = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &d.notice_id)
            .header("webhook-timestamp", &ts)
            .header("webhook-signature", &signature);
        status_ok(req.send(body))
    }

    fn mail(&self, from: &str, d: &Delivery) -> Result<(), Failure> {
        use lettre::Transport as _;
        let Some(transport) = &self.mail else {
            return Err(fail("no mail transport"));
        };
        let to: lettre::message::Mailbox = d
            .address
            .parse()
            .map_err(|e| unusable(format!("{:?} is not a mail address: {e}", d.address)))?;
        let from: lettre::message::Mailbox = from.parse().map_err(fail)?;
        let message = lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(d.subject.clone())
            .message_id(Some(format!("<{}@gongwen-workflow>", d.notice_id)))
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(d.text.clone())
            .map_err(fail)?;
        transport.send(&message).map(|_| ()).map_err(fail)
    }

    /// An access token, fetched again when it is about to expire or was refused.
    fn token(
        &mut self,
        fetch: impl FnOnce(&ureq::Agent) -> Result<(String, u64), Failure>,
    ) -> Result<String, Failure> {
        if let Some((t, until)) = &self.token
            && std::time::Instant::now() < *until
        {
            return Ok(t.clone());
        }
        let (token, secs) = fetch(&self.http)?;
        // A minute early: a token is not used in its last minute.
        let until = std::time::Instant::now() + Duration::from_secs(secs.saturating_sub(60).max(1));
        self.token = Some((token.clone(), until));
        Ok(token)
    }

    fn wecom_app(
        &mut self,
        api: &str,
        corp_id: &str,
        secret: &str,
        agent_id: i64,
        d: &Delivery,
    ) -> Result<(), Failure> {
        if d.address.is_empty() {
            return Err(unusable(
                "an application message needs the person's 企业微信 userid",
            ));
        }
        let token = self.token(|http| {
            let url = format!(
                "{api}/cgi-bin/gettoken?corpid={}&corpsecret={}",
                enc(corp_id),
                enc(secret)
            );
            let v = errcode_ok(answer(http.get(&url).call())?)?;
            let token = v["access_token"]
                .as_str()
                .ok_or_else(|| fail("gettoken: no access_token"))?;
            Ok((token.to_owned(), v["expires_in"].as_u64().unwrap_or(7200)))
        })?;
        let url = format!("{api}/cgi-bin/message/send?access_token={}", enc(&token));
        let body = json!({
            "touser": d.address,
            "msgtype": "text",
            "agentid": agent_id,
            "text": { "content": d.text },
            // 企业微信 drops a repeat of the same text within half an hour: a retry after
            // a lost answer is not shown twice.
            "enable_duplicate_check": 1,
            "duplicate_check_interval": 1800,
        });
        let v = self.post_json(&url, &body, &[])?;
        if matches!(v["errcode"].as_i64(), Some(40014 | 42001)) {
            // The token was revoked or expired early: the next try fetches another.
            self.token = None;
        }
        errcode_ok(v).map(|_| ())
    }

    fn dingtalk_todo(
        &mut self,
        api: &str,
        app_key: &str,
        app_secret: &str,
        d: &Delivery,
        memo: &dyn Outbox,
    ) -> Result<(), Failure> {
        if d.address.is_empty() {
            return Err(unusable("a 钉钉待办 needs the person's unionId"));
        }
        let token = self.token(|http| {
            let v = answer(
                http.post(format!("{api}/v1.0/oauth2/accessToken"))
                    .header("content-type", "application/json")
                    .send(json!({ "appKey": app_key, "appSecret": app_secret }).to_string()),
            )?;
            let token = v["accessToken"]
                .as_str()
                .ok_or_else(|| fail(format!("accessToken: {v}")))?;
            Ok((token.to_owned(), v["expireIn"].as_u64().unwrap_or(7200)))
        })?;
        let key = format!(
            "dingtalk-todo/{}/{}/{}",
            d.channel, d.document_id, d.address
        );
        let user = enc(&d.address);
        let header = [("x-acs-dingtalk-access-token", token.as_str())];
        // What this person's 待办 of this document last became, by log position: `open
        // {position} {task}` (created by the 待办 notice at that position) or `done
        // {position}` (closed by the 已办 at that position). Deliveries may come out of order
        // (a 待办 retried after its 已办, a late retry): each acts only on what is older.
        let kept = memo.outbox_memo(&key).map_err(fail)?.unwrap_or_default();
        let mut kept = kept.split(' ');
        let (state, at, task) = (
            kept.next().unwrap_or_default(),
            kept.next().and_then(|p| p.parse::<u64>().ok()).unwrap_or(0),
            kept.next().unwrap_or_default().to_owned(),
        );
        match d.kind {
            NoticeKind::Done => {
                if state != "open" || at > d.position {
                    // Nothing older is open (not yet created, or a newer 待办 came since):
                    // what is created later for an older 待办 is closed at once.
                    if at < d.position {
                        memo.outbox_set_memo(&key, &format!("done {}", d.position))
                            .map_err(fail)?;
                    }
                    return Ok(());
                }
                let url = format!(
                    "{api}/v1.0/todo/users/{user}/tasks/{}?operatorId={user}",
                    enc(&task)
                );
                let mut req = self
                    .http
                    .put(&url)
                    .header("content-type", "application/json");
                for (k, v) in header {
                    req = req.header(k, v);
                }
                answer(req.send(json!({ "done": true }).to_string()))?;
                memo.outbox_set_memo(&key, &format!("done {}", d.position))
                    .map_err(fail)
            }
            _ if at > d.position => {
                // Already done (or superseded) before this 待办 was created: none to make.
                Ok(())
            }
            _ => {
                let url = format!("{api}/v1.0/todo/users/{user}/tasks?operatorId={user}");
                let mut body = json!({
                    "sourceId": d.notice_id,
                    "subject": d.subject,
                    "description": d.text,
                    "executorIds": [d.address],
                    "detailUrl": { "appUrl": d.url, "pcUrl": d.url },
                    "isOnlyShowExecutor": true,
                });
                if let Some(due) = d.due_on {
                    // The end of the day it is due, China time.
                    let end = due.and_hms_opt(23, 59, 59).unwrap_or_default();
                    body["dueTime"] = json!((end.and_utc().timestamp() - 8 * 3600) * 1000);
                }
                let v = self.post_json(&url, &body, &header)?;
                let task = v["id"]
                    .as_str()
                    .ok_or_else(|| fail(format!("no task id in {v}")))?;
                memo.outbox_set_memo(&key, &format!("open {} {task}", d.position))
                    .map_err(fail)
            }
        }
    }
}

fn mail_transport(
    host: &str,
    port: u16,
    tls: MailTls,
    ca_pem: Option<&[u8]>,
    login: &Option<(String, String)>,
    timeout: Duration,
) -> Result<lettre::SmtpTransport, String> {
    use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
    let params = || -> Result<TlsParameters, String> {
        let mut b = TlsParameters::builder(host.to_owned());
        if let Some(pem) = ca_pem {
            let cert = Certificate::from_pem(pem).map_err(|e| format!("ca_file: {e}"))?;
            b = b
                .certificate_store(CertificateStore::None)
                .add_root_certificate(cert);
        }
        b.build_rustls().map_err(|e| format!("TLS: {e}"))
    };
    let tls = match tls {
        MailTls::StartTls => Tls::Required(params()?),
        MailTls::Tls => Tls::Wrapper(params()?),
        MailTls::None => Tls::None,
    };
    let mut b = lettre::SmtpTransport::builder_dangerous(host)
        .port(port)
        .tls(tls)
        .timeout(Some(timeout));
    if let Some((user, password)) = login {
        b = b.credentials(lettre::transport::smtp::authentication::Credentials::new(
            user.clone(),
            password.clone(),
        ));
    }
    Ok(b.build())
}

/// A 2xx answer's body as JSON (`null` when it is not JSON); otherwise a failure quoting it.
fn answer(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<Value, Failure> {
    let mut r = r.map_err(fail)?;
    let status = r.status();
    let body = r
        .body_mut()
        .with_config()
        .limit(ANSWER_LIMIT)
        .read_to_string()
        .unwrap_or_default();
    if !status.is_success() {
        let quoted: String = body.chars().take(200).collect();
        return Err(fail(format!("HTTP {status}: {quoted}")));
    }
    Ok(serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn status_ok(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<(), Failure> {
    answer(r).map(|_| ())
}

/// 企业微信 and 钉钉 answer 200 with `errcode` 0 when they took it.
fn errcode_ok(v: Value) -> Result<Value, Failure> {
    match v["errcode"].as_i64() {
        Some(0) => Ok(v),
        Some(code) => Err(fail(format!(
            "errcode {code}: {}",
            v["errmsg"].as_str().unwrap_or_default()
        ))),
        None => Err(fail(format!("no errcode in the answer: {v}"))),
    }
}

/// Everything but RFC 3986's unreserved characters, percent-encoded (for a query value or
/// a path segment).
const COMPONENT: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn enc(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// 钉钉 加签: the base64 HMAC-SHA256 of `{timestamp}\n{secret}` under the secret.
pub fn dingtalk_sign(timestamp_ms: i64, secret: &str) -> String {
    let message = format!("{timestamp_ms}\n{secret}");
    webhook::hmac_sha256_base64(secret.as_bytes(), &[message.as_bytes()])
}
