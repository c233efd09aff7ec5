//! 收文 through the engine on a sled directory: the fixture's sample (a 省教育厅 notice)
//! from 登记 to 归档 by 批办 (教务处 主办, 人事处 and 财务处 协办, a granted 延期), a second
//! one circulated to two leaders (传阅), and the fixture's 发文 issued and acknowledged by
//! 人事处, whose 收文 the engine registers itself. Then look with the operator commands.
//!
//! Run: `cargo run -p examples --example incoming -- /tmp/incoming` and then, e.g.,
//! `workflow --data-dir /tmp/incoming list --flow incoming`.

use anyhow::{Context as _, Result};
use chrono::{Duration, TimeZone, Utc};
use workflow_core::{DocumentId, FlowAction, incoming::IncomingAction, incoming::Plan};
use workflow_store::{Engine, Request};
use workflow_testkit::incoming::{incoming_sample, instruct_flow};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let dir = std::env::args()
        .nth(1)
        .context("give a data directory, e.g. /tmp/incoming")?;
    let engine = Engine::open(&dir)?;
    if engine.units().is_empty() {
        engine
            .load_directory_json(workflow_testkit::CAMPUS, "example", "the campus fixture")
            .await?;
    }
    let mut clock = Utc
        .with_ymd_and_hms(2026, 11, 3, 1, 0, 0)
        .single()
        .context("clock")?;
    let mut run = async |id: DocumentId, actor: &str, action: FlowAction| -> Result<()> {
        let name = action.name();
        let r = Request {
            at: Some(clock),
            ..Request::new(id, actor, action)
        };
        clock += Duration::hours(2);
        engine
            .execute(r)
            .await
            .with_context(|| format!("{actor} {name}"))?;
        Ok(())
    };

    // 批办: the whole flow of the fixture's sample.
    let sample = incoming_sample();
    let instructed = DocumentId(uuid::Uuid::new_v4());
    for (actor, action) in instruct_flow(&sample, &workflow_testkit::sample().fonds) {
        run(instructed, actor.as_str(), action.into()).await?;
    }

    // 传阅: a notice for the leaders to read.
    let circulated = DocumentId(uuid::Uuid::new_v4());
    let mut registration = sample.registration.clone();
    registration.title = "关于2026年冬季校园安全工作的通报".into();
    registration.from_number = "X教安〔2026〕12号".into();
    registration.kind = workflow_core::kind::Kind::Bulletin;
    registration.urgency = workflow_core::kind::Urgency::Normal;
    registration.deadline = None;
    registration.reply_required = false;
    let steps: Vec<(&str, IncomingAction)> = vec![
        (
            "he.ping",
            IncomingAction::Register {
                registration,
                unit: None,
            },
        ),
        (
            "he.ping",
            IncomingAction::Screen {
                note: String::new(),
                deadline: None,
            },
        ),
        (
            "ding.xin",
            IncomingAction::Propose {
                plan: Plan::circulate(vec!["lin.zhiyuan".into(), "song.hua".into()]),
                opinion: "拟请校领导传阅。".into(),
            },
        ),
        (
            "lin.zhiyuan",
            IncomingAction::MarkRead {
                opinion: "已阅，请保卫处落实。".into(),
            },
        ),
    ];
    for (actor, action) in steps {
        run(circulated, actor, action.into()).await?;
    }

    // 发文 → 收文: the fixture's 通知, issued and acknowledged by 人事处 (签收).
    let outgoing = DocumentId(uuid::Uuid::new_v4());
    let flow = workflow_testkit::full_flow();
    let acknowledged = workflow_testkit::steps::ACKNOWLEDGED;
    for (actor, action) in flow.into_iter().take(acknowledged) {
        run(outgoing, actor.as_str(), action.into()).await?;
    }
    println!("批办 {instructed}");
    println!("传阅 {circulated}");
    println!("发文 {outgoing}");
    println!(
        "收文 {} (registered by the engine for RSC's 签收)",
        workflow_core::incoming::linked_receipt_id(outgoing, &"RSC".into())
    );
    Ok(())
}
