//! The 月通报 of supervision items, from the log: each item's events before the month's end,
//! and the directory's names as they were then (DESIGN §3b).

use workflow_core::supervision::bulletin::{self, Bulletin, BulletinNames, Month};
use workflow_core::{Classification, DIRECTORY_STREAM, Recorded, StreamKind, SupervisionEvent};

use crate::engine::{AsOf, Engine};
use crate::error::{Error, Result};
use crate::projection::Dim;

/// Items read per batch of the list index.
const BATCH: usize = 1024;

impl Engine {
    /// The 月通报 of `month` over the items classified up to `max` (all when `None`): a pure
    /// function of the log as of the month's end (China time), so the same whenever it is
    /// produced. A month that has not begun is refused; the current month gives its figures
    /// so far.
    pub fn bulletin(&self, month: Month, max: Option<Classification>) -> Result<Bulletin> {
        let now = (self.inner.clock)();
        if month.start() > now {
            return Err(Error::InvalidRequest {
                field: "month",
                reason: format!("{month} has not begun"),
            });
        }
        let end = month.end();
        let mut histories: Vec<Vec<Recorded<SupervisionEvent>>> = Vec::new();
        let mut after = None;
        loop {
            let batch =
                self.inner
                    .storage
                    .scan_list(&Dim::Flow(StreamKind::Supervision), after, BATCH)?;
            let exhausted = batch.len() < BATCH;
            for c in batch {
                after = Some(c);
                let mut events = Vec::new();
                for e in self.history(c.id)? {
                    if e.recorded_at >= end {
                        continue;
                    }
                    let r = e.event().map_err(|err| Error::corrupt(e.position, err))?;
                    if let Some(r) = r.filter_map(|d| match d {
                        workflow_core::FlowEvent::Supervision(s) => Some(s),
                        _ => None,
                    }) {
                        events.push(r);
                    }
                }
                let classification = events.first().and_then(|e| match &e.data {
                    SupervisionEvent::ItemOpened { spec, .. } => Some(spec.classification),
                    _ => None,
                });
                if max.is_none_or(|m| classification.is_some_and(|c| c <= m)) {
                    histories.push(events);
                }
            }
            if exhausted {
                break;
            }
        }
        let names = self.names_as_of(end)?;
        Ok(bulletin::monthly(
            month,
            histories.iter().map(Vec::as_slice),
            &names,
        ))
    }

    /// Units' and actors' names as the directory had them just before `end`.
    fn names_as_of(&self, end: workflow_core::Timestamp) -> Result<BulletinNames> {
        let before = end - chrono::Duration::nanoseconds(1);
        let dir = match self.state_as_of(DIRECTORY_STREAM, AsOf::Instant(before)) {
            Ok(s) => s,
            Err(Error::NotFound(_)) => return Ok(BulletinNames::default()),
            Err(e) => return Err(e),
        };
        let Some(d) = dir.directory() else {
            return Ok(BulletinNames::default());
        };
        Ok(BulletinNames {
            units: d
                .units
                .iter()
                .map(|(c, u)| (c.clone(), u.name.clone()))
                .collect(),
            actors: d
                .actors
                .iter()
                .map(|(id, a)| (id.clone(), a.name.clone()))
                .collect(),
        })
    }
}
