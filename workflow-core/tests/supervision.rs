//! One test per rule of DESIGN §3b (督办), in the order the design lists them, on the test
//! kit's sample item (a meeting decision: 教务处 leads, 人事处 cooperates, weekly feedback).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use workflow_core::supervision::{Frequency, ItemStep, ReminderReason, Source, SupervisionAction};
use workflow_core::{
    Error, EventCodec, Flow, FlowEvent, FlowState, Recorded, directory::Classification,
    directory::Role, ids::SYSTEM_ACTOR, incoming::IncomingAction, reactions::reactions,
    supervision::Supervision, supervision::SupervisionEvent, supervision::linked_item_id,
    todo::Assignee,
};
use workflow_testkit::incoming::ReceiptScript;
use workflow_testkit::supervision::{HANDLER, ItemScript, LEADER, SUPERVISOR, item_spec};

fn script() -> ItemScript {
    ItemScript::with_directory(common::directory())
}

/// Step indexes of the sample flow (see `item_flow`).
const OPEN: usize = 0;
const ACCEPT: usize = 1;
const PROGRESS: usize = 2;
const REQUEST: usize = 3;
const GRANT: usize = 4;
const CO_INPUT: usize = 5;
const REPORT: usize = 6;
const CLOSE: usize = 7;
const ARCHIVE: usize = 8;

fn is_field(e: &Error, name: &str) -> bool {
    matches!(e, Error::InvalidField { field, .. } if field == name)
}

#[track_caller]
fn open_with(
    f: &mut ItemScript,
    change: impl FnOnce(&mut workflow_core::supervision::ItemSpec),
) -> Error {
    let mut spec = item_spec(f.deadline());
    change(&mut spec);
    f.err(SUPERVISOR, SupervisionAction::OpenItem { spec })
}

// ---- states ----

#[test]
fn the_item_flow_runs_from_opening_to_archive() {
    let mut f = script();
    let expected = [
        (OPEN, ItemStep::Opened),
        (ACCEPT, ItemStep::Assigned),
        (PROGRESS, ItemStep::InProgress),
        (GRANT, ItemStep::InProgress),
        (REPORT, ItemStep::CompletionReported),
        (CLOSE, ItemStep::Closed),
        (ARCHIVE, ItemStep::Archived),
    ];
    let mut done = 0;
    for (to, step) in expected {
        f.steps(done, to + 1);
        done = to + 1;
        assert_eq!(f.item().step(), step, "after step {to}");
    }
    let i = f.item();
    assert_eq!(i.supervisor().map(|a| a.as_str()), Some(SUPERVISOR));
    assert_eq!(i.responsible().map(|a| a.as_str()), Some(HANDLER));
    assert!(
        i.archive()
            .unwrap()
            .reference
            .to_string()
            .starts_with("J012-WS·2026-D30-JWC-")
    );
    // Replay equals live.
    assert_eq!(f.fold().as_ref(), f.state.as_ref());
}

// ---- 立项 ----

#[test]
fn only_a_supervisor_opens_an_item() {
    let mut f = script();
    let spec = item_spec(f.deadline());
    let e = f.err(HANDLER, SupervisionAction::OpenItem { spec });
    assert!(
        matches!(
            e,
            Error::MissingRole {
                role: Role::Supervisor,
                ..
            }
        ),
        "{e:?}"
    );
}

#[test]
fn opening_names_a_leader_a_known_lead_unit_distinct_cooperating_units_and_a_future_deadline() {
    let mut f = script();
    let e = open_with(&mut f, |s| s.leader = "he.ping".into());
    assert!(
        matches!(&e, Error::NamedActorMissingRole { field, role: Role::Leader, .. } if field == "spec.leader"),
        "{e:?}"
    );
    let e = open_with(&mut f, |s| s.lead_unit = "NOPE".into());
    assert!(is_field(&e, "spec.lead_unit"), "{e:?}");
    let e = open_with(&mut f, |s| s.co_units = vec!["RSC".into(), "RSC".into()]);
    assert!(is_field(&e, "spec.co_units[1]"), "{e:?}");
    let e = open_with(&mut f, |s| s.co_units = vec!["JWC".into()]);
    assert!(is_field(&e, "spec.co_units[0]"), "{e:?}");
    let e = open_with(&mut f, |s| {
        s.deadline = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap()
    });
    assert!(is_field(&e, "spec.deadline"), "{e:?}");
    let e = open_with(&mut f, |s| s.title = "  ".into());
    assert!(is_field(&e, "spec.title"), "{e:?}");
    let e = open_with(&mut f, |s| s.requirements = String::new());
    assert!(is_field(&e, "spec.requirements"), "{e:?}");
    let e = open_with(&mut f, |s| {
        s.source = Source::Meeting {
            reference: String::new(),
        }
    });
    assert!(is_field(&e, "spec.source.reference"), "{e:?}");
    let e = open_with(&mut f, |s| s.responsible = Some("guo.tao".into()));
    assert!(is_field(&e, "spec.responsible"), "{e:?}");
    let e = open_with(&mut f, |s| s.warn_days = 400);
    assert!(is_field(&e, "spec.warn_days"), "{e:?}");
}

#[test]
fn an_item_following_a_receipt_is_opened_by_the_engine_only() {
    let mut f = script();
    let e = open_with(&mut f, |s| {
        s.source = Source::Instruction {
            receipt: f_id(0x99),
        }
    });
    assert!(is_field(&e, "spec.source"), "{e:?}");
    // The engine may open only such an item, and nothing else.
    let spec = item_spec(f.deadline());
    let e = f.err(SYSTEM_ACTOR, SupervisionAction::OpenItem { spec });
    assert!(matches!(e, Error::UnknownActor { .. }), "{e:?}");
}

fn f_id(n: u128) -> workflow_core::DocumentId {
    workflow_core::DocumentId(uuid::Uuid::from_u128(n))
}

#[test]
fn an_item_is_opened_once_for_its_id() {
    let mut f = script();
    f.steps(OPEN, ACCEPT);
    let e = f.err(SUPERVISOR, f.step(OPEN));
    assert!(matches!(e, Error::DocumentExists(_)), "{e:?}");
}

#[test]
fn a_classified_item_needs_cleared_people() {
    let mut f = script();
    // ye.qing (XSC) is cleared for nothing classified; a 机密 item for XSC cannot name them.
    let e = open_with(&mut f, |s| {
        s.classification = Classification::Confidential;
        s.lead_unit = "XSC".into();
        s.co_units = vec![];
        s.responsible = Some("ye.qing".into());
    });
    assert!(
        matches!(&e, Error::NamedActorClearance { field, .. } if field == "spec.responsible"),
        "{e:?}"
    );
    // The supervisor (丁欣, cleared up to 机密) may not open a 绝密 one at all.
    let e = open_with(&mut f, |s| s.classification = Classification::TopSecret);
    assert!(matches!(e, Error::InsufficientClearance { .. }), "{e:?}");
}

