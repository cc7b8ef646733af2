//! Admin: every service (`servers.manage`): the list (status filter, domain search, one client's
//! or one server's with `?account_id=` / `?server_id=`), and one service with its details, why
//! its last provisioning step failed, what staff may do to it (provision a pending or failed one,
//! suspend with a reason the client is told, unsuspend, terminate, open its control panel), a
//! form for its next due date, recurring price and package, and its history.
//!
//! Provisioning is a job: after "Provision" the page asks again every 2 s until the service is
//! set up (or has failed).

use chrono::{Datelike, NaiveDate};
use keel_shared::ids::{ServerId, UserId};
use keel_shared::orders::ServiceStatus;
use keel_shared::provisioning::{AdminService, Service, ServiceChange, ServiceEvent, ServiceFilter, ServiceUpdate, SuspendRequest};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::{self, admin, ClientError};
use crate::components::amounts::{format_decimal, parse_decimal};
use crate::components::feedback::{loaded, Empty, ErrorBanner, Notice};
use crate::components::form::{Field, Form, Submit};
use crate::components::invoices::day;
use crate::components::services::{
    control_panel_button, keep_polling, price_per_cycle, service_filters, service_table, setting_up, short_id, status_label, status_pill,
};
use crate::components::{when, when_exact};
use crate::session::use_session;

#[component]
pub fn AdminServicesPage() -> impl IntoView {
    let session = use_session();
    let query = use_query_map();
    let status = RwSignal::new(None::<ServiceStatus>);
    let q = RwSignal::new(String::new());
    let page = RwSignal::new(1u32);
    // `?account_id=`: one client's services; `?server_id=`: one server's.
    let account = Memo::new(move |_| query.with(|q| q.get("account_id")).and_then(|a| UserId::parse(&a)));
    let server = Memo::new(move |_| query.with(|q| q.get("server_id")).and_then(|s| ServerId::parse(&s)));
    let services = LocalResource::new(move || {
        let q = Some(q.get().trim().to_string()).filter(|q| !q.is_empty());
        admin::services(
            session,
            ServiceFilter { status: status.get(), q, account_id: account.get(), server_id: server.get(), paging: api::page(page.get()) },
        )
    });
    let scope = move || match (account.get(), server.get()) {
        (Some(a), _) => Some(format!("One client's services ({}).", short_id(&a))),
        (None, Some(s)) => Some(format!("The services on one server ({}).", short_id(&s))),
        (None, None) => None,
    };
    view! {
        <header class="page-head">
            <div><h1>"Services"</h1><p class="muted">"Every hosting account clients bought, newest first. Open one to provision, suspend or terminate it."</p></div>
            <button class="btn btn-outline" type="button" on:click=move |_| services.refetch()>"Refresh"</button>
        </header>
        {move || scope().map(|text| view! {
            <div class="alert alert-info banner" role="status"><span>{text}</span><A href="/admin/services">"Show all"</A></div>
        })}
        {service_filters(status, q, page)}
        {loaded(services, move |list| service_table(list, page, "/admin/services", true))}
    }
}

