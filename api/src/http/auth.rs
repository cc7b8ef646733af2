//! Who is asking: the [`Auth`] extractor accepts a session's access token (JWT) or an API key
//! (`keel_…`), both as `Authorization: Bearer`. [`BackOffice`] additionally requires an
//! administrator or a staff member holding the route's permission, [`AdminOnly`] an
//! administrator, and [`ForAccount`] the caller's own client account or one they are a team
//! member of. Roles, permissions and API-key scopes are enforced here, in the API, whatever the
//! SPA shows. What a route needs is a property of the extractor in its signature, never of its
//! path, so a new route cannot silently get another route's rule:
//! - `Auth`: a key needs `read` for GET/HEAD and `write` for anything else;
//! - `BackOffice<_>`: a key needs `admin`; "view as client" tokens are refused;
//! - [`SessionAuth`]: managing keys, passwords, sessions and 2FA needs a signed-in session, never
//!   a key nor a "view as client" token.
//!
//! What needs the database (whether a token's session is live, a key's owner, a staff member's
//! current permissions — for every administrator and staff caller, wherever the route is —, a
//! membership) is loaded by the [`identify`] middleware before any
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

use crate::accounts::team;
use crate::admin::staff;
use crate::audit::Actor;
use crate::db;
use crate::error::ApiError;
use crate::identity::api_keys::{self, PREFIX};
use crate::identity::service::ClientMeta;
use crate::identity::sessions;
use crate::identity::tokens::Claims;
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

/// What the route asks of the caller beyond being someone: decides the API-key scope and whether
/// a key or a "view as client" token may be used at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    /// `read` for GET and HEAD, `write` otherwise.
    ByMethod,
    /// The back office: the `admin` scope; not while viewing as a client.
    BackOffice,
    /// A signed-in person's own session: no key, not while viewing as a client.
    Session,
}

