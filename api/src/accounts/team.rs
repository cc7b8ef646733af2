//! Team members: people a client invites by e-mail to their account with a set of areas
//! (billing, services, domains, support). An invitation is a row with a hashed single-use token;
//! accepting links it to the invitee's own login (a new one, or the one they already have). A
//! member acts for the account by sending `X-Keel-Account` (see [`crate::http::auth::ForAccount`]).

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use diesel::prelude::*;
use keel_shared::access::{
    names_from_json, names_to_json, AcceptInvitationRequest, Invitation, InviteMemberRequest, MemberPermission, MemberStatus, Membership,
    TeamMember, UpdateMemberRequest,
};
use keel_shared::auth::Role;
use keel_shared::validation::normalize_email;

use crate::accounts::models::UserRow;
use crate::accounts::users::{create_user, find_by_email, find_user};
use crate::audit::{self, Actor, Event};
use crate::db::{now_micros, DbConn};
use crate::error::ApiError;
use crate::identity::limits;
use crate::identity::policy;
use crate::identity::service::{self, ClientMeta};
use crate::identity::sessions::IssuedSession;
use crate::identity::tokens::{hash_token, new_refresh_token};
use crate::ids;
use crate::notifications::outbox::{self, Category, MailContext, Outgoing};
use crate::schema::{account_members, client_profiles, users};

/// How long an invitation link works.
pub const INVITE_TTL: Duration = Duration::days(7);

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = account_members)]
struct MemberRow {
    id: String,
    account_id: String,
    email: String,
    user_id: Option<String>,
    permissions: String,
    token_hash: Option<String>,
    invited_by: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    accepted_at: Option<NaiveDateTime>,
}

impl MemberRow {
    fn permissions(&self) -> Vec<MemberPermission> {
        names_from_json(&self.permissions)
    }
}

fn describe(perms: &[MemberPermission]) -> String {
    perms.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
}

/// The name an account is shown by: its company, or its owner's name.
fn account_name(conn: &mut DbConn, account_id: &str) -> Result<String, ApiError> {
    let owner = find_user(conn, account_id)?;
    let company: Option<Option<String>> =
        client_profiles::table.find(account_id).select(client_profiles::company).first(conn).optional()?;
    Ok(company.flatten().filter(|c| !c.trim().is_empty()).unwrap_or_else(|| format!("{} {}", owner.first_name, owner.last_name)))
}

fn to_member(conn: &mut DbConn, now: DateTime<Utc>, row: &MemberRow) -> Result<TeamMember, ApiError> {
    let name = match &row.user_id {
        Some(id) => users::table
            .find(id)
            .select((users::first_name, users::last_name))
            .first::<(String, String)>(conn)
            .optional()?
            .map(|(f, l)| format!("{f} {l}")),
        None => None,
    };
    let status = match row.accepted_at {
        Some(_) => MemberStatus::Active,
        None if row.expires_at <= now_micros(now) => MemberStatus::Expired,
        None => MemberStatus::Invited,
    };
    Ok(TeamMember {
        id: row.id.clone().into(),
        email: row.email.clone(),
        name,
        permissions: row.permissions(),
        status,
        invited_at: row.created_at.and_utc(),
        accepted_at: row.accepted_at.map(|t| t.and_utc()),
    })
}

fn owned_row(conn: &mut DbConn, account_id: &str, id: &str) -> Result<MemberRow, ApiError> {
    account_members::table
        .find(id)
        .filter(account_members::account_id.eq(account_id))
        .select(MemberRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("team member"))
}

/// The areas `member` may use in `account` (an accepted membership), or `None`.
pub fn membership(conn: &mut DbConn, member: &str, account: &str) -> Result<Option<Vec<MemberPermission>>, ApiError> {
    let row: Option<MemberRow> = account_members::table
        .filter(account_members::account_id.eq(account))
        .filter(account_members::user_id.eq(member))
        .filter(account_members::accepted_at.is_not_null())
        .select(MemberRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(|r| r.permissions()))
}

/// Lets a member use `area` of an account: no membership at all is a 404 (the account is not
/// theirs to know about), a membership without the area a 403.
pub fn allows(membership: Option<&[MemberPermission]>, area: MemberPermission) -> Result<(), ApiError> {
    let areas = membership.ok_or_else(|| ApiError::not_found("account"))?;
    if areas.contains(&area) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!("your access to this account does not include {}", area.as_str())))
    }
}

/// The account's members and open invitations, newest first.
pub fn list(conn: &mut DbConn, now: DateTime<Utc>, account_id: &str) -> Result<Vec<TeamMember>, ApiError> {
    let rows: Vec<MemberRow> = account_members::table
        .filter(account_members::account_id.eq(account_id))
        .order((account_members::created_at.desc(), account_members::id.desc()))
        .select(MemberRow::as_select())
        .load(conn)?;
    rows.iter().map(|r| to_member(conn, now, r)).collect()
}

