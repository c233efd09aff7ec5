//! One test per rule of DESIGN §3a (收文), in the order the design lists them, on the
//! fixture's sample 收文 (a 省教育厅 notice, 批办 to 教务处 with 人事处 and 财务处).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use chrono::{Duration, NaiveDate};
use workflow_core::incoming::{Attachment, Step};
use workflow_core::{
    DocumentId, Error, Flow, directory::Classification, directory::Role, ids::SYSTEM_ACTOR,
    incoming::Incoming, incoming::IncomingAction, incoming::IncomingEvent, incoming::Plan,
    incoming::linked_receipt_id, kind::Urgency, retention::Retention, todo::Assignee,
};
use workflow_testkit::incoming::{ReceiptScript, instruct_flow};

fn script() -> ReceiptScript {
    ReceiptScript::with_directory(common::directory())
}

/// Step indexes of the sample's 批办 flow (see `instruct_flow`).
const REGISTER: usize = 0;
const SCREEN: usize = 1;
const PROPOSE: usize = 2;
const INSTRUCT: usize = 3;
/// After the two 协办 inputs.
const HANDLING: usize = 6;
const COMPLETE: usize = 9;
const ARCHIVE: usize = 10;

fn register(s: &ReceiptScript) -> IncomingAction {
    IncomingAction::Register {
        registration: s.sample.registration.clone(),
        unit: None,
    }
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn is_field(e: &Error, name: &str) -> bool {
    matches!(e, Error::InvalidField { field, .. } if field == name)
}

// ---- states ----

#[test]
fn the_instruct_flow_runs_from_registration_to_archive() {
    let mut f = script();
    let steps = [
        (REGISTER, Step::Registered),
        (SCREEN, Step::Proposing),
        (PROPOSE, Step::AwaitingInstruction),
        (INSTRUCT, Step::InHandling),
        (COMPLETE - 1, Step::InHandling),
        (COMPLETE, Step::Completed),
        (ARCHIVE, Step::Archived),
    ];
    let mut done = 0;
    for (to, step) in steps {
        f.steps(done, to + 1);
        done = to + 1;
        assert_eq!(f.receipt().step(), step, "after step {to}");
    }
    let r = f.receipt();
    assert_eq!(r.closure().unwrap().reply, "X校教〔2026〕31号");
    assert_eq!(
        f.fold().as_ref(),
        Some(r),
        "folding the events gives the live state"
    );
}

// ---- registration ----

#[test]
fn registration_numbers_are_gapless_per_receiving_unit_and_year() {
    let mut f = script();
    let mut numbers = Vec::new();
    for unit in [None, None, Some("JWC"), None] {
        f.next_receipt();
        f.ok(
            "he.ping",
            IncomingAction::Register {
                registration: f.sample.registration.clone(),
                unit: unit.map(Into::into),
            },
        );
        numbers.push(f.receipt().number().to_string());
    }
    // A 收文 received in 2027 starts the next year's series.
    f.next_receipt();
    let mut reg = f.sample.registration.clone();
    reg.received_on = date(2027, 1, 4);
    reg.deadline = Some(date(2027, 1, 30));
    // Registered on the day it came (a 收文日期 still to come is refused).
    f.clock = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2027, 1, 4, 1, 0, 0).unwrap();
    f.ok(
        "he.ping",
        IncomingAction::Register {
            registration: reg,
            unit: None,
        },
    );
    numbers.push(f.receipt().number().to_string());
    assert_eq!(
        numbers,
        [
            "X校收〔2026〕1号",
            "X校收〔2026〕2号",
            "X校教收〔2026〕1号",
            "X校收〔2026〕3号",
            "X校收〔2027〕1号"
        ]
    );
}

#[test]
fn registration_fields_are_checked_by_name() {
    let mut f = script();
    type Change = Box<dyn Fn(&mut workflow_core::incoming::Registration)>;
    let cases: Vec<(&str, Change)> = vec![
        ("registration.from", Box::new(|r| r.from = " ".into())),
        ("registration.title", Box::new(|r| r.title.clear())),
        (
            "registration.title",
            Box::new(|r| r.title = "长".repeat(201)),
        ),
        (
            "registration.classification_period_years",
            Box::new(|r| r.classification = Classification::Secret),
        ),
        (
            "registration.classification_period_years",
            Box::new(|r| r.classification_period_years = Some(5)),
        ),
        (
            "registration.deadline",
            Box::new(|r| r.deadline = Some(date(2026, 10, 1))),
        ),
        (
            "registration.attachments[0].sha256",
            Box::new(|r| {
                r.attachments.push(Attachment {
                    name: "方案.pdf".into(),
                    sha256: "abc".into(),
                })
            }),
        ),
        (
            "registration.attachments[0].name",
            Box::new(|r| {
                r.attachments.push(Attachment {
                    name: String::new(),
                    sha256: "0".repeat(64),
                })
            }),
        ),
        (
            "registration.source",
            Box::new(|r| r.source = Some(DocumentId(uuid::Uuid::from_u128(9)))),
        ),
        // 收文日期 a day still to come (the script's clock is on 2026-11-03).
        (
            "registration.received_on",
            Box::new(|r| {
                r.received_on = date(2026, 11, 4);
                r.deadline = None;
                r.urgency = Urgency::Normal;
            }),
        ),
    ];
    for (field, change) in cases {
        let mut reg = f.sample.registration.clone();
        change(&mut reg);
        let e = f.err(
            "he.ping",
            IncomingAction::Register {
                registration: reg,
                unit: None,
            },
        );
        assert!(is_field(&e, field), "{field}: {e}");
    }
}

