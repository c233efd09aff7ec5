//! The gRPC handlers: each converts its request, calls the engine, converts the answer.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, StreamExt};
use tonic::{Request, Response, Status};
use workflow_core::directory::Classification;
use workflow_store::{Engine, Reader};

use crate::auth::CallerSystem;
use crate::convert::{self, WireCommand, invalid, status_of};
use crate::pb;
use crate::pb::document_workflow_server::DocumentWorkflow;
use crate::pb::workflow_admin_server::WorkflowAdmin;

/// The `DocumentWorkflow` service over an engine.
#[derive(Clone)]
pub struct WorkflowService {
    engine: Engine,
    clock: workflow_store::Clock,
    stopping: tokio::sync::watch::Receiver<bool>,
    wire: Arc<WireEvents>,
}

/// Events converted for the wire (ids as text, the payload as JSON) and encoded once, for
/// every subscription that delivers them: each subscriber's stream writes the same bytes
/// ([`pb::EventEnvelope::sealed`]). An event at a position never changes, so the last few
/// thousand are kept by position.
#[derive(Debug, Default)]
struct WireEvents {
    recent: std::sync::Mutex<std::collections::BTreeMap<u64, pb::EventEnvelope>>,
}

/// How many converted events are kept (about the shared tail's length).
const WIRE_EVENTS: usize = 4096;

impl WireEvents {
    /// `e` for the wire, encoded by the first subscription that delivers it; its clones
    /// share the bytes.
    fn get(&self, e: &workflow_store::Envelope) -> pb::EventEnvelope {
        if let Some(hit) = self
            .recent
            .lock()
            .ok()
            .and_then(|r| r.get(&e.position).cloned())
        {
            return hit;
        }
        let converted = convert::envelope(e).sealed();
        if let Ok(mut recent) = self.recent.lock() {
            recent.insert(e.position, converted.clone());
            while recent.len() > WIRE_EVENTS {
                recent.pop_first();
            }
        }
        converted
    }
}

impl std::fmt::Debug for WorkflowService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkflowService")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl WorkflowService {
    /// A service over `engine`; `clock` decides what is overdue; live subscriptions end
    /// when `stopping` turns true, so a graceful shutdown is not held open by them.
    pub fn new(
        engine: Engine,
        clock: workflow_store::Clock,
        stopping: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        WorkflowService {
            engine,
            clock,
            stopping,
            wire: Arc::default(),
        }
    }

    /// Converts a command message, checks that its actor is within the calling system's
    /// scope, executes it, and logs and converts the answer.
    async fn command<R: WireCommand>(&self, req: Request<R>) -> Reply<pb::CommandResponse> {
        let system = caller(&req);
        let request = req.into_inner().into_request()?;
        // An unknown actor is left to the engine, which names it.
        if let Some(actor) = self.engine.actor(&request.actor) {
            in_scope(&system, &actor)?;
        }
        self.exec(Some(&system), request).await
    }

    async fn exec(
        &self,
        system: Option<&CallerSystem>,
        req: workflow_store::Request,
    ) -> Result<Response<pb::CommandResponse>, Status> {
        let name = req.action.name();
        let (doc, actor) = (req.document_id, req.actor.clone());
        match self.engine.execute(req).await {
            Ok(o) => {
                tracing::info!(system = system.map(|s| s.name.as_str()), command = name, %doc, %actor, version = o.version, replayed = o.replayed, "command executed");
                Ok(Response::new(convert::command_response(&o)))
            }
            Err(e) => {
                let status = status_of(&e);
                tracing::info!(system = system.map(|s| s.name.as_str()), command = name, %doc, %actor, code = ?status.code(), error = %e, "command refused");
                Err(status)
            }
        }
    }

    /// One stream of the flow `F` as a `Get…` RPC asks for it (as it is, or was after
    /// `as_of_version` events), read through the engine's reading rules, and the instant
    /// its overdue flags are for; `NOT_FOUND` for another flow's id.
    async fn read_one<F: workflow_core::Registered>(
        &self,
        req: Request<pb::GetDocumentRequest>,
    ) -> Result<(F::State, workflow_core::Timestamp), Status> {
        let system = caller(&req);
        let r = req.into_inner();
        let reader = self.reader(&system, &r.actor_id)?;
        let id = convert::document_id("document_id", &r.document_id)?;
        let state = self
            .engine
            .read_state(&reader, id, Some(F::KIND), r.as_of_version)
            .await
            .map_err(|e| status_of(&e))?;
        let state =
            F::into_state(state).ok_or_else(|| status_of(&workflow_store::Error::NotFound(id)))?;
        Ok((state, (self.clock)()))
    }

    /// Who reads: the named actor (who must exist, be active and be within the system's
    /// scope) and their clearance, or, when no actor is named, the system and its
    /// `max_classification`. The reading rules themselves are the engine's.
    fn reader(&self, system: &CallerSystem, actor_id: &str) -> Result<Reader, Status> {
        if actor_id.trim().is_empty() {
            return Ok(Reader::system(
                system.name.clone(),
                system.max_classification,
            ));
        }
        let reader = self
            .engine
            .reader(&system.name, actor_id)
            .map_err(|e| status_of(&e))?;
        if let Some(actor) = reader.actor() {
            in_scope(system, actor)?;
        }
        Ok(reader)
    }
}

