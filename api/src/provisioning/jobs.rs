//! Provisioning's jobs and scheduled tasks: creating accounts, carrying out lifecycle actions
//! later (cancellations; the billing run's suspensions), renewal invoices, the servers' health
//! checks, the daily usage sync and end-of-period cancellations.

use serde::Deserialize;

use super::service::{self, ActionJob, StepError};
use crate::audit::Actor;
use crate::automation::registry::{Attempt, JobError, JobResult, Outcome, Registry, TaskRun};
use crate::db::DbConn;
use crate::deps::Deps;
use crate::error::ApiError;

pub fn register(r: &mut Registry<Deps>) {
    r.job_with_attempt(service::CREATE, create).job(service::ACTION, action);
    r.task(
        "provisioning.health",
        "*/5 * * * *",
        "Check every server's module connection; unhealthy servers take no new accounts and administrators are e-mailed",
        health,
    );
    r.task(
        "provisioning.renewals",
        "15 0 * * *",
        "Invoice services whose next period starts within the billing settings' days ahead (one invoice per client and due date when renewals are consolidated)",
        renewals,
    );
    r.task(
        "provisioning.daily",
        "30 0 * * *",
        "Terminate services whose end-of-period cancellation has come; make downgrades that waited for the renewal; let upgrades unpaid by their invoice's due date lapse; read every account's disk and bandwidth use",
        daily,
    );
}

#[derive(Debug, Deserialize)]
struct Create {
    service_id: String,
}

fn create(ctx: &Deps, conn: &mut DbConn, p: Create, attempt: Attempt) -> JobResult {
    match service::provision(ctx, conn, &p.service_id, attempt.is_last()) {
        Ok(()) => Ok(Outcome::Done),
        Err(StepError::Retry(why)) => Err(JobError::Retryable(why)),
        Err(StepError::Fail(why)) => Err(JobError::Permanent(why)),
    }
}

fn action(ctx: &Deps, conn: &mut DbConn, p: ActionJob) -> JobResult {
    match service::perform(ctx, conn, &Actor::default(), &p.service_id, p.action) {
        Ok(_) => Ok(Outcome::Done),
        Err(e @ (ApiError::Conflict { .. } | ApiError::NotFound(_))) => Err(JobError::permanent(e)),
        Err(e) => Err(JobError::retryable(e)),
    }
}

fn health(ctx: &Deps, conn: &mut DbConn, _: TaskRun) -> JobResult {
    let (checked, down) = service::check_all(ctx, conn)?;
    tracing::info!(checked, down, "servers checked");
    Ok(Outcome::Done)
}

fn renewals(ctx: &Deps, conn: &mut DbConn, _: TaskRun) -> JobResult {
    let issued = super::renewals::invoice_due(conn, ctx.clock.now(), &ctx.mail())?;
    tracing::info!(issued, "renewal invoices issued");
    Ok(Outcome::Done)
}

fn daily(ctx: &Deps, conn: &mut DbConn, _: TaskRun) -> JobResult {
    let cancelled = service::due_cancellations(conn, ctx.clock.now())?;
    let changed = super::changes::apply_scheduled(conn, ctx.clock.now())?;
    let lapsed = super::changes::lapse_unpaid(conn, ctx.clock.now())?;
    let (read, failed) = service::sync_usage(ctx, conn)?;
    tracing::info!(
        cancelled,
        changed,
        lapsed,
        read,
        failed,
        "end-of-period cancellations queued, downgrades made, unpaid upgrades lapsed, usage read"
    );
    Ok(Outcome::Done)
}
