//! E-mail verification, password reset and password change.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::accounts::models::UserRow;
use crate::accounts::users::find_user;
use crate::audit::{self, Actor, Event};
use crate::db::{now_micros, DbConn};
use crate::error::ApiError;
use crate::identity::api_keys;
use crate::identity::limits;
use crate::identity::password;
use crate::identity::policy;
use crate::identity::sessions::revoke_others;
use crate::identity::tokens::{hash_token, new_refresh_token};
use crate::notifications::outbox::{self, Category, MailContext, Outgoing};
use crate::schema::{user_tokens, users};

pub const VERIFY_TTL: Duration = Duration::hours(24);

pub const RESET_TTL: Duration = Duration::hours(1);

/// How long the link in the "account locked" e-mail works.
pub const UNLOCK_TTL: Duration = Duration::hours(24);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
    UnlockAccount,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "verify_email",
            Purpose::ResetPassword => "reset_password",
            Purpose::UnlockAccount => "unlock_account",
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
    outbox::queue_email(
        conn,
        now,
        mail,
        Outgoing { to: &user.email, user_id: Some(&user.id), template: "welcome", category: Category::Transactional, vars: &vars },
    )?;
    Ok(())
}

pub fn verify_email(conn: &mut DbConn, now: DateTime<Utc>, token: &str, actor: &Actor) -> Result<UserRow, ApiError> {
    crate::db::transaction(conn, |conn| {
        let user_id = consume_token(conn, now, token, Purpose::VerifyEmail)?;
        diesel::update(users::table.find(&user_id).filter(users::email_verified_at.is_null()))
            .set(users::email_verified_at.eq(Some(now_micros(now))))
            .execute(conn)?;
        crate::db::cache::publish(conn, crate::db::cache::Change::UserChanged(user_id.clone()))?;
        audit::record(conn, now, actor, Event::new("account.email_verified").account(&user_id))?;
        find_user(conn, &user_id)
    })
}

pub fn resend_verification(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str, mail: &MailContext) -> Result<(), ApiError> {
    let user = find_user(conn, user_id)?;
    if user.email_verified_at.is_some() {
        return Err(ApiError::Conflict {
            code: "already_verified",
            detail: "this e-mail address is already confirmed".into(),
            field: None,
        });
    }
    limits::hit(conn, now, limits::VERIFY_RESEND_PER_USER, user_id)?;
    crate::db::transaction(conn, |conn| {
        let token = issue_token(conn, now, user_id, Purpose::VerifyEmail, VERIFY_TTL)?;
        let vars = serde_json::json!({ "first_name": user.first_name, "verify_url": verify_url(mail, &token) });
        outbox::queue_email(
            conn,
            now,
            mail,
            Outgoing {
                to: &user.email,
                user_id: Some(user_id),
                template: "email_verification",
                category: Category::Transactional,
                vars: &vars,
            },
        )?;
        Ok(())
    })
}

/// Lifts the lock that failures from unknown sources put on an account, with the one-time link
/// from the "account locked" e-mail.
pub fn unlock_account(conn: &mut DbConn, now: DateTime<Utc>, token: &str, actor: &Actor) -> Result<(), ApiError> {
    crate::db::transaction(conn, |conn| {
        let user_id = consume_token(conn, now, token, Purpose::UnlockAccount)?;
        diesel::update(users::table.find(&user_id))
            .set((users::failed_logins.eq(0), users::locked_until.eq(None::<chrono::NaiveDateTime>)))
            .execute(conn)?;
        audit::record(conn, now, actor, Event::new("account.unlocked").account(&user_id))
    })
}

/// Sends a reset link when the address has an account; answers the same either way.
pub fn forgot_password(conn: &mut DbConn, now: DateTime<Utc>, email: &str, mail: &MailContext, actor: &Actor) -> Result<(), ApiError> {
    let Some(user) = crate::accounts::users::find_by_email(conn, email)? else { return Ok(()) };
    crate::db::transaction(conn, |conn| {
        let token = issue_token(conn, now, &user.id, Purpose::ResetPassword, RESET_TTL)?;
        let vars =
            serde_json::json!({ "first_name": user.first_name, "reset_url": format!("{}/reset-password?token={token}", mail.public_url) });
        outbox::queue_email(
            conn,
            now,
            mail,
            Outgoing {
                to: &user.email,
                user_id: Some(&user.id),
                template: "password_reset",
                category: Category::Transactional,
                vars: &vars,
            },
        )?;
        audit::record(conn, now, actor, Event::new("password.reset_requested").account(&user.id))
    })
}

