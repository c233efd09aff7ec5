//! What the pages show, in the office's words: list rows and the card of a document (the
//! 发文稿纸, the 收文批办单, the 督办单), made from the engine's states. Templates escape
//! every value; nothing here builds HTML.

use std::collections::HashMap;

use chrono::{NaiveDate, Timelike};
use workflow_core::ids::in_china;
use workflow_core::sheet::Names as _;
use workflow_core::{ActorId, FlowState, Timestamp, opinion::Opinion};
use workflow_store::{Engine, Page};

/// A date as the office writes it: `2026年12月8日`.
pub(crate) fn day(d: NaiveDate) -> String {
    d.format("%Y年%-m月%-d日").to_string()
}

/// An instant as the office writes it, to the minute: `2026年12月8日 17:27`.
pub(crate) fn when(at: Timestamp) -> String {
    in_china(at).format("%Y年%-m月%-d日 %H:%M").to_string()
}

/// A deadline: one that falls at midnight is the end of the day before (时限 8日 is due
/// at 24:00 of the 8th), shown as that day alone.
pub(crate) fn due(at: Timestamp) -> String {
    let local = in_china(at);
    match local.date_naive().pred_opt() {
        Some(before) if local.num_seconds_from_midnight() == 0 => day(before),
        _ => when(at),
    }
}

/// How the console shows the parts of a sheet's line: people and units by name (from the
/// directory), dates as the office writes them.
pub(crate) struct Names<'a> {
    engine: &'a Engine,
    units: HashMap<String, String>,
}

impl<'a> Names<'a> {
    pub(crate) fn of(engine: &'a Engine) -> Names<'a> {
        Names {
            engine,
            units: engine
                .units()
                .into_iter()
                .map(|u| (u.code.to_string(), u.name))
                .collect(),
        }
    }
}

impl workflow_core::sheet::Names for Names<'_> {
    fn actor(&self, id: &ActorId) -> String {
        name(self.engine, id)
    }
    fn unit(&self, code: &str) -> Option<String> {
        self.units.get(code).cloned()
    }
    fn time(&self, at: Timestamp) -> String {
        when(at)
    }
    fn date(&self, d: NaiveDate) -> String {
        day(d)
    }
}

/// A person's name as the office reads it (the account id where the directory has no name).
pub(crate) fn name(engine: &Engine, id: &ActorId) -> String {
    match engine.actor(id) {
        Some(a) if !a.name.is_empty() => a.name,
        _ => id.to_string(),
    }
}

/// One line of a list or of the 待办.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) flow: &'static str,
    pub(crate) title: String,
    /// Its number (发文字号, 收文编号), if it has one.
    pub(crate) number: String,
    pub(crate) state: String,
    /// Who it comes from: the 发文's or 签报's unit, the 收文's 来文单位, the 督办 item's
    /// lead unit — by name.
    pub(crate) unit: String,
    /// 密级, empty for 非密.
    pub(crate) classification: &'static str,
    /// 紧急程度, empty for 普通.
    pub(crate) urgency: &'static str,
    pub(crate) due: String,
    pub(crate) overdue: bool,
    pub(crate) updated: String,
    /// Arrived or moved on since the person last looked at their 待办 (marked 新).
    pub(crate) fresh: bool,
    /// The version the row shows (a batch step is taken against it).
    pub(crate) version: u64,
    /// The step (form name, label) the person may take on it from the 待办 with a tick.
    pub(crate) batch: Option<(&'static str, &'static str)>,
    due_at: Option<Timestamp>,
    pub(crate) updated_at: Timestamp,
}

pub(crate) fn row(
    s: &FlowState,
    names: &Names<'_>,
    now: Timestamp,
    who: Option<&workflow_core::ActorId>,
) -> Row {
    let p = s.particulars();
    let due_at = reader_due(s, who).or_else(|| s.due());
    let classification = s.classification();
    Row {
        id: s.id().to_string(),
        flow: s.kind().label(),
        title: s.title().to_owned(),
        number: p.number.clone().unwrap_or_default(),
        state: p.state_label.to_owned(),
        unit: p
            .from
            .map(|u| names.unit(u).unwrap_or_else(|| u.to_owned()))
            .unwrap_or_default(),
        classification: if classification == workflow_core::directory::Classification::None {
            ""
        } else {
            classification.chinese()
        },
        urgency: match p.urgency {
            Some(u) if u != workflow_core::kind::Urgency::Normal => u.chinese(),
            _ => "",
        },
        due: due_at.map(due).unwrap_or_default(),
        overdue: due_at.is_some_and(|d| now > d),
        updated: when(p.updated_at),
        fresh: false,
        version: s.version(),
        batch: None,
        due_at,
        updated_at: p.updated_at,
    }
}

