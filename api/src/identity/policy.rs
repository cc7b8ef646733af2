//! Password policy on top of the length rule in `shared`: not a commonly used password.
//!
//! The list (`common-passwords.txt`, 49,254 entries, 380 KB, compiled into the server binary
//! only, never into the wasm) is the common-password dictionary of zxcvbn-ts
//! (`@zxcvbn-ts/language-common` 4.1.3, MIT), drawn from public breach corpora (it contains the
//! 30,000 of Dropbox's zxcvbn from the xato 10-million-password list), plus Keel's earlier
//! entries; lower-cased, white space removed, entries under 4 characters dropped. Since the length
//! rule already refuses anything under 10 characters, the short entries matter through the
//! second rule: a listed password with only digits and symbols around it (`password123456`,
//! `Sunshine2024!`) is as common as the word itself.

use std::collections::HashSet;
use std::sync::OnceLock;

use crate::error::ApiError;

const COMMON: &str = include_str!("common-passwords.txt");

fn common() -> &'static HashSet<String> {
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| COMMON.lines().map(|l| l.trim().to_lowercase()).filter(|l| !l.is_empty()).collect())
}

/// Refuses passwords from the shipped list of common passwords (ignoring case and spaces), and
/// passwords that are the account's own e-mail address.
pub fn check(field: &str, password: &str, email: &str) -> Result<(), ApiError> {
    let normal: String = password.to_lowercase().chars().filter(|c| !c.is_whitespace()).collect();
    // The password without the digits and symbols before and after its letters.
    let core = normal.trim_matches(|c: char| !c.is_alphabetic());
    if common().contains(&normal) || (core.chars().count() >= 4 && common().contains(core)) {
        return Err(ApiError::field(
            field,
            "is too common (it appears in lists of breached passwords); choose one others are unlikely to use",
        ));
    }
    let local = email.split('@').next().unwrap_or("").to_lowercase();
    if normal == email.to_lowercase() || (!local.is_empty() && normal == local) {
        return Err(ApiError::field(field, "must not be your e-mail address"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_common_and_personal() {
        assert!(check("password", "Password123", "a@b.co").is_err());
        assert!(check("password", "correct horse battery staple", "a@b.co").is_err());
        assert!(check("password", "ann.lee.mail", "ann.lee.mail@example.com").is_err());
        assert!(check("password", "violet kettle orbit", "a@b.co").is_ok());
        assert!(check("password", "password123456", "a@b.co").is_err());
        assert!(check("password", "Sunshine2024!", "a@b.co").is_err());
        assert!(check("password", "1q2w3e4r5t6y", "a@b.co").is_err());
        assert!(check("password", "qwertyuiop", "a@b.co").is_err());
        assert!(check("password", "plum!seven!cactus", "a@b.co").is_ok());
        assert!(common().len() > 49_000);
    }
}
