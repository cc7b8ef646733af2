//! Who is asking: the [`Auth`] extractor accepts a session's access token (JWT) or an API key
//! (`keel_…`), both as `Authorization: Bearer`. [`BackOffice`] additionally requires an
//! administrator or a staff member holding the route's permission, [`AdminOnly`] an
//! administrator, and [`ForAccount`] the caller's own client account or one they are a team
//! member of. Roles, permissions and API-key scopes are enforced here, in the API, whatever the
//! SPA shows:
//! - a key needs `read` for GET, `write` for anything else, and `admin` for /api/v1/admin;
//! - managing keys, passwords and sessions needs a signed-in session, never a key.
//!
//! What needs the database (whether a token's session is live, a key's owner, a staff member's
//! current permissions, a membership) is loaded by the [`identify`] middleware before any
//! extractor runs; the extractors then decide synchronously. So a refusal always comes first,
//! before the body is read or validated.

use std::future::{ready, Ready};
use std::marker::PhantomData;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{header, Method};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use keel_shared::access::{MemberPermission, Permission};
use keel_shared::auth::{ApiScope, Role};

use crate::accounts::api_keys::{self, PREFIX};
use crate::accounts::service::ClientMeta;
use crate::accounts::{service, staff, team};
use crate::admin::audit::Actor;
use crate::accounts::tokens::Claims;
use crate::db;
use crate::error::ApiError;
use crate::state::AppState;

/// A verified caller.
#[derive(Debug, Clone)]
pub struct Auth {
    /// For an API key caller, `claims.sid` is the key id.
    pub claims: Claims,
}

impl Auth {
    pub fn user_id(&self) -> &str {
        &self.claims.sub
    }
    pub fn role(&self) -> Role {
        self.claims.role
    }
    /// The session id (for session callers).
    pub fn session_id(&self) -> &str {
        &self.claims.sid
    }
}

/// Paths only a signed-in person may use, not an API key.
const SESSION_ONLY: &[&str] = &["/api/v1/me/api-keys", "/api/v1/me/password", "/api/v1/me/sessions", "/api/v1/me/2fa"];

fn bearer(req: &HttpRequest) -> Result<String, ApiError> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthenticated("sign in first (no Authorization header)".into()))?;
    let value = value.to_str().map_err(|_| ApiError::Unauthenticated("the Authorization header is not text".into()))?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::Unauthenticated("the Authorization header must be 'Bearer <token>'".into()))
}

fn required_scope(method: &Method, path: &str) -> ApiScope {
    if path.starts_with("/api/v1/admin") {
        ApiScope::Admin
    } else if method == Method::GET || method == Method::HEAD {
        ApiScope::Read
    } else {
        ApiScope::Write
    }
}

/// The areas the caller may use in the account named by `X-Keel-Account` (`None`: no accepted
/// membership), resolved by [`identify`].
#[derive(Debug, Clone)]
struct AccountAccess {
    account_id: String,
    areas: Option<Vec<MemberPermission>>,
}

/// Marks a request whose access token belongs to a session that was signed out, revoked or has
/// expired (found by [`identify`]).
#[derive(Debug, Clone, Copy)]
struct SessionEnded;

