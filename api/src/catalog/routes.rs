use actix_web::{get, web};
use keel_shared::catalog::Product;
use utoipa_actix_web::service_config::ServiceConfig;

use super::service;
use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_products);
}

/// Products for sale, in storefront order, with their prices.
#[utoipa::path(tag = "catalog", responses((status = 200, body = Vec<Product>)))]
#[get("/products")]
async fn list_products(state: web::Data<AppState>) -> Result<web::Json<Vec<Product>>, ApiError> {
    Ok(web::Json(db::run(&state.pool, service::list_active).await?))
}
