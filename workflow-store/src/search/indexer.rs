//! The index's thread: builds the index from the stored documents when it has none of this
//! log, then follows the log, indexing each changed document's current record, and commits
//! with the position covered — when it has caught up (at most every tenth of a second) or a
//! second after the first change it holds, whichever comes first.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tantivy::indexer::IndexWriterOptions;
use tantivy::{Index, IndexReader, IndexWriter, TantivyDocument, Term};
use tokio::sync::watch;
use workflow_core::DocumentId;

use super::{Covered, Fields, INDEX_LAYOUT, Shared, failed, searched_texts};
use crate::envelope::GENESIS_HASH;
use crate::projection::{Dim, DocRecord};
use crate::storage::{Storage, StoredEvent};

/// Events read from the log at once.
const BATCH: usize = 1000;
/// The least time between two commits while changes keep coming.
const COMMIT_EVERY: Duration = Duration::from_millis(100);
/// The most time a change waits in the thread before it is committed.
const COMMIT_WITHIN: Duration = Duration::from_secs(1);
/// How often an idle thread looks whether the head moved.
const POLL: Duration = Duration::from_millis(25);

/// What the index needs of a stored event.
#[derive(Debug, Deserialize)]
pub(crate) struct StreamOf {
    pub(crate) stream_id: DocumentId,
    pub(crate) hash: String,
}

/// The stream a stored event belongs to, and its hash.
pub(crate) fn stream_of(e: &StoredEvent) -> crate::Result<StreamOf> {
    serde_json::from_slice(&e.bytes)
        .map_err(|err| crate::Error::corrupt(format_args!("position {}", e.position), err))
}

pub(super) struct Indexer {
    writer: IndexWriter,
    fields: Fields,
    reader: IndexReader,
    storage: Arc<dyn Storage>,
    head: watch::Receiver<u64>,
    shared: Arc<Shared>,
    /// The position the index's last commit covers, if it is of this log and layout.
    resume: Option<u64>,
}

impl Indexer {
    pub(super) fn new(
        index: &Index,
        fields: Fields,
        reader: IndexReader,
        storage: Arc<dyn Storage>,
        head: watch::Receiver<u64>,
        shared: Arc<Shared>,
    ) -> Result<Indexer, String> {
        let writer = index
            .writer_with_options(
                IndexWriterOptions::builder()
                    .num_worker_threads(1)
                    .num_merge_threads(1)
                    .memory_budget_per_thread(32_000_000)
                    .build(),
            )
            .map_err(|e| failed("opening its writer (is another process using it?)", e))?;
        let resume = index
            .load_metas()
            .ok()
            .and_then(|m| m.payload)
            .and_then(|p| serde_json::from_str::<Covered>(&p).ok())
            .filter(|c| c.layout == INDEX_LAYOUT && of_this_log(&*storage, c))
            .map(|c| c.position);
        Ok(Indexer {
            writer,
            fields,
            reader,
            storage,
            head,
            shared,
            resume,
        })
    }

    pub(super) fn run(mut self) {
        if let Err(problem) = self.work() {
            tracing::warn!(%problem, "the keyword index stopped: searches read the documents instead");
            self.shared.ready.store(false, Ordering::Release);
            crate::telemetry::search_index(self.shared.through.load(Ordering::Acquire), false);
            if let Ok(mut p) = self.shared.problem.write() {
                *p = Some(problem);
            }
        }
        // Merges under way finish before the directory is let go (an engine opened again
        // at once takes it over).
        let _ = self.writer.wait_merging_threads();
    }

    fn stopping(&self) -> bool {
        self.shared.stop.load(Ordering::Acquire)
    }

    fn work(&mut self) -> Result<(), String> {
        let through = match self.resume {
            Some(p) => {
                self.shared.through.store(p, Ordering::Release);
                self.shared
                    .documents
                    .store(self.reader.searcher().num_docs(), Ordering::Relaxed);
                p
            }
            None => match self.build()? {
                Some(p) => p,
                None => return Ok(()),
            },
        };
        self.shared.ready.store(true, Ordering::Release);
        crate::telemetry::search_index(through, true);
        let mut read_through = through;
        let mut last_hash = String::new();
        let mut pending: Option<Instant> = None;
        let mut last_commit = Instant::now();
        let mut look = true;
        while !self.stopping() {
            let mut caught_up = true;
            if look || *self.head.borrow() > read_through {
                look = false;
                let batch = self
                    .storage
                    .read_log(read_through + 1, BATCH)
                    .map_err(|e| failed("reading the log", e))?;
                caught_up = batch.len() < BATCH;
                if let Some(last) = batch.last() {
                    let mut ids = HashSet::new();
                    for e in &batch {
                        let s = stream_of(e).map_err(|e| failed("reading the log", e))?;
                        ids.insert(s.stream_id);
                        last_hash = s.hash;
                    }
                    read_through = last.position;
                    self.index(ids.into_iter().collect())?;
                    pending.get_or_insert_with(Instant::now);
                }
            }
            if let Some(since) = pending
                && ((caught_up && last_commit.elapsed() >= COMMIT_EVERY)
                    || since.elapsed() >= COMMIT_WITHIN)
            {
                self.commit(read_through, &last_hash)?;
                pending = None;
                last_commit = Instant::now();
            }
            if caught_up {
                std::thread::sleep(POLL);
            }
        }
        Ok(())
    }

