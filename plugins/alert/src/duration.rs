//! Durations as operators write them (`"90s"`, `"5m"`, `"1h30m"`, or an
//! integer number of seconds) and as titles show them (`5m`, `1h30m`).

use std::fmt::{self, Write as _};

use serde::de::{self, Deserialize, Deserializer, Visitor};

const NS_PER_MS: i64 = 1_000_000;
const NS_PER_S: i64 = 1_000_000_000;

/// Units accepted in a duration text, longest suffix first so `ms` wins over `m`.
const UNITS: [(&str, i64); 5] = [
    ("ms", NS_PER_MS),
    ("s", NS_PER_S),
    ("m", 60 * NS_PER_S),
    ("h", 3_600 * NS_PER_S),
    ("d", 86_400 * NS_PER_S),
];

/// A span of time in nanoseconds, written in config as `"5m"` or as seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duration(pub i64);

impl Duration {
    /// Minutes.
    pub const fn minutes(m: i64) -> Self {
        Duration(m * 60 * NS_PER_S)
    }

    /// Parse `"500ms"`, `"30s"`, `"5m"`, `"2h"`, `"1d"` or sums like `"1h30m"`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = || {
            format!(
                "invalid duration {text:?}: write a number and a unit (ms, s, m, h, d), e.g. \"5m\""
            )
        };
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err(invalid());
        }
        let mut total: i64 = 0;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(invalid());
            }
            let number: i64 = rest[..digits].parse().map_err(|_| invalid())?;
            rest = &rest[digits..];
            let (unit, scale) = UNITS
                .iter()
                .find(|(unit, _)| rest.starts_with(unit))
                .ok_or_else(invalid)?;
            rest = &rest[unit.len()..];
            total = number
                .checked_mul(*scale)
                .and_then(|n| total.checked_add(n))
                .ok_or_else(|| format!("duration {text:?} is too long"))?;
        }
        Ok(Duration(total))
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;

        impl Visitor<'_> for DurationVisitor {
            type Value = Duration;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"5m\" or a number of seconds")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Duration, E> {
                Duration::parse(v).map_err(E::custom)
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Duration, E> {
                i64::try_from(v)
                    .ok()
                    .and_then(|s| s.checked_mul(NS_PER_S))
                    .map(Duration)
                    .ok_or_else(|| E::custom("duration is too long"))
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Duration, E> {
                if v < 0 {
                    return Err(E::custom("a duration cannot be negative"));
                }
                self.visit_u64(v.unsigned_abs())
            }
        }

        deserializer.deserialize_any(DurationVisitor)
    }
}

/// Show nanoseconds the way config writes them: `5m`, `1h30m`, `90s` → `1m30s`,
/// `1500ms`. Sub-millisecond remainders are dropped.
pub fn format_ns(ns: i64) -> String {
    let mut out = String::new();
    if ns <= 0 {
        return "0s".to_owned();
    }
    if ns % NS_PER_S != 0 {
        let _ = write!(out, "{}ms", ns / NS_PER_MS);
        return out;
    }
    let mut rest = ns / NS_PER_S;
    for (unit, seconds) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if rest >= seconds {
            let _ = write!(out, "{}{unit}", rest / seconds);
            rest %= seconds;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_sums() {
        assert_eq!(Duration::parse("5m"), Ok(Duration(300 * NS_PER_S)));
        assert_eq!(Duration::parse("1h30m"), Ok(Duration(5_400 * NS_PER_S)));
        assert_eq!(Duration::parse("250ms"), Ok(Duration(250 * NS_PER_MS)));
        assert_eq!(Duration::parse("2d"), Ok(Duration(172_800 * NS_PER_S)));
        assert_eq!(Duration::parse("0s"), Ok(Duration(0)));
    }

    #[test]
    fn refuses_missing_units_and_garbage() {
        for bad in ["", "5", "m", "5 minutes", "-5m", "5q", "1.5h"] {
            assert!(Duration::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(Duration::parse("99999999999999999d").is_err());
    }

    #[test]
    fn integers_are_seconds() {
        let d: Duration = serde_json::from_str("90").unwrap();
        assert_eq!(d, Duration(90 * NS_PER_S));
        assert!(serde_json::from_str::<Duration>("-1").is_err());
    }

    #[test]
    fn formats_like_config() {
        assert_eq!(format_ns(300 * NS_PER_S), "5m");
        assert_eq!(format_ns(5_400 * NS_PER_S), "1h30m");
        assert_eq!(format_ns(90 * NS_PER_S), "1m30s");
        assert_eq!(format_ns(1_500 * NS_PER_MS), "1500ms");
        assert_eq!(format_ns(86_400 * NS_PER_S), "1d");
        assert_eq!(format_ns(0), "0s");
    }
}
