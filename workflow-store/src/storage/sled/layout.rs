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

use std::io::Write as _;

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use workflow_core::{ActorId, FlowState};

use crate::error::{Error, Result};
use crate::projection::DocRecord;

/// A JSON object's members in their order, each value as its raw JSON text (keys borrowed:
/// a state's member names hold no escapes).
struct Members<'a>(Vec<(&'a str, &'a RawValue)>);

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
                while let Some((k, v)) = map.next_entry::<&'a str, &'a RawValue>()? {
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(InOrder(std::marker::PhantomData))
    }
}

impl<'a> Members<'a> {
    fn of(at: &str, json: &'a str) -> Result<Members<'a>> {
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
    fn single(&self, at: &str) -> Result<(&'a str, &'a RawValue)> {
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

/// A record as the `docs` tree keeps it: without its parts, with how many opinions it has
/// (read here; [`lay_out`] writes the same frame around the state it serializes).
#[derive(Deserialize)]
struct StoredRecord<'a> {
    drafted_position: u64,
    opinions: usize,
    #[serde(default)]
    started_by: Option<ActorId>,
    #[serde(default)]
    acted: Vec<ActorId>,
    #[serde(borrow)]
    state: &'a RawValue,
}

/// A record's content as the `parts` tree keeps it: with the revision it is, so that a read
/// of a record and its content that a revision came between is noticed.
#[derive(Deserialize)]
pub(super) struct StoredContent<'a> {
    pub(super) revision: u32,
    #[serde(borrow)]
    content: &'a RawValue,
}

/// A record laid out for sled: the `docs` value, its content (`{"<flow>": …}`) where it was
/// asked for, and its opinions from the first one asked for on (with their index).
pub(super) struct Laid {
    pub(super) record: Vec<u8>,
    pub(super) content: Option<Vec<u8>>,
    pub(super) opinions: Vec<(usize, Vec<u8>)>,
}

/// Lays `record` out in one pass of serde over its state: every member but the content and
/// the opinions written into the record as serde_json writes them (the opinions as `[]`);
/// the content serialized only when `with_content`, the opinions only from `from_opinion`
/// on (what the store holds already is not serialized again).
pub(super) fn lay_out(record: &DocRecord, with_content: bool, from_opinion: usize) -> Result<Laid> {
    let internal = |e: &dyn std::fmt::Display| Error::Internal {
        reason: format!("document {}: {e}", record.id()),
    };
    let mut split = Split {
        state: Vec::with_capacity(2048),
        content_field: record.state.content_field(),
        opinions_field: record.state.opinions_field(),
        with_content,
        from_opinion,
        content: None,
        opinions: Vec::new(),
        opinion_count: 0,
    };
    record
        .state
        .serialize(EnumLevel(&mut split))
        .map_err(|e| internal(&e))?;
    // `StoredRecord` as serde_json writes it, around the state just written (who started
    // and acted only where anyone did).
    let mut bytes = Vec::with_capacity(split.state.len() + 64);
    write!(
        bytes,
        "{{\"drafted_position\":{},\"opinions\":{},",
        record.drafted_position, split.opinion_count
    )
    .map_err(|e| internal(&e))?;
    if let Some(a) = &record.started_by {
        bytes.extend_from_slice(b"\"started_by\":");
        serde_json::to_writer(&mut bytes, a).map_err(|e| internal(&e))?;
        bytes.push(b',');
    }
    if !record.acted.is_empty() {
        bytes.extend_from_slice(b"\"acted\":");
        serde_json::to_writer(&mut bytes, &record.acted).map_err(|e| internal(&e))?;
        bytes.push(b',');
    }
    bytes.extend_from_slice(b"\"state\":");
    bytes.extend_from_slice(&split.state);
    bytes.push(b'}');
    Ok(Laid {
        record: bytes,
        content: split.content,
        opinions: split.opinions,
    })
}

/// What one pass of serde over a state gathers (see [`lay_out`]).
struct Split {
    state: Vec<u8>,
    content_field: Option<&'static str>,
    opinions_field: Option<&'static str>,
    with_content: bool,
    from_opinion: usize,
    content: Option<Vec<u8>>,
    opinions: Vec<(usize, Vec<u8>)>,
    opinion_count: usize,
}

type SerError = serde_json::Error;

fn unexpected(what: &str) -> SerError {
    serde::ser::Error::custom(format!(
        "a flow state is a variant holding a struct, not {what}"
    ))
}

/// Declares the `Serializer` methods a level of the split never sees, refusing each.
macro_rules! refuse {
    ($($method:ident($($arg:ty),*);)*) => {
        $(fn $method(self, $(_: $arg),*) -> std::result::Result<Self::Ok, SerError> {
            Err(unexpected(stringify!($method)))
        })*
    };
}

/// Declares the compound `Serializer` methods a level never sees, refusing each.
macro_rules! refuse_compounds {
    () => {
        type SerializeSeq = serde::ser::Impossible<(), SerError>;
        type SerializeTuple = serde::ser::Impossible<(), SerError>;
        type SerializeTupleStruct = serde::ser::Impossible<(), SerError>;
        type SerializeTupleVariant = serde::ser::Impossible<(), SerError>;
        type SerializeMap = serde::ser::Impossible<(), SerError>;
        type SerializeStructVariant = serde::ser::Impossible<(), SerError>;
        refuse! {
            serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
            serialize_i64(i64); serialize_u8(u8); serialize_u16(u16); serialize_u32(u32);
            serialize_u64(u64); serialize_f32(f32); serialize_f64(f64); serialize_char(char);
            serialize_str(&str); serialize_bytes(&[u8]); serialize_none(); serialize_unit();
            serialize_unit_struct(&'static str);
            serialize_unit_variant(&'static str, u32, &'static str);
        }
        fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> std::result::Result<(), SerError> {
            Err(unexpected("an option"))
        }
        fn serialize_newtype_struct<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: &T,
        ) -> std::result::Result<(), SerError> {
            Err(unexpected("a newtype"))
        }
        fn serialize_seq(
            self,
            _: Option<usize>,
        ) -> std::result::Result<Self::SerializeSeq, SerError> {
            Err(unexpected("a sequence"))
        }
        fn serialize_tuple(self, _: usize) -> std::result::Result<Self::SerializeTuple, SerError> {
            Err(unexpected("a tuple"))
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> std::result::Result<Self::SerializeTupleStruct, SerError> {
            Err(unexpected("a tuple struct"))
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> std::result::Result<Self::SerializeTupleVariant, SerError> {
            Err(unexpected("a tuple variant"))
        }
        fn serialize_map(
            self,
            _: Option<usize>,
        ) -> std::result::Result<Self::SerializeMap, SerError> {
            Err(unexpected("a map"))
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> std::result::Result<Self::SerializeStructVariant, SerError> {
            Err(unexpected("a struct variant"))
        }
    };
}

/// The state as `FlowState` serializes it: `{"<flow>": <state>}`.
struct EnumLevel<'a>(&'a mut Split);

impl<'a> serde::Serializer for EnumLevel<'a> {
    type Ok = ();
    type Error = SerError;
    type SerializeStruct = serde::ser::Impossible<(), SerError>;
    refuse_compounds!();

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> std::result::Result<(), SerError> {
        let split = self.0;
        split.state.push(b'{');
        serde_json::to_writer(&mut split.state, variant)?;
        split.state.push(b':');
        let tag = variant;
        if split.content_field.is_none() && split.opinions_field.is_none() {
            // Kept whole: as serde_json writes it.
            serde_json::to_writer(&mut split.state, value)?;
        } else {
            value.serialize(StructLevel {
                split: &mut *split,
                tag,
            })?;
        }
        split.state.push(b'}');
        Ok(())
    }

    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Self::SerializeStruct, SerError> {
        Err(unexpected("a struct"))
    }
}

/// A flow's state struct: its members written as serde_json writes them, but the parts.
struct StructLevel<'a> {
    split: &'a mut Split,
    tag: &'static str,
}

impl<'a> serde::Serializer for StructLevel<'a> {
    type Ok = ();
    type Error = SerError;
    type SerializeStruct = Members2<'a>;
    refuse_compounds!();

    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> std::result::Result<(), SerError> {
        Err(unexpected("a variant"))
    }

    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Members2<'a>, SerError> {
        self.split.state.push(b'{');
        Ok(Members2 {
            split: self.split,
            tag: self.tag,
            first: true,
        })
    }
}

/// The members of a flow's state struct, as they come.
struct Members2<'a> {
    split: &'a mut Split,
    tag: &'static str,
    first: bool,
}

impl Members2<'_> {
    fn key(&mut self, key: &str) -> std::result::Result<(), SerError> {
        if !self.first {
            self.split.state.push(b',');
        }
        self.first = false;
        serde_json::to_writer(&mut self.split.state, key)?;
        self.split.state.push(b':');
        Ok(())
    }
}