impl Need {
    fn scope(self, method: &Method) -> ApiScope {
        match self {
            Need::BackOffice => ApiScope::Admin,
            _ if method == Method::GET || method == Method::HEAD => ApiScope::Read,
            _ => ApiScope::Write,
        }
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

/// The claims of the request's access token, verified once by [`identify`].
#[derive(Debug, Clone)]
struct Verified(Claims);

/// Middleware: finds out what the extractors then decide on, before any extractor runs, so that
/// a refusal always comes before the body is even read and extractors stay synchronous: the
/// access token's claims (verified here, once per request); whether its session is still live;
/// an API key's identity; for administrators and staff, their current role and permissions
/// ([`staff::StaffAccess`]); with `X-Keel-Account`, the caller's membership there.
///
/// Session liveness and back-office access come from the pool's caches when they hold them
/// ([`crate::db::cache`]: invalidated at once by sign-out, revocation, password changes and staff
/// edits, in every process); what they do not hold is read in one trip to the database.
pub async fn identify<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<B>>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let token = bearer(req.request()).ok();
    let now = state.clock.now();
    let account = req.headers().get(ACCOUNT_HEADER).and_then(|v| v.to_str().ok()).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    // Who, when it can be told without the database (a valid JWT), and the session it lives by.
    let claims = token.as_deref().filter(|t| !t.starts_with(PREFIX)).and_then(|t| state.jwt.verify(t, now).ok());
    let key = token.filter(|t| t.starts_with(PREFIX));
    let Some(claims) = claims else {
        if key.is_none() {
            return Ok(next.call(req).await?.map_into_left_body());
        }
        return identify_with_database(req, next, state, None, key, account).await;
    };
    let caches = state.pool.caches().clone();
    let live = caches.session(claims.session(), now);
    // `Some(None)`: not a back-office user, nothing to load.
    let staff = if claims.role.is_back_office() { caches.access(&claims.sub).map(Some) } else { Some(None) };
    let needs_account = account.as_deref().is_some_and(|a| a != claims.sub);
    match (live, staff) {
        (Some(false), _) => {
            req.extensions_mut().insert(SessionEnded);
            req.extensions_mut().insert(Verified(claims));
            Ok(next.call(req).await?.map_into_left_body())
        }
        (Some(true), Some(staff)) if !needs_account => {
            {
                let mut ext = req.extensions_mut();
                if let Some(staff) = staff {
                    ext.insert(staff);
                }
                ext.insert(Verified(claims));
            }
            Ok(next.call(req).await?.map_into_left_body())
        }
        _ => identify_with_database(req, next, state, Some(claims), None, account).await,
    }
}

/// The part of [`identify`] that reads the database (and fills the caches with what it read).
async fn identify_with_database<B: MessageBody + 'static>(
    req: ServiceRequest,
    next: Next<B>,
    state: web::Data<AppState>,
    claims: Option<Claims>,
    key: Option<String>,
    account: Option<String>,
) -> Result<ServiceResponse<actix_web::body::EitherBody<B>>, actix_web::Error> {
    let now = state.clock.now();
    let session = claims.as_ref().map(|c| c.session().to_string());
    let from_jwt = claims.as_ref().map(|c| (c.sub.clone(), c.role));
    let ip = req.peer_addr().map(|a| a.ip().to_string());
    let caches = state.pool.caches().clone();
    // Taken before the reads: a change applied meanwhile keeps what they found out of the cache.
    let generation = caches.generation();
    let loaded = db::run(&state.pool, move |c| {
        if let Some(session) = &session {
            let live = sessions::live_session(c, now, session)?;
            caches.remember_session(generation, session, live.clone());
            if live.is_none() {
                return Ok((None, None, None, true));
            }
        }
        let key = key.map(|k| api_keys::authenticate(c, now, &k, ip.as_deref())).transpose()?;
        let who = key.as_ref().map(|k| (k.user_id.clone(), k.role)).or(from_jwt);
        // Administrators and staff: their current access, on every request (from the cache when
        // it holds it): a disabled staff member's token stops working at once, and any route may
        // be a back-office one.
        let staff = match &who {
            Some((id, role)) if role.is_back_office() => Some(match caches.access(id) {
                Some(access) => access,
                None => {
                    let access = staff::access(c, id)?;
                    caches.remember_access(generation, id, access.clone());
                    access
                }
            }),
            _ => None,
        };
        let account = match (&who, account) {
            (Some((id, _)), Some(account)) if *id != account => {
                Some(AccountAccess { areas: team::membership(c, id, &account)?, account_id: account })
            }
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
            if let Some(claims) = claims {
                ext.insert(Verified(claims));
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

fn authenticate(req: &HttpRequest, need: Need) -> Result<Auth, ApiError> {
    if req.extensions().get::<staff::StaffAccess>().is_some_and(|a| a.disabled) {
        return Err(ApiError::Forbidden("this staff account is disabled".into()));
    }
    let state = req.app_data::<web::Data<AppState>>().ok_or_else(|| ApiError::internal("application state is missing"))?;
    let token = bearer(req)?;
    let now = state.clock.now();
    if !token.starts_with(PREFIX) {
        // Verified once, by `identify`; only a token it could not verify is verified here again,
        // for the error that says why.
        let verified = req.extensions().get::<Verified>().map(|v| v.0.clone());
        let claims = match verified {
            Some(claims) => claims,
            None => state.jwt.verify(&token, now)?,
        };
        if req.extensions().get::<SessionEnded>().is_some() {
            return Err(ApiError::Unauthenticated("this session has ended (signed out or revoked); please sign in again".into()));
        }
        if claims.imp.is_some() && need != Need::ByMethod {
            return Err(ApiError::Forbidden("not while viewing as a client; return to the admin first".into()));
        }
        return Ok(Auth { claims });
    }
    if need == Need::Session {
        return Err(ApiError::Forbidden("this needs a signed-in session, not an API key".into()));
    }
    let key = req
        .extensions()
        .get::<api_keys::KeyIdentity>()
        .cloned()
        .ok_or_else(|| ApiError::Unauthenticated("the API key is unknown".into()))?;
    let needed = need.scope(req.method());
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
        ready(authenticate(req, Need::ByMethod))
    }
}

/// A caller who may be signed in (the storefront's routes): `None` without an `Authorization`
/// header; a header that does not authenticate is refused (401) as on any route, never taken for
/// a guest.
#[derive(Debug, Clone)]
pub struct MaybeAuth(pub Option<Auth>);

impl FromRequest for MaybeAuth {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        if req.headers().contains_key(actix_web::http::header::AUTHORIZATION) {
            ready(authenticate(req, Need::ByMethod).map(|a| MaybeAuth(Some(a))))
        } else {
            ready(Ok(MaybeAuth(None)))
        }
    }
}

/// A caller using their own signed-in session: what managing API keys, passwords, sessions and
/// two-factor needs (an API key, or an administrator viewing as a client, is refused with 403).
#[derive(Debug, Clone)]
pub struct SessionAuth(pub Auth);

impl std::ops::Deref for SessionAuth {
    type Target = Auth;
    fn deref(&self) -> &Auth {
        &self.0
    }
}

impl FromRequest for SessionAuth {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req, Need::Session).map(SessionAuth))
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
        CatalogManage => Some(Permission::CatalogManage),
        BillingRead => Some(Permission::BillingRead),
        BillingWrite => Some(Permission::BillingWrite),
        ServersManage => Some(Permission::ServersManage),
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
        ready(authenticate(req, Need::BackOffice).and_then(|auth| {
            if !auth.role().is_back_office() {
                return Err(ApiError::Forbidden("this needs a back-office account".into()));
            }
            // `identify` loads it for every administrator and staff caller, whatever the path.
            let access = req.extensions().get::<staff::StaffAccess>().cloned();
            access.ok_or_else(|| ApiError::internal("back-office access was not loaded"))?.allows(N::PERMISSION)?;
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
        ready(authenticate(req, Need::ByMethod).and_then(|auth| {
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
