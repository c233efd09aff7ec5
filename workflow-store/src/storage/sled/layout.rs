//! How sled lays a record out: the state's JSON split into the record the `docs` tree keeps
//! (rewritten by every command), its content and its opinions (the `parts` tree: the content
//! written when its revision changes, each opinion once), and spliced back when read.
//!
//! The core only says which field of a flow's state is its content and which its opinions
//! ([`workflow_core::Flow::CONTENT_FIELD`], [`workflow_core::Flow::OPINIONS_FIELD`]); the split
//! is done on the JSON, keeping every other field's bytes and order as serde wrote them, so
//! that the record is byte for byte what the layout has always stored (a record without
//! its content field, with `"opinions":[]`; `tests/data/sled-layout.json` pins it). A state
//! is never built without its content: a record whose content is missing reads as corrupt.

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use workflow_core::FlowState;

use crate::error::{Error, Result};
use crate::projection::DocRecord;

/// A JSON object's members in their order, each value as its raw JSON text.
struct Members<'a>(Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Members<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct InOrder<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for InOrder<'a> {
            type Value = Members<'a>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(
                self,
                mut map: M,
            ) -> std::result::Result<Members<'a>, M::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, &'a RawValue>()? {
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(InOrder(std::marker::PhantomData))
    }
}

impl Members<'_> {
    fn of<'a>(at: &str, json: &'a str) -> Result<Members<'a>> {
        serde_json::from_str(json).map_err(|e| Error::corrupt(at, e))
    }

    /// The object again, members in order, `value` standing in for `name`'s where given.
    fn write(&self, replace: &[(&str, &str)]) -> String {
        let mut out = String::from("{");
        for (i, (k, v)) in self.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&quoted(k));
            out.push(':');
            let value = replace
                .iter()
                .find(|(name, _)| name == k)
                .map_or(v.get(), |(_, value)| value);
            out.push_str(value);
        }
        out.push('}');
        out
    }

    /// The object's one member (a flow's tag and its state, as `FlowState` serializes).
    fn single<'a>(&'a self, at: &str) -> Result<(&'a str, &'a RawValue)> {
        match self.0.as_slice() {
            [(tag, v)] => Ok((tag, v)),
            _ => Err(Error::corrupt(
                at,
                "a state is one flow's: one member expected",
            )),
        }
    }
}

fn quoted(key: &str) -> String {
    // A string always serializes.
    serde_json::to_string(key).unwrap_or_default()
}

/// A record as the `docs` tree keeps it: without its parts, with how many opinions it has.
#[derive(Serialize, Deserialize)]
struct StoredRecord<'a> {
    drafted_position: u64,
    opinions: usize,
    #[serde(borrow)]
    state: &'a RawValue,
}

/// A record's content as the `parts` tree keeps it: with the revision it is, so that a read
/// of a record and its content that a revision came between is noticed.
#[derive(Serialize, Deserialize)]
pub(super) struct StoredContent<'a> {
    pub(super) revision: u32,
    #[serde(borrow)]
    content: &'a RawValue,
}

/// A record laid out for sled: the `docs` value, its content (`{"<flow>": …}`), its opinions.
pub(super) struct Laid {
    pub(super) record: Vec<u8>,
    pub(super) content: Option<String>,
    pub(super) opinions: Vec<String>,
}

/// Splits `record` into what the `docs` tree keeps and its parts.
pub(super) fn lay_out(record: &DocRecord) -> Result<Laid> {
    let at = format!("document {}", record.id());
    let internal = |e: serde_json::Error| Error::Internal {
        reason: format!("{at}: {e}"),
    };
    let whole = serde_json::to_string(&record.state).map_err(internal)?;
    let outer = Members::of(&at, &whole)?;
    let (tag, state) = outer.single(&at)?;
    let members = Members::of(&at, state.get())?;
    let content_field = record.state.content_field();
    let opinions_field = record.state.opinions_field();
    let mut content = None;
    let mut opinions = Vec::new();
    let mut kept = Vec::new();
    for (k, v) in members.0 {
        if Some(k.as_str()) == content_field {
            content = Some(format!("{{{}:{}}}", quoted(tag), v.get()));
        } else if Some(k.as_str()) == opinions_field {
            let list: Vec<&RawValue> =
                serde_json::from_str(v.get()).map_err(|e| Error::corrupt(&at, e))?;
            opinions = list.iter().map(|o| o.get().to_owned()).collect();
            kept.push((k, v));
        } else {
            kept.push((k, v));
        }
    }
    let state = Members(kept).write(&[(opinions_field.unwrap_or_default(), "[]")]);
    let state = format!("{{{}:{state}}}", quoted(tag));
    let state = RawValue::from_string(state).map_err(internal)?;
    let record = serde_json::to_vec(&StoredRecord {
        drafted_position: record.drafted_position,
        opinions: opinions.len(),
        state: &state,
    })
    .map_err(internal)?;
    Ok(Laid {
        record,
        content,
        opinions,
    })
}

