//! The one error type of the store.

use thiserror::Error;
use workflow_core::DocumentId;

/// What went wrong executing a command or reading the log.
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
    /// A field of the request (outside the command itself) is invalid.
    #[error("invalid {field}: {reason}")]
    InvalidRequest {
        /// The field.
        field: &'static str,
        /// What is wrong.
        reason: String,
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
    /// The storage engine failed (I/O, or the directory is locked by another process).
    #[error("storage: {0}")]
    Storage(#[from] sled::Error),
    /// Another process holds the data directory (a running server, another tool).
    #[error("data directory {path} is in use by another process (is a server running on it?)")]
    Locked {
        /// The directory.
        path: std::path::PathBuf,
    },
    /// Writing the group this command was in failed, and nothing of it was written.
    /// Retrying with the same `command_id` is safe.
    #[error("the commit failed and wrote nothing (retry with the same command_id): {reason}")]
    CommitFailed {
        /// What failed.
        reason: String,
    },
    /// A flush failed after a group was written, so whether it reached the disk is unknown:
    /// the engine stops writing (fail-stop) rather than guess. Restart it; everything
    /// acknowledged before is durable, and sled recovers a consistent prefix.
    #[error("the engine stopped writing after a failed flush ({reason}); restart it")]
    Halted {
        /// What failed.
        reason: String,
    },
    /// The engine has shut down.
    #[error("the engine is shut down")]
    Closed,
}

impl Error {
    pub(crate) fn corrupt(at: impl ToString, reason: impl ToString) -> Self {
        Error::Corrupt {
            at: at.to_string(),
            reason: reason.to_string(),
        }
    }
}

impl From<sled::transaction::TransactionError<Error>> for Error {
    fn from(e: sled::transaction::TransactionError<Error>) -> Self {
        match e {
            sled::transaction::TransactionError::Abort(e) => e,
            sled::transaction::TransactionError::Storage(e) => Error::Storage(e),
        }
    }
}

/// Shorthand.
pub type Result<T, E = Error> = std::result::Result<T, E>;
