//! Admin: manual invoices. "New invoice" on the invoice list (the client picked by e-mail, the
//! currency among the shop's, the first lines) makes a draft and opens it; a draft's page edits
//! its lines (added, removed, changed, then saved as a whole), issues it or deletes it.
//!
//! Lines are typed as people think of them: the unit price in major units ("49.99", turned into
//! minor units with the currency's exponent) and the tax rate in percent ("20" → 2000 basis
//! points). The API works out each line's tax and the totals; the document under the editor shows
//! them once saved.

use std::collections::BTreeMap;

use keel_shared::auth::{ClientFilter, ClientSummary};
use keel_shared::billing::{DraftLine, DraftLines, Invoice, InvoiceLine, NewInvoice};
use keel_shared::money::{div_round_half_away, Currency};
use keel_shared::PageQuery;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use super::prices::Keep;
use crate::api::{self, admin, ClientError};
use crate::components::amounts::{format_decimal, parse_decimal, parse_percent, percent_text};
use crate::components::feedback::ErrorBanner;
use crate::components::form::{FieldError, FieldErrors, Form, Submit};
use crate::components::invoices::number_of;
use crate::session::use_session;

/// One line as typed.
#[derive(Clone, Copy)]
pub struct LineRow {
    description: RwSignal<String>,
    quantity: RwSignal<String>,
    unit: RwSignal<String>,
    rate: RwSignal<String>,
}

impl LineRow {
    fn blank() -> Self {
        LineRow {
            description: RwSignal::new(String::new()),
            quantity: RwSignal::new("1".into()),
            unit: RwSignal::new(String::new()),
            rate: RwSignal::new("0".into()),
        }
    }

    fn of(l: &DraftLine, currency: Currency) -> Self {
        LineRow {
            description: RwSignal::new(l.description.clone()),
            quantity: RwSignal::new(l.quantity.to_string()),
            unit: RwSignal::new(format_decimal(l.unit_minor, currency.exponent())),
            rate: RwSignal::new(percent_text(l.tax_rate_bp)),
        }
    }
}

/// A line's tax at `rate_bp` as the API works it out (half away from zero).
fn tax_at(net: i64, rate_bp: u32) -> i64 {
    i64::try_from(div_round_half_away(i128::from(net) * i128::from(rate_bp), 10_000)).unwrap_or(i64::MAX)
}

/// The tax rate of a line of `net` whose tax is `tax`: the first of `rates` that gives that tax,
/// else the rate the amounts imply (to the nearest basis point).
fn rate_of(net: i64, tax: i64, rates: &[u32]) -> u32 {
    if tax == 0 {
        return 0;
    }
    rates
        .iter()
        .copied()
        .find(|r| tax_at(net, *r) == tax)
        .unwrap_or_else(|| u32::try_from(div_round_half_away(i128::from(tax) * 10_000, i128::from(net.max(1)))).unwrap_or(0))
}

/// A draft's lines as staff wrote them. An invoice line keeps its tax, not its rate: the rate is
/// the invoice's tax rate that gives that tax (a draft has one tax line per rate), else the rate
/// the amounts imply.
pub fn draft_lines_of(inv: &Invoice) -> Vec<DraftLine> {
    let rates: Vec<u32> = inv.tax_lines.iter().map(|t| t.rate_bp).collect();
    inv.lines
        .iter()
        .map(|l: &InvoiceLine| DraftLine {
            description: l.description.clone(),
            quantity: l.quantity,
            unit_minor: l.unit_minor,
            tax_rate_bp: rate_of(l.unit_minor.saturating_mul(i64::from(l.quantity)), l.tax_minor, &rates),
        })
        .collect()
}

/// The lines typed in `rows`, in `currency`. A field that does not read puts its message under
/// `lines[i].<field>` in `errors` (the API's names).
fn read_lines(rows: &[LineRow], currency: Currency, errors: &mut BTreeMap<String, Vec<String>>) -> Vec<DraftLine> {
    let exp = currency.exponent();
    let mut out = Vec::with_capacity(rows.len());
    for (i, r) in rows.iter().enumerate() {
        let mut bad = |field: &str, message: String| errors.insert(format!("lines[{i}].{field}"), vec![message]);
        let quantity = r.quantity.get_untracked().trim().parse::<u32>().ok();
        if quantity.is_none() {
            bad("quantity", "a whole number".into());
        }
        let unit = parse_decimal(&r.unit.get_untracked(), exp);
        if unit.is_none() {
            bad("unit_minor", format!("an amount like {}", format_decimal(4999, exp)));
        }
        let rate = parse_percent(&r.rate.get_untracked());
        if rate.is_none() {
            bad("tax_rate_bp", "a percentage from 0 to 100, like 20 or 7.5".into());
        }
        if let (Some(quantity), Some(unit_minor), Some(tax_rate_bp)) = (quantity, unit, rate) {
            out.push(DraftLine { description: r.description.get_untracked().trim().to_string(), quantity, unit_minor, tax_rate_bp });
        }
    }
    out
}

