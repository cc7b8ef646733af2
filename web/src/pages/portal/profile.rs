//! The client's profile, data export and deletion request.

use keel_shared::auth::{Address, Profile};
use keel_shared::Currency;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, portal};
use crate::components::feedback::{loaded, ErrorBanner};
use crate::components::form::{Field, FieldErrors, Form, NameFields, Submit};
use crate::session::use_session;

#[component]
pub fn ProfilePage() -> impl IntoView {
    let session = use_session();
    let profile = LocalResource::new(move || {
        // Switching accounts loads the other account's details.
        session.acting.track();
        portal::profile(session)
    });
    let acting = move || session.acting.get().map(|m| m.account_name);
    view! {
        <header class="page-head"><div>
            <h1>{move || match acting() { Some(name) => format!("Billing details of {name}"), None => "Profile".to_string() }}</h1>
            <p class="muted">"The account's details and the address on its invoices."</p>
        </div></header>
        {loaded(profile, move |p: Profile| if acting().is_some() {
            view! { <ProfileForm profile=p/> }.into_any()
        } else {
            view! { <ProfileForm profile=p/> <YourData/> }.into_any()
        })}
    }
}

/// One address's form fields.
#[derive(Clone, Copy)]
struct AddressSignals {
    line1: RwSignal<String>,
    line2: RwSignal<String>,
    city: RwSignal<String>,
    region: RwSignal<String>,
    postcode: RwSignal<String>,
    country: RwSignal<String>,
}

impl AddressSignals {
    fn new(a: &Address) -> Self {
        let s = |v: &str| RwSignal::new(v.to_string());
        AddressSignals {
            line1: s(&a.line1),
            line2: s(&a.line2),
            city: s(&a.city),
            region: s(&a.region),
            postcode: s(&a.postcode),
            country: s(&a.country),
        }
    }
    /// Whether any of the required parts was typed in.
    fn filled(&self) -> bool {
        [self.line1, self.city, self.postcode, self.country].iter().any(|f| !f.get_untracked().trim().is_empty())
    }
    fn read(&self) -> Address {
        let t = |v: RwSignal<String>| v.get_untracked().trim().to_string();
        Address {
            line1: t(self.line1),
            line2: t(self.line2),
            city: t(self.city),
            region: t(self.region),
            postcode: t(self.postcode),
            country: t(self.country).to_uppercase(),
        }
    }
}

