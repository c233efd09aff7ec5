//! Checking a route given at submission, and folding a round along it: shared by the flows
//! that route (发文, 签报). The stages themselves are [`crate::route`]'s.

use std::collections::BTreeSet;

use chrono::Duration;

use crate::checks::trimmed;
use crate::context::Context;
use crate::directory::{Actor, Classification, Role};
use crate::error::Error;
use crate::ids::{ActorId, Timestamp, UnitCode};
use crate::route::{Completion, Stage, StageSpec};

/// Most stages a route may have.
pub const MAX_STAGES: usize = 50;
/// Most departments, recipients or co-issuers in one list.
pub const MAX_LIST: usize = 200;
/// Longest stage deadline, in days.
pub const MAX_DEADLINE_DAYS: u32 = 365;

/// Checks a route for a document of `classification`: at least one stage and at most
/// [`MAX_STAGES`], each reviewer a cleared `Reviewer`, each countersign stage able to
/// complete. Returns it with blanks trimmed, as it is recorded.
pub(crate) fn check_route(
    ctx: &dyn Context,
    classification: Classification,
    route: &[StageSpec],
) -> Result<Vec<StageSpec>, Error> {
    if route.is_empty() {
        return Err(Error::field("route", "a route needs at least one stage"));
    }
    if route.len() > MAX_STAGES {
        return Err(Error::field(
            "route",
            format!("a route has at most {MAX_STAGES} stages"),
        ));
    }
    for (i, stage) in route.iter().enumerate() {
        check_deadline(ctx, classification, i, stage)?;
        match stage {
            StageSpec::Review { reviewer, .. } => {
                check_reviewer(ctx, classification, i, reviewer)?;
            }
            StageSpec::Countersign {
                departments,
                completion,
                ..
            } => check_countersign(ctx, classification, i, departments, *completion)?,
        }
    }
    Ok(route.iter().map(normalized_stage).collect())
}

