use sluice_plugin_sdk::{plugin, Event, Verdict};

#[plugin]
fn process(event: &mut Event) -> Option<Verdict> {
    let _ = event;
    Some(Verdict::Unchanged)
}

fn main() {}
