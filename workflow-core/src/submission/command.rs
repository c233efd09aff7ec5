//! What callers ask of a 签报: one action per step of DESIGN §3c.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::content::{Digest, DocumentFiles};
use crate::directory::Classification;
use crate::ids::{ActorId, DocumentId, UnitCode};
use crate::kind::Urgency;
use crate::retention::Retention;
use crate::route::StageSpec;

/// What a 签报 asks (签报单): set at 拟稿, changed by 修改 while it is with its drafter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoFields {
    /// 标题.
    pub title: String,
    /// 事由: what is asked, in a sentence or two (the leaders read it first).
    pub summary: String,
    /// 正文.
    #[serde(default)]
    pub body: String,
    /// 密级.
    #[serde(default)]
    pub classification: Classification,
    /// 保密期限 in years; required when classified.
    #[serde(default)]
    pub classification_period_years: Option<u32>,
    /// 缓急.
    #[serde(default)]
    pub urgency: Urgency,
    /// Whether it asks a decision on an institution-wide matter (全校性重要事项): such
    /// 签报 are kept permanently, the others 30 years (the default retention schedule).
    #[serde(default)]
    pub important: bool,
    /// The 收文 it answers, if it does (a reply the leaders are asked to approve).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<DocumentId>,
    /// The 正文 as a file and the attachments (DESIGN §10), each uploaded first.
    #[serde(default, skip_serializing_if = "DocumentFiles::is_empty")]
    pub files: DocumentFiles,
}

/// One of 同意 / 不同意 / 修改后同意: what a leader's 批示 decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// 同意.
    Agree,
    /// 不同意.
    Disagree,
    /// 修改后同意.
    AgreeWithChanges,
}

impl Decision {
    /// Every decision, in the order forms offer them.
    pub const ALL: [Decision; 3] = [
        Decision::Agree,
        Decision::AgreeWithChanges,
        Decision::Disagree,
    ];

    /// The Chinese term.
    pub fn chinese(self) -> &'static str {
        match self {
            Decision::Agree => "同意",
            Decision::Disagree => "不同意",
            Decision::AgreeWithChanges => "修改后同意",
        }
    }

    /// The stable name (`agree`, `disagree`, `agree_with_changes`), as on the wire.
    pub fn name(self) -> &'static str {
        match self {
            Decision::Agree => "agree",
            Decision::Disagree => "disagree",
            Decision::AgreeWithChanges => "agree_with_changes",
        }
    }

    /// Whether it agrees (with or without changes).
    pub fn agrees(self) -> bool {
        self != Decision::Disagree
    }
}

/// A 督办 item a 批示 opens (批必查): who does it, with whom, by when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supervise {
    /// 主办: the unit that carries it out; the 签报单位 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_unit: Option<UnitCode>,
    /// 协办.
    #[serde(default)]
    pub co_units: Vec<UnitCode>,
    /// 办结时限.
    pub deadline: NaiveDate,
}

