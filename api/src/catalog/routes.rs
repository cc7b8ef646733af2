use std::sync::Arc;

use actix_web::http::header::{self, CacheControl, CacheDirective, EntityTag, IfNoneMatch};
use actix_web::{delete, get, post, put, web, HttpMessage, HttpRequest, HttpResponse};
use keel_shared::catalog::{AddonInput, AdminAddon, AdminGroup, AdminProduct, Catalog, GroupInput, Product, ProductInput};
use keel_shared::commerce::{CommerceSettings, CurrencyInput};
use keel_shared::ids::{AddonId, GroupId, ProductId};
use keel_shared::money::CurrencyInfo;
use keel_shared::{Currency, Problem};
use utoipa_actix_web::service_config::ServiceConfig;

use super::service;
use crate::db::{self, cache::CachedBody, cache::CachedCatalog};
use crate::error::ApiError;
use crate::http::auth::{can, BackOffice};
use crate::http::extract::ValidJson;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_catalog)
        .service(list_products)
        .service(admin_list_products)
        .service(admin_create_product)
        .service(admin_get_product)
        .service(admin_update_product)
        .service(admin_list_groups)
        .service(admin_create_group)
        .service(admin_update_group)
        .service(admin_delete_group)
        .service(admin_list_addons)
        .service(admin_create_addon)
        .service(admin_update_addon)
        .service(admin_list_currencies)
        .service(admin_put_currency)
        .service(admin_delete_currency)
        .service(admin_get_settings)
        .service(admin_put_settings);
}

/// The public catalog from memory, loading it when a change emptied the cache.
pub async fn cached(state: &AppState) -> Result<Arc<CachedCatalog>, ApiError> {
    let caches = state.pool.caches().clone();
    if let Some(c) = caches.catalog() {
        return Ok(c);
    }
    let generation = caches.generation();
    let snapshot = Arc::new(db::run(&state.pool, service::snapshot).await?);
    caches.remember_catalog(generation, snapshot.clone());
    Ok(snapshot)
}

/// A cached body with its ETag, or 304 when the client holds it.
fn conditional(req: &HttpRequest, cached: &CachedBody) -> HttpResponse {
    let etag = EntityTag::new_weak(cached.etag.clone());
    let unchanged = match req.get_header::<IfNoneMatch>() {
        Some(IfNoneMatch::Any) => true,
        Some(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(&etag)),
        None => false,
    };
    let mut res = if unchanged { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header(header::ETag(etag)).insert_header(CacheControl(vec![CacheDirective::NoCache]));
    if unchanged {
        return res.finish();
    }
    res.content_type("application/json").body(cached.body.clone())
}

/// Everything the storefront shows and prices: groups, products for sale with their prices,
/// configurable options and add-ons, currencies and rates, and whether prices include tax.
/// Answers carry an `ETag`; send it back in `If-None-Match` to get 304 while nothing changed.
#[utoipa::path(
    tag = "catalog",
    params(("If-None-Match" = Option<String>, Header, description = "The ETag of a catalog you hold")),
    responses(
        (status = 200, body = Catalog, headers(("ETag" = String, description = "Changes whenever the catalog does"))),
        (status = 304, description = "Not modified: the catalog is the one whose ETag was sent in If-None-Match"),
    )
)]
#[get("/catalog")]
async fn get_catalog(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(conditional(&req, &cached(&state).await?.catalog))
}

/// Products listed in the storefront, in storefront order, with their prices (hidden products are
/// left out; see `GET /catalog` for options and add-ons). Answers carry an `ETag`.
#[utoipa::path(
    tag = "catalog",
    params(("If-None-Match" = Option<String>, Header, description = "The ETag of a list you hold")),
    responses(
        (status = 200, body = Vec<Product>, headers(("ETag" = String, description = "Changes whenever the catalog does"))),
        (status = 304, description = "Not modified: the list is the one whose ETag was sent in If-None-Match"),
    )
)]
#[get("/products")]
async fn list_products(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    Ok(conditional(&req, &cached(&state).await?.products))
}

