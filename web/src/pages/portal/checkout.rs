//! Checkout (`/dashboard/checkout`): the browser's cart priced for the signed-in account, and
//! "Place order". Each cart gets one `Idempotency-Key`, kept in localStorage beside it
//! (`keel_checkout`), so a retry or a double click answers the same order; a changed cart gets a
//! new key. An unconfirmed e-mail address (403 `email_unverified`) is shown as a banner with a
//! button that sends the link again.

use keel_shared::cart::{Quote, QuoteRequest};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ClientError};
use crate::cart;
use crate::components::feedback::{loaded, Empty, ErrorBanner};
use crate::components::form::Form;
use crate::components::layout::Link;
use crate::components::shop::money;
use crate::routes;
use crate::session::use_session;

/// The localStorage key of the checkout's idempotency key and the cart it was made for.
const KEY: &str = "keel_checkout";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// A fresh key: the time and 64 random bits (unique per attempt; it names no secret).
fn new_key() -> String {
    let now = js_sys::Date::now() as u64;
    let a = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    let b = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    format!("{now:x}-{a:08x}{b:08x}")
}

/// The idempotency key for this cart: the stored one when it was made for the same cart, else a
/// new one (stored).
fn key_for(cart_json: &str) -> String {
    let stored = storage().and_then(|s| s.get_item(KEY).ok()?).map(|j| api::Json::parse(&j));
    if let Some(s) = stored.filter(|s| s.text("cart") == cart_json && !s.text("key").is_empty()) {
        return s.text("key");
    }
    let key = new_key();
    let record = serde_json::json!({ "cart": cart_json, "key": key }).to_string();
    if let Some(s) = storage() {
        let _ = s.set_item(KEY, &record);
    }
    key
}

fn forget_key() {
    if let Some(s) = storage() {
        let _ = s.remove_item(KEY);
    }
}

/// The cart as the API takes it from a signed-in client: their profile decides currency and tax.
fn request() -> Option<QuoteRequest> {
    let c = cart::stored();
    (!c.lines.is_empty()).then_some(QuoteRequest {
        currency: None,
        lines: c.lines,
        promo_code: c.promo_code,
        country: None,
        state: None,
        vat_id: None,
    })
}

#[component]
pub fn CheckoutPage() -> impl IntoView {
    let session = use_session();
    let go = routes::use_go();
    let form = Form::new();
    let unverified = RwSignal::new(false);
    let resent = RwSignal::new(None::<String>);
    let req = StoredValue::new(request());
    let quote = LocalResource::new(move || {
        let req = req.get_value();
        async move {
            match req {
                Some(r) => api::portal::quote(session, &r).await.map(Some),
                None => Ok(None),
            }
        }
    });

    let place = Action::new_local(move |_: &()| {
        let go = go.clone();
        async move {
            let Some(r) = req.get_value() else { return };
            let key = key_for(&serde_json::to_string(&r).unwrap_or_default());
            form.banner.set(None);
            form.errors.set(Default::default());
            match api::portal::checkout(session, &r, &key).await {
                Ok(order) => {
                    unverified.set(false);
                    cart::clear_stored();
                    forget_key();
                    go(&format!("/dashboard/orders/{}", order.id));
                }
                Err(ClientError::Forbidden(p)) if p.code == "email_unverified" => unverified.set(true),
                Err(e) => {
                    // A key another cart used: the next attempt gets a fresh one.
                    if matches!(&e, ClientError::Problem(p) if p.code == "idempotency_key_reused") {
                        forget_key();
                    }
                    form.fail(e);
                }
            }
        }
    });
    let resend = move |_| {
        spawn_local(async move {
            resent.set(Some(match api::auth::resend_verification(session).await {
                Ok(()) => "Sent. Open the link in the e-mail, then come back and place the order.".into(),
                Err(e) => e.message(),
            }));
        });
    };

    view! {
        <header class="page-head">
            <div><h1>"Checkout"</h1><p class="muted">"Check your order and place it. You pay once it is accepted."</p></div>
            <Link href="/cart" class="btn btn-outline">"Back to the cart"</Link>
        </header>
        <Show when=move || unverified.get()>
            <div class="alert alert-error banner" role="alert" data-testid="unverified-banner">
                <span>"Please confirm your e-mail address before ordering: open the link we sent you."</span>
                <button class="btn btn-outline btn-sm" type="button" data-testid="resend-verification" on:click=resend>"Resend the link"</button>
                {move || resent.get().map(|n| view! { <span class="small">{n}</span> })}
            </div>
        </Show>
        <ErrorBanner message=form.banner/>
        {loaded(quote, move |q: Option<Quote>| match q {
            None => view! {
                <Empty title="Your cart is empty" hint="Pick a plan and configure it, then come back here."/>
                <Link href="/#plans" class="btn btn-primary">"See plans"</Link>
            }.into_any(),
            Some(q) => quote_view(q, form, place).into_any(),
        })}
    }
}

