use sluice_plugin_sdk::{plugin, testing::Harness, Event, PluginError, Verdict};

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    suffix: String,
}

#[plugin]
fn process(event: &mut Event, config: &Config) -> Result<Verdict, PluginError> {
    event.message.push_str(&config.suffix);
    Ok(Verdict::Changed)
}

fn main() {
    let mut harness = Harness::<SluicePlugin>::new("suffix = \"!\"").unwrap();
    assert_eq!(harness.kept(vec![Event::new("hi")])[0].message, "hi!");
}
