//! Tenant-defined formats, renames, coercions, static fields, config errors,
//! and arbitrary input.

use sluice_plugin_sdk::testing::Harness;
use sluice_plugin_sdk::{Event, Level, Outcome, Value};

use super::{event, received, run, text, utc};
use crate::Normalize;

fn config_error(config: &str) -> String {
    match Harness::<Normalize>::new(config) {
        Ok(_) => panic!("config should be refused:\n{config}"),
        Err(e) => e,
    }
}

#[test]
fn grok_pattern_fills_fields_and_coerces() {
    let config = r#"
        [[patterns]]
        name = "app"
        grok = '^%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} %{IP:client} %{NUMBER:bytes:int} %{NUMBER:ratio:float} %{WORD:cached:bool} %{GREEDYDATA:message}$'
    "#;
    let e = run(
        config,
        "2025-02-01 12:34:56,250 WARNING 10.1.2.3 512 0.25 true slow request",
    );
    assert_eq!(e.timestamp_ns, Some(utc("2025-02-01T12:34:56.25Z")));
    assert_eq!(e.level, Some(Level::Warn));
    assert_eq!(text(&e, "client").as_deref(), Some("10.1.2.3"));
    assert_eq!(e.attr("bytes"), Some(&Value::Integer(512)));
    assert_eq!(e.attr("ratio"), Some(&Value::Float(0.25)));
    assert_eq!(e.attr("cached"), Some(&Value::Boolean(true)));
    assert_eq!(e.message, "slow request");
    assert_eq!(e.attributes.len(), 4);
}

#[test]
fn regex_pattern_with_named_captures_and_user_grok_names() {
    let config = r#"
        formats = ["patterns", "text"]
        [grok]
        NODE = 'R\d{2}-M\d'
        [[patterns]]
        regex = '^(?P<node>R\d{2}-M\d) (?P<level>\w+) (?P<message>.*)$'
        [[patterns]]
        grok = '^node %{NODE:node}: %{GREEDYDATA:message}$'
    "#;
    let e = run(config, "R02-M1 FATAL machine check");
    assert_eq!(text(&e, "node").as_deref(), Some("R02-M1"));
    assert_eq!(e.level, Some(Level::Fatal));
    assert_eq!(e.message, "machine check");
    let e = run(config, "node R17-M0: rebooted");
    assert_eq!(text(&e, "node").as_deref(), Some("R17-M0"));
    assert_eq!(e.message, "rebooted");
    // Neither pattern: the next format (text) takes it.
    let e = run(config, "nothing like it");
    assert_eq!(e.message, "nothing like it");
    assert!(e.attributes.is_empty());
}

#[test]
fn grok_timestamp_format_and_yearless_times() {
    let config = r#"
        [[patterns]]
        grok = '^%{SYSLOGTIMESTAMP:timestamp} %{GREEDYDATA:message}'
        [[patterns]]
        grok = '^%{NOTSPACE:timestamp} %{GREEDYDATA:message}'
        timestamp_format = "%Y-%m-%d-%H.%M.%S%.f"
    "#;
    let e = run(config, "2005-06-03-15.42.50.675872 ciod: error");
    assert_eq!(e.timestamp_ns, Some(utc("2005-06-03T15:42:50.675872Z")));
    assert_eq!(e.message, "ciod: error");
    let e = run(config, "2005-06-03 oops");
    assert_eq!(text(&e, "timestamp_raw").as_deref(), Some("2005-06-03"));
    assert_eq!(e.timestamp_ns, Some(received()));
    let e = run(config, "Jun  4 15:16:01 hi");
    assert_eq!(e.timestamp_ns, Some(utc("2025-06-04T15:16:01Z")));
}

