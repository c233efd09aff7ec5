//! The channels a deployment configures (`[[notify.channels]]` in `workflow.toml`): where
//! each sends, what it is cleared for, which notices it takes, how fast and how often it
//! tries. Checked once at start ([`NotifyConfig::check`]); a deliverer is given the checked
//! [`Channel`].

use std::collections::BTreeSet;
use std::time::Duration;

use serde::Deserialize;
use workflow_core::directory::Classification;
use workflow_core::notice::NoticeKind;

use super::webhook::Secret;

/// The notification settings of a deployment (`[notify]`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// The console's address as people reach it, for the links in messages (default
    /// `http://127.0.0.1:8080`).
    #[serde(default)]
    pub base_url: Option<String>,
    /// The channels (none: no outbox at all).
    #[serde(default)]
    pub channels: Vec<ChannelConfig>,
}

/// One channel as written in the configuration: `kind` says which of the other fields it
/// needs. Its `Debug` shows no secret.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// What the directory's `reach` entries name, e.g. `mail`.
    pub name: String,
    /// `webhook`, `email`, `wecom_app` (企业微信应用消息), `wecom_robot` (企业微信群机器人),
    /// `dingtalk_robot` (钉钉自定义机器人) or `dingtalk_todo` (钉钉待办).
    pub kind: String,
    /// The highest 密级 a message on it may name (default `None`, 非密): a document above
    /// it is announced without its title or number.
    #[serde(default)]
    pub cleared: Classification,
    /// The notices it takes, by name (`todo`, `urged`, `escalated`, `done`); default: all
    /// for a webhook, `todo` and `done` for 钉钉待办, the first three otherwise.
    #[serde(default)]
    pub kinds: Option<Vec<String>>,
    /// Every notice goes to it, whoever it is for (default: for a webhook — the receiving
    /// system routes by recipient); otherwise only to those whose directory entry (or
    /// unit's) names it.
    #[serde(default)]
    pub everyone: Option<bool>,
    /// At most this many messages a minute (default 20 for robots, as 钉钉 allows; no limit
    /// otherwise).
    #[serde(default)]
    pub per_minute: Option<u32>,
    /// Tries before a delivery is given up (dead letter; an operator may retry it), default 12.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// The wait before the first retry in seconds (default 10), doubling after each failed
    /// try up to an hour, each wait cut at random by up to half (jitter).
    #[serde(default)]
    pub retry_after_secs: Option<f64>,
    /// How long one try may take, in seconds (default 10).
    #[serde(default)]
    pub timeout_secs: Option<u64>,

    /// webhook: where to POST.
    #[serde(default)]
    pub url: Option<String>,
    /// webhook: the signing secrets in force (`whsec_…`), the newest first; each delivery
    /// is signed with all of them while a rotation is under way.
    #[serde(default)]
    pub secrets: Vec<String>,

    /// email: the SMTP server.
    #[serde(default)]
    pub host: Option<String>,
    /// email: its port (default 587 with STARTTLS, 465 with TLS, 25 without).
    #[serde(default)]
    pub port: Option<u16>,
    /// email: `starttls` (default), `tls` (implicit, port 465) or `none` (loopback only).
    #[serde(default)]
    pub tls: Option<String>,
    /// email: a PEM file of the certificate authority to trust instead of the system's
    /// (a campus mail server with a certificate of the campus's own CA).
    #[serde(default)]
    pub ca_file: Option<std::path::PathBuf>,
    /// email: who the mail is from, e.g. `公文系统 <gongwen@x.edu.cn>`.
    #[serde(default)]
    pub from: Option<String>,
    /// email: the SMTP user, if it needs one.
    #[serde(default)]
    pub username: Option<String>,
    /// email / wecom_app / dingtalk_robot / dingtalk_todo: the password or secret.
    #[serde(default)]
    pub secret: Option<String>,

    /// wecom_app: the 企业ID (corpid).
    #[serde(default)]
    pub corp_id: Option<String>,
    /// wecom_app: the application's AgentId.
    #[serde(default)]
    pub agent_id: Option<i64>,
    /// wecom_robot: the robot's key; dingtalk_robot: its access_token; dingtalk_todo: the
    /// application's AppKey.
    #[serde(default)]
    pub key: Option<String>,
    /// wecom_*, dingtalk_*: the API's address (defaults: `https://qyapi.weixin.qq.com`,
    /// `https://oapi.dingtalk.com` for robots, `https://api.dingtalk.com` for 待办).
    #[serde(default)]
    pub api: Option<String>,
}

