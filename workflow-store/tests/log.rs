//! The event log end to end on a real sled directory.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use std::collections::{BTreeMap, HashSet};

use common::*;
use futures::StreamExt;
use workflow_core::{ActorId, kind::Kind, outgoing::Action, outgoing::EventData, outgoing::State};
use workflow_store::{AsOf, Engine, Error, ListQuery, Request, read::SubscribeFilter};

#[tokio::test]
async fn a_full_flow_is_logged_with_gapless_positions_and_versions() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let a = drive(&engine, 11).await;
    let b = drive(&engine, 3).await;
    assert_eq!(
        engine.document(a).unwrap().unwrap().state(),
        State::Archived
    );
    assert_eq!(
        engine.document(b).unwrap().unwrap().state(),
        State::Countersigning
    );
    // The documents' events follow the directory's.
    let d = directory_events();
    let log = engine.read_log(d + 1, 1000).unwrap();
    // A's 签收 (its 10th event) registered the acknowledging unit's 收文 right after it, in
    // the same group: 11 + 1 + 3.
    assert_eq!(log.len(), 15);
    assert_eq!(log[10].event_type, "Registered");
    assert_eq!(log[10].command_id, format!("link:{}", log[9].position));
    for (i, e) in log.iter().enumerate() {
        assert_eq!(e.position, d + i as u64 + 1);
        assert_eq!(e.hash, e.compute_hash());
        if i > 0 {
            assert_eq!(e.prev_hash, log[i - 1].hash);
        }
    }
    let history = engine.history(a).unwrap();
    assert_eq!(
        history.iter().map(|e| e.version).collect::<Vec<_>>(),
        (1..=11).collect::<Vec<_>>()
    );
    let archived = engine.document(a).unwrap().unwrap();
    let rec = archived.archive().unwrap();
    assert_eq!(rec.reference.to_string(), "J012-WS·2026-D30-JWC-0001");
    // The fixity hash covers the stream's events before archiving.
    let expected =
        workflow_store::envelope::fixity_digest(history[..10].iter().map(|e| e.hash.as_str()));
    assert_eq!(rec.fixity_hash.as_deref(), Some(expected.as_str()));
    assert_eq!(engine.head(), directory_events() + 15);
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
}

#[tokio::test]
async fn a_rejected_command_changes_nothing_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let id = drive(&engine, 2).await;
    let before = engine.dump_projections().unwrap();
    let err = engine
        .execute(Request::new(
            id,
            "chen.hong",
            Action::Approve {
                content: None,
                stage: None,
                opinion: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Rejected(workflow_core::Error::NotAssigned { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("li.qiang"), "{err}");
    assert_eq!(engine.head(), directory_events() + 2);
    assert_eq!(engine.dump_projections().unwrap(), before);
    let err = engine
        .execute(Request::new(new_id(), "wang.fang", Action::Acknowledge))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Rejected(workflow_core::Error::DocumentNotFound(_))
    ));
    let mut bad = Request::new(
        id,
        "wang.fang",
        Action::Withdraw {
            reason: String::new(),
        },
    );
    bad.command_id = String::new();
    let err = engine.execute(bad).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidRequest {
                field: "command_id",
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn expected_version_mismatch_is_a_conflict_carrying_the_actual_version() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let id = drive(&engine, 2).await;
    let mut r = Request::new(
        id,
        "li.qiang",
        Action::Approve {
            content: None,
            stage: None,
            opinion: String::new(),
        },
    );
    r.expected_version = Some(1);
    match engine.execute(r.clone()).await {
        Err(Error::Conflict {
            expected: 1,
            actual: 2,
            document_id,
        }) => assert_eq!(document_id, id),
        other => panic!("{other:?}"),
    }
    r.expected_version = Some(2);
    assert_eq!(engine.execute(r).await.unwrap().version, 3);
    // Creating with expected version 0 fails if the id is taken.
    let mut r = Request::new(id, "wang.fang", Action::Draft(fields()));
    r.expected_version = Some(0);
    assert!(matches!(
        engine.execute(r).await,
        Err(Error::Conflict { actual: 3, .. })
    ));
}

#[tokio::test]
async fn a_repeated_command_id_returns_the_first_outcome_also_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let id = new_id();
    let r = Request {
        command_id: "oa-portal:42".into(),
        ..Request::new(id, "wang.fang", Action::Draft(fields()))
    };
    let first = {
        let engine = open(dir.path()).await;
        let first = engine.execute(r.clone()).await.unwrap();
        let again = engine.execute(r.clone()).await.unwrap();
        assert!(again.replayed && !first.replayed);
        assert_eq!(
            (again.version, &again.events),
            (first.version, &first.events)
        );
        // Even after the document moved on, the retry answers as the first time.
        run(
            &engine,
            id,
            "wang.fang",
            Action::SubmitForReview { route: route() },
        )
        .await;
        assert_eq!(engine.execute(r.clone()).await.unwrap().version, 1);
        first
    };
    let engine = open(dir.path()).await;
    let again = engine.execute(r.clone()).await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.events, first.events);
    assert_eq!(
        engine.head(),
        directory_events() + 2,
        "nothing appended by the retries"
    );
    // The same key for another document is refused.
    let other = Request {
        document_id: new_id(),
        ..r
    };
    assert!(matches!(
        engine.execute(other).await,
        Err(Error::CommandIdReused { .. })
    ));
}

