//! Every conversion between wire (`pb`) and domain types, and the one mapping of errors to
//! gRPC status codes. Handlers call these and nothing else to cross the boundary.

use std::collections::HashMap;

use chrono::NaiveDate;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};
use uuid::Uuid;
use workflow_core::{
    ActorId, DocumentId, ErrorClass, FlowAction, Timestamp, UnitCode, directory::Classification,
    directory::Role, incoming::IncomingAction, kind::Kind, kind::Urgency, outgoing::Action,
    outgoing::Document, outgoing::DraftFields, outgoing::State, retention::Retention,
    route::Completion, route::StageSpec, submission::SubmissionAction,
    supervision::SupervisionAction,
};
use workflow_store::{
    Envelope, Error, ListQuery, LogHead, Outcome, Page, Request, read::Stats,
    read::SubscribeFilter, replay::VerifyOptions, replay::VerifyReport,
};

use crate::pb;

mod incoming;
mod submission;
mod supervision;
pub use incoming::{flow, receipt};
use incoming::{optional_date, plan, plan_to, registration, registration_sent};
pub use submission::memo;
use submission::{
    decision_from, decision_to, memo_fields, memo_fields_to, supervise, supervise_to,
};
pub use supervision::{bulletin, item, month, source_filter};
use supervision::{percent, spec, spec_sent};

/// The `google.rpc.ErrorInfo.domain` of every error this service sends.
pub const ERROR_DOMAIN: &str = "workflow.v1";

/// A status with `google.rpc` details: `ErrorInfo` (the stable `reason` code, the domain,
/// and `metadata`) always, and `BadRequest` naming `field` when there is one.
pub fn status(
    code: Code,
    reason: &str,
    message: impl Into<String>,
    metadata: Vec<(&str, String)>,
    field: Option<&str>,
) -> Status {
    let message = message.into();
    let mut details = ErrorDetails::new();
    let metadata: HashMap<String, String> = metadata
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    details.set_error_info(reason, ERROR_DOMAIN, metadata);
    if let Some(field) = field {
        details.add_bad_request_violation(field, message.clone());
    }
    Status::with_error_details(code, message, details)
}

/// The gRPC status for a store error (DESIGN §5), with a message naming what was wrong and
/// `google.rpc` details: `ErrorInfo` with a stable reason code (and, for `ABORTED`, the
/// expected and actual versions), `BadRequest` with the field for `INVALID_ARGUMENT`.
pub fn status_of(e: &Error) -> Status {
    let code = match e {
        Error::Rejected(r) => match r.class() {
            ErrorClass::InvalidArgument => Code::InvalidArgument,
            ErrorClass::FailedPrecondition => Code::FailedPrecondition,
            ErrorClass::PermissionDenied => Code::PermissionDenied,
            ErrorClass::NotFound => Code::NotFound,
            ErrorClass::AlreadyExists => Code::AlreadyExists,
            ErrorClass::Unavailable => Code::Unavailable,
            ErrorClass::Aborted => Code::Aborted,
        },
        Error::Conflict { .. } | Error::WriteConflict { .. } | Error::PrintedAheadStale { .. } => {
            Code::Aborted
        }
        Error::CommandIdReused { .. } | Error::CommandIdMismatch { .. } => Code::AlreadyExists,
        Error::InvalidRequest { .. } => Code::InvalidArgument,
        Error::NotFound(_) => Code::NotFound,
        Error::SystemClearance { .. } => Code::PermissionDenied,
        // Storage failures are worth a retry (same command_id); never INTERNAL.
        Error::Unavailable { .. }
        | Error::Locked { .. }
        | Error::Closed
        | Error::CommitFailed { .. }
        | Error::Halted { .. } => Code::Unavailable,
        Error::Corrupt { .. } => Code::DataLoss,
        Error::NotAStore { .. } => Code::FailedPrecondition,
        // Internal, and whatever a later store version adds: a bug until mapped.
        _ => Code::Internal,
    };
    let mut metadata = Vec::new();
    match e {
        Error::Conflict {
            document_id,
            expected,
            actual,
        } => {
            metadata.push(("document_id", document_id.to_string()));
            metadata.push(("expected_version", expected.to_string()));
            metadata.push(("actual_version", actual.to_string()));
        }
        Error::CommandIdReused { document_id, .. }
        | Error::CommandIdMismatch { document_id, .. } => {
            metadata.push(("document_id", document_id.to_string()));
        }
        Error::NotFound(id) => metadata.push(("document_id", id.to_string())),
        Error::SystemClearance { system, .. } => metadata.push(("system", system.clone())),
        Error::Rejected(r) => metadata.extend(core_metadata(r)),
        _ => {}
    }
    if e.is_retryable() {
        metadata.push(("retryable", "true".into()));
    }
    let field = (code == Code::InvalidArgument || matches!(e, Error::SystemClearance { .. }))
        .then(|| e.field())
        .flatten();
    status(code, e.reason(), e.to_string(), metadata, field)
}

