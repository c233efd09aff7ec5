//! The read side: lists, to-do inboxes, stats, verification and subscriptions.

use std::collections::{BTreeMap, HashMap, VecDeque};

use futures::Stream;
use workflow_core::{
    ActorId, Assignee, Classification, Document, DocumentId, Kind, State, Timestamp, UnitCode,
};

use crate::engine::Engine;
use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::projection::{Cursor, Dim, assignee_prefix};
use crate::storage::{Index, Storage};
use crate::verify::{LogHead, VerifyOptions, VerifyReport, verify};

/// Largest page a list returns.
pub const MAX_PAGE_SIZE: usize = 500;

/// Filters and paging for [`Engine::list`] and [`Engine::inbox`]. Every filter given must
/// match. Order is drafting order, stable across pages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Only documents in this state.
    pub state: Option<State>,
    /// Only documents of this unit (issuing, co-issuing or drafter's unit).
    pub unit: Option<UnitCode>,
    /// Only this 文种.
    pub kind: Option<Kind>,
    /// Only this year (issue year once issued, else drafting year).
    pub year: Option<i32>,
    /// Only documents whose current stage is past its deadline at this instant.
    pub overdue_at: Option<Timestamp>,
    /// Leave out what this actor's clearance does not cover.
    pub viewer: Option<ActorId>,
    /// The token a previous page returned.
    pub page_token: Option<String>,
    /// At most this many (default 50, at most [`MAX_PAGE_SIZE`]).
    pub page_size: usize,
}

/// One page of documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The documents, in drafting order.
    pub documents: Vec<Document>,
    /// Pass as `page_token` for the next page; `None` on the last page.
    pub next_page_token: Option<String>,
}

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
    /// Bytes on disk.
    pub size_on_disk: u64,
}

/// What a subscription remembers of a document: kind, units, classification.
type SubscribedDoc = (Kind, Vec<UnitCode>, Classification);

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
}

impl Engine {
    /// Whether a group whose flush failed may have changed the document (lists leave it
    /// out until a restart).
    fn is_uncertain(&self, id: DocumentId) -> bool {
        self.inner
            .uncertain
            .read()
            .map_or(true, |u| u.contains(&id))
    }

