//! The operator command line, run as the built binary against a prepared data directory.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

use std::path::Path;
use std::process::{Command, Output};

use chrono::{Duration, TimeZone, Utc};
use workflow_core::DocumentId;
use workflow_store::{Engine, Request};
use workflow_testkit::{CAMPUS, fixture_path, full_flow, steps};

fn workflow(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_workflow"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("WORKFLOW_CONFIG")
        .output()
        .unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Events of document A (one per step of the sample flow) and of the whole log.
const A_EVENTS: usize = steps::ARCHIVED;
/// The whole log: the directory's events, then A's and B's.
fn all_events() -> usize {
    // A's 签收 registers the acknowledging unit's 收文: one event more.
    workflow_testkit::directory_events() as usize + A_EVENTS + 1 + steps::IN_REVIEW
}

/// The log position of the `n`-th document event (after the directory's).
fn p(n: u64) -> u64 {
    workflow_testkit::directory_events() + n
}

/// Two documents: A (the fixture's sample) from draft to archive on 2026-11-02, one step an
/// hour from 09:00 CST; B waiting for li.qiang.
fn prepare(dir: &Path) -> (DocumentId, DocumentId) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let engine = Engine::open(dir).unwrap();
        engine
            .load_directory_json(CAMPUS, "test", "the campus fixture")
            .await
            .unwrap();
        let a = DocumentId(uuid::Uuid::from_u128(0xA));
        let steps = full_flow();
        let start = Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap();
        for (i, (actor, action)) in steps.into_iter().enumerate() {
            let r = Request {
                at: Some(start + Duration::hours(i as i64)),
                ..Request::new(a, actor, action)
            };
            engine.execute(r).await.unwrap();
        }
        let b = DocumentId(uuid::Uuid::from_u128(0xB));
        for (actor, action) in full_flow().into_iter().take(steps::IN_REVIEW) {
            let r = Request {
                at: Some(start),
                ..Request::new(b, actor, action)
            };
            engine.execute(r).await.unwrap();
        }
        (a, b)
    })
}

#[test]
fn verify_reports_intact_then_the_tampered_position() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let o = workflow(dir.path(), &["verify"]);
    let (out, _) = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains(&format!("{} events checked: intact", all_events())),
        "{out}"
    );
    {
        let engine = Engine::open(dir.path()).unwrap();
        let raw = String::from_utf8(engine.raw_log_entry(p(5)).unwrap().unwrap()).unwrap();
        engine
            .tamper_log_entry(p(5), raw.replace("考务经费", "考务费用").as_bytes())
            .unwrap();
    }
    let o = workflow(dir.path(), &["verify"]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains(&format!("{} events checked before the break", p(4))),
        "{out}"
    );
    assert!(
        out.contains(&format!("BROKEN at position {}: hash mismatch", p(5))),
        "{out}"
    );
}

#[test]
fn check_archive_reports_the_four_properties_and_fails_on_a_tampered_log() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let o = workflow(dir.path(), &["check-archive", "--year", "2026"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("范围：2026年度；归档记录 1 件"), "{out}");
    for aspect in ["[真实性]", "[完整性]", "[可用性]", "[安全性]"] {
        assert!(out.contains(aspect), "{aspect}: {out}");
    }
    assert!(out.contains("全部通过"), "{out}");
    // Another year: nothing archived in it — a scope that covers nothing is not a pass.
    let o = workflow(
        dir.path(),
        &["check-archive", "--year", "2025", "--retention", "D30"],
    );
    assert_eq!(o.status.code(), Some(1), "{:?}", text(&o));
    let (out, _) = text(&o);
    assert!(
        out.contains("归档记录 0 件") && out.contains("范围内没有归档记录"),
        "{out}"
    );
    // Not a 保管期限: refused with what is.
    let o = workflow(dir.path(), &["check-archive", "--retention", "forever"]);
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
    assert!(text(&o).1.contains("定期30年"), "{:?}", text(&o));
    {
        let engine = Engine::open(dir.path()).unwrap();
        let raw = String::from_utf8(engine.raw_log_entry(p(5)).unwrap().unwrap()).unwrap();
        engine
            .tamper_log_entry(p(5), raw.replace("考务经费", "考务费用").as_bytes())
            .unwrap();
    }
    let o = workflow(
        dir.path(),
        &["check-archive", "--year", "2026", "--format", "csv"],
    );
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    let fixity = out
        .lines()
        .find(|l| l.contains("authenticity.fixity"))
        .unwrap();
    assert!(fixity.contains(",不通过,"), "{fixity}");
    assert!(fixity.contains(&format!("位置 {}", p(5))), "{fixity}");
    let o = workflow(dir.path(), &["check-archive", "--format", "json"]);
    assert_eq!(o.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["records"], 1);
    assert_eq!(json["items"][0]["code"], "authenticity.fixity");
    assert_eq!(json["items"][0]["passed"], false);
    assert_eq!(json["items"][0]["aspect"], "authenticity");
}

/// An SM2 key pair made as the operator's guide says, with OpenSSL: (private, public) PEM.
fn openssl_sm2_key(dir: &Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let key = dir.join(format!("{name}.pem"));
    let public = dir.join(format!("{name}-pub.pem"));
    let made = Command::new("openssl")
        .args(["genpkey", "-algorithm", "SM2", "-out"])
        .arg(&key)
        .status()
        .expect("openssl (scripts/test installs Debian's openssl)");
    assert!(made.success());
    let made = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&key)
        .arg("-out")
        .arg(&public)
        .status()
        .unwrap();
    assert!(made.success());
    (key, public)
}