/// What a core rejection names, as `ErrorInfo` metadata.
fn core_metadata(e: &workflow_core::Error) -> Vec<(&'static str, String)> {
    use workflow_core::Error as E;
    match e {
        E::WrongState { command, state, .. } => vec![
            ("command", (*command).to_owned()),
            ("state", (*state).to_owned()),
        ],
        E::NotNow { command, .. } => vec![("command", (*command).to_owned())],
        E::UnknownActor { actor } => vec![("actor", actor.to_string())],
        E::MissingRole {
            actor,
            role,
            command,
        } => vec![
            ("actor", actor.to_string()),
            ("role", role.to_string()),
            ("command", (*command).to_owned()),
        ],
        E::InsufficientClearance {
            actor,
            clearance,
            classification,
        } => vec![
            ("actor", actor.to_string()),
            ("clearance", clearance.to_string()),
            ("classification", classification.to_string()),
        ],
        E::NotAssigned { actor, command, .. } => vec![
            ("actor", actor.to_string()),
            ("command", (*command).to_owned()),
        ],
        E::DocumentNotFound(id) | E::DocumentExists(id) => vec![("document_id", id.to_string())],
        E::StageNotCurrent {
            command,
            meant,
            was,
            ..
        } => vec![
            ("command", (*command).to_owned()),
            ("meant_stage", meant.to_string()),
            ("meant_stage_is", (*was).to_owned()),
        ],
        E::NamedActorMissingRole { field, actor, role } => vec![
            ("field", field.clone()),
            ("actor", actor.to_string()),
            ("role", role.to_string()),
        ],
        E::NamedActorClearance {
            field,
            actor,
            clearance,
            classification,
        } => vec![
            ("field", field.clone()),
            ("actor", actor.to_string()),
            ("clearance", clearance.to_string()),
            ("classification", classification.to_string()),
        ],
        E::NamedUnitClearance {
            field,
            unit,
            classification,
        } => vec![
            ("field", field.clone()),
            ("unit", unit.to_string()),
            ("classification", classification.to_string()),
        ],
        E::FileNotUploaded {
            field,
            digest,
            actor,
        } => vec![
            ("field", field.clone()),
            ("sha256", digest.to_string()),
            ("actor", actor.to_string()),
        ],
        E::ContentChanged {
            command,
            shown,
            current,
        } => vec![
            ("command", (*command).to_owned()),
            ("shown_sha256", shown.to_string()),
            (
                "current_sha256",
                current
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
            ),
        ],
        _ => Vec::new(),
    }
}

/// An `INTERNAL` for a bug (a task that panicked).
pub fn internal(e: &dyn std::fmt::Display) -> Status {
    status(
        Code::Internal,
        "INTERNAL",
        format!("internal error (a bug): {e}"),
        Vec::new(),
        None,
    )
}

/// An `INVALID_ARGUMENT` naming the field (in the message and in `BadRequest`).
pub fn invalid(field: &str, reason: impl std::fmt::Display) -> Status {
    status(
        Code::InvalidArgument,
        "INVALID_FIELD",
        format!("invalid {field}: {reason}"),
        Vec::new(),
        Some(field),
    )
}

/// Parses a document id.
pub fn document_id(field: &str, s: &str) -> Result<DocumentId, Status> {
    Uuid::parse_str(s.trim())
        .map(DocumentId)
        .map_err(|e| invalid(field, format!("{s:?} is not a UUID ({e})")))
}

fn required_text(field: &str, s: &str) -> Result<String, Status> {
    if s.trim().is_empty() {
        return Err(invalid(field, "is required"));
    }
    Ok(s.to_owned())
}

/// The stage a command is meant for, from the wire (0-based, as everywhere on the wire).
pub fn stage(s: Option<u32>) -> Option<usize> {
    s.map(|s| s as usize)
}

/// A log head on the wire.
pub fn log_head(h: &LogHead) -> pb::LogHead {
    pb::LogHead {
        position: h.position,
        hash: h.hash.clone(),
    }
}

/// A log head from the wire (a 64-hex-digit hash).
pub fn log_head_from(field: &str, h: pb::LogHead) -> Result<LogHead, Status> {
    format!("{}:{}", h.position, h.hash)
        .parse()
        .map_err(|e: String| invalid(field, e))
}

/// The common part of every command request.
pub fn request(
    command_id: &str,
    actor_id: &str,
    document_id_text: &str,
    expected_version: Option<u64>,
    action: impl Into<workflow_core::FlowAction>,
) -> Result<Request, Status> {
    Ok(Request {
        command_id: required_text("command_id", command_id)?,
        document_id: document_id("document_id", document_id_text)?,
        actor: ActorId(required_text("actor_id", actor_id)?),
        at: None,
        expected_version,
        action: action.into(),
    })
}

/// A command message of the wire: it names its command id, actor, document and expected
/// version, and carries one action.
pub trait WireCommand {
    /// The engine request it asks for, or `INVALID_ARGUMENT` naming the field at fault.
    fn into_request(self) -> Result<Request, Status>;
}

/// Every command RPC's conversions, from the command table (`commands.rs`): a
/// [`WireCommand`] for each wire message, [`CommandMessage`] (one variant per RPC) and
/// [`command_message`] (an engine request back into its message).
macro_rules! wire_conversions {
    (
        no_rpc { $( $npat:pat => $why:expr; )* }
        $( $flow:ident($action:ty) {
            $( $rpc:ident: $variant:ident($msg:ident)
                from |$r:ident| $from:expr;
                to $pat:pat => { $($field:ident: $value:expr),* $(,)? };
            )*
        } )*
    ) => {
        $($(
            impl WireCommand for pb::$msg {
                fn into_request(self) -> Result<Request, Status> {
                    let $r = self;
                    let action: $action = $from;
                    request(&$r.command_id, &$r.actor_id, &$r.document_id, $r.expected_version, action)
                }
            }
        )*)*

        /// A command message to send: the wire form of an engine [`Request`], one variant
        /// per RPC (see [`crate::client::send`]).
        #[derive(Debug, Clone, PartialEq)]
        #[allow(missing_docs)] // one variant per RPC, named after it
        pub enum CommandMessage {
            $($( $variant(pb::$msg), )*)*
        }

        /// The wire message of an engine request: the inverse of
        /// [`WireCommand::into_request`]. Reminders have none (only the server's deadline
        /// sweep gives them), nor have directory changes (WorkflowAdmin's RPCs), the 月通报's
        /// publication (an RPC of its own), or a 收文 or 督办 item the engine opens itself.
        pub fn command_message(r: &Request) -> Result<CommandMessage, Status> {
            Ok(match r.action.clone() {
                $( $npat => return Err(invalid("action", $why)), )*
                $($(
                    FlowAction::$flow($pat) => {
                        let Header { command_id, actor_id, document_id, expected_version } =
                            Header::of(r);
                        CommandMessage::$variant(pb::$msg {
                            command_id,
                            actor_id,
                            document_id,
                            expected_version,
                            $($field: $value),*
                        })
                    }
                )*)*
            })
        }
    };
}

