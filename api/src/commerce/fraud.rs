//! Fraud screening: a check every checkout runs inside its transaction. A check answers the
//! reasons to hold an order for a person to review (none: the order proceeds). The built-in
//! rules are below; another screening service plugs in as a `FraudCheck` in `Deps`.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use super::geoip::IpCountries;
use crate::db::{now_micros, DbConn};
use crate::error::ApiError;
use crate::schema::orders;

/// What a screening sees of an order.
#[derive(Debug, Clone)]
pub struct Screening<'a> {
    pub account_id: &'a str,
    pub email: &'a str,
    pub ip: Option<&'a str>,
    pub billing_country: Option<&'a str>,
    pub total_minor: i64,
}

pub trait FraudCheck: std::fmt::Debug + Send + Sync {
    /// Reasons to hold the order (empty: none).
    fn screen(&self, conn: &mut DbConn, now: DateTime<Utc>, order: &Screening<'_>) -> Result<Vec<String>, ApiError>;
}

/// Disposable-address domains (a short list of the common ones; extend it in the settings of a
/// screening service).
const DISPOSABLE: &[&str] = &[
    "10minutemail.com",
    "dispostable.com",
    "getnada.com",
    "guerrillamail.com",
    "maildrop.cc",
    "mailinator.com",
    "mohmal.com",
    "sharklasers.com",
    "temp-mail.org",
    "tempmail.com",
    "throwawaymail.com",
    "trashmail.com",
    "yopmail.com",
];

/// The built-in rules: more than `max_orders_per_ip_hour` orders from one IP address in an hour,
/// an e-mail address at a disposable-mail domain, and (with an IP country list) an order placed
/// from a country other than the billing address's.
#[derive(Debug, Clone)]
pub struct Rules {
    pub max_orders_per_ip_hour: i64,
    pub countries: Option<Arc<IpCountries>>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules { max_orders_per_ip_hour: 3, countries: None }
    }
}

impl FraudCheck for Rules {
    fn screen(&self, conn: &mut DbConn, now: DateTime<Utc>, order: &Screening<'_>) -> Result<Vec<String>, ApiError> {
        let mut reasons = Vec::new();
        if let Some(ip) = order.ip {
            let since = now_micros(now - Duration::hours(1));
            let recent: i64 = orders::table.filter(orders::ip.eq(ip)).filter(orders::created_at.gt(since)).count().get_result(conn)?;
            if recent >= self.max_orders_per_ip_hour {
                reasons.push(format!("{} orders from {ip} in the last hour", recent + 1));
            }
        }
        if let (Some(countries), Some(ip), Some(billing)) = (&self.countries, order.ip, order.billing_country) {
            if let Some(from) = countries.country(ip).filter(|c| !c.eq_ignore_ascii_case(billing)) {
                reasons.push(format!("placed from {from} ({ip}); the billing address is in {billing}"));
            }
        }
        let domain = order.email.rsplit('@').next().unwrap_or_default().to_ascii_lowercase();
        if DISPOSABLE.contains(&domain.as_str()) {
            reasons.push(format!("a disposable e-mail address ({domain})"));
        }
        Ok(reasons)
    }
}
