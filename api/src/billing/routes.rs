use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use keel_shared::billing::{
    AddFunds, BillingSettings, CancelInvoice, Credit, CreditAdjustment, CreditNote, DraftLines, Gateway, Invoice, InvoiceFilter,
    InvoiceSummary, MergeInvoices, NewInvoice, PayRequest, PayStarted, RecordPayment, RefundRequest,
};
use keel_shared::ids::{CreditNoteId, InvoiceId, UserId};
use keel_shared::Problem;
use keel_shared::{Page, PageQuery};
use utoipa_actix_web::service_config::ServiceConfig;

use super::service;
use crate::db;
use crate::error::ApiError;
use crate::http::auth::{area, can, AccountHeader, BackOffice, ForAccount};
use crate::http::extract::{ValidJson, ValidQuery};
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(my_invoices)
        .service(my_invoice)
        .service(my_invoice_pdf)
        .service(my_invoice_ubl)
        .service(my_credit_note_pdf)
        .service(my_credit_note_ubl)
        .service(pay_invoice)
        .service(my_credit)
        .service(add_funds)
        .service(admin_invoices)
        .service(admin_invoice)
        .service(admin_invoice_pdf)
        .service(admin_invoice_ubl)
        .service(admin_credit_note_pdf)
        .service(admin_credit_note_ubl)
        .service(record_payment)
        .service(cancel_invoice)
        .service(create_invoice)
        .service(merge_invoices)
        .service(put_draft_lines)
        .service(issue_invoice)
        .service(delete_invoice)
        .service(remind_invoice)
        .service(refund_invoice)
        .service(get_settings)
        .service(put_settings)
        .service(client_credit)
        .service(adjust_credit);
}

/// A document to download as `<name>.<extension>`, kept out of shared caches.
fn download(content_type: &'static str, name: &str, extension: &str, body: impl actix_web::body::MessageBody + 'static) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Content-Disposition", format!("attachment; filename=\"{name}.{extension}\"")))
        .insert_header(("Cache-Control", "private, no-store"))
        .body(body)
}

/// The e-invoice, or 409 `einvoice_incomplete` saying what it lacks.
fn einvoice(what: &str, xml: Result<String, String>) -> Result<String, ApiError> {
    xml.map_err(|why| ApiError::Conflict {
        code: "einvoice_incomplete",
        detail: format!("this {what} cannot be an e-invoice: {why}"),
        field: None,
    })
}

fn pdf(inv: &Invoice) -> HttpResponse {
    let name = inv.number.clone().unwrap_or_else(|| format!("draft-{}", inv.id));
    download("application/pdf", &name, "pdf", super::pdf::render(inv))
}

fn ubl(inv: &Invoice) -> Result<HttpResponse, ApiError> {
    let xml = einvoice("invoice", super::ubl::ubl(inv))?;
    Ok(download("application/xml", inv.number.as_deref().unwrap_or_default(), "xml", xml))
}

fn credit_note_pdf((inv, note): &(Invoice, CreditNote)) -> HttpResponse {
    download("application/pdf", &note.number, "pdf", super::pdf::render_credit_note(inv, note))
}

fn credit_note_ubl((inv, note): &(Invoice, CreditNote)) -> Result<HttpResponse, ApiError> {
    let xml = einvoice("credit note", super::ubl::credit_note_ubl(inv, note))?;
    Ok(download("application/xml", &note.number, "xml", xml))
}

