//! Accounts: users, passwords, sessions and tokens.
//!
//! Invariants:
//! - e-mail addresses are stored trimmed and lower-cased and are unique ignoring case (a unique
//!   index on `lower(email)` backs the check);
//! - passwords are stored only as argon2id PHC strings; a login for an unknown e-mail costs the
//!   same hash work as one for a known e-mail, so timing does not reveal accounts;
//! - a session is one sign-in; its refresh tokens are stored as SHA-256 hashes and rotate on every
//!   use; presenting a used refresh token again revokes the whole session (token theft);
//! - access tokens are short-lived HS256 JWTs carrying the user id, session id and role.

pub mod access_routes;
pub mod api_keys;
pub mod identity;
pub mod limits;
pub mod models;
pub mod password;
pub mod policy;
pub mod profile;
pub mod routes;
pub mod service;
pub mod staff;
pub mod team;
pub mod tokens;
pub mod totp;
pub mod two_factor;
pub mod useragent;
