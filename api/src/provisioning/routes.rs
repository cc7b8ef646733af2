use actix_web::{delete, get, patch, post, put, web, HttpRequest, HttpResponse};
use keel_shared::ids::{ServerId, ServiceId};
use keel_shared::provisioning::{
    AdminService, CancellationRequest, Server, ServerCheck, ServerDetail, ServerInput, Service, ServiceChange, ServiceChangeQuote,
    ServiceChangeRequest, ServiceCredentials, ServiceFilter, ServicePassword, ServiceSummary, ServiceUpdate, ServiceUsage, SsoLink,
    SuspendRequest,
};
use keel_shared::{Page, PageQuery, Problem};
use utoipa_actix_web::service_config::ServiceConfig;

use super::changes;
use super::service::{self, Action};
use crate::db;
use crate::error::ApiError;
use crate::http::auth::{area, can, AccountHeader, BackOffice, ForAccount};
use crate::http::extract::{ValidJson, ValidQuery};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(my_services)
        .service(my_service)
        .service(my_credentials)
        .service(my_sso)
        .service(my_usage)
        .service(my_password)
        .service(my_cancellation)
        .service(my_change_quote)
        .service(my_change)
        .service(my_changes)
        .service(list_servers)
        .service(create_server)
        .service(get_server)
        .service(update_server)
        .service(delete_server)
        .service(check_server)
        .service(admin_services)
        .service(admin_service)
        .service(update_service)
        .service(provision_service)
        .service(suspend_service)
        .service(unsuspend_service)
        .service(terminate_service)
        .service(admin_sso);
}

/// Your services (or, with `X-Keel-Account`, an account's you have services access to), newest
/// first.
#[utoipa::path(tag = "services", security(("bearer" = [])), params(ServiceFilter, PageQuery, AccountHeader),
    responses((status = 200, body = Page<ServiceSummary>), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[get("/services")]
async fn my_services(
    state: web::Data<AppState>,
    access: ForAccount<area::Services>,
    filter: ValidQuery<ServiceFilter>,
) -> Result<web::Json<Page<ServiceSummary>>, ApiError> {
    let (account, mut filter) = (access.account_id, filter.0);
    filter.account_id = None;
    filter.server_id = None;
    Ok(web::Json(db::run(&state.pool, move |c| service::list(c, &filter, Some(&account))).await?))
}

/// One of your services: status, plan, price, next due date, its server and login name.
#[utoipa::path(tag = "services", security(("bearer" = [])), params(("id" = String, Path, description = "Service id"), AccountHeader),
    responses((status = 200, body = Service), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/services/{id}")]
async fn my_service(
    state: web::Data<AppState>,
    access: ForAccount<area::Services>,
    id: web::Path<ServiceId>,
) -> Result<web::Json<Service>, ApiError> {
    let (account, id) = (access.account_id, id.into_inner().into_string());
    Ok(web::Json(db::run(&state.pool, move |c| service::get(c, &id, Some(&account))).await?))
}

/// The control panel login (username and password) of one of your active services. Each read
/// is on your account's activity log.
#[utoipa::path(tag = "services", security(("bearer" = [])), params(("id" = String, Path, description = "Service id"), AccountHeader),
    responses((status = 200, body = ServiceCredentials), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The service is not active yet", body = Problem, content_type = "application/problem+json")))]
#[get("/services/{id}/credentials")]
async fn my_credentials(
    req: HttpRequest,
    state: web::Data<AppState>,
    access: ForAccount<area::Services>,
    id: web::Path<ServiceId>,
) -> Result<HttpResponse, ApiError> {
    let (actor, account, id, deps) = (access.auth.actor(&req), access.account_id, id.into_inner().into_string(), state.deps.clone());
    let creds = db::run(&state.pool, move |c| service::credentials(&deps, c, &actor, &id, &account)).await?;
    Ok(HttpResponse::Ok().insert_header(("Cache-Control", "no-store")).json(creds))
}

/// A one-time link that signs you in to the control panel of one of your active services.
#[utoipa::path(tag = "services", security(("bearer" = [])), params(("id" = String, Path, description = "Service id"), AccountHeader),
    responses((status = 200, body = SsoLink), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not active, or the panel refused", body = Problem, content_type = "application/problem+json"),
              (status = 503, description = "The control panel cannot be reached", body = Problem, content_type = "application/problem+json")))]
#[post("/services/{id}/sso")]
async fn my_sso(
    req: HttpRequest,
    state: web::Data<AppState>,
    access: ForAccount<area::Services>,
    id: web::Path<ServiceId>,
) -> Result<web::Json<SsoLink>, ApiError> {
    let (actor, account, id, deps) = (access.auth.actor(&req), access.account_id, id.into_inner().into_string(), state.deps.clone());
    let url = db::run(&state.pool, move |c| service::sso(&deps, c, &actor, &id, Some(&account))).await?;
    Ok(web::Json(SsoLink { url }))
}

/// Disk and bandwidth use of one of your services over the last 30 days.
#[utoipa::path(tag = "services", security(("bearer" = [])), params(("id" = String, Path, description = "Service id"), AccountHeader),
    responses((status = 200, body = ServiceUsage), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/services/{id}/usage")]
async fn my_usage(
    state: web::Data<AppState>,
    access: ForAccount<area::Services>,
    id: web::Path<ServiceId>,
) -> Result<web::Json<ServiceUsage>, ApiError> {
    let (account, id) = (access.account_id, id.into_inner().into_string());
    Ok(web::Json(db::run(&state.pool, move |c| service::usage(c, &id, Some(&account))).await?))
}

/// Set a new control panel password for one of your active services.
#[utoipa::path(tag = "services", security(("bearer" = [])), params(("id" = String, Path, description = "Service id"), AccountHeader), request_body = ServicePassword,
    responses((status = 200, body = Service), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not active, or the panel refused the password", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json"),
              (status = 503, description = "The control panel cannot be reached; the password is unchanged", body = Problem, content_type = "application/problem+json")))]
