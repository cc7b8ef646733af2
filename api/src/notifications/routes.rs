//! E-mail log, templates and unsubscribe.

use actix_web::{delete, get, put, web, HttpRequest, HttpResponse};

use keel_shared::automation::{Email, EmailDetail, EmailTemplate, UpdateTemplateRequest};
use keel_shared::ids::EmailId;
use keel_shared::{Page, PageQuery, Problem};
use serde::Deserialize;
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

use super::{outbox, service};
use crate::db;
use crate::error::ApiError;
use crate::http::auth::{can, Auth, BackOffice};
use crate::http::extract::{ValidJson, ValidQuery};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(my_emails)
        .service(list_emails)
        .service(get_email)
        .service(list_templates)
        .service(update_template)
        .service(reset_template)
        .service(unsubscribe);
}

/// E-mails sent to the signed-in user, newest first.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<Email>), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/me/emails")]
async fn my_emails(state: web::Data<AppState>, auth: Auth, page: ValidQuery<PageQuery>) -> Result<web::Json<Page<Email>>, ApiError> {
    let (user, page) = (auth.user_id().to_string(), page.0);
    let rows = db::run(&state.pool, move |c| outbox::list(c, Some(&user), page)).await?;
    Ok(web::Json(rows.map(|e| e.to_dto())))
}

/// Every e-mail, newest first.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), params(PageQuery),
    responses((status = 200, body = Page<Email>), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/emails")]
async fn list_emails(
    state: web::Data<AppState>,
    _: BackOffice<can::EmailsRead>,
    page: ValidQuery<PageQuery>,
) -> Result<web::Json<Page<Email>>, ApiError> {
    let page = page.0;
    let rows = db::run(&state.pool, move |c| outbox::list(c, None, page)).await?;
    Ok(web::Json(rows.map(|e| e.to_dto())))
}

/// One e-mail with its bodies.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), params(("id" = String, Path, description = "E-mail id")),
    responses((status = 200, body = EmailDetail), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/emails/{id}")]
async fn get_email(
    state: web::Data<AppState>,
    _: BackOffice<can::EmailsRead>,
    id: web::Path<EmailId>,
) -> Result<web::Json<EmailDetail>, ApiError> {
    let id = id.into_inner();
    Ok(web::Json(db::run(&state.pool, move |c| outbox::find(c, &id)).await?.to_detail()))
}

/// Every template Keel sends, as shipped or as edited.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), responses((status = 200, body = Vec<EmailTemplate>), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/email-templates")]
async fn list_templates(state: web::Data<AppState>, _: BackOffice<can::EmailsManage>) -> Result<web::Json<Vec<EmailTemplate>>, ApiError> {
    Ok(web::Json(db::run(&state.pool, outbox::all_templates).await?))
}

/// Replace a template's subject and bodies (minijinja; checked before saving).
#[utoipa::path(tag = "notifications", security(("bearer" = [])), params(("key" = String, Path, description = "Template key")), request_body = UpdateTemplateRequest,
    responses((status = 200, body = EmailTemplate), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/admin/email-templates/{key}")]
async fn update_template(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::EmailsManage>,
    key: web::Path<String>,
    body: ValidJson<UpdateTemplateRequest>,
) -> Result<web::Json<EmailTemplate>, ApiError> {
    let (now, key, body, actor) = (state.clock.now(), key.into_inner(), body.0, admin.actor(&req));
    Ok(web::Json(db::run(&state.pool, move |c| service::update_template(c, now, &actor, &key, &body)).await?))
}

/// Go back to the shipped template.
#[utoipa::path(tag = "notifications", security(("bearer" = [])), params(("key" = String, Path, description = "Template key")),
    responses((status = 200, body = EmailTemplate), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/admin/email-templates/{key}")]
async fn reset_template(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::EmailsManage>,
    key: web::Path<String>,
) -> Result<web::Json<EmailTemplate>, ApiError> {
    let (now, key, actor) = (state.clock.now(), key.into_inner(), admin.actor(&req));
    Ok(web::Json(db::run(&state.pool, move |c| service::reset_template(c, now, &actor, &key)).await?))
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnsubscribeQuery {
    /// The address to unsubscribe.
    #[validate(length(min = 3, max = 254))]
    pub email: String,
    /// The token from the e-mail's link.
    #[validate(length(min = 64, max = 64))]
    pub token: String,
}

/// Stop marketing e-mail to an address (the link in every marketing e-mail).
#[utoipa::path(tag = "notifications", params(UnsubscribeQuery),
    responses((status = 200, description = "A confirmation page", content_type = "text/html"), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[get("/email/unsubscribe")]
async fn unsubscribe(state: web::Data<AppState>, q: ValidQuery<UnsubscribeQuery>) -> Result<HttpResponse, ApiError> {
    let (now, key, q) = (state.clock.now(), state.unsubscribe_key(), q.0);
    let email = q.email.clone();
    db::run(&state.pool, move |c| outbox::unsubscribe(c, now, &key, &q.email, &q.token)).await?;
    Ok(HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!(
        "<!doctype html><title>Unsubscribed</title><body style=\"font-family:system-ui;max-width:480px;margin:64px auto\">\
<h1>You are unsubscribed</h1><p>{} will no longer receive marketing e-mail. Account and billing e-mails still arrive.</p></body>",
        minijinja::HtmlEscape(&email)
    )))
}
