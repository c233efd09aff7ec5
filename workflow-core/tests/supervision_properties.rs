//! Property tests of the 督办 flow: random commands from random actors and random jumps of
//! the clock with a deadline sweep, against several items sharing one directory. After
//! every step:
//! 1. a rejected command changed nothing (the script checks it);
//! 2. the item's invariants hold in every reachable state;
//! 3. every accepted command came from an actor the rules (restated here from §3b) allow;
//! 4. folding the events again gives the live state, also after a JSON round trip;
//! 5. a reminder the sweep finds due is accepted, and its key is never found due again;
//! 6. 档号 件号 stay unique and gapless per series across items.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use workflow_core::supervision::{Frequency, ItemSpec, ItemStep, Source, SupervisionAction};
use workflow_core::{
    Context, Flow, UnitCode, directory::Classification, directory::Role, ids::SYSTEM_ACTOR,
    retention::Retention, supervision::Item, supervision::Supervision,
    supervision::SupervisionEvent,
};
use workflow_testkit::supervision::{ItemScript, item_flow};

const ACTORS: &[&str] = &[
    "ding.xin",
    "fang.yu",
    "guo.tao",
    "wu.gang",
    "ye.qing",
    "liu.yang",
    "lin.zhiyuan",
    "xu.jing",
    "wang.fang",
    "nobody",
    SYSTEM_ACTOR,
];

fn date(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 1).unwrap() + Duration::days(i64::from(d))
}

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("已落实。".to_owned()),
        Just(" ".to_owned())
    ]
}

fn arb_spec() -> impl Strategy<Value = ItemSpec> {
    (
        prop::sample::select(vec!["JWC", "RSC", "KYC", "XSC", "NOPE"]),
        prop::option::of(prop::sample::select(vec![
            "fang.yu",
            "guo.tao",
            "wang.fang",
        ])),
        prop::collection::vec(
            prop::sample::select(vec!["JWC", "RSC", "CWC", "NOPE"]),
            0..3,
        ),
        0..60u32,
        prop::sample::select(vec![Frequency::None, Frequency::Weekly, Frequency::Monthly]),
        0..10u32,
        prop::sample::select(vec![
            Classification::None,
            Classification::Secret,
            Classification::Confidential,
        ]),
        prop::sample::select(vec!["lin.zhiyuan", "song.hua", "fang.yu"]),
    )
        .prop_map(
            |(lead, responsible, co, d, feedback, warn_days, classification, leader)| ItemSpec {
                source: Source::Meeting {
                    reference: "校长办公会纪要〔2026〕21号".into(),
                },
                title: "落实会议决定事项".into(),
                requirements: "按期办结并报送成果。".into(),
                leader: leader.into(),
                lead_unit: lead.into(),
                responsible: responsible.map(Into::into),
                co_units: co.into_iter().map(UnitCode::from).collect(),
                deadline: date(d),
                feedback,
                warn_days,
                classification,
            },
        )
}

fn arb_action() -> impl Strategy<Value = SupervisionAction> {
    prop_oneof![
        arb_spec().prop_map(|spec| SupervisionAction::OpenItem { spec }),
        arb_text().prop_map(|note| SupervisionAction::AcceptItem { note }),
        (arb_text(), prop::option::of(0..120u8))
            .prop_map(|(text, percent)| SupervisionAction::ReportProgress { text, percent }),
        (0..90u32, arb_text()).prop_map(|(d, reason)| SupervisionAction::RequestItemExtension {
            until: date(d),
            reason
        }),
        (any::<bool>(), arb_text())
            .prop_map(|(grant, reason)| SupervisionAction::DecideItemExtension { grant, reason }),
        arb_text().prop_map(|result| SupervisionAction::ReportCompletion { result }),
        (
            arb_text(),
            prop::option::of(prop::sample::select(
                workflow_core::supervision::Grade::ALL.to_vec()
            ))
        )
            .prop_map(|(note, grade)| SupervisionAction::CloseItem { note, grade }),
        arb_text().prop_map(|reason| SupervisionAction::ReturnItem { reason }),
        arb_text().prop_map(|message| SupervisionAction::UrgeItem { message }),
        arb_text().prop_map(|text| SupervisionAction::GiveItemInput { text }),
        prop::option::of(prop::sample::select(Retention::ALL.to_vec())).prop_map(|retention| {
            SupervisionAction::ArchiveItem {
                fonds: "J012".into(),
                retention,
                unit_code: "JWC".into(),
                deviation_reason: String::new(),
            }
        }),
        Just(SupervisionAction::RemindItem {
            reason: workflow_core::supervision::ReminderReason::Overdue,
            escalate_to: None,
        }),
    ]
}

