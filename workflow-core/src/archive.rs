//! 归档: retention periods (保管期限), the retention schedule (保管期限表) an archivist files
//! by, and the archive record a flow keeps. Shared by every flow that archives.
//!
//! The default follows 《机关文件材料归档范围和文书档案保管期限规定》 (国家档案局令第8号,
//! 2006): documents of lasting value — the office's normative and policy documents, its
//! decisions, orders and communiqués, and its important requests, reports, circulars and
//! replies — are kept permanently (第八条); its ordinary business documents and the ordinary
//! documents received from above for implementation for 30 years (第九条); routine,
//! administrative ones for 10 years (第十条). An office adapts it in its configuration; the
//! archive command proposes the scheduled period, and a deviation is recorded with its reason.

use serde::{Deserialize, Serialize};

use crate::ids::Timestamp;
use crate::kind::Kind;
use crate::kind::StreamKind;
use crate::numbering::ArchiveReference;
use crate::retention::Retention;

/// The archive record (归档).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveRecord {
    /// 档号 and its parts.
    pub reference: ArchiveReference,
    /// Fixity digest of the event chain before archiving, where a chain is kept.
    pub fixity_hash: Option<String>,
    /// When it was archived.
    pub at: Timestamp,
    /// The retention the schedule gave (absent for documents archived before schedules).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_retention: Option<Retention>,
    /// Why another retention than the schedule's was chosen, if one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deviation: Option<String>,
}

/// One row: documents of this flow, these kinds and this importance are kept this long.
/// A row without `kinds` matches every kind; without `important`, either importance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRow {
    /// 发文 (`outgoing`), 收文 (`incoming`), 督办 (`supervision`) or 签报 (`submission`).
    pub flow: StreamKind,
    /// The document kinds (文种) the row covers; empty: every kind.
    #[serde(default)]
    pub kinds: Vec<Kind>,
    /// Only documents marked important (`true`), only the others (`false`), or both.
    #[serde(default)]
    pub important: Option<bool>,
    /// How long they are kept.
    pub retention: Retention,
    /// Where the row comes from, e.g. `8号令 第八条（一）`.
    #[serde(default)]
    pub basis: String,
}

impl ScheduleRow {
    fn matches(&self, flow: StreamKind, kind: Option<Kind>, important: bool) -> bool {
        self.flow == flow
            && (self.kinds.is_empty() || kind.is_some_and(|k| self.kinds.contains(&k)))
            && self.important.is_none_or(|i| i == important)
    }
}

/// The retention schedule: rows checked in order, the first that matches decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionSchedule {
    /// The rows, most specific first.
    pub rows: Vec<ScheduleRow>,
}

/// Why a schedule cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("retention schedule: {0}")]
pub struct ScheduleError(String);

