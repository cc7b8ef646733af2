//! Notifications: e-mail templates, the outbox and SMTP delivery.
//!
//! Invariants: an e-mail is a row written in the caller's transaction together with its
//! `email.send` job, so a rolled-back change sends nothing and a committed one sends once; the
//! send job checks the row before sending (a retried job never sends twice what was already
//! accepted); marketing mail is never sent to an unsubscribed address.

pub mod jobs;
pub mod mailer;
pub mod outbox;
pub mod routes;
pub mod service;
pub mod templates;
