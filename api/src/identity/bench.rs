//! `keel bench auth`: concurrent registrations and log-ins per second on the configured database,
//! through the same service functions the routes call (argon2id hashing included). On SQLite a
//! transaction holds the one write lock, so what runs inside it (never a password hash) decides
//! how many sign-ups and sign-ins the process serves at once. Figures, never assertions.

use std::sync::atomic::{AtomicUsize, Ordering};
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
    let registered = run(state, users_n, threads, register)?;
    println!("  registrations: {registered:>8.1} /s");
    let logged_in = run(state, users_n, threads, login)?;
    println!("  log-ins:       {logged_in:>8.1} /s");
    // Both at once: half the threads sign up new users while the other half sign in. A sign-up
    // that hashed inside its transaction held SQLite's write lock for the whole hash, and every
    // sign-in (which writes its session) waited behind it.
    let half = (threads / 2).max(1);
    let t = Instant::now();
    let (signups, signins) = std::thread::scope(|scope| {
        let up = scope.spawn(|| run(state, users_n, half, |state, i| register(state, users_n + i)));
        let ins = scope.spawn(|| run(state, users_n, half, login));
        (up.join(), ins.join())
    });
    let (signups, signins) = (signups.map_err(|_| "a bench thread panicked")??, signins.map_err(|_| "a bench thread panicked")??);
    println!(
        "  mixed ({half}+{half} threads, {:.1} s): {signins:>8.1} log-ins/s beside {signups:.1} registrations/s",
        t.elapsed().as_secs_f64()
    );
    clean(state)
}

fn register(state: &AppState, i: usize) -> Result<(), String> {
    let req = RegisterRequest {
        email: format!("user{i}@{DOMAIN}"),
        password: "bench: Keel sign-in 4711".into(),
        first_name: "Bench".into(),
        last_name: "User".into(),
    };
    let (now, mail, meta) = (state.clock.now(), state.mail(), ClientMeta::default());
    let mut c = state.pool.get().map_err(|e| e.to_string())?;
    service::register(&mut c, now, &req, &meta, &mail).map(|_| ()).map_err(|e| e.to_string())
}

fn login(state: &AppState, i: usize) -> Result<(), String> {
    let (now, mail, meta) = (state.clock.now(), state.mail(), ClientMeta::default());
    let mut c = state.pool.get().map_err(|e| e.to_string())?;
    match service::login(&mut c, now, &format!("user{i}@{DOMAIN}"), "bench: Keel sign-in 4711", &meta, &mail) {
        Ok(LoginOutcome::SignedIn(..)) => Ok(()),
        Ok(LoginOutcome::NeedsCode(..)) => Err("unexpected two-factor step".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs `op(0..n)` on `threads` threads; answers operations per second.
fn run(state: &AppState, n: usize, threads: usize, op: impl Fn(&AppState, usize) -> Result<(), String> + Sync) -> Result<f64, String> {
    let next = AtomicUsize::new(0);
    let t = Instant::now();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> Result<(), String> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            return Ok(());
                        }
                        op(state, i)?;
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().map_err(|_| "a bench thread panicked".to_string())??;
        }
        Ok::<(), String>(())
    })?;
    Ok(n as f64 / t.elapsed().as_secs_f64())
}

fn clean(state: &AppState) -> Result<(), String> {
    let mut c = state.pool.get().map_err(|e| e.to_string())?;
    diesel::delete(users::table.filter(users::email.like(format!("%@{DOMAIN}")))).execute(&mut c).map_err(|e| e.to_string())?;
    Ok(())
}
