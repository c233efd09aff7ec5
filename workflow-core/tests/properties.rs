//! Property tests of the state machine: random commands from random actors.
//!
//! Three properties, each checked after every step of every run:
//! 1. no reachable state breaks the document's invariants;
//! 2. every accepted command came from an actor the rules (restated here independently)
//!    allow, so an unauthorised actor never changes anything;
//! 3. folding the run's events again — directly and after a JSON round trip — gives the
//!    live state, and document numbers stay unique and gapless across documents.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use common::*;
use proptest::prelude::*;
use workflow_core::{
    ActorId, Context, directory::Actor, directory::Classification, directory::Role, kind::Kind,
    outgoing::Action, outgoing::Document, outgoing::DraftFields, outgoing::Event,
    outgoing::EventData, outgoing::State, retention::Retention, route::StageSpec,
};

const ACTORS: &[&str] = &[
    "wang.fang",
    "li.qiang",
    "zhao.min",
    "sun.li",
    "zhou.jie",
    "chen.hong",
    "liu.yang",
    "huang.wei",
    "zhang.guoqing",
    "xu.jing",
    "ma.lin",
    "gao.yu",
    "low.clearance",
    "nobody",
];

fn arb_fields() -> impl Strategy<Value = DraftFields> {
    (0..6u8, any::<bool>()).prop_map(|(variant, empty_title)| {
        let mut f = fields();
        match variant {
            1 => {
                f.classification = Classification::Secret;
                f.classification_period_years = Some(5)
            }
            2 => {
                f.kind = Kind::Report;
                f.main_recipients = vec!["省教育厅".into()]
            }
            3 => f.co_issuing_units = vec!["JWC".into()],
            4 => f.important = true,
            5 => {
                f.kind = Kind::Request;
                f.main_recipients = vec![]
            }
            _ => {}
        }
        if empty_title {
            f.title = String::new();
        }
        f
    })
}

fn arb_route() -> impl Strategy<Value = Vec<StageSpec>> {
    prop_oneof![
        Just(route()),
        Just(vec![StageSpec::Review {
            reviewer: "chen.hong".into(),
            deadline_days: None,
            escalate_to: None
        }]),
        Just(vec![StageSpec::Countersign {
            departments: vec!["RSC".into(), "CWC".into()],
            deadline_days: Some(1),
            completion: Default::default(),
            escalate_to: None
        }]),
        Just(vec![
            StageSpec::Review {
                reviewer: "li.qiang".into(),
                deadline_days: None,
                escalate_to: None
            },
            StageSpec::Review {
                reviewer: "chen.hong".into(),
                deadline_days: None,
                escalate_to: None
            },
        ]),
        Just(vec![]),
        Just(vec![StageSpec::Countersign {
            departments: vec!["RSC".into(), "CWC".into(), "XSC".into()],
            deadline_days: Some(1),
            completion: workflow_core::route::Completion::Any,
            escalate_to: Some("chen.hong".into()),
        }]),
        Just(vec![
            StageSpec::Countersign {
                departments: vec!["RSC".into(), "CWC".into(), "XSC".into()],
                deadline_days: None,
                completion: workflow_core::route::Completion::Ratio { percent: 60 },
                escalate_to: None,
            },
            StageSpec::review("chen.hong"),
        ]),
        Just(vec![StageSpec::Review {
            reviewer: "zhao.min".into(),
            deadline_days: None,
            escalate_to: None
        }]),
    ]
}

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("同意。".to_owned()),
        Just("请补充材料。".to_owned())
    ]
}

/// A random action, which names the stage it is meant for about a third of the time.
fn arb_action() -> impl Strategy<Value = Action> {
    (arb_plain_action(), prop::option::weighted(0.3, 0..3usize))
        .prop_map(|(a, meant)| with_meant_stage(a, meant))
}

/// Sets the stage an action is meant for, where it has one.
fn with_meant_stage(mut a: Action, meant: Option<usize>) -> Action {
    if let Some(slot) = meant_stage_mut(&mut a) {
        *slot = meant;
    }
    a
}

