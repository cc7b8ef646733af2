//! Stripe (../shared/PROTOCOLS.md §1): Checkout Sessions over the REST API (form-encoded, Bearer
//! key), and webhooks signed with `Stripe-Signature: t=…,v1=…` — HMAC-SHA256 with the endpoint
//! secret over `"{t}.{body}"`, any `v1` may match, timestamps older than five minutes refused.

use std::time::Duration;

use chrono::{DateTime, Utc};
use keel_shared::billing::Gateway;
use serde_json::Value;

use super::gateway::{
    hmac_hex, hmac_matches, Calling, CardGateway, CardVault, Charge, GatewayError, Opening, PageRequest, PaymentPage, Refunding, Reported,
    SaveCard, Signed, Verified,
};

/// Where Stripe's API lives.
pub const STRIPE_URL: &str = "https://api.stripe.com";
/// `Webhook.DEFAULT_TOLERANCE` of Stripe's libraries, in seconds.
pub const TOLERANCE_SECS: i64 = 300;

#[derive(Clone)]
pub struct Stripe {
    http: reqwest::Client,
    api_url: String,
    secret_key: String,
    webhook_secret: String,
    sandbox: bool,
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stripe").field("api_url", &self.api_url).field("sandbox", &self.sandbox).finish_non_exhaustive()
    }
}

impl Stripe {
    pub fn new(api_url: &str, secret_key: &str, webhook_secret: &str, sandbox: bool) -> Result<Stripe, String> {
        Ok(Stripe {
            http: crate::outbound::client(Duration::from_secs(20))?,
            api_url: api_url.trim_end_matches('/').to_string(),
            secret_key: secret_key.to_string(),
            webhook_secret: webhook_secret.to_string(),
            sandbox,
        })
    }
}

/// The form of `POST /v1/checkout/sessions` for one invoice's balance.
pub fn session_form(req: &PageRequest) -> String {
    let amount = req.amount_minor.to_string();
    let currency = req.currency.code().to_ascii_lowercase();
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("mode", "payment")
        .append_pair("line_items[0][price_data][currency]", &currency)
        .append_pair("line_items[0][price_data][unit_amount]", &amount)
        .append_pair("line_items[0][price_data][product_data][name]", &req.description)
        .append_pair("line_items[0][quantity]", "1")
        .append_pair("success_url", &req.success_url)
        .append_pair("cancel_url", &req.cancel_url)
        .append_pair("client_reference_id", &req.invoice_id)
        .append_pair("customer_email", &req.email)
        .append_pair("metadata[invoice_id]", &req.invoice_id)
        .append_pair("metadata[amount_minor]", &amount)
        .append_pair("payment_intent_data[metadata][invoice_id]", &req.invoice_id)
        .append_pair("payment_intent_data[metadata][amount_minor]", &amount);
    form.finish()
}

impl Stripe {
    /// POSTs a form to Stripe's API and answers the JSON object, or why not: Stripe's own message,
    /// `Unavailable` when trying again may help (not reached, 429, 5xx), `Refused` otherwise
    /// (402 declines included).
    async fn post(&self, path: &str, form: String, idempotency_key: Option<&str>, what: &str) -> Result<Value, GatewayError> {
        let mut req = self
            .http
            .post(format!("{}{path}", self.api_url))
            .bearer_auth(&self.secret_key)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(form);
        if let Some(k) = idempotency_key {
            req = req.header("Idempotency-Key", k);
        }
        let res = req.send().await.map_err(|e| GatewayError::Unavailable(format!("Stripe not reached: {e}")))?;
        let status = res.status();
        let body: Value = res.json().await.map_err(|e| GatewayError::Unavailable(format!("Stripe's answer: {e}")))?;
        if status.is_success() {
            return Ok(body);
        }
        let message = body["error"]["message"].as_str().unwrap_or("no message").to_string();
        Err(if status.is_server_error() || status.as_u16() == 429 {
            GatewayError::Unavailable(format!("Stripe answered HTTP {status}: {message}"))
        } else if status.as_u16() == 402 {
            GatewayError::Refused(message)
        } else {
            GatewayError::Refused(format!("Stripe refused the {what} (HTTP {status}): {message}"))
        })
    }
}

fn form(pairs: &[(&str, &str)]) -> String {
    let mut f = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        f.append_pair(k, v);
    }
    f.finish()
}

fn id_of(v: &Value, what: &str) -> Result<String, GatewayError> {
    v["id"].as_str().map(str::to_string).ok_or_else(|| GatewayError::Unavailable(format!("Stripe's {what} has no id")))
}

impl CardGateway for Stripe {
    fn gateway(&self) -> Gateway {
        Gateway::Stripe
    }

    fn is_sandbox(&self) -> bool {
        self.sandbox
    }