/// Your invoices (or, with `X-Keel-Account`, an account's you have billing access to), newest
/// first; filter by status or number.
#[utoipa::path(tag = "billing", security(("bearer" = [])), params(InvoiceFilter, PageQuery, AccountHeader),
    responses((status = 200, body = Page<InvoiceSummary>), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[get("/invoices")]
async fn my_invoices(
    state: web::Data<AppState>,
    access: ForAccount<area::Billing>,
    filter: ValidQuery<InvoiceFilter>,
) -> Result<web::Json<Page<InvoiceSummary>>, ApiError> {
    let (account, mut filter) = (access.account_id, filter.0);
    filter.account_id = None;
    Ok(web::Json(db::run(&state.pool, move |c| service::list(c, &filter, Some(&account))).await?))
}

/// One of your invoices with its lines, taxes, payments and what is still owed.
#[utoipa::path(tag = "billing", security(("bearer" = [])), params(("id" = String, Path, description = "Invoice id"), AccountHeader),
    responses((status = 200, body = Invoice), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/invoices/{id}")]
async fn my_invoice(
    state: web::Data<AppState>,
    access: ForAccount<area::Billing>,
    id: web::Path<InvoiceId>,
) -> Result<web::Json<Invoice>, ApiError> {
    let (account, id) = (access.account_id, id.into_inner());
    Ok(web::Json(db::run(&state.pool, move |c| service::get(c, &id, Some(&account))).await?))
}

/// One of your invoices as a PDF.
#[utoipa::path(tag = "billing", security(("bearer" = [])), params(("id" = String, Path, description = "Invoice id"), AccountHeader),
    responses((status = 200, description = "The invoice as a PDF document", content_type = "application/pdf", body = Vec<u8>),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/invoices/{id}/pdf")]
async fn my_invoice_pdf(
    state: web::Data<AppState>,
    access: ForAccount<area::Billing>,
    id: web::Path<InvoiceId>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = (access.account_id, id.into_inner());
    let inv = db::run(&state.pool, move |c| service::get(c, &id, Some(&account))).await?;
    Ok(pdf(&inv))
}

/// One of your invoices as an e-invoice: UBL 2.1 XML per PEPPOL BIS Billing 3.0.
#[utoipa::path(tag = "billing", security(("bearer" = [])), params(("id" = String, Path, description = "Invoice id"), AccountHeader),
    responses((status = 200, description = "UBL 2.1 Invoice XML", content_type = "application/xml", body = String),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The invoice lacks what an e-invoice needs (a draft, a seller without a VAT id …)", body = Problem, content_type = "application/problem+json")))]
#[get("/invoices/{id}/ubl")]
async fn my_invoice_ubl(
    state: web::Data<AppState>,
    access: ForAccount<area::Billing>,
    id: web::Path<InvoiceId>,
) -> Result<HttpResponse, ApiError> {
    let (account, id) = (access.account_id, id.into_inner());
    let inv = db::run(&state.pool, move |c| service::get(c, &id, Some(&account))).await?;
    ubl(&inv)
}

/// A credit note of one of your invoices (a refund) as a PDF.
#[utoipa::path(tag = "billing", security(("bearer" = [])),
    params(("id" = String, Path, description = "Invoice id"), ("note_id" = String, Path, description = "Credit note id (one of the invoice's `credit_notes`)"), AccountHeader),
    responses((status = 200, description = "The credit note as a PDF document", content_type = "application/pdf", body = Vec<u8>),
              (status = 404, description = "No such invoice of yours, or no such credit note of it", body = Problem, content_type = "application/problem+json")))]
#[get("/invoices/{id}/credit-notes/{note_id}/pdf")]
async fn my_credit_note_pdf(
    state: web::Data<AppState>,
    access: ForAccount<area::Billing>,
    path: web::Path<(InvoiceId, CreditNoteId)>,
) -> Result<HttpResponse, ApiError> {
    let (account, (id, note)) = (access.account_id, path.into_inner());
    let found = db::run(&state.pool, move |c| service::credit_note(c, &id, &note, Some(&account))).await?;
    Ok(credit_note_pdf(&found))
}

/// A credit note of one of your invoices as an e-invoice: a UBL 2.1 CreditNote (type 381) per
/// PEPPOL BIS Billing 3.0, referring to the invoice.
#[utoipa::path(tag = "billing", security(("bearer" = [])),
    params(("id" = String, Path, description = "Invoice id"), ("note_id" = String, Path, description = "Credit note id (one of the invoice's `credit_notes`)"), AccountHeader),
    responses((status = 200, description = "UBL 2.1 CreditNote XML", content_type = "application/xml", body = String),
              (status = 404, description = "No such invoice of yours, or no such credit note of it", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The invoice lacks what an e-invoice needs (a seller without a VAT id …)", body = Problem, content_type = "application/problem+json")))]
#[get("/invoices/{id}/credit-notes/{note_id}/ubl")]
async fn my_credit_note_ubl(
    state: web::Data<AppState>,
    access: ForAccount<area::Billing>,
    path: web::Path<(InvoiceId, CreditNoteId)>,
) -> Result<HttpResponse, ApiError> {
    let (account, (id, note)) = (access.account_id, path.into_inner());
    let found = db::run(&state.pool, move |c| service::credit_note(c, &id, &note, Some(&account))).await?;
    credit_note_ubl(&found)
}

/// Pay what is owed on one of your invoices: `stripe` answers the card payment page to send the
/// browser to (the invoice turns paid when Stripe's signed webhook arrives); `credit` pays from
/// your account credit at once, as far as it goes.
#[utoipa::path(tag = "billing", security(("bearer" = [])), params(("id" = String, Path, description = "Invoice id"), AccountHeader, ("Idempotency-Key" = Option<String>, Header, description = "Optional: the same key and body answer the first answer again (`Idempotent-Replayed: true`); the same key with another body is 422")), request_body = PayRequest,
    responses((status = 200, body = PayStarted), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Nothing to pay (paid, cancelled)", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "That way of paying is not available (`gateway`)", body = Problem, content_type = "application/problem+json"),
              (status = 503, description = "The payment provider cannot be reached", body = Problem, content_type = "application/problem+json")))]
#[post("/invoices/{id}/pay")]
async fn pay_invoice(
    req: HttpRequest,
    state: web::Data<AppState>,
    access: ForAccount<area::Billing>,
    id: web::Path<InvoiceId>,
    body: ValidJson<PayRequest>,
) -> Result<HttpResponse, ApiError> {
    let (account, id, body) = (access.account_id.clone(), id.into_inner().into_string(), body.0);
    let (now, mail, actor) = (state.clock.now(), state.mail(), access.auth.actor(&req));
    let work = async {
        match body.gateway {
            Gateway::Stripe if body.payment_method_id.is_some() => {
                let method = body.payment_method_id.clone().map(|m| m.into_string()).unwrap_or_default();
                let invoice =
                    crate::payments::methods::charge(&state.pool, &*state.vault, now, mail, actor, &account, (&id, &method)).await?;
                Ok(PayStarted { redirect_url: None, invoice })
            }
            Gateway::Stripe | Gateway::Razorpay => {
                let gateway = crate::payments::card(&state.deps, body.gateway).ok_or_else(|| ApiError::internal("a card gateway"))?;
                crate::payments::service::start(&state.pool, &*gateway, now, &state.config.public_url, &account, &id).await
            }
            Gateway::Credit => {
                let (account, id) = (account.clone(), id.clone());
                let invoice = db::run(&state.pool, move |c| service::pay_from_credit(c, now, &mail, &actor, &id, &account)).await?;
                Ok(PayStarted { redirect_url: None, invoice })
            }
            Gateway::BankTransfer => {
                Err(ApiError::field("gateway", "pay with stripe, razorpay or credit; a bank transfer is confirmed by us when it arrives"))
            }
        }
    };
    crate::idempotency::once(&state.pool, now, &req, &account, &(&id, &body), actix_web::http::StatusCode::OK, work).await
}

/// Your account credit: the balance per currency and the latest entries.
#[utoipa::path(tag = "billing", security(("bearer" = [])), params(AccountHeader),
    responses((status = 200, body = Credit), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/credit")]
async fn my_credit(state: web::Data<AppState>, access: ForAccount<area::Billing>) -> Result<web::Json<Credit>, ApiError> {
    let account = access.account_id;
    Ok(web::Json(db::run(&state.pool, move |c| service::credit(c, &account)).await?))
}

/// Add funds to your account credit: answers an issued invoice for the amount, to pay by card or
/// bank transfer; once it is paid the amount is your credit.
#[utoipa::path(tag = "billing", security(("bearer" = [])), params(AccountHeader, ("Idempotency-Key" = Option<String>, Header, description = "Optional: the same key and body answer the first answer again (`Idempotent-Replayed: true`); the same key with another body is 422")), request_body = AddFunds,
    responses((status = 201, body = Invoice), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "An amount out of range, or a currency the shop does not sell in", body = Problem, content_type = "application/problem+json")))]
