//! Verifying the log: the hash chain from position 1, the end of the log against the head
//! recorded with the last commit, the indexes against the log, the fixity digests of
//! archived documents, and optionally a head that someone else recorded earlier (a witness).

use std::collections::HashMap;
use std::hash::BuildHasher;

use sha2::{Digest, Sha256};
use workflow_core::{Closing, DocumentId, FlowEvent};

use super::rebuild::CHUNK;
use crate::envelope::{Envelope, GENESIS_HASH, LogHead, StoredEnvelope, stored_bytes_hash_to};
use crate::error::Result;
use crate::storage::Storage;

/// What to check beyond the log itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// A head recorded earlier (by this or another system): the log must still hold that
    /// hash at that position, i.e. extend it unchanged.
    pub against: Option<LogHead>,
}

/// The result of verifying the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Events checked and found intact (all of them when `first_break` is `None`).
    pub checked: u64,
    /// The hash of the last intact event (the chain's head when intact).
    pub head_hash: String,
    /// The first problem found, and where.
    pub first_break: Option<ChainBreak>,
    /// Archived documents whose fixity digest was recomputed and matched.
    pub fixity_checked: u64,
    /// The head recorded with the last commit, if the store keeps one (stores written
    /// before heads were recorded get one when first opened by this build).
    pub recorded_head: Option<LogHead>,
    /// The witness head that was checked and that the log extends, if one was given and
    /// the log is intact.
    pub extends: Option<LogHead>,
    /// Published 月通报 whose figures were produced again from the log and matched the
    /// digests recorded when they were published.
    pub bulletins_checked: u64,
    /// The publications found while walking (checked by the engine after the walk).
    pub(crate) published: Vec<PublishedAt>,
}

/// A `BulletinPublished` event met while walking the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublishedAt {
    pub(crate) position: u64,
    pub(crate) month: workflow_core::supervision::bulletin::Month,
    pub(crate) clearance: workflow_core::Classification,
    pub(crate) items: u32,
    pub(crate) digests: workflow_core::supervision::BulletinDigests,
}

impl VerifyReport {
    /// Whether the whole log is intact (and extends the witness head, if one was given).
    pub fn is_intact(&self) -> bool {
        self.first_break.is_none()
    }

    /// The head of the verified log.
    pub fn head(&self) -> LogHead {
        LogHead {
            position: self.checked,
            hash: self.head_hash.clone(),
        }
    }
}

/// Where and how the log breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The first broken position (for a log cut short: the first missing one).
    pub position: u64,
    /// What differs, e.g. `hash mismatch: stored …, computed …`.
    pub reason: String,
}

/// Order-independent fingerprint of a set of `(stream, version, position)` triples: a sum
/// of keyed 128-bit hashes, so that the log and the stream index can be compared without
/// holding either in memory (a duplicate does not cancel out, as it would with XOR).
struct IndexFingerprint {
    keys: (std::hash::RandomState, std::hash::RandomState),
}

impl IndexFingerprint {
    fn of(&self, stream: DocumentId, version: u64, position: u64) -> u128 {
        let half = |s: &std::hash::RandomState| s.hash_one((stream, version, position));
        (u128::from(half(&self.keys.0)) << 64) | u128::from(half(&self.keys.1))
    }
}

/// Everything the walk keeps per stream: its last version, and the running fixity digest
/// of its event hashes (dropped once the document is archived or voided: nothing follows).
#[derive(Default)]
struct StreamState {
    version: u64,
    fixity: Option<Sha256>,
}

/// One event of the walk, as far as the checks after the chain need it.
struct Walked {
    stream: DocumentId,
    version: u64,
    hash: String,
    /// `Some(recorded fixity)` for an `Archived` event; `Voided` ends a stream too.
    archived: Option<Option<String>>,
    ends_stream: bool,
    /// A published 月通报's record.
    published: Option<PublishedAt>,
}

