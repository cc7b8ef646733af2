//! Renewal invoices: a service is invoiced for its next period ahead of its due date (the
//! billing settings' `renewal_days`). When the shop consolidates renewals (the default), a
//! client's services falling due on the same day in the same currency share one invoice; else
//! each gets its own.
//!
//! A service's `next_invoice_on` is the due date of the first period not invoiced yet. It moves
//! on one cycle in the transaction that writes the period's invoice line, claimed by a
//! conditional update, so a period is invoiced once however often, or however concurrently, the
//! task runs. A new renewal invoice is paid from the client's account credit as far as it goes
//! (a setting, on by default). Paying the invoice moves the service's `next_due_on` to the end of the period
//! (`invoice_paid_in`, called by billing in the paying transaction). A renewal invoice that staff
//! cancel is not made again; a client's cancellation request cancels the unpaid renewal
//! invoices that bill nothing else.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use keel_shared::billing::{InvoiceKind, InvoiceStatus};
use keel_shared::orders::ServiceStatus;
use keel_shared::provisioning::next_due_after;

use super::store::{self, ServiceRow};
use crate::audit::Actor;
use crate::billing::store::LineRow;
use crate::db::{self, now_micros, DbConn};
use crate::error::ApiError;
use crate::ids;
use crate::notifications::outbox::MailContext;
use crate::schema::{invoice_lines, invoices, services};

/// At most this many periods of one service are invoiced in one run (a service far behind, say
/// after the task was switched off, catches up a year of monthly periods at a time).
const CATCH_UP: usize = 12;

/// Invoices every service whose next period starts within the settings' days ahead of `now`
/// (the daily task), each group in its own transaction. Answers how many invoices were issued.
pub fn invoice_due(conn: &mut DbConn, now: DateTime<Utc>, mail: &MailContext) -> Result<usize, ApiError> {
    let settings = crate::billing::service::settings(conn)?;
    let horizon = now.date_naive() + Duration::days(i64::from(settings.renewal_days));
    let mut issued = 0;
    for _ in 0..CATCH_UP {
        let due: Vec<ServiceRow> = services::table
            .filter(services::next_invoice_on.le(horizon))
            .filter(services::status.eq_any(ServiceStatus::LIVE.map(ServiceStatus::as_str)))
            .filter(services::cancel_when.is_null())
            .order((services::account_id, services::currency, services::next_invoice_on, services::id))
            .select(ServiceRow::as_select())
            .load(conn)?;
        if due.is_empty() {
            break;
        }
        let mut wrote = 0;
        for group in groups(due, settings.consolidate_renewals) {
            if db::transaction(conn, |conn| invoice_group_in(conn, now, mail, &group, settings.renewals_use_credit))? {
                wrote += 1;
            }
        }
        issued += wrote;
        if wrote == 0 {
            break;
        }
    }
    Ok(issued)
}

/// Services (ordered by account, currency and due date) in the groups that share an invoice.
fn groups(due: Vec<ServiceRow>, consolidate: bool) -> Vec<Vec<ServiceRow>> {
    let mut out: Vec<Vec<ServiceRow>> = Vec::new();
    for svc in due {
        let joins = consolidate
            && out
                .last()
                .and_then(|g| g.first())
                .is_some_and(|f| f.account_id == svc.account_id && f.currency == svc.currency && f.next_invoice_on == svc.next_invoice_on);
        match out.last_mut() {
            Some(group) if joins => group.push(svc),
            _ => out.push(vec![svc]),
        }
    }
    out
}

/// Claims each service's next period (moving `next_invoice_on` on) and issues one invoice for
/// the periods claimed, in the caller's transaction, paid from the client's credit as far as it
/// goes (`use_credit`). False when another run claimed them all.
fn invoice_group_in(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    mail: &MailContext,
    group: &[ServiceRow],
    use_credit: bool,
) -> Result<bool, ApiError> {
    let at = now_micros(now);
    let mut lines: Vec<LineRow> = Vec::with_capacity(group.len());
    for svc in group {
        let Some(from) = svc.next_invoice_on else { continue };
        let cycle = svc.cycle()?;
        let next = next_due_after(svc.anchor_on.unwrap_or(from), cycle, from);
        // Still due, billed and not being cancelled: a cancellation that raced the task wins.
        let claimed = diesel::update(
            services::table
                .find(&svc.id)
                .filter(services::next_invoice_on.eq(from))
                .filter(services::status.eq_any(ServiceStatus::LIVE.map(ServiceStatus::as_str)))
                .filter(services::cancel_when.is_null()),
        )
        .set(services::next_invoice_on.eq(next))
        .execute(conn)?;
        let Some(next) = next.filter(|_| claimed == 1) else { continue };
        // A downgrade that waits for this renewal sets its price.
        let (plan, price) = match super::changes::scheduled_on(conn, &svc.id, from)? {
            Some(change) => change,
            None => (store::plan_name(conn, svc)?, svc.recurring_minor),
        };
        let on = svc.domain.as_deref().map(|d| format!(" — {d}")).unwrap_or_default();
        lines.push(LineRow {
            id: ids::new_id(),
            invoice_id: String::new(),
            line_no: lines.len() as i32,
            description: format!("{plan} ({}){on}", cycle.label()),
            service_id: Some(svc.id.clone()),
            period_from: Some(from),
            period_to: next.pred_opt(),
            quantity: 1,
            unit_minor: price,
            discount_minor: 0,
            tax_minor: 0,
            total_minor: price,
        });
    }
    let Some(first) = group.first().filter(|_| !lines.is_empty()) else {
        return Ok(false);
    };
    let amounts: Vec<i64> = lines.iter().map(|l| l.unit_minor).collect();
    let tax = crate::commerce::service::tax_for_account(conn, &first.account_id, &amounts)?;
    for (line, taxed) in lines.iter_mut().zip(&tax.lines) {
        line.tax_minor = taxed.tax_minor;
        line.total_minor = taxed.total_minor;
    }
    let due_on = lines.iter().filter_map(|l| l.period_from).min().map(|d| d.max(now.date_naive()));
    let draft = crate::billing::service::Draft::taxed(
        &first.account_id,
        InvoiceKind::Renewal,
        &first.currency,
        amounts.iter().sum(),
        &tax,
        due_on,
    )?;
    let services: Vec<(String, Option<NaiveDate>, Option<NaiveDate>)> =
        lines.iter().map(|l| (l.service_id.clone().unwrap_or_default(), l.period_from, l.period_to)).collect();
    let invoice = crate::billing::service::issue_notified_in(conn, now, mail, draft, lines)?;
    if use_credit && invoice.status.is_open() {
        crate::billing::service::apply_credit_in(conn, now, mail, &Actor::default(), &invoice.id)?;
    }
    for (id, from, to) in services {
        let period = match (from, to) {
            (Some(f), Some(t)) => format!("{f} to {t}"),
            _ => String::new(),
        };
        store::event(conn, at, &id, "renewal", true, &format!("invoiced on {} for {period}", invoice.label()))?;
    }
    Ok(true)
}

