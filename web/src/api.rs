//! The typed API client. Every call goes through [`send`], which turns problem+json answers into
//! [`ClientError`]s the pages can show, and retries once after refreshing an expired access token.

use gloo_net::http::{Request, RequestBuilder, Response};
use keel_shared::auth::{Profile, CodeRequest, DisableTwoFactorRequest, MfaChallenge, MfaLoginRequest, RecoveryCodes, TwoFactorSetup, ApiKey, CreateApiKeyRequest, CreatedApiKey, AuditEntry, ChangePasswordRequest, ClientSummary, ForgotPasswordRequest, LoginRequest, Me, RegisterRequest, ResetPasswordRequest, SessionInfo, TokenRequest, TokenResponse};
use keel_shared::access::{AcceptInvitationRequest, CreateStaffRequest, InviteMemberRequest, Invitation, Membership, SecuritySettings, StaffMember, TeamMember, UpdateMemberRequest, UpdateStaffRequest};
use keel_shared::automation::{Email, EmailDetail, EmailTemplate, Job, JobState, ScheduledTask, UpdateTaskRequest, UpdateTemplateRequest};
use keel_shared::catalog::Product;
use keel_shared::{Page, Problem};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::session::SessionCtx;

const BASE: &str = "/api/v1";

/// Why a call failed, in the terms a page needs.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientError {
    /// Not signed in, or the session ended.
    Unauthorized(Problem),
    /// Signed in, but not allowed.
    Forbidden(Problem),
    NotFound(Problem),
    /// Any other problem+json answer (validation, conflict, server error).
    Problem(Problem),
    /// The server could not be reached or answered something unreadable.
    Network(String),
}

impl ClientError {
    pub fn message(&self) -> String {
        match self {
            ClientError::Unauthorized(p) | ClientError::Forbidden(p) | ClientError::NotFound(p) | ClientError::Problem(p) => {
                p.message().to_string()
            }
            ClientError::Network(e) => format!("Could not reach Keel ({e}). Check your connection and try again."),
        }
    }

    /// The message for one form field, when the server named it.
    pub fn field(&self, name: &str) -> Option<String> {
        match self {
            ClientError::Problem(p) => p.field(name).map(str::to_string),
            _ => None,
        }
    }
}

async fn decode<T: DeserializeOwned>(res: Response) -> Result<T, ClientError> {
    let status = res.status();
    if (200..300).contains(&status) {
        // 202 and 204 answers have no body: read it as JSON `null` (for `Option<()>`).
        let text = res.text().await.map_err(|e| ClientError::Network(e.to_string()))?;
        let text = if text.trim().is_empty() { "null" } else { text.as_str() };
        return serde_json::from_str(text).map_err(|e| ClientError::Network(format!("unreadable answer: {e}")));
    }
    let problem = match res.json::<Problem>().await {
        Ok(p) => p,
        Err(_) => Problem {
            kind: "about:blank".into(),
            title: format!("The server answered {status}"),
            status,
            detail: None,
            code: "http_error".into(),
            errors: Default::default(),
            request_id: None,
        },
    };
    Err(match status {
        401 => ClientError::Unauthorized(problem),
        403 => ClientError::Forbidden(problem),
        404 => ClientError::NotFound(problem),
        _ => ClientError::Problem(problem),
    })
}

async fn send<T: DeserializeOwned>(req: Result<Request, gloo_net::Error>) -> Result<T, ClientError> {
    let req = req.map_err(|e| ClientError::Network(e.to_string()))?;
    let res = req.send().await.map_err(|e| ClientError::Network(e.to_string()))?;
    decode(res).await
}

fn post_json<B: Serialize>(path: &str, body: &B) -> Result<Request, gloo_net::Error> {
    Request::post(&format!("{BASE}{path}")).json(body)
}

fn with_token(builder: RequestBuilder, token: &str) -> RequestBuilder {
    builder.header("Authorization", &format!("Bearer {token}"))
}

#[derive(Clone, Copy)]
enum Method {
    Get,
    Post,
    Put,
    Delete,
}

