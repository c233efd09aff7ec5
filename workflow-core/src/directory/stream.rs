//! The directory stream (DESIGN §4): units, actors, their roles and clearances as events of
//! one stream in the same hash-chained log as the documents, each change with the system that
//! made it and the reason given. Who was granted what, and when, is evidence like any 公文
//! step; rebuild derives the directory from the log alone.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Actor, Classification, Unit};
use crate::context::Context;
use crate::error::Error;
use crate::flow::{Flow, FlowCommand, Listing, Particulars, Recorded, StreamKind};
use crate::ids::{ActorId, DocumentId, Timestamp, UnitCode};
use crate::todo::Assignee;

/// The id of the one directory stream.
pub const DIRECTORY_STREAM: DocumentId =
    DocumentId(Uuid::from_u128(0x0d1e_c700_0000_4000_8000_0000_0000_0001));

/// Longest reason, in characters.
const MAX_REASON: usize = 500;

/// When and why an actor was deactivated (离职, 调岗).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deactivation {
    /// When.
    pub at: Timestamp,
    /// Why, as given.
    pub reason: String,
}

/// The directory as its events left it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryState {
    /// How many events made it.
    pub version: u64,
    /// Units by code.
    pub units: BTreeMap<UnitCode, Unit>,
    /// Actors by id, deactivated ones included (their history stays readable).
    pub actors: BTreeMap<ActorId, Actor>,
    /// Actors who may no longer act or be named.
    #[serde(default)]
    pub deactivated: BTreeMap<ActorId, Deactivation>,
}

impl DirectoryState {
    /// Whether the actor exists and was not deactivated.
    pub fn is_active(&self, id: &ActorId) -> bool {
        self.actors.contains_key(id) && !self.deactivated.contains_key(id)
    }
}

/// A change to the directory, asked by a system (an admin system over gRPC, or the server
/// loading its directory file), with a reason that is recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DirectoryAction {
    /// Adds or replaces a unit.
    PutUnit {
        /// The unit as it is to be.
        unit: Unit,
        /// The system asking.
        system: String,
        /// Why.
        reason: String,
    },
    /// Adds or replaces an actor: unit, roles, clearance.
    PutActor {
        /// The actor as they are to be.
        actor: Actor,
        /// The system asking.
        system: String,
        /// Why (入职, 授权, 调岗…).
        reason: String,
    },
    /// Deactivates an actor (离职, 调岗): their history stays; they may no longer act or be
    /// named, and their open tasks go to the office clerk's list for 转办.
    DeactivateActor {
        /// Whom.
        actor: ActorId,
        /// The system asking.
        system: String,
        /// Why.
        reason: String,
    },
    /// Lets a deactivated actor act again.
    ReactivateActor {
        /// Whom.
        actor: ActorId,
        /// The system asking.
        system: String,
        /// Why.
        reason: String,
    },
    /// Adds or replaces many units and actors at once, atomically (a directory file).
    Load {
        /// Units.
        units: Vec<Unit>,
        /// Actors.
        actors: Vec<Actor>,
        /// The system asking.
        system: String,
        /// Why.
        reason: String,
    },
    /// Records the directory a store kept outside the log before the directory stream
    /// existed; it is taken to have been in force from the start of the log.
    Import {
        /// Units.
        units: Vec<Unit>,
        /// Actors.
        actors: Vec<Actor>,
        /// The system asking.
        system: String,
        /// Why.
        reason: String,
    },
}

impl DirectoryAction {
    /// The command's name.
    pub fn name(&self) -> &'static str {
        match self {
            DirectoryAction::PutUnit { .. } => "PutUnit",
            DirectoryAction::PutActor { .. } => "PutActor",
            DirectoryAction::DeactivateActor { .. } => "DeactivateActor",
            DirectoryAction::ReactivateActor { .. } => "ReactivateActor",
            DirectoryAction::Load { .. } => "LoadDirectory",
            DirectoryAction::Import { .. } => "ImportDirectory",
        }
    }

    fn provenance(&self) -> (&str, &str) {
        match self {
            DirectoryAction::PutUnit { system, reason, .. }
            | DirectoryAction::PutActor { system, reason, .. }
            | DirectoryAction::DeactivateActor { system, reason, .. }
            | DirectoryAction::ReactivateActor { system, reason, .. }
            | DirectoryAction::Load { system, reason, .. }
            | DirectoryAction::Import { system, reason, .. } => (system, reason),
        }
    }
}

