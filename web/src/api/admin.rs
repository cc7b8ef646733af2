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

// The catalog and commerce settings (`catalog.manage`).

use keel_shared::catalog::{AddonInput, AdminAddon, AdminGroup, AdminProduct, ProductInput};
use keel_shared::commerce::{CommerceSettings, CurrencyInput, PromoCode, PromoCodeInput, TaxRule, TaxRuleInput};
use keel_shared::money::CurrencyInfo;

pub async fn products(session: SessionCtx) -> Result<Vec<AdminProduct>, ClientError> {
    get_authed(session, "/admin/catalog/products").await
}

pub async fn product(session: SessionCtx, id: &str) -> Result<AdminProduct, ClientError> {
    get_authed(session, &format!("/admin/catalog/products/{id}")).await
}

/// Creates the product (`id` none) or replaces it whole.
pub async fn save_product(session: SessionCtx, id: Option<String>, body: ProductInput) -> Result<AdminProduct, ClientError> {
    match id {
        Some(id) => authed(session, Method::Put, &format!("/admin/catalog/products/{id}"), to_json(&body)).await,
        None => authed(session, Method::Post, "/admin/catalog/products", to_json(&body)).await,
    }
}

pub async fn groups(session: SessionCtx) -> Result<Vec<AdminGroup>, ClientError> {
    get_authed(session, "/admin/catalog/groups").await
}

pub async fn addons(session: SessionCtx) -> Result<Vec<AdminAddon>, ClientError> {
    get_authed(session, "/admin/catalog/addons").await
}

/// Creates the add-on (`id` none) or replaces it whole.
pub async fn save_addon(session: SessionCtx, id: Option<String>, body: AddonInput) -> Result<AdminAddon, ClientError> {
    match id {
        Some(id) => authed(session, Method::Put, &format!("/admin/catalog/addons/{id}"), to_json(&body)).await,
        None => authed(session, Method::Post, "/admin/catalog/addons", to_json(&body)).await,
    }
}

pub async fn currencies(session: SessionCtx) -> Result<Vec<CurrencyInfo>, ClientError> {
    get_authed(session, "/admin/catalog/currencies").await
}

pub async fn save_currency(session: SessionCtx, code: &str, body: CurrencyInput) -> Result<Vec<CurrencyInfo>, ClientError> {
    authed(session, Method::Put, &format!("/admin/catalog/currencies/{code}"), to_json(&body)).await
}

pub async fn remove_currency(session: SessionCtx, code: &str) -> Result<Vec<CurrencyInfo>, ClientError> {
    authed(session, Method::Delete, &format!("/admin/catalog/currencies/{code}"), None).await
}

pub async fn commerce_settings(session: SessionCtx) -> Result<CommerceSettings, ClientError> {
    get_authed(session, "/admin/commerce/settings").await
}

pub async fn save_commerce_settings(session: SessionCtx, body: CommerceSettings) -> Result<CommerceSettings, ClientError> {
    authed(session, Method::Put, "/admin/commerce/settings", to_json(&body)).await
}

pub async fn tax_rules(session: SessionCtx) -> Result<Vec<TaxRule>, ClientError> {
    get_authed(session, "/admin/commerce/tax-rules").await
}

pub async fn save_tax_rule(session: SessionCtx, id: Option<String>, body: TaxRuleInput) -> Result<TaxRule, ClientError> {
    match id {
        Some(id) => authed(session, Method::Put, &format!("/admin/commerce/tax-rules/{id}"), to_json(&body)).await,
        None => authed(session, Method::Post, "/admin/commerce/tax-rules", to_json(&body)).await,
    }
}

pub async fn delete_tax_rule(session: SessionCtx, id: &str) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Delete, &format!("/admin/commerce/tax-rules/{id}"), None).await.map(|_| ())
}

pub async fn promo_codes(session: SessionCtx) -> Result<Vec<PromoCode>, ClientError> {
    get_authed(session, "/admin/commerce/promo-codes").await
}

pub async fn save_promo_code(session: SessionCtx, id: Option<String>, body: PromoCodeInput) -> Result<PromoCode, ClientError> {
    match id {
        Some(id) => authed(session, Method::Put, &format!("/admin/commerce/promo-codes/{id}"), to_json(&body)).await,
        None => authed(session, Method::Post, "/admin/commerce/promo-codes", to_json(&body)).await,
    }
}

