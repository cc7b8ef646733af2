//! Orders as the portal and the back office show them: the list's table and one order's details.

use keel_shared::orders::{Order, OrderStatus, OrderSummary};
use keel_shared::Page;
use leptos::prelude::*;
use leptos_router::components::A;

use super::feedback::{Empty, Pager};
use super::shop::money;
use super::when;

/// How a status reads to people: a fraud hold is "under review".
pub fn status_label(s: OrderStatus) -> &'static str {
    match s {
        OrderStatus::Pending => "pending",
        OrderStatus::InReview => "under review",
        OrderStatus::Accepted => "accepted",
        OrderStatus::Cancelled => "cancelled",
        OrderStatus::Fraud => "fraud",
    }
}

pub fn status_pill(s: OrderStatus) -> impl IntoView {
    view! { <span class=format!("pill pill-order-{}", s.as_str()) data-testid="order-status">{status_label(s)}</span> }
}

/// The status filter and the number search above an order list.
pub fn order_filters(status: RwSignal<Option<OrderStatus>>, q: RwSignal<String>, page: RwSignal<u32>) -> impl IntoView {
    let options = std::iter::once(None)
        .chain(OrderStatus::ALL.iter().copied().map(Some))
        .map(|s| {
            let (value, label) = s.map_or(("", "all"), |s| (s.as_str(), status_label(s)));
            view! { <option value=value selected=move || status.get() == s>{label}</option> }
        })
        .collect_view();
    view! {
        <div class="toolbar">
            <label class="inline-field">"Status "
                <select data-testid="order-status-filter" on:change=move |ev| { status.set(OrderStatus::parse(&event_target_value(&ev))); page.set(1); }>{options}</select>
            </label>
            <label class="inline-field">"Number "
                <input type="search" placeholder="ORD-000001" data-testid="order-search" bind:value=q on:input=move |_| page.set(1)/>
            </label>
        </div>
    }
}

