//! What the projections hold for one stream, in domain terms: its record (the folded state
//! and where the stream began), and its index entries — the lists it appears in, whom it
//! waits for, when its current step falls due. A backend turns these into its own keys
//! (tree keys for sled, rows for a database); nothing here knows an encoding.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use workflow_core::{
    ActorId, DocumentId, FlowEvent, FlowState, Recorded, StreamKind, Timestamp, UnitCode,
    kind::Kind, outgoing::State, todo::Assignee,
};

/// The layout of the projections this build writes. Opening a store whose projections
/// have an older layout rebuilds them (in place) first. 2: the deadline index; 3: records
/// hold any flow's state (`{"drafted_position", "state": {"outgoing": …}}`); 4: lists by flow
/// ([`Dim::Flow`]); 5: on sled, records without their content and opinions, which are kept
/// apart (see `storage/sled/layout.rs`); 6: a 收文's record keeps the deadline 初审 set,
/// which a 退回拟办 returns to; 7: records name who started the stream and who acted on it,
/// listed by them ([`Dim::StartedBy`], [`Dim::ActedBy`]: the console's 我发起的 and 已办); 8:
/// the to-do keys of a withdrawn 督办 item (the archivist's now) — a stream that changes no
/// more would otherwise keep the keys an older build gave it.
pub(crate) const PROJECTION_VERSION: u32 = 8;

/// The state projection of one stream: the folded state plus where its stream began, which
/// orders every list (drafting order, stable under pagination).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocRecord {
    /// Position of the stream's first event.
    pub drafted_position: u64,
    /// The folded state.
    pub state: FlowState,
    /// Who recorded the stream's first event (拟稿, 登记, 立项, 签报): its 我发起的 list.
    /// `None` where the system did: a stream started in reaction to another's event (the
    /// 收文 a 签收 creates, the 督办 item a 批办 opens) is nobody's 我发起的.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_by: Option<ActorId>,
    /// Everyone who recorded an event of the stream, in the order they first did (its
    /// 已办 lists); the system's own events (催办, the deadline sweep) name nobody.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub acted: Vec<ActorId>,
}

impl DocRecord {
    /// The record a stream's first event creates (`None` if the event starts no stream).
    pub fn create(drafted_position: u64, event: &Recorded<FlowEvent>) -> Option<DocRecord> {
        let state = FlowState::create(event)?;
        let mut record = DocRecord {
            drafted_position,
            state,
            started_by: None,
            acted: Vec::new(),
        };
        if is_person(&event.actor) {
            record.started_by = Some(event.actor.clone());
            record.acted.push(event.actor.clone());
        }
        Some(record)
    }

    /// Folds one more event of the stream, and notes who recorded it.
    pub fn apply(&mut self, event: &Recorded<FlowEvent>) {
        self.state.apply(event);
        if is_person(&event.actor) && !self.acted.contains(&event.actor) {
            self.acted.push(event.actor.clone());
        }
    }

    /// A record of `state` as it began at `drafted_position`, nobody named (tests, samples).
    pub fn of(drafted_position: u64, state: FlowState) -> DocRecord {
        DocRecord {
            drafted_position,
            state,
            started_by: None,
            acted: Vec::new(),
        }
    }

    /// The stream's id.
    pub fn id(&self) -> DocumentId {
        self.state.id()
    }

    /// Where the stream sits in every list.
    pub fn order(&self) -> Cursor {
        Cursor {
            drafted_position: self.drafted_position,
            id: self.id(),
        }
    }
}

/// Whether an event's actor is a person (not the system's own sweep or reactions).
fn is_person(actor: &ActorId) -> bool {
    actor.as_str() != workflow_core::ids::SYSTEM_ACTOR
}

/// A list dimension and its value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dim {
    /// Every document.
    All,
    /// By state, as the flow names it (`InReview`).
    State(String),
    /// By unit: issuing, co-issuing and drafter's unit.
    Unit(UnitCode),
    /// By 文种.
    Kind(Kind),
    /// By listing year.
    Year(i32),
    /// By flow (发文, 收文, 督办).
    Flow(StreamKind),
    /// Started by this person (我发起的: drafted, registered, opened).
    StartedBy(ActorId),
    /// Acted on by this person (已办: any step they recorded).
    ActedBy(ActorId),
}

impl Dim {
    /// The dimension of a 发文 state.
    pub fn state(s: State) -> Dim {
        Dim::State(s.name().to_owned())
    }
}

