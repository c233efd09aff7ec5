//! The book checks out: every relative link in the README, CONTRIBUTING, ARCHITECTURE and
//! `docs/` resolves; every `workflow …` command their shell blocks show names a subcommand
//! and flags the binary has (`workflow <sub> --help`); the configuration reference lists
//! exactly the keys the configuration's types read, and its example parses.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The book's Markdown files: the README, CONTRIBUTING, ARCHITECTURE and everything in docs/.
fn pages() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    let mut out = vec![
        root().join("README.md"),
        root().join("CONTRIBUTING.md"),
        root().join("ARCHITECTURE.md"),
    ];
    walk(&root().join("docs"), &mut out);
    out.sort();
    out
}

/// The targets of a page's Markdown links `[text](target)` outside code blocks and spans.
fn links(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        // Code spans may hold `](` of their own.
        let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
        let mut rest = prose.as_str();
        while let Some(i) = rest.find("](") {
            let tail = &rest[i + 2..];
            let Some(end) = tail.find(')') else { break };
            out.push(tail[..end].trim().to_owned());
            rest = &tail[end..];
        }
    }
    out
}

#[test]
fn every_relative_link_of_the_book_resolves() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for target in links(&text) {
            if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let path = target.split('#').next().unwrap_or_default();
            checked += 1;
            if !page.parent().unwrap().join(path).exists() {
                broken.push(format!("{}: {target}", page.display()));
            }
        }
    }
    assert!(
        checked > 40,
        "only {checked} links found: is the parser right?"
    );
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The `workflow` invocations in a page's shell blocks (```sh, ```bash, ```console), as
/// the arguments after the binary: `workflow …`, `target/release/workflow …`, and
/// `cargo run … -p workflow-cli -- …`.
fn invocations(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut shell = false;
    let mut fenced = false;
    for line in text.lines() {
        let t = line.trim_start();
        if let Some(lang) = t.strip_prefix("```") {
            fenced = !fenced;
            shell = fenced && matches!(lang.trim(), "sh" | "bash" | "console" | "shell");
            continue;
        }
        // In a shell block every line is a command; in another block (a transcript) the
        // lines after a `$ ` prompt are.
        let line = match t.strip_prefix("$ ") {
            Some(prompted) if fenced => prompted,
            _ if shell => t,
            _ => continue,
        };
        let line = line.split(" #").next().unwrap_or_default();
        for command in line.split(['|', ';']).flat_map(|c| c.split("&&")) {
            let words: Vec<&str> = command.split_whitespace().collect();
            let args = match words.as_slice() {
                [first, rest @ ..] if first.ends_with("/workflow") || *first == "workflow" => {
                    rest.to_vec()
                }
                ["cargo", "run", rest @ ..] if rest.contains(&"workflow-cli") => {
                    match rest.iter().position(|w| *w == "--") {
                        Some(i) => rest[i + 1..].to_vec(),
                        None => continue,
                    }
                }
                _ => continue,
            };
            out.push(args.iter().map(|s| (*s).to_owned()).collect());
        }
    }
    out
}

fn help(path: &[String]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_workflow"))
        .args(path)
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success(), "workflow {path:?} --help failed");
    String::from_utf8(out.stdout).unwrap()
}

/// The subcommands a help text lists under `Commands:`.
fn subcommands(help: &str) -> BTreeSet<String> {
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn every_workflow_command_in_the_book_exists_with_its_flags() {
    let mut wrong = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        for args in invocations(&text) {
            checked += 1;
            // Walk down the subcommands the words name, then check every flag there. A flag
            // before a subcommand is a global one: checked where it stands, its value skipped.
            let mut path: Vec<String> = Vec::new();
            let mut text = help(&path);
            let mut flags: Vec<(String, Vec<String>)> = Vec::new();
            let mut words = args.iter().peekable();
            while let Some(w) = words.next() {
                if w.starts_with("--") {
                    let flag = w.split('=').next().unwrap_or_default().to_owned();
                    flags.push((flag.clone(), path.clone()));
                    if !w.contains('=') && text.contains(&format!("{flag} <")) {
                        words.next();
                    }
                } else if subcommands(&text).contains(w.as_str()) {
                    path.push(w.clone());
                    text = help(&path);
                } else if path.is_empty() {
                    break;
                }
            }
            if path.is_empty() {
                wrong.push(format!(
                    "{}: `workflow {}`: no such subcommand",
                    page.display(),
                    args.join(" ")
                ));
                continue;
            }
            for (flag, at) in flags {
                let text = help(&at);
                if !text.contains(&format!("{flag} ")) && !text.contains(&format!("{flag}\n")) {
                    wrong.push(format!(
                        "{}: `workflow {}`: {flag} is no flag of `workflow {}`",
                        page.display(),
                        args.join(" "),
                        at.join(" ")
                    ));
                }
            }
        }
    }
    assert!(
        checked > 10,
        "only {checked} invocations found: is the parser right?"
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The keys a configuration reference section lists: the first column's code spans.
fn documented(reference: &str, heading: &str) -> BTreeSet<String> {
    reference
        .lines()
        .skip_while(|l| !l.starts_with(heading))
        .skip(1)
        .take_while(|l| !l.starts_with("## "))
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| l.split('`').nth(1).map(str::to_owned))
        .collect()
}

fn read<'de, T: serde::Deserialize<'de>>() -> BTreeSet<String> {
    serde_aux::serde_introspection::serde_introspect::<T>()
        .iter()
        .map(|s| (*s).to_owned())
        .collect()
}

#[test]
fn the_configuration_reference_lists_exactly_the_keys_the_code_reads() {
    let reference = std::fs::read_to_string(root().join("docs/configuration.md")).unwrap();
    let sections = [
        ("## Top level", read::<workflow_cli::ServerConfig>()),
        ("## `[web]`", read::<workflow_web::WebConfig>()),
        (
            "## `[notify]`",
            read::<workflow_store::notify::NotifyConfig>(),
        ),
        (
            "## `[[notify.channels]]`",
            read::<workflow_store::notify::ChannelConfig>(),
        ),
        (
            "## `[[systems]]`",
            read::<workflow_grpc::config::SystemConfig>(),
        ),
        ("## `[tls]`", read::<workflow_grpc::config::TlsConfig>()),
        (
            "## `[[retention]]`",
            read::<workflow_core::archive::ScheduleRow>(),
        ),
    ];
    for (heading, code) in sections {
        assert!(!code.is_empty(), "{heading}: no fields read");
        assert_eq!(documented(&reference, heading), code, "{heading}");
    }
    // The example parses as a configuration (unknown keys are refused).
    let example = reference
        .split("```toml\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .unwrap();
    let parsed: workflow_cli::ServerConfig = toml::from_str(example).unwrap();
    assert_eq!(parsed.systems.len(), 2);
    assert!(parsed.web.is_some() && parsed.tls.is_some());
    // And so does the repository's development configuration.
    let dev = std::fs::read_to_string(root().join("workflow.toml")).unwrap();
    let _: workflow_cli::ServerConfig = toml::from_str(&dev).unwrap();
}
