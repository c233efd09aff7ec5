//! The Python example (`examples/python/client.py`) against a real server: a campus system
//! written in Python drafts a 签报, takes it to the leader's 批示, resends a command, is
//! refused, and reads the 签报 and its history back. Runs the interpreter `scripts/test`
//! prepares (`target/python`, with `examples/python/requirements.txt`), or the one
//! `WORKFLOW_PYTHON` names; fails, naming `scripts/test`, without it.

use std::path::PathBuf;
use std::process::Command;

use crate::common::*;

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("WORKFLOW_PYTHON") {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let venv = root.join("target/python/bin/python");
    assert!(
        venv.exists(),
        "no Python with grpcio at {}: run scripts/test, which makes it from \
         examples/python/requirements.txt (or set WORKFLOW_PYTHON)",
        venv.display()
    );
    venv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_example_drives_a_memo_over_grpc() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path()).await;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/python/client.py");
    let addr = server.addr.to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python())
            .arg(script)
            .args(["--addr", &addr, "--token", OA_TOKEN])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for expected in [
        "DraftMemo        wang.fang    → version 1 ['MemoDrafted']",
        "AcceptMemo       liu.yang     → version 4 ['MemoAccepted']",
        "EndorseMemo      song.hua     → version 5 ['MemoEndorsed']",
        "resent DraftMemo  replayed=True version=1",
        "refused          FAILED_PRECONDITION:",
        "X校教签〔2026〕1号 Decided (已批示) DECISION_AGREE",
        "history: MemoDrafted MemoSubmitted MemoApproved MemoAccepted MemoEndorsed",
    ] {
        assert!(
            stdout.contains(expected),
            "missing {expected:?} in\n{stdout}"
        );
    }
    server.stop().await;
}
