//! Commerce: what a cart costs and the terms that shape it — tax rules by place, promo codes —
//! the server cart of a signed-in client, and checkout into orders.
//!
//! Invariants: the API prices every cart itself with `keel_shared::pricing::quote` (the same
//! function the browser runs) and never trusts a client's total; a promo code is stored
//! upper-cased and unique; tax rules apply to the buyer's billing country (and state), with the
//! EU reverse charge for a business customer in another member state whose VAT id has a valid
//! format; exempt clients pay no tax. A quote for a signed-in client is in the client's profile
//! currency.
//!
//! Tax rules and commerce settings travel with the cached catalog (`catalog::routes::cached`):
//! writing them publishes `CatalogChanged`, so a guest's quote without a promo code reads no
//! database.
//!
//! Carts: a guest's cart lives in the browser; a signed-in client's on the server (`carts`),
//! where the browser merges the guest cart on sign-in (`Cart::merge`: lines not already there,
//! up to the limit). Checkout empties the placer's server cart in its transaction.

pub mod bench;
pub mod carts;
pub mod fraud;
pub mod geoip;
pub mod jobs;
pub mod models;
pub mod orders;
pub mod rates;
pub mod routes;
pub mod seed;
pub mod service;
pub mod vies;
