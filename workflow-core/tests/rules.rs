//! One test per rule of DESIGN §2, in the order the design lists them.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use chrono::{Duration, NaiveDate};
use common::*;
use workflow_core::EventCodec;
use workflow_core::{
    Error, ErrorClass, directory::Classification, directory::Role, kind::Kind, outgoing::Action,
    outgoing::DraftFields, outgoing::EventData, outgoing::State, retention::Retention,
    route::StageSpec,
};

fn submit(route: Vec<StageSpec>) -> Action {
    Action::SubmitForReview { route }
}

// ---- the route ----

#[test]
fn stages_run_in_order() {
    let mut f = flow();
    f.submitted();
    assert_eq!(f.state(), State::InReview);
    // A department of stage 2 cannot countersign while stage 1 (review) is open.
    let e = f.err("zhao.min", agree("同意"));
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
    // The reviewer of stage 3 is not the reviewer of stage 1.
    let e = f.err("chen.hong", approve("同意"));
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("only li.qiang, the reviewer of stage index 0 (第1环节), may"),
        "{e}"
    );
    f.ok("li.qiang", approve("同意"));
    assert_eq!(f.state(), State::Countersigning);
    // Stage 3's reviewer still waits for the countersign to complete.
    let e = f.err("chen.hong", approve("同意"));
    assert!(matches!(
        e,
        Error::WrongState {
            state: "Countersigning",
            ..
        }
    ));
}

#[test]
fn a_route_needs_at_least_one_stage() {
    let mut f = flow();
    f.drafted();
    let e = f.err("wang.fang", submit(vec![]));
    assert_eq!(
        e,
        Error::InvalidField {
            field: "route".into(),
            reason: "a route needs at least one stage".into()
        }
    );
    assert_eq!(e.class(), ErrorClass::InvalidArgument);
}

#[test]
fn a_reviewer_or_department_may_not_be_empty() {
    let mut f = flow();
    f.drafted();
    let cases: Vec<(Vec<StageSpec>, &str)> = vec![
        (
            vec![StageSpec::Review {
                reviewer: "  ".into(),
                deadline_days: None,
                escalate_to: None,
            }],
            "route[0].reviewer",
        ),
        (
            vec![StageSpec::Review {
                reviewer: "nobody".into(),
                deadline_days: None,
                escalate_to: None,
            }],
            "route[0].reviewer",
        ),
        // zhao.min holds no Reviewer role
        (
            vec![StageSpec::Review {
                reviewer: "zhao.min".into(),
                deadline_days: None,
                escalate_to: None,
            }],
            "route[0].reviewer",
        ),
        (
            vec![
                StageSpec::Review {
                    reviewer: "li.qiang".into(),
                    deadline_days: None,
                    escalate_to: None,
                },
                StageSpec::Countersign {
                    departments: vec![],
                    deadline_days: None,
                    completion: Default::default(),
                    escalate_to: None,
                },
            ],
            "route[1].departments",
        ),
        (
            vec![StageSpec::Countersign {
                departments: vec!["".into()],
                deadline_days: None,
                completion: Default::default(),
                escalate_to: None,
            }],
            "route[0].departments",
        ),
        (
            vec![StageSpec::Countersign {
                departments: vec!["ZZZ".into()],
                deadline_days: None,
                completion: Default::default(),
                escalate_to: None,
            }],
            "route[0].departments",
        ),
        (
            vec![StageSpec::Countersign {
                departments: vec!["RSC".into(), "RSC".into()],
                deadline_days: None,
                completion: Default::default(),
                escalate_to: None,
            }],
            "route[0].departments",
        ),
        (
            vec![StageSpec::Review {
                reviewer: "li.qiang".into(),
                deadline_days: Some(0),
                escalate_to: None,
            }],
            "route[0].deadline_days",
        ),
    ];
    for (route, field) in cases {
        match f.err("wang.fang", submit(route.clone())) {
            Error::InvalidField { field: got, .. } => assert_eq!(got, field, "{route:?}"),
            other => panic!("{route:?}: {other}"),
        }
    }
}

#[test]
fn countersign_completes_only_when_every_department_agreed() {
    let mut f = flow();
    f.countersigning();
    f.ok("zhao.min", agree("同意。"));
    assert_eq!(f.state(), State::Countersigning);
    f.ok("sun.li", agree("同意。"));
    assert_eq!(f.state(), State::Countersigning);
    assert_eq!(f.doc().pending_departments(), vec![unit("XSC")]);
    f.ok("zhou.jie", agree("同意。"));
    assert_eq!(f.state(), State::InReview);
    assert_eq!(f.doc().current().map(|(i, _)| i), Some(2));
}

#[test]
fn countersign_disagreement_needs_an_opinion_and_returns_to_drafting() {
    let mut f = flow();
    f.countersigning().ok("zhao.min", agree("同意"));
    let e = f.err("sun.li", disagree("  "));
    assert!(
        matches!(e, Error::InvalidField { ref field, .. } if field == "opinion"),
        "{e}"
    );
    f.ok("sun.li", disagree("经费来源不明确，请补充。"));
    assert_eq!(f.state(), State::Drafting);
    let last = f.doc().opinions().last().unwrap();
    assert_eq!(
        (last.step.as_str(), last.agree, last.text.as_str()),
        ("countersign", false, "经费来源不明确，请补充。")
    );
}

