use actix_web::{get, post, web, HttpRequest, HttpResponse};
use keel_shared::billing::{EventFilter, PaymentEvent};
use keel_shared::Problem;
use keel_shared::{Page, PageQuery};
use utoipa_actix_web::service_config::ServiceConfig;

use super::service;
use crate::db;
use crate::error::ApiError;
use crate::http::auth::{can, BackOffice};
use crate::http::extract::ValidQuery;
use crate::state::AppState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(stripe_webhook).service(payment_events);
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
async fn stripe_webhook(req: HttpRequest, state: web::Data<AppState>, body: web::Bytes) -> Result<HttpResponse, ApiError> {
    let signature = req.headers().get("Stripe-Signature").and_then(|v| v.to_str().ok()).map(str::to_string);
    let (now, mail, gateway) = (state.clock.now(), state.mail(), state.stripe.clone());
    let received = db::run(&state.pool, move |c| service::receive(c, now, &mail, &*gateway, signature.as_deref(), &body)).await?;
    match received {
        Ok(r) => Ok(HttpResponse::Ok().json(serde_json::json!({"received": true, "outcome": r.outcome, "detail": r.detail}))),
        Err(why) => Err(ApiError::bad_request("bad_signature", format!("webhook refused: {why}"))),
    }
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