fn set_password(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    user: &UserRow,
    new_password: &str,
    hashed: &password::Hashed,
    field: &str,
) -> Result<(), ApiError> {
    policy::check(field, new_password, &user.email)?;
    diesel::update(users::table.find(&user.id))
        .set((
            users::password_hash.eq(hashed.as_str()),
            users::failed_logins.eq(0),
            users::locked_until.eq(None::<chrono::NaiveDateTime>),
            users::updated_at.eq(now_micros(now)),
        ))
        .execute(conn)?;
    Ok(())
}

/// Revokes the user's API keys when asked, then e-mails that the password changed, listing the
/// keys that still work (and how many were revoked), so a stranger's key does not go unnoticed.
fn after_password_change(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    mail: &MailContext,
    user: &UserRow,
    revoke_api_keys: bool,
) -> Result<usize, ApiError> {
    let revoked = if revoke_api_keys { api_keys::revoke_all(conn, now, &user.id)? } else { 0 };
    let keys: Vec<serde_json::Value> = api_keys::active(conn, now, &user.id)?
        .into_iter()
        .map(|(name, prefix)| serde_json::json!({ "name": name, "prefix": prefix }))
        .collect();
    let vars = serde_json::json!({ "first_name": user.first_name, "api_keys": keys, "revoked_api_keys": revoked });
    outbox::queue_email(
        conn,
        now,
        mail,
        Outgoing { to: &user.email, user_id: Some(&user.id), template: "password_changed", category: Category::Transactional, vars: &vars },
    )?;
    Ok(revoked)
}

/// Sets a new password with a reset token; every session of the account ends, and its API keys
/// are revoked unless `revoke_api_keys` is false.
pub fn reset_password(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    token: &str,
    new_password: &str,
    revoke_api_keys: bool,
    mail: &MailContext,
    actor: &Actor,
) -> Result<(), ApiError> {
    let hashed = password::hash(new_password)?;
    crate::db::transaction(conn, |conn| {
        let user_id = consume_token(conn, now, token, Purpose::ResetPassword)?;
        let user = find_user(conn, &user_id)?;
        set_password(conn, now, &user, new_password, &hashed, "password")?;
        crate::identity::sessions::revoke_all(conn, now, &user_id)?;
        // A reset also proves the address.
        diesel::update(users::table.find(&user_id).filter(users::email_verified_at.is_null()))
            .set(users::email_verified_at.eq(Some(now_micros(now))))
            .execute(conn)?;
        crate::db::cache::publish(conn, crate::db::cache::Change::UserChanged(user_id.clone()))?;
        let revoked = after_password_change(conn, now, mail, &user, revoke_api_keys)?;
        audit::record(
            conn,
            now,
            actor,
            Event::new("password.reset").account(&user_id).details(serde_json::json!({ "api_keys_revoked": revoked })),
        )
    })
}

/// Changes the password (the current one is required); the user's other sessions end, and its
/// API keys too when the request asks.
pub fn change_password(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    user_id: &str,
    current_session: &str,
    req: &keel_shared::auth::ChangePasswordRequest,
    mail: &MailContext,
    actor: &Actor,
) -> Result<(), ApiError> {
    let (current, new_password) = (req.current_password.as_str(), req.new_password.as_str());
    let user = find_user(conn, user_id)?;
    if !password::verify(current, &user.password_hash)? {
        return Err(ApiError::field("current_password", "is not your current password"));
    }
    if current == new_password {
        return Err(ApiError::field("new_password", "must differ from the current password"));
    }
    let hashed = password::hash(new_password)?;
    crate::db::transaction(conn, |conn| {
        set_password(conn, now, &user, new_password, &hashed, "new_password")?;
        revoke_others(conn, now, user_id, current_session)?;
        let revoked = after_password_change(conn, now, mail, &user, req.revoke_api_keys)?;
        audit::record(
            conn,
            now,
            actor,
            Event::new("password.changed").account(user_id).details(serde_json::json!({ "api_keys_revoked": revoked })),
        )
    })
}