fn build(method: Method, url: &str, token: &str, acting: Option<&str>, body: Option<&serde_json::Value>) -> Result<Request, gloo_net::Error> {
    let b = match method {
        Method::Get => Request::get(url),
        Method::Post => Request::post(url),
        Method::Put => Request::put(url),
        Method::Delete => Request::delete(url),
    };
    let mut b = with_token(b, token);
    if let Some(account) = acting {
        b = b.header("X-Keel-Account", account);
    }
    match body {
        Some(v) => b.json(v),
        None => b.build(),
    }
}

/// A call as the signed-in user; refreshes the access token once if it has expired.
async fn authed<T: DeserializeOwned>(session: SessionCtx, method: Method, path: &str, body: Option<serde_json::Value>) -> Result<T, ClientError> {
    let url = format!("{BASE}{path}");
    let token = session.token().unwrap_or_default();
    let acting = session.acting_for();
    match send(build(method, &url, &token, acting.as_deref(), body.as_ref())).await {
        Err(ClientError::Unauthorized(p)) => {
            let Ok(fresh) = refresh().await else {
                session.clear();
                return Err(ClientError::Unauthorized(p));
            };
            let token = fresh.access_token.clone();
            session.set(fresh);
            send(build(method, &url, &token, acting.as_deref(), body.as_ref())).await
        }
        other => other,
    }
}

async fn get_authed<T: DeserializeOwned>(session: SessionCtx, path: &str) -> Result<T, ClientError> {
    authed(session, Method::Get, path, None).await
}

fn to_json<B: Serialize>(b: &B) -> Option<serde_json::Value> {
    serde_json::to_value(b).ok()
}

pub async fn products() -> Result<Vec<Product>, ClientError> {
    send(Request::get(&format!("{BASE}/products")).build()).await
}

pub async fn register(body: &RegisterRequest) -> Result<TokenResponse, ClientError> {
    send(post_json("/auth/register", body)).await
}

/// What the password step of signing in answered.
pub enum LoginResult {
    SignedIn(TokenResponse),
    /// Two-factor is on: ask for a code and call [`login_code`].
    NeedsCode(MfaChallenge),
}

pub async fn login(body: &LoginRequest) -> Result<LoginResult, ClientError> {
    let req = post_json("/auth/login", body).map_err(|e| ClientError::Network(e.to_string()))?;
    let res = req.send().await.map_err(|e| ClientError::Network(e.to_string()))?;
    if res.status() == 202 {
        return decode(res).await.map(LoginResult::NeedsCode);
    }
    decode(res).await.map(LoginResult::SignedIn)
}

pub async fn login_code(body: &MfaLoginRequest) -> Result<TokenResponse, ClientError> {
    send(post_json("/auth/login/2fa", body)).await
}

pub async fn two_factor_setup(session: SessionCtx) -> Result<TwoFactorSetup, ClientError> {
    authed(session, Method::Post, "/me/2fa/setup", None).await
}

pub async fn two_factor_enable(session: SessionCtx, code: String) -> Result<RecoveryCodes, ClientError> {
    authed(session, Method::Post, "/me/2fa/enable", to_json(&CodeRequest { code })).await
}

pub async fn two_factor_disable(session: SessionCtx, body: &DisableTwoFactorRequest) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Post, "/me/2fa/disable", to_json(body)).await.map(|_| ())
}

pub async fn refresh() -> Result<TokenResponse, ClientError> {
    send(Request::post(&format!("{BASE}/auth/refresh")).build()).await
}

pub async fn logout() -> Result<(), ClientError> {
    send::<Option<()>>(Request::post(&format!("{BASE}/auth/logout")).build()).await.map(|_| ())
}

pub async fn me(session: SessionCtx) -> Result<keel_shared::auth::Me, ClientError> {
    get_authed(session, "/me").await
}

pub async fn admin_clients(session: SessionCtx, page: u32, per_page: u32) -> Result<Page<ClientSummary>, ClientError> {
    get_authed(session, &format!("/admin/clients?page={page}&per_page={per_page}")).await
}

