//! The read side: lists and to-do inboxes over the projections; one document and its
//! history (`history`); counts (`stats`); subscriptions (`subscribe`).

mod access;
mod bulletin;
mod history;
mod reading;
mod stats;
mod subscribe;
pub(crate) mod tail;
mod verify;

use std::collections::{HashSet, VecDeque};

use workflow_core::{
    ActorId, DocumentId, FlowState, Registered, StreamKind, Timestamp, UnitCode,
    incoming::Incoming, incoming::Receipt, kind::Kind, outgoing::Document, outgoing::Outgoing,
    outgoing::State, supervision::Item, supervision::Supervision, todo::Assignee,
};

pub use self::reading::Reader;
pub use self::stats::Stats;
pub use self::subscribe::SubscribeFilter;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::projection::{Cursor, Dim, DocRecord};
use crate::storage::Storage;

/// Largest page a list returns.
pub const MAX_PAGE_SIZE: usize = 500;

/// Up to this many documents found by keyword, a list walks them (reading each to check the
/// other filters); past it, a list narrower than all documents walks its own entries and
/// reads only those found.
const FOUND_WALKED: usize = 5_000;

/// The most events the keyword index may be behind the log for a search to use it (the
/// documents they changed are read and checked directly).
const FOUND_BEHIND: usize = 5_000;

/// Filters and paging for [`Engine::list`] and [`Engine::inbox`]. Every filter given must
/// match. Order is drafting order, stable across pages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Only this flow's documents (发文 `outgoing`, 收文 `incoming`); every flow's when
    /// absent.
    pub flow: Option<StreamKind>,
    /// Only 发文 in this state (implies the 发文 flow).
    pub state: Option<State>,
    /// Only documents in the state of this name, in any flow (`InHandling`, `Archived`).
    pub step: Option<String>,
    /// Only documents of this unit (issuing, co-issuing or drafter's unit).
    pub unit: Option<UnitCode>,
    /// Only this 文种.
    pub kind: Option<Kind>,
    /// Only this year (issue year once issued, else drafting year).
    pub year: Option<i32>,
    /// Only documents whose current stage is past its deadline at this instant.
    pub overdue_at: Option<Timestamp>,
    /// 督办 items whose leader (牵头领导) this is (other flows never match).
    pub leader: Option<ActorId>,
    /// 督办 items from this source: `instruction`, `meeting`, `key_task`, `direct` (other
    /// flows never match).
    pub source: Option<String>,
    /// Keywords (标题, 文号 — 发文字号, 收文编号, 来文字号 —, 来文单位, 正文): only documents
    /// where each of the words, separated by spaces, occurs (Latin letters in any case).
    pub text: Option<String>,
    /// Only documents this person started (我发起的: drafted, registered, opened).
    pub started_by: Option<ActorId>,
    /// Only documents this person acted on (已办: any step they recorded, starting included).
    pub acted_by: Option<ActorId>,
    /// Leave out what this actor's clearance does not cover.
    pub viewer: Option<ActorId>,
    /// Leave out what is classified above this (a system reading without naming an actor:
    /// its `max_classification`); with a viewer too, the lower of the two applies.
    pub max_classification: Option<workflow_core::directory::Classification>,
    /// Newest first (by when each was started) instead of oldest first.
    pub newest_first: bool,
    /// The token a previous page returned.
    pub page_token: Option<String>,
    /// At most this many (default 50, at most [`MAX_PAGE_SIZE`]).
    pub page_size: usize,
}

/// One page of documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// The documents on the page (发文, 收文, 督办 items: any flow that lists its streams), in
    /// list order.
    pub states: Vec<FlowState>,
    /// Pass as `page_token` for the next page; `None` on the last page.
    pub next_page_token: Option<String>,
}

