//! The server process: open the engine of a configuration (creating the store on first
//! start and loading its directory file), run the gRPC service and the periodic deadline
//! sweep beside it, and flush the engine once both have stopped.

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::net::TcpListener;
use workflow_store::Engine;

use crate::config::{ConfigError, ServerConfig};

/// Why the server could not start, or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The configuration is not usable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The engine failed to open, load or flush.
    #[error("engine: {0}")]
    Engine(#[from] workflow_store::Error),
    /// The directory file could not be read.
    #[error("directory file {path}: {source}")]
    Directory {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The gRPC service failed.
    #[error(transparent)]
    Grpc(#[from] workflow_grpc::ServerError),
    /// The web console could not start.
    #[error("web console: {0}")]
    Web(#[from] workflow_web::WebError),
    /// The web console's address could not be bound.
    #[error("web console on {addr}: {source}")]
    WebListen {
        /// The configured address.
        addr: std::net::SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The flush at a clean stop failed while commands acknowledged under relaxed
    /// durability may still have been only in memory.
    #[error(
        "the flush at stop failed, and with durability = \"relaxed\" the commands acknowledged \
         in the last moments may not be on disk (free space, restart, and check them): {0}"
    )]
    FlushAtStop(workflow_store::Error),
    /// The metrics endpoint could not start.
    #[error("metrics on {addr}: {reason}")]
    Metrics {
        /// The configured address.
        addr: std::net::SocketAddr,
        /// What went wrong.
        reason: String,
    },
}

/// Opens the engine of a configuration and loads its directory file if the engine has none.
pub async fn open_engine(
    config: &ServerConfig,
    clock: workflow_store::Clock,
) -> Result<Engine, ServerError> {
    // Before the engine opens, so that what it does on opening (the directory's first
    // load, an upgrade's rebuild) is counted too.
    if let Some(addr) = config.metrics_listen {
        prometheus().map_err(|reason| ServerError::Metrics { addr, reason })?;
    }
    let engine = match config.postgres_url()? {
        None => Engine::open_with(config.engine(clock)?)?,
        Some(url) => {
            let storage = workflow_store::PostgresStorage::open(url, &config.postgres_options())?;
            Engine::with_storage(std::sync::Arc::new(storage), config.engine(clock)?)?
        }
    };
    if let Some(path) = &config.directory
        && engine.units().is_empty()
    {
        let json = std::fs::read_to_string(path).map_err(|source| ServerError::Directory {
            path: path.clone(),
            source,
        })?;
        let reason = format!("first start: the directory file {}", path.display());
        engine
            .load_directory_json(&json, "workflow", &reason)
            .await?;
        tracing::info!(path = %path.display(), units = engine.units().len(), actors = engine.actors().len(), "directory loaded");
    }
    Ok(engine)
}

/// Serves the engine over gRPC on `listener`, with the deadline sweep running every
/// `sweep_every_secs`, until `shutdown` completes; in-flight calls finish, the sweep stops
/// and the engine is flushed before this returns.
pub async fn serve(
    engine: Engine,
    config: &ServerConfig,
    clock: workflow_store::Clock,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServerError> {
    config.validate()?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let metrics = match config.metrics_listen {
        Some(addr) => Some(spawn_metrics(addr, stop_rx.clone()).await?),
        None => None,
    };
    // The outbox's threads: deriving from the durable log and delivering, never on the
    // commands' path. Started before anything that writes (the console, the sweep), so
    // that a channel configured for the first time misses none of their notices.
    let notifier = workflow_store::notify::Notifier::start(&engine, &config.notify)
        .map_err(|e| ServerError::Config(crate::config::ConfigError::Invalid(e)))?;
    if notifier.is_some() {
        tracing::info!(
            channels = config.notify.channels.len(),
            "notification outbox started"
        );
    }
    let web = match &config.web {
        Some(web) => Some(spawn_web(&engine, web, Arc::clone(&clock), stop_rx.clone()).await?),
        None => None,
    };
    let sweeper = spawn_deadline_sweep(&engine, config, Arc::clone(&clock), stop_rx);
    tracing::info!(store = %config.place(), "store");
    // The sweep stops as soon as shutdown is asked for, not after the calls in flight
    // have drained: it would only write reminders nobody asked for by then.
    let shutdown = async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    };
    let served =
        workflow_grpc::serve(engine.clone(), &config.service(), clock, listener, shutdown).await;
    if let Some(task) = sweeper {
        let _ = task.await;
    }
    if let Some(task) = metrics {
        let _ = task.await;
    }
    if let Some(task) = web {
        let _ = task.await;
    }
    if let Some(n) = notifier {
        // A try under way finishes (at most a channel's timeout); threads joined off the
        // runtime's workers.
        let _ = tokio::task::spawn_blocking(move || n.stop()).await;
    }
    // Flushed whatever the service's end was; its error is the one reported, a failed
    // flush after it only logged. Under strict durability every acknowledged command was
    // synced before it was answered (and the access log syncs each append), so a flush that
    // fails at a clean stop (a full disk) loses nothing anyone was told is kept: the stop
    // is clean. Under relaxed durability it may lose the last acknowledged commands.
    let flushed = engine.flush();
    match (served, flushed) {
        (Err(e), flushed) => {
            if let Err(f) = flushed {
                tracing::error!(error = %f, "flushing the engine after the service failed");
            }
            Err(e.into())
        }
        (Ok(()), Err(f)) if config.durability == workflow_store::Durability::Strict => {
            tracing::warn!(error = %f, "the flush at stop failed; nothing acknowledged depends on it (strict durability: every acknowledged command was synced when it was answered)");
            Ok(())
        }
        (Ok(()), Err(f)) => Err(ServerError::FlushAtStop(f)),
        (Ok(()), Ok(())) => {
            tracing::info!("server stopped; engine flushed");
            Ok(())
        }
    }
}

/// The process's Prometheus recorder, installed on first use (one per process: tests run
/// several servers in one).
fn prometheus() -> Result<metrics_exporter_prometheus::PrometheusHandle, String> {
    use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
    static HANDLE: std::sync::Mutex<Option<metrics_exporter_prometheus::PrometheusHandle>> =
        std::sync::Mutex::new(None);
    let mut handle = HANDLE
        .lock()
        .map_err(|_| "the recorder's lock was poisoned".to_owned())?;
    if let Some(h) = handle.as_ref() {
        return Ok(h.clone());
    }
    let seconds = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
    ];
    let sizes = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &seconds)
        .and_then(|b| {
            b.set_buckets_for_metric(Matcher::Full("workflow_group_commands".into()), &sizes)
        })
        .map_err(|e| e.to_string())?
        .build_recorder();
    let h = recorder.handle();
    metrics::set_global_recorder(recorder)
        .map_err(|e| format!("another metrics recorder is installed: {e}"))?;
    workflow_store::telemetry::describe_metrics();
    *handle = Some(h.clone());
    Ok(h)
}

