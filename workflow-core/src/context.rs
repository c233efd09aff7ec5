//! What a command needs to know beyond the document itself: the directory of actors and
//! units, and the next free numbers. The store implements it; [`Directory`] is the
//! in-memory implementation for tests, examples and single-document use.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use serde::Deserialize;

use crate::archive::RetentionSchedule;
use crate::content::{Digest, KeptFile};
use crate::directory::{Actor, Unit};
use crate::ids::{ActorId, UnitCode};
use crate::numbering::Series;

/// Why a [`Context`] could not answer (its storage failed). The decision is abandoned with
/// [`crate::Error::Context`]; the caller gets its own error back out of it.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ContextError(pub Box<dyn std::error::Error + Send + Sync>);

/// A copy keeps the message only (the original error stays with the caller that raised it).
impl Clone for ContextError {
    fn clone(&self) -> Self {
        ContextError(self.0.to_string().into())
    }
}

/// Two context errors are equal when they say the same.
impl PartialEq for ContextError {
    fn eq(&self, other: &Self) -> bool {
        self.0.to_string() == other.0.to_string()
    }
}

impl Eq for ContextError {}

/// Lookups and number allocation consulted while a command is decided.
///
/// Implementations must answer consistently within one decision; `next_number` must return
/// the number the next event claiming that series will take (the highest recorded plus
/// one), so numbering stays gapless.
pub trait Context {
    /// An actor of the directory.
    fn actor(&self, id: &ActorId) -> Option<Actor>;
    /// A unit of the directory.
    fn unit(&self, code: &UnitCode) -> Option<Unit>;
    /// The next number of a series (1 for the first).
    fn next_number(&self, series: &Series) -> Result<u32, ContextError>;
    /// The fixity digest (hex) of the document's stored event chain so far, recorded at
    /// archive; `None` where the caller keeps no hash chain (in-memory use).
    fn fixity_hash(&self) -> Result<Option<String>, ContextError>;
    /// The actors of a unit (to tell whether a department can countersign at all).
    fn actors_of(&self, unit: &UnitCode) -> Vec<Actor>;
    /// The retention schedule (保管期限表) the archive command proposes from.
    fn retention_schedule(&self) -> &RetentionSchedule;
    /// Whether the actor was deactivated (离职, 调岗): they may not act or be named.
    fn is_deactivated(&self, _id: &ActorId) -> bool {
        false
    }
    /// Whether this context prints issued 公文: a decision prepares and asks
    /// [`Context::print_issued`] only where it does, so a context that prints overrides
    /// both.
    fn prints(&self) -> bool {
        false
    }
    /// The issued 公文 of `issued` (a 发文 as it is once issued) laid out and kept, as an
    /// event names it (DESIGN §11); `None` where the context renders none (by default, and
    /// in a dry run).
    fn print_issued(
        &self,
        _issued: &crate::outgoing::Document,
    ) -> Result<Option<crate::content::FileRef>, ContextError> {
        Ok(None)
    }
    /// The file kept under `digest` if `by` uploaded it (DESIGN §10): a command may name a
    /// file only its actor uploaded, or one the document names already. `None` by default:
    /// a context that keeps no files knows of none.
    fn uploaded_file(
        &self,
        _digest: &Digest,
        _by: &ActorId,
    ) -> Result<Option<KeptFile>, ContextError> {
        Ok(None)
    }
}

/// An in-memory directory of units and actors with in-memory number counters.
///
/// Counters only move when [`Directory::record_numbers`] is told about applied events, so
/// a rejected command never consumes a number.
#[derive(Debug, Default)]
pub struct Directory {
    actors: BTreeMap<ActorId, Actor>,
    units: BTreeMap<UnitCode, Unit>,
    counters: Mutex<HashMap<Series, u32>>,
    /// Files "uploaded", by digest: their size, first bytes and uploaders.
    files: BTreeMap<Digest, (KeptFile, Vec<ActorId>)>,
    fonds: Option<String>,
    schedule: RetentionSchedule,
}