crate::commands::command_table!(wire_conversions);

/// A stage index to the wire.
fn stage_index_to(field: &str, s: Option<usize>) -> Result<Option<u32>, Status> {
    s.map(|s| u32::try_from(s).map_err(|_| invalid(field, format!("stage {s} is out of range"))))
        .transpose()
}

/// The common part of every command message: command id, actor, document and expected
/// version, taken from an engine request.
#[derive(Debug)]
struct Header {
    command_id: String,
    actor_id: String,
    document_id: String,
    expected_version: Option<u64>,
}

impl Header {
    fn of(r: &Request) -> Header {
        Header {
            command_id: r.command_id.clone(),
            actor_id: r.actor.0.clone(),
            document_id: r.document_id.to_string(),
            expected_version: r.expected_version,
        }
    }
}

/// A text field of the wire, trimmed; `None` when empty (a filter not asked for).
fn trimmed(text: &str) -> Option<String> {
    let t = text.trim();
    (!t.is_empty()).then(|| t.to_owned())
}

/// A list's filters from the wire; who reads (viewer, clearance) the engine adds.
pub fn list_query(r: &pb::ListDocumentsRequest, now: Timestamp) -> Result<ListQuery, Status> {
    Ok(ListQuery {
        flow: flow("flow", &r.flow)?,
        step: trimmed(&r.step),
        state: optional_enum::<State, pb::State>("state", r.state)?,
        unit: trimmed(&r.unit).map(UnitCode),
        kind: optional_enum::<Kind, pb::Kind>("kind", r.kind)?,
        year: (r.year != 0).then_some(r.year),
        overdue_at: r.overdue.then_some(now),
        leader: trimmed(&r.leader).map(ActorId),
        source: source_filter(&r.source)?,
        text: trimmed(&r.text),
        started_by: trimmed(&r.started_by).map(ActorId),
        acted_by: trimmed(&r.acted_by).map(ActorId),
        newest_first: r.newest_first,
        viewer: None,
        max_classification: None,
        page_token: (!r.page_token.is_empty()).then(|| r.page_token.clone()),
        page_size: r.page_size as usize,
    })
}

/// The largest chunk of a file on the wire (1 MiB), up or down.
pub const MAX_CHUNK: usize = 1 << 20;

/// A SHA-256 digest from the wire (64 hex digits).
pub fn digest(field: &str, s: &str) -> Result<workflow_core::content::Digest, Status> {
    workflow_core::content::Digest::parse(s).ok_or_else(|| {
        invalid(
            field,
            format!("{s:?} is not a SHA-256 digest (64 hex digits)"),
        )
    })
}

