//! `workflow`: the server (`serve`) and, as further subcommands, the operator tools.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use workflow_grpc::ServerConfig;

/// The official-document (公文) workflow engine.
#[derive(Debug, Parser)]
#[command(name = "workflow", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Run the gRPC server on an embedded sled directory.
    ///
    /// Example: workflow serve --config workflow.toml --listen 127.0.0.1:50051
    Serve(ServeArgs),
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Configuration file (TOML); `workflow.toml` in the current directory if it exists.
    #[arg(long, env = "WORKFLOW_CONFIG")]
    config: Option<PathBuf>,
    /// Address to listen on, overriding the config (default 127.0.0.1:50051).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Data directory, overriding the config (default `data`).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Directory JSON (units and actors) to load when the engine has none, overriding the config.
    #[arg(long)]
    directory: Option<PathBuf>,
}

fn main() -> Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Cmd::Serve(args) => serve(args),
    }
}

fn load_config(path: Option<&PathBuf>) -> Result<ServerConfig> {
    match path {
        Some(p) => Ok(ServerConfig::load(p)?),
        None => {
            let default = PathBuf::from("workflow.toml");
            if default.exists() {
                Ok(ServerConfig::load(&default)?)
            } else {
                Ok(ServerConfig::default())
            }
        }
    }
}

fn serve(args: ServeArgs) -> Result<()> {
    let mut config = load_config(args.config.as_ref())?;
    if let Some(l) = args.listen {
        config.listen = l;
    }
    if let Some(d) = args.data_dir {
        config.data_dir = d;
    }
    if let Some(d) = args.directory {
        config.directory = Some(d);
    }
    config
        .validate()
        .context("no usable configuration (pass --config FILE or create workflow.toml)")?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let clock: workflow_store::Clock = Arc::new(chrono::Utc::now);
        let engine = workflow_grpc::open_engine(&config, clock.clone())
            .await
            .with_context(|| format!("opening data directory {}", config.data_dir.display()))?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("binding {}", config.listen))?;
        eprintln!(
            "workflow: serving on {} (data in {})",
            listener.local_addr()?,
            config.data_dir.display()
        );
        workflow_grpc::serve(engine, &config, clock, listener, shutdown_signal()).await?;
        Ok(())
    })
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutdown requested; finishing in-flight calls");
}