#[tokio::test]
async fn a_command_id_reused_for_a_different_request_is_refused_not_answered() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let id = drive(&engine, 2).await;
    let approve = |opinion: &str| Request {
        command_id: "oa-portal:approve-1".into(),
        ..Request::new(
            id,
            "li.qiang",
            Action::Approve {
                content: None,
                stage: None,
                opinion: opinion.into(),
            },
        )
    };
    let first = engine.execute(approve("同意")).await.unwrap();
    assert_eq!(
        first.events[0].request_digest.as_deref(),
        Some(approve("同意").digest().as_str()),
        "the request's digest is recorded with its events"
    );
    // The same request again is a retry: the first outcome.
    assert!(engine.execute(approve("同意")).await.unwrap().replayed);
    // Another opinion, actor or expected version under the same key is another request.
    let head = engine.head();
    for other in [
        approve("不同意"),
        Request {
            actor: "chen.hong".into(),
            ..approve("同意")
        },
        Request {
            expected_version: Some(2),
            ..approve("同意")
        },
    ] {
        let e = engine.execute(other).await.unwrap_err();
        assert!(matches!(e, Error::CommandIdMismatch { .. }), "{e}");
        assert!(
            e.to_string()
                .contains("command id oa-portal:approve-1 was used for a different request"),
            "{e}"
        );
        assert_eq!(e.reason(), "COMMAND_ID_REUSED");
    }
    assert_eq!(engine.head(), head, "nothing appended");
    // A request's `at` is not part of what it asks.
    let later = Request {
        at: Some(at(2026, 12, 1, 9)),
        ..approve("同意")
    };
    assert!(engine.execute(later).await.unwrap().replayed);
    // The digest is in the hashed envelope, so the chain covers it.
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
}

#[tokio::test]
async fn concurrent_duplicates_in_one_group_append_once() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let r = Request {
        command_id: "dup".into(),
        ..Request::new(new_id(), "wang.fang", Action::Draft(fields()))
    };
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            tokio::spawn({
                let (e, r) = (engine.clone(), r.clone());
                async move { e.execute(r).await.unwrap() }
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for t in tasks {
        outcomes.push(t.await.unwrap());
    }
    assert_eq!(outcomes.iter().filter(|o| !o.replayed).count(), 1);
    assert!(
        outcomes
            .iter()
            .all(|o| o.events == outcomes[0].events && o.events.len() == 1)
    );
    assert_eq!(engine.head(), directory_events() + 1);
}

#[tokio::test]
async fn tampering_with_a_stored_byte_is_detected_at_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    drive(&engine, 11).await;
    drive(&engine, 5).await;
    let report = engine.verify(|_, _| {}).unwrap();
    let d = directory_events();
    // 11 + 5 events and the 收文 the first one's 签收 registered.
    assert_eq!((report.checked, report.is_intact()), (d + 17, true));
    // Change one character of an opinion at the fifth document event, directly in sled.
    let raw = engine.raw_log_entry(d + 5).unwrap().unwrap();
    let text = String::from_utf8(raw).unwrap();
    assert!(text.contains("考务经费"), "{text}");
    engine
        .tamper_log_entry(d + 5, text.replacen("考务经费", "考务费用", 1).as_bytes())
        .unwrap();
    let report = engine.verify(|_, _| {}).unwrap();
    let brk = report.first_break.unwrap();
    assert_eq!((brk.position, report.checked), (d + 5, d + 4));
    assert!(brk.reason.contains("hash mismatch"), "{}", brk.reason);
    // A byte that breaks the JSON is reported at its position too.
    let raw_before_9 = engine.raw_log_entry(d + 9).unwrap().unwrap();
    let mut raw = raw_before_9.clone();
    raw[0] = b'#';
    engine.tamper_log_entry(d + 5, text.as_bytes()).unwrap();
    engine.tamper_log_entry(d + 9, &raw).unwrap();
    let brk = engine.verify(|_, _| {}).unwrap().first_break.unwrap();
    assert_eq!(brk.position, d + 9);
    assert!(
        brk.reason.contains("not a readable envelope"),
        "{}",
        brk.reason
    );
    engine.tamper_log_entry(d + 9, &raw_before_9).unwrap();
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
    // The same envelope written with other whitespace is still intact: the hash covers the
    // canonical form, not one byte layout.
    let env: workflow_store::Envelope = serde_json::from_slice(&raw_before_9).unwrap();
    engine
        .tamper_log_entry(d + 9, &serde_json::to_vec_pretty(&env).unwrap())
        .unwrap();
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
    // A payload that no longer fits its type is named as such, even with a matching hash
    // (here on the last event, so no later link gives it away).
    let mut last: workflow_store::Envelope =
        serde_json::from_slice(&engine.raw_log_entry(16).unwrap().unwrap()).unwrap();
    last.payload = serde_json::json!({"opinion": 42});
    last.hash = last.compute_hash();
    engine
        .tamper_log_entry(16, &serde_json::to_vec(&last).unwrap())
        .unwrap();
    let brk = engine.verify(|_, _| {}).unwrap().first_break.unwrap();
    assert_eq!(brk.position, 16);
    assert!(
        brk.reason.contains("payload does not decode"),
        "{}",
        brk.reason
    );
}

