use std::sync::Arc;

use actix_web::http::header::{self, CacheControl, CacheDirective, EntityTag, IfNoneMatch};
use actix_web::{get, web, HttpMessage, HttpRequest, HttpResponse};
use keel_shared::catalog::Product;
use sha2::Digest;
use utoipa_actix_web::service_config::ServiceConfig;

use super::service;
use crate::db::{self, cache::CachedBody};
use crate::error::ApiError;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_products);
}

/// Products for sale, in storefront order, with their prices. Answers carry an `ETag`; send it
/// back in `If-None-Match` to get 304 while the catalog is unchanged.
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
    let caches = state.pool.caches().clone();
    let list = match caches.catalog() {
        Some(list) => list,
        None => {
            let generation = caches.generation();
            let products = db::run(&state.pool, service::list_active).await?;
            let list = Arc::new(cached_body(&products)?);
            caches.remember_catalog(generation, list.clone());
            list
        }
    };
    let etag = EntityTag::new_weak(list.etag.clone());
    let unchanged = match req.get_header::<IfNoneMatch>() {
        Some(IfNoneMatch::Any) => true,
        Some(IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(&etag)),
        None => false,
    };
    let mut res = if unchanged { HttpResponse::NotModified() } else { HttpResponse::Ok() };
    res.insert_header(header::ETag(etag)).insert_header(CacheControl(vec![CacheDirective::NoCache]));
    if unchanged {
        return Ok(res.finish());
    }
    Ok(res.content_type("application/json").body(list.body.clone()))
}

fn cached_body(products: &[Product]) -> Result<CachedBody, ApiError> {
    let body = serde_json::to_vec(products).map_err(ApiError::internal)?;
    let etag = hex::encode(&sha2::Sha256::digest(&body)[..12]);
    Ok(CachedBody { body: body.into(), etag })
}
