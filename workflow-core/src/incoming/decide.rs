//! Deciding 收文 commands: each command in its own function, against the receipt, the
//! acting actor and the directory.

use std::collections::BTreeSet;

use chrono::{Datelike, NaiveDate};

use super::command::{Attachment, IncomingAction, Plan, Registration};
use super::event::IncomingEvent;
use super::state::{Receipt, Step};
use crate::checks::{check_text, known_unit, named_actor, require_clearance, require_role};
use crate::context::Context;
use crate::directory::{Actor, Role};
use crate::error::Error;
use crate::flow::FlowCommand;
use crate::ids::SYSTEM_ACTOR;
use crate::ids::{ActorId, Timestamp, UnitCode, china_date};
use crate::kind::StreamKind;
use crate::kind::Urgency;
use crate::numbering::{ReceiptNumber, Series};

/// Longest title, sender or reference, in characters.
const MAX_LINE: usize = 200;
/// Most readers, cooperating units or attachments in one list.
const MAX_LIST: usize = 200;

/// Decides a 收文 command against its receipt (`None` for a new stream).
pub(crate) fn decide(
    receipt: Option<&Receipt>,
    cmd: &FlowCommand<IncomingAction>,
    ctx: &dyn Context,
) -> Result<Vec<IncomingEvent>, Error> {
    let name = cmd.action.name();
    if cmd.actor.0 == SYSTEM_ACTOR {
        // The engine itself: the deadline sweep's 催办, and the 收文 of an acknowledged 发文
        // of this system; it may do nothing else.
        return match (receipt, &cmd.action) {
            (Some(r), IncomingAction::RemindIncoming { escalate_to }) => {
                remind(r, cmd.at, escalate_to.as_ref())
            }
            (
                None,
                IncomingAction::Register {
                    registration,
                    unit: Some(unit),
                },
            ) if registration.source.is_some() => {
                register_linked(cmd.document_id, registration, unit, ctx)
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
    let r = match (receipt, &cmd.action) {
        (None, IncomingAction::Register { registration, unit }) => {
            return register(
                cmd.document_id,
                &actor,
                registration,
                unit.as_ref(),
                cmd.at,
                ctx,
            );
        }
        (Some(r), IncomingAction::Register { .. }) => return Err(Error::DocumentExists(r.id())),
        (None, _) => return Err(Error::DocumentNotFound(cmd.document_id)),
        (Some(r), _) => r,
    };
    require_clearance(&actor, r.registration().classification)?;
    let d = Decide {
        r,
        actor: &actor,
        at: cmd.at,
        ctx,
        name,
    };
    match &cmd.action {
        IncomingAction::Register { .. } => Err(Error::DocumentExists(r.id())),
        IncomingAction::Screen { note, deadline } => d.screen(note, *deadline),
        IncomingAction::RejectIncoming { reason } => d.reject(reason),
        IncomingAction::Propose { plan, opinion } => d.propose(plan, opinion),
        IncomingAction::Instruct {
            lead_unit,
            co_units,
            deadline,
            opinion,
            supervise,
        } => d.instruct(lead_unit, co_units, *deadline, opinion, *supervise),
        IncomingAction::TransferInstruction { to, opinion } => d.transfer(to, opinion),
        IncomingAction::RecordProgress { text } => d.progress(text),
        IncomingAction::CoInput { text } => d.co_input(text),
        IncomingAction::RequestExtension { until, reason } => d.request_extension(*until, reason),
        IncomingAction::DecideExtension { grant, reason } => d.decide_extension(*grant, reason),
        IncomingAction::SendBack { reason } => d.send_back(reason),
        IncomingAction::Complete { result, reply } => d.complete(result, reply),
        IncomingAction::MarkRead { opinion } => d.mark_read(opinion),
        IncomingAction::AddReaders { readers, act_by } => d.add_readers(readers, *act_by),
        IncomingAction::CommentInstruction { opinion } => d.comment(opinion),
        IncomingAction::ArchiveIncoming {
            fonds,
            retention,
            unit_code,
            deviation_reason,
        } => d.archive(fonds, *retention, unit_code, deviation_reason),
        IncomingAction::UrgeIncoming { message } => d.urge(message),
        IncomingAction::ReturnSlip { note } => d.return_slip(note),
        IncomingAction::RemindIncoming { .. } => Err(Error::MissingRole {
            actor: actor.id.clone(),
            role: Role::Admin,
            command: name,
        }),
    }
}

/// 签收 and 登记: the registration checked, the 收文编号 drawn for the receiving unit and the
/// year of receipt.
fn register(
    document_id: crate::ids::DocumentId,
    actor: &Actor,
    reg: &Registration,
    unit: Option<&UnitCode>,
    at: Timestamp,
    ctx: &dyn Context,
) -> Result<Vec<IncomingEvent>, Error> {
    let name = "RegisterIncoming";
    require_role(actor, Role::Registrar, name)?;
    let unit_code = unit.cloned().unwrap_or_else(|| actor.unit.clone());
    let unit = ctx
        .unit(&unit_code)
        .ok_or_else(|| Error::field("unit", format!("unknown unit {unit_code}")))?;
    // A registrar registers for their own unit; the general office's for any unit.
    let own_office = ctx.unit(&actor.unit).is_some_and(|u| u.office);
    if unit.code != actor.unit && !own_office {
        return Err(Error::NotAssigned {
            actor: actor.id.clone(),
            command: name,
            expected: format!("a registrar of {} or of the general office", unit.code),
        });
    }
    if reg.source.is_some() {
        return Err(Error::field(
            "registration.source",
            "is set by the engine when a unit acknowledges an 发文 of this system",
        ));
    }
    check_registration(reg, true)?;
    // A 收文 is registered when it has come: not dated a day still to come.
    let today = china_date(at);
    if reg.received_on > today {
        return Err(Error::field(
            "registration.received_on",
            format!("{} is in the future (today is {today})", reg.received_on),
        ));
    }
    require_clearance(actor, reg.classification)?;
    crate::content::check_files(
        ctx,
        &actor.id,
        "registration.",
        &reg.files,
        &Default::default(),
    )?;
    // Attachments named by digest alone are held to the same rule: named well, kept,
    // uploaded by the registrar (a digest of bytes the engine does not keep would name
    // nothing to open), and not named among the files too.
    for (i, a) in reg.attachments.iter().enumerate() {
        let field = format!("registration.attachments[{i}]");
        if let Some(problem) = crate::content::name_problem(&a.name) {
            return Err(Error::field(format!("{field}.name"), problem));
        }
        let digest = crate::content::Digest::parse(&a.sha256)
            .ok_or_else(|| Error::field(format!("{field}.sha256"), "must be 64 hex digits"))?;
        if reg.files.refs().any(|f| f.digest == digest)
            || reg.attachments[..i]
                .iter()
                .any(|b| b.sha256.eq_ignore_ascii_case(digest.as_str()))
        {
            return Err(Error::field(
                format!("{field}.sha256"),
                format!("{digest} is named twice"),
            ));
        }
        if ctx.uploaded_file(&digest, &actor.id)?.is_none() {
            return Err(Error::FileNotUploaded {
                field,
                digest,
                actor: actor.id.clone(),
            });
        }
    }
    registered(document_id, reg, unit, ctx)
}

/// The 收文 the engine registers for a unit that acknowledged (签收) an 发文 of this system:
/// the registration copied from the 发文, the 收文编号 drawn as for any other.
fn register_linked(
    document_id: crate::ids::DocumentId,
    reg: &Registration,
    unit_code: &UnitCode,
    ctx: &dyn Context,
) -> Result<Vec<IncomingEvent>, Error> {
    let unit = ctx
        .unit(unit_code)
        .ok_or_else(|| Error::field("unit", format!("unknown unit {unit_code}")))?;
    check_registration(reg, false)?;
    registered(document_id, reg, unit, ctx)
}

/// The registration, with the next 收文编号 of the receiving unit for the year received.
fn registered(
    document_id: crate::ids::DocumentId,
    reg: &Registration,
    unit: crate::directory::Unit,
    ctx: &dyn Context,
) -> Result<Vec<IncomingEvent>, Error> {
    let prefix = unit.receiving_prefix();
    let year = reg.received_on.year();
    let seq = ctx.next_number(&Series::Receipt {
        prefix: prefix.clone(),
        year,
    })?;
    Ok(vec![IncomingEvent::Registered {
        document_id,
        registration: reg.clone(),
        unit: unit.code,
        number: ReceiptNumber { prefix, year, seq },
    }])
}

fn check_line(field: &str, value: &str, required: bool) -> Result<(), Error> {
    if required && value.trim().is_empty() {
        return Err(Error::field(field, "is required and may not be empty"));
    }
    if value.chars().count() > MAX_LINE {
        return Err(Error::field(
            field,
            format!("longer than {MAX_LINE} characters"),
        ));
    }
    Ok(())
}

/// Checks the registration fields; `deadline_rule`: a 特急/加急 document needs its 办结时限
/// now (a linked registration gets it at 初审).
fn check_registration(reg: &Registration, deadline_rule: bool) -> Result<(), Error> {
    check_line("registration.from", &reg.from, true)?;
    check_line("registration.from_number", &reg.from_number, false)?;
    check_line("registration.title", &reg.title, true)?;
    check_line("registration.copy_numbers", &reg.copy_numbers, false)?;
    // A classified 收文 that came on paper or by 机要 records the 份号 of its copies (GB/T
    // 9704: a classified document is numbered copy by copy).
    if reg.classification > crate::directory::Classification::None
        && matches!(
            reg.channel,
            Some(super::command::Channel::Paper | super::command::Channel::Confidential)
        )
        && reg.copy_numbers.trim().is_empty()
    {
        return Err(Error::field(
            "registration.copy_numbers",
            format!(
                "a {} 收文 received {} records the 份号 of its copies",
                reg.classification.chinese(),
                reg.channel.map(|c| c.chinese()).unwrap_or_default()
            ),
        ));
    }
    crate::checks::check_classification_period(
        "registration.classification_period_years",
        reg.classification,
        reg.classification_period_years,
    )?;
    if deadline_rule
        && matches!(reg.urgency, Urgency::Urgent | Urgency::ExtraUrgent)
        && reg.deadline.is_none()
    {
        return Err(Error::field(
            "registration.deadline",
            format!(
                "a {:?} ({}) document needs its 办结时限",
                reg.urgency,
                reg.urgency.chinese()
            ),
        ));
    }
    if let Some(d) = reg.deadline
        && d < reg.received_on
    {
        return Err(Error::field(
            "registration.deadline",
            format!("{d} is before the 收文日期 {}", reg.received_on),
        ));
    }
    if reg.attachments.len() > MAX_LIST {
        return Err(Error::field(
            "registration.attachments",
            format!("at most {MAX_LIST}"),
        ));
    }
    for (i, Attachment { name, sha256 }) in reg.attachments.iter().enumerate() {
        check_line(&format!("registration.attachments[{i}].name"), name, true)?;
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::field(
                format!("registration.attachments[{i}].sha256"),
                "must be the SHA-256 of the bytes, 64 hex digits",
            ));
        }
    }
    Ok(())
}

/// The 催办 the deadline sweep sends for an overdue step.
fn remind(
    r: &Receipt,
    at: Timestamp,
    escalate_to: Option<&ActorId>,
) -> Result<Vec<IncomingEvent>, Error> {
    let due_on = match (r.step(), r.deadline()) {
        (Step::InHandling, Some(d)) if r.is_overdue(at) => d,
        _ => {
            return Err(Error::NotNow {
                command: "RemindIncoming",
                reason: format!("收文 {} is not in handling past its deadline", r.number()),
            });
        }
    };
    Ok(vec![IncomingEvent::IncomingReminded {
        due_on,
        escalated_to: escalate_to.cloned(),
    }])
}

/// The steps a reader may mark a 收文 read in: a 传阅, and beside a 批办 until it is filed.
const READING: [Step; 5] = [
    Step::Proposing,
    Step::AwaitingInstruction,
    Step::InHandling,
    Step::Circulating,
    Step::Completed,
];

struct Decide<'a> {
    r: &'a Receipt,
    actor: &'a Actor,
    at: Timestamp,
    ctx: &'a dyn Context,
    name: &'static str,
}

