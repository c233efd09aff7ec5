//! One test per rule of DESIGN §3c (签报), in the order the design lists them, on the test
//! kit's sample (教务处 asks for a teaching competition; 财务处 and 人事处 countersign; 会批
//! by 宋华 then 林志远, who opens a 督办 item).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use workflow_core::route::{Completion, StageSpec};
use workflow_core::submission::{Decision, MemoFields, Step, Submission, SubmissionAction};
use workflow_core::{
    Error, Flow, FlowEvent, FlowState, Recorded, directory::Classification, directory::Role,
    ids::SYSTEM_ACTOR, reactions::reactions, retention::Retention, supervision::Source,
    supervision::SupervisionAction, supervision::linked_item_id, todo::Assignee,
};
use workflow_testkit::submission::{
    ARCHIVIST, CLERK, DEPUTY, DRAFTER, FINANCE, HEAD, MemoScript, PERSONNEL, PRINCIPAL, memo_fields,
};

fn script() -> MemoScript {
    MemoScript::with_directory(common::directory())
}

/// Step indexes of the sample flow (see `memo_flow`).
const DRAFT: usize = 0;
const SUBMIT: usize = 1;
const HEAD_REVIEW: usize = 2;
const COUNTERSIGNED: usize = 4;
const ACCEPT: usize = 5;
const DEPUTY_SAYS: usize = 6;
const PRINCIPAL_SAYS: usize = 7;
const CLOSE: usize = 8;
const ARCHIVE: usize = 9;

fn is_field(e: &Error, name: &str) -> bool {
    matches!(e, Error::InvalidField { field, .. } if field == name)
}

fn returned(reason: &str) -> SubmissionAction {
    SubmissionAction::ReturnMemo {
        reason: reason.into(),
    }
}

fn endorse(decision: Decision, text: &str) -> SubmissionAction {
    SubmissionAction::EndorseMemo {
        content: None,
        decision,
        text: text.into(),
        supervise: None,
    }
}

#[test]
fn the_sample_runs_from_drafting_to_archive_through_every_step() {
    let mut f = script();
    let expected = [
        (SUBMIT, Step::Drafting),
        (HEAD_REVIEW, Step::InReview),
        (COUNTERSIGNED - 1, Step::Countersigning),
        (COUNTERSIGNED + 1, Step::OfficeReview),
        (ACCEPT + 1, Step::AwaitingInstruction),
        (DEPUTY_SAYS + 1, Step::AwaitingInstruction),
        (PRINCIPAL_SAYS + 1, Step::Decided),
        (CLOSE + 1, Step::Closed),
        (ARCHIVE + 1, Step::Archived),
    ];
    let mut done = 0;
    for (to, step) in expected {
        f.steps(done, to);
        done = to;
        assert_eq!(f.step(), step, "after step {to}");
        assert_eq!(f.fold().as_ref(), Some(f.memo()), "fold == live after {to}");
    }
    let m = f.memo();
    assert_eq!(m.unit().as_str(), "JWC");
    assert_eq!(m.number().unwrap().to_string(), "X校教签〔2026〕1号");
    assert_eq!(m.directives().len(), 2);
    assert_eq!(m.decision(), Some(Decision::AgreeWithChanges));
    let archive = m.archive().unwrap();
    // An ordinary 签报 is kept 30 years by the default schedule.
    assert_eq!(archive.reference.retention, Retention::Years30);
    assert!(m.assignees().is_empty());
    // Archived accepts nothing.
    let e = f.err(
        DRAFTER,
        SubmissionAction::CloseMemo {
            note: "再办".into(),
        },
    );
    assert!(matches!(e, Error::WrongState { .. }), "{e}");
}

// ---- 拟稿 ----

