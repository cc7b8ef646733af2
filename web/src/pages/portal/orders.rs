//! The account's orders: the list (status filter, number search, pages) and one order.

use keel_shared::access::MemberPermission;
use keel_shared::orders::{OrderFilter, OrderStatus};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::api;
use crate::components::feedback::loaded;
use crate::components::layout::Link;
use crate::components::orders::{order_details, order_filters, order_table};
use crate::session::use_session;

#[component]
pub fn OrdersPage() -> impl IntoView {
    let session = use_session();
    let status = RwSignal::new(None::<OrderStatus>);
    let q = RwSignal::new(String::new());
    let page = RwSignal::new(1u32);
    let orders = LocalResource::new(move || {
        let q = Some(q.get().trim().to_string()).filter(|q| !q.is_empty());
        api::portal::orders(session, OrderFilter { status: status.get(), q, account_id: None, paging: api::page(page.get()) })
    });
    view! {
        <header class="page-head">
            <div><h1>"Orders"</h1><p class="muted">"What you have ordered, and where each order is."</p></div>
            <Link href="/#plans" class="btn btn-primary">"Order hosting"</Link>
        </header>
        {order_filters(status, q, page)}
        {loaded(orders, move |list| order_table(list, page, "/dashboard/orders", false))}
    }
}

#[component]
pub fn OrderPage() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let order = LocalResource::new(move || {
        let id = id.get();
        async move { api::portal::order(session, &id).await }
    });
    view! {
        {loaded(order, move |o| view! {
            <header class="page-head">
                <div><h1 data-testid="order-number">{format!("Order {}", o.number)}</h1><p class="muted">"Thank you for your order."</p></div>
                <Link href="/dashboard/orders" class="btn btn-outline">"All orders"</Link>
            </header>
            {order_details(&o, session.may_use(MemberPermission::Services).then_some("/dashboard/services"))}
        })}
    }
}
