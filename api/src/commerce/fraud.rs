//! Fraud screening: a check every checkout runs inside its transaction. A check answers the
//! reasons to hold an order for a person to review (none: the order proceeds). The built-in
//! rules are below; another screening service plugs in as a `FraudCheck` in `Deps`.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

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
/// and an e-mail address at a disposable-mail domain.
#[derive(Debug, Clone)]
pub struct Rules {
    pub max_orders_per_ip_hour: i64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules { max_orders_per_ip_hour: 3 }
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
        let domain = order.email.rsplit('@').next().unwrap_or_default().to_ascii_lowercase();
        if DISPOSABLE.contains(&domain.as_str()) {
            reasons.push(format!("a disposable e-mail address ({domain})"));
        }
        Ok(reasons)
    }
}
