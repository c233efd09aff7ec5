//! The one place tests take time from. No test may depend on the day it runs: every test
//! of the library, the gRPC service and the console runs on a clock pinned to
//! [`start_of_term`] (2026-11-02 09:00 China time), either stepping a minute per reading
//! ([`stepping_clock`]) or running in real time from there ([`now`], [`running_clock`]) for
//! servers whose tests wait on real time.
//!
//! Tests of the `workflow` binary itself are the one exception: the binary runs on the
//! system clock (there is deliberately no setting that lets a server stamp official records
//! with another time), so those tests read the same clock through [`wall_now`] and choose
//! every date relative to it, never a fixed one. The suite is run under `faketime` at a
//! new year and on a 29 February to show that none of it depends on the date.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use chrono::{NaiveDate, TimeZone, Utc};
use workflow_core::Timestamp;
use workflow_store::Clock;

/// 2026-11-02 09:00 CST, where the kit's clocks start.
pub fn start_of_term() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0)
        .single()
        .unwrap_or_default()
}

/// A clock that starts at [`start_of_term`] and moves one minute per reading.
pub fn stepping_clock() -> Clock {
    let base = start_of_term();
    let minutes = Arc::new(AtomicI64::new(0));
    Arc::new(move || base + chrono::Duration::minutes(minutes.fetch_add(1, Ordering::SeqCst)))
}

/// [`start_of_term`] plus the real time since this test process first read the clock: a
/// pinned date that still moves as a real clock does (timeouts, waits and orderings behave).
pub fn now() -> Timestamp {
    static STARTED: OnceLock<Instant> = OnceLock::new();
    let elapsed = STARTED.get_or_init(Instant::now).elapsed();
    start_of_term() + chrono::Duration::from_std(elapsed).unwrap_or_default()
}

/// [`now`] as an engine's or a server's clock.
pub fn running_clock() -> Clock {
    Arc::new(now)
}

/// The day of [`now`] in China (the day the kit's documents are dated and issued).
pub fn today() -> NaiveDate {
    workflow_core::ids::china_date(now())
}

/// The system clock, for tests of the `workflow` binary only (it runs on the system clock);
/// every other test reads [`now`].
pub fn wall_now() -> Timestamp {
    Utc::now()
}

/// A UTC instant, on the hour.
pub fn at(y: i32, m: u32, d: u32, h: u32) -> Timestamp {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .unwrap_or_else(|| panic!("{y}-{m}-{d} {h}:00 is not an instant"))
}