/// Billing's call when a `renewal` invoice is paid, in the paying transaction: each service it
/// bills is paid to the end of its period (its next due date moves there). A service that ended
/// meanwhile gets what was paid for it as account credit; one whose due date staff moved is left
/// as staff set it.
pub fn invoice_paid_in(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, invoice_id: &str) -> Result<(), ApiError> {
    let at = now_micros(now);
    let Some(row) = crate::billing::store::find(conn, invoice_id)? else {
        return Ok(());
    };
    for line in crate::billing::store::lines(conn, invoice_id)? {
        let (Some(id), Some(from), Some(to)) = (&line.service_id, line.period_from, line.period_to) else { continue };
        let Some(svc) = store::service(conn, id)? else { continue };
        let paid_until = to.succ_opt();
        let moved = diesel::update(
            services::table
                .find(&svc.id)
                .filter(services::next_due_on.eq(from))
                .filter(services::status.eq_any(ServiceStatus::LIVE.map(ServiceStatus::as_str))),
        )
        .set((services::next_due_on.eq(paid_until), services::period_paid_minor.eq(Some(line.unit_minor)), services::updated_at.eq(at)))
        .execute(conn)?;
        if moved == 1 {
            store::event(conn, at, &svc.id, "renewal", true, &format!("paid on {} until {to}", row.label()))?;
            continue;
        }
        let status = svc.status()?;
        if status.is_live() {
            let detail = format!("{} paid, but the service was no longer due on {from}: its due date is left as it is", row.label());
            store::event(conn, at, &svc.id, "renewal", false, &detail)?;
            continue;
        }
        store::event(
            conn,
            at,
            &svc.id,
            "renewal",
            false,
            &format!("{} paid for a service now {}: credited", row.label(), status.as_str()),
        )?;
        let reason = format!("Renewal on {} of a service that is {}", row.label(), status.as_str());
        super::changes::credit_in(conn, at, actor, &svc, line.total_minor, reason, Some(&row.id))?;
    }
    Ok(())
}

/// A cancellation was requested, in its transaction: the service's renewal invoices with
/// nothing paid that bill only this service are cancelled. One shared with other services
/// stays for staff to correct. Answers how many were cancelled.
pub fn service_cancelled_in(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, service_id: &str) -> Result<usize, ApiError> {
    Ok(withdraw_in(conn, now, actor, service_id, "The service is being cancelled")?.len())
}

/// A service's plan changed, in the change's transaction: a renewal invoiced at the old price
/// with nothing paid, billing only this service, is cancelled and its period invoiced again at
/// the new price by the next run. One shared with other services stays as it is.
pub fn service_changed_in(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, service_id: &str) -> Result<(), ApiError> {
    let periods = withdraw_in(conn, now, actor, service_id, "The plan changed: invoiced again at the new price")?;
    if let Some(first) = periods.into_iter().min() {
        diesel::update(services::table.find(service_id).filter(services::next_invoice_on.gt(first)))
            .set(services::next_invoice_on.eq(Some(first)))
            .execute(conn)?;
    }
    Ok(())
}

/// Cancels the service's open renewal invoices with nothing paid that bill only this service:
/// answers the periods (their first days) they billed.
fn withdraw_in(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, service_id: &str, reason: &str) -> Result<Vec<NaiveDate>, ApiError> {
    let open: Vec<(String, Option<NaiveDate>)> = invoices::table
        .inner_join(invoice_lines::table)
        .filter(invoice_lines::service_id.eq(service_id))
        .filter(invoices::kind.eq(InvoiceKind::Renewal))
        .filter(invoices::status.eq_any([InvoiceStatus::Unpaid, InvoiceStatus::Overdue]))
        .filter(invoices::paid_minor.eq(0))
        .select((invoices::id, invoice_lines::period_from))
        .load(conn)?;
    let mut periods = Vec::new();
    for (id, from) in open {
        let others: i64 = invoice_lines::table
            .filter(invoice_lines::invoice_id.eq(&id))
            .filter(invoice_lines::service_id.ne(service_id).or(invoice_lines::service_id.is_null()))
            .count()
            .get_result(conn)?;
        if others == 0 {
            crate::billing::service::cancel_in(conn, now, actor, &id, reason)?;
            periods.extend(from);
        }
    }
    Ok(periods)
}
