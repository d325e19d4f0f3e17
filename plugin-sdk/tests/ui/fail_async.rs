use sluice_plugin_sdk::{plugin, Event, Outcome, PluginError};

#[plugin]
async fn process(event: Event) -> Result<Outcome, PluginError> {
    let _ = event;
    Ok(Outcome::Pass)
}

fn main() {}
