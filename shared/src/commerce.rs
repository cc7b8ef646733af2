//! What the back office sets for selling: currencies and their rates, tax rules, promo codes and
//! the shop's commerce settings.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::catalog::BillingCycle;
use crate::ids::{AddonId, ProductId, PromoId, TaxRuleId};
use crate::money::Currency;
use crate::pricing::{PromoDuration, PromoKind};

/// The shop's commerce settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CommerceSettings {
    /// Prices are entered including tax.
    pub tax_inclusive: bool,
    /// A price missing in a currency is converted from the default currency's (true), or the
    /// product is not offered in that currency (false).
    pub convert_missing_prices: bool,
    /// The shop's own country (ISO 3166-1 alpha-2): an EU business customer with a VAT id in
    /// another EU member state is charged no VAT (reverse charge) when this is an EU country.
    #[serde(default)]
    #[validate(custom(function = "crate::validation::country"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 2))]
    pub home_country: Option<String>,
    /// Confirm an EU VAT id with the EU's VIES service before granting the reverse charge
    /// (answers are kept a day; when VIES cannot answer, the id's format decides and the order
    /// is held for review). Off: an id of valid format is enough.
    #[serde(default)]
    pub check_vat_online: bool,
    /// Set the exchange rates every working day from the European Central Bank's reference
    /// rates (currencies the ECB does not list keep the rate set by hand).
    #[serde(default)]
    pub refresh_rates: bool,
    /// New orders wait (`pending`) for an administrator to accept them. Off: an order that fraud
    /// screening does not hold is accepted when it is placed.
    #[serde(default = "yes")]
    pub manual_order_acceptance: bool,
    /// A pending order is accepted when its invoice is paid, so what it bought is provisioned at
    /// once; orders held by fraud screening still wait for a person.
    #[serde(default = "yes")]
    pub accept_on_payment: bool,
}

impl Default for CommerceSettings {
    fn default() -> Self {
        CommerceSettings {
            tax_inclusive: false,
            convert_missing_prices: true,
            home_country: None,
            check_vat_online: false,
            refresh_rates: false,
            manual_order_acceptance: true,
            accept_on_payment: true,
        }
    }
}

/// A currency the shop sells in (`PUT /admin/catalog/currencies/{code}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrencyInput {
    /// Units of this currency per unit of the default currency, in millionths (920000 = 0.92).
    /// The default currency's rate is always 1,000,000.
    #[validate(range(min = 1, max = crate::catalog::AMOUNT_MAX))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000000000000i64))]
    pub rate_micros: i64,
    /// Make this the default currency (prices are entered in it; rates are relative to it).
    #[serde(default)]
    pub is_default: bool,
    #[serde(default)]
    #[validate(range(min = 0, max = 100_000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100000))]
    pub sort_order: i32,
}

/// Whether a client pays tax (`PUT /admin/clients/{id}/tax-exempt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaxExemption {
    /// No tax is charged on this client's orders.
    pub tax_exempt: bool,
}

/// The EU member states (ISO 3166-1 alpha-2; Greece's VAT ids use the prefix EL).
pub const EU_COUNTRIES: &[&str] = &[
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL",
    "PT", "RO", "SE", "SI", "SK",
];

/// Whether `vat_id` has the format of an EU VAT id of `country`: the country's prefix (EL for
/// Greece) followed by 2 to 12 letters or digits. (Whether it exists is VIES's to say.)
pub fn eu_vat_id_format(country: &str, vat_id: &str) -> bool {
    let id: String = vat_id.chars().filter(|c| !c.is_whitespace() && *c != '-' && *c != '.').collect::<String>().to_ascii_uppercase();
    let prefix = if country == "GR" { "EL" } else { country };
    EU_COUNTRIES.contains(&country)
        && id.len() > 2
        && id.starts_with(prefix)
        && (4..=14).contains(&id.len())
        && id[2..].bytes().all(|c| c.is_ascii_alphanumeric())
        && id[2..].bytes().any(|c| c.is_ascii_digit())
}

/// A tax rule as the back office edits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaxRuleInput {
    /// ISO 3166-1 alpha-2 country code.
    #[validate(custom(function = "crate::validation::country"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 2, max_length = 2))]
    pub country: String,
    /// A state or region; empty: the whole country.
    #[serde(default)]
    #[validate(length(max = 100))]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub state: String,
    /// VAT, GST, Sales tax…
    #[validate(length(min = 1, max = 40))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 40))]
    pub name: String,
    /// Basis points: 1900 = 19 %.
    #[validate(range(min = 0, max = 10_000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 10000))]
    pub rate_bp: u32,
    /// 1, or 2 for a second tax.
    #[serde(default = "level_one")]
    #[validate(range(min = 1, max = 2))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 2))]
    pub level: u8,
    /// Level 2: charged on the amount plus the level-1 tax.
    #[serde(default)]
    pub compound: bool,
}

