//! Page frames: the public site (top bar + footer), and the portal and admin (left sidebar drawn
//! from the nav tables in `routes`). The portal and admin frames are the protected parent routes:
//! they send signed-out visitors to the login page; what a signed-in user may see is decided by
//! the API on each call.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Outlet, Redirect};
use leptos_router::hooks::use_location;

use super::banners::{ActingBanner, ImpersonationBanner};
use super::feedback::Loading;
use super::icons::{Icon, Logo, NavIcon};
use crate::routes::{self, NavItem, ADMIN_NAV, PORTAL_NAV};
use crate::session::use_session;

/// A link that works from either bundle: within the running one the router takes it, into the
/// other it is a page load (`rel="external"`).
#[component]
pub fn Link(href: &'static str, #[prop(optional)] class: &'static str, children: Children) -> impl IntoView {
    view! { <a href=href class=class rel=routes::rel(href)>{children()}</a> }
}

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
    let go = routes::use_go();
    if session.user().is_some_and(|u| u.impersonator.is_some()) {
        return_to_admin();
        return;
    }
    spawn_local(async move {
        let _ = crate::api::auth::logout().await;
        session.sign_out();
        go("/");
    });
}

/// Ends a "log in as client" view: the admin's refresh cookie was never replaced, so the admin
/// bundle's page load restores their own session (or asks them to sign in).
pub fn return_to_admin() {
    routes::load("/admin");
}

/// "Cart (n)": the lines in the cart (see `crate::cart`; live in the storefront and the portal,
/// read once from the browser's storage in the admin bundle, which does not load the cart).
#[component]
fn CartLink() -> impl IntoView {
    let cart = crate::cart::current();
    let stored = if cart.is_none() { crate::cart::stored_count() } else { 0 };
    view! {
        <a href="/cart" rel=routes::rel("/cart") class="btn btn-ghost cart-link" data-testid="cart-link">
            {move || format!("Cart ({})", cart.map_or(stored, |c| c.count()))}
        </a>
    }
}

#[component]
fn AccountLinks() -> impl IntoView {
    let session = use_session();
    view! {
        <Show
            when=move || session.current.with(Option::is_some)
            fallback=|| view! {
                <Link href="/login" class="btn btn-ghost">"Log in"</Link>
                <Link href="/register" class="btn btn-primary">"Get started"</Link>
            }
        >
            <Link href="/dashboard" class="btn btn-ghost">"Dashboard"</Link>
            <Show when=move || session.is_back_office()>
                <Link href="/admin" class="btn btn-ghost">"Admin"</Link>
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
                    <a href="/" class="brand" aria-label="Keel home" rel=routes::rel("/")><Logo/><span>"Keel"</span></a>
                    <nav class="topnav" aria-label="Main">
                        <Link href="/#plans">"Hosting"</Link>
                    </nav>
                    <div class="topbar-actions">
                        <CartLink/>
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

#[component]
fn AppShell(area: &'static str, nav: &'static [NavItem]) -> impl IntoView {
    let session = use_session();
    let location = use_location();
    let hrefs: Vec<&'static str> = nav.iter().map(|i| i.href).collect();
    let links = nav
        .iter()
        .map(|item| {
            let item = *item;
            let hrefs = hrefs.clone();
            // The most specific link that contains the current path is the active one.
            let active = Memo::new(move |_| {
                let path = location.pathname.get();
                let within = |h: &str| path == h || (h.len() > 1 && path.starts_with(&format!("{h}/")));
                within(item.href) && !hrefs.iter().any(|h| h.len() > item.href.len() && within(h))
            });
            view! {
                <Show when=move || (item.shown)(&session)>
                    <a href=item.href rel=routes::rel(item.href) class=move || if active.get() { "side-link active" } else { "side-link" }>
                        <NavIcon name=item.icon/><span>{item.label}</span>
                    </a>
                </Show>
            }
        })
        .collect_view();
    let user_line = move || session.user().map(|u| format!("{} {}", u.first_name, u.last_name)).unwrap_or_default();
    let email = move || session.user().map(|u| u.email).unwrap_or_default();
    view! {
        <div class="app">
            <aside class="sidebar" aria-label=format!("{area} navigation")>
                <a href="/" class="brand" aria-label="Keel home" rel=routes::rel("/")><Logo/><span>"Keel"</span></a>
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
            <main class="app-main"><ImpersonationBanner/><ActingBanner/><Outlet/></main>
        </div>
    }
}

/// Renders `inner` once the session is known; sends signed-out visitors to /login (home after
/// signing out on purpose), with a page load when that is in the other bundle.
fn require_session(inner: impl Fn() -> AnyView + Send + Sync + 'static) -> impl IntoView {
    let session = use_session();
    let location = use_location();
    // Only a change between signed in and out re-renders the frame; updates to the user (e.g.
    // after enabling two-factor) must not throw away the page's state.
    let signed_in = Memo::new(move |_| session.current.with(Option::is_some));
    let redirect = move |to: String| {
        if routes::crosses(&to) {
            routes::load_replacing(&to);
            view! { <div class="center-page"><Loading/></div> }.into_any()
        } else {
            view! { <Redirect path=to/> }.into_any()
        }
    };
    move || {
        if !session.ready.get() {
            view! { <div class="center-page"><Loading/></div> }.into_any()
        } else if !signed_in.get() && session.signed_out.get() {
            redirect("/".into())
        } else if !signed_in.get() {
            let next = location.pathname.get_untracked();
            redirect(format!("/login?next={next}"))
        } else {
            inner()
        }
    }
}

/// The client area (`/dashboard`): a protected parent route.
#[component]
pub fn PortalShell() -> impl IntoView {
    require_session(|| view! { <AppShell area="Client area" nav=PORTAL_NAV/> }.into_any())
}

/// The back office (`/admin`): a protected parent route.
#[component]
pub fn AdminShell() -> impl IntoView {
    require_session(|| view! { <AppShell area="Admin" nav=ADMIN_NAV/> }.into_any())
}
