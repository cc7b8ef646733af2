//! Billing's use cases: issuing invoices (a checkout's, in its transaction), recording payments
//! and what a paid invoice sets moving, paying from credit, cancelling, and the credit ledger.
//! Each public function that changes money opens its transaction (or, named `…_in`, runs in
//! the caller's) and writes its audit entry there.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use diesel::prelude::*;
use keel_shared::billing::{
    BillingSettings, Credit, CreditAdjustment, CreditNote, Gateway, Invoice, InvoiceFilter, InvoiceKind, InvoiceStatus, InvoiceSummary,
    Party,
};
use keel_shared::orders::Order;
use keel_shared::{Money, Page};

use super::store::{self, CreditNoteRow, CreditRow, InvoiceRow, LineRow, PaymentRow};
use crate::audit::{self, Actor, Event};
use crate::db::{self, now_micros, DbConn};
use crate::error::ApiError;
use crate::ids;
use crate::notifications::outbox::{self, Category, MailContext, Outgoing};
use crate::schema::{credit_notes, invoice_lines, invoices, payments};

const SETTINGS_KEY: &str = "billing";

pub fn settings(conn: &mut DbConn) -> Result<BillingSettings, ApiError> {
    Ok(crate::admin::settings::get(conn, SETTINGS_KEY)?.unwrap_or_default())
}

pub fn update_settings(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, body: &BillingSettings) -> Result<BillingSettings, ApiError> {
    db::transaction(conn, |conn| {
        crate::admin::settings::set(conn, now, SETTINGS_KEY, body)?;
        audit::record(
            conn,
            now,
            actor,
            Event::new("billing.settings_changed").details(serde_json::to_value(body).map_err(ApiError::internal)?),
        )?;
        Ok(body.clone())
    })
}

/// The seller as printed on invoices issued now.
fn seller(conn: &mut DbConn, s: &BillingSettings) -> Result<Party, ApiError> {
    let home = crate::catalog::service::settings(conn)?.home_country;
    Ok(Party {
        name: s.seller_name.clone(),
        company: None,
        address: s.seller_address.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect(),
        country: home,
        tax_id: Some(s.seller_tax_id.clone()).filter(|t| !t.is_empty()),
        email: None,
    })
}

/// The account holder as printed on invoices issued now: name, company, billing address, tax id.
fn buyer(conn: &mut DbConn, account_id: &str) -> Result<Party, ApiError> {
    let user = crate::accounts::users::find_user(conn, account_id)?;
    let profile = crate::accounts::profile::get(conn, account_id)?;
    let address = profile.billing_address.clone().or(profile.address.clone());
    let mut lines = Vec::new();
    let mut country = None;
    if let Some(a) = address {
        lines.push(a.line1);
        if !a.line2.is_empty() {
            lines.push(a.line2);
        }
        lines.push(format!("{} {}", a.postcode, a.city).trim().to_string());
        if !a.region.is_empty() {
            lines.push(a.region);
        }
        country = Some(a.country);
    }
    Ok(Party {
        name: format!("{} {}", user.first_name, user.last_name).trim().to_string(),
        company: profile.company.filter(|c| !c.trim().is_empty()),
        address: lines,
        country,
        tax_id: profile.tax_id.filter(|t| !t.trim().is_empty()),
        email: Some(user.email),
    })
}

fn json<T: serde::Serialize + ?Sized>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(ApiError::internal)
}

/// The last day a first period of `months` starting on `from` covers (none for one-time items).
fn period_end(from: NaiveDate, months: u32) -> Option<NaiveDate> {
    if months == 0 {
        return None;
    }
    // The same calendar arithmetic as every due date (`keel_shared::provisioning`).
    keel_shared::provisioning::add_months(from, months).and_then(|d| d.pred_opt())
}

/// Issues the invoice of a checkout's order, in the checkout's transaction: numbered, lines and
/// amounts as the order froze them, seller and buyer as they are now. An order that costs
/// nothing is paid at once.
pub fn issue_for_order_in(conn: &mut DbConn, now: DateTime<Utc>, mail: &MailContext, order: &Order) -> Result<InvoiceRow, ApiError> {
    let today = now.date_naive();
    let mut lines = Vec::with_capacity(order.items.len());
    for (i, item) in order.items.iter().enumerate() {
        let mut description = format!("{} ({})", item.product_name, item.cycle.label());
        if let Some(d) = &item.domain {
            description.push_str(&format!(" — {}", d.name.to_ascii_lowercase()));
        }
        // Lines carry a whole-line subtotal; it is shown per unit only when it divides evenly.
        let qty = i64::from(item.quantity.max(1));
        let (quantity, unit) = if item.subtotal_minor % qty == 0 { (qty, item.subtotal_minor / qty) } else { (1, item.subtotal_minor) };
        let from = item.cycle.is_recurring().then_some(today);
        lines.push(LineRow {
            id: ids::new_id(),
            invoice_id: String::new(),
            line_no: i as i32,
            description,
            service_id: item.service_ids.first().filter(|_| item.service_ids.len() == 1).map(|s| s.to_string()),
            period_from: from,
            period_to: from.and_then(|f| period_end(f, item.cycle.months())),
            quantity: quantity as i32,
            unit_minor: unit,
            discount_minor: item.discount_minor,
            tax_minor: item.tax_minor,
            total_minor: item.total_minor,
        });
    }
    let draft = Draft {
        account_id: order.account_id.to_string(),
        order_id: Some(order.id.to_string()),
        kind: InvoiceKind::Order,
        currency: order.currency.code().to_string(),
        subtotal_minor: order.subtotal_minor,
        discount_minor: order.discount_minor,
        tax_minor: order.tax_minor,
        total_minor: order.total_minor,
        tax_lines: json(&order.tax_lines)?,
        tax_inclusive: order.tax_inclusive,
        reverse_charge: order.reverse_charge,
        due_on: None,
    };
    issue_notified_in(conn, now, mail, draft, lines)
}

