//! Automation: the transactional job queue, the workers that drain it, and the scheduler.
//!
//! Invariants:
//! - a job is written with [`queue::enqueue`] on the caller's connection, inside the caller's
//!   transaction: it exists exactly when the state change that caused it was committed;
//! - a job is claimed with a lease; only the lease owner may complete it; a lapsed lease makes the
//!   job claimable again (a killed worker's job runs again elsewhere), so handlers are idempotent;
//! - failed attempts back off exponentially with jitter; after `max_attempts` a job is `dead` and
//!   stays visible to admins until retried or deleted;
//! - a job with a `unique_key` is enqueued at most once per key (a second enqueue is a no-op);
//! - a scheduled task runs once per period across all processes: each run is a `task_runs` row
//!   unique on (task, period), inserted in the same transaction as its job.

pub mod bench;
pub mod cron;
pub mod handlers;
pub mod models;
pub mod queue;
pub mod routes;
pub mod runner;
pub mod scheduler;
pub mod worker;
