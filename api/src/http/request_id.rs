//! Gives every request an id (the caller's `X-Request-Id` when it is sane, else a new one), logs
//! one line per request with it, and returns it in the `X-Request-Id` response header and in the
//! `request_id` member of every problem+json body, so a user's error report leads to the log line.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Instrument;

pub const HEADER: &str = "x-request-id";

#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub async fn middleware(req: ServiceRequest, next: Next<impl MessageBody + 'static>) -> Result<ServiceResponse<BoxBody>, Error> {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(str::to_string)
        .unwrap_or_else(crate::ids::new_id);
    req.extensions_mut().insert(RequestId(id.clone()));
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let started = Instant::now();
    // Inner services turn their errors into responses (`ServiceRequest::error_response`).
    let res = next.call(req).instrument(span.clone()).await?.map_into_boxed_body();
    let mut res = with_request_id(res, &id).await;
    let status = res.status().as_u16();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(status, ms, "request failed");
        } else {
            tracing::info!(status, ms, "request");
        }
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HeaderName::from_static(HEADER), v);
    }
    Ok(res)
}

/// Puts the request id into a problem+json body (small by construction; other bodies pass as they are).
async fn with_request_id(res: ServiceResponse<BoxBody>, id: &str) -> ServiceResponse<BoxBody> {
    let is_problem = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes() == crate::error::PROBLEM_JSON.as_bytes());
    if !is_problem {
        return res;
    }
    let (req, res) = res.into_parts();
    let (res, body) = res.into_parts();
    let bytes = actix_web::body::to_bytes_limited(body, 64 * 1024).await.ok().and_then(Result::ok).unwrap_or_default();
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut map)) => {
            map.insert("request_id".into(), id.into());
            serde_json::to_vec(&map).unwrap_or_else(|_| bytes.to_vec())
        }
        _ => bytes.to_vec(),
    };
    let mut res = res.set_body(BoxBody::new(body));
    res.headers_mut().remove(header::CONTENT_LENGTH);
    ServiceResponse::new(req, res)
}
