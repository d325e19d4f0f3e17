//! Every built-in detector through the full [`Detector`]: what it must find
//! (exact spans) and the look-alikes it must leave alone.

use super::kinds::Kind;
use super::*;

fn detector() -> Detector {
    Detector::new(&DetectorConfig::default()).unwrap()
}

/// `(detector name, matched text)` for every finding.
fn find(text: &str) -> Vec<(String, String)> {
    find_with(&detector(), text)
}

fn find_with(d: &Detector, text: &str) -> Vec<(String, String)> {
    let mut scratch = d.scratch();
    d.detect(text, None, &mut scratch)
        .iter()
        .map(|s| {
            let name = match s.what {
                Detected::Builtin(k) => k.name().to_owned(),
                Detected::Custom(i) => format!("custom{i}"),
            };
            (name, text[s.start..s.end].to_owned())
        })
        .collect()
}

fn one(kind: &str, value: &str) -> Vec<(String, String)> {
    vec![(kind.to_owned(), value.to_owned())]
}

#[test]
fn email() {
    assert_eq!(
        find("User alice.484@shop.example.net logged in"),
        one("email", "alice.484@shop.example.net")
    );
    assert_eq!(
        find("to <Bob+tag@Mail.Example.CO.uk>."),
        one("email", "Bob+tag@Mail.Example.CO.uk")
    );
    assert_eq!(
        find("a@xn--d1acufc.xn--p1ai"),
        one("email", "a@xn--d1acufc.xn--p1ai")
    );
    assert!(find("my email is info@presidio. and @mention, user@localhost").is_empty());
}

#[test]
fn ipv4() {
    assert_eq!(find("from 186.153.82.116"), one("ipv4", "186.153.82.116"));
    assert_eq!(find("(192.168.1.1)"), one("ipv4", "192.168.1.1"));
    assert_eq!(find("route 10.0.0.0/8."), one("ipv4", "10.0.0.0/8"));
    // Versions, out-of-range octets, glued words.
    assert!(find("v1.2.3 build 1.2.3 ip 256.1.1.1 IP192.168.1.1text 1.2.3").is_empty());
}

#[test]
fn ipv6() {
    assert_eq!(
        find("from 2001:db8::8a2e:370:7334 ok"),
        one("ipv6", "2001:db8::8a2e:370:7334")
    );
    assert_eq!(
        find("[::ffff:192.168.1.1]:80"),
        one("ipv6", "::ffff:192.168.1.1")
    );
    assert_eq!(find("fe80::1%eth0 up"), one("ipv6", "fe80::1%eth0"));
    assert_eq!(find("Prefix: 2001:db8::/32."), one("ipv6", "2001:db8::/32"));
    assert_eq!(find("text::ffff:192.0.2.1"), one("ipv4", "192.0.2.1"));
    // Times, MAC addresses, C++ paths, ratios.
    assert!(find("at 12:34:56.789 mac aa:bb:cc:dd:ee:ff std::cout 1:2:3:4 :::").is_empty());
}

#[test]
fn credit_card() {
    assert_eq!(
        find("card 4111 1111 1111 1111 declined"),
        one("credit_card", "4111 1111 1111 1111")
    );
    assert_eq!(
        find("card 5500-0000-0000-0004."),
        one("credit_card", "5500-0000-0000-0004")
    );
    assert_eq!(
        find("amex 3400 000000 00009"),
        one("credit_card", "3400 000000 00009")
    );
    // Same layouts failing Luhn (order ids), and 13-digit epoch milliseconds.
    assert!(find("order 4111 1111 1111 1112 id 5500000000000005 at 1738413296125").is_empty());
}

#[test]
fn phone() {
    assert_eq!(
        find("SMS code sent to +1-555-201-3344"),
        one("phone", "+1-555-201-3344")
    );
    assert_eq!(
        find("My US number is (415) 555-0132."),
        one("phone", "(415) 555-0132")
    );
    assert_eq!(
        find("+44 (20) 7123 4567"),
        one("phone", "+44 (20) 7123 4567")
    );
    assert_eq!(
        find("call me at 0494 92 82 32"),
        one("phone", "0494 92 82 32")
    );
    assert_eq!(
        find("Mobile: 03.93.92.16.85"),
        one("phone", "03.93.92.16.85")
    );
    // Timestamps, epoch seconds, durations, street numbers, dates.
    assert!(find("2025-02-01 12:34:56 epoch 1738413296 took 123456 ms").is_empty());
    assert!(find("ship to 370 3911 Fourth Av on 2/8/1935 or 1978-04-13").is_empty());
}

