//! Keel's API integration tests, in one test binary (as crates.io does): the harness and its
//! builders compile once, and every helper is used by some test.
//!
//! `cargo test -p keel-api --test suite` runs them all; a module or test name filters, e.g.
//! `cargo test -p keel-api --test suite identity::` or `… --test suite five_failures`.

#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test, with its location")]
#![expect(clippy::type_complexity, reason = "tables of test cases and captured mail are plain tuples")]

#[macro_use]
mod support;

mod access;
mod api;
mod automation;
mod billing;
mod caching;
mod carts;
mod changes;
mod cli;
mod commerce;
mod identity;
mod lists;
mod migrations;
mod provisioning;
mod renewals;
