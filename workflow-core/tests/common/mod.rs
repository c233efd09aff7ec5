//! Shared test harness: a given/when/then flow over the campus fixture.
#![allow(
    dead_code,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used
)] // test helpers

use chrono::{Duration, NaiveDate, TimeZone};
use uuid::Uuid;
use workflow_core::{
    Action, Actor, Classification, Command, Directory, Document, DocumentId, DraftFields, Error,
    Event, Kind, Retention, Role, StageSpec, State, Timestamp, Unit, UnitCode, Urgency, handle,
};

pub const CAMPUS: &str = include_str!("../../../fixtures/campus.json");

pub fn directory() -> Directory {
    let mut d = Directory::from_json(CAMPUS).expect("fixture parses");
    // Extra people the fixture lacks, for joint documents and principal sign-off.
    d.add_actor(actor(
        "ma.lin",
        "马林",
        "JWC",
        &[Role::Signatory],
        Classification::Secret,
    ));
    d.add_actor(actor(
        "gao.yu",
        "高宇",
        "XB",
        &[Role::Clerk, Role::Countersigner],
        Classification::Secret,
    ));
    // XSC's fixture countersigner (zhou.jie) has no clearance; this one may countersign a
    // 秘密 document for XSC, so such a route can complete.
    d.add_actor(actor(
        "tang.wen",
        "唐文",
        "XSC",
        &[Role::Countersigner],
        Classification::Secret,
    ));
    d.add_actor(actor(
        "low.clearance",
        "低密",
        "JWC",
        &[Role::Reviewer, Role::Drafter],
        Classification::None,
    ));
    d.add_unit(Unit {
        code: "NOPFX".into(),
        name: "无代字".into(),
        doc_prefix: String::new(),
        office: false,
    });
    d
}

pub fn actor(id: &str, name: &str, unit: &str, roles: &[Role], clearance: Classification) -> Actor {
    Actor {
        id: id.into(),
        name: name.into(),
        unit: unit.into(),
        roles: roles.iter().copied().collect(),
        clearance,
    }
}

/// The fixture's document.
pub fn fields() -> DraftFields {
    DraftFields {
        kind: Kind::Circular,
        title: "关于做好2026年秋季学期期末考试工作的通知".into(),
        body: "各学院、各部门：期末考试即将开始……".into(),
        issuing_unit: "XB".into(),
        co_issuing_units: vec![],
        classification: Classification::None,
        classification_period_years: None,
        urgency: Urgency::Urgent,
        important: false,
        main_recipients: vec!["各学院".into(), "各部门".into(), "RSC".into()],
        cc: vec!["校党委".into(), "CWC".into()],
    }
}

/// The fixture's route: review → countersign (RSC, CWC, XSC) → review.
pub fn route() -> Vec<StageSpec> {
    vec![
        StageSpec::Review {
            reviewer: "li.qiang".into(),
            deadline_days: Some(2),
            escalate_to: None,
        },
        StageSpec::Countersign {
            departments: vec!["RSC".into(), "CWC".into(), "XSC".into()],
            deadline_days: Some(3),
            completion: Default::default(),
            escalate_to: None,
        },
        StageSpec::Review {
            reviewer: "chen.hong".into(),
            deadline_days: Some(1),
            escalate_to: None,
        },
    ]
}

pub fn approve(opinion: &str) -> Action {
    Action::Approve {
        stage: None,
        opinion: opinion.into(),
    }
}
pub fn agree(opinion: &str) -> Action {
    Action::Countersign {
        stage: None,
        agree: true,
        opinion: opinion.into(),
    }
}
pub fn disagree(opinion: &str) -> Action {
    Action::Countersign {
        stage: None,
        agree: false,
        opinion: opinion.into(),
    }
}
pub fn ret(reason: &str) -> Action {
    Action::Return {
        stage: None,
        reason: reason.into(),
    }
}
pub fn sign(opinion: &str) -> Action {
    Action::SignOff {
        opinion: opinion.into(),
    }
}
pub fn issue(y: i32, m: u32, d: u32) -> Action {
    Action::Issue {
        issue_date: NaiveDate::from_ymd_opt(y, m, d).unwrap(),
        copies: 30,
    }
}
/// Archiving with the scheduled retention (定期30年 for the fixture's ordinary 通知).
pub fn archive() -> Action {
    Action::Archive {
        fonds: "J012".into(),
        retention: None,
        unit_code: "JWC".into(),
        deviation_reason: String::new(),
    }
}