/// The calling system, as the authenticator recorded it.
fn caller<T>(req: &Request<T>) -> CallerSystem {
    req.extensions()
        .get::<CallerSystem>()
        .cloned()
        .unwrap_or_else(CallerSystem::unauthenticated)
}

/// Refuses an actor outside the system's `acts_for`, naming both.
fn in_scope(system: &CallerSystem, actor: &workflow_core::directory::Actor) -> Result<(), Status> {
    match &system.acts_for {
        Some(scope) if !scope.covers(actor) => Err(convert::status(
            tonic::Code::PermissionDenied,
            "OUT_OF_SCOPE",
            format!(
                "system {} may act only for actors of {scope}; actor {} (unit {}, roles {}) is outside its scope",
                system.name,
                actor.id,
                actor.unit,
                actor
                    .roles
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            vec![
                ("system", system.name.clone()),
                ("actor", actor.id.to_string()),
            ],
            Some("actor_id"),
        )),
        _ => Ok(()),
    }
}

type Reply<T> = Result<Response<T>, Status>;

/// The command RPCs' handlers, from the command table (`commands.rs`): each executes its
/// request ([`WorkflowService::command`]). Written as `async_trait` writes an `async fn`,
/// since the attribute does not see into a macro.
macro_rules! command_handlers {
    (
        no_rpc { $( $npat:pat => $why:expr; )* }
        $( $flow:ident($action:ty) {
            $( $rpc:ident: $variant:ident($msg:ident)
                from |$r:ident| $from:expr;
                to $pat:pat => { $($field:ident: $value:expr),* $(,)? };
            )*
        } )*
    ) => {$($(
        fn $rpc<'life0, 'async_trait>(
            &'life0 self,
            req: Request<pb::$msg>,
        ) -> Pin<Box<dyn Future<Output = Reply<pb::CommandResponse>> + Send + 'async_trait>>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            Box::pin(self.command(req))
        }
    )*)*};
}

#[tonic::async_trait]
impl DocumentWorkflow for WorkflowService {
    crate::commands::command_table!(command_handlers);

    async fn get_document(&self, req: Request<pb::GetDocumentRequest>) -> Reply<pb::Document> {
        let (state, now) = self
            .read_one::<workflow_core::outgoing::Outgoing>(req)
            .await?;
        Ok(Response::new(convert::document(&state, now)))
    }

    async fn get_item(&self, req: Request<pb::GetDocumentRequest>) -> Reply<pb::SupervisionItem> {
        let (state, now) = self
            .read_one::<workflow_core::supervision::Supervision>(req)
            .await?;
        Ok(Response::new(convert::item(&state, now)))
    }

