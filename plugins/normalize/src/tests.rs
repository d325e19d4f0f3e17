//! Behaviour users rely on, format by format, through the same harness the
//! host's adapter uses.

use sluice_plugin_sdk::testing::Harness;
use sluice_plugin_sdk::{Event, Level, Outcome, Value};

use crate::Normalize;

/// Reference instants come from jiff's RFC 3339 parser, not from ours.
fn utc(rfc3339: &str) -> i64 {
    let ts: jiff::Timestamp = rfc3339.parse().unwrap();
    i64::try_from(ts.as_nanosecond()).unwrap()
}

fn received() -> i64 {
    utc("2025-06-15T00:00:00Z")
}

fn event(raw: &str) -> Event {
    let mut e = Event::from_raw(raw);
    e.id = "e1".into();
    e.tenant = "acme".into();
    e.received_ns = received();
    e
}

fn run(config: &str, raw: &str) -> Event {
    let mut h = Harness::<Normalize>::new(config).unwrap();
    let mut kept = h.kept(vec![event(raw)]);
    assert_eq!(kept.len(), 1, "event was not kept");
    kept.remove(0)
}

fn text(e: &Event, key: &str) -> Option<String> {
    e.attr_str(key).map(str::to_owned)
}

#[test]
fn seed_json_fills_every_field() {
    let e = run(
        "",
        r#"{"project_id":"123","service":"payment-api","level":"INFO","message":"User 42 logged in","timestamp":"2025-02-01T12:34:56Z","metadata":{"user_ip":"8.229.214.100","trace_id":"d0e8"}}"#,
    );
    assert_eq!(e.project.as_deref(), Some("123"));
    assert_eq!(e.service.as_deref(), Some("payment-api"));
    assert_eq!(e.level, Some(Level::Info));
    assert_eq!(e.message, "User 42 logged in");
    assert_eq!(e.timestamp_ns, Some(utc("2025-02-01T12:34:56Z")));
    assert_eq!(
        text(&e, "metadata.user_ip").as_deref(),
        Some("8.229.214.100")
    );
    assert_eq!(text(&e, "metadata.trace_id").as_deref(), Some("d0e8"));
    assert_eq!(e.attributes.len(), 2);
    assert_eq!(e.raw, None);
    assert_eq!(e.id, "e1");
    assert_eq!(e.tenant, "acme");
}