#[test]
fn only_a_drafter_drafts_and_the_title_and_the_summary_are_required() {
    let mut f = script();
    let e = f.err(
        HEAD,
        SubmissionAction::DraftMemo {
            fields: memo_fields(),
        },
    );
    assert!(
        matches!(
            e,
            Error::MissingRole {
                role: Role::Drafter,
                ..
            }
        ),
        "{e}"
    );
    for (field, change) in [
        (
            "title",
            (|m: &mut MemoFields| m.title = " ".into()) as fn(&mut MemoFields),
        ),
        ("summary", |m| m.summary = String::new()),
        ("classification_period_years", |m| {
            m.classification = Classification::Secret;
        }),
        ("classification_period_years", |m| {
            m.classification_period_years = Some(3);
        }),
    ] {
        let mut fields = memo_fields();
        change(&mut fields);
        let e = f.err(DRAFTER, SubmissionAction::DraftMemo { fields });
        assert!(is_field(&e, field), "{field}: {e}");
    }
    f.steps(DRAFT, SUBMIT);
    assert_eq!(f.step(), Step::Drafting);
    assert_eq!(f.memo().assignees(), vec![Assignee::Actor(DRAFTER.into())]);
    // Drafted once: a second draft on the same stream is refused.
    let e = f.err(
        DRAFTER,
        SubmissionAction::DraftMemo {
            fields: memo_fields(),
        },
    );
    assert!(matches!(e, Error::DocumentExists(_)), "{e}");
}

#[test]
fn the_drafter_revises_while_it_is_with_them_and_no_one_else_does() {
    let mut f = script();
    f.steps(DRAFT, SUBMIT);
    let mut fields = memo_fields();
    fields.title = "关于举办2027年青年教师教学竞赛的请示（修改稿）".into();
    let e = f.err(
        HEAD,
        SubmissionAction::ReviseMemo {
            fields: fields.clone(),
        },
    );
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    f.ok(
        DRAFTER,
        SubmissionAction::ReviseMemo {
            fields: fields.clone(),
        },
    );
    assert_eq!(f.memo().fields().title, fields.title);
    assert_eq!(f.memo().revision(), 2);
    f.steps(SUBMIT, HEAD_REVIEW);
    let e = f.err(DRAFTER, SubmissionAction::ReviseMemo { fields });
    assert!(matches!(e, Error::WrongState { .. }), "{e}");
}

// ---- 审核 and 会签 along the route ----

#[test]
fn the_route_starts_with_the_review_of_the_units_head() {
    let mut f = script();
    f.steps(DRAFT, SUBMIT);
    // Another unit's reviewer first: refused.
    let e = f.err(
        DRAFTER,
        SubmissionAction::SubmitMemo {
            route: vec![StageSpec::review("chen.hong")],
        },
    );
    assert!(is_field(&e, "route[0]"), "{e}");
    // A countersign first: refused.
    let e = f.err(
        DRAFTER,
        SubmissionAction::SubmitMemo {
            route: vec![StageSpec::countersign(["CWC"]), StageSpec::review(HEAD)],
        },
    );
    assert!(is_field(&e, "route[0]"), "{e}");
    // An empty route, or an unknown unit: refused as for 发文.
    let e = f.err(DRAFTER, SubmissionAction::SubmitMemo { route: vec![] });
    assert!(is_field(&e, "route"), "{e}");
    let e = f.err(
        DRAFTER,
        SubmissionAction::SubmitMemo {
            route: vec![StageSpec::review(HEAD), StageSpec::countersign(["NOPE"])],
        },
    );
    assert!(is_field(&e, "route[1].departments"), "{e}");
    f.steps(SUBMIT, HEAD_REVIEW);
    assert_eq!(f.step(), Step::InReview);
    assert_eq!(f.memo().assignees(), vec![Assignee::Actor(HEAD.into())]);
    // Only the stage's reviewer approves.
    let e = f.err(
        "chen.hong",
        SubmissionAction::ApproveMemo {
            content: None,
            opinion: String::new(),
            stage: None,
        },
    );
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
}

