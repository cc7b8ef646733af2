//! Sign-in and account routes. Thin: extract, call the service on a blocking thread, answer.

use actix_web::cookie::{time, Cookie, SameSite};
use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use keel_shared::auth::{ClientSummary, LoginRequest, Me, RegisterRequest, TokenResponse};
use keel_shared::{Page, PageQuery, Problem};
use utoipa_actix_web::service_config::ServiceConfig;

use super::models::UserRow;
use super::service::{self, ClientMeta, IssuedSession};
use super::tokens::{ACCESS_TTL, REFRESH_COOKIE};
use crate::db;
use crate::error::ApiError;
use crate::http::auth::{area, can, AccountHeader, Auth, BackOffice, ForAccount};
use crate::http::extract::{ValidJson, ValidQuery};
use super::{api_keys, identity, limits, profile, staff, two_factor};
use keel_shared::auth::{Profile, CodeRequest, DisableTwoFactorRequest, MfaChallenge, MfaLoginRequest, RecoveryCodes, TwoFactorSetup, ApiKey, CreateApiKeyRequest, CreatedApiKey, AuditEntry, AuditFilter, ChangePasswordRequest, ForgotPasswordRequest, ResetPasswordRequest, SessionInfo, TokenRequest};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(register)
        .service(login)
        .service(refresh)
        .service(logout)
        .service(login_two_factor)
        .service(setup_two_factor)
        .service(enable_two_factor)
        .service(disable_two_factor)
        .service(verify_email)
        .service(resend_verification)
        .service(forgot_password)
        .service(reset_password)
        .service(me)
        .service(change_password)
        .service(list_sessions)
        .service(revoke_session)
        .service(revoke_other_sessions)
        .service(my_audit)
        .service(get_profile)
        .service(update_profile)
        .service(export_data)
        .service(request_deletion)
        .service(deletion_requests)
        .service(anonymise_client)
        .service(impersonate_client)
        .service(list_api_keys)
        .service(create_api_key)
        .service(revoke_api_key)
        .service(list_clients)
        .service(admin_audit);
}

/// Counts a hit against a per-IP limit (committed on its own, whatever the request's outcome).
pub(crate) async fn limit_ip(state: &AppState, limit: limits::Limit, meta: &ClientMeta) -> Result<(), ApiError> {
    let (now, ip) = (state.clock.now(), meta.ip.clone().unwrap_or_else(|| "unknown".into()));
    db::run(&state.pool, move |c| limits::hit(c, now, limit, &ip)).await
}

const COOKIE_PATH: &str = "/api/v1/auth";

fn meta(req: &HttpRequest) -> ClientMeta {
    ClientMeta::of(req)
}

fn secure(req: &HttpRequest, state: &AppState) -> bool {
    state.config.secure_cookies || req.connection_info().scheme() == "https"
}

