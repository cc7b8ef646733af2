//! Admin: the client list (`GET /admin/clients`). The API decides who may see it; a client who
//! opens this page gets the API's refusal.

use keel_shared::access::Permission;
use keel_shared::auth::{ClientFilter, ClientSummary};
use keel_shared::{Page, PageQuery};
use leptos::prelude::*;
use leptos_router::components::{Redirect, A};

use super::deletion::DeletionRequests;
use crate::api::admin;
use crate::components::feedback::{loaded, Empty, Pager};
use crate::components::when;
use crate::routes::{self, ADMIN_NAV};
use crate::session::use_session;

const PER_PAGE: u32 = 20;

/// `/admin`: the client list for those who may read it; other staff go to the first page their
/// permissions open (or their own account when none does).
#[component]
pub fn AdminHome() -> impl IntoView {
    let session = use_session();
    let first = ADMIN_NAV.iter().find(|item| (item.shown)(&session)).map(|item| item.href);
    match first {
        Some("/admin") => view! { <ClientsPage/> }.into_any(),
        // A client who opens /admin sees the API's refusal on the client list.
        _ if !session.is_back_office() => view! { <ClientsPage/> }.into_any(),
        Some(path) if routes::crosses(path) => {
            routes::load_replacing(path);
            ().into_any()
        }
        Some(path) => view! { <Redirect path=path/> }.into_any(),
        None => ().into_any(),
    }
}

#[component]
pub fn ClientsPage() -> impl IntoView {
    let session = use_session();
    let page = RwSignal::new(1u32);
    let search = RwSignal::new(String::new());
    let clients = LocalResource::new(move || {
        let q = Some(search.get().trim().to_string()).filter(|q| !q.is_empty());
        admin::clients(session, ClientFilter { q, paging: PageQuery::numbered(page.get(), PER_PAGE) })
    });
    view! {
        <header class="page-head">
            <div>
                <h1>"Clients"</h1>
                <p class="muted">"Everyone with a client account, newest first."</p>
            </div>
        </header>
        <DeletionRequests on_approved=move || clients.refetch()/>
        <div class="toolbar">
            <label class="inline-field">"Search "
                <input type="search" placeholder="e-mail, name or company" data-testid="client-search"
                    bind:value=search on:input=move |_| page.set(1)/>
            </label>
        </div>
        {loaded(clients, move |list: Page<ClientSummary>| {
                // Totals stop counting at 10,000 (the API's cap): shown as "10000+".
                let total = if list.total_capped { format!("{}+", list.total) } else { list.total.to_string() };
                let pages = list.total_pages.max(1);
                let current = list.page;
                view! {
                    <div class="kpis">
                        <div class="kpi card"><span class="kpi-label">"Clients"</span><strong class="kpi-value" data-testid="client-total">{total}</strong></div>
                    </div>
                    {if list.items.is_empty() {
                        view! { <Empty title="No clients found" hint="Clients appear here when they register; a search matches the start of an e-mail, name or company."/> }.into_any()
                    } else {
                        view! {
                            <div class="card table-card">
                                <table class="table">
                                    <thead><tr><th>"Name"</th><th>"E-mail"</th><th>"Joined"</th><th></th></tr></thead>
                                    <tbody>
                                        {list.items.into_iter().map(|c| view! {
                                            <tr>
                                                <td>{format!("{} {}", c.first_name, c.last_name)}</td>
                                                <td>{c.email}</td>
                                                <td>{when(c.created_at)}</td>
                                                <td class="row-actions"><BillingLink id=c.id.to_string()/><LogInAs id=c.id.to_string()/></td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <Pager page=page current=current pages=pages/>
                            </div>
                        }.into_any()
                    }}
                }.into_any()
        })}
    }
}

/// "Log in as" a client, for support: the SPA switches to the client's view with a banner.
#[component]
fn LogInAs(id: String) -> impl IntoView {
    let session = use_session();
    let go = move |_| {
        let id = id.clone();
        leptos::task::spawn_local(async move {
            if let Ok(t) = admin::impersonate(session, &id).await {
                // The portal is the other bundle: hand the client token to its page load.
                crate::session::hand_over(&t);
                routes::load("/dashboard");
            }
        });
    };
    view! {
        <Show when=move || session.can(Permission::ClientsImpersonate)>
            <button class="btn btn-ghost btn-sm" type="button" on:click=go.clone()>"Log in as"</button>
        </Show>
    }
}

/// The client's billing page (credit and invoices), for those who may read billing.
#[component]
fn BillingLink(id: String) -> impl IntoView {
    let session = use_session();
    let href = format!("/admin/clients/{id}");
    view! {
        <Show when=move || session.can(Permission::BillingRead)>
            <A href=href.clone() attr:class="btn btn-ghost btn-sm">"Billing"</A>
        </Show>
    }
}
