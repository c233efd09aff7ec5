//! The engine's metrics, through the `metrics` facade: a program that installs a recorder
//! (the `workflow` server's Prometheus endpoint) sees them; without one they cost a check.
//!
//! | name | type | labels | what |
//! |---|---|---|---|
//! | `workflow_commands_total` | counter | `command`, `outcome` (`ok`, `replayed`, or the error's code in lower case, e.g. `wrong_state`) | commands answered |
//! | `workflow_command_duration_seconds` | histogram | `command` | from `execute` to the answer (durable) |
//! | `workflow_group_commands` | histogram | | requests decided in one group commit |
//! | `workflow_commit_duration_seconds` | histogram | | a group's write and sync (or database commit) |
//! | `workflow_groups_redecided_total` | counter | | groups decided again after another process committed first, or after a command id taken as new was found recorded (a retry) |
//! | `workflow_log_position` | gauge | | the durable log's head |
//! | `workflow_writer_halted` | gauge | | 1 once the writer refuses every write |
//! | `workflow_live_subscribers` | gauge | | live subscriptions |
//! | `workflow_subscriber_batches_total` | counter | `source` (`tail`, `log`) | batches subscribers took from the shared tail or read from the log |
//! | `workflow_sweep_runs_total`, `workflow_sweep_reminders_total` | counter | | deadline sweeps, and the reminders they sent |
//! | `workflow_access_log_entries_total` | counter | | reads of classified documents recorded |
//! | `workflow_search_indexed_position` | gauge | | the log position the keyword index covers (compare with `workflow_log_position`) |
//! | `workflow_search_ready` | gauge | | 1 while keyword searches use the index; 0 while it is built, or after it failed (searches then read the documents) |
//! | `workflow_searches_total` | counter | `by` (`index`, `reading`) | keyword searches, by how they were answered |

use std::time::Duration;

use crate::error::Error;

/// A command's answer.
pub(crate) fn command(name: &'static str, outcome: Result<bool, &Error>, took: Duration) {
    let outcome = match outcome {
        Ok(false) => "ok".to_owned(),
        Ok(true) => "replayed".to_owned(),
        Err(e) => e.reason().to_ascii_lowercase(),
    };
    metrics::counter!("workflow_commands_total", "command" => name, "outcome" => outcome)
        .increment(1);
    metrics::histogram!("workflow_command_duration_seconds", "command" => name)
        .record(took.as_secs_f64());
}

/// A group committed (or refused by the store).
pub(crate) fn group(commands: usize, took: Duration) {
    metrics::histogram!("workflow_group_commands").record(commands as f64);
    metrics::histogram!("workflow_commit_duration_seconds").record(took.as_secs_f64());
}

pub(crate) fn redecided() {
    metrics::counter!("workflow_groups_redecided_total").increment(1);
}

pub(crate) fn head(position: u64, halted: bool) {
    log_position(position);
    writer_halted(halted);
}

/// The durable log's head.
pub(crate) fn log_position(position: u64) {
    metrics::gauge!("workflow_log_position").set(position as f64);
}

pub(crate) fn writer_halted(halted: bool) {
    metrics::gauge!("workflow_writer_halted").set(if halted { 1.0 } else { 0.0 });
}

pub(crate) fn live_subscribers(n: usize) {
    metrics::gauge!("workflow_live_subscribers").set(n as f64);
}

pub(crate) fn subscriber_batch(from_tail: bool) {
    let source = if from_tail { "tail" } else { "log" };
    metrics::counter!("workflow_subscriber_batches_total", "source" => source).increment(1);
}

pub(crate) fn sweep(reminders: usize) {
    metrics::counter!("workflow_sweep_runs_total").increment(1);
    metrics::counter!("workflow_sweep_reminders_total").increment(reminders as u64);
}

pub(crate) fn access_entries(n: usize) {
    metrics::counter!("workflow_access_log_entries_total").increment(n as u64);
}

/// The keyword index's position and whether searches use it.
pub(crate) fn search_index(position: u64, ready: bool) {
    metrics::gauge!("workflow_search_indexed_position").set(position as f64);
    metrics::gauge!("workflow_search_ready").set(if ready { 1.0 } else { 0.0 });
}

pub(crate) fn search(by_index: bool) {
    let by = if by_index { "index" } else { "reading" };
    metrics::counter!("workflow_searches_total", "by" => by).increment(1);
}

/// How far the outbox's derived position is behind the log's head.
pub(crate) fn outbox_lag(channel: &str, events: u64) {
    metrics::gauge!("workflow_outbox_lag_events", "channel" => channel.to_owned())
        .set(events as f64);
}

/// A notification's try: `delivered`, `failed` (to be retried) or `dead`.
pub(crate) fn notification(channel: &str, outcome: &'static str) {
    metrics::counter!("workflow_notifications_total", "channel" => channel.to_owned(), "outcome" => outcome)
        .increment(1);
}

