//! Catalog queries (diesel only): loading products with their prices, options and add-ons, and
//! writing them.

use std::collections::HashMap;

use diesel::prelude::*;

use super::models::{
    AddonPriceRow, AddonRow, CurrencyRow, GroupRow, OptionRow, PriceRow, ProductAddonRow, ProductRow, ValuePriceRow, ValueRow,
};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::schema::{
    addon_prices, addons, config_option_values, config_options, config_value_prices, currencies, product_addons, product_groups,
    product_prices, products,
};

/// Products with everything that hangs off them, each kind grouped by its owner's id.
pub struct ProductTree {
    pub products: Vec<ProductRow>,
    pub prices: HashMap<String, Vec<PriceRow>>,
    /// Options per product, in order.
    pub options: HashMap<String, Vec<OptionRow>>,
    /// Values per option, in order.
    pub values: HashMap<String, Vec<ValueRow>>,
    pub value_prices: HashMap<String, Vec<ValuePriceRow>>,
    /// Add-on ids per product.
    pub addons: HashMap<String, Vec<String>>,
}

fn group_by<T>(rows: Vec<T>, key: impl Fn(&T) -> &str) -> HashMap<String, Vec<T>> {
    let mut map: HashMap<String, Vec<T>> = HashMap::new();
    for row in rows {
        map.entry(key(&row).to_string()).or_default().push(row);
    }
    map
}

/// Loads products (all, or the one `only`), retired ones only when `with_retired`, in
/// storefront order. Six queries, whatever the count.
pub fn product_tree(conn: &mut DbConn, only: Option<&str>, with_retired: bool) -> Result<ProductTree, ApiError> {
    let mut q = products::table.order((products::sort_order.asc(), products::name.asc())).select(ProductRow::as_select()).into_boxed();
    if !with_retired {
        q = q.filter(products::active.eq(true));
    }
    if let Some(id) = only {
        q = q.filter(products::id.eq(id.to_string()));
    }
    let rows: Vec<ProductRow> = q.load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let prices = product_prices::table.filter(product_prices::product_id.eq_any(&ids)).select(PriceRow::as_select()).load(conn)?;
    let options: Vec<OptionRow> = config_options::table
        .filter(config_options::product_id.eq_any(&ids))
        .order((config_options::sort_order.asc(), config_options::id.asc()))
        .select(OptionRow::as_select())
        .load(conn)?;
    let option_ids: Vec<&str> = options.iter().map(|o| o.id.as_str()).collect();
    let values: Vec<ValueRow> = config_option_values::table
        .filter(config_option_values::option_id.eq_any(&option_ids))
        .order((config_option_values::sort_order.asc(), config_option_values::id.asc()))
        .select(ValueRow::as_select())
        .load(conn)?;
    let value_ids: Vec<&str> = values.iter().map(|v| v.id.as_str()).collect();
    let value_prices = config_value_prices::table
        .filter(config_value_prices::value_id.eq_any(&value_ids))
        .select(ValuePriceRow::as_select())
        .load(conn)?;
    let links: Vec<ProductAddonRow> = product_addons::table
        .filter(product_addons::product_id.eq_any(&ids))
        .order(product_addons::addon_id.asc())
        .select(ProductAddonRow::as_select())
        .load(conn)?;
    let mut addons: HashMap<String, Vec<String>> = HashMap::new();
    for l in links {
        addons.entry(l.product_id).or_default().push(l.addon_id);
    }
    Ok(ProductTree {
        prices: group_by(prices, |p: &PriceRow| &p.product_id),
        options: group_by(options, |o: &OptionRow| &o.product_id),
        values: group_by(values, |v: &ValueRow| &v.option_id),
        value_prices: group_by(value_prices, |p: &ValuePriceRow| &p.value_id),
        addons,
        products: rows,
    })
}

/// Add-ons (all, or only those still sold) in order, with their prices.
pub fn addons_with_prices(conn: &mut DbConn, with_retired: bool) -> Result<Vec<(AddonRow, Vec<AddonPriceRow>)>, ApiError> {
    let mut q = addons::table.order((addons::sort_order.asc(), addons::name.asc())).select(AddonRow::as_select()).into_boxed();
    if !with_retired {
        q = q.filter(addons::active.eq(true));
    }
    let rows: Vec<AddonRow> = q.load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut prices = group_by(
        addon_prices::table.filter(addon_prices::addon_id.eq_any(&ids)).select(AddonPriceRow::as_select()).load(conn)?,
        |p: &AddonPriceRow| &p.addon_id,
    );
    Ok(rows
        .into_iter()
        .map(|r| {
            let p = prices.remove(&r.id).unwrap_or_default();
            (r, p)
        })
        .collect())
}

