use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_shared::catalog::{Addon, BillingCycle, ConfigOption, OptionKind, OptionValue, Price, Product, ProductGroup, ProductType};
use keel_shared::money::CurrencyInfo;
use keel_shared::Currency;

use crate::error::ApiError;
use crate::schema::{
    addon_prices, addons, config_option_values, config_options, config_value_prices, currencies, product_addons, product_groups,
    product_prices, products,
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = products, treat_none_as_null = true)]
pub struct ProductRow {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub product_type: String,
    pub description: String,
    pub features: String,
    pub featured: bool,
    /// False: retired (no longer sold).
    pub active: bool,
    pub sort_order: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub group_id: Option<String>,
    pub hidden: bool,
    pub requires_domain: bool,
    pub stock: Option<i64>,
    pub module: Option<String>,
    pub package: Option<String>,
}

/// The columns every price table shares (products, option values, add-ons).
pub struct PriceColumns<'a> {
    pub cycle: &'a str,
    pub currency: &'a str,
    pub amount_minor: i64,
    pub setup_fee_minor: i64,
    pub renewal_minor: Option<i64>,
}

impl PriceColumns<'_> {
    pub fn to_price(&self) -> Result<Price, ApiError> {
        Ok(Price {
            cycle: BillingCycle::parse(self.cycle).ok_or_else(|| ApiError::internal(format!("unknown billing cycle '{}'", self.cycle)))?,
            currency: Currency::parse(self.currency).ok_or_else(|| ApiError::internal(format!("unknown currency '{}'", self.currency)))?,
            amount_minor: self.amount_minor,
            setup_fee_minor: self.setup_fee_minor,
            renewal_minor: self.renewal_minor,
        })
    }
}

macro_rules! price_row {
    ($name:ident, $table:ident, $owner:ident) => {
        #[derive(Debug, Clone, Queryable, Selectable, Insertable)]
        #[diesel(table_name = $table)]
        pub struct $name {
            pub $owner: String,
            pub cycle: String,
            pub currency: String,
            pub amount_minor: i64,
            pub setup_fee_minor: i64,
            pub renewal_minor: Option<i64>,
        }

        impl $name {
            pub fn new(owner: &str, p: &Price) -> Self {
                $name {
                    $owner: owner.to_string(),
                    cycle: p.cycle.as_str().into(),
                    currency: p.currency.code().into(),
                    amount_minor: p.amount_minor,
                    setup_fee_minor: p.setup_fee_minor,
                    renewal_minor: p.renewal_minor,
                }
            }

            pub fn to_price(&self) -> Result<Price, ApiError> {
                PriceColumns {
                    cycle: &self.cycle,
                    currency: &self.currency,
                    amount_minor: self.amount_minor,
                    setup_fee_minor: self.setup_fee_minor,
                    renewal_minor: self.renewal_minor,
                }
                .to_price()
            }
        }
    };
}

price_row!(PriceRow, product_prices, product_id);
price_row!(ValuePriceRow, config_value_prices, value_id);
price_row!(AddonPriceRow, addon_prices, addon_id);

/// Prices in a stable order: currency, then cycle.
pub fn sorted_prices<R>(rows: &[R], to: impl Fn(&R) -> Result<Price, ApiError>) -> Result<Vec<Price>, ApiError> {
    let mut prices = rows.iter().map(to).collect::<Result<Vec<_>, _>>()?;
    prices.sort_by_key(|p| (p.currency, p.cycle));
    Ok(prices)
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = product_groups)]
pub struct GroupRow {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub visible: bool,
    pub sort_order: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl GroupRow {
    pub fn to_dto(&self) -> ProductGroup {
        ProductGroup { id: self.id.clone().into(), slug: self.slug.clone(), name: self.name.clone(), description: self.description.clone() }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = config_options)]
pub struct OptionRow {
    pub id: String,
    pub product_id: String,
    pub name: String,
    pub kind: String,
    pub hidden: bool,
    pub min_units: i64,
    pub max_units: i64,
    pub step: i64,
    pub unit: String,
    pub sort_order: i32,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = config_option_values)]
pub struct ValueRow {
    pub id: String,
    pub option_id: String,
    pub label: String,
    pub sort_order: i32,
}

impl OptionRow {
    pub fn to_dto(&self, values: Vec<OptionValue>) -> Result<ConfigOption, ApiError> {
        Ok(ConfigOption {
            id: self.id.clone().into(),
            name: self.name.clone(),
            kind: OptionKind::parse(&self.kind).ok_or_else(|| ApiError::internal(format!("unknown option kind '{}'", self.kind)))?,
            values,
            min: self.min_units,
            max: self.max_units,
            step: self.step,
            unit: self.unit.clone(),
        })
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = addons)]
pub struct AddonRow {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub active: bool,
    pub sort_order: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl AddonRow {
    pub fn to_dto(&self, prices: Vec<Price>) -> Addon {
        Addon {
            id: self.id.clone().into(),
            slug: self.slug.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            prices,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = product_addons)]
pub struct ProductAddonRow {
    pub product_id: String,
    pub addon_id: String,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = currencies)]
pub struct CurrencyRow {
    pub code: String,
    pub rate_micros: i64,
    pub is_default: bool,
    pub sort_order: i32,
    pub updated_at: NaiveDateTime,
}

impl CurrencyRow {
    pub fn to_dto(&self) -> Result<CurrencyInfo, ApiError> {
        let code = Currency::parse(&self.code).ok_or_else(|| ApiError::internal(format!("unknown currency '{}'", self.code)))?;
        Ok(CurrencyInfo {
            code,
            exponent: code.exponent(),
            symbol: code.symbol().to_string(),
            rate_micros: self.rate_micros,
            is_default: self.is_default,
        })
    }
}

impl ProductRow {
    pub fn product_type(&self) -> Result<ProductType, ApiError> {
        ProductType::parse(&self.product_type).ok_or_else(|| ApiError::internal(format!("unknown product type '{}'", self.product_type)))
    }

    pub fn features(&self) -> Result<Vec<String>, ApiError> {
        serde_json::from_str(&self.features).map_err(|e| ApiError::internal(format!("product features: {e}")))
    }

    /// The product as customers see it.
    pub fn to_product(&self, prices: Vec<Price>, options: Vec<ConfigOption>, addon_ids: Vec<String>) -> Result<Product, ApiError> {
        Ok(Product {
            id: self.id.clone().into(),
            slug: self.slug.clone(),
            name: self.name.clone(),
            product_type: self.product_type()?,
            group_id: self.group_id.clone().map(Into::into),
            description: self.description.clone(),
            features: self.features()?,
            featured: self.featured,
            hidden: self.hidden,
            requires_domain: self.requires_domain,
            in_stock: self.stock.is_none_or(|s| s > 0),
            prices,
            options,
            addon_ids: addon_ids.into_iter().map(Into::into).collect(),
        })
    }
}
