//! The OpenAPI 3.1 document: paths and schemas are collected from the registered handlers by
//! utoipa-actix-web; this adds the title, servers and security schemes.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Keel API",
        description = "Billing, automation and customer portal for web hosts and domain resellers. \
            Errors are RFC 9457 `application/problem+json` with a stable `code` and per-field `errors`. \
            Lists take `page` and `per_page` and answer with totals.",
        license(name = "AGPL-3.0-or-later"),
    ),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Sign-in, sessions and tokens"),
        (name = "accounts", description = "The signed-in user's account"),
        (name = "catalog", description = "What is sold: product groups, products, prices, options, add-ons, currencies"),
        (name = "commerce", description = "Carts and their prices, tax rules, promo codes"),
        (name = "billing", description = "Invoices, payments recorded against them, account credit"),
        (name = "services", description = "What clients bought: hosting accounts and their life (provisioning, suspension, cancellation, control panel login)"),
        (name = "servers", description = "The servers accounts are created on, their modules and health"),
        (name = "payments", description = "Payment gateways: their signed webhooks and the log of what each did"),
        (name = "team", description = "Team members: people a client lets use their account, and the accounts you are a member of"),
        (name = "admin", description = "Back-office: administrators, and staff holding the route's permission"),
        (name = "automation", description = "Job queue and scheduled tasks (back-office, `automation.manage`)"),
        (name = "notifications", description = "E-mail log, templates and unsubscribe"),
        (name = "health", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "Access token from /api/v1/auth/login (15 minutes), or an API key (`keel_…`, from /api/v1/me/api-keys; \
                         scope read for GET, write for changes, admin for /admin routes)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "refresh_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::identity::tokens::REFRESH_COOKIE,
                "httpOnly refresh token set by login; used by /api/v1/auth/refresh and /logout",
            ))),
        );
    }
}

/// Lists, on every operation, the error statuses Keel answers before or around its handlers, each
/// with the problem schema (`application/problem+json`), unless the operation already lists the
/// status with its own description:
/// - secured (`bearer`): 401 (no, expired or revoked token) and 403 (role, permission, API-key
///   scope, two-factor required); the refresh cookie: 401;
/// - a JSON body: 400 (not JSON, trailing input), 413 (over 64 KiB), 415 (not JSON's content
///   type), 422 (wrong type, missing field, a validation rule, a control character);
/// - path parameters: 404 (a malformed id, another account's resource);
/// - query parameters: 422;
/// - rate-limited operations: 429 with `Retry-After`;
/// - every API operation: 503 (no database connection within 10 s, or a busy server).
///
/// Applied to the document once the routes have added their paths (`app::api_routes`).
pub struct ErrorResponses;

/// Operations with a per-IP, per-account or per-user limit (`identity::limits`).
const RATE_LIMITED: &[(&str, &str)] = &[
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/login/2fa"),
    ("post", "/api/v1/auth/unlock"),
    ("post", "/api/v1/auth/forgot-password"),
    ("post", "/api/v1/auth/reset-password"),
    ("post", "/api/v1/team/invitations/{token}/accept"),
    ("post", "/api/v1/me/team"),
    ("post", "/api/v1/auth/verify-email/resend"),
];

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::path::ParameterIn;
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let problem = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(crate::error::PROBLEM_JSON, ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
                    .build(),
            )
        };
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                ("get", &mut item.get),
                ("put", &mut item.put),
                ("post", &mut item.post),
                ("patch", &mut item.patch),
                ("delete", &mut item.delete),
            ];
            for (method, op) in operations {
                let Some(op) = op.as_mut() else { continue };
                let schemes: Vec<String> = op
                    .security
                    .iter()
                    .flatten()
                    .filter_map(|r| serde_json::to_value(r).ok())
                    .filter_map(|v| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()))
                    .flatten()
                    .collect();
                let params = op.parameters.as_deref().unwrap_or_default();
                let in_path = params.iter().any(|p| matches!(p.parameter_in, ParameterIn::Path));
                let in_query = params.iter().any(|p| matches!(p.parameter_in, ParameterIn::Query));
                let mut add: Vec<(&str, &str)> = Vec::new();
                if !schemes.is_empty() {
                    add.push(("401", "Not signed in: no, an expired or a revoked token"));
                }
                if schemes.iter().any(|s| s == "bearer") {
                    add.push(("403", "Not allowed: role, permission, API-key scope, or two-factor required"));
                }
                if op.request_body.is_some() {
                    add.push(("400", "The body is not JSON (`malformed_json`, `empty_body`)"));
                    add.push(("413", "The body is larger than 64 KiB"));
                    add.push(("415", "The body's content type is not JSON"));
                    add.push(("422", "Invalid fields, named in `errors`"));
                }
                if in_path {
                    add.push(("404", "Nothing with this id (also a malformed id, or another account's)"));
                }
                if in_query {
                    add.push(("422", "Invalid query parameters, named in `errors`"));
                }
                if RATE_LIMITED.contains(&(method, path.as_str())) {
                    add.push(("429", "Too many attempts; `Retry-After` says when to try again"));
                }
                if path.starts_with("/api/") {
                    add.push(("503", "The database cannot be reached, or the server is busy; `Retry-After` when busy"));
                }
                for (status, description) in add {
                    op.responses.responses.entry(status.to_string()).or_insert_with(|| problem(description));
                }
            }
        }
    }
}

/// The document as the server serves it, pretty-printed with a trailing newline (the committed
/// `openapi/openapi.json` is exactly this).
pub fn document() -> String {
    let (_, api) = super::app::api_routes(actix_web::App::new());
    let mut text = api.to_pretty_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
