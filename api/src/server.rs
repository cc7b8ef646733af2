//! Start-up: configuration → database (migrated) → first-start data → HTTP server with graceful
//! shutdown on SIGINT/SIGTERM.

use std::sync::Arc;

use crate::accounts::tokens::JwtKeys;
use crate::bootstrap;
use crate::clock::{SharedClock, SystemClock};
use crate::config::Config;
use crate::db;
use crate::state::AppState;

/// Opens the database, applies migrations and builds the shared state.
pub fn prepare(config: Config, clock: SharedClock) -> Result<AppState, String> {
    let secret = bootstrap::secret_key(&config)?;
    let pool = db::connect(&config.database_url, config.db_pool_size).map_err(|e| format!("DATABASE_URL: {e}"))?;
    Ok(AppState { pool, clock, jwt: JwtKeys::from_secret(&secret), config: Arc::new(config) })
}

/// Runs first-start tasks and prints what a person needs to know once (the admin password).
pub fn first_start(state: &AppState) -> Result<(), String> {
    let mut conn = state.pool.get().map_err(|e| format!("DATABASE_URL: {e}"))?;
    let done = bootstrap::first_start(&mut conn, &state.config, state.clock.now()).map_err(|e| format!("first start: {e}"))?;
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

/// Serves HTTP until a shutdown signal.
pub async fn serve(state: AppState) -> std::io::Result<()> {
    let bind = state.config.bind;
    let backend = state.pool.get().map(|c| c.backend().name()).unwrap_or("?");
    let web_dir = state.config.web_dir.clone();
    if !web_dir.join("index.html").exists() {
        tracing::warn!(dir = %web_dir.display(), "the SPA is not built there; pages will say so (KEEL_WEB_DIR)");
    }
    let server = actix_web::HttpServer::new(move || crate::http::app::build(state.clone()))
        .bind(bind)?
        .shutdown_timeout(20);
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
