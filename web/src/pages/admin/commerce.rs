//! Admin: promo codes and currencies (`catalog.manage`). Percentages are typed as percent ("12.5")
//! and sent as basis points (1250); fixed amounts in major units of their currency, minimum
//! orders in major units of the default currency; rates as decimals ("0.92") sent in millionths.
//! All by integer parsing.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use keel_shared::catalog::{AdminAddon, AdminProduct, BillingCycle};
use keel_shared::commerce::{CurrencyInput, PromoCode, PromoCodeInput};
use keel_shared::ids::{AddonId, ProductId};
use keel_shared::money::{Currency, CurrencyInfo};
use keel_shared::pricing::{PromoDuration, PromoKind};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::web_sys::SubmitEvent;

use super::catalog::percent_to_bp;
use super::prices::{format_decimal, money, parse_decimal};
use crate::api::{admin, ClientError};
use crate::components::checks::IdChecks;
use crate::components::feedback::{loaded, Empty, ErrorBanner, Notice};
use crate::components::form::{messages_under, Field, FieldError, Form, Submit};
use crate::session::{use_session, SessionCtx};

fn date_text(d: Option<DateTime<Utc>>) -> String {
    d.map(|d| d.date_naive().to_string()).unwrap_or_default()
}

/// "25.00 %" or "5.00 USD" (a fixed amount without a currency is in the default currency).
fn promo_value(p: &PromoCodeInput, default: Option<Currency>) -> String {
    match p.kind {
        PromoKind::Percent => format!("{} %", format_decimal(p.value, 2)),
        PromoKind::Fixed => match p.currency.or(default) {
            Some(c) => format!("{} {}", format_decimal(p.value, c.exponent()), c.code()),
            None => p.value.to_string(),
        },
    }
}

fn duration_text(p: &PromoCodeInput) -> String {
    match p.duration {
        PromoDuration::Once => "first payment".into(),
        PromoDuration::Repeating => format!("{} payments", p.duration_cycles.unwrap_or(1)),
        PromoDuration::Forever => "every payment".into(),
    }
}

/// What a promo applies to, in words: "VPS 2 · monthly · + Daily backups" or "every product".
fn applies_text(p: &PromoCodeInput, products: &[AdminProduct], addons: &[AdminAddon]) -> String {
    let mut parts = Vec::new();
    parts.push(if p.product_ids.is_empty() {
        "every product".to_string()
    } else {
        p.product_ids
            .iter()
            .map(|id| products.iter().find(|x| &x.id == id).map_or_else(|| id.to_string(), |x| x.product.name.clone()))
            .collect::<Vec<_>>()
            .join(", ")
    });
    if !p.cycles.is_empty() {
        parts.push(p.cycles.iter().map(|c| c.label().to_lowercase()).collect::<Vec<_>>().join(", "));
    }
    if !p.addon_ids.is_empty() {
        let names: Vec<String> = p
            .addon_ids
            .iter()
            .map(|id| addons.iter().find(|x| &x.id == id).map_or_else(|| id.to_string(), |x| x.addon.name.clone()))
            .collect();
        parts.push(format!("+ {}", names.join(", ")));
    }
    parts.join(" · ")
}

/// The conditions on who and when: dates, once per client, new clients, minimum order.
fn limits_text(p: &PromoCodeInput, default: Option<Currency>) -> String {
    let mut parts = Vec::new();
    match (p.starts_at, p.expires_at) {
        (Some(s), Some(e)) => parts.push(format!("{} to {}", date_text(Some(s)), date_text(Some(e)))),
        (Some(s), None) => parts.push(format!("from {}", date_text(Some(s)))),
        (None, Some(e)) => parts.push(format!("until {}", date_text(Some(e)))),
        (None, None) => {}
    }
    if p.once_per_client {
        parts.push("once per client".into());
    }
    if p.new_clients_only {
        parts.push("new clients only".into());
    }
    if let (Some(m), Some(c)) = (p.min_order_minor, default) {
        parts.push(format!("order ≥ {}", money(m, c)));
    }
    if parts.is_empty() {
        "—".into()
    } else {
        parts.join(" · ")
    }
}

