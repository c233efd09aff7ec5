//! What a command needs to know beyond the document itself: the directory of actors and
//! units, and the next free numbers. The store implements it; [`Directory`] is the
//! in-memory implementation for tests, examples and single-document use.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use serde::Deserialize;

use crate::retention::RetentionSchedule;
use crate::types::{Actor, ActorId, Retention, Unit, UnitCode};

/// Read-only lookups and number allocation consulted while a command is decided.
///
/// Implementations must answer consistently within one decision; `next_*` must return the
/// number that the next `Issued`/`Archived` event for that series will take (the highest
/// recorded plus one), so numbering stays gapless.
pub trait Context {
    /// An actor of the directory.
    fn actor(&self, id: &ActorId) -> Option<Actor>;
    /// A unit of the directory.
    fn unit(&self, code: &UnitCode) -> Option<Unit>;
    /// The next 发文字号 sequence for `prefix` and `year` (1 for the first).
    fn next_document_seq(&self, prefix: &str, year: i32) -> u32;
    /// The next 件号 for `fonds`, `year` and `retention` (1 for the first).
    fn next_archive_item(&self, fonds: &str, year: i32, retention: Retention) -> u32;
    /// The fixity digest (hex) of the document's stored event chain so far, recorded at
    /// archive; `None` where the caller keeps no hash chain (in-memory use).
    fn fixity_hash(&self) -> Option<String>;
    /// The actors of a unit (to tell whether a department can countersign at all).
    fn actors_of(&self, unit: &UnitCode) -> Vec<Actor>;
    /// The retention schedule (保管期限表) the archive command proposes from.
    fn retention_schedule(&self) -> &RetentionSchedule;
}

/// An in-memory directory of units and actors with in-memory number counters.
///
/// Counters only move when [`Directory::record_numbers`] is told about applied events, so
/// a rejected command never consumes a number.
#[derive(Debug, Default)]
pub struct Directory {
    actors: BTreeMap<ActorId, Actor>,
    units: BTreeMap<UnitCode, Unit>,
    counters: Mutex<HashMap<String, u32>>,
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

    /// Uses `schedule` as the retention schedule (the default otherwise).
    pub fn set_retention_schedule(&mut self, schedule: RetentionSchedule) {
        self.schedule = schedule;
    }

    /// The fonds number (全宗号) named in the directory file, if any.
    pub fn fonds(&self) -> Option<&str> {
        self.fonds.as_deref()
    }

    /// Advances the number counters past the numbers that `events` assigned.
    pub fn record_numbers<'a>(&self, events: impl IntoIterator<Item = &'a crate::Event>) {
        let mut counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        for e in events {
            if let Some(key) = counter_key_of(&e.data) {
                let (k, n) = key;
                let c = counters.entry(k).or_insert(0);
                *c = (*c).max(n);
            }
        }
    }

    fn next(&self, key: String) -> u32 {
        let counters = self.counters.lock().unwrap_or_else(|p| p.into_inner());
        counters.get(&key).copied().unwrap_or(0) + 1
    }
}

/// The counter key and the number an event assigned, for events that assign numbers.
fn counter_key_of(data: &crate::EventData) -> Option<(String, u32)> {
    match data {
        crate::EventData::Issued { number, .. } => {
            Some((doc_key(&number.prefix, number.year), number.seq))
        }
        crate::EventData::Archived { reference, .. } => Some((
            item_key(&reference.fonds, reference.year, reference.retention),
            reference.item,
        )),
        _ => None,
    }
}

fn doc_key(prefix: &str, year: i32) -> String {
    format!("doc\u{1f}{prefix}\u{1f}{year}")
}

fn item_key(fonds: &str, year: i32, retention: Retention) -> String {
    format!("item\u{1f}{fonds}\u{1f}{year}\u{1f}{}", retention.code())
}

impl Context for Directory {
    fn actor(&self, id: &ActorId) -> Option<Actor> {
        self.actors.get(id).cloned()
    }

    fn unit(&self, code: &UnitCode) -> Option<Unit> {
        self.units.get(code).cloned()
    }

    fn next_document_seq(&self, prefix: &str, year: i32) -> u32 {
        self.next(doc_key(prefix, year))
    }

    fn next_archive_item(&self, fonds: &str, year: i32, retention: Retention) -> u32 {
        self.next(item_key(fonds, year, retention))
    }

    fn fixity_hash(&self) -> Option<String> {
        // No stored chain in memory: the store supplies the digest of the real log.
        None
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
}
