//! Provisioning: the servers Keel creates accounts on, the services clients bought as they move
//! through their life, and the calendar arithmetic of due dates.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::cart::OptionChoice;
use crate::catalog::BillingCycle;
use crate::ids::{AddonId, InvoiceId, OrderId, ProductId, ServerId, ServiceChangeId, ServiceId, UserId};
use crate::money::Currency;
use crate::orders::ServiceStatus;
use crate::proration::Proration;

crate::text_enum! {
    /// The control panel or provider a server is driven through.
    pub enum ModuleKind {
        /// cPanel & WHM, over WHM's JSON API 1.
        Cpanel = "cpanel",
        /// Hetzner Cloud servers (one VPS per service), over the Hetzner Cloud API.
        Hetzner = "hetzner",
    }
}

impl ModuleKind {
    pub fn label(self) -> &'static str {
        match self {
            ModuleKind::Cpanel => "cPanel/WHM",
            ModuleKind::Hetzner => "Hetzner Cloud",
        }
    }
}

crate::text_enum! {
    /// Whether a server takes new accounts.
    pub enum ServerStatus {
        /// Takes new accounts while healthy and below its maximum.
        Active = "active",
        /// Keeps its accounts but takes no new ones.
        Maintenance = "maintenance",
        /// Marked full by an administrator.
        Full = "full",
    }
}

/// A server as the back office sees it. Its module credentials are never shown again after they
/// are saved: `has_credentials` says whether there are some.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Server {
    pub id: ServerId,
    pub name: String,
    pub hostname: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    pub location: String,
    pub module: ModuleKind,
    /// The built-in sandbox: Keel's in-process WHM stand-in, no real accounts are made.
    pub sandbox: bool,
    /// The module API's address (`https://host:2087` for WHM).
    pub api_url: String,
    /// The API user (`root` or a reseller for WHM; unused by Hetzner Cloud).
    pub username: String,
    pub has_credentials: bool,
    pub nameservers: Vec<String>,
    pub max_accounts: i32,
    pub current_accounts: i32,
    pub status: ServerStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_gb: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ram_mb: Option<i32>,
    /// The last health check passed (true until the first check).
    pub healthy: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_check_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Creates or changes a server. On a change, an absent `secret` keeps the saved one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerInput {
    #[validate(length(min = 1, max = 100))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    /// A host name (`server1.example.com`).
    #[validate(length(min = 1, max = 253), custom(function = "crate::validation::hostname"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 253))]
    pub hostname: String,
    #[serde(default)]
    #[validate(custom(function = "crate::validation::ip_address"))]
    #[cfg_attr(feature = "openapi", schema(max_length = 45))]
    pub ip: Option<String>,
    #[serde(default)]
    #[validate(length(max = 100))]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub location: String,
    pub module: ModuleKind,
    /// The module API's address; default `https://<hostname>:2087` for WHM,
    /// `https://api.hetzner.cloud/v1` for Hetzner Cloud.
    #[serde(default)]
    #[validate(length(min = 1, max = 300), custom(function = "crate::validation::http_url"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 300))]
    pub api_url: Option<String>,
    #[validate(length(min = 1, max = 100))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub username: String,
    /// The API token; sealed at rest and never answered back.
    #[serde(default)]
    #[validate(length(min = 1, max = 500))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500, write_only))]
    pub secret: Option<String>,
    #[serde(default)]
    #[validate(length(max = 4), custom(function = "nameservers"))]
    #[cfg_attr(feature = "openapi", schema(max_items = 4))]
    pub nameservers: Vec<String>,
    #[validate(range(min = 1, max = 100_000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100000))]
    pub max_accounts: i32,
    pub status: ServerStatus,
    #[serde(default)]
    #[validate(range(min = 1, max = 1_000_000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000000))]
    pub disk_gb: Option<i32>,
    #[serde(default)]
    #[validate(range(min = 1, max = 100_000_000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100000000))]
    pub ram_mb: Option<i32>,
}

fn nameservers(items: &[String]) -> Result<(), validator::ValidationError> {
    for n in items {
        crate::validation::hostname(n)?;
    }
    Ok(())
}

