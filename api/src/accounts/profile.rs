//! The client profile, the GDPR data export, and deletion: the client asks, an admin approves,
//! personal fields are anonymised (records the law requires, such as invoices, are kept).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use keel_shared::auth::{Address, ClientSummary, Profile, Role};
use keel_shared::Currency;

use crate::accounts::models::UserRow;
use crate::accounts::users::find_user;
use crate::audit::{self, Actor, Event};
use crate::db::{now_micros, DbConn};
use crate::error::ApiError;
use crate::identity::api_keys;
use crate::identity::password;
use crate::schema::{
    account_members, api_keys as api_keys_t, audit_log, carts, client_profiles, emails, orders, recovery_codes, sessions, users,
};

#[derive(Debug, Clone, Default, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = client_profiles, treat_none_as_null = true)]
pub struct ProfileRow {
    pub user_id: String,
    pub company: Option<String>,
    pub phone: Option<String>,
    pub address: Option<String>,
    pub billing_address: Option<String>,
    pub tax_id: Option<String>,
    pub currency: String,
    pub language: String,
    pub deletion_requested_at: Option<chrono::NaiveDateTime>,
    pub anonymised_at: Option<chrono::NaiveDateTime>,
    pub updated_at: chrono::NaiveDateTime,
    /// Set by the back office: no tax is charged.
    pub tax_exempt: bool,
}

fn row(conn: &mut DbConn, user_id: &str) -> Result<Option<ProfileRow>, ApiError> {
    Ok(client_profiles::table.find(user_id).select(ProfileRow::as_select()).first(conn).optional()?)
}

/// The stored profile row, created empty when missing.
fn ensure(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str) -> Result<ProfileRow, ApiError> {
    if let Some(r) = row(conn, user_id)? {
        return Ok(r);
    }
    let r = ProfileRow {
        user_id: user_id.into(),
        currency: "USD".into(),
        language: "en".into(),
        updated_at: now_micros(now),
        ..Default::default()
    };
    diesel::insert_into(client_profiles::table).values(&r).execute(conn)?;
    Ok(r)
}

/// Exempts a client from tax (or not); audited in the client's trail.
pub fn set_tax_exempt(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, user_id: &str, exempt: bool) -> Result<(), ApiError> {
    crate::db::transaction(conn, |conn| {
        let user = find_user(conn, user_id)?;
        if user.role() != Role::Client {
            return Err(ApiError::not_found("client"));
        }
        ensure(conn, now, user_id)?;
        diesel::update(client_profiles::table.find(user_id))
            .set((client_profiles::tax_exempt.eq(exempt), client_profiles::updated_at.eq(now_micros(now))))
            .execute(conn)?;
        audit::record(
            conn,
            now,
            actor,
            Event::new("client.tax_exempt_changed").account(user_id).details(serde_json::json!({ "tax_exempt": exempt })),
        )
    })
}

/// What pricing needs of an account: its currency, billing place, tax id and exemption.
pub struct Billing {
    pub currency: Currency,
    /// The billing address, else the address.
    pub address: Option<Address>,
    pub tax_id: Option<String>,
    pub tax_exempt: bool,
}

pub fn billing(conn: &mut DbConn, account_id: &str) -> Result<Billing, ApiError> {
    let r = row(conn, account_id)?.unwrap_or_else(|| ProfileRow { currency: "USD".into(), ..Default::default() });
    Ok(Billing {
        currency: Currency::parse(&r.currency).unwrap_or_default(),
        address: address(&r.billing_address).or_else(|| address(&r.address)),
        tax_id: r.tax_id,
        tax_exempt: r.tax_exempt,
    })
}

fn address(json: &Option<String>) -> Option<Address> {
    json.as_deref().and_then(|j| serde_json::from_str(j).ok())
}

pub fn get(conn: &mut DbConn, user_id: &str) -> Result<Profile, ApiError> {
    let user = find_user(conn, user_id)?;
    let r = row(conn, user_id)?.unwrap_or_else(|| ProfileRow { currency: "USD".into(), language: "en".into(), ..Default::default() });
    Ok(Profile {
        first_name: user.first_name,
        last_name: user.last_name,
        company: r.company,
        phone: r.phone,
        address: address(&r.address),
        billing_address: address(&r.billing_address),
        tax_id: r.tax_id,
        currency: Currency::parse(&r.currency).unwrap_or_default(),
        language: r.language,
    })
}

