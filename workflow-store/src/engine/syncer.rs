//! The syncer: where a backend can split a commit (sled), the writer writes each group
//! and goes on deciding the next while this thread makes what was written durable, then
//! moves the head, publishes to live subscribers and answers — in the order the groups
//! were written, each only after a sync that covers it.

use std::collections::HashSet;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::watch;
use workflow_core::DocumentId;

use super::Outcome;
use super::halt::Halt;
use crate::error::Result;
use crate::read::tail::{Tail, TailEvent};
use crate::storage::{CommitError, Storage};

type Reply = tokio::sync::oneshot::Sender<Result<Outcome>>;

/// One group's answers, and what becomes visible once it is durable.
pub(super) struct Written {
    pub(super) replies: Vec<Reply>,
    pub(super) answers: Vec<Result<Outcome>>,
    /// Whether the group wrote anything (else its answers only wait for earlier groups).
    pub(super) wrote: bool,
    /// The log's head after it.
    pub(super) head: u64,
    /// Its events for the shared tail.
    pub(super) published: Vec<TailEvent>,
    /// The documents it changed (uncertain if its sync fails).
    pub(super) docs: Vec<DocumentId>,
    /// Sync whatever the configured durability (a directory change).
    pub(super) always: bool,
    /// The changed documents' classifications, in force once durable.
    pub(super) classifications: Vec<(
        DocumentId,
        workflow_core::directory::Classification,
        workflow_core::directory::Classification,
    )>,
}

/// What the writer hands the syncer.
pub(super) enum ToSyncer {
    Written(Written),
    /// Answered once everything handed over before is durable.
    Barrier(std_mpsc::SyncSender<()>),
}

pub(super) struct Syncer {
    pub(super) storage: Arc<dyn Storage>,
    pub(super) head_tx: Arc<watch::Sender<u64>>,
    pub(super) tail: Arc<RwLock<Tail>>,
    pub(super) uncertain: Arc<RwLock<HashSet<DocumentId>>>,
    /// Set when a sync failed: the writer stops writing.
    pub(super) failed: Arc<Mutex<Option<String>>>,
    pub(super) halted_flag: Arc<std::sync::atomic::AtomicBool>,
    pub(super) classifications: Arc<RwLock<crate::read::tail::Classifications>>,
}

impl Syncer {
    pub(super) fn run(self, rx: std_mpsc::Receiver<ToSyncer>) {
        while let Ok(first) = rx.recv() {
            let mut batch = Vec::new();
            let mut barriers = Vec::new();
            let mut next = Some(first);
            while let Some(msg) = next.take() {
                match msg {
                    ToSyncer::Written(w) => batch.push(w),
                    ToSyncer::Barrier(b) => barriers.push(b),
                }
                next = rx.try_recv().ok();
            }
            self.settle(batch);
            for b in barriers {
                let _ = b.send(());
            }
        }
    }

    /// One sync for every group in `batch`, then their answers, in order.
    fn settle(&self, batch: Vec<Written>) {
        if batch.is_empty() {
            return;
        }
        let earlier = self.failed.lock().ok().and_then(|f| f.clone());
        let synced = match earlier {
            // Every group after one whose sync failed may build on it: none is durable.
            Some(reason) => Err(reason),
            None if batch.iter().any(|w| w.wrote) => {
                let always = batch.iter().any(|w| w.always);
                self.storage
                    .sync_written(always)
                    .map_err(CommitError::reason)
            }
            None => Ok(()),
        };
        match synced {
            Ok(()) => {
                for w in batch {
                    if !w.classifications.is_empty()
                        && let Ok(mut c) = self.classifications.write()
                    {
                        for (id, now, in_group) in w.classifications {
                            c.set(id, now, in_group);
                        }
                    }
                    if !w.published.is_empty()
                        && let Ok(mut tail) = self.tail.write()
                    {
                        tail.publish(w.published);
                    }
                    self.head_tx.send_if_modified(|h| {
                        let moved = w.head > *h;
                        if moved {
                            *h = w.head;
                        }
                        moved
                    });
                    crate::telemetry::log_position(*self.head_tx.borrow());
                    for (reply, answer) in w.replies.into_iter().zip(w.answers) {
                        let _ = reply.send(answer);
                    }
                }
            }
            Err(reason) => {
                tracing::error!(%reason, "a sync failed after groups were written; the engine stops writing until restarted");
                if let Ok(mut f) = self.failed.lock()
                    && f.is_none()
                {
                    *f = Some(reason.clone());
                }
                self.halted_flag
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                crate::telemetry::writer_halted(true);
                let halt = Halt::StorageFailed(reason);
                if let Ok(mut uncertain) = self.uncertain.write() {
                    uncertain.extend(batch.iter().flat_map(|w| w.docs.iter().copied()));
                }
                // Whatever was decided here (refusals too) may rest on what was not made
                // durable: nothing of it is confirmed.
                for w in batch {
                    for reply in w.replies {
                        let _ = reply.send(Err(halt.error()));
                    }
                }
            }
        }
    }
}
