//! The 发文 aggregate: an outgoing document's state (the fold of its events) and what can be
//! read off it: who it waits for, whether it is overdue, its signatures and numbers.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::archive::ArchiveRecord;
use crate::directory::{Classification, Role};
use crate::ids::{ActorId, DocumentId, Timestamp, UnitCode};
use crate::kind::Kind;
use crate::numbering::DocumentNumber;
use crate::opinion::Opinion;
use crate::outgoing::command::DraftFields;
use crate::route::{Stage, StageSpec};
use crate::todo::Assignee;

/// Where a document stands (DESIGN §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum State {
    /// 拟稿: the drafter edits.
    Drafting,
    /// 审核/核稿: the current review stage's reviewer acts.
    InReview,
    /// 会签: the departments of the current countersign stage act in parallel.
    Countersigning,
    /// 待签发: waiting for the required signatures.
    AwaitingSignOff,
    /// 已签发: waiting for the office to issue.
    SignedOff,
    /// 已印发: distributed; recipients acknowledge; the archivist archives.
    Issued,
    /// 已归档: terminal and immutable.
    Archived,
    /// 已作废: terminal.
    Voided,
}

impl State {
    /// All states, in flow order.
    pub const ALL: [State; 8] = [
        State::Drafting,
        State::InReview,
        State::Countersigning,
        State::AwaitingSignOff,
        State::SignedOff,
        State::Issued,
        State::Archived,
        State::Voided,
    ];

    /// The Chinese term.
    pub fn chinese(self) -> &'static str {
        match self {
            State::Drafting => "拟稿",
            State::InReview => "审核",
            State::Countersigning => "会签",
            State::AwaitingSignOff => "待签发",
            State::SignedOff => "已签发",
            State::Issued => "已印发",
            State::Archived => "已归档",
            State::Voided => "已作废",
        }
    }

    /// The name stored and shown, e.g. `InReview`.
    pub fn name(self) -> &'static str {
        match self {
            State::Drafting => "Drafting",
            State::InReview => "InReview",
            State::Countersigning => "Countersigning",
            State::AwaitingSignOff => "AwaitingSignOff",
            State::SignedOff => "SignedOff",
            State::Issued => "Issued",
            State::Archived => "Archived",
            State::Voided => "Voided",
        }
    }

    /// Whether nothing more can happen.
    pub fn is_terminal(self) -> bool {
        matches!(self, State::Archived | State::Voided)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?} ({})", self.chinese())
    }
}

/// One signature (签发).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// The issuing unit signed for.
    pub unit: UnitCode,
    /// The signer.
    pub actor: ActorId,
    /// The signer's name as recorded.
    pub name: String,
    /// 签发意见.
    pub opinion: String,
    /// The full date.
    pub date: NaiveDate,
}

/// The issue record (印发).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueRecord {
    /// 发文字号.
    pub number: DocumentNumber,
    /// 印发日期.
    pub issue_date: NaiveDate,
    /// 份数.
    pub copies: u32,
    /// 主送.
    pub main_recipients: Vec<String>,
    /// 抄送.
    pub cc: Vec<String>,
    /// The issued 公文 as printed, where it was rendered at 印发 (see `Issued`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printed: Option<crate::content::FileRef>,
}

/// A document (公文) as the fold of its events.
///
/// Built only by [`Document::from_events`] / [`Document::apply`]; there are no setters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub(crate) id: DocumentId,
    pub(crate) version: u64,
    pub(crate) state: State,
    pub(crate) fields: DraftFields,
    pub(crate) drafter: ActorId,
    pub(crate) drafter_unit: UnitCode,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
    pub(crate) revision: u32,
    pub(crate) round: u32,
    pub(crate) route: Vec<Stage>,
    pub(crate) current_stage: Option<usize>,
    pub(crate) acted_in_round: bool,
    pub(crate) signatures: Vec<Signature>,
    pub(crate) written_date: Option<NaiveDate>,
    pub(crate) issue: Option<IssueRecord>,
    pub(crate) acknowledged: BTreeMap<UnitCode, Timestamp>,
    pub(crate) archive: Option<ArchiveRecord>,
    // Always written, `[]` too, so that a whole state serializes as it always did.
    #[serde(default)]
    pub(crate) opinions: Vec<Opinion>,
    pub(crate) void_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) warnings: Vec<String>,
}

impl Document {
    /// The units whose signature is still missing (lead unit first, then co-issuers).
    pub fn unsigned_units(&self) -> Vec<UnitCode> {
        self.signing_units()
            .into_iter()
            .filter(|u| !self.signatures.iter().any(|s| s.unit == *u))
            .collect()
    }

    /// The units that must sign: the issuing unit, then every co-issuing unit (联合发文).
    pub fn signing_units(&self) -> Vec<UnitCode> {
        let mut units = vec![self.fields.issuing_unit.clone()];
        units.extend(self.fields.co_issuing_units.iter().cloned());
        units
    }

    /// The role a signer needs: `PrincipalSignatory` for upward or important documents.
    pub fn required_sign_role(&self) -> Role {
        if self.fields.kind.is_upward() || self.fields.important {
            Role::PrincipalSignatory
        } else {
            Role::Signatory
        }
    }