#[component]
pub fn AdminServicePage() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let tick = RwSignal::new(0u32);
    let data = LocalResource::new(move || {
        tick.track();
        let id = id.get();
        async move { admin::service(session, &id).await }
    });
    // After "Provision": asked again until the job has set it up (or it failed).
    let watching = RwSignal::new(false);
    keep_polling(tick, move || {
        data.get().is_some_and(|r| {
            r.is_ok_and(|d| d.service.status == ServiceStatus::Provisioning || (watching.get() && setting_up(d.service.status)))
        })
    });
    let notice = RwSignal::new(None::<String>);
    let banner = RwSignal::new(None::<String>);
    view! {
        <ErrorBanner message=banner/>
        <Notice message=notice/>
        {loaded(data, move |d: AdminService| {
            let s = d.service.clone();
            let title = s.domain.clone().unwrap_or_else(|| s.product_name.clone());
            let client = format!("/admin/clients/{}", s.account_id);
            let client_label = format!("client {}", short_id(&s.account_id));
            view! {
                <header class="page-head">
                    <div>
                        <h1 data-testid="service-title">{title}</h1>
                        <p class="muted">
                            {format!("{} · {} · ", s.product_name, s.cycle.label())}{status_pill(s.status)}
                            " · "<A href=client>{client_label}</A>
                        </p>
                    </div>
                    <a href="/admin/services" class="btn btn-outline">"All services"</a>
                </header>
                {error_banner(&s)}
                {setting_up(s.status).then(|| view! {
                    <div class="alert alert-info banner" role="status" data-testid="service-setting-up">
                        {(s.status == ServiceStatus::Provisioning).then(|| view! { <span class="spinner" aria-hidden="true"></span> })}
                        <span>{if s.status == ServiceStatus::Provisioning {
                            "Being created on the server…"
                        } else {
                            "Pending: created once its order is paid and accepted, or when you provision it."
                        }}</span>
                    </div>
                })}
                <Actions service=s.clone() data=data watching=watching notice=notice banner=banner/>
                <div class="grid-2 service-admin">
                    {details(&s)}
                    <EditService service=s.clone() data=data notice=notice/>
                </div>
                {(!d.changes.is_empty()).then(|| changes_table(&d.changes))}
                {events_table(&d.events)}
            }
        })}
    }
}

/// Why the last provisioning step failed: prominent while the service has failed.
fn error_banner(s: &Service) -> Option<impl IntoView> {
    let e = s.last_error.clone()?;
    let failed = s.status == ServiceStatus::Failed;
    Some(view! {
        <div class=if failed { "alert alert-error service-error" } else { "alert alert-warn" } role="alert" data-testid="service-error">
            <strong>{if failed { "Provisioning failed: " } else { "Last error: " }}</strong>{e}
        </div>
    })
}

/// The service's actions, each shown only where the API allows it.
#[component]
fn Actions(
    service: Service,
    data: LocalResource<Result<AdminService, ClientError>>,
    watching: RwSignal<bool>,
    notice: RwSignal<Option<String>>,
    banner: RwSignal<Option<String>>,
) -> impl IntoView {
    let session = use_session();
    let st = service.status;
    let id = StoredValue::new(service.id.to_string());
    let name = StoredValue::new(service.domain.clone().unwrap_or_else(|| service.product_name.clone()));
    let busy = RwSignal::new(false);
    let suspending = RwSignal::new(false);
    let terminating = RwSignal::new(false);
    let act = move |action: &'static str| {
        banner.set(None);
        notice.set(None);
        busy.set(true);
        spawn_local(async move {
            match admin::service_action(session, &id.get_value(), action).await {
                Ok(s) => {
                    if action == "provision" {
                        watching.set(true);
                        notice.set(Some(format!("{} is queued for provisioning.", name.get_value())));
                    } else {
                        notice.set(Some(format!("{} is now {}.", name.get_value(), status_label(s.status))));
                    }
                }
                Err(e) => banner.set(Some(e.message())),
            }
            let _ = busy.try_set(false);
            data.refetch();
        });
    };
    let provisionable = matches!(st, ServiceStatus::Pending | ServiceStatus::Failed);
    let terminable = matches!(st, ServiceStatus::Active | ServiceStatus::Suspended | ServiceStatus::Failed | ServiceStatus::Pending);
    let panel = st == ServiceStatus::Active && service.has_control_panel;
    if !(provisionable || terminable || panel) {
        return ().into_any();
    }
    view! {
        <section class="card service-actions" data-testid="service-actions">
            <div class="toolbar flush">
                {provisionable.then(|| view! {
                    <button class="btn btn-primary" type="button" data-testid="provision-service" disabled=move || busy.get()
                        on:click=move |_| act("provision")>{if st == ServiceStatus::Failed { "Provision again" } else { "Provision now" }}</button>
                })}
                {panel.then(|| control_panel_button(
                    move || {
                        let id = id.get_value();
                        async move { admin::service_sso(session, &id).await }
                    },
                    banner,
                ))}
                {(st == ServiceStatus::Active).then(|| view! {
                    <button class="btn btn-outline" type="button" data-testid="suspend-open" disabled=move || busy.get()
                        class:hidden=move || suspending.get() on:click=move |_| suspending.set(true)>"Suspend…"</button>
                })}
                {(st == ServiceStatus::Suspended).then(|| view! {
                    <button class="btn btn-primary" type="button" data-testid="unsuspend-service" disabled=move || busy.get()
                        on:click=move |_| act("unsuspend")>"Unsuspend"</button>
                })}
                <span class="spacer"></span>
                {terminable.then(|| view! {
                    <button class="btn btn-outline btn-danger" type="button" data-testid="terminate-open" disabled=move || busy.get()
                        class:hidden=move || terminating.get() on:click=move |_| terminating.set(true)>"Terminate…"</button>
                    <span class="confirm-delete" data-testid="terminate-confirm-box" class:hidden=move || !terminating.get()>
                        <span class="muted small">{format!("Terminate {}? Its account and files are removed from the server.", name.get_value())}</span>
                        <button class="btn btn-outline btn-danger btn-sm" type="button" data-testid="terminate-confirm" disabled=move || busy.get()
                            on:click=move |_| act("terminate")>"Terminate"</button>
                        <button class="btn btn-ghost btn-sm" type="button" on:click=move |_| terminating.set(false)>"Keep it"</button>
                    </span>
                })}
            </div>
            <Show when=move || suspending.get()>
                <SuspendForm id=id.get_value() data=data notice=notice on_close=move || suspending.set(false)/>
            </Show>
        </section>
    }
    .into_any()
}

