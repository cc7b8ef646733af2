//! The product catalog as the storefront and the API show it.

use serde::{Deserialize, Serialize};
use validator::Validate;

use crate::money::{Currency, Money};

crate::text_enum! {
    /// What kind of service a product is.
    pub enum ProductType {
        SharedHosting = "shared_hosting",
        WordpressHosting = "wordpress_hosting",
        Vps = "vps",
        Cloud = "cloud",
        Domain = "domain",
        Other = "other",
    }
}

impl ProductType {
    /// Name shown to customers.
    pub fn label(self) -> &'static str {
        match self {
            ProductType::SharedHosting => "Shared hosting",
            ProductType::WordpressHosting => "WordPress hosting",
            ProductType::Vps => "VPS",
            ProductType::Cloud => "Cloud",
            ProductType::Domain => "Domain",
            ProductType::Other => "Other",
        }
    }
}

crate::text_enum! {
    /// How often a service is billed.
    pub enum BillingCycle {
        Monthly = "monthly",
        Quarterly = "quarterly",
        Semiannually = "semiannually",
        Annually = "annually",
        Biennially = "biennially",
        Triennially = "triennially",
        /// Paid once, never renewed.
        OneTime = "one_time",
        /// No charge.
        Free = "free",
    }
}

impl BillingCycle {
    /// Length of the cycle in months (0 for one-time and free: they never renew).
    pub fn months(self) -> u32 {
        match self {
            BillingCycle::Monthly => 1,
            BillingCycle::Quarterly => 3,
            BillingCycle::Semiannually => 6,
            BillingCycle::Annually => 12,
            BillingCycle::Biennially => 24,
            BillingCycle::Triennially => 36,
            BillingCycle::OneTime | BillingCycle::Free => 0,
        }
    }

    /// Whether the service renews at the end of the cycle.
    pub fn is_recurring(self) -> bool {
        self.months() > 0
    }

    /// Short suffix for prices: `/mo`, `/yr`.
    pub fn per(self) -> &'static str {
        match self {
            BillingCycle::Monthly => "/mo",
            BillingCycle::Quarterly => "/quarter",
            BillingCycle::Semiannually => "/6 mo",
            BillingCycle::Annually => "/yr",
            BillingCycle::Biennially => "/2 yr",
            BillingCycle::Triennially => "/3 yr",
            BillingCycle::OneTime => " once",
            BillingCycle::Free => "",
        }
    }

    /// Name shown to customers.
    pub fn label(self) -> &'static str {
        match self {
            BillingCycle::Monthly => "Monthly",
            BillingCycle::Quarterly => "Quarterly",
            BillingCycle::Semiannually => "Every 6 months",
            BillingCycle::Annually => "Annually",
            BillingCycle::Biennially => "Every 2 years",
            BillingCycle::Triennially => "Every 3 years",
            BillingCycle::OneTime => "One-time",
            BillingCycle::Free => "Free",
        }
    }
}

/// The largest amount a price may have, in minor units.
pub const AMOUNT_MAX: i64 = 1_000_000_000_000;

/// The price of a product, option value or add-on for one billing cycle in one currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Price {
    pub cycle: BillingCycle,
    pub currency: Currency,
    /// Amount of the first cycle, in minor units.
    #[validate(range(min = 0, max = AMOUNT_MAX))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000000000000i64))]
    pub amount_minor: i64,
    /// One-off setup fee, in minor units.
    #[serde(default)]
    #[validate(range(min = 0, max = AMOUNT_MAX))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000000000000i64))]
    pub setup_fee_minor: i64,
    /// Amount of every later cycle, when it differs from the first (a first-term offer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[validate(range(min = 0, max = AMOUNT_MAX))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000000000000i64))]
    pub renewal_minor: Option<i64>,
}

impl Price {
    pub fn amount(&self) -> Money {
        Money::new(self.amount_minor, self.currency)
    }

    /// What every cycle after the first costs.
    pub fn renewal(&self) -> i64 {
        self.renewal_minor.unwrap_or(self.amount_minor)
    }

    /// What the price comes to per month, for showing a longer cycle as a monthly figure
    /// ("$4.16/mo billed yearly"). Rounded down to the minor unit, so the figure shown never
    /// promises less than is charged over the cycle by more than a cent per month. One-time and
    /// free prices are their amount.
    pub fn monthly_equivalent(&self) -> Money {
        let months = i64::from(self.cycle.months().max(1));
        Money::new(self.amount_minor / months, self.currency)
    }

