//! Admin: every invoice (status filter, number search, the client) with "New invoice" (a manual
//! draft, see `drafts`), and one invoice with what a `billing.write` holder may do to it: edit,
//! issue or delete a draft; record a payment that arrived by bank transfer (typed in major units,
//! turned into minor units with the currency's exponent); refund part or all of a payment through
//! its gateway (a credit note documents it); e-mail the client a reminder; cancel it with a
//! reason. Anyone who may read it downloads it as a PDF or a UBL e-invoice.

use keel_shared::access::Permission;
use keel_shared::billing::{CancelInvoice, Invoice, InvoiceFilter, InvoiceStatus, Payment, RecordPayment, RefundRequest};
use keel_shared::ids::UserId;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::drafts::{DraftEditor, NewInvoiceForm};
use super::prices::{format_decimal, parse_decimal};
use crate::api::{self, admin, RetryKey};
use crate::components::feedback::{loaded, ErrorBanner, Notice};
use crate::components::form::{Field, Form, Submit};
use crate::components::invoices::{invoice_document, invoice_filters, invoice_table, number_of, PdfButton, UblButton};
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
    let creating = RwSignal::new(false);
    view! {
        <header class="page-head">
            <div><h1>"Invoices"</h1><p class="muted">"Every invoice, newest first. Open one to record a bank transfer, refund a payment or cancel it."</p></div>
            <div class="row-actions">
                {session.can(Permission::BillingWrite).then(|| view! {
                    <button class="btn btn-primary" type="button" data-testid="new-invoice-open" disabled=move || creating.get()
                        on:click=move |_| creating.set(true)>"New invoice"</button>
                })}
                <button class="btn btn-outline" type="button" on:click=move |_| invoices.refetch()>"Refresh"</button>
            </div>
        </header>
        <Show when=move || creating.get()>
            <NewInvoiceForm on_close=move || creating.set(false)/>
        </Show>
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
    let banner = RwSignal::new(None::<String>);
    // Something done since clears a refusal shown before (a download's, a reminder's).
    Effect::new(move || {
        if notice.with(Option::is_some) {
            banner.set(None);
        }
    });
    view! {
        <Notice message=notice/>
        <ErrorBanner message=banner/>
        {loaded(invoice, move |inv: Invoice| {
            let number = number_of(&inv.number);
            let may = session.can(Permission::BillingWrite);
            let (open, draft) = (inv.status.is_open(), inv.status == InvoiceStatus::Draft);
            let refundable = inv.payments.iter().any(|p| p.refund_of.is_none() && p.amount_minor > 0);
            let (client, buyer, order) = (format!("/admin/clients/{}", inv.account_id), inv.buyer.name.clone(), inv.order_id.clone());
            let id = inv.id.to_string();
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
                        {(may && open).then(|| remind_button(id.clone(), inv.buyer.email.clone(), notice, banner))}
                        <PdfButton session=session id=id.clone() number=number.clone() admin=true/>
                        {(!draft).then(|| view! { <UblButton session=session id=id.clone() number=number.clone() admin=true banner=banner/> })}
                        <a href="/admin/invoices" class="btn btn-outline">"All invoices"</a>
                    </div>
                </header>
                {(may && draft).then(|| view! { <DraftEditor inv=inv.clone() invoice=invoice notice=notice/> })}
                {(may && (open || refundable)).then(|| view! {
                    <div class="grid-2 invoice-actions" data-testid="invoice-actions">
                        {open.then(|| record_payment(&inv, invoice, notice))}
                        {refundable.then(|| refunds(&inv, invoice, notice))}
                        {(open && inv.paid_minor == 0).then(|| cancel_invoice(&inv, invoice, notice))}
                    </div>
                })}
                {invoice_document(&inv)}
            }
        })}
    }
}

/// "Send reminder": e-mails the client a reminder of what is owed (the overdue wording once it is
/// overdue).
fn remind_button(id: String, email: Option<String>, notice: RwSignal<Option<String>>, banner: RwSignal<Option<String>>) -> impl IntoView {
    let session = use_session();
    let busy = RwSignal::new(false);
    let send = move |_| {
        let (id, email) = (id.clone(), email.clone());
        busy.set(true);
        notice.set(None);
        banner.set(None);
        spawn_local(async move {
            match admin::remind_invoice(session, &id).await {
                Ok(()) => notice.set(Some(match email {
                    Some(e) => format!("Reminder e-mailed to {e}."),
                    None => "Reminder e-mailed to the client.".to_string(),
                })),
                Err(e) => banner.set(Some(e.message())),
            }
            busy.set(false);
        });
    };
    view! {
        <button class="btn btn-outline" type="button" data-testid="send-reminder" disabled=move || busy.get() on:click=send>
            {move || if busy.get() { "Sending…" } else { "Send reminder" }}
        </button>
    }
}

