//! The step config as operators write it, its defaults and its limits. Every
//! check happens here, in `new`, so a bad value stops the pipeline from
//! loading instead of surprising anyone at run time.

use serde::Deserialize;
use sluice_plugin_sdk::ConfigError;

/// Default cap on templates held per tenant. A service fleet rarely prints
/// more than a few thousand distinct statements; the cap only bites on
/// pathological input (a variable the masker missed in the first tokens).
pub const DEFAULT_MAX_TEMPLATES: usize = 10_000;
/// Largest `max_templates`: bounds what one tenant's instance may hold.
pub const MAX_TEMPLATES_LIMIT: usize = 1_000_000;
/// Default share of a cluster's positions a line must equal to join it.
/// Chosen once on the ten Loghub systems together (see the README), never
/// per data set.
pub const DEFAULT_SIMILARITY: f64 = 0.5;
/// Default depth of the Drain prefix tree: the root, the token-count level,
/// then `depth - 2` levels keyed by the first tokens.
pub const DEFAULT_DEPTH: usize = 4;
/// Deepest tree allowed: deeper trees split on more leading tokens and stop
/// generalising anything near the start of a line.
pub const MAX_DEPTH: usize = 16;
/// Default distinct values a position must show before it is a variable:
/// two values (`startup`/`shutdown`) are kept apart, a third opens it.
pub const DEFAULT_VARIABLE_AFTER: usize = 3;
/// Largest `variable_after`.
pub const MAX_VARIABLE_AFTER: usize = 64;
/// Default children per tree node before new tokens share the `<*>` child.
pub const DEFAULT_MAX_CHILDREN: usize = 100;
/// Largest `max_children`: a node's child table is scanned by nobody, but it
/// is memory the tenant does not see.
pub const MAX_CHILDREN_LIMIT: usize = 10_000;
/// Default tokens of a line used for mining; the rest of a longer line is one
/// trailing `<*>`.
pub const DEFAULT_MAX_TOKENS: usize = 128;
/// Largest `max_tokens`: every token costs a comparison per candidate template.
pub const MAX_TOKENS_LIMIT: usize = 1_024;
/// Default memory budget for templates, in MiB. The default plugin memory cap
/// is 64 MiB; templates, their tree and the per-line buffers must fit in it.
pub const DEFAULT_MEMORY_MB: usize = 16;
/// Largest `memory_mb`.
pub const MAX_MEMORY_MB: usize = 1_024;
/// Most extra masking patterns.
pub const MAX_MASKS: usize = 64;

/// The step's config table. Every key is optional.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Most templates held at once (1–1,000,000). Beyond it the least recently
    /// used template is forgotten; if its lines come back they are mined
    /// again and, having the same template text, get the same fingerprint.
    #[serde(default = "default_max_templates")]
    pub max_templates: usize,
    /// Memory budget for templates in MiB (1–1024); the least recently used
    /// templates are forgotten when it is exceeded, whatever their number.
    #[serde(default = "default_memory_mb")]
    pub memory_mb: usize,
    /// Similarity threshold in 0–1: the share of a cluster's positions a
    /// line must equal (the cluster's token, or a value a position where
    /// lines differed has seen; `<*>` positions count as unequal, as in
    /// Drain) to join the cluster. Higher splits more; lower merges more.
    #[serde(default = "default_similarity")]
    pub similarity: f64,
    /// Distinct values (2–64) a position where lines of one cluster differ
    /// must show before it becomes `<*>`. Until then every value keeps its
    /// own template. 2 is plain Drain: the first difference generalises.
    #[serde(default = "default_variable_after")]
    pub variable_after: usize,
    /// Depth of the prefix tree (3–16), as Drain counts it: lines are routed
    /// by token count and then by their first `depth - 3` tokens.
    #[serde(default = "default_depth")]
    pub depth: usize,
    /// Children per tree node (2–10,000) before further tokens are routed to
    /// the node's `<*>` child.
    #[serde(default = "default_max_children")]
    pub max_children: usize,
    /// Tokens of a line used for mining (2–1024); longer lines keep their
    /// first `max_tokens - 1` tokens and end in one `<*>`.
    #[serde(default = "default_max_tokens")]
    pub max_tokens: usize,
    /// Extra masking patterns (Rust `regex` syntax), applied before the
    /// built-in masks: every match becomes `<*>`. They cost one combined
    /// regex pass per line, so the built-ins stay regex-free.
    #[serde(default)]
    pub masks: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            max_templates: DEFAULT_MAX_TEMPLATES,
            memory_mb: DEFAULT_MEMORY_MB,
            similarity: DEFAULT_SIMILARITY,
            variable_after: DEFAULT_VARIABLE_AFTER,
            depth: DEFAULT_DEPTH,
            max_children: DEFAULT_MAX_CHILDREN,
            max_tokens: DEFAULT_MAX_TOKENS,
            masks: Vec::new(),
        }
    }
}

fn default_max_templates() -> usize {
    DEFAULT_MAX_TEMPLATES
}
fn default_memory_mb() -> usize {
    DEFAULT_MEMORY_MB
}
fn default_similarity() -> f64 {
    DEFAULT_SIMILARITY
}
fn default_variable_after() -> usize {
    DEFAULT_VARIABLE_AFTER
}
fn default_depth() -> usize {
    DEFAULT_DEPTH
}
fn default_max_children() -> usize {
    DEFAULT_MAX_CHILDREN
}
fn default_max_tokens() -> usize {
    DEFAULT_MAX_TOKENS
}

impl Config {
    /// Check every value against its range, naming the key that is wrong.
    pub fn validate(&self) -> Result<(), ConfigError> {
        range("max_templates", self.max_templates, 1, MAX_TEMPLATES_LIMIT)?;
        range("memory_mb", self.memory_mb, 1, MAX_MEMORY_MB)?;
        range("depth", self.depth, 3, MAX_DEPTH)?;
        range("variable_after", self.variable_after, 2, MAX_VARIABLE_AFTER)?;
        range("max_children", self.max_children, 2, MAX_CHILDREN_LIMIT)?;
        range("max_tokens", self.max_tokens, 2, MAX_TOKENS_LIMIT)?;
        if !(0.0..=1.0).contains(&self.similarity) {
            return Err(ConfigError::msg(format!(
                "`similarity` must be between 0 and 1, got {}",
                self.similarity
            )));
        }
        if self.masks.len() > MAX_MASKS {
            return Err(ConfigError::msg(format!(
                "`masks` holds {} patterns; at most {MAX_MASKS} are allowed",
                self.masks.len()
            )));
        }
        Ok(())
    }
}

fn range(key: &str, value: usize, min: usize, max: usize) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::msg(format!(
            "`{key}` must be between {min} and {max}, got {value}"
        )))
    }
}
