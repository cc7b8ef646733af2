//! Serves the SPA that Trunk built: hashed assets with long cache lifetimes, `index.html` (never
//! cached) for every other path so client-side routes work on reload and deep links.

use std::path::{Path, PathBuf};

use actix_files::{Files, NamedFile};
use actix_web::dev::{fn_service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, CacheControl, CacheDirective};
use actix_web::HttpResponse;

pub fn service(web_dir: &Path) -> Files {
    let index = web_dir.join("index.html");
    Files::new("/", web_dir)
        .index_file("index.html")
        .use_etag(true)
        .use_last_modified(true)
        .default_handler(fn_service(move |req: ServiceRequest| {
            let index = index.clone();
            async move {
                let (req, _) = req.into_parts();
                let res = index_response(&req, &index).await;
                Ok(ServiceResponse::new(req, res))
            }
        }))
}

async fn index_response(req: &actix_web::HttpRequest, index: &PathBuf) -> HttpResponse {
    match NamedFile::open_async(index).await {
        Ok(file) => {
            let mut res = file.use_etag(false).use_last_modified(false).into_response(req);
            res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-cache"));
            res
        }
        Err(_) => not_built().await,
    }
}

/// The page shown for non-API paths when the SPA has not been built.
pub async fn not_built() -> HttpResponse {
    HttpResponse::ServiceUnavailable().content_type("text/html; charset=utf-8").body(NOT_BUILT)
}

/// Cache policy: Trunk's hashed file names (`app-1a2b….wasm`) never change content, so they are
/// immutable; anything else revalidates.
pub fn cache_control(path: &str) -> Option<CacheControl> {
    if path.starts_with("/api") {
        return None;
    }
    let name = path.rsplit('/').next().unwrap_or("");
    let hashed = name.split(['-', '.', '_']).any(|part| part.len() >= 12 && part.chars().all(|c| c.is_ascii_hexdigit()));
    if hashed {
        Some(CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(31_536_000), CacheDirective::Extension("immutable".into(), None)]))
    } else if name.contains('.') && name != "index.html" {
        Some(CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(3600)]))
    } else {
        None
    }
}

const NOT_BUILT: &str = "<!doctype html><title>Keel</title><h1>The web app is not built</h1>\
<p>Run <code>make run</code> (or <code>trunk build --release</code>) so that <code>dist/</code> exists, \
or point <code>KEEL_WEB_DIR</code> at the built SPA. The API is up at <a href=\"/api/docs/\">/api/docs/</a>.</p>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caches_hashed_assets_forever() {
        let c = |p| cache_control(p).map(|c| c.to_string());
        assert!(c("/keel-web-9f86d081884c7d65_bg.wasm").is_some_and(|v| v.contains("immutable")));
        assert!(c("/style-9f86d081884c7d65.css").is_some_and(|v| v.contains("immutable")));
        assert_eq!(c("/favicon.svg").as_deref(), Some("public, max-age=3600"));
        assert_eq!(c("/admin/clients"), None);
        assert_eq!(c("/api/v1/products"), None);
    }
}
