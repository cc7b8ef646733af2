//! Billing: invoices, the payments recorded against them, the credit ledger and the gateways'
//! webhook events, as clients and the back office see them.
//!
//! An invoice is numbered when it is issued (`INV-2026-000001`, gapless per year) and from then on
//! never changes its lines, amounts or the seller's and buyer's details; only its status, what
//! was paid and when move on.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::cart::TaxLine;
use crate::ids::{CreditEntryId, CreditNoteId, InvoiceId, OrderId, PaymentEventId, PaymentId, PaymentMethodId, ServiceId, UserId};
use crate::money::Currency;

/// The largest amount a request may name (10 billion in major units).
pub const AMOUNT_MAX: i64 = crate::catalog::AMOUNT_MAX;

crate::text_enum! {
    /// Where an invoice is. `draft` (not numbered) → `unpaid` (issued) → `partially_paid` →
    /// `paid`; an unpaid invoice past its due date is `overdue`; `cancelled` keeps its number;
    /// `refunded` once every payment was given back; `collections` when handed to a debt
    /// collector.
    pub enum InvoiceStatus {
        Draft = "draft",
        Unpaid = "unpaid",
        PartiallyPaid = "partially_paid",
        Paid = "paid",
        Overdue = "overdue",
        Cancelled = "cancelled",
        Refunded = "refunded",
        Collections = "collections",
    }
}

impl InvoiceStatus {
    /// Money is still owed on it.
    pub fn is_open(self) -> bool {
        matches!(self, InvoiceStatus::Unpaid | InvoiceStatus::PartiallyPaid | InvoiceStatus::Overdue | InvoiceStatus::Collections)
    }

    pub fn label(self) -> &'static str {
        match self {
            InvoiceStatus::Draft => "Draft",
            InvoiceStatus::Unpaid => "Unpaid",
            InvoiceStatus::PartiallyPaid => "Partially paid",
            InvoiceStatus::Paid => "Paid",
            InvoiceStatus::Overdue => "Overdue",
            InvoiceStatus::Cancelled => "Cancelled",
            InvoiceStatus::Refunded => "Refunded",
            InvoiceStatus::Collections => "Collections",
        }
    }
}

crate::text_enum! {
    /// Why an invoice was made.
    pub enum InvoiceKind {
        /// A checkout's order.
        Order = "order",
        /// A service falling due again.
        Renewal = "renewal",
        /// Money added to the account's credit.
        AddFunds = "add_funds",
        LateFee = "late_fee",
        /// Written by staff.
        Manual = "manual",
        /// A service's change of plan, options or add-ons, prorated for the rest of its period.
        Upgrade = "upgrade",
    }
}

crate::text_enum! {
    /// How a payment was made.
    pub enum Gateway {
        /// Card payments through Stripe Checkout.
        Stripe = "stripe",
        /// Razorpay (cards, UPI, netbanking).
        Razorpay = "razorpay",
        /// A bank transfer that staff confirmed.
        BankTransfer = "bank_transfer",
        /// The client's account credit.
        Credit = "credit",
    }
}

impl Gateway {
    pub fn label(self) -> &'static str {
        match self {
            Gateway::Stripe => "Card (Stripe)",
            Gateway::Razorpay => "Razorpay",
            Gateway::BankTransfer => "Bank transfer",
            Gateway::Credit => "Account credit",
        }
    }
}

/// Who sells or buys, as printed on an invoice when it was issued.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Party {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    /// Postal address, one line per element (street, city and postcode, region).
    #[serde(default)]
    pub address: Vec<String>,
    /// ISO 3166-1 alpha-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// VAT or other tax id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// One line of an invoice. Amounts are for the whole line (`quantity` units).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvoiceLine {
    pub description: String,
    /// The service this line bills, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<ServiceId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_from: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_to: Option<NaiveDate>,
    pub quantity: u32,
    /// Price of one unit before discount and tax.
    pub unit_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    /// What the line adds to the invoice's total.
    pub total_minor: i64,
}

/// A payment (positive) or refund (negative) recorded against an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Payment {
    pub id: PaymentId,
    pub invoice_id: InvoiceId,
    pub gateway: Gateway,
    /// The gateway's id of the payment (`pi_…`), or the bank transfer's reference.
    pub reference: String,
    pub amount_minor: i64,
    pub currency: Currency,
    /// A refund (negative amount): the payment it gives back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_of: Option<PaymentId>,
    pub created_at: DateTime<Utc>,
}

