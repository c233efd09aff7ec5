//! 收文 end to end over gRPC: the full 批办 flow (登记 → 初审 → 拟办 → 批办 with two 协办 →
//! 承办 with 协办 input and a granted 延期 → 办结 → 归档), a 传阅 flow, the link from an
//! acknowledged 发文, lists and the to-do list across flows, and the error table.

use crate::common::*;
use chrono::Duration;
use tokio_stream::StreamExt;
use tonic::Code;
use tonic_types::StatusExt;
use workflow_grpc::pb;
use workflow_testkit::incoming::incoming_sample;
use workflow_testkit::steps;

/// Today, China time, as the server's clock (the kit's) sees it.
fn today() -> chrono::NaiveDate {
    workflow_testkit::clock::today()
}

/// The fixture's sample registration, received today, due in four weeks.
fn registration() -> pb::Registration {
    let s = incoming_sample().registration;
    pb::Registration {
        channel: 0,
        copies: 0,
        copy_numbers: String::new(),
        important: false,
        slip_required: false,
        files: Default::default(),
        from: s.from,
        from_number: s.from_number,
        title: s.title,
        kind: pb::Kind::Circular as i32,
        classification: pb::Classification::None as i32,
        classification_period_years: None,
        urgency: pb::Urgency::Urgent as i32,
        received_on: today().to_string(),
        deadline: (today() + Duration::days(28)).to_string(),
        reply_required: true,
        pages: s.pages,
        attachments: s
            .attachments
            .into_iter()
            .map(|a| pb::Attachment {
                name: a.name,
                sha256: a.sha256,
            })
            .collect(),
        source_document_id: String::new(),
    }
}

macro_rules! cmd {
    ($c:expr, $rpc:ident, $msg:ident { $actor:expr, $id:expr $(, $f:ident: $v:expr)* $(,)? }) => {
        {
            // The fields not named are the wire's defaults (empty).
            #[allow(clippy::needless_update)]
            let message = pb::$msg {
                command_id: cid(),
                actor_id: $actor.into(),
                document_id: $id.clone(),
                expected_version: None,
                $($f: $v,)*
                ..Default::default()
            };
            $c.$rpc(message).await
        }
    };
}

async fn get_incoming(c: &mut Client, id: &str) -> pb::IncomingDocument {
    c.get_incoming(pb::GetDocumentRequest {
        actor_id: "ding.xin".into(),
        document_id: id.into(),
        as_of_version: None,
    })
    .await
    .unwrap()
    .into_inner()
}

async fn register(c: &mut Client, id: &str) {
    register_as(c, id, registration()).await;
}

/// Registers and screens `registration`.
async fn register_as(c: &mut Client, id: &str, registration: pb::Registration) {
    let id = id.to_owned();
    cmd!(c, register_incoming, RegisterIncomingRequest {
        "he.ping", id, registration: Some(registration), unit: String::new()
    })
    .unwrap();
    cmd!(c, screen_incoming, ScreenIncomingRequest {
        "he.ping", id, note: "来文齐全。".into(), deadline: String::new()
    })
    .unwrap();
}

