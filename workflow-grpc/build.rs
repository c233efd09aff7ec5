//! Generates the gRPC code from `proto/` with a vendored protoc, so a fresh machine needs
//! no system protoc, and writes the descriptor set that server reflection serves.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("PROTOC").is_none() {
        // SAFETY: build scripts are single-threaded; nothing else reads the environment now.
        unsafe { std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?) };
    }
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        // Written by hand, so that a subscription encodes each event once (src/wire.rs).
        .extern_path(".workflow.v1.EventEnvelope", "crate::wire::EventEnvelope")
        .file_descriptor_set_path(out.join("workflow_descriptor.bin"))
        .compile_protos(&["../proto/workflow/v1/workflow.proto"], &["../proto"])?;
    println!("cargo:rerun-if-changed=../proto");
    Ok(())
}
