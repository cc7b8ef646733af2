//! Accounts and sign-in models.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::validation::{self, EMAIL_MAX, NAME_MAX, PASSWORD_MAX};

/// What a user may do. Checked by the API on every route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything.
    Admin,
    /// Back-office staff (permissions come with the identity work).
    Staff,
    /// A customer.
    Client,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Staff => "staff",
            Role::Client => "client",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "staff" => Some(Role::Staff),
            "client" => Some(Role::Client),
            _ => None,
        }
    }

    /// Admins and staff work in the back office.
    pub fn is_back_office(self) -> bool {
        matches!(self, Role::Admin | Role::Staff)
    }
}

/// Opens a client account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RegisterRequest {
    /// E-mail address; unique ignoring case.
    #[validate(length(max = EMAIL_MAX), custom(function = "validation::email"))]
    pub email: String,
    /// At least 10 characters.
    #[validate(custom(function = "validation::password"))]
    pub password: String,
    #[validate(length(min = 1, max = NAME_MAX), custom(function = "validation::name"))]
    pub first_name: String,
    #[validate(length(min = 1, max = NAME_MAX), custom(function = "validation::name"))]
    pub last_name: String,
}

/// Signs in with e-mail and password.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    #[validate(length(min = 1, max = EMAIL_MAX))]
    pub email: String,
    #[validate(length(min = 1, max = PASSWORD_MAX))]
    pub password: String,
}

/// The signed-in user's own account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    /// Opaque user id.
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
}

/// Answer to a successful login, registration or refresh. The refresh token travels only in the
/// httpOnly `keel_refresh` cookie.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenResponse {
    /// Short-lived JWT to send as `Authorization: Bearer <token>`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Lifetime of the access token in seconds.
    pub expires_in: i64,
    pub user: Me,
}

/// A client as listed in the back office.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientSummary {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub created_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_rules() {
        let ok = RegisterRequest {
            email: "ann@example.com".into(),
            password: "correct horse battery".into(),
            first_name: "Ann".into(),
            last_name: "Lee".into(),
        };
        assert!(ok.validate().is_ok());
        let bad = RegisterRequest { email: "nope".into(), password: "short".into(), first_name: " ".into(), ..ok };
        let errors = validation::field_messages(&bad.validate().expect_err("invalid"));
        assert_eq!(errors.keys().collect::<Vec<_>>(), ["email", "first_name", "password"]);
        assert_eq!(errors["password"], ["must be at least 10 characters"]);
    }
}
