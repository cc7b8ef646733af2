//! The cart (`/cart`): the cart's lines (the browser's for a guest, the server's when signed in:
//! see `crate::cart`), priced by `POST /cart/quote` every time the cart changes (quantity,
//! removal, currency, promo codes, a guest's country or VAT id). Promo codes stack: each one
//! applied is listed with its remove button, a code is added only when the API does not refuse
//! it for this cart, and codes the API refuses later (the cart changed) are listed as not applied
//! while the cart is priced without them. The API's field problems appear where they belong,
//! placed from the form kit's `Form`: `promo_codes`, `country`, `vat_id` and `currency` in their
//! fields' placeholders, `lines[1].…` under the second line (`messages_under`). The page is HTML
//! (see `components::shop` on size): one delegated handler per event type reads its controls
//! (`data-act`, `data-i`, `data-code`, `name`), and an effect writes the lines, codes, totals and
//! problems. "Checkout" opens the portal's `/dashboard/checkout`.

use std::sync::Arc;

use keel_shared::cart::{Cart, QuoteRequest, LINE_QUANTITY_MAX};
use keel_shared::catalog::{BillingCycle, Catalog};
use keel_shared::Currency;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::Json;
use crate::cart::{self, use_cart};
use crate::components::form::{messages_under, Form};
use crate::components::shop::{
    attr, by_id, currency_html, currency_of, esc, messages, money, on_currency, place_errors, row, set_html, set_value, show, target,
    value, with_catalog,
};
use crate::session::{use_session, SessionCtx};

/// Countries a guest can pick for tax (ISO 3166-1 alpha-2): the EU, the UK and the shop's larger
/// markets. Signed-in clients are taxed by their profile's address instead.
const COUNTRIES: &[(&str, &str)] = &[
    ("AU", "Australia"),
    ("AT", "Austria"),
    ("BE", "Belgium"),
    ("BR", "Brazil"),
    ("BG", "Bulgaria"),
    ("CA", "Canada"),
    ("HR", "Croatia"),
    ("CY", "Cyprus"),
    ("CZ", "Czechia"),
    ("DK", "Denmark"),
    ("EE", "Estonia"),
    ("FI", "Finland"),
    ("FR", "France"),
    ("DE", "Germany"),
    ("GR", "Greece"),
    ("HU", "Hungary"),
    ("IS", "Iceland"),
    ("IN", "India"),
    ("IE", "Ireland"),
    ("IT", "Italy"),
    ("JP", "Japan"),
    ("LV", "Latvia"),
    ("LT", "Lithuania"),
    ("LU", "Luxembourg"),
    ("MT", "Malta"),
    ("MX", "Mexico"),
    ("NL", "Netherlands"),
    ("NZ", "New Zealand"),
    ("NO", "Norway"),
    ("PL", "Poland"),
    ("PT", "Portugal"),
    ("RO", "Romania"),
    ("SG", "Singapore"),
    ("SK", "Slovakia"),
    ("SI", "Slovenia"),
    ("ZA", "South Africa"),
    ("ES", "Spain"),
    ("SE", "Sweden"),
    ("CH", "Switzerland"),
    ("AE", "United Arab Emirates"),
    ("GB", "United Kingdom"),
    ("US", "United States"),
];

/// `1900` basis points → `19%`, `825` → `8.25%`.
fn rate(bp: u64) -> String {
    let (whole, hundredths) = (bp / 100, bp % 100);
    if hundredths == 0 {
        format!("{whole}%")
    } else if hundredths.is_multiple_of(10) {
        format!("{whole}.{}%", hundredths / 10)
    } else {
        format!("{whole}.{hundredths:02}%")
    }
}

#[component]
pub fn CartPage() -> impl IntoView {
    view! {
        <section class="container cart-page">
            <header class="page-head"><div><h1>"Your cart"</h1></div></header>
            {with_catalog(cart_page)}
        </section>
    }
}

