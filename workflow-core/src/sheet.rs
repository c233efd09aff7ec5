//! A document's form as the office reads it (the 发文稿纸, the 收文批办单, the 督办单): each
//! flow lays out its own state as a [`Sheet`] ([`crate::Flow::sheet`], in its module's
//! `sheet.rs`), and the console, which knows people's names, shows it as it is.

use crate::ids::{ActorId, DocumentId, Timestamp};
use crate::opinion::Opinion;
use crate::route::{Stage, StageSpec};

/// One line of a sheet: a label, and who (a person, shown by name) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// What the line is (文种, 拟稿, 签发, …).
    pub label: &'static str,
    /// The person it names, if any (shown before the text).
    pub actor: Option<ActorId>,
    /// The rest (a unit, a date, an opinion).
    pub text: String,
}

impl Line {
    /// A line of text.
    pub fn text(label: &'static str, text: impl ToString) -> Line {
        Line {
            label,
            actor: None,
            text: text.to_string(),
        }
    }

    /// A line naming a person, with what follows their name.
    pub fn actor(label: &'static str, actor: &ActorId, text: impl ToString) -> Line {
        Line {
            label,
            actor: Some(actor.clone()),
            text: text.to_string(),
        }
    }

    /// Whether it says nothing (a field not filled in yet is left off the sheet).
    pub fn is_empty(&self) -> bool {
        self.actor.is_none() && self.text.is_empty()
    }
}

/// How far a stage of a route has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Completed.
    Done,
    /// The current stage.
    Now,
    /// Not reached yet.
    Todo,
}

impl Progress {
    /// The stable name (`done`, `now`, `todo`), as pages style it.
    pub fn name(self) -> &'static str {
        match self {
            Progress::Done => "done",
            Progress::Now => "now",
            Progress::Todo => "todo",
        }
    }
}

/// One stage of a route on the sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteStage {
    /// What the stage is and who is in it (审核：a person; 会签：units and how they signed).
    pub what: Line,
    /// How far it has come.
    pub progress: Progress,
    /// When it falls due, once started.
    pub due_at: Option<Timestamp>,
}

impl RouteStage {
    /// A route's stages as a sheet shows them, `current` being the running stage's index.
    pub fn all(route: &[Stage], current: Option<usize>) -> Vec<RouteStage> {
        route
            .iter()
            .enumerate()
            .map(|(i, stage)| RouteStage {
                what: match &stage.spec {
                    StageSpec::Review { reviewer, .. } => Line::actor("审核", reviewer, ""),
                    StageSpec::Countersign { departments, .. } => Line::text(
                        "会签",
                        departments
                            .iter()
                            .map(|u| match stage.countersigns.get(u) {
                                Some(true) => format!("{u} 同意"),
                                Some(false) => format!("{u} 不同意"),
                                None => format!("{u} 待签"),
                            })
                            .collect::<Vec<_>>()
                            .join("、"),
                    ),
                },
                progress: if stage.completed {
                    Progress::Done
                } else if current == Some(i) {
                    Progress::Now
                } else {
                    Progress::Todo
                },
                due_at: stage.due_at,
            })
            .collect()
    }
}

/// A document's form: its fields in the office's order, the digests it carries, the
/// streams it links to, its opinions and, for a flow with routes, its route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sheet<'a> {
    /// The form's name (发文稿纸, 收文批办单, 督办单).
    pub form: &'static str,
    /// Its fields, empty ones left off.
    pub fields: Vec<Line>,
    /// Digests it carries: (what, SHA-256 hex).
    pub digests: Vec<(String, String)>,
    /// Streams it links to: (what, id).
    pub links: Vec<(String, DocumentId)>,
    /// The opinions given on it, in order.
    pub opinions: &'a [Opinion],
    /// Its route, stage by stage (empty for a flow without routes).
    pub route: Vec<RouteStage>,
}

impl<'a> Sheet<'a> {
    /// An empty sheet of the form `form`.
    pub fn new(form: &'static str) -> Sheet<'a> {
        Sheet {
            form,
            fields: Vec::new(),
            digests: Vec::new(),
            links: Vec::new(),
            opinions: &[],
            route: Vec::new(),
        }
    }

    /// Adds a field unless it is empty.
    pub fn push(&mut self, line: Line) {
        if !line.is_empty() {
            self.fields.push(line);
        }
    }

    /// Adds a text field unless it is empty.
    pub fn text(&mut self, label: &'static str, text: impl ToString) {
        self.push(Line::text(label, text));
    }

    /// Adds the 档号 and the fixity digest of an archive record, if there is one.
    pub fn archive(&mut self, archive: Option<&crate::archive::ArchiveRecord>) {
        if let Some(a) = archive {
            self.text(
                "档号",
                format!("{} {}", a.reference, a.reference.retention.chinese()),
            );
            if let Some(h) = &a.fixity_hash {
                self.digests.push(("归档固化摘要".into(), h.clone()));
            }
        }
    }
}