impl Page {
    /// The states of one flow on the page, in list order.
    pub fn of<'a, F: Registered>(&'a self) -> impl Iterator<Item = &'a F::State>
    where
        F::State: 'a,
    {
        self.states.iter().filter_map(F::state)
    }

    /// The 发文 on the page, in list order.
    pub fn documents(&self) -> Vec<&Document> {
        self.of::<Outgoing>().collect()
    }

    /// The 收文 on the page, in list order.
    pub fn receipts(&self) -> Vec<&Receipt> {
        self.of::<Incoming>().collect()
    }

    /// The 督办 items on the page, in list order.
    pub fn items(&self) -> Vec<&Item> {
        self.of::<Supervision>().collect()
    }
}

impl Engine {
    /// The listed record (发文, 收文 or 督办 item) a list entry names, if it is one.
    fn listed(&self, id: DocumentId) -> Result<Option<DocRecord>> {
        Ok(self
            .inner
            .storage
            .doc(id)?
            .filter(|r| r.state.directory().is_none()))
    }

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
    ) -> Result<(
        Option<Cursor>,
        usize,
        Option<workflow_core::directory::Classification>,
    )> {
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
        if let Some(v) = &q.viewer
            && self.is_deactivated(v)
        {
            return Err(Error::Rejected(workflow_core::Error::ActorDeactivated {
                actor: v.clone(),
            }));
        }
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
        let clearance = match (clearance, q.max_classification) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok((after, size, clearance))
    }

    fn matches(
        q: &ListQuery,
        clearance: Option<workflow_core::directory::Classification>,
        r: &DocRecord,
    ) -> bool {
        let s = &r.state;
        let Some(l) = s.listing() else {
            return false;
        };
        let flow = if q.state.is_some() {
            Some(StreamKind::Outgoing)
        } else {
            q.flow
        };
        flow.is_none_or(|f| s.kind() == f)
            && q.state.is_none_or(|st| l.state == st.name())
            && q.step.as_deref().is_none_or(|st| l.state == st)
            && q.kind.is_none_or(|k| l.kind == Some(k))
            && q.year.is_none_or(|y| l.year == y)
            && q.unit.as_ref().is_none_or(|u| l.units.contains(u))
            && q.overdue_at.is_none_or(|t| s.is_overdue(t))
            && clearance.is_none_or(|c| c >= s.classification())
            && Self::item_filters_match(q, s)
            && q.text
                .as_deref()
                .is_none_or(|t| crate::search::has_words(s, t))
            && q.started_by
                .as_ref()
                .is_none_or(|a| r.started_by.as_ref() == Some(a))
            && q.acted_by.as_ref().is_none_or(|a| r.acted.contains(a))
    }

    /// The filters only 督办 items have (leader, source): with either set, nothing else
    /// matches.
    fn item_filters_match(q: &ListQuery, s: &FlowState) -> bool {
        if q.leader.is_none() && q.source.is_none() {
            return true;
        }
        s.supervision().is_some_and(|i| {
            q.leader.as_ref().is_none_or(|l| i.spec().leader == *l)
                && q.source
                    .as_deref()
                    .is_none_or(|src| i.spec().source.name() == src)
        })
    }

    /// Documents matching the filters, one page at a time.
    pub fn list(&self, q: &ListQuery) -> Result<Page> {
        let (mut after, size, clearance) = self.page_params(q)?;
        let dim = Self::list_dim(q);
        // Keywords the index answers: the rest of the filters as usual, over its documents.
        let found = match q.text.as_deref() {
            Some(t) => self.found(t)?,
            None => None,
        };
        let rest;
        let (q, members) = match &found {
            Some(cursors) => {
                rest = ListQuery {
                    text: None,
                    ..q.clone()
                };
                (&rest, Some(cursors))
            }
            None => (q, None),
        };
        if let Some(cursors) = members
            && (cursors.len() <= FOUND_WALKED || matches!(dim, Dim::All | Dim::Flow(_)))
        {
            return self.list_found(q, clearance, after, size, cursors);
        }
        let members: Option<HashSet<DocumentId>> =
            members.map(|cursors| cursors.iter().map(|c| c.id).collect());
        let mut documents = PageBuilder::default();
        let storage = &*self.inner.storage;
        let scan = |from: Option<Cursor>, limit: usize| {
            if q.newest_first {
                storage.scan_list_newest(&dim, from, limit)
            } else {
                storage.scan_list(&dim, from, limit)
            }
        };
        loop {
            let batch = scan(after, size.max(64))?;
            let exhausted = batch.len() < size.max(64);
            for c in batch {
                after = Some(c);
                if self.is_uncertain(c.id) || members.as_ref().is_some_and(|m| !m.contains(&c.id)) {
                    continue;
                }
                if let Some(d) = self.listed(c.id)?
                    && Self::matches(q, clearance, &d)
                {
                    documents.push(d.state);
                    if documents.len() == size {
                        let more = !scan(after, 1)?.is_empty();
                        return Ok(documents.page(more.then(|| c.token())));
                    }
                }
            }
            if exhausted {
                return Ok(documents.page(None));
            }
        }
    }

    /// The list a query walks: the narrowest its filters name (a person's own, then a
    /// state's, …).
    fn list_dim(q: &ListQuery) -> Dim {
        match (
            &q.started_by,
            &q.acted_by,
            &q.state,
            &q.step,
            &q.kind,
            &q.unit,
        ) {
            (Some(a), ..) => Dim::StartedBy(a.clone()),
            (_, Some(a), ..) => Dim::ActedBy(a.clone()),
            (_, _, Some(s), ..) => Dim::state(*s),
            (_, _, _, Some(s), ..) => Dim::State(s.clone()),
            (_, _, _, _, Some(k), _) => Dim::Kind(*k),
            (.., Some(u)) => Dim::Unit(u.clone()),
            _ => match (q.year, q.flow) {
                (Some(y), _) => Dim::Year(y),
                (None, Some(f)) => Dim::Flow(f),
                (None, None) => Dim::All,
            },
        }
    }

    /// The documents holding every keyword, in list order, exact as of now: the index's
    /// answer, with the documents changed since its position checked directly. `None`
    /// when the index cannot answer (none, being built, failed, or too far behind): the
    /// list then reads each document it walks.
    fn found(&self, text: &str) -> Result<Option<Vec<Cursor>>> {
        let words: Vec<String> = text
            .to_lowercase()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let Some(search) = &self.inner.search else {
            return Ok(None);
        };
        if words.is_empty() {
            return Ok(None);
        }
        let storage = &*self.inner.storage;
        let head = *self.inner.head.borrow();
        let answer = match search.find(&words) {
            // Far behind (being built, or under a burst of writes): not worth reading what it
            // has not taken.
            Some(found) if head.saturating_sub(found.through) > FOUND_BEHIND as u64 => None,
            Some(found) => {
                match crate::search::changed_since(storage, found.through, FOUND_BEHIND) {
                    Ok(changed) => changed.map(|changed| (found, changed)),
                    Err(e) => {
                        tracing::warn!(error = %e, "reading the log for a keyword search failed: reading the documents");
                        None
                    }
                }
            }
            None => None,
        };
        let Some((found, changed)) = answer else {
            search.counted(false);
            return Ok(None);
        };
        search.counted(true);
        let mut cursors = found.cursors;
        cursors.retain(|c| !changed.contains(&c.id));
        let changed: Vec<DocumentId> = changed.into_iter().collect();
        for r in storage.docs(&changed)? {
            if r.state.listing().is_some() && crate::search::has_words(&r.state, text) {
                cursors.push(Cursor {
                    drafted_position: r.drafted_position,
                    id: r.state.id(),
                });
            }
        }
        cursors.sort_unstable();
        Ok(Some(cursors))
    }

    /// A page of the documents the index found (in list order), with the other filters.
    fn list_found(
        &self,
        q: &ListQuery,
        clearance: Option<workflow_core::directory::Classification>,
        after: Option<Cursor>,
        size: usize,
        cursors: &[Cursor],
    ) -> Result<Page> {
        let ordered: Box<dyn Iterator<Item = &Cursor>> = if q.newest_first {
            Box::new(
                cursors
                    .iter()
                    .rev()
                    .filter(|c| after.is_none_or(|a| **c < a)),
            )
        } else {
            Box::new(cursors.iter().filter(|c| after.is_none_or(|a| **c > a)))
        };
        let mut ordered = ordered.peekable();
        let mut documents = PageBuilder::default();
        while let Some(c) = ordered.next() {
            if self.is_uncertain(c.id) {
                continue;
            }
            if let Some(d) = self.listed(c.id)?
                && Self::matches(q, clearance, &d)
            {
                documents.push(d.state);
                if documents.len() == size {
                    let more = ordered.peek().is_some();
                    return Ok(documents.page(more.then(|| c.token())));
                }
            }
        }
        Ok(documents.page(None))
    }

    /// How the keyword index stands: where, how far, how many documents, how searches were
    /// answered.
    pub fn search_status(&self) -> crate::search::SearchStatus {
        match &self.inner.search {
            Some(s) => s.status(),
            None => crate::search::SearchStatus {
                location: None,
                ready: false,
                indexed_through: 0,
                documents: 0,
                built: false,
                problem: None,
                searches_by_index: 0,
                searches_by_reading: 0,
            },
        }
    }

    /// The to-do list (待办) of an actor: documents waiting for them, with the same filters
    /// as [`Engine::list`] (the viewer is the actor).
    pub fn inbox(&self, actor: &ActorId, q: &ListQuery) -> Result<Page> {
        if q.newest_first {
            return Err(Error::InvalidRequest {
                field: "newest_first",
                reason:
                    "a to-do list is in its own order (drafting order); newest_first is for lists"
                        .into(),
            });
        }
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
        // The office clerk also sees the tasks nobody can take any more, because the actor
        // they wait for was deactivated (离职, 调岗): for 转办.
        let mut keys = Vec::new();
        if let Ok(dir) = self.inner.directory.read() {
            keys = Assignee::keys_of(&a, dir.in_office(&a));
            if dir.is_office_clerk(&a) {
                keys.extend(dir.orphaned_keys());
                keys.sort();
                keys.dedup();
            }
        }
        let mut entries = MergedScan::new(storage, keys, after, size + 1);
        let mut documents = PageBuilder::default();
        while let Some(c) = entries.next()? {
            if self.is_uncertain(c.id) {
                continue;
            }
            if let Some(d) = self.listed(c.id)?
                && Self::matches(&q, clearance, &d)
            {
                documents.push(d.state);
                if documents.len() == size {
                    let next = entries.next()?.map(|_| c.token());
                    return Ok(documents.page(next));
                }
            }
        }
        Ok(documents.page(None))
    }
}

/// A page being filled.
#[derive(Default)]
struct PageBuilder(Vec<FlowState>);

impl PageBuilder {
    /// Adds a listed state (the directory's and a 月通报's streams are in no list).
    fn push(&mut self, s: FlowState) {
        if StreamKind::DOCUMENTS.contains(&s.kind()) {
            self.0.push(s);
        }
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn page(self, next_page_token: Option<String>) -> Page {
        Page {
            states: self.0,
            next_page_token,
        }
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
    assignee: Assignee,
    after: Option<Cursor>,
    buffer: VecDeque<Cursor>,
    exhausted: bool,
}

impl<'a> MergedScan<'a> {
    fn new(
        storage: &'a dyn Storage,
        assignees: Vec<Assignee>,
        after: Option<Cursor>,
        batch: usize,
    ) -> Self {
        let sources = assignees
            .into_iter()
            .map(|assignee| Source {
                assignee,
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
                let read = self.storage.scan_todo(&s.assignee, s.after, self.batch)?;
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
