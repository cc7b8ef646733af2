//! `keel bench lists`: how long a page of the back office's biggest lists takes on the configured
//! database, with the rows seeded first — `clients` clients (and their search terms) and `audit`
//! audit-log entries. Each case runs `runs` times through the same functions the routes call;
//! the bench prints p50 and p99 per case. Figures, never assertions.

use std::time::Instant;

use chrono::{Duration, Utc};
use diesel::prelude::*;
use keel_shared::auth::{AuditFilter, ClientFilter};
use keel_shared::PageQuery;

use crate::accounts::models::UserRow;
use crate::accounts::users;
use crate::audit::{self, AuditRow};
use crate::db::paging::Cursor;
use crate::db::{now_micros, DbConn, Pool};
use crate::schema::{audit_log, client_search, users as users_t};

const MARK: &str = "bench-lists";

pub fn lists(pool: &Pool, clients: usize, entries: usize, runs: usize) -> Result<(), String> {
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let backend = conn.backend().name();
    let t = Instant::now();
    clean(&mut conn).map_err(|e| e.to_string())?;
    seed_clients(&mut conn, clients).map_err(|e| e.to_string())?;
    seed_audit(&mut conn, entries).map_err(|e| e.to_string())?;
    if let DbConn::Postgresql(pg) = &mut *conn {
        // What autovacuum does to a table this size within a minute in production: the planner
        // needs the statistics.
        diesel::sql_query("ANALYZE users, client_search, audit_log").execute(pg).map_err(|e| e.to_string())?;
    }
    println!("bench lists: backend={backend} clients={clients} audit={entries} runs={runs} (seeded in {:.1} s)", t.elapsed().as_secs_f64());
    println!("  {:<50} {:>9} {:>9}", "case (per_page 25)", "p50 ms", "p99 ms");

    let deep_client = cursor_at(&mut conn, clients.saturating_sub(30) as i64, true).map_err(|e| e.to_string())?;
    let deep_audit = cursor_at(&mut conn, entries.saturating_sub(30) as i64, false).map_err(|e| e.to_string())?;
    let page = |n: u32| PageQuery::numbered(n, 25);
    let clients_of = |paging: PageQuery, search: Option<&str>| ClientFilter { q: search.map(str::to_string), paging };
    let audit_of = |paging: PageQuery| AuditFilter { action: None, account_id: None, paging };
    let cursor = |c: &Cursor| PageQuery { cursor: Some(c.encode()), ..page(1) };

    let mut run = |name: &str, f: &dyn Fn(&mut DbConn) -> Result<usize, String>| -> Result<(), String> {
        let mut times = Vec::with_capacity(runs);
        for _ in 0..runs {
            let t = Instant::now();
            let n = f(&mut conn)?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            if n == 0 {
                return Err(format!("{name}: an empty page"));
            }
        }
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
        println!("  {name:<50} {:>9.2} {:>9.2}", at(0.50), at(0.99));
        Ok(())
    };
    run("clients, page 1 (with total)", &|c| Ok(users::list_clients(c, &clients_of(page(1), None)).map_err(s)?.items.len()))?;
    run("clients, page 400 (offset 9,975)", &|c| Ok(users::list_clients(c, &clients_of(page(400), None)).map_err(s)?.items.len()))?;
    run("clients, cursor at the end of the list", &|c| {
        Ok(users::list_clients(c, &clients_of(cursor(&deep_client), None)).map_err(s)?.items.len())
    })?;
    // A broad prefix (11,111 clients: the count stops at its cap), a name and one exact client.
    let search = |q: &'static str| move |c: &mut DbConn| Ok(users::list_clients(c, &clients_of(page(1), Some(q))).map_err(s)?.items.len());
    run("clients, search q=bench-lists-1 (11,111 match)", &search("bench-lists-1"))?;
    run("clients, search q=last99 (a last name)", &search("last99"))?;
    run("clients, search q=bench-lists-99999 (1 match)", &search("bench-lists-99999"))?;
    run("audit log, page 1 (with total)", &|c| Ok(audit::list(c, &audit_of(page(1)), None).map_err(s)?.items.len()))?;
    run("audit log, page 400 (offset 9,975)", &|c| Ok(audit::list(c, &audit_of(page(400)), None).map_err(s)?.items.len()))?;
    run("audit log, cursor at the end of the list", &|c| Ok(audit::list(c, &audit_of(cursor(&deep_audit)), None).map_err(s)?.items.len()))?;
    clean(&mut conn).map_err(|e| e.to_string())?;
    Ok(())
}