#[post("/credit/add-funds")]
async fn add_funds(
    req: HttpRequest,
    state: web::Data<AppState>,
    access: ForAccount<area::Billing>,
    body: ValidJson<AddFunds>,
) -> Result<HttpResponse, ApiError> {
    let (now, mail, actor, account, body) = (state.clock.now(), state.mail(), access.auth.actor(&req), access.account_id.clone(), body.0);
    let (acc, input) = (account.clone(), body.clone());
    let work = db::run(&state.pool, move |c| service::add_funds(c, now, &mail, &actor, &acc, &input));
    crate::idempotency::once(&state.pool, now, &req, &account, &body, actix_web::http::StatusCode::CREATED, work).await
}

/// Every invoice, newest first; filter by status, client or number.
#[utoipa::path(tag = "billing", security(("bearer" = [])), params(InvoiceFilter, PageQuery),
    responses((status = 200, body = Page<InvoiceSummary>), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/invoices")]
async fn admin_invoices(
    state: web::Data<AppState>,
    _: BackOffice<can::BillingRead>,
    filter: ValidQuery<InvoiceFilter>,
) -> Result<web::Json<Page<InvoiceSummary>>, ApiError> {
    let filter = filter.0;
    Ok(web::Json(db::run(&state.pool, move |c| service::list(c, &filter, None)).await?))
}

/// An invoice with its lines, payments and balance.
#[utoipa::path(tag = "billing", security(("bearer" = [])), params(("id" = String, Path, description = "Invoice id")),
    responses((status = 200, body = Invoice), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/invoices/{id}")]
async fn admin_invoice(
    state: web::Data<AppState>,
    _: BackOffice<can::BillingRead>,
    id: web::Path<InvoiceId>,
) -> Result<web::Json<Invoice>, ApiError> {
    let id = id.into_inner();
    Ok(web::Json(db::run(&state.pool, move |c| service::get(c, &id, None)).await?))
}

/// An invoice as a PDF.
#[utoipa::path(tag = "billing", security(("bearer" = [])), params(("id" = String, Path, description = "Invoice id")),
    responses((status = 200, description = "The invoice as a PDF document", content_type = "application/pdf", body = Vec<u8>),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/invoices/{id}/pdf")]
async fn admin_invoice_pdf(
    state: web::Data<AppState>,
    _: BackOffice<can::BillingRead>,
    id: web::Path<InvoiceId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let inv = db::run(&state.pool, move |c| service::get(c, &id, None)).await?;
    Ok(pdf(&inv))
}

/// An invoice as an e-invoice: UBL 2.1 XML per PEPPOL BIS Billing 3.0.
#[utoipa::path(tag = "billing", security(("bearer" = [])), params(("id" = String, Path, description = "Invoice id")),
    responses((status = 200, description = "UBL 2.1 Invoice XML", content_type = "application/xml", body = String),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The invoice lacks what an e-invoice needs", body = Problem, content_type = "application/problem+json")))]
#[get("/admin/invoices/{id}/ubl")]
async fn admin_invoice_ubl(
    state: web::Data<AppState>,
    _: BackOffice<can::BillingRead>,
    id: web::Path<InvoiceId>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let inv = db::run(&state.pool, move |c| service::get(c, &id, None)).await?;
    ubl(&inv)
}

/// A credit note of an invoice (a refund) as a PDF.
#[utoipa::path(tag = "billing", security(("bearer" = [])),
    params(("id" = String, Path, description = "Invoice id"), ("note_id" = String, Path, description = "Credit note id (one of the invoice's `credit_notes`)")),
    responses((status = 200, description = "The credit note as a PDF document", content_type = "application/pdf", body = Vec<u8>),
              (status = 404, description = "No such invoice, or no such credit note of it", body = Problem, content_type = "application/problem+json")))]
#[get("/admin/invoices/{id}/credit-notes/{note_id}/pdf")]
async fn admin_credit_note_pdf(
    state: web::Data<AppState>,
    _: BackOffice<can::BillingRead>,
    path: web::Path<(InvoiceId, CreditNoteId)>,
) -> Result<HttpResponse, ApiError> {
    let (id, note) = path.into_inner();
    let found = db::run(&state.pool, move |c| service::credit_note(c, &id, &note, None)).await?;
    Ok(credit_note_pdf(&found))
}

/// A credit note of an invoice as an e-invoice: a UBL 2.1 CreditNote (type 381) per PEPPOL BIS
/// Billing 3.0, referring to the invoice.
#[utoipa::path(tag = "billing", security(("bearer" = [])),
    params(("id" = String, Path, description = "Invoice id"), ("note_id" = String, Path, description = "Credit note id (one of the invoice's `credit_notes`)")),
    responses((status = 200, description = "UBL 2.1 CreditNote XML", content_type = "application/xml", body = String),
              (status = 404, description = "No such invoice, or no such credit note of it", body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The invoice lacks what an e-invoice needs", body = Problem, content_type = "application/problem+json")))]
#[get("/admin/invoices/{id}/credit-notes/{note_id}/ubl")]
async fn admin_credit_note_ubl(
    state: web::Data<AppState>,
    _: BackOffice<can::BillingRead>,
    path: web::Path<(InvoiceId, CreditNoteId)>,
) -> Result<HttpResponse, ApiError> {
    let (id, note) = path.into_inner();
    let found = db::run(&state.pool, move |c| service::credit_note(c, &id, &note, None)).await?;
    credit_note_ubl(&found)
}

/// Record a bank transfer that arrived: applied to what is owed, any excess to the client's
/// credit; a fully paid invoice sets its order moving in the same transaction.
#[utoipa::path(tag = "billing", security(("bearer" = [])), params(("id" = String, Path, description = "Invoice id"), ("Idempotency-Key" = Option<String>, Header, description = "Optional: the same key and body answer the first answer again (`Idempotent-Replayed: true`); the same key with another body is 422")), request_body = RecordPayment,
    responses((status = 200, body = Invoice), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "A draft, cancelled or refunded invoice", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/admin/invoices/{id}/payments")]
async fn record_payment(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::BillingWrite>,
    id: web::Path<InvoiceId>,
    body: ValidJson<RecordPayment>,
) -> Result<HttpResponse, ApiError> {
    let (now, mail, actor, id, body) = (state.clock.now(), state.mail(), admin.actor(&req), id.into_inner(), body.0);
    let staff = admin.0.user_id().to_string();
    let (inv, input) = (id.clone(), body.clone());
    let work = db::run(&state.pool, move |c| service::record_transfer(c, now, &mail, &actor, &inv, input.amount_minor, &input.reference));
    crate::idempotency::once(&state.pool, now, &req, &staff, &(&id, &body), actix_web::http::StatusCode::OK, work).await
}

/// Give back part or all of one of the invoice's payments, with a credit note (`CN-<year>-…`):
/// a card payment is refunded at Stripe, a credit payment goes back to the client's credit, a
/// bank transfer is recorded as sent back. An invoice whose payments are all given back is
/// `refunded`.
#[utoipa::path(tag = "billing", security(("bearer" = [])), params(("id" = String, Path, description = "Invoice id"), ("Idempotency-Key" = Option<String>, Header, description = "Optional: the same key and body answer the first answer again (`Idempotent-Replayed: true`); the same key with another body is 422")), request_body = RefundRequest,
    responses((status = 200, body = Invoice), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "The gateway refused the refund", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Not a payment of this invoice, or more than is left of it", body = Problem, content_type = "application/problem+json"),
              (status = 503, description = "The gateway cannot be reached; nothing was refunded", body = Problem, content_type = "application/problem+json")))]
#[post("/admin/invoices/{id}/refunds")]
async fn refund_invoice(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::BillingWrite>,
    id: web::Path<InvoiceId>,
    body: ValidJson<RefundRequest>,
) -> Result<HttpResponse, ApiError> {
    let (now, actor, id, body) = (state.clock.now(), admin.actor(&req), id.into_inner().into_string(), body.0);
    let staff = admin.0.user_id().to_string();
    let work = crate::payments::service::refund(&state.pool, &state.deps, now, actor, &id, &body);
    crate::idempotency::once(&state.pool, now, &req, &staff, &(&id, &body), actix_web::http::StatusCode::OK, work).await
}

/// Start a manual invoice for a client: a draft (not numbered, not shown to the client) with the
/// lines given; add and remove lines, then issue it.
#[utoipa::path(tag = "billing", security(("bearer" = [])), request_body = NewInvoice,
    responses((status = 201, body = Invoice), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "Not a client, or a line is invalid", body = Problem, content_type = "application/problem+json")))]
