//! Catalog: what is sold. Product groups; products with prices per billing cycle and currency
//! (first-term and renewal), configurable options whose values are priced per cycle, add-ons
//! attachable to chosen products; the currencies the shop sells in with their rates; the
//! commerce settings pricing needs.
//!
//! Invariants: prices are integer minor units and never negative (CHECK constraints back it);
//! one price per (owner, cycle, currency); only active (not retired) products and add-ons are for
//! sale; hidden products are sold by link but not listed; hidden options are not offered; there
//! is exactly one default currency (rate 1,000,000), and prices are in the shop's currencies.
//!
//! The public catalog (`GET /catalog`, `GET /products`) and the model quotes are priced against
//! are served from memory, serialised once, with an ETag (304 when the client has it): whatever
//! writes the catalog publishes `db::cache::Change::CatalogChanged` in its transaction, which
//! empties that cache in every process (see `db::cache`).

pub mod models;
pub mod routes;
pub mod seed;
pub mod service;
pub mod store;
