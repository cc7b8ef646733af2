//! Fixed-window rate limits kept in the database, so every process shares them.

use chrono::{DateTime, Duration, DurationRound, Utc};
use diesel::prelude::*;

use crate::db::{now_micros, DbConn};
use crate::error::ApiError;
use crate::schema::rate_limits;

/// A limit: at most `max` hits per `window`.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub name: &'static str,
    pub max: i32,
    pub window: Duration,
}

pub const LOGIN_PER_IP: Limit = Limit { name: "login", max: 10, window: Duration::minutes(1) };
pub const REGISTER_PER_IP: Limit = Limit { name: "register", max: 5, window: Duration::hours(1) };
pub const RESET_PER_IP: Limit = Limit { name: "password_reset", max: 5, window: Duration::minutes(15) };
pub const UNLOCK_PER_IP: Limit = Limit { name: "unlock", max: 5, window: Duration::minutes(15) };
pub const TWO_FACTOR_PER_IP: Limit = Limit { name: "two_factor", max: 10, window: Duration::minutes(1) };
pub const INVITES_PER_ACCOUNT: Limit = Limit { name: "team_invite", max: 20, window: Duration::hours(1) };
pub const VERIFY_RESEND_PER_USER: Limit = Limit { name: "verify_resend", max: 3, window: Duration::hours(1) };

/// Counts one hit for `subject` (an IP address or user id); over the limit answers 429 with the
/// seconds until the window ends.
pub fn hit(conn: &mut DbConn, now: DateTime<Utc>, limit: Limit, subject: &str) -> Result<(), ApiError> {
    let start = now.duration_trunc(limit.window).unwrap_or(now);
    let key = format!("{}:{subject}", limit.name);
    let at = now_micros(start);
    let hits: i32 = crate::each_backend!(conn, c => diesel::insert_into(rate_limits::table)
        .values((rate_limits::key.eq(&key), rate_limits::window_start.eq(at), rate_limits::hits.eq(1)))
        .on_conflict((rate_limits::key, rate_limits::window_start))
        .do_update()
        .set(rate_limits::hits.eq(rate_limits::hits + 1))
        .returning(rate_limits::hits)
        .get_result(c))?;
    if hits > limit.max {
        let retry = (start + limit.window - now).num_seconds().max(1);
        return Err(ApiError::TooManyRequests {
            detail: format!("too many attempts; try again in {retry} seconds"),
            retry_after_secs: retry,
        });
    }
    Ok(())
}

/// Deletes windows that ended (housekeeping).
pub fn purge(conn: &mut DbConn, before: DateTime<Utc>) -> Result<usize, ApiError> {
    Ok(diesel::delete(rate_limits::table.filter(rate_limits::window_start.lt(now_micros(before)))).execute(conn)?)
}
