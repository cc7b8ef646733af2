//! Orders: what a checkout creates, as clients and the back office see it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::cart::{DomainChoice, QuoteItem, TaxLine};
use crate::catalog::BillingCycle;
use crate::ids::{OrderId, ProductId, ServiceId, UserId};
use crate::money::Currency;

crate::text_enum! {
    /// Where an order is. `pending` → `accepted` (paid, or accepted by an administrator) or
    /// `cancelled`; `in_review` (held by fraud screening) → `pending`, `accepted`, `cancelled` or
    /// `fraud`.
    pub enum OrderStatus {
        /// Placed; awaiting payment or acceptance.
        Pending = "pending",
        /// Held by fraud screening for a person to look at.
        InReview = "in_review",
        /// Accepted: its services are provisioned.
        Accepted = "accepted",
        /// Cancelled, with a reason.
        Cancelled = "cancelled",
        /// Marked as fraud.
        Fraud = "fraud",
    }
}

crate::text_enum! {
    /// Where a service is in its life.
    pub enum ServiceStatus {
        /// Ordered, not provisioned yet.
        Pending = "pending",
        /// Being created on a server.
        Provisioning = "provisioning",
        Active = "active",
        Suspended = "suspended",
        Terminated = "terminated",
        /// Its order was cancelled before it was provisioned.
        Cancelled = "cancelled",
        /// Provisioning failed; an administrator sees why and can try again.
        Failed = "failed",
    }
}

impl ServiceStatus {
    /// The states of a service that exists on its server and is billed: running or suspended.
    pub const LIVE: [ServiceStatus; 2] = [ServiceStatus::Active, ServiceStatus::Suspended];

    pub fn is_live(self) -> bool {
        Self::LIVE.contains(&self)
    }
}

/// One line of an order, its prices frozen at checkout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderItem {
    pub product_id: ProductId,
    pub product_name: String,
    pub cycle: BillingCycle,
    pub quantity: u32,
    pub items: Vec<QuoteItem>,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub renewal_minor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<DomainChoice>,
    /// The services this line created (one per unit).
    pub service_ids: Vec<ServiceId>,
}

/// An order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Order {
    pub id: OrderId,
    /// Sequential and gapless: `ORD-000042`.
    pub number: String,
    /// The client account it belongs to.
    pub account_id: UserId,
    pub status: OrderStatus,
    pub currency: Currency,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub tax_lines: Vec<TaxLine>,
    pub tax_inclusive: bool,
    pub reverse_charge: bool,
    /// The promo codes applied, in the order they took their discounts.
    #[serde(default)]
    pub promo_codes: Vec<String>,
    pub items: Vec<OrderItem>,
    /// Why fraud screening held it (empty when it did not).
    pub fraud_reasons: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An order in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrderSummary {
    pub id: OrderId,
    pub number: String,
    pub account_id: UserId,
    /// The account holder's e-mail.
    pub email: String,
    pub status: OrderStatus,
    pub currency: Currency,
    pub total_minor: i64,
    /// "VPS 2, Daily backups" …
    pub description: String,
    pub created_at: DateTime<Utc>,
}

/// Filters for order lists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct OrderFilter {
    /// Only orders in this status.
    pub status: Option<OrderStatus>,
    /// Orders whose number starts with this (`ORD-0001`, any case).
    #[validate(length(min = 1, max = 20))]
    #[cfg_attr(feature = "openapi", param(min_length = 1, max_length = 20))]
    pub q: Option<String>,
    /// Back office: only this client's orders.
    pub account_id: Option<UserId>,
    /// The page (`page`, `per_page`, `cursor`); listed in the document as `PageQuery`'s parameters.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", param(ignore))]
    #[validate(nested)]
    pub paging: crate::PageQuery,
}

/// Why an order is cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CancelOrderRequest {
    #[validate(length(min = 1, max = 500))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub reason: String,
}
