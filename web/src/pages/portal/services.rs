//! The account's services: the list (status filter, domain search, pages) and one service with
//! what its owner does with it once it is active: the control panel login (the password is
//! fetched only when asked for, and each read is on the account's activity log), a one-time link
//! into the control panel, a new panel password, the last 30 days of disk and bandwidth, and a
//! request to cancel (now, or at the end of the paid period), and a change of plan, options or
//! add-ons (`service_change`).
//!
//! A paid service is set up by a job a moment after the payment: while it is pending or being
//! set up the page asks again every 2 s, so it turns active by itself. A pending service whose
//! order still has an open invoice is waiting for payment, and the page says so.

use chrono::NaiveDate;
use keel_shared::billing::{InvoiceFilter, InvoiceSummary};
use keel_shared::orders::ServiceStatus;
use keel_shared::provisioning::{CancelWhen, CancellationRequest, Service, ServiceCredentials, ServiceFilter, ServicePassword, UsagePoint};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::service_change::ChangePlan;
use crate::api::{self, ClientError};
use crate::components::feedback::{loaded, Empty, ErrorBanner, Notice};
use crate::components::form::{Field, FieldError, Form, Submit};
use crate::components::invoices::{day, number_of};
use crate::components::layout::Link;
use crate::components::services::{
    control_panel_button, keep_polling, price_per_cycle, service_filters, service_table, setting_up, size_text, status_pill,
};
use crate::components::{day_in_words, when};
use crate::session::{use_session, SessionCtx};

#[component]
pub fn ServicesPage() -> impl IntoView {
    let session = use_session();
    let status = RwSignal::new(None::<ServiceStatus>);
    let q = RwSignal::new(String::new());
    let page = RwSignal::new(1u32);
    let services = LocalResource::new(move || {
        let q = Some(q.get().trim().to_string()).filter(|q| !q.is_empty());
        api::portal::services(
            session,
            ServiceFilter { status: status.get(), q, account_id: None, server_id: None, paging: api::page(page.get()) },
        )
    });
    view! {
        <header class="page-head">
            <div><h1>"Services"</h1><p class="muted">"Your hosting accounts: their plan, what they cost and when they renew."</p></div>
            <Link href="/#plans" class="btn btn-primary">"Order hosting"</Link>
        </header>
        {service_filters(status, q, page)}
        {loaded(services, move |list| service_table(list, page, "/dashboard/services", false))}
    }
}

/// What the service page shows: the service, and while it waits for payment, its order's open
/// invoice.
type Shown = (Service, Option<InvoiceSummary>);

async fn load(session: SessionCtx, id: String) -> Result<Shown, ClientError> {
    let service = api::portal::service(session, &id).await?;
    let unpaid = if service.status == ServiceStatus::Pending {
        let filter = InvoiceFilter { order_id: Some(service.order_id.clone()), ..Default::default() };
        // A team member without the billing area is refused: then it is just "setting up".
        api::portal::invoices(session, filter).await.ok().and_then(|list| list.items.into_iter().find(|i| i.status.is_open()))
    } else {
        None
    };
    Ok((service, unpaid))
}

#[component]
pub fn ServicePage() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    // Bumped to ask again while the service is being set up.
    let tick = RwSignal::new(0u32);
    let data = LocalResource::new(move || {
        tick.track();
        load(session, id.get())
    });
    keep_polling(tick, move || data.get().is_some_and(|r| r.is_ok_and(|(s, _)| setting_up(s.status))));
    let notice = RwSignal::new(None::<String>);
    view! {
        <Notice message=notice/>
        {loaded(data, move |(s, unpaid): Shown| {
            let title = s.domain.clone().unwrap_or_else(|| s.product_name.clone());
            let live = matches!(s.status, ServiceStatus::Active | ServiceStatus::Suspended);
            let active = s.status == ServiceStatus::Active;
            let id = s.id.to_string();
            view! {
                <header class="page-head">
                    <div>
                        <h1 data-testid="service-title">{title}</h1>
                        <p class="muted">{format!("{} · {} ", s.product_name, s.cycle.label())}{status_pill(s.status)}</p>
                    </div>
                    <Link href="/dashboard/services" class="btn btn-outline">"All services"</Link>
                </header>
                {state_banner(&s, unpaid)}
                <div class="service-layout">
                    {summary(&s)}
                    {live.then(|| view! { <LoginDetails id=id.clone() username=s.username.clone().unwrap_or_default() panel=active && s.has_control_panel/> })}
                </div>
                {live.then(|| view! { <UsagePanel id=id.clone()/> })}
                <div class="grid-2 service-forms">
                    {active.then(|| view! { <PasswordForm id=id.clone() data=data notice=notice/> })}
                    {(live && s.cancellation.is_none()).then(|| view! { <CancelForm service=s.clone() data=data notice=notice/> })}
                </div>
                {(active && s.cancellation.is_none()).then(|| {
                    let done = Callback::new(move |_| {
                        notice.set(Some("Plan changed.".into()));
                        data.refetch();
                    });
                    view! { <ChangePlan service=s.clone() done=done/> }
                })}
            }
        })}
    }
}

