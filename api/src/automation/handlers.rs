//! What each job kind does. Handlers are plain functions, written to be idempotent: they check
//! what an earlier attempt already did before acting.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use super::models::JobRow;
use super::queue;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::db::{now_micros, DbConn};
use crate::notifications::mailer::{self, Mailer};
use crate::schema::{emails, sessions, task_runs};

/// What a handler can reach.
#[derive(Debug)]
pub struct JobContext {
    pub clock: SharedClock,
    pub config: Arc<Config>,
    pub mailer: Mailer,
}

/// How an attempt ended, when it did not fail.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done,
    /// Not now (e.g. a rate limit): try again at this time without spending an attempt.
    Defer(DateTime<Utc>),
}

pub type Handler = fn(&JobContext, &mut DbConn, &JobRow) -> Result<Outcome, String>;

impl JobRow {
    /// A string field of the payload.
    pub fn payload_str(&self, field: &str) -> Result<String, String> {
        let v: serde_json::Value = serde_json::from_str(&self.payload).map_err(|e| format!("payload: {e}"))?;
        v.get(field).and_then(|x| x.as_str()).map(str::to_string).ok_or_else(|| format!("payload has no '{field}'"))
    }
}

/// The job kinds this build knows.
pub fn registry() -> HashMap<&'static str, Handler> {
    let mut r: HashMap<&'static str, Handler> = HashMap::new();
    r.insert("noop", noop);
    r.insert(crate::notifications::outbox::SEND_JOB, mailer::send_job);
    r.insert("housekeeping", housekeeping);
    r.insert("email.retry_failed", retry_failed_emails);
    r
}

/// Does nothing: the queue's own benchmark and probe. `sleep_ms` makes it take time, `fail` makes
/// the attempt fail with that message (to watch retries and dead jobs in a live system).
fn noop(_: &JobContext, _: &mut DbConn, job: &JobRow) -> Result<Outcome, String> {
    let v: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
    if let Some(ms) = v.get("sleep_ms").and_then(|x| x.as_u64()) {
        std::thread::sleep(std::time::Duration::from_millis(ms.min(600_000)));
    }
    match v.get("fail").and_then(|x| x.as_str()) {
        Some(message) => Err(message.to_string()),
        None => Ok(Outcome::Done),
    }
}

/// Daily clean-up: finished jobs after 14 days, ended sessions after 30, task runs after 90.
fn housekeeping(ctx: &JobContext, conn: &mut DbConn, _: &JobRow) -> Result<Outcome, String> {
    let now = ctx.clock.now();
    let jobs = queue::purge_succeeded(conn, now - Duration::days(14)).map_err(|e| e.to_string())?;
    let cutoff = now_micros(now - Duration::days(30));
    let sessions = diesel::delete(sessions::table.filter(sessions::expires_at.lt(cutoff).or(sessions::revoked_at.lt(cutoff))))
        .execute(conn)
        .map_err(|e| e.to_string())?;
    let runs = diesel::delete(task_runs::table.filter(task_runs::created_at.lt(now_micros(now - Duration::days(90)))))
        .execute(conn)
        .map_err(|e| e.to_string())?;
    let windows = crate::accounts::limits::purge(conn, now - Duration::days(1)).map_err(|e| e.to_string())?;
    tracing::info!(jobs, sessions, runs, windows, "housekeeping done");
    Ok(Outcome::Done)
}

/// Hourly: e-mails whose sending gave up (e.g. SMTP was down for hours) in the last three days
/// get one fresh send job per hour.
fn retry_failed_emails(ctx: &JobContext, conn: &mut DbConn, job: &JobRow) -> Result<Outcome, String> {
    let now = ctx.clock.now();
    let ids: Vec<String> = emails::table
        .filter(emails::status.eq("failed"))
        .filter(emails::created_at.gt(now_micros(now - Duration::days(3))))
        .select(emails::id)
        .load(conn)
        .map_err(|e| e.to_string())?;
    for id in &ids {
        let still_running: i64 = crate::schema::jobs::table
            .filter(crate::schema::jobs::unique_key.eq(format!("email:{id}")))
            .filter(crate::schema::jobs::state.eq_any(["queued", "running", "failed"]))
            .count()
            .get_result(conn)
            .map_err(|e| e.to_string())?;
        if still_running == 0 {
            queue::enqueue(
                conn,
                now,
                &queue::NewJob::new(crate::notifications::outbox::SEND_JOB, serde_json::json!({ "email_id": id }))
                    .unique(format!("email:{id}:retry:{}", job.id)),
            )
            .map_err(|e| e.to_string())?;
        }
    }
    Ok(Outcome::Done)
}