/// The orders of a list; `base` is where one order opens (`/dashboard/orders`, `/admin/orders`),
/// `show_email` adds the account holder's e-mail (back office).
pub fn order_table(list: Page<OrderSummary>, page: RwSignal<u32>, base: &'static str, show_email: bool) -> AnyView {
    if list.items.is_empty() {
        return view! { <Empty title="No orders" hint="Orders appear here once they are placed."/> }.into_any();
    }
    let (current, pages) = (list.page, list.total_pages.max(1));
    view! {
        <div class="card table-card">
            <table class="table" data-testid="orders-table">
                <thead><tr><th>"Number"</th>{show_email.then(|| view! { <th>"E-mail"</th> })}<th>"Placed"</th><th>"What"</th><th>"Status"</th><th class="num">"Total"</th></tr></thead>
                <tbody>
                    {list.items.into_iter().map(|o| view! {
                        <tr>
                            <td><A href=format!("{base}/{}", o.id)>{o.number.clone()}</A></td>
                            {show_email.then(|| view! { <td>{o.email.clone()}</td> })}
                            <td>{when(o.created_at)}</td>
                            <td class="clip">{o.description.clone()}</td>
                            <td>{status_pill(o.status)}</td>
                            <td class="num">{money(o.total_minor, o.currency)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
            <Pager page=page current=current pages=pages/>
        </div>
    }
    .into_any()
}

/// One order: its lines with their items, discount, taxes, total and what it renews at.
/// `services_base` is where a line's services open (`/dashboard/services`, `/admin/services`);
/// `None` when the viewer may not open them.
pub fn order_details(o: &Order, services_base: Option<&'static str>) -> impl IntoView {
    let c = o.currency;
    let services: usize = o.items.iter().map(|i| i.service_ids.len()).sum();
    let renewal: i64 = o.items.iter().map(|i| i.renewal_minor).sum();
    let held = o.status == OrderStatus::InReview;
    let lines = o
        .items
        .iter()
        .map(|l| {
            let items = l
                .items
                .iter()
                .map(|i| {
                    let setup = (i.setup_fee_minor != 0).then(|| format!(" + {} setup", money(i.setup_fee_minor, c)));
                    view! { <li><span>{i.description.clone()}</span><span class="muted">{format!("{}{}", money(i.amount_minor, c), setup.unwrap_or_default())}</span></li> }
                })
                .collect_view();
            let domain = l.domain.as_ref().map(|d| view! { <p class="muted small">{format!("Domain: {} ({})", d.name, d.action.as_str())}</p> });
            let services = services_base.filter(|_| !l.service_ids.is_empty()).map(|base| {
                let one = l.service_ids.len() == 1;
                let links = l
                    .service_ids
                    .iter()
                    .enumerate()
                    .map(|(i, id)| {
                        let label = match (&l.domain, one) {
                            (Some(d), true) => d.name.clone(),
                            _ => format!("{} #{}", l.product_name, i + 1),
                        };
                        view! { {(i > 0).then_some(", ")}<A href=format!("{base}/{id}")>{label}</A> }
                    })
                    .collect_view();
                view! { <p class="small" data-testid="order-line-services">{if one { "Service: " } else { "Services: " }}{links}</p> }
            });
            view! {
                <section class="card order-line" data-testid="order-line">
                    <div class="summary-head">
                        <h2>{format!("{} × {}", l.quantity, l.product_name)}</h2>
                        <span class="muted">{l.cycle.label()}</span>
                    </div>
                    <ul class="order-items">{items}</ul>
                    {domain}
                    {services}
                    <dl class="details">
                        <dt>"Subtotal"</dt><dd>{money(l.subtotal_minor, c)}</dd>
                        {(l.discount_minor != 0).then(|| view! { <dt>"Discount"</dt><dd>{format!("−{}", money(l.discount_minor, c))}</dd> })}
                        <dt>"Tax"</dt><dd>{money(l.tax_minor, c)}</dd>
                        <dt>"Total"</dt><dd>{money(l.total_minor, c)}</dd>
                        <dt>"Renews at"</dt><dd>{format!("{}{}", money(l.renewal_minor, c), l.cycle.per())}</dd>
                    </dl>
                </section>
            }
        })
        .collect_view();
    let taxes = o
        .tax_lines
        .iter()
        .map(|t| view! { <dt>{format!("{} ({}.{:02} %)", t.name, t.rate_bp / 100, t.rate_bp % 100)}</dt><dd>{money(t.amount_minor, c)}</dd> })
        .collect_view();
    view! {
        {held.then(|| view! {
            <div class="alert alert-info" role="status" data-testid="order-review">
                "This order is under review: we check a few orders by hand before setting them up. You will hear from us shortly."
            </div>
        })}
        {o.cancel_reason.clone().map(|r| view! { <div class="alert alert-warn" role="status">{format!("Cancelled: {r}")}</div> })}
        <div class="order-layout">
            <div class="order-lines">{lines}</div>
            <aside class="card summary" data-testid="order-summary">
                <h2>"Summary"</h2>
                <dl class="details">
                    <dt>"Status"</dt><dd>{status_pill(o.status)}</dd>
                    <dt>"Placed"</dt><dd>{when(o.created_at)}</dd>
                    <dt>"Subtotal"</dt><dd>{money(o.subtotal_minor, c)}</dd>
                    {(o.discount_minor != 0).then(|| view! { <dt>{format!("Discount{}", if o.promo_codes.is_empty() { String::new() } else { format!(" ({})", o.promo_codes.join(", ")) })}</dt><dd>{format!("−{}", money(o.discount_minor, c))}</dd> })}
                    {taxes}
                    {o.reverse_charge.then(|| view! { <dt>"VAT"</dt><dd>"reverse charge"</dd> })}
                    <dt>"Total"</dt><dd data-testid="order-total"><strong>{money(o.total_minor, c)}</strong></dd>
                    <dt>"Renewal"</dt><dd>{money(renewal, c)}</dd>
                    <dt>"Services"</dt><dd data-testid="order-services">{services}</dd>
                </dl>
                {o.tax_inclusive.then(|| view! { <p class="muted small">"Prices include tax."</p> })}
            </aside>
        </div>
    }
}