impl std::fmt::Debug for ChannelConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChannelConfig")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// What a channel sends with, checked. Its `Debug` shows no secret.
#[derive(Clone)]
pub enum Sends {
    /// A signed POST.
    Webhook {
        /// Where.
        url: String,
        /// The secrets in force.
        secrets: Vec<Secret>,
    },
    /// Mail over SMTP.
    Email {
        /// The server.
        host: String,
        /// Its port.
        port: u16,
        /// How it is secured.
        tls: MailTls,
        /// A CA certificate (PEM) to trust instead of the system's.
        ca_pem: Option<Vec<u8>>,
        /// The sender.
        from: String,
        /// User and password, if the server asks.
        login: Option<(String, String)>,
    },
    /// 企业微信 application message.
    WecomApp {
        /// The API's address.
        api: String,
        /// corpid.
        corp_id: String,
        /// The application's secret.
        secret: String,
        /// AgentId.
        agent_id: i64,
    },
    /// 企业微信 group robot.
    WecomRobot {
        /// The API's address.
        api: String,
        /// The robot's key.
        key: String,
    },
    /// 钉钉 custom robot with 加签.
    DingtalkRobot {
        /// The API's address.
        api: String,
        /// The robot's access_token.
        access_token: String,
        /// Its 加签 secret (`SEC…`), if it has one.
        secret: Option<String>,
    },
    /// 钉钉待办: created when a to-do arrives, completed when it is done.
    DingtalkTodo {
        /// The API's address.
        api: String,
        /// AppKey.
        app_key: String,
        /// AppSecret.
        app_secret: String,
    },
}

impl std::fmt::Debug for Sends {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sends::Webhook { url, .. } => write!(f, "Webhook({url})"),
            Sends::Email { host, port, .. } => write!(f, "Email({host}:{port})"),
            Sends::WecomApp { api, agent_id, .. } => write!(f, "WecomApp({api}, {agent_id})"),
            Sends::WecomRobot { api, .. } => write!(f, "WecomRobot({api})"),
            Sends::DingtalkRobot { api, .. } => write!(f, "DingtalkRobot({api})"),
            Sends::DingtalkTodo { api, .. } => write!(f, "DingtalkTodo({api})"),
        }
    }
}

/// How mail is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailTls {
    /// STARTTLS, required.
    StartTls,
    /// TLS from the start.
    Tls,
    /// None (a relay on loopback).
    None,
}

/// A channel, checked.
#[derive(Debug, Clone)]
pub struct Channel {
    /// Its name.
    pub name: String,
    /// What it sends with.
    pub sends: Sends,
    /// The highest 密级 a message on it names.
    pub cleared: Classification,
    /// The notices it takes.
    pub kinds: BTreeSet<NoticeKind>,
    /// Whether every notice goes to it.
    pub everyone: bool,
    /// Whether it posts to a group (a robot), so that a unit's entry may name it for its
    /// people.
    pub group: bool,
    /// The least time between two messages.
    pub spacing: Duration,
    /// Tries before the dead letter.
    pub max_attempts: u32,
    /// The first retry's wait.
    pub retry_after: Duration,
    /// One try's limit.
    pub timeout: Duration,
}

