//! End to end across the crates: a real server on a loopback port over a real sled
//! directory, driven over gRPC (and by the Python example). One test binary, each area a
//! module: the server links everything (typst included), so nine binaries cost nine links
//! of some 200 MB each — minutes and gigabytes on a 2-core CI machine — for nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

mod content;
mod grpc;
mod incoming;
mod notify;
mod python;
mod security;
mod submission;
mod supervision;
mod tls;
