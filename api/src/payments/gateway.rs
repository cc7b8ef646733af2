//! What Keel asks of a card gateway: a hosted payment page for an invoice's balance, and the
//! signed webhook events that report what happened there. Adapters (`stripe`) speak the gateway's
//! own protocol; the dependencies value holds one per gateway, so tests and the sandbox swap them.

use std::future::Future;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use keel_shared::billing::Gateway;
use keel_shared::Currency;

/// A payment page for one invoice.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub invoice_id: String,
    /// What the client sees ("Invoice INV-2026-000001").
    pub description: String,
    pub amount_minor: i64,
    pub currency: Currency,
    pub email: String,
    /// Where the gateway sends the client after paying, and after giving up.
    pub success_url: String,
    pub cancel_url: String,
}

/// The page the gateway made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentPage {
    /// The gateway's id (`cs_…`).
    pub id: String,
    pub url: String,
}

/// Why a gateway call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GatewayError {
    /// The gateway refused the request (bad parameters, keys): trying again will not help.
    #[error("{0}")]
    Refused(String),
    /// Not reached, or it failed on its side: try again later.
    #[error("{0}")]
    Unavailable(String),
}

/// A webhook event whose signature verified, in Keel's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub event_id: String,
    pub event_type: String,
    pub what: Reported,
}

/// What an event reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reported {
    /// Money was taken. `expected_minor` is the amount Keel asked for (echoed in the metadata it
    /// set), to compare with what was taken.
    /// `checkout_id` is the payment page's id at the gateway (a Razorpay order), matched with
    /// the invoice it was opened for when the event does not name the invoice itself.
    Paid {
        payment_id: String,
        invoice_id: Option<String>,
        checkout_id: Option<String>,
        amount_minor: i64,
        currency: String,
        expected_minor: Option<i64>,
    },
    /// A payment attempt failed.
    Failed { invoice_id: Option<String>, checkout_id: Option<String>, reason: String },
    /// Money was given back at the gateway (its dashboard, or a refund Keel asked for).
    /// `refund_id` names one refund of `amount_minor` (Razorpay); a charge's cumulative
    /// `total_refunded_minor` (Stripe) says how much of the payment is given back in all.
    Refunded { payment_id: String, refund_id: Option<String>, amount_minor: Option<i64>, total_refunded_minor: Option<i64> },
    /// A card was saved to a customer (Stripe's `payment_method.attached`).
    CardSaved { customer_id: String, method_id: String, brand: String, last4: String, exp_month: u32, exp_year: u32 },
    /// Something Keel does not act on.
    Other,
}

/// What a webhook's headers say about it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Signed<'a> {
    /// `Stripe-Signature`, `X-Razorpay-Signature`.
    pub signature: Option<&'a str>,
    /// `X-Razorpay-Event-Id` (Stripe's id is in the body).
    pub event_id: Option<&'a str>,
}

pub type Refunding<'a> = Pin<Box<dyn Future<Output = Result<String, GatewayError>> + Send + 'a>>;

pub type Opening<'a> = Pin<Box<dyn Future<Output = Result<PaymentPage, GatewayError>> + Send + 'a>>;

pub type Calling<'a, T> = Pin<Box<dyn Future<Output = Result<T, GatewayError>> + Send + 'a>>;

/// A page where a client saves a card for later (Stripe Checkout in setup mode).
#[derive(Debug, Clone)]
pub struct SaveCard {
    pub customer_id: String,
    pub currency: Currency,
    pub success_url: String,
    pub cancel_url: String,
}

/// Charging a saved card now, off-session.
#[derive(Debug, Clone)]
pub struct Charge {
    pub invoice_id: String,
    pub customer_id: String,
    pub method_id: String,
    pub amount_minor: i64,
    pub currency: Currency,
    pub idempotency_key: String,
}

/// Stored cards: a customer per client, a page to save a card, charging it, forgetting it.
/// Gateways that cannot keep cards answer `Refused`.
pub trait CardVault: std::fmt::Debug + Send + Sync {
    /// Creates the gateway's customer for a client; answers its id.
    fn create_customer(&self, email: &str, account_id: &str) -> Calling<'_, String>;
    fn save_card_page(&self, req: SaveCard) -> Calling<'_, PaymentPage>;
    /// Charges a saved card; answers the gateway's payment id. A decline is `Refused` with the
    /// gateway's message.
    fn charge(&self, req: Charge) -> Calling<'_, String>;
    fn forget_card(&self, method_id: &str) -> Calling<'_, ()>;
}

pub trait CardGateway: std::fmt::Debug + Send + Sync {
    fn gateway(&self) -> Gateway;
    /// In-process stand-in (no credentials configured): pages say so.
    fn is_sandbox(&self) -> bool;
    /// Opens a hosted payment page.
    fn open(&self, req: PageRequest) -> Opening<'_>;
    /// Gives back `amount_minor` of a payment (the gateway's payment id); answers the gateway's
    /// refund id. The same `idempotency_key` makes the same refund once, however often it is sent.
    fn refund(&self, payment_id: &str, amount_minor: i64, idempotency_key: &str) -> Refunding<'_>;
    /// Checks a webhook's signature header over the raw body and reads the event. `Err` says why
    /// it was refused (nothing is done with a refused event).
    fn verify(&self, headers: &Signed<'_>, body: &[u8], now: DateTime<Utc>) -> Result<Verified, String>;
}

/// Hex HMAC-SHA256 of `data` with `key`: how Stripe and Razorpay sign webhooks (and Razorpay its
/// checkout callback).
pub fn hmac_hex(key: &str, data: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(data);
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `signature` (hex) is the HMAC-SHA256 of `data` with `key`, compared in constant time.
pub fn hmac_matches(key: &str, data: &[u8], signature: &str) -> bool {
    use hmac::Mac;
    let Ok(raw) = hex::decode(signature.trim()) else { return false };
    let Ok(mut mac) = hmac::Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()) else { return false };
    mac.update(data);
    mac.verify_slice(&raw).is_ok()
}
