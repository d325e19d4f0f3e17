//! Bounded memory per tenant: the caps on templates and bytes hold whatever
//! arrives, the least recently used template goes first, and one that comes
//! back gets its old fingerprint again.

use sluice_plugin_fingerprint::cluster::MAX_SUBS;
use sluice_plugin_fingerprint::{Config, Miner};

/// A word of letters only (masking leaves it alone), unique per `i`.
fn word(mut i: usize) -> String {
    let mut w = String::from("w");
    loop {
        w.push(char::from(b'a' + (i % 26) as u8));
        i /= 26;
        if i == 0 {
            return w;
        }
    }
}

/// A line no earlier line resembles: every token is new.
fn unique_line(i: usize, tokens: usize) -> String {
    (0..tokens)
        .map(|k| word(i * tokens + k))
        .collect::<Vec<_>>()
        .join(" ")
}

fn miner(config: Config) -> Miner {
    Miner::new(&config).expect("config")
}

#[test]
fn the_template_cap_holds_and_empty_tree_nodes_are_pruned() {
    let mut m = miner(Config {
        max_templates: 10,
        ..Config::default()
    });
    for i in 0..1_000 {
        m.mine(&unique_line(i, 3));
        assert!(
            m.drain().len() <= 10,
            "line {i}: {} templates",
            m.drain().len()
        );
        // One token-count root, at most one routing node per cluster, and
        // the shared `<*>` child once the root is full.
        assert!(
            m.drain().nodes() <= 12,
            "line {i}: {} nodes",
            m.drain().nodes()
        );
    }
    assert_eq!(m.drain().templates().len(), 10);
}

#[test]
fn the_least_recently_used_template_goes_first() {
    let mut m = miner(Config {
        max_templates: 5,
        ..Config::default()
    });
    let first = unique_line(9_999, 3);
    m.mine(&first);
    for i in 0..100 {
        m.mine(&unique_line(i, 3));
        m.mine("keep this template");
    }
    let held: Vec<String> = m
        .drain()
        .templates()
        .iter()
        .map(|s| s.template.clone())
        .collect();
    assert!(held.contains(&"keep this template".to_owned()), "{held:?}");
    assert!(!held.contains(&first), "{held:?}");
    assert!(held.contains(&unique_line(99, 3)), "{held:?}");
}

#[test]
fn a_forgotten_template_comes_back_with_the_same_fingerprint() {
    let mut m = miner(Config {
        max_templates: 2,
        ..Config::default()
    });
    let before = m.mine("disk sda failed on node-7").fingerprint;
    m.mine(&unique_line(1, 4));
    m.mine(&unique_line(2, 4));
    m.mine(&unique_line(3, 4));
    assert!(
        m.drain()
            .templates()
            .iter()
            .all(|s| s.template != "disk sda failed on node-<*>")
    );
    assert_eq!(m.mine("disk sda failed on node-9").fingerprint, before);
}

#[test]
fn the_byte_budget_holds_for_long_templates() {
    let mut m = miner(Config {
        memory_mb: 1,
        max_tokens: 200,
        ..Config::default()
    });
    for i in 0..3_000 {
        m.mine(&unique_line(i, 120));
        assert!(
            m.drain().bytes() <= 1024 * 1024,
            "line {i}: {} bytes",
            m.drain().bytes()
        );
    }
    let held = m.drain().len();
    assert!(held > 10 && held < 3_000, "{held} templates held");
}

/// Each position of a cluster keeps up to two values apart; six such
/// positions would make 64 templates, but a cluster holds at most
/// `MAX_SUBS` and opens its widest position instead.
#[test]
fn sub_templates_per_cluster_are_capped() {
    let mut m = miner(Config::default());
    for combo in 0..64u32 {
        let parts: Vec<&str> = (0..6)
            .map(|bit| if combo >> bit & 1 == 1 { "on" } else { "off" })
            .collect();
        m.mine(&format!("switch {} end", parts.join(" ")));
        assert!(m.drain().templates().len() <= MAX_SUBS);
    }
    assert_eq!(m.drain().len(), 1);
}
