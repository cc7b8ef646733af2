//! Route components, one folder per area and bundle (see `crate::routes`): `storefront` (public
//! pages), `portal` (the client area, `/dashboard`), `admin` (the back office). Pages compose
//! components; nothing outside `pages` imports a page.
//!
//! A new page is the API call in `api/<area>.rs`, a `Route` in the bundle's router in `lib.rs`, a
//! row in the nav table in `routes.rs` if it has a sidebar link, and a component built from the
//! kit:
//!
//! ```ignore
//! #[component]
//! pub fn InvoicesPage() -> impl IntoView {
//!     let session = use_session();
//!     let page = RwSignal::new(1u32);
//!     // Loads: a LocalResource shown by `loaded` (Transition + ErrorBoundary); after a change,
//!     // `invoices.refetch()`.
//!     let invoices = LocalResource::new(move || portal::invoices(session, api::page(page.get())));
//!     view! {
//!         <header class="page-head"><div><h1>"Invoices"</h1></div></header>
//!         {loaded(invoices, move |list| invoice_table(list, page))}
//!     }
//! }
//! ```
//!
//! Forms: a `Form` (field errors + banner), `form.action(call, on_success)` for the submit,
//! `form.check(&req)` (the shared validation rules) before `dispatch_local`, `Field`/`FieldError`
//! under which problem+json errors appear, `ErrorBanner`, `Notice` and `Submit` (pending state) —
//! see `components::form` and the sign-in pages in `storefront/auth.rs`.

pub mod admin;
pub mod portal;
pub mod storefront;

use leptos::prelude::*;

use crate::components::layout::Link;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <section class="container narrow center-page">
            <div class="card">
                <p class="eyebrow">"404"</p>
                <h1>"This page does not exist"</h1>
                <p class="muted">"The link may be old, or the address mistyped."</p>
                <Link href="/" class="btn btn-primary">"Back to the home page"</Link>
            </div>
        </section>
    }
}