#[tokio::test]
async fn rebuilt_projections_are_byte_identical_to_live_ones() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    for steps in [11, 11, 9, 7, 4, 2, 1] {
        drive(&engine, steps).await;
    }
    // A return loop and a void, so the to-do and list indexes move back and forth.
    let id = drive(&engine, 3).await;
    run(
        &engine,
        id,
        "sun.li",
        Action::Countersign {
            content: None,
            stage: None,
            agree: false,
            opinion: "请补充经费来源".into(),
        },
    )
    .await;
    run(
        &engine,
        id,
        "wang.fang",
        Action::Void {
            reason: "改为函".into(),
        },
    )
    .await;
    let live = engine.dump_projections().unwrap();
    assert!(live.len() > 100);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = seen.clone();
    let n = engine
        .rebuild(move |done, total| s.lock().unwrap().push((done, total)))
        .await
        .unwrap();
    assert_eq!(n, engine.head());
    assert_eq!(seen.lock().unwrap().last(), Some(&(n, n)));
    let rebuilt = engine.dump_projections().unwrap();
    assert_eq!(live.len(), rebuilt.len());
    assert!(live == rebuilt, "rebuilt projections differ from live ones");
    assert!(engine.verify_projections().unwrap().is_empty());
    // Damage every projection tree: missing, changed and stale entries. A rebuild works in
    // place, so this checks it repairs all three kinds, not only that it rewrites.
    let entry = |tree: &str, nth: usize| {
        live.iter()
            .filter(|(t, _, _)| t == tree)
            .nth(nth)
            .map(|(_, k, v)| (k.clone(), v.clone()))
            .unwrap()
    };
    for tree in ["commands", "docs", "parts", "lists", "inbox", "numbers"] {
        let (k, v) = entry(tree, 0);
        engine.tamper_projection(tree, &k, None).unwrap();
        let (k, mut v2) = entry(tree, 1);
        v2.extend_from_slice(b" ");
        engine.tamper_projection(tree, &k, Some(&v2)).unwrap();
        let mut stale = k.clone();
        stale.push(0xff);
        engine.tamper_projection(tree, &stale, Some(&v)).unwrap();
    }
    assert!(engine.dump_projections().unwrap() != live);
    engine.rebuild(|_, _| {}).await.unwrap();
    assert!(
        engine.dump_projections().unwrap() == live,
        "rebuild did not repair the damaged projections"
    );
    // A rebuild that died halfway (projections half-written, mark left) is finished when
    // the engine opens next, before it serves anything.
    let (k, _) = entry("docs", 2);
    engine.tamper_projection("docs", &k, None).unwrap();
    engine
        .tamper_projection("lists", b"stale", Some(b""))
        .unwrap();
    engine.tamper_interrupt_rebuild().unwrap();
    drop(engine);
    let engine = open(dir.path()).await;
    assert!(
        engine.dump_projections().unwrap() == live,
        "an interrupted rebuild was not finished on open"
    );
    // The engine keeps working after a rebuild, numbering included.
    let id = drive(&engine, 9).await;
    assert_eq!(
        engine
            .document(id)
            .unwrap()
            .unwrap()
            .issue()
            .unwrap()
            .number
            .to_string(),
        "X校发〔2026〕4号"
    );
}

