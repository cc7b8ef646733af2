//! Access tokens (HS256 JWT) and refresh tokens (random, stored hashed).

use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use keel_shared::auth::Role;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

pub const ACCESS_TTL: Duration = Duration::minutes(15);
pub const REFRESH_TTL: Duration = Duration::days(7);
pub const REFRESH_COOKIE: &str = "keel_refresh";
/// How long a refresh token that was just rotated still leads to its session's current token
/// instead of counting as reuse (tabs or requests racing on one cookie).
pub const REFRESH_GRACE: Duration = Duration::seconds(30);
/// How long the password step of a two-factor sign-in stays valid.
pub const MFA_TTL: Duration = Duration::minutes(5);

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Session id.
    pub sid: String,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
    /// Set when an administrator is viewing the account as the client: the admin's user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imp: Option<String>,
}

/// How an impersonation token's `sid` starts: it carries the administrator's session.
const IMPERSONATION: &str = "imp:";

impl Claims {
    /// The session the token lives by (for "log in as client", the administrator's own session).
    pub fn session(&self) -> &str {
        self.sid.strip_prefix(IMPERSONATION).unwrap_or(&self.sid)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct MfaClaims {
    sub: String,
    purpose: String,
    exp: i64,
    /// The server-side record of this step (`mfa_challenges.id`).
    jti: String,
}

/// Signing keys derived from the server secret.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKeys(..)")
    }
}

impl JwtKeys {
    pub fn from_secret(secret: &[u8]) -> Self {
        // A dedicated sub-key, so the same server secret can later derive encryption keys too.
        let key = Sha256::new().chain_update(b"keel/jwt/v1").chain_update(secret).finalize();
        JwtKeys { encoding: EncodingKey::from_secret(&key), decoding: DecodingKey::from_secret(&key) }
    }

    pub fn issue(&self, user_id: &str, session_id: &str, role: Role, now: DateTime<Utc>) -> Result<String, ApiError> {
        let claims = Claims {
            sub: user_id.to_string(),
            sid: session_id.to_string(),
            role,
            iat: now.timestamp(),
            exp: (now + ACCESS_TTL).timestamp(),
            imp: None,
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| ApiError::internal(format!("jwt: {e}")))
    }

    /// An access token for `client_id`, held by administrator `admin_id` ("log in as client").
    /// It has no refresh token: when it expires, the admin is back in their own session.
    pub fn issue_impersonation(
        &self,
        client_id: &str,
        admin_id: &str,
        admin_session: &str,
        now: DateTime<Utc>,
    ) -> Result<String, ApiError> {
        let claims = Claims {
            sub: client_id.to_string(),
            sid: format!("{IMPERSONATION}{admin_session}"),
            role: Role::Client,
            iat: now.timestamp(),
            exp: (now + ACCESS_TTL).timestamp(),
            imp: Some(admin_id.to_string()),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| ApiError::internal(format!("jwt: {e}")))
    }

    /// A 5-minute token proving the password step of a two-factor sign-in, naming its challenge
    /// (`jti`, which limits and ends its use). It cannot be used as an access token (it has no
    /// session or role).
    pub fn issue_mfa(&self, user_id: &str, challenge_id: &str, now: DateTime<Utc>) -> Result<String, ApiError> {
        let claims =
            MfaClaims { sub: user_id.to_string(), purpose: "mfa".into(), exp: (now + MFA_TTL).timestamp(), jti: challenge_id.to_string() };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(|e| ApiError::internal(format!("jwt: {e}")))
    }

    /// The user and challenge an `mfa_token` names.
    pub fn verify_mfa(&self, token: &str, now: DateTime<Utc>) -> Result<(String, String), ApiError> {
        let invalid = || ApiError::MfaTokenInvalid("the sign-in step has expired; enter your password again".into());
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        let claims = decode::<MfaClaims>(token, &self.decoding, &validation).map_err(|_| invalid())?.claims;
        if claims.purpose != "mfa" || claims.exp <= now.timestamp() {
            return Err(invalid());
        }
        Ok((claims.sub, claims.jti))
    }

    /// Verifies signature, algorithm and expiry (against the given time, not the system clock).
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Claims, ApiError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.required_spec_claims = ["exp", "sub"].into_iter().map(String::from).collect();
        let claims = decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| ApiError::Unauthenticated("the access token is invalid".into()))?
            .claims;
        if claims.exp <= now.timestamp() {
            return Err(ApiError::Unauthenticated("the access token has expired".into()));
        }
        Ok(claims)
    }
}

/// A new random refresh token (256 bits, hex).
pub fn new_refresh_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The refresh token that follows `token` in its session: HMAC-SHA256 of it under a key derived
/// from the server secret. Being derived, it can be handed again to a request that presents the
/// token another request has just rotated (two tabs restoring a session at once) without storing
/// any plaintext token; without the server secret it cannot be predicted.
pub fn successor_token(secret: &[u8], token: &str) -> String {
    use hmac::{Hmac, Mac};
    let key = Sha256::new().chain_update(b"keel/refresh-successor/v1").chain_update(secret).finalize();
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else { unreachable!("HMAC takes a key of any length") };
    mac.update(token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issues_and_verifies() {
        let keys = JwtKeys::from_secret(b"0123456789abcdef0123456789abcdef");
        let now = Utc::now();
        let token = keys.issue("u1", "s1", Role::Client, now).expect("issue");
        let claims = keys.verify(&token, now).expect("valid");
        assert_eq!((claims.sub.as_str(), claims.role), ("u1", Role::Client));
        assert!(keys.verify(&token, now + ACCESS_TTL).is_err(), "expired");
        let other = JwtKeys::from_secret(b"another secret another secret 00");
        assert!(other.verify(&token, now).is_err(), "wrong key");
        let mut tampered = token.clone();
        tampered.replace_range(tampered.len() - 3.., "abc");
        assert!(keys.verify(&tampered, now).is_err(), "tampered");
    }

    #[test]
    fn refuses_alg_none() {
        let keys = JwtKeys::from_secret(b"0123456789abcdef0123456789abcdef");
        // {"alg":"none","typ":"JWT"} . {"sub":"u1","sid":"s","role":"admin","iat":0,"exp":9999999999} .
        let token =
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1MSIsInNpZCI6InMiLCJyb2xlIjoiYWRtaW4iLCJpYXQiOjAsImV4cCI6OTk5OTk5OTk5OX0.";
        assert!(keys.verify(token, Utc::now()).is_err());
    }
}
