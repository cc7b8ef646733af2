//! The Stripe sandbox: an in-process stand-in that speaks Stripe's documented request and response
//! shapes (`POST /v1/checkout/sessions`, form-encoded, Bearer key; the Session object; signed
//! webhook events), with a hosted "sandbox checkout" page whose Pay / Decline / Cancel buttons
//! do what Stripe's page would: mark the session, send the signed events to the webhook URL, and
//! send the browser back to `success_url` or `cancel_url`.
//!
//! Keel mounts it at `/sandbox/stripe` when no Stripe key is configured, so a fresh `make run`
//! takes payments end to end with no account anywhere; the test suite runs the same stand-in on
//! a loopback port. Every event it sends is also kept (the last 200) for tests to read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{web, HttpRequest, HttpResponse};
use rand::Rng;
use serde_json::{json, Value};

use super::stripe::sign;
use crate::clock::SharedClock;

/// One webhook the sandbox sent (or would have sent).
#[derive(Debug, Clone)]
pub struct Delivered {
    pub signature: String,
    pub body: String,
    /// The event id header (Razorpay's `X-Razorpay-Event-Id`; Stripe's id is in the body).
    pub event_id: Option<String>,
}

/// The webhooks a sandbox sends: each one kept (the last 200, for tests to read) and, while
/// delivery is on and a URL is set, POSTed there with its signature headers.
#[derive(Debug)]
pub struct Outbox {
    url: Option<String>,
    deliver: AtomicBool,
    kept: Mutex<Vec<Delivered>>,
}

impl Outbox {
    pub fn new(url: Option<String>) -> Outbox {
        Outbox { url, deliver: AtomicBool::new(true), kept: Mutex::new(Vec::new()) }
    }

    pub fn set_delivery(&self, on: bool) {
        self.deliver.store(on, Ordering::Relaxed);
    }

    pub fn delivered(&self) -> Vec<Delivered> {
        self.kept.lock().map(|d| d.clone()).unwrap_or_default()
    }

    /// Keeps the event and POSTs it with `signature` in `signature_header` (and the event id in
    /// `id_header`, when the gateway sends it as a header).
    pub async fn send(&self, kind: &str, event: Delivered, signature_header: &str, id_header: Option<&str>) {
        if let Ok(mut d) = self.kept.lock() {
            if d.len() >= 200 {
                d.remove(0);
            }
            d.push(event.clone());
        }
        let Some(url) = self.url.as_deref().filter(|_| self.deliver.load(Ordering::Relaxed)) else { return };
        let sent = match crate::outbound::client(std::time::Duration::from_secs(10)) {
            Ok(http) => {
                let mut req = http.post(url).header("Content-Type", "application/json").header(signature_header, event.signature);
                if let (Some(h), Some(id)) = (id_header, event.event_id) {
                    req = req.header(h, id);
                }
                req.body(event.body).send().await.map(|r| r.status()).map_err(|e| e.to_string())
            }
            Err(e) => Err(e),
        };
        match sent {
            Ok(status) if status.is_success() => tracing::info!(kind, "sandbox webhook delivered"),
            Ok(status) => tracing::warn!(kind, %status, "sandbox webhook refused"),
            Err(e) => tracing::warn!(kind, error = %e, "sandbox webhook not delivered"),
        }
    }
}

#[derive(Debug, Clone)]
struct Session {
    object: Value,
    /// `payment_intent_data[metadata]`.
    intent_metadata: Value,
}

#[derive(Debug)]
pub struct StripeSandbox {
    /// The API key clients must send.
    pub secret_key: String,
    pub webhook_secret: String,
    /// The address the sandbox's own pages are reached at (`…/sandbox/stripe`).
    pub base_url: String,
    /// The events sent (POSTed to the webhook URL, when there is one).
    outbox: Outbox,
    clock: SharedClock,
    sessions: Mutex<HashMap<String, Session>>,
    /// PaymentIntents paid: amount, currency, refunded so far.
    intents: Mutex<HashMap<String, (i64, String, i64)>>,
    /// `Idempotency-Key` → the parameters and the answer given for it (refunds, charges, customers).
    replays: Mutex<HashMap<String, (String, Value)>>,
    /// Customers made.
    customers: Mutex<std::collections::HashSet<String>>,
    /// Saved cards: payment method id → (customer, last4).
    cards: Mutex<HashMap<String, (Option<String>, String)>>,
}

