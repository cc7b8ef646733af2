//! Who is asking: the [`Auth`] extractor verifies the bearer token, [`AdminOnly`] additionally
//! requires the admin role. Roles are enforced here, in the API, whatever the SPA shows.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use keel_shared::auth::Role;

use crate::accounts::tokens::Claims;
use crate::error::ApiError;
use crate::state::AppState;

/// A verified caller.
#[derive(Debug, Clone)]
pub struct Auth(pub Claims);

impl Auth {
    pub fn user_id(&self) -> &str {
        &self.0.sub
    }
    pub fn role(&self) -> Role {
        self.0.role
    }
}

fn authenticate(req: &HttpRequest) -> Result<Auth, ApiError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::internal("application state is missing"))?;
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthenticated("sign in first (no Authorization header)".into()))?;
    let value = value.to_str().map_err(|_| ApiError::Unauthenticated("the Authorization header is not text".into()))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::Unauthenticated("the Authorization header must be 'Bearer <token>'".into()))?;
    Ok(Auth(state.jwt.verify(token, state.clock.now())?))
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
        crate::admin::audit::Actor {
            user_id: Some(self.0.user_id().to_string()),
            ip: req.peer_addr().map(|a| a.ip().to_string()),
            user_agent: req.headers().get("user-agent").and_then(|v| v.to_str().ok()).map(str::to_string),
        }
    }
}
