//! `cargo xtask fuzz`: the fuzz targets in `fuzz/` (`/v1/logs` bodies, the
//! shippers' protocols, pipeline files, plugin output) under libFuzzer, each
//! for a bounded time.
//!
//! ```text
//! cargo xtask fuzz                       every target, 60 s each
//! cargo xtask fuzz --seconds 600 ingest_body
//! cargo xtask fuzz --replay plugin_output target/fuzz-artifacts/plugin_output/crash-…
//! ```
//!
//! Runs on the stable toolchain: `cargo fuzz` with `--sanitizer none`
//! (AddressSanitizer needs nightly; the code under test has no `unsafe`, so
//! what the fuzzer looks for is panics, failed assertions and overflow
//! checks, which debug assertions turn on). `cargo-fuzz` is installed into
//! the cargo home when missing. Corpora grow in `target/fuzz-corpus/`,
//! seeded from the committed `fuzz/seeds/`; a crash is written to
//! `target/fuzz-artifacts/<target>/` and fails the command, naming the file.

use std::process::Command;

use crate::{Result, cargo, root, status};

/// The targets, as named in `fuzz/Cargo.toml`.
pub const TARGETS: [&str; 4] = [
    "ingest_body",
    "shipper_body",
    "pipeline_file",
    "plugin_output",
];

/// Default time per target, overridden by `SLUICE_FUZZ_SECONDS`.
const DEFAULT_SECONDS: u64 = 60;

/// The cargo-fuzz release the commands below are written for.
const CARGO_FUZZ_VERSION: &str = "0.13.2";

/// `cargo xtask fuzz [--seconds N] [--replay TARGET FILE…] [TARGET…]`.
pub fn fuzz(args: &[String]) -> Result<()> {
    let mut seconds = std::env::var("SLUICE_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_SECONDS);
    let mut targets = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--seconds takes a number")?;
            }
            "--replay" => {
                let target = args.next().ok_or("--replay takes a target and files")?;
                let files: Vec<&String> = args.collect();
                return replay(target, &files);
            }
            target if TARGETS.contains(&target) => targets.push(target.to_owned()),
            other => {
                return Err(format!(
                    "unknown fuzz target `{other}`; the targets are {}",
                    TARGETS.join(", ")
                ));
            }
        }
    }
    if targets.is_empty() {
        targets = TARGETS.iter().map(|t| (*t).to_owned()).collect();
    }
    ensure_cargo_fuzz()?;
    status(&mut fuzz_command("build"))?;
    let root = root();
    for target in &targets {
        let corpus = root.join("target/fuzz-corpus").join(target);
        let artifacts = root.join("target/fuzz-artifacts").join(target);
        for dir in [&corpus, &artifacts] {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        println!("fuzz: {target} for {seconds} s");
        let result = status(
            fuzz_command("run")
                .arg(target)
                .arg(&corpus)
                .arg(root.join("fuzz/seeds").join(target))
                .arg("--")
                .arg(format!("-max_total_time={seconds}"))
                .arg("-max_len=65536")
                .arg("-print_final_stats=1")
                .arg(format!("-artifact_prefix={}/", artifacts.display())),
        );
        if let Err(error) = result {
            let found = std::fs::read_dir(&artifacts).is_ok_and(|mut d| d.next().is_some());
            if !found {
                return Err(format!("{error}\nfuzz target {target} did not run"));
            }
            return Err(format!(
                "{error}\nfuzz target {target} found a failing input in {}; replay it with \
                 `cargo xtask fuzz --replay {target} <file>`, then add it as a regression test",
                artifacts.display()
            ));
        }
    }
    Ok(())
}

/// Run a target on the given inputs only.
fn replay(target: &str, files: &[&String]) -> Result<()> {
    if !TARGETS.contains(&target) || files.is_empty() {
        return Err("usage: cargo xtask fuzz --replay TARGET FILE…".into());
    }
    ensure_cargo_fuzz()?;
    status(fuzz_command("run").arg(target).args(files))
}

/// `cargo fuzz <action>` on the stable toolchain, building into `target/fuzz`.
fn fuzz_command(action: &str) -> Command {
    let mut command = cargo();
    command
        .args(["fuzz", action, "--sanitizer", "none", "--target-dir"])
        .arg(root().join("target/fuzz"));
    command
}

fn ensure_cargo_fuzz() -> Result<()> {
    let installed = cargo()
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        status(cargo().args([
            "install",
            "cargo-fuzz",
            "--locked",
            "--version",
            CARGO_FUZZ_VERSION,
        ]))?;
    }
    Ok(())
}
