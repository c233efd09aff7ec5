//! Why the writer refuses every write once a write to storage failed or the log does not
//! end where it should (fail-stop): the writer and the syncer both halt on it.

use crate::error::Error;

/// Why the writer refuses every write.
pub(super) enum Halt {
    /// A write, flush or sync failed after a group was handed to the backend: whether it
    /// reached the disk is unknown, and the backend's memory may be ahead of it.
    StorageFailed(String),
    /// The log does not end at the head recorded with the last commit.
    LogMismatch(String),
}

impl Halt {
    pub(super) fn error(&self) -> Error {
        match self {
            Halt::StorageFailed(reason) => Error::Halted {
                reason: format!(
                    "a write to storage failed ({reason}); whether the last commands reached the \
                     disk is unknown: restart the server, then retry them with the same \
                     command_id (safe: each is done once)"
                ),
            },
            Halt::LogMismatch(reason) => Error::Corrupt {
                at: "the end of the log".into(),
                reason: reason.clone(),
            },
        }
    }
}