/// One health check of a server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerCheck {
    pub at: DateTime<Utc>,
    pub up: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A service in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceSummary {
    pub id: ServiceId,
    pub account_id: UserId,
    /// The account holder's e-mail.
    pub email: String,
    pub product_id: ProductId,
    pub product_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    pub status: ServiceStatus,
    pub cycle: BillingCycle,
    pub currency: Currency,
    pub recurring_minor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_due_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
}

/// A service in full. `last_error` and the job history are for the back office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Service {
    pub id: ServiceId,
    pub account_id: UserId,
    pub order_id: OrderId,
    pub product_id: ProductId,
    pub product_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    pub status: ServiceStatus,
    pub cycle: BillingCycle,
    pub currency: Currency,
    pub first_minor: i64,
    pub recurring_minor: i64,
    /// The day due dates are counted from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor_on: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_due_on: Option<NaiveDate>,
    /// The module's package (plan) name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// The server it lives on (its name), once placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_id: Option<ServerId>,
    /// The control panel login name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// The service has a control panel to open (single sign-on): a hosting account, not a cloud
    /// server.
    pub has_control_panel: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspend_reason: Option<String>,
    /// Why the last provisioning step failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancellation: Option<CancellationRequest>,
    /// The option values and add-ons it has now (a plan change starts from them).
    #[serde(default)]
    pub options: Vec<OptionChoice>,
    #[serde(default)]
    pub addon_ids: Vec<AddonId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activated_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One step in a service's life, for the back office.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceEvent {
    pub at: DateTime<Utc>,
    /// `create`, `suspend`, `terminate`, `placed`, …
    pub action: String,
    pub ok: bool,
    pub detail: String,
}

/// One day's disk and bandwidth use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsagePoint {
    pub day: NaiveDate,
    pub disk_mb: i64,
    pub bandwidth_mb: i64,
}

/// A service's use: the last 30 days, and the limits of its package when the panel has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceUsage {
    pub days: Vec<UsagePoint>,
}

/// A server with its recent health checks and the services on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServerDetail {
    pub server: Server,
    /// The latest checks, newest first.
    pub checks: Vec<ServerCheck>,
}

/// A service in full for the back office: its history too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminService {
    pub service: Service,
    /// Newest first.
    pub events: Vec<ServiceEvent>,
    /// Its plan changes (upgrades and downgrades), newest first.
    #[serde(default)]
    pub changes: Vec<ServiceChange>,
}

/// The control panel login of an active service, for its owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceCredentials {
    pub username: String,
    pub password: String,
    /// The server's host name.
    pub hostname: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    pub nameservers: Vec<String>,
}

/// A one-time link into the control panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SsoLink {
    pub url: String,
}

/// Filters for service lists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ServiceFilter {
    pub status: Option<ServiceStatus>,
    /// Back office: only this client's services.
    pub account_id: Option<UserId>,
    /// Back office: only the services on this server.
    pub server_id: Option<ServerId>,
    /// Domain starts with this (any case).
    #[validate(length(min = 1, max = 100))]
    #[cfg_attr(feature = "openapi", param(min_length = 1, max_length = 100))]
    pub q: Option<String>,
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", param(ignore))]
    #[validate(nested)]
    pub paging: crate::PageQuery,
}

/// A new control panel password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServicePassword {
    #[validate(length(min = 12, max = 128))]
    #[cfg_attr(feature = "openapi", schema(min_length = 12, max_length = 128, write_only))]
    pub password: String,
}

crate::text_enum! {
    /// When a cancelled service ends.
    pub enum CancelWhen {
        /// Now: the account is terminated.
        Immediate = "immediate",
        /// On the next due date; it is not renewed.
        EndOfPeriod = "end_of_period",
    }
}

/// A client's request to cancel a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CancellationRequest {
    pub when: CancelWhen,
    #[serde(default)]
    #[validate(length(max = 1000))]
    #[cfg_attr(feature = "openapi", schema(max_length = 1000))]
    pub reason: String,
}

/// Suspends a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SuspendRequest {
    #[validate(length(min = 1, max = 200))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub reason: String,
}

