//! RFC 6238 TOTP (HMAC-SHA1, 30-second steps, 6 digits) and RFC 4648 base32, written out so the
//! server needs no extra crate for them.

use hmac::{Hmac, Mac};
use sha1::Sha1;

pub const STEP_SECS: i64 = 30;
const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

pub fn base32_encode(data: &[u8]) -> String {
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in data {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            out.push(ALPHABET[((buffer >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The `otpauth://` URI authenticator apps read from the QR code, per the Key URI Format
/// (github.com/google/google-authenticator/wiki/Key-Uri-Format): label `issuer:account` and the
/// `issuer` parameter percent-encoded as RFC 3986 wants (a space is `%20`, never `+`).
pub fn key_uri(issuer: &str, account: &str, secret_base32: &str) -> String {
    // Unreserved characters and `@` (a pchar, as in the format's own `alice@google.com`) stay;
    // every other byte, the issuer's `:` included, is `%XX`.
    let enc = |s: &str| {
        s.bytes().fold(String::with_capacity(s.len()), |mut out, b| {
            if b.is_ascii_alphanumeric() || b"-._~@".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
            out
        })
    };
    format!(
        "otpauth://totp/{}:{}?secret={secret_base32}&issuer={}&algorithm=SHA1&digits=6&period=30",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| *c != '=' && !c.is_whitespace()) {
        let v = ALPHABET.iter().position(|a| *a as char == c.to_ascii_uppercase())? as u32;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            out.push((buffer >> (bits - 8)) as u8);
            bits -= 8;
        }
    }
    Some(out)
}

/// The 6-digit code for a time step.
pub fn code_at_step(secret: &[u8], step: i64) -> String {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let bin = (u32::from(digest[offset] & 0x7f) << 24)
        | (u32::from(digest[offset + 1]) << 16)
        | (u32::from(digest[offset + 2]) << 8)
        | u32::from(digest[offset + 3]);
    format!("{:06}", bin % 1_000_000)
}

pub fn step_of(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The step a code matches within one step of `now` (clock drift), if any.
pub fn verify(secret: &[u8], code: &str, unix_secs: i64) -> Option<i64> {
    let code = code.trim().replace(' ', "");
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let now = step_of(unix_secs);
    [now, now - 1, now + 1].into_iter().find(|s| constant_eq(code_at_step(secret, *s).as_bytes(), code.as_bytes()))
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_vectors() {
        // RFC 6238 appendix B, SHA1 secret "12345678901234567890" (8-digit codes end in these 6).
        let secret = b"12345678901234567890";
        for (t, code8) in
            [(59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"), (1234567890, "89005924"), (2000000000, "69279037")]
        {
            assert_eq!(code_at_step(secret, step_of(t)), &code8[2..], "t={t}");
        }
    }

    #[test]
    fn key_uri_percent_encodes_label_and_issuer() {
        assert_eq!(
            key_uri("Keel Hosting", "ann+tag@example.com", "JBSWY3DPEHPK3PXP"),
            "otpauth://totp/Keel%20Hosting:ann%2Btag@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Keel%20Hosting&algorithm=SHA1&digits=6&period=30"
        );
        // A colon, an ampersand or a non-ASCII letter in a name cannot break the label or the query.
        assert_eq!(
            key_uri("A:B & Ø", "x@y.io", "S"),
            "otpauth://totp/A%3AB%20%26%20%C3%98:x@y.io?secret=S&issuer=A%3AB%20%26%20%C3%98&algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn base32_round_trip() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("MZXW6YTBOI").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(base32_decode("mzxw 6ytb oi======").as_deref(), Some(&b"foobar"[..]));
        assert!(base32_decode("1!").is_none());
    }

    #[test]
    fn accepts_one_step_of_drift() {
        let s = b"secret-secret-secret";
        let now = 1_800_000_000;
        assert_eq!(verify(s, &code_at_step(s, step_of(now) - 1), now), Some(step_of(now) - 1));
        assert_eq!(verify(s, &code_at_step(s, step_of(now) - 2), now), None);
        assert_eq!(verify(s, "12345", now), None);
    }
}
