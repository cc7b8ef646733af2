//! Two-factor sign-in with TOTP: set up (QR made here), confirm with a code (recovery codes
//! issued), use at login (code or recovery code, each usable once), turn off with password + code.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use keel_shared::auth::{RecoveryCodes, TwoFactorSetup};
use rand::RngCore;

use crate::accounts::models::UserRow;
use crate::accounts::users::find_user;
use crate::audit::{self, Actor, Event};
use crate::crypto;
use crate::db::{now_micros, DbConn};
use crate::error::ApiError;
use crate::identity::password;
use crate::identity::tokens::hash_token;
use crate::identity::tokens::MFA_TTL;
use crate::identity::totp;
use crate::ids;
use crate::schema::{mfa_challenges, recovery_codes, users};

pub fn setup(conn: &mut DbConn, secret_key: &[u8], issuer: &str, user_id: &str) -> Result<TwoFactorSetup, ApiError> {
    let user = find_user(conn, user_id)?;
    if user.totp_enabled_at.is_some() {
        return Err(ApiError::Conflict { code: "two_factor_enabled", detail: "two-factor sign-in is already on".into(), field: None });
    }
    let mut raw = [0u8; 20];
    rand::rng().fill_bytes(&mut raw);
    let secret = totp::base32_encode(&raw);
    diesel::update(users::table.find(user_id)).set(users::totp_pending.eq(Some(crypto::seal(secret_key, &raw)?))).execute(conn)?;
    let otpauth_url = totp::key_uri(issuer, &user.email, &secret);
    let qr = qrcode::QrCode::new(otpauth_url.as_bytes()).map_err(ApiError::internal)?;
    let qr_svg = qr.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
    Ok(TwoFactorSetup { secret, otpauth_url, qr_svg })
}

fn new_recovery_codes(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str) -> Result<Vec<String>, ApiError> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))).execute(conn)?;
    let mut codes = Vec::with_capacity(10);
    for _ in 0..10 {
        let mut b = [0u8; 5];
        rand::rng().fill_bytes(&mut b);
        let hex = hex::encode(b);
        let code = format!("{}-{}", &hex[..5], &hex[5..]);
        diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::code_hash.eq(hash_token(&code)),
                recovery_codes::user_id.eq(user_id),
                recovery_codes::created_at.eq(now_micros(now)),
            ))
            .execute(conn)?;
        codes.push(code);
    }
    Ok(codes)
}

pub fn enable(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    secret_key: &[u8],
    user_id: &str,
    code: &str,
    actor: &Actor,
) -> Result<RecoveryCodes, ApiError> {
    let user = find_user(conn, user_id)?;
    let sealed = user.totp_pending.clone().ok_or_else(|| ApiError::bad_request("no_setup", "start the set-up first"))?;
    let raw = crypto::open(secret_key, &sealed)?;
    let step = totp::verify(&raw, code, now.timestamp())
        .ok_or_else(|| ApiError::field("code", "this code is not valid; check the time on your phone"))?;
    crate::db::transaction(conn, |conn| {
        diesel::update(users::table.find(user_id))
            .set((
                users::totp_secret.eq(Some(sealed.clone())),
                users::totp_pending.eq(None::<String>),
                users::totp_enabled_at.eq(Some(now_micros(now))),
                users::totp_last_step.eq(Some(step)),
            ))
            .execute(conn)?;
        let codes = new_recovery_codes(conn, now, user_id)?;
        // "Require 2FA for staff" now lets this user through.
        crate::db::cache::publish(conn, crate::db::cache::Change::UserChanged(user_id.to_string()))?;
        audit::record(conn, now, actor, Event::new("two_factor.enabled").account(user_id))?;
        Ok(RecoveryCodes { codes })
    })
}

/// How many codes may be checked against one `mfa_token`; then it is void.
pub const MFA_ATTEMPTS: i32 = 5;

/// Opens the challenge of a two-factor sign-in's password step; the `mfa_token` carries its id.
pub fn open_challenge(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str) -> Result<String, ApiError> {
    let id = ids::new_id();
    diesel::insert_into(mfa_challenges::table)
        .values((
            mfa_challenges::id.eq(&id),
            mfa_challenges::user_id.eq(user_id),
            mfa_challenges::attempts.eq(0),
            mfa_challenges::created_at.eq(now_micros(now)),
            mfa_challenges::expires_at.eq(now_micros(now + MFA_TTL)),
        ))
        .execute(conn)?;
    Ok(id)
}

