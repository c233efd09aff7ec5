//! The stored envelope of one event, its canonical bytes and its chained hash.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use workflow_core::{
    ActorId, DocumentId, FlowEvent, Recorded, StreamKind, Timestamp, codec::DecodeError,
    codec::PayloadError,
};

/// `prev_hash` of the first event in the log (of a log chained with SHA-256; see
/// [`ChainDigest::genesis`]).
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The digest the log's hash chain (and the fixity digests over it) is taken with: SHA-256,
/// the default, or SM3 (GB/T 32905), the 国密 digest an electronic records system in China
/// may be asked for (DESIGN §14).
///
/// A hash says which: SHA-256 as 64 hex digits, SM3 as `sm3:` followed by 64 hex digits.
/// Each event is hashed with the digest of its `prev_hash`, so a log keeps the digest of its
/// first event's genesis (`0…0`, or `sm3:0…0`) from its first event on: the store records
/// which in its log, and verify checks either. A store chained with SHA-256 verifies exactly
/// as before SM3 existed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChainDigest {
    /// SHA-256 (FIPS 180-4).
    #[default]
    Sha256,
    /// SM3 (GB/T 32905-2016).
    Sm3,
}

/// How an SM3 hash is written.
const SM3_PREFIX: &str = "sm3:";

impl ChainDigest {
    /// The digest a hash (or a genesis hash) was taken with.
    pub fn of(hash: &str) -> ChainDigest {
        if hash.starts_with(SM3_PREFIX) {
            ChainDigest::Sm3
        } else {
            ChainDigest::Sha256
        }
    }

    /// `prev_hash` of the first event of a log chained with this digest.
    pub fn genesis(self) -> String {
        self.written(&"0".repeat(64))
    }

    /// Whether `hash` is the genesis hash of either digest.
    pub fn is_genesis(hash: &str) -> bool {
        hash == GENESIS_HASH || hash == ChainDigest::Sm3.genesis()
    }

    /// Its name as a manifest or a report gives it: `SHA-256`, `SM3`.
    pub fn name(self) -> &'static str {
        match self {
            ChainDigest::Sha256 => "SHA-256",
            ChainDigest::Sm3 => "SM3",
        }
    }

    /// The digest of `parts` one after another, written as a hash of this digest.
    pub fn hash(self, parts: &[&[u8]]) -> String {
        let mut running = self.running();
        parts.iter().for_each(|p| running.update(p));
        running.finish()
    }

    /// A digest taken as bytes come.
    pub(crate) fn running(self) -> Running {
        match self {
            ChainDigest::Sha256 => Running::Sha256(Sha256::new()),
            ChainDigest::Sm3 => Running::Sm3(<sm3::Sm3 as sm3::Digest>::new()),
        }
    }

    fn written(self, hex: &str) -> String {
        match self {
            ChainDigest::Sha256 => hex.to_owned(),
            ChainDigest::Sm3 => format!("{SM3_PREFIX}{hex}"),
        }
    }

    /// Whether `hash` is a hash as a log holds them: 64 hex digits (lower case), after
    /// `sm3:` for SM3.
    pub fn is_hash(hash: &str) -> bool {
        let hex = hash.strip_prefix(SM3_PREFIX).unwrap_or(hash);
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }
}

/// A [`ChainDigest`] taken as bytes come (the fixity digest of a stream during verify).
#[derive(Clone)]
pub(crate) enum Running {
    Sha256(Sha256),
    Sm3(sm3::Sm3),
}

impl Running {
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        match self {
            Running::Sha256(h) => h.update(bytes),
            Running::Sm3(h) => sm3::Digest::update(h, bytes),
        }
    }

    /// The digest so far, written as a hash ([`ChainDigest`]).
    pub(crate) fn finish(&self) -> String {
        match self.clone() {
            Running::Sha256(h) => hex::encode(h.finalize()),
            Running::Sm3(h) => ChainDigest::Sm3.written(&hex::encode(sm3::Digest::finalize(h))),
        }
    }
}

