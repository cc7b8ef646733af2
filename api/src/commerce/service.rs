//! Commerce use cases: pricing a cart for a buyer, and the back office's tax rules and promo
//! codes (each write in one transaction with its audit entry, publishing `CatalogChanged`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use keel_shared::cart::{Quote, QuoteRequest};
use keel_shared::commerce::{eu_vat_id_format, CommerceSettings, PromoCode, PromoCodeInput, TaxRule, TaxRuleInput, EU_COUNTRIES};
use keel_shared::pricing::{self, Problems, PromoRule, TaxContext};
use keel_shared::Currency;

use super::models::{PromoRow, TaxRuleRow};
use crate::audit::{self, Actor, Event};
use crate::db::cache::{publish, CachedCatalog, Change};
use crate::db::{self, now_micros, DbConn};
use crate::error::ApiError;
use crate::ids;
use crate::schema::{addons, products, promo_codes, tax_rules};

/// Who is buying, as far as pricing cares.
#[derive(Debug, Clone, Default)]
pub struct Buyer {
    /// A signed-in client's currency (their profile's), which the quote must be in.
    pub currency: Option<Currency>,
    pub country: Option<String>,
    pub state: Option<String>,
    pub vat_id: Option<String>,
    pub exempt: bool,
    pub signed_in: bool,
}

impl Buyer {
    /// A signed-in client: their profile's currency, billing address, tax id and exemption.
    pub fn of_account(conn: &mut DbConn, account_id: &str) -> Result<Buyer, ApiError> {
        let b = crate::accounts::profile::billing(conn, account_id)?;
        let (country, state) = match b.address {
            Some(a) => (Some(a.country).filter(|c| !c.is_empty()), Some(a.region).filter(|r| !r.is_empty())),
            None => (None, None),
        };
        Ok(Buyer { currency: Some(b.currency), country, state, vat_id: b.tax_id, exempt: b.tax_exempt, signed_in: true })
    }
}

fn problems_error(problems: Problems) -> ApiError {
    let fields: Vec<&str> = problems.keys().map(String::as_str).collect();
    ApiError::Validation { detail: format!("the cart cannot be priced: {}", fields.join(", ")), errors: problems }
}

fn add(p: &mut Problems, field: &str, message: impl Into<String>) {
    p.entry(field.to_string()).or_default().push(message.into());
}

/// The tax that applies to a buyer: the rules of their country (whole country, and their state's,
/// matched ignoring case), the reverse charge for an EU business in another member state.
pub fn tax_context(rules: &[TaxRule], settings: &CommerceSettings, buyer: &Buyer, problems: &mut Problems) -> TaxContext {
    let Some(country) = buyer.country.as_deref() else {
        return TaxContext { inclusive: settings.tax_inclusive, exempt: buyer.exempt, ..TaxContext::default() };
    };
    let state = buyer.state.as_deref().unwrap_or("").trim();
    let mut applicable: Vec<pricing::TaxRule> = rules
        .iter()
        .filter(|r| r.rule.country == country && (r.rule.state.is_empty() || r.rule.state.eq_ignore_ascii_case(state)))
        .map(|r| pricing::TaxRule { name: r.rule.name.clone(), rate_bp: r.rule.rate_bp, level: r.rule.level, compound: r.rule.compound })
        .collect();
    applicable.sort_by_key(|r| r.level);
    let home_in_eu = settings.home_country.as_deref().is_some_and(|h| EU_COUNTRIES.contains(&h));
    let other_member_state = EU_COUNTRIES.contains(&country) && settings.home_country.as_deref() != Some(country);
    let mut reverse_charge = false;
    if let Some(vat_id) = buyer.vat_id.as_deref().filter(|v| !v.trim().is_empty()) {
        if home_in_eu && other_member_state {
            if eu_vat_id_format(country, vat_id) {
                reverse_charge = true;
            } else if !buyer.signed_in {
                add(
                    problems,
                    "vat_id",
                    format!("not an EU VAT id of {country} (e.g. {}123456789)", if country == "GR" { "EL" } else { country }),
                );
            }
        }
    }
    TaxContext { rules: applicable, inclusive: settings.tax_inclusive, exempt: buyer.exempt, reverse_charge }
}