    /// What paying per year saves against twelve monthly payments, in whole percent.
    pub fn annual_saving_percent(monthly: &Price, annual: &Price) -> Option<i64> {
        if monthly.currency != annual.currency || monthly.amount_minor <= 0 {
            return None;
        }
        let twelve = monthly.amount_minor.checked_mul(12)?;
        let saved = twelve - annual.amount_minor;
        (saved > 0).then(|| saved * 100 / twelve)
    }
}

crate::text_enum! {
    /// How a configurable option is chosen.
    pub enum OptionKind {
        /// One value from a list (a select box).
        Dropdown = "dropdown",
        /// One value from a list (radio buttons).
        Radio = "radio",
        /// A number of units between `min` and `max` in steps of `step`, priced per unit (the
        /// option's one value carries the unit price).
        Quantity = "quantity",
        /// On or off; its one value carries the price when on.
        YesNo = "yes_no",
    }
}

/// One value of a configurable option, priced per cycle and currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OptionValue {
    pub id: crate::ids::OptionValueId,
    pub label: String,
    /// Price of this value per cycle and currency; a cycle with no price costs nothing extra.
    pub prices: Vec<Price>,
}

/// A configurable option of a product (RAM, vCPU, disk, location).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConfigOption {
    pub id: crate::ids::OptionId,
    pub name: String,
    pub kind: OptionKind,
    /// Dropdown and radio: the choices, the first being the default. Quantity and yes/no: one
    /// value carrying the price (per unit, or when on).
    pub values: Vec<OptionValue>,
    /// Quantity options: the smallest number (also the default), the largest and the step.
    pub min: i64,
    pub max: i64,
    pub step: i64,
    /// Quantity options: what a unit is ("GB").
    pub unit: String,
}

/// An add-on (SSL, daily backups, DDoS protection) a customer can attach to some products,
/// billed with the service on the service's cycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Addon {
    pub id: crate::ids::AddonId,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub prices: Vec<Price>,
}

/// A group of products the storefront shows together (Shared, VPS, Cloud…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductGroup {
    pub id: crate::ids::GroupId,
    pub slug: String,
    pub name: String,
    pub description: String,
}

/// A product for sale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Product {
    /// Opaque product id.
    pub id: crate::ids::ProductId,
    /// URL-friendly unique name.
    pub slug: String,
    pub name: String,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    /// The storefront group it is listed in.
    #[serde(default)]
    pub group_id: Option<crate::ids::GroupId>,
    pub description: String,
    /// Bullet points shown on the plan card.
    pub features: Vec<String>,
    /// Shown with a "most popular" badge.
    pub featured: bool,
    /// Not listed in the storefront, but orderable by its link.
    #[serde(default)]
    pub hidden: bool,
    /// Ordering it needs a domain (register, transfer or one the client owns).
    #[serde(default)]
    pub requires_domain: bool,
    /// False when its stock is used up.
    #[serde(default = "yes")]
    pub in_stock: bool,
    pub prices: Vec<Price>,
    /// Configurable options (hidden options are not shown to customers).
    #[serde(default)]
    pub options: Vec<ConfigOption>,
    /// The add-ons that can be attached to it.
    #[serde(default)]
    pub addon_ids: Vec<crate::ids::AddonId>,
}

fn yes() -> bool {
    true
}

impl Product {
    pub fn price(&self, cycle: BillingCycle, currency: Currency) -> Option<&Price> {
        self.prices.iter().find(|p| p.cycle == cycle && p.currency == currency)
    }
}

/// What the storefront needs to show and price anything: the public catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Catalog {
    /// The currency prices are entered in.
    pub default_currency: Currency,
    /// The currencies the shop sells in, with their rates.
    pub currencies: Vec<crate::money::CurrencyInfo>,
    /// A price missing in a currency is converted from the default currency's price at the rate
    /// (true), or the product is not offered in that currency (false).
    pub convert_missing_prices: bool,
    /// Prices include tax (true) or tax is added on top (false).
    pub tax_inclusive: bool,
    pub groups: Vec<ProductGroup>,
    /// Products for sale in storefront order, hidden ones included (the storefront skips them).
    pub products: Vec<Product>,
    pub addons: Vec<Addon>,
}

impl Catalog {
    pub fn product(&self, id: &str) -> Option<&Product> {
        self.products.iter().find(|p| p.id == id)
    }

    pub fn addon(&self, id: &str) -> Option<&Addon> {
        self.addons.iter().find(|a| a.id == id)
    }

    pub fn currency(&self, code: Currency) -> Option<&crate::money::CurrencyInfo> {
        self.currencies.iter().find(|c| c.code == code)
    }

