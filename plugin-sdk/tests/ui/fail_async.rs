use sluice_plugin_sdk::{plugin, Event, PluginError, Verdict};

#[plugin]
async fn process(event: &mut Event) -> Result<Verdict, PluginError> {
    let _ = event;
    Ok(Verdict::Unchanged)
}

fn main() {}
