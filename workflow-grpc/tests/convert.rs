//! Every command survives the wire both ways: an engine request turned into its RPC message
//! and read back by the service is the same request.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

use chrono::NaiveDate;
use workflow_core::incoming::Plan;
use workflow_core::{DocumentId, incoming::IncomingAction, outgoing::Action, retention::Retention};
use workflow_grpc::convert::{CommandMessage, WireCommand, command_message};
use workflow_store::Request;

fn back(m: CommandMessage) -> Request {
    match m {
        CommandMessage::Draft(m) => m.into_request(),
        CommandMessage::Revise(m) => m.into_request(),
        CommandMessage::SubmitForReview(m) => m.into_request(),
        CommandMessage::Approve(m) => m.into_request(),
        CommandMessage::Return(m) => m.into_request(),
        CommandMessage::Withdraw(m) => m.into_request(),
        CommandMessage::Countersign(m) => m.into_request(),
        CommandMessage::AddCountersigner(m) => m.into_request(),
        CommandMessage::RemoveCountersigner(m) => m.into_request(),
        CommandMessage::AddReviewer(m) => m.into_request(),
        CommandMessage::Reassign(m) => m.into_request(),
        CommandMessage::Delegate(m) => m.into_request(),
        CommandMessage::ReturnToStage(m) => m.into_request(),
        CommandMessage::SignOff(m) => m.into_request(),
        CommandMessage::Issue(m) => m.into_request(),
        CommandMessage::Acknowledge(m) => m.into_request(),
        CommandMessage::Archive(m) => m.into_request(),
        CommandMessage::Void(m) => m.into_request(),
        CommandMessage::RegisterIncoming(m) => m.into_request(),
        CommandMessage::ScreenIncoming(m) => m.into_request(),
        CommandMessage::RejectIncoming(m) => m.into_request(),
        CommandMessage::ProposeHandling(m) => m.into_request(),
        CommandMessage::InstructIncoming(m) => m.into_request(),
        CommandMessage::TransferInstruction(m) => m.into_request(),
        CommandMessage::RecordProgress(m) => m.into_request(),
        CommandMessage::UrgeIncoming(m) => m.into_request(),
        CommandMessage::ReturnSlip(m) => m.into_request(),
        CommandMessage::GiveCoInput(m) => m.into_request(),
        CommandMessage::RequestExtension(m) => m.into_request(),
        CommandMessage::DecideExtension(m) => m.into_request(),
        CommandMessage::SendBack(m) => m.into_request(),
        CommandMessage::CompleteIncoming(m) => m.into_request(),
        CommandMessage::MarkRead(m) => m.into_request(),
        CommandMessage::AddReaders(m) => m.into_request(),
        CommandMessage::CommentInstruction(m) => m.into_request(),
        CommandMessage::ArchiveIncoming(m) => m.into_request(),
        CommandMessage::OpenItem(m) => m.into_request(),
        CommandMessage::AcceptItem(m) => m.into_request(),
        CommandMessage::ReportProgress(m) => m.into_request(),
        CommandMessage::RequestItemExtension(m) => m.into_request(),
        CommandMessage::DecideItemExtension(m) => m.into_request(),
        CommandMessage::ReportCompletion(m) => m.into_request(),
        CommandMessage::CloseItem(m) => m.into_request(),
        CommandMessage::ReturnItem(m) => m.into_request(),
        CommandMessage::UrgeItem(m) => m.into_request(),
        CommandMessage::GiveItemInput(m) => m.into_request(),
        CommandMessage::ArchiveItem(m) => m.into_request(),
        CommandMessage::DraftMemo(m) => m.into_request(),
        CommandMessage::ReviseMemo(m) => m.into_request(),
        CommandMessage::SubmitMemo(m) => m.into_request(),
        CommandMessage::ApproveMemo(m) => m.into_request(),
        CommandMessage::CountersignMemo(m) => m.into_request(),
        CommandMessage::ReturnMemo(m) => m.into_request(),
        CommandMessage::AcceptMemo(m) => m.into_request(),
        CommandMessage::EndorseMemo(m) => m.into_request(),
        CommandMessage::ReferMemo(m) => m.into_request(),
        CommandMessage::CloseMemo(m) => m.into_request(),
        CommandMessage::ArchiveMemo(m) => m.into_request(),
        CommandMessage::VoidMemo(m) => m.into_request(),
    }
    .unwrap()
}

