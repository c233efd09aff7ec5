//! 督办 through the engine on a sled directory: a realistic month (November 2026) of
//! supervision items across six units — items carried over from October, items opened from
//! meeting decisions, annual key tasks, direct assignments and a leader's 批办 on a 收文;
//! weekly and monthly feedback, some of it missed; extensions granted and refused; items
//! closed on time, closed late, sent back, and some still open past their deadlines. Then
//! prints November's 月通报.
//!
//! Run: `cargo run -p examples --example supervision -- /tmp/supervision` and then, e.g.,
//! `workflow --data-dir /tmp/supervision bulletin 2026-11 --format html > 2026-11.html`.

use anyhow::{Context as _, Result};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use workflow_core::supervision::bulletin::Month;
use workflow_core::supervision::{Frequency, ItemSpec, Source, SupervisionAction};
use workflow_core::{
    DocumentId, FlowAction, Timestamp, directory::Classification, incoming::IncomingAction,
};
use workflow_store::{Engine, Request};
use workflow_testkit::incoming::{incoming_sample, instruct_flow};

/// The lead units and, for each, the handler who signs for its items.
const UNITS: [(&str, &str); 6] = [
    ("JWC", "fang.yu"),
    ("RSC", "guo.tao"),
    ("CWC", "xie.na"),
    ("XSC", "ye.qing"),
    ("KYC", "wu.gang"),
    ("XB", "liu.yang"),
];

const TASKS: [&str; 20] = [
    "完善本科课程思政建设实施方案",
    "落实新进教师岗前培训计划",
    "清理规范校内各类收费项目",
    "开展冬季学生宿舍安全大检查",
    "组织国家自然科学基金申报动员",
    "修订校长办公会议事规则",
    "推进智慧教室改造二期工程",
    "完成年度专业技术职务评审",
    "编制2027年部门预算建议数",
    "做好家庭经济困难学生认定工作",
    "建设校级科研平台考核办法",
    "督促各单位落实公文处理规范",
    "梳理人才培养方案修订意见",
    "开展教职工年度考核",
    "推进财务报销网上审批",
    "组织学生心理健康普查",
    "整理年度科研成果统计",
    "筹备第四季度党风廉政建设会议",
    "完成教学楼消防设施维保",
    "落实研究生奖助学金评定",
];

/// A small deterministic generator (the same month every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, m, d).unwrap_or(NaiveDate::MIN)
}

/// 10:00 China time on a day.
fn at(d: NaiveDate) -> Timestamp {
    Utc.from_utc_datetime(&d.and_hms_opt(2, 0, 0).unwrap_or_default())
}

