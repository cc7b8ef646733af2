//! Known browsers, the "device cookie" of OWASP's Authentication Cheat Sheet. A browser that
//! signs in to an account gets a `trusted_devices` row and a signed `keel_device` cookie naming
//! the account and that row. Failed sign-ins that present a valid cookie for the account are
//! counted on its row and lock only that browser; failures without one (unknown sources) are
//! counted on the account and lock unknown sources only. So a stranger's guesses cannot lock the
//! owner out of a browser they signed in with before, and still get five tries per 30 minutes.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::db::{now_micros, DbConn};
use crate::error::ApiError;
use crate::ids;
use crate::schema::trusted_devices;

pub const DEVICE_COOKIE: &str = "keel_device";
/// How long a browser stays known without signing in again (each sign-in renews the cookie).
pub const DEVICE_TTL: Duration = Duration::days(365);

/// A known browser of the account a sign-in is for.
#[derive(Debug, Clone)]
pub struct Device {
    pub id: String,
    pub locked_until: Option<NaiveDateTime>,
}

fn mac(secret: &[u8], user_id: &str, device_id: &str) -> Hmac<Sha256> {
    let key = Sha256::new().chain_update(b"keel/device-cookie/v1").chain_update(secret).finalize();
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else { unreachable!("HMAC takes a key of any length") };
    mac.update(user_id.as_bytes());
    mac.update(b".");
    mac.update(device_id.as_bytes());
    mac
}

/// The cookie's value: `<user id>.<device id>.<HMAC-SHA256 of both under the server secret>`.
pub fn cookie_value(secret: &[u8], user_id: &str, device_id: &str) -> String {
    format!("{user_id}.{device_id}.{}", hex::encode(mac(secret, user_id, device_id).finalize().into_bytes()))
}

/// The user and device a cookie names, when its signature is right.
pub fn verify_cookie(secret: &[u8], value: &str) -> Option<(String, String)> {
    let mut parts = value.split('.');
    let (user, device, tag) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || user.is_empty() || device.is_empty() {
        return None;
    }
    mac(secret, user, device).verify_slice(&hex::decode(tag).ok()?).ok()?;
    Some((user.to_string(), device.to_string()))
}

/// The known browser a sign-in for `user_id` comes from: the verified cookie must name this user
/// and one of their device rows. Anything else is an unknown source.
pub fn of(conn: &mut DbConn, cookie: Option<&(String, String)>, user_id: &str) -> Result<Option<Device>, ApiError> {
    let Some((_, device_id)) = cookie.filter(|(user, _)| user == user_id) else { return Ok(None) };
    let row: Option<(String, Option<NaiveDateTime>)> = trusted_devices::table
        .find(device_id)
        .filter(trusted_devices::user_id.eq(user_id))
        .select((trusted_devices::id, trusted_devices::locked_until))
        .first(conn)
        .optional()?;
    Ok(row.map(|(id, locked_until)| Device { id, locked_until }))
}

/// After a successful sign-in: a known browser's failure count starts again and its use is
/// recorded; an unknown one becomes known. Answers the device id for the cookie.
pub fn remember(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str, device: Option<&str>) -> Result<String, ApiError> {
    let at = now_micros(now);
    if let Some(id) = device {
        let n = diesel::update(trusted_devices::table.find(id).filter(trusted_devices::user_id.eq(user_id)))
            .set((trusted_devices::failed_logins.eq(0), trusted_devices::last_used_at.eq(at)))
            .execute(conn)?;
        if n == 1 {
            return Ok(id.to_string());
        }
    }
    let id = ids::new_id();
    diesel::insert_into(trusted_devices::table)
        .values((
            trusted_devices::id.eq(&id),
            trusted_devices::user_id.eq(user_id),
            trusted_devices::failed_logins.eq(0),
            trusted_devices::created_at.eq(at),
            trusted_devices::last_used_at.eq(at),
        ))
        .execute(conn)?;
    Ok(id)
}

/// Counts a failed sign-in from a known browser in one statement, like the account's count (see
/// `service::record_failure`): `None` when the browser is already locked.
pub fn count_failure(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    device_id: &str,
    lock_after: i32,
    until: NaiveDateTime,
) -> Result<Option<(i32, Option<NaiveDateTime>)>, ApiError> {
    use diesel::dsl::case_when;
    use diesel::sql_types::{Integer, Nullable, Timestamp};
    let at = now_micros(now);
    let reaches_lock = trusted_devices::failed_logins.ge(lock_after - 1);
    Ok(diesel::update(
        trusted_devices::table.find(device_id).filter(trusted_devices::locked_until.is_null().or(trusted_devices::locked_until.le(at))),
    )
    .set((
        trusted_devices::failed_logins.eq(case_when(reaches_lock, 0.into_sql::<Integer>()).otherwise(trusted_devices::failed_logins + 1)),
        trusted_devices::locked_until
            .eq(case_when(reaches_lock, until.into_sql::<Nullable<Timestamp>>()).otherwise(trusted_devices::locked_until)),
    ))
    .returning((trusted_devices::failed_logins, trusted_devices::locked_until))
    .get_result(conn)
    .optional()?)
}

/// The lock of a known browser (after a failure found it locked).
pub fn locked_until(conn: &mut DbConn, device_id: &str) -> Result<Option<NaiveDateTime>, ApiError> {
    Ok(trusted_devices::table.find(device_id).select(trusted_devices::locked_until).first(conn).optional()?.flatten())
}

/// Forgets browsers that have not signed in for [`DEVICE_TTL`] (housekeeping).
pub fn purge(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    Ok(diesel::delete(trusted_devices::table.filter(trusted_devices::last_used_at.lt(now_micros(now - DEVICE_TTL)))).execute(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_signed() {
        let value = cookie_value(b"secret", "u1", "d1");
        assert_eq!(verify_cookie(b"secret", &value), Some(("u1".into(), "d1".into())));
        assert_eq!(verify_cookie(b"another", &value), None);
        assert_eq!(verify_cookie(b"secret", &value.replacen("u1", "u2", 1)), None);
        assert_eq!(verify_cookie(b"secret", "u1.d1"), None);
        assert_eq!(verify_cookie(b"secret", &format!("{value}.x")), None);
    }
}
