//! Stored payment methods: a client saves a card on the gateway's page (Stripe Checkout in setup
//! mode), the gateway reports it (`payment_method.attached`) and Keel keeps its token with what
//! tells it apart (brand, last four digits, expiry) — never card data. The default card is the one
//! renewals are charged to; a client charges a saved card to pay an invoice at once.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use keel_shared::billing::{AddPaymentMethod, Gateway, Invoice, InvoiceKind, InvoiceStatus, PaymentMethod};

use super::gateway::{CardVault, Charge, GatewayError, SaveCard};
use crate::audit::{self, Actor, Event};
use crate::billing::service::{self as billing, Receipt};
use crate::db::{self, now_micros, DbConn, Pool};
use crate::deps::Deps;
use crate::error::ApiError;
use crate::ids;
use crate::notifications::outbox::MailContext;
use crate::schema::{gateway_customers, invoices, payment_methods};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = payment_methods)]
pub struct MethodRow {
    pub id: String,
    pub account_id: String,
    pub gateway: Gateway,
    pub customer_id: String,
    pub method_id: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: i32,
    pub exp_year: i32,
    pub is_default: bool,
    pub created_at: chrono::NaiveDateTime,
}

impl MethodRow {
    fn to_dto(&self) -> PaymentMethod {
        PaymentMethod {
            id: self.id.clone().into(),
            gateway: self.gateway,
            brand: self.brand.clone(),
            last4: self.last4.clone(),
            exp_month: u32::try_from(self.exp_month).unwrap_or(0),
            exp_year: u32::try_from(self.exp_year).unwrap_or(0),
            is_default: self.is_default,
            created_at: self.created_at.and_utc(),
        }
    }
}

/// An account's saved cards, the default first.
pub fn list(conn: &mut DbConn, account: &str) -> Result<Vec<PaymentMethod>, ApiError> {
    let rows: Vec<MethodRow> = payment_methods::table
        .filter(payment_methods::account_id.eq(account))
        .order((payment_methods::is_default.desc(), payment_methods::created_at.desc()))
        .select(MethodRow::as_select())
        .load(conn)?;
    Ok(rows.iter().map(MethodRow::to_dto).collect())
}

fn find(conn: &mut DbConn, account: &str, id: &str) -> Result<MethodRow, ApiError> {
    payment_methods::table
        .find(id)
        .filter(payment_methods::account_id.eq(account))
        .select(MethodRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("payment method"))
}

fn unavailable(e: GatewayError) -> ApiError {
    match e {
        GatewayError::Refused(m) => {
            tracing::error!(error = %m, "the card gateway refused a request");
            ApiError::Unavailable("the payment provider refused the request; please try again later or contact us".into())
        }
        GatewayError::Unavailable(m) => {
            tracing::warn!(error = %m, "card gateway unavailable");
            ApiError::Unavailable("the payment provider cannot be reached just now; please try again in a minute".into())
        }
    }
}

/// The account's customer at Stripe, made the first time (two requests at once make one: the
/// gateway call carries an idempotency key per account, and the row is written once).
async fn customer(pool: &Pool, vault: &dyn CardVault, now: DateTime<Utc>, account: &str) -> Result<String, ApiError> {
    let acc = account.to_string();
    let (existing, email) = db::run(pool, move |c| {
        let existing: Option<String> =
            gateway_customers::table.find((&acc, Gateway::Stripe)).select(gateway_customers::customer_id).first(c).optional()?;
        Ok((existing, crate::accounts::users::find_user(c, &acc)?.email))
    })
    .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let made = vault.create_customer(&email, account).await.map_err(unavailable)?;
    let acc = account.to_string();
    db::run(pool, move |c| {
        let row = (
            gateway_customers::account_id.eq(&acc),
            gateway_customers::gateway.eq(Gateway::Stripe),
            gateway_customers::customer_id.eq(&made),
            gateway_customers::created_at.eq(now_micros(now)),
        );
        crate::each_backend!(&mut *c, c => diesel::insert_into(gateway_customers::table).values(row).on_conflict_do_nothing().execute(c))?;
        Ok(gateway_customers::table.find((&acc, Gateway::Stripe)).select(gateway_customers::customer_id).first(c)?)
    })
    .await
}

/// Opens the gateway's page to save a card; the card is kept when the gateway reports it.
pub async fn start_saving(
    pool: &Pool,
    vault: &dyn CardVault,
    now: DateTime<Utc>,
    public_url: &str,
    account: &str,
) -> Result<AddPaymentMethod, ApiError> {
    let customer_id = customer(pool, vault, now, account).await?;
    let acc = account.to_string();
    let currency = db::run(pool, move |c| Ok(crate::accounts::profile::billing(c, &acc)?.currency)).await?;
    let back = format!("{public_url}/dashboard/invoices");
    let page = vault
        .save_card_page(SaveCard { customer_id, currency, success_url: format!("{back}?card=saved"), cancel_url: back })
        .await
        .map_err(unavailable)?;
    Ok(AddPaymentMethod { redirect_url: page.url })
}

