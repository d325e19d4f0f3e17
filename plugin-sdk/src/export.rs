//! The adapter between a [`Plugin`] and the batch contract. The wasm export
//! and the native test harness both drive a plugin through [`Instance`] (the
//! export through `process_packed`, the harness through `process`, tested to
//! answer alike), so a unit test exercises the code path the host calls.

use crate::bindings::sluice::plugin::types::{PackedEvents, PackedResult};
use crate::{
    Alert, BatchResult, ConfigError, Event, InitContext, Outcome, Output, Plugin, PluginInfo,
    Verdict,
};

/// Strings longer than this are not kept for the next event, so that one
/// huge event does not pin its memory in the instance for good.
const MAX_REUSED_TEXT: usize = 64 * 1024;

/// One plugin instance: nothing until `init`, then the built plugin.
pub struct Instance<P> {
    plugin: Option<P>,
    /// The event every event of a packed batch is read into, in turn.
    scratch: Event,
}

impl<P: Plugin> Default for Instance<P> {
    fn default() -> Self {
        Self {
            plugin: None,
            scratch: codec::blank_event(),
        }
    }
}

impl<P: Plugin> Instance<P> {
    /// Identity of the plugin crate `name`@`version`, built with this SDK.
    pub fn info(name: &str, version: &str) -> PluginInfo {
        PluginInfo {
            name: name.to_owned(),
            version: version.to_owned(),
            sdk_version: crate::SDK_VERSION.to_owned(),
        }
    }

    /// Parse the step's config (JSON text of its TOML table) and build the
    /// plugin. Errors name the offending setting by its path.
    pub fn init(&mut self, config: &str, context: &InitContext) -> Result<(), String> {
        let config = parse_config::<P::Config>(config)?;
        let plugin = P::new(config, context).map_err(|e: ConfigError| e.to_string())?;
        self.plugin = Some(plugin);
        Ok(())
    }

    /// Run one batch of owned events (the native path): one outcome per
    /// event, in order. An error from the plugin fails only its own event.
    ///
    /// In debug builds (unit tests) it panics when the plugin changed an
    /// event and answered [`Verdict::Unchanged`], a change the host would
    /// silently lose.
    pub fn process(&mut self, batch: Vec<Event>) -> BatchResult {
        let mut out = Output::default();
        let outcomes = match self.plugin.as_mut() {
            Some(plugin) => batch
                .into_iter()
                .map(|mut event| {
                    let before = cfg!(debug_assertions).then(|| event.clone());
                    match plugin.process(&mut event, &mut out) {
                        Ok(Verdict::Unchanged) => {
                            assert_unchanged(before.as_ref(), &event);
                            Outcome::Pass
                        }
                        Ok(Verdict::Changed) => Outcome::Keep(event),
                        Ok(Verdict::Drop) => Outcome::Drop,
                        Err(error) => Outcome::Fail(error.to_string()),
                    }
                })
                .collect(),
            None => return fail_all(batch.len(), NOT_READY),
        };
        BatchResult {
            outcomes,
            alerts: out.alerts,
            merges: out.merges,
        }
    }

    /// Run one packed batch as the host sends it (the component's path):
    /// every event is read into the same scratch event and only changed
    /// ones are packed back, so the plugin allocates nothing per event that
    /// it does not change.
    pub fn process_packed(&mut self, batch: &PackedEvents) -> PackedResult {
        let fail = |why: &str| codec::pack_result(fail_all(batch.count as usize, why));
        let Some(plugin) = self.plugin.as_mut() else {
            return fail(NOT_READY);
        };
        let mut reader = sluice_batch_codec::Reader::new(&batch.text, &batch.events);
        let mut result = codec::ResultWriter::with_capacity(batch.count as usize);
        let mut out = Output::default();
        let event = &mut self.scratch;
        for _ in 0..batch.count {
            if codec::read_event_into(&mut reader, event).is_none() {
                // The host packed this batch itself, so this is a host or
                // SDK bug; fail the whole batch rather than guess.
                return fail("malformed packed batch");
            }
            match plugin.process(event, &mut out) {
                Ok(Verdict::Unchanged) => result.pass(),
                Ok(Verdict::Changed) => result.keep(event),
                Ok(Verdict::Drop) => result.drop(),
                Err(error) => result.fail(error.to_string()),
            }
        }
        if !reader.is_done() {
            return fail("malformed packed batch: trailing bytes");
        }
        if largest_text(event) > MAX_REUSED_TEXT {
            *event = codec::blank_event();
        }
        result.finish(out.alerts, out.merges)
    }

