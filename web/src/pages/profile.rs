//! The client's profile, data export and deletion request; the admin's deletion approvals.

use std::collections::BTreeMap;

use keel_shared::auth::{Address, Profile};
use keel_shared::validation::field_messages;
use keel_shared::Currency;
use leptos::prelude::*;
use leptos::task::spawn_local;
use validator::Validate;

use super::auth::{show_error, Field, FieldErrors};
use crate::api;
use crate::components::feedback::{ErrorPanel, Loading};
use crate::session::use_session;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let session = use_session();
    let loaded = LocalResource::new(move || {
        // Switching accounts loads the other account's details.
        session.acting.track();
        api::profile(session)
    });
    let acting = move || session.acting.get().map(|m| m.account_name);
    view! {
        <header class="page-head"><div>
            <h1>{move || match acting() { Some(name) => format!("Billing details of {name}"), None => "Profile".to_string() }}</h1>
            <p class="muted">"The account's details and the address on its invoices."</p>
        </div></header>
        {move || match loaded.get() {
            None => view! { <Loading/> }.into_any(),
            Some(Err(e)) => view! { <ErrorPanel error=e/> }.into_any(),
            Some(Ok(p)) if acting().is_some() => view! { <ProfileForm profile=p/> }.into_any(),
            Some(Ok(p)) => view! { <ProfileForm profile=p/> <YourData/> }.into_any(),
        }}
    }
}

#[component]
fn ProfileForm(profile: Profile) -> impl IntoView {
    let session = use_session();
    let s = |v: &str| RwSignal::new(v.to_string());
    let a = profile.address.clone().unwrap_or_default();
    let (first, last) = (s(&profile.first_name), s(&profile.last_name));
    let company = s(profile.company.as_deref().unwrap_or(""));
    let phone = s(profile.phone.as_deref().unwrap_or(""));
    let tax = s(profile.tax_id.as_deref().unwrap_or(""));
    let (line1, line2, city, region, postcode, country) = (s(&a.line1), s(&a.line2), s(&a.city), s(&a.region), s(&a.postcode), s(&a.country));
    let b = profile.billing_address.clone().unwrap_or_default();
    let separate_billing = RwSignal::new(profile.billing_address.is_some());
    let (b_line1, b_line2, b_city, b_region, b_postcode, b_country) = (s(&b.line1), s(&b.line2), s(&b.city), s(&b.region), s(&b.postcode), s(&b.country));
    let currency = RwSignal::new(profile.currency);
    let language = s(&profile.language);
    let errors: FieldErrors = RwSignal::new(BTreeMap::new());
    let banner = RwSignal::new(None::<String>);
    let saved = RwSignal::new(false);
    let opt = |v: RwSignal<String>| Some(v.get_untracked().trim().to_string()).filter(|x| !x.is_empty());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        banner.set(None);
        saved.set(false);
        let any_address = [line1, city, postcode, country].iter().any(|f| !f.get_untracked().trim().is_empty());
        let read = |line1: RwSignal<String>, line2: RwSignal<String>, city: RwSignal<String>, region: RwSignal<String>, postcode: RwSignal<String>, country: RwSignal<String>| Address {
            line1: line1.get_untracked().trim().into(),
            line2: line2.get_untracked().trim().into(),
            city: city.get_untracked().trim().into(),
            region: region.get_untracked().trim().into(),
            postcode: postcode.get_untracked().trim().into(),
            country: country.get_untracked().trim().to_uppercase(),
        };
        let req = Profile {
            first_name: first.get_untracked().trim().into(),
            last_name: last.get_untracked().trim().into(),
            company: opt(company),
            phone: opt(phone),
            address: any_address.then(|| read(line1, line2, city, region, postcode, country)),
            billing_address: separate_billing.get_untracked().then(|| read(b_line1, b_line2, b_city, b_region, b_postcode, b_country)),
            tax_id: opt(tax),
            currency: currency.get_untracked(),
            language: language.get_untracked().trim().into(),
        };
        if let Err(e) = req.validate() {
            errors.set(field_messages(&e));
            return;
        }
        errors.set(BTreeMap::new());
        spawn_local(async move {
            match api::save_profile(session, &req).await {
                Ok(p) => {
                    saved.set(true);
                    if session.acting_for().is_none() {
                        session.current.update(|s| if let Some(s) = s { s.user.first_name = p.first_name.clone(); s.user.last_name = p.last_name.clone(); });
                    }
                }
                Err(e) => show_error(e, errors, banner),
            }
        });
    };
    let currencies = Currency::ALL.into_iter().map(|c| view! { <option value=c.code() selected=move || currency.get() == c>{c.code()}</option> }).collect_view();
    view! {
        <form class="card profile-form" on:submit=submit novalidate data-testid="profile-form">
            {move || banner.get().map(|m| view! { <div class="alert alert-error" role="alert">{m}</div> })}
            {move || saved.get().then(|| view! { <div class="alert alert-info" role="status">"Profile saved."</div> })}
            <div class="field-row">
                <Field label="First name" name="first_name" autocomplete="given-name" value=first errors=errors/>
                <Field label="Last name" name="last_name" autocomplete="family-name" value=last errors=errors/>
            </div>
            <div class="field-row">
                <Field label="Company (optional)" name="company" autocomplete="organization" value=company errors=errors/>
                <Field label="Phone" name="phone" kind="tel" autocomplete="tel" value=phone errors=errors/>
            </div>
            <h2>"Address"</h2>
            <Field label="Street and number" name="address.line1" autocomplete="address-line1" value=line1 errors=errors/>
            <Field label="Address line 2 (optional)" name="address.line2" autocomplete="address-line2" value=line2 errors=errors/>
            <div class="field-row">
                <Field label="City" name="address.city" autocomplete="address-level2" value=city errors=errors/>
                <Field label="Postcode" name="address.postcode" autocomplete="postal-code" value=postcode errors=errors/>
            </div>
            <div class="field-row">
                <Field label="Region (optional)" name="address.region" autocomplete="address-level1" value=region errors=errors/>
                <Field label="Country code" name="address.country" autocomplete="country" hint="Two letters, e.g. DE" value=country errors=errors/>
            </div>
            <h2>"Billing"</h2>
            <label class="check"><input type="checkbox" name="separate_billing" bind:checked=separate_billing/>" Send invoices to a different address"</label>
            <div class="billing-address" class:hidden=move || !separate_billing.get() data-testid="billing-address">
                <Field label="Billing street and number" name="billing_address.line1" autocomplete="billing address-line1" value=b_line1 errors=errors/>
                <Field label="Billing address line 2 (optional)" name="billing_address.line2" autocomplete="billing address-line2" value=b_line2 errors=errors/>
                <div class="field-row">
                    <Field label="Billing city" name="billing_address.city" autocomplete="billing address-level2" value=b_city errors=errors/>
                    <Field label="Billing postcode" name="billing_address.postcode" autocomplete="billing postal-code" value=b_postcode errors=errors/>
                </div>
                <div class="field-row">
                    <Field label="Billing region (optional)" name="billing_address.region" autocomplete="billing address-level1" value=b_region errors=errors/>
                    <Field label="Billing country code" name="billing_address.country" autocomplete="billing country" hint="Two letters, e.g. DE" value=b_country errors=errors/>
                </div>
            </div>
            <div class="field-row">
                <Field label="Tax / VAT number (optional)" name="tax_id" value=tax errors=errors/>
                <label class="field"><span>"Currency"</span>
                    <select on:change=move |ev| if let Some(c) = Currency::parse(&event_target_value(&ev)) { currency.set(c) }>{currencies}</select>
                </label>
            </div>
            <div><button class="btn btn-primary" type="submit">"Save profile"</button></div>
        </form>
    }
}