fn level_one() -> u8 {
    1
}

/// A tax rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TaxRule {
    pub id: TaxRuleId,
    #[serde(flatten)]
    pub rule: TaxRuleInput,
}

/// A promo code as the back office edits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[validate(schema(function = "promo_shape"))]
pub struct PromoCodeInput {
    /// What customers type (letters, digits, `-`, `_`; stored upper-cased, unique).
    #[validate(length(min = 1, max = 40), custom(function = "crate::validation::promo_code"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 40))]
    pub code: String,
    pub kind: PromoKind,
    /// Basis points for a percentage (1000 = 10 %), minor units for a fixed amount.
    #[validate(range(min = 1, max = crate::catalog::AMOUNT_MAX))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000000000000i64))]
    pub value: i64,
    /// The currency of a fixed amount (default: the shop's default currency).
    #[serde(default)]
    pub currency: Option<Currency>,
    pub duration: PromoDuration,
    /// Repeating: how many payments it discounts.
    #[serde(default)]
    #[validate(range(min = 1, max = 1000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000))]
    pub duration_cycles: Option<u32>,
    /// Only these products (empty: all).
    #[serde(default)]
    #[validate(length(max = 200))]
    #[cfg_attr(feature = "openapi", schema(max_items = 200))]
    pub product_ids: Vec<ProductId>,
    /// Only these cycles (empty: all).
    #[serde(default)]
    #[validate(length(max = 8))]
    #[cfg_attr(feature = "openapi", schema(max_items = 8))]
    pub cycles: Vec<BillingCycle>,
    /// Also discounts these add-ons.
    #[serde(default)]
    #[validate(length(max = 200))]
    #[cfg_attr(feature = "openapi", schema(max_items = 200))]
    pub addon_ids: Vec<AddonId>,
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Total uses allowed (none: unlimited).
    #[serde(default)]
    #[validate(range(min = 1, max = 1_000_000_000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000000000))]
    pub max_uses: Option<i32>,
    /// A client may use it once.
    #[serde(default)]
    pub once_per_client: bool,
    /// Only clients with no earlier order.
    #[serde(default)]
    pub new_clients_only: bool,
    /// May be combined with other stackable codes in one order.
    #[serde(default)]
    pub stackable: bool,
    /// Minimum cart subtotal in the default currency, minor units.
    #[serde(default)]
    #[validate(range(min = 1, max = crate::catalog::AMOUNT_MAX))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000000000000i64))]
    pub min_order_minor: Option<i64>,
    /// Switched off codes are refused.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

fn promo_shape(p: &PromoCodeInput) -> Result<(), validator::ValidationError> {
    if p.kind == PromoKind::Percent && p.value > 10_000 {
        return Err(crate::validation::error("value", "a percentage is at most 10000 basis points (100 %)"));
    }
    if p.duration == PromoDuration::Repeating && p.duration_cycles.is_none() {
        return Err(crate::validation::error("duration_cycles", "a repeating promo needs duration_cycles"));
    }
    if let (Some(s), Some(e)) = (p.starts_at, p.expires_at) {
        if e <= s {
            return Err(crate::validation::error("expires_at", "must be after starts_at"));
        }
    }
    Ok(())
}

/// A promo code with its use count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromoCode {
    pub id: PromoId,
    #[serde(flatten)]
    pub promo: PromoCodeInput,
    /// Orders that used it.
    pub uses: i32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eu_vat_id_formats() {
        assert!(eu_vat_id_format("DE", "DE123456789"));
        assert!(eu_vat_id_format("DE", "de 123 456 789"));
        assert!(eu_vat_id_format("GR", "EL123456789"));
        assert!(!eu_vat_id_format("GR", "GR123456789"));
        assert!(!eu_vat_id_format("FR", "DE123456789"));
        assert!(!eu_vat_id_format("US", "US123456789"));
        assert!(!eu_vat_id_format("DE", "DE"));
        assert!(!eu_vat_id_format("DE", "DEABCDEFGH"));
        assert!(!eu_vat_id_format("DE", "DE1234567890123456"));
    }
}
