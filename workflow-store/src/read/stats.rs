//! Counts for operators: by state, unit, kind and year; log size and last position.

use std::collections::BTreeMap;

use crate::engine::Engine;
use crate::error::Result;
use crate::projection::Dim;

/// Counts for operators.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stats {
    /// The last position in the log (= number of events).
    pub last_position: u64,
    /// Documents stored.
    pub documents: u64,
    /// Documents per state.
    pub by_state: BTreeMap<String, u64>,
    /// Documents per unit (a document counts for each of its units).
    pub by_unit: BTreeMap<String, u64>,
    /// Documents per kind.
    pub by_kind: BTreeMap<String, u64>,
    /// Documents per listing year.
    pub by_year: BTreeMap<String, u64>,
    /// Documents per flow (`outgoing`, `incoming`, `supervision`).
    pub by_flow: BTreeMap<String, u64>,
    /// Bytes on disk.
    pub size_on_disk: u64,
}

impl Engine {
    /// Counts by flow, state, unit, kind and year; log size and last position.
    pub fn stats(&self) -> Result<Stats> {
        let mut s = Stats {
            last_position: self.head(),
            size_on_disk: self.size_on_disk()?,
            ..Stats::default()
        };
        for (dim, n) in self.inner.storage.count_lists()? {
            match dim {
                Dim::All => s.documents = n,
                Dim::State(state) => {
                    s.by_state.insert(state, n);
                }
                Dim::Unit(u) => {
                    s.by_unit.insert(u.0, n);
                }
                Dim::Kind(k) => {
                    s.by_kind.insert(format!("{k:?}"), n);
                }
                Dim::Year(y) => {
                    s.by_year.insert(format!("{y:04}"), n);
                }
                Dim::Flow(f) => {
                    s.by_flow.insert(f.as_str().to_owned(), n);
                }
                // Per-person lists (已办, 我发起的) are the console's, not the store's counts.
                Dim::StartedBy(_) | Dim::ActedBy(_) => {}
            }
        }
        Ok(s)
    }
}
