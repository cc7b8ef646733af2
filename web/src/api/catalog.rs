//! The public catalog, the cart's quote and a signed-in user's server cart.

use std::cell::RefCell;
use std::future::Future;
use std::sync::Arc;

use gloo_net::http::Request;
use keel_shared::cart::{Cart, QuoteRequest};
use keel_shared::catalog::{Catalog, Product};

use super::{authed_text, post_json, send, send_text, to_json, ClientError, Method, BASE};
use crate::session::SessionCtx;

pub async fn products() -> Result<Vec<Product>, ClientError> {
    send(Request::get(&format!("{BASE}/products")).build()).await
}

thread_local! {
    /// The catalog, fetched once per page load: the plans, the configurator and the cart all
    /// need it, and moving between them should not wait for it again.
    static CATALOG: RefCell<Option<Arc<Catalog>>> = const { RefCell::new(None) };
}

/// The catalog, when this page load has fetched it already.
pub fn cached() -> Option<Arc<Catalog>> {
    CATALOG.with(|c| c.borrow().clone())
}

/// `GET /catalog`: groups, products (hidden ones too), options, add-ons, currencies.
pub async fn catalog() -> Result<Arc<Catalog>, ClientError> {
    if let Some(c) = cached() {
        return Ok(c);
    }
    let c = Arc::new(send::<Catalog>(Request::get(&format!("{BASE}/catalog")).build()).await?);
    CATALOG.with(|cache| *cache.borrow_mut() = Some(c.clone()));
    Ok(c)
}

/// The currencies the shop sells in and its default one, from `GET /catalog` read with the
/// browser's JSON parser ([`super::Json`]): the portal's and the admin's forms need only these, and
/// deserializing the whole catalog with serde would add its code to their bundles.
pub async fn currencies() -> Result<(Vec<keel_shared::Currency>, keel_shared::Currency), ClientError> {
    use keel_shared::Currency;
    let json = super::Json::parse(&send_text(Request::get(&format!("{BASE}/catalog")).build()).await?);
    let codes: Vec<Currency> = json.list("currencies").iter().filter_map(|c| Currency::parse(&c.text("code"))).collect();
    let default = Currency::parse(&json.text("default_currency")).or_else(|| codes.first().copied()).unwrap_or_default();
    Ok((codes, default))
}

/// `POST /cart/quote`: the cart priced by the API, a `keel_shared::cart::Quote` as JSON text (the
/// cart reads it with [`super::Json`]). Signed in, the client's profile decides the currency,
/// country and VAT id; a guest's come from the request. A 422 is a `ClientError::Problem` whose
/// `errors` name the fields (`lines[0].domain`, `promo_codes`).
pub async fn quote(session: SessionCtx, req: &QuoteRequest) -> Result<String, ClientError> {
    if session.token().is_some() {
        authed_text(session, Method::Post, "/cart/quote", to_json(req)).await
    } else {
        send_text(post_json("/cart/quote", req)).await
    }
}

/// The signed-in user's cart kept on the server, as JSON text (a `keel_shared::cart::Cart`):
/// `GET /cart` (empty when they have none), or with `merge`, `POST /cart/merge`: the cart built
/// as a guest added to it. One call for both, and no `async` wrapper around the one it makes
/// (each future type costs the storefront's wasm its own code).
pub fn server_cart(session: SessionCtx, merge: Option<&Cart>) -> impl Future<Output = Result<String, ClientError>> {
    let (method, path) = if merge.is_some() { (Method::Post, "/cart/merge") } else { (Method::Get, "/cart") };
    authed_text(session, method, path, merge.and_then(to_json))
}

/// `PUT /cart`: replaces the signed-in user's server cart (answers it as JSON text).
pub fn save_cart(session: SessionCtx, cart: &Cart) -> impl Future<Output = Result<String, ClientError>> {
    authed_text(session, Method::Put, "/cart", to_json(cart))
}
