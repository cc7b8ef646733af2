//! `keel bench auth`: concurrent registrations and log-ins per second on the configured database,
//! through the same service functions the routes call (argon2id hashing included). On SQLite a
//! transaction holds the one write lock, so what runs inside it (never a password hash) decides
//! how many sign-ups and sign-ins the process serves at once. Figures, never assertions.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use diesel::prelude::*;
use keel_shared::auth::RegisterRequest;

use crate::identity::service::{self, ClientMeta, LoginOutcome};
use crate::schema::users;
use crate::state::AppState;

const DOMAIN: &str = "bench-auth.example.com";

pub fn auth(state: &AppState, users_n: usize, threads: usize) -> Result<(), String> {
    let backend = state.pool.get().map_err(|e| e.to_string())?.backend().name();
    clean(state)?;
    let threads = threads.max(1);
    println!("bench auth: backend={backend} users={users_n} threads={threads}");
    let registered = run(state, users_n, threads, |state, i| {
        let req = RegisterRequest {
            email: format!("user{i}@{DOMAIN}"),
            password: "correct horse battery staple".into(),
            first_name: "Bench".into(),
            last_name: "User".into(),
        };
        let (now, mail, meta) = (state.clock.now(), state.mail(), ClientMeta::default());
        let mut c = state.pool.get().map_err(|e| e.to_string())?;
        service::register(&mut c, now, &req, &meta, &mail).map(|_| ()).map_err(|e| e.to_string())
    })?;
    println!("  registrations: {registered:>8.1} /s");
    let logged_in = run(state, users_n, threads, |state, i| {
        let (now, mail, meta) = (state.clock.now(), state.mail(), ClientMeta::default());
        let mut c = state.pool.get().map_err(|e| e.to_string())?;
        match service::login(&mut c, now, &format!("user{i}@{DOMAIN}"), "correct horse battery staple", &meta, &mail) {
            Ok(LoginOutcome::SignedIn(..)) => Ok(()),
            Ok(LoginOutcome::NeedsCode(..)) => Err("unexpected two-factor step".into()),
            Err(e) => Err(e.to_string()),
        }
    })?;
    println!("  log-ins:       {logged_in:>8.1} /s");
    clean(state)
}

/// Runs `op(0..n)` on `threads` threads; answers operations per second.
fn run(state: &AppState, n: usize, threads: usize, op: fn(&AppState, usize) -> Result<(), String>) -> Result<f64, String> {
    let next = Arc::new(AtomicUsize::new(0));
    let t = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (state, next) = (state.clone(), next.clone());
            std::thread::spawn(move || -> Result<(), String> {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        return Ok(());
                    }
                    op(&state, i)?;
                }
            })
        })
        .collect();
    for h in handles {
        h.join().map_err(|_| "a bench thread panicked".to_string())??;
    }
    Ok(n as f64 / t.elapsed().as_secs_f64())
}

fn clean(state: &AppState) -> Result<(), String> {
    let mut c = state.pool.get().map_err(|e| e.to_string())?;
    diesel::delete(users::table.filter(users::email.like(format!("%@{DOMAIN}")))).execute(&mut c).map_err(|e| e.to_string())?;
    Ok(())
}
