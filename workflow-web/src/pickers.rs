//! Units and people chosen by name: the choices a form's picker offers (DESIGN §13), from
//! the directory, with what the person chose before marked (a refused form keeps it).

use workflow_core::directory::{Actor, Role};
use workflow_store::Engine;

use crate::actions::{Input, items};

/// One choice of a picker.
#[derive(Debug, Clone)]
pub(crate) struct Opt {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

/// Choices under a heading (people under their unit).
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) label: String,
    pub(crate) options: Vec<Opt>,
}

/// The directory as pickers offer it: units by name, the people of each unit (active ones
/// only: a deactivated person may not be named).
pub(crate) struct Directory {
    units: Vec<(String, String)>,
    people: Vec<(String, Vec<Actor>)>,
}

impl Directory {
    pub(crate) fn of(engine: &Engine) -> Directory {
        let units: Vec<(String, String)> = engine
            .units()
            .into_iter()
            .map(|u| (u.code.to_string(), u.name))
            .collect();
        let actors: Vec<Actor> = engine
            .actors()
            .into_iter()
            .filter(|a| !engine.is_deactivated(&a.id))
            .collect();
        let people = units
            .iter()
            .map(|(code, name)| {
                (
                    name.clone(),
                    actors
                        .iter()
                        .filter(|a| a.unit.as_str() == code)
                        .cloned()
                        .collect::<Vec<_>>(),
                )
            })
            .filter(|(_, people)| !people.is_empty())
            .collect();
        Directory { units, people }
    }

    /// The units, by code: (code, name).
    pub(crate) fn units(&self) -> &[(String, String)] {
        &self.units
    }

    /// The choices of a picker of kind `input`, `chosen` (a list as the form sends it,
    /// comma-separated) marked selected. Empty for an input that is not a picker.
    pub(crate) fn choices(&self, input: Input, chosen: &str) -> Vec<Group> {
        let chosen = items(chosen);
        match input {
            Input::Unit | Input::Units => vec![Group {
                label: String::new(),
                options: self
                    .units
                    .iter()
                    .map(|(code, name)| Opt {
                        value: code.clone(),
                        label: name.clone(),
                        selected: chosen.contains(&code.as_str()),
                    })
                    .collect(),
            }],
            Input::Person(role) => self.people(role, |id| chosen.contains(&id)),
            Input::People => self.people(None, |id| chosen.contains(&id)),
            _ => Vec::new(),
        }
    }

    /// The slots of an ordered picker (会批: first, second, third leader), each with the
    /// person chosen for it before.
    pub(crate) fn slots(&self, input: Input, chosen: &str) -> Vec<Vec<Group>> {
        let Input::Ordered(role) = input else {
            return Vec::new();
        };
        let chosen = items(chosen);
        (0..3)
            .map(|i| self.people(Some(role), |id| chosen.get(i) == Some(&id)))
            .collect()
    }

    fn people(&self, role: Option<Role>, selected: impl Fn(&str) -> bool) -> Vec<Group> {
        self.people
            .iter()
            .map(|(unit, people)| Group {
                label: unit.clone(),
                options: people
                    .iter()
                    .filter(|a| role.is_none_or(|r| a.has_role(r)))
                    .map(|a| Opt {
                        value: a.id.to_string(),
                        label: if a.name.is_empty() {
                            a.id.to_string()
                        } else {
                            a.name.clone()
                        },
                        selected: selected(a.id.as_str()),
                    })
                    .collect(),
            })
            .filter(|g| !g.options.is_empty())
            .collect()
    }
}