/// Answers with an access token and sets the rotating refresh cookie.
pub(crate) async fn signed_in(req: &HttpRequest, state: &AppState, user: &UserRow, session: &IssuedSession, status: actix_web::http::StatusCode) -> Result<HttpResponse, ApiError> {
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
    Ok(HttpResponse::build(status).cookie(cookie).json(TokenResponse {
        access_token,
        token_type: "Bearer".into(),
        expires_in: ACCESS_TTL.num_seconds(),
        user: profile,
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
        (status = 423, description = "Locked after 5 failed sign-ins (Retry-After)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Over 10 attempts a minute from this IP (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
async fn login(req: HttpRequest, state: web::Data<AppState>, body: ValidJson<LoginRequest>) -> Result<HttpResponse, ApiError> {
    let (now, meta, mail) = (state.clock.now(), meta(&req), state.mail());
    limit_ip(&state, limits::LOGIN_PER_IP, &meta).await?;
    let ValidJson(LoginRequest { email, password }) = body;
    match db::run(&state.pool, move |c| service::login(c, now, &email, &password, &meta, &mail)).await? {
        service::LoginOutcome::SignedIn(user, session) => signed_in(&req, &state, &user, &session, actix_web::http::StatusCode::OK).await,
        service::LoginOutcome::NeedsCode(user) => {
            Ok(HttpResponse::Accepted().json(MfaChallenge { mfa_required: true, mfa_token: state.jwt.issue_mfa(&user.id, now)? }))
        }
    }
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
        Ok((user, session)) => signed_in(&req, &state, &user, &session, actix_web::http::StatusCode::OK).await,
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
    let (id, imp) = (auth.user_id().to_string(), auth.claims.imp.clone());
    let me = db::run(&state.pool, move |c| {
        let user = service::find_user(c, &id)?;
        let mut me = staff::me(c, &user)?;
        if let Some(admin) = imp {
            me.impersonator = Some(service::find_user(c, &admin)?.email);
        }
        Ok(me)
    })
    .await?;
    Ok(web::Json(me))
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
async fn list_clients(state: web::Data<AppState>, _: BackOffice<can::ClientsRead>, query: ValidQuery<PageQuery>) -> Result<web::Json<Page<ClientSummary>>, ApiError> {
    let page = query.0;
    let rows = db::run(&state.pool, move |c| service::list_clients(c, page)).await?;
    Ok(web::Json(rows.map(|u| u.to_client_summary())))
}


/// Confirm an e-mail address with the token from the e-mail.
#[utoipa::path(tag = "auth", request_body = TokenRequest,
    responses((status = 200, description = "Confirmed", body = Me), (status = 422, description = "Invalid or expired token", body = Problem, content_type = "application/problem+json")))]
#[post("/auth/verify-email")]
async fn verify_email(req: HttpRequest, state: web::Data<AppState>, body: ValidJson<TokenRequest>) -> Result<web::Json<Me>, ApiError> {
    let (now, actor) = (state.clock.now(), meta(&req).actor(None));
    let user = db::run(&state.pool, move |c| identity::verify_email(c, now, &body.0.token, &actor)).await?;
    Ok(web::Json(user.to_me()))
}

/// Send the verification e-mail again (3 an hour).
#[utoipa::path(tag = "auth", security(("bearer" = [])),
    responses((status = 202, description = "Sent"), (status = 409, description = "Already confirmed", body = Problem, content_type = "application/problem+json"),
              (status = 429, description = "Too many", body = Problem, content_type = "application/problem+json")))]
#[post("/auth/verify-email/resend")]
async fn resend_verification(state: web::Data<AppState>, auth: Auth) -> Result<HttpResponse, ApiError> {
    let (now, mail, user) = (state.clock.now(), state.mail(), auth.user_id().to_string());
    db::run(&state.pool, move |c| identity::resend_verification(c, now, &user, &mail)).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Ask for a password-reset link by e-mail. Answers 202 whether or not the address has an account.
#[utoipa::path(tag = "auth", request_body = ForgotPasswordRequest,
    responses((status = 202, description = "If the address has an account, a link is on its way"),
              (status = 422, body = Problem, content_type = "application/problem+json"), (status = 429, body = Problem, content_type = "application/problem+json")))]
#[post("/auth/forgot-password")]
async fn forgot_password(req: HttpRequest, state: web::Data<AppState>, body: ValidJson<ForgotPasswordRequest>) -> Result<HttpResponse, ApiError> {
    let (now, meta, mail) = (state.clock.now(), meta(&req), state.mail());
    limit_ip(&state, limits::RESET_PER_IP, &meta).await?;
    let actor = meta.actor(None);
    db::run(&state.pool, move |c| identity::forgot_password(c, now, &body.0.email, &mail, &actor)).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Set a new password with the token from the reset e-mail; signs out every session.
#[utoipa::path(tag = "auth", request_body = ResetPasswordRequest,
    responses((status = 204, description = "Password changed"), (status = 422, description = "Invalid token or password", body = Problem, content_type = "application/problem+json"),
              (status = 429, body = Problem, content_type = "application/problem+json")))]
