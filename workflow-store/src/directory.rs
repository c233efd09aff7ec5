//! The engine's in-memory copy of the directory of units and actors (small; every decision
//! and every rebuild consults it).

use std::collections::HashMap;

use workflow_core::{Actor, ActorId, Unit, UnitCode};

/// The in-memory copy of the directory (small; every decision consults it).
#[derive(Debug, Default)]
pub(crate) struct DirectoryCache {
    pub(crate) actors: HashMap<ActorId, Actor>,
    pub(crate) units: HashMap<UnitCode, Unit>,
}

impl DirectoryCache {
    /// The actors of a unit.
    pub(crate) fn actors_of(&self, unit: &UnitCode) -> Vec<Actor> {
        self.actors
            .values()
            .filter(|a| a.unit == *unit)
            .cloned()
            .collect()
    }
}
