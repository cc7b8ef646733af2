//! The typed API client. Every call goes through [`send`], which turns problem+json answers into
//! [`ClientError`]s the pages can show, and retries once after refreshing an expired access token.

//! One module per area (`auth`, `catalog`, `portal`, `admin`); list queries are built from the
//! shared filter types by [`query`], so the browser sends exactly the fields the API parses.

pub mod admin;
pub mod auth;
pub mod catalog;
mod keyed;
pub mod portal;

pub(crate) use keyed::post_keyed;
pub use keyed::RetryKey;

use gloo_net::http::{Request, Response};
use keel_shared::Problem;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::session::SessionCtx;

pub(crate) const BASE: &str = "/api/v1";

/// Starts `fut` (a request the first screen does not wait for: the session's refresh, the
/// catalog) once the browser has shown the frame the app's first render made (two animation
/// frames on), so the page is drawn before the requests start. A hidden tab paints no frames:
/// then it starts after 200 ms.
pub fn spawn_after_paint(fut: impl std::future::Future<Output = ()> + 'static) {
    use std::cell::Cell;
    use std::rc::Rc;
    use wasm_bindgen::{closure::Closure, JsCast};
    let Some(window) = web_sys::window() else {
        return leptos::task::spawn_local(fut);
    };
    let once = Rc::new(Cell::new(Some(fut)));
    let start = {
        let once = once.clone();
        move || {
            if let Some(fut) = once.take() {
                leptos::task::spawn_local(fut);
            }
        }
    };
    // The next frame's animation callback runs once the first frame was presented; a timeout
    // set there runs after that frame's own rendering.
    let after_frames = {
        let (window, start) = (window.clone(), start.clone());
        Closure::once_into_js(move || {
            let next = {
                let window = window.clone();
                Closure::once_into_js(move || {
                    let _ = window.set_timeout_with_callback(Closure::once_into_js(start).unchecked_ref());
                })
            };
            let _ = window.request_animation_frame(next.unchecked_ref());
        })
    };
    let _ = window.request_animation_frame(after_frames.unchecked_ref());
    let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(Closure::once_into_js(start).unchecked_ref(), 200);
}

