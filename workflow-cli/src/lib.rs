//! The `workflow` program: the server (`serve`: the engine on its embedded sled directory,
//! the gRPC service and the deadline sweep), the operator commands (`init`, `verify`,
//! `rebuild`, `history`, `show`, `export`, `verify-export`, `stats`, `list`,
//! `retention-schedule`) and the benchmark (`bench`).
//!
//! The commands compute (`ops`); `render` prints what they computed, for people or as
//! JSON. A second adapter (a web console) would sit beside gRPC in [`serve`].
//!
//! Tests and other programs start the same server as the binary does:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use workflow_cli::{ServerConfig, open_engine, serve};
//!
//! let config = ServerConfig::load("workflow.toml".as_ref())?;
//! let clock: workflow_store::Clock = Arc::new(chrono::Utc::now);
//! let engine = open_engine(&config, clock.clone()).await?;
//! let listener = tokio::net::TcpListener::bind(config.listen).await?;
//! serve(engine, &config, clock, listener, async { let _ = tokio::signal::ctrl_c().await; }).await?;
//! # Ok(()) }
//! ```

mod bench;
mod cli;
pub mod config;
mod ops;
mod render;
mod server;

pub use cli::main;
pub use config::{ConfigError, ServerConfig};
pub use server::{ServerError, open_engine, serve};