#[test]
fn a_countersign_stage_completes_under_its_rule_and_a_disagreement_returns_it() {
    let mut f = script();
    f.steps(DRAFT, HEAD_REVIEW + 1);
    assert_eq!(f.step(), Step::Countersigning);
    let waiting = f.memo().assignees();
    assert!(waiting.contains(&Assignee::UnitRole {
        unit: "CWC".into(),
        role: Role::Countersigner
    }));
    // A disagreement needs its opinion, and returns it to the drafter (会签 veto).
    let e = f.err(
        FINANCE,
        SubmissionAction::CountersignMemo {
            content: None,
            agree: false,
            opinion: String::new(),
            stage: None,
        },
    );
    assert!(is_field(&e, "opinion"), "{e}");
    f.ok(
        FINANCE,
        SubmissionAction::CountersignMemo {
            content: None,
            agree: false,
            opinion: "经费来源不明确。".into(),
            stage: None,
        },
    );
    assert_eq!(f.step(), Step::Drafting);
    // 或签: one agreement completes the stage, and the department not needed is recorded.
    f.ok(
        DRAFTER,
        SubmissionAction::SubmitMemo {
            route: vec![
                StageSpec::review(HEAD),
                StageSpec::Countersign {
                    departments: vec!["CWC".into(), "RSC".into()],
                    deadline_days: None,
                    completion: Completion::Any,
                    escalate_to: None,
                },
            ],
        },
    );
    assert_eq!(f.memo().round(), 2);
    f.steps(HEAD_REVIEW, HEAD_REVIEW + 1);
    let events = f
        .run(
            PERSONNEL,
            SubmissionAction::CountersignMemo {
                content: None,
                agree: true,
                opinion: "同意。".into(),
                stage: Some(1),
            },
        )
        .unwrap();
    assert_eq!(
        events.len(),
        2,
        "the countersign and the department not needed"
    );
    assert_eq!(f.step(), Step::OfficeReview);
    assert_eq!(f.memo().route()[1].not_needed, vec!["CWC".into()]);
}

#[test]
fn countersigning_is_by_other_units() {
    let mut f = script();
    f.steps(DRAFT, SUBMIT);
    let e = f.err(
        DRAFTER,
        SubmissionAction::SubmitMemo {
            route: vec![
                StageSpec::review(HEAD),
                StageSpec::countersign(["CWC", "JWC"]),
            ],
        },
    );
    assert!(is_field(&e, "route[1].departments"), "{e}");
}

// ---- 核稿 and the 签报编号 ----

#[test]
fn only_the_general_office_accepts_it() {
    let mut dir = common::directory();
    // A clerk of 教务处, not of the general office.
    dir.add_actor(common::actor(
        "jwc.clerk",
        "教务文秘",
        "JWC",
        &[Role::Clerk],
        Classification::Secret,
    ));
    let mut f = MemoScript::with_directory(dir);
    f.steps(DRAFT, ACCEPT);
    let e = f.err("jwc.clerk", f.action(ACCEPT));
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    // The office director may, as a clerk of the office may.
    f.ok("ding.xin", f.action(ACCEPT));
    assert_eq!(f.step(), Step::AwaitingInstruction);
}

#[test]
fn the_number_is_of_the_year_of_acceptance_and_per_unit() {
    let mut f = script();
    // Drafted on the last evening of 2026 (China time), accepted in 2027.
    f.clock = chrono::DateTime::parse_from_rfc3339("2026-12-31T20:00:00+08:00")
        .unwrap()
        .with_timezone(&chrono::Utc);
    f.steps(DRAFT, ACCEPT + 1);
    assert_eq!(f.memo().number().unwrap().to_string(), "X校教签〔2027〕1号");
    // Another unit's 签报 draws from its own series.
    f.dir.add_actor(common::actor(
        "rsc.drafter",
        "人事拟稿",
        "RSC",
        &[Role::Drafter],
        Classification::Secret,
    ));
    f.next_stream();
    f.ok(
        "rsc.drafter",
        SubmissionAction::DraftMemo {
            fields: memo_fields(),
        },
    );
    // 人事处's head: 赵敏 countersigns for RSC; make her a reviewer too for this route.
    f.dir.add_actor(common::actor(
        "rsc.head",
        "人事处长",
        "RSC",
        &[Role::Reviewer],
        Classification::Secret,
    ));
    f.ok(
        "rsc.drafter",
        SubmissionAction::SubmitMemo {
            route: vec![StageSpec::review("rsc.head")],
        },
    );
    f.ok(
        "rsc.head",
        SubmissionAction::ApproveMemo {
            content: None,
            opinion: String::new(),
            stage: None,
        },
    );
    f.ok(CLERK, f.action(ACCEPT));
    assert_eq!(f.memo().number().unwrap().to_string(), "X校人签〔2027〕1号");
}