/// Issues an invoice in the caller's transaction and e-mails it to the client; one of no amount
/// is paid at once (and sets moving what a payment would).
pub fn issue_notified_in(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    mail: &MailContext,
    draft: Draft,
    lines: Vec<LineRow>,
) -> Result<InvoiceRow, ApiError> {
    let row = issue_in(conn, now, draft, lines)?;
    if row.total_minor == 0 {
        return mark_paid_in(conn, now, row);
    }
    notify_issued(conn, now, mail, &row)?;
    Ok(row)
}

/// What an invoice is before it is issued.
pub struct Draft {
    pub account_id: String,
    pub order_id: Option<String>,
    pub kind: InvoiceKind,
    pub currency: String,
    pub subtotal_minor: i64,
    pub discount_minor: i64,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub tax_lines: String,
    pub tax_inclusive: bool,
    pub reverse_charge: bool,
    /// When it is due; none: the settings' days after issue.
    pub due_on: Option<NaiveDate>,
}

impl Draft {
    /// The draft of lines Keel priced itself (renewals, plan changes): `subtotal` before tax,
    /// taxed for the account as `tax` worked out.
    pub fn taxed(
        account_id: &str,
        kind: InvoiceKind,
        currency: &str,
        subtotal: i64,
        tax: &crate::commerce::service::AccountTax,
        due_on: Option<NaiveDate>,
    ) -> Result<Draft, ApiError> {
        Ok(Draft {
            account_id: account_id.to_string(),
            order_id: None,
            kind,
            currency: currency.to_string(),
            subtotal_minor: subtotal,
            discount_minor: 0,
            tax_minor: tax.tax_minor,
            total_minor: tax.total_minor,
            tax_lines: json(&tax.tax_lines)?,
            tax_inclusive: tax.inclusive,
            reverse_charge: tax.reverse_charge,
            due_on,
        })
    }
}

/// Writes and issues an invoice in the caller's transaction: seller and buyer frozen, the due
/// date from the settings, and the next number of the year's gapless sequence (taken last, so
/// the counter row is locked as briefly as the transaction allows).
pub fn issue_in(conn: &mut DbConn, now: DateTime<Utc>, draft: Draft, lines: Vec<LineRow>) -> Result<InvoiceRow, ApiError> {
    let due_on = draft.due_on;
    let id = insert_draft_in(conn, now, draft, lines)?;
    stamp_in(conn, now, &Actor::default(), &id, due_on)
}

/// Writes an invoice as a draft (no number; seller and buyer are taken when it is issued).
fn insert_draft_in(conn: &mut DbConn, now: DateTime<Utc>, draft: Draft, mut lines: Vec<LineRow>) -> Result<String, ApiError> {
    let at = now_micros(now);
    let id = ids::new_id();
    let row = InvoiceRow {
        id: id.clone(),
        number: None,
        account_id: draft.account_id,
        order_id: draft.order_id,
        kind: draft.kind,
        status: InvoiceStatus::Draft,
        currency: draft.currency,
        subtotal_minor: draft.subtotal_minor,
        discount_minor: draft.discount_minor,
        tax_minor: draft.tax_minor,
        total_minor: draft.total_minor,
        paid_minor: 0,
        tax_lines: draft.tax_lines,
        tax_inclusive: draft.tax_inclusive,
        reverse_charge: draft.reverse_charge,
        buyer_name: String::new(),
        seller: "{}".into(),
        buyer: "{}".into(),
        payment_instructions: None,
        cancel_reason: None,
        merged_into: None,
        issued_at: None,
        due_on: now.date_naive(),
        paid_at: None,
        created_at: at,
        updated_at: at,
    };
    diesel::insert_into(invoices::table).values(&row).execute(conn)?;
    for l in &mut lines {
        l.invoice_id = id.clone();
        diesel::insert_into(invoice_lines::table).values(&*l).execute(conn)?;
    }
    Ok(id)
}

/// Issues a draft in the caller's transaction: the seller and buyer as they are now, the bank
/// instructions and due date from the settings, and the next number of the year's gapless
/// sequence (taken last, so the counter row is locked as briefly as the transaction allows).
fn stamp_in(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, id: &str, due_on: Option<NaiveDate>) -> Result<InvoiceRow, ApiError> {
    let row = store::find(conn, id)?.ok_or_else(|| ApiError::not_found("invoice"))?;
    let s = settings(conn)?;
    let seller = seller(conn, &s)?;
    let buyer = buyer(conn, &row.account_id)?;
    let at = now_micros(now);
    let year = now.date_naive().format("%Y").to_string();
    let seq = store::next_in_sequence(conn, &format!("invoice-{year}"))?;
    let number = keel_shared::billing::invoice_number(&s.invoice_prefix, year.parse().unwrap_or(0), seq);
    diesel::update(invoices::table.find(id))
        .set((
            invoices::number.eq(&number),
            invoices::status.eq(InvoiceStatus::Unpaid),
            invoices::buyer_name.eq(buyer.company.clone().unwrap_or_else(|| buyer.name.clone())),
            invoices::seller.eq(json(&seller)?),
            invoices::buyer.eq(json(&buyer)?),
            invoices::payment_instructions.eq(Some(s.payment_instructions.clone()).filter(|p| !p.trim().is_empty())),
            invoices::issued_at.eq(Some(at)),
            invoices::due_on.eq(due_on.unwrap_or_else(|| now.date_naive() + Duration::days(i64::from(s.due_days)))),
            invoices::updated_at.eq(at),
        ))
        .execute(conn)?;
    audit::record(
        conn,
        now,
        actor,
        Event::new("invoice.issued").account(&row.account_id).target("invoice", id).details(serde_json::json!({
            "number": number, "total_minor": row.total_minor, "currency": row.currency, "kind": row.kind,
        })),
    )?;
    store::find(conn, id)?.ok_or_else(|| ApiError::not_found("invoice"))
}

