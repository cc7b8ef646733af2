//! Keel's server: the REST API, the SPA host, the workers, the scheduler and the CLI, over one
//! database layer. Domain modules (`accounts`, `catalog`, …) each hold thin `routes`, plain
//! `service` functions and their `models`; `http` assembles them; `error::ApiError` is the one
//! error type.

pub mod accounts;
pub mod admin;
pub mod audit;
pub mod automation;
pub mod billing;
pub mod bootstrap;
pub mod catalog;
pub mod clock;
pub mod commerce;
pub mod compose;
pub mod config;
pub mod crypto;
pub mod db;
pub mod deps;
pub mod error;
pub mod http;
pub mod idempotency;
pub mod identity;
pub mod ids;
pub mod notifications;
pub mod outbound;
pub mod payments;
pub mod provisioning;
pub mod schema;
pub mod server;
pub mod state;