impl Channel {
    /// The kind's name as configured.
    pub fn kind(&self) -> &'static str {
        match self.sends {
            Sends::Webhook { .. } => "webhook",
            Sends::Email { .. } => "email",
            Sends::WecomApp { .. } => "wecom_app",
            Sends::WecomRobot { .. } => "wecom_robot",
            Sends::DingtalkRobot { .. } => "dingtalk_robot",
            Sends::DingtalkTodo { .. } => "dingtalk_todo",
        }
    }

    /// The wait before try `attempts + 1`, after `attempts` failed ones: the first retry's
    /// wait doubled each time up to an hour, less up to half of it at random (`jitter` in
    /// 0..1), so that deliveries failed together do not all come back together.
    pub fn backoff(&self, attempts: u32, jitter: f64) -> Duration {
        let doubled = self
            .retry_after
            .saturating_mul(1u32 << attempts.saturating_sub(1).min(20));
        let capped = doubled.min(Duration::from_secs(3600));
        capped.mul_f64(1.0 - 0.5 * jitter.clamp(0.0, 1.0))
    }
}

impl NotifyConfig {
    /// The console's address for links.
    pub fn base_url(&self) -> &str {
        self.base_url.as_deref().unwrap_or("http://127.0.0.1:8080")
    }

    /// The channels, checked: every field a kind needs, secrets that parse, names unique.
    pub fn check(&self) -> Result<Vec<Channel>, String> {
        let mut names = BTreeSet::new();
        let mut out = Vec::new();
        for c in &self.channels {
            let channel = c
                .check()
                .map_err(|e| format!("notify channel {:?}: {e}", c.name))?;
            if !names.insert(channel.name.clone()) {
                return Err(format!("notify channel {:?} is named twice", c.name));
            }
            out.push(channel);
        }
        if let Some(url) = &self.base_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(format!("notify.base_url {url:?} is not an http(s) address"));
        }
        Ok(out)
    }
}

fn need<'a>(v: &'a Option<String>, field: &str) -> Result<&'a str, String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("needs `{field}`"))
}

