//! Sealing secrets at rest (TOTP secrets now; provider credentials later): AES-256-GCM with a key
//! derived from the server secret, a random 96-bit nonce per value, stored as
//! `v1:<hex nonce>:<hex ciphertext>`.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

fn cipher(secret: &[u8]) -> Aes256Gcm {
    let key = Sha256::new().chain_update(b"keel/seal/v1").chain_update(secret).finalize();
    Aes256Gcm::new(&key)
}

pub fn seal(secret: &[u8], plaintext: &[u8]) -> Result<String, ApiError> {
    let mut nonce = [0u8; 12];
    rand::rng().fill_bytes(&mut nonce);
    let ct = cipher(secret).encrypt(Nonce::from_slice(&nonce), plaintext).map_err(|_| ApiError::internal("sealing failed"))?;
    Ok(format!("v1:{}:{}", hex::encode(nonce), hex::encode(ct)))
}

pub fn open(secret: &[u8], sealed: &str) -> Result<Vec<u8>, ApiError> {
    let bad = || ApiError::internal("a sealed value could not be opened (wrong KEEL_SECRET_KEY?)");
    let mut parts = sealed.splitn(3, ':');
    let (Some("v1"), Some(nonce), Some(ct)) = (parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
    let nonce = hex::decode(nonce).map_err(|_| bad())?;
    let ct = hex::decode(ct).map_err(|_| bad())?;
    if nonce.len() != 12 {
        return Err(bad());
    }
    cipher(secret).decrypt(Nonce::from_slice(&nonce), ct.as_slice()).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_tamper() {
        let sealed = seal(b"server secret", b"totp secret").expect("seal");
        assert!(!sealed.contains("totp"));
        assert_eq!(open(b"server secret", &sealed).expect("open"), b"totp secret");
        assert!(open(b"other secret", &sealed).is_err());
        let mut t = sealed.clone();
        t.pop();
        t.push(if sealed.ends_with('0') { '1' } else { '0' });
        assert!(open(b"server secret", &t).is_err());
        assert_ne!(seal(b"s", b"x").expect("a"), seal(b"s", b"x").expect("b"), "fresh nonce each time");
    }
}
