//! `password=…`, `"api_key": "…"`, `X-Api-Key: …`, `secret_access_key := …`:
//! a secret-sounding name, a separator, a value. The scanner stops at every
//! `=` and `:`; here the identifier before it is judged (a cheap fragment
//! check first, then its components), the value after it is cut out, and
//! vendor formats (AWS, Cloudant, IBM, SoftLayer) are told apart by name and
//! value shape.

use super::kinds::{Kind, KindSet};
use super::names::has_fragment;
pub use super::names::key_is_secret;
use super::{Detected, Span};

/// Values that are not secrets: placeholders and already-masked text.
const NOT_VALUES: &[&str] = &[
    "null",
    "none",
    "nil",
    "true",
    "false",
    "undefined",
    "redacted",
    "hidden",
    "masked",
    "bearer",
    "basic",
];

/// Longest value cut out; longer ones are cut here (the rest is kept).
const MAX_VALUE: usize = 4096;

/// Longest name looked at before a separator (longer ones are not keys).
const MAX_NAME: usize = 128;

fn ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-')
}

/// Handle the separator (`=` or `:`) at `sep`: a secret name before it and a
/// value after it make a finding. Returns the end of the value, so that
/// separators inside it (`password=a=b`) are not examined again.
pub(super) fn at_separator(
    b: &[u8],
    sep: usize,
    enabled: KindSet,
    out: &mut Vec<Span>,
) -> Option<usize> {
    let mut ke = sep;
    while ke > 0 && matches!(b[ke - 1], b' ' | b'\t') {
        ke -= 1;
    }
    if ke > 0 && matches!(b[ke - 1], b'"' | b'\'') {
        ke -= 1;
        if ke > 0 && b[ke - 1] == b'\\' {
            ke -= 1;
        }
    }
    let mut ks = ke;
    while ks > 0 && ke - ks < MAX_NAME && ident_char(b[ks - 1]) {
        ks -= 1;
    }
    if ks == ke || !has_fragment(&b[ks..ke]) {
        return None;
    }
    let name = std::str::from_utf8(&b[ks..ke]).ok()?;
    if !key_is_secret(name) {
        return None;
    }
    let (vs, ve) = value_after(b, ke)?;
    if let Some(kind) = classify(name, &b[vs..ve], enabled) {
        out.push(Span {
            start: vs,
            end: ve,
            what: Detected::Builtin(kind),
        });
    }
    Some(ve)
}

/// The value after a name ending at `j`: `name = v`, `"name": "v"`,
/// `name:=v`, `name => 'v'`, `Authorization: Bearer v`.
fn value_after(b: &[u8], mut j: usize) -> Option<(usize, usize)> {
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    if at(j) == b'"' || at(j) == b'\'' {
        j += 1;
    } else if at(j) == b'\\' && at(j + 1) == b'"' {
        j += 2;
    }
    while matches!(at(j), b' ' | b'\t') {
        j += 1;
    }
    match (at(j), at(j + 1)) {
        (b':', b'=') | (b'=', b'>') => j += 2,
        (b':', b':') | (b'=', b'=') => return None,
        (b':', _) | (b'=', _) => j += 1,
        _ => return None,
    }
    while matches!(at(j), b' ' | b'\t') {
        j += 1;
    }
    let (vs, ve) = value_at(b, j)?;
    // `Authorization: Bearer abc` — the credential is the word after the scheme.
    let word = &b[vs..ve];
    if ["bearer", "basic", "token", "digest", "negotiate"]
        .iter()
        .any(|s| word.eq_ignore_ascii_case(s.as_bytes()))
        && at(ve) == b' '
    {
        let (vs, ve) = value_at(b, ve + 1)?;
        return (!filtered(b, vs, ve)).then_some((vs, ve));
    }
    (!filtered(b, vs, ve)).then_some((vs, ve))
}

/// A quoted or bare value starting at `j`.
fn value_at(b: &[u8], j: usize) -> Option<(usize, usize)> {
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let limit = (j + MAX_VALUE).min(b.len());
    let quoted = |vs: usize, close: &[u8]| {
        let mut i = vs;
        while i < limit {
            if b[i..].starts_with(close) {
                return Some((vs, i));
            }
            i += if b[i] == b'\\' && close.len() == 1 {
                2
            } else {
                1
            };
        }
        None
    };
    let found = match at(j) {
        q @ (b'"' | b'\'' | b'`') => quoted(j + 1, &[q]),
        b'\\' if at(j + 1) == b'"' => quoted(j + 2, b"\\\""),
        _ => None,
    };
    let (vs, ve) = match found {
        Some(v) => v,
        None => {
            let vs = if matches!(at(j), b'"' | b'\'' | b'`') {
                j + 1
            } else {
                j
            };
            let mut ve = vs;
            while ve < limit && !ends_bare(b, ve) {
                ve += 1;
            }
            // Cut at MAX_VALUE: never inside a UTF-8 character.
            while ve > vs && ve < b.len() && b[ve] & 0xC0 == 0x80 {
                ve -= 1;
            }
            (vs, ve)
        }
    };
    (ve > vs).then_some((vs, ve))
}

fn ends_bare(b: &[u8], i: usize) -> bool {
    let c = b[i];
    c.is_ascii_whitespace()
        || matches!(
            c,
            b',' | b';' | b'&' | b'"' | b'\'' | b')' | b']' | b'{' | b'}' | b'<' | b'>'
        )
        || (c == b'\\' && b.get(i + 1) == Some(&b'"'))
}