#[test]
fn phone_context_from_attribute_key() {
    let d = detector();
    let mut scratch = d.scratch();
    assert_eq!(
        d.detect("5403926876", Some("user.phone"), &mut scratch)
            .len(),
        1
    );
    assert!(
        d.detect("5403926876", Some("user.id"), &mut scratch)
            .is_empty()
    );
}

#[test]
fn iban() {
    assert_eq!(
        find("My IBAN is GB59IFUE40226315499137"),
        one("iban", "GB59IFUE40226315499137")
    );
    assert_eq!(
        find("iban gb42nawi04454264788619."),
        one("iban", "gb42nawi04454264788619")
    );
    assert_eq!(
        find("to DE89 3704 0044 0532 0130 00 now"),
        one("iban", "DE89 3704 0044 0532 0130 00")
    );
    // Wrong checksum, unknown country, hex ids.
    assert!(find("GB59IFUE40226315499138 ZZ59IFUE40226315499137 ab12cdef0123456789ab").is_empty());
}

#[test]
fn us_ssn() {
    assert_eq!(
        find("His social security number is 853-37-1694"),
        one("us_ssn", "853-37-1694")
    );
    assert_eq!(find("ssn: 078051123"), one("us_ssn", "078051123"));
    assert!(find("078-05-0000 666-12-3456 id 078051123").is_empty());
}