fn cart_page(catalog: Arc<Catalog>) -> AnyView {
    let cart = use_cart();
    let session = use_session();
    let currency = currency_of(cart, &catalog);
    let form = Form::new();
    let quote = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let sequence = StoredValue::new(0u32);
    // The problem with the code being added (kept until a code is added or removed).
    let trial = RwSignal::new(None::<String>);
    let guest = move || session.current.with(Option::is_none);

    // What is sent: the cart as stored, with a guest's currency, country and VAT id (a client's
    // profile holds theirs: the cart takes the currency of their quote). Nothing until the
    // session and its cart are known, so a client is not quoted as a guest.
    let request = Memo::new(move |_| {
        if !cart.ready() {
            return None;
        }
        let guest = guest();
        let currency = currency.get();
        cart.state.with(|c| {
            (!c.lines.is_empty()).then(|| QuoteRequest {
                currency: guest.then_some(currency),
                lines: c.lines.clone(),
                promo_codes: c.promo_codes.clone(),
                country: c.country.clone().filter(|_| guest),
                state: None,
                vat_id: c.vat_id.clone().filter(|_| guest),
            })
        })
    });
    // One effect: a changed cart is sent to be priced, and the page's changing parts are written.
    let sent = StoredValue::new(None::<Option<QuoteRequest>>);
    {
        let catalog = catalog.clone();
        Effect::new(move |_| {
            let req = request.get();
            if sent.with_value(|s| s.as_ref() != Some(&req)) {
                sent.set_value(Some(req.clone()));
                form.errors.set(Default::default());
                form.banner.set(None);
                match req {
                    None => quote.set(None),
                    Some(req) => price(req, session, quote, pending, form, sequence, trial),
                }
            }
            let guest = guest();
            let q = quote.with(|q| q.as_deref().map(Json::parse));
            let empty = cart.state.with(|c| {
                form.errors.with(|e| set_html("lines", &lines_html(&catalog, c, q.as_ref(), e)));
                c.lines.is_empty()
            });
            show("cart-empty", empty && cart.ready());
            show("cart-main", !empty);
            show("guest-tax", guest);
            show("client-tax", !guest);
            set_html("totals", &totals_html(q.as_ref(), pending.get()));
            show("currency-pick", guest);
            set_html(
                "currency-fixed",
                &if guest { String::new() } else { format!("Prices in {}, your account's currency", currency.get()) },
            );
            let codes = cart.state.with(|c| c.promo_codes.clone());
            show("promo-applied", !codes.is_empty());
            set_html("promo-applied", &codes_html(&codes, q.as_ref().filter(|_| !pending.get())));
            set_html(
                "cart-banner",
                &form
                    .banner
                    .get()
                    .map(|m| format!("<div class=\"alert alert-error\" role=\"alert\">{}</div>", esc(&m)))
                    .unwrap_or_default(),
            );
            form.errors.with(place_errors);
            // Every promo problem, not only the first: the code being added's and the cart's.
            let mut promo = trial.get().unwrap_or_default();
            form.errors.with(|e| {
                for m in e.get("promo_codes").into_iter().flatten() {
                    if !promo.is_empty() {
                        promo.push_str("; ");
                    }
                    promo.push_str(m);
                }
            });
            set_html("promo-problems", &esc(&promo));
        });
    }

    // The lines' buttons (`data-act` with the line's `data-i`), the promo codes' (`data-code`).
    let click = move |ev: leptos::ev::MouseEvent| {
        let Some(el) = target(&ev, "[data-act]") else { return };
        let i = attr(&el, "data-i").parse::<usize>().unwrap_or(usize::MAX);
        match attr(&el, "data-act").as_str() {
            "remove" => cart.update(|c| {
                if i < c.lines.len() {
                    c.lines.remove(i);
                }
            }),
            "dec" => cart.update(|c| c.lines.get_mut(i).into_iter().for_each(|l| l.quantity = l.quantity.saturating_sub(1).max(1))),
            "inc" => cart.update(|c| c.lines.get_mut(i).into_iter().for_each(|l| l.quantity = (l.quantity + 1).min(LINE_QUANTITY_MAX))),
            "remove-promo" => {
                trial.set(None);
                cart.remove_code(&attr(&el, "data-code"));
            }
            _ => {}
        }
    };
    // Quantities typed in, the currency, a guest's country and VAT id.
    let change = move |ev: leptos::ev::Event| {
        let Some(el) = target(&ev, "[name]") else { return };
        let v = value(&el).trim().to_string();
        match attr(&el, "name").as_str() {
            "quantity" => {
                let (i, q) = (attr(&el, "data-i").parse::<usize>().unwrap_or(usize::MAX), v.parse().unwrap_or(0));
                cart.update(|c| c.lines.get_mut(i).into_iter().for_each(|l| l.quantity = q));
            }
            "currency" => on_currency(cart, &el),
            "country" => cart.update(|c| c.country = Some(v).filter(|v| !v.is_empty())),
            "vat_id" => cart.update(|c| c.vat_id = Some(v.to_ascii_uppercase().replace(' ', "")).filter(|v| !v.is_empty())),
            _ => {}
        }
    };
    // A promo code added with its button or Enter (the first quote with it decides whether it
    // stays: `cart::price`).
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(el) = by_id("f-promo_codes") else { return };
        trial.set(None);
        let code = value(&el);
        if code.trim().is_empty() {
            return;
        }
        match cart.add_code(&code) {
            Ok(()) => set_value(&el, ""),
            Err(m) => trial.set(Some(m)),
        }
    };
    let page = cart.state.with_untracked(|c| page_html(&catalog, c, currency.get_untracked()));
    view! { <div inner_html=page on:click=click on:change=change on:submit=submit></div> }.into_any()
}

