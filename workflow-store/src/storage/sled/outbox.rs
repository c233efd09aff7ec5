//! The notification outbox: [`Outbox`], in one tree whose keys say what they hold, so that
//! each change is one atomic batch:
//! - `c/{channel}`: where a channel stands ([`ChannelCursor`], JSON);
//! - `d/{id}`: a delivery kept (one that failed at its first try) (JSON);
//! - `q/{channel}\0{next_at}{id}`: a pending delivery by channel and when it is due;
//! - `p/{position}{id}`: every delivery kept, by log position (for operators' lists);
//! - `m/{key}`: a channel's memo.
//!
//! It is a sled database of its own (`outbox/` in the data directory), so that its writes
//! are never part of the commits' syncs: sled writes them out in the background, a crash
//! may take the last changes back, and the channel's deliverer then derives and sends again,
//! with the same ids, what they had settled (never over a delivery kept).

use super::*;
use crate::notify::{Delivery, DeliveryState};
use crate::storage::{ChannelCursor, Settlement};

/// The outbox's own database in the store's directory `path` (retrying briefly while the
/// background threads of a handle just dropped still hold its lock).
pub(super) fn open(path: &Path) -> Result<sled::Tree> {
    let mut attempts = 0;
    let db = loop {
        match sled::Config::new()
            .path(path.join("outbox"))
            .cache_capacity(64 * 1024 * 1024)
            .open()
        {
            Ok(db) => break db,
            Err(sled::Error::Io(io))
                if io.to_string().contains("could not acquire lock") && attempts < 50 =>
            {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(other) => return Err(from_sled(other)),
        }
    };
    let tree = db.open_tree("outbox").db()?;
    adopt(&tree)?;
    Ok(tree)
}

/// What an opened outbox takes over: one process holds a sled store, so a channel still
/// held is held by a process that is gone — let go, for this one to take at once; and an
/// outbox of the first build (one position derived through, key `t`) gives each channel it
/// has deliveries of that place, so that no notice since is skipped.
fn adopt(tree: &sled::Tree) -> Result<()> {
    let mut batch = sled::Batch::default();
    let mut changed = false;
    let mut seen = std::collections::BTreeSet::new();
    for kv in tree.scan_prefix(b"c/") {
        let (k, v) = kv.db()?;
        let mut c: ChannelCursor = parse(
            format_args!("outbox channel {}", String::from_utf8_lossy(&k)),
            &v,
        )?;
        seen.insert(c.channel.clone());
        if !c.holder.is_empty() {
            c.holder.clear();
            c.lease_until = 0;
            batch.insert(k, json(&c));
            changed = true;
        }
    }
    if let Some(t) = tree.get(LEGACY_THROUGH).db()? {
        let through = u64_of("outbox position", &t)?;
        for kv in tree.scan_prefix(b"d/") {
            let (k, v) = kv.db()?;
            let d: Delivery = parse(format_args!("delivery {}", String::from_utf8_lossy(&k)), &v)?;
            if seen.insert(d.channel.clone()) {
                let c = ChannelCursor {
                    channel: d.channel.clone(),
                    through,
                    delivered: 0,
                    settled_at: 0,
                    holder: String::new(),
                    lease_until: 0,
                };
                batch.insert(channel_key(&d.channel), json(&c));
            }
        }
        batch.remove(LEGACY_THROUGH);
        changed = true;
    }
    // Nothing to take over (the usual open): nothing written, no sync at start-up.
    if changed {
        tree.apply_batch(batch).db()?;
        tree.flush().db()?;
    }
    Ok(())
}

/// The first build's single position derived through.
const LEGACY_THROUGH: &[u8] = b"t";

fn delivery_key(id: &str) -> Vec<u8> {
    [b"d/".as_slice(), id.as_bytes()].concat()
}

fn queue_prefix(channel: &str) -> Vec<u8> {
    [b"q/".as_slice(), channel.as_bytes(), b"\0"].concat()
}

fn queue_key(channel: &str, next_at: i64, id: &str) -> Vec<u8> {
    let at = next_at.max(0) as u64;
    [
        queue_prefix(channel).as_slice(),
        &at.to_be_bytes(),
        id.as_bytes(),
    ]
    .concat()
}

fn position_key(position: u64, id: &str) -> Vec<u8> {
    [b"p/".as_slice(), &position.to_be_bytes(), id.as_bytes()].concat()
}

fn channel_key(channel: &str) -> Vec<u8> {
    [b"c/".as_slice(), channel.as_bytes()].concat()
}

fn memo_key(key: &str) -> Vec<u8> {
    [b"m/".as_slice(), key.as_bytes()].concat()
}

impl SledStorage {
    /// Held while the outbox is read and changed: the deliverers and an operator's retry
    /// each change a delivery and its queue key, or a channel's place, together.
    fn outbox_held(&self) -> Result<std::sync::MutexGuard<'_, ()>> {
        self.outbox_lock.lock().map_err(|_| Error::Internal {
            reason: "the outbox lock was poisoned".into(),
        })
    }

    fn delivery(&self, id: &str) -> Result<Option<Delivery>> {
        match self.outbox.get(delivery_key(id)).db()? {
            Some(v) => Ok(Some(parse(format_args!("delivery {id}"), &v)?)),
            None => Ok(None),
        }
    }

    fn cursor(&self, channel: &str) -> Result<Option<ChannelCursor>> {
        match self.outbox.get(channel_key(channel)).db()? {
            Some(v) => Ok(Some(parse(format_args!("outbox channel {channel}"), &v)?)),
            None => Ok(None),
        }
    }

    /// Writes `d` in `batch`, its queue entry moved from where `old` had it.
    fn stage(batch: &mut sled::Batch, d: &Delivery, old: Option<&Delivery>) {
        if let Some(o) = old
            && o.state == DeliveryState::Pending
        {
            batch.remove(queue_key(&o.channel, o.next_at, &o.id));
        }
        if d.state == DeliveryState::Pending {
            batch.insert(queue_key(&d.channel, d.next_at, &d.id), &[] as &[u8]);
        }
        batch.insert(delivery_key(&d.id), json(d));
    }
}

