//! The `sluice` command line. In: arguments. Out: an exit code, and whatever
//! the subcommand prints. Errors are `anyhow` here, at the binary's edge.

mod plugin_build;
pub mod plugin_new;
pub mod plugin_test;

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::runtime::{PluginRuntime, RuntimeOptions};

/// Sluice: multi-tenant log processing with sandboxed WebAssembly plugins.
#[derive(Debug, Parser)]
#[command(name = "sluice", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write, build and try plugins.
    #[command(subcommand)]
    Plugin(PluginCommand),
}

/// `sluice plugin …`
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Scaffold a new plugin crate that builds and has a passing test.
    New(plugin_new::PluginNewArgs),
    /// Build a plugin crate to a wasm32-wasip2 component.
    Build(plugin_build::PluginBuildArgs),
    /// Run a plugin on events with production limits; golden-file tests with --expect.
    Test(plugin_test::PluginTestArgs),
    /// Show a plugin's identity, ABI version and SHA-256.
    Inspect {
        /// The plugin component (`.wasm`).
        plugin: PathBuf,
    },
}

/// Parse arguments, run, and return the exit code.
pub fn main() -> anyhow::Result<i32> {
    let cli = Cli::parse();
    match cli.command {
        Command::Plugin(PluginCommand::New(args)) => {
            let dir = plugin_new::run(&args)?;
            println!("created plugin crate {}", dir.display());
            println!(
                "next: cd {} && cargo test && sluice plugin build",
                dir.display()
            );
            Ok(0)
        }
        Command::Plugin(PluginCommand::Build(args)) => plugin_build::run(&args),
        Command::Plugin(PluginCommand::Test(args)) => plugin_test::run(&args),
        Command::Plugin(PluginCommand::Inspect { plugin }) => {
            let runtime = Arc::new(PluginRuntime::new(RuntimeOptions::default())?);
            let loaded = runtime.load_file(&plugin)?;
            println!("plugin:      {}", loaded.info.name);
            println!("version:     {}", loaded.info.version);
            println!("sdk:         {}", loaded.info.sdk_version);
            println!(
                "abi:         sluice:plugin@{}",
                crate::runtime::bindings::ABI_VERSION
            );
            println!("sha256:      {}", loaded.sha256);
            Ok(0)
        }
    }
}
