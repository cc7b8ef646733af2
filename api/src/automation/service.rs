//! The back office's use cases for the queue and the scheduler: each opens its transaction and
//! writes its audit entry in it.

use chrono::{DateTime, Utc};
use keel_shared::automation::{ScheduledTask, UpdateTaskRequest};

use super::models::JobRow;
use super::registry::TaskSpec;
use super::{queue, scheduler};
use crate::audit::{self, Actor, Event};
use crate::db::{self, DbConn};
use crate::error::ApiError;

/// Runs a failed or dead job again now, with fresh attempts.
pub fn retry_job(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, id: &str) -> Result<JobRow, ApiError> {
    db::transaction(conn, |c| {
        let job = queue::retry(c, now, id)?;
        audit::record(c, now, actor, Event::new("job.retried").target("job", id).details(serde_json::json!({ "kind": job.kind })))?;
        Ok(job)
    })
}

/// Deletes a job that is not running.
pub fn delete_job(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, id: &str) -> Result<(), ApiError> {
    db::transaction(conn, |c| {
        queue::delete(c, id)?;
        audit::record(c, now, actor, Event::new("job.deleted").target("job", id))
    })
}

/// Changes a task's schedule or switches it off.
pub fn update_task(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: &Actor,
    shipped: &[TaskSpec],
    name: &str,
    req: &UpdateTaskRequest,
) -> Result<ScheduledTask, ApiError> {
    db::transaction(conn, |c| {
        let task = scheduler::update(c, now, shipped, name, &req.cron, req.enabled)?;
        audit::record(
            c,
            now,
            actor,
            Event::new("task.updated").target("task", name).details(serde_json::json!({ "cron": req.cron, "enabled": req.enabled })),
        )?;
        Ok(task)
    })
}
