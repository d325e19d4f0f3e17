//! Grok expressions to regular expressions.
//!
//! `%{NAME}` splices in a named pattern (non-capturing), `%{NAME:field}`
//! captures it as `field`, `%{NAME:field:int}` also coerces it (`int`,
//! `float`, `bool`, `string`). Everything else is regex syntax and passes
//! through, so `(?<field>...)` works too. The library below is Logstash's
//! core set rewritten for the `regex` crate (no look-around, no atomic
//! groups); tenants add or shadow names through the `grok` config table.

use std::collections::BTreeMap;

use crate::config::FieldType;

/// How deep `%{A}` → `%{B}` → … may nest before we call it a cycle.
const MAX_DEPTH: usize = 24;

/// Prefix of the capture groups we generate for `%{NAME:field}`; tenant
/// group names must not start with it.
pub const GROUP_PREFIX: &str = "__grok";

/// A grok expression turned into a regular expression.
#[derive(Debug)]
pub struct Expanded {
    /// Regex source.
    pub regex: String,
    /// Field and coercion of each generated group, by group name.
    pub fields: Vec<(String, String, Option<FieldType>)>,
}

/// The built-in library: `(name, definition)`.
pub const LIBRARY: &[(&str, &str)] = &[
    ("USERNAME", r"[a-zA-Z0-9._-]+"),
    ("USER", r"%{USERNAME}"),
    (
        "EMAILLOCALPART",
        r"[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-zA-Z0-9!#$%&'*+/=?^_`{|}~-]+)*",
    ),
    ("EMAILADDRESS", r"%{EMAILLOCALPART}@%{HOSTNAME}"),
    ("INT", r"[+-]?[0-9]+"),
    ("BASE10NUM", r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"),
    ("NUMBER", r"%{BASE10NUM}"),
    ("BASE16NUM", r"[+-]?(?:0x)?[0-9A-Fa-f]+"),
    ("POSINT", r"[1-9][0-9]*"),
    ("NONNEGINT", r"[0-9]+"),
    ("WORD", r"\b\w+\b"),
    ("NOTSPACE", r"\S+"),
    ("SPACE", r"\s*"),
    ("DATA", r".*?"),
    ("GREEDYDATA", r".*"),
    ("QUOTEDSTRING", r#""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'"#),
    ("QS", r"%{QUOTEDSTRING}"),
    (
        "UUID",
        r"[A-Fa-f0-9]{8}-(?:[A-Fa-f0-9]{4}-){3}[A-Fa-f0-9]{12}",
    ),
    ("MAC", r"(?:[A-Fa-f0-9]{2}[:-]){5}[A-Fa-f0-9]{2}"),
    (
        "IPV4",
        r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])",
    ),
    (
        "IPV6",
        r"(?:[0-9A-Fa-f]{0,4}:){2,7}(?:%{IPV4}|[0-9A-Fa-f]{1,4})?(?:%[0-9A-Za-z]+)?",
    ),
    ("IP", r"%{IPV4}|%{IPV6}"),
    (
        "HOSTNAME",
        r"[0-9A-Za-z][0-9A-Za-z_-]{0,62}(?:\.[0-9A-Za-z][0-9A-Za-z_-]{0,62})*\.?",
    ),
    ("HOST", r"%{HOSTNAME}"),
    ("IPORHOST", r"%{IP}|%{HOSTNAME}"),
    ("HOSTPORT", r"%{IPORHOST}:%{POSINT}"),
    ("UNIXPATH", r"(?:/[^/\s]*)+"),
    ("WINPATH", r"(?:[A-Za-z]+:|\\)(?:\\[^\\?*]*)+"),
    ("PATH", r"%{UNIXPATH}|%{WINPATH}"),
    ("URIPROTO", r"[A-Za-z][A-Za-z0-9+.-]*"),
    ("URIHOST", r"%{IPORHOST}(?::%{POSINT})?"),
    ("URIPATH", r"(?:/[A-Za-z0-9$.+!*'(){},~:;=@#%&_-]*)+"),
    ("URIPARAM", r"\?[A-Za-z0-9$.+!*'|(){},~@#%&/=:;_?\[\]<>-]*"),
    ("URIPATHPARAM", r"%{URIPATH}(?:%{URIPARAM})?"),
    (
        "URI",
        r"%{URIPROTO}://(?:%{USER}(?::[^@]*)?@)?(?:%{URIHOST})?(?:%{URIPATHPARAM})?",
    ),
    (
        "MONTH",
        r"[Jj]an(?:uary)?|[Ff]eb(?:ruary)?|[Mm]ar(?:ch)?|[Aa]pr(?:il)?|[Mm]ay|[Jj]une?|[Jj]uly?|[Aa]ug(?:ust)?|[Ss]ep(?:tember)?|[Oo]ct(?:ober)?|[Nn]ov(?:ember)?|[Dd]ec(?:ember)?",
    ),
    ("MONTHNUM", r"0?[1-9]|1[0-2]"),
    ("MONTHNUM2", r"0[1-9]|1[0-2]"),
    ("MONTHDAY", r"0[1-9]|[12][0-9]|3[01]|[1-9]"),
    (
        "DAY",
        r"Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|Thu(?:rsday)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?",
    ),
    ("YEAR", r"[0-9]{4}|[0-9]{2}"),
    ("HOUR", r"2[0123]|[01]?[0-9]"),
    ("MINUTE", r"[0-5][0-9]"),
    ("SECOND", r"(?:[0-5]?[0-9]|60)(?:[.,][0-9]+)?"),
    ("TIME", r"%{HOUR}:%{MINUTE}(?::%{SECOND})?"),
    ("DATE_US", r"%{MONTHNUM}[/-]%{MONTHDAY}[/-]%{YEAR}"),
    ("DATE_EU", r"%{MONTHDAY}[./-]%{MONTHNUM}[./-]%{YEAR}"),
    ("ISO8601_TIMEZONE", r"Z|[+-]%{HOUR}(?::?%{MINUTE})?"),
    (
        "TIMESTAMP_ISO8601",
        r"%{YEAR}-%{MONTHNUM}-%{MONTHDAY}[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?(?: ?%{ISO8601_TIMEZONE})?",
    ),
    ("DATE", r"%{DATE_US}|%{DATE_EU}"),
    ("DATESTAMP", r"%{DATE}[- ]%{TIME}"),
    ("TZ", r"[A-Z]{3}"),
    (
        "DATESTAMP_RFC822",
        r"%{DAY} %{MONTH} %{MONTHDAY} %{YEAR} %{TIME} %{TZ}",
    ),
    (
        "DATESTAMP_OTHER",
        r"%{DAY} %{MONTH} %{MONTHDAY} %{TIME} %{TZ} %{YEAR}",
    ),
    ("HTTPDATE", r"%{MONTHDAY}/%{MONTH}/%{YEAR}:%{TIME} %{INT}"),
    (
        "HTTPDERROR_DATE",
        r"%{DAY} %{MONTH} %{MONTHDAY} %{TIME} %{YEAR}",
    ),
    ("SYSLOGTIMESTAMP", r"%{MONTH} +%{MONTHDAY} %{TIME}"),
    ("PROG", r"[\x21-\x5a\x5c\x5e-\x7e]+"),
    ("SYSLOGPROG", r"%{PROG:program}(?:\[%{POSINT:pid}\])?"),
    ("SYSLOGHOST", r"%{IPORHOST}"),
    (
        "LOGLEVEL",
        r"[Aa]lert|ALERT|[Tt]race|TRACE|[Dd]ebug|DEBUG|[Nn]otice|NOTICE|[Ii]nfo(?:rmation)?|INFO(?:RMATION)?|[Ww]arn(?:ing)?|WARN(?:ING)?|[Ee]rr(?:or)?|ERR(?:OR)?|[Cc]rit(?:ical)?|CRIT(?:ICAL)?|[Ff]atal|FATAL|[Ss]evere|SEVERE|EMERG(?:ENCY)?|[Ee]merg(?:ency)?",
    ),
    (
        "JAVACLASS",
        r"(?:[a-zA-Z$_][a-zA-Z$_0-9]*\.)*[a-zA-Z$_][a-zA-Z$_0-9]*",
    ),
    (
        "COMMONAPACHELOG",
        r#"%{IPORHOST:client_ip} %{USER:ident} %{USER:user} \[%{HTTPDATE:timestamp}\] "(?:%{WORD:method} %{NOTSPACE:path}(?: HTTP/%{NUMBER:http_version})?|%{DATA:request})" %{INT:status:int} (?:%{INT:bytes:int}|-)"#,
    ),
    (
        "COMBINEDAPACHELOG",
        r"%{COMMONAPACHELOG} %{QS:referrer} %{QS:user_agent}",
    ),
];