/// What is asked of a 签报.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum SubmissionAction {
    /// 拟稿 by a drafter, for their unit (the 签报单位).
    DraftMemo {
        /// The fields.
        fields: MemoFields,
    },
    /// 修改 by the drafter, while it is with them.
    ReviseMemo {
        /// The new fields.
        fields: MemoFields,
    },
    /// 送审 along a route: first the unit head's 审核, then any 会签 or further 审核 stages;
    /// after the last stage it goes to the general office's 核稿.
    SubmitMemo {
        /// The stages.
        route: Vec<StageSpec>,
    },
    /// 审核通过 by the current stage's reviewer.
    ApproveMemo {
        /// 审核意见.
        #[serde(default)]
        opinion: String,
        /// The stage the reviewer means (refused if it is no longer current).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage: Option<usize>,
        /// The SHA-256 of the 正文 file the actor was shown; when given and no longer the
        /// document's 正文, refused (`CONTENT_CHANGED`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<Digest>,
    },
    /// 会签 by a department of the current countersign stage.
    CountersignMemo {
        /// Agreed or not; a disagreement needs an opinion.
        agree: bool,
        /// 会签意见.
        #[serde(default)]
        opinion: String,
        /// The stage the department means.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage: Option<usize>,
        /// The SHA-256 of the 正文 file the actor was shown; when given and no longer the
        /// document's 正文, refused (`CONTENT_CHANGED`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<Digest>,
    },
    /// 退回 to the drafter, with the reason: by the current reviewer or department, the
    /// office at 核稿, or the leader it waits for.
    ReturnMemo {
        /// Why; required.
        reason: String,
    },
    /// 核稿 by the general office: its 拟办意见 and the leaders who 批示, in turn (会批:
    /// 分管校领导 first, 主要领导 last). Draws the 签报编号 the first time.
    AcceptMemo {
        /// 拟办意见.
        opinion: String,
        /// The leaders, in the order they 批示.
        leaders: Vec<ActorId>,
    },
    /// 批示 by the leader it waits for.
    EndorseMemo {
        /// 同意 / 不同意 / 修改后同意.
        decision: Decision,
        /// 批示 text; required.
        text: String,
        /// A 督办 item to open for it (批必查): only with the deciding (last) 批示, agreeing.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        supervise: Option<Supervise>,
        /// The SHA-256 of the 正文 file the actor was shown; when given and no longer the
        /// document's 正文, refused (`CONTENT_CHANGED`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<Digest>,
    },
    /// 转批: the leader passes it to another leader, who 批示 in their place.
    ReferMemo {
        /// The other leader.
        to: ActorId,
        /// The leader's note.
        #[serde(default)]
        opinion: String,
    },
    /// 办结 by the 签报单位 once the leaders decided: what was done with the 批示.
    CloseMemo {
        /// 办结说明.
        #[serde(default)]
        note: String,
    },
    /// 归档 by the archivist: the same fields and 档号 form as the other flows.
    ArchiveMemo {
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
    /// 作废 by the drafter, before the office's 核稿 (never once numbered), with the reason.
    VoidMemo {
        /// Why; required.
        reason: String,
    },
    /// 催办 by the engine's deadline sweep, for a stage past its deadline.
    RemindMemo {
        /// The sweep's interval, for the record.
        interval_hours: u32,
    },
}

impl SubmissionAction {
    /// The 正文 (its SHA-256) the actor says they were shown, for the commands that approve
    /// it: 审核, 会签, 批示.
    pub fn shown_content(&self) -> Option<&Digest> {
        match self {
            SubmissionAction::ApproveMemo { content, .. }
            | SubmissionAction::CountersignMemo { content, .. }
            | SubmissionAction::EndorseMemo { content, .. } => content.as_ref(),
            _ => None,
        }
    }

    /// The command's name, as used in messages and on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            SubmissionAction::DraftMemo { .. } => "DraftMemo",
            SubmissionAction::ReviseMemo { .. } => "ReviseMemo",
            SubmissionAction::SubmitMemo { .. } => "SubmitMemo",
            SubmissionAction::ApproveMemo { .. } => "ApproveMemo",
            SubmissionAction::CountersignMemo { .. } => "CountersignMemo",
            SubmissionAction::ReturnMemo { .. } => "ReturnMemo",
            SubmissionAction::AcceptMemo { .. } => "AcceptMemo",
            SubmissionAction::EndorseMemo { .. } => "EndorseMemo",
            SubmissionAction::ReferMemo { .. } => "ReferMemo",
            SubmissionAction::CloseMemo { .. } => "CloseMemo",
            SubmissionAction::ArchiveMemo { .. } => "ArchiveMemo",
            SubmissionAction::VoidMemo { .. } => "VoidMemo",
            SubmissionAction::RemindMemo { .. } => "RemindMemo",
        }
    }
}