/// The lines editor: one row per line (description, quantity, unit price, tax rate), "Add a line"
/// and "Remove" per row. Messages are placed by the API's paths (`lines[1].unit_minor`).
#[component]
fn LinesEditor(rows: RwSignal<Vec<LineRow>>, currency: Signal<Currency>, errors: FieldErrors, keep: Keep) -> impl IntoView {
    let cell = move |i: usize, field: &'static str, label: &'static str, value: RwSignal<String>, mode: &'static str| {
        let name = format!("lines[{i}].{field}");
        let id = format!("f-lines-{i}-{field}");
        let error = move || errors.with(|e| e.get(&name).and_then(|v| v.first().cloned()));
        let invalid = error.clone();
        view! {
            <td class:has-error=move || invalid().is_some()>
                <input id=id type="text" inputmode=mode aria-label=label bind:value=value/>
                {move || error().map(|m| view! { <p class="field-error">{m}</p> })}
            </td>
        }
    };
    view! {
        <div class="table-card lines-editor">
            <table class="table" data-testid="lines-editor">
                <thead><tr>
                    <th>"Description"</th><th class="num">"Qty"</th>
                    <th class="num">{move || format!("Unit price ({})", currency.get().code())}</th>
                    <th class="num">"Tax %"</th><th></th>
                </tr></thead>
                <tbody>
                    {move || {
                        let list = rows.get();
                        if list.is_empty() {
                            return view! { <tr><td colspan="5" class="muted">"No lines yet."</td></tr> }.into_any();
                        }
                        list.into_iter().enumerate().map(|(i, r)| view! {
                            <tr data-testid=format!("line-{i}")>
                                {cell(i, "description", "Description", r.description, "text")}
                                {cell(i, "quantity", "Quantity", r.quantity, "numeric")}
                                {cell(i, "unit_minor", "Unit price", r.unit, "decimal")}
                                {cell(i, "tax_rate_bp", "Tax rate in percent", r.rate, "decimal")}
                                <td class="row-actions">
                                    <button class="btn btn-ghost btn-sm" type="button" data-testid="remove-line" on:click=move |_| {
                                        errors.set(BTreeMap::new());
                                        rows.update(|v| { v.remove(i); });
                                    }>"Remove"</button>
                                </td>
                            </tr>
                        }).collect_view().into_any()
                    }}
                </tbody>
            </table>
        </div>
        <FieldError name="lines" errors=errors/>
        <div>
            <button class="btn btn-outline btn-sm" type="button" data-testid="add-line"
                on:click=move |_| { let row = keep.make(LineRow::blank); rows.update(|v| v.push(row)); }>"Add a line"</button>
        </div>
    }
}

/// Picks a client by e-mail (or name): the clients whose address starts with what is typed, as
/// the clients page searches them.
#[component]
fn ClientPicker(chosen: RwSignal<Option<ClientSummary>>, errors: FieldErrors) -> impl IntoView {
    let session = use_session();
    let q = RwSignal::new(String::new());
    let found = LocalResource::new(move || {
        let q = q.get().trim().to_string();
        async move {
            if q.is_empty() {
                return None;
            }
            let filter = ClientFilter { q: Some(q), paging: PageQuery::numbered(1, 6) };
            Some(admin::clients(session, filter).await.map(|p| p.items))
        }
    });
    let results = move || {
        found.get().flatten().map(|got| match got {
            Ok(list) if list.is_empty() => view! { <p class="muted small">"No client matches."</p> }.into_any(),
            Ok(list) => view! {
                <ul class="client-results" data-testid="client-results">
                    {list.into_iter().map(|c| {
                        let (name, email) = (format!("{} {}", c.first_name, c.last_name), c.email.clone());
                        view! {
                            <li><button type="button" class="client-option" data-testid="client-option" on:click=move |_| {
                                errors.update(|e| { e.remove("account_id"); });
                                chosen.set(Some(c.clone()));
                            }>
                                <strong>{name}</strong><span class="muted">{email}</span>
                            </button></li>
                        }
                    }).collect_view()}
                </ul>
            }
            .into_any(),
            Err(e) => view! { <p class="field-error">{e.message()}</p> }.into_any(),
        })
    };
    view! {
        <div class="field client-picker" class:has-error=move || errors.with(|e| e.contains_key("account_id"))>
            <label for="f-client">"Client"</label>
            {move || match chosen.get() {
                Some(c) => view! {
                    <div class="chosen-client" data-testid="chosen-client">
                        <span><strong>{format!("{} {}", c.first_name, c.last_name)}</strong>" "<span class="muted">{c.email.clone()}</span></span>
                        <button class="btn btn-ghost btn-sm" type="button" on:click=move |_| chosen.set(None)>"Change"</button>
                    </div>
                }
                .into_any(),
                None => view! {
                    <input id="f-client" type="search" autocomplete="off" placeholder="Type the client's e-mail address" bind:value=q/>
                    {results}
                }
                .into_any(),
            }}
            <FieldError name="account_id" errors=errors/>
        </div>
    }
}