/// Why a call failed, in the terms a page needs.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientError {
    /// Not signed in, or the session ended.
    Unauthorized(Problem),
    /// Signed in, but not allowed.
    Forbidden(Problem),
    NotFound(Problem),
    /// Any other problem+json answer (validation, conflict, server error).
    Problem(Problem),
    /// The server could not be reached or answered something unreadable.
    Network(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ClientError {}

impl ClientError {
    pub fn message(&self) -> String {
        match self {
            ClientError::Unauthorized(p) | ClientError::Forbidden(p) | ClientError::NotFound(p) | ClientError::Problem(p) => {
                p.message().to_string()
            }
            ClientError::Network(e) => format!("Could not reach Keel ({e}). Check your connection and try again."),
        }
    }

    /// The message for one form field, when the server named it.
    pub fn field(&self, name: &str) -> Option<String> {
        match self {
            ClientError::Problem(p) => p.field(name).map(str::to_string),
            _ => None,
        }
    }
}

// The network half of every call is written once, without type parameters: a generic async
// function is compiled again for every answer type, and with a few dozen calls those copies were
// the largest part of this module in the wasm. Only `parse::<T>` (serde) is per type.

/// The body of a 2xx answer (`null` when empty: 202 and 204 answers, read as `Option<()>`), or the
/// problem+json of any other answer.
pub(crate) async fn answer(res: Response) -> Result<String, ClientError> {
    let status = res.status();
    let text = res.text().await.map_err(|e| ClientError::Network(e.to_string()))?;
    if (200..300).contains(&status) {
        return Ok(if text.trim().is_empty() { "null".to_string() } else { text });
    }
    let problem = serde_json::from_str::<Problem>(&text).unwrap_or_else(|_| Problem {
        kind: "about:blank".into(),
        title: format!("The server answered {status}"),
        status,
        detail: None,
        code: "http_error".into(),
        errors: Default::default(),
        request_id: None,
    });
    Err(match status {
        401 => ClientError::Unauthorized(problem),
        403 => ClientError::Forbidden(problem),
        404 => ClientError::NotFound(problem),
        _ => ClientError::Problem(problem),
    })
}

/// Reads an answer's JSON as `T`.
#[allow(clippy::result_large_err)] // the error is moved once per call, not kept
pub(crate) fn parse<T: DeserializeOwned>(text: &str) -> Result<T, ClientError> {
    serde_json::from_str(text).map_err(|e| ClientError::Network(format!("unreadable answer: {e}")))
}

pub(crate) async fn send_text(req: Result<Request, gloo_net::Error>) -> Result<String, ClientError> {
    let req = req.map_err(|e| ClientError::Network(e.to_string()))?;
    let res = req.send().await.map_err(|e| ClientError::Network(e.to_string()))?;
    answer(res).await
}

pub(crate) async fn send<T: DeserializeOwned>(req: Result<Request, gloo_net::Error>) -> Result<T, ClientError> {
    parse(&send_text(req).await?)
}

pub(crate) fn post_json<B: Serialize>(path: &str, body: &B) -> Result<Request, gloo_net::Error> {
    Request::post(&format!("{BASE}{path}")).json(body)
}

#[derive(Clone, Copy)]
pub(crate) enum Method {
    Get,
    Post,
    Put,
    Delete,
}

fn build(method: Method, url: &str, token: &str, acting: Option<&str>, body: Option<&str>) -> Result<Request, gloo_net::Error> {
    let b = match method {
        Method::Get => Request::get(url),
        Method::Post => Request::post(url),
        Method::Put => Request::put(url),
        Method::Delete => Request::delete(url),
    };
    let mut b = b.header("Authorization", &format!("Bearer {token}"));
    if let Some(account) = acting {
        b = b.header("X-Keel-Account", account);
    }
    match body {
        Some(json) => b.header("Content-Type", "application/json").body(json),
        None => b.build(),
    }
}

/// A call as the signed-in user; refreshes the access token once if it has expired.
pub(crate) async fn authed_text(session: SessionCtx, method: Method, path: &str, body: Option<String>) -> Result<String, ClientError> {
    let url = format!("{BASE}{path}");
    let token = session.token().unwrap_or_default();
    let acting = session.acting_for();
    match send_text(build(method, &url, &token, acting.as_deref(), body.as_deref())).await {
        Err(ClientError::Unauthorized(p)) => {
            let Ok(fresh) = auth::refresh().await else {
                session.clear();
                return Err(ClientError::Unauthorized(p));
            };
            let token = fresh.access_token.clone();
            session.set(fresh);
            send_text(build(method, &url, &token, acting.as_deref(), body.as_deref())).await
        }
        other => other,
    }
}

/// A file (a PDF) as the signed-in user: its bytes on a 2xx answer, the problem+json of any
/// other; refreshes the access token once, as [`authed_text`] does.
pub(crate) async fn authed_bytes(session: SessionCtx, path: &str) -> Result<Vec<u8>, ClientError> {
    async fn fetch(url: &str, token: &str, acting: Option<&str>) -> Result<Vec<u8>, ClientError> {
        let req = build(Method::Get, url, token, acting, None).map_err(|e| ClientError::Network(e.to_string()))?;
        let res = req.send().await.map_err(|e| ClientError::Network(e.to_string()))?;
        if (200..300).contains(&res.status()) {
            return res.binary().await.map_err(|e| ClientError::Network(e.to_string()));
        }
        answer(res).await.map(|_| Vec::new())
    }
    let url = format!("{BASE}{path}");
    let acting = session.acting_for();
    match fetch(&url, &session.token().unwrap_or_default(), acting.as_deref()).await {
        Err(ClientError::Unauthorized(p)) => {
            let Ok(fresh) = auth::refresh().await else {
                session.clear();
                return Err(ClientError::Unauthorized(p));
            };
            let token = fresh.access_token.clone();
            session.set(fresh);
            fetch(&url, &token, acting.as_deref()).await
        }
        other => other,
    }
}

/// A PATCH (the back office's partial updates) as the signed-in user, with a JSON body;
/// refreshes the access token once, as [`authed_text`] does. Not a [`Method`]: one more arm in
/// the request builder every call goes through costs the storefront, which never patches, bytes
/// its size budget cannot spare.
pub(crate) async fn patch_text(session: SessionCtx, path: &str, body: &str) -> Result<String, ClientError> {
    let url = format!("{BASE}{path}");
    let acting = session.acting_for();
    let build = |token: &str| {
        let mut b = Request::patch(&url).header("Authorization", &format!("Bearer {token}"));
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

pub(crate) async fn authed<T: DeserializeOwned>(
    session: SessionCtx,
    method: Method,
    path: &str,
    body: Option<String>,
) -> Result<T, ClientError> {
    parse(&authed_text(session, method, path, body).await?)
}

pub(crate) async fn get_authed<T: DeserializeOwned>(session: SessionCtx, path: &str) -> Result<T, ClientError> {
    authed(session, Method::Get, path, None).await
}

/// A request body as JSON text.
pub(crate) fn to_json<B: Serialize>(b: &B) -> Option<String> {
    serde_json::to_string(b).ok()
}

/// Percent-encodes a URL component (query value, path segment, data: URL body).
pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `path?k=v&…` from a filter type's serde fields: absent (`None`) and blank values are left out,
/// values are percent-encoded. Works the same whether the filter flattens a shared page query.
pub fn query<F: Serialize>(path: &str, filter: &F) -> String {
    let mut out = path.to_string();
    let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(filter) else { return out };
    let mut sep = '?';
    for (k, v) in fields {
        let v = match v {
            serde_json::Value::String(s) => s.trim().to_string(),
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            _ => continue,
        };
        if v.is_empty() {
            continue;
        }
        out.push(sep);
        out.push_str(&percent_encode(&k));
        out.push('=');
        out.push_str(&percent_encode(&v));
        sep = '&';
    }
    out
}

/// Page `n` of a list, 25 to a page (the tables' size).
pub fn page(n: u32) -> keel_shared::PageQuery {
    keel_shared::PageQuery::numbered(n, 25)
}

/// A JSON answer read by field name with the browser's own parser, for answers a page only
/// shows. Deserializing with serde compiles code per type into the wasm, which the storefront's
/// size budget could not spare for the cart's quote (about 3 KB brotli). Field names are those of
/// the shared model the answer is (`keel_shared::cart::Quote`); a missing field reads as 0, empty
/// or false.
pub struct Json(wasm_bindgen::JsValue);

impl Json {
    pub fn parse(text: &str) -> Json {
        Json(js_sys::JSON::parse(text).unwrap_or(wasm_bindgen::JsValue::NULL))
    }

    pub fn get(&self, field: &str) -> Json {
        Json(js_sys::Reflect::get(&self.0, &field.into()).unwrap_or(wasm_bindgen::JsValue::UNDEFINED))
    }

    pub fn is_null(&self) -> bool {
        self.0.is_null() || self.0.is_undefined()
    }

    /// An integer field (amounts in minor units are exact up to 2^53).
    pub fn int(&self, field: &str) -> i64 {
        self.get(field).0.as_f64().unwrap_or(0.0) as i64
    }

    pub fn text(&self, field: &str) -> String {
        self.get(field).0.as_string().unwrap_or_default()
    }

    pub fn flag(&self, field: &str) -> bool {
        self.get(field).0.as_bool().unwrap_or(false)
    }

    /// Whether a list holds the string `item`.
    pub fn has(&self, field: &str, item: &str) -> bool {
        let v = self.get(field).0;
        js_sys::Array::is_array(&v) && js_sys::Array::from(&v).includes(&wasm_bindgen::JsValue::from_str(item), 0)
    }

    /// A list's items joined by `sep` (`["A", "B"]` → `A, B`; not a list: empty).
    pub fn joined(&self, field: &str, sep: &str) -> String {
        let v = self.get(field).0;
        if js_sys::Array::is_array(&v) {
            js_sys::Array::from(&v).join(sep).into()
        } else {
            String::new()
        }
    }

    pub fn list(&self, field: &str) -> Vec<Json> {
        let v = self.get(field).0;
        if js_sys::Array::is_array(&v) {
            js_sys::Array::from(&v).iter().map(Json).collect()
        } else {
            Vec::new()
        }
    }
}