impl Decide<'_> {
    fn require_step(&self, steps: &[Step]) -> Result<(), Error> {
        crate::checks::require_step(self.name, self.r.step(), steps)
    }

    fn require_any_role(&self, roles: &[Role]) -> Result<(), Error> {
        match roles.iter().find(|r| self.actor.has_role(**r)) {
            Some(_) => Ok(()),
            None => require_role(self.actor, roles[0], self.name),
        }
    }

    /// The lead unit's handler, while in handling.
    fn require_lead_handler(&self) -> Result<UnitCode, Error> {
        self.require_step(&[Step::InHandling])?;
        require_role(self.actor, Role::Handler, self.name)?;
        let lead = self
            .r
            .instruction()
            .map(|i| i.lead_unit.clone())
            .ok_or_else(|| self.not_now("there is no instruction"))?;
        if self.actor.unit != lead {
            return Err(Error::NotAssigned {
                actor: self.actor.id.clone(),
                command: self.name,
                expected: format!("a handler of the lead unit {lead}"),
            });
        }
        Ok(lead)
    }

    fn not_now(&self, reason: impl Into<String>) -> Error {
        Error::NotNow {
            command: self.name,
            reason: reason.into(),
        }
    }

    /// An actor to name (a reader, a leader): exists, active, cleared, holds `role` if any.
    fn named(&self, field: &str, id: &ActorId, role: Option<Role>) -> Result<ActorId, Error> {
        named_actor(
            self.ctx,
            field,
            id,
            role,
            self.r.registration().classification,
        )
    }

    fn unit(&self, field: &str, code: &UnitCode) -> Result<UnitCode, Error> {
        known_unit(self.ctx, field, code)
    }

    fn screen(&self, note: &str, deadline: Option<NaiveDate>) -> Result<Vec<IncomingEvent>, Error> {
        self.require_step(&[Step::Registered])?;
        self.require_office(&[Role::Registrar, Role::OfficeDirector])?;
        check_text("note", note, false)?;
        let reg = self.r.registration();
        if let Some(d) = deadline
            && d < reg.received_on
        {
            return Err(Error::field(
                "deadline",
                format!("{d} is before the 收文日期 {}", reg.received_on),
            ));
        }
        if deadline.or(self.r.deadline()).is_none()
            && matches!(reg.urgency, Urgency::Urgent | Urgency::ExtraUrgent)
        {
            return Err(Error::field(
                "deadline",
                format!(
                    "a {:?} ({}) 收文 needs its 办结时限 before it goes on",
                    reg.urgency,
                    reg.urgency.chinese()
                ),
            ));
        }
        Ok(vec![IncomingEvent::Screened {
            note: note.trim().to_owned(),
            deadline,
        }])
    }

    /// One of `roles`, in the receiving unit or in the general office (办公室), which
    /// handles 收文 for every unit.
    /// 催办 by hand: the office, while the lead unit handles it.
    fn urge(&self, message: &str) -> Result<Vec<IncomingEvent>, Error> {
        self.require_step(&[Step::InHandling])?;
        self.require_office(&[Role::Registrar, Role::OfficeDirector])?;
        check_text("message", message, true)?;
        let unit = self
            .r
            .instruction()
            .map(|i| i.lead_unit.clone())
            .ok_or_else(|| self.not_now("there is no instruction"))?;
        Ok(vec![IncomingEvent::IncomingUrged {
            message: message.trim().to_owned(),
            unit,
        }])
    }

    fn require_office(&self, roles: &[Role]) -> Result<(), Error> {
        self.require_any_role(roles)?;
        let own_office = self.ctx.unit(&self.actor.unit).is_some_and(|u| u.office);
        if self.actor.unit == *self.r.unit() || own_office {
            Ok(())
        } else {
            Err(Error::NotAssigned {
                actor: self.actor.id.clone(),
                command: self.name,
                expected: format!(
                    "a {} of {} or of the general office",
                    roles
                        .iter()
                        .map(|r| r.to_string())
                        .collect::<Vec<_>>()
                        .join("/"),
                    self.r.unit()
                ),
            })
        }
    }

    fn reject(&self, reason: &str) -> Result<Vec<IncomingEvent>, Error> {
        self.require_step(&[Step::Registered, Step::Proposing])?;
        // 退文 is 初审's; once screened the 收文 is the director's (拟办), who may still
        // send it back to its sender.
        if self.r.step() == Step::Proposing {
            self.require_office(&[Role::OfficeDirector])?;
        } else {
            self.require_office(&[Role::Registrar, Role::OfficeDirector])?;
        }
        check_text("reason", reason, true)?;
        Ok(vec![IncomingEvent::IncomingRejected {
            reason: reason.trim().to_owned(),
        }])
    }

    fn propose(&self, plan: &Plan, opinion: &str) -> Result<Vec<IncomingEvent>, Error> {
        self.require_step(&[Step::Proposing])?;
        self.require_office(&[Role::OfficeDirector])?;
        check_text("opinion", opinion, true)?;
        let plan = match plan {
            // 传阅 is for documents only to be read: it ends without a reply, so one whose
            // sender expects a reply goes to 批办.
            Plan::Circulate { .. } if self.r.registration().reply_required => {
                return Err(Error::field(
                    "plan",
                    "the sender expects a reply (是否需回复): propose 批办, so that a unit \
                     handles it and replies; 传阅 is for documents only to be read",
                ));
            }
            // A reader already on the list (passed round beside a 批办 before it was sent
            // back) keeps their place and mark: not named again.
            Plan::Circulate { readers, act_by } => Plan::Circulate {
                readers: self.readers(readers, &self.r.readers().keys().cloned().collect())?,
                act_by: self.act_by("plan.act_by", *act_by)?,
            },
            Plan::Instruct {
                leader,
                co_leaders,
                in_turn,
            } => {
                let leader = self.named("plan.leader", leader, Some(Role::Leader))?;
                if co_leaders.len() > MAX_LIST {
                    return Err(Error::field(
                        "plan.co_leaders",
                        format!("at most {MAX_LIST}"),
                    ));
                }
                let mut named = Vec::new();
                for (i, l) in co_leaders.iter().enumerate() {
                    let field = format!("plan.co_leaders[{i}]");
                    let l = self.named(&field, l, Some(Role::Leader))?;
                    if l == leader || named.contains(&l) {
                        return Err(Error::field(
                            field,
                            format!("{l} is named twice (or is the deciding leader)"),
                        ));
                    }
                    named.push(l);
                }
                Plan::Instruct {
                    leader,
                    in_turn: *in_turn && !named.is_empty(),
                    co_leaders: named,
                }
            }
        };
        Ok(vec![IncomingEvent::HandlingProposed {
            plan,
            opinion: opinion.trim().to_owned(),
        }])
    }

    /// Readers to add: at least one, each named once, none already on the list.
    fn readers(
        &self,
        readers: &[ActorId],
        already: &BTreeSet<ActorId>,
    ) -> Result<Vec<ActorId>, Error> {
        if readers.is_empty() {
            return Err(Error::field("readers", "name at least one reader"));
        }
        if readers.len() > MAX_LIST {
            return Err(Error::field("readers", format!("at most {MAX_LIST}")));
        }
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (i, r) in readers.iter().enumerate() {
            let id = self.named(&format!("readers[{i}]"), r, None)?;
            if already.contains(&id) || !seen.insert(id.clone()) {
                return Err(Error::field(
                    format!("readers[{i}]"),
                    format!("{id} is on the list already"),
                ));
            }
            out.push(id);
        }
        Ok(out)
    }

    /// 阅办's day, where given: not before today.
    fn act_by(&self, field: &str, day: Option<NaiveDate>) -> Result<Option<NaiveDate>, Error> {
        let today = china_date(self.at);
        match day {
            Some(d) if d < today => Err(Error::field(
                field,
                format!("{d} is in the past (today is {today})"),
            )),
            other => Ok(other),
        }
    }

    /// The deciding leader, once every co-leader of a 会批 gave their 批示意见.
    fn require_leader(&self) -> Result<(), Error> {
        self.require_step(&[Step::AwaitingInstruction])?;
        match self.r.leader() {
            Some(l) if *l == self.actor.id => match self.r.pending_co_leaders().as_slice() {
                [] => Ok(()),
                pending => Err(self.not_now(format!(
                    "会批: {} still to give their 批示意见 first",
                    crate::checks::listed(pending)
                ))),
            },
            other => Err(Error::NotAssigned {
                actor: self.actor.id.clone(),
                command: self.name,
                expected: other.map_or_else(
                    || "the leader it waits for".to_owned(),
                    |l| format!("the leader it waits for ({l})"),
                ),
            }),
        }
    }

    fn instruct(
        &self,
        lead_unit: &UnitCode,
        co_units: &[UnitCode],
        deadline: NaiveDate,
        opinion: &str,
        supervise: bool,
    ) -> Result<Vec<IncomingEvent>, Error> {
        self.require_leader()?;
        check_text("opinion", opinion, true)?;
        let lead = self.unit("lead_unit", lead_unit)?;
        if co_units.len() > MAX_LIST {
            return Err(Error::field("co_units", format!("at most {MAX_LIST}")));
        }
        let mut co = Vec::new();
        for (i, u) in co_units.iter().enumerate() {
            let field = format!("co_units[{i}]");
            let u = self.unit(&field, u)?;
            if u == lead || co.contains(&u) {
                return Err(Error::field(
                    field,
                    format!("{u} is named twice (or is the lead unit)"),
                ));
            }
            co.push(u);
        }
        // A classified 收文 goes only where someone active may handle and open it.
        let c = self.r.registration().classification;
        crate::checks::cleared_units(self.ctx, "", &lead, &co, c)?;
        let today = china_date(self.at);
        if deadline < today {
            return Err(Error::field(
                "deadline",
                format!("{deadline} is in the past (today is {today})"),
            ));
        }
        Ok(vec![IncomingEvent::Instructed {
            lead_unit: lead,
            co_units: co,
            deadline,
            opinion: opinion.trim().to_owned(),
            supervise,
        }])
    }

    /// 会批: a co-leader's 批示意见, in their turn.
    fn comment(&self, opinion: &str) -> Result<Vec<IncomingEvent>, Error> {
        self.require_step(&[Step::AwaitingInstruction])?;
        if !self.r.pending_co_leaders().contains(&&self.actor.id) {
            return Err(Error::NotAssigned {
                actor: self.actor.id.clone(),
                command: self.name,
                expected: "a leader named for 会批 who has not given their 批示意见".to_owned(),
            });
        }
        if !self.r.awaited_leaders().contains(&&self.actor.id) {
            return Err(self.not_now(format!(
                "会批 in turn: {} gives theirs first",
                crate::checks::listed(self.r.awaited_leaders())
            )));
        }
        check_text("opinion", opinion, true)?;
        Ok(vec![IncomingEvent::InstructionCommented {
            opinion: opinion.trim().to_owned(),
        }])
    }

    /// 转批, as before 会批: the deciding leader passes it on at any time (the 会批 opinions
    /// given stay; the new leader's 批示 waits for the co-leaders still to give theirs).
    fn transfer(&self, to: &ActorId, opinion: &str) -> Result<Vec<IncomingEvent>, Error> {
        self.require_step(&[Step::AwaitingInstruction])?;
        if self.r.leader() != Some(&self.actor.id) {
            return Err(Error::NotAssigned {
                actor: self.actor.id.clone(),
                command: self.name,
                expected: self.r.leader().map_or_else(
                    || "the leader it waits for".to_owned(),
                    |l| format!("the leader it waits for ({l})"),
                ),
            });
        }
        check_text("opinion", opinion, false)?;
        let to = self.named("to", to, Some(Role::Leader))?;
        if to == self.actor.id {
            return Err(Error::field("to", "a leader cannot pass it to themselves"));
        }
        if matches!(self.r.plan(), Some(Plan::Instruct { co_leaders, .. }) if co_leaders.contains(&to))
        {
            return Err(Error::field(
                "to",
                format!("{to} gives a 批示意见 in this 会批: pass it to another leader"),
            ));
        }
        Ok(vec![IncomingEvent::InstructionTransferred {
            to,
            opinion: opinion.trim().to_owned(),
        }])
    }

    fn progress(&self, text: &str) -> Result<Vec<IncomingEvent>, Error> {
        let unit = self.require_lead_handler()?;
        check_text("text", text, true)?;
        Ok(vec![IncomingEvent::ProgressRecorded {
            unit,
            text: text.trim().to_owned(),
        }])
    }

    fn co_input(&self, text: &str) -> Result<Vec<IncomingEvent>, Error> {
        self.require_step(&[Step::InHandling])?;
        require_role(self.actor, Role::Handler, self.name)?;
        check_text("text", text, true)?;
        let unit = self.actor.unit.clone();
        let is_co = self
            .r
            .instruction()
            .is_some_and(|i| i.co_units.contains(&unit));
        if !is_co {
            return Err(Error::NotAssigned {
                actor: self.actor.id.clone(),
                command: self.name,
                expected: format!(
                    "a handler of a cooperating unit ({})",
                    self.r
                        .instruction()
                        .map(|i| crate::checks::listed(&i.co_units))
                        .unwrap_or_default()
                ),
            });
        }
        if self.r.co_inputs().contains_key(&unit) {
            return Err(self.not_now(format!("{unit} has given its input already")));
        }
        Ok(vec![IncomingEvent::CoInputGiven {
            unit,
            text: text.trim().to_owned(),
        }])
    }

    fn request_extension(
        &self,
        until: NaiveDate,
        reason: &str,
    ) -> Result<Vec<IncomingEvent>, Error> {
        self.require_lead_handler()?;
        check_text("reason", reason, true)?;
        if self.r.extension().is_some() {
            return Err(self.not_now("an extension is pending already"));
        }
        if let Some(current) = self.r.deadline()
            && until <= current
        {
            return Err(Error::field(
                "until",
                format!("{until} is not after the current deadline {current}"),
            ));
        }
        Ok(vec![IncomingEvent::ExtensionRequested {
            until,
            reason: reason.trim().to_owned(),
        }])
    }

    fn decide_extension(&self, grant: bool, reason: &str) -> Result<Vec<IncomingEvent>, Error> {
        self.require_step(&[Step::InHandling])?;
        self.require_office(&[Role::OfficeDirector])?;
        check_text("reason", reason, !grant)?;
        let Some(ext) = self.r.extension() else {
            return Err(self.not_now("no extension is pending"));
        };
        Ok(vec![IncomingEvent::ExtensionDecided {
            granted: grant,
            from: self.r.deadline().unwrap_or(ext.until),
            until: ext.until,
            reason: reason.trim().to_owned(),
        }])
    }

    fn send_back(&self, reason: &str) -> Result<Vec<IncomingEvent>, Error> {
        let unit = self.require_lead_handler()?;
        check_text("reason", reason, true)?;
        Ok(vec![IncomingEvent::SentBack {
            unit,
            reason: reason.trim().to_owned(),
        }])
    }

    fn complete(&self, result: &str, reply: &str) -> Result<Vec<IncomingEvent>, Error> {
        self.require_lead_handler()?;
        check_text("result", result, true)?;
        check_text("reply", reply, self.r.registration().reply_required).map_err(|e| match e {
            Error::InvalidField { field, .. } if reply.trim().is_empty() => Error::InvalidField {
                field,
                reason:
                    "the sender expects a reply (是否需回复): give the reply's reference or text"
                        .into(),
            },
            other => other,
        })?;
        Ok(vec![IncomingEvent::IncomingCompleted {
            result: result.trim().to_owned(),
            reply: reply.trim().to_owned(),
        }])
    }

    fn mark_read(&self, opinion: &str) -> Result<Vec<IncomingEvent>, Error> {
        // In a 传阅, and beside a 批办 (批示件传阅) until it is filed.
        self.require_step(&READING)?;
        // 阅办: the reader acts, and says how.
        let acting = self.r.acting().contains_key(&self.actor.id);
        check_text("opinion", opinion, acting)?;
        match self.r.readers().get(&self.actor.id) {
            Some(None) => Ok(vec![IncomingEvent::Read {
                opinion: opinion.trim().to_owned(),
            }]),
            Some(Some(_)) => Err(self.not_now(format!("{} has read it already", self.actor.id))),
            None => Err(Error::NotAssigned {
                actor: self.actor.id.clone(),
                command: self.name,
                expected: format!("a reader ({})", crate::checks::listed(self.r.unread())),
            }),
        }
    }

    /// 回执已回: the office, once, where the sender asked for one.
    fn return_slip(&self, note: &str) -> Result<Vec<IncomingEvent>, Error> {
        self.require_office(&[Role::Registrar, Role::OfficeDirector])?;
        if self.r.step() == Step::Rejected {
            return Err(self.not_now("a 收文 sent back to its sender (退文) returns no 回执"));
        }
        // A filed record is not written to.
        if self.r.step() == Step::Archived {
            return Err(Error::WrongState {
                command: self.name,
                state: Step::Archived.name(),
                state_chinese: Step::Archived.chinese(),
            });
        }
        if !self.r.registration().slip_required {
            return Err(self.not_now("the sender asked for no 回执"));
        }
        if self.r.slip_returned().is_some() {
            return Err(self.not_now("the 回执 was returned already"));
        }
        check_text("note", note, false)?;
        Ok(vec![IncomingEvent::SlipReturned {
            note: note.trim().to_owned(),
        }])
    }

    /// 传阅 to more readers: the office director, or the leader whose 批示 it carries.
    fn add_readers(
        &self,
        readers: &[ActorId],
        act_by: Option<NaiveDate>,
    ) -> Result<Vec<IncomingEvent>, Error> {
        self.require_step(&[
            Step::AwaitingInstruction,
            Step::InHandling,
            Step::Circulating,
            Step::Completed,
        ])?;
        let instructed_by_them = self
            .r
            .instruction()
            .is_some_and(|i| i.leader == self.actor.id);
        if !instructed_by_them {
            self.require_office(&[Role::OfficeDirector])?;
        }
        let already = self.r.readers().keys().cloned().collect();
        Ok(vec![IncomingEvent::ReadersAdded {
            readers: self.readers(readers, &already)?,
            act_by: self.act_by("act_by", act_by)?,
        }])
    }

    fn archive(
        &self,
        fonds: &str,
        retention: Option<crate::retention::Retention>,
        unit_code: &str,
        deviation_reason: &str,
    ) -> Result<Vec<IncomingEvent>, Error> {
        self.require_step(&[Step::Completed])?;
        // 年度 of a 收文: the year it was received (its 收文日期).
        let year = self.r.registration().received_on.year();
        let f = crate::checks::file(
            self.ctx,
            self.actor,
            self.name,
            (
                StreamKind::Incoming,
                Some(self.r.registration().kind),
                self.r.registration().important,
            ),
            year,
            crate::checks::ArchiveFields {
                fonds,
                retention,
                unit_code,
                deviation_reason,
            },
        )?;
        // The 办理过程 is whole before it is filed: every reader has read it.
        let unread = self.r.unread();
        if !unread.is_empty() {
            return Err(self.not_now(format!(
                "传阅未完: {} still to read it",
                crate::checks::listed(unread)
            )));
        }
        Ok(vec![IncomingEvent::IncomingArchived {
            reference: f.reference,
            fixity_hash: f.fixity_hash,
            scheduled_retention: f.scheduled,
            deviation: f.deviation,
        }])
    }
}