/// A 秘密 收文 is 批办 only to units where an active 承办人 (handler) is cleared to open it:
/// 党委办公室 (nobody at all) and 学生工作处 (people, and one cleared for 秘密, but its 承办人
/// is not) are refused as 主办 and as 协办, naming the field and the unit; and a 机密 one may
/// not go to 教务处, whose reviewer is cleared for it but whose 承办人 only for 秘密.
#[test]
fn a_classified_document_goes_only_to_units_with_someone_cleared_for_it() {
    let mut f = script();
    let mut registration = f.sample.registration.clone();
    registration.classification = Classification::Secret;
    registration.classification_period_years = Some(10);
    let registrar = instruct_flow(&f.sample, "J012")[REGISTER].0.clone();
    f.ok(
        registrar.as_str(),
        IncomingAction::Register {
            registration,
            unit: None,
        },
    );
    f.steps(SCREEN, INSTRUCT);
    let leader = instruct_flow(&f.sample, "J012")[INSTRUCT].0.clone();
    let IncomingAction::Instruct {
        lead_unit,
        co_units,
        deadline,
        opinion,
        supervise,
    } = f.clone_step(INSTRUCT)
    else {
        panic!("the sample's step {INSTRUCT} is the 批办");
    };
    let instruct = |lead: &str, co: Vec<&str>| IncomingAction::Instruct {
        lead_unit: lead.into(),
        co_units: co.into_iter().map(Into::into).collect(),
        deadline,
        opinion: opinion.clone(),
        supervise,
    };
    for (action, field, named) in [
        (instruct("DW", vec![]), "lead_unit", "DW"),
        (
            instruct(lead_unit.as_str(), vec!["DW"]),
            "co_units[0]",
            "DW",
        ),
        (instruct("XSC", vec![]), "lead_unit", "XSC"),
        (
            instruct(lead_unit.as_str(), vec!["XSC"]),
            "co_units[0]",
            "XSC",
        ),
    ] {
        let e = f.err(leader.as_str(), action);
        assert!(
            matches!(
                &e,
                Error::NamedUnitClearance { field: f, unit, classification: Classification::Secret }
                    if f == field && unit.as_str() == named
            ),
            "{field} {named}: {e}"
        );
        assert_eq!(
            e.refused_field(),
            Some(field),
            "a form offers it with another unit"
        );
    }
    // The sample's units have people cleared for 秘密: accepted.
    f.ok(
        leader.as_str(),
        IncomingAction::Instruct {
            lead_unit,
            co_units,
            deadline,
            opinion: opinion.clone(),
            supervise,
        },
    );
    assert_eq!(f.receipt().step(), Step::InHandling);
    // 机密: 教务处 has li.qiang (审核, 机密) but its 承办人 fang.yu is cleared for 秘密 only.
    f.next_receipt();
    let mut registration = f.sample.registration.clone();
    registration.classification = Classification::Confidential;
    registration.classification_period_years = Some(20);
    f.ok(
        registrar.as_str(),
        IncomingAction::Register {
            registration,
            unit: None,
        },
    );
    f.steps(SCREEN, INSTRUCT);
    let e = f.err(leader.as_str(), instruct("JWC", vec![]));
    assert!(
        matches!(&e, Error::NamedUnitClearance { unit, .. } if unit.as_str() == "JWC"),
        "{e}"
    );
}

/// The 收文日期 rule counts days in China time: at 01:00 on 11-04 in China (17:00 UTC on
/// 11-03) a 收文 received on 11-04 is registered.
#[test]
fn a_receipt_dated_today_in_china_is_not_in_the_future() {
    let mut f = script();
    f.clock = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 3, 17, 0, 0).unwrap();
    let mut registration = f.sample.registration.clone();
    registration.received_on = date(2026, 11, 4);
    f.ok(
        "he.ping",
        IncomingAction::Register {
            registration: registration.clone(),
            unit: None,
        },
    );
    f.next_receipt();
    registration.received_on = date(2026, 11, 5);
    let e = f.err(
        "he.ping",
        IncomingAction::Register {
            registration,
            unit: None,
        },
    );
    assert!(is_field(&e, "registration.received_on"), "{e}");
}

#[test]
fn urgent_and_extra_urgent_documents_need_a_deadline() {
    let mut f = script();
    for urgency in [Urgency::Urgent, Urgency::ExtraUrgent] {
        let mut reg = f.sample.registration.clone();
        reg.urgency = urgency;
        reg.deadline = None;
        let e = f.err(
            "he.ping",
            IncomingAction::Register {
                registration: reg,
                unit: None,
            },
        );
        assert!(is_field(&e, "registration.deadline"), "{e}");
        assert!(e.to_string().contains("办结时限"), "{e}");
    }
    // A normal one may come without.
    let mut reg = f.sample.registration.clone();
    reg.urgency = Urgency::Normal;
    reg.deadline = None;
    f.ok(
        "he.ping",
        IncomingAction::Register {
            registration: reg,
            unit: None,
        },
    );
}

#[test]
fn only_a_registrar_of_the_unit_or_of_the_general_office_registers() {
    let mut f = script();
    // Not a registrar at all.
    let e = f.err("ding.xin", register(&f));
    assert!(
        matches!(
            e,
            Error::MissingRole {
                role: Role::Registrar,
                ..
            }
        ),
        "{e}"
    );
    // 人事处's registrar cannot register for 教务处.
    let e = f.err(
        "guo.tao",
        IncomingAction::Register {
            registration: f.sample.registration.clone(),
            unit: Some("JWC".into()),
        },
    );
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    // The general office's registrar may; the unit's own registrar may.
    f.ok(
        "he.ping",
        IncomingAction::Register {
            registration: f.sample.registration.clone(),
            unit: Some("JWC".into()),
        },
    );
    assert_eq!(f.receipt().unit().as_str(), "JWC");
    f.next_receipt();
    f.ok("guo.tao", register(&f));
    assert_eq!(f.receipt().unit().as_str(), "RSC");
    // An unknown unit is named.
    f.next_receipt();
    let e = f.err(
        "he.ping",
        IncomingAction::Register {
            registration: f.sample.registration.clone(),
            unit: Some("NOPE".into()),
        },
    );
    assert!(is_field(&e, "unit"), "{e}");
}

#[test]
fn a_registered_document_cannot_be_registered_again() {
    let mut f = script();
    f.steps(0, 1);
    let e = f.err("he.ping", register(&f));
    assert!(matches!(e, Error::DocumentExists(_)), "{e}");
}

// ---- 初审 ----

#[test]
fn screening_passes_it_to_the_office_director() {
    let mut f = script();
    f.steps(0, 1);
    // Only a registrar or office director of the unit or of the general office.
    let e = f.err(
        "guo.tao",
        IncomingAction::Screen {
            note: String::new(),
            deadline: None,
        },
    );
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    let e = f.err(
        "wang.fang",
        IncomingAction::Screen {
            note: String::new(),
            deadline: None,
        },
    );
    assert!(matches!(e, Error::MissingRole { .. }), "{e}");
    f.steps(1, 2);
    assert_eq!(f.receipt().step(), Step::Proposing);
    // 初审 happens once.
    let e = f.err(
        "he.ping",
        IncomingAction::Screen {
            note: String::new(),
            deadline: None,
        },
    );
    assert!(matches!(e, Error::WrongState { .. }), "{e}");
}

#[test]
fn rejection_needs_a_reason_and_ends_the_document() {
    let mut f = script();
    f.steps(0, 1);
    let e = f.err(
        "he.ping",
        IncomingAction::RejectIncoming { reason: " ".into() },
    );
    assert!(is_field(&e, "reason"), "{e}");
    f.ok(
        "he.ping",
        IncomingAction::RejectIncoming {
            reason: "非本单位主管事项，退回来文单位。".into(),
        },
    );
    let r = f.receipt();
    assert_eq!(r.step(), Step::Rejected);
    assert_eq!(r.rejection(), Some("非本单位主管事项，退回来文单位。"));
    assert!(Incoming::assignees(r, &|_| true).is_empty());
    // Terminal: nothing else moves it.
    let e = f.err(
        "he.ping",
        IncomingAction::Screen {
            note: String::new(),
            deadline: None,
        },
    );
    assert!(matches!(e, Error::WrongState { .. }), "{e}");
    let e = f.err(
        "ding.xin",
        IncomingAction::RejectIncoming {
            reason: "再退".into(),
        },
    );
    assert!(matches!(e, Error::WrongState { .. }), "{e}");
}

// ---- 拟办 ----