/// Asks the API to price `req` (answers arriving out of order are dropped). Promo codes the API
/// refuses are reported under their field, and the cart is priced without them; a code just
/// added that is refused leaves the cart, its problem kept in `trial` (`cart::price`).
fn price(
    req: QuoteRequest,
    session: SessionCtx,
    quote: RwSignal<Option<String>>,
    pending: RwSignal<bool>,
    form: Form,
    sequence: StoredValue<u32>,
    trial: RwSignal<Option<String>>,
) {
    let n = sequence.get_value() + 1;
    sequence.set_value(n);
    pending.set(true);
    spawn_local(async move {
        let (_, answer, refused, dropped) = cart::price(session, &req).await;
        if !dropped.is_empty() {
            trial.set(Some(dropped));
        }
        if sequence.get_value() != n {
            return; // a newer change is being priced
        }
        pending.set(false);
        match answer {
            Ok(q) => {
                // A client pays in their profile's currency: the storefront shows it from now on.
                if req.currency.is_none() {
                    if let Some(c) = Currency::parse(&Json::parse(&q).text("currency")) {
                        use_cart().set_currency(c);
                    }
                }
                quote.set(Some(q));
            }
            Err(e) => {
                quote.set(None);
                form.fail(e);
                // Problems shown where they belong need no banner repeating their field names.
                let placed = |k: &String| k.starts_with("lines[") || ["promo_codes", "country", "vat_id", "currency"].contains(&k.as_str());
                if form.errors.with(|e| !e.is_empty() && e.keys().all(placed)) {
                    form.banner.set(None);
                }
            }
        }
        if !refused.is_empty() {
            form.errors.update(|e| e.entry("promo_codes".into()).or_default().extend(refused));
        }
    });
}

/// The page around what its effect writes: `#lines`, `#totals`, the placeholders.
fn page_html(catalog: &Catalog, cart: &Cart, currency: Currency) -> String {
    let mut countries = String::from("<option value=\"\">Choose your country</option>");
    for (code, name) in COUNTRIES {
        let on = cart.country.as_deref() == Some(*code);
        countries.push_str(&format!("<option value=\"{code}\"{}>{name}</option>", if on { " selected" } else { "" }));
    }
    format!(
        "<div id=\"cart-empty\" hidden><div class=\"state state-empty\"><h2>Your cart is empty</h2>\
         <p class=\"muted\">Pick a plan and configure it; it will wait for you here.</p>\
         <a href=\"/#plans\" class=\"btn btn-primary\">See plans</a></div></div>\
         <div id=\"cart-main\" class=\"cart-layout\" hidden><div id=\"lines\" class=\"cart-lines\" data-testid=\"cart-lines\"></div>\
         <aside class=\"card summary\" data-testid=\"cart-summary\"><div class=\"summary-head\"><h2>Summary</h2><span id=\"currency-pick\">{}</span><span id=\"currency-fixed\" class=\"muted small\" data-testid=\"currency-fixed\"></span></div>\
         <p class=\"field-error\" data-error=\"currency\"></p><div id=\"cart-banner\"></div>\
         <form class=\"field\" novalidate><label for=\"f-promo_codes\">Promo codes</label><div class=\"input-row\">\
         <input id=\"f-promo_codes\" type=\"text\" autocomplete=\"off\" autocapitalize=\"characters\" spellcheck=\"false\" data-testid=\"promo-code\">\
         <button class=\"btn btn-outline\" type=\"submit\" data-testid=\"apply-promo\">Apply</button></div>\
         <p id=\"promo-problems\" class=\"field-error\" data-error=\"promo_codes\"></p>\
         <ul id=\"promo-applied\" class=\"promo-list small\" data-testid=\"promo-applied\" hidden></ul></form>\
         <p id=\"client-tax\" class=\"muted small\" hidden>Tax follows the billing address and VAT number in your profile.</p>\
         <div id=\"guest-tax\" hidden><div class=\"field\"><label for=\"f-country\">Country</label>\
         <select id=\"f-country\" name=\"country\" autocomplete=\"country\" data-testid=\"country\">{countries}</select>\
         <p class=\"field-error\" data-error=\"country\"></p></div>\
         <div class=\"field\"><label for=\"f-vat_id\">EU VAT number (businesses, optional)</label>\
         <input id=\"f-vat_id\" name=\"vat_id\" type=\"text\" autocomplete=\"off\" spellcheck=\"false\" placeholder=\"DE123456789\" value=\"{}\" data-testid=\"vat-id\">\
         <p class=\"field-error\" data-error=\"vat_id\"></p></div></div>\
         <div id=\"totals\" class=\"summary-body\" aria-live=\"polite\"></div>\
         <a href=\"/dashboard/checkout\" rel=\"external\" class=\"btn btn-primary btn-block\" data-testid=\"checkout\">Checkout</a>\
         </aside></div>",
        currency_html(catalog, currency),
        esc(cart.vat_id.as_deref().unwrap_or_default())
    )
}

