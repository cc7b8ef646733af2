//! Sign-in routes: registration, log-in (with the two-factor step), refresh, log-out, e-mail
//! verification, password reset and change, sessions, two-factor set-up and API keys. Thin:
//! extract, call the service on a blocking thread, answer.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use keel_shared::auth::{
    ApiKey, ChangePasswordRequest, CodeRequest, CreateApiKeyRequest, CreatedApiKey, DisableTwoFactorRequest, ForgotPasswordRequest,
    LoginRequest, Me, MfaChallenge, MfaLoginRequest, RecoveryCodes, RegisterRequest, ResetPasswordRequest, SessionInfo, TokenRequest,
    TokenResponse, TwoFactorSetup,
};
use keel_shared::ids::{ApiKeyId, SessionId};
use keel_shared::Problem;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::accounts::models::UserRow;
use crate::admin::staff;
use crate::db;
use crate::error::ApiError;
use crate::http::auth::{Auth, SessionAuth};
use crate::http::extract::ValidJson;
use crate::identity::service::{self, ClientMeta};
use crate::identity::sessions::{self, IssuedSession};
use crate::identity::tokens::{ACCESS_TTL, REFRESH_COOKIE};
use crate::identity::{api_keys, devices, limits, recovery, two_factor};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(register)
        .service(login)
        .service(refresh)
        .service(logout)
        .service(unlock_account)
        .service(login_two_factor)
        .service(verify_email)
        .service(resend_verification)
        .service(forgot_password)
        .service(reset_password)
        .service(change_password)
        .service(list_sessions)
        .service(revoke_session)
        .service(revoke_other_sessions)
        .service(list_api_keys)
        .service(create_api_key)
        .service(revoke_api_key)
        .service(setup_two_factor)
        .service(enable_two_factor)
        .service(disable_two_factor);
}

/// Counts a hit against a per-IP limit (committed on its own, whatever the request's outcome).
pub(crate) async fn limit_ip(state: &AppState, limit: limits::Limit, meta: &ClientMeta) -> Result<(), ApiError> {
    let (now, ip) = (state.clock.now(), meta.ip.clone().unwrap_or_else(|| "unknown".into()));
    db::run(&state.pool, move |c| limits::hit(c, now, limit, &ip)).await
}

const COOKIE_PATH: &str = "/api/v1/auth";

pub(crate) fn meta(req: &HttpRequest) -> ClientMeta {
    ClientMeta::of(req)
}

fn secure(req: &HttpRequest, state: &AppState) -> bool {
    state.config.secure_cookies || req.connection_info().scheme() == "https"
}

/// Answers with an access token and sets the rotating refresh cookie.
pub(crate) async fn signed_in(
    req: &HttpRequest,
    state: &AppState,
    user: &UserRow,
    session: &IssuedSession,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, ApiError> {
    let now = state.clock.now();
    let profile = match user.role() {
        keel_shared::auth::Role::Staff => {
            let user = user.clone();
            db::run(&state.pool, move |c| staff::me(c, &user)).await?
        }
        _ => user.to_me(),
    };
    let access_token = state.jwt.issue(&user.id, &session.session_id, user.role(), now)?;
    let max_age = (session.expires_at - now).num_seconds().max(0);
    let cookie = Cookie::build(REFRESH_COOKIE, session.refresh_token.clone())
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure(req, state))
        .max_age(time::Duration::seconds(max_age))
        .finish();
    let mut res = HttpResponse::build(status);
    res.cookie(cookie);
    if let Some(device) = &session.device_id {
        // Marks this browser as one that signed in to the account: its failures are counted
        // apart from strangers' (identity::devices). Lax: sent when following a link to the site.
        res.cookie(
            Cookie::build(devices::DEVICE_COOKIE, devices::cookie_value(&state.secret, &user.id, device))
                .path(COOKIE_PATH)
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(secure(req, state))
                .max_age(time::Duration::seconds(devices::DEVICE_TTL.num_seconds()))
                .finish(),
        );
    }
    Ok(res.json(TokenResponse { access_token, token_type: "Bearer".into(), expires_in: ACCESS_TTL.num_seconds(), user: profile }))
}

