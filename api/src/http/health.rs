use actix_web::{get, web, HttpResponse};
use diesel::connection::SimpleConnection;
use serde::Serialize;
use utoipa::ToSchema;

use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` when healthy.
    pub status: &'static str,
    /// The database backend in use, on /readyz.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
}

/// Liveness: the process answers.
#[utoipa::path(tag = "health", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok", database: None })
}

/// Readiness: the database answers a query.
#[utoipa::path(tag = "health", responses((status = 200, body = Health), (status = 503, body = keel_shared::Problem, content_type = "application/problem+json")))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let backend = db::run(&state.pool, |c| {
        c.batch_execute("SELECT 1").map_err(|e| ApiError::Unavailable(format!("database: {e}")))?;
        Ok(c.backend().name())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Health { status: "ok", database: Some(backend) }))
}
