//! Print grouping and parsing accuracy on the ten Loghub 2k systems:
//! `cargo run --release -p sluice-plugin-fingerprint --example fingerprint_score`.
//!
//! `-- --config FILE` scores another step config (TOML body of the step's
//! config table); `-- --explain SYSTEM` lists that system's wrongly grouped
//! templates. Reads `SLUICE_DATA_DIR` (default `../shared/data` from the
//! project root).

use sluice_plugin_fingerprint::score;

fn main() -> Result<(), String> {
    let mut config = String::new();
    let mut explain = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" => {
                let path = args.next().ok_or("--config needs a file")?;
                config = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
            }
            "--explain" => explain.push(args.next().ok_or("--explain needs a system")?),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    for system in &explain {
        let floor = score::SYSTEMS
            .iter()
            .find(|(s, _)| s == system)
            .map_or(0.0, |&(_, f)| f);
        let (s, data, run) = score::score(system, floor, &config)?;
        println!("{system}: GA {:.3} PA {:.3}", s.ga, s.pa);
        for entry in score::misgrouped(&data, &run) {
            print!("{entry}");
        }
        println!("-- templates that differ from the truth (lines, true, produced):");
        for (n, truth, produced) in score::misparsed(&data, &run) {
            println!("{n:5}  {truth}\n       {produced}");
        }
    }
    if explain.is_empty() {
        let scores = score::score_all(&config)?;
        println!("{}", score::table(&scores));
    }
    Ok(())
}