impl Outbox for SledStorage {
    fn outbox_hold(
        &self,
        channel: &str,
        holder: &str,
        now: i64,
        lease_until: i64,
        start: u64,
    ) -> Result<Option<ChannelCursor>> {
        let _held = self.outbox_held()?;
        let (mut c, created) = match self.cursor(channel)? {
            Some(c) if c.holder.is_empty() || c.holder == holder || c.lease_until <= now => {
                (c, false)
            }
            Some(_) => return Ok(None),
            None => (
                ChannelCursor {
                    channel: channel.to_owned(),
                    through: start,
                    delivered: 0,
                    settled_at: now,
                    holder: String::new(),
                    lease_until: 0,
                },
                true,
            ),
        };
        c.holder = holder.to_owned();
        c.lease_until = lease_until;
        self.outbox.insert(channel_key(channel), json(&c)).db()?;
        if created {
            // Where a new channel starts is kept before anything is sent from it: lost in
            // a crash, it would start again at a later head.
            self.outbox.flush().db()?;
        }
        Ok(Some(c))
    }

    fn outbox_settle(&self, channel: &str, holder: &str, s: &Settlement<'_>) -> Result<bool> {
        let _held = self.outbox_held()?;
        let Some(mut c) = self.cursor(channel)? else {
            return Ok(false);
        };
        if c.holder != holder || c.through != s.expected {
            return Ok(false);
        }
        let mut batch = sled::Batch::default();
        for d in s.failures {
            if self.outbox.contains_key(delivery_key(&d.id)).db()? {
                continue;
            }
            Self::stage(&mut batch, d, None);
            batch.insert(position_key(d.position, &d.id), &[] as &[u8]);
        }
        c.through = s.through;
        c.delivered += s.delivered;
        c.lease_until = s.lease_until;
        c.settled_at = s.now;
        batch.insert(channel_key(channel), json(&c));
        self.outbox.apply_batch(batch).db()?;
        Ok(true)
    }

    fn outbox_release(&self, channel: &str, holder: &str) -> Result<()> {
        let _held = self.outbox_held()?;
        if let Some(mut c) = self.cursor(channel)?
            && c.holder == holder
        {
            c.holder.clear();
            c.lease_until = 0;
            self.outbox.insert(channel_key(channel), json(&c)).db()?;
        }
        Ok(())
    }