/// How much of a range to read in one chunk: the range's length (0: to the end) up to `max`.
pub fn range_len(length: u64, max: u64) -> usize {
    let n = if length == 0 { max } else { length.min(max) };
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// The 正文 a command says its actor was shown: `None` when empty.
pub fn shown(field: &str, s: &str) -> Result<Option<workflow_core::content::Digest>, Status> {
    if s.trim().is_empty() {
        Ok(None)
    } else {
        digest(field, s).map(Some)
    }
}

/// The digest as the wire has it: empty for none.
pub fn shown_to(d: Option<&workflow_core::content::Digest>) -> String {
    d.map(ToString::to_string).unwrap_or_default()
}

/// A file a command names, from the wire (its name checked by the flow).
pub fn file_ref(field: &str, f: pb::FileInfo) -> Result<workflow_core::content::FileRef, Status> {
    Ok(workflow_core::content::FileRef {
        name: f.name,
        digest: digest(&format!("{field}.sha256"), &f.sha256)?,
        size: f.size,
        media_type: f.media_type,
        pages: f.pages,
    })
}

/// The files a command names, from the wire.
pub fn document_files(
    field: &str,
    f: Option<pb::DocumentFiles>,
) -> Result<workflow_core::content::DocumentFiles, Status> {
    let Some(f) = f else {
        return Ok(Default::default());
    };
    Ok(workflow_core::content::DocumentFiles {
        main: f
            .main
            .map(|m| file_ref(&format!("{field}.main"), m))
            .transpose()?
            .map(Box::new),
        attachments: f
            .attachments
            .into_iter()
            .enumerate()
            .map(|(i, a)| file_ref(&format!("{field}.attachments[{i}]"), a))
            .collect::<Result<_, _>>()?,
    })
}

/// The files a document names, to the wire (`None` when it names none).
pub fn document_files_to(f: &workflow_core::content::DocumentFiles) -> Option<pb::DocumentFiles> {
    (!f.is_empty()).then(|| pb::DocumentFiles {
        main: f.main.as_deref().map(file_info),
        attachments: f.attachments.iter().map(file_info).collect(),
    })
}

/// A file as an event names it, to the wire.
pub fn file_info(f: &workflow_core::content::FileRef) -> pb::FileInfo {
    pb::FileInfo {
        name: f.name.clone(),
        sha256: f.digest.to_string(),
        size: f.size,
        media_type: f.media_type.clone(),
        pages: f.pages,
    }
}

/// A file read through a document: its name there, its digest and size, and its media type
/// from the bytes' signature where `head` (its first bytes) names one.
pub fn file_info_of(
    name: &str,
    digest: &workflow_core::content::Digest,
    size: u64,
    head: Option<&[u8]>,
) -> pb::FileInfo {
    let media_type = head
        .and_then(|h| workflow_core::content::sniffed_kind(name, h))
        .map_or("application/octet-stream", |k| k.media_type());
    pb::FileInfo {
        name: workflow_core::content::safe_name(name),
        sha256: digest.to_string(),
        size,
        media_type: media_type.to_owned(),
        pages: None,
    }
}

/// A page of documents to the wire, overdue as of `now`.
pub fn list_response(page: &Page, now: Timestamp) -> pb::ListDocumentsResponse {
    pb::ListDocumentsResponse {
        documents: page
            .documents()
            .into_iter()
            .map(|d| document(d, now))
            .collect(),
        next_page_token: page.next_page_token.clone().unwrap_or_default(),
        receipts: page
            .receipts()
            .into_iter()
            .map(|r| receipt(r, now))
            .collect(),
        items: page.items().into_iter().map(|i| item(i, now)).collect(),
        memos: page
            .of::<workflow_core::submission::Submission>()
            .map(|m| memo(m, now))
            .collect(),
    }
}

/// A document's events to the wire.
pub fn history_response(events: &[Envelope]) -> pb::GetHistoryResponse {
    pb::GetHistoryResponse {
        events: events.iter().map(envelope).collect(),
    }
}

/// A subscription's filter from the wire; `max_classification` from the subscriber's
/// clearance (or its system's, if it named no actor); the directory stream's events only
/// for an administering system.
pub fn subscribe_filter(
    r: &pb::SubscribeRequest,
    max_classification: Option<Classification>,
    directory: bool,
) -> Result<SubscribeFilter, Status> {
    let kinds = r
        .kinds
        .iter()
        .enumerate()
        .map(|(i, k)| Kind::from_wire(&format!("kinds[{i}]"), *k))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SubscribeFilter {
        max_classification,
        event_types: r.event_types.clone(),
        kinds,
        units: r.units.iter().cloned().map(UnitCode).collect(),
        directory,
    })
}

/// The directory's actors to the wire.
pub fn actors_response(
    actors: &[workflow_core::directory::Actor],
    deactivated: impl Fn(&ActorId) -> bool,
) -> pb::ListActorsResponse {
    pb::ListActorsResponse {
        actors: actors
            .iter()
            .map(|a| actor_to(a, deactivated(&a.id)))
            .collect(),
    }
}

/// The directory's units to the wire.
pub fn units_response(units: &[workflow_core::directory::Unit]) -> pb::ListUnitsResponse {
    pb::ListUnitsResponse {
        units: units.iter().map(unit_to).collect(),
    }
}

/// Verify options from the wire.
pub fn verify_options(r: pb::VerifyLogRequest) -> Result<VerifyOptions, Status> {
    Ok(VerifyOptions {
        against: r.against.map(|h| log_head_from("against", h)).transpose()?,
    })
}

/// The scope of a 四性检测 from the wire.
pub fn archive_scope(
    r: pb::CheckArchiveRequest,
) -> Result<workflow_store::archive_check::ArchiveScope, Status> {
    if r.year < 0 {
        return Err(invalid("year", format!("{} is no 年度", r.year)));
    }
    let fonds = r.fonds.trim();
    let scope = workflow_store::archive_check::ArchiveScope {
        fonds: (!fonds.is_empty()).then(|| fonds.to_owned()),
        year: (r.year != 0).then_some(r.year),
        retention: optional_enum("retention", r.retention)?,
        against: r.against.map(|h| log_head_from("against", h)).transpose()?,
        viewer: None,
    };
    scope.check().map_err(|p| invalid(p.field, p.reason))?;
    Ok(scope)
}

/// A 四性检测 report to the wire.
pub fn archive_check(
    report: &workflow_store::archive_check::ArchiveCheck,
) -> pb::ArchiveCheckReport {
    use workflow_store::archive_check::Aspect;
    pb::ArchiveCheckReport {
        scope: report.scope.clone(),
        records: report.records,
        events: report.events,
        passed: report.passed(),
        items: report
            .items
            .iter()
            .map(|i| pb::ArchiveCheckItem {
                aspect: match i.aspect {
                    Aspect::Authenticity => "authenticity",
                    Aspect::Integrity => "integrity",
                    Aspect::Usability => "usability",
                    Aspect::Security => "security",
                }
                .into(),
                aspect_name: i.aspect.chinese().into(),
                code: i.code.into(),
                name: i.name.into(),
                passed: i.passed,
                checked: i.checked,
                findings: i.findings.clone(),
            })
            .collect(),
        text: report.to_text(),
    }
}

