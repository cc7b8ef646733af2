//! Validation rules used by the request models. They avoid validator's regex-based `email`/`url`
//! rules, which would add ~900 KB to the SPA's wasm; these hand-written checks are small and run
//! the same in the browser and on the server.

use std::borrow::Cow;
use validator::ValidationError;

pub const PASSWORD_MIN: u64 = 10;
pub const PASSWORD_MAX: u64 = 128;
pub const EMAIL_MAX: u64 = 254;
pub const NAME_MAX: u64 = 100;

pub fn error(code: &'static str, message: &'static str) -> ValidationError {
    let mut e = ValidationError::new(code);
    e.message = Some(Cow::Borrowed(message));
    e
}

/// Normalises an e-mail address for storage and comparison: trimmed and lower-cased.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The dot-separated labels of a host name, if there are two or more and each is 1–63 bytes of
/// `letter` characters and hyphens, with no hyphen at either end.
fn host_labels(host: &str, letter: fn(char) -> bool) -> Option<Vec<&str>> {
    let labels: Vec<&str> = host.split('.').collect();
    let ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-') && l.chars().all(|c| letter(c) || c == '-')
        });
    ok.then_some(labels)
}

/// A practical e-mail check: one `@`, a non-empty local part without spaces, a domain of
/// dot-separated labels made of letters, digits and hyphens with a TLD of at least two letters.
pub fn email(value: &str) -> Result<(), ValidationError> {
    let invalid = || error("email", "must be a valid e-mail address");
    let value = value.trim();
    if value.len() > EMAIL_MAX as usize {
        return Err(error("email", "must be at most 254 characters"));
    }
    let (local, domain) = value.split_once('@').ok_or_else(invalid)?;
    if local.is_empty()
        || local.len() > 64
        || domain.contains('@')
        || local.chars().any(|c| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\".contains(c))
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
    {
        return Err(invalid());
    }
    let labels = host_labels(domain, char::is_alphanumeric).ok_or_else(invalid)?;
    let tld = labels.last().copied().unwrap_or_default();
    if tld.chars().count() < 2 || tld.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid());
    }
    Ok(())
}

/// Fields whose text may span lines (e-mail template bodies): they take line feed, carriage
/// return and tab. Every other text field is one line.
pub const MULTI_LINE_FIELDS: &[&str] = &["body_text", "body_html", "description", "reason", "seller_address", "payment_instructions"];

/// The one rule for control characters in text input, applied by the API's extractors to every
/// JSON string (and key), query parameter and path segment before anything reads them:
/// Unicode control characters (C0 U+0000–U+001F, DEL U+007F, C1 U+0080–U+009F) are refused,
/// except `\n`, `\r` and `\t` in a field named in [`MULTI_LINE_FIELDS`].
pub fn refused_control(c: char, multi_line: bool) -> bool {
    c.is_control() && !(multi_line && matches!(c, '\n' | '\r' | '\t'))
}

/// Names: not blank after trimming, no control characters.
pub fn name(value: &str) -> Result<(), ValidationError> {
    if value.trim().is_empty() {
        return Err(error("required", "must not be blank"));
    }
    if value.chars().any(char::is_control) {
        return Err(error("name", "must not contain control characters"));
    }
    Ok(())
}

#[cfg(test)]
mod control_tests {
    #[test]
    fn control_characters_are_refused_but_line_breaks_in_multi_line_fields() {
        for c in ['\0', '\u{7}', '\u{1b}', '\u{7f}', '\u{85}', '\n', '\t'] {
            assert!(super::refused_control(c, false), "{c:?}");
        }
        for c in ['\n', '\r', '\t'] {
            assert!(!super::refused_control(c, true), "{c:?}");
        }
        assert!(super::refused_control('\0', true));
        assert!(!super::refused_control('é', false) && !super::refused_control(' ', false));
    }
}

