//! What callers ask of a 收文: one action per step of DESIGN §3a.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::content::DocumentFiles;
use crate::directory::Classification;
use crate::ids::{ActorId, DocumentId, UnitCode};
use crate::kind::{Kind, Urgency};
use crate::retention::Retention;

/// An attachment as registered: its name and the SHA-256 of its bytes (the bytes live
/// outside the engine).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// File name.
    pub name: String,
    /// SHA-256 (64 hex digits) of the bytes.
    pub sha256: String,
}

/// The registration fields of a 收文 (收文登记簿).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    /// 来文单位: free text, or a unit code of the directory.
    pub from: String,
    /// 来文字号 (may be empty: not every sender numbers its documents).
    #[serde(default)]
    pub from_number: String,
    /// 标题.
    pub title: String,
    /// 文种.
    pub kind: Kind,
    /// 密级.
    #[serde(default)]
    pub classification: Classification,
    /// 保密期限 in years; required when classified.
    #[serde(default)]
    pub classification_period_years: Option<u32>,
    /// 紧急程度.
    #[serde(default)]
    pub urgency: Urgency,
    /// 收文日期.
    pub received_on: NaiveDate,
    /// 办结时限; required for 特急 and 加急.
    #[serde(default)]
    pub deadline: Option<NaiveDate>,
    /// Whether the sender expects a reply (是否需回复).
    #[serde(default)]
    pub reply_required: bool,
    /// 页数.
    #[serde(default)]
    pub pages: u32,
    /// 附件 named by digest only, as 收文 were registered before the engine kept files;
    /// a new registration names each as uploaded by its registrar, like `files`.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// The 来文 as files (its 正文 and attachments, DESIGN §10), each uploaded first.
    #[serde(default, skip_serializing_if = "DocumentFiles::is_empty")]
    pub files: DocumentFiles,
    /// The 发文 of this system it is, when it came from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<DocumentId>,
    /// 来文方式 (none on registrations made before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// 份数 received (0: not recorded).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub copies: u32,
    /// 份号 of the copies received, as marked on them (e.g. `000123`); a classified 收文 on
    /// paper or by 机要 records it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub copy_numbers: String,
    /// 重要: marked so at 登记 — the retention schedule files important 收文 longer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub important: bool,
    /// 需回执: the sender asks for a 回执 (receipt slip) back; the office records its return
    /// (`ReturnSlip`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub slip_required: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// 来文方式: how a 收文 arrived, as the 收文登记簿 records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// 纸质: on paper (post, by hand).
    Paper,
    /// 电子: through an electronic system (this one's 签收 included).
    Electronic,
    /// 机要: by the confidential courier (机要通信/机要交通).
    Confidential,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 3] = [Channel::Paper, Channel::Electronic, Channel::Confidential];

    /// The Chinese term.
    pub fn chinese(self) -> &'static str {
        match self {
            Channel::Paper => "纸质",
            Channel::Electronic => "电子",
            Channel::Confidential => "机要",
        }
    }
}

/// How the office director proposes a 收文 be handled (拟办).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    /// 传阅: circulate to these readers.
    Circulate {
        /// The readers.
        readers: Vec<ActorId>,
        /// 阅办: the readers must act on it, by this day (their opinion is required and
        /// the day is on their to-do); absent: 阅知, only to be read.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        act_by: Option<NaiveDate>,
    },
    /// 批办: for this leader's instruction.
    Instruct {
        /// The leader who gives the 批示 (主办, 协办, 办结时限).
        leader: ActorId,
        /// 会批: leaders who give their 批示意见 first (e.g. the 分管校领导 before the
        /// 主要领导), each kept; empty for one leader's 批办.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        co_leaders: Vec<ActorId>,
        /// Whether the co-leaders give theirs in the order named (依次), or all at once
        /// (同时); either way before `leader`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        in_turn: bool,
    },
}

impl Plan {
    /// 阅知 by these readers.
    pub fn circulate(readers: Vec<ActorId>) -> Plan {
        Plan::Circulate {
            readers,
            act_by: None,
        }
    }

    /// 批办 by one leader.
    pub fn instruct(leader: ActorId) -> Plan {
        Plan::Instruct {
            leader,
            co_leaders: Vec::new(),
            in_turn: false,
        }
    }
}

