//! The pure domain of the official-document (公文) workflow: commands → events → state.
//!
//! Every document is a stream of one *flow* — 发文 ([`outgoing`]: drafting 拟稿, review 审核,
//! countersign 会签, sign-off 签发, issue 印发, archive 归档; DESIGN §2), 收文 ([`incoming`]),
//! 督办 ([`supervision`]) — each a module implementing [`Flow`]: it decides a command against
//! its state and the acting actor, returning the events to record or an [`Error`] saying
//! which field, state, actor or role was wrong, and folds events into state without
//! failing. [`decide`] and [`FlowState`] do the same for a stream of any flow ([`registry`]);
//! [`reactions`] are what an event asks of another stream. Nothing here does I/O, reads a
//! clock or draws random numbers: time and ids come in with the command, so replaying the
//! same events always gives the same state.
//!
//! The root holds the few types every caller meets (the flow boundary, ids, errors, the
//! [`Context`] a decision reads); the rest is in its module, one idea each.
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use uuid::Uuid;
//! use workflow_core::kind::Kind;
//! use workflow_core::outgoing::{handle, Action, Command, Document, DraftFields, State};
//! use workflow_core::{Directory, DocumentId};
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
//!         files: Default::default(),
//!         annotation: None,
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

mod checks;
mod links;
mod routing;

pub mod archive;
pub mod codec;
pub mod content;
pub mod context;
pub mod directory;
pub mod error;
pub mod flow;
pub mod ids;
pub mod incoming;
pub mod kind;
pub mod notice;
pub mod numbering;
pub mod opinion;
pub mod outgoing;
pub mod reactions;
pub mod registry;
pub mod retention;
pub mod route;
pub mod sheet;
pub mod submission;
pub mod summary;
pub mod supervision;
pub mod todo;

// The few types every user of the core meets: the flow boundary, ids, errors and what a
// decision reads. Everything else is reached through its module.
pub use codec::EventCodec;
pub use context::{Context, Directory};
pub use error::{Error, ErrorClass};
pub use flow::{Flow, FlowCommand, Recorded};
pub use ids::{ActorId, DocumentId, Timestamp, UnitCode};
pub use kind::StreamKind;
pub use registry::{FlowAction, FlowEvent, FlowState, Registered, decide};

/// Limits on input sizes, so oversized requests are rejected with a clear error.
pub mod limits {
    pub use crate::outgoing::decide::{
        MAX_DEADLINE_DAYS, MAX_LIST, MAX_STAGES, MAX_TEXT_CHARS, MAX_TITLE_CHARS,
    };
}
