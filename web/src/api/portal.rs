//! The client portal: the signed-in user's own account (or, with `X-Keel-Account`, the account
//! a team member acts for).

use keel_shared::access::{InviteMemberRequest, Membership, TeamMember, UpdateMemberRequest};
use keel_shared::auth::{
    ApiKey, AuditEntry, ChangePasswordRequest, CodeRequest, CreateApiKeyRequest, CreatedApiKey, DisableTwoFactorRequest, Me, Profile,
    RecoveryCodes, SessionInfo, TokenRequest, TwoFactorSetup,
};
use keel_shared::automation::Email;
use keel_shared::{Page, PageQuery};

use super::{authed, get_authed, query, to_json, ClientError, Method};
use crate::session::SessionCtx;

pub async fn two_factor_setup(session: SessionCtx) -> Result<TwoFactorSetup, ClientError> {
    authed(session, Method::Post, "/me/2fa/setup", None).await
}

pub async fn two_factor_enable(session: SessionCtx, code: String) -> Result<RecoveryCodes, ClientError> {
    authed(session, Method::Post, "/me/2fa/enable", to_json(&CodeRequest { code })).await
}

pub async fn two_factor_disable(session: SessionCtx, body: DisableTwoFactorRequest) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Post, "/me/2fa/disable", to_json(&body)).await.map(|_| ())
}

pub async fn me(session: SessionCtx) -> Result<Me, ClientError> {
    get_authed(session, "/me").await
}

pub async fn emails(session: SessionCtx, page: PageQuery) -> Result<Page<Email>, ClientError> {
    get_authed(session, &query("/me/emails", &page)).await
}

pub async fn change_password(session: SessionCtx, body: ChangePasswordRequest) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Post, "/me/password", to_json(&body)).await.map(|_| ())
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

pub async fn audit(session: SessionCtx, page: PageQuery) -> Result<Page<AuditEntry>, ClientError> {
    get_authed(session, &query("/me/audit", &page)).await
}

pub async fn api_keys(session: SessionCtx) -> Result<Vec<ApiKey>, ClientError> {
    get_authed(session, "/me/api-keys").await
}

pub async fn create_api_key(session: SessionCtx, body: CreateApiKeyRequest) -> Result<CreatedApiKey, ClientError> {
    authed(session, Method::Post, "/me/api-keys", to_json(&body)).await
}

pub async fn revoke_api_key(session: SessionCtx, id: &str) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Delete, &format!("/me/api-keys/{id}"), None).await.map(|_| ())
}

pub async fn profile(session: SessionCtx) -> Result<Profile, ClientError> {
    get_authed(session, "/me/profile").await
}

pub async fn save_profile(session: SessionCtx, body: Profile) -> Result<Profile, ClientError> {
    authed(session, Method::Put, "/me/profile", to_json(&body)).await
}

/// The GDPR export as the JSON text the API sent (the page offers it as a download).
pub async fn export_data(session: SessionCtx) -> Result<String, ClientError> {
    super::authed_text(session, Method::Get, "/me/export", None).await
}

pub async fn request_deletion(session: SessionCtx) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Post, "/me/deletion-request", None).await.map(|_| ())
}

pub async fn team(session: SessionCtx) -> Result<Vec<TeamMember>, ClientError> {
    get_authed(session, "/me/team").await
}

pub async fn invite_member(session: SessionCtx, body: InviteMemberRequest) -> Result<TeamMember, ClientError> {
    authed(session, Method::Post, "/me/team", to_json(&body)).await
}

pub async fn update_member(session: SessionCtx, id: &str, body: UpdateMemberRequest) -> Result<TeamMember, ClientError> {
    authed(session, Method::Put, &format!("/me/team/{id}"), to_json(&body)).await
}

pub async fn remove_member(session: SessionCtx, id: &str) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Delete, &format!("/me/team/{id}"), None).await.map(|_| ())
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

/// `GET /orders`: the account's orders.
pub async fn orders(
    session: SessionCtx,
    filter: keel_shared::orders::OrderFilter,
) -> Result<Page<keel_shared::orders::OrderSummary>, ClientError> {
    get_authed(session, &query("/orders", &filter)).await
}

