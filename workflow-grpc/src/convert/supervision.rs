//! 督办 across the wire: the fields its command messages carry (the messages themselves are
//! entries of the command table (`commands.rs`)), an item to the wire, and the 月通报. Part of
//! [`super`], the one place where wire and domain types meet.

use tonic::Status;
use workflow_core::supervision::bulletin::{Bulletin, Figures, Month};
use workflow_core::supervision::{Frequency, ItemSpec, Publication, Source, sha256_hex};
use workflow_core::{ActorId, Timestamp, UnitCode, directory::Classification, supervision::Item};

use super::{FromWire, classification, date, invalid, timestamp};
use crate::pb;

/// The source filter of a list request: a source's name, or empty.
pub fn source_filter(s: &str) -> Result<Option<String>, Status> {
    match s.trim() {
        "" => Ok(None),
        s @ ("instruction" | "submission" | "meeting" | "key_task" | "direct") => {
            Ok(Some(s.to_owned()))
        }
        other => Err(invalid(
            "source",
            format!(
                "{other:?} is not a source: instruction, submission, meeting, key_task or direct"
            ),
        )),
    }
}

fn frequency_from(raw: i32) -> Result<Frequency, Status> {
    match pb::FeedbackFrequency::try_from(raw) {
        Ok(pb::FeedbackFrequency::Unspecified) => Ok(Frequency::None),
        Ok(pb::FeedbackFrequency::Weekly) => Ok(Frequency::Weekly),
        Ok(pb::FeedbackFrequency::Monthly) => Ok(Frequency::Monthly),
        Err(_) => Err(invalid(
            "spec.feedback",
            format!("{raw} is not a feedback frequency"),
        )),
    }
}

fn frequency_to(f: Frequency) -> pb::FeedbackFrequency {
    match f {
        Frequency::None => pb::FeedbackFrequency::Unspecified,
        Frequency::Weekly => pb::FeedbackFrequency::Weekly,
        Frequency::Monthly => pb::FeedbackFrequency::Monthly,
    }
}

/// An item's fields from the wire; `spec` is required.
pub(super) fn spec(s: Option<pb::ItemSpec>) -> Result<ItemSpec, Status> {
    let s = s.ok_or_else(|| invalid("spec", "is required"))?;
    let reference = s.source_reference.clone();
    let source = match s.source.trim() {
        "meeting" => Source::Meeting { reference },
        "key_task" => Source::KeyTask { reference },
        "direct" | "" if reference.trim().is_empty() => Source::Direct,
        "direct" | "" => {
            return Err(invalid(
                "spec.source_reference",
                "is only for a meeting decision or an annual key task",
            ));
        }
        "instruction" | "submission" => {
            return Err(invalid(
                "spec.source",
                "an item following a leader's 批示 on a 收文 or a 签报 is opened by the engine \
                 when the 批示 asks for it (InstructIncoming or EndorseMemo with supervise)",
            ));
        }
        other => {
            return Err(invalid(
                "spec.source",
                format!("{other:?} is not a source: meeting, key_task or direct"),
            ));
        }
    };
    if !s.source_receipt_id.trim().is_empty() {
        return Err(invalid("spec.source_receipt_id", "is output only"));
    }
    if !s.source_submission_id.trim().is_empty() {
        return Err(invalid("spec.source_submission_id", "is output only"));
    }
    Ok(ItemSpec {
        source,
        title: s.title,
        requirements: s.requirements,
        leader: ActorId(s.leader),
        lead_unit: UnitCode(s.lead_unit),
        responsible: (!s.responsible.trim().is_empty()).then_some(ActorId(s.responsible)),
        co_units: s.co_units.into_iter().map(UnitCode).collect(),
        deadline: date("spec.deadline", &s.deadline)?,
        feedback: frequency_from(s.feedback)?,
        warn_days: s
            .warn_days
            .unwrap_or(workflow_core::supervision::DEFAULT_WARN_DAYS),
        classification: Classification::from_wire("spec.classification", s.classification)?,
    })
}

