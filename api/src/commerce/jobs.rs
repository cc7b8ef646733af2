//! The commerce domain's scheduled work: exchange rates from the ECB, and forgetting old VAT id
//! answers and abandoned carts.

use chrono::Duration;
use diesel::prelude::*;

use crate::audit::Actor;
use crate::automation::registry::{JobError, JobResult, Outcome, Registry, TaskRun};
use crate::db::{now_micros, DbConn};
use crate::deps::Deps;
use crate::schema::{carts, vat_checks};

/// A server cart nobody touched for this long is deleted.
pub const CART_DAYS: i64 = 180;

pub fn register(r: &mut Registry<Deps>) {
    r.task(
        "commerce.refresh_rates",
        "30 15 * * 1-5",
        "Set exchange rates from the ECB's daily reference rates (when the commerce setting refresh_rates is on)",
        refresh_rates,
    );
    r.task("commerce.housekeeping", "20 3 * * *", "Delete VAT id answers older than a day and carts untouched for 180 days", housekeeping);
}

fn housekeeping(ctx: &Deps, conn: &mut DbConn, _: TaskRun) -> JobResult {
    let now = ctx.clock.now();
    let answers = diesel::delete(vat_checks::table.filter(vat_checks::checked_at.lt(now_micros(now - Duration::days(1))))).execute(conn)?;
    let carts = diesel::delete(carts::table.filter(carts::updated_at.lt(now_micros(now - Duration::days(CART_DAYS))))).execute(conn)?;
    tracing::info!(answers, carts, "commerce housekeeping done");
    Ok(Outcome::Done)
}

/// Working days after the ECB publishes (about 16:00 CET): the day's rates against the default
/// currency. Nothing happens while the setting is off. The ECB not reached: try again later; no
/// rate for the default currency: dead at once (the admin sets rates by hand).
fn refresh_rates(ctx: &Deps, conn: &mut DbConn, _: TaskRun) -> JobResult {
    if !crate::catalog::service::settings(conn)?.refresh_rates {
        return Ok(Outcome::Done);
    }
    let source = ctx.rates.clone();
    let fetched = crate::outbound::block_on(source.fetch()).map_err(JobError::Retryable)?.map_err(JobError::Retryable)?;
    match crate::catalog::service::refresh_rates(conn, ctx.clock.now(), &Actor::default(), "ecb", &fetched)? {
        Some(written) => {
            tracing::info!(currencies = written.len(), "exchange rates refreshed from the ECB");
            Ok(Outcome::Done)
        }
        None => Err(JobError::Permanent("the ECB publishes no rate for the default currency; set rates by hand".into())),
    }
}
