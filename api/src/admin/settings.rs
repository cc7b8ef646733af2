//! Key/value settings stored as JSON, readable and writable by the platform at run time.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::db::{now_micros, DbConn};
use crate::error::ApiError;
use crate::schema::settings;

pub fn get<T: DeserializeOwned>(conn: &mut DbConn, key: &str) -> Result<Option<T>, ApiError> {
    let value: Option<String> = settings::table.find(key).select(settings::value).first(conn).optional()?;
    value.map(|v| serde_json::from_str(&v).map_err(|e| ApiError::internal(format!("setting {key}: {e}")))).transpose()
}

/// Inserts or replaces a setting.
pub fn set<T: Serialize>(conn: &mut DbConn, now: DateTime<Utc>, key: &str, value: &T) -> Result<(), ApiError> {
    let json = serde_json::to_string(value).map_err(ApiError::internal)?;
    let at = now_micros(now);
    crate::db::transaction(conn, |conn| {
        let updated =
            diesel::update(settings::table.find(key)).set((settings::value.eq(&json), settings::updated_at.eq(at))).execute(conn)?;
        if updated == 0 {
            diesel::insert_into(settings::table)
                .values((settings::key.eq(key), settings::value.eq(&json), settings::updated_at.eq(at)))
                .execute(conn)?;
        }
        Ok(())
    })
}
