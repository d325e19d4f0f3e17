//! The README's example config loads and does what the README says.

use sluice_plugin_normalize::Normalize;
use sluice_plugin_sdk::testing::Harness;
use sluice_plugin_sdk::{Event, Level, Value};

#[test]
fn readme_example_config_works() {
    let readme = include_str!("../README.md");
    let section = &readme[readme.find("### Example step").expect("section")..];
    let start = section.find("```toml\n").expect("toml block") + "```toml\n".len();
    let config = &section[start..start + section[start..].find("```").expect("end")];
    let mut h = Harness::<Normalize>::new(config).expect("README config loads");
    let mut e = Event::from_raw("081109 203615 148 INFO dfs.DataNode$PacketResponder: done");
    e.received_ns = 1;
    let out = h.kept(vec![e]).remove(0);
    assert_eq!(out.level, Some(Level::Info));
    assert_eq!(out.message, "done");
    assert_eq!(out.attr("pid"), Some(&Value::Integer(148)));
    assert_eq!(out.attr_str("logger"), Some("dfs.DataNode$PacketResponder"));
    assert_eq!(out.attr_str("datacenter"), Some("eu-1"));
    // 2008-11-09 20:36:15 at +01:00.
    assert_eq!(out.timestamp_ns, Some(1_226_259_375_000_000_000));
}
