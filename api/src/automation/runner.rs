//! `keel automation run [--as-of DATE] [--dry-run]`: start the scheduled tasks due at that time
//! and run the queue until nothing is runnable; with `--dry-run`, only say what would happen.

use diesel::prelude::*;

use super::registry::{JobEnv, Registry};
use super::scheduler;
use super::worker::{self, WorkerConfig};
use crate::db::Pool;
use crate::schema::jobs;

pub fn run<C: JobEnv>(pool: &Pool, ctx: &C, registry: &Registry<C>, workers: &WorkerConfig, dry_run: bool) -> Result<(), String> {
    let now = ctx.now();
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    if !dry_run {
        scheduler::install(&mut conn, now, registry.tasks()).map_err(|e| e.to_string())?;
    }
    println!("automation run as of {}{}", now.to_rfc3339(), if dry_run { " (dry run: nothing is changed)" } else { "" });
    if dry_run {
        let due = scheduler::preview(&mut conn, now).map_err(|e| e.to_string())?;
        for d in &due {
            println!("  would start task {} (period {})", d.task, d.period.to_rfc3339());
        }
        let runnable: i64 = jobs::table
            .filter(jobs::state.eq_any([keel_shared::automation::JobState::Queued, keel_shared::automation::JobState::Failed]))
            .filter(jobs::run_at.le(crate::db::now_micros(now)))
            .count()
            .get_result(&mut conn)
            .map_err(|e| e.to_string())?;
        println!("  {} task(s) due; {runnable} job(s) already waiting would run", due.len());
        return Ok(());
    }
    let started = scheduler::tick(&mut conn, now).map_err(|e| e.to_string())?;
    for d in &started {
        println!("  started task {} (period {})", d.task, d.period.to_rfc3339());
    }
    drop(conn);
    let ran = worker::drain(pool, ctx, registry, workers)?;
    println!("  {} task(s) started, {ran} job(s) run", started.len());
    Ok(())
}
