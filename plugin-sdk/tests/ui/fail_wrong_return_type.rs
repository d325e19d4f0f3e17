use sluice_plugin_sdk::{plugin, Event, Outcome};

#[plugin]
fn process(event: Event) -> Option<Outcome> {
    let _ = event;
    Some(Outcome::Pass)
}

fn main() {}