/// Passwords: 10 to 128 characters, not only white space.
pub fn password(value: &str) -> Result<(), ValidationError> {
    let n = value.chars().count() as u64;
    if n < PASSWORD_MIN {
        return Err(error("password_too_short", "must be at least 10 characters"));
    }
    if n > PASSWORD_MAX {
        return Err(error("password_too_long", "must be at most 128 characters"));
    }
    if value.trim().is_empty() {
        return Err(error("password_blank", "must not be only white space"));
    }
    Ok(())
}

/// Flattens validator's nested errors into `field -> messages`, with dotted paths for nested
/// structs and `[i]` for list items. Used by the API's problem bodies and by the SPA's forms.
/// The name of the field that list filters flatten the shared [`crate::PageQuery`] into.
pub const FLATTENED: &str = "paging";

pub fn field_messages(errors: &validator::ValidationErrors) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut out = std::collections::BTreeMap::new();
    collect(errors, String::new(), &mut out);
    out
}

fn collect(errors: &validator::ValidationErrors, prefix: String, out: &mut std::collections::BTreeMap<String, Vec<String>>) {
    use validator::ValidationErrorsKind as K;
    for (field, kind) in errors.errors() {
        let path = match (prefix.is_empty(), field.as_ref()) {
            // A list filter's page query is flattened into the query string: its fields are
            // named as they are sent (`per_page`, not `paging.per_page`).
            (_, FLATTENED) => prefix.clone(),
            (true, _) => field.to_string(),
            (false, _) => format!("{prefix}.{field}"),
        };
        match kind {
            K::Field(list) => {
                let msgs = out.entry(path).or_default();
                msgs.extend(list.iter().map(message_of));
            }
            K::Struct(inner) => collect(inner, path, out),
            K::List(items) => {
                for (i, inner) in items {
                    collect(inner, format!("{path}[{i}]"), out);
                }
            }
        }
    }
}

fn message_of(e: &ValidationError) -> String {
    if let Some(m) = &e.message {
        return m.to_string();
    }
    let param = |k: &str| e.params.get(k).map(|v| v.to_string());
    // A list's length counts items, a string's characters.
    let unit = if e.params.get("value").is_some_and(serde_json::Value::is_array) { "items" } else { "characters" };
    match e.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max} {unit}"),
            (Some(min), None) => format!("must be at least {min} {unit}"),
            (None, Some(max)) => format!("must be at most {max} {unit}"),
            _ => "has the wrong length".into(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "is out of range".into(),
        },
        other => format!("is invalid ({other})"),
    }
}

/// Two upper-case ASCII letters (ISO 3166-1 alpha-2).
pub fn country(value: &str) -> Result<(), ValidationError> {
    if value.len() == 2 && value.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(error("country", "must be a two-letter country code such as DE"))
    }
}

/// A fully qualified domain name: two or more dot-separated labels of ASCII letters, digits and
/// hyphens (1–63 characters, no hyphen at either end), at most 253 characters, a TLD of letters
/// (or an IDN `xn--` label).
pub fn domain_name(value: &str) -> Result<(), ValidationError> {
    let invalid = || error("domain_name", "must be a domain name such as example.com");
    if value.len() > 253 {
        return Err(invalid());
    }
    let labels = host_labels(value, |c| c.is_ascii_alphanumeric()).ok_or_else(invalid)?;
    let tld = labels.last().copied().unwrap_or_default();
    if tld.len() < 2 || !(tld.bytes().all(|c| c.is_ascii_alphabetic()) || tld.to_ascii_lowercase().starts_with("xn--")) {
        return Err(invalid());
    }
    Ok(())
}

/// A host name a server is reached by: dot-separated labels of ASCII letters, digits and hyphens
/// (`server1.example.com`, `localhost`), or an IP address.
pub fn hostname(value: &str) -> Result<(), ValidationError> {
    let label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
    };
    if value.parse::<std::net::IpAddr>().is_ok() || (value.len() <= 253 && value.split('.').all(label)) {
        Ok(())
    } else {
        Err(error("hostname", "must be a host name such as server1.example.com"))
    }
}

