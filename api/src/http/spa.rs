//! Serves the SPA that Trunk built into `dist/`: three bundles (`web/src/routes.rs` has the
//! table), each with its own `index.html` — the storefront in `dist/`, the client portal in
//! `dist/portal/`, the admin in `dist/admin/`.
//!
//! - A file that exists is served, by content negotiation when the build left precompressed
//!   siblings (`x.wasm.br`, `x.wasm.gz`, made by `scripts/web-size`): brotli when the client
//!   accepts it, else gzip, else the file itself; `Content-Type` is the original's,
//!   `Vary: Accept-Encoding` is set, and each representation has its own ETag.
//! - A path with a file extension that does not exist answers 404 (a missing asset must not get
//!   an HTML page with status 200).
//! - Any other path answers its bundle's `index.html` (never cached) so client-side routes work on
//!   reload and deep links.
//!
//! Cache lifetimes are set by [`cache_control`] (hashed names are immutable). JSON and other
//! dynamic answers are compressed by actix's `Compress` middleware, except bodies under
//! [`COMPRESS_MIN_BYTES`] ([`keep_small_uncompressed`] / [`drop_identity_marker`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use actix_files::NamedFile;
use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, CacheControl, CacheDirective, ContentEncoding, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpRequest, HttpResponse, Resource};

/// Answers every GET and HEAD that no other service took (registered after the API).
pub fn service(web_dir: &Path) -> Resource {
    let dir = Arc::new(web_dir.to_path_buf());
    let handler = move |req: HttpRequest| {
        let dir = dir.clone();
        async move { serve(&req, &dir).await }
    };
    web::resource("/{tail:.*}").route(web::get().to(handler.clone())).route(web::head().to(handler))
}

async fn serve(req: &HttpRequest, dir: &Path) -> HttpResponse {
    match route(req.path()) {
        Route::File(rel) => {
            let file = dir.join(&rel);
            if file.is_file() {
                let accept = req.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
                return asset_response(req, &file, accept).await;
            }
            if has_extension(&rel) {
                return not_found();
            }
            index_response(req, dir, req.path()).await
        }
        Route::Index => index_response(req, dir, req.path()).await,
        Route::NotFound => not_found(),
    }
}

/// What a request path asks for, before looking at the disk.
#[derive(Debug, PartialEq)]
enum Route {
    /// A file under the web directory, if it exists (relative path).
    File(String),
    /// A bundle's `index.html`.
    Index,
    /// Something never served: hidden files, `..`, encoded or odd characters with an extension.
    NotFound,
}

fn route(path: &str) -> Route {
    let rel = path.trim_start_matches('/');
    if rel.is_empty() || rel.ends_with('/') {
        return Route::Index;
    }
    let safe = rel.split('/').all(|seg| !seg.is_empty() && !seg.starts_with('.') && !seg.contains(['\\', '%', ':']));
    match (safe, has_extension(rel)) {
        (true, _) => Route::File(rel.to_string()),
        (false, true) => Route::NotFound,
        (false, false) => Route::Index,
    }
}

/// Whether the last segment of `path` has a file extension (`app.js`, not `reset-password`).
fn has_extension(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    name.rfind('.').is_some_and(|i| i > 0 && i + 1 < name.len())
}

/// The bundle whose `index.html` answers `path` (relative to the web directory). Keep in step with
/// `bundle_of` in `web/src/routes.rs`.
fn bundle_index(path: &str) -> &'static str {
    let under = |prefix: &str| path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'));
    if under("/admin") {
        "admin/index.html"
    } else if under("/dashboard") || path == "/team/accept" {
        "portal/index.html"
    } else {
        "index.html"
    }
}

async fn index_response(req: &HttpRequest, dir: &Path, path: &str) -> HttpResponse {
    let bundle = dir.join(bundle_index(path));
    // An older build with one bundle still answers every route from dist/index.html.
    let index = if bundle.is_file() { bundle } else { dir.join("index.html") };
    match NamedFile::open_async(&index).await {
        Ok(file) => {
            let mut res = file.use_etag(false).use_last_modified(false).disable_content_disposition().into_response(req);
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            res
        }
        Err(_) => not_built().await,
    }
}

