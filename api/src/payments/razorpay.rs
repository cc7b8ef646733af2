//! Razorpay (../shared/PROTOCOLS.md §2): the Orders API (JSON, HTTP Basic `key_id:key_secret`),
//! refunds, webhooks signed with `X-Razorpay-Signature` (hex HMAC-SHA256 of the raw body with the
//! webhook secret; the event id in `X-Razorpay-Event-Id`), and the checkout callback's signature
//! (HMAC-SHA256 of `"{order_id}|{payment_id}"` with the key secret).
//!
//! Razorpay's checkout is its JavaScript widget: Keel opens an order, then sends the browser to
//! its own page that loads the widget for that order (`/api/v1/payments/razorpay/{order}`), or in
//! sandbox mode to the stand-in's page.

use std::time::Duration;

use chrono::{DateTime, Utc};
use keel_shared::billing::Gateway;
use serde_json::{json, Value};

pub use super::gateway::hmac_hex;
use super::gateway::{hmac_matches, CardGateway, GatewayError, Opening, PageRequest, PaymentPage, Refunding, Reported, Signed, Verified};

pub const RAZORPAY_URL: &str = "https://api.razorpay.com";

#[derive(Clone)]
pub struct Razorpay {
    http: reqwest::Client,
    api_url: String,
    pub key_id: String,
    key_secret: String,
    webhook_secret: String,
    /// Where the browser is sent for an order: Keel's widget page, or the sandbox's page.
    page_url: String,
    sandbox: bool,
}

impl std::fmt::Debug for Razorpay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Razorpay").field("api_url", &self.api_url).field("sandbox", &self.sandbox).finish_non_exhaustive()
    }
}

impl Razorpay {
    pub fn new(
        api_url: &str,
        key_id: &str,
        key_secret: &str,
        webhook_secret: &str,
        page_url: &str,
        sandbox: bool,
    ) -> Result<Razorpay, String> {
        Ok(Razorpay {
            http: crate::outbound::client(Duration::from_secs(20))?,
            api_url: api_url.trim_end_matches('/').to_string(),
            key_id: key_id.to_string(),
            key_secret: key_secret.to_string(),
            webhook_secret: webhook_secret.to_string(),
            page_url: page_url.trim_end_matches('/').to_string(),
            sandbox,
        })
    }

    /// Whether the checkout callback's `razorpay_signature` is Razorpay's for this order and payment.
    pub fn callback_signed(&self, order_id: &str, payment_id: &str, signature: &str) -> bool {
        hmac_matches(&self.key_secret, format!("{order_id}|{payment_id}").as_bytes(), signature)
    }

    async fn post(&self, path: &str, body: Value, what: &str) -> Result<Value, GatewayError> {
        let res = self
            .http
            .post(format!("{}{path}", self.api_url))
            .basic_auth(&self.key_id, Some(&self.key_secret))
            .json(&body)
            .send()
            .await
            .map_err(|e| GatewayError::Unavailable(format!("Razorpay not reached: {e}")))?;
        let status = res.status();
        let body: Value = res.json().await.map_err(|e| GatewayError::Unavailable(format!("Razorpay's answer: {e}")))?;
        if !status.is_success() {
            let message = body["error"]["description"].as_str().unwrap_or("no description").to_string();
            return Err(if status.is_server_error() || body["error"]["code"] == "SERVER_ERROR" {
                GatewayError::Unavailable(format!("Razorpay answered HTTP {status}: {message}"))
            } else {
                GatewayError::Refused(format!("Razorpay refused the {what} (HTTP {status}): {message}"))
            });
        }
        Ok(body)
    }
}

impl CardGateway for Razorpay {
    fn gateway(&self) -> Gateway {
        Gateway::Razorpay
    }

    fn is_sandbox(&self) -> bool {
        self.sandbox
    }