/// A verify report to the wire.
pub fn verify_response(
    report: VerifyReport,
    access: &workflow_store::access::AccessReport,
) -> pb::VerifyLogResponse {
    use workflow_store::replay::Problem;
    let (broken_position, reason) = match report.first_problem() {
        Some(Problem::Chain(b)) => (b.position, b.reason.clone()),
        Some(Problem::File(f)) => (0, format!("file {}: {}", f.digest, f.reason)),
        Some(Problem::Printed(p)) => (
            0,
            format!(
                "issued document {} ({}): {}",
                p.number, p.document, p.reason
            ),
        ),
        None => (0, String::new()),
    };
    let (access_log_broken_position, access_log_reason) =
        access.first_break.clone().unwrap_or_default();
    pb::VerifyLogResponse {
        checked: report.checked,
        intact: report.is_intact() && access.is_intact(),
        access_log_checked: access.checked,
        access_log_broken_position,
        access_log_reason,
        broken_position,
        reason,
        fixity_checked: report.fixity_checked,
        bulletins_checked: report.bulletins_checked,
        files_checked: report.files_checked,
        printed_checked: report.printed_checked,
        printed_not_checked: report
            .printed_not_checked
            .iter()
            .map(|p| format!("{} ({}): {}", p.number, p.document, p.reason))
            .collect(),
        recorded_head: report.recorded_head.as_ref().map(log_head),
        extends_against: report.extends.is_some(),
        head_hash: report.head_hash,
    }
}

/// Counts to the wire.
pub fn stats(s: Stats) -> pb::Stats {
    pb::Stats {
        last_position: s.last_position,
        documents: s.documents,
        by_state: s.by_state.into_iter().collect(),
        by_unit: s.by_unit.into_iter().collect(),
        by_kind: s.by_kind.into_iter().collect(),
        by_year: s.by_year.into_iter().collect(),
        size_on_disk: s.size_on_disk,
        by_flow: s.by_flow.into_iter().collect(),
    }
}

/// What a dry-run sweep would remind, to the wire.
pub fn sweep_dry_run_response(
    due: &[workflow_store::engine::DueReminder],
) -> pb::SweepDeadlinesResponse {
    pb::SweepDeadlinesResponse {
        reminders: Vec::new(),
        would_remind: due.iter().map(due_reminder).collect(),
    }
}

/// The reminders a sweep recorded, to the wire.
pub fn sweep_response(outcomes: &[Outcome]) -> pb::SweepDeadlinesResponse {
    pb::SweepDeadlinesResponse {
        reminders: outcomes
            .iter()
            .flat_map(|o| o.events.iter().map(envelope))
            .collect(),
        would_remind: Vec::new(),
    }
}

/// The wire response for an outcome.
pub fn command_response(o: &Outcome) -> pb::CommandResponse {
    pb::CommandResponse {
        document_id: o.document_id.to_string(),
        version: o.version,
        events: o.events.iter().map(envelope).collect(),
        replayed: o.replayed,
    }
}

/// A protobuf timestamp.
pub fn timestamp(t: Timestamp) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    }
}

/// An instant from the wire.
pub fn instant(field: &str, t: &prost_types::Timestamp) -> Result<Timestamp, Status> {
    let nanos = u32::try_from(t.nanos)
        .map_err(|_| invalid(field, format!("nanos {} is negative", t.nanos)))?;
    chrono::DateTime::from_timestamp(t.seconds, nanos)
        .ok_or_else(|| invalid(field, format!("{}s is not a representable time", t.seconds)))
}

/// A reminder the sweep would send, on the wire.
pub fn due_reminder(r: &workflow_store::engine::DueReminder) -> pb::DueReminder {
    pb::DueReminder {
        document_id: r.document_id.to_string(),
        title: r.title.clone(),
        stage: u32::try_from(r.stage).unwrap_or(u32::MAX),
        due_at: Some(timestamp(r.due_at)),
        waiting_for: r.waiting_for.clone(),
        escalated_to: r
            .escalated_to
            .as_ref()
            .map(|a| a.0.clone())
            .unwrap_or_default(),
        reminders_before: r.reminders_before,
    }
}

/// Parses a `YYYY-MM-DD` date.
pub fn date(field: &str, s: &str) -> Result<NaiveDate, Status> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|e| invalid(field, format!("{s:?} is not YYYY-MM-DD ({e})")))
}

/// An envelope on the wire.
pub fn envelope(e: &Envelope) -> pb::EventEnvelope {
    pb::EventEnvelope {
        position: e.position,
        stream_id: e.stream_id.to_string(),
        version: e.version,
        event_id: e.event_id.to_string(),
        command_id: e.command_id.clone(),
        actor_id: e.actor.0.clone(),
        recorded_at: Some(timestamp(e.recorded_at)),
        r#type: e.event_type.clone(),
        schema_version: e.schema_version,
        payload_json: e.payload.to_string(),
        prev_hash: e.prev_hash.clone(),
        hash: e.hash.clone(),
        ..pb::EventEnvelope::default()
    }
}

macro_rules! enum_map {
    ($name:ident, $domain:ty, $wire:ty, $field:literal, [$($d:ident <=> $w:ident),* $(,)?]) => {
        /// Domain to wire.
        pub fn $name(v: $domain) -> $wire {
            match v { $(<$domain>::$d => <$wire>::$w,)* }
        }
        paste_from!($name, $domain, $wire, $field, [$($d <=> $w),*]);
    };
}

macro_rules! paste_from {
    ($name:ident, $domain:ty, $wire:ty, $field:literal, [$($d:ident <=> $w:ident),*]) => {
        impl FromWire<$wire> for $domain {
            fn from_wire(field: &str, raw: i32) -> Result<Self, Status> {
                match <$wire>::try_from(raw) {
                    $(Ok(<$wire>::$w) => Ok(<$domain>::$d),)*
                    _ => Err(invalid(field, format!("{raw} is not a valid {}", $field))),
                }
            }
        }
    };
}

/// Reading a wire enum (an `i32`) into a domain enum, naming the field when it is invalid.
pub trait FromWire<W>: Sized {
    /// Converts, or `INVALID_ARGUMENT` naming `field`.
    fn from_wire(field: &str, raw: i32) -> Result<Self, Status>;
}

