//! Route flexibility (DESIGN §2b): completion rules, 加签/减签 on live stages, 转办/委派,
//! return to any earlier stage, and deadline reminders — including the awkward cases.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use chrono::Duration;
use common::*;
use workflow_core::EventCodec;
use workflow_core::{
    Error, directory::Classification, directory::Role, outgoing::Action, outgoing::EventData,
    outgoing::State, route::Completion, route::StageSpec, todo::Assignee,
};

fn cs(units: &[&str], completion: Completion) -> StageSpec {
    StageSpec::Countersign {
        departments: units.iter().map(|u| (*u).into()).collect(),
        deadline_days: None,
        completion,
        escalate_to: None,
    }
}

fn submitted_with(route: Vec<StageSpec>) -> Flow {
    let mut f = flow();
    f.drafted()
        .ok("wang.fang", Action::SubmitForReview { route });
    f
}

fn last_types(f: &Flow, n: usize) -> Vec<&'static str> {
    f.events[f.events.len() - n..]
        .iter()
        .map(|e| e.data.type_name())
        .collect()
}

// ---- the stage a command is meant for ----

#[test]
fn a_countersign_meant_for_a_completed_stage_is_refused_not_recorded_on_the_next() {
    // 或签 RSC/CWC/XSC, then 会签 RSC/KYC: CWC's agreement completes the 或签 a moment
    // before RSC's countersign, meant for it, arrives.
    let mut f = submitted_with(vec![
        cs(&["RSC", "CWC", "XSC"], Completion::Any),
        cs(&["RSC", "KYC"], Completion::All),
    ]);
    f.ok(
        "sun.li",
        Action::Countersign {
            content: None,
            agree: true,
            opinion: "同意".into(),
            stage: Some(0),
        },
    );
    assert_eq!(f.doc().current().map(|(i, _)| i), Some(1));
    // `err` also checks that the refused command changed nothing.
    let e = f.err(
        "zhao.min",
        Action::Countersign {
            content: None,
            agree: true,
            opinion: "同意（针对第一环节）".into(),
            stage: Some(0),
        },
    );
    assert_eq!(e.class(), workflow_core::ErrorClass::FailedPrecondition);
    assert_eq!(e.reason(), "STAGE_NOT_CURRENT");
    assert_eq!(
        e.to_string(),
        "Countersign was meant for stage index 0 (第1环节), which is completed; the document \
         is now at stage index 1 (第2环节), a countersign by RSC, KYC"
    );
    assert!(f.doc().route()[1].countersigns.is_empty());
    // Without the stage, the same countersign lands on the next stage: what the guard is for.
    f.ok("zhao.min", agree("同意"));
    assert_eq!(f.doc().route()[1].countersigns.len(), 1);
}

#[test]
fn every_stage_action_is_refused_when_its_stage_is_no_longer_current() {
    let mut f = submitted_with(vec![
        StageSpec::review("li.qiang"),
        StageSpec::review("chen.hong"),
    ]);
    f.ok(
        "li.qiang",
        Action::Approve {
            content: None,
            opinion: "同意".into(),
            stage: Some(0),
        },
    );
    // li.qiang's second click, and the other stage actions meant for stage 0.
    let stale: Vec<(&str, Action)> = vec![
        (
            "li.qiang",
            Action::Approve {
                content: None,
                opinion: "同意".into(),
                stage: Some(0),
            },
        ),
        (
            "chen.hong",
            Action::Return {
                reason: "请修改".into(),
                stage: Some(0),
            },
        ),
        (
            "chen.hong",
            Action::Reassign {
                to: "li.qiang".into(),
                reason: String::new(),
                stage: Some(0),
            },
        ),
        (
            "chen.hong",
            Action::Delegate {
                to: "li.qiang".into(),
                reason: String::new(),
                stage: Some(0),
            },
        ),
        (
            "liu.yang",
            Action::AddReviewer {
                reviewer: "li.qiang".into(),
                before: false,
                stage: Some(0),
            },
        ),
        (
            "chen.hong",
            Action::ReturnToStage {
                stage: 0,
                reason: "重审".into(),
                from_stage: Some(0),
            },
        ),
    ];
    for (actor, action) in stale {
        let name = action.name();
        let e = f.err(actor, action);
        assert!(
            matches!(e, Error::StageNotCurrent { meant: 0, .. }),
            "{name}: {e}"
        );
    }
    // Meant for the stage that is current: accepted.
    f.ok(
        "chen.hong",
        Action::Approve {
            content: None,
            opinion: "同意".into(),
            stage: Some(1),
        },
    );
    // At sign-off no route stage is current: a return meant for a stage is refused, one
    // without a stage is a return from sign-off.
    let e = f.err(
        "huang.wei",
        Action::Return {
            reason: "请修改".into(),
            stage: Some(1),
        },
    );
    assert!(
        e.to_string()
            .contains("the document is now awaiting sign-off (待签发), after the last stage"),
        "{e}"
    );
    // A stage the route does not have.
    let e = f.err(
        "huang.wei",
        Action::Return {
            reason: "请修改".into(),
            stage: Some(7),
        },
    );
    assert!(e.to_string().contains("which is not in the route"), "{e}");
}

