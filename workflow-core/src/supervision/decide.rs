//! Deciding 督办 commands: each command in its own function, against the item, the acting
//! actor and the directory.

use chrono::{Datelike, NaiveDate};

use super::command::{Grade, ItemSpec, ReminderReason, Source, SupervisionAction};
use super::event::SupervisionEvent;
use super::state::{Item, ItemStep};
use crate::checks::{check_text, known_unit, named_actor, require_clearance, require_role};
use crate::context::Context;
use crate::directory::{Actor, Role};
use crate::error::Error;
use crate::flow::FlowCommand;
use crate::ids::SYSTEM_ACTOR;
use crate::ids::{ActorId, DocumentId, Timestamp, china_date};
use crate::kind::StreamKind;
use crate::numbering::{ItemNumber, Series};

/// Longest title or reference, in characters.
const MAX_LINE: usize = 200;
/// Most cooperating units.
const MAX_UNITS: usize = 200;
/// The furthest a 临近提醒 may come before the deadline, in days.
const MAX_WARN_DAYS: u32 = 365;

/// Decides a 督办 command against its item (`None` for a new stream).
pub(crate) fn decide(
    item: Option<&Item>,
    cmd: &FlowCommand<SupervisionAction>,
    ctx: &dyn Context,
) -> Result<Vec<SupervisionEvent>, Error> {
    let name = cmd.action.name();
    if cmd.actor.0 == SYSTEM_ACTOR {
        // The engine itself: the deadline sweep's reminders, and the item a 批办 asks for;
        // it may do nothing else.
        return match (item, &cmd.action) {
            (
                Some(i),
                SupervisionAction::RemindItem {
                    reason,
                    escalate_to,
                },
            ) => remind(i, cmd.at, *reason, escalate_to.as_ref()),
            (Some(i), SupervisionAction::WithdrawItem { unit, reason }) => {
                withdraw(i, unit, reason)
            }
            (None, SupervisionAction::OpenItem { spec }) if spec.source.linked().is_some() => {
                let spec = checked_spec(ctx, spec, None)?;
                Ok(vec![SupervisionEvent::ItemOpened {
                    document_id: cmd.document_id,
                    spec,
                    number: Some(next_number(ctx, cmd.at)?),
                    co_input_required: true,
                }])
            }
            _ => Err(Error::UnknownActor {
                actor: cmd.actor.clone(),
            }),
        };
    }
    let actor = ctx.actor(&cmd.actor).ok_or_else(|| Error::UnknownActor {
        actor: cmd.actor.clone(),
    })?;
    if ctx.is_deactivated(&actor.id) {
        return Err(Error::ActorDeactivated { actor: actor.id });
    }
    let item = match (item, &cmd.action) {
        (None, SupervisionAction::OpenItem { spec }) => {
            return open(cmd.document_id, &actor, spec, cmd.at, ctx);
        }
        (Some(i), SupervisionAction::OpenItem { .. }) => return Err(Error::DocumentExists(i.id())),
        (None, _) => return Err(Error::DocumentNotFound(cmd.document_id)),
        (Some(i), _) => i,
    };
    require_clearance(&actor, item.spec().classification)?;
    let d = Decide {
        item,
        actor: &actor,
        ctx,
        name,
    };
    match &cmd.action {
        SupervisionAction::OpenItem { .. } => Err(Error::DocumentExists(item.id())),
        SupervisionAction::AcceptItem { note } => d.accept(note),
        SupervisionAction::ReportProgress { text, percent } => d.progress(text, *percent),
        SupervisionAction::RequestItemExtension { until, reason } => {
            d.request_extension(*until, reason)
        }
        SupervisionAction::DecideItemExtension { grant, reason } => {
            d.decide_extension(*grant, reason)
        }
        SupervisionAction::ReportCompletion { result } => d.report_completion(result),
        SupervisionAction::CloseItem { note, grade } => d.close(note, *grade),
        SupervisionAction::ReturnItem { reason } => d.send_back(reason),
        SupervisionAction::UrgeItem { message } => d.urge(message),
        SupervisionAction::GiveItemInput { text } => d.co_input(text),
        SupervisionAction::ArchiveItem {
            fonds,
            retention,
            unit_code,
            deviation_reason,
        } => d.archive(fonds, *retention, unit_code, deviation_reason),
        SupervisionAction::RemindItem { .. } | SupervisionAction::WithdrawItem { .. } => {
            Err(Error::MissingRole {
                actor: actor.id.clone(),
                role: Role::Admin,
                command: name,
            })
        }
    }
}

