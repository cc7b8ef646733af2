//! Automation: the transactional job queue, the workers that drain it, and the scheduler. It is an
//! engine that knows no business domain: domains register their job kinds (typed payloads,
//! handlers whose errors say retryable or permanent) and scheduled tasks in a
//! [`registry::Registry`], and the composition root (`crate::compose`) wires them.
//!
//! Invariants:
//! - a job is written with [`queue::enqueue`] on the caller's connection, inside the caller's
//!   transaction: it exists exactly when the state change that caused it was committed;
//! - a job is claimed with a lease; only the lease owner may complete it; a lapsed lease makes the
//!   job claimable again (a killed worker's job runs again elsewhere), so handlers are idempotent;
//! - failed attempts back off exponentially with jitter; after `max_attempts` (or at once, when the
//!   handler says the failure is permanent) a job is `dead` and stays visible to admins until
//!   retried or deleted;
//! - a job with a `unique_key` is enqueued at most once per key (a second enqueue is a no-op);
//! - a scheduled task runs once per period across all processes: each run is a `task_runs` row
//!   unique on (task, period), inserted in the same transaction as its job.

pub mod bench;
pub mod cron;
pub mod jobs;
pub mod models;
pub mod queue;
pub mod registry;
pub mod routes;
pub mod runner;
pub mod scheduler;
pub mod service;
pub mod worker;
