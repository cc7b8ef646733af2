//! Provisioning: servers, the modules that drive their control panels, and the life of the
//! services clients bought — placed on a server and created when their order is paid,
//! suspended, unsuspended, changed and terminated through the module, with every step written to
//! the service's history. The built-in sandbox server (a WHM stand-in in this process) lets a
//! fresh install provision end to end.

pub mod bench;
pub mod changes;
pub mod hetzner;
pub mod hetzner_sandbox;
pub mod jobs;
pub mod module;
pub mod renewals;
pub mod routes;
pub mod service;
pub mod store;
pub mod whm;
pub mod whm_sandbox;

/// Serves a module stand-in's routes on `listener` (a loopback port), on a thread and runtime of
/// its own, so synchronous callers (workers, tests draining jobs) can reach it; answers a handle
/// that stops it. The provisioning bench and the test suite run their stand-ins this way.
pub fn serve_stand_in(
    listener: std::net::TcpListener,
    configure: impl Fn(&mut actix_web::web::ServiceConfig) + Clone + Send + 'static,
) -> Result<actix_web::dev::ServerHandle, String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = actix_web::HttpServer::new(move || actix_web::App::new().configure(configure.clone()))
                .workers(1)
                .disable_signals()
                .listen(listener);
            match server {
                Ok(s) => {
                    let running = s.run();
                    let _ = tx.send(Ok(running.handle()));
                    let _ = running.await;
                }
                Err(e) => {
                    let _ = tx.send(Err(format!("stand-in: {e}")));
                }
            }
        })
    });
    rx.recv().map_err(|_| "the stand-in's thread ended".to_string())?
}