#[test]
fn the_office_director_proposes_circulation_or_instruction_with_an_opinion() {
    let mut f = script();
    f.steps(0, 2);
    let instruct = |leader: &str, opinion: &str| IncomingAction::Propose {
        plan: Plan::instruct(leader.into()),
        opinion: opinion.into(),
    };
    let e = f.err("he.ping", instruct("lin.zhiyuan", "拟请阅批"));
    assert!(matches!(e, Error::MissingRole { .. }), "{e}");
    let e = f.err("ding.xin", instruct("lin.zhiyuan", ""));
    assert!(is_field(&e, "opinion"), "{e}");
    // The leader must hold the Leader role.
    let e = f.err("ding.xin", instruct("wang.fang", "拟请阅批"));
    assert!(
        matches!(&e, Error::NamedActorMissingRole { field, .. } if field == "plan.leader"),
        "{e}"
    );
    // The sender expects a reply: 传阅, which ends without one, is refused.
    let e = f.err(
        "ding.xin",
        IncomingAction::Propose {
            plan: Plan::circulate(vec!["lin.zhiyuan".into()]),
            opinion: "拟请传阅".into(),
        },
    );
    assert!(is_field(&e, "plan"), "{e}");
    assert!(e.to_string().contains("是否需回复"), "{e}");
    f.ok("ding.xin", instruct("lin.zhiyuan", "拟请林校长阅批"));
    let r = f.receipt();
    assert_eq!(r.step(), Step::AwaitingInstruction);
    assert_eq!(r.leader().map(|l| l.as_str()), Some("lin.zhiyuan"));
    assert_eq!(
        Incoming::assignees(r, &|_| true),
        vec![Assignee::Actor("lin.zhiyuan".into())]
    );
    assert_eq!(r.opinions().last().unwrap().text, "拟请林校长阅批");
}

// ---- 批办 ----

#[test]
fn an_instruction_names_one_lead_unit_any_cooperating_units_and_a_deadline() {
    let mut f = script();
    f.steps(0, 3);
    let instruct = |lead: &str, co: &[&str], deadline: NaiveDate| IncomingAction::Instruct {
        lead_unit: lead.into(),
        co_units: co.iter().map(|u| (*u).into()).collect(),
        deadline,
        opinion: "请教务处牵头办理。".into(),
        supervise: false,
    };
    let e = f.err("lin.zhiyuan", instruct("NOPE", &[], date(2026, 11, 30)));
    assert!(is_field(&e, "lead_unit"), "{e}");
    let e = f.err("lin.zhiyuan", instruct("JWC", &["JWC"], date(2026, 11, 30)));
    assert!(is_field(&e, "co_units[0]"), "{e}");
    let e = f.err(
        "lin.zhiyuan",
        instruct("JWC", &["RSC", "RSC"], date(2026, 11, 30)),
    );
    assert!(is_field(&e, "co_units[1]"), "{e}");
    let e = f.err("lin.zhiyuan", instruct("JWC", &[], date(2026, 10, 1)));
    assert!(is_field(&e, "deadline"), "{e}");
    f.ok(
        "lin.zhiyuan",
        instruct("JWC", &["RSC", "CWC"], date(2026, 11, 30)),
    );
    let r = f.receipt();
    assert_eq!(r.step(), Step::InHandling);
    assert_eq!(r.deadline(), Some(date(2026, 11, 30)));
    let mut keys = Incoming::assignees(r, &|_| true);
    keys.sort();
    let handler = |u: &str| Assignee::UnitRole {
        unit: u.into(),
        role: Role::Handler,
    };
    assert_eq!(keys, vec![handler("CWC"), handler("JWC"), handler("RSC")]);
}

#[test]
fn only_the_leader_it_waits_for_instructs_and_may_pass_it_on() {
    let mut f = script();
    f.steps(0, 3);
    let step = f.clone_step(INSTRUCT);
    let e = f.err("song.hua", step.clone());
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    // 转批 to another leader, not to oneself, not to a non-leader.
    let e = f.err(
        "lin.zhiyuan",
        IncomingAction::TransferInstruction {
            to: "lin.zhiyuan".into(),
            opinion: String::new(),
        },
    );
    assert!(is_field(&e, "to"), "{e}");
    let e = f.err(
        "lin.zhiyuan",
        IncomingAction::TransferInstruction {
            to: "he.ping".into(),
            opinion: String::new(),
        },
    );
    assert!(matches!(e, Error::NamedActorMissingRole { .. }), "{e}");
    f.ok(
        "lin.zhiyuan",
        IncomingAction::TransferInstruction {
            to: "song.hua".into(),
            opinion: "请宋副校长阅批。".into(),
        },
    );
    assert_eq!(f.receipt().step(), Step::AwaitingInstruction);
    let e = f.err("lin.zhiyuan", step.clone());
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    f.ok("song.hua", step);
    assert_eq!(
        f.receipt().instruction().unwrap().leader.as_str(),
        "song.hua"
    );
}

#[test]
fn an_instruction_may_ask_for_a_supervision_item() {
    let mut f = script();
    f.steps(0, 3);
    f.ok(
        "lin.zhiyuan",
        IncomingAction::Instruct {
            lead_unit: "JWC".into(),
            co_units: vec![],
            deadline: date(2026, 11, 30),
            opinion: "请教务处办理，列入督办。".into(),
            supervise: true,
        },
    );
    assert!(f.receipt().instruction().unwrap().supervise);
    assert!(matches!(
        f.events.last().unwrap().data,
        IncomingEvent::Instructed {
            supervise: true,
            ..
        }
    ));
}

// ---- 承办 ----

#[test]
fn only_the_lead_units_handler_records_progress() {
    let mut f = script();
    f.steps(0, 4);
    let progress = IncomingAction::RecordProgress {
        text: "已部署。".into(),
    };
    // A cooperating unit's handler is not the lead unit's.
    let e = f.err("guo.tao", progress.clone());
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    let e = f.err("wang.fang", progress.clone());
    assert!(matches!(e, Error::MissingRole { .. }), "{e}");
    let e = f.err(
        "fang.yu",
        IncomingAction::RecordProgress { text: " ".into() },
    );
    assert!(is_field(&e, "text"), "{e}");
    f.ok("fang.yu", progress.clone());
    f.ok("fang.yu", progress);
    assert_eq!(f.receipt().progress().len(), 2);
}

