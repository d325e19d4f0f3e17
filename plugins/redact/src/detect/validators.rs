//! Checks that turn a candidate shape into a finding: checksums (Luhn,
//! mod-97, base58check, bech32), issuer and country tables, address ranges.
//! They run only on candidates, never on whole texts.

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use sha2::{Digest, Sha256};

/// Luhn checksum over the digits of `digits` (non-digits ignored).
pub fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    let mut double = false;
    let mut count = 0;
    for &c in digits.iter().rev() {
        if !c.is_ascii_digit() {
            continue;
        }
        let mut d = u32::from(c - b'0');
        if double {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
        double = !double;
        count += 1;
    }
    count > 0 && sum.is_multiple_of(10)
}

/// Whether a card number of `digits` (digits only) has an issuer prefix that
/// issues numbers of that length. Rejects e.g. 13-digit epoch milliseconds
/// (`17…`), which pass Luhn one time in ten.
pub fn card_issuer_ok(digits: &[u8]) -> bool {
    let n = digits.len();
    if !(12..=19).contains(&n) {
        return false;
    }
    let p2 = u32::from(digits[0] - b'0') * 10 + u32::from(digits[1] - b'0');
    let p4 = p2 * 100 + u32::from(digits[2] - b'0') * 10 + u32::from(digits[3] - b'0');
    match digits[0] {
        // Visa.
        b'4' => matches!(n, 13 | 16 | 19),
        // Mastercard 51-55; Maestro 50, 56-59.
        b'5' if (51..=55).contains(&p2) => n == 16,
        b'5' => true,
        // Mastercard 2221-2720, Mir 2200-2204, JCB 2131.
        b'2' if (2221..=2720).contains(&p4) => n == 16,
        b'2' if (2200..=2204).contains(&p4) => n >= 16,
        b'2' => p4 == 2131 && n == 15,
        // Amex 34/37, Diners 30/36/38/39, JCB 35.
        b'3' => match p2 {
            34 | 37 => n == 15,
            30 | 36 | 38 | 39 => n >= 14,
            35 => n >= 16,
            _ => false,
        },
        // Maestro 63/67 (12-19), Discover/UnionPay/RuPay 60/62/64/65.
        b'6' => match p2 {
            63 | 67 => true,
            60 | 62 | 64 | 65 => n >= 16,
            _ => false,
        },
        // UATP and JCB 1800: 15 digits only.
        b'1' => n == 15,
        _ => false,
    }
}

/// IBAN length per country (SWIFT registry).
const IBAN_LENGTHS: &[(&[u8; 2], u8)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GI", 23),
    (b"GL", 18),
    (b"GR", 27),
    (b"GT", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MK", 19),
    (b"MN", 20),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PK", 24),
    (b"PL", 28),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"XK", 20),
    (b"YE", 30),
];

/// The IBAN length of the country whose code starts `iban` (any case).
pub fn iban_length(iban: &[u8]) -> Option<usize> {
    let code = [
        iban.first()?.to_ascii_uppercase(),
        iban.get(1)?.to_ascii_uppercase(),
    ];
    IBAN_LENGTHS
        .iter()
        .find(|(c, _)| **c == code)
        .map(|(_, n)| usize::from(*n))
}

/// Mod-97 check of an IBAN given as its alphanumeric characters only.
pub fn iban_valid(chars: &[u8]) -> bool {
    if iban_length(chars) != Some(chars.len()) || !chars[2..4].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut rem = 0u32;
    for &c in chars[4..].iter().chain(&chars[..4]) {
        match c {
            b'0'..=b'9' => rem = (rem * 10 + u32::from(c - b'0')) % 97,
            b'a'..=b'z' | b'A'..=b'Z' => {
                let v = u32::from(c.to_ascii_uppercase() - b'A') + 10;
                rem = (rem * 100 + v) % 97;
            }
            _ => return false,
        }
    }
    rem == 1
}

/// Parse a dotted-quad IPv4 address at the start of `b`; returns its length.
/// Each octet is 1-3 digits (the longest run: `1.2.3.256` is not `1.2.3.25`)
/// and at most 255.
pub fn ipv4_len(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    for octet in 0..4 {
        if octet > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut value = 0u32;
        while i < b.len() && b[i].is_ascii_digit() {
            value = value * 10 + u32::from(b[i] - b'0');
            i += 1;
            if i - start > 3 {
                return None;
            }
        }
        if i == start || value > 255 {
            return None;
        }
    }
    Some(i)
}

