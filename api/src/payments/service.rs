//! Payments' use cases: opening a gateway's payment page for an invoice, and receiving the
//! gateway's webhooks — every one stored with what was done with it, each event and each payment
//! acted on once however often it arrives, and a paid invoice's consequences committed with the
//! payment.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use keel_shared::billing::{EventFilter, EventOutcome, Gateway, PayStarted, PaymentEvent};
use keel_shared::Page;

use super::gateway::{CardGateway, GatewayError, PageRequest, Reported, Signed, Verified};
use crate::audit::Actor;
use crate::billing::service::{self as billing, Applied, Receipt};
use crate::billing::store as invoices;
use crate::db::paging::{Cursor, Paging};
use crate::db::{self, now_micros, DbConn, Pool};
use crate::error::ApiError;
use crate::ids;
use crate::notifications::outbox::{self, Category, MailContext, Outgoing};
use crate::schema::{gateway_checkouts, payment_events};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payment_events)]
pub struct EventRow {
    pub id: String,
    pub gateway: Gateway,
    pub event_id: Option<String>,
    pub event_type: String,
    pub verified: bool,
    pub outcome: EventOutcome,
    pub detail: String,
    pub invoice_id: Option<String>,
    pub body: String,
    pub received_at: chrono::NaiveDateTime,
}

impl EventRow {
    fn to_dto(&self) -> PaymentEvent {
        PaymentEvent {
            id: self.id.clone().into(),
            gateway: self.gateway,
            event_id: self.event_id.clone(),
            event_type: self.event_type.clone(),
            verified: self.verified,
            outcome: self.outcome,
            detail: self.detail.clone(),
            invoice_id: self.invoice_id.clone().map(Into::into),
            body: self.body.clone(),
            received_at: self.received_at.and_utc(),
        }
    }
}

/// Opens the gateway's payment page for what is owed on one of the account's invoices (outside
/// any transaction: it waits on the gateway).
pub async fn start(
    pool: &Pool,
    gateway: &dyn CardGateway,
    now: DateTime<Utc>,
    public_url: &str,
    account: &str,
    invoice_id: &str,
) -> Result<PayStarted, ApiError> {
    let (acc, id) = (account.to_string(), invoice_id.to_string());
    let (inv, email) = db::run(pool, move |c| {
        let inv = billing::payable(c, &id, &acc)?;
        let email = crate::accounts::users::find_user(c, &acc)?.email;
        Ok((inv, email))
    })
    .await?;
    let back = format!("{public_url}/dashboard/invoices/{}", inv.id);
    let req = PageRequest {
        invoice_id: inv.id.to_string(),
        description: format!("Invoice {}", inv.number.as_deref().unwrap_or("(draft)")),
        amount_minor: inv.balance_minor,
        currency: inv.currency,
        email,
        success_url: format!("{back}?paid=1"),
        cancel_url: back,
    };
    let page = gateway.open(req).await.map_err(|e| match e {
        GatewayError::Refused(m) => {
            tracing::error!(error = %m, "payment gateway refused a payment page");
            ApiError::Unavailable("the payment provider refused the request; please try another way to pay or contact us".into())
        }
        GatewayError::Unavailable(m) => {
            tracing::warn!(error = %m, "payment gateway unavailable");
            ApiError::Unavailable("the payment provider cannot be reached just now; please try again in a minute".into())
        }
    })?;
    let row = (
        gateway_checkouts::gateway.eq(gateway.gateway()),
        gateway_checkouts::checkout_id.eq(page.id.clone()),
        gateway_checkouts::invoice_id.eq(inv.id.to_string()),
        gateway_checkouts::amount_minor.eq(inv.balance_minor),
        gateway_checkouts::currency.eq(inv.currency.code()),
        gateway_checkouts::created_at.eq(now_micros(now)),
    );
    db::run(pool, move |c| {
        crate::each_backend!(&mut *c, c => diesel::insert_into(gateway_checkouts::table).values(row).on_conflict_do_nothing().execute(c))?;
        Ok(())
    })
    .await?;
    Ok(PayStarted { redirect_url: Some(page.url), invoice: inv })
}

/// The invoice and amount a gateway's payment page was opened for.
pub fn checkout(conn: &mut DbConn, gateway: Gateway, id: &str) -> Result<Option<(String, i64, String)>, ApiError> {
    Ok(gateway_checkouts::table
        .find((gateway, id))
        .select((gateway_checkouts::invoice_id, gateway_checkouts::amount_minor, gateway_checkouts::currency))
        .first(conn)
        .optional()?)
}