/// One index entry of a stream: a list it appears in, a key its to-do entry is under, or the
/// instant its current step falls due. Each is ordered, within its key, by the stream's
/// [`Cursor`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IndexEntry {
    /// Appears in this list.
    List(Dim),
    /// Waits for this assignee (a to-do entry).
    Todo(Assignee),
    /// Its current step falls due at this instant (the deadline sweep's index).
    Due(Timestamp),
}

/// A position in a list: the order of the last entry returned (drafting position, then id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor {
    /// Drafting position of the entry.
    pub drafted_position: u64,
    /// Its id.
    pub id: DocumentId,
}

impl Cursor {
    /// The opaque page token a list returns.
    pub(crate) fn token(&self) -> String {
        let mut s = [0u8; 24];
        s[..8].copy_from_slice(&self.drafted_position.to_be_bytes());
        s[8..].copy_from_slice(self.id.0.as_bytes());
        hex::encode(s)
    }

    /// Reads a page token; `None` if it is not one.
    pub(crate) fn from_token(token: &str) -> Option<Cursor> {
        Cursor::from_bytes(&hex::decode(token).ok()?)
    }

    /// The cursor 24 bytes encode (position big-endian, then the id): a page token's bytes
    /// and a list key's order suffix alike.
    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<Cursor> {
        if bytes.len() != 24 {
            return None;
        }
        let mut pos = [0u8; 8];
        pos.copy_from_slice(&bytes[..8]);
        let id = uuid::Uuid::from_slice(&bytes[8..]).ok()?;
        Some(Cursor {
            drafted_position: u64::from_be_bytes(pos),
            id: DocumentId(id),
        })
    }
}

/// The index entries of one record, in order.
pub type IndexKeys = BTreeSet<IndexEntry>;

/// The index entries of a record: the lists it appears in, its to-do entries and its
/// deadline. `is_unit` tells which recipient strings are units of the directory.
pub fn index_keys(rec: &DocRecord, is_unit: &dyn Fn(&str) -> bool) -> IndexKeys {
    let state = &rec.state;
    let mut keys = BTreeSet::new();
    if let Some(listing) = state.listing() {
        keys.extend([
            IndexEntry::List(Dim::All),
            IndexEntry::List(Dim::State(listing.state.to_owned())),
            IndexEntry::List(Dim::Year(listing.year)),
            IndexEntry::List(Dim::Flow(state.kind())),
        ]);
        if let Some(k) = listing.kind {
            keys.insert(IndexEntry::List(Dim::Kind(k)));
        }
        for u in listing.units {
            keys.insert(IndexEntry::List(Dim::Unit(u)));
        }
        if let Some(a) = &rec.started_by {
            keys.insert(IndexEntry::List(Dim::StartedBy(a.clone())));
        }
        for a in &rec.acted {
            keys.insert(IndexEntry::List(Dim::ActedBy(a.clone())));
        }
    }
    for a in state.assignees(is_unit) {
        keys.insert(IndexEntry::Todo(a));
    }
    if let Some(due) = state.due() {
        keys.insert(IndexEntry::Due(due));
    }
    keys
}

/// What changes in one stream's index entries: those that appear and those that go, all
/// ordered by the stream's cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexDiff {
    /// Entries the stream gains.
    pub add: Vec<IndexEntry>,
    /// Entries the stream loses.
    pub remove: Vec<IndexEntry>,
}

/// What changes in the indexes when `before` becomes `after` (what the engine puts in a
/// [`crate::storage::DocChange`]).
pub fn index_diff(
    before: Option<&DocRecord>,
    after: &DocRecord,
    is_unit: &dyn Fn(&str) -> bool,
) -> IndexDiff {
    let before = before.map(|b| index_keys(b, is_unit));
    index_diff_from_keys(before.as_ref(), after, is_unit)
}

/// As [`index_diff`], from the entries the stream had before (computed while it was at
/// hand, so the writer need not keep a copy of the whole record).
pub(crate) fn index_diff_from_keys(
    before: Option<&IndexKeys>,
    after: &DocRecord,
    is_unit: &dyn Fn(&str) -> bool,
) -> IndexDiff {
    let new = index_keys(after, is_unit);
    let empty = IndexKeys::default();
    let old = before.unwrap_or(&empty);
    IndexDiff {
        add: new.difference(old).cloned().collect(),
        remove: old.difference(&new).cloned().collect(),
    }
}
