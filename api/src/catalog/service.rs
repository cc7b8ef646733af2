//! Catalog use cases: the public catalog, and the back office shaping products, groups, add-ons
//! and currencies. Every write runs in one transaction with its audit entry and publishes
//! `CatalogChanged`, which empties the cached catalog in every process.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use keel_shared::catalog::{
    AddonInput, AdminAddon, AdminGroup, AdminProduct, Catalog, GroupInput, OptionInput, OptionValueInput, Product, ProductInput,
};
use keel_shared::commerce::{CommerceSettings, CurrencyInput};
use keel_shared::money::CurrencyInfo;
use keel_shared::Currency;

use super::models::{
    sorted_prices, AddonPriceRow, AddonRow, CurrencyRow, GroupRow, OptionRow, PriceRow, ProductRow, ValuePriceRow, ValueRow,
};
use super::store::{self, ProductTree};
use crate::audit::{self, Actor, Event};
use crate::db::cache::{publish, CachedBody, CachedCatalog, Change};
use crate::db::{self, now_micros, DbConn};
use crate::error::ApiError;
use crate::ids;
use crate::schema::{addons, currencies, product_groups, products};
use sha2::Digest;

const SETTINGS_KEY: &str = "commerce";

pub fn settings(conn: &mut DbConn) -> Result<CommerceSettings, ApiError> {
    Ok(crate::admin::settings::get(conn, SETTINGS_KEY)?.unwrap_or_default())
}

pub fn update_settings(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: &Actor,
    body: &CommerceSettings,
) -> Result<CommerceSettings, ApiError> {
    db::transaction(conn, |conn| {
        crate::admin::settings::set(conn, now, SETTINGS_KEY, body)?;
        audit::record(
            conn,
            now,
            actor,
            Event::new("commerce.settings_updated").details(serde_json::to_value(body).map_err(ApiError::internal)?),
        )?;
        publish(conn, Change::CatalogChanged)?;
        Ok(body.clone())
    })
}

/// The shop's currencies; USD alone (the default) while the table is empty.
pub fn currency_infos(conn: &mut DbConn) -> Result<Vec<CurrencyInfo>, ApiError> {
    let rows = store::currencies(conn)?;
    if rows.is_empty() {
        let usd = Currency::USD;
        return Ok(vec![CurrencyInfo {
            code: usd,
            exponent: usd.exponent(),
            symbol: usd.symbol().into(),
            rate_micros: 1_000_000,
            is_default: true,
        }]);
    }
    rows.iter().map(CurrencyRow::to_dto).collect()
}

fn products_of(tree: ProductTree, public: bool) -> Result<Vec<(ProductRow, Product)>, ApiError> {
    let ProductTree { products, mut prices, mut options, mut values, mut value_prices, mut addons } = tree;
    products
        .into_iter()
        .map(|row| {
            let prices = sorted_prices(&prices.remove(&row.id).unwrap_or_default(), PriceRow::to_price)?;
            let mut opts = Vec::new();
            for o in options.remove(&row.id).unwrap_or_default() {
                if public && o.hidden {
                    continue;
                }
                let vals = values
                    .remove(&o.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|v| {
                        let prices = sorted_prices(&value_prices.remove(&v.id).unwrap_or_default(), ValuePriceRow::to_price)?;
                        Ok(keel_shared::catalog::OptionValue { id: v.id.into(), label: v.label, prices })
                    })
                    .collect::<Result<Vec<_>, ApiError>>()?;
                opts.push(o.to_dto(vals)?);
            }
            let addon_ids = addons.remove(&row.id).unwrap_or_default();
            let product = row.to_product(prices, opts, addon_ids)?;
            Ok((row, product))
        })
        .collect()
}

