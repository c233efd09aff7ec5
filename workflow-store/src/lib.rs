//! The durable event log of the document workflow, on sled: append with group commit,
//! optimistic concurrency, idempotency, a hash chain, projections, replay, time travel and
//! live subscriptions. Every business rule comes from [`workflow_core`].
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use workflow_core::kind::Kind;
//! use workflow_core::outgoing::{Action, DraftFields, State};
//! use workflow_core::DocumentId;
//! use workflow_store::{Engine, Request};
//!
//! let dir = tempfile::tempdir()?;
//! let engine = Engine::open(dir.path())?;
//! let campus = include_str!("../../fixtures/campus.json");
//! engine.load_directory_json(campus, "example", "the campus directory").await?;
//!
//! let id = DocumentId(uuid::Uuid::new_v4());
//! let draft = Action::Draft(DraftFields {
//!     kind: Kind::Circular,
//!     title: "关于做好2026年秋季学期期末考试工作的通知".into(),
//!     body: String::new(),
//!     issuing_unit: "XB".into(),
//!     co_issuing_units: vec![],
//!     classification: Default::default(),
//!     classification_period_years: None,
//!     urgency: Default::default(),
//!     important: false,
//!     main_recipients: vec!["各学院".into()],
//!     cc: vec![],
//!     files: Default::default(),
//!     annotation: None,
//! });
//! let mut request = Request::new(id, "wang.fang", draft);
//! request.expected_version = Some(0); // the document must not exist yet
//! let outcome = engine.execute(request.clone()).await?; // durable when this returns
//! assert_eq!(outcome.version, 1);
//!
//! // Resending the same command id appends nothing and returns the first outcome.
//! let again = engine.execute(request).await?;
//! assert!(again.replayed);
//! assert_eq!(again.events, outcome.events);
//!
//! assert_eq!(engine.document(id)?.map(|d| d.state()), Some(State::Drafting));
//! assert!(engine.verify(|_, _| {})?.is_intact());
//! # Ok(()) }
//! ```
//!
//! # Durability
//!
//! One writer thread takes every waiting command, decides each against the state
//! projection (plus what earlier commands of the same group changed), writes the events,
//! stream index, projections and command-id records of the whole group in **one sled
//! transaction**, flushes it and syncs it to stable storage (`fdatasync` of the data file,
//! `fsync` of new files and changed directories) **once**, and only then answers every
//! caller and wakes subscribers. Hence, with the default [`Durability::Strict`]:
//! - A command answered `Ok` is on stable storage: a process crash, `SIGKILL`, an operating
//!   system crash or a power loss after the answer loses nothing (as far as the disk honours
//!   a cache flush). With [`Durability::Relaxed`] only a process crash is covered.
//! - A crash before the answer leaves the group either wholly present or wholly absent
//!   (sled transactions are atomic across trees); the caller never saw success and can
//!   resend with the same `command_id`, which returns the original outcome if the group
//!   did land.
//! - Positions are gapless and the hash chain is intact after any crash.
//! - Log reads (history, the log, command outcomes, verify) and subscribers stop at the last
//!   synced position; projections (document state, lists, to-do) may show a group between
//!   its transaction and its sync.

pub mod access;
pub mod archive_check;
pub mod content;
mod directory;
mod durability;
pub mod eep;
pub mod engine;
pub mod envelope;
mod error;
pub mod export;
pub mod notify;
pub mod print;
pub mod projection;
pub mod read;
pub mod replay;
pub mod search;
pub mod sign;
pub mod storage;
pub mod telemetry;

// What a program embedding the engine meets; the rest is reached through its module
// (`workflow_store::replay::VerifyReport`, `workflow_store::storage::EventLog`, …).
pub use durability::Durability;
pub use engine::{AsOf, Clock, Config, Engine, Outcome, Request};
pub use envelope::{Envelope, LogHead};
pub use error::{Error, Result};
pub use read::{ListQuery, Page, Reader};
pub use search::{SearchIndex, SearchStatus};
#[cfg(any(test, feature = "fault-injection"))]
pub use storage::Drills;
pub use storage::Storage;
#[cfg(feature = "postgres")]
pub use storage::postgres::{PostgresOptions, PostgresStorage};
#[cfg(feature = "sled")]
pub use storage::sled::SledStorage;
#[cfg(any(test, feature = "fault-injection"))]
#[doc(hidden)]
pub use storage::{Faults, faults_for};