/// What happened to the directory. Each event names the system and the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum DirectoryEvent {
    /// A unit was added or changed; `unit` is how it is now.
    UnitPut {
        /// The unit.
        unit: Unit,
        /// The system that made the change.
        system: String,
        /// Why.
        reason: String,
    },
    /// An actor was added or changed; `actor` is how they are now.
    ActorPut {
        /// The actor.
        actor: Actor,
        /// The system that made the change.
        system: String,
        /// Why.
        reason: String,
    },
    /// An actor was deactivated.
    ActorDeactivated {
        /// Whom.
        actor: ActorId,
        /// The system that made the change.
        system: String,
        /// Why.
        reason: String,
    },
    /// A deactivated actor may act again.
    ActorReactivated {
        /// Whom.
        actor: ActorId,
        /// The system that made the change.
        system: String,
        /// Why.
        reason: String,
    },
    /// The directory an earlier build kept outside the log, recorded when the store was
    /// upgraded; replay takes it as in force from the log's start.
    #[serde(rename = "DirectoryImported")]
    Imported {
        /// Units.
        units: Vec<Unit>,
        /// Actors.
        actors: Vec<Actor>,
        /// The system that made the change.
        system: String,
        /// Why.
        reason: String,
    },
}

impl DirectoryEvent {
    /// The system that made the change and the reason it gave.
    pub fn provenance(&self) -> (&str, &str) {
        match self {
            DirectoryEvent::UnitPut { system, reason, .. }
            | DirectoryEvent::ActorPut { system, reason, .. }
            | DirectoryEvent::ActorDeactivated { system, reason, .. }
            | DirectoryEvent::ActorReactivated { system, reason, .. }
            | DirectoryEvent::Imported { system, reason, .. } => (system, reason),
        }
    }

    /// Whether the event concerns `actor` (for an actor's directory history).
    pub fn concerns(&self, actor: &ActorId) -> bool {
        match self {
            DirectoryEvent::ActorPut { actor: a, .. } => a.id == *actor,
            DirectoryEvent::ActorDeactivated { actor: a, .. }
            | DirectoryEvent::ActorReactivated { actor: a, .. } => a == actor,
            DirectoryEvent::Imported { actors, .. } => actors.iter().any(|a| a.id == *actor),
            DirectoryEvent::UnitPut { .. } => false,
        }
    }
}

impl crate::codec::EventCodec for DirectoryEvent {
    /// The stable type name stored in the log.
    fn type_name(&self) -> &'static str {
        match self {
            DirectoryEvent::UnitPut { .. } => "UnitPut",
            DirectoryEvent::ActorPut { .. } => "ActorPut",
            DirectoryEvent::ActorDeactivated { .. } => "ActorDeactivated",
            DirectoryEvent::ActorReactivated { .. } => "ActorReactivated",
            DirectoryEvent::Imported { .. } => "DirectoryImported",
        }
    }

    /// The step in the office's words.
    fn step(&self) -> &'static str {
        match self {
            DirectoryEvent::UnitPut { .. } => "单位登记",
            DirectoryEvent::ActorPut { .. } => "人员授权",
            DirectoryEvent::ActorDeactivated { .. } => "人员停用",
            DirectoryEvent::ActorReactivated { .. } => "人员启用",
            DirectoryEvent::Imported { .. } => "名录导入",
        }
    }
}

