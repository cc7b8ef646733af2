//! "Change plan" on a service's page: another plan of the same group, other option values, other
//! add-ons. Every choice asks the API for the prorated price (`POST /services/{id}/change/quote`,
//! the same `shared` proration the change is charged by), shown line by line before the client
//! confirms; confirming sends the total shown, so a price that moved meanwhile is refused rather
//! than charged. An upgrade opens its invoice; a downgrade is made at once (credit) or on the
//! renewal. A change waiting for payment is shown with its invoice.

use std::sync::Arc;

use keel_shared::cart::OptionChoice;
use keel_shared::catalog::{Catalog, OptionKind, Product};
use keel_shared::ids::AddonId;
use keel_shared::proration::Proration;
use keel_shared::provisioning::{ChangeSettlement, Service, ServiceChange, ServiceChangeQuote, ServiceChangeRequest, ServiceChangeStatus};
use keel_shared::Money;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use leptos_router::NavigateOptions;

use crate::api::{self, ClientError};
use crate::components::invoices::day;
use crate::session::use_session;

/// The plans a service can move to: its own product's group (or type), offered on its cycle in
/// its currency.
fn plans(catalog: &Catalog, s: &Service) -> Vec<Product> {
    let mine = catalog.product(&s.product_id);
    catalog
        .products
        .iter()
        .filter(|p| match mine {
            Some(m) => p.id == m.id || (!p.hidden && p.product_type == m.product_type && p.group_id == m.group_id),
            None => false,
        })
        .filter(|p| catalog.price_in(&p.prices, s.cycle, s.currency).is_some())
        .cloned()
        .collect()
}

/// The choices to start from on `product`: the service's own when it is its product, else the
/// value of each option with the same name and label (so the location carries over).
fn carried(catalog: &Catalog, s: &Service, product: &Product) -> Vec<OptionChoice> {
    if product.id == s.product_id {
        return s.options.clone();
    }
    let Some(mine) = catalog.product(&s.product_id) else { return Vec::new() };
    let mut out = Vec::new();
    for option in &product.options {
        let Some(old) = mine.options.iter().find(|o| o.name == option.name) else { continue };
        let Some(choice) = s.options.iter().find(|c| c.option_id == old.id) else { continue };
        let label = choice.value_id.as_ref().and_then(|v| old.values.iter().find(|x| x.id == *v)).map(|v| v.label.clone());
        let value_id = label.and_then(|l| option.values.iter().find(|v| v.label == l)).map(|v| v.id.clone());
        if value_id.is_some() || choice.quantity.is_some() {
            out.push(OptionChoice { option_id: option.id.clone(), value_id, quantity: choice.quantity });
        }
    }
    out
}

