//! Catalog: products and their prices per billing cycle and currency.
//!
//! Invariants: prices are integer minor units and never negative (a CHECK constraint backs it);
//! a product has at most one price per (cycle, currency); only active products are for sale.
//!
//! The public list (`GET /products`) is served from memory, serialised once, with an ETag (304
//! when the client has it): whatever writes products or prices publishes
//! `db::cache::Change::CatalogChanged` in its transaction, which empties that cache in every
//! process (see `db::cache`).

pub mod models;
pub mod routes;
pub mod seed;
pub mod service;