/// What changed between two records of an actor, in words: for `workflow history --actor`.
pub fn describe_actor_change(before: Option<&Actor>, after: &Actor) -> String {
    let roles = |a: &Actor| {
        a.roles
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let Some(b) = before else {
        return format!(
            "registered {} ({}) in {}, roles [{}], clearance {} ({})",
            after.id,
            after.name,
            after.unit,
            roles(after),
            after.clearance,
            after.clearance.chinese()
        );
    };
    let mut parts = Vec::new();
    let granted: Vec<String> = after
        .roles
        .difference(&b.roles)
        .map(ToString::to_string)
        .collect();
    let revoked: Vec<String> = b
        .roles
        .difference(&after.roles)
        .map(ToString::to_string)
        .collect();
    if !granted.is_empty() {
        parts.push(format!("granted {}", granted.join(", ")));
    }
    if !revoked.is_empty() {
        parts.push(format!("revoked {}", revoked.join(", ")));
    }
    if b.clearance != after.clearance {
        parts.push(format!(
            "clearance {} ({}) → {} ({})",
            b.clearance,
            b.clearance.chinese(),
            after.clearance,
            after.clearance.chinese()
        ));
    }
    if b.unit != after.unit {
        parts.push(format!("unit {} → {}", b.unit, after.unit));
    }
    if b.name != after.name {
        parts.push(format!("name {} → {}", b.name, after.name));
    }
    if parts.is_empty() {
        "no change".to_owned()
    } else {
        parts.join("; ")
    }
}

/// The directory as a flow on the flow boundary.
#[derive(Debug, Clone, Copy)]
pub struct DirectoryStream;

fn check_text(field: &str, value: &str, max: usize) -> Result<(), Error> {
    if value.trim().is_empty() {
        return Err(Error::field(field, "is required"));
    }
    if value.chars().count() > max {
        return Err(Error::field(field, format!("at most {max} characters")));
    }
    Ok(())
}

fn check_code(field: &str, value: &str) -> Result<(), Error> {
    check_text(field, value, 64)?;
    if value.trim() != value || value.chars().any(char::is_whitespace) {
        return Err(Error::field(field, "must not contain spaces"));
    }
    Ok(())
}

fn check_unit(u: &Unit) -> Result<(), Error> {
    check_code("unit.code", &u.code.0)?;
    check_text("unit.name", &u.name, 100)?;
    check_text("unit.doc_prefix", &u.doc_prefix, 20)?;
    if let Some(name) = &u.issuing_name {
        check_text("unit.issuing_name", name, 40)?;
    }
    check_reach("unit.reach", &u.reach)
}

/// A channel name is a code (letters, digits, `-`, `_`); an address one line of at most 200
/// characters; at most 8 entries.
fn check_reach(field: &str, reach: &[super::Reach]) -> Result<(), Error> {
    let unit = field.starts_with("unit");
    if reach.len() > 8 {
        return Err(Error::field(field, "at most 8 channels"));
    }
    for r in reach {
        let name_ok = !r.channel.is_empty()
            && r.channel.len() <= 32
            && r.channel
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !name_ok {
            return Err(Error::field(
                field,
                format!(
                    "channel {:?} must be 1–32 letters, digits, - or _",
                    r.channel
                ),
            ));
        }
        if unit && !r.address.is_empty() {
            return Err(Error::field(
                field,
                format!(
                    "a unit's entry names its group's channel ({}) without an address",
                    r.channel
                ),
            ));
        }
        if !unit && r.address.is_empty() {
            return Err(Error::field(
                field,
                format!(
                    "the entry for {} needs the person's address on it",
                    r.channel
                ),
            ));
        }
        if r.address.chars().count() > 200
            || r.address.chars().any(char::is_control)
            || r.address.trim() != r.address
        {
            return Err(Error::field(
                field,
                format!(
                    "the address on {} must be one line of at most 200 characters",
                    r.channel
                ),
            ));
        }
    }
    Ok(())
}

fn check_actor(a: &Actor, units: &dyn Fn(&UnitCode) -> bool) -> Result<(), Error> {
    check_code("actor.id", &a.id.0)?;
    if a.id.0 == crate::ids::SYSTEM_ACTOR || a.id.0.starts_with("system:") {
        return Err(Error::field(
            "actor.id",
            format!("{} is reserved for systems and the engine itself", a.id),
        ));
    }
    check_code("actor.unit", &a.unit.0)?;
    if !units(&a.unit) {
        return Err(Error::field(
            "actor.unit",
            format!("unknown unit {} (put the unit first)", a.unit),
        ));
    }
    check_text("actor.name", &a.name, 100)?;
    check_reach("actor.reach", &a.reach)
}

impl DirectoryStream {
    fn decide_action(
        state: &DirectoryState,
        action: &DirectoryAction,
    ) -> Result<Vec<DirectoryEvent>, Error> {
        let (system, reason) = action.provenance();
        check_text("system", system, 100)?;
        check_text("reason", reason, MAX_REASON)?;
        let (system, reason) = (system.trim().to_owned(), reason.trim().to_owned());
        let unit_event = |unit: &Unit| DirectoryEvent::UnitPut {
            unit: unit.clone(),
            system: system.clone(),
            reason: reason.clone(),
        };
        let actor_event = |actor: &Actor| DirectoryEvent::ActorPut {
            actor: actor.clone(),
            system: system.clone(),
            reason: reason.clone(),
        };
        match action {
            DirectoryAction::PutUnit { unit, .. } => {
                check_unit(unit)?;
                Ok((state.units.get(&unit.code) != Some(unit))
                    .then(|| unit_event(unit))
                    .into_iter()
                    .collect())
            }
            DirectoryAction::PutActor { actor, .. } => {
                check_actor(actor, &|u| state.units.contains_key(u))?;
                Ok((state.actors.get(&actor.id) != Some(actor))
                    .then(|| actor_event(actor))
                    .into_iter()
                    .collect())
            }
            DirectoryAction::DeactivateActor { actor, .. } => {
                if !state.actors.contains_key(actor) {
                    return Err(Error::field("actor_id", format!("unknown actor {actor}")));
                }
                if let Some(d) = state.deactivated.get(actor) {
                    return Err(Error::NotNow {
                        command: "DeactivateActor",
                        reason: format!("actor {actor} was deactivated already ({})", d.reason),
                    });
                }
                Ok(vec![DirectoryEvent::ActorDeactivated {
                    actor: actor.clone(),
                    system,
                    reason,
                }])
            }
            DirectoryAction::ReactivateActor { actor, .. } => {
                if !state.actors.contains_key(actor) {
                    return Err(Error::field("actor_id", format!("unknown actor {actor}")));
                }
                if !state.deactivated.contains_key(actor) {
                    return Err(Error::NotNow {
                        command: "ReactivateActor",
                        reason: format!("actor {actor} is active"),
                    });
                }
                Ok(vec![DirectoryEvent::ActorReactivated {
                    actor: actor.clone(),
                    system,
                    reason,
                }])
            }
            DirectoryAction::Load { units, actors, .. } => {
                let mut events = Vec::new();
                let mut known: Vec<&UnitCode> = state.units.keys().collect();
                for (i, u) in units.iter().enumerate() {
                    check_unit(u).map_err(|e| indexed(e, "units", i))?;
                    known.push(&u.code);
                    if state.units.get(&u.code) != Some(u) {
                        events.push(unit_event(u));
                    }
                }
                for (i, a) in actors.iter().enumerate() {
                    check_actor(a, &|c| known.contains(&c)).map_err(|e| indexed(e, "actors", i))?;
                    if state.actors.get(&a.id) != Some(a) {
                        events.push(actor_event(a));
                    }
                }
                if units.is_empty() && actors.is_empty() {
                    return Err(Error::field("directory", "has no units and no actors"));
                }
                Ok(events)
            }
            DirectoryAction::Import { units, actors, .. } => {
                if state.version > 0 {
                    return Err(Error::NotNow {
                        command: "ImportDirectory",
                        reason: "the log has a directory stream already".into(),
                    });
                }
                Ok(vec![DirectoryEvent::Imported {
                    units: units.clone(),
                    actors: actors.clone(),
                    system,
                    reason,
                }])
            }
        }
    }
}

/// A field error of the `i`-th entry of a list.
fn indexed(e: Error, list: &str, i: usize) -> Error {
    match e {
        Error::InvalidField { field, reason } => Error::InvalidField {
            field: format!(
                "{list}[{i}].{}",
                field.split('.').next_back().unwrap_or(&field)
            ),
            reason,
        },
        other => other,
    }
}

impl Flow for DirectoryStream {
    const KIND: StreamKind = StreamKind::Directory;
    type State = DirectoryState;
    type Action = DirectoryAction;
    type Event = DirectoryEvent;

    fn command_name(action: &DirectoryAction) -> &'static str {
        action.name()
    }

    fn decide(
        state: Option<&DirectoryState>,
        command: &FlowCommand<DirectoryAction>,
        _ctx: &dyn Context,
    ) -> Result<Vec<Recorded<DirectoryEvent>>, Error> {
        if command.document_id != DIRECTORY_STREAM {
            return Err(Error::field(
                "document_id",
                format!(
                    "directory changes go to the directory stream {DIRECTORY_STREAM}, not {}",
                    command.document_id
                ),
            ));
        }
        let empty = DirectoryState::default();
        let events = Self::decide_action(state.unwrap_or(&empty), &command.action)?;
        Ok(events
            .into_iter()
            .map(|data| Recorded {
                actor: command.actor.clone(),
                at: command.at,
                data,
            })
            .collect())
    }

    fn create(actor: &ActorId, at: Timestamp, event: &DirectoryEvent) -> Option<DirectoryState> {
        let mut state = DirectoryState::default();
        Self::apply(&mut state, actor, at, event);
        Some(state)
    }

    fn apply(state: &mut DirectoryState, _actor: &ActorId, at: Timestamp, event: &DirectoryEvent) {
        state.version += 1;
        match event {
            DirectoryEvent::UnitPut { unit, .. } => {
                state.units.insert(unit.code.clone(), unit.clone());
            }
            DirectoryEvent::ActorPut { actor, .. } => {
                state.actors.insert(actor.id.clone(), actor.clone());
            }
            DirectoryEvent::ActorDeactivated { actor, reason, .. } => {
                state.deactivated.insert(
                    actor.clone(),
                    Deactivation {
                        at,
                        reason: reason.clone(),
                    },
                );
            }
            DirectoryEvent::ActorReactivated { actor, .. } => {
                state.deactivated.remove(actor);
            }
            DirectoryEvent::Imported { units, actors, .. } => {
                for u in units {
                    state.units.insert(u.code.clone(), u.clone());
                }
                for a in actors {
                    state.actors.insert(a.id.clone(), a.clone());
                }
            }
        }
    }

    fn id(_: &DirectoryState) -> DocumentId {
        DIRECTORY_STREAM
    }

    fn version(state: &DirectoryState) -> u64 {
        state.version
    }

    fn classification(_: &DirectoryState) -> Classification {
        Classification::None
    }

    fn assignees(_: &DirectoryState, _: &dyn Fn(&str) -> bool) -> Vec<Assignee> {
        Vec::new()
    }

    fn listing(_: &DirectoryState) -> Option<Listing> {
        None
    }

    fn title(_: &DirectoryState) -> &str {
        "名录 directory"
    }

    fn summary(event: &DirectoryEvent, _: &dyn crate::sheet::Names) -> String {
        event.provenance().1.to_owned()
    }

    fn particulars(_: &DirectoryState) -> Particulars<'_> {
        Particulars {
            state: "",
            state_label: "",
            kind: None,
            unit: None,
            from: None,
            urgency: None,
            number: None,
            deadline: None,
            updated_at: Timestamp::default(),
            archive: None,
            text: Vec::new(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests
mod tests {
    use super::*;
    use crate::directory::Role;

    fn unit(code: &str) -> Unit {
        Unit {
            reach: Vec::new(),
            code: code.into(),
            name: format!("{code}处"),
            doc_prefix: "X校".into(),
            office: false,
            receive_prefix: None,
            memo_prefix: None,
            issuing_name: None,
        }
    }

    fn actor(id: &str, unit: &str) -> Actor {
        Actor {
            reach: Vec::new(),
            id: id.into(),
            name: id.into(),
            unit: unit.into(),
            roles: [Role::Reviewer].into(),
            clearance: Classification::Secret,
        }
    }

    fn run(state: &mut Option<DirectoryState>, action: DirectoryAction) -> Result<usize, Error> {
        let cmd = FlowCommand {
            document_id: DIRECTORY_STREAM,
            actor: "system:ops".into(),
            at: chrono::DateTime::UNIX_EPOCH,
            action,
        };
        let events = DirectoryStream::decide(state.as_ref(), &cmd, &crate::Directory::new())?;
        for e in &events {
            match state.as_mut() {
                Some(s) => DirectoryStream::apply(s, &e.actor, e.at, &e.data),
                None => *state = DirectoryStream::create(&e.actor, e.at, &e.data),
            }
        }
        Ok(events.len())
    }

    fn put(a: Actor) -> DirectoryAction {
        DirectoryAction::PutActor {
            actor: a,
            system: "ops".into(),
            reason: "入职".into(),
        }
    }

    #[test]
    fn changes_are_recorded_once_with_their_reason_and_unknown_units_are_refused() {
        let mut s = None;
        let load = DirectoryAction::Load {
            units: vec![unit("JWC")],
            actors: vec![actor("li.qiang", "JWC")],
            system: "workflow".into(),
            reason: "first start".into(),
        };
        assert_eq!(run(&mut s, load.clone()).unwrap(), 2);
        // Loading the same again changes nothing.
        assert_eq!(run(&mut s, load).unwrap(), 0);
        let e = run(&mut s, put(actor("x", "NOPE"))).unwrap_err();
        assert!(e.to_string().contains("unknown unit NOPE"), "{e}");
        let mut no_reason = put(actor("y", "JWC"));
        if let DirectoryAction::PutActor { reason, .. } = &mut no_reason {
            reason.clear();
        }
        assert!(matches!(
            run(&mut s, no_reason).unwrap_err(),
            Error::InvalidField { field, .. } if field == "reason"
        ));
        let deactivate = DirectoryAction::DeactivateActor {
            actor: "li.qiang".into(),
            system: "ops".into(),
            reason: "离职".into(),
        };
        assert_eq!(run(&mut s, deactivate.clone()).unwrap(), 1);
        let state = s.clone().unwrap();
        assert!(!state.is_active(&"li.qiang".into()));
        assert!(state.actors.contains_key(&ActorId::from("li.qiang")));
        assert!(matches!(
            run(&mut s, deactivate).unwrap_err(),
            Error::NotNow { .. }
        ));
    }

    #[test]
    fn a_change_reads_as_what_was_granted_and_revoked() {
        let before = actor("li.qiang", "JWC");
        let mut after = before.clone();
        after.roles = [Role::Signatory].into();
        after.clearance = Classification::Confidential;
        assert_eq!(
            describe_actor_change(Some(&before), &after),
            "granted Signatory; revoked Reviewer; clearance Secret (秘密) → Confidential (机密)"
        );
        assert!(describe_actor_change(None, &after).starts_with("registered li.qiang"));
    }

    #[test]
    fn events_keep_their_stored_form() {
        use crate::codec::EventCodec;
        let e = DirectoryEvent::ActorDeactivated {
            actor: "li.qiang".into(),
            system: "ops".into(),
            reason: "离职".into(),
        };
        assert_eq!(
            e.payload().to_string(),
            r#"{"actor":"li.qiang","reason":"离职","system":"ops"}"#
        );
        let back = DirectoryEvent::decode_ref(e.type_name(), 1, &e.payload()).unwrap();
        assert_eq!(back, e);
    }
}
