//! The back office's audit log, filtered by action.

use keel_shared::auth::AuditFilter;
use leptos::prelude::*;

use crate::api::admin;
use crate::components::feedback::loaded;
use crate::components::tables::audit_table;
use crate::session::use_session;

#[component]
pub fn AdminAuditPage() -> impl IntoView {
    let session = use_session();
    let page = RwSignal::new(1u32);
    let action = RwSignal::new(String::new());
    let entries = LocalResource::new(move || {
        let action = Some(action.get().trim().to_string()).filter(|a| !a.is_empty());
        admin::audit(session, AuditFilter { action, account_id: None, paging: crate::api::page(page.get()) })
    });
    view! {
        <header class="page-head"><div><h1>"Audit log"</h1><p class="muted">"Every sign-in, failed sign-in, password change and admin action."</p></div></header>
        <div class="toolbar">
            <label class="inline-field">"Action "
                <input type="search" placeholder="e.g. auth.login_failed" bind:value=action on:input=move |_| page.set(1)/>
            </label>
        </div>
        {loaded(entries, move |list| audit_table(list, page, true))}
    }
}
