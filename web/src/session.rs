//! The signed-in user, shared through context. The access token lives only in memory; on load
//! the app asks `/auth/refresh` (the httpOnly cookie) to restore a session. Each change of the
//! session tells the cart (`cart::follow`), which follows who is signed in.

use keel_shared::access::{MemberPermission, Membership, Permission};
use keel_shared::auth::{Me, Role, TokenResponse};
use leptos::prelude::*;

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub token: String,
    pub user: Me,
}

#[derive(Debug, Clone, Copy)]
pub struct SessionCtx {
    pub current: RwSignal<Option<Session>>,
    /// False until the first refresh attempt has answered.
    pub ready: RwSignal<bool>,
    /// True after the user signed out on purpose (guarded pages then go home, not to /login).
    pub signed_out: RwSignal<bool>,
    /// The client account a team member is acting for (sent as `X-Keel-Account`); `None`: their own.
    pub acting: RwSignal<Option<Membership>>,
}

impl SessionCtx {
    pub fn set(&self, t: TokenResponse) {
        self.signed_out.set(false);
        // Another user (or the admin returning from a client's view) starts on their own account.
        if self.current.with_untracked(|s| s.as_ref().map(|s| s.user.id.clone())) != Some(t.user.id.clone()) {
            self.acting.set(None);
        }
        self.current.set(Some(Session { token: t.access_token, user: t.user }));
        crate::cart::follow();
    }
    /// Forgets the session because the user signed out.
    pub fn sign_out(&self) {
        self.signed_out.set(true);
        self.acting.set(None);
        self.current.set(None);
        crate::cart::follow();
    }
    pub fn clear(&self) {
        self.acting.set(None);
        self.current.set(None);
        crate::cart::follow();
    }
    /// The account id to send as `X-Keel-Account`, while acting for another account.
    pub fn acting_for(&self) -> Option<String> {
        self.acting.with_untracked(|a| a.as_ref().map(|m| m.account_id.to_string()))
    }
    /// Whether the portal page for `area` is open: always on one's own account, else when the
    /// membership grants it.
    pub fn may_use(&self, area: MemberPermission) -> bool {
        self.acting.with(|a| a.as_ref().is_none_or(|m| m.permissions.contains(&area)))
    }
    /// Whether the back-office user holds `p` (administrators hold all).
    pub fn can(&self, p: Permission) -> bool {
        self.current.with(|s| s.as_ref().is_some_and(|s| s.user.role == Role::Admin || s.user.permissions.contains(&p)))
    }
    pub fn is_back_office(&self) -> bool {
        self.current.with(|s| s.as_ref().is_some_and(|s| s.user.role.is_back_office()))
    }
    pub fn token(&self) -> Option<String> {
        self.current.with_untracked(|s| s.as_ref().map(|s| s.token.clone()))
    }
    pub fn user(&self) -> Option<Me> {
        self.current.with(|s| s.as_ref().map(|s| s.user.clone()))
    }
    pub fn is_admin(&self) -> bool {
        self.current.with(|s| s.as_ref().is_some_and(|s| s.user.role == Role::Admin))
    }
}

/// Where the admin bundle leaves a "log in as client" token for the portal bundle's next page
/// load (the token has no refresh cookie, so a page load could not restore it). Read once and
/// removed at once; it lives in this tab only and expires in 15 minutes on the server.
const VIEW_AS: &str = "keel-view-as";

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// Hands `t` to the next page load of this tab (see [`VIEW_AS`]).
pub fn hand_over(t: &TokenResponse) {
    if let (Some(s), Ok(json)) = (session_storage(), serde_json::to_string(t)) {
        let _ = s.set_item(VIEW_AS, &json);
    }
}

fn take_handed_over() -> Option<TokenResponse> {
    let s = session_storage()?;
    let json = s.get_item(VIEW_AS).ok()??;
    let _ = s.remove_item(VIEW_AS);
    serde_json::from_str(&json).ok()
}

pub fn provide_session() -> SessionCtx {
    let ctx = SessionCtx {
        current: RwSignal::new(None),
        ready: RwSignal::new(false),
        signed_out: RwSignal::new(false),
        acting: RwSignal::new(None),
    };
    provide_context(ctx);
    if let Some(t) = take_handed_over() {
        ctx.set(t);
        ctx.ready.set(true);
        return ctx;
    }
    crate::api::spawn_after_paint(async move {
        if let Ok(t) = crate::api::auth::refresh().await {
            ctx.set(t);
        }
        ctx.ready.set(true);
    });
    ctx
}

pub fn use_session() -> SessionCtx {
    expect_context::<SessionCtx>()
}