fn meant_stage_mut(a: &mut Action) -> Option<&mut Option<usize>> {
    match a {
        Action::Approve { stage, .. }
        | Action::Return { stage, .. }
        | Action::Countersign { stage, .. }
        | Action::AddReviewer { stage, .. }
        | Action::Reassign { stage, .. }
        | Action::Delegate { stage, .. }
        | Action::AddCountersigner { stage, .. }
        | Action::RemoveCountersigner { stage, .. }
        | Action::ReturnToStage {
            from_stage: stage, ..
        } => Some(stage),
        _ => None,
    }
}

fn arb_plain_action() -> impl Strategy<Value = Action> {
    prop_oneof![
        arb_fields().prop_map(Action::Draft),
        arb_fields().prop_map(Action::Revise),
        arb_route().prop_map(|route| Action::SubmitForReview { route }),
        arb_text().prop_map(|opinion| Action::Approve {
            stage: None,
            opinion,
            content: None
        }),
        arb_text().prop_map(|opinion| Action::Approve {
            stage: None,
            opinion,
            content: None
        }),
        arb_text().prop_map(|reason| Action::Return {
            stage: None,
            reason
        }),
        arb_text().prop_map(|reason| Action::Withdraw { reason }),
        (any::<bool>(), arb_text()).prop_map(|(agree, opinion)| Action::Countersign {
            stage: None,
            agree,
            opinion,
            content: None
        }),
        (any::<bool>(), arb_text()).prop_map(|(agree, opinion)| Action::Countersign {
            stage: None,
            agree: agree || opinion.is_empty(),
            opinion,
            content: None
        }),
        prop_oneof![Just("XB"), Just("KYC"), Just("RSC"), Just("NOPE")].prop_map(|u| {
            Action::AddCountersigner {
                unit: u.into(),
                stage: None,
            }
        }),
        arb_text().prop_map(|opinion| Action::SignOff {
            opinion,
            content: None
        }),
        arb_text().prop_map(|opinion| Action::SignOff {
            opinion,
            content: None
        }),
        (0..3u32, 0..2u32).prop_map(|(y, copies)| Action::Issue {
            issue_date: NaiveDate::from_ymd_opt(2026 + y as i32, 12, 1).unwrap(),
            copies,
        }),
        Just(Action::Acknowledge),
        prop_oneof![
            Just(Retention::Permanent),
            Just(Retention::Years30),
            Just(Retention::Years10)
        ]
        .prop_map(|retention| Action::Archive {
            fonds: "J012".into(),
            retention: Some(retention),
            unit_code: "JWC".into(),
            deviation_reason: String::new(),
        }),
        arb_text().prop_map(|reason| Action::Void { reason }),
        arb_route_change(),
    ]
}

/// The route-changing commands of DESIGN §2b.
fn arb_route_change() -> impl Strategy<Value = Action> {
    let reviewer = || {
        prop_oneof![
            Just("li.qiang"),
            Just("chen.hong"),
            Just("zhao.min"),
            Just("low.clearance")
        ]
    };
    prop_oneof![
        (reviewer(), any::<bool>()).prop_map(|(r, before)| Action::AddReviewer {
            stage: None,
            reviewer: r.into(),
            before
        }),
        (
            prop_oneof![Just("RSC"), Just("CWC"), Just("XSC"), Just("KYC")],
            prop::option::of(0..3usize)
        )
            .prop_map(|(u, stage)| Action::RemoveCountersigner {
                unit: u.into(),
                stage
            }),
        (
            prop_oneof![Just("RSC"), Just("KYC")],
            prop::option::of(0..3usize)
        )
            .prop_map(|(u, stage)| Action::AddCountersigner {
                unit: u.into(),
                stage
            }),
        (reviewer(), arb_text()).prop_map(|(to, reason)| Action::Reassign {
            stage: None,
            to: to.into(),
            reason
        }),
        (reviewer(), arb_text()).prop_map(|(to, reason)| Action::Delegate {
            stage: None,
            to: to.into(),
            reason
        }),
        (0..3usize, arb_text()).prop_map(|(stage, reason)| Action::ReturnToStage {
            from_stage: None,
            stage,
            reason
        }),
        Just(Action::Remind { interval_hours: 24 }),
    ]
}

