//! Invoices as the portal and the back office show them: the status pill, the list's filters and
//! table, one invoice laid out as a document (seller, bill-to, lines, taxes, totals, payments,
//! credit notes), credit balances and their ledger, and the "Download PDF" and "Download
//! e-invoice (UBL)" buttons (the files need the bearer token, so they are fetched as bytes and
//! handed to the browser as an object URL).
//!
//! Amounts are always the API's (`*_minor` in the invoice's currency); nothing here adds money.

use chrono::{Datelike, NaiveDate};
use keel_shared::billing::{Credit, CreditEntry, CreditNote, Invoice, InvoiceLine, InvoiceStatus, InvoiceSummary, Party, Payment};
use keel_shared::Page;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;

use super::feedback::{Empty, Pager};
use super::shop::money;
use super::when;
use crate::session::SessionCtx;

pub fn status_pill(s: InvoiceStatus) -> impl IntoView {
    view! { <span class=format!("pill pill-invoice-{}", s.as_str()) data-testid="invoice-status">{s.label()}</span> }
}

/// A day as tables show it: `2026-11-24`.
pub fn day(d: NaiveDate) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
}

/// An invoice's number, or "Draft" before it is issued.
pub fn number_of(n: &Option<String>) -> String {
    n.clone().unwrap_or_else(|| "Draft".into())
}

/// The status filter and the number search above an invoice list.
pub fn invoice_filters(status: RwSignal<Option<InvoiceStatus>>, q: RwSignal<String>, page: RwSignal<u32>) -> impl IntoView {
    let options = std::iter::once(None)
        .chain(InvoiceStatus::ALL.iter().copied().map(Some))
        .map(|s| {
            let (value, label) = s.map_or(("", "All"), |s| (s.as_str(), s.label()));
            view! { <option value=value selected=move || status.get() == s>{label}</option> }
        })
        .collect_view();
    view! {
        <div class="toolbar">
            <label class="inline-field">"Status "
                <select data-testid="invoice-status-filter" on:change=move |ev| { status.set(InvoiceStatus::parse(&event_target_value(&ev))); page.set(1); }>{options}</select>
            </label>
            <label class="inline-field">"Number "
                <input type="search" placeholder="INV-2026-000001" data-testid="invoice-search" bind:value=q on:input=move |_| page.set(1)/>
            </label>
        </div>
    }
}

/// The invoices of a list; `base` is where one invoice opens (`/dashboard/invoices`,
/// `/admin/invoices`); `show_client` adds the buyer, linked to the client's page (back office).
pub fn invoice_table(list: Page<InvoiceSummary>, page: RwSignal<u32>, base: &'static str, show_client: bool) -> AnyView {
    if list.items.is_empty() {
        return view! { <Empty title="No invoices" hint="Invoices appear here once an order or a renewal is billed."/> }.into_any();
    }
    let (current, pages) = (list.page, list.total_pages.max(1));
    view! {
        <div class="card table-card">
            <table class="table" data-testid="invoices-table">
                <thead><tr>
                    <th>"Number"</th>
                    {show_client.then(|| view! { <th>"Client"</th> })}
                    <th>"Date"</th><th>"Due"</th><th>"Status"</th><th class="num">"Total"</th><th class="num">"Balance"</th>
                </tr></thead>
                <tbody>
                    {list.items.into_iter().map(|i| {
                        let (shown, number) = (number_of(&i.number), i.number.clone().unwrap_or_default());
                        view! {
                        <tr data-number=number>
                            <td><A href=format!("{base}/{}", i.id)>{shown}</A></td>
                            {show_client.then(|| view! { <td><A href=format!("/admin/clients/{}", i.account_id)>{i.buyer.clone()}</A></td> })}
                            <td>{day(i.created_at.date_naive())}</td>
                            <td>{day(i.due_on)}</td>
                            <td>{status_pill(i.status)}</td>
                            <td class="num">{money(i.total_minor, i.currency)}</td>
                            <td class="num">{money(i.balance_minor, i.currency)}</td>
                        </tr>
                    }}).collect_view()}
                </tbody>
            </table>
            <Pager page=page current=current pages=pages/>
        </div>
    }
    .into_any()
}

/// A seller or buyer as printed on the invoice.
fn party(p: &Party) -> impl IntoView {
    let lines: Vec<String> = p
        .company
        .iter()
        .cloned()
        .chain(p.address.iter().cloned())
        .chain(p.country.iter().cloned())
        .chain(p.tax_id.iter().map(|t| format!("Tax id {t}")))
        .chain(p.email.iter().cloned())
        .collect();
    view! {
        <address class="party">
            <strong>{p.name.clone()}</strong>
            {lines.into_iter().map(|l| view! { <span>{l}</span> }).collect_view()}
        </address>
    }
}

