//! The one error type of the core: why a command was rejected.

use thiserror::Error;

use crate::directory::{Classification, Role};
use crate::ids::{ActorId, DocumentId, UnitCode};

/// Why a command was rejected. A rejected command produces no event and changes nothing.
///
/// Each variant names what was wrong (field, state, actor or role) so a caller can act on it
/// without parsing the message; [`Error::class`] groups them as the gRPC service maps them.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// A field of the command is missing or malformed. Fix the request; resending it
    /// unchanged fails again.
    #[error("invalid {field}: {reason}")]
    InvalidField {
        /// The field, as a path into the command, e.g. `route[1].departments`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The document's state does not accept this command at all.
    #[error("{command} is not accepted while the document is {state} ({state_chinese})")]
    WrongState {
        /// The rejected command.
        command: &'static str,
        /// The document's current state, as its flow names it, e.g. `Drafting`.
        state: &'static str,
        /// The state in Chinese, e.g. 拟稿.
        state_chinese: &'static str,
    },
    /// The state accepts the command, but something already recorded forbids it now
    /// (a reviewer already acted, a department already signed this round, …).
    #[error("{command} is not possible now: {reason}")]
    NotNow {
        /// The rejected command.
        command: &'static str,
        /// What forbids it.
        reason: String,
    },
    /// The command names the route stage it is meant for, and the document is no longer
    /// (or not yet) there: the stage completed, was returned, or the route moved on.
    #[error(
        "{command} was meant for {}, which is {was}; the document is now {now}",
        crate::route::stage_label(*meant)
    )]
    StageNotCurrent {
        /// The rejected command.
        command: &'static str,
        /// The stage it was meant for (0-based).
        meant: usize,
        /// What became of that stage: `completed`, `no longer current`, `not started`,
        /// `not in the route`.
        was: &'static str,
        /// Where the document is now, e.g. `at stage index 1 (第2环节), a review by li.qiang`.
        now: String,
    },
    /// An actor the command names to act (a delegate, an added or new reviewer) lacks the
    /// role that acting needs.
    #[error("{field} names actor {actor}, who lacks the role {role}")]
    NamedActorMissingRole {
        /// The request field naming them.
        field: String,
        /// The actor named.
        actor: ActorId,
        /// The role they lack.
        role: Role,
    },
    /// An actor the command names to act is not cleared for the document.
    #[error(
        "{field} names actor {actor}, whose clearance {clearance} is below the document's {classification}"
    )]
    NamedActorClearance {
        /// The request field naming them.
        field: String,
        /// The actor named.
        actor: ActorId,
        /// Their clearance.
        clearance: Classification,
        /// The document's classification.
        classification: Classification,
    },
    /// A unit the command names to handle a classified document (a 秘密 收文's 主办 or 协办,
    /// a 督办 item's) has no active 承办人 (handler) cleared for it: nobody there could act on it.
    #[error(
        "{field} names unit {unit}, where no active handler is cleared for the document's {classification}"
    )]
    NamedUnitClearance {
        /// The request field naming it.
        field: String,
        /// The unit named.
        unit: UnitCode,
        /// The document's classification.
        classification: Classification,
    },
    /// An actor the command names (a reviewer, a delegate, an escalation) was deactivated.
    #[error("{field} names actor {actor}, who was deactivated (离职, 调岗) and may not be named")]
    NamedActorDeactivated {
        /// The request field naming them.
        field: String,
        /// The actor named.
        actor: ActorId,
    },
    /// The acting actor is not in the directory.
    #[error("actor {actor} is not in the directory")]
    UnknownActor {
        /// The id given as the actor.
        actor: ActorId,
    },
    /// The acting actor lacks the role the command needs.
    #[error("actor {actor} lacks the role {role} needed to {command}")]
    MissingRole {
        /// Who tried.
        actor: ActorId,
        /// The role needed.
        role: Role,
        /// The rejected command.
        command: &'static str,
    },
    /// The acting actor's clearance is below the document's classification.
    #[error(
        "actor {actor} has clearance {clearance} but the document is classified {classification}"
    )]
    InsufficientClearance {
        /// Who tried.
        actor: ActorId,
        /// Their clearance.
        clearance: Classification,
        /// The document's classification (or the classification being set).
        classification: Classification,
    },
    /// The actor was deactivated (离职, 调岗): their history stays, they may not act, and
    /// their open tasks are in the office clerk's list for 转办.
    #[error(
        "actor {actor} was deactivated and may not act or be named; their open tasks are in the office clerk's to-do list for 转办 (Reassign)"
    )]
    ActorDeactivated {
        /// Who.
        actor: ActorId,
    },
    /// The acting actor holds the role but is not the one this task is waiting for.
    #[error("actor {actor} may not {command}: only {expected} may")]
    NotAssigned {
        /// Who tried.
        actor: ActorId,
        /// The rejected command.
        command: &'static str,
        /// Who may, e.g. `the drafter wang.fang`.
        expected: String,
    },
    /// The command names a document that does not exist.
    #[error("document {0} not found")]
    DocumentNotFound(DocumentId),
    /// A draft command names a document id that is already taken.
    #[error("document {0} already exists")]
    DocumentExists(DocumentId),
    /// The command names a file that is not kept as uploaded by the acting actor (nobody
    /// uploaded it, or someone else did): upload it first (`PutContent`), then name what the
    /// upload answered.
    #[error(
        "{field} names the file {digest}, which {actor} has not uploaded: upload it (PutContent) and name what the upload answered"
    )]
    FileNotUploaded {
        /// The request field naming it, e.g. `files.attachments[0]`.
        field: String,
        /// The digest named.
        digest: crate::content::Digest,
        /// Who named it.
        actor: ActorId,
    },
    /// The command approves a 正文 other than the current one: the text changed after the
    /// actor was shown it (a revision came in between). Show the current 正文 and decide again.
    #[error(
        "{command} was given on the 正文 {shown}, but the document's 正文 is now {}: read it again and decide on the current text",
        current.as_ref().map_or("none", |d| d.as_str())
    )]
    ContentChanged {
        /// The rejected command.
        command: &'static str,
        /// The digest the actor was shown.
        shown: crate::content::Digest,
        /// The current 正文's digest.
        current: Option<crate::content::Digest>,
    },
    /// What the decision needed could not be read (the store's numbers or chain): not a
    /// rejection of the command, which may succeed when retried.
    #[error("the decision could not read what it needs: {0}")]
    Context(#[from] crate::context::ContextError),
}

