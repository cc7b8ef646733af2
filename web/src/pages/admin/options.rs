//! Admin: a product's configurable options, edited inside the product form. The list's order is
//! the configurator's (the API stores each option's and value's position); an option or value
//! that already exists keeps its id, so services and carts that chose it keep pointing at it.
//! Messages are placed by the API's field paths (`options[0].values[1].prices[0].amount_minor`).

use std::collections::BTreeMap;

use keel_shared::catalog::{OptionInput, OptionKind, OptionValueInput};
use keel_shared::ids::{OptionId, OptionValueId};
use leptos::prelude::*;

use super::prices::{read_prices, rows_of, Keep, PriceRow, PriceTable};
use crate::components::form::{FieldErrors, ListField};

/// One value as typed.
#[derive(Clone, Copy)]
struct ValueDraft {
    id: StoredValue<Option<OptionValueId>>,
    label: RwSignal<String>,
    prices: RwSignal<Vec<PriceRow>>,
}

/// One option as typed.
#[derive(Clone, Copy)]
pub struct OptionDraft {
    id: StoredValue<Option<OptionId>>,
    name: RwSignal<String>,
    kind: RwSignal<String>,
    hidden: RwSignal<bool>,
    min: RwSignal<String>,
    max: RwSignal<String>,
    step: RwSignal<String>,
    unit: RwSignal<String>,
    values: RwSignal<Vec<ValueDraft>>,
}

impl OptionDraft {
    pub fn of(o: &OptionInput, default_currency: &str) -> Self {
        let values = o
            .values
            .iter()
            .map(|v| ValueDraft {
                id: StoredValue::new(v.id.clone()),
                label: RwSignal::new(v.label.clone()),
                prices: RwSignal::new(rows_of(&v.prices, default_currency)),
            })
            .collect();
        OptionDraft {
            id: StoredValue::new(o.id.clone()),
            name: RwSignal::new(o.name.clone()),
            kind: RwSignal::new(o.kind.as_str().to_string()),
            hidden: RwSignal::new(o.hidden),
            min: RwSignal::new(o.min.to_string()),
            max: RwSignal::new(o.max.to_string()),
            step: RwSignal::new(o.step.to_string()),
            unit: RwSignal::new(o.unit.clone()),
            values: RwSignal::new(values),
        }
    }
}

/// Takes the ids the API gave to new options and values (the answer lists them in the order sent),
/// so saving again keeps them.
pub fn adopt_ids(drafts: &[OptionDraft], saved: &[OptionInput]) {
    for (d, s) in drafts.iter().zip(saved) {
        d.id.set_value(s.id.clone());
        for (v, sv) in d.values.get_untracked().iter().zip(&s.values) {
            v.id.set_value(sv.id.clone());
        }
    }
}

/// The options typed, as the API takes them. A number that does not read puts its message under
/// `options[i].<field>` in `errors`.
pub fn read_options(drafts: &[OptionDraft], errors: &mut BTreeMap<String, Vec<String>>) -> Vec<OptionInput> {
    drafts
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let kind = OptionKind::parse(&d.kind.get_untracked()).unwrap_or(OptionKind::Dropdown);
            let quantity = kind == OptionKind::Quantity;
            let mut number = |field: &str, s: RwSignal<String>, default: i64| -> i64 {
                if !quantity {
                    return default;
                }
                s.get_untracked().trim().parse().unwrap_or_else(|_| {
                    errors.insert(format!("options[{i}].{field}"), vec!["a whole number".into()]);
                    default
                })
            };
            let (min, max, step) = (number("min", d.min, 0), number("max", d.max, 0), number("step", d.step, 1));
            let values = d
                .values
                .get_untracked()
                .iter()
                .enumerate()
                .map(|(j, v)| OptionValueInput {
                    id: v.id.get_value(),
                    label: v.label.get_untracked().trim().to_string(),
                    prices: read_prices(&v.prices.get_untracked(), &format!("options[{i}].values[{j}].prices"), errors),
                })
                .collect();
            OptionInput {
                id: d.id.get_value(),
                name: d.name.get_untracked().trim().to_string(),
                kind,
                hidden: d.hidden.get_untracked(),
                min,
                max,
                step,
                unit: if quantity { d.unit.get_untracked().trim().to_string() } else { String::new() },
                values,
            }
        })
        .collect()
}

