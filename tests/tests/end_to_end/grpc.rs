//! End to end over gRPC: a real server on a loopback port, a real sled directory.

use crate::common::*;
use futures::StreamExt;
use tonic::Code;
use tonic_types::StatusExt;
use workflow_grpc::pb;
use workflow_testkit::steps;

#[tokio::test]
async fn the_full_flow_with_countersign_by_three_departments_and_a_return_loop() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let id = new_id();
    draft(&mut c, &id).await;
    submit(&mut c, &id).await;
    approve(&mut c, &id, "li.qiang").await.unwrap();
    countersign(&mut c, &id, "zhao.min", true, "同意。")
        .await
        .unwrap();
    // CWC disagrees: back to the drafter, who revises and resubmits.
    let r = countersign(&mut c, &id, "sun.li", false, "经费来源不明确，请补充。")
        .await
        .unwrap();
    assert_eq!(r.events[0].r#type, "Countersigned");
    assert_eq!(r.events[1].r#type, "CountersignersNotNeeded");
    assert_eq!(get(&mut c, &id).await.state, pb::State::Drafting as i32);
    let mut f = fields();
    f.body.push_str("考务经费从教务处年度预算中列支。");
    c.revise_document(pb::ReviseDocumentRequest {
        command_id: cid(),
        actor_id: "wang.fang".into(),
        document_id: id.clone(),
        // 5 events, and XSC recorded as not needed once CWC's veto decided the stage.
        expected_version: Some(6),
        fields: Some(f),
    })
    .await
    .unwrap();
    submit(&mut c, &id).await;
    approve(&mut c, &id, "li.qiang").await.unwrap();
    for who in ["zhao.min", "sun.li", "zhou.jie"] {
        countersign(&mut c, &id, who, true, "同意。").await.unwrap();
    }
    approve(&mut c, &id, "chen.hong").await.unwrap();
    sample_steps(&mut c, &id, steps::AWAITING_SIGN_OFF, steps::ARCHIVED).await;
    let d = get(&mut c, &id).await;
    assert_eq!(d.state, pb::State::Archived as i32);
    assert_eq!(d.round, 2);
    assert_eq!(d.revision, 2);
    let year = chrono::Datelike::year(&workflow_testkit::clock::today());
    assert_eq!(
        d.issue.unwrap().document_number,
        format!("X校发〔{year}〕1号")
    );
    assert_eq!(
        d.archive.unwrap().reference,
        format!("J012-WS·{year}-D30-JWC-0001")
    );
    assert_eq!(d.acknowledgements.len(), 1);
    // Every opinion of both rounds stays: 1 + 2 in round 1, 1 + 3 + 1 + sign-off in round 2.
    assert_eq!(d.opinions.len(), 9);
    let h = history(&mut c, &id).await;
    // 6 events in round 1, a revision, 10 in round 2 through archive.
    assert_eq!(h.len(), 17);
    assert_eq!(
        h.iter().map(|e| e.version).collect::<Vec<_>>(),
        (1..=17).collect::<Vec<_>>()
    );
    // As of version 6 (after the disagreement) it was back in drafting.
    let old = c
        .get_document(pb::GetDocumentRequest {
            actor_id: "liu.yang".into(),
            document_id: id.clone(),
            as_of_version: Some(6),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((old.version, old.state), (6, pb::State::Drafting as i32));
    server.stop().await;
}

#[tokio::test]
async fn every_error_code_of_the_design_comes_from_a_real_bad_request() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let id = new_id();
    draft(&mut c, &id).await;
    // Each error: the code, a message naming what was wrong, and `google.rpc` details a
    // program reads instead of the text: ErrorInfo's stable reason, and for
    // INVALID_ARGUMENT the field in BadRequest.
    let check = |r: Result<tonic::Response<pb::CommandResponse>, tonic::Status>,
                 code: Code,
                 needle: &str,
                 reason: &str| {
        let s = r.unwrap_err();
        assert_eq!(s.code(), code, "{s:?}");
        assert!(
            s.message().contains(needle),
            "{:?} should mention {needle:?}",
            s.message()
        );
        let details = s.get_error_details();
        let info = details.error_info().expect("ErrorInfo on every error");
        assert_eq!(
            (info.reason.as_str(), info.domain.as_str()),
            (reason, "workflow.v1")
        );
        if code == Code::InvalidArgument {
            let field = &details.bad_request().expect("BadRequest").field_violations[0].field;
            assert!(
                needle.starts_with(field.as_str()) || field.starts_with(needle),
                "{field} vs {needle}"
            );
        }
        info.metadata.clone()
    };
    // INVALID_ARGUMENT: a field.
    let mut f = fields();
    f.title = "  ".into();
    let r = c
        .revise_document(pb::ReviseDocumentRequest {
            command_id: cid(),
            actor_id: "wang.fang".into(),
            document_id: id.clone(),
            expected_version: None,
            fields: Some(f),
        })
        .await;
    check(r, Code::InvalidArgument, "title", "INVALID_FIELD");
    let r = c
        .draft_document(pb::DraftDocumentRequest {
            command_id: cid(),
            actor_id: "wang.fang".into(),
            document_id: "not-a-uuid".into(),
            expected_version: None,
            fields: Some(fields()),
        })
        .await;
    check(r, Code::InvalidArgument, "document_id", "INVALID_FIELD");
    let r = c
        .draft_document(pb::DraftDocumentRequest {
            command_id: cid(),
            actor_id: "wang.fang".into(),
            document_id: new_id(),
            expected_version: None,
            fields: Some(pb::DraftFields {
                kind: 99,
                ..fields()
            }),
        })
        .await;
    check(r, Code::InvalidArgument, "fields.kind", "INVALID_FIELD");
    let r = c
        .submit_for_review(pb::SubmitForReviewRequest {
            command_id: cid(),
            actor_id: "wang.fang".into(),
            document_id: id.clone(),
            expected_version: None,
            route: vec![],
        })
        .await;
    check(r, Code::InvalidArgument, "route", "INVALID_FIELD");
    let mut long = fields();
    long.title = "长".repeat(300);
    let r = c
        .revise_document(pb::ReviseDocumentRequest {
            command_id: cid(),
            actor_id: "wang.fang".into(),
            document_id: id.clone(),
            expected_version: None,
            fields: Some(long),
        })
        .await;
    check(r, Code::InvalidArgument, "title", "INVALID_FIELD");
    // FAILED_PRECONDITION: the state.
    check(
        approve(&mut c, &id, "li.qiang")
            .await
            .map(tonic::Response::new),
        Code::FailedPrecondition,
        "Drafting",
        "WRONG_STATE",
    );
    // ABORTED: a version conflict.
    let r = c
        .submit_for_review(pb::SubmitForReviewRequest {
            command_id: cid(),
            actor_id: "wang.fang".into(),
            document_id: id.clone(),
            expected_version: Some(7),
            route: route(),
        })
        .await;
    let meta = check(
        r,
        Code::Aborted,
        "expected version 7, actual 1",
        "VERSION_CONFLICT",
    );
    assert_eq!(meta["actual_version"], "1");
    assert_eq!(meta["expected_version"], "7");
    // NOT_FOUND: no such document.
    check(
        approve(&mut c, &new_id(), "li.qiang")
            .await
            .map(tonic::Response::new),
        Code::NotFound,
        "not found",
        "DOCUMENT_NOT_FOUND",
    );
    let s = c
        .get_document(pb::GetDocumentRequest {
            actor_id: "liu.yang".into(),
            document_id: new_id(),
            as_of_version: None,
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::NotFound);
    // ALREADY_EXISTS: a duplicate document id; a command id reused for another document.
    let r = c
        .draft_document(pb::DraftDocumentRequest {
            command_id: cid(),
            actor_id: "wang.fang".into(),
            document_id: id.clone(),
            expected_version: None,
            fields: Some(fields()),
        })
        .await;
    check(r, Code::AlreadyExists, "already exists", "DOCUMENT_EXISTS");
    let reused = cid();
    c.approve(pb::ApproveRequest {
        content_sha256: Default::default(),
        stage: None,
        command_id: reused.clone(),
        actor_id: "li.qiang".into(),
        document_id: new_id(),
        expected_version: None,
        opinion: String::new(),
    })
    .await
    .unwrap_err();
    let other = new_id();
    draft(&mut c, &other).await;
    c.withdraw(pb::WithdrawRequest {
        command_id: "k1".into(),
        actor_id: "wang.fang".into(),
        document_id: other.clone(),
        expected_version: None,
        reason: String::new(),
    })
    .await
    .unwrap_err();
    submit(&mut c, &other).await;
    c.withdraw(pb::WithdrawRequest {
        command_id: "k1".into(),
        actor_id: "wang.fang".into(),
        document_id: other.clone(),
        expected_version: None,
        reason: String::new(),
    })
    .await
    .unwrap();
    let r = c
        .void(pb::VoidRequest {
            command_id: "k1".into(),
            actor_id: "wang.fang".into(),
            document_id: id.clone(),
            expected_version: None,
            reason: "x".into(),
        })
        .await;
    check(r, Code::AlreadyExists, "command id k1", "COMMAND_ID_REUSED");
    // PERMISSION_DENIED: role, assignment, unknown actor, clearance.
    submit(&mut c, &id).await;
    check(
        approve(&mut c, &id, "chen.hong")
            .await
            .map(tonic::Response::new),
        Code::PermissionDenied,
        "li.qiang",
        "NOT_ASSIGNED",
    );
    check(
        approve(&mut c, &id, "nobody")
            .await
            .map(tonic::Response::new),
        Code::PermissionDenied,
        "nobody",
        "UNKNOWN_ACTOR",
    );
    let r = c
        .draft_document(pb::DraftDocumentRequest {
            command_id: cid(),
            actor_id: "li.qiang".into(),
            document_id: new_id(),
            expected_version: None,
            fields: Some(fields()),
        })
        .await;
    let meta = check(r, Code::PermissionDenied, "Drafter", "MISSING_ROLE");
    assert_eq!(meta["role"], "Drafter");
    // UNAUTHENTICATED: no token, unknown token.
    for token in [None, Some("wrong-token-123")] {
        let mut anon = server.client_with(token).await;
        let s = anon
            .get_document(pb::GetDocumentRequest {
                actor_id: "liu.yang".into(),
                document_id: id.clone(),
                as_of_version: None,
            })
            .await
            .unwrap_err();
        assert_eq!(s.code(), Code::Unauthenticated, "{s:?}");
        let reason = s.get_error_details().error_info().unwrap().reason.clone();
        assert_eq!(
            reason,
            if token.is_none() {
                "MISSING_TOKEN"
            } else {
                "UNKNOWN_TOKEN"
            }
        );
    }
    // The same command id with another request is refused, not answered with the first.
    let k = cid();
    let send = |opinion: &str| pb::SignOffRequest {
        content_sha256: Default::default(),
        command_id: k.clone(),
        actor_id: "huang.wei".into(),
        document_id: id.clone(),
        expected_version: None,
        opinion: opinion.into(),
    };
    let first = c.sign_off(send("同意")).await.unwrap_err(); // still in review
    assert_eq!(first.code(), Code::FailedPrecondition);
    let other = new_id();
    draft(&mut c, &other).await;
    let r = c
        .revise_document(pb::ReviseDocumentRequest {
            command_id: "k2".into(),
            actor_id: "wang.fang".into(),
            document_id: other.clone(),
            expected_version: None,
            fields: Some(fields()),
        })
        .await;
    r.unwrap();
    let mut changed = fields();
    changed.title = "关于另一件事的通知".into();
    let r = c
        .revise_document(pb::ReviseDocumentRequest {
            command_id: "k2".into(),
            actor_id: "wang.fang".into(),
            document_id: other.clone(),
            expected_version: None,
            fields: Some(changed),
        })
        .await;
    check(
        r,
        Code::AlreadyExists,
        "was used for a different request",
        "COMMAND_ID_REUSED",
    );
    // as_of_version past the current version, or 0: INVALID_ARGUMENT naming the version.
    for (v, needle) in [
        (99, "past the document's current version 2"),
        (0, "versions start at 1"),
    ] {
        let s = c
            .get_document(pb::GetDocumentRequest {
                actor_id: "liu.yang".into(),
                document_id: other.clone(),
                as_of_version: Some(v),
            })
            .await
            .unwrap_err();
        assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
        assert!(s.message().contains(needle), "{}", s.message());
        let details = s.get_error_details();
        assert_eq!(
            details.bad_request().unwrap().field_violations[0].field,
            "as_of_version"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn unauthenticated_and_wrong_actor_calls_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let id = new_id();
    draft(&mut c, &id).await;
    submit(&mut c, &id).await;
    let before = (get(&mut c, &id).await, history(&mut c, &id).await);
    let mut anon = server.client_with(None).await;
    let mut bad = server.client_with(Some("not-a-real-token")).await;
    for client in [&mut anon, &mut bad] {
        let s = approve(client, &id, "li.qiang").await.unwrap_err();
        assert_eq!(s.code(), Code::Unauthenticated);
    }
    for actor in ["chen.hong", "zhao.min", "wang.fang", "ghost"] {
        let s = approve(&mut c, &id, actor).await.unwrap_err();
        assert_eq!(s.code(), Code::PermissionDenied, "{actor}: {s:?}");
    }
    let s = c
        .void(pb::VoidRequest {
            command_id: cid(),
            actor_id: "li.qiang".into(),
            document_id: id.clone(),
            expected_version: None,
            reason: "x".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied);
    let mut after = (get(&mut c, &id).await, history(&mut c, &id).await);
    // `overdue` is computed at read time; everything else must be identical.
    after.0.overdue = before.0.overdue;
    assert_eq!(after, before);
    // A non-admin system cannot touch the directory.
    let mut not_admin = server.admin(OA_TOKEN).await;
    let s = not_admin
        .list_actors(pb::ListActorsRequest {})
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied);
    server.stop().await;
}

#[tokio::test]
async fn subscribe_from_zero_then_live_and_resume_without_gap_or_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let a = new_id();
    draft(&mut c, &a).await;
    submit(&mut c, &a).await;
    let mut sub = c
        .subscribe(pb::SubscribeRequest {
            from_position: 0,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.push(sub.next().await.unwrap().unwrap().position);
    }
    // Live events arrive as they are committed.
    approve(&mut c, &a, "li.qiang").await.unwrap();
    countersign(&mut c, &a, "zhao.min", true, "").await.unwrap();
    for _ in 0..2 {
        let e = tokio::time::timeout(std::time::Duration::from_secs(10), sub.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        seen.push(e.position);
    }
    // The directory's events (first in the log) go to administering systems only.
    assert_eq!(seen, [p(1), p(2), p(3), p(4)]);
    // Disconnect, more events happen, reconnect from the checkpoint + 1.
    drop(sub);
    countersign(&mut c, &a, "sun.li", true, "").await.unwrap();
    countersign(&mut c, &a, "zhou.jie", true, "").await.unwrap();
    let mut sub = c
        .subscribe(pb::SubscribeRequest {
            from_position: p(5),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut resumed = Vec::new();
    for _ in 0..2 {
        resumed.push(sub.next().await.unwrap().unwrap().position);
    }
    assert_eq!(resumed, [p(5), p(6)]);
    // A filtered subscription.
    let mut only = c
        .subscribe(pb::SubscribeRequest {
            from_position: 1,
            event_types: vec!["Countersigned".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let first = only.next().await.unwrap().unwrap();
    assert_eq!(
        (first.position, first.r#type.as_str()),
        (p(4), "Countersigned")
    );
    // Each envelope carries the chain.
    let all = history(&mut c, &a).await;
    assert!(all.windows(2).all(|w| w[1].prev_hash == w[0].hash));
    server.stop().await;
}

#[tokio::test]
async fn subscribe_batched_sends_several_events_per_message_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        let id = new_id();
        sample_steps(&mut c, &id, 0, 7).await;
        ids.push(id);
    }
    let last = history(&mut c, ids.last().unwrap())
        .await
        .last()
        .unwrap()
        .position;
    let mut sub = c
        .subscribe_batched(pb::SubscribeRequest {
            from_position: 1,
            batch_size: 5,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    // A catch-up fills the messages up to the batch size; together they are Subscribe's
    // events, in order.
    let mut positions = Vec::new();
    let mut sizes = Vec::new();
    while positions.last() != Some(&last) {
        let batch = tokio::time::timeout(std::time::Duration::from_secs(10), sub.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        sizes.push(batch.events.len());
        positions.extend(batch.events.iter().map(|e| e.position));
    }
    assert!(sizes.iter().all(|n| (1..=5).contains(n)), "{sizes:?}");
    assert!(sizes.iter().filter(|n| **n == 5).count() >= 4, "{sizes:?}");
    let mut single = c
        .subscribe(pb::SubscribeRequest {
            from_position: 1,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut expected = Vec::new();
    while expected.last() != Some(&last) {
        expected.push(single.next().await.unwrap().unwrap().position);
    }
    assert_eq!(positions, expected);
    // Live events follow.
    draft(&mut c, &new_id()).await;
    let live = tokio::time::timeout(std::time::Duration::from_secs(10), sub.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(live.events[0].position, last + 1);
    // Too large a batch is refused, by name.
    let s = c
        .subscribe_batched(pb::SubscribeRequest {
            from_position: 1,
            batch_size: 100_000,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument);
    assert!(s.message().contains("batch_size"), "{}", s.message());
    server.stop().await;
}

#[tokio::test]
async fn state_and_history_survive_a_server_restart() {
    let dir = tempfile::tempdir().unwrap();
    let id = new_id();
    let (doc, hist) = {
        let server = start(dir.path()).await;
        let mut c = server.client().await;
        draft(&mut c, &id).await;
        submit(&mut c, &id).await;
        approve(&mut c, &id, "li.qiang").await.unwrap();
        let r = (get(&mut c, &id).await, history(&mut c, &id).await);
        server.stop().await;
        r
    };
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let (mut doc2, hist2) = (get(&mut c, &id).await, history(&mut c, &id).await);
    doc2.overdue = doc.overdue;
    assert_eq!(doc2, doc);
    assert_eq!(hist2, hist);
    countersign(&mut c, &id, "zhao.min", true, "")
        .await
        .unwrap();
    assert_eq!(get(&mut c, &id).await.version, 4);
    server.stop().await;
}

#[tokio::test]
async fn lists_and_todo_over_grpc() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let id = new_id();
        draft(&mut c, &id).await;
        submit(&mut c, &id).await;
        ids.push(id);
    }
    let todo = c
        .list_documents(pb::ListDocumentsRequest {
            actor_id: "li.qiang".into(),
            todo: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        todo.documents
            .iter()
            .map(|d| d.id.clone())
            .collect::<Vec<_>>(),
        ids
    );
    let mut token = String::new();
    let mut paged = Vec::new();
    loop {
        let page = c
            .list_documents(pb::ListDocumentsRequest {
                actor_id: "liu.yang".into(),
                state: pb::State::InReview as i32,
                page_size: 2,
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        paged.extend(page.documents.into_iter().map(|d| d.id));
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }
    assert_eq!(paged, ids);
    let s = c
        .list_documents(pb::ListDocumentsRequest {
            actor_id: "liu.yang".into(),
            page_token: "garbage".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument);
    assert!(s.message().contains("page_token"));
    // A person's own lists: what they started (我发起的) and acted on (已办), newest first.
    approve(&mut c, &ids[1], "li.qiang").await.unwrap();
    let mine = |started_by: &str, acted_by: &str| pb::ListDocumentsRequest {
        actor_id: "liu.yang".into(),
        started_by: started_by.into(),
        acted_by: acted_by.into(),
        newest_first: true,
        ..Default::default()
    };
    let ids_of =
        |r: pb::ListDocumentsResponse| r.documents.into_iter().map(|d| d.id).collect::<Vec<_>>();
    let drafter = "wang.fang";
    let started = ids_of(
        c.list_documents(mine(drafter, ""))
            .await
            .unwrap()
            .into_inner(),
    );
    let newest: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(started, newest);
    let acted = ids_of(
        c.list_documents(mine("", "li.qiang"))
            .await
            .unwrap()
            .into_inner(),
    );
    assert_eq!(acted, vec![ids[1].clone()]);
    server.stop().await;
}

#[tokio::test]
async fn admin_manages_actors_and_verifies_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut admin = server.admin(ADMIN_TOKEN).await;
    let actor = pb::Actor {
        reach: Vec::new(),
        id: "qian.lei".into(),
        name: "钱磊".into(),
        unit: "KYC".into(),
        roles: vec![pb::Role::Drafter as i32],
        clearance: pb::Classification::Secret as i32,
        deactivated: false,
    };
    admin
        .put_actor(pb::PutActorRequest {
            actor: Some(actor),
            reason: "入职".into(),
        })
        .await
        .unwrap();
    let s = admin
        .put_actor(pb::PutActorRequest {
            actor: Some(pb::Actor {
                id: "x".into(),
                unit: "NOPE".into(),
                ..Default::default()
            }),
            reason: "入职".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument);
    assert!(s.message().contains("actor.unit"));
    let mut c = server.client().await;
    let id = new_id();
    c.draft_document(pb::DraftDocumentRequest {
        command_id: cid(),
        actor_id: "qian.lei".into(),
        document_id: id.clone(),
        expected_version: None,
        fields: Some(fields()),
    })
    .await
    .unwrap();
    let v = admin
        .verify_log(pb::VerifyLogRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(v.intact);
    // The directory, the actor put, the draft.
    assert_eq!(v.checked, p(2));
    let stats = admin
        .get_stats(pb::GetStatsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!((stats.documents, stats.last_position), (1, p(2)));
    assert_eq!(stats.by_unit.get("KYC"), Some(&1));
    server.stop().await;
}

#[tokio::test]
async fn health_and_reflection_are_served() {
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::health_client::HealthClient;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut health = HealthClient::new(server.channel().await);
    let r = health
        .check(tonic_health::pb::HealthCheckRequest {
            service: "workflow.v1.DocumentWorkflow".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(r.status, ServingStatus::Serving as i32);
    let mut refl = ServerReflectionClient::with_interceptor(
        server.channel().await,
        Bearer::new(Some(OA_TOKEN)),
    );
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = refl
        .server_reflection_info(futures::stream::iter([req]))
        .await
        .unwrap()
        .into_inner();
    let resp = stream.next().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else {
        panic!("{resp:?}")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.contains(&"workflow.v1.DocumentWorkflow".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&"workflow.v1.WorkflowAdmin".to_owned()),
        "{names:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn an_oversized_request_is_refused_without_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let mut f = fields();
    f.body = "字".repeat(2_000_000); // 6 MB of UTF-8, past the 4 MiB limit
    let s = c
        .draft_document(pb::DraftDocumentRequest {
            command_id: cid(),
            actor_id: "wang.fang".into(),
            document_id: new_id(),
            expected_version: None,
            fields: Some(f),
        })
        .await
        .unwrap_err();
    // INVALID_ARGUMENT, as documented: tonic says OUT_OF_RANGE, with a percent-encoded
    // message that the server's rewrite must read decoded.
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    assert!(
        s.message().contains("4194304-byte limit"),
        "{}",
        s.message()
    );
    let info = s.get_error_details();
    assert_eq!(
        info.error_info().map(|i| i.reason.as_str()),
        Some("MESSAGE_TOO_LARGE")
    );
    // Under the transport limit but over the body limit: the field is named.
    let mut f = fields();
    f.body = "字".repeat(100_001);
    let s = c
        .draft_document(pb::DraftDocumentRequest {
            command_id: cid(),
            actor_id: "wang.fang".into(),
            document_id: new_id(),
            expected_version: None,
            fields: Some(f),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument);
    assert!(s.message().contains("body"));
    let details = s.get_error_details();
    let field = details
        .bad_request()
        .map(|b| b.field_violations[0].field.clone());
    assert_eq!(field.as_deref(), Some("body"));
    // The server still serves.
    draft(&mut c, &new_id()).await;
    server.stop().await;
}

#[tokio::test]
async fn route_changes_and_the_deadline_sweep_over_grpc() {
    use pb::route_stage::Stage;
    let dir = tempfile::tempdir().unwrap();
    let (clock, hours) = movable_clock();
    let server = start_with_clock(dir.path(), clock).await;
    let mut c = server.client().await;
    let id = new_id();
    draft(&mut c, &id).await;
    // 或签 among three departments, then a review that the reviewer hands on (转办).
    let route = vec![
        pb::RouteStage {
            stage: Some(Stage::Countersign(pb::CountersignStage {
                departments: vec!["RSC".into(), "CWC".into(), "XSC".into()],
            })),
            deadline_days: Some(1),
            completion: pb::Completion::Any as i32,
            ..Default::default()
        },
        pb::RouteStage {
            stage: Some(Stage::Review(pb::ReviewStage {
                reviewer: "li.qiang".into(),
            })),
            deadline_days: Some(1),
            escalate_to: "zhang.guoqing".into(),
            ..Default::default()
        },
    ];
    c.submit_for_review(pb::SubmitForReviewRequest {
        command_id: cid(),
        actor_id: "wang.fang".into(),
        document_id: id.clone(),
        expected_version: None,
        route,
    })
    .await
    .unwrap();
    let r = countersign(&mut c, &id, "sun.li", true, "同意")
        .await
        .unwrap();
    let types: Vec<&str> = r.events.iter().map(|e| e.r#type.as_str()).collect();
    assert_eq!(types, ["Countersigned", "CountersignersNotNeeded"]);
    let d = get(&mut c, &id).await;
    assert_eq!(d.route[0].not_needed, ["RSC", "XSC"]);
    assert_eq!(
        d.route[0].spec.as_ref().unwrap().completion,
        pb::Completion::Any as i32
    );
    // 转办 li.qiang → chen.hong; the to-do follows.
    c.reassign(pb::ReassignRequest {
        stage: None,
        command_id: cid(),
        actor_id: "li.qiang".into(),
        document_id: id.clone(),
        expected_version: None,
        to: "chen.hong".into(),
        reason: "出差".into(),
    })
    .await
    .unwrap();
    let todo = |who: &str| pb::ListDocumentsRequest {
        actor_id: who.into(),
        todo: true,
        ..Default::default()
    };
    assert!(
        c.list_documents(todo("li.qiang"))
            .await
            .unwrap()
            .into_inner()
            .documents
            .is_empty()
    );
    assert_eq!(
        c.list_documents(todo("chen.hong"))
            .await
            .unwrap()
            .into_inner()
            .documents
            .len(),
        1
    );
    // Delegating to someone without the role is refused: PERMISSION_DENIED (it is about who
    // may act), naming the field and the actor.
    let s = c
        .delegate(pb::DelegateRequest {
            stage: None,
            command_id: cid(),
            actor_id: "chen.hong".into(),
            document_id: id.clone(),
            expected_version: None,
            to: "zhao.min".into(),
            reason: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied);
    assert!(
        s.message()
            .contains("to names actor zhao.min, who lacks the role Reviewer"),
        "{s:?}"
    );
    let details = s.get_error_details();
    let info = details.error_info().unwrap();
    assert_eq!(info.reason, "MISSING_ROLE");
    assert_eq!(info.metadata["field"], "to");
    assert_eq!(info.metadata["actor"], "zhao.min");
    // An operator asks what the sweep would send two days from now, without waiting and
    // without appending anything.
    let mut admin = server.admin(ADMIN_TOKEN).await;
    let head_before = c
        .get_log_head(pb::GetLogHeadRequest {})
        .await
        .unwrap()
        .into_inner();
    let in_two_days = prost_types::Timestamp {
        seconds: workflow_testkit::clock::now().timestamp() + 48 * 3600,
        nanos: 0,
    };
    let dry = admin
        .sweep_deadlines(pb::SweepDeadlinesRequest {
            now: Some(in_two_days),
            dry_run: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(dry.reminders.is_empty());
    assert_eq!(dry.would_remind.len(), 1, "{dry:?}");
    let due = &dry.would_remind[0];
    assert_eq!((due.document_id.as_str(), due.stage), (id.as_str(), 1));
    assert_eq!(due.escalated_to, "zhang.guoqing");
    assert_eq!(due.waiting_for, vec!["chen.hong".to_owned()]);
    let head_after = c
        .get_log_head(pb::GetLogHeadRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(head_after, head_before, "a dry run appends nothing");
    // Not due yet on the server's clock; and a real sweep runs on the server's clock only.
    let now_dry = admin
        .sweep_deadlines(pb::SweepDeadlinesRequest {
            now: None,
            dry_run: true,
        })
        .await
        .unwrap()
        .into_inner();
    assert!(now_dry.would_remind.is_empty());
    let s = admin
        .sweep_deadlines(pb::SweepDeadlinesRequest {
            now: Some(in_two_days),
            dry_run: false,
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument);
    assert!(
        s.message().contains("only be given with dry_run"),
        "{}",
        s.message()
    );
    // Two days later the review stage is overdue: the sweep reminds once and escalates.
    hours.store(48, std::sync::atomic::Ordering::SeqCst);
    let swept = admin
        .sweep_deadlines(pb::SweepDeadlinesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(swept.reminders.len(), 1);
    assert!(
        swept.reminders[0].payload_json.contains("zhang.guoqing"),
        "{}",
        swept.reminders[0].payload_json
    );
    let again = admin
        .sweep_deadlines(pb::SweepDeadlinesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(again.reminders.is_empty());
    let d = get(&mut c, &id).await;
    assert!(d.overdue);
    assert_eq!(d.route[1].reminders, 1);
    // Return to stage 1 (index 0) from the review: the 或签 runs again.
    c.return_to_stage(pb::ReturnToStageRequest {
        from_stage: None,
        command_id: cid(),
        actor_id: "chen.hong".into(),
        document_id: id.clone(),
        expected_version: None,
        stage: 0,
        reason: "请财务处再确认".into(),
    })
    .await
    .unwrap();
    let d = get(&mut c, &id).await;
    assert_eq!(
        (d.state, d.current_stage),
        (pb::State::Countersigning as i32, Some(0))
    );
    server.stop().await;
}

#[tokio::test]
async fn a_full_disk_answers_unavailable_loses_nothing_and_the_server_recovers() {
    use std::sync::atomic::Ordering;
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let acknowledged = new_id();
    draft(&mut c, &acknowledged).await;
    let faults = workflow_store::faults_for(dir.path());
    let reason_of = |s: &tonic::Status| {
        let d = s.get_error_details();
        let info = d.error_info().unwrap();
        (info.reason.clone(), info.metadata.get("retryable").cloned())
    };
    // Reads failing as on a full disk: UNAVAILABLE (retry), never INTERNAL.
    faults.fail_reads.store(true, Ordering::SeqCst);
    let id = new_id();
    let request = pb::DraftDocumentRequest {
        command_id: cid(),
        actor_id: "wang.fang".into(),
        document_id: id.clone(),
        expected_version: Some(0),
        fields: Some(fields()),
    };
    let s = c.draft_document(request.clone()).await.unwrap_err();
    assert_eq!(s.code(), Code::Unavailable, "{s:?}");
    assert!(
        s.message().contains("No space left on device"),
        "{}",
        s.message()
    );
    assert_eq!(
        reason_of(&s),
        ("STORAGE_UNAVAILABLE".into(), Some("true".into()))
    );
    faults.fail_reads.store(false, Ordering::SeqCst);
    // Space freed: the retry with the same command id goes through.
    let o = c
        .draft_document(request.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(!o.replayed);
    // A flush that fails: this command and every later write are refused (fail-stop), reads
    // still answer, and nothing acknowledged is lost.
    faults.fail_flush(0);
    let s = submit_result(&mut c, &id).await.unwrap_err();
    assert_eq!(s.code(), Code::Unavailable);
    assert_eq!(reason_of(&s).0, "WRITER_HALTED");
    let s = submit_result(&mut c, &id).await.unwrap_err();
    assert_eq!(s.code(), Code::Unavailable);
    assert_eq!(get(&mut c, &acknowledged).await.version, 1);
    // Health says so, for the load balancer or orchestrator that restarts it.
    health_becomes(
        &server,
        tonic_health::pb::health_check_response::ServingStatus::NotServing,
    )
    .await;
    // Stopped (SIGTERM) while the disk is still full: the flush at stop fails, but every
    // acknowledged command was synced when answered, so the stop is clean (exit 0).
    faults.fail_flushes.store(true, Ordering::SeqCst);
    server.stop_result().await.unwrap();
    faults.fail_flushes.store(false, Ordering::SeqCst);
    // A restart recovers; both acknowledged drafts are there.
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    assert_eq!(get(&mut c, &acknowledged).await.version, 1);
    assert!(get(&mut c, &id).await.version >= 1);
    let retried = c.draft_document(request).await.unwrap().into_inner();
    assert!(retried.replayed);
    assert_eq!(retried.events, o.events);
    server.stop().await;
}

/// Health follows storage: NOT_SERVING while it does not answer (a database down, a disk
/// whose reads fail), SERVING again once it does, so that a load balancer sends traffic
/// only to servers that can serve it.
#[tokio::test]
async fn health_is_not_serving_while_storage_does_not_answer() {
    use std::sync::atomic::Ordering;
    use tonic_health::pb::health_check_response::ServingStatus;
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    health_becomes(&server, ServingStatus::Serving).await;
    let faults = workflow_store::faults_for(dir.path());
    faults.fail_reads.store(true, Ordering::SeqCst);
    health_becomes(&server, ServingStatus::NotServing).await;
    faults.fail_reads.store(false, Ordering::SeqCst);
    health_becomes(&server, ServingStatus::Serving).await;
    server.stop().await;
}

/// Waits (ten seconds at most) until the service's health is `want`.
async fn health_becomes(
    server: &TestServer,
    want: tonic_health::pb::health_check_response::ServingStatus,
) {
    let mut health = tonic_health::pb::health_client::HealthClient::new(server.channel().await);
    let mut status = -1;
    for _ in 0..100 {
        status = health
            .check(tonic_health::pb::HealthCheckRequest {
                service: "workflow.v1.DocumentWorkflow".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .status;
        if status == want as i32 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("health stayed {status}, expected {want:?}");
}

/// Under relaxed durability a failed flush at stop may lose acknowledged commands: the stop
/// is not clean, and says why.
#[tokio::test]
async fn a_failed_flush_at_stop_under_relaxed_durability_says_what_may_be_lost() {
    use std::sync::atomic::Ordering;
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(dir.path());
    config.durability = workflow_store::Durability::Relaxed;
    let server = start_with(config, workflow_testkit::clock::running_clock()).await;
    let mut c = server.client().await;
    draft(&mut c, &new_id()).await;
    let faults = workflow_store::faults_for(dir.path());
    faults.fail_flushes.store(true, Ordering::SeqCst);
    let e = server.stop_result().await.unwrap_err();
    faults.fail_flushes.store(false, Ordering::SeqCst);
    let said = e.to_string();
    assert!(
        said.contains("relaxed") && said.contains("No space left on device"),
        "{said}"
    );
}

async fn submit_result(c: &mut Client, id: &str) -> Result<pb::CommandResponse, tonic::Status> {
    c.submit_for_review(pb::SubmitForReviewRequest {
        command_id: cid(),
        actor_id: "wang.fang".into(),
        document_id: id.into(),
        expected_version: None,
        route: route(),
    })
    .await
    .map(tonic::Response::into_inner)
}

#[tokio::test]
async fn any_system_can_keep_a_witness_head_and_an_operator_verifies_against_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let id = new_id();
    draft(&mut c, &id).await;
    submit(&mut c, &id).await;
    let head = c
        .get_log_head(pb::GetLogHeadRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(head.position, p(2));
    assert_eq!(head.hash, history(&mut c, &id).await[1].hash);
    approve(&mut c, &id, "li.qiang").await.unwrap();
    let mut admin = server.admin(ADMIN_TOKEN).await;
    let r = admin
        .verify_log(pb::VerifyLogRequest {
            against: Some(head.clone()),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(r.intact && r.extends_against, "{r:?}");
    assert_eq!(r.recorded_head.unwrap().position, p(3));
    // A head this log never had.
    let forged = pb::LogHead {
        position: p(2),
        hash: "0f".repeat(32),
    };
    let r = admin
        .verify_log(pb::VerifyLogRequest {
            against: Some(forged),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!r.intact && !r.extends_against);
    assert_eq!(r.broken_position, p(2));
    assert!(r.reason.contains("witness head"), "{}", r.reason);
    let s = admin
        .verify_log(pb::VerifyLogRequest {
            against: Some(pb::LogHead {
                position: p(2),
                hash: "xyz".into(),
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument);
    assert!(s.message().contains("against"), "{}", s.message());
    server.stop().await;
}

#[tokio::test]
async fn a_countersign_meant_for_a_completed_stage_is_refused_over_grpc() {
    use pb::route_stage::Stage;
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let id = new_id();
    draft(&mut c, &id).await;
    // 或签 RSC/CWC/XSC, then 会签 RSC/KYC.
    c.submit_for_review(pb::SubmitForReviewRequest {
        command_id: cid(),
        actor_id: "wang.fang".into(),
        document_id: id.clone(),
        expected_version: None,
        route: vec![
            pb::RouteStage {
                stage: Some(Stage::Countersign(pb::CountersignStage {
                    departments: vec!["RSC".into(), "CWC".into(), "XSC".into()],
                })),
                completion: pb::Completion::Any as i32,
                ..Default::default()
            },
            pb::RouteStage {
                stage: Some(Stage::Countersign(pb::CountersignStage {
                    departments: vec!["RSC".into(), "KYC".into()],
                })),
                ..Default::default()
            },
        ],
    })
    .await
    .unwrap();
    let countersign = |actor: &str, stage: Option<u32>| pb::CountersignRequest {
        content_sha256: Default::default(),
        command_id: cid(),
        actor_id: actor.into(),
        document_id: id.clone(),
        expected_version: None,
        agree: true,
        opinion: "同意".into(),
        stage,
    };
    // Both RSC and CWC saw stage 0 (current_stage is 0-based on the wire).
    assert_eq!(get(&mut c, &id).await.current_stage, Some(0));
    c.countersign(countersign("sun.li", Some(0))).await.unwrap();
    let before = (get(&mut c, &id).await, history(&mut c, &id).await);
    let s = c
        .countersign(countersign("zhao.min", Some(0)))
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::FailedPrecondition);
    assert_eq!(
        s.message(),
        "Countersign was meant for stage index 0 (第1环节), which is completed; the document is \
         now at stage index 1 (第2环节), a countersign by RSC, KYC"
    );
    let details = s.get_error_details();
    let info = details.error_info().unwrap();
    assert_eq!(info.reason, "STAGE_NOT_CURRENT");
    assert_eq!(info.metadata["meant_stage"], "0");
    // Nothing changed: RSC's opinion was not recorded on stage 1, which RSC never saw.
    let mut after = (get(&mut c, &id).await, history(&mut c, &id).await);
    after.0.overdue = before.0.overdue;
    assert_eq!(after, before);
    assert!(after.0.route[1].countersigns.is_empty());
    // Sent for stage 1, once RSC has seen it, it is accepted.
    c.countersign(countersign("zhao.min", Some(1)))
        .await
        .unwrap();
    assert_eq!(get(&mut c, &id).await.route[1].countersigns.len(), 1);
    // An approval meant for a stage of a document in countersign is refused the same way.
    let s = c
        .approve(pb::ApproveRequest {
            content_sha256: Default::default(),
            command_id: cid(),
            actor_id: "li.qiang".into(),
            document_id: id.clone(),
            expected_version: None,
            opinion: "同意".into(),
            stage: Some(0),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::FailedPrecondition);
    assert!(
        s.message().contains("stage index 0 (第1环节)"),
        "{}",
        s.message()
    );
    server.stop().await;
}

#[tokio::test]
async fn archiving_over_grpc_follows_the_retention_schedule() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let archive =
        |id: &str, actor: &str, retention: pb::Retention, reason: &str| pb::ArchiveRequest {
            command_id: cid(),
            actor_id: actor.into(),
            document_id: id.into(),
            expected_version: None,
            fonds: "J012".into(),
            retention: retention as i32,
            unit_code: "JWC".into(),
            deviation_reason: reason.into(),
        };
    // No retention given: the schedule's (定期30年 for an ordinary 通知).
    let id = new_id();
    draft(&mut c, &id).await;
    submit(&mut c, &id).await;
    sample_steps(&mut c, &id, steps::IN_REVIEW, steps::ISSUED).await;
    c.archive(archive(&id, "xu.jing", pb::Retention::Unspecified, ""))
        .await
        .unwrap();
    let a = get(&mut c, &id).await.archive.unwrap();
    assert!(a.reference.contains("-D30-"), "{}", a.reference);
    assert_eq!(a.scheduled_retention, pb::Retention::Years30 as i32);
    assert!(a.deviation.is_empty());
    // Shorter, by a plain archivist: refused; by the archive office with a reason: recorded.
    let id = new_id();
    draft(&mut c, &id).await;
    submit(&mut c, &id).await;
    sample_steps(&mut c, &id, steps::IN_REVIEW, steps::ISSUED).await;
    let s = c
        .archive(archive(&id, "xu.jing", pb::Retention::Years10, ""))
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument);
    assert!(s.message().contains("deviation_reason"), "{}", s.message());
    let s = c
        .archive(archive(&id, "xu.jing", pb::Retention::Years10, "事务性"))
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied);
    assert!(s.message().contains("ArchiveOffice"), "{}", s.message());
    c.archive(archive(
        &id,
        "qian.hui",
        pb::Retention::Years10,
        "事务性通知",
    ))
    .await
    .unwrap();
    let a = get(&mut c, &id).await.archive.unwrap();
    assert!(a.reference.contains("-D10-"), "{}", a.reference);
    assert_eq!(a.deviation, "事务性通知");
    let archived = history(&mut c, &id).await.pop().unwrap();
    assert!(
        archived
            .payload_json
            .contains(r#""deviation":"事务性通知""#),
        "{}",
        archived.payload_json
    );
    // The archive system asks for the 四性检测 of the 定期10年 records of the year.
    let year: i32 = a.reference.split('·').nth(1).unwrap()[..4].parse().unwrap();
    let mut admin = server.admin(ADMIN_TOKEN).await;
    let check = |fonds: &str, retention: pb::Retention| pb::CheckArchiveRequest {
        fonds: fonds.into(),
        year,
        retention: retention as i32,
        against: None,
    };
    let r = admin
        .check_archive(check("J012", pb::Retention::Years10))
        .await
        .unwrap()
        .into_inner();
    assert!(r.passed, "{}", r.text);
    assert_eq!(r.records, 1, "{}", r.text);
    let lines = r
        .items
        .iter()
        .find(|i| i.code == "integrity.item_numbers")
        .unwrap();
    assert!(
        lines.passed && lines.checked == 1 && lines.aspect_name == "完整性",
        "{lines:?}"
    );
    assert!(r.text.contains("四性检测报告"), "{}", r.text);
    // A mistyped 全宗号 covers nothing: no pass.
    let r = admin
        .check_archive(check("J210", pb::Retention::Unspecified))
        .await
        .unwrap()
        .into_inner();
    assert!(!r.passed && r.records == 0, "{}", r.text);
    // A 保管期限 that is none: refused by name, nothing checked.
    let s = admin
        .check_archive(pb::CheckArchiveRequest {
            retention: 42,
            ..check("J012", pb::Retention::Unspecified)
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument);
    assert!(s.message().contains("retention"), "{}", s.message());
    let s = admin
        .check_archive(pb::CheckArchiveRequest {
            year: 1800,
            ..check("J012", pb::Retention::Unspecified)
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument);
    assert!(s.message().contains("year"), "{}", s.message());
    // Not for a system without `admin`.
    let s = server
        .admin(OA_TOKEN)
        .await
        .check_archive(check("J012", pb::Retention::Unspecified))
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied, "{s:?}");
    server.stop().await;
}
