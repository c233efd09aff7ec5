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
use crate::config::ServiceConfig;
use crate::pb;
use crate::pb::document_workflow_server::DocumentWorkflowServer;
use crate::pb::workflow_admin_server::WorkflowAdminServer;
use crate::service::{AdminService, WorkflowService};

/// Largest request accepted (bytes); larger ones are refused before decoding.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The settings cannot be served with.
    #[error("configuration: {0}")]
    Config(#[from] crate::config::InvalidConfig),
    /// TLS material could not be read.
    #[error("tls: cannot read {path}: {source}")]
    Tls {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The transport failed.
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
    /// Reflection could not be built from the descriptor set.
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
}

/// Serves the engine on `listener` until `shutdown` completes; in-flight calls finish
/// (live subscriptions are ended first) before this returns.
pub async fn serve(
    engine: Engine,
    config: &ServiceConfig,
    clock: workflow_store::Clock,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServerError> {
    config.validate()?;
    for warning in config.warnings() {
        tracing::warn!("{warning}");
    }
    // A scope entry that is neither a role nor a unit of the directory matches nobody:
    // most likely a typo ("Archivists", "archivist").
    let units = engine.units();
    for s in &config.systems {
        if let Ok(Some(scope)) = s.scope() {
            for u in scope
                .units
                .iter()
                .filter(|u| !units.iter().any(|x| x.code == **u))
            {
                tracing::warn!(
                    "system {}: acts_for entry {u:?} is neither a role nor a unit of the directory, so it matches nobody",
                    s.name
                );
            }
        }
    }
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
    // A writer that stopped writing (a flush or a commit whose outcome is unknown) makes
    // the server NOT_SERVING, so that a load balancer or an orchestrator takes it out and
    // restarts it; reads would still work, but commands would all be refused. Storage that
    // does not answer (the database down) makes it NOT_SERVING until it answers again, so
    // that traffic goes to servers that can serve it.
    {
        let (engine, reporter, mut stop) =
            (engine.clone(), health_reporter.clone(), stop_rx.clone());
        tokio::spawn(async move {
            let mut down = false;
            let mut probe: Option<tokio::task::JoinHandle<bool>> = None;
            loop {
                // One probe at a time; one that takes more than five seconds counts as down.
                let mut handle = probe.take().unwrap_or_else(|| {
                    let engine = engine.clone();
                    tokio::task::spawn_blocking(move || engine.storage_answers())
                });
                let answers = match tokio::time::timeout(
                    std::time::Duration::from_secs(5),
                    &mut handle,
                )
                .await
                {
                    Ok(answered) => answered.unwrap_or(false),
                    Err(_) => {
                        probe = Some(handle);
                        false
                    }
                };
                if !engine.is_halted() && answers == down {
                    down = !answers;
                    let status = if down {
                        tracing::warn!(
                            "storage does not answer: health is NOT_SERVING until it does"
                        );
                        tonic_health::ServingStatus::NotServing
                    } else {
                        tracing::info!("storage answers again: health is SERVING");
                        tonic_health::ServingStatus::Serving
                    };
                    for service in [
                        "",
                        <DocumentWorkflowServer<WorkflowService> as tonic::server::NamedService>::NAME,
                        <WorkflowAdminServer<AdminService> as tonic::server::NamedService>::NAME,
                    ] {
                        reporter.set_service_status(service, status).await;
                    }
                }
                if engine.is_halted() {
                    tracing::error!(
                        "the engine stopped writing: health is NOT_SERVING until the server is restarted"
                    );
                    reporter
                        .set_not_serving::<DocumentWorkflowServer<WorkflowService>>()
                        .await;
                    reporter
                        .set_service_status("", tonic_health::ServingStatus::NotServing)
                        .await;
                    return;
                }
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
                    _ = stop.changed() => return,
                }
            }
        });
    }
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
    tracing::info!(?addr, tls = config.tls.is_some(), "serving workflow.v1");
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
    tracing::info!("gRPC service stopped");
    Ok(())
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
