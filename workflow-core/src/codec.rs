//! How events are stored and read back: every event has a stable type name and a schema
//! version, and [`upcast`] is the one place where an older payload is brought up to the
//! current schema before decoding. The audit log must stay readable for decades.

use serde_json::Value;

/// The current schema version of every event type. Bump per type when its payload changes,
/// and teach [`upcast`] to read the old form. A new optional field that is left out when
/// empty, and defaults when absent, is not a change of form: every stored payload keeps its
/// bytes and reads as before (`Drafted.warnings`, `Archived.scheduled_retention`).
pub const SCHEMA_VERSION: u32 = 1;

/// Why [`crate::EventData::deserialize_payload`] failed: the deserializer's own error, or an
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
pub(crate) struct Tagged<'t, D> {
    pub(crate) type_name: &'t str,
    pub(crate) payload: Option<D>,
    pub(crate) next: u8,
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

/// Decodes a stored adjacently tagged event (`{"type", "payload"}`) of any flow from a
/// borrowed payload, upcasting older schema versions.
/// The payload of an adjacently tagged event (`{"type": …, "payload": …}`) alone, as stored
/// in the envelope's `payload` field. Every flow's event enum is tagged that way with struct
/// variants only, so the payload is always there; anything else would be a serde bug.
pub(crate) fn payload_of<T: serde::Serialize>(event: &T) -> Value {
    match serde_json::to_value(event) {
        Ok(Value::Object(mut m)) => m.remove("payload").unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

pub(crate) fn decode_tagged<T: serde::de::DeserializeOwned>(
    type_name: &str,
    version: u32,
    payload: &Value,
) -> Result<T, DecodeError> {
    let payload = upcast(type_name, version, payload.clone())?;
    let tagged = serde_json::json!({ "type": type_name, "payload": payload });
    serde_json::from_value(tagged).map_err(|e| DecodeError::Payload {
        type_name: type_name.to_owned(),
        reason: e.to_string(),
    })
}

/// Reads an adjacently tagged event of any flow from a deserializer positioned at its
/// payload, given the stored type and schema version.
pub(crate) fn deserialize_tagged<'de, T, D>(
    type_name: &str,
    version: u32,
    payload: D,
) -> Result<T, PayloadError<D::Error>>
where
    T: serde::de::DeserializeOwned,
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize;
    if version != SCHEMA_VERSION {
        let value = Value::deserialize(payload).map_err(PayloadError::Serde)?;
        return decode_tagged(type_name, version, &value).map_err(PayloadError::Decode);
    }
    T::deserialize(Tagged {
        type_name,
        payload: Some(payload),
        next: 0,
    })
    .map_err(PayloadError::Serde)
}
