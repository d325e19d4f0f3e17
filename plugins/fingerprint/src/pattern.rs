//! Token patterns: a token holding `<*>` stands for every token that fits
//! it. Used when a position of a cluster becomes a variable, to keep what
//! its values share (`(adsl-<*>)`, `()` and `(<*>)` → `(<*>)`).

use crate::tokenize::WILDCARD;

/// Whether `text` fits `pattern`, a token holding `<*>` (each standing for
/// any text, the empty text included). A pattern without `<*>` fits nothing:
/// equal tokens are compared by hash, not here.
pub fn fits(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split(WILDCARD);
    let Some(first) = parts.next() else {
        return false;
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let mut middle: Vec<&str> = parts.collect();
    let Some(last) = middle.pop() else {
        return false;
    };
    for part in middle {
        match rest.find(part) {
            Some(k) => rest = &rest[k + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// Whether a pattern may end with `c` before its `<*>`.
fn ends_prefix(c: char) -> bool {
    c.is_ascii_punctuation() && !matches!(c, '_' | '<' | '*')
}

/// Whether a pattern may resume with `c` after its `<*>`.
fn starts_suffix(c: char) -> bool {
    c.is_ascii_punctuation() && !matches!(c, '_' | '>' | '*')
}

/// The most specific pattern `prefix<*>suffix` that all `texts` fit, where
/// the prefix ends and the suffix begins at punctuation, so that words are
/// never cut (`running` and `runnable` give `<*>`, not `runn<*>`).
pub fn common<'a>(mut texts: impl Iterator<Item = &'a str>) -> String {
    let Some(first) = texts.next() else {
        return WILDCARD.to_owned();
    };
    let (mut pre, mut suf, mut shortest) = (first.len(), first.len(), first.len());
    for t in texts {
        pre = first
            .bytes()
            .zip(t.bytes())
            .take(pre)
            .take_while(|(a, b)| a == b)
            .count();
        suf = first
            .bytes()
            .rev()
            .zip(t.bytes().rev())
            .take(suf)
            .take_while(|(a, b)| a == b)
            .count();
        shortest = shortest.min(t.len());
    }
    let mut prefix = first.get(..pre).unwrap_or("");
    let mut suffix = first.get(first.len() - suf..).unwrap_or("");
    if let Some(k) = prefix.find(WILDCARD) {
        prefix = &prefix[..k];
    }
    if let Some(k) = suffix.rfind(WILDCARD) {
        suffix = &suffix[k + WILDCARD.len()..];
    }
    prefix = prefix.rfind(ends_prefix).map_or("", |k| &prefix[..=k]);
    suffix = suffix.find(starts_suffix).map_or("", |k| &suffix[k..]);
    if prefix.len() + suffix.len() > shortest {
        suffix = "";
    }
    format!("{prefix}{WILDCARD}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting() {
        assert!(fits("<*>", "admin"));
        assert!(fits("(<*>)", "()"));
        assert!(fits("(<*>)", "(<*>)"));
        assert!(fits("customer-<*>", "customer-42x"));
        assert!(fits("a<*>b<*>c", "aXbYc"));
        assert!(!fits("a<*>b<*>c", "aXcYb"));
        assert!(!fits("(<*>)", "[x]"));
        assert!(!fits("abc", "abc"));
    }

    #[test]
    fn common_patterns_keep_shared_punctuation_only() {
        let c = |v: &[&str]| common(v.iter().copied());
        assert_eq!(
            c(&["(<*>)", "()", "(adsl-<*>)", "(host8.topspot.net)"]),
            "(<*>)"
        );
        assert_eq!(c(&["rhost=", "rhost=<*>"]), "rhost=<*>");
        assert_eq!(c(&["<*>~<*>~amd64~~<*>,", "<*>~<*>~x86~~<*>,"]), "<*>,");
        assert_eq!(c(&["running", "runnable"]), "<*>");
        assert_eq!(c(&["startup", "shutdown", "restart"]), "<*>");
        assert_eq!(c(&["customer-<*>", "<*>"]), "<*>");
        assert_eq!(c(&["a.b", "a.c"]), "a.<*>");
        assert_eq!(c(&["x"]), "<*>");
    }
}
