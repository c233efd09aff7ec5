//! The 月通报's figures against an independent count over randomly generated months: each
//! figure is recounted here from its definition (the item folded as of each instant that
//! matters, missed feedback found by walking the month hour by hour), not by the bulletin's
//! own interval arithmetic.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use workflow_core::supervision::bulletin::{BulletinNames, Figures, Month, monthly};
use workflow_core::supervision::{Frequency, ItemStep, SupervisionAction};
use workflow_core::{
    Flow, Recorded, Timestamp, supervision::Item, supervision::Supervision,
    supervision::SupervisionEvent,
};
use workflow_testkit::supervision::{HANDLER, ItemScript, SUPERVISOR, item_spec};

#[derive(Debug, Clone)]
enum Op {
    Accept,
    Progress,
    AskExtension(i64),
    Decide(bool),
    Report,
    Close,
    SendBack,
    /// 催办 by hand (the supervisor).
    Urge,
    /// The deadline sweep's reminder, overdue (refused unless it is due).
    Sweep,
    /// Withdrawn by the engine (its 批办 sent back; refused once reported complete).
    Withdraw,
    /// The 协办 unit's input (销号 waits for it).
    CoInput,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::Accept),
        4 => Just(Op::Progress),
        1 => (1i64..20).prop_map(Op::AskExtension),
        1 => any::<bool>().prop_map(Op::Decide),
        2 => Just(Op::Report),
        2 => Just(Op::Close),
        1 => Just(Op::SendBack),
        1 => Just(Op::Urge),
        1 => Just(Op::Sweep),
        1 => Just(Op::Withdraw),
        2 => Just(Op::CoInput),
    ]
}

/// One item: opened on a day (0 = 2026-10-01), due some days later, with a feedback
/// frequency and steps each some whole hours after the one before.
fn item() -> impl Strategy<Value = (i64, i64, u8, Vec<(i64, Op)>)> {
    (
        0i64..75,
        3i64..45,
        0u8..3,
        prop::collection::vec((1i64..200, op()), 0..14),
    )
}

fn day0() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 10, 1, 2, 0, 0).unwrap()
}

fn run(
    n: usize,
    (open, due, freq, steps): &(i64, i64, u8, Vec<(i64, Op)>),
) -> Vec<Recorded<SupervisionEvent>> {
    let mut f = ItemScript::with_directory(common::directory());
    f.id = workflow_core::DocumentId(uuid::Uuid::from_u128(0x7000 + n as u128));
    f.clock = day0() + Duration::days(*open);
    let opened = workflow_core::ids::china_date(f.clock);
    let mut spec = item_spec(opened + Duration::days(*due));
    spec.feedback = [Frequency::None, Frequency::Weekly, Frequency::Monthly][*freq as usize];
    f.ok(SUPERVISOR, SupervisionAction::OpenItem { spec });
    let mut t = day0() + Duration::days(*open);
    for (hours, op) in steps {
        t += Duration::hours(*hours);
        f.clock = t;
        let (actor, action) = match op {
            Op::Accept => (
                HANDLER,
                SupervisionAction::AcceptItem {
                    note: String::new(),
                },
            ),
            Op::Progress => (
                HANDLER,
                SupervisionAction::ReportProgress {
                    text: "进展".into(),
                    percent: None,
                },
            ),
            Op::AskExtension(d) => (
                HANDLER,
                SupervisionAction::RequestItemExtension {
                    until: f.item().deadline() + Duration::days(*d),
                    reason: "需要时间".into(),
                },
            ),
            Op::Decide(grant) => (
                SUPERVISOR,
                SupervisionAction::DecideItemExtension {
                    grant: *grant,
                    reason: "决定".into(),
                },
            ),
            Op::Report => (
                HANDLER,
                SupervisionAction::ReportCompletion {
                    result: "成果".into(),
                },
            ),
            Op::Close => (
                SUPERVISOR,
                SupervisionAction::CloseItem {
                    note: String::new(),
                    grade: None,
                },
            ),
            Op::SendBack => (
                SUPERVISOR,
                SupervisionAction::ReturnItem {
                    reason: "不完整".into(),
                },
            ),
            Op::Urge => (
                SUPERVISOR,
                SupervisionAction::UrgeItem {
                    message: "请抓紧办理".into(),
                },
            ),
            Op::Withdraw => (
                workflow_core::ids::SYSTEM_ACTOR,
                SupervisionAction::WithdrawItem {
                    unit: "JWC".into(),
                    reason: "收文退回拟办".into(),
                },
            ),
            Op::CoInput => (
                "guo.tao",
                SupervisionAction::GiveItemInput {
                    text: "协办情况".into(),
                },
            ),
            Op::Sweep => (
                workflow_core::ids::SYSTEM_ACTOR,
                SupervisionAction::RemindItem {
                    reason: workflow_core::supervision::ReminderReason::Overdue,
                    escalate_to: None,
                },
            ),
        };
        // Refused steps (the wrong state, say) are simply not in the log.
        let _ = f.run(actor, action);
    }
    f.events.clone()
}

/// The item folded from the events recorded at or before `t`.
fn as_of(events: &[Recorded<SupervisionEvent>], t: Timestamp) -> Option<Item> {
    let mut it = events.iter().filter(|e| e.at <= t);
    let first = it.next()?;
    let mut item = Supervision::create(&first.actor, first.at, &first.data)?;
    for e in it {
        Supervision::apply(&mut item, &e.actor, e.at, &e.data);
    }
    Some(item)
}

