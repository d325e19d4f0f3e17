//! `sluice plugin build`: compile a plugin crate to a wasm32-wasip2 component
//! with cargo, and say where it landed.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};

/// Arguments of `sluice plugin build`.
#[derive(Debug, clap::Args)]
pub struct PluginBuildArgs {
    /// The plugin crate's directory.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

/// Run cargo for the wasm32-wasip2 target; returns the exit code.
pub fn run(args: &PluginBuildArgs) -> anyhow::Result<i32> {
    let manifest = args.dir.join("Cargo.toml");
    if !manifest.exists() {
        bail!(
            "{} has no Cargo.toml; pass the plugin crate's directory",
            args.dir.display()
        );
    }
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--manifest-path",
        ])
        .arg(&manifest)
        .status()
        .context("cannot run cargo; is the Rust toolchain installed?")?;
    if !status.success() {
        eprintln!("build failed; if the target is missing: rustup target add wasm32-wasip2");
        return Ok(status.code().unwrap_or(1));
    }
    let metadata = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
        ])
        .arg(&manifest)
        .output()
        .context("cannot run cargo metadata")?;
    let metadata: serde_json::Value = serde_json::from_slice(&metadata.stdout)?;
    let target_dir = metadata["target_directory"].as_str().unwrap_or("target");
    let manifest = manifest.canonicalize()?;
    for package in metadata["packages"].as_array().into_iter().flatten() {
        if package["manifest_path"]
            .as_str()
            .map(PathBuf::from)
            .as_ref()
            == Some(&manifest)
        {
            let name = package["name"]
                .as_str()
                .unwrap_or_default()
                .replace('-', "_");
            println!("{target_dir}/wasm32-wasip2/release/{name}.wasm");
        }
    }
    Ok(0)
}
