//! To-do (待办) keys: whom a document is waiting for — a named actor, a role of a unit, a
//! unit, a role. A to-do list is the union of an actor's keys. Shared by every flow.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::directory::{Actor, Role};
use crate::ids::{ActorId, UnitCode};

/// Who a document is waiting for: the key of a to-do (待办) entry.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Assignee {
    /// One named actor (the drafter, a reviewer).
    Actor(ActorId),
    /// Any actor of `unit` holding `role` (a countersigner, a signatory).
    UnitRole {
        /// The unit.
        unit: UnitCode,
        /// The role.
        role: Role,
    },
    /// Any actor of `unit` (a recipient that has to acknowledge).
    Unit(UnitCode),
    /// Any actor holding `role` (the office clerk, the archivist).
    Role(Role),
    /// Any actor of a general office (办公室) holding `role`: its director, who may 拟办 and
    /// decide the 收文 of any unit, and its registrars.
    OfficeRole(Role),
}

impl Assignee {
    /// Whether `actor` is (one of) the assignee(s); `in_office`: whether the actor's unit
    /// is a general office (which the directory's units say, not the actor).
    pub fn matches(&self, actor: &Actor, in_office: bool) -> bool {
        match self {
            Assignee::Actor(id) => *id == actor.id,
            Assignee::UnitRole { unit, role } => {
                actor.unit == *unit
                    && (actor.has_role(*role)
                        || (*role == Role::Signatory && actor.has_role(Role::PrincipalSignatory)))
            }
            Assignee::Unit(unit) => actor.unit == *unit,
            Assignee::Role(role) => actor.has_role(*role),
            Assignee::OfficeRole(role) => in_office && actor.has_role(*role),
        }
    }

    /// All the assignee keys an actor answers to; an inbox is the union of their entries.
    /// `in_office`: whether the actor's unit is a general office.
    pub fn keys_of(actor: &Actor, in_office: bool) -> Vec<Assignee> {
        let mut keys = vec![
            Assignee::Actor(actor.id.clone()),
            Assignee::Unit(actor.unit.clone()),
        ];
        for role in &actor.roles {
            keys.push(Assignee::Role(*role));
            if in_office {
                keys.push(Assignee::OfficeRole(*role));
            }
            keys.push(Assignee::UnitRole {
                unit: actor.unit.clone(),
                role: *role,
            });
            if *role == Role::PrincipalSignatory {
                keys.push(Assignee::UnitRole {
                    unit: actor.unit.clone(),
                    role: Role::Signatory,
                });
            }
        }
        keys.sort();
        keys.dedup();
        keys
    }
}

impl fmt::Display for Assignee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Assignee::Actor(a) => write!(f, "{a}"),
            Assignee::UnitRole { unit, role } => write!(f, "{role}@{unit}"),
            Assignee::Unit(u) => write!(f, "@{u}"),
            Assignee::Role(r) => write!(f, "{r}"),
            // `@@`: never a unit's code, so never another key's text.
            Assignee::OfficeRole(r) => write!(f, "{r}@@office"),
        }
    }
}
