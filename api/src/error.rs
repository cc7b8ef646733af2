//! The one error type of the API. Every failure a handler can meet becomes an [`ApiError`], and
//! every `ApiError` is answered as RFC 9457 `application/problem+json` with a stable snake_case
//! `code`. Which variant to use:
//! - input the client can fix: `Validation` (422, names the fields) or `BadRequest` (400);
//! - who is asking: `Unauthenticated` and `MfaTokenInvalid` (401), `Forbidden` and
//!   `TwoFactorRequired`, `EmailUnverified` (403);
//! - what is asked for: `NotFound` (404, also for other people's resources), `MethodNotAllowed`
//!   (405 with `Allow`, a path without that method), `Conflict` (409);
//! - too much: `TooManyRequests` (429) and `Locked` (423, an account locked after failed
//!   sign-ins), both with `Retry-After`;
//! - our side: `Unavailable` (503, e.g. the pool is exhausted), `Busy` (503 with `Retry-After`,
//!   too many password hashes at once) and `Internal` (500: the cause is
//!   logged with the request id, the client gets a generic message).

use std::collections::BTreeMap;

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use keel_shared::Problem;

pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    Validation { detail: String, errors: BTreeMap<String, Vec<String>> },
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("{0}")]
    Unauthenticated(String),
    /// The `mfa_token` of a two-factor sign-in can no longer be used (expired, used, or too many
    /// wrong codes): the password step has to be done again.
    #[error("{0}")]
    MfaTokenInvalid(String),
    #[error("{0}")]
    Forbidden(String),
    /// A staff member without two-factor authentication while administrators require it.
    #[error("your administrator requires two-factor authentication for staff; turn it on under Security first")]
    TwoFactorRequired,
    /// Ordering needs a confirmed e-mail address.
    #[error("confirm your e-mail address before you order: open the link we sent you (or ask for a new one)")]
    EmailUnverified,
    #[error("{0}")]
    NotFound(String),
    /// The path exists, not with this method; `allow` lists the methods it has (`GET, PUT`).
    #[error("this path answers {allow} only")]
    MethodNotAllowed { allow: String },
    /// `field` names the input that collides (e.g. `email`), when one does.
    #[error("{detail}")]
    Conflict { code: &'static str, detail: String, field: Option<String> },
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after_secs: i64 },
    #[error("{detail}")]
    Locked { detail: String, retry_after_secs: i64 },
    #[error("{0}")]
    Unavailable(String),
    /// Too much CPU-heavy work at once (password hashing): 503 with `Retry-After`.
    #[error("{0}")]
    Busy(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::NotFound(format!("{what} not found"))
    }

    /// A single-field validation failure.
    /// Field problems found together (`pricing`'s, say), answered at once: `what` says what could
    /// not be done ("the cart cannot be priced").
    pub fn problems(what: &str, errors: BTreeMap<String, Vec<String>>) -> Self {
        let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
        ApiError::Validation { detail: format!("{what}: {}", fields.join(", ")), errors }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = BTreeMap::new();
        errors.insert(field.to_string(), vec![message.into()]);
        ApiError::Validation { detail: format!("the request has an invalid field: {field}"), errors }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        ApiError::BadRequest { code, detail: detail.into() }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Validation { .. } => "validation_failed",
            ApiError::BadRequest { code, .. } | ApiError::Conflict { code, .. } => code,
            ApiError::Unauthenticated(_) => "unauthenticated",
            ApiError::MfaTokenInvalid(_) => "mfa_token_invalid",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::TwoFactorRequired => "two_factor_required",
            ApiError::EmailUnverified => "email_unverified",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::PayloadTooLarge { .. } => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::TooManyRequests { .. } => "rate_limited",
            ApiError::Locked { .. } => "account_locked",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Busy(_) => "busy",
            ApiError::Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            ApiError::Validation { .. } => "Your request has invalid fields",
            ApiError::BadRequest { .. } => "Bad request",
            ApiError::Unauthenticated(_) => "Authentication required",
            ApiError::MfaTokenInvalid(_) => "Sign in again",
            ApiError::Forbidden(_) | ApiError::TwoFactorRequired | ApiError::EmailUnverified => "Forbidden",
            ApiError::NotFound(_) => "Not found",
            ApiError::MethodNotAllowed { .. } => "Method not allowed",
            ApiError::Conflict { .. } => "Conflict",
            ApiError::PayloadTooLarge { .. } => "Payload too large",
            ApiError::UnsupportedMediaType(_) => "Unsupported media type",
            ApiError::TooManyRequests { .. } => "Too many requests",
            ApiError::Locked { .. } => "Account locked",
            ApiError::Unavailable(_) => "Service unavailable",
            ApiError::Busy(_) => "Server busy",
            ApiError::Internal(_) => "Internal server error",
        }
    }

    pub fn problem(&self) -> Problem {
        let detail = match self {
            // Never send internal causes to clients; they are logged instead.
            ApiError::Internal(_) => "An unexpected error occurred. It has been logged.".to_string(),
            ApiError::Unavailable(_) => "The service is busy or a dependency is down; try again shortly.".to_string(),
            other => other.to_string(),
        };
        let errors = match self {
            ApiError::Validation { errors, .. } => errors.clone(),
            ApiError::Conflict { field: Some(f), detail, .. } => BTreeMap::from([(f.clone(), vec![detail.clone()])]),
            _ => BTreeMap::new(),
        };
        Problem {
            kind: format!("/problems/{}", self.code()),
            title: self.title().to_string(),
            status: self.status_code().as_u16(),
            detail: Some(detail),
            code: self.code().to_string(),
            errors,
            request_id: None,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) | ApiError::MfaTokenInvalid(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) | ApiError::TwoFactorRequired | ApiError::EmailUnverified => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Locked { .. } => StatusCode::LOCKED,
            ApiError::Unavailable(_) | ApiError::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => tracing::error!(cause = %cause, "internal error"),
            ApiError::Unavailable(cause) => tracing::warn!(cause = %cause, "unavailable"),
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        match self {
            ApiError::Unauthenticated(_) | ApiError::MfaTokenInvalid(_) => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            ApiError::TooManyRequests { retry_after_secs, .. } | ApiError::Locked { retry_after_secs, .. } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.max(&1).to_string()));
            }
            ApiError::Busy(_) => {
                res.insert_header((header::RETRY_AFTER, "1"));
            }
            ApiError::MethodNotAllowed { allow } => {
                res.insert_header((header::ALLOW, allow.as_str()));
            }
            _ => {}
        }
        res.body(serde_json::to_string(&self.problem()).unwrap_or_default())
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match e {
            E::NotFound => ApiError::NotFound("not found".into()),
            // The database's own message names tables and constraints: it goes to the log, and the
            // client is told which field collides.
            E::DatabaseError(K::UniqueViolation, info) => {
                let field = unique_violation_field(info.message(), info.details());
                tracing::info!(message = info.message(), constraint = info.constraint_name(), "unique violation");
                ApiError::Conflict {
                    code: "already_exists",
                    detail: match &field {
                        Some(f) => format!("a record with this {f} already exists"),
                        None => "a record with these values already exists".into(),
                    },
                    field,
                }
            }
            E::DatabaseError(K::SerializationFailure, _) => ApiError::Unavailable("serialization failure".into()),
            other => ApiError::Internal(cause_chain(&other)),
        }
    }
}