impl serde::ser::SerializeStruct for Members2<'_> {
    type Ok = ();
    type Error = SerError;

    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> std::result::Result<(), SerError> {
        if Some(key) == self.split.content_field {
            if self.split.with_content {
                let mut content = b"{".to_vec();
                serde_json::to_writer(&mut content, self.tag)?;
                content.push(b':');
                serde_json::to_writer(&mut content, value)?;
                content.push(b'}');
                self.split.content = Some(content);
            }
            return Ok(());
        }
        if Some(key) == self.split.opinions_field {
            self.key(key)?;
            self.split.state.extend_from_slice(b"[]");
            let mut each = Opinions {
                split: &mut *self.split,
                n: 0,
            };
            value.serialize(&mut each)?;
            self.split.opinion_count = each.n;
            return Ok(());
        }
        self.key(key)?;
        serde_json::to_writer(&mut self.split.state, value)
    }

    fn end(self) -> std::result::Result<(), SerError> {
        self.split.state.push(b'}');
        Ok(())
    }
}

/// The opinions list: each element from `from_opinion` on serialized on its own.
struct Opinions<'a> {
    split: &'a mut Split,
    n: usize,
}

impl<'a, 'b> serde::Serializer for &'b mut Opinions<'a> {
    type Ok = ();
    type Error = SerError;
    type SerializeStruct = serde::ser::Impossible<(), SerError>;
    type SerializeSeq = Self;
    type SerializeTuple = serde::ser::Impossible<(), SerError>;
    type SerializeTupleStruct = serde::ser::Impossible<(), SerError>;
    type SerializeTupleVariant = serde::ser::Impossible<(), SerError>;
    type SerializeMap = serde::ser::Impossible<(), SerError>;
    type SerializeStructVariant = serde::ser::Impossible<(), SerError>;
    refuse! {
        serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
        serialize_i64(i64); serialize_u8(u8); serialize_u16(u16); serialize_u32(u32);
        serialize_u64(u64); serialize_f32(f32); serialize_f64(f64); serialize_char(char);
        serialize_str(&str); serialize_bytes(&[u8]); serialize_none(); serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }
    fn serialize_some<T: ?Sized + Serialize>(self, _: &T) -> std::result::Result<(), SerError> {
        Err(unexpected("an option of opinions"))
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: &T,
    ) -> std::result::Result<(), SerError> {
        Err(unexpected("a newtype of opinions"))
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> std::result::Result<(), SerError> {
        Err(unexpected("a variant of opinions"))
    }
    fn serialize_seq(self, _: Option<usize>) -> std::result::Result<Self, SerError> {
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> std::result::Result<Self::SerializeTuple, SerError> {
        Err(unexpected("a tuple of opinions"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Self::SerializeTupleStruct, SerError> {
        Err(unexpected("a tuple struct of opinions"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Self::SerializeTupleVariant, SerError> {
        Err(unexpected("a tuple variant of opinions"))
    }
    fn serialize_map(self, _: Option<usize>) -> std::result::Result<Self::SerializeMap, SerError> {
        Err(unexpected("a map of opinions"))
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Self::SerializeStruct, SerError> {
        Err(unexpected("a struct of opinions"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> std::result::Result<Self::SerializeStructVariant, SerError> {
        Err(unexpected("a struct variant of opinions"))
    }
}

impl serde::ser::SerializeSeq for &mut Opinions<'_> {
    type Ok = ();
    type Error = SerError;

    fn serialize_element<T: ?Sized + Serialize>(
        &mut self,
        value: &T,
    ) -> std::result::Result<(), SerError> {
        if self.n >= self.split.from_opinion {
            self.split
                .opinions
                .push((self.n, serde_json::to_vec(value)?));
        }
        self.n += 1;
        Ok(())
    }

    fn end(self) -> std::result::Result<(), SerError> {
        Ok(())
    }
}

/// The content entry of the `parts` tree: the content (`{"<flow>": …}`, as [`lay_out`]
/// wrote it) with its revision, as serde_json writes [`StoredContent`].
pub(super) fn content_entry(revision: u32, content: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(content.len() + 32);
    write!(out, "{{\"revision\":{revision},\"content\":").map_err(|e| Error::Internal {
        reason: e.to_string(),
    })?;
    out.extend_from_slice(content);
    out.push(b'}');
    Ok(out)
}

/// A `docs` value as read: how many opinions it has, and its state without its parts.
pub(super) struct ReadRecord<'a> {
    pub(super) drafted_position: u64,
    pub(super) opinions: usize,
    pub(super) started_by: Option<ActorId>,
    pub(super) acted: Vec<ActorId>,
    state: &'a RawValue,
}

/// Reads a `docs` value.
pub(super) fn read_record<'a>(at: &str, bytes: &'a [u8]) -> Result<ReadRecord<'a>> {
    let r: StoredRecord<'a> = serde_json::from_slice(bytes).map_err(|e| Error::corrupt(at, e))?;
    Ok(ReadRecord {
        drafted_position: r.drafted_position,
        opinions: r.opinions,
        started_by: r.started_by,
        acted: r.acted,
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
        // The content as kept: `{"<flow>":<content>}`.
        let value = content
            .content
            .get()
            .strip_prefix(&format!("{{{}:", quoted(tag)))
            .and_then(|rest| rest.strip_suffix('}'))
            .ok_or_else(|| {
                Error::corrupt(
                    at,
                    format!("the content of a {tag} record is of another flow"),
                )
            })?;
        // Put back as the state's last member: serde reads members in any order.
        state.pop();
        if state.len() > 1 {
            state.push(',');
        }
        state.push_str(&format!("{}:{value}}}", quoted(field)));
    }
    let state = format!("{{{}:{state}}}", quoted(tag));
    serde_json::from_str(&state).map_err(|e| Error::corrupt(at, e))
}
