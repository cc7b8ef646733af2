//! The account's invoices: the list (status filter, number search, pages) with the account's
//! credit beside it and a form to add funds to it (an invoice for the amount, opened to be paid),
//! and one invoice as a document with the ways to pay it and its PDF and UBL e-invoice.
//!
//! Paying by card is a full page load to the gateway's checkout page (`redirect_url`; in sandbox
//! mode Keel's own `/sandbox/stripe/pay/…`), which sends the browser back here with `?paid=1`.
//! The gateway's webhook may land a moment after that: while the invoice is still open the page
//! asks again every second, for up to ten seconds, and says so.

use std::time::Duration;

use keel_shared::billing::{AddFunds, Credit, Gateway, Invoice, InvoiceFilter, InvoiceStatus};
use keel_shared::money::Currency;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use leptos_router::NavigateOptions;

use crate::api::{self, ClientError, RetryKey};
use crate::components::amounts::{format_decimal, parse_decimal};
use crate::components::feedback::{loaded, ErrorBanner};
use crate::components::form::{Field, FieldError, Form, Submit};
use crate::components::invoices::{
    balance_in, credit_balances, credit_entries, invoice_document, invoice_filters, invoice_table, number_of, status_pill, PdfButton,
    UblButton,
};
use crate::components::layout::Link;
use crate::components::shop::money;
use crate::routes;
use crate::session::{use_session, SessionCtx};

#[component]
pub fn InvoicesPage() -> impl IntoView {
    let session = use_session();
    let status = RwSignal::new(None::<InvoiceStatus>);
    let q = RwSignal::new(String::new());
    let page = RwSignal::new(1u32);
    let invoices = LocalResource::new(move || {
        let q = Some(q.get().trim().to_string()).filter(|q| !q.is_empty());
        api::portal::invoices(
            session,
            InvoiceFilter { status: status.get(), q, account_id: None, order_id: None, paging: api::page(page.get()) },
        )
    });
    let credit = LocalResource::new(move || api::portal::credit(session));
    view! {
        <header class="page-head">
            <div><h1>"Invoices"</h1><p class="muted">"What you were billed, what you paid, and what is still to pay."</p></div>
        </header>
        {move || credit.get().and_then(Result::ok).map(|c: Credit| view! {
            <section class="card credit-panel" data-testid="credit-panel">
                <div class="credit-head">
                    <h2>"Account credit"</h2>
                    {credit_balances(&c)}
                </div>
                <p class="muted small">"Credit pays invoices in its currency: choose “Pay from credit” on an invoice."</p>
                <AddFundsForm/>
                {(!c.entries.is_empty()).then(|| view! {
                    <details class="credit-history">
                        <summary>"History"</summary>
                        {credit_entries(&c.entries, "/dashboard/invoices")}
                    </details>
                })}
            </section>
        })}
        <super::cards::SavedCards session=session/>
        {invoice_filters(status, q, page)}
        {loaded(invoices, move |list| invoice_table(list, page, "/dashboard/invoices", false))}
    }
}

/// The smallest and largest amounts of funds one adds at a time, in minor units (the API's
/// bounds, whatever the currency).
const FUNDS_MIN: i64 = 100;
const FUNDS_MAX: i64 = 1_000_000;

/// "Add funds": an amount in major units and one of the shop's currencies (the account's profile
/// currency first, when the shop sells in it). The API answers an invoice for it, which opens to
/// be paid; once paid the amount is credit.
#[component]
fn AddFundsForm() -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    // The shop's currencies and the account's own.
    let choices = LocalResource::new(move || async move {
        let (codes, default) = api::catalog::currencies().await?;
        let own = api::portal::profile(session).await.ok().map(|p| p.currency);
        let first = own.filter(|c| codes.contains(c)).unwrap_or(default);
        Ok::<_, ClientError>((codes, first))
    });
    let currency = RwSignal::new(None::<Currency>);
    Effect::new(move || {
        if let Some(Ok((_, first))) = choices.get() {
            if currency.get_untracked().is_none() {
                currency.set(Some(first));
            }
        }
    });
    let chosen = move || currency.get().unwrap_or_default();
    let amount = RwSignal::new(String::new());
    let retry = RetryKey::new();
    let form = Form::new();
    let send = form.action(
        move |body: &AddFunds| {
            let body = body.clone();
            async move { api::portal::add_funds(session, &body, retry).await }
        },
        move |inv: Invoice| navigate(&format!("/dashboard/invoices/{}", inv.id), NavigateOptions::default()),
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let c = currency.get_untracked().unwrap_or_default();
        let exp = c.exponent();
        let range = format!("from {} to {}", money(FUNDS_MIN, c), money(FUNDS_MAX, c));
        let Some(minor) = parse_decimal(&amount.get_untracked(), exp) else {
            form.errors.set([("amount_minor".to_string(), vec![format!("an amount like {}, {range}", format_decimal(2500, exp))])].into());
            return;
        };
        if !(FUNDS_MIN..=FUNDS_MAX).contains(&minor) {
            form.errors.set([("amount_minor".to_string(), vec![range])].into());
            return;
        }
        let body = AddFunds { amount_minor: minor, currency: c };
        if form.check(&body) {
            send.dispatch_local(body);
        }
    };
    let options = move || {
        choices.get().and_then(Result::ok).map(|(codes, _)| {
            codes.into_iter().map(|c| view! { <option value=c.code() selected=move || chosen() == c>{c.code()}</option> }).collect_view()
        })
    };
    view! {
        <form class="stack-form add-funds" on:submit=submit novalidate data-testid="add-funds">
            <h3>"Add funds"</h3>
            <ErrorBanner message=form.banner/>
            <div class="field-row">
                <Field label="Amount" name="amount_minor" value=amount errors=form.errors/>
                <div class="field">
                    <label for="f-funds-currency">"Currency"</label>
                    <select id="f-funds-currency" on:change=move |ev| if let Some(c) = Currency::parse(&event_target_value(&ev)) { currency.set(Some(c)) }>
                        {options}
                    </select>
                    <FieldError name="currency" errors=form.errors/>
                </div>
            </div>
            <p class="muted small">{move || {
                let c = chosen();
                format!("From {} to {} at a time. You pay an invoice for it; once paid, it is your credit.", money(FUNDS_MIN, c), money(FUNDS_MAX, c))
            }}</p>
            <div><Submit pending=send.pending() label="Add funds" busy="Preparing the invoice…"/></div>
        </form>
    }
}

