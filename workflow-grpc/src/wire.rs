//! `EventEnvelope` on the wire, written by hand instead of generated (the build maps the
//! proto message here) for one reason: a subscription's events can be encoded once and the
//! same bytes written to every subscriber ([`EventEnvelope::sealed`]), instead of each
//! subscriber's stream encoding its own copy. It encodes and decodes exactly as the
//! generated type would (proto3: fields at their default are not written).

use std::sync::Arc;

use prost::bytes::{Buf, BufMut};
use prost::encoding::{DecodeContext, WireType, message, skip_field, string, uint32, uint64};

/// One event as stored in the audit log (see `proto/workflow/v1/workflow.proto`).
#[derive(Clone, Debug, Default)]
pub struct EventEnvelope {
    /// Global, gapless, from 1.
    pub position: u64,
    /// The document id.
    pub stream_id: String,
    /// Within the document, from 1.
    pub version: u64,
    /// UUID.
    pub event_id: String,
    /// The idempotency key of its command.
    pub command_id: String,
    /// Who.
    pub actor_id: String,
    /// When (UTC).
    pub recorded_at: Option<prost_types::Timestamp>,
    /// E.g. "Countersigned".
    pub r#type: String,
    /// Payload schema version.
    pub schema_version: u32,
    /// The payload, JSON.
    pub payload_json: String,
    /// The previous event's hash (SHA-256 hex, or `sm3:` and SM3 hex in a log chained with SM3).
    pub prev_hash: String,
    /// SHA-256 (hex) over the canonical envelope (`sm3:` and SM3 hex in a log chained with SM3).
    pub hash: String,
    /// The message already encoded: written as it is (the fields above are then empty).
    pub(crate) sealed: Option<Arc<[u8]>>,
}

impl EventEnvelope {
    /// The event encoded once, as a message whose clones share the bytes: what a
    /// subscription sends to each of its subscribers. Its fields read as empty.
    pub fn sealed(&self) -> EventEnvelope {
        let bytes: Arc<[u8]> = prost::Message::encode_to_vec(self).into();
        EventEnvelope {
            sealed: Some(bytes),
            ..EventEnvelope::default()
        }
    }

    fn fields(&self) -> impl PartialEq + std::hash::Hash + '_ {
        (
            (self.position, &self.stream_id, self.version, &self.event_id),
            (
                &self.command_id,
                &self.actor_id,
                &self.recorded_at,
                &self.r#type,
            ),
            (
                self.schema_version,
                &self.payload_json,
                &self.prev_hash,
                &self.hash,
            ),
            &self.sealed,
        )
    }
}

impl PartialEq for EventEnvelope {
    fn eq(&self, other: &Self) -> bool {
        self.fields() == other.fields()
    }
}

impl Eq for EventEnvelope {}

impl std::hash::Hash for EventEnvelope {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.fields().hash(state);
    }
}