/// What is asked of a 收文.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum IncomingAction {
    /// 签收 and 登记 by the registrar, for their unit (or `unit`).
    Register {
        /// The registration fields.
        registration: Registration,
        /// The receiving unit; the registrar's own when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit: Option<UnitCode>,
    },
    /// 初审 passed.
    Screen {
        /// A note, if any.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        note: String,
        /// 办结时限 set or corrected at 初审 (a 特急/加急 收文 registered from an 发文 of this
        /// system has none until here).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        deadline: Option<NaiveDate>,
    },
    /// 退文: sent back to the sender, with the reason (not ours, wrong form, missing
    /// countersign…).
    RejectIncoming {
        /// Why; required.
        reason: String,
    },
    /// 拟办 by the office director: circulate, or for a leader's instruction.
    Propose {
        /// 阅知 or 批办.
        plan: Plan,
        /// 拟办意见.
        opinion: String,
    },
    /// 批示 by the leader it waits for: one lead unit, any cooperating units, a deadline.
    Instruct {
        /// 主办.
        lead_unit: UnitCode,
        /// 协办.
        #[serde(default)]
        co_units: Vec<UnitCode>,
        /// 办结时限.
        deadline: NaiveDate,
        /// 批示.
        opinion: String,
        /// Whether a supervision item (督办) is to be opened for it (批必查).
        #[serde(default)]
        supervise: bool,
    },
    /// 转批: the leader passes it to another leader.
    TransferInstruction {
        /// The other leader.
        to: ActorId,
        /// Why, or the leader's note.
        opinion: String,
    },
    /// 办理情况 by the lead unit's handler.
    RecordProgress {
        /// What was done.
        text: String,
    },
    /// A cooperating unit's input, once per unit, by one of its handlers.
    CoInput {
        /// The input.
        text: String,
    },
    /// 延期 asked by the lead unit's handler.
    RequestExtension {
        /// The new deadline asked for.
        until: NaiveDate,
        /// Why; required.
        reason: String,
    },
    /// The office director decides a pending extension.
    DecideExtension {
        /// Granted or not.
        grant: bool,
        /// The director's note.
        #[serde(default)]
        reason: String,
    },
    /// Sent back by the lead unit as not theirs (reason required): back to 拟办.
    SendBack {
        /// Why; required.
        reason: String,
    },
    /// 办结: the result, and the reply where one is required.
    Complete {
        /// 办理结果.
        result: String,
        /// 答复: the reply's reference or text (for in-system senders, possibly a new 发文's
        /// id); required when the registration says a reply is required.
        #[serde(default)]
        reply: String,
    },
    /// 已阅 by a named reader, with an optional opinion.
    MarkRead {
        /// 阅批意见.
        #[serde(default)]
        opinion: String,
    },
    /// 传阅 to more readers: while it circulates, and beside a 批办 (批示件传阅: awaiting,
    /// in and after the handling) — by the office director, or by the leader who gave the
    /// 批示. The handling goes on; 归档 waits for every reader.
    AddReaders {
        /// The readers.
        readers: Vec<ActorId>,
        /// 阅办: these readers must act on it by this day (opinion required); absent: 阅知.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        act_by: Option<NaiveDate>,
    },
    /// 会批: a leader named to give a 批示意见 before the deciding leader's 批示 gives it.
    CommentInstruction {
        /// 批示意见 (required).
        opinion: String,
    },
    /// 归档 by the archivist: the same fields and 档号 form as 发文.
    ArchiveIncoming {
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
    /// 催办 by hand: the office (the receiving unit's or the general office's 收文登记员 or
    /// 办公室主任) reminds the lead unit now, with a message, while it handles the 收文.
    UrgeIncoming {
        /// What is asked (required), e.g. 请于本周内办结并报结果。
        message: String,
    },
    /// 回执已回: the office records that the 回执 the sender asked for went back (once).
    ReturnSlip {
        /// How and when it went, if said (e.g. 已传真回执).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        note: String,
    },
    /// 催办 by the engine's deadline sweep.
    RemindIncoming {
        /// The escalation target, if the reminder is escalated.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        escalate_to: Option<ActorId>,
    },
}

impl IncomingAction {
    /// The command's name, as used in messages and on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            IncomingAction::Register { .. } => "RegisterIncoming",
            IncomingAction::Screen { .. } => "ScreenIncoming",
            IncomingAction::RejectIncoming { .. } => "RejectIncoming",
            IncomingAction::Propose { .. } => "ProposeHandling",
            IncomingAction::Instruct { .. } => "InstructIncoming",
            IncomingAction::TransferInstruction { .. } => "TransferInstruction",
            IncomingAction::RecordProgress { .. } => "RecordProgress",
            IncomingAction::CoInput { .. } => "CoInput",
            IncomingAction::RequestExtension { .. } => "RequestExtension",
            IncomingAction::DecideExtension { .. } => "DecideExtension",
            IncomingAction::SendBack { .. } => "SendBack",
            IncomingAction::Complete { .. } => "CompleteIncoming",
            IncomingAction::MarkRead { .. } => "MarkRead",
            IncomingAction::AddReaders { .. } => "AddReaders",
            IncomingAction::CommentInstruction { .. } => "CommentInstruction",
            IncomingAction::ArchiveIncoming { .. } => "ArchiveIncoming",
            IncomingAction::UrgeIncoming { .. } => "UrgeIncoming",
            IncomingAction::ReturnSlip { .. } => "ReturnSlip",
            IncomingAction::RemindIncoming { .. } => "RemindIncoming",
        }
    }
}