// ---- 交办 ----

#[test]
fn the_lead_unit_signs_for_it_and_the_signer_becomes_responsible() {
    let mut f = script();
    f.steps(OPEN, ACCEPT);
    // The lead unit's handlers, and the 协办 unit's until it gave its input.
    let rsc = Assignee::UnitRole {
        unit: "RSC".into(),
        role: Role::Handler,
    };
    assert_eq!(
        Supervision::assignees(f.item(), &|_| false),
        vec![
            Assignee::UnitRole {
                unit: "JWC".into(),
                role: Role::Handler
            },
            rsc.clone()
        ]
    );
    // Not a handler of the lead unit.
    let e = f.err("guo.tao", f.step(ACCEPT));
    assert!(matches!(e, Error::NotAssigned { .. }), "{e:?}");
    f.steps(ACCEPT, PROGRESS);
    assert_eq!(f.item().responsible().unwrap().as_str(), HANDLER);
    assert_eq!(
        Supervision::assignees(f.item(), &|_| false),
        vec![Assignee::Actor(HANDLER.into()), rsc]
    );
    // Signed once.
    let e = f.err(HANDLER, f.step(ACCEPT));
    assert!(matches!(e, Error::WrongState { .. }), "{e:?}");
}

#[test]
fn a_named_responsible_person_signs_themselves() {
    let mut f = script();
    let mut d = common::directory();
    d.add_actor(common::actor(
        "zhu.bo",
        "朱波",
        "JWC",
        &[Role::Handler],
        Classification::Secret,
    ));
    f.dir = d;
    let mut spec = item_spec(f.deadline());
    spec.responsible = Some("zhu.bo".into());
    f.ok(SUPERVISOR, SupervisionAction::OpenItem { spec });
    let e = f.err(HANDLER, f.step(ACCEPT));
    assert!(matches!(e, Error::NotAssigned { .. }), "{e:?}");
    f.ok("zhu.bo", f.step(ACCEPT));
    assert_eq!(f.item().responsible().unwrap().as_str(), "zhu.bo");
    // Any handler of the lead unit may still report for it.
    f.ok(HANDLER, f.step(PROGRESS));
}

// ---- 进展反馈 ----

#[test]
fn progress_is_reported_by_the_lead_unit_with_an_optional_percent() {
    let mut f = script();
    f.steps(OPEN, PROGRESS);
    let e = f.err(
        "ye.qing",
        SupervisionAction::ReportProgress {
            text: "x".into(),
            percent: None,
        },
    );
    assert!(matches!(e, Error::NotAssigned { .. }), "{e:?}");
    let e = f.err(
        HANDLER,
        SupervisionAction::ReportProgress {
            text: "x".into(),
            percent: Some(101),
        },
    );
    assert!(is_field(&e, "percent"), "{e:?}");
    let e = f.err(
        HANDLER,
        SupervisionAction::ReportProgress {
            text: " ".into(),
            percent: None,
        },
    );
    assert!(is_field(&e, "text"), "{e:?}");
    f.steps(PROGRESS, REQUEST);
    assert_eq!(f.item().feedback()[0].percent, Some(40));
}

#[test]
fn progress_needs_the_item_signed_for() {
    let mut f = script();
    f.steps(OPEN, ACCEPT);
    let e = f.err(HANDLER, f.step(PROGRESS));
    assert!(matches!(e, Error::WrongState { .. }), "{e:?}");
}

// ---- 延期 ----