#[tokio::test]
async fn time_travel_by_version_and_instant() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let id = new_id();
    for (i, (actor, action)) in full_flow().into_iter().enumerate() {
        let r = Request {
            at: Some(at(2026, 11, 2, 1) + chrono::Duration::hours(i as i64)),
            ..Request::new(id, actor, action)
        };
        engine.execute(r).await.unwrap();
    }
    assert_eq!(
        engine.document_as_of(id, AsOf::Version(1)).unwrap().state(),
        State::Drafting
    );
    assert_eq!(
        engine.document_as_of(id, AsOf::Version(3)).unwrap().state(),
        State::Countersigning
    );
    assert_eq!(
        engine.document_as_of(id, AsOf::Version(8)).unwrap().state(),
        State::SignedOff
    );
    assert_eq!(
        engine
            .document_as_of(id, AsOf::Version(11))
            .unwrap()
            .state(),
        State::Archived
    );
    // Past the current version, or 0, is refused naming what is wrong (it used to answer
    // the current state, or "not found", silently).
    let e = engine.document_as_of(id, AsOf::Version(99)).unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidRequest {
                field: "as_of_version",
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string()
            .contains("version 99 is past the document's current version 11"),
        "{e}"
    );
    let e = engine.document_as_of(id, AsOf::Version(0)).unwrap_err();
    assert!(e.to_string().contains("versions start at 1"), "{e}");
    assert!(!e.to_string().contains("not found"), "{e}");
    // 3h after the first event: 4 events were recorded.
    let d = engine
        .document_as_of(id, AsOf::Instant(at(2026, 11, 2, 4)))
        .unwrap();
    assert_eq!((d.version(), d.state()), (4, State::Countersigning));
    assert!(matches!(
        engine.document_as_of(id, AsOf::Instant(at(2026, 1, 1, 0))),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        engine.document_as_of(new_id(), AsOf::Version(1)),
        Err(Error::NotFound(_))
    ));
}

/// 我发起的 and 已办 (the console's lists by person): each person's documents, newest first,
/// paged without loss, the same after a rebuild from the log.
#[tokio::test]
async fn a_persons_lists_hold_what_they_started_and_acted_on_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let flow = workflow_testkit::full_flow();
    let drafter = flow[0].0.clone();
    let mut docs = Vec::new();
    for steps in [1, 3, 8, 11, 2, 9] {
        docs.push((drive(&engine, steps).await, steps));
    }
    let all = |engine: &Engine, q: ListQuery| {
        let mut q = ListQuery {
            page_size: 2,
            flow: Some(workflow_core::StreamKind::Outgoing),
            ..q
        };
        let mut seen = Vec::new();
        loop {
            let page = engine.list(&q).unwrap();
            seen.extend(page.documents().iter().map(|d| d.id()));
            match page.next_page_token {
                Some(t) => q.page_token = Some(t),
                None => return seen,
            }
        }
    };
    let newest: Vec<_> = docs.iter().rev().map(|(id, _)| *id).collect();
    let check = |engine: &Engine| {
        assert_eq!(
            all(
                engine,
                ListQuery {
                    started_by: Some(drafter.clone()),
                    newest_first: true,
                    ..Default::default()
                }
            ),
            newest,
            "the drafter started every one"
        );
        let mut actors: Vec<ActorId> = flow.iter().map(|(a, _)| a.clone()).collect();
        actors.sort();
        actors.dedup();
        assert!(
            actors.len() > 4,
            "the sample flow has its steps by several people"
        );
        for actor in &actors {
            let acted: Vec<_> = docs
                .iter()
                .rev()
                .filter(|(_, steps)| flow[..*steps].iter().any(|(a, _)| a == actor))
                .map(|(id, _)| *id)
                .collect();
            let q = ListQuery {
                acted_by: Some(actor.clone()),
                ..Default::default()
            };
            assert_eq!(
                all(
                    engine,
                    ListQuery {
                        newest_first: true,
                        ..q.clone()
                    }
                ),
                acted,
                "{actor}'s 已办, newest first"
            );
            let oldest: Vec<_> = acted.iter().rev().copied().collect();
            assert_eq!(all(engine, q), oldest, "{actor}'s 已办, oldest first");
            if *actor != drafter {
                let started = all(
                    engine,
                    ListQuery {
                        started_by: Some(actor.clone()),
                        ..Default::default()
                    },
                );
                assert!(started.is_empty(), "{actor} started nothing");
            }
        }
        // 已归档 of a person: the archived among theirs.
        let archived = all(
            engine,
            ListQuery {
                acted_by: Some(drafter.clone()),
                step: Some("Archived".into()),
                newest_first: true,
                ..Default::default()
            },
        );
        assert_eq!(archived, vec![docs[3].0]);
        assert!(
            all(
                engine,
                ListQuery {
                    acted_by: Some("nobody.here".into()),
                    ..Default::default()
                }
            )
            .is_empty()
        );
    };
    check(&engine);
    engine.rebuild_from_scratch(|_, _| {}).await.unwrap();
    check(&engine);
}

