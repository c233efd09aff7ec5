//! The 签报 aggregate: a request to the school's leaders as the fold of its events, and
//! what can be read off it: whom it waits for, its route, its 批示 and its number.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::command::{Decision, MemoFields};
use crate::archive::ArchiveRecord;
use crate::directory::Role;
use crate::ids::{ActorId, DocumentId, Timestamp, UnitCode};
use crate::numbering::Series;
use crate::opinion::Opinion;
use crate::route::Stage;
use crate::todo::Assignee;

/// Where a 签报 stands (DESIGN §3c).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Step {
    /// 拟稿: the drafter edits.
    Drafting,
    /// 审核: the current review stage's reviewer acts (first the unit head).
    InReview,
    /// 会签: the departments of the current countersign stage act.
    Countersigning,
    /// 核稿: the general office checks it and adds its 拟办意见.
    OfficeReview,
    /// 待批示: the leaders, in turn.
    AwaitingInstruction,
    /// 已批示: back with its unit, which closes it.
    Decided,
    /// 已办结: waiting for the archivist.
    Closed,
    /// 已归档: terminal and immutable.
    Archived,
    /// 已作废: terminal.
    Voided,
}

impl Step {
    /// All steps, in flow order.
    pub const ALL: [Step; 9] = [
        Step::Drafting,
        Step::InReview,
        Step::Countersigning,
        Step::OfficeReview,
        Step::AwaitingInstruction,
        Step::Decided,
        Step::Closed,
        Step::Archived,
        Step::Voided,
    ];

    /// The Chinese term.
    pub fn chinese(self) -> &'static str {
        match self {
            Step::Drafting => "拟稿",
            Step::InReview => "审核",
            Step::Countersigning => "会签",
            Step::OfficeReview => "核稿",
            Step::AwaitingInstruction => "待批示",
            Step::Decided => "已批示",
            Step::Closed => "已办结",
            Step::Archived => "已归档",
            Step::Voided => "已作废",
        }
    }

    /// The name stored and shown, e.g. `OfficeReview`.
    pub fn name(self) -> &'static str {
        match self {
            Step::Drafting => "Drafting",
            Step::InReview => "InReview",
            Step::Countersigning => "Countersigning",
            Step::OfficeReview => "OfficeReview",
            Step::AwaitingInstruction => "AwaitingInstruction",
            Step::Decided => "Decided",
            Step::Closed => "Closed",
            Step::Archived => "Archived",
            Step::Voided => "Voided",
        }
    }

    /// Whether nothing more can happen.
    pub fn is_terminal(self) -> bool {
        matches!(self, Step::Archived | Step::Voided)
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?} ({})", self.chinese())
    }
}

/// 签报编号, e.g. `X校教签〔2026〕7号`: the unit's 签报 prefix, the year the office accepted
/// it, the sequence (gapless per prefix and year).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MemoNumber {
    /// The unit's 签报 prefix.
    pub prefix: String,
    /// The year of 核稿.
    pub year: i32,
    /// 1, 2, 3, … per prefix and year.
    pub seq: u32,
}

impl MemoNumber {
    /// The series this number is drawn from.
    pub fn series(&self) -> Series {
        Series::Memo {
            prefix: self.prefix.clone(),
            year: self.year,
        }
    }
}

impl fmt::Display for MemoNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}〔{}〕{}号", self.prefix, self.year, self.seq)
    }
}

/// One leader's 批示, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Directive {
    /// The leader.
    pub leader: ActorId,
    /// 同意 / 不同意 / 修改后同意.
    pub decision: Decision,
    /// The text.
    pub text: String,
    /// When.
    pub at: Timestamp,
}

/// A 签报 as the fold of its events. Built only by folding; there are no setters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Memo {
    pub(crate) id: DocumentId,
    pub(crate) version: u64,
    pub(crate) step: Step,
    pub(crate) fields: MemoFields,
    pub(crate) unit: UnitCode,
    pub(crate) drafter: ActorId,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
    pub(crate) revision: u32,
    pub(crate) round: u32,
    pub(crate) route: Vec<Stage>,
    pub(crate) current_stage: Option<usize>,
    pub(crate) number: Option<MemoNumber>,
    /// The leaders still to 批示 in this round, the first being the one it waits for.
    pub(crate) leaders: Vec<ActorId>,
    /// Every 批示, in order, across rounds.
    pub(crate) directives: Vec<Directive>,
    pub(crate) items: Vec<DocumentId>,
    pub(crate) closing_note: Option<String>,
    pub(crate) archive: Option<ArchiveRecord>,
    pub(crate) opinions: Vec<Opinion>,
    pub(crate) void_reason: Option<String>,
    pub(crate) reminders: u32,
}