    fn outbox_channels(&self) -> Result<Vec<ChannelCursor>> {
        self.outbox
            .scan_prefix(b"c/")
            .map(|kv| {
                let (k, v) = kv.db()?;
                parse(
                    format_args!("outbox channel {}", String::from_utf8_lossy(&k)),
                    &v,
                )
            })
            .collect()
    }

    fn outbox_claim(
        &self,
        channel: &str,
        now: i64,
        lease_until: i64,
        limit: usize,
    ) -> Result<Vec<Delivery>> {
        let _held = self.outbox_held()?;
        let start = queue_prefix(channel);
        let end = queue_key(channel, now.saturating_add(1), "");
        let mut out = Vec::new();
        let mut batch = sled::Batch::default();
        let mut changed = false;
        for kv in self.outbox.range(start..end).take(limit) {
            let (k, _) = kv.db()?;
            let id = k
                .get(queue_prefix(channel).len() + 8..)
                .and_then(|id| std::str::from_utf8(id).ok())
                .ok_or_else(|| {
                    Error::corrupt("outbox queue key", "no UTF-8 id after its due time")
                })?;
            // A key that no longer says where its delivery stands is dropped, never sent.
            let old = match self.delivery(id)? {
                Some(d)
                    if d.state == DeliveryState::Pending
                        && queue_key(&d.channel, d.next_at, &d.id) == *k =>
                {
                    d
                }
                _ => {
                    batch.remove(k);
                    changed = true;
                    continue;
                }
            };
            let mut d = old.clone();
            d.next_at = lease_until;
            Self::stage(&mut batch, &d, Some(&old));
            changed = true;
            out.push(d);
        }
        if changed {
            self.outbox.apply_batch(batch).db()?;
        }
        Ok(out)
    }

    fn outbox_put(&self, delivery: &Delivery, fence: Option<i64>) -> Result<bool> {
        let _held = self.outbox_held()?;
        let old = self.delivery(&delivery.id)?;
        if let Some(at) = fence
            && !old
                .as_ref()
                .is_some_and(|o| o.state == DeliveryState::Pending && o.next_at == at)
        {
            return Ok(false);
        }
        let mut batch = sled::Batch::default();
        Self::stage(&mut batch, delivery, old.as_ref());
        if old.is_none() {
            batch.insert(position_key(delivery.position, &delivery.id), &[] as &[u8]);
        }
        self.outbox.apply_batch(batch).db()?;
        Ok(true)
    }

    fn outbox_get(&self, id: &str) -> Result<Option<Delivery>> {
        self.delivery(id)
    }

    fn outbox_list(
        &self,
        state: Option<DeliveryState>,
        from: u64,
        limit: usize,
    ) -> Result<Vec<Delivery>> {
        let mut out = Vec::new();
        for kv in self.outbox.range(position_key(from, "")..b"p0".to_vec()) {
            if out.len() >= limit {
                break;
            }
            let (k, _) = kv.db()?;
            let id = k
                .get(10..)
                .and_then(|id| std::str::from_utf8(id).ok())
                .ok_or_else(|| {
                    Error::corrupt("outbox position key", "no UTF-8 id after its position")
                })?;
            if let Some(d) = self.delivery(id)?
                && state.is_none_or(|s| s == d.state)
            {
                out.push(d);
            }
        }
        Ok(out)
    }

    fn outbox_counts(&self) -> Result<BTreeMap<DeliveryState, u64>> {
        let mut counts = BTreeMap::new();
        for kv in self.outbox.scan_prefix(b"d/") {
            let (k, v) = kv.db()?;
            let d: Delivery = parse(format_args!("delivery {}", String::from_utf8_lossy(&k)), &v)?;
            *counts.entry(d.state).or_insert(0) += 1;
        }
        Ok(counts)
    }

    fn outbox_memo(&self, key: &str) -> Result<Option<String>> {
        match self.outbox.get(memo_key(key)).db()? {
            Some(v) => Ok(Some(String::from_utf8_lossy(&v).into_owned())),
            None => Ok(None),
        }
    }

    fn outbox_set_memo(&self, key: &str, value: &str) -> Result<()> {
        self.outbox.insert(memo_key(key), value.as_bytes()).db()?;
        Ok(())
    }
}
