//! What a caller sends the engine and what it gets back: a [`Request`] (one command with its
//! idempotency key and the digest that ties a retry to it), an [`Outcome`], and which
//! earlier state of a document to read ([`AsOf`]).

use uuid::Uuid;
use workflow_core::{ActorId, DocumentId, FlowAction, Timestamp};

use crate::envelope::Envelope;
use crate::error::{Error, Result};
use crate::storage::{CommandRecord, Storage};

/// A command as the engine receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The caller's idempotency key: resending the same key returns the first outcome.
    pub command_id: String,
    /// The document.
    pub document_id: DocumentId,
    /// Who acts.
    pub actor: ActorId,
    /// When; `None` takes the engine's clock.
    pub at: Option<Timestamp>,
    /// If set, the command applies only if the document is at this version (0: does not
    /// exist yet); otherwise it fails with [`Error::Conflict`].
    pub expected_version: Option<u64>,
    /// What to do (a 发文 [`workflow_core::outgoing::Action`] converts into it).
    pub action: FlowAction,
}

impl Request {
    /// SHA-256 (hex) of what the request asks: document, actor, expected version and action
    /// (not the command id, not `at`). Recorded with its events; a later request with the
    /// same command id but another digest is refused ([`Error::CommandIdMismatch`]) instead
    /// of being answered with the first outcome.
    pub fn digest(&self) -> String {
        #[derive(serde::Serialize)]
        struct Asked<'a> {
            document_id: &'a DocumentId,
            actor: &'a ActorId,
            expected_version: Option<u64>,
            action: &'a FlowAction,
        }
        let asked = Asked {
            document_id: &self.document_id,
            actor: &self.actor,
            expected_version: self.expected_version,
            action: &self.action,
        };
        // Plain data serializes infallibly.
        let bytes = serde_json::to_vec(&asked).unwrap_or_default();
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&bytes))
    }

    /// A request with a fresh random command id, the engine's clock, and no expected version.
    pub fn new(
        document_id: DocumentId,
        actor: impl Into<ActorId>,
        action: impl Into<FlowAction>,
    ) -> Self {
        Request {
            command_id: Uuid::new_v4().to_string(),
            document_id,
            actor: actor.into(),
            at: None,
            expected_version: None,
            action: action.into(),
        }
    }
}

/// Longest accepted command id.
pub const MAX_COMMAND_ID: usize = 128;

/// What an executed command did. A retry with the same command id gets the same outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The document.
    pub document_id: DocumentId,
    /// The document's version after the command.
    pub version: u64,
    /// The events appended, in order.
    pub events: Vec<Envelope>,
    /// Whether this is a retry answered from the record rather than a new append.
    pub replayed: bool,
}

/// Which earlier state of a document to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsOf {
    /// After this many events.
    Version(u64),
    /// After every event recorded at or before this instant.
    Instant(Timestamp),
}

pub(crate) fn validate_id(field: &'static str, id: &str) -> Result<()> {
    if id.trim().is_empty() || id.len() > MAX_COMMAND_ID || id.chars().any(|c| c.is_control()) {
        return Err(Error::InvalidRequest {
            field,
            reason: format!("{id:?} must be 1-{MAX_COMMAND_ID} bytes without control characters"),
        });
    }
    Ok(())
}

pub(crate) fn outcome_from_record(
    storage: &dyn Storage,
    rec: &CommandRecord,
    replayed: bool,
) -> Result<Outcome> {
    let count = (rec.last_position + 1).saturating_sub(rec.first_position) as usize;
    let events = crate::storage::decode_all(&storage.read_log(rec.first_position, count)?)?;
    Ok(Outcome {
        document_id: rec.document_id,
        version: rec.version,
        events,
        replayed,
    })
}