// ---- completion rules ----

#[test]
fn any_completes_on_the_first_agreement_and_records_the_rest_as_not_needed() {
    let mut f = submitted_with(vec![
        cs(&["RSC", "CWC", "XSC"], Completion::Any),
        StageSpec::review("chen.hong"),
    ]);
    // A disagreement alone does not return a 或签 stage.
    f.ok("zhao.min", disagree("人事处意见：暂缓"));
    assert_eq!(f.state(), State::Countersigning);
    f.ok("sun.li", agree("同意"));
    assert_eq!(f.state(), State::InReview);
    assert_eq!(
        last_types(&f, 2),
        ["Countersigned", "CountersignersNotNeeded"]
    );
    let stage = &f.doc().route()[0];
    assert_eq!(stage.not_needed, vec![unit("XSC")]);
    assert!(stage.completed);
    // XSC can no longer sign: the stage is over.
    let e = f.err("zhou.jie", agree("同意"));
    assert!(
        matches!(
            e,
            Error::WrongState {
                state: "InReview",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn any_returns_only_when_every_department_disagrees() {
    let mut f = submitted_with(vec![cs(&["RSC", "CWC"], Completion::Any)]);
    f.ok("zhao.min", disagree("不同意"));
    assert_eq!(f.state(), State::Countersigning);
    f.ok("sun.li", disagree("不同意"));
    assert_eq!(f.state(), State::Drafting);
}

#[test]
fn ratio_completes_at_the_threshold_and_returns_once_out_of_reach() {
    // 60% of 3 departments: two agreements.
    let mut f = submitted_with(vec![cs(
        &["RSC", "CWC", "XSC"],
        Completion::Ratio { percent: 60 },
    )]);
    f.ok("zhao.min", agree("同意"));
    assert_eq!(f.state(), State::Countersigning);
    f.ok("sun.li", agree("同意"));
    assert_eq!(f.state(), State::AwaitingSignOff);
    assert_eq!(f.doc().route()[0].not_needed, vec![unit("XSC")]);
    // Two disagreements make 60% unreachable: back to the drafter at once.
    let mut f = submitted_with(vec![cs(
        &["RSC", "CWC", "XSC"],
        Completion::Ratio { percent: 60 },
    )]);
    f.ok("zhao.min", disagree("不同意"));
    assert_eq!(f.state(), State::Countersigning);
    f.ok("sun.li", disagree("不同意"));
    assert_eq!(f.state(), State::Drafting);
    assert_eq!(
        last_types(&f, 2),
        ["Countersigned", "CountersignersNotNeeded"]
    );
}

#[test]
fn all_keeps_veto_semantics() {
    let mut f = submitted_with(vec![cs(&["RSC", "CWC", "XSC"], Completion::All)]);
    f.ok("zhao.min", agree("同意"))
        .ok("sun.li", disagree("不同意"));
    assert_eq!(f.state(), State::Drafting);
}

#[test]
fn a_ratio_outside_1_to_100_and_an_unknown_escalation_are_refused() {
    let mut f = flow();
    f.drafted();
    let e = f.err(
        "wang.fang",
        Action::SubmitForReview {
            route: vec![cs(&["RSC"], Completion::Ratio { percent: 0 })],
        },
    );
    assert!(
        matches!(e, Error::InvalidField { ref field, .. } if field == "route[0].completion"),
        "{e}"
    );
    let e = f.err(
        "wang.fang",
        Action::SubmitForReview {
            route: vec![cs(&["RSC"], Completion::Ratio { percent: 101 })],
        },
    );
    assert!(
        matches!(e, Error::InvalidField { ref field, .. } if field == "route[0].completion"),
        "{e}"
    );
    let route = vec![StageSpec::Review {
        reviewer: "li.qiang".into(),
        deadline_days: Some(1),
        escalate_to: Some("ghost".into()),
    }];
    let e = f.err("wang.fang", Action::SubmitForReview { route });
    assert!(
        matches!(e, Error::InvalidField { ref field, .. } if field == "route[0].escalate_to"),
        "{e}"
    );
}

// ---- 加签 / 减签 ----

#[test]
fn adding_a_countersigner_to_a_stage_that_just_completed_is_refused_clearly() {
    let mut f = submitted_with(vec![
        StageSpec::review("li.qiang"),
        cs(&["RSC"], Completion::All),
        StageSpec::review("chen.hong"),
    ]);
    f.ok("li.qiang", approve("同意"))
        .ok("zhao.min", agree("同意"));
    assert_eq!(f.state(), State::InReview);
    // The office meant stage 2, which completed a moment ago.
    let e = f.err(
        "liu.yang",
        Action::AddCountersigner {
            unit: "KYC".into(),
            stage: Some(1),
        },
    );
    assert!(
        matches!(
            e,
            Error::WrongState {
                state: "InReview",
                ..
            }
        ),
        "{e}"
    );
    // Had a later countersign stage been current, the stage index still guards it.
    let mut g = submitted_with(vec![
        cs(&["RSC"], Completion::All),
        cs(&["CWC"], Completion::All),
    ]);
    g.ok("zhao.min", agree("同意"));
    let e = g.err(
        "liu.yang",
        Action::AddCountersigner {
            unit: "KYC".into(),
            stage: Some(0),
        },
    );
    assert!(
        matches!(
            e,
            Error::StageNotCurrent {
                meant: 0,
                was: "completed",
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(e.class(), workflow_core::ErrorClass::FailedPrecondition);
    assert_eq!(
        e.to_string(),
        "AddCountersigner was meant for stage index 0 (第1环节), which is completed; \
         the document is now at stage index 1 (第2环节), a countersign by CWC"
    );
    g.ok(
        "liu.yang",
        Action::AddCountersigner {
            unit: "KYC".into(),
            stage: Some(1),
        },
    );
}

#[test]
fn removing_the_last_pending_department_completes_the_stage() {
    let mut f = submitted_with(vec![
        cs(&["RSC", "CWC", "XSC"], Completion::All),
        StageSpec::review("chen.hong"),
    ]);
    f.ok("zhao.min", agree("同意")).ok("sun.li", agree("同意"));
    // The drafter owns a countersign stage.
    f.ok(
        "wang.fang",
        Action::RemoveCountersigner {
            unit: "XSC".into(),
            stage: Some(0),
        },
    );
    assert_eq!(f.state(), State::InReview);
    assert_eq!(
        f.doc().route()[0].spec,
        StageSpec::countersign(["RSC", "CWC"])
    );
    assert!(f.doc().route()[0].completed);
}

#[test]
fn removing_a_department_that_acted_or_the_only_one_is_refused() {
    let mut f = submitted_with(vec![cs(&["RSC", "CWC"], Completion::All)]);
    f.ok("zhao.min", agree("同意"));
    let e = f.err(
        "liu.yang",
        Action::RemoveCountersigner {
            unit: "RSC".into(),
            stage: None,
        },
    );
    assert!(
        e.to_string().contains("RSC has already countersigned"),
        "{e}"
    );
    let e = f.err(
        "liu.yang",
        Action::RemoveCountersigner {
            unit: "KYC".into(),
            stage: None,
        },
    );
    assert!(matches!(e, Error::InvalidField { .. }), "{e}");
    let e = f.err(
        "zhou.jie",
        Action::RemoveCountersigner {
            unit: "CWC".into(),
            stage: None,
        },
    );
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    let mut g = submitted_with(vec![cs(&["RSC"], Completion::All)]);
    let e = g.err(
        "liu.yang",
        Action::RemoveCountersigner {
            unit: "RSC".into(),
            stage: None,
        },
    );
    assert!(e.to_string().contains("only department"), "{e}");
}

#[test]
fn a_reviewer_is_added_before_or_after_the_current_one() {
    let mut f = submitted_with(vec![StageSpec::review("li.qiang")]);
    // Before: chen.hong acts first, then li.qiang again.
    f.ok(
        "liu.yang",
        Action::AddReviewer {
            stage: None,
            reviewer: "chen.hong".into(),
            before: true,
        },
    );
    assert_eq!(
        f.doc().assignees(|_| true),
        vec![Assignee::Actor("chen.hong".into())]
    );
    let e = f.err("li.qiang", approve("同意"));
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    f.ok("chen.hong", approve("同意"));
    assert_eq!(
        f.doc().assignees(|_| true),
        vec![Assignee::Actor("li.qiang".into())]
    );
    // After: the current reviewer adds a second opinion after themselves.
    f.ok(
        "li.qiang",
        Action::AddReviewer {
            stage: None,
            reviewer: "chen.hong".into(),
            before: false,
        },
    );
    f.ok("li.qiang", approve("同意"));
    assert_eq!(f.state(), State::InReview);
    f.ok("chen.hong", approve("同意"));
    assert_eq!(f.state(), State::AwaitingSignOff);
    assert_eq!(f.doc().route().len(), 3);
    // Only the office or the current reviewer; the added reviewer must qualify.
    let mut g = submitted_with(vec![StageSpec::review("li.qiang")]);
    let e = g.err(
        "wang.fang",
        Action::AddReviewer {
            stage: None,
            reviewer: "chen.hong".into(),
            before: true,
        },
    );
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    let e = g.err(
        "liu.yang",
        Action::AddReviewer {
            stage: None,
            reviewer: "zhao.min".into(),
            before: true,
        },
    );
    // Who may act: PERMISSION_DENIED, naming the field and the role.
    assert_eq!(
        e,
        Error::NamedActorMissingRole {
            field: "reviewer".into(),
            actor: "zhao.min".into(),
            role: workflow_core::directory::Role::Reviewer,
        }
    );
    assert_eq!(e.class(), workflow_core::ErrorClass::PermissionDenied);
}

// ---- 转办 / 委派 ----

#[test]
fn reassign_moves_the_task_for_good() {
    let mut f = submitted_with(vec![
        StageSpec::review("li.qiang"),
        StageSpec::review("chen.hong"),
    ]);
    f.ok(
        "li.qiang",
        Action::Reassign {
            stage: None,
            to: "chen.hong".into(),
            reason: "出差，转陈红办理".into(),
        },
    );
    assert_eq!(
        f.doc().assignees(|_| true),
        vec![Assignee::Actor("chen.hong".into())]
    );
    assert!(matches!(
        f.err("li.qiang", approve("同意")),
        Error::NotAssigned { .. }
    ));
    f.ok("chen.hong", approve("同意"));
    assert_eq!(f.doc().current().map(|(i, _)| i), Some(1));
    assert!(f.events.iter().any(|e| matches!(&e.data, EventData::Reassigned { from, to, .. } if from.as_str() == "li.qiang" && to.as_str() == "chen.hong")));
    // The office may reassign too; to the same reviewer is refused.
    let e = f.err(
        "liu.yang",
        Action::Reassign {
            stage: None,
            to: "chen.hong".into(),
            reason: String::new(),
        },
    );
    assert!(e.to_string().contains("already has this task"), "{e}");
}

#[test]
fn delegate_acts_then_the_task_comes_back_to_confirm() {
    let mut f = submitted_with(vec![StageSpec::review("li.qiang")]);
    f.ok(
        "li.qiang",
        Action::Delegate {
            stage: None,
            to: "chen.hong".into(),
            reason: "请先核稿".into(),
        },
    );
    assert_eq!(
        f.doc().assignees(|_| true),
        vec![Assignee::Actor("chen.hong".into())]
    );
    // While delegated, the delegator waits.
    let e = f.err("li.qiang", approve("同意"));
    assert!(
        e.to_string()
            .contains("only chen.hong, the delegate of stage index 0 (第1环节)"),
        "{e}"
    );
    f.ok("chen.hong", approve("核稿无误"));
    assert_eq!(last_types(&f, 1), ["DelegateReported"]);
    assert_eq!(f.state(), State::InReview);
    assert_eq!(
        f.doc().assignees(|_| true),
        vec![Assignee::Actor("li.qiang".into())]
    );
    f.ok("li.qiang", approve("同意"));
    assert_eq!(f.state(), State::AwaitingSignOff);
    let steps: Vec<&str> = f.doc().opinions().iter().map(|o| o.step.as_str()).collect();
    assert_eq!(steps, ["delegate", "delegate_report", "review"]);
}

#[test]
fn a_delegate_who_disagrees_reports_and_the_delegator_decides() {
    let mut f = submitted_with(vec![StageSpec::review("li.qiang")]);
    f.ok(
        "li.qiang",
        Action::Delegate {
            stage: None,
            to: "chen.hong".into(),
            reason: String::new(),
        },
    );
    f.ok("chen.hong", ret("数据有误"));
    assert_eq!(
        f.state(),
        State::InReview,
        "a delegate's return is a report, not a return"
    );
    f.ok("li.qiang", ret("按核稿意见修改"));
    assert_eq!(f.state(), State::Drafting);
}

#[test]
fn delegating_to_an_actor_without_clearance_is_refused() {
    let mut f = flow();
    f.drafted_with(workflow_core::outgoing::DraftFields {
        classification: Classification::Secret,
        classification_period_years: Some(5),
        ..fields()
    });
    f.ok(
        "wang.fang",
        Action::SubmitForReview {
            route: vec![StageSpec::review("li.qiang")],
        },
    );
    let e = f.err(
        "li.qiang",
        Action::Delegate {
            stage: None,
            to: "low.clearance".into(),
            reason: String::new(),
        },
    );
    assert!(
        matches!(e, Error::NamedActorClearance { ref field, .. } if field == "to"),
        "{e}"
    );
    assert_eq!(e.class(), workflow_core::ErrorClass::PermissionDenied);
    assert!(
        e.to_string()
            .contains("whose clearance None is below the document's Secret"),
        "{e}"
    );
    let e = f.err(
        "li.qiang",
        Action::Delegate {
            stage: None,
            to: "li.qiang".into(),
            reason: String::new(),
        },
    );
    assert!(matches!(e, Error::InvalidField { .. }), "{e}");
    let e = f.err(
        "chen.hong",
        Action::Delegate {
            stage: None,
            to: "li.qiang".into(),
            reason: String::new(),
        },
    );
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
}

// ---- return to any earlier stage ----

#[test]
fn return_to_stage_1_from_sign_off_runs_the_later_stages_again() {
    let mut f = flow();
    f.awaiting_sign_off();
    let before = f.doc().opinions().len();
    let e = f.err(
        "huang.wei",
        Action::ReturnToStage {
            from_stage: None,
            stage: 3,
            reason: "x".into(),
        },
    );
    assert!(
        matches!(e, Error::InvalidField { ref field, .. } if field == "stage"),
        "{e}"
    );
    let e = f.err(
        "zhao.min",
        Action::ReturnToStage {
            from_stage: None,
            stage: 0,
            reason: "x".into(),
        },
    );
    assert!(matches!(e, Error::MissingRole { .. }), "{e}");
    f.ok(
        "huang.wei",
        Action::ReturnToStage {
            from_stage: None,
            stage: 0,
            reason: "请重新核稿".into(),
        },
    );
    assert_eq!(f.state(), State::InReview);
    assert_eq!(f.doc().current().map(|(i, _)| i), Some(0));
    assert!(
        f.doc()
            .route()
            .iter()
            .all(|s| !s.completed && s.countersigns.is_empty())
    );
    // Every earlier opinion stays; the route runs again, countersigns included.
    assert_eq!(f.doc().opinions().len(), before + 1);
    f.ok("li.qiang", approve("同意"))
        .ok("zhao.min", agree("同意"))
        .ok("sun.li", agree("同意"))
        .ok("zhou.jie", agree("同意"))
        .ok("chen.hong", approve("同意"))
        .ok("huang.wei", sign("同意印发。"));
    assert_eq!(f.state(), State::SignedOff);
}

#[test]
fn return_to_an_earlier_stage_from_countersign_by_a_pending_department() {
    let mut f = flow();
    f.countersigning().ok("zhao.min", agree("同意"));
    f.ok(
        "sun.li",
        Action::ReturnToStage {
            from_stage: None,
            stage: 0,
            reason: "请审核人再看经费部分".into(),
        },
    );
    assert_eq!(
        (f.state(), f.doc().current().map(|(i, _)| i)),
        (State::InReview, Some(0))
    );
    // Not to the current stage or later.
    f.ok("li.qiang", approve("同意"));
    let e = f.err(
        "sun.li",
        Action::ReturnToStage {
            from_stage: None,
            stage: 1,
            reason: "x".into(),
        },
    );
    assert!(
        e.to_string()
            .contains("stage index 1 (第2环节) is not before where the document is now"),
        "{e}"
    );
}

// ---- deadlines ----

#[test]
fn reminders_come_once_per_interval_after_the_deadline_and_escalate() {
    let mut f = flow();
    f.drafted();
    let route = vec![StageSpec::Review {
        reviewer: "li.qiang".into(),
        deadline_days: Some(2),
        escalate_to: Some("zhang.guoqing".into()),
    }];
    f.ok("wang.fang", Action::SubmitForReview { route });
    let remind = Action::Remind { interval_hours: 24 };
    // Not before the deadline; never by an actor of the directory.
    let e = f.err(workflow_core::ids::SYSTEM_ACTOR, remind.clone());
    assert!(e.to_string().contains("not overdue yet"), "{e}");
    f.clock += Duration::days(3);
    let e = f.err("liu.yang", remind.clone());
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    f.ok(workflow_core::ids::SYSTEM_ACTOR, remind.clone());
    let EventData::Reminded {
        waiting_for,
        escalated_to,
        ..
    } = &f.events.last().unwrap().data
    else {
        panic!()
    };
    assert_eq!(waiting_for, &["li.qiang"]);
    assert_eq!(
        escalated_to.as_ref().map(|a| a.as_str()),
        Some("zhang.guoqing")
    );
    // The escalation target now sees it waiting too.
    assert_eq!(
        f.doc().assignees(|_| true),
        vec![
            Assignee::Actor("li.qiang".into()),
            Assignee::Actor("zhang.guoqing".into())
        ]
    );
    // Not twice within the interval; again after it.
    f.clock += Duration::hours(5);
    assert!(
        f.err(workflow_core::ids::SYSTEM_ACTOR, remind.clone())
            .to_string()
            .contains("within the interval")
    );
    f.clock += Duration::hours(20);
    f.ok(workflow_core::ids::SYSTEM_ACTOR, remind);
    assert_eq!(f.doc().current().unwrap().1.reminders, 2);
    // The system actor can do nothing else.
    let e = f.err(workflow_core::ids::SYSTEM_ACTOR, approve("同意"));
    assert!(matches!(e, Error::UnknownActor { .. }), "{e}");
}

// ---- the log stays readable ----

#[test]
fn route_events_written_before_the_new_fields_still_read() {
    let old = serde_json::json!({
        "round": 1,
        "route": [
            {"review": {"reviewer": "li.qiang", "deadline_days": 2}},
            {"countersign": {"departments": ["RSC", "CWC"], "deadline_days": null}}
        ]
    });
    let data = EventData::decode("SubmittedForReview", 1, old).unwrap();
    let EventData::SubmittedForReview { route, .. } = data else {
        panic!()
    };
    assert_eq!(route[0], StageSpec::review("li.qiang").with_deadline(2));
    assert_eq!(route[1], StageSpec::countersign(["RSC", "CWC"]));
    // And the default rule writes no new keys, so such payloads keep their form.
    let payload = EventData::SubmittedForReview {
        round: 1,
        route: vec![StageSpec::countersign(["RSC"])],
    }
    .payload();
    assert_eq!(
        payload.to_string(),
        r#"{"round":1,"route":[{"countersign":{"deadline_days":null,"departments":["RSC"]}}]}"#
    );
    let _ = Role::Reviewer;
}

#[test]
fn a_deadline_past_the_end_of_time_does_not_panic() {
    let mut f = flow();
    f.drafted();
    f.clock = chrono::DateTime::<chrono::Utc>::MAX_UTC - Duration::hours(1);
    f.ok(
        "wang.fang",
        Action::SubmitForReview {
            route: vec![StageSpec::review("li.qiang").with_deadline(365)],
        },
    );
    // The due date is not representable, so the stage has none rather than a wrapped one.
    assert_eq!(f.doc().current().unwrap().1.due_at, None);
    let e = f.err(
        workflow_core::ids::SYSTEM_ACTOR,
        Action::Remind { interval_hours: 24 },
    );
    assert!(e.to_string().contains("no deadline"), "{e}");
}