#[test]
fn the_office_accepts_it_naming_leaders_and_the_number_is_drawn_once() {
    let mut f = script();
    f.steps(DRAFT, ACCEPT);
    assert_eq!(f.step(), Step::OfficeReview);
    assert_eq!(
        f.memo().assignees(),
        vec![
            Assignee::OfficeRole(Role::Clerk),
            Assignee::OfficeRole(Role::OfficeDirector)
        ]
    );
    let accept = |leaders: Vec<&str>, opinion: &str| SubmissionAction::AcceptMemo {
        opinion: opinion.into(),
        leaders: leaders.into_iter().map(Into::into).collect(),
    };
    // Not the office: the unit's own reviewer.
    let e = f.err(HEAD, accept(vec![DEPUTY], "拟同意。"));
    assert!(matches!(e, Error::MissingRole { .. }), "{e}");
    // The office's 拟办意见 is required; leaders are leaders, named once.
    let e = f.err(CLERK, accept(vec![DEPUTY], " "));
    assert!(is_field(&e, "opinion"), "{e}");
    let e = f.err(CLERK, accept(vec![], "拟同意。"));
    assert!(is_field(&e, "leaders"), "{e}");
    let e = f.err(CLERK, accept(vec![HEAD], "拟同意。"));
    assert!(matches!(e, Error::NamedActorMissingRole { .. }), "{e}");
    let e = f.err(CLERK, accept(vec![DEPUTY, DEPUTY], "拟同意。"));
    assert!(is_field(&e, "leaders[1]"), "{e}");
    f.steps(ACCEPT, ACCEPT + 1);
    let number = f.memo().number().cloned().unwrap();
    assert_eq!(number.to_string(), "X校教签〔2026〕1号");
    assert_eq!(f.memo().leader().unwrap().as_str(), DEPUTY);
    // Returned by the leader and accepted again: the same number, none drawn.
    f.ok(DEPUTY, returned("请补充往届竞赛成效。"));
    assert_eq!(f.step(), Step::Drafting);
    f.ok(
        DRAFTER,
        SubmissionAction::SubmitMemo {
            route: vec![StageSpec::review(HEAD)],
        },
    );
    f.ok(
        HEAD,
        SubmissionAction::ApproveMemo {
            content: None,
            opinion: String::new(),
            stage: None,
        },
    );
    let events = f.run(CLERK, accept(vec![PRINCIPAL], "拟同意。")).unwrap();
    assert!(
        events
            .iter()
            .all(|e| Submission::number_claim(&e.data).is_none())
    );
    assert_eq!(f.memo().number(), Some(&number));
    // The next 签报 of the unit in the year takes the next number.
    f.next_stream();
    f.steps(DRAFT, ACCEPT + 1);
    assert_eq!(f.memo().number().unwrap().to_string(), "X校教签〔2026〕2号");
}

#[test]
fn a_unit_may_name_its_own_memo_prefix() {
    let mut dir = common::directory();
    let mut unit = workflow_core::Context::unit(&dir, &"JWC".into()).unwrap();
    unit.memo_prefix = Some("教务签".into());
    dir.add_unit(unit);
    let mut f = MemoScript::with_directory(dir);
    f.steps(DRAFT, ACCEPT + 1);
    assert_eq!(f.memo().number().unwrap().to_string(), "教务签〔2026〕1号");
}

// ---- 批示: 会批, 转批, 退回 ----

