use sluice_plugin_sdk::{plugin, Event, PluginError, Verdict};

#[plugin]
fn process(event: &mut Event, a: &u8, b: &u8) -> Result<Verdict, PluginError> {
    let _ = (event, a, b);
    Ok(Verdict::Unchanged)
}

fn main() {}