/// How an item's month goes.
#[derive(Clone, Copy)]
enum Story {
    /// Closed on time.
    OnTime,
    /// Reported after its deadline, then closed.
    Late,
    /// Extended, then closed within the new deadline.
    Extended,
    /// Still open past its deadline at the month's end.
    Overdue,
    /// Still open, not yet due.
    Open,
    /// Reported, sent back, reported again, closed.
    SentBack,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let dir = std::env::args()
        .nth(1)
        .context("give a data directory, e.g. /tmp/supervision")?;
    // The directory is recorded as of 2026-10-01, before the story: a bulletin names units
    // and people as the directory had them at its month's end. Everything after runs on
    // the system clock (commands carry their own instants).
    let loaded = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let clock: workflow_store::Clock = {
        let loaded = loaded.clone();
        std::sync::Arc::new(move || {
            if loaded.load(std::sync::atomic::Ordering::Acquire) {
                Utc::now()
            } else {
                Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0)
                    .single()
                    .unwrap_or_default()
            }
        })
    };
    let engine = Engine::open_with(workflow_store::Config {
        clock,
        ..workflow_store::Config::new(&dir)
    })?;
    if engine.units().is_empty() {
        engine
            .load_directory_json(workflow_testkit::CAMPUS, "example", "the campus fixture")
            .await?;
    }
    loaded.store(true, std::sync::atomic::Ordering::Release);
    let run = async |id: DocumentId, actor: &str, when: Timestamp, action: FlowAction| {
        let name = action.name();
        let r = Request {
            at: Some(when),
            ..Request::new(id, actor, action)
        };
        engine
            .execute(r)
            .await
            .with_context(|| format!("{actor} {name} at {when}"))
    };
    let mut rng = Lcg(20261130);
    let stories = [
        Story::OnTime,
        Story::OnTime,
        Story::Late,
        Story::Extended,
        Story::Overdue,
        Story::Open,
        Story::OnTime,
        Story::SentBack,
    ];
    let mut count = 0;
    for n in 0..39u64 {
        let (unit, handler) = UNITS[(n % 6) as usize];
        // Eight items carried over from October; the rest opened in November.
        let opened = if n < 8 {
            day(10, 8 + (n as u32) * 2)
        } else {
            day(11, 1 + rng.next(20) as u32)
        };
        let story = stories[rng.next(stories.len() as u64) as usize];
        let deadline = match story {
            Story::Open => day(12, 10 + rng.next(15) as u32),
            _ => opened + Duration::days(14 + rng.next(14) as i64),
        };
        let source = match n % 4 {
            0 => Source::Meeting {
                reference: format!("校长办公会纪要〔2026〕{}号", 10 + n / 4),
            },
            1 => Source::KeyTask {
                reference: format!("2026年度重点工作第{}项", 1 + n),
            },
            _ => Source::Direct,
        };
        let spec = ItemSpec {
            source,
            title: TASKS[(n % 20) as usize].to_owned()
                + if n >= 20 { "（第二阶段）" } else { "" },
            requirements: "明确责任人和时间节点，按期报送进展，办结后报送成果。".into(),
            leader: if n % 3 == 0 {
                "song.hua"
            } else {
                "lin.zhiyuan"
            }
            .into(),
            lead_unit: unit.into(),
            responsible: None,
            co_units: if n % 5 == 0 {
                vec!["XB".into()]
            } else {
                vec![]
            }
            .into_iter()
            .filter(|u: &workflow_core::UnitCode| u.as_str() != unit)
            .collect(),
            deadline,
            feedback: if n % 2 == 0 {
                Frequency::Weekly
            } else {
                Frequency::Monthly
            },
            warn_days: 3,
            classification: Classification::None,
        };
        // 校长办公室 (liu.yang, its handler) cooperates on every fifth item.
        let cooperates = !spec.co_units.is_empty();
        let id = DocumentId(uuid::Uuid::from_u128(0x2026_1100_0000 + u128::from(n)));
        let item = |a: SupervisionAction| FlowAction::Supervision(a);
        run(
            id,
            "ding.xin",
            at(opened),
            item(SupervisionAction::OpenItem { spec }),
        )
        .await?;
        let accepted = opened + Duration::days(1);
        run(
            id,
            handler,
            at(accepted),
            item(SupervisionAction::AcceptItem {
                note: String::new(),
            }),
        )
        .await?;
        if cooperates {
            // The 协办 unit's input, which 销号 waits for.
            run(
                id,
                "liu.yang",
                at(accepted + Duration::days(2)),
                item(SupervisionAction::GiveItemInput {
                    text: "已按分工提供会议保障和材料汇总。".into(),
                }),
            )
            .await?;
        }
        // Feedback every week, with a gap now and then (missed feedback).
        let mut d = accepted + Duration::days(6);
        let until = match story {
            Story::Overdue | Story::Open => day(11, 30),
            _ => deadline.min(day(11, 28)),
        };
        let mut k = 0;
        while d < until {
            if rng.next(4) != 0 {
                k += 1;
                run(
                    id,
                    handler,
                    at(d),
                    item(SupervisionAction::ReportProgress {
                        text: format!("已完成第{k}阶段工作。"),
                        percent: Some((k * 25).min(90) as u8),
                    }),
                )
                .await?;
            }
            d += Duration::days(7);
        }
        let report = |when: NaiveDate| {
            (
                at(when),
                item(SupervisionAction::ReportCompletion {
                    result: "已按要求完成，形成工作报告和制度文件各一份。".into(),
                }),
            )
        };
        let urge = || {
            item(SupervisionAction::UrgeItem {
                message: "已超期，请尽快报送办结情况。".into(),
            })
        };
        let close = item(SupervisionAction::CloseItem {
            note: "经核实，同意销号。".into(),
            grade: Some(workflow_core::supervision::Grade::Good),
        });
        match story {
            Story::OnTime => {
                let (w, a) = report(deadline - Duration::days(1));
                run(id, handler, w, a).await?;
                run(id, "ding.xin", w + Duration::days(1), close).await?;
            }
            Story::Late => {
                // 催办 by the supervisor the day after the deadline.
                run(id, "ding.xin", at(deadline + Duration::days(1)), urge()).await?;
                let (w, a) = report(deadline + Duration::days(3));
                run(id, handler, w, a).await?;
                run(id, "ding.xin", w + Duration::days(1), close).await?;
            }
            Story::Extended => {
                let ask = deadline - Duration::days(3);
                run(
                    id,
                    handler,
                    at(ask),
                    item(SupervisionAction::RequestItemExtension {
                        until: deadline + Duration::days(7),
                        reason: "需等待上级主管部门批复。".into(),
                    }),
                )
                .await?;
                run(
                    id,
                    "ding.xin",
                    at(ask) + Duration::hours(3),
                    item(SupervisionAction::DecideItemExtension {
                        grant: true,
                        reason: "同意延期一周。".into(),
                    }),
                )
                .await?;
                let (w, a) = report(deadline + Duration::days(5));
                run(id, handler, w, a).await?;
                run(id, "ding.xin", w + Duration::days(1), close).await?;
            }
            Story::SentBack => {
                let (w, a) = report(deadline - Duration::days(4));
                run(id, handler, w, a.clone()).await?;
                run(
                    id,
                    "ding.xin",
                    w + Duration::hours(4),
                    item(SupervisionAction::ReturnItem {
                        reason: "成果材料不完整，请补充佐证材料。".into(),
                    }),
                )
                .await?;
                run(id, handler, w + Duration::days(2), a).await?;
                run(id, "ding.xin", w + Duration::days(3), close).await?;
            }
            Story::Overdue => {
                // An extension asked and refused; still open at the month's end.
                run(
                    id,
                    handler,
                    at(deadline - Duration::days(2)),
                    item(SupervisionAction::RequestItemExtension {
                        until: deadline + Duration::days(30),
                        reason: "工作量较大。".into(),
                    }),
                )
                .await?;
                run(
                    id,
                    "ding.xin",
                    at(deadline - Duration::days(1)),
                    item(SupervisionAction::DecideItemExtension {
                        grant: false,
                        reason: "该事项须按期完成，请加快进度。".into(),
                    }),
                )
                .await?;
                run(id, "ding.xin", at(deadline + Duration::days(1)), urge()).await?;
            }
            Story::Open => {}
        }
        count += 1;
    }
    // One item a leader asked for on a 收文 (批必查): the engine opens it with the 批办.
    let sample = incoming_sample();
    let receipt = DocumentId(uuid::Uuid::from_u128(0x2026_1100_5000));
    let mut when = at(day(11, 3));
    for (actor, action) in instruct_flow(&sample, "J012").into_iter().take(4) {
        let action = match action {
            IncomingAction::Instruct {
                lead_unit,
                co_units,
                deadline,
                opinion,
                ..
            } => IncomingAction::Instruct {
                lead_unit,
                co_units,
                deadline,
                opinion,
                supervise: true,
            },
            other => other,
        };
        run(receipt, actor.as_str(), when, action.into()).await?;
        when += Duration::hours(3);
    }
    count += 1;
    eprintln!("{count} items in {dir}; November's bulletin:\n");
    let bulletin = engine.bulletin(Month::new(2026, 11).context("month")?, None)?;
    print!("{}", bulletin.to_markdown());
    Ok(())
}