/// The public catalog: visible groups, products for sale (hidden ones included, flagged),
/// add-ons for sale, currencies and the settings pricing needs.
pub fn public_catalog(conn: &mut DbConn) -> Result<Catalog, ApiError> {
    let settings = settings(conn)?;
    let currencies = currency_infos(conn)?;
    let default_currency = currencies.iter().find(|c| c.is_default).map_or(Currency::USD, |c| c.code);
    let addons = store::addons_with_prices(conn, false)?
        .into_iter()
        .map(|(row, prices)| Ok(row.to_dto(sorted_prices(&prices, AddonPriceRow::to_price)?)))
        .collect::<Result<Vec<_>, ApiError>>()?;
    let sold: Vec<&str> = addons.iter().map(|a| a.id.as_str()).collect();
    let mut products: Vec<Product> = products_of(store::product_tree(conn, None, false)?, true)?.into_iter().map(|(_, p)| p).collect();
    for p in &mut products {
        p.addon_ids.retain(|a| sold.contains(&a.as_str()));
    }
    Ok(Catalog {
        default_currency,
        currencies,
        convert_missing_prices: settings.convert_missing_prices,
        tax_inclusive: settings.tax_inclusive,
        groups: store::groups(conn, true)?.iter().map(GroupRow::to_dto).collect(),
        products,
        addons,
    })
}

/// The cached catalog: the model quotes price against (with the tax rules and settings pricing
/// needs) and its two JSON answers, `GET /catalog` and `GET /products` (listed products only).
pub fn snapshot(conn: &mut DbConn) -> Result<CachedCatalog, ApiError> {
    let model = public_catalog(conn)?;
    let tax_rules = crate::commerce::service::tax_rules(conn)?;
    let settings = settings(conn)?;
    let listed: Vec<&Product> = model.products.iter().filter(|p| !p.hidden).collect();
    let products = cached_body(&listed)?;
    Ok(CachedCatalog { catalog: cached_body(&model)?, products, model, tax_rules, settings })
}

fn cached_body<T: serde::Serialize + ?Sized>(value: &T) -> Result<CachedBody, ApiError> {
    let body = serde_json::to_vec(value).map_err(ApiError::internal)?;
    let etag = hex::encode(&sha2::Sha256::digest(&body)[..12]);
    Ok(CachedBody { body: body.into(), etag })
}

pub fn count(conn: &mut DbConn) -> Result<i64, ApiError> {
    store::count(conn)
}

