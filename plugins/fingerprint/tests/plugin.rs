//! The step as the host drives it: templates and fingerprints on events,
//! stability, and the merges a generalising template reports.

use std::collections::HashMap;

use sluice_plugin_fingerprint::{Fingerprint, fingerprint_of};
use sluice_plugin_sdk::testing::Harness;
use sluice_plugin_sdk::{Event, FingerprintMerge, Outcome};

fn harness(config: &str) -> Harness<Fingerprint> {
    Harness::<Fingerprint>::new(config).expect("config")
}

/// (fingerprint, template) of each line, one line per batch, with the merges.
fn run(
    h: &mut Harness<Fingerprint>,
    lines: &[&str],
) -> (Vec<(u64, String)>, Vec<FingerprintMerge>) {
    let mut out = Vec::new();
    let mut merges = Vec::new();
    for line in lines {
        let result = h.process(vec![Event::new(*line)]);
        match result.outcomes.into_iter().next() {
            Some(Outcome::Keep(e)) => out.push((
                e.fingerprint.expect("fingerprint"),
                e.template.expect("template"),
            )),
            other => panic!("unexpected outcome {other:?}"),
        }
        merges.extend(result.merges);
    }
    (out, merges)
}

/// The fingerprint is xxh3-64 with seed 0 of the template's UTF-8 text,
/// nothing else. The constants were checked against another xxHash
/// implementation (the Python `xxhash` package), so a change of hash
/// function or seed, which would split every incident in every store,
/// fails here.
#[test]
fn fingerprint_is_xxh3_64_seed_0_of_the_template_text() {
    assert_eq!(fingerprint_of(""), 0x2d06_8005_38d3_94c2);
    assert_eq!(
        fingerprint_of("Invalid user <*> from <*>"),
        0x6154_624f_9def_7f2b
    );
    assert_eq!(fingerprint_of("cupsd <*> succeeded"), 0xe648_af6d_e942_c2a5);
    let mut h = harness("");
    let (got, _) = run(&mut h, &["Invalid user 1 from 10.0.0.1"]);
    assert_eq!(
        got[0],
        (
            0x6154_624f_9def_7f2b,
            "Invalid user <*> from <*>".to_owned()
        )
    );
}

#[test]
fn event_gets_template_and_fingerprint_and_nothing_else_changes() {
    let mut h = harness("");
    let event = Event::new("Received block blk_-42 of size 67108864 from /10.251.42.84")
        .with_service("hdfs")
        .with_attr("k", "v");
    let kept = h.kept(vec![event.clone()]);
    let mut expected = event;
    expected.template = Some("Received block <*> of size <*> from <*>".to_owned());
    expected.fingerprint = Some(fingerprint_of("Received block <*> of size <*> from <*>"));
    assert_eq!(kept, vec![expected]);
}

#[test]
fn an_event_already_fingerprinted_alike_passes_unchanged() {
    let mut h = harness("");
    let mut event = Event::new("Connection closed by 10.0.0.4 [preauth]");
    event.template = Some("Connection closed by <*> [preauth]".to_owned());
    event.fingerprint = Some(fingerprint_of("Connection closed by <*> [preauth]"));
    assert_eq!(h.process(vec![event]).outcomes, vec![Outcome::Pass]);
}

/// Two fresh instances fed the same lines in opposite orders agree, once
/// both have seen them, on every line's template and fingerprint.
#[test]
fn same_lines_in_any_order_end_with_the_same_fingerprints() {
    let lines = [
        "Invalid user admin from 10.0.0.1",
        "cupsd startup succeeded",
        "Invalid user test from 10.0.0.2",
        "Failed password for root from 10.0.0.9 port 22 ssh2",
        "cupsd shutdown succeeded",
        "Invalid user guest from 10.0.0.3",
        "Failed password for admin from 10.0.0.8 port 2222 ssh2",
        "session opened for user root by (uid=0)",
        "Failed password for git from 10.0.0.7 port 22 ssh2",
        "Connection closed by 10.0.0.4 [preauth]",
    ];
    let reversed: Vec<&str> = lines.iter().rev().copied().collect();
    let (mut a, mut b) = (harness(""), harness(""));
    run(&mut a, &lines);
    run(&mut b, &reversed);
    let (after_a, _) = run(&mut a, &lines);
    let (after_b, _) = run(&mut b, &lines);
    assert_eq!(after_a, after_b);
    let templates: Vec<&str> = after_a.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(
        templates,
        [
            "Invalid user <*> from <*>",
            "cupsd startup succeeded",
            "Invalid user <*> from <*>",
            "Failed password for <*> from <*> port <*> ssh2",
            "cupsd shutdown succeeded",
            "Invalid user <*> from <*>",
            "Failed password for <*> from <*> port <*> ssh2",
            "session opened for user root by (uid=<*>)",
            "Failed password for <*> from <*> port <*> ssh2",
            "Connection closed by <*> [preauth]",
        ]
    );
    for (fp, template) in &after_a {
        assert_eq!(*fp, fingerprint_of(template));
    }
}

