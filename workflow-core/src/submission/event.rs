//! What happened to a 签报, in its stable stored form.

use serde::{Deserialize, Serialize};

use super::command::{Decision, MemoFields, Supervise};
use super::state::{MemoNumber, Step};
use crate::content::Digest;
use crate::ids::{ActorId, DocumentId, Timestamp, UnitCode};
use crate::numbering::ArchiveReference;
use crate::retention::Retention;
use crate::route::StageSpec;

/// A 签报 event. Stored as `{"type": …, "payload": …}`; every type name starts with `Memo`
/// so that a subscriber filtering by type never confuses it with another flow's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum SubmissionEvent {
    /// 拟稿.
    MemoDrafted {
        /// The stream (the 签报's id).
        document_id: DocumentId,
        /// The fields.
        fields: MemoFields,
        /// 签报单位: the drafter's unit.
        unit: UnitCode,
    },
    /// 修改.
    MemoRevised {
        /// The new fields.
        fields: MemoFields,
    },
    /// 送审: a new round along `route`.
    MemoSubmitted {
        /// The round (1 for the first submission).
        round: u32,
        /// The stages, as checked.
        route: Vec<StageSpec>,
    },
    /// 审核通过.
    MemoApproved {
        /// The stage.
        stage: usize,
        /// 审核意见.
        opinion: String,
        /// The SHA-256 of the 正文 file it was given on, where the document has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<Digest>,
    },
    /// 会签.
    MemoCountersigned {
        /// The stage.
        stage: usize,
        /// The department.
        unit: UnitCode,
        /// Agreed or not.
        agree: bool,
        /// 会签意见.
        opinion: String,
        /// The SHA-256 of the 正文 file it was given on, where the document has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<Digest>,
    },
    /// Departments a stage was decided without (或签, a ratio), recorded rather than dropped.
    MemoCountersignersNotNeeded {
        /// The stage.
        stage: usize,
        /// The departments.
        units: Vec<UnitCode>,
    },
    /// 退回 to the drafter.
    MemoReturned {
        /// Where it was.
        from: Step,
        /// Why.
        reason: String,
    },
    /// 核稿 by the office: 拟办意见, the leaders in turn, and the 签报编号.
    MemoAccepted {
        /// The 签报编号 drawn now; absent when it had one from an earlier 核稿.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        number: Option<MemoNumber>,
        /// 拟办意见.
        opinion: String,
        /// The leaders, in the order they 批示.
        leaders: Vec<ActorId>,
    },
    /// 批示.
    MemoEndorsed {
        /// 同意 / 不同意 / 修改后同意.
        decision: Decision,
        /// The 批示 text.
        text: String,
        /// The 督办 item it opens, if it does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        supervise: Option<Supervise>,
        /// The SHA-256 of the 正文 file it was given on, where the document has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<Digest>,
    },
    /// 转批.
    MemoReferred {
        /// The leader it now waits for.
        to: ActorId,
        /// The note.
        opinion: String,
    },
    /// 办结.
    MemoClosed {
        /// 办结说明.
        note: String,
    },
    /// 归档.
    MemoArchived {
        /// 档号.
        reference: ArchiveReference,
        /// The fixity digest of the events before it.
        fixity_hash: Option<String>,
        /// The schedule's retention.
        scheduled_retention: Retention,
        /// Why another retention was chosen, if one was.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deviation: Option<String>,
    },
    /// 作废.
    MemoVoided {
        /// Why.
        reason: String,
    },
    /// 催办 sent by the deadline sweep for an overdue stage.
    MemoReminded {
        /// The overdue stage.
        stage: usize,
        /// When it was due.
        due_at: Timestamp,
        /// Whom it waits for, as to-do keys.
        waiting_for: Vec<String>,
        /// Whom it was escalated to, if anyone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        escalated_to: Option<ActorId>,
    },
}

impl crate::codec::EventCodec for SubmissionEvent {
    /// The stable type name stored in the log.
    fn type_name(&self) -> &'static str {
        match self {
            SubmissionEvent::MemoDrafted { .. } => "MemoDrafted",
            SubmissionEvent::MemoRevised { .. } => "MemoRevised",
            SubmissionEvent::MemoSubmitted { .. } => "MemoSubmitted",
            SubmissionEvent::MemoApproved { .. } => "MemoApproved",
            SubmissionEvent::MemoCountersigned { .. } => "MemoCountersigned",
            SubmissionEvent::MemoCountersignersNotNeeded { .. } => "MemoCountersignersNotNeeded",
            SubmissionEvent::MemoReturned { .. } => "MemoReturned",
            SubmissionEvent::MemoAccepted { .. } => "MemoAccepted",
            SubmissionEvent::MemoEndorsed { .. } => "MemoEndorsed",
            SubmissionEvent::MemoReferred { .. } => "MemoReferred",
            SubmissionEvent::MemoClosed { .. } => "MemoClosed",
            SubmissionEvent::MemoArchived { .. } => "MemoArchived",
            SubmissionEvent::MemoVoided { .. } => "MemoVoided",
            SubmissionEvent::MemoReminded { .. } => "MemoReminded",
        }
    }

    /// The step in the office's words.
    fn step(&self) -> &'static str {
        match self {
            SubmissionEvent::MemoDrafted { .. } => "拟稿",
            SubmissionEvent::MemoRevised { .. } => "修改",
            SubmissionEvent::MemoSubmitted { .. } => "送审",
            SubmissionEvent::MemoApproved { .. } => "审核",
            SubmissionEvent::MemoCountersigned { .. } => "会签",
            SubmissionEvent::MemoCountersignersNotNeeded { .. } => "会签免签",
            SubmissionEvent::MemoReturned { .. } => "退回",
            SubmissionEvent::MemoAccepted { .. } => "核稿",
            SubmissionEvent::MemoEndorsed { .. } => "批示",
            SubmissionEvent::MemoReferred { .. } => "转批",
            SubmissionEvent::MemoClosed { .. } => "办结",
            SubmissionEvent::MemoArchived { .. } => "归档",
            SubmissionEvent::MemoVoided { .. } => "作废",
            SubmissionEvent::MemoReminded { .. } => "催办",
        }
    }
}
