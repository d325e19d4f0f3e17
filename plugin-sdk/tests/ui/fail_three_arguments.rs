use sluice_plugin_sdk::{plugin, Event, Outcome, PluginError};

#[plugin]
fn process(event: Event, a: &u8, b: &u8) -> Result<Outcome, PluginError> {
    let _ = (event, a, b);
    Ok(Outcome::Pass)
}

fn main() {}
