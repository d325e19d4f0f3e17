//! Show how lines are masked and mined, one per input line:
//! `echo 'Invalid user admin from 10.0.0.1' | cargo run -p sluice-plugin-fingerprint --example mask`.
//!
//! Prints the masked tokens (`|`-separated) and the template each line got,
//! with the merges it caused. An argument is read as the step config (TOML).

use std::io::BufRead;

use sluice_plugin_fingerprint::{Config, Miner};

fn main() -> Result<(), String> {
    let config: Config = match std::env::args().nth(1) {
        Some(path) => {
            let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
            let table: toml::Table = toml::from_str(&text).map_err(|e| e.to_string())?;
            let json = serde_json::to_string(&table).map_err(|e| e.to_string())?;
            serde_json::from_str(&json).map_err(|e| e.to_string())?
        }
        None => Config::default(),
    };
    let mut miner = Miner::new(&config).map_err(|e| e.to_string())?;
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(|e| e.to_string())?;
        let mined = miner.mine(&line);
        let (template, fingerprint) = (mined.template.to_owned(), mined.fingerprint);
        let merges: Vec<String> = mined
            .merges
            .iter()
            .map(|m| format!("{:016x} -> {:016x}", m.old, m.new))
            .collect();
        let tokens: Vec<&str> = miner.tokens().iter().collect();
        println!("{}", tokens.join(" | "));
        println!("  {fingerprint:016x}  {template}");
        for m in merges {
            println!("  merge {m}");
        }
    }
    Ok(())
}