#[test]
fn the_office_urges_the_lead_unit_while_it_handles_the_receipt() {
    let mut f = script();
    f.steps(0, 3);
    let urge = |m: &str| IncomingAction::UrgeIncoming { message: m.into() };
    let (registrar, director) = (
        f.sample.registrar.to_string(),
        f.sample.director.to_string(),
    );
    // Not before the 批办: nobody handles it yet.
    let e = f.err(&registrar, urge("请抓紧。"));
    assert!(matches!(e, Error::WrongState { .. }), "{e}");
    f.steps(3, 4);
    // Not the lead unit's handler; not without a message.
    let e = f.err("fang.yu", urge("请抓紧。"));
    assert!(
        matches!(e, Error::MissingRole { .. } | Error::NotAssigned { .. }),
        "{e}"
    );
    let e = f.err(&registrar, urge(" "));
    assert!(is_field(&e, "message"), "{e}");
    f.ok(&registrar, urge(" 请于本周内报送办理结果。 "));
    f.ok(&director, urge("请加快办理。"));
    let r = f.receipt();
    assert_eq!(r.step(), Step::InHandling, "a 催办 changes no step");
    let urged: Vec<(&str, &str, &str)> = r
        .urged()
        .iter()
        .map(|n| (n.actor.as_str(), n.unit.as_str(), n.text.as_str()))
        .collect();
    assert_eq!(
        urged,
        [
            (registrar.as_str(), "JWC", "请于本周内报送办理结果。"),
            (director.as_str(), "JWC", "请加快办理。"),
        ]
    );
    let sheet = Incoming::sheet(r);
    assert_eq!(
        sheet.fields.iter().filter(|l| l.label == "催办").count(),
        2,
        "{sheet:?}"
    );
    assert_eq!(f.fold().as_ref(), f.state.as_ref());
    // Done: no more 催办.
    f.steps(4, COMPLETE + 1);
    let e = f.err(&registrar, urge("请抓紧。"));
    assert!(matches!(e, Error::WrongState { .. }), "{e}");
}

#[test]
fn each_cooperating_unit_gives_its_input_once() {
    let mut f = script();
    f.steps(0, 4);
    let input = |t: &str| IncomingAction::CoInput { text: t.into() };
    // The lead unit is not a cooperating unit; 学生工作处 was not named.
    let e = f.err("fang.yu", input("意见"));
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    let e = f.err("ye.qing", input("意见"));
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    f.ok("guo.tao", input("已核定师资数据。"));
    let e = f.err("guo.tao", input("再补充"));
    assert!(matches!(e, Error::NotNow { .. }), "{e}");
    assert!(
        e.to_string().contains("RSC has given its input already"),
        "{e}"
    );
    assert_eq!(
        f.receipt().pending_co_units(),
        vec![workflow_core::UnitCode::from("CWC")]
    );
    f.ok("xie.na", input("经费已列入预算。"));
    assert!(f.receipt().pending_co_units().is_empty());
}

#[test]
fn an_extension_is_asked_by_the_handler_and_decided_by_the_office() {
    let mut f = script();
    f.steps(0, HANDLING + 1);
    let ask = |until, reason: &str| IncomingAction::RequestExtension {
        until,
        reason: reason.into(),
    };
    let e = f.err("fang.yu", ask(date(2026, 12, 10), ""));
    assert!(is_field(&e, "reason"), "{e}");
    let e = f.err("fang.yu", ask(date(2026, 11, 29), "材料未齐"));
    assert!(is_field(&e, "until"), "{e}");
    let e = f.err(
        "ding.xin",
        IncomingAction::DecideExtension {
            grant: true,
            reason: String::new(),
        },
    );
    assert!(matches!(e, Error::NotNow { .. }), "{e}");
    f.ok("fang.yu", ask(date(2026, 12, 10), "材料未齐"));
    let e = f.err("fang.yu", ask(date(2026, 12, 20), "再延"));
    assert!(matches!(e, Error::NotNow { .. }), "{e}");
    // The handler cannot decide their own extension; a refusal needs a reason.
    let e = f.err(
        "fang.yu",
        IncomingAction::DecideExtension {
            grant: true,
            reason: String::new(),
        },
    );
    assert!(matches!(e, Error::MissingRole { .. }), "{e}");
    let e = f.err(
        "ding.xin",
        IncomingAction::DecideExtension {
            grant: false,
            reason: String::new(),
        },
    );
    assert!(is_field(&e, "reason"), "{e}");
    f.ok(
        "ding.xin",
        IncomingAction::DecideExtension {
            grant: false,
            reason: "时限不能再延。".into(),
        },
    );
    assert_eq!(f.receipt().deadline(), Some(date(2026, 11, 30)));
    f.ok("fang.yu", ask(date(2026, 12, 10), "材料未齐"));
    f.ok(
        "ding.xin",
        IncomingAction::DecideExtension {
            grant: true,
            reason: String::new(),
        },
    );
    assert_eq!(f.receipt().deadline(), Some(date(2026, 12, 10)));
    assert!(f.receipt().extension().is_none());
    // The original deadline stays on record in the events.
    assert!(f.events.iter().any(|e| matches!(
        e.data,
        IncomingEvent::ExtensionDecided { granted: true, from, .. } if from == date(2026, 11, 30)
    )));
}

#[test]
fn the_lead_unit_may_send_it_back_with_a_reason_to_the_proposal() {
    let mut f = script();
    f.steps(0, 4);
    let e = f.err("fang.yu", IncomingAction::SendBack { reason: "".into() });
    assert!(is_field(&e, "reason"), "{e}");
    let e = f.err(
        "guo.tao",
        IncomingAction::SendBack {
            reason: "非我处职责".into(),
        },
    );
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    f.ok(
        "fang.yu",
        IncomingAction::SendBack {
            reason: "评估工作由评估中心负责，非教务处职责。".into(),
        },
    );
    let r = f.receipt();
    assert_eq!(r.step(), Step::Proposing);
    assert!(r.instruction().is_none());
    // Proposed again, to another leader.
    f.ok(
        "ding.xin",
        IncomingAction::Propose {
            plan: Plan::instruct("song.hua".into()),
            opinion: "拟请宋副校长阅批。".into(),
        },
    );
    assert_eq!(f.receipt().step(), Step::AwaitingInstruction);
}

/// A 退回拟办 returns to the 办结时限 初审 set, not to the registration's (which a 加急
/// 收文 registered without one does not have, and 初审 itself would refuse).
#[test]
fn sending_back_keeps_the_deadline_screening_set() {
    let mut f = script();
    let sample = workflow_testkit::incoming::incoming_sample();
    // Registered as 普通 without a deadline (as a 签收 registers one); 初审 sets it.
    let mut registration = sample.registration.clone();
    registration.urgency = workflow_core::kind::Urgency::Normal;
    registration.deadline = None;
    f.ok(
        sample.registrar.as_str(),
        IncomingAction::Register {
            registration,
            unit: None,
        },
    );
    assert_eq!(f.receipt().deadline(), None);
    f.ok(
        sample.registrar.as_str(),
        IncomingAction::Screen {
            note: "请于11月20日前办结。".into(),
            deadline: Some(date(2026, 11, 20)),
        },
    );
    assert_eq!(f.receipt().deadline(), Some(date(2026, 11, 20)));
    f.steps(PROPOSE, INSTRUCT + 1);
    assert_ne!(
        f.receipt().deadline(),
        Some(date(2026, 11, 20)),
        "the 批办's"
    );
    f.ok(
        "fang.yu",
        IncomingAction::SendBack {
            reason: "非我处职责。".into(),
        },
    );
    assert_eq!(f.receipt().step(), Step::Proposing);
    assert_eq!(f.receipt().deadline(), Some(date(2026, 11, 20)));
    let again = f.fold().unwrap();
    assert_eq!(again.deadline(), Some(date(2026, 11, 20)), "folded alike");
}

