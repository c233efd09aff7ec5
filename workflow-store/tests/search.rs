//! Keyword search with its index: the same answers as reading every document (for words of
//! one, two and more characters, Chinese, digits and Latin letters in any case, several
//! words, with other filters, across pages, newest first), right after changes the index
//! has not taken yet, after a restart (taken up, not built again), and when the index is
//! gone, damaged or cannot be used.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)] // tests

mod common;

use std::time::{Duration, Instant};

use common::*;
use workflow_core::{DocumentId, StreamKind, outgoing::Action};
use workflow_store::{Config, Engine, ListQuery, SearchIndex};
use workflow_testkit::sample;

/// A small alphabet, so that words recur across documents.
const ALPHABET: [&str; 16] = [
    "校", "发", "通", "知", "考", "试", "〔", "〕", "2", "0", "6", "号", "A", "b", " ", "函",
];

/// A deterministic sequence (no clock, no luck).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % below as u64) as usize
    }

    fn text(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| ALPHABET[self.next(ALPHABET.len())])
            .collect()
    }
}

/// A document as the test knows it: its searched texts.
#[derive(Clone)]
struct Known {
    id: DocumentId,
    title: String,
    body: String,
}

impl Known {
    fn holds(&self, words: &str) -> bool {
        let (t, b) = (self.title.to_lowercase(), self.body.to_lowercase());
        words
            .to_lowercase()
            .split_whitespace()
            .all(|w| t.contains(w) || b.contains(w))
    }
}

async fn draft(engine: &Engine, rng: &mut Lcg) -> Known {
    let s = sample();
    let mut fields = s.fields.clone();
    let title_len = 3 + rng.next(8);
    fields.title = rng.text(title_len);
    fields.title = format!("关于{}的通知", fields.title.trim());
    let body_len = 5 + rng.next(30);
    fields.body = rng.text(body_len);
    let id = new_id();
    run(engine, id, s.drafter.clone(), Action::Draft(fields.clone())).await;
    Known {
        id,
        title: fields.title,
        body: fields.body,
    }
}

async fn revise(engine: &Engine, known: &mut Known, rng: &mut Lcg) {
    let s = sample();
    let mut fields = s.fields.clone();
    fields.title = format!("关于{}的函", rng.text(6).trim());
    fields.body = rng.text(12);
    run(
        engine,
        known.id,
        s.drafter.clone(),
        Action::Revise(fields.clone()),
    )
    .await;
    known.title = fields.title;
    known.body = fields.body;
}

/// Every page of a keyword search (pages of 7, so that paging is crossed).
fn search(engine: &Engine, words: &str, newest_first: bool) -> Vec<DocumentId> {
    let mut q = ListQuery {
        text: Some(words.to_owned()),
        flow: Some(StreamKind::Outgoing),
        newest_first,
        page_size: 7,
        ..ListQuery::default()
    };
    let mut ids = Vec::new();
    loop {
        let page = engine.list(&q).unwrap();
        ids.extend(page.states.iter().map(|s| s.id()));
        match page.next_page_token {
            Some(t) => q.page_token = Some(t),
            None => return ids,
        }
    }
}

/// The words searched: pieces of the documents' texts (so that most find something), of
/// one to four characters, alone or two together, some in upper case, and some at random.
fn queries(known: &[Known], rng: &mut Lcg) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..120 {
        let k = &known[rng.next(known.len())];
        let text: Vec<char> = if rng.next(2) == 0 {
            k.title.chars().collect()
        } else {
            k.body.chars().collect()
        };
        let len = 1 + rng.next(4);
        let start = rng.next(text.len().saturating_sub(len).max(1));
        let piece: String = text.iter().skip(start).take(len).collect();
        let piece = piece.split_whitespace().next().unwrap_or("校").to_owned();
        let (short, longer) = (1 + rng.next(2), 1 + rng.next(3));
        out.push(match rng.next(4) {
            0 => piece.to_uppercase(),
            1 => format!("{piece} {}", rng.text(short).trim()),
            2 => rng.text(longer),
            _ => piece,
        });
    }
    out.push("  ".to_owned());
    out
}

/// Every query answers as reading the documents would, in list order and newest first.
fn answers_as_the_documents_say(engine: &Engine, known: &[Known], queries: &[String]) {
    for words in queries {
        let mut expected: Vec<DocumentId> = known
            .iter()
            .filter(|k| k.holds(words))
            .map(|k| k.id)
            .collect();
        assert_eq!(
            search(engine, words, false),
            expected,
            "searching {words:?}"
        );
        expected.reverse();
        assert_eq!(
            search(engine, words, true),
            expected,
            "searching {words:?}, newest first"
        );
    }
}