/// 立项 by a supervisor: the fields checked against the directory. A 批办's item is opened by
/// the engine only (it names the 收文 it follows).
fn open(
    document_id: DocumentId,
    actor: &Actor,
    spec: &ItemSpec,
    at: Timestamp,
    ctx: &dyn Context,
) -> Result<Vec<SupervisionEvent>, Error> {
    require_role(actor, Role::Supervisor, "OpenItem")?;
    if let Some((what, _)) = spec.source.linked() {
        return Err(Error::field(
            "spec.source",
            format!(
                "an item following a leader's 批示 on a {what} is opened by the engine when \
                 the 批示 asks for it (InstructIncoming or EndorseMemo with supervise)"
            ),
        ));
    }
    require_clearance(actor, spec.classification)?;
    let spec = checked_spec(ctx, spec, Some(at))?;
    // Handled where someone may: checked here, for a person, not for the engine's own item
    // of a 批示 (that 批示 was checked so; a refused reaction would only be logged).
    crate::checks::cleared_units(
        ctx,
        "spec.",
        &spec.lead_unit,
        &spec.co_units,
        spec.classification,
    )?;
    Ok(vec![SupervisionEvent::ItemOpened {
        document_id,
        spec,
        number: Some(next_number(ctx, at)?),
        co_input_required: true,
    }])
}

/// The next 立项号 of the year (China time) of 立项.
fn next_number(ctx: &dyn Context, at: Timestamp) -> Result<ItemNumber, Error> {
    let year = china_date(at).year();
    let seq = ctx.next_number(&Series::Supervision { year })?;
    Ok(ItemNumber { year, seq })
}

/// An item's fields, trimmed and checked against the directory; `today_from`: the deadline
/// may not be in the past (a person opening it; the engine copies a deadline the 批办 already
/// checked).
fn checked_spec(
    ctx: &dyn Context,
    spec: &ItemSpec,
    today_from: Option<Timestamp>,
) -> Result<ItemSpec, Error> {
    let source = match &spec.source {
        Source::Meeting { reference } => Source::Meeting {
            reference: line("spec.source.reference", reference, true)?,
        },
        Source::KeyTask { reference } => Source::KeyTask {
            reference: line("spec.source.reference", reference, true)?,
        },
        other => other.clone(),
    };
    let title = line("spec.title", &spec.title, true)?;
    check_text("spec.requirements", &spec.requirements, true)?;
    let c = spec.classification;
    let leader = named_actor(ctx, "spec.leader", &spec.leader, Some(Role::Leader), c)?;
    let lead_unit = known_unit(ctx, "spec.lead_unit", &spec.lead_unit)?;
    let responsible = match &spec.responsible {
        Some(r) => {
            let id = named_actor(ctx, "spec.responsible", r, None, c)?;
            let unit = ctx.actor(&id).map(|a| a.unit);
            if unit.as_ref() != Some(&lead_unit) {
                return Err(Error::field(
                    "spec.responsible",
                    format!("{id} is not of the lead unit {lead_unit}"),
                ));
            }
            Some(id)
        }
        None => None,
    };
    if spec.co_units.len() > MAX_UNITS {
        return Err(Error::field(
            "spec.co_units",
            format!("at most {MAX_UNITS}"),
        ));
    }
    let mut co_units = Vec::new();
    for (i, u) in spec.co_units.iter().enumerate() {
        let field = format!("spec.co_units[{i}]");
        let u = known_unit(ctx, &field, u)?;
        if u == lead_unit || co_units.contains(&u) {
            return Err(Error::field(
                field,
                format!("{u} is named twice (or is the lead unit)"),
            ));
        }
        co_units.push(u);
    }
    if let Some(at) = today_from {
        let today = china_date(at);
        if spec.deadline < today {
            return Err(Error::field(
                "spec.deadline",
                format!("{} is in the past (today is {today})", spec.deadline),
            ));
        }
    }
    if spec.warn_days > MAX_WARN_DAYS {
        return Err(Error::field(
            "spec.warn_days",
            format!("at most {MAX_WARN_DAYS} days"),
        ));
    }
    Ok(ItemSpec {
        source,
        title,
        requirements: spec.requirements.trim().to_owned(),
        leader,
        lead_unit,
        responsible,
        co_units,
        deadline: spec.deadline,
        feedback: spec.feedback,
        warn_days: spec.warn_days,
        classification: c,
    })
}