#[post("/admin/invoices")]
async fn create_invoice(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::BillingWrite>,
    body: ValidJson<NewInvoice>,
) -> Result<HttpResponse, ApiError> {
    let (now, actor, body) = (state.clock.now(), admin.actor(&req), body.0);
    let inv = db::run(&state.pool, move |c| service::create_draft(c, now, &actor, &body)).await?;
    Ok(HttpResponse::Created().json(inv))
}

/// Merge a client's open invoices (nothing paid on them, one currency) into one new invoice with
/// all their lines; each merged invoice is cancelled and keeps its number; paying the new one pays
/// for their orders.
#[utoipa::path(tag = "billing", security(("bearer" = [])), request_body = MergeInvoices,
    responses((status = 201, body = Invoice), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "An invoice that cannot be merged, another client's or currency (named by its index)", body = Problem, content_type = "application/problem+json")))]
#[post("/admin/invoice-merges")]
async fn merge_invoices(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::BillingWrite>,
    body: ValidJson<MergeInvoices>,
) -> Result<HttpResponse, ApiError> {
    let (now, mail, actor, body) = (state.clock.now(), state.mail(), admin.actor(&req), body.0);
    let inv = db::run(&state.pool, move |c| service::merge(c, now, &mail, &actor, &body.invoice_ids)).await?;
    Ok(HttpResponse::Created().json(inv))
}