    fn open(&self, req: PageRequest) -> Opening<'_> {
        Box::pin(async move {
            let body = self.post("/v1/checkout/sessions", session_form(&req), None, "payment page").await?;
            match (body["id"].as_str(), body["url"].as_str()) {
                (Some(id), Some(url)) => Ok(PaymentPage { id: id.to_string(), url: url.to_string() }),
                _ => Err(GatewayError::Unavailable("Stripe's session has no id or url".into())),
            }
        })
    }

    fn refund(&self, payment_id: &str, amount_minor: i64, idempotency_key: &str) -> Refunding<'_> {
        let body = form(&[("payment_intent", payment_id), ("amount", &amount_minor.to_string()), ("reason", "requested_by_customer")]);
        let key = idempotency_key.to_string();
        Box::pin(async move {
            let refund = self.post("/v1/refunds", body, Some(&key), "refund").await?;
            match (refund["id"].as_str(), refund["status"].as_str()) {
                (Some(id), Some("succeeded" | "pending")) => Ok(id.to_string()),
                (Some(id), other) => Err(GatewayError::Refused(format!("Stripe's refund {id} is {}", other.unwrap_or("of no status")))),
                _ => Err(GatewayError::Unavailable("Stripe's refund has no id".into())),
            }
        })
    }

    fn verify(&self, headers: &Signed<'_>, body: &[u8], now: DateTime<Utc>) -> Result<Verified, String> {
        let header = headers.signature.ok_or("no Stripe-Signature header")?;
        check_signature(header, body, &self.webhook_secret, now)?;
        read_event(body)
    }
}

impl CardVault for Stripe {
    fn create_customer(&self, email: &str, account_id: &str) -> Calling<'_, String> {
        let body = form(&[("email", email), ("metadata[account_id]", account_id)]);
        let key = format!("keel-customer-{account_id}");
        Box::pin(async move { id_of(&self.post("/v1/customers", body, Some(&key), "customer").await?, "customer") })
    }

    fn save_card_page(&self, req: SaveCard) -> Calling<'_, PaymentPage> {
        let currency = req.currency.code().to_ascii_lowercase();
        let body = form(&[
            ("mode", "setup"),
            ("customer", &req.customer_id),
            ("currency", &currency),
            ("payment_method_types[0]", "card"),
            ("success_url", &req.success_url),
            ("cancel_url", &req.cancel_url),
        ]);
        Box::pin(async move {
            let session = self.post("/v1/checkout/sessions", body, None, "card page").await?;
            let url = session["url"].as_str().ok_or_else(|| GatewayError::Unavailable("Stripe's session has no url".into()))?.to_string();
            Ok(PaymentPage { id: id_of(&session, "session")?, url })
        })
    }

    fn charge(&self, req: Charge) -> Calling<'_, String> {
        let (amount, currency) = (req.amount_minor.to_string(), req.currency.code().to_ascii_lowercase());
        let body = form(&[
            ("amount", &amount),
            ("currency", &currency),
            ("customer", &req.customer_id),
            ("payment_method", &req.method_id),
            ("off_session", "true"),
            ("confirm", "true"),
            ("metadata[invoice_id]", &req.invoice_id),
            ("metadata[amount_minor]", &amount),
        ]);
        Box::pin(async move {
            let intent = self.post("/v1/payment_intents", body, Some(&req.idempotency_key), "charge").await?;
            match intent["status"].as_str() {
                Some("succeeded") => id_of(&intent, "PaymentIntent"),
                other => Err(GatewayError::Refused(format!("the payment is {}", other.unwrap_or("of no status")))),
            }
        })
    }

    fn forget_card(&self, method_id: &str) -> Calling<'_, ()> {
        let path = format!("/v1/payment_methods/{method_id}/detach");
        Box::pin(async move {
            self.post(&path, String::new(), None, "card removal").await?;
            Ok(())
        })
    }
}

/// The hex HMAC-SHA256 Stripe signs `"{t}.{body}"` with.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    hmac_hex(secret, &signed_payload(t, body))
}

fn signed_payload(t: i64, body: &[u8]) -> Vec<u8> {
    [format!("{t}.").as_bytes(), body].concat()
}

/// Checks a `Stripe-Signature` header as Stripe's libraries do.
pub fn check_signature(header: &str, body: &[u8], secret: &str, now: DateTime<Utc>) -> Result<(), String> {
    let mut t = None;
    let mut v1 = Vec::new();
    for item in header.split(',') {
        let (k, v) = item.trim().split_once('=').ok_or("Unable to extract timestamp and signatures from header")?;
        match k {
            "t" => t = Some(v.parse::<i64>().map_err(|_| "Unable to extract timestamp and signatures from header")?),
            "v1" => v1.push(v),
            _ => {}
        }
    }
    let t = t.ok_or("Unable to extract timestamp and signatures from header")?;
    if v1.is_empty() {
        return Err("No signatures found with expected scheme v1".into());
    }
    let payload = signed_payload(t, body);
    let matched = v1.iter().any(|sig| hmac_matches(secret, &payload, sig));
    if !matched {
        return Err("No signatures found matching the expected signature for payload".into());
    }
    if t < now.timestamp() - TOLERANCE_SECS {
        return Err("Timestamp outside the tolerance zone".into());
    }
    Ok(())
}