    /// The price for `cycle` in `currency` among `prices`: the one entered, else (when the shop
    /// converts missing prices) the default currency's converted at the rate with
    /// [`crate::money::convert`]'s rounding (amount, setup fee and renewal each).
    pub fn price_in(&self, prices: &[Price], cycle: BillingCycle, currency: Currency) -> Option<Price> {
        if let Some(p) = prices.iter().find(|p| p.cycle == cycle && p.currency == currency) {
            return Some(p.clone());
        }
        if !self.convert_missing_prices || currency == self.default_currency {
            return None;
        }
        let base = prices.iter().find(|p| p.cycle == cycle && p.currency == self.default_currency)?;
        let (from, to) = (self.currency(self.default_currency)?, self.currency(currency)?);
        let conv = |v: i64| crate::money::convert(v, from, to);
        Some(Price {
            cycle,
            currency,
            amount_minor: conv(base.amount_minor)?,
            setup_fee_minor: conv(base.setup_fee_minor)?,
            renewal_minor: match base.renewal_minor {
                Some(r) => Some(conv(r)?),
                None => None,
            },
        })
    }
}

/// No two prices of a list for the same cycle and currency.
fn distinct_prices(prices: &[Price]) -> Result<(), validator::ValidationError> {
    let mut seen = std::collections::BTreeSet::new();
    if prices.iter().all(|p| seen.insert((p.cycle, p.currency))) {
        Ok(())
    } else {
        Err(crate::validation::error("distinct", "has two prices for the same cycle and currency"))
    }
}

fn features(items: &[String]) -> Result<(), validator::ValidationError> {
    if items.iter().all(|f| !f.trim().is_empty() && f.chars().count() <= 200) {
        Ok(())
    } else {
        Err(crate::validation::error("length", "each feature must be 1 to 200 characters"))
    }
}

/// A value of a configurable option as the back office edits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OptionValueInput {
    /// The value to keep (its id stays valid in customers' carts); none for a new value.
    #[serde(default)]
    pub id: Option<crate::ids::OptionValueId>,
    #[validate(length(min = 1, max = 100))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub label: String,
    #[serde(default)]
    #[validate(length(max = 100), nested, custom(function = "distinct_prices"))]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub prices: Vec<Price>,
}

/// A configurable option as the back office edits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[validate(schema(function = "option_shape"))]
pub struct OptionInput {
    /// The option to keep; none for a new option.
    #[serde(default)]
    pub id: Option<crate::ids::OptionId>,
    #[validate(length(min = 1, max = 100))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    pub kind: OptionKind,
    /// Not offered to customers (kept for existing services).
    #[serde(default)]
    pub hidden: bool,
    /// Quantity options: smallest, largest number and step.
    #[serde(default)]
    #[validate(range(min = 0, max = 1_000_000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000000))]
    pub min: i64,
    #[serde(default)]
    #[validate(range(min = 0, max = 1_000_000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000000))]
    pub max: i64,
    #[serde(default = "one")]
    #[validate(range(min = 1, max = 1_000_000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 1000000))]
    pub step: i64,
    #[serde(default)]
    #[validate(length(max = 20))]
    #[cfg_attr(feature = "openapi", schema(max_length = 20))]
    pub unit: String,
    #[validate(length(min = 1, max = 50), nested)]
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 50))]
    pub values: Vec<OptionValueInput>,
}

fn one() -> i64 {
    1
}

/// Quantity and yes/no options carry exactly one value (the price); a quantity's range is
/// ordered.
fn option_shape(o: &OptionInput) -> Result<(), validator::ValidationError> {
    match o.kind {
        OptionKind::Quantity | OptionKind::YesNo if o.values.len() != 1 => {
            Err(crate::validation::error("values", "quantity and yes/no options have exactly one value, carrying the price"))
        }
        OptionKind::Quantity if o.min > o.max => Err(crate::validation::error("range", "min must not exceed max")),
        _ => Ok(()),
    }
}

