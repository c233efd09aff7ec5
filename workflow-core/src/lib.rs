//! The pure domain of the official-document (公文) workflow: commands → events → state.
//!
//! A document moves through drafting 拟稿, review 审核, countersign 会签, sign-off 签发,
//! issue 印发 and archive 归档 (DESIGN §2). [`handle`] holds every business rule: it checks a
//! [`Command`] against the current [`Document`] and the acting [`Actor`] and returns the
//! [`Event`]s to record or an [`Error`] saying which field, state, actor or role was wrong.
//! [`Document::apply`] folds events into state and cannot fail. Nothing here does I/O, reads
//! a clock or draws random numbers: time and ids come in with the command, so replaying the
//! same events always gives the same state.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use uuid::Uuid;
//! use workflow_core::{
//!     handle, Action, Command, Directory, Document, DocumentId, DraftFields, Kind, State,
//! };
//!
//! let dir = Directory::from_json(include_str!("../../fixtures/campus.json")).unwrap();
//! let id = DocumentId(Uuid::from_u128(1));
//! let at = Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap();
//! let draft = Command {
//!     document_id: id,
//!     actor: "wang.fang".into(),
//!     at,
//!     action: Action::Draft(DraftFields {
//!         kind: Kind::Circular,
//!         title: "关于做好2026年秋季学期期末考试工作的通知".into(),
//!         body: String::new(),
//!         issuing_unit: "XB".into(),
//!         co_issuing_units: vec![],
//!         classification: Default::default(),
//!         classification_period_years: None,
//!         urgency: Default::default(),
//!         important: false,
//!         main_recipients: vec!["各学院".into()],
//!         cc: vec![],
//!     }),
//! };
//! let events = handle(None, &draft, &dir).unwrap();
//! let doc = Document::from_events(&events).unwrap();
//! assert_eq!(doc.state(), State::Drafting);
//!
//! // Someone who is not the drafter may not submit it.
//! let submit = Command { actor: "li.qiang".into(), action: Action::SubmitForReview { route: vec![] }, ..draft };
//! assert!(handle(Some(&doc), &submit, &dir).is_err());
//! ```

mod archive;
mod checks;
mod codec;
mod context;
mod directory;
mod error;
mod flow;
mod ids;
pub mod incoming;
mod kind;
mod links;
mod numbering;
mod opinion;
pub mod outgoing;
mod parts;
mod reactions;
mod registry;
mod retention;
mod route;
pub mod sheet;
pub mod summary;
pub mod supervision;
mod todo;

pub use archive::{ArchiveRecord, RetentionSchedule, ScheduleError, ScheduleRow};
pub use codec::{DecodeError, EventCodec, PayloadError, SCHEMA_VERSION, upcast};
pub use context::{Context, ContextError, Directory};
pub use directory::{
    Actor, Classification, DIRECTORY_STREAM, Deactivation, DirectoryAction, DirectoryEvent,
    DirectoryState, DirectoryStream, Role, Unit, describe_actor_change,
};
pub use error::{Error, ErrorClass};
pub use flow::{
    Closing, Flow, FlowCommand, Listing, Particulars, Recorded, ReminderDue, ReminderSent,
};
pub use ids::{ActorId, DocumentId, SYSTEM_ACTOR, Timestamp, UnitCode, china_date, china_time};
pub use incoming::{
    Incoming, IncomingAction, IncomingEvent, Plan, Receipt, Registration, linked_receipt_id,
};
pub use kind::{Kind, StreamKind, UnknownKind, Urgency};
pub use numbering::{ArchiveReference, DocumentNumber, ReceiptNumber, Series};
pub use opinion::Opinion;
pub use outgoing::{
    Action, Command, Document, DraftFields, Event, EventData, IssueRecord, Outgoing, Signature,
    State, handle, listing_year,
};
pub use parts::{Content, PartsMismatch, StateParts};
pub use reactions::{Reaction, reactions};
pub use registry::{FlowAction, FlowEvent, FlowState, Registered, decide};
pub use retention::Retention;
pub use route::{Completion, Stage, StageOutcome, StageSpec, stage_label};
pub use supervision::{
    Item, ItemSpec, ItemStep, Publication, PublicationAction, PublicationEvent, Supervision,
    SupervisionAction, SupervisionEvent, linked_item_id,
};
pub use todo::Assignee;

/// Limits on input sizes, so oversized requests are rejected with a clear error.
pub mod limits {
    pub use crate::outgoing::decide::{
        MAX_DEADLINE_DAYS, MAX_LIST, MAX_STAGES, MAX_TEXT_CHARS, MAX_TITLE_CHARS,
    };
}
