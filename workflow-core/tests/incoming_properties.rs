//! Property tests of the 收文 flow: random commands from random actors, against several
//! receipts sharing one directory. After every step:
//! 1. a rejected command changed nothing (the script checks it);
//! 2. the receipt's invariants hold in every reachable state;
//! 3. every accepted command came from an actor the rules (restated here) allow;
//! 4. folding the events again gives the live state, also after a JSON round trip;
//! 5. 收文编号 stay unique and gapless per unit and year across receipts.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use proptest::prelude::*;
use workflow_core::incoming::Step;
use workflow_core::{
    Context, UnitCode, directory::Role, incoming::IncomingAction, incoming::IncomingEvent,
    incoming::Plan, incoming::Receipt, kind::Urgency, retention::Retention,
};
use workflow_testkit::incoming::{ReceiptScript, instruct_flow};

const ACTORS: &[&str] = &[
    "he.ping",
    "ding.xin",
    "lin.zhiyuan",
    "song.hua",
    "fang.yu",
    "guo.tao",
    "xie.na",
    "ye.qing",
    "wang.fang",
    "xu.jing",
    "chen.hong",
    "zheng.xiao",
    "nobody",
];

fn date(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d.clamp(1, 30)).unwrap()
}

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("同意。".to_owned()),
        Just(" ".to_owned())
    ]
}

fn arb_units() -> impl Strategy<Value = Vec<UnitCode>> {
    prop::collection::vec(
        prop::sample::select(vec!["JWC", "RSC", "CWC", "XSC", "NOPE"]),
        0..3,
    )
    .prop_map(|v| v.into_iter().map(UnitCode::from).collect())
}

fn arb_actors() -> impl Strategy<Value = Vec<workflow_core::ActorId>> {
    prop::collection::vec(prop::sample::select(ACTORS.to_vec()), 0..3)
        .prop_map(|v| v.into_iter().map(Into::into).collect())
}

fn arb_action() -> impl Strategy<Value = IncomingAction> {
    let reg = workflow_testkit::incoming::incoming_sample().registration;
    prop_oneof![
        (
            any::<bool>(),
            prop::option::of(prop::sample::select(vec!["JWC", "RSC", "XB"]))
        )
            .prop_map(move |(normal, unit)| {
                let mut r = reg.clone();
                if normal {
                    r.urgency = Urgency::Normal;
                    r.deadline = None;
                }
                IncomingAction::Register {
                    registration: r,
                    unit: unit.map(Into::into),
                }
            }),
        (arb_text(), prop::option::of(1..31u32)).prop_map(|(note, d)| IncomingAction::Screen {
            note,
            deadline: d.map(date)
        }),
        arb_text().prop_map(|reason| IncomingAction::RejectIncoming { reason }),
        (arb_actors(), prop::option::of(1..31u32), arb_text()).prop_map(|(readers, d, opinion)| {
            IncomingAction::Propose {
                plan: Plan::Circulate {
                    readers,
                    act_by: d.map(date),
                },
                opinion,
            }
        }),
        (
            prop::sample::select(ACTORS.to_vec()),
            arb_actors(),
            any::<bool>(),
            arb_text()
        )
            .prop_map(
                |(l, co_leaders, in_turn, opinion)| IncomingAction::Propose {
                    plan: Plan::Instruct {
                        leader: l.into(),
                        co_leaders,
                        in_turn,
                    },
                    opinion,
                }
            ),
        arb_text().prop_map(|opinion| IncomingAction::CommentInstruction { opinion }),
        (prop::sample::select(ACTORS.to_vec()), arb_text()).prop_map(|(l, opinion)| {
            IncomingAction::Propose {
                plan: Plan::instruct(l.into()),
                opinion,
            }
        }),
        (
            prop::sample::select(vec!["JWC", "RSC", "NOPE"]),
            arb_units(),
            1..31u32,
            arb_text(),
            any::<bool>()
        )
            .prop_map(
                |(lead, co, d, opinion, supervise)| IncomingAction::Instruct {
                    lead_unit: lead.into(),
                    co_units: co,
                    deadline: date(d),
                    opinion,
                    supervise
                }
            ),
        (prop::sample::select(ACTORS.to_vec()), arb_text()).prop_map(|(to, opinion)| {
            IncomingAction::TransferInstruction {
                to: to.into(),
                opinion,
            }
        }),
        arb_text().prop_map(|text| IncomingAction::RecordProgress { text }),
        arb_text().prop_map(|message| IncomingAction::UrgeIncoming { message }),
        arb_text().prop_map(|note| IncomingAction::ReturnSlip { note }),
        arb_text().prop_map(|text| IncomingAction::CoInput { text }),
        (1..31u32, arb_text()).prop_map(|(d, reason)| IncomingAction::RequestExtension {
            until: date(d),
            reason
        }),
        (any::<bool>(), arb_text())
            .prop_map(|(grant, reason)| IncomingAction::DecideExtension { grant, reason }),
        arb_text().prop_map(|reason| IncomingAction::SendBack { reason }),
        (arb_text(), arb_text())
            .prop_map(|(result, reply)| IncomingAction::Complete { result, reply }),
        arb_text().prop_map(|opinion| IncomingAction::MarkRead { opinion }),
        (arb_actors(), prop::option::of(1..31u32)).prop_map(|(readers, d)| {
            IncomingAction::AddReaders {
                readers,
                act_by: d.map(date),
            }
        }),
        prop::option::of(prop::sample::select(Retention::ALL.to_vec())).prop_map(|retention| {
            IncomingAction::ArchiveIncoming {
                fonds: "J012".into(),
                retention,
                unit_code: "JWC".into(),
                deviation_reason: String::new(),
            }
        }),
        Just(IncomingAction::RemindIncoming { escalate_to: None }),
    ]
}

