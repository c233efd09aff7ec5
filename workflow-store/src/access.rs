//! The access log (DESIGN §5): every read of a document classified 秘密 or above — a get, an
//! as-of read, its history, an export, an event delivered to a subscriber — is recorded
//! durably before the content is handed out: who, through which system, when, what. It sits
//! beside the event log, never in a document's stream, with a hash chain of its own that
//! `verify` checks like the log's. Its appends take their own lock and sync, never the
//! command writer's group.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use workflow_core::{ActorId, Classification, DocumentId, Timestamp};

use crate::engine::Engine;
use crate::envelope::{GENESIS_HASH, LogHead};
use crate::error::{Error, Result};
use crate::storage::{Storage, StoredEvent};

/// Whether reads of a document of this classification are recorded: 秘密 and above.
pub fn is_recorded(c: Classification) -> bool {
    c >= Classification::Secret
}

/// A read to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRecord {
    /// The calling system (or `cli` for an operator command).
    pub system: String,
    /// The actor named, if any.
    pub actor: Option<ActorId>,
    /// What was read: `get`, `as_of`, `history`, `export`, `subscribe`.
    pub what: String,
    /// The document.
    pub document_id: DocumentId,
    /// Its classification when read.
    pub classification: Classification,
    /// More about the read: the version or instant of an as-of read, the event position
    /// delivered to a subscriber.
    pub detail: String,
}

/// One recorded read, as the access log stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    /// Its position in the access log (from 1, gapless).
    pub position: u64,
    /// When.
    pub at: Timestamp,
    /// Through which system.
    pub system: String,
    /// Who, if an actor was named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<ActorId>,
    /// What was read.
    pub what: String,
    /// The document.
    pub document_id: DocumentId,
    /// Its classification when read.
    pub classification: Classification,
    /// More about the read.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// The previous entry's hash ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// SHA-256 (hex) of this entry without its hash.
    #[serde(default)]
    pub hash: String,
}

impl AccessEntry {
    /// The hash of the entry's fields (all but `hash`), chained through `prev_hash`.
    pub fn compute_hash(&self) -> String {
        let body = AccessEntry {
            hash: String::new(),
            ..self.clone()
        };
        // Plain data serializes infallibly.
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }
}

/// Which entries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessQuery {
    /// Only reads of this document.
    pub document: Option<DocumentId>,
    /// Only reads by this actor.
    pub actor: Option<ActorId>,
    /// Only reads at or after this instant.
    pub since: Option<Timestamp>,
    /// Start after this position (0: from the start).
    pub after: u64,
    /// At most this many (0: 100).
    pub limit: usize,
}

/// What verifying the access log found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessReport {
    /// Entries checked before the end or the first break.
    pub checked: u64,
    /// The hash of the last entry checked.
    pub head_hash: String,
    /// The first break: position and reason.
    pub first_break: Option<(u64, String)>,
}

impl AccessReport {
    /// Whether the chain is whole.
    pub fn is_intact(&self) -> bool {
        self.first_break.is_none()
    }
}

/// The access log's end, as its appender holds it.
#[derive(Debug)]
pub(crate) struct AccessChain {
    position: u64,
    hash: String,
}

impl AccessChain {
    /// The chain as stored.
    pub(crate) fn load(storage: &dyn Storage) -> Result<Mutex<Self>> {
        let chain = match storage.access_end()? {
            Some(last) => {
                let e = decode(&last)?;
                AccessChain {
                    position: e.position,
                    hash: e.hash,
                }
            }
            None => AccessChain {
                position: 0,
                hash: GENESIS_HASH.to_owned(),
            },
        };
        Ok(Mutex::new(chain))
    }
}