    fn page_params(
        &self,
        q: &ListQuery,
    ) -> Result<(Option<Cursor>, usize, Option<workflow_core::Classification>)> {
        let after = match q.page_token.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => Some(Cursor::from_token(t).ok_or(Error::InvalidRequest {
                field: "page_token",
                reason: "not a token returned by a previous page".into(),
            })?),
            None => None,
        };
        if q.page_size > MAX_PAGE_SIZE {
            return Err(Error::InvalidRequest {
                field: "page_size",
                reason: format!("at most {MAX_PAGE_SIZE}"),
            });
        }
        let size = if q.page_size == 0 { 50 } else { q.page_size };
        let clearance = match &q.viewer {
            Some(v) => Some(
                self.actor(v)
                    .ok_or_else(|| {
                        Error::Rejected(workflow_core::Error::UnknownActor { actor: v.clone() })
                    })?
                    .clearance,
            ),
            None => None,
        };
        Ok((after, size, clearance))
    }

    fn matches(
        q: &ListQuery,
        clearance: Option<workflow_core::Classification>,
        d: &Document,
    ) -> bool {
        q.state.is_none_or(|s| d.state() == s)
            && q.kind.is_none_or(|k| d.kind() == k)
            && q.year
                .is_none_or(|y| crate::projection::listing_year(d) == y)
            && q.unit.as_ref().is_none_or(|u| {
                d.fields().issuing_unit == *u
                    || d.drafter_unit() == u
                    || d.fields().co_issuing_units.contains(u)
            })
            && q.overdue_at.is_none_or(|t| d.is_overdue(t))
            && clearance.is_none_or(|c| c >= d.classification())
    }

    /// Documents matching the filters, one page at a time.
    pub fn list(&self, q: &ListQuery) -> Result<Page> {
        let (mut after, size, clearance) = self.page_params(q)?;
        let dim = match (&q.state, &q.kind, &q.unit, &q.year) {
            (Some(s), ..) => Dim::State(*s),
            (_, Some(k), ..) => Dim::Kind(*k),
            (_, _, Some(u), _) => Dim::Unit(u.clone()),
            (.., Some(y)) => Dim::Year(*y),
            _ => Dim::All,
        };
        let prefix = dim.prefix();
        let mut documents = Vec::new();
        loop {
            let batch = self
                .inner
                .storage
                .scan(Index::Lists, &prefix, after, size.max(64))?;
            let exhausted = batch.len() < size.max(64);
            for c in batch {
                after = Some(c);
                if self.is_uncertain(c.id) {
                    continue;
                }
                if let Some(r) = self.inner.storage.doc(c.id)?
                    && Self::matches(q, clearance, &r.document)
                {
                    documents.push(r.document);
                    if documents.len() == size {
                        let more = !self
                            .inner
                            .storage
                            .scan(Index::Lists, &prefix, after, 1)?
                            .is_empty();
                        return Ok(Page {
                            documents,
                            next_page_token: more.then(|| c.token()),
                        });
                    }
                }
            }
            if exhausted {
                return Ok(Page {
                    documents,
                    next_page_token: None,
                });
            }
        }
    }

    /// The to-do list (待办) of an actor: documents waiting for them, with the same filters
    /// as [`Engine::list`] (the viewer is the actor).
    pub fn inbox(&self, actor: &ActorId, q: &ListQuery) -> Result<Page> {
        let a = self.actor(actor).ok_or_else(|| {
            Error::Rejected(workflow_core::Error::UnknownActor {
                actor: actor.clone(),
            })
        })?;
        let q = ListQuery {
            viewer: Some(actor.clone()),
            ..q.clone()
        };
        let (after, size, clearance) = self.page_params(&q)?;
        let storage = &*self.inner.storage;
        let prefixes = Assignee::keys_of(&a).iter().map(assignee_prefix).collect();
        let mut entries = MergedScan::new(storage, prefixes, after, size + 1);
        let mut documents = Vec::new();
        while let Some(c) = entries.next()? {
            if self.is_uncertain(c.id) {
                continue;
            }
            if let Some(r) = storage.doc(c.id)?
                && Self::matches(&q, clearance, &r.document)
            {
                documents.push(r.document);
                if documents.len() == size {
                    let next = entries.next()?.map(|_| c.token());
                    return Ok(Page {
                        documents,
                        next_page_token: next,
                    });
                }
            }
        }
        Ok(Page {
            documents,
            next_page_token: None,
        })
    }

    /// Counts by state, unit, kind and year; log size and last position.
    pub fn stats(&self) -> Result<Stats> {
        let mut s = Stats {
            last_position: self.head(),
            size_on_disk: self.size_on_disk()?,
            ..Stats::default()
        };
        for (prefix, n) in self.inner.storage.count_by_prefix(Index::Lists)? {
            let text = String::from_utf8_lossy(&prefix).into_owned();
            let (tag, value) = text.split_at(1.min(text.len()));
            let map = match tag {
                "a" => {
                    s.documents = n;
                    continue;
                }
                "s" => &mut s.by_state,
                "u" => &mut s.by_unit,
                "k" => &mut s.by_kind,
                "y" => &mut s.by_year,
                _ => continue,
            };
            map.insert(value.to_owned(), n);
        }
        Ok(s)
    }

    /// Verifies the log (see [`Engine::verify_with`]) with no witness head.
    pub fn verify(&self, progress: impl FnMut(u64, u64)) -> Result<VerifyReport> {
        self.verify_with(&VerifyOptions::default(), progress)
    }

    /// Verifies the log: walks the hash chain from position 1 (positions, links, hashes,
    /// stream versions, payloads), recomputes the fixity digest of every archived document,
    /// checks that the log ends at the head recorded with the last commit and that the
    /// stream index and command records point nowhere past it, and, with
    /// `options.against`, that the log still holds a head recorded earlier. See
    /// [`VerifyReport`]. `progress(done, total)` is called every few thousand events.
    pub fn verify_with(
        &self,
        options: &VerifyOptions,
        progress: impl FnMut(u64, u64),
    ) -> Result<VerifyReport> {
        verify(&*self.inner.storage, options, self.head(), progress)
    }

    /// The head of the durable log: the last acknowledged position and its hash. Hand it
    /// to another system to keep; [`VerifyOptions::against`] later proves the log still
    /// extends it unchanged.
    pub fn log_head(&self) -> Result<LogHead> {
        let position = self.head();
        if position == 0 {
            return Ok(LogHead {
                position,
                hash: crate::GENESIS_HASH.to_owned(),
            });
        }
        let e = self
            .read_log(position, 1)?
            .into_iter()
            .next()
            .filter(|e| e.position == position)
            .ok_or_else(|| Error::corrupt(format_args!("position {position}"), "missing"))?;
        Ok(LogHead {
            position,
            hash: e.hash,
        })
    }

    /// Checks every state projection against the fold of its stream; returns the ids that
    /// differ (empty when all agree).
    pub fn verify_projections(&self) -> Result<Vec<DocumentId>> {
        let mut bad = Vec::new();
        let mut after = None;
        loop {
            let recs = self.inner.storage.docs_after(after, 1024)?;
            let Some(last) = recs.last() else { break };
            after = Some(last.document.id());
            for r in recs {
                let id = r.document.id();
                match self.fold_stream(id, u64::MAX, None) {
                    Ok(Some(folded)) if folded == r.document => {}
                    _ => bad.push(id),
                }
            }
        }
        Ok(bad)
    }

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
        if f.kinds.is_empty() && f.units.is_empty() && f.max_classification.is_none() {
            return Ok(true);
        }
        let (kind, units, classification) = match docs.entry(e.stream_id) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => {
                let d = self
                    .document(e.stream_id)?
                    .ok_or(Error::NotFound(e.stream_id))?;
                let mut units = vec![d.fields().issuing_unit.clone(), d.drafter_unit().clone()];
                units.extend(d.fields().co_issuing_units.iter().cloned());
                slot.insert((d.kind(), units, d.classification()))
            }
        };
        Ok((f.kinds.is_empty() || f.kinds.contains(kind))
            && (f.units.is_empty() || units.iter().any(|u| f.units.contains(u)))
            && f.max_classification
                .is_none_or(|max| *classification <= max))
    }
}

