//! Payments: the card gateways (Stripe and Razorpay; sandbox stand-ins when no keys are configured), the hosted
//! payment pages they open for an invoice's balance, and their signed webhooks.
//!
//! Invariants: a webhook is acted on only when its signature verifies (and is fresh); every
//! webhook is stored with its raw body and outcome; the gateway's event id and payment id are
//! unique in the database, so a replayed or twin event records nothing twice; a payment whose
//! amount or currency disagrees with what Keel asked for records nothing and is flagged; one for
//! no known invoice is kept as `unmatched`. Recording a payment and everything a paid invoice
//! sets moving happen in one transaction (`billing::service::apply_payment_in`).

pub mod gateway;
pub mod jobs;
pub mod methods;
pub mod razorpay;
pub mod razorpay_sandbox;
pub mod routes;
pub mod sandbox;
pub mod service;
pub mod stripe;

use std::sync::Arc;

use keel_shared::billing::Gateway;

/// The card gateway that takes (and gives back) payments of kind `g`, if it is one.
pub fn card(deps: &crate::deps::Deps, g: Gateway) -> Option<Arc<dyn gateway::CardGateway>> {
    match g {
        Gateway::Stripe => Some(deps.stripe.clone()),
        Gateway::Razorpay => Some(deps.razorpay.clone()),
        Gateway::BankTransfer | Gateway::Credit => None,
    }
}