/// Expand a grok expression with the tenant's patterns and the library.
pub fn expand(expr: &str, user: &BTreeMap<String, String>) -> Result<Expanded, String> {
    let mut out = Expanded {
        regex: String::with_capacity(expr.len() * 4),
        fields: Vec::new(),
    };
    let mut stack = Vec::new();
    expand_into(expr, user, &mut stack, &mut out)?;
    Ok(out)
}

fn lookup<'a>(name: &str, user: &'a BTreeMap<String, String>) -> Option<&'a str> {
    if let Some(def) = user.get(name) {
        return Some(def);
    }
    LIBRARY
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, def)| *def)
}

fn expand_into<'a>(
    expr: &'a str,
    user: &'a BTreeMap<String, String>,
    stack: &mut Vec<&'a str>,
    out: &mut Expanded,
) -> Result<(), String> {
    let mut rest = expr;
    while let Some(start) = rest.find("%{") {
        out.regex.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unterminated `%{{` in `{}`", truncate(&rest[start..])))?;
        let spec = &after[..end];
        rest = &after[end + 1..];
        let mut parts = spec.splitn(3, ':');
        let name = parts.next().unwrap_or_default();
        let field = parts.next().filter(|f| !f.is_empty());
        let kind = match parts.next() {
            None => None,
            Some("int") => Some(FieldType::Int),
            Some("float") => Some(FieldType::Float),
            Some("bool") => Some(FieldType::Bool),
            Some("string") => Some(FieldType::String),
            Some(other) => {
                return Err(format!(
                    "unknown type `{other}` in `%{{{spec}}}` (expected int, float, bool or string)"
                ));
            }
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!("bad pattern name in `%{{{spec}}}`"));
        }
        let def =
            lookup(name, user).ok_or_else(|| format!("unknown grok pattern `%{{{name}}}`"))?;
        if stack.contains(&name) || stack.len() >= MAX_DEPTH {
            stack.push(name);
            return Err(format!(
                "grok pattern `{}` refers to itself ({})",
                stack[0],
                stack.join(" → ")
            ));
        }
        match field {
            Some(field) => {
                let group = format!("{GROUP_PREFIX}{}", out.fields.len());
                out.regex.push_str("(?P<");
                out.regex.push_str(&group);
                out.regex.push('>');
                out.fields.push((group, field.to_owned(), kind));
            }
            None => out.regex.push_str("(?:"),
        }
        stack.push(name);
        expand_into(def, user, stack, out)?;
        stack.pop();
        out.regex.push(')');
    }
    out.regex.push_str(rest);
    Ok(())
}

