//! Sluice standard plugin `fingerprint`: groups lines printed by the same
//! statement under one template and a stable 64-bit fingerprint.
//!
//! Every event's `message` (normalize has already cut the header off) is
//! split at whitespace and its variables are masked in one hand-written pass
//! ([`tokenize`], [`mask`], [`date`]); the masked tokens are mined with Drain
//! ([`drain`]), whose clusters generalise lazily: a position where lines
//! differ becomes `<*>` only once it has shown `variable_after` values
//! ([`cluster`], [`pattern`]). The event leaves with `template` (variables
//! as `<*>`) and `fingerprint` = xxh3-64 with seed 0 of the template's UTF-8
//! text ([`fingerprint_of`]). When templates fold into a more general one,
//! each old fingerprint is reported with `out.merge(old, new, template)` so
//! the incident store can fold it into the new. [`score`] measures grouping
//! and parsing accuracy on the Loghub samples (native only).

pub mod cluster;
pub mod config;
pub mod date;
pub mod drain;
pub mod mask;
pub mod pattern;
#[cfg(not(target_family = "wasm"))]
pub mod score;
pub mod tokenize;

use regex::Regex;
use sluice_plugin_sdk::{
    ConfigError, Event, InitContext, Output, Plugin, PluginError, Verdict, export_plugin,
};

pub use cluster::Merge;
pub use config::Config;
use drain::{Drain, Params};
use tokenize::{Tokens, tokenize};

/// The fingerprint of a template text: xxh3-64, seed 0, of its UTF-8 bytes.
/// Nothing else goes into it, so one text has one fingerprint in every
/// process, after every restart, whatever the order lines arrived in.
pub fn fingerprint_of(template: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(template.as_bytes())
}

/// What mining one message gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mined<'a> {
    /// Fingerprint of the template: [`fingerprint_of`]`(template)`.
    pub fingerprint: u64,
    /// The template text, tokens joined by single spaces.
    pub template: &'a str,
    /// Fingerprints this message made fold into others (usually none).
    pub merges: &'a [Merge],
}

/// The miner behind the plugin, usable on its own (the scorer and the
/// throughput example drive it directly).
#[derive(Debug)]
pub struct Miner {
    drain: Drain,
    tokens: Tokens,
    max_tokens: usize,
    masks: Option<Regex>,
}

impl Miner {
    /// Build a miner from a checked config.
    pub fn new(config: &Config) -> Result<Self, ConfigError> {
        config.validate()?;
        let masks = compile_masks(&config.masks)?;
        let params = Params {
            similarity: config.similarity,
            depth: config.depth,
            max_children: config.max_children,
            variable_after: config.variable_after,
            max_templates: config.max_templates,
            max_bytes: config.memory_mb * 1024 * 1024,
        };
        Ok(Self {
            drain: Drain::new(params),
            tokens: Tokens::default(),
            max_tokens: config.max_tokens,
            masks,
        })
    }

    /// Mine one message.
    pub fn mine(&mut self, message: &str) -> Mined<'_> {
        match &self.masks {
            Some(re) => {
                let masked = re.replace_all(message, tokenize::WILDCARD);
                tokenize(&masked, self.max_tokens, &mut self.tokens);
            }
            None => tokenize(message, self.max_tokens, &mut self.tokens),
        }
        let learned = self.drain.learn(&self.tokens);
        let (fingerprint, template) = self
            .drain
            .sub(learned)
            .map_or((0, ""), |s| (s.fingerprint, s.template.as_str()));
        Mined {
            fingerprint,
            template,
            merges: self.drain.merges(),
        }
    }

    /// The masked tokens of the last message mined.
    pub fn tokens(&self) -> &Tokens {
        &self.tokens
    }

    /// The template store, for inspection.
    pub fn drain(&self) -> &Drain {
        &self.drain
    }
}

/// Compile the extra masks into one alternation, naming a bad pattern by
/// its index.
fn compile_masks(patterns: &[String]) -> Result<Option<Regex>, ConfigError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    for (k, p) in patterns.iter().enumerate() {
        if p.is_empty() {
            return Err(ConfigError::msg(format!("`masks[{k}]` is empty")));
        }
        if let Err(e) = Regex::new(p) {
            return Err(ConfigError::msg(format!(
                "`masks[{k}]` is not a valid regex: {e}"
            )));
        }
    }
    let joined = patterns
        .iter()
        .map(|p| format!("(?:{p})"))
        .collect::<Vec<_>>()
        .join("|");
    Regex::new(&joined)
        .map(Some)
        .map_err(|e| ConfigError::msg(format!("`masks` do not combine: {e}")))
}

/// The plugin: one instance per tenant and pipeline step.
#[derive(Debug)]
pub struct Fingerprint {
    miner: Miner,
}

impl Fingerprint {
    /// The miner, for inspection in tests.
    pub fn miner(&self) -> &Miner {
        &self.miner
    }
}

impl Plugin for Fingerprint {
    type Config = Config;

    fn new(config: Config, _context: &InitContext) -> Result<Self, ConfigError> {
        Ok(Self {
            miner: Miner::new(&config)?,
        })
    }

    fn process(&mut self, event: &mut Event, out: &mut Output) -> Result<Verdict, PluginError> {
        let mined = self.miner.mine(&event.message);
        for m in mined.merges {
            out.merge(m.old, m.new, m.template.as_str());
        }
        if event.fingerprint == Some(mined.fingerprint)
            && event.template.as_deref() == Some(mined.template)
        {
            return Ok(Verdict::Unchanged);
        }
        event.fingerprint = Some(mined.fingerprint);
        match &mut event.template {
            Some(template) => {
                template.clear();
                template.push_str(mined.template);
            }
            None => event.template = Some(mined.template.to_owned()),
        }
        Ok(Verdict::Changed)
    }
}

export_plugin!(Fingerprint);
