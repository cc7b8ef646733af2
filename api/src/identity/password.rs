//! Password hashing with argon2id (the crate's default parameters: 19 MiB, 2 passes).

use std::sync::OnceLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::error::ApiError;

/// An argon2id hash, ready to store. Hashing takes tens of milliseconds of CPU, so callers make
/// one **before** opening a transaction: inside one (on SQLite, `BEGIN IMMEDIATE`) it would hold
/// the database's write lock for every process meanwhile. Functions that write a password take
/// this type, so a hash cannot be computed inside their transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hashed(String);

impl Hashed {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub fn hash(password: &str) -> Result<Hashed, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| Hashed(h.to_string()))
        .map_err(|e| ApiError::internal(format!("argon2: {e}")))
}

/// Checks a password against a stored hash. An unparsable hash never matches.
pub fn verify(password: &str, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// Spends the same work as a real check, for logins with an unknown e-mail.
pub fn verify_dummy(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash("dummy password for timing").map(|h| h.0).unwrap_or_default());
    let _ = verify(password, stored);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let h = hash("correct horse battery").expect("hash");
        assert!(h.as_str().starts_with("$argon2id$"));
        assert!(verify("correct horse battery", h.as_str()));
        assert!(!verify("wrong horse battery", h.as_str()));
        assert!(!verify("anything", "not a hash"));
    }
}