#[test]
fn completion_records_the_result_and_the_reply_when_one_is_required() {
    let mut f = script();
    f.steps(0, COMPLETE);
    assert!(f.receipt().registration().reply_required);
    let e = f.err(
        "fang.yu",
        IncomingAction::Complete {
            result: "已办理。".into(),
            reply: String::new(),
        },
    );
    assert!(is_field(&e, "reply"), "{e}");
    assert!(e.to_string().contains("是否需回复"), "{e}");
    let e = f.err(
        "fang.yu",
        IncomingAction::Complete {
            result: String::new(),
            reply: "X校教〔2026〕31号".into(),
        },
    );
    assert!(is_field(&e, "result"), "{e}");
    f.steps(COMPLETE, COMPLETE + 1);
    let r = f.receipt();
    assert_eq!(r.step(), Step::Completed);
    assert_eq!(
        r.closure().unwrap().result,
        "自评报告已按新模板报送省教育厅。"
    );
    assert_eq!(
        Incoming::assignees(r, &|_| true),
        vec![Assignee::Role(Role::Archivist)]
    );
}

#[test]
fn a_document_without_a_required_reply_completes_without_one() {
    let mut f = script();
    f.sample.registration.reply_required = false;
    f.steps(0, COMPLETE);
    f.ok(
        "fang.yu",
        IncomingAction::Complete {
            result: "已办理。".into(),
            reply: String::new(),
        },
    );
    assert_eq!(f.receipt().step(), Step::Completed);
}

// ---- 传阅 ----

/// Registers the sample as a document only to be read (no reply expected) and screens it.
fn for_reading(f: &mut ReceiptScript) {
    let mut registration = f.sample.registration.clone();
    registration.reply_required = false;
    let registrar = f.sample.registrar.clone();
    f.ok(
        registrar.as_str(),
        IncomingAction::Register {
            registration,
            unit: None,
        },
    );
    f.steps(1, 2);
}

fn circulating(f: &mut ReceiptScript) {
    for_reading(f);
    let e = f.err(
        "ding.xin",
        IncomingAction::Propose {
            plan: Plan::circulate(vec![]),
            opinion: "拟请传阅".into(),
        },
    );
    assert!(is_field(&e, "readers"), "{e}");
    f.ok(
        "ding.xin",
        IncomingAction::Propose {
            plan: Plan::circulate(vec!["lin.zhiyuan".into(), "song.hua".into()]),
            opinion: "拟请校领导传阅。".into(),
        },
    );
}

#[test]
fn each_reader_marks_it_read_once_and_it_completes_when_all_have() {
    let mut f = script();
    circulating(&mut f);
    assert_eq!(f.receipt().step(), Step::Circulating);
    let e = f.err(
        "he.ping",
        IncomingAction::MarkRead {
            opinion: String::new(),
        },
    );
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    f.ok(
        "lin.zhiyuan",
        IncomingAction::MarkRead {
            opinion: "已阅，请教务处关注。".into(),
        },
    );
    let e = f.err(
        "lin.zhiyuan",
        IncomingAction::MarkRead {
            opinion: String::new(),
        },
    );
    assert!(matches!(e, Error::NotNow { .. }), "{e}");
    assert_eq!(
        Incoming::assignees(f.receipt(), &|_| true),
        vec![Assignee::Actor("song.hua".into())]
    );
    f.ok(
        "song.hua",
        IncomingAction::MarkRead {
            opinion: String::new(),
        },
    );
    assert_eq!(f.receipt().step(), Step::Completed);
}

#[test]
fn readers_may_be_added_while_it_circulates() {
    let mut f = script();
    circulating(&mut f);
    let e = f.err(
        "ding.xin",
        IncomingAction::AddReaders {
            readers: vec!["song.hua".into()],
            act_by: None,
        },
    );
    assert!(is_field(&e, "readers[0]"), "{e}");
    let e = f.err(
        "he.ping",
        IncomingAction::AddReaders {
            readers: vec!["chen.hong".into()],
            act_by: None,
        },
    );
    assert!(matches!(e, Error::MissingRole { .. }), "{e}");
    f.ok(
        "ding.xin",
        IncomingAction::AddReaders {
            readers: vec!["chen.hong".into()],
            act_by: None,
        },
    );
    for reader in ["lin.zhiyuan", "song.hua"] {
        f.ok(
            reader,
            IncomingAction::MarkRead {
                opinion: String::new(),
            },
        );
    }
    // Still waiting for the added reader.
    assert_eq!(f.receipt().step(), Step::Circulating);
    f.ok(
        "chen.hong",
        IncomingAction::MarkRead {
            opinion: String::new(),
        },
    );
    assert_eq!(f.receipt().step(), Step::Completed);
}

// ---- 会批 and 批示件传阅 ----

/// Registered, screened and proposed for 会批: `co_leaders` before 林志远.
fn joint_instruction(f: &mut ReceiptScript, co_leaders: &[&str], in_turn: bool) {
    f.steps(0, PROPOSE);
    f.ok(
        "ding.xin",
        IncomingAction::Propose {
            plan: Plan::Instruct {
                leader: "lin.zhiyuan".into(),
                co_leaders: co_leaders.iter().map(|&l| l.into()).collect(),
                in_turn,
            },
            opinion: "拟请郑校长、宋校长会批后，呈林校长批示。".into(),
        },
    );
}

fn comment(opinion: &str) -> IncomingAction {
    IncomingAction::CommentInstruction {
        opinion: opinion.into(),
    }
}

fn awaited(f: &ReceiptScript) -> Vec<Assignee> {
    Incoming::assignees(f.receipt(), &|_| true)
}