/// Placeholders (`${TOKEN}`, `%s`, `$PASSWORD`, `<secret>`), masks (`****`,
/// `[SECRET]`), objects (`Token{a64f992 …}`) and non-values (`null`, `true`).
fn filtered(b: &[u8], vs: usize, ve: usize) -> bool {
    let v = &b[vs..ve];
    if b.get(ve) == Some(&b'{') {
        return true;
    }
    let first = v[0];
    if matches!(first, b'{' | b'[' | b'<' | b'%') || v.starts_with(b"${") {
        return true;
    }
    if first == b'$' && v[1..].iter().all(|c| c.is_ascii_uppercase() || *c == b'_') {
        return true;
    }
    if v.iter()
        .all(|&c| c == b'*' || c == b'x' || c == b'X' || c == b'.')
    {
        return true;
    }
    NOT_VALUES
        .iter()
        .any(|w| v.eq_ignore_ascii_case(w.as_bytes()))
}

/// The detector a value belongs to: a vendor format when name and shape say
/// so, else the generic secret.
fn classify(name: &str, value: &[u8], enabled: KindSet) -> Option<Kind> {
    let lower = name.to_ascii_lowercase();
    let compact: String = lower.chars().filter(char::is_ascii_alphanumeric).collect();
    let all = |f: fn(&u8) -> bool| value.iter().all(f);
    let hex = |c: &u8| c.is_ascii_digit() || (b'a'..=b'f').contains(c);
    let lower_alnum = |c: &u8| c.is_ascii_digit() || c.is_ascii_lowercase();
    let n = value.len();
    let sl_prefix = ["sl_", "sl-", "slapi", "--sl"]
        .iter()
        .any(|p| lower.starts_with(p));
    let candidates = [
        (
            Kind::AwsSecretKey,
            compact.contains("aws")
                && n == 40
                && all(|c| c.is_ascii_alphanumeric() || *c == b'/' || *c == b'+'),
        ),
        (
            Kind::CloudantCredentials,
            compact.contains("cloudant")
                && ((n == 64 && all(hex)) || (n == 24 && all(u8::is_ascii_lowercase))),
        ),
        (
            Kind::SoftlayerKey,
            (compact.contains("softlayer") || sl_prefix) && n == 64 && all(lower_alnum),
        ),
        (
            Kind::IbmCosHmacKey,
            compact.contains("secretaccesskey") || compact.contains("secretkey"),
        ),
        (
            Kind::IbmCloudIamKey,
            ["ibm", "cloud", "iam"].iter().any(|w| compact.contains(w))
                && n == 44
                && all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-'),
        ),
    ];
    for (kind, matched) in candidates {
        let shape_ok = kind != Kind::IbmCosHmacKey || (n == 48 && all(hex));
        if matched && shape_ok && enabled.contains(kind) {
            return Some(kind);
        }
    }
    enabled.contains(Kind::Secret).then_some(Kind::Secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<(Kind, &str)> {
        let b = text.as_bytes();
        let mut out = Vec::new();
        let mut done = 0;
        for i in memchr::memchr2_iter(b'=', b':', b) {
            if i >= done {
                done = at_separator(b, i, KindSet::ALL, &mut out).unwrap_or(0);
            }
        }
        out.iter()
            .map(|s| match s.what {
                Detected::Builtin(k) => (k, &text[s.start..s.end]),
                Detected::Custom(_) => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn value_forms() {
        assert_eq!(
            found("login password=hunter2 ok"),
            [(Kind::Secret, "hunter2")]
        );
        assert_eq!(
            found(r#"{"user":"bob","password": "p@ss w0rd"}"#),
            [(Kind::Secret, "p@ss w0rd")]
        );
        assert_eq!(
            found(r#"{\"api_key\":\"abc123\"}"#),
            [(Kind::Secret, "abc123")]
        );
        assert_eq!(
            found("X-Api-Key: k3y-v@lue\r\n"),
            [(Kind::Secret, "k3y-v@lue")]
        );
        assert_eq!(
            found("Authorization: Token abc.def"),
            [(Kind::Secret, "abc.def")]
        );
        assert_eq!(found("?access_token=xyz&page=2"), [(Kind::Secret, "xyz")]);
        assert_eq!(found("ibm_iam_key:= 'v1'"), [(Kind::Secret, "v1")]);
    }

    #[test]
    fn placeholders_and_prose_are_not_values() {
        assert!(found("password reset mail sent").is_empty());
        assert!(found("token=${NPM_TOKEN} pass=%s pwd=$PASSWORD secret=****").is_empty());
        assert!(found("cache_key=session:1 token_type=bearer password=null").is_empty());
    }

    #[test]
    fn vendor_shapes() {
        let aws = r#"aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY""#;
        assert_eq!(found(aws)[0].0, Kind::AwsSecretKey);
        let cos = format!("secret_access_key={}", "0123456789abcdef".repeat(3));
        assert_eq!(found(&cos)[0].0, Kind::IbmCosHmacKey);
        let sl = format!("sl_api_key: {}", "abcd1234".repeat(8));
        assert_eq!(found(&sl)[0].0, Kind::SoftlayerKey);
        assert_eq!(found("cl_api_key = \"a-fake-api-key\"")[0].0, Kind::Secret);
    }
}