/// A card the gateway reports saved to one of Keel's customers (in the webhook's transaction).
/// Answers the account, or none when the customer is not Keel's; the first card is the default.
pub fn saved_in(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    gateway: Gateway,
    customer_id: &str,
    card: (&str, &str, &str, u32, u32),
) -> Result<Option<(String, bool)>, ApiError> {
    let (method_id, brand, last4, exp_month, exp_year) = card;
    let account: Option<String> = gateway_customers::table
        .filter(gateway_customers::gateway.eq(gateway))
        .filter(gateway_customers::customer_id.eq(customer_id))
        .select(gateway_customers::account_id)
        .first(conn)
        .optional()?;
    let Some(account) = account else { return Ok(None) };
    let has_one: i64 = payment_methods::table.filter(payment_methods::account_id.eq(&account)).count().get_result(conn)?;
    let row = MethodRow {
        id: ids::new_id(),
        account_id: account.clone(),
        gateway,
        customer_id: customer_id.to_string(),
        method_id: method_id.to_string(),
        brand: brand.to_string(),
        last4: last4.to_string(),
        exp_month: i32::try_from(exp_month).unwrap_or(0),
        exp_year: i32::try_from(exp_year).unwrap_or(0),
        is_default: has_one == 0,
        created_at: now_micros(now),
    };
    let fresh = crate::each_backend!(&mut *conn, c => diesel::insert_into(payment_methods::table).values(&row).on_conflict_do_nothing().execute(c))?;
    if fresh == 1 {
        audit::record(
            conn,
            now,
            &Actor::default(),
            Event::new("payment_method.saved")
                .account(&account)
                .target("payment_method", &row.id)
                .details(serde_json::json!({"brand": brand, "last4": last4})),
        )?;
    }
    Ok(Some((account, fresh == 1)))
}

/// Makes a saved card the default.
pub fn make_default(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, account: &str, id: &str) -> Result<Vec<PaymentMethod>, ApiError> {
    db::transaction(conn, |conn| {
        find(conn, account, id)?;
        diesel::update(payment_methods::table.filter(payment_methods::account_id.eq(account)))
            .set(payment_methods::is_default.eq(false))
            .execute(conn)?;
        diesel::update(payment_methods::table.find(id)).set(payment_methods::is_default.eq(true)).execute(conn)?;
        audit::record(conn, now, actor, Event::new("payment_method.default").account(account).target("payment_method", id))?;
        list(conn, account)
    })
}

/// Forgets a saved card at the gateway, then here; the newest other card becomes the default.
pub async fn remove(pool: &Pool, vault: &dyn CardVault, now: DateTime<Utc>, actor: Actor, account: &str, id: &str) -> Result<(), ApiError> {
    let (acc, pm) = (account.to_string(), id.to_string());
    let row = db::run(pool, move |c| find(c, &acc, &pm)).await?;
    match vault.forget_card(&row.method_id).await {
        Ok(()) => {}
        // Already detached at the gateway: forget it here too.
        Err(GatewayError::Refused(m)) => tracing::warn!(error = %m, "the gateway no longer had the card"),
        Err(e) => return Err(unavailable(e)),
    }
    let (acc, pm) = (account.to_string(), id.to_string());
    db::run(pool, move |c| {
        db::transaction(c, |c| {
            diesel::delete(payment_methods::table.find(&pm)).execute(c)?;
            if row.is_default {
                let next: Option<String> = payment_methods::table
                    .filter(payment_methods::account_id.eq(&acc))
                    .order(payment_methods::created_at.desc())
                    .select(payment_methods::id)
                    .first(c)
                    .optional()?;
                if let Some(n) = next {
                    diesel::update(payment_methods::table.find(n)).set(payment_methods::is_default.eq(true)).execute(c)?;
                }
            }
            audit::record(c, now, &actor, Event::new("payment_method.removed").account(&acc).target("payment_method", &pm))
        })
    })
    .await
}

/// What charging `card` for what is owed on `invoice` asks the gateway: one charge per invoice
/// and amount paid so far, so a double click (or a retried task) charges once.
fn charge_of(invoice: &Invoice, card: &MethodRow) -> Charge {
    Charge {
        invoice_id: invoice.id.to_string(),
        customer_id: card.customer_id.clone(),
        method_id: card.method_id.clone(),
        amount_minor: invoice.balance_minor,
        currency: invoice.currency,
        idempotency_key: format!("keel-charge-{}-{}", invoice.id, invoice.paid_minor),
    }
}

/// The card payment `payment` of what was owed on `invoice`, to record.
fn receipt_of(invoice: &Invoice, payment: String) -> Receipt {
    Receipt {
        invoice_id: invoice.id.to_string(),
        gateway: Gateway::Stripe,
        external_id: Some(payment.clone()),
        reference: payment,
        amount_minor: invoice.balance_minor,
        currency: invoice.currency.code().to_string(),
    }
}