/// What Keel answers the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub outcome: EventOutcome,
    pub detail: String,
}

/// Receives one webhook: verifies it, stores it, and acts on it once. A refused signature is
/// stored unverified and answered `Err` (the route's 400); everything verified is answered `Ok`
/// (2xx: the gateway need not send it again), whatever was done with it.
pub fn receive(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    mail: &MailContext,
    gateway: &dyn CardGateway,
    headers: &Signed<'_>,
    body: &[u8],
) -> Result<Result<Received, String>, ApiError> {
    // Kept as text: invalid UTF-8 and NUL (which PostgreSQL's text refuses) become U+FFFD.
    let text = String::from_utf8_lossy(body).replace('\0', "\u{FFFD}");
    let at = now_micros(now);
    let verified = match gateway.verify(headers, body, now) {
        Ok(v) => v,
        Err(why) => {
            let kind = serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["type"].as_str().map(|t| t.chars().filter(|c| !c.is_control()).take(100).collect::<String>()))
                .unwrap_or_else(|| "unknown".into());
            let row = EventRow {
                id: ids::new_id(),
                gateway: gateway.gateway(),
                event_id: None,
                event_type: kind,
                verified: false,
                outcome: EventOutcome::Rejected,
                detail: why.clone(),
                invoice_id: None,
                body: text,
                received_at: at,
            };
            diesel::insert_into(payment_events::table).values(&row).execute(conn)?;
            tracing::warn!(gateway = %gateway.gateway(), why, "webhook refused");
            return Ok(Err(why));
        }
    };
    // A signed event's ids go into the database: ones no gateway makes are refused.
    let sane = |t: &str| t.len() <= 255 && !t.chars().any(char::is_control);
    if !sane(&verified.event_id) || !sane(&verified.event_type) {
        return Ok(Err("the event's id or type is not text a gateway sends".into()));
    }
    db::transaction(conn, |conn| act(conn, now, mail, gateway.gateway(), &verified, text).map(Ok))
}

fn act(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    mail: &MailContext,
    gateway: Gateway,
    v: &Verified,
    body: String,
) -> Result<Received, ApiError> {
    let mut row = EventRow {
        id: ids::new_id(),
        gateway,
        event_id: Some(v.event_id.clone()),
        event_type: v.event_type.clone(),
        verified: true,
        outcome: EventOutcome::Ignored,
        detail: String::new(),
        invoice_id: None,
        body,
        received_at: now_micros(now),
    };
    // The event's row first: a replay (or its twin racing in) finds it and does nothing more.
    let fresh =
        crate::each_backend!(&mut *conn, c => diesel::insert_into(payment_events::table).values(&row).on_conflict_do_nothing().execute(c))?;
    if fresh == 0 {
        return Ok(Received { outcome: EventOutcome::Duplicate, detail: format!("event {} was received before", v.event_id) });
    }
    let (outcome, detail, invoice) = decide(conn, now, mail, gateway, v)?;
    row.outcome = outcome;
    row.detail = detail.clone();
    row.invoice_id = invoice;
    diesel::update(payment_events::table.find(&row.id))
        .set((
            payment_events::outcome.eq(row.outcome),
            payment_events::detail.eq(&row.detail),
            payment_events::invoice_id.eq(&row.invoice_id),
        ))
        .execute(conn)?;
    if matches!(outcome, EventOutcome::Mismatch | EventOutcome::Unmatched) {
        tracing::warn!(%gateway, event = v.event_id, detail, "webhook needs a person");
    }
    Ok(Received { outcome, detail })
}