#[component]
pub fn ChangePlan(service: Service, done: Callback<()>) -> impl IntoView {
    let session = use_session();
    let changes = LocalResource::new({
        let id = service.id.to_string();
        move || {
            let id = id.clone();
            async move { api::portal::service_changes(session, &id).await }
        }
    });
    let catalog = LocalResource::new(api::catalog::catalog);
    view! {
        <section class="card stack-form" data-testid="change-plan">
            <h2>"Change plan"</h2>
            {move || changes.get().and_then(|r| r.ok()).and_then(|list| list.into_iter().next()).map(waiting)}
            {move || match catalog.get() {
                None => view! { <p class="muted">"Loading plans…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="field-error">{e.message()}</p> }.into_any(),
                Some(Ok(cat)) => view! { <Chooser catalog=cat service=service.clone() done=done changes=changes/> }.into_any(),
            }}
        </section>
    }
}

/// A change still waiting: for payment (with its invoice), or for the renewal.
fn waiting(c: ServiceChange) -> Option<AnyView> {
    let to = c.quote.product_name.clone();
    match (c.status, &c.invoice_id, c.effective_on) {
        (ServiceChangeStatus::Pending, Some(inv), _) => Some(
            view! {
                <div class="alert alert-info banner" role="status" data-testid="change-waiting">
                    <span>{format!("Your change to {to} is made as soon as its invoice is paid.")}</span>
                    <A href=format!("/dashboard/invoices/{inv}") attr:class="btn btn-primary btn-sm">"Pay invoice"</A>
                </div>
            }
            .into_any(),
        ),
        (ServiceChangeStatus::Scheduled, _, Some(on)) => Some(
            view! { <div class="alert alert-info" role="status" data-testid="change-scheduled">{format!("Your change to {to} is made on {}.", day(on))}</div> }
                .into_any(),
        ),
        _ => None,
    }
}

#[component]
fn Chooser(
    catalog: Arc<Catalog>,
    service: Service,
    done: Callback<()>,
    changes: LocalResource<Result<Vec<ServiceChange>, ClientError>>,
) -> impl IntoView {
    let session = use_session();
    let navigate = use_navigate();
    let id = service.id.to_string();
    let list = plans(&catalog, &service);
    let product = RwSignal::new(service.product_id.clone());
    let options = RwSignal::new(service.options.clone());
    let addons = RwSignal::new(service.addon_ids.clone());
    let banner = RwSignal::new(None::<String>);
    let request = move || ServiceChangeRequest {
        product_id: product.get(),
        options: options.get(),
        addon_ids: addons.get(),
        expected_total_minor: None,
    };
    let unchanged = {
        let s = service.clone();
        move || {
            product.get() == s.product_id && options.get() == s.options && {
                let (mut a, mut b) = (addons.get(), s.addon_ids.clone());
                a.sort();
                b.sort();
                a == b
            }
        }
    };
    let quote = LocalResource::new({
        let (id, unchanged) = (id.clone(), unchanged.clone());
        move || {
            let (id, req, same) = (id.clone(), request(), unchanged());
            async move {
                if same {
                    return None;
                }
                Some(api::portal::change_quote(session, &id, req).await)
            }
        }
    });
    let cat = catalog.clone();
    let current = service.clone();
    let pick = move |value: String| {
        let Some(p) = cat.products.iter().find(|p| p.id.as_str() == value) else { return };
        options.set(carried(&cat, &current, p));
        addons.update(|a| a.retain(|x| p.addon_ids.contains(x)));
        product.set(p.id.clone());
        banner.set(None);
    };
    let pending = RwSignal::new(false);
    let confirm = {
        let id = id.clone();
        move |total: i64| {
            let (id, navigate) = (id.clone(), navigate.clone());
            let body = ServiceChangeRequest { expected_total_minor: Some(total), ..request() };
            pending.set(true);
            leptos::task::spawn_local(async move {
                match api::portal::change_service(session, &id, body).await {
                    Ok(c) => match c.invoice_id {
                        Some(inv) => navigate(&format!("/dashboard/invoices/{inv}"), NavigateOptions::default()),
                        None => {
                            changes.refetch();
                            done.run(());
                        }
                    },
                    Err(e) => banner.set(Some(e.message())),
                }
                pending.set(false);
            });
        }
    };
    let plan_select = {
        let list = list.clone();
        view! {
            <div class="field">
                <label for="f-change-plan">"Plan"</label>
                <select id="f-change-plan" data-testid="change-plan-select" on:change=move |ev| pick(event_target_value(&ev))>
                    {list.iter().map(|p| {
                        let (value, id) = (p.id.to_string(), p.id.clone());
                        let price = catalog.price_in(&p.prices, service.cycle, service.currency).map(|pr| Money::new(pr.renewal(), service.currency).to_string()).unwrap_or_default();
                        view! { <option value=value selected=move || product.get() == id>{format!("{} — {price} {}", p.name, service.cycle.per())}</option> }
                    }).collect_view()}
                </select>
            </div>
        }
    };
    let configurator = {
        let catalog = catalog.clone();
        let currency = service.currency;
        let cycle = service.cycle;
        move || {
            let Some(p) = catalog.product(&product.get()).cloned() else { return ().into_any() };
            let chosen = options.get();
            let opts = p.options.iter().map(|o| {
                let oid = o.id.clone();
                let mine = chosen.iter().find(|c| c.option_id == oid).cloned();
                let fid = format!("f-change-{}", o.id);
                let set = {
                    let oid = oid.clone();
                    move |value_id: Option<String>, quantity: Option<i64>| {
                        options.update(|list| {
                            list.retain(|c| c.option_id != oid);
                            list.push(OptionChoice { option_id: oid.clone(), value_id: value_id.and_then(|v| keel_shared::ids::OptionValueId::parse(&v)), quantity });
                        });
                    }
                };
                let price_of = |v: &keel_shared::catalog::OptionValue| {
                    catalog.price_in(&v.prices, cycle, currency).filter(|p| p.amount_minor > 0).map(|p| format!(" (+{})", Money::new(p.renewal(), currency))).unwrap_or_default()
                };
                match o.kind {
                    OptionKind::Dropdown | OptionKind::Radio => {
                        let current = mine.and_then(|c| c.value_id).or_else(|| o.values.first().map(|v| v.id.clone()));
                        view! {
                            <div class="field">
                                <label for=fid.clone()>{o.name.clone()}</label>
                                <select id=fid data-option=o.name.clone() on:change=move |ev| set(Some(event_target_value(&ev)), None)>
                                    {o.values.iter().map(|v| view! { <option value=v.id.to_string() selected=current.as_ref() == Some(&v.id)>{format!("{}{}", v.label, price_of(v))}</option> }).collect_view()}
                                </select>
                            </div>
                        }.into_any()
                    }
                    OptionKind::Quantity => {
                        let units = mine.and_then(|c| c.quantity).unwrap_or(o.min);
                        let per = o.values.first().map(|v| price_of(v)).unwrap_or_default();
                        view! {
                            <div class="field">
                                <label for=fid.clone()>{format!("{} ({}){per}", o.name, o.unit)}</label>
                                <input id=fid type="number" min=o.min max=o.max step=o.step.max(1) prop:value=units.to_string()
                                    on:change=move |ev| set(None, event_target_value(&ev).trim().parse().ok())/>
                            </div>
                        }.into_any()
                    }
                    OptionKind::YesNo => {
                        let on = mine.and_then(|c| c.quantity) == Some(1);
                        let price = o.values.first().map(|v| price_of(v)).unwrap_or_default();
                        view! {
                            <label class="check">
                                <input type="checkbox" checked=on on:change=move |ev| set(None, Some(i64::from(event_target_checked(&ev))))/>
                                {format!("{}{price}", o.name)}
                            </label>
                        }.into_any()
                    }
                }
            }).collect_view();
            let adds = p
                .addon_ids
                .iter()
                .filter_map(|a| catalog.addon(a))
                .filter(|a| catalog.price_in(&a.prices, cycle, currency).is_some())
                .map(|a| {
                    let aid: AddonId = a.id.clone();
                    let on = addons.get().contains(&aid);
                    let price = catalog
                        .price_in(&a.prices, cycle, currency)
                        .map(|p| format!(" (+{})", Money::new(p.renewal(), currency)))
                        .unwrap_or_default();
                    view! {
                        <label class="check" data-testid="change-addon">
                            <input type="checkbox" checked=on on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                addons.update(|list| { list.retain(|x| *x != aid); if on { list.push(aid.clone()); } });
                            }/>
                            {format!("{}{price}", a.name)}
                        </label>
                    }
                })
                .collect_view();
            view! { <div class="change-options">{opts}</div><div class="change-addons">{adds}</div> }.into_any()
        }
    };
    let summary = move || match quote.get() {
        None | Some(None) => {
            view! { <p class="muted small">"Choose another plan, option or add-on to see what it costs for the rest of this period."</p> }
                .into_any()
        }
        Some(Some(Err(e))) => {
            let mut text = e.message();
            if let ClientError::Problem(p) = &e {
                let fields: Vec<String> = p.errors.values().flatten().cloned().collect();
                if !fields.is_empty() {
                    text = fields.join("; ");
                }
            }
            view! { <p class="field-error" role="alert" data-testid="change-error">{text}</p> }.into_any()
        }
        Some(Some(Ok(q))) => breakdown(q, pending, confirm.clone()).into_any(),
    };
    view! {
        <p class="muted small">"Move to another plan or change options and add-ons. You pay, or get back, the difference for the days left in this period; your next due date stays the same."</p>
        {plan_select}
        {configurator}
        {move || banner.get().map(|b| view! { <p class="field-error" role="alert">{b}</p> })}
        <div data-testid="change-quote">{summary}</div>
    }
}

