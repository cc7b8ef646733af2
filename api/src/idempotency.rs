//! `Idempotency-Key` for the POSTs that move money (pay, add funds, record a payment, refund):
//! the first request with a key runs and its answer is stored; the same key with the same request
//! answers that stored response (`Idempotent-Replayed: true`), with another request 422, and while
//! the first still runs 409. A request that fails stores nothing, so it can be retried. Keys are
//! per account and kept a day (`billing.daily` forgets older ones).
//!
//! Checkout has its own key (the order row carries it: `commerce::service::checkout`); the header
//! is read by [`header`] for both.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use sha2::Digest;

use crate::db::{self, now_micros, DbConn, Pool};
use crate::error::ApiError;
use crate::schema::idempotency_keys;

pub const HEADER: &str = "Idempotency-Key";

/// The header's key, if sent: 1 to 100 visible ASCII characters.
pub fn header(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(HEADER) else { return Ok(None) };
    let key = value.to_str().map_err(|_| ApiError::field(HEADER, "must be visible ASCII"))?.trim();
    if key.is_empty() || key.len() > 100 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::field(HEADER, "must be 1 to 100 visible ASCII characters"));
    }
    Ok(Some(key.to_string()))
}

/// The header's key, which the route requires.
pub fn required(req: &HttpRequest, hint: &str) -> Result<String, ApiError> {
    header(req)?.ok_or_else(|| ApiError::field(HEADER, hint))
}

/// What a key says before the request runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begun {
    /// First use: run the request, then [`finish`].
    Fresh,
    /// Answered before: this status and body.
    Replay(u16, String),
}

/// Claims `key` for this request, or reads what it answered before.
pub fn begin(conn: &mut DbConn, now: DateTime<Utc>, account: &str, key: &str, request: &str, hash: &str) -> Result<Begun, ApiError> {
    let row = (
        idempotency_keys::account_id.eq(account),
        idempotency_keys::key.eq(key),
        idempotency_keys::request.eq(request),
        idempotency_keys::request_hash.eq(hash),
        idempotency_keys::created_at.eq(now_micros(now)),
    );
    let fresh = crate::each_backend!(&mut *conn, c => diesel::insert_into(idempotency_keys::table).values(row).on_conflict_do_nothing().execute(c))?;
    if fresh == 1 {
        return Ok(Begun::Fresh);
    }
    let (used_for, used_hash, status, body): (String, String, Option<i32>, Option<String>) = idempotency_keys::table
        .find((account, key))
        .select((idempotency_keys::request, idempotency_keys::request_hash, idempotency_keys::status, idempotency_keys::body))
        .first(conn)?;
    if used_for != request || used_hash != hash {
        return Err(ApiError::field(HEADER, "was used for another request: send a new key for a new request"));
    }
    match (status, body) {
        (Some(s), Some(b)) => Ok(Begun::Replay(u16::try_from(s).unwrap_or(200), b)),
        _ => Err(ApiError::Conflict {
            code: "idempotency_key_in_use",
            detail: "a request with this Idempotency-Key is still running".into(),
            field: Some(HEADER.into()),
        }),
    }
}

/// Stores the answer of the request that claimed `key`.
pub fn finish(conn: &mut DbConn, account: &str, key: &str, status: u16, body: &str) -> Result<(), ApiError> {
    diesel::update(idempotency_keys::table.find((account, key)))
        .set((idempotency_keys::status.eq(Some(i32::from(status))), idempotency_keys::body.eq(Some(body))))
        .execute(conn)?;
    Ok(())
}

/// Lets the key go after a failed request (it may be retried).
pub fn abandon(conn: &mut DbConn, account: &str, key: &str) -> Result<(), ApiError> {
    diesel::delete(idempotency_keys::table.find((account, key)).filter(idempotency_keys::status.is_null())).execute(conn)?;
    Ok(())
}

/// Forgets keys older than `before`.
pub fn purge(conn: &mut DbConn, before: DateTime<Utc>) -> Result<usize, ApiError> {
    Ok(diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(now_micros(before)))).execute(conn)?)
}

/// Runs `work` once per key (when the request sends one) and answers its JSON with `status`, or
/// the stored answer of the first request with that key.
pub async fn once<T, F>(
    pool: &Pool,
    now: DateTime<Utc>,
    req: &HttpRequest,
    account: &str,
    body: &impl Serialize,
    status: StatusCode,
    work: F,
) -> Result<HttpResponse, ApiError>
where
    T: Serialize,
    F: std::future::Future<Output = Result<T, ApiError>>,
{
    let Some(key) = header(req)? else {
        return Ok(HttpResponse::build(status).json(work.await?));
    };
    let request = format!("{} {}", req.method(), req.path());
    let hash = hex::encode(sha2::Sha256::digest(serde_json::to_vec(body).map_err(ApiError::internal)?));
    let (acc, k, r) = (account.to_string(), key.clone(), request.clone());
    match db::run(pool, move |c| begin(c, now, &acc, &k, &r, &hash)).await? {
        Begun::Replay(s, b) => {
            let status = StatusCode::from_u16(s).unwrap_or(StatusCode::OK);
            return Ok(HttpResponse::build(status).insert_header(("Idempotent-Replayed", "true")).content_type("application/json").body(b));
        }
        Begun::Fresh => {}
    }
    let (acc, k) = (account.to_string(), key.clone());
    match work.await {
        Ok(value) => {
            let text = serde_json::to_string(&value).map_err(ApiError::internal)?;
            let stored = text.clone();
            db::run(pool, move |c| finish(c, &acc, &k, status.as_u16(), &stored)).await?;
            Ok(HttpResponse::build(status).content_type("application/json").body(text))
        }
        Err(e) => {
            if let Err(again) = db::run(pool, move |c| abandon(c, &acc, &k)).await {
                tracing::warn!(error = %again, "could not release an idempotency key");
            }
            Err(e)
        }
    }
}
