//! Account routes: the signed-in account, profile and billing details, GDPR export and deletion
//! request, activity, team members and memberships. Thin: extract, call the service, answer.

use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use keel_shared::access::{AcceptInvitationRequest, Invitation, InviteMemberRequest, Membership, TeamMember, UpdateMemberRequest};
use keel_shared::auth::{AuditEntry, AuditFilter, Me, Profile, TokenRequest, TokenResponse};
use keel_shared::ids::{MemberId, UserId};
use keel_shared::{Page, PageQuery, Problem};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::accounts::{profile, team, users};
use crate::admin::staff;
use crate::db;
use crate::error::ApiError;
use crate::http::auth::{area, AccountHeader, Auth, ForAccount};
use crate::http::extract::{ValidJson, ValidQuery};
use crate::identity::limits;
use crate::identity::routes::{limit_ip, signed_in};
use crate::identity::service::ClientMeta;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(me)
        .service(get_profile)
        .service(update_profile)
        .service(export_data)
        .service(request_deletion)
        .service(my_audit)
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
    let caches = state.pool.caches().clone();
    let mut me = match caches.me(&id) {
        Some(me) => Me::clone(&me),
        None => {
            // Taken before the read: a change applied meanwhile keeps what it found out of the cache.
            let generation = caches.generation();
            db::run(&state.pool, move |c| {
                let user = users::find_user(c, &id)?;
                let me = staff::me(c, &user)?;
                caches.remember_me(generation, &id, std::sync::Arc::new(me.clone()));
                Ok(me)
            })
            .await?
        }
    };
    if let Some(admin) = imp {
        me.impersonator = Some(db::run(&state.pool, move |c| users::find_user(c, &admin)).await?.email);
    }
    Ok(web::Json(me))
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
async fn update_profile(
    req: HttpRequest,
    state: web::Data<AppState>,
    access: ForAccount<area::Billing>,
    body: ValidJson<Profile>,
) -> Result<web::Json<Profile>, ApiError> {
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
    Ok(HttpResponse::Ok().insert_header(("content-disposition", "attachment; filename=\"keel-my-data.json\"")).json(data))
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

/// Your account's audit trail.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(AuditFilter, PageQuery), responses((status = 200, body = Page<AuditEntry>)))]
#[get("/me/audit")]
async fn my_audit(
    state: web::Data<AppState>,
    auth: Auth,
    filter: ValidQuery<AuditFilter>,
) -> Result<web::Json<Page<AuditEntry>>, ApiError> {
    let (user, filter) = (auth.user_id().to_string(), filter.0);
    let rows = db::run(&state.pool, move |c| crate::audit::list(c, &filter, Some(&user))).await?;
    Ok(web::Json(rows.map(|r| r.to_dto())))
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
async fn invite_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    body: ValidJson<InviteMemberRequest>,
) -> Result<HttpResponse, ApiError> {
    let (now, actor, mail, account) = (state.clock.now(), auth.actor(&req), state.mail(), auth.user_id().to_string());
    let member = db::run(&state.pool, move |c| team::invite(c, now, &account, &body.0, &actor, &mail)).await?;
    Ok(HttpResponse::Created().json(member))
}

/// Change what a member may use.
#[utoipa::path(tag = "team", security(("bearer" = [])), request_body = UpdateMemberRequest, params(("id" = String, Path, description = "Team member id")),
    responses((status = 200, body = TeamMember), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[put("/me/team/{id}")]
async fn update_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<MemberId>,
    body: ValidJson<UpdateMemberRequest>,
) -> Result<web::Json<TeamMember>, ApiError> {
    let (now, actor, account, id) = (state.clock.now(), auth.actor(&req), auth.user_id().to_string(), id.into_inner());
    Ok(web::Json(db::run(&state.pool, move |c| team::update(c, now, &account, &id, &body.0, &actor)).await?))
}

/// Remove a member or withdraw an invitation.
#[utoipa::path(tag = "team", security(("bearer" = [])), params(("id" = String, Path, description = "Team member id")),
    responses((status = 204, description = "Removed"), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/me/team/{id}")]
async fn remove_member(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    id: web::Path<MemberId>,
) -> Result<HttpResponse, ApiError> {
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
async fn accept_invitation(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: ValidJson<AcceptInvitationRequest>,
) -> Result<HttpResponse, ApiError> {
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
async fn join_account(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: Auth,
    body: ValidJson<TokenRequest>,
) -> Result<HttpResponse, ApiError> {
    let (now, actor, user) = (state.clock.now(), auth.actor(&req), auth.user_id().to_string());
    let membership = db::run(&state.pool, move |c| team::accept_existing(c, now, &body.0.token, &user, &actor)).await?;
    Ok(HttpResponse::Created().json(membership))
}

/// Leave an account you are a member of.
#[utoipa::path(tag = "team", security(("bearer" = [])), params(("id" = String, Path, description = "Account id")),
    responses((status = 204, description = "Left"), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/me/memberships/{id}")]
async fn leave_account(req: HttpRequest, state: web::Data<AppState>, auth: Auth, id: web::Path<UserId>) -> Result<HttpResponse, ApiError> {
    let (now, actor, user, account) = (state.clock.now(), auth.actor(&req), auth.user_id().to_string(), id.into_inner());
    db::run(&state.pool, move |c| team::leave(c, now, &user, &account, &actor)).await?;
    Ok(HttpResponse::NoContent().finish())
}