/// A draft's lines and totals from what staff wrote: each line's tax at its rate (rounded half
/// away from zero), tax lines per rate, prices excluding tax.
fn draft_lines(lines: &[keel_shared::billing::DraftLine]) -> (Vec<LineRow>, i64, i64, Vec<keel_shared::cart::TaxLine>) {
    let mut rows = Vec::with_capacity(lines.len());
    let (mut subtotal, mut tax) = (0_i64, 0_i64);
    let mut by_rate: std::collections::BTreeMap<u32, i64> = std::collections::BTreeMap::new();
    for (i, l) in lines.iter().enumerate() {
        let net = l.unit_minor.saturating_mul(i64::from(l.quantity));
        let line_tax =
            i64::try_from(keel_shared::money::div_round_half_away(i128::from(net) * i128::from(l.tax_rate_bp), 10_000)).unwrap_or(i64::MAX);
        subtotal = subtotal.saturating_add(net);
        tax = tax.saturating_add(line_tax);
        if l.tax_rate_bp > 0 {
            *by_rate.entry(l.tax_rate_bp).or_default() += line_tax;
        }
        rows.push(LineRow {
            id: ids::new_id(),
            invoice_id: String::new(),
            line_no: i as i32,
            description: l.description.trim().to_string(),
            service_id: None,
            period_from: None,
            period_to: None,
            quantity: l.quantity as i32,
            unit_minor: l.unit_minor,
            discount_minor: 0,
            tax_minor: line_tax,
            total_minor: net.saturating_add(line_tax),
        });
    }
    let tax_lines = by_rate
        .into_iter()
        .map(|(rate_bp, amount_minor)| keel_shared::cart::TaxLine { name: "VAT".into(), rate_bp, amount_minor })
        .collect();
    (rows, subtotal, tax, tax_lines)
}

/// The sum of a draft's lines must stay within what an invoice may hold.
fn check_total(subtotal: i64, tax: i64) -> Result<(), ApiError> {
    if subtotal.saturating_add(tax) > keel_shared::billing::AMOUNT_MAX {
        return Err(ApiError::field("lines", "the invoice's total is too large"));
    }
    Ok(())
}

/// Staff start a manual invoice for a client: a draft (not numbered) with the lines given.
pub fn create_draft(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: &Actor,
    body: &keel_shared::billing::NewInvoice,
) -> Result<Invoice, ApiError> {
    db::transaction(conn, |conn| {
        let user = crate::accounts::users::find_user(conn, body.account_id.as_str())
            .map_err(|_| ApiError::field("account_id", "is not a client"))?;
        if user.role != "client" {
            return Err(ApiError::field("account_id", "is not a client"));
        }
        let (lines, subtotal, tax, tax_lines) = draft_lines(&body.lines);
        check_total(subtotal, tax)?;
        let draft = Draft {
            account_id: user.id.clone(),
            order_id: None,
            kind: InvoiceKind::Manual,
            currency: body.currency.code().to_string(),
            subtotal_minor: subtotal,
            discount_minor: 0,
            tax_minor: tax,
            total_minor: subtotal + tax,
            tax_lines: json(&tax_lines)?,
            tax_inclusive: false,
            reverse_charge: false,
            due_on: None,
        };
        let id = insert_draft_in(conn, now, draft, lines)?;
        audit::record(conn, now, actor, Event::new("invoice.drafted").account(&user.id).target("invoice", &id))?;
        get(conn, &id, None)
    })
}

fn draft_row(conn: &mut DbConn, id: &str, at: chrono::NaiveDateTime) -> Result<InvoiceRow, ApiError> {
    let row = store::lock(conn, id, at)?;
    if row.status != InvoiceStatus::Draft {
        return Err(ApiError::Conflict {
            code: "invoice_state",
            detail: format!("invoice {} is issued: its lines cannot change (correct it with a credit note)", row.label()),
            field: None,
        });
    }
    Ok(row)
}

/// Replaces a draft's lines (adding and removing lines at once) and its totals.
pub fn set_draft_lines(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    id: &str,
    lines: &[keel_shared::billing::DraftLine],
) -> Result<Invoice, ApiError> {
    db::transaction(conn, |conn| {
        draft_row(conn, id, now_micros(now))?;
        let (mut rows, subtotal, tax, tax_lines) = draft_lines(lines);
        check_total(subtotal, tax)?;
        diesel::delete(invoice_lines::table.filter(invoice_lines::invoice_id.eq(id))).execute(conn)?;
        for l in &mut rows {
            l.invoice_id = id.to_string();
            diesel::insert_into(invoice_lines::table).values(&*l).execute(conn)?;
        }
        diesel::update(invoices::table.find(id))
            .set((
                invoices::subtotal_minor.eq(subtotal),
                invoices::tax_minor.eq(tax),
                invoices::total_minor.eq(subtotal + tax),
                invoices::tax_lines.eq(json(&tax_lines)?),
            ))
            .execute(conn)?;
        get(conn, id, None)
    })
}

/// Issues a draft: numbered, seller and buyer frozen, the client e-mailed. A draft with no lines
/// cannot be issued.
pub fn issue_draft(conn: &mut DbConn, now: DateTime<Utc>, mail: &MailContext, actor: &Actor, id: &str) -> Result<Invoice, ApiError> {
    db::transaction(conn, |conn| {
        draft_row(conn, id, now_micros(now))?;
        let lines: i64 = invoice_lines::table.filter(invoice_lines::invoice_id.eq(id)).count().get_result(conn)?;
        if lines == 0 {
            return Err(ApiError::field("lines", "add at least one line before issuing"));
        }
        let row = stamp_in(conn, now, actor, id, None)?;
        if row.total_minor == 0 {
            mark_paid_in(conn, now, row)?;
        } else {
            notify_issued(conn, now, mail, &row)?;
        }
        get(conn, id, None)
    })
}

/// Deletes a draft (an issued invoice is never deleted: cancel it).
pub fn delete_draft(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, id: &str) -> Result<(), ApiError> {
    db::transaction(conn, |conn| {
        let row = draft_row(conn, id, now_micros(now))?;
        diesel::delete(invoices::table.find(id)).execute(conn)?;
        audit::record(conn, now, actor, Event::new("invoice.draft_deleted").account(&row.account_id).target("invoice", id))
    })
}