/// The structural invariants every reachable document satisfies.
fn check_invariants(d: &Document) -> Result<(), String> {
    let current = d.current();
    match d.state() {
        State::InReview => match current {
            Some((_, s)) if matches!(s.spec, StageSpec::Review { .. }) => {}
            _ => return Err("InReview without a current review stage".into()),
        },
        State::Countersigning => match current {
            Some((_, s)) if matches!(s.spec, StageSpec::Countersign { .. }) => {
                if d.pending_departments().is_empty() {
                    return Err("Countersigning with nobody pending".into());
                }
                if d.current().map(|(_, s)| s.outcome())
                    != Some(workflow_core::route::StageOutcome::Pending)
                {
                    return Err("Countersigning on a decided stage".into());
                }
            }
            _ => return Err("Countersigning without a current countersign stage".into()),
        },
        _ => {
            if current.is_some() {
                return Err(format!("{} with a current stage", d.state()));
            }
        }
    }
    if let Some((i, _)) = current {
        for (j, s) in d.route().iter().enumerate() {
            if (j < i) != s.completed {
                return Err(format!(
                    "stage {j} completed={} while at stage {i}",
                    s.completed
                ));
            }
            if j <= i && s.started_at.is_none() {
                return Err(format!("stage {j} not started while at stage {i}"));
            }
        }
    }
    for s in d.route() {
        if let StageSpec::Countersign { departments, .. } = &s.spec
            && s.countersigns.keys().any(|k| !departments.contains(k))
        {
            return Err("a countersign from a department not in the stage".into());
        }
    }
    let pre_issue = matches!(
        d.state(),
        State::Drafting
            | State::InReview
            | State::Countersigning
            | State::AwaitingSignOff
            | State::SignedOff
    );
    if pre_issue != d.issue().is_none() && d.state() != State::Voided {
        return Err(format!("{} with issue record {:?}", d.state(), d.issue()));
    }
    match d.state() {
        State::AwaitingSignOff if d.unsigned_units().is_empty() => {
            return Err("all signed but awaiting".into());
        }
        State::SignedOff | State::Issued | State::Archived
            if !d.unsigned_units().is_empty() || d.written_date().is_none() =>
        {
            return Err("signed off without all signatures".into());
        }
        State::Archived if d.archive().is_none() => return Err("archived without record".into()),
        State::Voided if d.void_reason().is_none_or(str::is_empty) => {
            return Err("voided without reason".into());
        }
        _ => {}
    }
    if let Some(i) = d.issue() {
        let recipients: BTreeSet<&String> = i.main_recipients.iter().chain(&i.cc).collect();
        if d.acknowledged().keys().any(|u| !recipients.contains(&u.0)) {
            return Err("acknowledged by a non-recipient".into());
        }
        if i.number.seq == 0 || i.copies == 0 {
            return Err("issue with number 0 or no copies".into());
        }
    }
    if d.state() != State::Drafting
        && d.state() != State::Voided
        && d.round() == 0
        && d.issue().is_none()
    {
        return Err("in the route without a round".into());
    }
    Ok(())
}

