//! Services as the portal and the back office show them: the status pill, the list's filters and
//! table, the price per cycle, the "Open control panel" button, and the polling that lets a page
//! showing a service being set up turn active by itself.
//!
//! Amounts are always the API's (`*_minor` in the service's currency); nothing here adds money.

use std::future::Future;
use std::time::Duration;

use keel_shared::catalog::BillingCycle;
use keel_shared::orders::ServiceStatus;
use keel_shared::provisioning::{ServiceSummary, SsoLink};
use keel_shared::{Currency, Page};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use super::feedback::{Empty, Pager};
use super::invoices::day;
use super::shop::money;
use crate::api::ClientError;

/// How a status reads to people.
pub fn status_label(s: ServiceStatus) -> &'static str {
    match s {
        ServiceStatus::Pending => "pending",
        ServiceStatus::Provisioning => "setting up",
        ServiceStatus::Active => "active",
        ServiceStatus::Suspended => "suspended",
        ServiceStatus::Terminated => "terminated",
        ServiceStatus::Cancelled => "cancelled",
        ServiceStatus::Failed => "failed",
    }
}

pub fn status_pill(s: ServiceStatus) -> impl IntoView {
    view! { <span class=format!("pill pill-service-{}", s.as_str()) data-testid="service-status">{status_label(s)}</span> }
}

/// Whether a service is on its way to active: a page showing it asks again until it is.
pub fn setting_up(s: ServiceStatus) -> bool {
    matches!(s, ServiceStatus::Pending | ServiceStatus::Provisioning)
}

/// What a service costs per cycle: `$4.99/mo`.
pub fn price_per_cycle(minor: i64, currency: Currency, cycle: BillingCycle) -> String {
    format!("{}{}", money(minor, currency), cycle.per())
}

/// A size in megabytes as people read it: `512 MB`, `1.5 GB`.
pub fn size_text(mb: i64) -> String {
    if mb.abs() < 1024 {
        format!("{mb} MB")
    } else {
        let tenths = mb * 10 / 1024;
        format!("{}.{} GB", tenths / 10, (tenths % 10).abs())
    }
}

/// The status filter and the domain search above a service list.
pub fn service_filters(status: RwSignal<Option<ServiceStatus>>, q: RwSignal<String>, page: RwSignal<u32>) -> impl IntoView {
    let options = std::iter::once(None)
        .chain(ServiceStatus::ALL.iter().copied().map(Some))
        .map(|s| {
            let (value, label) = s.map_or(("", "all"), |s| (s.as_str(), status_label(s)));
            view! { <option value=value selected=move || status.get() == s>{label}</option> }
        })
        .collect_view();
    view! {
        <div class="toolbar">
            <label class="inline-field">"Status "
                <select data-testid="service-status-filter" on:change=move |ev| { status.set(ServiceStatus::parse(&event_target_value(&ev))); page.set(1); }>{options}</select>
            </label>
            <label class="inline-field">"Domain "
                <input type="search" placeholder="example.com" data-testid="service-search" bind:value=q on:input=move |_| page.set(1)/>
            </label>
        </div>
    }
}