/// A precompressed form of a file the build may have left beside it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Precompressed {
    Brotli,
    Gzip,
}

impl Precompressed {
    fn suffix(self) -> &'static str {
        match self {
            Precompressed::Brotli => "br",
            Precompressed::Gzip => "gz",
        }
    }
    fn encoding(self) -> ContentEncoding {
        match self {
            Precompressed::Brotli => ContentEncoding::Brotli,
            Precompressed::Gzip => ContentEncoding::Gzip,
        }
    }
}

/// The precompressed forms an `Accept-Encoding` value allows, best first (brotli, then gzip).
/// A coding is allowed when it is listed (or `*` is) with a q-value above 0.
fn acceptable(accept_encoding: &str) -> Vec<Precompressed> {
    let q_of = |name: &str| -> Option<f32> {
        let mut star = None;
        for item in accept_encoding.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .map_or(1.0, |v| v.trim().parse::<f32>().unwrap_or(0.0));
            if coding.eq_ignore_ascii_case(name) || (name == "gzip" && coding.eq_ignore_ascii_case("x-gzip")) {
                return Some(q);
            }
            if coding == "*" {
                star = Some(q);
            }
        }
        star
    };
    [("br", Precompressed::Brotli), ("gzip", Precompressed::Gzip)]
        .into_iter()
        .filter(|(name, _)| q_of(name).is_some_and(|q| q > 0.0))
        .map(|(_, p)| p)
        .collect()
}

fn sibling(file: &Path, p: Precompressed) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".");
    name.push(p.suffix());
    PathBuf::from(name)
}

async fn asset_response(req: &HttpRequest, file: &Path, accept_encoding: &str) -> HttpResponse {
    let variants = [Precompressed::Brotli, Precompressed::Gzip];
    let has_variants = variants.iter().any(|p| sibling(file, *p).is_file());
    let chosen = acceptable(accept_encoding).into_iter().find(|p| sibling(file, *p).is_file());
    let content_type = actix_files::file_extension_to_mime(file.extension().and_then(|e| e.to_str()).unwrap_or(""));
    let opened = match chosen {
        Some(p) => NamedFile::open_async(sibling(file, p)).await.map(|f| f.set_content_encoding(p.encoding())),
        None => NamedFile::open_async(file).await,
    };
    let Ok(named) = opened else { return not_found() };
    let mut res =
        named.set_content_type(content_type).disable_content_disposition().use_etag(true).use_last_modified(true).into_response(req);
    if has_variants {
        res.headers_mut().append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    res
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound().content_type("text/plain; charset=utf-8").body("Not found\n")
}

/// The page shown for non-API paths when the SPA has not been built.
pub async fn not_built() -> HttpResponse {
    HttpResponse::ServiceUnavailable().content_type("text/html; charset=utf-8").body(NOT_BUILT)
}

/// Cache policy: Trunk's hashed file names (`app-1a2b….wasm`, and their `.br`/`.gz` forms) never
/// change content, so they are immutable; anything else revalidates.
pub fn cache_control(path: &str) -> Option<CacheControl> {
    if path.starts_with("/api") {
        return None;
    }
    let name = path.rsplit('/').next().unwrap_or("");
    let hashed = name.split(['-', '.', '_']).any(|part| part.len() >= 12 && part.chars().all(|c| c.is_ascii_hexdigit()));
    if hashed {
        Some(CacheControl(vec![
            CacheDirective::Public,
            CacheDirective::MaxAge(31_536_000),
            CacheDirective::Extension("immutable".into(), None),
        ]))
    } else if name.contains('.') && name != "index.html" {
        Some(CacheControl(vec![CacheDirective::Public, CacheDirective::MaxAge(3600)]))
    } else {
        None
    }
}

/// Answers smaller than this are sent as they are: compressing them saves less than it costs.
pub const COMPRESS_MIN_BYTES: u64 = 1024;

/// Inside `Compress`: marks small answers `Content-Encoding: identity` so that `Compress` (which
/// leaves any answer with a `Content-Encoding` alone) does not compress them.
pub async fn keep_small_uncompressed(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut res = next.call(req).await?;
    let small = matches!(res.response().body().size(), BodySize::Sized(n) if n < COMPRESS_MIN_BYTES);
    if small && !res.headers().contains_key(header::CONTENT_ENCODING) {
        res.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("identity"));
    }
    Ok(res)
}

