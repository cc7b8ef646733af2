//! Order rows and queries (diesel only).

use chrono::NaiveDateTime;
use diesel::prelude::*;
use keel_shared::cart::{DomainChoice, QuoteItem, TaxLine};
use keel_shared::catalog::BillingCycle;
use keel_shared::orders::{Order, OrderFilter, OrderItem, OrderStatus, OrderSummary};
use keel_shared::{Currency, Page};

use crate::db::paging::{Cursor, Paging};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::schema::{counters, order_items, orders, services, users};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = orders)]
pub struct OrderRow {
    pub id: String,
    pub number: String,
    pub account_id: String,
    pub placed_by: String,
    pub status: String,
    pub currency: String,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub tax_lines: String,
    pub tax_inclusive: bool,
    pub reverse_charge: bool,
    pub promo_code: Option<String>,
    pub fraud_reasons: String,
    pub cancel_reason: Option<String>,
    pub ip: Option<String>,
    pub idempotency_key: String,
    pub request_hash: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = order_items)]
pub struct ItemRow {
    pub id: String,
    pub order_id: String,
    pub line_no: i32,
    pub product_id: String,
    pub product_name: String,
    pub cycle: String,
    pub quantity: i32,
    pub items: String,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub renewal_minor: i64,
    pub config: String,
    pub domain: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = services)]
pub struct ServiceRow {
    pub id: String,
    pub account_id: String,
    pub order_id: String,
    pub order_item_id: String,
    pub product_id: String,
    pub status: String,
    pub cycle: String,
    pub currency: String,
    pub first_minor: i64,
    pub recurring_minor: i64,
    pub domain: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// What the first period's recurring part cost after discounts, before tax (a change's
    /// credit never exceeds it).
    pub period_paid_minor: Option<i64>,
}

fn json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::internal(format!("order {what}: {e}")))
}

impl OrderRow {
    pub fn status(&self) -> Result<OrderStatus, ApiError> {
        OrderStatus::parse(&self.status).ok_or_else(|| ApiError::internal(format!("unknown order status '{}'", self.status)))
    }

    pub fn to_dto(&self, items: Vec<OrderItem>) -> Result<Order, ApiError> {
        Ok(Order {
            id: self.id.clone().into(),
            number: self.number.clone(),
            account_id: self.account_id.clone().into(),
            status: self.status()?,
            currency: Currency::parse(&self.currency).ok_or_else(|| ApiError::internal("order currency"))?,
            subtotal_minor: self.subtotal_minor,
            discount_minor: self.discount_minor,
            tax_minor: self.tax_minor,
            total_minor: self.total_minor,
            tax_lines: json::<Vec<TaxLine>>(&self.tax_lines, "tax lines")?,
            tax_inclusive: self.tax_inclusive,
            reverse_charge: self.reverse_charge,
            promo_codes: self.promo_code.as_deref().map(|c| c.split(',').map(str::to_string).collect()).unwrap_or_default(),
            items,
            fraud_reasons: json(&self.fraud_reasons, "fraud reasons")?,
            cancel_reason: self.cancel_reason.clone(),
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
        })
    }
}