/// The services of a list; `base` is where one service opens (`/dashboard/services`,
/// `/admin/services`); `show_client` adds the client, linked to their page (back office).
pub fn service_table(list: Page<ServiceSummary>, page: RwSignal<u32>, base: &'static str, show_client: bool) -> AnyView {
    if list.items.is_empty() {
        return view! { <Empty title="No services" hint="Hosting accounts appear here once they are ordered."/> }.into_any();
    }
    let (current, pages) = (list.page, list.total_pages.max(1));
    view! {
        <div class="card table-card">
            <table class="table" data-testid="services-table">
                <thead><tr>
                    <th>"Domain"</th><th>"Product"</th>
                    {show_client.then(|| view! { <th>"Client"</th> })}
                    <th>"Status"</th><th>"Next due"</th><th class="num">"Price"</th>
                </tr></thead>
                <tbody>
                    {list.items.into_iter().map(|s| {
                        let href = format!("{base}/{}", s.id);
                        let domain = s.domain.clone().unwrap_or_else(|| "(no domain)".into());
                        let (client, email) = (s.account_id.to_string(), s.email.clone());
                        view! {
                            <tr data-service=s.id.to_string() data-domain=s.domain.clone().unwrap_or_default()>
                                <td><A href=href>{domain}</A></td>
                                <td>{s.product_name.clone()}<div class="muted small">{s.cycle.label()}</div></td>
                                {show_client.then(|| view! {
                                    <td><A href=format!("/admin/clients/{client}")>{email}</A></td>
                                })}
                                <td>{status_pill(s.status)}</td>
                                <td>{s.next_due_on.map(day).unwrap_or_else(|| "—".into())}</td>
                                <td class="num">{price_per_cycle(s.recurring_minor, s.currency, s.cycle)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <Pager page=page current=current pages=pages/>
        </div>
    }
    .into_any()
}

/// The end of an id (UUIDv7s share their start within the same hour): `…3f9a1c2e`.
pub fn short_id(id: &str) -> String {
    let tail: String = id.chars().rev().take(8).collect::<Vec<_>>().into_iter().rev().collect();
    format!("…{tail}")
}

/// Asks again while `pending()` holds for what the page shows: `tick` is what the page's resource
/// reads, bumped every 2 s (every 15 s after five minutes). One timer per load at most; a page
/// left meanwhile is not touched.
pub fn keep_polling(tick: RwSignal<u32>, pending: impl Fn() -> bool + 'static) {
    let scheduled = StoredValue::new(u32::MAX);
    Effect::new(move || {
        if !pending() {
            return;
        }
        let n = tick.get_untracked();
        if scheduled.try_get_value() == Some(n) {
            return;
        }
        scheduled.set_value(n);
        let wait = if n < 150 { 2 } else { 15 };
        set_timeout(
            move || {
                let _ = tick.try_update(|t| *t += 1);
            },
            Duration::from_secs(wait),
        );
    });
}

/// "Open control panel": a blank tab is opened on the click itself (a tab opened after the
/// answer arrives would be stopped as a pop-up), then sent to the one-time link `fetch` answers.
/// When the API refuses, the tab is closed again and the reason goes to `banner`.
pub fn control_panel_button<F, Fut>(fetch: F, banner: RwSignal<Option<String>>) -> impl IntoView
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<SsoLink, ClientError>> + 'static,
{
    let busy = RwSignal::new(false);
    let open = move |_| {
        let tab = window().open_with_url_and_target("", "_blank").ok().flatten();
        if let Some(t) = &tab {
            // The panel's page gets no handle on this one.
            let _ = t.set_opener(&wasm_bindgen::JsValue::NULL);
        }
        banner.set(None);
        busy.set(true);
        let fetch = fetch.clone();
        spawn_local(async move {
            match fetch().await {
                Ok(link) => match &tab {
                    Some(t) => {
                        let _ = t.location().set_href(&link.url);
                    }
                    None => crate::routes::load(&link.url),
                },
                Err(e) => {
                    if let Some(t) = &tab {
                        let _ = t.close();
                    }
                    banner.set(Some(e.message()));
                }
            }
            let _ = busy.try_set(false);
        });
    };
    view! {
        <button class="btn btn-primary" type="button" data-testid="open-control-panel" disabled=move || busy.get() on:click=open>
            {move || if busy.get() { "Opening…" } else { "Open control panel" }}
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_megabytes_then_gigabytes() {
        assert_eq!(size_text(0), "0 MB");
        assert_eq!(size_text(1023), "1023 MB");
        assert_eq!(size_text(1024), "1.0 GB");
        assert_eq!(size_text(1536), "1.5 GB");
        assert_eq!(size_text(10 * 1024 + 100), "10.0 GB");
    }

    #[test]
    fn short_ids_keep_the_end() {
        assert_eq!(short_id("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"), "…2e3f4a5b");
        assert_eq!(short_id("abc"), "…abc");
    }
}
