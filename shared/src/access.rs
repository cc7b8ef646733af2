//! Who may do what beyond their own account: back-office staff with named permissions, and team
//! members a client invites to their account with a set of areas.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::auth::Role;
use crate::validation::{self, EMAIL_MAX, NAME_MAX};

/// An enum whose values travel and are stored as fixed names (`clients.read`, `billing`).
pub trait Named: Copy + PartialEq + 'static {
    const ALL: &'static [Self];
    fn name(self) -> &'static str;
    fn from_name(s: &str) -> Option<Self>;
}

/// A set of names as stored in a text column: a JSON array, sorted by name.
pub fn names_to_json<T: Named>(items: &[T]) -> String {
    let mut names: Vec<&str> = items.iter().map(|p| p.name()).collect();
    names.sort_unstable();
    names.dedup();
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".into())
}

/// Reads a stored set; unknown names (say, one a later version removed) grant nothing.
pub fn names_from_json<T: Named>(json: &str) -> Vec<T> {
    serde_json::from_str::<Vec<String>>(json).unwrap_or_default().iter().filter_map(|n| T::from_name(n)).collect()
}

macro_rules! named_set {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl Named for $name {
            const ALL: &'static [$name] = $name::ALL;
            fn name(self) -> &'static str {
                self.as_str()
            }
            fn from_name(s: &str) -> Option<$name> {
                $name::parse(s)
            }
        }
    };
}

named_set! {
    /// A back-office permission. Administrators hold all of them; staff hold the ones an
    /// administrator granted. Managing staff and security settings stays with administrators.
    Permission {
        /// See clients, their profiles, e-mails and deletion requests.
        ClientsRead = "clients.read",
        /// Change clients (approve deletion requests).
        ClientsWrite = "clients.write",
        /// View the portal as a client ("log in as client").
        ClientsImpersonate = "clients.impersonate",
        /// See orders, invoices and payments.
        BillingRead = "billing.read",
        /// Create and change invoices, record payments, refund.
        BillingWrite = "billing.write",
        /// Read support tickets.
        SupportRead = "support.read",
        /// Answer support tickets.
        SupportReply = "support.reply",
        /// Servers, provisioning modules and domains' registrars.
        ServersManage = "servers.manage",
        /// Products, prices and promotions.
        CatalogManage = "catalog.manage",
        /// Jobs and scheduled tasks.
        AutomationManage = "automation.manage",
        /// Read the e-mail log.
        EmailsRead = "emails.read",
        /// Edit e-mail templates.
        EmailsManage = "emails.manage",
        /// Read the audit log.
        AuditRead = "audit.read",
    }
}

named_set! {
    /// An area of a client's account a team member may use.
    MemberPermission {
        /// Invoices, payments and the billing details.
        Billing = "billing",
        /// Hosting services.
        Services = "services",
        /// Domains and DNS.
        Domains = "domains",
        /// Support tickets.
        Support = "support",
    }
}

fn distinct<T: PartialEq>(items: &[T]) -> Result<(), validator::ValidationError> {
    if items.iter().enumerate().any(|(i, a)| items[..i].contains(a)) {
        return Err(validation::error("duplicate", "each permission may be listed once"));
    }
    Ok(())
}

fn distinct_permissions(items: &[Permission]) -> Result<(), validator::ValidationError> {
    distinct(items)
}

fn distinct_areas(items: &[MemberPermission]) -> Result<(), validator::ValidationError> {
    distinct(items)
}

fn back_office(role: &Role) -> Result<(), validator::ValidationError> {
    if role.is_back_office() {
        Ok(())
    } else {
        Err(validation::error("back_office_role", "must be admin or staff"))
    }
}

/// A back-office user as listed on the staff page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StaffMember {
    pub id: crate::ids::UserId,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// `admin` or `staff`.
    pub role: Role,
    /// What a staff member may do (administrators: everything, listed in full).
    pub permissions: Vec<Permission>,
    pub two_factor: bool,
    /// A disabled staff member cannot sign in.
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
}

/// Adds a back-office user; they get an e-mail with a link to choose their password.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateStaffRequest {
    #[validate(length(max = EMAIL_MAX), custom(function = "validation::email"))]
    #[cfg_attr(feature = "openapi", schema(max_length = 254))]
    pub email: String,
    #[validate(length(min = 1, max = NAME_MAX), custom(function = "validation::name"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub first_name: String,
    #[validate(length(min = 1, max = NAME_MAX), custom(function = "validation::name"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub last_name: String,
    #[validate(custom(function = "back_office"))]
    pub role: Role,
    /// Ignored for administrators.
    #[serde(default)]
    #[validate(custom(function = "distinct_permissions"))]
    pub permissions: Vec<Permission>,
}

