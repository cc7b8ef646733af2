//! Admin: every order (status filter, number search, the client's e-mail), and one order with the
//! decisions a `billing.write` holder may take: accept, cancel with a reason, mark as fraud.

use keel_shared::access::Permission;
use keel_shared::orders::{OrderFilter, OrderStatus};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;

use crate::api::{self, admin};
use crate::components::feedback::{loaded, ErrorBanner, Notice};
use crate::components::orders::{order_details, order_filters, order_table};
use crate::session::use_session;

#[component]
pub fn AdminOrdersPage() -> impl IntoView {
    let session = use_session();
    let status = RwSignal::new(None::<OrderStatus>);
    let q = RwSignal::new(String::new());
    let page = RwSignal::new(1u32);
    let orders = LocalResource::new(move || {
        let q = Some(q.get().trim().to_string()).filter(|q| !q.is_empty());
        admin::orders(session, OrderFilter { status: status.get(), q, account_id: None, paging: api::page(page.get()) })
    });
    view! {
        <header class="page-head">
            <div><h1>"Orders"</h1><p class="muted">"Every order placed in the shop. Pending orders wait for you to accept them."</p></div>
            <button class="btn btn-outline" type="button" on:click=move |_| orders.refetch()>"Refresh"</button>
        </header>
        {order_filters(status, q, page)}
        {loaded(orders, move |list| order_table(list, page, "/admin/orders", true))}
    }
}

#[component]
pub fn AdminOrderPage() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let order = LocalResource::new(move || {
        let id = id.get();
        async move { admin::order(session, &id).await }
    });
    let banner = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let reason = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let decide = move |action: &'static str| {
        let reason = (action == "cancel").then(|| reason.get_untracked().trim().to_string());
        if reason.as_ref().is_some_and(String::is_empty) {
            banner.set(Some("Say why the order is cancelled.".into()));
            return;
        }
        banner.set(None);
        notice.set(None);
        busy.set(true);
        spawn_local(async move {
            match admin::decide_order(session, &id.get_untracked(), action, reason).await {
                Ok(o) => notice.set(Some(format!("{} is now {}.", o.number, o.status.as_str().replace('_', " ")))),
                Err(e) => banner.set(Some(e.message())),
            }
            busy.set(false);
            order.refetch();
        });
    };
    view! {
        <ErrorBanner message=banner/>
        <Notice message=notice/>
        {loaded(order, move |o| {
            let open = matches!(o.status, OrderStatus::Pending | OrderStatus::InReview);
            let may = session.can(Permission::BillingWrite) && open;
            view! {
                <header class="page-head">
                    <div>
                        <h1 data-testid="order-number">{format!("Order {}", o.number)}</h1>
                        <p class="muted">{format!("Account {}", o.account_id)}</p>
                    </div>
                    <a href="/admin/orders" class="btn btn-outline">"All orders"</a>
                </header>
                {(!o.fraud_reasons.is_empty()).then(|| view! {
                    <div class="alert alert-warn" role="status" data-testid="fraud-reasons">
                        {format!("Fraud screening: {}", o.fraud_reasons.join("; "))}
                    </div>
                })}
                {may.then(|| view! {
                    <section class="card order-actions" data-testid="order-actions">
                        <div class="toolbar flush">
                            <button class="btn btn-primary" type="button" data-testid="accept-order" disabled=move || busy.get()
                                on:click=move |_| decide("accept")>"Accept"</button>
                            <label class="inline-field">"Reason "<input type="text" placeholder="Reason for cancelling" data-testid="cancel-reason" bind:value=reason/></label>
                            <button class="btn btn-outline" type="button" data-testid="cancel-order" disabled=move || busy.get()
                                on:click=move |_| decide("cancel")>"Cancel"</button>
                            <button class="btn btn-outline btn-danger" type="button" data-testid="fraud-order" disabled=move || busy.get()
                                on:click=move |_| decide("fraud")>"Mark as fraud"</button>
                        </div>
                    </section>
                })}
                {order_details(&o, session.can(Permission::ServersManage).then_some("/admin/services"))}
            }
        })}
    }
}