/// How a rejection is classified; the gRPC status follows from it one to one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// A field is invalid (`INVALID_ARGUMENT`).
    InvalidArgument,
    /// The document's state forbids it (`FAILED_PRECONDITION`).
    FailedPrecondition,
    /// The actor may not (`PERMISSION_DENIED`).
    PermissionDenied,
    /// No such document (`NOT_FOUND`).
    NotFound,
    /// The id is taken (`ALREADY_EXISTS`).
    AlreadyExists,
    /// The context could not be read (`UNAVAILABLE`): a retry may succeed.
    Unavailable,
    /// What the actor decided on changed meanwhile (`ABORTED`): read again, decide again.
    Aborted,
}

impl Error {
    /// The class of this rejection.
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::InvalidField { .. } => ErrorClass::InvalidArgument,
            Error::WrongState { .. }
            | Error::NotNow { .. }
            | Error::StageNotCurrent { .. }
            | Error::FileNotUploaded { .. } => ErrorClass::FailedPrecondition,
            Error::ContentChanged { .. } => ErrorClass::Aborted,
            Error::UnknownActor { .. }
            | Error::NamedActorMissingRole { .. }
            | Error::NamedActorClearance { .. }
            | Error::NamedUnitClearance { .. }
            | Error::MissingRole { .. }
            | Error::InsufficientClearance { .. }
            | Error::ActorDeactivated { .. }
            | Error::NamedActorDeactivated { .. }
            | Error::NotAssigned { .. } => ErrorClass::PermissionDenied,
            Error::DocumentNotFound(_) => ErrorClass::NotFound,
            Error::DocumentExists(_) => ErrorClass::AlreadyExists,
            Error::Context(_) => ErrorClass::Unavailable,
        }
    }

    /// A stable code for the rejection, for programs: `INVALID_FIELD`, `WRONG_STATE`,
    /// `NOT_NOW`, `STAGE_NOT_CURRENT`, `UNKNOWN_ACTOR`, `MISSING_ROLE`, `CLEARANCE_TOO_LOW`,
    /// `NOT_ASSIGNED`, `ACTOR_DEACTIVATED`, `FILE_NOT_UPLOADED`, `CONTENT_CHANGED`,
    /// `DOCUMENT_NOT_FOUND`, `DOCUMENT_EXISTS`. The gRPC service sends it as
    /// `google.rpc.ErrorInfo.reason`; it never changes for a variant.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::InvalidField { .. } => "INVALID_FIELD",
            Error::WrongState { .. } => "WRONG_STATE",
            Error::NotNow { .. } => "NOT_NOW",
            Error::StageNotCurrent { .. } => "STAGE_NOT_CURRENT",
            Error::NamedActorMissingRole { .. } => "MISSING_ROLE",
            Error::NamedActorClearance { .. } | Error::NamedUnitClearance { .. } => {
                "CLEARANCE_TOO_LOW"
            }
            Error::UnknownActor { .. } => "UNKNOWN_ACTOR",
            Error::MissingRole { .. } => "MISSING_ROLE",
            Error::InsufficientClearance { .. } => "CLEARANCE_TOO_LOW",
            Error::NotAssigned { .. } => "NOT_ASSIGNED",
            Error::ActorDeactivated { .. } | Error::NamedActorDeactivated { .. } => {
                "ACTOR_DEACTIVATED"
            }
            Error::FileNotUploaded { .. } => "FILE_NOT_UPLOADED",
            Error::ContentChanged { .. } => "CONTENT_CHANGED",
            Error::DocumentNotFound(_) => "DOCUMENT_NOT_FOUND",
            Error::DocumentExists(_) => "DOCUMENT_EXISTS",
            Error::Context(_) => "STORAGE_UNAVAILABLE",
        }
    }

    /// The request field whose value was refused, when the refusal is about a value the
    /// caller chose (a malformed field, a person or a file it names) rather than about who
    /// acts or when. Deciding checks whose turn it is and the state before any field, so a
    /// command refused only for a field is one the actor may take with other values: what
    /// a form offers.
    pub fn refused_field(&self) -> Option<&str> {
        match self {
            Error::InvalidField { field, .. }
            | Error::NamedActorMissingRole { field, .. }
            | Error::NamedActorClearance { field, .. }
            | Error::NamedUnitClearance { field, .. }
            | Error::NamedActorDeactivated { field, .. }
            | Error::FileNotUploaded { field, .. } => Some(field),
            _ => None,
        }
    }

    pub(crate) fn field(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidField {
            field: field.into(),
            reason: reason.into(),
        }
    }
}
