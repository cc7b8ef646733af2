//! `keel bench jobs`: the queue's throughput on the configured database, printed as figures.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use diesel::prelude::*;

use super::queue::{self, NewJob};
use super::worker::{self, WorkerConfig};
use crate::schema::jobs;
use crate::server;
use crate::state::AppState;

const QUEUE: &str = "bench";

pub fn jobs(state: &AppState, count: usize, workers: usize, batch: i64) -> Result<(), String> {
    let backend = state.pool.get().map_err(|e| e.to_string())?.backend().name();
    let mut conn = state.pool.get().map_err(|e| e.to_string())?;
    diesel::delete(jobs::table.filter(jobs::queue.eq(QUEUE))).execute(&mut conn).map_err(|e| e.to_string())?;
    let now = state.clock.now();
    let new: Vec<NewJob> = (0..count)
        .map(|_| {
            let mut j = NewJob::new("noop", serde_json::json!({}));
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

    let ctx = server::job_context(state)?;
    let cfg = WorkerConfig { batch, queue: QUEUE.into(), ..server::worker_config(&state.config) };
    let done = Arc::new(AtomicUsize::new(0));
    let t = Instant::now();
    let threads: Vec<_> = (0..workers.max(1))
        .map(|n| {
            let (pool, ctx, cfg, done) = (state.pool.clone(), ctx.clone(), cfg.clone(), done.clone());
            std::thread::spawn(move || -> Result<(), String> {
                let registry = super::handlers::registry();
                let owner = format!("bench-{n}-{}", std::process::id());
                loop {
                    let claimed = worker::run_batch(&pool, &ctx, &registry, &cfg, &owner)?;
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
    let mut conn = state.pool.get().map_err(|e| e.to_string())?;
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
