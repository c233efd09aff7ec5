//! Identifiers and the small value types of the domain: kinds, classification, roles, actors, units.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An instant in UTC. Time enters the core with each command; the core never reads a clock.
pub type Timestamp = DateTime<Utc>;

/// The id of one document, which is also the id of its event stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DocumentId(pub Uuid);

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }
    };
}

string_id!(
    /// The id of an actor (a person) in the directory, e.g. `wang.fang`.
    ActorId
);
string_id!(
    /// The code of a unit (单位/部门), e.g. `JWC` for 教务处.
    UnitCode
);

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

/// 密级 classification. Ordered: an actor may see a document when their clearance is `>=` it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
pub enum Classification {
    /// 非密
    #[default]
    None,
    /// 秘密
    Secret,
    /// 机密
    Confidential,
    /// 绝密
    TopSecret,
}

impl Classification {
    /// The Chinese term.
    pub fn chinese(self) -> &'static str {
        match self {
            Classification::None => "非密",
            Classification::Secret => "秘密",
            Classification::Confidential => "机密",
            Classification::TopSecret => "绝密",
        }
    }

    /// The longest classification period (保密期限) allowed, in years; `None` for unclassified.
    pub fn max_period_years(self) -> Option<u32> {
        match self {
            Classification::None => None,
            Classification::Secret => Some(10),
            Classification::Confidential => Some(20),
            Classification::TopSecret => Some(30),
        }
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

/// 保管期限 retention period of an archived document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Retention {
    /// 永久
    Permanent,
    /// 定期30年
    Years30,
    /// 定期10年
    Years10,
}

impl Retention {
    /// All retention periods, longest first.
    pub const ALL: [Retention; 3] = [Retention::Permanent, Retention::Years30, Retention::Years10];

    /// The code used in the archival reference (档号): `Y`, `D30`, `D10`.
    pub fn code(self) -> &'static str {
        match self {
            Retention::Permanent => "Y",
            Retention::Years30 => "D30",
            Retention::Years10 => "D10",
        }
    }

    /// The Chinese term.
    pub fn chinese(self) -> &'static str {
        match self {
            Retention::Permanent => "永久",
            Retention::Years30 => "定期30年",
            Retention::Years10 => "定期10年",
        }
    }

    /// How many years it is kept; `None` for permanent.
    pub fn years(self) -> Option<u32> {
        match self {
            Retention::Permanent => None,
            Retention::Years30 => Some(30),
            Retention::Years10 => Some(10),
        }
    }

    /// Whether this keeps a file for less time than `other`.
    pub fn is_shorter_than(self, other: Retention) -> bool {
        match (self.years(), other.years()) {
            (Some(a), Some(b)) => a < b,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

impl fmt::Display for Retention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} ({})", self, self.chinese())
    }
}

/// Which flow a document belongs to: 发文 (issued here), 收文 (received here), 督办
/// (supervision items). The retention schedule distinguishes them.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum FlowKind {
    /// 发文: documents this office drafts and issues.
    #[default]
    Outgoing,
    /// 收文: documents this office receives.
    Incoming,
    /// 督办: supervision items.
    Supervision,
}

/// A role an actor holds; it decides which commands they may give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    /// 拟稿人
    Drafter,
    /// 审核人
    Reviewer,
    /// 会签人
    Countersigner,
    /// 办公室文秘 office clerk
    Clerk,
    /// 签发人
    Signatory,
    /// 主要负责人 principal signatory
    PrincipalSignatory,
    /// 档案员
    Archivist,
    /// manages the actor directory
    Admin,
    /// 档案部门 (the archive office): may archive with a retention shorter than the
    /// schedule's. (Declared last: the order of roles is part of stored sets.)
    ArchiveOffice,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A person who acts on documents: one unit, some roles, one clearance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Directory id, e.g. `wang.fang`.
    pub id: ActorId,
    /// Display name, recorded with signatures, e.g. 王芳.
    pub name: String,
    /// The unit the actor belongs to.
    pub unit: UnitCode,
    /// What the actor may do.
    pub roles: BTreeSet<Role>,
    /// The highest classification the actor may see.
    pub clearance: Classification,
}

impl Actor {
    /// Whether the actor holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// Whether the actor may see a document of classification `c`.
    pub fn may_see(&self, c: Classification) -> bool {
        self.clearance >= c
    }
}

/// A unit (单位/部门) of the campus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// Short code, e.g. `JWC`.
    pub code: UnitCode,
    /// Full name, e.g. 教务处.
    pub name: String,
    /// 机关代字: the document-number prefix, e.g. `X校教`.
    pub doc_prefix: String,
    /// Whether this is the general office (办公室) that runs issue and countersign logistics.
    #[serde(default)]
    pub office: bool,
}
