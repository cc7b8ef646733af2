//! Where the pages live. The app ships as three wasm bundles so a visitor loads only what the area
//! they open needs (the storefront's first load has a size budget, checked by `scripts/web-size`):
//!
//! | bundle | paths | built into | binary |
//! |---|---|---|---|
//! | storefront | `/`, `/order/:slug`, `/cart`, `/login`, `/register`, `/verify-email`, `/forgot-password`, `/reset-password`, `/unlock` (and any other path) | `dist/` | `keel-web` |
//! | portal | `/dashboard…`, `/team/accept` | `dist/portal/` | `keel-portal` |
//! | admin | `/admin…` | `dist/admin/` | `keel-admin` |
//!
//! keel's SPA host (`api/src/http/spa.rs`) answers each path with its bundle's `index.html` by the
//! same table. A link or a navigation into another bundle is a full page load (`rel="external"`,
//! `location.assign`); the new page restores the session from the refresh cookie, as any page load
//! does.
//!
//! The sidebars are drawn from the tables here ([`PORTAL_NAV`], [`ADMIN_NAV`]); the admin's home
//! page also picks the first page the user may open from [`ADMIN_NAV`].

use std::sync::OnceLock;

use keel_shared::access::{MemberPermission, Permission};
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use crate::session::SessionCtx;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bundle {
    Storefront,
    Portal,
    Admin,
}

static BUNDLE: OnceLock<Bundle> = OnceLock::new();

/// Records which bundle is running (each `main` calls it once, before mounting).
pub fn set_bundle(b: Bundle) {
    let _ = BUNDLE.set(b);
}

pub fn bundle() -> Bundle {
    *BUNDLE.get().unwrap_or(&Bundle::Storefront)
}

/// The bundle that serves `href` (a local path, with or without query or fragment).
pub fn bundle_of(href: &str) -> Bundle {
    let path = href.split(['?', '#']).next().unwrap_or("");
    let under = |prefix: &str| path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'));
    if under("/admin") {
        Bundle::Admin
    } else if under("/dashboard") || path == "/team/accept" {
        Bundle::Portal
    } else {
        Bundle::Storefront
    }
}

/// Whether following `href` leaves the running bundle.
pub fn crosses(href: &str) -> bool {
    bundle_of(href) != bundle()
}

/// `rel="external"` for links into another bundle, so the router lets the browser load them.
pub fn rel(href: &str) -> Option<&'static str> {
    crosses(href).then_some("external")
}

/// A full page load of `path`.
pub fn load(path: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().assign(path);
    }
}

/// A full page load of `path` that replaces the current history entry (for redirects).
pub fn load_replacing(path: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().replace(path);
    }
}

/// Navigation that works across bundles: inside the running bundle through the router, into
/// another with a page load.
pub fn use_go() -> impl Fn(&str) + Clone + 'static {
    let navigate = use_navigate();
    move |path: &str| if crosses(path) { load(path) } else { navigate(path, NavigateOptions::default()) }
}

/// A sidebar entry.
#[derive(Clone, Copy)]
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub icon: &'static str,
    /// Whether the signed-in user may use the page (the API checks again on every call).
    pub shown: fn(&SessionCtx) -> bool,
}

fn always(_: &SessionCtx) -> bool {
    true
}

/// Pages of one's own account, hidden while acting for another account.
fn own_account(s: &SessionCtx) -> bool {
    s.acting.with(Option::is_none)
}

/// The client area's sidebar.
pub const PORTAL_NAV: &[NavItem] = &[
    NavItem { href: "/dashboard", label: "Overview", icon: "home", shown: always },
    NavItem { href: "/dashboard/services", label: "Services", icon: "globe", shown: |s| s.may_use(MemberPermission::Services) },
    NavItem { href: "/dashboard/orders", label: "Orders", icon: "template", shown: |s| s.may_use(MemberPermission::Billing) },
    NavItem { href: "/dashboard/invoices", label: "Invoices", icon: "template", shown: |s| s.may_use(MemberPermission::Billing) },
    NavItem { href: "/dashboard/profile", label: "Profile", icon: "user", shown: |s| s.may_use(MemberPermission::Billing) },
    NavItem { href: "/dashboard/team", label: "Team", icon: "users", shown: own_account },
    NavItem { href: "/dashboard/emails", label: "E-mails", icon: "mail", shown: own_account },
    NavItem { href: "/dashboard/security", label: "Security", icon: "shield", shown: own_account },
    NavItem { href: "/dashboard/activity", label: "Activity", icon: "queue", shown: own_account },
    NavItem { href: "/", label: "Order hosting", icon: "store", shown: always },
];

/// The back office's sidebar, in the order `/admin` picks a staff member's first page.
pub const ADMIN_NAV: &[NavItem] = &[
    NavItem { href: "/admin", label: "Clients", icon: "users", shown: |s| s.can(Permission::ClientsRead) },
    NavItem { href: "/admin/orders", label: "Orders", icon: "template", shown: |s| s.can(Permission::BillingRead) },
    NavItem { href: "/admin/invoices", label: "Invoices", icon: "template", shown: |s| s.can(Permission::BillingRead) },
    NavItem { href: "/admin/payment-events", label: "Payment events", icon: "queue", shown: |s| s.can(Permission::BillingRead) },
    NavItem { href: "/admin/billing/settings", label: "Billing settings", icon: "template", shown: |s| s.can(Permission::BillingRead) },
    NavItem { href: "/admin/services", label: "Services", icon: "globe", shown: |s| s.can(Permission::ServersManage) },
    NavItem { href: "/admin/servers", label: "Servers", icon: "server", shown: |s| s.can(Permission::ServersManage) },
    NavItem { href: "/admin/catalog", label: "Catalog", icon: "store", shown: |s| s.can(Permission::CatalogManage) },
    NavItem { href: "/admin/catalog/taxes", label: "Taxes", icon: "template", shown: |s| s.can(Permission::CatalogManage) },
    NavItem { href: "/admin/catalog/promos", label: "Promo codes", icon: "template", shown: |s| s.can(Permission::CatalogManage) },
    NavItem { href: "/admin/catalog/currencies", label: "Currencies", icon: "template", shown: |s| s.can(Permission::CatalogManage) },
    NavItem { href: "/admin/catalog/groups", label: "Groups", icon: "store", shown: |s| s.can(Permission::CatalogManage) },
    NavItem { href: "/admin/catalog/addons", label: "Add-ons", icon: "store", shown: |s| s.can(Permission::CatalogManage) },
    NavItem { href: "/admin/jobs", label: "Jobs", icon: "queue", shown: |s| s.can(Permission::AutomationManage) },
    NavItem { href: "/admin/tasks", label: "Scheduled tasks", icon: "clock", shown: |s| s.can(Permission::AutomationManage) },
    NavItem { href: "/admin/emails", label: "E-mail log", icon: "mail", shown: |s| s.can(Permission::EmailsRead) },
    NavItem { href: "/admin/email-templates", label: "E-mail templates", icon: "template", shown: |s| s.can(Permission::EmailsManage) },
    NavItem { href: "/admin/audit", label: "Audit log", icon: "shield", shown: |s| s.can(Permission::AuditRead) },
    NavItem { href: "/admin/staff", label: "Staff", icon: "user", shown: SessionCtx::is_admin },
    NavItem { href: "/dashboard", label: "My account", icon: "user", shown: always },
];