/// Archiving with a chosen retention and the reason for choosing it.
pub fn archive_as(retention: Retention, reason: &str) -> Action {
    Action::Archive {
        fonds: "J012".into(),
        retention: Some(retention),
        unit_code: "JWC".into(),
        deviation_reason: reason.into(),
    }
}

/// One or more documents driven through commands, with a clock that moves one hour a step.
pub struct Flow {
    pub dir: Directory,
    pub id: DocumentId,
    pub doc: Option<Document>,
    pub events: Vec<Event>,
    pub clock: Timestamp,
    next_id: u128,
}

impl Default for Flow {
    fn default() -> Self {
        Self::new()
    }
}

impl Flow {
    pub fn new() -> Self {
        Flow {
            dir: directory(),
            id: DocumentId(Uuid::from_u128(1)),
            doc: None,
            events: Vec::new(),
            clock: chrono::Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap(),
            next_id: 2,
        }
    }

    /// Starts on a fresh document, keeping directory, numbering and clock.
    pub fn next_document(&mut self) {
        self.id = DocumentId(Uuid::from_u128(self.next_id));
        self.next_id += 1;
        self.doc = None;
        self.events.clear();
    }

    pub fn run(&mut self, actor: &str, action: Action) -> Result<Vec<Event>, Error> {
        let cmd = Command {
            document_id: self.id,
            actor: actor.into(),
            at: self.clock,
            action,
        };
        self.clock = self
            .clock
            .checked_add_signed(Duration::hours(1))
            .unwrap_or(self.clock);
        let events = handle(self.doc.as_ref(), &cmd, &self.dir)?;
        for e in &events {
            match self.doc.as_mut() {
                Some(d) => d.apply(e),
                None => self.doc = Document::created_by(e),
            }
        }
        self.dir.record_numbers(&events);
        self.events.extend(events.iter().cloned());
        Ok(events)
    }

    /// Runs a command that must succeed.
    #[track_caller]
    pub fn ok(&mut self, actor: &str, action: Action) -> &mut Self {
        let name = action.name();
        if let Err(e) = self.run(actor, action) {
            panic!("{actor} {name} should succeed but: {e}");
        }
        self
    }

    /// Runs a command that must fail, and checks it changed nothing.
    #[track_caller]
    pub fn err(&mut self, actor: &str, action: Action) -> Error {
        let before = self.doc.clone();
        let n = self.events.len();
        let name = action.name();
        match self.run(actor, action) {
            Ok(_) => panic!("{actor} {name} should be rejected"),
            Err(e) => {
                assert_eq!(self.doc, before, "a rejected command changed the state");
                assert_eq!(self.events.len(), n);
                e
            }
        }
    }

    pub fn doc(&self) -> &Document {
        self.doc.as_ref().expect("document exists")
    }

    pub fn state(&self) -> State {
        self.doc().state()
    }

    pub fn drafted(&mut self) -> &mut Self {
        self.drafted_with(fields())
    }

    pub fn drafted_with(&mut self, f: DraftFields) -> &mut Self {
        self.ok("wang.fang", Action::Draft(f))
    }

    pub fn submitted(&mut self) -> &mut Self {
        self.drafted()
            .ok("wang.fang", Action::SubmitForReview { route: route() })
    }

    pub fn countersigning(&mut self) -> &mut Self {
        self.submitted()
            .ok("li.qiang", approve("同意，请各相关部门会签。"))
    }

    pub fn awaiting_sign_off(&mut self) -> &mut Self {
        self.countersigning()
            .ok("zhao.min", agree("同意。"))
            .ok("sun.li", agree("同意。"))
            .ok("zhou.jie", agree("同意。"))
            .ok(
                "chen.hong",
                approve("经审核，格式规范，文种正确，同意报签。"),
            )
    }

    pub fn signed_off(&mut self) -> &mut Self {
        self.awaiting_sign_off().ok("huang.wei", sign("同意印发。"))
    }

    pub fn issued(&mut self) -> &mut Self {
        self.signed_off().ok("liu.yang", issue(2026, 11, 5))
    }

    pub fn fold(&self) -> Option<Document> {
        Document::from_events(&self.events)
    }
}

pub fn unit(code: &str) -> UnitCode {
    code.into()
}