pub async fn save_group(
    session: SessionCtx,
    id: Option<String>,
    body: keel_shared::catalog::GroupInput,
) -> Result<AdminGroup, ClientError> {
    match id {
        Some(id) => authed(session, Method::Put, &format!("/admin/catalog/groups/{id}"), to_json(&body)).await,
        None => authed(session, Method::Post, "/admin/catalog/groups", to_json(&body)).await,
    }
}

pub async fn delete_group(session: SessionCtx, id: &str) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Delete, &format!("/admin/catalog/groups/{id}"), None).await.map(|_| ())
}

// Billing (`billing.read`; changes need `billing.write`).

use keel_shared::billing::{
    BillingSettings, CancelInvoice, Credit, CreditAdjustment, DraftLines, EventFilter, Invoice, InvoiceFilter, InvoiceSummary, NewInvoice,
    PaymentEvent, RecordPayment, RefundRequest,
};

pub async fn invoices(session: SessionCtx, filter: InvoiceFilter) -> Result<Page<InvoiceSummary>, ClientError> {
    get_authed(session, &query("/admin/invoices", &filter)).await
}

pub async fn invoice(session: SessionCtx, id: &str) -> Result<Invoice, ClientError> {
    get_authed(session, &format!("/admin/invoices/{}", super::percent_encode(id))).await
}

/// `POST /admin/invoices/{id}/payments`: a bank transfer that arrived.
pub async fn record_payment(session: SessionCtx, id: &str, body: RecordPayment) -> Result<Invoice, ClientError> {
    authed(session, Method::Post, &format!("/admin/invoices/{}/payments", super::percent_encode(id)), to_json(&body)).await
}

pub async fn cancel_invoice(session: SessionCtx, id: &str, body: CancelInvoice) -> Result<Invoice, ClientError> {
    authed(session, Method::Post, &format!("/admin/invoices/{}/cancel", super::percent_encode(id)), to_json(&body)).await
}

/// `POST /admin/invoices`: a manual invoice for a client, a draft until issued.
pub async fn create_invoice(session: SessionCtx, body: NewInvoice) -> Result<Invoice, ClientError> {
    authed(session, Method::Post, "/admin/invoices", to_json(&body)).await
}

/// `PUT /admin/invoices/{id}/lines`: a draft's lines, replaced as a whole.
pub async fn save_draft_lines(session: SessionCtx, id: &str, body: DraftLines) -> Result<Invoice, ClientError> {
    authed(session, Method::Put, &format!("/admin/invoices/{}/lines", super::percent_encode(id)), to_json(&body)).await
}

/// `POST /admin/invoices/{id}/issue`: numbers the draft and e-mails it to the client.
pub async fn issue_invoice(session: SessionCtx, id: &str) -> Result<Invoice, ClientError> {
    authed(session, Method::Post, &format!("/admin/invoices/{}/issue", super::percent_encode(id)), None).await
}

/// `DELETE /admin/invoices/{id}`: drafts only.
pub async fn delete_invoice(session: SessionCtx, id: &str) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Delete, &format!("/admin/invoices/{}", super::percent_encode(id)), None).await.map(|_| ())
}

/// `POST /admin/invoices/{id}/remind`: e-mails the client a reminder of what is owed.
pub async fn remind_invoice(session: SessionCtx, id: &str) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Post, &format!("/admin/invoices/{}/remind", super::percent_encode(id)), None).await.map(|_| ())
}

/// `POST /admin/invoices/{id}/refunds` with an `Idempotency-Key` (see [`super::RetryKey`]): gives
/// back part or all of one payment through its gateway, with a credit note.
pub async fn refund(session: SessionCtx, id: &str, body: &RefundRequest, retry: super::RetryKey) -> Result<Invoice, ClientError> {
    let json = serde_json::to_string(body).unwrap_or_default();
    let path = format!("/admin/invoices/{}/refunds", super::percent_encode(id));
    super::parse(&super::post_keyed(session, &path, &json, &retry.key(&json)).await?)
}

/// `GET /admin/payment-events`: the gateways' webhooks as received.
pub async fn payment_events(session: SessionCtx, filter: EventFilter) -> Result<Page<PaymentEvent>, ClientError> {
    get_authed(session, &query("/admin/payment-events", &filter)).await
}

