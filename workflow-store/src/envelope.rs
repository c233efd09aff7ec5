//! The stored envelope of one event, its canonical bytes and its chained hash.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use workflow_core::{ActorId, DecodeError, DocumentId, Event, EventData, Timestamp};

/// `prev_hash` of the first event in the log.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One event as stored in the log (DESIGN §4).
///
/// `hash` = SHA-256 over the envelope's canonical bytes ([`Envelope::canonical_bytes`]),
/// which include `prev_hash`, the hash of the event at `position - 1`; so each hash covers
/// the whole log before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Global position, gapless from 1.
    pub position: u64,
    /// The document's stream.
    pub stream_id: DocumentId,
    /// Version within the stream, gapless from 1.
    pub version: u64,
    /// Unique id of this event.
    pub event_id: Uuid,
    /// The caller's idempotency key of the command that produced it.
    pub command_id: String,
    /// Who gave the command.
    pub actor: ActorId,
    /// When (UTC).
    pub recorded_at: Timestamp,
    /// The event type, e.g. `Countersigned`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The payload's schema version (an addition to DESIGN §4's list, for upcasting).
    pub schema_version: u32,
    /// The payload (self-describing JSON).
    pub payload: serde_json::Value,
    /// The previous event's hash (hex), [`GENESIS_HASH`] for position 1.
    pub prev_hash: String,
    /// This event's hash (hex).
    pub hash: String,
}

/// The hashed part: every field but `hash`, in this order.
#[derive(Serialize)]
struct Canonical<'a> {
    position: u64,
    stream_id: &'a DocumentId,
    version: u64,
    event_id: &'a Uuid,
    command_id: &'a str,
    actor: &'a ActorId,
    recorded_at: &'a Timestamp,
    #[serde(rename = "type")]
    event_type: &'a str,
    schema_version: u32,
    payload: &'a serde_json::Value,
    prev_hash: &'a str,
}

impl Envelope {
    /// The bytes the hash covers: compact JSON of every field except `hash`, in declaration
    /// order, with the payload's object keys sorted. An external verifier rebuilds them the
    /// same way (see the export format).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let c = Canonical {
            position: self.position,
            stream_id: &self.stream_id,
            version: self.version,
            event_id: &self.event_id,
            command_id: &self.command_id,
            actor: &self.actor,
            recorded_at: &self.recorded_at,
            event_type: &self.event_type,
            schema_version: self.schema_version,
            payload: &self.payload,
            prev_hash: &self.prev_hash,
        };
        // Serializing plain data to a Vec cannot fail.
        serde_json::to_vec(&c).unwrap_or_default()
    }

    /// Recomputes the hash from the canonical bytes.
    pub fn compute_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_bytes()))
    }

    /// The domain event inside, decoded (and upcast) from the payload.
    pub fn event(&self) -> Result<Event, DecodeError> {
        Ok(Event {
            actor: self.actor.clone(),
            at: self.recorded_at,
            data: EventData::decode_ref(&self.event_type, self.schema_version, &self.payload)?,
        })
    }
}

/// The fixity digest of a stream: SHA-256 over its event hashes (hex), each followed by `\n`.
pub fn fixity_digest<'a>(hashes: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for x in hashes {
        h.update(x.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}