type PromoData = (Vec<PromoCode>, Vec<CurrencyInfo>, Vec<AdminProduct>, Vec<AdminAddon>);

#[component]
pub fn PromosPage() -> impl IntoView {
    let session = use_session();
    let data = LocalResource::new(move || async move {
        let promos = admin::promo_codes(session).await?;
        let currencies = admin::currencies(session).await?;
        let products = admin::products(session).await?;
        let addons = admin::addons(session).await?;
        Ok::<PromoData, ClientError>((promos, currencies, products, addons))
    });
    let editing = RwSignal::new(None::<PromoCode>);
    let open = RwSignal::new(false);
    view! {
        <header class="page-head">
            <div><h1>"Promo codes"</h1><p class="muted">"Discounts customers enter in the cart."</p></div>
            <button class="btn btn-primary" type="button" data-testid="new-promo"
                on:click=move |_| { editing.set(None); open.set(false); open.set(true); }>"New promo code"</button>
        </header>
        {loaded(data, move |(promos, currencies, products, addons)| {
            let default_currency = currencies.iter().find(|c| c.is_default).map(|c| c.code);
            let catalog = StoredValue::new((currencies, products, addons));
            view! {
                {move || open.get().then(|| {
                    let (currencies, products, addons) = catalog.get_value();
                    view! {
                        <PromoForm promo=editing.get_untracked() currencies=currencies products=products addons=addons session=session
                            done=Callback::new(move |_| { open.set(false); data.refetch(); })/>
                    }
                })}
                {if promos.is_empty() {
                    view! { <Empty title="No promo codes yet"/> }.into_any()
                } else {
                    view! {
                        <div class="card table-card">
                            <table class="table" data-testid="promos-table">
                                <thead><tr><th>"Code"</th><th>"Discount"</th><th>"Applies to"</th><th>"Conditions"</th><th>"Uses"</th><th></th></tr></thead>
                                <tbody>
                                    {promos.into_iter().map(|p| {
                                        let p2 = p.clone();
                                        let (applies, limits) = catalog.with_value(|(_, products, addons)| {
                                            (applies_text(&p.promo, products, addons), limits_text(&p.promo, default_currency))
                                        });
                                        view! {
                                            <tr data-code=p.promo.code.clone()>
                                                <td>
                                                    <code>{p.promo.code.clone()}</code>
                                                    {p.promo.stackable.then(|| view! { " " <span class="pill">"stackable"</span> })}
                                                    {(!p.promo.active).then(|| view! { " " <span class="pill pill-failed">"off"</span> })}
                                                </td>
                                                <td>{promo_value(&p.promo, default_currency)}<div class="muted small">{duration_text(&p.promo)}</div></td>
                                                <td class="small">{applies}</td>
                                                <td class="small">{limits}</td>
                                                <td>{format!("{} / {}", p.uses, p.promo.max_uses.map(|m| m.to_string()).unwrap_or_else(|| "∞".into()))}</td>
                                                <td class="row-actions"><button class="btn btn-ghost btn-sm" type="button"
                                                    on:click=move |_| { editing.set(Some(p2.clone())); open.set(false); open.set(true); }>"Edit"</button></td>
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

/// "2026-05-01" (as a date input gives it) → that day at 00:00 UTC; empty → none.
fn parse_date(s: &str) -> Result<Option<DateTime<Utc>>, ()> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    let parts: Vec<u32> = s.trim().split('-').map(|p| p.parse().ok()).collect::<Option<_>>().ok_or(())?;
    let [y, m, d] = parts[..] else { return Err(()) };
    let day = NaiveDate::from_ymd_opt(i32::try_from(y).map_err(|_| ())?, m, d).ok_or(())?;
    Ok(day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()))
}

#[component]
fn PromoForm(
    promo: Option<PromoCode>,
    currencies: Vec<CurrencyInfo>,
    products: Vec<AdminProduct>,
    addons: Vec<AdminAddon>,
    session: SessionCtx,
    done: Callback<()>,
) -> impl IntoView {
    let id = promo.as_ref().map(|p| p.id.to_string());
    let p = promo.map(|p| p.promo);
    let default = currencies.iter().find(|c| c.is_default).map(|c| c.code);
    let default_exp = default.map(Currency::exponent).unwrap_or(2);
    let default_code = default.map(|c| c.code()).unwrap_or("USD");
    let fixed_exp = p.as_ref().and_then(|p| p.currency).map(Currency::exponent).unwrap_or(default_exp);
    let code = RwSignal::new(p.as_ref().map(|p| p.code.clone()).unwrap_or_default());
    let kind = RwSignal::new(p.as_ref().map(|p| p.kind.as_str()).unwrap_or("percent").to_string());
    let value = RwSignal::new(
        p.as_ref()
            .map(|p| match p.kind {
                PromoKind::Percent => format_decimal(p.value, 2),
                PromoKind::Fixed => format_decimal(p.value, fixed_exp),
            })
            .unwrap_or_default(),
    );
    let currency = RwSignal::new(p.as_ref().and_then(|p| p.currency).map(|c| c.code().to_string()).unwrap_or_default());
    let duration = RwSignal::new(p.as_ref().map(|p| p.duration.as_str()).unwrap_or("once").to_string());
    let cycles = RwSignal::new(p.as_ref().and_then(|p| p.duration_cycles).map(|c| c.to_string()).unwrap_or_default());
    let starts = RwSignal::new(date_text(p.as_ref().and_then(|p| p.starts_at)));
    let expires = RwSignal::new(date_text(p.as_ref().and_then(|p| p.expires_at)));
    let max_uses = RwSignal::new(p.as_ref().and_then(|p| p.max_uses).map(|m| m.to_string()).unwrap_or_default());
    let min_order = RwSignal::new(p.as_ref().and_then(|p| p.min_order_minor).map(|m| format_decimal(m, default_exp)).unwrap_or_default());
    let flag = |f: fn(&PromoCodeInput) -> bool, new: bool| RwSignal::new(p.as_ref().map_or(new, f));
    let once = flag(|p| p.once_per_client, false);
    let new_only = flag(|p| p.new_clients_only, false);
    let stackable = flag(|p| p.stackable, false);
    let active = flag(|p| p.active, true);
    let ids = |list: Option<Vec<String>>| list.unwrap_or_default();
    let product_checks = IdChecks::new(
        products.iter().map(|x| (x.id.to_string(), x.product.name.clone())),
        &ids(p.as_ref().map(|p| p.product_ids.iter().map(|x| x.to_string()).collect())),
    );
    let cycle_checks = IdChecks::new(
        BillingCycle::ALL
            .iter()
            .filter(|c| c.is_recurring() || **c == BillingCycle::OneTime)
            .map(|c| (c.as_str().to_string(), c.label().to_string())),
        &ids(p.as_ref().map(|p| p.cycles.iter().map(|c| c.as_str().to_string()).collect())),
    );
    let addon_checks = IdChecks::new(
        addons.iter().map(|x| (x.id.to_string(), x.addon.name.clone())),
        &ids(p.as_ref().map(|p| p.addon_ids.iter().map(|x| x.to_string()).collect())),
    );
    let shop_currencies: Vec<String> = currencies.iter().map(|c| c.code.code().to_string()).collect();
    let form = Form::new();
    let send = form.action(
        move |(id, body): &(Option<String>, PromoCodeInput)| admin::save_promo_code(session, id.clone(), body.clone()),
        move |_: PromoCode| done.run(()),
    );
    let (pc, cc, ac) = (product_checks.clone(), cycle_checks.clone(), addon_checks.clone());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let mut errors = BTreeMap::new();
        let mut bad = |field: &str, msg: &str| {
            errors.insert(field.to_string(), vec![msg.to_string()]);
        };
        let kind_v = PromoKind::parse(&kind.get_untracked()).unwrap_or(PromoKind::Percent);
        let currency_v = if kind_v == PromoKind::Fixed { Currency::parse(&currency.get_untracked()) } else { None };
        let value_v = match kind_v {
            PromoKind::Percent => percent_to_bp(&value.get_untracked()),
            PromoKind::Fixed => parse_decimal(&value.get_untracked(), currency_v.map(Currency::exponent).unwrap_or(default_exp)),
        };
        match value_v {
            None => bad("value", if kind_v == PromoKind::Percent { "a percentage like 15 or 12.5" } else { "an amount like 5.00" }),
            Some(v) if kind_v == PromoKind::Percent && v > 10_000 => bad("value", "at most 100 %"),
            _ => {}
        }
        let duration_v = PromoDuration::parse(&duration.get_untracked()).unwrap_or(PromoDuration::Once);
        let cycles_v = if duration_v == PromoDuration::Repeating {
            let t = cycles.get_untracked();
            let v = t.trim().parse::<u32>().ok();
            if v.is_none() {
                bad("duration_cycles", "how many payments it discounts: a whole number");
            }
            v
        } else {
            None
        };
        let max_t = max_uses.get_untracked();
        let max_v = if max_t.trim().is_empty() { None } else { max_t.trim().parse::<i32>().ok() };
        if !max_t.trim().is_empty() && max_v.is_none() {
            bad("max_uses", "a whole number, or empty for unlimited");
        }
        let min_t = min_order.get_untracked();
        let min_v = if min_t.trim().is_empty() { None } else { parse_decimal(&min_t, default_exp) };
        if !min_t.trim().is_empty() && min_v.is_none() {
            bad("min_order_minor", "an amount like 50.00");
        }
        let starts_v = parse_date(&starts.get_untracked()).unwrap_or_else(|_| {
            bad("starts_at", "a date");
            None
        });
        let expires_v = parse_date(&expires.get_untracked()).unwrap_or_else(|_| {
            bad("expires_at", "a date");
            None
        });
        if let (Some(s), Some(e)) = (starts_v, expires_v) {
            if e <= s {
                bad("expires_at", "must be after the start");
            }
        }
        if !errors.is_empty() {
            form.errors.set(errors);
            return;
        }
        let body = PromoCodeInput {
            code: code.get_untracked().trim().to_uppercase(),
            kind: kind_v,
            value: value_v.unwrap_or(0),
            currency: currency_v,
            duration: duration_v,
            duration_cycles: cycles_v,
            product_ids: pc.selected().iter().filter_map(|x| ProductId::parse(x)).collect(),
            cycles: cc.selected().iter().filter_map(|x| BillingCycle::parse(x)).collect(),
            addon_ids: ac.selected().iter().filter_map(|x| AddonId::parse(x)).collect(),
            starts_at: starts_v,
            expires_at: expires_v,
            max_uses: max_v,
            once_per_client: once.get_untracked(),
            new_clients_only: new_only.get_untracked(),
            stackable: stackable.get_untracked(),
            min_order_minor: min_v,
            active: active.get_untracked(),
        };
        if form.check(&body) {
            send.dispatch_local((id.clone(), body));
        }
    };
    let errors = form.errors;
    let editing = p.is_some();
    let fixed = move || kind.get() == "fixed";
    let list_error = move |name: &'static str| {
        move || {
            let m = errors.with(|e| messages_under(e, name, ""));
            (!m.is_empty()).then(|| view! { <p class="field-error">{m.join("; ")}</p> })
        }
    };
    view! {
        <form class="card staff-form" on:submit=submit novalidate data-testid="promo-form">
            <h2>{if editing { "Edit promo code" } else { "New promo code" }}</h2>
            <ErrorBanner message=form.banner/>
            <div class="field-row">
                <Field label="Code" name="code" value=code errors=errors hint="Letters, digits, - and _; customers may type it in any case."/>
                <div class="field">
                    <label for="f-kind">"Kind"</label>
                    <select id="f-kind" bind:value=kind data-testid="promo-kind">
                        <option value="percent">"Percentage"</option>
                        <option value="fixed">"Fixed amount"</option>
                    </select>
                </div>
            </div>
            <div class="field-row">
                <Field label="Value" name="value" value=value errors=errors hint="A percentage (12.5 for 12.5 %), or an amount per unit (5.00)."/>
                <div class="field" class:hidden=move || !fixed()>
                    <label for="f-currency">"Currency of the amount"</label>
                    <select id="f-currency" bind:value=currency>
                        <option value="">{format!("Default currency ({default_code})")}</option>
                        {shop_currencies.into_iter().map(|c| view! { <option value=c.clone()>{c.clone()}</option> }).collect_view()}
                    </select>
                    <FieldError name="currency" errors=errors/>
                </div>
            </div>
            <div class="field-row">
                <div class="field">
                    <label for="f-duration">"Discounts"</label>
                    <select id="f-duration" bind:value=duration>
                        <option value="once">"The first payment"</option>
                        <option value="repeating">"A number of payments"</option>
                        <option value="forever">"Every payment"</option>
                    </select>
                </div>
                <div class:hidden=move || duration.get() != "repeating">
                    <Field label="Number of payments" name="duration_cycles" kind="number" value=cycles errors=errors/>
                </div>
            </div>
            <fieldset class="perms" data-testid="promo-products">
                <legend>"Products (none ticked: every product)"</legend>
                {product_checks.view()}
            </fieldset>
            {list_error("product_ids")}
            <fieldset class="perms" data-testid="promo-cycles">
                <legend>"Billing cycles (none ticked: every cycle)"</legend>
                {cycle_checks.view()}
            </fieldset>
            {list_error("cycles")}
            {(!addon_checks.is_empty()).then(|| view! {
                <fieldset class="perms" data-testid="promo-addons">
                    <legend>"Also discounts these add-ons"</legend>
                    {addon_checks.view()}
                </fieldset>
            })}
            {list_error("addon_ids")}
            <div class="field-row">
                <Field label="Starts" name="starts_at" kind="date" value=starts errors=errors hint="Empty: at once."/>
                <Field label="Expires" name="expires_at" kind="date" value=expires errors=errors hint="Empty: never."/>
            </div>
            <div class="field-row">
                <Field label="Maximum uses" name="max_uses" kind="number" value=max_uses errors=errors hint="Empty: unlimited."/>
                <Field label="Minimum order (default currency)" name="min_order_minor" value=min_order errors=errors hint="The cart's subtotal; empty: none."/>
            </div>
            <div class="perms">
                <label class="perm"><input type="checkbox" bind:checked=once/>" Once per client"</label>
                <label class="perm"><input type="checkbox" bind:checked=new_only/>" New clients only"</label>
                <label class="perm"><input type="checkbox" bind:checked=stackable data-testid="promo-stackable"/>" Stackable: may be combined with other codes"</label>
                <label class="perm"><input type="checkbox" bind:checked=active/>" Active"</label>
            </div>
            <FieldError name="__all__" errors=errors/>
            <div class="row-actions">
                <Submit pending=send.pending() label="Save promo code" busy="Saving…"/>
                <button class="btn btn-ghost" type="button" on:click=move |_| done.run(())>"Cancel"</button>
            </div>
        </form>
    }
}

#[component]
pub fn CurrenciesPage() -> impl IntoView {
    let session = use_session();
    let list = RwSignal::new(None::<Vec<CurrencyInfo>>);
    let res = LocalResource::new(move || admin::currencies(session));
    let banner = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let new_code = RwSignal::new(String::new());
    let new_rate = RwSignal::new(String::new());
    let save = move |code: String, rate: String, is_default: bool| {
        banner.set(None);
        notice.set(None);
        let Some(rate_micros) = parse_decimal(&rate, 6).filter(|r| *r > 0) else {
            banner.set(Some(format!("The rate of {code} must be a positive decimal like 0.92 (up to six decimals).")));
            return;
        };
        spawn_local(async move {
            match admin::save_currency(session, &code, CurrencyInput { rate_micros, is_default, sort_order: 0 }).await {
                Ok(l) => {
                    list.set(Some(l));
                    notice.set(Some(format!("{code} saved.")));
                }
                Err(e) => banner.set(Some(e.message())),
            }
        });
    };
    let remove = move |code: String| {
        banner.set(None);
        spawn_local(async move {
            match admin::remove_currency(session, &code).await {
                Ok(l) => list.set(Some(l)),
                Err(e) => banner.set(Some(e.message())),
            }
        });
    };
    let add = move |ev: SubmitEvent| {
        ev.prevent_default();
        let code = new_code.get_untracked().trim().to_uppercase();
        if Currency::parse(&code).is_none() {
            banner.set(Some(format!("{code} is not an ISO 4217 currency code Keel knows.")));
            return;
        }
        save(code, new_rate.get_untracked(), false);
    };
    view! {
        <header class="page-head">
            <div><h1>"Currencies"</h1><p class="muted">"Rates are units of the currency per unit of the default currency (0.92)."</p></div>
        </header>
        <ErrorBanner message=banner/>
        <Notice message=notice/>
        {loaded(res, move |l| {
            list.set(Some(l));
        })}
        {move || list.get().map(|l| view! {
            <div class="card table-card">
                <table class="table" data-testid="currencies-table">
                    <thead><tr><th>"Code"</th><th>"Symbol"</th><th>"Rate"</th><th>"Default"</th><th></th></tr></thead>
                    <tbody>
                        {l.into_iter().map(|c| {
                            let rate = RwSignal::new(format_decimal(c.rate_micros, 6).trim_end_matches('0').trim_end_matches('.').to_string());
                            let code = c.code.code().to_string();
                            let (c1, c2, c3) = (code.clone(), code.clone(), code.clone());
                            view! {
                                <tr>
                                    <td><code>{code.clone()}</code></td>
                                    <td>{c.symbol.clone()}</td>
                                    <td><input type="text" inputmode="decimal" size="10" bind:value=rate disabled=c.is_default/></td>
                                    <td>{if c.is_default {
                                        view! { <span class="pill">"default"</span> }.into_any()
                                    } else {
                                        view! { <button class="btn btn-ghost btn-sm" type="button"
                                            on:click=move |_| save(c1.clone(), rate.get_untracked(), true)>"Make default"</button> }.into_any()
                                    }}</td>
                                    <td>
                                        <button class="btn btn-ghost btn-sm" type="button" on:click=move |_| save(c2.clone(), rate.get_untracked(), c.is_default)>"Save"</button>
                                        <button class="btn btn-ghost btn-sm" type="button" on:click=move |_| remove(c3.clone())>"Remove"</button>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        })}
        <form class="card staff-form" on:submit=add novalidate>
            <h2>"Add a currency"</h2>
            <div class="field-row">
                <label class="field"><span>"ISO code"</span><input type="text" maxlength="3" bind:value=new_code placeholder="EUR"/></label>
                <label class="field"><span>"Rate"</span><input type="text" inputmode="decimal" bind:value=new_rate placeholder="0.92"/></label>
            </div>
            <div class="row-actions"><button class="btn btn-primary" type="submit">"Add currency"</button></div>
        </form>
    }
}