/// Whether `s` is an IPv6 address (all RFC 4291 text forms, embedded IPv4
/// included).
pub fn ipv6_valid(s: &str) -> bool {
    s.contains(':') && s.parse::<std::net::Ipv6Addr>().is_ok()
}

/// US SSN rules: area not 000, 666 or 9xx; group not 00; serial not 0000;
/// and not one of the numbers published in advertising.
pub fn ssn_valid(d: &[u8]) -> bool {
    if d.len() != 9 {
        return false;
    }
    let area = &d[..3];
    if area == b"000" || area == b"666" || area[0] == b'9' {
        return false;
    }
    if &d[3..5] == b"00" || &d[5..] == b"0000" {
        return false;
    }
    if d.iter().all(|&c| c == d[0]) {
        return false;
    }
    !matches!(d, b"078051120" | b"219099999" | b"123456789")
}

/// Base64url decoding that accepts missing padding, as JWT segments have none.
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Whether the base64url text decodes to a JSON value.
fn decodes_to_json(segment: &[u8]) -> bool {
    match URL_SAFE_LENIENT.decode(segment) {
        Ok(bytes) => serde_json::from_slice::<serde::de::IgnoredAny>(&bytes).is_ok(),
        Err(_) => false,
    }
}

/// A JWT is real when its header and payload decode to JSON; a signature, if
/// present, must be valid base64url.
pub fn jwt_valid(token: &[u8]) -> bool {
    let mut parts = token.split(|&c| c == b'.');
    let (Some(header), Some(payload)) = (parts.next(), parts.next()) else {
        return false;
    };
    if !decodes_to_json(header) || !decodes_to_json(payload) {
        return false;
    }
    match parts.next() {
        Some(sig) if !sig.is_empty() => URL_SAFE_LENIENT.decode(sig).is_ok(),
        _ => true,
    }
}

/// `Basic` credentials decode to `user:password`.
pub fn basic_auth_valid(b64: &[u8]) -> bool {
    match general_purpose::STANDARD.decode(b64) {
        Ok(bytes) => std::str::from_utf8(&bytes)
            .is_ok_and(|s| s.contains(':') && s.len() >= 3 && !s.chars().any(char::is_control)),
        Err(_) => false,
    }
}

const BASE58: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// A legacy Bitcoin address: base58 that decodes to 25 bytes whose last four
/// are the double-SHA-256 checksum of the rest.
pub fn base58check_address(s: &[u8]) -> bool {
    if !(26..=35).contains(&s.len()) {
        return false;
    }
    let mut bytes = [0u8; 25];
    for &c in s {
        let Some(mut carry) = BASE58.iter().position(|&b| b == c).map(|v| v as u32) else {
            return false;
        };
        for byte in bytes.iter_mut().rev() {
            carry += u32::from(*byte) * 58;
            *byte = (carry & 0xff) as u8;
            carry >>= 8;
        }
        if carry != 0 {
            return false;
        }
    }
    let first = Sha256::digest(&bytes[..21]);
    let second = Sha256::digest(first);
    second[..4] == bytes[21..]
}

