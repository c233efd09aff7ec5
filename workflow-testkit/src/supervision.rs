//! A sample 督办 item (教务处 leads, 人事处 cooperates, weekly feedback) and a given/when/then
//! driver for 督办 in the pure core.

use chrono::{Duration, NaiveDate};
use workflow_core::supervision::{Frequency, ItemSpec, Source, SupervisionAction};
use workflow_core::{
    Timestamp, directory::Classification, retention::Retention, supervision::Item,
    supervision::Supervision,
};

use crate::script::{FlowScript, Scripted};

/// The supervisor (督办员) of the fixture: the office director 丁欣.
pub const SUPERVISOR: &str = "ding.xin";
/// The lead unit's handler, who signs for the sample item and becomes its 责任人.
pub const HANDLER: &str = "fang.yu";
/// The leader who asked for it.
pub const LEADER: &str = "lin.zhiyuan";

/// The sample item's fields, due `deadline`: a meeting decision for 教务处 with 人事处.
pub fn item_spec(deadline: NaiveDate) -> ItemSpec {
    ItemSpec {
        source: Source::Meeting {
            reference: "校长办公会纪要〔2026〕21号 第三项".into(),
        },
        title: "制定本科教学工作合格评估整改方案".into(),
        requirements: "对照评估指标逐项排查，形成整改方案和任务清单，按周报送进展。".into(),
        leader: LEADER.into(),
        lead_unit: "JWC".into(),
        responsible: None,
        co_units: vec!["RSC".into()],
        deadline,
        feedback: Frequency::Weekly,
        warn_days: 3,
        classification: Classification::None,
    }
}

/// The sample item's flow, step by step: (actor, action), from 立项 to 归档, with a granted
/// 延期 (to `deadline` + 10 days).
pub fn item_flow(deadline: NaiveDate, fonds: &str) -> Vec<(&'static str, SupervisionAction)> {
    vec![
        (
            SUPERVISOR,
            SupervisionAction::OpenItem {
                spec: item_spec(deadline),
            },
        ),
        (
            HANDLER,
            SupervisionAction::AcceptItem {
                note: "已签收，由评估办具体落实。".into(),
            },
        ),
        (
            HANDLER,
            SupervisionAction::ReportProgress {
                text: "已完成指标排查，形成问题清单32条。".into(),
                percent: Some(40),
            },
        ),
        (
            HANDLER,
            SupervisionAction::RequestItemExtension {
                until: deadline + Duration::days(10),
                reason: "需待学校党委会审定整改方案。".into(),
            },
        ),
        (
            SUPERVISOR,
            SupervisionAction::DecideItemExtension {
                grant: true,
                reason: "同意延期。".into(),
            },
        ),
        (
            // 人事处, the 协办 unit, says what it did.
            "guo.tao",
            SupervisionAction::GiveItemInput {
                text: "已核定评估所需师资数据，报教务处汇总。".into(),
            },
        ),
        (
            HANDLER,
            SupervisionAction::ReportCompletion {
                result: "整改方案已经党委会审定印发，任务清单分解至各学院。".into(),
            },
        ),
        (
            SUPERVISOR,
            SupervisionAction::CloseItem {
                note: "经核实，同意销号。".into(),
                grade: Some(workflow_core::supervision::Grade::Good),
            },
        ),
        (
            "xu.jing",
            SupervisionAction::ArchiveItem {
                fonds: fonds.into(),
                retention: Some(Retention::Years30),
                unit_code: "JWC".into(),
                deviation_reason: String::new(),
            },
        ),
    ]
}

impl Scripted for Supervision {
    type Sample = ();
    const MADE: &'static str = "item opened";
    const FIRST_ID: u128 = 0x6000;
    fn sample() {}
    fn start() -> Timestamp {
        crate::engine::start_of_term()
    }
}

/// 督办 driven through commands in the pure core (see [`FlowScript`]), with the sample
/// item's steps.
pub type ItemScript = FlowScript<Supervision>;

impl ItemScript {
    /// The sample's deadline: four weeks after the start of term.
    pub fn deadline(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 30).unwrap_or(NaiveDate::MIN)
    }

    /// The current item (panics before it is opened).
    #[track_caller]
    pub fn item(&self) -> &Item {
        self.current()
    }

    /// Runs the sample flow from step `from` to step `to` (exclusive).
    #[track_caller]
    pub fn steps(&mut self, from: usize, to: usize) -> &mut Self {
        let steps = item_flow(self.deadline(), &crate::sample().fonds);
        for (actor, action) in steps[from..to].iter().cloned() {
            self.ok(actor, action);
        }
        self
    }

    /// The sample flow's action at step `i`.
    pub fn step(&self, i: usize) -> SupervisionAction {
        item_flow(self.deadline(), &crate::sample().fonds)[i]
            .1
            .clone()
    }
}