impl std::fmt::Display for ChainDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ChainDigest {
    type Err = String;

    /// `sha256` (also `SHA-256`) or `sm3`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().replace('-', "").as_str() {
            "sha256" => Ok(ChainDigest::Sha256),
            "sm3" => Ok(ChainDigest::Sm3),
            _ => Err(format!("{s:?} is no chain digest: sha256 or sm3")),
        }
    }
}

/// One event as stored in the log (DESIGN §4).
///
/// `hash` = SHA-256 (or SM3, where `prev_hash` is an SM3 hash: [`ChainDigest`]) over the
/// envelope's canonical bytes ([`Envelope::canonical_bytes`]), which include `prev_hash`,
/// the hash of the event at `position - 1`; so each hash covers the whole log before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// Global position, gapless from 1.
    pub position: u64,
    /// The document's stream.
    pub stream_id: DocumentId,
    /// The kind of the stream (`outgoing`, `incoming`, …). Absent in events written before
    /// kinds existed, which read as `outgoing`; left out of their hashed bytes, so they
    /// verify as stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<StreamKind>,
    /// Version within the stream, gapless from 1.
    pub version: u64,
    /// Unique id of this event.
    pub event_id: Uuid,
    /// The caller's idempotency key of the command that produced it.
    pub command_id: String,
    /// SHA-256 (hex) of the request that produced it (document, actor, expected version and
    /// action; see [`crate::Request::digest`]): a retry with the same command id must carry
    /// the same request. Absent in events written before digests were kept, and then left
    /// out of the hashed bytes, so those events verify as stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_digest: Option<String>,
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
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<StreamKind>,
    version: u64,
    event_id: &'a Uuid,
    command_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    request_digest: Option<&'a str>,
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
    /// order (`request_digest` only when present), with the payload's object keys sorted. An external verifier rebuilds them the
    /// same way (see the export format).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let c = Canonical {
            position: self.position,
            stream_id: &self.stream_id,
            kind: self.kind,
            version: self.version,
            event_id: &self.event_id,
            command_id: &self.command_id,
            request_digest: self.request_digest.as_deref(),
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

    /// Sets `hash` from the canonical bytes and returns the bytes the log stores: the
    /// canonical bytes with the `hash` field appended, exactly what serializing the whole
    /// envelope gives (a test pins that), from one serialization instead of two.
    pub fn seal(&mut self) -> Vec<u8> {
        let mut bytes = self.canonical_bytes();
        self.hash = self.digest().hash(&[&bytes]);
        if bytes.pop() == Some(b'}') {
            bytes.extend_from_slice(b",\"hash\":\"");
            bytes.extend_from_slice(self.hash.as_bytes());
            bytes.extend_from_slice(b"\"}");
            bytes
        } else {
            // Canonical bytes are a JSON object, so this is unreachable; stay correct anyway.
            serde_json::to_vec(self).unwrap_or_default()
        }
    }

    /// Recomputes the hash from the canonical bytes.
    pub fn compute_hash(&self) -> String {
        self.digest().hash(&[&self.canonical_bytes()])
    }

    /// The digest its hash is taken with: that of the hash before it.
    pub fn digest(&self) -> ChainDigest {
        ChainDigest::of(&self.prev_hash)
    }

    /// The kind of its stream (`outgoing` for events written before kinds existed).
    pub fn stream_kind(&self) -> StreamKind {
        self.kind.unwrap_or_default()
    }

    /// The domain event inside, decoded (and upcast) from the payload by its flow.
    pub fn event(&self) -> Result<Recorded<FlowEvent>, DecodeError> {
        Ok(Recorded {
            actor: self.actor.clone(),
            at: self.recorded_at,
            data: FlowEvent::decode(
                self.stream_kind(),
                &self.event_type,
                self.schema_version,
                &self.payload,
            )?,
        })
    }
}

