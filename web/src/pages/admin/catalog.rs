//! Admin: the catalog (`catalog.manage`): products with their prices, configurable options
//! (`options.rs`) and add-ons, tax rules and the commerce settings. Amounts are typed in major
//! units and read by `prices.rs`.

use std::collections::BTreeMap;

use keel_shared::catalog::{AdminAddon, AdminGroup, AdminProduct, BillingCycle, Price, ProductInput, ProductType};
use keel_shared::commerce::{CommerceSettings, TaxRule, TaxRuleInput};
use keel_shared::ids::{AddonId, GroupId};
use keel_shared::money::CurrencyInfo;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::web_sys::SubmitEvent;
use leptos_router::hooks::{use_navigate, use_params_map};
use leptos_router::NavigateOptions;

use super::options::{adopt_ids, read_options, OptionDraft, OptionsEditor};
use super::prices::{format_decimal, money, parse_decimal, read_prices, rows_of, Keep, PriceRow, PriceTable};
use crate::api::{admin, ClientError};
use crate::components::checks::IdChecks;
use crate::components::feedback::{loaded, Empty, ErrorBanner, Notice};
use crate::components::form::{messages_under, Field, FieldError, Form, Submit};
use crate::session::{use_session, SessionCtx};

fn monthly(p: &ProductInput) -> String {
    let mut prices: Vec<&Price> = p.prices.iter().filter(|x| x.cycle == BillingCycle::Monthly).collect();
    prices.sort_by_key(|x| x.currency.code());
    prices.first().map(|x| money(x.amount_minor, x.currency)).unwrap_or_else(|| "—".into())
}