impl prost::Message for EventEnvelope {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        if let Some(bytes) = &self.sealed {
            buf.put_slice(bytes);
            return;
        }
        let s = |tag, v: &String, buf: &mut _| {
            if !v.is_empty() {
                string::encode(tag, v, buf);
            }
        };
        if self.position != 0 {
            uint64::encode(1, &self.position, buf);
        }
        s(2, &self.stream_id, buf);
        if self.version != 0 {
            uint64::encode(3, &self.version, buf);
        }
        s(4, &self.event_id, buf);
        s(5, &self.command_id, buf);
        s(6, &self.actor_id, buf);
        if let Some(t) = &self.recorded_at {
            message::encode(7, t, buf);
        }
        s(8, &self.r#type, buf);
        if self.schema_version != 0 {
            uint32::encode(9, &self.schema_version, buf);
        }
        s(10, &self.payload_json, buf);
        s(11, &self.prev_hash, buf);
        s(12, &self.hash, buf);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        self.sealed = None;
        match tag {
            1 => uint64::merge(wire_type, &mut self.position, buf, ctx),
            2 => string::merge(wire_type, &mut self.stream_id, buf, ctx),
            3 => uint64::merge(wire_type, &mut self.version, buf, ctx),
            4 => string::merge(wire_type, &mut self.event_id, buf, ctx),
            5 => string::merge(wire_type, &mut self.command_id, buf, ctx),
            6 => string::merge(wire_type, &mut self.actor_id, buf, ctx),
            7 => message::merge(
                wire_type,
                self.recorded_at.get_or_insert_with(Default::default),
                buf,
                ctx,
            ),
            8 => string::merge(wire_type, &mut self.r#type, buf, ctx),
            9 => uint32::merge(wire_type, &mut self.schema_version, buf, ctx),
            10 => string::merge(wire_type, &mut self.payload_json, buf, ctx),
            11 => string::merge(wire_type, &mut self.prev_hash, buf, ctx),
            12 => string::merge(wire_type, &mut self.hash, buf, ctx),
            _ => skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        if let Some(bytes) = &self.sealed {
            return bytes.len();
        }
        let s = |tag, v: &String| {
            if v.is_empty() {
                0
            } else {
                string::encoded_len(tag, v)
            }
        };
        (if self.position != 0 {
            uint64::encoded_len(1, &self.position)
        } else {
            0
        }) + s(2, &self.stream_id)
            + (if self.version != 0 {
                uint64::encoded_len(3, &self.version)
            } else {
                0
            })
            + s(4, &self.event_id)
            + s(5, &self.command_id)
            + s(6, &self.actor_id)
            + self
                .recorded_at
                .as_ref()
                .map_or(0, |t| message::encoded_len(7, t))
            + s(8, &self.r#type)
            + (if self.schema_version != 0 {
                uint32::encoded_len(9, &self.schema_version)
            } else {
                0
            })
            + s(10, &self.payload_json)
            + s(11, &self.prev_hash)
            + s(12, &self.hash)
    }

    fn clear(&mut self) {
        *self = EventEnvelope::default();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use prost::Message;

    use super::EventEnvelope;

    fn sample() -> EventEnvelope {
        EventEnvelope {
            position: 391,
            stream_id: "0a1b".into(),
            version: 2,
            event_id: "e1".into(),
            command_id: "c1".into(),
            actor_id: "wang.fang".into(),
            recorded_at: Some(prost_types::Timestamp {
                seconds: 1_793_581_202,
                nanos: 5,
            }),
            r#type: "Revised".into(),
            schema_version: 1,
            payload_json: "{\"title\":\"关于…的通知\"}".into(),
            prev_hash: "ab".repeat(32),
            hash: "cd".repeat(32),
            ..EventEnvelope::default()
        }
    }

    /// The generated type's encoding, for comparison.
    #[derive(Clone, PartialEq, prost::Message)]
    struct Generated {
        #[prost(uint64, tag = "1")]
        position: u64,
        #[prost(string, tag = "2")]
        stream_id: String,
        #[prost(uint64, tag = "3")]
        version: u64,
        #[prost(string, tag = "4")]
        event_id: String,
        #[prost(string, tag = "5")]
        command_id: String,
        #[prost(string, tag = "6")]
        actor_id: String,
        #[prost(message, optional, tag = "7")]
        recorded_at: Option<prost_types::Timestamp>,
        #[prost(string, tag = "8")]
        r#type: String,
        #[prost(uint32, tag = "9")]
        schema_version: u32,
        #[prost(string, tag = "10")]
        payload_json: String,
        #[prost(string, tag = "11")]
        prev_hash: String,
        #[prost(string, tag = "12")]
        hash: String,
    }

    #[test]
    fn it_encodes_as_the_generated_type_would_and_decodes_back() {
        let e = sample();
        let bytes = e.encode_to_vec();
        let generated = Generated::decode(bytes.as_slice()).unwrap();
        assert_eq!(generated.encode_to_vec(), bytes, "byte for byte");
        assert_eq!(generated.payload_json, e.payload_json);
        assert_eq!(EventEnvelope::decode(bytes.as_slice()).unwrap(), e);
        assert_eq!(e.encoded_len(), bytes.len());
        // Defaults are not written, as proto3 says.
        assert!(EventEnvelope::default().encode_to_vec().is_empty());
    }

    #[test]
    fn a_sealed_event_writes_the_same_bytes_and_its_clones_share_them() {
        let e = sample();
        let sealed = e.sealed();
        assert_eq!(sealed.encode_to_vec(), e.encode_to_vec());
        assert_eq!(sealed.encoded_len(), e.encoded_len());
        let copy = sealed.clone();
        assert!(std::ptr::eq(
            copy.sealed.as_deref().unwrap().as_ptr(),
            sealed.sealed.as_deref().unwrap().as_ptr()
        ));
        // What a client decodes from it is the event.
        assert_eq!(
            EventEnvelope::decode(sealed.encode_to_vec().as_slice()).unwrap(),
            e
        );
    }
}