/// An envelope read in place from its stored bytes in one pass: strings borrowed where they
/// need no unescaping, and the payload decoded straight into the typed event (the log writes
/// `type` and `schema_version` before `payload`). Replay and verify read every event of the
/// log this way; anything unusual (another field order, a payload that does not decode) is
/// an error here, and the caller falls back to the owned [`Envelope`] for the diagnosis.
#[derive(Debug)]
pub(crate) struct StoredEnvelope<'a> {
    pub(crate) position: u64,
    pub(crate) stream_id: DocumentId,
    pub(crate) version: u64,
    pub(crate) command_id: Cow<'a, str>,
    pub(crate) actor: ActorId,
    pub(crate) recorded_at: Timestamp,
    pub(crate) data: FlowEvent,
    pub(crate) prev_hash: Cow<'a, str>,
    pub(crate) hash: Cow<'a, str>,
}

impl<'a> StoredEnvelope<'a> {
    /// Reads the stored bytes of one envelope.
    pub(crate) fn parse(bytes: &'a [u8]) -> serde_json::Result<Self> {
        serde_json::from_slice(bytes)
    }

    /// The domain event inside.
    pub(crate) fn event(self) -> Recorded<FlowEvent> {
        Recorded {
            actor: self.actor,
            at: self.recorded_at,
            data: self.data,
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for StoredEnvelope<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_struct("Envelope", FIELDS, StoredVisitor(std::marker::PhantomData))
    }
}

const FIELDS: &[&str] = &[
    "position",
    "stream_id",
    "kind",
    "version",
    "event_id",
    "command_id",
    "request_digest",
    "actor",
    "recorded_at",
    "type",
    "schema_version",
    "payload",
    "prev_hash",
    "hash",
];

struct StoredVisitor<'a>(std::marker::PhantomData<&'a ()>);

/// Reads the payload once the stream's kind, `type` and `schema_version` are known.
struct PayloadSeed<'t> {
    kind: StreamKind,
    type_name: &'t str,
    version: u32,
}

impl<'de> serde::de::DeserializeSeed<'de> for PayloadSeed<'_> {
    type Value = FlowEvent;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<FlowEvent, D::Error> {
        use serde::de::Error;
        FlowEvent::deserialize_payload(self.kind, self.type_name, self.version, d).map_err(|e| {
            match e {
                PayloadError::Serde(e) => e,
                PayloadError::Decode(e) => D::Error::custom(e),
            }
        })
    }
}

