//! A document's form as the office reads it (the 发文稿纸, the 收文批办单, the 督办单): each
//! flow lays out its own state as a [`Sheet`] ([`crate::Flow::sheet`], in its module's
//! `sheet.rs`), and the console, which knows people's names, shows it as it is.

use chrono::NaiveDate;

use crate::ids::{ActorId, DocumentId, Timestamp, UnitCode, china_time};
use crate::opinion::Opinion;
use crate::route::{Stage, StageSpec};

/// A piece of a sheet's line: text, or something a reader shows in its own way — a person
/// or a unit by name, an instant or a date in the reader's format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Text as it is.
    Text(String),
    /// A person.
    Actor(ActorId),
    /// A unit of the directory.
    Unit(UnitCode),
    /// Text that may be a unit's code (主送, 抄送, 来文单位): shown by the unit's name when
    /// it is one, else as written.
    Named(String),
    /// An instant.
    Time(Timestamp),
    /// A date.
    Date(NaiveDate),
    /// Several items, shown one after another with 、 between them.
    List(Vec<Vec<Part>>),
}

impl Part {
    fn is_empty(&self) -> bool {
        match self {
            Part::Text(t) | Part::Named(t) => t.trim().is_empty(),
            Part::List(items) => items.iter().all(|i| i.iter().all(Part::is_empty)),
            _ => false,
        }
    }

    /// Units, one after another (协办单位, 联合发文).
    pub fn units(units: &[UnitCode]) -> Part {
        Part::List(units.iter().map(|u| vec![Part::Unit(u.clone())]).collect())
    }

    /// Recipients as written, each a unit's code or free text (主送, 抄送).
    pub fn named(items: &[String]) -> Part {
        Part::List(items.iter().map(|t| vec![Part::Named(t.clone())]).collect())
    }
}

/// How a reader shows the parts of a line: the console by people's and units' names with
/// dates as the office writes them, the command line by ids. The defaults show ids and
/// China time.
pub trait Names {
    /// A person.
    fn actor(&self, id: &ActorId) -> String {
        id.to_string()
    }
    /// The name of the unit whose code is `code`, if there is one.
    fn unit(&self, _code: &str) -> Option<String> {
        None
    }
    /// An instant.
    fn time(&self, at: Timestamp) -> String {
        china_time(at)
    }
    /// A date.
    fn date(&self, date: NaiveDate) -> String {
        date.to_string()
    }
    /// A unit by name, or its code when the directory has no such unit.
    fn unit_name(&self, code: &UnitCode) -> String {
        self.unit(code.as_str()).unwrap_or_else(|| code.to_string())
    }
    /// Units by name, joined with 、.
    fn unit_names(&self, codes: &[UnitCode]) -> String {
        codes
            .iter()
            .map(|c| self.unit_name(c))
            .collect::<Vec<_>>()
            .join("、")
    }
    /// People, joined with 、.
    fn actors(&self, ids: &[ActorId]) -> String {
        ids.iter()
            .map(|a| self.actor(a))
            .collect::<Vec<_>>()
            .join("、")
    }
}

/// `parts` as `names` shows them, separated by spaces (empty ones left out).
pub fn show(parts: &[Part], names: &dyn Names) -> String {
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| match p {
            Part::Text(t) => t.trim().to_owned(),
            Part::Actor(a) => names.actor(a),
            Part::Unit(u) => names.unit_name(u),
            Part::Named(t) => names.unit(t.trim()).unwrap_or_else(|| t.trim().to_owned()),
            Part::Time(at) => names.time(*at),
            Part::Date(d) => names.date(*d),
            Part::List(items) => items
                .iter()
                .map(|i| show(i, names))
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join("、"),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// One line of a sheet: a label, and what it says, in parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// What the line is (文种, 拟稿, 签发, …).
    pub label: &'static str,
    /// What it says.
    pub parts: Vec<Part>,
}

impl Line {
    /// A line of `parts`.
    pub fn new(label: &'static str, parts: Vec<Part>) -> Line {
        Line { label, parts }
    }

    /// A line of text.
    pub fn text(label: &'static str, text: impl ToString) -> Line {
        Line::new(label, vec![Part::Text(text.to_string())])
    }

    /// A line naming a person, with what follows their name.
    pub fn actor(label: &'static str, actor: &ActorId, text: impl ToString) -> Line {
        Line::new(
            label,
            vec![Part::Actor(actor.clone()), Part::Text(text.to_string())],
        )
    }

    /// Whether it says nothing (a field not filled in yet is left off the sheet).
    pub fn is_empty(&self) -> bool {
        self.parts.iter().all(Part::is_empty)
    }

    /// What it says, as `names` shows it.
    pub fn show(&self, names: &dyn Names) -> String {
        show(&self.parts, names)
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
                    StageSpec::Countersign { departments, .. } => Line::new(
                        "会签",
                        vec![Part::List(
                            departments
                                .iter()
                                .map(|u| {
                                    let how = match stage.countersigns.get(u) {
                                        Some(true) => "同意",
                                        Some(false) => "不同意",
                                        None => "待签",
                                    };
                                    vec![Part::Unit(u.clone()), Part::Text(how.into())]
                                })
                                .collect(),
                        )],
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

    /// Adds a field of `parts` unless it says nothing.
    pub fn parts(&mut self, label: &'static str, parts: Vec<Part>) {
        self.push(Line::new(label, parts));
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