#[test]
fn every_command_reads_back_as_sent() {
    let mut actions: Vec<Action> = workflow_testkit::full_flow()
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    actions.extend([
        Action::Revise(workflow_testkit::fields()),
        Action::Return {
            reason: "格式不规范".into(),
            stage: Some(1),
        },
        Action::Withdraw {
            reason: "撤回修改".into(),
        },
        Action::Countersign {
            content: None,
            agree: false,
            opinion: "不同意".into(),
            stage: None,
        },
        Action::AddCountersigner {
            unit: "KYC".into(),
            stage: Some(1),
        },
        Action::RemoveCountersigner {
            unit: "XSC".into(),
            stage: None,
        },
        Action::AddReviewer {
            reviewer: "chen.hong".into(),
            before: true,
            stage: Some(0),
        },
        Action::Reassign {
            to: "chen.hong".into(),
            reason: "出差".into(),
            stage: Some(0),
        },
        Action::Delegate {
            to: "wu.gang".into(),
            reason: "请代为会签".into(),
            stage: None,
        },
        Action::ReturnToStage {
            stage: 0,
            reason: "重新审核".into(),
            from_stage: Some(2),
        },
        Action::Issue {
            issue_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            copies: 3,
        },
        Action::Archive {
            fonds: "J012".into(),
            retention: Some(Retention::Permanent),
            unit_code: "JWC".into(),
            deviation_reason: "涉及学校重大事项".into(),
        },
        Action::Archive {
            fonds: "J012".into(),
            retention: None,
            unit_code: "JWC".into(),
            deviation_reason: String::new(),
        },
        Action::Void {
            reason: "不再需要".into(),
        },
    ]);
    let id = DocumentId(uuid::Uuid::from_u128(7));
    for (i, action) in actions.into_iter().enumerate() {
        let mut sent = Request::new(id, "li.qiang", action);
        sent.expected_version = (i % 2 == 0).then_some(i as u64);
        let message = command_message(&sent).unwrap();
        assert_eq!(back(message), sent, "action {i}");
    }
}

#[test]
fn a_reminder_has_no_rpc() {
    let r = Request::new(
        DocumentId(uuid::Uuid::from_u128(7)),
        "system",
        Action::Remind { interval_hours: 24 },
    );
    let e = command_message(&r).unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
}

#[test]
fn every_incoming_command_reads_back_as_sent() {
    let sample = workflow_testkit::incoming::incoming_sample();
    let mut actions: Vec<IncomingAction> =
        workflow_testkit::incoming::instruct_flow(&sample, "J012")
            .into_iter()
            .map(|(_, a)| a)
            .collect();
    let day = NaiveDate::from_ymd_opt(2026, 12, 10).unwrap();
    actions.extend([
        IncomingAction::Register {
            registration: sample.registration.clone(),
            unit: Some("JWC".into()),
        },
        IncomingAction::Screen {
            note: String::new(),
            deadline: Some(day),
        },
        IncomingAction::RejectIncoming {
            reason: "非本单位来文".into(),
        },
        IncomingAction::Propose {
            plan: Plan::circulate(vec!["lin.zhiyuan".into(), "song.hua".into()]),
            opinion: "请传阅".into(),
        },
        IncomingAction::TransferInstruction {
            to: "song.hua".into(),
            opinion: "请宋校长批示".into(),
        },
        IncomingAction::DecideExtension {
            grant: false,
            reason: "时限不可延".into(),
        },
        IncomingAction::SendBack {
            reason: "不属本单位职责".into(),
        },
        IncomingAction::MarkRead {
            opinion: String::new(),
        },
        IncomingAction::AddReaders {
            readers: vec!["ye.qing".into()],
            act_by: None,
        },
        IncomingAction::AddReaders {
            readers: vec!["song.hua".into(), "lin.zhiyuan".into()],
            act_by: Some(day),
        },
        IncomingAction::Propose {
            plan: Plan::Circulate {
                readers: vec!["fang.yu".into()],
                act_by: Some(day),
            },
            opinion: "请阅办".into(),
        },
        IncomingAction::Propose {
            plan: Plan::Instruct {
                leader: "lin.zhiyuan".into(),
                co_leaders: vec!["song.hua".into()],
                in_turn: true,
            },
            opinion: "请宋校长、林校长会批".into(),
        },
        IncomingAction::CommentInstruction {
            opinion: "拟同意，请林校长阅示".into(),
        },
        IncomingAction::UrgeIncoming {
            message: "请抓紧办理".into(),
        },
        IncomingAction::ReturnSlip {
            note: "已传真回执".into(),
        },
        IncomingAction::ArchiveIncoming {
            fonds: "J012".into(),
            retention: None,
            unit_code: "XB".into(),
            deviation_reason: String::new(),
        },
    ]);
    let names: std::collections::BTreeSet<&str> = actions.iter().map(|a| a.name()).collect();
    assert_eq!(names.len(), 18, "every 收文 RPC is covered: {names:?}");
    let id = DocumentId(uuid::Uuid::from_u128(8));
    for (i, action) in actions.into_iter().enumerate() {
        let mut sent = Request::new(id, "he.ping", action);
        sent.expected_version = (i % 2 == 1).then_some(i as u64);
        let message = command_message(&sent).unwrap();
        assert_eq!(back(message), sent, "action {i}");
    }
}

#[test]
fn an_engine_registration_and_a_reminder_have_no_rpc() {
    let id = DocumentId(uuid::Uuid::from_u128(8));
    let mut registration = workflow_testkit::incoming::incoming_sample().registration;
    registration.source = Some(DocumentId(uuid::Uuid::from_u128(9)));
    let linked = Request::new(
        id,
        "he.ping",
        IncomingAction::Register {
            registration,
            unit: None,
        },
    );
    let e = command_message(&linked).unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(
        e.message().contains("source_document_id"),
        "{}",
        e.message()
    );
    let remind = Request::new(
        id,
        "system",
        IncomingAction::RemindIncoming { escalate_to: None },
    );
    let e = command_message(&remind).unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
}

