//! Upgrades and downgrades: a client moves one of their services to another plan, other option
//! values or other add-ons in the middle of a paid period.
//!
//! The price of the change is `keel_shared::proration::prorate` (the rule is written there) over
//! the service's current items and the new line's, priced by the cart's own `price_line`; tax
//! on each prorated line as on any invoice line (`pricing::taxed`). How it is settled:
//! - **more to pay**: an `upgrade` invoice for the difference; the change happens in the
//!   transaction that marks that invoice paid (`invoice_paid_in`, called by billing), which also
//!   queues the control panel's package change;
//! - **less**: the change happens now and the unused difference goes to account credit, or (a
//!   billing setting) it waits for the next due date, applied by the daily task;
//! - **the same**: the change happens now.
//!
//! A service has at most one open change (a unique index): a new one replaces one whose invoice
//! has no payment yet (that invoice is cancelled). The next due date never changes.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use keel_shared::cart::CartLine;
use keel_shared::orders::ServiceStatus;
use keel_shared::pricing::{self, Problems};
use keel_shared::proration::{current_period, prorate, PriceItem, ProratedLine};
use keel_shared::provisioning::{ChangeSettlement, ServiceChange, ServiceChangeQuote, ServiceChangeRequest, ServiceChangeStatus};

use super::service::{owned, state_conflict, Action, ActionJob, ACTION};
use super::store::{self, ServiceRow};
use crate::audit::{self, Actor, Event};
use crate::automation::queue::{self, NewJob};
use crate::billing::store::{CreditRow, LineRow};
use crate::db::{self, now_micros, DbConn};
use crate::error::ApiError;
use crate::ids;
use crate::notifications::outbox::MailContext;
use crate::schema::{products, service_changes, services};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = service_changes)]
pub struct ChangeRow {
    pub id: String,
    pub service_id: String,
    pub account_id: String,
    pub status: String,
    pub settlement: String,
    pub to_product_id: String,
    pub to_config: String,
    pub to_items: String,
    pub to_recurring_minor: i64,
    pub quote: String,
    pub invoice_id: Option<String>,
    pub effective_on: Option<chrono::NaiveDate>,
    pub created_at: chrono::NaiveDateTime,
    pub applied_at: Option<chrono::NaiveDateTime>,
}

impl ChangeRow {
    fn to_dto(&self) -> Result<ServiceChange, ApiError> {
        Ok(ServiceChange {
            id: self.id.clone().into(),
            service_id: self.service_id.clone().into(),
            status: ServiceChangeStatus::parse(&self.status).ok_or_else(|| ApiError::internal("service change status"))?,
            quote: store::parse(&self.quote, "change quote")?,
            invoice_id: self.invoice_id.clone().map(Into::into),
            effective_on: self.effective_on,
            created_at: self.created_at.and_utc(),
            applied_at: self.applied_at.map(|t| t.and_utc()),
        })
    }
}

fn json<T: serde::Serialize + ?Sized>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(ApiError::internal)
}

/// A change priced: what the client is shown, and what confirming it writes.
struct Priced {
    quote: ServiceChangeQuote,
    line: CartLine,
    items: Vec<PriceItem>,
    /// Tax per prorated line, and the invoice's tax lines.
    tax: crate::commerce::service::AccountTax,
}

