use actix_web::{delete, get, post, put, web, HttpRequest, HttpResponse};
use keel_shared::billing::{AddPaymentMethod, EventFilter, PaymentEvent, PaymentMethod};
use keel_shared::ids::PaymentMethodId;
use keel_shared::Problem;
use keel_shared::{Page, PageQuery};
use utoipa_actix_web::service_config::ServiceConfig;

use super::gateway::{CardGateway, Signed};
use super::{methods, service};
use crate::db;
use crate::error::ApiError;
use crate::http::auth::{area, can, AccountHeader, BackOffice, ForAccount};
use crate::http::extract::ValidQuery;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(list_methods)
        .service(add_method)
        .service(default_method)
        .service(remove_method)
        .service(stripe_webhook)
        .service(razorpay_webhook)
        .service(razorpay_callback)
        .service(razorpay_callback_post)
        .service(razorpay_page)
        .service(payment_events);
}

/// Stripe's webhook endpoint (configure it in Stripe's dashboard for `checkout.session.completed`,
/// `payment_intent.succeeded` and `payment_intent.payment_failed`). The `Stripe-Signature` must
/// verify over the raw body with the endpoint secret and be at most five minutes old, or the
/// event is refused (400) and nothing is done; a verified event is stored and acted on once,
/// however often it is sent, and answered 200 with what was done.
#[utoipa::path(tag = "payments", request_body(content = String, content_type = "application/json", description = "A Stripe event, exactly as Stripe sent it"),
    params(("Stripe-Signature" = String, Header, description = "t=<unix time>,v1=<hex HMAC-SHA256>")),
    responses((status = 200, description = "Verified and stored; the outcome says what was done", body = serde_json::Value),
              (status = 400, description = "The signature is missing, wrong or too old", body = Problem, content_type = "application/problem+json"),
              (status = 413, body = Problem, content_type = "application/problem+json")))]
#[post("/webhooks/stripe")]
async fn stripe_webhook(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let body = crate::http::extract::raw_body(payload, crate::http::extract::WEBHOOK_LIMIT).await?;
    let gateway: std::sync::Arc<dyn CardGateway> = state.stripe.clone();
    webhook(&req, &state, gateway, "Stripe-Signature", None, body).await
}

async fn webhook(
    req: &HttpRequest,
    state: &AppState,
    gateway: std::sync::Arc<dyn CardGateway>,
    signature_header: &str,
    event_id_header: Option<&str>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let signature = header(signature_header);
    let event_id = event_id_header.and_then(header);
    let (now, mail) = (state.clock.now(), state.mail());
    let received = db::run(&state.pool, move |c| {
        let signed = Signed { signature: signature.as_deref(), event_id: event_id.as_deref() };
        service::receive(c, now, &mail, &*gateway, &signed, &body)
    })
    .await?;
    match received {
        Ok(r) => Ok(HttpResponse::Ok().json(serde_json::json!({"received": true, "outcome": r.outcome, "detail": r.detail}))),
        Err(why) => Err(ApiError::bad_request("bad_signature", format!("webhook refused: {why}"))),
    }
}

/// Razorpay's webhook endpoint (configure it in Razorpay's dashboard for `payment.captured` and
/// `payment.failed`). `X-Razorpay-Signature` must be the HMAC-SHA256 of the raw body with the
/// webhook secret, or the event is refused (400); `X-Razorpay-Event-Id` makes each event count
/// once however often it is sent.
#[utoipa::path(tag = "payments", request_body(content = String, content_type = "application/json", description = "A Razorpay event, exactly as Razorpay sent it"),
    params(("X-Razorpay-Signature" = String, Header, description = "hex HMAC-SHA256 of the body"), ("X-Razorpay-Event-Id" = String, Header, description = "the event's id")),
    responses((status = 200, description = "Verified and stored; the outcome says what was done", body = serde_json::Value),
              (status = 400, description = "The signature or event id is missing or wrong", body = Problem, content_type = "application/problem+json"),
              (status = 413, body = Problem, content_type = "application/problem+json")))]