/// Pays what is owed on an invoice (`invoice_id`) with a saved card (`method`), now (off-session). A decline is a 409
/// `payment_declined` with the gateway's message; the invoice stays open.
pub async fn charge(
    pool: &Pool,
    vault: &dyn CardVault,
    now: DateTime<Utc>,
    mail: MailContext,
    actor: Actor,
    account: &str,
    (invoice_id, method): (&str, &str),
) -> Result<Invoice, ApiError> {
    let (acc, inv, pm) = (account.to_string(), invoice_id.to_string(), method.to_string());
    let (invoice, card) = db::run(pool, move |c| {
        let card = find(c, &acc, &pm).map_err(|_| ApiError::field("payment_method_id", "is not one of your saved cards"))?;
        Ok((billing::payable(c, &inv, &acc)?, card))
    })
    .await?;
    let payment = vault.charge(charge_of(&invoice, &card)).await.map_err(|e| match e {
        GatewayError::Refused(m) => ApiError::Conflict {
            code: "payment_declined",
            detail: format!("the card was not charged: {m}"),
            field: Some("payment_method_id".into()),
        },
        other => unavailable(other),
    })?;
    let receipt = receipt_of(&invoice, payment);
    let id = invoice_id.to_string();
    db::run(pool, move |c| {
        db::transaction(c, |c| {
            billing::apply_payment_in(c, now, &mail, &actor, &receipt)?;
            billing::get(c, &id, None)
        })
    })
    .await
}

/// What the daily charge of due renewals did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Charged {
    pub paid: usize,
    pub declined: usize,
    /// The gateway could not be reached: tried again on the next run.
    pub deferred: usize,
}

/// Renewal invoices on or past their due date are charged to their client's default saved card
/// (the daily task), once per invoice: each is claimed (`autocharged_at`) before the gateway is
/// asked. A decline e-mails the client (`payment_failed`) and leaves the invoice open for them
/// to pay; an unreachable gateway gives the claim back for the next run.
pub fn charge_due_renewals(deps: &Deps, conn: &mut DbConn) -> Result<Charged, ApiError> {
    let now = deps.clock.now();
    let at = now_micros(now);
    let mail = deps.mail();
    let with_card = payment_methods::table.filter(payment_methods::is_default.eq(true)).select(payment_methods::account_id);
    let due: Vec<(String, String)> = invoices::table
        .filter(invoices::kind.eq(InvoiceKind::Renewal))
        .filter(invoices::status.eq_any([InvoiceStatus::Unpaid, InvoiceStatus::PartiallyPaid, InvoiceStatus::Overdue]))
        .filter(invoices::due_on.le(now.date_naive()))
        .filter(invoices::autocharged_at.is_null())
        .filter(invoices::account_id.eq_any(with_card))
        .select((invoices::id, invoices::account_id))
        .load(conn)?;
    let mut done = Charged::default();
    for (invoice_id, account) in due {
        let claimed = diesel::update(invoices::table.find(&invoice_id).filter(invoices::autocharged_at.is_null()))
            .set(invoices::autocharged_at.eq(Some(at)))
            .execute(conn)?;
        if claimed == 0 {
            continue;
        }
        let invoice = billing::get(conn, &invoice_id, None)?;
        let card: Option<MethodRow> = payment_methods::table
            .filter(payment_methods::account_id.eq(&account))
            .filter(payment_methods::is_default.eq(true))
            .select(MethodRow::as_select())
            .first(conn)
            .optional()?;
        let Some(card) = card.filter(|_| invoice.balance_minor > 0) else { continue };
        let outcome = crate::outbound::block_on(deps.vault.charge(charge_of(&invoice, &card)));
        let actor = Actor::default();
        match outcome {
            Ok(Ok(payment)) => {
                let receipt = receipt_of(&invoice, payment);
                db::transaction(conn, |c| billing::apply_payment_in(c, now, &mail, &actor, &receipt).map(drop))?;
                done.paid += 1;
            }
            Ok(Err(GatewayError::Refused(why))) => {
                db::transaction(conn, |c| {
                    let row = crate::billing::store::find(c, &invoice_id)?.ok_or_else(|| ApiError::not_found("invoice"))?;
                    super::service::tell_failed_in(c, now, &mail, &row, &why)?;
                    audit::record(
                        c,
                        now,
                        &actor,
                        Event::new("payment.autocharge_declined").account(&row.account_id).target("invoice", &invoice_id).details(
                            serde_json::json!({"number": row.number, "card": format!("{} …{}", card.brand, card.last4), "reason": why}),
                        ),
                    )
                })?;
                done.declined += 1;
            }
            Ok(Err(GatewayError::Unavailable(why))) | Err(why) => {
                tracing::warn!(invoice = %invoice_id, error = %why, "renewal not charged: the card gateway cannot be reached; trying again next run");
                diesel::update(invoices::table.find(&invoice_id))
                    .set(invoices::autocharged_at.eq(None::<chrono::NaiveDateTime>))
                    .execute(conn)?;
                done.deferred += 1;
            }
        }
    }
    Ok(done)
}
