//! Alert titles: a template such as `"{count} error events from {service} in
//! {window}"`, parsed once in `new` and filled in when a rule fires.

use std::fmt::Write as _;

use crate::duration::format_ns;

/// Longest template or message text quoted in a title, in characters; a
/// title is one line in a notification, not a log dump.
pub const MAX_QUOTED_CHARS: usize = 120;

/// A value a title can show, written `{name}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Var {
    Rule,
    Severity,
    Count,
    Window,
    Group,
    Service,
    Fingerprint,
    Template,
    Baseline,
    Ratio,
    Threshold,
    Level,
    Silent,
    /// `event` or `events`, agreeing with the count.
    Events,
}

const VARS: [(&str, Var); 14] = [
    ("rule", Var::Rule),
    ("severity", Var::Severity),
    ("count", Var::Count),
    ("window", Var::Window),
    ("group", Var::Group),
    ("service", Var::Service),
    ("fingerprint", Var::Fingerprint),
    ("template", Var::Template),
    ("baseline", Var::Baseline),
    ("ratio", Var::Ratio),
    ("threshold", Var::Threshold),
    ("level", Var::Level),
    ("silent", Var::Silent),
    ("events", Var::Events),
];

#[derive(Debug)]
enum Part {
    Text(Box<str>),
    Var(Var),
}

/// A parsed title template.
#[derive(Debug)]
pub struct Title {
    parts: Box<[Part]>,
}

/// What a firing rule knows, for its title. `None` shows as `unknown` or `-`.
#[derive(Debug, Default)]
pub struct Vars<'a> {
    pub rule: &'a str,
    pub severity: &'a str,
    pub count: u64,
    pub window_ns: i64,
    pub group: Option<&'a str>,
    pub service: Option<&'a str>,
    pub fingerprint: Option<u64>,
    pub template: Option<&'a str>,
    pub baseline: Option<f64>,
    pub threshold: Option<u64>,
    pub level: Option<&'a str>,
    pub silent_ns: Option<i64>,
}

impl Title {
    /// Parse `text`: `{name}` inserts a value, `{{` and `}}` are literal braces.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, c)| c) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|&(_, c)| c) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let rest = &text[at + 1..];
                    let end = rest
                        .find('}')
                        .ok_or_else(|| format!("unclosed `{{` at byte {at}"))?;
                    let name = &rest[..end];
                    let var = VARS
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|&(_, v)| v)
                        .ok_or_else(|| {
                            let known: Vec<&str> = VARS.iter().map(|(n, _)| *n).collect();
                            format!(
                                "unknown placeholder {{{name}}}; known: {}",
                                known.join(", ")
                            )
                        })?;
                    if !literal.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut literal).into()));
                    }
                    parts.push(Part::Var(var));
                    for _ in 0..=name.chars().count() {
                        chars.next();
                    }
                }
                '}' => return Err(format!("unmatched `}}` at byte {at}; write `}}}}`")),
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(literal.into()));
        }
        Ok(Title {
            parts: parts.into(),
        })
    }

    /// The title with values filled in.
    pub fn render(&self, vars: &Vars<'_>) -> String {
        let mut out = String::with_capacity(64);
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Var(var) => write_var(&mut out, *var, vars),
            }
        }
        out
    }
}

fn write_var(out: &mut String, var: Var, v: &Vars<'_>) {
    let dash = "-";
    match var {
        Var::Rule => out.push_str(v.rule),
        Var::Severity => out.push_str(v.severity),
        Var::Count => {
            let _ = write!(out, "{}", v.count);
        }
        Var::Window => out.push_str(&format_ns(v.window_ns)),
        Var::Group => out.push_str(v.group.unwrap_or("unknown")),
        Var::Service => out.push_str(v.service.unwrap_or("unknown")),
        Var::Fingerprint => match v.fingerprint {
            Some(fp) => {
                let _ = write!(out, "{fp:016x}");
            }
            None => out.push_str(dash),
        },
        Var::Template => push_quoted(out, v.template.unwrap_or(dash)),
        Var::Baseline => match v.baseline {
            Some(b) => out.push_str(&format_rate(b)),
            None => out.push_str(dash),
        },
        Var::Ratio => match v.baseline {
            Some(b) if b > 0.0 => {
                out.push_str(&format_rate(v.count as f64 / b));
            }
            _ => out.push_str(dash),
        },
        Var::Threshold => match v.threshold {
            Some(t) => {
                let _ = write!(out, "{t}");
            }
            None => out.push_str(dash),
        },
        Var::Level => out.push_str(v.level.unwrap_or("any")),
        Var::Events => out.push_str(if v.count == 1 { "event" } else { "events" }),
        Var::Silent => match v.silent_ns {
            Some(ns) => out.push_str(&format_ns(ns)),
            None => out.push_str(dash),
        },
    }
}

/// Quote at most [`MAX_QUOTED_CHARS`] characters of `text` on one line.
fn push_quoted(out: &mut String, text: &str) {
    for (taken, c) in text.chars().enumerate() {
        if taken == MAX_QUOTED_CHARS {
            out.push('…');
            return;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
}

/// A rate with at most one decimal: `8.5`, `12`, `0.3`.
pub fn format_rate(value: f64) -> String {
    let text = format!("{value:.1}");
    match text.strip_suffix(".0") {
        Some(whole) => whole.to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_in_values() {
        let title = Title::parse("{count} {level} {events} from {service} in {window}").unwrap();
        let vars = Vars {
            count: 12,
            level: Some("error"),
            service: Some("payment-api"),
            window_ns: 300_000_000_000,
            ..Vars::default()
        };
        assert_eq!(
            title.render(&vars),
            "12 error events from payment-api in 5m"
        );
    }

    #[test]
    fn missing_values_and_escapes() {
        let title = Title::parse("{{x}} {service} {fingerprint} {baseline} {ratio}").unwrap();
        assert_eq!(title.render(&Vars::default()), "{x} unknown - - -");
        let title = Title::parse("{fingerprint} x{ratio}").unwrap();
        let vars = Vars {
            fingerprint: Some(0xdead),
            count: 30,
            baseline: Some(4.0),
            ..Vars::default()
        };
        assert_eq!(title.render(&vars), "000000000000dead x7.5");
    }

    #[test]
    fn refuses_unknown_and_unbalanced_placeholders() {
        let err = Title::parse("{cout} events").unwrap_err();
        assert!(err.contains("unknown placeholder {cout}"), "{err}");
        assert!(Title::parse("{count").is_err());
        assert!(Title::parse("count}").is_err());
    }

    #[test]
    fn long_templates_are_cut_and_kept_on_one_line() {
        let title = Title::parse("New: {template}").unwrap();
        let long = format!("a\nb{}", "x".repeat(500));
        let vars = Vars {
            template: Some(&long),
            ..Vars::default()
        };
        let rendered = title.render(&vars);
        assert!(rendered.starts_with("New: a b"));
        assert!(rendered.ends_with('…'));
        assert_eq!(
            rendered.chars().count(),
            "New: ".len() + MAX_QUOTED_CHARS + 1
        );
    }

    #[test]
    fn rates_have_one_decimal_at_most() {
        assert_eq!(format_rate(8.5), "8.5");
        assert_eq!(format_rate(12.0), "12");
        assert_eq!(format_rate(0.333), "0.3");
    }
}
