//! Accounts and sign-in models.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::validation::{self, EMAIL_MAX, NAME_MAX, PASSWORD_MAX};

crate::text_enum! {
    /// What a user may do. Checked by the API on every route.
    pub enum Role {
        /// Everything.
        Admin = "admin",
        /// Back-office staff with the permissions an administrator granted.
        Staff = "staff",
        /// A customer.
        Client = "client",
    }
}

impl Role {
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
    #[cfg_attr(feature = "openapi", schema(max_length = 254))]
    pub email: String,
    /// At least 10 characters.
    #[validate(custom(function = "validation::password"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 128))]
    pub password: String,
    #[validate(length(min = 1, max = NAME_MAX), custom(function = "validation::name"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub first_name: String,
    #[validate(length(min = 1, max = NAME_MAX), custom(function = "validation::name"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub last_name: String,
}

/// Signs in with e-mail and password.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    #[validate(length(min = 1, max = EMAIL_MAX))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 254))]
    pub email: String,
    #[validate(length(min = 1, max = PASSWORD_MAX))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub password: String,
}

/// The signed-in user's own account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    /// Opaque user id.
    pub id: crate::ids::UserId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: Role,
    /// Whether the e-mail address was confirmed (needed to check out).
    pub email_verified: bool,
    /// Whether sign-in asks for a TOTP code.
    pub two_factor: bool,
    pub created_at: DateTime<Utc>,
    /// Set while an administrator views the account as the client: the admin's e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impersonator: Option<String>,
    /// Back-office permissions (all of them for administrators, none for clients).
    #[serde(default)]
    pub permissions: Vec<crate::access::Permission>,
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
    pub id: crate::ids::UserId,
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

/// Confirms an e-mail address with the token from the verification e-mail.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenRequest {
    #[validate(length(min = 16, max = 128))]
    #[cfg_attr(feature = "openapi", schema(min_length = 16, max_length = 128))]
    pub token: String,
}

/// Asks for a password-reset e-mail. The answer is the same whether or not the address exists.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ForgotPasswordRequest {
    #[validate(length(max = EMAIL_MAX), custom(function = "validation::email"))]
    #[cfg_attr(feature = "openapi", schema(max_length = 254))]
    pub email: String,
}

/// Sets a new password with the token from the reset e-mail.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResetPasswordRequest {
    #[validate(length(min = 16, max = 128))]
    #[cfg_attr(feature = "openapi", schema(min_length = 16, max_length = 128))]
    pub token: String,
    #[validate(custom(function = "validation::password"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 128))]
    pub password: String,
    /// Also revoke every API key of the account (the default: after "forgot password" the
    /// account may have been taken over, and keys do not depend on the password). Send `false`
    /// to keep them.
    #[serde(default = "revoke_keys_on_reset")]
    #[cfg_attr(feature = "openapi", schema(default = true))]
    pub revoke_api_keys: bool,
}

fn revoke_keys_on_reset() -> bool {
    true
}

/// Changes the password of the signed-in user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePasswordRequest {
    #[validate(length(min = 1, max = PASSWORD_MAX))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub current_password: String,
    #[validate(custom(function = "validation::password"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 128))]
    pub new_password: String,
    /// Also revoke every API key of the account. Off by default here: the current password
    /// proves the owner is asking (a reset revokes them by default).
    #[serde(default)]
    pub revoke_api_keys: bool,
}

/// A signed-in session of the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub id: crate::ids::SessionId,
    /// The session this request was made from.
    pub current: bool,
    pub ip: Option<String>,
    /// `desktop`, `mobile`, `tablet`, `bot` or `unknown`.
    pub device_type: String,
    pub browser: String,
    pub os: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: crate::ids::AuditEntryId,
    /// Who acted (absent: anonymous or the system).
    pub actor_id: Option<crate::ids::UserId>,
    /// Whose account the entry belongs to.
    pub account_id: Option<crate::ids::UserId>,
    /// What happened, e.g. `auth.login`, `auth.login_failed`, `password.changed`.
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// Filters for the audit log.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct AuditFilter {
    /// Only this action (exact), e.g. `auth.login_failed`.
    #[validate(length(max = 100))]
    #[cfg_attr(feature = "openapi", param(max_length = 100))]
    pub action: Option<String>,
    /// Only entries of this account.
    pub account_id: Option<crate::ids::UserId>,
    /// The page (`page`, `per_page`, `cursor`); listed in the document as `PageQuery`'s parameters.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", param(ignore))]
    #[validate(nested)]
    pub paging: crate::PageQuery,
}

/// The back office's client list: an optional search and the page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
pub struct ClientFilter {
    /// Clients whose e-mail, first name, last name or company starts with this (any case).
    #[validate(length(min = 1, max = 100))]
    #[cfg_attr(feature = "openapi", param(min_length = 1, max_length = 100))]
    pub q: Option<String>,
    /// The page (`page`, `per_page`, `cursor`); listed in the document as `PageQuery`'s parameters.
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", param(ignore))]
    #[validate(nested)]
    pub paging: crate::PageQuery,
}