    /// The stage the document is at, if it is in review or countersign.
    pub fn current(&self) -> Option<(usize, &Stage)> {
        let i = self.current_stage?;
        self.route.get(i).map(|s| (i, s))
    }

    /// Departments of the current countersign stage that have not signed this round.
    pub fn pending_departments(&self) -> Vec<UnitCode> {
        match self.current() {
            Some((
                _,
                Stage {
                    spec: StageSpec::Countersign { departments, .. },
                    countersigns,
                    ..
                },
            )) => departments
                .iter()
                .filter(|d| !countersigns.contains_key(*d))
                .cloned()
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Recipients that are units of the directory and have not acknowledged yet, given a
    /// predicate telling which recipient strings are unit codes.
    pub fn unacknowledged(&self, is_unit: impl Fn(&str) -> bool) -> Vec<UnitCode> {
        let Some(issue) = &self.issue else {
            return Vec::new();
        };
        let mut out: Vec<UnitCode> = issue
            .main_recipients
            .iter()
            .chain(&issue.cc)
            .filter(|r| is_unit(r))
            .map(|r| UnitCode(r.clone()))
            .filter(|u| !self.acknowledged.contains_key(u))
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// Who the document is waiting for now (its to-do entries).
    pub fn assignees(&self, is_unit: impl Fn(&str) -> bool) -> Vec<Assignee> {
        let mut waiting = match self.state {
            State::Drafting => vec![Assignee::Actor(self.drafter.clone())],
            State::InReview => self
                .current()
                .and_then(|(_, s)| s.acting_reviewer())
                .map(|r| Assignee::Actor(r.clone()))
                .into_iter()
                .collect(),
            State::Countersigning => self
                .pending_departments()
                .into_iter()
                .map(|unit| Assignee::UnitRole {
                    unit,
                    role: Role::Countersigner,
                })
                .collect(),
            State::AwaitingSignOff => {
                let role = self.required_sign_role();
                self.unsigned_units()
                    .into_iter()
                    .map(|unit| Assignee::UnitRole { unit, role })
                    .collect()
            }
            State::SignedOff => vec![Assignee::Role(Role::Clerk)],
            State::Issued => {
                let mut v: Vec<Assignee> = self
                    .unacknowledged(is_unit)
                    .into_iter()
                    .map(Assignee::Unit)
                    .collect();
                v.push(Assignee::Role(Role::Archivist));
                v
            }
            State::Archived | State::Voided => Vec::new(),
        };
        // An overdue stage that was escalated also waits on whom it was escalated to.
        if let Some((_, s)) = self.current()
            && s.reminders > 0
            && let Some(to) = s.spec.escalate_to()
        {
            let to = Assignee::Actor(to.clone());
            if !waiting.contains(&to) {
                waiting.push(to);
            }
        }
        waiting
    }

    /// Whether the current stage is past its deadline at `now`.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.current()
            .and_then(|(_, s)| s.due_at)
            .is_some_and(|due| now > due)
    }

    /// The document (and stream) id.
    pub fn id(&self) -> DocumentId {
        self.id
    }
    /// How many events have been applied (the stream version).
    pub fn version(&self) -> u64 {
        self.version
    }
    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }
    /// The draft's content.
    pub fn fields(&self) -> &DraftFields {
        &self.fields
    }
    /// 文种.
    pub fn kind(&self) -> Kind {
        self.fields.kind
    }
    /// 密级.
    pub fn classification(&self) -> Classification {
        self.fields.classification
    }
    /// The drafter.
    pub fn drafter(&self) -> &ActorId {
        &self.drafter
    }
    /// The drafter's unit at drafting.
    pub fn drafter_unit(&self) -> &UnitCode {
        &self.drafter_unit
    }
    /// When it was drafted.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }
    /// When the last event happened.
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }
    /// How many times the content was set (1 after drafting).
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
    /// Whether any reviewer or department acted in this round.
    pub fn acted_in_round(&self) -> bool {
        self.acted_in_round
    }
    /// Signatures so far (this sign-off).
    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }
    /// 成文日期: the date of the last required signature.
    pub fn written_date(&self) -> Option<NaiveDate> {
        self.written_date
    }
    /// The issue record, once issued.
    pub fn issue(&self) -> Option<&IssueRecord> {
        self.issue.as_ref()
    }
    /// Recipient units that acknowledged, and when.
    pub fn acknowledged(&self) -> &BTreeMap<UnitCode, Timestamp> {
        &self.acknowledged
    }
    /// The archive record, once archived.
    pub fn archive(&self) -> Option<&ArchiveRecord> {
        self.archive.as_ref()
    }
    /// Every opinion given, in order, across rounds.
    pub fn opinions(&self) -> &[Opinion] {
        &self.opinions
    }
    /// Why it was voided.
    pub fn void_reason(&self) -> Option<&str> {
        self.void_reason.as_deref()
    }
    /// What the rules accepted but flagged in the current content (e.g. an upward 报告 with
    /// several 主送).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