#[test]
fn a_head_signed_with_sm2_is_a_witness_verify_checks_signature_and_log() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = prepare(dir.path());
    let keys = tempfile::tempdir().unwrap();
    let (key, public) = openssl_sm2_key(keys.path(), "office");
    let (_, stranger) = openssl_sm2_key(keys.path(), "stranger");
    let signed = keys.path().join("head.json");
    let o = workflow(
        dir.path(),
        &[
            "sign-head",
            "--key",
            key.to_str().unwrap(),
            "--signer",
            "office@campus",
            "--out",
            signed.to_str().unwrap(),
        ],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(err.contains("by office@campus (SM2 key "), "{err}");
    let head: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&signed).unwrap()).unwrap();
    assert_eq!(head["algorithm"], "SM2-SM3");
    assert_eq!(head["position"], all_events() as u64);
    // The signed head, under the trusted key: the signature and then the log check out.
    let o = workflow(
        dir.path(),
        &[
            "verify",
            "--against",
            signed.to_str().unwrap(),
            "--public-key",
            public.to_str().unwrap(),
        ],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        err.contains("SM2 signature by office@campus") && err.contains("the trusted key"),
        "{err}"
    );
    assert!(out.contains(": yes"), "{out}");
    // Without a trusted key, a signed head proves nothing: a usage error.
    let o = workflow(
        dir.path(),
        &["verify", "--against", signed.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
    assert!(text(&o).1.contains("--public-key"), "{:?}", text(&o));
    // check-archive takes it as its witness too; its JSON stays JSON.
    let o = workflow(
        dir.path(),
        &[
            "check-archive",
            "--against",
            signed.to_str().unwrap(),
            "--public-key",
            public.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["records"], 1);
    // Under another key, or altered: refused, exit code 1.
    let o = workflow(
        dir.path(),
        &[
            "verify",
            "--against",
            signed.to_str().unwrap(),
            "--public-key",
            stranger.to_str().unwrap(),
        ],
    );
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("REFUSED") && out.contains("not the trusted key"),
        "{out}"
    );
    let altered = keys.path().join("altered.json");
    let mut forged = head.clone();
    forged["position"] = serde_json::json!(all_events() as u64 - 1);
    std::fs::write(&altered, forged.to_string()).unwrap();
    let o = workflow(
        dir.path(),
        &[
            "verify",
            "--against",
            altered.to_str().unwrap(),
            "--public-key",
            public.to_str().unwrap(),
        ],
    );
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("does not verify"), "{out}");
    // An archive package signed with the same key: its eep.xml carries the signature.
    let pkg = keys.path().join("package");
    let o = workflow(
        dir.path(),
        &[
            "export",
            &a.to_string(),
            "--out",
            pkg.to_str().unwrap(),
            "--sign-key",
            key.to_str().unwrap(),
            "--signer",
            "office@campus",
        ],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let eep = std::fs::read_to_string(pkg.join("eep.xml")).unwrap();
    assert!(
        eep.contains("<签名人>office@campus</签名人>")
            && eep.contains("<签名算法标识>1.2.156.10197.1.501</签名算法标识>"),
        "{eep}"
    );
    let o = workflow(dir.path(), &["verify-export", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{:?}", text(&o));
    // The archives receiving it checks the package alone, under the key it trusts.
    let check = |public: &std::path::Path| {
        workflow(
            dir.path(),
            &[
                "check-archive",
                "--package",
                pkg.to_str().unwrap(),
                "--public-key",
                public.to_str().unwrap(),
                "--format",
                "json",
            ],
        )
    };
    let o = check(&public);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["records"], 1, "{out}");
    let o = check(&stranger);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("不是可信公钥"), "{out}");
    // A broken log is not signed.
    {
        let engine = Engine::open(dir.path()).unwrap();
        let raw = String::from_utf8(engine.raw_log_entry(p(5)).unwrap().unwrap()).unwrap();
        engine
            .tamper_log_entry(p(5), raw.replace("考务经费", "考务费用").as_bytes())
            .unwrap();
    }
    let again = keys.path().join("again.json");
    let o = workflow(
        dir.path(),
        &[
            "sign-head",
            "--key",
            key.to_str().unwrap(),
            "--out",
            again.to_str().unwrap(),
        ],
    );
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("not signed"), "{out}");
    assert!(!again.exists());
}

#[test]
fn rebuild_reproduces_the_projections_and_reports_progress_in_plain_lines() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let projections = || {
        Engine::open(dir.path())
            .unwrap()
            .dump_projections()
            .unwrap()
    };
    let before = projections();
    let o = workflow(dir.path(), &["rebuild"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains(&format!("rebuilt projections from {} events", all_events())),
        "{out}"
    );
    assert!(
        err.contains(&format!(
            "rebuild: {}/{} events (100.0%)",
            all_events(),
            all_events()
        )),
        "not a terminal, so plain lines: {err}"
    );
    assert!(projections() == before);
    // `replay` is the same command; `--from-scratch` drops the projections first and
    // arrives at the same bytes.
    assert!(workflow(dir.path(), &["replay"]).status.success());
    let o = workflow(dir.path(), &["rebuild", "--from-scratch"]);
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(projections() == before);
}

#[test]
fn history_and_show_as_of_for_a_known_document() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = prepare(dir.path());
    let a = a.to_string();
    let o = workflow(dir.path(), &["history", &a]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        format!("《关于做好2026年秋季学期期末考试工作的通知》 {a} — {A_EVENTS} events")
    );
    assert!(
        lines[1].contains("2026-11-02 09:00:00 CST")
            && lines[1].contains("王芳 wang.fang")
            && lines[1].contains("拟稿"),
        "{}",
        lines[1]
    );
    assert!(
        lines[3].contains("李强 li.qiang")
            && lines[3].contains("审核通过")
            && lines[3].contains("同意，请各相关部门会签。"),
        "{}",
        lines[3]
    );
    assert!(
        lines[5].contains("会签同意")
            && lines[5].contains("CWC：同意。考务经费从教务处年度预算中列支。"),
        "{}",
        lines[5]
    );
    assert!(
        lines[steps::ISSUED].contains("印发")
            && lines[steps::ISSUED].contains("X校发〔2026〕1号 2026-11-05 40份"),
        "{}",
        lines[steps::ISSUED]
    );
    assert!(
        lines[steps::ARCHIVED].contains("档号 J012-WS·2026-D30-JWC-0001"),
        "{}",
        lines[steps::ARCHIVED]
    );
    // --json: one envelope per line.
    let o = workflow(dir.path(), &["history", &a, "--json"]);
    let envelopes: Vec<workflow_store::Envelope> = text(&o)
        .0
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(envelopes.len(), A_EVENTS);
    assert_eq!(envelopes[2].event_type, "Approved");
    // As of version 3: countersigning, li.qiang's opinion recorded.
    let (out, _) = text(&workflow(dir.path(), &["show", &a, "--as-of-version", "3"]));
    assert!(out.contains("state         Countersigning (会签)"), "{out}");
    assert!(out.contains("NOW  2. 会签 RSC CWC XSC"), "{out}");
    // As of 12:30 China time: 4 events (09:00 … 12:00).
    let (out, _) = text(&workflow(
        dir.path(),
        &["show", &a, "--as-of", "2026-11-02 12:30", "--json"],
    ));
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (d["version"].as_u64(), d["state"].as_str()),
        (Some(4), Some("Countersigning"))
    );
    // Now: archived.
    let (out, _) = text(&workflow(dir.path(), &["show", &a]));
    assert!(
        out.contains("archived      J012-WS·2026-D30-JWC-0001"),
        "{out}"
    );
    // Bad input: clear errors, exit 2.
    let o = workflow(dir.path(), &["history", "not-a-uuid"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("is not a document id"));
    let o = workflow(
        dir.path(),
        &["show", &DocumentId(uuid::Uuid::from_u128(7)).to_string()],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("not found"));
    let o = workflow(dir.path(), &["show", &a, "--as-of", "yesterday"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("is not a time"));
}

#[test]
fn export_then_verify_export_and_a_tampered_export_fails() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = prepare(dir.path());
    let pkg = dir.path().join("package");
    let o = workflow(
        dir.path(),
        &["export", &a.to_string(), "--out", pkg.to_str().unwrap()],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains("reference     J012-WS·2026-D30-JWC-0001"),
        "{out}"
    );
    let o = workflow(dir.path(), &["verify-export", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o).0);
    assert!(text(&o).0.contains(&format!("intact ({A_EVENTS} events")));
    // Independently of this program: the recipe of VERIFY.txt, in Python.
    let py = r#"
import hashlib, json, sys
d = sys.argv[1]
m = json.load(open(d + '/manifest.json'))
for f in m['files']:
    assert hashlib.sha256(open(d + '/' + f['path'], 'rb').read()).hexdigest() == f['sha256'], f['path']
keys = ['position','stream_id','kind','version','event_id','command_id','request_digest','actor','recorded_at','type','schema_version','payload','prev_hash']
optional = {'kind', 'request_digest'}
hashes = []
for line in open(d + '/events.jsonl', encoding='utf-8'):
    e = json.loads(line)
    body = '{' + ','.join(json.dumps(k) + ':' + json.dumps(e[k], separators=(',', ':'), ensure_ascii=False, sort_keys=True) for k in keys if k in e or k not in optional) + '}'
    assert hashlib.sha256(body.encode('utf-8')).hexdigest() == e['hash'], e['position']
    hashes.append(e['hash'])
assert hashlib.sha256(''.join(h + '\n' for h in hashes).encode()).hexdigest() == m['fixity_hash']
assert hashlib.sha256(''.join(h + '\n' for h in hashes[:-1]).encode()).hexdigest() == m['archived_fixity_hash']
print('independently verified', len(hashes))
"#;
    let o = Command::new("python3")
        .arg("-c")
        .arg(py)
        .arg(&pkg)
        .output()
        .expect("python3 is on every machine of this kind");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("independently verified {A_EVENTS}")
    );
    // Tamper with one opinion in the package.
    let events = pkg.join("events.jsonl");
    let t = std::fs::read_to_string(&events).unwrap();
    std::fs::write(&events, t.replace("考务经费", "考务费用")).unwrap();
    let o = workflow(dir.path(), &["verify-export", pkg.to_str().unwrap()]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("events.jsonl: SHA-256"), "{out}");
    assert!(
        out.contains(&format!(
            "event version 5 (position {}): hash mismatch",
            p(5)
        )),
        "{out}"
    );
    // Exporting onto a non-empty directory is refused.
    let o = workflow(
        dir.path(),
        &["export", &a.to_string(), "--out", pkg.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("not empty"));
}

