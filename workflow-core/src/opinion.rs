//! Opinions on the record (审核意见, 会签意见, 签发意见, 退回理由): who said what, when, at which
//! step. Shared by every flow.

use serde::{Deserialize, Serialize};

use crate::ids::{ActorId, Timestamp, UnitCode};

/// One opinion on the record (审核意见, 会签意见, 签发意见, 退回理由).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opinion {
    /// The round it was given in (0 before the first submission).
    pub round: u32,
    /// The step: `review`, `countersign`, `sign_off`, `return`, `withdraw`.
    pub step: String,
    /// The stage index, for review and countersign.
    pub stage: Option<usize>,
    /// Who gave it.
    pub actor: ActorId,
    /// The department, for countersign and sign-off.
    pub unit: Option<UnitCode>,
    /// Agreed or not.
    pub agree: bool,
    /// The text.
    pub text: String,
    /// When.
    pub at: Timestamp,
}

/// The office's word for an opinion's step (`review` → 审核, `instruct` → 批示, …), as every
/// flow records them; an unknown step reads as itself.
pub fn step_label(step: &str) -> &str {
    match step {
        "review" => "审核",
        "countersign" => "会签",
        "sign_off" => "签发",
        "return" => "退回",
        "withdraw" => "撤回",
        "reassign" => "转办",
        "delegate" => "委派",
        "delegate_report" => "委派办理",
        "screen" => "初审",
        "reject" => "退文",
        "propose" => "拟办",
        "instruct" => "批示",
        "comment" => "会批",
        "transfer" => "转批",
        "send_back" => "退回拟办",
        "read" => "阅知",
        "extension" => "申请延期",
        "extension_decision" => "延期审批",
        "completion" => "办结",
        "accept" => "签收交办",
        "office" => "核稿",
        "close" => "办结",
        "void" => "作废",
        "revoke" => "撤销",
        other => other,
    }
}

/// Appends a note of a flow without rounds or stages (收文, 督办) to `opinions`; an empty
/// text is no opinion and is left out.
pub(crate) fn push_note(
    opinions: &mut Vec<Opinion>,
    step: &str,
    actor: &ActorId,
    agree: bool,
    text: &str,
    at: Timestamp,
) {
    if text.trim().is_empty() {
        return;
    }
    opinions.push(Opinion {
        round: 0,
        step: step.to_owned(),
        stage: None,
        actor: actor.clone(),
        unit: None,
        agree,
        text: text.to_owned(),
        at,
    });
}