/// The promo code's rule if it may be used now, else a problem on `promo_code`.
fn promo_rule(conn: &mut DbConn, now: DateTime<Utc>, code: &str, problems: &mut Problems) -> Result<Option<PromoRule>, ApiError> {
    let code = code.trim().to_ascii_uppercase();
    let row: Option<PromoRow> =
        promo_codes::table.filter(promo_codes::code.eq(&code)).select(PromoRow::as_select()).first(conn).optional()?;
    let at = now_micros(now);
    let refused = match &row {
        None => Some(format!("{code} is not a promo code")),
        Some(r) if !r.active => Some(format!("{code} is not a promo code")),
        Some(r) if r.starts_at.is_some_and(|s| s > at) => Some(format!("{code} is not valid yet")),
        Some(r) if r.expires_at.is_some_and(|e| e <= at) => Some(format!("{code} has expired")),
        Some(r) if r.max_uses.is_some_and(|m| r.uses >= m) => Some(format!("{code} has been used up")),
        Some(_) => None,
    };
    match (refused, row) {
        (Some(message), _) => {
            add(problems, "promo_code", message);
            Ok(None)
        }
        (None, Some(r)) => Ok(Some(r.to_rule()?)),
        (None, None) => Ok(None),
    }
}

/// Prices a cart for a buyer against the cached catalog. Every problem is answered at once as
/// field errors (422).
pub fn quote(
    conn: Option<&mut DbConn>,
    now: DateTime<Utc>,
    cat: &CachedCatalog,
    req: &QuoteRequest,
    buyer: &Buyer,
) -> Result<Quote, ApiError> {
    let mut problems = Problems::new();
    let catalog = &cat.model;
    let currency = match (buyer.currency, req.currency) {
        (Some(mine), Some(asked)) if mine != asked => {
            add(&mut problems, "currency", format!("you pay in {mine}, your profile's currency"));
            mine
        }
        (Some(mine), _) => mine,
        (None, asked) => asked.unwrap_or(catalog.default_currency),
    };
    if catalog.currency(currency).is_none() {
        add(&mut problems, "currency", format!("the shop does not sell in {currency}"));
    }
    let guest = Buyer { country: req.country.clone(), state: req.state.clone(), vat_id: req.vat_id.clone(), ..Buyer::default() };
    let who = if buyer.signed_in { buyer } else { &guest };
    let tax = tax_context(&cat.tax_rules, &cat.settings, who, &mut problems);
    let promo = match (&req.promo_code, conn) {
        (Some(code), Some(conn)) => promo_rule(conn, now, code, &mut problems)?,
        (Some(_), None) => return Err(ApiError::internal("a promo code needs a database connection")),
        (None, _) => None,
    };
    match pricing::quote(catalog, req, currency, promo.as_ref(), &tax) {
        Ok(q) if problems.is_empty() => Ok(q),
        Ok(_) => Err(problems_error(problems)),
        Err(more) => {
            for (field, messages) in more {
                problems.entry(field).or_default().extend(messages);
            }
            Err(problems_error(problems))
        }
    }
}

pub fn tax_rules(conn: &mut DbConn) -> Result<Vec<TaxRule>, ApiError> {
    let rows: Vec<TaxRuleRow> = tax_rules::table
        .order((tax_rules::country.asc(), tax_rules::state.asc(), tax_rules::level.asc(), tax_rules::name.asc()))
        .select(TaxRuleRow::as_select())
        .load(conn)?;
    Ok(rows.iter().map(TaxRuleRow::to_dto).collect())
}

/// Creates (`id` None) or replaces a tax rule.
pub fn save_tax_rule(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: &Actor,
    id: Option<&str>,
    body: &TaxRuleInput,
) -> Result<TaxRule, ApiError> {
    db::transaction(conn, |conn| {
        let at = now_micros(now);
        let created_at = match id {
            Some(id) => tax_rules::table
                .find(id)
                .select(tax_rules::created_at)
                .first(conn)
                .optional()?
                .ok_or_else(|| ApiError::not_found("tax rule"))?,
            None => at,
        };
        let row = TaxRuleRow {
            id: id.map_or_else(ids::new_id, str::to_string),
            country: body.country.clone(),
            state: body.state.trim().to_string(),
            name: body.name.trim().to_string(),
            rate_bp: i32::try_from(body.rate_bp).map_err(|_| ApiError::field("rate_bp", "too large"))?,
            level: i32::from(body.level),
            compound: body.compound && body.level == 2,
            created_at,
            updated_at: at,
        };
        if id.is_some() {
            diesel::update(tax_rules::table.find(&row.id)).set(&row).execute(conn)?;
        } else {
            diesel::insert_into(tax_rules::table).values(&row).execute(conn)?;
        }
        let action = if id.is_some() { "commerce.tax_rule_updated" } else { "commerce.tax_rule_created" };
        audit::record(
            conn,
            now,
            actor,
            Event::new(action).target("tax_rule", &row.id).details(serde_json::to_value(body).map_err(ApiError::internal)?),
        )?;
        publish(conn, Change::CatalogChanged)?;
        Ok(row.to_dto())
    })
}

