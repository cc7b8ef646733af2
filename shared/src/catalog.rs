//! The product catalog as the storefront and the API show it.

use serde::{Deserialize, Serialize};

use crate::money::{Currency, Money};

crate::text_enum! {
    /// What kind of service a product is.
    pub enum ProductType {
        SharedHosting = "shared_hosting",
        WordpressHosting = "wordpress_hosting",
        Vps = "vps",
        Cloud = "cloud",
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
    }
}

impl BillingCycle {
    /// Length of the cycle in months.
    pub fn months(self) -> u32 {
        match self {
            BillingCycle::Monthly => 1,
            BillingCycle::Quarterly => 3,
            BillingCycle::Semiannually => 6,
            BillingCycle::Annually => 12,
            BillingCycle::Biennially => 24,
            BillingCycle::Triennially => 36,
        }
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
        }
    }
}

/// The price of a product for one billing cycle in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Price {
    pub cycle: BillingCycle,
    pub currency: Currency,
    /// Recurring amount per cycle, in minor units.
    pub amount_minor: i64,
    /// One-off setup fee, in minor units.
    pub setup_fee_minor: i64,
}

impl Price {
    pub fn amount(&self) -> Money {
        Money::new(self.amount_minor, self.currency)
    }

    /// What the price comes to per month, for showing a longer cycle as a monthly figure
    /// ("$4.16/mo billed yearly"). Rounded down to the minor unit, so the figure shown never
    /// promises less than is charged over the cycle by more than a cent per month.
    pub fn monthly_equivalent(&self) -> Money {
        Money::new(self.amount_minor / i64::from(self.cycle.months()), self.currency)
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
    pub description: String,
    /// Bullet points shown on the plan card.
    pub features: Vec<String>,
    /// Shown with a "most popular" badge.
    pub featured: bool,
    pub prices: Vec<Price>,
}

impl Product {
    pub fn price(&self, cycle: BillingCycle, currency: Currency) -> Option<&Price> {
        self.prices.iter().find(|p| p.cycle == cycle && p.currency == currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annual_saving() {
        let m = Price { cycle: BillingCycle::Monthly, currency: Currency::Usd, amount_minor: 499, setup_fee_minor: 0 };
        let a = Price { cycle: BillingCycle::Annually, currency: Currency::Usd, amount_minor: 4999, setup_fee_minor: 0 };
        assert_eq!(Price::annual_saving_percent(&m, &a), Some(16));
    }

    #[test]
    fn monthly_equivalent_divides_by_the_months_of_the_cycle_rounding_down() {
        let price = |cycle, amount_minor| Price { cycle, currency: Currency::Usd, amount_minor, setup_fee_minor: 0 };
        assert_eq!(price(BillingCycle::Annually, 4999).monthly_equivalent(), Money::new(416, Currency::Usd));
        assert_eq!(price(BillingCycle::Annually, 12000).monthly_equivalent(), Money::new(1000, Currency::Usd));
        assert_eq!(price(BillingCycle::Quarterly, 1000).monthly_equivalent(), Money::new(333, Currency::Usd));
        assert_eq!(price(BillingCycle::Monthly, 499).monthly_equivalent(), Money::new(499, Currency::Usd));
        assert_eq!(price(BillingCycle::Triennially, 3600).monthly_equivalent().display(), Money::new(100, Currency::Usd).display());
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
