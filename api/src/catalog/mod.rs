//! Catalog: products and their prices per billing cycle and currency.
//!
//! Invariants: prices are integer minor units and never negative (a CHECK constraint backs it);
//! a product has at most one price per (cycle, currency); only active products are for sale.

pub mod models;
pub mod routes;
pub mod seed;
pub mod service;
