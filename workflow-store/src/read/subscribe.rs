//! Subscriptions: the log from a position (catch-up), then live as groups become durable,
//! switching by position so that nothing is missed or repeated.

use std::collections::{HashMap, VecDeque};

use futures::Stream;
use workflow_core::{Classification, DocumentId, Kind, StreamKind, UnitCode};

use crate::engine::Engine;
use crate::envelope::Envelope;
use crate::error::{Error, Result};

/// What a subscription remembers of a stream: kind and units. (Its classification is read
/// anew for every event: a document reclassified upward must stop reaching those not
/// cleared for it.)
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
    /// Leave out events of documents classified above this (a subscribing actor's
    /// clearance); `None` delivers everything.
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
        struct St {
            engine: Engine,
            next: u64,
            buf: VecDeque<Envelope>,
            filter: SubscribeFilter,
            docs: HashMap<DocumentId, SubscribedDoc>,
            done: bool,
        }
        let st = St {
            engine: self.clone(),
            next: from.max(1),
            buf: VecDeque::new(),
            filter,
            docs: HashMap::new(),
            done: false,
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
                let limit = usize::try_from((head - st.next + 1).min(512)).unwrap_or(512);
                match st.engine.read_log(st.next, limit) {
                    Ok(events) => {
                        for e in events {
                            st.next = e.position + 1;
                            match st.engine.subscription_match(&st.filter, &mut st.docs, &e) {
                                Ok(true) => st.buf.push_back(e),
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

    fn subscription_match(
        &self,
        f: &SubscribeFilter,
        docs: &mut HashMap<DocumentId, SubscribedDoc>,
        e: &Envelope,
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
        let (kind, units) = match docs.entry(e.stream_id) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let state = self
                    .inner
                    .storage
                    .doc(e.stream_id)?
                    .ok_or(Error::NotFound(e.stream_id))?
                    .state;
                let (kind, units) = state
                    .listing()
                    .map(|l| (l.kind, l.units))
                    .unwrap_or_default();
                slot.insert((kind, units))
            }
        };
        Ok(
            (f.kinds.is_empty() || kind.is_some_and(|k| f.kinds.contains(&k)))
                && (f.units.is_empty() || units.iter().any(|u| f.units.contains(u)))
                && match f.max_classification {
                    None => true,
                    Some(max) => self.classification_of(e.stream_id)? <= max,
                },
        )
    }
}

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
