//! The campus fixture (`fixtures/campus.json`) as a test kit, read in one place: its
//! directory, its sample document (a 通知 of the 校长办公室: fields, route, opinions, who
//! signs, issues and archives it) and the whole 发文 flow that document takes. The core,
//! store, gRPC and CLI tests, the bench and the examples build on it, so a route or a flow
//! is written down once, in the fixture.
//!
//! - [`script`]: a given/when/then driver for the pure core (no store).
//! - [`clock`]: the one place tests take time from, pinned to 2026-11-02.
//! - [`engine`]: an engine on a temporary directory with the fixture loaded.
//! - `conformance` (feature `conformance`): the storage conformance suite every backend
//!   passes.
//!
//! ```
//! use workflow_testkit::{full_flow, sample};
//!
//! let sample = sample();
//! assert_eq!(sample.fields.title, "关于做好2026年秋季学期期末考试工作的通知");
//! // Draft, submit, review, three countersigns, review, sign-off, issue, 签收, archive.
//! assert_eq!(full_flow().len(), 11);
//! ```

pub mod clock;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod engine;
pub mod incoming;
pub mod notify;
pub mod postgres;
pub mod print;
pub mod script;
pub mod submission;
pub mod supervision;

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use serde::Deserialize;
use workflow_core::{
    ActorId, Directory, UnitCode, directory::Classification, directory::Role, kind::Kind,
    kind::Urgency, outgoing::Action, outgoing::DraftFields, retention::Retention, route::StageSpec,
};

/// The fixture's text.
pub const CAMPUS: &str = include_str!("../../fixtures/campus.json");

/// A real 正文 or attachment to upload and name: the sample 收文's 自评自建工作方案 as a
/// one-page PDF (`fixtures/files/self-assessment-plan.pdf`).
pub const SAMPLE_FILE: &[u8] = include_bytes!("../../fixtures/files/self-assessment-plan.pdf");

/// The name [`SAMPLE_FILE`] is uploaded under.
pub const SAMPLE_FILE_NAME: &str = "自评自建工作方案.pdf";

/// The fixture's path (for programs and servers that read it themselves).
pub fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/campus.json")
}

/// How many events loading the fixture's directory writes (one per unit and per actor, in
/// the directory stream): the documents of a store opened by the test kit start after them.
pub fn directory_events() -> u64 {
    let d = directory();
    u64::try_from(d.units().count() + d.actors().count()).unwrap_or(u64::MAX)
}

/// The fixture's directory: its units and actors.
pub fn directory() -> Directory {
    match Directory::from_json(CAMPUS) {
        Ok(d) => d,
        Err(e) => panic!("fixtures/campus.json does not read as a directory: {e}"),
    }
}

/// The fixture's sample document and everything its flow needs.
#[derive(Debug, Clone)]
pub struct Sample {
    /// What its drafter writes.
    pub fields: DraftFields,
    /// 拟稿人.
    pub drafter: ActorId,
    /// 审核 and 会签 stages.
    pub route: Vec<StageSpec>,
    /// 签发人.
    pub signatory: ActorId,
    /// Opinions, by reviewer or signatory id and by countersigning unit code.
    pub opinions: BTreeMap<String, String>,
    /// The clerk who issues it (印发).
    pub clerk: ActorId,
    /// 成文日期.
    pub issue_date: NaiveDate,
    /// 印发份数.
    pub copies: u32,
    /// The archivist who files it (归档).
    pub archivist: ActorId,
    /// 全宗号.
    pub fonds: String,
    /// 保管期限.
    pub retention: Retention,
    /// The 机构 part of its 档号.
    pub archive_unit: String,
}

#[derive(Deserialize)]
struct File {
    fonds: String,
    document: Doc,
}

#[derive(Deserialize)]
struct Doc {
    kind: Kind,
    title: String,
    #[serde(default)]
    body: String,
    issuing_unit: UnitCode,
    drafter: ActorId,
    classification: Classification,
    urgency: Urgency,
    main_recipients: Vec<String>,
    cc: Vec<String>,
    route: Vec<FixtureStage>,
    signatory: ActorId,
    opinions: BTreeMap<String, String>,
    issue: FixtureIssue,
    archive: FixtureArchive,
}