/// Outside `Compress`: removes the marker [`keep_small_uncompressed`] set.
pub async fn drop_identity_marker(req: ServiceRequest, next: Next<impl MessageBody>) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let mut res = next.call(req).await?;
    if res.headers().get(header::CONTENT_ENCODING).is_some_and(|v| v == "identity") {
        res.headers_mut().remove(header::CONTENT_ENCODING);
    }
    Ok(res)
}

const NOT_BUILT: &str = "<!doctype html><title>Keel</title><h1>The web app is not built</h1>\
<p>Run <code>make run</code> (or <code>make web</code>) so that <code>dist/</code> exists, \
or point <code>KEEL_WEB_DIR</code> at the built SPA. The API is up at <a href=\"/api/docs/\">/api/docs/</a>.</p>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caches_hashed_assets_forever() {
        let c = |p| cache_control(p).map(|c| c.to_string());
        assert!(c("/keel-web-9f86d081884c7d65_bg.wasm").is_some_and(|v| v.contains("immutable")));
        assert!(c("/admin/keel-admin-9f86d081884c7d65_bg.wasm.br").is_some_and(|v| v.contains("immutable")));
        assert!(c("/style-9f86d081884c7d65.css").is_some_and(|v| v.contains("immutable")));
        assert_eq!(c("/favicon.svg").as_deref(), Some("public, max-age=3600"));
        assert_eq!(c("/admin/clients"), None);
        assert_eq!(c("/api/v1/products"), None);
    }

    #[test]
    fn brotli_is_preferred_then_gzip_then_the_file_itself() {
        use Precompressed::{Brotli, Gzip};
        assert_eq!(acceptable("gzip, deflate, br, zstd"), vec![Brotli, Gzip]);
        assert_eq!(acceptable("gzip"), vec![Gzip]);
        assert_eq!(acceptable("x-gzip"), vec![Gzip]);
        assert_eq!(acceptable("br;q=0, gzip;q=0.5"), vec![Gzip]);
        assert_eq!(acceptable("BR"), vec![Brotli]);
        assert_eq!(acceptable("*"), vec![Brotli, Gzip]);
        assert_eq!(acceptable("*, br;q=0"), vec![Gzip]);
        assert_eq!(acceptable("identity"), vec![]);
        assert_eq!(acceptable(""), vec![]);
        assert_eq!(acceptable("deflate"), vec![]);
    }

    #[test]
    fn paths_with_an_extension_are_files_and_others_are_pages() {
        assert_eq!(route("/"), Route::Index);
        // A page path may name a file; `serve` answers the bundle's index when none exists.
        assert_eq!(route("/dashboard/security"), Route::File("dashboard/security".into()));
        assert_eq!(route("/a%20b/page"), Route::Index);
        assert_eq!(route("/admin/"), Route::Index);
        assert_eq!(route("/robots.txt"), Route::File("robots.txt".into()));
        assert_eq!(route("/admin/keel-admin-1a2b_bg.wasm"), Route::File("admin/keel-admin-1a2b_bg.wasm".into()));
        assert_eq!(route("/.stage/x.js"), Route::NotFound);
        assert_eq!(route("/../etc/passwd.txt"), Route::NotFound);
        assert_eq!(route("/a%2e%2e/x.js"), Route::NotFound);
        // A missing file with an extension is a 404 (decided in `serve`), a page path is not.
        assert!(has_extension("foo.js") && has_extension("img/x.png"));
        assert!(!has_extension("reset-password") && !has_extension(".hidden") && !has_extension("trailing."));
    }

    #[test]
    fn each_area_is_answered_by_its_bundle() {
        assert_eq!(bundle_index("/"), "index.html");
        assert_eq!(bundle_index("/login"), "index.html");
        assert_eq!(bundle_index("/no/such/page"), "index.html");
        assert_eq!(bundle_index("/dashboard"), "portal/index.html");
        assert_eq!(bundle_index("/dashboard/security"), "portal/index.html");
        assert_eq!(bundle_index("/team/accept"), "portal/index.html");
        assert_eq!(bundle_index("/admin"), "admin/index.html");
        assert_eq!(bundle_index("/admin/jobs"), "admin/index.html");
        assert_eq!(bundle_index("/administrator"), "index.html");
        assert_eq!(bundle_index("/dashboards"), "index.html");
    }

    #[actix_web::test]
    async fn serves_precompressed_files_by_accept_encoding_and_404s_missing_files() {
        use actix_web::test;

        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        std::fs::create_dir_all(dir.join("admin")).unwrap();
        std::fs::write(dir.join("index.html"), "<!doctype html><title>store</title>").unwrap();
        std::fs::write(dir.join("admin/index.html"), "<!doctype html><title>admin</title>").unwrap();
        std::fs::write(dir.join("app-0123456789abcdef.js"), "console.log(1)").unwrap();
        std::fs::write(dir.join("app-0123456789abcdef.js.br"), "BROTLI").unwrap();
        std::fs::write(dir.join("app-0123456789abcdef.js.gz"), "GZIP").unwrap();
        std::fs::write(dir.join("robots.txt"), "User-agent: *\n").unwrap();

        let app = test::init_service(actix_web::App::new().service(service(&dir))).await;
        let get = |path: &str, accept: Option<&str>| {
            let mut r = test::TestRequest::get().uri(path);
            if let Some(a) = accept {
                r = r.insert_header((header::ACCEPT_ENCODING, a));
            }
            r.to_request()
        };

        let res = test::call_service(&app, get("/app-0123456789abcdef.js", Some("gzip, deflate, br"))).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers().get(header::CONTENT_ENCODING).unwrap(), "br");
        assert!(res.headers().get(header::CONTENT_TYPE).unwrap().to_str().unwrap().contains("javascript"));
        assert_eq!(res.headers().get(header::VARY).unwrap(), "accept-encoding");
        let br_etag = res.headers().get(header::ETAG).cloned().unwrap();
        assert_eq!(test::read_body(res).await, "BROTLI");

        let res = test::call_service(&app, get("/app-0123456789abcdef.js", Some("gzip"))).await;
        assert_eq!(res.headers().get(header::CONTENT_ENCODING).unwrap(), "gzip");
        assert_ne!(res.headers().get(header::ETAG).unwrap(), &br_etag, "each representation has its own ETag");
        assert_eq!(test::read_body(res).await, "GZIP");

        let res = test::call_service(&app, get("/app-0123456789abcdef.js", None)).await;
        assert!(res.headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(res.headers().get(header::VARY).unwrap(), "accept-encoding");
        let etag = res.headers().get(header::ETAG).cloned().unwrap();
        assert_eq!(test::read_body(res).await, "console.log(1)");

        let revalidate = test::TestRequest::get().uri("/app-0123456789abcdef.js").insert_header((header::IF_NONE_MATCH, etag)).to_request();
        assert_eq!(test::call_service(&app, revalidate).await.status(), 304);

        let res = test::call_service(&app, get("/robots.txt", Some("br"))).await;
        assert_eq!(res.status(), 200);
        assert!(res.headers().get(header::VARY).is_none(), "no precompressed forms, nothing varies here");
        assert_eq!(test::read_body(res).await, "User-agent: *\n");

        for missing in ["/foo.js", "/x.png", "/admin/missing.wasm"] {
            assert_eq!(test::call_service(&app, get(missing, Some("br"))).await.status(), 404, "{missing}");
        }

        let res = test::call_service(&app, get("/dashboard/security", None)).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers().get(header::CACHE_CONTROL).unwrap(), "no-cache");
        assert_eq!(test::read_body(res).await, "<!doctype html><title>store</title>", "no portal bundle built: the storefront's index");

        let res = test::call_service(&app, get("/admin/jobs", None)).await;
        assert_eq!(test::read_body(res).await, "<!doctype html><title>admin</title>");

        let post = test::TestRequest::post().uri("/login").to_request();
        assert_eq!(test::call_service(&app, post).await.status(), 405);
    }
}