/// The prorated lines, tax and total of a quote, with the button that confirms it.
fn breakdown(q: ServiceChangeQuote, pending: RwSignal<bool>, confirm: impl Fn(i64) + Clone + 'static) -> impl IntoView {
    let Proration { days_remaining, days_in_period, ref lines, period_to, .. } = q.proration;
    let money = move |m: i64| Money::new(m, q.currency).to_string();
    let (label, outcome) = match q.settlement {
        ChangeSettlement::Invoice => (format!("Pay {} and change", money(q.total_minor)), format!("To pay now: {}", money(q.total_minor))),
        ChangeSettlement::Credit => ("Change now".to_string(), format!("Added to your account credit: {}", money(q.credit_minor))),
        ChangeSettlement::AtRenewal => {
            (format!("Change on {}", day(period_to)), format!("Changes on {}; the new price applies from then.", day(period_to)))
        }
        ChangeSettlement::Nothing => ("Change now".to_string(), "Nothing to pay.".to_string()),
    };
    let total = q.total_minor;
    view! {
        <table class="table compact change-lines" data-testid="change-lines">
            <caption class="muted small">{format!("{} → {}: {days_remaining} of {days_in_period} days left in this period", q.from_product_name, q.product_name)}</caption>
            <tbody>
                {lines.iter().map(|l| view! { <tr><td>{l.description.clone()}</td><td class="num">{money(l.amount_minor)}</td></tr> }).collect_view()}
                {(q.tax_minor != 0).then(|| view! { <tr><td>"Tax"</td><td class="num">{money(q.tax_minor)}</td></tr> })}
            </tbody>
        </table>
        <p data-testid="change-outcome"><strong>{outcome}</strong></p>
        <p class="muted small">{format!("From then on: {} instead of {} per period.", money(q.new_recurring_minor), money(q.old_recurring_minor))}</p>
        <div>
            <button class="btn btn-primary" type="button" data-testid="change-confirm" disabled=move || pending.get() on:click=move |_| confirm(total)>
                {move || if pending.get() { "Sending…".to_string() } else { label.clone() }}
            </button>
        </div>
    }
}
