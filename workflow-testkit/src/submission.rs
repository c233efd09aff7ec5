//! A sample 签报 (教务处 asks to hold a teaching competition: 李强's 审核, 财务处 and 人事处
//! countersign, the office's 核稿, 会批 by the 分管 then the 主要 leader, who opens a 督办
//! item) and a given/when/then driver for 签报 in the pure core.

use chrono::NaiveDate;
use workflow_core::route::StageSpec;
use workflow_core::submission::{
    Decision, Memo, MemoFields, Step, Submission, SubmissionAction, Supervise,
};
use workflow_core::{Timestamp, directory::Classification, kind::Urgency};

use crate::script::{FlowScript, Scripted};

/// The drafter (教务处).
pub const DRAFTER: &str = "wang.fang";
/// The unit head who reviews first (教务处).
pub const HEAD: &str = "li.qiang";
/// A countersigner of 财务处.
pub const FINANCE: &str = "sun.li";
/// A countersigner of 人事处.
pub const PERSONNEL: &str = "zhao.min";
/// The general office's clerk, who does the 核稿.
pub const CLERK: &str = "liu.yang";
/// The leader in charge (分管校领导), who 批示 first.
pub const DEPUTY: &str = "song.hua";
/// The principal leader (主要领导), who 批示 last.
pub const PRINCIPAL: &str = "lin.zhiyuan";
/// The archivist.
pub const ARCHIVIST: &str = "xu.jing";

/// The sample's fields.
pub fn memo_fields() -> MemoFields {
    MemoFields {
        files: Default::default(),
        title: "关于举办2027年青年教师教学竞赛的请示".into(),
        summary: "拟于2027年4月举办全校青年教师教学竞赛，需经费12万元，请批示。".into(),
        body: "为提高青年教师教学水平，经研究，拟于2027年4月举办第十届青年教师教学竞赛。\
               所需经费12万元，从本科教学专项经费列支。妥否，请批示。"
            .into(),
        classification: Classification::None,
        classification_period_years: None,
        urgency: Urgency::Normal,
        important: false,
        answers: None,
    }
}

/// The sample's route: the unit head's 审核, then 财务处 and 人事处 countersign.
pub fn memo_route() -> Vec<StageSpec> {
    vec![
        StageSpec::review(HEAD),
        StageSpec::countersign(["CWC", "RSC"]),
    ]
}

/// The 督办 the principal leader's 批示 opens, due `deadline`.
pub fn memo_supervise(deadline: NaiveDate) -> Supervise {
    Supervise {
        lead_unit: None,
        co_units: vec!["CWC".into()],
        deadline,
    }
}

/// The sample flow, step by step: (actor, action), from 拟稿 to 归档, the principal leader
/// opening a 督办 item due `deadline`.
pub fn memo_flow(deadline: NaiveDate, fonds: &str) -> Vec<(&'static str, SubmissionAction)> {
    vec![
        (
            DRAFTER,
            SubmissionAction::DraftMemo {
                fields: memo_fields(),
            },
        ),
        (
            DRAFTER,
            SubmissionAction::SubmitMemo {
                route: memo_route(),
            },
        ),
        (
            HEAD,
            SubmissionAction::ApproveMemo {
                content: None,
                opinion: "同意，呈报。".into(),
                stage: Some(0),
            },
        ),
        (
            FINANCE,
            SubmissionAction::CountersignMemo {
                content: None,
                agree: true,
                opinion: "经费可从本科教学专项列支。".into(),
                stage: Some(1),
            },
        ),
        (
            PERSONNEL,
            SubmissionAction::CountersignMemo {
                content: None,
                agree: true,
                opinion: "同意。".into(),
                stage: Some(1),
            },
        ),
        (
            CLERK,
            SubmissionAction::AcceptMemo {
                opinion: "拟同意，请宋副校长、林校长批示。".into(),
                leaders: vec![DEPUTY.into(), PRINCIPAL.into()],
            },
        ),
        (
            DEPUTY,
            SubmissionAction::EndorseMemo {
                content: None,
                decision: Decision::Agree,
                text: "同意，请林校长审批。".into(),
                supervise: None,
            },
        ),
        (
            PRINCIPAL,
            SubmissionAction::EndorseMemo {
                content: None,
                decision: Decision::AgreeWithChanges,
                text: "同意举办，经费压缩至10万元，请教务处抓好落实。".into(),
                supervise: Some(memo_supervise(deadline)),
            },
        ),
        (
            DRAFTER,
            SubmissionAction::CloseMemo {
                note: "已按批示修改方案，经费调整为10万元。".into(),
            },
        ),
        (
            ARCHIVIST,
            SubmissionAction::ArchiveMemo {
                fonds: fonds.into(),
                retention: None,
                unit_code: "JWC".into(),
                deviation_reason: String::new(),
            },
        ),
    ]
}

impl Scripted for Submission {
    type Sample = ();
    const MADE: &'static str = "签报 drafted";
    const FIRST_ID: u128 = 0x7000;
    fn sample() {}
    fn start() -> Timestamp {
        crate::engine::start_of_term()
    }
}

/// 签报 driven through commands in the pure core (see [`FlowScript`]), with the sample's
/// steps.
pub type MemoScript = FlowScript<Submission>;

impl MemoScript {
    /// The deadline of the sample's 督办 item: 2027-04-30.
    pub fn deadline(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 4, 30).unwrap_or(NaiveDate::MIN)
    }

    /// The current 签报 (panics before it is drafted).
    #[track_caller]
    pub fn memo(&self) -> &Memo {
        self.current()
    }

    /// Where the current 签报 stands.
    #[track_caller]
    pub fn step(&self) -> Step {
        self.memo().step()
    }

    /// Runs the sample flow from step `from` to step `to` (exclusive).
    #[track_caller]
    pub fn steps(&mut self, from: usize, to: usize) -> &mut Self {
        let steps = memo_flow(self.deadline(), &crate::sample().fonds);
        for (actor, action) in steps[from..to].iter().cloned() {
            self.ok(actor, action);
        }
        self
    }

    /// The sample flow's action at step `i`.
    pub fn action(&self, i: usize) -> SubmissionAction {
        memo_flow(self.deadline(), &crate::sample().fonds)[i]
            .1
            .clone()
    }
}
