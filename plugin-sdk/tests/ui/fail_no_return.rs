use sluice_plugin_sdk::{plugin, Event};

#[plugin]
fn process(event: Event) {
    let _ = event;
}

fn main() {}
