//! Notices (DESIGN §12) derived from the log: each event's to-dos for those it now waits
//! for, 催办 to those who have it, escalation to the one named; stable ids; a message that
//! never shows a document above its channel's clearance.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use std::collections::BTreeSet;

use chrono::Duration;
use workflow_core::directory::{Actor, Classification};
use workflow_core::incoming::{Incoming, IncomingAction};
use workflow_core::notice::{Notice, NoticeKind, People, notices};
use workflow_core::{Flow, FlowEvent, FlowState, Recorded, UnitCode, ids::SYSTEM_ACTOR};
use workflow_testkit::incoming::{ReceiptScript, instruct_flow};

struct Setting {
    actors: Vec<Actor>,
    offices: BTreeSet<UnitCode>,
    units: BTreeSet<UnitCode>,
}

impl Setting {
    fn new(f: &ReceiptScript) -> Setting {
        Setting::of(&f.dir)
    }

    fn of(dir: &workflow_core::Directory) -> Setting {
        Setting {
            actors: dir.actors().cloned().collect(),
            offices: dir
                .units()
                .filter(|u| u.office)
                .map(|u| u.code.clone())
                .collect(),
            units: dir.units().map(|u| u.code.clone()).collect(),
        }
    }

    fn people(&self) -> People<'_> {
        People {
            actors: &self.actors,
            offices: &self.offices,
            units: &self.units,
        }
    }
}

/// Runs `action` as `actor` and returns the notices its event implies (position `n`).
fn step(f: &mut ReceiptScript, s: &Setting, actor: &str, action: IncomingAction) -> Vec<Notice> {
    let before = f.state.clone().map(FlowState::Incoming);
    let events = f.run(actor, action).unwrap();
    assert_eq!(events.len(), 1);
    let e = &events[0];
    let event = Recorded {
        actor: e.actor.clone(),
        at: e.at,
        data: FlowEvent::Incoming(e.data.clone()),
    };
    let after = FlowState::Incoming(f.state.clone().unwrap());
    notices(
        f.events.len() as u64,
        &event,
        before.as_ref(),
        &after,
        s.people(),
    )
}

fn to(ns: &[Notice], kind: NoticeKind) -> Vec<String> {
    ns.iter()
        .filter(|n| n.kind == kind)
        .map(|n| n.recipient.to_string())
        .collect()
}

#[test]
fn each_step_tells_those_it_now_waits_for_and_nobody_else() {
    let mut f = ReceiptScript::with_directory(common::directory());
    let s = Setting::new(&f);
    let flow = instruct_flow(&f.sample, "J012");
    // Registered by 何平: the registrars and directors of the receiving unit and the office,
    // but not 何平 herself, who acted.
    let (actor, action) = flow[0].clone();
    let ns = step(&mut f, &s, actor.as_str(), action);
    let got = to(&ns, NoticeKind::Todo);
    assert!(got.contains(&"ding.xin".to_owned()), "{got:?}");
    assert!(!got.contains(&"he.ping".to_owned()), "{got:?}");
    // Screened: the director still has it (拟办): nothing new for them.
    let (actor, action) = flow[1].clone();
    let ns = step(&mut f, &s, actor.as_str(), action);
    assert!(
        !to(&ns, NoticeKind::Todo).contains(&"ding.xin".to_owned()),
        "{ns:?}"
    );
    // Proposed to 林志远: his alone.
    let (actor, action) = flow[2].clone();
    let ns = step(&mut f, &s, actor.as_str(), action);
    assert_eq!(to(&ns, NoticeKind::Todo), ["lin.zhiyuan"]);
    let n = &ns[0];
    assert_eq!(n.link, format!("/doc/{}", f.id));
    assert_eq!(n.step, "待批办");
    // 批办 to 教务处 with 人事处 and 财务处: each unit's handlers.
    let (actor, action) = flow[3].clone();
    let ns = step(&mut f, &s, actor.as_str(), action);
    let got: BTreeSet<String> = to(&ns, NoticeKind::Todo).into_iter().collect();
    for handler in ["fang.yu", "guo.tao", "xie.na"] {
        assert!(got.contains(handler), "{handler}: {got:?}");
    }
    assert!(!got.contains("lin.zhiyuan"));
    // The same event gives the same notices and ids; each recipient its own id.
    let event = Recorded {
        actor: f.events[3].actor.clone(),
        at: f.events[3].at,
        data: FlowEvent::Incoming(f.events[3].data.clone()),
    };
    let state = FlowState::Incoming(f.state.clone().unwrap());
    let again = notices(4, &event, None, &state, s.people());
    let ids: BTreeSet<&str> = again.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids.len(), again.len());
    assert_eq!(again, notices(4, &event, None, &state, s.people()));
    assert_ne!(
        notices(5, &event, None, &state, s.people())[0].id,
        again[0].id,
        "another position, another id"
    );
}

