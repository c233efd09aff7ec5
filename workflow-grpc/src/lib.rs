//! The gRPC adapter of the document workflow engine (`proto/workflow/v1`, the one public
//! wire contract): the services over an [`workflow_store::Engine`], bearer-token
//! authentication, and every conversion between wire and domain types. It opens no store
//! and reads no configuration file: the `workflow` binary (crate `workflow-cli`) does, and
//! hands it an engine and a [`ServiceConfig`].
//!
//! - [`pb`]: the generated wire types and client/server stubs.
//! - [`convert`]: every wire ↔ domain conversion and the error → status mapping; the command
//!   RPCs' come from one table (`commands.rs`), as do their handlers and [`client::send`].
//! - [`server::serve`]: runs the services with bearer-token authentication, health checking
//!   and reflection on a listener until a shutdown signal.
//!
//! A client in Rust:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use workflow_grpc::pb::document_workflow_client::DocumentWorkflowClient;
//! use workflow_grpc::pb::ListDocumentsRequest;
//!
//! let channel = tonic::transport::Endpoint::from_static("http://127.0.0.1:50051").connect().await?;
//! let token: tonic::metadata::MetadataValue<_> = "Bearer dev-oa-portal-token".parse()?;
//! let mut client = DocumentWorkflowClient::with_interceptor(channel, move |mut req: tonic::Request<()>| {
//!     req.metadata_mut().insert("authorization", token.clone());
//!     Ok(req)
//! });
//! let todo = client
//!     .list_documents(ListDocumentsRequest { actor_id: "li.qiang".into(), todo: true, ..Default::default() })
//!     .await?;
//! println!("{} documents wait for li.qiang", todo.get_ref().documents.len());
//! # Ok(()) }
//! ```

pub mod auth;
pub mod client;
mod commands;
pub mod config;
pub mod convert;
pub mod pb;
pub mod server;
pub mod service;
pub mod wire;

pub use config::{ActsFor, InvalidConfig, ServiceConfig, SystemConfig, TlsConfig, sha256};
pub use server::{MAX_MESSAGE_BYTES, ServerError, serve};
