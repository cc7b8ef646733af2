//! E-mail verification, password reset and change, and the user's own sessions.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use keel_shared::auth::SessionInfo;

use super::models::{SessionRow, UserRow};
use super::service::{find_user, revoke_session};
use super::tokens::{hash_token, new_refresh_token};
use super::{limits, password, policy, useragent};
use crate::admin::audit::{self, Actor, Event};
use crate::db::{now_micros, DbConn};
use crate::error::ApiError;
use crate::notifications::outbox::{self, Category, MailContext, Outgoing};
use crate::schema::{sessions, user_tokens, users};

pub const VERIFY_TTL: Duration = Duration::hours(24);
pub const RESET_TTL: Duration = Duration::hours(1);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
        }
    }
}

/// A new single-use token for `user_id`; only its hash is stored.
pub fn issue_token(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str, purpose: Purpose, ttl: Duration) -> Result<String, ApiError> {
    let token = new_refresh_token();
    diesel::insert_into(user_tokens::table)
        .values((
            user_tokens::token_hash.eq(hash_token(&token)),
            user_tokens::user_id.eq(user_id),
            user_tokens::purpose.eq(purpose.as_str()),
            user_tokens::created_at.eq(now_micros(now)),
            user_tokens::expires_at.eq(now_micros(now + ttl)),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Uses a token once: returns its user, or a 422 naming `token` when it is unknown, used or
/// expired.
pub fn consume_token(conn: &mut DbConn, now: DateTime<Utc>, token: &str, purpose: Purpose) -> Result<String, ApiError> {
    let invalid = || ApiError::field("token", "this link is invalid or has expired; ask for a new one");
    let hash = hash_token(token);
    let at = now_micros(now);
    let user: Option<String> = user_tokens::table
        .filter(user_tokens::token_hash.eq(&hash))
        .filter(user_tokens::purpose.eq(purpose.as_str()))
        .filter(user_tokens::used_at.is_null())
        .filter(user_tokens::expires_at.gt(at))
        .select(user_tokens::user_id)
        .first(conn)
        .optional()?;
    let user = user.ok_or_else(invalid)?;
    let claimed = diesel::update(user_tokens::table.find(&hash).filter(user_tokens::used_at.is_null()))
        .set(user_tokens::used_at.eq(Some(at)))
        .execute(conn)?;
    if claimed != 1 {
        return Err(invalid());
    }
    Ok(user)
}

fn verify_url(mail: &MailContext, token: &str) -> String {
    format!("{}/verify-email?token={token}", mail.public_url)
}

/// Queues the welcome e-mail with a verification link (registration).
pub fn send_welcome(conn: &mut DbConn, now: DateTime<Utc>, mail: &MailContext, user: &UserRow) -> Result<(), ApiError> {
    let token = issue_token(conn, now, &user.id, Purpose::VerifyEmail, VERIFY_TTL)?;
    let vars = serde_json::json!({ "first_name": user.first_name, "verify_url": verify_url(mail, &token) });
    outbox::queue_email(conn, now, mail, Outgoing { to: &user.email, user_id: Some(&user.id), template: "welcome", category: Category::Transactional, vars: &vars })?;
    Ok(())
}

pub fn verify_email(conn: &mut DbConn, now: DateTime<Utc>, token: &str, actor: &Actor) -> Result<UserRow, ApiError> {
    crate::db::transaction(conn, |conn| {
        let user_id = consume_token(conn, now, token, Purpose::VerifyEmail)?;
        diesel::update(users::table.find(&user_id).filter(users::email_verified_at.is_null()))
            .set(users::email_verified_at.eq(Some(now_micros(now))))
            .execute(conn)?;
        audit::record(conn, now, actor, Event::new("account.email_verified").account(&user_id))?;
        find_user(conn, &user_id)
    })
}

pub fn resend_verification(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str, mail: &MailContext) -> Result<(), ApiError> {
    let user = find_user(conn, user_id)?;
    if user.email_verified_at.is_some() {
        return Err(ApiError::Conflict { code: "already_verified", detail: "this e-mail address is already confirmed".into(), field: None });
    }
    limits::hit(conn, now, limits::VERIFY_RESEND_PER_USER, user_id)?;
    crate::db::transaction(conn, |conn| {
        let token = issue_token(conn, now, user_id, Purpose::VerifyEmail, VERIFY_TTL)?;
        let vars = serde_json::json!({ "first_name": user.first_name, "verify_url": verify_url(mail, &token) });
        outbox::queue_email(conn, now, mail, Outgoing { to: &user.email, user_id: Some(user_id), template: "email_verification", category: Category::Transactional, vars: &vars })?;
        Ok(())
    })
}

/// Sends a reset link when the address has an account; answers the same either way.
pub fn forgot_password(conn: &mut DbConn, now: DateTime<Utc>, email: &str, mail: &MailContext, actor: &Actor) -> Result<(), ApiError> {
    let Some(user) = super::service::find_by_email(conn, email)? else { return Ok(()) };
    crate::db::transaction(conn, |conn| {
        let token = issue_token(conn, now, &user.id, Purpose::ResetPassword, RESET_TTL)?;
        let vars = serde_json::json!({ "first_name": user.first_name, "reset_url": format!("{}/reset-password?token={token}", mail.public_url) });
        outbox::queue_email(conn, now, mail, Outgoing { to: &user.email, user_id: Some(&user.id), template: "password_reset", category: Category::Transactional, vars: &vars })?;
        audit::record(conn, now, actor, Event::new("password.reset_requested").account(&user.id))
    })
}

fn set_password(conn: &mut DbConn, now: DateTime<Utc>, user: &UserRow, new_password: &str, field: &str) -> Result<(), ApiError> {
    policy::check(field, new_password, &user.email)?;
    diesel::update(users::table.find(&user.id))
        .set((
            users::password_hash.eq(password::hash(new_password)?),
            users::failed_logins.eq(0),
            users::locked_until.eq(None::<chrono::NaiveDateTime>),
            users::updated_at.eq(now_micros(now)),
        ))
        .execute(conn)?;
    Ok(())
}

fn password_changed_mail(conn: &mut DbConn, now: DateTime<Utc>, mail: &MailContext, user: &UserRow) -> Result<(), ApiError> {
    let vars = serde_json::json!({ "first_name": user.first_name });
    outbox::queue_email(conn, now, mail, Outgoing { to: &user.email, user_id: Some(&user.id), template: "password_changed", category: Category::Transactional, vars: &vars })?;
    Ok(())
}

/// Sets a new password with a reset token; every session of the account ends.
pub fn reset_password(conn: &mut DbConn, now: DateTime<Utc>, token: &str, new_password: &str, mail: &MailContext, actor: &Actor) -> Result<(), ApiError> {
    crate::db::transaction(conn, |conn| {
        let user_id = consume_token(conn, now, token, Purpose::ResetPassword)?;
        let user = find_user(conn, &user_id)?;
        set_password(conn, now, &user, new_password, "password")?;
        diesel::update(sessions::table.filter(sessions::user_id.eq(&user_id)).filter(sessions::revoked_at.is_null()))
            .set(sessions::revoked_at.eq(Some(now_micros(now))))
            .execute(conn)?;
        // A reset also proves the address.
        diesel::update(users::table.find(&user_id).filter(users::email_verified_at.is_null()))
            .set(users::email_verified_at.eq(Some(now_micros(now))))
            .execute(conn)?;
        password_changed_mail(conn, now, mail, &user)?;
        audit::record(conn, now, actor, Event::new("password.reset").account(&user_id))
    })
}

/// Changes the password (the current one is required); the user's other sessions end.
pub fn change_password(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    user_id: &str,
    current_session: &str,
    current: &str,
    new_password: &str,
    mail: &MailContext,
    actor: &Actor,
) -> Result<(), ApiError> {
    let user = find_user(conn, user_id)?;
    if !password::verify(current, &user.password_hash) {
        return Err(ApiError::field("current_password", "is not your current password"));
    }
    if current == new_password {
        return Err(ApiError::field("new_password", "must differ from the current password"));
    }
    crate::db::transaction(conn, |conn| {
        set_password(conn, now, &user, new_password, "new_password")?;
        revoke_others(conn, now, user_id, current_session)?;
        password_changed_mail(conn, now, mail, &user)?;
        audit::record(conn, now, actor, Event::new("password.changed").account(user_id))
    })
}

fn revoke_others(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str, keep: &str) -> Result<usize, ApiError> {
    Ok(diesel::update(
        sessions::table.filter(sessions::user_id.eq(user_id)).filter(sessions::id.ne(keep)).filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(Some(now_micros(now))))
    .execute(conn)?)
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
                id: s.id,
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
