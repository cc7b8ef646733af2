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
        (name = "catalog", description = "Products and prices"),
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

/// The document as the server serves it, pretty-printed with a trailing newline (the committed
/// `openapi/openapi.json` is exactly this).
pub fn document() -> String {
    let (_, api) = super::app::api_routes(actix_web::App::new());
    let mut text = api.to_pretty_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
