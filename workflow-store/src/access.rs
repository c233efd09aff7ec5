//! The access log (DESIGN §5): every read of a document classified 秘密 or above — a get, an
//! as-of read, its history, an export, an event delivered to a subscriber — is recorded
//! durably before the content is handed out: who, through which system, when, what. It sits
//! beside the event log, never in a document's stream, with a hash chain of its own that
//! `verify` checks like the log's. Its appends take their own lock and sync, never the
//! command writer's group.
//!
//! The access log is appended under its own lock, never through the writer's queue, and
//! made durable (sled's flush and sync of the store's files, which it shares with the event
//! log) before the read it records is answered; its head is recorded with each append.

use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use workflow_core::{ActorId, DocumentId, Timestamp, directory::Classification};

use crate::envelope::{GENESIS_HASH, LogHead};
use crate::error::{Error, Result};
use crate::storage::{Storage, StoredEvent};

/// Whether reads of a document of this classification are recorded: 秘密 and above.
pub fn is_recorded(c: Classification) -> bool {
    c >= Classification::Secret
}

/// A read to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRecord {
    /// The calling system (or `cli` for an operator command).
    pub system: String,
    /// The actor named, if any.
    pub actor: Option<ActorId>,
    /// What was read: `get`, `as_of`, `history`, `export`, `subscribe`, `file` (a download of
    /// one of its files, named in `detail`).
    pub what: String,
    /// The document.
    pub document_id: DocumentId,
    /// Its classification when read.
    pub classification: Classification,
    /// More about the read: the version or instant of an as-of read, the event position
    /// delivered to a subscriber.
    pub detail: String,
}

/// One recorded read, as the access log stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessEntry {
    /// Its position in the access log (from 1, gapless).
    pub position: u64,
    /// When.
    pub at: Timestamp,
    /// Through which system.
    pub system: String,
    /// Who, if an actor was named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<ActorId>,
    /// What was read.
    pub what: String,
    /// The document.
    pub document_id: DocumentId,
    /// Its classification when read.
    pub classification: Classification,
    /// More about the read.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    /// The previous entry's hash ([`GENESIS_HASH`] for the first).
    pub prev_hash: String,
    /// SHA-256 (hex) of this entry without its hash.
    #[serde(default)]
    pub hash: String,
}

impl AccessEntry {
    /// The hash of the entry's fields (all but `hash`), chained through `prev_hash`.
    pub fn compute_hash(&self) -> String {
        let body = AccessEntry {
            hash: String::new(),
            ..self.clone()
        };
        // Plain data serializes infallibly.
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }
}

/// Which entries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessQuery {
    /// Only reads of this document.
    pub document: Option<DocumentId>,
    /// Only reads by this actor.
    pub actor: Option<ActorId>,
    /// Only reads at or after this instant.
    pub since: Option<Timestamp>,
    /// Start after this position (0: from the start).
    pub after: u64,
    /// At most this many (0: 100).
    pub limit: usize,
}

/// What verifying the access log found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessReport {
    /// Entries checked before the end or the first break.
    pub checked: u64,
    /// The hash of the last entry checked.
    pub head_hash: String,
    /// The first break: position and reason.
    pub first_break: Option<(u64, String)>,
}

impl AccessReport {
    /// Whether the chain is whole.
    pub fn is_intact(&self) -> bool {
        self.first_break.is_none()
    }
}

/// The access log's end, as its appender holds it.
#[derive(Debug)]
pub(crate) struct AccessChain {
    pub(crate) position: u64,
    pub(crate) hash: String,
}

impl AccessChain {
    /// The chain as stored.
    pub(crate) fn load(storage: &dyn Storage) -> Result<Mutex<Self>> {
        let chain = match storage.access_end()? {
            Some(last) => {
                let e = decode(&last)?;
                AccessChain {
                    position: e.position,
                    hash: e.hash,
                }
            }
            None => AccessChain {
                position: 0,
                hash: GENESIS_HASH.to_owned(),
            },
        };
        Ok(Mutex::new(chain))
    }
}

/// The records as entries chained after `chain`: the entries, their stored form, and the
/// access log's head after them.
pub(crate) fn chain_entries(
    chain: &AccessChain,
    records: &[AccessRecord],
    at: Timestamp,
) -> Result<(Vec<AccessEntry>, Vec<StoredEvent>, LogHead)> {
    let (mut position, mut hash) = (chain.position, chain.hash.clone());
    let mut entries = Vec::with_capacity(records.len());
    let mut stored = Vec::with_capacity(records.len());
    for record in records.iter().cloned() {
        let mut entry = AccessEntry {
            position: position + 1,
            at,
            system: record.system,
            actor: record.actor,
            what: record.what,
            document_id: record.document_id,
            classification: record.classification,
            detail: record.detail,
            prev_hash: hash,
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        let bytes = serde_json::to_vec(&entry).map_err(|e| Error::Internal {
            reason: format!("an access-log entry does not serialize: {e}"),
        })?;
        (position, hash) = (entry.position, entry.hash.clone());
        stored.push(StoredEvent {
            position: entry.position,
            bytes,
        });
        entries.push(entry);
    }
    Ok((entries, stored, LogHead { position, hash }))
}

pub(crate) fn decode(stored: &StoredEvent) -> Result<AccessEntry> {
    serde_json::from_slice(&stored.bytes)
        .map_err(|e| Error::corrupt(format_args!("access-log position {}", stored.position), e))
}
