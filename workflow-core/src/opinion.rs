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
