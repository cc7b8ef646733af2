//! API keys: long random secrets (`keel_…`) stored as SHA-256 hashes, with scopes, an optional
//! expiry and IP allow-list, revocable, last use recorded.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use keel_shared::auth::{ApiKey, ApiScope, CreateApiKeyRequest, CreatedApiKey, Role};
use rand::RngCore;

use crate::audit::{self, Actor, Event};
use crate::db::{now_micros, DbConn};
use crate::error::ApiError;
use crate::identity::tokens::hash_token;
use crate::ids;
use crate::schema::{api_keys, users};

pub const PREFIX: &str = "keel_";

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKeyRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub prefix: String,
    pub secret_hash: String,
    pub scopes: String,
    pub allowed_ips: String,
    pub expires_at: Option<chrono::NaiveDateTime>,
    pub last_used_at: Option<chrono::NaiveDateTime>,
    pub created_at: chrono::NaiveDateTime,
    pub revoked_at: Option<chrono::NaiveDateTime>,
}

impl ApiKeyRow {
    pub fn scopes(&self) -> Vec<ApiScope> {
        serde_json::from_str(&self.scopes).unwrap_or_default()
    }
    fn allowed_ips(&self) -> Vec<String> {
        serde_json::from_str(&self.allowed_ips).unwrap_or_default()
    }
    pub fn to_dto(&self) -> ApiKey {
        ApiKey {
            id: self.id.clone().into(),
            name: self.name.clone(),
            prefix: self.prefix.clone(),
            scopes: self.scopes(),
            allowed_ips: self.allowed_ips(),
            expires_at: self.expires_at.map(|t| t.and_utc()),
            last_used_at: self.last_used_at.map(|t| t.and_utc()),
            created_at: self.created_at.and_utc(),
        }
    }
}

pub fn create(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    user_id: &str,
    role: Role,
    req: &CreateApiKeyRequest,
    actor: &Actor,
) -> Result<CreatedApiKey, ApiError> {
    if req.scopes.contains(&ApiScope::Admin) && !role.is_back_office() {
        return Err(ApiError::field("scopes", "only administrators and staff can create keys with the admin scope"));
    }
    if req.expires_at.is_some_and(|t| t <= now) {
        return Err(ApiError::field("expires_at", "must be in the future"));
    }
    for (i, ip) in req.allowed_ips.iter().enumerate() {
        if ip.trim().parse::<std::net::IpAddr>().is_err() {
            return Err(ApiError::field(&format!("allowed_ips[{i}]"), format!("'{ip}' is not an IP address")));
        }
    }
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    let secret = format!("{PREFIX}{}", hex::encode(bytes));
    let mut scopes = req.scopes.clone();
    scopes.sort();
    scopes.dedup();
    let row = ApiKeyRow {
        id: ids::new_id(),
        user_id: user_id.to_string(),
        name: req.name.trim().to_string(),
        prefix: secret[..PREFIX.len() + 6].to_string(),
        secret_hash: hash_token(&secret),
        scopes: serde_json::to_string(&scopes).map_err(ApiError::internal)?,
        allowed_ips: serde_json::to_string(&req.allowed_ips.iter().map(|i| i.trim().to_string()).collect::<Vec<_>>())
            .map_err(ApiError::internal)?,
        expires_at: req.expires_at.map(now_micros),
        last_used_at: None,
        created_at: now_micros(now),
        revoked_at: None,
    };
    crate::db::transaction(conn, |conn| {
        diesel::insert_into(api_keys::table).values(&row).execute(conn)?;
        audit::record(
            conn,
            now,
            actor,
            Event::new("api_key.created")
                .account(user_id)
                .target("api_key", &row.id)
                .details(serde_json::json!({ "name": row.name, "scopes": scopes })),
        )
    })?;
    Ok(CreatedApiKey { key: row.to_dto(), secret })
}

