//! A real Sluice started in-process on a free port, with its own data
//! directory, for end-to-end tests over real HTTP.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use sluice::config::Config;
use sluice::runner::sinks::Tap;
use sluice::server::{self, RunningServer};

use crate::root;

/// A running server and a client for it.
pub struct TestServer {
    /// The server.
    pub server: RunningServer,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The development tenant's key.
    pub key: String,
    /// HTTP client.
    pub http: reqwest::Client,
    /// Keeps the data directory alive.
    pub data: tempfile::TempDir,
}

/// A config for tests: free port, temporary data, the repository's built
/// plugins, a compile cache shared by every test run.
pub fn test_config(data: &Path, pipelines: &Path) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("address"),
        data_dir: data.to_owned(),
        cache_dir: Some(root().join("target/test-cache")),
        pipelines_dir: pipelines.to_owned(),
        plugin_dirs: vec![plugin_dir(), plugin_dir().join("fixtures")],
        ..Config::default()
    }
}

/// Where `cargo xtask plugins` put the components.
pub fn plugin_dir() -> PathBuf {
    std::env::var_os("SLUICE_TEST_PLUGIN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/plugins"))
}

impl TestServer {
    /// Start with the repository's `pipelines/`.
    pub async fn start() -> Self {
        Self::start_with(|_| {}, Vec::new()).await
    }

    /// Start with a modified config and taps.
    pub async fn start_with(adjust: impl FnOnce(&mut Config), taps: Vec<Arc<dyn Tap>>) -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let mut config = test_config(data.path(), &root().join("pipelines"));
        adjust(&mut config);
        let server = server::start_with_taps(config, taps)
            .await
            .expect("sluice starts");
        let key = server
            .first_key
            .as_ref()
            .expect("first start creates a key")
            .key
            .clone();
        Self::running(server, key, data)
    }

    /// Start with a config made for the data directory, authenticating
    /// with a key created beforehand (stores shared between runs have no
    /// first-start key).
    pub async fn start_config(
        config: impl FnOnce(&Path) -> Config,
        key: String,
        taps: Vec<Arc<dyn Tap>>,
    ) -> Self {
        let data = tempfile::tempdir().expect("temp dir");
        let config = config(data.path());
        let server = server::start_with_taps(config, taps)
            .await
            .expect("sluice starts");
        Self::running(server, key, data)
    }

    fn running(server: RunningServer, key: String, data: tempfile::TempDir) -> Self {
        Self {
            url: format!("http://{}", server.addr),
            key,
            http: reqwest::Client::new(),
            server,
            data,
        }
    }

    /// POST a body with a content type, authenticated with `key`.
    pub async fn post(
        &self,
        path: &str,
        key: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(key)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// GET, authenticated with `key`.
    pub async fn get(&self, path: &str, key: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(key)
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The Prometheus exposition at `/metrics`, as text.
    pub async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.url))
            .send()
            .await
            .expect("request")
            .text()
            .await
            .expect("metrics text")
    }

    /// Every stored event of the key's tenant matching `query`, all pages.
    pub async fn all_logs(&self, key: &str, query: &str) -> Vec<Value> {
        let mut events = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = format!("/v1/logs?limit=1000{query}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let (status, page) = self.get(&path, key).await;
            assert_eq!(status, 200, "{page}");
            events.extend(page["events"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return events,
            }
        }
    }

    /// Wait until the tenant has at least `count` stored events.
    pub async fn wait_for_logs(&self, key: &str, count: usize, within: Duration) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let events = self.all_logs(key, "").await;
            if events.len() >= count || started.elapsed() > within {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Create a tenant and a key for it directly in the store.
    pub async fn tenant(&self, name: &str) -> String {
        let tenants = &self.server.state.tenants;
        tenants.create_tenant(name, 0).await.expect("tenant");
        tenants.create_key(name, "test", 0).await.expect("key").1
    }
}