/// The records as entries chained after `chain`: the entries, their stored form, and the
/// access log's head after them.
fn chain_entries(
    chain: &AccessChain,
    records: &[AccessRecord],
    at: Timestamp,
) -> Result<(Vec<AccessEntry>, Vec<StoredEvent>, LogHead)> {
    let (mut position, mut hash) = (chain.position, chain.hash.clone());
    let mut entries = Vec::with_capacity(records.len());
    let mut stored = Vec::with_capacity(records.len());
    for record in records.iter().cloned() {
        let mut entry = AccessEntry {
            position: position + 1,
            at,
            system: record.system,
            actor: record.actor,
            what: record.what,
            document_id: record.document_id,
            classification: record.classification,
            detail: record.detail,
            prev_hash: hash,
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        let bytes = serde_json::to_vec(&entry).map_err(|e| Error::Internal {
            reason: format!("an access-log entry does not serialize: {e}"),
        })?;
        (position, hash) = (entry.position, entry.hash.clone());
        stored.push(StoredEvent {
            position: entry.position,
            bytes,
        });
        entries.push(entry);
    }
    Ok((entries, stored, LogHead { position, hash }))
}

fn decode(stored: &StoredEvent) -> Result<AccessEntry> {
    serde_json::from_slice(&stored.bytes)
        .map_err(|e| Error::corrupt(format_args!("access-log position {}", stored.position), e))
}

impl Engine {
    /// Records a read durably and returns its entry; the caller hands the content out only
    /// after this succeeded.
    pub async fn record_access(&self, record: AccessRecord) -> Result<AccessEntry> {
        let mut entries = self.record_accesses(vec![record]).await?;
        entries.pop().ok_or_else(|| Error::Internal {
            reason: "an access-log append returned no entry".into(),
        })
    }

    /// Records several reads (a page of a list) with one durable append.
    pub async fn record_accesses(&self, records: Vec<AccessRecord>) -> Result<Vec<AccessEntry>> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let engine = self.clone();
        tokio::task::spawn_blocking(move || engine.record_access_blocking(records))
            .await
            .map_err(|e| Error::Internal {
                reason: format!("the access-log append did not finish: {e}"),
            })?
    }

    /// As [`Engine::record_accesses`], on the calling thread (operator commands).
    pub fn record_access_blocking(&self, records: Vec<AccessRecord>) -> Result<Vec<AccessEntry>> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let mut chain = self.inner.access.lock().map_err(|_| Error::Closed)?;
        let at = (self.inner.clock)();
        // Another process sharing the store may append first: chain again from its end,
        // after a short random pause so that two busy processes do not keep colliding.
        let mut attempts: u32 = 0;
        loop {
            let (entries, stored, head) = chain_entries(&chain, &records, at)?;
            match self.inner.storage.append_access(&stored, &head) {
                Ok(()) => {
                    (chain.position, chain.hash) = (head.position, head.hash);
                    crate::telemetry::access_entries(entries.len());
                    return Ok(entries);
                }
                Err(e) => {
                    // Whether the append reached the store is unknown: take the end from the
                    // store again, so the next append neither reuses a position nor leaves
                    // a gap.
                    if let Ok(reloaded) = AccessChain::load(&*self.inner.storage)
                        && let Ok(fresh) = reloaded.into_inner()
                    {
                        *chain = fresh;
                    }
                    attempts += 1;
                    if !matches!(e, Error::WriteConflict { .. }) || attempts >= 32 {
                        return Err(e);
                    }
                    let jitter = uuid::Uuid::new_v4().as_u128() % 1000;
                    let pause = u64::from(attempts.min(10)) * 200 + jitter as u64;
                    std::thread::sleep(std::time::Duration::from_micros(pause));
                }
            }
        }
    }

    /// The classification of a stream now (`None` for one that does not exist or is not
    /// classified): whether reading it is recorded.
    pub fn classification_of(&self, id: DocumentId) -> Result<Classification> {
        // As the writer last committed it; a document it has not written since it started
        // is read from the store once.
        if let Some(c) = self
            .inner
            .classifications
            .read()
            .ok()
            .and_then(|known| known.get(id))
        {
            return Ok(c);
        }
        let classification = self
            .inner
            .storage
            .doc(id)?
            .map_or(Classification::None, |r| r.state.classification());
        Ok(classification)
    }

    /// The highest classification a stream ever had (`None` for one that does not exist):
    /// what reading its events needs, since they show every version — a draft revised from
    /// 秘密 down to 非密 still holds its 秘密 text in its first events. Worked out once by
    /// folding the stream's events, then kept beside the current classification.
    pub fn highest_classification(&self, id: DocumentId) -> Result<Classification> {
        if let Some(c) = self
            .inner
            .classifications
            .read()
            .ok()
            .and_then(|known| known.highest(id))
        {
            return Ok(c);
        }
        let mut highest = Classification::None;
        let mut folded: Option<workflow_core::FlowState> = None;
        for e in self.durable_events(id)? {
            let event = e.event().map_err(|err| Error::corrupt(e.position, err))?;
            match folded.as_mut() {
                Some(s) => s.apply(&event),
                None => folded = workflow_core::FlowState::create(&event),
            }
            if let Some(s) = &folded {
                highest = highest.max(s.classification());
            }
        }
        if let Ok(mut known) = self.inner.classifications.write() {
            known.set_highest(id, highest);
        }
        Ok(highest)
    }

    /// Access-log entries matching `q`, in order.
    pub fn access_log(&self, q: &AccessQuery) -> Result<Vec<AccessEntry>> {
        let limit = if q.limit == 0 {
            100
        } else {
            q.limit.min(10_000)
        };
        let mut out = Vec::new();
        let mut from = q.after + 1;
        loop {
            let batch = self.inner.storage.read_access(from, 1024)?;
            let Some(last) = batch.last() else {
                break;
            };
            from = last.position + 1;
            for stored in &batch {
                let e = decode(stored)?;
                if q.document.is_none_or(|d| d == e.document_id)
                    && q.actor.as_ref().is_none_or(|a| e.actor.as_ref() == Some(a))
                    && q.since.is_none_or(|t| e.at >= t)
                {
                    out.push(e);
                    if out.len() == limit {
                        return Ok(out);
                    }
                }
            }
        }
        Ok(out)
    }

    /// Verifies the access log's chain: positions from 1 without gaps, each entry's hash,
    /// each link to the one before.
    pub fn verify_access_log(&self) -> Result<AccessReport> {
        let mut report = AccessReport {
            checked: 0,
            head_hash: GENESIS_HASH.to_owned(),
            first_break: None,
        };
        // The recorded head is read first: another process sharing the store may append
        // while this walks, and then the head is read again at the end.
        let recorded_before = self.inner.storage.access_recorded_head()?;
        let mut from = 1;
        loop {
            let batch = self.inner.storage.read_access(from, 1024)?;
            if batch.is_empty() {
                // Its end must be the head recorded with the last append: entries cut off
                // the end are caught here.
                let recorded = match recorded_before {
                    Some(ref head) if head.position >= report.checked => Some(head.clone()),
                    _ => self.inner.storage.access_recorded_head()?,
                };
                if let Some(recorded) = recorded
                    && (recorded.position != report.checked || recorded.hash != report.head_hash)
                {
                    report.first_break = Some((
                        report.checked + 1,
                        format!(
                            "the access log ends at position {}, but the head recorded with its last append is {}: it was cut short or rewritten",
                            report.checked, recorded
                        ),
                    ));
                }
                return Ok(report);
            }
            for stored in &batch {
                let broken = |why: String| Some((stored.position, why));
                let problem = if stored.position != from {
                    broken(format!("position {from} is missing"))
                } else {
                    match decode(stored) {
                        Err(e) => broken(e.to_string()),
                        Ok(e) if e.position != stored.position => broken(format!(
                            "entry says position {} but is stored at {}",
                            e.position, stored.position
                        )),
                        Ok(e) if e.prev_hash != report.head_hash => {
                            broken("does not link to the entry before it".into())
                        }
                        Ok(e) if e.compute_hash() != e.hash => broken(format!(
                            "hash mismatch: stored {}, computed {}",
                            e.hash,
                            e.compute_hash()
                        )),
                        Ok(e) => {
                            report.head_hash = e.hash;
                            None
                        }
                    }
                };
                if problem.is_some() {
                    report.first_break = problem;
                    return Ok(report);
                }
                report.checked += 1;
                from += 1;
            }
        }
    }

    /// Removes an access-log entry, bypassing every check: for drills only.
    #[cfg(any(test, feature = "fault-injection"))]
    #[doc(hidden)]
    pub fn tamper_remove_access_entry(&self, position: u64) -> Result<()> {
        self.inner.storage.raw_remove_access(position)
    }

    /// Overwrites an access-log entry's bytes, bypassing every check: for drills only.
    #[cfg(any(test, feature = "fault-injection"))]
    #[doc(hidden)]
    pub fn tamper_access_entry(&self, position: u64, bytes: &[u8]) -> Result<()> {
        self.inner.storage.raw_put_access(position, bytes)
    }
}
