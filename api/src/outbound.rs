//! The HTTP client every adapter to an outside service uses (VIES, the ECB; next payment
//! gateways, registrars, control panels): rustls with aws-lc-rs (the provider lettre's rustls
//! already uses, installed once per process) and the system's CA certificates, a connect timeout,
//! an overall timeout, and Keel's user agent. It keeps no idle connections: adapters are called
//! from the HTTP server's runtime and from short runtimes a worker thread makes for one job, and a
//! pooled connection belongs to the runtime that opened it.

use std::time::Duration;

pub fn client(timeout: Duration) -> Result<reqwest::Client, String> {
    let _ = rustls::crypto::CryptoProvider::install_default(rustls::crypto::aws_lc_rs::default_provider());
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(timeout)
        .user_agent(concat!("Keel/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| format!("HTTP client: {e}"))
}

/// Runs an adapter's future to completion from synchronous code (a job worker, or a request's
/// blocking task), on a thread of its own with a small runtime: a runtime cannot be started
/// inside another's context. `Err` says why it could not run (no runtime, a panic).
pub fn block_on<T: Send>(fut: impl std::future::Future<Output = T> + Send) -> Result<T, String> {
    std::thread::scope(|s| {
        s.spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
            Ok(rt.block_on(fut))
        })
        .join()
    })
    .unwrap_or_else(|_| Err("the call panicked".to_string()))
}
