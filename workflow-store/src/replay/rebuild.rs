//! Rebuilding every projection from the log.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use workflow_core::{
    DocumentId, Flow, FlowEvent, Recorded, UnitCode, directory::DIRECTORY_STREAM,
    directory::DirectoryEvent, directory::DirectoryState, directory::DirectoryStream,
    numbering::Series,
};

use crate::envelope::{Envelope, StoredEnvelope};
use crate::error::{Error, Result};
use crate::projection::PROJECTION_VERSION;
use crate::projection::{DocRecord, index_diff};
use crate::storage::{CommandRecord, DocChange, Group, PartsStored, RebuildMode, Storage};

/// Events read from the log at a time.
pub(crate) const CHUNK: usize = 4096;

/// A stream being folded by a rebuild.
struct Folding {
    /// What the projection holds for it now (from an earlier spill), if anything.
    written: Option<DocRecord>,
    record: DocRecord,
}

/// What a rebuild carries from one chunk of the log to the next.
struct Replay {
    folding: HashMap<DocumentId, Folding>,
    spilled: HashSet<DocumentId>,
    numbers: HashMap<Series, HashMap<u32, DocumentId>>,
    pending_numbers: Vec<(Series, u32, DocumentId)>,
    resident: usize,
}

/// Replays the whole log into the projections, through each stream's flow, folding up to
/// `resident` streams in memory: each is written once per spill, so a log whose streams fit
/// is written once per stream rather than once per event.
///
/// In place ([`RebuildMode::InPlace`]): an entry that already holds what the replay produces
/// is only read, others are written, and entries the replay did not produce are removed at
/// the end; so a rebuild of intact projections only reads. Not atomic: the backend marks the
/// rebuild durably first, and the next open finishes a rebuild that a crash interrupted.
pub(crate) fn rebuild(
    storage: &dyn Storage,
    resident: usize,
    mode: RebuildMode,
    mut progress: Box<dyn FnMut(u64, u64) + Send>,
) -> Result<u64> {
    storage.begin_rebuild(mode)?;
    // The directory as of each position, from the log alone: what a store kept outside the
    // log before the directory stream existed is recorded as its first event and taken as
    // in force from the start.
    let mut directory = initial_directory(storage)?;
    let total = storage.log_end()?.map_or(0, |e| e.position);
    let mut replay = Replay {
        folding: HashMap::new(),
        spilled: HashSet::new(),
        numbers: HashMap::new(),
        pending_numbers: Vec::new(),
        resident,
    };
    let mut changed = 0u64;
    let mut next = 1u64;
    // A command's events are contiguous, so only the last command of a chunk can continue
    // into the next one: carried here instead of looking every command up in storage.
    let mut carried: Option<(String, CommandRecord)> = None;
    progress(0, total);
    loop {
        let chunk = storage.read_log(next, CHUNK)?;
        if chunk.is_empty() {
            break;
        }
        let mut commands: HashMap<String, CommandRecord> = carried.take().into_iter().collect();
        let mut last_command = String::new();
        for stored in &chunk {
            if stored.position != next {
                return Err(Error::corrupt(
                    format_args!("position {next}"),
                    "missing from the log",
                ));
            }
            next += 1;
            let (position, id, command_id, event) = read_event(stored.position, &stored.bytes)?;
            if let Some(d) = event.data.directory() {
                // The streams folded so far are indexed with the directory they were
                // decided under, as the writer indexed them.
                if matches!(
                    d,
                    DirectoryEvent::UnitPut { .. } | DirectoryEvent::Imported { .. }
                ) {
                    changed += storage.converge(replay.spill(&is_unit_of(&directory)))?;
                }
                DirectoryStream::apply(&mut directory, &event.actor, event.at, d);
            }
            let version = replay.fold(storage, position, id, &event)?;
            if replay.folding.len() > replay.resident {
                changed += storage.converge(replay.spill(&is_unit_of(&directory)))?;
            }
            last_command.clear();
            last_command.push_str(&command_id);
            extend_command(
                &mut commands,
                command_id.into_owned(),
                id,
                position,
                version,
            );
        }
        carried = commands.remove_entry(&last_command);
        changed += storage.converge(Group {
            commands: commands.into_iter().collect(),
            ..Group::default()
        })?;
        progress(next - 1, total);
    }
    let mut group = replay.spill(&is_unit_of(&directory));
    group.commands = carried.into_iter().collect();
    changed += storage.converge(group)?;
    changed += storage.end_rebuild(PROJECTION_VERSION)?;
    tracing::info!(
        events = next - 1,
        changed,
        "rebuild: projection entries written or removed"
    );
    Ok(next - 1)
}