/// One step of a case: a command to item `doc`, or the clock jumping `hours` and the
/// deadline sweep running over item `doc`.
#[derive(Debug, Clone)]
enum Step {
    Command(usize, usize, SupervisionAction),
    Sweep(usize, u32),
}

fn arb_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0..3usize, 0..ACTORS.len(), arb_action())
            .prop_map(|(doc, who, action)| Step::Command(doc, who, action)),
        1 => (0..3usize, 1..400u32).prop_map(|(doc, hours)| Step::Sweep(doc, hours)),
    ]
}

fn check_invariants(i: &Item, dir: &dyn Context) -> Result<(), String> {
    let need = |ok: bool, what: &str| {
        if ok {
            Ok(())
        } else {
            Err(format!("{what} in {:?}: {i:?}", i.step()))
        }
    };
    let spec = i.spec();
    need(
        !spec.co_units.contains(&spec.lead_unit),
        "the lead unit is not a cooperating unit",
    )?;
    match i.step() {
        ItemStep::Opened => need(i.accepted_at().is_none(), "not yet signed for")?,
        ItemStep::Assigned | ItemStep::InProgress => {
            need(i.responsible().is_some(), "a 责任人")?;
            need(i.accepted_at().is_some(), "signed for")?;
            need(i.completion().is_none(), "no completion report in force")?;
        }
        ItemStep::CompletionReported => need(i.completion().is_some(), "a completion report")?,
        ItemStep::Closed => need(
            i.closed_at().is_some() && i.completion().is_some(),
            "closed with its report",
        )?,
        // Filed once closed, or once withdrawn.
        ItemStep::Archived => need(
            i.archive().is_some()
                && (i.closed_at().is_some() || i.opinions().iter().any(|o| o.step == "revoke")),
            "an archive record",
        )?,
        ItemStep::Withdrawn => need(
            i.closed_at().is_none() && i.opinions().iter().any(|o| o.step == "revoke"),
            "withdrawn, never closed, with its reason",
        )?,
    }
    if i.extension().is_some() {
        need(
            matches!(i.step(), ItemStep::Assigned | ItemStep::InProgress),
            "an extension pending only while the lead unit has it",
        )?;
    }
    if matches!(i.step(), ItemStep::InProgress) {
        // 办理中: the lead unit reported progress, or its completion report was sent back
        // (退回重办 returns the item to work even when no feedback came before the report).
        let sent_back = i.opinions().iter().any(|o| o.step == "return");
        need(
            !i.feedback().is_empty() || sent_back,
            "feedback or a report sent back in progress",
        )?;
    }
    // The deadline in force: the original, or the last granted extension's, never earlier.
    let granted = i.extensions().iter().rev().find(|e| e.granted);
    need(
        i.deadline() == granted.map_or(spec.deadline, |e| e.until),
        "the deadline in force is the last granted one",
    )?;
    need(
        i.deadline() >= spec.deadline,
        "the original deadline only moves later",
    )?;
    for e in i.extensions() {
        need(e.until > e.from, "an extension moves the deadline later")?;
    }
    for f in i.feedback() {
        need(f.percent.is_none_or(|p| p <= 100), "percent at most 100")?;
    }
    if let Some(r) = i.responsible() {
        let unit = dir.actor(r).map(|a| a.unit);
        need(
            unit.as_ref() == Some(&spec.lead_unit),
            "the 责任人 is of the lead unit",
        )?;
    }
    Ok(())
}

