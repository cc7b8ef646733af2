//! Assembles the actix application: the API under `/api/v1`, health checks, the OpenAPI document
//! and docs UI, then the SPA for every other path.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{from_fn, Compress, DefaultHeaders, Next};
use actix_web::{web, App, Error, HttpRequest, HttpResponse};
use utoipa::OpenApi;
use utoipa_actix_web::{scope, AppExt};
use utoipa_swagger_ui::SwaggerUi;

use super::openapi::ApiDoc;
use super::{health, request_id, spa};
use crate::error::ApiError;
use crate::state::AppState;
use crate::{accounts, admin, automation, billing, catalog, commerce, identity, notifications, payments, provisioning};

/// Registers every API route on `app`, returning the app and the OpenAPI document built from them.
pub fn api_routes<T>(app: App<T>) -> (App<T>, utoipa::openapi::OpenApi)
where
    T: ServiceFactory<ServiceRequest, Config = (), Error = Error, InitError = ()>,
{
    let (app, mut api) = app
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .service(health::healthz)
        .service(health::readyz)
        .service(
            scope::scope("/api/v1")
                .configure(identity::routes::configure)
                .configure(accounts::routes::configure)
                .configure(admin::routes::configure)
                .configure(catalog::routes::configure)
                .configure(commerce::routes::configure)
                .configure(billing::routes::configure)
                .configure(payments::routes::configure)
                .configure(provisioning::routes::configure)
                .configure(automation::routes::configure)
                .configure(notifications::routes::configure)
                .default_service(web::to(api_not_found)),
        )
        .split_for_parts();
    utoipa::Modify::modify(&super::openapi::ErrorResponses, &mut api);
    (app, api)
}

/// What no route answered: a path the API has with another method is a 405 naming the methods
/// it has (`Allow`), anything else a 404 problem.
async fn api_not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    match allowed_methods(req.path()) {
        Some(allow) => Err(ApiError::MethodNotAllowed { allow }),
        None => Err(ApiError::NotFound(format!("no API route {} {}", req.method(), req.path()))),
    }
}

/// The route table, from the OpenAPI document the routes themselves generate (built once): each
/// path template's segments and its methods.
fn route_table() -> &'static [(Vec<String>, Vec<&'static str>)] {
    static TABLE: std::sync::OnceLock<Vec<(Vec<String>, Vec<&'static str>)>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let (_, api) = api_routes(App::new());
        api.paths
            .paths
            .iter()
            .map(|(template, item)| {
                let segments = template.split('/').map(str::to_string).collect();
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("DELETE", item.delete.is_some()),
                ];
                (segments, methods.into_iter().filter(|(_, has)| *has).map(|(m, _)| m).collect())
            })
            .collect()
    })
}

/// The methods of the documented path that `path` is an instance of (`{param}` matches one
/// non-empty segment), as an `Allow` value; `None` when no documented path matches.
pub fn allowed_methods(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    let mut allow: Vec<&str> = Vec::new();
    for (template, methods) in route_table() {
        let matches = template.len() == segments.len()
            && template.iter().zip(&segments).all(|(t, s)| if t.starts_with('{') { !s.is_empty() } else { t == s });
        if matches {
            for m in methods {
                if !allow.contains(m) {
                    allow.push(m);
                }
            }
        }
    }
    (!allow.is_empty()).then(|| allow.join(", "))
}