#[tokio::test]
async fn lists_filter_and_paginate_stably() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let mut ids = Vec::new();
    for i in 0..23 {
        ids.push(drive(&engine, [1, 2, 3, 9][i % 4]).await);
    }
    // All, paged by 5: every document once, in drafting order.
    let mut seen = Vec::new();
    let mut q = ListQuery {
        page_size: 5,
        ..Default::default()
    };
    loop {
        let page = engine.list(&q).unwrap();
        seen.extend(page.documents().iter().map(|d| d.id()));
        match page.next_page_token {
            Some(t) => q.page_token = Some(t),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let count = |q: ListQuery| {
        engine
            .list(&ListQuery {
                page_size: 100,
                ..q
            })
            .unwrap()
            .documents()
            .len()
    };
    assert_eq!(
        count(ListQuery {
            state: Some(State::Drafting),
            ..Default::default()
        }),
        6
    );
    assert_eq!(
        count(ListQuery {
            state: Some(State::Issued),
            ..Default::default()
        }),
        5
    );
    assert_eq!(
        count(ListQuery {
            state: Some(State::Issued),
            year: Some(2026),
            ..Default::default()
        }),
        5
    );
    assert_eq!(
        count(ListQuery {
            year: Some(2025),
            ..Default::default()
        }),
        0
    );
    assert_eq!(
        count(ListQuery {
            unit: Some("JWC".into()),
            ..Default::default()
        }),
        23,
        "the drafter's unit"
    );
    assert_eq!(
        count(ListQuery {
            unit: Some("KYC".into()),
            ..Default::default()
        }),
        0
    );
    assert_eq!(
        count(ListQuery {
            kind: Some(Kind::Circular),
            state: Some(State::InReview),
            ..Default::default()
        }),
        6
    );
    // Overdue: the first review stage has a 2-day deadline.
    let later = at(2026, 11, 20, 0);
    assert_eq!(
        count(ListQuery {
            overdue_at: Some(later),
            ..Default::default()
        }),
        12
    );
    assert_eq!(
        count(ListQuery {
            overdue_at: Some(at(2026, 11, 2, 2)),
            ..Default::default()
        }),
        0
    );
    // Bad paging input is refused clearly.
    let e = engine
        .list(&ListQuery {
            page_token: Some("zz".into()),
            ..Default::default()
        })
        .unwrap_err();
    assert!(matches!(
        e,
        Error::InvalidRequest {
            field: "page_token",
            ..
        }
    ));
    let e = engine
        .list(&ListQuery {
            page_size: 10_000,
            ..Default::default()
        })
        .unwrap_err();
    assert!(matches!(
        e,
        Error::InvalidRequest {
            field: "page_size",
            ..
        }
    ));
}

#[tokio::test]
async fn the_inbox_shows_what_waits_for_whom_and_hides_what_they_may_not_see() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let in_review = drive(&engine, 2).await;
    let countersigning = drive(&engine, 4).await; // RSC signed; CWC and XSC pending
    let issued = drive(&engine, 9).await;
    let inbox = |who: &str| -> Vec<_> {
        engine
            .inbox(&ActorId::from(who), &ListQuery::default())
            .unwrap()
            .documents()
            .iter()
            .map(|d| d.id())
            .collect()
    };
    assert_eq!(inbox("li.qiang"), vec![in_review]);
    assert_eq!(
        inbox("sun.li"),
        vec![countersigning, issued],
        "CWC has yet to countersign the one; it is 抄送 of the issued one"
    );
    assert_eq!(inbox("zhou.jie"), vec![countersigning]);
    assert_eq!(
        inbox("zhao.min"),
        vec![issued],
        "RSC signed; it is a recipient of the issued one"
    );
    assert_eq!(inbox("xu.jing"), vec![issued]);
    assert!(inbox("huang.wei").is_empty());
    // Once acted, the entry leaves at once.
    run(
        &engine,
        in_review,
        "li.qiang",
        Action::Approve {
            content: None,
            stage: None,
            opinion: String::new(),
        },
    )
    .await;
    assert!(inbox("li.qiang").is_empty());
    assert_eq!(inbox("sun.li"), vec![in_review, countersigning, issued]);
    // A Secret document does not show to zhou.jie (clearance None).
    let secret = new_id();
    let f = workflow_core::outgoing::DraftFields {
        classification: workflow_core::directory::Classification::Secret,
        classification_period_years: Some(5),
        ..fields()
    };
    run(&engine, secret, "wang.fang", Action::Draft(f)).await;
    // XSC has no countersigner cleared for 秘密, so only as 或签 can the stage name it.
    let mut secret_route = route();
    if let workflow_core::route::StageSpec::Countersign { completion, .. } = &mut secret_route[1] {
        *completion = workflow_core::route::Completion::Any;
    }
    run(
        &engine,
        secret,
        "wang.fang",
        Action::SubmitForReview {
            route: secret_route,
        },
    )
    .await;
    run(
        &engine,
        secret,
        "li.qiang",
        Action::Approve {
            content: None,
            stage: None,
            opinion: String::new(),
        },
    )
    .await;
    assert_eq!(inbox("zhou.jie"), vec![in_review, countersigning]);
    assert_eq!(
        inbox("sun.li"),
        vec![in_review, countersigning, issued, secret]
    );
    let listed = engine
        .list(&ListQuery {
            viewer: Some("zhou.jie".into()),
            ..Default::default()
        })
        .unwrap();
    assert!(!listed.documents().iter().any(|d| d.id() == secret));
    assert!(matches!(
        engine.inbox(&"ghost".into(), &ListQuery::default()),
        Err(Error::Rejected(_))
    ));
}