#[test]
fn a_joint_instruction_takes_each_leaders_opinion_in_turn_before_the_deciding_one() {
    let mut f = script();
    // The co-leaders are leaders, each named once, not the deciding leader.
    f.steps(0, PROPOSE);
    for (co, field) in [
        (vec!["lin.zhiyuan"], "plan.co_leaders[0]"),
        (vec!["song.hua", "song.hua"], "plan.co_leaders[1]"),
    ] {
        let e = f.err(
            "ding.xin",
            IncomingAction::Propose {
                plan: Plan::Instruct {
                    leader: "lin.zhiyuan".into(),
                    co_leaders: co.into_iter().map(Into::into).collect(),
                    in_turn: true,
                },
                opinion: "会批".into(),
            },
        );
        assert!(is_field(&e, field), "{e}");
    }
    let e = f.err(
        "ding.xin",
        IncomingAction::Propose {
            plan: Plan::Instruct {
                leader: "lin.zhiyuan".into(),
                co_leaders: vec!["he.ping".into()],
                in_turn: true,
            },
            opinion: "会批".into(),
        },
    );
    assert!(matches!(e, Error::NamedActorMissingRole { .. }), "{e}");

    let mut f = script();
    joint_instruction(&mut f, &["zheng.xiao", "song.hua"], true);
    assert_eq!(f.receipt().step(), Step::AwaitingInstruction);
    // In turn: 郑晓 first; 宋华 and the deciding leader wait.
    assert_eq!(awaited(&f), vec![Assignee::Actor("zheng.xiao".into())]);
    let e = f.err("song.hua", comment("同意。"));
    assert!(matches!(e, Error::NotNow { .. }), "{e}");
    let instruct = f.clone_step(INSTRUCT);
    let e = f.err("lin.zhiyuan", instruct.clone());
    assert!(matches!(e, Error::NotNow { .. }), "{e}");
    // 转批 as before: the deciding leader's (not a co-leader's), to a leader not in the 会批.
    let e = f.err(
        "song.hua",
        IncomingAction::TransferInstruction {
            to: "lin.zhiyuan".into(),
            opinion: String::new(),
        },
    );
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    let e = f.err(
        "lin.zhiyuan",
        IncomingAction::TransferInstruction {
            to: "song.hua".into(),
            opinion: String::new(),
        },
    );
    assert!(is_field(&e, "to"), "{e}");
    let e = f.err("zheng.xiao", comment("  "));
    assert!(is_field(&e, "opinion"), "{e}");
    f.ok("zheng.xiao", comment("拟同意，请宋校长阅示。"));
    assert_eq!(awaited(&f), vec![Assignee::Actor("song.hua".into())]);
    // Once each.
    let e = f.err("zheng.xiao", comment("再补充一句。"));
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    f.ok("song.hua", comment("同意，请林校长批示。"));
    assert_eq!(awaited(&f), vec![Assignee::Actor("lin.zhiyuan".into())]);
    // A leader not named for the 会批 has nothing to say in it.
    let e = f.err("zhang.guoqing", comment("同意。"));
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    f.ok("lin.zhiyuan", instruct);
    assert_eq!(f.receipt().step(), Step::InHandling);
    // Every 批示 kept, in order.
    let kept: Vec<(&str, &str)> = f
        .receipt()
        .opinions()
        .iter()
        .filter(|o| o.step == "comment" || o.step == "instruct")
        .map(|o| (o.step.as_str(), o.actor.as_str()))
        .collect();
    assert_eq!(
        kept,
        [
            ("comment", "zheng.xiao"),
            ("comment", "song.hua"),
            ("instruct", "lin.zhiyuan")
        ]
    );
    assert_eq!(f.fold().as_ref(), Some(f.receipt()));
}

#[test]
fn a_joint_instruction_at_once_waits_for_every_co_leader_in_any_order() {
    let mut f = script();
    joint_instruction(&mut f, &["zheng.xiao", "song.hua"], false);
    assert_eq!(
        awaited(&f),
        vec![
            Assignee::Actor("song.hua".into()),
            Assignee::Actor("zheng.xiao".into())
        ]
    );
    f.ok("song.hua", comment("同意。"));
    assert_eq!(awaited(&f), vec![Assignee::Actor("zheng.xiao".into())]);
    let e = f.err("lin.zhiyuan", f.clone_step(INSTRUCT));
    assert!(matches!(e, Error::NotNow { .. }), "{e}");
    f.ok("zheng.xiao", comment("同意。"));
    f.steps(INSTRUCT, INSTRUCT + 1);
    assert_eq!(f.receipt().step(), Step::InHandling);
    // Once the 批示 is given, the 会批 is over.
    let e = f.err(
        "lin.zhiyuan",
        IncomingAction::CommentInstruction {
            opinion: "补充".into(),
        },
    );
    assert!(matches!(e, Error::WrongState { .. }), "{e}");
}

#[test]
fn an_instructed_receipt_goes_round_readers_while_it_is_handled() {
    let mut f = script();
    f.steps(0, INSTRUCT + 1);
    // The leader who gave the 批示 passes it round the other leaders (批示件传阅); the
    // registrar may not, the office director may.
    f.ok(
        "lin.zhiyuan",
        IncomingAction::AddReaders {
            readers: vec!["song.hua".into(), "zheng.xiao".into()],
            act_by: None,
        },
    );
    let e = f.err(
        "he.ping",
        IncomingAction::AddReaders {
            readers: vec!["chen.hong".into()],
            act_by: None,
        },
    );
    assert!(matches!(e, Error::MissingRole { .. }), "{e}");
    // 阅办: a day not past, and the reader must say what they did.
    let today = workflow_core::ids::china_date(f.clock);
    let e = f.err(
        "ding.xin",
        IncomingAction::AddReaders {
            readers: vec!["chen.hong".into()],
            act_by: Some(today - Duration::days(1)),
        },
    );
    assert!(is_field(&e, "act_by"), "{e}");
    f.ok(
        "ding.xin",
        IncomingAction::AddReaders {
            readers: vec!["chen.hong".into()],
            act_by: Some(today + Duration::days(3)),
        },
    );
    assert_eq!(
        f.receipt().acting().get(&"chen.hong".into()),
        Some(&(today + Duration::days(3)))
    );
    // The handling's to-do and the readers' side by side.
    let keys = awaited(&f);
    for reader in ["song.hua", "zheng.xiao", "chen.hong"] {
        assert!(keys.contains(&Assignee::Actor(reader.into())), "{keys:?}");
    }
    assert!(keys.contains(&Assignee::UnitRole {
        unit: "JWC".into(),
        role: Role::Handler
    }));
    f.ok(
        "song.hua",
        IncomingAction::MarkRead {
            opinion: String::new(),
        },
    );
    assert_eq!(f.receipt().step(), Step::InHandling, "the handling goes on");
    let e = f.err(
        "chen.hong",
        IncomingAction::MarkRead {
            opinion: String::new(),
        },
    );
    assert!(
        is_field(&e, "opinion"),
        "a 阅办 reader says what they did: {e}"
    );
    f.ok(
        "chen.hong",
        IncomingAction::MarkRead {
            opinion: "已按批示安排人员配合。".into(),
        },
    );
    // Completed with a reader still to read: not filed until they have.
    f.steps(INSTRUCT + 1, COMPLETE + 1);
    assert_eq!(f.receipt().step(), Step::Completed);
    assert_eq!(awaited(&f), vec![Assignee::Actor("zheng.xiao".into())]);
    let archive = f.clone_step(ARCHIVE);
    let archivist = "xu.jing";
    // Whose turn first: not an archivist's refusal says nothing of the readers.
    let e = f.err("ding.xin", archive.clone());
    assert!(matches!(e, Error::MissingRole { .. }), "{e}");
    let e = f.err(archivist, archive.clone());
    assert!(
        matches!(&e, Error::NotNow { reason, .. } if reason.contains("zheng.xiao")),
        "{e}"
    );
    f.ok(
        "zheng.xiao",
        IncomingAction::MarkRead {
            opinion: "阅。".into(),
        },
    );
    assert_eq!(awaited(&f), vec![Assignee::Role(Role::Archivist)]);
    f.ok(archivist, archive);
    assert_eq!(f.receipt().step(), Step::Archived);
    assert_eq!(f.fold().as_ref(), Some(f.receipt()));
}