#[test]
fn patterns_can_be_tried_after_the_built_ins() {
    let config = r#"
        formats = ["json", "patterns", "text"]
        [[patterns]]
        grok = '^%{WORD:message}$'
    "#;
    let e = run(config, r#"{"message":"json first"}"#);
    assert_eq!(e.message, "json first");
    let e = run(config, "single");
    assert_eq!(e.message, "single");
}

#[test]
fn renames_apply_before_fields_are_recognised() {
    let config = r#"
        [rename]
        text = "message"
        client_ip = "client.ip"
        [[patterns]]
        grok = '^%{WORD:severity} %{GREEDYDATA:text}$'
    "#;
    let e = run(config, "ERROR it broke");
    assert_eq!(e.level, Some(Level::Error));
    assert_eq!(e.message, "it broke");
    let e = run(
        config,
        r#"1.2.3.4 - - [01/Feb/2025:12:34:56 +0000] "GET / HTTP/1.1" 200 1"#,
    );
    assert_eq!(text(&e, "client.ip").as_deref(), Some("1.2.3.4"));
    assert_eq!(text(&e, "client_ip"), None);
}

#[test]
fn type_coercions_by_key() {
    let config = r#"
        [types]
        user_id = "int"
        latency = "float"
        sampled = "bool"
        code = "string"
        bad = "int"
    "#;
    let e = run(
        config,
        r#"{"user_id":"42","latency":"1.5","sampled":"yes","code":7,"bad":"x"}"#,
    );
    assert_eq!(e.attr("user_id"), Some(&Value::Integer(42)));
    assert_eq!(e.attr("latency"), Some(&Value::Float(1.5)));
    assert_eq!(e.attr("sampled"), Some(&Value::Boolean(true)));
    assert_eq!(e.attr("code"), Some(&Value::Text("7".into())));
    assert_eq!(e.attr("bad"), Some(&Value::Text("x".into())));
}

#[test]
fn static_fields_fill_but_never_override() {
    let config = r#"
        [static_fields]
        datacenter = "eu-1"
        shard = 3
        service = "billing"
        level = "info"
    "#;
    let e = run(config, r#"{"message":"m","datacenter":"us-2"}"#);
    assert_eq!(text(&e, "datacenter").as_deref(), Some("us-2"));
    assert_eq!(e.attr("shard"), Some(&Value::Integer(3)));
    assert_eq!(e.service.as_deref(), Some("billing"));
    assert_eq!(e.level, Some(Level::Info));
    let e = run(config, r#"{"message":"m","service":"api","level":"error"}"#);
    assert_eq!(e.service.as_deref(), Some("api"));
    assert_eq!(e.level, Some(Level::Error));
}

#[test]
fn config_errors_name_the_setting() {
    let cases: &[(&str, &str)] = &[
        (
            "[[patterns]]\nname = \"hdfs\"\nregex = '(?P<x>[a-'",
            "`patterns[0]` (\"hdfs\"): invalid regex:",
        ),
        (
            "[[patterns]]\ngrok = '%{INT:n}'\n[[patterns]]\ngrok = '%{NOPE:x}'",
            "`patterns[1]`: unknown grok pattern `%{NOPE}`",
        ),
        (
            "[[patterns]]\nregex = 'a'\ngrok = 'b'",
            "`patterns[0]`: set exactly one of `regex` or `grok`",
        ),
        (
            "[[patterns]]\nname = \"x\"",
            "`patterns[0]` (\"x\"): set exactly one",
        ),
        (
            "[[patterns]]\nregex = 'plain'",
            "`patterns[0]`: no named captures",
        ),
        (
            "[[patterns]]\ngrok = '%{INT:n:long}'",
            "`patterns[0]`: unknown type `long`",
        ),
        (
            "[grok]\nA = '%{B}'\nB = '%{A}'",
            "`grok.A`: grok pattern `A` refers to itself (A → B → A)",
        ),
        ("[grok]\nBAD = '(['", "`grok.BAD`: invalid regex"),
        (
            "[[patterns]]\ngrok = '%{INT:timestamp}'\ntimestamp_format = \"Y-m-d\"",
            "`timestamp_format` has no `%` directive",
        ),
        ("default_offset = \"CET\"", "`default_offset` = \"CET\""),
        ("formats = []", "`formats` is empty"),
        ("formats = [\"xml\"]", "unknown variant `xml`"),
        ("on_unparsed = \"drop\"", "unknown variant `drop`"),
        ("colour = 1", "unknown field `colour`"),
        ("[types]\nx = \"long\"", "unknown variant `long`"),
        (
            "[static_fields]\nx = [1]",
            "`static_fields.x`: only strings",
        ),
        (
            "[static_fields]\nlevel = \"loud\"",
            "`static_fields.level` = \"loud\" is not a level",
        ),
        ("[fields]\nmesage = [\"m\"]", "unknown field `mesage`"),
    ];
    for (config, want) in cases {
        let err = config_error(config);
        assert!(
            err.contains(want),
            "config:\n{config}\nerror: {err}\nwanted: {want}"
        );
    }
}

/// Arbitrary lines built from the characters every parser branches on:
/// whatever comes in, an event comes out (no panic, no lost event).
#[test]
fn arbitrary_lines_never_panic() {
    const ALPHABET: &[&str] = &[
        "<",
        ">",
        "[",
        "]",
        "{",
        "}",
        "\"",
        ":",
        "=",
        ",",
        " ",
        "  ",
        "-",
        ".",
        "/",
        "\\",
        "0",
        "1",
        "2",
        "9",
        "13",
        "2025-",
        "T",
        "Z",
        "+01:00",
        "Jun ",
        "Sun ",
        "INFO",
        "D",
        "é",
        "\t",
        "a",
        "msg=",
        "level",
        "1738413296",
        "HTTP/1.1",
        "\\u00",
        "true",
        "null",
    ];
    let configs = [
        "",
        "keep_raw = true\non_unparsed = \"dead-letter\"",
        "[[patterns]]\ngrok = '^%{SYSLOGTIMESTAMP:timestamp} %{WORD:level}? ?%{GREEDYDATA:message}'",
    ];
    let mut seed = 0x243F_6A88_85A3_08D3_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for config in configs {
        let mut h = Harness::<Normalize>::new(config).unwrap();
        let batch: Vec<Event> = (0..4000)
            .map(|_| {
                let len = next() % 24;
                let line: String = (0..len)
                    .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
                    .collect();
                event(&line)
            })
            .collect();
        let result = h.process(batch);
        assert_eq!(result.outcomes.len(), 4000);
        assert!(
            result
                .outcomes
                .iter()
                .all(|o| matches!(o, Outcome::Keep(_) | Outcome::Fail(_)))
        );
    }
}