/// Adds an event to its command's record: the one its command id has, if the event follows
/// it in the same stream (a command's events are contiguous), or a new one.
fn extend_command(
    commands: &mut HashMap<String, CommandRecord>,
    command_id: String,
    id: DocumentId,
    position: u64,
    version: u64,
) {
    let rec = match commands.remove(&command_id) {
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
    commands.insert(command_id, rec);
}

/// Which recipient names are units of `directory`.
fn is_unit_of(directory: &DirectoryState) -> impl Fn(&str) -> bool + '_ {
    |s: &str| directory.units.contains_key(&UnitCode::from(s))
}

/// The directory in force at the start of the log: empty, unless the store was written
/// before the directory was in the log. Then the directory it kept beside the log is in
/// force from the start: as recorded by the directory stream's first event (an import), or,
/// before that import is written (a rebuild while opening such a store), as kept beside it.
fn initial_directory(storage: &dyn Storage) -> Result<DirectoryState> {
    let mut state = DirectoryState::default();
    match storage.read_stream(DIRECTORY_STREAM, 1)?.first() {
        Some(first) => {
            let (_, _, _, event) = read_event(first.position, &first.bytes)?;
            if let Some(d @ DirectoryEvent::Imported { .. }) = event.data.directory() {
                DirectoryStream::apply(&mut state, &event.actor, event.at, d);
            }
        }
        None => {
            let (units, actors) = storage.legacy_units_and_actors()?;
            state.units = units.into_iter().map(|u| (u.code.clone(), u)).collect();
            state.actors = actors.into_iter().map(|a| (a.id.clone(), a)).collect();
        }
    }
    Ok(state)
}

impl Replay {
    /// Folds one event into its stream (read back from an earlier spill if it left memory)
    /// and notes the number it claims; returns the stream's version after it.
    fn fold(
        &mut self,
        storage: &dyn Storage,
        position: u64,
        id: DocumentId,
        event: &Recorded<FlowEvent>,
    ) -> Result<u64> {
        if let Some((series, n)) = event.data.number_claim() {
            let holders = self.numbers.entry(series.clone()).or_default();
            if let Some(held) = holders.insert(n, id)
                && held != id
            {
                return Err(Error::corrupt(
                    format_args!("position {position}"),
                    format!("number {n} already held by document {held}"),
                ));
            }
            self.pending_numbers.push((series, n, id));
        }
        match self.folding.entry(id) {
            Entry::Occupied(mut slot) => {
                let r = &mut slot.get_mut().record;
                r.apply(event);
                Ok(r.state.version())
            }
            Entry::Vacant(slot) => {
                let written = if self.spilled.contains(&id) {
                    storage.doc(id)?
                } else {
                    None
                };
                let record = match &written {
                    Some(r) => {
                        let mut r = r.clone();
                        r.apply(event);
                        r
                    }
                    None => DocRecord::create(position, event).ok_or_else(|| {
                        Error::corrupt(
                            format_args!("position {position}"),
                            "a stream does not start with an event that creates it",
                        )
                    })?,
                };
                let version = record.state.version();
                slot.insert(Folding { written, record });
                Ok(version)
            }
        }
    }

    /// Moves every folded stream, its index changes and the pending numbers into a group.
    fn spill(&mut self, is_unit: &dyn Fn(&str) -> bool) -> Group {
        let mut group = Group::default();
        for (id, f) in self.folding.drain() {
            let diff = index_diff(f.written.as_ref(), &f.record, is_unit);
            group.docs.push(DocChange {
                record: f.record,
                diff,
                // Compared with what is stored, part by part.
                stored: PartsStored::default(),
            });
            self.spilled.insert(id);
        }
        group.numbers.append(&mut self.pending_numbers);
        group
    }
}

/// One stored event for replay: position, stream, command id and the decoded event. Read in
/// one pass; anything the fast reader refuses is read the owned way, which names the fault.
fn read_event(
    key: u64,
    bytes: &[u8],
) -> Result<(u64, DocumentId, Cow<'_, str>, Recorded<FlowEvent>)> {
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