fn kind_label(k: OptionKind) -> &'static str {
    match k {
        OptionKind::Dropdown => "Drop-down list",
        OptionKind::Radio => "Radio buttons",
        OptionKind::Quantity => "Quantity (priced per unit)",
        OptionKind::YesNo => "Yes / no",
    }
}

/// The messages stored under exactly these keys, joined.
fn messages(errors: FieldErrors, keys: &[String]) -> Option<String> {
    let m: Vec<String> = errors.with(|e| keys.iter().filter_map(|k| e.get(k)).flatten().cloned().collect());
    (!m.is_empty()).then(|| m.join("; "))
}

/// Moves item `i` of `list` by `by` places (−1 up, +1 down) when it can move.
fn shift<T>(list: &mut [T], i: usize, by: isize) {
    let j = i as isize + by;
    if j >= 0 && (j as usize) < list.len() {
        list.swap(i, j as usize);
    }
}

/// Up, down and remove buttons for item `i` of `n`.
fn item_actions(i: usize, n: usize, what: &'static str, on: impl Fn(isize) + Copy + Send + Sync + 'static) -> impl IntoView {
    view! {
        <div class="row-actions">
            <button class="btn btn-ghost btn-sm" type="button" title=format!("Move this {what} up") disabled={i == 0} on:click=move |_| on(-1)>"↑"</button>
            <button class="btn btn-ghost btn-sm" type="button" title=format!("Move this {what} down") disabled={i + 1 >= n} on:click=move |_| on(1)>"↓"</button>
            <button class="btn btn-outline btn-danger btn-sm" type="button" on:click=move |_| on(0)>{format!("Remove {what}")}</button>
        </div>
    }
}