#[test]
fn stats_and_list_use_the_grpc_filters() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = prepare(dir.path());
    let (out, _) = text(&workflow(dir.path(), &["stats", "--json"]));
    let s: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (s["documents"].as_u64(), s["last_position"].as_u64()),
        (Some(3), Some(all_events() as u64))
    );
    assert_eq!(s["by_state"]["Archived"].as_u64(), Some(1));
    let (out, _) = text(&workflow(dir.path(), &["stats"]));
    assert!(
        out.contains("by state      Archived 1, InReview 1"),
        "{out}"
    );
    let (out, _) = text(&workflow(dir.path(), &["list", "--state", "InReview"]));
    assert_eq!(out.lines().count(), 1);
    assert!(out.starts_with(&b.to_string()));
    let (out, _) = text(&workflow(
        dir.path(),
        &["list", "--state", "已归档", "--kind", "通知"],
    ));
    assert!(
        out.starts_with(&a.to_string()) && out.contains("X校发〔2026〕1号"),
        "{out}"
    );
    let (out, _) = text(&workflow(dir.path(), &["list", "--todo", "li.qiang"]));
    assert!(out.starts_with(&b.to_string()), "{out}");
    // B's first stage had two days from 2026-11-02: overdue now.
    let (out, _) = text(&workflow(dir.path(), &["list", "--overdue"]));
    assert!(
        out.contains("OVERDUE") && out.starts_with(&b.to_string()),
        "{out}"
    );
    let o = workflow(dir.path(), &["list", "--state", "Nonsense"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("unknown state"), "{}", text(&o).1);
}

#[test]
fn a_directory_held_by_a_server_is_refused_not_touched() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let held = Engine::open(dir.path()).unwrap();
    for cmd in [&["verify"][..], &["rebuild"], &["stats"]] {
        let o = workflow(dir.path(), cmd);
        assert_eq!(o.status.code(), Some(2), "{cmd:?}");
        assert!(
            text(&o).1.contains("is in use by another process"),
            "{}",
            text(&o).1
        );
    }
    assert!(held.verify(|_, _| {}).unwrap().is_intact());
    let o = workflow(&dir.path().join("missing"), &["verify"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("not a workflow data directory"));
    assert!(!dir.path().join("missing").exists());
}

/// Every file under `dir`, with its size, to show that a command changed nothing there.
/// Every folder and file under `dir`, with each file's bytes.
fn listing(dir: &Path) -> Vec<(std::path::PathBuf, Option<Vec<u8>>)> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                out.push((e.path(), None));
                out.extend(listing(&e.path()));
            } else {
                out.push((e.path(), Some(std::fs::read(e.path()).unwrap())));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn operator_commands_refuse_a_directory_that_is_not_a_store_and_create_nothing() {
    let root = tempfile::tempdir().unwrap();
    let empty = root.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let unrelated = root.path().join("photos");
    std::fs::create_dir(&unrelated).unwrap();
    std::fs::write(unrelated.join("IMG_0001.jpg"), b"not a store").unwrap();
    // Another program's files that happen to be called as sled's are.
    let lookalike = root.path().join("app");
    std::fs::create_dir(&lookalike).unwrap();
    std::fs::write(lookalike.join("conf"), b"listen = 8080\n").unwrap();
    std::fs::write(lookalike.join("db"), b"SQLite format 3\0").unwrap();
    let missing = root.path().join("missing");
    for dir in [&empty, &unrelated, &lookalike, &missing] {
        let before = listing(dir);
        for cmd in [
            &["verify"][..],
            &["rebuild"],
            &["stats"],
            &["list"],
            &["history", "00000000-0000-0000-0000-00000000000a"],
        ] {
            let o = workflow(dir, cmd);
            let (out, err) = text(&o);
            assert_eq!(o.status.code(), Some(2), "{cmd:?} on {dir:?}: {out}{err}");
            assert!(err.contains("not a workflow data directory"), "{err}");
            assert!(!out.contains("intact"), "{out}");
        }
        assert_eq!(listing(dir), before, "nothing created in {dir:?}");
    }
    assert!(!missing.exists());
    // `init` creates one; then the same commands work on it.
    let o = workflow(
        &empty,
        &["init", "--directory", fixture_path().to_str().unwrap()],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains(&whole_directory()), "{out}");
    let o = workflow(&empty, &["verify"]);
    assert!(o.status.success(), "{}", text(&o).1);
    assert!(text(&o).0.contains(&format!(
        "{} events checked: intact",
        workflow_testkit::directory_events()
    )));
}

/// How many units and actors the campus fixture has.
fn fixture_counts() -> (usize, usize) {
    let d = workflow_testkit::directory();
    (d.units().count(), d.actors().count())
}

/// How `init` reports a store holding the whole fixture directory.
fn whole_directory() -> String {
    let (units, actors) = fixture_counts();
    format!("{units} units and {actors} actors")
}

#[test]
fn verify_against_a_witness_head_kept_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let o = workflow(dir.path(), &["verify"]);
    let (out, _) = text(&o);
    let head = out
        .lines()
        .find_map(|l| l.strip_prefix("witness head (keep it elsewhere): "))
        .unwrap_or_else(|| panic!("{out}"))
        .to_owned();
    assert!(
        out.contains("fixity digests of 1 archived documents"),
        "{out}"
    );
    let o = workflow(dir.path(), &["verify", "--against", &head]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains(&format!("extends the witness head {head}: yes")),
        "{out}"
    );
    // A head this log never had.
    let (position, _) = head.split_once(':').unwrap();
    let forged = format!("{position}:{}", "0f".repeat(32));
    let o = workflow(dir.path(), &["verify", "--against", &forged]);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("BROKEN at position"), "{out}");
    assert!(out.contains("does NOT show that the log extends"), "{out}");
    let o = workflow(dir.path(), &["verify", "--against", "12:abc"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).1.contains("not a hash of the log"),
        "{}",
        text(&o).1
    );
}

