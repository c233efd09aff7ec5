//! 发文 commands: what a caller asks the engine to do to one outgoing document.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::content::{Digest, DocumentFiles};
use crate::directory::Classification;
use crate::flow::FlowCommand;
use crate::ids::{ActorId, UnitCode};
use crate::kind::{Kind, Urgency};
use crate::retention::Retention;
use crate::route::StageSpec;

pub use crate::ids::SYSTEM_ACTOR;

/// One command to one outgoing document, by one actor, at one instant. The instant comes
/// from the caller (the service's clock), never from the core, so that deciding and folding
/// stay deterministic.
pub type Command = FlowCommand<Action>;

/// The content of a draft (拟稿): everything the drafter decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftFields {
    /// 文种.
    pub kind: Kind,
    /// 标题.
    pub title: String,
    /// 正文 (plain text).
    #[serde(default)]
    pub body: String,
    /// 发文机关: the lead unit, whose prefix the document number takes.
    pub issuing_unit: UnitCode,
    /// Further issuing units of a joint document (联合发文); empty for most documents.
    #[serde(default)]
    pub co_issuing_units: Vec<UnitCode>,
    /// 密级.
    #[serde(default)]
    pub classification: Classification,
    /// 保密期限 in years; required when classified, absent otherwise.
    #[serde(default)]
    pub classification_period_years: Option<u32>,
    /// 紧急程度.
    #[serde(default)]
    pub urgency: Urgency,
    /// Marked important: needs the principal's signature (主要负责人签发).
    #[serde(default)]
    pub important: bool,
    /// 主送: free text (各学院) or unit codes.
    #[serde(default)]
    pub main_recipients: Vec<String>,
    /// 抄送: free text or unit codes.
    #[serde(default)]
    pub cc: Vec<String>,
    /// The 正文 as a file and the attachments (DESIGN §10), each uploaded first.
    #[serde(default, skip_serializing_if = "DocumentFiles::is_empty")]
    pub files: DocumentFiles,
    /// 附注: a short note the 公文 prints in parentheses under its 成文日期, e.g.
    /// `此件公开发布` or `联系人：王芳，电话：88886666` (one line, at most 60 characters;
    /// recorded without the parentheses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotation: Option<String>,
}

