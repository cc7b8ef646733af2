//! Keel's web app, built as three wasm bundles from this library (see `routes`): the storefront
//! (`src/main.rs`: the public site and sign-in pages), the portal (`src/bin/portal.rs`: the client
//! area under `/dashboard`) and the admin (`src/bin/admin.rs`: `/admin`). Each bundle mounts only
//! its own router, so link-time optimisation leaves the others' pages out. The session lives in context
//! (`use_session()`); every call to the server goes through the typed client in `api`.

pub mod api;
pub mod cart;
pub mod components;
pub mod pages;
pub mod routes;
pub mod session;
pub mod theme;

use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;

use components::layout::{AdminShell, PortalShell, PublicFrame, PublicShell};
use pages::{admin, portal, storefront, NotFoundPage};

/// The storefront bundle: the public site (plans, configurator, cart) and the sign-in pages.
#[component]
pub fn StorefrontApp() -> impl IntoView {
    routes::set_bundle(routes::Bundle::Storefront);
    session::provide_session();
    cart::provide_cart();
    theme::init();
    view! {
        <Router>
            <Routes fallback=|| view! { <PublicFrame><NotFoundPage/></PublicFrame> }>
                <ParentRoute path=path!("") view=PublicShell>
                    <Route path=path!("") view=storefront::StorefrontPage/>
                    <Route path=path!("order/:slug") view=storefront::OrderPage/>
                    <Route path=path!("cart") view=storefront::CartPage/>
                    <Route path=path!("login") view=storefront::LoginPage/>
                    <Route path=path!("register") view=storefront::RegisterPage/>
                    <Route path=path!("verify-email") view=storefront::VerifyEmailPage/>
                    <Route path=path!("forgot-password") view=storefront::ForgotPasswordPage/>
                    <Route path=path!("reset-password") view=storefront::ResetPasswordPage/>
                    <Route path=path!("unlock") view=storefront::UnlockPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The portal bundle: the client area, and the page an invitation link opens (accepting one
/// switches straight into the account).
#[component]
pub fn PortalApp() -> impl IntoView {
    routes::set_bundle(routes::Bundle::Portal);
    session::provide_session();
    cart::provide_cart();
    theme::init();
    view! {
        <Router>
            <Routes fallback=|| view! { <PublicFrame><NotFoundPage/></PublicFrame> }>
                <ParentRoute path=path!("team") view=PublicShell>
                    <Route path=path!("accept") view=portal::AcceptInvitationPage/>
                </ParentRoute>
                <ParentRoute path=path!("dashboard") view=PortalShell>
                    <Route path=path!("") view=portal::DashboardPage/>
                    <Route path=path!("emails") view=portal::MyEmailsPage/>
                    <Route path=path!("profile") view=portal::ProfilePage/>
                    <Route path=path!("security") view=portal::SecurityPage/>
                    <Route path=path!("activity") view=portal::ActivityPage/>
                    <Route path=path!("team") view=portal::TeamPage/>
                    <Route path=path!("orders") view=portal::OrdersPage/>
                    <Route path=path!("orders/:id") view=portal::OrderPage/>
                    <Route path=path!("checkout") view=portal::CheckoutPage/>
                    <Route path=path!("invoices") view=portal::InvoicesPage/>
                    <Route path=path!("invoices/:id") view=portal::InvoicePage/>
                    <Route path=path!("services") view=portal::ServicesPage/>
                    <Route path=path!("services/:id") view=portal::ServicePage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The admin bundle: the back office under `/admin`.
#[component]
pub fn AdminApp() -> impl IntoView {
    routes::set_bundle(routes::Bundle::Admin);
    session::provide_session();
    theme::init();
    view! {
        <Router>
            <Routes fallback=|| view! { <PublicFrame><NotFoundPage/></PublicFrame> }>
                <ParentRoute path=path!("admin") view=AdminShell>
                    <Route path=path!("") view=admin::AdminHome/>
                    <Route path=path!("clients") view=admin::ClientsPage/>
                    <Route path=path!("jobs") view=admin::JobsPage/>
                    <Route path=path!("tasks") view=admin::TasksPage/>
                    <Route path=path!("emails") view=admin::AdminEmailsPage/>
                    <Route path=path!("email-templates") view=admin::TemplatesPage/>
                    <Route path=path!("audit") view=admin::AdminAuditPage/>
                    <Route path=path!("staff") view=admin::StaffPage/>
                    <Route path=path!("orders") view=admin::AdminOrdersPage/>
                    <Route path=path!("orders/:id") view=admin::AdminOrderPage/>
                    <Route path=path!("invoices") view=admin::AdminInvoicesPage/>
                    <Route path=path!("invoices/:id") view=admin::AdminInvoicePage/>
                    <Route path=path!("payment-events") view=admin::PaymentEventsPage/>
                    <Route path=path!("billing/settings") view=admin::BillingSettingsPage/>
                    <Route path=path!("clients/:id") view=admin::ClientBillingPage/>
                    <Route path=path!("catalog") view=admin::ProductsPage/>
                    <Route path=path!("catalog/products/:id") view=admin::ProductEditPage/>
                    <Route path=path!("catalog/taxes") view=admin::TaxesPage/>
                    <Route path=path!("catalog/promos") view=admin::PromosPage/>
                    <Route path=path!("catalog/currencies") view=admin::CurrenciesPage/>
                    <Route path=path!("catalog/groups") view=admin::GroupsPage/>
                    <Route path=path!("catalog/addons") view=admin::AddonsPage/>
                    <Route path=path!("services") view=admin::AdminServicesPage/>
                    <Route path=path!("services/:id") view=admin::AdminServicePage/>
                    <Route path=path!("servers") view=admin::ServersPage/>
                    <Route path=path!("servers/:id") view=admin::ServerPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
