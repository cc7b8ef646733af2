//! Checkout (`/dashboard/checkout`): the signed-in user's cart (the server's, see `crate::cart`)
//! priced for the account, its promo codes (add one, remove one; codes the API refuses for this
//! cart are named under the field and left out of the order), and "Place order". Each cart gets
//! one `Idempotency-Key`, kept in localStorage beside it (`keel_checkout`), so a retry or a
//! double click answers the same order; a changed cart gets a new key. An unconfirmed e-mail
//! address (403 `email_unverified`) is shown as a banner with a button that sends the link again.
//! The API empties the server's cart with the order and bills it: the page then opens the order's
//! invoice to pay it (or the order, when it has nothing to pay).

use keel_shared::billing::{InvoiceFilter, InvoiceStatus};
use keel_shared::cart::{Cart, Quote, QuoteRequest};
use keel_shared::orders::Order;
use keel_shared::PageQuery;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ClientError};
use crate::cart::{self, use_cart, CartCtx};
use crate::components::feedback::{loaded, Empty, ErrorBanner, Loading};
use crate::components::form::Form;
use crate::components::layout::Link;
use crate::components::shop::money;
use crate::routes;
use crate::session::{use_session, SessionCtx};

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
fn request(c: &Cart) -> Option<QuoteRequest> {
    (!c.lines.is_empty()).then(|| QuoteRequest {
        currency: None,
        lines: c.lines.clone(),
        promo_codes: c.promo_codes.clone(),
        country: None,
        state: None,
        vat_id: None,
    })
}

/// The unpaid invoice checkout made for `order` (the API bills an order in the same transaction
/// that places it). `None` when there is none to pay (a free order).
async fn invoice_of(session: SessionCtx, order: &Order) -> Option<String> {
    let filter = InvoiceFilter {
        status: Some(InvoiceStatus::Unpaid),
        order_id: Some(order.id.clone()),
        paging: PageQuery::numbered(1, 1),
        ..Default::default()
    };
    api::portal::invoices(session, filter).await.ok()?.items.first().map(|i| i.id.to_string())
}