/// A configuration for `serve` on loopback (port 0) over `data`, with the fixture's
/// directory, no sweep, one test system, and `extra` (top-level keys, then tables).
fn serve_config(root: &Path, data: &Path, extra: &str) -> std::path::PathBuf {
    let path = root.join("workflow.toml");
    let text = format!(
        "listen = \"127.0.0.1:0\"\ndata_dir = {:?}\ndirectory = {:?}\nsweep_every_secs = 0\n\
         {extra}[[systems]]\nname = \"test\"\ntoken = \"test-token-123\"\n",
        data.display().to_string(),
        fixture_path().display().to_string()
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_first_start_killed_at_any_moment_ends_with_the_whole_directory_next_time() {
    use std::time::Duration;
    let root = tempfile::tempdir().unwrap();
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
        | 1;
    eprintln!("seed {seed}");
    let mut loaded_when_killed = 0;
    for round in 0..20 {
        let data = root.path().join(format!("data{round}"));
        let config = serve_config(root.path(), &data, "");
        let mut child = Command::new(env!("CARGO_BIN_EXE_workflow"))
            .arg("--config")
            .arg(&config)
            .arg("serve")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // xorshift: a kill moment in 0..40 ms, at random.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(seed % 40));
        child.kill().unwrap();
        child.wait().unwrap();
        // What the killed start left: the whole directory or none of it.
        if data.join("db").exists() {
            let engine = Engine::open(&data).unwrap();
            let (units, actors) = (engine.units().len(), engine.actors().len());
            assert!(
                (units, actors) == (0, 0) || (units, actors) == fixture_counts(),
                "round {round}: a killed first start left {units} units and {actors} actors"
            );
            loaded_when_killed += usize::from(units > 0);
        }
        // The next start ends with all of it.
        let o = Command::new(env!("CARGO_BIN_EXE_workflow"))
            .arg("--config")
            .arg(&config)
            .arg("init")
            .output()
            .unwrap();
        let (out, err) = text(&o);
        assert!(o.status.success(), "round {round}: {out}{err}");
        assert!(out.contains(&whole_directory()), "round {round}: {out}");
    }
    eprintln!("{loaded_when_killed} of 20 killed starts had finished loading");
}

#[test]
fn logs_have_no_colour_codes_off_a_terminal_and_can_be_json() {
    let root = tempfile::tempdir().unwrap();
    let run = |format: &str| {
        let o = Command::new(env!("CARGO_BIN_EXE_workflow"))
            .args(["--log-format", format, "--data-dir"])
            .arg(root.path().join(format))
            .args(["init", "--directory"])
            .arg(fixture_path())
            .env("RUST_LOG", "info")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o).1);
        text(&o).1
    };
    let plain = run("text");
    assert!(plain.contains("INFO"), "{plain}");
    assert!(!plain.contains('\u{1b}'), "ANSI codes in {plain:?}");
    let json = run("json");
    let lines: Vec<&str> = json.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["level"].is_string() && v["fields"].is_object(), "{line}");
    }
}

#[test]
fn render_prints_an_issued_document_as_its_pdf_the_same_each_time() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = prepare(dir.path());
    let out = dir.path().join("issued.pdf");
    let run = || {
        let o = workflow(
            dir.path(),
            &["render", &a.to_string(), "--out", out.to_str().unwrap()],
        );
        let (stdout, stderr) = text(&o);
        assert!(o.status.success(), "{stdout}{stderr}");
        (stdout, std::fs::read(&out).unwrap())
    };
    let (said, pdf) = run();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(said.contains("X校发〔2026〕"), "{said}");
    assert!(said.contains("仿宋  FandolFang"), "{said}");
    use sha2::Digest as _;
    assert!(
        said.contains(&hex::encode(sha2::Sha256::digest(&pdf))),
        "{said}"
    );
    let (_, again) = run();
    assert_eq!(pdf, again, "the same record, the same bytes");
    // Not yet issued: nothing to print, said plainly, nothing written.
    let never = dir.path().join("never.pdf");
    let o = workflow(
        dir.path(),
        &["render", &b.to_string(), "--out", never.to_str().unwrap()],
    );
    let (stdout, stderr) = text(&o);
    assert!(!o.status.success());
    assert!(stderr.contains("has not been issued"), "{stdout}{stderr}");
    assert!(!never.exists());
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    for cmd in [
        "serve",
        "init",
        "verify",
        "rebuild",
        "history",
        "show",
        "render",
        "export",
        "verify-export",
        "check-archive",
        "sign-head",
        "verify-signature",
        "stats",
        "list",
    ] {
        let o = Command::new(env!("CARGO_BIN_EXE_workflow"))
            .args([cmd, "--help"])
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(
            o.status.success() && out.contains("Example"),
            "{cmd}: {out}"
        );
    }
}

#[test]
fn the_benchmark_runs_in_smoke_mode_and_prints_its_summary() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_workflow"))
        .args(["bench", "--smoke", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(
        out.contains("engine in-process, 8 clients: commands/s") && out.contains("% of raw sled"),
        "{out}"
    );
    assert!(
        out.contains("gRPC loopback, 64 clients: commands/s"),
        "{out}"
    );
    let json_start = out.find("\n{").unwrap();
    let summary: serde_json::Value = serde_json::from_str(&out[json_start..]).unwrap();
    for key in [
        "raw_sled",
        "engine",
        "grpc",
        "growth",
        "rebuild_events_per_sec_per_core",
        "rebuild_from_scratch_events_per_sec_per_core",
        "verify_events_per_sec_per_core",
        "server_peak_rss_mib",
    ] {
        assert!(!summary[key].is_null(), "{key} missing: {summary}");
    }
    assert!(summary["engine"][1]["rate"]["per_sec"].as_f64().unwrap() > 0.0);
}

#[test]
fn the_benchmark_runs_on_postgres_against_raw_postgres() {
    let db = workflow_testkit::postgres::Database::new();
    let o = Command::new(env!("CARGO_BIN_EXE_workflow"))
        .args(["bench", "--smoke", "--store", &db.url])
        .env("WORKFLOW_ALLOW_FSYNC_OFF", "1")
        .env_remove("WORKFLOW_CONFIG")
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}\n{err}");
    assert!(
        out.contains("engine on PostgreSQL, 8 clients: commands/s")
            && out.contains("% of raw PostgreSQL"),
        "{out}"
    );
    assert!(out.contains("% of one server"), "{out}");
    let json_start = out.find("\n{").unwrap();
    let summary: serde_json::Value = serde_json::from_str(&out[json_start..]).unwrap();
    let pg = &summary["postgres"];
    for key in [
        "raw",
        "engine",
        "grpc_one_server",
        "grpc_two_servers",
        "two_over_one",
    ] {
        assert!(!pg[key].is_null(), "{key} missing: {summary}");
    }
    assert!(pg["engine"][1]["ratio_to_raw_postgres"].as_f64().unwrap() > 0.0);
}