/// Two values stay two templates; a third value makes the position a
/// variable, and each old fingerprint is reported as merged into the new.
#[test]
fn generalisation_reports_old_to_new_merges() {
    let mut h = harness("");
    let (got, merges) = run(
        &mut h,
        &["cupsd startup succeeded", "cupsd shutdown succeeded"],
    );
    assert_eq!(got[0].1, "cupsd startup succeeded");
    assert_eq!(got[1].1, "cupsd shutdown succeeded");
    assert!(merges.is_empty());
    let (got, merges) = run(&mut h, &["cupsd restart succeeded"]);
    let new = fingerprint_of("cupsd <*> succeeded");
    assert_eq!(got[0], (new, "cupsd <*> succeeded".to_owned()));
    let mut olds: Vec<(u64, u64, &str)> = merges
        .iter()
        .map(|m| (m.old, m.new, m.template.as_str()))
        .collect();
    olds.sort();
    let mut expected = vec![
        (
            fingerprint_of("cupsd startup succeeded"),
            new,
            "cupsd <*> succeeded",
        ),
        (
            fingerprint_of("cupsd shutdown succeeded"),
            new,
            "cupsd <*> succeeded",
        ),
    ];
    expected.sort();
    assert_eq!(olds, expected);
    // A line seen before the generalisation now maps to the new template.
    let (got, merges) = run(&mut h, &["cupsd startup succeeded"]);
    assert_eq!(got[0].0, new);
    assert!(merges.is_empty());
}

/// An open position keeps the brackets its values share; a value that does
/// not fit widens it, and that is a merge too.
#[test]
fn an_open_pattern_widens_with_a_merge() {
    let mut h = harness("");
    let (got, _) = run(
        &mut h,
        &["peer 1.2.3.4 (alpha.example.com) up", "peer 1.2.3.5 () up"],
    );
    assert_eq!(got[1].1, "peer <*> (<*>) up");
    let (got, merges) = run(&mut h, &["peer 1.2.3.6 unknown up"]);
    assert_eq!(got[0].1, "peer <*> <*> up");
    let pairs: Vec<(u64, u64)> = merges.iter().map(|m| (m.old, m.new)).collect();
    assert_eq!(
        pairs,
        vec![(
            fingerprint_of("peer <*> (<*>) up"),
            fingerprint_of("peer <*> <*> up")
        )]
    );
}

/// Following the merges from any fingerprint ever handed out leads to the
/// fingerprint the same line gets at the end, as the incident store sees it.
#[test]
fn merges_lead_every_early_fingerprint_to_the_final_one() {
    let lines: Vec<String> = ["alpha", "beta", "gamma", "delta", "epsilon"]
        .iter()
        .flat_map(|w| {
            [
                format!("Invalid user {w} from 10.0.0.1"),
                format!("queue {w} drained"),
                format!("job {w} moved from NEW to {}", w.to_uppercase()),
            ]
        })
        .collect();
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let mut h = harness("");
    let (first, merges) = run(&mut h, &refs);
    let (last, _) = run(&mut h, &refs);
    let map: HashMap<u64, u64> = merges.iter().map(|m| (m.old, m.new)).collect();
    for ((early, _), (late, _)) in first.iter().zip(&last) {
        let mut fp = *early;
        for _ in 0..=map.len() {
            match map.get(&fp) {
                Some(&next) => fp = next,
                None => break,
            }
        }
        assert_eq!(fp, *late);
    }
}

#[test]
fn extra_masks_apply_before_the_built_in_ones() {
    let mut h = harness(r#"masks = ["req-[a-z]{6}", "(?i)tenant [a-z]+"]"#);
    let (got, _) = run(&mut h, &["handled req-abcdef for Tenant acme ok"]);
    assert_eq!(got[0].1, "handled <*> for <*> ok");
}

#[test]
fn long_lines_are_mined_on_their_first_tokens() {
    let mut h = harness("max_tokens = 4");
    let (got, _) = run(&mut h, &["a b c d e f g h"]);
    assert_eq!(got[0].1, "a b c <*>");
}

#[test]
fn an_empty_message_gets_the_empty_template() {
    let mut h = harness("");
    let (got, _) = run(&mut h, &[""]);
    assert_eq!(got[0], (fingerprint_of(""), String::new()));
}

/// With `variable_after = 2` the first difference generalises, as in Drain.
#[test]
fn variable_after_two_generalises_at_once() {
    let mut h = harness("variable_after = 2");
    let (got, merges) = run(&mut h, &["open file alpha", "open file beta"]);
    assert_eq!(got[1].1, "open file <*>");
    assert_eq!(merges.len(), 1);
    assert_eq!(merges[0].old, fingerprint_of("open file alpha"));
}