enum_map!(kind, Kind, pb::Kind, "kind", [
    Resolution <=> Resolution, Decision <=> Decision, Order <=> Order, Communique <=> Communique,
    Announcement <=> Announcement, Notice <=> Notice, Opinion <=> Opinion, Circular <=> Circular,
    Bulletin <=> Bulletin, Report <=> Report, Request <=> Request, Reply <=> Reply,
    Motion <=> Motion, Letter <=> Letter, Minutes <=> Minutes,
]);
enum_map!(state, State, pb::State, "state", [
    Drafting <=> Drafting, InReview <=> InReview, Countersigning <=> Countersigning,
    AwaitingSignOff <=> AwaitingSignOff, SignedOff <=> SignedOff, Issued <=> Issued,
    Archived <=> Archived, Voided <=> Voided,
]);
enum_map!(classification, Classification, pb::Classification, "classification", [
    None <=> None, Secret <=> Secret, Confidential <=> Confidential, TopSecret <=> TopSecret,
]);
enum_map!(urgency, Urgency, pb::Urgency, "urgency", [
    Normal <=> Normal, Urgent <=> Urgent, ExtraUrgent <=> ExtraUrgent,
]);
enum_map!(decision, workflow_core::submission::Decision, pb::Decision, "decision", [
    Agree <=> Agree, Disagree <=> Disagree, AgreeWithChanges <=> AgreeWithChanges,
]);
enum_map!(channel, workflow_core::incoming::Channel, pb::Channel, "channel", [
    Paper <=> Paper, Electronic <=> Electronic, Confidential <=> Confidential,
]);
enum_map!(grade, workflow_core::supervision::Grade, pb::ItemGrade, "grade", [
    Excellent <=> Excellent, Good <=> Good, Adequate <=> Adequate, Poor <=> Poor,
]);
enum_map!(retention, Retention, pb::Retention, "retention", [
    Permanent <=> Permanent, Years30 <=> Years30, Years10 <=> Years10,
]);
enum_map!(role, Role, pb::Role, "role", [
    Drafter <=> Drafter, Reviewer <=> Reviewer, Countersigner <=> Countersigner, Clerk <=> Clerk,
    Signatory <=> Signatory, PrincipalSignatory <=> PrincipalSignatory, Archivist <=> Archivist,
    Admin <=> Admin, ArchiveOffice <=> ArchiveOffice, Registrar <=> Registrar,
    OfficeDirector <=> OfficeDirector, Leader <=> Leader, Handler <=> Handler,
    Supervisor <=> Supervisor,
]);

/// An optional filter enum: 0 (UNSPECIFIED) means "any".
pub fn optional_enum<D: FromWire<W>, W>(field: &str, raw: i32) -> Result<Option<D>, Status> {
    if raw == 0 {
        Ok(None)
    } else {
        D::from_wire(field, raw).map(Some)
    }
}

/// Draft fields from the wire; `fields` is required.
pub fn draft_fields(f: Option<pb::DraftFields>) -> Result<DraftFields, Status> {
    let f = f.ok_or_else(|| invalid("fields", "is required"))?;
    Ok(DraftFields {
        files: document_files("fields.files", f.files)?,
        kind: Kind::from_wire("fields.kind", f.kind)?,
        title: f.title,
        body: f.body,
        issuing_unit: UnitCode(f.issuing_unit),
        co_issuing_units: f.co_issuing_units.into_iter().map(UnitCode).collect(),
        classification: Classification::from_wire("fields.classification", f.classification)?,
        classification_period_years: f.classification_period_years,
        urgency: Urgency::from_wire("fields.urgency", f.urgency)?,
        important: f.important,
        main_recipients: f.main_recipients,
        cc: f.cc,
        annotation: f.annotation,
    })
}

/// Draft fields to the wire.
pub fn draft_fields_to(f: &DraftFields) -> pb::DraftFields {
    pb::DraftFields {
        files: document_files_to(&f.files),
        kind: kind(f.kind) as i32,
        title: f.title.clone(),
        body: f.body.clone(),
        issuing_unit: f.issuing_unit.0.clone(),
        co_issuing_units: f.co_issuing_units.iter().map(|u| u.0.clone()).collect(),
        classification: classification(f.classification) as i32,
        classification_period_years: f.classification_period_years,
        urgency: urgency(f.urgency) as i32,
        important: f.important,
        main_recipients: f.main_recipients.clone(),
        cc: f.cc.clone(),
        annotation: f.annotation.clone(),
    }
}

/// A route from the wire.
pub fn route(stages: Vec<pb::RouteStage>) -> Result<Vec<StageSpec>, Status> {
    stages
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let escalate_to =
                (!s.escalate_to.trim().is_empty()).then(|| ActorId(s.escalate_to.clone()));
            match s.stage {
                Some(pb::route_stage::Stage::Review(r)) => Ok(StageSpec::Review {
                    reviewer: ActorId(r.reviewer),
                    deadline_days: s.deadline_days,
                    escalate_to,
                }),
                Some(pb::route_stage::Stage::Countersign(c)) => {
                    let completion = match pb::Completion::try_from(s.completion) {
                        Ok(pb::Completion::All) => Completion::All,
                        Ok(pb::Completion::Any) => Completion::Any,
                        Ok(pb::Completion::Ratio) => Completion::Ratio {
                            percent: u8::try_from(s.ratio_percent).map_err(|_| {
                                invalid(&format!("route[{i}].ratio_percent"), "must be 1-100")
                            })?,
                        },
                        Err(_) => {
                            return Err(invalid(
                                &format!("route[{i}].completion"),
                                format!("{} is not a valid completion", s.completion),
                            ));
                        }
                    };
                    Ok(StageSpec::Countersign {
                        departments: c.departments.into_iter().map(UnitCode).collect(),
                        deadline_days: s.deadline_days,
                        completion,
                        escalate_to,
                    })
                }
                None => Err(invalid(
                    &format!("route[{i}]"),
                    "a stage must be a review or a countersign",
                )),
            }
        })
        .collect()
}