/// A required or optional line of text, trimmed, at most [`MAX_LINE`] characters.
fn line(field: &str, value: &str, required: bool) -> Result<String, Error> {
    let v = value.trim();
    if required && v.is_empty() {
        return Err(Error::field(field, "is required and may not be empty"));
    }
    if v.chars().count() > MAX_LINE {
        return Err(Error::field(
            field,
            format!("longer than {MAX_LINE} characters"),
        ));
    }
    Ok(v.to_owned())
}

/// 撤销 by the engine, while the lead unit still has the item to do: a 批办 sent back leaves
/// nothing to follow up. An item reported complete, closed or withdrawn already stays.
fn withdraw(
    item: &Item,
    unit: &crate::ids::UnitCode,
    reason: &str,
) -> Result<Vec<SupervisionEvent>, Error> {
    // An item of an earlier 批办, led by another unit, is not this send-back's.
    if item.spec().lead_unit != *unit {
        return Err(Error::NotNow {
            command: "WithdrawItem",
            reason: format!(
                "督办 {} is led by {}, not by {unit}, which sent the 收文 back",
                item.id(),
                item.spec().lead_unit
            ),
        });
    }
    crate::checks::require_step("WithdrawItem", item.step(), &ItemStep::OPEN)?;
    check_text("reason", reason, true)?;
    Ok(vec![SupervisionEvent::ItemWithdrawn {
        reason: reason.trim().to_owned(),
    }])
}

/// A reminder by the deadline sweep, if it is due for that reason at `at`.
fn remind(
    item: &Item,
    at: Timestamp,
    reason: ReminderReason,
    escalate_to: Option<&ActorId>,
) -> Result<Vec<SupervisionEvent>, Error> {
    let due = match reason {
        ReminderReason::Feedback => item.next_feedback_due().filter(|d| *d < at),
        ReminderReason::Approaching => item
            .warning_due()
            .filter(|d| *d <= at && !item.is_overdue(at)),
        ReminderReason::Overdue => item.due_at().filter(|_| item.is_overdue(at)),
    };
    let Some(due) = due else {
        return Err(Error::NotNow {
            command: "RemindItem",
            reason: format!(
                "督办 {} is not due a {} ({}) at {at}",
                item.id(),
                reason.chinese(),
                item.step().chinese()
            ),
        });
    };
    let due_on = match reason {
        // The deadline itself, for the warning as for the overdue notice.
        ReminderReason::Approaching | ReminderReason::Overdue => item.deadline(),
        ReminderReason::Feedback => china_date(due),
    };
    Ok(vec![SupervisionEvent::ItemReminded {
        reason,
        due_on,
        escalated_to: escalate_to.cloned(),
    }])
}

struct Decide<'a> {
    item: &'a Item,
    actor: &'a Actor,
    ctx: &'a dyn Context,
    name: &'static str,
}