/// Describes the engine's metrics to the installed recorder (their help texts and units).
pub fn describe_metrics() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "workflow_commands_total",
        "Commands answered, by command and outcome"
    );
    describe_histogram!(
        "workflow_command_duration_seconds",
        Unit::Seconds,
        "From a command's arrival to its durable answer"
    );
    describe_histogram!(
        "workflow_group_commands",
        Unit::Count,
        "Requests decided in one group commit"
    );
    describe_histogram!(
        "workflow_commit_duration_seconds",
        Unit::Seconds,
        "A group's write and sync (or database commit)"
    );
    describe_counter!(
        "workflow_groups_redecided_total",
        "Groups decided again after another process committed first (or a command id taken as new was found recorded: a retry)"
    );
    describe_gauge!("workflow_log_position", "The durable log's head position");
    describe_gauge!(
        "workflow_outbox_lag_events",
        "Events of the log a channel of the outbox has not yet settled, by channel"
    );
    describe_counter!(
        "workflow_notifications_total",
        "Notification tries, by channel and outcome (delivered, failed, dead)"
    );
    describe_gauge!(
        "workflow_writer_halted",
        "1 once the writer refuses every write"
    );
    describe_gauge!("workflow_live_subscribers", "Live subscriptions");
    describe_counter!(
        "workflow_subscriber_batches_total",
        "Batches subscribers took from the shared tail or read from the log"
    );
    describe_counter!("workflow_sweep_runs_total", "Deadline sweeps run");
    describe_counter!(
        "workflow_sweep_reminders_total",
        "Reminders the deadline sweep sent"
    );
    describe_counter!(
        "workflow_access_log_entries_total",
        "Reads of classified documents recorded in the access log"
    );
    describe_gauge!(
        "workflow_search_indexed_position",
        "The log position the keyword index covers"
    );
    describe_gauge!(
        "workflow_search_ready",
        "1 while keyword searches use the index"
    );
    describe_counter!(
        "workflow_searches_total",
        "Keyword searches, by how they were answered (index, reading)"
    );
}

/// Where the writer's time goes, summed over the process's life (every engine in it): a
/// profile from counters, cheap enough to leave on. Read it with [`writer_profile`].
#[derive(Debug, Default)]
struct Profile {
    groups: std::sync::atomic::AtomicU64,
    commands: std::sync::atomic::AtomicU64,
    nanos: [std::sync::atomic::AtomicU64; PHASES.len()],
}

/// The writer's phases, in order.
pub const PHASES: [&str; 8] = [
    "read",
    "decide",
    "projections",
    "prepare",
    "transaction",
    "flush",
    "sync",
    "answer",
];

/// A phase of the writer's work on one group.
#[derive(Debug, Clone, Copy)]
// The backends time the phases they have (sled all of them).
#[cfg_attr(not(feature = "sled"), allow(dead_code))]
pub(crate) enum Phase {
    /// A remote store's reads of a group's streams and command ids before deciding (one
    /// round trip; none on sled).
    Read = 0,
    /// Deciding every request (reading state, folding, sealing envelopes).
    Decide = 1,
    /// The projection changes (index diffs) of the touched documents.
    Projections = 2,
    /// The backend serializing records and building its batches.
    Prepare = 3,
    /// The backend's atomic write (sled: the multi-tree transaction; PostgreSQL: the whole
    /// commit, which includes its durability).
    Transaction = 4,
    /// sled's flush of its write buffers.
    Flush = 5,
    /// The sync to stable storage (`fdatasync`).
    Sync = 6,
    /// Publishing to subscribers, the writer's cache, answering callers.
    Answer = 7,
}

static PROFILE: std::sync::LazyLock<Profile> = std::sync::LazyLock::new(Profile::default);

/// Adds time to a phase.
pub(crate) fn spent(phase: Phase, took: Duration) {
    PROFILE.nanos[phase as usize].fetch_add(
        u64::try_from(took.as_nanos()).unwrap_or(u64::MAX),
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// Counts a group and its commands.
pub(crate) fn profiled_group(commands: usize) {
    use std::sync::atomic::Ordering::Relaxed;
    PROFILE.groups.fetch_add(1, Relaxed);
    PROFILE.commands.fetch_add(commands as u64, Relaxed);
}

/// A snapshot of the writer profile: groups, commands, and the time in each of [`PHASES`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriterProfile {
    /// Groups committed.
    pub groups: u64,
    /// Requests in them.
    pub commands: u64,
    /// Time per phase, in the order of [`PHASES`].
    pub phases: [Duration; PHASES.len()],
}

impl WriterProfile {
    /// What happened between `earlier` and this snapshot.
    pub fn since(&self, earlier: &WriterProfile) -> WriterProfile {
        let mut phases = [Duration::ZERO; PHASES.len()];
        for (i, p) in phases.iter_mut().enumerate() {
            *p = self.phases[i].saturating_sub(earlier.phases[i]);
        }
        WriterProfile {
            groups: self.groups - earlier.groups,
            commands: self.commands - earlier.commands,
            phases,
        }
    }
}

/// The process's writer profile so far (all engines in it).
pub fn writer_profile() -> WriterProfile {
    use std::sync::atomic::Ordering::Relaxed;
    let mut phases = [Duration::ZERO; PHASES.len()];
    for (i, p) in phases.iter_mut().enumerate() {
        *p = Duration::from_nanos(PROFILE.nanos[i].load(Relaxed));
    }
    WriterProfile {
        groups: PROFILE.groups.load(Relaxed),
        commands: PROFILE.commands.load(Relaxed),
        phases,
    }
}
