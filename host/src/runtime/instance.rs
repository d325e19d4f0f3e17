//! One live plugin instance: a store of its own (memory, limiter, deadline)
//! serving exactly one (tenant, pipeline step). Every call is bounded in time
//! and memory, and every failure comes back as a typed [`Fault`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::{Store, Trap};

use super::bindings::{
    Alert, BatchResult, Event, InitContext, LogLevel, Plugin, PluginInfo, PluginPre,
};
use super::capacity::Slot;
use super::engine::{CompiledPlugin, PluginRuntime};
use super::error::{Fault, InitError};
use super::host::{HostState, LogContext};
use super::limits::{MAX_CALL_EVENTS, StepLimits, deadline_ticks};

/// A plugin instance with its own store.
pub struct PluginInstance {
    store: Store<HostState>,
    bindings: Plugin,
    plugin: Arc<CompiledPlugin>,
    deadline: Duration,
    deadline_ticks: u64,
    epoch_tick: Duration,
    /// Given back when the instance drops.
    _slot: Slot,
}

impl PluginInstance {
    /// Instantiate `plugin` for one tenant and step and run its `init` with
    /// the step's config (JSON text of its TOML table).
    pub fn start(
        runtime: &PluginRuntime,
        plugin: Arc<CompiledPlugin>,
        context: &InitContext,
        config_json: &str,
        limits: &StepLimits,
        capture_logs: bool,
    ) -> Result<Self, InitError> {
        let slot = runtime
            .slots()
            .acquire()
            .map_err(|error| InitError::Capacity {
                plugin: plugin.label(),
                error,
            })?;
        let log = LogContext {
            tenant: context.tenant.clone(),
            step: context.step.clone(),
            plugin: plugin.label(),
        };
        let mut store = new_store(
            runtime,
            HostState::new(limits.memory_bytes, log, capture_logs),
        );
        let deadline_ticks = runtime.ticks_for(limits.deadline);
        store.set_epoch_deadline(deadline_ticks);
        let bindings = plugin
            .pre
            .instantiate(&mut store)
            .map_err(|e| InitError::Instantiate {
                plugin: plugin.label(),
                message: format!("{e:#}"),
            })?;
        let mut instance = Self {
            store,
            bindings,
            plugin,
            deadline: limits.deadline,
            deadline_ticks,
            epoch_tick: runtime.epoch_tick(),
            _slot: slot,
        };
        let result = instance.call(|store, bindings| {
            bindings
                .sluice_plugin_handler()
                .call_init(store, config_json, context)
        });
        match result {
            Ok(Ok(())) => Ok(instance),
            Ok(Err(message)) => Err(InitError::Config {
                plugin: instance.plugin.label(),
                message,
            }),
            Err(fault) => Err(InitError::Fault {
                plugin: instance.plugin.label(),
                fault,
            }),
        }
    }

    /// Bytes of linear memory the instance holds (its high-water mark).
    pub fn memory_bytes(&self) -> usize {
        self.store.data().limiter.size()
    }

    /// The plugin this instance runs.
    pub fn plugin(&self) -> &Arc<CompiledPlugin> {
        &self.plugin
    }

    /// Process one batch within the time budget. A fault leaves the
    /// instance unusable: discard it and start a new one.
    pub fn process(&mut self, batch: &[Event]) -> Result<BatchResult, Fault> {
        self.process_within(batch, self.deadline)
    }

    /// Process one batch within `deadline` instead of the step's budget.
    ///
    /// The batch crosses in calls of at most [`MAX_CALL_EVENTS`] events,
    /// all within the one deadline: a plugin's linear memory never shrinks,
    /// so the largest call an instance ever served sets what it holds for
    /// the rest of its life.
    pub fn process_within(
        &mut self,
        batch: &[Event],
        deadline: Duration,
    ) -> Result<BatchResult, Fault> {
        if batch.len() <= MAX_CALL_EVENTS {
            return self.process_call(batch, self.runtime_ticks(deadline), deadline);
        }
        let started = Instant::now();
        let mut whole = BatchResult {
            outcomes: Vec::with_capacity(batch.len()),
            alerts: Vec::new(),
            merges: Vec::new(),
        };
        for part in batch.chunks(MAX_CALL_EVENTS) {
            let left = deadline
                .checked_sub(started.elapsed())
                .filter(|left| !left.is_zero())
                .ok_or(Fault::Timeout { deadline })?;
            let ticks = deadline_ticks(left, self.epoch_tick);
            let result = self.process_call(part, ticks, deadline)?;
            whole.outcomes.extend(result.outcomes);
            whole.alerts.extend(result.alerts);
            whole.merges.extend(result.merges);
        }
        Ok(whole)
    }

    /// One call into the plugin, `ticks` epochs from now at most.
    fn process_call(
        &mut self,
        batch: &[Event],
        ticks: u64,
        deadline: Duration,
    ) -> Result<BatchResult, Fault> {
        let packed = super::pack::pack(batch);
        let result = self.call_with(ticks, deadline, |store, bindings| {
            bindings
                .sluice_plugin_handler()
                .call_process(store, &packed)
        })?;
        super::pack::unpack_result_with(result, &mut super::spare::take)
            .map_err(|message| Fault::InvalidOutput { message })
    }