/// The cart's promo codes, each with its remove button, marked applied when `quote` (the cart's,
/// once it is back) took its discount.
fn codes_html(codes: &[String], quote: Option<&Json>) -> String {
    let mut out = String::new();
    for c in codes {
        let (class, note) = match quote {
            Some(q) if q.has("promo_codes", c) => ("discount", "applied"),
            Some(_) => ("muted", "not applied"),
            None => ("muted", ""),
        };
        let c = esc(c);
        out.push_str(&format!(
            "<li data-code=\"{c}\"><strong>{c}</strong> <span class=\"{class}\">{note}</span>\
             <button class=\"btn-link\" type=\"button\" data-act=\"remove-promo\" data-code=\"{c}\" data-testid=\"remove-promo\" aria-label=\"Remove {c}\">Remove</button></li>"
        ));
    }
    out
}

/// Every line of the cart: name and cycle, quantity and removal, the quote's items for it (once
/// the quote is that of this cart, not one still on its way back) and the problems the API named
/// under `lines[i]`.
fn lines_html(catalog: &Catalog, cart: &Cart, quote: Option<&Json>, errors: &std::collections::BTreeMap<String, Vec<String>>) -> String {
    let mut out = String::new();
    for (i, line) in cart.lines.iter().enumerate() {
        let title = match catalog.product(&line.product_id) {
            Some(p) => format!("<a href=\"/order/{}\">{}</a>", esc(&p.slug), esc(&p.name)),
            None => "A plan no longer for sale".into(),
        };
        let q = line.quantity;
        let disabled = |off: bool| if off { " disabled" } else { "" };
        out.push_str(&format!(
            "<article class=\"card cart-line\" data-testid=\"cart-line\"><div class=\"cart-line-head\"><div><h2>{title}</h2>\
             <p class=\"muted small\">{}</p></div><div class=\"line-controls\"><div class=\"stepper\" role=\"group\" aria-label=\"Quantity\">\
             <button type=\"button\" class=\"btn btn-outline btn-icon\" data-act=\"dec\" data-i=\"{i}\" aria-label=\"One fewer\"{}>−</button>\
             <input type=\"number\" name=\"quantity\" min=\"1\" max=\"{LINE_QUANTITY_MAX}\" value=\"{q}\" inputmode=\"numeric\" aria-label=\"Quantity\" \
             data-i=\"{i}\" data-testid=\"line-quantity\">\
             <button type=\"button\" class=\"btn btn-outline btn-icon\" data-act=\"inc\" data-i=\"{i}\" aria-label=\"One more\"{}>+</button></div>\
             <button type=\"button\" class=\"btn btn-ghost danger\" data-act=\"remove\" data-i=\"{i}\" data-testid=\"remove-line\">Remove</button>\
             </div></div>",
            line.cycle.label(),
            disabled(q <= 1),
            disabled(q >= LINE_QUANTITY_MAX)
        ));
        let field = format!("lines[{i}]");
        messages(&mut out, errors.get(&format!("{field}.quantity")).map_or(&[], Vec::as_slice));
        // The quote's line, once the quote is that of this cart (not one still on its way back).
        let currency = quote.and_then(|q| Currency::parse(&q.text("currency")));
        let quoted = quote.and_then(|q| q.list("lines").into_iter().nth(i)).filter(|l| {
            l.text("product_id") == line.product_id.as_str() && l.text("cycle") == line.cycle.as_str() && l.int("quantity") == i64::from(q)
        });
        if let (Some(l), Some(currency)) = (quoted, currency) {
            out.push_str(&line_html(&l, currency));
        }
        messages(&mut out, &messages_under(errors, &field, "quantity"));
        out.push_str("</article>");
    }
    out
}

