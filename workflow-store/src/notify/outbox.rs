//! The outbox (DESIGN §12): a deriver thread turns the durable log's notices into
//! deliveries — one per notice, channel and address — kept with the position they were
//! derived through; a deliverer thread per channel sends them, at least once, spaced by the
//! channel's rate limit, retried with backoff and jitter, given up after the channel's
//! tries (a dead letter an operator may retry). Nothing here runs on the writer's path: a
//! command never waits for a message.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use workflow_core::directory::{Actor, Unit};
use workflow_core::notice::{Notice, NoticeKind};
use workflow_core::{ActorId, DocumentId, UnitCode};

use super::channel::{Channel, NotifyConfig};
use super::send::{Failure, Sender};
use crate::{Engine, Error, Result};

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// To be sent (again), at `next_at`.
    Pending,
    /// Sent: the channel took it.
    Delivered,
    /// Given up after the channel's tries; an operator may retry it.
    Dead,
}

impl DeliveryState {
    /// Its stable name.
    pub fn name(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "dead",
        }
    }

    /// In the office's words: 待发送, 已送达, 发送失败.
    pub fn chinese(self) -> &'static str {
        match self {
            DeliveryState::Pending => "待发送",
            DeliveryState::Delivered => "已送达",
            DeliveryState::Dead => "发送失败",
        }
    }
}

/// One notice on its way to one address over one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// Stable: from the notice's id, the channel and the address.
    pub id: String,
    /// The notice's id (a webhook's `webhook-id`, a mail's Message-ID): receivers
    /// de-duplicate by it.
    pub notice_id: String,
    /// The log position of the event it comes from.
    pub position: u64,
    /// The channel's name.
    pub channel: String,
    /// The address on it (empty: the channel's own — a group, a webhook).
    pub address: String,
    /// What the notice says happened.
    pub kind: NoticeKind,
    /// Whom it is for.
    pub recipient: ActorId,
    /// The document.
    pub document_id: DocumentId,
    /// A subject line (masked above the channel's 密级).
    pub subject: String,
    /// The message (masked above the channel's 密级).
    pub text: String,
    /// The console card's address.
    pub url: String,
    /// The day it is due, if it is.
    pub due_on: Option<NaiveDate>,
    /// What a webhook posts as `data`: the notice, without title and number when the
    /// document is above the channel's 密级.
    pub data: serde_json::Value,
    /// When it was derived (ms since the epoch).
    pub created_at: i64,
    /// Where it stands.
    pub state: DeliveryState,
    /// Tries so far.
    pub attempts: u32,
    /// When it is due (ms since the epoch): its next try, or the end of a deliverer's lease.
    pub next_at: i64,
    /// Why its last try failed.
    pub last_error: Option<String>,
    /// When the channel took it (ms since the epoch).
    pub delivered_at: Option<i64>,
}

/// The deliveries a notice makes on the deployment's channels: each channel that takes its
/// kind, to every address the recipient's directory entry names on it — or, when it names
/// none, their unit's (a group robot) — or to the channel itself when it takes every notice.
pub(crate) fn deliveries_of(
    notice: &Notice,
    channels: &[Channel],
    actor: Option<&Actor>,
    unit: Option<&Unit>,
    base_url: &str,
    now: i64,
) -> Vec<Delivery> {
    let mut out = Vec::new();
    for c in channels.iter().filter(|c| c.kinds.contains(&notice.kind)) {
        let own: Vec<&str> = actor
            .map(|a| {
                a.reach
                    .iter()
                    .filter(|r| r.channel == c.name)
                    .map(|r| r.address.as_str())
                    .collect()
            })
            .unwrap_or_default();
        let addresses: BTreeSet<&str> = if !own.is_empty() {
            own.into_iter().collect()
        } else if c.group && unit.is_some_and(|u| u.reach.iter().any(|r| r.channel == c.name)) {
            // The unit's group: the message names the person (no address to @).
            [""].into()
        } else if c.everyone {
            [""].into()
        } else {
            BTreeSet::new()
        };
        let who = actor.map_or(notice.recipient.as_str(), |a| a.name.as_str());
        for address in addresses {
            out.push(delivery(notice, c, address, who, base_url, now));
        }
    }
    out
}

