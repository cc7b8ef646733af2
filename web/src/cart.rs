//! The cart (`keel_shared::cart::Cart`): what a visitor is about to order, one per page and shared
//! by all its components (`use_cart()`), so the top bar's "Cart (n)" follows every change. The
//! storefront and the portal bundles both provide it ([`provide_cart`]); the admin bundle only
//! reads the browser's count.
//!
//! Where it is kept follows the session:
//!
//! - A guest's cart is kept in the browser (localStorage, [`KEY`]), so it survives page loads.
//! - A signed-in user's cart is the server's (`GET`/`PUT /cart`). When a session appears (a page
//!   load restoring one, signing in, registering), a guest cart with lines or codes in the
//!   browser is merged into the server's (`POST /cart/merge`) and removed from the browser; else
//!   the server's is read. Every change is then sent with `PUT /cart` (one at a time, the newest
//!   last), and the browser keeps nothing. Merging twice is harmless (a line already in the cart
//!   is not added again), so a page load cutting one short (signing in opens the portal bundle,
//!   which merges again) loses nothing. A cart the server could not read or merge stays the
//!   browser's for this page load.
//! - Signing out shows the guest cart again (empty after a merge). Checkout empties the server's
//!   cart itself; the page then calls [`CartCtx::emptied`].
//!
//! The lines are the API's `CartLine`s as they will be sent to `POST /cart/quote`; the API prices
//! them again every time (the browser's prices are a preview).

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use keel_shared::cart::{Cart, CartLine, QuoteRequest, PROMO_CODES_MAX};
use keel_shared::catalog::Catalog;
use keel_shared::Currency;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, ClientError};
use crate::session::{use_session, SessionCtx};

/// The localStorage key of a guest's cart.
pub const KEY: &str = "keel_cart";

#[derive(Debug, Clone, Copy)]
pub struct CartCtx {
    pub state: RwSignal<Cart>,
    /// False while the signed-in user's cart is being read from the server. The session tells
    /// the cart at once when it changes (see [`follow`]), so the session's `ready` and this
    /// together say the cart shown is that of whoever is (not) signed in.
    loaded: RwSignal<bool>,
    session: SessionCtx,
}