/// A 催办 reminder the deadline sweep would send (see [`Engine::due_reminders`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueReminder {
    /// The document.
    pub document_id: DocumentId,
    /// Its title.
    pub title: String,
    /// The overdue stage (0-based).
    pub stage: usize,
    /// When it was due.
    pub due_at: Timestamp,
    /// Whom it waits for, as to-do keys (`li.qiang`, `Countersigner@RSC`).
    pub waiting_for: Vec<String>,
    /// The actor it would be escalated to, if the route names one.
    pub escalated_to: Option<ActorId>,
    /// Reminders the stage already had.
    pub reminders_before: u32,
}

/// The directory as a decision's context, for decisions that are reported, never appended
/// (a dry run of the sweep). It draws no numbers and keeps no chain: `Remind` needs neither.
struct ReadOnlyContext<'a>(
    &'a crate::engine::DirectoryCache,
    &'a workflow_core::RetentionSchedule,
);

impl workflow_core::Context for ReadOnlyContext<'_> {
    fn actor(&self, id: &ActorId) -> Option<workflow_core::Actor> {
        self.0.actors.get(id).cloned()
    }
    fn unit(&self, code: &UnitCode) -> Option<workflow_core::Unit> {
        self.0.units.get(code).cloned()
    }
    fn next_number(
        &self,
        series: &workflow_core::Series,
    ) -> std::result::Result<u32, workflow_core::ContextError> {
        Err(workflow_core::ContextError(
            format!("a read-only decision draws no numbers ({series:?})").into(),
        ))
    }
    fn fixity_hash(&self) -> std::result::Result<Option<String>, workflow_core::ContextError> {
        Ok(None)
    }
    fn actors_of(&self, unit: &UnitCode) -> Vec<workflow_core::Actor> {
        self.0.actors_of(unit)
    }
    fn retention_schedule(&self) -> &workflow_core::RetentionSchedule {
        self.1
    }
}

impl Engine {
    /// The documents whose current stage is overdue at `now` and was not reminded within
    /// the interval, each with the command id its reminder takes: derived from the
    /// document, round, stage, stage start and reminder count, so that racing or repeated
    /// sweeps cannot remind twice.
    fn due_for_reminders(
        &self,
        now: Timestamp,
        interval_hours: u32,
    ) -> Result<Vec<(Document, String)>> {
        if interval_hours == 0 {
            return Err(Error::InvalidRequest {
                field: "interval_hours",
                reason: "must be at least 1".into(),
            });
        }
        let interval = chrono::Duration::hours(i64::from(interval_hours));
        let mut due = Vec::new();
        for id in self.inner.storage.due_before(now)? {
            let Some(d) = self.inner.storage.doc(id)?.map(|r| r.document) else {
                continue;
            };
            let Some((i, stage)) = d.current() else {
                continue;
            };
            let overdue = stage.due_at.is_some_and(|at| now > at);
            let quiet = stage.last_reminded_at.is_none_or(|last| {
                last.checked_add_signed(interval)
                    .is_some_and(|next| now >= next)
            });
            if overdue && quiet {
                let started = stage.started_at.map_or(0, |t| t.timestamp_micros());
                let key = format!(
                    "remind:{}:{}:{i}:{started}:{}",
                    d.id(),
                    d.round(),
                    stage.reminders
                );
                due.push((d, key));
            }
        }
        Ok(due)
    }