fn delivery(
    notice: &Notice,
    c: &Channel,
    address: &str,
    who: &str,
    base_url: &str,
    now: i64,
) -> Delivery {
    let id = Sha256::digest(format!("{}:{}:{address}", notice.id, c.name).as_bytes());
    let shown = notice.classification <= c.cleared;
    let mut text = notice.text(c.cleared, base_url);
    if address.is_empty() && !c.everyone {
        // To a group: say whom it is for.
        text = format!("{who}：{text}");
    }
    let url = format!("{}{}", base_url.trim_end_matches('/'), notice.link);
    // What a webhook posts (the other channels send the text alone).
    let webhook = matches!(c.sends, super::channel::Sends::Webhook { .. });
    let mut data = serde_json::json!({
        "id": notice.id,
        "position": notice.position,
        "kind": notice.kind,
        "recipient": notice.recipient,
        "document_id": notice.document_id,
        "flow": notice.flow,
        "classification": notice.classification,
        "step": notice.step,
        "due_on": notice.due_on,
        "url": url,
        "text": text,
    });
    if shown && let Some(map) = data.as_object_mut() {
        map.insert("title".into(), notice.title.clone().into());
        map.insert("number".into(), notice.number.clone().into());
    }
    if !webhook {
        data = serde_json::Value::Null;
    }
    Delivery {
        // The position first (hex, fixed width): ids sort, and are stored, in the log's
        // order, so that a store's new deliveries go in at its end.
        id: format!("{:012x}{}", notice.position, &format!("{id:x}")[..20]),
        notice_id: notice.id.clone(),
        position: notice.position,
        channel: c.name.clone(),
        address: address.to_owned(),
        kind: notice.kind,
        recipient: notice.recipient.clone(),
        document_id: notice.document_id,
        subject: notice.subject(c.cleared),
        text,
        url,
        due_on: notice.due_on,
        data,
        created_at: now,
        state: DeliveryState::Pending,
        attempts: 0,
        next_at: now,
        last_error: None,
        delivered_at: None,
    }
}

/// Where the outbox stands, for operators.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxStatus {
    /// The log's durable head.
    pub head: u64,
    /// The position through which notices have been derived.
    pub through: u64,
    /// Deliveries by state.
    pub counts: BTreeMap<DeliveryState, u64>,
}

impl Engine {
    /// Where the outbox stands.
    pub fn outbox_status(&self) -> Result<OutboxStatus> {
        let storage = &self.inner.storage;
        Ok(OutboxStatus {
            head: self.head(),
            through: storage.outbox_through()?,
            counts: storage.outbox_counts()?,
        })
    }

    /// Deliveries in `state` (any when `None`), by log position from `from`, at most `limit`.
    pub fn deliveries(
        &self,
        state: Option<DeliveryState>,
        from: u64,
        limit: usize,
    ) -> Result<Vec<Delivery>> {
        self.inner.storage.outbox_list(state, from, limit)
    }

    /// Sends a delivery again from its first try, at once (an operator's retry of a dead
    /// letter or of one still failing); an unknown id is [`Error::InvalidRequest`], a
    /// delivered one is left as it is, as is one a deliverer took meanwhile.
    pub fn retry_delivery(&self, id: &str) -> Result<Delivery> {
        let storage = &self.inner.storage;
        let mut d = storage
            .outbox_get(id.trim())?
            .ok_or_else(|| Error::InvalidRequest {
                field: "id",
                reason: format!("no delivery {id} in the outbox"),
            })?;
        if d.state == DeliveryState::Delivered {
            return Ok(d);
        }
        let seen = (d.state == DeliveryState::Pending).then_some(d.next_at);
        d.state = DeliveryState::Pending;
        d.attempts = 0;
        d.next_at = (self.inner.clock)().timestamp_millis();
        if storage.outbox_put(&d, seen)? {
            Ok(d)
        } else {
            storage
                .outbox_get(&d.id)?
                .ok_or_else(|| Error::InvalidRequest {
                    field: "id",
                    reason: format!("no delivery {id} in the outbox"),
                })
        }
    }
}

