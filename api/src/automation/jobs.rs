//! The engine's own job kinds and tasks: a no-op probe and the clean-up of its own tables. Every
//! other kind belongs to the domain that does the work (`<domain>/jobs.rs`).

use chrono::Duration;
use diesel::prelude::*;
use serde::Deserialize;

use super::queue;
use super::registry::{JobEnv, JobError, JobResult, Outcome, Registry, TaskRun};
use crate::db::{now_micros, DbConn};
use crate::schema::task_runs;

pub const NOOP: &str = "noop";

pub fn register<C: JobEnv>(r: &mut Registry<C>) {
    r.job(NOOP, noop::<C>);
    r.task("housekeeping", "0 3 * * *", "Delete finished jobs after 14 days and task runs after 90", housekeeping::<C>);
}

/// The no-op job's payload: `sleep_ms` makes it take time, `fail` makes the attempt fail with that
/// message, and `permanent` makes that failure permanent (to watch retries and dead jobs live).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Noop {
    pub sleep_ms: Option<u64>,
    pub fail: Option<String>,
    pub permanent: bool,
}

/// Does nothing: the queue's own benchmark and probe.
fn noop<C: JobEnv>(_: &C, _: &mut DbConn, p: Noop) -> JobResult {
    if let Some(ms) = p.sleep_ms {
        std::thread::sleep(std::time::Duration::from_millis(ms.min(600_000)));
    }
    match p.fail {
        Some(message) if p.permanent => Err(JobError::Permanent(message)),
        Some(message) => Err(JobError::Retryable(message)),
        None => Ok(Outcome::Done),
    }
}

/// Daily: finished jobs after 14 days, task runs after 90.
fn housekeeping<C: JobEnv>(ctx: &C, conn: &mut DbConn, _: TaskRun) -> JobResult {
    let now = ctx.now();
    let jobs = queue::purge_succeeded(conn, now - Duration::days(14))?;
    let runs = diesel::delete(task_runs::table.filter(task_runs::created_at.lt(now_micros(now - Duration::days(90))))).execute(conn)?;
    tracing::info!(jobs, runs, "housekeeping done");
    Ok(Outcome::Done)
}
