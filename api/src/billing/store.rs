//! Invoice, payment and credit rows and their queries (diesel only).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use keel_shared::billing::{
    Credit, CreditBalance, CreditEntry, CreditNote, Invoice, InvoiceFilter, InvoiceKind, InvoiceLine, InvoiceStatus, InvoiceSummary, Party,
    Payment,
};
use keel_shared::cart::TaxLine;
use keel_shared::{Currency, Page};

use crate::db::paging::{Cursor, Paging};
use crate::db::DbConn;
use crate::error::ApiError;
use crate::schema::{counters, credit_balances, credit_entries, credit_notes, invoice_lines, invoices, payments};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invoices)]
pub struct InvoiceRow {
    pub id: String,
    pub number: Option<String>,
    pub account_id: String,
    pub order_id: Option<String>,
    pub kind: InvoiceKind,
    pub status: InvoiceStatus,
    pub currency: String,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub paid_minor: i64,
    pub tax_lines: String,
    pub tax_inclusive: bool,
    pub reverse_charge: bool,
    pub seller: String,
    pub buyer: String,
    pub buyer_name: String,
    pub payment_instructions: Option<String>,
    pub cancel_reason: Option<String>,
    pub merged_into: Option<String>,
    pub issued_at: Option<NaiveDateTime>,
    pub due_on: NaiveDate,
    pub paid_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl InvoiceRow {
    pub fn currency(&self) -> Result<Currency, ApiError> {
        Currency::parse(&self.currency).ok_or_else(|| ApiError::internal("invoice currency"))
    }

    /// Still owed.
    pub fn balance(&self) -> i64 {
        if self.status.is_open() {
            (self.total_minor - self.paid_minor).max(0)
        } else {
            0
        }
    }

    /// The number, or the id for a draft (for messages and audit entries).
    pub fn label(&self) -> String {
        self.number.clone().unwrap_or_else(|| format!("draft {}", self.id))
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = invoice_lines)]
pub struct LineRow {
    pub id: String,
    pub invoice_id: String,
    pub line_no: i32,
    pub description: String,
    pub service_id: Option<String>,
    pub period_from: Option<NaiveDate>,
    pub period_to: Option<NaiveDate>,
    pub quantity: i32,
    pub unit_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payments)]
pub struct PaymentRow {
    pub id: String,
    pub invoice_id: String,
    pub account_id: String,
    pub gateway: keel_shared::billing::Gateway,
    pub external_id: Option<String>,
    pub reference: String,
    pub amount_minor: i64,
    pub currency: String,
    pub refund_of: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = credit_notes)]
pub struct CreditNoteRow {
    pub id: String,
    pub number: String,
    pub invoice_id: String,
    pub account_id: String,
    pub payment_id: Option<String>,
    pub currency: String,
    pub amount_minor: i64,
    pub reason: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = credit_entries)]
pub struct CreditRow {
    pub id: String,
    pub account_id: String,
    pub currency: String,
    pub amount_minor: i64,
    pub reason: String,
    pub invoice_id: Option<String>,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
}

fn json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::internal(format!("invoice {what}: {e}")))
}

/// Takes the next number of a gapless sequence (`invoice-2026`), creating it at zero first, inside
/// the caller's transaction: the counter row stays locked until commit, and a rollback gives the
/// number back.
pub fn next_in_sequence(conn: &mut DbConn, name: &str) -> Result<i64, ApiError> {
    let row = (counters::name.eq(name), counters::value.eq(0_i64));
    crate::each_backend!(&mut *conn, c => diesel::insert_into(counters::table).values(row).on_conflict_do_nothing().execute(c))?;
    crate::commerce::orders::next_number(conn, name)
}

pub fn find(conn: &mut DbConn, id: &str) -> Result<Option<InvoiceRow>, ApiError> {
    Ok(invoices::table.find(id).select(InvoiceRow::as_select()).first(conn).optional()?)
}

