//! The `workflow` binary: server and operator command line (not built yet).

fn main() {
    eprintln!("workflow: the server and operator commands are not built yet (issues #4, #5)");
    std::process::exit(2);
}
