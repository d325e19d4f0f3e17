//! `sluice plugin new NAME`: scaffold a plugin crate that builds, with a
//! unit test, so a plugin author starts from something green.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

/// Arguments of `sluice plugin new`.
#[derive(Debug, clap::Args)]
pub struct PluginNewArgs {
    /// Plugin name: lower-case letters, digits and dashes.
    pub name: String,
    /// Directory to create the crate in (default: `./NAME`, or `plugins/NAME`
    /// inside a Sluice checkout).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Path to the plugin SDK crate (default: the SDK this binary was built with).
    #[arg(long)]
    pub sdk: Option<PathBuf>,
}

/// The SDK this binary was built beside.
fn default_sdk() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugin-sdk")
}

/// Create the crate; returns its directory.
pub fn run(args: &PluginNewArgs) -> anyhow::Result<PathBuf> {
    let name = &args.name;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        || name.starts_with(|c: char| !c.is_ascii_lowercase())
    {
        bail!("plugin name {name:?} must start with a letter and use only a-z, 0-9 and '-'");
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(name));
    if dir.exists() {
        bail!(
            "{} already exists; choose another name or --dir",
            dir.display()
        );
    }
    let sdk = args.sdk.clone().unwrap_or_else(default_sdk);
    let sdk = sdk
        .canonicalize()
        .with_context(|| format!("plugin SDK not found at {}; pass --sdk", sdk.display()))?;

    std::fs::create_dir_all(dir.join("src"))?;
    let dir = dir.canonicalize()?;
    // Inside a Sluice checkout's `plugins/`, the crate joins the workspace;
    // anywhere else it is a workspace of its own.
    let in_workspace = dir
        .parent()
        .is_some_and(|parent| parent.ends_with("plugins") && parent.join("../plugin-sdk").exists());
    let sdk_dep = if in_workspace {
        "sluice-plugin-sdk.workspace = true".to_owned()
    } else {
        format!(
            "sluice-plugin-sdk = {{ path = {:?} }}",
            sdk.display().to_string()
        )
    };
    let serde_dep = if in_workspace {
        "serde.workspace = true"
    } else {
        r#"serde = { version = "1", features = ["derive"] }"#
    };
    let standalone = if in_workspace {
        ""
    } else {
        "\n# A workspace of its own, so it builds wherever it lives.\n[workspace]\n\n[profile.release]\nlto = true\ncodegen-units = 1\nstrip = true\n"
    };
    let crate_name = name.replace('-', "_");

    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2024"
publish = false

[lib]
# cdylib: the wasm32-wasip2 component; rlib: native unit tests.
crate-type = ["cdylib", "rlib"]

[dependencies]
{sdk_dep}
{serde_dep}
{standalone}"#
        ),
    )?;
    std::fs::write(dir.join("src/lib.rs"), LIB_RS)?;
    std::fs::write(
        dir.join("README.md"),
        README
            .replace("{name}", name)
            .replace("{crate}", &crate_name),
    )?;
    if !in_workspace {
        std::fs::write(dir.join(".gitignore"), "/target\n")?;
    }
    Ok(dir)
}

const LIB_RS: &str = r##"//! A Sluice plugin. Build: `cargo build --release --target wasm32-wasip2`.
//! Test natively: `cargo test`.

use serde::Deserialize;
use sluice_plugin_sdk::{plugin, Event, PluginError, Verdict};

/// The step's config table in the pipeline file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Events whose message contains this text are dropped.
    #[serde(default)]
    pub drop_containing: Option<String>,
}

#[plugin]
fn process(event: &mut Event, config: &Config) -> Result<Verdict, PluginError> {
    if let Some(needle) = &config.drop_containing {
        if event.message.contains(needle.as_str()) {
            return Ok(Verdict::Drop);
        }
    }
    if event.service.is_none() {
        event.service = Some("unknown".to_owned());
        return Ok(Verdict::Changed);
    }
    Ok(Verdict::Unchanged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_plugin_sdk::testing::Harness;

    #[test]
    fn fills_in_a_missing_service() {
        let config = Config::default();
        let mut event = Event::new("hello");
        assert_eq!(process(&mut event, &config).unwrap(), Verdict::Changed);
        assert_eq!(event.service.as_deref(), Some("unknown"));
    }

    #[test]
    fn drops_what_config_says() {
        let mut harness = Harness::<SluicePlugin>::new(r#"drop_containing = "healthcheck""#).unwrap();
        let kept = harness.kept(vec![Event::new("GET /healthcheck"), Event::new("GET /orders")]);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].message, "GET /orders");
    }
}
"##;

const README: &str = r#"# {name}

A Sluice plugin.

- Test natively: `cargo test`
- Build the component: `cargo build --release --target wasm32-wasip2`
  → `target/wasm32-wasip2/release/{crate}.wasm`
- Try it on events: `sluice plugin test target/wasm32-wasip2/release/{crate}.wasm --input events.ndjson`
- Use it in a pipeline step: `plugin = "path/to/{crate}.wasm"`
"#;