/// The authorization rules restated independently of `handle`: may `actor` have done
/// `action` to `before` (or, for Draft, created a document with those fields)?
fn authorised(before: Option<&Document>, actor: &Actor, action: &Action) -> Result<(), String> {
    let Some(d) = before else {
        return match action {
            Action::Draft(f)
                if actor.has_role(Role::Drafter) && actor.may_see(f.classification) =>
            {
                Ok(())
            }
            _ => Err("created a document without being a cleared drafter".into()),
        };
    };
    if d.state().is_terminal() {
        return Err(format!("changed a {} document", d.state()));
    }
    if !actor.may_see(d.classification()) {
        return Err("acted without clearance".into());
    }
    // A command meant for a stage applies only while that stage is the current one.
    let mut named = action.clone();
    if let Some(Some(meant)) = meant_stage_mut(&mut named).map(|s| *s)
        && d.current().map(|(i, _)| i) != Some(meant)
    {
        return Err(format!(
            "{} meant for stage index {meant} was accepted at {:?}",
            action.name(),
            d.current().map(|(i, _)| i)
        ));
    }
    let is_drafter = actor.id == *d.drafter();
    let stage = d.current().map(|(_, s)| s.spec.clone());
    let acting = d.current().and_then(|(_, s)| s.acting_reviewer().cloned());
    let owner = match &stage {
        Some(StageSpec::Review { reviewer, .. }) => Some(reviewer.clone()),
        Some(StageSpec::Countersign { .. }) => Some(d.drafter().clone()),
        None => None,
    };
    let manager_ok = actor.has_role(Role::Clerk) || owner.as_ref() == Some(&actor.id);
    let reviewer_ok = acting.as_ref() == Some(&actor.id) && actor.has_role(Role::Reviewer);
    let countersigner_ok = matches!(&stage, Some(StageSpec::Countersign { departments, .. }) if departments.contains(&actor.unit))
        && actor.has_role(Role::Countersigner);
    let needs_principal = d.kind().is_upward() || d.fields().important;
    let signer_ok = d.signing_units().contains(&actor.unit)
        && (actor.has_role(Role::PrincipalSignatory)
            || (!needs_principal && actor.has_role(Role::Signatory)));
    let ok = match action {
        Action::Draft(_) => false,
        Action::Revise(f) => {
            is_drafter && d.state() == State::Drafting && actor.may_see(f.classification)
        }
        Action::SubmitForReview { .. } => is_drafter && d.state() == State::Drafting,
        Action::Withdraw { .. } => is_drafter && !d.acted_in_round(),
        Action::Approve { .. } => d.state() == State::InReview && reviewer_ok,
        Action::Countersign { .. } => d.state() == State::Countersigning && countersigner_ok,
        Action::AddCountersigner { .. } => d.state() == State::Countersigning && manager_ok,
        Action::SignOff { .. } => d.state() == State::AwaitingSignOff && signer_ok,
        Action::Return { .. } => match d.state() {
            State::InReview => reviewer_ok,
            State::Countersigning => countersigner_ok,
            State::AwaitingSignOff => signer_ok,
            State::SignedOff => actor.has_role(Role::Clerk),
            _ => false,
        },
        Action::Issue { .. } => d.state() == State::SignedOff && actor.has_role(Role::Clerk),
        Action::Acknowledge => {
            d.state() == State::Issued
                && d.issue().is_some_and(|i| {
                    i.main_recipients
                        .iter()
                        .chain(&i.cc)
                        .any(|r| *r == actor.unit.0)
                })
        }
        Action::Archive { .. } => d.state() == State::Issued && actor.has_role(Role::Archivist),
        Action::Void { .. } => d.issue().is_none() && (is_drafter || actor.has_role(Role::Clerk)),
        Action::RemoveCountersigner { .. } => d.state() == State::Countersigning && manager_ok,
        Action::AddReviewer { .. } | Action::Reassign { .. } => {
            d.state() == State::InReview && manager_ok
        }
        Action::Delegate { .. } => {
            d.state() == State::InReview && reviewer_ok && owner.as_ref() == Some(&actor.id)
        }
        Action::ReturnToStage { .. } => {
            actor.has_role(Role::Clerk)
                || match d.state() {
                    State::InReview => reviewer_ok && owner.as_ref() == Some(&actor.id),
                    State::Countersigning => countersigner_ok,
                    State::AwaitingSignOff => signer_ok,
                    _ => false,
                }
        }
        // Only the engine's sweep reminds; no actor of the directory may.
        Action::Remind { .. } => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{} by {} in {} should have been refused",
            action.name(),
            actor.id,
            d.state()
        ))
    }
}

