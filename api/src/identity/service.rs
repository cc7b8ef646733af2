//! Sign-in use cases: registration, the password step (with lockout), the second factor, and the
//! session a successful sign-in opens. Each owns its transaction; password hashing happens before it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use keel_shared::auth::{RegisterRequest, Role};
use keel_shared::validation::normalize_email;

use crate::accounts::models::UserRow;
use crate::accounts::users::{create_user, find_by_email, find_user};
use crate::audit::{self, Actor, Event};
use crate::db::{now_micros, DbConn};
use crate::error::ApiError;
use crate::identity::devices::{self, Device};
use crate::identity::password;
use crate::identity::policy;
use crate::identity::recovery;
use crate::identity::sessions::{open_session, IssuedSession};
use crate::identity::useragent;
use crate::notifications::outbox::{self, Category, MailContext, Outgoing};
use crate::schema::{sessions, users};

/// Where a request came from, recorded on its session.
#[derive(Debug, Clone, Default)]
pub struct ClientMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The user and device a valid (signed) `keel_device` cookie names: a browser that signed in
    /// to that account before.
    pub device: Option<(String, String)>,
}

/// Opens a new client account and signs it in, in one transaction.
pub fn register(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    req: &RegisterRequest,
    meta: &ClientMeta,
    mail: &MailContext,
) -> Result<(UserRow, IssuedSession), ApiError> {
    let hashed = password::hash(&req.password)?;
    crate::db::transaction(conn, |conn| {
        let user = create_user(conn, now, &req.email, &hashed, &req.first_name, &req.last_name, Role::Client)?;
        policy::check("password", &req.password, &user.email)?;
        let session = open_session(conn, now, &user.id, meta)?;
        recovery::send_welcome(conn, now, mail, &user)?;
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
    let Some(user) = find_by_email(conn, email)? else {
        password::verify_dummy(password_plain)?;
        audit::record(
            conn,
            now,
            &meta.actor(None),
            Event::new("auth.login_failed").details(serde_json::json!({ "email": normalize_email(email), "reason": "unknown_email" })),
        )?;
        return Err(invalid_password());
    };
    let device = devices::of(conn, meta.device.as_ref(), &user.id)?;
    // A locked source's password is not even checked: while locked, guessing learns nothing.
    if let Some(locked) = locked_error(&user, device.as_ref(), now) {
        return Err(locked);
    }
    if !password::verify(password_plain, &user.password_hash)? {
        return Err(record_failure(conn, now, &user, device.as_ref(), meta, mail, "wrong_password")?);
    }
    // A success starts its own source's count again (a known browser's, in `complete_login`); a
    // known browser's success leaves the count of unknown sources alone.
    if device.is_none() && user.failed_logins != 0 {
        diesel::update(users::table.find(&user.id)).set(users::failed_logins.eq(0)).execute(conn)?;
    }
    if crate::admin::staff::is_disabled(conn, &user)? {
        return Err(ApiError::Forbidden("this staff account is disabled; ask an administrator".into()));
    }
    if user.totp_enabled_at.is_some() {
        let challenge = crate::identity::two_factor::open_challenge(conn, now, &user.id)?;
        return Ok(LoginOutcome::NeedsCode(user, challenge));
    }
    let session = complete_login(conn, now, &user, device.map(|d| d.id).as_deref(), meta, mail, "password")?;
    Ok(LoginOutcome::SignedIn(user, session))
}

/// The 423 for a source that is locked: a known browser's own lock, or the account's lock for
/// every other source (`None`: not locked).
fn locked_error(user: &UserRow, device: Option<&Device>, now: DateTime<Utc>) -> Option<ApiError> {
    let locked_until = match device {
        Some(d) => d.locked_until,
        None => user.locked_until,
    };
    lock_answer(locked_until, device.is_some(), now)
}

fn lock_answer(locked_until: Option<chrono::NaiveDateTime>, device: bool, now: DateTime<Utc>) -> Option<ApiError> {
    let until = locked_until.filter(|u| *u > now_micros(now))?;
    let retry = (until.and_utc() - now).num_seconds().max(1);
    let minutes = (retry + 59) / 60;
    let detail = if device {
        format!("too many failed sign-ins from this browser; it is locked for {minutes} more minutes")
    } else {
        format!(
            "too many failed sign-ins; browsers that have not signed in to this account before are locked out for {minutes} more minutes"
        )
    };
    Some(ApiError::Locked { detail, retry_after_secs: retry })
}

/// Counts a failed sign-in (a wrong password or two-factor code) against its source and answers
/// the error to send: 401, or 423 when this failure locked the source or another one locked it
/// meanwhile. The source is a known browser (`device`, its own count and lock) or, for every
/// other request, the account's count and lock for unknown sources.
///
/// The count and the lock are one `UPDATE`, so failures sent in parallel are each counted (none
/// reads a count another is about to change), and it only touches a source that is not locked:
/// a failure never lifts or shortens a lock. The failure that reaches [`LOCK_AFTER`] sets the lock
/// (and starts the count again for after it) and audits it; locking unknown sources also e-mails
/// the owner a one-time link that lifts the lock.
pub(crate) fn record_failure(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    user: &UserRow,
    device: Option<&Device>,
    meta: &ClientMeta,
    mail: &MailContext,
    reason: &str,
) -> Result<ApiError, ApiError> {
    use diesel::dsl::case_when;
    use diesel::sql_types::{Integer, Nullable, Timestamp};
    let (at, until) = (now_micros(now), now_micros(now + LOCK_FOR));
    crate::db::transaction(conn, |conn| {
        let counted = match device {
            Some(d) => devices::count_failure(conn, now, &d.id, LOCK_AFTER, until)?,
            None => {
                // SET reads the row as it was before this statement, in both backends.
                let reaches_lock = users::failed_logins.ge(LOCK_AFTER - 1);
                diesel::update(users::table.find(&user.id).filter(users::locked_until.is_null().or(users::locked_until.le(at))))
                    .set((
                        users::failed_logins.eq(case_when(reaches_lock, 0.into_sql::<Integer>()).otherwise(users::failed_logins + 1)),
                        users::locked_until
                            .eq(case_when(reaches_lock, until.into_sql::<Nullable<Timestamp>>()).otherwise(users::locked_until)),
                    ))
                    .returning((users::failed_logins, users::locked_until))
                    .get_result(conn)
                    .optional()?
            }
        };
        let actor = meta.actor(None);
        let Some((failures, locked_until)) = counted else {
            // Locked by a failure that was counted first: this one is not counted.
            let locked_until = match device {
                Some(d) => devices::locked_until(conn, &d.id)?,
                None => users::table.find(&user.id).select(users::locked_until).first(conn)?,
            };
            return Ok(lock_answer(locked_until.or(Some(until)), device.is_some(), now).unwrap_or_else(invalid_password));
        };
        let locks = locked_until == Some(until);
        let action = if reason == "wrong_password" { "auth.login_failed" } else { "auth.two_factor_failed" };
        audit::record(
            conn,
            now,
            &actor,
            Event::new(action).account(&user.id).details(serde_json::json!({
                "reason": reason,
                "failures": if locks { LOCK_AFTER } else { failures },
                "known_device": device.is_some(),
            })),
        )?;
        if !locks {
            return Ok(if reason == "wrong_password" { invalid_password() } else { ApiError::Unauthenticated(WRONG_CODE.into()) });
        }
        if let Some(d) = device {
            audit::record(conn, now, &actor, Event::new("device.locked").account(&user.id).target("device", &d.id))?;
        } else {
            audit::record(conn, now, &actor, Event::new("account.locked").account(&user.id))?;
            let token = recovery::issue_token(conn, now, &user.id, recovery::Purpose::UnlockAccount, recovery::UNLOCK_TTL)?;
            let vars = serde_json::json!({
                "first_name": user.first_name,
                "minutes": LOCK_FOR.num_minutes(),
                "ip": meta.ip.clone().unwrap_or_default(),
                "unlock_url": format!("{}/unlock?token={token}", mail.public_url),
            });
            outbox::queue_email(
                conn,
                now,
                mail,
                Outgoing {
                    to: &user.email,
                    user_id: Some(&user.id),
                    template: "account_locked",
                    category: Category::Transactional,
                    vars: &vars,
                },
            )?;
        }
        Ok(lock_answer(Some(until), device.is_some(), now).unwrap_or_else(invalid_password))
    })
}

fn invalid_password() -> ApiError {
    ApiError::Unauthenticated("the e-mail address or password is wrong".into())
}

const WRONG_CODE: &str = "the code is wrong or was already used";

/// What the password step of a sign-in led to.
#[derive(Debug)]
pub enum LoginOutcome {
    SignedIn(UserRow, IssuedSession),
    /// Two-factor is on: a code is needed before a session opens; the challenge's id goes into
    /// the `mfa_token`.
    NeedsCode(UserRow, String),
}

/// The second sign-in step: a TOTP or recovery code for the user and challenge the `mfa_token`
/// named. A locked account's codes are not checked; each code checked spends one of the
/// challenge's five attempts first; a wrong code counts towards the lockout like a wrong password
/// (401, or 423 at the fifth); a right one uses the challenge up and opens the session.
#[expect(clippy::too_many_arguments, reason = "the sign-in step's inputs, each distinct")]
pub fn login_second_factor(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    secret: &[u8],
    user_id: &str,
    challenge_id: &str,
    code: &str,
    meta: &ClientMeta,
    mail: &MailContext,
) -> Result<(UserRow, IssuedSession), ApiError> {
    use crate::identity::two_factor;
    let user = find_user(conn, user_id)?;
    let device = devices::of(conn, meta.device.as_ref(), &user.id)?;
    if let Some(locked) = locked_error(&user, device.as_ref(), now) {
        return Err(locked);
    }
    two_factor::spend_attempt(conn, now, challenge_id, &user.id)?;
    if !two_factor::check_code(conn, now, secret, &user, code)? {
        return Err(record_failure(conn, now, &user, device.as_ref(), meta, mail, "wrong_code")?);
    }
    let session = crate::db::transaction(conn, |conn| {
        two_factor::finish_challenge(conn, now, challenge_id)?;
        complete_login(conn, now, &user, device.map(|d| d.id).as_deref(), meta, mail, "password+totp")
    })?;
    Ok((user, session))
}

/// Opens the session of a successful sign-in, remembers the browser (`device`: the known one it
/// came from, if any), alerts about a new kind of device and audits it.
pub fn complete_login(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    user: &UserRow,
    device: Option<&str>,
    meta: &ClientMeta,
    mail: &MailContext,
    method: &str,
) -> Result<IssuedSession, ApiError> {
    crate::db::transaction(conn, |conn| {
        let known_device = known_device(conn, &user.id, meta.user_agent.as_deref())?;
        let mut session = open_session(conn, now, &user.id, meta)?;
        session.device_id = Some(devices::remember(conn, now, &user.id, device)?);
        if !known_device {
            let d = useragent::parse(meta.user_agent.as_deref().unwrap_or(""));
            let vars = serde_json::json!({
                "first_name": user.first_name,
                "device": format!("{} on {} ({})", d.browser, d.os, d.device_type),
                "ip": meta.ip.clone().unwrap_or_else(|| "unknown".into()),
                "time": now.format("%Y-%m-%d %H:%M UTC").to_string(),
            });
            outbox::queue_email(
                conn,
                now,
                mail,
                Outgoing {
                    to: &user.email,
                    user_id: Some(&user.id),
                    template: "new_login",
                    category: Category::Transactional,
                    vars: &vars,
                },
            )?;
        }
        audit::record(
            conn,
            now,
            &meta.actor(Some(&user.id)),
            Event::new("auth.login")
                .account(&user.id)
                .target("session", &session.session_id)
                .details(serde_json::json!({ "new_device": !known_device, "method": method })),
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
    /// The caller's IP address, user agent and (verified) device cookie.
    pub fn of(req: &actix_web::HttpRequest) -> ClientMeta {
        let state = req.app_data::<actix_web::web::Data<crate::state::AppState>>();
        let device =
            req.cookie(devices::DEVICE_COOKIE).zip(state).and_then(|(cookie, state)| devices::verify_cookie(&state.secret, cookie.value()));
        ClientMeta {
            ip: req.peer_addr().map(|a| a.ip().to_string()),
            user_agent: req.headers().get("user-agent").and_then(|v| v.to_str().ok()).map(str::to_string),
            device,
        }
    }

    /// The audit actor for this request.
    pub fn actor(&self, user_id: Option<&str>) -> Actor {
        Actor { user_id: user_id.map(str::to_string), on_behalf_of: None, ip: self.ip.clone(), user_agent: self.user_agent.clone() }
    }
}
