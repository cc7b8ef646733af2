//! Payments' scheduled work: due renewal invoices charged to the client's default saved card.

use crate::automation::registry::{JobResult, Outcome, Registry, TaskRun};
use crate::db::DbConn;
use crate::deps::Deps;

pub fn register(r: &mut Registry<Deps>) {
    r.task(
        "payments.charge_renewals",
        "0 6 * * *",
        "Charge renewal invoices that are due to the client's default saved card, once per invoice (a decline e-mails the client)",
        charge_renewals,
    );
}

fn charge_renewals(ctx: &Deps, conn: &mut DbConn, _: TaskRun) -> JobResult {
    let done = super::methods::charge_due_renewals(ctx, conn)?;
    tracing::info!(paid = done.paid, declined = done.declined, deferred = done.deferred, "due renewals charged to saved cards");
    Ok(Outcome::Done)
}
