//! `workflow`: see the crate documentation of `workflow_cli`.

fn main() -> std::process::ExitCode {
    workflow_cli::main()
}