/// Invites `req.email` to the account (again, with a fresh link, when an invitation is pending).
pub fn invite(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    account_id: &str,
    req: &InviteMemberRequest,
    actor: &Actor,
    mail: &MailContext,
) -> Result<TeamMember, ApiError> {
    let owner = find_user(conn, account_id)?;
    if owner.role() != Role::Client {
        return Err(ApiError::Forbidden("only client accounts have team members".into()));
    }
    let email = normalize_email(&req.email);
    if email == owner.email {
        return Err(ApiError::field("email", "that is your own address"));
    }
    if find_by_email(conn, &email)?.is_some_and(|u| u.role().is_back_office()) {
        return Err(ApiError::field("email", "this address belongs to a staff account; invite another address"));
    }
    limits::hit(conn, now, limits::INVITES_PER_ACCOUNT, account_id)?;
    let token = new_refresh_token();
    let at = now_micros(now);
    crate::db::transaction(conn, |conn| {
        let existing: Option<MemberRow> = account_members::table
            .filter(account_members::account_id.eq(account_id))
            .filter(account_members::email.eq(&email))
            .select(MemberRow::as_select())
            .first(conn)
            .optional()?;
        let id = match existing {
            Some(row) if row.accepted_at.is_some() => {
                return Err(ApiError::Conflict {
                    code: "already_member",
                    detail: "this person is already a member; change their access instead".into(),
                    field: Some("email".into()),
                });
            }
            Some(row) => {
                diesel::update(account_members::table.find(&row.id))
                    .set((
                        account_members::permissions.eq(names_to_json(&req.permissions)),
                        account_members::token_hash.eq(Some(hash_token(&token))),
                        account_members::created_at.eq(at),
                        account_members::expires_at.eq(now_micros(now + INVITE_TTL)),
                    ))
                    .execute(conn)?;
                row.id
            }
            None => {
                let row = MemberRow {
                    id: ids::new_id(),
                    account_id: account_id.to_string(),
                    email: email.clone(),
                    user_id: None,
                    permissions: names_to_json(&req.permissions),
                    token_hash: Some(hash_token(&token)),
                    invited_by: actor.user_id.clone().unwrap_or_else(|| account_id.to_string()),
                    created_at: at,
                    expires_at: now_micros(now + INVITE_TTL),
                    accepted_at: None,
                };
                diesel::insert_into(account_members::table).values(&row).execute(conn)?;
                row.id
            }
        };
        let vars = serde_json::json!({
            "inviter": format!("{} {}", owner.first_name, owner.last_name),
            "account_name": account_name(conn, account_id)?,
            "permissions": describe(&req.permissions),
            "accept_url": format!("{}/team/accept?token={token}", mail.public_url),
        });
        outbox::queue_email(
            conn,
            now,
            mail,
            Outgoing { to: &email, user_id: None, template: "team_invite", category: Category::Transactional, vars: &vars },
        )?;
        audit::record(
            conn,
            now,
            actor,
            Event::new("team.invited")
                .account(account_id)
                .target("team_member", &id)
                .details(serde_json::json!({ "email": email, "permissions": req.permissions })),
        )?;
        let row = owned_row(conn, account_id, &id)?;
        to_member(conn, now, &row)
    })
}

pub fn update(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    account_id: &str,
    id: &str,
    req: &UpdateMemberRequest,
    actor: &Actor,
) -> Result<TeamMember, ApiError> {
    crate::db::transaction(conn, |conn| {
        let before = owned_row(conn, account_id, id)?;
        diesel::update(account_members::table.find(id))
            .set(account_members::permissions.eq(names_to_json(&req.permissions)))
            .execute(conn)?;
        audit::record(
            conn,
            now,
            actor,
            Event::new("team.permissions_changed")
                .account(account_id)
                .target("team_member", id)
                .details(serde_json::json!({ "email": before.email, "before": before.permissions(), "after": req.permissions })),
        )?;
        let row = owned_row(conn, account_id, id)?;
        to_member(conn, now, &row)
    })
}

/// Removes a member or withdraws an invitation; their access ends with the next request.
pub fn remove(conn: &mut DbConn, now: DateTime<Utc>, account_id: &str, id: &str, actor: &Actor) -> Result<(), ApiError> {
    crate::db::transaction(conn, |conn| {
        let row = owned_row(conn, account_id, id)?;
        diesel::delete(account_members::table.find(id)).execute(conn)?;
        audit::record(
            conn,
            now,
            actor,
            Event::new("team.removed").account(account_id).target("team_member", id).details(serde_json::json!({ "email": row.email })),
        )
    })
}

fn open_invitation(conn: &mut DbConn, now: DateTime<Utc>, token: &str) -> Result<MemberRow, ApiError> {
    account_members::table
        .filter(account_members::token_hash.eq(hash_token(token)))
        .filter(account_members::accepted_at.is_null())
        .filter(account_members::expires_at.gt(now_micros(now)))
        .select(MemberRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::NotFound("this invitation is invalid, was already used or has expired; ask for a new one".into()))
}