/// Everything the server answers.
pub fn build(
    state: AppState,
) -> App<impl ServiceFactory<ServiceRequest, Config = (), Response = ServiceResponse<impl MessageBody>, Error = Error, InitError = ()>> {
    let web_dir = state.config.web_dir.clone();
    let sandbox = state.stripe_sandbox.clone();
    let razorpay_sandbox = state.razorpay_sandbox.clone();
    let whm_sandbox = state.whm_sandbox.clone();
    let hetzner_sandbox = state.hetzner_sandbox.clone();
    let app = App::new()
        .app_data(web::Data::new(state))
        // Path and query errors from actix's own extractors also become problem+json.
        // A path segment that cannot be what the route names (a malformed id) names nothing: 404.
        .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound("no such resource".into()).into()))
        .app_data(web::QueryConfig::default().error_handler(|e, _| ApiError::bad_request("bad_query", e.to_string()).into()))
        // Form bodies (Razorpay's checkout callback): the same problem+json.
        .app_data(web::FormConfig::default().error_handler(|e, _| match e {
            actix_web::error::UrlencodedError::ContentType => {
                ApiError::UnsupportedMediaType("send application/x-www-form-urlencoded".into()).into()
            }
            other => ApiError::bad_request("bad_form", other.to_string()).into(),
        }))
        .app_data(
            web::JsonConfig::default()
                .limit(super::extract::JSON_LIMIT)
                .error_handler(|e, _| ApiError::bad_request("bad_json", e.to_string()).into()),
        );
    let (app, api) = api_routes(app);
    let app = app
        // The health checks' other methods: 405 with `Allow` (the SPA would answer otherwise).
        .service(web::resource(["/healthz", "/readyz"]).to(api_not_found))
        .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", api))
        .route("/api/docs", web::get().to(docs_redirect))
        .service(web::scope("/api").default_service(web::to(api_not_found)))
        // The gateway sandboxes' APIs and checkout pages, when no keys are configured.
        .configure(|cfg| {
            if let Some(s) = sandbox {
                cfg.service(web::scope("/sandbox/stripe").configure(|c| payments::sandbox::configure(c, s)));
            }
            if let Some(s) = razorpay_sandbox {
                cfg.service(web::scope("/sandbox/razorpay").configure(|c| payments::razorpay_sandbox::configure(c, s)));
            }
            if let Some(s) = whm_sandbox {
                cfg.service(web::scope("/sandbox/whm").configure(|c| provisioning::whm_sandbox::configure(c, s)));
            }
            if let Some(s) = hetzner_sandbox {
                cfg.service(web::scope("/sandbox/hetzner").configure(|c| provisioning::hetzner_sandbox::configure(c, s)));
            }
        });
    let app = if web_dir.is_dir() { app.service(spa::service(&web_dir)) } else { app.default_service(web::to(spa::not_built)) };
    app.wrap(from_fn(super::auth::identify))
        .wrap(from_fn(cache_headers))
        // gzip/brotli for answers of 1 KiB and more that are not already encoded (the SPA's
        // precompressed assets carry their Content-Encoding, so Compress leaves them alone).
        .wrap(from_fn(spa::keep_small_uncompressed))
        .wrap(Compress::default())
        .wrap(from_fn(spa::drop_identity_marker))
        .wrap(
            DefaultHeaders::new()
                .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
                .add((header::REFERRER_POLICY, "same-origin"))
                .add((header::X_FRAME_OPTIONS, "DENY")),
        )
        .wrap(from_fn(refuse_control_in_path))
        .wrap(from_fn(request_id::middleware))
}

/// A path segment with a control character (`%00`, `%07`) names nothing: 404 problem+json, on
/// both databases alike, before a handler or a query sees it (PostgreSQL refuses a NUL with a 500).
async fn refuse_control_in_path(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if super::extract::path_has_control_characters(req.path()) {
        return Ok(req.error_response(ApiError::NotFound("no such resource".into())).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

async fn cache_headers(req: ServiceRequest, next: Next<impl MessageBody>) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let policy = spa::cache_control(req.path());
    let mut res = next.call(req).await?;
    if let Some(policy) = policy {
        if res.status().is_success() {
            if let Ok(v) = header::HeaderValue::from_str(&policy.to_string()) {
                res.headers_mut().insert(header::CACHE_CONTROL, v);
            }
        }
    }
    Ok(res)
}

/// `/api/docs` without the trailing slash.
pub async fn docs_redirect() -> HttpResponse {
    HttpResponse::MovedPermanently().insert_header((header::LOCATION, "/api/docs/")).finish()
}
