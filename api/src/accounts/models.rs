//! Rows of the accounts tables and their conversion to API models.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_shared::auth::{ClientSummary, Me, Role};

use crate::schema::{refresh_tokens, sessions, users};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub first_name: String,
    pub last_name: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub email_verified_at: Option<NaiveDateTime>,
    pub failed_logins: i32,
    pub locked_until: Option<NaiveDateTime>,
    pub totp_secret: Option<String>,
    pub totp_pending: Option<String>,
    pub totp_enabled_at: Option<NaiveDateTime>,
    pub totp_last_step: Option<i64>,
}

impl UserRow {
    pub fn role(&self) -> Role {
        // The CHECK constraint keeps other values out; an unknown one gets the least power.
        Role::parse(&self.role).unwrap_or(Role::Client)
    }

    pub fn to_me(&self) -> Me {
        Me {
            id: self.id.clone().into(),
            email: self.email.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            role: self.role(),
            email_verified: self.email_verified_at.is_some(),
            two_factor: self.totp_enabled_at.is_some(),
            created_at: self.created_at.and_utc(),
            impersonator: None,
            permissions: if self.role() == Role::Admin { keel_shared::access::Permission::ALL.to_vec() } else { Vec::new() },
        }
    }

    pub fn to_client_summary(&self) -> ClientSummary {
        ClientSummary {
            id: self.id.clone().into(),
            email: self.email.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            created_at: self.created_at.and_utc(),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: String,
    pub user_id: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = refresh_tokens)]
pub struct RefreshTokenRow {
    pub token_hash: String,
    pub session_id: String,
    pub created_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}