fn truncate(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn references_expand_and_fields_become_groups() {
        let e = expand("%{INT:n:int} %{WORD}", &BTreeMap::new()).unwrap();
        assert_eq!(e.regex, r"(?P<__grok0>[+-]?[0-9]+) (?:\b\w+\b)");
        assert_eq!(
            e.fields,
            vec![("__grok0".into(), "n".into(), Some(FieldType::Int))]
        );
    }

    #[test]
    fn every_library_pattern_compiles() {
        for (name, _) in LIBRARY {
            let e = expand(&format!("^%{{{name}}}$"), &BTreeMap::new()).unwrap();
            regex::Regex::new(&e.regex).unwrap_or_else(|err| panic!("{name}: {err}"));
        }
    }

    #[test]
    fn library_patterns_match_what_their_names_say() {
        let cases: &[(&str, &str)] = &[
            ("IP", "10.0.0.1"),
            ("IP", "2001:db8::1"),
            ("HOSTNAME", "web-1.example.com"),
            ("TIMESTAMP_ISO8601", "2025-02-01T12:34:56.123+02:00"),
            ("TIMESTAMP_ISO8601", "2015-10-18 18:01:47,978"),
            ("HTTPDATE", "17/May/2015:10:05:03 +0000"),
            ("SYSLOGTIMESTAMP", "Jun  4 15:16:01"),
            ("LOGLEVEL", "WARNING"),
            ("NUMBER", "-12.5"),
            ("UUID", "123e4567-e89b-12d3-a456-426614174000"),
            ("QS", r#""a \"quoted\" string""#),
            ("EMAILADDRESS", "a.b@example.com"),
            ("URIPATHPARAM", "/a/b.html?x=1&y=2"),
            ("JAVACLASS", "org.apache.hadoop.Foo$Bar"),
        ];
        for (name, text) in cases {
            let e = expand(&format!("^%{{{name}}}$"), &BTreeMap::new()).unwrap();
            let re = regex::Regex::new(&e.regex).unwrap();
            assert!(re.is_match(text), "{name} should match {text}");
        }
    }

    #[test]
    fn user_patterns_shadow_and_extend_the_library() {
        let u = user(&[("NODE", r"R\d+-M\d"), ("INT", "[0-9]")]);
        let e = expand("%{NODE:node} %{INT}", &u).unwrap();
        assert_eq!(e.regex, r"(?P<__grok0>R\d+-M\d) (?:[0-9])");
    }

    #[test]
    fn errors_name_the_problem() {
        let none = BTreeMap::new();
        assert_eq!(
            expand("%{NOPE:x}", &none).unwrap_err(),
            "unknown grok pattern `%{NOPE}`"
        );
        assert!(
            expand("%{INT:x", &none)
                .unwrap_err()
                .contains("unterminated")
        );
        assert!(
            expand("%{INT:x:long}", &none)
                .unwrap_err()
                .contains("unknown type `long`")
        );
        assert!(
            expand("%{:x}", &none)
                .unwrap_err()
                .contains("bad pattern name")
        );
        let cyclic = user(&[("A", "%{B}"), ("B", "x%{A}")]);
        assert_eq!(
            expand("%{A}", &cyclic).unwrap_err(),
            "grok pattern `A` refers to itself (A → B → A)"
        );
    }
}