/// An IPv4 or IPv6 address.
pub fn ip_address(value: &str) -> Result<(), ValidationError> {
    value.parse::<std::net::IpAddr>().map(|_| ()).map_err(|_| error("ip_address", "must be an IP address such as 203.0.113.10"))
}

/// An `http://` or `https://` address with a host name, no spaces.
pub fn http_url(value: &str) -> Result<(), ValidationError> {
    let rest = value.strip_prefix("https://").or_else(|| value.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default()).unwrap_or_default();
    let host = host.rsplit_once(':').filter(|(_, port)| port.parse::<u16>().is_ok()).map_or(host, |(h, _)| h);
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if value.chars().any(char::is_whitespace) || host.is_empty() || hostname(host).is_err() {
        return Err(error("url", "must be an address such as https://server1.example.com:2087"));
    }
    Ok(())
}

/// A URL slug: 1–60 lower-case ASCII letters, digits and single hyphens, not at either end.
pub fn slug(value: &str) -> Result<(), ValidationError> {
    let ok = !value.is_empty()
        && value.len() <= 60
        && value.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && !value.starts_with('-')
        && !value.ends_with('-')
        && !value.contains("--");
    if ok {
        Ok(())
    } else {
        Err(error("slug", "must be lower-case letters, digits and hyphens, such as vps-2"))
    }
}

/// A promo code: 1–40 ASCII letters, digits, `-` or `_`.
pub fn promo_code(value: &str) -> Result<(), ValidationError> {
    if value.is_empty() || value.len() > 40 || !value.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_') {
        return Err(error("promo_code", "must be letters, digits, '-' or '_'"));
    }
    Ok(())
}

/// Promo codes entered together: each one a [`promo_code`], none twice (case does not matter).
pub fn promo_codes(values: &[String]) -> Result<(), ValidationError> {
    for (i, v) in values.iter().enumerate() {
        promo_code(v)?;
        if values[..i].iter().any(|w| w.eq_ignore_ascii_case(v)) {
            return Err(error("promo_codes", "the same code is entered twice"));
        }
    }
    Ok(())
}

/// Digits, spaces and `+ - ( ) .`, with at least six digits.
pub fn phone(value: &str) -> Result<(), ValidationError> {
    let digits = value.chars().filter(char::is_ascii_digit).count();
    if digits >= 6 && value.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c)) {
        Ok(())
    } else {
        Err(error("phone", "must be a phone number, e.g. +49 30 1234567"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names() {
        for ok in ["example.com", "sub.my-shop.co.uk", "xn--bcher-kva.example", "a.xn--p1ai"] {
            assert!(domain_name(ok).is_ok(), "{ok}");
        }
        for bad in
            ["example", "exa mple.com", "-a.com", "a-.com", "a..com", "bücher.de", "a.c", "a.123", &format!("{}.com", "a".repeat(64))]
        {
            assert!(domain_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@example.com", " Ann@Example.COM ", "x@sub-d.example.io", "ü@exämple.de"] {
            assert!(email(ok).is_ok(), "{ok} should pass");
        }
        for bad in
            ["", "a", "a@", "@b.com", "a@b", "a@@b.com", "a b@c.com", "a@b..com", "a@-b.com", "a@b.c", "a@b.123", ".a@b.com", "a..b@c.com"]
        {
            assert!(email(bad).is_err(), "{bad:?} should fail");
        }
        assert!(email(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn passwords() {
        assert!(password("correct horse").is_ok());
        assert!(password("short").is_err());
        assert!(password("          ").is_err());
        assert!(password(&"x".repeat(129)).is_err());
    }

    #[test]
    fn normalises() {
        assert_eq!(normalize_email("  Ann@Example.COM "), "ann@example.com");
    }
}
