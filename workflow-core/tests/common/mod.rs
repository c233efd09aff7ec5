//! Shared test harness: a given/when/then flow over the campus fixture.
#![allow(
    dead_code,
    unused_imports,
    unreachable_pub,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used
)] // test helpers

use chrono::NaiveDate;
use workflow_core::{
    Directory, UnitCode, directory::Actor, directory::Classification, directory::Role,
    directory::Unit, outgoing::Action, retention::Retention,
};

pub fn directory() -> Directory {
    let mut d = workflow_testkit::directory();
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
    // A third 校领导, for 会批 (the 分管 leaders before the deciding one).
    d.add_actor(actor(
        "zheng.xiao",
        "郑晓",
        "XB",
        &[Role::Leader],
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
        reach: Vec::new(),
        code: "NOPFX".into(),
        name: "无代字".into(),
        doc_prefix: String::new(),
        office: false,
        receive_prefix: None,
        memo_prefix: None,
        issuing_name: None,
    });
    d
}

pub fn actor(id: &str, name: &str, unit: &str, roles: &[Role], clearance: Classification) -> Actor {
    Actor {
        reach: Vec::new(),
        id: id.into(),
        name: name.into(),
        unit: unit.into(),
        roles: roles.iter().copied().collect(),
        clearance,
    }
}

pub use workflow_testkit::{CAMPUS, fields, route};

pub fn approve(opinion: &str) -> Action {
    Action::Approve {
        content: None,
        stage: None,
        opinion: opinion.into(),
    }
}
pub fn agree(opinion: &str) -> Action {
    Action::Countersign {
        content: None,
        stage: None,
        agree: true,
        opinion: opinion.into(),
    }
}
pub fn disagree(opinion: &str) -> Action {
    Action::Countersign {
        content: None,
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
        content: None,
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

/// The test kit's script on this directory (the fixture plus the extras above).
pub type Flow = workflow_testkit::script::Script;

/// A script on [`directory`].
pub fn flow() -> Flow {
    Flow::with_directory(directory())
}

pub fn unit(code: &str) -> UnitCode {
    code.into()
}