    /// What the deadline sweep would send at `now` (any time: "what is overdue tomorrow at
    /// nine?"), decided by the same rule, without appending anything.
    pub fn due_reminders(&self, now: Timestamp, interval_hours: u32) -> Result<Vec<DueReminder>> {
        let due = self.due_for_reminders(now, interval_hours)?;
        let directory = self.inner.directory.read().map_err(|_| Error::Closed)?;
        let ctx = ReadOnlyContext(&directory, &self.inner.retention_schedule);
        let mut out = Vec::new();
        for (d, _) in due {
            let command = workflow_core::Command {
                document_id: d.id(),
                actor: ActorId::from(workflow_core::SYSTEM_ACTOR),
                at: now,
                action: workflow_core::Action::Remind { interval_hours },
            };
            // Refused means not due after all (the rule in the core has the last word).
            let Ok(events) = workflow_core::handle(Some(&d), &command, &ctx) else {
                continue;
            };
            for e in events {
                if let workflow_core::EventData::Reminded {
                    stage,
                    due_at,
                    waiting_for,
                    escalated_to,
                } = e.data
                {
                    out.push(DueReminder {
                        document_id: d.id(),
                        title: d.fields().title.clone(),
                        stage,
                        due_at,
                        waiting_for,
                        escalated_to,
                        reminders_before: d.route().get(stage).map_or(0, |s| s.reminders),
                    });
                }
            }
        }
        Ok(out)
    }

    /// The deadline sweep (催办): for every running stage past its deadline that was not
    /// reminded within `interval_hours`, appends one `Reminded` event (escalated where the
    /// route names someone). Returns the outcomes appended.
    ///
    /// Safe to run from several places at once and after restarts: each reminder's command
    /// id is derived from the document, round, stage, stage start and reminder count, so a
    /// second sweep for the same reminder is answered from the idempotency record.
    pub async fn sweep_deadlines(
        &self,
        now: Timestamp,
        interval_hours: u32,
    ) -> Result<Vec<crate::Outcome>> {
        let due = self.due_for_reminders(now, interval_hours)?;
        let mut outcomes = Vec::new();
        for (d, key) in due {
            let request = crate::Request {
                command_id: key,
                document_id: d.id(),
                actor: ActorId::from(workflow_core::SYSTEM_ACTOR),
                at: Some(now),
                expected_version: None,
                action: workflow_core::Action::Remind { interval_hours },
            };
            match self.execute(request).await {
                Ok(o) if !o.replayed => outcomes.push(o),
                Ok(_) => {}
                // The document moved on since it was listed: nothing to remind. (A reminder
                // key sent before with another interval was sent: nothing to remind either.)
                Err(Error::Rejected(_) | Error::CommandIdMismatch { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(outcomes)
    }
}

/// The to-do entries under several assignee keys (an actor's id, roles and units), merged in
/// list order without duplicates and read in batches: a page costs about what it shows, not
/// the length of every to-do list the actor is on.
struct MergedScan<'a> {
    storage: &'a dyn Storage,
    sources: Vec<Source>,
    batch: usize,
}

/// One assignee key's entries: what was read and not yet merged, and where to read on.
struct Source {
    prefix: Vec<u8>,
    after: Option<Cursor>,
    buffer: VecDeque<Cursor>,
    exhausted: bool,
}

impl<'a> MergedScan<'a> {
    fn new(
        storage: &'a dyn Storage,
        prefixes: Vec<Vec<u8>>,
        after: Option<Cursor>,
        batch: usize,
    ) -> Self {
        let sources = prefixes
            .into_iter()
            .map(|prefix| Source {
                prefix,
                after,
                buffer: Default::default(),
                exhausted: false,
            })
            .collect();
        MergedScan {
            storage,
            sources,
            batch: batch.max(16),
        }
    }

    /// The next entry in list order, or `None` when every key is exhausted.
    fn next(&mut self) -> Result<Option<Cursor>> {
        for s in &mut self.sources {
            if s.buffer.is_empty() && !s.exhausted {
                let read = self
                    .storage
                    .scan(Index::Inbox, &s.prefix, s.after, self.batch)?;
                s.exhausted = read.len() < self.batch;
                if let Some(last) = read.last() {
                    s.after = Some(*last);
                }
                s.buffer.extend(read);
            }
        }
        let Some(first) = self
            .sources
            .iter()
            .filter_map(|s| s.buffer.front())
            .min()
            .copied()
        else {
            return Ok(None);
        };
        // The same document can wait under several keys (its reviewer is also in a unit).
        for s in &mut self.sources {
            if s.buffer.front() == Some(&first) {
                s.buffer.pop_front();
            }
        }
        Ok(Some(first))
    }
}