/// "New invoice": a draft for a client, opened once made.
#[component]
pub fn NewInvoiceForm(on_close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let keep = Keep::here();
    let client = RwSignal::new(None::<ClientSummary>);
    let currency = RwSignal::new(None::<Currency>);
    let rows = RwSignal::new(vec![LineRow::blank()]);
    // The shop's currencies (from the public catalog, which any staff member may read); the default
    // one first chosen.
    let shop = LocalResource::new(api::catalog::currencies);
    Effect::new(move || {
        if let Some(Ok((_, default))) = shop.get() {
            if currency.get_untracked().is_none() {
                currency.set(Some(default));
            }
        }
    });
    let chosen = Signal::derive(move || currency.get().unwrap_or_default());
    let form = Form::new();
    let create = form.action(
        move |body: &NewInvoice| admin::create_invoice(session, body.clone()),
        move |inv: Invoice| navigate(&format!("/admin/invoices/{}", inv.id), NavigateOptions::default()),
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let mut errors = BTreeMap::new();
        let c = chosen.get_untracked();
        let lines = read_lines(&rows.get_untracked(), c, &mut errors);
        let Some(account) = client.get_untracked() else {
            errors.insert("account_id".into(), vec!["choose a client".into()]);
            form.errors.set(errors);
            return;
        };
        if !errors.is_empty() {
            form.errors.set(errors);
            return;
        }
        let body = NewInvoice { account_id: account.id, currency: c, lines };
        if form.check(&body) {
            create.dispatch_local(body);
        }
    };
    let options = move || {
        let codes: Vec<Currency> = match shop.get() {
            Some(Ok((codes, _))) => codes,
            Some(Err(_)) => Currency::all().collect(),
            None => Vec::new(),
        };
        codes.into_iter().map(|c| view! { <option value=c.code() selected=move || chosen.get() == c>{c.code()}</option> }).collect_view()
    };
    view! {
        <form class="card stack-form new-invoice" on:submit=submit novalidate data-testid="new-invoice">
            <h2>"New invoice"</h2>
            <p class="muted small">"A draft: the client does not see it until it is issued. Lines can still change after this."</p>
            <ErrorBanner message=form.banner/>
            <div class="field-row">
                <ClientPicker chosen=client errors=form.errors/>
                <div class="field">
                    <label for="f-currency">"Currency"</label>
                    <select id="f-currency" on:change=move |ev| if let Some(c) = Currency::parse(&event_target_value(&ev)) { currency.set(Some(c)) }>
                        {options}
                    </select>
                    <FieldError name="currency" errors=form.errors/>
                </div>
            </div>
            <LinesEditor rows=rows currency=chosen errors=form.errors keep=keep/>
            <div class="row-actions left">
                <Submit pending=create.pending() label="Create draft" busy="Creating…"/>
                <button class="btn btn-ghost" type="button" on:click=move |_| on_close()>"Cancel"</button>
            </div>
        </form>
    }
}

