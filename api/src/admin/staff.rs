//! Back-office staff: who holds which permission, disabling staff, and the "require two-factor
//! for staff" rule. Administrators hold every permission and have no `staff_members` row.
//! Permissions are read on every back-office request (from the pool's cache, which every change
//! here invalidates in every process: [`crate::db::cache`]), so a change takes effect at once,
//! not when an access token expires.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use keel_shared::access::{
    names_from_json, names_to_json, CreateStaffRequest, Permission, SecuritySettings, StaffMember, UpdateStaffRequest,
};
use keel_shared::auth::{Me, Role};

use crate::accounts::models::UserRow;
use crate::accounts::users::{create_user, find_user};
use crate::admin::settings;
use crate::audit::{self, Actor, Event};
use crate::db::cache::{self, Change};
use crate::db::{now_micros, DbConn};
use crate::error::ApiError;
use crate::identity::recovery::{issue_token, Purpose};
use crate::notifications::outbox::{self, Category, MailContext, Outgoing};
use crate::schema::{staff_members, users};

/// How long the "choose your password" link of a new staff account works.
pub const INVITE_TTL: Duration = Duration::hours(72);
const SECURITY_KEY: &str = "security";

/// A staff user's row: (permissions, disabled).
fn staff_row(conn: &mut DbConn, user_id: &str) -> Result<(Vec<Permission>, bool), ApiError> {
    let row: Option<(String, Option<chrono::NaiveDateTime>)> =
        staff_members::table.find(user_id).select((staff_members::permissions, staff_members::disabled_at)).first(conn).optional()?;
    Ok(row.map(|(p, d)| (names_from_json(&p), d.is_some())).unwrap_or_default())
}

pub fn security_settings(conn: &mut DbConn) -> Result<SecuritySettings, ApiError> {
    Ok(settings::get(conn, SECURITY_KEY)?.unwrap_or_default())
}

pub fn update_security_settings(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    new: &SecuritySettings,
    actor: &Actor,
) -> Result<SecuritySettings, ApiError> {
    crate::db::transaction(conn, |conn| {
        let before = security_settings(conn)?;
        settings::set(conn, now, SECURITY_KEY, new)?;
        cache::publish(conn, Change::AllAccessChanged)?;
        audit::record(
            conn,
            now,
            actor,
            Event::new("settings.security_updated").details(serde_json::json!({ "before": before, "after": new })),
        )?;
        Ok(new.clone())
    })
}

/// What a back-office user may do, as stored now (not as their token says). Loaded once per
/// back-office request, before the handler's extractors run.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffAccess {
    pub role: Role,
    pub permissions: Vec<Permission>,
    pub disabled: bool,
    /// Two-factor is required for staff and this user has not turned it on.
    pub lacks_required_two_factor: bool,
}

pub fn access(conn: &mut DbConn, user_id: &str) -> Result<StaffAccess, ApiError> {
    let user = find_user(conn, user_id).map_err(|_| ApiError::Unauthenticated("the account no longer exists".into()))?;
    let (permissions, disabled) = if user.role() == Role::Staff { staff_row(conn, user_id)? } else { (Vec::new(), false) };
    let lacks_required_two_factor =
        user.role() == Role::Staff && user.totp_enabled_at.is_none() && security_settings(conn)?.require_staff_two_factor;
    Ok(StaffAccess { role: user.role(), permissions, disabled, lacks_required_two_factor })
}

impl StaffAccess {
    /// Lets an administrator through, or an enabled staff member holding `needed` and meeting
    /// the two-factor rule. `needed: None` means administrators only.
    pub fn allows(&self, needed: Option<Permission>) -> Result<(), ApiError> {
        match self.role {
            Role::Admin => Ok(()),
            Role::Client => Err(ApiError::Forbidden("this needs a back-office account".into())),
            Role::Staff => {
                if self.disabled {
                    return Err(ApiError::Forbidden("this staff account is disabled".into()));
                }
                let Some(needed) = needed else {
                    return Err(ApiError::Forbidden("this needs an administrator account".into()));
                };
                if self.lacks_required_two_factor {
                    return Err(ApiError::TwoFactorRequired);
                }
                if self.permissions.contains(&needed) {
                    Ok(())
                } else {
                    Err(ApiError::Forbidden(format!("this needs the '{}' permission", needed.as_str())))
                }
            }
        }
    }
}

/// Whether a user may not sign in because their staff account is disabled.
pub fn is_disabled(conn: &mut DbConn, user: &UserRow) -> Result<bool, ApiError> {
    Ok(user.role() == Role::Staff && staff_row(conn, &user.id)?.1)
}

/// The user's own view of their account, with the permissions they hold now.
pub fn me(conn: &mut DbConn, user: &UserRow) -> Result<Me, ApiError> {
    let mut me = user.to_me();
    if user.role() == Role::Staff {
        me.permissions = staff_row(conn, &user.id)?.0;
    }
    Ok(me)
}

fn to_member(conn: &mut DbConn, user: &UserRow) -> Result<StaffMember, ApiError> {
    let (permissions, disabled) = match user.role() {
        Role::Staff => staff_row(conn, &user.id)?,
        _ => (Permission::ALL.to_vec(), false),
    };
    Ok(StaffMember {
        id: user.id.clone().into(),
        email: user.email.clone(),
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        role: user.role(),
        permissions,
        two_factor: user.totp_enabled_at.is_some(),
        disabled,
        created_at: user.created_at.and_utc(),
    })
}

