//! Shared setup for the store's tests: the test kit's engine helpers and sample flow.
#![allow(dead_code, unused_imports, unreachable_pub)] // test helpers

pub use workflow_testkit::engine::{
    at, drive, drive_on, new_id, open, open_with, run, start_of_term, stepping_clock,
};
pub use workflow_testkit::{CAMPUS, directory_events, fields, full_flow, route, steps};