/// A draft's lines with "Save lines", "Issue invoice" (which saves changed lines first) and
/// "Delete draft" (asked twice).
#[component]
pub fn DraftEditor(inv: Invoice, invoice: LocalResource<Result<Invoice, ClientError>>, notice: RwSignal<Option<String>>) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let keep = Keep::here();
    let (id, currency) = (inv.id.to_string(), inv.currency);
    let saved = StoredValue::new(draft_lines_of(&inv));
    let rows = RwSignal::new(saved.with_value(|l| l.iter().map(|l| LineRow::of(l, currency)).collect::<Vec<_>>()));
    let form = Form::new();
    let save = form.action(
        move |(id, body): &(String, DraftLines)| {
            let (id, body) = (id.clone(), body.clone());
            async move { admin::save_draft_lines(session, &id, body).await }
        },
        move |_: Invoice| {
            notice.set(Some("Lines saved.".into()));
            invoice.refetch();
        },
    );
    // Issuing saves the lines first when they changed, so what is issued is what is shown.
    let issue = form.action(
        move |(id, lines): &(String, Option<DraftLines>)| {
            let (id, lines) = (id.clone(), lines.clone());
            async move {
                if let Some(body) = lines {
                    admin::save_draft_lines(session, &id, body).await?;
                }
                admin::issue_invoice(session, &id).await
            }
        },
        move |i: Invoice| {
            notice.set(Some(format!("Invoice {} issued and e-mailed to the client.", number_of(&i.number))));
            invoice.refetch();
        },
    );
    let deleting = RwSignal::new(false);
    let confirm_delete = RwSignal::new(false);
    let busy = move || save.pending().get() || issue.pending().get() || deleting.get();
    // The lines as typed, checked; `None` (with the messages shown) when something is wrong.
    let read = move || {
        notice.set(None);
        let mut errors = BTreeMap::new();
        let lines = read_lines(&rows.get_untracked(), currency, &mut errors);
        if !errors.is_empty() {
            form.errors.set(errors);
            return None;
        }
        let body = DraftLines { lines };
        form.check(&body).then_some(body)
    };
    let id_save = id.clone();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if let Some(body) = read() {
            save.dispatch_local((id_save.clone(), body));
        }
    };
    let id_issue = id.clone();
    let issue_now = move |_| {
        if let Some(body) = read() {
            let changed = saved.with_value(|s| *s != body.lines);
            issue.dispatch_local((id_issue.clone(), changed.then_some(body)));
        }
    };
    let delete = move |_| {
        let (id, navigate) = (id.clone(), navigate.clone());
        deleting.set(true);
        form.banner.set(None);
        spawn_local(async move {
            match admin::delete_invoice(session, &id).await {
                Ok(()) => navigate("/admin/invoices", NavigateOptions::default()),
                Err(e) => {
                    form.fail(e);
                    deleting.set(false);
                    confirm_delete.set(false);
                }
            }
        });
    };
    view! {
        <form class="card stack-form draft-editor" on:submit=submit novalidate data-testid="draft-editor">
            <h2>"Draft lines"</h2>
            <p class="muted small">{format!(
                "Prices in {} before tax. The client sees the invoice once it is issued; from then on it never changes.",
                currency.code()
            )}</p>
            <ErrorBanner message=form.banner/>
            <LinesEditor rows=rows currency=Signal::derive(move || currency) errors=form.errors keep=keep/>
            <div class="row-actions left draft-actions">
                <button class="btn btn-outline" type="submit" data-testid="save-lines" disabled=busy>
                    {move || if save.pending().get() { "Saving…" } else { "Save lines" }}
                </button>
                <button class="btn btn-primary" type="button" data-testid="issue-invoice" disabled=busy on:click=issue_now>
                    {move || if issue.pending().get() { "Issuing…" } else { "Issue invoice" }}
                </button>
                <span class="spacer"></span>
                <button class="btn btn-outline btn-danger" type="button" data-testid="delete-draft" disabled=busy
                    class:hidden=move || confirm_delete.get() on:click=move |_| confirm_delete.set(true)>"Delete draft"</button>
                <span class="confirm-delete" data-testid="confirm-delete" class:hidden=move || !confirm_delete.get()>
                    <span class="muted small">"Delete this draft for good?"</span>
                    <button class="btn btn-outline btn-danger btn-sm" type="button" data-testid="delete-draft-yes" disabled=busy on:click=delete>
                        {move || if deleting.get() { "Deleting…" } else { "Delete draft" }}
                    </button>
                    <button class="btn btn-ghost btn-sm" type="button" on:click=move |_| confirm_delete.set(false)>"Keep it"</button>
                </span>
            </div>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taxes_round_half_away_from_zero() {
        assert_eq!(tax_at(10_000, 2000), 2000);
        assert_eq!(tax_at(1, 5000), 1);
        assert_eq!(tax_at(999, 997), 100);
    }

    #[test]
    fn a_lines_rate_is_found_again_from_its_tax() {
        // 2 × 50.00 at 20 %, 30.00 untaxed, 0.01 at 20 % (its tax rounds to 0: read as untaxed).
        assert_eq!(rate_of(10_000, 2000, &[700, 2000]), 2000);
        assert_eq!(rate_of(3000, 0, &[2000]), 0);
        assert_eq!(rate_of(1, 0, &[2000]), 0);
        // Both rates give the same tax on a tiny amount: either is right.
        assert_eq!(rate_of(3, 1, &[2000, 2500]), 2000);
        // Not among the invoice's rates: the rate the amounts imply.
        assert_eq!(rate_of(10_000, 997, &[]), 997);
    }
}