#[test]
fn crypto_wallet() {
    assert_eq!(
        find("to 3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"),
        one("crypto_wallet", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy")
    );
    assert!(find("16Yeky6GMjeNkAiNcBY7ZhrLoMSgg1BoyZ2").is_empty());
}

#[test]
fn jwt_and_bearer() {
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
    assert_eq!(find(&format!("token {jwt} ok")), one("jwt", jwt));
    assert_eq!(
        find(&format!("Authorization: Bearer {jwt}")),
        one("jwt", jwt)
    );
    assert_eq!(
        find("Authorization: Bearer ueG8QllXjj03utgTG16Msi5njI6UcXu0 from"),
        one("bearer_token", "ueG8QllXjj03utgTG16Msi5njI6UcXu0")
    );
    assert!(find("eyJBB.eyJCC.eyJDDDD bearer authentication failed").is_empty());
}

#[test]
fn basic_auth() {
    assert_eq!(
        find("Authorization: Basic dXNlcjpwYXNzd29yZA=="),
        one("basic_auth", "dXNlcjpwYXNzd29yZA==")
    );
    assert!(find("basic authentication required").is_empty());
}

#[test]
fn private_key_block() {
    let text =
        "key=-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY----- done";
    assert_eq!(find(text), one("private_key", &text[4..text.len() - 5]));
    let cut = "-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAA";
    assert_eq!(find(cut), one("private_key", cut));
    assert!(find("-----BEGIN CERTIFICATE-----").is_empty());
}

#[test]
fn url_credentials() {
    assert_eq!(
        find("dsn=postgres://app:s3cr3t@db:5432/x"),
        one("url_credentials", "app:s3cr3t")
    );
    assert!(find("https://example.com:8443/path@v2 and ssh://git@github.com:repo").len() <= 1);
    assert!(find("http://url:8000 @something").is_empty());
}

#[test]
fn secret_pairs() {
    assert_eq!(find("login password=hunter2 ok"), one("secret", "hunter2"));
    assert_eq!(
        find(r#"{"client_secret": "abc123"}"#),
        one("secret", "abc123")
    );
    assert_eq!(find("api_key: Zx9_k"), one("secret", "Zx9_k"));
    assert!(
        find("Sent password reset mail; token_type=bearer; max_tokens=100; cache_key=1").is_empty()
    );
}

#[test]
fn vendor_tokens() {
    let cases = [
        ("aws_access_key", "AKIAIOSFODNN7EXAMPLE"),
        ("github_token", "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"),
        ("gitlab_token", "glpat-hellOworld380_testin"),
        (
            "slack_token",
            "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        ),
        ("stripe_key", "sk_live_ReTllpYQYfIZu2Jnf2lAPFjD"),
        ("google_api_key", "AIzaSyA1234567890abcdefghijklmnopqrstuv"),
        (
            "openai_key",
            "sk-proj-Xi8tdMjHV6pmbBbwilTeT3BlbkFJ3UDnpdEwNNm6wVBpYM0o",
        ),
        ("twilio_key", "SKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
        ("mailchimp_key", "a2937653ed38c31a43ea46e2b19257db-us2"),
        ("npm_token", "npm_abcdefghijklmnopqrstuvwxyz0123456789"),
        (
            "telegram_token",
            "7213808860:AAH1bjqpKKW3maRSPAxzIU-0v6xNuq2-NjM",
        ),
        (
            "discord_token",
            "Nzk5MjgxNDk0NDc2NDU1OTg3.YABS5g.2lmzECVlZv3vv6miVnUaKPQi2wI",
        ),
        ("shopify_token", "shpat_0123456789abcdef0123456789abcdef"),
        ("huggingface_token", "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH"),
        ("artifactory_token", "AKCp8jQ8hS3xnVxkqWnB2aG"),
    ];
    for (kind, token) in cases {
        assert_eq!(
            find(&format!("cfg {token} end")),
            one(kind, token),
            "{kind}"
        );
    }
    let hook = "https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX";
    assert_eq!(
        find(hook),
        one(
            "slack_webhook",
            "T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"
        )
    );
    // Publishable keys are public; look-alike prefixes inside words.
    assert!(
        find("pk_live_j5krY8XTgIcDaHDb3YrsAfCl task-12345678901234567890 disk-usage").is_empty()
    );
    assert!(
        find("akiazzzzzzzzzzzzzzzz APEXCONNECTORS testAP6withinsomeirrelevantstring").is_empty()
    );
}

#[test]
fn overlaps_keep_the_union_under_the_stronger_name() {
    // The value of a secret pair is a GitHub token: one span, the token's.
    assert_eq!(
        find("token=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"),
        one("github_token", "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")
    );
}

#[test]
fn allow_lists_keep_values() {
    let d = Detector::new(&DetectorConfig {
        allow: vec!["127.0.0.1".into(), "Support@Example.com".into()],
        allow_patterns: vec![r"10\.\d+\.\d+\.\d+".into()],
        ..DetectorConfig::default()
    })
    .unwrap();
    let text = "127.0.0.1 10.1.2.3 8.8.8.8 support@example.com bob@example.com";
    assert_eq!(
        find_with(&d, text),
        vec![
            ("ipv4".into(), "8.8.8.8".into()),
            ("email".into(), "bob@example.com".into())
        ]
    );
}

#[test]
fn custom_patterns_in_one_pass() {
    let d = Detector::new(&DetectorConfig {
        custom: vec![r"EMP-\d{6}".into(), r"badge=(\w+)".into()],
        ..DetectorConfig::default()
    })
    .unwrap();
    assert_eq!(
        find_with(&d, "EMP-123456 badge=XK9 EMP-12"),
        vec![
            ("custom0".into(), "EMP-123456".into()),
            ("custom1".into(), "XK9".into())
        ]
    );
    let err = Detector::new(&DetectorConfig {
        custom: vec!["ok".into(), "(unclosed".into()],
        ..DetectorConfig::default()
    })
    .err()
    .unwrap();
    assert!(err.contains("custom pattern 1"), "{err}");
}

#[test]
fn disabled_detectors_do_not_run() {
    let mut enabled = kinds::KindSet::ALL;
    enabled.remove(Kind::Ipv4);
    let d = Detector::new(&DetectorConfig {
        enabled,
        ..DetectorConfig::default()
    })
    .unwrap();
    assert_eq!(find_with(&d, "1.2.3.4 a@b.io"), one("email", "a@b.io"));
}

#[test]
fn offsets_are_char_boundaries_in_non_ascii_text() {
    let text = "Ünïcödé → bob@exämple.com, tél 06 12 34 56 78 — fin";
    let d = detector();
    let mut scratch = d.scratch();
    for s in d.detect(text, None, &mut scratch) {
        assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
    }
    assert_eq!(
        find(text)[0],
        ("email".to_owned(), "bob@exämple.com".to_owned())
    );
}

/// A failed trigger marks the rest of its token as failing for that rule
/// (keeps `eyJa_eyJa_…` linear); the mark must end at the token, so a real
/// JWT after a stray `eyJx.` is still found.
#[test]
fn failed_trigger_does_not_hide_a_later_token() {
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig";
    assert_eq!(find(&format!("eyJx.{jwt}")), one("jwt", jwt));
    let too_long = format!("glagent-{}", "x".repeat(1100));
    assert!(find(&too_long).is_empty());
    let ok = format!("glagent-{}", "x".repeat(60));
    assert_eq!(find(&format!("{too_long} {ok}")), one("gitlab_token", &ok));
}

/// Long token formats are written `{min,}` with a maximum length checked
/// after the match (a counted `{min,max}` cost most of a new tenant's start):
/// the limits must stay exactly where the formats put them.
#[test]
fn token_length_limits_are_exact() {
    for (prefix, max, kind) in [
        ("ghp_", 251, "github_token"),
        ("github_pat_", 244, "github_token"),
        ("xoxb-", 250, "slack_token"),
        ("sk_live_", 247, "stripe_key"),
        ("glagent-", 1024, "gitlab_token"),
    ] {
        let longest = format!("{prefix}{}", "a1".repeat(max).split_at(max).0);
        assert_eq!(
            find(&format!("x {longest} y")),
            one(kind, &longest),
            "{prefix} at {max}"
        );
        let over = format!("{longest}b");
        assert!(
            find(&format!("x {over} y")).is_empty(),
            "{prefix} over {max}"
        );
    }
}

/// Separators inside a value already cut out are data, not new pairs:
/// `password=a=b` is one finding, and a run of them is scanned once.
#[test]
fn separators_inside_a_value_are_not_pairs() {
    assert_eq!(find("password=a=b:c ok"), one("secret", "a=b:c"));
}

/// A value longer than the cut-off made of multi-byte characters: the cut
/// must fall between characters (slicing the text panicked before).
#[test]
fn long_non_ascii_value_is_cut_on_a_char_boundary() {
    let text = format!("password=a{} end", "é".repeat(3000));
    let d = detector();
    let mut scratch = d.scratch();
    let spans = d.detect(&text, None, &mut scratch);
    assert_eq!(spans.len(), 1);
    assert!(text.is_char_boundary(spans[0].end) && spans[0].end > 4000);
}

/// Random texts over the characters the detectors react to (digits,
/// separators, `@ : = - + ( . /`, token prefixes, multi-byte letters): no
/// panic, and spans are sorted, disjoint and on character boundaries.
#[test]
fn random_texts_give_well_formed_spans() {
    const PIECES: &[&str] = &[
        "0",
        "1",
        "4",
        "9",
        "12",
        "255",
        "4111",
        " ",
        "-",
        ".",
        ":",
        "::",
        "=",
        "+",
        "(",
        ")",
        "@",
        "/",
        "_",
        "\"",
        "'",
        "\\",
        "x",
        "a",
        "Z",
        "é",
        "→",
        "eyJ",
        "AKIA",
        "ghp_",
        "sk-",
        "bearer ",
        "Basic ",
        "password",
        "token",
        "-----BEGIN RSA PRIVATE KEY-----",
        "://",
        ":AA",
        "-us",
        "GB82",
        "WEST",
        "\n",
        "\t",
        "ssn ",
        "phone: ",
        "version ",
        "%",
        "{",
        "}",
    ];
    let d = detector();
    let mut scratch = d.scratch();
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..20_000 {
        let len = (next() % 40) as usize;
        let text: String = (0..len)
            .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
            .collect();
        let spans = d.detect(&text, Some("k"), &mut scratch);
        let mut last_end = 0;
        for s in spans {
            assert!(
                s.start >= last_end && s.start < s.end && s.end <= text.len(),
                "{text:?}"
            );
            assert!(
                text.is_char_boundary(s.start) && text.is_char_boundary(s.end),
                "{text:?}"
            );
            last_end = s.end;
        }
    }
}
