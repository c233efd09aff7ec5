//! The outbox (DESIGN §12): a deliverer thread per channel follows the durable log from
//! where its channel stands, derives the deliveries of each window's notices — one per
//! notice and address — and sends them in log order, at least once, spaced by the
//! channel's rate limit. Those in flight are kept in memory; what is stored is where each
//! channel stands (moved on a few times a second) and the deliveries that did not go
//! through at their first try, retried with backoff and jitter and given up after the
//! channel's tries (a dead letter an operator may retry). A crash sends again, with the
//! same ids, what the channel had not yet settled. One server at a time holds a channel (a
//! lease in the store), so a channel's rate limit holds across servers. Nothing here runs
//! on the writer's path: a command never waits for a message.

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
use crate::storage::{ChannelCursor, Settlement};
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
        "reminding": notice.reminding,
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
    /// Where each channel stands (every channel the store has seen, configured now or not).
    pub channels: Vec<ChannelCursor>,
    /// Deliveries by state: those kept in the outbox (that failed at their first try),
    /// with those that went through at their first try counted as delivered.
    pub counts: BTreeMap<DeliveryState, u64>,
}

impl OutboxStatus {
    /// The position through which every channel has settled (the head when there is
    /// none): past it, notices are still on their way.
    pub fn settled(&self) -> u64 {
        self.channels
            .iter()
            .map(|c| c.through)
            .min()
            .unwrap_or(self.head)
    }

    /// Deliveries in `state`.
    pub fn count(&self, state: DeliveryState) -> u64 {
        self.counts.get(&state).copied().unwrap_or(0)
    }
}

