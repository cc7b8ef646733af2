//! Requests that carry an `Idempotency-Key`: a retry of the same request (after an answer that
//! never arrived) is answered the first answer instead of acting twice.

use gloo_net::http::Request;
use leptos::prelude::{GetValue, SetValue, StoredValue};

use super::{auth, send_text, ClientError, BASE};
use crate::session::SessionCtx;

/// A fresh `Idempotency-Key`: the time and 64 random bits (unique per attempt; it names no secret).
pub fn new_key() -> String {
    let now = js_sys::Date::now() as u64;
    let a = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    let b = (js_sys::Math::random() * 4_294_967_296.0) as u64;
    format!("{now:x}-{a:08x}{b:08x}")
}

/// One form's `Idempotency-Key`: sending the same body again (a retry after an answer that never
/// arrived) reuses the key, so the API answers the first answer instead of acting twice; another
/// body gets a new key. Make one per drawn form: a form drawn again after a success starts afresh.
#[derive(Clone, Copy)]
pub struct RetryKey(StoredValue<(String, String)>);

impl Default for RetryKey {
    fn default() -> Self {
        Self::new()
    }
}

impl RetryKey {
    pub fn new() -> Self {
        RetryKey(StoredValue::new((String::new(), String::new())))
    }

    /// The key for `body` (its JSON).
    pub fn key(&self, body: &str) -> String {
        let (sent, key) = self.0.get_value();
        if sent == body && !key.is_empty() {
            return key;
        }
        let key = new_key();
        self.0.set_value((body.to_string(), key.clone()));
        key
    }
}

/// A POST as the signed-in user (for the account they act for, as [`authed_text`]) with an
/// `Idempotency-Key`: the same key and body answer the first answer again. Refreshes the access
/// token once.
pub(crate) async fn post_keyed(session: SessionCtx, path: &str, body: &str, key: &str) -> Result<String, ClientError> {
    let url = format!("{BASE}{path}");
    let acting = session.acting_for();
    let build = |token: &str| {
        let mut b = Request::post(&url).header("Authorization", &format!("Bearer {token}")).header("Idempotency-Key", key);
        if let Some(account) = acting.as_deref() {
            b = b.header("X-Keel-Account", account);
        }
        b.header("Content-Type", "application/json").body(body)
    };
    match send_text(build(&session.token().unwrap_or_default())).await {
        Err(ClientError::Unauthorized(p)) => {
            let Ok(fresh) = auth::refresh().await else {
                session.clear();
                return Err(ClientError::Unauthorized(p));
            };
            let token = fresh.access_token.clone();
            session.set(fresh);
            send_text(build(&token)).await
        }
        other => other,
    }
}