impl Decide<'_> {
    fn require_step(&self, steps: &[ItemStep]) -> Result<(), Error> {
        crate::checks::require_step(self.name, self.item.step(), steps)
    }

    fn not_now(&self, reason: impl Into<String>) -> Error {
        Error::NotNow {
            command: self.name,
            reason: reason.into(),
        }
    }

    /// The lead unit: its 责任人, or one of its handlers.
    fn require_lead(&self) -> Result<(), Error> {
        let lead = &self.item.spec().lead_unit;
        let is_responsible = self.item.responsible() == Some(&self.actor.id);
        let is_handler = self.actor.unit == *lead && self.actor.has_role(Role::Handler);
        if is_responsible || is_handler {
            Ok(())
        } else {
            Err(Error::NotAssigned {
                actor: self.actor.id.clone(),
                command: self.name,
                expected: match self.item.responsible() {
                    Some(r) => format!("the 责任人 {r} or a handler of the lead unit {lead}"),
                    None => format!("a handler of the lead unit {lead}"),
                },
            })
        }
    }

    fn accept(&self, note: &str) -> Result<Vec<SupervisionEvent>, Error> {
        self.require_step(&[ItemStep::Opened])?;
        check_text("note", note, false)?;
        // The named 责任人 signs; without one, a handler of the lead unit, who becomes it.
        let responsible = match self.item.responsible() {
            Some(r) if *r == self.actor.id => r.clone(),
            Some(r) => {
                return Err(Error::NotAssigned {
                    actor: self.actor.id.clone(),
                    command: self.name,
                    expected: format!("the 责任人 {r}"),
                });
            }
            None => {
                self.require_lead()?;
                self.actor.id.clone()
            }
        };
        Ok(vec![SupervisionEvent::ItemAccepted {
            responsible,
            note: note.trim().to_owned(),
        }])
    }

    fn progress(&self, text: &str, percent: Option<u8>) -> Result<Vec<SupervisionEvent>, Error> {
        self.require_step(&[ItemStep::Assigned, ItemStep::InProgress])?;
        self.require_lead()?;
        check_text("text", text, true)?;
        if let Some(p) = percent
            && p > 100
        {
            return Err(Error::field("percent", format!("{p} is over 100")));
        }
        Ok(vec![SupervisionEvent::ItemProgressReported {
            text: text.trim().to_owned(),
            percent,
        }])
    }

    fn request_extension(
        &self,
        until: NaiveDate,
        reason: &str,
    ) -> Result<Vec<SupervisionEvent>, Error> {
        self.require_step(&[ItemStep::Assigned, ItemStep::InProgress])?;
        self.require_lead()?;
        check_text("reason", reason, true)?;
        if self.item.extension().is_some() {
            return Err(self.not_now("an extension is pending already"));
        }
        if until <= self.item.deadline() {
            return Err(Error::field(
                "until",
                format!(
                    "{until} is not after the deadline in force {}",
                    self.item.deadline()
                ),
            ));
        }
        Ok(vec![SupervisionEvent::ItemExtensionRequested {
            until,
            reason: reason.trim().to_owned(),
        }])
    }

    fn decide_extension(&self, grant: bool, reason: &str) -> Result<Vec<SupervisionEvent>, Error> {
        self.require_step(&[ItemStep::Assigned, ItemStep::InProgress])?;
        require_role(self.actor, Role::Supervisor, self.name)?;
        check_text("reason", reason, !grant)?;
        let Some(ext) = self.item.extension() else {
            return Err(self.not_now("no extension is pending"));
        };
        Ok(vec![SupervisionEvent::ItemExtensionDecided {
            granted: grant,
            from: self.item.deadline(),
            until: ext.until,
            reason: reason.trim().to_owned(),
        }])
    }

    fn report_completion(&self, result: &str) -> Result<Vec<SupervisionEvent>, Error> {
        self.require_step(&[ItemStep::Assigned, ItemStep::InProgress])?;
        self.require_lead()?;
        check_text("result", result, true)?;
        Ok(vec![SupervisionEvent::ItemCompletionReported {
            result: result.trim().to_owned(),
        }])
    }

    /// 协办: a handler of a cooperating unit, once for the unit.
    fn co_input(&self, text: &str) -> Result<Vec<SupervisionEvent>, Error> {
        self.require_step(&[
            ItemStep::Opened,
            ItemStep::Assigned,
            ItemStep::InProgress,
            ItemStep::CompletionReported,
        ])?;
        require_role(self.actor, Role::Handler, self.name)?;
        let unit = &self.actor.unit;
        if !self.item.spec().co_units.contains(unit) {
            return Err(Error::NotAssigned {
                actor: self.actor.id.clone(),
                command: self.name,
                expected: format!(
                    "a handler of a 协办 unit ({})",
                    crate::checks::listed(&self.item.spec().co_units)
                ),
            });
        }
        if self.item.co_inputs().contains_key(unit) {
            return Err(self.not_now(format!("{unit} has given its input already")));
        }
        check_text("text", text, true)?;
        Ok(vec![SupervisionEvent::ItemCoInputGiven {
            unit: unit.clone(),
            text: text.trim().to_owned(),
        }])
    }

    fn close(&self, note: &str, grade: Option<Grade>) -> Result<Vec<SupervisionEvent>, Error> {
        self.require_step(&[ItemStep::CompletionReported])?;
        require_role(self.actor, Role::Supervisor, self.name)?;
        // 销号 once every 协办 unit has said what it did.
        let pending = self.item.pending_co_units();
        if !pending.is_empty() {
            return Err(self.not_now(format!(
                "协办 units still to give their input: {}",
                crate::checks::listed(pending)
            )));
        }
        // 不合格 says why.
        check_text("note", note, grade == Some(Grade::Poor))?;
        Ok(vec![SupervisionEvent::ItemClosed {
            note: note.trim().to_owned(),
            grade,
        }])
    }

    fn send_back(&self, reason: &str) -> Result<Vec<SupervisionEvent>, Error> {
        self.require_step(&[ItemStep::CompletionReported])?;
        require_role(self.actor, Role::Supervisor, self.name)?;
        check_text("reason", reason, true)?;
        Ok(vec![SupervisionEvent::ItemReturned {
            reason: reason.trim().to_owned(),
        }])
    }

    /// 催办 by hand: the item's 牵头领导 or a 督办员, while the lead unit has it to do.
    fn urge(&self, message: &str) -> Result<Vec<SupervisionEvent>, Error> {
        if self.actor.id != self.item.spec().leader {
            require_role(self.actor, Role::Supervisor, self.name)?;
        }
        self.require_step(&ItemStep::OPEN)?;
        check_text("message", message, true)?;
        Ok(vec![SupervisionEvent::ItemUrged {
            message: message.trim().to_owned(),
            to: self.item.responsible().cloned(),
        }])
    }

    fn archive(
        &self,
        fonds: &str,
        retention: Option<crate::retention::Retention>,
        unit_code: &str,
        deviation_reason: &str,
    ) -> Result<Vec<SupervisionEvent>, Error> {
        // A withdrawn item (its 批办 sent back) is filed too: its record is part of the
        // 办理过程.
        self.require_step(&[ItemStep::Closed, ItemStep::Withdrawn])?;
        // 年度 of an item: the year it was opened (立项).
        let year = china_date(self.item.opened_at()).year();
        let f = crate::checks::file(
            self.ctx,
            self.actor,
            self.name,
            (StreamKind::Supervision, None, false),
            year,
            crate::checks::ArchiveFields {
                fonds,
                retention,
                unit_code,
                deviation_reason,
            },
        )?;
        Ok(vec![SupervisionEvent::ItemArchived {
            reference: f.reference,
            fixity_hash: f.fixity_hash,
            scheduled_retention: f.scheduled,
            deviation: f.deviation,
        }])
    }
}
