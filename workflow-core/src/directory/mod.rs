//! The directory: actors (people), the units they belong to, their roles and their clearance
//! (密级 they may see). Shared by every flow.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

mod stream;

pub use stream::{
    DIRECTORY_STREAM, Deactivation, DirectoryAction, DirectoryEvent, DirectoryState,
    DirectoryStream, describe_actor_change,
};

use crate::ids::{ActorId, UnitCode};

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

    /// The marking a paper form and the 公文's 版头 carry (GB/T 9704: 密级★保密期限):
    /// `秘密★10年` with a period, `秘密` without one, `非密` for an unclassified document.
    pub fn marking(self, period_years: Option<u32>) -> String {
        match period_years {
            Some(years) if self != Classification::None => {
                format!("{}★{years}年", self.chinese())
            }
            _ => self.chinese().to_owned(),
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

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
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
    /// 收文登记员: signs for and registers incoming documents (签收、登记), screens them (初审).
    Registrar,
    /// 办公室主任: proposes how an incoming document is handled (拟办) and decides extensions.
    OfficeDirector,
    /// 校领导: instructs on incoming documents (批示, 批办).
    Leader,
    /// 承办人: handles an incoming document for the lead or a cooperating unit (承办).
    Handler,
    /// 督办员: opens supervision items (立项), decides their extensions, closes them (销号).
    Supervisor,
}

impl Role {
    /// The Chinese term, as the office names the role.
    pub fn chinese(self) -> &'static str {
        match self {
            Role::Drafter => "拟稿人",
            Role::Reviewer => "审核人",
            Role::Countersigner => "会签人",
            Role::Clerk => "文秘",
            Role::Signatory => "签发人",
            Role::PrincipalSignatory => "主要负责人",
            Role::Archivist => "档案员",
            Role::Admin => "系统管理员",
            Role::ArchiveOffice => "档案部门",
            Role::Registrar => "收文登记员",
            Role::OfficeDirector => "办公室主任",
            Role::Leader => "校领导",
            Role::Handler => "承办人",
            Role::Supervisor => "督办员",
        }
    }

    /// Every role, in declaration order.
    pub const ALL: [Role; 14] = [
        Role::Drafter,
        Role::Reviewer,
        Role::Countersigner,
        Role::Clerk,
        Role::Signatory,
        Role::PrincipalSignatory,
        Role::Archivist,
        Role::Admin,
        Role::ArchiveOffice,
        Role::Registrar,
        Role::OfficeDirector,
        Role::Leader,
        Role::Handler,
        Role::Supervisor,
    ];
}

impl std::str::FromStr for Role {
    type Err = String;

    /// A role by its name as the directory file writes it, e.g. `Archivist`.
    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| format!("{r:?}") == s.trim())
            .ok_or_else(|| format!("{s:?} is not a role"))
    }
}

impl fmt::Display for Role {
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
    /// Where their notices (待办, 催办) reach them: a channel the deployment configures and
    /// their address on it (an email address, a 企业微信 or 钉钉 user id). None: the channels
    /// of their unit, if any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reach: Vec<Reach>,
}

/// One way a notice reaches a person or a unit (DESIGN §12): the name of a channel the
/// deployment configures (`[[notify.channels]]`) and the address on it. A unit's entry
/// (a group robot of the unit's 企业微信 or 钉钉 group) usually has no address: the group
/// is the channel's.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Reach {
    /// The channel's name, e.g. `mail`.
    pub channel: String,
    /// The address on it, e.g. `wang.fang@x.edu.cn`; empty for a unit's group.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
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
    /// The prefix of its 收文编号, e.g. `X校收`; absent: the 机关代字 without a final 发,
    /// followed by 收.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receive_prefix: Option<String>,
    /// The prefix of its 签报编号, e.g. `教务签`; absent: the 机关代字 without a final 发,
    /// followed by 签.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memo_prefix: Option<String>,
    /// The name its 公文 go out under (发文机关: the 发文机关标志 prints it before 文件, the
    /// 署名 under the text), e.g. `X大学` for the 校长办公室 whose 机关代字 `X校发` issues the
    /// school's documents; absent: its own name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuing_name: Option<String>,
    /// Where notices for its people reach them when they have no channel of their own
    /// (a group robot of the unit's 企业微信 or 钉钉 group).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reach: Vec<Reach>,
}

impl Unit {
    /// The name its 公文 go out under (发文机关标志 and 署名).
    pub fn issuing_name(&self) -> &str {
        self.issuing_name.as_deref().unwrap_or(&self.name)
    }

    /// The prefix of the unit's 收文编号.
    pub fn receiving_prefix(&self) -> String {
        self.receive_prefix
            .clone()
            .unwrap_or_else(|| format!("{}收", self.doc_prefix.trim_end_matches('发')))
    }

    /// The prefix of the unit's 签报编号.
    pub fn memo_prefix(&self) -> String {
        self.memo_prefix
            .clone()
            .unwrap_or_else(|| format!("{}签", self.doc_prefix.trim_end_matches('发')))
    }
}