/// Prices the change of `svc` to what `req` asks for, as of `now`.
fn price(conn: &mut DbConn, now: DateTime<Utc>, svc: &ServiceRow, req: &ServiceChangeRequest) -> Result<Priced, ApiError> {
    let status = svc.status()?;
    if status != ServiceStatus::Active {
        return Err(state_conflict(status, "changed to another plan"));
    }
    if svc.cancel_when.is_some() {
        return Err(ApiError::Conflict {
            code: "cancellation_requested",
            detail: "the service is being cancelled: it cannot change plan".into(),
            field: None,
        });
    }
    let cycle = svc.cycle()?;
    let currency = svc.currency()?;
    let today = now.date_naive();
    let period = match (svc.anchor_on, svc.next_due_on) {
        (Some(anchor), Some(next)) => current_period(anchor, cycle, next),
        _ => None,
    };
    let Some((from, to)) = period else {
        return Err(ApiError::Conflict {
            code: "not_recurring",
            detail: "only a service billed every period can change plan".into(),
            field: Some("cycle".into()),
        });
    };
    if today >= to {
        return Err(ApiError::Conflict {
            code: "renewal_due",
            detail: format!("the service was due on {to}: renew it first, then change its plan"),
            field: Some("next_due_on".into()),
        });
    }
    if today < from {
        // Paid beyond the current period (staff moved the next due date on): no proration fits.
        return Err(ApiError::Conflict {
            code: "paid_ahead",
            detail: format!("the service is paid until {to}, more than one period ahead: ask us to change its plan"),
            field: Some("next_due_on".into()),
        });
    }
    let current = store::current(conn, svc)?;
    let catalog = crate::catalog::service::public_catalog(conn)?;
    let kind = |conn: &mut DbConn, id: &str| -> Result<Option<(String, Option<String>)>, ApiError> {
        Ok(products::table.find(id).select((products::product_type, products::module)).first(conn).optional()?)
    };
    let mine = kind(conn, &svc.product_id)?;
    let theirs = kind(conn, req.product_id.as_str())?;
    let mut problems = Problems::new();
    if theirs.is_some() && theirs != mine {
        problems.entry("product_id".into()).or_default().push("you can only move to a plan of the same kind, set up the same way".into());
    }
    let line = CartLine {
        product_id: req.product_id.clone(),
        cycle,
        quantity: 1,
        options: req.options.clone(),
        addon_ids: req.addon_ids.clone(),
        domain: current.line.domain.clone(),
    };
    // Where an account lives does not move with a plan change.
    let here = store::module_settings(conn, svc)?.remove("location");
    if let (Some(here), Some(product)) = (here, catalog.product(&line.product_id)) {
        for option in product.options.iter().filter(|o| o.name.trim().eq_ignore_ascii_case("location")) {
            let chosen = line.options.iter().find(|c| c.option_id == option.id).and_then(|c| c.value_id.clone());
            let value = match chosen {
                Some(id) => option.values.iter().find(|v| v.id == id),
                None => option.values.first(),
            };
            if value.is_some_and(|v| !v.label.eq_ignore_ascii_case(&here)) {
                problems.entry("options".into()).or_default().push(format!("the service stays in {here}: a location cannot change"));
            }
        }
    }
    let priced = match pricing::price_line(&catalog, &line, currency, "line") {
        Ok(p) => Some(p),
        Err(more) => {
            for (field, messages) in more {
                let field = field.strip_prefix("line.").unwrap_or(&field).to_string();
                let field = if field == "line" { "product_id".to_string() } else { field };
                problems.entry(field).or_default().extend(messages);
            }
            None
        }
    };
    let (Some(priced), true) = (priced, problems.is_empty()) else {
        return Err(ApiError::problems("the change cannot be made", problems));
    };
    let items: Vec<PriceItem> =
        priced.items.iter().map(|i| PriceItem { description: i.description.clone(), amount_minor: i.renewal_minor }).collect();
    let same_choice = line.product_id == current.line.product_id && items == current.items && {
        let mut a = line.addon_ids.clone();
        let mut b = current.line.addon_ids.clone();
        a.sort();
        b.sort();
        a == b
    };
    if same_choice {
        return Err(ApiError::field("product_id", "this is the plan, options and add-ons the service has"));
    }
    // The old price's items, unless the price was changed since (a promo, staff): then one item.
    let old_name = store::plan_name(conn, svc)?;
    let old_items = if current.items.iter().map(|i| i.amount_minor).sum::<i64>() == svc.recurring_minor {
        current.items.clone()
    } else {
        vec![PriceItem { description: old_name.clone(), amount_minor: svc.recurring_minor }]
    };
    let paid = svc.period_paid_minor.unwrap_or(svc.recurring_minor);
    let proration = prorate(from, to, today, &old_items, &items, paid).ok_or_else(|| ApiError::Conflict {
        code: "not_prorated",
        detail: "this change cannot be prorated: its prices are out of range".into(),
        field: None,
    })?;

    let amounts: Vec<i64> = proration.lines.iter().map(|l| l.amount_minor).collect();
    let tax = crate::commerce::service::tax_for_account(conn, &svc.account_id, &amounts)?;
    let (tax_minor, gross) = (tax.tax_minor, tax.total_minor);
    let at_renewal = crate::billing::service::settings(conn)?.downgrades_at_renewal;
    let settlement = match gross {
        g if g > 0 => ChangeSettlement::Invoice,
        0 => ChangeSettlement::Nothing,
        _ if at_renewal => ChangeSettlement::AtRenewal,
        _ => ChangeSettlement::Credit,
    };
    let quote = ServiceChangeQuote {
        from_product_name: old_name,
        product_id: line.product_id.clone(),
        product_name: priced.product_name.clone(),
        currency,
        old_recurring_minor: svc.recurring_minor,
        new_recurring_minor: priced.renewal_minor,
        proration,
        tax_minor: if settlement == ChangeSettlement::AtRenewal { 0 } else { tax_minor },
        total_minor: if settlement == ChangeSettlement::Invoice { gross } else { 0 },
        credit_minor: if settlement == ChangeSettlement::Credit { -gross } else { 0 },
        settlement,
    };
    Ok(Priced { quote, line, items, tax })
}

