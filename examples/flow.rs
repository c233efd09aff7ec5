//! Drives the campus fixture's document (关于做好2026年秋季学期期末考试工作的通知) from
//! draft to archive with the pure core, in memory, and prints its history.
//!
//! Run: `cargo run -p examples --example flow`

use anyhow::{Context as _, Result};
use chrono::{Duration, TimeZone, Utc};
use uuid::Uuid;
use workflow_core::EventCodec;
use workflow_core::{
    Directory, DocumentId, outgoing::Action, outgoing::Command, outgoing::Document,
    outgoing::Event, outgoing::EventData, outgoing::handle,
};

fn main() -> Result<()> {
    let dir: Directory = workflow_testkit::directory();
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
        dir.record_numbers(events.iter().filter_map(|e| e.data.number_claim()));
        log.extend(events);
        Ok(())
    };

    // The fixture's sample document, step by step: draft, submit along its route, review,
    // three countersigns, review, sign-off, issue, 签收 by 人事处, archive.
    for (actor, action) in workflow_testkit::full_flow() {
        run(actor.as_str(), action)?;
    }

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
        EventData::Approved { stage, opinion, .. } => {
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
        EventData::Acknowledged { recipient } => format!("签收 {recipient}"),
        EventData::Archived { reference, .. } => format!("归档 档号 {reference}"),
        other => other.type_name().to_owned(),
    }
}