/// Verifies the log up to `bound` (the head of the durable log when the check starts);
/// see [`VerifyReport`]. Groups committed meanwhile are not walked, and do not count as
/// tampering: the end-of-log checks read the recorded head only after the walk and accept
/// what the log holds past `bound` up to it.
pub(crate) fn verify(
    storage: &dyn Storage,
    options: &VerifyOptions,
    bound: u64,
    mut progress: impl FnMut(u64, u64),
) -> Result<VerifyReport> {
    let total = bound;
    let mut report = VerifyReport {
        checked: 0,
        head_hash: GENESIS_HASH.to_owned(),
        first_break: None,
        fixity_checked: 0,
        recorded_head: None,
        extends: None,
        bulletins_checked: 0,
        published: Vec::new(),
    };
    let fingerprint = IndexFingerprint {
        keys: Default::default(),
    };
    let mut log_sum = 0u128;
    let mut expected = 1u64;
    let mut streams: HashMap<DocumentId, StreamState> = HashMap::new();
    let broken = |report: &mut VerifyReport, position: u64, reason: String| {
        report.first_break = Some(ChainBreak { position, reason });
    };
    'walk: while expected <= bound {
        let want = usize::try_from(bound - expected + 1).map_or(CHUNK, |n| n.min(CHUNK));
        let chunk = storage.read_log(expected, want)?;
        if chunk.is_empty() {
            break;
        }
        for stored in chunk {
            let (key, bytes) = (stored.position, stored.bytes);
            let walked = if key != expected {
                Err(format!(
                    "position {expected} is missing (next stored is {key})"
                ))
            } else {
                check_stored(key, &bytes, &report.head_hash)
            };
            let w = match walked {
                Ok(w) => w,
                Err(reason) => {
                    broken(&mut report, expected, reason);
                    break 'walk;
                }
            };
            let state = streams.entry(w.stream).or_default();
            if w.version != state.version + 1 {
                let reason = format!(
                    "stream {} jumps from version {} to {}",
                    w.stream, state.version, w.version
                );
                broken(&mut report, expected, reason);
                break 'walk;
            }
            state.version = w.version;
            let fixity = state.fixity.get_or_insert_with(Sha256::new);
            if let Some(recorded) = &w.archived {
                let computed = hex::encode(fixity.clone().finalize());
                match recorded {
                    Some(r) if *r != computed => {
                        let reason = format!(
                            "document {}: its events before this Archived event hash to fixity \
                             digest {computed}, not the {r} recorded when it was archived: one of \
                             them was rewritten (and the chain recomputed after it)",
                            w.stream
                        );
                        broken(&mut report, expected, reason);
                        break 'walk;
                    }
                    Some(_) => report.fixity_checked += 1,
                    None => {}
                }
            }
            fixity.update(w.hash.as_bytes());
            fixity.update(b"\n");
            if let Some(p) = w.published {
                report.published.push(p);
            }
            if w.ends_stream {
                state.fixity = None;
            }
            if let Some(witness) = &options.against
                && witness.position == expected
                && witness.hash != w.hash
            {
                let reason = format!(
                    "the event here hashes to {}, not to the witness head's {}: the log was \
                     rewritten at or before this position since that head was recorded",
                    w.hash, witness.hash
                );
                broken(&mut report, expected, reason);
                break 'walk;
            }
            log_sum = log_sum.wrapping_add(fingerprint.of(w.stream, w.version, expected));
            report.head_hash = w.hash;
            report.checked = expected;
            expected += 1;
        }
        progress(expected - 1, total);
    }
    if report.first_break.is_some() {
        return Ok(report);
    }
    let last = report.checked;
    if last < bound {
        let reason = format!(
            "the log ends at position {last}, but the engine's durable head is position {bound}: \
             the log was cut short"
        );
        broken(&mut report, last + 1, reason);
        return Ok(report);
    }
    if let Some(witness) = &options.against {
        if witness.position > last {
            let reason = format!(
                "the log ends at position {last}, before the witness head's position {}",
                witness.position
            );
            broken(&mut report, last + 1, reason);
            return Ok(report);
        }
        if witness.position == 0 && witness.hash != GENESIS_HASH {
            let reason = "a witness head at position 0 has the genesis hash".to_owned();
            broken(&mut report, 1, reason);
            return Ok(report);
        }
        report.extends = Some(witness.clone());
    }
    // The stream index must hold exactly the log's (stream, version, position) triples up to
    // the bound; entries past it (groups committed meanwhile) must not pass the recorded head.
    let mut index_sum = 0u128;
    let mut index_count = 0u64;
    let mut past_bound = 0u64;
    let mut after = None;
    loop {
        let page = storage.stream_index_after(after, CHUNK)?;
        let Some(&(s, v, _)) = page.last() else { break };
        after = Some((s, v));
        for (stream, version, position) in page {
            if position > bound {
                past_bound = past_bound.max(position);
                continue;
            }
            index_sum = index_sum.wrapping_add(fingerprint.of(stream, version, position));
            index_count += 1;
        }
    }
    if index_count != last || index_sum != log_sum {
        let reason = format!(
            "the stream index ({index_count} entries up to position {last}) does not match the \
             log ({last} events): rebuild the projections (`workflow rebuild`) after finding out why"
        );
        broken(&mut report, last, reason);
        return Ok(report);
    }
    // Command records (a projection) must not name events past the recorded head either.
    let mut after: Option<String> = None;
    let mut past_command: Option<(String, u64)> = None;
    loop {
        let page = storage.commands_after(after.as_deref(), CHUNK)?;
        let Some((id, _)) = page.last() else { break };
        after = Some(id.clone());
        for (id, rec) in page {
            if rec.last_position > bound
                && past_command
                    .as_ref()
                    .is_none_or(|(_, p)| rec.last_position > *p)
            {
                past_command = Some((id, rec.last_position));
            }
        }
    }
    // The end: read the recorded head last, so that it covers every group committed while
    // the walk ran; the log must hold it.
    let recorded = storage.recorded_head()?;
    report.recorded_head = recorded.clone();
    let Some(head) = recorded else {
        return Ok(report); // a store written before heads were recorded, not yet upgraded
    };
    if head.position < last {
        let reason = format!(
            "the log goes on past the head recorded with the last commit (position {}): \
             events were appended outside the engine",
            head.position
        );
        broken(&mut report, head.position + 1, reason);
        return Ok(report);
    }
    let held = if head.position == last {
        Some(report.head_hash.clone())
    } else {
        storage
            .read_log(head.position, 1)?
            .into_iter()
            .find(|e| e.position == head.position)
            .and_then(|e| {
                StoredEnvelope::parse(&e.bytes)
                    .ok()
                    .map(|e| e.hash.into_owned())
            })
    };
    match held {
        None => {
            let reason = format!(
                "the log ends before position {}, the head recorded with the last commit (hash \
                 {}): the log was cut short",
                head.position, head.hash
            );
            broken(&mut report, last + 1, reason);
            return Ok(report);
        }
        Some(h) if h != head.hash => {
            let reason = format!(
                "the event at the recorded head's position hashes to {h}, not to the {} recorded \
                 with the last commit",
                head.hash
            );
            broken(&mut report, head.position, reason);
            return Ok(report);
        }
        Some(_) => {}
    }
    if past_bound > head.position {
        let reason = format!(
            "the stream index has an entry at position {past_bound}, past the end of the log \
             (position {}): the log was cut short",
            head.position
        );
        broken(&mut report, head.position + 1, reason);
        return Ok(report);
    }
    if let Some((id, p)) = past_command
        && p > head.position
    {
        let reason = format!(
            "command {id} is recorded as written up to position {p}, past the end of the log \
             (position {}): the log was cut short",
            head.position
        );
        broken(&mut report, head.position + 1, reason);
        return Ok(report);
    }
    Ok(report)
}

