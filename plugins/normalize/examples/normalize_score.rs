//! Print normalize's accuracy on the shared data sets:
//! `cargo run --release -p sluice-plugin-normalize --example normalize_score`.
//!
//! Reads `SLUICE_DATA_DIR` (default `../shared/data` from the project root).

#[path = "../tests/support/score.rs"]
mod score;

fn main() {
    let access = score::score_access();
    println!("{}", score::access_table(&access));
    let auto: Vec<score::Row> = score::SYSTEMS
        .iter()
        .map(|s| score::score_loghub(s, ""))
        .collect();
    println!(
        "{}",
        score::table("loghub 2k, default config (auto-detection):", &auto)
    );
    let tenant: Vec<score::Row> = score::SYSTEMS
        .iter()
        .map(|s| score::score_loghub(s, &score::tenant_config(s)))
        .collect();
    println!(
        "{}",
        score::table(
            "loghub 2k, per-system tenant config (examples/loghub/<System>.toml):",
            &tenant
        )
    );
}