#[post("/webhooks/razorpay")]
async fn razorpay_webhook(req: HttpRequest, state: web::Data<AppState>, payload: web::Payload) -> Result<HttpResponse, ApiError> {
    let body = crate::http::extract::raw_body(payload, crate::http::extract::WEBHOOK_LIMIT).await?;
    let gateway: std::sync::Arc<dyn CardGateway> = state.razorpay.clone();
    webhook(&req, &state, gateway, "X-Razorpay-Signature", Some("X-Razorpay-Event-Id"), body).await
}

/// Where Razorpay's checkout returns the browser (`razorpay_payment_id`, `razorpay_order_id`,
/// `razorpay_signature`, or `error[…]`): a signature that verifies sends the client to the
/// invoice to see it turn paid (the webhook records the payment), anything else back to the
/// invoice to try again.
#[utoipa::path(tag = "payments", params(CallbackQuery),
    responses((status = 303, description = "To the invoice's page"), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[get("/payments/razorpay/callback")]
async fn razorpay_callback(state: web::Data<AppState>, query: web::Query<CallbackQuery>) -> Result<HttpResponse, ApiError> {
    callback(&state, query.into_inner()).await
}

/// The same, as the form POST Razorpay's checkout sends with `redirect: true`.
#[utoipa::path(tag = "payments", request_body(content = CallbackQuery, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "To the invoice's page"), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 415, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[post("/payments/razorpay/callback")]
async fn razorpay_callback_post(state: web::Data<AppState>, form: web::Form<CallbackQuery>) -> Result<HttpResponse, ApiError> {
    callback(&state, form.into_inner()).await
}

/// What Razorpay's checkout returns.
#[derive(Debug, Clone, serde::Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    pub razorpay_payment_id: Option<String>,
    pub razorpay_order_id: Option<String>,
    pub razorpay_signature: Option<String>,
    /// `error[metadata][order_id]` on a failed or cancelled payment.
    #[serde(rename = "error[metadata][order_id]")]
    pub error_order_id: Option<String>,
}

async fn callback(state: &AppState, q: CallbackQuery) -> Result<HttpResponse, ApiError> {
    let order =
        q.razorpay_order_id.clone().or(q.error_order_id.clone()).ok_or_else(|| ApiError::field("razorpay_order_id", "is missing"))?;
    if order.len() > 100 {
        return Err(ApiError::field("razorpay_order_id", "is not an order"));
    }
    let o = order.clone();
    let (invoice, _, _) = db::run(&state.pool, move |c| service::checkout(c, keel_shared::billing::Gateway::Razorpay, &o))
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    let paid = match (&q.razorpay_payment_id, &q.razorpay_signature) {
        (Some(p), Some(sig)) => state.razorpay.callback_signed(&order, p, sig),
        _ => false,
    };
    let to = format!("{}/dashboard/invoices/{invoice}{}", state.config.public_url, if paid { "?paid=1" } else { "" });
    Ok(HttpResponse::SeeOther().insert_header(("Location", to)).finish())
}

/// Keel's page for a Razorpay order: loads Razorpay's checkout widget for it (live mode; the
/// sandbox serves its own page).
#[utoipa::path(tag = "payments", params(("order" = String, Path, description = "Razorpay order id")),
    responses((status = 200, description = "An HTML page that opens Razorpay's checkout", content_type = "text/html", body = String),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
#[get("/payments/razorpay/{order}")]
async fn razorpay_page(state: web::Data<AppState>, order: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let order = order.into_inner();
    if order.len() > 100 || !order.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(ApiError::not_found("order"));
    }
    let o = order.clone();
    let (_, amount, currency) = db::run(&state.pool, move |c| service::checkout(c, keel_shared::billing::Gateway::Razorpay, &o))
        .await?
        .ok_or_else(|| ApiError::not_found("order"))?;
    let callback = format!("{}/api/v1/payments/razorpay/callback", state.config.public_url);
    let page =
        crate::payments::razorpay::widget_page(&state.razorpay.key_id, &order, amount, &currency, &state.config.company_name, &callback);
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Content-Security-Policy", "default-src 'none'; script-src 'unsafe-inline' https://checkout.razorpay.com; frame-src https://api.razorpay.com https://checkout.razorpay.com; connect-src https://api.razorpay.com https://lumberjack.razorpay.com; img-src https: data:; style-src 'unsafe-inline'"))
        .body(page))
}

