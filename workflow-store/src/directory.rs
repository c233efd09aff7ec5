//! The engine's in-memory copy of the directory of units and actors (small; every decision
//! and every rebuild consults it). It is derived from the directory stream in the log.

use std::collections::{HashMap, HashSet};

use workflow_core::{
    ActorId, UnitCode, directory::Actor, directory::DIRECTORY_STREAM, directory::DirectoryState,
    directory::Role, directory::Unit, todo::Assignee,
};

use crate::error::Result;
use crate::storage::Storage;

/// The in-memory copy of the directory (small; every decision consults it).
#[derive(Debug, Default, Clone)]
pub(crate) struct DirectoryCache {
    pub(crate) actors: HashMap<ActorId, Actor>,
    pub(crate) units: HashMap<UnitCode, Unit>,
    /// Deactivated actors (离职, 调岗): kept for their history, but they may not act.
    pub(crate) deactivated: HashSet<ActorId>,
}

impl DirectoryCache {
    /// The directory a directory stream's state describes.
    pub(crate) fn from_state(s: &DirectoryState) -> Self {
        DirectoryCache {
            actors: s
                .actors
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            units: s
                .units
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            deactivated: s.deactivated.keys().cloned().collect(),
        }
    }

    /// The directory as the log's directory stream leaves it (empty if there is none).
    pub(crate) fn load(storage: &dyn Storage) -> Result<Self> {
        Ok(storage
            .doc(DIRECTORY_STREAM)?
            .and_then(|r| r.state.directory().map(Self::from_state))
            .unwrap_or_default())
    }

    /// The active actors of a unit.
    pub(crate) fn actors_of(&self, unit: &UnitCode) -> Vec<Actor> {
        self.actors
            .values()
            .filter(|a| a.unit == *unit && !self.deactivated.contains(&a.id))
            .cloned()
            .collect()
    }

    /// The to-do keys whose tasks nobody can take any more because the actors they name were
    /// deactivated: each deactivated actor's own key, a unit's role that no active actor of
    /// the unit holds, and a general office's role that no active actor of an office holds.
    /// The office clerk's list shows them, for 转办.
    pub(crate) fn orphaned_keys(&self) -> Vec<Assignee> {
        let mut keys = Vec::new();
        for id in &self.deactivated {
            let Some(a) = self.actors.get(id) else {
                continue;
            };
            keys.push(Assignee::Actor(a.id.clone()));
            for role in &a.roles {
                let covered = self.actors_of(&a.unit).iter().any(|other| {
                    Assignee::UnitRole {
                        unit: a.unit.clone(),
                        role: *role,
                    }
                    .matches(other, self.in_office(other))
                });
                if !covered {
                    keys.push(Assignee::UnitRole {
                        unit: a.unit.clone(),
                        role: *role,
                    });
                }
                let office_covered = self
                    .actors
                    .values()
                    .filter(|o| !self.deactivated.contains(&o.id) && self.in_office(o))
                    .any(|o| Assignee::OfficeRole(*role).matches(o, true));
                if self.in_office(a) && !office_covered {
                    keys.push(Assignee::OfficeRole(*role));
                }
            }
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// Whether the actor's unit is a general office (办公室).
    pub(crate) fn in_office(&self, actor: &Actor) -> bool {
        self.units.get(&actor.unit).is_some_and(|u| u.office)
    }

    /// Whether `actor` is an office clerk (办公室文秘): a clerk of a unit marked `office`.
    pub(crate) fn is_office_clerk(&self, actor: &Actor) -> bool {
        actor.has_role(Role::Clerk)
            && !self.deactivated.contains(&actor.id)
            && self.units.get(&actor.unit).is_some_and(|u| u.office)
    }
}