/// What changing one of an account's services (`account`; any for the back office) would cost
/// now. Nothing is written.
pub fn quote(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    id: &str,
    account: Option<&str>,
    req: &ServiceChangeRequest,
) -> Result<ServiceChangeQuote, ApiError> {
    let svc = owned(conn, id, account)?;
    Ok(price(conn, now, &svc, req)?.quote)
}

/// A client changes one of their services: priced again, settled (see the module's comment) in
/// one transaction with its audit entry.
pub fn request(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    mail: &MailContext,
    actor: &Actor,
    id: &str,
    account: &str,
    req: &ServiceChangeRequest,
) -> Result<ServiceChange, ApiError> {
    db::transaction(conn, |conn| {
        let svc = owned(conn, id, Some(account))?;
        let p = price(conn, now, &svc, req)?;
        if let Some(expected) = req.expected_total_minor {
            if expected != p.quote.total_minor {
                return Err(ApiError::Conflict {
                    code: "price_changed",
                    detail: format!(
                        "the change now costs {} instead of the {} you were shown: look at it again",
                        keel_shared::Money::new(p.quote.total_minor, p.quote.currency),
                        keel_shared::Money::new(expected, p.quote.currency)
                    ),
                    field: Some("expected_total_minor".into()),
                });
            }
        }
        replace_open(conn, now, actor, id)?;
        let at = now_micros(now);
        let settlement = p.quote.settlement;
        let mut row = ChangeRow {
            id: ids::new_id(),
            service_id: id.to_string(),
            account_id: svc.account_id.clone(),
            status: ServiceChangeStatus::Pending.as_str().into(),
            settlement: settlement.as_str().into(),
            to_product_id: p.line.product_id.to_string(),
            to_config: json(&p.line)?,
            to_items: json(&p.items)?,
            to_recurring_minor: p.quote.new_recurring_minor,
            quote: json(&p.quote)?,
            invoice_id: None,
            effective_on: None,
            created_at: at,
            applied_at: None,
        };
        match settlement {
            ChangeSettlement::Invoice => row.invoice_id = Some(invoice_in(conn, now, mail, &svc, &p)?),
            ChangeSettlement::AtRenewal => {
                row.status = ServiceChangeStatus::Scheduled.as_str().into();
                row.effective_on = Some(p.quote.proration.period_to);
            }
            ChangeSettlement::Credit | ChangeSettlement::Nothing => {}
        }
        let inserted = crate::each_backend!(&mut *conn, c => diesel::insert_into(service_changes::table).values(&row).on_conflict_do_nothing().execute(c))?;
        if inserted == 0 {
            return Err(ApiError::Conflict {
                code: "change_pending",
                detail: "another change of this service was made at the same moment".into(),
                field: None,
            });
        }
        store::event(
            conn,
            at,
            id,
            "change",
            true,
            &format!("{} → {} requested ({})", p.quote.from_product_name, p.quote.product_name, settlement.as_str()),
        )?;
        audit::record(
            conn,
            now,
            actor,
            Event::new("service.change_requested").account(&svc.account_id).target("service", id).details(serde_json::json!({
                "change": row.id, "to_product_id": row.to_product_id, "settlement": settlement,
                "total_minor": p.quote.total_minor, "credit_minor": p.quote.credit_minor, "invoice_id": row.invoice_id,
            })),
        )?;
        if matches!(settlement, ChangeSettlement::Credit | ChangeSettlement::Nothing) {
            apply_in(conn, now, actor, &row.id)?;
            let reason = format!(
                "Downgrade from {} to {}: the unused {} of {} days",
                p.quote.from_product_name, p.quote.product_name, p.quote.proration.days_remaining, p.quote.proration.days_in_period
            );
            credit_in(conn, at, actor, &svc, p.quote.credit_minor, reason, None)?;
        }
        one(conn, &row.id)
    })
}