impl RetentionSchedule {
    /// Checks that every flow has a row matching every document (a catch-all last row), so
    /// that a retention can always be proposed.
    pub fn validate(&self) -> Result<(), ScheduleError> {
        if let Some(row) = self
            .rows
            .iter()
            .find(|r| !StreamKind::DOCUMENTS.contains(&r.flow))
        {
            return Err(ScheduleError(format!(
                "a row names flow {}: only {} documents are archived",
                row.flow,
                StreamKind::DOCUMENTS.map(StreamKind::as_str).join(", ")
            )));
        }
        for flow in [StreamKind::Outgoing, StreamKind::Incoming] {
            for kind in Kind::ALL {
                for important in [false, true] {
                    if self.lookup(flow, kind, important).is_none() {
                        return Err(ScheduleError(format!(
                            "no row covers {flow:?} {kind:?} ({}){}: end with a row without \
                             kinds and importance",
                            kind.chinese(),
                            if important { ", important" } else { "" }
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// The first row matching a document, if any.
    pub fn lookup(&self, flow: StreamKind, kind: Kind, important: bool) -> Option<&ScheduleRow> {
        self.lookup_any(flow, Some(kind), important)
    }

    /// The first row matching, for records that may have no 文种 (a 督办 item): only rows
    /// without kinds match those.
    fn lookup_any(
        &self,
        flow: StreamKind,
        kind: Option<Kind>,
        important: bool,
    ) -> Option<&ScheduleRow> {
        self.rows.iter().find(|r| r.matches(flow, kind, important))
    }

    /// The scheduled retention of a document; permanent if no row matches (keeping a file
    /// too long can be corrected, destroying it too early cannot).
    pub fn retention(&self, flow: StreamKind, kind: Kind, important: bool) -> Retention {
        self.retention_any(flow, Some(kind), important)
    }

    /// [`Self::retention`] for records that may have no 文种.
    pub(crate) fn retention_any(
        &self,
        flow: StreamKind,
        kind: Option<Kind>,
        important: bool,
    ) -> Retention {
        self.lookup_any(flow, kind, important)
            .map_or(Retention::Permanent, |r| r.retention)
    }
}

impl Default for RetentionSchedule {
    /// The default schedule, drawn from 国家档案局令第8号.
    fn default() -> Self {
        use Kind::*;
        let row = |flow, kinds: &[Kind], important, retention, basis: &str| ScheduleRow {
            flow,
            kinds: kinds.to_vec(),
            important,
            retention,
            basis: basis.to_owned(),
        };
        let out = StreamKind::Outgoing;
        let inc = StreamKind::Incoming;
        RetentionSchedule {
            rows: vec![
                // 发文: what this office forms.
                row(
                    out,
                    &[
                        Resolution,
                        Decision,
                        Order,
                        Communique,
                        Announcement,
                        Notice,
                    ],
                    None,
                    Retention::Permanent,
                    "8号令 第八条（一）（三）：本机关制定的法规政策性文件、重要决定、公告",
                ),
                row(
                    out,
                    &[],
                    Some(true),
                    Retention::Permanent,
                    "8号令 第八条（三）（四）：重要业务文件；重要问题的请示、报告、批复",
                ),
                row(
                    out,
                    &[Letter],
                    Some(false),
                    Retention::Years10,
                    "8号令 第十条（一）：事务性文件材料（一般公函）",
                ),
                row(
                    out,
                    &[],
                    Some(false),
                    Retention::Years30,
                    "8号令 第九条（一）（五）：一般性业务文件；一般性问题的请示、报告、通知",
                ),
                // 收文: what this office receives (from above, or from its units).
                row(
                    inc,
                    &[],
                    Some(true),
                    Retention::Permanent,
                    "8号令 第八条（八）：上级机关发来的重要文件材料",
                ),
                row(
                    inc,
                    &[Letter],
                    Some(false),
                    Retention::Years10,
                    "8号令 第十条（五）：需要办理的事务性文件材料",
                ),
                row(
                    inc,
                    &[],
                    Some(false),
                    Retention::Years30,
                    "8号令 第九条（六）：需要贯彻执行的一般性文件材料",
                ),
                // 督办: supervision items file with the instructions they follow up.
                row(
                    StreamKind::Supervision,
                    &[],
                    None,
                    Retention::Years30,
                    "8号令 第九条（一）：一般性业务文件材料（督办件）",
                ),
                // 签报: requests to the leaders and their 批示.
                row(
                    StreamKind::Submission,
                    &[],
                    Some(true),
                    Retention::Permanent,
                    "8号令 第八条（三）（四）：重要问题的请示与领导批示（全校性事项的签报）",
                ),
                row(
                    StreamKind::Submission,
                    &[],
                    Some(false),
                    Retention::Years30,
                    "8号令 第九条（一）：一般性问题的请示与批示（签报）",
                ),
            ],
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_covers_everything_and_reads_as_the_8th_order() {
        let s = RetentionSchedule::default();
        assert_eq!(s.validate(), Ok(()));
        let out = |kind, important| s.retention(StreamKind::Outgoing, kind, important);
        // 决定、命令、公告: permanent whatever their importance.
        assert_eq!(out(Kind::Decision, false), Retention::Permanent);
        assert_eq!(out(Kind::Order, false), Retention::Permanent);
        assert_eq!(out(Kind::Announcement, false), Retention::Permanent);
        // An important 请示 is permanent; an ordinary one 30 years.
        assert_eq!(out(Kind::Request, true), Retention::Permanent);
        assert_eq!(out(Kind::Request, false), Retention::Years30);
        assert_eq!(out(Kind::Circular, false), Retention::Years30);
        assert_eq!(out(Kind::Report, false), Retention::Years30);
        // An ordinary 函: 10 years; an important one: permanent.
        assert_eq!(out(Kind::Letter, false), Retention::Years10);
        assert_eq!(out(Kind::Letter, true), Retention::Permanent);
        let inc = |kind, important| s.retention(StreamKind::Incoming, kind, important);
        assert_eq!(inc(Kind::Circular, true), Retention::Permanent);
        assert_eq!(inc(Kind::Circular, false), Retention::Years30);
        assert_eq!(inc(Kind::Letter, false), Retention::Years10);
        assert_eq!(
            s.retention(StreamKind::Supervision, Kind::Circular, false),
            Retention::Years30
        );
    }

    #[test]
    fn a_schedule_without_a_catch_all_is_refused() {
        let s = RetentionSchedule {
            rows: vec![ScheduleRow {
                flow: StreamKind::Outgoing,
                kinds: vec![Kind::Decision],
                important: None,
                retention: Retention::Permanent,
                basis: String::new(),
            }],
        };
        let e = s.validate().unwrap_err();
        assert!(e.to_string().contains("no row covers Outgoing"), "{e}");
        // Nothing matches: permanent rather than too short.
        assert_eq!(
            s.retention(StreamKind::Outgoing, Kind::Letter, false),
            Retention::Permanent
        );
    }

    #[test]
    fn a_row_for_streams_that_are_not_archived_is_refused() {
        let mut s = RetentionSchedule::default();
        s.rows.insert(
            0,
            ScheduleRow {
                flow: StreamKind::Directory,
                kinds: vec![],
                important: None,
                retention: Retention::Permanent,
                basis: String::new(),
            },
        );
        let e = s.validate().unwrap_err();
        assert!(e.to_string().contains("names flow directory"), "{e}");
    }
}
