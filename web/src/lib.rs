//! Keel's web app: the public storefront, the client portal (`/dashboard`) and the admin
//! (`/admin`). One router tree; the session lives in context (`use_session()`); every call to the
//! server goes through the typed client in `api`.

pub mod api;
pub mod components;
pub mod pages;
pub mod session;
pub mod theme;

use leptos::prelude::*;
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::path;

use components::layout::{AdminShell, PortalShell, PublicFrame, PublicShell};
use pages::{account, admin, auth, automation, emails, portal, profile, staff, storefront, team, NotFoundPage};

#[component]
pub fn App() -> impl IntoView {
    session::provide_session();
    theme::init();
    view! {
        <Router>
            <Routes fallback=|| view! { <PublicFrame><NotFoundPage/></PublicFrame> }>
                <ParentRoute path=path!("") view=PublicShell>
                    <Route path=path!("") view=storefront::StorefrontPage/>
                    <Route path=path!("login") view=auth::LoginPage/>
                    <Route path=path!("register") view=auth::RegisterPage/>
                    <Route path=path!("verify-email") view=account::VerifyEmailPage/>
                    <Route path=path!("forgot-password") view=account::ForgotPasswordPage/>
                    <Route path=path!("reset-password") view=account::ResetPasswordPage/>
                    <Route path=path!("team/accept") view=team::AcceptInvitationPage/>
                </ParentRoute>
                <ParentRoute path=path!("dashboard") view=PortalShell>
                    <Route path=path!("") view=portal::DashboardPage/>
                    <Route path=path!("emails") view=emails::MyEmailsPage/>
                    <Route path=path!("profile") view=profile::ProfilePage/>
                    <Route path=path!("security") view=account::SecurityPage/>
                    <Route path=path!("activity") view=account::ActivityPage/>
                    <Route path=path!("team") view=team::TeamPage/>
                </ParentRoute>
                <ParentRoute path=path!("admin") view=AdminShell>
                    <Route path=path!("") view=admin::AdminHome/>
                    <Route path=path!("clients") view=admin::ClientsPage/>
                    <Route path=path!("jobs") view=automation::JobsPage/>
                    <Route path=path!("tasks") view=automation::TasksPage/>
                    <Route path=path!("emails") view=emails::AdminEmailsPage/>
                    <Route path=path!("email-templates") view=emails::TemplatesPage/>
                    <Route path=path!("audit") view=account::AdminAuditPage/>
                    <Route path=path!("staff") view=staff::StaffPage/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}
