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

/// `keel bench login-flood --parallel N`: N log-ins for unknown e-mails at once (each spends a
/// dummy argon2id check), each from its own address (so the per-IP limit does not answer first),
/// through the whole actix app in this process (middleware, routes, the blocking pool), then
/// prints the count of each status and the process's peak and current resident memory. Every
/// answer must be 401, 429 or 503; none may be lost or hang (an error otherwise).
pub fn login_flood(state: AppState, parallel: usize) -> Result<(), String> {
    use actix_web::dev::Service;
    let backend = state.pool.get().map_err(|e| e.to_string())?.backend().name();
    let before = memory("VmRSS");
    println!("bench login-flood: backend={backend} parallel={parallel} rss_before={}", mib(before));
    let t = Instant::now();
    let statuses = actix_web::rt::System::new().block_on(async move {
        let app = actix_web::test::init_service(crate::http::app::build(state)).await;
        let calls = (0..parallel).map(|i| {
            let ip = std::net::Ipv4Addr::new(10, (i >> 16) as u8, (i >> 8) as u8, i as u8);
            let req = actix_web::test::TestRequest::post()
                .uri("/api/v1/auth/login")
                .peer_addr(std::net::SocketAddr::from((ip, 40_000)))
                .set_json(serde_json::json!({"email": format!("nobody{i}@{DOMAIN}"), "password": "not the password at all"}))
                .to_request();
            let call = app.call(req);
            async move {
                match tokio::time::timeout(std::time::Duration::from_secs(120), call).await {
                    Ok(Ok(res)) => Some(res.status().as_u16()),
                    _ => None,
                }
            }
        });
        futures_util::future::join_all(calls).await
    });
    let elapsed = t.elapsed().as_secs_f64();
    let mut counts = std::collections::BTreeMap::new();
    for s in &statuses {
        *counts.entry(s.map_or_else(|| "lost".to_string(), |s| s.to_string())).or_insert(0usize) += 1;
    }
    let summary: Vec<String> = counts.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("  answers in {elapsed:.1} s: {}", summary.join(" "));
    println!("  rss_peak={} rss_after={}", mib(memory("VmHWM")), mib(memory("VmRSS")));
    std::thread::sleep(std::time::Duration::from_secs(2));
    println!("  rss_after_2s={}", mib(memory("VmRSS")));
    let wrong: Vec<&String> = counts.keys().filter(|k| !["401", "429", "503"].contains(&k.as_str())).collect();
    if !wrong.is_empty() || statuses.len() != parallel {
        return Err(format!("unexpected answers: {}", summary.join(" ")));
    }
    Ok(())
}

/// A memory figure of this process from /proc/self/status, in KiB (0 where there is none).
fn memory(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)).and_then(|n| n.parse().ok()))
        .unwrap_or(0)
}

fn mib(kib: u64) -> String {
    format!("{:.1}MiB", kib as f64 / 1024.0)
}