pub(super) fn random(prefix: &str, len: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..len).map(|_| CHARS[rng.random_range(0..CHARS.len())] as char).collect();
    format!("{prefix}{tail}")
}

impl StripeSandbox {
    pub fn new(base_url: &str, webhook_url: Option<String>, clock: SharedClock) -> StripeSandbox {
        StripeSandbox {
            secret_key: random("sk_test_", 24),
            webhook_secret: random("whsec_", 32),
            base_url: base_url.trim_end_matches('/').to_string(),
            outbox: Outbox::new(webhook_url),
            clock,
            sessions: Mutex::new(HashMap::new()),
            intents: Mutex::new(HashMap::new()),
            replays: Mutex::new(HashMap::new()),
            customers: Mutex::new(std::collections::HashSet::new()),
            cards: Mutex::new(HashMap::new()),
        }
    }

    /// With a given key and secret (a test's stand-in for a "live" configuration).
    pub fn with_keys(mut self, secret_key: &str, webhook_secret: &str) -> StripeSandbox {
        self.secret_key = secret_key.into();
        self.webhook_secret = webhook_secret.into();
        self
    }

    /// Stop (or resume) POSTing events; they are still kept.
    pub fn set_delivery(&self, on: bool) {
        self.outbox.set_delivery(on);
    }

    /// The events sent so far, oldest first.
    pub fn delivered(&self) -> Vec<Delivered> {
        self.outbox.delivered()
    }

    fn session(&self, id: &str) -> Option<Session> {
        self.sessions.lock().ok()?.get(id).cloned()
    }

    /// Builds, signs, keeps and (when on) sends an event.
    async fn send(&self, kind: &str, object: Value) {
        let now = self.clock.now().timestamp();
        let body = json!({
            "id": random("evt_", 24), "object": "event", "api_version": "2024-06-20", "created": now,
            "livemode": false, "pending_webhooks": 1, "request": {"id": null, "idempotency_key": null},
            "type": kind, "data": {"object": object},
        })
        .to_string();
        let signature = format!("t={now},v1={}", sign(&self.webhook_secret, now, body.as_bytes()));
        self.outbox.send(kind, Delivered { signature, body, event_id: None }, "Stripe-Signature", None).await;
    }
}

/// The sandbox's routes, relative to where it is mounted.
pub fn configure(cfg: &mut web::ServiceConfig, sandbox: Arc<StripeSandbox>) {
    cfg.app_data(web::Data::from(sandbox))
        .route("/v1/checkout/sessions", web::post().to(create_session))
        .route("/v1/checkout/sessions/{id}", web::get().to(get_session))
        .route("/v1/refunds", web::post().to(create_refund))
        .route("/v1/customers", web::post().to(create_customer))
        .route("/v1/payment_intents", web::post().to(create_intent))
        .route("/v1/payment_methods/{id}/detach", web::post().to(detach))
        .route("/pay/{id}", web::get().to(page))
        .route("/pay/{id}", web::post().to(act));
}

fn stripe_error(status: actix_web::http::StatusCode, kind: &str, message: &str, param: Option<&str>) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("Request-Id", random("req_", 14)))
        .json(json!({"error": {"type": kind, "message": message, "param": param}}))
}

fn authorised(req: &HttpRequest, sandbox: &StripeSandbox) -> bool {
    req.headers().get("Authorization").and_then(|v| v.to_str().ok()).is_some_and(|v| v == format!("Bearer {}", sandbox.secret_key))
}