#[test]
fn leaders_instruct_in_turn_and_the_last_decides() {
    let mut f = script();
    f.steps(DRAFT, DEPUTY_SAYS);
    // Not yet the principal's turn.
    let e = f.err(PRINCIPAL, endorse(Decision::Agree, "同意。"));
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    let e = f.err(DEPUTY, endorse(Decision::Agree, " "));
    assert!(is_field(&e, "text"), "{e}");
    f.steps(DEPUTY_SAYS, DEPUTY_SAYS + 1);
    assert_eq!(f.memo().leader().unwrap().as_str(), PRINCIPAL);
    assert_eq!(
        f.memo().decision(),
        None,
        "not decided before the last leader"
    );
    f.ok(PRINCIPAL, endorse(Decision::Disagree, "暂缓举办。"));
    assert_eq!(f.step(), Step::Decided);
    assert_eq!(f.memo().decision(), Some(Decision::Disagree));
    // The unit reads the result: its drafter and its head have it to close.
    let waiting = f.memo().assignees();
    assert!(waiting.contains(&Assignee::Actor(DRAFTER.into())));
    assert!(waiting.contains(&Assignee::UnitRole {
        unit: "JWC".into(),
        role: Role::Reviewer
    }));
    let e = f.err(
        FINANCE,
        SubmissionAction::CloseMemo {
            note: String::new(),
        },
    );
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    f.ok(
        HEAD,
        SubmissionAction::CloseMemo {
            note: String::new(),
        },
    );
    assert_eq!(f.step(), Step::Closed);
}

#[test]
fn a_leader_refers_it_to_another_leader_or_returns_it_with_a_reason() {
    let mut f = script();
    f.steps(DRAFT, ACCEPT);
    f.ok(
        CLERK,
        SubmissionAction::AcceptMemo {
            opinion: "请宋副校长批示。".into(),
            leaders: vec![DEPUTY.into()],
        },
    );
    let refer = |to: &str| SubmissionAction::ReferMemo {
        to: to.into(),
        opinion: "请林校长阅批。".into(),
    };
    let e = f.err(DEPUTY, refer(DEPUTY));
    assert!(is_field(&e, "to"), "{e}");
    let e = f.err(DEPUTY, refer(HEAD));
    assert!(matches!(e, Error::NamedActorMissingRole { .. }), "{e}");
    f.ok(DEPUTY, refer(PRINCIPAL));
    assert_eq!(f.memo().leader().unwrap().as_str(), PRINCIPAL);
    let e = f.err(DEPUTY, endorse(Decision::Agree, "同意。"));
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    // 退回 needs a reason, and goes back to the drafter.
    let e = f.err(PRINCIPAL, returned(""));
    assert!(is_field(&e, "reason"), "{e}");
    f.ok(PRINCIPAL, returned("请先与财务处核实经费。"));
    assert_eq!(f.step(), Step::Drafting);
    assert!(f.memo().pending_leaders().is_empty());
    assert_eq!(
        f.memo().opinions().last().unwrap().text,
        "请先与财务处核实经费。"
    );
}

// ---- 督办 from a 批示 (批必查) ----

