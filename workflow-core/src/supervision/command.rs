//! What may be asked of a 督办 item.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::directory::Classification;
use crate::ids::{ActorId, DocumentId, UnitCode};
use crate::retention::Retention;

/// 立项依据: where an item comes from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Source {
    /// A leader's 批示 on a 收文 (opened by the engine when the 批办 asks for it).
    Instruction {
        /// The 收文.
        receipt: DocumentId,
    },
    /// A leader's 批示 on a 签报 (opened by the engine when the 批示 asks for it).
    Submission {
        /// The 签报.
        submission: DocumentId,
    },
    /// A meeting decision (会议决定事项), with the meeting's reference (e.g. 校长办公会纪要
    /// 〔2026〕12号).
    Meeting {
        /// The meeting and item.
        reference: String,
    },
    /// An annual key task (年度重点工作), with its reference in the year's plan.
    KeyTask {
        /// The task's reference.
        reference: String,
    },
    /// A direct assignment by a leader (领导交办).
    Direct,
}

impl Source {
    /// The stream whose 批示 opened the item, for the items the engine opens (a 收文's 批办,
    /// a 签报's 批示): what it is, and its id.
    pub fn linked(&self) -> Option<(&'static str, DocumentId)> {
        match self {
            Source::Instruction { receipt } => Some(("收文", *receipt)),
            Source::Submission { submission } => Some(("签报", *submission)),
            Source::Meeting { .. } | Source::KeyTask { .. } | Source::Direct => None,
        }
    }

    /// The name used in lists and on the wire: `instruction`, `submission`, `meeting`, `key_task`, `direct`.
    pub fn name(&self) -> &'static str {
        match self {
            Source::Instruction { .. } => "instruction",
            Source::Submission { .. } => "submission",
            Source::Meeting { .. } => "meeting",
            Source::KeyTask { .. } => "key_task",
            Source::Direct => "direct",
        }
    }

    /// The Chinese term.
    pub fn chinese(&self) -> &'static str {
        match self {
            Source::Instruction { .. } => "领导批示",
            Source::Submission { .. } => "签报批示",
            Source::Meeting { .. } => "会议决定",
            Source::KeyTask { .. } => "年度重点工作",
            Source::Direct => "领导交办",
        }
    }
}

/// 反馈频次: how often the lead unit reports progress.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub enum Frequency {
    /// No periodic feedback; reported when done.
    #[default]
    None,
    /// 每周: every 7 days.
    Weekly,
    /// 每月: every 30 days.
    Monthly,
}

impl Frequency {
    /// Days between two feedbacks, if periodic.
    pub fn days(self) -> Option<i64> {
        match self {
            Frequency::None => None,
            Frequency::Weekly => Some(7),
            Frequency::Monthly => Some(30),
        }
    }

    /// The Chinese term.
    pub fn chinese(self) -> &'static str {
        match self {
            Frequency::None => "不定期",
            Frequency::Weekly => "每周",
            Frequency::Monthly => "每月",
        }
    }
}

/// The days before its deadline an item's 临近提醒 is sent, unless the item says otherwise.
pub const DEFAULT_WARN_DAYS: u32 = 3;

/// The fields of an item at 立项 (DESIGN §3b).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemSpec {
    /// 立项依据.
    pub source: Source,
    /// The item's title (督办事项).
    pub title: String,
    /// 任务要求.
    pub requirements: String,
    /// The leader who asked for it (牵头校领导); reminders escalate to them last.
    pub leader: ActorId,
    /// 主办.
    pub lead_unit: UnitCode,
    /// 责任人: an actor of the lead unit; when absent, whoever signs for the item (交办)
    /// becomes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responsible: Option<ActorId>,
    /// 协办.
    #[serde(default)]
    pub co_units: Vec<UnitCode>,
    /// 办结时限.
    pub deadline: NaiveDate,
    /// 反馈频次.
    #[serde(default)]
    pub feedback: Frequency,
    /// Days before the deadline the 临近提醒 is sent (0: none).
    #[serde(default = "default_warn_days")]
    pub warn_days: u32,
    /// 密级 of the item (a linked item takes its 收文's).
    #[serde(default)]
    pub classification: Classification,
}

fn default_warn_days() -> u32 {
    DEFAULT_WARN_DAYS
}

/// 考评: the supervisor's grade of how an item was done, given at 销号.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// 优秀.
    Excellent,
    /// 良好.
    Good,
    /// 合格.
    Adequate,
    /// 不合格.
    Poor,
}

impl Grade {
    /// Every grade, best first.
    pub const ALL: [Grade; 4] = [Grade::Excellent, Grade::Good, Grade::Adequate, Grade::Poor];

