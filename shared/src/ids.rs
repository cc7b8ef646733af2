//! Typed ids: one newtype per entity, so a session id cannot be passed where a user id is meant.
//! Each travels as today's string (a UUIDv7, `0192f0c4-…`) and is one in the OpenAPI document.
//!
//! Reading one from a request checks its shape: a malformed id in a JSON body is a 422 naming
//! the field, in a path a 404 (it names nothing), so a NUL byte or a 10 KB string never reaches
//! the database. Ids read from the database are trusted (`From<String>`).

/// The shape every id has: a UUID in its hyphenated, lower- or upper-case text form.
pub fn is_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `id_type! { /// doc  pub struct UserId; … }`
macro_rules! id_type {
    ($($(#[$meta:meta])* pub struct $name:ident;)+) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[cfg_attr(feature = "diesel", derive(diesel::AsExpression, diesel::FromSqlRow))]
        #[cfg_attr(feature = "diesel", diesel(sql_type = diesel::sql_types::Text))]
        pub struct $name(String);

        impl $name {
            /// The id in `s`, if `s` has an id's shape.
            pub fn parse(s: &str) -> Option<$name> {
                is_id(s).then(|| $name(s.to_ascii_lowercase()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        /// From storage or from Keel's own id generator: trusted, not checked.
        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(de)?;
                $name::parse(&s).ok_or_else(|| serde::de::Error::custom("expected an id (a UUID such as 0192f0c4-8e3b-7cc1-9a52-3f1e2d4c5b6a)"))
            }
        }

        #[cfg(feature = "diesel")]
        impl<DB> diesel::serialize::ToSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            str: diesel::serialize::ToSql<diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut diesel::serialize::Output<'b, '_, DB>) -> diesel::serialize::Result {
                <str as diesel::serialize::ToSql<diesel::sql_types::Text, DB>>::to_sql(&self.0, out)
            }
        }

        #[cfg(feature = "diesel")]
        impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for $name
        where
            DB: diesel::backend::Backend,
            String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
                Ok($name(<String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(bytes)?))
            }
        }
    )+};
}

id_type! {
    /// A user: client, staff member or administrator (also a client account's id).
    pub struct UserId;
    /// A signed-in session.
    pub struct SessionId;
    /// An API key.
    pub struct ApiKeyId;
    /// A team member of a client account (an invitation until accepted).
    pub struct MemberId;
    /// A job of the queue.
    pub struct JobId;
    /// An e-mail of the outbox.
    pub struct EmailId;
    /// An entry of the audit log.
    pub struct AuditEntryId;
    /// A product of the catalog.
    pub struct ProductId;
    /// A product group of the catalog (Shared, VPS, Add-ons…).
    pub struct GroupId;
    /// A configurable option of a product (RAM, disk, location).
    pub struct OptionId;
    /// One value of a configurable option (8 GB).
    pub struct OptionValueId;
    /// An add-on (SSL, daily backups) attachable to products.
    pub struct AddonId;
    /// A promo code.
    pub struct PromoId;
    /// A tax rule.
    pub struct TaxRuleId;
    /// An order.
    pub struct OrderId;
    /// A service a client bought (a hosting account, a VPS, a domain).
    pub struct ServiceId;
    /// A server accounts are provisioned on.
    pub struct ServerId;
    /// A change of a service's plan, options or add-ons (an upgrade or downgrade).
    pub struct ServiceChangeId;
    /// An invoice (or credit note).
    pub struct InvoiceId;
    /// A payment or refund recorded against an invoice.
    pub struct PaymentId;
    /// A webhook event a payment gateway sent.
    pub struct PaymentEventId;
    /// A stored payment method (a gateway's token for a client's card).
    pub struct PaymentMethodId;
    /// A credit note (a correction of an issued invoice).
    pub struct CreditNoteId;
    /// An entry of a client's credit ledger.
    pub struct CreditEntryId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked_when_read_from_a_request() {
        let id = "0192f0c4-8e3b-7cc1-9a52-3f1e2d4c5b6a";
        assert_eq!(UserId::parse(id).map(String::from).as_deref(), Some(id));
        assert_eq!(serde_json::from_str::<UserId>(&format!("\"{id}\"")).ok(), UserId::parse(id));
        assert_eq!(serde_json::to_string(&UserId::from(id.to_string())).unwrap_or_default(), format!("\"{id}\""));
        for bad in [
            "",
            "nope",
            "0192f0c4-8e3b-7cc1-9a52-3f1e2d4c5b6",
            "0192f0c4-8e3b-7cc1-9a52-3f1e2d4c5b6\0",
            "0192f0c4x8e3b-7cc1-9a52-3f1e2d4c5b6a",
        ] {
            assert_eq!(UserId::parse(bad), None, "{bad:?}");
            assert!(serde_json::from_str::<SessionId>(&serde_json::to_string(bad).unwrap_or_default()).is_err());
        }
        assert_eq!(UserId::parse(&id.to_uppercase()).map(String::from).as_deref(), Some(id), "one spelling");
    }
}
