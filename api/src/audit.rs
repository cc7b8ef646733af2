//! The audit log: who did what to which account, from where. Written by services in the same
//! transaction as the change it records where there is one. It is part of the kernel (beside `db`
//! and `error`), not of a domain: every domain's services write to it, the back office reads it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use keel_shared::auth::{AuditEntry, AuditFilter};
use keel_shared::Page;

use crate::db::paging::{Cursor, Paging};
use crate::db::{now_micros, DbConn};
use crate::error::ApiError;
use crate::ids;
use crate::schema::audit_log;

/// Who is acting and from where.
#[derive(Debug, Clone, Default)]
pub struct Actor {
    pub user_id: Option<String>,
    /// The account acted on when it is not the actor's own (an admin viewing as a client).
    pub on_behalf_of: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// One audit record.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub action: &'a str,
    /// Whose account trail this belongs to.
    pub account_id: Option<&'a str>,
    pub target: Option<(&'a str, &'a str)>,
    pub details: serde_json::Value,
}

impl<'a> Event<'a> {
    pub fn new(action: &'a str) -> Self {
        Event { action, account_id: None, target: None, details: serde_json::Value::Object(Default::default()) }
    }
    pub fn account(mut self, id: &'a str) -> Self {
        self.account_id = Some(id);
        self
    }
    pub fn target(mut self, kind: &'a str, id: &'a str) -> Self {
        self.target = Some((kind, id));
        self
    }
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct AuditRow {
    pub id: String,
    pub actor_id: Option<String>,
    pub account_id: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub details: String,
    pub created_at: chrono::NaiveDateTime,
}

impl AuditRow {
    pub fn to_dto(&self) -> AuditEntry {
        AuditEntry {
            id: self.id.clone().into(),
            actor_id: self.actor_id.clone().map(Into::into),
            account_id: self.account_id.clone().map(Into::into),
            action: self.action.clone(),
            target_type: self.target_type.clone(),
            target_id: self.target_id.clone(),
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
            details: serde_json::from_str(&self.details).unwrap_or(serde_json::Value::Null),
            created_at: self.created_at.and_utc(),
        }
    }
}

pub fn record(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, event: Event<'_>) -> Result<(), ApiError> {
    let row = AuditRow {
        id: ids::new_id(),
        actor_id: actor.user_id.clone(),
        account_id: event.account_id.map(str::to_string).or_else(|| actor.on_behalf_of.clone()).or_else(|| actor.user_id.clone()),
        action: event.action.to_string(),
        target_type: event.target.map(|t| t.0.to_string()),
        target_id: event.target.map(|t| t.1.to_string()),
        ip: actor.ip.clone(),
        user_agent: actor.user_agent.as_ref().map(|u| u.chars().take(512).collect()),
        details: event.details.to_string(),
        created_at: now_micros(now),
    };
    diesel::insert_into(audit_log::table).values(&row).execute(conn)?;
    Ok(())
}

/// Newest first; `account` limits to one account's trail.
pub fn list(conn: &mut DbConn, filter: &AuditFilter, account: Option<&str>) -> Result<Page<AuditRow>, ApiError> {
    let paging = Paging::new(filter.paging.clone())?;
    let account = account.map(str::to_string).or_else(|| filter.account_id.clone().map(String::from));
    macro_rules! base {
        () => {{
            let mut q = audit_log::table.into_boxed();
            if let Some(a) = &filter.action {
                q = q.filter(audit_log::action.eq(a.clone()));
            }
            if let Some(a) = &account {
                q = q.filter(audit_log::account_id.eq(a.clone()));
            }
            q
        }};
    }
    let total = crate::count_capped!(conn, base!(), audit_log::created_at, audit_log::id);
    let rows = crate::keyset!(base!(), audit_log::created_at, audit_log::id, &paging).select(AuditRow::as_select()).load(conn)?;
    Ok(paging.finish(rows, total, |a: &AuditRow| Cursor { at: a.created_at, id: a.id.clone() }))
}
