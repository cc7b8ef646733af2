//! Back-office routes: clients (list, deletion requests, anonymisation, "log in as client"), the
//! audit log, staff and permissions, security settings. Thin: extract, call the service, answer.

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use keel_shared::access::{CreateStaffRequest, SecuritySettings, StaffMember, UpdateStaffRequest};
use keel_shared::auth::{AuditEntry, AuditFilter, ClientFilter, ClientSummary, TokenResponse};
use keel_shared::commerce::TaxExemption;
use keel_shared::ids::UserId;
use keel_shared::{Page, PageQuery, Problem};
use utoipa_actix_web::service_config::ServiceConfig;

use crate::accounts::{profile, users};
use crate::admin::{self, staff};
use crate::db;
use crate::error::ApiError;
use crate::http::auth::{can, AdminOnly, BackOffice};
use crate::http::extract::{ValidJson, ValidQuery};
use crate::identity::tokens::ACCESS_TTL;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_clients)
        .service(deletion_requests)
        .service(anonymise_client)
        .service(impersonate_client)
        .service(set_tax_exempt)
        .service(admin_audit)
        .service(list_staff)
        .service(create_staff)
        .service(update_staff)
        .service(get_security_settings)
        .service(update_security_settings);
}

/// Client accounts, newest first; `q` searches e-mail, names and company by prefix. Page numbers
/// reach the first 10,000; `next_cursor` goes on from any page.
#[utoipa::path(
    tag = "admin",
    security(("bearer" = [])),
    params(ClientFilter, PageQuery),
    responses(
        (status = 200, body = Page<ClientSummary>),
        (status = 401, description = "Not signed in", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an administrator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid paging parameters", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/admin/clients")]
async fn list_clients(
    state: web::Data<AppState>,
    _: BackOffice<can::ClientsRead>,
    filter: ValidQuery<ClientFilter>,
) -> Result<web::Json<Page<ClientSummary>>, ApiError> {
    let filter = filter.0;
    let rows = db::run(&state.pool, move |c| users::list_clients(c, &filter)).await?;
    Ok(web::Json(rows.map(|u| u.to_client_summary())))
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
async fn anonymise_client(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::ClientsWrite>,
    id: web::Path<UserId>,
) -> Result<HttpResponse, ApiError> {
    let (now, id, actor) = (state.clock.now(), id.into_inner(), admin.actor(&req));
    db::run(&state.pool, move |c| profile::anonymise(c, now, &id, &actor)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Exempt a client from tax (or end the exemption): their quotes and orders carry no tax.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "Client id")), request_body = TaxExemption,
    responses((status = 204, description = "Saved"), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/admin/clients/{id}/tax-exempt")]
async fn set_tax_exempt(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::ClientsWrite>,
    id: web::Path<UserId>,
    body: ValidJson<TaxExemption>,
) -> Result<HttpResponse, ApiError> {
    let (now, id, actor, exempt) = (state.clock.now(), id.into_inner(), admin.actor(&req), body.0.tax_exempt);
    db::run(&state.pool, move |c| profile::set_tax_exempt(c, now, &actor, &id, exempt)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Log in as a client (support): a 15-minute access token for the client's account, without a
/// refresh token. Recorded in the client's audit trail; the SPA shows a banner meanwhile.
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "Client id")),
    responses((status = 200, body = TokenResponse), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not a client account", body = Problem, content_type = "application/problem+json")))]
#[post("/admin/clients/{id}/impersonate")]
async fn impersonate_client(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::ClientsImpersonate>,
    id: web::Path<UserId>,
) -> Result<web::Json<TokenResponse>, ApiError> {
    let (now, id, actor) = (state.clock.now(), id.into_inner(), admin.actor(&req));
    let (admin_id, admin_session) = (admin.0.user_id().to_string(), admin.0.session_id().to_string());
    let (client, admin_email) = db::run(&state.pool, move |c| admin::service::start_impersonation(c, now, &actor, &admin_id, &id)).await?;
    let access_token = state.jwt.issue_impersonation(&client.id, admin.0.user_id(), &admin_session, now)?;
    let mut user = client.to_me();
    user.impersonator = Some(admin_email);
    Ok(web::Json(TokenResponse { access_token, token_type: "Bearer".into(), expires_in: ACCESS_TTL.num_seconds(), user }))
}

/// The whole audit log (administrators).
#[utoipa::path(tag = "admin", security(("bearer" = [])), params(AuditFilter, PageQuery),
    responses((status = 200, body = Page<AuditEntry>), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/audit")]
async fn admin_audit(
    state: web::Data<AppState>,
    _: BackOffice<can::AuditRead>,
    filter: ValidQuery<AuditFilter>,
) -> Result<web::Json<Page<AuditEntry>>, ApiError> {
    let filter = filter.0;
    let rows = db::run(&state.pool, move |c| crate::audit::list(c, &filter, None)).await?;
    Ok(web::Json(rows.map(|r| r.to_dto())))
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
async fn create_staff(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: AdminOnly,
    body: ValidJson<CreateStaffRequest>,
) -> Result<HttpResponse, ApiError> {
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
async fn update_staff(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: AdminOnly,
    id: web::Path<UserId>,
    body: ValidJson<UpdateStaffRequest>,
) -> Result<web::Json<StaffMember>, ApiError> {
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
async fn update_security_settings(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: AdminOnly,
    body: ValidJson<SecuritySettings>,
) -> Result<web::Json<SecuritySettings>, ApiError> {
    let (now, actor) = (state.clock.now(), admin.actor(&req));
    Ok(web::Json(db::run(&state.pool, move |c| staff::update_security_settings(c, now, &body.0, &actor)).await?))
}
