//! The back office (`/api/v1/admin`).

use keel_shared::access::{CreateStaffRequest, SecuritySettings, StaffMember, UpdateStaffRequest};
use keel_shared::auth::{AuditEntry, AuditFilter, ClientFilter, ClientSummary, TokenResponse};
use keel_shared::automation::Email;
use keel_shared::automation::{EmailDetail, EmailTemplate, Job, JobFilter, ScheduledTask, UpdateTaskRequest, UpdateTemplateRequest};
use keel_shared::{Page, PageQuery};

use super::{authed, get_authed, query, to_json, ClientError, Method};
use crate::session::SessionCtx;

pub async fn clients(session: SessionCtx, filter: ClientFilter) -> Result<Page<ClientSummary>, ClientError> {
    get_authed(session, &query("/admin/clients", &filter)).await
}

pub async fn jobs(session: SessionCtx, filter: JobFilter) -> Result<Page<Job>, ClientError> {
    get_authed(session, &query("/admin/jobs", &filter)).await
}

pub async fn retry_job(session: SessionCtx, id: &str) -> Result<Job, ClientError> {
    authed(session, Method::Post, &format!("/admin/jobs/{id}/retry"), None).await
}

pub async fn delete_job(session: SessionCtx, id: &str) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Delete, &format!("/admin/jobs/{id}"), None).await.map(|_| ())
}

pub async fn tasks(session: SessionCtx) -> Result<Vec<ScheduledTask>, ClientError> {
    get_authed(session, "/admin/tasks").await
}

pub async fn update_task(session: SessionCtx, name: &str, body: UpdateTaskRequest) -> Result<ScheduledTask, ClientError> {
    authed(session, Method::Put, &format!("/admin/tasks/{name}"), to_json(&body)).await
}

pub async fn emails(session: SessionCtx, page: PageQuery) -> Result<Page<Email>, ClientError> {
    get_authed(session, &query("/admin/emails", &page)).await
}

pub async fn email(session: SessionCtx, id: &str) -> Result<EmailDetail, ClientError> {
    get_authed(session, &format!("/admin/emails/{id}")).await
}

pub async fn templates(session: SessionCtx) -> Result<Vec<EmailTemplate>, ClientError> {
    get_authed(session, "/admin/email-templates").await
}

pub async fn save_template(session: SessionCtx, key: &str, body: UpdateTemplateRequest) -> Result<EmailTemplate, ClientError> {
    authed(session, Method::Put, &format!("/admin/email-templates/{key}"), to_json(&body)).await
}

pub async fn reset_template(session: SessionCtx, key: &str) -> Result<EmailTemplate, ClientError> {
    authed(session, Method::Delete, &format!("/admin/email-templates/{key}"), None).await
}

pub async fn audit(session: SessionCtx, filter: AuditFilter) -> Result<Page<AuditEntry>, ClientError> {
    get_authed(session, &query("/admin/audit", &filter)).await
}

pub async fn deletion_requests(session: SessionCtx) -> Result<Vec<ClientSummary>, ClientError> {
    get_authed(session, "/admin/deletion-requests").await
}

pub async fn anonymise(session: SessionCtx, id: &str) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Post, &format!("/admin/clients/{id}/anonymise"), None).await.map(|_| ())
}

pub async fn impersonate(session: SessionCtx, id: &str) -> Result<TokenResponse, ClientError> {
    authed(session, Method::Post, &format!("/admin/clients/{id}/impersonate"), None).await
}

pub async fn staff(session: SessionCtx) -> Result<Vec<StaffMember>, ClientError> {
    get_authed(session, "/admin/staff").await
}

pub async fn create_staff(session: SessionCtx, body: CreateStaffRequest) -> Result<StaffMember, ClientError> {
    authed(session, Method::Post, "/admin/staff", to_json(&body)).await
}

pub async fn update_staff(session: SessionCtx, id: &str, body: UpdateStaffRequest) -> Result<StaffMember, ClientError> {
    authed(session, Method::Put, &format!("/admin/staff/{id}"), to_json(&body)).await
}

pub async fn security_settings(session: SessionCtx) -> Result<SecuritySettings, ClientError> {
    get_authed(session, "/admin/settings/security").await
}

pub async fn save_security_settings(session: SessionCtx, body: SecuritySettings) -> Result<SecuritySettings, ClientError> {
    authed(session, Method::Put, "/admin/settings/security", to_json(&body)).await
}

pub async fn orders(
    session: SessionCtx,
    filter: keel_shared::orders::OrderFilter,
) -> Result<Page<keel_shared::orders::OrderSummary>, ClientError> {
    get_authed(session, &query("/admin/orders", &filter)).await
}

pub async fn order(session: SessionCtx, id: &str) -> Result<keel_shared::orders::Order, ClientError> {
    get_authed(session, &format!("/admin/orders/{}", super::percent_encode(id))).await
}

/// `POST /admin/orders/{id}/{action}` (`accept`, `fraud`; `cancel` with a reason).
pub async fn decide_order(
    session: SessionCtx,
    id: &str,
    action: &str,
    reason: Option<String>,
) -> Result<keel_shared::orders::Order, ClientError> {
    let body = reason.and_then(|reason| to_json(&keel_shared::orders::CancelOrderRequest { reason }));
    authed(session, Method::Post, &format!("/admin/orders/{}/{action}", super::percent_encode(id)), body).await
}