impl<'de: 'a, 'a> serde::de::Visitor<'de> for StoredVisitor<'a> {
    type Value = StoredEnvelope<'a>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an event envelope")
    }

    fn visit_map<M: serde::de::MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        use serde::de::Error;
        let mut position = None;
        let mut stream_id = None;
        let mut kind: Option<StreamKind> = None;
        let mut version = None;
        let mut event_id: Option<Uuid> = None;
        let mut command_id: Option<Cow<'a, str>> = None;
        let mut actor = None;
        let mut recorded_at = None;
        let mut event_type: Option<Cow<'a, str>> = None;
        let mut schema_version = None;
        let mut data = None;
        let mut prev_hash: Option<Cow<'a, str>> = None;
        let mut hash: Option<Cow<'a, str>> = None;
        fn once<T, E: Error>(slot: &mut Option<T>, name: &'static str, v: T) -> Result<(), E> {
            if slot.replace(v).is_some() {
                return Err(E::duplicate_field(name));
            }
            Ok(())
        }
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "position" => once(&mut position, "position", map.next_value::<u64>()?)?,
                "stream_id" => once(&mut stream_id, "stream_id", map.next_value()?)?,
                "kind" => once(&mut kind, "kind", map.next_value()?)?,
                "version" => once(&mut version, "version", map.next_value::<u64>()?)?,
                "event_id" => once(&mut event_id, "event_id", map.next_value()?)?,
                "command_id" => once(
                    &mut command_id,
                    "command_id",
                    map.next_value::<Borrowed<'a>>()?.0,
                )?,
                // Hashed with the rest of the stored bytes; replay does not need it.
                "request_digest" => {
                    let _: Borrowed<'a> = map.next_value()?;
                }
                "actor" => once(&mut actor, "actor", map.next_value()?)?,
                "recorded_at" => once(&mut recorded_at, "recorded_at", map.next_value()?)?,
                "type" => once(&mut event_type, "type", map.next_value::<Borrowed<'a>>()?.0)?,
                "schema_version" => once(
                    &mut schema_version,
                    "schema_version",
                    map.next_value::<u32>()?,
                )?,
                "payload" => {
                    let (Some(t), Some(v)) = (&event_type, schema_version) else {
                        return Err(M::Error::custom(
                            "payload stored before type and schema_version",
                        ));
                    };
                    let seed = PayloadSeed {
                        // Events written before kinds existed are 发文.
                        kind: kind.unwrap_or_default(),
                        type_name: t,
                        version: v,
                    };
                    once(&mut data, "payload", map.next_value_seed(seed)?)?;
                }
                "prev_hash" => once(
                    &mut prev_hash,
                    "prev_hash",
                    map.next_value::<Borrowed<'a>>()?.0,
                )?,
                "hash" => once(&mut hash, "hash", map.next_value::<Borrowed<'a>>()?.0)?,
                other => return Err(M::Error::unknown_field(other, FIELDS)),
            }
        }
        let _ = event_id.ok_or_else(|| M::Error::missing_field("event_id"))?;
        Ok(StoredEnvelope {
            position: position.ok_or_else(|| M::Error::missing_field("position"))?,
            stream_id: stream_id.ok_or_else(|| M::Error::missing_field("stream_id"))?,
            version: version.ok_or_else(|| M::Error::missing_field("version"))?,
            command_id: command_id.ok_or_else(|| M::Error::missing_field("command_id"))?,
            actor: actor.ok_or_else(|| M::Error::missing_field("actor"))?,
            recorded_at: recorded_at.ok_or_else(|| M::Error::missing_field("recorded_at"))?,
            data: data.ok_or_else(|| M::Error::missing_field("payload"))?,
            prev_hash: prev_hash.ok_or_else(|| M::Error::missing_field("prev_hash"))?,
            hash: hash.ok_or_else(|| M::Error::missing_field("hash"))?,
        })
    }
}

/// A string borrowed from the input when it needs no unescaping.
struct Borrowed<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Borrowed<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for V<'a> {
            type Value = Cow<'a, str>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData)).map(Borrowed)
    }
}

/// Whether `stored` (the bytes of an envelope as this crate writes them) carries `hash` and
/// hashes to it, read without decoding: the log stores the canonical bytes followed by the
/// `hash` field, so the canonical bytes are the stored ones with that last field cut off.
/// `false` means "not shown intact this way": the caller recomputes the canonical form
/// (bytes written by another serializer may differ and still be intact).
/// `digest` is that of the hash before it (the event's hash must be of the same).
pub(crate) fn stored_bytes_hash_to(stored: &[u8], hash: &str, digest: ChainDigest) -> bool {
    const HEAD: &[u8] = b",\"hash\":\"";
    const TAIL: &[u8] = b"\"}";
    let suffix_len = HEAD.len() + hash.len() + TAIL.len();
    if ChainDigest::of(hash) != digest
        || !ChainDigest::is_hash(hash)
        || stored.len() < suffix_len + 1
    {
        return false;
    }
    let (canonical_head, suffix) = stored.split_at(stored.len() - suffix_len);
    if !suffix.starts_with(HEAD)
        || !suffix.ends_with(TAIL)
        || &suffix[HEAD.len()..HEAD.len() + hash.len()] != hash.as_bytes()
    {
        return false;
    }
    if digest == ChainDigest::Sha256 {
        // The common case, without an allocation.
        let mut h = Sha256::new();
        h.update(canonical_head);
        h.update(b"}");
        let digest = h.finalize();
        let mut hex_digest = [0u8; 64];
        // Encoding 32 bytes into a 64-byte buffer cannot fail.
        if hex::encode_to_slice(digest, &mut hex_digest).is_err() {
            return false;
        }
        return hex_digest == hash.as_bytes();
    }
    digest.hash(&[canonical_head, b"}"]) == hash
}