async fn create_session(req: HttpRequest, body: web::Bytes, sandbox: web::Data<StripeSandbox>) -> HttpResponse {
    use actix_web::http::StatusCode;
    if !authorised(&req, &sandbox) {
        return stripe_error(StatusCode::UNAUTHORIZED, "invalid_request_error", "Invalid API Key provided", None);
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| form.get(k).map(String::as_str);
    if get("mode") == Some("setup") {
        return setup_session(&form, &sandbox);
    }
    if get("mode") != Some("payment") {
        return stripe_error(StatusCode::BAD_REQUEST, "invalid_request_error", "Missing or unsupported mode", Some("mode"));
    }
    let mut amount_total: i64 = 0;
    let mut currency = None;
    let mut names = Vec::new();
    for i in 0.. {
        let key = |f: &str| format!("line_items[{i}]{f}");
        let Some(c) = get(&key("[price_data][currency]")) else { break };
        let (Some(unit), Some(qty)) = (
            get(&key("[price_data][unit_amount]")).and_then(|a| a.parse::<i64>().ok()).filter(|a| *a >= 0),
            get(&key("[quantity]")).and_then(|q| q.parse::<i64>().ok()).filter(|q| *q >= 1),
        ) else {
            return stripe_error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "Invalid integer",
                Some(&key("[price_data][unit_amount]")),
            );
        };
        if currency.is_some_and(|cur| cur != c) {
            return stripe_error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                "All line items must have the same currency",
                Some(&key("[price_data][currency]")),
            );
        }
        currency = Some(c);
        amount_total = amount_total.saturating_add(unit.saturating_mul(qty));
        names.push(get(&key("[price_data][product_data][name]")).unwrap_or("Item").to_string());
    }
    let Some(currency) = currency else {
        return stripe_error(StatusCode::BAD_REQUEST, "invalid_request_error", "Missing required param: line_items", Some("line_items"));
    };
    let (Some(success), Some(cancel)) = (get("success_url"), get("cancel_url")) else {
        return stripe_error(StatusCode::BAD_REQUEST, "invalid_request_error", "Missing required param: success_url", Some("success_url"));
    };
    let metadata = |prefix: &str| -> Value {
        form.iter()
            .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.strip_suffix(']')?.to_string(), Value::String(v.clone()))))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let id = random("cs_test_", 40);
    let now = sandbox.clock.now().timestamp();
    let object = json!({
        "id": id, "object": "checkout.session", "url": format!("{}/pay/{id}", sandbox.base_url),
        "status": "open", "payment_status": "unpaid", "mode": "payment", "amount_total": amount_total, "currency": currency,
        "client_reference_id": get("client_reference_id"), "customer": null, "customer_email": get("customer_email"),
        "customer_creation": "if_required", "metadata": metadata("metadata["), "payment_intent": null,
        "expires_at": now + 86_400, "created": now, "livemode": false, "success_url": success, "cancel_url": cancel,
        "line_item_names": names,
    });
    let session = Session { object: object.clone(), intent_metadata: metadata("payment_intent_data[metadata][") };
    if let Ok(mut s) = sandbox.sessions.lock() {
        s.insert(id, session);
    }
    HttpResponse::Ok().insert_header(("Request-Id", random("req_", 14))).json(object)
}

async fn get_session(req: HttpRequest, id: web::Path<String>, sandbox: web::Data<StripeSandbox>) -> HttpResponse {
    use actix_web::http::StatusCode;
    if !authorised(&req, &sandbox) {
        return stripe_error(StatusCode::UNAUTHORIZED, "invalid_request_error", "Invalid API Key provided", None);
    }
    match sandbox.session(&id) {
        Some(s) => HttpResponse::Ok().json(s.object),
        None => stripe_error(StatusCode::NOT_FOUND, "invalid_request_error", &format!("No such checkout.session: '{id}'"), Some("session")),
    }
}

/// `POST /v1/refunds` (`payment_intent`, optional `amount`): refunds what is left at most;
/// the same `Idempotency-Key` with the same parameters answers the same refund, with others 400.
async fn create_refund(req: HttpRequest, body: web::Bytes, sandbox: web::Data<StripeSandbox>) -> HttpResponse {
    use actix_web::http::StatusCode;
    if !authorised(&req, &sandbox) {
        return stripe_error(StatusCode::UNAUTHORIZED, "invalid_request_error", "Invalid API Key provided", None);
    }
    let params = String::from_utf8_lossy(&body).into_owned();
    if let Some(answer) = replayed(&req, &params, &sandbox) {
        return answer;
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let Some(intent) = form.get("payment_intent") else {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "Missing required param: payment_intent",
            Some("payment_intent"),
        );
    };
    let mut intents = match sandbox.intents.lock() {
        Ok(i) => i,
        Err(_) => return stripe_error(StatusCode::INTERNAL_SERVER_ERROR, "api_error", "lock poisoned", None),
    };
    let Some((paid, currency, refunded)) = intents.get_mut(intent) else {
        return stripe_error(
            StatusCode::NOT_FOUND,
            "invalid_request_error",
            &format!("No such payment_intent: '{intent}'"),
            Some("payment_intent"),
        );
    };
    let left = *paid - *refunded;
    let amount = match form.get("amount").map(|a| a.parse::<i64>()) {
        None => left,
        Some(Ok(a)) if a > 0 => a,
        Some(_) => return stripe_error(StatusCode::BAD_REQUEST, "invalid_request_error", "Invalid integer", Some("amount")),
    };
    if left == 0 {
        return stripe_error(StatusCode::BAD_REQUEST, "invalid_request_error", "Charge has already been refunded.", None);
    }
    if amount > left {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "Refund amount is greater than unrefunded amount on charge",
            Some("amount"),
        );
    }
    *refunded += amount;
    let answer = json!({
        "id": random("re_", 24), "object": "refund", "amount": amount, "charge": random("ch_", 24), "payment_intent": intent,
        "currency": currency, "status": "succeeded", "reason": form.get("reason"), "metadata": {},
        "created": sandbox.clock.now().timestamp(), "balance_transaction": random("txn_", 24),
    });
    drop(intents);
    remember(&req, params, &answer, &sandbox);
    HttpResponse::Ok().insert_header(("Request-Id", random("req_", 14))).json(answer)
}