#[test]
fn an_overdue_reminder_urges_the_handlers_and_escalates_to_the_leader() {
    let mut f = ReceiptScript::with_directory(common::directory());
    let s = Setting::new(&f);
    // In handling, every 协办 input given, progress recorded, an extension asked (so the
    // office director holds it too, to decide).
    f.steps(0, 8);
    assert!(f.state.as_ref().unwrap().extension().is_some());
    // 催办 by hand (the office director, who holds it for the extension): to the lead
    // unit's handler, not to himself, escalated to nobody.
    let ns = step(
        &mut f,
        &s,
        "ding.xin",
        IncomingAction::UrgeIncoming {
            message: "请本周内办结。".into(),
        },
    );
    assert_eq!(to(&ns, NoticeKind::Urged), ["fang.yu"]);
    assert!(to(&ns, NoticeKind::Escalated).is_empty() && to(&ns, NoticeKind::Todo).is_empty());
    // The extension decided: the lead unit alone has it.
    f.steps(8, 9);
    let r = f.state.clone().unwrap();
    let due = r.due_at().unwrap();
    f.clock = due + Duration::hours(30);
    let first = Incoming::reminder(&r, f.clock, 24).unwrap();
    let ns = step(&mut f, &s, SYSTEM_ACTOR, first.action);
    assert_eq!(to(&ns, NoticeKind::Urged), ["fang.yu"]);
    assert!(to(&ns, NoticeKind::Escalated).is_empty());
    let r = f.state.clone().unwrap();
    f.clock += Duration::hours(30);
    let second = Incoming::reminder(&r, f.clock, 24).unwrap();
    let ns = step(&mut f, &s, SYSTEM_ACTOR, second.action);
    assert_eq!(to(&ns, NoticeKind::Escalated), ["lin.zhiyuan"]);
    let text = ns
        .iter()
        .find(|n| n.kind == NoticeKind::Escalated)
        .unwrap()
        .text(Classification::None, "https://oa.example.edu.cn/");
    assert!(text.starts_with("【督办提醒】收文《"), "{text}");
    assert!(
        text.ends_with(&format!("https://oa.example.edu.cn/doc/{}", f.id)),
        "{text}"
    );
}

#[test]
fn a_classified_document_is_announced_without_its_title_where_the_channel_is_not_cleared() {
    let mut f = ReceiptScript::with_directory(common::directory());
    let mut s = Setting::new(&f);
    // A registrar of the office not cleared for 秘密: never told of it.
    s.actors.push(Actor {
        reach: Vec::new(),
        id: "low.registrar".into(),
        name: "低密登记员".into(),
        unit: "XB".into(),
        roles: [workflow_core::directory::Role::Registrar].into(),
        clearance: Classification::None,
    });
    let mut registration = f.sample.registration.clone();
    registration.classification = Classification::Secret;
    registration.classification_period_years = Some(10);
    registration.copy_numbers = "000007".into();
    let ns = step(
        &mut f,
        &s,
        "he.ping",
        IncomingAction::Register {
            registration,
            unit: None,
        },
    );
    let n = ns
        .iter()
        .find(|n| n.recipient.as_str() == "ding.xin")
        .unwrap();
    let plain = n.text(Classification::None, "");
    assert_eq!(
        plain,
        format!("您有一件秘密收文待办，请登录系统查看：/doc/{}", f.id)
    );
    assert!(!plain.contains(&f.sample.registration.title));
    let cleared = n.text(Classification::Secret, "");
    assert!(cleared.contains(&f.sample.registration.title), "{cleared}");
    assert!(cleared.contains("X校收〔2026〕1号"), "{cleared}");
    // Nobody below the document's 密级 is told of it at all; the others are.
    let told = to(&ns, NoticeKind::Todo);
    assert!(told.contains(&"he.ping".to_owned()) || told.contains(&"ding.xin".to_owned()));
    assert!(!told.contains(&"low.registrar".to_owned()), "{told:?}");
}