/// Replace a draft's lines (the list as it should be: this adds and removes lines); totals and
/// tax are computed again.
#[utoipa::path(tag = "billing", security(("bearer" = [])), params(("id" = String, Path, description = "Invoice id")), request_body = DraftLines,
    responses((status = 200, body = Invoice), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Already issued: correct it with a credit note", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/admin/invoices/{id}/lines")]
async fn put_draft_lines(
    state: web::Data<AppState>,
    _: BackOffice<can::BillingWrite>,
    id: web::Path<InvoiceId>,
    body: ValidJson<DraftLines>,
) -> Result<web::Json<Invoice>, ApiError> {
    let (now, id, body) = (state.clock.now(), id.into_inner(), body.0);
    Ok(web::Json(db::run(&state.pool, move |c| service::set_draft_lines(c, now, &id, &body.lines)).await?))
}

/// Issue a draft: it takes the next number, the seller's and client's details as they are now,
/// and is e-mailed to the client; from then on it never changes.
#[utoipa::path(tag = "billing", security(("bearer" = [])), params(("id" = String, Path, description = "Invoice id")),
    responses((status = 200, body = Invoice), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Already issued", body = Problem, content_type = "application/problem+json"),
              (status = 422, description = "No lines", body = Problem, content_type = "application/problem+json")))]
