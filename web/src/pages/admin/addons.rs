//! Admin: add-ons (`catalog.manage`): SSL, backups, an IP… sold beside plans on the plan's cycle.
//! Created and edited here with their prices; which products offer one is chosen in the product
//! form (its "Add-ons" check boxes), and the list shows it.

use std::collections::BTreeMap;

use keel_shared::catalog::{AddonInput, AdminAddon, AdminProduct};
use keel_shared::money::CurrencyInfo;
use leptos::prelude::*;
use leptos::web_sys::SubmitEvent;

use super::prices::{prices_text, read_prices, rows_of, Keep, PriceRow, PriceTable};
use crate::api::{admin, ClientError};
use crate::components::feedback::{loaded, Empty, ErrorBanner, Notice};
use crate::components::form::{Field, FieldError, Form, Submit};
use crate::session::{use_session, SessionCtx};

#[component]
pub fn AddonsPage() -> impl IntoView {
    let session = use_session();
    let data = LocalResource::new(move || async move {
        let addons = admin::addons(session).await?;
        let products = admin::products(session).await?;
        let currencies = admin::currencies(session).await?;
        Ok::<(Vec<AdminAddon>, Vec<AdminProduct>, Vec<CurrencyInfo>), ClientError>((addons, products, currencies))
    });
    let editing = RwSignal::new(None::<AdminAddon>);
    let open = RwSignal::new(false);
    let notice = RwSignal::new(None::<String>);
    view! {
        <header class="page-head">
            <div><h1>"Add-ons"</h1><p class="muted">"Extras sold beside plans, billed on the plan's cycle. Products offer them in their editor."</p></div>
            <button class="btn btn-primary" type="button" data-testid="new-addon"
                on:click=move |_| { editing.set(None); notice.set(None); open.set(false); open.set(true); }>"New add-on"</button>
        </header>
        <Notice message=notice/>
        {loaded(data, move |(addons, products, currencies)| {
            let cur = currencies.clone();
            view! {
                {move || open.get().then(|| view! {
                    <AddonForm addon=editing.get_untracked() currencies=cur.clone() session=session
                        done=Callback::new(move |saved: Option<String>| {
                            open.set(false);
                            if let Some(name) = saved {
                                notice.set(Some(format!("{name} saved.")));
                                data.refetch();
                            }
                        })/>
                })}
                {if addons.is_empty() {
                    view! { <Empty title="No add-ons yet"/> }.into_any()
                } else {
                    view! {
                        <div class="card table-card">
                            <table class="table" data-testid="addons-table">
                                <thead><tr><th>"Name"</th><th>"Prices"</th><th>"Offered with"</th><th>"Order"</th><th></th></tr></thead>
                                <tbody>
                                    {addons.into_iter().map(|a| {
                                        let offered = products.iter()
                                            .filter(|p| p.product.addon_ids.contains(&a.id))
                                            .map(|p| p.product.name.clone())
                                            .collect::<Vec<_>>();
                                        let a2 = a.clone();
                                        view! {
                                            <tr data-slug=a.addon.slug.clone()>
                                                <td>{a.addon.name.clone()}<div class="muted small">{a.addon.slug.clone()}</div></td>
                                                <td class="small">{prices_text(&a.addon.prices)}</td>
                                                <td class="small">{if offered.is_empty() { "—".to_string() } else { offered.join(", ") }}</td>
                                                <td>{a.addon.sort_order}</td>
                                                <td class="row-actions">
                                                    {a.addon.retired.then(|| view! { <span class="pill pill-failed">"retired"</span> })}
                                                    <button class="btn btn-ghost btn-sm" type="button" on:click=move |_| {
                                                        editing.set(Some(a2.clone()));
                                                        notice.set(None);
                                                        open.set(false);
                                                        open.set(true);
                                                    }>"Edit"</button>
                                                </td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any()
                }}
            }
        })}
    }
}

/// The add-on form; `done` gets the saved add-on's name, or none when cancelled.
#[component]
fn AddonForm(
    addon: Option<AdminAddon>,
    currencies: Vec<CurrencyInfo>,
    session: SessionCtx,
    done: Callback<Option<String>>,
) -> impl IntoView {
    let keep = Keep::here();
    let id = addon.as_ref().map(|a| a.id.to_string());
    let a = addon.map(|a| a.addon);
    let default_currency = currencies.iter().find(|c| c.is_default).map(|c| c.code.code().to_string()).unwrap_or_else(|| "USD".into());
    let text = |f: fn(&AddonInput) -> String| RwSignal::new(a.as_ref().map(f).unwrap_or_default());
    let slug = text(|a| a.slug.clone());
    let name = text(|a| a.name.clone());
    let description = text(|a| a.description.clone());
    let sort = text(|a| a.sort_order.to_string());
    let retired = RwSignal::new(a.as_ref().is_some_and(|a| a.retired));
    let rows = RwSignal::new(match &a {
        Some(a) => rows_of(&a.prices, &default_currency),
        None => vec![PriceRow::blank("monthly", &default_currency), PriceRow::blank("annually", &default_currency)],
    });
    let codes = StoredValue::new(currencies.iter().map(|c| c.code.code().to_string()).collect::<Vec<_>>());
    let default_currency = StoredValue::new(default_currency);
    let form = Form::new();
    let send = form.action(
        move |(id, body): &(Option<String>, AddonInput)| admin::save_addon(session, id.clone(), body.clone()),
        move |saved: AdminAddon| done.run(Some(saved.addon.name)),
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let mut errors = BTreeMap::new();
        let prices = read_prices(&rows.get_untracked(), "prices", &mut errors);
        let sort_t = sort.get_untracked();
        let sort_order = if sort_t.trim().is_empty() {
            0
        } else {
            sort_t.trim().parse().unwrap_or_else(|_| {
                errors.insert("sort_order".into(), vec!["a whole number".into()]);
                0
            })
        };
        let body = AddonInput {
            slug: slug.get_untracked().trim().to_string(),
            name: name.get_untracked().trim().to_string(),
            description: description.get_untracked().trim().to_string(),
            retired: retired.get_untracked(),
            sort_order,
            prices,
        };
        if !errors.is_empty() {
            form.errors.set(errors);
            return;
        }
        if form.check(&body) {
            send.dispatch_local((id.clone(), body));
        }
    };
    let errors = form.errors;
    let editing = a.is_some();
    view! {
        <form class="card staff-form" on:submit=submit novalidate data-testid="addon-form">
            <h2>{if editing { "Edit add-on" } else { "New add-on" }}</h2>
            <ErrorBanner message=form.banner/>
            <div class="field-row">
                <Field label="Name" name="name" value=name errors=errors/>
                <Field label="Slug" name="slug" value=slug errors=errors hint="Letters, digits and dashes."/>
            </div>
            <div class="field">
                <label for="f-description">"Description"</label>
                <textarea id="f-description" rows="2" bind:value=description></textarea>
                <FieldError name="description" errors=errors/>
            </div>
            <div class="field-row">
                <Field label="Sort order" name="sort_order" kind="number" value=sort errors=errors hint="Smaller numbers are listed first."/>
                <label class="check"><input type="checkbox" bind:checked=retired/>" Retired (no longer sold; existing services keep it)"</label>
            </div>
            <h3>"Prices"</h3>
            <p class="muted small">"Per cycle of the plan it is added to, in major units (2.99)."</p>
            <PriceTable rows=rows codes=codes default_currency=default_currency prefix="prices".to_string() errors=errors keep=keep testid="addon-prices"/>
            <div class="row-actions">
                <Submit pending=send.pending() label="Save add-on" busy="Saving…"/>
                <button class="btn btn-ghost" type="button" on:click=move |_| done.run(None)>"Cancel"</button>
            </div>
        </form>
    }
}