/// E-mails the client a reminder of an open invoice.
pub fn remind(conn: &mut DbConn, now: DateTime<Utc>, mail: &MailContext, actor: &Actor, id: &str) -> Result<(), ApiError> {
    db::transaction(conn, |conn| {
        let row = store::find(conn, id)?.ok_or_else(|| ApiError::not_found("invoice"))?;
        if !row.status.is_open() || row.balance() == 0 {
            return Err(ApiError::Conflict {
                code: "invoice_state",
                detail: format!("invoice {} is {}: nothing to remind of", row.label(), row.status),
                field: None,
            });
        }
        let (email, first) = first_name(conn, &row.account_id)?;
        let template = if row.status == InvoiceStatus::Overdue { "invoice_overdue" } else { "invoice_reminder" };
        let vars = serde_json::json!({
            "first_name": first,
            "invoice_number": row.label(),
            "total": Money::new(row.balance(), row.currency()?).to_string(),
            "due_date": row.due_on.format("%-d %B %Y").to_string(),
            "invoice_url": invoice_url(mail, &row.id),
        });
        outbox::queue_email(
            conn,
            now,
            mail,
            Outgoing { to: &email, user_id: Some(&row.account_id), template, category: Category::Transactional, vars: &vars },
        )?;
        audit::record(
            conn,
            now,
            actor,
            Event::new("invoice.reminded")
                .account(&row.account_id)
                .target("invoice", id)
                .details(serde_json::json!({"number": row.number})),
        )
    })
}

fn first_name(conn: &mut DbConn, account_id: &str) -> Result<(String, String), ApiError> {
    let u = crate::accounts::users::find_user(conn, account_id)?;
    Ok((u.email, u.first_name))
}

fn invoice_url(mail: &MailContext, id: &str) -> String {
    format!("{}/dashboard/invoices/{id}", mail.public_url)
}

fn notify_issued(conn: &mut DbConn, now: DateTime<Utc>, mail: &MailContext, row: &InvoiceRow) -> Result<(), ApiError> {
    let (email, first) = first_name(conn, &row.account_id)?;
    let vars = serde_json::json!({
        "first_name": first,
        "invoice_number": row.label(),
        "total": Money::new(row.total_minor, row.currency()?).to_string(),
        "due_date": row.due_on.format("%-d %B %Y").to_string(),
        "invoice_url": invoice_url(mail, &row.id),
    });
    // The invoice's PDF goes with it.
    let pdf = outbox::Attachment {
        name: format!("{}.pdf", row.label()),
        content_type: "application/pdf".into(),
        content: super::pdf::render(&store::load(conn, row)?),
    };
    outbox::queue_email_with(
        conn,
        now,
        mail,
        Outgoing {
            to: &email,
            user_id: Some(&row.account_id),
            template: "invoice_created",
            category: Category::Transactional,
            vars: &vars,
        },
        &[pdf],
    )?;
    Ok(())
}

/// A payment as a gateway, staff or the credit ledger report it.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub invoice_id: String,
    pub gateway: Gateway,
    /// The gateway's payment id (unique per gateway); none for bank transfers and credit.
    pub external_id: Option<String>,
    pub reference: String,
    pub amount_minor: i64,
    pub currency: String,
}

/// What recording a payment did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// Recorded: how much went to the invoice and how much to credit (an overpayment, or a
    /// payment for an invoice no longer open).
    Recorded { to_invoice: i64, to_credit: i64, paid: bool },
    /// The gateway's payment id was recorded before.
    Duplicate,
}

/// Records a payment in the caller's transaction: the payment row (once per gateway payment id),
/// the invoice's paid amount and status, the excess to the account's credit, and — when the
/// invoice becomes paid — everything payment sets moving, in the same transaction.
pub fn apply_payment_in(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    mail: &MailContext,
    actor: &Actor,
    r: &Receipt,
) -> Result<(Applied, InvoiceRow), ApiError> {
    let at = now_micros(now);
    let row = store::lock(conn, &r.invoice_id, at)?;
    if r.currency != row.currency || r.amount_minor <= 0 {
        return Err(ApiError::internal("a payment in another currency or of no amount reached apply_payment"));
    }
    let payment = PaymentRow {
        id: ids::new_id(),
        invoice_id: row.id.clone(),
        account_id: row.account_id.clone(),
        gateway: r.gateway,
        external_id: r.external_id.clone(),
        reference: r.reference.clone(),
        amount_minor: r.amount_minor,
        currency: r.currency.clone(),
        refund_of: None,
        created_at: at,
    };
    let inserted =
        crate::each_backend!(&mut *conn, c => diesel::insert_into(payments::table).values(&payment).on_conflict_do_nothing().execute(c))?;
    if inserted == 0 {
        return Ok((Applied::Duplicate, row));
    }
    let to_invoice = r.amount_minor.min(row.balance());
    let to_credit = r.amount_minor - to_invoice;
    let paid_minor = row.paid_minor + to_invoice;
    let paid = row.status.is_open() && paid_minor >= row.total_minor;
    let status = match (row.status.is_open(), paid) {
        (false, _) => row.status,
        (true, true) => InvoiceStatus::Paid,
        (true, false) => InvoiceStatus::PartiallyPaid,
    };
    diesel::update(invoices::table.find(&row.id))
        .set((
            invoices::paid_minor.eq(paid_minor),
            invoices::status.eq(status),
            invoices::paid_at.eq(if paid { Some(at) } else { row.paid_at }),
        ))
        .execute(conn)?;
    if to_credit > 0 {
        let reason = if row.status.is_open() {
            format!("Overpayment of {}", row.label())
        } else {
            format!("Payment for {}, which was already {}", row.label(), row.status)
        };
        store::credit_entry(
            conn,
            &CreditRow {
                id: ids::new_id(),
                account_id: row.account_id.clone(),
                currency: row.currency.clone(),
                amount_minor: to_credit,
                reason,
                invoice_id: Some(row.id.clone()),
                created_by: actor.user_id.clone(),
                created_at: at,
            },
        )?;
    }
    audit::record(
        conn,
        now,
        actor,
        Event::new("payment.recorded").account(&row.account_id).target("invoice", &row.id).details(serde_json::json!({
            "number": row.number, "gateway": r.gateway, "reference": r.reference, "amount_minor": r.amount_minor,
            "currency": r.currency, "to_invoice": to_invoice, "to_credit": to_credit,
        })),
    )?;
    let (email, first) = first_name(conn, &row.account_id)?;
    let vars = serde_json::json!({
        "first_name": first,
        "invoice_number": row.label(),
        "amount": Money::new(r.amount_minor, row.currency()?).to_string(),
    });
    outbox::queue_email(
        conn,
        now,
        mail,
        Outgoing {
            to: &email,
            user_id: Some(&row.account_id),
            template: "payment_received",
            category: Category::Transactional,
            vars: &vars,
        },
    )?;
    let row = store::find(conn, &row.id)?.ok_or_else(|| ApiError::not_found("invoice"))?;
    if paid {
        on_paid_in(conn, now, actor, &row)?;
    }
    Ok((Applied::Recorded { to_invoice, to_credit, paid }, row))
}

