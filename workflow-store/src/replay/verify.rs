//! Verifying the log: the hash chain from position 1, the end of the log against the head
//! recorded with the last commit, the indexes against the log, the fixity digests of
//! archived documents, and optionally a head that someone else recorded earlier (a witness).

use std::collections::HashMap;
use std::hash::BuildHasher;

use workflow_core::{DocumentId, FlowEvent, flow::Closing};

use super::rebuild::CHUNK;
use crate::envelope::{
    ChainDigest, Envelope, GENESIS_HASH, LogHead, StoredEnvelope, stored_bytes_hash_to,
};
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
    /// Kept files (正文, attachments) read again and found to hash to their digest.
    pub files_checked: u64,
    /// Kept files that did not: altered or unreadable, with the documents that name them.
    pub file_problems: Vec<FileProblem>,
    /// Digests documents name whose bytes this store does not keep (a 收文's attachments
    /// registered before the engine kept files name bytes kept elsewhere): reported, not a
    /// break.
    pub files_not_kept: u64,
    /// The printed 公文 found while walking (checked by the engine after the walk).
    pub(crate) printed: Vec<PrintedAt>,
    /// Issued 公文 printed again from the log and found byte for byte equal to the kept copy.
    pub printed_checked: u64,
    /// Issued 公文 whose kept copy, printed again the same way, differs: it does not show
    /// the record.
    pub printed_problems: Vec<PrintedProblem>,
    /// Issued 公文 that could not be printed the same way here (another layout or other
    /// fonts, no printer, the copy not kept): reported, not a break.
    pub printed_not_checked: Vec<PrintedProblem>,
}

/// What makes a log not intact (see [`VerifyReport::first_problem`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem<'a> {
    /// The chain breaks.
    Chain(&'a ChainBreak),
    /// A kept file does not hash to its digest.
    File(&'a FileProblem),
    /// A printed 公文 does not print the same again.
    Printed(&'a PrintedProblem),
}

/// An issued 公文 whose printed copy did not check, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedProblem {
    /// The document.
    pub document: DocumentId,
    /// Its 发文字号.
    pub number: String,
    /// Why.
    pub reason: String,
}

/// An `Issued` event naming its printed copy, met while walking the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PrintedAt {
    pub(crate) position: u64,
    pub(crate) document: DocumentId,
    pub(crate) version: u64,
    pub(crate) number: String,
    pub(crate) file: workflow_core::content::FileRef,
}

/// A kept file that does not hash to its digest, or cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProblem {
    /// The digest it is kept under.
    pub digest: workflow_core::content::Digest,
    /// What is wrong.
    pub reason: String,
    /// The documents that name it.
    pub documents: Vec<DocumentId>,
}

/// A `BulletinPublished` event met while walking the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PublishedAt {
    pub(crate) position: u64,
    pub(crate) month: workflow_core::supervision::bulletin::Month,
    pub(crate) clearance: workflow_core::directory::Classification,
    pub(crate) items: u32,
    pub(crate) digests: workflow_core::supervision::BulletinDigests,
}

impl VerifyReport {
    /// Whether the whole log is intact (and extends the witness head, if one was given),
    /// and every kept file hashes to its digest.
    pub fn is_intact(&self) -> bool {
        self.first_break.is_none()
            && self.file_problems.is_empty()
            && self.printed_problems.is_empty()
    }

    /// The first thing that makes it not intact, if any: a break in the chain first, then a
    /// kept file, then a printed 公文.
    pub fn first_problem(&self) -> Option<Problem<'_>> {
        self.first_break
            .as_ref()
            .map(Problem::Chain)
            .or_else(|| self.file_problems.first().map(Problem::File))
            .or_else(|| self.printed_problems.first().map(Problem::Printed))
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
    fixity: Option<crate::envelope::Running>,
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
    /// An issued 公文's printed copy.
    printed: Option<PrintedAt>,
}

/// Verifies the log up to `bound` (the head of the durable log when the check starts);
/// see [`VerifyReport`]. Groups committed meanwhile are not walked, and do not count as
/// tampering: the end-of-log checks read the recorded head only after the walk and accept
/// what the log holds past `bound` up to it.
pub(crate) fn verify(
    storage: &dyn Storage,
    options: &VerifyOptions,
    bound: u64,
    progress: impl FnMut(u64, u64),
) -> Result<VerifyReport> {
    let mut report = VerifyReport {
        checked: 0,
        head_hash: GENESIS_HASH.to_owned(),
        first_break: None,
        fixity_checked: 0,
        recorded_head: None,
        extends: None,
        bulletins_checked: 0,
        published: Vec::new(),
        files_checked: 0,
        file_problems: Vec::new(),
        files_not_kept: 0,
        printed: Vec::new(),
        printed_checked: 0,
        printed_problems: Vec::new(),
        printed_not_checked: Vec::new(),
    };
    let mut walk = Walk {
        options,
        fingerprint: IndexFingerprint {
            keys: Default::default(),
        },
        streams: HashMap::new(),
        log_sum: 0,
    };
    let broken = walk.run(storage, bound, &mut report, progress)?.err();
    let broken = match broken {
        Some(b) => Some(b),
        None => walk
            .ends_where_it_should(storage, bound, &mut report)?
            .err(),
    };
    report.first_break = broken;
    Ok(report)
}

