use sluice_plugin_sdk::{plugin, Event, PluginError, Verdict};

#[derive(serde::Deserialize)]
struct Config {}

#[plugin]
fn process(event: &mut Event, config: Config) -> Result<Verdict, PluginError> {
    let _ = (event, config);
    Ok(Verdict::Unchanged)
}

fn main() {}
