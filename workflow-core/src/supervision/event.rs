//! What happened to a 督办 item, in its stable stored form.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::command::{Grade, ItemSpec, ReminderReason};
use crate::ids::{ActorId, DocumentId, UnitCode};
use crate::numbering::{ArchiveReference, ItemNumber};
use crate::retention::Retention;

/// A 督办 event. Stored as `{"type": …, "payload": …}`; every type name starts with `Item`
/// so that a subscriber filtering by type never confuses it with another flow's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum SupervisionEvent {
    /// 立项.
    ItemOpened {
        /// The stream (the item's id).
        document_id: DocumentId,
        /// The item's fields.
        spec: ItemSpec,
        /// 立项号 (none on items opened before they were numbered).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        number: Option<ItemNumber>,
        /// Whether its 销号 waits for each 协办 unit's input (every item opened since 协办
        /// tasks exist; not those opened before).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        co_input_required: bool,
    },
    /// 协办: a cooperating unit's input.
    ItemCoInputGiven {
        /// The cooperating unit.
        unit: UnitCode,
        /// What it did.
        text: String,
    },
    /// 交办: the lead unit signed for it.
    ItemAccepted {
        /// The 责任人 from now on.
        responsible: ActorId,
        /// The note, if any.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        note: String,
    },
    /// 进展反馈.
    ItemProgressReported {
        /// What was done.
        text: String,
        /// How far, in percent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        percent: Option<u8>,
    },
    /// 延期 asked.
    ItemExtensionRequested {
        /// The deadline asked for.
        until: NaiveDate,
        /// Why.
        reason: String,
    },
    /// 延期 decided; the original deadline stays on record in `ItemOpened`.
    ItemExtensionDecided {
        /// Granted or not.
        granted: bool,
        /// The deadline before.
        from: NaiveDate,
        /// The deadline asked for.
        until: NaiveDate,
        /// The note.
        reason: String,
    },
    /// 办结报告.
    ItemCompletionReported {
        /// 成果.
        result: String,
    },
    /// 销号.
    ItemClosed {
        /// The supervisor's note.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        note: String,
        /// 考评, if given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grade: Option<Grade>,
    },
    /// The completion report sent back.
    ItemReturned {
        /// Why.
        reason: String,
    },
    /// 归档.
    ItemArchived {
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
    /// 催办 by hand (a 督办员 or the 牵头领导), with its message.
    ItemUrged {
        /// What was asked.
        message: String,
        /// The 责任人 it reminds, if the lead unit named one yet (else the lead unit's
        /// handlers).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<ActorId>,
    },
    /// 撤销 by the engine: the 批办 it followed was sent back.
    ItemWithdrawn {
        /// Why.
        reason: String,
    },
    /// A reminder sent by the deadline sweep.
    ItemReminded {
        /// Why.
        reason: ReminderReason,
        /// The instant it was due by (the missed feedback, the deadline).
        due_on: NaiveDate,
        /// Whom it was escalated to, if anyone.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        escalated_to: Option<ActorId>,
    },
}

impl crate::codec::EventCodec for SupervisionEvent {
    /// The stable type name stored in the log.
    fn type_name(&self) -> &'static str {
        match self {
            SupervisionEvent::ItemOpened { .. } => "ItemOpened",
            SupervisionEvent::ItemAccepted { .. } => "ItemAccepted",
            SupervisionEvent::ItemProgressReported { .. } => "ItemProgressReported",
            SupervisionEvent::ItemExtensionRequested { .. } => "ItemExtensionRequested",
            SupervisionEvent::ItemExtensionDecided { .. } => "ItemExtensionDecided",
            SupervisionEvent::ItemCompletionReported { .. } => "ItemCompletionReported",
            SupervisionEvent::ItemClosed { .. } => "ItemClosed",
            SupervisionEvent::ItemReturned { .. } => "ItemReturned",
            SupervisionEvent::ItemArchived { .. } => "ItemArchived",
            SupervisionEvent::ItemUrged { .. } => "ItemUrged",
            SupervisionEvent::ItemCoInputGiven { .. } => "ItemCoInputGiven",
            SupervisionEvent::ItemWithdrawn { .. } => "ItemWithdrawn",
            SupervisionEvent::ItemReminded { .. } => "ItemReminded",
        }
    }

    /// The step in the office's words.
    fn step(&self) -> &'static str {
        match self {
            SupervisionEvent::ItemOpened { .. } => "立项",
            SupervisionEvent::ItemAccepted { .. } => "交办",
            SupervisionEvent::ItemProgressReported { .. } => "进展反馈",
            SupervisionEvent::ItemExtensionRequested { .. } => "申请延期",
            SupervisionEvent::ItemExtensionDecided { granted: true, .. } => "同意延期",
            SupervisionEvent::ItemExtensionDecided { granted: false, .. } => "不同意延期",
            SupervisionEvent::ItemCompletionReported { .. } => "办结报告",
            SupervisionEvent::ItemClosed { .. } => "销号",
            SupervisionEvent::ItemReturned { .. } => "退回重办",
            SupervisionEvent::ItemArchived { .. } => "归档",
            SupervisionEvent::ItemUrged { .. } => "催办",
            SupervisionEvent::ItemCoInputGiven { .. } => "协办",
            SupervisionEvent::ItemWithdrawn { .. } => "撤销",
            SupervisionEvent::ItemReminded { reason, .. } => reason.chinese(),
        }
    }
}