#[put("/services/{id}/password")]
async fn my_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    access: ForAccount<area::Services>,
    id: web::Path<ServiceId>,
    body: ValidJson<ServicePassword>,
) -> Result<web::Json<Service>, ApiError> {
    let (actor, account, id, deps, password) =
        (access.auth.actor(&req), access.account_id, id.into_inner().into_string(), state.deps.clone(), body.0.password);
    Ok(web::Json(
        db::run(&state.pool, move |c| {
            service::get(c, &id, Some(&account))?;
            service::perform(&deps, c, &actor, &id, Action::ChangePassword { password })?;
            service::get(c, &id, Some(&account))
        })
        .await?,
    ))
}

/// Ask to cancel one of your services: `immediate` terminates it now, `end_of_period` on its
/// next due date (it is not renewed).
#[utoipa::path(tag = "services", security(("bearer" = [])), params(("id" = String, Path, description = "Service id"), AccountHeader), request_body = CancellationRequest,
    responses((status = 200, body = Service), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not active or suspended, or already requested", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/services/{id}/cancellation")]
async fn my_cancellation(
    req: HttpRequest,
    state: web::Data<AppState>,
    access: ForAccount<area::Services>,
    id: web::Path<ServiceId>,
    body: ValidJson<CancellationRequest>,
) -> Result<web::Json<Service>, ApiError> {
    let (now, actor, account, id, body) =
        (state.clock.now(), access.auth.actor(&req), access.account_id, id.into_inner().into_string(), body.0);
    Ok(web::Json(db::run(&state.pool, move |c| service::request_cancellation(c, now, &actor, &id, &account, &body)).await?))
}

/// What moving one of your services to another plan, other options or add-ons would cost now:
/// the prorated credit and charge lines for the rest of the period, the tax, and whether it is
/// invoiced (the change happens when paid), credited (a downgrade, at once) or waits for the
/// renewal. Nothing is written.
#[utoipa::path(tag = "services", security(("bearer" = [])), params(("id" = String, Path, description = "Service id"), AccountHeader), request_body = ServiceChangeRequest,
    responses((status = 200, body = ServiceChangeQuote), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not active, being cancelled, not billed per period, past its due date or paid more than a period ahead", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Not a plan it can move to, or an option or add-on that does not fit it", body = Problem, content_type = "application/problem+json")))]
