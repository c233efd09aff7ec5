//! Storage failures a test can inject into the engine of one data directory, at each step of
//! a commit: before anything is written (as a database that cannot be reached), after sled
//! applied the group's transaction in memory (as a full disk fails it), at the flush and at
//! the sync after it; reads that fail as a full disk makes them fail; and commits held back
//! so that requests queue behind one in flight. Compiled
//! into unit tests and, for other crates' tests, with the `fault-injection` feature; never
//! in a normal build.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use crate::error::Error;

/// A gate that group commits (or syncs) wait at while it is held.
#[derive(Debug, Default)]
struct Gate {
    held: Mutex<bool>,
    released: Condvar,
    /// How many wait at it now.
    waiting: std::sync::atomic::AtomicUsize,
}

impl Gate {
    fn set(&self, held: bool) {
        *self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = held;
        if !held {
            self.released.notify_all();
        }
    }

    /// Waits while held — at most 30 s, so that a test that fails while holding does not
    /// hang forever on the engine's shutdown.
    fn wait(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut held = self
            .held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !*held {
            return;
        }
        self.waiting.fetch_add(1, Ordering::SeqCst);
        while *held {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            held = self
                .released
                .wait_timeout(held, left)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .0;
        }
        self.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The injectable failures of one data directory (shared by every open of it).
#[derive(Debug)]
pub struct Faults {
    /// Commits still to succeed before one fails; -1: none fails.
    commit_fails_in: AtomicI64,
    /// Transactions still to succeed before one fails after it was applied; -1: none.
    transaction_fails_in: AtomicI64,
    /// Flushes (after a written group) still to succeed before one fails; -1: none fails.
    flush_fails_in: AtomicI64,
    /// Syncs (after a successful flush) still to succeed before one fails; -1: none fails.
    sync_fails_in: AtomicI64,
    /// While set, reads of state and command records fail with an I/O error ("No space
    /// left on device"), as sled's reads do once a background flush hit a full disk.
    pub fail_reads: AtomicBool,
    /// While set, every flush fails as on a full disk: of written groups, and the flush at
    /// a clean stop.
    pub fail_flushes: AtomicBool,
    commits: Gate,
    syncs: Gate,
    /// Groups written so far (before their sync).
    written: std::sync::atomic::AtomicUsize,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            commit_fails_in: AtomicI64::new(-1),
            transaction_fails_in: AtomicI64::new(-1),
            flush_fails_in: AtomicI64::new(-1),
            sync_fails_in: AtomicI64::new(-1),
            fail_reads: AtomicBool::new(false),
            fail_flushes: AtomicBool::new(false),
            commits: Gate::default(),
            syncs: Gate::default(),
            written: std::sync::atomic::AtomicUsize::new(0),
        }
    }
}

impl Faults {
    /// After `after` more group commits succeed, the next one fails before writing
    /// anything (as a database that cannot be reached refuses it: the backend knows that
    /// nothing was written).
    pub fn fail_commit(&self, after: u32) {
        self.commit_fails_in
            .store(i64::from(after), Ordering::SeqCst);
    }

    /// After `after` more group transactions succeed, the next one fails after sled applied
    /// it to its trees in memory, as a full disk fails a transaction: the group is then
    /// readable in the backend but maybe not on disk.
    pub fn fail_transaction(&self, after: u32) {
        self.transaction_fails_in
            .store(i64::from(after), Ordering::SeqCst);
    }

    /// After `after` more syncs succeed, the next one fails after its flush (at the
    /// `fdatasync` that makes the flushed files durable).
    pub fn fail_sync(&self, after: u32) {
        self.sync_fails_in.store(i64::from(after), Ordering::SeqCst);
    }

    /// After `after` more flushes (syncs of what was written) succeed, the next one fails
    /// (whether the groups it covers reached the disk is then unknown).
    pub fn fail_flush(&self, after: u32) {
        self.flush_fails_in
            .store(i64::from(after), Ordering::SeqCst);
    }

    /// From now on, each group commit waits at its start until [`Faults::release_commits`]:
    /// requests sent meanwhile queue behind the group in flight.
    pub fn hold_commits(&self) {
        self.commits.set(true);
    }

    /// Lets held commits go on.
    pub fn release_commits(&self) {
        self.commits.set(false);
    }

    /// How many commits are waiting because commits are held (a test waits for its group
    /// to be in flight before queueing more requests behind it).
    pub fn held_commits(&self) -> usize {
        self.commits.waiting.load(Ordering::SeqCst)
    }

    /// From now on, each sync of written groups waits at its start (before the injected
    /// flush failure is counted) until [`Faults::release_syncs`]: groups written meanwhile
    /// wait for a later sync.
    pub fn hold_syncs(&self) {
        self.syncs.set(true);
    }

    /// Lets held syncs go on.
    pub fn release_syncs(&self) {
        self.syncs.set(false);
    }

    /// How many syncs are waiting because syncs are held.
    pub fn held_syncs(&self) -> usize {
        self.syncs.waiting.load(Ordering::SeqCst)
    }

    /// How many groups were written (atomically, before any sync) so far.
    pub fn groups_written(&self) -> usize {
        self.written.load(Ordering::SeqCst)
    }

    pub(crate) fn wait_if_held(&self) {
        self.commits.wait();
    }

    pub(crate) fn wait_if_syncs_held(&self) {
        self.syncs.wait();
    }

    pub(crate) fn wrote(&self) {
        self.written.fetch_add(1, Ordering::SeqCst);
    }

    /// The injected error if this commit is the one to fail.
    pub(crate) fn commit(&self) -> Option<Error> {
        fires(&self.commit_fails_in).then(disk_full)
    }

    /// The injected error if this applied transaction is the one to fail.
    pub(crate) fn transaction(&self) -> Option<Error> {
        fires(&self.transaction_fails_in).then(disk_full)
    }

    /// The injected error if this sync is the one to fail.
    pub(crate) fn sync(&self) -> Option<Error> {
        fires(&self.sync_fails_in).then(disk_full)
    }

    /// The injected error if this flush is the one to fail (or every flush fails).
    pub(crate) fn flush(&self) -> Option<Error> {
        (fires(&self.flush_fails_in) || self.fail_flushes.load(Ordering::SeqCst)).then(disk_full)
    }

    /// The injected error of a flush outside groups (at a stop) while every flush fails.
    pub(crate) fn other_flush(&self) -> Option<Error> {
        self.fail_flushes.load(Ordering::SeqCst).then(disk_full)
    }

    /// The injected read error while `fail_reads` is set.
    pub(crate) fn read(&self) -> Result<(), Error> {
        if self.fail_reads.load(Ordering::SeqCst) {
            return Err(disk_full());
        }
        Ok(())
    }
}

/// Counts a countdown down; `true` for the one that reaches zero (which then turns it off).
fn fires(countdown: &AtomicI64) -> bool {
    let mut v = countdown.load(Ordering::SeqCst);
    while v >= 0 {
        match countdown.compare_exchange(v, v - 1, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => return v == 0,
            Err(now) => v = now,
        }
    }
    false
}

fn disk_full() -> Error {
    Error::Unavailable {
        reason: "injected failure: No space left on device (os error 28)".into(),
    }
}

/// The injectable failures of the storage opened on `path` (shared by every open of it).
pub fn faults_for(path: &Path) -> Arc<Faults> {
    static ALL: OnceLock<Mutex<HashMap<PathBuf, Arc<Faults>>>> = OnceLock::new();
    let mut all = ALL
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    all.entry(path.to_owned()).or_default().clone()
}
