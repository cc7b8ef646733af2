//! Start-up: configuration → database (migrated) → first-start data → HTTP server with graceful
//! shutdown on SIGINT/SIGTERM.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::automation::scheduler;
use crate::automation::worker::{self, WorkerConfig};
use crate::bootstrap;
use crate::clock::{SharedClock, SystemClock};
use crate::config::Config;
use crate::db;
use crate::state::AppState;

/// Opens the database, applies migrations and builds the shared state.
pub fn prepare(config: Config, clock: SharedClock) -> Result<AppState, String> {
    let secret = bootstrap::secret_key(&config)?;
    let pool = db::connect(&config.database_url, config.db_pool_size).map_err(|e| format!("DATABASE_URL: {e}"))?;
    let state = AppState::new(pool, config, clock, secret)?;
    if state.config.smtp_url.is_none() {
        tracing::info!(dir = %state.config.data_dir.join("mail").display(), "no KEEL_SMTP_URL: e-mails are written as .eml files");
    }
    Ok(state)
}

/// Runs first-start tasks and prints what a person needs to know once (the admin password).
pub fn first_start(state: &AppState) -> Result<(), String> {
    let mut conn = state.pool.get().map_err(|e| format!("DATABASE_URL: {e}"))?;
    let done =
        bootstrap::first_start(&mut conn, &state.config, state.jobs.tasks(), state.clock.now()).map_err(|e| format!("first start: {e}"))?;
    if done.products_created > 0 {
        tracing::info!(products = done.products_created, "loaded the demo catalog");
    }
    if let Some((email, password)) = done.admin {
        // Printed on stdout, once: it is not stored anywhere in clear.
        println!();
        println!("  Keel created the first administrator account:");
        println!("    e-mail:   {email}");
        match password {
            Some(p) => println!("    password: {p}    (shown only this once; change it after signing in)"),
            None => println!("    password: the one in KEEL_ADMIN_PASSWORD"),
        }
        println!();
    }
    Ok(())
}

pub fn worker_config(config: &Config) -> WorkerConfig {
    WorkerConfig { concurrency: config.workers.max(1), lease: chrono::Duration::seconds(config.job_lease_secs), ..WorkerConfig::default() }
}

/// `KEEL_WORKERS` worker threads running this build's job kinds with the shared dependencies.
pub fn spawn_workers(state: &AppState) -> worker::Workers {
    worker::spawn(state.pool.clone(), state.deps.clone(), state.jobs.clone(), worker_config(&state.config))
}

/// Runs every runnable job now, as a worker would (the CLI's automation run and tests).
pub fn drain(state: &AppState) -> Result<usize, String> {
    worker::drain(&state.pool, state.deps.as_ref(), &state.jobs, &worker_config(&state.config))
}

/// The scheduler loop: a tick every `scheduler_interval_secs` until `stop`.
pub fn spawn_scheduler(state: &AppState, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    let (pool, clock, every) = (state.pool.clone(), state.clock.clone(), state.config.scheduler_interval_secs);
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            match pool.get().map_err(|e| e.to_string()).and_then(|mut c| scheduler::tick(&mut c, clock.now()).map_err(|e| e.to_string())) {
                Ok(started) => {
                    for due in started {
                        tracing::info!(task = %due.task, period = %due.period, "scheduled task started");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "scheduler tick failed"),
            }
            for _ in 0..every * 10 {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    })
}

/// Workers and scheduler only (`keel worker`), until SIGINT/SIGTERM.
pub fn run_workers(state: AppState) -> Result<(), String> {
    let workers = spawn_workers(&state);
    let stop = Arc::new(AtomicBool::new(false));
    let sched = spawn_scheduler(&state, stop.clone());
    tracing::info!(workers = state.config.workers.max(1), "Keel workers are running");
    actix_web::rt::System::new().block_on(async {
        let _ = actix_web::rt::signal::ctrl_c().await;
    });
    tracing::info!("stopping workers");
    stop.store(true, Ordering::SeqCst);
    workers.stop();
    let _ = sched.join();
    Ok(())
}

/// Serves HTTP until a shutdown signal; with `KEEL_WORKERS` > 0 also runs workers and the
/// scheduler in this process.
pub async fn serve(state: AppState) -> std::io::Result<()> {
    let background = if state.config.workers > 0 {
        let stop = Arc::new(AtomicBool::new(false));
        Some((spawn_workers(&state), spawn_scheduler(&state, stop.clone()), stop))
    } else {
        None
    };
    let result = serve_http(state).await;
    if let Some((workers, sched, stop)) = background {
        stop.store(true, Ordering::SeqCst);
        workers.stop();
        let _ = sched.join();
    }
    result
}

async fn serve_http(state: AppState) -> std::io::Result<()> {
    let bind = state.config.bind;
    let backend = state.pool.get().map(|c| c.backend().name()).unwrap_or("?");
    let web_dir = state.config.web_dir.clone();
    if !web_dir.join("index.html").exists() {
        tracing::warn!(dir = %web_dir.display(), "the SPA is not built there; pages will say so (KEEL_WEB_DIR)");
    }
    let server = actix_web::HttpServer::new(move || crate::http::app::build(state.clone())).bind(bind)?.shutdown_timeout(20);
    for addr in server.addrs() {
        tracing::info!(%addr, database = backend, "Keel is listening");
        println!("Keel is running at http://{addr}/  (API docs: http://{addr}/api/docs/)");
    }
    // actix handles SIGINT/SIGTERM: it stops accepting, finishes in-flight requests, then returns.
    server.run().await
}

pub fn system_clock() -> SharedClock {
    Arc::new(SystemClock)
}
