//! Reusable pieces. A component never imports a page: pages compose components, and what two
//! pages share lives here.

pub mod amounts;
pub mod banners;
pub mod checks;
pub mod feedback;
pub mod form;
pub mod icons;
pub mod invoices;
pub mod layout;
pub mod orders;
pub mod services;
pub mod shop;
pub mod tables;

use chrono::{DateTime, Datelike, Timelike, Utc};
use keel_shared::access::MemberPermission;

// Times are written out by hand rather than with chrono's `format`, whose format-string
// machinery costs the wasm tens of kilobytes for three patterns.

/// A UTC time as shown in tables: `2026-11-24 01:15`.
pub fn when(t: DateTime<Utc>) -> String {
    format!("{:04}-{:02}-{:02} {:02}:{:02}", t.year(), t.month(), t.day(), t.hour(), t.minute())
}

/// The same with seconds, for job queues.
pub fn when_exact(t: DateTime<Utc>) -> String {
    format!("{}:{:02}", when(t), t.second())
}

/// A day in words: `24 November 2026`.
pub fn day_in_words(t: DateTime<Utc>) -> String {
    const MONTHS: [&str; 12] =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    format!("{} {} {}", t.day(), MONTHS[t.month0() as usize], t.year())
}

/// A team member's area as the portal names it.
pub fn area_label(p: MemberPermission) -> &'static str {
    match p {
        MemberPermission::Billing => "Billing",
        MemberPermission::Services => "Services",
        MemberPermission::Domains => "Domains",
        MemberPermission::Support => "Support",
    }
}

/// Areas as a list in words: `Billing, Support`.
pub fn areas_text(perms: &[MemberPermission]) -> String {
    perms.iter().map(|p| area_label(*p)).collect::<Vec<_>>().join(", ")
}