/// A document driven `steps` steps into the full flow, with JWC among the recipients
/// (`jwc_receives`, as a 函 when `letter`) or JWC and CWC as the countersigning departments.
async fn drive_for_jwc(
    engine: &Engine,
    steps: usize,
    jwc_receives: bool,
    letter: bool,
) -> workflow_core::DocumentId {
    let id = new_id();
    for (actor, mut action) in full_flow().into_iter().take(steps) {
        match &mut action {
            Action::Draft(f) if jwc_receives => {
                f.main_recipients.push("JWC".into());
                if letter {
                    f.kind = workflow_core::kind::Kind::Letter;
                }
            }
            Action::SubmitForReview { route } if !jwc_receives => {
                if let workflow_core::route::StageSpec::Countersign { departments, .. } =
                    &mut route[1]
                {
                    *departments = vec!["JWC".into(), "CWC".into()];
                }
                route.truncate(2);
            }
            _ => {}
        }
        run(engine, id, actor, action).await;
    }
    id
}

#[tokio::test]
async fn an_inbox_fed_by_several_keys_pages_in_drafting_order() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    // li.qiang waits under several keys: as the reviewer (his id), as JWC acknowledging what
    // JWC receives, as JWC's countersigner. More entries under JWC than one read batch.
    let mut expected = Vec::new();
    let mut letters = Vec::new();
    for i in 0..20 {
        let letter = i >= 17;
        let id = drive_for_jwc(&engine, 9, true, letter).await; // issued to JWC
        expected.push(id);
        if letter {
            letters.push(id);
        }
    }
    for _ in 0..2 {
        expected.push(drive(&engine, 2).await); // in review with li.qiang
        expected.push(drive_for_jwc(&engine, 3, false, false).await); // JWC countersigns
    }
    let page = |size: usize, kind: Option<workflow_core::kind::Kind>, token: Option<String>| {
        engine
            .inbox(
                &ActorId::from("li.qiang"),
                &ListQuery {
                    kind,
                    page_size: size,
                    page_token: token,
                    ..Default::default()
                },
            )
            .unwrap()
    };
    let ids = |p: &workflow_store::Page| p.documents().iter().map(|d| d.id()).collect::<Vec<_>>();
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let p = page(5, None, token.take());
        assert!(p.documents().len() <= 5);
        seen.extend(ids(&p));
        match p.next_page_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert_eq!(seen, expected);
    // The letters come after 17 circulars under the same key: finding them means reading
    // that key past its first batch.
    let first = page(2, Some(workflow_core::kind::Kind::Letter), None);
    assert_eq!(ids(&first), letters[..2]);
    let rest = page(
        2,
        Some(workflow_core::kind::Kind::Letter),
        first.next_page_token,
    );
    assert_eq!(ids(&rest), letters[2..]);
    assert_eq!(rest.next_page_token, None);
}

