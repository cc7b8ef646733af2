//! What the shop pages (plans, configurator, cart) share: the catalog loader, amounts, the
//! currency switcher, and the few DOM helpers their markup needs.
//!
//! Size: the shop pages live in the storefront bundle, whose first load has a budget
//! (`scripts/web-size`). Leptos views cost the wasm build/rebuild code per view type, and these
//! pages have many inputs, so their markup is written as escaped HTML strings (`esc`) set with
//! `inner_html` or `set_html`, their inputs are read by one delegated handler per page (each
//! input names what it sets: `name`, `data-act`, `data-i`), and effects write what changes
//! (prices, problems under their fields) into the page. Leptos still owns the state (signals),
//! the routing, and the problem maps (`components::form::Form`). Amounts are always what the
//! catalog or `keel_shared::pricing` computed, or the API quoted; nothing here adds money.

use std::sync::Arc;

use keel_shared::catalog::{BillingCycle, Catalog, Price};
use keel_shared::{Currency, Money};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::feedback::Loading;
use crate::api;
use crate::cart::CartCtx;

/// Loads the catalog (once per page load, see `api::catalog::catalog`) and shows `page` of it,
/// with the usual loading and error states. One plain `fn` type for every shop page, and a
/// signal rather than `feedback::loaded`'s transition and error boundary, which the storefront
/// bundle would otherwise carry for these pages alone.
pub fn with_catalog(page: fn(Arc<Catalog>) -> AnyView) -> impl IntoView {
    let state = RwSignal::new(api::catalog::cached().map(Ok));
    if state.with_untracked(Option::is_none) {
        api::spawn_after_paint(async move {
            let _ = state.try_set(Some(api::catalog::catalog().await));
        });
    }
    move || match state.get() {
        None => view! { <Loading/> }.into_any(),
        Some(Ok(c)) => page(c),
        Some(Err(e)) => {
            let html = format!(
                "<div class=\"state state-error\" role=\"alert\"><h2>We could not load our plans</h2>\
                 <p class=\"muted\">Please try again in a moment.</p><p class=\"state-detail\">{}</p></div>",
                esc(&e.message())
            );
            view! { <div inner_html=html></div> }.into_any()
        }
    }
}

/// The currency prices are shown in (see `CartCtx::currency_in`).
pub fn currency_of(cart: CartCtx, catalog: &Arc<Catalog>) -> Memo<Currency> {
    let catalog = catalog.clone();
    Memo::new(move |_| cart.currency_in(&catalog))
}

/// `minor` units of `currency` as shown: `$4.99`.
pub fn money(minor: i64, currency: Currency) -> String {
    Money::new(minor, currency).display()
}

/// What an option value or add-on adds on `cycle`: `+$5.00/mo`, `+$5.00/mo + $10.00 setup`;
/// `None` when it is free.
pub fn extra(price: Option<&Price>, cycle: BillingCycle) -> Option<String> {
    let p = price?;
    let recurring = (p.amount_minor != 0).then(|| format!("+{}{}", p.amount().display(), cycle.per()));
    let setup = (p.setup_fee_minor != 0).then(|| format!("{} setup", money(p.setup_fee_minor, p.currency)));
    match (recurring, setup) {
        (Some(r), Some(s)) => Some(format!("{r} + {s}")),
        (Some(r), None) => Some(r),
        (None, Some(s)) => Some(format!("+{s}")),
        (None, None) => None,
    }
}

/// Text for HTML: `&`, `<`, `>`, `"` and `'` escaped.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A summary row: `<li><span>label</span><span>amount</span></li>`; `label` is escaped, `attrs`
/// go on the amount's `<span>` (a `data-testid`).
pub fn row(out: &mut String, class: &str, label: &str, amount: &str, attrs: &str) {
    out.push_str(&format!("<li class=\"{class}\"><span>{}</span><span {attrs}>{amount}</span></li>", esc(label)));
}

/// `<p class="field-error">` for each message.
pub fn messages(out: &mut String, list: &[String]) {
    for m in list {
        out.push_str(&format!("<p class=\"field-error\">{}</p>", esc(m)));
    }
}

/// The shop's currencies as a select named `currency` (its page's handler sets the cart's
/// currency with [`on_currency`]).
pub fn currency_html(catalog: &Catalog, current: Currency) -> String {
    let mut out = String::from(
        "<label class=\"currency-select\"><span class=\"muted small\">Currency</span><select name=\"currency\" data-testid=\"currency\">",
    );
    for c in &catalog.currencies {
        let code = c.code.code();
        out.push_str(&format!("<option value=\"{code}\"{}>{code}</option>", if c.code == current { " selected" } else { "" }));
    }
    out.push_str("</select></label>");
    out
}

/// The element an event happened in that matches `selector` (itself or its closest ancestor).
pub fn target(ev: &web_sys::Event, selector: &str) -> Option<web_sys::Element> {
    ev.target()?.dyn_into::<web_sys::Element>().ok()?.closest(selector).ok()?
}

/// An attribute of `el` (empty when absent).
pub fn attr(el: &web_sys::Element, name: &str) -> String {
    el.get_attribute(name).unwrap_or_default()
}

/// A form control's `value`, or its `checked` state.
pub fn value(el: &web_sys::Element) -> String {
    js_sys::Reflect::get(el, &"value".into()).ok().and_then(|v| v.as_string()).unwrap_or_default()
}

pub fn checked(el: &web_sys::Element) -> bool {
    js_sys::Reflect::get(el, &"checked".into()).ok().and_then(|v| v.as_bool()).unwrap_or(false)
}

/// Sets a control's `value`.
pub fn set_value(el: &web_sys::Element, v: &str) {
    let _ = js_sys::Reflect::set(el, &"value".into(), &v.into());
}

/// The element with `id` in the page.
pub fn by_id(id: &str) -> Option<web_sys::Element> {
    document().get_element_by_id(id)
}

/// Replaces the content of the element with `id`.
pub fn set_html(id: &str, html: &str) {
    if let Some(el) = by_id(id) {
        el.set_inner_html(html);
    }
}

/// Shows or hides the element with `id` (the `hidden` attribute).
pub fn show(id: &str, shown: bool) {
    if let Some(el) = by_id(id) {
        let _ = if shown { el.remove_attribute("hidden") } else { el.set_attribute("hidden", "") };
    }
}

/// Writes each field's first message into its placeholder, `<p class="field-error"
/// data-error="FIELD">`, and empties the others.
pub fn place_errors(errors: &std::collections::BTreeMap<String, Vec<String>>) {
    let Ok(slots) = document().query_selector_all("[data-error]") else { return };
    for i in 0..slots.length() {
        if let Some(el) = slots.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) {
            let key = attr(&el, "data-error");
            el.set_text_content(errors.get(&key).and_then(|v| v.first()).map(String::as_str));
        }
    }
}

/// Sets the cart's currency from a `currency` select's change.
pub fn on_currency(cart: CartCtx, el: &web_sys::Element) {
    if let Some(c) = Currency::parse(&value(el)) {
        cart.set_currency(c);
    }
}