// One cart per page, so its bookkeeping is plain statics (each signal type, and each effect,
// costs the storefront's wasm a copy of Leptos' code for it).
/// Changes go to the server (`PUT /cart`) rather than to localStorage.
static REMOTE: AtomicBool = AtomicBool::new(false);
/// A `PUT /cart` is on its way; a change came while it was (send again when it is back).
static SENDING: AtomicBool = AtomicBool::new(false);
static AGAIN: AtomicBool = AtomicBool::new(false);
thread_local! {
    /// The bundle's cart, once provided.
    static CART: Cell<Option<CartCtx>> = const { Cell::new(None) };
    /// Whose cart was last asked for ("": the guest's).
    static WANTED: RefCell<String> = const { RefCell::new(String::new()) };
    /// The promo code just added, until the first quote with it decides whether it stays.
    static FRESH: RefCell<String> = const { RefCell::new(String::new()) };
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

fn read(json: &str) -> Option<Cart> {
    serde_json::from_str(json).ok()
}

/// The browser's cart; an unreadable one (an older shape, edited by hand) is an empty cart.
fn load() -> Cart {
    storage().and_then(|s| s.get_item(KEY).ok()?).and_then(|json| read(&json)).unwrap_or_default()
}

fn store(cart: &Cart) {
    if let (Some(s), Ok(json)) = (storage(), serde_json::to_string(cart)) {
        let _ = s.set_item(KEY, &json);
    }
}

fn clear_stored() {
    if let Some(s) = storage() {
        let _ = s.remove_item(KEY);
    }
}

impl CartCtx {
    /// Changes the cart and keeps it (localStorage, or `PUT /cart` when signed in).
    pub fn update(&self, f: impl FnOnce(&mut Cart)) {
        self.state.update(f);
        if !self.loaded.get_untracked() {
            // While the server's cart is read, its answer replaces the cart anyway.
            return;
        }
        if REMOTE.load(Relaxed) {
            self.send();
        } else {
            self.state.with_untracked(store);
        }
    }

    /// `PUT /cart` with the cart as it is now; changes made meanwhile follow in one more `PUT`
    /// once it is back, so the server ends with the newest.
    fn send(self) {
        if SENDING.swap(true, Relaxed) {
            AGAIN.store(true, Relaxed);
            return;
        }
        spawn_local(async move {
            loop {
                AGAIN.store(false, Relaxed);
                if !REMOTE.load(Relaxed) {
                    break; // signed out meanwhile
                }
                let cart = self.state.get_untracked();
                let _ = api::catalog::save_cart(self.session, &cart).await;
                if !AGAIN.load(Relaxed) {
                    break;
                }
            }
            SENDING.store(false, Relaxed);
        });
    }

    /// After an order was placed: the API emptied the server's cart already.
    pub fn emptied(&self) {
        self.state.set(Cart::default());
        if !REMOTE.load(Relaxed) {
            clear_stored();
        }
    }

    pub fn add(&self, line: CartLine, currency: Currency) {
        self.update(|c| {
            c.currency = Some(currency);
            c.lines.push(line);
        });
    }

    /// Sets the currency (a change only: each quote of a client's cart names theirs).
    pub fn set_currency(&self, currency: Currency) {
        if self.state.with_untracked(|c| c.currency) != Some(currency) {
            self.update(|c| c.currency = Some(currency));
        }
    }

    /// Number of lines.
    pub fn count(&self) -> usize {
        self.state.with(|c| c.lines.len())
    }

    /// Whether the cart shown is that of whoever is (not) signed in: the session is known and,
    /// signed in, the server's cart has been read.
    pub fn ready(&self) -> bool {
        self.session.ready.get() && self.loaded.get()
    }

    /// The currency to show prices in: the chosen one when the shop sells in it, else the shop's
    /// default.
    pub fn currency_in(&self, catalog: &Catalog) -> Currency {
        self.state.with(|c| c.currency).filter(|c| catalog.currency(*c).is_some()).unwrap_or(catalog.default_currency)
    }

    /// Adds promo `code` (as typed) to the cart, after the checks the browser can make: its
    /// shape, not twice, at most [`PROMO_CODES_MAX`]. Answers the problem to show under the field
    /// instead. The first quote with the code decides whether it stays (see [`price`]).
    pub fn add_code(&self, code: &str) -> Result<(), String> {
        let code = code.trim().to_ascii_uppercase();
        let (there, count) = self.state.with_untracked(|c| (c.promo_codes.contains(&code), c.promo_codes.len() as u64));
        let problem = if keel_shared::validation::promo_code(&code).is_err() {
            "is not a promo code (letters, digits, '-' and '_')"
        } else if there {
            "is applied already"
        } else if count >= PROMO_CODES_MAX {
            "is one too many (5 codes at most)"
        } else {
            FRESH.with(|f| f.replace(code.clone()));
            self.update(|c| c.promo_codes.push(code));
            return Ok(());
        };
        Err(format!("{code} {problem}"))
    }

    pub fn remove_code(&self, code: &str) {
        self.update(|c| c.promo_codes.retain(|x| x != code));
    }
}

/// Whether a promo problem names `code` (the API names the upper-cased code in each: "NOPE is not
/// a promo code", "you have used WELCOME10 before").
fn names(message: &str, code: &str) -> bool {
    message.split(' ').any(|w| w == code)
}
/// Prices `req` (`POST /cart/quote`, the answer as JSON text). When only promo codes are
/// refused, prices it again without the codes the problems name (without any, when none is
/// named), so the cart still shows a total. A code just added ([`CartCtx::add_code`]) that is
/// refused leaves the cart again. Answers the request that was priced, its answer, the promo
/// problems met on the way (to show under the promo field), and those of the code just added
/// that left (to show until the next code is added or removed).
pub async fn price(session: SessionCtx, req: &QuoteRequest) -> (QuoteRequest, Result<String, ClientError>, Vec<String>, String) {
    let mut priced = req.clone();
    let mut refused = Vec::new();
    let answer = loop {
        let messages = match api::catalog::quote(session, &priced).await {
            Err(ClientError::Problem(mut p)) if !priced.promo_codes.is_empty() && p.errors.keys().all(|k| k == "promo_codes") => {
                p.errors.remove("promo_codes").unwrap_or_default()
            }
            answer => break answer,
        };
        let before = priced.promo_codes.len();
        priced.promo_codes.retain(|c| !messages.iter().any(|m| names(m, c)));
        if priced.promo_codes.len() == before {
            priced.promo_codes.clear();
        }
        refused.extend(messages);
    };
    let fresh = FRESH.with(|f| if req.promo_codes.contains(&f.borrow()) { f.take() } else { String::new() });
    let mut dropped = String::new();
    if !fresh.is_empty() && !priced.promo_codes.contains(&fresh) {
        refused.retain(|m| {
            let named = names(m, &fresh);
            if named {
                if !dropped.is_empty() {
                    dropped.push_str("; ");
                }
                dropped.push_str(m);
            }
            !named
        });
        if let Some(cart) = current() {
            cart.remove_code(&fresh);
        }
    }
    (priced, answer, refused, dropped)
}

/// The cart of the running bundle (see [`provide_cart`]).
pub fn use_cart() -> CartCtx {
    current().expect("this bundle provides no cart")
}

/// The bundle's cart, if it provides one (the admin bundle does not).
pub fn current() -> Option<CartCtx> {
    CART.with(Cell::get)
}

/// Provides the cart at the root of a bundle (after the session), so every page shares one. It
/// is kept in a static rather than Leptos' context: the session's changes reach it from outside
/// any component ([`follow`]).
pub fn provide_cart() {
    let cart = CartCtx { state: RwSignal::new(load()), loaded: RwSignal::new(true), session: use_session() };
    CART.with(|c| c.set(Some(cart)));
    follow();
}

/// Makes the cart follow who is signed in: the server's cart while signed in, the browser's
/// otherwise. Called by the session whenever it changes (`SessionCtx::set`, `sign_out`,
/// `clear`); a refreshed token of the same user changes nothing. An administrator's view of a
/// client does not merge the browser's cart into the client's.
pub fn follow() {
    let Some(cart) = current() else { return };
    let session = cart.session;
    let (user, viewing) = session
        .current
        .with_untracked(|s| s.as_ref().map_or((String::new(), false), |s| (s.user.id.as_str().to_string(), s.user.impersonator.is_some())));
    if WANTED.with(|w| w.replace(user.clone())) == user {
        return;
    }
    REMOTE.store(false, Relaxed);
    if user.is_empty() {
        cart.state.set(load());
        cart.loaded.set(true);
        return;
    }
    cart.loaded.set(false);
    spawn_local(async move {
        let guest = load();
        let merge = !viewing && (!guest.lines.is_empty() || !guest.promo_codes.is_empty());
        let answer = api::catalog::server_cart(session, merge.then_some(&guest)).await.ok().and_then(|t| read(&t));
        if WANTED.with(|w| *w.borrow() != user) {
            return; // signed out, or someone else, meanwhile
        }
        // Not read or merged: the browser's cart stays, kept in the browser.
        if let Some(c) = answer {
            if merge {
                clear_stored();
            }
            REMOTE.store(true, Relaxed);
            cart.state.set(c);
        }
        cart.loaded.set(true);
    });
}

/// The number of lines in the browser's cart, read without the cart's types (for the top bar of
/// the admin bundle, which does not provide the cart).
pub fn stored_count() -> usize {
    let json = storage().and_then(|s| s.get_item(KEY).ok()?);
    json.and_then(|j| js_sys::JSON::parse(&j).ok())
        .and_then(|v| js_sys::Reflect::get(&v, &"lines".into()).ok())
        .filter(js_sys::Array::is_array)
        .map_or(0, |lines| js_sys::Array::from(&lines).length() as usize)
}