/// What is left of `p` to give back: its amount less the refunds of it (negative payments whose
/// `refund_of` is its id).
fn left_of(p: &Payment, payments: &[Payment]) -> i64 {
    p.amount_minor + payments.iter().filter(|r| r.refund_of.as_ref() == Some(&p.id)).map(|r| r.amount_minor).sum::<i64>()
}

/// "Refund a payment": each payment (not the refunds) with what is left of it and a "Refund"
/// button that opens its form.
fn refunds(inv: &Invoice, invoice: LocalResource<Result<Invoice, api::ClientError>>, notice: RwSignal<Option<String>>) -> impl IntoView {
    let open = RwSignal::new(None::<String>);
    let invoice_id = inv.id.to_string();
    let rows = inv
        .payments
        .iter()
        .filter(|p| p.refund_of.is_none() && p.amount_minor > 0)
        .map(|p| {
            let left = left_of(p, &inv.payments);
            let pid = p.id.to_string();
            let (toggle, shown) = (pid.clone(), pid.clone());
            let state = if left == p.amount_minor {
                money(p.amount_minor, p.currency)
            } else {
                format!("{} of {} left", money(left, p.currency), money(p.amount_minor, p.currency))
            };
            let (payment, invoice_id) = (p.clone(), invoice_id.clone());
            view! {
                <li class="refund-row" data-payment=pid>
                    <div class="refund-head">
                        <div class="line-desc">
                            <span>{p.gateway.label()}" "<code>{p.reference.clone()}</code></span>
                            <span class="muted small">{state}</span>
                        </div>
                        {if left > 0 {
                            view! {
                                <button class="btn btn-outline btn-sm" type="button" data-testid="refund-open"
                                    on:click=move |_| open.update(|o| *o = if o.as_deref() == Some(&toggle) { None } else { Some(toggle.clone()) })>
                                    "Refund"
                                </button>
                            }
                            .into_any()
                        } else {
                            view! { <span class="muted small">"Refunded in full"</span> }.into_any()
                        }}
                    </div>
                    <Show when=move || open.get().as_deref() == Some(shown.as_str())>
                        {refund_form(invoice_id.clone(), payment.clone(), left, invoice, notice)}
                    </Show>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card stack-form" data-testid="refunds">
            <h2>"Refund a payment"</h2>
            <p class="muted small">"Gives money back through the way it was paid (a card payment at the gateway, credit back to credit) and issues a credit note."</p>
            <ul class="refund-list">{rows}</ul>
        </section>
    }
}

/// The refund of one payment: the amount (prefilled with what is left of it, in major units) and
/// the reason, printed on the credit note.
fn refund_form(
    id: String,
    payment: Payment,
    left: i64,
    invoice: LocalResource<Result<Invoice, api::ClientError>>,
    notice: RwSignal<Option<String>>,
) -> impl IntoView {
    let session = use_session();
    let currency = payment.currency;
    let amount = RwSignal::new(format_decimal(left, currency.exponent()));
    let reason = RwSignal::new(String::new());
    let retry = RetryKey::new();
    let form = Form::new();
    let send = form.action(
        move |(id, body): &(String, RefundRequest)| {
            let (id, body) = (id.clone(), body.clone());
            async move { admin::refund(session, &id, &body, retry).await }
        },
        move |i: Invoice| {
            let note = i.credit_notes.last().map(|n| format!(": credit note {}", n.number)).unwrap_or_default();
            notice.set(Some(format!("Refund recorded{note}.")));
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
        let body = RefundRequest { payment_id: payment.id.clone(), amount_minor: minor, reason: reason.get_untracked().trim().to_string() };
        if form.check(&body) {
            send.dispatch_local((id.clone(), body));
        }
    };
    view! {
        <form class="stack-form refund-form" on:submit=submit novalidate data-testid="refund-form">
            <ErrorBanner message=form.banner/>
            <div class="field-row">
                <Field label="Amount" name="amount_minor" value=amount errors=form.errors hint="Up to what is left of the payment."/>
                <Field label="Reason" name="reason" value=reason errors=form.errors hint="Printed on the credit note."/>
            </div>
            <Submit pending=send.pending() label="Refund" busy="Refunding…" class="btn btn-outline btn-danger"/>
        </form>
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

/// "Cancel invoice", with the reason the client is told (only while nothing was paid on it: a paid
/// amount is refunded instead).
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
    view! {
        <form class="card stack-form" on:submit=submit novalidate data-testid="cancel-invoice">
            <h2>"Cancel the invoice"</h2>
            <p class="muted small">"It keeps its number and shows as cancelled; nothing more is owed on it."</p>
            <ErrorBanner message=form.banner/>
            <Field label="Reason" name="reason" value=reason errors=form.errors/>
            <Submit pending=send.pending() label="Cancel invoice" busy="Cancelling…" class="btn btn-outline btn-danger"/>
        </form>
    }
}
