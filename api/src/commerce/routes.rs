use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use keel_shared::cart::{Cart, Quote, QuoteRequest};
use keel_shared::commerce::{PromoCode, PromoCodeInput, TaxRule, TaxRuleInput};
use keel_shared::ids::{OrderId, PromoId, TaxRuleId};
use keel_shared::orders::{CancelOrderRequest, Order, OrderFilter, OrderSummary};
use keel_shared::Problem;
use keel_shared::{Page, PageQuery};
use utoipa_actix_web::service_config::ServiceConfig;

use super::service::{self, Buyer, Checkout, Decision};
use crate::db;
use crate::error::ApiError;
use crate::http::auth::{area, can, AccountHeader, Auth, BackOffice, ForAccount, MaybeAuth};
use crate::http::extract::{ValidJson, ValidQuery};
use crate::identity::service::ClientMeta;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(quote)
        .service(get_cart)
        .service(put_cart)
        .service(merge_cart)
        .service(list_tax_rules)
        .service(create_tax_rule)
        .service(update_tax_rule)
        .service(delete_tax_rule)
        .service(list_promos)
        .service(create_promo)
        .service(update_promo)
        .service(checkout)
        .service(my_orders)
        .service(my_order)
        .service(admin_orders)
        .service(admin_order)
        .service(accept_order)
        .service(cancel_order)
        .service(mark_fraud);
}

/// Place an order for the cart: priced again here (never from a client's total), in one
/// transaction with the promo use, stock, a gapless `ORD-` number, its items with prices frozen,
/// a pending service per unit and the confirmation e-mail. Send an `Idempotency-Key`: retrying
/// with the same key and cart answers the same order (200); the same key with another cart is
/// 409. Needs a confirmed e-mail address (403 `email_unverified`); a team member needs the
/// billing area of the account.
#[utoipa::path(tag = "commerce", security(("bearer" = [])), request_body = QuoteRequest,
    params(AccountHeader, ("Idempotency-Key" = String, Header, description = "A unique key per order (1–100 visible ASCII characters)")),
    responses((status = 201, body = Order), (status = 200, description = "The order this key already placed", body = Order),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "E-mail not confirmed (`email_unverified`), or a team member without billing access", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not a member of that account", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The Idempotency-Key was used for another cart", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "The cart cannot be ordered: the errors name each field", body = Problem, content_type = "application/problem+json")))]
#[post("/checkout")]
async fn checkout(
    req: HttpRequest,
    state: web::Data<AppState>,
    access: ForAccount<area::Billing>,
    body: ValidJson<QuoteRequest>,
) -> Result<HttpResponse, ApiError> {
    let key = crate::idempotency::required(&req, "send a unique key per order (a UUID), the same one when you retry")?;
    let catalog = crate::catalog::routes::cached(&state).await?;
    let who = Checkout {
        actor: access.auth.actor(&req),
        account_id: access.account_id.clone(),
        placed_by: access.auth.user_id().to_string(),
        ip: ClientMeta::of(&req).ip,
        idempotency_key: key,
    };
    let (now, mail, deps, body) = (state.clock.now(), state.mail(), state.deps.clone(), body.0);
    let account = who.account_id.clone();
    let buyer = db::run(&state.pool, move |c| Buyer::of_account(c, &account)).await?;
    let buyer = service::confirm_vat(&state.pool, &*deps.vat, &catalog.settings, now, buyer).await?;
    let (order, created) = db::run(&state.pool, move |c| {
        service::checkout(c, now, &service::Env { deps: &deps, mail: &mail, catalog: &catalog }, &who, &body, &buyer)
    })
    .await?;
    Ok(if created { HttpResponse::Created().json(order) } else { HttpResponse::Ok().json(order) })
}