/// Checks the event stored at `key` against the hash before it; what the walk needs of it,
/// or why it breaks the chain. Events as this crate writes them are read in one pass and
/// hashed over their stored bytes; anything else takes the owned, canonical route, which
/// also names what exactly is wrong.
fn check_stored(key: u64, bytes: &[u8], prev: &str) -> std::result::Result<Walked, String> {
    let link = |position: u64, prev_hash: &str| {
        if position != key {
            return Err(format!(
                "envelope says position {position} but is stored at {key}"
            ));
        }
        if prev_hash != prev {
            return Err(format!(
                "prev_hash {prev_hash} does not match the hash {prev} of the event before"
            ));
        }
        Ok(())
    };
    let published = |data: &FlowEvent| match data {
        FlowEvent::Bulletin(workflow_core::PublicationEvent::BulletinPublished {
            month,
            clearance,
            items,
            digests,
            ..
        }) => Some(PublishedAt {
            position: key,
            month: *month,
            clearance: *clearance,
            items: *items,
            digests: digests.clone(),
        }),
        _ => None,
    };
    // The flow says which events close a stream's record, and with which digest.
    let ends = |data: &FlowEvent| -> (Option<Option<String>>, bool) {
        match data.closing() {
            Some(Closing::Filed(digest)) => (Some(digest.map(str::to_owned)), true),
            Some(Closing::Ended) => (None, true),
            None => (None, false),
        }
    };
    if let Ok(env) = StoredEnvelope::parse(bytes)
        && stored_bytes_hash_to(bytes, &env.hash)
    {
        link(env.position, &env.prev_hash)?;
        let (archived, ends_stream) = ends(&env.data);
        return Ok(Walked {
            stream: env.stream_id,
            version: env.version,
            hash: env.hash.into_owned(),
            archived,
            ends_stream,
            published: published(&env.data),
        });
    }
    let env: Envelope = serde_json::from_slice(bytes)
        .map_err(|e| format!("stored bytes are not a readable envelope: {e}"))?;
    link(env.position, &env.prev_hash)?;
    let computed = env.compute_hash();
    if computed != env.hash {
        return Err(format!(
            "hash mismatch: stored {}, computed {computed}",
            env.hash
        ));
    }
    let event = env
        .event()
        .map_err(|e| format!("payload does not decode: {e}"))?;
    let (archived, ends_stream) = ends(&event.data);
    Ok(Walked {
        stream: env.stream_id,
        version: env.version,
        hash: env.hash,
        archived,
        ends_stream,
        published: published(&event.data),
    })
}