/// A quoted line (`QuotedLine`): the domain, the items per unit, the renewal, the discount and
/// the subtotal.
fn line_html(q: &Json, currency: Currency) -> String {
    let m = |v: i64| money(v, currency);
    let mut out = String::new();
    let domain = q.get("domain");
    if !domain.is_null() {
        let action = match domain.text("action").as_str() {
            "register" => "Register",
            "transfer" => "Transfer",
            _ => "Use",
        };
        out.push_str(&format!("<p class=\"small muted\" data-testid=\"line-domain\">Domain: {action} {}</p>", esc(&domain.text("name"))));
    }
    out.push_str("<ul class=\"summary-items line-items\">");
    for it in q.list("items") {
        let amount = match it.int("amount_minor") {
            0 => "Included".to_string(),
            a => m(a),
        };
        row(&mut out, "", &it.text("description"), &amount, "");
    }
    let quantity = q.int("quantity");
    if quantity > 1 {
        row(&mut out, "", "Quantity", &format!("× {quantity}"), "");
    }
    let cycle = BillingCycle::parse(&q.text("cycle")).unwrap_or(BillingCycle::OneTime);
    let renewal = if cycle.is_recurring() { format!("Renews at {}{}", m(q.int("renewal_minor")), cycle.per()) } else { String::new() };
    let discount = match q.int("discount_minor") {
        0 => String::new(),
        d => format!("<span class=\"discount small\" data-testid=\"line-discount\">−{}</span>", m(d)),
    };
    out.push_str(&format!(
        "</ul><div class=\"line-foot\"><span class=\"muted small\" data-testid=\"line-renewal\">{}</span>\
         <span class=\"line-amounts\">{discount}<strong data-testid=\"line-subtotal\">{}</strong></span></div>",
        esc(&renewal),
        m(q.int("subtotal_minor"))
    ));
    out
}

/// The quote's totals: subtotal, discount, tax lines and what is due today.
fn totals_html(q: Option<&Json>, pending: bool) -> String {
    let Some((q, currency)) = q.and_then(|q| Currency::parse(&q.text("currency")).map(|c| (q, c))) else {
        let note = if pending { "Pricing your cart…" } else { "Fix the problems in your cart to see its total." };
        return format!("<p class=\"muted small\">{note}</p>");
    };
    let m = |v: i64| money(v, currency);
    let mut out = format!("<ul class=\"summary-items totals{}\">", if pending { " stale" } else { "" });
    row(&mut out, "", "Subtotal", &m(q.int("subtotal_minor")), "data-testid=\"cart-subtotal\"");
    let discount = q.int("discount_minor");
    if discount != 0 {
        let label = match q.joined("promo_codes", ", ") {
            c if c.is_empty() => "Discount".to_string(),
            c => format!("Discount ({c})"),
        };
        row(&mut out, "discount", &label, &format!("−{}", m(discount)), "data-testid=\"cart-discount\"");
    }
    let inclusive = q.flag("tax_inclusive");
    for t in q.list("tax_lines") {
        let label = format!("{}{} {}", if inclusive { "Includes " } else { "" }, t.text("name"), rate(t.int("rate_bp").unsigned_abs()));
        row(&mut out, "", &label, &m(t.int("amount_minor")), "data-testid=\"tax-line\"");
    }
    if q.flag("reverse_charge") {
        row(&mut out, "muted", "VAT reverse charge: you account for the VAT", "", "");
    }
    out.push_str(&format!(
        "</ul><div class=\"summary-total\"><span>Due today</span><strong data-testid=\"cart-total\">{}</strong></div>",
        m(q.int("total_minor"))
    ));
    out
}
