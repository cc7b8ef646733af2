//! Account logic: plain functions over a connection and a time, each owning its transaction.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use keel_shared::auth::{RegisterRequest, Role};
use keel_shared::validation::normalize_email;
use keel_shared::{Page, PageQuery};

use super::models::{RefreshTokenRow, SessionRow, UserRow};
use super::password;
use super::tokens::{hash_token, new_refresh_token, REFRESH_TTL};
use crate::db::{now_micros, DbConn};
use crate::error::ApiError;
use crate::ids;
use crate::admin::audit::{self, Actor, Event};
use crate::notifications::outbox::{self, Category, MailContext, Outgoing};
use super::{identity, policy, useragent};
use crate::schema::{refresh_tokens, sessions, users};

/// Where a request came from, recorded on its session.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// A session just opened or refreshed: its id and the plaintext refresh token (sent once, in the
/// cookie; only its hash is stored).
#[derive(Debug, Clone)]
pub struct IssuedSession {
    pub session_id: String,
    pub refresh_token: String,
    pub expires_at: DateTime<Utc>,
}

fn email_taken() -> ApiError {
    ApiError::Conflict {
        code: "email_taken",
        detail: "an account with this e-mail address already exists".into(),
        field: Some("email"),
    }
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> Result<Option<UserRow>, ApiError> {
    Ok(users::table
        .filter(users::email.eq(normalize_email(email)))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn find_user(conn: &mut DbConn, id: &str) -> Result<UserRow, ApiError> {
    users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("user"))
}

/// Creates a user. The password is hashed here; the caller validated the request.
pub fn create_user(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    email: &str,
    password_plain: &str,
    first_name: &str,
    last_name: &str,
    role: Role,
) -> Result<UserRow, ApiError> {
    let now = now_micros(now);
    let row = UserRow {
        id: ids::new_id(),
        email: normalize_email(email),
        password_hash: password::hash(password_plain)?,
        role: role.as_str().to_string(),
        first_name: first_name.trim().to_string(),
        last_name: last_name.trim().to_string(),
        created_at: now,
        updated_at: now,
        // Back-office accounts are created by an operator, not by signing up.
        email_verified_at: (role != Role::Client).then_some(now),
        failed_logins: 0,
        locked_until: None,
        totp_secret: None,
        totp_pending: None,
        totp_enabled_at: None,
        totp_last_step: None,
    };
    if find_by_email(conn, &row.email)?.is_some() {
        return Err(email_taken());
    }
    match diesel::insert_into(users::table).values(&row).execute(conn) {
        Ok(_) => Ok(row),
        // Two registrations racing for one address: the unique index decides.
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => Err(email_taken()),
        Err(e) => Err(e.into()),
    }
}

/// Opens a new client account and signs it in, in one transaction.
pub fn register(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    req: &RegisterRequest,
    meta: &ClientMeta,
    mail: &MailContext,
) -> Result<(UserRow, IssuedSession), ApiError> {
    crate::db::transaction(conn, |conn| {
        let user = create_user(conn, now, &req.email, &req.password, &req.first_name, &req.last_name, Role::Client)?;
        policy::check("password", &req.password, &user.email)?;
        let session = open_session(conn, now, &user.id, meta)?;
        identity::send_welcome(conn, now, mail, &user)?;
        audit::record(conn, now, &meta.actor(Some(&user.id)), Event::new("account.registered").account(&user.id))?;
        Ok((user, session))
    })
}

/// Failed sign-ins in a row that lock an account, and for how long.
pub const LOCK_AFTER: i32 = 5;
pub const LOCK_FOR: chrono::Duration = chrono::Duration::minutes(30);

/// Checks e-mail and password and opens a session. Wrong e-mail and wrong password get the same
/// answer; five wrong passwords in a row lock the account for 30 minutes (and say so by e-mail).
/// A sign-in from a device the account has not used before sends a "new sign-in" e-mail.
pub fn login(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    email: &str,
    password_plain: &str,
    meta: &ClientMeta,
    mail: &MailContext,
) -> Result<LoginOutcome, ApiError> {
    let invalid = || ApiError::Unauthenticated("the e-mail address or password is wrong".into());
    let Some(user) = find_by_email(conn, email)? else {
        password::verify_dummy(password_plain);
        audit::record(conn, now, &meta.actor(None), Event::new("auth.login_failed").details(serde_json::json!({ "email": normalize_email(email), "reason": "unknown_email" })))?;
        return Err(invalid());
    };
    if let Some(until) = user.locked_until.filter(|u| *u > now_micros(now)) {
        let retry = (until.and_utc() - now).num_seconds().max(1);
        return Err(ApiError::Locked { detail: format!("too many failed sign-ins; the account is locked for {} more minutes", (retry + 59) / 60), retry_after_secs: retry });
    }
    if !password::verify(password_plain, &user.password_hash) {
        let failures = user.failed_logins + 1;
        let locks = failures >= LOCK_AFTER;
        crate::db::transaction(conn, |conn| {
            diesel::update(users::table.find(&user.id))
                .set((
                    users::failed_logins.eq(if locks { 0 } else { failures }),
                    users::locked_until.eq(if locks { Some(now_micros(now + LOCK_FOR)) } else { None }),
                ))
                .execute(conn)?;
            let actor = meta.actor(None);
            audit::record(conn, now, &actor, Event::new("auth.login_failed").account(&user.id).details(serde_json::json!({ "reason": "wrong_password", "failures": failures })))?;
            if locks {
                audit::record(conn, now, &actor, Event::new("account.locked").account(&user.id))?;
                let vars = serde_json::json!({ "first_name": user.first_name, "minutes": LOCK_FOR.num_minutes(), "ip": meta.ip.clone().unwrap_or_default() });
                outbox::queue_email(conn, now, mail, Outgoing { to: &user.email, user_id: Some(&user.id), template: "account_locked", category: Category::Transactional, vars: &vars })?;
            }
            Ok::<_, ApiError>(())
        })?;
        if locks {
            return Err(ApiError::Locked { detail: "too many failed sign-ins; the account is locked for 30 minutes".into(), retry_after_secs: LOCK_FOR.num_seconds() });
        }
        return Err(invalid());
    }
    if user.failed_logins != 0 {
        diesel::update(users::table.find(&user.id)).set(users::failed_logins.eq(0)).execute(conn)?;
    }
    if super::staff::is_disabled(conn, &user)? {
        return Err(ApiError::Forbidden("this staff account is disabled; ask an administrator".into()));
    }
    if user.totp_enabled_at.is_some() {
        return Ok(LoginOutcome::NeedsCode(user));
    }
    let session = complete_login(conn, now, &user, meta, mail, "password")?;
    Ok(LoginOutcome::SignedIn(user, session))
}

/// What the password step of a sign-in led to.
#[derive(Debug)]
pub enum LoginOutcome {
    SignedIn(UserRow, IssuedSession),
    /// Two-factor is on: a code is needed before a session opens.
    NeedsCode(UserRow),
}

/// Opens the session of a successful sign-in, alerts about a new device and audits it.
pub fn complete_login(conn: &mut DbConn, now: DateTime<Utc>, user: &UserRow, meta: &ClientMeta, mail: &MailContext, method: &str) -> Result<IssuedSession, ApiError> {
    crate::db::transaction(conn, |conn| {
        let known_device = known_device(conn, &user.id, meta.user_agent.as_deref())?;
        let session = open_session(conn, now, &user.id, meta)?;
        if !known_device {
            let d = useragent::parse(meta.user_agent.as_deref().unwrap_or(""));
            let vars = serde_json::json!({
                "first_name": user.first_name,
                "device": format!("{} on {} ({})", d.browser, d.os, d.device_type),
                "ip": meta.ip.clone().unwrap_or_else(|| "unknown".into()),
                "time": now.format("%Y-%m-%d %H:%M UTC").to_string(),
            });
            outbox::queue_email(conn, now, mail, Outgoing { to: &user.email, user_id: Some(&user.id), template: "new_login", category: Category::Transactional, vars: &vars })?;
        }
        audit::record(
            conn,
            now,
            &meta.actor(Some(&user.id)),
            Event::new("auth.login").account(&user.id).target("session", &session.session_id).details(serde_json::json!({ "new_device": !known_device, "method": method })),
        )?;
        Ok(session)
    })
}

/// Whether the account has signed in before from this kind of device (browser, OS, type), or
/// never signed in at all.
fn known_device(conn: &mut DbConn, user_id: &str, user_agent: Option<&str>) -> Result<bool, ApiError> {
    let this = useragent::parse(user_agent.unwrap_or(""));
    let seen: Vec<Option<String>> = sessions::table.filter(sessions::user_id.eq(user_id)).select(sessions::user_agent).load(conn)?;
    // The very first sign-in has nothing to compare with: no alert.
    Ok(seen.is_empty() || seen.iter().any(|ua| useragent::parse(ua.as_deref().unwrap_or("")) == this))
}

impl ClientMeta {
    /// The caller's IP address and user agent.
    pub fn of(req: &actix_web::HttpRequest) -> ClientMeta {
        ClientMeta {
            ip: req.peer_addr().map(|a| a.ip().to_string()),
            user_agent: req.headers().get("user-agent").and_then(|v| v.to_str().ok()).map(str::to_string),
        }
    }

    /// The audit actor for this request.
    pub fn actor(&self, user_id: Option<&str>) -> Actor {
        Actor { user_id: user_id.map(str::to_string), on_behalf_of: None, ip: self.ip.clone(), user_agent: self.user_agent.clone() }
    }
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
    Ok(IssuedSession { session_id: session.id, refresh_token: token, expires_at: expires })
}

fn insert_refresh_token(conn: &mut DbConn, now: DateTime<Utc>, session_id: &str) -> Result<String, ApiError> {
    let token = new_refresh_token();
    diesel::insert_into(refresh_tokens::table)
        .values(&RefreshTokenRow {
            token_hash: hash_token(&token),
            session_id: session_id.to_string(),
            created_at: now_micros(now),
            used_at: None,
        })
        .execute(conn)?;
    Ok(token)
}

/// Swaps a refresh token for a new one in the same session. A token that was already used means
/// it was copied: the whole session is revoked.
pub fn refresh(conn: &mut DbConn, now: DateTime<Utc>, token: &str) -> Result<(UserRow, IssuedSession), ApiError> {
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
        if row.used_at.is_some() {
            // Reuse: revoke the session, and commit that, then refuse.
            diesel::update(sessions::table.find(&session.id))
                .set(sessions::revoked_at.eq(Some(now_micros(now))))
                .execute(conn)?;
            tracing::warn!(session = %session.id, "refresh token reuse detected; session revoked");
            return Ok(Err(invalid("revoked")));
        }
        // Mark used only if still unused: two concurrent refreshes cannot both succeed.
        let claimed = diesel::update(refresh_tokens::table.find(&hash).filter(refresh_tokens::used_at.is_null()))
            .set(refresh_tokens::used_at.eq(Some(now_micros(now))))
            .execute(conn)?;
        if claimed != 1 {
            return Ok(Err(invalid("revoked")));
        }
        diesel::update(sessions::table.find(&session.id)).set(sessions::last_seen_at.eq(now_micros(now))).execute(conn)?;
        let new_token = insert_refresh_token(conn, now, &session.id)?;
        let user = find_user(conn, &session.user_id)?;
        Ok::<_, ApiError>(Ok((
            user,
            IssuedSession { session_id: session.id, refresh_token: new_token, expires_at: session.expires_at.and_utc() },
        )))
    })?;
    outcome
}