/// A credit note: money given back on an issued invoice, numbered `CN-2026-000001` from its own
/// gapless sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditNote {
    pub id: CreditNoteId,
    pub number: String,
    pub invoice_id: InvoiceId,
    /// The refund it documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_id: Option<PaymentId>,
    pub amount_minor: i64,
    pub currency: Currency,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

/// Staff give money back on an invoice (`POST /admin/invoices/{id}/refunds`): through the
/// gateway that took it (a card payment is refunded at Stripe; a credit payment goes back to
/// credit; a bank transfer is recorded as sent back), with a credit note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefundRequest {
    /// The payment to give back (of this invoice).
    pub payment_id: PaymentId,
    /// Up to what is left of the payment.
    #[validate(range(min = 1, max = AMOUNT_MAX))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000000000000i64))]
    pub amount_minor: i64,
    #[validate(length(min = 1, max = 500))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub reason: String,
}

/// An invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invoice {
    pub id: InvoiceId,
    /// `INV-2026-000001`; none while it is a draft.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    pub account_id: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    pub kind: InvoiceKind,
    pub status: InvoiceStatus,
    pub currency: Currency,
    pub lines: Vec<InvoiceLine>,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    /// Paid so far, net of refunds.
    pub paid_minor: i64,
    /// Still owed (`total_minor − paid_minor`, never below zero).
    pub balance_minor: i64,
    pub tax_lines: Vec<TaxLine>,
    pub tax_inclusive: bool,
    /// No VAT charged: the buyer accounts for it (EU reverse charge).
    pub reverse_charge: bool,
    pub seller: Party,
    pub buyer: Party,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issued_at: Option<DateTime<Utc>>,
    pub due_on: NaiveDate,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paid_at: Option<DateTime<Utc>>,
    /// How to pay by bank transfer (from the billing settings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_instructions: Option<String>,
    pub payments: Vec<Payment>,
    /// Refunds documented against it.
    #[serde(default)]
    pub credit_notes: Vec<CreditNote>,
    pub created_at: DateTime<Utc>,
}

/// An invoice in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvoiceSummary {
    pub id: InvoiceId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    pub account_id: UserId,
    /// The buyer's name as printed on the invoice.
    pub buyer: String,
    pub kind: InvoiceKind,
    pub status: InvoiceStatus,
    pub currency: Currency,
    pub total_minor: i64,
    pub balance_minor: i64,
    pub due_on: NaiveDate,
    pub created_at: DateTime<Utc>,
}

/// Filters for invoice lists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct InvoiceFilter {
    /// Only invoices in this status.
    pub status: Option<InvoiceStatus>,
    /// Invoices whose number starts with this (`INV-2026-00`, any case).
    #[validate(length(min = 1, max = 30))]
    #[cfg_attr(feature = "openapi", param(min_length = 1, max_length = 30))]
    pub q: Option<String>,
    /// Back office: only this client's invoices.
    pub account_id: Option<UserId>,
    /// Only the invoices of this order (a checkout's).
    pub order_id: Option<OrderId>,
    /// The page (`page`, `per_page`, `cursor`); listed in the document as `PageQuery`'s parameters.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", param(ignore))]
    #[validate(nested)]
    pub paging: crate::PageQuery,
}

/// How a client pays an invoice (`POST /invoices/{id}/pay`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PayRequest {
    /// `stripe` or `razorpay` (answers the gateway's payment page to send the client to) or
    /// `credit` (paid from the account's credit at once, as far as it goes).
    pub gateway: Gateway,
    /// With `stripe`: charge this stored card now instead of opening the payment page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method_id: Option<PaymentMethodId>,
}

/// A stored card: the gateway's token and what tells it apart to its owner (never card data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentMethod {
    pub id: PaymentMethodId,
    pub gateway: Gateway,
    /// `visa`, `mastercard` …
    pub brand: String,
    pub last4: String,
    pub exp_month: u32,
    pub exp_year: u32,
    /// The one renewals are charged to.
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
}

/// Where to send the client to save a card (`POST /payment-methods`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddPaymentMethod {
    pub redirect_url: String,
}

/// What paying started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PayStarted {
    /// The gateway's payment page to send the client to (none when paid from credit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    /// The invoice as it is now.
    pub invoice: Invoice,
}