#[post("/services/{id}/change/quote")]
async fn my_change_quote(
    state: web::Data<AppState>,
    access: ForAccount<area::Services>,
    id: web::Path<ServiceId>,
    body: ValidJson<ServiceChangeRequest>,
) -> Result<web::Json<ServiceChangeQuote>, ApiError> {
    let (now, account, id, body) = (state.clock.now(), access.account_id, id.into_inner().into_string(), body.0);
    Ok(web::Json(db::run(&state.pool, move |c| changes::quote(c, now, &id, Some(&account), &body)).await?))
}

/// Move one of your services to another plan, other options or add-ons, as quoted: an upgrade
/// issues an invoice for the difference and happens when it is paid; a downgrade happens now
/// with the difference as account credit (or on the renewal, as the shop chooses). A change
/// still waiting for payment is replaced (its invoice cancelled).
#[utoipa::path(tag = "services", security(("bearer" = [])), params(("id" = String, Path, description = "Service id"), AccountHeader), request_body = ServiceChangeRequest,
    responses((status = 201, body = ServiceChange), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not changeable now (as for the quote), the price differs from `expected_total_minor`, or a change is partly paid", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/services/{id}/change")]
async fn my_change(
    req: HttpRequest,
    state: web::Data<AppState>,
    access: ForAccount<area::Services>,
    id: web::Path<ServiceId>,
    body: ValidJson<ServiceChangeRequest>,
) -> Result<HttpResponse, ApiError> {
    let (now, mail, actor, account, id, body) =
        (state.clock.now(), state.deps.mail(), access.auth.actor(&req), access.account_id, id.into_inner().into_string(), body.0);
    let change = db::run(&state.pool, move |c| changes::request(c, now, &mail, &actor, &id, &account, &body)).await?;
    Ok(HttpResponse::Created().json(change))
}

