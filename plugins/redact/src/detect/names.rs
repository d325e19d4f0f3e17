//! Which identifiers name a secret: `db_password`, `X-Api-Key`,
//! `authToken`, `SLAPIKEY`, `cloud-iam-key` do; `cache_key`, `token_type`,
//! `max_tokens`, `secret_name` do not. Used for `name=value` pairs in text
//! and for attribute keys.

/// A secret name contains one of these (ASCII case-insensitive); the rest
/// of the names are rejected without further work.
const FRAGMENTS: &[&[u8]] = &[
    b"pass",
    b"pw",
    b"secret",
    b"token",
    b"key",
    b"auth",
    b"credential",
];

/// A name component ending in one of these makes the name secret.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "secret",
    "secrets",
    "token",
    "apikey",
    "credential",
    "credentials",
    "authorization",
    "accesskey",
    "accountkey",
    "privatekey",
    "secretkey",
];

/// `…_key` is secret after one of these (`api_key`, `cloud-iam-key`), not
/// after others (`cache_key`, `partition_key`).
const KEY_QUALIFIERS: &[&str] = &[
    "api",
    "access",
    "secret",
    "private",
    "client",
    "app",
    "master",
    "encryption",
    "signing",
    "ssh",
    "account",
    "consumer",
    "cloudant",
    "softlayer",
    "sl",
    "slapi",
    "iam",
    "cloud",
    "ibm",
    "artif",
    "artifactory",
    "storage",
    "subscription",
    "service",
    "admin",
    "auth",
    "hmac",
    "cos",
    "license",
    "webhook",
    "aws",
    "gcp",
    "azure",
    "deploy",
    "bot",
    "session",
    "jwt",
    "stripe",
];

/// A last component like these describes the secret instead of holding it
/// (`token_type`, `password_reset`, `secret_name`, `api_key_id`).
const META_WORDS: &[&str] = &[
    "type",
    "count",
    "length",
    "len",
    "expiry",
    "expires",
    "expiration",
    "ttl",
    "policy",
    "reset",
    "changed",
    "updated",
    "age",
    "strength",
    "enabled",
    "required",
    "limit",
    "url",
    "uri",
    "endpoint",
    "name",
    "file",
    "path",
    "id",
    "hint",
    "prompt",
    "field",
    "header",
    "format",
    "version",
    "min",
    "max",
    "size",
    "method",
    "status",
    "valid",
    "expired",
    "rotation",
];

/// Split a name into lower-case components at `_ . -` and camelCase humps.
fn components(name: &[u8], buf: &mut [u8; 128]) -> ([(u8, u8); 16], usize) {
    let name = &name[..name.len().min(buf.len())];
    let mut parts = [(0u8, 0u8); 16];
    let mut n = 0;
    let mut start = None::<usize>;
    for (i, &c) in name.iter().enumerate() {
        buf[i] = c.to_ascii_lowercase();
        let hump = i > 0 && c.is_ascii_uppercase() && name[i - 1].is_ascii_lowercase();
        let sep = !c.is_ascii_alphanumeric();
        if let Some(s) = start
            && (sep || hump)
            && n < parts.len()
        {
            parts[n] = (s as u8, i as u8);
            n += 1;
            start = None;
        }
        if !sep && start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start
        && n < parts.len()
    {
        parts[n] = (s as u8, name.len() as u8);
        n += 1;
    }
    (parts, n)
}

/// Whether an identifier names a secret (`db_password`, `X-Api-Key`,
/// `authToken`, `SLAPIKEY`), and not something about one (`token_type`).
pub fn key_is_secret(name: &str) -> bool {
    // Every secret word and qualified `key` contains a fragment: most names
    // (`user_id`, `status`) are answered by this scan alone.
    if !has_fragment(name.as_bytes()) {
        return false;
    }
    let mut buf = [0u8; 128];
    let (parts, n) = components(name.as_bytes(), &mut buf);
    if n == 0 {
        return false;
    }
    // Components hold ASCII letters and digits only (everything else
    // separates), so they compare as bytes: no UTF-8 check per lookup.
    let word = |i: usize| {
        let (s, e) = parts[i];
        &buf[usize::from(s)..usize::from(e)]
    };
    let last = word(n - 1);
    if META_WORDS.iter().any(|w| w.as_bytes() == last) {
        return false;
    }
    if matches!(last, b"pass" | b"pw") {
        return true;
    }
    if last == b"key" && n > 1 && KEY_QUALIFIERS.iter().any(|w| w.as_bytes() == word(n - 2)) {
        return true;
    }
    (0..n).any(|i| {
        let word = word(i);
        SECRET_WORDS.iter().any(|w| word.ends_with(w.as_bytes()))
    })
}

/// Whether `name` contains a [`FRAGMENTS`] entry: a two-byte window test
/// per position, the full comparison only where a fragment can start.
pub(super) fn has_fragment(name: &[u8]) -> bool {
    const fn pair(s: &[u8; 2]) -> u16 {
        u16::from_le_bytes(*s)
    }
    name.windows(2).enumerate().any(|(i, w)| {
        // `| 0x2020` folds ASCII case; non-letters cannot fold into a pair.
        let p = u16::from_le_bytes([w[0], w[1]]) | 0x2020;
        const PA: u16 = pair(b"pa");
        const PW: u16 = pair(b"pw");
        const SE: u16 = pair(b"se");
        const TO: u16 = pair(b"to");
        const KE: u16 = pair(b"ke");
        const AU: u16 = pair(b"au");
        const CR: u16 = pair(b"cr");
        matches!(p, PA | PW | SE | TO | KE | AU | CR)
            && FRAGMENTS
                .iter()
                .any(|f| name.len() - i >= f.len() && name[i..i + f.len()].eq_ignore_ascii_case(f))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_are_and_are_not_secret() {
        for yes in [
            "password",
            "db_password",
            "X-Api-Key",
            "authToken",
            "SLAPIKEY",
            "sl_pass",
            "cloudant_pw",
            "client_secret",
            "ibm-cloud-pwd",
            "AccountKey",
            "cloud-iam-key",
        ] {
            assert!(key_is_secret(yes), "{yes}");
        }
        for no in [
            "cache_key",
            "token_type",
            "password_reset",
            "max_tokens",
            "bypass",
            "secret_name",
            "key",
            "primary_key",
            "tokenizer",
        ] {
            assert!(!key_is_secret(no), "{no}");
        }
    }
}
