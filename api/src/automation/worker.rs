//! Workers: threads that claim batches of jobs, run their handlers and record the outcome.
//! `keel serve` starts them in-process; `keel worker` runs only them.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use chrono::Duration;

use super::models::JobRow;
use super::queue;
use super::registry::{JobEnv, JobError, Outcome, Registry};
use crate::db::Pool;

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    pub concurrency: usize,
    /// Jobs claimed per round trip.
    pub batch: i64,
    pub lease: Duration,
    /// Sleep when the queue is empty.
    pub idle: std::time::Duration,
    pub queue: String,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            concurrency: 2,
            batch: 10,
            lease: Duration::minutes(5),
            idle: std::time::Duration::from_millis(500),
            queue: queue::DEFAULT_QUEUE.into(),
        }
    }
}

/// Running worker threads; [`Workers::stop`] asks them to finish their batch and return.
pub struct Workers {
    stop: Arc<AtomicBool>,
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    pub fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        for h in self.handles {
            let _ = h.join();
        }
    }
}

/// A worker's identity in `lease_owner`: host, process, thread, and a random part.
fn owner_id(n: usize) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "host".into());
    format!("{host}:{}:{n}:{}", std::process::id(), &crate::ids::new_id()[24..])
}

pub fn spawn<C: JobEnv>(pool: Pool, ctx: Arc<C>, registry: Arc<Registry<C>>, cfg: WorkerConfig) -> Workers {
    let stop = Arc::new(AtomicBool::new(false));
    let handles = (0..cfg.concurrency.max(1))
        .map(|n| {
            let (pool, ctx, cfg, stop, registry) = (pool.clone(), ctx.clone(), cfg.clone(), stop.clone(), registry.clone());
            std::thread::Builder::new()
                .name(format!("keel-worker-{n}"))
                .spawn(move || {
                    let owner = owner_id(n);
                    while !stop.load(Ordering::SeqCst) {
                        match run_batch(&pool, ctx.as_ref(), registry.as_ref(), &cfg, &owner) {
                            Ok(0) => std::thread::sleep(cfg.idle),
                            Ok(_) => {}
                            Err(e) => {
                                tracing::warn!(error = %e, "worker round failed");
                                std::thread::sleep(cfg.idle);
                            }
                        }
                    }
                })
                .unwrap_or_else(|e| panic!("cannot start a worker thread: {e}"))
        })
        .collect();
    Workers { stop, handles }
}

/// Claims one batch and runs it. Returns how many jobs were claimed.
pub fn run_batch<C: JobEnv>(pool: &Pool, ctx: &C, registry: &Registry<C>, cfg: &WorkerConfig, owner: &str) -> Result<usize, String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let jobs = queue::claim(&mut conn, ctx.now(), &cfg.queue, owner, cfg.lease, cfg.batch).map_err(|e| e.to_string())?;
    let claimed = jobs.len();
    if claimed == 0 {
        return Ok(0);
    }
    let mut done = Vec::with_capacity(claimed);
    let finished = AtomicBool::new(false);
    let result = std::thread::scope(|scope| {
        // While handlers run, renew the batch's leases every third of the lease, so a slow job is
        // not taken by another worker; a killed process stops renewing and its leases lapse.
        let beat = scope.spawn(|| heartbeat_until(&finished, pool, ctx, owner, &jobs, cfg.lease));
        let r = run_jobs(&mut conn, ctx, registry, owner, &jobs, &mut done);
        finished.store(true, Ordering::SeqCst);
        beat.thread().unpark();
        r
    });
    result?;
    queue::complete(&mut conn, ctx.now(), owner, &done).map_err(|e| e.to_string())?;
    Ok(claimed)
}

fn run_jobs<C: JobEnv>(
    conn: &mut crate::db::DbConn,
    ctx: &C,
    registry: &Registry<C>,
    owner: &str,
    jobs: &[JobRow],
    done: &mut Vec<String>,
) -> Result<(), String> {
    for job in jobs {
        let outcome = catch_unwind(AssertUnwindSafe(|| registry.run(ctx, conn, job)))
            .unwrap_or_else(|_| Err(JobError::Retryable("the handler panicked".to_string())));
        let now = ctx.now();
        match outcome {
            Ok(Outcome::Done) => done.push(job.id.clone()),
            Ok(Outcome::Defer(when)) => queue::defer(conn, now, owner, job, when).map_err(|e| e.to_string())?,
            Err(error) => {
                let state = queue::fail(conn, now, owner, job, &error.to_string(), error.is_permanent()).map_err(|e| e.to_string())?;
                tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, state = state.as_str(), permanent = error.is_permanent(), %error, "job failed");
            }
        }
    }
    Ok(())
}

fn heartbeat_until<C: JobEnv>(finished: &AtomicBool, pool: &Pool, ctx: &C, owner: &str, jobs: &[JobRow], lease: Duration) {
    let every = (lease / 3).to_std().unwrap_or(std::time::Duration::from_secs(1)).max(std::time::Duration::from_millis(100));
    let ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
    loop {
        std::thread::park_timeout(every);
        if finished.load(Ordering::SeqCst) {
            return;
        }
        {
            let renewed = pool
                .get()
                .map_err(|e| e.to_string())
                .and_then(|mut c| queue::heartbeat(&mut c, ctx.now(), owner, &ids, lease).map_err(|e| e.to_string()));
            if let Err(e) = renewed {
                tracing::warn!(error = %e, "could not renew job leases");
            }
        }
    }
}

/// Runs batches until no job is runnable (for `keel automation run`, the bench and tests).
pub fn drain<C: JobEnv>(pool: &Pool, ctx: &C, registry: &Registry<C>, cfg: &WorkerConfig) -> Result<usize, String> {
    let owner = owner_id(0);
    let mut total = 0;
    loop {
        let n = run_batch(pool, ctx, registry, cfg, &owner)?;
        if n == 0 {
            return Ok(total);
        }
        total += n;
    }
}