    fn open(&self, req: PageRequest) -> Opening<'_> {
        Box::pin(async move {
            // `receipt` is at most 40 characters.
            let receipt: String = req.description.chars().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect();
            let body = json!({
                "amount": req.amount_minor, "currency": req.currency.code(), "receipt": receipt,
                "notes": {"invoice_id": req.invoice_id, "amount_minor": req.amount_minor.to_string()},
            });
            let order = self.post("/v1/orders", body, "order").await?;
            let id = order["id"].as_str().ok_or_else(|| GatewayError::Unavailable("Razorpay's order has no id".into()))?.to_string();
            Ok(PaymentPage { url: format!("{}/{id}", self.page_url), id })
        })
    }

    fn refund(&self, payment_id: &str, amount_minor: i64, idempotency_key: &str) -> Refunding<'_> {
        let path = format!("/v1/payments/{payment_id}/refund");
        // Razorpay's receipt (≤ 40 characters) carries Keel's key; Razorpay has no
        // idempotency header, so a repeated refund is refused by what is left of the payment.
        let receipt: String = idempotency_key.chars().take(40).collect();
        Box::pin(async move {
            let refund = self.post(&path, json!({"amount": amount_minor, "speed": "normal", "receipt": receipt}), "refund").await?;
            match (refund["id"].as_str(), refund["status"].as_str()) {
                (Some(id), Some("processed" | "pending")) => Ok(id.to_string()),
                (Some(id), other) => Err(GatewayError::Refused(format!("Razorpay's refund {id} is {}", other.unwrap_or("of no status")))),
                _ => Err(GatewayError::Unavailable("Razorpay's refund has no id".into())),
            }
        })
    }

    fn verify(&self, headers: &Signed<'_>, body: &[u8], _now: DateTime<Utc>) -> Result<Verified, String> {
        let signature = headers.signature.ok_or("no X-Razorpay-Signature header")?;
        if !hmac_matches(&self.webhook_secret, body, signature) {
            return Err("the X-Razorpay-Signature does not match the body".into());
        }
        let event_id = headers.event_id.filter(|e| !e.is_empty() && e.len() <= 100).ok_or("no X-Razorpay-Event-Id header")?;
        read_event(event_id, body)
    }
}

/// An event's type and what it reports.
pub fn read_event(event_id: &str, body: &[u8]) -> Result<Verified, String> {
    let event: Value = serde_json::from_slice(body).map_err(|e| format!("the event is not JSON: {e}"))?;
    let kind = event["event"].as_str().ok_or("the event has no type")?.to_string();
    let payment = &event["payload"]["payment"]["entity"];
    let text = |v: &Value| v.as_str().map(str::to_string);
    // `notes` is `[]` when empty, an object otherwise.
    let invoice_id = text(&payment["notes"]["invoice_id"]);
    let what = match kind.as_str() {
        "payment.captured" => Reported::Paid {
            payment_id: text(&payment["id"]).ok_or("payment.captured names no payment")?,
            invoice_id,
            checkout_id: text(&payment["order_id"]),
            amount_minor: payment["amount"].as_i64().unwrap_or(0),
            currency: payment["currency"].as_str().unwrap_or_default().to_ascii_uppercase(),
            expected_minor: None,
        },
        "payment.failed" => Reported::Failed {
            invoice_id,
            checkout_id: text(&payment["order_id"]),
            reason: payment["error_description"].as_str().unwrap_or("the payment failed").to_string(),
        },
        "refund.processed" => {
            let refund = &event["payload"]["refund"]["entity"];
            Reported::Refunded {
                payment_id: text(&refund["payment_id"]).ok_or("refund.processed names no payment")?,
                refund_id: text(&refund["id"]),
                amount_minor: refund["amount"].as_i64(),
                total_refunded_minor: None,
            }
        }
        _ => Reported::Other,
    };
    Ok(Verified { event_id: event_id.to_string(), event_type: kind, what })
}

/// Keel's page for a Razorpay order: loads Razorpay's checkout widget, which posts the result to
/// the callback.
pub fn widget_page(key_id: &str, order_id: &str, amount_minor: i64, currency: &str, company: &str, callback: &str) -> String {
    let options = json!({
        "key": key_id, "order_id": order_id, "amount": amount_minor, "currency": currency, "name": company,
        "callback_url": callback, "redirect": true,
    });
    format!(
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Pay with Razorpay</title></head><body>\
         <p>Opening Razorpay…</p><script src=\"https://checkout.razorpay.com/v1/checkout.js\"></script>\
         <script>new Razorpay({}).open();</script></body></html>",
        options.to_string().replace('<', "\\u003c")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_and_callback_signatures() {
        let rp = Razorpay::new("http://x", "rzp_test_1", "key_secret", "hook_secret", "http://x/pay", true).unwrap();
        let body = br#"{"event":"payment.captured","payload":{"payment":{"entity":{"id":"pay_1","amount":5000,"currency":"INR","order_id":"order_1","notes":[]}}}}"#;
        let sig = hmac_hex("hook_secret", body);
        let headers = Signed { signature: Some(&sig), event_id: Some("evt_1") };
        let v = rp.verify(&headers, body, Utc::now()).unwrap();
        assert_eq!(
            v.what,
            Reported::Paid {
                payment_id: "pay_1".into(),
                invoice_id: None,
                checkout_id: Some("order_1".into()),
                amount_minor: 5000,
                currency: "INR".into(),
                expected_minor: None
            }
        );
        assert!(rp.verify(&Signed { signature: Some(&hmac_hex("key_secret", body)), event_id: Some("e") }, body, Utc::now()).is_err());
        assert!(rp.verify(&Signed { signature: Some(&sig), event_id: None }, body, Utc::now()).is_err());
        assert!(rp.callback_signed("order_1", "pay_1", &hmac_hex("key_secret", b"order_1|pay_1")));
        assert!(!rp.callback_signed("order_1", "pay_2", &hmac_hex("key_secret", b"order_1|pay_1")));
    }
}