    async fn get_monthly_bulletin(
        &self,
        req: Request<pb::GetMonthlyBulletinRequest>,
    ) -> Reply<pb::MonthlyBulletin> {
        let system = caller(&req);
        let r = req.into_inner();
        let reader = self.reader(&system, &r.actor_id)?;
        let month = convert::month(r.year, r.month)?;
        // The classified items it names are recorded as read before it is answered.
        let bulletin = self
            .engine
            .read_bulletin(&reader, month)
            .await
            .map_err(|e| status_of(&e))?;
        let published = self
            .engine
            .publication(month, reader.clearance())
            .map_err(|e| status_of(&e))?;
        Ok(Response::new(convert::bulletin(
            &bulletin,
            r.format,
            published.as_ref(),
        )?))
    }

    async fn publish_bulletin(
        &self,
        req: Request<pb::PublishBulletinRequest>,
    ) -> Reply<pb::PublishedBulletin> {
        let system = caller(&req);
        let r = req.into_inner();
        let month = convert::month(r.year, r.month)?;
        let clearance = r
            .clearance
            .map(|c| {
                <workflow_core::directory::Classification as convert::FromWire<
                    pb::Classification,
                >>::from_wire("clearance", c)
            })
            .transpose()?;
        let command_id = if r.command_id.trim().is_empty() {
            return Err(invalid("command_id", "is required"));
        } else {
            r.command_id
        };
        let reader = self
            .engine
            .reader(&system.name, &r.actor_id)
            .map_err(|e| status_of(&e))?;
        let Some(actor) = reader.actor().cloned() else {
            return Err(invalid("actor_id", "is required"));
        };
        in_scope(&system, &actor)?;
        match self
            .engine
            .publish_bulletin(&actor.id, month, clearance, Some(command_id))
            .await
        {
            Ok((bulletin, outcome)) => {
                tracing::info!(system = system.name.as_str(), command = "PublishBulletin", %month, actor = %actor.id, replayed = outcome.replayed, "command executed");
                // The bulletin goes back to the caller: the classified items it names are
                // recorded as read first.
                self.engine
                    .record_bulletin_read(&reader, &bulletin)
                    .await
                    .map_err(|e| status_of(&e))?;
                let published = outcome
                    .events
                    .first()
                    .and_then(|e| e.event().ok())
                    .and_then(|e| {
                        workflow_core::FlowState::create(&e).and_then(|s| s.bulletin().cloned())
                    });
                Ok(Response::new(pb::PublishedBulletin {
                    bulletin: Some(convert::bulletin(&bulletin, r.format, published.as_ref())?),
                    command: Some(convert::command_response(&outcome)),
                }))
            }
            Err(e) => {
                let status = status_of(&e);
                tracing::info!(system = system.name.as_str(), command = "PublishBulletin", %month, actor = %actor.id, code = ?status.code(), error = %e, "command refused");
                Err(status)
            }
        }
    }

    async fn put_content(
        &self,
        req: Request<tonic::Streaming<pb::PutContentRequest>>,
    ) -> Reply<pb::FileInfo> {
        let system = caller(&req);
        let mut stream = req.into_inner();
        let mut upload: Option<workflow_store::content::Upload> = None;
        let mut expected: Option<workflow_core::content::Digest> = None;
        while let Some(message) = stream.next().await {
            // A stream that breaks off keeps nothing: the upload is dropped with it.
            let m = message?;
            if !m.sha256.trim().is_empty() {
                expected = Some(convert::digest("sha256", &m.sha256)?);
            }
            if m.chunk.len() > convert::MAX_CHUNK {
                return Err(invalid(
                    "chunk",
                    format!("a chunk holds at most {} bytes", convert::MAX_CHUNK),
                ));
            }
            let u = match upload.as_mut() {
                Some(u) => {
                    if !m.name.is_empty() {
                        return Err(invalid("name", "only the first message names the file"));
                    }
                    if !m.actor_id.is_empty() {
                        return Err(invalid(
                            "actor_id",
                            "only the first message names the uploader",
                        ));
                    }
                    u
                }
                None => {
                    if m.actor_id.trim().is_empty() {
                        return Err(invalid(
                            "actor_id",
                            "is required: the actor who uploads, who may then name the file",
                        ));
                    }
                    let by = self.reader(&system, &m.actor_id)?;
                    upload.insert(
                        self.engine
                            .upload(&by, &m.name)
                            .map_err(|e| status_of(&e))?,
                    )
                }
            };
            u.write(&m.chunk).map_err(|e| status_of(&e))?;
        }
        let upload = upload.ok_or_else(|| invalid("name", "the stream sent no message"))?;
        let file = tokio::task::spawn_blocking(move || upload.finish(expected.as_ref()))
            .await
            .map_err(|e| convert::internal(&e))?
            .map_err(|e| status_of(&e))?;
        Ok(Response::new(convert::file_info(&file)))
    }

