//! Checks every flow's commands share: required texts, archival codes, roles, clearance.

use crate::context::Context;
use crate::directory::{Actor, Classification, Role};
use crate::error::Error;
use crate::ids::{ActorId, UnitCode};

/// The longest free text (body, opinion, reason), in characters.
pub const MAX_TEXT_CHARS: usize = 100_000;

/// An actor id without surrounding spaces.
pub(crate) fn trimmed(id: &ActorId) -> ActorId {
    ActorId(id.0.trim().to_owned())
}

/// Refuses an actor without `role`.
pub(crate) fn require_role(actor: &Actor, role: Role, command: &'static str) -> Result<(), Error> {
    if actor.has_role(role) {
        Ok(())
    } else {
        Err(Error::MissingRole {
            actor: actor.id.clone(),
            role,
            command,
        })
    }
}

/// Refuses an actor not cleared for `c`.
pub(crate) fn require_clearance(actor: &Actor, c: Classification) -> Result<(), Error> {
    if actor.may_see(c) {
        Ok(())
    } else {
        Err(Error::InsufficientClearance {
            actor: actor.id.clone(),
            clearance: actor.clearance,
            classification: c,
        })
    }
}

/// Refuses a text that is required and empty, or too long.
pub(crate) fn check_text(field: &str, text: &str, required: bool) -> Result<(), Error> {
    if required && text.trim().is_empty() {
        return Err(Error::field(field, "is required and may not be empty"));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(Error::field(
            field,
            format!("longer than {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(())
}

/// A classified document's classification period (保密期限, in years, in `field`) within
/// its cap; none for the others.
pub(crate) fn check_classification_period(
    field: &str,
    classification: Classification,
    period: Option<u32>,
) -> Result<(), Error> {
    match (classification.max_period_years(), period) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(Error::field(
            field,
            "an unclassified document has no classification period",
        )),
        (Some(_), None) => Err(Error::field(
            field,
            format!("a {classification} document needs a classification period"),
        )),
        (Some(cap), Some(p)) if p == 0 || p > cap => Err(Error::field(
            field,
            format!("{p} years is outside 1..={cap} for {classification}"),
        )),
        (Some(_), Some(_)) => Ok(()),
    }
}

/// An archival code (全宗号, 机构): 1–16 ASCII letters or digits.
pub(crate) fn check_code(field: &str, code: &str) -> Result<String, Error> {
    let code = code.trim();
    if code.is_empty() || code.len() > 16 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(Error::field(
            field,
            format!("{code:?} is not 1-16 ASCII letters or digits"),
        ));
    }
    Ok(code.to_owned())
}

/// An actor a command names (a reviewer, reader, leader, 责任人): exists, is active, holds
/// `role` if one is asked, and is cleared for `c`. Returns the id trimmed.
pub(crate) fn named_actor(
    ctx: &dyn Context,
    field: &str,
    id: &ActorId,
    role: Option<Role>,
    c: Classification,
) -> Result<ActorId, Error> {
    let id = trimmed(id);
    let Some(a) = ctx.actor(&id) else {
        return Err(Error::field(field, format!("unknown actor {id}")));
    };
    if ctx.is_deactivated(&id) {
        return Err(Error::NamedActorDeactivated {
            field: field.to_owned(),
            actor: id,
        });
    }
    // Who may act: a matter of permission, not of the request's form.
    if let Some(role) = role
        && !a.has_role(role)
    {
        return Err(Error::NamedActorMissingRole {
            field: field.to_owned(),
            actor: id,
            role,
        });
    }
    if !a.may_see(c) {
        return Err(Error::NamedActorClearance {
            field: field.to_owned(),
            actor: id,
            clearance: a.clearance,
            classification: c,
        });
    }
    Ok(id)
}

/// A unit a command names, which the directory must know. Returns its code trimmed.
pub(crate) fn known_unit(
    ctx: &dyn Context,
    field: &str,
    code: &UnitCode,
) -> Result<UnitCode, Error> {
    let code = UnitCode(code.0.trim().to_owned());
    ctx.unit(&code)
        .map(|u| u.code)
        .ok_or_else(|| Error::field(field, format!("unknown unit {code}")))
}

/// A unit named to handle a document of `classification` (a 收文's 主办 or 协办, a 督办
/// item's): refused unless someone active there may both handle it (a 承办人, `Handler`)
/// and open it (cleared for it) — otherwise it would wait where nobody can act on it.
pub(crate) fn cleared_handlers(
    ctx: &dyn Context,
    field: &str,
    unit: &UnitCode,
    classification: Classification,
) -> Result<(), Error> {
    if classification == Classification::None {
        return Ok(());
    }
    let able = ctx.actors_of(unit).iter().any(|a| {
        a.has_role(Role::Handler) && a.clearance >= classification && !ctx.is_deactivated(&a.id)
    });
    if able {
        Ok(())
    } else {
        Err(Error::NamedUnitClearance {
            field: field.to_owned(),
            unit: unit.clone(),
            classification,
        })
    }
}

/// [`cleared_handlers`] for a 主办 and its 协办 units, as the request names them:
/// `{prefix}lead_unit` and `{prefix}co_units[i]`.
pub(crate) fn cleared_units(
    ctx: &dyn Context,
    prefix: &str,
    lead: &UnitCode,
    co: &[UnitCode],
    classification: Classification,
) -> Result<(), Error> {
    cleared_handlers(ctx, &format!("{prefix}lead_unit"), lead, classification)?;
    for (i, u) in co.iter().enumerate() {
        cleared_handlers(ctx, &format!("{prefix}co_units[{i}]"), u, classification)?;
    }
    Ok(())
}

/// The retention to archive with (the schedule's unless the archivist chose another), the
/// schedule's, and the recorded deviation: another period needs a reason, a shorter one the
/// archive office's role. Shared by every flow that archives; `what` is the flow, 文种 and
/// importance the schedule is read for.
pub(crate) fn choose_retention(
    ctx: &dyn Context,
    actor: &Actor,
    command: &'static str,
    what: (crate::kind::StreamKind, Option<crate::kind::Kind>, bool),
    chosen: Option<crate::retention::Retention>,
    reason: &str,
) -> Result<
    (
        crate::retention::Retention,
        crate::retention::Retention,
        Option<String>,
    ),
    Error,
> {
    let (flow, kind, important) = what;
    let scheduled = ctx
        .retention_schedule()
        .retention_any(flow, kind, important);
    let what = match kind {
        Some(kind) => format!(
            "{}{} ({kind:?})",
            if important { "an important " } else { "a " },
            kind.chinese(),
        ),
        None => format!("a {flow:?} record"),
    };
    let retention = chosen.unwrap_or(scheduled);
    if retention == scheduled {
        if !reason.trim().is_empty() {
            return Err(Error::field(
                "deviation_reason",
                format!("is only for a retention other than the schedule's {scheduled} for {what}"),
            ));
        }
        return Ok((retention, scheduled, None));
    }
    if reason.trim().is_empty() {
        return Err(Error::field(
            "deviation_reason",
            format!(
                "retention {retention} differs from the schedule's {scheduled} for {what}: \
                 a deviation needs its reason"
            ),
        ));
    }
    check_text("deviation_reason", reason, true)?;
    if retention.is_shorter_than(scheduled) && !actor.has_role(Role::ArchiveOffice) {
        return Err(Error::MissingRole {
            actor: actor.id.clone(),
            role: Role::ArchiveOffice,
            command,
        });
    }
    Ok((retention, scheduled, Some(reason.trim().to_owned())))
}

/// What an archivist's 归档 command carries, in every flow: 全宗号, the retention chosen (or
/// none: the schedule's), the 机构 code, and why the retention differs from the schedule's.
pub(crate) struct ArchiveFields<'a> {
    pub(crate) fonds: &'a str,
    pub(crate) retention: Option<crate::retention::Retention>,
    pub(crate) unit_code: &'a str,
    pub(crate) deviation_reason: &'a str,
}

/// A 归档 decided: the 档号 with its 件号 drawn, the fixity digest of the events before it,
/// the schedule's retention and the recorded deviation.
pub(crate) struct Filing {
    pub(crate) reference: crate::numbering::ArchiveReference,
    pub(crate) fixity_hash: Option<String>,
    pub(crate) scheduled: crate::retention::Retention,
    pub(crate) deviation: Option<String>,
}

/// Decides a 归档 by `actor` (an archivist) of a record of `what` (flow, 文种, importance)
/// formed in `year` (年度): the codes checked, the retention chosen ([`choose_retention`]),
/// the next 件号 of the fonds, year and retention — one series for everything filed, every
/// flow alike, so that every 档号 is unique.
pub(crate) fn file(
    ctx: &dyn Context,
    actor: &Actor,
    command: &'static str,
    what: (crate::kind::StreamKind, Option<crate::kind::Kind>, bool),
    year: i32,
    asked: ArchiveFields<'_>,
) -> Result<Filing, Error> {
    require_role(actor, Role::Archivist, command)?;
    let fonds = check_code("fonds", asked.fonds)?;
    let unit = check_code("unit_code", asked.unit_code)?;
    let (retention, scheduled, deviation) = choose_retention(
        ctx,
        actor,
        command,
        what,
        asked.retention,
        asked.deviation_reason,
    )?;
    let item = ctx.next_number(&crate::numbering::Series::Item {
        fonds: fonds.clone(),
        year,
        retention,
    })?;
    Ok(Filing {
        reference: crate::numbering::ArchiveReference {
            fonds,
            year,
            retention,
            unit,
            item,
        },
        fixity_hash: ctx.fixity_hash()?,
        scheduled,
        deviation,
    })
}

/// A flow's step (or state), as a refusal names it.
pub(crate) trait StepName: Copy + PartialEq {
    /// Its stable name, e.g. `InReview`.
    fn name(self) -> &'static str;
    /// The office's word for it, e.g. 审核.
    fn chinese(self) -> &'static str;
}

macro_rules! step_names {
    ($($ty:ty),*) => {$(
        impl StepName for $ty {
            fn name(self) -> &'static str {
                <$ty>::name(self)
            }
            fn chinese(self) -> &'static str {
                <$ty>::chinese(self)
            }
        }
    )*};
}

step_names!(
    crate::outgoing::State,
    crate::incoming::Step,
    crate::supervision::ItemStep,
    crate::submission::Step
);

/// Refuses `command` unless the stream is at one of `allowed`, naming where it is.
pub(crate) fn require_step<S: StepName>(
    command: &'static str,
    now: S,
    allowed: &[S],
) -> Result<(), Error> {
    if allowed.contains(&now) {
        Ok(())
    } else {
        Err(Error::WrongState {
            command,
            state: now.name(),
            state_chinese: now.chinese(),
        })
    }
}

/// Ids (people, units) as a refusal lists them: `a, b, c`.
pub(crate) fn listed<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|t| t.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
