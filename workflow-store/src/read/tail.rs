//! The shared live tail: the last few thousand events the writer committed, decoded once
//! and shared by every live subscriber, with what their filters need. A subscriber whose
//! next position is in it takes events from here; one behind it (or ahead of what was
//! published, after another process's commits) reads the log, and comes back when it has
//! caught up. Positions decide, so nothing is missed or repeated.
//!
//! Live subscribers share one read of each event: after a group is durable, and before the
//! head moves, the writer publishes its events (decoded, with each document's kind and
//! units) to the shared tail (`read/tail.rs`, the last 4,096 events, only while anyone
//! subscribes) and records each changed document's classification in memory. A subscriber
//! takes from the tail while its next position is in it and reads the log otherwise;
//! positions decide, so the switch can neither skip nor repeat. The tail is gapless: a
//! group that does not follow the last published one (another process's commits between)
//! starts it anew.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use workflow_core::{DocumentId, UnitCode, directory::Classification, kind::Kind};

use crate::envelope::Envelope;

/// Events the tail keeps (a few KB each): past this, the oldest go.
pub(crate) const TAIL_EVENTS: usize = 4096;

/// Documents whose classification the engine keeps in memory: past this, it starts over.
const CLASSIFICATIONS: usize = 100_000;

/// One event as the writer published it.
#[derive(Debug)]
pub(crate) struct TailEvent {
    pub(crate) envelope: Arc<Envelope>,
    /// The stream's kind and units after the event's group (for kind and unit filters).
    pub(crate) kind: Option<Kind>,
    pub(crate) units: Vec<UnitCode>,
}

/// The tail: events at positions `first`, `first + 1`, … with no gap.
#[derive(Debug, Default)]
pub(crate) struct Tail {
    first: u64,
    events: VecDeque<Arc<TailEvent>>,
}

impl Tail {
    /// Appends a committed group's events (in position order). A group that does not follow
    /// the last one published (other processes' commits came between, or publishing was
    /// off while nobody subscribed) starts the tail anew.
    pub(crate) fn publish(&mut self, events: Vec<TailEvent>) {
        let Some(start) = events.first().map(|e| e.envelope.position) else {
            return;
        };
        if self.events.is_empty() || start != self.first + self.events.len() as u64 {
            self.events.clear();
            self.first = start;
        }
        self.events.extend(events.into_iter().map(Arc::new));
        while self.events.len() > TAIL_EVENTS {
            self.events.pop_front();
            self.first += 1;
        }
    }

    /// How many events it holds.
    pub(crate) fn len(&self) -> usize {
        self.events.len()
    }

    /// Up to `limit` events from position `from` on, if the tail holds `from`; `None` when
    /// it does not (the reader goes to the log).
    pub(crate) fn read(&self, from: u64, limit: usize) -> Option<Vec<Arc<TailEvent>>> {
        if from < self.first || from >= self.first + self.events.len() as u64 {
            return None;
        }
        let skip = usize::try_from(from - self.first).ok()?;
        Some(self.events.iter().skip(skip).take(limit).cloned().collect())
    }
}

/// A document's kind and units as of one of its events: what subscribers' kind and unit
/// filters see.
pub(crate) type Listed = (
    Option<workflow_core::kind::Kind>,
    Vec<workflow_core::UnitCode>,
);

/// The kind and units of a state (none for an unlisted stream).
pub(crate) fn listed(state: Option<&workflow_core::FlowState>) -> Listed {
    state
        .and_then(workflow_core::FlowState::listing)
        .map(|l| (l.kind, l.units))
        .unwrap_or_default()
}

/// Documents' current classifications, as the writer last committed them, so that checking
/// a reader's clearance for an event does not read the document from the store each time.
#[derive(Debug, Default)]
pub(crate) struct Classifications {
    known: HashMap<DocumentId, Known>,
}

/// What is known of one document's classification.
#[derive(Debug, Default, Clone, Copy)]
struct Known {
    /// As last committed, if set since.
    now: Option<Classification>,
    /// The highest it ever had, once worked out from its events.
    highest: Option<Classification>,
    /// The highest any event committed since this started gave it (kept while `highest` is
    /// not worked out: a fold of the durable events may not see the latest group yet).
    floor: Classification,
}

impl Classifications {
    pub(crate) fn get(&self, id: DocumentId) -> Option<Classification> {
        self.known.get(&id).and_then(|k| k.now)
    }

    /// The highest classification the document ever had, if worked out.
    pub(crate) fn highest(&self, id: DocumentId) -> Option<Classification> {
        self.known.get(&id).and_then(|k| k.highest)
    }

    fn entry(&mut self, id: DocumentId) -> &mut Known {
        if self.known.len() >= CLASSIFICATIONS && !self.known.contains_key(&id) {
            self.known.clear();
        }
        self.known.entry(id).or_default()
    }

    /// A group committed: the document's classification `now`, and the highest any of the
    /// group's events gave it (a group may raise it and lower it again).
    pub(crate) fn set(&mut self, id: DocumentId, now: Classification, in_group: Classification) {
        let k = self.entry(id);
        let seen = now.max(in_group);
        k.now = Some(now);
        k.floor = k.floor.max(seen);
        if let Some(highest) = &mut k.highest {
            *highest = (*highest).max(seen);
        }
    }

    /// Records the highest classification worked out from the document's events (never
    /// lower than any a commit gave it meanwhile).
    pub(crate) fn set_highest(&mut self, id: DocumentId, folded: Classification) {
        let k = self.entry(id);
        k.highest = Some(folded.max(k.floor).max(k.highest.unwrap_or(folded)));
    }

    /// Forgets everything (another process may have changed any document).
    pub(crate) fn clear(&mut self) {
        self.known.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(position: u64) -> TailEvent {
        TailEvent {
            envelope: Arc::new(Envelope {
                position,
                stream_id: DocumentId(uuid::Uuid::nil()),
                kind: None,
                version: position,
                event_id: uuid::Uuid::nil(),
                command_id: String::new(),
                request_digest: None,
                actor: "a".into(),
                recorded_at: chrono::DateTime::UNIX_EPOCH,
                event_type: String::new(),
                schema_version: 1,
                payload: serde_json::Value::Null,
                prev_hash: String::new(),
                hash: String::new(),
            }),
            kind: None,
            units: Vec::new(),
        }
    }

    fn positions(events: Option<Vec<Arc<TailEvent>>>) -> Option<Vec<u64>> {
        events.map(|e| e.iter().map(|e| e.envelope.position).collect())
    }

    #[test]
    fn the_tail_holds_a_gapless_run_and_forgets_the_oldest() {
        let mut tail = Tail::default();
        assert_eq!(positions(tail.read(1, 10)), None);
        tail.publish((5..=7).map(event).collect());
        assert_eq!(positions(tail.read(4, 10)), None, "before it: the log");
        assert_eq!(positions(tail.read(6, 10)), Some(vec![6, 7]));
        assert_eq!(
            positions(tail.read(8, 10)),
            None,
            "past it: not yet, or the log"
        );
        // A group that does not follow starts it anew.
        tail.publish((10..=11).map(event).collect());
        assert_eq!(positions(tail.read(7, 10)), None);
        assert_eq!(positions(tail.read(10, 1)), Some(vec![10]));
        // Bounded: the oldest go.
        tail.publish((12..12 + TAIL_EVENTS as u64).map(event).collect());
        assert_eq!(positions(tail.read(11, 1)), None);
        assert_eq!(positions(tail.read(14, 1)), Some(vec![14]));
    }
}