#[test]
fn a_urge_by_hand_reaches_the_unit_it_names_not_every_holder() {
    let mut f = ReceiptScript::with_directory(common::directory());
    let s = Setting::new(&f);
    // In handling, one 协办 unit still to give its input: its handler holds it too.
    f.steps(0, 5);
    let pending = f.state.as_ref().unwrap().pending_co_units();
    assert_eq!(pending.len(), 1);
    let ns = step(
        &mut f,
        &s,
        "ding.xin",
        IncomingAction::UrgeIncoming {
            message: "请抓紧办理。".into(),
        },
    );
    // The office urged the lead unit (教务处): its handler only.
    assert_eq!(to(&ns, NoticeKind::Urged), ["fang.yu"]);
}

/// A 督办 reminder says what it asks: a progress report not given in time is a 催报, a
/// deadline near a 临近提醒 — not a 催办 of an overdue step.
#[test]
fn a_supervision_reminder_says_whether_it_asks_for_a_report_or_warns_of_the_deadline() {
    use workflow_core::supervision::{Frequency, Supervision, SupervisionAction};
    use workflow_testkit::supervision::{HANDLER, ItemScript, SUPERVISOR, item_spec};
    let urged = |f: &mut ItemScript| -> Notice {
        let s = Setting::of(&f.dir);
        let before = f.state.clone().map(FlowState::Supervision);
        let due = Supervision::reminder(f.item(), f.clock, 24).expect("a reminder due");
        f.ok(SYSTEM_ACTOR, due.action);
        let e = f.events.last().unwrap();
        let event = Recorded {
            actor: e.actor.clone(),
            at: e.at,
            data: FlowEvent::Supervision(e.data.clone()),
        };
        let after = FlowState::Supervision(f.state.clone().unwrap());
        let ns = notices(
            f.events.len() as u64,
            &event,
            before.as_ref(),
            &after,
            s.people(),
        );
        ns.into_iter()
            .find(|n| n.kind == NoticeKind::Urged)
            .unwrap_or_else(|| panic!("no 催办-kind notice"))
    };

    // A week without feedback: 催报.
    let mut f = ItemScript::with_directory(common::directory());
    f.steps(0, 2);
    f.clock = f.item().accepted_at().unwrap() + Duration::days(7) + Duration::hours(1);
    let n = urged(&mut f);
    assert_eq!(n.recipient.as_str(), HANDLER);
    let text = n.text(Classification::None, "");
    assert!(text.starts_with("【催报】"), "{text}");
    assert!(text.contains("请报送办理进展"), "{text}");
    assert!(n.subject(Classification::None).starts_with("【催报】"));

    // No feedback asked, the deadline three days off: 临近提醒.
    let mut f = ItemScript::with_directory(common::directory());
    let mut spec = item_spec(f.deadline());
    spec.feedback = Frequency::None;
    f.ok(SUPERVISOR, SupervisionAction::OpenItem { spec });
    f.ok(HANDLER, f.step(1));
    f.clock = Supervision::due(f.item()).unwrap() + Duration::minutes(1);
    let n = urged(&mut f);
    let text = n.text(Classification::None, "");
    assert!(text.starts_with("【临近提醒】"), "{text}");
    assert!(text.contains("时限将至"), "{text}");
    assert!(n.subject(Classification::None).starts_with("【临近提醒】"));
    // Above the channel's 密级 it still says which, without the title.
    let secret = Notice {
        classification: Classification::Secret,
        ..n.clone()
    };
    let masked = secret.text(Classification::None, "");
    assert!(
        masked.contains("临近时限") && !masked.contains("催办"),
        "{masked}"
    );
    assert!(!masked.contains(&n.title), "{masked}");
}