/// A client's change of one of their services to another plan, other option values or other
/// add-ons (`POST /services/{id}/change/quote` prices it, `POST /services/{id}/change` makes it).
/// Unchosen options take their default, as in the cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceChangeRequest {
    /// The plan to move to: the current one to change only options or add-ons.
    pub product_id: ProductId,
    #[serde(default)]
    #[validate(length(max = 50), nested)]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub options: Vec<OptionChoice>,
    #[serde(default)]
    #[validate(length(max = 50))]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub addon_ids: Vec<AddonId>,
    /// The `total_minor` of the quote the client was shown. When given and the change would now
    /// cost something else, it is refused (409 `price_changed`) rather than charged.
    #[serde(default)]
    #[validate(range(min = 0, max = crate::catalog::AMOUNT_MAX))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000000000000_i64))]
    pub expected_total_minor: Option<i64>,
}

crate::text_enum! {
    /// How a change's difference is settled.
    pub enum ChangeSettlement {
        /// The difference is invoiced; the change happens when the invoice is paid.
        Invoice = "invoice",
        /// A downgrade: the change happens now and the unused difference goes to account credit.
        Credit = "credit",
        /// A downgrade that waits for the next due date (a billing setting); no credit.
        AtRenewal = "at_renewal",
        /// Nothing to pay or credit: the change happens now.
        Nothing = "nothing",
    }
}

crate::text_enum! {
    /// Where a change is.
    pub enum ServiceChangeStatus {
        /// Its invoice is waiting to be paid.
        Pending = "pending",
        /// It happens on the next due date.
        Scheduled = "scheduled",
        /// The service has the new plan.
        Applied = "applied",
        /// Its invoice was cancelled, another change replaced it, or the service ended first.
        Cancelled = "cancelled",
    }
}

/// What a change costs, before the client confirms it: the proration's lines, the tax on them
/// and how it is settled. Confirming with the same choice gives the same amounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceChangeQuote {
    pub from_product_name: String,
    pub product_id: ProductId,
    pub product_name: String,
    pub currency: Currency,
    /// The price per period now, and after the change (before tax).
    pub old_recurring_minor: i64,
    pub new_recurring_minor: i64,
    pub proration: Proration,
    /// Tax on the prorated lines (negative for a credit).
    pub tax_minor: i64,
    /// What is invoiced now, tax included (0 unless settled by invoice).
    pub total_minor: i64,
    /// What goes to account credit, tax included (0 unless settled by credit).
    pub credit_minor: i64,
    pub settlement: ChangeSettlement,
}

/// A change of a service's plan, options or add-ons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceChange {
    pub id: ServiceChangeId,
    pub service_id: ServiceId,
    pub status: ServiceChangeStatus,
    pub quote: ServiceChangeQuote,
    /// The invoice of the difference (settled by invoice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<InvoiceId>,
    /// A change waiting for the renewal happens on this day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_at: Option<DateTime<Utc>>,
}

/// Back office: changes what a service costs, when it is next due, or its package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceUpdate {
    #[serde(default)]
    pub next_due_on: Option<NaiveDate>,
    #[serde(default)]
    #[validate(range(min = 0, max = crate::catalog::AMOUNT_MAX))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000000000000_i64))]
    pub recurring_minor: Option<i64>,
    /// A new package: the control panel is told (a `change_package` job).
    #[serde(default)]
    #[validate(length(min = 1, max = 100))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub package: Option<String>,
}

/// The `n`th due date of a service anchored on `anchor`: `anchor` plus `n` cycles, counted from
/// the anchor every time (never from the previous due date) and clamped to the month's end, so
/// monthly from Jan 31 runs Feb 28 (29) → Mar 31 → Apr 30, and yearly from Feb 29 gives Feb 28 in
/// common years. One-time and free services have no due dates after the first (`None`).
pub fn due_date(anchor: NaiveDate, cycle: BillingCycle, n: u32) -> Option<NaiveDate> {
    let months = cycle.months();
    if months == 0 {
        return (n == 0).then_some(anchor);
    }
    add_months(anchor, months.checked_mul(n)?)
}