    /// Let the plugin close windows at `now_ns`.
    pub fn tick(&mut self, now_ns: i64) -> Vec<Alert> {
        let mut out = Output::default();
        if let Some(plugin) = self.plugin.as_mut() {
            plugin.tick(now_ns, &mut out);
        }
        out.alerts
    }
}

/// The packed encoding for the SDK's generated types.
pub mod codec {
    use crate::bindings::sluice::plugin::types::{PackedEvents, PackedResult};
    use crate::{Alert, Attribute, BatchResult, Event, FingerprintMerge, Level, Outcome, Value};

    sluice_batch_codec::batch_codec!();
}

/// Every event of a batch that could not be processed fails with `why`.
fn fail_all(count: usize, why: &str) -> BatchResult {
    BatchResult {
        outcomes: (0..count).map(|_| Outcome::Fail(why.to_owned())).collect(),
        alerts: Vec::new(),
        merges: Vec::new(),
    }
}

const NOT_READY: &str = "plugin used before init";

/// Panic when a plugin answered `Unchanged` for an event it changed (only
/// when `before` was kept, in debug builds).
fn assert_unchanged(before: Option<&Event>, after: &Event) {
    if let Some(before) = before {
        assert!(
            before == after,
            "the plugin changed event {:?} (message {:?}) but answered Verdict::Unchanged, \
             so the host would drop the change: answer Verdict::Changed",
            before.id,
            before.message,
        );
    }
}

/// Capacity of the event's largest string buffer.
fn largest_text(event: &Event) -> usize {
    let optional = |s: &Option<String>| s.as_ref().map_or(0, String::capacity);
    let attributes = event.attributes.iter().map(|a| match &a.value {
        crate::Value::Text(s) | crate::Value::Json(s) => s.capacity(),
        _ => 0,
    });
    [
        event.message.capacity(),
        optional(&event.raw),
        optional(&event.template),
    ]
    .into_iter()
    .chain(attributes)
    .max()
    .unwrap_or(0)
}

/// Deserialise a step config, naming the path of a bad setting
/// (`detectors[2]: unknown variant ...`).
fn parse_config<C: serde::de::DeserializeOwned>(json: &str) -> Result<C, String> {
    let text = if json.trim().is_empty() { "{}" } else { json };
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            format!("invalid config: {}", e.inner())
        } else {
            format!("invalid config at `{path}`: {}", e.inner())
        }
    })
}