/// The JSON shape of `fixtures/campus.json` (the parts the directory reads).
#[derive(Debug, Deserialize)]
struct DirectoryFile {
    #[serde(default)]
    fonds: Option<String>,
    units: Vec<Unit>,
    actors: Vec<Actor>,
}

impl Directory {
    /// An empty directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads a directory from JSON with `units` and `actors` arrays (the fixture's form).
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        let file: DirectoryFile = serde_json::from_str(json)?;
        let mut d = Directory {
            fonds: file.fonds,
            ..Self::default()
        };
        for u in file.units {
            d.add_unit(u);
        }
        for a in file.actors {
            d.add_actor(a);
        }
        Ok(d)
    }

    /// Adds or replaces a unit.
    pub fn add_unit(&mut self, unit: Unit) {
        self.units.insert(unit.code.clone(), unit);
    }

    /// Adds or replaces an actor.
    pub fn add_actor(&mut self, actor: Actor) {
        self.actors.insert(actor.id.clone(), actor);
    }

    /// All actors, ordered by id.
    pub fn actors(&self) -> impl Iterator<Item = &Actor> {
        self.actors.values()
    }

    /// All units, ordered by code.
    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.units.values()
    }

    /// Keeps a file as if `by` had uploaded `bytes` (for tests and examples that name files in
    /// commands decided against this directory); answers it as an event names it, its media
    /// type from its signature (`application/octet-stream` when none is known).
    pub fn keep_file(&mut self, name: &str, bytes: &[u8], by: &ActorId) -> crate::content::FileRef {
        let digest = Digest::of(bytes);
        let head = bytes[..bytes.len().min(8)].to_vec();
        let media_type = crate::content::sniffed_kind(name, &head).map_or(
            "application/octet-stream",
            crate::content::FileKind::media_type,
        );
        let entry = self.files.entry(digest.clone()).or_insert_with(|| {
            (
                KeptFile {
                    size: bytes.len() as u64,
                    head,
                },
                Vec::new(),
            )
        });
        if !entry.1.contains(by) {
            entry.1.push(by.clone());
        }
        crate::content::FileRef {
            name: name.to_owned(),
            digest,
            size: bytes.len() as u64,
            media_type: media_type.to_owned(),
            pages: None,
        }
    }

    /// Uses `schedule` as the retention schedule (the default otherwise).
    pub fn set_retention_schedule(&mut self, schedule: RetentionSchedule) {
        self.schedule = schedule;
    }

    /// The fonds number (全宗号) named in the directory file, if any.
    pub fn fonds(&self) -> Option<&str> {
        self.fonds.as_deref()
    }

    /// Advances the number counters past the numbers that applied events claimed (each
    /// flow's events say which: `Flow::number_claim`).
    pub fn record_numbers(&self, claims: impl IntoIterator<Item = (Series, u32)>) {
        let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        for (series, n) in claims {
            let c = counters.entry(series).or_insert(0);
            *c = (*c).max(n);
        }
    }
}

impl Context for Directory {
    fn actor(&self, id: &ActorId) -> Option<Actor> {
        self.actors.get(id).cloned()
    }

    fn unit(&self, code: &UnitCode) -> Option<Unit> {
        self.units.get(code).cloned()
    }

    fn next_number(&self, series: &Series) -> Result<u32, ContextError> {
        let counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        Ok(counters.get(series).copied().unwrap_or(0) + 1)
    }

    fn fixity_hash(&self) -> Result<Option<String>, ContextError> {
        // No stored chain in memory: the store supplies the digest of the real log.
        Ok(None)
    }

    fn actors_of(&self, unit: &UnitCode) -> Vec<Actor> {
        self.actors
            .values()
            .filter(|a| a.unit == *unit)
            .cloned()
            .collect()
    }

    fn retention_schedule(&self) -> &RetentionSchedule {
        &self.schedule
    }

    fn uploaded_file(
        &self,
        digest: &Digest,
        by: &ActorId,
    ) -> Result<Option<KeptFile>, ContextError> {
        Ok(self
            .files
            .get(digest)
            .filter(|(_, uploaders)| uploaders.contains(by))
            .map(|(kept, _)| kept.clone()))
    }
}