/// A waiting change of the service is replaced by a new one: its invoice, if nothing was paid
/// on it, is cancelled. One with a payment already is a 409.
fn replace_open(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, service_id: &str) -> Result<(), ApiError> {
    let open: Vec<ChangeRow> = service_changes::table
        .filter(service_changes::service_id.eq(service_id))
        .filter(service_changes::status.eq_any([ServiceChangeStatus::Pending.as_str(), ServiceChangeStatus::Scheduled.as_str()]))
        .select(ChangeRow::as_select())
        .load(conn)?;
    for old in open {
        if let Some(invoice) = &old.invoice_id {
            let paid = crate::billing::store::find(conn, invoice)?.map_or(0, |i| i.paid_minor);
            if paid != 0 {
                return Err(ApiError::Conflict {
                    code: "change_pending",
                    detail: "a change of this service is partly paid: pay the rest of its invoice first".into(),
                    field: None,
                });
            }
        }
        let cancelled = diesel::update(service_changes::table.find(&old.id).filter(service_changes::status.eq(&old.status)))
            .set(service_changes::status.eq(ServiceChangeStatus::Cancelled.as_str()))
            .execute(conn)?;
        if cancelled == 0 {
            return Err(ApiError::Conflict {
                code: "change_pending",
                detail: "another change of this service was made at the same moment".into(),
                field: None,
            });
        }
        if let Some(invoice) = &old.invoice_id {
            crate::billing::service::cancel_in(conn, now, actor, invoice, "Replaced by another change of the service")?;
        }
    }
    Ok(())
}

/// Issues the invoice of a change: one line per prorated line (credits negative), each with its
/// tax, for the service and the rest of its period.
fn invoice_in(conn: &mut DbConn, now: DateTime<Utc>, mail: &MailContext, svc: &ServiceRow, p: &Priced) -> Result<String, ApiError> {
    let period_to = p.quote.proration.period_to.pred_opt();
    let on = svc.domain.as_deref().map(|d| format!(" — {d}")).unwrap_or_default();
    let lines: Vec<LineRow> = p
        .quote
        .proration
        .lines
        .iter()
        .zip(&p.tax.lines)
        .enumerate()
        .map(|(i, (l, t)): (usize, (&ProratedLine, &pricing::Taxed))| LineRow {
            id: ids::new_id(),
            invoice_id: String::new(),
            line_no: i as i32,
            description: format!(
                "{}{on} ({} of {} days)",
                l.description, p.quote.proration.days_remaining, p.quote.proration.days_in_period
            ),
            service_id: Some(svc.id.clone()),
            period_from: Some(p.quote.proration.change_on),
            period_to,
            quantity: 1,
            unit_minor: l.amount_minor,
            discount_minor: 0,
            tax_minor: t.tax_minor,
            total_minor: t.total_minor,
        })
        .collect();
    let subtotal: i64 = lines.iter().map(|l| l.unit_minor).sum();
    let draft = crate::billing::service::Draft::taxed(
        &svc.account_id,
        keel_shared::billing::InvoiceKind::Upgrade,
        &svc.currency,
        subtotal,
        &p.tax,
        None,
    )?;
    Ok(crate::billing::service::issue_notified_in(conn, now, mail, draft, lines)?.id)
}

