//! Pipeline files: any text through the parser and its semantic checks.

use sluice_formats::pipeline::{MAX_STEP_MEMORY_MB, MAX_STEP_TIMEOUT_MS, parse};

/// Parse `text` as a pipeline file; errors must point inside the file, and
/// accepted files must be within every bound the loader relies on.
pub fn check(text: &str) {
    match parse("fuzz.toml", text) {
        Ok(spec) => {
            assert!(
                spec.pipeline.default || !spec.pipeline.tenant_names().is_empty(),
                "a pipeline serving nobody"
            );
            let mut names = std::collections::HashSet::new();
            for step in &spec.steps {
                assert!(names.insert(step.name()), "duplicate step name accepted");
                let limits = step.limits();
                assert!(limits.memory_bytes >= 1 << 20);
                assert!(limits.memory_bytes <= (MAX_STEP_MEMORY_MB as usize) << 20);
                assert!(!limits.deadline.is_zero());
                assert!(limits.deadline.as_millis() <= u128::from(MAX_STEP_TIMEOUT_MS));
                let config: serde_json::Value =
                    serde_json::from_str(&step.config_json()).expect("config as JSON");
                assert!(config.is_object());
            }
        }
        Err(error) => {
            let lines = text.split('\n').count();
            assert!(
                error.line >= 1 && error.line <= lines,
                "{error}: line outside the file"
            );
            assert!(error.column >= 1, "{error}: column 0");
            assert!(!error.field.is_empty() && !error.message.is_empty());
            let _ = error.to_string();
        }
    }
}
