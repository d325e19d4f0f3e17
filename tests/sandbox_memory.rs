//! Sandbox memory: a plugin trying to take 4 GiB gets its cap and no more,
//! in either memory layout.
//! Alone in its own test binary so no other test moves this process's RSS.

use std::sync::Arc;

use sluice::runtime::{
    Failure, Fault, InitContext, MemoryLayout, PluginRuntime, RuntimeOptions, StepLimits,
    StepOutcome, StepRunner,
};
use sluice_tests::{events, plugin, rss_bytes};

const CAP: usize = 64 << 20;
const SLACK: u64 = 16 << 20;

#[test]
fn four_gib_allocation_fails_at_the_cap_and_host_rss_stays_within_cap_plus_16_mib() {
    // Both layouts, one after the other (RSS is measured).
    for layout in [MemoryLayout::Dense, MemoryLayout::Fast] {
        allocation_fails_at_the_cap(layout);
    }
}

fn allocation_fails_at_the_cap(layout: MemoryLayout) {
    let runtime = Arc::new(
        PluginRuntime::new(RuntimeOptions {
            memory_layout: layout,
            ..RuntimeOptions::default()
        })
        .expect("runtime"),
    );
    let testkit = runtime.load_file(&plugin("fixtures/testkit")).unwrap();
    let context = InitContext {
        tenant: "acme".into(),
        pipeline: "test".into(),
        step: "testkit".into(),
    };
    let mut step = StepRunner::new(
        Arc::clone(&runtime),
        testkit,
        context,
        "{}".into(),
        StepLimits {
            memory_bytes: CAP,
            ..StepLimits::default()
        },
    )
    .unwrap();
    // Warm up: the instance, its first batch and the fault path exist once.
    step.run(&events("acme", &["ok"]));

    let before = rss_bytes();
    let output = step.run(&events("acme", &["alloc"]));
    let after = rss_bytes();

    match &output.outcomes[0] {
        StepOutcome::Failed(Failure::Fault(Fault::MemoryLimit { cap, requested })) => {
            assert_eq!(*cap, CAP);
            assert!(*requested > CAP);
        }
        other => panic!("{layout:?}: expected the memory cap, got {other:?}"),
    }
    let grown = after.saturating_sub(before);
    assert!(
        grown <= CAP as u64 + SLACK,
        "{layout:?}: host RSS grew by {} MiB, more than the cap + 16 MiB",
        grown >> 20
    );
    // The host is fine and the step serves the next batch.
    assert_eq!(
        step.run(&events("acme", &["ok"])).outcomes,
        vec![StepOutcome::Pass]
    );
}
