//! `workflow`: see the crate documentation of `workflow_cli`.

/// The allocator of the server, the operator commands and the bench: the writer and sled
/// allocate and free a buffer for nearly everything they touch, and with glibc's malloc
/// that was about 15% of the writer's time (README, Performance). Programs that embed
/// the engine choose their own.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    workflow_cli::main()
}