/// The fixture's short form of a stage: `{"review": "li.qiang", "deadline_days": 2}` or
/// `{"countersign": ["RSC", "CWC"], "deadline_days": 3}`.
#[derive(Deserialize)]
struct FixtureStage {
    #[serde(default)]
    review: Option<ActorId>,
    #[serde(default)]
    countersign: Option<Vec<UnitCode>>,
    #[serde(default)]
    deadline_days: Option<u32>,
}

#[derive(Deserialize)]
struct FixtureIssue {
    clerk: ActorId,
    issue_date: NaiveDate,
    copies: u32,
}

#[derive(Deserialize)]
struct FixtureArchive {
    archivist: ActorId,
    retention: Retention,
    unit_code: String,
}

/// The fixture's sample document.
pub fn sample() -> Sample {
    let file: File = match serde_json::from_str(CAMPUS) {
        Ok(f) => f,
        Err(e) => panic!("fixtures/campus.json has no sample document: {e}"),
    };
    let d = file.document;
    let route = d
        .route
        .into_iter()
        .map(|s| match (s.review, s.countersign) {
            (Some(reviewer), None) => StageSpec::Review {
                reviewer,
                deadline_days: s.deadline_days,
                escalate_to: None,
            },
            (None, Some(departments)) => StageSpec::Countersign {
                departments,
                deadline_days: s.deadline_days,
                completion: Default::default(),
                escalate_to: None,
            },
            _ => panic!("a fixture stage names either `review` or `countersign`"),
        })
        .collect();
    Sample {
        fields: DraftFields {
            files: Default::default(),
            kind: d.kind,
            title: d.title,
            body: d.body,
            issuing_unit: d.issuing_unit,
            co_issuing_units: Vec::new(),
            classification: d.classification,
            classification_period_years: None,
            urgency: d.urgency,
            important: false,
            main_recipients: d.main_recipients,
            cc: d.cc,
            annotation: None,
        },
        drafter: d.drafter,
        route,
        signatory: d.signatory,
        opinions: d.opinions,
        clerk: d.issue.clerk,
        issue_date: d.issue.issue_date,
        copies: d.issue.copies,
        archivist: d.archive.archivist,
        fonds: file.fonds,
        retention: d.archive.retention,
        archive_unit: d.archive.unit_code,
    }
}

/// The sample document's fields.
pub fn fields() -> DraftFields {
    sample().fields
}

/// The sample document's route: 审核 (li.qiang) → 会签 (RSC, CWC, XSC) → 审核 (chen.hong).
pub fn route() -> Vec<StageSpec> {
    sample().route
}

impl Sample {
    /// The opinion the fixture gives `who` (an actor id or a unit code), or `同意。`.
    pub fn opinion(&self, who: &str) -> String {
        self.opinions
            .get(who)
            .cloned()
            .unwrap_or_else(|| "同意。".to_owned())
    }

    /// The steps that take this document through `stage`: the reviewer's 审核通过, or each
    /// department's 会签 (by the department's first countersigner in the directory).
    pub fn stage_steps(&self, dir: &Directory, stage: &StageSpec) -> Vec<(ActorId, Action)> {
        match stage {
            StageSpec::Review { reviewer, .. } => vec![(
                reviewer.clone(),
                Action::Approve {
                    content: None,
                    stage: None,
                    opinion: self.opinion(reviewer.as_str()),
                },
            )],
            StageSpec::Countersign { departments, .. } => departments
                .iter()
                .map(|unit| {
                    (
                        member(dir, unit, Some(Role::Countersigner)),
                        Action::Countersign {
                            content: None,
                            stage: None,
                            agree: true,
                            opinion: self.opinion(unit.as_str()),
                        },
                    )
                })
                .collect(),
        }
    }

