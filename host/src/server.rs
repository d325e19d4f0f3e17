//! Assembling and running the whole service: stores, plugin runtime,
//! pipelines and their watcher, queue, runner, HTTP API.
//!
//! Shutdown order matters for not losing events: stop accepting requests,
//! close the queue, let the workers drain it (every batch stored and
//! acknowledged), then exit.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::Context;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::sync::oneshot;

use crate::api::{self, AppState};
use crate::config::{Config, QueueConfig};
use crate::ingest::rate::TenantRates;
use crate::pipeline::registry::{Registry, now_ns};
use crate::pipeline::{PluginDirs, reload};
use crate::queue::memory::memory_queue;
use crate::queue::{Closer, Consumer, Producer};
use crate::runner::{Runner, RunnerOptions, Sinks};
use crate::runtime::{PluginRuntime, RuntimeOptions};
use crate::store::{self, Stores};

/// The tenant created on a first start, with its key (shown once).
#[derive(Debug, Clone)]
pub struct FirstKey {
    /// Tenant name.
    pub tenant: String,
    /// The key's plaintext.
    pub key: String,
}

/// A running Sluice.
pub struct RunningServer {
    /// Where the API listens.
    pub addr: SocketAddr,
    /// Set on a first start: the development tenant's key.
    pub first_key: Option<FirstKey>,
    /// The shared state (tests use it to reach stores and the registry).
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    done: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Stop gracefully: no new requests, queue drained, everything stored.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.done.await.context("server task")?
    }

    /// Run until the process gets SIGINT or SIGTERM, then shut down.
    pub async fn run_until_signal(self) -> anyhow::Result<()> {
        wait_for_signal().await;
        tracing::info!("shutting down: draining the queue");
        self.shutdown().await
    }
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// The process-wide Prometheus recorder (installed once).
pub fn metrics_handle() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ])
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .clone()
}