/// A command that the document is waiting for, by an actor it is waiting for, chosen by
/// `pick`; this drives runs deep into the machine while the random steps probe around it.
fn guided(d: Option<&Document>, dir: &workflow_core::Directory, pick: usize) -> (String, Action) {
    let candidates = |d: &Document| -> Vec<String> {
        let assignees = d.assignees(|s| dir.unit(&s.into()).is_some());
        dir.actors()
            .filter(|a| {
                let in_office = dir.unit(&a.unit).is_some_and(|u| u.office);
                assignees.iter().any(|x| x.matches(a, in_office))
            })
            .map(|a| a.id.0.clone())
            .collect()
    };
    let Some(d) = d else {
        let variants = [
            fields(),
            DraftFields {
                important: true,
                ..fields()
            },
            DraftFields {
                co_issuing_units: vec!["JWC".into()],
                ..fields()
            },
        ];
        return (
            "wang.fang".into(),
            Action::Draft(variants[pick % 3].clone()),
        );
    };
    let who = candidates(d);
    let who = if who.is_empty() {
        "wang.fang".to_owned()
    } else {
        who[pick % who.len()].clone()
    };
    let action = match (d.state(), pick % 8) {
        (State::Drafting, 0) => Action::Revise(fields()),
        (State::Drafting, 1) => Action::Void {
            reason: "作废".into(),
        },
        (State::Drafting, n) => Action::SubmitForReview {
            route: if n % 2 == 0 {
                route()
            } else {
                vec![StageSpec::Countersign {
                    departments: vec!["RSC".into(), "CWC".into()],
                    deadline_days: None,
                    completion: Default::default(),
                    escalate_to: None,
                }]
            },
        },
        (State::InReview, 7) if pick.is_multiple_of(3) => Action::Delegate {
            stage: None,
            to: "chen.hong".into(),
            reason: String::new(),
        },
        (State::InReview, 6) if pick.is_multiple_of(3) => {
            return (
                "liu.yang".into(),
                Action::Reassign {
                    stage: None,
                    to: "li.qiang".into(),
                    reason: "转办".into(),
                },
            );
        }
        (State::InReview, 5) if pick.is_multiple_of(3) => Action::AddReviewer {
            stage: None,
            reviewer: "chen.hong".into(),
            before: pick.is_multiple_of(2),
        },
        (State::Countersigning, 7) if pick.is_multiple_of(3) => {
            return (
                "liu.yang".into(),
                Action::RemoveCountersigner {
                    unit: "XSC".into(),
                    stage: None,
                },
            );
        }
        (State::AwaitingSignOff, 7) if pick.is_multiple_of(3) => Action::ReturnToStage {
            from_stage: None,
            stage: 0,
            reason: "重新审核".into(),
        },
        (State::InReview, 0) => Action::Return {
            stage: None,
            reason: "请修改".into(),
        },
        (State::InReview, 1) => {
            return (
                d.drafter().0.clone(),
                Action::Withdraw {
                    reason: String::new(),
                },
            );
        }
        (State::InReview, _) => Action::Approve {
            content: None,
            stage: None,
            opinion: "同意".into(),
        },
        (State::Countersigning, 0) => Action::Countersign {
            content: None,
            stage: None,
            agree: false,
            opinion: "不同意".into(),
        },
        (State::Countersigning, 1) => {
            return (
                "liu.yang".into(),
                Action::AddCountersigner {
                    unit: "KYC".into(),
                    stage: None,
                },
            );
        }
        (State::Countersigning, _) => Action::Countersign {
            content: None,
            stage: None,
            agree: true,
            opinion: String::new(),
        },
        (State::AwaitingSignOff, 0) => Action::Return {
            stage: None,
            reason: "请压缩".into(),
        },
        (State::AwaitingSignOff, _) => Action::SignOff {
            content: None,
            opinion: "同意".into(),
        },
        (State::SignedOff, 0) => Action::Return {
            stage: None,
            reason: "复核有误".into(),
        },
        (State::SignedOff, _) => Action::Issue {
            issue_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            copies: 3,
        },
        (State::Issued, n) if n < 4 => Action::Acknowledge,
        (State::Issued, _) => Action::Archive {
            fonds: "J012".into(),
            retention: Some(Retention::Years10),
            unit_code: "JWC".into(),
            deviation_reason: String::new(),
        },
        (_, _) => Action::Acknowledge,
    };
    (who, action)
}