/// A segwit Bitcoin address (`bc1…`): bech32 (witness v0) or bech32m (v1+).
pub fn bech32_address(s: &[u8]) -> bool {
    const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    if !(14..=74).contains(&s.len()) || !s[..3].eq_ignore_ascii_case(b"bc1") {
        return false;
    }
    let lower = s.iter().any(u8::is_ascii_lowercase);
    let upper = s.iter().any(u8::is_ascii_uppercase);
    if lower && upper {
        return false;
    }
    let mut values = [0u8; 74];
    let data = &s[3..];
    for (slot, &c) in values.iter_mut().zip(data) {
        let c = c.to_ascii_lowercase();
        match CHARSET.iter().position(|&x| x == c) {
            Some(v) => *slot = v as u8,
            None => return false,
        }
    }
    let values = &values[..data.len()];
    let mut chk: u32 = 1;
    let mut step = |v: u8| {
        const GEN: [u32; 5] = [
            0x3b6a_57b2,
            0x2650_8e6d,
            0x1ea1_19fa,
            0x3d42_33dd,
            0x2a14_62b3,
        ];
        let top = chk >> 25;
        chk = ((chk & 0x01ff_ffff) << 5) ^ u32::from(v);
        for (i, g) in GEN.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                chk ^= g;
            }
        }
    };
    // Human-readable part "bc", expanded.
    for v in [b'b' >> 5, b'c' >> 5, 0, b'b' & 31, b'c' & 31] {
        step(v);
    }
    for &v in values {
        step(v);
    }
    let version = values.first().copied().unwrap_or(0);
    let want = if version == 0 { 1 } else { 0x2bc8_30a3 };
    chk == want
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_accepts_test_cards_and_rejects_a_changed_digit() {
        assert!(luhn(b"4111111111111111"));
        assert!(luhn(b"4012-8888-8888-1881"));
        assert!(!luhn(b"4012888888881882"));
        assert!(!luhn(b""));
    }

    #[test]
    fn issuer_table_knows_lengths() {
        assert!(card_issuer_ok(b"378282246310005")); // Amex 15
        assert!(!card_issuer_ok(b"3782822463100051")); // Amex 16
        assert!(card_issuer_ok(b"122000000000003")); // UATP 15
        assert!(!card_issuer_ok(b"1738413296123")); // epoch ms
        assert!(card_issuer_ok(b"630427373398")); // Maestro 12
        assert!(!card_issuer_ok(b"912345678901")); // no issuer 9
    }

    #[test]
    fn iban_checksum_and_country_length() {
        assert!(iban_valid(b"GB82WEST12345698765432"));
        assert!(iban_valid(b"gb82west12345698765432"));
        assert!(!iban_valid(b"GB82WEST12345698765433"));
        assert!(!iban_valid(b"GB82WEST1234569876543")); // too short for GB
        assert!(!iban_valid(b"ZZ82WEST12345698765432")); // unknown country
    }

    #[test]
    fn ipv4_octets_are_checked_whole() {
        assert_eq!(ipv4_len(b"192.168.1.1"), Some(11));
        assert_eq!(ipv4_len(b"192.168.1.1.1"), Some(11));
        assert_eq!(ipv4_len(b"192.168.1.256"), None);
        assert_eq!(ipv4_len(b"1.2.3"), None);
        assert_eq!(ipv4_len(b"1234.1.1.1"), None);
    }

    #[test]
    fn ipv6_forms() {
        assert!(ipv6_valid("::"));
        assert!(ipv6_valid("::ffff:192.0.2.1"));
        assert!(ipv6_valid("2001:db8::1"));
        assert!(!ipv6_valid("2001::db8::1"));
        assert!(!ipv6_valid("12:34:56"));
        assert!(!ipv6_valid("aa:bb:cc:dd:ee:ff"));
    }

    #[test]
    fn ssn_rules() {
        assert!(ssn_valid(b"078051123"));
        assert!(!ssn_valid(b"078051120"));
        assert!(!ssn_valid(b"666000000"));
        assert!(!ssn_valid(b"078001123"));
        assert!(!ssn_valid(b"912345678"));
    }

    #[test]
    fn jwt_needs_json_header_and_payload() {
        let good = b"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig";
        assert!(jwt_valid(good));
        assert!(!jwt_valid(b"eyJBB.eyJCC.eyJDDDD"));
    }

    #[test]
    fn basic_auth_decodes_to_user_colon_password() {
        assert!(basic_auth_valid(b"dXNlcjpwYXNz")); // user:pass
        assert!(!basic_auth_valid(b"authentication"));
    }

    #[test]
    fn bitcoin_addresses() {
        assert!(base58check_address(b"16Yeky6GMjeNkAiNcBY7ZhrLoMSgg1BoyZ"));
        assert!(base58check_address(b"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"));
        assert!(!base58check_address(b"16Yeky6GMjeNkAiNcBY7ZhrLoMSgg1BoyY"));
        assert!(bech32_address(
            b"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
        ));
        assert!(bech32_address(
            b"bc1p5d7rjq7g6rdk2yhzks9smlaqtedr4dekq08ge8ztwac72sfr9rusxg3297"
        ));
        assert!(!bech32_address(
            b"bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdp"
        ));
    }
}