/// The admin token in `data_dir/admin.token`, created (mode 0600) if missing.
pub fn admin_token(data_dir: &Path) -> anyhow::Result<String> {
    let path = data_dir.join("admin.token");
    if let Ok(token) = std::fs::read_to_string(&path) {
        return Ok(token.trim().to_owned());
    }
    let token = format!(
        "sla_{}",
        crate::store::keys::generate().1.trim_start_matches("slk_")
    );
    std::fs::write(&path, &token).with_context(|| format!("cannot write {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(token)
}

/// Start everything; returns once the API listens.
pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    start_with_taps(config, Vec::new()).await
}

/// Like [`start`], with observers of every processed batch (tests, live tail).
pub async fn start_with_taps(
    config: Config,
    taps: Vec<Arc<dyn crate::runner::sinks::Tap>>,
) -> anyhow::Result<RunningServer> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    let metrics = metrics_handle();
    let stores = store::open(&config)
        .await
        .context("cannot open the stores")?;
    let first_key = if config.dev_tenant {
        bootstrap(&stores).await?
    } else {
        None
    };
    let admin_token: Arc<str> = admin_token(&config.data_dir)?.into();

    let runtime = Arc::new(PluginRuntime::new(RuntimeOptions {
        cache_dir: Some(
            config
                .cache_dir
                .clone()
                .unwrap_or_else(|| config.data_dir.join("cache")),
        ),
        max_instances: config.runner.max_plugin_instances,
        memory_layout: config.runner.plugin_memory,
        ..RuntimeOptions::default()
    })?);
    let registry = Arc::new(Registry::new(
        runtime.clone(),
        config.pipelines_dir.clone(),
        PluginDirs(config.plugin_dirs.clone()),
        Some(config.data_dir.join("pipelines.json")),
    ));
    let report = registry.reload();
    for error in &report.errors {
        tracing::error!(%error, "pipeline not loaded");
    }
    for (name, version) in &report.published {
        tracing::info!(pipeline = %name, version, "pipeline loaded");
    }
    if report.published.is_empty() {
        tracing::warn!(dir = %config.pipelines_dir.display(), "no pipeline loaded: events will be dead-lettered until one is");
    }
    let watcher =
        reload::watch(registry.clone(), |_| {}).context("cannot watch the pipeline directory")?;

    let options = RunnerOptions {
        workers: config
            .runner
            .workers
            .unwrap_or(RunnerOptions::default().workers)
            .max(1),
        batch_events: config.runner.batch_events.max(1),
        tick: std::time::Duration::from_millis(config.runner.tick_ms.max(10)),
        split_chains: config.runner.split_chains,
        gathering: crate::runner::WriteGathering {
            events: config.runner.write_events,
            linger: std::time::Duration::from_millis(config.runner.write_linger_ms),
        },
        ..RunnerOptions::default()
    };
    let backpressure = Arc::new(crate::queue::Backpressure::default());
    let mut dead_letters = stores.dead_letters.clone();
    let (producer, consumers, close): (Arc<dyn Producer>, Vec<Box<dyn Consumer>>, Closer) =
        match &config.queue {
            QueueConfig::Memory { capacity_events } => {
                let (producer, consumers) = memory_queue(options.workers, *capacity_events);
                let closer = producer.clone();
                (
                    producer,
                    consumers
                        .into_iter()
                        .map(|c| Box::new(c) as Box<dyn Consumer>)
                        .collect(),
                    Box::new(move || closer.close()),
                )
            }
            QueueConfig::Kafka(kafka) => {
                let queue = crate::queue::kafka::connect(
                    kafka,
                    options.workers,
                    options.batch_events,
                    stores.dead_letters.clone(),
                    backpressure.clone(),
                )
                .await
                .map_err(anyhow::Error::msg)?;
                dead_letters = queue.dead_letters;
                (queue.producer, queue.consumers, queue.close)
            }
        };

    let tail = Arc::new(crate::api::tail::TailHub::default());
    let mut taps = taps;
    taps.push(tail.clone());
    let sinks = Arc::new(Sinks {
        logs: stores.logs.clone(),
        incidents: stores.incidents.clone(),
        dead_letters: dead_letters.clone(),
        taps,
        signals: stores.signals.clone(),
        incident_listeners: vec![crate::notify::Notifier::start(registry.clone())],
        backpressure: backpressure.clone(),
    });
    let runner = Runner::start(
        &options,
        runtime.clone(),
        registry.clone(),
        consumers,
        sinks.clone(),
        tokio::runtime::Handle::current(),
    )?;

    let retention = store::retention::spawn(
        registry.clone(),
        stores.tenants.clone(),
        stores.logs.clone(),
        std::time::Duration::from_secs(config.runner.retention_interval_s.max(1)),
    );

    let state = AppState {
        tenants: stores.tenants.clone(),
        logs: stores.logs.clone(),
        incidents: stores.incidents.clone(),
        dead_letters,
        producer,
        registry,
        runtime,
        sinks,
        limits: config.limits.clone(),
        rate: Arc::new(TenantRates::new(
            config.limits.tenant_events_per_second,
            config.limits.tenant_burst_events,
        )),
        admin_token,
        metrics,
        tail,
        signals: stores.signals.clone(),
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let (shutdown, shutdown_rx) = oneshot::channel::<()>();
    let app = api::app(state.clone());
    let done = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = shutdown_rx.await;
            })
            .await
            .context("HTTP server")?;
        retention.abort();
        // No more requests: close the queue and let the workers drain it.
        close();
        tokio::task::spawn_blocking(move || runner.join())
            .await
            .context("runner")?;
        drop(watcher);
        tracing::info!("stopped: every accepted event was processed");
        Ok(())
    });
    Ok(RunningServer {
        addr,
        first_key,
        state,
        shutdown: Some(shutdown),
        done,
    })
}

/// On a first start (no tenants at all), create tenant `dev` and a key.
async fn bootstrap(stores: &Stores) -> anyhow::Result<Option<FirstKey>> {
    if !stores.tenants.list_tenants().await?.is_empty() {
        return Ok(None);
    }
    let now = now_ns();
    stores.tenants.create_tenant("dev", now).await?;
    let (_, key) = stores
        .tenants
        .create_key("dev", "created on first start", now)
        .await?;
    Ok(Some(FirstKey {
        tenant: "dev".into(),
        key,
    }))
}

/// Where `sluice run` looks for its config when not told.
pub fn default_config_path() -> Option<PathBuf> {
    let path = PathBuf::from("sluice.toml");
    path.exists().then_some(path)
}
