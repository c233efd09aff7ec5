//! What the pages show, in the office's words: list rows and the card of a document (the
//! 发文稿纸, the 收文批办单, the 督办单), made from the engine's states. Templates escape
//! every value; nothing here builds HTML.

use workflow_core::sheet::Line;
use workflow_core::{ActorId, FlowState, Timestamp, ids::china_time, opinion::Opinion};
use workflow_store::{Engine, Page};

/// A person's name as the office reads it: `王芳（wang.fang）`.
pub(crate) fn name(engine: &Engine, id: &ActorId) -> String {
    match engine.actor(id) {
        Some(a) if !a.name.is_empty() => format!("{}（{}）", a.name, id),
        _ => id.to_string(),
    }
}

/// One line of a list or of the 待办.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) flow: &'static str,
    pub(crate) title: String,
    pub(crate) state: String,
    pub(crate) unit: String,
    pub(crate) due: String,
    pub(crate) overdue: bool,
    pub(crate) updated: String,
    due_at: Option<Timestamp>,
    updated_at: Timestamp,
}

pub(crate) fn row(s: &FlowState, now: Timestamp) -> Row {
    let p = s.particulars();
    let due_at = s.due();
    let unit = s
        .listing()
        .and_then(|l| l.units.first().map(ToString::to_string))
        .unwrap_or_default();
    Row {
        id: s.id().to_string(),
        flow: s.kind().label(),
        title: s.title().to_owned(),
        state: p.state_label.to_owned(),
        unit,
        due: due_at.map(china_time).unwrap_or_default(),
        overdue: due_at.is_some_and(|d| now > d),
        updated: china_time(p.updated_at),
        due_at,
        updated_at: p.updated_at,
    }
}

/// A page's rows, all flows together: for the 待办 the overdue and soonest due first, for
/// a list the latest changed first.
pub(crate) fn rows(page: &Page, now: Timestamp, todo: bool) -> Vec<Row> {
    let mut rows: Vec<Row> = page.states.iter().map(|s| row(s, now)).collect();
    if todo {
        rows.sort_by_key(|r| {
            (
                r.due_at.is_none(),
                r.due_at,
                std::cmp::Reverse(r.updated_at),
            )
        });
    } else {
        rows.sort_by_key(|r| std::cmp::Reverse(r.updated_at));
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
}

fn opinions(engine: &Engine, list: &[Opinion]) -> Vec<OpinionView> {
    list.iter()
        .map(|o| OpinionView {
            at: china_time(o.at),
            who: name(engine, &o.actor),
            unit: o.unit.as_ref().map(ToString::to_string).unwrap_or_default(),
            step: workflow_core::opinion::step_label(&o.step).to_owned(),
            agree: o.agree,
            text: o.text.clone(),
        })
        .collect()
}

/// A sheet's line as the page shows it: the person's name, then the rest.
fn line(engine: &Engine, l: &Line) -> String {
    match &l.actor {
        Some(a) if l.text.is_empty() => name(engine, a),
        Some(a) => format!("{} {}", name(engine, a), l.text),
        None => l.text.clone(),
    }
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
pub(crate) fn card(engine: &Engine, s: &FlowState) -> Card {
    let sheet = s.sheet();
    Card {
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
            .map(|l| (l.label.to_owned(), line(engine, l)))
            .collect(),
        route: sheet
            .route
            .iter()
            .enumerate()
            .map(|(i, stage)| StageView {
                number: i + 1,
                what: format!("{}：{}", stage.what.label, line(engine, &stage.what)),
                progress: stage.progress.name(),
                due: stage.due_at.map(china_time).unwrap_or_default(),
            })
            .collect(),
        opinions: opinions(engine, sheet.opinions),
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
    events
        .iter()
        .map(|e| {
            let (step, detail) = match e.event() {
                Ok(ev) => (
                    ev.data.step().to_owned(),
                    workflow_core::summary::summary(&ev.data),
                ),
                Err(err) => (e.event_type.clone(), format!("无法读取：{err}")),
            };
            EventView {
                version: e.version,
                position: e.position,
                at: china_time(e.recorded_at),
                who: name(engine, &e.actor),
                step,
                detail,
                hash: e.hash.clone(),
            }
        })
        .collect()
}
