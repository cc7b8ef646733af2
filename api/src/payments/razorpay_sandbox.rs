//! The Razorpay sandbox: an in-process stand-in for Razorpay's Orders and refund API (JSON, HTTP
//! Basic `key_id:key_secret`, Razorpay's error envelope) and for its checkout widget — a page with
//! Pay / Fail / Cancel buttons that, like the widget, sends the signed `payment.captured` (or
//! `payment.failed`) webhook and returns the browser to the callback with
//! `razorpay_payment_id`, `razorpay_order_id` and `razorpay_signature`.
//!
//! Served at `/sandbox/razorpay` when no Razorpay keys are configured; the tests run it on a
//! loopback port.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::razorpay::hmac_hex;
use super::sandbox::{escape, html, random, Delivered, Outbox};
use crate::clock::SharedClock;

#[derive(Debug)]
pub struct RazorpaySandbox {
    pub key_id: String,
    pub key_secret: String,
    pub webhook_secret: String,
    /// Where the sandbox's own pages are reached (`…/sandbox/razorpay`).
    pub base_url: String,
    /// Where the browser returns after paying (Keel's callback).
    pub callback_url: String,
    /// The events sent (POSTed to the webhook URL, when there is one).
    outbox: Outbox,
    clock: SharedClock,
    orders: Mutex<HashMap<String, Value>>,
    /// Payments: amount, currency, refunded so far.
    payments: Mutex<HashMap<String, (i64, String, i64)>>,
}

impl RazorpaySandbox {
    pub fn new(base_url: &str, webhook_url: Option<String>, callback_url: &str, clock: SharedClock) -> RazorpaySandbox {
        RazorpaySandbox {
            key_id: "rzp_test_keelsandbox".into(),
            key_secret: random("", 24),
            webhook_secret: random("", 24),
            base_url: base_url.trim_end_matches('/').to_string(),
            callback_url: callback_url.to_string(),
            outbox: Outbox::new(webhook_url),
            clock,
            orders: Mutex::new(HashMap::new()),
            payments: Mutex::new(HashMap::new()),
        }
    }

    /// With given keys (a test's stand-in for a "live" configuration).
    pub fn with_keys(mut self, key_id: &str, key_secret: &str, webhook_secret: &str) -> RazorpaySandbox {
        self.key_id = key_id.into();
        self.key_secret = key_secret.into();
        self.webhook_secret = webhook_secret.into();
        self
    }

    pub fn set_delivery(&self, on: bool) {
        self.outbox.set_delivery(on);
    }

    /// The events sent so far, oldest first (`signature` is the `X-Razorpay-Signature`,
    /// `event_id` the `X-Razorpay-Event-Id`).
    pub fn delivered(&self) -> Vec<Delivered> {
        self.outbox.delivered()
    }

    async fn send(&self, kind: &str, payment: Value) {
        let now = self.clock.now().timestamp();
        let body = json!({
            "entity": "event", "account_id": "acc_KeelSandbox", "event": kind, "contains": ["payment"],
            "payload": {"payment": {"entity": payment}}, "created_at": now,
        })
        .to_string();
        let signature = hmac_hex(&self.webhook_secret, body.as_bytes());
        let event_id = random("evt_", 14);
        self.outbox
            .send(kind, Delivered { signature, body, event_id: Some(event_id) }, "X-Razorpay-Signature", Some("X-Razorpay-Event-Id"))
            .await;
    }
}

pub fn configure(cfg: &mut web::ServiceConfig, sandbox: Arc<RazorpaySandbox>) {
    cfg.app_data(web::Data::from(sandbox))
        .route("/v1/orders", web::post().to(create_order))
        .route("/v1/payments/{id}/refund", web::post().to(refund))
        .route("/pay/{id}", web::get().to(page))
        .route("/pay/{id}", web::post().to(act));
}

fn error(status: StatusCode, description: &str, field: Option<&str>) -> HttpResponse {
    let code = if status.is_server_error() { "SERVER_ERROR" } else { "BAD_REQUEST_ERROR" };
    HttpResponse::build(status)
        .json(json!({"error": {"code": code, "description": description, "source": "business", "step": "payment_initiation",
        "reason": "input_validation_failed", "metadata": {}, "field": field}}))
}

fn authorised(req: &HttpRequest, s: &RazorpaySandbox) -> bool {
    use base64_light::encode;
    let want = format!("Basic {}", encode(format!("{}:{}", s.key_id, s.key_secret).as_bytes()));
    req.headers().get("Authorization").and_then(|v| v.to_str().ok()).is_some_and(|v| v == want)
}

