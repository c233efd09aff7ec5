//! Every key encoding of the backends (sled's tree keys, PostgreSQL's `bytea` keys, which sort
//! the same way): how positions, streams, series, lists, to-do
//! entries and deadlines become sortable bytes in its trees.

use workflow_core::{
    DocumentId, StreamKind, Timestamp, kind::Kind, numbering::Series, todo::Assignee,
};

use crate::projection::{Cursor, Dim, IndexEntry};

/// A stream-index key: stream id (16 bytes) then version (u64, big-endian).
pub(crate) fn stream_key(id: DocumentId, version: u64) -> [u8; 24] {
    let mut k = [0u8; 24];
    k[..16].copy_from_slice(id.0.as_bytes());
    k[16..].copy_from_slice(&version.to_be_bytes());
    k
}

/// The `parts` key of a stream's content: the stream id, then `c`.
pub(crate) fn content_key(id: DocumentId) -> [u8; 17] {
    let mut k = [b'c'; 17];
    k[..16].copy_from_slice(id.0.as_bytes());
    k
}

/// The `parts` key prefix of a stream's opinions: the stream id, then `o`.
pub(crate) fn opinion_prefix(id: DocumentId) -> [u8; 17] {
    let mut k = [b'o'; 17];
    k[..16].copy_from_slice(id.0.as_bytes());
    k
}

/// The `parts` key of a stream's opinion `n` (from 0): its prefix, then `n` (u64 BE), so
/// that a stream's opinions are read back in order.
pub(crate) fn opinion_key(id: DocumentId, n: usize) -> [u8; 25] {
    let mut k = [0u8; 25];
    k[..17].copy_from_slice(&opinion_prefix(id));
    k[17..].copy_from_slice(&(n as u64).to_be_bytes());
    k
}

/// The key prefix of a numbering series in the `numbers` tree.
pub(crate) fn series_prefix(series: &Series) -> Vec<u8> {
    let mut k = match series {
        Series::Document { prefix, year } => format!("D{prefix}\u{1f}{year:04}"),
        Series::Receipt { prefix, year } => format!("R{prefix}\u{1f}{year:04}"),
        Series::Memo { prefix, year } => format!("M{prefix}\u{1f}{year:04}"),
        Series::Supervision { year } => format!("S{year:04}"),
        Series::Item {
            fonds,
            year,
            retention,
        } => {
            format!("A{fonds}\u{1f}{year:04}\u{1f}{}", retention.code())
        }
    }
    .into_bytes();
    k.push(0);
    k
}

/// The key of number `n` of a series in the `numbers` tree.
pub(crate) fn series_key(series: &Series, n: u32) -> Vec<u8> {
    let mut k = series_prefix(series);
    k.extend_from_slice(&n.to_be_bytes());
    k
}

/// The number a series key holds (the inverse of [`series_key`]), or `None` for a key that is
/// not one of the series `prefix` is of.
pub(crate) fn series_number(prefix: &[u8], key: &[u8]) -> Option<u32> {
    let tail: [u8; 4] = key.strip_prefix(prefix)?.try_into().ok()?;
    Some(u32::from_be_bytes(tail))
}

/// The suffix that orders list entries: drafting position (big-endian) then the id.
pub(crate) fn order_suffix(c: Cursor) -> [u8; 24] {
    let mut s = [0u8; 24];
    s[..8].copy_from_slice(&c.drafted_position.to_be_bytes());
    s[8..].copy_from_slice(c.id.0.as_bytes());
    s
}

/// The cursor an order suffix encodes.
pub(crate) fn cursor_from_suffix(bytes: &[u8]) -> Option<Cursor> {
    Cursor::from_bytes(bytes)
}