pub fn groups(conn: &mut DbConn, only_visible: bool) -> Result<Vec<GroupRow>, ApiError> {
    let mut q = product_groups::table
        .order((product_groups::sort_order.asc(), product_groups::name.asc()))
        .select(GroupRow::as_select())
        .into_boxed();
    if only_visible {
        q = q.filter(product_groups::visible.eq(true));
    }
    Ok(q.load(conn)?)
}

pub fn currencies(conn: &mut DbConn) -> Result<Vec<CurrencyRow>, ApiError> {
    Ok(currencies::table.order((currencies::sort_order.asc(), currencies::code.asc())).select(CurrencyRow::as_select()).load(conn)?)
}

pub fn count(conn: &mut DbConn) -> Result<i64, ApiError> {
    Ok(products::table.count().get_result(conn)?)
}

/// An option row with its values, each with its prices.
pub type OptionTree = (OptionRow, Vec<(ValueRow, Vec<ValuePriceRow>)>);

/// Replaces a product's prices, add-on links, options and values with `tree`'s. Options and
/// values that keep their id are updated in place (their ids stay valid in carts); the others
/// are deleted.
pub fn replace_children(
    conn: &mut DbConn,
    product_id: &str,
    prices: &[PriceRow],
    addon_ids: &[String],
    options: &[OptionTree],
) -> Result<(), ApiError> {
    diesel::delete(product_prices::table.filter(product_prices::product_id.eq(product_id))).execute(conn)?;
    // One statement per row: multi-row inserts are not portable across the two backends.
    for p in prices {
        diesel::insert_into(product_prices::table).values(p).execute(conn)?;
    }
    diesel::delete(product_addons::table.filter(product_addons::product_id.eq(product_id))).execute(conn)?;
    for a in addon_ids {
        diesel::insert_into(product_addons::table)
            .values(ProductAddonRow { product_id: product_id.to_string(), addon_id: a.clone() })
            .execute(conn)?;
    }
    let keep: Vec<&str> = options.iter().map(|(o, _)| o.id.as_str()).collect();
    diesel::delete(config_options::table.filter(config_options::product_id.eq(product_id)).filter(config_options::id.ne_all(&keep)))
        .execute(conn)?;
    for (option, values) in options {
        let updated = diesel::update(config_options::table.find(&option.id)).set(option).execute(conn)?;
        if updated == 0 {
            diesel::insert_into(config_options::table).values(option).execute(conn)?;
        }
        let keep: Vec<&str> = values.iter().map(|(v, _)| v.id.as_str()).collect();
        diesel::delete(
            config_option_values::table
                .filter(config_option_values::option_id.eq(&option.id))
                .filter(config_option_values::id.ne_all(&keep)),
        )
        .execute(conn)?;
        for (value, prices) in values {
            let updated = diesel::update(config_option_values::table.find(&value.id)).set(value).execute(conn)?;
            if updated == 0 {
                diesel::insert_into(config_option_values::table).values(value).execute(conn)?;
            }
            diesel::delete(config_value_prices::table.filter(config_value_prices::value_id.eq(&value.id))).execute(conn)?;
            for p in prices {
                diesel::insert_into(config_value_prices::table).values(p).execute(conn)?;
            }
        }
    }
    Ok(())
}

/// Which of `ids` are options (values) of `product_id` (`option_id`), so an edit cannot move
/// another product's option.
pub fn option_ids_of(conn: &mut DbConn, product_id: &str) -> Result<Vec<String>, ApiError> {
    Ok(config_options::table.filter(config_options::product_id.eq(product_id)).select(config_options::id).load(conn)?)
}

pub fn value_ids_of(conn: &mut DbConn, option_id: &str) -> Result<Vec<String>, ApiError> {
    Ok(config_option_values::table.filter(config_option_values::option_id.eq(option_id)).select(config_option_values::id).load(conn)?)
}

pub fn replace_addon_prices(conn: &mut DbConn, addon_id: &str, prices: &[AddonPriceRow]) -> Result<(), ApiError> {
    diesel::delete(addon_prices::table.filter(addon_prices::addon_id.eq(addon_id))).execute(conn)?;
    for p in prices {
        diesel::insert_into(addon_prices::table).values(p).execute(conn)?;
    }
    Ok(())
}