/// Makes a waiting change happen (once: the row is claimed by a conditional update). A service
/// that ended meanwhile does not change; what was paid for the change goes to account credit.
fn apply_in(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, change_id: &str) -> Result<bool, ApiError> {
    let at = now_micros(now);
    let row: ChangeRow = service_changes::table.find(change_id).select(ChangeRow::as_select()).first(conn)?;
    let svc = store::service(conn, &row.service_id)?.ok_or_else(|| ApiError::not_found("service"))?;
    let status = svc.status()?;
    let live = status.is_live();
    let (outcome, applied_at) = if live { (ServiceChangeStatus::Applied, Some(at)) } else { (ServiceChangeStatus::Cancelled, None) };
    let claimed = diesel::update(
        service_changes::table
            .find(change_id)
            .filter(service_changes::status.eq_any([ServiceChangeStatus::Pending.as_str(), ServiceChangeStatus::Scheduled.as_str()])),
    )
    .set((service_changes::status.eq(outcome.as_str()), service_changes::applied_at.eq(applied_at)))
    .execute(conn)?;
    if claimed == 0 {
        return Ok(false);
    }
    let quote: ServiceChangeQuote = store::parse(&row.quote, "change quote")?;
    if !live {
        store::event(conn, at, &svc.id, "change", false, &format!("not made: the service is {}", status.as_str()))?;
        if let Some(invoice) = &row.invoice_id {
            let paid = crate::billing::store::find(conn, invoice)?.map_or(0, |i| i.paid_minor);
            let reason = format!("Change to {} not made: the service is {}", quote.product_name, status.as_str());
            credit_in(conn, at, actor, &svc, paid, reason, Some(invoice))?;
        }
        return Ok(false);
    }
    diesel::update(services::table.find(&svc.id))
        .set((
            services::product_id.eq(&row.to_product_id),
            services::plan_name.eq(Some(&quote.product_name)),
            services::config.eq(Some(&row.to_config)),
            services::items.eq(Some(&row.to_items)),
            services::recurring_minor.eq(row.to_recurring_minor),
            services::period_paid_minor.eq(Some(row.to_recurring_minor)),
            services::updated_at.eq(at),
        ))
        .execute(conn)?;
    store::event(conn, at, &svc.id, "change", true, &format!("{} → {}", quote.from_product_name, quote.product_name))?;
    // A renewal already invoiced at the old price is invoiced again at the new one (a downgrade
    // that waited for the renewal was invoiced at its price already).
    if row.settlement != ChangeSettlement::AtRenewal.as_str() {
        super::renewals::service_changed_in(conn, now, actor, &svc.id)?;
    }
    // The control panel gets the new plan's package by a job (queued in this transaction).
    let package: Option<String> = products::table.find(&row.to_product_id).select(products::package).first(conn)?;
    if let (Some(package), Some(_), Some(_)) = (package, &svc.server_id, &svc.username) {
        if svc.package.as_deref() != Some(package.as_str()) {
            queue::enqueue(
                conn,
                now,
                &NewJob::new(ACTION, ActionJob { service_id: svc.id.clone(), action: Action::ChangePackage { package } })
                    .unique(format!("change:{change_id}")),
            )?;
        }
    }
    audit::record(
        conn,
        now,
        actor,
        Event::new("service.changed").account(&svc.account_id).target("service", &svc.id).details(serde_json::json!({
            "change": change_id, "from": quote.from_product_name, "to": quote.product_name,
            "recurring_minor": row.to_recurring_minor, "was_recurring_minor": svc.recurring_minor,
        })),
    )?;
    Ok(true)
}

/// Puts `amount` (nothing when not positive) on the service's account credit, with its reason.
pub(super) fn credit_in(
    conn: &mut DbConn,
    at: chrono::NaiveDateTime,
    actor: &Actor,
    svc: &ServiceRow,
    amount: i64,
    reason: String,
    invoice: Option<&String>,
) -> Result<(), ApiError> {
    if amount <= 0 {
        return Ok(());
    }
    crate::billing::store::credit_entry(
        conn,
        &CreditRow {
            id: ids::new_id(),
            account_id: svc.account_id.clone(),
            currency: svc.currency.clone(),
            amount_minor: amount,
            reason,
            invoice_id: invoice.cloned(),
            created_by: actor.user_id.clone(),
            created_at: at,
        },
    )?;
    Ok(())
}

/// Billing's call when an `upgrade` invoice is paid, in the paying transaction: its change happens.
pub fn invoice_paid_in(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, invoice_id: &str) -> Result<(), ApiError> {
    let ids: Vec<String> = service_changes::table
        .filter(service_changes::invoice_id.eq(invoice_id))
        .filter(service_changes::status.eq(ServiceChangeStatus::Pending.as_str()))
        .select(service_changes::id)
        .load(conn)?;
    for id in ids {
        apply_in(conn, now, actor, &id)?;
    }
    Ok(())
}