/// The `lists` key prefix of a dimension: a tag, the value, then 0x00.
pub(crate) fn dim_prefix(dim: &Dim) -> Vec<u8> {
    let mut k = match dim {
        Dim::All => b"a".to_vec(),
        Dim::State(s) => format!("s{s}").into_bytes(),
        Dim::Unit(u) => format!("u{u}").into_bytes(),
        Dim::Kind(k) => format!("k{k:?}").into_bytes(),
        Dim::Year(y) => format!("y{y:04}").into_bytes(),
        Dim::Flow(f) => format!("f{f}").into_bytes(),
        Dim::StartedBy(a) => format!("b{a}").into_bytes(),
        Dim::ActedBy(a) => format!("h{a}").into_bytes(),
    };
    k.push(0);
    k
}

/// The keys of a list before `before` (the whole list when `None`), for a scan from the
/// end: the list's prefix (inclusive; the order suffix follows it in each key) and where to
/// stop (exclusive). Both backends scan this range backwards.
pub(crate) fn newest_range(dim: &Dim, before: Option<Cursor>) -> (Vec<u8>, Vec<u8>) {
    let prefix = dim_prefix(dim);
    let mut end = prefix.clone();
    match before {
        Some(c) => end.extend_from_slice(&order_suffix(c)),
        None => end.push(0xff),
    }
    (prefix, end)
}

/// The dimension a `lists` key prefix (without its 0x00) names; `None` for the deadline
/// index and anything unknown.
pub(crate) fn dim_from_prefix(prefix: &[u8]) -> Option<Dim> {
    let text = std::str::from_utf8(prefix).ok()?;
    let (tag, value) = text.split_at(1.min(text.len()));
    match tag {
        "a" if value.is_empty() => Some(Dim::All),
        "s" => Some(Dim::State(value.to_owned())),
        "u" => Some(Dim::Unit(value.into())),
        "k" => Kind::ALL
            .into_iter()
            .find(|k| format!("{k:?}") == value)
            .map(Dim::Kind),
        "y" => value.parse().ok().map(Dim::Year),
        "f" => value.parse::<StreamKind>().ok().map(Dim::Flow),
        "b" => Some(Dim::StartedBy(value.into())),
        "h" => Some(Dim::ActedBy(value.into())),
        _ => None,
    }
}

/// The `inbox` key prefix of an assignee: its text form, then 0x00.
pub(crate) fn assignee_prefix(a: &Assignee) -> Vec<u8> {
    let mut k = a.to_string().into_bytes();
    k.push(0);
    k
}

/// Key prefix of the deadline index, kept in the `lists` tree: `d`, 0x00, then the due
/// instant (sortable) and the order suffix.
pub(crate) const DUE_PREFIX: &[u8] = b"d\0";

/// An instant as 8 bytes that sort like the instant (sign bit flipped, big-endian).
pub(crate) fn sortable_instant(at: Timestamp) -> [u8; 8] {
    ((at.timestamp_micros() as u64) ^ (1 << 63)).to_be_bytes()
}

/// Which tree an index entry lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IndexTree {
    /// `lists`: list dimensions and the deadline index.
    Lists,
    /// `inbox`: to-do entries.
    Inbox,
}

/// The tree and key of one index entry of a stream.
pub(crate) fn index_key(entry: &IndexEntry, order: Cursor) -> (IndexTree, Vec<u8>) {
    let (tree, mut key) = match entry {
        IndexEntry::List(dim) => (IndexTree::Lists, dim_prefix(dim)),
        IndexEntry::Todo(a) => (IndexTree::Inbox, assignee_prefix(a)),
        IndexEntry::Due(at) => {
            let mut k = DUE_PREFIX.to_vec();
            k.extend_from_slice(&sortable_instant(*at));
            (IndexTree::Lists, k)
        }
    };
    key.extend_from_slice(&order_suffix(order));
    (tree, key)
}

/// A recorded head as stored: the position (8 bytes, big-endian), then the hash.
pub(crate) fn head_value(position: u64, hash: &str) -> Vec<u8> {
    let mut v = position.to_be_bytes().to_vec();
    v.extend_from_slice(hash.as_bytes());
    v
}