/// "Suspend": the reason, which the client is told.
#[component]
fn SuspendForm(
    id: String,
    data: LocalResource<Result<AdminService, ClientError>>,
    notice: RwSignal<Option<String>>,
    on_close: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let session = use_session();
    let reason = RwSignal::new(String::new());
    let form = Form::new();
    let send = form.action(
        move |(id, body): &(String, SuspendRequest)| {
            let (id, body) = (id.clone(), body.clone());
            async move { admin::suspend_service(session, &id, body).await }
        },
        move |s: Service| {
            notice.set(Some(format!("{} is suspended.", s.domain.unwrap_or(s.product_name))));
            on_close();
            data.refetch();
        },
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        notice.set(None);
        let body = SuspendRequest { reason: reason.get_untracked().trim().to_string() };
        if form.check(&body) {
            send.dispatch_local((id.clone(), body));
        }
    };
    view! {
        <form class="stack-form suspend-form" on:submit=submit novalidate data-testid="suspend-form">
            <ErrorBanner message=form.banner/>
            <Field label="Reason" name="reason" value=reason errors=form.errors hint="The client is told, e.g. “Unpaid invoice INV-2026-000012”."/>
            <div class="row-actions left">
                <Submit pending=send.pending() label="Suspend" busy="Suspending…" class="btn btn-outline btn-danger"/>
                <button class="btn btn-ghost" type="button" on:click=move |_| on_close()>"Cancel"</button>
            </div>
        </form>
    }
}

