//! Admin routes for the job queue and the scheduler.

use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};

use keel_shared::automation::{Job, JobFilter, ScheduledTask, UpdateTaskRequest};
use keel_shared::ids::JobId;
use keel_shared::{Page, PageQuery, Problem};
use utoipa_actix_web::service_config::ServiceConfig;

use super::{queue, scheduler, service};
use crate::db;
use crate::error::ApiError;
use crate::http::auth::{can, BackOffice};
use crate::http::extract::{ValidJson, ValidQuery};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_jobs).service(retry_job).service(delete_job).service(list_tasks).service(update_task);
}

/// Jobs, newest first, filtered by state and kind.
#[utoipa::path(tag = "automation", security(("bearer" = [])), params(JobFilter, PageQuery),
    responses((status = 200, body = Page<Job>), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/jobs")]
async fn list_jobs(
    state: web::Data<AppState>,
    _: BackOffice<can::AutomationManage>,
    filter: ValidQuery<JobFilter>,
) -> Result<web::Json<Page<Job>>, ApiError> {
    let filter = filter.0;
    let page = db::run(&state.pool, move |c| queue::list(c, &filter)).await?;
    Ok(web::Json(page.map(|j| j.to_dto())))
}

/// Run a failed or dead job again now, with fresh attempts.
#[utoipa::path(tag = "automation", security(("bearer" = [])), params(("id" = String, Path, description = "Job id")),
    responses((status = 200, body = Job), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not failed or dead", body = Problem, content_type = "application/problem+json")))]
#[post("/admin/jobs/{id}/retry")]
async fn retry_job(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::AutomationManage>,
    id: web::Path<JobId>,
) -> Result<web::Json<Job>, ApiError> {
    let (now, id, actor) = (state.clock.now(), id.into_inner(), admin.actor(&req));
    let job = db::run(&state.pool, move |c| service::retry_job(c, now, &actor, &id)).await?;
    Ok(web::Json(job.to_dto()))
}

/// Delete a job that is not running.
#[utoipa::path(tag = "automation", security(("bearer" = [])), params(("id" = String, Path, description = "Job id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Running", body = Problem, content_type = "application/problem+json")))]
#[delete("/admin/jobs/{id}")]
async fn delete_job(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::AutomationManage>,
    id: web::Path<JobId>,
) -> Result<HttpResponse, ApiError> {
    let (now, id, actor) = (state.clock.now(), id.into_inner(), admin.actor(&req));
    db::run(&state.pool, move |c| service::delete_job(c, now, &actor, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Scheduled tasks with their last and next run.
#[utoipa::path(tag = "automation", security(("bearer" = [])), responses((status = 200, body = Vec<ScheduledTask>), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/tasks")]
async fn list_tasks(state: web::Data<AppState>, _: BackOffice<can::AutomationManage>) -> Result<web::Json<Vec<ScheduledTask>>, ApiError> {
    let now = state.clock.now();
    let jobs = state.jobs.clone();
    Ok(web::Json(db::run(&state.pool, move |c| scheduler::list(c, now, jobs.tasks())).await?))
}

/// Change a task's schedule or switch it off.
#[utoipa::path(tag = "automation", security(("bearer" = [])), params(("name" = String, Path, description = "Task name")), request_body = UpdateTaskRequest,
    responses((status = 200, body = ScheduledTask), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/admin/tasks/{name}")]
async fn update_task(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::AutomationManage>,
    name: web::Path<String>,
    body: ValidJson<UpdateTaskRequest>,
) -> Result<web::Json<ScheduledTask>, ApiError> {
    let (now, name, actor, body) = (state.clock.now(), name.into_inner(), admin.actor(&req), body.0);
    let jobs = state.jobs.clone();
    Ok(web::Json(db::run(&state.pool, move |c| service::update_task(c, now, &actor, jobs.tasks(), &name, &body)).await?))
}
