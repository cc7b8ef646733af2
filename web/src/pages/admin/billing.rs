//! Admin billing pages besides the invoices: the gateways' webhook log (each event's type,
//! outcome, signature check, what Keel did and the raw body), the billing settings (who the
//! seller is, invoice numbering, due days, bank transfer instructions), and a client's billing
//! page (their credit with an adjustment form, and their invoices).

use keel_shared::access::Permission;
use keel_shared::billing::{BillingSettings, Credit, CreditAdjustment, EventFilter, EventOutcome, InvoiceFilter, PaymentEvent};
use keel_shared::ids::UserId;
use keel_shared::money::Currency;
use keel_shared::Page;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::prices::parse_decimal;
use crate::api::{self, admin};
use crate::components::feedback::{loaded, Empty, ErrorBanner, Notice, Pager};
use crate::components::form::{Field, FieldError, Form, Submit};
use crate::components::invoices::{credit_balances, credit_entries, invoice_table};
use crate::components::when;
use crate::session::{use_session, SessionCtx};

fn outcome_pill(o: EventOutcome) -> impl IntoView {
    view! { <span class=format!("pill pill-event-{}", o.as_str()) data-testid="event-outcome">{o.as_str()}</span> }
}

#[component]
pub fn PaymentEventsPage() -> impl IntoView {
    let session = use_session();
    let outcome = RwSignal::new(None::<EventOutcome>);
    let page = RwSignal::new(1u32);
    let events =
        LocalResource::new(move || admin::payment_events(session, EventFilter { outcome: outcome.get(), paging: api::page(page.get()) }));
    let open = RwSignal::new(None::<String>);
    let options = std::iter::once(None)
        .chain(EventOutcome::ALL.iter().copied().map(Some))
        .map(|o| {
            let value = o.map_or("", EventOutcome::as_str);
            view! { <option value=value selected=move || outcome.get() == o>{if value.is_empty() { "all" } else { value }}</option> }
        })
        .collect_view();
    view! {
        <header class="page-head">
            <div>
                <h1>"Payment events"</h1>
                <p class="muted">"The payment gateways' webhooks as Keel received them. Unmatched and mismatched events need a person."</p>
            </div>
            <button class="btn btn-outline" type="button" on:click=move |_| events.refetch()>"Refresh"</button>
        </header>
        <div class="toolbar">
            <label class="inline-field">"Outcome "
                <select data-testid="event-outcome-filter" on:change=move |ev| { outcome.set(EventOutcome::parse(&event_target_value(&ev))); page.set(1); }>{options}</select>
            </label>
        </div>
        {loaded(events, move |list| events_table(list, page, open))}
    }
}