/// What the service is waiting for, or why it is not running.
fn state_banner(s: &Service, unpaid: Option<InvoiceSummary>) -> AnyView {
    if let Some(c) = &s.cancellation {
        let text = match (c.when, s.next_due_on) {
            (CancelWhen::EndOfPeriod, Some(d)) => format!("Cancellation requested: this service ends on {} and is not renewed.", day(d)),
            (CancelWhen::EndOfPeriod, None) => "Cancellation requested: this service ends at the end of its period.".to_string(),
            (CancelWhen::Immediate, _) => "Cancellation requested: this service is being closed now.".to_string(),
        };
        return view! { <div class="alert alert-warn" role="status" data-testid="cancellation-requested">{text}</div> }.into_any();
    }
    match (s.status, unpaid) {
        (ServiceStatus::Pending, Some(inv)) => {
            view! {
                <div class="alert alert-info banner" role="status" data-testid="service-awaiting-payment">
                    <span>"Waiting for payment: we set up your account as soon as its invoice is paid."</span>
                    <A href=format!("/dashboard/invoices/{}", inv.id) attr:class="btn btn-primary btn-sm">{format!("Pay {}", number_of(&inv.number))}</A>
                </div>
            }
            .into_any()
        }
        (ServiceStatus::Pending | ServiceStatus::Provisioning, _) => view! {
            <div class="alert alert-info banner" role="status" data-testid="service-setting-up">
                <span class="spinner" aria-hidden="true"></span>
                <span>"Setting up your account… This page updates by itself; it usually takes less than a minute."</span>
            </div>
        }
        .into_any(),
        (ServiceStatus::Suspended, _) => view! {
            <div class="alert alert-warn" role="status" data-testid="service-suspended">
                {format!("This service is suspended{}. Contact us to have it restored.", s.suspend_reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())}
            </div>
        }
        .into_any(),
        (ServiceStatus::Failed, _) => view! {
            <div class="alert alert-warn" role="status" data-testid="service-failed">
                "We could not finish setting up this account. Our team has been told and will complete it; there is nothing you need to do."
            </div>
        }
        .into_any(),
        (ServiceStatus::Terminated | ServiceStatus::Cancelled, _) => view! {
            <div class="alert alert-info" role="status" data-testid="service-ended">"This service has ended."</div>
        }
        .into_any(),
        (ServiceStatus::Active, _) => ().into_any(),
    }
}

