//! What a document is (文种, 15 kinds) and how urgent (紧急程度), and which flow it belongs
//! to: shared by every flow.

use std::fmt;

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

/// The kind of a stream in the log (DESIGN §4). Every event's envelope names it; events
/// written before kinds existed read as [`StreamKind::Outgoing`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum StreamKind {
    /// 发文: an outgoing document.
    #[default]
    Outgoing,
    /// 收文: an incoming document.
    Incoming,
    /// 督办: a supervision item.
    Supervision,
    /// 签报: a unit's request to the school's leaders.
    Submission,
    /// The directory: units, actors, roles and clearances.
    Directory,
    /// A published bulletin (月通报).
    Bulletin,
}

impl StreamKind {
    /// Every kind, in the order lists show them.
    pub const ALL: [StreamKind; 6] = [
        StreamKind::Outgoing,
        StreamKind::Incoming,
        StreamKind::Supervision,
        StreamKind::Submission,
        StreamKind::Directory,
        StreamKind::Bulletin,
    ];

    /// The kinds of documents people work on (发文, 收文, 督办, 签报): those lists and the
    /// retention schedule know.
    pub const DOCUMENTS: [StreamKind; 4] = [
        StreamKind::Outgoing,
        StreamKind::Incoming,
        StreamKind::Supervision,
        StreamKind::Submission,
    ];

    /// The document kind named `s` (`outgoing`, `incoming`, `supervision`, `submission`: the kinds lists
    /// and filters take), or `None` for any other name.
    pub fn parse_document(s: &str) -> Option<StreamKind> {
        s.parse::<StreamKind>()
            .ok()
            .filter(|k| StreamKind::DOCUMENTS.contains(k))
    }

    /// The name stored in envelopes and used on the wire: `outgoing`, `incoming`, ….
    pub fn as_str(self) -> &'static str {
        match self {
            StreamKind::Outgoing => "outgoing",
            StreamKind::Incoming => "incoming",
            StreamKind::Supervision => "supervision",
            StreamKind::Submission => "submission",
            StreamKind::Directory => "directory",
            StreamKind::Bulletin => "bulletin",
        }
    }

    /// The office's word for it: 发文, 收文, 督办, 签报, 通讯录, 月通报.
    pub fn label(self) -> &'static str {
        match self {
            StreamKind::Outgoing => "发文",
            StreamKind::Incoming => "收文",
            StreamKind::Supervision => "督办",
            StreamKind::Submission => "签报",
            StreamKind::Directory => "通讯录",
            StreamKind::Bulletin => "月通报",
        }
    }
}

impl fmt::Display for StreamKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is no stream kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown stream kind {0:?}: expected one of outgoing, incoming, supervision, submission, directory, bulletin"
)]
pub struct UnknownKind(pub String);

impl std::str::FromStr for StreamKind {
    type Err = UnknownKind;

    /// Reads [`StreamKind::as_str`]'s names back (surrounding blanks ignored).
    fn from_str(s: &str) -> Result<Self, UnknownKind> {
        let s = s.trim();
        StreamKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.to_owned()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests
mod tests {
    use super::*;

    #[test]
    fn a_kind_reads_back_from_its_name_and_nothing_else_does() {
        for k in StreamKind::ALL {
            assert_eq!(k.as_str().parse::<StreamKind>(), Ok(k));
            assert_eq!(format!(" {k} ").parse::<StreamKind>(), Ok(k));
            // The stored form is the same name.
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        let e = "Outgoing".parse::<StreamKind>().unwrap_err();
        assert!(e.to_string().contains("expected one of outgoing"), "{e}");
        assert!("".parse::<StreamKind>().is_err());
        // Lists and filters take the document kinds only.
        assert_eq!(
            StreamKind::parse_document(" incoming"),
            Some(StreamKind::Incoming)
        );
        assert_eq!(StreamKind::parse_document("directory"), None);
        assert_eq!(StreamKind::parse_document("Outgoing"), None);
    }
}