pub fn delete_tax_rule(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, id: &str) -> Result<(), ApiError> {
    db::transaction(conn, |conn| {
        if diesel::delete(tax_rules::table.find(id)).execute(conn)? == 0 {
            return Err(ApiError::not_found("tax rule"));
        }
        audit::record(conn, now, actor, Event::new("commerce.tax_rule_deleted").target("tax_rule", id))?;
        publish(conn, Change::CatalogChanged)?;
        Ok(())
    })
}

pub fn list_promos(conn: &mut DbConn) -> Result<Vec<PromoCode>, ApiError> {
    let rows: Vec<PromoRow> = promo_codes::table.order(promo_codes::code.asc()).select(PromoRow::as_select()).load(conn)?;
    rows.iter().map(PromoRow::to_dto).collect()
}

fn check_promo_references(conn: &mut DbConn, body: &PromoCodeInput) -> Result<(), ApiError> {
    for (i, p) in body.product_ids.iter().enumerate() {
        let found: i64 = products::table.filter(products::id.eq(p.as_str())).count().get_result(conn)?;
        if found == 0 {
            return Err(ApiError::field(&format!("product_ids[{i}]"), "no such product"));
        }
    }
    for (i, a) in body.addon_ids.iter().enumerate() {
        let found: i64 = addons::table.filter(addons::id.eq(a.as_str())).count().get_result(conn)?;
        if found == 0 {
            return Err(ApiError::field(&format!("addon_ids[{i}]"), "no such add-on"));
        }
    }
    if let Some(c) = body.currency {
        if !crate::catalog::service::currency_infos(conn)?.iter().any(|i| i.code == c) {
            return Err(ApiError::field("currency", "the shop does not sell in this currency"));
        }
    }
    Ok(())
}

/// Creates (`id` None) or replaces a promo code (its use count stays).
pub fn save_promo(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: &Actor,
    id: Option<&str>,
    body: &PromoCodeInput,
) -> Result<PromoCode, ApiError> {
    fn json<T: serde::Serialize>(v: &T) -> Result<String, ApiError> {
        serde_json::to_string(v).map_err(ApiError::internal)
    }
    db::transaction(conn, |conn| {
        let at = now_micros(now);
        let existing: Option<PromoRow> = match id {
            Some(id) => Some(
                promo_codes::table
                    .find(id)
                    .select(PromoRow::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| ApiError::not_found("promo code"))?,
            ),
            None => None,
        };
        check_promo_references(conn, body)?;
        let row = PromoRow {
            id: existing.as_ref().map_or_else(ids::new_id, |p| p.id.clone()),
            code: body.code.trim().to_ascii_uppercase(),
            kind: body.kind.as_str().into(),
            value: body.value,
            currency: body.currency.map(|c| c.code().to_string()),
            duration: body.duration.as_str().into(),
            duration_cycles: body.duration_cycles.and_then(|c| i32::try_from(c).ok()),
            product_ids: json(&body.product_ids)?,
            cycles: json(&body.cycles)?,
            addon_ids: json(&body.addon_ids)?,
            starts_at: body.starts_at.map(now_micros),
            expires_at: body.expires_at.map(now_micros),
            max_uses: body.max_uses,
            uses: existing.as_ref().map_or(0, |p| p.uses),
            once_per_client: body.once_per_client,
            new_clients_only: body.new_clients_only,
            min_order_minor: body.min_order_minor,
            active: body.active,
            created_at: existing.as_ref().map_or(at, |p| p.created_at),
            updated_at: at,
        };
        if existing.is_some() {
            diesel::update(promo_codes::table.find(&row.id)).set(&row).execute(conn)?;
        } else {
            diesel::insert_into(promo_codes::table).values(&row).execute(conn)?;
        }
        let action = if existing.is_some() { "commerce.promo_updated" } else { "commerce.promo_created" };
        audit::record(conn, now, actor, Event::new(action).target("promo_code", &row.id).details(serde_json::json!({"code": row.code})))?;
        row.to_dto()
    })
}
