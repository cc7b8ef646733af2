//! Signing in and out, registration, e-mail verification, password reset, invitations: the calls
//! made before (or while) a session exists.

use gloo_net::http::Request;
use keel_shared::access::{AcceptInvitationRequest, Invitation};
use keel_shared::auth::{
    ForgotPasswordRequest, LoginRequest, Me, MfaChallenge, MfaLoginRequest, RegisterRequest, ResetPasswordRequest, TokenRequest,
    TokenResponse,
};
use keel_shared::Problem;

use super::{answer, authed, parse, percent_encode, post_json, send, ClientError, Method, BASE};
use crate::session::SessionCtx;

pub async fn register(body: RegisterRequest) -> Result<TokenResponse, ClientError> {
    send(post_json("/auth/register", &body)).await
}

/// What the password step of signing in answered.
pub enum LoginResult {
    SignedIn(TokenResponse),
    /// Two-factor is on: ask for a code and call [`login_code`].
    NeedsCode(MfaChallenge),
}

pub async fn login(body: LoginRequest) -> Result<LoginResult, ClientError> {
    let req = post_json("/auth/login", &body).map_err(|e| ClientError::Network(e.to_string()))?;
    let res = req.send().await.map_err(|e| ClientError::Network(e.to_string()))?;
    let accepted = res.status() == 202;
    let text = answer(res).await?;
    if accepted {
        return parse(&text).map(LoginResult::NeedsCode);
    }
    parse(&text).map(LoginResult::SignedIn)
}

pub async fn login_code(body: MfaLoginRequest) -> Result<TokenResponse, ClientError> {
    send(post_json("/auth/login/2fa", &body)).await
}

/// A new access token from the refresh cookie. No cookie (the API's 204: nothing to restore) is
/// an `Unauthorized` like an expired one, without a failed request in the browser's console.
pub async fn refresh() -> Result<TokenResponse, ClientError> {
    let restored: Option<TokenResponse> = send(Request::post(&format!("{BASE}/auth/refresh")).build()).await?;
    restored.ok_or_else(|| {
        ClientError::Unauthorized(Problem {
            kind: "about:blank".into(),
            title: "Not signed in".into(),
            status: 401,
            detail: None,
            code: "no_session".into(),
            errors: Default::default(),
            request_id: None,
        })
    })
}

pub async fn logout() -> Result<(), ClientError> {
    send::<Option<()>>(Request::post(&format!("{BASE}/auth/logout")).build()).await.map(|_| ())
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

pub async fn reset_password(body: ResetPasswordRequest) -> Result<(), ClientError> {
    send::<Option<()>>(post_json("/auth/reset-password", &body)).await.map(|_| ())
}

/// Lifts the lock failed sign-ins from unknown sources put on an account (the e-mail's link).
pub async fn unlock_account(token: String) -> Result<(), ClientError> {
    send::<Option<()>>(post_json("/auth/unlock", &TokenRequest { token })).await.map(|_| ())
}

pub async fn invitation(token: &str) -> Result<Invitation, ClientError> {
    send(Request::get(&format!("{BASE}/team/invitations/{}", percent_encode(token))).build()).await
}

pub async fn accept_invitation(token: &str, body: AcceptInvitationRequest) -> Result<TokenResponse, ClientError> {
    send(post_json(&format!("/team/invitations/{}/accept", percent_encode(token)), &body)).await
}