fn http_url(v: &str, field: &str) -> Result<String, String> {
    let rest = v
        .strip_prefix("http://")
        .or_else(|| v.strip_prefix("https://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && !rest.starts_with('/')
                && !rest.contains(char::is_whitespace) =>
        {
            Ok(v.trim_end_matches('/').to_owned())
        }
        _ => Err(format!(
            "`{field}` {v:?} is not an http(s) address with a host"
        )),
    }
}

impl ChannelConfig {
    fn check(&self) -> Result<Channel, String> {
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 32
            && self
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            return Err("a name is 1–32 letters, digits, - or _".to_owned());
        }
        let api = |default: &str| http_url(self.api.as_deref().unwrap_or(default), "api");
        let sends = match self.kind.as_str() {
            "webhook" => {
                let url = http_url(need(&self.url, "url")?, "url")?;
                if self.secrets.is_empty() {
                    return Err("needs `secrets` (whsec_…) to sign with".to_owned());
                }
                let secrets = self
                    .secrets
                    .iter()
                    .map(|s| Secret::parse(s).map_err(|e| e.to_string()))
                    .collect::<Result<_, _>>()?;
                Sends::Webhook { url, secrets }
            }
            "email" => {
                let tls = match self.tls.as_deref().unwrap_or("starttls") {
                    "starttls" => MailTls::StartTls,
                    "tls" => MailTls::Tls,
                    "none" => MailTls::None,
                    other => return Err(format!("tls {other:?} is not starttls, tls or none")),
                };
                let port = self.port.unwrap_or(match tls {
                    MailTls::StartTls => 587,
                    MailTls::Tls => 465,
                    MailTls::None => 25,
                });
                let from = need(&self.from, "from")?;
                from.parse::<lettre::message::Mailbox>()
                    .map_err(|e| format!("`from` {from:?} is not a mail address: {e}"))?;
                let ca_pem = match &self.ca_file {
                    Some(p) => {
                        let pem = std::fs::read(p)
                            .map_err(|e| format!("cannot read ca_file {}: {e}", p.display()))?;
                        lettre::transport::smtp::client::Certificate::from_pem(&pem)
                            .map_err(|e| format!("ca_file {}: {e}", p.display()))?;
                        Some(pem)
                    }
                    None => None,
                };
                let host = need(&self.host, "host")?;
                if tls == MailTls::None && !matches!(host, "127.0.0.1" | "::1" | "localhost") {
                    return Err(format!(
                        "tls = \"none\" sends mail (and a password) in the clear: only to a relay on \
                         loopback, not {host}"
                    ));
                }
                let login = match (&self.username, &self.secret) {
                    (Some(u), Some(p)) => Some((u.clone(), p.clone())),
                    (None, None) => None,
                    _ => return Err("`username` and `secret` go together".to_owned()),
                };
                Sends::Email {
                    host: host.to_owned(),
                    port,
                    tls,
                    ca_pem,
                    from: from.to_owned(),
                    login,
                }
            }
            "wecom_app" => Sends::WecomApp {
                api: api("https://qyapi.weixin.qq.com")?,
                corp_id: need(&self.corp_id, "corp_id")?.to_owned(),
                secret: need(&self.secret, "secret")?.to_owned(),
                agent_id: self.agent_id.ok_or("needs `agent_id`")?,
            },
            "wecom_robot" => Sends::WecomRobot {
                api: api("https://qyapi.weixin.qq.com")?,
                key: need(&self.key, "key")?.to_owned(),
            },
            "dingtalk_robot" => Sends::DingtalkRobot {
                api: api("https://oapi.dingtalk.com")?,
                access_token: need(&self.key, "key")?.to_owned(),
                secret: self.secret.clone().filter(|s| !s.trim().is_empty()),
            },
            "dingtalk_todo" => Sends::DingtalkTodo {
                api: api("https://api.dingtalk.com")?,
                app_key: need(&self.key, "key")?.to_owned(),
                app_secret: need(&self.secret, "secret")?.to_owned(),
            },
            other => {
                return Err(format!(
                    "kind {other:?} is not webhook, email, wecom_app, wecom_robot, \
                     dingtalk_robot or dingtalk_todo"
                ));
            }
        };
        let robot = matches!(
            sends,
            Sends::WecomRobot { .. } | Sends::DingtalkRobot { .. }
        );
        let kinds = match &self.kinds {
            Some(names) => names
                .iter()
                .map(|n| NoticeKind::parse(n).ok_or_else(|| format!("{n:?} is not a notice kind")))
                .collect::<Result<_, _>>()?,
            None => match sends {
                Sends::Webhook { .. } => NoticeKind::ALL.into_iter().collect(),
                Sends::DingtalkTodo { .. } => [NoticeKind::Todo, NoticeKind::Done].into(),
                _ => [
                    NoticeKind::Todo,
                    NoticeKind::Urged,
                    NoticeKind::Escalated,
                    NoticeKind::Bulletin,
                ]
                .into(),
            },
        };
        let per_minute = self.per_minute.unwrap_or(if robot { 20 } else { 0 });
        let spacing = if per_minute == 0 {
            Duration::ZERO
        } else {
            Duration::from_secs(60) / per_minute
        };
        let retry_after = self.retry_after_secs.unwrap_or(10.0);
        if !(retry_after.is_finite() && retry_after > 0.0 && retry_after <= 3600.0) {
            return Err("retry_after_secs is more than 0 and at most 3600".to_owned());
        }
        let max_attempts = self.max_attempts.unwrap_or(12);
        if max_attempts == 0 {
            return Err("max_attempts is at least 1".to_owned());
        }
        Ok(Channel {
            group: robot,
            name: self.name.clone(),
            everyone: self
                .everyone
                .unwrap_or(matches!(sends, Sends::Webhook { .. })),
            sends,
            cleared: self.cleared,
            kinds,
            spacing,
            max_attempts,
            retry_after: Duration::from_secs_f64(retry_after),
            timeout: Duration::from_secs(self.timeout_secs.unwrap_or(10).clamp(1, 300)),
        })
    }
}
