use sluice_plugin_sdk::{plugin, Event, PluginError, Verdict};

#[plugin]
fn process(event: &mut Event) -> Result<Verdict, PluginError> {
    event.message.push('!');
    Ok(Verdict::Changed)
}

fn main() {
    let mut event = Event::new("hi");
    assert_eq!(process(&mut event).unwrap(), Verdict::Changed);
    assert_eq!(event.message, "hi!");
}
