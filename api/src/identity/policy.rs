//! Password policy on top of the length rule in `shared`: not a commonly used password.

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
    if common().contains(&normal) {
        return Err(ApiError::field(field, "is too common; choose a password others are unlikely to use"));
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
    }
}
