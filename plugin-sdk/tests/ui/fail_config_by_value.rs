use sluice_plugin_sdk::{plugin, Event, Outcome, PluginError};

#[derive(serde::Deserialize)]
struct Config {}

#[plugin]
fn process(event: Event, config: Config) -> Result<Outcome, PluginError> {
    let _ = (event, config);
    Ok(Outcome::Pass)
}

fn main() {}