/// How a page's rows are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    /// The 待办's: the overdue and soonest due first.
    Due,
    /// The latest changed first (a search's page).
    Changed,
    /// As the list gave them (a person's own lists: the newest started first, page after
    /// page alike).
    Listed,
}

/// A page's rows, all flows together, in `order`.
/// The day a 阅办 reader `who`, who has not read it yet, must act on a 收文 by (the end of
/// that day): on their own 待办 that is their deadline, not the handling's.
fn reader_due(s: &FlowState, who: Option<&workflow_core::ActorId>) -> Option<Timestamp> {
    s.incoming()?.reader_due_at(who?)
}

/// The rows of `page`, in `order`; `who`: the person whose 待办 it is (a 阅办 reader's row
/// is due on their own day).
pub(crate) fn rows(
    engine: &Engine,
    page: &Page,
    now: Timestamp,
    order: Order,
    who: Option<&workflow_core::ActorId>,
) -> Vec<Row> {
    let names = Names::of(engine);
    let mut rows: Vec<Row> = page
        .states
        .iter()
        .map(|s| row(s, &names, now, who))
        .collect();
    match order {
        Order::Due => rows.sort_by_key(|r| {
            (
                r.due_at.is_none(),
                r.due_at,
                std::cmp::Reverse(r.updated_at),
            )
        }),
        Order::Changed => rows.sort_by_key(|r| std::cmp::Reverse(r.updated_at)),
        Order::Listed => {}
    }
    rows
}

/// One stage of a 发文's route and how far it has come.
#[derive(Debug, Clone)]
pub(crate) struct StageView {
    pub(crate) number: usize,
    pub(crate) what: String,
    /// `done`, `now` or `todo`.
    pub(crate) progress: &'static str,
    pub(crate) due: String,
}

/// One opinion in order.
#[derive(Debug, Clone)]
pub(crate) struct OpinionView {
    pub(crate) at: String,
    pub(crate) who: String,
    pub(crate) unit: String,
    pub(crate) step: String,
    pub(crate) agree: bool,
    pub(crate) text: String,
}

/// A document's card.
#[derive(Debug, Clone, Default)]
pub(crate) struct Card {
    pub(crate) form: &'static str,
    pub(crate) fields: Vec<(String, String)>,
    pub(crate) route: Vec<StageView>,
    pub(crate) opinions: Vec<OpinionView>,
    /// The files it names (正文 first), each to open through the document.
    pub(crate) files: Vec<FileView>,
    /// The SHA-256 of its 正文 file (empty: none): what an approval on this page was given
    /// on, sent with the form so that a text changed meanwhile is not approved unseen.
    pub(crate) main_digest: String,
    /// Attachments and fixity: (name, SHA-256).
    pub(crate) digests: Vec<(String, String)>,
    /// Linked streams: (label, id).
    pub(crate) links: Vec<(String, String)>,
    /// What the paper form marks at its top left: 密级★保密期限 and 紧急程度, each when set
    /// (empty for an unclassified, ordinary document).
    pub(crate) marks: String,
}

fn opinions(names: &Names<'_>, list: &[Opinion]) -> Vec<OpinionView> {
    list.iter()
        .map(|o| OpinionView {
            at: when(o.at),
            who: names.actor(&o.actor),
            unit: o
                .unit
                .as_ref()
                .map(|u| names.unit_name(u))
                .unwrap_or_default(),
            step: workflow_core::opinion::step_label(&o.step).to_owned(),
            agree: o.agree,
            text: o.text.clone(),
        })
        .collect()
}