/// Who may give an accepted command, restated from §3b independently of the decide code.
fn authorised(
    before: Option<&Item>,
    actor: &str,
    action: &SupervisionAction,
    dir: &dyn Context,
) -> Result<(), String> {
    let denied = || Err(format!("{actor} was allowed {}", action.name()));
    if actor == SYSTEM_ACTOR {
        // The engine opens only items a 批办 asks for, and sends reminders.
        return match (before, action) {
            (
                Some(_),
                SupervisionAction::RemindItem { .. } | SupervisionAction::WithdrawItem { .. },
            ) => Ok(()),
            _ => denied(),
        };
    }
    let a = dir.actor(&actor.into()).ok_or("unknown actor accepted")?;
    let lead = |i: &Item| {
        i.responsible() == Some(&a.id)
            || (a.has_role(Role::Handler) && a.unit == i.spec().lead_unit)
    };
    let ok = match (before, action) {
        (None, SupervisionAction::OpenItem { .. }) => a.has_role(Role::Supervisor),
        (Some(_), SupervisionAction::OpenItem { .. }) | (None, _) => false,
        (Some(i), SupervisionAction::AcceptItem { .. }) => match i.responsible() {
            Some(r) => *r == a.id,
            None => lead(i),
        },
        (
            Some(i),
            SupervisionAction::ReportProgress { .. }
            | SupervisionAction::RequestItemExtension { .. }
            | SupervisionAction::ReportCompletion { .. },
        ) => lead(i),
        (
            Some(_),
            SupervisionAction::DecideItemExtension { .. } | SupervisionAction::ReturnItem { .. },
        ) => a.has_role(Role::Supervisor),
        // 销号 once every 协办 unit gave its input.
        (Some(i), SupervisionAction::CloseItem { .. }) => {
            a.has_role(Role::Supervisor) && i.pending_co_units().is_empty()
        }
        // 协办: a handler of a 协办 unit, once for the unit.
        (Some(i), SupervisionAction::GiveItemInput { .. }) => {
            a.has_role(Role::Handler)
                && i.spec().co_units.contains(&a.unit)
                && !i.co_inputs().contains_key(&a.unit)
        }
        (Some(_), SupervisionAction::ArchiveItem { .. }) => a.has_role(Role::Archivist),
        // 催办: a supervisor or the item's own leader, while the lead unit has it.
        (Some(i), SupervisionAction::UrgeItem { .. }) => {
            (a.has_role(Role::Supervisor) || i.spec().leader == a.id) && i.step().is_open()
        }
        (
            Some(_),
            SupervisionAction::RemindItem { .. } | SupervisionAction::WithdrawItem { .. },
        ) => false,
    };
    let cleared = before.is_none_or(|i| a.may_see(i.spec().classification));
    if ok && cleared { Ok(()) } else { denied() }
}

#[derive(Default)]
struct Case {
    items: BTreeMap<usize, (Option<Item>, Vec<workflow_core::Recorded<SupervisionEvent>>)>,
    numbers: BTreeMap<String, BTreeSet<u32>>,
    reminder_keys: BTreeSet<String>,
}

impl Case {
    /// Makes item `doc` the script's current one.
    fn switch(&mut self, f: &mut ItemScript, doc: usize) {
        let (state, events) = self.items.remove(&doc).unwrap_or((None, Vec::new()));
        f.id = workflow_core::DocumentId(uuid::Uuid::from_u128(0x6100 + doc as u128));
        f.state = state;
        f.events = events;
    }

    fn put_back(&mut self, f: &mut ItemScript, doc: usize) {
        self.items
            .insert(doc, (f.state.take(), std::mem::take(&mut f.events)));
    }