#[test]
fn the_retention_schedule_prints_the_default_or_the_configured_rows() {
    let root = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_workflow"))
            .current_dir(root.path())
            .args(args)
            .env_remove("WORKFLOW_CONFIG")
            .output()
            .unwrap();
        (o.status.code(), text(&o).0, text(&o).1)
    };
    let (code, out, _) = run(&["retention-schedule"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("the default, drawn from 国家档案局令第8号"),
        "{out}"
    );
    assert!(
        out.contains("发文 outgoing, 函(Letter), not important → 定期10年 (D10)"),
        "{out}"
    );
    assert!(out.contains("8号令 第八条"), "{out}");
    // A configured schedule: its rows, in order.
    let config = root.path().join("custom.toml");
    std::fs::write(
        &config,
        r#"
[[systems]]
name = "test"
token = "test-token-123"

[[retention]]
flow = "outgoing"
kinds = ["Minutes"]
retention = "Permanent"
basis = "本校：会议纪要一律永久"

[[retention]]
flow = "outgoing"
retention = "Years30"

[[retention]]
flow = "incoming"
retention = "Years10"
"#,
    )
    .unwrap();
    let (code, out, err) = run(&["--config", config.to_str().unwrap(), "retention-schedule"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("from the configuration's [[retention]] rows"),
        "{out}"
    );
    assert!(
        out.contains("  1. 发文 outgoing, 纪要(Minutes), important or not → 永久 (Y)"),
        "{out}"
    );
    assert!(out.contains("本校：会议纪要一律永久"), "{out}");
    // A schedule that leaves documents without a retention is refused.
    std::fs::write(
        &config,
        "[[systems]]\nname = \"test\"\ntoken = \"test-token-123\"\n\n[[retention]]\nflow = \"outgoing\"\nkinds = [\"Minutes\"]\nretention = \"Permanent\"\n",
    )
    .unwrap();
    let (code, _, err) = run(&["--config", config.to_str().unwrap(), "retention-schedule"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no row covers"), "{err}");
}

#[test]
fn token_new_prints_a_fresh_token_and_only_its_digest_for_the_configuration() {
    let run = || {
        let o = Command::new(env!("CARGO_BIN_EXE_workflow"))
            .args(["token", "new", "--system", "archive-system"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let out = run();
    let token = out
        .lines()
        .map(str::trim)
        .find(|l| l.len() == 64 && l.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap()
        .to_owned();
    let digest: String = workflow_grpc::sha256(&token)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(
        out.contains(&format!("token_sha256 = \"{digest}\"")),
        "{out}"
    );
    assert!(out.contains("name = \"archive-system\""), "{out}");
    // The lines to paste parse as a system whose digest admits the token.
    let toml_part = &out[out.find("[[systems]]").unwrap()..];
    let parsed: toml::Value = toml::from_str(toml_part).unwrap();
    let system: workflow_grpc::SystemConfig = parsed["systems"][0].clone().try_into().unwrap();
    let auth = workflow_grpc::auth::Authenticator::new(&[system], false);
    assert_eq!(auth.system_of(&token).unwrap().name, "archive-system");
    // Each run draws a new one.
    assert!(!run().contains(&token));
}

#[test]
fn history_of_an_actor_shows_who_granted_what_when_and_why() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let engine = Engine::open(dir.path()).unwrap();
            let mut li = engine.actor(&"li.qiang".into()).unwrap();
            li.roles
                .remove(&workflow_core::directory::Role::Countersigner);
            li.roles.insert(workflow_core::directory::Role::Signatory);
            li.clearance = workflow_core::directory::Classification::TopSecret;
            engine
                .put_actor(li, "oa-admin", "任命为副校长")
                .await
                .unwrap();
        });
    }
    let o = workflow(dir.path(), &["history", "--actor", "li.qiang"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("li.qiang — 2 directory changes"), "{out}");
    assert!(
        out.contains("registered li.qiang (李强) in JWC, roles [Reviewer, Countersigner]"),
        "{out}"
    );
    assert!(out.contains("(reason: the campus fixture)"), "{out}");
    assert!(
        out.contains(
            "oa-admin         人员授权     granted Signatory; revoked Countersigner; clearance Confidential (机密) → TopSecret (绝密)  (reason: 任命为副校长)"
        ),
        "{out}"
    );
    let o = workflow(dir.path(), &["history", "--actor", "li.qiang", "--json"]);
    let lines: Vec<serde_json::Value> = text(&o)
        .0
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["system"], "oa-admin");
    let o = workflow(dir.path(), &["history", "--actor", "nobody"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("actor nobody has no directory history"));
}

#[test]
fn an_operators_read_of_a_classified_document_is_in_the_access_log() {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let secret = DocumentId(uuid::Uuid::from_u128(0x5EC));
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let engine = Engine::open(dir.path()).unwrap();
            let mut fields = workflow_testkit::fields();
            fields.classification = workflow_core::directory::Classification::Secret;
            fields.classification_period_years = Some(10);
            engine
                .execute(Request::new(
                    secret,
                    "wang.fang",
                    workflow_core::outgoing::Action::Draft(fields),
                ))
                .await
                .unwrap();
        });
    }
    let id = secret.to_string();
    // Unclassified reads are not recorded; classified ones are, naming the OS user.
    assert!(
        workflow(
            dir.path(),
            &["show", "00000000-0000-0000-0000-00000000000a"]
        )
        .status
        .success()
    );
    assert!(workflow(dir.path(), &["show", &id]).status.success());
    assert!(workflow(dir.path(), &["history", &id]).status.success());
    let o = workflow(dir.path(), &["access-log", "--document", &id]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.starts_with("2 recorded reads"), "{out}");
    assert!(out.contains("cli (os user"), "{out}");
    assert!(out.contains(" get ") && out.contains(" history "), "{out}");
    let (out, _) = text(&workflow(dir.path(), &["access-log", "--json"]));
    assert_eq!(out.lines().count(), 2, "{out}");
    let o = workflow(dir.path(), &["verify"]);
    let (out, _) = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.contains("access log: 2 entries (reads of classified documents), chain intact"),
        "{out}"
    );
}

/// The fixture's sample 收文 taken through its whole 批办 flow, from 2026-11-03 09:00 CST,
/// one step an hour.
fn prepare_receipt(dir: &Path) -> DocumentId {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let engine = Engine::open(dir).unwrap();
        engine
            .load_directory_json(CAMPUS, "test", "the campus fixture")
            .await
            .unwrap();
        let id = DocumentId(uuid::Uuid::from_u128(0xC));
        let sample = workflow_testkit::incoming::incoming_sample();
        let start = Utc.with_ymd_and_hms(2026, 11, 3, 1, 0, 0).unwrap();
        let steps = workflow_testkit::incoming::instruct_flow(&sample, "J012");
        for (i, (actor, action)) in steps.into_iter().enumerate() {
            let r = Request {
                at: Some(start + Duration::hours(i as i64)),
                ..Request::new(id, actor, action)
            };
            engine.execute(r).await.unwrap();
        }
        id
    })
}

