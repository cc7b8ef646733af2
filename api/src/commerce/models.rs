use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_shared::catalog::BillingCycle;
use keel_shared::commerce::{PromoCode, PromoCodeInput, TaxRule, TaxRuleInput};
use keel_shared::pricing::{PromoDuration, PromoKind, PromoRule};
use keel_shared::Currency;

use crate::error::ApiError;
use crate::schema::{promo_codes, tax_rules};

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = tax_rules)]
pub struct TaxRuleRow {
    pub id: String,
    pub country: String,
    pub state: String,
    pub name: String,
    pub rate_bp: i32,
    pub level: i32,
    pub compound: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl TaxRuleRow {
    pub fn to_dto(&self) -> TaxRule {
        TaxRule {
            id: self.id.clone().into(),
            rule: TaxRuleInput {
                country: self.country.clone(),
                state: self.state.clone(),
                name: self.name.clone(),
                rate_bp: u32::try_from(self.rate_bp).unwrap_or(0),
                level: u8::try_from(self.level).unwrap_or(1),
                compound: self.compound,
            },
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = promo_codes, treat_none_as_null = true)]
pub struct PromoRow {
    pub id: String,
    pub code: String,
    pub kind: String,
    pub value: i64,
    pub currency: Option<String>,
    pub duration: String,
    pub duration_cycles: Option<i32>,
    pub product_ids: String,
    pub cycles: String,
    pub addon_ids: String,
    pub starts_at: Option<NaiveDateTime>,
    pub expires_at: Option<NaiveDateTime>,
    pub max_uses: Option<i32>,
    pub uses: i32,
    pub once_per_client: bool,
    pub new_clients_only: bool,
    pub min_order_minor: Option<i64>,
    pub active: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub stackable: bool,
}

fn list<T: serde::de::DeserializeOwned>(json: &str, what: &str) -> Result<Vec<T>, ApiError> {
    serde_json::from_str(json).map_err(|e| ApiError::internal(format!("promo {what}: {e}")))
}

impl PromoRow {
    pub fn to_input(&self) -> Result<PromoCodeInput, ApiError> {
        Ok(PromoCodeInput {
            code: self.code.clone(),
            kind: PromoKind::parse(&self.kind).ok_or_else(|| ApiError::internal(format!("unknown promo kind '{}'", self.kind)))?,
            value: self.value,
            currency: self.currency.as_deref().and_then(Currency::parse),
            duration: PromoDuration::parse(&self.duration)
                .ok_or_else(|| ApiError::internal(format!("unknown promo duration '{}'", self.duration)))?,
            duration_cycles: self.duration_cycles.and_then(|c| u32::try_from(c).ok()),
            product_ids: list(&self.product_ids, "products")?,
            cycles: list::<BillingCycle>(&self.cycles, "cycles")?,
            addon_ids: list(&self.addon_ids, "add-ons")?,
            starts_at: self.starts_at.map(|t| t.and_utc()),
            expires_at: self.expires_at.map(|t| t.and_utc()),
            max_uses: self.max_uses,
            once_per_client: self.once_per_client,
            new_clients_only: self.new_clients_only,
            stackable: self.stackable,
            min_order_minor: self.min_order_minor,
            active: self.active,
        })
    }

    pub fn to_dto(&self) -> Result<PromoCode, ApiError> {
        Ok(PromoCode { id: self.id.clone().into(), promo: self.to_input()?, uses: self.uses })
    }

    pub fn to_rule(&self) -> Result<PromoRule, ApiError> {
        let p = self.to_input()?;
        Ok(PromoRule {
            code: p.code,
            kind: p.kind,
            value: p.value,
            currency: p.currency,
            duration: p.duration,
            duration_cycles: p.duration_cycles,
            product_ids: p.product_ids,
            cycles: p.cycles,
            addon_ids: p.addon_ids,
            min_order_minor: p.min_order_minor,
            stackable: p.stackable,
        })
    }
}
