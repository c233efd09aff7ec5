//! A state with its parts taken out serializes without them, reads back, and with its parts
//! put back is the state it was: for every flow, at every step of its sample.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use workflow_core::{FlowState, parts::Content, parts::StateParts};
use workflow_testkit::incoming::{ReceiptScript, instruct_flow};
use workflow_testkit::supervision::{ItemScript, item_flow};

#[track_caller]
fn round_trip(whole: &FlowState, content_key: &str) {
    assert!(whole.holds_content());
    let mut slim = whole.clone();
    let parts = slim.take_parts();
    assert!(!slim.holds_content());
    assert_eq!(parts.opinions.len(), whole.opinion_count());
    let json = serde_json::to_string(&slim).expect("serializes");
    assert!(!json.contains(&format!("\"{content_key}\"")), "{json}");
    assert!(!json.contains("\"opinions\":[{"), "{json}");
    let mut back: FlowState = serde_json::from_str(&json).expect("reads back");
    assert!(
        !back.holds_content(),
        "a record read without its content says so"
    );
    back.put_parts(parts).expect("the parts fit");
    assert!(back.holds_content());
    assert_eq!(&back, whole);
    // The whole state still serializes with everything.
    let full = serde_json::to_string(whole).expect("serializes");
    assert!(full.contains(&format!("\"{content_key}\"")));
}

#[test]
fn a_document_at_every_step_round_trips_through_its_parts() {
    let mut f = common::Flow::new();
    let mut opinions = 0;
    for (actor, action) in workflow_testkit::full_flow() {
        f.ok(actor.as_str(), action);
        let whole = FlowState::Outgoing(f.doc().clone());
        round_trip(&whole, "fields");
        opinions = whole.opinion_count();
    }
    assert!(opinions >= 5, "the sample gives opinions ({opinions})");
}

#[test]
fn a_receipt_at_every_step_round_trips_through_its_parts() {
    let mut f = ReceiptScript::with_directory(common::directory());
    let n = instruct_flow(&f.sample, "J012").len();
    for i in 0..n {
        f.steps(i, i + 1);
        round_trip(&FlowState::Incoming(f.receipt().clone()), "registration");
    }
}

#[test]
fn an_item_at_every_step_round_trips_through_its_parts() {
    let mut f = ItemScript::with_directory(common::directory());
    let n = item_flow(f.deadline(), "J012").len();
    for i in 0..n {
        f.steps(i, i + 1);
        round_trip(&FlowState::Supervision(f.item().clone()), "spec");
    }
}

#[test]
fn parts_that_do_not_fit_are_refused() {
    let mut f = common::Flow::new();
    for (actor, action) in workflow_testkit::full_flow() {
        f.ok(actor.as_str(), action);
    }
    let mut slim = FlowState::Outgoing(f.doc().clone());
    let parts = slim.take_parts();
    let no_content = StateParts {
        content: None,
        opinions: parts.opinions.clone(),
    };
    let err = slim
        .clone()
        .put_parts(no_content)
        .expect_err("a 发文 has content");
    assert_eq!(err.what, "no content");
    let Some(Content::Outgoing(fields)) = parts.content else {
        panic!("a 发文's content is its draft")
    };
    let spec = workflow_testkit::supervision::item_spec(chrono::NaiveDate::MIN);
    let wrong = StateParts {
        content: Some(Content::Supervision(spec)),
        opinions: Vec::new(),
    };
    let err = slim
        .clone()
        .put_parts(wrong)
        .expect_err("a 督办 spec on a 发文");
    assert!(err.to_string().contains("outgoing"), "{err}");
    assert!(!fields.title.is_empty());
}
