//! Severity spellings from every common logging library, mapped onto the one
//! scale the stores share (trace, debug, info, warn, error, fatal).
//!
//! The mapping follows OpenTelemetry's severity tables where they exist:
//! syslog `notice` is info, `crit`/`alert`/`emerg` are fatal, Java's `SEVERE`
//! is error and its `FINE*`/`CONFIG` levels are debug or trace.

use sluice_plugin_sdk::Level;

/// Longest spelling we recognise; longer words are never levels.
const MAX_LEVEL_LEN: usize = 13;

/// A level from its name, abbreviation or number, case-insensitively.
///
/// Numbers: `0`..=`7` are syslog severities (0 emergency .. 7 debug);
/// `10`..`60`+ are bunyan/pino levels (10 trace, 20 debug, 30 info, 40 warn,
/// 50 error, 60 fatal; values in between round down). Anything else is `None`.
pub fn parse_level(text: &str) -> Option<Level> {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > MAX_LEVEL_LEN {
        return None;
    }
    if bytes[0].is_ascii_digit() {
        return text.parse::<i64>().ok().and_then(level_from_number);
    }
    let mut buf = [0u8; MAX_LEVEL_LEN];
    for (slot, b) in buf.iter_mut().zip(bytes) {
        *slot = b.to_ascii_lowercase();
    }
    level_from_lower(&buf[..bytes.len()])
}

/// A level from an already lower-cased spelling.
fn level_from_lower(word: &[u8]) -> Option<Level> {
    Some(match word {
        b"trace" | b"trc" | b"trce" | b"finest" | b"verbose" | b"verb" | b"t" | b"v" => {
            Level::Trace
        }
        b"debug" | b"dbg" | b"dbug" | b"debu" | b"fine" | b"finer" | b"config" | b"d" => {
            Level::Debug
        }
        b"info" | b"inf" | b"information" | b"informational" | b"notice" | b"note" | b"i"
        | b"n" => Level::Info,
        b"warn" | b"warning" | b"wrn" | b"wrng" | b"w" => Level::Warn,
        b"error" | b"err" | b"eror" | b"severe" | b"failure" | b"e" => Level::Error,
        b"fatal" | b"ftl" | b"critical" | b"crit" | b"crt" | b"emerg" | b"emergency" | b"alert"
        | b"panic" | b"assert" | b"f" | b"c" | b"a" => Level::Fatal,
        _ => return None,
    })
}

/// A level from a number: syslog severity (0..=7) or bunyan/pino (10..).
pub fn level_from_number(n: i64) -> Option<Level> {
    Some(match n {
        0..=2 => Level::Fatal,
        3 => Level::Error,
        4 => Level::Warn,
        5 | 6 => Level::Info,
        7 => Level::Debug,
        10..=19 => Level::Trace,
        20..=29 => Level::Debug,
        30..=39 => Level::Info,
        40..=49 => Level::Warn,
        50..=59 => Level::Error,
        60.. => Level::Fatal,
        _ => return None,
    })
}

/// The level of a syslog severity (the low three bits of PRI).
pub fn level_from_syslog_severity(severity: u8) -> Level {
    match severity {
        0..=2 => Level::Fatal,
        3 => Level::Error,
        4 => Level::Warn,
        5 | 6 => Level::Info,
        _ => Level::Debug,
    }
}

/// Whether `word` is a spelled-out level name (not an abbreviation or a
/// single letter): safe to recognise in free text without brackets.
pub fn is_full_level_name(word: &str) -> bool {
    const FULL: &[&str] = &[
        "trace", "verbose", "finest", "debug", "info", "notice", "warn", "warning", "error",
        "severe", "fatal", "critical", "crit", "emerg", "alert", "err", "dbg", "inf", "wrn",
    ];
    word.len() >= 3 && FULL.iter().any(|name| name.eq_ignore_ascii_case(word))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_common_spelling_maps_onto_the_scale() {
        let cases: &[(&str, Level)] = &[
            ("TRACE", Level::Trace),
            ("verbose", Level::Trace),
            ("V", Level::Trace),
            ("FINEST", Level::Trace),
            ("debug", Level::Debug),
            ("DBG", Level::Debug),
            ("D", Level::Debug),
            ("FINE", Level::Debug),
            ("CONFIG", Level::Debug),
            ("INFO", Level::Info),
            ("Info", Level::Info),
            ("information", Level::Info),
            ("Informational", Level::Info),
            ("notice", Level::Info),
            ("I", Level::Info),
            ("WARN", Level::Warn),
            ("WARNING", Level::Warn),
            ("W", Level::Warn),
            ("ERROR", Level::Error),
            ("ERR", Level::Error),
            ("E", Level::Error),
            ("SEVERE", Level::Error),
            ("FATAL", Level::Fatal),
            ("CRIT", Level::Fatal),
            ("CRITICAL", Level::Fatal),
            ("emerg", Level::Fatal),
            ("ALERT", Level::Fatal),
            ("panic", Level::Fatal),
            ("F", Level::Fatal),
            ("A", Level::Fatal),
        ];
        for (text, level) in cases {
            assert_eq!(parse_level(text), Some(*level), "{text}");
        }
    }

    #[test]
    fn numbers_are_syslog_severities_or_bunyan_levels() {
        let cases: &[(&str, Option<Level>)] = &[
            ("0", Some(Level::Fatal)),
            ("2", Some(Level::Fatal)),
            ("3", Some(Level::Error)),
            ("4", Some(Level::Warn)),
            ("5", Some(Level::Info)),
            ("6", Some(Level::Info)),
            ("7", Some(Level::Debug)),
            ("8", None),
            ("10", Some(Level::Trace)),
            ("20", Some(Level::Debug)),
            ("30", Some(Level::Info)),
            ("40", Some(Level::Warn)),
            ("50", Some(Level::Error)),
            ("60", Some(Level::Fatal)),
            ("35", Some(Level::Info)),
            ("-1", None),
        ];
        for (text, level) in cases {
            assert_eq!(parse_level(text), *level, "{text}");
        }
    }

    #[test]
    fn non_levels_are_refused() {
        for text in [
            "",
            "loud",
            "informative",
            "errors",
            "x",
            "warningwarningwarning",
        ] {
            assert_eq!(parse_level(text), None, "{text}");
        }
    }

    #[test]
    fn syslog_severity_bits() {
        assert_eq!(level_from_syslog_severity(0), Level::Fatal);
        assert_eq!(level_from_syslog_severity(3), Level::Error);
        assert_eq!(level_from_syslog_severity(5), Level::Info);
        assert_eq!(level_from_syslog_severity(7), Level::Debug);
    }

    #[test]
    fn full_names_exclude_single_letters() {
        assert!(is_full_level_name("Warning"));
        assert!(!is_full_level_name("W"));
        assert!(!is_full_level_name("hello"));
    }
}