    /// Builds the index from the stored documents: `None` if stopped before the end.
    fn build(&mut self) -> Result<Option<u64>, String> {
        let started = Instant::now();
        self.writer
            .delete_all_documents()
            .map_err(|e| failed("emptying it", e))?;
        // The log's end before the documents: what changes while they are read is indexed
        // again from the log after it.
        let end = self
            .storage
            .log_end()
            .map_err(|e| failed("reading the log's end", e))?;
        let (position, hash) = end.map_or((0, GENESIS_HASH.to_owned()), |h| (h.position, h.hash));
        let mut after = None;
        loop {
            if self.stopping() {
                return Ok(None);
            }
            let cursors = self
                .storage
                .scan_list(&Dim::All, after, 500)
                .map_err(|e| failed("listing the documents", e))?;
            let ids: Vec<DocumentId> = cursors.iter().map(|c| c.id).collect();
            for record in self
                .storage
                .docs(&ids)
                .map_err(|e| failed("reading the documents", e))?
            {
                self.put(&record)?;
            }
            match cursors.last() {
                Some(last) if cursors.len() == 500 => after = Some(*last),
                _ => break,
            }
        }
        self.commit(position, &hash)?;
        self.shared.built.store(true, Ordering::Relaxed);
        tracing::info!(
            documents = self.shared.documents.load(Ordering::Relaxed),
            seconds = started.elapsed().as_secs_f64(),
            "keyword index built"
        );
        Ok(Some(position))
    }

    /// Indexes the current records of these documents (removing those no longer listed).
    fn index(&mut self, ids: Vec<DocumentId>) -> Result<(), String> {
        for id in &ids {
            self.writer.delete_term(self.key(*id));
        }
        for record in self
            .storage
            .docs(&ids)
            .map_err(|e| failed("reading the documents", e))?
        {
            self.put(&record)?;
        }
        Ok(())
    }

    fn key(&self, id: DocumentId) -> Term {
        Term::from_field_text(self.fields.key, &id.0.to_string())
    }

    /// Adds a listed record's entry (after its old one was deleted).
    fn put(&mut self, record: &DocRecord) -> Result<(), String> {
        if record.state.listing().is_none() {
            return Ok(());
        }
        let id = record.state.id();
        let (high, low) = id.0.as_u64_pair();
        let mut doc = TantivyDocument::default();
        doc.add_text(self.fields.key, id.0.to_string());
        doc.add_u64(self.fields.position, record.drafted_position);
        doc.add_u64(self.fields.id_high, high);
        doc.add_u64(self.fields.id_low, low);
        for text in searched_texts(&record.state) {
            doc.add_text(self.fields.pairs, &text);
            doc.add_text(self.fields.singles, &text);
        }
        self.writer
            .add_document(doc)
            .map_err(|e| failed("adding a document", e))?;
        Ok(())
    }

    /// Commits what was indexed as covering the log through `position`, and lets searches
    /// see it.
    fn commit(&mut self, position: u64, hash: &str) -> Result<(), String> {
        let covered = serde_json::to_string(&Covered {
            layout: INDEX_LAYOUT,
            position,
            hash: hash.to_owned(),
        })
        .map_err(|e| failed("recording its position", e))?;
        let mut prepared = self
            .writer
            .prepare_commit()
            .map_err(|e| failed("committing", e))?;
        prepared.set_payload(&covered);
        prepared.commit().map_err(|e| failed("committing", e))?;
        self.reader
            .reload()
            .map_err(|e| failed("reloading its reader", e))?;
        self.shared
            .documents
            .store(self.reader.searcher().num_docs(), Ordering::Relaxed);
        // After the reader: a search that reads this position sees at least this view.
        self.shared.through.store(position, Ordering::Release);
        crate::telemetry::search_index(position, self.shared.ready.load(Ordering::Acquire));
        Ok(())
    }
}

/// Whether an index's recorded position is of this log (the event there has its hash).
fn of_this_log(storage: &dyn Storage, covered: &Covered) -> bool {
    if covered.position == 0 {
        return crate::envelope::ChainDigest::is_genesis(&covered.hash);
    }
    let Ok(events) = storage.read_log(covered.position, 1) else {
        return false;
    };
    events
        .first()
        .filter(|e| e.position == covered.position)
        .and_then(|e| stream_of(e).ok())
        .is_some_and(|s| s.hash == covered.hash)
}
