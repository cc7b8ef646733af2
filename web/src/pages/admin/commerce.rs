//! Admin: promo codes and currencies (`catalog.manage`). Percentages are typed as percent ("15")
//! and sent as basis points; fixed amounts and minimum orders in major units of the default
//! currency; rates as decimals ("0.92") sent in millionths. All by integer parsing.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use keel_shared::commerce::{CurrencyInput, PromoCode, PromoCodeInput};
use keel_shared::money::{Currency, CurrencyInfo};
use keel_shared::pricing::{PromoDuration, PromoKind};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos::web_sys::SubmitEvent;

use super::catalog::{format_decimal, parse_decimal};
use crate::api::{admin, ClientError};
use crate::components::feedback::{loaded, Empty, ErrorBanner, Notice};
use crate::components::form::{Field, FieldError, Form, Submit};
use crate::session::{use_session, SessionCtx};

fn date_text(d: Option<DateTime<Utc>>) -> String {
    d.map(|d| d.date_naive().to_string()).unwrap_or_default()
}

/// 25 % or 5.00 USD (a fixed amount without a currency is in the default currency).
fn promo_value(p: &PromoCodeInput, default: Option<Currency>) -> String {
    match p.kind {
        PromoKind::Percent => format!("{} %", format_decimal(p.value, 2)),
        PromoKind::Fixed => match p.currency.or(default) {
            Some(c) => format!("{} {}", format_decimal(p.value, c.exponent()), c.code()),
            None => p.value.to_string(),
        },
    }
}

