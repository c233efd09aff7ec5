//! What happened to a 收文, in its stable stored form.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::command::{Plan, Registration};
use crate::ids::{ActorId, DocumentId, UnitCode};
use crate::numbering::{ArchiveReference, ReceiptNumber};
use crate::retention::Retention;

/// A 收文 event. Stored as `{"type": …, "payload": …}`; type names differ from 发文's so that
/// a subscriber filtering by type never confuses the two.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum IncomingEvent {
    /// 签收 and 登记, with the 收文编号.
    Registered {
        /// The stream (the 收文's id).
        document_id: DocumentId,
        /// The registration fields.
        registration: Registration,
        /// The receiving unit.
        unit: UnitCode,
        /// 收文编号.
        number: ReceiptNumber,
    },
    /// 初审 passed.
    Screened {
        /// The screener's note, if any.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        note: String,
        /// The 办结时限 set at 初审, if one was.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<NaiveDate>,
    },
    /// 退文.
    IncomingRejected {
        /// Why.
        reason: String,
    },
    /// 拟办.
    HandlingProposed {
        /// 阅知 or 批办.
        plan: Plan,
        /// 拟办意见.
        opinion: String,
    },
    /// 批示.
    Instructed {
        /// 主办.
        lead_unit: UnitCode,
        /// 协办.
        co_units: Vec<UnitCode>,
        /// 办结时限.
        deadline: NaiveDate,
        /// 批示.
        opinion: String,
        /// Whether a supervision item is asked for.
        supervise: bool,
    },
    /// 转批.
    InstructionTransferred {
        /// The leader it now waits for.
        to: ActorId,
        /// The note.
        opinion: String,
    },
    /// 办理情况.
    ProgressRecorded {
        /// The unit that recorded it.
        unit: UnitCode,
        /// What was done.
        text: String,
    },
    /// A cooperating unit's input.
    CoInputGiven {
        /// The cooperating unit.
        unit: UnitCode,
        /// The input.
        text: String,
    },
    /// 延期 asked.
    ExtensionRequested {
        /// The deadline asked for.
        until: NaiveDate,
        /// Why.
        reason: String,
    },
    /// 延期 decided.
    ExtensionDecided {
        /// Granted or not.
        granted: bool,
        /// The deadline before.
        from: NaiveDate,
        /// The deadline asked for.
        until: NaiveDate,
        /// The note.
        reason: String,
    },
    /// Sent back by the lead unit as not theirs.
    SentBack {
        /// The unit that sent it back.
        unit: UnitCode,
        /// Why.
        reason: String,
    },
    /// 办结.
    IncomingCompleted {
        /// 办理结果.
        result: String,
        /// 答复, if any.
        reply: String,
    },
    /// 已阅.
    Read {
        /// 阅批意见, if any.
        opinion: String,
    },
    /// Readers added.
    ReadersAdded {
        /// The readers.
        readers: Vec<ActorId>,
        /// 阅办 by this day; absent: 阅知.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        act_by: Option<NaiveDate>,
    },
    /// 会批: a co-leader's 批示意见.
    InstructionCommented {
        /// The 批示意见.
        opinion: String,
    },
    /// 归档.
    IncomingArchived {
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
    /// 催办 by hand (the office), with its message, to the lead unit.
    IncomingUrged {
        /// What was asked.
        message: String,
        /// The lead unit reminded.
        unit: UnitCode,
    },
    /// 回执已回, recorded by the office.
    SlipReturned {
        /// How and when it went, if said.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        note: String,
    },
    /// 催办 sent by the deadline sweep.
    IncomingReminded {
        /// When the step was due.
        due_on: NaiveDate,
        /// Whom it was escalated to, if anyone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        escalated_to: Option<ActorId>,
    },
}

impl crate::codec::EventCodec for IncomingEvent {
    /// The stable type name stored in the log.
    fn type_name(&self) -> &'static str {
        match self {
            IncomingEvent::Registered { .. } => "Registered",
            IncomingEvent::Screened { .. } => "Screened",
            IncomingEvent::IncomingRejected { .. } => "IncomingRejected",
            IncomingEvent::HandlingProposed { .. } => "HandlingProposed",
            IncomingEvent::Instructed { .. } => "Instructed",
            IncomingEvent::InstructionTransferred { .. } => "InstructionTransferred",
            IncomingEvent::ProgressRecorded { .. } => "ProgressRecorded",
            IncomingEvent::CoInputGiven { .. } => "CoInputGiven",
            IncomingEvent::ExtensionRequested { .. } => "ExtensionRequested",
            IncomingEvent::ExtensionDecided { .. } => "ExtensionDecided",
            IncomingEvent::SentBack { .. } => "SentBack",
            IncomingEvent::IncomingCompleted { .. } => "IncomingCompleted",
            IncomingEvent::Read { .. } => "Read",
            IncomingEvent::ReadersAdded { .. } => "ReadersAdded",
            IncomingEvent::InstructionCommented { .. } => "InstructionCommented",
            IncomingEvent::IncomingArchived { .. } => "IncomingArchived",
            IncomingEvent::IncomingUrged { .. } => "IncomingUrged",
            IncomingEvent::SlipReturned { .. } => "SlipReturned",
            IncomingEvent::IncomingReminded { .. } => "IncomingReminded",
        }
    }

    /// The step in the office's words.
    fn step(&self) -> &'static str {
        match self {
            IncomingEvent::Registered { .. } => "登记",
            IncomingEvent::Screened { .. } => "初审",
            IncomingEvent::IncomingRejected { .. } => "退文",
            IncomingEvent::HandlingProposed { .. } => "拟办",
            IncomingEvent::Instructed { .. } => "批办",
            IncomingEvent::InstructionTransferred { .. } => "转批",
            IncomingEvent::ProgressRecorded { .. } => "承办",
            IncomingEvent::CoInputGiven { .. } => "协办",
            IncomingEvent::ExtensionRequested { .. } => "申请延期",
            IncomingEvent::ExtensionDecided { granted: true, .. } => "同意延期",
            IncomingEvent::ExtensionDecided { granted: false, .. } => "不同意延期",
            IncomingEvent::SentBack { .. } => "退回拟办",
            IncomingEvent::IncomingCompleted { .. } => "办结",
            IncomingEvent::Read { .. } => "已阅",
            IncomingEvent::ReadersAdded { .. } => "增加传阅",
            IncomingEvent::InstructionCommented { .. } => "会批",
            IncomingEvent::IncomingArchived { .. } => "归档",
            IncomingEvent::IncomingUrged { .. } => "催办",
            IncomingEvent::SlipReturned { .. } => "回执已回",
            IncomingEvent::IncomingReminded { .. } => "催办",
        }
    }
}
