//! The signed-in user, shared through context. The access token lives only in memory; on load
//! the app asks `/auth/refresh` (the httpOnly cookie) to restore a session.

use keel_shared::auth::{Me, Role, TokenResponse};
use leptos::prelude::*;
use leptos::task::spawn_local;

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
}

impl SessionCtx {
    pub fn set(&self, t: TokenResponse) {
        self.signed_out.set(false);
        self.current.set(Some(Session { token: t.access_token, user: t.user }));
    }
    /// Forgets the session because the user signed out.
    pub fn sign_out(&self) {
        self.signed_out.set(true);
        self.current.set(None);
    }
    pub fn clear(&self) {
        self.current.set(None);
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

pub fn provide_session() -> SessionCtx {
    let ctx = SessionCtx { current: RwSignal::new(None), ready: RwSignal::new(false), signed_out: RwSignal::new(false) };
    provide_context(ctx);
    spawn_local(async move {
        if let Ok(t) = crate::api::refresh().await {
            ctx.set(t);
        }
        ctx.ready.set(true);
    });
    ctx
}

pub fn use_session() -> SessionCtx {
    expect_context::<SessionCtx>()
}