/// Middleware: reads from the database what the extractors then decide on, before any extractor
/// runs, so that a refusal always comes before the body is even read and extractors stay
/// synchronous: whether an access token's session is still live; an API key's identity; for
/// /api/v1/admin and for staff, the back-office user's current role and permissions
/// ([`staff::StaffAccess`]); with `X-Keel-Account`, the caller's membership there.
pub async fn identify<B: MessageBody + 'static>(req: ServiceRequest, next: Next<B>) -> Result<ServiceResponse<actix_web::body::EitherBody<B>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let token = bearer(req.request()).ok();
    let now = state.clock.now();
    let back_office = req.path().starts_with("/api/v1/admin");
    let account = req.headers().get(ACCOUNT_HEADER).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    // Who, when it can be told without the database (a valid JWT), and the session it lives by.
    let claims = token.as_deref().filter(|t| !t.starts_with(PREFIX)).and_then(|t| state.jwt.verify(t, now).ok());
    let session = claims.as_ref().map(|c| c.session().to_string());
    let from_jwt = claims.map(|c| (c.sub, c.role));
    let key = token.filter(|t| t.starts_with(PREFIX));
    if key.is_none() && session.is_none() {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    let ip = req.peer_addr().map(|a| a.ip().to_string());
    let loaded = db::run(&state.pool, move |c| {
        if let Some(session) = &session {
            if !service::session_is_live(c, now, session)? {
                return Ok((None, None, None, true));
            }
        }
        let key = key.map(|k| api_keys::authenticate(c, now, &k, ip.as_deref())).transpose()?;
        let who = key.as_ref().map(|k| (k.user_id.clone(), k.role)).or(from_jwt);
        // Staff are looked up on every request (a disabled staff member's token stops working at
        // once); others only in the back office.
        let staff = match &who {
            Some((id, role)) if (back_office && role.is_back_office()) || *role == Role::Staff => Some(staff::access(c, id)?),
            _ => None,
        };
        let account = match (&who, account) {
            (Some((id, _)), Some(account)) if *id != account => Some(AccountAccess { areas: team::membership(c, id, &account)?, account_id: account }),
            _ => None,
        };
        Ok::<_, ApiError>((key, staff, account, false))
    })
    .await;
    match loaded {
        Ok((key, staff, account, ended)) => {
            let mut ext = req.extensions_mut();
            if ended {
                ext.insert(SessionEnded);
            }
            if let Some(k) = key {
                ext.insert(k);
            }
            if let Some(s) = staff {
                ext.insert(s);
            }
            if let Some(a) = account {
                ext.insert(a);
            }
        }
        Err(e) => return Ok(req.error_response(e).map_into_right_body()),
    }
    Ok(next.call(req).await?.map_into_left_body())
}

fn authenticate(req: &HttpRequest) -> Result<Auth, ApiError> {
    if req.extensions().get::<staff::StaffAccess>().is_some_and(|a| a.disabled) {
        return Err(ApiError::Forbidden("this staff account is disabled".into()));
    }
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| ApiError::internal("application state is missing"))?;
    let token = bearer(req)?;
    let now = state.clock.now();
    let path = req.path();
    if !token.starts_with(PREFIX) {
        let claims = state.jwt.verify(&token, now)?;
        if req.extensions().get::<SessionEnded>().is_some() {
            return Err(ApiError::Unauthenticated("this session has ended (signed out or revoked); please sign in again".into()));
        }
        if claims.imp.is_some() && (SESSION_ONLY.iter().any(|p| path.starts_with(p)) || path.starts_with("/api/v1/admin")) {
            return Err(ApiError::Forbidden("not while viewing as a client; return to the admin first".into()));
        }
        return Ok(Auth { claims });
    }
    if SESSION_ONLY.iter().any(|p| path.starts_with(p)) {
        return Err(ApiError::Forbidden("this needs a signed-in session, not an API key".into()));
    }
    let key = req
        .extensions()
        .get::<api_keys::KeyIdentity>()
        .cloned()
        .ok_or_else(|| ApiError::Unauthenticated("the API key is unknown".into()))?;
    let needed = required_scope(req.method(), path);
    if !key.scopes.contains(&needed) {
        return Err(ApiError::Forbidden(format!("this API key lacks the '{}' scope", needed.as_str())));
    }
    Ok(Auth {
        claims: Claims { sub: key.user_id, sid: key.key_id, role: key.role, iat: now.timestamp(), exp: now.timestamp() + 60, imp: None },
    })
}

impl FromRequest for Auth {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

impl Auth {
    /// The audit actor: the person behind the request (the administrator while they view the
    /// portal as a client, with the client's account as the one acted on).
    pub fn actor(&self, req: &HttpRequest) -> Actor {
        let mut actor = ClientMeta::of(req).actor(Some(self.claims.imp.as_deref().unwrap_or(self.user_id())));
        if self.claims.imp.is_some() {
            actor.on_behalf_of = Some(self.user_id().to_string());
        }
        actor
    }
}

/// What a back-office route needs: a permission, or (`None`) an administrator.
pub trait Needs {
    const PERMISSION: Option<Permission>;
}

/// Marker types naming what a [`BackOffice`] route needs, e.g. `BackOffice<can::ClientsRead>`.
pub mod can {
    use keel_shared::access::Permission;

    macro_rules! needs {
        ($($name:ident => $perm:expr),+ $(,)?) => {$(
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl super::Needs for $name {
                const PERMISSION: Option<Permission> = $perm;
            }
        )+};
    }

