//! Page frames: the public site (top bar + footer), and the portal and admin (left sidebar).
//! The portal and admin frames send signed-out visitors to the login page; what a signed-in user
//! may see is decided by the API on each call.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Outlet, Redirect, A};
use leptos_router::hooks::{use_location, use_navigate};

use super::feedback::Loading;
use super::icons::{Icon, Logo};
use crate::session::{use_session, SessionCtx};
use keel_shared::access::{MemberPermission, Permission};

#[component]
fn ThemeToggle() -> impl IntoView {
    let label = RwSignal::new(crate::theme::current());
    view! {
        <button class="btn btn-ghost btn-icon" type="button" title="Switch light/dark theme"
            aria-label=move || format!("Switch to {} theme", if label.get() == "dark" { "light" } else { "dark" })
            on:click=move |_| label.set(crate::theme::toggle())>
            <Icon name="moon"/>
        </button>
    }
}

/// Signs out on the server, forgets the session and goes home. While an administrator views the
/// portal as a client, it ends only that view: the admin's own session continues.
fn sign_out() {
    let session = use_session();
    let navigate = use_navigate();
    if session.user().is_some_and(|u| u.impersonator.is_some()) {
        return_to_admin(session, navigate);
        return;
    }
    spawn_local(async move {
        let _ = crate::api::logout().await;
        session.sign_out();
        navigate("/", Default::default());
    });
}

/// Ends a "log in as client" view: the admin's refresh cookie was never replaced, so refreshing
/// returns to their own session.
fn return_to_admin(session: crate::session::SessionCtx, navigate: impl Fn(&str, leptos_router::NavigateOptions) + 'static) {
    spawn_local(async move {
        match crate::api::refresh().await {
            Ok(t) => {
                session.set(t);
                navigate("/admin", Default::default());
            }
            Err(_) => {
                session.sign_out();
                navigate("/login", Default::default());
            }
        }
    });
}

#[component]
fn AccountLinks() -> impl IntoView {
    let session = use_session();
    view! {
        <Show
            when=move || session.current.with(Option::is_some)
            fallback=|| view! {
                <A href="/login" attr:class="btn btn-ghost">"Log in"</A>
                <A href="/register" attr:class="btn btn-primary">"Get started"</A>
            }
        >
            <A href="/dashboard" attr:class="btn btn-ghost">"Dashboard"</A>
            <Show when=move || session.is_back_office()>
                <A href="/admin" attr:class="btn btn-ghost">"Admin"</A>
            </Show>
            <button class="btn btn-outline" type="button" on:click=move |_| sign_out()>"Log out"</button>
        </Show>
    }
}

/// The public site's frame around the nested route.
#[component]
pub fn PublicShell() -> impl IntoView {
    view! { <PublicFrame><Outlet/></PublicFrame> }
}

/// The public site's frame: top bar, content, footer.
#[component]
pub fn PublicFrame(children: Children) -> impl IntoView {
    view! {
        <div class="site">
            <header class="topbar">
                <div class="container topbar-inner">
                    <A href="/" attr:class="brand"><Logo/><span>"Keel"</span></A>
                    <nav class="topnav" aria-label="Main">
                        <A href="/#plans">"Hosting"</A>
                    </nav>
                    <div class="topbar-actions">
                        <ThemeToggle/>
                        <AccountLinks/>
                    </div>
                </div>
            </header>
            <main class="site-main">{children()}</main>
            <footer class="footer">
                <div class="container footer-inner">
                    <span>"© 2026 Keel Hosting"</span>
                    <span class="muted">"Fast hosting, honest prices, 24/7 support."</span>
                    <a href="/api/docs/">"API"</a>
                </div>
            </footer>
        </div>
    }
}

#[derive(Clone, Copy)]
struct NavItem {
    href: &'static str,
    label: &'static str,
    icon: &'static str,
    /// Whether the signed-in user may use the page (the API checks again on every call).
    shown: fn(&SessionCtx) -> bool,
}

fn always(_: &SessionCtx) -> bool {
    true
}

/// Pages of one's own account, hidden while acting for another account.
fn own_account(s: &SessionCtx) -> bool {
    s.acting.with(Option::is_none)
}