/// Asks for the invoice again every second while it is still open after the gateway sent the
/// browser back (`?paid=1`), up to ten times.
fn confirm_payment(session: SessionCtx, id: String, state: Confirm, attempt: u32) {
    spawn_local(async move {
        match api::portal::invoice(session, &id).await {
            Ok(inv) if inv.status == InvoiceStatus::Paid => {
                state.waiting.set(false);
                state.received.set(true);
                state.invoice.refetch();
            }
            Ok(inv) if inv.status.is_open() && attempt < 10 => {
                state.waiting.set(true);
                set_timeout(move || confirm_payment(session, id, state, attempt + 1), Duration::from_secs(1));
            }
            Ok(inv) => {
                state.waiting.set(false);
                if inv.status.is_open() {
                    state.late.set(true);
                }
                state.invoice.refetch();
            }
            Err(_) => state.waiting.set(false),
        }
    });
}

/// The state of confirming a card payment.
#[derive(Clone, Copy)]
struct Confirm {
    invoice: LocalResource<Result<Invoice, ClientError>>,
    waiting: RwSignal<bool>,
    received: RwSignal<bool>,
    late: RwSignal<bool>,
}

#[component]
pub fn InvoicePage() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let query = use_query_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let invoice = LocalResource::new(move || {
        let id = id.get();
        async move { api::portal::invoice(session, &id).await }
    });
    let credit = LocalResource::new(move || api::portal::credit(session));
    let cards = LocalResource::new(move || api::portal::payment_methods(session));
    let banner = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let state = Confirm { invoice, waiting: RwSignal::new(false), received: RwSignal::new(false), late: RwSignal::new(false) };
    // Back from the gateway's page.
    if query.with_untracked(|q| q.get("paid").as_deref() == Some("1")) {
        state.waiting.set(true);
        confirm_payment(session, id.get_untracked(), state, 0);
    }
    // Straight from checkout.
    let placed = query.with_untracked(|q| q.get("placed"));

    let pay = move |gateway: Gateway| {
        banner.set(None);
        notice.set(None);
        busy.set(true);
        spawn_local(async move {
            match api::portal::pay_invoice(session, &id.get_untracked(), gateway).await {
                // To the gateway's page (a full page load); it sends the browser back here.
                Ok(started) if started.redirect_url.is_some() => routes::load(started.redirect_url.as_deref().unwrap_or_default()),
                Ok(started) => {
                    let inv = started.invoice;
                    notice.set(Some(if inv.status == InvoiceStatus::Paid {
                        "Paid from your credit. Thank you!".to_string()
                    } else {
                        format!("Paid from your credit as far as it went: {} is still to pay.", money(inv.balance_minor, inv.currency))
                    }));
                    busy.set(false);
                    invoice.refetch();
                    credit.refetch();
                }
                Err(e) => {
                    banner.set(Some(e.message()));
                    busy.set(false);
                    invoice.refetch();
                }
            }
        });
    };

    // A saved card is charged at once: no page to go to.
    let pay_saved = move |card: keel_shared::ids::PaymentMethodId| {
        banner.set(None);
        notice.set(None);
        busy.set(true);
        spawn_local(async move {
            match api::portal::pay_with_card(session, &id.get_untracked(), card).await {
                Ok(_) => notice.set(Some("Paid with your saved card. Thank you!".to_string())),
                Err(e) => banner.set(Some(e.message())),
            }
            busy.set(false);
            invoice.refetch();
        });
    };

    view! {
        {placed.map(|n| view! {
            <div class="alert alert-info" role="status" data-testid="order-placed">{format!("Order {n} placed: pay its invoice below.")}</div>
        })}
        <Show when=move || state.waiting.get()>
            <div class="alert alert-info banner" role="status" data-testid="payment-confirming">
                <span class="spinner" aria-hidden="true"></span><span>"We are confirming your payment…"</span>
            </div>
        </Show>
        <Show when=move || state.received.get()>
            <div class="alert alert-success" role="status" data-testid="payment-received">"Payment received. Thank you!"</div>
        </Show>
        <Show when=move || state.late.get()>
            <div class="alert alert-warn" role="status" data-testid="payment-pending">
                "Your payment has not been confirmed yet. It can take a few minutes: this page shows it once it has."
            </div>
        </Show>
        <ErrorBanner message=banner/>
        {move || notice.get().map(|n| view! { <div class="alert alert-success" role="status" data-testid="pay-notice">{n}</div> })}
        {loaded(invoice, move |inv: Invoice| {
            let number = number_of(&inv.number);
            view! {
                <header class="page-head">
                    <div>
                        <h1 data-testid="invoice-number">{format!("Invoice {number}")}</h1>
                        <p class="muted">{status_pill(inv.status)}" "{format!("Total {}", money(inv.total_minor, inv.currency))}</p>
                    </div>
                    <div class="row-actions">
                        <PdfButton session=session id=inv.id.to_string() number=number.clone()/>
                        <UblButton session=session id=inv.id.to_string() number=number.clone() banner=banner/>
                        <Link href="/dashboard/invoices" class="btn btn-outline">"All invoices"</Link>
                    </div>
                </header>
                <div class="invoice-layout">
                    {invoice_document(&inv)}
                    {(inv.status.is_open() && inv.balance_minor > 0).then(|| pay_card(&inv, (credit, cards), busy, (pay, pay_saved)))}
                </div>
            }
        })}
    }
}