    /// The whole flow, draft to archive: every step as (actor, action).
    pub fn flow(&self, dir: &Directory) -> Vec<(ActorId, Action)> {
        let mut steps = vec![
            (self.drafter.clone(), Action::Draft(self.fields.clone())),
            (
                self.drafter.clone(),
                Action::SubmitForReview {
                    route: self.route.clone(),
                },
            ),
        ];
        for stage in &self.route {
            steps.extend(self.stage_steps(dir, stage));
        }
        steps.push((
            self.signatory.clone(),
            Action::SignOff {
                content: None,
                opinion: self.opinion(self.signatory.as_str()),
            },
        ));
        steps.push((
            self.clerk.clone(),
            Action::Issue {
                issue_date: self.issue_date,
                copies: self.copies,
            },
        ));
        // 签收 by every 主送 unit of the directory.
        for r in &self.fields.main_recipients {
            let unit = UnitCode::from(r.as_str());
            if dir.units().any(|u| u.code == unit) {
                steps.push((member(dir, &unit, None), Action::Acknowledge));
            }
        }
        steps.push((
            self.archivist.clone(),
            Action::Archive {
                fonds: self.fonds.clone(),
                retention: Some(self.retention),
                unit_code: self.archive_unit.clone(),
                deviation_reason: String::new(),
            },
        ));
        steps
    }
}

/// The first actor of `unit` in the directory (holding `role`, if given).
fn member(dir: &Directory, unit: &UnitCode, role: Option<Role>) -> ActorId {
    match dir
        .actors()
        .find(|a| &a.unit == unit && role.is_none_or(|r| a.has_role(r)))
    {
        Some(a) => a.id.clone(),
        None => panic!("the fixture has no actor in {unit} with role {role:?}"),
    }
}

/// The sample document's whole flow on the fixture's directory, draft to archive.
pub fn full_flow() -> Vec<(ActorId, Action)> {
    sample().flow(&directory())
}

/// How many steps of [`full_flow`] bring the sample document to each state.
pub mod steps {
    /// Drafted: 拟稿.
    pub const DRAFTED: usize = 1;
    /// In review (first stage): 送审.
    pub const IN_REVIEW: usize = 2;
    /// In countersign: the first review approved.
    pub const COUNTERSIGNING: usize = 3;
    /// Awaiting sign-off: three countersigns and the second review.
    pub const AWAITING_SIGN_OFF: usize = 7;
    /// Signed off: 签发.
    pub const SIGNED_OFF: usize = 8;
    /// Issued: 印发.
    pub const ISSUED: usize = 9;
    /// Acknowledged by its one 主送 unit of the directory (签收).
    pub const ACKNOWLEDGED: usize = 10;
    /// Archived: 归档.
    pub const ARCHIVED: usize = 11;
}

#[cfg(test)]
mod tests {
    use super::*;
    use workflow_core::outgoing::State;

    #[test]
    fn the_steps_bring_the_sample_where_their_names_say() {
        let mut s = script::Script::new();
        let flow = full_flow();
        let expect = [
            (steps::DRAFTED, State::Drafting),
            (steps::IN_REVIEW, State::InReview),
            (steps::COUNTERSIGNING, State::Countersigning),
            (steps::AWAITING_SIGN_OFF, State::AwaitingSignOff),
            (steps::SIGNED_OFF, State::SignedOff),
            (steps::ISSUED, State::Issued),
            (steps::ACKNOWLEDGED, State::Issued),
            (steps::ARCHIVED, State::Archived),
        ];
        let mut done = 0;
        for (n, state) in expect {
            for (actor, action) in &flow[done..n] {
                s.ok(actor.as_str(), action.clone());
            }
            done = n;
            assert_eq!(s.state(), state, "after {n} steps");
        }
        assert_eq!(flow.len(), steps::ARCHIVED);
    }

    #[test]
    fn the_route_is_the_fixtures() {
        let route = route();
        assert_eq!(route.len(), 3);
        assert!(
            matches!(&route[1], StageSpec::Countersign { departments, .. } if departments.len() == 3)
        );
    }
}