/// The `hash` of an event from its stored bytes, read without decoding the rest.
pub(crate) fn stored_hash(position: u64, stored: &[u8]) -> crate::Result<String> {
    /// Only the hash: serde skips the other fields without building them.
    #[derive(Deserialize)]
    struct HashOnly<'a> {
        #[serde(borrow)]
        hash: Cow<'a, str>,
    }
    let h: HashOnly<'_> = serde_json::from_slice(stored)
        .map_err(|e| crate::Error::corrupt(format_args!("position {position}"), e))?;
    Ok(h.hash.into_owned())
}

/// The fixity digest of a stream: SHA-256 over its event hashes (as written), each followed
/// by `\n` — SM3, written `sm3:…`, when the hashes are SM3 hashes ([`ChainDigest`]).
pub fn fixity_digest<'a>(hashes: impl IntoIterator<Item = &'a str>) -> String {
    let mut hashes = hashes.into_iter().peekable();
    let digest = hashes
        .peek()
        .map_or(ChainDigest::Sha256, |h| ChainDigest::of(h));
    let mut running = digest.running();
    for x in hashes {
        running.update(x.as_bytes());
        running.update(b"\n");
    }
    running.finish()
}

/// A position in the log and the hash of the event there: the log's head, as handed to
/// another system to keep (a witness), or as recorded with each commit.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LogHead {
    /// The position (0 for an empty log).
    pub position: u64,
    /// The hash of the event at `position` (the genesis hash for an empty log).
    pub hash: String,
}

impl std::fmt::Display for LogHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.position, self.hash)
    }
}

impl std::str::FromStr for LogHead {
    type Err = String;

    /// `POSITION:HASH`, as printed by `workflow verify` and returned by `GetLogHead`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let (p, h) = s
            .trim()
            .split_once(':')
            .ok_or_else(|| format!("{s:?} is not POSITION:HASH"))?;
        let position = p
            .parse()
            .map_err(|_| format!("{p:?} is not a log position"))?;
        let hash = h.trim().to_ascii_lowercase();
        if !ChainDigest::is_hash(&hash) {
            return Err(format!(
                "{h:?} is not a hash of the log (64 hex digits; after sm3: for an SM3 log)"
            ));
        }
        Ok(LogHead { position, hash })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests
mod tests {
    use super::*;
    use workflow_core::{EventCodec, codec::SCHEMA_VERSION};