    /// The Chinese term.
    pub fn chinese(self) -> &'static str {
        match self {
            Grade::Excellent => "优秀",
            Grade::Good => "良好",
            Grade::Adequate => "合格",
            Grade::Poor => "不合格",
        }
    }

    /// The name used on the wire and in forms, e.g. `good`.
    pub fn name(self) -> &'static str {
        match self {
            Grade::Excellent => "excellent",
            Grade::Good => "good",
            Grade::Adequate => "adequate",
            Grade::Poor => "poor",
        }
    }
}

/// Why the deadline sweep reminds an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderReason {
    /// A periodic feedback was not given in time (催报).
    Feedback,
    /// The deadline is near (临近提醒).
    Approaching,
    /// The deadline has passed (超期催办).
    Overdue,
}

impl ReminderReason {
    /// The Chinese term.
    pub fn chinese(self) -> &'static str {
        match self {
            ReminderReason::Feedback => "催报进展",
            ReminderReason::Approaching => "临近提醒",
            ReminderReason::Overdue => "超期催办",
        }
    }
}

/// What is asked of a 督办 item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum SupervisionAction {
    /// 立项 by a supervisor (督办员), or by the engine for a 批办 that asks for it.
    OpenItem {
        /// The item's fields.
        spec: ItemSpec,
    },
    /// 交办: the lead unit signs for the item (its 责任人, or a handler who becomes it).
    AcceptItem {
        /// A note, if any.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        note: String,
    },
    /// 进展反馈 by the lead unit.
    ReportProgress {
        /// What was done.
        text: String,
        /// How far, in percent, if said.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        percent: Option<u8>,
    },
    /// 延期 asked by the lead unit, with a reason and a date.
    RequestItemExtension {
        /// The deadline asked for.
        until: NaiveDate,
        /// Why; required.
        reason: String,
    },
    /// The supervisor grants or refuses the pending extension.
    DecideItemExtension {
        /// Granted or not.
        grant: bool,
        /// The supervisor's note; required to refuse.
        #[serde(default)]
        reason: String,
    },
    /// 办结报告 by the lead unit, with its 成果.
    ReportCompletion {
        /// 成果.
        result: String,
    },
    /// 销号: the supervisor verifies the result and closes the item, with its 考评 if given
    /// (a note is then required for 不合格).
    CloseItem {
        /// The supervisor's note, if any.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        note: String,
        /// 考评, kept for the year's review.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grade: Option<Grade>,
    },
    /// The supervisor sends the completion report back (not done yet), with the reason.
    ReturnItem {
        /// Why; required.
        reason: String,
    },
    /// 归档 by the archivist: the same fields and 档号 form as 发文.
    ArchiveItem {
        /// 全宗号.
        fonds: String,
        /// 保管期限; `None` takes the schedule's.
        #[serde(default)]
        retention: Option<Retention>,
        /// 机构 code in the 档号.
        unit_code: String,
        /// Why the retention differs from the schedule's (only then).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        deviation_reason: String,
    },
    /// 催办 by hand: a 督办员, or the item's 牵头领导, reminds the lead unit now, with a message
    /// (while the item is still the lead unit's to do).
    UrgeItem {
        /// What is asked (required), e.g. 请于本周五前报送进展。
        message: String,
    },
    /// 协办: a cooperating unit's input (协办情况), once per unit, by one of its handlers, while
    /// the item is open or its 办结报告 awaits 销号 — which waits for every 协办 unit's.
    GiveItemInput {
        /// What the unit did (required).
        text: String,
    },
    /// 撤销, by the engine only: the 收文 whose 批办 opened the item was sent back by the lead
    /// unit (not theirs), so the item no longer stands.
    WithdrawItem {
        /// The lead unit that sent the 收文 back: only its item is withdrawn.
        unit: UnitCode,
        /// Why (the 收文 sent back, and the lead unit's reason).
        reason: String,
    },
    /// A reminder by the engine's deadline sweep.
    RemindItem {
        /// Why.
        reason: ReminderReason,
        /// The escalation target, if the reminder is escalated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        escalate_to: Option<ActorId>,
    },
}

impl SupervisionAction {
    /// The command's name, as used in messages and on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            SupervisionAction::OpenItem { .. } => "OpenItem",
            SupervisionAction::AcceptItem { .. } => "AcceptItem",
            SupervisionAction::ReportProgress { .. } => "ReportProgress",
            SupervisionAction::RequestItemExtension { .. } => "RequestItemExtension",
            SupervisionAction::DecideItemExtension { .. } => "DecideItemExtension",
            SupervisionAction::ReportCompletion { .. } => "ReportCompletion",
            SupervisionAction::CloseItem { .. } => "CloseItem",
            SupervisionAction::ReturnItem { .. } => "ReturnItem",
            SupervisionAction::ArchiveItem { .. } => "ArchiveItem",
            SupervisionAction::UrgeItem { .. } => "UrgeItem",
            SupervisionAction::GiveItemInput { .. } => "GiveItemInput",
            SupervisionAction::WithdrawItem { .. } => "WithdrawItem",
            SupervisionAction::RemindItem { .. } => "RemindItem",
        }
    }
}
