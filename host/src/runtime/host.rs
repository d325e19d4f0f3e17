//! What a plugin instance can reach: a WASI context that grants nothing but
//! clocks and randomness, the `log` import, its memory limiter, and a tail of
//! its stderr (where a panic message lands).

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use parking_lot::Mutex;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::bindings::LogLevel;
use super::bindings::sluice::plugin::log;
use super::limits::{MAX_LOG_LINE_BYTES, MAX_LOG_LINES_PER_CALL, MemoryLimiter, STDERR_TAIL_BYTES};

/// Who a plugin's log lines are attributed to.
#[derive(Debug, Clone, Default)]
pub struct LogContext {
    /// Tenant the instance serves.
    pub tenant: String,
    /// Pipeline step the instance runs.
    pub step: String,
    /// `name@version` of the plugin.
    pub plugin: String,
}

/// Per-store host state.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) log: PluginLog,
    pub(crate) stderr: StderrTail,
}

impl HostState {
    /// A sandbox with no files, no network and no environment.
    pub(crate) fn new(memory_cap: usize, log: LogContext, capture_logs: bool) -> Self {
        let stderr = StderrTail::default();
        let mut wasi = WasiCtxBuilder::new();
        wasi.allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .stderr(stderr.clone());
        Self {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(memory_cap),
            log: PluginLog::new(log, capture_logs),
            stderr,
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// The `types` interface has no functions; the linker still wants its trait.
impl super::bindings::sluice::plugin::types::Host for HostState {}

impl log::Host for HostState {
    fn log(&mut self, level: LogLevel, message: String) {
        self.log.write(level, message);
    }
}

/// Rate-limited plugin logging, attributed to tenant, step and plugin.
pub(crate) struct PluginLog {
    context: LogContext,
    lines_this_call: u32,
    suppressed: u64,
    captured: Option<Vec<(LogLevel, String)>>,
}

impl PluginLog {
    fn new(context: LogContext, capture: bool) -> Self {
        Self {
            context,
            lines_this_call: 0,
            suppressed: 0,
            captured: capture.then(Vec::new),
        }
    }

    fn write(&mut self, level: LogLevel, mut message: String) {
        if self.lines_this_call >= MAX_LOG_LINES_PER_CALL {
            self.suppressed += 1;
            return;
        }
        self.lines_this_call += 1;
        if message.len() > MAX_LOG_LINE_BYTES {
            let mut cut = MAX_LOG_LINE_BYTES;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push('…');
        }
        let LogContext {
            tenant,
            step,
            plugin,
        } = &self.context;
        match level {
            LogLevel::Trace => tracing::trace!(%tenant, %step, %plugin, "{message}"),
            LogLevel::Debug => tracing::debug!(%tenant, %step, %plugin, "{message}"),
            LogLevel::Info => tracing::info!(%tenant, %step, %plugin, "{message}"),
            LogLevel::Warn => tracing::warn!(%tenant, %step, %plugin, "{message}"),
            LogLevel::Error => tracing::error!(%tenant, %step, %plugin, "{message}"),
        }
        if let Some(captured) = &mut self.captured {
            captured.push((level, message));
        }
    }

    /// Start a new call: report what the last one suppressed, reset the budget.
    pub(crate) fn begin_call(&mut self) {
        if self.suppressed > 0 {
            let LogContext {
                tenant,
                step,
                plugin,
            } = &self.context;
            tracing::warn!(%tenant, %step, %plugin, suppressed = self.suppressed, "plugin log lines suppressed by rate limit");
            metrics::counter!("sluice_plugin_log_lines_suppressed_total", "tenant" => tenant.clone(), "step" => step.clone())
                .increment(self.suppressed);
            self.suppressed = 0;
        }
        self.lines_this_call = 0;
    }

    /// Lines captured so far (only when capture was requested).
    pub(crate) fn take_captured(&mut self) -> Vec<(LogLevel, String)> {
        self.captured
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }
}

/// Keeps the last [`STDERR_TAIL_BYTES`] a plugin wrote to stderr and never
/// refuses a write (a refused write would turn a panic message into a
/// second panic).
#[derive(Clone, Default)]
pub(crate) struct StderrTail {
    buffer: Arc<Mutex<Vec<u8>>>,
}

impl StderrTail {
    fn push(&self, bytes: &[u8]) {
        let mut buffer = self.buffer.lock();
        buffer.extend_from_slice(bytes);
        if buffer.len() > STDERR_TAIL_BYTES {
            let excess = buffer.len() - STDERR_TAIL_BYTES;
            buffer.drain(..excess);
        }
    }

    /// Take what was written since the last call.
    pub(crate) fn take(&self) -> String {
        let bytes = std::mem::take(&mut *self.buffer.lock());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl IsTerminal for StderrTail {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for StderrTail {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for StderrTail {
    async fn ready(&mut self) {}
}

impl OutputStream for StderrTail {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 << 10)
    }
}

impl tokio::io::AsyncWrite for StderrTail {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stderr_tail_keeps_the_end() {
        let tail = StderrTail::default();
        tail.push(&vec![b'a'; STDERR_TAIL_BYTES]);
        tail.push(b"panicked at src/lib.rs");
        let text = tail.take();
        assert_eq!(text.len(), STDERR_TAIL_BYTES);
        assert!(text.ends_with("panicked at src/lib.rs"));
        assert!(tail.take().is_empty());
    }

    #[test]
    fn log_is_rate_limited_per_call() {
        let mut log = PluginLog::new(LogContext::default(), true);
        for i in 0..(MAX_LOG_LINES_PER_CALL + 10) {
            log.write(LogLevel::Info, format!("line {i}"));
        }
        assert_eq!(log.take_captured().len(), MAX_LOG_LINES_PER_CALL as usize);
        assert_eq!(log.suppressed, 10);
        log.begin_call();
        log.write(LogLevel::Info, "x".repeat(MAX_LOG_LINE_BYTES * 2));
        let lines = log.take_captured();
        assert_eq!(lines.len(), 1);
        assert!(lines[0].1.len() <= MAX_LOG_LINE_BYTES + '…'.len_utf8());
    }
}
