//! How events are stored and read back: every event has a stable type name and a schema
//! version, and [`upcast`] is the one place where an older payload is brought up to the
//! current schema before decoding. The audit log must stay readable for decades.

use serde::Deserialize;
use serde_json::Value;

/// The current schema version of every event type. Bump per type when its payload changes,
/// and teach [`upcast`] to read the old form. A new optional field that is left out when
/// empty, and defaults when absent, is not a change of form: every stored payload keeps its
/// bytes and reads as before (`Drafted.warnings`, `Archived.scheduled_retention`).
pub const SCHEMA_VERSION: u32 = 1;

/// Why [`EventCodec::deserialize_payload`] failed: the deserializer's own error, or an
/// upcasting error.
#[derive(Debug)]
pub enum PayloadError<E> {
    /// The payload text does not fit the type.
    Serde(E),
    /// The schema version cannot be upcast.
    Decode(DecodeError),
}

/// The adjacently tagged form `{"type": …, "payload": …}` presented over a tag we already
/// hold and a deserializer positioned at the payload.
struct Tagged<'t, D> {
    type_name: &'t str,
    payload: Option<D>,
    next: u8,
}

impl<'de, D: serde::Deserializer<'de>> serde::Deserializer<'de> for Tagged<'_, D> {
    type Error = D::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de, D: serde::Deserializer<'de>> serde::de::MapAccess<'de> for Tagged<'_, D> {
    type Error = D::Error;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, D::Error> {
        use serde::de::IntoDeserializer;
        let key = match self.next {
            0 => "type",
            1 => "payload",
            _ => return Ok(None),
        };
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, D::Error> {
        use serde::de::{Error, IntoDeserializer};
        self.next += 1;
        if self.next == 1 {
            return seed.deserialize(self.type_name.into_deserializer());
        }
        match self.payload.take() {
            Some(d) => seed.deserialize(d),
            None => Err(D::Error::custom("payload read twice")),
        }
    }
}

/// A stored event that cannot be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The schema version is newer than this program knows.
    #[error("event type {type_name} has schema version {version}, newer than {SCHEMA_VERSION}")]
    FutureVersion {
        /// The stored type.
        type_name: String,
        /// The stored version.
        version: u32,
    },
    /// The payload does not match the type.
    #[error("event type {type_name} has an unreadable payload: {reason}")]
    Payload {
        /// The stored type.
        type_name: String,
        /// The decoder's complaint.
        reason: String,
    },
}

/// Brings a payload of schema `version` up to [`SCHEMA_VERSION`]. Version 1 is the first,
/// so today this only refuses versions from the future; later schema changes add arms here.
pub fn upcast(type_name: &str, version: u32, payload: Value) -> Result<Value, DecodeError> {
    if version > SCHEMA_VERSION {
        return Err(DecodeError::FutureVersion {
            type_name: type_name.to_owned(),
            version,
        });
    }
    Ok(payload)
}

/// How a flow's events are stored and read back (DESIGN §4): each is an adjacently tagged
/// enum (`{"type": …, "payload": …}`, struct variants only) whose tag is the stable type
/// name; the envelope keeps the type and the payload apart, with the schema version. A flow
/// writes [`EventCodec::type_name`] and [`EventCodec::step`]; reading back, through
/// [`upcast`], is the same for every flow.
pub trait EventCodec: serde::Serialize + serde::de::DeserializeOwned + Sized {
    /// The stable type name stored in the log.
    fn type_name(&self) -> &'static str;

    /// The step in the office's words, for timelines.
    fn step(&self) -> &'static str;

    /// The payload alone, as stored in the envelope's `payload` field. Every event enum is
    /// tagged with struct variants only, so the payload is always there; anything else
    /// would be a serde bug.
    fn payload(&self) -> Value {
        match serde_json::to_value(self) {
            Ok(Value::Object(mut m)) => m.remove("payload").unwrap_or(Value::Null),
            _ => Value::Null,
        }
    }

    /// Decodes a stored `type`, schema `version` and `payload`, upcasting older versions.
    fn decode(type_name: &str, version: u32, payload: Value) -> Result<Self, DecodeError> {
        let payload = upcast(type_name, version, payload)?;
        let tagged = serde_json::json!({ "type": type_name, "payload": payload });
        serde_json::from_value(tagged).map_err(|e| DecodeError::Payload {
            type_name: type_name.to_owned(),
            reason: e.to_string(),
        })
    }

    /// As [`EventCodec::decode`], from a borrowed payload (no copy for the current schema).
    fn decode_ref(type_name: &str, version: u32, payload: &Value) -> Result<Self, DecodeError> {
        if version != SCHEMA_VERSION {
            return Self::decode(type_name, version, payload.clone());
        }
        use serde::de::value::MapDeserializer;
        let tag = Value::String(type_name.to_owned());
        let fields = [("type", &tag), ("payload", payload)];
        let map = MapDeserializer::<_, serde_json::Error>::new(fields.into_iter());
        Self::deserialize(map).map_err(|e| DecodeError::Payload {
            type_name: type_name.to_owned(),
            reason: e.to_string(),
        })
    }

    /// As [`EventCodec::decode`], from the payload's JSON text, read straight into the
    /// typed event without building a `Value` tree first.
    fn decode_json(
        type_name: &str,
        version: u32,
        payload: &serde_json::value::RawValue,
    ) -> Result<Self, DecodeError> {
        Self::deserialize_payload(type_name, version, payload).map_err(|e| match e {
            PayloadError::Decode(d) => d,
            PayloadError::Serde(e) => DecodeError::Payload {
                type_name: type_name.to_owned(),
                reason: e.to_string(),
            },
        })
    }

    /// Reads a payload from any serde deserializer, given the stored `type` and schema
    /// `version`: a log reader that meets `type` before `payload` decodes the event in the
    /// same pass that reads the envelope (replay and verify read every stored event so).
    /// Older schema versions go through a `Value` and [`upcast`].
    fn deserialize_payload<'de, D: serde::Deserializer<'de>>(
        type_name: &str,
        version: u32,
        payload: D,
    ) -> Result<Self, PayloadError<D::Error>> {
        if version != SCHEMA_VERSION {
            let value = Value::deserialize(payload).map_err(PayloadError::Serde)?;
            return Self::decode(type_name, version, value).map_err(PayloadError::Decode);
        }
        Self::deserialize(Tagged {
            type_name,
            payload: Some(payload),
            next: 0,
        })
        .map_err(PayloadError::Serde)
    }
}