    needs! {
        Administer => None,
        ClientsRead => Some(Permission::ClientsRead),
        ClientsWrite => Some(Permission::ClientsWrite),
        ClientsImpersonate => Some(Permission::ClientsImpersonate),
        AutomationManage => Some(Permission::AutomationManage),
        EmailsRead => Some(Permission::EmailsRead),
        EmailsManage => Some(Permission::EmailsManage),
        AuditRead => Some(Permission::AuditRead),
    }
}

/// A verified back-office caller allowed to use the route: an administrator, or a staff member
/// holding `N`'s permission (checked against the database on every request; see
/// [`staff::authorize`]).
#[derive(Debug, Clone)]
pub struct BackOffice<N: Needs>(pub Auth, PhantomData<N>);

/// Routes only administrators may use (staff management, platform security settings).
pub type AdminOnly = BackOffice<can::Administer>;

impl<N: Needs> FromRequest for BackOffice<N> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req).and_then(|auth| {
            if !auth.role().is_back_office() {
                return Err(ApiError::Forbidden("this needs a back-office account".into()));
            }
            let access = req.extensions().get::<staff::StaffAccess>().cloned();
            access.ok_or_else(|| ApiError::internal("back-office access was not loaded (route outside /api/v1/admin?)"))?.allows(N::PERMISSION)?;
            Ok(BackOffice(auth, PhantomData))
        }))
    }
}

impl<N: Needs> BackOffice<N> {
    /// The audit actor for this request.
    pub fn actor(&self, req: &HttpRequest) -> Actor {
        ClientMeta::of(req).actor(Some(self.0.user_id()))
    }
}

/// The header a team member sends to act for an account they were invited to.
pub const ACCOUNT_HEADER: &str = "X-Keel-Account";

/// OpenAPI description of the [`ACCOUNT_HEADER`] parameter.
#[derive(utoipa::IntoParams)]
#[into_params(names("X-Keel-Account"), parameter_in = Header)]
#[allow(dead_code)]
pub struct AccountHeader(
    /// Act for this client account (its id, from `GET /me/memberships`) as a team member; leave
    /// out for your own account.
    Option<String>,
);

/// An area of a client account a route belongs to, e.g. `ForAccount<area::Billing>`.
pub trait Area {
    const AREA: MemberPermission;
}

pub mod area {
    use keel_shared::access::MemberPermission;

    macro_rules! areas {
        ($($name:ident),+) => {$(
            #[derive(Debug, Clone, Copy)]
            pub struct $name;
            impl super::Area for $name {
                const AREA: MemberPermission = MemberPermission::$name;
            }
        )+};
    }
    areas!(Billing, Services, Domains, Support);
}

/// A caller acting for a client account: their own, or (with the `X-Keel-Account` header) one
/// they are a team member of with access to area `A`. Someone else's account without an accepted
/// membership is answered 404, as if it did not exist.
#[derive(Debug, Clone)]
pub struct ForAccount<A: Area> {
    pub auth: Auth,
    /// Whose account the request is about.
    pub account_id: String,
    _area: PhantomData<A>,
}

impl<A: Area> FromRequest for ForAccount<A> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req).and_then(|auth| {
            let header = req.headers().get(ACCOUNT_HEADER).map(|v| v.to_str().map(str::trim));
            let own = |auth: Auth| Ok(ForAccount { account_id: auth.user_id().to_string(), auth, _area: PhantomData });
            match header {
                None => own(auth),
                Some(Err(_)) => Err(ApiError::bad_request("invalid_header", format!("the {ACCOUNT_HEADER} header is not text"))),
                Some(Ok(id)) if id.is_empty() || id == auth.user_id() => own(auth),
                Some(Ok(id)) => {
                    let access = req.extensions().get::<AccountAccess>().cloned().filter(|a| a.account_id == id);
                    let access = access.ok_or_else(|| ApiError::internal("account membership was not loaded"))?;
                    team::allows(access.areas.as_deref(), A::AREA)?;
                    Ok(ForAccount { account_id: access.account_id, auth, _area: PhantomData })
                }
            }
        }))
    }
}

impl<A: Area> ForAccount<A> {
    /// The audit actor; the account acted on goes into the account's trail.
    pub fn actor(&self, req: &HttpRequest) -> Actor {
        let mut actor = self.auth.actor(req);
        if actor.user_id.as_deref() != Some(self.account_id.as_str()) {
            actor.on_behalf_of = Some(self.account_id.clone());
        }
        actor
    }
}