#[component]
pub fn PromosPage() -> impl IntoView {
    let session = use_session();
    let data = LocalResource::new(move || async move {
        let promos = admin::promo_codes(session).await?;
        let currencies = admin::currencies(session).await?;
        Ok::<_, ClientError>((promos, currencies))
    });
    let editing = RwSignal::new(None::<PromoCode>);
    let open = RwSignal::new(false);
    view! {
        <header class="page-head">
            <div><h1>"Promo codes"</h1><p class="muted">"Discounts customers enter in the cart."</p></div>
            <button class="btn btn-primary" type="button" data-testid="new-promo"
                on:click=move |_| { editing.set(None); open.set(true); }>"New promo code"</button>
        </header>
        {loaded(data, move |(promos, currencies)| {
            let default_currency = currencies.iter().find(|c| c.is_default).map(|c| c.code);
            let cur = currencies.clone();
            view! {
                {move || open.get().then(|| view! {
                    <PromoForm promo=editing.get() currencies=cur.clone() session=session
                        done=Callback::new(move |_| { open.set(false); data.refetch(); })/>
                })}
                {if promos.is_empty() {
                    view! { <Empty title="No promo codes yet"/> }.into_any()
                } else {
                    view! {
                        <div class="card table-card">
                            <table class="table" data-testid="promos-table">
                                <thead><tr><th>"Code"</th><th>"Kind"</th><th>"Value"</th><th>"Uses"</th><th>"Active"</th><th></th></tr></thead>
                                <tbody>
                                    {promos.into_iter().map(|p| {
                                        let p2 = p.clone();
                                        view! {
                                            <tr>
                                                <td><code>{p.promo.code.clone()}</code></td>
                                                <td>{p.promo.kind.as_str()}{format!(", {}", p.promo.duration.as_str())}</td>
                                                <td>{promo_value(&p.promo, default_currency)}</td>
                                                <td>{format!("{} / {}", p.uses, p.promo.max_uses.map(|m| m.to_string()).unwrap_or_else(|| "∞".into()))}</td>
                                                <td>{if p.promo.active { "yes" } else { "no" }}</td>
                                                <td><button class="btn btn-ghost btn-sm" type="button"
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

#[component]
fn PromoForm(promo: Option<PromoCode>, currencies: Vec<CurrencyInfo>, session: SessionCtx, done: Callback<()>) -> impl IntoView {
    let id = promo.as_ref().map(|p| p.id.to_string());
    let p = promo.map(|p| p.promo);
    let default_exp = currencies.iter().find(|c| c.is_default).map(|c| c.exponent).unwrap_or(2);
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
    let duration = RwSignal::new(p.as_ref().map(|p| p.duration.as_str()).unwrap_or("once").to_string());
    let cycles = RwSignal::new(p.as_ref().and_then(|p| p.duration_cycles).map(|c| c.to_string()).unwrap_or_default());
    let starts = RwSignal::new(date_text(p.as_ref().and_then(|p| p.starts_at)));
    let expires = RwSignal::new(date_text(p.as_ref().and_then(|p| p.expires_at)));
    let max_uses = RwSignal::new(p.as_ref().and_then(|p| p.max_uses).map(|m| m.to_string()).unwrap_or_default());
    let min_order = RwSignal::new(p.as_ref().and_then(|p| p.min_order_minor).map(|m| format_decimal(m, default_exp)).unwrap_or_default());
    let once = RwSignal::new(p.as_ref().is_some_and(|p| p.once_per_client));
    let new_only = RwSignal::new(p.as_ref().is_some_and(|p| p.new_clients_only));
    let active = RwSignal::new(p.as_ref().is_none_or(|p| p.active));
    let form = Form::new();
    let send = form.action(
        move |(id, body): &(Option<String>, PromoCodeInput)| admin::save_promo_code(session, id.clone(), body.clone()),
        move |_: PromoCode| done.run(()),
    );
    let keep = p.clone();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let mut errors = BTreeMap::new();
        let mut bad = |field: &str, msg: &str| {
            errors.insert(field.to_string(), vec![msg.to_string()]);
        };
        let kind_v = PromoKind::parse(&kind.get_untracked()).unwrap_or(PromoKind::Percent);
        let value_v = match kind_v {
            PromoKind::Percent => parse_decimal(&value.get_untracked(), 2),
            PromoKind::Fixed => parse_decimal(&value.get_untracked(), fixed_exp),
        };
        if value_v.is_none() {
            bad("value", if kind_v == PromoKind::Percent { "a percentage like 15 or 12.5" } else { "an amount like 5.00" });
        }
        let int = |s: String| s.trim().parse::<i64>().ok();
        let cycles_t = cycles.get_untracked();
        let cycles_v = if cycles_t.trim().is_empty() { None } else { int(cycles_t).and_then(|c| u32::try_from(c).ok()) };
        let max_t = max_uses.get_untracked();
        let max_v = if max_t.trim().is_empty() { None } else { int(max_t.clone()).and_then(|c| i32::try_from(c).ok()) };
        if !max_t.trim().is_empty() && max_v.is_none() {
            bad("max_uses", "a whole number, or empty for unlimited");
        }
        let min_t = min_order.get_untracked();
        let min_v = if min_t.trim().is_empty() { None } else { parse_decimal(&min_t, default_exp) };
        if !min_t.trim().is_empty() && min_v.is_none() {
            bad("min_order_minor", "an amount like 50.00");
        }
        let date = |s: String| -> Result<Option<DateTime<Utc>>, ()> {
            if s.trim().is_empty() {
                return Ok(None);
            }
            // YYYY-MM-DD, as a date input gives it.
            let parts: Vec<u32> = s.trim().split('-').map(|p| p.parse().ok()).collect::<Option<_>>().ok_or(())?;
            let [y, m, d] = parts[..] else { return Err(()) };
            let day = NaiveDate::from_ymd_opt(i32::try_from(y).map_err(|_| ())?, m, d).ok_or(())?;
            Ok(day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()))
        };
        let starts_v = date(starts.get_untracked()).unwrap_or_else(|_| {
            bad("starts_at", "a date");
            None
        });
        let expires_v = date(expires.get_untracked()).unwrap_or_else(|_| {
            bad("expires_at", "a date");
            None
        });
        if !errors.is_empty() {
            form.errors.set(errors);
            return;
        }
        let body = PromoCodeInput {
            code: code.get_untracked().trim().to_string(),
            kind: kind_v,
            value: value_v.unwrap_or(0),
            currency: keep.as_ref().and_then(|k| k.currency),
            duration: PromoDuration::parse(&duration.get_untracked()).unwrap_or(PromoDuration::Once),
            duration_cycles: cycles_v,
            product_ids: keep.as_ref().map(|k| k.product_ids.clone()).unwrap_or_default(),
            cycles: keep.as_ref().map(|k| k.cycles.clone()).unwrap_or_default(),
            addon_ids: keep.as_ref().map(|k| k.addon_ids.clone()).unwrap_or_default(),
            starts_at: starts_v,
            expires_at: expires_v,
            max_uses: max_v,
            once_per_client: once.get_untracked(),
            new_clients_only: new_only.get_untracked(),
            min_order_minor: min_v,
            active: active.get_untracked(),
        };
        if form.check(&body) {
            send.dispatch_local((id.clone(), body));
        }
    };
    let errors = form.errors;
    let editing = p.is_some();
    view! {
        <form class="card staff-form" on:submit=submit novalidate data-testid="promo-form">
            <h2>{if editing { "Edit promo code" } else { "New promo code" }}</h2>
            <ErrorBanner message=form.banner/>
            <div class="field-row">
                <Field label="Code" name="code" value=code errors=errors/>
                <label class="field"><span>"Kind"</span>
                    <select bind:value=kind data-testid="promo-kind">
                        <option value="percent">"Percentage"</option>
                        <option value="fixed">"Fixed amount (default currency)"</option>
                    </select>
                </label>
            </div>
            <div class="field-row">
                <Field label="Value (percent, or amount)" name="value" value=value errors=errors/>
                <label class="field"><span>"Duration"</span>
                    <select bind:value=duration>
                        <option value="once">"First payment"</option>
                        <option value="repeating">"Repeating (cycles)"</option>
                        <option value="forever">"Every payment"</option>
                    </select>
                </label>
            </div>
            <div class="field-row">
                <Field label="Cycles (repeating)" name="duration_cycles" value=cycles errors=errors/>
                <Field label="Maximum uses" name="max_uses" value=max_uses errors=errors hint="Empty: unlimited."/>
            </div>
            <div class="field-row">
                <Field label="Starts" name="starts_at" kind="date" value=starts errors=errors/>
                <Field label="Expires" name="expires_at" kind="date" value=expires errors=errors/>
            </div>
            <Field label="Minimum order (default currency)" name="min_order_minor" value=min_order errors=errors/>
            <label class="check"><input type="checkbox" bind:checked=once/>" Once per client"</label>
            <label class="check"><input type="checkbox" bind:checked=new_only/>" New clients only"</label>
            <label class="check"><input type="checkbox" bind:checked=active/>" Active"</label>
            <FieldError name="currency" errors=errors/>
            {editing.then(|| view! { <p class="muted small">"Product, cycle and add-on restrictions are kept as they are."</p> })}
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