impl Memo {
    /// The stage it is at, if it is in review or countersign.
    pub fn current(&self) -> Option<(usize, &Stage)> {
        let i = self.current_stage?;
        self.route.get(i).map(|s| (i, s))
    }

    /// The leader it waits for, while awaiting 批示.
    pub fn leader(&self) -> Option<&ActorId> {
        (self.step == Step::AwaitingInstruction)
            .then(|| self.leaders.first())
            .flatten()
    }

    /// What the leaders decided: the last 批示 of the round that decided it.
    pub fn decision(&self) -> Option<Decision> {
        match self.step {
            Step::Decided | Step::Closed | Step::Archived => {
                self.directives.last().map(|d| d.decision)
            }
            _ => None,
        }
    }

    /// Who it waits for now (its to-do entries).
    pub fn assignees(&self) -> Vec<Assignee> {
        let mut keys = match self.step {
            Step::Drafting => vec![Assignee::Actor(self.drafter.clone())],
            Step::InReview => self
                .current()
                .and_then(|(_, s)| s.acting_reviewer())
                .map(|r| vec![Assignee::Actor(r.clone())])
                .unwrap_or_default(),
            Step::Countersigning => self
                .current()
                .map(|(_, s)| s.pending())
                .unwrap_or_default()
                .into_iter()
                .map(|unit| Assignee::UnitRole {
                    unit,
                    role: Role::Countersigner,
                })
                .collect(),
            Step::OfficeReview => vec![
                Assignee::OfficeRole(Role::Clerk),
                Assignee::OfficeRole(Role::OfficeDirector),
            ],
            Step::AwaitingInstruction => self
                .leader()
                .map(|l| vec![Assignee::Actor(l.clone())])
                .unwrap_or_default(),
            // The unit reads the result and closes it: its drafter, or its head.
            Step::Decided => vec![
                Assignee::Actor(self.drafter.clone()),
                Assignee::UnitRole {
                    unit: self.unit.clone(),
                    role: Role::Reviewer,
                },
            ],
            Step::Closed => vec![Assignee::Role(Role::Archivist)],
            Step::Archived | Step::Voided => Vec::new(),
        };
        if let Some((_, s)) = self.current()
            && s.reminders > 0
            && let Some(to) = s.spec.escalate_to()
        {
            keys.push(Assignee::Actor(to.clone()));
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// The stream's id.
    pub fn id(&self) -> DocumentId {
        self.id
    }
    /// How many events made it.
    pub fn version(&self) -> u64 {
        self.version
    }
    /// Where it stands.
    pub fn step(&self) -> Step {
        self.step
    }
    /// Its fields (签报单).
    pub fn fields(&self) -> &MemoFields {
        &self.fields
    }
    /// 签报单位.
    pub fn unit(&self) -> &UnitCode {
        &self.unit
    }
    /// The drafter.
    pub fn drafter(&self) -> &ActorId {
        &self.drafter
    }
    /// When it was drafted.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }
    /// When the last event happened.
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }
    /// How many times its fields were set (1 after drafting).
    pub fn revision(&self) -> u32 {
        self.revision
    }
    /// The review round (0 before the first submission).
    pub fn round(&self) -> u32 {
        self.round
    }
    /// The route of the current (or last) round.
    pub fn route(&self) -> &[Stage] {
        &self.route
    }
    /// 签报编号, once the office accepted it.
    pub fn number(&self) -> Option<&MemoNumber> {
        self.number.as_ref()
    }
    /// The leaders still to 批示, the first being the one it waits for.
    pub fn pending_leaders(&self) -> &[ActorId] {
        &self.leaders
    }
    /// Every 批示, in order.
    pub fn directives(&self) -> &[Directive] {
        &self.directives
    }
    /// The 督办 items its 批示 opened.
    pub fn supervision_items(&self) -> &[DocumentId] {
        &self.items
    }
    /// 办结说明, once closed.
    pub fn closing_note(&self) -> Option<&str> {
        self.closing_note.as_deref()
    }
    /// The archive record, once archived.
    pub fn archive(&self) -> Option<&ArchiveRecord> {
        self.archive.as_ref()
    }
    /// Every opinion given, in order.
    pub fn opinions(&self) -> &[Opinion] {
        &self.opinions
    }
    /// Why it was voided.
    pub fn void_reason(&self) -> Option<&str> {
        self.void_reason.as_deref()
    }
    /// How many 催办 reminders its stages got.
    pub fn reminders(&self) -> u32 {
        self.reminders
    }
}
