//! The hand-written parser against serde_json: the same flattened fields
//! for valid objects, the same verdict for broken ones.

use serde_json::Value as Json;
use sluice_plugin_sdk::testing::Harness;
use sluice_plugin_sdk::{Event, Outcome, Value};

use super::MAX_FLATTEN_DEPTH;
use crate::Normalize;

/// JSON only, no names taken for the event's own fields: every scalar
/// becomes an attribute, so attributes are the flattened object.
const FLAT: &str = r#"
formats = ["json"]
on_unparsed = "dead-letter"
[fields]
message = []
level = []
timestamp = []
service = []
project = []
"#;

fn ours(text: &str) -> Result<Vec<(String, Value)>, String> {
    let mut h = Harness::<Normalize>::new(FLAT).unwrap();
    match h.process(vec![Event::from_raw(text)]).outcomes.remove(0) {
        Outcome::Keep(e) => Ok(e.attributes.into_iter().map(|a| (a.key, a.value)).collect()),
        Outcome::Fail(reason) => Err(reason),
        other => panic!("{other:?}"),
    }
}

/// What the flattening must give, computed from serde_json's tree.
fn reference(value: &Json) -> Vec<(String, Value)> {
    fn walk(v: &Json, path: &str, depth: usize, out: &mut Vec<(String, Value)>) {
        let value = match v {
            Json::Object(map) if depth < MAX_FLATTEN_DEPTH => {
                for (k, child) in map {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(child, &p, depth + 1, out);
                }
                return;
            }
            Json::Object(_) | Json::Array(_) => Value::Json(v.to_string()),
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Boolean(*b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Value::Integer(i),
                None => Value::Float(n.as_f64().unwrap()),
            },
            Json::String(s) => Value::Text(s.clone()),
        };
        out.push((path.to_owned(), value));
    }
    let mut out = Vec::new();
    walk(value, "", 0, &mut out);
    out
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => {
            x == y || (x - y).abs() <= 1e-15 * x.abs().max(y.abs())
        }
        // Ours keeps the text as sent; compare what it means.
        (Value::Json(x), Value::Json(y)) => {
            serde_json::from_str::<Json>(x).unwrap() == serde_json::from_str::<Json>(y).unwrap()
        }
        _ => a == b,
    }
}

/// xorshift, so that failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn ws(rng: &mut Rng, out: &mut String) {
    for _ in 0..rng.below(3).saturating_sub(1) {
        out.push([' ', '\n', '\t', '\r'][rng.below(4) as usize]);
    }
}

fn string(rng: &mut Rng, out: &mut String) {
    out.push('"');
    for _ in 0..rng.below(8) {
        match rng.below(12) {
            0 => out.push_str("\\\""),
            1 => out.push_str("\\\\"),
            2 => out.push_str("\\n"),
            3 => out.push_str("\\u00e9"),
            4 => out.push_str("\\ud83d\\ude00"),
            5 => out.push('é'),
            6 => out.push_str("\\/"),
            _ => out.push(char::from(b'a' + rng.below(26) as u8)),
        }
    }
    out.push('"');
}

fn number(rng: &mut Rng, out: &mut String) {
    let n = match rng.below(7) {
        0 => "0".to_owned(),
        1 => format!("-{}", rng.below(1000)),
        2 => format!("{}", rng.next()),
        3 => format!("{}.{}", rng.below(100), rng.below(1000)),
        4 => format!("{}e{}", rng.below(10), rng.below(20) as i64 - 10),
        5 => format!("-{}.{}E+{}", rng.below(10), rng.below(10), rng.below(5)),
        _ => format!("{}", rng.below(1 << 40)),
    };
    out.push_str(&n);
}

fn value(rng: &mut Rng, out: &mut String, depth: usize) {
    ws(rng, out);
    match rng.below(if depth > 10 { 5 } else { 8 }) {
        0 => string(rng, out),
        1 => number(rng, out),
        2 => out.push_str(["true", "false", "null"][rng.below(3) as usize]),
        3 | 4 => string(rng, out),
        5 | 6 => object(rng, out, depth + 1),
        _ => {
            out.push('[');
            for i in 0..rng.below(4) {
                if i > 0 {
                    out.push(',');
                }
                value(rng, out, depth + 1);
            }
            ws(rng, out);
            out.push(']');
        }
    }
    ws(rng, out);
}

fn object(rng: &mut Rng, out: &mut String, depth: usize) {
    out.push('{');
    for i in 0..rng.below(5) {
        if i > 0 {
            out.push(',');
        }
        ws(rng, out);
        // Unique keys: serde_json's map would keep only the last duplicate.
        out.push_str(&format!(
            "\"k{i}{}\"",
            ["", "_x", "\\u0041"][rng.below(3) as usize]
        ));
        ws(rng, out);
        out.push(':');
        value(rng, out, depth);
    }
    ws(rng, out);
    out.push('}');
}

