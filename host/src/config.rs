//! `sluice.toml` and its `SLUICE_*` environment overrides.
//!
//! With no file at all Sluice runs its embedded default: HTTP on
//! 127.0.0.1:8080, an in-process queue, SQLite under `./data`. Production
//! switches adapters here (`queue.kind = "kafka"`, `log_store.kind =
//! "clickhouse"`, `database.kind = "postgres"`); the pipeline code is the
//! same in both modes.
//!
//! Environment overrides use `__` between levels:
//! `SLUICE_LISTEN=0.0.0.0:8080`, `SLUICE_QUEUE__KIND=kafka`,
//! `SLUICE_DATABASE__URL=postgres://…`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Default HTTP address: loopback only, so a first run exposes nothing.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// Largest request body, after decompression. Bounds memory per request.
pub const MAX_BODY_BYTES: usize = 16 << 20;

/// Most events one request may carry. Bounds the work one request queues.
pub const MAX_EVENTS_PER_REQUEST: usize = 20_000;

/// Longest single event (line or JSON object). Bounds one event's cost in
/// every plugin and store.
pub const MAX_LINE_BYTES: usize = 256 << 10;

/// Sustained events per second one tenant may send.
pub const TENANT_EVENTS_PER_SECOND: u32 = 500_000;

/// Events one tenant may send in a burst above its rate.
pub const TENANT_BURST_EVENTS: u32 = 1_000_000;

/// Everything configurable.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Address the HTTP API listens on.
    #[serde(default = "default_listen")]
    pub listen: SocketAddr,
    /// Where SQLite files, compiled plugins and pipeline versions are kept.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Where compiled plugins are cached (default: `cache` in the data directory).
    #[serde(default)]
    pub cache_dir: Option<PathBuf>,
    /// Directory of pipeline files.
    #[serde(default = "default_pipelines_dir")]
    pub pipelines_dir: PathBuf,
    /// Where plugins named by name are looked up, in order.
    #[serde(default = "default_plugin_dirs")]
    pub plugin_dirs: Vec<PathBuf>,
    /// The queue between ingest and the runner.
    #[serde(default)]
    pub queue: QueueConfig,
    /// Where processed events are stored.
    #[serde(default)]
    pub log_store: LogStoreConfig,
    /// Where tenants, keys, incidents and dead letters are stored.
    #[serde(default)]
    pub database: DatabaseConfig,
    /// Ingest limits.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// Runner settings.
    #[serde(default)]
    pub runner: RunnerConfig,
    /// On first start with no tenants, create tenant `dev` and print a key.
    #[serde(default = "yes")]
    pub dev_tenant: bool,
}

/// The queue adapter.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum QueueConfig {
    /// In-process, bounded; events do not survive a crash.
    Memory {
        /// Most events accepted and not yet stored.
        #[serde(default = "default_memory_capacity")]
        capacity_events: u64,
    },
    /// Apache Kafka protocol.
    Kafka(KafkaConfig),
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig::Memory {
            capacity_events: default_memory_capacity(),
        }
    }
}

/// Kafka settings.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KafkaConfig {
    /// Bootstrap servers, `host:port,…`.
    #[serde(default = "default_brokers")]
    pub brokers: String,
    /// Topic of accepted events.
    #[serde(default = "default_topic")]
    pub topic: String,
    /// Topic of dead letters.
    #[serde(default = "default_dlq_topic")]
    pub dlq_topic: String,
    /// Consumer group shared by every `sluice` process.
    #[serde(default = "default_group")]
    pub group: String,
    /// Partitions when Sluice creates the topics.
    #[serde(default = "default_partitions")]
    pub partitions: i32,
    /// Most events accepted and not yet stored in this process (ingest
    /// answers 503 past it).
    #[serde(default = "default_memory_capacity")]
    pub capacity_events: u64,
    /// Longest, in milliseconds, a fetch waits at the broker while nothing
    /// new has arrived. Kafka answers a waiting fetch as soon as events
    /// arrive, so there this only sets how often an idle consumer asks; a
    /// broker that waits out the full time (tansu's memory storage does)
    /// holds the first events after every pause this long. librdkafka's
    /// default, 500 ms, was most of the production benchmark's run.
    #[serde(default = "default_fetch_wait_ms")]
    pub fetch_wait_ms: u32,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: default_brokers(),
            topic: default_topic(),
            dlq_topic: default_dlq_topic(),
            group: default_group(),
            partitions: default_partitions(),
            capacity_events: default_memory_capacity(),
            fetch_wait_ms: default_fetch_wait_ms(),
        }
    }
}

