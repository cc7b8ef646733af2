//! Who is asking: the [`Auth`] extractor accepts a session's access token (JWT) or an API key
//! (`keel_…`), both as `Authorization: Bearer`. [`AdminOnly`] additionally requires the admin
//! role. Roles and API-key scopes are enforced here, in the API, whatever the SPA shows:
//! - a key needs `read` for GET, `write` for anything else, and `admin` for /api/v1/admin;
//! - managing keys, passwords and sessions needs a signed-in session, never a key.

use std::future::{ready, Ready};

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use keel_shared::auth::{ApiScope, Role};

use crate::accounts::api_keys::{self, PREFIX};
use crate::accounts::tokens::Claims;
use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

/// A verified caller.
#[derive(Debug, Clone)]
pub struct Auth {
    /// For an API key caller, `claims.sid` is the key id.
    pub claims: Claims,
}

impl Auth {
    pub fn user_id(&self) -> &str {
        &self.claims.sub
    }
    pub fn role(&self) -> Role {
        self.claims.role
    }
    /// The session id (for session callers).
    pub fn session_id(&self) -> &str {
        &self.claims.sid
    }
}

/// Paths only a signed-in person may use, not an API key.
const SESSION_ONLY: &[&str] = &["/api/v1/me/api-keys", "/api/v1/me/password", "/api/v1/me/sessions", "/api/v1/me/2fa"];

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthenticated("sign in first (no Authorization header)".into()))?;
    let value = value.to_str().map_err(|_| ApiError::Unauthenticated("the Authorization header is not text".into()))?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::Unauthenticated("the Authorization header must be 'Bearer <token>'".into()))
}

fn required_scope(method: &Method, path: &str) -> ApiScope {
    if path.starts_with("/api/v1/admin") {
        ApiScope::Admin
    } else if method == Method::GET || method == Method::HEAD {
        ApiScope::Read
    } else {
        ApiScope::Write
    }
}

/// Middleware: resolves an API key before any extractor runs (it needs the database), so that a
/// bad key is refused before the body is even read. The key's identity goes into the request's
/// extensions for [`Auth`].
pub async fn api_keys<B: MessageBody + 'static>(req: ServiceRequest, next: Next<B>) -> Result<ServiceResponse<actix_web::body::EitherBody<B>>, actix_web::Error> {
    let token = bearer(req.request()).ok().filter(|t| t.starts_with(PREFIX));
    if let (Some(token), Some(state)) = (token, req.app_data::<web::Data<AppState>>().cloned()) {
        let now = state.clock.now();
        let ip = req.peer_addr().map(|a| a.ip().to_string());
        match db::run(&state.pool, move |c| api_keys::authenticate(c, now, &token, ip.as_deref())).await {
            Ok(key) => {
                req.extensions_mut().insert(key);
            }
            Err(e) => return Ok(req.error_response(e).map_into_right_body()),
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

fn authenticate(req: &HttpRequest) -> Result<Auth, ApiError> {
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| ApiError::internal("application state is missing"))?;
    let token = bearer(req)?;
    let now = state.clock.now();
    let path = req.path();
    if !token.starts_with(PREFIX) {
        let claims = state.jwt.verify(&token, now)?;
        if claims.imp.is_some() && (SESSION_ONLY.iter().any(|p| path.starts_with(p)) || path.starts_with("/api/v1/admin")) {
            return Err(ApiError::Forbidden("not while viewing as a client; return to the admin first".into()));
        }
        return Ok(Auth { claims });
    }
    if SESSION_ONLY.iter().any(|p| path.starts_with(p)) {
        return Err(ApiError::Forbidden("this needs a signed-in session, not an API key".into()));
    }
    let key = req
        .extensions()
        .get::<api_keys::KeyIdentity>()
        .cloned()
        .ok_or_else(|| ApiError::Unauthenticated("the API key is unknown".into()))?;
    let needed = required_scope(req.method(), path);
    if !key.scopes.contains(&needed) {
        return Err(ApiError::Forbidden(format!("this API key lacks the '{}' scope", needed.as_str())));
    }
    Ok(Auth {
        claims: Claims { sub: key.user_id, sid: key.key_id, role: key.role, iat: now.timestamp(), exp: now.timestamp() + 60, imp: None },
    })
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

/// A verified caller with the admin role.
#[derive(Debug, Clone)]
pub struct AdminOnly(pub Auth);

impl FromRequest for AdminOnly {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req).and_then(|auth| match auth.role() {
            Role::Admin => Ok(AdminOnly(auth)),
            _ => Err(ApiError::Forbidden("this needs an administrator account".into())),
        }))
    }
}

impl AdminOnly {
    /// The audit actor for this admin's request.
    pub fn actor(&self, req: &HttpRequest) -> crate::admin::audit::Actor {
        crate::accounts::service::ClientMeta::of(req).actor(Some(self.0.user_id()))
    }
}