/// What a command asks for. See DESIGN §2 for who may give each and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Action {
    /// 拟稿: create the document. The acting actor becomes its drafter.
    Draft(DraftFields),
    /// 修改: replace the draft's content (in `Drafting` only).
    Revise(DraftFields),
    /// 送审: start a new round along `route`.
    SubmitForReview {
        /// The stages, in order.
        route: Vec<StageSpec>,
    },
    /// 审核通过 by the current stage's reviewer.
    Approve {
        /// 审核意见 (may be empty).
        #[serde(default)]
        opinion: String,
        /// The stage meant (0-based); when given and no longer current, refused.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage: Option<usize>,
        /// The SHA-256 of the 正文 file the actor was shown; when given and no longer the
        /// document's 正文, refused (`CONTENT_CHANGED`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<Digest>,
    },
    /// 退回 with a reason.
    Return {
        /// Why; required.
        reason: String,
        /// The stage meant (0-based) when returning from a review or countersign stage;
        /// when given and no longer current (sign-off counts as no stage), refused.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage: Option<usize>,
    },
    /// 撤回 by the drafter while no reviewer has acted in this round.
    Withdraw {
        /// Why (optional).
        #[serde(default)]
        reason: String,
    },
    /// 会签 by a countersigner for their department.
    Countersign {
        /// 同意 or not; a disagreement returns the draft to its drafter.
        agree: bool,
        /// 会签意见; required when not agreeing.
        #[serde(default)]
        opinion: String,
        /// The stage meant (0-based); when given and no longer current, refused, so that a
        /// countersign sent for a stage that has just completed never lands on the next.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage: Option<usize>,
        /// The SHA-256 of the 正文 file the actor was shown; when given and no longer the
        /// document's 正文, refused (`CONTENT_CHANGED`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<Digest>,
    },
    /// 加签: the office or the stage owner adds a department to the live countersign stage.
    AddCountersigner {
        /// The department to add.
        unit: UnitCode,
        /// The stage meant (0-based); when given and not the current one, refused, so a
        /// late 加签 never lands in the next stage by accident.
        #[serde(default)]
        stage: Option<usize>,
    },
    /// 减签: the office or the stage owner removes a department that has not acted.
    RemoveCountersigner {
        /// The department to remove.
        unit: UnitCode,
        /// The stage meant (0-based), as for `AddCountersigner`.
        #[serde(default)]
        stage: Option<usize>,
    },
    /// 加签 of a reviewer, before or after the current reviewer, by the office or the
    /// current reviewer.
    AddReviewer {
        /// The reviewer to add.
        reviewer: ActorId,
        /// Before the current reviewer (the new one acts first) or after.
        before: bool,
        /// The stage meant (0-based); when given and no longer current, refused.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage: Option<usize>,
    },
    /// 转办: the current review task moves to another reviewer for good.
    Reassign {
        /// The new reviewer.
        to: ActorId,
        /// Why (optional).
        #[serde(default)]
        reason: String,
        /// The stage meant (0-based); when given and no longer current, refused.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage: Option<usize>,
    },
    /// 委派: the reviewer hands the task to a delegate, who acts; then it comes back to the
    /// reviewer to confirm.
    Delegate {
        /// The delegate.
        to: ActorId,
        /// Why (optional).
        #[serde(default)]
        reason: String,
        /// The stage meant (0-based); when given and no longer current, refused.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage: Option<usize>,
    },
    /// 退回 to an earlier stage (0-based) of the route, which runs again from there.
    ReturnToStage {
        /// The stage to go back to.
        stage: usize,
        /// Why; required.
        reason: String,
        /// The stage the document is meant to be at now (0-based); when given and no longer
        /// current, refused.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from_stage: Option<usize>,
    },
    /// 催办: the deadline sweep reminds whoever an overdue stage waits for (system only).
    Remind {
        /// The reminder interval: at most one reminder per stage per this many hours.
        interval_hours: u32,
    },
    /// 签发 by an actor with signing authority.
    SignOff {
        /// 签发意见, e.g. 同意印发.
        opinion: String,
        /// The SHA-256 of the 正文 file the actor was shown; when given and no longer the
        /// document's 正文, refused (`CONTENT_CHANGED`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<Digest>,
    },
    /// 印发: 复核 + 登记编号 + 用印 + 核发, by the office clerk.
    Issue {
        /// 印发日期; its year is the year in the document number.
        issue_date: NaiveDate,
        /// 份数 printed/distributed.
        copies: u32,
    },
    /// 签收 by a recipient unit (through any of its actors).
    Acknowledge,
    /// 归档 by the archivist.
    Archive {
        /// 全宗号, e.g. `J012`.
        fonds: String,
        /// 保管期限; `None` takes the retention schedule's (保管期限表). Another period than
        /// the schedule's needs a `deviation_reason`, and a shorter one the archive office's
        /// role.
        retention: Option<Retention>,
        /// 机构 code in the archival reference, e.g. `BGS`.
        unit_code: String,
        /// Why the retention differs from the schedule's (only then).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        deviation_reason: String,
    },
    /// 作废 before issue, with a reason.
    Void {
        /// Why; required.
        reason: String,
    },
}

impl Action {
    /// The 正文 (its SHA-256) the actor says they were shown, for the commands that approve
    /// it: 审核, 会签, 签发.
    pub fn shown_content(&self) -> Option<&Digest> {
        match self {
            Action::Approve { content, .. }
            | Action::Countersign { content, .. }
            | Action::SignOff { content, .. } => content.as_ref(),
            _ => None,
        }
    }

    /// The command's name, as used in messages and on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Draft(_) => "Draft",
            Action::Revise(_) => "Revise",
            Action::SubmitForReview { .. } => "SubmitForReview",
            Action::Approve { .. } => "Approve",
            Action::Return { .. } => "Return",
            Action::Withdraw { .. } => "Withdraw",
            Action::Countersign { .. } => "Countersign",
            Action::AddCountersigner { .. } => "AddCountersigner",
            Action::RemoveCountersigner { .. } => "RemoveCountersigner",
            Action::AddReviewer { .. } => "AddReviewer",
            Action::Reassign { .. } => "Reassign",
            Action::Delegate { .. } => "Delegate",
            Action::ReturnToStage { .. } => "ReturnToStage",
            Action::Remind { .. } => "Remind",
            Action::SignOff { .. } => "SignOff",
            Action::Issue { .. } => "Issue",
            Action::Acknowledge => "Acknowledge",
            Action::Archive { .. } => "Archive",
            Action::Void { .. } => "Void",
        }
    }
}