/// Readers passed round beside a 批办 keep their place when the lead unit sends it back: a
/// 传阅 proposed then names others, or it would wait for someone who has read it already.
#[test]
fn a_reader_from_before_a_send_back_is_not_named_again() {
    let mut f = script();
    // Only to be read (no reply asked), but first given to a unit.
    for_reading(&mut f);
    f.ok(
        "ding.xin",
        IncomingAction::Propose {
            plan: Plan::instruct("lin.zhiyuan".into()),
            opinion: "拟请林校长阅批。".into(),
        },
    );
    let instruct = f.clone_step(INSTRUCT);
    f.ok("lin.zhiyuan", instruct);
    f.ok(
        "ding.xin",
        IncomingAction::AddReaders {
            readers: vec!["song.hua".into()],
            act_by: None,
        },
    );
    f.ok(
        "song.hua",
        IncomingAction::MarkRead {
            opinion: String::new(),
        },
    );
    f.ok(
        "fang.yu",
        IncomingAction::SendBack {
            reason: "不属本单位职责。".into(),
        },
    );
    assert_eq!(f.receipt().step(), Step::Proposing);
    let e = f.err(
        "ding.xin",
        IncomingAction::Propose {
            plan: Plan::circulate(vec!["song.hua".into()]),
            opinion: "拟请宋校长传阅。".into(),
        },
    );
    assert!(is_field(&e, "readers[0]"), "{e}");
}

#[test]
fn a_circulation_to_act_on_needs_each_readers_opinion() {
    let mut f = script();
    for_reading(&mut f);
    let today = workflow_core::ids::china_date(f.clock);
    f.ok(
        "ding.xin",
        IncomingAction::Propose {
            plan: Plan::Circulate {
                readers: vec!["fang.yu".into(), "guo.tao".into()],
                act_by: Some(today + Duration::days(5)),
            },
            opinion: "请教务处、人事处阅办。".into(),
        },
    );
    for reader in ["fang.yu", "guo.tao"] {
        let e = f.err(
            reader,
            IncomingAction::MarkRead {
                opinion: String::new(),
            },
        );
        assert!(is_field(&e, "opinion"), "{e}");
        f.ok(
            reader,
            IncomingAction::MarkRead {
                opinion: "已落实。".into(),
            },
        );
    }
    assert_eq!(f.receipt().step(), Step::Completed);
}

// ---- 归档 ----

#[test]
fn archiving_takes_the_same_fields_and_reference_form_as_outgoing() {
    let mut f = script();
    f.steps(0, ARCHIVE);
    let e = f.err(
        "fang.yu",
        IncomingAction::ArchiveIncoming {
            fonds: "J012".into(),
            retention: None,
            unit_code: "JWC".into(),
            deviation_reason: String::new(),
        },
    );
    assert!(matches!(e, Error::MissingRole { .. }), "{e}");
    // Another retention than the schedule's needs a reason.
    let e = f.err(
        "xu.jing",
        IncomingAction::ArchiveIncoming {
            fonds: "J012".into(),
            retention: Some(Retention::Permanent),
            unit_code: "JWC".into(),
            deviation_reason: String::new(),
        },
    );
    assert!(is_field(&e, "deviation_reason"), "{e}");
    f.steps(ARCHIVE, ARCHIVE + 1);
    let r = f.receipt();
    assert_eq!(r.step(), Step::Archived);
    let reference = &r.archive().unwrap().reference;
    // 年度 is the year received; 件号 from the fonds' one item series.
    assert_eq!(reference.to_string(), "J012-WS·2026-D30-JWC-0001");
}

/// The 收文登记簿's fields: 来文方式, 份数 and 份号 (a classified 收文 on paper records its
/// 份号), 重要 — which the retention schedule files longer (an important 通知: 永久).
#[test]
fn the_register_records_channel_copies_and_importance_and_importance_files_longer() {
    use workflow_core::incoming::Channel;
    let mut f = script();
    let mut registration = f.sample.registration.clone();
    registration.classification = Classification::Secret;
    registration.classification_period_years = Some(10);
    registration.channel = Some(Channel::Confidential);
    registration.copies = 2;
    let register =
        |registration: &workflow_core::incoming::Registration| IncomingAction::Register {
            registration: registration.clone(),
            unit: None,
        };
    let e = f.err("he.ping", register(&registration));
    assert!(is_field(&e, "registration.copy_numbers"), "{e}");
    registration.copy_numbers = "000121、000122".into();
    registration.important = true;
    f.ok("he.ping", register(&registration));
    let sheet = Incoming::sheet(f.receipt());
    let line = |label: &str| {
        sheet
            .fields
            .iter()
            .find(|l| l.label == label)
            .map(|l| format!("{:?}", l.parts))
            .unwrap_or_default()
    };
    assert!(line("来文方式").contains("机要"), "{sheet:?}");
    assert!(line("份数").contains('2'), "{sheet:?}");
    assert!(line("份号").contains("000121、000122"), "{sheet:?}");
    assert!(line("重要").contains("是"), "{sheet:?}");
    // Electronic, or not classified: no 份号 needed.
    f.next_receipt();
    registration.channel = Some(Channel::Electronic);
    registration.copy_numbers.clear();
    f.ok("he.ping", register(&registration));
    // Archived by the schedule: an ordinary 通知 for 30 years, an important one 永久 (the
    // sample's 30 years is then a deviation that needs its reason).
    let by_schedule = IncomingAction::ArchiveIncoming {
        fonds: "J012".into(),
        retention: None,
        unit_code: "JWC".into(),
        deviation_reason: String::new(),
    };
    for (important, retention) in [(false, Retention::Years30), (true, Retention::Permanent)] {
        let mut g = script();
        let mut registration = g.sample.registration.clone();
        registration.important = important;
        g.ok("he.ping", register(&registration));
        g.steps(1, ARCHIVE);
        if important {
            let e = g.err("xu.jing", g.clone_step(ARCHIVE));
            assert!(is_field(&e, "deviation_reason"), "{e}");
        }
        g.ok("xu.jing", by_schedule.clone());
        assert_eq!(
            g.receipt().archive().unwrap().reference.retention,
            retention,
            "important: {important}"
        );
    }
}

/// 需回执: the office records, once, that the 回执 went back; the 批办单 says whether it did.
#[test]
fn a_slip_asked_for_is_recorded_once_by_the_office() {
    let mut f = script();
    let slip = |note: &str| IncomingAction::ReturnSlip { note: note.into() };
    let line = |f: &ReceiptScript| {
        Incoming::sheet(f.receipt())
            .fields
            .iter()
            .find(|l| l.label == "回执")
            .map(|l| format!("{:?}", l.parts))
    };
    // None asked for: nothing to record, no line.
    f.steps(0, 1);
    let e = f.err("he.ping", slip(""));
    assert!(matches!(e, Error::NotNow { .. }), "{e}");
    assert_eq!(line(&f), None);
    // Asked for: not yet, then recorded by the office (not by a handler), once.
    f.next_receipt();
    let mut registration = f.sample.registration.clone();
    registration.slip_required = true;
    f.ok(
        "he.ping",
        IncomingAction::Register {
            registration,
            unit: None,
        },
    );
    assert!(line(&f).unwrap().contains("尚未回"));
    let e = f.err("fang.yu", slip(""));
    assert!(
        matches!(e, Error::MissingRole { .. } | Error::NotAssigned { .. }),
        "{e}"
    );
    f.ok("he.ping", slip(" 已传真回执 "));
    let returned = f.receipt().slip_returned().unwrap();
    assert_eq!(
        (returned.actor.as_str(), returned.text.as_str()),
        ("he.ping", "已传真回执")
    );
    assert!(line(&f).unwrap().contains("已回"));
    assert_eq!(f.receipt().step(), Step::Registered, "its handling goes on");
    let e = f.err("he.ping", slip(""));
    assert!(matches!(e, Error::NotNow { .. }), "{e}");
    assert_eq!(f.fold().as_ref(), f.state.as_ref());
    // A filed 收文 is not written to: its 回执 is recorded before 归档.
    let mut g = script();
    let mut registration = g.sample.registration.clone();
    registration.slip_required = true;
    g.ok(
        "he.ping",
        IncomingAction::Register {
            registration,
            unit: None,
        },
    );
    g.steps(1, ARCHIVE + 1);
    let e = g.err("he.ping", slip(""));
    assert!(matches!(e, Error::WrongState { .. }), "{e}");
}

