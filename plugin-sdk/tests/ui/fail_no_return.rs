use sluice_plugin_sdk::{plugin, Event};

#[plugin]
fn process(event: &mut Event) {
    let _ = event;
}

fn main() {}
