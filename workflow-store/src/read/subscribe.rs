//! Subscriptions: the log from a position (catch-up), then live as groups become durable,
//! switching by position so that nothing is missed or repeated.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::{Stream, StreamExt};
use workflow_core::{DocumentId, StreamKind, UnitCode, directory::Classification, kind::Kind};

use crate::engine::Engine;
use crate::envelope::Envelope;
use crate::error::{Error, Result};

/// A stream's kind and units as of one of its events: what the kind and unit filters test,
/// live and from the log alike. (Its classification is read anew for every event, as the
/// highest the stream ever had: a document reclassified upward must stop reaching those not
/// cleared for it, and one revised down still holds its classified versions in its earlier
/// events.)
type SubscribedDoc = crate::read::tail::Listed;

/// Which events a subscription delivers; empty lists mean "all".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscribeFilter {
    /// Event types, e.g. `Issued`.
    pub event_types: Vec<String>,
    /// Document kinds.
    pub kinds: Vec<Kind>,
    /// Units (issuing, co-issuing or drafter's), as of each event: a document's event is
    /// delivered when one of these was among its units once that event was applied (so a
    /// unit added later does not reach back, nor one removed later take back what it got).
    /// The same live, from the log and on resuming.
    pub units: Vec<UnitCode>,
    /// Leave out events of documents that are, or ever were, classified above this (a
    /// subscribing actor's clearance), as history does; `None` delivers everything.
    pub max_classification: Option<Classification>,
    /// Also deliver the directory stream's events (who was granted which role or
    /// clearance): for administering systems only. Kind and unit filters do not apply to
    /// them.
    pub directory: bool,
}

