//! The commerce domain's scheduled work: forgetting old VAT id answers and abandoned carts.

use chrono::Duration;
use diesel::prelude::*;

use crate::automation::registry::{JobResult, Outcome, Registry, TaskRun};
use crate::db::{now_micros, DbConn};
use crate::deps::Deps;
use crate::schema::{carts, vat_checks};

/// A server cart nobody touched for this long is deleted.
pub const CART_DAYS: i64 = 180;

pub fn register(r: &mut Registry<Deps>) {
    r.task("commerce.housekeeping", "20 3 * * *", "Delete VAT id answers older than a day and carts untouched for 180 days", housekeeping);
}

fn housekeeping(ctx: &Deps, conn: &mut DbConn, _: TaskRun) -> JobResult {
    let now = ctx.clock.now();
    let answers = diesel::delete(vat_checks::table.filter(vat_checks::checked_at.lt(now_micros(now - Duration::days(1))))).execute(conn)?;
    let carts = diesel::delete(carts::table.filter(carts::updated_at.lt(now_micros(now - Duration::days(CART_DAYS))))).execute(conn)?;
    tracing::info!(answers, carts, "commerce housekeeping done");
    Ok(Outcome::Done)
}