    /// Let the plugin close its windows at `now_ns`.
    pub fn tick(&mut self, now_ns: i64) -> Result<Vec<Alert>, Fault> {
        self.call(|store, bindings| bindings.sluice_plugin_handler().call_tick(store, now_ns))
    }

    /// Log lines captured since the last call (when capture was requested).
    pub fn take_logs(&mut self) -> Vec<(LogLevel, String)> {
        self.store.data_mut().log.take_captured()
    }

    fn runtime_ticks(&self, deadline: Duration) -> u64 {
        if deadline == self.deadline {
            self.deadline_ticks
        } else {
            deadline_ticks(deadline, self.epoch_tick)
        }
    }

    fn call<R>(
        &mut self,
        f: impl FnOnce(&mut Store<HostState>, &Plugin) -> wasmtime::Result<R>,
    ) -> Result<R, Fault> {
        self.call_with(self.deadline_ticks, self.deadline, f)
    }

    fn call_with<R>(
        &mut self,
        ticks: u64,
        deadline: Duration,
        f: impl FnOnce(&mut Store<HostState>, &Plugin) -> wasmtime::Result<R>,
    ) -> Result<R, Fault> {
        let state = self.store.data_mut();
        state.limiter.reset();
        state.log.begin_call();
        self.store.set_epoch_deadline(ticks);
        match f(&mut self.store, &self.bindings) {
            Ok(value) => {
                // Discard what stderr collected so a later trap reports only its own output.
                let _ = self.store.data().stderr.take();
                Ok(value)
            }
            Err(error) => Err(classify(error, self.store.data(), deadline)),
        }
    }
}

fn new_store(runtime: &PluginRuntime, state: HostState) -> Store<HostState> {
    let mut store = Store::new(runtime.engine(), state);
    store.limiter(|state| &mut state.limiter);
    store.epoch_deadline_trap();
    store
}

/// Turn a wasmtime error into the fault the operator needs to see.
fn classify(error: wasmtime::Error, state: &HostState, deadline: Duration) -> Fault {
    let stderr = state.stderr.take();
    let trap = error.downcast_ref::<Trap>().copied();
    if let Some(requested) = state.limiter.refused()
        && trap != Some(Trap::Interrupt)
    {
        return Fault::MemoryLimit {
            cap: state.limiter.cap(),
            requested,
        };
    }
    match trap {
        Some(Trap::Interrupt) => Fault::Timeout { deadline },
        Some(Trap::StackOverflow) => Fault::StackOverflow,
        Some(trap) => match panic_message(&stderr) {
            Some(message) => Fault::Panic { message },
            None => Fault::Trap {
                message: describe_trap(trap),
            },
        },
        None => match error.downcast_ref::<wasmtime_wasi::I32Exit>() {
            Some(exit) => Fault::Trap {
                message: format!("called exit({})", exit.0),
            },
            None => Fault::Trap {
                message: format!("{error:#}"),
            },
        },
    }
}

/// The trap in words an operator can act on. Rust plugins keep most of
/// their stack in linear memory, so overflowing it shows up as an
/// out-of-bounds access rather than as wasmtime's stack-overflow trap.
fn describe_trap(trap: Trap) -> String {
    match trap {
        Trap::MemoryOutOfBounds => {
            "out of bounds memory access (a stray pointer, or a stack overflow in the plugin's own stack)".to_owned()
        }
        Trap::UnreachableCodeReached => "aborted (wasm `unreachable` executed)".to_owned(),
        other => other.to_string(),
    }
}

/// Extract "message (at file:line:col)" from Rust's panic output.
fn panic_message(stderr: &str) -> Option<String> {
    let start = stderr.rfind("panicked at ")?;
    let rest = &stderr[start + "panicked at ".len()..];
    let (location, after) = rest.split_once('\n').unwrap_or((rest, ""));
    let location = location.trim_end_matches(':');
    let message: Vec<&str> = after
        .lines()
        .take_while(|line| !line.starts_with("note: "))
        .collect();
    let message = message.join("\n");
    let message = message.trim();
    Some(if message.is_empty() {
        format!("at {location}")
    } else {
        format!("{message} (at {location})")
    })
}

/// Ask a freshly linked plugin for its identity, in a throwaway store with
/// default limits.
pub(crate) fn read_info(
    runtime: &PluginRuntime,
    pre: &PluginPre<HostState>,
) -> Result<PluginInfo, String> {
    let limits = StepLimits::default();
    let mut store = new_store(
        runtime,
        HostState::new(limits.memory_bytes, LogContext::default(), false),
    );
    store.set_epoch_deadline(runtime.ticks_for(limits.deadline));
    let bindings = pre.instantiate(&mut store).map_err(|e| format!("{e:#}"))?;
    bindings
        .sluice_plugin_handler()
        .call_info(&mut store)
        .map_err(|e| classify(e, store.data(), limits.deadline).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panic_message_is_extracted_with_location() {
        let stderr = "\nthread '<unnamed>' panicked at src/lib.rs:12:9:\nboom on event 3\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(
            panic_message(stderr).as_deref(),
            Some("boom on event 3 (at src/lib.rs:12:9)")
        );
        assert_eq!(panic_message("nothing here"), None);
    }
}