#[tokio::test]
async fn stats_count_by_state_kind_unit_and_year() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    drive(&engine, 11).await;
    drive(&engine, 2).await;
    drive(&engine, 2).await;
    let s = engine.stats().unwrap();
    // Three 发文 and the 收文 that RSC's 签收 of the first registered (with its 文种).
    assert_eq!((s.documents, s.last_position), (4, directory_events() + 16));
    assert_eq!(s.by_state.get("InReview"), Some(&2));
    assert_eq!(s.by_state.get("Archived"), Some(&1));
    assert_eq!(s.by_state.get("Registered"), Some(&1));
    assert_eq!(s.by_kind.get("Circular"), Some(&4));
    assert_eq!(s.by_unit.get("XB"), Some(&3));
    assert_eq!(s.by_unit.get("RSC"), Some(&1));
    assert_eq!(s.by_year.get("2026"), Some(&4));
    assert!(s.size_on_disk > 0);
}

#[tokio::test]
async fn a_subscriber_gets_the_past_then_live_events_without_gap_or_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    drive(&engine, 5).await;
    let mut sub = Box::pin(engine.subscribe(1, SubscribeFilter::default()));
    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(sub.next().await.unwrap().unwrap().position);
    }
    // Live: events committed while subscribed arrive in order.
    let writer = tokio::spawn({
        let engine = engine.clone();
        async move { drive(&engine, 11).await }
    });
    for _ in 0..11 {
        got.push(
            tokio::time::timeout(std::time::Duration::from_secs(10), sub.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap()
                .position,
        );
    }
    writer.await.unwrap();
    // The directory's events are not delivered without `directory`.
    let d = directory_events();
    assert_eq!(got, (d + 1..=d + 16).collect::<Vec<_>>());
    // Resuming from the last position seen + 1 misses nothing and repeats nothing.
    let resumed: Vec<u64> = engine
        .subscribe(d + 11, SubscribeFilter::default())
        .take(6)
        .map(|e| e.unwrap().position)
        .collect()
        .await;
    assert_eq!(resumed, (d + 11..=d + 16).collect::<Vec<_>>());
    // Filters: only Issued events.
    let issued: Vec<String> = engine
        .subscribe(
            1,
            SubscribeFilter {
                event_types: vec!["Issued".into()],
                ..Default::default()
            },
        )
        .take(1)
        .map(|e| e.unwrap().event_type)
        .collect()
        .await;
    assert_eq!(issued, ["Issued"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_writers_lose_no_update_and_every_conflict_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let docs: Vec<_> = futures::future::join_all((0..4).map(|_| drive(&engine, 1))).await;
    // 32 tasks each try 10 revisions on random documents, reading the version first.
    let tasks = (0..32u64).map(|t| {
        let (engine, docs) = (engine.clone(), docs.clone());
        tokio::spawn(async move {
            let (mut ok, mut conflicts) = (BTreeMap::new(), 0u32);
            for i in 0..10u64 {
                let id = docs[((t * 7 + i * 3) % 4) as usize];
                let version = engine.document(id).unwrap().unwrap().version();
                let mut f = fields();
                f.body = format!("task {t} edit {i}");
                let r = Request {
                    expected_version: Some(version),
                    ..Request::new(id, "wang.fang", Action::Revise(f))
                };
                match engine.execute(r).await {
                    Ok(o) => {
                        assert_eq!(o.version, version + 1);
                        *ok.entry(id).or_insert(0u64) += 1;
                    }
                    Err(Error::Conflict {
                        actual, expected, ..
                    }) => {
                        assert_eq!(expected, version);
                        assert!(actual > version);
                        conflicts += 1;
                    }
                    Err(e) => panic!("{e}"),
                }
            }
            (ok, conflicts)
        })
    });
    let mut ok_total: BTreeMap<_, u64> = BTreeMap::new();
    let mut conflicts = 0;
    for t in tasks {
        let (ok, c) = t.await.unwrap();
        conflicts += c;
        for (id, n) in ok {
            *ok_total.entry(id).or_insert(0) += n;
        }
    }
    assert_eq!(ok_total.values().sum::<u64>() + u64::from(conflicts), 320);
    for id in &docs {
        let d = engine.document(*id).unwrap().unwrap();
        // Every accepted revision is in the state: none was lost.
        assert_eq!(u64::from(d.revision()) - 1, *ok_total.get(id).unwrap_or(&0));
        assert_eq!(
            engine
                .document_as_of(*id, AsOf::Version(d.version()))
                .unwrap(),
            d
        );
    }
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
    // Revisions kept apart from the records (several in one group too) are the ones a
    // rebuild writes: each document's content is stored once, at its last revision.
    let live = engine.dump_projections().unwrap();
    engine.rebuild(|_, _| {}).await.unwrap();
    assert!(engine.dump_projections().unwrap() == live);
    engine.rebuild_from_scratch(|_, _| {}).await.unwrap();
    assert!(engine.dump_projections().unwrap() == live);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_without_expected_version_never_acts_twice_on_one_state() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let id = drive(&engine, 2).await;
    // Two reviewers' worth of racing approvals: only one can act on the review stage.
    let results = futures::future::join_all((0..8).map(|_| {
        engine.execute(Request::new(
            id,
            "li.qiang",
            Action::Approve {
                content: None,
                stage: None,
                opinion: String::new(),
            },
        ))
    }))
    .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .filter_map(|r| r.as_ref().err())
            .all(|e| matches!(e, Error::Rejected(workflow_core::Error::WrongState { .. })))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn numbering_is_unique_and_gapless_under_concurrent_issue() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let docs: Vec<_> = futures::future::join_all((0..24).map(|_| drive(&engine, 8))).await;
    let issues = docs.iter().map(|id| {
        let engine = engine.clone();
        let id = *id;
        tokio::spawn(async move {
            let action = full_flow().remove(8).1;
            engine
                .execute(Request::new(id, "liu.yang", action))
                .await
                .unwrap()
        })
    });
    futures::future::join_all(issues).await;
    let mut seqs: Vec<u32> = docs
        .iter()
        .map(|id| {
            engine
                .document(*id)
                .unwrap()
                .unwrap()
                .issue()
                .unwrap()
                .number
                .seq
        })
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=24).collect::<Vec<_>>());
    let numbers: HashSet<String> = engine
        .read_log(1, 10_000)
        .unwrap()
        .iter()
        .filter_map(|e| match e.event().unwrap().data {
            workflow_core::FlowEvent::Outgoing(EventData::Issued { number, .. }) => {
                Some(number.to_string())
            }
            _ => None,
        })
        .collect();
    assert_eq!(numbers.len(), 24);
}