/// Saves the profile. `holder` is false for a team member with billing access: they edit the
/// billing details, while the holder's name stays the holder's to change.
pub fn update(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str, p: &Profile, holder: bool, actor: &Actor) -> Result<Profile, ApiError> {
    let blank = |s: &Option<String>| s.as_ref().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let json = |a: &Option<Address>| a.as_ref().map(serde_json::to_string).transpose().map_err(ApiError::internal);
    crate::db::transaction(conn, |conn| {
        let before = get(conn, user_id)?;
        if !holder {
            for (field, sent, was) in [("first_name", &p.first_name, &before.first_name), ("last_name", &p.last_name, &before.last_name)] {
                if sent.trim() != was {
                    return Err(ApiError::field(field, "only the account holder can change their name"));
                }
            }
        }
        if !crate::catalog::service::currency_infos(conn)?.iter().any(|c| c.code == p.currency) {
            return Err(ApiError::field("currency", "the shop does not sell in this currency"));
        }
        let mut r = ensure(conn, now, user_id)?;
        r.company = blank(&p.company);
        r.phone = blank(&p.phone);
        r.address = json(&p.address)?;
        r.billing_address = json(&p.billing_address)?;
        r.tax_id = blank(&p.tax_id);
        r.currency = p.currency.code().into();
        r.language = p.language.trim().into();
        r.updated_at = now_micros(now);
        diesel::update(client_profiles::table.find(user_id)).set(&r).execute(conn)?;
        diesel::update(users::table.find(user_id))
            .set((
                users::first_name.eq(p.first_name.trim()),
                users::last_name.eq(p.last_name.trim()),
                users::updated_at.eq(now_micros(now)),
            ))
            .execute(conn)?;
        crate::db::cache::publish(conn, crate::db::cache::Change::UserChanged(user_id.to_string()))?;
        crate::accounts::users::index_search(conn, user_id)?;
        let after = get(conn, user_id)?;
        audit::record(
            conn,
            now,
            actor,
            Event::new("profile.updated").account(user_id).details(serde_json::json!({ "before": before, "after": after })),
        )?;
        Ok(after)
    })
}

/// A session in the data export: id, IP, user agent, created, last seen.
type SessionExport = (String, Option<String>, Option<String>, chrono::NaiveDateTime, chrono::NaiveDateTime);

/// Everything Keel holds about the user, as JSON (secrets and hashes left out).
pub fn export(conn: &mut DbConn, user_id: &str) -> Result<serde_json::Value, ApiError> {
    let user = find_user(conn, user_id)?;
    let sessions: Vec<SessionExport> = sessions::table
        .filter(sessions::user_id.eq(user_id))
        .select((sessions::id, sessions::ip, sessions::user_agent, sessions::created_at, sessions::last_seen_at))
        .load(conn)?;
    let mail: Vec<(String, String, String, chrono::NaiveDateTime)> = emails::table
        .filter(emails::user_id.eq(user_id))
        .select((emails::to_addr, emails::subject, emails::status, emails::created_at))
        .load(conn)?;
    let audit: Vec<(String, Option<String>, chrono::NaiveDateTime)> = audit_log::table
        .filter(audit_log::account_id.eq(user_id))
        .select((audit_log::action, audit_log::ip, audit_log::created_at))
        .load(conn)?;
    let cart: Option<String> = carts::table.find(user_id).select(carts::body).first(conn).optional()?;
    let placed: Vec<(String, String, String, i64, chrono::NaiveDateTime)> = orders::table
        .filter(orders::account_id.eq(user_id))
        .order(orders::created_at.asc())
        .select((orders::number, orders::status, orders::currency, orders::total_minor, orders::created_at))
        .load(conn)?;
    Ok(serde_json::json!({
        "account": user.to_me(),
        "cart": cart.and_then(|c| serde_json::from_str::<serde_json::Value>(&c).ok()),
        "orders": placed.iter().map(|o| serde_json::json!({ "number": o.0, "status": o.1, "currency": o.2, "total_minor": o.3, "created_at": o.4.and_utc() })).collect::<Vec<_>>(),
        "profile": get(conn, user_id)?,
        "two_factor_enabled": user.totp_enabled_at.is_some(),
        "sessions": sessions.iter().map(|s| serde_json::json!({ "id": s.0, "ip": s.1, "user_agent": s.2, "created_at": s.3.and_utc(), "last_seen_at": s.4.and_utc() })).collect::<Vec<_>>(),
        "emails": mail.iter().map(|m| serde_json::json!({ "to": m.0, "subject": m.1, "status": m.2, "created_at": m.3.and_utc() })).collect::<Vec<_>>(),
        "activity": audit.iter().map(|a| serde_json::json!({ "action": a.0, "ip": a.1, "at": a.2.and_utc() })).collect::<Vec<_>>(),
        "api_keys": api_keys::list(conn, user_id)?,
    }))
}