#[test]
fn incoming_and_outgoing_documents_share_one_item_series() {
    // An 发文 filed with the same fonds, year and retention took item 1 before.
    let mut f = script();
    f.dir.record_numbers([(
        workflow_core::numbering::Series::Item {
            fonds: "J012".into(),
            year: 2026,
            retention: Retention::Years30,
        },
        1,
    )]);
    f.steps(0, ARCHIVE + 1);
    assert_eq!(f.receipt().archive().unwrap().reference.item, 2);
    // The next 收文 continues the same series.
    f.next_receipt();
    f.steps(0, ARCHIVE + 1);
    assert_eq!(f.receipt().archive().unwrap().reference.item, 3);
}

// ---- clearance ----

#[test]
fn clearance_rules_hold_as_for_outgoing() {
    let mut f = script();
    let mut reg = f.sample.registration.clone();
    reg.classification = Classification::TopSecret;
    reg.classification_period_years = Some(30);
    // The registrar (机密) may not register a 绝密 document.
    let e = f.err(
        "he.ping",
        IncomingAction::Register {
            registration: reg.clone(),
            unit: None,
        },
    );
    assert!(matches!(e, Error::InsufficientClearance { .. }), "{e}");
    // A 秘密 one: a reader without clearance cannot be named, nor act.
    reg.classification = Classification::Secret;
    reg.classification_period_years = Some(5);
    reg.reply_required = false; // to be circulated
    f.ok(
        "he.ping",
        IncomingAction::Register {
            registration: reg,
            unit: None,
        },
    );
    f.steps(1, 2);
    let e = f.err(
        "ding.xin",
        IncomingAction::Propose {
            plan: Plan::circulate(vec!["zhou.jie".into()]),
            opinion: "拟请传阅。".into(),
        },
    );
    assert!(
        matches!(&e, Error::NamedActorClearance { field, .. } if field == "readers[0]"),
        "{e}"
    );
    f.steps(2, 4);
    // 学生工作处's handler (非密) cannot act on it even if it were named.
    let e = f.err(
        "ye.qing",
        IncomingAction::CoInput {
            text: "意见".into(),
        },
    );
    assert!(matches!(e, Error::InsufficientClearance { .. }), "{e}");
}

// ---- the link from 发文 ----

#[test]
fn the_engine_registers_a_linked_receipt_only_with_its_source() {
    let mut f = script();
    let source = DocumentId(uuid::Uuid::from_u128(42));
    let unit: workflow_core::UnitCode = "RSC".into();
    f.id = linked_receipt_id(source, &unit);
    let mut reg = f.sample.registration.clone();
    reg.deadline = None;
    // Without a source the engine registers nothing.
    let e = f.err(
        SYSTEM_ACTOR,
        IncomingAction::Register {
            registration: reg.clone(),
            unit: Some(unit.clone()),
        },
    );
    assert!(matches!(e, Error::UnknownActor { .. }), "{e}");
    reg.source = Some(source);
    f.ok(
        SYSTEM_ACTOR,
        IncomingAction::Register {
            registration: reg,
            unit: Some(unit.clone()),
        },
    );
    let r = f.receipt();
    assert_eq!(r.registration().source, Some(source));
    assert_eq!(r.number().to_string(), "X校人收〔2026〕1号");
    // The id is derived from source and unit: another unit gets another id.
    assert_ne!(linked_receipt_id(source, &"CWC".into()), f.id);
    assert_eq!(linked_receipt_id(source, &unit), f.id);
    // An urgent linked 收文 has no deadline yet: 初审 must set one.
    let e = f.err(
        "guo.tao",
        IncomingAction::Screen {
            note: String::new(),
            deadline: None,
        },
    );
    assert!(is_field(&e, "deadline"), "{e}");
    f.ok(
        "guo.tao",
        IncomingAction::Screen {
            note: String::new(),
            deadline: Some(date(2026, 11, 20)),
        },
    );
    assert_eq!(f.receipt().deadline(), Some(date(2026, 11, 20)));
}

// ---- 催办 ----

#[test]
fn the_deadline_sweep_reminds_overdue_handling_then_escalates_to_the_leader() {
    let mut f = script();
    f.steps(0, HANDLING + 1);
    let r = f.receipt().clone();
    let due = r.due_at().unwrap();
    assert_eq!(Incoming::due(&r), Some(due));
    assert!(Incoming::reminder(&r, due - Duration::hours(1), 24).is_none());
    let first = Incoming::reminder(&r, due + Duration::hours(1), 24).unwrap();
    assert_eq!(first.reminders_before, 0);
    assert!(matches!(
        first.action,
        IncomingAction::RemindIncoming { escalate_to: None }
    ));
    f.clock = due + Duration::hours(1);
    f.ok(SYSTEM_ACTOR, first.action);
    let r = f.receipt().clone();
    // Within the interval: nothing; after it: escalated to the instructing leader.
    assert!(Incoming::reminder(&r, due + Duration::hours(5), 24).is_none());
    let second = Incoming::reminder(&r, due + Duration::hours(30), 24).unwrap();
    assert!(matches!(
        second.action,
        IncomingAction::RemindIncoming { escalate_to: Some(ref l) } if l.as_str() == "lin.zhiyuan"
    ));
    assert_ne!(first.key, second.key);
    // Nobody else may send a 催办.
    let e = f.err(
        "ding.xin",
        IncomingAction::RemindIncoming { escalate_to: None },
    );
    assert!(matches!(e, Error::MissingRole { .. }), "{e}");
}

#[test]
fn every_sample_step_is_one_event_and_folds_to_the_live_state() {
    let mut f = script();
    let n = instruct_flow(&f.sample, "J012").len();
    f.steps(0, n);
    assert_eq!(f.events.len(), n);
    assert_eq!(f.fold().as_ref(), f.state.as_ref());
    // And after a JSON round trip of every event.
    let back: Vec<_> = f
        .events
        .iter()
        .map(|e| {
            let json = serde_json::to_value(&e.data).unwrap();
            serde_json::from_value::<IncomingEvent>(json).unwrap()
        })
        .collect();
    assert_eq!(
        back,
        f.events.iter().map(|e| e.data.clone()).collect::<Vec<_>>()
    );
}
