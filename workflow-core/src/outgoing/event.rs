//! 发文 events: what happened to an outgoing document. Its state is a fold of them; they are
//! never changed.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::content::Digest;
use crate::flow::Recorded;
use crate::ids::{ActorId, DocumentId, Timestamp, UnitCode};
use crate::numbering::{ArchiveReference, DocumentNumber};
use crate::outgoing::command::DraftFields;
use crate::outgoing::state::State;
use crate::retention::Retention;
use crate::route::StageSpec;

/// One recorded 发文 event: who, when, what.
pub type Event = Recorded<EventData>;

/// What happened. Serialized as `{"type": "...", "payload": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum EventData {
    /// 拟稿: the document was created.
    Drafted {
        /// The new document's id.
        document_id: DocumentId,
        /// The draft's content.
        fields: DraftFields,
        /// The drafter's unit at drafting time.
        drafter_unit: UnitCode,
        /// What the rules accepted but flagged, e.g. an upward 报告 with several 主送
        /// (原则上主送一个上级机关). Absent when none.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<String>,
    },
    /// 修改: the draft's content was replaced.
    Revised {
        /// The new content.
        fields: DraftFields,
        /// As for `Drafted`, for the new content.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        warnings: Vec<String>,
    },
    /// 送审: a round started along this route.
    SubmittedForReview {
        /// The round number, from 1.
        round: u32,
        /// The route of this round.
        route: Vec<StageSpec>,
    },
    /// 审核通过 at a review stage.
    Approved {
        /// The stage index (0-based).
        stage: usize,
        /// 审核意见.
        opinion: String,
        /// The SHA-256 of the 正文 file it was given on, where the document has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<Digest>,
    },
    /// 会签 by one department.
    Countersigned {
        /// The stage index (0-based).
        stage: usize,
        /// The department signed for.
        unit: UnitCode,
        /// Agreed or not.
        agree: bool,
        /// 会签意见.
        opinion: String,
        /// The SHA-256 of the 正文 file it was given on, where the document has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<Digest>,
    },
    /// 加签: a department was added to the live countersign stage.
    CountersignerAdded {
        /// The stage index (0-based).
        stage: usize,
        /// The department added.
        unit: UnitCode,
    },
    /// 减签: a department was removed from the live countersign stage.
    CountersignerRemoved {
        /// The stage index (0-based).
        stage: usize,
        /// The department removed.
        unit: UnitCode,
    },
    /// An `Any`/`Ratio` stage was decided before these departments acted: not needed.
    CountersignersNotNeeded {
        /// The stage index (0-based).
        stage: usize,
        /// The departments that did not act.
        units: Vec<UnitCode>,
    },
    /// 加签 of a reviewer: a review stage was inserted.
    ReviewerAdded {
        /// The index of the new stage (0-based).
        stage: usize,
        /// The reviewer.
        reviewer: ActorId,
        /// Inserted before the current stage (and now current) or after it.
        before: bool,
    },
    /// 转办: the review task moved to another reviewer.
    Reassigned {
        /// The stage index (0-based).
        stage: usize,
        /// The previous reviewer.
        from: ActorId,
        /// The new reviewer.
        to: ActorId,
        /// Why.
        reason: String,
    },
    /// 委派: the reviewer handed the task to a delegate.
    Delegated {
        /// The stage index (0-based).
        stage: usize,
        /// The reviewer (delegator).
        from: ActorId,
        /// The delegate.
        to: ActorId,
        /// Why.
        reason: String,
    },
    /// The delegate's result, back to the delegator to confirm.
    DelegateReported {
        /// The stage index (0-based).
        stage: usize,
        /// Whether the delegate agrees.
        agree: bool,
        /// The delegate's opinion.
        opinion: String,
    },
    /// 退回 to an earlier stage, which runs again from there.
    ReturnedToStage {
        /// The state it was returned from.
        from: State,
        /// The stage index it went back to (0-based).
        stage: usize,
        /// Why.
        reason: String,
    },
    /// 催办: a reminder for an overdue stage.
    Reminded {
        /// The stage index (0-based).
        stage: usize,
        /// When the stage was due.
        due_at: Timestamp,
        /// Whom it waits for, as to-do keys (e.g. `li.qiang`, `Countersigner@RSC`).
        waiting_for: Vec<String>,
        /// The actor it was escalated to, if the route names one.
        escalated_to: Option<ActorId>,
    },
    /// 退回.
    Returned {
        /// The state it was returned from.
        from: State,
        /// The state it went back to.
        to: State,
        /// Why.
        reason: String,
    },
    /// 撤回 by the drafter.
    Withdrawn {
        /// Why (may be empty).
        reason: String,
    },
    /// 签发: one required signature.
    Signed {
        /// The issuing unit signed for.
        unit: UnitCode,
        /// The signer's name as recorded on the document.
        signer_name: String,
        /// 签发意见.
        opinion: String,
        /// The full date of the signature (China Standard Time).
        date: NaiveDate,
        /// The SHA-256 of the 正文 file it was given on, where the document has one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<Digest>,
    },
    /// 印发: number assigned and distributed.
    Issued {
        /// 发文字号.
        number: DocumentNumber,
        /// 印发日期.
        issue_date: NaiveDate,
        /// 份数.
        copies: u32,
        /// 主送 as distributed.
        main_recipients: Vec<String>,
        /// 抄送 as distributed.
        cc: Vec<String>,
        /// The issued 公文 as printed (GB/T 9704, PDF), kept with the document, where the
        /// engine that issued it was given a renderer: the chain covers what was printed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        printed: Option<crate::content::FileRef>,
    },
    /// 签收 by one recipient unit.
    Acknowledged {
        /// The recipient unit.
        recipient: UnitCode,
    },
    /// 归档.
    Archived {
        /// 档号 and its parts.
        reference: ArchiveReference,
        /// Fixity digest of the document's event chain before this event, if kept.
        fixity_hash: Option<String>,
        /// The retention the schedule (保管期限表) gave (absent in events written before
        /// schedules were kept).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scheduled_retention: Option<Retention>,
        /// Why the archivist chose another retention than the schedule's (a deviation).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deviation: Option<String>,
    },
    /// 作废.
    Voided {
        /// Why.
        reason: String,
    },
}