    fn record(
        &mut self,
        events: &[workflow_core::Recorded<SupervisionEvent>],
    ) -> Result<(), TestCaseError> {
        for e in events {
            if let SupervisionEvent::ItemArchived { reference, .. } = &e.data {
                let series = format!("{:?}", reference.series());
                let set = self.numbers.entry(series).or_default();
                prop_assert!(set.insert(reference.item), "件号 {} twice", reference.item);
            }
            // 立项号: gapless per year across the items opened.
            if let SupervisionEvent::ItemOpened {
                number: Some(n), ..
            } = &e.data
            {
                let set = self.numbers.entry(format!("{:?}", n.series())).or_default();
                prop_assert!(set.insert(n.seq), "立项号 {} twice", n);
            }
        }
        Ok(())
    }
}

fn run_case(steps: &[Step], guided: usize) -> Result<(), TestCaseError> {
    let mut f = ItemScript::with_directory(common::directory());
    let mut case = Case::default();
    // A guided prefix of the sample flow on item 0, so deep states are reached, then noise.
    let sample = item_flow(f.deadline(), "J012");
    let mut all: Vec<Step> = sample[..guided.min(sample.len())]
        .iter()
        .map(|(a, act)| {
            let who = ACTORS.iter().position(|x| x == a).unwrap_or(0);
            Step::Command(0, who, act.clone())
        })
        .collect();
    // The sample's archivist is in ACTORS; its other actors too.
    all.extend(steps.iter().cloned());
    for step in all {
        let doc = match &step {
            Step::Command(doc, ..) | Step::Sweep(doc, _) => *doc,
        };
        case.switch(&mut f, doc);
        match step {
            Step::Command(_, who, action) => {
                let actor = ACTORS[who];
                let before = f.state.clone();
                let n = f.events.len();
                match f.run(actor, action.clone()) {
                    Ok(new) => {
                        authorised(before.as_ref(), actor, &action, &f.dir)
                            .map_err(TestCaseError::fail)?;
                        case.record(&new)?;
                    }
                    Err(_) => {
                        prop_assert_eq!(&f.state, &before, "a rejection changed the state");
                        prop_assert_eq!(f.events.len(), n, "a rejection recorded events");
                    }
                }
            }
            Step::Sweep(_, hours) => {
                f.clock += Duration::hours(i64::from(hours));
                if let Some(i) = f.state.clone()
                    && let Some(due) = Supervision::reminder(&i, f.clock, 24)
                {
                    prop_assert!(
                        case.reminder_keys.insert(due.key.clone()),
                        "reminder {} found due twice",
                        due.key
                    );
                    let new = f.run(SYSTEM_ACTOR, due.action.clone());
                    prop_assert!(new.is_ok(), "the sweep's reminder was refused: {:?}", new);
                    // Found due at the same instant again, it is another reminder (or none).
                    f.clock -= Duration::hours(1);
                    let again = f
                        .state
                        .as_ref()
                        .and_then(|i| Supervision::reminder(i, f.clock, 24));
                    prop_assert!(again.is_none_or(|a| a.key != due.key), "sent twice");
                    f.clock += Duration::hours(1);
                }
            }
        }
        if let Some(i) = &f.state {
            check_invariants(i, &f.dir).map_err(TestCaseError::fail)?;
            let folded = f.fold();
            prop_assert_eq!(folded.as_ref(), Some(i));
            let json = serde_json::to_string(i).unwrap();
            prop_assert_eq!(&serde_json::from_str::<Item>(&json).unwrap(), i);
        }
        case.put_back(&mut f, doc);
    }
    for (series, set) in case.numbers {
        let expected: BTreeSet<u32> = (1..=u32::try_from(set.len()).unwrap()).collect();
        prop_assert_eq!(set, expected, "gapless {}", series);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_supervision_commands_keep_invariants_authorisation_and_fold(
        guided in 0..9usize,
        steps in prop::collection::vec(arb_step(), 1..60),
    ) {
        run_case(&steps, guided)?;
    }
}