fn s(e: crate::error::ApiError) -> String {
    e.to_string()
}

/// The position of the `depth`-th item (newest first) of the bench's clients or audit entries.
fn cursor_at(conn: &mut DbConn, depth: i64, clients: bool) -> QueryResult<Cursor> {
    let (at, id) = if clients {
        users_t::table
            .filter(users_t::role.eq("client"))
            .order((users_t::created_at.desc(), users_t::id.desc()))
            .offset(depth)
            .select((users_t::created_at, users_t::id))
            .first::<(chrono::NaiveDateTime, String)>(conn)?
    } else {
        audit_log::table
            .order((audit_log::created_at.desc(), audit_log::id.desc()))
            .offset(depth)
            .select((audit_log::created_at, audit_log::id))
            .first::<(chrono::NaiveDateTime, String)>(conn)?
    };
    Ok(Cursor { at, id })
}

fn clean(conn: &mut DbConn) -> QueryResult<()> {
    diesel::delete(audit_log::table.filter(audit_log::action.eq(MARK))).execute(conn)?;
    diesel::delete(users_t::table.filter(users_t::email.like(format!("{MARK}-%")))).execute(conn)?;
    Ok(())
}

/// Inserts `rows` in multi-row statements of `chunk`, per backend (diesel's multi-backend has no
/// batch insert).
macro_rules! insert_chunks {
    ($conn:expr, $table:expr, $rows:expr, $chunk:expr) => {{
        for part in $rows.chunks($chunk) {
            crate::db::transaction($conn, |c| {
                match c {
                    DbConn::Postgresql(pg) => diesel::insert_into($table).values(part).execute(pg)?,
                    DbConn::Sqlite(lite) => diesel::insert_into($table).values(part).execute(lite)?,
                };
                Ok::<_, diesel::result::Error>(())
            })?;
        }
    }};
}

fn seed_clients(conn: &mut DbConn, n: usize) -> QueryResult<()> {
    let start = Utc::now() - Duration::days(365);
    let rows: Vec<UserRow> = (0..n)
        .map(|i| {
            // Several clients per second of signing up, so the list's order has ties to break.
            let at = now_micros(start + Duration::milliseconds(i as i64 * 300));
            UserRow {
                id: crate::ids::new_id(),
                email: format!("{MARK}-{i}@example.com"),
                password_hash: "$argon2id$bench".into(),
                role: "client".into(),
                first_name: format!("First{i}"),
                last_name: format!("Last{}", i % 997),
                created_at: at,
                updated_at: at,
                email_verified_at: None,
                failed_logins: 0,
                locked_until: None,
                totp_secret: None,
                totp_pending: None,
                totp_enabled_at: None,
                totp_last_step: None,
            }
        })
        .collect();
    insert_chunks!(conn, users_t::table, rows, 1_000);
    let terms: Vec<_> = rows
        .iter()
        .flat_map(|u| {
            [u.email.clone(), u.first_name.to_lowercase(), u.last_name.to_lowercase()]
                .map(|t| (client_search::user_id.eq(u.id.clone()), client_search::term.eq(t)))
        })
        .collect();
    insert_chunks!(conn, client_search::table, terms, 5_000);
    Ok(())
}

fn seed_audit(conn: &mut DbConn, n: usize) -> QueryResult<()> {
    let start = Utc::now() - Duration::days(365);
    let mut done = 0;
    while done < n {
        let size = (n - done).min(100_000);
        let rows: Vec<AuditRow> = (done..done + size)
            .map(|i| AuditRow {
                id: crate::ids::new_id(),
                actor_id: None,
                account_id: None,
                action: MARK.into(),
                target_type: None,
                target_id: None,
                ip: Some("127.0.0.1".into()),
                user_agent: None,
                details: "{}".into(),
                created_at: now_micros(start + Duration::milliseconds(i as i64 * 20)),
            })
            .collect();
        insert_chunks!(conn, audit_log::table, rows, 2_000);
        done += size;
    }
    Ok(())
}