/// The invoice, locked for the rest of the transaction: a write first (PostgreSQL takes the
/// row's lock; SQLite's transaction already holds the database's), then the read.
pub fn lock(conn: &mut DbConn, id: &str, at: NaiveDateTime) -> Result<InvoiceRow, ApiError> {
    let touched = diesel::update(invoices::table.find(id)).set(invoices::updated_at.eq(at)).execute(conn)?;
    if touched == 0 {
        return Err(ApiError::not_found("invoice"));
    }
    find(conn, id)?.ok_or_else(|| ApiError::not_found("invoice"))
}

/// Of the invoices `ids`, those still open with nothing paid whose due date is before `day`.
pub fn unpaid_past_due(conn: &mut DbConn, ids: &[String], day: chrono::NaiveDate) -> Result<Vec<String>, ApiError> {
    Ok(invoices::table
        .filter(invoices::id.eq_any(ids))
        .filter(invoices::due_on.lt(day))
        .filter(invoices::paid_minor.eq(0))
        .filter(invoices::status.eq_any([InvoiceStatus::Unpaid, InvoiceStatus::Overdue]))
        .select(invoices::id)
        .load(conn)?)
}

pub fn for_order(conn: &mut DbConn, order_id: &str) -> Result<Vec<InvoiceRow>, ApiError> {
    Ok(invoices::table.filter(invoices::order_id.eq(order_id)).select(InvoiceRow::as_select()).load(conn)?)
}

/// The invoice with its lines and payments.
/// An invoice's lines in order.
pub fn lines(conn: &mut DbConn, invoice_id: &str) -> Result<Vec<LineRow>, ApiError> {
    Ok(invoice_lines::table
        .filter(invoice_lines::invoice_id.eq(invoice_id))
        .order(invoice_lines::line_no.asc())
        .select(LineRow::as_select())
        .load(conn)?)
}

pub fn load(conn: &mut DbConn, row: &InvoiceRow) -> Result<Invoice, ApiError> {
    let lines = self::lines(conn, &row.id)?;
    let paid: Vec<PaymentRow> = payments::table
        .filter(payments::invoice_id.eq(&row.id))
        .order((payments::created_at.asc(), payments::id.asc()))
        .select(PaymentRow::as_select())
        .load(conn)?;
    let notes: Vec<CreditNoteRow> = credit_notes::table
        .filter(credit_notes::invoice_id.eq(&row.id))
        .order((credit_notes::created_at.asc(), credit_notes::number.asc()))
        .select(CreditNoteRow::as_select())
        .load(conn)?;
    let currency = row.currency()?;
    Ok(Invoice {
        id: row.id.clone().into(),
        number: row.number.clone(),
        account_id: row.account_id.clone().into(),
        order_id: row.order_id.clone().map(Into::into),
        kind: row.kind,
        status: row.status,
        currency,
        lines: lines
            .into_iter()
            .map(|l| InvoiceLine {
                description: l.description,
                service_id: l.service_id.map(Into::into),
                period_from: l.period_from,
                period_to: l.period_to,
                quantity: u32::try_from(l.quantity).unwrap_or(1),
                unit_minor: l.unit_minor,
                discount_minor: l.discount_minor,
                tax_minor: l.tax_minor,
                total_minor: l.total_minor,
            })
            .collect(),
        subtotal_minor: row.subtotal_minor,
        discount_minor: row.discount_minor,
        tax_minor: row.tax_minor,
        total_minor: row.total_minor,
        paid_minor: row.paid_minor,
        balance_minor: row.balance(),
        tax_lines: json::<Vec<TaxLine>>(&row.tax_lines, "tax lines")?,
        tax_inclusive: row.tax_inclusive,
        reverse_charge: row.reverse_charge,
        seller: json::<Party>(&row.seller, "seller")?,
        buyer: json::<Party>(&row.buyer, "buyer")?,
        issued_at: row.issued_at.map(|t| t.and_utc()),
        due_on: row.due_on,
        paid_at: row.paid_at.map(|t| t.and_utc()),
        payment_instructions: row.payment_instructions.clone().filter(|_| row.balance() > 0),
        payments: paid
            .into_iter()
            .map(|p| {
                Ok(Payment {
                    id: p.id.into(),
                    invoice_id: p.invoice_id.into(),
                    gateway: p.gateway,
                    reference: p.reference,
                    amount_minor: p.amount_minor,
                    currency: Currency::parse(&p.currency).ok_or_else(|| ApiError::internal("payment currency"))?,
                    refund_of: p.refund_of.map(Into::into),
                    created_at: p.created_at.and_utc(),
                })
            })
            .collect::<Result<_, ApiError>>()?,
        credit_notes: notes
            .into_iter()
            .map(|n| CreditNote {
                id: n.id.into(),
                number: n.number,
                invoice_id: n.invoice_id.into(),
                payment_id: n.payment_id.map(Into::into),
                amount_minor: n.amount_minor,
                currency,
                reason: n.reason,
                created_at: n.created_at.and_utc(),
            })
            .collect(),
        created_at: row.created_at.and_utc(),
    })
}

