//! Placeholder until the standard plugin lands.
use sluice_plugin_sdk::{Event, Outcome, PluginError, plugin};

#[plugin]
fn process(_event: Event) -> Result<Outcome, PluginError> {
    Ok(Outcome::Pass)
}
