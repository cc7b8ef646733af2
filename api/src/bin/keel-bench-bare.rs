//! The yardstick for `make bench-http`: a bare actix-web server (same actix-web, same default
//! worker count as `keel serve`) answering one fixed JSON body, so Keel's endpoints can be
//! reported as a share of what the framework alone does on this machine. Binds 127.0.0.1 on the
//! port given (default: any free one) and prints `listening on http://ADDR/`.

use actix_web::{web, App, HttpResponse, HttpServer};

async fn fixed() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(r#"{"status":"ok"}"#)
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    let server = HttpServer::new(|| App::new().route("/", web::get().to(fixed))).bind(("127.0.0.1", port))?;
    for addr in server.addrs() {
        println!("listening on http://{addr}/");
    }
    server.run().await
}