#[component]
fn AppShell(area: &'static str, nav: Vec<NavItem>) -> impl IntoView {
    let session = use_session();
    let location = use_location();
    let hrefs: Vec<&'static str> = nav.iter().map(|i| i.href).collect();
    let links = nav
        .into_iter()
        .map(|item| {
            let hrefs = hrefs.clone();
            // The most specific link that contains the current path is the active one.
            let active = Memo::new(move |_| {
                let path = location.pathname.get();
                let within = |h: &str| path == h || (h.len() > 1 && path.starts_with(&format!("{h}/")));
                within(item.href) && !hrefs.iter().any(|h| h.len() > item.href.len() && within(h))
            });
            view! {
                <Show when=move || (item.shown)(&session)>
                    <A href=item.href attr:class=move || if active.get() { "side-link active" } else { "side-link" }>
                        <Icon name=item.icon/><span>{item.label}</span>
                    </A>
                </Show>
            }
        })
        .collect_view();
    let user_line = move || session.user().map(|u| format!("{} {}", u.first_name, u.last_name)).unwrap_or_default();
    let email = move || session.user().map(|u| u.email).unwrap_or_default();
    view! {
        <div class="app">
            <aside class="sidebar" aria-label=format!("{area} navigation")>
                <A href="/" attr:class="brand"><Logo/><span>"Keel"</span></A>
                <span class="area-badge">{area}</span>
                <nav class="side-nav">{links}</nav>
                <div class="side-footer">
                    <div class="who">
                        <strong>{user_line}</strong>
                        <span class="muted small" data-testid="user-email">{email}</span>
                    </div>
                    <div class="side-actions">
                        <ThemeToggle/>
                        <button class="btn btn-ghost" type="button" on:click=move |_| sign_out()>
                            <Icon name="logout"/><span>"Log out"</span>
                        </button>
                    </div>
                </div>
            </aside>
            <main class="app-main"><ImpersonationBanner/><crate::pages::team::ActingBanner/><Outlet/></main>
        </div>
    }
}

/// Shown while an administrator views the portal as a client.
#[component]
fn ImpersonationBanner() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let back = move |_| return_to_admin(session, navigate.clone());
    view! {
        {move || session.user().and_then(|u| u.impersonator.clone().map(|admin| (u, admin))).map(|(u, admin)| view! {
            <div class="alert alert-warn banner" role="status" data-testid="impersonation-banner">
                <span>{format!("You are viewing {}'s account ({}) as {}.", u.first_name, u.email, admin)}</span>
                <button class="btn btn-outline btn-sm" type="button" on:click=back.clone()>"Return to admin"</button>
            </div>
        })}
    }
}

/// Renders `inner` once the session is known; sends signed-out visitors to /login.
fn require_session(inner: impl Fn() -> AnyView + Send + Sync + 'static) -> impl IntoView {
    let session = use_session();
    let location = use_location();
    // Only a change between signed in and out re-renders the frame; updates to the user (e.g.
    // after enabling two-factor) must not throw away the page's state.
    let signed_in = Memo::new(move |_| session.current.with(Option::is_some));
    move || {
        if !session.ready.get() {
            view! { <div class="center-page"><Loading/></div> }.into_any()
        } else if !signed_in.get() && session.signed_out.get() {
            view! { <Redirect path="/"/> }.into_any()
        } else if !signed_in.get() {
            let next = location.pathname.get_untracked();
            view! { <Redirect path=format!("/login?next={next}")/> }.into_any()
        } else {
            inner()
        }
    }
}

#[component]
pub fn PortalShell() -> impl IntoView {
    require_session(|| {
        let nav = vec![
            NavItem { href: "/dashboard", label: "Overview", icon: "home", shown: always },
            NavItem { href: "/dashboard/profile", label: "Profile", icon: "user", shown: |s| s.may_use(MemberPermission::Billing) },
            NavItem { href: "/dashboard/team", label: "Team", icon: "users", shown: own_account },
            NavItem { href: "/dashboard/emails", label: "E-mails", icon: "mail", shown: own_account },
            NavItem { href: "/dashboard/security", label: "Security", icon: "shield", shown: own_account },
            NavItem { href: "/dashboard/activity", label: "Activity", icon: "queue", shown: own_account },
            NavItem { href: "/", label: "Order hosting", icon: "store", shown: always },
        ];
        view! { <AppShell area="Client area" nav=nav/> }.into_any()
    })
}

#[component]
pub fn AdminShell() -> impl IntoView {
    require_session(|| {
        let nav = vec![
            NavItem { href: "/admin", label: "Clients", icon: "users", shown: |s| s.can(Permission::ClientsRead) },
            NavItem { href: "/admin/jobs", label: "Jobs", icon: "queue", shown: |s| s.can(Permission::AutomationManage) },
            NavItem { href: "/admin/tasks", label: "Scheduled tasks", icon: "clock", shown: |s| s.can(Permission::AutomationManage) },
            NavItem { href: "/admin/emails", label: "E-mail log", icon: "mail", shown: |s| s.can(Permission::EmailsRead) },
            NavItem { href: "/admin/email-templates", label: "E-mail templates", icon: "template", shown: |s| s.can(Permission::EmailsManage) },
            NavItem { href: "/admin/audit", label: "Audit log", icon: "shield", shown: |s| s.can(Permission::AuditRead) },
            NavItem { href: "/admin/staff", label: "Staff", icon: "user", shown: SessionCtx::is_admin },
            NavItem { href: "/dashboard", label: "My account", icon: "user", shown: always },
        ];
        view! { <AppShell area="Admin" nav=nav/> }.into_any()
    })
}