/// The plan changes of one of your services, newest first.
#[utoipa::path(tag = "services", security(("bearer" = [])), params(("id" = String, Path, description = "Service id"), AccountHeader),
    responses((status = 200, body = Vec<ServiceChange>), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/services/{id}/changes")]
async fn my_changes(
    state: web::Data<AppState>,
    access: ForAccount<area::Services>,
    id: web::Path<ServiceId>,
) -> Result<web::Json<Vec<ServiceChange>>, ApiError> {
    let (account, id) = (access.account_id, id.into_inner().into_string());
    Ok(web::Json(db::run(&state.pool, move |c| changes::list(c, &id, Some(&account))).await?))
}

/// Every server, by name, with its load and health. Module tokens are never answered.
#[utoipa::path(tag = "servers", security(("bearer" = [])),
    responses((status = 200, body = Vec<Server>), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/servers")]
async fn list_servers(state: web::Data<AppState>, _: BackOffice<can::ServersManage>) -> Result<web::Json<Vec<Server>>, ApiError> {
    Ok(web::Json(db::run(&state.pool, service::list_servers).await?))
}

/// Add a server. Its API token is sealed at rest and never shown again.
#[utoipa::path(tag = "servers", security(("bearer" = [])), request_body = ServerInput,
    responses((status = 201, body = Server), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/admin/servers")]
async fn create_server(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::ServersManage>,
    body: ValidJson<ServerInput>,
) -> Result<HttpResponse, ApiError> {
    let (now, actor, body, secret) = (state.clock.now(), admin.actor(&req), body.0, state.secret.clone());
    let server = db::run(&state.pool, move |c| service::save_server(c, now, &secret, &actor, None, &body)).await?;
    Ok(HttpResponse::Created().json(server))
}

/// A server with its latest health checks.
#[utoipa::path(tag = "servers", security(("bearer" = [])), params(("id" = String, Path, description = "Server id")),
    responses((status = 200, body = ServerDetail), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/servers/{id}")]
async fn get_server(
    state: web::Data<AppState>,
    _: BackOffice<can::ServersManage>,
    id: web::Path<ServerId>,
) -> Result<web::Json<ServerDetail>, ApiError> {
    let id = id.into_inner().into_string();
    Ok(web::Json(db::run(&state.pool, move |c| service::get_server(c, &id)).await?))
}

/// Change a server; leave `secret` out to keep its token.
#[utoipa::path(tag = "servers", security(("bearer" = [])), params(("id" = String, Path, description = "Server id")), request_body = ServerInput,
    responses((status = 200, body = Server), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The name is taken", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/admin/servers/{id}")]
async fn update_server(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::ServersManage>,
    id: web::Path<ServerId>,
    body: ValidJson<ServerInput>,
) -> Result<web::Json<Server>, ApiError> {
    let (now, actor, body, secret, id) =
        (state.clock.now(), admin.actor(&req), body.0, state.secret.clone(), id.into_inner().into_string());
    Ok(web::Json(db::run(&state.pool, move |c| service::save_server(c, now, &secret, &actor, Some(&id), &body)).await?))
}

/// Remove a server that has no live services.
#[utoipa::path(tag = "servers", security(("bearer" = [])), params(("id" = String, Path, description = "Server id")),
    responses((status = 204, description = "Removed"), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Services still live on it", body = Problem, content_type = "application/problem+json")))]
#[delete("/admin/servers/{id}")]
async fn delete_server(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::ServersManage>,
    id: web::Path<ServerId>,
) -> Result<HttpResponse, ApiError> {
    let (now, actor, id) = (state.clock.now(), admin.actor(&req), id.into_inner().into_string());
    db::run(&state.pool, move |c| service::delete_server(c, now, &actor, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Test a server's module connection now (recorded like the scheduled health check).
#[utoipa::path(tag = "servers", security(("bearer" = [])), params(("id" = String, Path, description = "Server id")),
    responses((status = 200, body = ServerCheck), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[post("/admin/servers/{id}/check")]
async fn check_server(
    state: web::Data<AppState>,
    _: BackOffice<can::ServersManage>,
    id: web::Path<ServerId>,
) -> Result<web::Json<ServerCheck>, ApiError> {
    let (id, deps) = (id.into_inner().into_string(), state.deps.clone());
    Ok(web::Json(db::run(&state.pool, move |c| service::check_server(&deps, c, &id)).await?))
}

/// Every service, newest first; filter by status, client, server or domain.
#[utoipa::path(tag = "services", security(("bearer" = [])), params(ServiceFilter, PageQuery),
    responses((status = 200, body = Page<ServiceSummary>), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/services")]
async fn admin_services(
    state: web::Data<AppState>,
    _: BackOffice<can::ServersManage>,
    filter: ValidQuery<ServiceFilter>,
) -> Result<web::Json<Page<ServiceSummary>>, ApiError> {
    let filter = filter.0;
    Ok(web::Json(db::run(&state.pool, move |c| service::list(c, &filter, None)).await?))
}

/// A service with its provisioning history, last error and plan changes.
#[utoipa::path(tag = "services", security(("bearer" = [])), params(("id" = String, Path, description = "Service id")),
    responses((status = 200, body = AdminService), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/services/{id}")]
async fn admin_service(
    state: web::Data<AppState>,
    _: BackOffice<can::ServersManage>,
    id: web::Path<ServiceId>,
) -> Result<web::Json<AdminService>, ApiError> {
    let id = id.into_inner().into_string();
    Ok(web::Json(db::run(&state.pool, move |c| service::admin_get(c, &id)).await?))
}

/// Change a service's next due date, recurring price or package (the panel is told first).
#[utoipa::path(tag = "services", security(("bearer" = [])), params(("id" = String, Path, description = "Service id")), request_body = ServiceUpdate,
    responses((status = 200, body = Service), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The panel refused the package", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json"),
              (status = 503, description = "The control panel cannot be reached", body = Problem, content_type = "application/problem+json")))]
#[patch("/admin/services/{id}")]
async fn update_service(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::ServersManage>,
    id: web::Path<ServiceId>,
    body: ValidJson<ServiceUpdate>,
) -> Result<web::Json<Service>, ApiError> {
    let (actor, id, body, deps) = (admin.actor(&req), id.into_inner().into_string(), body.0, state.deps.clone());
    Ok(web::Json(db::run(&state.pool, move |c| service::update(&deps, c, &actor, &id, &body)).await?))
}

/// Provision a pending or failed service now (a create job is queued).
#[utoipa::path(tag = "services", security(("bearer" = [])), params(("id" = String, Path, description = "Service id")),
    responses((status = 200, body = Service), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Already provisioned", body = Problem, content_type = "application/problem+json")))]
#[post("/admin/services/{id}/provision")]
async fn provision_service(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::ServersManage>,
    id: web::Path<ServiceId>,
) -> Result<web::Json<Service>, ApiError> {
    let (actor, id, deps) = (admin.actor(&req), id.into_inner().into_string(), state.deps.clone());
    Ok(web::Json(db::run(&state.pool, move |c| service::provision_now(&deps, c, &actor, &id)).await?))
}

/// Suspend an active service, with a reason the client is told.
#[utoipa::path(tag = "services", security(("bearer" = [])), params(("id" = String, Path, description = "Service id")), request_body = SuspendRequest,
    responses((status = 200, body = Service), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not active, or the panel refused", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json"),
              (status = 503, description = "The control panel cannot be reached", body = Problem, content_type = "application/problem+json")))]
#[post("/admin/services/{id}/suspend")]
async fn suspend_service(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::ServersManage>,
    id: web::Path<ServiceId>,
    body: ValidJson<SuspendRequest>,
) -> Result<web::Json<Service>, ApiError> {
    let (actor, id, deps, reason) = (admin.actor(&req), id.into_inner().into_string(), state.deps.clone(), body.0.reason);
    Ok(web::Json(db::run(&state.pool, move |c| service::perform(&deps, c, &actor, &id, Action::Suspend { reason })).await?))
}

/// Unsuspend a suspended service.
#[utoipa::path(tag = "services", security(("bearer" = [])), params(("id" = String, Path, description = "Service id")),
    responses((status = 200, body = Service), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not suspended, or the panel refused", body = Problem, content_type = "application/problem+json"),
              (status = 503, description = "The control panel cannot be reached", body = Problem, content_type = "application/problem+json")))]
#[post("/admin/services/{id}/unsuspend")]
async fn unsuspend_service(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::ServersManage>,
    id: web::Path<ServiceId>,
) -> Result<web::Json<Service>, ApiError> {
    let (actor, id, deps) = (admin.actor(&req), id.into_inner().into_string(), state.deps.clone());
    Ok(web::Json(db::run(&state.pool, move |c| service::perform(&deps, c, &actor, &id, Action::Unsuspend)).await?))
}

/// Terminate a service: its account is removed from the server and its slot freed.
#[utoipa::path(tag = "services", security(("bearer" = [])), params(("id" = String, Path, description = "Service id")),
    responses((status = 200, body = Service), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Already terminated or cancelled, or the panel refused", body = Problem, content_type = "application/problem+json"),
              (status = 503, description = "The control panel cannot be reached", body = Problem, content_type = "application/problem+json")))]
#[post("/admin/services/{id}/terminate")]
async fn terminate_service(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::ServersManage>,
    id: web::Path<ServiceId>,
) -> Result<web::Json<Service>, ApiError> {
    let (actor, id, deps) = (admin.actor(&req), id.into_inner().into_string(), state.deps.clone());
    Ok(web::Json(db::run(&state.pool, move |c| service::perform(&deps, c, &actor, &id, Action::Terminate)).await?))
}

/// A one-time link into the service's control panel, for staff.
#[utoipa::path(tag = "services", security(("bearer" = [])), params(("id" = String, Path, description = "Service id")),
    responses((status = 200, body = SsoLink), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not active, or the panel refused", body = Problem, content_type = "application/problem+json"),
              (status = 503, description = "The control panel cannot be reached", body = Problem, content_type = "application/problem+json")))]
#[post("/admin/services/{id}/sso")]
async fn admin_sso(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::ServersManage>,
    id: web::Path<ServiceId>,
) -> Result<web::Json<SsoLink>, ApiError> {
    let (actor, id, deps) = (admin.actor(&req), id.into_inner().into_string(), state.deps.clone());
    let url = db::run(&state.pool, move |c| service::sso(&deps, c, &actor, &id, None)).await?;
    Ok(web::Json(SsoLink { url }))
}