pub(crate) fn clear_cookie(req: &HttpRequest, state: &AppState) -> Cookie<'static> {
    let mut c =
        Cookie::build(REFRESH_COOKIE, "").path(COOKIE_PATH).http_only(true).same_site(SameSite::Strict).secure(secure(req, state)).finish();
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
        (status = 422, description = "Invalid fields (including a too common password)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over 5 registrations an hour from this IP (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/register")]
async fn register(req: HttpRequest, state: web::Data<AppState>, body: ValidJson<RegisterRequest>) -> Result<HttpResponse, ApiError> {
    let (now, meta, mail) = (state.clock.now(), meta(&req), state.mail());
    limit_ip(&state, limits::REGISTER_PER_IP, &meta).await?;
    let (user, session) = db::run(&state.pool, move |c| service::register(c, now, &body.0, &meta, &mail)).await?;
    tracing::info!(user = %user.id, "client registered");
    signed_in(&req, &state, &user, &session, actix_web::http::StatusCode::CREATED).await
}

/// Sign in with e-mail and password.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; sets the refresh cookie", body = TokenResponse),
        (status = 202, description = "Password right; two-factor is on: send a code to /auth/login/2fa", body = MfaChallenge),
        (status = 401, description = "Wrong e-mail or password", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
        (status = 423, description = "This source is locked after 5 failed sign-ins: a known browser (device cookie) by its own failures, any other by the failures of unknown sources (Retry-After)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over 10 attempts a minute from this IP (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
async fn login(req: HttpRequest, state: web::Data<AppState>, body: ValidJson<LoginRequest>) -> Result<HttpResponse, ApiError> {
    let (now, meta, mail) = (state.clock.now(), meta(&req), state.mail());
    limit_ip(&state, limits::LOGIN_PER_IP, &meta).await?;
    // Refused at once when every hashing slot and the queue are taken, before a connection is.
    if crate::identity::password::Gate::global().saturated() {
        return Err(ApiError::Busy("too many sign-ins at once; try again in a moment".into()));
    }
    let ValidJson(LoginRequest { email, password }) = body;
    match db::run(&state.pool, move |c| service::login(c, now, &email, &password, &meta, &mail)).await? {
        service::LoginOutcome::SignedIn(user, session) => signed_in(&req, &state, &user, &session, actix_web::http::StatusCode::OK).await,
        service::LoginOutcome::NeedsCode(user, challenge) => {
            Ok(HttpResponse::Accepted()
                .json(MfaChallenge { mfa_required: true, mfa_token: state.jwt.issue_mfa(&user.id, &challenge, now)? }))
        }
    }
}

/// Swap the refresh cookie for a new access token (the cookie rotates). Without a refresh cookie
/// there is no session to restore: 204, so that a web app starting anonymously logs no error.
/// A cookie rotated less than 30 seconds ago (another tab was first) gets the session's current
/// token; one rotated earlier is a copy and ends the session.
#[utoipa::path(
    tag = "auth",
    responses(
        (status = 200, description = "New access token; the refresh cookie is replaced", body = TokenResponse),
        (status = 204, description = "No refresh cookie was sent: there is no session to restore"),
        (status = 401, description = "The refresh cookie is invalid, expired, or was reused more than 30 s after it rotated (the session is revoked)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
async fn refresh(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let Some(token) = req.cookie(REFRESH_COOKIE).map(|c| c.value().to_string()).filter(|v| !v.is_empty()) else {
        return Ok(HttpResponse::NoContent().finish());
    };
    let (now, secret) = (state.clock.now(), state.secret.clone());
    match db::run(&state.pool, move |c| sessions::refresh(c, now, &secret, &token)).await {
        Ok((user, session)) => signed_in(&req, &state, &user, &session, actix_web::http::StatusCode::OK).await,
        Err(e @ ApiError::Unauthenticated(_)) => {
            let mut res = actix_web::ResponseError::error_response(&e);
            res.add_cookie(&clear_cookie(&req, &state)).map_err(ApiError::internal)?;
            Ok(res)
        }
        Err(e) => Err(e),
    }
}

/// Sign out: ends the session named by the refresh cookie and the one the bearer access token
/// belongs to (an API client or script has only the latter), and clears the cookie. A request
/// naming no session at all is refused.
#[utoipa::path(tag = "auth", security((), ("bearer" = [])),
    responses(
        (status = 204, description = "Signed out: the cookie's session and the access token's session have ended; the cookie is cleared"),
        (status = 401, description = "Neither a refresh cookie nor a valid access token of a live session was sent", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/logout")]
async fn logout(req: HttpRequest, state: web::Data<AppState>, bearer: Option<SessionAuth>) -> Result<HttpResponse, ApiError> {
    let cookie = req.cookie(REFRESH_COOKIE).map(|c| c.value().to_string()).filter(|v| !v.is_empty());
    let session = bearer.map(|auth| auth.session_id().to_string());
    if cookie.is_none() && session.is_none() {
        return Err(ApiError::Unauthenticated("nothing to sign out: send the refresh cookie or the access token of a live session".into()));
    }
    let now = state.clock.now();
    db::run(&state.pool, move |c| sessions::logout(c, now, cookie.as_deref(), session.as_deref())).await?;
    Ok(HttpResponse::NoContent().cookie(clear_cookie(&req, &state)).finish())
}

/// Lift the lock that failed sign-ins from unknown sources put on an account, with the one-time
/// token from the "account locked" e-mail.
#[utoipa::path(tag = "auth", request_body = TokenRequest,
    responses((status = 204, description = "The lock is lifted"),
              (status = 422, description = "The token is invalid, used or expired", body = Problem, content_type = "application/problem+json"),
              (status = 429, description = "Over 5 attempts in 15 minutes from this IP (Retry-After)", body = Problem, content_type = "application/problem+json")))]
#[post("/auth/unlock")]
async fn unlock_account(req: HttpRequest, state: web::Data<AppState>, body: ValidJson<TokenRequest>) -> Result<HttpResponse, ApiError> {
    let (now, meta) = (state.clock.now(), meta(&req));
    limit_ip(&state, limits::UNLOCK_PER_IP, &meta).await?;
    let actor = meta.actor(None);
    db::run(&state.pool, move |c| recovery::unlock_account(c, now, &body.0.token, &actor)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Second sign-in step: a TOTP code or a recovery code, with the token from /auth/login. The token
/// opens one session and has at most five codes checked against it.
#[utoipa::path(tag = "auth", request_body = MfaLoginRequest,
    responses((status = 200, description = "Signed in; sets the refresh cookie", body = TokenResponse),
              (status = 401, description = "Wrong code (`unauthenticated`), or an `mfa_token` that was used, expired or had five wrong codes (`mfa_token_invalid`: sign in with the password again)", body = Problem, content_type = "application/problem+json"),
              (status = 423, description = "Locked after 5 failed sign-ins; wrong codes count like wrong passwords (Retry-After)", body = Problem, content_type = "application/problem+json"),
              (status = 429, description = "Over 10 attempts a minute from this IP", body = Problem, content_type = "application/problem+json")))]
#[post("/auth/login/2fa")]
async fn login_two_factor(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: ValidJson<MfaLoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let (now, meta, mail, secret) = (state.clock.now(), meta(&req), state.mail(), state.secret.clone());
    limit_ip(&state, limits::TWO_FACTOR_PER_IP, &meta).await?;
    let (user_id, challenge) = state.jwt.verify_mfa(&body.0.mfa_token, now)?;
    let code = body.0.code;
    let (user, session) =
        db::run(&state.pool, move |c| service::login_second_factor(c, now, &secret, &user_id, &challenge, &code, &meta, &mail)).await?;
    signed_in(&req, &state, &user, &session, actix_web::http::StatusCode::OK).await
}

/// Confirm an e-mail address with the token from the e-mail.
#[utoipa::path(tag = "auth", request_body = TokenRequest,
    responses((status = 200, description = "Confirmed", body = Me), (status = 422, description = "Invalid or expired token", body = Problem, content_type = "application/problem+json")))]
#[post("/auth/verify-email")]
async fn verify_email(req: HttpRequest, state: web::Data<AppState>, body: ValidJson<TokenRequest>) -> Result<web::Json<Me>, ApiError> {
    let (now, actor) = (state.clock.now(), meta(&req).actor(None));
    let user = db::run(&state.pool, move |c| recovery::verify_email(c, now, &body.0.token, &actor)).await?;
    Ok(web::Json(user.to_me()))
}

/// Send the verification e-mail again (3 an hour).
#[utoipa::path(tag = "auth", security(("bearer" = [])),
    responses((status = 202, description = "Sent"), (status = 409, description = "Already confirmed", body = Problem, content_type = "application/problem+json"),
              (status = 429, description = "Too many", body = Problem, content_type = "application/problem+json")))]