/// An invoice of no amount is paid when issued.
fn mark_paid_in(conn: &mut DbConn, now: DateTime<Utc>, row: InvoiceRow) -> Result<InvoiceRow, ApiError> {
    let at = now_micros(now);
    diesel::update(invoices::table.find(&row.id))
        .set((invoices::status.eq(InvoiceStatus::Paid), invoices::paid_at.eq(Some(at))))
        .execute(conn)?;
    let row = store::find(conn, &row.id)?.ok_or_else(|| ApiError::not_found("invoice"))?;
    on_paid_in(conn, now, &Actor::default(), &row)?;
    Ok(row)
}

/// What a paid invoice sets moving, in the paying transaction: its audit entry, for an order's
/// invoice the order's paid services (`commerce::service::order_paid_in`), which enqueue their
/// own work in this same transaction, a plan change, or renewed services' new due dates.
fn on_paid_in(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, row: &InvoiceRow) -> Result<(), ApiError> {
    audit::record(
        conn,
        now,
        actor,
        Event::new("invoice.paid").account(&row.account_id).target("invoice", &row.id).details(serde_json::json!({
            "number": row.number, "total_minor": row.total_minor, "currency": row.currency,
        })),
    )?;
    if let Some(order) = &row.order_id {
        crate::commerce::service::order_paid_in(conn, now, actor, order)?;
    }
    services_paid_in(conn, now, actor, row.kind, &row.id)?;
    // An invoice that took over others' lines pays for their orders, changes and renewals too.
    let merged: Vec<(String, Option<String>, InvoiceKind)> =
        invoices::table.filter(invoices::merged_into.eq(&row.id)).select((invoices::id, invoices::order_id, invoices::kind)).load(conn)?;
    for (id, order, kind) in merged {
        if let Some(order) = order {
            crate::commerce::service::order_paid_in(conn, now, actor, &order)?;
        }
        services_paid_in(conn, now, actor, kind, &id)?;
    }
    if row.kind == InvoiceKind::AddFunds {
        store::credit_entry(
            conn,
            &CreditRow {
                id: ids::new_id(),
                account_id: row.account_id.clone(),
                currency: row.currency.clone(),
                amount_minor: row.total_minor,
                reason: format!("Funds added ({})", row.label()),
                invoice_id: Some(row.id.clone()),
                created_by: actor.user_id.clone(),
                created_at: now_micros(now),
            },
        )?;
    }
    Ok(())
}

/// A paid plan change is made; paid renewals move their services' due dates.
fn services_paid_in(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, kind: InvoiceKind, id: &str) -> Result<(), ApiError> {
    match kind {
        InvoiceKind::Upgrade => crate::provisioning::changes::invoice_paid_in(conn, now, actor, id),
        InvoiceKind::Renewal => crate::provisioning::renewals::invoice_paid_in(conn, now, actor, id),
        _ => Ok(()),
    }
}

/// A client adds funds: an issued add-funds invoice for the amount (no tax: the credit is taxed
/// when it pays for something), paid like any other.
pub fn add_funds(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    mail: &MailContext,
    actor: &Actor,
    account: &str,
    body: &keel_shared::billing::AddFunds,
) -> Result<Invoice, ApiError> {
    db::transaction(conn, |conn| {
        let sells = crate::catalog::service::currency_infos(conn)?.iter().any(|c| c.code == body.currency);
        if !sells {
            return Err(ApiError::field("currency", "the shop does not sell in this currency"));
        }
        let line = LineRow {
            id: ids::new_id(),
            invoice_id: String::new(),
            line_no: 0,
            description: "Account credit".into(),
            service_id: None,
            period_from: None,
            period_to: None,
            quantity: 1,
            unit_minor: body.amount_minor,
            discount_minor: 0,
            tax_minor: 0,
            total_minor: body.amount_minor,
        };
        let draft = Draft {
            account_id: account.to_string(),
            order_id: None,
            kind: InvoiceKind::AddFunds,
            currency: body.currency.code().to_string(),
            subtotal_minor: body.amount_minor,
            discount_minor: 0,
            tax_minor: 0,
            total_minor: body.amount_minor,
            tax_lines: "[]".into(),
            tax_inclusive: false,
            reverse_charge: false,
            due_on: None,
        };
        let id = insert_draft_in(conn, now, draft, vec![line])?;
        let row = stamp_in(conn, now, actor, &id, None)?;
        notify_issued(conn, now, mail, &row)?;
        get(conn, &id, None)
    })
}

/// One of an account's invoices (`account`), or any for the back office.
pub fn get(conn: &mut DbConn, id: &str, account: Option<&str>) -> Result<Invoice, ApiError> {
    // A client never sees drafts.
    let row = store::find(conn, id)?
        .filter(|r| account.is_none_or(|a| r.account_id == a && r.status != InvoiceStatus::Draft))
        .ok_or_else(|| ApiError::not_found("invoice"))?;
    store::load(conn, &row)
}