#[tokio::test]
async fn state_and_history_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (id, history) = {
        let engine = open(dir.path()).await;
        let id = drive(&engine, 9).await;
        (id, engine.history(id).unwrap())
    };
    let engine: Engine = open(dir.path()).await;
    assert_eq!(engine.history(id).unwrap(), history);
    assert_eq!(engine.document(id).unwrap().unwrap().state(), State::Issued);
    // Numbering continues after the restart.
    let id2 = drive(&engine, 9).await;
    assert_eq!(
        engine
            .document(id2)
            .unwrap()
            .unwrap()
            .issue()
            .unwrap()
            .number
            .seq,
        2
    );
    assert!(engine.verify(|_, _| {}).unwrap().is_intact());
}

#[tokio::test]
async fn a_subscription_for_an_actor_leaves_out_what_their_clearance_does_not_cover() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let open_doc = drive(&engine, 1).await;
    let secret = new_id();
    let f = workflow_core::outgoing::DraftFields {
        classification: workflow_core::directory::Classification::Secret,
        classification_period_years: Some(5),
        ..fields()
    };
    run(&engine, secret, "wang.fang", Action::Draft(f)).await;
    let last = drive(&engine, 1).await;
    let filter = SubscribeFilter {
        max_classification: Some(workflow_core::directory::Classification::None),
        ..Default::default()
    };
    let seen: Vec<_> = engine
        .subscribe(1, filter)
        .take(2)
        .map(|e| e.unwrap().stream_id)
        .collect()
        .await;
    assert_eq!(seen, [open_doc, last]);
    let all: Vec<_> = engine
        .subscribe(1, SubscribeFilter::default())
        .take(3)
        .map(|e| e.unwrap().stream_id)
        .collect()
        .await;
    assert_eq!(all, [open_doc, secret, last]);
}