    type GetContentStream =
        Pin<Box<dyn Stream<Item = Result<pb::ContentChunk, Status>> + Send + 'static>>;

    async fn get_content(
        &self,
        req: Request<pb::GetContentRequest>,
    ) -> Reply<Self::GetContentStream> {
        let system = caller(&req);
        let r = req.into_inner();
        let reader = self.reader(&system, &r.actor_id)?;
        let document = convert::document_id("document_id", &r.document_id)?;
        let digest = convert::digest("sha256", &r.sha256)?;
        // The first chunk answers now (the reading rules, the document naming the file);
        // the rest follow as the client takes them.
        let first_len = convert::range_len(r.length, convert::MAX_CHUNK as u64);
        let (name, size, first) = self
            .engine
            .read_file(&reader, document, &digest, r.offset, first_len)
            .await
            .map_err(|e| status_of(&e))?;
        let end = match r.length {
            0 => size,
            n => r.offset.saturating_add(n).min(size),
        };
        let info =
            convert::file_info_of(&name, &digest, size, (r.offset == 0).then_some(&first[..]));
        let engine = self.engine.clone();
        let stream = download_chunks(engine, digest, info, r.offset, end, first);
        Ok(Response::new(Box::pin(stream)))
    }

    async fn get_memo(&self, req: Request<pb::GetDocumentRequest>) -> Reply<pb::Memo> {
        let (state, now) = self
            .read_one::<workflow_core::submission::Submission>(req)
            .await?;
        Ok(Response::new(convert::memo(&state, now)))
    }

    async fn get_incoming(
        &self,
        req: Request<pb::GetDocumentRequest>,
    ) -> Reply<pb::IncomingDocument> {
        let (state, now) = self
            .read_one::<workflow_core::incoming::Incoming>(req)
            .await?;
        Ok(Response::new(convert::receipt(&state, now)))
    }

    async fn list_documents(
        &self,
        req: Request<pb::ListDocumentsRequest>,
    ) -> Reply<pb::ListDocumentsResponse> {
        let system = caller(&req);
        let r = req.into_inner();
        let reader = self.reader(&system, &r.actor_id)?;
        let now = (self.clock)();
        let q = convert::list_query(&r, now)?;
        let page = self
            .engine
            .read_page(&reader, &q, r.todo)
            .await
            .map_err(|e| status_of(&e))?;
        Ok(Response::new(convert::list_response(&page, now)))
    }

    async fn get_history(
        &self,
        req: Request<pb::GetHistoryRequest>,
    ) -> Reply<pb::GetHistoryResponse> {
        let system = caller(&req);
        let r = req.into_inner();
        let reader = self.reader(&system, &r.actor_id)?;
        let id = convert::document_id("document_id", &r.document_id)?;
        // A 发文, a 收文, an item or a publication; the directory's stream is read through
        // WorkflowAdmin.
        let (_, events) = self
            .engine
            .read_history(&reader, id)
            .await
            .map_err(|e| status_of(&e))?;
        Ok(Response::new(convert::history_response(&events)))
    }

    async fn get_log_head(&self, _: Request<pb::GetLogHeadRequest>) -> Reply<pb::LogHead> {
        let head = self.engine.log_head().map_err(|e| status_of(&e))?;
        Ok(Response::new(convert::log_head(&head)))
    }

    type SubscribeStream =
        Pin<Box<dyn Stream<Item = Result<pb::EventEnvelope, Status>> + Send + 'static>>;

    async fn subscribe(&self, req: Request<pb::SubscribeRequest>) -> Reply<Self::SubscribeStream> {
        let stream = self.subscription(req)?;
        Ok(Response::new(Box::pin(stream)))
    }

