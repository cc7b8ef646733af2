//! Sessions, in one place: a session is one sign-in, with rotating refresh tokens stored hashed;
//! opening, refreshing (with a short grace for a token just rotated), ending, listing and
//! revoking them. Whatever ends a session publishes it
//! ([`cache::publish`]), so the cached liveness of its access tokens is dropped in every process.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use keel_shared::auth::SessionInfo;

use crate::accounts::models::{RefreshTokenRow, SessionRow, UserRow};
use crate::accounts::users::find_user;
use crate::audit::{self, Actor, Event};
use crate::db::cache::{self, Change};
use crate::db::{now_micros, DbConn};
use crate::error::ApiError;
use crate::identity::service::ClientMeta;
use crate::identity::tokens::{hash_token, new_refresh_token, successor_token, REFRESH_GRACE, REFRESH_TTL};
use crate::identity::useragent;
use crate::ids;
use crate::schema::{refresh_tokens, sessions};

/// A session just opened or refreshed: its id and the plaintext refresh token (sent once, in the
/// cookie; only its hash is stored).
#[derive(Debug, Clone)]
pub struct IssuedSession {
    pub session_id: String,
    pub refresh_token: String,
    pub expires_at: DateTime<Utc>,
    /// The known browser of a sign-in (its `keel_device` cookie is set or renewed).
    pub device_id: Option<String>,
}

pub fn open_session(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str, meta: &ClientMeta) -> Result<IssuedSession, ApiError> {
    let at = now_micros(now);
    let expires = now + REFRESH_TTL;
    let session = SessionRow {
        id: ids::new_id(),
        user_id: user_id.to_string(),
        ip: meta.ip.clone(),
        user_agent: meta.user_agent.as_ref().map(|ua| ua.chars().take(512).collect()),
        created_at: at,
        last_seen_at: at,
        expires_at: now_micros(expires),
        revoked_at: None,
    };
    diesel::insert_into(sessions::table).values(&session).execute(conn)?;
    let token = insert_refresh_token(conn, now, &session.id)?;
    Ok(IssuedSession { session_id: session.id, refresh_token: token, expires_at: expires, device_id: None })
}

fn insert_refresh_token(conn: &mut DbConn, now: DateTime<Utc>, session_id: &str) -> Result<String, ApiError> {
    let token = new_refresh_token();
    store_refresh_token(conn, now, session_id, &token)?;
    Ok(token)
}

fn store_refresh_token(conn: &mut DbConn, now: DateTime<Utc>, session_id: &str, token: &str) -> Result<(), ApiError> {
    diesel::insert_into(refresh_tokens::table)
        .values(&RefreshTokenRow {
            token_hash: hash_token(token),
            session_id: session_id.to_string(),
            created_at: now_micros(now),
            used_at: None,
        })
        .execute(conn)?;
    Ok(())
}

/// Swaps a refresh token for the next one in the same session ([`successor_token`]).
///
/// A token that was already rotated is either a race or a copy. Within [`REFRESH_GRACE`] of its
/// rotation it is a race (two tabs restoring the session at once, a retried request): it yields
/// the session's current token, the one the winner got (or its successors), and nothing is
/// revoked. Later it means the token was copied: the whole session is revoked.
pub fn refresh(conn: &mut DbConn, now: DateTime<Utc>, secret: &[u8], token: &str) -> Result<(UserRow, IssuedSession), ApiError> {
    let invalid = |why: &str| ApiError::Unauthenticated(format!("the session is {why}; please sign in again"));
    let hash = hash_token(token);
    let outcome = crate::db::transaction(conn, |conn| {
        let found: Option<(RefreshTokenRow, SessionRow)> = refresh_tokens::table
            .inner_join(sessions::table)
            .filter(refresh_tokens::token_hash.eq(&hash))
            .select((RefreshTokenRow::as_select(), SessionRow::as_select()))
            .first(conn)
            .optional()?;
        let Some((row, session)) = found else { return Ok(Err(invalid("unknown"))) };
        if session.revoked_at.is_some() {
            return Ok(Err(invalid("revoked")));
        }
        if session.expires_at <= now_micros(now) {
            return Ok(Err(invalid("expired")));
        }
        let issued = |conn: &mut DbConn, refresh_token: String| -> Result<(UserRow, IssuedSession), ApiError> {
            diesel::update(sessions::table.find(&session.id)).set(sessions::last_seen_at.eq(now_micros(now))).execute(conn)?;
            let user = find_user(conn, &session.user_id)?;
            Ok((
                user,
                IssuedSession { session_id: session.id.clone(), refresh_token, expires_at: session.expires_at.and_utc(), device_id: None },
            ))
        };
        let mut used_at = row.used_at;
        if used_at.is_none() {
            // Mark used only if still unused: of two concurrent refreshes one rotates, the other
            // finds it rotated (below).
            let claimed = diesel::update(refresh_tokens::table.find(&hash).filter(refresh_tokens::used_at.is_null()))
                .set(refresh_tokens::used_at.eq(Some(now_micros(now))))
                .execute(conn)?;
            if claimed == 1 {
                let next = successor_token(secret, token);
                store_refresh_token(conn, now, &session.id, &next)?;
                return Ok(Ok(issued(conn, next)?));
            }
            used_at = refresh_tokens::table.find(&hash).select(refresh_tokens::used_at).first(conn)?;
        }
        if used_at.is_some_and(|at| at >= now_micros(now - REFRESH_GRACE)) {
            if let Some(current) = current_successor(conn, secret, token, &session.id)? {
                return Ok(Ok(issued(conn, current)?));
            }
        }
        // Reuse: revoke the session, and commit that, then refuse.
        diesel::update(sessions::table.find(&session.id)).set(sessions::revoked_at.eq(Some(now_micros(now)))).execute(conn)?;
        cache::publish(conn, Change::SessionEnded(session.id.clone()))?;
        tracing::warn!(session = %session.id, "refresh token reuse detected; session revoked");
        Ok::<_, ApiError>(Err(invalid("revoked")))
    })?;
    outcome
}