/// What an invitation link offers.
pub fn invitation(conn: &mut DbConn, now: DateTime<Utc>, token: &str) -> Result<Invitation, ApiError> {
    let row = open_invitation(conn, now, token)?;
    Ok(Invitation {
        account_name: account_name(conn, &row.account_id)?,
        email: row.email.clone(),
        permissions: row.permissions(),
        existing_account: find_by_email(conn, &row.email)?.is_some(),
        expires_at: row.expires_at.and_utc(),
    })
}

fn link(conn: &mut DbConn, now: DateTime<Utc>, row: &MemberRow, user: &UserRow, actor: &Actor) -> Result<(), ApiError> {
    let claimed = diesel::update(account_members::table.find(&row.id).filter(account_members::accepted_at.is_null()))
        .set((
            account_members::user_id.eq(Some(&user.id)),
            account_members::accepted_at.eq(Some(now_micros(now))),
            account_members::token_hash.eq(None::<String>),
        ))
        .execute(conn)?;
    if claimed != 1 {
        return Err(ApiError::NotFound("this invitation was already used".into()));
    }
    audit::record(
        conn,
        now,
        actor,
        Event::new("team.joined")
            .account(&row.account_id)
            .target("user", &user.id)
            .details(serde_json::json!({ "email": user.email, "permissions": row.permissions() })),
    )
}

/// Accepts an invitation by opening a login for the invited address (which the link proves the
/// invitee reads, so it counts as confirmed) and signs in.
pub fn accept_new(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    token: &str,
    req: &AcceptInvitationRequest,
    meta: &ClientMeta,
    mail: &MailContext,
) -> Result<(UserRow, IssuedSession), ApiError> {
    let hashed = crate::identity::password::hash(&req.password)?;
    crate::db::transaction(conn, |conn| {
        let row = open_invitation(conn, now, token)?;
        if find_by_email(conn, &row.email)?.is_some() {
            return Err(ApiError::Conflict {
                code: "account_exists",
                detail: "this address already has a login; sign in and accept the invitation from there".into(),
                field: None,
            });
        }
        policy::check("password", &req.password, &row.email)?;
        let user = create_user(conn, now, &row.email, &hashed, &req.first_name, &req.last_name, Role::Client)?;
        diesel::update(users::table.find(&user.id)).set(users::email_verified_at.eq(Some(now_micros(now)))).execute(conn)?;
        link(conn, now, &row, &user, &meta.actor(Some(&user.id)))?;
        let session = service::complete_login(conn, now, &user, None, meta, mail, "invitation")?;
        Ok((find_user(conn, &user.id)?, session))
    })
}

/// Accepts an invitation with the login the caller already has (the invited address must be theirs).
pub fn accept_existing(conn: &mut DbConn, now: DateTime<Utc>, token: &str, user_id: &str, actor: &Actor) -> Result<Membership, ApiError> {
    crate::db::transaction(conn, |conn| {
        let row = open_invitation(conn, now, token)?;
        let user = find_user(conn, user_id)?;
        if user.email != row.email {
            return Err(ApiError::Forbidden(format!("this invitation was sent to {}; sign in with that address to accept it", row.email)));
        }
        if user.role() != Role::Client {
            return Err(ApiError::Forbidden("staff accounts cannot join a client's team".into()));
        }
        link(conn, now, &row, &user, actor)?;
        memberships(conn, user_id)?
            .into_iter()
            .find(|m| m.account_id.as_str() == row.account_id)
            .ok_or_else(|| ApiError::internal("membership vanished"))
    })
}

/// The accounts `user_id` may act for.
pub fn memberships(conn: &mut DbConn, user_id: &str) -> Result<Vec<Membership>, ApiError> {
    let rows: Vec<MemberRow> = account_members::table
        .filter(account_members::user_id.eq(user_id))
        .filter(account_members::accepted_at.is_not_null())
        .order(account_members::accepted_at.asc())
        .select(MemberRow::as_select())
        .load(conn)?;
    rows.iter()
        .map(|r| {
            Ok(Membership {
                account_id: r.account_id.clone().into(),
                account_name: account_name(conn, &r.account_id)?,
                permissions: r.permissions(),
                accepted_at: r.accepted_at.unwrap_or(r.created_at).and_utc(),
            })
        })
        .collect()
}

/// The member leaves an account.
pub fn leave(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str, account_id: &str, actor: &Actor) -> Result<(), ApiError> {
    crate::db::transaction(conn, |conn| {
        let n = diesel::delete(
            account_members::table.filter(account_members::account_id.eq(account_id)).filter(account_members::user_id.eq(user_id)),
        )
        .execute(conn)?;
        if n == 0 {
            return Err(ApiError::not_found("membership"));
        }
        audit::record(conn, now, actor, Event::new("team.left").account(account_id).target("user", user_id))
    })
}
