//! The one error type of the store.

use thiserror::Error;
use workflow_core::DocumentId;

/// What went wrong executing a command or reading the log.
///
/// Every variant has a stable [`Error::reason`] code (the same codes the gRPC service
/// attaches as `google.rpc.ErrorInfo`), and [`Error::is_retryable`] says whether resending
/// the same request (same `command_id`) can succeed without changing it.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The core rejected the command (a business rule): nothing was appended. The inner
    /// error's `class()` says which gRPC status applies.
    #[error(transparent)]
    Rejected(#[from] workflow_core::Error),
    /// `expected_version` did not match: someone else changed the document first. Reload
    /// and decide again.
    #[error(
        "version conflict on document {document_id}: expected version {expected}, actual {actual}"
    )]
    Conflict {
        /// The document.
        document_id: DocumentId,
        /// What the caller expected.
        expected: u64,
        /// The document's version now.
        actual: u64,
    },
    /// The `command_id` was already used for a different document.
    #[error("command id {command_id} was already used for document {document_id}")]
    CommandIdReused {
        /// The reused key.
        command_id: String,
        /// The document it was first used for.
        document_id: DocumentId,
    },
    /// The `command_id` was already used for this document, but for a different request
    /// (another actor, action or expected version): a retry must resend the same request.
    #[error(
        "command id {command_id} was used for a different request on document {document_id} \
         (a retry must resend the same actor, action and expected version; use a new command id \
         for a new request)"
    )]
    CommandIdMismatch {
        /// The reused key.
        command_id: String,
        /// The document.
        document_id: DocumentId,
    },
    /// A field of the request (outside the command itself) is invalid.
    #[error("invalid {field}: {reason}")]
    InvalidRequest {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A system reading without naming an actor asked for a document classified above
    /// its `max_classification`: it must name an actor cleared for it.
    #[error(
        "system {system} receives documents up to {max} ({}) when it names no actor; this one is {classification} ({}): name an actor cleared for it",
        max.chinese(),
        classification.chinese()
    )]
    SystemClearance {
        /// The system.
        system: String,
        /// Its `max_classification`.
        max: workflow_core::directory::Classification,
        /// The document's.
        classification: workflow_core::directory::Classification,
    },
    /// The document does not exist (queries).
    #[error("document {0} not found")]
    NotFound(DocumentId),
    /// Stored data could not be read back: the log or a projection is damaged.
    #[error("corrupt store at {at}: {reason}")]
    Corrupt {
        /// Where (a position, a key).
        at: String,
        /// What is wrong.
        reason: String,
    },
    /// The storage could not be reached or written (an I/O error, a full disk, a database
    /// that does not answer). Nothing was written by this call; retrying (with the same
    /// `command_id`) may succeed once the cause is gone.
    #[error("storage unavailable (nothing was written; retry with the same command_id): {reason}")]
    Unavailable {
        /// What failed, as the backend reported it.
        reason: String,
    },
    /// Another process holds the data directory (a running server, another tool).
    #[error("data directory {path} is in use by another process (is a server running on it?)")]
    Locked {
        /// The directory.
        path: std::path::PathBuf,
    },
    /// The directory is not a workflow data directory (it was asked to be opened, not
    /// created): nothing was created or changed in it.
    #[error("{path} is not a workflow data directory: {reason}")]
    NotAStore {
        /// The directory.
        path: std::path::PathBuf,
        /// Why not.
        reason: String,
    },
    /// Writing the group this command was in failed, and nothing of it was written.
    /// Retrying with the same `command_id` is safe.
    #[error("the commit failed and wrote nothing (retry with the same command_id): {reason}")]
    CommitFailed {
        /// What failed.
        reason: String,
    },
    /// Another writer appended to the log or to this document's stream between the moment
    /// the command was decided and its commit (a backend shared by several processes).
    /// Nothing was written; retrying with the same `command_id` decides it again against
    /// what is stored now.
    #[error(
        "another writer changed the log first; nothing was written (retry with the same command_id): {reason}"
    )]
    WriteConflict {
        /// What the storage found.
        reason: String,
    },
    /// A write, flush or sync failed after a group was handed to storage (a full disk), so
    /// whether it reached the disk is unknown and the backend's memory may be ahead of it:
    /// the engine stops writing (fail-stop) and answers nothing from that state. Restart
    /// it; everything acknowledged before is durable, and sled recovers a consistent prefix.
    #[error("the engine stopped writing: {reason}")]
    Halted {
        /// What failed.
        reason: String,
    },
    /// The engine has shut down.
    #[error("the engine is shut down")]
    Closed,
    /// A bug in this program (an invariant did not hold). Report it.
    #[error("internal error (a bug): {reason}")]
    Internal {
        /// What did not hold.
        reason: String,
    },
    /// The 公文 of a 印发 printed ahead shows another 发文字号 than the writer's decision
    /// gives it (another 印发 of its series was issued meanwhile): nothing was written.
    /// The engine prints it again and sends it again itself; `execute` does not return it.
    #[error(
        "the issued document {document_id} was printed ahead with another number; nothing was written"
    )]
    PrintedAheadStale {
        /// The 发文 being issued.
        document_id: DocumentId,
    },
}

impl Error {
    pub(crate) fn corrupt(at: impl ToString, reason: impl ToString) -> Self {
        Error::Corrupt {
            at: at.to_string(),
            reason: reason.to_string(),
        }
    }

    /// Whether resending the same request unchanged (same `command_id`) can succeed: the
    /// failure was the storage's or the engine's, not the request's.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::Unavailable { .. }
                | Error::CommitFailed { .. }
                | Error::WriteConflict { .. }
                | Error::Halted { .. }
                | Error::Locked { .. }
                | Error::Closed
                | Error::PrintedAheadStale { .. }
        )
    }

    /// A stable code for what went wrong, for programs (listed in the proto's comments):
    /// `VERSION_CONFLICT`, `WRONG_STATE`, `CLEARANCE_TOO_LOW`, `STORAGE_UNAVAILABLE`, ….
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Rejected(e) => e.reason(),
            Error::Conflict { .. } => "VERSION_CONFLICT",
            Error::CommandIdReused { .. } | Error::CommandIdMismatch { .. } => "COMMAND_ID_REUSED",
            Error::InvalidRequest { .. } => "INVALID_FIELD",
            Error::SystemClearance { .. } => "CLEARANCE_TOO_LOW",
            Error::NotFound(_) => "DOCUMENT_NOT_FOUND",
            Error::Corrupt { .. } => "STORE_CORRUPT",
            Error::Unavailable { .. } => "STORAGE_UNAVAILABLE",
            Error::Locked { .. } => "STORE_LOCKED",
            Error::NotAStore { .. } => "NOT_A_STORE",
            Error::CommitFailed { .. } => "COMMIT_FAILED",
            Error::WriteConflict { .. } => "WRITE_CONFLICT",
            Error::Halted { .. } => "WRITER_HALTED",
            Error::Closed => "ENGINE_CLOSED",
            Error::Internal { .. } => "INTERNAL",
            Error::PrintedAheadStale { .. } => "PRINTED_AHEAD_STALE",
        }
    }

    /// The request field at fault, where one is (for `google.rpc.BadRequest`).
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Rejected(workflow_core::Error::InvalidField { field, .. }) => Some(field),
            Error::InvalidRequest { field, .. } => Some(field),
            Error::CommandIdReused { .. } | Error::CommandIdMismatch { .. } => Some("command_id"),
            Error::SystemClearance { .. } => Some("actor_id"),
            _ => None,
        }
    }
}

/// Shorthand.
pub type Result<T, E = Error> = std::result::Result<T, E>;