/// Changes a back-office user's role, permissions or access.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateStaffRequest {
    #[validate(custom(function = "back_office"))]
    pub role: Role,
    #[serde(default)]
    #[validate(custom(function = "distinct_permissions"))]
    pub permissions: Vec<Permission>,
    /// Disabling ends the user's sessions and API keys stop working.
    #[serde(default)]
    pub disabled: bool,
}

/// Platform-wide sign-in rules.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SecuritySettings {
    /// Staff without two-factor authentication are refused in the back office (code
    /// `two_factor_required`) until they turn it on.
    pub require_staff_two_factor: bool,
}

crate::text_enum! {
    /// Whether an invitation is still open.
    pub enum MemberStatus {
        /// Invited, not accepted yet.
        Invited = "invited",
        /// The invitation lapsed without being accepted.
        Expired = "expired",
        /// Accepted: the member can use the account.
        Active = "active",
    }
}

/// A person with access to a client's account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamMember {
    pub id: crate::ids::MemberId,
    pub email: String,
    /// The member's name once they accepted.
    pub name: Option<String>,
    pub permissions: Vec<MemberPermission>,
    pub status: MemberStatus,
    pub invited_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
}

/// Invites someone to the caller's account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InviteMemberRequest {
    #[validate(length(max = EMAIL_MAX), custom(function = "validation::email"))]
    #[cfg_attr(feature = "openapi", schema(max_length = 254))]
    pub email: String,
    #[validate(length(min = 1, max = 4), custom(function = "distinct_areas"))]
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 4))]
    pub permissions: Vec<MemberPermission>,
}

/// Changes what a member may use.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateMemberRequest {
    #[validate(length(min = 1, max = 4), custom(function = "distinct_areas"))]
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 4))]
    pub permissions: Vec<MemberPermission>,
}

/// What an invitation link offers (shown before accepting).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Invitation {
    /// The inviting account's name (company, or the owner's name).
    pub account_name: String,
    /// The address the invitation was sent to.
    pub email: String,
    pub permissions: Vec<MemberPermission>,
    /// True when that address already has a Keel login: sign in and accept instead of registering.
    pub existing_account: bool,
    pub expires_at: DateTime<Utc>,
}

/// Accepts an invitation by opening a login for the invited address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AcceptInvitationRequest {
    #[validate(length(min = 1, max = NAME_MAX), custom(function = "validation::name"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub first_name: String,
    #[validate(length(min = 1, max = NAME_MAX), custom(function = "validation::name"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub last_name: String,
    #[validate(custom(function = "validation::password"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 128))]
    pub password: String,
}

/// An account the caller may act for as a team member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Membership {
    /// Send as the `X-Keel-Account` header to act for this account.
    pub account_id: crate::ids::UserId,
    pub account_name: String,
    pub permissions: Vec<MemberPermission>,
    pub accepted_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()), Some(*p));
            assert_eq!(serde_json::to_string(p).unwrap(), format!("\"{}\"", p.as_str()));
        }
        assert_eq!(MemberPermission::parse("billing"), Some(MemberPermission::Billing));
        assert_eq!(MemberPermission::parse("admin"), None);
    }

    #[test]
    fn stored_sets_are_sorted_and_unknown_names_grant_nothing() {
        assert_eq!(names_to_json(&[Permission::SupportReply, Permission::ClientsRead]), r#"["clients.read","support.reply"]"#);
        assert_eq!(names_from_json::<Permission>(r#"["clients.read","root.everything"]"#), vec![Permission::ClientsRead]);
        assert!(names_from_json::<MemberPermission>("not json").is_empty());
    }

    #[test]
    fn requests_are_validated() {
        let r =
            InviteMemberRequest { email: "a@example.com".into(), permissions: vec![MemberPermission::Billing, MemberPermission::Billing] };
        assert!(r.validate().unwrap_err().field_errors().contains_key("permissions"));
        let r = InviteMemberRequest { email: "a@example.com".into(), permissions: vec![] };
        assert!(r.validate().is_err());
        let r = UpdateStaffRequest { role: Role::Client, permissions: vec![], disabled: false };
        assert!(r.validate().unwrap_err().field_errors().contains_key("role"));
    }
}