    type SubscribeBatchedStream =
        Pin<Box<dyn Stream<Item = Result<pb::EventBatch, Status>> + Send + 'static>>;

    async fn subscribe_batched(
        &self,
        req: Request<pb::SubscribeRequest>,
    ) -> Reply<Self::SubscribeBatchedStream> {
        let batch = match req.get_ref().batch_size {
            0 => DEFAULT_BATCH,
            n if n as usize > MAX_BATCH => {
                return Err(status_of(&workflow_store::Error::InvalidRequest {
                    field: "batch_size",
                    reason: format!("{n} is more than {MAX_BATCH}"),
                }));
            }
            n => n as usize,
        };
        // Events ready at once go together (a catch-up fills each message); an error ends
        // the stream after the events before it.
        let stream = self
            .subscription(req)?
            .ready_chunks(batch)
            .flat_map(|chunk| {
                let mut events = Vec::with_capacity(chunk.len());
                let mut out = Vec::new();
                for item in chunk {
                    match item {
                        Ok(e) => events.push(e),
                        Err(status) => {
                            if !events.is_empty() {
                                out.push(Ok(pb::EventBatch {
                                    events: std::mem::take(&mut events),
                                }));
                            }
                            out.push(Err(status));
                            return futures::stream::iter(out);
                        }
                    }
                }
                out.push(Ok(pb::EventBatch { events }));
                futures::stream::iter(out)
            });
        Ok(Response::new(Box::pin(stream)))
    }
}

/// Events per `SubscribeBatched` message when the request names no size, and the most.
const DEFAULT_BATCH: usize = 256;
const MAX_BATCH: usize = 4096;

impl WorkflowService {
    /// A subscription's events for the wire: filtered, each checked against who reads it
    /// now, classified ones recorded in the access log before they go out.
    fn subscription(
        &self,
        req: Request<pb::SubscribeRequest>,
    ) -> Result<impl Stream<Item = Result<pb::EventEnvelope, Status>> + Send + 'static, Status>
    {
        let system = caller(&req);
        let r = req.into_inner();
        let reader = self.reader(&system, &r.actor_id)?;
        let filter = convert::subscribe_filter(&r, Some(reader.clearance()), system.admin)?;
        let mut stopping = self.stopping.clone();
        let (engine, actor) = (self.engine.clone(), reader.actor_id());
        let wire = self.wire.clone();
        let system_clearance = system.max_classification;
        let stream = self
            .engine
            .subscribe_shared(r.from_position.max(1), filter)
            .then(move |item| {
                let (engine, system, actor) = (engine.clone(), system.name.clone(), actor.clone());
                let wire = wire.clone();
                async move {
                    let e = item.map_err(|e| status_of(&e))?;
                    // Who reads is checked again for every event: an actor deactivated or
                    // whose clearance was lowered while subscribed stops receiving.
                    let clearance = match &actor {
                        Some(id) => {
                            if engine.is_deactivated(id) {
                                return Err(status_of(&workflow_store::Error::Rejected(
                                    workflow_core::Error::ActorDeactivated { actor: id.clone() },
                                )));
                            }
                            engine
                                .actor(id)
                                .map_or(Classification::None, |a| a.clearance)
                        }
                        None => system_clearance,
                    };
                    // The highest classification the document ever had, as history reads it:
                    // one reclassified upward while subscribed is no longer delivered to
                    // readers not cleared for it, and one revised down to 非密 does not
                    // hand out the 秘密 text of its earlier events.
                    let classification = engine
                        .highest_classification(e.stream_id)
                        .map_err(|e| status_of(&e))?;
                    if classification > clearance {
                        return Ok(None);
                    }
                    // A classified document's event is recorded before it is delivered.
                    if workflow_store::access::is_recorded(classification) {
                        engine
                            .record_access(workflow_store::access::AccessRecord {
                                system,
                                actor,
                                what: "subscribe".into(),
                                document_id: e.stream_id,
                                classification,
                                detail: format!("position {} ({})", e.position, e.event_type),
                            })
                            .await
                            .map_err(|e| status_of(&e))?;
                    }
                    Ok(Some(wire.get(&e)))
                }
            })
            .filter_map(|r: Result<Option<pb::EventEnvelope>, Status>| {
                futures::future::ready(r.transpose())
            })
            .take_until(async move {
                let _ = stopping.wait_for(|stop| *stop).await;
            });
        Ok(stream)
    }
}