pub fn request_deletion(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str, actor: &Actor) -> Result<(), ApiError> {
    crate::db::transaction(conn, |conn| {
        let r = ensure(conn, now, user_id)?;
        if r.deletion_requested_at.is_none() {
            diesel::update(client_profiles::table.find(user_id))
                .set(client_profiles::deletion_requested_at.eq(Some(now_micros(now))))
                .execute(conn)?;
            audit::record(conn, now, actor, Event::new("account.deletion_requested").account(user_id))?;
        }
        Ok(())
    })
}

pub fn deletion_requests(conn: &mut DbConn) -> Result<Vec<ClientSummary>, ApiError> {
    let rows: Vec<UserRow> = users::table
        .inner_join(client_profiles::table)
        .filter(client_profiles::deletion_requested_at.is_not_null())
        .filter(client_profiles::anonymised_at.is_null())
        .order(client_profiles::deletion_requested_at.asc())
        .select(UserRow::as_select())
        .load(conn)?;
    Ok(rows.iter().map(UserRow::to_client_summary).collect())
}

/// Removes a client's personal data: names, contact details and addresses are blanked, the
/// e-mail becomes a placeholder, the password unusable, sessions, keys and 2FA end. The row and
/// its id stay so that records the law requires (invoices) keep their reference.
pub fn anonymise(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str, actor: &Actor) -> Result<(), ApiError> {
    let user = find_user(conn, user_id)?;
    if user.role() != Role::Client {
        return Err(ApiError::Conflict { code: "not_a_client", detail: "only client accounts can be anonymised".into(), field: None });
    }
    let r = row(conn, user_id)?;
    if r.as_ref().and_then(|r| r.deletion_requested_at).is_none() {
        return Err(ApiError::Conflict {
            code: "no_deletion_request",
            detail: "the client has not asked for deletion".into(),
            field: None,
        });
    }
    if r.as_ref().and_then(|r| r.anonymised_at).is_some() {
        return Ok(());
    }
    let at = now_micros(now);
    let unusable = password::hash(&crate::bootstrap::generate_password())?;
    crate::db::transaction(conn, |conn| {
        diesel::update(users::table.find(user_id))
            .set((
                users::email.eq(format!("deleted-{user_id}@invalid")),
                users::first_name.eq("Deleted"),
                users::last_name.eq("Client"),
                users::password_hash.eq(unusable.as_str()),
                users::totp_secret.eq(None::<String>),
                users::totp_pending.eq(None::<String>),
                users::totp_enabled_at.eq(None::<chrono::NaiveDateTime>),
                users::updated_at.eq(at),
            ))
            .execute(conn)?;
        diesel::update(client_profiles::table.find(user_id))
            .set((
                client_profiles::company.eq(None::<String>),
                client_profiles::phone.eq(None::<String>),
                client_profiles::address.eq(None::<String>),
                client_profiles::billing_address.eq(None::<String>),
                client_profiles::tax_id.eq(None::<String>),
                client_profiles::anonymised_at.eq(Some(at)),
                client_profiles::updated_at.eq(at),
            ))
            .execute(conn)?;
        diesel::update(sessions::table.filter(sessions::user_id.eq(user_id)))
            .set((sessions::revoked_at.eq(Some(at)), sessions::ip.eq(None::<String>), sessions::user_agent.eq(None::<String>)))
            .execute(conn)?;
        crate::db::cache::publish(conn, crate::db::cache::Change::UserSessionsEnded(user_id.to_string()))?;
        crate::db::cache::publish(conn, crate::db::cache::Change::UserChanged(user_id.to_string()))?;
        diesel::update(api_keys_t::table.filter(api_keys_t::user_id.eq(user_id)).filter(api_keys_t::revoked_at.is_null()))
            .set(api_keys_t::revoked_at.eq(Some(at)))
            .execute(conn)?;
        diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id))).execute(conn)?;
        diesel::delete(carts::table.find(user_id)).execute(conn)?;
        crate::accounts::users::index_search(conn, user_id)?;
        // Team access ends both ways: nobody acts for this account, it acts for no one.
        diesel::delete(account_members::table.filter(account_members::account_id.eq(user_id).or(account_members::user_id.eq(user_id))))
            .execute(conn)?;
        diesel::update(emails::table.filter(emails::user_id.eq(user_id)))
            .set((emails::to_addr.eq("deleted@invalid"), emails::body_text.eq(""), emails::body_html.eq("")))
            .execute(conn)?;
        diesel::update(audit_log::table.filter(audit_log::account_id.eq(user_id)))
            .set((audit_log::ip.eq(None::<String>), audit_log::user_agent.eq(None::<String>)))
            .execute(conn)?;
        audit::record(conn, now, actor, Event::new("account.anonymised").account(user_id).target("user", user_id))
    })
}