fn admin_product(row: &ProductRow, product: Product, hidden_options: &HashMap<String, bool>) -> Result<AdminProduct, ApiError> {
    Ok(AdminProduct {
        id: row.id.clone().into(),
        product: ProductInput {
            slug: row.slug.clone(),
            name: row.name.clone(),
            product_type: product.product_type,
            group_id: product.group_id,
            description: row.description.clone(),
            features: product.features,
            featured: row.featured,
            hidden: row.hidden,
            retired: !row.active,
            requires_domain: row.requires_domain,
            stock: row.stock,
            module: row.module.clone(),
            package: row.package.clone(),
            sort_order: row.sort_order,
            prices: product.prices,
            options: product
                .options
                .into_iter()
                .map(|o| OptionInput {
                    hidden: hidden_options.get(o.id.as_str()).copied().unwrap_or(false),
                    id: Some(o.id),
                    name: o.name,
                    kind: o.kind,
                    min: o.min,
                    max: o.max,
                    step: o.step,
                    unit: o.unit,
                    values: o.values.into_iter().map(|v| OptionValueInput { id: Some(v.id), label: v.label, prices: v.prices }).collect(),
                })
                .collect(),
            addon_ids: product.addon_ids,
        },
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

fn admin_products(conn: &mut DbConn, only: Option<&str>) -> Result<Vec<AdminProduct>, ApiError> {
    let tree = store::product_tree(conn, only, true)?;
    let hidden: HashMap<String, bool> = tree.options.values().flatten().map(|o| (o.id.clone(), o.hidden)).collect();
    products_of(tree, false)?.into_iter().map(|(row, p)| admin_product(&row, p, &hidden)).collect()
}

/// Every product, retired ones included, as the back office edits them.
pub fn list_products(conn: &mut DbConn) -> Result<Vec<AdminProduct>, ApiError> {
    admin_products(conn, None)
}

pub fn get_product(conn: &mut DbConn, id: &str) -> Result<AdminProduct, ApiError> {
    admin_products(conn, Some(id))?.pop().ok_or_else(|| ApiError::not_found("product"))
}

/// Checks what only the database can tell: the group and add-ons exist, the options and values
/// kept by id belong to this product, the currencies are the shop's.
fn check_references(conn: &mut DbConn, product_id: Option<&str>, body: &ProductInput) -> Result<(), ApiError> {
    if let Some(g) = &body.group_id {
        let found: i64 = product_groups::table.filter(product_groups::id.eq(g.as_str())).count().get_result(conn)?;
        if found == 0 {
            return Err(ApiError::field("group_id", "no such product group"));
        }
    }
    for (i, a) in body.addon_ids.iter().enumerate() {
        let found: i64 = addons::table.filter(addons::id.eq(a.as_str())).count().get_result(conn)?;
        if found == 0 {
            return Err(ApiError::field(&format!("addon_ids[{i}]"), "no such add-on"));
        }
        if body.addon_ids[..i].contains(a) {
            return Err(ApiError::field(&format!("addon_ids[{i}]"), "listed twice"));
        }
    }
    let shop: Vec<Currency> = currency_infos(conn)?.iter().map(|c| c.code).collect();
    let check_prices = |field: &str, prices: &[keel_shared::catalog::Price]| -> Result<(), ApiError> {
        match prices.iter().position(|p| !shop.contains(&p.currency)) {
            Some(i) => Err(ApiError::field(&format!("{field}[{i}].currency"), "the shop does not sell in this currency")),
            None => Ok(()),
        }
    };
    check_prices("prices", &body.prices)?;
    let own_options = match product_id {
        Some(id) => store::option_ids_of(conn, id)?,
        None => Vec::new(),
    };
    for (i, o) in body.options.iter().enumerate() {
        if let Some(id) = &o.id {
            if !own_options.iter().any(|x| x == id.as_str()) {
                return Err(ApiError::field(&format!("options[{i}].id"), "not an option of this product"));
            }
            if body.options[..i].iter().any(|x| x.id.as_ref() == Some(id)) {
                return Err(ApiError::field(&format!("options[{i}].id"), "listed twice"));
            }
        }
        let own_values = match &o.id {
            Some(id) => store::value_ids_of(conn, id)?,
            None => Vec::new(),
        };
        for (j, v) in o.values.iter().enumerate() {
            if let Some(id) = &v.id {
                if !own_values.iter().any(|x| x == id.as_str()) || o.values[..j].iter().any(|x| x.id.as_ref() == Some(id)) {
                    return Err(ApiError::field(&format!("options[{i}].values[{j}].id"), "not a value of this option"));
                }
            }
            check_prices(&format!("options[{i}].values[{j}].prices"), &v.prices)?;
        }
    }
    Ok(())
}

fn write_product(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    id: &str,
    created_at: chrono::NaiveDateTime,
    body: &ProductInput,
) -> Result<(), ApiError> {
    let row = ProductRow {
        id: id.to_string(),
        slug: body.slug.clone(),
        name: body.name.trim().to_string(),
        product_type: body.product_type.as_str().into(),
        description: body.description.clone(),
        features: serde_json::to_string(&body.features).map_err(ApiError::internal)?,
        featured: body.featured,
        active: !body.retired,
        sort_order: body.sort_order,
        created_at,
        updated_at: now_micros(now),
        group_id: body.group_id.as_ref().map(|g| g.to_string()),
        hidden: body.hidden,
        requires_domain: body.requires_domain,
        stock: body.stock,
        module: body.module.clone(),
        package: body.package.clone(),
    };
    let updated = diesel::update(products::table.find(id)).set(&row).execute(conn)?;
    if updated == 0 {
        diesel::insert_into(products::table).values(&row).execute(conn)?;
    }
    let prices: Vec<PriceRow> = body.prices.iter().map(|p| PriceRow::new(id, p)).collect();
    let addon_ids: Vec<String> = body.addon_ids.iter().map(|a| a.to_string()).collect();
    let options = body
        .options
        .iter()
        .enumerate()
        .map(|(i, o)| {
            let option_id = o.id.as_ref().map_or_else(ids::new_id, |x| x.to_string());
            let values = o
                .values
                .iter()
                .enumerate()
                .map(|(j, v)| {
                    let value_id = v.id.as_ref().map_or_else(ids::new_id, |x| x.to_string());
                    let prices = v.prices.iter().map(|p| ValuePriceRow::new(&value_id, p)).collect();
                    (
                        ValueRow { id: value_id, option_id: option_id.clone(), label: v.label.trim().to_string(), sort_order: j as i32 },
                        prices,
                    )
                })
                .collect();
            let row = OptionRow {
                id: option_id,
                product_id: id.to_string(),
                name: o.name.trim().to_string(),
                kind: o.kind.as_str().into(),
                hidden: o.hidden,
                min_units: o.min,
                max_units: o.max,
                step: o.step,
                unit: o.unit.trim().to_string(),
                sort_order: i as i32,
            };
            (row, values)
        })
        .collect::<Vec<_>>();
    store::replace_children(conn, id, &prices, &addon_ids, &options)
}

pub fn create_product(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, body: &ProductInput) -> Result<AdminProduct, ApiError> {
    let id = ids::new_id();
    db::transaction(conn, |conn| {
        check_references(conn, None, body)?;
        write_product(conn, now, &id, now_micros(now), body)?;
        audit::record(
            conn,
            now,
            actor,
            Event::new("catalog.product_created").target("product", &id).details(serde_json::json!({"slug": body.slug})),
        )?;
        publish(conn, Change::CatalogChanged)?;
        get_product(conn, &id)
    })
}

pub fn update_product(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: &Actor,
    id: &str,
    body: &ProductInput,
) -> Result<AdminProduct, ApiError> {
    db::transaction(conn, |conn| {
        let created_at: chrono::NaiveDateTime =
            products::table.find(id).select(products::created_at).first(conn).optional()?.ok_or_else(|| ApiError::not_found("product"))?;
        check_references(conn, Some(id), body)?;
        write_product(conn, now, id, created_at, body)?;
        audit::record(
            conn,
            now,
            actor,
            Event::new("catalog.product_updated").target("product", id).details(serde_json::json!({"slug": body.slug})),
        )?;
        publish(conn, Change::CatalogChanged)?;
        get_product(conn, id)
    })
}

fn group_dto(row: GroupRow) -> AdminGroup {
    AdminGroup {
        id: row.id.into(),
        group: GroupInput {
            slug: row.slug,
            name: row.name,
            description: row.description,
            visible: row.visible,
            sort_order: row.sort_order,
        },
    }
}

pub fn list_groups(conn: &mut DbConn) -> Result<Vec<AdminGroup>, ApiError> {
    Ok(store::groups(conn, false)?.into_iter().map(group_dto).collect())
}

/// Creates (`id` None) or replaces a group.
pub fn save_group(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: &Actor,
    id: Option<&str>,
    body: &GroupInput,
) -> Result<AdminGroup, ApiError> {
    db::transaction(conn, |conn| {
        let at = now_micros(now);
        let existing: Option<GroupRow> = match id {
            Some(id) => Some(
                product_groups::table
                    .find(id)
                    .select(GroupRow::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| ApiError::not_found("product group"))?,
            ),
            None => None,
        };
        let row = GroupRow {
            id: existing.as_ref().map_or_else(ids::new_id, |g| g.id.clone()),
            slug: body.slug.clone(),
            name: body.name.trim().to_string(),
            description: body.description.clone(),
            visible: body.visible,
            sort_order: body.sort_order,
            created_at: existing.as_ref().map_or(at, |g| g.created_at),
            updated_at: at,
        };
        if existing.is_some() {
            diesel::update(product_groups::table.find(&row.id)).set(&row).execute(conn)?;
        } else {
            diesel::insert_into(product_groups::table).values(&row).execute(conn)?;
        }
        let action = if existing.is_some() { "catalog.group_updated" } else { "catalog.group_created" };
        audit::record(
            conn,
            now,
            actor,
            Event::new(action).target("product_group", &row.id).details(serde_json::json!({"slug": row.slug})),
        )?;
        publish(conn, Change::CatalogChanged)?;
        Ok(group_dto(row))
    })
}

/// Deletes a group; its products stay, ungrouped.
pub fn delete_group(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, id: &str) -> Result<(), ApiError> {
    db::transaction(conn, |conn| {
        diesel::update(products::table.filter(products::group_id.eq(id))).set(products::group_id.eq(None::<String>)).execute(conn)?;
        if diesel::delete(product_groups::table.find(id)).execute(conn)? == 0 {
            return Err(ApiError::not_found("product group"));
        }
        audit::record(conn, now, actor, Event::new("catalog.group_deleted").target("product_group", id))?;
        publish(conn, Change::CatalogChanged)?;
        Ok(())
    })
}

fn addon_dto(row: AddonRow, prices: &[AddonPriceRow]) -> Result<AdminAddon, ApiError> {
    Ok(AdminAddon {
        id: row.id.into(),
        addon: AddonInput {
            slug: row.slug,
            name: row.name,
            description: row.description,
            retired: !row.active,
            sort_order: row.sort_order,
            prices: sorted_prices(prices, AddonPriceRow::to_price)?,
        },
    })
}

pub fn list_addons(conn: &mut DbConn) -> Result<Vec<AdminAddon>, ApiError> {
    store::addons_with_prices(conn, true)?.into_iter().map(|(row, prices)| addon_dto(row, &prices)).collect()
}

/// Creates (`id` None) or replaces an add-on.
pub fn save_addon(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: &Actor,
    id: Option<&str>,
    body: &AddonInput,
) -> Result<AdminAddon, ApiError> {
    db::transaction(conn, |conn| {
        let at = now_micros(now);
        let existing: Option<AddonRow> = match id {
            Some(id) => Some(
                addons::table
                    .find(id)
                    .select(AddonRow::as_select())
                    .first(conn)
                    .optional()?
                    .ok_or_else(|| ApiError::not_found("add-on"))?,
            ),
            None => None,
        };
        let shop: Vec<Currency> = currency_infos(conn)?.iter().map(|c| c.code).collect();
        if let Some(i) = body.prices.iter().position(|p| !shop.contains(&p.currency)) {
            return Err(ApiError::field(&format!("prices[{i}].currency"), "the shop does not sell in this currency"));
        }
        let row = AddonRow {
            id: existing.as_ref().map_or_else(ids::new_id, |a| a.id.clone()),
            slug: body.slug.clone(),
            name: body.name.trim().to_string(),
            description: body.description.clone(),
            active: !body.retired,
            sort_order: body.sort_order,
            created_at: existing.as_ref().map_or(at, |a| a.created_at),
            updated_at: at,
        };
        if existing.is_some() {
            diesel::update(addons::table.find(&row.id)).set(&row).execute(conn)?;
        } else {
            diesel::insert_into(addons::table).values(&row).execute(conn)?;
        }
        let prices: Vec<AddonPriceRow> = body.prices.iter().map(|p| AddonPriceRow::new(&row.id, p)).collect();
        store::replace_addon_prices(conn, &row.id, &prices)?;
        let action = if existing.is_some() { "catalog.addon_updated" } else { "catalog.addon_created" };
        audit::record(conn, now, actor, Event::new(action).target("addon", &row.id).details(serde_json::json!({"slug": row.slug})))?;
        publish(conn, Change::CatalogChanged)?;
        addon_dto(row, &prices)
    })
}

/// Adds or changes a currency. Making one the default rebases nothing: prices stay as entered,
/// and the rates are the administrator's to restate (the new default's rate is set to 1).
/// Sets the rates of the shop's currencies from reference rates (units per euro, millionths),
/// against the default currency, in one transaction with an audit entry. Currencies the source
/// does not list keep their rate. Returns the rates written; `None` when the source has no rate
/// for the default currency.
pub fn refresh_rates(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: &Actor,
    source: &str,
    per_euro: &crate::commerce::rates::PerEuro,
) -> Result<Option<Vec<(String, i64)>>, ApiError> {
    db::transaction(conn, |conn| {
        let current = store::currencies(conn)?;
        let Some(default) = current.iter().find(|c| c.is_default) else { return Ok(Some(Vec::new())) };
        let Some(rates) = crate::commerce::rates::against(per_euro, &default.code) else { return Ok(None) };
        let at = now_micros(now);
        let mut written = Vec::new();
        for c in current.iter().filter(|c| !c.is_default) {
            if let Some((_, rate)) = rates.iter().find(|(code, _)| *code == c.code) {
                diesel::update(currencies::table.find(&c.code))
                    .set((currencies::rate_micros.eq(rate), currencies::updated_at.eq(at)))
                    .execute(conn)?;
                written.push((c.code.clone(), *rate));
            }
        }
        let details: serde_json::Map<String, serde_json::Value> = written.iter().map(|(c, r)| (c.clone(), (*r).into())).collect();
        audit::record(
            conn,
            now,
            actor,
            Event::new("catalog.rates_refreshed").details(serde_json::json!({"source": source, "rate_micros": details})),
        )?;
        publish(conn, Change::CatalogChanged)?;
        Ok(Some(written))
    })
}

pub fn put_currency(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: &Actor,
    code: Currency,
    body: &CurrencyInput,
) -> Result<Vec<CurrencyInfo>, ApiError> {
    db::transaction(conn, |conn| {
        let at = now_micros(now);
        let current = store::currencies(conn)?;
        let was_default = current.iter().any(|c| c.code == code.code() && c.is_default);
        let is_default = body.is_default || was_default || current.is_empty();
        if was_default && !body.is_default {
            return Err(ApiError::field("is_default", "make another currency the default instead"));
        }
        if is_default {
            diesel::update(currencies::table).set(currencies::is_default.eq(false)).execute(conn)?;
        }
        let row = CurrencyRow {
            code: code.code().into(),
            rate_micros: if is_default { 1_000_000 } else { body.rate_micros },
            is_default,
            sort_order: body.sort_order,
            updated_at: at,
        };
        if diesel::update(currencies::table.find(code.code())).set(&row).execute(conn)? == 0 {
            diesel::insert_into(currencies::table).values(&row).execute(conn)?;
        }
        audit::record(
            conn,
            now,
            actor,
            Event::new("catalog.currency_saved")
                .target("currency", code.code())
                .details(serde_json::json!({"rate_micros": row.rate_micros, "is_default": is_default})),
        )?;
        publish(conn, Change::CatalogChanged)?;
        currency_infos(conn)
    })
}

/// Stops selling in a currency (not the default one). Prices in it stay, unused.
pub fn delete_currency(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, code: Currency) -> Result<Vec<CurrencyInfo>, ApiError> {
    db::transaction(conn, |conn| {
        let row: CurrencyRow = currencies::table
            .find(code.code())
            .select(CurrencyRow::as_select())
            .first(conn)
            .optional()?
            .ok_or_else(|| ApiError::not_found("currency"))?;
        if row.is_default {
            return Err(ApiError::Conflict {
                code: "default_currency",
                detail: "the default currency cannot be removed".into(),
                field: Some("code".into()),
            });
        }
        diesel::delete(currencies::table.find(code.code())).execute(conn)?;
        audit::record(conn, now, actor, Event::new("catalog.currency_removed").target("currency", code.code()))?;
        publish(conn, Change::CatalogChanged)?;
        currency_infos(conn)
    })
}