/// A payment staff record by hand (`POST /admin/invoices/{id}/payments`): a bank transfer that
/// arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecordPayment {
    /// In the invoice's currency; more than is owed goes to the account's credit.
    #[validate(range(min = 1, max = AMOUNT_MAX))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000000000000i64))]
    pub amount_minor: i64,
    /// The bank's reference of the transfer.
    #[validate(length(min = 1, max = 100))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub reference: String,
}

/// A line staff write on a draft invoice. Its tax is `unit × quantity × rate`, rounded half away
/// from zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DraftLine {
    #[validate(length(min = 1, max = 200))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub description: String,
    #[validate(range(min = 1, max = 10_000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10000))]
    pub quantity: u32,
    #[validate(range(min = 0, max = AMOUNT_MAX))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000000000000i64))]
    pub unit_minor: i64,
    /// Tax rate in basis points (2000 = 20 %); 0 for none.
    #[serde(default)]
    #[validate(range(min = 0, max = 10_000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 10000))]
    pub tax_rate_bp: u32,
}

/// A manual invoice staff start (`POST /admin/invoices`): a draft until issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewInvoice {
    /// The client it bills.
    pub account_id: UserId,
    pub currency: Currency,
    #[serde(default)]
    #[validate(length(max = 100), nested)]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub lines: Vec<DraftLine>,
}

/// A draft's lines, replaced as a whole (`PUT /admin/invoices/{id}/lines`): add and remove lines
/// by sending the list as it should be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DraftLines {
    #[validate(length(max = 100), nested)]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub lines: Vec<DraftLine>,
}

/// Money a client adds to their account credit (`POST /credit/add-funds`): an invoice for it,
/// paid like any other; once paid the amount is credit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddFunds {
    /// At least 1.00 in most currencies; at most 10,000.00 (in minor units, the currency's).
    #[validate(range(min = 100, max = 1_000_000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 100, maximum = 1000000))]
    pub amount_minor: i64,
    pub currency: Currency,
}

/// Invoices to merge into one (`POST /admin/invoice-merges`): open, nothing paid, one client,
/// one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MergeInvoices {
    #[validate(length(min = 2, max = 20))]
    #[cfg_attr(feature = "openapi", schema(min_items = 2, max_items = 20))]
    pub invoice_ids: Vec<InvoiceId>,
}

/// Why staff cancel an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CancelInvoice {
    #[validate(length(min = 1, max = 500))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub reason: String,
}

/// One entry of a client's credit ledger: money added (positive) or spent (negative).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditEntry {
    pub id: CreditEntryId,
    pub amount_minor: i64,
    pub currency: Currency,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<InvoiceId>,
    pub created_at: DateTime<Utc>,
}

/// A client's credit: the balance per currency (the sum of the ledger's entries) and the latest
/// entries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Credit {
    pub balances: Vec<CreditBalance>,
    /// The 100 latest entries, newest first.
    pub entries: Vec<CreditEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditBalance {
    pub currency: Currency,
    pub balance_minor: i64,
}

/// Staff add credit (positive) or take it away (negative), with a reason
/// (`POST /admin/clients/{id}/credit`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreditAdjustment {
    /// Not zero; taking away never goes below a zero balance.
    #[validate(range(min = -1_000_000_000_000i64, max = AMOUNT_MAX), custom(function = "not_zero"))]
    #[cfg_attr(feature = "openapi", schema(minimum = -1000000000000i64, maximum = 1000000000000i64))]
    pub amount_minor: i64,
    pub currency: Currency,
    #[validate(length(min = 1, max = 500))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub reason: String,
}

fn not_zero(v: i64) -> Result<(), validator::ValidationError> {
    if v == 0 {
        return Err(crate::validation::error("zero", "must not be zero"));
    }
    Ok(())
}

crate::text_enum! {
    /// What Keel did with a gateway's webhook event.
    pub enum EventOutcome {
        /// A payment or refund was recorded.
        Recorded = "recorded",
        /// The same event or payment was recorded before: nothing more was done.
        Duplicate = "duplicate",
        /// A kind of event Keel does not act on.
        Ignored = "ignored",
        /// The signature did not verify (or was too old): nothing was done.
        Rejected = "rejected",
        /// Signed, but names no invoice Keel knows: kept for staff to match.
        Unmatched = "unmatched",
        /// Signed, but the amount or currency disagrees with the invoice: nothing recorded,
        /// flagged for staff.
        Mismatch = "mismatch",
        /// A payment attempt failed (the invoice stays open).
        Failed = "failed",
    }
}

