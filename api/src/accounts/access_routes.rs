//! Staff and permissions (administrators), security settings, and team members (clients).

use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use keel_shared::access::{AcceptInvitationRequest, CreateStaffRequest, InviteMemberRequest, Invitation, Membership, SecuritySettings, StaffMember, TeamMember, UpdateMemberRequest, UpdateStaffRequest};
use keel_shared::auth::{TokenRequest, TokenResponse};
use keel_shared::Problem;
use utoipa_actix_web::service_config::ServiceConfig;

use super::routes::{limit_ip, signed_in};
use super::service::ClientMeta;
use super::{limits, staff, team};
use crate::db;
use crate::error::ApiError;
use crate::http::auth::{AdminOnly, Auth};
use crate::http::extract::ValidJson;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_staff)
        .service(create_staff)
        .service(update_staff)
        .service(get_security_settings)
        .service(update_security_settings)
        .service(list_team)
        .service(invite_member)
        .service(update_member)
        .service(remove_member)
        .service(show_invitation)
        .service(accept_invitation)
        .service(list_memberships)
        .service(join_account)
        .service(leave_account);
}

/// Administrators and staff with their permissions (administrators only).
#[utoipa::path(tag = "admin", security(("bearer" = [])), responses((status = 200, body = Vec<StaffMember>), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/staff")]
async fn list_staff(state: web::Data<AppState>, _: AdminOnly) -> Result<web::Json<Vec<StaffMember>>, ApiError> {
    Ok(web::Json(db::run(&state.pool, staff::list).await?))
}

/// Add an administrator or staff member; they receive an e-mail with a link to choose a password.
#[utoipa::path(tag = "admin", security(("bearer" = [])), request_body = CreateStaffRequest,
    responses((status = 201, body = StaffMember), (status = 409, description = "E-mail already in use", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/admin/staff")]
async fn create_staff(req: HttpRequest, state: web::Data<AppState>, admin: AdminOnly, body: ValidJson<CreateStaffRequest>) -> Result<HttpResponse, ApiError> {
    let (now, actor, mail) = (state.clock.now(), admin.actor(&req), state.mail());
    let member = db::run(&state.pool, move |c| staff::create(c, now, &body.0, &actor, &mail)).await?;
    Ok(HttpResponse::Created().json(member))
}

/// Change a back-office user's role and permissions, or disable them (their sessions end).
#[utoipa::path(tag = "admin", security(("bearer" = [])), request_body = UpdateStaffRequest, params(("id" = String, Path, description = "User id")),
    responses((status = 200, body = StaffMember), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Your own account", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/admin/staff/{id}")]
async fn update_staff(req: HttpRequest, state: web::Data<AppState>, admin: AdminOnly, id: web::Path<String>, body: ValidJson<UpdateStaffRequest>) -> Result<web::Json<StaffMember>, ApiError> {
    let (now, actor, id) = (state.clock.now(), admin.actor(&req), id.into_inner());
    Ok(web::Json(db::run(&state.pool, move |c| staff::update(c, now, &id, &body.0, &actor)).await?))
}

/// Platform-wide sign-in rules.
#[utoipa::path(tag = "admin", security(("bearer" = [])), responses((status = 200, body = SecuritySettings), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/settings/security")]
async fn get_security_settings(state: web::Data<AppState>, _: AdminOnly) -> Result<web::Json<SecuritySettings>, ApiError> {
    Ok(web::Json(db::run(&state.pool, staff::security_settings).await?))
}

/// Change the sign-in rules (e.g. require two-factor authentication for staff).
#[utoipa::path(tag = "admin", security(("bearer" = [])), request_body = SecuritySettings,
    responses((status = 200, body = SecuritySettings), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/admin/settings/security")]
async fn update_security_settings(req: HttpRequest, state: web::Data<AppState>, admin: AdminOnly, body: ValidJson<SecuritySettings>) -> Result<web::Json<SecuritySettings>, ApiError> {
    let (now, actor) = (state.clock.now(), admin.actor(&req));
    Ok(web::Json(db::run(&state.pool, move |c| staff::update_security_settings(c, now, &body.0, &actor)).await?))
}

/// People with access to your account, and open invitations.
#[utoipa::path(tag = "team", security(("bearer" = [])), responses((status = 200, body = Vec<TeamMember>), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/me/team")]
async fn list_team(state: web::Data<AppState>, auth: Auth) -> Result<web::Json<Vec<TeamMember>>, ApiError> {
    let (now, account) = (state.clock.now(), auth.user_id().to_string());
    Ok(web::Json(db::run(&state.pool, move |c| team::list(c, now, &account)).await?))
}

/// Invite someone by e-mail to your account with some areas (billing, services, domains,
/// support). Inviting a pending address again sends a fresh link.
#[utoipa::path(tag = "team", security(("bearer" = [])), request_body = InviteMemberRequest,
    responses((status = 201, body = TeamMember), (status = 409, description = "Already a member", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json"),
              (status = 429, description = "Over 20 invitations an hour", body = Problem, content_type = "application/problem+json")))]
#[post("/me/team")]
async fn invite_member(req: HttpRequest, state: web::Data<AppState>, auth: Auth, body: ValidJson<InviteMemberRequest>) -> Result<HttpResponse, ApiError> {
    let (now, actor, mail, account) = (state.clock.now(), auth.actor(&req), state.mail(), auth.user_id().to_string());
    let member = db::run(&state.pool, move |c| team::invite(c, now, &account, &body.0, &actor, &mail)).await?;
    Ok(HttpResponse::Created().json(member))
}

/// Change what a member may use.
#[utoipa::path(tag = "team", security(("bearer" = [])), request_body = UpdateMemberRequest, params(("id" = String, Path, description = "Team member id")),
    responses((status = 200, body = TeamMember), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[put("/me/team/{id}")]
async fn update_member(req: HttpRequest, state: web::Data<AppState>, auth: Auth, id: web::Path<String>, body: ValidJson<UpdateMemberRequest>) -> Result<web::Json<TeamMember>, ApiError> {
    let (now, actor, account, id) = (state.clock.now(), auth.actor(&req), auth.user_id().to_string(), id.into_inner());
    Ok(web::Json(db::run(&state.pool, move |c| team::update(c, now, &account, &id, &body.0, &actor)).await?))
}

/// Remove a member or withdraw an invitation.
#[utoipa::path(tag = "team", security(("bearer" = [])), params(("id" = String, Path, description = "Team member id")),
    responses((status = 204, description = "Removed"), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/me/team/{id}")]
async fn remove_member(req: HttpRequest, state: web::Data<AppState>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (now, actor, account, id) = (state.clock.now(), auth.actor(&req), auth.user_id().to_string(), id.into_inner());
    db::run(&state.pool, move |c| team::remove(c, now, &account, &id, &actor)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// What an invitation link offers (the token from the e-mail is the credential).
#[utoipa::path(tag = "team", params(("token" = String, Path, description = "Invitation token from the e-mail")),
    responses((status = 200, body = Invitation), (status = 404, description = "Unknown, used or expired", body = Problem, content_type = "application/problem+json")))]
#[get("/team/invitations/{token}")]
async fn show_invitation(state: web::Data<AppState>, token: web::Path<String>) -> Result<web::Json<Invitation>, ApiError> {
    let (now, token) = (state.clock.now(), token.into_inner());
    Ok(web::Json(db::run(&state.pool, move |c| team::invitation(c, now, &token)).await?))
}

/// Accept an invitation by opening a login for the invited address; signs in.
#[utoipa::path(tag = "team", request_body = AcceptInvitationRequest, params(("token" = String, Path, description = "Invitation token from the e-mail")),
    responses((status = 201, description = "Login opened and signed in; sets the refresh cookie", body = TokenResponse),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The address already has a login: sign in and use POST /me/memberships", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json"),
              (status = 429, body = Problem, content_type = "application/problem+json")))]