/// Events read from the log at once by the deriver.
const DERIVE_BATCH: usize = 1000;
/// How often an idle thread looks for work.
const IDLE: Duration = Duration::from_millis(100);
/// The most streams whose states the deriver keeps between windows.
const FOLLOWED: usize = 20_000;
/// Deliveries a deliverer claims at once.
const CLAIM: usize = 16;

/// The outbox's threads: the deriver and a deliverer per channel. Stopped (and joined) on
/// [`Notifier::stop`] or drop.
#[derive(Debug)]
pub struct Notifier {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Notifier {
    /// Starts the outbox of `engine` on `config`'s channels; `None` when it configures none.
    pub fn start(
        engine: &Engine,
        config: &NotifyConfig,
    ) -> std::result::Result<Option<Notifier>, String> {
        let channels = config.check()?;
        if channels.is_empty() {
            return Ok(None);
        }
        // Every sender made before any thread starts: a channel that cannot be used stops
        // the start, leaving nothing running.
        let senders = channels
            .iter()
            .map(|c| Sender::new(c, engine.inner.clock.clone()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        // Notifications configured for the first time start at the log's head: people are
        // not sent every to-do of the store's past.
        let storage = &engine.inner.storage;
        let fresh = storage.outbox_through().map_err(|e| e.to_string())? == 0
            // One look, not a count of the whole outbox at every start.
            && storage
                .outbox_list(None, 0, 1)
                .map_err(|e| e.to_string())?
                .is_empty();
        if fresh {
            storage
                .outbox_add(0, engine.head(), &[])
                .map_err(|e| e.to_string())?;
        }
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        let spawn = |name: String, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name)
                .spawn(f)
                .map_err(|e| format!("cannot start the outbox's thread: {e}"))
        };
        {
            let (engine, stop, channels) = (engine.clone(), stop.clone(), channels.clone());
            let base_url = config.base_url().to_owned();
            threads.push(spawn(
                "workflow-outbox".into(),
                Box::new(move || derive(&engine, &channels, &base_url, &stop)),
            )?);
        }
        for (c, sender) in channels.into_iter().zip(senders) {
            let (engine, stop) = (engine.clone(), stop.clone());
            threads.push(spawn(
                format!("notify-{}", c.name),
                Box::new(move || deliver(&engine, &c, sender, &stop)),
            )?);
        }
        Ok(Some(Notifier { stop, threads }))
    }

    /// Stops the threads and waits for them (a try under way finishes first).
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::Release);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Sleeps `d` in short steps, returning early when asked to stop.
fn nap(d: Duration, stop: &AtomicBool) {
    let end = Instant::now() + d;
    while !stop.load(Ordering::Acquire) {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(IDLE));
    }
}

/// The deriver: from where the outbox was derived through, the durable log's notices into
/// deliveries, with the directory as it is now.
fn derive(engine: &Engine, channels: &[Channel], base_url: &str, stop: &AtomicBool) {
    let mut states = std::collections::HashMap::new();
    while !stop.load(Ordering::Acquire) {
        if states.len() > FOLLOWED {
            states.clear();
        }
        match derive_once(engine, channels, base_url, &mut states) {
            Ok(true) => {}
            Ok(false) => nap(IDLE, stop),
            Err(e) => {
                tracing::warn!(error = %e, "the outbox could not derive notices; trying again");
                nap(Duration::from_secs(5), stop);
            }
        }
    }
}

