//! The account's own audit trail.

use leptos::prelude::*;

use crate::api;
use crate::components::feedback::loaded;
use crate::components::tables::audit_table;
use crate::session::use_session;

#[component]
pub fn ActivityPage() -> impl IntoView {
    let session = use_session();
    let page = RwSignal::new(1u32);
    let entries = LocalResource::new(move || api::portal::audit(session, api::page(page.get())));
    view! {
        <header class="page-head"><div><h1>"Account activity"</h1><p class="muted">"Sign-ins, password changes and other events on your account."</p></div></header>
        {loaded(entries, move |list| audit_table(list, page, false))}
    }
}