#[post("/auth/verify-email/resend")]
async fn resend_verification(state: web::Data<AppState>, auth: Auth) -> Result<HttpResponse, ApiError> {
    let (now, mail, user) = (state.clock.now(), state.mail(), auth.user_id().to_string());
    db::run(&state.pool, move |c| recovery::resend_verification(c, now, &user, &mail)).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Ask for a password-reset link by e-mail. Answers 202 whether or not the address has an account.
#[utoipa::path(tag = "auth", request_body = ForgotPasswordRequest,
    responses((status = 202, description = "If the address has an account, a link is on its way"),
              (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
#[post("/auth/forgot-password")]
async fn forgot_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: ValidJson<ForgotPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let (now, meta, mail) = (state.clock.now(), meta(&req), state.mail());
    limit_ip(&state, limits::RESET_PER_IP, &meta).await?;
    let actor = meta.actor(None);
    db::run(&state.pool, move |c| recovery::forgot_password(c, now, &body.0.email, &mail, &actor)).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Set a new password with the token from the reset e-mail; signs out every session and revokes
/// the account's API keys (unless `revoke_api_keys` is false).
#[utoipa::path(tag = "auth", request_body = ResetPasswordRequest,
    responses((status = 204, description = "Password changed"), (status = 422, description = "Invalid token or password", body = Problem, content_type = "application/problem+json"),
              (status = 429, body = Problem, content_type = "application/problem+json")))]
#[post("/auth/reset-password")]
async fn reset_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: ValidJson<ResetPasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let (now, meta, mail) = (state.clock.now(), meta(&req), state.mail());
    limit_ip(&state, limits::RESET_PER_IP, &meta).await?;
    let actor = meta.actor(None);
    let ValidJson(ResetPasswordRequest { token, password, revoke_api_keys }) = body;
    db::run(&state.pool, move |c| recovery::reset_password(c, now, &token, &password, revoke_api_keys, &mail, &actor)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Change the password (needs the current one); signs out the other sessions, and revokes the
/// account's API keys when `revoke_api_keys` is true.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses((status = 204, description = "Changed"), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/me/password")]
async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: SessionAuth,
    body: ValidJson<ChangePasswordRequest>,
) -> Result<HttpResponse, ApiError> {
    let (now, mail) = (state.clock.now(), state.mail());
    let actor = auth.actor(&req);
    let (user, sid) = (auth.user_id().to_string(), auth.session_id().to_string());
    let body = body.0;
    db::run(&state.pool, move |c| recovery::change_password(c, now, &user, &sid, &body, &mail, &actor)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user's active sessions.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), responses((status = 200, body = Vec<SessionInfo>), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/me/sessions")]
async fn list_sessions(state: web::Data<AppState>, auth: SessionAuth) -> Result<web::Json<Vec<SessionInfo>>, ApiError> {
    let (now, user, sid) = (state.clock.now(), auth.user_id().to_string(), auth.session_id().to_string());
    Ok(web::Json(db::run(&state.pool, move |c| sessions::list_sessions(c, now, &user, &sid)).await?))
}

/// Sign out one of your sessions.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(("id" = String, Path, description = "Session id")),
    responses((status = 204, description = "Signed out"), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/me/sessions/{id}")]
async fn revoke_session(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: SessionAuth,
    id: web::Path<SessionId>,
) -> Result<HttpResponse, ApiError> {
    let (now, user, id) = (state.clock.now(), auth.user_id().to_string(), id.into_inner());
    let actor = auth.actor(&req);
    db::run(&state.pool, move |c| sessions::revoke_own(c, now, &user, &id, &actor)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sign out every session but this one.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), responses((status = 204, description = "Signed out")))]
#[delete("/me/sessions")]
async fn revoke_other_sessions(req: HttpRequest, state: web::Data<AppState>, auth: SessionAuth) -> Result<HttpResponse, ApiError> {
    let (now, user, sid) = (state.clock.now(), auth.user_id().to_string(), auth.session_id().to_string());
    let actor = auth.actor(&req);
    db::run(&state.pool, move |c| sessions::revoke_all_others(c, now, &user, &sid, &actor)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Your API keys (never with their secrets).
#[utoipa::path(tag = "accounts", security(("bearer" = [])), responses((status = 200, body = Vec<ApiKey>), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/me/api-keys")]
async fn list_api_keys(state: web::Data<AppState>, auth: SessionAuth) -> Result<web::Json<Vec<ApiKey>>, ApiError> {
    let user = auth.user_id().to_string();
    Ok(web::Json(db::run(&state.pool, move |c| api_keys::list(c, &user)).await?))
}

/// Create an API key. The secret is in this answer only; it is stored hashed.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), request_body = CreateApiKeyRequest,
    responses((status = 201, body = CreatedApiKey), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/me/api-keys")]
async fn create_api_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: SessionAuth,
    body: ValidJson<CreateApiKeyRequest>,
) -> Result<HttpResponse, ApiError> {
    let (now, user, role) = (state.clock.now(), auth.user_id().to_string(), auth.role());
    let actor = auth.actor(&req);
    let created = db::run(&state.pool, move |c| api_keys::create(c, now, &user, role, &body.0, &actor)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Revoke one of your API keys.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(("id" = String, Path, description = "API key id")),
    responses((status = 204, description = "Revoked"), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/me/api-keys/{id}")]
async fn revoke_api_key(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: SessionAuth,
    id: web::Path<ApiKeyId>,
) -> Result<HttpResponse, ApiError> {
    let (now, user, id) = (state.clock.now(), auth.user_id().to_string(), id.into_inner());
    let actor = auth.actor(&req);
    db::run(&state.pool, move |c| api_keys::revoke(c, now, &user, &id, &actor)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Start turning on two-factor: a new secret and its QR code (made on the server).
#[utoipa::path(tag = "accounts", security(("bearer" = [])), responses((status = 200, body = TwoFactorSetup), (status = 409, body = Problem, content_type = "application/problem+json")))]
#[post("/me/2fa/setup")]
async fn setup_two_factor(state: web::Data<AppState>, auth: SessionAuth) -> Result<web::Json<TwoFactorSetup>, ApiError> {
    let (user, secret, issuer) = (auth.user_id().to_string(), state.secret.clone(), state.config.company_name.clone());
    Ok(web::Json(db::run(&state.pool, move |c| two_factor::setup(c, &secret, &issuer, &user)).await?))
}

/// Confirm the set-up with a code; answers the ten recovery codes, once.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), request_body = CodeRequest,
    responses((status = 200, body = RecoveryCodes), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/me/2fa/enable")]
async fn enable_two_factor(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: SessionAuth,
    body: ValidJson<CodeRequest>,
) -> Result<web::Json<RecoveryCodes>, ApiError> {
    let (now, user, secret) = (state.clock.now(), auth.user_id().to_string(), state.secret.clone());
    let actor = auth.actor(&req);
    Ok(web::Json(db::run(&state.pool, move |c| two_factor::enable(c, now, &secret, &user, &body.0.code, &actor)).await?))
}

/// Turn two-factor off (password and a current code).
#[utoipa::path(tag = "accounts", security(("bearer" = [])), request_body = DisableTwoFactorRequest,
    responses((status = 204, description = "Off"), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/me/2fa/disable")]
async fn disable_two_factor(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: SessionAuth,
    body: ValidJson<DisableTwoFactorRequest>,
) -> Result<HttpResponse, ApiError> {
    let (now, user, secret) = (state.clock.now(), auth.user_id().to_string(), state.secret.clone());
    let actor = auth.actor(&req);
    let ValidJson(DisableTwoFactorRequest { password, code }) = body;
    db::run(&state.pool, move |c| two_factor::disable(c, now, &secret, &user, &password, &code, &actor)).await?;
    Ok(HttpResponse::NoContent().finish())
}