/// The walk along the log: what it keeps as it goes.
struct Walk<'a> {
    options: &'a VerifyOptions,
    fingerprint: IndexFingerprint,
    streams: HashMap<DocumentId, StreamState>,
    /// The fingerprint of the `(stream, version, position)` triples walked.
    log_sum: u128,
}

/// A verification's outcome so far: on, or the first break.
type Checked = std::result::Result<(), ChainBreak>;

fn at(position: u64, reason: String) -> Checked {
    Err(ChainBreak { position, reason })
}

impl Walk<'_> {
    /// Walks the log from position 1 up to `bound`, chunk by chunk, checking each event
    /// ([`Walk::event`]); `report` holds how far it got.
    fn run(
        &mut self,
        storage: &dyn Storage,
        bound: u64,
        report: &mut VerifyReport,
        mut progress: impl FnMut(u64, u64),
    ) -> Result<Checked> {
        let mut expected = 1u64;
        while expected <= bound {
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
                if let Err(reason) = walked.and_then(|w| self.event(expected, w, report)) {
                    return Ok(at(expected, reason));
                }
                report.checked = expected;
                expected += 1;
            }
            progress(expected - 1, bound);
        }
        Ok(Ok(()))
    }

    /// One event of the walk, whose chain link is intact: its stream's next version, the
    /// fixity digest its 归档 recorded, the witness head, and its place in the index's
    /// fingerprint.
    fn event(
        &mut self,
        position: u64,
        w: Walked,
        report: &mut VerifyReport,
    ) -> std::result::Result<(), String> {
        let state = self.streams.entry(w.stream).or_default();
        if w.version != state.version + 1 {
            return Err(format!(
                "stream {} jumps from version {} to {}",
                w.stream, state.version, w.version
            ));
        }
        state.version = w.version;
        let fixity = state
            .fixity
            .get_or_insert_with(|| ChainDigest::of(&w.hash).running());
        if let Some(recorded) = &w.archived {
            let computed = fixity.finish();
            match recorded {
                Some(r) if *r != computed => {
                    return Err(format!(
                        "document {}: its events before this Archived event hash to fixity \
                         digest {computed}, not the {r} recorded when it was archived: one of \
                         them was rewritten (and the chain recomputed after it)",
                        w.stream
                    ));
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
        if let Some(p) = w.printed {
            report.printed.push(p);
        }
        if w.ends_stream {
            state.fixity = None;
        }
        if let Some(witness) = &self.options.against
            && witness.position == position
            && witness.hash != w.hash
        {
            return Err(format!(
                "the event here hashes to {}, not to the witness head's {}: the log was \
                 rewritten at or before this position since that head was recorded",
                w.hash, witness.hash
            ));
        }
        self.log_sum = self
            .log_sum
            .wrapping_add(self.fingerprint.of(w.stream, w.version, position));
        report.head_hash = w.hash;
        Ok(())
    }

    /// After the walk: the log reaches the bound and the witness head, the stream index
    /// holds exactly what was walked, and the log ends at the head recorded with the last
    /// commit, which nothing stored goes past.
    fn ends_where_it_should(
        &self,
        storage: &dyn Storage,
        bound: u64,
        report: &mut VerifyReport,
    ) -> Result<Checked> {
        let last = report.checked;
        if last < bound {
            return Ok(at(
                last + 1,
                format!(
                    "the log ends at position {last}, but the engine's durable head is position \
                     {bound}: the log was cut short"
                ),
            ));
        }
        if let Some(witness) = &self.options.against {
            if witness.position > last {
                return Ok(at(
                    last + 1,
                    format!(
                        "the log ends at position {last}, before the witness head's position {}",
                        witness.position
                    ),
                ));
            }
            if witness.position == 0 && !ChainDigest::is_genesis(&witness.hash) {
                return Ok(at(
                    1,
                    "a witness head at position 0 has the genesis hash".to_owned(),
                ));
            }
            report.extends = Some(witness.clone());
        }
        let index = self.index(storage, bound)?;
        if index.count != last || index.sum != self.log_sum {
            return Ok(at(
                last,
                format!(
                    "the stream index ({} entries up to position {last}) does not match the \
                     log ({last} events): rebuild the projections (`workflow rebuild`) after \
                     finding out why",
                    index.count
                ),
            ));
        }
        let past_command = commands_past(storage, bound)?;
        // The end: read the recorded head last, so that it covers every group committed
        // while the walk ran; the log must hold it.
        let recorded = storage.recorded_head()?;
        report.recorded_head = recorded.clone();
        match recorded {
            // A store written before heads were recorded, not yet upgraded.
            None => Ok(Ok(())),
            Some(head) => {
                recorded_head_holds(storage, &head, report, index.past_bound, past_command)
            }
        }
    }

    /// The stream index's entries up to `bound`, fingerprinted as the walk fingerprinted
    /// the log, and the last position of those past it (groups committed meanwhile).
    fn index(&self, storage: &dyn Storage, bound: u64) -> Result<IndexSeen> {
        let mut seen = IndexSeen::default();
        let mut after = None;
        loop {
            let page = storage.stream_index_after(after, CHUNK)?;
            let Some(&(s, v, _)) = page.last() else { break };
            after = Some((s, v));
            for (stream, version, position) in page {
                if position > bound {
                    seen.past_bound = seen.past_bound.max(position);
                    continue;
                }
                seen.sum = seen
                    .sum
                    .wrapping_add(self.fingerprint.of(stream, version, position));
                seen.count += 1;
            }
        }
        Ok(seen)
    }
}

/// What the stream index holds, against the walk.
#[derive(Default)]
struct IndexSeen {
    sum: u128,
    count: u64,
    past_bound: u64,
}

/// The command record (a projection) naming the last position past `bound`, if any: it
/// must not pass the recorded head either.
fn commands_past(storage: &dyn Storage, bound: u64) -> Result<Option<(String, u64)>> {
    let mut after: Option<String> = None;
    let mut past: Option<(String, u64)> = None;
    loop {
        let page = storage.commands_after(after.as_deref(), CHUNK)?;
        let Some((id, _)) = page.last() else { break };
        after = Some(id.clone());
        for (id, rec) in page {
            if rec.last_position > bound
                && past.as_ref().is_none_or(|(_, p)| rec.last_position > *p)
            {
                past = Some((id, rec.last_position));
            }
        }
    }
    Ok(past)
}

/// The log holds the head recorded with the last commit, and neither the stream index nor
/// a command record goes past it.
fn recorded_head_holds(
    storage: &dyn Storage,
    head: &LogHead,
    report: &VerifyReport,
    index_past: u64,
    past_command: Option<(String, u64)>,
) -> Result<Checked> {
    let last = report.checked;
    if head.position < last {
        return Ok(at(
            head.position + 1,
            format!(
                "the log goes on past the head recorded with the last commit (position {}): \
                 events were appended outside the engine",
                head.position
            ),
        ));
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
            return Ok(at(
                last + 1,
                format!(
                    "the log ends before position {}, the head recorded with the last commit \
                     (hash {}): the log was cut short",
                    head.position, head.hash
                ),
            ));
        }
        Some(h) if h != head.hash => {
            return Ok(at(
                head.position,
                format!(
                    "the event at the recorded head's position hashes to {h}, not to the {} \
                     recorded with the last commit",
                    head.hash
                ),
            ));
        }
        Some(_) => {}
    }
    if index_past > head.position {
        return Ok(at(
            head.position + 1,
            format!(
                "the stream index has an entry at position {index_past}, past the end of the \
                 log (position {}): the log was cut short",
                head.position
            ),
        ));
    }
    if let Some((id, p)) = past_command
        && p > head.position
    {
        return Ok(at(
            head.position + 1,
            format!(
                "command {id} is recorded as written up to position {p}, past the end of the \
                 log (position {}): the log was cut short",
                head.position
            ),
        ));
    }
    Ok(Ok(()))
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
        // The first event's genesis names the log's digest (SHA-256 or SM3).
        let genesis = key == 1 && ChainDigest::is_genesis(prev_hash);
        if prev_hash != prev && !genesis {
            return Err(format!(
                "prev_hash {prev_hash} does not match the hash {prev} of the event before"
            ));
        }
        Ok(())
    };
    let published = |data: &FlowEvent| match data {
        FlowEvent::Bulletin(workflow_core::supervision::PublicationEvent::BulletinPublished {
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
    let printed = |stream: DocumentId, version: u64, data: &FlowEvent| match data {
        FlowEvent::Outgoing(workflow_core::outgoing::EventData::Issued {
            number,
            printed: Some(file),
            ..
        }) => Some(PrintedAt {
            position: key,
            document: stream,
            version,
            number: number.to_string(),
            file: file.clone(),
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
        && stored_bytes_hash_to(bytes, &env.hash, ChainDigest::of(&env.prev_hash))
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
            printed: printed(env.stream_id, env.version, &env.data),
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
        printed: printed(env.stream_id, env.version, &event.data),
    })
}