/// Field names (as the API names errors) of an address: line1, line2, city, postcode, region,
/// country.
type AddressNames = [&'static str; 6];
const ADDRESS: AddressNames = ["address.line1", "address.line2", "address.city", "address.postcode", "address.region", "address.country"];
const BILLING_ADDRESS: AddressNames = [
    "billing_address.line1",
    "billing_address.line2",
    "billing_address.city",
    "billing_address.postcode",
    "billing_address.region",
    "billing_address.country",
];

#[component]
fn AddressFields(names: &'static AddressNames, a: AddressSignals, errors: FieldErrors) -> impl IntoView {
    view! {
        <Field label="Street and number" name=names[0] autocomplete="address-line1" value=a.line1 errors=errors/>
        <Field label="Address line 2 (optional)" name=names[1] autocomplete="address-line2" value=a.line2 errors=errors/>
        <div class="field-row">
            <Field label="City" name=names[2] autocomplete="address-level2" value=a.city errors=errors/>
            <Field label="Postcode" name=names[3] autocomplete="postal-code" value=a.postcode errors=errors/>
        </div>
        <div class="field-row">
            <Field label="Region (optional)" name=names[4] autocomplete="address-level1" value=a.region errors=errors/>
            <Field label="Country code" name=names[5] autocomplete="country" hint="Two letters, e.g. DE" value=a.country errors=errors/>
        </div>
    }
}

#[component]
fn ProfileForm(profile: Profile) -> impl IntoView {
    let session = use_session();
    let holder = session.acting_for().is_none();
    let s = |v: &str| RwSignal::new(v.to_string());
    let a = profile.address.clone().unwrap_or_default();
    let (first, last) = (s(&profile.first_name), s(&profile.last_name));
    let company = s(profile.company.as_deref().unwrap_or(""));
    let phone = s(profile.phone.as_deref().unwrap_or(""));
    let tax = s(profile.tax_id.as_deref().unwrap_or(""));
    let address = AddressSignals::new(&a);
    let separate_billing = RwSignal::new(profile.billing_address.is_some());
    let billing = AddressSignals::new(&profile.billing_address.clone().unwrap_or_default());
    let currency = RwSignal::new(profile.currency);
    let language = s(&profile.language);
    let form = Form::new();
    let errors = form.errors;
    let saved = RwSignal::new(false);
    let save = form.action(
        move |req: &Profile| portal::save_profile(session, req.clone()),
        move |p: Profile| {
            saved.set(true);
            if holder {
                session.current.update(|s| {
                    if let Some(s) = s {
                        s.user.first_name = p.first_name.clone();
                        s.user.last_name = p.last_name.clone();
                    }
                });
            }
        },
    );
    let opt = |v: RwSignal<String>| Some(v.get_untracked().trim().to_string()).filter(|x| !x.is_empty());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        saved.set(false);
        let req = Profile {
            first_name: first.get_untracked().trim().into(),
            last_name: last.get_untracked().trim().into(),
            company: opt(company),
            phone: opt(phone),
            address: address.filled().then(|| address.read()),
            billing_address: separate_billing.get_untracked().then(|| billing.read()),
            tax_id: opt(tax),
            currency: currency.get_untracked(),
            language: language.get_untracked().trim().into(),
        };
        if form.check(&req) {
            save.dispatch_local(req);
        }
    };
    let currencies =
        Currency::all().map(|c| view! { <option value=c.code() selected=move || currency.get() == c>{c.code()}</option> }).collect_view();
    view! {
            <form class="card profile-form" on:submit=submit novalidate data-testid="profile-form">
                <ErrorBanner message=form.banner/>
                {move || saved.get().then(|| view! { <div class="alert alert-info" role="status">"Profile saved."</div> })}
                {if holder {
    view! { <NameFields first=first last=last errors=errors/> }.into_any()
                } else {
                    // The holder's name is theirs to change; a team member edits the billing details.
                    view! { <p class="muted" data-testid="account-holder">{format!("Account holder: {} {}", first.get_untracked(), last.get_untracked())}</p> }.into_any()
                }}
                <div class="field-row">
                    <Field label="Company (optional)" name="company" autocomplete="organization" value=company errors=errors/>
                    <Field label="Phone" name="phone" kind="tel" autocomplete="tel" value=phone errors=errors/>
                </div>
                <h2>"Address"</h2>
                <AddressFields names=&ADDRESS a=address errors=errors/>
                <h2>"Billing"</h2>
                <label class="check"><input type="checkbox" name="separate_billing" bind:checked=separate_billing/>" Send invoices to a different address"</label>
                <div class="billing-address" class:hidden=move || !separate_billing.get() data-testid="billing-address">
                    <AddressFields names=&BILLING_ADDRESS a=billing errors=errors/>
                </div>
                <div class="field-row">
                    <Field label="Tax / VAT number (optional)" name="tax_id" value=tax errors=errors/>
                    <label class="field"><span>"Currency"</span>
                        <select on:change=move |ev| if let Some(c) = Currency::parse(&event_target_value(&ev)) { currency.set(c) }>{currencies}</select>
                    </label>
                </div>
                <div><Submit pending=save.pending() label="Save profile" busy="Saving…"/></div>
            </form>
        }
}

#[component]
fn YourData() -> impl IntoView {
    let session = use_session();
    let note = RwSignal::new(None::<String>);
    let export = move |_| {
        spawn_local(async move {
            match portal::export_data(session).await {
                Ok(data) => {
                    // Indented by the browser's JSON: serde_json's pretty printer would cost the
                    // bundle its own copy of the serializer for this one button.
                    let text = js_sys::JSON::parse(&data)
                        .and_then(|v| js_sys::JSON::stringify_with_replacer_and_space(&v, &wasm_bindgen::JsValue::NULL, &2.into()))
                        .ok()
                        .and_then(|s| s.as_string())
                        .unwrap_or(data);
                    download("keel-my-data.json", &text);
                    note.set(Some("Your data was downloaded as keel-my-data.json.".into()));
                }
                Err(e) => note.set(Some(e.message())),
            }
        });
    };
    let delete = move |_| {
        spawn_local(async move {
            note.set(Some(match portal::request_deletion(session).await {
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
    let href = format!("data:application/json;charset=utf-8,{}", api::percent_encode(text));
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
