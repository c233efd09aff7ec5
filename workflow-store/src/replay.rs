//! Rebuilding projections from the log, and verifying the hash chain.

use std::collections::HashMap;

use workflow_core::{Document, DocumentId, UnitCode};

use crate::engine::{DirectoryCache, series_of};
use crate::envelope::{Envelope, GENESIS_HASH, StoredEnvelope, stored_bytes_hash_to};
use crate::error::{Error, Result};
use crate::projection::{DocRecord, index_diff};
use crate::storage::{CommandRecord, DocChange, Group, Storage};

/// Events replayed per non-durable commit during a rebuild.
const CHUNK: usize = 4096;

/// Drops the projections and replays the whole log into them.
pub(crate) fn rebuild(
    storage: &dyn Storage,
    directory: &DirectoryCache,
    mut progress: Box<dyn FnMut(u64, u64) + Send>,
) -> Result<u64> {
    storage.clear_projections()?;
    let total = storage.last()?.map_or(0, |e| e.position);
    let is_unit = |s: &str| directory.units.contains_key(&UnitCode::from(s));
    let mut next = 1u64;
    // A command's events are contiguous, so only the last command of a chunk can continue
    // into the next one: carried here instead of looking every command up in storage.
    let mut carried: Option<(String, CommandRecord)> = None;
    progress(0, total);
    loop {
        let chunk = storage.log_from(next, CHUNK)?;
        if chunk.is_empty() {
            break;
        }
        let mut before: HashMap<DocumentId, Option<DocRecord>> = HashMap::new();
        let mut after: HashMap<DocumentId, DocRecord> = HashMap::new();
        let mut commands: HashMap<String, CommandRecord> = carried.take().into_iter().collect();
        let mut last_command = String::new();
        let mut group = Group::default();
        for env in &chunk {
            if env.position != next {
                return Err(Error::corrupt(
                    format_args!("position {next}"),
                    "missing from the log",
                ));
            }
            next += 1;
            let event = env
                .event()
                .map_err(|e| Error::corrupt(format_args!("position {}", env.position), e))?;
            let id = env.stream_id;
            if let std::collections::hash_map::Entry::Vacant(slot) = before.entry(id) {
                let stored = storage.doc(id)?;
                if let Some(r) = &stored {
                    after.insert(id, r.clone());
                }
                slot.insert(stored);
            }
            match after.get_mut(&id) {
                Some(r) => r.document.apply(&event),
                None => {
                    let document = Document::created_by(&event).ok_or_else(|| {
                        Error::corrupt(
                            format_args!("position {}", env.position),
                            "stream does not start with Drafted",
                        )
                    })?;
                    after.insert(
                        id,
                        DocRecord {
                            drafted_position: env.position,
                            document,
                        },
                    );
                }
            }
            let version = after.get(&id).map_or(0, |r| r.document.version());
            if let Some((series, n)) = series_of(&event.data) {
                group.numbers.push((series, n, id));
            }
            let rec = match commands.get(&env.command_id).cloned() {
                Some(mut r) if r.document_id == id && r.last_position + 1 == env.position => {
                    r.last_position = env.position;
                    r.version = version;
                    r
                }
                _ => CommandRecord {
                    document_id: id,
                    first_position: env.position,
                    last_position: env.position,
                    version,
                },
            };
            commands.insert(env.command_id.clone(), rec);
            last_command.clone_from(&env.command_id);
        }
        carried = commands
            .get(&last_command)
            .map(|r| (last_command.clone(), r.clone()));
        let mut touched: Vec<(DocumentId, DocRecord)> = after.into_iter().collect();
        touched.sort_by_key(|(id, _)| *id);
        for (id, record) in touched {
            let diff = index_diff(before.get(&id).and_then(Option::as_ref), &record, &is_unit);
            group.docs.push(DocChange { record, diff });
        }
        group.commands = commands.into_iter().collect();
        storage.commit(&group, false)?;
        progress(next - 1, total);
    }
    storage.flush()?;
    Ok(next - 1)
}

/// The result of walking the hash chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Events checked and found intact (all of them when `first_break` is `None`).
    pub checked: u64,
    /// The hash of the last intact event (the chain's head when intact).
    pub head_hash: String,
    /// The first position where the chain breaks, and what differs there.
    pub first_break: Option<ChainBreak>,
}

impl VerifyReport {
    /// Whether the whole log is intact.
    pub fn is_intact(&self) -> bool {
        self.first_break.is_none()
    }
}

/// Where and how the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    /// The first broken position.
    pub position: u64,
    /// What differs, e.g. `hash mismatch: stored …, computed …`.
    pub reason: String,
}

/// Walks the log from position 1, recomputing every hash and checking positions, links,
/// stream versions and payloads.
pub(crate) fn verify(
    storage: &dyn Storage,
    mut progress: impl FnMut(u64, u64),
) -> Result<VerifyReport> {
    let total = storage.last().ok().flatten().map_or(0, |e| e.position);
    let mut expected = 1u64;
    let mut prev = GENESIS_HASH.to_owned();
    let mut versions: HashMap<DocumentId, u64> = HashMap::new();
    loop {
        let chunk = storage.raw_log_from(expected, CHUNK)?;
        if chunk.is_empty() {
            break;
        }
        for (key, bytes) in chunk {
            let outcome = if key != expected {
                Err(format!(
                    "position {expected} is missing (next stored is {key})"
                ))
            } else {
                check_stored(key, &bytes, &prev, &mut versions)
            };
            match outcome {
                Ok(hash) => prev = hash,
                Err(reason) => {
                    return Ok(VerifyReport {
                        checked: expected - 1,
                        head_hash: prev,
                        first_break: Some(ChainBreak {
                            position: expected,
                            reason,
                        }),
                    });
                }
            }
            expected += 1;
        }
        progress(expected - 1, total);
    }
    Ok(VerifyReport {
        checked: expected - 1,
        head_hash: prev,
        first_break: None,
    })
}

/// Checks the event stored at `key` against the hash before it and its stream's last
/// version; its hash, or why it breaks the chain. Events as this crate writes them are read
/// in one pass and hashed over their stored bytes; anything else takes the owned, canonical
/// route, which also names what exactly is wrong.
fn check_stored(
    key: u64,
    bytes: &[u8],
    prev: &str,
    versions: &mut HashMap<DocumentId, u64>,
) -> std::result::Result<String, String> {
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
    let mut follows = |stream: DocumentId, version: u64| {
        let v = versions.entry(stream).or_insert(0);
        if version != *v + 1 {
            return Err(format!(
                "stream {stream} jumps from version {v} to {version}"
            ));
        }
        *v = version;
        Ok(())
    };
    if let Ok(env) = StoredEnvelope::parse(bytes)
        && stored_bytes_hash_to(bytes, &env.hash)
    {
        link(env.position, &env.prev_hash)?;
        follows(env.stream_id, env.version)?;
        return Ok(env.hash.into_owned());
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
    follows(env.stream_id, env.version)?;
    env.event()
        .map_err(|e| format!("payload does not decode: {e}"))?;
    Ok(env.hash)
}
