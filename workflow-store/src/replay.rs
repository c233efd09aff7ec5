//! Rebuilding projections from the log.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use workflow_core::{Document, DocumentId, Event, UnitCode};

use crate::engine::DirectoryCache;
use crate::envelope::{Envelope, StoredEnvelope};
use crate::error::{Error, Result};
use crate::projection::{DocRecord, index_diff};
use crate::storage::{CommandRecord, DocChange, Group, Storage};
use workflow_core::Series;

/// Events read from the log at a time.
pub(crate) const CHUNK: usize = 4096;

/// A document being folded by a rebuild.
struct Folding {
    /// What the projection holds for it now (from an earlier spill), if anything.
    written: Option<DocRecord>,
    record: DocRecord,
}

/// Replays the whole log into the projections (dropping them first when `from_scratch`),
/// folding up to `resident` documents in memory: each is written once per spill, so a log
/// whose documents fit is written once per document rather than once per event.
///
/// In place: an entry that already holds what the replay produces is left alone, others are
/// written, and entries the replay did not produce are swept at the end. So a rebuild of
/// intact projections only reads, and one after a change writes only what changed. Not
/// atomic: the writes go to sled without a transaction and are flushed once at the end; a
/// durable mark makes the next open finish a rebuild that a crash interrupted.
pub(crate) fn rebuild(
    storage: &dyn Storage,
    directory: &DirectoryCache,
    resident: usize,
    from_scratch: bool,
    mut progress: Box<dyn FnMut(u64, u64) + Send>,
) -> Result<u64> {
    // Marked first, so that an interrupted rebuild is finished when the engine next opens
    // instead of leaving half-written projections to be served.
    storage.set_rebuilding(true)?;
    if from_scratch {
        storage.sweep_projections(&|_, _| false)?;
    }
    let mut expected = Expected::default();
    let mut changed = 0u64;
    let total = storage.last()?.map_or(0, |e| e.position);
    let is_unit = |s: &str| directory.units.contains_key(&UnitCode::from(s));
    let mut next = 1u64;
    let mut folding: HashMap<DocumentId, Folding> = HashMap::new();
    let mut spilled: HashSet<DocumentId> = HashSet::new();
    let mut numbers: HashMap<Series, HashMap<u32, DocumentId>> = HashMap::new();
    let mut pending_numbers: Vec<(Series, u32, DocumentId)> = Vec::new();
    // A command's events are contiguous, so only the last command of a chunk can continue
    // into the next one: carried here instead of looking every command up in storage.
    let mut carried: Option<(String, CommandRecord)> = None;
    progress(0, total);
    loop {
        let chunk = storage.raw_log_from(next, CHUNK)?;
        if chunk.is_empty() {
            break;
        }
        let mut commands: HashMap<String, CommandRecord> = carried.take().into_iter().collect();
        let mut last_command = String::new();
        for (key, bytes) in &chunk {
            if *key != next {
                return Err(Error::corrupt(
                    format_args!("position {next}"),
                    "missing from the log",
                ));
            }
            next += 1;
            let (position, id, command_id, event) = read_event(*key, bytes)?;
            if let Some((series, n)) = event.data.number_claim() {
                let holders = numbers.entry(series.clone()).or_default();
                if let Some(held) = holders.insert(n, id)
                    && held != id
                {
                    return Err(Error::corrupt(
                        format_args!("position {position}"),
                        format!("number {n} already held by document {held}"),
                    ));
                }
                pending_numbers.push((series, n, id));
            }
            let version = match folding.entry(id) {
                Entry::Occupied(mut slot) => {
                    let r = &mut slot.get_mut().record;
                    r.document.apply(&event);
                    r.document.version()
                }
                Entry::Vacant(slot) => {
                    let written = if spilled.contains(&id) {
                        storage.doc(id)?
                    } else {
                        None
                    };
                    let record = match &written {
                        Some(r) => {
                            let mut r = r.clone();
                            r.document.apply(&event);
                            r
                        }
                        None => DocRecord {
                            drafted_position: position,
                            document: Document::created_by(&event).ok_or_else(|| {
                                Error::corrupt(
                                    format_args!("position {position}"),
                                    "stream does not start with Drafted",
                                )
                            })?,
                        },
                    };
                    let version = record.document.version();
                    slot.insert(Folding { written, record });
                    version
                }
            };
            if folding.len() > resident {
                let mut docs = Group::default();
                spill(
                    &mut folding,
                    &mut spilled,
                    &mut pending_numbers,
                    &mut docs,
                    &mut expected,
                    &is_unit,
                );
                changed += storage.converge(docs)?;
            }
            let rec = match commands.remove(command_id.as_ref()) {
                Some(mut r) if r.document_id == id && r.last_position + 1 == position => {
                    r.last_position = position;
                    r.version = version;
                    r
                }
                _ => CommandRecord {
                    document_id: id,
                    first_position: position,
                    last_position: position,
                    version,
                },
            };
            last_command.clear();
            last_command.push_str(&command_id);
            commands.insert(command_id.into_owned(), rec);
        }
        carried = commands.remove_entry(&last_command);
        for id in commands.keys() {
            expected.add("commands", id.as_bytes());
        }
        changed += storage.converge(Group {
            commands: commands.into_iter().collect(),
            ..Group::default()
        })?;
        progress(next - 1, total);
    }
    if let Some((id, _)) = &carried {
        expected.add("commands", id.as_bytes());
    }
    let mut group = Group {
        commands: carried.into_iter().collect(),
        ..Group::default()
    };
    spill(
        &mut folding,
        &mut spilled,
        &mut pending_numbers,
        &mut group,
        &mut expected,
        &is_unit,
    );
    changed += storage.converge(group)?;
    changed += storage.sweep_projections(&|tree, key| expected.contains(tree, key))?;
    storage.flush()?;
    storage.set_projection_version(crate::engine::PROJECTION_VERSION)?;
    storage.set_rebuilding(false)?;
    tracing::info!(
        events = next - 1,
        changed,
        "rebuild: projection entries written or removed"
    );
    Ok(next - 1)
}