#[test]
fn show_list_history_export_and_stats_cover_incoming_documents() {
    let dir = tempfile::tempdir().unwrap();
    let id = prepare_receipt(dir.path());
    let id_text = id.to_string();
    // show: the 收文登记簿 line and the 批办单.
    let o = workflow(dir.path(), &["show", &id_text]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    for expected in [
        "X校收〔2026〕1号 | 2026-11-02 | 省教育厅 | X教高函〔2026〕45号 | 通知 | 非密 | 加急 | 6页 | 2026-12-10 | 需回复",
        "── 批办单 ──",
        "拟办意见",
        "拟请林校长阅批，由教务处牵头办理，人事处、财务处协办。",
        "领导批示",
        "主办 JWC  协办 CWC、RSC  时限 2026-11-30",
        "[RSC 协办] 郭涛 guo.tao",
        "延期审批",
        "办结",
        "答复      X校教〔2026〕31号",
        "档号 J012-WS·2026-D30-JWC-0001",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
    // list: by flow and step.
    let o = workflow(
        dir.path(),
        &["list", "--flow", "incoming", "--step", "Archived"],
    );
    let (out, _) = text(&o);
    assert!(out.contains(&format!("{id_text}  收文 Archived")), "{out}");
    let o = workflow(dir.path(), &["list", "--flow", "outgoing"]);
    assert!(text(&o).1.contains("no documents match"), "{:?}", text(&o));
    let o = workflow(dir.path(), &["list", "--flow", "sideways"]);
    assert!(!o.status.success());
    assert!(text(&o).1.contains("--flow sideways"), "{:?}", text(&o));
    // history: every step in the office's words.
    let o = workflow(dir.path(), &["history", &id_text]);
    let (out, _) = text(&o);
    for step in [
        "登记",
        "初审",
        "拟办",
        "批办",
        "协办",
        "承办",
        "申请延期",
        "同意延期",
        "办结",
        "归档",
    ] {
        assert!(out.contains(step), "missing {step} in\n{out}");
    }
    // export and verify-export: the same package form as 发文.
    let pkg = dir.path().join("pkg");
    let o = workflow(
        dir.path(),
        &["export", &id_text, "--out", pkg.to_str().unwrap()],
    );
    assert!(o.status.success(), "{:?}", text(&o));
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(pkg.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["flow"], "incoming");
    assert_eq!(manifest["document_number"], "X校收〔2026〕1号");
    assert_eq!(manifest["archival_reference"], "J012-WS·2026-D30-JWC-0001");
    let o = workflow(dir.path(), &["verify-export", pkg.to_str().unwrap()]);
    assert!(o.status.success(), "{:?}", text(&o));
    // A document.json that is not the fold of the events is caught.
    let doc = pkg.join("document.json");
    let edited = std::fs::read_to_string(&doc)
        .unwrap()
        .replace("自评报告已按新模板报送省教育厅。", "已办。");
    std::fs::write(&doc, edited).unwrap();
    let o = workflow(dir.path(), &["verify-export", pkg.to_str().unwrap()]);
    assert!(!o.status.success());
    // stats count it.
    let (out, _) = text(&workflow(dir.path(), &["stats", "--json"]));
    let s: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(s["documents"].as_u64(), Some(1));
    assert_eq!(s["by_state"]["Archived"].as_u64(), Some(1));
}

/// The operator commands on a PostgreSQL store named by `--store`: migrate on an empty
/// database, init with the fixture, migrate (nothing left to apply), stats and verify.
#[test]
fn init_migrate_stats_and_verify_on_a_postgres_store() {
    let empty = workflow_testkit::postgres::Database::new();
    let o = Command::new(env!("CARGO_BIN_EXE_workflow"))
        .args(["--store", &empty.url, "migrate"])
        .env_remove("WORKFLOW_CONFIG")
        .env("WORKFLOW_ALLOW_FSYNC_OFF", "1")
        .output()
        .unwrap();
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains(&format!(
            "an empty database: created the schema, version {}",
            workflow_store::storage::postgres::SCHEMA_VERSION
        )),
        "{out}"
    );
    let db = workflow_testkit::postgres::Database::new();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_workflow"))
            .args(["--store", &db.url])
            .args(args)
            .env_remove("WORKFLOW_CONFIG")
            .env("WORKFLOW_ALLOW_FSYNC_OFF", "1")
            .output()
            .unwrap()
    };
    let fixture = fixture_path();
    let o = run(&["init", "--directory", fixture.to_str().unwrap()]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains(&format!("{} events", workflow_testkit::directory_events())),
        "{out}"
    );
    let o = run(&["migrate"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains(&format!(
            "schema version {} (this build's): nothing to migrate",
            workflow_store::storage::postgres::SCHEMA_VERSION
        )),
        "{out}"
    );
    let o = run(&["verify"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    let o = run(&["stats", "--json"]);
    assert!(o.status.success(), "{:?}", text(&o));
    // Without the test's permission, the cluster's fsync = off is refused, by name.
    let o = Command::new(env!("CARGO_BIN_EXE_workflow"))
        .args(["--store", &db.url, "verify"])
        .env_remove("WORKFLOW_CONFIG")
        .env_remove("WORKFLOW_ALLOW_FSYNC_OFF")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(text(&o).1.contains("fsync = off"), "{:?}", text(&o));
}

#[test]
fn copy_a_data_directory_into_postgres_and_back_keeps_the_chain_and_the_projections() {
    let db = workflow_testkit::postgres::Database::new();
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    // One read of a classified document, so that the access log has something to copy.
    let file = {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let engine = Engine::open(dir.path()).unwrap();
            engine
                .record_access(workflow_store::access::AccessRecord {
                    system: "archive".into(),
                    actor: Some("li.qiang".into()),
                    what: "GetDocument".into(),
                    document_id: DocumentId(uuid::Uuid::from_u128(0xA)),
                    classification: workflow_core::directory::Classification::Secret,
                    detail: String::new(),
                })
                .await
                .unwrap();
            // And one uploaded file, for the files to be copied too.
            let by = engine.reader("test", "he.ping").unwrap();
            let mut up = engine.upload(&by, "正文.pdf").unwrap();
            up.write(b"%PDF-1.7\n a document the copy carries").unwrap();
            up.finish(None).unwrap()
        })
    };
    let copy = |from: &str, to: &str| {
        Command::new(env!("CARGO_BIN_EXE_workflow"))
            .args(["copy", "--from", from, "--to", to])
            .env_remove("WORKFLOW_CONFIG")
            .env("WORKFLOW_ALLOW_FSYNC_OFF", "1")
            .output()
            .unwrap()
    };
    let source = dir.path();
    let o = copy(source.to_str().unwrap(), &db.url);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("equal (log and access log)"), "{out}");
    assert!(
        out.contains("equal to the source's entry for entry"),
        "{out}"
    );
    assert!(out.contains("access log       1 entries"), "{out}");
    assert!(
        out.contains("files            1 (正文, attachments), the same as the source's"),
        "{out}"
    );
    assert!(!out.contains(":secret@"), "{out}");
    // And back, into a new directory.
    let back = tempfile::tempdir().unwrap();
    let restored = back.path().join("restored");
    let o = copy(&db.url, restored.to_str().unwrap());
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains("equal to the source's entry for entry"),
        "{out}"
    );
    // The round trip's end equals its start: the log byte for byte, the projections entry
    // for entry, the access log.
    let a = Engine::open(source).unwrap();
    let b = Engine::open(&restored).unwrap();
    assert_eq!(a.head(), b.head());
    assert_eq!(
        a.read_log(1, 100_000).unwrap(),
        b.read_log(1, 100_000).unwrap()
    );
    assert_eq!(a.dump_projections().unwrap(), b.dump_projections().unwrap());
    assert_eq!(
        a.access_log(&Default::default()).unwrap(),
        b.access_log(&Default::default()).unwrap()
    );
    let (head, log) = (b.head(), b.read_log(1, 100_000).unwrap());
    drop((a, b));
    // The file came back through PostgreSQL byte for byte.
    let kept = |root: &std::path::Path| {
        let d = file.digest.as_str();
        std::fs::read(root.join("content").join(&d[..2]).join(d)).unwrap()
    };
    assert_eq!(kept(&restored), kept(source));
    // A target that holds a store is refused, by name, and left as it was.
    let o = copy(source.to_str().unwrap(), restored.to_str().unwrap());
    let (out, err) = text(&o);
    assert!(!o.status.success(), "{out}{err}");
    assert!(err.contains("holds a log already"), "{err}");
    let b = Engine::open(&restored).unwrap();
    assert_eq!((b.head(), b.read_log(1, 100_000).unwrap()), (head, log));
}

