//! The folded state of a 督办 item: its fields, where it stands, and every step on record.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use super::command::{Grade, ItemSpec, ReminderReason};
use crate::archive::ArchiveRecord;
use crate::ids::{ActorId, DocumentId, Timestamp, UnitCode, end_of_day};
use crate::numbering::ItemNumber;
use crate::opinion::Opinion;

/// Where a 督办 item stands (DESIGN §3b).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ItemStep {
    /// 立项: opened, awaiting the lead unit's signature.
    Opened,
    /// 交办: the lead unit signed for it.
    Assigned,
    /// 办理中: progress reported.
    InProgress,
    /// 办结报告: completion reported, awaiting the supervisor.
    CompletionReported,
    /// 销号: closed.
    Closed,
    /// 已归档.
    Archived,
    /// 已撤销: the 批办 it followed was sent back by the lead unit (not theirs); the next
    /// 批办, if it asks for supervision, opens an item of its own.
    Withdrawn,
}

impl ItemStep {
    /// All steps, in flow order.
    pub const ALL: [ItemStep; 7] = [
        ItemStep::Opened,
        ItemStep::Assigned,
        ItemStep::InProgress,
        ItemStep::CompletionReported,
        ItemStep::Closed,
        ItemStep::Archived,
        ItemStep::Withdrawn,
    ];

    /// The Chinese term.
    pub fn chinese(self) -> &'static str {
        match self {
            ItemStep::Opened => "已立项",
            ItemStep::Assigned => "已交办",
            ItemStep::InProgress => "办理中",
            ItemStep::CompletionReported => "已报办结",
            ItemStep::Closed => "已销号",
            ItemStep::Archived => "已归档",
            ItemStep::Withdrawn => "已撤销",
        }
    }

    /// The name used in lists and on the wire, e.g. `InProgress`.
    pub fn name(self) -> &'static str {
        match self {
            ItemStep::Opened => "Opened",
            ItemStep::Assigned => "Assigned",
            ItemStep::InProgress => "InProgress",
            ItemStep::CompletionReported => "CompletionReported",
            ItemStep::Closed => "Closed",
            ItemStep::Archived => "Archived",
            ItemStep::Withdrawn => "Withdrawn",
        }
    }

    /// The steps in which the lead unit still has the item to do.
    pub const OPEN: [ItemStep; 3] = [ItemStep::Opened, ItemStep::Assigned, ItemStep::InProgress];

    /// Whether the item is still to be done by the lead unit (it can be overdue).
    pub fn is_open(self) -> bool {
        ItemStep::OPEN.contains(&self)
    }
}

/// One 进展反馈.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    /// Who reported it.
    pub actor: ActorId,
    /// What was done.
    pub text: String,
    /// How far, in percent.
    pub percent: Option<u8>,
    /// When.
    pub at: Timestamp,
}

/// A pending 延期 request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemExtensionRequest {
    /// The deadline asked for.
    pub until: NaiveDate,
    /// Why.
    pub reason: String,
    /// Who asked.
    pub by: ActorId,
    /// When.
    pub at: Timestamp,
}

/// A decided 延期.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtensionDecision {
    /// Granted or not.
    pub granted: bool,
    /// The deadline before.
    pub from: NaiveDate,
    /// The deadline asked for.
    pub until: NaiveDate,
    /// When it was decided.
    pub at: Timestamp,
}

/// 办结报告 as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionReport {
    /// 成果.
    pub result: String,
    /// Who reported it.
    pub by: ActorId,
    /// When.
    pub at: Timestamp,
}

/// The reminders of one reason sent since its anchor (the last feedback for 催报, the
/// deadline in force for the others).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReminderCount {
    /// How many.
    pub count: u32,
    /// The last one's instant.
    pub last_at: Option<Timestamp>,
}

/// A 督办 item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub(crate) id: DocumentId,
    /// 立项号 (none on items opened before they were numbered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) number: Option<ItemNumber>,
    pub(crate) version: u64,
    pub(crate) step: ItemStep,
    pub(crate) spec: ItemSpec,
    /// Who opened it (`None`: the engine, for a 批办).
    pub(crate) supervisor: Option<ActorId>,
    pub(crate) responsible: Option<ActorId>,
    /// The deadline in force (the original stays in `spec`).
    pub(crate) deadline: NaiveDate,
    pub(crate) opened_at: Timestamp,
    pub(crate) accepted_at: Option<Timestamp>,
    pub(crate) updated_at: Timestamp,
    pub(crate) feedback: Vec<Feedback>,
    pub(crate) extension: Option<ItemExtensionRequest>,
    pub(crate) extensions: Vec<ExtensionDecision>,
    pub(crate) completion: Option<CompletionReport>,
    pub(crate) closed_at: Option<Timestamp>,
    pub(crate) archive: Option<ArchiveRecord>,
    // Always written, `[]` too, so that a whole state serializes as it always did.
    #[serde(default)]
    pub(crate) opinions: Vec<Opinion>,
    pub(crate) reminders: BTreeMap<ReminderReason, ReminderCount>,
    /// 催办 by hand, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) urged: Vec<Urged>,
    /// 考评 given at 销号.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) grade: Option<Grade>,
    /// Whether 销号 waits for each 协办 unit's input (items opened since it does).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) co_input_required: bool,
    /// 协办: each cooperating unit's input, once given.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(crate) co_inputs: BTreeMap<UnitCode, CoInput>,
}

/// A cooperating unit's input (协办情况).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoInput {
    /// Who gave it (a handler of the unit).
    pub actor: ActorId,
    /// What the unit did.
    pub text: String,
    /// When.
    pub at: Timestamp,
}

