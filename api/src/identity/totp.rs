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