pub fn list(conn: &mut DbConn, user_id: &str) -> Result<Vec<ApiKey>, ApiError> {
    let rows: Vec<ApiKeyRow> = api_keys::table
        .filter(api_keys::user_id.eq(user_id))
        .filter(api_keys::revoked_at.is_null())
        .order(api_keys::created_at.desc())
        .select(ApiKeyRow::as_select())
        .load(conn)?;
    Ok(rows.iter().map(ApiKeyRow::to_dto).collect())
}

pub fn revoke(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str, id: &str, actor: &Actor) -> Result<(), ApiError> {
    crate::db::transaction(conn, |conn| {
        let n = diesel::update(api_keys::table.find(id).filter(api_keys::user_id.eq(user_id)).filter(api_keys::revoked_at.is_null()))
            .set(api_keys::revoked_at.eq(Some(now_micros(now))))
            .execute(conn)?;
        if n == 0 {
            return Err(ApiError::not_found("API key"));
        }
        audit::record(conn, now, actor, Event::new("api_key.revoked").account(user_id).target("api_key", id))
    })
}

/// Revokes every key of a user (a password reset, or a change that asks for it); answers how
/// many. Keys are read from the database on every request, so they stop working at once.
pub(crate) fn revoke_all(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str) -> Result<usize, ApiError> {
    Ok(diesel::update(api_keys::table.filter(api_keys::user_id.eq(user_id)).filter(api_keys::revoked_at.is_null()))
        .set(api_keys::revoked_at.eq(Some(now_micros(now))))
        .execute(conn)?)
}

/// The user's keys that still work (not revoked, not expired): name and prefix, oldest first.
pub(crate) fn active(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str) -> Result<Vec<(String, String)>, ApiError> {
    Ok(api_keys::table
        .filter(api_keys::user_id.eq(user_id))
        .filter(api_keys::revoked_at.is_null())
        .filter(api_keys::expires_at.is_null().or(api_keys::expires_at.gt(now_micros(now))))
        .order(api_keys::created_at.asc())
        .select((api_keys::name, api_keys::prefix))
        .load(conn)?)
}

/// A key that authenticated: its owner, the owner's role and the key's scopes.
#[derive(Debug, Clone)]
pub struct KeyIdentity {
    pub key_id: String,
    pub user_id: String,
    pub role: Role,
    pub scopes: Vec<ApiScope>,
}

/// Checks a presented secret: known, not revoked or expired, allowed from `ip`. Records the last
/// use (at most once a minute per key, so reads do not become writes).
pub fn authenticate(conn: &mut DbConn, now: DateTime<Utc>, secret: &str, ip: Option<&str>) -> Result<KeyIdentity, ApiError> {
    let refused = |why: &str| ApiError::Unauthenticated(format!("the API key is {why}"));
    let found: Option<(ApiKeyRow, String)> = api_keys::table
        .inner_join(users::table)
        .filter(api_keys::secret_hash.eq(hash_token(secret)))
        .select((ApiKeyRow::as_select(), users::role))
        .first(conn)
        .optional()?;
    let (key, role) = found.ok_or_else(|| refused("unknown"))?;
    if key.revoked_at.is_some() {
        return Err(refused("revoked"));
    }
    if key.expires_at.is_some_and(|t| t <= now_micros(now)) {
        return Err(refused("expired"));
    }
    let allowed = key.allowed_ips();
    if !allowed.is_empty() && !ip.is_some_and(|ip| allowed.iter().any(|a| a == ip)) {
        return Err(ApiError::Forbidden(format!("this API key may not be used from {}", ip.unwrap_or("this address"))));
    }
    if key.last_used_at.is_none_or(|t| t < now_micros(now - Duration::minutes(1))) {
        diesel::update(api_keys::table.find(&key.id)).set(api_keys::last_used_at.eq(Some(now_micros(now)))).execute(conn)?;
    }
    Ok(KeyIdentity { scopes: key.scopes(), key_id: key.id, user_id: key.user_id, role: Role::parse(&role).unwrap_or(Role::Client) })
}