/// The `WorkflowAdmin` service over an engine (only admin systems reach it).
#[derive(Clone)]
pub struct AdminService {
    engine: Engine,
    clock: workflow_store::Clock,
    reminder_interval_hours: u32,
}

impl std::fmt::Debug for AdminService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminService")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl AdminService {
    /// A service over `engine`; the deadline sweep uses `clock` and the reminder interval.
    pub fn new(engine: Engine, clock: workflow_store::Clock, reminder_interval_hours: u32) -> Self {
        AdminService {
            engine,
            clock,
            reminder_interval_hours,
        }
    }
}

impl AdminService {
    /// Deactivates (`active` false) or reactivates an actor.
    async fn activation(
        &self,
        system: String,
        actor_id: String,
        reason: String,
        active: bool,
    ) -> Reply<pb::Actor> {
        let (actor, action) = convert::activation(&system, &actor_id, &reason, active)?;
        self.engine
            .change_directory(action)
            .await
            .map_err(|e| status_of(&e))?;
        tracing::info!(system, %actor, active, reason, "actor activation changed");
        let record = self
            .engine
            .actor(&actor)
            .ok_or_else(|| invalid("actor_id", format!("unknown actor {actor}")))?;
        Ok(Response::new(convert::actor_to(&record, !active)))
    }
}

#[tonic::async_trait]
impl WorkflowAdmin for AdminService {
    async fn put_actor(&self, req: Request<pb::PutActorRequest>) -> Reply<pb::Actor> {
        let system = caller(&req).name;
        let r = req.into_inner();
        let actor = convert::actor_from(r.actor)?;
        self.engine
            .put_actor(actor.clone(), &system, &r.reason)
            .await
            .map_err(|e| status_of(&e))?;
        tracing::info!(system, actor = %actor.id, roles = ?actor.roles, clearance = %actor.clearance, reason = r.reason, "actor put");
        Ok(Response::new(convert::actor_to(
            &actor,
            self.engine.is_deactivated(&actor.id),
        )))
    }

    async fn deactivate_actor(&self, req: Request<pb::DeactivateActorRequest>) -> Reply<pb::Actor> {
        let system = caller(&req).name;
        let r = req.into_inner();
        self.activation(system, r.actor_id, r.reason, false).await
    }

    async fn reactivate_actor(&self, req: Request<pb::ReactivateActorRequest>) -> Reply<pb::Actor> {
        let system = caller(&req).name;
        let r = req.into_inner();
        self.activation(system, r.actor_id, r.reason, true).await
    }

    async fn list_actors(
        &self,
        _: Request<pb::ListActorsRequest>,
    ) -> Reply<pb::ListActorsResponse> {
        Ok(Response::new(convert::actors_response(
            &self.engine.actors(),
            |id| self.engine.is_deactivated(id),
        )))
    }

    async fn put_unit(&self, req: Request<pb::PutUnitRequest>) -> Reply<pb::Unit> {
        let system = caller(&req).name;
        let r = req.into_inner();
        let unit = convert::unit_from(r.unit)?;
        self.engine
            .put_unit(unit.clone(), &system, &r.reason)
            .await
            .map_err(|e| status_of(&e))?;
        tracing::info!(system, unit = %unit.code, reason = r.reason, "unit put");
        Ok(Response::new(convert::unit_to(&unit)))
    }

    async fn list_units(&self, _: Request<pb::ListUnitsRequest>) -> Reply<pb::ListUnitsResponse> {
        Ok(Response::new(convert::units_response(&self.engine.units())))
    }

    async fn verify_log(&self, req: Request<pb::VerifyLogRequest>) -> Reply<pb::VerifyLogResponse> {
        let options = convert::verify_options(req.into_inner())?;
        let engine = self.engine.clone();
        let (report, access) = tokio::task::spawn_blocking(move || {
            Ok::<_, workflow_store::Error>((
                engine.verify_with(&options, |_, _| {})?,
                engine.verify_access_log()?,
            ))
        })
        .await
        .map_err(|e| convert::internal(&e))?
        .map_err(|e| status_of(&e))?;
        Ok(Response::new(convert::verify_response(report, &access)))
    }

