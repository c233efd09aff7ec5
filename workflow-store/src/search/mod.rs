//! Keyword search (查询): an index of what a search matches in each listed document — its
//! 标题, its numbers (发文字号, 收文编号, 来文字号), 来文单位 and 正文 — so that a search does
//! not read every document (DESIGN §13).
//!
//! The index is derived, like a projection, but kept apart from the commit: a thread
//! (`indexer`) follows the log and indexes each changed document's current record, and
//! commits every so often with the log position it covers (and that event's hash). A search
//! is exact all the same: it takes the index's answer as of that position and checks the
//! documents changed since then (read from the log) directly. While the index is being
//! built, or too far behind, or when it cannot be used, a search reads the documents as
//! it always did: slower, never different.
//!
//! Where it lives: beside a sled store (`<data>/search`, kept across restarts), in a
//! directory of one's choosing, in memory (built at every start: the default on PostgreSQL,
//! where each server keeps its own), or nowhere ([`SearchIndex`]).

mod grams;
mod indexer;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};
use tantivy::collector::DocSetCollector;
use tantivy::query::BooleanQuery;
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, ReloadPolicy};
use tokio::sync::watch;
use workflow_core::{DocumentId, FlowState};

use crate::projection::Cursor;
use crate::storage::Storage;

/// The index's layout: a build that indexes differently (other fields, another
/// tokenizer) raises it, and an index of another layout is built again.
const INDEX_LAYOUT: u32 = 1;

/// Words held by more documents than this are found by reading the list's entries (its
/// first page fills at once) rather than by collecting all the index finds.
const COMMON: u64 = 20_000;

/// Where the keyword index lives ([`crate::Config::search_index`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SearchIndex {
    /// With the store: in a sled store's directory (`<data>/search`), kept across restarts;
    /// in memory on a backend without a local directory (PostgreSQL). The default.
    #[default]
    WithStore,
    /// In this directory (created if missing; it must be empty or hold an index).
    At(PathBuf),
    /// In memory, built again at every start.
    InMemory,
    /// None: every keyword search reads the documents it might match.
    Off,
}

/// How the keyword index stands ([`crate::Engine::search_status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchStatus {
    /// Where it is (a directory, `memory`), `None` when there is none.
    pub location: Option<String>,
    /// Whether searches use it (built, and not stopped by a failure).
    pub ready: bool,
    /// The log position it covers (searches check the documents changed since).
    pub indexed_through: u64,
    /// Documents in it.
    pub documents: u64,
    /// Whether it was built at this start (there was none, or one of another layout or
    /// another log), rather than taken up where it was.
    pub built: bool,
    /// Why it is not in use, when it failed.
    pub problem: Option<String>,
    /// Searches answered with it, and by reading the documents.
    pub searches_by_index: u64,
    /// Searches answered by reading the documents.
    pub searches_by_reading: u64,
}

/// The index's fields.
#[derive(Debug, Clone, Copy)]
struct Fields {
    /// The document's id as text (to replace its entry).
    key: Field,
    /// Its drafting position and id (its place in every list).
    position: Field,
    id_high: Field,
    id_low: Field,
    /// Its searched texts' pairs and single characters.
    pairs: Field,
    singles: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |tokenizer: &str, option: IndexRecordOption| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(option),
        )
    };
    let fields = Fields {
        key: b.add_text_field("key", STRING),
        position: b.add_u64_field("position", FAST),
        id_high: b.add_u64_field("id_high", FAST),
        id_low: b.add_u64_field("id_low", FAST),
        pairs: b.add_text_field(
            "pairs",
            text(grams::PAIRS, IndexRecordOption::WithFreqsAndPositions),
        ),
        singles: b.add_text_field("singles", text(grams::SINGLES, IndexRecordOption::Basic)),
    };
    (b.build(), fields)
}

fn register_tokenizers(index: &Index) {
    index
        .tokenizers()
        .register(grams::PAIRS, TextAnalyzer::from(grams::Grams(2)));
    index
        .tokenizers()
        .register(grams::SINGLES, TextAnalyzer::from(grams::Grams(1)));
}

/// What an index commit records: the position it covers, and that event's hash (a store
/// whose log differs there is another store: the index is built again).
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Covered {
    layout: u32,
    position: u64,
    hash: String,
}

