//! The `sluice` command line. In: arguments. Out: an exit code, and whatever
//! the subcommand prints. Errors are `anyhow` here, at the binary's edge.

mod plugin_build;
pub mod plugin_new;
pub mod plugin_test;
mod service;

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::runtime::{PluginRuntime, RuntimeOptions};

/// Sluice: multi-tenant log processing with sandboxed WebAssembly plugins.
#[derive(Debug, Parser)]
#[command(name = "sluice", version, about)]
pub struct Cli {
    /// Config file (default: ./sluice.toml if present; `SLUICE_*` variables override).
    #[arg(long, global = true)]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run Sluice (embedded default: no servers needed).
    Run,
    /// Validate every pipeline file and the plugins they use, without starting.
    Check {
        /// Pipeline directory (default: the configured one, `pipelines/`).
        dir: Option<PathBuf>,
    },
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(service::TenantCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Key(service::KeyCommand),
    /// Inspect and replay dead letters.
    #[command(subcommand)]
    Dlq(service::DlqCommand),
    /// Operate pipelines of the running server.
    #[command(subcommand)]
    Pipeline(service::PipelineCommand),
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
    let config = || {
        crate::config::Config::load(cli.config.as_deref())
            .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))
    };
    let async_runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    };
    match cli.command {
        Command::Run => async_runtime()?.block_on(service::run(config()?)),
        Command::Check { dir } => service::check(&config()?, dir),
        Command::Tenant(command) => async_runtime()?.block_on(service::tenant(&config()?, command)),
        Command::Key(command) => async_runtime()?.block_on(service::key(&config()?, command)),
        Command::Dlq(command) => async_runtime()?.block_on(service::dlq(&config()?, command)),
        Command::Pipeline(command) => {
            async_runtime()?.block_on(service::pipeline(&config()?, command))
        }
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