fn decide(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    mail: &MailContext,
    gateway: Gateway,
    v: &Verified,
) -> Result<(EventOutcome, String, Option<String>), ApiError> {
    let known = |conn: &mut DbConn, id: &Option<String>| -> Result<Option<invoices::InvoiceRow>, ApiError> {
        match id {
            Some(id) if keel_shared::ids::is_id(id) => invoices::find(conn, id),
            _ => Ok(None),
        }
    };
    // An event that names only the payment page (a Razorpay order) is matched through it.
    let page = |conn: &mut DbConn, checkout_id: &Option<String>| -> Result<Option<(String, i64, String)>, ApiError> {
        match checkout_id {
            Some(id) => checkout(conn, gateway, id),
            None => Ok(None),
        }
    };
    match &v.what {
        Reported::Other => Ok((EventOutcome::Ignored, format!("{} is not acted on", v.event_type), None)),
        Reported::CardSaved { customer_id, method_id, brand, last4, exp_month, exp_year } => {
            match super::methods::saved_in(conn, now, gateway, customer_id, (method_id, brand, last4, *exp_month, *exp_year))? {
                None => Ok((EventOutcome::Unmatched, format!("card {method_id} saved to customer {customer_id}, who is not Keel's"), None)),
                Some((_, true)) => Ok((EventOutcome::Recorded, format!("{brand} ending {last4} saved"), None)),
                Some((_, false)) => Ok((EventOutcome::Duplicate, format!("card {method_id} was saved before"), None)),
            }
        }
        Reported::Refunded { payment_id, refund_id, amount_minor, total_refunded_minor } => {
            let Some(paid) = invoices::payment_by_external(conn, gateway, payment_id)? else {
                return Ok((EventOutcome::Unmatched, format!("a refund of payment {payment_id}, which Keel did not record"), None));
            };
            if let Some(r) = refund_id {
                if invoices::payment_by_external(conn, gateway, r)?.is_some() {
                    return Ok((EventOutcome::Duplicate, format!("refund {r} was recorded before"), Some(paid.invoice_id)));
                }
            }
            let already = invoices::refunded(conn, &paid.id)?;
            // Stripe says how much of the charge is refunded in all: what Keel has not recorded
            // yet is new. Razorpay names each refund.
            let (amount, external) = match (amount_minor, total_refunded_minor) {
                (Some(a), _) => (*a, refund_id.clone()),
                (None, Some(total)) => (total - already, Some(format!("{payment_id}:refunded:{total}"))),
                (None, None) => return Ok((EventOutcome::Ignored, "the refund names no amount".into(), Some(paid.invoice_id))),
            };
            if amount <= 0 {
                return Ok((EventOutcome::Duplicate, format!("{payment_id}'s refunds are recorded already"), Some(paid.invoice_id)));
            }
            let refund = billing::Refund {
                invoice_id: paid.invoice_id.clone(),
                payment_id: paid.id.clone(),
                amount_minor: amount,
                refund_id: external,
                reason: format!("Refunded at {}", gateway.label()),
            };
            match billing::record_refund(conn, now, &Actor::default(), &refund) {
                Ok(inv) => Ok((
                    EventOutcome::Recorded,
                    format!("refund of {amount} recorded on {}", inv.number.unwrap_or_default()),
                    Some(paid.invoice_id),
                )),
                Err(ApiError::Validation { detail, .. }) => Ok((
                    EventOutcome::Mismatch,
                    format!("refund of {amount} on {payment_id} not recorded: {detail}"),
                    Some(paid.invoice_id),
                )),
                Err(e) => Err(e),
            }
        }
        Reported::Failed { invoice_id, checkout_id, reason } => {
            let invoice_id = match invoice_id {
                Some(i) => Some(i.clone()),
                None => page(conn, checkout_id)?.map(|(i, _, _)| i),
            };
            let Some(inv) = known(conn, &invoice_id)? else {
                return Ok((EventOutcome::Unmatched, format!("a failed payment for no known invoice: {reason}"), None));
            };
            tell_failed_in(conn, now, mail, &inv, reason)?;
            Ok((EventOutcome::Failed, reason.clone(), Some(inv.id)))
        }
        Reported::Paid { payment_id, invoice_id, checkout_id, amount_minor, currency, expected_minor } => {
            let opened = page(conn, checkout_id)?;
            let invoice_id = invoice_id.clone().or_else(|| opened.as_ref().map(|(i, _, _)| i.clone()));
            let expected_minor = expected_minor.or(opened.as_ref().map(|(_, a, _)| *a));
            let Some(inv) = known(conn, &invoice_id)? else {
                return Ok((
                    EventOutcome::Unmatched,
                    format!(
                        "payment {payment_id} of {amount_minor} {currency} names no known invoice ({})",
                        invoice_id.as_deref().unwrap_or("none")
                    ),
                    None,
                ));
            };
            if *currency != inv.currency {
                return Ok((
                    EventOutcome::Mismatch,
                    format!("payment {payment_id} is in {currency}; invoice {} is in {}", inv.label(), inv.currency),
                    Some(inv.id),
                ));
            }
            if *amount_minor <= 0 || expected_minor.is_some_and(|e| e != *amount_minor) {
                return Ok((
                    EventOutcome::Mismatch,
                    format!(
                        "payment {payment_id} took {amount_minor}; Keel asked for {} on invoice {}",
                        expected_minor.map_or("nothing".into(), |e| e.to_string()),
                        inv.label()
                    ),
                    Some(inv.id),
                ));
            }
            let receipt = Receipt {
                invoice_id: inv.id.clone(),
                gateway,
                external_id: Some(payment_id.clone()),
                reference: payment_id.clone(),
                amount_minor: *amount_minor,
                currency: currency.clone(),
            };
            let (applied, after) = billing::apply_payment_in(conn, now, mail, &Actor::default(), &receipt)?;
            Ok(match applied {
                Applied::Duplicate => (EventOutcome::Duplicate, format!("payment {payment_id} was recorded before"), Some(inv.id)),
                Applied::Recorded { to_invoice, to_credit, .. } => (
                    EventOutcome::Recorded,
                    format!(
                        "{to_invoice} applied to {} (now {}){}",
                        after.label(),
                        after.status,
                        if to_credit > 0 { format!(", {to_credit} to credit") } else { String::new() }
                    ),
                    Some(inv.id),
                ),
            })
        }
    }
}

