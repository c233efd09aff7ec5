//! The folded state of a 收文: its registration, where it stands, and every step on record.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::command::{Plan, Registration};
use crate::archive::ArchiveRecord;
use crate::ids::{ActorId, DocumentId, Timestamp, UnitCode, end_of_day};
use crate::numbering::ReceiptNumber;
use crate::opinion::Opinion;

/// Where a 收文 stands (DESIGN §3a).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Step {
    /// 已登记: signed for and registered, awaiting 初审.
    Registered,
    /// 退文: sent back to the sender (terminal).
    Rejected,
    /// 拟办: awaiting the office director's proposal.
    Proposing,
    /// 待批办: awaiting a leader's instruction.
    AwaitingInstruction,
    /// 承办中: with the lead unit.
    InHandling,
    /// 传阅中: circulating to readers.
    Circulating,
    /// 已办结.
    Completed,
    /// 已归档.
    Archived,
}

impl Step {
    /// All steps, in flow order.
    pub const ALL: [Step; 8] = [
        Step::Registered,
        Step::Proposing,
        Step::AwaitingInstruction,
        Step::InHandling,
        Step::Circulating,
        Step::Completed,
        Step::Rejected,
        Step::Archived,
    ];

    /// The Chinese term.
    pub fn chinese(self) -> &'static str {
        match self {
            Step::Registered => "已登记",
            Step::Rejected => "退文",
            Step::Proposing => "拟办",
            Step::AwaitingInstruction => "待批办",
            Step::InHandling => "承办中",
            Step::Circulating => "传阅中",
            Step::Completed => "已办结",
            Step::Archived => "已归档",
        }
    }

    /// The name used in lists and on the wire, e.g. `InHandling`.
    pub fn name(self) -> &'static str {
        match self {
            Step::Registered => "Registered",
            Step::Rejected => "Rejected",
            Step::Proposing => "Proposing",
            Step::AwaitingInstruction => "AwaitingInstruction",
            Step::InHandling => "InHandling",
            Step::Circulating => "Circulating",
            Step::Completed => "Completed",
            Step::Archived => "Archived",
        }
    }
}

/// A leader's instruction (批示) as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instruction {
    /// The leader.
    pub leader: ActorId,
    /// 主办.
    pub lead_unit: UnitCode,
    /// 协办.
    pub co_units: Vec<UnitCode>,
    /// 办结时限 as instructed.
    pub deadline: NaiveDate,
    /// Whether a supervision item was asked for.
    pub supervise: bool,
}

/// A note on the record: 办理情况 or a cooperating unit's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// Who wrote it.
    pub actor: ActorId,
    /// For which unit.
    pub unit: UnitCode,
    /// The text.
    pub text: String,
    /// When.
    pub at: Timestamp,
}

/// A pending extension request (延期).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionRequest {
    /// The deadline asked for.
    pub until: NaiveDate,
    /// Why.
    pub reason: String,
    /// Who asked.
    pub by: ActorId,
}

/// A reader's mark (已阅).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadMark {
    /// When.
    pub at: Timestamp,
    /// 阅批意见, if any.
    pub opinion: String,
}

/// 办结: the result and the reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closure {
    /// 办理结果.
    pub result: String,
    /// 答复, if any.
    pub reply: String,
    /// Who completed it.
    pub by: ActorId,
    /// When.
    pub at: Timestamp,
}

/// A 收文.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub(crate) id: DocumentId,
    pub(crate) version: u64,
    pub(crate) step: Step,
    pub(crate) registration: Registration,
    pub(crate) unit: UnitCode,
    pub(crate) number: ReceiptNumber,
    pub(crate) registrar: ActorId,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
    pub(crate) plan: Option<Plan>,
    /// The leader whose instruction it waits for (after 转批, the new one).
    pub(crate) leader: Option<ActorId>,
    pub(crate) instruction: Option<Instruction>,
    /// The deadline in force: the registration's, then the instruction's, then extended.
    pub(crate) deadline: Option<NaiveDate>,
    /// The 办结时限 初审 set, if it set one: a 退回拟办 returns to it (not to the
    /// registration's), since 初审 stands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) screened_deadline: Option<NaiveDate>,
    pub(crate) progress: Vec<Note>,
    pub(crate) co_inputs: BTreeMap<UnitCode, Note>,
    pub(crate) extension: Option<ExtensionRequest>,
    pub(crate) readers: BTreeMap<ActorId, Option<ReadMark>>,
    pub(crate) closure: Option<Closure>,
    pub(crate) rejection: Option<String>,
    pub(crate) archive: Option<ArchiveRecord>,
    // Always written, `[]` too, so that a whole state serializes as it always did.
    #[serde(default)]
    pub(crate) opinions: Vec<Opinion>,
    pub(crate) reminders: u32,
    pub(crate) last_reminded_at: Option<Timestamp>,
    /// The 督办 items its 批办 opened (批必查), by id.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) items: Vec<DocumentId>,
    /// 催办 by hand (the office), in order: who, the lead unit, the message, when.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) urged: Vec<Note>,
    /// 回执已回: who recorded it, the receiving unit, the note, when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) slip_returned: Option<Note>,
    /// 阅办: the readers who must act on it, and by when (the others only read: 阅知).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) acting: BTreeMap<ActorId, NaiveDate>,
    /// 会批: the co-leaders who gave their 批示意见 on the 批办 in course, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) commented: Vec<ActorId>,
}