fn run_case(steps: &[(usize, usize, Action)]) -> Result<Vec<Option<Document>>, TestCaseError> {
    let mut f = flow();
    // Two documents interleaved, sharing the directory and the numbering.
    let mut docs: Vec<(Option<Document>, Vec<Event>)> = vec![(None, vec![]), (None, vec![])];
    let ids = [f.id, {
        f.next_document();
        f.id
    }];
    for (doc_ix, actor_ix, action) in steps {
        f.id = ids[*doc_ix];
        f.state = docs[*doc_ix].0.clone();
        f.events = docs[*doc_ix].1.clone();
        // Actor indexes past the list mean "a guided step" (see `guided`).
        let (who, action) = match ACTORS.get(*actor_ix) {
            Some(who) => ((*who).to_owned(), action.clone()),
            None => guided(f.state.as_ref(), &f.dir, *actor_ix),
        };
        let (who, action) = (who.as_str(), &action);
        let before = f.state.clone();
        match f.run(who, action.clone()) {
            Ok(_) => {
                let actor = f.dir.actor(&ActorId::from(who));
                let actor = actor
                    .ok_or_else(|| TestCaseError::fail(format!("unknown actor {who} succeeded")))?;
                authorised(before.as_ref(), &actor, action).map_err(TestCaseError::fail)?;
            }
            Err(_) => prop_assert_eq!(&f.state, &before),
        }
        if let Some(d) = &f.state {
            check_invariants(d).map_err(|e| TestCaseError::fail(format!("{e}: {d:#?}")))?;
            prop_assert_eq!(f.fold(), Some(d.clone()));
            let json = serde_json::to_string(&f.events).unwrap();
            let back: Vec<Event> = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(Document::from_events(&back), Some(d.clone()));
        }
        docs[*doc_ix] = (f.state.clone(), f.events.clone());
    }
    // Numbers are unique and gapless per prefix and year across both documents.
    let mut numbers: BTreeMap<(String, i32), Vec<u32>> = BTreeMap::new();
    for (_, events) in &docs {
        for e in events {
            if let EventData::Issued { number, .. } = &e.data {
                numbers
                    .entry((number.prefix.clone(), number.year))
                    .or_default()
                    .push(number.seq);
            }
        }
    }
    for (key, mut seqs) in numbers {
        seqs.sort_unstable();
        prop_assert_eq!(
            &seqs,
            &(1..=seqs.len() as u32).collect::<Vec<_>>(),
            "series {:?}",
            key
        );
    }
    if std::env::var_os("WORKFLOW_PROP_STATS").is_some() {
        eprintln!(
            "reached: {:?}",
            docs.iter()
                .map(|(d, _)| d.as_ref().map(Document::state))
                .collect::<Vec<_>>()
        );
    }
    Ok(docs.into_iter().map(|(d, _)| d).collect())
}

/// Steps biased toward the actors the flow waits for, so runs get deep into the machine.
fn arb_steps() -> impl Strategy<Value = Vec<(usize, usize, Action)>> {
    prop::collection::vec((0..2usize, 0..ACTORS.len() * 3, arb_action()), 1..80)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1200, ..ProptestConfig::default() })]

    #[test]
    fn random_commands_keep_invariants_authorisation_and_fold(steps in arb_steps()) {
        run_case(&steps)?;
    }

    /// A guided run: the happy path with random interleaved noise still reaches archive.
    #[test]
    fn guided_flow_with_noise_reaches_archive(noise in prop::collection::vec((0..ACTORS.len(), arb_action()), 0..40)) {
        let happy: Vec<(usize, Action)> = vec![
            (0, Action::Draft(fields())),
            (0, Action::SubmitForReview { route: route() }),
            (1, approve("同意")),
            (2, agree("同意")), (3, agree("同意")), (4, agree("同意")),
            (5, approve("同意")),
            (7, sign("同意印发")),
            (6, issue(2026, 12, 1)),
            (9, archive()),
        ];
        let mut steps = Vec::new();
        for (i, (a, act)) in happy.into_iter().enumerate() {
            steps.push((0, a, act));
            if let Some((who, act)) = noise.get(i) {
                steps.push((1, *who, act.clone()));
            }
        }
        let docs = run_case(&steps)?;
        prop_assert_eq!(docs[0].as_ref().map(Document::state), Some(State::Archived));
    }
}