pub async fn admin_jobs(session: SessionCtx, state: Option<JobState>, kind: String, page: u32) -> Result<Page<Job>, ClientError> {
    let mut q = format!("/admin/jobs?page={page}&per_page=25");
    if let Some(s) = state {
        q.push_str(&format!("&state={}", s.as_str()));
    }
    if !kind.trim().is_empty() {
        q.push_str(&format!("&kind={}", percent_encode(kind.trim())));
    }
    get_authed(session, &q).await
}

pub async fn retry_job(session: SessionCtx, id: &str) -> Result<Job, ClientError> {
    authed(session, Method::Post, &format!("/admin/jobs/{id}/retry"), None).await
}

pub async fn delete_job(session: SessionCtx, id: &str) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Delete, &format!("/admin/jobs/{id}"), None).await.map(|_| ())
}

pub async fn admin_tasks(session: SessionCtx) -> Result<Vec<ScheduledTask>, ClientError> {
    get_authed(session, "/admin/tasks").await
}

pub async fn update_task(session: SessionCtx, name: &str, body: &UpdateTaskRequest) -> Result<ScheduledTask, ClientError> {
    authed(session, Method::Put, &format!("/admin/tasks/{name}"), to_json(body)).await
}

pub async fn admin_emails(session: SessionCtx, page: u32) -> Result<Page<Email>, ClientError> {
    get_authed(session, &format!("/admin/emails?page={page}&per_page=25")).await
}

pub async fn admin_email(session: SessionCtx, id: &str) -> Result<EmailDetail, ClientError> {
    get_authed(session, &format!("/admin/emails/{id}")).await
}

pub async fn my_emails(session: SessionCtx, page: u32) -> Result<Page<Email>, ClientError> {
    get_authed(session, &format!("/me/emails?page={page}&per_page=25")).await
}

pub async fn templates(session: SessionCtx) -> Result<Vec<EmailTemplate>, ClientError> {
    get_authed(session, "/admin/email-templates").await
}

pub async fn save_template(session: SessionCtx, key: &str, body: &UpdateTemplateRequest) -> Result<EmailTemplate, ClientError> {
    authed(session, Method::Put, &format!("/admin/email-templates/{key}"), to_json(body)).await
}

pub async fn reset_template(session: SessionCtx, key: &str) -> Result<EmailTemplate, ClientError> {
    authed(session, Method::Delete, &format!("/admin/email-templates/{key}"), None).await
}

/// Percent-encodes a URL component (query value, path segment, data: URL body).
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub async fn verify_email(token: String) -> Result<Me, ClientError> {
    send(post_json("/auth/verify-email", &TokenRequest { token })).await
}

pub async fn resend_verification(session: SessionCtx) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Post, "/auth/verify-email/resend", None).await.map(|_| ())
}

pub async fn forgot_password(email: String) -> Result<(), ClientError> {
    send::<Option<()>>(post_json("/auth/forgot-password", &ForgotPasswordRequest { email })).await.map(|_| ())
}

pub async fn reset_password(body: &ResetPasswordRequest) -> Result<(), ClientError> {
    send::<Option<()>>(post_json("/auth/reset-password", body)).await.map(|_| ())
}

pub async fn change_password(session: SessionCtx, body: &ChangePasswordRequest) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Post, "/me/password", to_json(body)).await.map(|_| ())
}

pub async fn sessions(session: SessionCtx) -> Result<Vec<SessionInfo>, ClientError> {
    get_authed(session, "/me/sessions").await
}

pub async fn revoke_session(session: SessionCtx, id: &str) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Delete, &format!("/me/sessions/{id}"), None).await.map(|_| ())
}

pub async fn revoke_other_sessions(session: SessionCtx) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Delete, "/me/sessions", None).await.map(|_| ())
}

pub async fn my_audit(session: SessionCtx, page: u32) -> Result<Page<AuditEntry>, ClientError> {
    get_authed(session, &format!("/me/audit?page={page}&per_page=25")).await
}