/// An event's id, type and what it reports.
pub fn read_event(body: &[u8]) -> Result<Verified, String> {
    let event: Value = serde_json::from_slice(body).map_err(|e| format!("the event is not JSON: {e}"))?;
    let (Some(id), Some(kind)) = (event["id"].as_str(), event["type"].as_str()) else {
        return Err("the event has no id or type".into());
    };
    let object = &event["data"]["object"];
    let text = |v: &Value| v.as_str().map(str::to_string);
    let invoice_id = text(&object["metadata"]["invoice_id"]).or_else(|| text(&object["client_reference_id"]));
    let expected = object["metadata"]["amount_minor"].as_str().and_then(|a| a.parse::<i64>().ok());
    let what = match kind {
        "checkout.session.completed" if object["payment_status"] == "paid" => Reported::Paid {
            // The PaymentIntent is the payment; `payment_intent.succeeded` names the same one.
            payment_id: text(&object["payment_intent"]).or_else(|| text(&object["id"])).unwrap_or_default(),
            invoice_id,
            checkout_id: text(&object["id"]),
            amount_minor: object["amount_total"].as_i64().unwrap_or(0),
            currency: object["currency"].as_str().unwrap_or_default().to_ascii_uppercase(),
            expected_minor: expected,
        },
        "payment_intent.succeeded" => Reported::Paid {
            payment_id: text(&object["id"]).unwrap_or_default(),
            invoice_id,
            checkout_id: None,
            amount_minor: object["amount_received"].as_i64().or_else(|| object["amount"].as_i64()).unwrap_or(0),
            currency: object["currency"].as_str().unwrap_or_default().to_ascii_uppercase(),
            expected_minor: expected,
        },
        "payment_intent.payment_failed" => Reported::Failed {
            invoice_id,
            checkout_id: None,
            reason: object["last_payment_error"]["message"].as_str().unwrap_or("the payment failed").to_string(),
        },
        "payment_method.attached" => Reported::CardSaved {
            customer_id: text(&object["customer"]).ok_or("payment_method.attached names no customer")?,
            method_id: text(&object["id"]).ok_or("payment_method.attached names no payment method")?,
            brand: object["card"]["brand"].as_str().unwrap_or("card").chars().take(20).collect(),
            last4: object["card"]["last4"].as_str().unwrap_or("????").chars().take(4).collect(),
            exp_month: object["card"]["exp_month"].as_u64().and_then(|m| u32::try_from(m).ok()).unwrap_or(0),
            exp_year: object["card"]["exp_year"].as_u64().and_then(|y| u32::try_from(y).ok()).unwrap_or(0),
        },
        "charge.refunded" => Reported::Refunded {
            payment_id: text(&object["payment_intent"]).ok_or("charge.refunded names no PaymentIntent")?,
            refund_id: None,
            amount_minor: None,
            total_refunded_minor: object["amount_refunded"].as_i64(),
        },
        _ => Reported::Other,
    };
    if let Reported::Paid { payment_id, .. } = &what {
        if payment_id.is_empty() {
            return Err(format!("{kind} names no payment"));
        }
    }
    Ok(Verified { event_id: id.to_string(), event_type: kind.to_string(), what })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(t, 0).unwrap()
    }

    #[test]
    fn a_signature_verifies_with_any_v1_and_not_when_stale_or_altered() {
        let body = br#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1","amount_received":1999,"currency":"usd","metadata":{"invoice_id":"x"}}}}"#;
        let good = sign("whsec_test", 1_700_000_000, body);
        let header = format!("t=1700000000,v1=deadbeef,v0=abc,v1={good}");
        assert_eq!(check_signature(&header, body, "whsec_test", at(1_700_000_100)), Ok(()));
        // Future timestamps pass; five minutes and a second in the past do not.
        assert!(check_signature(&header, body, "whsec_test", at(1_699_999_000)).is_ok());
        assert_eq!(check_signature(&header, body, "whsec_test", at(1_700_000_301)), Err("Timestamp outside the tolerance zone".into()));
        assert!(check_signature(&header, b"{}", "whsec_test", at(1_700_000_000)).is_err());
        assert!(check_signature(&header, body, "whsec_other", at(1_700_000_000)).is_err());
        assert!(check_signature("t=1700000000", body, "whsec_test", at(1_700_000_000)).unwrap_err().contains("scheme v1"));
        assert!(check_signature("garbage", body, "whsec_test", at(1_700_000_000)).is_err());
        let v = read_event(body).unwrap();
        assert_eq!(
            v.what,
            Reported::Paid {
                payment_id: "pi_1".into(),
                invoice_id: Some("x".into()),
                checkout_id: None,
                amount_minor: 1999,
                currency: "USD".into(),
                expected_minor: None
            }
        );
    }
}