/// One of an invoice's credit notes, with the invoice whose parties and taxes it states: on the
/// caller's own invoice (`account`, checked as [`get`] checks it) or, for the back office, on
/// any. A note of another invoice is a 404, as is another account's invoice.
pub fn credit_note(conn: &mut DbConn, invoice_id: &str, note_id: &str, account: Option<&str>) -> Result<(Invoice, CreditNote), ApiError> {
    let inv = get(conn, invoice_id, account)?;
    let note = inv.credit_notes.iter().find(|n| n.id == note_id).cloned().ok_or_else(|| ApiError::not_found("credit note"))?;
    Ok((inv, note))
}

pub fn list(conn: &mut DbConn, filter: &InvoiceFilter, account: Option<&str>) -> Result<Page<InvoiceSummary>, ApiError> {
    store::list(conn, filter, account)
}

/// The invoice, if it can be paid now: open with a balance (a clear 409 otherwise).
pub fn payable(conn: &mut DbConn, id: &str, account: &str) -> Result<Invoice, ApiError> {
    let inv = get(conn, id, Some(account))?;
    if !inv.status.is_open() || inv.balance_minor <= 0 {
        return Err(ApiError::Conflict {
            code: "invoice_state",
            detail: format!("invoice {} is {} and has nothing to pay", inv.number.as_deref().unwrap_or("(draft)"), inv.status),
            field: None,
        });
    }
    Ok(inv)
}

/// Pays what an invoice's account credit covers of its balance, in the caller's transaction:
/// the credit entry and the payment (and, when that pays it, what payment sets moving). Answers
/// how much was taken (0: no credit in the invoice's currency).
pub fn apply_credit_in(conn: &mut DbConn, now: DateTime<Utc>, mail: &MailContext, actor: &Actor, id: &str) -> Result<i64, ApiError> {
    let row = store::lock(conn, id, now_micros(now))?;
    let available = store::credit_balance(conn, &row.account_id, &row.currency)?;
    let take = available.min(row.balance());
    if take <= 0 {
        return Ok(0);
    }
    let taken = store::credit_entry(
        conn,
        &CreditRow {
            id: ids::new_id(),
            account_id: row.account_id.clone(),
            currency: row.currency.clone(),
            amount_minor: -take,
            reason: format!("Applied to {}", row.label()),
            invoice_id: Some(row.id.clone()),
            created_by: actor.user_id.clone(),
            created_at: now_micros(now),
        },
    )?;
    if !taken {
        return Err(ApiError::internal("credit balance moved under a locked invoice"));
    }
    let receipt = Receipt {
        invoice_id: row.id.clone(),
        gateway: Gateway::Credit,
        external_id: None,
        reference: "account credit".into(),
        amount_minor: take,
        currency: row.currency.clone(),
    };
    apply_payment_in(conn, now, mail, actor, &receipt)?;
    Ok(take)
}

/// Pays what the account's credit covers of an invoice, in one transaction with the ledger
/// entry. No credit in the invoice's currency: 422 naming `gateway`.
pub fn pay_from_credit(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    mail: &MailContext,
    actor: &Actor,
    id: &str,
    account: &str,
) -> Result<Invoice, ApiError> {
    db::transaction(conn, |conn| {
        if payable(conn, id, account)?.kind == InvoiceKind::AddFunds {
            return Err(ApiError::field("gateway", "funds are added by card or bank transfer, not from credit"));
        }
        if apply_credit_in(conn, now, mail, actor, id)? == 0 {
            let currency = store::find(conn, id)?.map(|r| r.currency).unwrap_or_default();
            return Err(ApiError::field("gateway", format!("there is no account credit in {currency} to pay with")));
        }
        get(conn, id, None)
    })
}

/// Staff record a bank transfer that arrived.
pub fn record_transfer(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    mail: &MailContext,
    actor: &Actor,
    id: &str,
    amount_minor: i64,
    reference: &str,
) -> Result<Invoice, ApiError> {
    db::transaction(conn, |conn| {
        let row = store::find(conn, id)?.ok_or_else(|| ApiError::not_found("invoice"))?;
        if matches!(row.status, InvoiceStatus::Draft | InvoiceStatus::Cancelled | InvoiceStatus::Refunded) {
            return Err(ApiError::Conflict {
                code: "invoice_state",
                detail: format!("invoice {} is {}: payments cannot be recorded on it", row.label(), row.status),
                field: None,
            });
        }
        let receipt = Receipt {
            invoice_id: row.id.clone(),
            gateway: Gateway::BankTransfer,
            external_id: None,
            reference: reference.trim().to_string(),
            amount_minor,
            currency: row.currency.clone(),
        };
        apply_payment_in(conn, now, mail, actor, &receipt)?;
        get(conn, id, None)
    })
}

/// Cancels an issued invoice nothing was paid on; it keeps its number.
pub fn cancel(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, id: &str, reason: &str) -> Result<Invoice, ApiError> {
    db::transaction(conn, |conn| {
        cancel_in(conn, now, actor, id, reason)?;
        get(conn, id, None)
    })
}

/// Cancels an open invoice with nothing paid, in the caller's transaction (409 otherwise). A
/// cancelled `upgrade` invoice's change will not happen.
pub fn cancel_in(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, id: &str, reason: &str) -> Result<(), ApiError> {
    {
        let row = store::lock(conn, id, now_micros(now))?;
        if !row.status.is_open() || row.paid_minor != 0 {
            return Err(ApiError::Conflict {
                code: "invoice_state",
                detail: format!(
                    "invoice {} is {}{}: only an open invoice with nothing paid can be cancelled",
                    row.label(),
                    row.status,
                    if row.paid_minor != 0 { " and has payments" } else { "" }
                ),
                field: None,
            });
        }
        diesel::update(invoices::table.find(id))
            .set((invoices::status.eq(InvoiceStatus::Cancelled), invoices::cancel_reason.eq(Some(reason.trim()))))
            .execute(conn)?;
        audit::record(
            conn,
            now,
            actor,
            Event::new("invoice.cancelled")
                .account(&row.account_id)
                .target("invoice", id)
                .details(serde_json::json!({"number": row.number, "reason": reason})),
        )?;
        if row.kind == InvoiceKind::Upgrade {
            crate::provisioning::changes::invoice_cancelled_in(conn, now, id)?;
        }
        Ok(())
    }
}

