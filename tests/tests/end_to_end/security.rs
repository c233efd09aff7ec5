//! The security model over a real socket (DESIGN §5): each system's scope (`acts_for`, its
//! `max_classification` when it names no actor), tokens configured by digest only.

use std::time::Duration;

use crate::common::*;
use futures::StreamExt;
use tonic::Code;
use tonic_types::StatusExt;
use workflow_grpc::pb;
use workflow_grpc::pb::workflow_admin_client::WorkflowAdminClient;

/// The `ErrorInfo` reason of a status.
fn reason(s: &tonic::Status) -> String {
    s.get_error_details().error_info().unwrap().reason.clone()
}

/// Drafts a 秘密 document as wang.fang (cleared for 秘密).
async fn draft_secret(c: &mut Client, id: &str) {
    let mut f = fields();
    f.title = "关于2026年度干部考察工作的通知".into();
    f.classification = pb::Classification::Secret as i32;
    f.classification_period_years = Some(10);
    c.draft_document(pb::DraftDocumentRequest {
        command_id: cid(),
        actor_id: "wang.fang".into(),
        document_id: id.into(),
        expected_version: Some(0),
        fields: Some(f),
    })
    .await
    .unwrap();
}

/// Every event a subscription from 0 delivers before it goes quiet.
async fn subscribed_documents(c: &mut Client, actor: &str) -> Vec<String> {
    let mut sub = c
        .subscribe(pb::SubscribeRequest {
            actor_id: actor.into(),
            from_position: 0,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut docs = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(500), sub.next()).await {
        docs.push(e.unwrap().stream_id);
    }
    docs
}

/// A draft revised from 秘密 down to 非密 still holds its 秘密 text in its first events:
/// Subscribe, as GetHistory, checks them at the highest classification the document ever
/// had, and records what it delivers to a cleared reader.
#[tokio::test]
async fn subscribe_does_not_hand_out_a_documents_earlier_classified_versions() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut oa = server.client().await;
    let secret = new_id();
    draft_secret(&mut oa, &secret).await;
    let mut open_fields = fields();
    open_fields.title = "关于2026年度干部考察工作的通知（公开稿）".into();
    oa.revise_document(pb::ReviseDocumentRequest {
        command_id: cid(),
        actor_id: "wang.fang".into(),
        document_id: secret.clone(),
        expected_version: Some(1),
        fields: Some(open_fields),
    })
    .await
    .unwrap();
    // History refuses a 非密 reader; Subscribe, with that actor or none, delivers nothing
    // of the document either (live or from 0).
    let s = oa
        .get_history(pb::GetHistoryRequest {
            document_id: secret.clone(),
            actor_id: "zhou.jie".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied, "{s:?}");
    for actor in ["", "zhou.jie"] {
        let seen = subscribed_documents(&mut oa, actor).await;
        assert!(!seen.contains(&secret), "{actor:?} got {seen:?}");
    }
    // A cleared reader gets both events, and each is in the access log.
    let seen = subscribed_documents(&mut oa, "wang.fang").await;
    assert_eq!(seen.iter().filter(|d| **d == secret).count(), 2, "{seen:?}");
    let mut admin = server.admin(ADMIN_TOKEN).await;
    let entries = admin
        .list_access_log(pb::ListAccessLogRequest {
            document_id: secret.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    let subscribed: Vec<&str> = entries
        .iter()
        .filter(|e| e.what == "subscribe")
        .map(|e| e.detail.as_str())
        .collect();
    assert_eq!(subscribed.len(), 2, "{subscribed:?}");
    assert!(subscribed[0].contains("Drafted") && subscribed[1].contains("Revised"));
    let who: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e.what.as_str(), e.actor_id.as_str()))
        .collect();
    assert_eq!(
        who,
        [
            ("refused", "zhou.jie"),
            ("subscribe", "wang.fang"),
            ("subscribe", "wang.fang")
        ],
        "the refused history, then the cleared reader's deliveries"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_system_naming_no_actor_receives_only_what_it_is_cleared_for() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut oa = server.client().await;
    let (open, secret) = (new_id(), new_id());
    draft(&mut oa, &open).await;
    draft_secret(&mut oa, &secret).await;

    // The OA portal has no max_classification: 非密 only, in every read without an actor.
    let seen = subscribed_documents(&mut oa, "").await;
    assert!(seen.contains(&open), "{seen:?}");
    assert!(
        !seen.contains(&secret),
        "a 秘密 event reached an uncleared system"
    );
    let s = oa
        .get_document(pb::GetDocumentRequest {
            document_id: secret.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied, "{s:?}");
    assert_eq!(reason(&s), "CLEARANCE_TOO_LOW");
    assert!(s.message().contains("system oa-portal"), "{}", s.message());
    assert!(s.message().contains("秘密"), "{}", s.message());
    let s = oa
        .get_history(pb::GetHistoryRequest {
            document_id: secret.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied, "{s:?}");
    let got = oa
        .get_document(pb::GetDocumentRequest {
            document_id: open.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.id, open);
    let listed: Vec<String> = oa
        .list_documents(pb::ListDocumentsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .documents
        .into_iter()
        .map(|d| d.id)
        .collect();
    assert_eq!(listed, std::slice::from_ref(&open));
    // A to-do list needs someone whose list it is.
    let s = oa
        .list_documents(pb::ListDocumentsRequest {
            todo: true,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");

    // With an actor named, the actor's clearance applies as before.
    let seen = subscribed_documents(&mut oa, "wang.fang").await;
    assert!(seen.contains(&secret));
    let seen = subscribed_documents(&mut oa, "zhou.jie").await;
    assert!(!seen.contains(&secret), "zhou.jie is not cleared");

    // The archive system is configured up to 秘密: it gets the 秘密 document without an
    // actor (its token is configured by digest only).
    let mut archive = server.client_with(Some(ARCHIVE_TOKEN)).await;
    let seen = subscribed_documents(&mut archive, "").await;
    assert!(seen.contains(&secret) && seen.contains(&open), "{seen:?}");
    let listed = archive
        .list_documents(pb::ListDocumentsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .documents;
    assert_eq!(listed.len(), 2);
    server.stop().await;
}

#[tokio::test]
async fn naming_an_actor_outside_the_systems_scope_is_refused_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut oa = server.client().await;
    let id = new_id();
    draft(&mut oa, &id).await;
    let mut archive = server.client_with(Some(ARCHIVE_TOKEN)).await;

    // The archive system acts for archivists only: not for a drafter…
    let other = new_id();
    let s = archive
        .draft_document(pb::DraftDocumentRequest {
            command_id: cid(),
            actor_id: "wang.fang".into(),
            document_id: other.clone(),
            expected_version: Some(0),
            fields: Some(fields()),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied, "{s:?}");
    assert_eq!(reason(&s), "OUT_OF_SCOPE");
    for part in ["system archive-system", "role Archivist", "actor wang.fang"] {
        assert!(s.message().contains(part), "{part}: {}", s.message());
    }
    let d = s.get_error_details();
    assert_eq!(
        d.bad_request().unwrap().field_violations[0].field,
        "actor_id"
    );
    // …and nothing was drafted.
    let s = oa
        .get_document(pb::GetDocumentRequest {
            actor_id: "wang.fang".into(),
            document_id: other,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::NotFound, "{s:?}");
    // Nor may it read as someone outside its scope.
    for actor in ["wang.fang", "huang.wei"] {
        let s = archive
            .get_document(pb::GetDocumentRequest {
                actor_id: actor.into(),
                document_id: id.clone(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(s.code(), Code::PermissionDenied, "{actor}: {s:?}");
        assert_eq!(reason(&s), "OUT_OF_SCOPE");
        let s = archive
            .subscribe(pb::SubscribeRequest {
                actor_id: actor.into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(s.code(), Code::PermissionDenied, "{actor}: {s:?}");
    }
    // An archivist is within its scope.
    let got = archive
        .get_document(pb::GetDocumentRequest {
            actor_id: "xu.jing".into(),
            document_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.version, 1);
    server.stop().await;
}

#[tokio::test]
async fn tokens_are_checked_against_their_digests() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let list = |mut c: Client| async move {
        c.list_documents(pb::ListDocumentsRequest::default())
            .await
            .map(|_| ())
    };
    // Configured by token_sha256 only: the token itself authenticates.
    list(server.client_with(Some(ARCHIVE_TOKEN)).await)
        .await
        .unwrap();
    // Its digest, or a near miss, does not.
    for wrong in [
        sha256_hex(ARCHIVE_TOKEN),
        format!("{ARCHIVE_TOKEN}x"),
        ARCHIVE_TOKEN[..ARCHIVE_TOKEN.len() - 1].to_owned(),
    ] {
        let s = list(server.client_with(Some(&wrong)).await)
            .await
            .unwrap_err();
        assert_eq!(s.code(), Code::Unauthenticated, "{wrong}: {s:?}");
        assert_eq!(reason(&s), "UNKNOWN_TOKEN");
    }
    server.stop().await;
}

#[tokio::test]
async fn directory_changes_are_logged_with_system_and_reason_and_deactivation_bites() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut admin = server.admin(ADMIN_TOKEN).await;
    let mut oa = server.client().await;
    let id = new_id();
    draft(&mut oa, &id).await;
    submit(&mut oa, &id).await;
    // A change without a reason is refused, naming the field.
    let s = admin
        .deactivate_actor(pb::DeactivateActorRequest {
            actor_id: "li.qiang".into(),
            reason: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(s.code(), Code::InvalidArgument, "{s:?}");
    assert_eq!(
        s.get_error_details()
            .bad_request()
            .unwrap()
            .field_violations[0]
            .field,
        "reason"
    );
    let a = admin
        .deactivate_actor(pb::DeactivateActorRequest {
            actor_id: "li.qiang".into(),
            reason: "离职".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(a.deactivated);
    let listed = admin
        .list_actors(pb::ListActorsRequest {})
        .await
        .unwrap()
        .into_inner()
        .actors;
    assert!(listed.iter().any(|a| a.id == "li.qiang" && a.deactivated));
    // He may not act any more.
    let s = approve(&mut oa, &id, "li.qiang").await.unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied, "{s:?}");
    assert_eq!(reason(&s), "ACTOR_DEACTIVATED");
    // The change is in the log: an administering system's subscription carries it, with the
    // system and the reason; others' do not.
    let mut sub = server
        .client_with(Some(ADMIN_TOKEN))
        .await
        .subscribe(pb::SubscribeRequest::default())
        .await
        .unwrap()
        .into_inner();
    let mut found = None;
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(500), sub.next()).await {
        let e = e.unwrap();
        if e.r#type == "ActorDeactivated" {
            found = Some(e);
        }
    }
    let e = found.expect("the deactivation in the admin's subscription");
    let payload: serde_json::Value = serde_json::from_str(&e.payload_json).unwrap();
    assert_eq!(payload["system"], "ops");
    assert_eq!(payload["reason"], "离职");
    assert_eq!(
        e.stream_id,
        workflow_core::directory::DIRECTORY_STREAM.to_string()
    );
    let seen = subscribed_documents(&mut oa, "").await;
    assert!(
        !seen.contains(&e.stream_id),
        "directory events reached a non-admin system"
    );
    server.stop().await;
}

#[tokio::test]
async fn classified_reads_are_recorded_before_they_are_answered() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut oa = server.client().await;
    let (open, secret) = (new_id(), new_id());
    draft(&mut oa, &open).await;
    draft_secret(&mut oa, &secret).await;
    let get = |id: &str, version: Option<u64>| pb::GetDocumentRequest {
        actor_id: "wang.fang".into(),
        document_id: id.into(),
        as_of_version: version,
    };
    oa.get_document(get(&open, None)).await.unwrap();
    oa.get_document(get(&secret, None)).await.unwrap();
    oa.get_document(get(&secret, Some(1))).await.unwrap();
    oa.get_history(pb::GetHistoryRequest {
        actor_id: "wang.fang".into(),
        document_id: secret.clone(),
    })
    .await
    .unwrap();
    let delivered = subscribed_documents(&mut oa, "wang.fang").await;
    assert!(delivered.contains(&secret));
    // A refused read is recorded as an attempt.
    oa.get_document(pb::GetDocumentRequest {
        actor_id: "zhou.jie".into(),
        ..get(&secret, None)
    })
    .await
    .unwrap_err();

    let mut admin = server.admin(ADMIN_TOKEN).await;
    let entries = admin
        .list_access_log(pb::ListAccessLogRequest::default())
        .await
        .unwrap()
        .into_inner()
        .entries;
    let whats: Vec<(&str, &str, &str)> = entries
        .iter()
        .map(|e| (e.what.as_str(), e.system.as_str(), e.actor_id.as_str()))
        .collect();
    assert_eq!(
        whats,
        [
            ("get", "oa-portal", "wang.fang"),
            ("as_of", "oa-portal", "wang.fang"),
            ("history", "oa-portal", "wang.fang"),
            ("subscribe", "oa-portal", "wang.fang"),
            ("refused", "oa-portal", "zhou.jie"),
        ],
        "only the 秘密 document's reads and the refused attempt, in order"
    );
    assert!(
        entries[4].detail.starts_with("get: clearance"),
        "{}",
        entries[4].detail
    );
    assert!(entries.iter().all(|e| e.document_id == secret));
    assert_eq!(entries[1].detail, "version 1");
    assert!(
        entries[3].detail.contains("Drafted"),
        "{}",
        entries[3].detail
    );
    assert!(entries.windows(2).all(|w| w[1].prev_hash == w[0].hash));
    // Filters, and the access log's chain in VerifyLog.
    let none = admin
        .list_access_log(pb::ListAccessLogRequest {
            document_id: open.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert!(none.is_empty());
    let v = admin
        .verify_log(pb::VerifyLogRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert!(v.intact);
    assert_eq!(v.access_log_checked, 5);
    // Only administering systems list it.
    let s =
        WorkflowAdminClient::with_interceptor(server.channel().await, Bearer::new(Some(OA_TOKEN)))
            .list_access_log(pb::ListAccessLogRequest::default())
            .await
            .unwrap_err();
    assert_eq!(s.code(), Code::PermissionDenied, "{s:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_document_reclassified_while_subscribed_stops_reaching_uncleared_readers() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut oa = server.client().await;
    let (doc, marker) = (new_id(), new_id());
    draft(&mut oa, &doc).await;
    // A live subscription naming no actor: 非密 only.
    let mut sub = oa
        .subscribe(pb::SubscribeRequest::default())
        .await
        .unwrap()
        .into_inner();
    let mut seen = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(300), sub.next()).await {
        seen.push(e.unwrap());
    }
    assert!(seen.iter().any(|e| e.stream_id == doc));
    // The drafter reclassifies it 秘密 and revises it again; then an unclassified marker.
    let mut f = fields();
    f.classification = pb::Classification::Secret as i32;
    f.classification_period_years = Some(10);
    for version in [1, 2] {
        f.title = format!("关于2026年度干部考察工作的通知（第{version}稿）");
        oa.revise_document(pb::ReviseDocumentRequest {
            command_id: cid(),
            actor_id: "wang.fang".into(),
            document_id: doc.clone(),
            expected_version: Some(version),
            fields: Some(f.clone()),
        })
        .await
        .unwrap();
    }
    draft(&mut oa, &marker).await;
    let mut later = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(500), sub.next()).await {
        later.push(e.unwrap());
    }
    assert!(
        later.iter().any(|e| e.stream_id == marker),
        "the marker arrives"
    );
    assert!(
        !later.iter().any(|e| e.stream_id == doc),
        "events of the reclassified document reached an uncleared system: {:?}",
        later.iter().map(|e| &e.r#type).collect::<Vec<_>>()
    );
    server.stop().await;
}

#[tokio::test]
async fn a_deactivated_actor_reads_nothing_and_lists_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut oa = server.client().await;
    let secret = new_id();
    draft_secret(&mut oa, &secret).await;
    // A list naming wang.fang hands out the 秘密 document: recorded as a list read.
    let listed = oa
        .list_documents(pb::ListDocumentsRequest {
            actor_id: "wang.fang".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .documents;
    assert_eq!(listed.len(), 1);
    let mut admin = server.admin(ADMIN_TOKEN).await;
    let entries = admin
        .list_access_log(pb::ListAccessLogRequest::default())
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].what.as_str(), entries[0].document_id.as_str()),
        ("list", secret.as_str())
    );
    admin
        .deactivate_actor(pb::DeactivateActorRequest {
            actor_id: "wang.fang".into(),
            reason: "调岗".into(),
        })
        .await
        .unwrap();
    let denied = |s: tonic::Status| {
        assert_eq!(s.code(), Code::PermissionDenied, "{s:?}");
        assert_eq!(reason(&s), "ACTOR_DEACTIVATED");
    };
    denied(
        oa.get_document(pb::GetDocumentRequest {
            actor_id: "wang.fang".into(),
            document_id: secret.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err(),
    );
    denied(
        oa.list_documents(pb::ListDocumentsRequest {
            actor_id: "wang.fang".into(),
            todo: true,
            ..Default::default()
        })
        .await
        .unwrap_err(),
    );
    denied(
        oa.subscribe(pb::SubscribeRequest {
            actor_id: "wang.fang".into(),
            ..Default::default()
        })
        .await
        .unwrap_err(),
    );
    server.stop().await;
}
