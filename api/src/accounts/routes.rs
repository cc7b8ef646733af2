//! Sign-in and account routes. Thin: extract, call the service on a blocking thread, answer.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use keel_shared::auth::{ClientSummary, LoginRequest, Me, RegisterRequest, TokenResponse};
use keel_shared::{Page, PageQuery, Problem};
use utoipa_actix_web::service_config::ServiceConfig;

use super::models::UserRow;
use super::service::{self, ClientMeta, IssuedSession};
use super::tokens::{ACCESS_TTL, REFRESH_COOKIE};
use crate::db;
use crate::error::ApiError;
use crate::http::auth::{AdminOnly, Auth};
use crate::http::extract::{ValidJson, ValidQuery};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(register).service(login).service(refresh).service(logout).service(me).service(list_clients);
}

const COOKIE_PATH: &str = "/api/v1/auth";

fn meta(req: &HttpRequest) -> ClientMeta {
    ClientMeta {
        ip: req.peer_addr().map(|a| a.ip().to_string()),
        user_agent: req.headers().get("user-agent").and_then(|v| v.to_str().ok()).map(str::to_string),
    }
}

fn secure(req: &HttpRequest, state: &AppState) -> bool {
    state.config.secure_cookies || req.connection_info().scheme() == "https"
}

/// Answers with an access token and sets the rotating refresh cookie.
fn signed_in(req: &HttpRequest, state: &AppState, user: &UserRow, session: &IssuedSession, status: actix_web::http::StatusCode) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let access_token = state.jwt.issue(&user.id, &session.session_id, user.role(), now)?;
    let max_age = (session.expires_at - now).num_seconds().max(0);
    let cookie = Cookie::build(REFRESH_COOKIE, session.refresh_token.clone())
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure(req, state))
        .max_age(time::Duration::seconds(max_age))
        .finish();
    Ok(HttpResponse::build(status).cookie(cookie).json(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: ACCESS_TTL.num_seconds(),
        user: user.to_me(),
    }))
}

fn clear_cookie(req: &HttpRequest, state: &AppState) -> Cookie<'static> {
    let mut c = Cookie::build(REFRESH_COOKIE, "")
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure(req, state))
        .finish();
    c.make_removal();
    c
}

/// Open a client account (and sign in).
#[utoipa::path(
    tag = "auth",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Account created and signed in; sets the refresh cookie", body = TokenResponse),
        (status = 409, description = "E-mail already registered", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/register")]
async fn register(req: HttpRequest, state: web::Data<AppState>, body: ValidJson<RegisterRequest>) -> Result<HttpResponse, ApiError> {
    let (now, meta, mail) = (state.clock.now(), meta(&req), state.mail());
    let (user, session) = db::run(&state.pool, move |c| service::register(c, now, &body.0, &meta, &mail)).await?;
    tracing::info!(user = %user.id, "client registered");
    signed_in(&req, &state, &user, &session, actix_web::http::StatusCode::CREATED)
}

/// Sign in with e-mail and password.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; sets the refresh cookie", body = TokenResponse),
        (status = 401, description = "Wrong e-mail or password", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
async fn login(req: HttpRequest, state: web::Data<AppState>, body: ValidJson<LoginRequest>) -> Result<HttpResponse, ApiError> {
    let (now, meta) = (state.clock.now(), meta(&req));
    let ValidJson(LoginRequest { email, password }) = body;
    let (user, session) = db::run(&state.pool, move |c| service::login(c, now, &email, &password, &meta)).await?;
    signed_in(&req, &state, &user, &session, actix_web::http::StatusCode::OK)
}

/// Swap the refresh cookie for a new access token (the cookie rotates).
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "New access token; the refresh cookie is replaced", body = TokenResponse),
        (status = 401, description = "No valid refresh cookie", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
async fn refresh(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let token = req
        .cookie(REFRESH_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| ApiError::Unauthenticated("not signed in".into()))?;
    let now = state.clock.now();
    match db::run(&state.pool, move |c| service::refresh(c, now, &token)).await {
        Ok((user, session)) => signed_in(&req, &state, &user, &session, actix_web::http::StatusCode::OK),
        Err(e @ ApiError::Unauthenticated(_)) => {
            let mut res = actix_web::ResponseError::error_response(&e);
            res.add_cookie(&clear_cookie(&req, &state)).map_err(ApiError::internal)?;
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

/// Sign out: revokes the session and clears the refresh cookie.
#[utoipa::path(tag = "auth", responses((status = 204, description = "Signed out")))]
#[post("/auth/logout")]
async fn logout(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    if let Some(token) = req.cookie(REFRESH_COOKIE).map(|c| c.value().to_string()).filter(|v| !v.is_empty()) {
        let now = state.clock.now();
        db::run(&state.pool, move |c| service::logout(c, now, &token)).await?;
    }
    Ok(HttpResponse::NoContent().cookie(clear_cookie(&req, &state)).finish())
}

/// The signed-in user's account.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Me),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/me")]
async fn me(state: web::Data<AppState>, auth: Auth) -> Result<web::Json<Me>, ApiError> {
    let id = auth.user_id().to_string();
    let user = db::run(&state.pool, move |c| service::find_user(c, &id)).await?;
    Ok(web::Json(user.to_me()))
}

/// List client accounts, newest first (administrators only).
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, body = Page<ClientSummary>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid paging parameters", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/clients")]
async fn list_clients(state: web::Data<AppState>, _admin: AdminOnly, query: ValidQuery<PageQuery>) -> Result<web::Json<Page<ClientSummary>>, ApiError> {
    let page = query.0;
    let rows = db::run(&state.pool, move |c| service::list_clients(c, page)).await?;
    Ok(web::Json(rows.map(|u| u.to_client_summary())))
}