    fn sample() -> Envelope {
        let data = workflow_core::outgoing::EventData::Withdrawn {
            reason: "撤回\"重拟\"".into(),
        };
        let mut e = Envelope {
            position: 7,
            stream_id: DocumentId(Uuid::nil()),
            version: 2,
            event_id: Uuid::from_u128(9),
            command_id: "cmd-\u{4e00}".into(),
            kind: None,
            request_digest: None,
            actor: ActorId::from("li.qiang"),
            recorded_at: "2026-11-03T02:00:00Z".parse().unwrap(),
            event_type: data.type_name().into(),
            schema_version: SCHEMA_VERSION,
            payload: data.payload(),
            prev_hash: GENESIS_HASH.into(),
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        e
    }

    #[test]
    fn stored_bytes_are_the_canonical_bytes_plus_the_hash() {
        let e = sample();
        let stored = serde_json::to_vec(&e).unwrap();
        assert!(stored_bytes_hash_to(&stored, &e.hash, ChainDigest::Sha256));
        let read = StoredEnvelope::parse(&stored).unwrap();
        assert_eq!(read.command_id, e.command_id);
        assert_eq!(read.hash, e.hash);
        assert_eq!(read.event(), e.event().unwrap());
        // Any changed byte, or another hash, is not shown intact.
        let mut tampered = stored.clone();
        let at = tampered.len() / 2;
        tampered[at] ^= 1;
        assert!(!stored_bytes_hash_to(
            &tampered,
            &e.hash,
            ChainDigest::Sha256
        ));
        assert!(!stored_bytes_hash_to(
            &stored,
            &GENESIS_HASH.replace('0', "1"),
            ChainDigest::Sha256
        ));
        assert!(!stored_bytes_hash_to(b"{}", &e.hash, ChainDigest::Sha256));
        assert!(!stored_bytes_hash_to(&stored, "abc", ChainDigest::Sha256));
    }

    #[test]
    fn sealing_gives_the_serialized_envelope_and_its_hash() {
        let mut e = sample();
        let expected_hash = e.hash.clone();
        e.hash = String::new();
        let bytes = e.seal();
        assert_eq!(e.hash, expected_hash);
        assert_eq!(bytes, serde_json::to_vec(&e).unwrap());
        assert!(stored_bytes_hash_to(&bytes, &e.hash, ChainDigest::Sha256));
    }

    #[test]
    fn equivalent_but_reformatted_bytes_fall_back_to_the_canonical_form() {
        let e = sample();
        let pretty = serde_json::to_vec_pretty(&e).unwrap();
        assert!(!stored_bytes_hash_to(&pretty, &e.hash, ChainDigest::Sha256));
        let owned: Envelope = serde_json::from_slice(&pretty).unwrap();
        assert_eq!(owned.compute_hash(), e.hash);
    }

    #[test]
    fn an_sm3_chain_hashes_with_sm3_and_says_so() {
        let mut e = sample();
        e.prev_hash = ChainDigest::Sm3.genesis();
        e.hash = String::new();
        let bytes = e.seal();
        // The SM3 of the canonical bytes, by the sm3 crate directly, written sm3:….
        let direct = hex::encode(<sm3::Sm3 as sm3::Digest>::digest(e.canonical_bytes()));
        assert_eq!(e.hash, format!("sm3:{direct}"));
        assert_eq!(e.digest(), ChainDigest::Sm3);
        assert_eq!(e.compute_hash(), e.hash);
        assert!(stored_bytes_hash_to(&bytes, &e.hash, ChainDigest::Sm3));
        // Not taken as SHA-256, nor the other way round.
        assert!(!stored_bytes_hash_to(&bytes, &e.hash, ChainDigest::Sha256));
        let sha = sample();
        assert!(!stored_bytes_hash_to(
            &serde_json::to_vec(&sha).unwrap(),
            &sha.hash,
            ChainDigest::Sm3
        ));
        // A witness head of an SM3 log reads back; a hash of neither shape does not.
        let head: LogHead = format!("7:{}", e.hash).parse().unwrap();
        assert_eq!(head.hash, e.hash);
        assert!("7:sm3:abc".parse::<LogHead>().is_err());
        assert!(format!("7:sm2:{direct}").parse::<LogHead>().is_err());
        // The fixity digest over SM3 hashes is SM3 too.
        let fixity = fixity_digest([e.hash.as_str()]);
        let expected = hex::encode(<sm3::Sm3 as sm3::Digest>::digest(format!("{}\n", e.hash)));
        assert_eq!(fixity, format!("sm3:{expected}"));
        assert_eq!(fixity_digest(["ab"]).len(), 64, "SHA-256 stays bare hex");
        assert!(ChainDigest::is_genesis(&ChainDigest::Sm3.genesis()));
        assert_eq!("SM3".parse::<ChainDigest>(), Ok(ChainDigest::Sm3));
        assert_eq!("sha-256".parse::<ChainDigest>(), Ok(ChainDigest::Sha256));
        assert!("md5".parse::<ChainDigest>().is_err());
    }
}
