//! Users: looking them up, creating them (the password arrives hashed), and the back office's
//! client list with its search terms.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use keel_shared::auth::{ClientFilter, Role};
use keel_shared::validation::normalize_email;
use keel_shared::Page;

use crate::accounts::models::UserRow;
use crate::db::paging::{Cursor, Paging};
use crate::db::{now_micros, DbConn};
use crate::error::ApiError;
use crate::identity::password;
use crate::ids;
use crate::schema::{client_profiles, client_search, users};

fn email_taken() -> ApiError {
    ApiError::Conflict {
        code: "email_taken",
        detail: "an account with this e-mail address already exists".into(),
        field: Some("email".into()),
    }
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> Result<Option<UserRow>, ApiError> {
    Ok(users::table.filter(users::email.eq(normalize_email(email))).select(UserRow::as_select()).first(conn).optional()?)
}

pub fn find_user(conn: &mut DbConn, id: &str) -> Result<UserRow, ApiError> {
    users::table.find(id).select(UserRow::as_select()).first(conn).optional()?.ok_or_else(|| ApiError::not_found("user"))
}

/// Creates a user with a password hashed beforehand; the caller validated the request.
pub fn create_user(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    email: &str,
    password: &password::Hashed,
    first_name: &str,
    last_name: &str,
    role: Role,
) -> Result<UserRow, ApiError> {
    let now = now_micros(now);
    let row = UserRow {
        id: ids::new_id(),
        email: normalize_email(email),
        password_hash: password.as_str().to_string(),
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
        Ok(_) => {
            index_search(conn, &row.id)?;
            Ok(row)
        }
        // Two registrations racing for one address: the unique index decides.
        Err(diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _)) => Err(email_taken()),
        Err(e) => Err(e.into()),
    }
}

/// Clients, newest first; `q` finds those whose e-mail, first name, last name or company starts
/// with it (any case), through `client_search`.
/// Searches matching up to this many clients are paged from their matches (see `list_clients`).
const SEARCH_PICK_MAX: i64 = 20_000;

pub fn list_clients(conn: &mut DbConn, filter: &ClientFilter) -> Result<Page<UserRow>, ApiError> {
    let paging = Paging::new(filter.paging.clone())?;
    let range = filter.q.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(prefix_range);
    // A search first reads the matching ids from the term index, up to SEARCH_PICK_MAX. When they
    // fit, the page is picked among them (primary-key reads and a sort of at most that many): the
    // planners cannot tell how few a sub-query or id list leaves and would walk every client in
    // date order probing each one (300 ms at 100k clients on PostgreSQL, 45 ms on SQLite). A
    // broader search walks the clients in date order and meets matches early.
    if let Some((from, to)) = &range {
        let ids: Vec<String> = client_search::table
            .filter(client_search::term.ge(from.clone()))
            .filter(client_search::term.lt(to.clone()))
            .select(client_search::user_id)
            .distinct()
            .limit(SEARCH_PICK_MAX + 1)
            .load(conn)?;
        if ids.len() as i64 <= SEARCH_PICK_MAX {
            // By primary key only: with the role in the WHERE clause both planners prefer
            // scanning the (role, created_at, id) index of every client.
            let keys: Vec<(chrono::NaiveDateTime, String, String)> =
                users::table.filter(users::id.eq_any(&ids)).select((users::created_at, users::id, users::role)).load(conn)?;
            let keys = keys.into_iter().filter(|(_, _, role)| role == Role::Client.as_str()).map(|(at, id, _)| Cursor { at, id }).collect();
            let (page_ids, total) = paging.pick(keys);
            let mut rows: Vec<UserRow> = users::table.filter(users::id.eq_any(&page_ids)).select(UserRow::as_select()).load(conn)?;
            rows.sort_unstable_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
            return Ok(paging.finish(rows, total, |u: &UserRow| Cursor { at: u.created_at, id: u.id.clone() }));
        }
    }
    macro_rules! base {
        () => {{
            let mut q = users::table.filter(users::role.eq(Role::Client.as_str())).into_boxed();
            if let Some((from, to)) = &range {
                let found = client_search::table
                    .filter(client_search::term.ge(from.clone()))
                    .filter(client_search::term.lt(to.clone()))
                    .select(client_search::user_id);
                q = q.filter(users::id.eq_any(found));
            }
            q
        }};
    }
    let total = crate::count_capped!(conn, base!(), users::created_at, users::id);
    let rows = crate::keyset!(base!(), users::created_at, users::id, &paging).select(UserRow::as_select()).load(conn)?;
    Ok(paging.finish(rows, total, |u: &UserRow| Cursor { at: u.created_at, id: u.id.clone() }))
}

/// The terms a search for `prefix` covers, as a half-open range `[prefix, next)` of lower-cased
/// text: `next` is `prefix` with its last character raised by one.
fn prefix_range(prefix: &str) -> (String, String) {
    let from = prefix.to_lowercase();
    let mut to: Vec<char> = from.chars().collect();
    while let Some(last) = to.pop() {
        if let Some(next) = char::from_u32(last as u32 + 1).or_else(|| char::from_u32(last as u32 + 0x801)) {
            to.push(next);
            return (from, to.into_iter().collect());
        }
    }
    (from, char::MAX.to_string())
}

/// Rewrites a client's search terms from their current e-mail, names and company (after any write
/// that changes one of them, in the same transaction).
pub fn index_search(conn: &mut DbConn, user_id: &str) -> Result<(), ApiError> {
    diesel::delete(client_search::table.filter(client_search::user_id.eq(user_id))).execute(conn)?;
    let Some((role, email, first, last)) = users::table
        .find(user_id)
        .select((users::role, users::email, users::first_name, users::last_name))
        .first::<(String, String, String, String)>(conn)
        .optional()?
    else {
        return Ok(());
    };
    if role != Role::Client.as_str() {
        return Ok(());
    }
    let company: Option<String> =
        client_profiles::table.find(user_id).select(client_profiles::company).first::<Option<String>>(conn).optional()?.flatten();
    let mut terms: Vec<String> = [Some(email), Some(first), Some(last), company]
        .into_iter()
        .flatten()
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    terms.sort();
    terms.dedup();
    let rows: Vec<_> = terms.iter().map(|t| (client_search::user_id.eq(user_id), client_search::term.eq(t))).collect();
    // A multi-row insert is written per backend (diesel's multi-backend has no batch insert).
    match conn {
        DbConn::Postgresql(c) => diesel::insert_into(client_search::table).values(&rows).execute(c)?,
        DbConn::Sqlite(c) => diesel::insert_into(client_search::table).values(&rows).execute(c)?,
    };
    Ok(())
}

/// Whether any admin exists (first start creates one when not).
pub fn admin_exists(conn: &mut DbConn) -> Result<bool, ApiError> {
    let n: i64 = users::table.filter(users::role.eq(Role::Admin.as_str())).count().get_result(conn)?;
    Ok(n > 0)
}
