//! Server carts of signed-in clients: one row per user holding `shared::cart::Cart` as JSON.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::error::ApiError;
use crate::schema::carts;

/// The stored cart's JSON, if the user has one.
pub fn body(conn: &mut DbConn, user_id: &str) -> Result<Option<String>, ApiError> {
    Ok(carts::table.find(user_id).select(carts::body).first(conn).optional()?)
}

/// Stores (replaces) the user's cart.
pub fn store(conn: &mut DbConn, user_id: &str, body: &str, at: NaiveDateTime) -> Result<(), ApiError> {
    crate::each_backend!(conn, c => diesel::insert_into(carts::table)
        .values((carts::user_id.eq(user_id), carts::body.eq(body), carts::updated_at.eq(at)))
        .on_conflict(carts::user_id)
        .do_update()
        .set((carts::body.eq(body), carts::updated_at.eq(at)))
        .execute(c))?;
    Ok(())
}

/// Makes sure the user has a cart row and locks it until the transaction ends (PostgreSQL: the
/// row lock; SQLite: the write lock), so a read-modify-write of the cart cannot lose a
/// concurrent one.
pub fn lock(conn: &mut DbConn, user_id: &str, at: NaiveDateTime) -> Result<(), ApiError> {
    let row = (carts::user_id.eq(user_id), carts::body.eq("{}"), carts::updated_at.eq(at));
    crate::each_backend!(&mut *conn, c => diesel::insert_into(carts::table).values(row).on_conflict_do_nothing().execute(c))?;
    diesel::update(carts::table.find(user_id)).set(carts::updated_at.eq(at)).execute(conn)?;
    Ok(())
}

/// Empties the user's cart.
pub fn clear(conn: &mut DbConn, user_id: &str) -> Result<(), ApiError> {
    diesel::delete(carts::table.find(user_id)).execute(conn)?;
    Ok(())
}