/// Export a [`Plugin`] implementation as this crate's Sluice component.
///
/// ```ignore
/// sluice_plugin_sdk::export_plugin!(MyPlugin);
/// ```
///
/// Only one plugin per crate: a component is one plugin. On native targets
/// the macro expands to nothing, so the crate still builds for `cargo test`.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[cfg(target_family = "wasm")]
        #[doc(hidden)]
        mod __sluice_export {
            use super::*;

            struct Export;

            ::std::thread_local! {
                static INSTANCE: ::std::cell::RefCell<$crate::__private::Instance<$plugin>> =
                    ::std::cell::RefCell::new(::std::default::Default::default());
            }

            impl $crate::__Guest for Export {
                fn info() -> $crate::PluginInfo {
                    $crate::__private::Instance::<$plugin>::info(
                        ::std::env!("CARGO_PKG_NAME"),
                        ::std::env!("CARGO_PKG_VERSION"),
                    )
                }

                fn init(
                    config: ::std::string::String,
                    context: $crate::InitContext,
                ) -> ::std::result::Result<(), ::std::string::String> {
                    INSTANCE.with(|i| i.borrow_mut().init(&config, &context))
                }

                fn process(batch: $crate::__private::PackedEvents) -> $crate::__private::PackedResult {
                    INSTANCE.with(|i| i.borrow_mut().process_packed(&batch))
                }

                fn tick(now_ns: i64) -> ::std::vec::Vec<$crate::Alert> {
                    INSTANCE.with(|i| i.borrow_mut().tick(now_ns))
                }
            }

            $crate::bindings::__export_plugin_bindings!(Export with_types_in $crate::bindings);
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Level, NoConfig, Value};

    struct Upper;

    impl Plugin for Upper {
        type Config = NoConfig;
        fn new(_: NoConfig, _: &InitContext) -> Result<Self, ConfigError> {
            Ok(Upper)
        }
        fn process(
            &mut self,
            event: &mut Event,
            _: &mut Output,
        ) -> Result<Verdict, crate::PluginError> {
            match event.message.as_str() {
                "" => Err(crate::PluginError::msg("empty message")),
                "drop" => Ok(Verdict::Drop),
                m if m.chars().all(|c| !c.is_lowercase()) => Ok(Verdict::Unchanged),
                _ => {
                    event.message = event.message.to_uppercase();
                    Ok(Verdict::Changed)
                }
            }
        }
    }

    fn context() -> InitContext {
        InitContext {
            tenant: "t".into(),
            pipeline: "p".into(),
            step: "s".into(),
        }
    }

    fn ready() -> Instance<Upper> {
        let mut instance = Instance::<Upper>::default();
        instance.init("{}", &context()).unwrap();
        instance
    }

    #[test]
    fn one_failing_event_does_not_sink_the_batch() {
        let result = ready().process(vec![Event::new("a"), Event::new(""), Event::new("c")]);
        assert_eq!(result.outcomes.len(), 3);
        assert!(matches!(&result.outcomes[0], Outcome::Keep(e) if e.message == "A"));
        assert_eq!(result.outcomes[1], Outcome::Fail("empty message".into()));
        assert!(matches!(&result.outcomes[2], Outcome::Keep(e) if e.message == "C"));
    }

    /// Events of different shapes one after another, so that reading each
    /// over the last one's leftovers would show.
    fn mixed_batch() -> Vec<Event> {
        let mut rich = Event::new("rich one")
            .with_service("api")
            .with_level(Level::Warn)
            .with_attr("user", "ada")
            .with_attr("count", 3i64)
            .with_attr("payload", Value::Json("[1]".into()));
        rich.id = "e1".into();
        rich.tenant = "acme".into();
        rich.raw = Some("raw text".into());
        rich.template = Some("rich <*>".into());
        rich.fingerprint = Some(7);
        rich.timestamp_ns = Some(5);
        let mut bare = Event::new("bare");
        bare.id = "e2".into();
        bare.tenant = "acme".into();
        let mut reshaped = Event::new("SHOUTED")
            .with_attr("user", 1i64)
            .with_attr("count", "three");
        reshaped.id = "e3".into();
        reshaped.tenant = "acme".into();
        let mut dropped = Event::new("drop").with_attr("x", true);
        dropped.id = "e4".into();
        vec![
            rich,
            bare,
            Event::new(""),
            reshaped,
            dropped,
            Event::new("last"),
        ]
    }

    #[test]
    fn the_packed_path_answers_what_the_native_path_answers() {
        let batch = mixed_batch();
        let native = ready().process(batch.clone());
        let packed = ready().process_packed(&codec::pack(&batch));
        assert_eq!(codec::unpack_result(packed).unwrap(), native);
        assert_eq!(
            native
                .outcomes
                .iter()
                .map(std::mem::discriminant)
                .collect::<Vec<_>>(),
            [
                Outcome::Keep(Event::new("")),
                Outcome::Keep(Event::new("")),
                Outcome::Fail(String::new()),
                Outcome::Pass,
                Outcome::Drop,
                Outcome::Keep(Event::new("")),
            ]
            .iter()
            .map(std::mem::discriminant)
            .collect::<Vec<_>>(),
        );
    }

    #[test]
    fn an_event_read_over_another_keeps_nothing_of_it() {
        let batch = mixed_batch();
        let mut instance = ready();
        // Twice, so the second round reads every event over the leftovers
        // of the batch's last one and of the others in turn.
        for _ in 0..2 {
            let result =
                codec::unpack_result(instance.process_packed(&codec::pack(&batch))).unwrap();
            let kept: Vec<&Event> = result
                .outcomes
                .iter()
                .filter_map(|o| match o {
                    Outcome::Keep(e) => Some(e),
                    _ => None,
                })
                .collect();
            let mut upper = batch[1].clone();
            upper.message = "BARE".into();
            assert_eq!(
                kept[1], &upper,
                "nothing of the rich event leaks into the bare one"
            );
            let mut rich = batch[0].clone();
            rich.message = "RICH ONE".into();
            assert_eq!(kept[0], &rich);
        }
    }

    #[test]
    fn a_huge_event_is_not_kept_in_the_scratch_event() {
        let mut instance = ready();
        let huge = Event::new("x".repeat(MAX_REUSED_TEXT * 4));
        instance.process_packed(&codec::pack(&[huge]));
        assert!(largest_text(&instance.scratch) <= MAX_REUSED_TEXT);
        instance.process_packed(&codec::pack(&[Event::new("small")]));
        assert!(instance.scratch.message.capacity() >= "small".len());
    }

    #[test]
    fn a_malformed_packed_batch_fails_every_event() {
        let mut packed = codec::pack(&[Event::new("a"), Event::new("b")]);
        packed.events.truncate(packed.events.len() - 3);
        let result = codec::unpack_result(ready().process_packed(&packed)).unwrap();
        assert_eq!(result.outcomes.len(), 2);
        assert!(
            result
                .outcomes
                .iter()
                .all(|o| matches!(o, Outcome::Fail(r) if r.starts_with("malformed")))
        );
    }

    struct Forgetful;

    impl Plugin for Forgetful {
        type Config = NoConfig;
        fn new(_: NoConfig, _: &InitContext) -> Result<Self, ConfigError> {
            Ok(Forgetful)
        }
        fn process(
            &mut self,
            event: &mut Event,
            _: &mut Output,
        ) -> Result<Verdict, crate::PluginError> {
            event.message.push('!');
            Ok(Verdict::Unchanged)
        }
    }

    #[test]
    #[should_panic(expected = "answered Verdict::Unchanged")]
    fn a_change_answered_as_unchanged_fails_the_unit_test() {
        let mut instance = Instance::<Forgetful>::default();
        instance.init("{}", &context()).unwrap();
        instance.process(vec![Event::new("a")]);
    }

    #[test]
    fn unknown_config_key_is_named() {
        let mut instance = Instance::<Upper>::default();
        let err = instance.init(r#"{"colour": 1}"#, &context()).unwrap_err();
        assert!(err.contains("unknown field `colour`"), "{err}");
    }

    #[test]
    fn config_error_names_nested_path() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Inner {
            limit: u32,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Outer {
            rules: Vec<Inner>,
        }
        let err =
            parse_config::<Outer>(r#"{"rules": [{"limit": 1}, {"limit": "x"}]}"#).unwrap_err();
        assert!(err.contains("rules[1].limit"), "{err}");
    }

    #[test]
    fn process_before_init_fails_every_event() {
        let mut instance = Instance::<Upper>::default();
        let batch = vec![Event::new("a"), Event::new("b")];
        let packed = codec::unpack_result(instance.process_packed(&codec::pack(&batch))).unwrap();
        let native = instance.process(batch);
        for result in [native, packed] {
            assert_eq!(result.outcomes.len(), 2);
            assert!(
                result
                    .outcomes
                    .iter()
                    .all(|o| matches!(o, Outcome::Fail(_)))
            );
        }
    }
}
