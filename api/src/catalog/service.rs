use std::collections::HashMap;

use diesel::prelude::*;
use keel_shared::catalog::Product;

use super::models::{PriceRow, ProductRow};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::schema::{product_prices, products};

/// Active products in storefront order, each with its prices. Two queries, whatever the count.
pub fn list_active(conn: &mut DbConn) -> Result<Vec<Product>, ApiError> {
    let rows: Vec<ProductRow> = products::table
        .filter(products::active.eq(true))
        .order((products::sort_order.asc(), products::name.asc()))
        .select(ProductRow::as_select())
        .load(conn)?;
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut prices: HashMap<String, Vec<PriceRow>> = HashMap::new();
    for p in product_prices::table.filter(product_prices::product_id.eq_any(&ids)).select(PriceRow::as_select()).load::<PriceRow>(conn)? {
        prices.entry(p.product_id.clone()).or_default().push(p);
    }
    rows.iter().map(|r| r.to_product(prices.get(&r.id).map(Vec::as_slice).unwrap_or(&[]))).collect()
}

pub fn count(conn: &mut DbConn) -> Result<i64, ApiError> {
    Ok(products::table.count().get_result(conn)?)
}
