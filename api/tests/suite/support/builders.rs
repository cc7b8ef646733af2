//! Fixture builders: the people and keys a test needs, made through the API as a person would
//! make them, so a test states only what matters to it:
//!
//! ```ignore
//! let ann = a_client().email("ann@example.com").create(&app).await;
//! let sam = a_staff_member().with_permissions(&["clients.read"]).with_2fa().create(&app).await;
//! let key = an_api_key().with_scopes(&["read", "write"]).create(&app, &ann.token).await;
//! let admin = the_admin(&app).await;
//! ```

use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web::http::StatusCode;
use keel_api::clock::Clock;
use keel_api::identity::totp;
use serde_json::json;

use super::{token_from_mail, TestApp, ADMIN_EMAIL, ADMIN_PASSWORD, PASSWORD};

/// The administrator made at first start, signed in (each call opens a new session).
pub async fn the_admin(app: &TestApp) -> User {
    let res = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    User {
        id: res.body["user"]["id"].as_str().unwrap().to_string(),
        email: ADMIN_EMAIL.to_string(),
        token: res.body["access_token"].as_str().unwrap().to_string(),
        refresh: res.refresh_cookie().unwrap(),
        totp: None,
    }
}

/// Someone made by a builder, signed in.
pub struct User {
    pub id: String,
    pub email: String,
    /// A bearer access token of a fresh session.
    pub token: String,
    /// That session's refresh token.
    pub refresh: String,
    /// The authenticator, when made `with_2fa()`.
    pub totp: Option<Authenticator>,
}

/// The TOTP authenticator app holding a user's secret.
pub struct Authenticator {
    secret: Vec<u8>,
}

impl Authenticator {
    /// The code the app shows at the test clock's current time, `steps` 30-second steps later.
    pub fn code(&self, app: &TestApp, steps: i64) -> String {
        totp::code_at_step(&self.secret, totp::step_of(app.clock.now().timestamp()) + steps)
    }
}

enum Kind {
    Client,
    Staff { permissions: Vec<String> },
}

pub struct UserBuilder {
    kind: Kind,
    email: Option<String>,
    two_factor: bool,
    verified: bool,
}

/// A client who registered (`POST /auth/register`) with [`PASSWORD`], named Ann Lee.
pub fn a_client() -> UserBuilder {
    UserBuilder { kind: Kind::Client, email: None, two_factor: false, verified: false }
}

/// A staff member the administrator added with no permissions, who chose [`PASSWORD`] from the
/// invitation e-mail and signed in.
pub fn a_staff_member() -> UserBuilder {
    UserBuilder { kind: Kind::Staff { permissions: Vec::new() }, email: None, two_factor: false, verified: false }
}

impl UserBuilder {
    /// The e-mail address (default: a new `userN@example.com` / `staffN@keel.test`).
    pub fn email(mut self, email: &str) -> Self {
        self.email = Some(email.to_string());
        self
    }

    /// The permissions the administrator grants a staff member.
    pub fn with_permissions(mut self, permissions: &[&str]) -> Self {
        match &mut self.kind {
            Kind::Staff { permissions: p } => *p = permissions.iter().map(|s| s.to_string()).collect(),
            Kind::Client => panic!("with_permissions() is for a_staff_member()"),
        }
        self
    }

    /// A client who confirmed their e-mail address with the link of the welcome e-mail.
    pub fn verified(mut self) -> Self {
        self.verified = true;
        self
    }

    /// Two-factor sign-in set up and enabled with a code from the authenticator
    /// (`User::totp`); the returned token is of the session that enabled it.
    pub fn with_2fa(mut self) -> Self {
        self.two_factor = true;
        self
    }

    pub async fn create(self, app: &TestApp) -> User {
        static NEXT: AtomicUsize = AtomicUsize::new(1);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let mut user = match self.kind {
            Kind::Client => {
                let email = self.email.unwrap_or_else(|| format!("user{n}@example.com"));
                let (token, refresh, id) = app.register(&email).await;
                User { id, email, token, refresh, totp: None }
            }
            Kind::Staff { permissions } => {
                let email = self.email.unwrap_or_else(|| format!("staff{n}@keel.test"));
                add_staff(app, &email, &permissions).await
            }
        };
        if self.verified {
            let link = super::token_from_mail(app, &user.email, "welcome").expect("the welcome e-mail has a verify link");
            let res = app.post_json("/api/v1/auth/verify-email", json!({"token": link})).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.text);
        }
        if self.two_factor {
            user.totp = Some(enable_2fa(app, &user.token).await);
        }
        user
    }
}

/// The administrator adds a staff member, who sets a password from the e-mailed link and signs in.
async fn add_staff(app: &TestApp, email: &str, permissions: &[String]) -> User {
    let admin = app.admin_token().await;
    let res = app
        .post_json_authed(
            "/api/v1/admin/staff",
            &admin,
            json!({"email": email, "first_name": "Sam", "last_name": "Staff", "role": "staff", "permissions": permissions}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
    let id = res.body["id"].as_str().unwrap().to_string();
    let link = token_from_mail(app, email, "staff_invite").expect("staff invite mail with a link");
    // Nobody can sign in before the password is chosen.
    app.login(email, PASSWORD).await.problem(401);
    let res = app.post_json("/api/v1/auth/reset-password", json!({"token": link, "password": PASSWORD})).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text);
    let res = app.login(email, PASSWORD).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let token = res.body["access_token"].as_str().unwrap().to_string();
    User { id, email: email.to_string(), token, refresh: res.refresh_cookie().unwrap(), totp: None }
}

/// Sets up two-factor sign-in for the token's user and enables it with a code; the authenticator.
pub async fn enable_2fa(app: &TestApp, token: &str) -> Authenticator {
    let res = app.post_authed("/api/v1/me/2fa/setup", token).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let secret = totp::base32_decode(res.body["secret"].as_str().unwrap()).unwrap();
    let phone = Authenticator { secret };
    let res = app.post_json_authed("/api/v1/me/2fa/enable", token, json!({"code": phone.code(app, 0)})).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    phone
}

pub struct ApiKeyBuilder {
    scopes: Vec<String>,
}

/// An API key with the `read` scope, made at `POST /me/api-keys`.
pub fn an_api_key() -> ApiKeyBuilder {
    ApiKeyBuilder { scopes: vec!["read".into()] }
}

impl ApiKeyBuilder {
    pub fn with_scopes(mut self, scopes: &[&str]) -> Self {
        self.scopes = scopes.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Created by the holder of `token`; returns the secret (shown once), a bearer token.
    pub async fn create(self, app: &TestApp, token: &str) -> String {
        let res = app.post_json_authed("/api/v1/me/api-keys", token, json!({"name": "test key", "scopes": self.scopes})).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text);
        res.body["secret"].as_str().unwrap().to_string()
    }
}
