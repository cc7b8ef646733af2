//! Prices as the back office types them: one table of rows (cycle, currency, amount, setup fee,
//! renewal) used for products, option values and add-ons alike. Amounts are typed in major units
//! ("19.99") and turned into minor units with the currency's exponent by integer arithmetic on the
//! decimal string, never through floats.

use std::collections::BTreeMap;

use keel_shared::catalog::{BillingCycle, Price};
use keel_shared::money::Currency;
use leptos::prelude::*;

use crate::components::form::{messages_under, FieldErrors};

pub use crate::components::amounts::{format_decimal, parse_decimal};

/// "$19.99".
pub fn money(value: i64, currency: Currency) -> String {
    format!("{}{}", currency.symbol(), format_decimal(value, currency.exponent()))
}

/// "$4.99/mo, $49.99/yr + $5.00 setup": prices in one line, for lists.
pub fn prices_text(prices: &[Price]) -> String {
    prices
        .iter()
        .map(|p| {
            let setup = if p.setup_fee_minor > 0 { format!(" + {} setup", money(p.setup_fee_minor, p.currency)) } else { String::new() };
            format!("{}{}{setup}", money(p.amount_minor, p.currency), p.cycle.per())
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// One row of a prices table, as typed.
#[derive(Clone, Copy)]
pub struct PriceRow {
    pub cycle: RwSignal<String>,
    pub currency: RwSignal<String>,
    amount: RwSignal<String>,
    setup: RwSignal<String>,
    renewal: RwSignal<String>,
}

impl PriceRow {
    /// The row of `p`, or an empty monthly row in `default_currency`.
    pub fn new(p: Option<&Price>, default_currency: &str) -> Self {
        let exp = p.map(|p| p.currency.exponent()).unwrap_or(2);
        PriceRow {
            cycle: RwSignal::new(p.map(|p| p.cycle.as_str()).unwrap_or("monthly").to_string()),
            currency: RwSignal::new(p.map(|p| p.currency.code().to_string()).unwrap_or_else(|| default_currency.to_string())),
            amount: RwSignal::new(p.map(|p| format_decimal(p.amount_minor, exp)).unwrap_or_default()),
            setup: RwSignal::new(p.map(|p| format_decimal(p.setup_fee_minor, exp)).unwrap_or_else(|| "0".into())),
            renewal: RwSignal::new(p.and_then(|p| p.renewal_minor).map(|r| format_decimal(r, exp)).unwrap_or_default()),
        }
    }

    /// An empty row for `cycle` in `currency` (the amount still to type).
    pub fn blank(cycle: &str, currency: &str) -> Self {
        let row = PriceRow::new(None, currency);
        row.cycle.set(cycle.to_string());
        row
    }
}

/// The owner that signals made after a form was drawn (a row or an item added by a click) belong
/// to: the form's own. A click handler runs under the owner of the list drawn around it, which
/// disposes of everything made in it when the list is drawn again (after a move or a removal),
/// while the form still holds the new row.
#[derive(Clone, Copy)]
pub struct Keep(StoredValue<Owner>);

impl Keep {
    /// The current owner: call it in the form's component.
    pub fn here() -> Self {
        Keep(StoredValue::new(Owner::current().unwrap_or_default()))
    }

    /// Runs `f` (which makes signals) under the kept owner.
    pub fn make<T>(self, f: impl FnOnce() -> T) -> T {
        let owner = self.0.get_value();
        owner.with(f)
    }
}

/// The rows of `prices`.
pub fn rows_of(prices: &[Price], default_currency: &str) -> Vec<PriceRow> {
    prices.iter().map(|p| PriceRow::new(Some(p), default_currency)).collect()
}

/// The prices typed in `rows`. A field that does not read puts its message under
/// `{prefix}[i].{field}` in `errors` (the API's names), and its row is left out.
pub fn read_prices(rows: &[PriceRow], prefix: &str, errors: &mut BTreeMap<String, Vec<String>>) -> Vec<Price> {
    let mut prices = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let cycle = BillingCycle::parse(&r.cycle.get_untracked()).unwrap_or(BillingCycle::Monthly);
        let Some(currency) = Currency::parse(&r.currency.get_untracked()) else {
            errors.insert(format!("{prefix}[{i}].currency"), vec!["choose a currency".to_string()]);
            continue;
        };
        let exp = currency.exponent();
        let bad = format!("an amount like {}", format_decimal(1999 * 10i64.pow(exp) / 100, exp));
        let mut amount = |field: &str, text: String, optional: bool| -> Option<Option<i64>> {
            if optional && text.trim().is_empty() {
                return Some(None);
            }
            match parse_decimal(&text, exp) {
                Some(v) => Some(Some(v)),
                None => {
                    errors.insert(format!("{prefix}[{i}].{field}"), vec![bad.clone()]);
                    None
                }
            }
        };
        let a = amount("amount_minor", r.amount.get_untracked(), false);
        let s = amount("setup_fee_minor", r.setup.get_untracked(), true);
        let n = amount("renewal_minor", r.renewal.get_untracked(), true);
        if let (Some(Some(a)), Some(s), Some(n)) = (a, s, n) {
            prices.push(Price { cycle, currency, amount_minor: a, setup_fee_minor: s.unwrap_or(0), renewal_minor: n });
        }
    }
    prices
}

/// A prices table with its "Add a price" button. `prefix` is the list's field path (`prices`,
/// `options[0].values[1].prices`): messages about a row (from the browser's checks or the API's
/// problem) are shown under it, and those about the whole list above the table. Amount inputs
/// carry `data-testid="price-<cycle>-<currency>-amount"`.
#[component]
pub fn PriceTable(
    rows: RwSignal<Vec<PriceRow>>,
    /// The shop's currency codes, the default first or as the API lists them.
    codes: StoredValue<Vec<String>>,
    default_currency: StoredValue<String>,
    prefix: String,
    errors: FieldErrors,
    keep: Keep,
    #[prop(optional)] testid: Option<&'static str>,
) -> impl IntoView {
    let list_prefix = prefix.clone();
    let list_error = move || errors.with(|e| e.get(&list_prefix).map(|m| m.join("; "))).map(|m| view! { <p class="field-error">{m}</p> });
    let add_row = move |_| {
        let row = keep.make(|| PriceRow::new(None, &default_currency.read_value()));
        rows.update(|r| r.push(row));
    };
    view! {
        {list_error}
        <table class="table" data-testid=testid>
            <thead><tr><th>"Cycle"</th><th>"Currency"</th><th>"Amount"</th><th>"Setup fee"</th><th>"Renewal"</th><th></th></tr></thead>
            <tbody>
                {move || {
                    rows.get().into_iter().enumerate().map(|(i, r)| {
                        let tid = move |what: &str| format!("price-{}-{}-{what}", r.cycle.get_untracked(), r.currency.get_untracked());
                        let row_prefix = format!("{prefix}[{i}]");
                        view! {
                            <tr>
                                <td><select bind:value=r.cycle aria-label="Cycle">
                                    {BillingCycle::ALL.iter().map(|c| view! { <option value=c.as_str()>{c.as_str().replace('_', " ")}</option> }).collect_view()}
                                </select></td>
                                <td><select bind:value=r.currency aria-label="Currency">
                                    {codes.read_value().iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                                </select></td>
                                <td><input type="text" inputmode="decimal" size="8" aria-label="Amount" data-testid=tid("amount") bind:value=r.amount/></td>
                                <td><input type="text" inputmode="decimal" size="8" aria-label="Setup fee" bind:value=r.setup/></td>
                                <td><input type="text" inputmode="decimal" size="8" aria-label="Renewal" bind:value=r.renewal/></td>
                                <td><button class="btn btn-outline btn-sm" type="button"
                                    on:click=move |_| rows.update(|v| { v.remove(i); })>"Remove"</button></td>
                            </tr>
                            {move || {
                                let m = errors.with(|e| messages_under(e, &row_prefix, ""));
                                (!m.is_empty()).then(|| view! { <tr><td colspan="6"><p class="field-error">{m.join("; ")}</p></td></tr> })
                            }}
                        }
                    }).collect_view()
                }}
            </tbody>
        </table>
        <div><button class="btn btn-outline btn-sm" type="button" on:click=add_row>"Add a price"</button></div>
    }
}
