//! The identity domain's scheduled work: deleting what sign-in leaves behind.

use chrono::Duration;
use diesel::prelude::*;

use crate::automation::registry::{JobResult, Outcome, Registry, TaskRun};
use crate::db::{now_micros, DbConn};
use crate::deps::Deps;
use crate::identity::{devices, limits, two_factor};
use crate::schema::sessions;

pub fn register(r: &mut Registry<Deps>) {
    r.task("identity.housekeeping", "10 3 * * *", "Delete ended sessions after 30 days and elapsed rate-limit windows", housekeeping);
}

/// Daily: sessions that ended (expired or revoked) more than 30 days ago, rate-limit windows and
/// two-factor challenges that ended more than a day ago, browsers unused for a year.
fn housekeeping(ctx: &Deps, conn: &mut DbConn, _: TaskRun) -> JobResult {
    let now = ctx.clock.now();
    let cutoff = now_micros(now - Duration::days(30));
    let sessions =
        diesel::delete(sessions::table.filter(sessions::expires_at.lt(cutoff).or(sessions::revoked_at.lt(cutoff)))).execute(conn)?;
    let windows = limits::purge(conn, now - Duration::days(1))?;
    let challenges = two_factor::purge_challenges(conn, now - Duration::days(1))?;
    let devices = devices::purge(conn, now)?;
    tracing::info!(sessions, windows, challenges, devices, "identity housekeeping done");
    Ok(Outcome::Done)
}
