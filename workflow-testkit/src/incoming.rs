//! The fixture's sample 收文 (its `incoming` section: a 省教育厅 notice, 批办 to 教务处 with
//! 人事处 and 财务处 cooperating) and a given/when/then driver for 收文 in the pure core.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use serde::Deserialize;
use workflow_core::{
    ActorId, Timestamp, UnitCode, incoming::Incoming, incoming::IncomingAction, incoming::Plan,
    incoming::Receipt, incoming::Registration, retention::Retention,
};

use crate::script::{FlowScript, Scripted};

/// The fixture's sample 收文 and the people and words of its 批办 flow.
#[derive(Debug, Clone, Deserialize)]
pub struct IncomingSample {
    /// The registration fields (来文单位, 来文字号, …).
    pub registration: Registration,
    /// 收文登记员 of the general office.
    pub registrar: ActorId,
    /// The 初审 note.
    pub screen_note: String,
    /// 办公室主任, who proposes (拟办).
    pub director: ActorId,
    /// 拟办意见.
    pub proposal: String,
    /// The leader who instructs (批示).
    pub leader: ActorId,
    /// 批示.
    pub instruction: String,
    /// 主办.
    pub lead_unit: UnitCode,
    /// The lead unit's handler (承办人).
    pub handler: ActorId,
    /// 协办 units: their handler and input.
    pub co_units: BTreeMap<UnitCode, (ActorId, String)>,
    /// 办理情况.
    pub progress: String,
    /// The extension asked: until, why.
    pub extension: (NaiveDate, String),
    /// 办理结果.
    pub result: String,
    /// 答复.
    pub reply: String,
    /// Readers, for the 传阅 flow.
    pub readers: Vec<ActorId>,
    /// The archivist.
    pub archivist: ActorId,
    /// Archive fields.
    pub archive: SampleArchive,
}

/// The sample's archive fields.
#[derive(Debug, Clone, Deserialize)]
pub struct SampleArchive {
    /// 保管期限.
    pub retention: Retention,
    /// The 机构 part of the 档号.
    pub unit_code: String,
}

/// The fixture's sample 收文.
pub fn incoming_sample() -> IncomingSample {
    #[derive(Deserialize)]
    struct File {
        incoming: IncomingSample,
    }
    match serde_json::from_str::<File>(crate::CAMPUS) {
        Ok(f) => f.incoming,
        Err(e) => panic!("fixtures/campus.json has no sample 收文: {e}"),
    }
}

/// The commands a 收文 may be waiting for, with the sample's particulars: the work its 待办
/// holders are to be exactly the actors for (see
/// [`crate::engine::todo_holders_and_who_may_act`]). Left out: `AddReaders`, a 传阅 the
/// director (or the leader who gave the 批示) may start at any time, and `UrgeIncoming`, the office's 催办 while it
/// is handled — not work it waits for —, and `RemindIncoming`, which only the engine's sweep
/// gives.
pub fn work_actions(s: &IncomingSample) -> Vec<IncomingAction> {
    let deadline = sample_deadline(s);
    vec![
        IncomingAction::Screen {
            note: "请拟办。".into(),
            deadline: Some(deadline),
        },
        IncomingAction::RejectIncoming {
            reason: "不属于本单位。".into(),
        },
        IncomingAction::Propose {
            plan: Plan::instruct(s.leader.clone()),
            opinion: "请阅批。".into(),
        },
        IncomingAction::Propose {
            plan: Plan::circulate(s.readers.clone()),
            opinion: "请传阅。".into(),
        },
        IncomingAction::Instruct {
            lead_unit: s.lead_unit.clone(),
            co_units: vec![],
            deadline,
            opinion: "请办理。".into(),
            supervise: false,
        },
        IncomingAction::TransferInstruction {
            to: "song.hua".into(),
            opinion: "请宋副校长阅批。".into(),
        },
        IncomingAction::RecordProgress {
            text: "正在办理。".into(),
        },
        IncomingAction::CoInput {
            text: "协办意见。".into(),
        },
        IncomingAction::RequestExtension {
            until: deadline + Duration::days(30),
            reason: "材料未齐。".into(),
        },
        IncomingAction::DecideExtension {
            grant: true,
            reason: "同意。".into(),
        },
        IncomingAction::SendBack {
            reason: "非本单位职责。".into(),
        },
        IncomingAction::Complete {
            result: "已办结。".into(),
            reply: "已答复。".into(),
        },
        // With an opinion, which a 阅办 reader must give.
        IncomingAction::MarkRead {
            opinion: "已阅。".into(),
        },
        IncomingAction::CommentInstruction {
            opinion: "同意。".into(),
        },
        IncomingAction::ArchiveIncoming {
            fonds: "J012".into(),
            retention: Some(s.archive.retention),
            unit_code: s.archive.unit_code.clone(),
            deviation_reason: String::new(),
        },
    ]
}

