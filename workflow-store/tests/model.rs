//! Model-based property test: random command sequences with restarts and rebuilds; after
//! every step the stored state equals the fold of the events the engine acknowledged, and a
//! rebuild reproduces the live projections byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use std::collections::HashMap;

use common::*;
use proptest::prelude::*;
use workflow_core::{DocumentId, FlowEvent, outgoing::Document, outgoing::Event};
use workflow_store::{Config, Engine, Request, storage::ProjectionEntry};

#[derive(Debug, Clone)]
enum Op {
    /// Step `step` of the full flow on document `doc` (may be out of order: then refused).
    Step {
        doc: usize,
        step: usize,
    },
    Restart,
    Rebuild,
    RebuildFromScratch,
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0..3usize, 0..11usize).prop_map(|(doc, step)| Op::Step { doc, step }),
        4 => (0..3usize).prop_map(|doc| Op::Step { doc, step: usize::MAX }),
        1 => Just(Op::Restart),
        1 => Just(Op::Rebuild),
        1 => Just(Op::RebuildFromScratch),
    ]
}

async fn run_ops(ops: Vec<Op>, resident: usize) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    // `resident` 1 makes every rebuild write documents out and read them back as they go.
    let config = || Config {
        rebuild_resident_documents: resident,
        ..Config::new(dir.path())
    };
    let mut engine: Engine = open_with(config()).await;
    let ids: Vec<DocumentId> = (0..3).map(|_| new_id()).collect();
    let mut model: HashMap<DocumentId, Vec<Event>> = HashMap::new();
    let mut next_step = [0usize; 3];
    for op in ops {
        match op {
            Op::Step { doc, step } => {
                // usize::MAX means "the step this document is at", so runs get far.
                let step = if step == usize::MAX {
                    next_step[doc]
                } else {
                    step
                };
                let Some((actor, action)) = full_flow().into_iter().nth(step) else {
                    continue;
                };
                if let Ok(o) = engine.execute(Request::new(ids[doc], actor, action)).await {
                    next_step[doc] = step + 1;
                    model.entry(ids[doc]).or_default().extend(
                        o.events.iter().filter_map(|e| {
                            e.event().unwrap().filter_map(FlowEvent::into_outgoing)
                        }),
                    );
                }
            }
            Op::Restart => {
                drop(engine);
                engine = open_with(config()).await;
            }
            Op::Rebuild | Op::RebuildFromScratch => {
                let live = engine.dump_projections().unwrap();
                if matches!(op, Op::Rebuild) {
                    engine.rebuild(|_, _| {}).await.unwrap();
                } else {
                    engine.rebuild_from_scratch(|_, _| {}).await.unwrap();
                }
                let rebuilt = engine.dump_projections().unwrap();
                let only = |a: &[ProjectionEntry], b: &[ProjectionEntry]| {
                    a.iter()
                        .filter(|e| !b.contains(e))
                        .map(|(part, k, v)| {
                            format!("{part} {} {}", hex::encode(k), String::from_utf8_lossy(v))
                        })
                        .collect::<Vec<_>>()
                };
                prop_assert!(
                    live == rebuilt,
                    "rebuild changed the projections: live only {:?}, rebuilt only {:?}",
                    only(&live, &rebuilt),
                    only(&rebuilt, &live)
                );
            }
        }
        for id in &ids {
            let expected = model.get(id).and_then(Document::from_events);
            prop_assert_eq!(engine.document(*id).unwrap(), expected);
        }
    }
    let intact = engine.verify(|_, _| {}).unwrap().is_intact();
    prop_assert!(intact, "the hash chain is broken");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]
    #[test]
    fn replayed_state_equals_live_state(
        ops in prop::collection::vec(arb_op(), 1..40),
        resident in prop_oneof![Just(1usize), Just(2), Just(20_000)],
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(run_ops(ops, resident))?;
    }
}