fn details(s: &Service) -> impl IntoView {
    let c = s.currency;
    let server = s.server_id.clone().map(|sid| (sid, s.server.clone().unwrap_or_else(|| "server".into())));
    let account = s.account_id.to_string();
    view! {
        <section class="card" data-testid="service-details">
            <h2>"Details"</h2>
            <dl class="details">
                <dt>"Status"</dt><dd>{status_pill(s.status)}</dd>
                <dt>"Client"</dt><dd><A href=format!("/admin/clients/{}", s.account_id)><code>{account}</code></A></dd>
                <dt>"Order"</dt><dd><A href=format!("/admin/orders/{}", s.order_id)>"Open the order"</A></dd>
                <dt>"Product"</dt><dd>{s.product_name.clone()}</dd>
                <dt>"Domain"</dt><dd>{s.domain.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>"Server"</dt><dd data-testid="service-server">{match server {
                    Some((sid, name)) => view! { <A href=format!("/admin/servers/{sid}")>{name}</A> }.into_any(),
                    None => view! { <span class="muted">"not placed yet"</span> }.into_any(),
                }}</dd>
                <dt>"Username"</dt><dd><code data-testid="service-username">{s.username.clone().unwrap_or_else(|| "—".into())}</code></dd>
                {s.ip.clone().map(|ip| view! { <dt>"IP address"</dt><dd><code>{ip}</code></dd> })}
                <dt>"Package"</dt><dd><code data-testid="service-package">{s.package.clone().unwrap_or_else(|| "—".into())}</code></dd>
                <dt>"First period"</dt><dd>{price_per_cycle(s.first_minor, c, s.cycle)}</dd>
                <dt>"Recurring"</dt><dd data-testid="service-price">{price_per_cycle(s.recurring_minor, c, s.cycle)}</dd>
                {s.anchor_on.map(|d| view! { <dt>"Anchor"</dt><dd>{day(d)}</dd> })}
                <dt>"Next due"</dt><dd data-testid="service-next-due">{s.next_due_on.map(day).unwrap_or_else(|| "—".into())}</dd>
                {s.activated_at.map(|t| view! { <dt>"Activated"</dt><dd>{when(t)}</dd> })}
                <dt>"Ordered"</dt><dd>{when(s.created_at)}</dd>
                <dt>"Updated"</dt><dd>{when(s.updated_at)}</dd>
                {s.suspend_reason.clone().map(|r| view! { <dt>"Suspended for"</dt><dd data-testid="suspend-reason">{r}</dd> })}
                {s.cancellation.clone().map(|c| view! {
                    <dt>"Cancellation"</dt>
                    <dd>{format!("{}{}", c.when.as_str().replace('_', " "), if c.reason.is_empty() { String::new() } else { format!(": {}", c.reason) })}</dd>
                })}
            </dl>
        </section>
    }
}

/// `2026-11-24` → that day (typed by the date input; anything else is `None`).
fn parse_day(text: &str) -> Option<NaiveDate> {
    let mut parts = text.trim().splitn(3, '-').map(|p| p.parse::<u32>().ok());
    let (y, m, d) = (parts.next()??, parts.next()??, parts.next()??);
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

/// A day as the date input takes it.
fn day_input(d: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// "Billing and package": the next due date, the recurring price (major units, in the service's
/// currency) and the panel's package; only what changed is sent.
#[component]
fn EditService(
    service: Service,
    data: LocalResource<Result<AdminService, ClientError>>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let session = use_session();
    let id = service.id.to_string();
    let currency = service.currency;
    let exp = currency.exponent();
    let next_due = RwSignal::new(service.next_due_on.map(day_input).unwrap_or_default());
    let recurring = RwSignal::new(format_decimal(service.recurring_minor, exp));
    let package = RwSignal::new(service.package.clone().unwrap_or_default());
    let live = matches!(service.status, ServiceStatus::Active | ServiceStatus::Suspended);
    let form = Form::new();
    let send = form.action(
        move |(id, body): &(String, ServiceUpdate)| {
            let (id, body) = (id.clone(), body.clone());
            async move { admin::update_service(session, &id, body).await }
        },
        move |_| {
            notice.set(Some("Service saved.".into()));
            data.refetch();
        },
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        notice.set(None);
        form.banner.set(None);
        let mut errors = std::collections::BTreeMap::new();
        let due_text = next_due.get_untracked();
        let due = if due_text.trim().is_empty() { None } else { parse_day(&due_text) };
        if !due_text.trim().is_empty() && due.is_none() {
            errors.insert("next_due_on".to_string(), vec!["a day like 2027-01-31".to_string()]);
        }
        let price = parse_decimal(&recurring.get_untracked(), exp);
        if price.is_none() {
            errors.insert("recurring_minor".to_string(), vec![format!("an amount like {}", format_decimal(499, exp))]);
        }
        if !errors.is_empty() {
            form.errors.set(errors);
            return;
        }
        let pkg = package.get_untracked().trim().to_string();
        let body = ServiceUpdate {
            next_due_on: due.filter(|d| Some(*d) != service.next_due_on),
            recurring_minor: price.filter(|p| *p != service.recurring_minor),
            package: Some(pkg).filter(|p| !p.is_empty() && Some(p) != service.package.as_ref()),
        };
        if body.next_due_on.is_none() && body.recurring_minor.is_none() && body.package.is_none() {
            form.errors.set(Default::default());
            form.banner.set(Some("Nothing changed.".into()));
            return;
        }
        if form.check(&body) {
            send.dispatch_local((id.clone(), body));
        }
    };
    let package_hint =
        if live { "The control panel is told first; a package it does not know is refused." } else { "Used when the account is created." };
    view! {
        <form class="card stack-form" on:submit=submit novalidate data-testid="service-edit">
            <h2>"Billing and package"</h2>
            <p class="muted small">{format!("Amounts in {}, in major units (4.99).", currency.code())}</p>
            <ErrorBanner message=form.banner/>
            <div class="field-row">
                <Field label="Next due" name="next_due_on" kind="date" value=next_due errors=form.errors/>
                <Field label="Recurring price" name="recurring_minor" value=recurring errors=form.errors hint="What each renewal costs, before tax."/>
            </div>
            <Field label="Package" name="package" value=package errors=form.errors hint=package_hint/>
            <div><Submit pending=send.pending() label="Save" busy="Saving…"/></div>
        </form>
    }
}

/// Upgrades and downgrades: what the client moved to, how it was settled, where it is.
fn changes_table(changes: &[ServiceChange]) -> impl IntoView {
    view! {
        <h2 class="section-title">"Plan changes"</h2>
        <div class="card table-card">
            <table class="table" data-testid="service-changes">
                <thead><tr><th>"When"</th><th>"Change"</th><th>"Settled by"</th><th class="num">"Amount"</th><th>"Status"</th><th>"Invoice"</th></tr></thead>
                <tbody>
                    {changes.iter().map(|c| {
                        let q = &c.quote;
                        let amount = keel_shared::Money::new(if q.credit_minor > 0 { -q.credit_minor } else { q.total_minor }, q.currency).to_string();
                        view! {
                            <tr data-status=c.status.as_str()>
                                <td class="nowrap">{when_exact(c.created_at)}</td>
                                <td>{format!("{} → {}", q.from_product_name, q.product_name)}</td>
                                <td>{q.settlement.as_str().replace('_', " ")}</td>
                                <td class="num">{amount}</td>
                                <td><span class=format!("pill pill-{}", c.status.as_str())>{c.status.as_str()}</span>
                                    {c.effective_on.map(|d| view! { <span class="muted small">{format!(" on {}", day(d))}</span> })}</td>
                                <td>{c.invoice_id.clone().map(|i| view! { <A href=format!("/admin/invoices/{i}")>"Open"</A> })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

fn events_table(events: &[ServiceEvent]) -> impl IntoView {
    view! {
        <h2 class="section-title">"History"</h2>
        {if events.is_empty() {
            view! { <Empty title="Nothing happened yet"/> }.into_any()
        } else {
            view! {
                <div class="card table-card">
                    <table class="table" data-testid="service-events">
                        <thead><tr><th>"When"</th><th>"Step"</th><th>"Result"</th><th>"Detail"</th></tr></thead>
                        <tbody>
                            {events.iter().map(|e| view! {
                                <tr data-action=e.action.clone()>
                                    <td class="nowrap">{when_exact(e.at)}</td>
                                    <td><code>{e.action.clone()}</code></td>
                                    <td><span class=if e.ok { "pill pill-succeeded" } else { "pill pill-failed" }>{if e.ok { "ok" } else { "failed" }}</span></td>
                                    <td class="event-detail-wide">{e.detail.clone()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }
            .into_any()
        }}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_through_the_date_input() {
        let d = NaiveDate::from_ymd_opt(2027, 1, 31);
        assert_eq!(parse_day("2027-01-31"), d);
        assert_eq!(d.map(day_input).as_deref(), Some("2027-01-31"));
        assert_eq!(parse_day("2027-02-30"), None);
        assert_eq!(parse_day("31/01/2027"), None);
        assert_eq!(parse_day(""), None);
    }
}