/// A product as the back office edits it (`POST /admin/catalog/products`, `PUT …/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProductInput {
    #[validate(length(min = 1, max = 60), custom(function = "crate::validation::slug"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 60))]
    pub slug: String,
    #[validate(length(min = 1, max = 100))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    #[serde(rename = "type")]
    pub product_type: ProductType,
    #[serde(default)]
    pub group_id: Option<crate::ids::GroupId>,
    #[serde(default)]
    #[validate(length(max = 2000))]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub description: String,
    #[serde(default)]
    #[validate(length(max = 20), custom(function = "features"))]
    #[cfg_attr(feature = "openapi", schema(max_items = 20))]
    pub features: Vec<String>,
    #[serde(default)]
    pub featured: bool,
    /// Not listed in the storefront; orderable by its link.
    #[serde(default)]
    pub hidden: bool,
    /// No longer sold (existing services keep it).
    #[serde(default)]
    pub retired: bool,
    #[serde(default)]
    pub requires_domain: bool,
    /// Units left to sell; none: unlimited.
    #[serde(default)]
    #[validate(range(min = 0, max = 1_000_000_000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 1000000000))]
    pub stock: Option<i64>,
    /// Provisioning module (`cpanel`, `hetzner`…) and its package name.
    #[serde(default)]
    #[validate(length(min = 1, max = 40))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 40))]
    pub module: Option<String>,
    #[serde(default)]
    #[validate(length(min = 1, max = 100))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub package: Option<String>,
    #[serde(default)]
    #[validate(range(min = 0, max = 100_000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100000))]
    pub sort_order: i32,
    #[validate(length(max = 100), nested, custom(function = "distinct_prices"))]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub prices: Vec<Price>,
    #[serde(default)]
    #[validate(length(max = 30), nested)]
    #[cfg_attr(feature = "openapi", schema(max_items = 30))]
    pub options: Vec<OptionInput>,
    #[serde(default)]
    #[validate(length(max = 50))]
    #[cfg_attr(feature = "openapi", schema(max_items = 50))]
    pub addon_ids: Vec<crate::ids::AddonId>,
}

/// A product as the back office sees it: everything it edits, with ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminProduct {
    pub id: crate::ids::ProductId,
    #[serde(flatten)]
    pub product: ProductInput,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// A product group as the back office edits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupInput {
    #[validate(length(min = 1, max = 60), custom(function = "crate::validation::slug"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 60))]
    pub slug: String,
    #[validate(length(min = 1, max = 100))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    #[serde(default)]
    #[validate(length(max = 2000))]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub description: String,
    /// Shown in the storefront.
    #[serde(default = "yes")]
    pub visible: bool,
    #[serde(default)]
    #[validate(range(min = 0, max = 100_000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100000))]
    pub sort_order: i32,
}

/// A product group as the back office sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminGroup {
    pub id: crate::ids::GroupId,
    #[serde(flatten)]
    pub group: GroupInput,
}

/// An add-on as the back office edits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddonInput {
    #[validate(length(min = 1, max = 60), custom(function = "crate::validation::slug"))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 60))]
    pub slug: String,
    #[validate(length(min = 1, max = 100))]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub name: String,
    #[serde(default)]
    #[validate(length(max = 2000))]
    #[cfg_attr(feature = "openapi", schema(max_length = 2000))]
    pub description: String,
    /// No longer sold.
    #[serde(default)]
    pub retired: bool,
    #[serde(default)]
    #[validate(range(min = 0, max = 100_000))]
    #[cfg_attr(feature = "openapi", schema(minimum = 0, maximum = 100000))]
    pub sort_order: i32,
    #[validate(length(max = 100), nested, custom(function = "distinct_prices"))]
    #[cfg_attr(feature = "openapi", schema(max_items = 100))]
    pub prices: Vec<Price>,
}

/// An add-on as the back office sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminAddon {
    pub id: crate::ids::AddonId,
    #[serde(flatten)]
    pub addon: AddonInput,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annual_saving() {
        let m = Price { cycle: BillingCycle::Monthly, currency: Currency::USD, amount_minor: 499, setup_fee_minor: 0, renewal_minor: None };
        let a =
            Price { cycle: BillingCycle::Annually, currency: Currency::USD, amount_minor: 4999, setup_fee_minor: 0, renewal_minor: None };
        assert_eq!(Price::annual_saving_percent(&m, &a), Some(16));
    }

    #[test]
    fn monthly_equivalent_divides_by_the_months_of_the_cycle_rounding_down() {
        let price = |cycle, amount_minor| Price { cycle, currency: Currency::USD, amount_minor, setup_fee_minor: 0, renewal_minor: None };
        assert_eq!(price(BillingCycle::Annually, 4999).monthly_equivalent(), Money::new(416, Currency::USD));
        assert_eq!(price(BillingCycle::Annually, 12000).monthly_equivalent(), Money::new(1000, Currency::USD));
        assert_eq!(price(BillingCycle::Quarterly, 1000).monthly_equivalent(), Money::new(333, Currency::USD));
        assert_eq!(price(BillingCycle::Monthly, 499).monthly_equivalent(), Money::new(499, Currency::USD));
        assert_eq!(price(BillingCycle::Triennially, 3600).monthly_equivalent().display(), Money::new(100, Currency::USD).display());
    }

    #[test]
    fn cycles_round_trip() {
        for c in BillingCycle::ALL {
            assert_eq!(BillingCycle::parse(c.as_str()), Some(*c));
        }
        for t in ProductType::ALL {
            assert_eq!(ProductType::parse(t.as_str()), Some(*t));
        }
    }
}