/// Waits until the index covers the log (a condition, not a guess at how long it takes).
fn indexed(engine: &Engine) -> workflow_store::SearchStatus {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let status = engine.search_status();
        if status.ready && status.indexed_through >= engine.head() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the index does not catch up: {status:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[tokio::test]
async fn a_search_with_the_index_answers_as_reading_every_document() {
    let dir = tempfile::tempdir().unwrap();
    let engine = open(dir.path()).await;
    let mut rng = Lcg(7);
    let mut known = Vec::new();
    for _ in 0..30 {
        known.push(draft(&engine, &mut rng).await);
    }
    let words = queries(&known, &mut rng);
    // Whatever the index has taken so far: the answers are exact.
    answers_as_the_documents_say(&engine, &known, &words);
    let status = indexed(&engine);
    assert!(status.built, "{status:?}");
    assert_eq!(status.documents, 30);
    let before = engine.search_status().searches_by_index;
    answers_as_the_documents_say(&engine, &known, &words);
    assert!(
        engine.search_status().searches_by_index >= before + words.len() as u64,
        "searches used the index: {:?}",
        engine.search_status()
    );
    // Changed and new documents, searched at once: exact, whether or not the index has
    // taken them yet.
    for i in [0, 5, 9] {
        revise(&engine, &mut known[i], &mut rng).await;
    }
    for _ in 0..5 {
        known.push(draft(&engine, &mut rng).await);
    }
    let words = queries(&known, &mut rng);
    answers_as_the_documents_say(&engine, &known, &words);
    // Other filters apply to what was found: 发文 only (every one here), none of 收文.
    let some = &known[3].title;
    let receipts = engine
        .list(&ListQuery {
            text: Some(some.clone()),
            flow: Some(StreamKind::Incoming),
            ..ListQuery::default()
        })
        .unwrap();
    assert!(receipts.states.is_empty());
    indexed(&engine);
    drop(engine);

    // Opened again: taken up where it was, not built again.
    let engine = open(dir.path()).await;
    let status = indexed(&engine);
    assert!(!status.built, "{status:?}");
    assert_eq!(status.documents, 35);
    answers_as_the_documents_say(&engine, &known, &words);
    drop(engine);

    // Damaged: built again, and the answers the same.
    let index = dir.path().join("search");
    for entry in std::fs::read_dir(&index).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            std::fs::write(&path, b"{ not an index").unwrap();
        }
    }
    let engine = open(dir.path()).await;
    let status = indexed(&engine);
    assert!(status.built, "{status:?}");
    assert_eq!(status.documents, 35);
    answers_as_the_documents_say(&engine, &known, &words);
    drop(engine);

    // A segment's file lost (its record readable, its data not): built again too.
    let lost = std::fs::read_dir(&index)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "idx"))
        .inspect(|p| std::fs::remove_file(p).unwrap())
        .count();
    assert!(lost > 0, "a segment's postings were removed");
    let engine = open(dir.path()).await;
    let status = indexed(&engine);
    assert!(status.built, "{status:?}");
    answers_as_the_documents_say(&engine, &known, &words);
}

#[tokio::test]
async fn an_index_of_another_store_is_built_again() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let mut rng = Lcg(11);
    let engine = open(a.path()).await;
    let first = draft(&engine, &mut rng).await;
    indexed(&engine);
    drop(engine);
    let engine = open(b.path()).await;
    let second = draft(&engine, &mut rng).await;
    indexed(&engine);
    drop(engine);
    // b's index copied over a's: its position is not of a's log.
    std::fs::remove_dir_all(a.path().join("search")).unwrap();
    copy_dir(&b.path().join("search"), &a.path().join("search"));
    let engine = open(a.path()).await;
    let status = indexed(&engine);
    assert!(status.built, "{status:?}");
    assert_eq!(search(&engine, &first.title, false), vec![first.id]);
    assert!(search(&engine, &second.title, false).is_empty());
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[tokio::test]
async fn without_a_usable_index_searches_read_the_documents() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    std::fs::write(elsewhere.path().join("notes.txt"), "not an index").unwrap();
    let mut rng = Lcg(3);
    for at in [
        SearchIndex::At(elsewhere.path().to_owned()),
        SearchIndex::Off,
        SearchIndex::InMemory,
    ] {
        let engine = open_with(Config {
            search_index: at.clone(),
            ..Config::new(dir.path())
        })
        .await;
        let known = vec![draft(&engine, &mut rng).await];
        let status = engine.search_status();
        match &at {
            SearchIndex::At(_) => {
                // A directory holding other files is refused, not emptied.
                assert!(status.problem.is_some() && !status.ready, "{status:?}");
                assert!(elsewhere.path().join("notes.txt").is_file());
            }
            SearchIndex::Off => assert_eq!(status.location, None),
            _ => assert_eq!(status.location.as_deref(), Some("memory")),
        }
        assert_eq!(search(&engine, &known[0].title, false), vec![known[0].id]);
        let words = queries(&known, &mut rng);
        let all: Vec<Known> = known.clone();
        answers_as_the_documents_say(&engine, &all, &words);
        drop(engine);
        // The next engine on the same store starts with no documents of the last: a new
        // store for each.
        std::fs::remove_dir_all(dir.path()).unwrap();
    }
}