pub async fn admin_audit(session: SessionCtx, action: String, page: u32) -> Result<Page<AuditEntry>, ClientError> {
    let mut q = format!("/admin/audit?page={page}&per_page=25");
    if !action.trim().is_empty() {
        q.push_str(&format!("&action={}", percent_encode(action.trim())));
    }
    get_authed(session, &q).await
}

pub async fn api_keys(session: SessionCtx) -> Result<Vec<ApiKey>, ClientError> {
    get_authed(session, "/me/api-keys").await
}

pub async fn create_api_key(session: SessionCtx, body: &CreateApiKeyRequest) -> Result<CreatedApiKey, ClientError> {
    authed(session, Method::Post, "/me/api-keys", to_json(body)).await
}

pub async fn revoke_api_key(session: SessionCtx, id: &str) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Delete, &format!("/me/api-keys/{id}"), None).await.map(|_| ())
}

pub async fn profile(session: SessionCtx) -> Result<Profile, ClientError> {
    get_authed(session, "/me/profile").await
}

pub async fn save_profile(session: SessionCtx, body: &Profile) -> Result<Profile, ClientError> {
    authed(session, Method::Put, "/me/profile", to_json(body)).await
}

/// The GDPR export as pretty JSON text (the page offers it as a download).
pub async fn export_data(session: SessionCtx) -> Result<serde_json::Value, ClientError> {
    get_authed(session, "/me/export").await
}

pub async fn request_deletion(session: SessionCtx) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Post, "/me/deletion-request", None).await.map(|_| ())
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

pub async fn create_staff(session: SessionCtx, body: &CreateStaffRequest) -> Result<StaffMember, ClientError> {
    authed(session, Method::Post, "/admin/staff", to_json(body)).await
}

pub async fn update_staff(session: SessionCtx, id: &str, body: &UpdateStaffRequest) -> Result<StaffMember, ClientError> {
    authed(session, Method::Put, &format!("/admin/staff/{id}"), to_json(body)).await
}

pub async fn security_settings(session: SessionCtx) -> Result<SecuritySettings, ClientError> {
    get_authed(session, "/admin/settings/security").await
}

pub async fn save_security_settings(session: SessionCtx, body: &SecuritySettings) -> Result<SecuritySettings, ClientError> {
    authed(session, Method::Put, "/admin/settings/security", to_json(body)).await
}

pub async fn team(session: SessionCtx) -> Result<Vec<TeamMember>, ClientError> {
    get_authed(session, "/me/team").await
}

pub async fn invite_member(session: SessionCtx, body: &InviteMemberRequest) -> Result<TeamMember, ClientError> {
    authed(session, Method::Post, "/me/team", to_json(body)).await
}

pub async fn update_member(session: SessionCtx, id: &str, body: &UpdateMemberRequest) -> Result<TeamMember, ClientError> {
    authed(session, Method::Put, &format!("/me/team/{id}"), to_json(body)).await
}

pub async fn remove_member(session: SessionCtx, id: &str) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Delete, &format!("/me/team/{id}"), None).await.map(|_| ())
}

pub async fn invitation(token: &str) -> Result<Invitation, ClientError> {
    send(Request::get(&format!("{BASE}/team/invitations/{}", percent_encode(token))).build()).await
}

pub async fn accept_invitation(token: &str, body: &AcceptInvitationRequest) -> Result<TokenResponse, ClientError> {
    send(post_json(&format!("/team/invitations/{}/accept", percent_encode(token)), body)).await
}

pub async fn memberships(session: SessionCtx) -> Result<Vec<Membership>, ClientError> {
    get_authed(session, "/me/memberships").await
}

pub async fn join_account(session: SessionCtx, token: String) -> Result<Membership, ClientError> {
    authed(session, Method::Post, "/me/memberships", to_json(&TokenRequest { token })).await
}

pub async fn leave_account(session: SessionCtx, account_id: &str) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Delete, &format!("/me/memberships/{account_id}"), None).await.map(|_| ())
}