/// `GET /orders/{id}`.
pub async fn order(session: SessionCtx, id: &str) -> Result<keel_shared::orders::Order, ClientError> {
    get_authed(session, &format!("/orders/{}", super::percent_encode(id))).await
}

/// `POST /checkout` with its `Idempotency-Key`: the same key and cart answer the same order, so a
/// retry or a second click never orders twice.
pub async fn checkout(
    session: SessionCtx,
    req: &keel_shared::cart::QuoteRequest,
    key: &str,
) -> Result<keel_shared::orders::Order, ClientError> {
    let url = format!("{}/checkout", super::BASE);
    let body = serde_json::to_string(req).unwrap_or_default();
    let build = |token: &str| {
        let mut b = gloo_net::http::Request::post(&url).header("Authorization", &format!("Bearer {token}")).header("Idempotency-Key", key);
        if let Some(account) = session.acting_for() {
            b = b.header("X-Keel-Account", &account);
        }
        b.header("Content-Type", "application/json").body(body.clone())
    };
    let text = match super::send_text(build(&session.token().unwrap_or_default())).await {
        Err(ClientError::Unauthorized(p)) => {
            let Ok(fresh) = super::auth::refresh().await else {
                session.clear();
                return Err(ClientError::Unauthorized(p));
            };
            let token = fresh.access_token.clone();
            session.set(fresh);
            super::send_text(build(&token)).await?
        }
        other => other?,
    };
    super::parse(&text)
}

// Billing (the `billing` area of a team membership).

use keel_shared::billing::{
    AddFunds, AddPaymentMethod, Credit, Gateway, Invoice, InvoiceFilter, InvoiceSummary, PayRequest, PayStarted, PaymentMethod,
};
use keel_shared::ids::PaymentMethodId;

/// `GET /invoices`: the account's invoices.
pub async fn invoices(session: SessionCtx, filter: InvoiceFilter) -> Result<Page<InvoiceSummary>, ClientError> {
    get_authed(session, &query("/invoices", &filter)).await
}

/// `GET /invoices/{id}`.
pub async fn invoice(session: SessionCtx, id: &str) -> Result<Invoice, ClientError> {
    get_authed(session, &format!("/invoices/{}", super::percent_encode(id))).await
}

/// `POST /invoices/{id}/pay`: card payments answer the gateway's page to send the browser to;
/// credit pays at once, as far as it goes.
pub async fn pay_invoice(session: SessionCtx, id: &str, gateway: Gateway) -> Result<PayStarted, ClientError> {
    authed(
        session,
        Method::Post,
        &format!("/invoices/{}/pay", super::percent_encode(id)),
        to_json(&PayRequest { gateway, payment_method_id: None }),
    )
    .await
}

/// `GET /credit`: the account's credit balances and latest entries.
pub async fn credit(session: SessionCtx) -> Result<Credit, ClientError> {
    get_authed(session, "/credit").await
}

/// `POST /credit/add-funds` with an `Idempotency-Key` (see [`super::RetryKey`]): an invoice for
/// the amount, which once paid is the account's credit.
pub async fn add_funds(session: SessionCtx, body: &AddFunds, retry: super::RetryKey) -> Result<Invoice, ClientError> {
    let json = serde_json::to_string(body).unwrap_or_default();
    super::parse(&super::post_keyed(session, "/credit/add-funds", &json, &retry.key(&json)).await?)
}

/// `GET /payment-methods`: the account's saved cards, the default first.
pub async fn payment_methods(session: SessionCtx) -> Result<Vec<PaymentMethod>, ClientError> {
    get_authed(session, "/payment-methods").await
}

/// `POST /payment-methods`: the card gateway's page to save a card on.
pub async fn add_payment_method(session: SessionCtx) -> Result<AddPaymentMethod, ClientError> {
    authed(session, Method::Post, "/payment-methods", None).await
}