/// The plan, the price and the dates.
fn summary(s: &Service) -> impl IntoView {
    let price = price_per_cycle(s.recurring_minor, s.currency, s.cycle);
    let first = (s.first_minor != s.recurring_minor).then(|| price_per_cycle(s.first_minor, s.currency, s.cycle));
    view! {
        <section class="card" data-testid="service-summary">
            <h2>"Plan"</h2>
            <dl class="details">
                <dt>"Status"</dt><dd>{status_pill(s.status)}</dd>
                <dt>"Plan"</dt><dd>{s.product_name.clone()}</dd>
                <dt>"Domain"</dt><dd data-testid="service-domain">{s.domain.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>"Billing"</dt><dd>{s.cycle.label()}</dd>
                <dt>"Price"</dt><dd data-testid="service-price">{price}{first.map(|f| view! { <span class="muted small">{format!(" (first period {f})")}</span> })}</dd>
                <dt>"Next due"</dt><dd data-testid="service-next-due">{s.next_due_on.map(day).unwrap_or_else(|| "—".into())}</dd>
                {s.activated_at.map(|t| view! { <dt>"Active since"</dt><dd>{day_in_words(t)}</dd> })}
                {s.ip.clone().map(|ip| view! { <dt>"IP address"</dt><dd><code>{ip}</code></dd> })}
                <dt>"Ordered"</dt><dd>{when(s.created_at)}</dd>
            </dl>
        </section>
    }
}

/// "Login details": the username; the password (with the server and its nameservers) only once
/// "Show password" is clicked; "Open control panel" while the service is active.
#[component]
fn LoginDetails(id: String, username: String, panel: bool) -> impl IntoView {
    let session = use_session();
    let creds = RwSignal::new(None::<ServiceCredentials>);
    let busy = RwSignal::new(false);
    let banner = RwSignal::new(None::<String>);
    let id_sso = id.clone();
    let toggle = move |_| {
        if creds.with_untracked(Option::is_some) {
            creds.set(None);
            return;
        }
        let id = id.clone();
        banner.set(None);
        busy.set(true);
        spawn_local(async move {
            match api::portal::service_credentials(session, &id).await {
                Ok(c) => creds.set(Some(c)),
                Err(e) => banner.set(Some(e.message())),
            }
            busy.set(false);
        });
    };
    let shown_user = move || creds.with(|c| c.as_ref().map(|c| c.username.clone())).unwrap_or_else(|| username.clone());
    view! {
        <section class="card login-details" data-testid="login-details">
            <h2>"Login details"</h2>
            <ErrorBanner message=banner/>
            <dl class="details">
                <dt>"Username"</dt><dd><code data-testid="cred-username">{shown_user}</code></dd>
                <dt>"Password"</dt>
                <dd>{move || match creds.get() {
                    Some(c) => view! { <code class="secret-value" data-testid="cred-password">{c.password}</code> }.into_any(),
                    None => view! { <span class="muted" title="Shown when you ask for it">"••••••••••••"</span> }.into_any(),
                }}</dd>
                {move || creds.get().map(|c| view! {
                    <dt>"Server"</dt><dd><code data-testid="cred-hostname">{c.hostname}</code></dd>
                    {c.ip.map(|ip| view! { <dt>"IP address"</dt><dd><code>{ip}</code></dd> })}
                    {(!c.nameservers.is_empty()).then(|| view! { <dt>"Nameservers"</dt><dd data-testid="cred-nameservers">{c.nameservers.join(", ")}</dd> })}
                })}
            </dl>
            <div class="row-actions left">
                <button class="btn btn-outline" type="button" data-testid="show-password" disabled=move || busy.get() on:click=toggle>
                    {move || if busy.get() { "Loading…" } else if creds.with(Option::is_some) { "Hide password" } else { "Show password" }}
                </button>
                {panel.then(|| control_panel_button(
                    move || {
                        let id = id_sso.clone();
                        async move { api::portal::service_sso(session, &id).await }
                    },
                    banner,
                ))}
            </div>
            <p class="muted small">"Use these to sign in to your control panel, or open it straight from here."</p>
        </section>
    }
}

/// The last 30 days of disk and bandwidth: two small bar charts, or a table while there are only
/// a few days.
#[component]
fn UsagePanel(id: String) -> impl IntoView {
    let session = use_session();
    let usage = LocalResource::new(move || {
        let id = id.clone();
        async move { api::portal::service_usage(session, &id).await }
    });
    view! {
        <section class="card usage" data-testid="usage">
            <h2>"Usage"</h2>
            <p class="muted small">"The last 30 days, as the control panel reports them (read once a day)."</p>
            {loaded(usage, move |u| {
                let days = u.days;
                if days.is_empty() {
                    view! { <Empty title="No usage recorded yet" hint="The first figures appear after the nightly reading."/> }.into_any()
                } else if days.len() < 7 {
                    usage_table(&days).into_any()
                } else {
                    view! {
                        <div class="usage-charts">
                            {bar_chart("Disk", &days, |p| p.disk_mb)}
                            {bar_chart("Bandwidth", &days, |p| p.bandwidth_mb)}
                        </div>
                    }
                    .into_any()
                }
            })}
        </section>
    }
}

fn usage_table(days: &[UsagePoint]) -> impl IntoView {
    view! {
        <div class="table-card">
            <table class="table" data-testid="usage-table">
                <thead><tr><th>"Day"</th><th class="num">"Disk"</th><th class="num">"Bandwidth"</th></tr></thead>
                <tbody>
                    {days.iter().rev().map(|p| view! {
                        <tr><td>{day(p.day)}</td><td class="num">{size_text(p.disk_mb)}</td><td class="num">{size_text(p.bandwidth_mb)}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The chart's size in SVG units (it scales to its box) and its days.
const CHART_W: i64 = 300;
const CHART_H: i64 = 80;
const CHART_DAYS: i64 = 30;

/// One bar per day, the latest day on the right (missing days stay empty), each with its value
/// as a tooltip; the latest value and the highest above it.
fn bar_chart(label: &'static str, days: &[UsagePoint], value: fn(&UsagePoint) -> i64) -> impl IntoView {
    let last: NaiveDate = days.last().map(|p| p.day).unwrap_or_default();
    let max = days.iter().map(value).max().unwrap_or(0).max(1);
    let slot = CHART_W / CHART_DAYS;
    let bars = days
        .iter()
        .filter_map(|p| {
            let back = (last - p.day).num_days();
            (0..CHART_DAYS).contains(&back).then(|| {
                let v = value(p);
                // At least a sliver for a day with some use.
                let h = if v > 0 { (v * (CHART_H - 2) / max).max(2) } else { 0 };
                let x = (CHART_DAYS - 1 - back) * slot;
                view! {
                    <rect x=x + 1 y=CHART_H - h width=slot - 2 height=h rx="1">
                        <title>{format!("{}: {}", day(p.day), size_text(v))}</title>
                    </rect>
                }
            })
        })
        .collect_view();
    let latest = days.last().map(value).unwrap_or(0);
    let testid = format!("usage-{}", label.to_lowercase());
    view! {
        <figure class="chart" data-testid=testid>
            <figcaption>
                <span>{label}</span>
                <strong>{size_text(latest)}</strong>
                <span class="muted small">{format!("peak {}", size_text(max))}</span>
            </figcaption>
            <svg viewBox=format!("0 0 {CHART_W} {CHART_H}") preserveAspectRatio="none" role="img"
                aria-label=format!("{label} per day over the last 30 days, latest {}", size_text(latest))>
                <line class="axis" x1="0" y1=CHART_H x2=CHART_W y2=CHART_H></line>
                {bars}
            </svg>
            <div class="chart-axis muted small"><span>{day(last - chrono::Days::new(CHART_DAYS as u64 - 1))}</span><span>{day(last)}</span></div>
        </figure>
    }
}

/// "Control panel password": a new one, typed twice.
#[component]
fn PasswordForm(id: String, data: LocalResource<Result<Shown, ClientError>>, notice: RwSignal<Option<String>>) -> impl IntoView {
    let session = use_session();
    let password = RwSignal::new(String::new());
    let repeat = RwSignal::new(String::new());
    let form = Form::new();
    let send = form.action(
        move |(id, body): &(String, ServicePassword)| {
            let (id, body) = (id.clone(), body.clone());
            async move { api::portal::service_password(session, &id, body).await }
        },
        move |_| {
            notice.set(Some("Control panel password changed. Use the new one from now on.".into()));
            data.refetch();
        },
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        notice.set(None);
        let body = ServicePassword { password: password.get_untracked() };
        if !form.check(&body) {
            return;
        }
        if repeat.get_untracked() != body.password {
            form.errors.set([("repeat".to_string(), vec!["does not match the new password".to_string()])].into());
            return;
        }
        send.dispatch_local((id.clone(), body));
    };
    view! {
        <form class="card stack-form" on:submit=submit novalidate data-testid="service-password">
            <h2>"Control panel password"</h2>
            <p class="muted small">"Sets a new password for your control panel, e-mail and FTP logins of this account."</p>
            <ErrorBanner message=form.banner/>
            <Field label="New password" name="password" kind="password" autocomplete="new-password" hint="At least 12 characters." value=password errors=form.errors/>
            <Field label="Repeat it" name="repeat" kind="password" autocomplete="new-password" value=repeat errors=form.errors/>
            <div><Submit pending=send.pending() label="Change password" busy="Changing…"/></div>
        </form>
    }
}

/// "Request cancellation": now or at the end of the paid period, a reason, and a second click to
/// confirm.
#[component]
fn CancelForm(service: Service, data: LocalResource<Result<Shown, ClientError>>, notice: RwSignal<Option<String>>) -> impl IntoView {
    let session = use_session();
    let id = service.id.to_string();
    let name = service.domain.clone().unwrap_or_else(|| service.product_name.clone());
    let end = service.next_due_on.map(day);
    let choice = RwSignal::new(CancelWhen::EndOfPeriod);
    let reason = RwSignal::new(String::new());
    let confirming = RwSignal::new(false);
    let form = Form::new();
    let send = form.action(
        move |(id, body): &(String, CancellationRequest)| {
            let (id, body) = (id.clone(), body.clone());
            async move { api::portal::cancel_service(session, &id, body).await }
        },
        // The page's banner says what happens next.
        move |_: Service| data.refetch(),
    );
    let body = move || CancellationRequest { when: choice.get_untracked(), reason: reason.get_untracked().trim().to_string() };
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        notice.set(None);
        if form.check(&body()) {
            confirming.set(true);
        }
    };
    let confirm = move |_| {
        send.dispatch_local((id.clone(), body()));
    };
    let end_label = match &end {
        Some(d) => format!("At the end of the period ({d})"),
        None => "At the end of the period".to_string(),
    };
    let question = move || match choice.get() {
        CancelWhen::Immediate => format!("Close {name} now? Its website, e-mail and files are deleted and cannot be restored."),
        CancelWhen::EndOfPeriod => match &end {
            Some(d) => format!("Cancel {name} on {d}? It keeps running until then and is not renewed."),
            None => format!("Cancel {name} at the end of its period? It is not renewed."),
        },
    };
    let radio = move |value: CancelWhen, label: String, testid: &'static str| {
        view! {
            <label class="choice compact" data-testid=testid>
                <input type="radio" name="cancel-when" value=value.as_str() checked=move || choice.get() == value
                    on:change=move |_| { choice.set(value); confirming.set(false); }/>
                <span class="choice-title">{label}</span>
            </label>
        }
    };
    view! {
        <form class="card stack-form" on:submit=submit novalidate data-testid="cancel-service">
            <h2>"Request cancellation"</h2>
            <ErrorBanner message=form.banner/>
            <div class="field">
                <span class="legend">"When"</span>
                <div class="choices cancel-choices">
                    {radio(CancelWhen::EndOfPeriod, end_label, "cancel-end-of-period")}
                    {radio(CancelWhen::Immediate, "Immediately".to_string(), "cancel-immediate")}
                </div>
                <FieldError name="when" errors=form.errors/>
            </div>
            <div class="field">
                <label for="f-cancel-reason">"Reason (optional)"</label>
                <textarea id="f-cancel-reason" rows="2" bind:value=reason on:input=move |_| confirming.set(false)></textarea>
                <FieldError name="reason" errors=form.errors/>
            </div>
            <div class:hidden=move || confirming.get()>
                <button class="btn btn-outline btn-danger" type="submit" data-testid="cancel-request">"Request cancellation"</button>
            </div>
            <div class="confirm-box" data-testid="cancel-confirm-box" class:hidden=move || !confirming.get()>
                <p>{question}</p>
                <div class="row-actions left">
                    <button class="btn btn-primary btn-danger-fill" type="button" data-testid="cancel-confirm" disabled=move || send.pending().get() on:click=confirm>
                        {move || if send.pending().get() { "Sending…" } else { "Yes, cancel it" }}
                    </button>
                    <button class="btn btn-ghost" type="button" on:click=move |_| confirming.set(false)>"Keep it"</button>
                </div>
            </div>
        </form>
    }
}