/// A webhook event as Keel received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PaymentEvent {
    pub id: PaymentEventId,
    pub gateway: Gateway,
    /// The gateway's event id (`evt_…`); none when the signature did not verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// `checkout.session.completed`, `payment.captured` …
    pub event_type: String,
    pub verified: bool,
    pub outcome: EventOutcome,
    pub detail: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<InvoiceId>,
    /// The body exactly as received.
    pub body: String,
    pub received_at: DateTime<Utc>,
}

/// Filters for the webhook event list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct EventFilter {
    /// Only events with this outcome (`unmatched` and `mismatch` need a person).
    pub outcome: Option<EventOutcome>,
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", param(ignore))]
    #[validate(nested)]
    pub paging: crate::PageQuery,
}

/// Who the shop is and how invoices look (`PUT /admin/billing/settings`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BillingSettings {
    /// The seller's legal name, printed on every invoice.
    #[validate(length(min = 1, max = 120))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 120))]
    pub seller_name: String,
    /// The seller's postal address, one line per line.
    #[validate(length(max = 500))]
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    #[serde(default)]
    pub seller_address: String,
    /// The seller's VAT id.
    #[validate(length(max = 30))]
    #[cfg_attr(feature = "openapi", schema(max_length = 30))]
    #[serde(default)]
    pub seller_tax_id: String,
    /// Invoice numbers start with this, then the year and a six-digit number: `INV-` gives
    /// `INV-2026-000001`.
    #[validate(length(min = 1, max = 12), custom(function = "prefix"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 12))]
    pub invoice_prefix: String,
    /// Days from issue to due date.
    #[validate(range(min = 0, max = 365))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 365))]
    pub due_days: u32,
    /// How to pay by bank transfer, printed on unpaid invoices.
    #[validate(length(max = 1000))]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    #[serde(default)]
    pub payment_instructions: String,
    /// A downgrade's unused difference waits for the renewal (the service renews at the lower
    /// price) instead of going to the client's account credit at once.
    #[serde(default)]
    pub downgrades_at_renewal: bool,
    /// Renewal invoices are issued this many days before a service falls due (0: on the day).
    #[validate(range(min = 0, max = 90))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 90))]
    #[serde(default = "renewal_days")]
    pub renewal_days: u32,
    /// A client's services falling due on the same day, in the same currency, are billed on one
    /// renewal invoice instead of one invoice each.
    #[serde(default = "consolidate")]
    pub consolidate_renewals: bool,
    /// A renewal invoice is paid from the client's account credit, as far as it goes, when it is
    /// issued.
    #[serde(default = "consolidate")]
    pub renewals_use_credit: bool,
}

fn renewal_days() -> u32 {
    7
}

/// On unless set otherwise (settings saved before the field existed).
fn consolidate() -> bool {
    true
}

fn prefix(v: &str) -> Result<(), validator::ValidationError> {
    if !v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'/') {
        return Err(crate::validation::error("prefix", "letters, digits, '-' and '/' only"));
    }
    Ok(())
}

impl Default for BillingSettings {
    fn default() -> Self {
        BillingSettings {
            seller_name: "Keel Hosting".into(),
            seller_address: String::new(),
            seller_tax_id: String::new(),
            invoice_prefix: "INV-".into(),
            due_days: 7,
            payment_instructions: String::new(),
            downgrades_at_renewal: false,
            renewal_days: renewal_days(),
            consolidate_renewals: consolidate(),
            renewals_use_credit: consolidate(),
        }
    }
}

/// An invoice number: the prefix, the year and the sequence, `INV-2026-000042`.
pub fn invoice_number(prefix: &str, year: i32, seq: i64) -> String {
    format!("{prefix}{year}-{seq:06}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_have_the_year_and_six_digits() {
        assert_eq!(invoice_number("INV-", 2026, 1), "INV-2026-000001");
        assert_eq!(invoice_number("CN-", 2027, 1_234_567), "CN-2027-1234567");
    }

    #[test]
    fn a_credit_adjustment_is_never_zero() {
        let a = CreditAdjustment { amount_minor: 0, currency: Currency::default(), reason: "x".into() };
        assert!(a.validate().is_err());
        assert!(CreditAdjustment { amount_minor: -5, ..a }.validate().is_ok());
    }
}