/// One 催办 by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Urged {
    /// Who sent it (a 督办员 or the 牵头领导).
    pub by: ActorId,
    /// What was asked.
    pub message: String,
    /// The 责任人 it reminded, if one was named.
    pub to: Option<ActorId>,
    /// When.
    pub at: Timestamp,
}

impl Item {
    /// The stream id.
    pub fn id(&self) -> DocumentId {
        self.id
    }
    /// 立项号, e.g. `督〔2026〕15号` (none on an item opened before items were numbered).
    pub fn number(&self) -> Option<&ItemNumber> {
        self.number.as_ref()
    }
    /// 考评 given at 销号, if any.
    pub fn grade(&self) -> Option<Grade> {
        self.grade
    }
    /// The 催办 sent by hand, in order.
    pub fn urged(&self) -> &[Urged] {
        &self.urged
    }
    /// 协办: each cooperating unit's input given.
    pub fn co_inputs(&self) -> &BTreeMap<UnitCode, CoInput> {
        &self.co_inputs
    }
    /// The 协办 units whose input 销号 still waits for (none on an item opened before 协办
    /// tasks existed, or once closed, withdrawn or archived).
    pub fn pending_co_units(&self) -> Vec<&UnitCode> {
        let waiting = matches!(
            self.step,
            ItemStep::Opened
                | ItemStep::Assigned
                | ItemStep::InProgress
                | ItemStep::CompletionReported
        );
        if !self.co_input_required || !waiting {
            return Vec::new();
        }
        self.spec
            .co_units
            .iter()
            .filter(|u| !self.co_inputs.contains_key(*u))
            .collect()
    }
    /// How many events made it.
    pub fn version(&self) -> u64 {
        self.version
    }
    /// Where it stands.
    pub fn step(&self) -> ItemStep {
        self.step
    }
    /// The fields given at 立项 (with the original deadline).
    pub fn spec(&self) -> &ItemSpec {
        &self.spec
    }
    /// Who opened it (`None`: the engine, for a 批办).
    pub fn supervisor(&self) -> Option<&ActorId> {
        self.supervisor.as_ref()
    }
    /// 责任人, once known.
    pub fn responsible(&self) -> Option<&ActorId> {
        self.responsible.as_ref()
    }
    /// The deadline in force (after granted extensions).
    pub fn deadline(&self) -> NaiveDate {
        self.deadline
    }
    /// When it was opened.
    pub fn opened_at(&self) -> Timestamp {
        self.opened_at
    }
    /// When the lead unit signed for it.
    pub fn accepted_at(&self) -> Option<Timestamp> {
        self.accepted_at
    }
    /// When it last changed.
    pub fn updated_at(&self) -> Timestamp {
        self.updated_at
    }
    /// 进展反馈, in order.
    pub fn feedback(&self) -> &[Feedback] {
        &self.feedback
    }
    /// The pending extension request.
    pub fn extension(&self) -> Option<&ItemExtensionRequest> {
        self.extension.as_ref()
    }
    /// Every decided extension, in order.
    pub fn extensions(&self) -> &[ExtensionDecision] {
        &self.extensions
    }
    /// The completion report in force (办结报告).
    pub fn completion(&self) -> Option<&CompletionReport> {
        self.completion.as_ref()
    }
    /// When it was closed (销号).
    pub fn closed_at(&self) -> Option<Timestamp> {
        self.closed_at
    }
    /// The archive record.
    pub fn archive(&self) -> Option<&ArchiveRecord> {
        self.archive.as_ref()
    }
    /// Every opinion and note on the record, in order.
    pub fn opinions(&self) -> &[Opinion] {
        &self.opinions
    }
    /// Reminders sent, by reason, since their anchors.
    pub fn reminders(&self) -> &BTreeMap<ReminderReason, ReminderCount> {
        &self.reminders
    }
    /// Reminders of one reason since its anchor.
    pub fn reminder_count(&self, reason: ReminderReason) -> ReminderCount {
        self.reminders.get(&reason).copied().unwrap_or_default()
    }

    /// The instant the deadline in force runs out: 24:00 of its day, China time.
    pub fn due_at(&self) -> Option<Timestamp> {
        end_of_day(self.deadline)
    }

    /// Whether it is still to be done past its deadline at `now`.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.step.is_open() && self.due_at().is_some_and(|d| d < now)
    }

    /// From when periodic feedback is counted: the last feedback, else the signature.
    pub fn feedback_anchor(&self) -> Option<Timestamp> {
        self.feedback.last().map(|f| f.at).or(self.accepted_at)
    }

    /// The instant the next periodic feedback is due by, while the lead unit has it (each
    /// missed one reminded moves it one period on).
    pub fn next_feedback_due(&self) -> Option<Timestamp> {
        if !matches!(self.step, ItemStep::Assigned | ItemStep::InProgress) {
            return None;
        }
        let days = self.spec.feedback.days()?;
        let missed = i64::from(self.reminder_count(ReminderReason::Feedback).count);
        Some(self.feedback_anchor()? + Duration::days(days * (missed + 1)))
    }

    /// The instant the 临近提醒 is due (the start of the day `warn_days` before the
    /// deadline, China time), if one is to be sent for the deadline in force.
    pub fn warning_due(&self) -> Option<Timestamp> {
        if !self.step.is_open()
            || self.spec.warn_days == 0
            || self.reminder_count(ReminderReason::Approaching).count > 0
        {
            return None;
        }
        let day = self
            .deadline
            .checked_sub_signed(Duration::days(i64::from(self.spec.warn_days)))?;
        end_of_day(day.pred_opt()?)
    }

    /// The last 进展反馈, if any.
    pub fn last_feedback(&self) -> Option<&Feedback> {
        self.feedback.last()
    }
}