/// An item's fields to the wire.
fn spec_to(s: &ItemSpec) -> pb::ItemSpec {
    let reference = match &s.source {
        Source::Meeting { reference } | Source::KeyTask { reference } => reference.clone(),
        Source::Instruction { .. } | Source::Submission { .. } | Source::Direct => String::new(),
    };
    let linked = |flow: &str| match s.source.linked() {
        Some((what, id)) if what == flow => id.to_string(),
        _ => String::new(),
    };
    pb::ItemSpec {
        source: s.source.name().to_owned(),
        source_reference: reference,
        title: s.title.clone(),
        requirements: s.requirements.clone(),
        leader: s.leader.0.clone(),
        lead_unit: s.lead_unit.0.clone(),
        responsible: s
            .responsible
            .as_ref()
            .map(|r| r.0.clone())
            .unwrap_or_default(),
        co_units: s.co_units.iter().map(|u| u.0.clone()).collect(),
        deadline: s.deadline.to_string(),
        feedback: frequency_to(s.feedback) as i32,
        warn_days: Some(s.warn_days),
        classification: classification(s.classification) as i32,
        source_receipt_id: linked("收文"),
        source_submission_id: linked("签报"),
    }
}

pub(super) fn percent(p: Option<u32>) -> Result<Option<u8>, Status> {
    p.map(|p| {
        u8::try_from(p)
            .ok()
            .filter(|p| *p <= 100)
            .ok_or_else(|| invalid("percent", format!("{p} is not between 0 and 100")))
    })
    .transpose()
}

/// An item's fields to send: refused for an item the engine opened for a 批办 (no caller
/// could have sent it).
pub(super) fn spec_sent(s: &ItemSpec) -> Result<pb::ItemSpec, Status> {
    if s.source.linked().is_some() {
        return Err(invalid(
            "spec.source",
            "an item following a 批示 is opened by the engine, not over the wire",
        ));
    }
    Ok(spec_to(s))
}

/// An item to the wire, overdue as of `now`.
pub fn item(i: &Item, now: Timestamp) -> pb::SupervisionItem {
    pb::SupervisionItem {
        id: i.id().to_string(),
        version: i.version(),
        step: i.step().name().to_owned(),
        step_chinese: i.step().chinese().to_owned(),
        spec: Some(spec_to(i.spec())),
        supervisor: i.supervisor().map(|a| a.0.clone()).unwrap_or_default(),
        responsible: i.responsible().map(|a| a.0.clone()).unwrap_or_default(),
        deadline: i.deadline().to_string(),
        opened_at: Some(timestamp(i.opened_at())),
        accepted_at: i.accepted_at().map(timestamp),
        updated_at: Some(timestamp(i.updated_at())),
        feedback: i
            .feedback()
            .iter()
            .map(|f| pb::ItemFeedback {
                actor_id: f.actor.0.clone(),
                text: f.text.clone(),
                percent: f.percent.map(u32::from),
                at: Some(timestamp(f.at)),
            })
            .collect(),
        extension_until: i
            .extension()
            .map(|e| e.until.to_string())
            .unwrap_or_default(),
        extension_reason: i.extension().map(|e| e.reason.clone()).unwrap_or_default(),
        extensions: i
            .extensions()
            .iter()
            .map(|e| pb::ItemExtension {
                granted: e.granted,
                from: e.from.to_string(),
                until: e.until.to_string(),
                at: Some(timestamp(e.at)),
            })
            .collect(),
        result: i.completion().map(|c| c.result.clone()).unwrap_or_default(),
        closed_at: i.closed_at().map(timestamp),
        archive: i.archive().map(super::archive_record),
        opinions: i.opinions().iter().map(super::opinion).collect(),
        overdue: i.is_overdue(now),
        number: i.number().map(ToString::to_string).unwrap_or_default(),
        grade: i.grade().map_or(0, |g| super::grade(g) as i32),
        urged: i
            .urged()
            .iter()
            .map(|u| pb::ItemUrge {
                by: u.by.0.clone(),
                message: u.message.clone(),
                to: u.to.as_ref().map(|a| a.0.clone()).unwrap_or_default(),
                at: Some(timestamp(u.at)),
            })
            .collect(),
        co_inputs: i
            .co_inputs()
            .iter()
            .map(|(unit, c)| pb::ItemCoInput {
                unit: unit.0.clone(),
                actor_id: c.actor.0.clone(),
                text: c.text.clone(),
                at: Some(timestamp(c.at)),
            })
            .collect(),
        pending_co_units: i.pending_co_units().iter().map(|u| u.0.clone()).collect(),
    }
}