#[test]
fn the_deciding_instruction_may_open_one_supervision_item() {
    let mut f = script();
    f.steps(DRAFT, DEPUTY_SAYS);
    let order = workflow_testkit::submission::memo_supervise(f.deadline());
    let with = |decision, text: &str, order: &workflow_core::submission::Supervise| {
        SubmissionAction::EndorseMemo {
            content: None,
            decision,
            text: text.into(),
            supervise: Some(order.clone()),
        }
    };
    // In 会批 only the last leader's 批示 decides, so only it opens an item.
    let e = f.err(DEPUTY, with(Decision::Agree, "同意，列入督办。", &order));
    assert!(is_field(&e, "supervise"), "{e}");
    f.ok(DEPUTY, endorse(Decision::Agree, "同意，请林校长审批。"));
    // Only a 批示 that agrees opens one.
    let e = f.err(PRINCIPAL, with(Decision::Disagree, "不同意。", &order));
    assert!(is_field(&e, "supervise"), "{e}");
    // A deadline in the past, or an unknown unit, is refused.
    let mut past = order.clone();
    past.deadline = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let e = f.err(PRINCIPAL, with(Decision::Agree, "同意。", &past));
    assert!(is_field(&e, "supervise.deadline"), "{e}");
    let mut nowhere = order.clone();
    nowhere.co_units = vec!["NOPE".into()];
    let e = f.err(PRINCIPAL, with(Decision::Agree, "同意。", &nowhere));
    assert!(is_field(&e, "supervise.co_units[0]"), "{e}");
    f.ok(PRINCIPAL, with(Decision::Agree, "同意，列入督办。", &order));
    let item = linked_item_id(f.memo().id(), f.memo().version());
    assert_eq!(f.memo().supervision_items(), &[item]);
    // The reaction opens it: the 签报's title, the 批示 as 任务要求, the unit as 主办.
    let state = FlowState::Submission(f.memo().clone());
    let last = f.events.last().unwrap().clone();
    let event = Recorded {
        actor: last.actor,
        at: last.at,
        data: FlowEvent::from(last.data),
    };
    let out = reactions(&state, &event, 42);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].document_id, item);
    assert_eq!(out[0].command_id, "supervise:42");
    let workflow_core::FlowAction::Supervision(SupervisionAction::OpenItem { spec }) =
        out[0].action.clone()
    else {
        panic!("not an item: {:?}", out[0].action);
    };
    assert_eq!(
        spec.source,
        Source::Submission {
            submission: f.memo().id()
        }
    );
    assert_eq!(spec.lead_unit.as_str(), "JWC");
    assert_eq!(spec.co_units, vec!["CWC".into()]);
    assert_eq!(spec.requirements, "同意，列入督办。");
    assert_eq!(spec.leader.as_str(), PRINCIPAL);
    // The engine opens it; a supervisor may not open such an item by hand.
    let mut items = workflow_testkit::supervision::ItemScript::with_directory(common::directory());
    let supervisor = workflow_testkit::supervision::SUPERVISOR;
    let e = items.err(
        supervisor,
        SupervisionAction::OpenItem { spec: spec.clone() },
    );
    assert!(is_field(&e, "spec.source"), "{e}");
    items.ok(SYSTEM_ACTOR, SupervisionAction::OpenItem { spec });
}

#[test]
fn a_leader_who_is_no_longer_one_opens_no_item() {
    let mut f = script();
    f.steps(DRAFT, PRINCIPAL_SAYS);
    // 林志远 lost the Leader role after the office named him: his turn stays, but the item
    // would name a 牵头领导 who is none, so asking for one is refused.
    f.dir.add_actor(common::actor(
        PRINCIPAL,
        "林志远",
        "XB",
        &[],
        Classification::TopSecret,
    ));
    let e = f.err(PRINCIPAL, f.action(PRINCIPAL_SAYS));
    assert!(
        matches!(
            e,
            Error::MissingRole {
                role: Role::Leader,
                ..
            }
        ),
        "{e}"
    );
    f.ok(PRINCIPAL, endorse(Decision::Agree, "同意。"));
    assert!(f.memo().supervision_items().is_empty());
}

// ---- 作废, clearance, 归档 ----

#[test]
fn the_drafter_voids_it_only_before_the_offices_review() {
    let mut f = script();
    f.steps(DRAFT, HEAD_REVIEW);
    let void = |reason: &str| SubmissionAction::VoidMemo {
        reason: reason.into(),
    };
    let e = f.err(DRAFTER, void(""));
    assert!(is_field(&e, "reason"), "{e}");
    let e = f.err(HEAD, void("不再需要。"));
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    f.ok(DRAFTER, void("活动取消。"));
    assert_eq!(f.step(), Step::Voided);
    assert!(f.memo().assignees().is_empty());
    f.next_stream();
    f.steps(DRAFT, ACCEPT);
    let e = f.err(DRAFTER, void("活动取消。"));
    assert!(matches!(e, Error::WrongState { .. }), "{e}");
    // Accepted, then returned by a leader: back with its drafter, but numbered, so it goes
    // on (or is closed) rather than being voided.
    f.steps(ACCEPT, ACCEPT + 1);
    f.ok(DEPUTY, returned("请补充预算明细。"));
    assert_eq!(f.step(), Step::Drafting);
    let e = f.err(DRAFTER, void("活动取消。"));
    assert!(matches!(e, Error::NotNow { .. }), "{e}");
}

