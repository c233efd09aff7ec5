//! The generated protobuf and gRPC types of `workflow.v1`, as the one public wire contract.

#[allow(missing_docs, unreachable_pub, clippy::all)] // generated code
mod generated {
    tonic::include_proto!("workflow.v1");
}

// The generated surface mirrors `proto/workflow/v1/workflow.proto` one to one, so it is
// re-exported whole rather than listed twice.
pub use generated::*;
// Mapped to a hand-written type by the build (so that events are encoded once).
pub use crate::wire::EventEnvelope;

/// The encoded descriptor set, served by gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("workflow_descriptor");
