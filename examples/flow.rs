//! Drives the campus fixture's document (关于做好2026年秋季学期期末考试工作的通知) from
//! draft to archive with the pure core, in memory, and prints its history.
//!
//! Run: `cargo run -p examples --example flow`

use anyhow::{Context as _, Result};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use uuid::Uuid;
use workflow_core::{
    Action, Command, Directory, Document, DocumentId, DraftFields, Event, EventData, Kind,
    Retention, StageSpec, Urgency, handle,
};

fn main() -> Result<()> {
    let dir = Directory::from_json(include_str!("../fixtures/campus.json"))?;
    let id = DocumentId(Uuid::new_v4());
    let mut clock = Utc
        .with_ymd_and_hms(2026, 11, 2, 1, 0, 0)
        .single()
        .context("clock")?;
    let mut doc: Option<Document> = None;
    let mut log: Vec<Event> = Vec::new();

    let mut run = |actor: &str, action: Action| -> Result<()> {
        let cmd = Command {
            document_id: id,
            actor: actor.into(),
            at: clock,
            action,
        };
        clock += Duration::hours(3);
        let events = handle(doc.as_ref(), &cmd, &dir)
            .with_context(|| format!("{actor} {}", cmd.action.name()))?;
        for e in &events {
            match doc.as_mut() {
                Some(d) => d.apply(e),
                None => doc = Document::created_by(e),
            }
        }
        dir.record_numbers(&events);
        log.extend(events);
        Ok(())
    };

    run(
        "wang.fang",
        Action::Draft(DraftFields {
            kind: Kind::Circular,
            title: "关于做好2026年秋季学期期末考试工作的通知".into(),
            body: "各学院、各部门：现就做好本学期期末考试工作通知如下……".into(),
            issuing_unit: "XB".into(),
            co_issuing_units: vec![],
            classification: Default::default(),
            classification_period_years: None,
            urgency: Urgency::Urgent,
            important: false,
            main_recipients: vec!["各学院".into(), "各部门".into()],
            cc: vec!["校党委".into(), "校纪委".into()],
        }),
    )?;
    run(
        "wang.fang",
        Action::SubmitForReview {
            route: vec![
                StageSpec::Review {
                    reviewer: "li.qiang".into(),
                    deadline_days: Some(2),
                    escalate_to: None,
                },
                StageSpec::Countersign {
                    departments: vec!["RSC".into(), "CWC".into(), "XSC".into()],
                    deadline_days: Some(3),
                    completion: Default::default(),
                    escalate_to: None,
                },
                StageSpec::Review {
                    reviewer: "chen.hong".into(),
                    deadline_days: Some(1),
                    escalate_to: None,
                },
            ],
        },
    )?;
    run(
        "li.qiang",
        Action::Approve {
            stage: None,
            opinion: "同意，请各相关部门会签。".into(),
        },
    )?;
    let countersign = |agree: bool, opinion: &str| Action::Countersign {
        stage: None,
        agree,
        opinion: opinion.into(),
    };
    run(
        "zhao.min",
        countersign(true, "同意。监考人员安排按人事处年度工作量核定办法执行。"),
    )?;
    run(
        "sun.li",
        countersign(true, "同意。考务经费从教务处年度预算中列支。"),
    )?;
    run(
        "zhou.jie",
        countersign(true, "同意。请各学院做好学生考风考纪教育。"),
    )?;
    run(
        "chen.hong",
        Action::Approve {
            stage: None,
            opinion: "经审核，格式规范，文种正确，同意报签。".into(),
        },
    )?;
    run(
        "huang.wei",
        Action::SignOff {
            opinion: "同意印发。".into(),
        },
    )?;
    let issue_date = NaiveDate::from_ymd_opt(2026, 11, 5).context("date")?;
    run(
        "liu.yang",
        Action::Issue {
            issue_date,
            copies: 40,
        },
    )?;
    run(
        "xu.jing",
        Action::Archive {
            fonds: "J012".into(),
            retention: Some(Retention::Years30),
            unit_code: "JWC".into(),
            deviation_reason: String::new(),
        },
    )?;

    let doc = doc.context("no document")?;
    println!("《{}》", doc.fields().title);
    for (n, e) in log.iter().enumerate() {
        println!(
            "{:>2}. {}  {:<14} {}",
            n + 1,
            e.at.format("%Y-%m-%d %H:%M"),
            e.actor,
            describe(&e.data)
        );
    }
    println!("state: {}", doc.state());
    Ok(())
}

fn describe(data: &EventData) -> String {
    match data {
        EventData::Drafted { fields, .. } => format!("拟稿 {:?} 《{}》", fields.kind, fields.title),
        EventData::SubmittedForReview { round, route } => {
            format!("送审 第{round}轮, {} 个环节", route.len())
        }
        EventData::Approved { stage, opinion } => {
            format!("审核(环节{}) 意见: {opinion}", stage + 1)
        }
        EventData::Countersigned {
            unit,
            agree,
            opinion,
            ..
        } => {
            format!(
                "会签 {unit} {} 意见: {opinion}",
                if *agree { "同意" } else { "不同意" }
            )
        }
        EventData::Signed {
            signer_name,
            opinion,
            date,
            ..
        } => format!("签发 {signer_name} {date} 意见: {opinion}"),
        EventData::Issued {
            number,
            issue_date,
            copies,
            ..
        } => format!("印发 {number} {issue_date} {copies}份"),
        EventData::Archived { reference, .. } => format!("归档 档号 {reference}"),
        other => other.type_name().to_owned(),
    }
}