/// The payment of an invoice that can be given back, and how much of it is left: a 422 naming
/// the field otherwise.
pub fn refundable(conn: &mut DbConn, invoice_id: &str, payment_id: &str, amount_minor: i64) -> Result<(PaymentRow, i64), ApiError> {
    let p = store::payment(conn, payment_id)?
        .filter(|p| p.invoice_id == invoice_id && p.refund_of.is_none() && p.amount_minor > 0)
        .ok_or_else(|| ApiError::field("payment_id", "is not a payment of this invoice"))?;
    let left = p.amount_minor - store::refunded(conn, &p.id)?;
    if amount_minor > left {
        let currency = keel_shared::Currency::parse(&p.currency).ok_or_else(|| ApiError::internal("payment currency"))?;
        return Err(ApiError::field("amount_minor", format!("is more than is left of the payment ({})", Money::new(left, currency))));
    }
    Ok((p, left))
}

/// A refund the gateway made (or, for credit and bank transfers, that Keel makes): recorded in
/// one transaction as a negative payment, the invoice's paid amount and status, the account's
/// credit when it went back to credit, a credit note from the year's `CN-` sequence and the audit
/// entry. The same gateway refund id recorded twice is recorded once.
/// A refund to record.
#[derive(Debug, Clone)]
pub struct Refund {
    pub invoice_id: String,
    pub payment_id: String,
    pub amount_minor: i64,
    /// The gateway's refund id (`re_…`), when a gateway made it.
    pub refund_id: Option<String>,
    pub reason: String,
}

pub fn record_refund(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, r: &Refund) -> Result<Invoice, ApiError> {
    let Refund { invoice_id, payment_id, amount_minor, refund_id, reason } = r;
    let (invoice_id, payment_id, amount_minor, reason) = (invoice_id.as_str(), payment_id.as_str(), *amount_minor, reason.as_str());
    db::transaction(conn, |conn| {
        let at = now_micros(now);
        let row = store::lock(conn, invoice_id, at)?;
        let (paid, _) = refundable(conn, invoice_id, payment_id, amount_minor)?;
        let refund = PaymentRow {
            id: ids::new_id(),
            invoice_id: row.id.clone(),
            account_id: row.account_id.clone(),
            gateway: paid.gateway,
            external_id: refund_id.clone(),
            reference: refund_id.clone().unwrap_or_else(|| format!("refund of {}", paid.reference)),
            amount_minor: -amount_minor,
            currency: row.currency.clone(),
            refund_of: Some(paid.id.clone()),
            created_at: at,
        };
        let inserted = crate::each_backend!(&mut *conn, c => diesel::insert_into(payments::table).values(&refund).on_conflict_do_nothing().execute(c))?;
        if inserted == 0 {
            return get(conn, invoice_id, None);
        }
        let paid_minor = (row.paid_minor - amount_minor).max(0);
        let status = if paid_minor == 0 && !row.status.is_open() { InvoiceStatus::Refunded } else { row.status };
        diesel::update(invoices::table.find(&row.id))
            .set((invoices::paid_minor.eq(paid_minor), invoices::status.eq(status)))
            .execute(conn)?;
        if paid.gateway == Gateway::Credit {
            store::credit_entry(
                conn,
                &CreditRow {
                    id: ids::new_id(),
                    account_id: row.account_id.clone(),
                    currency: row.currency.clone(),
                    amount_minor,
                    reason: format!("Refund on {}", row.label()),
                    invoice_id: Some(row.id.clone()),
                    created_by: actor.user_id.clone(),
                    created_at: at,
                },
            )?;
        }
        let year = now.date_naive().format("%Y").to_string();
        let seq = store::next_in_sequence(conn, &format!("credit_note-{year}"))?;
        let number = keel_shared::billing::invoice_number("CN-", year.parse().unwrap_or(0), seq);
        let note = CreditNoteRow {
            id: ids::new_id(),
            number: number.clone(),
            invoice_id: row.id.clone(),
            account_id: row.account_id.clone(),
            payment_id: Some(refund.id.clone()),
            currency: row.currency.clone(),
            amount_minor,
            reason: reason.trim().to_string(),
            created_at: at,
        };
        diesel::insert_into(credit_notes::table).values(&note).execute(conn)?;
        audit::record(
            conn,
            now,
            actor,
            Event::new("invoice.refunded").account(&row.account_id).target("invoice", &row.id).details(serde_json::json!({
                "number": row.number, "credit_note": number, "amount_minor": amount_minor, "gateway": paid.gateway,
                "refund_id": refund_id, "reason": reason,
            })),
        )?;
        get(conn, invoice_id, None)
    })
}