/// The texts a keyword search looks in: 标题, the number, and the flow's searched texts
/// (来文单位, 来文字号, 正文, …). The index holds these, and a search without it reads them.
pub(crate) fn searched_texts(s: &FlowState) -> Vec<String> {
    let p = s.particulars();
    [s.title(), p.number.unwrap_or_default().as_str()]
        .into_iter()
        .chain(p.text.iter().copied())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether each word of `words` (split at white space) occurs in one of the state's
/// searched texts, letters in any case: what a search matches, read from the document.
pub(crate) fn has_words(s: &FlowState, words: &str) -> bool {
    // Each text lowercased once (a 正文 may be long), not once per word.
    let texts: Vec<String> = searched_texts(s).iter().map(|t| t.to_lowercase()).collect();
    words
        .to_lowercase()
        .split_whitespace()
        .all(|w| texts.iter().any(|t| t.contains(w)))
}

/// What the index found for a search, as of a log position.
#[derive(Debug)]
pub(crate) struct Found {
    /// The log position the answer is exact for.
    pub(crate) through: u64,
    /// The documents, by their place in the lists.
    pub(crate) cursors: Vec<Cursor>,
}

/// The keyword index of an engine.
pub(crate) struct Search {
    reader: IndexReader,
    fields: Fields,
    location: String,
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// What the index's thread and the searches share.
#[derive(Debug, Default)]
struct Shared {
    /// Searches may use the index (built, and its thread has not failed).
    ready: AtomicBool,
    /// The log position the searchable index covers; set after the reader sees it.
    through: AtomicU64,
    documents: AtomicU64,
    built: AtomicBool,
    stop: AtomicBool,
    problem: RwLock<Option<String>>,
    by_index: AtomicU64,
    by_reading: AtomicU64,
}

impl Drop for Search {
    fn drop(&mut self) {
        self.stop();
    }
}

impl std::fmt::Debug for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Search")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

/// Why the index could not be opened.
fn failed(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

impl Search {
    /// Opens (or creates) the index where `at` says and starts its thread, which builds it
    /// first if it is new, of another layout or of another log. `None` when there is to be
    /// none; an index that cannot be opened is reported (searches then read the documents)
    /// and does not stop the engine.
    pub(crate) fn start(
        at: &SearchIndex,
        storage: Arc<dyn Storage>,
        head: watch::Receiver<u64>,
    ) -> Option<Arc<Search>> {
        crate::telemetry::search_index(0, false);
        let (index, location) = match at {
            SearchIndex::Off => return None,
            SearchIndex::WithStore | SearchIndex::InMemory => {
                let (schema, _) = schema();
                (Ok(Index::create_in_ram(schema)), "memory".to_owned())
            }
            SearchIndex::At(dir) => (open_dir(dir), dir.display().to_string()),
        };
        let started = index.and_then(|index| {
            register_tokenizers(&index);
            let (_, fields) = schema();
            let reader = index
                .reader_builder()
                .reload_policy(ReloadPolicy::Manual)
                .try_into()
                .map_err(|e| failed("opening its reader", e))?;
            let shared = Arc::new(Shared::default());
            let indexer = indexer::Indexer::new(
                &index,
                fields,
                reader.clone(),
                storage,
                head,
                shared.clone(),
            )?;
            let thread = std::thread::Builder::new()
                .name("workflow-search".into())
                .spawn(move || indexer.run())
                .map_err(|e| failed("starting its thread", e))?;
            Ok(Arc::new(Search {
                reader,
                fields,
                location: location.clone(),
                shared,
                thread: Mutex::new(Some(thread)),
            }))
        });
        match started {
            Ok(search) => Some(search),
            Err(problem) => {
                tracing::warn!(
                    index = %location,
                    %problem,
                    "the keyword index cannot be used: searches read the documents instead"
                );
                crate::telemetry::search_index(0, false);
                let shared = Arc::new(Shared::default());
                if let Ok(mut p) = shared.problem.write() {
                    *p = Some(problem);
                }
                let (schema, fields) = schema();
                let index = Index::create_in_ram(schema);
                let reader = index.reader().ok()?;
                Some(Arc::new(Search {
                    reader,
                    fields,
                    location,
                    shared,
                    thread: Mutex::new(None),
                }))
            }
        }
    }

    /// The documents holding every word (lowercased, split at white space) as of the
    /// position returned; `None` when the index is not in use (not built yet, failed) or
    /// cannot answer.
    pub(crate) fn find(&self, words: &[String]) -> Option<Found> {
        if !self.shared.ready.load(Ordering::Acquire) {
            return None;
        }
        // The position first, then the view: a view at least as new as the position (the
        // thread moves the position after the view), so the changes read since cover it.
        let through = self.shared.through.load(Ordering::Acquire);
        let searcher = self.reader.searcher();
        let terms: Vec<Vec<tantivy::Term>> = words
            .iter()
            .map(|w| grams::word_terms(self.fields.pairs, self.fields.singles, w))
            .collect();
        // The documents holding a word's rarest pair bound what it finds: when every word is
        // that common, a list's page fills within its first entries, and reading those is
        // quicker than collecting every one found.
        let bound = terms
            .iter()
            .map(|t| {
                t.iter()
                    .map(|t| searcher.doc_freq(t).unwrap_or(u64::MAX))
                    .min()
                    .unwrap_or(0)
            })
            .min()
            .unwrap_or(0);
        if bound > COMMON {
            return None;
        }
        let queries: Vec<_> = terms.into_iter().filter_map(grams::word_query).collect();
        if queries.is_empty() {
            return None;
        }
        let hits = match searcher.search(&BooleanQuery::intersection(queries), &DocSetCollector) {
            Ok(hits) => hits,
            Err(e) => {
                tracing::warn!(error = %e, "a keyword search failed in the index: reading the documents");
                return None;
            }
        };
        let mut by_segment: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for hit in hits {
            by_segment
                .entry(hit.segment_ord)
                .or_default()
                .push(hit.doc_id);
        }
        let mut cursors = Vec::new();
        for (segment, docs) in by_segment {
            let fast = searcher.segment_reader(segment).fast_fields();
            let (Ok(position), Ok(high), Ok(low)) = (
                fast.u64("position"),
                fast.u64("id_high"),
                fast.u64("id_low"),
            ) else {
                return None;
            };
            for doc in docs {
                if let (Some(p), Some(h), Some(l)) =
                    (position.first(doc), high.first(doc), low.first(doc))
                {
                    cursors.push(Cursor {
                        drafted_position: p,
                        id: DocumentId(uuid::Uuid::from_u64_pair(h, l)),
                    });
                }
            }
        }
        cursors.sort_unstable();
        Some(Found { through, cursors })
    }

    /// Counts a search by how it was answered.
    pub(crate) fn counted(&self, by_index: bool) {
        let counter = if by_index {
            &self.shared.by_index
        } else {
            &self.shared.by_reading
        };
        counter.fetch_add(1, Ordering::Relaxed);
        crate::telemetry::search(by_index);
    }

    pub(crate) fn status(&self) -> SearchStatus {
        let problem = self.shared.problem.read().ok().and_then(|p| p.clone());
        SearchStatus {
            location: Some(self.location.clone()),
            ready: self.shared.ready.load(Ordering::Acquire),
            indexed_through: self.shared.through.load(Ordering::Acquire),
            documents: self.shared.documents.load(Ordering::Relaxed),
            built: self.shared.built.load(Ordering::Relaxed),
            problem,
            searches_by_index: self.shared.by_index.load(Ordering::Relaxed),
            searches_by_reading: self.shared.by_reading.load(Ordering::Relaxed),
        }
    }

    /// Stops the thread (what it has not committed is indexed again at the next start).
    pub(crate) fn stop(&self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Ok(mut t) = self.thread.lock()
            && let Some(handle) = t.take()
        {
            // A thread that panicked leaves no index to trust.
            if handle.join().is_err() {
                self.shared.ready.store(false, Ordering::Release);
            }
        }
    }
}

/// The file that marks a directory as the engine's keyword index (and so its to empty).
const MARKER: &str = "workflow-search-index";

/// Opens the index in `dir`, creating it in an empty or missing directory, and creating it
/// anew over an index of another layout or one that cannot be read (its files then
/// removed). A directory holding anything else — no marker of ours — is refused, not
/// emptied.
fn open_dir(dir: &std::path::Path) -> Result<Index, String> {
    std::fs::create_dir_all(dir).map_err(|e| failed("creating its directory", e))?;
    let (schema, _) = schema();
    let ours = dir.join(MARKER).is_file();
    let empty = std::fs::read_dir(dir)
        .map_err(|e| failed("reading its directory", e))?
        .next()
        .is_none();
    if !ours && !empty {
        return Err(format!(
            "{} holds other files than a keyword index (no {MARKER} file); give an empty directory",
            dir.display()
        ));
    }
    if ours {
        match Index::open_in_dir(dir) {
            // Opened, of this layout, and its segments readable.
            Ok(index) if index.schema() == schema && index.reader().is_ok() => return Ok(index),
            Ok(_) => {
                tracing::info!(index = %dir.display(), "the keyword index is of another layout or cannot be read: building it again")
            }
            Err(e) => {
                tracing::warn!(index = %dir.display(), error = %e, "the keyword index cannot be read: building it again")
            }
        }
        std::fs::remove_dir_all(dir).map_err(|e| failed("removing the old index", e))?;
        std::fs::create_dir_all(dir).map_err(|e| failed("creating its directory", e))?;
    }
    std::fs::write(
        dir.join(MARKER),
        "The workflow engine's keyword index (查询): derived from the log, built again when removed.\n",
    )
    .map_err(|e| failed("marking its directory", e))?;
    Index::create_in_dir(dir, schema).map_err(|e| failed("creating it", e))
}

/// The documents changed since `through`, read from the log: `None` when more than
/// `limit` events came since (the index is too far behind to be worth it).
pub(crate) fn changed_since(
    storage: &dyn Storage,
    through: u64,
    limit: usize,
) -> crate::Result<Option<HashSet<DocumentId>>> {
    let mut changed = HashSet::new();
    let mut from = through + 1;
    let mut read = 0;
    loop {
        let batch = storage.read_log(from, 512)?;
        let Some(last) = batch.last() else {
            return Ok(Some(changed));
        };
        from = last.position + 1;
        read += batch.len();
        if read > limit {
            return Ok(None);
        }
        for e in &batch {
            changed.insert(indexer::stream_of(e)?.stream_id);
        }
    }
}
