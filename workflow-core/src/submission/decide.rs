//! Deciding 签报 commands: each command in its own function, against the 签报, the acting
//! actor and the directory.

use std::collections::BTreeSet;

use chrono::Datelike;

use super::command::{Decision, MemoFields, SubmissionAction, Supervise};
use super::event::SubmissionEvent;
use super::state::{Memo, MemoNumber, Step};
use crate::checks::{
    check_classification_period, check_text, known_unit, named_actor, require_clearance,
    require_role,
};
use crate::context::Context;
use crate::directory::{Actor, Role};
use crate::error::Error;
use crate::flow::FlowCommand;
use crate::ids::{ActorId, DocumentId, SYSTEM_ACTOR, Timestamp, UnitCode, china_date};
use crate::kind::StreamKind;
use crate::numbering::Series;
use crate::route::{StageOutcome, StageSpec, stage_label};
use crate::routing::{MAX_LIST, check_route};

/// Longest title, in characters.
const MAX_TITLE: usize = 200;
/// Most leaders one 签报 goes to in turn.
const MAX_LEADERS: usize = 10;

/// Decides a 签报 command against its state (`None` for a new stream).
pub(crate) fn decide(
    memo: Option<&Memo>,
    cmd: &FlowCommand<SubmissionAction>,
    ctx: &dyn Context,
) -> Result<Vec<SubmissionEvent>, Error> {
    let name = cmd.action.name();
    if cmd.actor.0 == SYSTEM_ACTOR {
        // The engine itself, for the deadline sweep; it may do nothing else.
        return match (memo, &cmd.action) {
            (Some(m), SubmissionAction::RemindMemo { interval_hours }) => {
                remind(m, cmd.at, *interval_hours)
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
    let m = match (memo, &cmd.action) {
        (None, SubmissionAction::DraftMemo { fields }) => {
            return draft(cmd.document_id, &actor, fields, ctx);
        }
        (Some(m), SubmissionAction::DraftMemo { .. }) => return Err(Error::DocumentExists(m.id())),
        (None, _) => return Err(Error::DocumentNotFound(cmd.document_id)),
        (Some(m), _) => m,
    };
    require_clearance(&actor, m.fields().classification)?;
    let d = Decide {
        m,
        actor: &actor,
        at: cmd.at,
        ctx,
        name,
    };
    let events = dispatch(&d, &cmd.action, &actor)?;
    // Only once the actor may act at all: whose turn it is, and the step, come first.
    crate::content::require_shown(name, cmd.action.shown_content(), d.main_file())?;
    Ok(events)
}

fn dispatch(
    d: &Decide<'_>,
    action: &SubmissionAction,
    actor: &Actor,
) -> Result<Vec<SubmissionEvent>, Error> {
    let (m, name) = (d.m, d.name);
    match action {
        SubmissionAction::DraftMemo { .. } => Err(Error::DocumentExists(m.id())),
        SubmissionAction::ReviseMemo { fields } => d.revise(fields),
        SubmissionAction::SubmitMemo { route } => d.submit(route),
        SubmissionAction::ApproveMemo { opinion, stage, .. } => d.approve(opinion, *stage),
        SubmissionAction::CountersignMemo {
            agree,
            opinion,
            stage,
            ..
        } => d.countersign(*agree, opinion, *stage),
        SubmissionAction::ReturnMemo { reason } => d.return_(reason),
        SubmissionAction::AcceptMemo { opinion, leaders } => d.accept(opinion, leaders),
        SubmissionAction::EndorseMemo {
            decision,
            text,
            supervise,
            ..
        } => d.endorse(*decision, text, supervise.as_ref()),
        SubmissionAction::ReferMemo { to, opinion } => d.refer(to, opinion),
        SubmissionAction::CloseMemo { note } => d.close(note),
        SubmissionAction::ArchiveMemo {
            fonds,
            retention,
            unit_code,
            deviation_reason,
        } => d.archive(fonds, *retention, unit_code, deviation_reason),
        SubmissionAction::VoidMemo { reason } => d.void(reason),
        SubmissionAction::RemindMemo { .. } => Err(Error::NotAssigned {
            actor: actor.id.clone(),
            command: name,
            expected: "the engine's deadline sweep".into(),
        }),
    }
}

/// 拟稿: a drafter's 签报 for their own unit.
fn draft(
    document_id: DocumentId,
    actor: &Actor,
    fields: &MemoFields,
    ctx: &dyn Context,
) -> Result<Vec<SubmissionEvent>, Error> {
    require_role(actor, Role::Drafter, "DraftMemo")?;
    let fields = checked_fields(fields)?;
    require_clearance(actor, fields.classification)?;
    crate::content::check_files(ctx, &actor.id, "", &fields.files, &Default::default())?;
    Ok(vec![SubmissionEvent::MemoDrafted {
        document_id,
        fields,
        unit: actor.unit.clone(),
    }])
}

/// The fields checked (a title and a 事由, a classified one's 保密期限 within its cap), as
/// recorded (trimmed).
fn checked_fields(f: &MemoFields) -> Result<MemoFields, Error> {
    check_text("title", &f.title, true)?;
    if f.title.trim().chars().count() > MAX_TITLE {
        return Err(Error::field(
            "title",
            format!("longer than {MAX_TITLE} characters"),
        ));
    }
    check_text("summary", &f.summary, true)?;
    check_text("body", &f.body, false)?;
    check_classification_period(
        "classification_period_years",
        f.classification,
        f.classification_period_years,
    )?;
    Ok(MemoFields {
        title: f.title.trim().to_owned(),
        summary: f.summary.trim().to_owned(),
        ..f.clone()
    })
}

/// The 催办 the deadline sweep sends for a stage past its deadline.
fn remind(m: &Memo, at: Timestamp, interval_hours: u32) -> Result<Vec<SubmissionEvent>, Error> {
    let not_now = |reason: String| Error::NotNow {
        command: "RemindMemo",
        reason,
    };
    let Some((stage, current)) = m.current() else {
        return Err(not_now(format!("{} has no stage running", m.id())));
    };
    let Some(due_at) = current.due_at.filter(|due| at > *due) else {
        return Err(not_now(format!("{} is not overdue", stage_label(stage))));
    };
    if interval_hours == 0 {
        return Err(Error::field("interval_hours", "must be at least 1"));
    }
    if let Some(last) = current.last_reminded_at
        && last
            .checked_add_signed(chrono::Duration::hours(i64::from(interval_hours)))
            .is_none_or(|next| at < next)
    {
        return Err(not_now(format!(
            "already reminded at {last}, within the interval"
        )));
    }
    Ok(vec![SubmissionEvent::MemoReminded {
        stage,
        due_at,
        waiting_for: m.assignees().iter().map(ToString::to_string).collect(),
        escalated_to: current.spec.escalate_to().cloned(),
    }])
}

struct Decide<'a> {
    m: &'a Memo,
    actor: &'a Actor,
    at: Timestamp,
    ctx: &'a dyn Context,
    name: &'static str,
}

impl Decide<'_> {
    /// The digest of the 签报's 正文 file, if it has one: what an approval records.
    fn main_file(&self) -> Option<crate::content::Digest> {
        self.m.fields().files.main_digest().cloned()
    }

    fn require_step(&self, steps: &[Step]) -> Result<(), Error> {
        crate::checks::require_step(self.name, self.m.step(), steps)
    }

    fn not_now(&self, reason: impl Into<String>) -> Error {
        Error::NotNow {
            command: self.name,
            reason: reason.into(),
        }
    }

    fn not_assigned(&self, expected: impl Into<String>) -> Error {
        Error::NotAssigned {
            actor: self.actor.id.clone(),
            command: self.name,
            expected: expected.into(),
        }
    }

    fn require_drafter(&self) -> Result<(), Error> {
        if self.actor.id == *self.m.drafter() {
            Ok(())
        } else {
            Err(self.not_assigned(format!("its drafter ({})", self.m.drafter())))
        }
    }

    /// Refuses a command meant for a stage that is not the current one.
    fn require_meant_stage(&self, meant: Option<usize>) -> Result<(), Error> {
        let Some(meant) = meant else {
            return Ok(());
        };
        if self.m.current().is_some_and(|(i, _)| i == meant) {
            return Ok(());
        }
        let was = match self.m.route().get(meant) {
            Some(s) if s.completed => "completed",
            Some(s) if s.started_at.is_some() => "no longer current",
            Some(_) => "not started",
            None => "not in the route",
        };
        Err(Error::StageNotCurrent {
            command: self.name,
            meant,
            was,
            now: match self.m.current() {
                Some((i, _)) => stage_label(i),
                None => self.m.step().to_string(),
            },
        })
    }

    /// The current review stage, if the actor is its reviewer.
    fn require_reviewer(&self) -> Result<usize, Error> {
        let Some((i, stage)) = self.m.current() else {
            return Err(self.not_now("no stage is running"));
        };
        let Some(reviewer) = stage.acting_reviewer() else {
            return Err(self.not_now("the current stage is not a review"));
        };
        if self.actor.id != *reviewer {
            return Err(
                self.not_assigned(format!("{reviewer}, the reviewer of {}", stage_label(i)))
            );
        }
        require_role(self.actor, Role::Reviewer, self.name)?;
        Ok(i)
    }

    /// The current countersign stage and the actor's department, if it has still to sign.
    fn require_countersigner(&self) -> Result<(usize, UnitCode), Error> {
        let Some((i, stage)) = self.m.current() else {
            return Err(self.not_now("no stage is running"));
        };
        let StageSpec::Countersign { departments, .. } = &stage.spec else {
            return Err(self.not_now("the current stage is not a countersign"));
        };
        require_role(self.actor, Role::Countersigner, self.name)?;
        let unit = &self.actor.unit;
        if !departments.contains(unit) {
            return Err(self.not_assigned(format!(
                "a countersigner of {}",
                departments
                    .iter()
                    .map(UnitCode::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if stage.countersigns.contains_key(unit) {
            return Err(self.not_now(format!(
                "department {unit} has already countersigned in round {}",
                self.m.round()
            )));
        }
        Ok((i, unit.clone()))
    }

    /// A 核稿 actor: a clerk or the director of the general office.
    fn require_office(&self) -> Result<(), Error> {
        if !self.actor.has_role(Role::Clerk) && !self.actor.has_role(Role::OfficeDirector) {
            return require_role(self.actor, Role::Clerk, self.name);
        }
        if self.ctx.unit(&self.actor.unit).is_some_and(|u| u.office) {
            Ok(())
        } else {
            Err(self.not_assigned("a clerk or the director of the general office"))
        }
    }

    /// The leader it waits for.
    fn require_leader(&self) -> Result<(), Error> {
        self.require_step(&[Step::AwaitingInstruction])?;
        match self.m.leader() {
            Some(l) if *l == self.actor.id => Ok(()),
            other => Err(self.not_assigned(other.map_or_else(
                || "the leader it waits for".to_owned(),
                |l| format!("the leader it waits for ({l})"),
            ))),
        }
    }

    fn named(&self, field: &str, id: &ActorId, role: Option<Role>) -> Result<ActorId, Error> {
        named_actor(self.ctx, field, id, role, self.m.fields().classification)
    }

    fn revise(&self, fields: &MemoFields) -> Result<Vec<SubmissionEvent>, Error> {
        self.require_step(&[Step::Drafting])?;
        self.require_drafter()?;
        let fields = checked_fields(fields)?;
        require_clearance(self.actor, fields.classification)?;
        crate::content::check_files(
            self.ctx,
            &self.actor.id,
            "",
            &fields.files,
            &self.m.fields().files,
        )?;
        Ok(vec![SubmissionEvent::MemoRevised { fields }])
    }

    /// 送审: the route checked as 发文's, and its first stage the unit head's 审核.
    fn submit(&self, route: &[StageSpec]) -> Result<Vec<SubmissionEvent>, Error> {
        self.require_step(&[Step::Drafting])?;
        self.require_drafter()?;
        let route = check_route(self.ctx, self.m.fields().classification, route)?;
        let head = match route.first() {
            Some(StageSpec::Review { reviewer, .. }) => self.ctx.actor(reviewer),
            _ => None,
        };
        if head.is_none_or(|h| h.unit != *self.m.unit()) {
            return Err(Error::field(
                "route[0]",
                format!(
                    "a 签报 goes first to the 审核 of its unit's head: a review by a reviewer \
                     of {}",
                    self.m.unit()
                ),
            ));
        }
        // 会签 is by other units: the 签报单位's own view is its head's 审核.
        for (i, stage) in route.iter().enumerate() {
            if let StageSpec::Countersign { departments, .. } = stage
                && departments.contains(self.m.unit())
            {
                return Err(Error::field(
                    format!("route[{i}].departments"),
                    format!(
                        "{} is the 签报单位: 会签 is by other units (its head reviews it)",
                        self.m.unit()
                    ),
                ));
            }
        }
        Ok(vec![SubmissionEvent::MemoSubmitted {
            round: self.m.round() + 1,
            route,
        }])
    }

    fn approve(&self, opinion: &str, stage: Option<usize>) -> Result<Vec<SubmissionEvent>, Error> {
        self.require_meant_stage(stage)?;
        self.require_step(&[Step::InReview])?;
        let stage = self.require_reviewer()?;
        check_text("opinion", opinion, false)?;
        Ok(vec![SubmissionEvent::MemoApproved {
            content: self.main_file(),
            stage,
            opinion: opinion.trim().to_owned(),
        }])
    }

    fn countersign(
        &self,
        agree: bool,
        opinion: &str,
        stage: Option<usize>,
    ) -> Result<Vec<SubmissionEvent>, Error> {
        self.require_meant_stage(stage)?;
        self.require_step(&[Step::Countersigning])?;
        let (stage, unit) = self.require_countersigner()?;
        check_text("opinion", opinion, !agree)?;
        let mut after = self
            .m
            .current()
            .map(|(_, s)| s.clone())
            .ok_or_else(|| self.not_now("no stage is running"))?;
        after.countersigns.insert(unit.clone(), agree);
        let mut events = vec![SubmissionEvent::MemoCountersigned {
            content: self.main_file(),
            stage,
            unit,
            agree,
            opinion: opinion.trim().to_owned(),
        }];
        let pending = after.pending();
        if after.outcome() != StageOutcome::Pending && !pending.is_empty() {
            events.push(SubmissionEvent::MemoCountersignersNotNeeded {
                stage,
                units: pending,
            });
        }
        Ok(events)
    }

    /// 退回 to the drafter, by whoever it waits for now.
    fn return_(&self, reason: &str) -> Result<Vec<SubmissionEvent>, Error> {
        let from = self.m.step();
        match from {
            Step::InReview => {
                self.require_reviewer()?;
            }
            Step::Countersigning => {
                self.require_countersigner()?;
            }
            Step::OfficeReview => self.require_office()?,
            Step::AwaitingInstruction => self.require_leader()?,
            _ => {
                self.require_step(&[
                    Step::InReview,
                    Step::Countersigning,
                    Step::OfficeReview,
                    Step::AwaitingInstruction,
                ])?;
            }
        }
        check_text("reason", reason, true)?;
        Ok(vec![SubmissionEvent::MemoReturned {
            from,
            reason: reason.trim().to_owned(),
        }])
    }

    /// 核稿: the office's 拟办意见 and the leaders in turn; the 签报编号 drawn the first
    /// time, for the 签报单位 and the year of 核稿.
    fn accept(&self, opinion: &str, leaders: &[ActorId]) -> Result<Vec<SubmissionEvent>, Error> {
        self.require_step(&[Step::OfficeReview])?;
        self.require_office()?;
        check_text("opinion", opinion, true)?;
        if leaders.is_empty() {
            return Err(Error::field("leaders", "name at least one leader"));
        }
        if leaders.len() > MAX_LEADERS {
            return Err(Error::field(
                "leaders",
                format!("at most {MAX_LEADERS} leaders in turn"),
            ));
        }
        let mut seen = BTreeSet::new();
        let mut named = Vec::new();
        for (i, l) in leaders.iter().enumerate() {
            let field = format!("leaders[{i}]");
            let id = self.named(&field, l, Some(Role::Leader))?;
            if !seen.insert(id.clone()) {
                return Err(Error::field(field, format!("{id} is named twice")));
            }
            named.push(id);
        }
        let number = match self.m.number() {
            Some(_) => None,
            None => {
                let unit = self
                    .ctx
                    .unit(self.m.unit())
                    .ok_or_else(|| self.not_now(format!("unit {} is unknown", self.m.unit())))?;
                let prefix = unit.memo_prefix();
                let year = china_date(self.at).year();
                let seq = self.ctx.next_number(&Series::Memo {
                    prefix: prefix.clone(),
                    year,
                })?;
                Some(MemoNumber { prefix, year, seq })
            }
        };
        Ok(vec![SubmissionEvent::MemoAccepted {
            number,
            opinion: opinion.trim().to_owned(),
            leaders: named,
        }])
    }

    /// 批示 by the leader it waits for; one that agrees may open a 督办 item, once.
    fn endorse(
        &self,
        decision: Decision,
        text: &str,
        supervise: Option<&Supervise>,
    ) -> Result<Vec<SubmissionEvent>, Error> {
        self.require_leader()?;
        check_text("text", text, true)?;
        let supervise = match supervise {
            None => None,
            Some(_) if !decision.agrees() => {
                return Err(Error::field(
                    "supervise",
                    "only a 批示 that agrees opens a 督办 item",
                ));
            }
            Some(_) if self.m.pending_leaders().len() > 1 => {
                return Err(Error::field(
                    "supervise",
                    "in 会批 the last leader's 批示 decides: only it opens a 督办 item",
                ));
            }
            Some(_) if !self.m.supervision_items().is_empty() => {
                return Err(self.not_now(format!(
                    "a 批示 on it already opened the 督办 item {}",
                    self.m.supervision_items()[0]
                )));
            }
            Some(s) => {
                // The item names this leader as its 牵头领导: they must still be one.
                require_role(self.actor, Role::Leader, self.name)?;
                Some(self.supervise(s)?)
            }
        };
        Ok(vec![SubmissionEvent::MemoEndorsed {
            content: self.main_file(),
            decision,
            text: text.trim().to_owned(),
            supervise,
        }])
    }

    /// The 督办 item asked for: known, distinct units and a deadline not in the past.
    fn supervise(&self, s: &Supervise) -> Result<Supervise, Error> {
        let lead = match &s.lead_unit {
            Some(u) => known_unit(self.ctx, "supervise.lead_unit", u)?,
            None => self.m.unit().clone(),
        };
        if s.co_units.len() > MAX_LIST {
            return Err(Error::field(
                "supervise.co_units",
                format!("at most {MAX_LIST}"),
            ));
        }
        let mut co = Vec::new();
        for (i, u) in s.co_units.iter().enumerate() {
            let field = format!("supervise.co_units[{i}]");
            let u = known_unit(self.ctx, &field, u)?;
            if u == lead || co.contains(&u) {
                return Err(Error::field(
                    field,
                    format!("{u} is named twice (or is the lead unit)"),
                ));
            }
            co.push(u);
        }
        // The item goes where someone may handle a document of this classification.
        let c = self.m.fields().classification;
        crate::checks::cleared_units(self.ctx, "supervise.", &lead, &co, c)?;
        let today = china_date(self.at);
        if s.deadline < today {
            return Err(Error::field(
                "supervise.deadline",
                format!("{} is in the past (today is {today})", s.deadline),
            ));
        }
        Ok(Supervise {
            lead_unit: Some(lead),
            co_units: co,
            deadline: s.deadline,
        })
    }

    /// 转批 to another leader, who is not already to 批示 it.
    fn refer(&self, to: &ActorId, opinion: &str) -> Result<Vec<SubmissionEvent>, Error> {
        self.require_leader()?;
        check_text("opinion", opinion, false)?;
        let to = self.named("to", to, Some(Role::Leader))?;
        if to == self.actor.id {
            return Err(Error::field("to", "a leader cannot pass it to themselves"));
        }
        if self.m.pending_leaders().contains(&to) {
            return Err(Error::field(
                "to",
                format!("{to} is already among the leaders to 批示 it"),
            ));
        }
        Ok(vec![SubmissionEvent::MemoReferred {
            to,
            opinion: opinion.trim().to_owned(),
        }])
    }

    /// 办结 by the 签报单位: its drafter or a reviewer (the head) of the unit.
    fn close(&self, note: &str) -> Result<Vec<SubmissionEvent>, Error> {
        self.require_step(&[Step::Decided])?;
        let head = self.actor.unit == *self.m.unit() && self.actor.has_role(Role::Reviewer);
        if self.actor.id != *self.m.drafter() && !head {
            return Err(self.not_assigned(format!(
                "its drafter ({}) or a reviewer of {}",
                self.m.drafter(),
                self.m.unit()
            )));
        }
        check_text("note", note, false)?;
        Ok(vec![SubmissionEvent::MemoClosed {
            note: note.trim().to_owned(),
        }])
    }

    fn archive(
        &self,
        fonds: &str,
        retention: Option<crate::retention::Retention>,
        unit_code: &str,
        deviation_reason: &str,
    ) -> Result<Vec<SubmissionEvent>, Error> {
        self.require_step(&[Step::Closed])?;
        // 年度 of a 签报: the year of its number (of 核稿).
        let year = self
            .m
            .number()
            .map_or_else(|| china_date(self.m.created_at()).year(), |n| n.year);
        let f = crate::checks::file(
            self.ctx,
            self.actor,
            self.name,
            (StreamKind::Submission, None, self.m.fields().important),
            year,
            crate::checks::ArchiveFields {
                fonds,
                retention,
                unit_code,
                deviation_reason,
            },
        )?;
        Ok(vec![SubmissionEvent::MemoArchived {
            reference: f.reference,
            fixity_hash: f.fixity_hash,
            scheduled_retention: f.scheduled,
            deviation: f.deviation,
        }])
    }

    /// 作废 by the drafter before the office's 核稿: once it accepted it (and drew its
    /// 签报编号), a 签报 returned for changes goes on or is closed, but is not voided.
    fn void(&self, reason: &str) -> Result<Vec<SubmissionEvent>, Error> {
        self.require_step(&[Step::Drafting, Step::InReview, Step::Countersigning])?;
        self.require_drafter()?;
        if let Some(n) = self.m.number() {
            return Err(self.not_now(format!(
                "the office accepted it as {n} (核稿): a 签报 is voided only before that"
            )));
        }
        check_text("reason", reason, true)?;
        Ok(vec![SubmissionEvent::MemoVoided {
            reason: reason.trim().to_owned(),
        }])
    }
}
