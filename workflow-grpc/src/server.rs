//! Assembling and running the server: services, authentication, health, reflection, TLS,
//! graceful shutdown.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::codegen::http;
use tonic::transport::{Identity, Server, ServerTlsConfig};
use workflow_store::Engine;

use crate::auth::Authenticator;
use crate::config::ServerConfig;
use crate::pb;
use crate::pb::document_workflow_server::DocumentWorkflowServer;
use crate::pb::workflow_admin_server::WorkflowAdminServer;
use crate::service::{AdminService, WorkflowService};

/// Largest request accepted (bytes); larger ones are refused before decoding.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The engine failed to open or load.
    #[error("engine: {0}")]
    Engine(#[from] workflow_store::Error),
    /// TLS material could not be read.
    #[error("tls: cannot read {path}: {source}")]
    Tls {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The directory file could not be read.
    #[error("directory file {path}: {source}")]
    Directory {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The configuration is not usable.
    #[error("configuration: {0}")]
    Config(String),
    /// The transport failed.
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// Reflection could not be built from the descriptor set.
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
}

/// Opens the engine of a configuration and loads its directory file if the engine has none.
pub async fn open_engine(
    config: &ServerConfig,
    clock: workflow_store::Clock,
) -> Result<Engine, ServerError> {
    let engine = Engine::open_with(workflow_store::Config {
        clock,
        cache_bytes: config.cache_mib.saturating_mul(1024 * 1024),
        durability: config.durability,
        retention_schedule: config
            .retention_schedule()
            .map_err(|e| ServerError::Config(e.to_string()))?,
        ..workflow_store::Config::new(&config.data_dir)
    })?;
    if let Some(path) = &config.directory
        && engine.units().is_empty()
    {
        let json = std::fs::read_to_string(path).map_err(|source| ServerError::Directory {
            path: path.clone(),
            source,
        })?;
        engine.load_directory_json(&json).await?;
        tracing::info!(path = %path.display(), units = engine.units().len(), actors = engine.actors().len(), "directory loaded");
    }
    Ok(engine)
}

/// Serves the engine on `listener` until `shutdown` completes; in-flight calls finish and
/// the engine is flushed before this returns.
pub async fn serve(
    engine: Engine,
    config: &ServerConfig,
    clock: workflow_store::Clock,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServerError> {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_serving::<DocumentWorkflowServer<WorkflowService>>()
        .await;
    health_reporter
        .set_serving::<WorkflowAdminServer<AdminService>>()
        .await;

    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    let users = Authenticator::new(&config.systems, false);
    let admins = Authenticator::new(&config.systems, true);
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let shutdown = async move {
        shutdown.await;
        // End live subscriptions first: graceful shutdown waits for every open stream.
        let _ = stop_tx.send(true);
    };
    let workflow = DocumentWorkflowServer::new(WorkflowService::new(
        engine.clone(),
        Arc::clone(&clock),
        stop_rx.clone(),
    ))
    .max_decoding_message_size(MAX_MESSAGE_BYTES);
    let admin = WorkflowAdminServer::new(AdminService::new(
        engine.clone(),
        Arc::clone(&clock),
        config.reminder_interval_hours,
    ))
    .max_decoding_message_size(MAX_MESSAGE_BYTES);

    // tonic answers an over-limit message with OUT_OF_RANGE before any handler runs; the
    // contract (DESIGN §5) says INVALID_ARGUMENT, so that one answer is rewritten here.
    let sweeper = spawn_deadline_sweep(&engine, config, Arc::clone(&clock), stop_rx.clone());
    let mut builder = Server::builder().layer(tower::util::MapResponseLayer::new(
        oversized_is_invalid_argument,
    ));
    if let Some(tls) = &config.tls {
        let read = |p: &std::path::Path| {
            std::fs::read(p).map_err(|source| ServerError::Tls {
                path: p.to_owned(),
                source,
            })
        };
        let identity = Identity::from_pem(read(&tls.cert)?, read(&tls.key)?);
        builder = builder.tls_config(ServerTlsConfig::new().identity(identity))?;
    }
    let addr = listener.local_addr().ok();
    tracing::info!(?addr, tls = config.tls.is_some(), data_dir = %config.data_dir.display(), "serving workflow.v1");
    builder
        // Health stays open so load balancers and probes need no token; it reveals nothing.
        .add_service(health_service)
        .add_service(tonic::service::interceptor::InterceptedService::new(
            reflection_v1,
            users.clone(),
        ))
        .add_service(tonic::service::interceptor::InterceptedService::new(
            reflection_v1alpha,
            users.clone(),
        ))
        .add_service(tonic::service::interceptor::InterceptedService::new(
            workflow, users,
        ))
        .add_service(tonic::service::interceptor::InterceptedService::new(
            admin, admins,
        ))
        .serve_with_incoming_shutdown(incoming(listener), shutdown)
        .await?;
    if let Some(task) = sweeper {
        let _ = task.await;
    }
    engine.flush()?;
    tracing::info!("server stopped; engine flushed");
    Ok(())
}

/// The periodic deadline sweep (催办), until `stopping` turns true.
fn spawn_deadline_sweep(
    engine: &Engine,
    config: &ServerConfig,
    clock: workflow_store::Clock,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> Option<tokio::task::JoinHandle<()>> {
    if config.sweep_every_secs == 0 {
        return None;
    }
    let engine = engine.clone();
    let hours = config.reminder_interval_hours;
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(config.sweep_every_secs));
    Some(tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopping.wait_for(|stop| *stop) => return,
            }
            match engine.sweep_deadlines(clock(), hours).await {
                Ok(o) if !o.is_empty() => {
                    tracing::info!(reminders = o.len(), "deadline sweep sent reminders")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "deadline sweep failed"),
            }
        }
    }))
}

/// Accepted connections with `TCP_NODELAY`: without it a small unary reply waits for the
/// peer's delayed ACK (Nagle), ~40 ms per call on loopback.
fn incoming(
    listener: TcpListener,
) -> impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use futures::StreamExt;
    TcpListenerStream::new(listener).map(|conn| {
        if let Ok(stream) = &conn
            && let Err(e) = stream.set_nodelay(true)
        {
            tracing::warn!(error = %e, "cannot set TCP_NODELAY");
        }
        conn
    })
}

/// Rewrites tonic's "decoded message length too large" (OUT_OF_RANGE, sent trailers-only
/// in the response headers, its message percent-encoded) as INVALID_ARGUMENT naming the
/// limit, with the same `google.rpc` details as every other error.
fn oversized_is_invalid_argument<B>(mut response: http::Response<B>) -> http::Response<B> {
    let headers = response.headers_mut();
    let oversized = tonic::Status::from_header_map(headers).is_some_and(|s| {
        s.code() == tonic::Code::OutOfRange && s.message().contains("message length too large")
    });
    if oversized {
        let status = crate::convert::status(
            tonic::Code::InvalidArgument,
            "MESSAGE_TOO_LARGE",
            format!(
                "invalid request: the message is larger than the {MAX_MESSAGE_BYTES}-byte limit"
            ),
            vec![("limit_bytes", MAX_MESSAGE_BYTES.to_string())],
            None,
        );
        if let Err(e) = status.add_header(headers) {
            tracing::warn!(error = %e, "cannot rewrite an oversized request's status");
        }
    }
    response
}
