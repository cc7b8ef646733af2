//! Billing: invoices, the payments recorded against them and the credit ledger.
//!
//! Invariants: an invoice is numbered when issued, from the year's gapless sequence
//! (`counters` row `invoice-<year>`, advanced in the issuing transaction, so a rollback gives the
//! number back and concurrent issuings queue on the row); from then on its lines, amounts and the
//! seller's and buyer's details never change — only status, what was paid and when. Money is
//! integer minor units. An account's credit balance (`credit_balances`) is the sum of its ledger
//! entries, moved in the entry's transaction and never below zero. A checkout's invoice is issued
//! in the checkout's transaction (`issue_for_order_in`). A credit note (a refund, numbered from
//! its own gapless `CN-<year>-` sequence) states its invoice's frozen parties and taxes and splits
//! its amount into net and tax in the invoice's proportion (`credit_note`); it downloads as a PDF
//! and as UBL like an invoice.

pub mod credit_note;
pub mod jobs;
pub mod pdf;
pub mod routes;
pub mod service;
pub mod store;
pub mod ubl;