/// Serves `/metrics` on `addr` until `stopping` turns true.
async fn spawn_metrics(
    addr: std::net::SocketAddr,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, ServerError> {
    let failed = |reason: String| ServerError::Metrics { addr, reason };
    let handle = prometheus().map_err(failed)?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let bound = listener.local_addr().map_err(|e| failed(e.to_string()))?;
    eprintln!("workflow: metrics on http://{bound}/metrics");
    let render = handle.clone();
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let render = render.clone();
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    render.render(),
                )
            }
        }),
    );
    Ok(tokio::spawn(async move {
        // Histograms are kept in windows that need draining now and then.
        let upkeep = {
            let (handle, mut stopping) = (handle.clone(), stopping.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
                loop {
                    tokio::select! {
                        _ = tick.tick() => handle.run_upkeep(),
                        _ = stopping.wait_for(|stop| *stop) => return,
                    }
                }
            })
        };
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stopping.wait_for(|stop| *stop).await;
            })
            .await;
        if let Err(e) = served {
            tracing::warn!(error = %e, "the metrics endpoint stopped");
        }
        let _ = upkeep.await;
    }))
}

/// Serves the web console on its address until `stopping` turns true.
async fn spawn_web(
    engine: &Engine,
    web: &workflow_web::WebConfig,
    clock: workflow_store::Clock,
    mut stopping: tokio::sync::watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, ServerError> {
    let addr = web.listen;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::WebListen { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| ServerError::WebListen { addr, source })?;
    // Checked before the line that says it serves.
    web.validate()?;
    eprintln!("workflow: web console on http://{bound}/");
    let (engine, web) = (engine.clone(), web.clone());
    Ok(tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopping.wait_for(|stop| *stop).await;
        };
        if let Err(e) = workflow_web::serve(engine, web, clock, listener, shutdown).await {
            tracing::error!(error = %e, "the web console stopped");
        }
    }))
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
    // The first sweep one period after start, not at once: a start that fails (TLS
    // material missing) writes nothing.
    let period = std::time::Duration::from_secs(config.sweep_every_secs);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    Some(tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                // Shutdown asked for, or the service ended (the sender dropped).
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