fn check_invariants(r: &Receipt) -> Result<(), String> {
    let need = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(format!("{what} in {:?}: {r:?}", r.step()))
        }
    };
    match r.step() {
        Step::AwaitingInstruction => need(r.leader().is_some(), "a leader")?,
        Step::InHandling => {
            let i = r.instruction();
            need(i.is_some(), "an instruction")?;
            let i = i.unwrap();
            need(
                !i.co_units.contains(&i.lead_unit),
                "lead unit not a co unit",
            )?;
            need(r.deadline().is_some(), "a deadline")?;
            for u in r.co_inputs().keys() {
                need(i.co_units.contains(u), "input only from co units")?;
            }
        }
        Step::Circulating => {
            need(!r.readers().is_empty(), "readers")?;
            need(!r.unread().is_empty(), "someone still to read")?;
        }
        Step::Completed => need(
            r.closure().is_some() || (!r.readers().is_empty() && r.unread().is_empty()),
            "a closure or every reader's mark",
        )?,
        Step::Rejected => need(r.rejection().is_some(), "a reason")?,
        Step::Archived => need(r.archive().is_some(), "an archive record")?,
        Step::Registered | Step::Proposing => need(r.instruction().is_none(), "no instruction")?,
    }
    if let Some(c) = r.closure()
        && r.registration().reply_required
    {
        need(!c.reply.is_empty(), "a reply when one is required")?;
    }
    Ok(())
}