/// `GET path` over plain HTTP/1.1; the response's status line and body.
fn http_get(addr: &str, path: &str) -> (String, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut bytes = Vec::new();
    if let Err(e) = s.read_to_end(&mut bytes) {
        panic!(
            "reading the response to GET {path}: {e} ({:?} so far: {:?})",
            e.kind(),
            String::from_utf8_lossy(&bytes)
        );
    }
    let response = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        head.lines().next().unwrap_or("").to_owned(),
        body.to_owned(),
    )
}

#[test]
fn serve_exposes_prometheus_metrics_when_configured() {
    let root = tempfile::tempdir().unwrap();
    let config = serve_config(
        root.path(),
        &root.path().join("data"),
        "metrics_listen = \"127.0.0.1:0\"\n",
    );
    let (mut child, addr) = serve_announcing(&config, "workflow: metrics on http://");
    let addr = addr.trim_end_matches("/metrics").to_owned();
    let (status, body) = http_get(&addr, "/metrics");
    let _ = child.kill();
    let _ = child.wait();
    assert!(status.contains("200"), "{status}");
    // The directory loaded on first start is a command: counted, timed, in one group.
    assert!(
        body.lines()
            .any(|l| l.starts_with("workflow_commands_total{") && l.contains("outcome=\"ok\"")),
        "{body}"
    );
    for name in [
        "workflow_command_duration_seconds_bucket",
        "workflow_group_commands_bucket",
        "workflow_commit_duration_seconds_bucket",
    ] {
        assert!(body.contains(name), "{name} missing: {body}");
    }
    let position = format!(
        "workflow_log_position {}",
        workflow_testkit::directory_events()
    );
    assert!(body.contains(&position), "{position} missing: {body}");
    assert!(body.contains("workflow_writer_halted 0"), "{body}");
}

/// Starts `workflow serve` on `config` and waits for the line starting with `prefix` (where
/// it serves something), returning the child and the rest of that line. The rest of its
/// stderr is drained: a closed pipe would make its next line fail.
fn serve_announcing(
    config: &std::path::Path,
    prefix: &'static str,
) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_workflow"))
        .arg("--config")
        .arg(config)
        .arg("serve")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stderr.lines() {
            let Ok(line) = line else { break };
            if let Some(rest) = line.strip_prefix(prefix) {
                let _ = tx.send(rest.to_owned());
            }
        }
    });
    match rx.recv_timeout(std::time::Duration::from_secs(60)) {
        Ok(rest) => (child, rest),
        Err(_) => {
            let _ = child.kill();
            panic!("the server never said {prefix:?}");
        }
    }
}

#[test]
fn serve_runs_the_web_console_when_configured() {
    let root = tempfile::tempdir().unwrap();
    let config = serve_config(
        root.path(),
        &root.path().join("data"),
        "[web]\nlisten = \"127.0.0.1:0\"\nauth = \"dev\"\n",
    );
    let (mut child, url) = serve_announcing(&config, "workflow: web console on http://");
    let addr = url.trim_end_matches('/').to_owned();
    let (status, body) = http_get(&addr, "/signin");
    let _ = child.kill();
    let _ = child.wait();
    assert!(status.contains("200"), "{status}");
    // The directory the server loaded, to sign in as.
    assert!(body.contains("value=\"li.qiang\""), "{body}");
}

#[test]
fn serve_refuses_dev_sign_in_away_from_loopback() {
    let root = tempfile::tempdir().unwrap();
    let config = root.path().join("workflow.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\ndata_dir = \"data\"\n\
         [web]\nlisten = \"0.0.0.0:0\"\nauth = \"dev\"\n\
         [[systems]]\nname = \"test\"\ntoken = \"test-token-123\"\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_workflow"))
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("web.listen") && stderr.contains("loopback"),
        "{stderr}"
    );
    assert!(!root.path().join("data").exists(), "nothing was created");
}

