use super::*;

/// Reference instants come from jiff's RFC 3339 parser, not from ours.
fn utc(rfc3339: &str) -> i64 {
    let ts: jiff::Timestamp = rfc3339.parse().unwrap();
    i64::try_from(ts.as_nanosecond()).unwrap()
}

fn ctx() -> TimeCtx {
    TimeCtx {
        received_ns: utc("2025-06-15T00:00:00Z"),
        default_offset_s: 0,
    }
}

#[test]
fn every_layout_parses_to_utc() {
    let cases: &[(&str, &str)] = &[
        ("2025-02-01T12:34:56Z", "2025-02-01T12:34:56Z"),
        ("2025-02-01T12:34:56.123Z", "2025-02-01T12:34:56.123Z"),
        (
            "2025-02-01T12:34:56.123456789Z",
            "2025-02-01T12:34:56.123456789Z",
        ),
        ("2025-02-01T14:34:56+02:00", "2025-02-01T12:34:56Z"),
        ("2025-02-01T07:34:56-0500", "2025-02-01T12:34:56Z"),
        ("2025-02-01T13:34:56+01", "2025-02-01T12:34:56Z"),
        ("2025-02-01 12:34:56", "2025-02-01T12:34:56Z"),
        ("2025-02-01 12:34:56,978", "2025-02-01T12:34:56.978Z"),
        ("2025-02-01 12:34:56.978 UTC", "2025-02-01T12:34:56.978Z"),
        ("2025-02-01 12:34:56 +0100", "2025-02-01T11:34:56Z"),
        ("2025/02/01 12:34:56", "2025-02-01T12:34:56Z"),
        ("2025.02.01 12:34:56", "2025-02-01T12:34:56Z"),
        ("2005-06-03-15.42.50.675872", "2005-06-03T15:42:50.675872Z"),
        ("Feb  1 12:34:56", "2025-02-01T12:34:56Z"),
        ("Feb 11 12:34:56.5", "2025-02-11T12:34:56.5Z"),
        ("Sun Dec 04 04:47:44 2005", "2005-12-04T04:47:44Z"),
        (
            "Sat Feb 01 12:34:56.123456 2025",
            "2025-02-01T12:34:56.123456Z",
        ),
        ("Sat, 01 Feb 2025 12:34:56 +0000", "2025-02-01T12:34:56Z"),
        ("Sat, 1 Feb 2025 13:34:56 +0100", "2025-02-01T12:34:56Z"),
        ("17/May/2015:10:05:03 +0000", "2015-05-17T10:05:03Z"),
        ("17/May/2015:12:05:03 +0200", "2015-05-17T10:05:03Z"),
        ("01-Feb-2025 12:34:56.789", "2025-02-01T12:34:56.789Z"),
        ("081109 203615", "2008-11-09T20:36:15Z"),
        ("17/06/09 20:10:40", "2017-06-09T20:10:40Z"),
        ("03-17 16:13:38.811", "2025-03-17T16:13:38.811Z"),
        ("1738413296", "2025-02-01T12:34:56Z"),
        ("1738413296.25", "2025-02-01T12:34:56.25Z"),
        ("1738413296123", "2025-02-01T12:34:56.123Z"),
        ("1738413296123456", "2025-02-01T12:34:56.123456Z"),
        ("1738413296123456789", "2025-02-01T12:34:56.123456789Z"),
    ];
    for (text, want) in cases {
        assert_eq!(parse_full(text, &ctx()), Some(utc(want)), "{text}");
    }
}

#[test]
fn prefix_reports_the_bytes_it_used() {
    let line = "2015-10-18 18:01:47,978 INFO [main] x";
    assert_eq!(
        parse_prefix(line, &ctx()),
        Some((utc("2015-10-18T18:01:47.978Z"), 23))
    );
    let line = "Jun 14 15:16:01 combo sshd";
    assert_eq!(parse_prefix(line, &ctx()).map(|x| x.1), Some(15));
    let line = "081109 203615 148 INFO dfs";
    assert_eq!(parse_prefix(line, &ctx()).map(|x| x.1), Some(13));
}

#[test]
fn yearless_times_take_the_received_year_or_the_one_before() {
    let jan = TimeCtx {
        received_ns: utc("2025-01-02T00:00:00Z"),
        default_offset_s: 0,
    };
    assert_eq!(
        parse_full("Dec 31 23:59:59", &jan),
        Some(utc("2024-12-31T23:59:59Z"))
    );
    assert_eq!(
        parse_full("Jan  1 10:00:00", &jan),
        Some(utc("2025-01-01T10:00:00Z"))
    );
}

#[test]
fn default_offset_applies_only_without_a_zone() {
    let paris = TimeCtx {
        received_ns: 0,
        default_offset_s: 3600,
    };
    assert_eq!(
        parse_full("2025-02-01 13:34:56", &paris),
        Some(utc("2025-02-01T12:34:56Z"))
    );
    assert_eq!(
        parse_full("2025-02-01T12:34:56Z", &paris),
        Some(utc("2025-02-01T12:34:56Z"))
    );
}

#[test]
fn bare_numbers_are_epochs_by_magnitude() {
    assert_eq!(
        parse_full("1738413296", &ctx()),
        Some(utc("2025-02-01T12:34:56Z"))
    );
    assert_eq!(
        epoch_integer(1_738_413_296_123),
        Some(utc("2025-02-01T12:34:56.123Z"))
    );
    assert_eq!(
        epoch_float(1_738_413_296.5),
        Some(utc("2025-02-01T12:34:56.5Z"))
    );
    assert_eq!(epoch_float(f64::NAN), None);
}

#[test]
fn invalid_times_are_refused() {
    for text in [
        "2025-13-01T00:00:00Z",
        "2025-02-30 00:00:00",
        "2025-02-01T24:00:00Z",
        "2025-02-01T12:60:00Z",
        "Foo  1 12:34:56",
        "12345",
        "not a time",
        "2025-02-01T12:34:56Zulu",
        "",
    ] {
        assert_eq!(parse_full(text, &ctx()), None, "{text}");
    }
}

#[test]
fn counters_at_line_start_are_not_epochs() {
    assert_eq!(parse_prefix("134681 node-246 unix.hw", &ctx()), None);
    assert_eq!(parse_prefix("12345678901 items", &ctx()), None);
    assert_eq!(parse_prefix("0000000001 x", &ctx()), None);
}

#[test]
fn strptime_layouts_for_tenants() {
    assert_eq!(
        parse_with_format("2005-06-03-15.42.50.675872", "%Y-%m-%d-%H.%M.%S%.f", &ctx()),
        Some(utc("2005-06-03T15:42:50.675872Z"))
    );
    assert_eq!(
        parse_with_format("03/17 16:13", "%m/%d %H:%M", &ctx()),
        Some(utc("2025-03-17T16:13:00Z"))
    );
    assert_eq!(
        parse_with_format("1738413296", "%s", &ctx()),
        Some(utc("2025-02-01T12:34:56Z"))
    );
    assert_eq!(parse_with_format("junk", "%Y", &ctx()), None);
}

#[test]
fn year_of_instants() {
    assert_eq!(year_of(0), 1970);
    assert_eq!(year_of(utc("2024-12-31T23:59:59Z")), 2024);
    assert_eq!(year_of(utc("2025-01-01T00:00:00Z")), 2025);
    assert_eq!(year_of(-1), 1969);
}