/// A route to the wire.
pub fn route_to(stages: &[StageSpec]) -> Vec<pb::RouteStage> {
    stages.iter().map(stage_to).collect()
}

fn stage_to(s: &StageSpec) -> pb::RouteStage {
    let (stage, completion, ratio_percent) = match s {
        StageSpec::Review { reviewer, .. } => (
            pb::route_stage::Stage::Review(pb::ReviewStage {
                reviewer: reviewer.0.clone(),
            }),
            pb::Completion::All,
            0,
        ),
        StageSpec::Countersign {
            departments,
            completion,
            ..
        } => {
            let (c, p) = match completion {
                Completion::All => (pb::Completion::All, 0),
                Completion::Any => (pb::Completion::Any, 0),
                Completion::Ratio { percent } => (pb::Completion::Ratio, u32::from(*percent)),
            };
            let departments = departments.iter().map(|u| u.0.clone()).collect();
            (
                pb::route_stage::Stage::Countersign(pb::CountersignStage { departments }),
                c,
                p,
            )
        }
    };
    pb::RouteStage {
        stage: Some(stage),
        deadline_days: s.deadline_days(),
        completion: completion as i32,
        ratio_percent,
        escalate_to: s.escalate_to().map(|a| a.0.clone()).unwrap_or_default(),
    }
}

/// A document on the wire; `now` decides `overdue`.
pub fn document(d: &Document, now: Timestamp) -> pb::Document {
    pb::Document {
        id: d.id().to_string(),
        version: d.version(),
        state: state(d.state()) as i32,
        fields: Some(draft_fields_to(d.fields())),
        drafter: d.drafter().0.clone(),
        drafter_unit: d.drafter_unit().0.clone(),
        created_at: Some(timestamp(d.created_at())),
        updated_at: Some(timestamp(d.updated_at())),
        revision: d.revision(),
        round: d.round(),
        route: d.route().iter().map(stage_view).collect(),
        current_stage: d.current().and_then(|(i, _)| u32::try_from(i).ok()),
        signatures: d
            .signatures()
            .iter()
            .map(|s| pb::Signature {
                unit: s.unit.0.clone(),
                actor_id: s.actor.0.clone(),
                name: s.name.clone(),
                opinion: s.opinion.clone(),
                date: s.date.to_string(),
            })
            .collect(),
        written_date: d.written_date().map(|x| x.to_string()).unwrap_or_default(),
        issue: d.issue().map(|i| pb::IssueRecord {
            document_number: i.number.to_string(),
            prefix: i.number.prefix.clone(),
            year: i.number.year,
            seq: i.number.seq,
            issue_date: i.issue_date.to_string(),
            copies: i.copies,
            main_recipients: i.main_recipients.clone(),
            cc: i.cc.clone(),
            printed: i.printed.as_ref().map(file_info),
        }),
        acknowledgements: d
            .acknowledged()
            .iter()
            .map(|(u, at)| pb::Acknowledgement {
                unit: u.0.clone(),
                at: Some(timestamp(*at)),
                receipt_id: workflow_core::incoming::linked_receipt_id(d.id(), u).to_string(),
            })
            .collect(),
        archive: d.archive().map(archive_record),
        opinions: d.opinions().iter().map(opinion).collect(),
        void_reason: d.void_reason().unwrap_or_default().to_owned(),
        overdue: d.is_overdue(now),
        warnings: d.warnings().to_vec(),
    }
}

/// A stage of a route, with its progress, to the wire.
fn stage_view(s: &workflow_core::route::Stage) -> pb::StageView {
    pb::StageView {
        spec: Some(stage_to(&s.spec)),
        completed: s.completed,
        started_at: s.started_at.map(timestamp),
        due_at: s.due_at.map(timestamp),
        countersigns: s
            .countersigns
            .iter()
            .map(|(u, agree)| pb::CountersignMark {
                unit: u.0.clone(),
                agree: *agree,
            })
            .collect(),
        not_needed: s.not_needed.iter().map(|u| u.0.clone()).collect(),
        delegate: s.delegate.as_ref().map(|a| a.0.clone()).unwrap_or_default(),
        delegate_reported: s.delegate_report.is_some(),
        delegate_agreed: s.delegate_report == Some(true),
        reminders: s.reminders,
        last_reminded_at: s.last_reminded_at.map(timestamp),
    }
}

/// An archive record (归档, of any flow) to the wire.
fn archive_record(a: &workflow_core::archive::ArchiveRecord) -> pb::ArchiveRecord {
    pb::ArchiveRecord {
        reference: a.reference.to_string(),
        fonds: a.reference.fonds.clone(),
        year: a.reference.year,
        retention: retention(a.reference.retention) as i32,
        unit_code: a.reference.unit.clone(),
        item: a.reference.item,
        fixity_hash: a.fixity_hash.clone().unwrap_or_default(),
        at: Some(timestamp(a.at)),
        scheduled_retention: a
            .scheduled_retention
            .map_or(pb::Retention::Unspecified, retention) as i32,
        deviation: a.deviation.clone().unwrap_or_default(),
    }
}

/// An opinion on the record to the wire.
fn opinion(o: &workflow_core::opinion::Opinion) -> pb::Opinion {
    pb::Opinion {
        round: o.round,
        step: o.step.clone(),
        stage: o.stage.and_then(|s| u32::try_from(s).ok()),
        actor_id: o.actor.0.clone(),
        unit: o.unit.as_ref().map(|u| u.0.clone()).unwrap_or_default(),
        agree: o.agree,
        text: o.text.clone(),
        at: Some(timestamp(o.at)),
    }
}