#[component]
fn YourData() -> impl IntoView {
    let session = use_session();
    let note = RwSignal::new(None::<String>);
    let export = move |_| {
        spawn_local(async move {
            match api::export_data(session).await {
                Ok(data) => {
                    let text = serde_json::to_string_pretty(&data).unwrap_or_default();
                    download("keel-my-data.json", &text);
                    note.set(Some("Your data was downloaded as keel-my-data.json.".into()));
                }
                Err(e) => note.set(Some(e.message())),
            }
        });
    };
    let delete = move |_| {
        spawn_local(async move {
            note.set(Some(match api::request_deletion(session).await {
                Ok(()) => "Deletion requested. We will confirm by e-mail once it is done; invoices are kept as the law requires.".into(),
                Err(e) => e.message(),
            }));
        });
    };
    view! {
        <section class="card your-data" data-testid="your-data">
            <h2>"Your data"</h2>
            <p class="muted small">"Download everything we hold about you, or ask us to delete your account."</p>
            {move || note.get().map(|n| view! { <div class="alert alert-info" role="status">{n}</div> })}
            <div class="row-actions left">
                <button class="btn btn-outline" type="button" on:click=export>"Download my data"</button>
                <button class="btn btn-ghost danger" type="button" on:click=delete>"Request deletion"</button>
            </div>
        </section>
    }
}

/// Offers `text` as a file download (a data: link, no server round trip).
fn download(name: &str, text: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let Ok(a) = doc.create_element("a") else { return };
    let href = format!("data:application/json;charset=utf-8,{}", js_encode(text));
    let _ = a.set_attribute("href", &href);
    let _ = a.set_attribute("download", name);
    if let Some(body) = doc.body() {
        let _ = body.append_child(&a);
        if let Ok(el) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(a.clone()) {
            el.click();
        }
        let _ = body.remove_child(&a);
    }
}

fn js_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Pending deletion requests; `changed` is bumped after an approval so the client list reloads.
#[component]
pub fn DeletionRequests(changed: RwSignal<u32>) -> impl IntoView {
    let session = use_session();
    let version = RwSignal::new(0u32);
    let list = LocalResource::new(move || {
        version.track();
        api::deletion_requests(session)
    });
    let approve = move |id: String| {
        spawn_local(async move {
            let _ = api::anonymise(session, &id).await;
            version.update(|v| *v += 1);
            changed.update(|v| *v += 1);
        });
    };
    view! {
        {move || match list.get() {
            Some(Ok(items)) if !items.is_empty() => view! {
                <section class="card deletion-requests" data-testid="deletion-requests">
                    <h2>"Deletion requests"</h2>
                    <p class="muted small">"Approving anonymises the client's personal data; invoices stay."</p>
                    <ul class="session-list">
                        {items.into_iter().map(|c| {
                            let id = c.id.clone();
                            view! {
                                <li class="session-item">
                                    <div><strong>{format!("{} {}", c.first_name, c.last_name)}</strong><p class="muted small">{c.email.clone()}</p></div>
                                    <button class="btn btn-outline btn-sm" type="button" on:click=move |_| approve(id.clone())>"Approve and anonymise"</button>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                </section>
            }.into_any(),
            _ => ().into_any(),
        }}
    }
}
