//! The e-mails Keel sent the signed-in user.

use leptos::prelude::*;

use crate::api;
use crate::components::feedback::loaded;
use crate::components::tables::email_table;
use crate::session::use_session;

#[component]
pub fn MyEmailsPage() -> impl IntoView {
    let session = use_session();
    let page = RwSignal::new(1u32);
    let emails = LocalResource::new(move || api::portal::emails(session, api::page(page.get())));
    view! {
        <header class="page-head"><div><h1>"E-mails"</h1><p class="muted">"Messages we sent you."</p></div></header>
        {loaded(emails, move |list| email_table(list, page, None))}
    }
}