/// Administrators and staff, administrators first.
pub fn list(conn: &mut DbConn) -> Result<Vec<StaffMember>, ApiError> {
    let rows: Vec<UserRow> = users::table
        .filter(users::role.eq_any([Role::Admin.as_str(), Role::Staff.as_str()]))
        .order((users::role.asc(), users::created_at.asc()))
        .select(UserRow::as_select())
        .load(conn)?;
    rows.iter().map(|u| to_member(conn, u)).collect()
}

fn back_office_user(conn: &mut DbConn, id: &str) -> Result<UserRow, ApiError> {
    find_user(conn, id).ok().filter(|u| u.role().is_back_office()).ok_or_else(|| ApiError::not_found("staff member"))
}

fn write_permissions(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    user_id: &str,
    role: Role,
    perms: &[Permission],
    disabled: bool,
) -> Result<(), ApiError> {
    let at = now_micros(now);
    diesel::delete(staff_members::table.find(user_id)).execute(conn)?;
    if role == Role::Staff {
        diesel::insert_into(staff_members::table)
            .values((
                staff_members::user_id.eq(user_id),
                staff_members::permissions.eq(names_to_json(perms)),
                staff_members::disabled_at.eq(disabled.then_some(at)),
                staff_members::updated_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Adds an administrator or staff member and e-mails them a link to choose their password.
pub fn create(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    req: &CreateStaffRequest,
    actor: &Actor,
    mail: &MailContext,
) -> Result<StaffMember, ApiError> {
    // Nobody knows this password: the e-mailed link sets the real one.
    let placeholder = crate::identity::password::hash(&crate::identity::tokens::new_refresh_token())?;
    crate::db::transaction(conn, |conn| {
        let user = create_user(conn, now, &req.email, &placeholder, &req.first_name, &req.last_name, req.role)?;
        write_permissions(conn, now, &user.id, req.role, &req.permissions, false)?;
        let token = issue_token(conn, now, &user.id, Purpose::ResetPassword, INVITE_TTL)?;
        let inviter = match &actor.user_id {
            Some(id) => find_user(conn, id).map(|u| format!("{} {}", u.first_name, u.last_name))?,
            None => "An administrator".into(),
        };
        let vars = serde_json::json!({
            "first_name": user.first_name,
            "invited_by": inviter,
            "role": req.role.as_str(),
            "password_url": format!("{}/reset-password?token={token}", mail.public_url),
        });
        outbox::queue_email(
            conn,
            now,
            mail,
            Outgoing { to: &user.email, user_id: Some(&user.id), template: "staff_invite", category: Category::Transactional, vars: &vars },
        )?;
        let member = to_member(conn, &user)?;
        audit::record(
            conn,
            now,
            actor,
            Event::new("staff.created")
                .account(&user.id)
                .target("user", &user.id)
                .details(serde_json::json!({ "role": member.role, "permissions": member.permissions })),
        )?;
        Ok(member)
    })
}

/// Changes a back-office user's role, permissions or access; disabling ends their sessions.
pub fn update(conn: &mut DbConn, now: DateTime<Utc>, id: &str, req: &UpdateStaffRequest, actor: &Actor) -> Result<StaffMember, ApiError> {
    if actor.user_id.as_deref() == Some(id) {
        return Err(ApiError::Conflict {
            code: "own_account",
            detail: "you cannot change your own role or access; ask another administrator".into(),
            field: None,
        });
    }
    if req.role == Role::Admin && req.disabled {
        return Err(ApiError::field("disabled", "an administrator cannot be disabled; make them staff first"));
    }
    crate::db::transaction(conn, |conn| {
        let user = back_office_user(conn, id)?;
        let before = to_member(conn, &user)?;
        diesel::update(users::table.find(id))
            .set((users::role.eq(req.role.as_str()), users::updated_at.eq(now_micros(now))))
            .execute(conn)?;
        write_permissions(conn, now, id, req.role, &req.permissions, req.disabled)?;
        if req.disabled && !before.disabled {
            crate::identity::sessions::revoke_all(conn, now, id)?;
        }
        cache::publish(conn, Change::UserChanged(id.to_string()))?;
        let user = find_user(conn, id)?;
        let after = to_member(conn, &user)?;
        let summary = |m: &StaffMember| serde_json::json!({ "role": m.role, "permissions": m.permissions, "disabled": m.disabled });
        audit::record(
            conn,
            now,
            actor,
            Event::new("staff.updated")
                .account(id)
                .target("user", id)
                .details(serde_json::json!({ "before": summary(&before), "after": summary(&after) })),
        )?;
        Ok(after)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_decisions() {
        let staff = StaffAccess {
            role: Role::Staff,
            permissions: vec![Permission::ClientsRead],
            disabled: false,
            lacks_required_two_factor: false,
        };
        assert!(staff.allows(Some(Permission::ClientsRead)).is_ok());
        assert!(matches!(staff.allows(Some(Permission::AuditRead)), Err(ApiError::Forbidden(_))));
        assert!(matches!(staff.allows(None), Err(ApiError::Forbidden(_))));
        let no_2fa = StaffAccess { lacks_required_two_factor: true, ..staff.clone() };
        assert!(matches!(no_2fa.allows(Some(Permission::ClientsRead)), Err(ApiError::TwoFactorRequired)));
        let off = StaffAccess { disabled: true, ..staff };
        assert!(off.allows(Some(Permission::ClientsRead)).is_err());
        let admin = StaffAccess { role: Role::Admin, permissions: vec![], disabled: false, lacks_required_two_factor: false };
        assert!(admin.allows(None).is_ok());
    }
}