impl EventData {
    /// The number this event claims in its series (`Issued`: the 发文字号; `Archived`: the
    /// 件号), which the store keeps unique and gapless.
    pub fn number_claim(&self) -> Option<(crate::numbering::Series, u32)> {
        match self {
            EventData::Issued { number, .. } => Some((number.series(), number.seq)),
            EventData::Archived { reference, .. } => Some((reference.series(), reference.item)),
            _ => None,
        }
    }
}

impl crate::codec::EventCodec for EventData {
    /// The stable type name stored in the log.
    fn type_name(&self) -> &'static str {
        match self {
            EventData::Drafted { .. } => "Drafted",
            EventData::Revised { .. } => "Revised",
            EventData::SubmittedForReview { .. } => "SubmittedForReview",
            EventData::Approved { .. } => "Approved",
            EventData::Countersigned { .. } => "Countersigned",
            EventData::CountersignerAdded { .. } => "CountersignerAdded",
            EventData::CountersignerRemoved { .. } => "CountersignerRemoved",
            EventData::CountersignersNotNeeded { .. } => "CountersignersNotNeeded",
            EventData::ReviewerAdded { .. } => "ReviewerAdded",
            EventData::Reassigned { .. } => "Reassigned",
            EventData::Delegated { .. } => "Delegated",
            EventData::DelegateReported { .. } => "DelegateReported",
            EventData::ReturnedToStage { .. } => "ReturnedToStage",
            EventData::Reminded { .. } => "Reminded",
            EventData::Returned { .. } => "Returned",
            EventData::Withdrawn { .. } => "Withdrawn",
            EventData::Signed { .. } => "Signed",
            EventData::Issued { .. } => "Issued",
            EventData::Acknowledged { .. } => "Acknowledged",
            EventData::Archived { .. } => "Archived",
            EventData::Voided { .. } => "Voided",
        }
    }

    /// The step in the office's words, for timelines: 拟稿, 审核通过, 会签, 签发, ….
    fn step(&self) -> &'static str {
        match self {
            EventData::Drafted { .. } => "拟稿",
            EventData::Revised { .. } => "修改",
            EventData::SubmittedForReview { .. } => "送审",
            EventData::Approved { .. } => "审核通过",
            EventData::Countersigned { agree: true, .. } => "会签同意",
            EventData::Countersigned { agree: false, .. } => "会签不同意",
            EventData::CountersignerAdded { .. } => "加签",
            EventData::CountersignerRemoved { .. } => "减签",
            EventData::CountersignersNotNeeded { .. } => "无需会签",
            EventData::ReviewerAdded { .. } => "加签",
            EventData::Reassigned { .. } => "转办",
            EventData::Delegated { .. } => "委派",
            EventData::DelegateReported { .. } => "委派回复",
            EventData::ReturnedToStage { .. } => "退回环节",
            EventData::Reminded { .. } => "催办",
            EventData::Returned { .. } => "退回",
            EventData::Withdrawn { .. } => "撤回",
            EventData::Signed { .. } => "签发",
            EventData::Issued { .. } => "印发",
            EventData::Acknowledged { .. } => "签收",
            EventData::Archived { .. } => "归档",
            EventData::Voided { .. } => "作废",
        }
    }
}