/// The first due date after `day` (or on it, when `day` is itself a due date past the anchor).
pub fn next_due_after(anchor: NaiveDate, cycle: BillingCycle, day: NaiveDate) -> Option<NaiveDate> {
    if cycle.months() == 0 {
        return None;
    }
    // A first guess from whole months, then step: at most a couple of iterations.
    let months_between = (day.year() - anchor.year()) * 12 + day.month() as i32 - anchor.month() as i32;
    let mut n = u32::try_from(months_between.max(0)).ok()? / cycle.months();
    loop {
        let d = due_date(anchor, cycle, n)?;
        if d > day {
            return Some(d);
        }
        n = n.checked_add(1)?;
    }
}

/// `day` plus `months`, clamped to the last day of the resulting month.
pub fn add_months(day: NaiveDate, months: u32) -> Option<NaiveDate> {
    let total = day.year().checked_mul(12)?.checked_add(day.month0() as i32)?.checked_add(i32::try_from(months).ok()?)?;
    let (year, month0) = (total.div_euclid(12), total.rem_euclid(12) as u32);
    let last = days_in_month(year, month0 + 1)?;
    NaiveDate::from_ymd_opt(year, month0 + 1, day.day().min(last))
}

fn days_in_month(year: i32, month: u32) -> Option<u32> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = if month == 12 { NaiveDate::from_ymd_opt(year + 1, 1, 1)? } else { NaiveDate::from_ymd_opt(year, month + 1, 1)? };
    u32::try_from((next - first).num_days()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn monthly_from_the_31st_keeps_its_anchor() {
        let a = d(2027, 1, 31);
        let got: Vec<_> = (0..5).filter_map(|n| due_date(a, BillingCycle::Monthly, n)).collect();
        assert_eq!(got, vec![d(2027, 1, 31), d(2027, 2, 28), d(2027, 3, 31), d(2027, 4, 30), d(2027, 5, 31)]);
        assert_eq!(due_date(d(2028, 1, 31), BillingCycle::Monthly, 1), Some(d(2028, 2, 29)));
    }

    #[test]
    fn yearly_from_a_leap_day() {
        let a = d(2028, 2, 29);
        assert_eq!(due_date(a, BillingCycle::Annually, 1), Some(d(2029, 2, 28)));
        assert_eq!(due_date(a, BillingCycle::Annually, 4), Some(d(2032, 2, 29)));
        assert_eq!(due_date(a, BillingCycle::Biennially, 2), Some(d(2032, 2, 29)));
    }

    #[test]
    fn other_cycles_and_one_time() {
        let a = d(2026, 11, 30);
        assert_eq!(due_date(a, BillingCycle::Quarterly, 1), Some(d(2027, 2, 28)));
        assert_eq!(due_date(a, BillingCycle::Semiannually, 1), Some(d(2027, 5, 30)));
        assert_eq!(due_date(a, BillingCycle::Triennially, 1), Some(d(2029, 11, 30)));
        assert_eq!(due_date(a, BillingCycle::OneTime, 0), Some(a));
        assert_eq!(due_date(a, BillingCycle::OneTime, 1), None);
        assert_eq!(next_due_after(a, BillingCycle::Free, a), None);
        assert_eq!(due_date(a, BillingCycle::Monthly, u32::MAX), None, "no overflow");
    }

    #[test]
    fn next_due_after_any_day() {
        let a = d(2027, 1, 31);
        assert_eq!(next_due_after(a, BillingCycle::Monthly, a), Some(d(2027, 2, 28)));
        assert_eq!(next_due_after(a, BillingCycle::Monthly, d(2027, 2, 28)), Some(d(2027, 3, 31)));
        assert_eq!(next_due_after(a, BillingCycle::Monthly, d(2027, 3, 1)), Some(d(2027, 3, 31)));
        assert_eq!(next_due_after(a, BillingCycle::Annually, d(2030, 6, 1)), Some(d(2031, 1, 31)));
        // Before the anchor: the anchor's next period.
        assert_eq!(next_due_after(a, BillingCycle::Monthly, d(2026, 1, 1)), Some(d(2027, 1, 31)));
    }

    #[test]
    fn due_dates_never_drift_over_many_periods() {
        let a = d(2027, 1, 31);
        let mut prev = a;
        for n in 1..600 {
            let next = due_date(a, BillingCycle::Monthly, n).unwrap_or_default();
            assert!(next > prev);
            assert_eq!(next.day(), 31.min(days_in_month(next.year(), next.month()).unwrap_or(0)), "{next}");
            prev = next;
        }
    }
}