fn challenge_void() -> ApiError {
    ApiError::MfaTokenInvalid("this sign-in step was used, has expired or had too many wrong codes; enter your password again".into())
}

/// Spends one of a challenge's [`MFA_ATTEMPTS`] before a code is checked, in one statement, so
/// that however many codes arrive at once, at most that many are ever checked against it.
pub fn spend_attempt(conn: &mut DbConn, now: DateTime<Utc>, challenge_id: &str, user_id: &str) -> Result<(), ApiError> {
    let spent = diesel::update(
        mfa_challenges::table
            .find(challenge_id)
            .filter(mfa_challenges::user_id.eq(user_id))
            .filter(mfa_challenges::used_at.is_null())
            .filter(mfa_challenges::expires_at.gt(now_micros(now)))
            .filter(mfa_challenges::attempts.lt(MFA_ATTEMPTS)),
    )
    .set(mfa_challenges::attempts.eq(mfa_challenges::attempts + 1))
    .execute(conn)?;
    if spent == 1 {
        Ok(())
    } else {
        Err(challenge_void())
    }
}

/// Marks a challenge used by the sign-in it completed: its token opens no other session.
pub fn finish_challenge(conn: &mut DbConn, now: DateTime<Utc>, challenge_id: &str) -> Result<(), ApiError> {
    let n = diesel::update(mfa_challenges::table.find(challenge_id).filter(mfa_challenges::used_at.is_null()))
        .set(mfa_challenges::used_at.eq(Some(now_micros(now))))
        .execute(conn)?;
    if n == 1 {
        Ok(())
    } else {
        Err(challenge_void())
    }
}

/// Deletes challenges that expired before `before` (housekeeping).
pub fn purge_challenges(conn: &mut DbConn, before: DateTime<Utc>) -> Result<usize, ApiError> {
    Ok(diesel::delete(mfa_challenges::table.filter(mfa_challenges::expires_at.lt(now_micros(before)))).execute(conn)?)
}

/// Checks a TOTP code (each time step once) or a recovery code (each once). Records the use.
pub fn check_code(conn: &mut DbConn, now: DateTime<Utc>, secret_key: &[u8], user: &UserRow, code: &str) -> Result<bool, ApiError> {
    let code = code.trim();
    if code.contains('-') {
        let used = diesel::update(
            recovery_codes::table
                .filter(recovery_codes::code_hash.eq(hash_token(&code.to_lowercase())))
                .filter(recovery_codes::user_id.eq(&user.id))
                .filter(recovery_codes::used_at.is_null()),
        )
        .set(recovery_codes::used_at.eq(Some(now_micros(now))))
        .execute(conn)?;
        return Ok(used == 1);
    }
    let Some(sealed) = &user.totp_secret else { return Ok(false) };
    let raw = crypto::open(secret_key, sealed)?;
    let Some(step) = totp::verify(&raw, code, now.timestamp()) else { return Ok(false) };
    // A code works once: the step must be newer than the last one used.
    let n = diesel::update(users::table.find(&user.id).filter(users::totp_last_step.is_null().or(users::totp_last_step.lt(step))))
        .set(users::totp_last_step.eq(Some(step)))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn disable(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    secret_key: &[u8],
    user_id: &str,
    password_plain: &str,
    code: &str,
    actor: &Actor,
) -> Result<(), ApiError> {
    let user = find_user(conn, user_id)?;
    if user.totp_enabled_at.is_none() {
        return Err(ApiError::Conflict { code: "two_factor_disabled", detail: "two-factor sign-in is not on".into(), field: None });
    }
    if !password::verify(password_plain, &user.password_hash)? {
        return Err(ApiError::field("password", "is not your password"));
    }
    if !check_code(conn, now, secret_key, &user, code)? {
        return Err(ApiError::field("code", "this code is not valid"));
    }
    crate::db::transaction(conn, |conn| {
        diesel::update(users::table.find(user_id))
            .set((
                users::totp_secret.eq(None::<String>),
                users::totp_enabled_at.eq(None::<chrono::NaiveDateTime>),
                users::totp_last_step.eq(None::<i64>),
            ))
            .execute(conn)?;
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))).execute(conn)?;
        crate::db::cache::publish(conn, crate::db::cache::Change::UserChanged(user_id.to_string()))?;
        audit::record(conn, now, actor, Event::new("two_factor.disabled").account(user_id))
    })
}