/// The content entry of the `parts` tree: the content with its revision.
pub(super) fn content_entry(revision: u32, content: &str) -> Result<Vec<u8>> {
    let content = RawValue::from_string(content.to_owned()).map_err(|e| Error::Internal {
        reason: e.to_string(),
    })?;
    serde_json::to_vec(&StoredContent {
        revision,
        content: &content,
    })
    .map_err(|e| Error::Internal {
        reason: e.to_string(),
    })
}

/// A `docs` value as read: how many opinions it has, and its state without its parts.
pub(super) struct ReadRecord<'a> {
    pub(super) drafted_position: u64,
    pub(super) opinions: usize,
    state: &'a RawValue,
}

/// Reads a `docs` value.
pub(super) fn read_record<'a>(at: &str, bytes: &'a [u8]) -> Result<ReadRecord<'a>> {
    let r: StoredRecord<'a> = serde_json::from_slice(bytes).map_err(|e| Error::corrupt(at, e))?;
    Ok(ReadRecord {
        drafted_position: r.drafted_position,
        opinions: r.opinions,
        state: r.state,
    })
}

/// Reads a content entry: its revision and the content (`{"<flow>": …}`).
pub(super) fn read_content<'a>(at: &str, bytes: &'a [u8]) -> Result<StoredContent<'a>> {
    serde_json::from_slice(bytes).map_err(|e| Error::corrupt(at, e))
}

/// The state of a record read with its parts put back: `content` (as
/// [`read_content`] gave it) where its flow has one, `opinions` (each an opinion's JSON).
pub(super) fn splice(
    at: &str,
    record: &ReadRecord<'_>,
    content: Option<&StoredContent<'_>>,
    opinions: &[&[u8]],
) -> Result<FlowState> {
    let outer = Members::of(at, record.state.get())?;
    let (tag, state) = outer.single(at)?;
    let kind: workflow_core::StreamKind = tag.parse().map_err(|e| Error::corrupt(at, e))?;
    let members = Members::of(at, state.get())?;
    let (content_field, opinions_field) = FlowState::parts_fields(kind);
    let mut list = String::from("[");
    for (i, o) in opinions.iter().enumerate() {
        if i > 0 {
            list.push(',');
        }
        list.push_str(std::str::from_utf8(o).map_err(|e| Error::corrupt(at, e))?);
    }
    list.push(']');
    let mut replace = Vec::new();
    if let Some(field) = opinions_field {
        replace.push((field, list.as_str()));
    }
    let mut state = members.write(&replace);
    if let Some(field) = content_field {
        let Some(content) = content else {
            return Err(Error::corrupt(
                at,
                "its content is missing from the parts tree",
            ));
        };
        let wrapped = Members::of(at, content.content.get())?;
        let (content_tag, value) = wrapped.single(at)?;
        if content_tag != tag {
            return Err(Error::corrupt(
                at,
                format!("a {tag} record with a {content_tag} content"),
            ));
        }
        // Put back as the state's last member: serde reads members in any order.
        state.pop();
        if state.len() > 1 {
            state.push(',');
        }
        state.push_str(&format!("{}:{}}}", quoted(field), value.get()));
    }
    let state = format!("{{{}:{state}}}", quoted(tag));
    serde_json::from_str(&state).map_err(|e| Error::corrupt(at, e))
}