/// Every product, retired ones included, with options (hidden ones too) and add-ons.
#[utoipa::path(tag = "catalog", security(("bearer" = [])),
    responses((status = 200, body = Vec<AdminProduct>), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/catalog/products")]
async fn admin_list_products(
    state: web::Data<AppState>,
    _: BackOffice<can::CatalogManage>,
) -> Result<web::Json<Vec<AdminProduct>>, ApiError> {
    Ok(web::Json(db::run(&state.pool, service::list_products).await?))
}

/// Create a product with its prices, options and add-ons.
#[utoipa::path(tag = "catalog", security(("bearer" = [])), request_body = ProductInput,
    responses((status = 201, body = AdminProduct), (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/admin/catalog/products")]
async fn admin_create_product(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::CatalogManage>,
    body: ValidJson<ProductInput>,
) -> Result<HttpResponse, ApiError> {
    let (now, actor) = (state.clock.now(), admin.actor(&req));
    let created = db::run(&state.pool, move |c| service::create_product(c, now, &actor, &body.0)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// A product as the back office edits it.
#[utoipa::path(tag = "catalog", security(("bearer" = [])), params(("id" = String, Path, description = "Product id")),
    responses((status = 200, body = AdminProduct), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/catalog/products/{id}")]
async fn admin_get_product(
    state: web::Data<AppState>,
    _: BackOffice<can::CatalogManage>,
    id: web::Path<ProductId>,
) -> Result<web::Json<AdminProduct>, ApiError> {
    let id = id.into_inner();
    Ok(web::Json(db::run(&state.pool, move |c| service::get_product(c, &id)).await?))
}

/// Replace a product: its fields, prices, add-ons and options. Options and values sent with
/// their `id` are kept (carts holding them stay valid); those left out are removed.
#[utoipa::path(tag = "catalog", security(("bearer" = [])), params(("id" = String, Path, description = "Product id")), request_body = ProductInput,
    responses((status = 200, body = AdminProduct), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/admin/catalog/products/{id}")]
async fn admin_update_product(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::CatalogManage>,
    id: web::Path<ProductId>,
    body: ValidJson<ProductInput>,
) -> Result<web::Json<AdminProduct>, ApiError> {
    let (now, actor, id) = (state.clock.now(), admin.actor(&req), id.into_inner());
    Ok(web::Json(db::run(&state.pool, move |c| service::update_product(c, now, &actor, &id, &body.0)).await?))
}

/// Product groups, hidden ones included.
#[utoipa::path(tag = "catalog", security(("bearer" = [])),
    responses((status = 200, body = Vec<AdminGroup>), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/catalog/groups")]
async fn admin_list_groups(state: web::Data<AppState>, _: BackOffice<can::CatalogManage>) -> Result<web::Json<Vec<AdminGroup>>, ApiError> {
    Ok(web::Json(db::run(&state.pool, service::list_groups).await?))
}

/// Create a product group.
#[utoipa::path(tag = "catalog", security(("bearer" = [])), request_body = GroupInput,
    responses((status = 201, body = AdminGroup), (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/admin/catalog/groups")]
async fn admin_create_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::CatalogManage>,
    body: ValidJson<GroupInput>,
) -> Result<HttpResponse, ApiError> {
    let (now, actor) = (state.clock.now(), admin.actor(&req));
    let created = db::run(&state.pool, move |c| service::save_group(c, now, &actor, None, &body.0)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Replace a product group.
#[utoipa::path(tag = "catalog", security(("bearer" = [])), params(("id" = String, Path, description = "Group id")), request_body = GroupInput,
    responses((status = 200, body = AdminGroup), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/admin/catalog/groups/{id}")]
async fn admin_update_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::CatalogManage>,
    id: web::Path<GroupId>,
    body: ValidJson<GroupInput>,
) -> Result<web::Json<AdminGroup>, ApiError> {
    let (now, actor, id) = (state.clock.now(), admin.actor(&req), id.into_inner());
    Ok(web::Json(db::run(&state.pool, move |c| service::save_group(c, now, &actor, Some(&id), &body.0)).await?))
}

/// Delete a product group; its products stay, ungrouped.
#[utoipa::path(tag = "catalog", security(("bearer" = [])), params(("id" = String, Path, description = "Group id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[delete("/admin/catalog/groups/{id}")]
async fn admin_delete_group(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::CatalogManage>,
    id: web::Path<GroupId>,
) -> Result<HttpResponse, ApiError> {
    let (now, actor, id) = (state.clock.now(), admin.actor(&req), id.into_inner());
    db::run(&state.pool, move |c| service::delete_group(c, now, &actor, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Add-ons, retired ones included.
#[utoipa::path(tag = "catalog", security(("bearer" = [])),
    responses((status = 200, body = Vec<AdminAddon>), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/catalog/addons")]
async fn admin_list_addons(state: web::Data<AppState>, _: BackOffice<can::CatalogManage>) -> Result<web::Json<Vec<AdminAddon>>, ApiError> {
    Ok(web::Json(db::run(&state.pool, service::list_addons).await?))
}

/// Create an add-on (attach it to products in their `addon_ids`).
#[utoipa::path(tag = "catalog", security(("bearer" = [])), request_body = AddonInput,
    responses((status = 201, body = AdminAddon), (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/admin/catalog/addons")]
async fn admin_create_addon(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::CatalogManage>,
    body: ValidJson<AddonInput>,
) -> Result<HttpResponse, ApiError> {
    let (now, actor) = (state.clock.now(), admin.actor(&req));
    let created = db::run(&state.pool, move |c| service::save_addon(c, now, &actor, None, &body.0)).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Replace an add-on and its prices.
#[utoipa::path(tag = "catalog", security(("bearer" = [])), params(("id" = String, Path, description = "Add-on id")), request_body = AddonInput,
    responses((status = 200, body = AdminAddon), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The slug is taken", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/admin/catalog/addons/{id}")]
async fn admin_update_addon(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::CatalogManage>,
    id: web::Path<AddonId>,
    body: ValidJson<AddonInput>,
) -> Result<web::Json<AdminAddon>, ApiError> {
    let (now, actor, id) = (state.clock.now(), admin.actor(&req), id.into_inner());
    Ok(web::Json(db::run(&state.pool, move |c| service::save_addon(c, now, &actor, Some(&id), &body.0)).await?))
}

/// The currencies the shop sells in, with their rates.
#[utoipa::path(tag = "catalog", security(("bearer" = [])),
    responses((status = 200, body = Vec<CurrencyInfo>), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/catalog/currencies")]
async fn admin_list_currencies(
    state: web::Data<AppState>,
    _: BackOffice<can::CatalogManage>,
) -> Result<web::Json<Vec<CurrencyInfo>>, ApiError> {
    Ok(web::Json(db::run(&state.pool, service::currency_infos).await?))
}

/// Sell in a currency, or change its rate or make it the default. Answers every currency.
#[utoipa::path(tag = "catalog", security(("bearer" = [])), params(("code" = String, Path, description = "ISO-4217 code")), request_body = CurrencyInput,
    responses((status = 200, body = Vec<CurrencyInfo>), (status = 404, description = "Not an ISO-4217 code Keel knows", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/admin/catalog/currencies/{code}")]
async fn admin_put_currency(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::CatalogManage>,
    code: web::Path<Currency>,
    body: ValidJson<CurrencyInput>,
) -> Result<web::Json<Vec<CurrencyInfo>>, ApiError> {
    let (now, actor, code) = (state.clock.now(), admin.actor(&req), code.into_inner());
    Ok(web::Json(db::run(&state.pool, move |c| service::put_currency(c, now, &actor, code, &body.0)).await?))
}

/// Stop selling in a currency (not the default one).
#[utoipa::path(tag = "catalog", security(("bearer" = [])), params(("code" = String, Path, description = "ISO-4217 code")),
    responses((status = 200, body = Vec<CurrencyInfo>), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The default currency", body = Problem, content_type = "application/problem+json")))]
#[delete("/admin/catalog/currencies/{code}")]
async fn admin_delete_currency(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::CatalogManage>,
    code: web::Path<Currency>,
) -> Result<web::Json<Vec<CurrencyInfo>>, ApiError> {
    let (now, actor, code) = (state.clock.now(), admin.actor(&req), code.into_inner());
    Ok(web::Json(db::run(&state.pool, move |c| service::delete_currency(c, now, &actor, code)).await?))
}

/// The shop's commerce settings (tax-inclusive prices, currency conversion, home country).
#[utoipa::path(tag = "catalog", security(("bearer" = [])),
    responses((status = 200, body = CommerceSettings), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/commerce/settings")]
async fn admin_get_settings(
    state: web::Data<AppState>,
    _: BackOffice<can::CatalogManage>,
) -> Result<web::Json<CommerceSettings>, ApiError> {
    Ok(web::Json(db::run(&state.pool, service::settings).await?))
}

/// Change the shop's commerce settings.
#[utoipa::path(tag = "catalog", security(("bearer" = [])), request_body = CommerceSettings,
    responses((status = 200, body = CommerceSettings), (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/admin/commerce/settings")]
async fn admin_put_settings(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::CatalogManage>,
    body: ValidJson<CommerceSettings>,
) -> Result<web::Json<CommerceSettings>, ApiError> {
    let (now, actor) = (state.clock.now(), admin.actor(&req));
    Ok(web::Json(db::run(&state.pool, move |c| service::update_settings(c, now, &actor, &body.0)).await?))
}