#[tokio::test]
async fn the_full_instruct_flow_over_grpc() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let s = incoming_sample();
    let id = new_id();
    register(&mut c, &id).await;
    let r = get_incoming(&mut c, &id).await;
    assert_eq!(r.step, "Proposing");
    assert_eq!(
        r.receipt_number,
        format!("X校收〔{}〕1号", chrono::Datelike::year(&today()))
    );
    cmd!(c, propose_handling, ProposeHandlingRequest {
        "ding.xin", id, readers: vec![], leader: "lin.zhiyuan".into(), opinion: s.proposal.clone()
    })
    .unwrap();
    // The leader's to-do list holds it.
    let todo = c
        .list_documents(pb::ListDocumentsRequest {
            actor_id: "lin.zhiyuan".into(),
            todo: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(todo.receipts.len(), 1);
    assert_eq!(todo.receipts[0].id, id);
    let deadline = today() + Duration::days(28);
    cmd!(c, instruct_incoming, InstructIncomingRequest {
        "lin.zhiyuan", id,
        lead_unit: "JWC".into(),
        co_units: vec!["RSC".into(), "CWC".into()],
        deadline: deadline.to_string(),
        opinion: s.instruction.clone(),
        supervise: false,
    })
    .unwrap();
    for (unit, (handler, text)) in &s.co_units {
        let r =
            cmd!(c, give_co_input, GiveCoInputRequest { handler.as_str(), id, text: text.clone() })
                .unwrap()
                .into_inner();
        assert_eq!(r.events[0].r#type, "CoInputGiven", "{unit}");
    }
    cmd!(c, record_progress, RecordProgressRequest { "fang.yu", id, text: s.progress.clone() })
        .unwrap();
    let until = deadline + Duration::days(10);
    cmd!(c, request_extension, RequestExtensionRequest {
        "fang.yu", id, until: until.to_string(), reason: s.extension.1.clone()
    })
    .unwrap();
    cmd!(c, decide_extension, DecideExtensionRequest {
        "ding.xin", id, grant: true, reason: "同意延期。".into()
    })
    .unwrap();
    let r = get_incoming(&mut c, &id).await;
    assert_eq!(r.deadline, until.to_string());
    assert_eq!(r.co_inputs.len(), 2);
    assert_eq!(r.instruction.as_ref().unwrap().co_units, vec!["RSC", "CWC"]);
    cmd!(c, complete_incoming, CompleteIncomingRequest {
        "fang.yu", id, result: s.result.clone(), reply: s.reply.clone()
    })
    .unwrap();
    cmd!(c, archive_incoming, ArchiveIncomingRequest {
        "xu.jing", id,
        fonds: "J012".into(),
        retention: pb::Retention::Unspecified as i32,
        unit_code: "JWC".into(),
        deviation_reason: String::new(),
    })
    .unwrap();
    let r = get_incoming(&mut c, &id).await;
    assert_eq!(
        (r.step.as_str(), r.step_chinese.as_str()),
        ("Archived", "已归档")
    );
    assert_eq!(r.result, s.result);
    assert_eq!(r.reply, s.reply);
    assert!(r.archive.unwrap().reference.starts_with("J012-WS·"));
    // Its history over the same RPC as 发文.
    let events = c
        .get_history(pb::GetHistoryRequest {
            actor_id: "ding.xin".into(),
            document_id: id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    let types: Vec<_> = events.iter().map(|e| e.r#type.as_str()).collect();
    assert_eq!(
        types,
        [
            "Registered",
            "Screened",
            "HandlingProposed",
            "Instructed",
            "CoInputGiven",
            "CoInputGiven",
            "ProgressRecorded",
            "ExtensionRequested",
            "ExtensionDecided",
            "IncomingCompleted",
            "IncomingArchived"
        ]
    );
    // A 收文's id is not an 发文's, and the other way round.
    let e = c
        .get_document(pb::GetDocumentRequest {
            actor_id: "ding.xin".into(),
            document_id: id.clone(),
            as_of_version: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    server.stop().await;
}

/// 会批 (宋华 before 林志远, in turn), then 批示件传阅 beside the handling: the leader's
/// 批示 goes round the other leaders (阅知) and the office adds one who must act (阅办);
/// the handling goes on; 归档 waits for the last reader.
#[tokio::test]
async fn a_joint_instruction_then_circulated_while_handled_over_grpc() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let id = new_id();
    register(&mut c, &id).await;
    // 会批 names leaders for 批办 only.
    let e = cmd!(c, propose_handling, ProposeHandlingRequest {
        "ding.xin", id, readers: vec!["song.hua".into()], co_leaders: vec!["song.hua".into()],
        opinion: "会批".into()
    })
    .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    cmd!(c, propose_handling, ProposeHandlingRequest {
        "ding.xin", id, leader: "lin.zhiyuan".into(), co_leaders: vec!["song.hua".into()],
        in_turn: true, opinion: "拟请宋校长阅示后呈林校长批示。".into()
    })
    .unwrap();
    let r = get_incoming(&mut c, &id).await;
    assert_eq!(r.co_leaders, ["song.hua"]);
    assert!(r.in_turn);
    assert_eq!(r.awaited_leaders, ["song.hua"]);
    let deadline = today() + Duration::days(20);
    let instruct = |opinion: &str| pb::InstructIncomingRequest {
        command_id: cid(),
        actor_id: "lin.zhiyuan".into(),
        document_id: id.clone(),
        expected_version: None,
        lead_unit: "JWC".into(),
        co_units: vec![],
        deadline: deadline.to_string(),
        opinion: opinion.into(),
        supervise: false,
    };
    let e = c
        .instruct_incoming(instruct("请教务处办理。"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    cmd!(c, comment_instruction, CommentInstructionRequest {
        "song.hua", id, opinion: "同意，请林校长批示。".into()
    })
    .unwrap();
    assert_eq!(
        get_incoming(&mut c, &id).await.awaited_leaders,
        ["lin.zhiyuan"]
    );
    c.instruct_incoming(instruct("请教务处办理，并请各位校领导阅。"))
        .await
        .unwrap();
    // 批示件传阅: by the leader who gave the 批示 (阅知), and by the office (阅办).
    cmd!(c, add_readers, AddReadersRequest {
        "lin.zhiyuan", id, readers: vec!["song.hua".into(), "zhang.guoqing".into()]
    })
    .unwrap();
    let act_by = today() + Duration::days(3);
    cmd!(c, add_readers, AddReadersRequest {
        "ding.xin", id, readers: vec!["guo.tao".into()], act_by: act_by.to_string()
    })
    .unwrap();
    let r = get_incoming(&mut c, &id).await;
    assert_eq!(r.step, "InHandling");
    let acting: Vec<(&str, &str)> = r
        .readers
        .iter()
        .map(|m| (m.actor_id.as_str(), m.act_by.as_str()))
        .collect();
    let act_by = act_by.to_string();
    assert_eq!(
        acting,
        [
            ("guo.tao", act_by.as_str()),
            ("song.hua", ""),
            ("zhang.guoqing", "")
        ]
    );
    // A 阅办 reader's to-do holds it; marking it done needs their opinion.
    let todo = c
        .list_documents(pb::ListDocumentsRequest {
            actor_id: "guo.tao".into(),
            todo: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(todo.receipts.iter().any(|r| r.id == id));
    let e =
        cmd!(c, mark_read, MarkReadRequest { "guo.tao", id, opinion: String::new() }).unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    for (reader, opinion) in [("guo.tao", "人事处已安排配合。"), ("song.hua", "")] {
        cmd!(
            c,
            mark_read,
            MarkReadRequest {
                reader,
                id,
                opinion: opinion.into()
            }
        )
        .unwrap();
    }
    cmd!(c, complete_incoming, CompleteIncomingRequest {
        "fang.yu", id, result: "已办结。".into(), reply: "X校教〔2026〕40号".into()
    })
    .unwrap();
    let e = cmd!(c, archive_incoming, ArchiveIncomingRequest {
        "xu.jing", id, fonds: "J012".into(), unit_code: "JWC".into()
    })
    .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition, "{e:?}");
    assert!(e.message().contains("zhang.guoqing"), "{}", e.message());
    cmd!(c, mark_read, MarkReadRequest { "zhang.guoqing", id, opinion: "阅。".into() }).unwrap();
    cmd!(c, archive_incoming, ArchiveIncomingRequest {
        "xu.jing", id, fonds: "J012".into(), unit_code: "JWC".into()
    })
    .unwrap();
    let steps: Vec<String> = c
        .get_history(pb::GetHistoryRequest {
            actor_id: "ding.xin".into(),
            document_id: id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .events
        .iter()
        .map(|e| e.r#type.clone())
        .collect();
    assert_eq!(
        steps,
        [
            "Registered",
            "Screened",
            "HandlingProposed",
            "InstructionCommented",
            "Instructed",
            "ReadersAdded",
            "ReadersAdded",
            "Read",
            "Read",
            "IncomingCompleted",
            "Read",
            "IncomingArchived"
        ]
    );
    server.stop().await;
}

#[tokio::test]
async fn a_circulation_flow_over_grpc() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let id = new_id();
    // A document only to be read: its sender expects no reply (one that does is refused
    // 传阅, as the error table below shows).
    register_as(
        &mut c,
        &id,
        pb::Registration {
            channel: 0,
            copies: 0,
            copy_numbers: String::new(),
            important: false,
            slip_required: false,
            reply_required: false,
            ..registration()
        },
    )
    .await;
    cmd!(c, propose_handling, ProposeHandlingRequest {
        "ding.xin", id,
        readers: vec!["lin.zhiyuan".into(), "song.hua".into()],
        leader: String::new(),
        opinion: "拟请校领导传阅。".into(),
    })
    .unwrap();
    cmd!(c, add_readers, AddReadersRequest { "ding.xin", id, readers: vec!["chen.hong".into()] })
        .unwrap();
    for (reader, opinion) in [
        ("lin.zhiyuan", "已阅。"),
        ("song.hua", ""),
        ("chen.hong", "已阅，请办公室跟进。"),
    ] {
        cmd!(
            c,
            mark_read,
            MarkReadRequest {
                reader,
                id,
                opinion: opinion.into()
            }
        )
        .unwrap();
    }
    let r = get_incoming(&mut c, &id).await;
    assert_eq!(r.step, "Completed");
    assert_eq!(r.plan, "circulate");
    assert!(r.readers.iter().all(|m| m.read));
    assert_eq!(r.readers.len(), 3);
    server.stop().await;
}

#[tokio::test]
async fn an_acknowledged_outgoing_document_appears_as_the_units_receipt_over_grpc() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let id = new_id();
    sample_steps(&mut c, &id, 0, steps::ACKNOWLEDGED).await;
    let list = c
        .list_documents(pb::ListDocumentsRequest {
            actor_id: "guo.tao".into(),
            flow: "incoming".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(list.documents.is_empty());
    assert_eq!(list.receipts.len(), 1);
    let r = &list.receipts[0];
    assert_eq!(r.registration.as_ref().unwrap().source_document_id, id);
    assert_eq!(r.unit, "RSC");
    // Both ways on the wire: the 发文's 签收 names the 收文 it made.
    let d = get(&mut c, &id).await;
    let ack = d.acknowledgements.iter().find(|a| a.unit == "RSC").unwrap();
    assert_eq!(ack.receipt_id, r.id);
    assert_eq!(r.step, "Registered");
    // RSC's registrar has it to do.
    let todo = c
        .list_documents(pb::ListDocumentsRequest {
            actor_id: "guo.tao".into(),
            todo: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(todo.receipts.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn incoming_rejections_map_to_the_error_table() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let id = new_id();
    // INVALID_ARGUMENT naming the field: a 特急 document without its 办结时限.
    let mut reg = registration();
    reg.deadline.clear();
    let e = cmd!(c, register_incoming, RegisterIncomingRequest {
        "he.ping", id, registration: Some(reg), unit: String::new()
    })
    .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    let details = e.get_error_details();
    assert_eq!(
        details.bad_request().unwrap().field_violations[0].field,
        "registration.deadline"
    );
    // A bad date on the wire, named.
    let mut reg = registration();
    reg.received_on = "2026-13-01".into();
    let e = cmd!(c, register_incoming, RegisterIncomingRequest {
        "he.ping", id, registration: Some(reg), unit: String::new()
    })
    .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(e.message().contains("registration.received_on"), "{e:?}");
    // NOT_FOUND before registration; PERMISSION_DENIED for the wrong role.
    let e = cmd!(c, screen_incoming, ScreenIncomingRequest {
        "he.ping", id, note: String::new(), deadline: String::new()
    })
    .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);
    let e = cmd!(c, register_incoming, RegisterIncomingRequest {
        "wang.fang", id, registration: Some(registration()), unit: String::new()
    })
    .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    register(&mut c, &id).await;
    // ALREADY_EXISTS: registered twice; FAILED_PRECONDITION: the wrong step.
    let e = cmd!(c, register_incoming, RegisterIncomingRequest {
        "he.ping", id, registration: Some(registration()), unit: String::new()
    })
    .unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists);
    let e =
        cmd!(c, record_progress, RecordProgressRequest { "fang.yu", id, text: "已办。".into() })
            .unwrap_err();
    assert_eq!(e.code(), Code::FailedPrecondition);
    // Nobody named to read it may mark it read.
    let e = cmd!(c, mark_read, MarkReadRequest { "lin.zhiyuan", id, opinion: String::new() })
        .unwrap_err();
    assert_eq!(e.code(), Code::PermissionDenied);
    // ABORTED: a stale expected version.
    let e = c
        .reject_incoming(pb::RejectIncomingRequest {
            command_id: cid(),
            actor_id: "ding.xin".into(),
            document_id: id.clone(),
            expected_version: Some(1),
            reason: "非本单位事项".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Aborted);
    // Both readers and a leader: INVALID_ARGUMENT, and nothing changed.
    let e = cmd!(c, propose_handling, ProposeHandlingRequest {
        "ding.xin", id, readers: vec!["song.hua".into()], leader: "lin.zhiyuan".into(), opinion: "拟办".into()
    })
    .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    // 传阅 of a document whose sender expects a reply: INVALID_ARGUMENT on `plan` (it would
    // end without one).
    let e = cmd!(c, propose_handling, ProposeHandlingRequest {
        "ding.xin", id, readers: vec!["song.hua".into()], leader: String::new(), opinion: "拟请传阅".into()
    })
    .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().contains("是否需回复"), "{}", e.message());
    assert_eq!(get_incoming(&mut c, &id).await.version, 2);
    server.stop().await;
}

/// The sample's 批办 flow, each step sent by `workflow_grpc::client::send` as its typed RPC,
/// watched by a subscriber filtered on the receiving unit (XB, the sample registrar's), the kind and a reader's clearance:
/// `Subscribe` carries 收文 streams live, in order, and keeps to its filter.
#[tokio::test]
async fn subscribe_delivers_incoming_events_live_and_client_send_speaks_every_incoming_rpc() {
    let s = incoming_sample();
    // The server's clock stands the day after the sample was received, so that its dates hold.
    let at = s
        .registration
        .received_on
        .and_hms_opt(2, 0, 0)
        .unwrap()
        .and_utc()
        + Duration::days(1);
    let dir = tempfile::tempdir().unwrap();
    let server = start_with_clock(dir.path(), std::sync::Arc::new(move || at)).await;
    let mut c = server.client().await;
    let mut sub = c
        .subscribe(pb::SubscribeRequest {
            from_position: 0,
            units: vec!["XB".into()],
            kinds: vec![pb::Kind::Circular as i32],
            actor_id: "ye.qing".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    // A 秘密 收文 for the same unit and kind: ye.qing's clearance does not cover it.
    let secret = new_id();
    let mut registration = registration();
    registration.classification = pb::Classification::Secret as i32;
    registration.classification_period_years = Some(10);
    registration.received_on = s.registration.received_on.to_string();
    registration.deadline = String::new();
    registration.urgency = pb::Urgency::Normal as i32;
    cmd!(c, register_incoming, RegisterIncomingRequest {
        "he.ping", secret, registration: Some(registration), unit: String::new()
    })
    .unwrap();
    let id = workflow_core::DocumentId(uuid::Uuid::new_v4());
    let flow = workflow_testkit::incoming::instruct_flow(&s, "J012");
    let mut sent = Vec::new();
    for (actor, action) in flow {
        let name = action.name();
        let request = workflow_store::Request::new(id, actor.clone(), action);
        let r = workflow_grpc::client::send(&mut c, &request)
            .await
            .unwrap_or_else(|e| panic!("{actor} {name}: {e:?}"))
            .into_inner();
        sent.extend(r.events.into_iter().map(|e| (e.position, e.r#type)));
    }
    assert_eq!(sent.len(), 11, "{sent:?}");
    let mut got = Vec::new();
    while got.len() < sent.len() {
        let e = tokio::time::timeout(std::time::Duration::from_secs(10), sub.next())
            .await
            .expect("the subscriber waits for a 收文 event")
            .unwrap()
            .unwrap();
        assert_eq!(
            e.stream_id,
            id.to_string(),
            "only the sample, not the 秘密 收文"
        );
        got.push((e.position, e.r#type));
    }
    assert_eq!(got, sent);
    // The 秘密 one does reach a system cleared for 秘密 (the archive system), subscribing
    // without an actor.
    let mut archive = server.client_with(Some(ARCHIVE_TOKEN)).await;
    let mut all = archive
        .subscribe(pb::SubscribeRequest {
            from_position: 0,
            units: vec!["XB".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let first = all.next().await.unwrap().unwrap();
    assert_eq!(
        (first.stream_id, first.r#type.as_str()),
        (secret, "Registered")
    );
    server.stop().await;
}

/// A 批办 with 列入督办: the 收文 names the 督办 item it opened, and the item names its source.
#[tokio::test]
async fn an_instruction_with_supervision_names_its_item_on_the_wire() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let mut c = server.client().await;
    let s = incoming_sample();
    let id = new_id();
    register(&mut c, &id).await;
    cmd!(c, propose_handling, ProposeHandlingRequest {
        "ding.xin", id, readers: vec![], leader: "lin.zhiyuan".into(), opinion: s.proposal.clone()
    })
    .unwrap();
    assert!(get_incoming(&mut c, &id).await.supervision_items.is_empty());
    cmd!(c, instruct_incoming, InstructIncomingRequest {
        "lin.zhiyuan", id,
        lead_unit: "JWC".into(),
        co_units: vec![],
        deadline: (today() + Duration::days(28)).to_string(),
        opinion: s.instruction.clone(),
        supervise: true,
    })
    .unwrap();
    let r = get_incoming(&mut c, &id).await;
    assert_eq!(r.supervision_items.len(), 1, "{r:?}");
    let item = c
        .get_item(pb::GetDocumentRequest {
            actor_id: "ding.xin".into(),
            document_id: r.supervision_items[0].clone(),
            as_of_version: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(item.spec.as_ref().unwrap().lead_unit, "JWC");
    assert!(
        format!("{item:?}").contains(&id),
        "the item names the 收文: {item:?}"
    );
    server.stop().await;
}