/// Billing's call when an `upgrade` invoice is cancelled: its change will not happen.
pub fn invoice_cancelled_in(conn: &mut DbConn, now: DateTime<Utc>, invoice_id: &str) -> Result<(), ApiError> {
    let pending: Vec<String> = service_changes::table
        .filter(service_changes::invoice_id.eq(invoice_id))
        .filter(service_changes::status.eq(ServiceChangeStatus::Pending.as_str()))
        .select(service_changes::service_id)
        .load(conn)?;
    diesel::update(
        service_changes::table
            .filter(service_changes::invoice_id.eq(invoice_id))
            .filter(service_changes::status.eq(ServiceChangeStatus::Pending.as_str())),
    )
    .set(service_changes::status.eq(ServiceChangeStatus::Cancelled.as_str()))
    .execute(conn)?;
    for service_id in pending {
        store::event(conn, now_micros(now), &service_id, "change", false, "not made: its invoice was cancelled")?;
    }
    Ok(())
}

/// Upgrades whose invoice was not paid by its due date lapse (the daily task): the invoice is
/// cancelled, and with it the change, as its price was for days now gone. A partly paid one
/// stays for staff. Each in its own transaction.
pub fn lapse_unpaid(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let waiting: Vec<String> = service_changes::table
        .filter(service_changes::status.eq(ServiceChangeStatus::Pending.as_str()))
        .filter(service_changes::invoice_id.is_not_null())
        .select(service_changes::invoice_id.assume_not_null())
        .load(conn)?;
    let stale = crate::billing::store::unpaid_past_due(conn, &waiting, now.date_naive())?;
    let mut lapsed = 0;
    for id in stale {
        let done = db::transaction(conn, |conn| {
            crate::billing::service::cancel_in(conn, now, &Actor::default(), &id, "Not paid by its due date: the plan change lapsed")
        });
        match done {
            Ok(()) => lapsed += 1,
            // Paid or cancelled meanwhile.
            Err(ApiError::Conflict { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(lapsed)
}

/// Downgrades that waited for the renewal happen on it (the daily task). Each in its own
/// transaction.
pub fn apply_scheduled(conn: &mut DbConn, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let due: Vec<String> = service_changes::table
        .filter(service_changes::status.eq(ServiceChangeStatus::Scheduled.as_str()))
        .filter(service_changes::effective_on.le(now.date_naive()))
        .select(service_changes::id)
        .load(conn)?;
    let mut applied = 0;
    for id in due {
        if db::transaction(conn, |conn| apply_in(conn, now, &Actor::default(), &id))? {
            applied += 1;
        }
    }
    Ok(applied)
}

/// The plan and recurring price a downgrade waiting for the renewal on `on` gives the service,
/// if one does: the renewal is invoiced at them.
pub fn scheduled_on(conn: &mut DbConn, service_id: &str, on: chrono::NaiveDate) -> Result<Option<(String, i64)>, ApiError> {
    let row: Option<ChangeRow> = service_changes::table
        .filter(service_changes::service_id.eq(service_id))
        .filter(service_changes::status.eq(ServiceChangeStatus::Scheduled.as_str()))
        .filter(service_changes::effective_on.eq(on))
        .select(ChangeRow::as_select())
        .first(conn)
        .optional()?;
    match row {
        Some(r) => Ok(Some((store::parse::<ServiceChangeQuote>(&r.quote, "change quote")?.product_name, r.to_recurring_minor))),
        None => Ok(None),
    }
}

fn one(conn: &mut DbConn, id: &str) -> Result<ServiceChange, ApiError> {
    service_changes::table.find(id).select(ChangeRow::as_select()).first(conn)?.to_dto()
}

/// A service's changes, newest first: one of an account's (`account`), or any for the back office.
pub fn list(conn: &mut DbConn, id: &str, account: Option<&str>) -> Result<Vec<ServiceChange>, ApiError> {
    owned(conn, id, account)?;
    let rows: Vec<ChangeRow> = service_changes::table
        .filter(service_changes::service_id.eq(id))
        .order((service_changes::created_at.desc(), service_changes::id.desc()))
        .limit(50)
        .select(ChangeRow::as_select())
        .load(conn)?;
    rows.iter().map(ChangeRow::to_dto).collect()
}
