//! Payments: the card gateways (Stripe; a sandbox stand-in when no key is configured), the hosted
//! payment pages they open for an invoice's balance, and their signed webhooks.
//!
//! Invariants: a webhook is acted on only when its signature verifies (and is fresh); every
//! webhook is stored with its raw body and outcome; the gateway's event id and payment id are
//! unique in the database, so a replayed or twin event records nothing twice; a payment whose
//! amount or currency disagrees with what Keel asked for records nothing and is flagged; one for
//! no known invoice is kept as `unmatched`. Recording a payment and everything a paid invoice
//! sets moving happen in one transaction (`billing::service::apply_payment_in`).

pub mod gateway;
pub mod routes;
pub mod sandbox;
pub mod service;
pub mod stripe;