/// Your saved cards, the default (the one renewals are charged to) first.
#[utoipa::path(tag = "payments", security(("bearer" = [])), params(AccountHeader),
    responses((status = 200, body = Vec<PaymentMethod>), (status = 401, body = Problem, content_type = "application/problem+json")))]
#[get("/payment-methods")]
async fn list_methods(state: web::Data<AppState>, access: ForAccount<area::Billing>) -> Result<web::Json<Vec<PaymentMethod>>, ApiError> {
    let account = access.account_id;
    Ok(web::Json(db::run(&state.pool, move |c| methods::list(c, &account)).await?))
}

/// Save a card: answers the card gateway's page to send the browser to; the card appears here
/// once the gateway reports it (signed webhook).
#[utoipa::path(tag = "payments", security(("bearer" = [])), params(AccountHeader),
    responses((status = 200, body = AddPaymentMethod), (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 503, description = "The card gateway cannot be reached", body = Problem, content_type = "application/problem+json")))]
#[post("/payment-methods")]
async fn add_method(state: web::Data<AppState>, access: ForAccount<area::Billing>) -> Result<web::Json<AddPaymentMethod>, ApiError> {
    let now = state.clock.now();
    Ok(web::Json(methods::start_saving(&state.pool, &*state.vault, now, &state.config.public_url, &access.account_id).await?))
}

/// Make a saved card the default.
#[utoipa::path(tag = "payments", security(("bearer" = [])), params(("id" = String, Path, description = "Payment method id"), AccountHeader),
    responses((status = 200, body = Vec<PaymentMethod>), (status = 404, body = Problem, content_type = "application/problem+json")))]
#[put("/payment-methods/{id}/default")]
async fn default_method(
    req: HttpRequest,
    state: web::Data<AppState>,
    access: ForAccount<area::Billing>,
    id: web::Path<PaymentMethodId>,
) -> Result<web::Json<Vec<PaymentMethod>>, ApiError> {
    let (now, actor, account, id) = (state.clock.now(), access.auth.actor(&req), access.account_id.clone(), id.into_inner().into_string());
    Ok(web::Json(db::run(&state.pool, move |c| methods::make_default(c, now, &actor, &account, &id)).await?))
}

/// Remove a saved card (at the gateway too).
#[utoipa::path(tag = "payments", security(("bearer" = [])), params(("id" = String, Path, description = "Payment method id"), AccountHeader),
    responses((status = 204, description = "Removed"), (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 503, description = "The card gateway cannot be reached", body = Problem, content_type = "application/problem+json")))]
#[delete("/payment-methods/{id}")]
async fn remove_method(
    req: HttpRequest,
    state: web::Data<AppState>,
    access: ForAccount<area::Billing>,
    id: web::Path<PaymentMethodId>,
) -> Result<HttpResponse, ApiError> {
    let (now, actor, id) = (state.clock.now(), access.auth.actor(&req), id.into_inner().into_string());
    methods::remove(&state.pool, &*state.vault, now, actor, &access.account_id, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Every webhook the payment gateways sent, newest first, with what Keel did with it; filter by
/// outcome (`unmatched` and `mismatch` need a person).
#[utoipa::path(tag = "payments", security(("bearer" = [])), params(EventFilter, PageQuery),
    responses((status = 200, body = Page<PaymentEvent>), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
#[get("/admin/payment-events")]
async fn payment_events(
    state: web::Data<AppState>,
    _: BackOffice<can::BillingRead>,
    filter: ValidQuery<EventFilter>,
) -> Result<web::Json<Page<PaymentEvent>>, ApiError> {
    let filter = filter.0;
    Ok(web::Json(db::run(&state.pool, move |c| service::events(c, &filter)).await?))
}