#[test]
fn an_extension_is_asked_by_the_lead_unit_decided_by_the_supervisor_and_keeps_the_original_deadline()
 {
    let mut f = script();
    f.steps(OPEN, REQUEST);
    let original = f.item().deadline();
    let e = f.err(
        HANDLER,
        SupervisionAction::RequestItemExtension {
            until: original,
            reason: "x".into(),
        },
    );
    assert!(is_field(&e, "until"), "{e:?}");
    let e = f.err(
        HANDLER,
        SupervisionAction::RequestItemExtension {
            until: original + Duration::days(3),
            reason: String::new(),
        },
    );
    assert!(is_field(&e, "reason"), "{e:?}");
    f.steps(REQUEST, GRANT);
    // One pending at a time; decided by a supervisor only.
    let e = f.err(HANDLER, f.step(REQUEST));
    assert!(matches!(e, Error::NotNow { .. }), "{e:?}");
    let e = f.err(HANDLER, f.step(GRANT));
    assert!(
        matches!(
            e,
            Error::MissingRole {
                role: Role::Supervisor,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(
        Supervision::assignees(f.item(), &|_| false).contains(&Assignee::Role(Role::Supervisor))
    );
    f.steps(GRANT, REPORT);
    let i = f.item();
    assert_eq!(i.deadline(), original + Duration::days(10));
    assert_eq!(i.spec().deadline, original, "the original stays on record");
    assert_eq!(i.extensions().len(), 1);
    assert!(i.extensions()[0].granted);
}

#[test]
fn refusing_an_extension_needs_a_reason_and_changes_no_deadline() {
    let mut f = script();
    f.steps(OPEN, GRANT);
    let refuse = |reason: &str| SupervisionAction::DecideItemExtension {
        grant: false,
        reason: reason.into(),
    };
    let e = f.err(SUPERVISOR, refuse(""));
    assert!(is_field(&e, "reason"), "{e:?}");
    f.ok(SUPERVISOR, refuse("须按期完成。"));
    assert_eq!(f.item().deadline(), f.deadline());
    assert!(f.item().extension().is_none());
    assert!(!f.item().extensions()[0].granted);
}

// ---- 办结报告, 销号, 退回 ----

#[test]
fn a_completion_report_goes_to_the_supervisor_who_closes_it() {
    let mut f = script();
    f.steps(OPEN, REPORT);
    let e = f.err(SUPERVISOR, f.step(CLOSE));
    assert!(matches!(e, Error::WrongState { .. }), "{e:?}");
    let e = f.err(
        HANDLER,
        SupervisionAction::ReportCompletion { result: "".into() },
    );
    assert!(is_field(&e, "result"), "{e:?}");
    f.steps(REPORT, CLOSE);
    assert_eq!(
        Supervision::assignees(f.item(), &|_| false),
        vec![Assignee::Role(Role::Supervisor)]
    );
    let e = f.err(HANDLER, f.step(CLOSE));
    assert!(matches!(e, Error::MissingRole { .. }), "{e:?}");
    f.steps(CLOSE, ARCHIVE);
    assert!(f.item().closed_at().is_some());
    assert_eq!(
        Supervision::assignees(f.item(), &|_| false),
        vec![Assignee::Role(Role::Archivist)]
    );
}

#[test]
fn each_cooperating_unit_gives_its_input_once_before_the_item_is_closed() {
    let mut f = script();
    f.steps(OPEN, CO_INPUT);
    let input = f.step(CO_INPUT);
    // A handler of a 协办 unit: not the lead unit's, not a non-handler, with some words.
    let e = f.err(HANDLER, input.clone());
    assert!(matches!(e, Error::NotAssigned { .. }), "{e:?}");
    let e = f.err("zhao.min", input.clone());
    assert!(matches!(e, Error::MissingRole { .. }), "{e:?}");
    let e = f.err(
        "guo.tao",
        SupervisionAction::GiveItemInput { text: " ".into() },
    );
    assert!(is_field(&e, "text"), "{e:?}");
    // Reported without it: the supervisor may not close yet, and it is not theirs to do.
    let (actor, report) =
        workflow_testkit::supervision::item_flow(f.deadline(), "J012")[REPORT].clone();
    f.ok(actor, report);
    assert_eq!(f.item().step(), ItemStep::CompletionReported);
    let e = f.err(SUPERVISOR, f.step(CLOSE));
    assert!(
        matches!(&e, Error::NotNow { reason, .. } if reason.contains("RSC")),
        "{e:?}"
    );
    assert_eq!(
        Supervision::assignees(f.item(), &|_| false),
        vec![Assignee::UnitRole {
            unit: "RSC".into(),
            role: Role::Handler
        }]
    );
    f.ok("guo.tao", input.clone());
    assert_eq!(
        f.item().co_inputs()[&"RSC".into()].text,
        "已核定评估所需师资数据，报教务处汇总。"
    );
    // Once.
    let e = f.err("guo.tao", input);
    assert!(matches!(e, Error::NotNow { .. }), "{e:?}");
    assert_eq!(
        Supervision::assignees(f.item(), &|_| false),
        vec![Assignee::Role(Role::Supervisor)]
    );
    f.ok(SUPERVISOR, f.step(CLOSE));
    assert_eq!(f.item().step(), ItemStep::Closed);
    assert_eq!(f.fold().as_ref(), Some(f.item()));

    // An item opened before 协办 tasks existed closes as it did.
    let mut old = script();
    old.steps(OPEN, ACCEPT);
    let opened = old.events[0].data.clone();
    let SupervisionEvent::ItemOpened {
        co_input_required, ..
    } = &opened
    else {
        panic!("{opened:?}")
    };
    assert!(*co_input_required);
    let mut stored = serde_json::to_value(&opened).unwrap();
    stored["payload"]
        .as_object_mut()
        .unwrap()
        .remove("co_input_required");
    old.events[0].data = serde_json::from_value(stored).unwrap();
    old.state = old.fold();
    assert!(old.item().pending_co_units().is_empty());
    old.steps(ACCEPT, CO_INPUT);
    old.steps(REPORT, CLOSE + 1);
    assert_eq!(old.item().step(), ItemStep::Closed);
}

#[test]
fn the_supervisor_sends_a_report_back_with_a_reason() {
    let mut f = script();
    f.steps(OPEN, CLOSE);
    let e = f.err(
        SUPERVISOR,
        SupervisionAction::ReturnItem { reason: " ".into() },
    );
    assert!(is_field(&e, "reason"), "{e:?}");
    f.ok(
        SUPERVISOR,
        SupervisionAction::ReturnItem {
            reason: "任务清单未落实到人，请补充。".into(),
        },
    );
    let i = f.item();
    assert_eq!(i.step(), ItemStep::InProgress);
    assert!(i.completion().is_none(), "the report is no longer in force");
    assert!(i.opinions().iter().any(|o| o.step == "return" && !o.agree));
    // Reported again, then closed.
    f.steps(REPORT, ARCHIVE);
    assert_eq!(f.item().step(), ItemStep::Closed);
}

// ---- 考评 ----

#[test]
fn the_supervisor_grades_an_item_at_closing_and_a_poor_grade_says_why() {
    use workflow_core::supervision::Grade;
    let mut f = script();
    f.steps(OPEN, CLOSE);
    let close = |note: &str, grade| SupervisionAction::CloseItem {
        note: note.into(),
        grade,
    };
    let e = f.err(SUPERVISOR, close(" ", Some(Grade::Poor)));
    assert!(is_field(&e, "note"), "{e:?}");
    f.ok(
        SUPERVISOR,
        close("整改方案不完整，仅完成部分任务。", Some(Grade::Poor)),
    );
    let i = f.item();
    assert_eq!(i.step(), ItemStep::Closed);
    assert_eq!(i.grade(), Some(Grade::Poor));
    let sheet = Supervision::sheet(i);
    assert!(
        sheet
            .fields
            .iter()
            .any(|l| l.label == "考评" && format!("{:?}", l.parts).contains("不合格")),
        "{sheet:?}"
    );
    assert_eq!(f.fold().as_ref(), f.state.as_ref());
    // Without a grade, as before: none kept.
    let mut g = script();
    g.steps(OPEN, CLOSE);
    g.ok(SUPERVISOR, close("", None));
    assert_eq!(g.item().grade(), None);
}

// ---- 立项号 ----

#[test]
fn items_are_numbered_per_year_of_opening_from_one_without_gaps() {
    let mut f = script();
    f.steps(OPEN, OPEN + 1);
    assert_eq!(f.item().number().unwrap().to_string(), "督〔2026〕1号");
    // A refused opening takes no number.
    f.next_stream();
    let e = open_with(&mut f, |s| s.title = String::new());
    assert!(is_field(&e, "spec.title"), "{e:?}");
    f.steps(OPEN, OPEN + 1);
    assert_eq!(f.item().number().unwrap().to_string(), "督〔2026〕2号");
    // The 督办单 and the timeline name it.
    let sheet = Supervision::sheet(f.item());
    assert!(
        sheet
            .fields
            .iter()
            .any(|l| l.label == "立项号" && format!("{:?}", l.parts).contains("督〔2026〕2号")),
        "{sheet:?}"
    );
    // Replay gives the same number.
    assert_eq!(f.fold().as_ref(), f.state.as_ref());
}

// ---- 催办 by hand ----

#[test]
fn a_supervisor_or_the_leader_urges_the_lead_unit_while_it_has_the_item() {
    let mut f = script();
    f.steps(OPEN, PROGRESS);
    let urge = |m: &str| SupervisionAction::UrgeItem { message: m.into() };
    // Not the lead unit's handler, and not without a message.
    let e = f.err(HANDLER, urge("请抓紧。"));
    assert!(
        matches!(
            e,
            Error::MissingRole {
                role: Role::Supervisor,
                ..
            }
        ),
        "{e:?}"
    );
    let e = f.err(SUPERVISOR, urge("  "));
    assert!(is_field(&e, "message"), "{e:?}");
    f.ok(SUPERVISOR, urge(" 请于本周五前报送进展。 "));
    f.ok(LEADER, urge("请加快进度。"));
    let i = f.item();
    assert_eq!(i.step(), ItemStep::Assigned, "a 催办 changes no step");
    let urged: Vec<(&str, &str, Option<&str>)> = i
        .urged()
        .iter()
        .map(|u| {
            (
                u.by.as_str(),
                u.message.as_str(),
                u.to.as_ref().map(|a| a.as_str()),
            )
        })
        .collect();
    assert_eq!(
        urged,
        [
            (SUPERVISOR, "请于本周五前报送进展。", Some(HANDLER)),
            (LEADER, "请加快进度。", Some(HANDLER)),
        ]
    );
    let last = f.events.last().unwrap();
    assert_eq!(last.data.step(), "催办");
    // Once reported complete, it is the supervisor's to check: no more 催办.
    f.steps(PROGRESS, CLOSE);
    let e = f.err(SUPERVISOR, urge("请抓紧。"));
    assert!(matches!(e, Error::WrongState { .. }), "{e:?}");
    assert_eq!(f.fold().as_ref(), f.state.as_ref());
}

// ---- 月通报: 督办事项一览 ----

#[test]
fn the_bulletin_lists_each_item_with_its_number_leader_units_source_and_progress() {
    use workflow_core::supervision::bulletin::{BulletinNames, Month, QUOTED, monthly};
    let mut f = script();
    let november = |d: u32, h: u32| Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap();
    f.clock = november(2, 2);
    f.steps(OPEN, PROGRESS);
    f.clock = november(3, 2);
    f.ok(
        SUPERVISOR,
        SupervisionAction::UrgeItem {
            message: "请尽快部署。".into(),
        },
    );
    f.clock = november(4, 2);
    f.ok(
        HANDLER,
        SupervisionAction::ReportProgress {
            text: format!("已完成{}", "第一阶段排查工作，".repeat(10)),
            percent: Some(40),
        },
    );
    // December's 催办 is not November's.
    f.clock = Utc.with_ymd_and_hms(2026, 12, 1, 2, 0, 0).unwrap();
    f.ok(
        LEADER,
        SupervisionAction::UrgeItem {
            message: "请加快。".into(),
        },
    );
    let names = BulletinNames {
        units: [("JWC", "教务处"), ("RSC", "人事处")]
            .into_iter()
            .map(|(c, n)| (c.into(), n.to_owned()))
            .collect(),
        actors: [(LEADER, "林志远")]
            .into_iter()
            .map(|(a, n)| (a.into(), n.to_owned()))
            .collect(),
    };
    let b = monthly(Month::new(2026, 11).unwrap(), [f.events.as_slice()], &names);
    assert_eq!(b.total.urged, Some(1));
    assert_eq!(b.items.len(), 1);
    let i = &b.items[0];
    assert_eq!(i.number.as_deref(), Some("督〔2026〕1号"));
    assert_eq!(i.leader, format!("林志远 {LEADER}"));
    assert_eq!(
        (i.lead_unit_name.as_str(), i.co_unit_names.as_slice()),
        ("教务处", ["人事处".to_owned()].as_slice())
    );
    assert!(i.source.starts_with("会议决定"), "{}", i.source);
    assert_eq!(i.step, "办理中");
    assert_eq!(i.urged, 1);
    let (day, text) = i.last_progress.clone().unwrap();
    assert_eq!(day, NaiveDate::from_ymd_opt(2026, 11, 4).unwrap());
    assert_eq!(text.chars().count(), QUOTED, "shortened: {text}");
    assert!(
        text.starts_with("已完成第一阶段") && text.ends_with('…'),
        "{text}"
    );
    // Each rendering names them.
    for rendering in [b.to_markdown(), b.to_html(), b.to_csv()] {
        for part in [
            "督办事项一览",
            "督〔2026〕1号",
            "林志远",
            "人事处",
            "本月催办",
        ] {
            assert!(
                rendering.contains(part)
                    || (part == "督办事项一览" && rendering.contains("立项号,")),
                "{part} in {rendering}"
            );
        }
    }
}

// ---- 归档 ----

#[test]
fn only_a_closed_item_is_archived_by_an_archivist() {
    let mut f = script();
    f.steps(OPEN, CLOSE);
    let e = f.err("xu.jing", f.step(ARCHIVE));
    assert!(matches!(e, Error::WrongState { .. }), "{e:?}");
    f.steps(CLOSE, ARCHIVE);
    let e = f.err(SUPERVISOR, f.step(ARCHIVE));
    assert!(
        matches!(
            e,
            Error::MissingRole {
                role: Role::Archivist,
                ..
            }
        ),
        "{e:?}"
    );
    f.steps(ARCHIVE, ARCHIVE + 1);
    let a = f.item().archive().unwrap();
    assert_eq!(a.reference.year, 2026);
    assert!(
        matches!(
            f.events.last().unwrap().data,
            SupervisionEvent::ItemArchived { ref fixity_hash, .. } if fixity_hash.is_none()
        ),
        "in memory, no chain to digest"
    );
}

// ---- reminders ----

fn remind(f: &mut ItemScript) -> Option<(ReminderReason, Option<String>)> {
    let due = Supervision::reminder(f.item(), f.clock, 24)?;
    let SupervisionAction::RemindItem {
        reason,
        escalate_to,
    } = due.action.clone()
    else {
        panic!("not a reminder: {:?}", due.action)
    };
    f.ok(SYSTEM_ACTOR, due.action);
    Some((reason, escalate_to.map(|a| a.0)))
}

#[test]
fn a_missed_weekly_feedback_is_reminded_once_per_week_then_escalated() {
    let mut f = script();
    f.steps(OPEN, PROGRESS);
    let accepted = f.item().accepted_at().unwrap();
    // Within the week: nothing due.
    f.clock = accepted + Duration::days(6);
    assert_eq!(Supervision::reminder(f.item(), f.clock, 24), None);
    assert_eq!(
        Supervision::due(f.item()),
        Some(accepted + Duration::days(7))
    );
    // A week passed without feedback: 催报 to the lead unit.
    f.clock = accepted + Duration::days(7) + Duration::hours(1);
    assert_eq!(remind(&mut f), Some((ReminderReason::Feedback, None)));
    // Not again for the same week.
    assert_eq!(Supervision::reminder(f.item(), f.clock, 24), None);
    // The second week missed: escalated to the supervisor; the third to the leader.
    f.clock = accepted + Duration::days(14) + Duration::hours(1);
    assert_eq!(
        remind(&mut f),
        Some((ReminderReason::Feedback, Some(SUPERVISOR.into())))
    );
    f.clock = accepted + Duration::days(21) + Duration::hours(1);
    assert_eq!(
        remind(&mut f),
        Some((ReminderReason::Feedback, Some(LEADER.into())))
    );
    // A feedback: counted afresh from it.
    f.ok(HANDLER, f.step(PROGRESS));
    assert_eq!(f.item().reminder_count(ReminderReason::Feedback).count, 0);
    assert_eq!(Supervision::reminder(f.item(), f.clock, 24), None);
}

#[test]
fn an_approaching_deadline_is_warned_once_the_configured_days_before() {
    let mut f = script();
    let mut spec = item_spec(f.deadline());
    spec.feedback = Frequency::None;
    f.ok(SUPERVISOR, SupervisionAction::OpenItem { spec });
    f.ok(HANDLER, f.step(ACCEPT));
    // Deadline 2026-11-30, three days' warning: from 2026-11-27 00:00 CST.
    let warn = chrono::FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(2026, 11, 27, 0, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    f.clock = warn - Duration::minutes(1);
    assert_eq!(Supervision::reminder(f.item(), f.clock, 24), None);
    assert_eq!(Supervision::due(f.item()), Some(warn));
    f.clock = warn + Duration::minutes(1);
    assert_eq!(remind(&mut f), Some((ReminderReason::Approaching, None)));
    f.clock += Duration::days(1);
    assert_eq!(Supervision::reminder(f.item(), f.clock, 24), None, "once");
}

#[test]
fn a_passed_deadline_is_reminded_each_interval_escalating_to_the_supervisor_then_the_leader() {
    let mut f = script();
    let mut spec = item_spec(f.deadline());
    spec.feedback = Frequency::None;
    spec.warn_days = 0;
    f.ok(SUPERVISOR, SupervisionAction::OpenItem { spec });
    // Overdue even before it is signed for.
    f.clock = Utc.with_ymd_and_hms(2026, 12, 1, 1, 0, 0).unwrap();
    assert!(f.item().is_overdue(f.clock));
    assert_eq!(remind(&mut f), Some((ReminderReason::Overdue, None)));
    // (The script's clock moved one hour with the reminder.)
    f.clock += Duration::hours(22);
    assert_eq!(
        Supervision::reminder(f.item(), f.clock, 24),
        None,
        "within the interval"
    );
    f.clock += Duration::hours(2);
    assert_eq!(
        remind(&mut f),
        Some((ReminderReason::Overdue, Some(SUPERVISOR.into())))
    );
    f.clock += Duration::hours(25);
    assert_eq!(
        remind(&mut f),
        Some((ReminderReason::Overdue, Some(LEADER.into())))
    );
    // A reported completion is not overdue for the lead unit any more.
    f.ok(HANDLER, f.step(ACCEPT));
    f.ok(HANDLER, f.step(REPORT));
    f.clock += Duration::days(3);
    assert_eq!(Supervision::reminder(f.item(), f.clock, 24), None);
}

#[test]
fn a_person_cannot_send_a_reminder_and_the_engine_only_when_due() {
    let mut f = script();
    f.steps(OPEN, PROGRESS);
    let action = SupervisionAction::RemindItem {
        reason: ReminderReason::Overdue,
        escalate_to: None,
    };
    let e = f.err(SUPERVISOR, action.clone());
    assert!(matches!(e, Error::MissingRole { .. }), "{e:?}");
    let e = f.err(SYSTEM_ACTOR, action);
    assert!(matches!(e, Error::NotNow { .. }), "{e:?}");
}

// ---- the link from 批办 ----

#[test]
fn a_batch_instruction_asking_for_supervision_opens_one_linked_item() {
    let mut r = ReceiptScript::with_directory(common::directory());
    r.steps(0, 3);
    let IncomingAction::Instruct {
        lead_unit,
        co_units,
        deadline,
        opinion,
        ..
    } = r.clone_step(3)
    else {
        panic!("step 3 is the 批办")
    };
    let events = r
        .run(
            "lin.zhiyuan",
            IncomingAction::Instruct {
                lead_unit,
                co_units,
                deadline,
                opinion: opinion.clone(),
                supervise: true,
            },
        )
        .unwrap();
    let receipt = r.receipt().clone();
    let event = Recorded {
        actor: events[0].actor.clone(),
        at: events[0].at,
        data: FlowEvent::Incoming(events[0].data.clone()),
    };
    let state = FlowState::Incoming(receipt.clone());
    let asked = reactions(&state, &event, 1234);
    assert_eq!(asked.len(), 1);
    let reaction = &asked[0];
    let id = linked_item_id(receipt.id(), receipt.version());
    assert_eq!(reaction.document_id, id);
    assert_eq!(reaction.command_id, "supervise:1234");
    assert_eq!(reaction.expected_version, Some(0));
    // The 收文 names it: linked both ways.
    assert_eq!(receipt.supervision_items(), &[id]);
    // The engine opens it, with the 批示 as its requirements.
    let workflow_core::FlowAction::Supervision(action) = reaction.action.clone() else {
        panic!("a 督办 command")
    };
    let mut f = ItemScript::with_directory(common::directory());
    f.id = id;
    f.ok(SYSTEM_ACTOR, action);
    let i = f.item();
    assert_eq!(
        i.spec().source,
        Source::Instruction {
            receipt: receipt.id()
        }
    );
    assert_eq!(i.spec().requirements, opinion);
    assert_eq!(i.spec().leader.as_str(), "lin.zhiyuan");
    assert_eq!(i.spec().lead_unit.as_str(), "JWC");
    assert!(i.supervisor().is_none());
    // The lead unit sends the 收文 back (not theirs): the item it opened is withdrawn, once,
    // by the engine; it leaves everyone's 待办 and is no longer open.
    let sent = r
        .run(
            "fang.yu",
            IncomingAction::SendBack {
                reason: "不属本单位职责".into(),
            },
        )
        .unwrap();
    let event = Recorded {
        actor: sent[0].actor.clone(),
        at: sent[0].at,
        data: FlowEvent::Incoming(sent[0].data.clone()),
    };
    let asked = reactions(&FlowState::Incoming(r.receipt().clone()), &event, 1300);
    assert_eq!(asked.len(), 1);
    let withdraw = &asked[0];
    assert_eq!(
        (withdraw.document_id, withdraw.command_id.as_str()),
        (id, format!("withdraw:1300:{id}").as_str())
    );
    assert_eq!(withdraw.expected_version, None);
    assert!(withdraw.optional, "an item closed meanwhile stays closed");
    let workflow_core::FlowAction::Supervision(action) = withdraw.action.clone() else {
        panic!("a 督办 command")
    };
    // Another unit's send-back does not withdraw this unit's item.
    let e = f.err(
        SYSTEM_ACTOR,
        SupervisionAction::WithdrawItem {
            unit: "RSC".into(),
            reason: "收文退回拟办".into(),
        },
    );
    assert!(matches!(e, Error::NotNow { .. }), "{e:?}");
    // Nobody but the engine withdraws an item.
    let e = f.err(SUPERVISOR, action.clone());
    assert!(matches!(e, Error::MissingRole { .. }), "{e:?}");
    f.ok(SYSTEM_ACTOR, action.clone());
    let i = f.item();
    assert_eq!(i.step(), ItemStep::Withdrawn);
    assert!(!i.is_overdue(Utc.with_ymd_and_hms(2027, 6, 1, 0, 0, 0).unwrap()));
    // Nobody's to do but the archivist's: its record is filed like a closed one's.
    assert_eq!(
        Supervision::assignees(i, &|_| true),
        vec![Assignee::Role(Role::Archivist)]
    );
    assert!(
        i.opinions()
            .iter()
            .any(|o| o.step == "revoke" && o.text.contains("不属本单位职责"))
    );
    let e = f.err(SYSTEM_ACTOR, action);
    assert!(matches!(e, Error::WrongState { .. }), "{e:?}");
    assert_eq!(f.fold().as_ref(), f.state.as_ref());
    f.ok(
        "xu.jing",
        SupervisionAction::ArchiveItem {
            fonds: "J012".into(),
            retention: None,
            unit_code: "JWC".into(),
            deviation_reason: String::new(),
        },
    );
    assert_eq!(f.item().step(), ItemStep::Archived);
    // A 批办 without supervision opens nothing.
    let mut plain = ReceiptScript::with_directory(common::directory());
    plain.steps(0, 4);
    let last = plain.events.last().unwrap().clone();
    let event = Recorded {
        actor: last.actor,
        at: last.at,
        data: FlowEvent::Incoming(last.data),
    };
    assert!(reactions(&FlowState::Incoming(plain.receipt().clone()), &event, 9).is_empty());
}

// ---- publishing the 月通报 ----

#[test]
fn a_bulletin_is_published_once_by_a_cleared_supervisor_after_its_month() {
    use workflow_core::supervision::bulletin::{BulletinNames, Month, monthly};
    use workflow_core::supervision::{PublicationAction, Publications, publication_id, sha256_hex};
    use workflow_core::{ErrorClass, FlowCommand};

    let dir = common::directory();
    let october = Month::new(2026, 10).unwrap();
    let bulletin = monthly(october, std::iter::empty(), &BulletinNames::default());
    let action = PublicationAction::publish(&bulletin, Classification::Secret);
    let command = |actor: &str, at, action: &PublicationAction| FlowCommand {
        document_id: publication_id(october, Classification::Secret),
        actor: actor.into(),
        at,
        action: action.clone(),
    };
    let after = october.end();
    let decide = |state, c: &FlowCommand<PublicationAction>| Publications::decide(state, c, &dir);
    // Before the month's end: not now.
    let e = decide(
        None,
        &command(SUPERVISOR, after - Duration::seconds(1), &action),
    )
    .unwrap_err();
    assert!(matches!(e, Error::NotNow { .. }), "{e:?}");
    // Only a supervisor, cleared for what it covers.
    let e = decide(None, &command(HANDLER, after, &action)).unwrap_err();
    assert!(
        matches!(
            e,
            Error::MissingRole {
                role: Role::Supervisor,
                ..
            }
        ),
        "{e:?}"
    );
    let top = PublicationAction::publish(&bulletin, Classification::TopSecret);
    let e = decide(
        None,
        &FlowCommand {
            document_id: publication_id(october, Classification::TopSecret),
            ..command(SUPERVISOR, after, &top)
        },
    )
    .unwrap_err();
    assert!(matches!(e, Error::InsufficientClearance { .. }), "{e:?}");
    // The stream is the one the month and clearance name; digests are SHA-256 hex.
    let e = decide(
        None,
        &FlowCommand {
            document_id: publication_id(Month::new(2026, 9).unwrap(), Classification::Secret),
            ..command(SUPERVISOR, after, &action)
        },
    )
    .unwrap_err();
    assert!(is_field(&e, "document_id"), "{e:?}");
    let mut bad = action.clone();
    let PublicationAction::PublishBulletin { digests, .. } = &mut bad;
    digests.csv = "not a digest".into();
    let e = decide(None, &command(SUPERVISOR, after, &bad)).unwrap_err();
    assert!(is_field(&e, "digests.csv"), "{e:?}");
    // Published: the record holds the digests; a second publication is refused as existing.
    let events = decide(None, &command(SUPERVISOR, after, &action)).unwrap();
    assert_eq!(events.len(), 1);
    let state = Publications::create(&events[0].actor, events[0].at, &events[0].data).unwrap();
    assert_eq!(state.digests().html, sha256_hex(&bulletin.to_html()));
    assert_eq!(state.month(), october);
    let e = decide(Some(&state), &command(SUPERVISOR, after, &action)).unwrap_err();
    assert_eq!(e.class(), ErrorClass::AlreadyExists);
}

/// The 月通报's CSV opens in Excel and WPS on Chinese Windows as UTF-8 (a byte-order mark),
/// and a title a spreadsheet would take for a formula is written as text (OWASP's leading
/// `'`); the first format, which earlier publications' digests are of, is unchanged.
#[test]
fn the_bulletins_csv_is_marked_utf8_and_runs_no_formula() {
    use workflow_core::supervision::bulletin::{BulletinNames, Month, monthly, monthly_in};
    let titles = [
        "=HYPERLINK(\"http://evil.example/\",\"查看\")",
        "+1",
        "-2+3",
        "@SUM(A1:A9)",
        "=1+1",
        "按期报送",
    ];
    let mut histories = Vec::new();
    for (n, title) in titles.iter().enumerate() {
        let mut s = script();
        s.id = workflow_core::DocumentId(uuid::Uuid::from_u128(0x7000 + n as u128));
        let mut spec = item_spec(NaiveDate::from_ymd_opt(2026, 11, 10).unwrap());
        spec.title = (*title).into();
        s.ok(SUPERVISOR, SupervisionAction::OpenItem { spec });
        histories.push(s.events.clone());
    }
    let november = Month::new(2026, 11).unwrap();
    let b = monthly(
        november,
        histories.iter().map(Vec::as_slice),
        &BulletinNames::default(),
    );
    assert_eq!(
        b.overdue.len(),
        titles.len(),
        "all overdue at the month's end"
    );
    let csv = b.to_csv();
    // The CSV's rules hold from format 2 on; `monthly` is the current format.
    assert!(csv.starts_with('\u{feff}'), "a UTF-8 byte-order mark");
    assert_eq!(csv.matches('\u{feff}').count(), 1);
    let cells: Vec<&str> = csv.lines().map(|l| l.split(',').next().unwrap()).collect();
    for title in ["'+1", "'-2+3", "'@SUM(A1:A9)", "'=1+1", "按期报送"] {
        assert!(cells.contains(&title), "{title:?} in {csv}");
    }
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://evil.example/\"\",\"\"查看\"\")\""),
        "{csv}"
    );
    assert!(
        !csv.lines()
            .skip(1)
            .any(|l| l.starts_with(['=', '+', '-', '@', '\t'])),
        "{csv}"
    );
    let first = monthly_in(
        november,
        histories.iter().map(Vec::as_slice),
        &BulletinNames::default(),
        1,
    )
    .to_csv();
    assert!(!first.starts_with('\u{feff}'));
    assert!(first.lines().any(|l| l.starts_with("+1,")), "{first}");
    // Format 1 also counted one day more overdue (2026-11-10 to the month's end: 20 days).
    assert!(csv.contains(",2026-11-10,20,"), "{csv}");
    assert!(first.contains(",2026-11-10,21,"), "{first}");
    // Format 3's tables are format 1's but for the marks and the days (format 4 adds a
    // column and a table).
    let third = monthly_in(
        november,
        histories.iter().map(Vec::as_slice),
        &BulletinNames::default(),
        3,
    )
    .to_csv();
    assert_eq!(
        third
            .trim_start_matches('\u{feff}')
            .replace(['\''], "")
            .replace(",20,", ",21,"),
        first.replace(['\''], "")
    );
    // Format 4's 督办事项一览 is as safe: its 督办事项 cells are the titles, marked.
    assert!(
        csv.lines().any(|l| l.starts_with("督〔2026〕1号,'+1,")),
        "{csv}"
    );
}

/// A deadline day ends at 24:00 China time: a 办结报告 at 23:59:59 is on time, an item due
/// on the month's last day is not overdue at the month's end, and 超期天数 counts the whole
/// days past the deadline day.
#[test]
fn a_deadline_day_ends_at_midnight_china_time() {
    use workflow_core::supervision::bulletin::{BulletinNames, Month, monthly};
    let cst = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let local = |d: u32, h: u32, m: u32, s: u32, ms: i64| {
        cst.with_ymd_and_hms(2026, 11, d, h, m, s)
            .unwrap()
            .with_timezone(&Utc)
            + Duration::milliseconds(ms)
    };
    // Due on the 20th, reported at 23:59:59.900 that day, closed the next morning.
    let flow = workflow_testkit::supervision::item_flow(
        NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        "J012",
    );
    let mut on_time = script();
    for i in [OPEN, ACCEPT, PROGRESS, CO_INPUT] {
        let (actor, action) = flow[i].clone();
        on_time.ok(actor, action);
    }
    let due = on_time.item().due_at().unwrap();
    assert_eq!(due, local(21, 0, 0, 0, 0), "the 20th's 24:00");
    on_time.clock = local(20, 23, 59, 59, 900);
    assert!(!on_time.item().is_overdue(on_time.clock));
    assert!(on_time.item().is_overdue(due + Duration::milliseconds(1)));
    let (actor, action) = flow[REPORT].clone();
    on_time.ok(actor, action);
    on_time.clock = local(21, 9, 0, 0, 0);
    let (actor, action) = flow[CLOSE].clone();
    on_time.ok(actor, action);
    // Due on the month's last day, still open at its end: not yet overdue.
    let mut due_last_day = script();
    due_last_day.id = workflow_core::DocumentId(uuid::Uuid::from_u128(0x8001));
    let mut spec = item_spec(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
    spec.title = "月末到期".into();
    due_last_day.ok(SUPERVISOR, SupervisionAction::OpenItem { spec });
    // Due on the 10th, still open: 20 days overdue at the end of November.
    let mut long_overdue = script();
    long_overdue.id = workflow_core::DocumentId(uuid::Uuid::from_u128(0x8002));
    let mut spec = item_spec(NaiveDate::from_ymd_opt(2026, 11, 10).unwrap());
    spec.title = "十日到期".into();
    long_overdue.ok(SUPERVISOR, SupervisionAction::OpenItem { spec });
    let november = Month::new(2026, 11).unwrap();
    let histories = [
        on_time.events.clone(),
        due_last_day.events.clone(),
        long_overdue.events.clone(),
    ];
    let b = monthly(
        november,
        histories.iter().map(Vec::as_slice),
        &BulletinNames::default(),
    );
    assert_eq!(b.closed.len(), 1);
    assert!(
        !b.closed[0].late,
        "reported at 23:59:59 on the deadline day: on time"
    );
    assert_eq!((b.total.closed_on_time, b.total.closed_late), (1, 0));
    let overdue: Vec<(&str, i64)> = b
        .overdue
        .iter()
        .map(|o| (o.title.as_str(), o.days_overdue))
        .collect();
    assert_eq!(overdue, [("十日到期", 20)]);
    assert_eq!(b.total.overdue_at_end, 1);
    assert!(!due_last_day.item().is_overdue(november.end()));
    assert!(
        due_last_day
            .item()
            .is_overdue(november.end() + Duration::milliseconds(1))
    );
    // The month under way, counted on the 15th at noon: the item due on the 10th is 5 days
    // overdue so far (not 20), the one due on the 30th is not overdue yet, the one due on
    // the 20th is still open and in time; the same log to the month's end is the whole one.
    let so_far = workflow_core::supervision::bulletin::monthly_until(
        november,
        local(15, 12, 0, 0, 0),
        histories.iter().map(Vec::as_slice),
        &BulletinNames::default(),
        workflow_core::supervision::bulletin::BULLETIN_FORMAT,
    );
    assert!(!so_far.is_whole_month());
    assert!(so_far.to_markdown().contains("| 目前超期未办结 |"));
    assert!(b.to_markdown().contains("| 月末超期未办结 |"));
    assert!(
        so_far.as_of_line().contains("2026-11-15 12:00"),
        "{}",
        so_far.as_of_line()
    );
    let overdue: Vec<(&str, i64)> = so_far
        .overdue
        .iter()
        .map(|o| (o.title.as_str(), o.days_overdue))
        .collect();
    assert_eq!(overdue, [("十日到期", 5)]);
    assert_eq!(
        so_far.closed.len(),
        0,
        "closed on the 21st, after the count"
    );
    let whole = workflow_core::supervision::bulletin::monthly_until(
        november,
        november.end() + Duration::days(3),
        histories.iter().map(Vec::as_slice),
        &BulletinNames::default(),
        workflow_core::supervision::bulletin::BULLETIN_FORMAT,
    );
    assert_eq!(whole, b);
    assert!(whole.as_of_line().contains("2026-11-30 24:00"));
}

/// From bulletin format 3 the per-unit table leaves out a unit with nothing in the month: 教务处,
/// whose one item was opened and closed in October, has no line in November's bulletin
/// (format 2, which earlier publications are of, listed it as an all-zero line).
#[test]
fn a_unit_with_nothing_in_the_month_has_no_line_from_format_3() {
    use workflow_core::supervision::bulletin::{
        BULLETIN_FORMAT, BulletinNames, Month, monthly, monthly_in,
    };
    let cst = chrono::FixedOffset::east_opt(8 * 3600).unwrap();
    let october = |d: u32| {
        cst.with_ymd_and_hms(2026, 10, d, 9, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    let flow = workflow_testkit::supervision::item_flow(
        NaiveDate::from_ymd_opt(2026, 10, 20).unwrap(),
        "J012",
    );
    let mut closed = script();
    for (day, i) in [
        (1, OPEN),
        (2, ACCEPT),
        (5, PROGRESS),
        (8, CO_INPUT),
        (10, REPORT),
        (12, CLOSE),
    ] {
        closed.clock = october(day);
        let (actor, action) = flow[i].clone();
        closed.ok(actor, action);
    }
    assert_eq!(closed.item().spec().lead_unit.as_str(), "JWC");
    let mut open = script();
    open.id = workflow_core::DocumentId(uuid::Uuid::from_u128(0x9001));
    let mut spec = item_spec(NaiveDate::from_ymd_opt(2026, 11, 20).unwrap());
    spec.lead_unit = "RSC".into();
    spec.co_units.clear();
    spec.title = "人事处的事项".into();
    open.ok(SUPERVISOR, SupervisionAction::OpenItem { spec });
    let histories = [closed.events.clone(), open.events.clone()];
    let november = Month::new(2026, 11).unwrap();
    let units = |b: &workflow_core::supervision::bulletin::Bulletin| {
        b.units
            .iter()
            .map(|l| l.unit.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(BULLETIN_FORMAT, 5);
    let now = monthly(
        november,
        histories.iter().map(Vec::as_slice),
        &BulletinNames::default(),
    );
    assert_eq!(units(&now), ["RSC"]);
    assert!(!now.to_markdown().contains("JWC"), "{}", now.to_markdown());
    let before = monthly_in(
        november,
        histories.iter().map(Vec::as_slice),
        &BulletinNames::default(),
        2,
    );
    assert_eq!(units(&before), ["JWC", "RSC"]);
    assert_eq!(
        before.units[0].figures,
        Default::default(),
        "an all-zero line"
    );
    // October itself still has 教务处's line.
    let october_bulletin = monthly(
        Month::new(2026, 10).unwrap(),
        histories.iter().map(Vec::as_slice),
        &BulletinNames::default(),
    );
    assert_eq!(units(&october_bulletin), ["JWC"]);
}

/// From format 5 the month adds up: an item withdrawn in it (its 批办 sent back) is counted
/// as 本月撤销, so that open at the start and opened, less closed and withdrawn, is what
/// stays open; format 4 had no such column.
#[test]
fn a_withdrawn_item_is_counted_in_its_month_from_format_5() {
    use workflow_core::supervision::bulletin::{BulletinNames, Month, monthly, monthly_in};
    let november = Month::new(2026, 11).unwrap();
    let mut f = script();
    f.clock = Utc.with_ymd_and_hms(2026, 11, 3, 2, 0, 0).unwrap();
    f.steps(OPEN, PROGRESS);
    f.clock = Utc.with_ymd_and_hms(2026, 11, 9, 2, 0, 0).unwrap();
    f.ok(
        SYSTEM_ACTOR,
        SupervisionAction::WithdrawItem {
            unit: "JWC".into(),
            reason: "收文退回拟办".into(),
        },
    );
    let mut g = script();
    g.id = workflow_core::DocumentId(uuid::Uuid::from_u128(0x9002));
    g.clock = Utc.with_ymd_and_hms(2026, 11, 4, 2, 0, 0).unwrap();
    g.steps(OPEN, ACCEPT);
    let histories = [f.events.clone(), g.events.clone()];
    let b = monthly(
        november,
        histories.iter().map(Vec::as_slice),
        &BulletinNames::default(),
    );
    let t = b.total;
    assert_eq!((t.opened, t.withdrawn), (2, Some(1)));
    let still_open =
        t.open_at_start + t.opened - t.closed_on_time - t.closed_late - t.withdrawn.unwrap();
    assert_eq!(still_open, 1, "{t:?}");
    assert_eq!(b.heads().last(), Some(&"本月撤销"));
    assert!(b.to_markdown().contains("本月撤销"), "{}", b.to_markdown());
    assert_eq!(b.units[0].figures.withdrawn, Some(1));
    // The same month as format 4 had it: no such column, the bytes as published then.
    let four = monthly_in(
        november,
        histories.iter().map(Vec::as_slice),
        &BulletinNames::default(),
        4,
    );
    assert_eq!(four.total.withdrawn, None);
    assert!(!four.to_markdown().contains("本月撤销"));
    assert!(!four.to_json().contains("withdrawn"));
}

/// A 秘密 督办 item is opened only for units where an active 承办人 may open it: for
/// 党委办公室 (nobody there) it is refused as 主办 and as 协办, naming the field and unit.
#[test]
fn a_classified_item_goes_only_to_units_with_a_handler_cleared_for_it() {
    let deadline = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let secret = |lead: &str, co: &[&str]| {
        let mut spec = item_spec(deadline);
        spec.classification = workflow_core::directory::Classification::Secret;
        spec.lead_unit = lead.into();
        spec.co_units = co.iter().map(|u| (*u).into()).collect();
        SupervisionAction::OpenItem { spec }
    };
    let mut s = script();
    for (action, field) in [
        (secret("DW", &[]), "spec.lead_unit"),
        (secret("JWC", &["DW"]), "spec.co_units[0]"),
    ] {
        let e = s.err(SUPERVISOR, action);
        assert!(
            matches!(&e, workflow_core::Error::NamedUnitClearance { field: f, unit, .. }
                if f == field && unit.as_str() == "DW"),
            "{field}: {e}"
        );
    }
    s.ok(SUPERVISOR, secret("JWC", &["RSC"]));
}