/// `notifications` lists what the log tells people: B waits for 李强, so his 待办 is there
/// with its link; the same log gives the same notices (and ids) each time; `--json` and
/// `--from` work as a deliverer would use them.
#[test]
fn notifications_list_what_the_log_tells_people_the_same_each_time() {
    let dir = tempfile::tempdir().unwrap();
    let (_, b) = prepare(dir.path());
    let first = workflow(
        dir.path(),
        &["notifications", "--base-url", "https://oa.example.edu.cn"],
    );
    assert!(first.status.success(), "{:?}", text(&first));
    let (out, err) = text(&first);
    let line = out
        .lines()
        .find(|l| l.contains("li.qiang") && l.contains(&b.to_string()))
        .unwrap_or_else(|| panic!("李强's 待办 for B: {out}"));
    assert!(line.contains("【待办】发文《"), "{line}");
    assert!(
        line.ends_with(&format!("https://oa.example.edu.cn/doc/{b}")),
        "{line}"
    );
    assert!(err.contains("next position"), "{err}");
    let again = workflow(
        dir.path(),
        &["notifications", "--base-url", "https://oa.example.edu.cn"],
    );
    assert_eq!(text(&again).0, out, "the same log, the same notices");
    // As JSON, each with its own id; from a later position, only what comes after.
    let json = workflow(dir.path(), &["notifications", "--json"]);
    let all: Vec<serde_json::Value> = text(&json)
        .0
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ids: std::collections::BTreeSet<&str> =
        all.iter().map(|n| n["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), all.len());
    assert!(all.iter().all(|n| n["text"].as_str().is_some()));
    let last = all
        .iter()
        .map(|n| n["position"].as_u64().unwrap())
        .max()
        .unwrap();
    let later = workflow(
        dir.path(),
        &["notifications", "--json", "--from", &last.to_string()],
    );
    let later = text(&later).0;
    let tail = later.lines().count();
    assert!(tail > 0 && tail < all.len(), "{later}");
}

/// `notifications --failed` lists the outbox's dead letters with why; `--retry ID` puts one
/// back from its first try, and says where the outbox stands.
#[test]
fn notifications_failed_lists_dead_letters_and_retry_sends_one_again() {
    use workflow_store::notify::Notifier;
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dead = rt.block_on(async {
        let engine = Engine::open(dir.path()).unwrap();
        engine
            .load_directory_json(CAMPUS, "test", "the campus fixture")
            .await
            .unwrap();
        let config = workflow_testkit::notify::unreachable_webhook("portal");
        let notifier = Notifier::start(&engine, &config).unwrap().unwrap();
        let b = DocumentId(uuid::Uuid::from_u128(0xB));
        for (actor, action) in full_flow().into_iter().take(steps::IN_REVIEW) {
            engine
                .execute(Request::new(b, actor, action))
                .await
                .unwrap();
        }
        let dead = workflow_testkit::notify::dead_letters(&engine, 1).await;
        notifier.stop();
        dead
    });
    drop(rt);
    let failed = workflow(dir.path(), &["notifications", "--failed"]);
    assert!(failed.status.success(), "{:?}", text(&failed));
    let (out, err) = text(&failed);
    let d = &dead[0];
    let line = out
        .lines()
        .find(|l| l.starts_with(&d.id))
        .unwrap_or_else(|| panic!("{} listed: {out}", d.id));
    assert!(
        line.contains("发送失败") && line.contains("portal"),
        "{line}"
    );
    assert!(err.contains("发送失败"), "{err}");
    let retried = workflow(dir.path(), &["notifications", "--retry", &d.id, "--json"]);
    assert!(retried.status.success(), "{:?}", text(&retried));
    let (out, err) = text(&retried);
    let back: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (back["state"].as_str(), back["attempts"].as_u64()),
        (Some("pending"), Some(0))
    );
    assert!(err.contains("1 待重试"), "{err}");
    assert!(err.contains("portal: settled through"), "{err}");
    let unknown = workflow(dir.path(), &["notifications", "--retry", "nope"]);
    assert!(!unknown.status.success());
    assert!(
        text(&unknown).1.contains("no delivery nope"),
        "{:?}",
        text(&unknown)
    );
}

#[test]
fn a_store_configured_for_sm3_is_chained_with_it_and_keeps_it() {
    let root = tempfile::tempdir().unwrap();
    let config = root.path().join("workflow.toml");
    let data = root.path().join("data");
    let write = |digest: &str| {
        std::fs::write(
            &config,
            format!(
                "data_dir = {:?}\nchain_digest = {digest:?}\ndirectory = {:?}\n\n\
                 [[systems]]\nname = \"test\"\ntoken = \"test-token-123\"\n",
                data.to_str().unwrap(),
                fixture_path().to_str().unwrap()
            ),
        )
        .unwrap();
    };
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_workflow"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .env_remove("WORKFLOW_CONFIG")
            .output()
            .unwrap()
    };
    write("sm3");
    let o = run(&["init"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("its log chained with SM3"), "{out}");
    let o = run(&["verify"]);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        out.contains(":sm3:"),
        "the witness head is an SM3 hash: {out}"
    );
    // The other digest for a store with events: refused, plainly.
    write("sha256");
    let o = run(&["init"]);
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{out}{err}");
    assert!(err.contains("chained with SM3"), "{err}");
    // A digest that is none: the configuration is refused by name.
    write("md5");
    let o = run(&["init"]);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("chain_digest"), "{err}");
}

/// A 发文 taken through its whole flow by an engine with the real printer, so that its 公文
/// is kept as printed at 印发.
fn prepare_printed(dir: &Path) -> DocumentId {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let engine = Engine::open_with(workflow_store::Config {
            printer: Some(workflow_render::printer::printer()),
            ..workflow_store::Config::new(dir)
        })
        .unwrap();
        engine
            .load_directory_json(CAMPUS, "test", "the campus fixture")
            .await
            .unwrap();
        let id = DocumentId(uuid::Uuid::from_u128(0xC));
        let start = Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap();
        for (i, (actor, action)) in full_flow().into_iter().enumerate() {
            let r = Request {
                at: Some(start + Duration::hours(i as i64)),
                ..Request::new(id, actor, action)
            };
            engine.execute(r).await.unwrap();
        }
        id
    })
}

#[test]
fn an_issued_document_signed_with_sm2_verifies_and_not_once_changed() {
    let dir = tempfile::tempdir().unwrap();
    let id = prepare_printed(dir.path());
    let keys = tempfile::tempdir().unwrap();
    let (key, public) = openssl_sm2_key(keys.path(), "office");
    let (_, stranger) = openssl_sm2_key(keys.path(), "stranger");
    let pdf = keys.path().join("issued.pdf");
    let sig = keys.path().join("issued.pdf.sig.json");
    let o = workflow(
        dir.path(),
        &[
            "render",
            &id.to_string(),
            "--out",
            pdf.to_str().unwrap(),
            "--sign-key",
            key.to_str().unwrap(),
            "--signer",
            "office@campus",
        ],
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("equal to the copy printed at 印发"), "{out}");
    assert!(out.contains("signed: "), "{out}");
    let signed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sig).unwrap()).unwrap();
    assert_eq!(signed["format"], "workflow-signed-file/1");
    assert!(
        signed["number"]
            .as_str()
            .unwrap()
            .starts_with("X校发〔2026〕")
    );
    let check = |key: &Path| {
        workflow(
            dir.path(),
            &[
                "verify-signature",
                pdf.to_str().unwrap(),
                "--public-key",
                key.to_str().unwrap(),
            ],
        )
    };
    let o = check(&public);
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(out.contains("verifies under the trusted key"), "{out}");
    let o = check(&stranger);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("REFUSED") && out.contains("not the trusted key"),
        "{out}"
    );
    // One byte of the 公文 changed: refused.
    let mut bytes = std::fs::read(&pdf).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    std::fs::write(&pdf, &bytes).unwrap();
    let o = check(&public);
    let (out, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("not the one signed"), "{out}");
    // A 发文 issued without a copy kept at 印发: nothing to vouch for, nothing signed.
    let plain = tempfile::tempdir().unwrap();
    let (a, _) = prepare(plain.path());
    let unsigned = keys.path().join("plain.pdf");
    let o = workflow(
        plain.path(),
        &[
            "render",
            &a.to_string(),
            "--out",
            unsigned.to_str().unwrap(),
            "--sign-key",
            key.to_str().unwrap(),
        ],
    );
    let (out, err) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}{err}");
    assert!(err.contains("not signed"), "{err}");
    assert!(!keys.path().join("plain.pdf.sig.json").exists());
}
