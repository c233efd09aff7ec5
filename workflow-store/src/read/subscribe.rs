//! Subscriptions: the log from a position (catch-up), then live as groups become durable,
//! switching by position so that nothing is missed or repeated.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::{Stream, StreamExt};
use workflow_core::{Classification, DocumentId, Kind, StreamKind, UnitCode};

use crate::engine::Engine;
use crate::envelope::Envelope;
use crate::error::{Error, Result};

/// What a subscription remembers of a stream: kind and units. (Its classification is read
/// anew for every event, as the highest the stream ever had: a document reclassified upward
/// must stop reaching those not cleared for it, and one revised down still holds its
/// classified versions in its earlier events.)
type SubscribedDoc = (Option<Kind>, Vec<UnitCode>);

/// Which events a subscription delivers; empty lists mean "all".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscribeFilter {
    /// Event types, e.g. `Issued`.
    pub event_types: Vec<String>,
    /// Document kinds.
    pub kinds: Vec<Kind>,
    /// Units (issuing, co-issuing or drafter's).
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
            docs: HashMap<DocumentId, SubscribedDoc>,
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
            docs: HashMap::new(),
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
                    .and_then(|tail| tail.read(st.next, BATCH));
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
                match st.engine.read_log(st.next, limit) {
                    Ok(events) => {
                        for e in events {
                            st.next = e.position + 1;
                            let engine = st.engine.clone();
                            let docs = &mut st.docs;
                            let id = e.stream_id;
                            let listing = move || engine.first_listing(docs, id);
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

    /// A stream's kind and units, read once per subscription from its state.
    fn first_listing(
        &self,
        docs: &mut HashMap<DocumentId, SubscribedDoc>,
        id: DocumentId,
    ) -> Result<SubscribedDoc> {
        if let Some(known) = docs.get(&id) {
            return Ok(known.clone());
        }
        let state = self
            .inner
            .storage
            .doc(id)?
            .ok_or(Error::NotFound(id))?
            .state;
        let listing: SubscribedDoc = state
            .listing()
            .map(|l| (l.kind, l.units))
            .unwrap_or_default();
        docs.insert(id, listing.clone());
        Ok(listing)
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
