use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_shared::catalog::{BillingCycle, Price, Product, ProductType};
use keel_shared::Currency;

use crate::error::ApiError;
use crate::schema::{product_prices, products};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = products)]
pub struct ProductRow {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub product_type: String,
    pub description: String,
    pub features: String,
    pub featured: bool,
    pub active: bool,
    pub sort_order: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = product_prices)]
pub struct PriceRow {
    pub product_id: String,
    pub cycle: String,
    pub currency: String,
    pub amount_minor: i64,
    pub setup_fee_minor: i64,
}

impl PriceRow {
    pub fn to_price(&self) -> Result<Price, ApiError> {
        Ok(Price {
            cycle: BillingCycle::parse(&self.cycle).ok_or_else(|| ApiError::internal(format!("unknown billing cycle '{}'", self.cycle)))?,
            currency: Currency::parse(&self.currency).ok_or_else(|| ApiError::internal(format!("unknown currency '{}'", self.currency)))?,
            amount_minor: self.amount_minor,
            setup_fee_minor: self.setup_fee_minor,
        })
    }
}

impl ProductRow {
    pub fn to_product(&self, prices: &[PriceRow]) -> Result<Product, ApiError> {
        let mut prices = prices.iter().map(PriceRow::to_price).collect::<Result<Vec<_>, _>>()?;
        prices.sort_by_key(|p| (p.currency, p.cycle));
        Ok(Product {
            id: self.id.clone().into(),
            slug: self.slug.clone(),
            name: self.name.clone(),
            product_type: ProductType::parse(&self.product_type)
                .ok_or_else(|| ApiError::internal(format!("unknown product type '{}'", self.product_type)))?,
            description: self.description.clone(),
            features: serde_json::from_str(&self.features).map_err(|e| ApiError::internal(format!("product features: {e}")))?,
            featured: self.featured,
            prices,
        })
    }
}
