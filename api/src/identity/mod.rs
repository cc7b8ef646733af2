//! Identity: who someone is and how they prove it — registration, sign-in with lockout and rate
//! limits, sessions and refresh tokens, JWTs, e-mail verification, password reset and change,
//! TOTP two-factor, API keys.
//!
//! Invariants:
//! - passwords are stored only as argon2id PHC strings, hashed before any transaction opens; a
//!   login for an unknown e-mail costs the same hash work as one for a known e-mail, so timing
//!   does not reveal accounts;
//! - a session is one sign-in (`sessions.rs` is the one place that opens, refreshes, ends, lists
//!   and revokes them); its refresh tokens are stored as SHA-256 hashes and rotate on every use;
//!   presenting a used refresh token again revokes the whole session (token theft), unless it was
//!   rotated less than 30 s before (a race between tabs): then it yields the current token;
//! - access tokens are short-lived HS256 JWTs carrying the user id, session id and role, and stop
//!   working as soon as their session ends;
//! - failed sign-ins (passwords and two-factor codes) are counted and locked per source: a browser
//!   with a valid device cookie for the account (`devices.rs`) on its own, every other source on
//!   the account; counting and locking is one statement, and a failure never lifts a lock.

pub mod api_keys;
pub mod bench;
pub mod devices;
pub mod jobs;
pub mod limits;
pub mod password;
pub mod policy;
pub mod recovery;
pub mod routes;
pub mod service;
pub mod sessions;
pub mod tokens;
pub mod totp;
pub mod two_factor;
pub mod useragent;
