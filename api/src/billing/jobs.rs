//! Billing's scheduled work: invoices past their due date become `overdue` (reminders, late
//! fees and suspensions belong to the billing run), and Idempotency-Keys older than a day are
//! forgotten.

use diesel::prelude::*;
use keel_shared::billing::InvoiceStatus;

use crate::automation::registry::{JobResult, Outcome, Registry, TaskRun};
use crate::db::{now_micros, DbConn};
use crate::deps::Deps;
use crate::schema::invoices;

pub fn register(r: &mut Registry<Deps>) {
    r.task(
        "billing.daily",
        "5 0 * * *",
        "Mark unpaid invoices past their due date as overdue; forget Idempotency-Keys older than a day",
        daily,
    );
}

fn daily(ctx: &Deps, conn: &mut DbConn, _: TaskRun) -> JobResult {
    let now = ctx.clock.now();
    let marked = diesel::update(
        invoices::table
            .filter(invoices::status.eq_any([InvoiceStatus::Unpaid, InvoiceStatus::PartiallyPaid]))
            .filter(invoices::due_on.lt(now.date_naive())),
    )
    .set((invoices::status.eq(InvoiceStatus::Overdue), invoices::updated_at.eq(now_micros(now))))
    .execute(conn)?;
    let keys = crate::idempotency::purge(conn, now - chrono::Duration::days(1))?;
    tracing::info!(marked, keys, "overdue invoices marked, old idempotency keys forgotten");
    Ok(Outcome::Done)
}