/// The log store adapter.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum LogStoreConfig {
    /// `logs.db` under the data directory.
    #[default]
    Sqlite,
    /// ClickHouse over HTTP.
    Clickhouse {
        /// `http://host:8123`.
        url: String,
        /// Database name.
        #[serde(default = "default_clickhouse_database")]
        database: String,
    },
    /// Store nothing (benchmarks, signal-only deployments).
    Discard,
}

/// The database for tenants, keys, incidents and dead letters.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum DatabaseConfig {
    /// `sluice.db` under the data directory.
    #[default]
    Sqlite,
    /// PostgreSQL.
    Postgres {
        /// `postgres://user:password@host:5432/db`.
        url: String,
    },
}

/// Ingest limits; each rejection is a 4xx naming the limit.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest body, after decompression.
    #[serde(default = "default_max_body")]
    pub max_body_bytes: usize,
    /// Most events per request.
    #[serde(default = "default_max_events")]
    pub max_events_per_request: usize,
    /// Longest event.
    #[serde(default = "default_max_line")]
    pub max_line_bytes: usize,
    /// Sustained events per second per tenant.
    #[serde(default = "default_rate")]
    pub tenant_events_per_second: u32,
    /// Burst per tenant.
    #[serde(default = "default_burst")]
    pub tenant_burst_events: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: MAX_BODY_BYTES,
            max_events_per_request: MAX_EVENTS_PER_REQUEST,
            max_line_bytes: MAX_LINE_BYTES,
            tenant_events_per_second: TENANT_EVENTS_PER_SECOND,
            tenant_burst_events: TENANT_BURST_EVENTS,
        }
    }
}

/// Runner settings.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RunnerConfig {
    /// Worker threads (default: one per core).
    #[serde(default)]
    pub workers: Option<usize>,
    /// Most events per batch.
    #[serde(default = "default_batch")]
    pub batch_events: usize,
    /// Milliseconds between plugin ticks.
    #[serde(default = "default_tick_ms")]
    pub tick_ms: u64,
    /// Seconds between retention passes (pipelines' `retention_days`).
    #[serde(default = "default_retention_interval_s")]
    pub retention_interval_s: u64,
    /// Most plugin instances (four per tenant on a four-step chain) the
    /// process holds at once. Default: what `vm.max_map_count` leaves room
    /// for; a tenant whose chain would exceed it gets dead letters naming
    /// this limit, and every other tenant goes on.
    #[serde(default)]
    pub max_plugin_instances: Option<usize>,
    /// `dense` (default: tens of thousands of instances per process) or
    /// `fast` (no bounds checks in plugin code, at most about 7,500 tenants).
    #[serde(default)]
    pub plugin_memory: crate::runtime::MemoryLayout,
    /// Whether one tenant's large batches may run on two threads, the
    /// chain's steps cut where their costs balance (default: yes), so that
    /// one busy tenant is not bound to one core.
    #[serde(default = "default_split_chains")]
    pub split_chains: bool,
    /// Events a store write gathers while batches come in full (the queue
    /// has a backlog): a store's cost per write (a ClickHouse part is about
    /// fifty files) dwarfs its cost per event.
    #[serde(default = "default_write_events")]
    pub write_events: usize,
    /// Longest a write waits to gather `write_events` (0: never waits).
    /// Without a backlog a batch is written at once whatever this says.
    #[serde(default = "default_write_linger_ms")]
    pub write_linger_ms: u64,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        Self {
            workers: None,
            batch_events: default_batch(),
            tick_ms: default_tick_ms(),
            retention_interval_s: default_retention_interval_s(),
            max_plugin_instances: None,
            plugin_memory: crate::runtime::MemoryLayout::Dense,
            split_chains: default_split_chains(),
            write_events: default_write_events(),
            write_linger_ms: default_write_linger_ms(),
        }
    }
}

impl Config {
    /// Defaults, then `path` if it exists (or must exist when given
    /// explicitly), then `SLUICE_*` variables.
    pub fn load(path: Option<&Path>) -> Result<Self, String> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match path {
            Some(path) if !path.exists() => {
                return Err(format!("config file {} does not exist", path.display()));
            }
            Some(path) => figment = figment.merge(Toml::file(path)),
            None if Path::new("sluice.toml").exists() => {
                figment = figment.merge(Toml::file("sluice.toml"));
            }
            None => {}
        }
        // `SLUICE_TEST_*` and `SLUICE_SERVICES_*` belong to the test harness
        // (`scripts/services.sh`), not to the server's configuration.
        let env = Env::prefixed("SLUICE_")
            .filter(|key| {
                let key = key.as_str().to_ascii_lowercase();
                !key.starts_with("test_") && !key.starts_with("services_")
            })
            .split("__");
        figment = figment.merge(env);
        figment.extract().map_err(|error| {
            let mut text = String::new();
            for e in error {
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&e.to_string());
            }
            text
        })
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            data_dir: default_data_dir(),
            cache_dir: None,
            pipelines_dir: default_pipelines_dir(),
            plugin_dirs: default_plugin_dirs(),
            queue: QueueConfig::default(),
            log_store: LogStoreConfig::default(),
            database: DatabaseConfig::default(),
            limits: LimitsConfig::default(),
            runner: RunnerConfig::default(),
            dev_tenant: true,
        }
    }
}

