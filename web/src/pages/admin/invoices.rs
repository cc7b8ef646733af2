//! Admin: every invoice (status filter, number search, the client), and one invoice with what a
//! `billing.write` holder may do to it: record a payment that arrived by bank transfer (typed in
//! major units, turned into minor units with the currency's exponent), cancel it with a reason.

use keel_shared::access::Permission;
use keel_shared::billing::{CancelInvoice, Invoice, InvoiceFilter, InvoiceStatus, RecordPayment};
use keel_shared::ids::UserId;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::prices::{format_decimal, parse_decimal};
use crate::api::{self, admin};
use crate::components::feedback::{loaded, ErrorBanner, Notice};
use crate::components::form::{Field, Form, Submit};
use crate::components::invoices::{invoice_document, invoice_filters, invoice_table, number_of, PdfButton};
use crate::components::shop::money;
use crate::session::use_session;

#[component]
pub fn AdminInvoicesPage() -> impl IntoView {
    let session = use_session();
    let query = use_query_map();
    let status = RwSignal::new(None::<InvoiceStatus>);
    let q = RwSignal::new(String::new());
    let page = RwSignal::new(1u32);
    // `?account_id=`: one client's invoices.
    let account = Memo::new(move |_| query.with(|q| q.get("account_id")).and_then(|a| UserId::parse(&a)));
    let invoices = LocalResource::new(move || {
        let q = Some(q.get().trim().to_string()).filter(|q| !q.is_empty());
        admin::invoices(
            session,
            InvoiceFilter { status: status.get(), q, account_id: account.get(), order_id: None, paging: api::page(page.get()) },
        )
    });
    view! {
        <header class="page-head">
            <div><h1>"Invoices"</h1><p class="muted">"Every invoice issued, newest first. Open one to record a bank transfer or cancel it."</p></div>
            <button class="btn btn-outline" type="button" on:click=move |_| invoices.refetch()>"Refresh"</button>
        </header>
        {invoice_filters(status, q, page)}
        {loaded(invoices, move |list| invoice_table(list, page, "/admin/invoices", true))}
    }
}

#[component]
pub fn AdminInvoicePage() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let invoice = LocalResource::new(move || {
        let id = id.get();
        async move { admin::invoice(session, &id).await }
    });
    let notice = RwSignal::new(None::<String>);
    view! {
        <Notice message=notice/>
        {loaded(invoice, move |inv: Invoice| {
            let number = number_of(&inv.number);
            let may = session.can(Permission::BillingWrite);
            let cancellable = inv.status.is_open() || inv.status == InvoiceStatus::Draft;
            let (client, buyer, order) = (format!("/admin/clients/{}", inv.account_id), inv.buyer.name.clone(), inv.order_id.clone());
            view! {
                <header class="page-head">
                    <div>
                        <h1 data-testid="invoice-number">{format!("Invoice {number}")}</h1>
                        <p class="muted">
                            <A href=client>{buyer}</A>
                            {order.map(|o| view! { " · " <A href=format!("/admin/orders/{o}")>"the order"</A> })}
                        </p>
                    </div>
                    <div class="row-actions">
                        <PdfButton session=session id=inv.id.to_string() number=number.clone() admin=true/>
                        <a href="/admin/invoices" class="btn btn-outline">"All invoices"</a>
                    </div>
                </header>
                {(may && cancellable).then(|| view! {
                    <div class="grid-2 invoice-actions" data-testid="invoice-actions">
                        {inv.status.is_open().then(|| record_payment(&inv, invoice, notice))}
                        {cancellable.then(|| cancel_invoice(&inv, invoice, notice))}
                    </div>
                })}
                {invoice_document(&inv)}
            }
        })}
    }
}

/// "Record a payment": the amount, prefilled with the balance in major units, and the bank's
/// reference.
fn record_payment(
    inv: &Invoice,
    invoice: LocalResource<Result<Invoice, api::ClientError>>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let session = use_session();
    let (id, currency) = (inv.id.to_string(), inv.currency);
    let amount = RwSignal::new(format_decimal(inv.balance_minor, currency.exponent()));
    let reference = RwSignal::new(String::new());
    let form = Form::new();
    let send = form.action(
        move |(id, body): &(String, RecordPayment)| {
            let (id, body) = (id.clone(), body.clone());
            async move { admin::record_payment(session, &id, body).await }
        },
        move |i: Invoice| {
            notice.set(Some(format!("Payment recorded: {} is {}.", number_of(&i.number), i.status.label().to_lowercase())));
            invoice.refetch();
        },
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        notice.set(None);
        let Some(minor) = parse_decimal(&amount.get_untracked(), currency.exponent()) else {
            form.errors
                .set([("amount_minor".to_string(), vec![format!("an amount like {}", format_decimal(1999, currency.exponent()))])].into());
            return;
        };
        let body = RecordPayment { amount_minor: minor, reference: reference.get_untracked().trim().to_string() };
        if form.check(&body) {
            send.dispatch_local((id.clone(), body));
        }
    };
    view! {
        <form class="card stack-form" on:submit=submit novalidate data-testid="record-payment">
            <h2>"Record a payment"</h2>
            <p class="muted small">{format!("A bank transfer that arrived, in {}. More than the balance goes to the client's credit.", currency.code())}</p>
            <ErrorBanner message=form.banner/>
            <div class="field-row">
                <Field label="Amount" name="amount_minor" value=amount errors=form.errors/>
                <Field label="Reference" name="reference" value=reference errors=form.errors hint="The bank's reference of the transfer."/>
            </div>
            <Submit pending=send.pending() label="Record payment" busy="Recording…"/>
        </form>
    }
}

/// "Cancel invoice", with the reason the client is told.
fn cancel_invoice(
    inv: &Invoice,
    invoice: LocalResource<Result<Invoice, api::ClientError>>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let session = use_session();
    let id = inv.id.to_string();
    let reason = RwSignal::new(String::new());
    let form = Form::new();
    let send = form.action(
        move |(id, body): &(String, CancelInvoice)| {
            let (id, body) = (id.clone(), body.clone());
            async move { admin::cancel_invoice(session, &id, body).await }
        },
        move |i: Invoice| {
            notice.set(Some(format!("{} is cancelled.", number_of(&i.number))));
            invoice.refetch();
        },
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        notice.set(None);
        let body = CancelInvoice { reason: reason.get_untracked().trim().to_string() };
        if form.check(&body) {
            send.dispatch_local((id.clone(), body));
        }
    };
    let owed = (inv.paid_minor > 0).then(|| format!("{} was paid on it already.", money(inv.paid_minor, inv.currency)));
    view! {
        <form class="card stack-form" on:submit=submit novalidate data-testid="cancel-invoice">
            <h2>"Cancel the invoice"</h2>
            <p class="muted small">"It keeps its number and shows as cancelled; nothing more is owed on it."</p>
            {owed.map(|o| view! { <p class="muted small">{o}</p> })}
            <ErrorBanner message=form.banner/>
            <Field label="Reason" name="reason" value=reason errors=form.errors/>
            <Submit pending=send.pending() label="Cancel invoice" busy="Cancelling…" class="btn btn-outline btn-danger"/>
        </form>
    }
}