#[post("/team/invitations/{token}/accept")]
async fn accept_invitation(req: HttpRequest, state: web::Data<AppState>, token: web::Path<String>, body: ValidJson<AcceptInvitationRequest>) -> Result<HttpResponse, ApiError> {
    let (now, meta, mail, token) = (state.clock.now(), ClientMeta::of(&req), state.mail(), token.into_inner());
    limit_ip(&state, limits::REGISTER_PER_IP, &meta).await?;
    let (user, session) = db::run(&state.pool, move |c| team::accept_new(c, now, &token, &body.0, &meta, &mail)).await?;
    signed_in(&req, &state, &user, &session, actix_web::http::StatusCode::CREATED).await
}

/// Accounts you may act for as a team member (send one's id as `X-Keel-Account`).
#[utoipa::path(tag = "team", security(("bearer" = [])), responses((status = 200, body = Vec<Membership>), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/me/memberships")]
async fn list_memberships(state: web::Data<AppState>, auth: Auth) -> Result<web::Json<Vec<Membership>>, ApiError> {
    let user = auth.user_id().to_string();
    Ok(web::Json(db::run(&state.pool, move |c| team::memberships(c, &user)).await?))
}

/// Accept an invitation with the login you already have (it must have been sent to your address).
#[utoipa::path(tag = "team", security(("bearer" = [])), request_body = TokenRequest,
    responses((status = 201, body = Membership), (status = 403, description = "Sent to another address", body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
#[post("/me/memberships")]
async fn join_account(req: HttpRequest, state: web::Data<AppState>, auth: Auth, body: ValidJson<TokenRequest>) -> Result<HttpResponse, ApiError> {
    let (now, actor, user) = (state.clock.now(), auth.actor(&req), auth.user_id().to_string());
    let membership = db::run(&state.pool, move |c| team::accept_existing(c, now, &body.0.token, &user, &actor)).await?;
    Ok(HttpResponse::Created().json(membership))
}

/// Leave an account you are a member of.
#[utoipa::path(tag = "team", security(("bearer" = [])), params(("id" = String, Path, description = "Account id")),
    responses((status = 204, description = "Left"), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/me/memberships/{id}")]
async fn leave_account(req: HttpRequest, state: web::Data<AppState>, auth: Auth, id: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let (now, actor, user, account) = (state.clock.now(), auth.actor(&req), auth.user_id().to_string(), id.into_inner());
    db::run(&state.pool, move |c| team::leave(c, now, &user, &account, &actor)).await?;
    Ok(HttpResponse::NoContent().finish())
}