#[post("/auth/reset-password")]
async fn reset_password(req: HttpRequest, state: web::Data<AppState>, body: ValidJson<ResetPasswordRequest>) -> Result<HttpResponse, ApiError> {
    let (now, meta, mail) = (state.clock.now(), meta(&req), state.mail());
    limit_ip(&state, limits::RESET_PER_IP, &meta).await?;
    let actor = meta.actor(None);
    let ValidJson(ResetPasswordRequest { token, password }) = body;
    db::run(&state.pool, move |c| identity::reset_password(c, now, &token, &password, &mail, &actor)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Change the password (needs the current one); signs out the other sessions.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), request_body = ChangePasswordRequest,
    responses((status = 204, description = "Changed"), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/me/password")]
async fn change_password(req: HttpRequest, state: web::Data<AppState>, auth: Auth, body: ValidJson<ChangePasswordRequest>) -> Result<HttpResponse, ApiError> {
    let (now, mail) = (state.clock.now(), state.mail());
    let actor = auth.actor(&req);
    let (user, sid) = (auth.user_id().to_string(), auth.session_id().to_string());
    let ValidJson(ChangePasswordRequest { current_password, new_password }) = body;
    db::run(&state.pool, move |c| identity::change_password(c, now, &user, &sid, &current_password, &new_password, &mail, &actor)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The signed-in user's active sessions.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), responses((status = 200, body = Vec<SessionInfo>), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/me/sessions")]
async fn list_sessions(state: web::Data<AppState>, auth: Auth) -> Result<web::Json<Vec<SessionInfo>>, ApiError> {
    let (now, user, sid) = (state.clock.now(), auth.user_id().to_string(), auth.session_id().to_string());
    Ok(web::Json(db::run(&state.pool, move |c| identity::list_sessions(c, now, &user, &sid)).await?))
}

/// Sign out one of your sessions.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(("id" = String, Path, description = "Session id")),
    responses((status = 204, description = "Signed out"), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/me/sessions/{id}")]
async fn revoke_session(req: HttpRequest, state: web::Data<AppState>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (now, user, id) = (state.clock.now(), auth.user_id().to_string(), id.into_inner());
    let actor = auth.actor(&req);
    db::run(&state.pool, move |c| identity::revoke_own(c, now, &user, &id, &actor)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sign out every session but this one.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), responses((status = 204, description = "Signed out")))]
#[delete("/me/sessions")]
async fn revoke_other_sessions(req: HttpRequest, state: web::Data<AppState>, auth: Auth) -> Result<HttpResponse, ApiError> {
    let (now, user, sid) = (state.clock.now(), auth.user_id().to_string(), auth.session_id().to_string());
    let actor = auth.actor(&req);
    db::run(&state.pool, move |c| identity::revoke_all_others(c, now, &user, &sid, &actor)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Your account's audit trail.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(AuditFilter), responses((status = 200, body = Page<AuditEntry>)))]
#[get("/me/audit")]
async fn my_audit(state: web::Data<AppState>, auth: Auth, filter: ValidQuery<AuditFilter>) -> Result<web::Json<Page<AuditEntry>>, ApiError> {
    let (user, filter) = (auth.user_id().to_string(), filter.0);
    let rows = db::run(&state.pool, move |c| crate::admin::audit::list(c, &filter, Some(&user))).await?;
    Ok(web::Json(rows.map(|r| r.to_dto())))
}

/// The whole audit log (administrators).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(AuditFilter),
    responses((status = 200, body = Page<AuditEntry>), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/audit")]
async fn admin_audit(state: web::Data<AppState>, _: BackOffice<can::AuditRead>, filter: ValidQuery<AuditFilter>) -> Result<web::Json<Page<AuditEntry>>, ApiError> {
    let filter = filter.0;
    let rows = db::run(&state.pool, move |c| crate::admin::audit::list(c, &filter, None)).await?;
    Ok(web::Json(rows.map(|r| r.to_dto())))
}

/// Your API keys (never with their secrets).
#[utoipa::path(tag = "accounts", security(("bearer" = [])), responses((status = 200, body = Vec<ApiKey>), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/me/api-keys")]
async fn list_api_keys(state: web::Data<AppState>, auth: Auth) -> Result<web::Json<Vec<ApiKey>>, ApiError> {
    let user = auth.user_id().to_string();
    Ok(web::Json(db::run(&state.pool, move |c| api_keys::list(c, &user)).await?))
}

/// Create an API key. The secret is in this answer only; it is stored hashed.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), request_body = CreateApiKeyRequest,
    responses((status = 201, body = CreatedApiKey), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/me/api-keys")]
async fn create_api_key(req: HttpRequest, state: web::Data<AppState>, auth: Auth, body: ValidJson<CreateApiKeyRequest>) -> Result<HttpResponse, ApiError> {
    let (now, user, role) = (state.clock.now(), auth.user_id().to_string(), auth.role());
    let actor = auth.actor(&req);
    let created = db::run(&state.pool, move |c| api_keys::create(c, now, &user, role, &body.0, &actor)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Revoke one of your API keys.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(("id" = String, Path, description = "API key id")),
    responses((status = 204, description = "Revoked"), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/me/api-keys/{id}")]
async fn revoke_api_key(req: HttpRequest, state: web::Data<AppState>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (now, user, id) = (state.clock.now(), auth.user_id().to_string(), id.into_inner());
    let actor = auth.actor(&req);
    db::run(&state.pool, move |c| api_keys::revoke(c, now, &user, &id, &actor)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Second sign-in step: a TOTP code or a recovery code, with the token from /auth/login.
#[utoipa::path(tag = "auth", request_body = MfaLoginRequest,
    responses((status = 200, description = "Signed in; sets the refresh cookie", body = TokenResponse),
              (status = 401, description = "Wrong code or expired step", body = Problem, content_type = "application/problem+json"),
              (status = 429, description = "Over 10 attempts a minute from this IP", body = Problem, content_type = "application/problem+json")))]
#[post("/auth/login/2fa")]
async fn login_two_factor(req: HttpRequest, state: web::Data<AppState>, body: ValidJson<MfaLoginRequest>) -> Result<HttpResponse, ApiError> {
    let (now, meta, mail, secret) = (state.clock.now(), meta(&req), state.mail(), state.secret.clone());
    limit_ip(&state, limits::TWO_FACTOR_PER_IP, &meta).await?;
    let user_id = state.jwt.verify_mfa(&body.0.mfa_token, now)?;
    let code = body.0.code;
    let (user, session) = db::run(&state.pool, move |c| {
        let user = service::find_user(c, &user_id)?;
        if !two_factor::check_code(c, now, &secret, &user, &code)? {
            crate::admin::audit::record(c, now, &meta.actor(None), crate::admin::audit::Event::new("auth.two_factor_failed").account(&user.id))?;
            return Err(ApiError::Unauthenticated("the code is wrong or was already used".into()));
        }
        let session = service::complete_login(c, now, &user, &meta, &mail, "password+totp")?;
        Ok((user, session))
    })
    .await?;
    signed_in(&req, &state, &user, &session, actix_web::http::StatusCode::OK).await
}

/// Start turning on two-factor: a new secret and its QR code (made on the server).
#[utoipa::path(tag = "accounts", security(("bearer" = [])), responses((status = 200, body = TwoFactorSetup), (status = 409, body = Problem, content_type = "application/problem+json")))]
#[post("/me/2fa/setup")]
async fn setup_two_factor(state: web::Data<AppState>, auth: Auth) -> Result<web::Json<TwoFactorSetup>, ApiError> {
    let (user, secret, issuer) = (auth.user_id().to_string(), state.secret.clone(), state.config.company_name.clone());
    Ok(web::Json(db::run(&state.pool, move |c| two_factor::setup(c, &secret, &issuer, &user)).await?))
}

/// Confirm the set-up with a code; answers the ten recovery codes, once.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), request_body = CodeRequest,
    responses((status = 200, body = RecoveryCodes), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/me/2fa/enable")]
async fn enable_two_factor(req: HttpRequest, state: web::Data<AppState>, auth: Auth, body: ValidJson<CodeRequest>) -> Result<web::Json<RecoveryCodes>, ApiError> {
    let (now, user, secret) = (state.clock.now(), auth.user_id().to_string(), state.secret.clone());
    let actor = auth.actor(&req);
    Ok(web::Json(db::run(&state.pool, move |c| two_factor::enable(c, now, &secret, &user, &body.0.code, &actor)).await?))
}

/// Turn two-factor off (password and a current code).
#[utoipa::path(tag = "accounts", security(("bearer" = [])), request_body = DisableTwoFactorRequest,
    responses((status = 204, description = "Off"), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/me/2fa/disable")]
async fn disable_two_factor(req: HttpRequest, state: web::Data<AppState>, auth: Auth, body: ValidJson<DisableTwoFactorRequest>) -> Result<HttpResponse, ApiError> {
    let (now, user, secret) = (state.clock.now(), auth.user_id().to_string(), state.secret.clone());
    let actor = auth.actor(&req);
    let ValidJson(DisableTwoFactorRequest { password, code }) = body;
    db::run(&state.pool, move |c| two_factor::disable(c, now, &secret, &user, &password, &code, &actor)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Your profile (or, with `X-Keel-Account`, the billing details of an account you have billing
/// access to): names, company, phone, addresses, tax id, currency, language.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(AccountHeader),
    responses((status = 200, body = Profile), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "A team member without billing access", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not a member of that account", body = Problem, content_type = "application/problem+json")))]
#[get("/me/profile")]
async fn get_profile(state: web::Data<AppState>, access: ForAccount<area::Billing>) -> Result<web::Json<Profile>, ApiError> {
    let account = access.account_id;
    Ok(web::Json(db::run(&state.pool, move |c| profile::get(c, &account)).await?))
}

/// Update your profile. A team member with billing access edits the billing details; the
/// holder's name stays theirs to change (a different name answers 422 on that field).
#[utoipa::path(tag = "accounts", security(("bearer" = [])), request_body = Profile, params(AccountHeader),
    responses((status = 200, body = Profile), (status = 422, body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "A team member without billing access", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not a member of that account", body = Problem, content_type = "application/problem+json")))]
#[put("/me/profile")]
async fn update_profile(req: HttpRequest, state: web::Data<AppState>, access: ForAccount<area::Billing>, body: ValidJson<Profile>) -> Result<web::Json<Profile>, ApiError> {
    let (now, actor) = (state.clock.now(), access.actor(&req));
    let holder = access.account_id == access.auth.user_id();
    let account = access.account_id;
    Ok(web::Json(db::run(&state.pool, move |c| profile::update(c, now, &account, &body.0, holder, &actor)).await?))
}

/// Download everything Keel holds about you (GDPR), as JSON.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), responses((status = 200, description = "The data, as an attachment", body = Object)))]
#[get("/me/export")]
async fn export_data(state: web::Data<AppState>, auth: Auth) -> Result<HttpResponse, ApiError> {
    let user = auth.user_id().to_string();
    let data = db::run(&state.pool, move |c| profile::export(c, &user)).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("content-disposition", "attachment; filename=\"keel-my-data.json\""))
        .json(data))
}

/// Ask for your account to be deleted; an administrator approves it.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), responses((status = 202, description = "Requested")))]
#[post("/me/deletion-request")]
async fn request_deletion(req: HttpRequest, state: web::Data<AppState>, auth: Auth) -> Result<HttpResponse, ApiError> {
    let (now, user) = (state.clock.now(), auth.user_id().to_string());
    let actor = auth.actor(&req);
    db::run(&state.pool, move |c| profile::request_deletion(c, now, &user, &actor)).await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Clients who asked to be deleted, oldest request first.
#[utoipa::path(tag = "admin", security(("bearer" = [])), responses((status = 200, body = Vec<ClientSummary>), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/deletion-requests")]
async fn deletion_requests(state: web::Data<AppState>, _: BackOffice<can::ClientsRead>) -> Result<web::Json<Vec<ClientSummary>>, ApiError> {
    Ok(web::Json(db::run(&state.pool, profile::deletion_requests).await?))
}

/// Approve a deletion request: the client's personal data is anonymised.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "Client id")),
    responses((status = 204, description = "Anonymised"), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "No request, or not a client", body = Problem, content_type = "application/problem+json")))]
#[post("/admin/clients/{id}/anonymise")]
async fn anonymise_client(req: HttpRequest, state: web::Data<AppState>, admin: BackOffice<can::ClientsWrite>, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (now, id, actor) = (state.clock.now(), id.into_inner(), admin.actor(&req));
    db::run(&state.pool, move |c| profile::anonymise(c, now, &id, &actor)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Log in as a client (support): a 15-minute access token for the client's account, without a
/// refresh token. Recorded in the client's audit trail; the SPA shows a banner meanwhile.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "Client id")),
    responses((status = 200, body = TokenResponse), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not a client account", body = Problem, content_type = "application/problem+json")))]
#[post("/admin/clients/{id}/impersonate")]
async fn impersonate_client(req: HttpRequest, state: web::Data<AppState>, admin: BackOffice<can::ClientsImpersonate>, id: web::Path<String>) -> Result<web::Json<TokenResponse>, ApiError> {
    let (now, id, actor) = (state.clock.now(), id.into_inner(), admin.actor(&req));
    let (admin_id, admin_session) = (admin.0.user_id().to_string(), admin.0.session_id().to_string());
    let (client, admin_email) = db::run(&state.pool, move |c| {
        let client = service::find_user(c, &id)?;
        if client.role() != keel_shared::auth::Role::Client {
            return Err(ApiError::Conflict { code: "not_a_client", detail: "only client accounts can be viewed this way".into(), field: None });
        }
        let admin_email = service::find_user(c, &admin_id)?.email;
        crate::admin::audit::record(c, now, &actor, crate::admin::audit::Event::new("admin.impersonation_started").account(&client.id).target("user", &client.id).details(serde_json::json!({ "admin": admin_email })))?;
        Ok((client, admin_email))
    })
    .await?;
    let access_token = state.jwt.issue_impersonation(&client.id, admin.0.user_id(), &admin_session, now)?;
    let mut user = client.to_me();
    user.impersonator = Some(admin_email);
    Ok(web::Json(TokenResponse { access_token, token_type: "Bearer".into(), expires_in: ACCESS_TTL.num_seconds(), user }))
}