impl Engine {
    /// Where the outbox stands.
    pub fn outbox_status(&self) -> Result<OutboxStatus> {
        let storage = &self.inner.storage;
        let channels = storage.outbox_channels()?;
        let mut counts = storage.outbox_counts()?;
        *counts.entry(DeliveryState::Delivered).or_insert(0) +=
            channels.iter().map(|c| c.delivered).sum::<u64>();
        Ok(OutboxStatus {
            head: self.head(),
            channels,
            counts,
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

/// Events read from the log at once by a deliverer.
const DERIVE_BATCH: usize = 1000;
/// How often an idle thread looks for work.
const IDLE: Duration = Duration::from_millis(100);
/// How often a deliverer whose channel another server holds asks for it again.
const WAIT_FOR_CHANNEL: Duration = Duration::from_secs(1);
/// The most streams whose states a deliverer keeps between windows.
const FOLLOWED: usize = 20_000;
/// Kept deliveries (failed at their first try) a deliverer claims at once.
const CLAIM: usize = 16;
/// How often kept deliveries that have come due are looked for.
const CLAIM_EVERY: Duration = Duration::from_millis(500);
/// A deliverer settles (stores where its channel stands) at least this often while it
/// sends, and after this many tries: what a crash sends again.
const SETTLE_EVERY: Duration = Duration::from_millis(250);
const SETTLE_AFTER: usize = 256;
/// The part of a channel's lease beyond its longest try.
const LEASE_MARGIN: Duration = Duration::from_secs(10);

/// The outbox's threads: a deliverer per channel. Stopped (and joined) on
/// [`Notifier::stop`] or drop.
#[derive(Debug)]
pub struct Notifier {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Notifier {
    /// Starts the outbox of `engine` on `config`'s channels; `None` when it configures none.
    /// A channel configured for the first time starts at the log's head: people are not
    /// sent every to-do of the store's past.
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
        // Who holds the channels it delivers (in the store, for operators to read).
        let holder = format!(
            "{}/{}/{}",
            hostname(),
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for (channel, sender) in channels.into_iter().zip(senders) {
            let mut deliverer = Deliverer {
                engine: engine.clone(),
                lease: channel.spacing + longest_try(&channel) + LEASE_MARGIN,
                base_url: config.base_url().to_owned(),
                holder: holder.clone(),
                channel,
                sender,
                stop: stop.clone(),
                last_sent: None,
            };
            // Taken here, before the thread starts, so that a channel configured for the
            // first time starts at the log's head as of this start (unless another server
            // holds it: then where that one has it).
            let held = match deliverer.hold() {
                Ok(held) => held,
                Err(e) => {
                    Notifier { stop, threads }.halt();
                    return Err(format!("cannot read the outbox: {e}"));
                }
            };
            let started = std::thread::Builder::new()
                .name(format!("notify-{}", deliverer.channel.name))
                .spawn(move || deliverer.run(held));
            match started {
                Ok(t) => threads.push(t),
                Err(e) => {
                    Notifier { stop, threads }.halt();
                    return Err(format!("cannot start the outbox's thread: {e}"));
                }
            }
        }
        Ok(Some(Notifier { stop, threads }))
    }

    /// Stops the threads and waits for them (a try under way finishes first; each channel
    /// is settled and let go, for another server to take at once).
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

/// The longest one try may take: a token fetched (企业微信, 钉钉待办) and the message sent,
/// each within the channel's timeout. (SMTP's timeout is per step of the conversation: a
/// server slower than that at every step may outlast it — then another server may take the
/// channel meanwhile, and what both sent comes twice, with the same id.)
fn longest_try(channel: &Channel) -> Duration {
    channel.timeout * 2
}

/// This machine's name, for the holder of a channel (operators read it).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The nice value of the outbox's threads: notifications take the CPU the commands leave.
#[cfg(target_os = "linux")]
const NICE: libc::c_int = 10;

/// Lowers the calling thread's CPU priority (on Linux, where a nice value is a thread's):
/// with the machine busy, commands are served first and notifications fall behind — the
/// lag is measured (`workflow_outbox_lag_events`) — then catch up.
fn background() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain system calls on the calling thread, no memory passed.
        let set = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, NICE)
        };
        if set != 0 {
            tracing::debug!(error = %std::io::Error::last_os_error(), "the outbox's thread keeps its priority");
        }
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

/// A channel's deliverer.
struct Deliverer {
    engine: Engine,
    channel: Channel,
    sender: Sender,
    base_url: String,
    holder: String,
    /// How long the channel is held without being renewed: longer than a try and the
    /// spacing before it.
    lease: Duration,
    stop: Arc<AtomicBool>,
    last_sent: Option<Instant>,
}

/// A channel while this deliverer holds it.
struct Held {
    /// Where the store has it settled.
    settled: u64,
    /// Where the deliveries in memory were derived through.
    derived: u64,
    /// Those derived and not yet tried, in log order.
    queue: std::collections::VecDeque<Delivery>,
    /// Delivered at their first try since the last settlement.
    delivered: u64,
    /// Failed at their first try since the last settlement: kept when it is stored.
    failures: Vec<Delivery>,
    /// When it was last settled, and when the lease then given ends (by the engine's clock).
    last_settled: Instant,
    lease_until: i64,
    /// When kept deliveries were last looked for.
    last_claim: Option<Instant>,
    /// The streams' states as the log is followed.
    states: std::collections::HashMap<DocumentId, workflow_core::FlowState>,
}

impl Held {
    /// First tries since the last settlement.
    fn tried(&self) -> usize {
        self.delivered as usize + self.failures.len()
    }

    /// Where the channel stands once what was tried is stored: before the first position
    /// still in memory, or through what was derived.
    fn through(&self) -> u64 {
        match self.queue.front() {
            Some(d) => (d.position - 1).max(self.settled),
            None => self.derived,
        }
    }
}

impl Deliverer {
    fn now(&self) -> i64 {
        (self.engine.inner.clock)().timestamp_millis()
    }

    fn lease_from(&self, now: i64) -> i64 {
        now + self.lease.as_millis() as i64
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    fn run(mut self, mut held: Option<Held>) {
        background();
        while !self.stopping() {
            let result = match held.as_mut() {
                None => self.hold().map(|h| {
                    let got = h.is_some();
                    held = h;
                    got
                }),
                Some(h) => self.step(h),
            };
            match result {
                Ok(true) => {}
                // Another server holds the channel, or it lost it: ask again later.
                Ok(false) if held.is_none() => nap(WAIT_FOR_CHANNEL, &self.stop),
                Ok(false) => {
                    tracing::info!(channel = %self.channel.name, "another server took the channel; this one stops delivering it");
                    held = None;
                }
                Err(e) => {
                    tracing::warn!(channel = %self.channel.name, error = %e, "the outbox could not read or record deliveries; trying again");
                    // What is in memory is derived again from where the store has it.
                    held = None;
                    nap(Duration::from_secs(5), &self.stop);
                }
            }
        }
        if let Some(mut h) = held {
            let storage = self.engine.inner.storage.clone();
            let settled = self.settle(&mut h, true);
            if let Err(e) =
                settled.and_then(|_| storage.outbox_release(&self.channel.name, &self.holder))
            {
                tracing::warn!(channel = %self.channel.name, error = %e, "the outbox could not let go of a channel; it is taken again when its lease ends");
            }
        }
    }

    /// Takes the channel if no other server holds it.
    fn hold(&mut self) -> Result<Option<Held>> {
        let now = self.now();
        let lease_until = self.lease_from(now);
        let Some(c) = self.engine.inner.storage.outbox_hold(
            &self.channel.name,
            &self.holder,
            now,
            lease_until,
            self.engine.head(),
        )?
        else {
            return Ok(None);
        };
        tracing::info!(channel = %c.channel, through = c.through, holder = %self.holder, "delivering the channel");
        Ok(Some(Held {
            settled: c.through,
            derived: c.through,
            queue: Default::default(),
            delivered: 0,
            failures: Vec::new(),
            last_settled: Instant::now(),
            lease_until,
            last_claim: None,
            states: Default::default(),
        }))
    }

    /// One round: kept deliveries that are due, then new ones from the log; `false` when
    /// the channel was lost.
    fn step(&mut self, h: &mut Held) -> Result<bool> {
        let engine = self.engine.clone();
        let mut worked = false;
        if h.last_claim.is_none_or(|at| at.elapsed() >= CLAIM_EVERY) {
            h.last_claim = Some(Instant::now());
            match self.retry_kept(h)? {
                Some(tried) => worked |= tried > 0,
                None => return Ok(false),
            }
        }
        let head = engine.head();
        if h.queue.is_empty() && h.derived < head {
            worked |= self.derive(h)?;
        }
        crate::telemetry::outbox_lag(&self.channel.name, head.saturating_sub(h.through()));
        while !self.stopping() && !h.queue.is_empty() {
            if !self.try_first(h)? {
                return Ok(false);
            }
            worked = true;
            if h.tried() >= SETTLE_AFTER || h.last_settled.elapsed() >= SETTLE_EVERY {
                break;
            }
        }
        // Settled every so often while it sends, and at once when it has caught up.
        let due = h.through() > h.settled
            && (h.tried() >= SETTLE_AFTER
                || h.last_settled.elapsed() >= SETTLE_EVERY
                || (h.queue.is_empty() && h.derived >= head));
        let kept = if due {
            self.settle(h, false)?
        } else {
            self.keep(h)?
        };
        if !kept {
            return Ok(false);
        }
        if !worked {
            nap(IDLE, &self.stop);
        }
        Ok(true)
    }

    /// Renews the lease when what is left of it would not cover the spacing and a try
    /// (before every try, and once a round); `false` when another server holds the channel
    /// now.
    fn keep(&mut self, h: &mut Held) -> Result<bool> {
        let left = h.lease_until - self.now();
        let needed = self.channel.spacing + longest_try(&self.channel) + LEASE_MARGIN / 2;
        if left >= needed.as_millis() as i64 {
            return Ok(true);
        }
        self.settle(h, false)
    }

    /// The next window of the log's notices, as this channel's deliveries; whether there
    /// was one (durable).
    fn derive(&mut self, h: &mut Held) -> Result<bool> {
        let engine = &self.engine;
        if h.states.len() > FOLLOWED {
            h.states.clear();
        }
        let window = engine.notices_following(h.derived + 1, DERIVE_BATCH, &mut h.states)?;
        let next = window.next;
        if next <= h.derived + 1 {
            // Nothing durable yet beyond where it was.
            return Ok(false);
        }
        // Routed with the directory the notices were derived with (a notice is only ever
        // for an active person), read once a window.
        let actors: BTreeMap<&ActorId, &Actor> = window.actors.iter().map(|a| (&a.id, a)).collect();
        let units: BTreeMap<&UnitCode, &Unit> = window.units.iter().map(|u| (&u.code, u)).collect();
        let now = self.now();
        let channels = std::slice::from_ref(&self.channel);
        for n in &window.notices {
            let actor = actors.get(&n.recipient).copied();
            let unit = actor.and_then(|a| units.get(&a.unit).copied());
            h.queue
                .extend(deliveries_of(n, channels, actor, unit, &self.base_url, now));
        }
        h.derived = next - 1;
        Ok(true)
    }

    /// Waits out the channel's spacing since its last try.
    fn space(&mut self) {
        if let Some(at) = self.last_sent {
            let wait = self.channel.spacing.saturating_sub(at.elapsed());
            if !wait.is_zero() {
                nap(wait, &self.stop);
            }
        }
        self.last_sent = Some(Instant::now());
    }

    /// Tries `d` once, recording the outcome in it.
    fn attempt(&mut self, d: &mut Delivery) {
        let storage = self.engine.inner.storage.clone();
        d.attempts += 1;
        let result = self.sender.send(d, &*storage);
        let now = self.now();
        let channel = &self.channel;
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
    }

    /// The first try of the next delivery in memory; `false` when the channel was lost.
    fn try_first(&mut self, h: &mut Held) -> Result<bool> {
        if !self.keep(h)? {
            return Ok(false);
        }
        let Some(mut d) = h.queue.pop_front() else {
            return Ok(true);
        };
        self.space();
        if self.stopping() {
            // Not sent: the channel settles before it.
            h.queue.push_front(d);
            return Ok(true);
        }
        self.attempt(&mut d);
        if d.state == DeliveryState::Delivered {
            h.delivered += 1;
        } else {
            h.failures.push(d);
        }
        Ok(true)
    }

    /// Stores where the channel stands, with the failures since the last time, and renews
    /// the lease; `false` when another server holds the channel now. On `stopping`, the
    /// lease is not renewed.
    fn settle(&mut self, h: &mut Held, stopping: bool) -> Result<bool> {
        let now = self.now();
        let lease_until = if stopping { now } else { self.lease_from(now) };
        let through = h.through();
        let settled = self.engine.inner.storage.outbox_settle(
            &self.channel.name,
            &self.holder,
            &Settlement {
                expected: h.settled,
                through,
                delivered: h.delivered,
                failures: &h.failures,
                now,
                lease_until,
            },
        )?;
        if settled {
            h.settled = through;
            h.delivered = 0;
            h.failures.clear();
            h.last_settled = Instant::now();
            h.lease_until = lease_until;
        }
        Ok(settled)
    }

    /// Claims the kept deliveries that are due and tries each; how many it tried, `None`
    /// when the channel was lost. Those it does not try (stopping, the channel lost, their
    /// claim about to end) are put back, due at once.
    fn retry_kept(&mut self, h: &mut Held) -> Result<Option<usize>> {
        let storage = self.engine.inner.storage.clone();
        let channel = self.channel.clone();
        let now = self.now();
        let one = channel.spacing + longest_try(&channel);
        // Long enough for every claimed try, spaced, to finish before another takes them.
        let lease = one * CLAIM as u32 + Duration::from_secs(5);
        let claimed =
            storage.outbox_claim(&channel.name, now, now + lease.as_millis() as i64, CLAIM)?;
        let since = Instant::now();
        let mut tried = 0;
        let mut lost = false;
        let mut left = claimed.into_iter();
        for mut d in left.by_ref() {
            let lease_at = d.next_at;
            // Stopping, or its claim would run out during its try (another deliverer may
            // take it then): put back.
            let unsent = if self.stopping() || since.elapsed() + one >= lease {
                true
            } else if !self.keep(h)? {
                lost = true;
                true
            } else {
                self.space();
                self.stopping()
            };
            if unsent {
                self.put_back(&d, lease_at)?;
                break;
            }
            tried += 1;
            self.attempt(&mut d);
            if !storage.outbox_put(&d, Some(lease_at))? {
                tracing::info!(channel = %channel.name, delivery = %d.id, "a delivery's claim ran out during its try; another deliverer records it");
            }
        }
        for d in left {
            let lease_at = d.next_at;
            self.put_back(&d, lease_at)?;
        }
        Ok((!lost).then_some(tried))
    }

    /// A claimed delivery not tried, due again at once (unless another took it meanwhile).
    fn put_back(&self, d: &Delivery, claimed_until: i64) -> Result<()> {
        let mut d = d.clone();
        d.next_at = self.now();
        self.engine
            .inner
            .storage
            .outbox_put(&d, Some(claimed_until))
            .map(|_| ())
    }
}

/// A number in 0..1, at random.
fn jitter() -> f64 {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let n = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    f64::from(n) / f64::from(u32::MAX)
}