/// Who may give an accepted command, restated from §3a independently of the decide code.
fn authorised(
    before: Option<&Receipt>,
    actor: &str,
    action: &IncomingAction,
    dir: &dyn Context,
) -> Result<(), String> {
    let a = dir.actor(&actor.into()).ok_or("unknown actor accepted")?;
    let office = |r: &Receipt| a.unit == *r.unit() || a.unit.as_str() == "XB";
    let ok = match (before, action) {
        (None, IncomingAction::Register { .. }) => a.has_role(Role::Registrar),
        (Some(_), IncomingAction::Register { .. }) | (None, _) => false,
        (Some(r), IncomingAction::Screen { .. } | IncomingAction::RejectIncoming { .. }) => {
            (a.has_role(Role::Registrar) || a.has_role(Role::OfficeDirector)) && office(r)
        }
        (Some(r), IncomingAction::Propose { .. } | IncomingAction::DecideExtension { .. }) => {
            a.has_role(Role::OfficeDirector) && office(r)
        }
        // 传阅: the office director, or the leader whose 批示 it carries.
        (Some(r), IncomingAction::AddReaders { .. }) => {
            (a.has_role(Role::OfficeDirector) && office(r))
                || r.instruction().is_some_and(|i| i.leader == a.id)
        }
        // The deciding leader: 批示 once the 会批 co-leaders have all commented, 转批 at
        // any time.
        (Some(r), IncomingAction::Instruct { .. }) => {
            r.leader().is_some_and(|l| l.as_str() == actor) && r.pending_co_leaders().is_empty()
        }
        (Some(r), IncomingAction::TransferInstruction { .. }) => {
            r.leader().is_some_and(|l| l.as_str() == actor)
        }
        // 会批: a co-leader still to comment; in turn, the first of them.
        (Some(r), IncomingAction::CommentInstruction { .. }) => {
            let pending = r.pending_co_leaders();
            let in_turn = matches!(r.plan(), Some(Plan::Instruct { in_turn: true, .. }));
            if in_turn {
                pending.first().is_some_and(|l| l.as_str() == actor)
            } else {
                pending.iter().any(|l| l.as_str() == actor)
            }
        }
        (
            Some(r),
            IncomingAction::RecordProgress { .. }
            | IncomingAction::RequestExtension { .. }
            | IncomingAction::SendBack { .. }
            | IncomingAction::Complete { .. },
        ) => a.has_role(Role::Handler) && r.instruction().is_some_and(|i| i.lead_unit == a.unit),
        (Some(r), IncomingAction::CoInput { .. }) => {
            a.has_role(Role::Handler)
                && r.instruction()
                    .is_some_and(|i| i.co_units.contains(&a.unit))
        }
        (Some(r), IncomingAction::MarkRead { .. }) => {
            r.readers().get(&a.id).is_some_and(Option::is_none)
        }
        // Filed once every reader has read it.
        (Some(r), IncomingAction::ArchiveIncoming { .. }) => {
            a.has_role(Role::Archivist) && r.unread().is_empty()
        }
        (Some(_), IncomingAction::RemindIncoming { .. }) => false,
        // 回执已回: the office, once, where one was asked for and it was not sent back.
        (Some(r), IncomingAction::ReturnSlip { .. }) => {
            (a.has_role(Role::Registrar) || a.has_role(Role::OfficeDirector))
                && office(r)
                && r.registration().slip_required
                && r.slip_returned().is_none()
                && r.step() != workflow_core::incoming::Step::Rejected
        }
        // 催办: the office, while the lead unit handles it.
        (Some(r), IncomingAction::UrgeIncoming { .. }) => {
            (a.has_role(Role::Registrar) || a.has_role(Role::OfficeDirector))
                && office(r)
                && r.step() == workflow_core::incoming::Step::InHandling
        }
    };
    let cleared = before.is_none_or(|r| a.may_see(r.registration().classification));
    if ok && cleared {
        Ok(())
    } else {
        Err(format!("{actor} was allowed {}", action.name()))
    }
}

