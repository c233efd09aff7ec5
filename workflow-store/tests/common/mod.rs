//! Shared setup for the store's tests: the test kit's engine helpers and sample flow.
#![allow(dead_code, unused_imports, unreachable_pub)] // test helpers

pub use workflow_testkit::engine::{
    at, drive, drive_on, new_id, open, open_with, run, start_of_term, stepping_clock,
};
pub use workflow_testkit::{CAMPUS, directory_events, fields, full_flow, route, steps};

/// The codes of a 四性检测 report's lines that did not pass.
pub fn failing(report: &workflow_store::archive_check::ArchiveCheck) -> Vec<&'static str> {
    report
        .items
        .iter()
        .filter(|i| !i.passed)
        .map(|i| i.code)
        .collect()
}

/// Asserts that exactly the lines `codes` of the report did not pass (the report's text
/// shown when not).
#[track_caller]
pub fn assert_failing(report: &workflow_store::archive_check::ArchiveCheck, codes: &[&str]) {
    assert_eq!(failing(report), codes, "{}", report.to_text());
}

/// What the report's line `code` found, one finding per line.
pub fn findings(report: &workflow_store::archive_check::ArchiveCheck, code: &str) -> String {
    report
        .items
        .iter()
        .find(|i| i.code == code)
        .unwrap_or_else(|| panic!("no line {code} in the report"))
        .findings
        .join("\n")
}
