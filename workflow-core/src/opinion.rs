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