#[test]
fn valid_objects_flatten_like_serde_json() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for case in 0..3000 {
        let mut text = String::new();
        object(&mut rng, &mut text, 0);
        let tree: Json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let want = reference(&tree);
        let got = ours(&text).unwrap_or_else(|e| panic!("case {case}: {text}: {e}"));
        assert_eq!(
            got.len(),
            want.len(),
            "case {case}: {text}\n{got:?}\n{want:?}"
        );
        for ((gk, gv), (wk, wv)) in got.iter().zip(&want) {
            assert_eq!(gk, wk, "case {case}: {text}");
            assert!(same(gv, wv), "case {case}: {text}: {gk}: {gv:?} vs {wv:?}");
        }
    }
}

#[test]
fn broken_objects_are_refused_like_serde_json() {
    let mut rng = Rng(0xD1B5_4A32_D192_ED03);
    let noise = b"{}[]\":,.-+eE01a\\ tfn";
    let mut refused = 0;
    for case in 0..5000 {
        let mut text = String::new();
        object(&mut rng, &mut text, 0);
        let mut bytes = text.into_bytes();
        for _ in 0..=rng.below(2) {
            let at = rng.below(bytes.len() as u64) as usize;
            match rng.below(3) {
                0 => {
                    bytes.remove(at);
                }
                1 => bytes.insert(at, noise[rng.below(noise.len() as u64) as usize]),
                _ => bytes[at] = noise[rng.below(noise.len() as u64) as usize],
            }
        }
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        if !text.trim_start().starts_with('{') {
            continue;
        }
        let serde = serde_json::from_str::<Json>(&text);
        if let Err(e) = &serde
            && ["surrogate", "hex escape", "control character"]
                .iter()
                .any(|lenient| e.to_string().contains(lenient))
        {
            continue; // our two leniencies: lone surrogates, raw control characters
        }
        let ok_serde = serde.is_ok_and(|v| v.is_object());
        let ok_ours = ours(&text).is_ok();
        assert_eq!(ok_ours, ok_serde, "case {case}: {text}");
        refused += usize::from(!ok_ours);
    }
    assert!(
        refused > 2000,
        "mutations should mostly break the JSON: {refused}"
    );
}

#[test]
fn errors_say_what_and_where() {
    let cases = [
        (
            r#"{"a":1,}"#,
            "invalid JSON: trailing comma at line 1 column 8",
        ),
        (
            r#"{"a":[1,]}"#,
            "invalid JSON: trailing comma at line 1 column 9",
        ),
        (
            r#"{"a":1,2}"#,
            "invalid JSON: expected a string key at line 1 column 8",
        ),
        (
            r#"{"a" 1}"#,
            "invalid JSON: expected `:` at line 1 column 6",
        ),
        (
            r#"{"a":tru}"#,
            "invalid JSON: expected a value at line 1 column 6",
        ),
        (
            r#"{"a":"x"#,
            "invalid JSON: unexpected end of input at line 1 column 8",
        ),
        (
            "{\"a\":1}\n x",
            "invalid JSON: trailing characters at line 2 column 2",
        ),
        (
            r#"{"a":"\q"}"#,
            "invalid JSON: invalid escape at line 1 column 8",
        ),
        (
            r#"{"a":01}"#,
            "invalid JSON: expected `,` or `}` at line 1 column 7",
        ),
        (
            r#"{"a":[1 2]}"#,
            "invalid JSON: expected `,` or `]` at line 1 column 9",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(
            ours(text).unwrap_err(),
            format!("normalize: {want}"),
            "{text}"
        );
    }
}

#[test]
fn quote_search_finds_the_first_of_either() {
    use super::find_quote_or_backslash as find;
    for len in 0..40 {
        for at in 0..len {
            for c in [b'"', b'\\'] {
                let mut b = vec![b'a'; len];
                b[at] = c;
                // A later hit and bytes that differ from `"` by one bit must not confuse it.
                if at + 3 < len {
                    b[at + 3] = b'"';
                }
                if at > 0 {
                    b[at - 1] = b'"' ^ 1;
                }
                assert_eq!(find(&b), Some(at), "len {len} at {at}");
            }
        }
        assert_eq!(find(&vec![b'#'; len]), None);
    }
}

#[test]
fn leniencies_for_logs() {
    // A raw tab inside a string, and a lone surrogate escape.
    let got = ours("{\"a\":\"x\ty\",\"b\":\"\\ud800z\"}").unwrap();
    assert_eq!(got[0], ("a".into(), Value::Text("x\ty".into())));
    assert_eq!(got[1], ("b".into(), Value::Text("\u{FFFD}z".into())));
}

#[test]
fn nesting_is_bounded() {
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(200), "]".repeat(200));
    assert_eq!(
        ours(&deep).unwrap_err(),
        "normalize: invalid JSON: nesting too deep at line 1 column 134"
    );
}