/// When a deadline on `d` runs out: 24:00 China time (the next day's first instant).
fn end_of(d: NaiveDate) -> Timestamp {
    chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .from_local_datetime(&d.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

fn independent(events: &[Recorded<SupervisionEvent>], month: Month) -> Figures {
    let (start, end) = (month.start(), month.end());
    let just_before = |t: Timestamp| t - Duration::nanoseconds(1);
    let mut f = Figures {
        urged: Some(0),
        withdrawn: Some(0),
        ..Figures::default()
    };
    let opened_at = events[0].at;
    if opened_at < start
        && as_of(events, just_before(start)).is_some_and(|i| {
            !matches!(
                i.step(),
                ItemStep::Closed | ItemStep::Archived | ItemStep::Withdrawn
            )
        })
    {
        f.open_at_start = 1;
    }
    if start <= opened_at && opened_at < end {
        f.opened = 1;
    }
    for (n, e) in events.iter().enumerate() {
        if !(start <= e.at && e.at < end) {
            continue;
        }
        match &e.data {
            SupervisionEvent::ItemClosed { .. } => {
                let report = events[..n]
                    .iter()
                    .rev()
                    .find(|r| matches!(r.data, SupervisionEvent::ItemCompletionReported { .. }))
                    .expect("closed after a report");
                let deadline = as_of(&events[..=n], e.at).unwrap().deadline();
                if report.at > end_of(deadline) {
                    f.closed_late += 1;
                } else {
                    f.closed_on_time += 1;
                }
            }
            SupervisionEvent::ItemExtensionDecided { granted: true, .. } => {
                f.extensions_granted += 1
            }
            // 催办: by hand, and the sweep's when overdue (not its 临近提醒 or 催报).
            SupervisionEvent::ItemUrged { .. }
            | SupervisionEvent::ItemReminded {
                reason: workflow_core::supervision::ReminderReason::Overdue,
                ..
            } => *f.urged.as_mut().unwrap() += 1,
            SupervisionEvent::ItemWithdrawn { .. } => *f.withdrawn.as_mut().unwrap() += 1,
            _ => {}
        }
    }
    if let Some(i) = as_of(events, just_before(end))
        && matches!(
            i.step(),
            ItemStep::Opened | ItemStep::Assigned | ItemStep::InProgress
        )
        && end > end_of(i.deadline())
    {
        f.overdue_at_end = 1;
    }
    // Every whole hour of the month (all events fall on whole hours): a feedback instant
    // is missed where the lead unit has the item and the time since its last feedback (or
    // its signature) is a whole, positive number of periods.
    let mut h = start;
    while h < end {
        if let Some(i) = as_of(events, h)
            && matches!(i.step(), ItemStep::Assigned | ItemStep::InProgress)
            && let (Some(days), Some(anchor)) = (i.spec().feedback.days(), i.feedback_anchor())
        {
            let since = h - anchor;
            let period = Duration::days(days);
            if since > Duration::zero() && since.num_seconds() % period.num_seconds() == 0 {
                f.feedback_missed += 1;
            }
        }
        h += Duration::hours(1);
    }
    f
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_bulletin_counts_what_its_definitions_say(items in prop::collection::vec(item(), 1..6)) {
        let histories: Vec<_> = items.iter().enumerate().map(|(n, i)| run(n, i)).collect();
        let november = Month::new(2026, 11).unwrap();
        let b = monthly(november, histories.iter().map(Vec::as_slice), &BulletinNames::default());
        let mut expected = Figures { urged: Some(0), withdrawn: Some(0), ..Figures::default() };
        let mut counted = 0;
        for h in &histories {
            let f = independent(h, november);
            expected.open_at_start += f.open_at_start;
            expected.opened += f.opened;
            expected.closed_on_time += f.closed_on_time;
            expected.closed_late += f.closed_late;
            expected.overdue_at_end += f.overdue_at_end;
            expected.feedback_missed += f.feedback_missed;
            expected.extensions_granted += f.extensions_granted;
            *expected.urged.as_mut().unwrap() += f.urged.unwrap();
            *expected.withdrawn.as_mut().unwrap() += f.withdrawn.unwrap();
            counted += f.open_at_start + f.opened;
        }
        prop_assert_eq!(b.total, expected);
        // The 督办事项一览 lists every item counted, each with its own 催办.
        prop_assert_eq!(b.items.len() as u32, counted);
        prop_assert_eq!(b.items.iter().map(|i| i.urged).sum::<u32>(), expected.urged.unwrap());
        prop_assert_eq!(b.overdue.len() as u32, expected.overdue_at_end);
        prop_assert_eq!(b.closed.len() as u32, expected.closed_on_time + expected.closed_late);
        // Only what was recorded before the month's end counts: December's events, cut off,
        // change nothing.
        let cut: Vec<Vec<_>> = histories
            .iter()
            .map(|h| h.iter().filter(|e| e.at < november.end()).cloned().collect())
            .collect();
        let again = monthly(november, cut.iter().map(Vec::as_slice), &BulletinNames::default());
        prop_assert_eq!(again.to_json(), b.to_json());
    }
}