/// Base64 (standard alphabet, padded) for the Basic credentials check.
mod base64_light {
    pub fn encode(input: &[u8]) -> String {
        const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
        for chunk in input.chunks(3) {
            let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

async fn create_order(req: HttpRequest, body: web::Bytes, s: web::Data<RazorpaySandbox>) -> HttpResponse {
    if !authorised(&req, &s) {
        return error(StatusCode::UNAUTHORIZED, "Authentication failed", None);
    }
    let Ok(input) = serde_json::from_slice::<Value>(&body) else {
        return error(StatusCode::BAD_REQUEST, "The request body is not valid JSON", None);
    };
    let Some(amount) = input["amount"].as_i64().filter(|a| *a >= 100) else {
        return error(StatusCode::BAD_REQUEST, "The amount must be at least INR 1.00", Some("amount"));
    };
    let Some(currency) = input["currency"].as_str().filter(|c| c.len() == 3) else {
        return error(StatusCode::BAD_REQUEST, "The currency field is required", Some("currency"));
    };
    if input["receipt"].as_str().is_some_and(|r| r.chars().count() > 40) {
        return error(StatusCode::BAD_REQUEST, "receipt: the length may not be greater than 40", Some("receipt"));
    }
    if input["notes"].as_object().is_some_and(|n| n.len() > 15) {
        return error(StatusCode::BAD_REQUEST, "notes: at most 15 pairs", Some("notes"));
    }
    let id = random("order_", 14);
    let order = json!({
        "id": id, "entity": "order", "amount": amount, "amount_paid": 0, "amount_due": amount, "currency": currency,
        "receipt": input["receipt"], "offer_id": null, "status": "created", "attempts": 0,
        "notes": input.get("notes").cloned().unwrap_or_else(|| json!([])), "created_at": s.clock.now().timestamp(),
    });
    if let Ok(mut o) = s.orders.lock() {
        o.insert(id, order.clone());
    }
    HttpResponse::Ok().json(order)
}

async fn refund(req: HttpRequest, id: web::Path<String>, body: web::Bytes, s: web::Data<RazorpaySandbox>) -> HttpResponse {
    if !authorised(&req, &s) {
        return error(StatusCode::UNAUTHORIZED, "Authentication failed", None);
    }
    let input: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Ok(mut payments) = s.payments.lock() else { return error(StatusCode::INTERNAL_SERVER_ERROR, "lock", None) };
    let Some((amount, currency, refunded)) = payments.get_mut(id.as_str()) else {
        return error(StatusCode::BAD_REQUEST, "The id provided does not exist", Some("payment_id"));
    };
    let left = *amount - *refunded;
    if left == 0 {
        return error(StatusCode::BAD_REQUEST, "The payment has been fully refunded already.", None);
    }
    let want = input["amount"].as_i64().unwrap_or(left);
    if want <= 0 || want > left {
        return error(StatusCode::BAD_REQUEST, "The refund amount provided is greater than amount captured.", Some("amount"));
    }
    *refunded += want;
    HttpResponse::Ok().json(json!({
        "id": random("rfnd_", 14), "entity": "refund", "amount": want, "currency": currency, "payment_id": id.as_str(),
        "notes": [], "receipt": input["receipt"], "acquirer_data": {"arn": null}, "created_at": s.clock.now().timestamp(),
        "batch_id": null, "status": "processed", "speed_processed": "normal", "speed_requested": "normal",
    }))
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#eef2f9;margin:0;color:#1f2430}\
.band{background:#fde68a;color:#713f12;text-align:center;padding:.6rem;font-weight:600}\
main{max-width:26rem;margin:3rem auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 2px 12px #0001}\
h1{font-size:1.1rem;margin:0}.amount{font-size:2.2rem;font-weight:700;margin:1rem 0}\
button{width:100%;padding:.8rem;border:0;border-radius:8px;font-size:1rem;margin-top:.6rem;cursor:pointer}\
.pay{background:#3395ff;color:#fff}.fail{background:#fee2e2;color:#991b1b}.cancel{background:#eef0f3;color:#1f2430}";

async fn page(id: web::Path<String>, s: web::Data<RazorpaySandbox>) -> HttpResponse {
    let Some(order) = s.orders.lock().ok().and_then(|o| o.get(id.as_str()).cloned()) else {
        return html(
            StatusCode::NOT_FOUND,
            format!("<!doctype html><title>Not found</title><style>{STYLE}</style><main><h1>No such order.</h1></main>"),
        );
    };
    let minor = order["amount"].as_i64().unwrap_or(0);
    let currency = order["currency"].as_str().unwrap_or("");
    let amount = match keel_shared::Currency::parse(currency) {
        Some(c) => keel_shared::Money::new(minor, c).to_string(),
        None => format!("{minor} {currency}"),
    };
    let actions = if order["status"] == "created" {
        format!(
            "<form method=post action=\"{base}/pay/{id}\"><button class=pay name=action value=pay>Pay {amount} (UPI)</button>\
             <button class=fail name=action value=fail>Fail the payment</button><button class=cancel name=action value=cancel>Cancel</button></form>",
            base = escape(&s.base_url),
            id = escape(&id),
            amount = escape(&amount),
        )
    } else {
        "<p>This order is paid.</p>".to_string()
    };
    html(
        StatusCode::OK,
        format!(
            "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\"><title>Sandbox checkout</title>\
             <style>{STYLE}</style></head><body><div class=band>Razorpay sandbox — a stand-in for Razorpay Checkout. No real money moves.</div>\
             <main><h1>{receipt}</h1><div class=amount>{amount}</div>{actions}</main></body></html>",
            receipt = escape(order["receipt"].as_str().unwrap_or("Order")),
            amount = escape(&amount),
        ),
    )
}

#[derive(serde::Deserialize)]
struct Action {
    action: String,
}

async fn act(id: web::Path<String>, form: web::Form<Action>, s: web::Data<RazorpaySandbox>) -> HttpResponse {
    let Some(order) = s.orders.lock().ok().and_then(|o| o.get(id.as_str()).cloned()) else {
        return html(
            StatusCode::NOT_FOUND,
            format!("<!doctype html><title>Not found</title><style>{STYLE}</style><main><h1>No such order.</h1></main>"),
        );
    };
    if order["status"] != "created" {
        return html(
            StatusCode::CONFLICT,
            format!("<!doctype html><title>Paid</title><style>{STYLE}</style><main><h1>This order is paid.</h1></main>"),
        );
    }
    let pay_id = random("pay_", 14);
    let (amount, currency) = (order["amount"].as_i64().unwrap_or(0), order["currency"].as_str().unwrap_or("").to_string());
    let entity = |status: &str| {
        json!({"id": pay_id, "entity": "payment", "amount": amount, "currency": currency, "status": status, "order_id": id.as_str(),
               "invoice_id": null, "international": false, "method": "upi", "amount_refunded": 0, "captured": status == "captured",
               "email": "client@example.com", "notes": [], "created_at": s.clock.now().timestamp()})
    };
    let back = |query: String| HttpResponse::SeeOther().insert_header(("Location", format!("{}?{query}", s.callback_url))).finish();
    match form.action.as_str() {
        "pay" => {
            if let Ok(mut o) = s.orders.lock() {
                if let Some(order) = o.get_mut(id.as_str()) {
                    order["status"] = json!("paid");
                    order["amount_paid"] = json!(amount);
                    order["amount_due"] = json!(0);
                }
            }
            if let Ok(mut p) = s.payments.lock() {
                p.insert(pay_id.clone(), (amount, currency.clone(), 0));
            }
            s.send("payment.captured", entity("captured")).await;
            let signature = hmac_hex(&s.key_secret, format!("{id}|{pay_id}").as_bytes());
            back(format!("razorpay_payment_id={pay_id}&razorpay_order_id={id}&razorpay_signature={signature}"))
        }
        "fail" => {
            let mut failed = entity("failed");
            failed["error_code"] = json!("BAD_REQUEST_ERROR");
            failed["error_description"] = json!("Payment failed because the UPI request was declined.");
            s.send("payment.failed", failed).await;
            back(format!("error[code]=BAD_REQUEST_ERROR&error[metadata][order_id]={id}"))
        }
        "cancel" => back(format!("error[code]=BAD_REQUEST_ERROR&error[reason]=payment_cancelled&error[metadata][order_id]={id}")),
        _ => html(
            StatusCode::BAD_REQUEST,
            format!("<!doctype html><title>Bad request</title><style>{STYLE}</style><main><h1>Unknown action.</h1></main>"),
        ),
    }
}