fn events_table(list: Page<PaymentEvent>, page: RwSignal<u32>, open: RwSignal<Option<String>>) -> AnyView {
    if list.items.is_empty() {
        return view! { <Empty title="No payment events" hint="Events appear here as the gateways send them."/> }.into_any();
    }
    let (current, pages) = (list.page, list.total_pages.max(1));
    view! {
        <div class="card table-card">
            <table class="table" data-testid="events-table">
                <thead><tr><th>"Received"</th><th>"Event"</th><th>"Outcome"</th><th>"Signed"</th><th>"Detail"</th><th>"Invoice"</th></tr></thead>
                <tbody>
                    {list.items.into_iter().map(|e| {
                        let id = e.id.to_string();
                        let (toggle, shown) = (id.clone(), id.clone());
                        let body = e.body.clone();
                        view! {
                            <tr class="clickable" data-event=e.event_id.clone().unwrap_or_default() title="Show the body as received"
                                on:click=move |_| open.update(|o| *o = if o.as_deref() == Some(&toggle) { None } else { Some(toggle.clone()) })>
                                <td class="nowrap">{when(e.received_at)}</td>
                                <td><div class="line-desc"><code>{e.event_type.clone()}</code><span class="muted small">{e.gateway.label()}</span></div></td>
                                <td>{outcome_pill(e.outcome)}</td>
                                <td>{if e.verified { "yes" } else { "no" }}</td>
                                <td class="clip event-detail" title=e.detail.clone()>{e.detail.clone()}</td>
                                <td>{e.invoice_id.clone().map(|i| view! { <A href=format!("/admin/invoices/{i}")>"Open"</A> })}</td>
                            </tr>
                            <Show when=move || open.get().as_deref() == Some(shown.as_str())>
                                <tr class="event-body"><td colspan="6">
                                    {e.event_id.clone().map(|i| view! { <p class="muted small">{format!("Event id {i}")}</p> })}
                                    <pre class="raw-body" data-testid="event-body">{body.clone()}</pre>
                                </td></tr>
                            </Show>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <Pager page=page current=current pages=pages/>
        </div>
    }
    .into_any()
}

#[component]
pub fn BillingSettingsPage() -> impl IntoView {
    let session = use_session();
    let settings = LocalResource::new(move || admin::billing_settings(session));
    view! {
        <header class="page-head">
            <div><h1>"Billing settings"</h1><p class="muted">"Who the seller is on invoices, how they are numbered, when they are due and how to pay by bank transfer."</p></div>
        </header>
        {loaded(settings, move |s| view! { <SettingsForm settings=s session=session/> })}
    }
}

/// A multi-line field (an address, instructions) with its error under it.
fn text_area(label: &'static str, name: &'static str, value: RwSignal<String>, form: Form, hint: &'static str) -> impl IntoView {
    let id = format!("f-{name}");
    view! {
        <div class="field" class:has-error=move || form.error(name).is_some()>
            <label for=id.clone()>{label}</label>
            <textarea id=id name=name rows="4" bind:value=value></textarea>
            {move || match form.error(name) {
                Some(e) => view! { <p class="field-error">{e}</p> }.into_any(),
                None => view! { <p class="field-hint">{hint}</p> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn SettingsForm(settings: BillingSettings, session: SessionCtx) -> impl IntoView {
    let name = RwSignal::new(settings.seller_name.clone());
    let address = RwSignal::new(settings.seller_address.clone());
    let tax_id = RwSignal::new(settings.seller_tax_id.clone());
    let prefix = RwSignal::new(settings.invoice_prefix.clone());
    let due = RwSignal::new(settings.due_days.to_string());
    let instructions = RwSignal::new(settings.payment_instructions.clone());
    let at_renewal = RwSignal::new(settings.downgrades_at_renewal);
    let renewal_days = RwSignal::new(settings.renewal_days.to_string());
    let consolidate = RwSignal::new(settings.consolidate_renewals);
    let use_credit = RwSignal::new(settings.renewals_use_credit);
    let form = Form::new();
    let notice = RwSignal::new(None::<String>);
    let send = form.action(
        move |b: &BillingSettings| admin::save_billing_settings(session, b.clone()),
        move |_| notice.set(Some("Billing settings saved.".into())),
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        notice.set(None);
        let Ok(due_days) = due.get_untracked().trim().parse::<u32>() else {
            form.errors.set([("due_days".to_string(), vec!["a whole number of days, 0 to 365".to_string()])].into());
            return;
        };
        let Ok(renewal_days) = renewal_days.get_untracked().trim().parse::<u32>() else {
            form.errors.set([("renewal_days".to_string(), vec!["a whole number of days, 0 to 90".to_string()])].into());
            return;
        };
        let body = BillingSettings {
            seller_name: name.get_untracked().trim().to_string(),
            seller_address: address.get_untracked().trim().to_string(),
            seller_tax_id: tax_id.get_untracked().trim().to_string(),
            invoice_prefix: prefix.get_untracked().trim().to_string(),
            due_days,
            payment_instructions: instructions.get_untracked().trim().to_string(),
            downgrades_at_renewal: at_renewal.get_untracked(),
            renewal_days,
            consolidate_renewals: consolidate.get_untracked(),
            renewals_use_credit: use_credit.get_untracked(),
        };
        if form.check(&body) {
            send.dispatch_local(body);
        }
    };
    let errors = form.errors;
    view! {
        <form class="card staff-form" on:submit=submit novalidate data-testid="billing-settings-form">
            <ErrorBanner message=form.banner/>
            <Notice message=notice/>
            {(!session.can(Permission::BillingWrite)).then(|| view! { <p class="muted small">"Saving needs the billing.write permission."</p> })}
            <div class="field-row">
                <Field label="Seller name" name="seller_name" value=name errors=errors hint="The legal name printed on every invoice."/>
                <Field label="VAT id" name="seller_tax_id" value=tax_id errors=errors/>
            </div>
            {text_area("Seller address", "seller_address", address, form, "One line per line of the address.")}
            <div class="field-row">
                <Field label="Invoice number prefix" name="invoice_prefix" value=prefix errors=errors hint="INV- gives INV-2026-000001."/>
                <Field label="Days to pay" name="due_days" kind="number" value=due errors=errors hint="From the day an invoice is issued."/>
            </div>
            {text_area("Bank transfer instructions", "payment_instructions", instructions, form, "Printed on unpaid invoices: account holder, IBAN, BIC. Empty: no bank transfers.")}
            <div class="field-row">
                <Field label="Renewal invoices, days ahead" name="renewal_days" kind="number" value=renewal_days errors=errors hint="A service's next period is invoiced this many days before it falls due."/>
            </div>
            <label class="check" data-testid="consolidate-renewals"><input type="checkbox" bind:checked=consolidate/>" One renewal invoice per client for services falling due on the same day"</label>
            <label class="check" data-testid="renewals-use-credit"><input type="checkbox" bind:checked=use_credit/>" Pay renewal invoices from the client's account credit when they are issued"</label>
            <label class="check" data-testid="downgrades-at-renewal"><input type="checkbox" bind:checked=at_renewal/>" Downgrades wait for the renewal (no account credit for the rest of the period)"</label>
            <Submit pending=send.pending() label="Save settings" busy="Saving…"/>
        </form>
    }
}

/// "-12.50" in `currency` → -1250: a sign, then an amount with at most the currency's decimals.
fn signed_amount(text: &str, currency: Currency) -> Option<i64> {
    let text = text.trim();
    match text.strip_prefix('-') {
        Some(rest) => parse_decimal(rest, currency.exponent()).map(|v| -v),
        None => parse_decimal(text.strip_prefix('+').unwrap_or(text), currency.exponent()),
    }
}

/// `/admin/clients/:id`: a client's credit (balances, adjustments, the ledger) and invoices.
#[component]
pub fn ClientBillingPage() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let credit = LocalResource::new(move || {
        let id = id.get();
        async move { admin::client_credit(session, &id).await }
    });
    let page = RwSignal::new(1u32);
    let invoices = LocalResource::new(move || {
        let filter = InvoiceFilter { account_id: UserId::parse(&id.get()), paging: api::page(page.get()), ..Default::default() };
        admin::invoices(session, filter)
    });
    let notice = RwSignal::new(None::<String>);
    view! {
        <header class="page-head">
            <div>
                <h1>"Client billing"</h1>
                <p class="muted">
                    {move || invoices.get().and_then(Result::ok).and_then(|l| l.items.first().map(|i| i.buyer.clone())).unwrap_or_default()}
                    " "<code>{move || id.get()}</code>
                </p>
            </div>
            <a href="/admin/clients" class="btn btn-outline">"All clients"</a>
        </header>
        <Notice message=notice/>
        <section class="card credit-panel" data-testid="client-credit">
            <h2>"Credit"</h2>
            {loaded(credit, move |c: Credit| {
                // The form starts on the client's first balance's currency.
                let currency = c.balances.first().map(|b| b.currency).unwrap_or_default();
                view! {
                    {credit_balances(&c)}
                    {credit_entries(&c.entries, "/admin/invoices")}
                    {session.can(Permission::BillingWrite).then(|| view! { <CreditForm id=id credit=credit notice=notice currency=currency/> })}
                }
            })}
        </section>
        <h2 class="section-title">"Invoices"</h2>
        {loaded(invoices, move |list| invoice_table(list, page, "/admin/invoices", false))}
    }
}

/// Adds credit (a positive amount) or takes it away (negative), with a reason.
#[component]
fn CreditForm(
    id: Memo<String>,
    credit: LocalResource<Result<Credit, api::ClientError>>,
    notice: RwSignal<Option<String>>,
    /// The currency the form starts on.
    currency: Currency,
) -> impl IntoView {
    let session = use_session();
    let amount = RwSignal::new(String::new());
    let reason = RwSignal::new(String::new());
    let currency = RwSignal::new(currency);
    let form = Form::new();
    let send = form.action(
        move |(id, body): &(String, CreditAdjustment)| {
            let (id, body) = (id.clone(), body.clone());
            async move { admin::adjust_credit(session, &id, body).await }
        },
        move |_: Credit| {
            notice.set(Some("Credit adjusted.".into()));
            amount.set(String::new());
            reason.set(String::new());
            credit.refetch();
        },
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        notice.set(None);
        let c = currency.get_untracked();
        let Some(minor) = signed_amount(&amount.get_untracked(), c) else {
            form.errors.set([("amount_minor".to_string(), vec!["an amount like 10.00, or -10.00 to take credit away".to_string()])].into());
            return;
        };
        let body = CreditAdjustment { amount_minor: minor, currency: c, reason: reason.get_untracked().trim().to_string() };
        if form.check(&body) {
            send.dispatch_local((id.get_untracked(), body));
        }
    };
    let options =
        Currency::all().map(|c| view! { <option value=c.code() selected=move || currency.get() == c>{c.code()}</option> }).collect_view();
    view! {
        <form class="stack-form credit-form" on:submit=submit novalidate data-testid="credit-form">
            <h3>"Adjust credit"</h3>
            <ErrorBanner message=form.banner/>
            <div class="field-row">
                <Field label="Amount" name="amount_minor" value=amount errors=form.errors hint="Negative to take credit away."/>
                <div class="field">
                    <label for="f-currency">"Currency"</label>
                    <select id="f-currency" on:change=move |ev| if let Some(c) = Currency::parse(&event_target_value(&ev)) { currency.set(c) }>{options}</select>
                    <FieldError name="currency" errors=form.errors/>
                </div>
            </div>
            <Field label="Reason" name="reason" value=reason errors=form.errors hint="Kept in the ledger, seen by the client."/>
            <Submit pending=send.pending() label="Adjust credit" busy="Saving…"/>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_amounts_use_the_currency_exponent() {
        assert_eq!(signed_amount("12.50", Currency::USD), Some(1250));
        assert_eq!(signed_amount("-12.5", Currency::USD), Some(-1250));
        assert_eq!(signed_amount("+3", Currency::JPY), Some(3));
        assert_eq!(signed_amount("1.5", Currency::JPY), None);
        assert_eq!(signed_amount("1.250", Currency::KWD), Some(1250));
        assert_eq!(signed_amount("--1", Currency::USD), None);
    }
}