/// The column a unique violation is about, from SQLite's message (`UNIQUE constraint failed:
/// users.email`) or PostgreSQL's detail (`Key (email)=(a@b.c) already exists.`); the last column
/// when the key has several (the first ones usually scope it, e.g. an account id).
pub fn unique_violation_field(message: &str, details: Option<&str>) -> Option<String> {
    if let Some(cols) = message.strip_prefix("UNIQUE constraint failed: ") {
        return cols.split(", ").last().and_then(|c| c.rsplit('.').next()).map(str::to_string);
    }
    let cols = details?.strip_prefix("Key (")?.split(")=(").next()?;
    cols.split(", ").last().map(|c| c.trim_matches('"').to_string())
}

/// An error and its sources, `outer: inner: innermost`, in one line (for the log, and for
/// adapters' messages). A source whose text the line already holds (reqwest repeats its
/// causes) is not said twice.
pub fn cause_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

impl From<validator::ValidationErrors> for ApiError {
    fn from(e: validator::ValidationErrors) -> Self {
        let errors = keel_shared::validation::field_messages(&e);
        let fields: Vec<&str> = errors.keys().map(String::as_str).collect();
        ApiError::Validation { detail: format!("the request has invalid fields: {}", fields.join(", ")), errors }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unique_violation_names_the_field_not_the_table() {
        assert_eq!(unique_violation_field("UNIQUE constraint failed: users.email", None).as_deref(), Some("email"));
        assert_eq!(
            unique_violation_field("UNIQUE constraint failed: team_members.account_id, team_members.email", None).as_deref(),
            Some("email")
        );
        assert_eq!(
            unique_violation_field(
                "duplicate key value violates unique constraint \"users_email_key\"",
                Some("Key (email)=(a@b.c) already exists.")
            )
            .as_deref(),
            Some("email")
        );
        assert_eq!(unique_violation_field("something else", None), None);
        let p = ApiError::Conflict {
            code: "already_exists",
            detail: "a record with this email already exists".into(),
            field: Some("email".into()),
        }
        .problem();
        assert_eq!(p.errors.keys().collect::<Vec<_>>(), ["email"]);
        assert!(!p.detail.unwrap_or_default().contains("users"));
    }
}