#[component]
pub fn ProductsPage() -> impl IntoView {
    let session = use_session();
    let data = LocalResource::new(move || async move {
        let products = admin::products(session).await?;
        let groups = admin::groups(session).await?;
        Ok::<_, ClientError>((products, groups))
    });
    view! {
        <header class="page-head">
            <div><h1>"Catalog"</h1><p class="muted">"Products, their prices per cycle and currency, options and add-ons."</p></div>
            <a href="/admin/catalog/products/new" class="btn btn-primary" data-testid="new-product">"New product"</a>
        </header>
        {loaded(data, move |(products, groups)| {
            if products.is_empty() {
                return view! { <Empty title="No products yet"/> }.into_any();
            }
            let group_name = move |id: &Option<keel_shared::ids::GroupId>| {
                id.as_ref().and_then(|id| groups.iter().find(|g| &g.id == id)).map(|g| g.group.name.clone()).unwrap_or_default()
            };
            view! {
                <div class="card table-card">
                    <table class="table" data-testid="products-table">
                        <thead><tr><th>"Name"</th><th>"Type"</th><th>"Group"</th><th>"Monthly"</th><th></th></tr></thead>
                        <tbody>
                            {products.into_iter().map(|p| {
                                let href = format!("/admin/catalog/products/{}", p.id);
                                let group = group_name(&p.product.group_id);
                                view! {
                                    <tr>
                                        <td><a href=href>{p.product.name.clone()}</a><div class="muted small">{p.product.slug.clone()}</div></td>
                                        <td>{p.product.product_type.label()}</td>
                                        <td>{group}</td>
                                        <td>{monthly(&p.product)}</td>
                                        <td>
                                            {p.product.hidden.then(|| view! { <span class="pill">"hidden"</span> })}
                                            {p.product.retired.then(|| view! { <span class="pill pill-failed">"retired"</span> })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }
            .into_any()
        })}
    }
}

type Loaded = (Option<AdminProduct>, Vec<AdminGroup>, Vec<AdminAddon>, Vec<CurrencyInfo>);

#[component]
pub fn ProductEditPage() -> impl IntoView {
    let session = use_session();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let data = LocalResource::new(move || {
        let id = id.get();
        async move {
            let product = if id == "new" { None } else { Some(admin::product(session, &id).await?) };
            let groups = admin::groups(session).await?;
            let addons = admin::addons(session).await?;
            let currencies = admin::currencies(session).await?;
            Ok::<Loaded, ClientError>((product, groups, addons, currencies))
        }
    });
    view! {
        <header class="page-head">
            <div><h1>{move || if id.get() == "new" { "New product" } else { "Edit product" }}</h1></div>
            <a href="/admin/catalog" class="btn btn-outline">"All products"</a>
        </header>
        {loaded(data, move |d| view! { <ProductForm data=d session=session/> })}
    }
}

#[component]
fn ProductForm(data: Loaded, session: SessionCtx) -> impl IntoView {
    let (product, groups, addons, currencies) = data;
    let keep = Keep::here();
    let id = product.as_ref().map(|p| p.id.to_string());
    let p = product.map(|p| p.product);
    let default_currency = currencies.iter().find(|c| c.is_default).map(|c| c.code.code().to_string()).unwrap_or_else(|| "USD".into());
    let text = |f: fn(&ProductInput) -> String| RwSignal::new(p.as_ref().map(f).unwrap_or_default());
    let slug = text(|p| p.slug.clone());
    let name = text(|p| p.name.clone());
    let kind = RwSignal::new(p.as_ref().map(|p| p.product_type.as_str()).unwrap_or("shared_hosting").to_string());
    let group = text(|p| p.group_id.as_ref().map(|g| g.to_string()).unwrap_or_default());
    let description = text(|p| p.description.clone());
    let features = text(|p| p.features.join("\n"));
    let stock = text(|p| p.stock.map(|s| s.to_string()).unwrap_or_default());
    let module = text(|p| p.module.clone().unwrap_or_default());
    let package = text(|p| p.package.clone().unwrap_or_default());
    let flag = |f: fn(&ProductInput) -> bool| RwSignal::new(p.as_ref().is_some_and(f));
    let featured = flag(|p| p.featured);
    let hidden = flag(|p| p.hidden);
    let retired = flag(|p| p.retired);
    let requires_domain = flag(|p| p.requires_domain);
    let sort_order = p.as_ref().map(|p| p.sort_order).unwrap_or_default();
    let options = RwSignal::new(
        p.as_ref().map(|p| p.options.iter().map(|o| OptionDraft::of(o, &default_currency)).collect::<Vec<_>>()).unwrap_or_default(),
    );
    let held: Vec<String> = p.as_ref().map(|p| p.addon_ids.iter().map(|a| a.to_string()).collect()).unwrap_or_default();
    let addon_checks = IdChecks::new(
        addons
            .iter()
            .map(|a| (a.id.to_string(), if a.addon.retired { format!("{} (retired)", a.addon.name) } else { a.addon.name.clone() })),
        &held,
    );
    let checks = addon_checks.clone();
    let rows = RwSignal::new(match &p {
        Some(p) => rows_of(&p.prices, &default_currency),
        None => vec![PriceRow::new(None, &default_currency)],
    });
    let codes = StoredValue::new(currencies.iter().map(|c| c.code.code().to_string()).collect::<Vec<_>>());
    let default_currency = StoredValue::new(default_currency);

    let form = Form::new();
    let notice = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let was_new = id.is_none();
    let send = form.action(
        move |(id, body): &(Option<String>, ProductInput)| admin::save_product(session, id.clone(), body.clone()),
        move |saved: AdminProduct| {
            notice.set(Some(format!("{} saved.", saved.product.name)));
            if was_new {
                navigate(&format!("/admin/catalog/products/{}", saved.id), NavigateOptions::default());
            } else {
                adopt_ids(&options.get_untracked(), &saved.product.options);
            }
        },
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        notice.set(None);
        let mut errors = BTreeMap::new();
        let prices = read_prices(&rows.get_untracked(), "prices", &mut errors);
        let stock_text = stock.get_untracked();
        let stock_val = if stock_text.trim().is_empty() {
            None
        } else {
            match stock_text.trim().parse::<i64>() {
                Ok(v) => Some(v),
                Err(_) => {
                    errors.insert("stock".into(), vec!["a whole number, or empty for unlimited".into()]);
                    None
                }
            }
        };
        let options = read_options(&options.get_untracked(), &mut errors);
        let non_empty = |s: String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let body = ProductInput {
            slug: slug.get_untracked().trim().to_string(),
            name: name.get_untracked().trim().to_string(),
            product_type: ProductType::parse(&kind.get_untracked()).unwrap_or(ProductType::Other),
            group_id: non_empty(group.get_untracked()).and_then(|g| GroupId::parse(&g)),
            description: description.get_untracked(),
            features: features.get_untracked().lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect(),
            featured: featured.get_untracked(),
            hidden: hidden.get_untracked(),
            retired: retired.get_untracked(),
            requires_domain: requires_domain.get_untracked(),
            stock: stock_val,
            module: non_empty(module.get_untracked()),
            package: non_empty(package.get_untracked()),
            sort_order,
            prices,
            options,
            addon_ids: checks.selected().iter().filter_map(|a| AddonId::parse(a)).collect(),
        };
        if !errors.is_empty() {
            form.errors.set(errors);
            form.banner.set(Some("Some fields need attention: see the messages under them.".into()));
            return;
        }
        if form.check(&body) {
            send.dispatch_local((id.clone(), body));
        } else {
            form.banner.set(Some("Some fields need attention: see the messages under them.".into()));
        }
    };
    let errors = form.errors;
    view! {
        <form class="card staff-form wide" on:submit=submit novalidate data-testid="product-form">
            <ErrorBanner message=form.banner/>
            <div class="field-row">
                <Field label="Name" name="name" value=name errors=errors/>
                <Field label="Slug" name="slug" value=slug errors=errors hint="Letters, digits and dashes: the address /order/<slug>."/>
            </div>
            <div class="field-row">
                <div class="field">
                    <label for="f-type">"Type"</label>
                    <select id="f-type" bind:value=kind>
                        {ProductType::ALL.iter().map(|t| view! { <option value=t.as_str()>{t.label()}</option> }).collect_view()}
                    </select>
                </div>
                <div class="field">
                    <label for="f-group">"Group"</label>
                    <select id="f-group" bind:value=group>
                        <option value="">"— none —"</option>
                        {groups.iter().map(|g| view! { <option value=g.id.to_string()>{g.group.name.clone()}</option> }).collect_view()}
                    </select>
                    <FieldError name="group_id" errors=errors/>
                </div>
            </div>
            <div class="field">
                <label for="f-description">"Description"</label>
                <textarea id="f-description" rows="3" bind:value=description></textarea>
                <FieldError name="description" errors=errors/>
            </div>
            <div class="field">
                <label for="f-features">"Features (one per line)"</label>
                <textarea id="f-features" rows="5" bind:value=features></textarea>
                <FieldError name="features" errors=errors/>
            </div>
            <div class="toolbar flush">
                <label class="check"><input type="checkbox" bind:checked=featured/>" Featured"</label>
                <label class="check"><input type="checkbox" bind:checked=hidden/>" Hidden"</label>
                <label class="check"><input type="checkbox" bind:checked=retired/>" Retired"</label>
                <label class="check"><input type="checkbox" bind:checked=requires_domain/>" Requires a domain"</label>
            </div>
            <div class="field-row">
                <Field label="Stock" name="stock" value=stock errors=errors hint="Empty: unlimited."/>
                <Field label="Module" name="module" value=module errors=errors/>
                <Field label="Package" name="package" value=package errors=errors/>
            </div>

            <h2>"Prices"</h2>
            <p class="muted small">"Amounts in major units (19.99). An empty renewal means the same as the first cycle."</p>
            <PriceTable rows=rows codes=codes default_currency=default_currency prefix="prices".to_string() errors=errors keep=keep testid="prices-table"/>

            <h2>"Add-ons"</h2>
            <p class="muted small">"Offered in the configurator of this product."</p>
            {if addon_checks.is_empty() {
                view! { <p class="muted">"No add-ons yet: create them under Add-ons."</p> }.into_any()
            } else {
                view! { <fieldset class="perms" data-testid="product-addons">{addon_checks.view()}</fieldset> }.into_any()
            }}
            {move || {
                let m = errors.with(|e| messages_under(e, "addon_ids", ""));
                (!m.is_empty()).then(|| view! { <p class="field-error">{m.join("; ")}</p> })
            }}

            <OptionsEditor options=options product_rows=rows codes=codes default_currency=default_currency errors=errors keep=keep/>

            <ErrorBanner message=form.banner/>
            <Notice message=notice/>
            <div class="toolbar flush">
                <Submit pending=send.pending() label="Save product" busy="Saving…"/>
            </div>
        </form>
    }
}

/// "19" or "9.5" percent → basis points (1900, 950).
pub(super) fn percent_to_bp(text: &str) -> Option<i64> {
    parse_decimal(text.trim().trim_end_matches('%'), 2)
}

#[component]
pub fn TaxesPage() -> impl IntoView {
    let session = use_session();
    let rules = LocalResource::new(move || admin::tax_rules(session));
    let settings = LocalResource::new(move || admin::commerce_settings(session));
    let editing = RwSignal::new(None::<String>);
    let country = RwSignal::new(String::new());
    let state = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let rate = RwSignal::new(String::new());
    let level = RwSignal::new("1".to_string());
    let compound = RwSignal::new(false);
    let form = Form::new();
    let notice = RwSignal::new(None::<String>);
    let clear = move || {
        editing.set(None);
        for s in [country, state, name, rate] {
            s.set(String::new());
        }
        level.set("1".into());
        compound.set(false);
    };
    let send = form.action(
        move |(id, body): &(Option<String>, TaxRuleInput)| admin::save_tax_rule(session, id.clone(), body.clone()),
        move |r: TaxRule| {
            notice.set(Some(format!("{} saved.", r.rule.name)));
            clear();
            rules.refetch();
        },
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        notice.set(None);
        let Some(bp) = percent_to_bp(&rate.get_untracked()).and_then(|v| u32::try_from(v).ok()) else {
            form.errors
                .set(BTreeMap::from([("rate_bp".to_string(), vec!["a percentage like 19 or 9.75 (at most two decimals)".to_string()])]));
            return;
        };
        let body = TaxRuleInput {
            country: country.get_untracked().trim().to_uppercase(),
            state: state.get_untracked().trim().to_string(),
            name: name.get_untracked().trim().to_string(),
            rate_bp: bp,
            level: if level.get_untracked() == "2" { 2 } else { 1 },
            compound: compound.get_untracked(),
        };
        if form.check(&body) {
            send.dispatch_local((editing.get_untracked(), body));
        }
    };
    let banner = RwSignal::new(None::<String>);
    let errors = form.errors;
    view! {
        <header class="page-head">
            <div><h1>"Taxes"</h1><p class="muted">"Tax rules by country and state, and how prices are taxed."</p></div>
        </header>
        <ErrorBanner message=banner/>
        {loaded(rules, move |list| {
            if list.is_empty() {
                return view! { <Empty title="No tax rules yet"/> }.into_any();
            }
            view! {
                <div class="card table-card">
                    <table class="table" data-testid="tax-rules-table">
                        <thead><tr><th>"Country"</th><th>"State"</th><th>"Name"</th><th>"Rate"</th><th>"Level"</th><th></th></tr></thead>
                        <tbody>
                            {list.into_iter().map(|r| {
                                let r2 = r.clone();
                                let id = r.id.to_string();
                                view! {
                                    <tr>
                                        <td>{r.rule.country.clone()}</td>
                                        <td>{r.rule.state.clone()}</td>
                                        <td>{r.rule.name.clone()}</td>
                                        <td>{format!("{} %", format_decimal(i64::from(r.rule.rate_bp), 2))}</td>
                                        <td>{format!("{}{}", r.rule.level, if r.rule.compound { " (compound)" } else { "" })}</td>
                                        <td>
                                            <button class="btn btn-outline btn-sm" type="button" on:click=move |_| {
                                                editing.set(Some(r2.id.to_string()));
                                                country.set(r2.rule.country.clone());
                                                state.set(r2.rule.state.clone());
                                                name.set(r2.rule.name.clone());
                                                rate.set(format_decimal(i64::from(r2.rule.rate_bp), 2));
                                                level.set(r2.rule.level.to_string());
                                                compound.set(r2.rule.compound);
                                            }>"Edit"</button>
                                            <button class="btn btn-outline btn-danger btn-sm" type="button" on:click=move |_| {
                                                let id = id.clone();
                                                spawn_local(async move {
                                                    match admin::delete_tax_rule(session, &id).await {
                                                        Ok(()) => rules.refetch(),
                                                        Err(e) => banner.set(Some(e.message())),
                                                    }
                                                });
                                            }>"Delete"</button>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }
            .into_any()
        })}
        <form class="card staff-form" on:submit=submit novalidate data-testid="tax-rule-form">
            <h2>{move || if editing.with(Option::is_some) { "Edit tax rule" } else { "Add a tax rule" }}</h2>
            <ErrorBanner message=form.banner/>
            <Notice message=notice/>
            <div class="field-row">
                <Field label="Country" name="country" value=country errors=errors hint="Two letters: DE, US…"/>
                <Field label="State" name="state" value=state errors=errors hint="Empty: the whole country."/>
                <Field label="Name" name="name" value=name errors=errors hint="VAT, GST…"/>
                <Field label="Rate (%)" name="rate_bp" value=rate errors=errors/>
            </div>
            <div class="toolbar flush">
                <label>"Level "<select bind:value=level><option value="1">"1"</option><option value="2">"2"</option></select></label>
                <label class="check"><input type="checkbox" bind:checked=compound/>" Compound (level 2: on the amount plus the level-1 tax)"</label>
                <FieldError name="level" errors=errors/>
            </div>
            <div class="toolbar flush">
                <Submit pending=send.pending() label="Save tax rule" busy="Saving…"/>
                <button class="btn btn-outline" type="button" on:click=move |_| clear()>"Clear"</button>
            </div>
        </form>
        {loaded(settings, move |s| view! { <SettingsForm settings=s session=session/> })}
    }
}

#[component]
fn SettingsForm(settings: CommerceSettings, session: SessionCtx) -> impl IntoView {
    let inclusive = RwSignal::new(settings.tax_inclusive);
    let convert = RwSignal::new(settings.convert_missing_prices);
    let home = RwSignal::new(settings.home_country.clone().unwrap_or_default());
    let vies = RwSignal::new(settings.check_vat_online);
    let ecb = RwSignal::new(settings.refresh_rates);
    let manual = RwSignal::new(settings.manual_order_acceptance);
    let on_payment = RwSignal::new(settings.accept_on_payment);
    // Fields this form does not show are sent back as they came.
    let loaded = StoredValue::new(settings);
    let form = Form::new();
    let notice = RwSignal::new(None::<String>);
    let send = form.action(
        move |b: &CommerceSettings| admin::save_commerce_settings(session, b.clone()),
        move |_| notice.set(Some("Settings saved.".into())),
    );
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        notice.set(None);
        let h = home.get_untracked().trim().to_uppercase();
        let mut body = loaded.get_value();
        body.tax_inclusive = inclusive.get_untracked();
        body.convert_missing_prices = convert.get_untracked();
        body.home_country = Some(h).filter(|h| !h.is_empty());
        body.check_vat_online = vies.get_untracked();
        body.refresh_rates = ecb.get_untracked();
        body.manual_order_acceptance = manual.get_untracked();
        body.accept_on_payment = on_payment.get_untracked();
        if form.check(&body) {
            send.dispatch_local(body);
        }
    };
    view! {
        <form class="card staff-form" on:submit=submit novalidate data-testid="commerce-settings-form">
            <h2>"Settings"</h2>
            <ErrorBanner message=form.banner/>
            <Notice message=notice/>
            <label class="check"><input type="checkbox" bind:checked=inclusive/>" Prices include tax"</label>
            <label class="check"><input type="checkbox" bind:checked=convert/>" Convert missing prices from the default currency"</label>
            <Field label="Home country" name="home_country" value=home errors=form.errors hint="Two letters; decides the EU reverse charge."/>
            <label class="check"><input type="checkbox" bind:checked=vies/>" Confirm EU VAT ids with the EU's VIES service before the reverse charge"</label>
            <label class="check"><input type="checkbox" bind:checked=ecb/>" Update exchange rates every working day from the European Central Bank"</label>
            <label class="check"><input type="checkbox" bind:checked=manual/>" New orders wait for an administrator to accept them"</label>
            <label class="check"><input type="checkbox" bind:checked=on_payment/>" …unless they are paid: accept paid orders and provision them at once"</label>
            <Submit pending=send.pending() label="Save settings" busy="Saving…"/>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_become_basis_points() {
        assert_eq!(percent_to_bp("19"), Some(1900));
        assert_eq!(percent_to_bp("9.75%"), Some(975));
        assert_eq!(percent_to_bp("12.5"), Some(1250));
        assert_eq!(percent_to_bp("1.234"), None);
    }
}