#[component]
pub fn CheckoutPage() -> impl IntoView {
    let session = use_session();
    let cart = use_cart();
    let go = routes::use_go();
    let form = Form::new();
    let unverified = RwSignal::new(false);
    let resent = RwSignal::new(None::<String>);
    // The promo problems of the last quote, and of the code being added (kept until a code is
    // added or removed).
    let refused = RwSignal::new(Vec::<String>::new());
    let trial = RwSignal::new(None::<String>);
    // The cart to price (`None` until the server's cart is read), and what was priced: the
    // order is placed with the codes the quote applied.
    let wanted = Memo::new(move |_| cart.ready().then(|| cart.state.with(request)));
    let req = StoredValue::new(None::<QuoteRequest>);
    let quote = LocalResource::new(move || {
        let wanted = wanted.get();
        async move {
            // `None` until the cart is known: the page shows it is loading.
            let Some(wanted) = wanted else { return Ok(None) };
            let Some(r) = wanted else {
                req.set_value(None);
                return Ok(Some(None));
            };
            let (priced, answer, problems, dropped) = cart::price(session, &r).await;
            req.set_value(Some(priced));
            refused.set(problems);
            if !dropped.is_empty() {
                trial.set(Some(dropped));
            }
            match answer {
                Ok(text) => api::parse::<Quote>(&text).map(|q| Some(Some(q))),
                Err(e) => Err(e),
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
                    forget_key();
                    // To the order's invoice to pay it; to the order when there is none to pay.
                    match invoice_of(session, &order).await {
                        Some(id) => go(&format!("/dashboard/invoices/{id}?placed={}", api::percent_encode(&order.number))),
                        None => go(&format!("/dashboard/orders/{}", order.id)),
                    }
                    cart.emptied();
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
            <div><h1>"Checkout"</h1><p class="muted">"Check your order and place it; you pay its invoice next."</p></div>
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
        {loaded(quote, move |q: Option<Option<Quote>>| match q {
            None => view! { <Loading/> }.into_any(),
            Some(None) => view! {
                <Empty title="Your cart is empty" hint="Pick a plan and configure it, then come back here."/>
                <Link href="/#plans" class="btn btn-primary">"See plans"</Link>
            }.into_any(),
            Some(Some(q)) => quote_view(q, form, place, Promo { cart, refused, trial }).into_any(),
        })}
    }
}

/// What the promo field needs: the cart, and the problems to show (the quote's, and the code
/// being added's).
#[derive(Clone, Copy)]
struct Promo {
    cart: CartCtx,
    refused: RwSignal<Vec<String>>,
    trial: RwSignal<Option<String>>,
}

/// The promo codes: a field to add one (the first quote with it decides whether it stays: see
/// `cart::price`), the problems under it, and the cart's codes, each marked applied or not with
/// its remove button.
fn promo_view(p: Promo, applied: Vec<String>, form: Form) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        p.trial.set(None);
        let typed = code.get_untracked();
        if typed.trim().is_empty() {
            return;
        }
        match p.cart.add_code(&typed) {
            Ok(()) => code.set(String::new()),
            Err(m) => p.trial.set(Some(m)),
        }
    };
    let problems = move || {
        let mut all: Vec<String> = p.trial.get().into_iter().collect();
        all.extend(p.refused.get());
        form.errors.with(|e| all.extend(e.get("promo_codes").into_iter().flatten().cloned()));
        all.join("; ")
    };
    let codes = move || {
        p.cart
            .state
            .with(|c| c.promo_codes.clone())
            .into_iter()
            .map(|c| {
                let on = applied.contains(&c);
                let remove = c.clone();
                view! {
                    <li data-code=c.clone()>
                        <strong>{c.clone()}</strong>" "
                        <span class=if on { "discount" } else { "muted" }>{if on { "applied" } else { "not applied" }}</span>
                        <button class="btn-link" type="button" data-testid="remove-promo"
                            on:click=move |_| { p.trial.set(None); p.cart.remove_code(&remove); }>"Remove"</button>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <form class="field" novalidate on:submit=add data-testid="checkout-promo">
            <label for="f-promo_codes">"Promo codes"</label>
            <div class="input-row">
                <input id="f-promo_codes" type="text" autocomplete="off" autocapitalize="characters" spellcheck="false"
                    data-testid="promo-code" bind:value=code/>
                <button class="btn btn-outline" type="submit" data-testid="apply-promo">"Apply"</button>
            </div>
            <p class="field-error" data-error="promo_codes">{problems}</p>
            <ul class="promo-list small" data-testid="promo-applied">{codes}</ul>
        </form>
    }
}

fn quote_view(q: Quote, form: Form, place: Action<(), ()>, promo: Promo) -> impl IntoView {
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
                    .filter(|(k, _)| !k.starts_with("lines[") && *k != "promo_codes")
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
                    {(q.discount_minor != 0).then(|| view! { <dt>{format!("Discount{}", if q.promo_codes.is_empty() { String::new() } else { format!(" ({})", q.promo_codes.join(", ")) })}</dt><dd>{format!("−{}", money(q.discount_minor, c))}</dd> })}
                    {taxes}
                    {q.reverse_charge.then(|| view! { <dt>"VAT"</dt><dd>"reverse charge"</dd> })}
                    <dt>"Total"</dt><dd data-testid="checkout-total"><strong>{money(q.total_minor, c)}</strong></dd>
                </dl>
                {others}
                {promo_view(promo, q.promo_codes.clone(), form)}
                <button class="btn btn-primary" type="button" data-testid="place-order"
                    disabled=move || place.pending().get() on:click=move |_| { place.dispatch_local(()); }>
                    {move || if place.pending().get() { "Placing the order…" } else { "Place order" }}
                </button>
            </aside>
        </div>
    }
}