#[test]
fn every_supervision_command_reads_back_as_sent() {
    use workflow_core::supervision::{Frequency, Source, SupervisionAction};
    let deadline = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
    let mut actions: Vec<SupervisionAction> =
        workflow_testkit::supervision::item_flow(deadline, "J012")
            .into_iter()
            .map(|(_, a)| a)
            .collect();
    let mut key_task = workflow_testkit::supervision::item_spec(deadline);
    key_task.source = Source::KeyTask {
        reference: "2026年度重点工作第7项".into(),
    };
    key_task.responsible = Some("fang.yu".into());
    key_task.feedback = Frequency::Monthly;
    key_task.warn_days = 0;
    let mut direct = workflow_testkit::supervision::item_spec(deadline);
    direct.source = Source::Direct;
    direct.feedback = Frequency::None;
    actions.extend([
        SupervisionAction::OpenItem { spec: key_task },
        SupervisionAction::OpenItem { spec: direct },
        SupervisionAction::ReportProgress {
            text: "进行中".into(),
            percent: None,
        },
        SupervisionAction::DecideItemExtension {
            grant: false,
            reason: "不同意".into(),
        },
        SupervisionAction::ReturnItem {
            reason: "未完成".into(),
        },
        SupervisionAction::UrgeItem {
            message: "请抓紧".into(),
        },
        SupervisionAction::GiveItemInput {
            text: "已提供经费保障。".into(),
        },
        SupervisionAction::ArchiveItem {
            fonds: "J012".into(),
            retention: None,
            unit_code: "JWC".into(),
            deviation_reason: String::new(),
        },
    ]);
    let names: std::collections::BTreeSet<&str> = actions.iter().map(|a| a.name()).collect();
    assert_eq!(names.len(), 11, "every 督办 RPC is covered: {names:?}");
    let id = DocumentId(uuid::Uuid::from_u128(10));
    for (i, action) in actions.into_iter().enumerate() {
        let mut sent = Request::new(id, "ding.xin", action);
        sent.expected_version = (i % 2 == 0).then_some(i as u64);
        let message = command_message(&sent).unwrap();
        assert_eq!(back(message), sent, "action {i}");
    }
}

#[test]
fn every_submission_command_reads_back_as_sent() {
    use workflow_core::submission::{Decision, SubmissionAction, Supervise};
    use workflow_testkit::submission::{memo_fields, memo_flow};
    let day = NaiveDate::from_ymd_opt(2027, 4, 30).unwrap();
    let mut actions: Vec<SubmissionAction> =
        memo_flow(day, "J012").into_iter().map(|(_, a)| a).collect();
    let mut classified = memo_fields();
    classified.classification = workflow_core::directory::Classification::Secret;
    classified.classification_period_years = Some(5);
    classified.important = true;
    classified.answers = Some(DocumentId(uuid::Uuid::from_u128(11)));
    actions.extend([
        SubmissionAction::ReviseMemo { fields: classified },
        SubmissionAction::CountersignMemo {
            content: None,
            agree: false,
            opinion: "经费来源不明。".into(),
            stage: None,
        },
        SubmissionAction::ReturnMemo {
            reason: "请补充预算明细。".into(),
        },
        SubmissionAction::EndorseMemo {
            content: None,
            decision: Decision::Disagree,
            text: "暂缓。".into(),
            supervise: None,
        },
        SubmissionAction::EndorseMemo {
            content: None,
            decision: Decision::Agree,
            text: "同意。".into(),
            supervise: Some(Supervise {
                lead_unit: Some("RSC".into()),
                co_units: vec![],
                deadline: day,
            }),
        },
        SubmissionAction::ReferMemo {
            to: "lin.zhiyuan".into(),
            opinion: "请林校长阅批。".into(),
        },
        SubmissionAction::ArchiveMemo {
            fonds: "J012".into(),
            retention: Some(Retention::Permanent),
            unit_code: "JWC".into(),
            deviation_reason: "全校性事项".into(),
        },
        SubmissionAction::VoidMemo {
            reason: "不再需要。".into(),
        },
    ]);
    let names: std::collections::BTreeSet<&str> = actions.iter().map(|a| a.name()).collect();
    assert_eq!(names.len(), 12, "every 签报 RPC is covered: {names:?}");
    let id = DocumentId(uuid::Uuid::from_u128(12));
    for (i, action) in actions.into_iter().enumerate() {
        let mut sent = Request::new(id, "wang.fang", action);
        sent.expected_version = (i % 2 == 1).then_some(i as u64);
        let message = command_message(&sent).unwrap();
        assert_eq!(back(message), sent, "action {i}");
    }
    let remind = Request::new(
        id,
        "system",
        SubmissionAction::RemindMemo { interval_hours: 24 },
    );
    let e = command_message(&remind).unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
}