fn figures(f: &Figures) -> pb::BulletinFigures {
    pb::BulletinFigures {
        open_at_start: f.open_at_start,
        opened: f.opened,
        closed_on_time: f.closed_on_time,
        closed_late: f.closed_late,
        overdue_at_end: f.overdue_at_end,
        feedback_missed: f.feedback_missed,
        extensions_granted: f.extensions_granted,
        urged: f.urged,
        withdrawn: f.withdrawn,
    }
}

/// The month a request names, or `INVALID_ARGUMENT` naming `month`.
pub fn month(year: i32, month: u32) -> Result<Month, Status> {
    Month::new(year, month).ok_or_else(|| {
        invalid(
            "month",
            format!("{year}-{month:02} is not a month (month 1-12)"),
        )
    })
}

/// A bulletin to the wire, rendered in `format`, with the record of its publication if it
/// was published.
pub fn bulletin(
    b: &Bulletin,
    format: i32,
    published: Option<&Publication>,
) -> Result<pb::MonthlyBulletin, Status> {
    let (rendered, recorded) = match pb::BulletinFormat::try_from(format) {
        Ok(pb::BulletinFormat::Unspecified | pb::BulletinFormat::Json) => {
            (b.to_json(), published.map(|p| &p.digests().json))
        }
        Ok(pb::BulletinFormat::Csv) => (b.to_csv(), published.map(|p| &p.digests().csv)),
        Ok(pb::BulletinFormat::Markdown) => {
            (b.to_markdown(), published.map(|p| &p.digests().markdown))
        }
        Ok(pb::BulletinFormat::Html) => (b.to_html(), published.map(|p| &p.digests().html)),
        Err(_) => return Err(invalid("format", format!("{format} is not a format"))),
    };
    let sha256 = sha256_hex(&rendered);
    Ok(pb::MonthlyBulletin {
        year: b.month.year,
        month: b.month.month,
        as_of: Some(timestamp(b.as_of)),
        units: b
            .units
            .iter()
            .map(|u| pb::BulletinUnit {
                unit: u.unit.0.clone(),
                name: u.name.clone(),
                figures: Some(figures(&u.figures)),
            })
            .collect(),
        total: Some(figures(&b.total)),
        items: b
            .items
            .iter()
            .map(|i| pb::BulletinItem {
                id: i.id.to_string(),
                number: i.number.clone().unwrap_or_default(),
                title: i.title.clone(),
                leader: i.leader.clone(),
                lead_unit: i.lead_unit.0.clone(),
                lead_unit_name: i.lead_unit_name.clone(),
                co_units: i.co_units.iter().map(|u| u.0.clone()).collect(),
                co_unit_names: i.co_unit_names.clone(),
                source: i.source.clone(),
                requirements: i.requirements.clone(),
                step: i.step.clone(),
                deadline: i.deadline.to_string(),
                last_progress_on: i
                    .last_progress
                    .as_ref()
                    .map(|(d, _)| d.to_string())
                    .unwrap_or_default(),
                last_progress: i
                    .last_progress
                    .as_ref()
                    .map(|(_, t)| t.clone())
                    .unwrap_or_default(),
                urged: i.urged,
                grade: i.grade.clone().unwrap_or_default(),
            })
            .collect(),
        matches_publication: recorded == Some(&sha256),
        sha256,
        rendered,
        overdue_items: b.overdue.len() as u32,
        closed_items: b.closed.len() as u32,
        publication: published.map(publication),
    })
}

/// The record of a published bulletin to the wire.
fn publication(p: &Publication) -> pb::BulletinPublication {
    let d = p.digests();
    pb::BulletinPublication {
        document_id: p.id().to_string(),
        published_by: p.published_by().0.clone(),
        published_at: Some(timestamp(p.published_at())),
        clearance: classification(p.clearance()) as i32,
        items: p.items(),
        sha256_json: d.json.clone(),
        sha256_csv: d.csv.clone(),
        sha256_markdown: d.markdown.clone(),
        sha256_html: d.html.clone(),
    }
}