/// Invoices newest first: one account's (`account`), or every account's for the back office.
pub fn list(conn: &mut DbConn, filter: &InvoiceFilter, account: Option<&str>) -> Result<Page<InvoiceSummary>, ApiError> {
    let paging = Paging::new(filter.paging.clone())?;
    // A client's own list (drafts are the back office's).
    let clients = account.is_some();
    let account = account.map(str::to_string).or_else(|| filter.account_id.clone().map(String::from));
    let prefix = filter.q.as_ref().map(|q| q.trim().to_ascii_uppercase());
    macro_rules! base {
        () => {{
            let mut q = invoices::table.into_boxed();
            if let Some(s) = filter.status {
                q = q.filter(invoices::status.eq(s));
            }
            if let Some(a) = &account {
                q = q.filter(invoices::account_id.eq(a.clone()));
            }
            if clients {
                q = q.filter(invoices::status.ne(InvoiceStatus::Draft));
            }
            if let Some(o) = &filter.order_id {
                q = q.filter(invoices::order_id.eq(o.as_str().to_string()));
            }
            if let Some(p) = &prefix {
                // Numbers are ASCII: a range on the unique index, no LIKE.
                q = q.filter(invoices::number.ge(p.clone())).filter(invoices::number.lt(format!("{p}\u{7f}")));
            }
            q
        }};
    }
    let total = crate::count_capped!(conn, base!(), invoices::created_at, invoices::id);
    let rows: Vec<InvoiceRow> =
        crate::keyset!(base!(), invoices::created_at, invoices::id, &paging).select(InvoiceRow::as_select()).load(conn)?;
    let page = paging.finish(rows, total, |r: &InvoiceRow| Cursor { at: r.created_at, id: r.id.clone() });
    let items = page
        .items
        .iter()
        .map(|r| {
            Ok(InvoiceSummary {
                id: r.id.clone().into(),
                number: r.number.clone(),
                account_id: r.account_id.clone().into(),
                buyer: r.buyer_name.clone(),
                kind: r.kind,
                status: r.status,
                currency: r.currency()?,
                total_minor: r.total_minor,
                balance_minor: r.balance(),
                due_on: r.due_on,
                created_at: r.created_at.and_utc(),
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Page {
        items,
        page: page.page,
        per_page: page.per_page,
        total: page.total,
        total_pages: page.total_pages,
        total_capped: page.total_capped,
        next_cursor: page.next_cursor,
    })
}

/// An account's credit: balances and the latest entries.
pub fn credit(conn: &mut DbConn, account_id: &str) -> Result<Credit, ApiError> {
    let balances: Vec<(String, i64)> = credit_balances::table
        .filter(credit_balances::account_id.eq(account_id))
        .order(credit_balances::currency.asc())
        .select((credit_balances::currency, credit_balances::balance_minor))
        .load(conn)?;
    let entries: Vec<CreditRow> = credit_entries::table
        .filter(credit_entries::account_id.eq(account_id))
        .order((credit_entries::created_at.desc(), credit_entries::id.desc()))
        .limit(100)
        .select(CreditRow::as_select())
        .load(conn)?;
    let currency = |c: &str| Currency::parse(c).ok_or_else(|| ApiError::internal("credit currency"));
    Ok(Credit {
        balances: balances
            .into_iter()
            .map(|(c, b)| Ok(CreditBalance { currency: currency(&c)?, balance_minor: b }))
            .collect::<Result<_, ApiError>>()?,
        entries: entries
            .into_iter()
            .map(|e| {
                Ok(CreditEntry {
                    id: e.id.into(),
                    amount_minor: e.amount_minor,
                    currency: currency(&e.currency)?,
                    reason: e.reason,
                    invoice_id: e.invoice_id.map(Into::into),
                    created_at: e.created_at.and_utc(),
                })
            })
            .collect::<Result<_, ApiError>>()?,
    })
}

/// The account's credit in `currency`.
pub fn credit_balance(conn: &mut DbConn, account_id: &str, currency: &str) -> Result<i64, ApiError> {
    Ok(credit_balances::table.find((account_id, currency)).select(credit_balances::balance_minor).first(conn).optional()?.unwrap_or(0))
}

/// Adds a ledger entry and moves the balance with it, in the caller's transaction. A negative
/// amount larger than the balance takes nothing and answers `false`.
pub fn credit_entry(conn: &mut DbConn, entry: &CreditRow) -> Result<bool, ApiError> {
    let row = (
        credit_balances::account_id.eq(&entry.account_id),
        credit_balances::currency.eq(&entry.currency),
        credit_balances::balance_minor.eq(0_i64),
    );
    crate::each_backend!(&mut *conn, c => diesel::insert_into(credit_balances::table).values(row).on_conflict_do_nothing().execute(c))?;
    let moved = diesel::update(credit_balances::table.find((&entry.account_id, &entry.currency)))
        .filter(credit_balances::balance_minor.ge(-entry.amount_minor))
        .set(credit_balances::balance_minor.eq(credit_balances::balance_minor + entry.amount_minor))
        .execute(conn)?;
    if moved == 0 {
        return Ok(false);
    }
    diesel::insert_into(credit_entries::table).values(entry).execute(conn)?;
    Ok(true)
}

pub fn payment(conn: &mut DbConn, id: &str) -> Result<Option<PaymentRow>, ApiError> {
    Ok(payments::table.find(id).select(PaymentRow::as_select()).first(conn).optional()?)
}

/// What has been given back of a payment so far (a positive amount).
pub fn refunded(conn: &mut DbConn, payment_id: &str) -> Result<i64, ApiError> {
    let refunds: Vec<i64> = payments::table.filter(payments::refund_of.eq(payment_id)).select(payments::amount_minor).load(conn)?;
    Ok(-refunds.iter().sum::<i64>())
}

/// The payment (or refund) a gateway knows by `external_id`.
pub fn payment_by_external(
    conn: &mut DbConn,
    gateway: keel_shared::billing::Gateway,
    external_id: &str,
) -> Result<Option<PaymentRow>, ApiError> {
    Ok(payments::table
        .filter(payments::gateway.eq(gateway))
        .filter(payments::external_id.eq(external_id))
        .select(PaymentRow::as_select())
        .first(conn)
        .optional()?)
}

/// Whether an order has been paid: its invoice, or the invoice it was merged into.
pub fn order_paid(conn: &mut DbConn, order_id: &str) -> Result<bool, ApiError> {
    let rows: Vec<(InvoiceStatus, Option<String>)> =
        invoices::table.filter(invoices::order_id.eq(order_id)).select((invoices::status, invoices::merged_into)).load(conn)?;
    for (status, merged) in rows {
        let status = match merged {
            Some(m) => invoices::table.find(m).select(invoices::status).first(conn).optional()?,
            None => Some(status),
        };
        if status == Some(InvoiceStatus::Paid) {
            return Ok(true);
        }
    }
    Ok(false)
}