/// A line's service period: `2026-11-24 – 2026-12-23`.
fn period(l: &InvoiceLine) -> Option<String> {
    match (l.period_from, l.period_to) {
        (Some(a), Some(b)) => Some(format!("{} – {}", day(a), day(b))),
        (Some(a), None) => Some(format!("from {}", day(a))),
        (None, Some(b)) => Some(format!("until {}", day(b))),
        (None, None) => None,
    }
}

fn payments_table(payments: &[Payment]) -> impl IntoView {
    let rows = payments
        .iter()
        .map(|p| {
            view! {
                <tr>
                    <td>{when(p.created_at)}</td>
                    <td>{if p.amount_minor < 0 { format!("Refund · {}", p.gateway.label()) } else { p.gateway.label().to_string() }}</td>
                    <td><code>{p.reference.clone()}</code></td>
                    <td class="num" class:negative=p.amount_minor < 0>{money(p.amount_minor, p.currency)}</td>
                </tr>
            }
        })
        .collect_view();
    let refunds = payments.iter().any(|p| p.amount_minor < 0);
    view! {
        <section class="invoice-payments" data-testid="invoice-payments">
            <h3>{if refunds { "Payments and refunds" } else { "Payments received" }}</h3>
            <table class="table">
                <thead><tr><th>"Date"</th><th>"Method"</th><th>"Reference"</th><th class="num">"Amount"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}

/// The credit notes documenting refunds on an invoice, each with its PDF and UBL downloads.
fn credit_notes_table(invoice: &str, notes: &[CreditNote]) -> impl IntoView {
    let session = crate::session::use_session();
    // The back office's routes in the admin bundle, the client's elsewhere.
    let base = if crate::routes::bundle() == crate::routes::Bundle::Admin { "/admin/invoices" } else { "/invoices" };
    let rows = notes
        .iter()
        .map(|n| {
            let path = format!("{base}/{invoice}/credit-notes/{}", n.id);
            view! {
                <tr data-number=n.number.clone()>
                    <td><strong>{n.number.clone()}</strong></td>
                    <td>{day(n.created_at.date_naive())}</td>
                    <td class="clip" title=n.reason.clone()>{n.reason.clone()}</td>
                    <td class="num">{money(n.amount_minor, n.currency)}</td>
                    <td class="num">
                        {file_button(session, format!("{path}/pdf"), format!("{}.pdf", n.number), ("application/pdf", "PDF", "credit-note-pdf"), None)}
                        {file_button(session, format!("{path}/ubl"), format!("{}.xml", n.number), ("application/xml", "UBL", "credit-note-ubl"), None)}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="invoice-payments" data-testid="credit-notes">
            <h3>"Credit notes"</h3>
            <table class="table">
                <thead><tr><th>"Number"</th><th>"Date"</th><th>"Reason"</th><th class="num">"Amount"</th><th class="num">"Files"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}

/// One invoice as a document: who sells and who is billed, the lines with their periods, the tax
/// lines, totals, what was paid and what is still owed, the payments received (refunds as
/// negative payments) and the credit notes of the refunds.
pub fn invoice_document(inv: &Invoice) -> impl IntoView {
    let c = inv.currency;
    // The discount column only when a line has one.
    let discounts = inv.lines.iter().any(|l| l.discount_minor != 0);
    let lines = inv
        .lines
        .iter()
        .map(|l| {
            view! {
                <tr>
                    <td><div class="line-desc">
                        <span>{l.description.clone()}</span>
                        {period(l).map(|p| view! { <span class="muted line-period">{p}</span> })}
                    </div></td>
                    <td class="num">{l.quantity}</td>
                    <td class="num">{money(l.unit_minor, c)}</td>
                    {discounts.then(|| {
                        let d = if l.discount_minor != 0 { format!("−{}", money(l.discount_minor, c)) } else { String::new() };
                        view! { <td class="num">{d}</td> }
                    })}
                    <td class="num">{money(l.tax_minor, c)}</td>
                    <td class="num">{money(l.total_minor, c)}</td>
                </tr>
            }
        })
        .collect_view();
    let taxes = inv
        .tax_lines
        .iter()
        .map(|t| view! { <dt>{format!("{} ({}.{:02} %)", t.name, t.rate_bp / 100, t.rate_bp % 100)}</dt><dd>{money(t.amount_minor, c)}</dd> })
        .collect_view();
    view! {
        <article class="card invoice-doc" data-testid="invoice-document">
            <header class="invoice-doc-head">
                <div class="invoice-seller" data-testid="invoice-seller">{party(&inv.seller)}</div>
                <div class="invoice-meta">
                    <p class="eyebrow">"Invoice"</p>
                    <h2 data-testid="invoice-doc-number">{number_of(&inv.number)}</h2>
                    <dl class="details">
                        {inv.issued_at.map(|t| view! { <dt>"Issued"</dt><dd>{day(t.date_naive())}</dd> })}
                        <dt>"Due"</dt><dd>{day(inv.due_on)}</dd>
                        {inv.paid_at.map(|t| view! { <dt>"Paid"</dt><dd>{day(t.date_naive())}</dd> })}
                        <dt>"Status"</dt><dd>{status_pill(inv.status)}</dd>
                    </dl>
                </div>
            </header>
            <div class="invoice-billto" data-testid="invoice-buyer">
                <p class="eyebrow">"Bill to"</p>
                {party(&inv.buyer)}
            </div>
            <div class="table-card invoice-lines">
                <table class="table" data-testid="invoice-lines">
                    <thead><tr>
                        <th>"Description"</th><th class="num">"Qty"</th><th class="num">"Unit price"</th>
                        {discounts.then(|| view! { <th class="num">"Discount"</th> })}<th class="num">"Tax"</th><th class="num">"Amount"</th>
                    </tr></thead>
                    <tbody>{lines}</tbody>
                </table>
            </div>
            <div class="invoice-totals">
                <dl class="details" data-testid="invoice-totals">
                    <dt>"Subtotal"</dt><dd>{money(inv.subtotal_minor, c)}</dd>
                    {(inv.discount_minor != 0).then(|| view! { <dt>"Discount"</dt><dd>{format!("−{}", money(inv.discount_minor, c))}</dd> })}
                    {taxes}
                    {inv.reverse_charge.then(|| view! { <dt>"VAT"</dt><dd>"reverse charge"</dd> })}
                    <dt>"Total"</dt><dd data-testid="invoice-total"><strong>{money(inv.total_minor, c)}</strong></dd>
                    <dt>"Paid"</dt><dd data-testid="invoice-paid">{money(inv.paid_minor, c)}</dd>
                    <dt>"Balance due"</dt><dd data-testid="invoice-balance"><strong>{money(inv.balance_minor, c)}</strong></dd>
                </dl>
            </div>
            {inv.tax_inclusive.then(|| view! { <p class="muted small">"Prices include tax."</p> })}
            {inv.reverse_charge.then(|| view! { <p class="muted small">"Reverse charge: the customer accounts for the VAT."</p> })}
            {(!inv.payments.is_empty()).then(|| payments_table(&inv.payments))}
            {(!inv.credit_notes.is_empty()).then(|| credit_notes_table(inv.id.as_str(), &inv.credit_notes))}
        </article>
    }
}

/// The balance of `currency` in a credit (0 when there is none).
pub fn balance_in(credit: &Credit, currency: keel_shared::Currency) -> i64 {
    credit.balances.iter().find(|b| b.currency == currency).map_or(0, |b| b.balance_minor)
}

/// Credit balances per currency ("No credit" when there is none).
pub fn credit_balances(credit: &Credit) -> impl IntoView {
    let balances: Vec<_> = credit.balances.iter().filter(|b| b.balance_minor != 0).collect();
    if balances.is_empty() {
        return view! { <p class="muted" data-testid="credit-balances">"No credit."</p> }.into_any();
    }
    view! {
        <ul class="credit-balances" data-testid="credit-balances">
            {balances.into_iter().map(|b| view! {
                <li data-currency=b.currency.code()><span class="muted small">{b.currency.code()}</span><strong>{money(b.balance_minor, b.currency)}</strong></li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// A credit ledger's entries, newest first; `invoice_base` is where an entry's invoice opens.
pub fn credit_entries(entries: &[CreditEntry], invoice_base: &'static str) -> AnyView {
    if entries.is_empty() {
        return ().into_any();
    }
    view! {
        <div class="table-card">
            <table class="table" data-testid="credit-entries">
                <thead><tr><th>"When"</th><th>"Reason"</th><th>"Invoice"</th><th class="num">"Amount"</th></tr></thead>
                <tbody>
                    {entries.iter().map(|e| view! {
                        <tr>
                            <td>{when(e.created_at)}</td>
                            <td class="clip">{e.reason.clone()}</td>
                            <td>{e.invoice_id.clone().map(|id| view! { <A href=format!("{invoice_base}/{id}")>"Invoice"</A> })}</td>
                            <td class="num">{money(e.amount_minor, e.currency)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// Hands `bytes` to the browser as a file called `name` of type `mime` (a `Blob`, its object URL
/// and a download link). `Blob` and `URL` are reached through `js_sys::Reflect`: enabling
/// web-sys's `Blob` and `Url` features grew the storefront's wasm, which has no room to spare.
pub fn save_file(name: &str, mime: &str, bytes: &[u8]) -> Result<(), String> {
    use js_sys::{Array, Function, Object, Reflect, Uint8Array};
    use wasm_bindgen::{JsCast, JsValue};
    fn fail(e: JsValue) -> String {
        e.as_string().unwrap_or_else(|| format!("{e:?}"))
    }
    fn function(on: &JsValue, name: &str) -> Result<Function, String> {
        Reflect::get(on, &name.into()).map_err(fail)?.dyn_into::<Function>().map_err(|_| format!("no {name} here"))
    }
    let global: JsValue = js_sys::global().into();
    let kind = Object::new();
    Reflect::set(&kind, &"type".into(), &mime.into()).map_err(fail)?;
    let parts = Array::of1(&Uint8Array::from(bytes));
    let blob = Reflect::construct(&function(&global, "Blob")?, &Array::of2(&parts, &kind)).map_err(fail)?;
    let urls = Reflect::get(&global, &"URL".into()).map_err(fail)?;
    let url = function(&urls, "createObjectURL")?.call1(&urls, &blob).map_err(fail)?.as_string().unwrap_or_default();
    let doc = document();
    let a = doc.create_element("a").map_err(fail)?;
    let _ = a.set_attribute("href", &url);
    let _ = a.set_attribute("download", name);
    if let Some(body) = doc.body() {
        let _ = body.append_child(&a);
        if let Ok(el) = a.clone().dyn_into::<web_sys::HtmlElement>() {
            el.click();
        }
        let _ = body.remove_child(&a);
    }
    // The download has its own copy by then; the URL is released a while later.
    set_timeout(
        move || {
            if let Ok(revoke) = function(&urls, "revokeObjectURL") {
                let _ = revoke.call1(&urls, &url.into());
            }
        },
        std::time::Duration::from_secs(60),
    );
    Ok(())
}

/// A button that fetches the API's file at `path` (with the session's token) and saves it as
/// `name`. A refusal is shown in `banner` when given (the page's error banner), else beside the
/// button.
fn file_button(
    session: SessionCtx,
    path: String,
    name: String,
    (mime, label, testid): (&'static str, &'static str, &'static str),
    banner: Option<RwSignal<Option<String>>>,
) -> impl IntoView {
    let busy = RwSignal::new(false);
    let note = RwSignal::new(None::<String>);
    let say = move |m: Option<String>| match banner {
        Some(b) => b.set(m),
        None => note.set(m),
    };
    let download = move |_| {
        let (path, name) = (path.clone(), name.clone());
        busy.set(true);
        say(None);
        spawn_local(async move {
            match crate::api::authed_bytes(session, &path).await {
                Ok(bytes) => {
                    if let Err(e) = save_file(&name, mime, &bytes) {
                        say(Some(format!("The browser could not save the file ({e}).")));
                    }
                }
                Err(e) => say(Some(e.message())),
            }
            busy.set(false);
        });
    };
    view! {
        <span class="pdf-button">
            <button class="btn btn-outline" type="button" data-testid=testid disabled=move || busy.get() on:click=download>
                {move || if busy.get() { "Preparing…" } else { label }}
            </button>
            {move || note.get().map(|n| view! { <span class="field-error" role="alert">{n}</span> })}
        </span>
    }
}

/// The API path of an invoice's file (`pdf` or `ubl`): the back office's route with `admin`.
fn invoice_file(id: &str, admin: bool, file: &str) -> String {
    let base = if admin { "/admin/invoices" } else { "/invoices" };
    format!("{base}/{}/{file}", crate::api::percent_encode(id))
}

/// "Download PDF": fetches the invoice's PDF (the client's route, or the back office's with
/// `admin`) and saves it as `<number>.pdf`.
#[component]
pub fn PdfButton(session: SessionCtx, id: String, number: String, #[prop(optional)] admin: bool) -> impl IntoView {
    file_button(
        session,
        invoice_file(&id, admin, "pdf"),
        format!("{number}.pdf"),
        ("application/pdf", "Download PDF", "download-pdf"),
        None,
    )
}

/// "Download e-invoice (UBL)": fetches the invoice as UBL XML and saves it as `<number>.xml`. When
/// the API refuses (409 `einvoice_incomplete`: the seller has no VAT id …), its detail goes to
/// `banner`.
#[component]
pub fn UblButton(
    session: SessionCtx,
    id: String,
    number: String,
    #[prop(optional)] admin: bool,
    banner: RwSignal<Option<String>>,
) -> impl IntoView {
    file_button(
        session,
        invoice_file(&id, admin, "ubl"),
        format!("{number}.xml"),
        ("application/xml", "Download e-invoice (UBL)", "download-ubl"),
        Some(banner),
    )
}
