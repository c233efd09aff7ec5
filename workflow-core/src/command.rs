//! Commands: what a caller asks the engine to do to one document.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::types::{
    ActorId, Classification, DocumentId, Kind, Retention, Timestamp, UnitCode, Urgency,
};

/// One command to one document, by one actor, at one instant.
///
/// The instant comes from the caller (the service's clock), never from the core, so that
/// deciding and folding stay deterministic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// The document (and event stream) the command is for.
    pub document_id: DocumentId,
    /// Who gives the command.
    pub actor: ActorId,
    /// When it is given.
    pub at: Timestamp,
    /// What is asked.
    pub action: Action,
}

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
}

/// One stage of a document's route, as given at submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageSpec {
    /// 审核/核稿 by one named actor.
    Review {
        /// The reviewer.
        reviewer: ActorId,
        /// 办理时限 in calendar days from the stage's start.
        #[serde(default)]
        deadline_days: Option<u32>,
    },
    /// 会签 by several departments in parallel.
    Countersign {
        /// The departments that must all agree.
        departments: Vec<UnitCode>,
        /// 办理时限 in calendar days from the stage's start.
        #[serde(default)]
        deadline_days: Option<u32>,
    },
}

impl StageSpec {
    /// The stage's time limit in days, if any.
    pub fn deadline_days(&self) -> Option<u32> {
        match self {
            StageSpec::Review { deadline_days, .. }
            | StageSpec::Countersign { deadline_days, .. } => *deadline_days,
        }
    }
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
    },
    /// 退回 with a reason.
    Return {
        /// Why; required.
        reason: String,
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
    },
    /// 加签: the office adds a department to the live countersign stage.
    AddCountersigner {
        /// The department to add.
        unit: UnitCode,
    },
    /// 签发 by an actor with signing authority.
    SignOff {
        /// 签发意见, e.g. 同意印发.
        opinion: String,
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
        /// 保管期限.
        retention: Retention,
        /// 机构 code in the archival reference, e.g. `BGS`.
        unit_code: String,
    },
    /// 作废 before issue, with a reason.
    Void {
        /// Why; required.
        reason: String,
    },
}

impl Action {
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
            Action::SignOff { .. } => "SignOff",
            Action::Issue { .. } => "Issue",
            Action::Acknowledge => "Acknowledge",
            Action::Archive { .. } => "Archive",
            Action::Void { .. } => "Void",
        }
    }
}