/// Takes the next number of a gapless sequence, inside the caller's transaction (the row stays
/// locked until it ends; a rollback gives the number back).
pub fn next_number(conn: &mut DbConn, name: &str) -> Result<i64, ApiError> {
    Ok(diesel::update(counters::table.find(name))
        .set(counters::value.eq(counters::value + 1))
        .returning(counters::value)
        .get_result(conn)?)
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<OrderRow>, ApiError> {
    Ok(orders::table.find(id).select(OrderRow::as_select()).first(conn).optional()?)
}

pub fn by_key(conn: &mut DbConn, account_id: &str, key: &str) -> Result<Option<OrderRow>, ApiError> {
    Ok(orders::table
        .filter(orders::account_id.eq(account_id))
        .filter(orders::idempotency_key.eq(key))
        .select(OrderRow::as_select())
        .first(conn)
        .optional()?)
}

/// The order with its items and the services each created.
pub fn load(conn: &mut DbConn, row: &OrderRow) -> Result<Order, ApiError> {
    let items: Vec<ItemRow> = order_items::table
        .filter(order_items::order_id.eq(&row.id))
        .order(order_items::line_no.asc())
        .select(ItemRow::as_select())
        .load(conn)?;
    let svc: Vec<(String, String)> = services::table
        .filter(services::order_id.eq(&row.id))
        .order(services::id.asc())
        .select((services::order_item_id, services::id))
        .load(conn)?;
    let items = items
        .into_iter()
        .map(|i| {
            Ok(OrderItem {
                product_id: i.product_id.into(),
                product_name: i.product_name,
                cycle: BillingCycle::parse(&i.cycle).ok_or_else(|| ApiError::internal("order item cycle"))?,
                quantity: u32::try_from(i.quantity).unwrap_or(1),
                items: json::<Vec<QuoteItem>>(&i.items, "items")?,
                subtotal_minor: i.subtotal_minor,
                discount_minor: i.discount_minor,
                tax_minor: i.tax_minor,
                total_minor: i.total_minor,
                renewal_minor: i.renewal_minor,
                domain: i.domain.as_deref().map(|d| json::<DomainChoice>(d, "domain")).transpose()?,
                service_ids: svc.iter().filter(|(item, _)| *item == i.id).map(|(_, s)| s.clone().into()).collect(),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    row.to_dto(items)
}

/// Orders newest first: one account's (`account`), or every account's for the back office.
pub fn list(conn: &mut DbConn, filter: &OrderFilter, account: Option<&str>) -> Result<Page<OrderSummary>, ApiError> {
    let paging = Paging::new(filter.paging.clone())?;
    let account = account.map(str::to_string).or_else(|| filter.account_id.clone().map(String::from));
    let prefix = filter.q.as_ref().map(|q| q.trim().to_ascii_uppercase());
    macro_rules! base {
        () => {{
            let mut q = orders::table.into_boxed();
            if let Some(s) = filter.status {
                q = q.filter(orders::status.eq(s.as_str()));
            }
            if let Some(a) = &account {
                q = q.filter(orders::account_id.eq(a.clone()));
            }
            if let Some(p) = &prefix {
                // Order numbers are ASCII: a range on the unique index, no LIKE.
                q = q.filter(orders::number.ge(p.clone())).filter(orders::number.lt(format!("{p}\u{7f}")));
            }
            q
        }};
    }
    let total = crate::count_capped!(conn, base!(), orders::created_at, orders::id);
    let rows: Vec<OrderRow> = crate::keyset!(base!(), orders::created_at, orders::id, &paging).select(OrderRow::as_select()).load(conn)?;
    let page = paging.finish(rows, total, |r: &OrderRow| Cursor { at: r.created_at, id: r.id.clone() });
    let ids: Vec<&str> = page.items.iter().map(|r| r.id.as_str()).collect();
    let names: Vec<(String, String)> = order_items::table
        .filter(order_items::order_id.eq_any(&ids))
        .order((order_items::order_id.asc(), order_items::line_no.asc()))
        .select((order_items::order_id, order_items::product_name))
        .load(conn)?;
    let accounts: Vec<&str> = page.items.iter().map(|r| r.account_id.as_str()).collect();
    let emails: Vec<(String, String)> = users::table.filter(users::id.eq_any(&accounts)).select((users::id, users::email)).load(conn)?;
    page.try_map(|r| {
        let mut description: Vec<&str> = names.iter().filter(|(o, _)| *o == r.id).map(|(_, n)| n.as_str()).collect();
        description.dedup();
        Ok(OrderSummary {
            email: emails.iter().find(|(id, _)| *id == r.account_id).map(|(_, e)| e.clone()).unwrap_or_default(),
            status: r.status()?,
            currency: Currency::parse(&r.currency).ok_or_else(|| ApiError::internal("order currency"))?,
            description: description.join(", "),
            id: r.id.into(),
            number: r.number,
            account_id: r.account_id.into(),
            total_minor: r.total_minor,
            created_at: r.created_at.and_utc(),
        })
    })
}