impl Engine {
    /// Events from global position `from` (inclusive; 1 for the start), then live ones as
    /// they are committed: catch-up and live switch by position, so nothing is missed or
    /// repeated. Only durable events are delivered. Ends when the engine shuts down.
    pub fn subscribe(
        &self,
        from: u64,
        filter: SubscribeFilter,
    ) -> impl Stream<Item = Result<Envelope>> + Send + 'static {
        self.subscribe_shared(from, filter)
            .map(|r| r.map(Arc::unwrap_or_clone))
    }

    /// As [`Engine::subscribe`], with each event shared rather than copied: a live
    /// subscriber takes the events the writer published to the shared tail (read and
    /// decoded once for every subscriber); one that fell behind the tail reads the log, in
    /// batches, until it has caught up, then takes from the tail again. Memory stays
    /// bounded: the tail keeps the last few thousand events, a subscriber at most one
    /// batch.
    pub fn subscribe_shared(
        &self,
        from: u64,
        filter: SubscribeFilter,
    ) -> impl Stream<Item = Result<Arc<Envelope>>> + Send + 'static {
        /// Counts the subscription while it lives: the writer publishes only while some do.
        struct Live(Arc<AtomicUsize>);
        impl Drop for Live {
            fn drop(&mut self) {
                let left = self.0.fetch_sub(1, Ordering::SeqCst);
                crate::telemetry::live_subscribers(left.saturating_sub(1));
            }
        }
        struct St {
            engine: Engine,
            next: u64,
            buf: VecDeque<Arc<Envelope>>,
            filter: SubscribeFilter,
            done: bool,
            _live: Live,
        }
        let live = self.inner.live.fetch_add(1, Ordering::SeqCst) + 1;
        crate::telemetry::live_subscribers(live);
        let st = St {
            engine: self.clone(),
            next: from.max(1),
            buf: VecDeque::new(),
            filter,
            done: false,
            _live: Live(self.inner.live.clone()),
        };
        futures::stream::unfold(st, |mut st| async move {
            loop {
                if st.done {
                    return None;
                }
                if let Some(e) = st.buf.pop_front() {
                    return Some((Ok(e), st));
                }
                let head = st.engine.head();
                if head < st.next {
                    if !st.engine.wait_past(st.next - 1).await {
                        return None;
                    }
                    continue;
                }
                // The shared tail, when it holds the next position.
                let shared = st
                    .engine
                    .inner
                    .tail
                    .read()
                    .ok()
                    // Never past the head: the syncer publishes a group just before it moves
                    // the head, and reading rules (the highest classification) see the head.
                    .and_then(|tail| {
                        let limit = usize::try_from((head - st.next + 1).min(BATCH as u64))
                            .unwrap_or(BATCH);
                        tail.read(st.next, limit)
                    });
                if let Some(events) = shared.filter(|e| !e.is_empty()) {
                    st.engine.inner.from_tail.fetch_add(1, Ordering::Relaxed);
                    crate::telemetry::subscriber_batch(true);
                    for e in events {
                        st.next = e.envelope.position + 1;
                        let listing = || Ok((e.kind, e.units.clone()));
                        match st.engine.delivers(&st.filter, &e.envelope, listing) {
                            Ok(true) => st.buf.push_back(e.envelope.clone()),
                            Ok(false) => {}
                            Err(err) => {
                                st.done = true;
                                return Some((Err(err), st));
                            }
                        }
                    }
                    continue;
                }
                // The log, for a subscriber behind the tail (or past what was published).
                let limit =
                    usize::try_from((head - st.next + 1).min(BATCH as u64)).unwrap_or(BATCH);
                st.engine.inner.from_log.fetch_add(1, Ordering::Relaxed);
                crate::telemetry::subscriber_batch(false);
                let read = st.engine.read_log(st.next, limit).and_then(|events| {
                    let listings = if st.filter.kinds.is_empty() && st.filter.units.is_empty() {
                        HashMap::new()
                    } else {
                        st.engine.listings_as_of(&events)?
                    };
                    Ok((events, listings))
                });
                match read {
                    Ok((events, listings)) => {
                        for e in events {
                            st.next = e.position + 1;
                            let key = (e.stream_id, e.version);
                            let listing = || {
                                listings
                                    .get(&key)
                                    .cloned()
                                    .ok_or(Error::NotFound(e.stream_id))
                            };
                            match st.engine.delivers(&st.filter, &e, listing) {
                                Ok(true) => st.buf.push_back(Arc::new(e)),
                                Ok(false) => {}
                                Err(err) => {
                                    st.done = true;
                                    return Some((Err(err), st));
                                }
                            }
                        }
                    }
                    Err(err) => {
                        st.done = true;
                        return Some((Err(err), st));
                    }
                }
            }
        })
    }

    /// Each event's stream's kind and units as of that event, for a batch read from the
    /// log: each stream of the batch folded once from its start (what the writer published
    /// to the shared tail with each event, worked out again).
    fn listings_as_of(
        &self,
        events: &[Envelope],
    ) -> Result<HashMap<(DocumentId, u64), SubscribedDoc>> {
        let mut last: HashMap<DocumentId, u64> = HashMap::new();
        for e in events {
            if e.kind != Some(StreamKind::Directory) {
                let v = last.entry(e.stream_id).or_default();
                *v = (*v).max(e.version);
            }
        }
        let mut out = HashMap::new();
        for (id, upto) in last {
            let mut folded: Option<workflow_core::FlowState> = None;
            for e in self.durable_events(id)? {
                if e.version > upto {
                    break;
                }
                let event = e.event().map_err(|err| Error::corrupt(e.position, err))?;
                match folded.as_mut() {
                    Some(s) => s.apply(&event),
                    None => folded = workflow_core::FlowState::create(&event),
                }
                out.insert((id, e.version), crate::read::tail::listed(folded.as_ref()));
            }
        }
        Ok(out)
    }

    /// Whether a subscription delivers an event; `listing` gives its stream's kind and
    /// units when a filter needs them.
    fn delivers(
        &self,
        f: &SubscribeFilter,
        e: &Envelope,
        listing: impl FnOnce() -> Result<SubscribedDoc>,
    ) -> Result<bool> {
        if !f.event_types.is_empty() && !f.event_types.contains(&e.event_type) {
            return Ok(false);
        }
        if e.kind == Some(StreamKind::Directory) {
            return Ok(f.directory);
        }
        if f.kinds.is_empty() && f.units.is_empty() && f.max_classification.is_none() {
            return Ok(true);
        }
        if !f.kinds.is_empty() || !f.units.is_empty() {
            let (kind, units) = listing()?;
            if !((f.kinds.is_empty() || kind.is_some_and(|k| f.kinds.contains(&k)))
                && (f.units.is_empty() || units.iter().any(|u| f.units.contains(u))))
            {
                return Ok(false);
            }
        }
        Ok(match f.max_classification {
            None => true,
            Some(max) => self.highest_classification(e.stream_id)? <= max,
        })
    }
}

/// Most events a subscriber takes at once, from the tail or from the log.
const BATCH: usize = 512;

impl Engine {
    /// Waits until the head moves past `position` (or the engine closes).
    pub(crate) async fn wait_past(&self, position: u64) -> bool {
        let mut rx = self.inner.head.clone();
        loop {
            if *rx.borrow_and_update() > position {
                return true;
            }
            if rx.changed().await.is_err() {
                return *rx.borrow() > position;
            }
        }
    }
}
