//! The access log as the engine reads and records it (the chain itself is
//! [`crate::access`]).

use workflow_core::{DocumentId, directory::Classification};

use crate::access::*;
use crate::engine::Engine;
use crate::envelope::GENESIS_HASH;
use crate::error::{Error, Result};

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
