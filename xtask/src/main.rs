//! `cargo xtask <task>`: the project's few commands, in Rust so they need
//! nothing but the toolchain.
//!
//! - `plugins`: build every plugin and test fixture to wasm32-wasip2 into
//!   `target/plugins/` and `target/plugins/fixtures/`.
//! - `run [ARGS]`: build the plugins and the host, then `sluice run ARGS`
//!   (the embedded default: no servers needed).
//! - `test [ARGS]`: install and start what the tests need, build the
//!   plugins, run the whole test suite (`cargo test --workspace ARGS`), then
//!   every fuzz target for a bounded time.
//! - `fuzz [--seconds N] [TARGET…]`: the fuzz targets in `fuzz/`, each for a
//!   bounded time (see [`fuzz`]); `test` runs them after the suite.
//! - `services up|down|status`: the test servers alone.

mod fuzz;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("plugins") => build_plugins().map(|_| ()),
        Some("run") => run(&args[1..]),
        Some("test") => test(&args[1..]),
        Some("services") => services(&args[1..]),
        Some("fuzz") => fuzz::fuzz(&args[1..]),
        _ => Err(
            "usage: cargo xtask plugins | run [ARGS] | test [ARGS] | fuzz [--seconds N] [TARGET…] | services up|down|status"
                .into(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(root());
    command
}

fn status(command: &mut Command) -> Result<()> {
    let shown = format!("{command:?}");
    let status = command
        .status()
        .map_err(|e| format!("cannot start {shown}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {status}"))
    }
}

/// Make sure the wasm32-wasip2 target is installed (a fresh machine has only
/// the host target).
fn ensure_wasm_target() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-wasip2"))
        .unwrap_or(true);
    if !installed {
        status(Command::new("rustup").args(["target", "add", "wasm32-wasip2"]))?;
    }
    Ok(())
}

/// Plugin crates: workspace members under `plugins/` and `tests/fixtures/`.
fn plugin_packages() -> Result<Vec<(String, PathBuf)>> {
    let output = cargo()
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("cargo metadata: {e}"))?;
    let root = root();
    let mut found = Vec::new();
    for package in metadata["packages"].as_array().into_iter().flatten() {
        let (Some(name), Some(manifest)) =
            (package["name"].as_str(), package["manifest_path"].as_str())
        else {
            continue;
        };
        let dir = Path::new(manifest).parent().unwrap_or(Path::new("."));
        let relative = dir.strip_prefix(&root).unwrap_or(dir);
        let destination = if relative.starts_with("plugins") {
            PathBuf::from("target/plugins")
        } else if relative.starts_with("tests/fixtures") {
            PathBuf::from("target/plugins/fixtures")
        } else {
            continue;
        };
        found.push((name.to_owned(), destination));
    }
    Ok(found)
}

/// Build all plugins and fixtures; returns the installed component paths.
fn build_plugins() -> Result<Vec<PathBuf>> {
    ensure_wasm_target()?;
    let packages = plugin_packages()?;
    let mut build = cargo();
    build.args(["build", "--target", "wasm32-wasip2", "--profile", "plugin"]);
    for (name, _) in &packages {
        build.args(["-p", name]);
    }
    status(&mut build)?;
    let root = root();
    let built = root.join("target/wasm32-wasip2/plugin");
    let mut installed = Vec::new();
    for (name, destination) in &packages {
        let short = name
            .trim_start_matches("sluice-plugin-")
            .trim_start_matches("sluice-fixture-");
        let source = built.join(format!("{}.wasm", name.replace('-', "_")));
        let dir = root.join(destination);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let target = dir.join(format!("{short}.wasm"));
        std::fs::copy(&source, &target).map_err(|e| {
            format!(
                "cannot copy {} to {}: {e}",
                source.display(),
                target.display()
            )
        })?;
        installed.push(target);
    }
    for path in &installed {
        println!("{}", path.strip_prefix(&root).unwrap_or(path).display());
    }
    Ok(installed)
}

fn run(args: &[String]) -> Result<()> {
    build_plugins()?;
    status(
        cargo()
            .args(["run", "--release", "--package", "sluice", "--", "run"])
            .args(args),
    )
}

fn services(args: &[String]) -> Result<()> {
    let script = root().join("scripts/services.sh");
    status(Command::new("bash").arg(script).args(args))
}

fn test(args: &[String]) -> Result<()> {
    services(&["up".to_owned()])?;
    let env = services_env();
    build_plugins()?;
    let tests = status(
        cargo()
            .args(["test", "--workspace", "--no-fail-fast"])
            .args(args)
            .envs(env),
    );
    // The fuzz targets run whatever the tests said, so one run reports both.
    let fuzzing = fuzz::fuzz(&[]);
    tests.and(fuzzing)
}

/// The variables `scripts/services.sh up` wrote for the tests.
fn services_env() -> Vec<(String, String)> {
    let state = std::env::var("SLUICE_SERVICES_STATE").unwrap_or_else(|_| {
        format!(
            "{}/sluice-services",
            std::env::var("TMPDIR").unwrap_or_else(|_| "/tmp".into())
        )
    });
    std::fs::read_to_string(Path::new(&state).join("env"))
        .unwrap_or_default()
        .lines()
        .filter_map(|line| line.strip_prefix("export ")?.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}