    async fn list_access_log(
        &self,
        req: Request<pb::ListAccessLogRequest>,
    ) -> Reply<pb::ListAccessLogResponse> {
        let q = convert::access_query(&req.into_inner())?;
        let engine = self.engine.clone();
        let entries = tokio::task::spawn_blocking(move || engine.access_log(&q))
            .await
            .map_err(|e| convert::internal(&e))?
            .map_err(|e| status_of(&e))?;
        Ok(Response::new(convert::access_response(&entries)))
    }

    async fn check_archive(
        &self,
        req: Request<pb::CheckArchiveRequest>,
    ) -> Reply<pb::ArchiveCheckReport> {
        let scope = convert::archive_scope(req.into_inner())?;
        let engine = self.engine.clone();
        let report = tokio::task::spawn_blocking(move || engine.check_archive(&scope))
            .await
            .map_err(|e| convert::internal(&e))?
            .map_err(|e| status_of(&e))?;
        Ok(Response::new(convert::archive_check(&report)))
    }

    async fn get_stats(&self, _: Request<pb::GetStatsRequest>) -> Reply<pb::Stats> {
        let engine = self.engine.clone();
        let s = tokio::task::spawn_blocking(move || engine.stats())
            .await
            .map_err(|e| convert::internal(&e))?
            .map_err(|e| status_of(&e))?;
        Ok(Response::new(convert::stats(s)))
    }

    async fn sweep_deadlines(
        &self,
        req: Request<pb::SweepDeadlinesRequest>,
    ) -> Reply<pb::SweepDeadlinesResponse> {
        let r = req.into_inner();
        let now = match r.now {
            Some(_) if !r.dry_run => {
                return Err(convert::invalid(
                    "now",
                    "may only be given with dry_run: reminders are recorded at the time they \
                     are sent, so a real sweep runs on the server's clock",
                ));
            }
            Some(t) => convert::instant("now", &t)?,
            None => (self.clock)(),
        };
        if r.dry_run {
            let due = self
                .engine
                .due_reminders(now, self.reminder_interval_hours)
                .map_err(|e| status_of(&e))?;
            return Ok(Response::new(convert::sweep_dry_run_response(&due)));
        }
        let outcomes = self
            .engine
            .sweep_deadlines(now, self.reminder_interval_hours)
            .await
            .map_err(|e| status_of(&e))?;
        Ok(Response::new(convert::sweep_response(&outcomes)))
    }
}

/// The chunks of a file from `offset` to `end`, the first (already read, under the reading
/// rules) carrying the file's particulars; each further chunk is read when the client takes
/// the one before.
fn download_chunks(
    engine: Engine,
    digest: workflow_core::content::Digest,
    info: pb::FileInfo,
    offset: u64,
    end: u64,
    first: Vec<u8>,
) -> impl Stream<Item = Result<pb::ContentChunk, Status>> + Send + 'static {
    let next = offset + first.len() as u64;
    let head = futures::stream::once(async move {
        Ok(pb::ContentChunk {
            file: Some(info),
            offset,
            chunk: first,
        })
    });
    let rest = futures::stream::unfold(next, move |at| {
        let engine = engine.clone();
        let digest = digest.clone();
        async move {
            if at >= end {
                return None;
            }
            let len = (end - at).min(convert::MAX_CHUNK as u64) as usize;
            Some(match engine.file_bytes(&digest, at, len).await {
                Ok(bytes) if !bytes.is_empty() => {
                    let next = at + bytes.len() as u64;
                    (
                        Ok(pb::ContentChunk {
                            file: None,
                            offset: at,
                            chunk: bytes,
                        }),
                        next,
                    )
                }
                Ok(_) => (Err(Status::data_loss("the file ended early")), end),
                Err(e) => (Err(status_of(&e)), end),
            })
        }
    });
    head.chain(rest)
}