#[test]
fn json_values_keep_their_types_and_arrays_stay_json() {
    let e = run(
        "",
        r#"{"msg":"hi","project_id":124,"n":5,"f":1.5,"ok":true,"none":null,"tags":["a", 1],"deep":{"a":{"b":{"c":"x"}}},"esc":"a\"b\u00e9"}"#,
    );
    assert_eq!(e.message, "hi");
    assert_eq!(e.project.as_deref(), Some("124"));
    assert_eq!(e.attr("n"), Some(&Value::Integer(5)));
    assert_eq!(e.attr("f"), Some(&Value::Float(1.5)));
    assert_eq!(e.attr("ok"), Some(&Value::Boolean(true)));
    assert_eq!(e.attr("none"), Some(&Value::Null));
    // Arrays stay the JSON text they were sent as.
    assert_eq!(e.attr("tags"), Some(&Value::Json(r#"["a", 1]"#.into())));
    assert_eq!(text(&e, "deep.a.b.c").as_deref(), Some("x"));
    assert_eq!(text(&e, "esc").as_deref(), Some("a\"bé"));
}

#[test]
fn json_nested_deeper_than_the_limit_is_kept_as_json_text() {
    let e = run(
        "",
        r#"{"a":{"b":{"c":{"d":{"e":{"f":{"g":{"h":{"i":1}}}}}}}}}"#,
    );
    assert_eq!(
        e.attr("a.b.c.d.e.f.g.h"),
        Some(&Value::Json(r#"{"i":1}"#.into()))
    );
}

#[test]
fn json_epoch_timestamps_and_numeric_levels() {
    let e = run("", r#"{"time":1738413296123,"level":50,"msg":"x"}"#);
    assert_eq!(e.timestamp_ns, Some(utc("2025-02-01T12:34:56.123Z")));
    assert_eq!(e.level, Some(Level::Error));
    let e = run("", r#"{"ts":1738413296.5,"severity":"warning"}"#);
    assert_eq!(e.timestamp_ns, Some(utc("2025-02-01T12:34:56.5Z")));
    assert_eq!(e.level, Some(Level::Warn));
}

#[test]
fn json_dotted_names_match_nested_keys() {
    let e = run(
        "",
        r#"{"service":{"name":"api","version":"2"},"log":{"level":"ERR"}}"#,
    );
    assert_eq!(e.service.as_deref(), Some("api"));
    assert_eq!(e.level, Some(Level::Error));
    assert_eq!(text(&e, "service.version").as_deref(), Some("2"));
}

#[test]
fn json_field_mapping_is_configurable() {
    let config = r#"
        [fields]
        message = ["event"]
        level = ["sev"]
        timestamp = ["when"]
        service = ["component"]
        project = ["tenant_project"]
    "#;
    let e = run(
        config,
        r#"{"event":"boot","sev":"crit","when":"2025-02-01 12:34:56","component":"kernel","tenant_project":"p9","message":"not me"}"#,
    );
    assert_eq!(e.message, "boot");
    assert_eq!(e.level, Some(Level::Fatal));
    assert_eq!(e.timestamp_ns, Some(utc("2025-02-01T12:34:56Z")));
    assert_eq!(e.service.as_deref(), Some("kernel"));
    assert_eq!(e.project.as_deref(), Some("p9"));
    assert_eq!(text(&e, "message").as_deref(), Some("not me"));
}

#[test]
fn earlier_names_win_and_the_loser_stays_an_attribute() {
    let e = run("", r#"{"msg":"short","message":"long"}"#);
    assert_eq!(e.message, "long");
    assert_eq!(text(&e, "msg").as_deref(), Some("short"));
    let e = run("", r#"{"message":"long","msg":"short"}"#);
    assert_eq!(e.message, "long");
    assert_eq!(text(&e, "msg").as_deref(), Some("short"));
}

#[test]
fn unknown_level_and_bad_timestamp_are_kept_as_text() {
    let e = run(
        "",
        r#"{"level":"LOUD","timestamp":"yesterday","message":"m"}"#,
    );
    assert_eq!(e.level, None);
    assert_eq!(text(&e, "level_raw").as_deref(), Some("LOUD"));
    assert_eq!(text(&e, "timestamp_raw").as_deref(), Some("yesterday"));
    assert_eq!(e.timestamp_ns, Some(received()));
}

#[test]
fn malformed_json_is_kept_with_the_reason_by_default() {
    let raw = r#"{"message":"cut short"#;
    let e = run("", raw);
    assert_eq!(e.message, raw);
    let reason = text(&e, "parse_error").unwrap();
    assert_eq!(
        reason,
        "invalid JSON: unexpected end of input at line 1 column 22"
    );
    assert_eq!(e.attributes.len(), 1);
    assert_eq!(e.timestamp_ns, Some(received()));
    assert_eq!(e.level, None);
}

#[test]
fn malformed_json_is_dead_lettered_when_configured() {
    let mut h = Harness::<Normalize>::new(r#"on_unparsed = "dead-letter""#).unwrap();
    let result = h.process(vec![event(r#"{"a":1} trailing"#), event("plain line")]);
    match &result.outcomes[0] {
        Outcome::Fail(reason) => {
            assert!(
                reason.starts_with("normalize: invalid JSON: trailing characters"),
                "{reason}"
            )
        }
        other => panic!("expected a dead letter, got {other:?}"),
    }
    assert!(matches!(&result.outcomes[1], Outcome::Keep(e) if e.message == "plain line"));
}

#[test]
fn no_matching_format_follows_the_policy() {
    let config = r#"formats = ["json", "syslog"]
on_unparsed = "dead-letter""#;
    let mut h = Harness::<Normalize>::new(config).unwrap();
    let result = h.process(vec![event("just words")]);
    assert_eq!(
        result.outcomes[0],
        Outcome::Fail("normalize: no format matched (tried json, syslog)".into())
    );
    let e = run(r#"formats = ["json"]"#, "just words");
    assert_eq!(e.message, "just words");
    assert_eq!(
        text(&e, "parse_error").as_deref(),
        Some("no format matched (tried json)")
    );
}

#[test]
fn logfmt_pairs() {
    let e = run(
        "",
        r#"ts=2025-02-01T12:34:56Z level=warn msg="disk \"almost\" full" service=db free=1.5 count=3 ok=true path=/var"#,
    );
    assert_eq!(e.timestamp_ns, Some(utc("2025-02-01T12:34:56Z")));
    assert_eq!(e.level, Some(Level::Warn));
    assert_eq!(e.message, "disk \"almost\" full");
    assert_eq!(e.service.as_deref(), Some("db"));
    assert_eq!(e.attr("free"), Some(&Value::Float(1.5)));
    assert_eq!(e.attr("count"), Some(&Value::Integer(3)));
    assert_eq!(e.attr("ok"), Some(&Value::Boolean(true)));
    assert_eq!(text(&e, "path").as_deref(), Some("/var"));
}

#[test]
fn prose_with_an_equals_sign_is_text_not_logfmt() {
    let e = run("", "status=200 took too long");
    assert_eq!(e.message, "status=200 took too long");
    assert!(e.attributes.is_empty());
}

#[test]
fn syslog_rfc5424() {
    let e = run(
        "",
        r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut="3" eventSource="App\"lication"] An application event"#,
    );
    assert_eq!(e.level, Some(Level::Info));
    assert_eq!(e.timestamp_ns, Some(utc("2003-10-11T22:14:15.003Z")));
    assert_eq!(e.service.as_deref(), Some("evntslog"));
    assert_eq!(e.message, "An application event");
    assert_eq!(text(&e, "facility").as_deref(), Some("local4"));
    assert_eq!(
        text(&e, "hostname").as_deref(),
        Some("mymachine.example.com")
    );
    assert_eq!(text(&e, "appname").as_deref(), Some("evntslog"));
    assert_eq!(text(&e, "procid").as_deref(), Some("1234"));
    assert_eq!(text(&e, "msgid").as_deref(), Some("ID47"));
    assert_eq!(text(&e, "sd.exampleSDID@32473.iut").as_deref(), Some("3"));
    assert_eq!(
        text(&e, "sd.exampleSDID@32473.eventSource").as_deref(),
        Some("App\"lication")
    );
}

#[test]
fn syslog_rfc5424_with_nil_values() {
    let e = run("", "<11>1 - - - - - - boom");
    assert_eq!(e.level, Some(Level::Error));
    assert_eq!(e.message, "boom");
    assert_eq!(e.service, None);
    assert_eq!(e.timestamp_ns, Some(received()));
    assert_eq!(text(&e, "facility").as_deref(), Some("user"));
}

#[test]
fn syslog_rfc3164_with_and_without_pri() {
    let e = run(
        "",
        "<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8",
    );
    assert_eq!(e.level, Some(Level::Fatal));
    assert_eq!(text(&e, "facility").as_deref(), Some("auth"));
    assert_eq!(e.timestamp_ns, Some(utc("2024-10-11T22:14:15Z")));
    assert_eq!(text(&e, "hostname").as_deref(), Some("mymachine"));
    assert_eq!(e.service.as_deref(), Some("su"));
    assert_eq!(text(&e, "procid").as_deref(), Some("230"));
    assert_eq!(e.message, "'su root' failed for lonvick on /dev/pts/8");

    let e = run(
        "",
        "Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; rhost=218.188.2.4 ",
    );
    assert_eq!(e.level, None);
    assert_eq!(e.timestamp_ns, Some(utc("2025-06-14T15:16:01Z")));
    assert_eq!(e.service.as_deref(), Some("sshd(pam_unix)"));
    assert_eq!(e.message, "authentication failure; rhost=218.188.2.4");

    let e = run("", "<13>Feb  5 17:32:18 10.0.0.99 cron: job done");
    assert_eq!(e.service.as_deref(), Some("cron"));
    assert_eq!(text(&e, "hostname").as_deref(), Some("10.0.0.99"));
    assert_eq!(e.message, "job done");

    let e = run("", "<13>Feb  5 17:32:18 su: no host here");
    assert_eq!(e.service.as_deref(), Some("su"));
    assert_eq!(text(&e, "hostname"), None);
    assert_eq!(e.message, "no host here");

    let e = run("", "<13>just a message");
    assert_eq!(e.level, Some(Level::Info));
    assert_eq!(e.message, "just a message");
}

#[test]
fn access_log_combined() {
    let e = run(
        "",
        r#"83.149.9.216 - frank [17/May/2015:10:05:03 +0000] "GET /images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/" "Mozilla/5.0 (Macintosh)""#,
    );
    assert_eq!(e.timestamp_ns, Some(utc("2015-05-17T10:05:03Z")));
    assert_eq!(e.level, Some(Level::Info));
    assert_eq!(e.message, "GET /images/kibana-search.png HTTP/1.1");
    assert_eq!(text(&e, "client_ip").as_deref(), Some("83.149.9.216"));
    assert_eq!(text(&e, "user").as_deref(), Some("frank"));
    assert_eq!(text(&e, "ident"), None);
    assert_eq!(text(&e, "method").as_deref(), Some("GET"));
    assert_eq!(
        text(&e, "path").as_deref(),
        Some("/images/kibana-search.png")
    );
    assert_eq!(text(&e, "protocol").as_deref(), Some("HTTP/1.1"));
    assert_eq!(e.attr("status"), Some(&Value::Integer(200)));
    assert_eq!(e.attr("bytes"), Some(&Value::Integer(203023)));
    assert_eq!(
        text(&e, "referrer").as_deref(),
        Some("http://semicomplete.com/")
    );
    assert_eq!(
        text(&e, "user_agent").as_deref(),
        Some("Mozilla/5.0 (Macintosh)")
    );
}

#[test]
fn access_log_common_and_status_levels() {
    let e = run(
        "",
        r#"10.0.0.1 - - [01/Feb/2025:12:34:56 +0100] "POST /api HTTP/1.0" 503 -"#,
    );
    assert_eq!(e.level, Some(Level::Error));
    assert_eq!(e.timestamp_ns, Some(utc("2025-02-01T11:34:56Z")));
    assert_eq!(e.attr("bytes"), None);
    assert_eq!(e.attr("referrer"), None);
    let e = run(
        "",
        r#"::1 - - [01/Feb/2025:12:34:56 +0000] "GET /x HTTP/1.1" 404 12"#,
    );
    assert_eq!(e.level, Some(Level::Warn));
    assert_eq!(text(&e, "client_ip").as_deref(), Some("::1"));
    let e = run(
        "",
        r#"1.2.3.4 - - [01/Feb/2025:12:34:56 +0000] "\x16\x03\x01" 400 0 "-" "-""#,
    );
    assert_eq!(text(&e, "request").as_deref(), Some("\u{16}\u{3}\u{1}"));
    assert_eq!(text(&e, "method"), None);
}

#[test]
fn plain_text_layouts() {
    let cases: &[(&str, &str, Option<Level>, &str)] = &[
        (
            "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.MRAppMaster: Created MRAppMaster",
            "2015-10-18T18:01:47.978Z",
            Some(Level::Info),
            "Created MRAppMaster",
        ),
        (
            "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1 terminating",
            "2008-11-09T20:36:15Z",
            Some(Level::Info),
            "PacketResponder 1 terminating",
        ),
        (
            "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs",
            "2025-03-17T16:13:38.811Z",
            Some(Level::Debug),
            "printFreezingDisplayLogs",
        ),
        (
            "[Sun Dec 04 04:47:44 2005] [error] [client 1.2.3.4] Directory index forbidden",
            "2005-12-04T04:47:44Z",
            Some(Level::Error),
            "[client 1.2.3.4] Directory index forbidden",
        ),
        (
            "17/06/09 20:10:40 WARN spark.SecurityManager: Changing view acls",
            "2017-06-09T20:10:40Z",
            Some(Level::Warn),
            "Changing view acls",
        ),
        (
            "2025-02-01T12:34:56.5Z something happened",
            "2025-02-01T12:34:56.5Z",
            None,
            "something happened",
        ),
        (
            "1738413296 ERROR: disk full",
            "2025-02-01T12:34:56Z",
            Some(Level::Error),
            "disk full",
        ),
        (
            "2025-02-01 12:34:56 42 items processed",
            "2025-02-01T12:34:56Z",
            None,
            "42 items processed",
        ),
    ];
    for (raw, ts, level, message) in cases {
        let e = run("", raw);
        assert_eq!(e.timestamp_ns, Some(utc(ts)), "{raw}");
        assert_eq!(e.level, *level, "{raw}");
        assert_eq!(e.message, *message, "{raw}");
    }
    let e = run(
        "",
        "2015-10-18 18:01:47,978 INFO [main] org.apache.hadoop.Foo: x",
    );
    assert_eq!(text(&e, "thread").as_deref(), Some("main"));
    assert_eq!(text(&e, "logger").as_deref(), Some("org.apache.hadoop.Foo"));
    let e = run("", "03-17 16:13:38.811  1702  2395 D WindowManager: x");
    assert_eq!(e.attr("pid"), Some(&Value::Integer(1702)));
    assert_eq!(e.attr("tid"), Some(&Value::Integer(2395)));
}

#[test]
fn plain_text_without_header_is_the_message() {
    let e = run("", "Error connecting to the database\r\n");
    assert_eq!(e.message, "Error connecting to the database");
    assert_eq!(e.level, None);
    assert_eq!(e.timestamp_ns, Some(received()));
    assert!(e.attributes.is_empty());
    let e = run("", "WARNING: low memory");
    assert_eq!(e.level, Some(Level::Warn));
    assert_eq!(e.message, "low memory");
    let e = run("", "[debug] cache warmed");
    assert_eq!(e.level, Some(Level::Debug));
    assert_eq!(e.message, "cache warmed");
}

#[test]
fn structured_events_pass_or_only_gain_a_time() {
    let mut h = Harness::<Normalize>::new("").unwrap();
    let mut timed = Event::new("already structured");
    timed.timestamp_ns = Some(5);
    let mut untimed = Event::new("no time");
    untimed.received_ns = 77;
    let result = h.process(vec![timed, untimed]);
    assert_eq!(result.outcomes[0], Outcome::Pass);
    match &result.outcomes[1] {
        Outcome::Keep(e) => {
            assert_eq!(e.timestamp_ns, Some(77));
            assert_eq!(e.message, "no time");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn keep_raw_keeps_the_payload() {
    let e = run("keep_raw = true", "2025-02-01T12:34:56Z INFO hello");
    assert_eq!(e.raw.as_deref(), Some("2025-02-01T12:34:56Z INFO hello"));
    assert_eq!(e.message, "hello");
}

#[test]
fn default_offset_applies_to_zoneless_times() {
    let e = run(r#"default_offset = "+02:00""#, "2025-02-01 14:34:56 INFO x");
    assert_eq!(e.timestamp_ns, Some(utc("2025-02-01T12:34:56Z")));
}

#[path = "tests_patterns.rs"]
mod patterns;