impl Receipt {
    /// The stream id.
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
    /// The registration fields.
    pub fn registration(&self) -> &Registration {
        &self.registration
    }
    /// The receiving unit.
    pub fn unit(&self) -> &UnitCode {
        &self.unit
    }
    /// 收文编号.
    pub fn number(&self) -> &ReceiptNumber {
        &self.number
    }
    /// Who registered it.
    pub fn registrar(&self) -> &ActorId {
        &self.registrar
    }
    /// When it was registered.
    pub fn created_at(&self) -> Timestamp {
        self.created_at
    }
    /// When it last changed.
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }
    /// The office director's plan (拟办), once proposed.
    pub fn plan(&self) -> Option<&Plan> {
        self.plan.as_ref()
    }
    /// The leader it waits for, while awaiting an instruction.
    pub fn leader(&self) -> Option<&ActorId> {
        self.leader.as_ref()
    }
    /// The leader's instruction (批示), once given.
    pub fn instruction(&self) -> Option<&Instruction> {
        self.instruction.as_ref()
    }
    /// The deadline in force.
    pub fn deadline(&self) -> Option<NaiveDate> {
        self.deadline
    }
    /// The return of the 回执 the sender asked for, once recorded.
    pub fn slip_returned(&self) -> Option<&Note> {
        self.slip_returned.as_ref()
    }
    /// 催办 by hand, in order.
    pub fn urged(&self) -> &[Note] {
        &self.urged
    }
    /// 办理情况, in order.
    pub fn progress(&self) -> &[Note] {
        &self.progress
    }
    /// Each cooperating unit's input.
    pub fn co_inputs(&self) -> &BTreeMap<UnitCode, Note> {
        &self.co_inputs
    }
    /// A pending extension request.
    pub fn extension(&self) -> Option<&ExtensionRequest> {
        self.extension.as_ref()
    }
    /// The readers and their marks.
    pub fn readers(&self) -> &BTreeMap<ActorId, Option<ReadMark>> {
        &self.readers
    }
    /// 办结, once completed.
    pub fn closure(&self) -> Option<&Closure> {
        self.closure.as_ref()
    }
    /// Why it was rejected (退文).
    pub fn rejection(&self) -> Option<&str> {
        self.rejection.as_deref()
    }
    /// The archive record, once archived.
    pub fn archive(&self) -> Option<&ArchiveRecord> {
        self.archive.as_ref()
    }
    /// Every opinion on the record (拟办意见, 批示, 阅批意见, reasons), in order.
    pub fn opinions(&self) -> &[Opinion] {
        &self.opinions
    }
    /// Reminders sent for the step in progress.
    pub fn reminders(&self) -> u32 {
        self.reminders
    }
    /// The 督办 items its 批办 opened (each 批办 that asked for supervision opens one).
    pub fn supervision_items(&self) -> &[DocumentId] {
        &self.items
    }

    /// The instant the deadline ends: the end of its day, China time.
    pub fn due_at(&self) -> Option<Timestamp> {
        end_of_day(self.deadline?)
    }

    /// Whether it is in handling past its deadline at `now`.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.step == Step::InHandling && self.due_at().is_some_and(|d| d < now)
    }

    /// The cooperating units that have not given their input.
    pub fn pending_co_units(&self) -> Vec<UnitCode> {
        self.instruction
            .as_ref()
            .map(|i| {
                i.co_units
                    .iter()
                    .filter(|u| !self.co_inputs.contains_key(*u))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// 阅办: the readers who must act on it, and by when.
    pub fn acting(&self) -> &BTreeMap<ActorId, NaiveDate> {
        &self.acting
    }

    /// When `reader`, a 阅办 reader who has not read it yet, must have acted by: the end of
    /// their day, China time (`None` for a 阅知 reader, one who has read, or no reader).
    pub fn reader_due_at(&self, reader: &ActorId) -> Option<Timestamp> {
        if self.readers.get(reader)?.is_some() {
            return None;
        }
        end_of_day(*self.acting.get(reader)?)
    }

    /// 会批: the co-leaders of the 批办 in course still to give their 批示意见, in the
    /// order named.
    pub fn pending_co_leaders(&self) -> Vec<&ActorId> {
        match &self.plan {
            Some(Plan::Instruct { co_leaders, .. }) if self.step == Step::AwaitingInstruction => {
                co_leaders
                    .iter()
                    .filter(|l| !self.commented.contains(l))
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// Whom the 批办 waits for now: the co-leaders still to comment (the next one only, in
    /// turn), else the deciding leader; nobody outside 待批办.
    pub fn awaited_leaders(&self) -> Vec<&ActorId> {
        if self.step != Step::AwaitingInstruction {
            return Vec::new();
        }
        let pending = self.pending_co_leaders();
        let in_turn = matches!(&self.plan, Some(Plan::Instruct { in_turn: true, .. }));
        match pending.first() {
            Some(first) if in_turn => vec![*first],
            Some(_) => pending,
            None => self.leader.iter().collect(),
        }
    }

    /// The readers who have not marked it read.
    pub fn unread(&self) -> Vec<ActorId> {
        self.readers
            .iter()
            .filter(|(_, m)| m.is_none())
            .map(|(a, _)| a.clone())
            .collect()
    }
}