/// Follows the successors of a rotated `token` to the first one not used yet: the session's
/// current refresh token (`None` when the chain ends or runs longer than a grace window allows).
fn current_successor(conn: &mut DbConn, secret: &[u8], token: &str, session_id: &str) -> Result<Option<String>, ApiError> {
    let mut next = successor_token(secret, token);
    for _ in 0..16 {
        let used: Option<Option<chrono::NaiveDateTime>> = refresh_tokens::table
            .find(hash_token(&next))
            .filter(refresh_tokens::session_id.eq(session_id))
            .select(refresh_tokens::used_at)
            .first(conn)
            .optional()?;
        match used {
            None => return Ok(None),
            Some(None) => return Ok(Some(next)),
            Some(Some(_)) => next = successor_token(secret, &next),
        }
    }
    Ok(None)
}

/// Signing out: ends the session a refresh token belongs to and the session an access token
/// named, in one transaction. An unknown refresh token is ignored (signing out twice is not an
/// error).
pub fn logout(conn: &mut DbConn, now: DateTime<Utc>, refresh_token: Option<&str>, session_id: Option<&str>) -> Result<(), ApiError> {
    crate::db::transaction(conn, |conn| {
        if let Some(token) = refresh_token {
            let of_cookie: Option<String> =
                refresh_tokens::table.find(hash_token(token)).select(refresh_tokens::session_id).first(conn).optional()?;
            if let Some(id) = of_cookie {
                revoke_session(conn, now, &id)?;
            }
        }
        if let Some(id) = session_id {
            revoke_session(conn, now, id)?;
        }
        Ok(())
    })
}

/// A session that can still be used (neither revoked nor expired): its user and expiry. Checked
/// on every request with an access token (through the cache, which every revocation
/// invalidates), so signing out, revoking a session or resetting a password ends that session's
/// access tokens at once, not when they expire.
pub fn live_session(conn: &mut DbConn, now: DateTime<Utc>, session_id: &str) -> Result<Option<(String, DateTime<Utc>)>, ApiError> {
    let row: Option<(String, chrono::NaiveDateTime)> = sessions::table
        .find(session_id)
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now_micros(now)))
        .select((sessions::user_id, sessions::expires_at))
        .first(conn)
        .optional()?;
    Ok(row.map(|(user, expires)| (user, expires.and_utc())))
}

pub fn revoke_session(conn: &mut DbConn, now: DateTime<Utc>, session_id: &str) -> Result<(), ApiError> {
    diesel::update(sessions::table.find(session_id).filter(sessions::revoked_at.is_null()))
        .set(sessions::revoked_at.eq(Some(now_micros(now))))
        .execute(conn)?;
    cache::publish(conn, Change::SessionEnded(session_id.to_string()))?;
    Ok(())
}

pub(crate) fn revoke_others(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str, keep: &str) -> Result<usize, ApiError> {
    let n = diesel::update(
        sessions::table.filter(sessions::user_id.eq(user_id)).filter(sessions::id.ne(keep)).filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(Some(now_micros(now))))
    .execute(conn)?;
    // The kept session is dropped from the caches too; its next request reads it again.
    cache::publish(conn, Change::UserSessionsEnded(user_id.to_string()))?;
    Ok(n)
}

/// Ends every session of a user (password reset, disabled staff, anonymised account).
pub(crate) fn revoke_all(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str) -> Result<usize, ApiError> {
    let n = diesel::update(sessions::table.filter(sessions::user_id.eq(user_id)).filter(sessions::revoked_at.is_null()))
        .set(sessions::revoked_at.eq(Some(now_micros(now))))
        .execute(conn)?;
    cache::publish(conn, Change::UserSessionsEnded(user_id.to_string()))?;
    Ok(n)
}

/// The user's sessions that are still valid, newest activity first.
pub fn list_sessions(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str, current: &str) -> Result<Vec<SessionInfo>, ApiError> {
    let rows: Vec<SessionRow> = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now_micros(now)))
        .order(sessions::last_seen_at.desc())
        .select(SessionRow::as_select())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|s| {
            let d = useragent::parse(s.user_agent.as_deref().unwrap_or(""));
            SessionInfo {
                current: s.id == current,
                id: s.id.into(),
                ip: s.ip,
                device_type: d.device_type.into(),
                browser: d.browser.into(),
                os: d.os.into(),
                created_at: s.created_at.and_utc(),
                last_seen_at: s.last_seen_at.and_utc(),
            }
        })
        .collect())
}

/// Ends one of the user's own sessions; someone else's is "not found".
pub fn revoke_own(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str, session_id: &str, actor: &Actor) -> Result<(), ApiError> {
    let owner: Option<String> = sessions::table.find(session_id).select(sessions::user_id).first(conn).optional()?;
    if owner.as_deref() != Some(user_id) {
        return Err(ApiError::not_found("session"));
    }
    crate::db::transaction(conn, |conn| {
        revoke_session(conn, now, session_id)?;
        audit::record(conn, now, actor, Event::new("session.revoked").account(user_id).target("session", session_id))
    })
}

pub fn revoke_all_others(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str, current: &str, actor: &Actor) -> Result<usize, ApiError> {
    crate::db::transaction(conn, |conn| {
        let n = revoke_others(conn, now, user_id, current)?;
        audit::record(conn, now, actor, Event::new("session.revoked_others").account(user_id).details(serde_json::json!({ "count": n })))?;
        Ok(n)
    })
}
