//! What the projections hold for one document: its record, its list-index keys and its
//! to-do keys. Backend-neutral: the sled backend turns differences into tree writes, and a
//! later backend would turn them into rows.

use std::collections::BTreeSet;

use chrono::Datelike;
use serde::{Deserialize, Serialize};
use workflow_core::{Assignee, Document, DocumentId, Kind, State, Timestamp, UnitCode, china_date};

/// The state projection of one document: the folded state plus where its stream began,
/// which orders every list (drafting order, stable under pagination).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DocRecord {
    /// Position of the `Drafted` event.
    pub drafted_position: u64,
    /// The folded state.
    pub document: Document,
}

/// The year a document is listed under: its issue year once issued, else its drafting year
/// (China Standard Time).
pub fn listing_year(doc: &Document) -> i32 {
    match doc.issue() {
        Some(i) => i.issue_date.year(),
        None => china_date(doc.created_at()).year(),
    }
}

/// A list dimension and its value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Dim {
    /// Every document.
    All,
    /// By state.
    State(State),
    /// By unit: issuing, co-issuing and drafter's unit.
    Unit(UnitCode),
    /// By 文种.
    Kind(Kind),
    /// By listing year.
    Year(i32),
}

impl Dim {
    /// The key prefix of this dimension's entries: a tag, the value, then 0x00.
    pub(crate) fn prefix(&self) -> Vec<u8> {
        let mut k = match self {
            Dim::All => b"a".to_vec(),
            Dim::State(s) => format!("s{s:?}").into_bytes(),
            Dim::Unit(u) => format!("u{u}").into_bytes(),
            Dim::Kind(k) => format!("k{k:?}").into_bytes(),
            Dim::Year(y) => format!("y{y:04}").into_bytes(),
        };
        k.push(0);
        k
    }
}

/// The list dimensions a document appears under.
pub(crate) fn dims(doc: &Document) -> BTreeSet<Dim> {
    let mut d = BTreeSet::from([
        Dim::All,
        Dim::State(doc.state()),
        Dim::Kind(doc.kind()),
        Dim::Year(listing_year(doc)),
        Dim::Unit(doc.fields().issuing_unit.clone()),
        Dim::Unit(doc.drafter_unit().clone()),
    ]);
    for u in &doc.fields().co_issuing_units {
        d.insert(Dim::Unit(u.clone()));
    }
    d
}

/// The to-do key prefix of an assignee: its text form, then 0x00.
pub(crate) fn assignee_prefix(a: &Assignee) -> Vec<u8> {
    let mut k = a.to_string().into_bytes();
    k.push(0);
    k
}

/// The suffix that orders entries: drafting position (big-endian) then the id.
pub(crate) fn order_suffix(drafted_position: u64, id: DocumentId) -> [u8; 24] {
    let mut s = [0u8; 24];
    s[..8].copy_from_slice(&drafted_position.to_be_bytes());
    s[8..].copy_from_slice(id.0.as_bytes());
    s
}

/// A position in a list: the order suffix of the last entry returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Cursor {
    /// Drafting position of the last entry.
    pub drafted_position: u64,
    /// Its id.
    pub id: DocumentId,
}

impl Cursor {
    /// The opaque page token (hex of the order suffix).
    pub(crate) fn token(&self) -> String {
        hex::encode(order_suffix(self.drafted_position, self.id))
    }

    /// Reads a page token; `None` if it is not one.
    pub(crate) fn from_token(token: &str) -> Option<Cursor> {
        let bytes = hex::decode(token).ok()?;
        Cursor::from_suffix(&bytes)
    }

    pub(crate) fn from_suffix(bytes: &[u8]) -> Option<Cursor> {
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

/// Index entries that appear and disappear when a document changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct IndexDiff {
    pub(crate) lists_add: Vec<Vec<u8>>,
    pub(crate) lists_remove: Vec<Vec<u8>>,
    pub(crate) inbox_add: Vec<Vec<u8>>,
    pub(crate) inbox_remove: Vec<Vec<u8>>,
}

/// The list and to-do keys of one record.
pub(crate) type IndexKeys = (BTreeSet<Vec<u8>>, BTreeSet<Vec<u8>>);

/// The list and to-do keys of a record. `is_unit` tells which recipient strings are units.
pub(crate) fn index_keys(rec: &DocRecord, is_unit: &dyn Fn(&str) -> bool) -> IndexKeys {
    let suffix = order_suffix(rec.drafted_position, rec.document.id());
    let with_suffix = |mut k: Vec<u8>| {
        k.extend_from_slice(&suffix);
        k
    };
    let mut lists: BTreeSet<Vec<u8>> = dims(&rec.document)
        .iter()
        .map(|d| with_suffix(d.prefix()))
        .collect();
    if let Some(k) = due_key(rec) {
        lists.insert(k);
    }
    let inbox = rec
        .document
        .assignees(is_unit)
        .iter()
        .map(|a| with_suffix(assignee_prefix(a)))
        .collect();
    (lists, inbox)
}

/// Key prefix of the deadline index, kept in the lists tree: `d`, 0x00, then the current
/// stage's due instant (sortable) and the order suffix. The deadline sweep reads only what is
/// due instead of every document in review.
pub(crate) const DUE_PREFIX: &[u8] = b"d\0";

/// An instant as 8 bytes that sort like the instant (sign bit flipped, big-endian).
pub(crate) fn sortable_instant(at: Timestamp) -> [u8; 8] {
    ((at.timestamp_micros() as u64) ^ (1 << 63)).to_be_bytes()
}

/// The deadline-index key of a document whose current stage has a due date.
fn due_key(rec: &DocRecord) -> Option<Vec<u8>> {
    let doc = &rec.document;
    if !matches!(doc.state(), State::InReview | State::Countersigning) {
        return None;
    }
    let due = doc.current()?.1.due_at?;
    let mut k = DUE_PREFIX.to_vec();
    k.extend_from_slice(&sortable_instant(due));
    k.extend_from_slice(&order_suffix(rec.drafted_position, doc.id()));
    Some(k)
}

/// What changes in the indexes when `before` becomes `after`.
pub(crate) fn index_diff(
    before: Option<&DocRecord>,
    after: &DocRecord,
    is_unit: &dyn Fn(&str) -> bool,
) -> IndexDiff {
    let before = before.map(|b| index_keys(b, is_unit));
    index_diff_from_keys(before.as_ref(), after, is_unit)
}

/// As [`index_diff`], from the keys the document had before (computed while it was at hand,
/// so the writer need not keep a copy of the whole record).
pub(crate) fn index_diff_from_keys(
    before: Option<&IndexKeys>,
    after: &DocRecord,
    is_unit: &dyn Fn(&str) -> bool,
) -> IndexDiff {
    let (new_lists, new_inbox) = index_keys(after, is_unit);
    let empty = IndexKeys::default();
    let (old_lists, old_inbox) = before.unwrap_or(&empty);
    IndexDiff {
        lists_add: new_lists.difference(old_lists).cloned().collect(),
        lists_remove: old_lists.difference(&new_lists).cloned().collect(),
        inbox_add: new_inbox.difference(old_inbox).cloned().collect(),
        inbox_remove: old_inbox.difference(&new_inbox).cloned().collect(),
    }
}
