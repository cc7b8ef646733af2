//! `keel bench jobs`: the queue's throughput on the configured database, printed as figures.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use diesel::prelude::*;

use super::queue::{self, NewJob};
use super::registry::{JobEnv, Registry};
use super::worker::{self, WorkerConfig};
use crate::db::Pool;
use crate::schema::jobs;

const QUEUE: &str = "bench";

/// Enqueues `count` no-op jobs and drains them with `workers` threads (`cfg` gives the batch and
/// lease); prints the figures.
pub fn jobs<C: JobEnv>(
    pool: &Pool,
    ctx: Arc<C>,
    registry: Arc<Registry<C>>,
    count: usize,
    workers: usize,
    cfg: WorkerConfig,
) -> Result<(), String> {
    let batch = cfg.batch;
    let backend = pool.get().map_err(|e| e.to_string())?.backend().name();
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    diesel::delete(jobs::table.filter(jobs::queue.eq(QUEUE))).execute(&mut conn).map_err(|e| e.to_string())?;
    let now = ctx.now();
    let new: Vec<NewJob> = (0..count)
        .map(|_| {
            let mut j = NewJob::new(super::jobs::NOOP, serde_json::json!({}));
            j.queue = QUEUE.into();
            j
        })
        .collect();
    let t = Instant::now();
    for chunk in new.chunks(5_000) {
        crate::db::transaction(&mut conn, |c| queue::enqueue_many(c, now, chunk)).map_err(|e| e.to_string())?;
    }
    let enqueue_secs = t.elapsed().as_secs_f64();
    drop(conn);

    let cfg = WorkerConfig { queue: QUEUE.into(), ..cfg };
    let done = Arc::new(AtomicUsize::new(0));
    let t = Instant::now();
    let threads: Vec<_> = (0..workers.max(1))
        .map(|n| {
            let (pool, ctx, registry, cfg, done) = (pool.clone(), ctx.clone(), registry.clone(), cfg.clone(), done.clone());
            std::thread::spawn(move || -> Result<(), String> {
                let owner = format!("bench-{n}-{}", std::process::id());
                loop {
                    let claimed = worker::run_batch(&pool, ctx.as_ref(), &registry, &cfg, &owner)?;
                    if claimed == 0 {
                        return Ok(());
                    }
                    done.fetch_add(claimed, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().map_err(|_| "a bench worker panicked".to_string())??;
    }
    let drain_secs = t.elapsed().as_secs_f64();
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let succeeded: i64 = jobs::table
        .filter(jobs::queue.eq(QUEUE))
        .filter(jobs::state.eq("succeeded"))
        .filter(jobs::attempts.eq(1))
        .count()
        .get_result(&mut conn)
        .map_err(|e| e.to_string())?;
    diesel::delete(jobs::table.filter(jobs::queue.eq(QUEUE))).execute(&mut conn).map_err(|e| e.to_string())?;
    println!(
        "bench jobs: backend={backend} jobs={count} workers={workers} batch={batch}\n  enqueue: {:>9.0} jobs/s ({enqueue_secs:.2} s)\n  drain:   {:>9.0} jobs/s ({drain_secs:.2} s)\n  succeeded exactly once: {succeeded}/{count}",
        count as f64 / enqueue_secs,
        done.load(Ordering::Relaxed) as f64 / drain_secs,
    );
    if succeeded as usize != count {
        return Err(format!("only {succeeded} of {count} jobs succeeded on their first attempt"));
    }
    Ok(())
}
