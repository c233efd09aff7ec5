//! What a document is (文种, 15 kinds) and how urgent (紧急程度), and which flow it belongs
//! to: shared by every flow.

use serde::{Deserialize, Serialize};

/// 文种 document kind: the 15 kinds of the 2012 regulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// 决议
    Resolution,
    /// 决定
    Decision,
    /// 命令（令）
    Order,
    /// 公报
    Communique,
    /// 公告
    Announcement,
    /// 通告
    Notice,
    /// 意见
    Opinion,
    /// 通知
    Circular,
    /// 通报
    Bulletin,
    /// 报告
    Report,
    /// 请示
    Request,
    /// 批复
    Reply,
    /// 议案
    Motion,
    /// 函
    Letter,
    /// 纪要
    Minutes,
}

impl Kind {
    /// All 15 kinds, in the order of the regulation.
    pub const ALL: [Kind; 15] = [
        Kind::Resolution,
        Kind::Decision,
        Kind::Order,
        Kind::Communique,
        Kind::Announcement,
        Kind::Notice,
        Kind::Opinion,
        Kind::Circular,
        Kind::Bulletin,
        Kind::Report,
        Kind::Request,
        Kind::Reply,
        Kind::Motion,
        Kind::Letter,
        Kind::Minutes,
    ];

    /// The Chinese term.
    pub fn chinese(self) -> &'static str {
        match self {
            Kind::Resolution => "决议",
            Kind::Decision => "决定",
            Kind::Order => "命令",
            Kind::Communique => "公报",
            Kind::Announcement => "公告",
            Kind::Notice => "通告",
            Kind::Opinion => "意见",
            Kind::Circular => "通知",
            Kind::Bulletin => "通报",
            Kind::Report => "报告",
            Kind::Request => "请示",
            Kind::Reply => "批复",
            Kind::Motion => "议案",
            Kind::Letter => "函",
            Kind::Minutes => "纪要",
        }
    }

    /// 上行文: documents sent upward need the principal's signature.
    pub fn is_upward(self) -> bool {
        matches!(self, Kind::Report | Kind::Request | Kind::Motion)
    }

    /// Whether a document of this kind must name at least one main recipient (主送).
    /// 公告 and 通告 are published to the public, 命令 (令) is promulgated, and 纪要 records a
    /// meeting: GB/T 9704-2012 lets them go without one.
    pub fn needs_main_recipient(self) -> bool {
        !matches!(
            self,
            Kind::Announcement | Kind::Notice | Kind::Order | Kind::Minutes
        )
    }
}

/// 紧急程度 urgency.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub enum Urgency {
    /// 普通
    #[default]
    Normal,
    /// 加急
    Urgent,
    /// 特急
    ExtraUrgent,
}

impl Urgency {
    /// The Chinese term.
    pub fn chinese(self) -> &'static str {
        match self {
            Urgency::Normal => "普通",
            Urgency::Urgent => "加急",
            Urgency::ExtraUrgent => "特急",
        }
    }
}