/// A file on a card.
#[derive(Debug, Clone)]
pub(crate) struct FileView {
    /// 正文 or 附件N.
    pub(crate) label: String,
    pub(crate) name: String,
    /// Where it opens (through the document).
    pub(crate) href: String,
    pub(crate) sha256: String,
    /// Its size, as people read it (e.g. `1.2 MB`).
    pub(crate) size: String,
    /// Its kind, e.g. `PDF`.
    pub(crate) kind: String,
    /// Whether the browser shows it (PDF, images) rather than saving it.
    pub(crate) inline: bool,
    /// Whether it is an attachment (which a revision may take off).
    pub(crate) attachment: bool,
}

/// A size as people read it.
fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / f64::from(1u32 << 20)),
        b if b >= 1 << 10 => format!("{:.0} KB", b as f64 / 1024.0),
        b => format!("{b} 字节"),
    }
}

fn files(s: &FlowState) -> Vec<FileView> {
    let Some(files) = s.document_files() else {
        return Vec::new();
    };
    let id = s.id();
    let view = |label: String, f: &workflow_core::content::FileRef, attachment: bool| {
        let kind = workflow_core::content::FileKind::ALL
            .into_iter()
            .find(|k| k.media_type() == f.media_type);
        FileView {
            label,
            name: f.name.clone(),
            href: format!("/doc/{id}/file/{}", f.digest),
            sha256: f.digest.to_string(),
            size: human_size(f.size),
            kind: kind.map_or("文件", |k| k.name()).to_uppercase(),
            inline: kind.is_some_and(|k| k.inline()),
            attachment,
        }
    };
    files
        .main
        .as_deref()
        .map(|f| view("正文".into(), f, false))
        .into_iter()
        .chain(
            files
                .attachments
                .iter()
                .enumerate()
                .map(|(i, f)| view(format!("附件{}", i + 1), f, true)),
        )
        .collect()
}

/// The card of any flow's document: its sheet, with people's names.
pub(crate) fn card(names: &Names<'_>, s: &FlowState) -> Card {
    let sheet = s.sheet();
    let mut marks = Vec::new();
    if s.classification() != workflow_core::directory::Classification::None {
        // The sheet's own 密级 line says the period where there is one.
        marks.extend(
            sheet
                .fields
                .iter()
                .find(|l| l.label == "密级")
                .map(|l| l.show(names)),
        );
    }
    if let Some(u) = s
        .particulars()
        .urgency
        .filter(|u| *u != workflow_core::kind::Urgency::Normal)
    {
        marks.push(u.chinese().to_owned());
    }
    Card {
        marks: marks.join("　"),
        files: files(s),
        main_digest: s
            .document_files()
            .and_then(|f| f.main_digest())
            .map(ToString::to_string)
            .unwrap_or_default(),
        form: sheet.form,
        fields: sheet
            .fields
            .iter()
            .map(|l| (l.label.to_owned(), l.show(names)))
            .collect(),
        route: sheet
            .route
            .iter()
            .enumerate()
            .map(|(i, stage)| StageView {
                number: i + 1,
                what: format!("{}：{}", stage.what.label, stage.what.show(names)),
                progress: stage.progress.name(),
                due: stage.due_at.map(due).unwrap_or_default(),
            })
            .collect(),
        opinions: opinions(names, sheet.opinions),
        digests: sheet.digests,
        links: sheet
            .links
            .into_iter()
            .map(|(what, id)| (what, id.to_string()))
            .collect(),
    }
}

/// One line of a timeline.
#[derive(Debug, Clone)]
pub(crate) struct EventView {
    pub(crate) version: u64,
    pub(crate) position: u64,
    pub(crate) at: String,
    pub(crate) who: String,
    pub(crate) step: String,
    pub(crate) detail: String,
    pub(crate) hash: String,
}

pub(crate) fn timeline(engine: &Engine, events: &[workflow_store::Envelope]) -> Vec<EventView> {
    let names = Names::of(engine);
    events
        .iter()
        .map(|e| {
            let (step, detail) = match e.event() {
                Ok(ev) => (
                    ev.data.step().to_owned(),
                    workflow_core::summary::summary(&ev.data, &names),
                ),
                Err(err) => (e.event_type.clone(), format!("无法读取：{err}")),
            };
            EventView {
                version: e.version,
                position: e.position,
                at: when(e.recorded_at),
                who: names.actor(&e.actor),
                step,
                detail,
                hash: e.hash.clone(),
            }
        })
        .collect()
}