/// The options section of the product form.
#[component]
pub fn OptionsEditor(
    options: RwSignal<Vec<OptionDraft>>,
    /// The product's price rows: a new value starts with a row for each of their cycles and
    /// currencies.
    product_rows: RwSignal<Vec<PriceRow>>,
    codes: StoredValue<Vec<String>>,
    default_currency: StoredValue<String>,
    errors: FieldErrors,
    keep: Keep,
) -> impl IntoView {
    // Messages are placed by position, so a move or removal makes earlier ones point elsewhere.
    let restructure = move |f: &dyn Fn(&mut Vec<OptionDraft>)| {
        errors.set(BTreeMap::new());
        options.update(|v| f(v));
    };
    let new_value = move || {
        keep.make(|| {
            let mut rows: Vec<PriceRow> = Vec::new();
            for r in product_rows.get_untracked() {
                let (c, cur) = (r.cycle.get_untracked(), r.currency.get_untracked());
                if !rows.iter().any(|x| x.cycle.get_untracked() == c && x.currency.get_untracked() == cur) {
                    rows.push(PriceRow::blank(&c, &cur));
                }
            }
            if rows.is_empty() {
                rows.push(PriceRow::new(None, &default_currency.read_value()));
            }
            ValueDraft { id: StoredValue::new(None), label: RwSignal::new(String::new()), prices: RwSignal::new(rows) }
        })
    };
    let add_option = move |_| {
        let blank = OptionInput {
            id: None,
            name: String::new(),
            kind: OptionKind::Dropdown,
            hidden: false,
            min: 0,
            max: 0,
            step: 1,
            unit: String::new(),
            values: Vec::new(),
        };
        let d = keep.make(|| OptionDraft::of(&blank, ""));
        d.values.set(vec![new_value()]);
        options.update(|v| v.push(d));
    };
    view! {
        <h2>"Configurable options"</h2>
        <p class="muted small">"Shown in the configurator in this order. An option or value you keep keeps its identity, so existing \
            services stay linked to it; hide an option instead of removing it to stop offering it. Values are priced per cycle on \
            top of the plan (a cycle without a price costs nothing extra)."</p>
        {move || messages(errors, &["options".to_string()]).map(|m| view! { <p class="field-error">{m}</p> })}
        <p class="muted" class:hidden=move || options.with(|o| !o.is_empty())>"No options."</p>
        <div class="stack" data-testid="options-editor">
            {move || {
                let list = options.get();
                let n = list.len();
                list.into_iter().enumerate().map(|(i, o)| {
                    let at = format!("options[{i}]");
                    let at_v = at.clone();
                    let own = [format!("{at}.__all__"), format!("{at}.id"), format!("{at}.values")];
                    let move_option = move |by: isize| restructure(&|v| if by == 0 { v.remove(i); } else { shift(v, i, by) });
                    let quantity = move || o.kind.get() == "quantity";
                    let many = move || matches!(o.kind.get().as_str(), "dropdown" | "radio");
                    view! {
                        <div class="sub-card" data-testid=format!("option-{i}")>
                            <div class="item-head">
                                <h3>{move || { let n = o.name.get(); if n.trim().is_empty() { "New option".to_string() } else { n } }}</h3>
                                {item_actions(i, n, "option", move_option)}
                            </div>
                            <div class="field-row">
                                <ListField label="Name" name=format!("{at}.name") value=o.name errors=errors/>
                                <div class="field">
                                    <label for=format!("f-options-{i}-kind")>"Kind"</label>
                                    <select id=format!("f-options-{i}-kind") bind:value=o.kind>
                                        {OptionKind::ALL.iter().map(|k| view! { <option value=k.as_str()>{kind_label(*k)}</option> }).collect_view()}
                                    </select>
                                </div>
                            </div>
                            <label class="check"><input type="checkbox" bind:checked=o.hidden/>" Hidden (not offered to customers; existing services keep it)"</label>
                            <div class="stack" class:hidden=move || !quantity()>
                                <div class="field-row">
                                    <ListField label="Smallest number" name=format!("{at}.min") kind="number" value=o.min errors=errors hint="Also the default."/>
                                    <ListField label="Largest number" name=format!("{at}.max") kind="number" value=o.max errors=errors/>
                                </div>
                                <div class="field-row">
                                    <ListField label="Step" name=format!("{at}.step") kind="number" value=o.step errors=errors/>
                                    <ListField label="Unit" name=format!("{at}.unit") value=o.unit errors=errors hint="GB, IP addresses…"/>
                                </div>
                            </div>
                            {move || messages(errors, &own).map(|m| view! { <p class="field-error">{m}</p> })}
                            <p class="muted small">{move || match o.kind.get().as_str() {
                                "quantity" => "One value carries the price of one unit.",
                                "yes_no" => "One value carries the price when the option is on.",
                                _ => "The first value is chosen by default.",
                            }}</p>
                            {move || {
                                let values = o.values.get();
                                let m = values.len();
                                values.into_iter().enumerate().map(|(j, v)| {
                                    let vat = format!("{at_v}.values[{j}]");
                                    let own = [format!("{vat}.id")];
                                    let move_value = move |by: isize| {
                                        errors.set(BTreeMap::new());
                                        o.values.update(|list| if by == 0 { list.remove(j); } else { shift(list, j, by) });
                                    };
                                    view! {
                                        <div class="sub-card" data-testid=format!("option-{i}-value-{j}")>
                                            <div class="item-head">
                                                <ListField label="Value" name=format!("{vat}.label") value=v.label errors=errors/>
                                                {item_actions(j, m, "value", move_value)}
                                            </div>
                                            {move || messages(errors, &own).map(|m| view! { <p class="field-error">{m}</p> })}
                                            <PriceTable rows=v.prices codes=codes default_currency=default_currency prefix=format!("{vat}.prices") errors=errors keep=keep/>
                                        </div>
                                    }
                                }).collect_view()
                            }}
                            <div class:hidden=move || !many() && o.values.with(|v| !v.is_empty())>
                                <button class="btn btn-outline" type="button" data-testid=format!("add-value-{i}")
                                    on:click=move |_| o.values.update(|v| v.push(new_value()))>"Add a value"</button>
                            </div>
                        </div>
                    }
                }).collect_view()
            }}
        </div>
        <div><button class="btn btn-outline" type="button" data-testid="add-option" on:click=add_option>"Add an option"</button></div>
    }
}
