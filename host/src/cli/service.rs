//! The operator's commands: `run`, `check`, `tenant`, `key`, `dlq`,
//! `pipeline`. Tenant and key administration and dead-letter inspection
//! work on the database directly (no server needed); replay and rollback ask
//! the running server, authenticated with the admin token from the data
//! directory.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Subcommand;
use serde_json::{Value, json};

use crate::config::Config;
use crate::event::json::format_ns;
use crate::pipeline::PluginDirs;
use crate::pipeline::check::check_dir;
use crate::pipeline::registry::now_ns;
use crate::runtime::{PluginRuntime, RuntimeOptions};
use crate::store::{self, DeadLetterQuery, page_size};

/// `sluice tenant …`
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant (then give it a key with `sluice key create`).
    Create {
        /// Tenant name.
        name: String,
    },
    /// List tenants.
    List,
}

/// `sluice key …`
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key for a tenant; the key is printed once.
    Create {
        /// Tenant name.
        tenant: String,
        /// A label to recognise the key by.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List a tenant's keys (ids and labels; never the keys themselves).
    List {
        /// Tenant name.
        tenant: String,
    },
    /// Revoke a key by id; it stops working at once.
    Revoke {
        /// Key id (from `sluice key list`).
        id: String,
    },
}

/// `sluice dlq …`
#[derive(Debug, Subcommand)]
pub enum DlqCommand {
    /// List dead letters not yet replayed.
    List {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// Only this step.
        #[arg(long)]
        step: Option<String>,
        /// Include replayed ones.
        #[arg(long)]
        all: bool,
        /// Rows.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// Show one dead letter in full.
    Show {
        /// Dead-letter id.
        id: String,
    },
    /// Replay dead letters through the running server's pipelines.
    Replay {
        /// These ids.
        #[arg(long = "id")]
        ids: Vec<String>,
        /// Every dead letter not yet replayed (of `--tenant`, or of everyone).
        #[arg(long)]
        all: bool,
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// Run under this pipeline version instead of the one in force.
        #[arg(long)]
        pipeline_version: Option<u64>,
        /// The server's address.
        #[arg(long)]
        server: Option<String>,
    },
}

/// `sluice pipeline …`
#[derive(Debug, Subcommand)]
pub enum PipelineCommand {
    /// Roll a tenant back to its previous pipeline version.
    Rollback {
        /// Tenant name.
        tenant: String,
        /// The server's address.
        #[arg(long)]
        server: Option<String>,
    },
}

/// `sluice run`.
pub async fn run(config: Config) -> anyhow::Result<i32> {
    let queue = match &config.queue {
        crate::config::QueueConfig::Memory { .. } => "in-process queue".to_owned(),
        crate::config::QueueConfig::Kafka(k) => format!("Kafka at {}", k.brokers),
    };
    let server = crate::server::start(config.clone()).await?;
    let url = format!("http://{}", server.addr);
    println!(
        "Sluice is listening on {url} ({queue}, data in {})",
        config.data_dir.display()
    );
    if let Some(first) = &server.first_key {
        println!();
        println!(
            "Created tenant `{}`. Its API key is shown only now; keep it:",
            first.tenant
        );
        println!();
        println!("    {}", first.key);
        println!();
        println!("Send a log event:");
        println!();
        println!(
            "    curl -X POST {url}/v1/logs -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' \\\n      -d '{{\"project_id\":\"123\",\"service\":\"auth-service\",\"level\":\"ERROR\",\"message\":\"Login failed for alice@example.com from 10.1.2.3\",\"timestamp\":\"{}\",\"metadata\":{{\"trace_id\":\"4bf92f35\"}}}}'",
            first.key,
            format_ns(now_ns())
        );
        println!();
        println!("Read it back (redacted, fingerprinted):");
        println!();
        println!(
            "    curl {url}/v1/logs -H 'Authorization: Bearer {}'",
            first.key
        );
        println!();
    }
    server.run_until_signal().await?;
    Ok(0)
}

/// `sluice check [DIR]`.
pub fn check(config: &Config, dir: Option<PathBuf>) -> anyhow::Result<i32> {
    let dir = dir.unwrap_or_else(|| config.pipelines_dir.clone());
    // Share compiled artefacts with `sluice run` when its data directory exists.
    let cache_dir = config
        .data_dir
        .exists()
        .then(|| config.data_dir.join("cache"));
    let runtime = Arc::new(PluginRuntime::new(RuntimeOptions {
        cache_dir,
        ..RuntimeOptions::default()
    })?);
    let report = check_dir(&runtime, &dir, &PluginDirs(config.plugin_dirs.clone()));
    for (name, steps) in &report.ok {
        println!("ok      {name} ({steps} steps)");
    }
    for error in &report.errors {
        println!("error   {error}");
    }
    if report.errors.is_empty() {
        println!("{} pipeline(s) valid", report.ok.len());
        Ok(0)
    } else {
        println!("{} problem(s) found", report.errors.len());
        Ok(1)
    }
}

/// `sluice tenant …`.
pub async fn tenant(config: &Config, command: TenantCommand) -> anyhow::Result<i32> {
    let stores = store::open_database(config).await?;
    match command {
        TenantCommand::Create { name } => {
            let tenant = stores.tenants.create_tenant(&name, now_ns()).await?;
            println!(
                "created tenant {}; give it a key with: sluice key create {}",
                tenant.name, tenant.name
            );
        }
        TenantCommand::List => {
            for tenant in stores.tenants.list_tenants().await? {
                println!("{}\t{}", tenant.name, format_ns(tenant.created_ns));
            }
        }
    }
    Ok(0)
}

/// `sluice key …`.
pub async fn key(config: &Config, command: KeyCommand) -> anyhow::Result<i32> {
    let stores = store::open_database(config).await?;
    match command {
        KeyCommand::Create { tenant, label } => {
            let (record, plaintext) = stores.tenants.create_key(&tenant, &label, now_ns()).await?;
            println!(
                "key {} for tenant {} (shown once, keep it):",
                record.id, record.tenant
            );
            println!("{plaintext}");
        }
        KeyCommand::List { tenant } => {
            for key in stores.tenants.list_keys(&tenant).await? {
                let state = match key.revoked_ns {
                    Some(at) => format!("revoked {}", format_ns(at)),
                    None => "active".to_owned(),
                };
                println!(
                    "{}\t{}\t{}\t{}",
                    key.id,
                    state,
                    format_ns(key.created_ns),
                    key.label
                );
            }
        }
        KeyCommand::Revoke { id } => {
            let key = stores.tenants.revoke_key(&id, now_ns()).await?;
            println!("revoked key {} of tenant {}", key.id, key.tenant);
        }
    }
    Ok(0)
}

/// `sluice dlq …`.
pub async fn dlq(config: &Config, command: DlqCommand) -> anyhow::Result<i32> {
    match command {
        DlqCommand::List {
            tenant,
            step,
            all,
            limit,
        } => {
            let stores = store::open_database(config).await?;
            let query = DeadLetterQuery {
                step,
                include_replayed: all,
                limit: page_size(limit),
                cursor: None,
            };
            let page = stores.dead_letters.list(tenant.as_deref(), &query).await?;
            for record in &page.items {
                let letter = &record.letter;
                println!(
                    "{}\t{}\t{}\t{}\t{}{}",
                    record.id,
                    letter.tenant,
                    letter.step,
                    letter.code,
                    letter.error,
                    if record.replayed_at_ns.is_some() {
                        "\t(replayed)"
                    } else {
                        ""
                    }
                );
            }
            if page.items.is_empty() {
                println!("no dead letters");
            }
            Ok(0)
        }
        DlqCommand::Show { id } => {
            let stores = store::open_database(config).await?;
            match stores.dead_letters.get(None, &id).await? {
                Some(record) => {
                    let mut value = record.letter.to_json();
                    value["id"] = json!(record.id);
                    value["replayed_at"] = json!(record.replayed_at_ns.map(format_ns));
                    println!("{}", serde_json::to_string_pretty(&value)?);
                    Ok(0)
                }
                None => bail!("no dead letter {id}"),
            }
        }
        DlqCommand::Replay {
            ids,
            all,
            tenant,
            pipeline_version,
            server,
        } => {
            if ids.is_empty() && !all {
                bail!("name dead letters with --id, or pass --all");
            }
            let body = json!({ "ids": ids, "all": all, "tenant": tenant, "pipeline_version": pipeline_version });
            let answer = admin_post(config, server, "/v1/admin/dead-letters/replay", body).await?;
            println!("replayed {} dead letter(s)", answer["replayed"]);
            Ok(0)
        }
    }
}

/// `sluice pipeline …`.
pub async fn pipeline(config: &Config, command: PipelineCommand) -> anyhow::Result<i32> {
    match command {
        PipelineCommand::Rollback { tenant, server } => {
            let answer = admin_post(
                config,
                server,
                "/v1/admin/pipelines/rollback",
                json!({ "tenant": tenant }),
            )
            .await?;
            println!(
                "tenant {tenant} now runs pipeline {} version {} (restoring version {})",
                answer["serving"]["name"],
                answer["serving"]["version"],
                answer["serving"]["restores"]
            );
            Ok(0)
        }
    }
}

async fn admin_post(
    config: &Config,
    server: Option<String>,
    path: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let base = server.unwrap_or_else(|| format!("http://{}", config.listen));
    let token =
        std::fs::read_to_string(config.data_dir.join("admin.token")).with_context(|| {
            format!(
                "cannot read the admin token in {}; run this where the server's data directory is",
                config.data_dir.display()
            )
        })?;
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(token.trim())
        .json(&body)
        .send()
        .await
        .with_context(|| format!("cannot reach the server at {base}; is `sluice run` running?"))?;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!(
            "server answered {status}: {}",
            answer["error"]["message"].as_str().unwrap_or("no details")
        );
    }
    Ok(answer)
}