/// One window of the log into the outbox; whether there was any.
pub(crate) fn derive_once(
    engine: &Engine,
    channels: &[Channel],
    base_url: &str,
    states: &mut std::collections::HashMap<DocumentId, workflow_core::FlowState>,
) -> Result<bool> {
    let storage = &engine.inner.storage;
    let through = storage.outbox_through()?;
    let head = engine.head();
    crate::telemetry::outbox_lag(head.saturating_sub(through));
    if head <= through {
        return Ok(false);
    }
    let (notices, next) = engine.notices_following(through + 1, DERIVE_BATCH, states)?;
    if next <= through + 1 {
        // Nothing durable yet beyond `through`.
        return Ok(false);
    }
    let actors: BTreeMap<ActorId, Actor> = engine
        .actors()
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    let units: BTreeMap<UnitCode, Unit> = engine
        .units()
        .into_iter()
        .map(|u| (u.code.clone(), u))
        .collect();
    let now = (engine.inner.clock)().timestamp_millis();
    let mut out = Vec::new();
    for n in &notices {
        let actor = actors.get(&n.recipient);
        let unit = actor.and_then(|a| units.get(&a.unit));
        out.extend(deliveries_of(n, channels, actor, unit, base_url, now));
    }
    // Another server may have derived the same window first: then nothing is written.
    storage.outbox_add(through, next - 1, &out)?;
    Ok(true)
}

/// A channel's deliverer.
fn deliver(engine: &Engine, channel: &Channel, mut sender: Sender, stop: &AtomicBool) {
    let mut last_sent: Option<Instant> = None;
    while !stop.load(Ordering::Acquire) {
        match deliver_once(engine, channel, &mut sender, &mut last_sent, stop) {
            Ok(0) => nap(IDLE, stop),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(channel = %channel.name, error = %e, "the outbox could not read or record deliveries; trying again");
                nap(Duration::from_secs(5), stop);
            }
        }
    }
}

/// Claims what is due and tries each; how many it tried.
fn deliver_once(
    engine: &Engine,
    channel: &Channel,
    sender: &mut Sender,
    last_sent: &mut Option<Instant>,
    stop: &AtomicBool,
) -> Result<usize> {
    let storage = &engine.inner.storage;
    let clock = &engine.inner.clock;
    let now = clock().timestamp_millis();
    // Long enough for every claimed try, spaced, to finish before another takes them.
    let lease = (channel.timeout + channel.spacing) * CLAIM as u32 + Duration::from_secs(5);
    let claimed =
        storage.outbox_claim(&channel.name, now, now + lease.as_millis() as i64, CLAIM)?;
    let since = Instant::now();
    let tried = claimed.len();
    for mut d in claimed {
        if stop.load(Ordering::Acquire) {
            // Left leased: due again when the lease ends.
            break;
        }
        let lease_at = d.next_at;
        if since.elapsed() + channel.timeout >= lease {
            // Its lease would run out during its try: another deliverer may take it then.
            break;
        }
        if let Some(at) = *last_sent {
            let wait = channel.spacing.saturating_sub(at.elapsed());
            if !wait.is_zero() {
                nap(wait, stop);
            }
        }
        *last_sent = Some(Instant::now());
        d.attempts += 1;
        let result = sender.send(&d, &**storage);
        let now = clock().timestamp_millis();
        match result {
            Ok(()) => {
                d.state = DeliveryState::Delivered;
                d.delivered_at = Some(now);
                d.last_error = None;
                crate::telemetry::notification(&channel.name, "delivered");
            }
            Err(Failure { reason, permanent }) => {
                tracing::info!(channel = %channel.name, delivery = %d.id, attempts = d.attempts, %reason, "a notification was not delivered");
                d.last_error = Some(reason);
                if permanent || d.attempts >= channel.max_attempts {
                    d.state = DeliveryState::Dead;
                    crate::telemetry::notification(&channel.name, "dead");
                } else {
                    let wait = channel.backoff(d.attempts, jitter());
                    d.next_at = now + wait.as_millis() as i64;
                    crate::telemetry::notification(&channel.name, "failed");
                }
            }
        }
        if !storage.outbox_put(&d, Some(lease_at))? {
            tracing::info!(channel = %channel.name, delivery = %d.id, "a delivery's lease ran out during its try; another deliverer records it");
        }
    }
    Ok(tried)
}

/// A number in 0..1, at random.
fn jitter() -> f64 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let n = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    f64::from(n) / f64::from(u32::MAX)
}