/// `PUT /payment-methods/{id}/default`.
pub async fn default_payment_method(session: SessionCtx, id: &str) -> Result<(), ClientError> {
    authed::<Vec<PaymentMethod>>(session, Method::Put, &format!("/payment-methods/{}/default", super::percent_encode(id)), None)
        .await
        .map(|_| ())
}

/// `DELETE /payment-methods/{id}`.
pub async fn remove_payment_method(session: SessionCtx, id: &str) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Delete, &format!("/payment-methods/{}", super::percent_encode(id)), None).await.map(|_| ())
}

/// `POST /invoices/{id}/pay` with a saved card: charged now.
pub async fn pay_with_card(session: SessionCtx, id: &str, card: PaymentMethodId) -> Result<PayStarted, ClientError> {
    authed(
        session,
        Method::Post,
        &format!("/invoices/{}/pay", super::percent_encode(id)),
        to_json(&PayRequest { gateway: Gateway::Stripe, payment_method_id: Some(card) }),
    )
    .await
}

// Services (the `services` area): the account's hosting accounts.

use keel_shared::provisioning::{
    CancellationRequest, Service, ServiceChange, ServiceChangeQuote, ServiceChangeRequest, ServiceCredentials, ServiceFilter,
    ServicePassword, ServiceSummary, ServiceUsage, SsoLink,
};

/// `GET /services`: the account's services, newest first.
pub async fn services(session: SessionCtx, filter: ServiceFilter) -> Result<Page<ServiceSummary>, ClientError> {
    get_authed(session, &query("/services", &filter)).await
}

/// `GET /services/{id}`.
pub async fn service(session: SessionCtx, id: &str) -> Result<Service, ClientError> {
    get_authed(session, &format!("/services/{}", super::percent_encode(id))).await
}

/// `GET /services/{id}/credentials`: the control panel login (each read is on the activity log).
pub async fn service_credentials(session: SessionCtx, id: &str) -> Result<ServiceCredentials, ClientError> {
    get_authed(session, &format!("/services/{}/credentials", super::percent_encode(id))).await
}

/// `POST /services/{id}/sso`: a one-time link into the control panel.
pub async fn service_sso(session: SessionCtx, id: &str) -> Result<SsoLink, ClientError> {
    authed(session, Method::Post, &format!("/services/{}/sso", super::percent_encode(id)), None).await
}

/// `GET /services/{id}/usage`: disk and bandwidth over the last 30 days.
pub async fn service_usage(session: SessionCtx, id: &str) -> Result<ServiceUsage, ClientError> {
    get_authed(session, &format!("/services/{}/usage", super::percent_encode(id))).await
}

/// `PUT /services/{id}/password`: a new control panel password.
pub async fn service_password(session: SessionCtx, id: &str, body: ServicePassword) -> Result<Service, ClientError> {
    authed(session, Method::Put, &format!("/services/{}/password", super::percent_encode(id)), to_json(&body)).await
}

/// `POST /services/{id}/cancellation`: now, or at the end of the paid period.
pub async fn cancel_service(session: SessionCtx, id: &str, body: CancellationRequest) -> Result<Service, ClientError> {
    authed(session, Method::Post, &format!("/services/{}/cancellation", super::percent_encode(id)), to_json(&body)).await
}

/// `POST /services/{id}/change/quote`: what moving to another plan, options or add-ons costs now.
pub async fn change_quote(session: SessionCtx, id: &str, body: ServiceChangeRequest) -> Result<ServiceChangeQuote, ClientError> {
    authed(session, Method::Post, &format!("/services/{}/change/quote", super::percent_encode(id)), to_json(&body)).await
}

/// `POST /services/{id}/change`: makes the change as quoted.
pub async fn change_service(session: SessionCtx, id: &str, body: ServiceChangeRequest) -> Result<ServiceChange, ClientError> {
    authed(session, Method::Post, &format!("/services/{}/change", super::percent_encode(id)), to_json(&body)).await
}

/// `GET /services/{id}/changes`: the service's plan changes, newest first.
pub async fn service_changes(session: SessionCtx, id: &str) -> Result<Vec<ServiceChange>, ClientError> {
    get_authed(session, &format!("/services/{}/changes", super::percent_encode(id))).await
}