pub(super) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

pub(super) fn html(status: actix_web::http::StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"))
        .body(body)
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;color:#1f2430}\
.band{background:#fde68a;color:#713f12;text-align:center;padding:.6rem;font-weight:600}\
main{max-width:26rem;margin:3rem auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 2px 12px #0001}\
h1{font-size:1.1rem;margin:0 0 .25rem}.amount{font-size:2.2rem;font-weight:700;margin:1rem 0}\
.muted{color:#5b6170;font-size:.9rem}button{width:100%;padding:.8rem;border:0;border-radius:8px;font-size:1rem;margin-top:.6rem;cursor:pointer}\
.pay{background:#635bff;color:#fff}.fail{background:#fee2e2;color:#991b1b}.cancel{background:#eef0f3;color:#1f2430}\
.card{border:1px solid #d9dce1;border-radius:8px;padding:.7rem;margin-top:1rem;font-family:monospace}";

fn amount_text(minor: i64, currency: &str) -> String {
    match keel_shared::Currency::parse(&currency.to_ascii_uppercase()) {
        Some(c) => keel_shared::Money::new(minor, c).to_string(),
        None => format!("{minor} {currency}"),
    }
}

async fn page(id: web::Path<String>, sandbox: web::Data<StripeSandbox>) -> HttpResponse {
    use actix_web::http::StatusCode;
    let Some(s) = sandbox.session(&id) else {
        return html(
            StatusCode::NOT_FOUND,
            format!("<!doctype html><title>Not found</title><style>{STYLE}</style><main><h1>This checkout link is not valid.</h1></main>"),
        );
    };
    let o = &s.object;
    if o["mode"] == "setup" {
        return setup_page(&id, &s, &sandbox);
    }
    let names =
        o["line_item_names"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ")).unwrap_or_default();
    let amount = amount_text(o["amount_total"].as_i64().unwrap_or(0), o["currency"].as_str().unwrap_or(""));
    let state = o["status"].as_str().unwrap_or("open");
    let actions = if state == "open" {
        format!(
            "<form method=post action=\"{base}/pay/{id}\"><div class=card>4242 4242 4242 4242 · 12/34 · 123</div>\
             <button class=pay name=action value=pay>Pay {amount}</button>\
             <button class=fail name=action value=fail>Decline the card</button>\
             <button class=cancel name=action value=cancel>Cancel and go back</button></form>",
            base = escape(&sandbox.base_url),
            id = escape(&id),
            amount = escape(&amount),
        )
    } else {
        format!("<p>This checkout is {}.</p>", escape(state))
    };
    html(
        StatusCode::OK,
        format!(
            "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\">\
             <title>Sandbox checkout</title><style>{STYLE}</style></head><body>\
             <div class=band>Stripe sandbox — a stand-in for Stripe Checkout. No real money moves.</div>\
             <main><h1>{names}</h1><div class=muted>{email}</div><div class=amount>{amount}</div>{actions}</main></body></html>",
            names = escape(&names),
            email = escape(o["customer_email"].as_str().unwrap_or("")),
            amount = escape(&amount),
        ),
    )
}

#[derive(serde::Deserialize)]
struct Action {
    action: String,
}

async fn act(id: web::Path<String>, form: web::Form<Action>, sandbox: web::Data<StripeSandbox>) -> HttpResponse {
    use actix_web::http::StatusCode;
    let Some(mut s) = sandbox.session(&id) else {
        return html(
            StatusCode::NOT_FOUND,
            format!("<!doctype html><title>Not found</title><style>{STYLE}</style><main><h1>This checkout link is not valid.</h1></main>"),
        );
    };
    if s.object["status"] != "open" {
        return html(
            StatusCode::CONFLICT,
            format!("<!doctype html><title>Done</title><style>{STYLE}</style><main><h1>This checkout is already finished.</h1></main>"),
        );
    }
    let see_other = |url: &str| HttpResponse::SeeOther().insert_header(("Location", url.replace("{CHECKOUT_SESSION_ID}", &id))).finish();
    if s.object["mode"] == "setup" {
        return save_card(&id, s, &form.action, &sandbox).await;
    }
    let intent = random("pi_", 24);
    let amount = s.object["amount_total"].clone();
    let (currency, metadata) = (s.object["currency"].clone(), s.intent_metadata.clone());
    let intent_object = |status: &str| {
        json!({
            "id": intent, "object": "payment_intent", "status": status, "amount": amount, "currency": currency,
            "customer": null, "payment_method": random("pm_", 24), "metadata": metadata,
        })
    };
    match form.action.as_str() {
        "pay" => {
            s.object["status"] = json!("complete");
            s.object["payment_status"] = json!("paid");
            s.object["payment_intent"] = json!(intent);
            let mut pi = intent_object("succeeded");
            pi["amount_received"] = amount.clone();
            pi["latest_charge"] = json!(random("ch_", 24));
            if let Ok(mut all) = sandbox.sessions.lock() {
                all.insert(id.to_string(), s.clone());
            }
            if let Ok(mut all) = sandbox.intents.lock() {
                all.insert(intent.clone(), (amount.as_i64().unwrap_or(0), currency.as_str().unwrap_or("").to_string(), 0));
            }
            sandbox.send("checkout.session.completed", s.object.clone()).await;
            sandbox.send("payment_intent.succeeded", pi).await;
            see_other(s.object["success_url"].as_str().unwrap_or("/"))
        }
        "fail" => {
            let mut pi = intent_object("requires_payment_method");
            pi["last_payment_error"] = json!({"type": "card_error", "code": "card_declined", "decline_code": "generic_decline", "message": "Your card was declined."});
            sandbox.send("payment_intent.payment_failed", pi).await;
            see_other(s.object["cancel_url"].as_str().unwrap_or("/"))
        }
        "cancel" => see_other(s.object["cancel_url"].as_str().unwrap_or("/")),
        _ => html(
            StatusCode::BAD_REQUEST,
            format!("<!doctype html><title>Bad request</title><style>{STYLE}</style><main><h1>Unknown action.</h1></main>"),
        ),
    }
}

/// A Checkout Session in setup mode: saves a card to `customer`.
fn setup_session(form: &HashMap<String, String>, sandbox: &StripeSandbox) -> HttpResponse {
    use actix_web::http::StatusCode;
    let get = |k: &str| form.get(k).map(String::as_str);
    let Some(customer) = get("customer").filter(|c| sandbox.customers.lock().is_ok_and(|all| all.contains(*c))) else {
        return stripe_error(StatusCode::BAD_REQUEST, "invalid_request_error", "No such customer", Some("customer"));
    };
    let (Some(success), Some(cancel)) = (get("success_url"), get("cancel_url")) else {
        return stripe_error(StatusCode::BAD_REQUEST, "invalid_request_error", "Missing required param: success_url", Some("success_url"));
    };
    let id = random("cs_test_", 40);
    let now = sandbox.clock.now().timestamp();
    let object = json!({
        "id": id, "object": "checkout.session", "url": format!("{}/pay/{id}", sandbox.base_url), "status": "open",
        "payment_status": "no_payment_required", "mode": "setup", "currency": get("currency"), "customer": customer,
        "setup_intent": null, "metadata": {}, "expires_at": now + 86_400, "created": now, "livemode": false,
        "success_url": success, "cancel_url": cancel,
    });
    if let Ok(mut all) = sandbox.sessions.lock() {
        all.insert(id, Session { object: object.clone(), intent_metadata: json!({}) });
    }
    HttpResponse::Ok().insert_header(("Request-Id", random("req_", 14))).json(object)
}

fn setup_page(id: &str, s: &Session, sandbox: &StripeSandbox) -> HttpResponse {
    use actix_web::http::StatusCode;
    let actions = if s.object["status"] == "open" {
        format!(
            "<form method=post action=\"{base}/pay/{id}\"><div class=card>4242 4242 4242 4242 · 12/34 · 123</div>\
             <button class=pay name=action value=save>Save card</button>\
             <button class=fail name=action value=save_declining>Save a card that will be declined (…0002)</button>\
             <button class=cancel name=action value=cancel>Cancel and go back</button></form>",
            base = escape(&sandbox.base_url),
            id = escape(id),
        )
    } else {
        "<p>This card is saved.</p>".to_string()
    };
    html(
        StatusCode::OK,
        format!(
            "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content=\"width=device-width,initial-scale=1\">\
             <title>Sandbox: save a card</title><style>{STYLE}</style></head><body>\
             <div class=band>Stripe sandbox — a stand-in for Stripe Checkout. No real card is stored.</div>\
             <main><h1>Save a card for later payments</h1>{actions}</main></body></html>"
        ),
    )
}

async fn save_card(id: &str, mut s: Session, action: &str, sandbox: &StripeSandbox) -> HttpResponse {
    use actix_web::http::StatusCode;
    let see_other = |url: &str| HttpResponse::SeeOther().insert_header(("Location", url.replace("{CHECKOUT_SESSION_ID}", id))).finish();
    let last4 = match action {
        "save" => "4242",
        "save_declining" => "0002",
        "cancel" => return see_other(s.object["cancel_url"].as_str().unwrap_or("/")),
        _ => {
            return html(
                StatusCode::BAD_REQUEST,
                format!("<!doctype html><title>Bad request</title><style>{STYLE}</style><main><h1>Unknown action.</h1></main>"),
            )
        }
    };
    let customer = s.object["customer"].as_str().unwrap_or_default().to_string();
    let method = random("pm_", 24);
    let setup = random("seti_", 24);
    s.object["status"] = json!("complete");
    s.object["setup_intent"] = json!(setup);
    if let Ok(mut all) = sandbox.sessions.lock() {
        all.insert(id.to_string(), s.clone());
    }
    if let Ok(mut cards) = sandbox.cards.lock() {
        cards.insert(method.clone(), (Some(customer.clone()), last4.to_string()));
    }
    let card = json!({"brand": "visa", "last4": last4, "exp_month": 12, "exp_year": 2034, "funding": "credit"});
    sandbox.send("checkout.session.completed", s.object.clone()).await;
    sandbox
        .send("setup_intent.succeeded", json!({"id": setup, "object": "setup_intent", "status": "succeeded", "customer": customer, "payment_method": method, "usage": "off_session"}))
        .await;
    sandbox
        .send(
            "payment_method.attached",
            json!({"id": method, "object": "payment_method", "type": "card", "customer": customer, "card": card}),
        )
        .await;
    see_other(s.object["success_url"].as_str().unwrap_or("/"))
}

/// Answers the stored answer for an `Idempotency-Key` used with the same parameters, a 400 for
/// other parameters, or none for a fresh key.
fn replayed(req: &HttpRequest, params: &str, sandbox: &StripeSandbox) -> Option<HttpResponse> {
    let key = req.headers().get("Idempotency-Key").and_then(|v| v.to_str().ok())?;
    let replays = sandbox.replays.lock().ok()?;
    let (earlier, answer) = replays.get(key)?;
    if earlier != params {
        return Some(stripe_error(
            actix_web::http::StatusCode::BAD_REQUEST,
            "idempotency_error",
            "Keys for idempotent requests can only be used with the same parameters they were first used with.",
            None,
        ));
    }
    Some(HttpResponse::Ok().insert_header(("Idempotent-Replayed", "true")).json(answer))
}

fn remember(req: &HttpRequest, params: String, answer: &Value, sandbox: &StripeSandbox) {
    if let (Some(key), Ok(mut replays)) = (req.headers().get("Idempotency-Key").and_then(|v| v.to_str().ok()), sandbox.replays.lock()) {
        replays.insert(key.to_string(), (params, answer.clone()));
    }
}

/// `POST /v1/customers`.
async fn create_customer(req: HttpRequest, body: web::Bytes, sandbox: web::Data<StripeSandbox>) -> HttpResponse {
    use actix_web::http::StatusCode;
    if !authorised(&req, &sandbox) {
        return stripe_error(StatusCode::UNAUTHORIZED, "invalid_request_error", "Invalid API Key provided", None);
    }
    let params = String::from_utf8_lossy(&body).into_owned();
    if let Some(answer) = replayed(&req, &params, &sandbox) {
        return answer;
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let id = random("cus_", 14);
    if let Ok(mut all) = sandbox.customers.lock() {
        all.insert(id.clone());
    }
    let answer = json!({"id": id, "object": "customer", "email": form.get("email"), "metadata": {"account_id": form.get("metadata[account_id]")},
                        "created": sandbox.clock.now().timestamp(), "livemode": false});
    remember(&req, params, &answer, &sandbox);
    HttpResponse::Ok().json(answer)
}

/// `POST /v1/payment_intents` with `confirm=true&off_session=true`: charges a saved card (one
/// ending 0002 is declined with a 402, as Stripe's test card is).
async fn create_intent(req: HttpRequest, body: web::Bytes, sandbox: web::Data<StripeSandbox>) -> HttpResponse {
    use actix_web::http::StatusCode;
    if !authorised(&req, &sandbox) {
        return stripe_error(StatusCode::UNAUTHORIZED, "invalid_request_error", "Invalid API Key provided", None);
    }
    let params = String::from_utf8_lossy(&body).into_owned();
    if let Some(answer) = replayed(&req, &params, &sandbox) {
        return answer;
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| form.get(k).map(String::as_str);
    let Some(amount) = get("amount").and_then(|a| a.parse::<i64>().ok()).filter(|a| *a > 0) else {
        return stripe_error(StatusCode::BAD_REQUEST, "invalid_request_error", "Invalid integer", Some("amount"));
    };
    let (Some(currency), Some(customer), Some(method)) = (get("currency"), get("customer"), get("payment_method")) else {
        return stripe_error(StatusCode::BAD_REQUEST, "invalid_request_error", "Missing required param", Some("payment_method"));
    };
    let card = sandbox.cards.lock().ok().and_then(|c| c.get(method).cloned());
    let Some((Some(owner), last4)) = card else {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            &format!("No such PaymentMethod: '{method}'"),
            Some("payment_method"),
        );
    };
    if owner != customer {
        return stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "The PaymentMethod does not belong to the Customer",
            Some("payment_method"),
        );
    }
    let id = random("pi_", 24);
    let metadata: serde_json::Map<String, Value> = form
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix("metadata[")?.strip_suffix(']')?.to_string(), Value::String(v.clone()))))
        .collect();
    let mut intent = json!({"id": id, "object": "payment_intent", "amount": amount, "currency": currency, "customer": customer,
                            "payment_method": method, "metadata": metadata, "status": "succeeded", "amount_received": amount,
                            "latest_charge": random("ch_", 24)});
    if last4 == "0002" {
        intent["status"] = json!("requires_payment_method");
        intent["amount_received"] = json!(0);
        let error = json!({"error": {"type": "card_error", "code": "card_declined", "decline_code": "generic_decline",
                                     "message": "Your card was declined.", "payment_intent": intent}});
        sandbox.send("payment_intent.payment_failed", intent).await;
        return HttpResponse::PaymentRequired().json(error);
    }
    if let Ok(mut all) = sandbox.intents.lock() {
        all.insert(id.clone(), (amount, currency.to_string(), 0));
    }
    remember(&req, params, &intent, &sandbox);
    sandbox.send("payment_intent.succeeded", intent.clone()).await;
    HttpResponse::Ok().json(intent)
}

/// `POST /v1/payment_methods/{id}/detach`.
async fn detach(req: HttpRequest, id: web::Path<String>, sandbox: web::Data<StripeSandbox>) -> HttpResponse {
    use actix_web::http::StatusCode;
    if !authorised(&req, &sandbox) {
        return stripe_error(StatusCode::UNAUTHORIZED, "invalid_request_error", "Invalid API Key provided", None);
    }
    let Ok(mut cards) = sandbox.cards.lock() else { return stripe_error(StatusCode::INTERNAL_SERVER_ERROR, "api_error", "lock", None) };
    match cards.get_mut(id.as_str()) {
        Some((owner @ Some(_), _)) => {
            *owner = None;
            HttpResponse::Ok().json(json!({"id": id.as_str(), "object": "payment_method", "customer": null}))
        }
        _ => stripe_error(
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            "The payment method you provided is not attached to a customer",
            None,
        ),
    }
}
