//! Accounts: the client account itself — users, profile and billing details, team members and
//! memberships, GDPR export and anonymisation.
//!
//! Invariants:
//! - e-mail addresses are stored trimmed and lower-cased and are unique ignoring case (a unique
//!   index on `lower(email)` backs the check);
//! - a team member acts for an account only in the areas the owner granted, and someone else's
//!   account without an accepted membership does not exist for them (404).

pub mod models;
pub mod profile;
pub mod routes;
pub mod team;
pub mod users;
