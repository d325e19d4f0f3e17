use sluice_plugin_sdk::{plugin, Event, PluginError, Verdict};

#[plugin]
fn process(event: Event) -> Result<Verdict, PluginError> {
    let _ = event;
    Ok(Verdict::Unchanged)
}

fn main() {}