fn quote_view(q: Quote, form: Form, place: Action<(), ()>) -> impl IntoView {
    let c = q.currency;
    let lines = q
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let items = l
                .items
                .iter()
                .map(|it| view! { <li><span>{it.description.clone()}</span><span class="muted">{money(it.amount_minor, c)}</span></li> })
                .collect_view();
            let prefix = format!("lines[{i}]");
            let problems = move || {
                form.errors
                    .with(|e| crate::components::form::messages_under(e, &prefix, ""))
                    .into_iter()
                    .map(|m| view! { <p class="field-error">{m}</p> })
                    .collect_view()
            };
            view! {
                <section class="card order-line" data-testid="checkout-line">
                    <div class="summary-head">
                        <h2>{format!("{} × {}", l.quantity, l.product_name)}</h2>
                        <span class="muted">{l.cycle.label()}</span>
                    </div>
                    <ul class="order-items">{items}</ul>
                    {problems}
                    <dl class="details">
                        <dt>"Total"</dt><dd>{money(l.total_minor, c)}</dd>
                        <dt>"Renews at"</dt><dd>{format!("{}{}", money(l.renewal_minor, c), l.cycle.per())}</dd>
                    </dl>
                </section>
            }
        })
        .collect_view();
    let taxes = q
        .tax_lines
        .iter()
        .map(|t| view! { <dt>{format!("{} ({}.{:02} %)", t.name, t.rate_bp / 100, t.rate_bp % 100)}</dt><dd>{money(t.amount_minor, c)}</dd> })
        .collect_view();
    let others = move || {
        form.errors
            .with(|e| {
                e.iter()
                    .filter(|(k, _)| !k.starts_with("lines["))
                    .flat_map(|(k, v)| v.iter().map(move |m| format!("{k}: {m}")))
                    .collect::<Vec<_>>()
            })
            .into_iter()
            .map(|m| view! { <p class="field-error">{m}</p> })
            .collect_view()
    };
    view! {
        <div class="order-layout">
            <div class="order-lines">{lines}</div>
            <aside class="card summary" data-testid="checkout-summary">
                <h2>"Summary"</h2>
                <dl class="details">
                    <dt>"Subtotal"</dt><dd>{money(q.subtotal_minor, c)}</dd>
                    {(q.discount_minor != 0).then(|| view! { <dt>{format!("Discount{}", q.promo_code.as_ref().map(|p| format!(" ({p})")).unwrap_or_default())}</dt><dd>{format!("−{}", money(q.discount_minor, c))}</dd> })}
                    {taxes}
                    {q.reverse_charge.then(|| view! { <dt>"VAT"</dt><dd>"reverse charge"</dd> })}
                    <dt>"Total"</dt><dd data-testid="checkout-total"><strong>{money(q.total_minor, c)}</strong></dd>
                </dl>
                {others}
                <button class="btn btn-primary" type="button" data-testid="place-order"
                    disabled=move || place.pending().get() on:click=move |_| { place.dispatch_local(()); }>
                    {move || if place.pending().get() { "Placing the order…" } else { "Place order" }}
                </button>
            </aside>
        </div>
    }
}
