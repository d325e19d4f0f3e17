use sluice_plugin_sdk::{plugin, Event, Outcome, PluginError};

#[plugin]
fn process(mut event: Event) -> Result<Outcome, PluginError> {
    event.message.push('!');
    Ok(Outcome::Keep(event))
}

fn main() {
    let _ = process(Event::new("hi"));
}