#[test]
fn a_classified_memo_is_for_cleared_actors_only() {
    // The fixture's directory alone: XSC's one countersigner holds no clearance.
    let mut f = MemoScript::with_directory(workflow_testkit::directory());
    let mut fields = memo_fields();
    fields.classification = Classification::Confidential;
    fields.classification_period_years = Some(10);
    // 王芳 holds 秘密 only: she may not draft a 机密 one.
    let e = f.err(DRAFTER, SubmissionAction::DraftMemo { fields });
    assert!(matches!(e, Error::InsufficientClearance { .. }), "{e}");
    let mut fields = memo_fields();
    fields.classification = Classification::Secret;
    fields.classification_period_years = Some(5);
    f.ok(DRAFTER, SubmissionAction::DraftMemo { fields });
    // 周杰 (XSC) has no clearance: XSC cannot countersign it, so such a route is refused.
    let e = f.err(
        DRAFTER,
        SubmissionAction::SubmitMemo {
            route: vec![StageSpec::review(HEAD), StageSpec::countersign(["XSC"])],
        },
    );
    assert!(is_field(&e, "route[1].departments"), "{e}");
}

#[test]
fn an_important_memo_is_kept_permanently_and_only_the_archivist_files_it() {
    let mut f = script();
    let mut fields = memo_fields();
    fields.important = true;
    f.ok(DRAFTER, SubmissionAction::DraftMemo { fields });
    f.steps(SUBMIT, ARCHIVE);
    let e = f.err(DRAFTER, f.action(ARCHIVE));
    assert!(matches!(e, Error::MissingRole { .. }), "{e}");
    f.ok(ARCHIVIST, f.action(ARCHIVE));
    let a = f.memo().archive().unwrap();
    assert_eq!(a.reference.retention, Retention::Permanent);
    assert_eq!(a.reference.year, 2026);
    assert!(a.reference.to_string().starts_with("J012-WS·2026-Y-JWC-"));
}

// ---- deadlines and 催办 ----

#[test]
fn an_overdue_stage_is_reminded_once_per_interval_by_the_sweep_only() {
    let mut f = script();
    f.steps(DRAFT, SUBMIT);
    f.ok(
        DRAFTER,
        SubmissionAction::SubmitMemo {
            route: vec![StageSpec::review(HEAD).with_deadline(2)],
        },
    );
    let due = f.memo().current().unwrap().1.due_at.unwrap();
    assert_eq!(Submission::due(f.memo()), Some(due));
    assert!(
        Submission::reminder(f.memo(), due, 24).is_none(),
        "not yet overdue"
    );
    let later = due + chrono::Duration::hours(1);
    let r = Submission::reminder(f.memo(), later, 24).unwrap();
    f.clock = later;
    // A person may not send the sweep's 催办.
    let e = f.err(HEAD, r.action.clone());
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    f.ok(SYSTEM_ACTOR, r.action.clone());
    assert_eq!(f.memo().reminders(), 1);
    // Within the interval: not again.
    assert!(Submission::reminder(f.memo(), f.clock, 24).is_none());
    let e = f.err(SYSTEM_ACTOR, r.action);
    assert!(matches!(e, Error::NotNow { .. }), "{e}");
    // The system does nothing else.
    let e = f.err(SYSTEM_ACTOR, returned("系统退回"));
    assert!(matches!(e, Error::UnknownActor { .. }), "{e}");
}
