//! Config errors are load-time errors that name the key; defaults are the
//! documented constants.

use sluice_plugin_fingerprint::config::{
    DEFAULT_DEPTH, DEFAULT_MAX_CHILDREN, DEFAULT_MAX_TEMPLATES, DEFAULT_MAX_TOKENS,
    DEFAULT_MEMORY_MB, DEFAULT_SIMILARITY, DEFAULT_VARIABLE_AFTER,
};
use sluice_plugin_fingerprint::{Config, Fingerprint};
use sluice_plugin_sdk::testing::Harness;

fn error(toml: &str) -> String {
    match Harness::<Fingerprint>::new(toml) {
        Ok(_) => panic!("config accepted: {toml}"),
        Err(e) => e,
    }
}

#[test]
fn empty_and_full_configs_load() {
    assert!(Harness::<Fingerprint>::new("").is_ok());
    let full = r#"
        max_templates = 500
        memory_mb = 8
        similarity = 0.6
        variable_after = 4
        depth = 5
        max_children = 50
        max_tokens = 64
        masks = ['order-\d+']
    "#;
    assert!(Harness::<Fingerprint>::new(full).is_ok());
}

#[test]
fn defaults_are_the_documented_constants() {
    let c = Config::default();
    assert_eq!(c.max_templates, DEFAULT_MAX_TEMPLATES);
    assert_eq!(c.max_templates, 10_000);
    assert_eq!(c.memory_mb, DEFAULT_MEMORY_MB);
    assert_eq!(c.similarity, DEFAULT_SIMILARITY);
    assert_eq!(c.variable_after, DEFAULT_VARIABLE_AFTER);
    assert_eq!(c.depth, DEFAULT_DEPTH);
    assert_eq!(c.max_children, DEFAULT_MAX_CHILDREN);
    assert_eq!(c.max_tokens, DEFAULT_MAX_TOKENS);
    assert!(c.masks.is_empty());
    let parsed: Config = serde_json::from_str("{}").expect("empty config");
    assert_eq!(format!("{parsed:?}"), format!("{c:?}"));
}

#[test]
fn unknown_keys_are_named() {
    assert!(error("simlarity = 0.5").contains("unknown field `simlarity`"));
}

#[test]
fn wrong_types_name_the_key() {
    let e = error(r#"similarity = "high""#);
    assert!(e.contains("`similarity`"), "{e}");
}

#[test]
fn out_of_range_values_name_the_key_and_the_range() {
    assert_eq!(
        error("similarity = 1.5"),
        "`similarity` must be between 0 and 1, got 1.5"
    );
    assert_eq!(
        error("depth = 2"),
        "`depth` must be between 3 and 16, got 2"
    );
    assert_eq!(
        error("max_templates = 0"),
        "`max_templates` must be between 1 and 1000000, got 0"
    );
    assert_eq!(
        error("variable_after = 1"),
        "`variable_after` must be between 2 and 64, got 1"
    );
    assert_eq!(
        error("max_tokens = 1"),
        "`max_tokens` must be between 2 and 1024, got 1"
    );
    assert_eq!(
        error("max_children = 1"),
        "`max_children` must be between 2 and 10000, got 1"
    );
    assert_eq!(
        error("memory_mb = 0"),
        "`memory_mb` must be between 1 and 1024, got 0"
    );
}

#[test]
fn bad_masks_are_named_by_index() {
    let e = error(r#"masks = ["ok-\\d+", "(unclosed"]"#);
    assert!(e.starts_with("`masks[1]` is not a valid regex"), "{e}");
    assert_eq!(error(r#"masks = [""]"#), "`masks[0]` is empty");
    let many = (0..65)
        .map(|i| format!("\"m{i}\""))
        .collect::<Vec<_>>()
        .join(", ");
    assert_eq!(
        error(&format!("masks = [{many}]")),
        "`masks` holds 65 patterns; at most 64 are allowed"
    );
}
