//! Back-office use cases that are not another domain's: "log in as client".

use chrono::{DateTime, Utc};

use crate::accounts::models::UserRow;
use crate::accounts::users::find_user;
use crate::audit::{self, Event};
use crate::db::DbConn;
use crate::error::ApiError;

/// "Log in as client": checks the target is a client account and records the start in the
/// client's audit trail. Answers the client and the admin's e-mail (for the SPA's banner).
pub fn start_impersonation(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: &crate::audit::Actor,
    admin_id: &str,
    client_id: &str,
) -> Result<(UserRow, String), ApiError> {
    let client = find_user(conn, client_id)?;
    if client.role() != keel_shared::auth::Role::Client {
        return Err(ApiError::Conflict { code: "not_a_client", detail: "only client accounts can be viewed this way".into(), field: None });
    }
    let admin_email = find_user(conn, admin_id)?.email;
    audit::record(
        conn,
        now,
        actor,
        Event::new("admin.impersonation_started")
            .account(&client.id)
            .target("user", &client.id)
            .details(serde_json::json!({ "admin": admin_email })),
    )?;
    Ok((client, admin_email))
}