/// Moves every folded document, its index changes and the pending numbers into `group`.
fn spill(
    folding: &mut HashMap<DocumentId, Folding>,
    spilled: &mut HashSet<DocumentId>,
    pending_numbers: &mut Vec<(Series, u32, DocumentId)>,
    group: &mut Group,
    expected: &mut Expected,
    is_unit: &dyn Fn(&str) -> bool,
) {
    for (id, f) in folding.drain() {
        let diff = index_diff(f.written.as_ref(), &f.record, is_unit);
        expected.add("docs", id.0.as_bytes());
        for k in &diff.lists_add {
            expected.add("lists", k);
        }
        for k in &diff.inbox_add {
            expected.add("inbox", k);
        }
        group.docs.push(DocChange {
            record: f.record,
            diff,
        });
        spilled.insert(id);
    }
    for (series, n, _) in pending_numbers.iter() {
        expected.add("numbers", &crate::storage::series_key(series, *n));
    }
    group.numbers.append(pending_numbers);
}

/// Fingerprints of every projection entry a rebuild produced, so that the entries it did not
/// produce can be swept afterwards. 128-bit keyed hashes: 16 bytes per entry instead of the
/// key, and a stale entry survives only if its fingerprint collides with a produced one
/// (odds around 2^-100 even for billions of entries).
#[derive(Default)]
struct Expected {
    keys: HashSet<u128>,
    hashers: (std::hash::RandomState, std::hash::RandomState),
}

impl Expected {
    fn fingerprint(&self, tree: &str, key: &[u8]) -> u128 {
        use std::hash::{BuildHasher, Hash, Hasher};
        let half = |b: &std::hash::RandomState| {
            let mut h = b.build_hasher();
            tree.hash(&mut h);
            key.hash(&mut h);
            h.finish()
        };
        (u128::from(half(&self.hashers.0)) << 64) | u128::from(half(&self.hashers.1))
    }

    fn add(&mut self, tree: &str, key: &[u8]) {
        let f = self.fingerprint(tree, key);
        self.keys.insert(f);
    }

    fn contains(&self, tree: &str, key: &[u8]) -> bool {
        self.keys.contains(&self.fingerprint(tree, key))
    }
}

/// One stored event for replay: position, stream, command id and the decoded event. Read in
/// one pass; anything the fast reader refuses is read the owned way, which names the fault.
fn read_event(key: u64, bytes: &[u8]) -> Result<(u64, DocumentId, Cow<'_, str>, Event)> {
    if let Ok(env) = StoredEnvelope::parse(bytes) {
        let (position, id) = (env.position, env.stream_id);
        let command_id = env.command_id.clone();
        return Ok((position, id, command_id, env.event()));
    }
    let env: Envelope = serde_json::from_slice(bytes)
        .map_err(|e| Error::corrupt(format_args!("position {key}"), e))?;
    let event = env
        .event()
        .map_err(|e| Error::corrupt(format_args!("position {key}"), e))?;
    Ok((
        env.position,
        env.stream_id,
        Cow::Owned(env.command_id),
        event,
    ))
}