/// Staff merge a client's open invoices (nothing paid on them, one currency) into one new
/// invoice with all their lines, issued now; each merged invoice is cancelled ("merged into …")
/// and keeps its number, and paying the new one pays for their orders.
pub fn merge(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    mail: &MailContext,
    actor: &Actor,
    ids: &[keel_shared::ids::InvoiceId],
) -> Result<Invoice, ApiError> {
    db::transaction(conn, |conn| {
        let at = now_micros(now);
        let mut rows = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            let field = format!("invoice_ids[{i}]");
            if ids[..i].contains(id) {
                return Err(ApiError::field(&field, "listed twice"));
            }
            let row = store::lock(conn, id.as_str(), at).map_err(|_| ApiError::field(&field, "no such invoice"))?;
            if !row.status.is_open() || row.paid_minor != 0 || row.kind == InvoiceKind::AddFunds {
                return Err(ApiError::field(
                    &field,
                    format!(
                        "{} is {}{}: only open invoices nothing was paid on merge",
                        row.label(),
                        row.status,
                        if row.paid_minor != 0 { " with payments" } else { "" }
                    ),
                ));
            }
            if let Some(first) = rows.first().map(|r: &InvoiceRow| (r.account_id.clone(), r.currency.clone())) {
                if row.account_id != first.0 {
                    return Err(ApiError::field(&field, "belongs to another client"));
                }
                if row.currency != first.1 {
                    return Err(ApiError::field(&field, format!("is in {}, not {}", row.currency, first.1)));
                }
            }
            rows.push(row);
        }
        let first = rows.first().ok_or_else(|| ApiError::field("invoice_ids", "name the invoices to merge"))?;
        let mut lines = Vec::new();
        let mut tax_lines: Vec<keel_shared::cart::TaxLine> = Vec::new();
        let (mut subtotal, mut discount, mut tax, mut total) = (0_i64, 0_i64, 0_i64, 0_i64);
        for row in &rows {
            let old: Vec<LineRow> = invoice_lines::table
                .filter(invoice_lines::invoice_id.eq(&row.id))
                .order(invoice_lines::line_no.asc())
                .select(LineRow::as_select())
                .load(conn)?;
            for l in old {
                lines.push(LineRow {
                    id: ids::new_id(),
                    invoice_id: String::new(),
                    line_no: lines.len() as i32,
                    description: format!("{} ({})", l.description, row.label()),
                    ..l
                });
            }
            for t in serde_json::from_str::<Vec<keel_shared::cart::TaxLine>>(&row.tax_lines).map_err(ApiError::internal)? {
                match tax_lines.iter_mut().find(|x| x.name == t.name && x.rate_bp == t.rate_bp) {
                    Some(x) => x.amount_minor += t.amount_minor,
                    None => tax_lines.push(t),
                }
            }
            subtotal += row.subtotal_minor;
            discount += row.discount_minor;
            tax += row.tax_minor;
            total += row.total_minor;
        }
        let draft = Draft {
            account_id: first.account_id.clone(),
            order_id: None,
            kind: InvoiceKind::Manual,
            currency: first.currency.clone(),
            subtotal_minor: subtotal,
            discount_minor: discount,
            tax_minor: tax,
            total_minor: total,
            tax_lines: json(&tax_lines)?,
            tax_inclusive: first.tax_inclusive,
            reverse_charge: first.reverse_charge,
            due_on: None,
        };
        let id = insert_draft_in(conn, now, draft, lines)?;
        let merged = stamp_in(conn, now, actor, &id, None)?;
        let reason = format!("merged into {}", merged.label());
        for row in &rows {
            diesel::update(invoices::table.find(&row.id))
                .set((
                    invoices::status.eq(InvoiceStatus::Cancelled),
                    invoices::cancel_reason.eq(Some(&reason)),
                    invoices::merged_into.eq(Some(&id)),
                ))
                .execute(conn)?;
        }
        audit::record(
            conn,
            now,
            actor,
            Event::new("invoice.merged").account(&merged.account_id).target("invoice", &id).details(serde_json::json!({
                "number": merged.number, "merged": rows.iter().map(|r| r.number.clone()).collect::<Vec<_>>(),
            })),
        )?;
        notify_issued(conn, now, mail, &merged)?;
        get(conn, &id, None)
    })
}

/// An order was cancelled (in its transaction): its open invoices nothing was paid on are
/// cancelled too (they keep their numbers). One with payments stays for staff to refund.
pub fn cancel_for_order_in(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, order_id: &str, reason: &str) -> Result<(), ApiError> {
    for row in store::for_order(conn, order_id)? {
        if row.status.is_open() && row.paid_minor == 0 {
            diesel::update(invoices::table.find(&row.id))
                .set((
                    invoices::status.eq(InvoiceStatus::Cancelled),
                    invoices::cancel_reason.eq(Some(reason)),
                    invoices::updated_at.eq(now_micros(now)),
                ))
                .execute(conn)?;
            audit::record(
                conn,
                now,
                actor,
                Event::new("invoice.cancelled")
                    .account(&row.account_id)
                    .target("invoice", &row.id)
                    .details(serde_json::json!({"number": row.number, "reason": reason})),
            )?;
        }
    }
    Ok(())
}

pub fn credit(conn: &mut DbConn, account: &str) -> Result<Credit, ApiError> {
    store::credit(conn, account)
}

/// Staff add or take away credit with a reason; taking more than the balance is a 422.
pub fn adjust_credit(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: &Actor,
    account: &str,
    body: &CreditAdjustment,
) -> Result<Credit, ApiError> {
    db::transaction(conn, |conn| {
        let user = crate::accounts::users::find_user(conn, account).map_err(|_| ApiError::not_found("client"))?;
        if user.role != "client" {
            return Err(ApiError::not_found("client"));
        }
        let moved = store::credit_entry(
            conn,
            &CreditRow {
                id: ids::new_id(),
                account_id: account.to_string(),
                currency: body.currency.code().to_string(),
                amount_minor: body.amount_minor,
                reason: body.reason.trim().to_string(),
                invoice_id: None,
                created_by: actor.user_id.clone(),
                created_at: now_micros(now),
            },
        )?;
        if !moved {
            return Err(ApiError::field("amount_minor", "is more than the client's credit in that currency"));
        }
        audit::record(
            conn,
            now,
            actor,
            Event::new("credit.adjusted").account(account).target("user", account).details(serde_json::json!({
                "amount_minor": body.amount_minor, "currency": body.currency, "reason": body.reason,
            })),
        )?;
        store::credit(conn, account)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_period_ends_the_day_before_the_same_date_next_cycle() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(period_end(d(2026, 11, 24), 1), Some(d(2026, 12, 23)));
        assert_eq!(period_end(d(2026, 1, 31), 1), Some(d(2026, 2, 27)));
        assert_eq!(period_end(d(2026, 11, 24), 12), Some(d(2027, 11, 23)));
        assert_eq!(period_end(d(2026, 11, 24), 0), None);
    }
}