#[post("/admin/invoices/{id}/issue")]
async fn issue_invoice(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::BillingWrite>,
    id: web::Path<InvoiceId>,
) -> Result<web::Json<Invoice>, ApiError> {
    let (now, mail, actor, id) = (state.clock.now(), state.mail(), admin.actor(&req), id.into_inner());
    Ok(web::Json(db::run(&state.pool, move |c| service::issue_draft(c, now, &mail, &actor, &id)).await?))
}

/// Delete a draft. An issued invoice is never deleted: cancel it.
#[utoipa::path(tag = "billing", security(("bearer" = [])), params(("id" = String, Path, description = "Invoice id")),
    responses((status = 204, description = "Deleted"), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Issued", body = Problem, content_type = "application/problem+json")))]
#[delete("/admin/invoices/{id}")]
async fn delete_invoice(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::BillingWrite>,
    id: web::Path<InvoiceId>,
) -> Result<HttpResponse, ApiError> {
    let (now, actor, id) = (state.clock.now(), admin.actor(&req), id.into_inner());
    db::run(&state.pool, move |c| service::delete_draft(c, now, &actor, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// E-mail the client a reminder of an open invoice (the overdue wording once it is overdue).
#[utoipa::path(tag = "billing", security(("bearer" = [])), params(("id" = String, Path, description = "Invoice id")),
    responses((status = 204, description = "Queued"), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Nothing is owed on it", body = Problem, content_type = "application/problem+json")))]
#[post("/admin/invoices/{id}/remind")]
async fn remind_invoice(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::BillingWrite>,
    id: web::Path<InvoiceId>,
) -> Result<HttpResponse, ApiError> {
    let (now, mail, actor, id) = (state.clock.now(), state.mail(), admin.actor(&req), id.into_inner());
    db::run(&state.pool, move |c| service::remind(c, now, &mail, &actor, &id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Cancel an open invoice nothing was paid on, with a reason; it keeps its number.
#[utoipa::path(tag = "billing", security(("bearer" = [])), params(("id" = String, Path, description = "Invoice id")), request_body = CancelInvoice,
    responses((status = 200, body = Invoice), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "Not open, or payments were recorded", body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/admin/invoices/{id}/cancel")]
async fn cancel_invoice(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::BillingWrite>,
    id: web::Path<InvoiceId>,
    body: ValidJson<CancelInvoice>,
) -> Result<web::Json<Invoice>, ApiError> {
    let (now, actor, id, body) = (state.clock.now(), admin.actor(&req), id.into_inner(), body.0);
    Ok(web::Json(db::run(&state.pool, move |c| service::cancel(c, now, &actor, &id, &body.reason)).await?))
}

/// The seller's details, invoice numbering, due days and bank transfer instructions.
#[utoipa::path(tag = "billing", security(("bearer" = [])),
    responses((status = 200, body = BillingSettings), (status = 403, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/billing/settings")]
async fn get_settings(state: web::Data<AppState>, _: BackOffice<can::BillingRead>) -> Result<web::Json<BillingSettings>, ApiError> {
    Ok(web::Json(db::run(&state.pool, service::settings).await?))
}

/// Change the billing settings (invoices issued from now on use them; issued ones keep theirs).
#[utoipa::path(tag = "billing", security(("bearer" = [])), request_body = BillingSettings,
    responses((status = 200, body = BillingSettings), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[put("/admin/billing/settings")]
async fn put_settings(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::BillingWrite>,
    body: ValidJson<BillingSettings>,
) -> Result<web::Json<BillingSettings>, ApiError> {
    let (now, actor, body) = (state.clock.now(), admin.actor(&req), body.0);
    Ok(web::Json(db::run(&state.pool, move |c| service::update_settings(c, now, &actor, &body)).await?))
}

/// A client's credit: balances and the latest entries.
#[utoipa::path(tag = "billing", security(("bearer" = [])), params(("id" = String, Path, description = "Client id")),
    responses((status = 200, body = Credit), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/clients/{id}/credit")]
async fn client_credit(
    state: web::Data<AppState>,
    _: BackOffice<can::BillingRead>,
    id: web::Path<UserId>,
) -> Result<web::Json<Credit>, ApiError> {
    let id = id.into_inner().into_string();
    Ok(web::Json(
        db::run(&state.pool, move |c| {
            crate::accounts::users::find_user(c, &id).map_err(|_| ApiError::not_found("client"))?;
            service::credit(c, &id)
        })
        .await?,
    ))
}

/// Add credit to a client's account (positive) or take it away (negative), with a reason; the
/// balance never goes below zero.
#[utoipa::path(tag = "billing", security(("bearer" = [])), params(("id" = String, Path, description = "Client id")), request_body = CreditAdjustment,
    responses((status = 200, body = Credit), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/admin/clients/{id}/credit")]
async fn adjust_credit(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: BackOffice<can::BillingWrite>,
    id: web::Path<UserId>,
    body: ValidJson<CreditAdjustment>,
) -> Result<web::Json<Credit>, ApiError> {
    let (now, actor, id, body) = (state.clock.now(), admin.actor(&req), id.into_inner().into_string(), body.0);
    Ok(web::Json(db::run(&state.pool, move |c| service::adjust_credit(c, now, &actor, &id, &body)).await?))
}