#[test]
fn each_department_signs_at_most_once_per_round() {
    let mut f = flow();
    f.countersigning().ok("zhao.min", agree("同意"));
    // Another countersigner of the same department cannot sign again.
    f.dir.add_actor(actor(
        "zhao.two",
        "赵二",
        "RSC",
        &[Role::Countersigner],
        Classification::None,
    ));
    let e = f.err("zhao.two", agree("同意"));
    assert!(matches!(e, Error::NotNow { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("RSC has already countersigned in round 1"),
        "{e}"
    );
    assert_eq!(e.class(), ErrorClass::FailedPrecondition);
}

#[test]
fn a_new_round_starts_at_resubmission() {
    let mut f = flow();
    f.countersigning()
        .ok("zhao.min", agree("同意"))
        .ok("sun.li", disagree("请补充经费来源"));
    assert_eq!(f.state(), State::Drafting);
    let mut revised = fields();
    revised.body.push_str("考务经费从教务处年度预算中列支。");
    f.ok("wang.fang", Action::Revise(revised))
        .ok("wang.fang", submit(route()));
    assert_eq!(f.doc().round(), 2);
    assert_eq!(f.doc().revision(), 2);
    // The whole route runs again, starting at stage 1.
    assert_eq!(f.state(), State::InReview);
    f.ok("li.qiang", approve("同意"));
    // RSC signed in round 1; in round 2 it signs again.
    f.ok("zhao.min", agree("同意"))
        .ok("sun.li", agree("同意"))
        .ok("zhou.jie", agree("同意"));
    assert_eq!(f.state(), State::InReview);
    // Earlier opinions stay.
    let rounds: Vec<u32> = f.doc().opinions().iter().map(|o| o.round).collect();
    assert!(rounds.contains(&1) && rounds.contains(&2));
}

#[test]
fn who_countersigns_is_a_countersigner_of_a_listed_department() {
    let mut f = flow();
    f.countersigning();
    // li.qiang is a Countersigner, but of JWC, not listed.
    let e = f.err("li.qiang", agree("同意"));
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    assert!(e.to_string().contains("RSC, CWC, XSC"), "{e}");
    // chen.hong is of XB and holds no Countersigner role.
    let e = f.err("chen.hong", agree("同意"));
    assert!(
        matches!(
            e,
            Error::MissingRole {
                role: Role::Countersigner,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn return_needs_a_reason_and_goes_back_to_drafting_keeping_opinions() {
    // From review.
    let mut f = flow();
    f.submitted();
    let e = f.err("li.qiang", ret(""));
    assert!(matches!(e, Error::InvalidField { ref field, .. } if field == "reason"));
    f.ok("li.qiang", ret("不宜发文：内容与已发通知重复。"));
    assert_eq!(f.state(), State::Drafting);
    assert_eq!(
        f.doc().opinions().last().unwrap().text,
        "不宜发文：内容与已发通知重复。"
    );
    // From countersign, by a pending department.
    let mut f = flow();
    f.countersigning()
        .ok("zhao.min", agree("同意"))
        .ok("sun.li", ret("请补充经费来源"));
    assert_eq!(f.state(), State::Drafting);
    assert_eq!(f.doc().opinions().len(), 3);
    // From sign-off.
    let mut f = flow();
    f.awaiting_sign_off().ok("huang.wei", ret("请压缩篇幅"));
    assert_eq!(f.state(), State::Drafting);
    let steps: Vec<&str> = f.doc().opinions().iter().map(|o| o.step.as_str()).collect();
    assert_eq!(
        steps,
        [
            "review",
            "countersign",
            "countersign",
            "countersign",
            "review",
            "return"
        ]
    );
    // The log keeps every event.
    assert!(f.events.iter().any(|e| matches!(
        e.data,
        EventData::Returned {
            from: State::AwaitingSignOff,
            ..
        }
    )));
}

#[test]
fn a_reviewer_who_finds_the_draft_unfit_returns_it_with_the_reason() {
    let mut f = flow();
    f.countersigning()
        .ok("zhao.min", agree("同意"))
        .ok("sun.li", agree("同意"))
        .ok("zhou.jie", agree("同意"));
    f.ok("chen.hong", ret("不宜发文：应以教务处名义发函。"));
    assert_eq!(f.state(), State::Drafting);
    assert!(matches!(
        &f.events.last().unwrap().data,
        EventData::Returned { from: State::InReview, to: State::Drafting, reason } if reason.contains("不宜发文")
    ));
}

#[test]
fn return_from_signed_off_goes_back_to_the_signers() {
    let mut f = flow();
    f.signed_off();
    // Only the office clerk (复核) may.
    let e = f.err("huang.wei", ret("有误"));
    assert!(
        matches!(
            e,
            Error::MissingRole {
                role: Role::Clerk,
                ..
            }
        ),
        "{e}"
    );
    f.ok("liu.yang", ret("复核发现附件与正文不符，请原签批人复审"));
    assert_eq!(f.state(), State::AwaitingSignOff);
    assert!(f.doc().signatures().is_empty());
    assert_eq!(f.doc().written_date(), None);
    f.ok("huang.wei", sign("同意印发。"));
    assert_eq!(f.state(), State::SignedOff);
}

// ---- sign-off ----

#[test]
fn sign_off_needs_a_signatory_of_the_issuing_unit() {
    let mut f = flow();
    f.awaiting_sign_off();
    // ma.lin is a Signatory of JWC, not of XB.
    let e = f.err("ma.lin", sign("同意"));
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    // liu.yang is of XB but not a Signatory.
    let e = f.err("liu.yang", sign("同意"));
    assert!(
        matches!(
            e,
            Error::MissingRole {
                role: Role::Signatory,
                ..
            }
        ),
        "{e}"
    );
    // An opinion is recorded: it may not be empty.
    let e = f.err("huang.wei", sign(""));
    assert!(matches!(e, Error::InvalidField { ref field, .. } if field == "opinion"));
    f.ok("huang.wei", sign("同意印发。"));
    let s = &f.doc().signatures()[0];
    assert_eq!(
        (s.name.as_str(), s.opinion.as_str()),
        ("黄伟", "同意印发。")
    );
    assert_eq!(f.state(), State::SignedOff);
}

fn principal_case(fields: DraftFields) {
    let mut f = flow();
    f.drafted_with(fields)
        .ok(
            "wang.fang",
            submit(vec![StageSpec::Review {
                reviewer: "chen.hong".into(),
                deadline_days: None,
                escalate_to: None,
            }]),
        )
        .ok("chen.hong", approve("同意"));
    let e = f.err("huang.wei", sign("同意"));
    assert!(
        matches!(
            e,
            Error::MissingRole {
                role: Role::PrincipalSignatory,
                ..
            }
        ),
        "{e}"
    );
    f.ok("zhang.guoqing", sign("同意"));
    assert_eq!(f.state(), State::SignedOff);
}

#[test]
fn upward_documents_need_the_principal_signatory() {
    for kind in [Kind::Report, Kind::Request, Kind::Motion] {
        let mut fl = fields();
        fl.kind = kind;
        fl.main_recipients = vec!["省教育厅".into()];
        principal_case(fl);
    }
}

#[test]
fn important_documents_need_the_principal_signatory() {
    let mut fl = fields();
    fl.important = true;
    principal_case(fl);
}

#[test]
fn joint_documents_need_every_co_issuing_units_signatory_and_take_the_lead_number() {
    let mut f = flow();
    let mut fl = fields();
    fl.co_issuing_units = vec!["JWC".into()];
    f.drafted_with(fl)
        .ok(
            "wang.fang",
            submit(vec![StageSpec::Review {
                reviewer: "chen.hong".into(),
                deadline_days: None,
                escalate_to: None,
            }]),
        )
        .ok("chen.hong", approve("同意"));
    f.ok("huang.wei", sign("同意"));
    assert_eq!(f.state(), State::AwaitingSignOff, "JWC has not signed yet");
    assert_eq!(f.doc().unsigned_units(), vec![unit("JWC")]);
    let e = f.err("zhang.guoqing", sign("同意"));
    assert!(matches!(e, Error::NotNow { .. }), "XB signed already: {e}");
    f.clock += Duration::days(2);
    f.ok("ma.lin", sign("同意联合印发"));
    assert_eq!(f.state(), State::SignedOff);
    // 成文日期 is the date of the last signature.
    assert_eq!(f.doc().written_date(), Some(f.doc().signatures()[1].date));
    assert_ne!(f.doc().signatures()[0].date, f.doc().signatures()[1].date);
    f.ok("liu.yang", issue(2026, 11, 9));
    assert_eq!(
        f.doc().issue().unwrap().number.to_string(),
        "X校发〔2026〕1号"
    );
}

#[test]
fn the_written_date_is_the_date_of_the_last_signature_in_china_time() {
    let mut f = flow();
    f.awaiting_sign_off();
    // 17:30 UTC is 01:30 the next day in Beijing.
    f.clock = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 3, 17, 30, 0).unwrap();
    f.ok("huang.wei", sign("同意"));
    assert_eq!(f.doc().written_date(), NaiveDate::from_ymd_opt(2026, 11, 4));
}

// ---- field rules ----

#[test]
fn field_rules_are_checked_at_drafting() {
    let check = |mutate: &dyn Fn(&mut DraftFields), field: &str| {
        let mut f = flow();
        let mut fl = fields();
        mutate(&mut fl);
        match f.err("wang.fang", Action::Draft(fl)) {
            Error::InvalidField { field: got, .. } => assert_eq!(got, field),
            other => panic!("expected invalid {field}, got {other}"),
        }
    };
    check(&|f| f.title = "   ".into(), "title");
    check(&|f| f.title = "长".repeat(201), "title");
    check(
        &|f| {
            f.kind = Kind::Request;
            f.main_recipients = vec!["A".into(), "B".into()]
        },
        "main_recipients",
    );
    check(
        &|f| {
            f.kind = Kind::Request;
            f.main_recipients = vec![]
        },
        "main_recipients",
    );
    check(&|f| f.main_recipients = vec![], "main_recipients");
    check(
        &|f| f.main_recipients = vec!["各学院".into(), "各学院".into()],
        "main_recipients",
    );
    check(&|f| f.cc = vec!["".into()], "cc");
    check(&|f| f.issuing_unit = "ZZZ".into(), "issuing_unit");
    check(
        &|f| f.co_issuing_units = vec!["XB".into()],
        "co_issuing_units",
    );
    check(
        &|f| {
            f.classification = Classification::Secret;
            f.classification_period_years = Some(11)
        },
        "classification_period_years",
    );
    check(
        &|f| {
            f.classification = Classification::Secret;
            f.classification_period_years = None
        },
        "classification_period_years",
    );
    check(
        &|f| f.classification_period_years = Some(5),
        "classification_period_years",
    );
    // 附注: some words on one line, at most 60 characters.
    check(&|f| f.annotation = Some("（）".into()), "annotation");
    check(&|f| f.annotation = Some("  ".into()), "annotation");
    check(
        &|f| f.annotation = Some("此件公开发布\n联系人".into()),
        "annotation",
    );
    check(&|f| f.annotation = Some("字".repeat(61)), "annotation");
    // Sixty are taken, recorded without the parentheses the 公文 prints them in.
    let mut f = flow();
    let mut fl = fields();
    fl.annotation = Some(format!(" ({}) ", "字".repeat(60)));
    f.ok("wang.fang", Action::Draft(fl));
    assert_eq!(f.doc().fields().annotation, Some("字".repeat(60)));
    // The caps: 秘密 ≤ 10, 机密 ≤ 20, 绝密 ≤ 30 (checked with a drafter cleared for all).
    let mut f = flow();
    f.dir.add_actor(actor(
        "top",
        "高密",
        "JWC",
        &[Role::Drafter],
        Classification::TopSecret,
    ));
    for (c, cap) in [
        (Classification::Secret, 10),
        (Classification::Confidential, 20),
        (Classification::TopSecret, 30),
    ] {
        for (years, ok) in [(cap, true), (cap + 1, false), (0, false)] {
            let mut fl = fields();
            fl.classification = c;
            fl.classification_period_years = Some(years);
            f.next_document();
            let r = f.run("top", Action::Draft(fl));
            assert_eq!(r.is_ok(), ok, "{c:?} {years}");
        }
    }
    // Announcement 公告 and Notice 通告 need no main recipient; a Request exactly one.
    for kind in [Kind::Announcement, Kind::Notice] {
        let mut f = flow();
        f.drafted_with(DraftFields {
            kind,
            main_recipients: vec![],
            ..fields()
        });
    }
    let mut f = flow();
    f.drafted_with(DraftFields {
        kind: Kind::Request,
        main_recipients: vec!["省教育厅".into()],
        ..fields()
    });
    // Revise applies the same rules.
    let e = f.err(
        "wang.fang",
        Action::Revise(DraftFields {
            title: String::new(),
            ..fields()
        }),
    );
    assert!(matches!(e, Error::InvalidField { ref field, .. } if field == "title"));
}

#[test]
fn only_a_drafter_drafts_and_only_the_drafter_revises_and_submits() {
    let mut f = flow();
    let e = f.err("li.qiang", Action::Draft(fields()));
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
    f.drafted();
    let e = f.err("li.qiang", Action::Revise(fields()));
    assert!(matches!(e, Error::NotAssigned { .. }));
    let e = f.err("li.qiang", submit(route()));
    assert!(matches!(e, Error::NotAssigned { .. }));
    let e = f.err("wang.fang", Action::Draft(fields()));
    assert!(matches!(e, Error::DocumentExists(_)));
    assert_eq!(e.class(), ErrorClass::AlreadyExists);
    let e = f.err("nobody", Action::Revise(fields()));
    assert!(matches!(e, Error::UnknownActor { .. }));
    assert_eq!(e.class(), ErrorClass::PermissionDenied);
    f.next_document();
    let e = f.err("wang.fang", approve(""));
    assert!(matches!(e, Error::DocumentNotFound(_)));
    assert_eq!(e.class(), ErrorClass::NotFound);
}

// ---- issue ----

#[test]
fn issue_assigns_a_unique_gapless_number_per_prefix_and_year() {
    let mut f = flow();
    f.issued();
    assert_eq!(
        f.doc().issue().unwrap().number.to_string(),
        "X校发〔2026〕1号"
    );
    f.next_document();
    f.issued();
    assert_eq!(
        f.doc().issue().unwrap().number.to_string(),
        "X校发〔2026〕2号"
    );
    // A rejected issue consumes no number.
    f.next_document();
    f.signed_off();
    f.err(
        "liu.yang",
        Action::Issue {
            issue_date: NaiveDate::from_ymd_opt(2026, 11, 5).unwrap(),
            copies: 0,
        },
    );
    f.ok("liu.yang", issue(2027, 1, 4));
    // A new year starts again at 1.
    assert_eq!(
        f.doc().issue().unwrap().number.to_string(),
        "X校发〔2027〕1号"
    );
    // Another prefix has its own sequence.
    f.next_document();
    f.drafted_with(DraftFields {
        issuing_unit: "JWC".into(),
        ..fields()
    })
    .ok(
        "wang.fang",
        submit(vec![StageSpec::Review {
            reviewer: "li.qiang".into(),
            deadline_days: None,
            escalate_to: None,
        }]),
    )
    .ok("li.qiang", approve("同意"))
    .ok("ma.lin", sign("同意"))
    .ok("liu.yang", issue(2026, 12, 1));
    assert_eq!(
        f.doc().issue().unwrap().number.to_string(),
        "X校教〔2026〕1号"
    );
}

#[test]
fn issue_records_date_copies_and_distribution_and_needs_the_clerk() {
    let mut f = flow();
    f.signed_off();
    let e = f.err("huang.wei", issue(2026, 11, 5));
    assert!(matches!(
        e,
        Error::MissingRole {
            role: Role::Clerk,
            ..
        }
    ));
    let e = f.err(
        "liu.yang",
        Action::Issue {
            issue_date: NaiveDate::from_ymd_opt(2026, 11, 5).unwrap(),
            copies: 0,
        },
    );
    assert!(matches!(e, Error::InvalidField { ref field, .. } if field == "copies"));
    let e = f.err("liu.yang", issue(2026, 10, 1));
    assert!(
        matches!(e, Error::InvalidField { ref field, .. } if field == "issue_date"),
        "{e}"
    );
    f.ok("liu.yang", issue(2026, 11, 5));
    let i = f.doc().issue().unwrap();
    assert_eq!(i.issue_date, NaiveDate::from_ymd_opt(2026, 11, 5).unwrap());
    assert_eq!(i.copies, 30);
    assert_eq!(i.main_recipients, fields().main_recipients);
    assert_eq!(i.cc, fields().cc);
    assert_eq!(f.state(), State::Issued);
}

#[test]
fn issue_needs_a_prefix_for_the_issuing_unit() {
    let mut f = flow();
    f.dir.add_actor(actor(
        "np.sign",
        "无",
        "NOPFX",
        &[Role::Signatory],
        Classification::None,
    ));
    f.drafted_with(DraftFields {
        issuing_unit: "NOPFX".into(),
        ..fields()
    })
    .ok(
        "wang.fang",
        submit(vec![StageSpec::Review {
            reviewer: "li.qiang".into(),
            deadline_days: None,
            escalate_to: None,
        }]),
    )
    .ok("li.qiang", approve(""))
    .ok("np.sign", sign("同意"));
    let e = f.err("liu.yang", issue(2026, 11, 5));
    assert!(
        e.to_string()
            .contains("NOPFX has no document-number prefix"),
        "{e}"
    );
}

#[test]
fn each_recipient_acknowledges_once() {
    let mut f = flow();
    f.issued();
    // zhao.min is of RSC, a main recipient; sun.li of CWC, a cc.
    f.ok("zhao.min", Action::Acknowledge);
    let e = f.err("zhao.min", Action::Acknowledge);
    assert!(matches!(e, Error::NotNow { .. }), "{e}");
    f.dir
        .add_actor(actor("rsc.2", "人事二", "RSC", &[], Classification::None));
    let e = f.err("rsc.2", Action::Acknowledge);
    assert!(
        e.to_string().contains("RSC has already acknowledged"),
        "{e}"
    );
    f.ok("sun.li", Action::Acknowledge);
    // XSC is not a recipient.
    let e = f.err("zhou.jie", Action::Acknowledge);
    assert!(matches!(e, Error::NotAssigned { .. }));
    assert_eq!(f.doc().acknowledged().len(), 2);
    // Acknowledgement is not possible before issue.
    let mut g = flow();
    g.signed_off();
    assert!(matches!(
        g.err("zhao.min", Action::Acknowledge),
        Error::WrongState { .. }
    ));
}

// ---- archive ----

#[test]
fn archive_records_the_reference_and_is_terminal() {
    let mut f = flow();
    f.issued();
    let e = f.err("liu.yang", archive());
    assert!(matches!(
        e,
        Error::MissingRole {
            role: Role::Archivist,
            ..
        }
    ));
    let e = f.err(
        "xu.jing",
        Action::Archive {
            fonds: "J-012".into(),
            retention: Some(Retention::Years30),
            unit_code: "JWC".into(),
            deviation_reason: String::new(),
        },
    );
    assert!(matches!(e, Error::InvalidField { ref field, .. } if field == "fonds"));
    f.ok(
        "xu.jing",
        Action::Archive {
            fonds: "J012".into(),
            retention: Some(Retention::Permanent),
            unit_code: "BGS".into(),
            deviation_reason: "涉及学籍管理，长期查考".into(),
        },
    );
    let a = f.doc().archive().unwrap();
    assert_eq!(a.reference.to_string(), "J012-WS·2026-Y-BGS-0001");
    assert_eq!(a.scheduled_retention, Some(Retention::Years30));
    assert_eq!(a.deviation.as_deref(), Some("涉及学籍管理，长期查考"));
    assert_eq!(f.state(), State::Archived);
    // Nothing is accepted afterwards, by anyone.
    for (who, action) in [
        ("zhao.min", Action::Acknowledge),
        ("xu.jing", archive()),
        ("wang.fang", Action::Void { reason: "x".into() }),
        ("wang.fang", Action::Revise(fields())),
        ("liu.yang", ret("x")),
    ] {
        let e = f.err(who, action);
        assert!(
            matches!(
                e,
                Error::WrongState {
                    state: "Archived",
                    ..
                }
            ),
            "{e}"
        );
    }
}

#[test]
fn archive_item_numbers_are_gapless_within_fonds_year_and_retention() {
    let mut f = flow();
    let mut refs = Vec::new();
    for retention in [
        Retention::Years30,
        Retention::Years30,
        Retention::Years10,
        Retention::Years30,
    ] {
        f.next_document();
        f.issued();
        // Shorter than the schedule's 30 years: the archive office, with a reason.
        let (who, reason) = if retention == Retention::Years10 {
            ("qian.hui", "事务性通知")
        } else {
            ("xu.jing", "")
        };
        f.ok(
            who,
            Action::Archive {
                fonds: "J012".into(),
                retention: Some(retention),
                unit_code: "JWC".into(),
                deviation_reason: reason.into(),
            },
        );
        refs.push(f.doc().archive().unwrap().reference.to_string());
    }
    assert_eq!(
        refs,
        [
            "J012-WS·2026-D30-JWC-0001",
            "J012-WS·2026-D30-JWC-0002",
            "J012-WS·2026-D10-JWC-0001",
            "J012-WS·2026-D30-JWC-0003"
        ]
    );
}

// ---- the archive as an archivist files it (DA/T 22-2015, 8号令) ----

#[test]
fn the_archive_year_is_the_year_the_document_was_made_not_issued() {
    let mut f = flow();
    // Signed on 2026-12-31 (China time), issued on 2027-01-04.
    f.clock = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 30, 23, 0, 0).unwrap();
    f.drafted()
        .ok("wang.fang", submit(route()))
        .ok("li.qiang", approve("同意"))
        .ok("zhao.min", agree("同意"))
        .ok("sun.li", agree("同意"))
        .ok("zhou.jie", agree("同意"))
        .ok("chen.hong", approve("同意"))
        .ok("huang.wei", sign("同意印发。"));
    assert_eq!(
        f.doc().written_date(),
        Some(NaiveDate::from_ymd_opt(2026, 12, 31).unwrap())
    );
    f.ok("liu.yang", issue(2027, 1, 4));
    assert_eq!(
        f.doc().issue().unwrap().number.year,
        2027,
        "发文字号: issue year"
    );
    f.ok("xu.jing", archive());
    let r = &f.doc().archive().unwrap().reference;
    assert_eq!(r.year, 2026, "档号 年度: the 成文日期's year");
    assert_eq!(r.to_string(), "J012-WS·2026-D30-JWC-0001");
    // The 件号 series is the 2026 one too: another document made in 2026 and archived
    // in 2027 takes 0002 of it.
    f.next_document();
    f.clock = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 30, 23, 0, 0).unwrap();
    f.signed_off().ok("liu.yang", issue(2027, 1, 5));
    f.ok("xu.jing", archive());
    assert_eq!(
        f.doc().archive().unwrap().reference.to_string(),
        "J012-WS·2026-D30-JWC-0002"
    );
}

#[test]
fn archiving_proposes_the_scheduled_retention() {
    // An ordinary 通知: 定期30年, recorded as scheduled, no deviation.
    let mut f = flow();
    f.issued().ok("xu.jing", archive());
    let a = f.doc().archive().unwrap();
    assert_eq!(a.reference.retention, Retention::Years30);
    assert_eq!(a.scheduled_retention, Some(Retention::Years30));
    assert_eq!(a.deviation, None);
    // An important document: 永久.
    let mut f = flow();
    f.drafted_with(DraftFields {
        important: true,
        ..fields()
    })
    .ok("wang.fang", submit(route()))
    .ok("li.qiang", approve("同意"))
    .ok("zhao.min", agree("同意"))
    .ok("sun.li", agree("同意"))
    .ok("zhou.jie", agree("同意"))
    .ok("chen.hong", approve("同意"))
    .ok("zhang.guoqing", sign("同意印发。"))
    .ok("liu.yang", issue(2026, 11, 5))
    .ok("xu.jing", archive());
    assert_eq!(
        f.doc().archive().unwrap().reference.retention,
        Retention::Permanent
    );
}

#[test]
fn another_retention_needs_a_reason_and_a_shorter_one_the_archive_office() {
    let mut f = flow();
    f.issued();
    // Shorter than the schedule's (30 years), by a plain archivist: refused, even with a
    // reason; without one, the reason is asked for first.
    let e = f.err("xu.jing", archive_as(Retention::Years10, ""));
    assert!(
        matches!(e, Error::InvalidField { ref field, .. } if field == "deviation_reason"),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("differs from the schedule's Years30 (定期30年)"),
        "{e}"
    );
    let e = f.err("xu.jing", archive_as(Retention::Years10, "事务性通知"));
    assert!(
        matches!(
            e,
            Error::MissingRole {
                role: Role::ArchiveOffice,
                ..
            }
        ),
        "{e}"
    );
    // A reason for a retention that is the schedule's is a mistake, not a deviation.
    let e = f.err("xu.jing", archive_as(Retention::Years30, "照表"));
    assert!(
        e.to_string().contains("only for a retention other than"),
        "{e}"
    );
    // The archive office may, and the deviation is on record.
    f.ok(
        "qian.hui",
        archive_as(Retention::Years10, "事务性通知，无长期查考价值"),
    );
    let a = f.doc().archive().unwrap();
    assert_eq!(a.reference.retention, Retention::Years10);
    assert_eq!(a.scheduled_retention, Some(Retention::Years30));
    assert_eq!(a.deviation.as_deref(), Some("事务性通知，无长期查考价值"));
    // Longer than the schedule's: any archivist, with a reason.
    let mut g = flow();
    g.issued()
        .ok("xu.jing", archive_as(Retention::Permanent, "涉及重大改革"));
    assert_eq!(
        g.doc().archive().unwrap().deviation.as_deref(),
        Some("涉及重大改革")
    );
}

#[test]
fn a_countersign_stage_that_could_never_complete_is_refused_at_submission() {
    // The campus directory as it is: XSC's one countersigner, zhou.jie, has no clearance.
    let mut f = flow();
    f.dir = workflow_core::Directory::from_json(CAMPUS).unwrap();
    f.drafted_with(DraftFields {
        classification: Classification::Secret,
        classification_period_years: Some(10),
        ..fields()
    });
    // A 秘密 document's countersign by XSC would wait for ever.
    let e = f.err("wang.fang", submit(route()));
    assert!(
        matches!(e, Error::InvalidField { ref field, .. } if field == "route[1].departments"),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("department XSC has no countersigner cleared for Secret (秘密)"),
        "{e}"
    );
    // A department without any countersigner.
    let e = f.err(
        "wang.fang",
        submit(vec![StageSpec::countersign(["RSC", "DW"])]),
    );
    assert!(
        e.to_string()
            .contains("department DW has no countersigner (会签人)"),
        "{e}"
    );
    // Under 或签 one able department is enough; under a ratio, enough of them.
    f.ok(
        "wang.fang",
        submit(vec![StageSpec::Countersign {
            departments: vec!["RSC".into(), "DW".into()],
            deadline_days: None,
            completion: workflow_core::route::Completion::Any,
            escalate_to: None,
        }]),
    );
    // 加签 of a department that could not act is refused too.
    let e = f.err(
        "liu.yang",
        Action::AddCountersigner {
            unit: "XSC".into(),
            stage: Some(0),
        },
    );
    assert!(
        matches!(e, Error::InvalidField { ref field, .. } if field == "unit"),
        "{e}"
    );
    assert!(e.to_string().contains("cleared for Secret"), "{e}");
}

#[test]
fn recipients_follow_gb_t_9704() {
    let mut f = flow();
    // 命令 and 纪要, like 公告 and 通告, may go without 主送.
    for kind in [Kind::Order, Kind::Minutes, Kind::Announcement, Kind::Notice] {
        f.next_document();
        f.drafted_with(DraftFields {
            kind,
            main_recipients: vec![],
            ..fields()
        });
    }
    f.next_document();
    let e = f.err(
        "wang.fang",
        Action::Draft(DraftFields {
            kind: Kind::Circular,
            main_recipients: vec![],
            ..fields()
        }),
    );
    assert!(e.to_string().contains("main_recipients"), "{e}");
    // A 报告 to several upper authorities is accepted, with the warning on record.
    f.drafted_with(DraftFields {
        kind: Kind::Report,
        main_recipients: vec!["省教育厅".into(), "市教育局".into()],
        ..fields()
    });
    let EventData::Drafted { warnings, .. } = &f.events[0].data else {
        panic!("not a draft");
    };
    assert_eq!(warnings.len(), 1);
    assert!(
        warnings[0].contains("原则上主送一个上级机关"),
        "{warnings:?}"
    );
    assert!(warnings[0].contains("第十五条"), "{warnings:?}");
    assert_eq!(f.doc().warnings(), warnings.as_slice());
    // Revised to one 主送: the warning goes.
    f.ok(
        "wang.fang",
        Action::Revise(DraftFields {
            kind: Kind::Report,
            main_recipients: vec!["省教育厅".into()],
            ..fields()
        }),
    );
    assert!(f.doc().warnings().is_empty());
    // A 请示 stays exactly one.
    f.next_document();
    let e = f.err(
        "wang.fang",
        Action::Draft(DraftFields {
            kind: Kind::Request,
            main_recipients: vec!["省教育厅".into(), "市教育局".into()],
            ..fields()
        }),
    );
    assert!(e.to_string().contains("exactly one main recipient"), "{e}");
}

// ---- void ----

#[test]
fn void_only_before_issue_and_with_a_reason() {
    for setup in [
        Flow::drafted as fn(&mut Flow) -> &mut Flow,
        Flow::submitted,
        Flow::countersigning,
        Flow::awaiting_sign_off,
        Flow::signed_off,
    ] {
        let mut f = flow();
        setup(&mut f);
        let e = f.err("wang.fang", Action::Void { reason: " ".into() });
        assert!(matches!(e, Error::InvalidField { ref field, .. } if field == "reason"));
        let e = f.err(
            "li.qiang",
            Action::Void {
                reason: "重复".into(),
            },
        );
        assert!(matches!(e, Error::NotAssigned { .. }));
        f.ok(
            "wang.fang",
            Action::Void {
                reason: "与已发文件重复".into(),
            },
        );
        assert_eq!(f.state(), State::Voided);
        assert_eq!(f.doc().void_reason(), Some("与已发文件重复"));
        assert!(f.doc().assignees(|_| true).is_empty());
    }
    let mut f = flow();
    f.issued();
    let e = f.err(
        "wang.fang",
        Action::Void {
            reason: "晚了".into(),
        },
    );
    assert!(matches!(
        e,
        Error::WrongState {
            state: "Issued",
            ..
        }
    ));
    // The office clerk may void too.
    let mut f = flow();
    f.drafted().ok(
        "liu.yang",
        Action::Void {
            reason: "领导要求撤销".into(),
        },
    );
    let e = f.err("wang.fang", Action::Revise(fields()));
    assert!(matches!(
        e,
        Error::WrongState {
            state: "Voided",
            ..
        }
    ));
}

// ---- withdraw ----

#[test]
fn the_drafter_withdraws_only_while_no_reviewer_has_acted() {
    let mut f = flow();
    f.submitted();
    let e = f.err(
        "li.qiang",
        Action::Withdraw {
            reason: String::new(),
        },
    );
    assert!(matches!(e, Error::NotAssigned { .. }));
    f.ok(
        "wang.fang",
        Action::Withdraw {
            reason: "补充附件".into(),
        },
    );
    assert_eq!(f.state(), State::Drafting);
    f.ok("wang.fang", submit(route()))
        .ok("li.qiang", approve("同意"));
    let e = f.err(
        "wang.fang",
        Action::Withdraw {
            reason: String::new(),
        },
    );
    assert!(
        matches!(
            e,
            Error::WrongState {
                state: "Countersigning",
                ..
            } | Error::NotNow { .. }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("already acted"), "{e}");
}

// ---- countersign 加签 ----

#[test]
fn the_office_adds_a_countersigner_who_must_then_sign() {
    let mut f = flow();
    f.countersigning();
    // Only the office clerk or the stage owner (for a countersign stage, the drafter).
    let e = f.err(
        "li.qiang",
        Action::AddCountersigner {
            unit: "KYC".into(),
            stage: None,
        },
    );
    assert!(matches!(e, Error::NotAssigned { .. }), "{e}");
    assert!(
        e.to_string()
            .contains("the office clerk or the stage owner (wang.fang)"),
        "{e}"
    );
    let e = f.err(
        "liu.yang",
        Action::AddCountersigner {
            unit: "RSC".into(),
            stage: None,
        },
    );
    assert!(e.to_string().contains("already in this countersign stage"));
    let e = f.err(
        "liu.yang",
        Action::AddCountersigner {
            unit: "NOPE".into(),
            stage: None,
        },
    );
    assert!(matches!(e, Error::InvalidField { .. }));
    f.ok(
        "liu.yang",
        Action::AddCountersigner {
            unit: "XB".into(),
            stage: None,
        },
    );
    f.ok("zhao.min", agree("同意"))
        .ok("sun.li", agree("同意"))
        .ok("zhou.jie", agree("同意"));
    assert_eq!(f.state(), State::Countersigning, "XB still has to sign");
    f.ok("gao.yu", agree("同意"));
    assert_eq!(f.state(), State::InReview);
    // Not outside a countersign stage.
    let e = f.err(
        "liu.yang",
        Action::AddCountersigner {
            unit: "KYC".into(),
            stage: None,
        },
    );
    assert!(matches!(
        e,
        Error::WrongState {
            state: "InReview",
            ..
        }
    ));
}

// ---- classification and clearance ----

#[test]
fn clearance_must_cover_the_classification() {
    let mut f = flow();
    // wang.fang (Secret) may not draft a Confidential document.
    let e = f.err(
        "wang.fang",
        Action::Draft(DraftFields {
            classification: Classification::Confidential,
            classification_period_years: Some(20),
            ..fields()
        }),
    );
    assert!(
        matches!(
            e,
            Error::InsufficientClearance {
                classification: Classification::Confidential,
                ..
            }
        ),
        "{e}"
    );
    f.drafted_with(DraftFields {
        classification: Classification::Secret,
        classification_period_years: Some(10),
        ..fields()
    });
    // A reviewer without clearance cannot be put on the route.
    let e = f.err(
        "wang.fang",
        submit(vec![StageSpec::Review {
            reviewer: "low.clearance".into(),
            deadline_days: None,
            escalate_to: None,
        }]),
    );
    assert!(e.to_string().contains("clearance"), "{e}");
    f.ok("wang.fang", submit(route()))
        .ok("li.qiang", approve("同意"));
    // zhou.jie (clearance None) of XSC may not countersign a Secret document.
    let e = f.err("zhou.jie", agree("同意"));
    assert!(matches!(e, Error::InsufficientClearance { .. }), "{e}");
    assert_eq!(e.class(), ErrorClass::PermissionDenied);
}

// ---- deadlines, to-do ----

#[test]
fn a_stage_past_its_deadline_is_overdue() {
    let mut f = flow();
    f.submitted();
    let start = f.doc().current().unwrap().1.started_at.unwrap();
    assert!(!f.doc().is_overdue(start + Duration::days(2)));
    assert!(
        f.doc()
            .is_overdue(start + Duration::days(2) + Duration::seconds(1))
    );
    f.ok("li.qiang", approve("同意"));
    let stage = f.doc().current().unwrap().1;
    assert_eq!(
        stage.due_at,
        Some(stage.started_at.unwrap() + Duration::days(3))
    );
}

#[test]
fn assignees_follow_the_document() {
    use workflow_core::todo::Assignee;
    let mut f = flow();
    f.drafted();
    assert_eq!(
        f.doc().assignees(|_| true),
        vec![Assignee::Actor("wang.fang".into())]
    );
    f.ok("wang.fang", submit(route()));
    assert_eq!(
        f.doc().assignees(|_| true),
        vec![Assignee::Actor("li.qiang".into())]
    );
    f.ok("li.qiang", approve("")).ok("zhao.min", agree(""));
    assert_eq!(
        f.doc().assignees(|_| true),
        vec![
            Assignee::UnitRole {
                unit: unit("CWC"),
                role: Role::Countersigner
            },
            Assignee::UnitRole {
                unit: unit("XSC"),
                role: Role::Countersigner
            },
        ]
    );
    let mut f = flow();
    f.issued();
    let is_unit = |s: &str| s.len() == 3 && s.chars().all(|c| c.is_ascii_uppercase());
    assert_eq!(
        f.doc().assignees(is_unit),
        vec![
            Assignee::Unit(unit("CWC")),
            Assignee::Unit(unit("RSC")),
            Assignee::Role(Role::Archivist)
        ]
    );
}

// ---- the event log form ----

#[test]
fn events_have_a_stable_versioned_json_form() {
    let mut f = flow();
    f.issued().ok("xu.jing", archive());
    let names: Vec<&str> = f.events.iter().map(|e| e.data.type_name()).collect();
    assert_eq!(names[..3], ["Drafted", "SubmittedForReview", "Approved"]);
    for e in &f.events {
        let payload = e.data.payload();
        assert!(payload.is_object());
        let back = EventData::decode(
            e.data.type_name(),
            workflow_core::codec::SCHEMA_VERSION,
            payload,
        )
        .unwrap();
        assert_eq!(back, e.data);
        let borrowed = EventData::decode_ref(
            e.data.type_name(),
            workflow_core::codec::SCHEMA_VERSION,
            &e.data.payload(),
        )
        .unwrap();
        assert_eq!(borrowed, e.data);
        let text = serde_json::value::to_raw_value(&e.data.payload()).unwrap();
        let from_text = EventData::decode_json(
            e.data.type_name(),
            workflow_core::codec::SCHEMA_VERSION,
            &text,
        )
        .unwrap();
        assert_eq!(from_text, e.data);
    }
    // A payload written today must read the same way tomorrow: pin one.
    let issued = f
        .events
        .iter()
        .find(|e| e.data.type_name() == "Issued")
        .unwrap();
    assert_eq!(
        issued.data.payload().to_string(),
        r#"{"cc":["校党委","CWC"],"copies":40,"issue_date":"2026-11-05","main_recipients":["各学院","各部门","RSC"],"number":{"prefix":"X校发","seq":1,"year":2026}}"#
    );
    let e = EventData::decode(
        "Issued",
        workflow_core::codec::SCHEMA_VERSION + 1,
        serde_json::json!({}),
    )
    .unwrap_err();
    assert!(e.to_string().contains("newer"));
    let raw = serde_json::value::RawValue::from_string("{}".into()).unwrap();
    let e = EventData::decode_json("Issued", workflow_core::codec::SCHEMA_VERSION + 1, &raw)
        .unwrap_err();
    assert!(e.to_string().contains("newer"));
    // A payload of the wrong shape is named, not panicked on.
    let raw = serde_json::value::RawValue::from_string(r#"{"copies":"thirty"}"#.into()).unwrap();
    let e =
        EventData::decode_json("Issued", workflow_core::codec::SCHEMA_VERSION, &raw).unwrap_err();
    assert!(e.to_string().contains("Issued"), "{e}");
    assert!(EventData::decode("Nope", 1, serde_json::json!({})).is_err());
    // The fold of the log equals the live state.
    assert_eq!(f.fold().as_ref(), f.state.as_ref());
}