/// What the page loaded, or why not.
type Loaded<T> = LocalResource<Result<T, ClientError>>;

/// "Pay now": with the default saved card, by card (Stripe), with Razorpay, from credit when the account holds some in the invoice's currency, and
/// the bank transfer instructions when the shop gives them.
fn pay_card(
    inv: &Invoice,
    (credit, cards): (Loaded<Credit>, Loaded<Vec<keel_shared::billing::PaymentMethod>>),
    busy: RwSignal<bool>,
    (pay, pay_saved): (
        impl Fn(Gateway) + Copy + Send + Sync + 'static,
        impl Fn(keel_shared::ids::PaymentMethodId) + Copy + Send + Sync + 'static,
    ),
) -> impl IntoView {
    let currency = inv.currency;
    let default_card = move || cards.get().and_then(Result::ok).and_then(|list| list.into_iter().find(|m| m.is_default));
    let reference = number_of(&inv.number);
    let available = move || credit.get().and_then(Result::ok).map_or(0, |c| balance_in(&c, currency));
    view! {
        <aside class="card pay-card" data-testid="pay-card">
            <h2>"Pay now"</h2>
            <p class="pay-due"><span class="muted">"Balance due"</span><strong data-testid="pay-due">{money(inv.balance_minor, currency)}</strong></p>
            {move || default_card().map(|m| {
                let label = format!("Pay with {}", super::cards::card_label(&m));
                view! {
                    <button class="btn btn-primary btn-block" type="button" data-testid="pay-saved-card" disabled=move || busy.get()
                        on:click=move |_| pay_saved(m.id.clone())>{label}</button>
                }
            })}
            <button class="btn btn-primary btn-block" type="button" data-testid="pay-by-card" disabled=move || busy.get()
                on:click=move |_| pay(Gateway::Stripe)>"Pay by card"</button>
            <button class="btn btn-outline btn-block" type="button" data-testid="pay-by-razorpay" disabled=move || busy.get()
                on:click=move |_| pay(Gateway::Razorpay)>"Pay with Razorpay (UPI, netbanking, cards)"</button>
            {move || (available() > 0).then(|| view! {
                <div class="pay-credit" data-testid="pay-credit">
                    <p class="muted small">{format!("Your credit: {}", money(available(), currency))}</p>
                    <button class="btn btn-outline btn-block" type="button" data-testid="pay-from-credit" disabled=move || busy.get()
                        on:click=move |_| pay(Gateway::Credit)>"Pay from credit"</button>
                </div>
            })}
            {inv.payment_instructions.clone().filter(|t| !t.trim().is_empty()).map(|text| view! {
                <div class="bank-transfer" data-testid="bank-transfer">
                    <h3>"Bank transfer"</h3>
                    <p class="instructions">{text}</p>
                    <p class="muted small">{format!("Reference: {reference}")}</p>
                </div>
            })}
        </aside>
    }
}