/// Revokes the session a refresh token belongs to. Unknown tokens are ignored: logging out twice
/// is not an error.
pub fn logout(conn: &mut DbConn, now: DateTime<Utc>, token: &str) -> Result<(), ApiError> {
    let session_id: Option<String> = refresh_tokens::table
        .find(hash_token(token))
        .select(refresh_tokens::session_id)
        .first(conn)
        .optional()?;
    if let Some(id) = session_id {
        revoke_session(conn, now, &id)?;
    }
    Ok(())
}

/// Whether a session can still be used (neither revoked nor expired). Checked on every request
/// with an access token, so signing out, revoking a session or resetting a password ends that
/// session's access tokens at once, not when they expire.
pub fn session_is_live(conn: &mut DbConn, now: DateTime<Utc>, session_id: &str) -> Result<bool, ApiError> {
    let live: i64 = sessions::table
        .find(session_id)
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now_micros(now)))
        .count()
        .get_result(conn)?;
    Ok(live == 1)
}

pub fn revoke_session(conn: &mut DbConn, now: DateTime<Utc>, session_id: &str) -> Result<(), ApiError> {
    diesel::update(sessions::table.find(session_id).filter(sessions::revoked_at.is_null()))
        .set(sessions::revoked_at.eq(Some(now_micros(now))))
        .execute(conn)?;
    Ok(())
}

/// Clients, newest first.
pub fn list_clients(conn: &mut DbConn, page: PageQuery) -> Result<Page<UserRow>, ApiError> {
    let total: i64 = users::table.filter(users::role.eq(Role::Client.as_str())).count().get_result(conn)?;
    let items = users::table
        .filter(users::role.eq(Role::Client.as_str()))
        .order((users::created_at.desc(), users::id.desc()))
        .offset(page.offset())
        .limit(page.limit())
        .select(UserRow::as_select())
        .load(conn)?;
    Ok(Page::new(items, page, total))
}

/// Whether any admin exists (first start creates one when not).
pub fn admin_exists(conn: &mut DbConn) -> Result<bool, ApiError> {
    let n: i64 = users::table.filter(users::role.eq(Role::Admin.as_str())).count().get_result(conn)?;
    Ok(n > 0)
}