/// The webhook log, newest first.
pub fn events(conn: &mut DbConn, filter: &EventFilter) -> Result<Page<PaymentEvent>, ApiError> {
    let paging = Paging::new(filter.paging.clone())?;
    macro_rules! base {
        () => {{
            let mut q = payment_events::table.into_boxed();
            if let Some(o) = filter.outcome {
                q = q.filter(payment_events::outcome.eq(o));
            }
            q
        }};
    }
    let total = crate::count_capped!(conn, base!(), payment_events::received_at, payment_events::id);
    let rows: Vec<EventRow> =
        crate::keyset!(base!(), payment_events::received_at, payment_events::id, &paging).select(EventRow::as_select()).load(conn)?;
    let page = paging.finish(rows, total, |r: &EventRow| Cursor { at: r.received_at, id: r.id.clone() });
    Ok(page.map(|r| r.to_dto()))
}

/// Gives back part or all of an invoice's payment: at the gateway that took it first (outside any
/// transaction; a key derived from the payment, what was refunded before and the amount makes a
/// retried or doubled request one refund there), then recorded with its credit note
/// (`billing::service::record_refund`). Credit goes back to credit; a bank transfer is recorded
/// as sent back by staff.
pub async fn refund(
    pool: &Pool,
    deps: &crate::deps::Deps,
    now: DateTime<Utc>,
    actor: Actor,
    invoice_id: &str,
    body: &keel_shared::billing::RefundRequest,
) -> Result<keel_shared::billing::Invoice, ApiError> {
    let (inv, pay, amount) = (invoice_id.to_string(), body.payment_id.to_string(), body.amount_minor);
    let (paid, left) = db::run(pool, move |c| {
        invoices::find(c, &inv)?.ok_or_else(|| ApiError::not_found("invoice"))?;
        billing::refundable(c, &inv, &pay, amount)
    })
    .await?;
    let refund_id = match super::card(deps, paid.gateway) {
        Some(gateway) => {
            let external = paid.external_id.clone().ok_or_else(|| ApiError::internal("a gateway payment without its id"))?;
            let key = format!("keel-refund-{}-{}-{amount}", paid.id, paid.amount_minor - left);
            Some(gateway.refund(&external, amount, &key).await.map_err(|e| match e {
                GatewayError::Refused(m) => ApiError::Conflict { code: "refund_refused", detail: m, field: Some("amount_minor".into()) },
                GatewayError::Unavailable(m) => {
                    tracing::warn!(error = %m, "refund: gateway unavailable");
                    ApiError::Unavailable(format!(
                        "{} cannot be reached just now; nothing was refunded, try again in a minute",
                        paid.gateway.label()
                    ))
                }
            })?)
        }
        None => None,
    };
    let refund = billing::Refund {
        invoice_id: invoice_id.to_string(),
        payment_id: paid.id.clone(),
        amount_minor: amount,
        refund_id,
        reason: body.reason.clone(),
    };
    db::run(pool, move |c| billing::record_refund(c, now, &actor, &refund)).await
}

/// E-mails the client that a payment of what is owed on `inv` failed, and why (`payment_failed`).
pub fn tell_failed_in(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    mail: &MailContext,
    inv: &invoices::InvoiceRow,
    reason: &str,
) -> Result<(), ApiError> {
    let user = crate::accounts::users::find_user(conn, &inv.account_id)?;
    let vars = serde_json::json!({
        "first_name": user.first_name, "invoice_number": inv.label(), "reason": reason,
        "amount": keel_shared::Money::new(inv.balance(), inv.currency()?).to_string(),
    });
    outbox::queue_email(
        conn,
        now,
        mail,
        Outgoing {
            to: &user.email,
            user_id: Some(&inv.account_id),
            template: "payment_failed",
            category: Category::Transactional,
            vars: &vars,
        },
    )
    .map(drop)
}
