//! The browser's cart: what a visitor is about to order, kept in localStorage (`keel_cart`) so it
//! survives page loads and signing in, and shared through context (`use_cart()`) so the top bar's
//! "Cart (n)" follows every change. The lines are the API's `CartLine`s as they will be sent to
//! `POST /cart/quote`; the API prices them again every time (the browser's prices are a preview).

use keel_shared::cart::CartLine;
use keel_shared::catalog::Catalog;
use keel_shared::Currency;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The localStorage key.
pub const KEY: &str = "keel_cart";

/// What is stored under [`KEY`], as JSON.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredCart {
    /// The currency chosen in the storefront (`None`: the shop's default).
    #[serde(default)]
    pub currency: Option<Currency>,
    #[serde(default)]
    pub lines: Vec<CartLine>,
    /// The promo code the visitor applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promo_code: Option<String>,
    /// A guest's country and VAT id, for tax (a signed-in client's profile is used instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct CartCtx {
    pub state: RwSignal<StoredCart>,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// The stored cart; an unreadable one (an older shape, edited by hand) is an empty cart.
fn load() -> StoredCart {
    storage().and_then(|s| s.get_item(KEY).ok()?).and_then(|json| serde_json::from_str(&json).ok()).unwrap_or_default()
}

impl CartCtx {
    /// Changes the cart and stores it.
    pub fn update(&self, f: impl FnOnce(&mut StoredCart)) {
        self.state.update(f);
        if let (Some(s), Ok(json)) = (storage(), self.state.with_untracked(serde_json::to_string)) {
            let _ = s.set_item(KEY, &json);
        }
    }

    pub fn add(&self, line: CartLine, currency: Currency) {
        self.update(|c| {
            c.currency = Some(currency);
            c.lines.push(line);
        });
    }

    pub fn set_currency(&self, currency: Currency) {
        self.update(|c| c.currency = Some(currency));
    }

    /// Number of lines.
    pub fn count(&self) -> usize {
        self.state.with(|c| c.lines.len())
    }

    /// The currency to show prices in: the chosen one when the shop sells in it, else the shop's
    /// default.
    pub fn currency_in(&self, catalog: &Catalog) -> Currency {
        self.state.with(|c| c.currency).filter(|c| catalog.currency(*c).is_some()).unwrap_or(catalog.default_currency)
    }
}

/// The cart of the storefront bundle, read from storage once (see [`provide_cart`]).
pub fn use_cart() -> CartCtx {
    expect_context::<CartCtx>()
}

/// Provides the cart at the root of the storefront bundle, so every page shares one.
pub fn provide_cart() {
    provide_context(CartCtx { state: RwSignal::new(load()) });
}

/// The number of lines in the stored cart, read without the cart's types (for the top bar of the
/// portal and admin bundles).
pub fn stored_count() -> usize {
    let json = storage().and_then(|s| s.get_item(KEY).ok()?);
    json.and_then(|j| js_sys::JSON::parse(&j).ok())
        .and_then(|v| js_sys::Reflect::get(&v, &"lines".into()).ok())
        .filter(js_sys::Array::is_array)
        .map_or(0, |lines| js_sys::Array::from(&lines).length() as usize)
}

/// The stored cart, read once (for the portal's checkout, which has no cart context).
pub fn stored() -> StoredCart {
    load()
}

/// Empties the stored cart (after an order is placed).
pub fn clear_stored() {
    if let Some(s) = storage() {
        let _ = s.remove_item(KEY);
    }
}
