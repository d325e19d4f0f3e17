use sluice_plugin_sdk::{plugin, testing::Harness, Event, Outcome, PluginError};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    suffix: String,
}

#[plugin]
fn process(mut event: Event, config: &Config) -> Result<Outcome, PluginError> {
    event.message.push_str(&config.suffix);
    Ok(Outcome::Keep(event))
}

fn main() {
    let mut harness = Harness::<SluicePlugin>::new("suffix = \"!\"").unwrap();
    assert_eq!(harness.kept(vec![Event::new("hi")])[0].message, "hi!");
}