/// A stage's time limit and whom it escalates to.
fn check_deadline(
    ctx: &dyn Context,
    classification: Classification,
    i: usize,
    stage: &StageSpec,
) -> Result<(), Error> {
    if let Some(days) = stage.deadline_days()
        && (days == 0 || days > MAX_DEADLINE_DAYS)
    {
        return Err(Error::field(
            format!("route[{i}].deadline_days"),
            format!("must be between 1 and {MAX_DEADLINE_DAYS}"),
        ));
    }
    if let Some(to) = stage.escalate_to() {
        let field = format!("route[{i}].escalate_to");
        match ctx.actor(&trimmed(to)) {
            None => return Err(Error::field(field, format!("unknown actor {to}"))),
            Some(a) if ctx.is_deactivated(&a.id) => {
                return Err(Error::NamedActorDeactivated { field, actor: a.id });
            }
            Some(a) if !a.may_see(classification) => {
                return Err(Error::field(
                    field,
                    format!(
                        "actor {to} has clearance {} below {classification}",
                        a.clearance
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// A review stage's reviewer: exists, holds Reviewer, cleared for the document.
fn check_reviewer(
    ctx: &dyn Context,
    classification: Classification,
    i: usize,
    reviewer: &ActorId,
) -> Result<(), Error> {
    let field = format!("route[{i}].reviewer");
    if reviewer.0.trim().is_empty() {
        return Err(Error::field(field, "a review stage needs a reviewer"));
    }
    let Some(r) = ctx.actor(&trimmed(reviewer)) else {
        return Err(Error::field(field, format!("unknown actor {reviewer}")));
    };
    if ctx.is_deactivated(&r.id) {
        return Err(Error::NamedActorDeactivated { field, actor: r.id });
    }
    if !r.has_role(Role::Reviewer) {
        return Err(Error::field(
            field,
            format!("actor {reviewer} does not hold the role Reviewer"),
        ));
    }
    if !r.may_see(classification) {
        return Err(Error::field(
            field,
            format!(
                "actor {reviewer} has clearance {} below {classification}",
                r.clearance
            ),
        ));
    }
    Ok(())
}

/// A countersign stage's departments and rule, which must be able to complete.
fn check_countersign(
    ctx: &dyn Context,
    classification: Classification,
    i: usize,
    departments: &[UnitCode],
    completion: Completion,
) -> Result<(), Error> {
    if let Completion::Ratio { percent } = completion
        && !(1..=100).contains(&percent)
    {
        return Err(Error::field(
            format!("route[{i}].completion"),
            format!("a ratio is 1-100 percent, not {percent}"),
        ));
    }
    let field = format!("route[{i}].departments");
    if departments.is_empty() {
        return Err(Error::field(
            field,
            "a countersign stage needs at least one department",
        ));
    }
    if departments.len() > MAX_LIST {
        return Err(Error::field(
            field,
            format!("at most {MAX_LIST} departments"),
        ));
    }
    let mut seen = BTreeSet::new();
    let mut unable = Vec::new();
    for dep in departments {
        let code = UnitCode(dep.0.trim().to_owned());
        if code.0.is_empty() {
            return Err(Error::field(field, "a department may not be empty"));
        }
        if ctx.unit(&code).is_none() {
            return Err(Error::field(field, format!("unknown unit {code}")));
        }
        if !seen.insert(code.clone()) {
            return Err(Error::field(field, format!("{code} is listed twice")));
        }
        if let Some(why) = cannot_countersign(ctx, &code, classification) {
            unable.push(why);
        }
    }
    // A stage whose rule can never be met would wait for ever: refuse it now.
    let able = departments.len() - unable.len();
    let completes = match completion {
        Completion::All => unable.is_empty(),
        Completion::Any => able > 0,
        Completion::Ratio { percent } => able * 100 >= usize::from(percent) * departments.len(),
    };
    if !completes {
        return Err(Error::field(
            field,
            format!("{}: the stage could never complete", unable.join("; ")),
        ));
    }
    Ok(())
}

/// Why a department cannot countersign a document of this classification — no actor of it
/// holds `Countersigner` with the clearance — or `None` if it can.
pub(crate) fn cannot_countersign(
    ctx: &dyn Context,
    unit: &UnitCode,
    classification: Classification,
) -> Option<String> {
    let actors = ctx.actors_of(unit);
    let countersigners: Vec<&Actor> = actors
        .iter()
        .filter(|a| a.has_role(Role::Countersigner))
        .collect();
    if countersigners.is_empty() {
        return Some(format!("department {unit} has no countersigner (会签人)"));
    }
    if !countersigners.iter().any(|a| a.may_see(classification)) {
        return Some(format!(
            "department {unit} has no countersigner cleared for {classification} ({})",
            classification.chinese()
        ));
    }
    None
}

/// A stage as recorded: ids and codes without surrounding blanks.
pub(crate) fn normalized_stage(s: &StageSpec) -> StageSpec {
    match s {
        StageSpec::Review {
            reviewer,
            deadline_days,
            escalate_to,
        } => StageSpec::Review {
            reviewer: trimmed(reviewer),
            deadline_days: *deadline_days,
            escalate_to: escalate_to.as_ref().map(trimmed),
        },
        StageSpec::Countersign {
            departments,
            deadline_days,
            completion,
            escalate_to,
        } => StageSpec::Countersign {
            departments: departments
                .iter()
                .map(|u| UnitCode(u.0.trim().to_owned()))
                .collect(),
            deadline_days: *deadline_days,
            completion: *completion,
            escalate_to: escalate_to.as_ref().map(trimmed),
        },
    }
}

/// Starts stage `index` of `route` at `at` (its deadline counted from then): the stage it
/// started, or `None` past the last stage.
pub(crate) fn start_stage(route: &mut [Stage], index: usize, at: Timestamp) -> Option<&Stage> {
    let stage = route.get_mut(index)?;
    stage.started_at = Some(at);
    stage.due_at = stage
        .spec
        .deadline_days()
        .and_then(|d| at.checked_add_signed(Duration::days(i64::from(d))));
    Some(stage)
}

/// The idempotency key of the 催办 the stage `index` of a round is due at `now`, if it is
/// past its deadline and was not reminded within `interval_hours`: the same for every sweep
/// that finds the same overdue stage (stream, round, stage, its start, reminders so far).
pub(crate) fn reminder_key(
    id: crate::ids::DocumentId,
    round: u32,
    index: usize,
    stage: &Stage,
    now: Timestamp,
    interval_hours: u32,
) -> Option<String> {
    let overdue = stage.due_at.is_some_and(|at| now > at);
    let interval = Duration::hours(i64::from(interval_hours));
    let quiet = stage.last_reminded_at.is_none_or(|last| {
        last.checked_add_signed(interval)
            .is_some_and(|next| now >= next)
    });
    if !(overdue && quiet) {
        return None;
    }
    let started = stage.started_at.map_or(0, |t| t.timestamp_micros());
    Some(format!(
        "remind:{id}:{round}:{index}:{started}:{}",
        stage.reminders
    ))
}