pub async fn billing_settings(session: SessionCtx) -> Result<BillingSettings, ClientError> {
    get_authed(session, "/admin/billing/settings").await
}

pub async fn save_billing_settings(session: SessionCtx, body: BillingSettings) -> Result<BillingSettings, ClientError> {
    authed(session, Method::Put, "/admin/billing/settings", to_json(&body)).await
}

pub async fn client_credit(session: SessionCtx, id: &str) -> Result<Credit, ClientError> {
    get_authed(session, &format!("/admin/clients/{}/credit", super::percent_encode(id))).await
}

pub async fn adjust_credit(session: SessionCtx, id: &str, body: CreditAdjustment) -> Result<Credit, ClientError> {
    authed(session, Method::Post, &format!("/admin/clients/{}/credit", super::percent_encode(id)), to_json(&body)).await
}

// Servers and services (`servers.manage`).

use keel_shared::provisioning::{
    AdminService, Server, ServerCheck, ServerDetail, ServerInput, Service, ServiceFilter, ServiceSummary, ServiceUpdate, SsoLink,
    SuspendRequest,
};

pub async fn servers(session: SessionCtx) -> Result<Vec<Server>, ClientError> {
    get_authed(session, "/admin/servers").await
}

/// `GET /admin/servers/{id}`: the server with its latest health checks.
pub async fn server(session: SessionCtx, id: &str) -> Result<ServerDetail, ClientError> {
    get_authed(session, &format!("/admin/servers/{}", super::percent_encode(id))).await
}

/// Creates the server (`id` none) or changes it (an absent `secret` keeps the saved token).
pub async fn save_server(session: SessionCtx, id: Option<String>, body: ServerInput) -> Result<Server, ClientError> {
    match id {
        Some(id) => authed(session, Method::Put, &format!("/admin/servers/{}", super::percent_encode(&id)), to_json(&body)).await,
        None => authed(session, Method::Post, "/admin/servers", to_json(&body)).await,
    }
}

/// `DELETE /admin/servers/{id}`: only a server without live services.
pub async fn delete_server(session: SessionCtx, id: &str) -> Result<(), ClientError> {
    authed::<Option<()>>(session, Method::Delete, &format!("/admin/servers/{}", super::percent_encode(id)), None).await.map(|_| ())
}

/// `POST /admin/servers/{id}/check`: tests the module's connection now.
pub async fn check_server(session: SessionCtx, id: &str) -> Result<ServerCheck, ClientError> {
    authed(session, Method::Post, &format!("/admin/servers/{}/check", super::percent_encode(id)), None).await
}

pub async fn services(session: SessionCtx, filter: ServiceFilter) -> Result<Page<ServiceSummary>, ClientError> {
    get_authed(session, &query("/admin/services", &filter)).await
}

/// `GET /admin/services/{id}`: the service with its history.
pub async fn service(session: SessionCtx, id: &str) -> Result<AdminService, ClientError> {
    get_authed(session, &format!("/admin/services/{}", super::percent_encode(id))).await
}

/// `PATCH /admin/services/{id}`: next due date, recurring price, package (each optional).
pub async fn update_service(session: SessionCtx, id: &str, body: ServiceUpdate) -> Result<Service, ClientError> {
    let json = serde_json::to_string(&body).unwrap_or_default();
    super::parse(&super::patch_text(session, &format!("/admin/services/{}", super::percent_encode(id)), &json).await?)
}

/// `POST /admin/services/{id}/{action}` (`provision`, `unsuspend`, `terminate`).
pub async fn service_action(session: SessionCtx, id: &str, action: &str) -> Result<Service, ClientError> {
    authed(session, Method::Post, &format!("/admin/services/{}/{action}", super::percent_encode(id)), None).await
}

/// `POST /admin/services/{id}/suspend`, with the reason the client is told.
pub async fn suspend_service(session: SessionCtx, id: &str, body: SuspendRequest) -> Result<Service, ClientError> {
    authed(session, Method::Post, &format!("/admin/services/{}/suspend", super::percent_encode(id)), to_json(&body)).await
}

/// `POST /admin/services/{id}/sso`: a one-time link into the service's control panel.
pub async fn service_sso(session: SessionCtx, id: &str) -> Result<SsoLink, ClientError> {
    authed(session, Method::Post, &format!("/admin/services/{}/sso", super::percent_encode(id)), None).await
}
