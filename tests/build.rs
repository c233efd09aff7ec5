//! Builds the power-loss simulator (`powerloss/shim.c`, an `LD_PRELOAD` library) that
//! `tests/powerloss.rs` loads into the engine's process. Test-only: nothing else links it.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=powerloss/shim.c");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return Ok(());
    }
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    let so = out.join("libpowerloss.so");
    let status = cc::Build::new()
        .get_compiler()
        .to_command()
        // Paths in the test are short; the truncation warnings are about PATH_MAX-long ones.
        .args([
            "-shared",
            "-fPIC",
            "-O1",
            "-Wall",
            "-Wextra",
            "-Wno-format-truncation",
        ])
        .arg("-o")
        .arg(&so)
        .arg("powerloss/shim.c")
        .args(["-ldl", "-lpthread"])
        .status()
        .map_err(|e| format!("a C compiler is needed for the power-loss test's shim: {e}"))?;
    if !status.success() {
        return Err("compiling powerloss/shim.c failed".into());
    }
    println!("cargo:rustc-env=POWERLOSS_SHIM={}", so.display());
    Ok(())
}