fn yes() -> bool {
    true
}
fn default_listen() -> SocketAddr {
    DEFAULT_LISTEN
        .parse()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080)))
}
fn default_data_dir() -> PathBuf {
    PathBuf::from("data")
}
fn default_pipelines_dir() -> PathBuf {
    PathBuf::from("pipelines")
}
fn default_plugin_dirs() -> Vec<PathBuf> {
    vec![PathBuf::from("target/plugins"), PathBuf::from("plugins")]
}
fn default_memory_capacity() -> u64 {
    crate::queue::memory::MEMORY_QUEUE_EVENTS
}
fn default_fetch_wait_ms() -> u32 {
    10
}
fn default_brokers() -> String {
    "127.0.0.1:9092".into()
}
fn default_topic() -> String {
    "sluice.raw".into()
}
fn default_dlq_topic() -> String {
    "sluice.dlq".into()
}
fn default_group() -> String {
    "sluice".into()
}
fn default_partitions() -> i32 {
    8
}
fn default_clickhouse_database() -> String {
    "sluice".into()
}
fn default_max_body() -> usize {
    MAX_BODY_BYTES
}
fn default_max_events() -> usize {
    MAX_EVENTS_PER_REQUEST
}
fn default_max_line() -> usize {
    MAX_LINE_BYTES
}
fn default_rate() -> u32 {
    TENANT_EVENTS_PER_SECOND
}
fn default_burst() -> u32 {
    TENANT_BURST_EVENTS
}
fn default_split_chains() -> bool {
    true
}

fn default_write_events() -> usize {
    crate::runner::WriteGathering::default().events
}

fn default_write_linger_ms() -> u64 {
    crate::runner::WriteGathering::default().linger.as_millis() as u64
}

fn default_batch() -> usize {
    crate::runner::BATCH_EVENTS
}
fn default_tick_ms() -> u64 {
    1000
}

fn default_retention_interval_s() -> u64 {
    3600
}

#[cfg(test)]
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;

    #[test]
    fn no_file_is_the_embedded_default() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("SLUICE_TEST_POSTGRES_URL", "postgres://test-harness-only");
            jail.set_env("SLUICE_SERVICES_STATE", "/tmp/test-harness-only");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config, Config::default());
            assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
            assert!(matches!(config.queue, QueueConfig::Memory { .. }));
            Ok(())
        });
    }

    #[test]
    fn file_and_environment_choose_adapters() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "sluice.toml",
                "listen = \"0.0.0.0:9000\"\n[queue]\nkind = \"kafka\"\ntopic = \"raw\"\n[log_store]\nkind = \"clickhouse\"\nurl = \"http://ch:8123\"\n",
            )?;
            jail.set_env("SLUICE_DATABASE__KIND", "postgres");
            jail.set_env("SLUICE_DATABASE__URL", "postgres://u:p@db/sluice");
            jail.set_env("SLUICE_LIMITS__MAX_EVENTS_PER_REQUEST", "10");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.listen.port(), 9000);
            let QueueConfig::Kafka(kafka) = &config.queue else {
                panic!("{:?}", config.queue)
            };
            assert_eq!(
                (kafka.topic.as_str(), kafka.brokers.as_str()),
                ("raw", "127.0.0.1:9092")
            );
            // Not librdkafka's 500 ms: tansu holds a waiting fetch that long.
            assert_eq!(kafka.fetch_wait_ms, 10);
            assert_eq!(
                *kafka,
                KafkaConfig {
                    topic: "raw".into(),
                    ..KafkaConfig::default()
                },
                "the file's omitted keys and `KafkaConfig::default` agree"
            );
            assert!(matches!(
                config.log_store,
                LogStoreConfig::Clickhouse { .. }
            ));
            assert_eq!(
                config.database,
                DatabaseConfig::Postgres {
                    url: "postgres://u:p@db/sluice".into()
                }
            );
            assert_eq!(config.limits.max_events_per_request, 10);
            assert_eq!(
                (config.runner.write_events, config.runner.write_linger_ms),
                (16_384, 250),
                "a busy store gets writes of up to 16,384 events, gathered for at most 250 ms"
            );
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_key() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("sluice.toml", "[limits]\nmax_bodee_bytes = 5\n")?;
            let error = Config::load(None).unwrap_err();
            assert!(error.contains("max_bodee_bytes"), "{error}");
            Ok(())
        });
    }
}
