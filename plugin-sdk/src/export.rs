//! The adapter between a [`Plugin`] and the batch contract. The wasm export
//! and the native test harness both drive a plugin through [`Instance`], so a
//! unit test exercises exactly the code path the host calls.

use crate::{
    Alert, BatchResult, ConfigError, Event, InitContext, Outcome, Output, Plugin, PluginInfo,
};

/// One plugin instance: nothing until `init`, then the built plugin.
pub struct Instance<P> {
    plugin: Option<P>,
}

impl<P: Plugin> Default for Instance<P> {
    fn default() -> Self {
        Self { plugin: None }
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

    /// Run one batch: one outcome per event, in order. An error from the
    /// plugin fails only its own event.
    pub fn process(&mut self, batch: Vec<Event>) -> BatchResult {
        let mut out = Output::default();
        let outcomes = match self.plugin.as_mut() {
            Some(plugin) => batch
                .into_iter()
                .map(|event| match plugin.process(event, &mut out) {
                    Ok(outcome) => outcome,
                    Err(error) => Outcome::Fail(error.to_string()),
                })
                .collect(),
            None => batch
                .iter()
                .map(|_| Outcome::Fail("plugin used before init".to_owned()))
                .collect(),
        };
        BatchResult {
            outcomes,
            alerts: out.alerts,
            merges: out.merges,
        }
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
    use crate::{Attribute, BatchResult, Event, Level, Outcome, Value};

    sluice_batch_codec::batch_codec!();
}

/// Every event of a batch that could not be read fails with `why`.
pub fn fail_all(count: u32, why: &str) -> BatchResult {
    BatchResult {
        outcomes: (0..count).map(|_| Outcome::Fail(why.to_owned())).collect(),
        alerts: Vec::new(),
        merges: Vec::new(),
    }
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
                    let result = match $crate::__private::unpack(&batch) {
                        ::std::result::Result::Ok(events) => INSTANCE.with(|i| i.borrow_mut().process(events)),
                        ::std::result::Result::Err(why) => $crate::__private::fail_all(batch.count, &why),
                    };
                    $crate::__private::pack_result(result)
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
    use crate::NoConfig;

    struct Upper;

    impl Plugin for Upper {
        type Config = NoConfig;
        fn new(_: NoConfig, _: &InitContext) -> Result<Self, ConfigError> {
            Ok(Upper)
        }
        fn process(
            &mut self,
            mut event: Event,
            _: &mut Output,
        ) -> Result<Outcome, crate::PluginError> {
            if event.message.is_empty() {
                return Err(crate::PluginError::msg("empty message"));
            }
            event.message = event.message.to_uppercase();
            Ok(Outcome::Keep(event))
        }
    }

    fn context() -> InitContext {
        InitContext {
            tenant: "t".into(),
            pipeline: "p".into(),
            step: "s".into(),
        }
    }

    #[test]
    fn one_failing_event_does_not_sink_the_batch() {
        let mut instance = Instance::<Upper>::default();
        instance.init("{}", &context()).unwrap();
        let result = instance.process(vec![Event::new("a"), Event::new(""), Event::new("c")]);
        assert_eq!(result.outcomes.len(), 3);
        assert!(matches!(&result.outcomes[0], Outcome::Keep(e) if e.message == "A"));
        assert_eq!(result.outcomes[1], Outcome::Fail("empty message".into()));
        assert!(matches!(&result.outcomes[2], Outcome::Keep(e) if e.message == "C"));
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
        let result = instance.process(vec![Event::new("a"), Event::new("b")]);
        assert!(
            result
                .outcomes
                .iter()
                .all(|o| matches!(o, Outcome::Fail(_)))
        );
    }
}
