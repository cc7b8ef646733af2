//! Billing's scheduled work: invoices past their due date become `overdue` (reminders, late
//! fees and suspensions belong to the billing run).

use diesel::prelude::*;
use keel_shared::billing::InvoiceStatus;

use crate::automation::registry::{JobResult, Outcome, Registry, TaskRun};
use crate::db::{now_micros, DbConn};
use crate::deps::Deps;
use crate::schema::invoices;

pub fn register(r: &mut Registry<Deps>) {
    r.task("billing.mark_overdue", "5 0 * * *", "Mark unpaid invoices past their due date as overdue", mark_overdue);
}

fn mark_overdue(ctx: &Deps, conn: &mut DbConn, _: TaskRun) -> JobResult {
    let now = ctx.clock.now();
    let marked = diesel::update(
        invoices::table
            .filter(invoices::status.eq_any([InvoiceStatus::Unpaid, InvoiceStatus::PartiallyPaid]))
            .filter(invoices::due_on.lt(now.date_naive())),
    )
    .set((invoices::status.eq(InvoiceStatus::Overdue), invoices::updated_at.eq(now_micros(now))))
    .execute(conn)?;
    tracing::info!(marked, "overdue invoices marked");
    Ok(Outcome::Done)
}