/// Your orders (or, with `X-Keel-Account`, an account's you have billing access to), newest
/// first; filter by status or number.
#[utoipa::path(tag = "commerce", security(("bearer" = [])), params(OrderFilter, PageQuery, AccountHeader),
    responses((status = 200, body = Page<OrderSummary>), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/orders")]
async fn my_orders(
    state: web::Data<AppState>,
    access: ForAccount<area::Billing>,
    filter: ValidQuery<OrderFilter>,
) -> Result<web::Json<Page<OrderSummary>>, ApiError> {
    let (account, mut filter) = (access.account_id, filter.0);
    filter.account_id = None;
    Ok(web::Json(db::run(&state.pool, move |c| service::list_orders(c, &filter, Some(&account))).await?))
}

/// One of your orders with its lines, taxes and services.
#[utoipa::path(tag = "commerce", security(("bearer" = [])), params(("id" = String, Path, description = "Order id"), AccountHeader),
    responses((status = 200, body = Order), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/orders/{id}")]
async fn my_order(
    state: web::Data<AppState>,
    access: ForAccount<area::Billing>,
    id: web::Path<OrderId>,
) -> Result<web::Json<Order>, ApiError> {
    let (account, id) = (access.account_id, id.into_inner());
    Ok(web::Json(db::run(&state.pool, move |c| service::get_order(c, &id, Some(&account))).await?))
}

/// Every order, newest first; filter by status, client or number.
#[utoipa::path(tag = "commerce", security(("bearer" = [])), params(OrderFilter, PageQuery),
    responses((status = 200, body = Page<OrderSummary>), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/orders")]
async fn admin_orders(
    state: web::Data<AppState>,
    _: BackOffice<can::BillingRead>,
    filter: ValidQuery<OrderFilter>,
) -> Result<web::Json<Page<OrderSummary>>, ApiError> {
    let filter = filter.0;
    Ok(web::Json(db::run(&state.pool, move |c| service::list_orders(c, &filter, None)).await?))
}

/// An order with its lines, taxes, services and why fraud screening held it.
#[utoipa::path(tag = "commerce", security(("bearer" = [])), params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = Order), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/orders/{id}")]
async fn admin_order(
    state: web::Data<AppState>,
    _: BackOffice<can::BillingRead>,
    id: web::Path<OrderId>,
) -> Result<web::Json<Order>, ApiError> {
    let id = id.into_inner();
    Ok(web::Json(db::run(&state.pool, move |c| service::get_order(c, &id, None)).await?))
}

async fn decide(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::BillingWrite>,
    id: OrderId,
    decision: Decision,
    reason: Option<String>,
) -> Result<web::Json<Order>, ApiError> {
    let (now, actor) = (state.clock.now(), admin.actor(&req));
    Ok(web::Json(db::run(&state.pool, move |c| service::decide(c, now, &actor, &id, decision, reason.as_deref())).await?))
}

/// Accept a pending or held order.
#[utoipa::path(tag = "commerce", security(("bearer" = [])), params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = Order), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not in a state that can be accepted", body = Problem, content_type = "application/problem+json")))]
#[post("/admin/orders/{id}/accept")]
async fn accept_order(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::BillingWrite>,
    id: web::Path<OrderId>,
) -> Result<web::Json<Order>, ApiError> {
    decide(req, state, admin, id.into_inner(), Decision::Accept, None).await
}

/// Cancel an order with a reason: its pending services are cancelled, stock and the promo use
/// given back.
#[utoipa::path(tag = "commerce", security(("bearer" = [])), params(("id" = String, Path, description = "Order id")), request_body = CancelOrderRequest,
    responses((status = 200, body = Order), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Already cancelled or marked as fraud", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/admin/orders/{id}/cancel")]
async fn cancel_order(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::BillingWrite>,
    id: web::Path<OrderId>,
    body: ValidJson<CancelOrderRequest>,
) -> Result<web::Json<Order>, ApiError> {
    decide(req, state, admin, id.into_inner(), Decision::Cancel, Some(body.0.reason.trim().to_string())).await
}

/// Mark a pending or held order as fraud (cancelled as well).
#[utoipa::path(tag = "commerce", security(("bearer" = [])), params(("id" = String, Path, description = "Order id")),
    responses((status = 200, body = Order), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not pending or held", body = Problem, content_type = "application/problem+json")))]
#[post("/admin/orders/{id}/fraud")]
async fn mark_fraud(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::BillingWrite>,
    id: web::Path<OrderId>,
) -> Result<web::Json<Order>, ApiError> {
    decide(req, state, admin, id.into_inner(), Decision::Fraud, None).await
}

/// Price a cart: every line with its options and add-ons, the promo codes' discounts, the taxes
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
    if account.is_none() && req.promo_codes.is_empty() && !(catalog.settings.check_vat_online && req.vat_id.is_some()) {
        // Pure computation against the cached catalog: no database.
        return Ok(web::Json(service::quote(None, now, &catalog, &req, &Buyer::default())?));
    }
    if !catalog.settings.check_vat_online {
        // One trip: the buyer and their promo codes.
        let q = db::run(&state.pool, move |c| {
            let buyer = match &account {
                Some(id) => Buyer::of_account(c, id)?,
                None => Buyer::default(),
            };
            service::quote(Some(c), now, &catalog, &req, &buyer)
        })
        .await?;
        return Ok(web::Json(q));
    }
    // VAT ids confirmed online: the buyer first, VIES (outside any transaction), then the quote.
    let buyer = match account {
        Some(id) => db::run(&state.pool, move |c| Buyer::of_account(c, &id)).await?,
        None => Buyer::guest(&req),
    };
    let buyer = service::confirm_vat(&state.pool, &*state.deps.vat, &catalog.settings, now, buyer).await?;
    Ok(web::Json(db::run(&state.pool, move |c| service::quote(Some(c), now, &catalog, &req, &buyer)).await?))
}

/// Your cart, kept on the server while you are signed in (empty when you have none). Prices are
/// not stored: price it with `POST /cart/quote`.
#[utoipa::path(tag = "commerce", security(("bearer" = [])),
    responses((status = 200, body = Cart), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/cart")]
async fn get_cart(state: web::Data<AppState>, auth: Auth) -> Result<web::Json<Cart>, ApiError> {
    let user = auth.user_id().to_string();
    Ok(web::Json(db::run(&state.pool, move |c| service::cart(c, &user)).await?))
}

/// Replace your cart (an empty `lines` empties it).
#[utoipa::path(tag = "commerce", security(("bearer" = [])), request_body = Cart,
    responses((status = 200, body = Cart), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/cart")]
async fn put_cart(state: web::Data<AppState>, auth: Auth, body: ValidJson<Cart>) -> Result<web::Json<Cart>, ApiError> {
    let (now, user) = (state.clock.now(), auth.user_id().to_string());
    Ok(web::Json(db::run(&state.pool, move |c| service::save_cart(c, now, &user, &body.0)).await?))
}

/// Add the cart you built as a guest to your cart, after signing in: its lines not already in
/// your cart (up to 50 lines), its promo codes, and its currency, country and VAT id where your
/// cart has none. Answers the merged cart.
#[utoipa::path(tag = "commerce", security(("bearer" = [])), request_body = Cart,
    responses((status = 200, body = Cart), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/cart/merge")]
async fn merge_cart(state: web::Data<AppState>, auth: Auth, body: ValidJson<Cart>) -> Result<web::Json<Cart>, ApiError> {
    let (now, user) = (state.clock.now(), auth.user_id().to_string());
    Ok(web::Json(db::run(&state.pool, move |c| service::merge_cart(c, now, &user, body.0)).await?))
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