/// The instruction's deadline in the sample: the registration's.
pub fn sample_deadline(s: &IncomingSample) -> NaiveDate {
    s.registration
        .deadline
        .unwrap_or_else(|| s.registration.received_on + Duration::days(30))
}

/// The 批办 flow of the sample, step by step: (actor, action), from 登记 to 归档, with two
/// 协办 inputs and a granted 延期.
pub fn instruct_flow(s: &IncomingSample, fonds: &str) -> Vec<(ActorId, IncomingAction)> {
    let mut steps = vec![
        (
            s.registrar.clone(),
            IncomingAction::Register {
                registration: s.registration.clone(),
                unit: None,
            },
        ),
        (
            s.registrar.clone(),
            IncomingAction::Screen {
                note: s.screen_note.clone(),
                deadline: None,
            },
        ),
        (
            s.director.clone(),
            IncomingAction::Propose {
                plan: Plan::instruct(s.leader.clone()),
                opinion: s.proposal.clone(),
            },
        ),
        (
            s.leader.clone(),
            IncomingAction::Instruct {
                lead_unit: s.lead_unit.clone(),
                co_units: s.co_units.keys().cloned().collect(),
                deadline: sample_deadline(s),
                opinion: s.instruction.clone(),
                supervise: false,
            },
        ),
    ];
    for (handler, text) in s.co_units.values() {
        steps.push((
            handler.clone(),
            IncomingAction::CoInput { text: text.clone() },
        ));
    }
    steps.extend([
        (
            s.handler.clone(),
            IncomingAction::RecordProgress {
                text: s.progress.clone(),
            },
        ),
        (
            s.handler.clone(),
            IncomingAction::RequestExtension {
                until: s.extension.0,
                reason: s.extension.1.clone(),
            },
        ),
        (
            s.director.clone(),
            IncomingAction::DecideExtension {
                grant: true,
                reason: "同意延期。".into(),
            },
        ),
        (
            s.handler.clone(),
            IncomingAction::Complete {
                result: s.result.clone(),
                reply: s.reply.clone(),
            },
        ),
        (
            s.archivist.clone(),
            IncomingAction::ArchiveIncoming {
                fonds: fonds.to_owned(),
                retention: Some(s.archive.retention),
                unit_code: s.archive.unit_code.clone(),
                deviation_reason: String::new(),
            },
        ),
    ]);
    steps
}

impl Scripted for Incoming {
    type Sample = IncomingSample;
    const MADE: &'static str = "收文 registered";
    const FIRST_ID: u128 = 0x5000;
    fn sample() -> IncomingSample {
        incoming_sample()
    }
    /// 2026-11-03 09:00 CST, the day after the sample's 收文日期 (registered the next morning).
    fn start() -> Timestamp {
        crate::engine::start_of_term() + Duration::days(1)
    }
}

/// 收文 driven through commands in the pure core (see [`FlowScript`]), with the sample's
/// 批办 steps.
pub type ReceiptScript = FlowScript<Incoming>;

impl ReceiptScript {
    /// Starts on a fresh 收文, keeping directory, numbering and clock.
    pub fn next_receipt(&mut self) -> &mut Self {
        self.next_stream()
    }

    /// The current 收文 (panics before it is registered).
    #[track_caller]
    pub fn receipt(&self) -> &Receipt {
        self.current()
    }

    /// The sample 批办 flow's action at step `i`.
    pub fn clone_step(&self, i: usize) -> IncomingAction {
        instruct_flow(&self.sample, &crate::sample().fonds)[i]
            .1
            .clone()
    }

    /// Runs the sample's 批办 flow from step `from` to step `to` (exclusive).
    #[track_caller]
    pub fn steps(&mut self, from: usize, to: usize) -> &mut Self {
        let steps = instruct_flow(&self.sample, &crate::sample().fonds);
        for (actor, action) in steps[from..to].iter().cloned() {
            self.ok(actor.as_str(), action);
        }
        self
    }
}