/// The 待办 holders of a state (its assignees) are exactly the actors who may give it one
/// of the commands that are work (`work_actions`): the same rule as the store's test, over
/// random reachable states.
fn holders_are_who_may_act(r: &Receipt, f: &ReceiptScript) -> Result<(), String> {
    use workflow_core::{Flow, FlowCommand, incoming::Incoming};
    let candidates = workflow_testkit::incoming::work_actions(&f.sample);
    let is_unit = |u: &str| f.dir.unit(&u.into()).is_some();
    let keys = Incoming::assignees(r, &is_unit);
    for a in f.dir.actors() {
        let in_office = f.dir.unit(&a.unit).is_some_and(|u| u.office);
        let holds = keys.iter().any(|k| k.matches(a, in_office));
        let may_act = candidates.iter().any(|action| {
            let cmd = FlowCommand {
                document_id: r.id(),
                actor: a.id.clone(),
                at: f.clock,
                action: action.clone(),
            };
            Incoming::decide(Some(r), &cmd, &f.dir).is_ok()
        });
        if holds != may_act {
            return Err(format!(
                "{} {} in {:?} (holders' keys {keys:?}) but {} act on it",
                a.id,
                if holds {
                    "holds it"
                } else {
                    "does not hold it"
                },
                r.step(),
                if may_act { "may" } else { "may not" }
            ));
        }
    }
    Ok(())
}

fn run_case(steps: &[(usize, usize, IncomingAction)], guided: usize) -> Result<(), TestCaseError> {
    let mut f = ReceiptScript::with_directory(common::directory());
    let mut receipts: BTreeMap<usize, (Option<Receipt>, Vec<_>)> = BTreeMap::new();
    let mut numbers: BTreeMap<(String, i32), BTreeSet<u32>> = BTreeMap::new();
    // A guided prefix of the sample flow, so deep states are reached, then noise.
    let sample = instruct_flow(&f.sample, "J012");
    let mut all: Vec<(usize, String, IncomingAction)> = sample[..guided.min(sample.len())]
        .iter()
        .map(|(a, act)| (0, a.0.clone(), act.clone()))
        .collect();
    all.extend(
        steps
            .iter()
            .map(|(doc, who, act)| (*doc, ACTORS[*who].to_owned(), act.clone())),
    );
    for (doc, actor, action) in all {
        // Switch to receipt `doc` (3 of them share the directory and numbering).
        let (state, events) = receipts.remove(&doc).unwrap_or((None, Vec::new()));
        f.id = workflow_core::DocumentId(uuid::Uuid::from_u128(0x7000 + doc as u128));
        f.state = state;
        f.events = events;
        let before = f.state.clone();
        match f.run(&actor, action.clone()) {
            Ok(new) => {
                authorised(before.as_ref(), &actor, &action, &f.dir)
                    .map_err(TestCaseError::fail)?;
                for e in &new {
                    if let IncomingEvent::Registered { number, .. } = &e.data {
                        let set = numbers
                            .entry((number.prefix.clone(), number.year))
                            .or_default();
                        prop_assert!(set.insert(number.seq), "number {number} twice");
                    }
                }
            }
            Err(_) => prop_assert_eq!(&f.state, &before, "a rejection changed the state"),
        }
        if let Some(r) = &f.state {
            check_invariants(r).map_err(TestCaseError::fail)?;
            holders_are_who_may_act(r, &f).map_err(TestCaseError::fail)?;
            let folded = f.fold();
            prop_assert_eq!(folded.as_ref(), Some(r));
            let json = serde_json::to_string(r).unwrap();
            prop_assert_eq!(&serde_json::from_str::<Receipt>(&json).unwrap(), r);
        }
        receipts.insert(doc, (f.state.take(), std::mem::take(&mut f.events)));
    }
    for ((prefix, year), set) in numbers {
        let expected: BTreeSet<u32> = (1..=u32::try_from(set.len()).unwrap()).collect();
        prop_assert_eq!(set, expected, "gapless {}〔{}〕", prefix, year);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_incoming_commands_keep_invariants_authorisation_and_fold(
        guided in 0..12usize,
        steps in prop::collection::vec((0..3usize, 0..ACTORS.len(), arb_action()), 1..60),
    ) {
        run_case(&steps, guided)?;
    }
}