crate::text_enum! {
    /// What an API key may do.
    pub enum ApiScope {
        /// GET requests on the owner's resources.
        Read = "read",
        /// Changes (POST, PUT, PATCH, DELETE) on the owner's resources.
        Write = "write",
        /// The /admin routes (keys of administrators and staff; staff keys hold the staff member's permissions).
        Admin = "admin",
    }
}

/// Creates an API key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateApiKeyRequest {
    /// A name to recognise the key by, e.g. "Billing sync".
    #[validate(length(min = 1, max = 80), custom(function = "validation::name"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 80))]
    pub name: String,
    #[validate(length(min = 1, max = 3))]
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 3))]
    pub scopes: Vec<ApiScope>,
    /// When the key stops working (optional).
    pub expires_at: Option<DateTime<Utc>>,
    /// IP addresses the key may be used from; empty for any.
    #[serde(default)]
    #[validate(length(max = 20))]
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    pub allowed_ips: Vec<String>,
}

/// An API key as listed (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKey {
    pub id: crate::ids::ApiKeyId,
    pub name: String,
    /// The key's first characters, to recognise it.
    pub prefix: String,
    pub scopes: Vec<ApiScope>,
    pub allowed_ips: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A key just created: the only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// Send as `Authorization: Bearer <secret>`. Shown once; store it now.
    pub secret: String,
}

/// The second step of signing in, when the account has two-factor enabled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaChallenge {
    /// Always true: send a code to /auth/login/2fa with `mfa_token`.
    pub mfa_required: bool,
    /// Proof that the password was right; valid for 5 minutes.
    pub mfa_token: String,
}

/// Completes a sign-in with a TOTP code or a recovery code.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MfaLoginRequest {
    #[validate(length(min = 10, max = 2000))]
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 2000))]
    pub mfa_token: String,
    /// Six digits from the authenticator app, or a recovery code (`xxxxx-xxxxx`).
    #[validate(length(min = 6, max = 20))]
    #[cfg_attr(feature = "openapi", schema(min_length = 6, max_length = 20))]
    pub code: String,
}

/// A new TOTP secret to scan; two-factor is on only after a code confirms it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TwoFactorSetup {
    /// Base32 secret, for typing into an app by hand.
    pub secret: String,
    /// `otpauth://totp/…` URI.
    pub otpauth_url: String,
    /// The URI as a QR code, an SVG image made on the server.
    pub qr_svg: String,
}

/// A six-digit code from the authenticator app.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeRequest {
    #[validate(length(min = 6, max = 20))]
    #[cfg_attr(feature = "openapi", schema(min_length = 6, max_length = 20))]
    pub code: String,
}

/// Turns two-factor off: the password and a current code.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DisableTwoFactorRequest {
    #[validate(length(min = 1, max = PASSWORD_MAX))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub password: String,
    #[validate(length(min = 6, max = 20))]
    #[cfg_attr(feature = "openapi", schema(min_length = 6, max_length = 20))]
    pub code: String,
}

/// Ten single-use recovery codes, shown once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RecoveryCodes {
    pub codes: Vec<String>,
}

/// A postal address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Address {
    #[validate(length(min = 1, max = 120))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 120))]
    pub line1: String,
    #[serde(default)]
    #[validate(length(max = 120))]
    #[cfg_attr(feature = "openapi", schema(max_length = 120))]
    pub line2: String,
    #[validate(length(min = 1, max = 80))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 80))]
    pub city: String,
    #[serde(default)]
    #[validate(length(max = 80))]
    #[cfg_attr(feature = "openapi", schema(max_length = 80))]
    pub region: String,
    #[validate(length(min = 1, max = 20))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 20))]
    pub postcode: String,
    /// ISO 3166-1 alpha-2 country code, e.g. `DE`.
    #[validate(custom(function = "validation::country"))]
    pub country: String,
}

/// The client's profile: who they are and where invoices go.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Profile {
    #[validate(length(min = 1, max = NAME_MAX), custom(function = "validation::name"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub first_name: String,
    #[validate(length(min = 1, max = NAME_MAX), custom(function = "validation::name"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub last_name: String,
    #[validate(length(max = 120))]
    #[cfg_attr(feature = "openapi", schema(max_length = 120))]
    pub company: Option<String>,
    #[validate(length(max = 30), custom(function = "validation::phone"))]
    #[cfg_attr(feature = "openapi", schema(max_length = 30))]
    pub phone: Option<String>,
    #[validate(nested)]
    pub address: Option<Address>,
    /// Where invoices are addressed; absent: the same as `address`.
    #[validate(nested)]
    pub billing_address: Option<Address>,
    /// VAT or other tax number.
    #[validate(length(max = 40))]
    #[cfg_attr(feature = "openapi", schema(max_length = 40))]
    pub tax_id: Option<String>,
    pub currency: crate::money::Currency,
    /// Language of e-mails and the portal, e.g. `en`.
    #[validate(length(min = 2, max = 5))]
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 5))]
    pub language: String,
}
