use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use keel_shared::cart::{Quote, QuoteRequest};
use keel_shared::commerce::{PromoCode, PromoCodeInput, TaxRule, TaxRuleInput};
use keel_shared::ids::{PromoId, TaxRuleId};
use keel_shared::Problem;
use utoipa_actix_web::service_config::ServiceConfig;

use super::service::{self, Buyer};
use crate::db;
use crate::error::ApiError;
use crate::http::auth::{can, BackOffice, MaybeAuth};
use crate::http::extract::ValidJson;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(quote)
        .service(list_tax_rules)
        .service(create_tax_rule)
        .service(update_tax_rule)
        .service(delete_tax_rule)
        .service(list_promos)
        .service(create_promo)
        .service(update_promo);
}

/// Price a cart: every line with its options and add-ons, the promo code's discount, the taxes
/// and the totals, computed by the same function the storefront runs. A signed-in client is
/// priced in their profile's currency with their billing address, tax id and exemption; a guest
/// sends `currency`, `country` (and `state`, `vat_id`). Every problem of the cart is answered at
/// once as field errors (retired or out-of-stock product, cycle not offered, option out of
/// range, add-on not available, missing domain, unknown, expired or inapplicable promo code,
/// currency mismatch).
#[utoipa::path(tag = "commerce", security((), ("bearer" = [])), request_body = QuoteRequest,
    responses((status = 200, body = Quote), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "The cart cannot be priced: the errors name each field", body = Problem, content_type = "application/problem+json")))]
#[post("/cart/quote")]
async fn quote(state: web::Data<AppState>, auth: MaybeAuth, body: ValidJson<QuoteRequest>) -> Result<web::Json<Quote>, ApiError> {
    let catalog = crate::catalog::routes::cached(&state).await?;
    let (now, req) = (state.clock.now(), body.0);
    let account = auth.0.map(|a| a.user_id().to_string());
    if account.is_none() && req.promo_code.is_none() {
        // Pure computation against the cached catalog: no database.
        return Ok(web::Json(service::quote(None, now, &catalog, &req, &Buyer::default())?));
    }
    let q = db::run(&state.pool, move |c| {
        let buyer = match &account {
            Some(id) => Buyer::of_account(c, id)?,
            None => Buyer::default(),
        };
        service::quote(Some(c), now, &catalog, &req, &buyer)
    })
    .await?;
    Ok(web::Json(q))
}

/// Tax rules by country and state.
#[utoipa::path(tag = "commerce", security(("bearer" = [])),
    responses((status = 200, body = Vec<TaxRule>), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/commerce/tax-rules")]
async fn list_tax_rules(state: web::Data<AppState>, _: BackOffice<can::CatalogManage>) -> Result<web::Json<Vec<TaxRule>>, ApiError> {
    Ok(web::Json(db::run(&state.pool, service::tax_rules).await?))
}

/// Add a tax rule.
#[utoipa::path(tag = "commerce", security(("bearer" = [])), request_body = TaxRuleInput,
    responses((status = 201, body = TaxRule), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/admin/commerce/tax-rules")]
async fn create_tax_rule(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::CatalogManage>,
    body: ValidJson<TaxRuleInput>,
) -> Result<HttpResponse, ApiError> {
    let (now, actor) = (state.clock.now(), admin.actor(&req));
    let created = db::run(&state.pool, move |c| service::save_tax_rule(c, now, &actor, None, &body.0)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Replace a tax rule.
#[utoipa::path(tag = "commerce", security(("bearer" = [])), params(("id" = String, Path, description = "Tax rule id")), request_body = TaxRuleInput,
    responses((status = 200, body = TaxRule), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/admin/commerce/tax-rules/{id}")]
async fn update_tax_rule(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::CatalogManage>,
    id: web::Path<TaxRuleId>,
    body: ValidJson<TaxRuleInput>,
) -> Result<web::Json<TaxRule>, ApiError> {
    let (now, actor, id) = (state.clock.now(), admin.actor(&req), id.into_inner());
    Ok(web::Json(db::run(&state.pool, move |c| service::save_tax_rule(c, now, &actor, Some(&id), &body.0)).await?))
}

/// Delete a tax rule.
#[utoipa::path(tag = "commerce", security(("bearer" = [])), params(("id" = String, Path, description = "Tax rule id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/admin/commerce/tax-rules/{id}")]
async fn delete_tax_rule(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::CatalogManage>,
    id: web::Path<TaxRuleId>,
) -> Result<HttpResponse, ApiError> {
    let (now, actor, id) = (state.clock.now(), admin.actor(&req), id.into_inner());
    db::run(&state.pool, move |c| service::delete_tax_rule(c, now, &actor, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Promo codes with their use counts.
#[utoipa::path(tag = "commerce", security(("bearer" = [])),
    responses((status = 200, body = Vec<PromoCode>), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/commerce/promo-codes")]
async fn list_promos(state: web::Data<AppState>, _: BackOffice<can::CatalogManage>) -> Result<web::Json<Vec<PromoCode>>, ApiError> {
    Ok(web::Json(db::run(&state.pool, service::list_promos).await?))
}

/// Create a promo code.
#[utoipa::path(tag = "commerce", security(("bearer" = [])), request_body = PromoCodeInput,
    responses((status = 201, body = PromoCode), (status = 409, description = "The code exists", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/admin/commerce/promo-codes")]
async fn create_promo(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::CatalogManage>,
    body: ValidJson<PromoCodeInput>,
) -> Result<HttpResponse, ApiError> {
    let (now, actor) = (state.clock.now(), admin.actor(&req));
    let created = db::run(&state.pool, move |c| service::save_promo(c, now, &actor, None, &body.0)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Replace a promo code's terms (switch it off with `active: false`); its use count stays.
#[utoipa::path(tag = "commerce", security(("bearer" = [])), params(("id" = String, Path, description = "Promo code id")), request_body = PromoCodeInput,
    responses((status = 200, body = PromoCode), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The code exists", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/admin/commerce/promo-codes/{id}")]
async fn update_promo(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::CatalogManage>,
    id: web::Path<PromoId>,
    body: ValidJson<PromoCodeInput>,
) -> Result<web::Json<PromoCode>, ApiError> {
    let (now, actor, id) = (state.clock.now(), admin.actor(&req), id.into_inner());
    Ok(web::Json(db::run(&state.pool, move |c| service::save_promo(c, now, &actor, Some(&id), &body.0)).await?))
}