/// An actor on the wire.
pub fn actor_to(a: &workflow_core::directory::Actor, deactivated: bool) -> pb::Actor {
    pb::Actor {
        id: a.id.0.clone(),
        name: a.name.clone(),
        unit: a.unit.0.clone(),
        roles: a.roles.iter().map(|r| role(*r) as i32).collect(),
        clearance: classification(a.clearance) as i32,
        deactivated,
        reach: reach_to(&a.reach),
    }
}

/// A deactivation (`active` false) or reactivation of the actor a wire request names, by
/// `system` for `reason`: the actor's id and the directory change.
pub fn activation(
    system: &str,
    actor_id: &str,
    reason: &str,
    active: bool,
) -> Result<(ActorId, workflow_core::directory::DirectoryAction), Status> {
    if actor_id.trim().is_empty() {
        return Err(invalid("actor_id", "is required"));
    }
    let actor = ActorId::from(actor_id.trim());
    let (system, reason) = (system.to_owned(), reason.to_owned());
    let action = if active {
        workflow_core::directory::DirectoryAction::ReactivateActor {
            actor: actor.clone(),
            system,
            reason,
        }
    } else {
        workflow_core::directory::DirectoryAction::DeactivateActor {
            actor: actor.clone(),
            system,
            reason,
        }
    };
    Ok((actor, action))
}

/// An actor from the wire.
pub fn actor_from(a: Option<pb::Actor>) -> Result<workflow_core::directory::Actor, Status> {
    let a = a.ok_or_else(|| invalid("actor", "is required"))?;
    let roles = a
        .roles
        .iter()
        .enumerate()
        .map(|(i, r)| Role::from_wire(&format!("actor.roles[{i}]"), *r))
        .collect::<Result<_, _>>()?;
    Ok(workflow_core::directory::Actor {
        id: ActorId(required_text("actor.id", &a.id)?),
        name: a.name,
        unit: UnitCode(required_text("actor.unit", &a.unit)?),
        roles,
        clearance: Classification::from_wire("actor.clearance", a.clearance)?,
        reach: reach_from(a.reach),
    })
}

/// A unit on the wire.
pub fn unit_to(u: &workflow_core::directory::Unit) -> pb::Unit {
    pb::Unit {
        code: u.code.0.clone(),
        name: u.name.clone(),
        doc_prefix: u.doc_prefix.clone(),
        office: u.office,
        receive_prefix: u.receive_prefix.clone().unwrap_or_default(),
        memo_prefix: u.memo_prefix.clone().unwrap_or_default(),
        issuing_name: u.issuing_name.clone().unwrap_or_default(),
        reach: reach_to(&u.reach),
    }
}

fn reach_to(r: &[workflow_core::directory::Reach]) -> Vec<pb::Reach> {
    r.iter()
        .map(|r| pb::Reach {
            channel: r.channel.clone(),
            address: r.address.clone(),
        })
        .collect()
}

/// Checked by the directory with the rest of the actor or unit.
fn reach_from(r: Vec<pb::Reach>) -> Vec<workflow_core::directory::Reach> {
    r.into_iter()
        .map(|r| workflow_core::directory::Reach {
            channel: r.channel.trim().to_owned(),
            address: r.address.trim().to_owned(),
        })
        .collect()
}

/// A unit from the wire.
pub fn unit_from(u: Option<pb::Unit>) -> Result<workflow_core::directory::Unit, Status> {
    let u = u.ok_or_else(|| invalid("unit", "is required"))?;
    Ok(workflow_core::directory::Unit {
        code: UnitCode(required_text("unit.code", &u.code)?),
        name: u.name,
        doc_prefix: u.doc_prefix,
        office: u.office,
        receive_prefix: Some(u.receive_prefix.trim().to_owned()).filter(|p| !p.is_empty()),
        memo_prefix: Some(u.memo_prefix.trim().to_owned()).filter(|p| !p.is_empty()),
        issuing_name: Some(u.issuing_name.trim().to_owned()).filter(|p| !p.is_empty()),
        reach: reach_from(u.reach),
    })
}

/// An access-log query from the wire.
pub fn access_query(
    r: &pb::ListAccessLogRequest,
) -> Result<workflow_store::access::AccessQuery, Status> {
    Ok(workflow_store::access::AccessQuery {
        document: (!r.document_id.trim().is_empty())
            .then(|| document_id("document_id", &r.document_id))
            .transpose()?,
        actor: (!r.actor_id.trim().is_empty()).then(|| ActorId::from(r.actor_id.trim())),
        since: r.since.as_ref().map(|t| instant("since", t)).transpose()?,
        after: r.after_position,
        limit: r.limit as usize,
    })
}

/// Access-log entries to the wire.
pub fn access_response(
    entries: &[workflow_store::access::AccessEntry],
) -> pb::ListAccessLogResponse {
    pb::ListAccessLogResponse {
        entries: entries
            .iter()
            .map(|e| pb::AccessLogEntry {
                position: e.position,
                at: Some(timestamp(e.at)),
                system: e.system.clone(),
                actor_id: e.actor.as_ref().map(|a| a.0.clone()).unwrap_or_default(),
                what: e.what.clone(),
                document_id: e.document_id.to_string(),
                classification: classification(e.classification) as i32,
                detail: e.detail.clone(),
                prev_hash: e.prev_hash.clone(),
                hash: e.hash.clone(),
            })
            .collect(),
    }
}
