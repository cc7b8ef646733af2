//! Commerce use cases: pricing a cart for a buyer, and the back office's tax rules and promo
//! codes (each write in one transaction with its audit entry, publishing `CatalogChanged`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use keel_shared::cart::{Cart, Quote, QuoteRequest};
use keel_shared::commerce::{eu_vat_id_format, CommerceSettings, PromoCode, PromoCodeInput, TaxRule, TaxRuleInput, EU_COUNTRIES};
use keel_shared::pricing::{self, Problems, PromoRule, TaxContext};
use keel_shared::Currency;

use super::carts;
use super::fraud::Screening;
use super::models::{PromoRow, TaxRuleRow};
use super::orders::{self, ItemRow, OrderRow, ServiceRow};
use super::vies::{self, VatCheck, VatStatus};
use crate::audit::{self, Actor, Event};
use crate::db::cache::{publish, CachedCatalog, Change};
use crate::db::{self, now_micros, DbConn};
use crate::error::ApiError;
use crate::ids;
use crate::notifications::outbox::{self, Category, MailContext, Outgoing};
use crate::schema::{addons, order_items, orders as orders_t, products, promo_codes, promo_uses, services, tax_rules, vat_checks};
use keel_shared::orders::{Order, OrderFilter, OrderStatus, OrderSummary, ServiceStatus};
use keel_shared::{Money, Page};
use sha2::Digest;

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
    /// What VIES said of `vat_id`, when the shop confirms VAT ids online and it was asked.
    pub vat_status: Option<VatStatus>,
}

impl Buyer {
    /// A signed-in client: their profile's currency, billing address, tax id and exemption.
    pub fn of_account(conn: &mut DbConn, account_id: &str) -> Result<Buyer, ApiError> {
        let b = crate::accounts::profile::billing(conn, account_id)?;
        let (country, state) = match b.address {
            Some(a) => (Some(a.country).filter(|c| !c.is_empty()), Some(a.region).filter(|r| !r.is_empty())),
            None => (None, None),
        };
        Ok(Buyer { currency: Some(b.currency), country, state, vat_id: b.tax_id, exempt: b.tax_exempt, signed_in: true, vat_status: None })
    }

    /// A guest: where the cart says they are.
    pub fn guest(req: &QuoteRequest) -> Buyer {
        Buyer { country: req.country.clone(), state: req.state.clone(), vat_id: req.vat_id.clone(), ..Buyer::default() }
    }
}

/// Whether a business buyer in `country` may be charged no VAT: the shop is in the EU and the
/// buyer in another member state.
fn reverse_charge_possible(settings: &CommerceSettings, country: &str) -> bool {
    let home_in_eu = settings.home_country.as_deref().is_some_and(|h| EU_COUNTRIES.contains(&h));
    home_in_eu && EU_COUNTRIES.contains(&country) && settings.home_country.as_deref() != Some(country)
}

/// Whether a buyer in `country` with `vat_id` is charged no VAT, as far as the id's format tells.
fn reverse_charge_by_format(settings: &CommerceSettings, country: &str, vat_id: &str) -> bool {
    reverse_charge_possible(settings, country) && eu_vat_id_format(country, vat_id)
}

/// How long a VIES answer is trusted.
const VAT_CHECK_TTL_HOURS: i64 = 24;

/// Asks VIES about the buyer's VAT id when the shop confirms ids online and the id would earn the
/// reverse charge (from the day's kept answer when there is one), and notes the answer in the
/// buyer. Runs outside any transaction: the request to VIES may take seconds.
pub async fn confirm_vat(
    pool: &crate::db::Pool,
    vat: &dyn VatCheck,
    settings: &CommerceSettings,
    now: DateTime<Utc>,
    mut buyer: Buyer,
) -> Result<Buyer, ApiError> {
    let (Some(country), Some(vat_id)) = (buyer.country.clone(), buyer.vat_id.clone()) else { return Ok(buyer) };
    if !settings.check_vat_online || !reverse_charge_by_format(settings, &country, &vat_id) {
        return Ok(buyer);
    }
    let Some((prefix, number)) = vies::split(&vat_id) else { return Ok(buyer) };
    let key = format!("{prefix}{number}");
    let since = now_micros(now - chrono::Duration::hours(VAT_CHECK_TTL_HOURS));
    let k = key.clone();
    let kept: Option<(bool, Option<String>)> = db::run(pool, move |c| {
        Ok(vat_checks::table
            .find(&k)
            .filter(vat_checks::checked_at.gt(since))
            .select((vat_checks::valid, vat_checks::name))
            .first(c)
            .optional()?)
    })
    .await?;
    let status = match kept {
        Some((true, name)) => VatStatus::Valid { name },
        Some((false, _)) => VatStatus::Invalid,
        None => {
            let status = vat.check(&prefix, &number).await;
            let answer = match &status {
                VatStatus::Valid { name } => Some((true, name.clone())),
                VatStatus::Invalid => Some((false, None)),
                VatStatus::Unavailable(why) => {
                    tracing::warn!(vat_id = %key, %why, "VIES did not answer");
                    None
                }
            };
            if let Some((valid, name)) = answer {
                let at = now_micros(now);
                db::run(pool, move |c| {
                    crate::each_backend!(c, c => diesel::insert_into(vat_checks::table)
                        .values((vat_checks::vat_id.eq(&key), vat_checks::valid.eq(valid), vat_checks::name.eq(&name), vat_checks::checked_at.eq(at)))
                        .on_conflict(vat_checks::vat_id)
                        .do_update()
                        .set((vat_checks::valid.eq(valid), vat_checks::name.eq(&name), vat_checks::checked_at.eq(at)))
                        .execute(c))?;
                    Ok(())
                })
                .await?;
            }
            status
        }
    };
    buyer.vat_status = Some(status);
    Ok(buyer)
}

fn problems_error(problems: Problems) -> ApiError {
    ApiError::problems("the cart cannot be priced", problems)
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
    let mut reverse_charge = false;
    if let Some(vat_id) = buyer.vat_id.as_deref().filter(|v| !v.trim().is_empty()) {
        if reverse_charge_by_format(settings, country, vat_id) {
            match &buyer.vat_status {
                // VIES does not know it: VAT is charged (a guest is told why).
                Some(VatStatus::Invalid) if !buyer.signed_in => add(problems, "vat_id", "VIES does not know this VAT number"),
                Some(VatStatus::Invalid) => {}
                _ => reverse_charge = true,
            }
        } else if reverse_charge_possible(settings, country) && !buyer.signed_in {
            add(
                problems,
                "vat_id",
                format!("not an EU VAT id of {country} (e.g. {}123456789)", if country == "GR" { "EL" } else { country }),
            );
        }
    }
    TaxContext { rules: applicable, inclusive: settings.tax_inclusive, exempt: buyer.exempt, reverse_charge }
}

/// Amounts taxed for an account as it stands now (its country, tax id, exemption), for the
/// invoices Keel writes by itself (renewals, plan changes): each line's tax and total by
/// `pricing::taxed`, and the invoice's tax breakdown.
pub struct AccountTax {
    pub lines: Vec<pricing::Taxed>,
    pub tax_lines: Vec<keel_shared::cart::TaxLine>,
    pub tax_minor: i64,
    pub total_minor: i64,
    pub inclusive: bool,
    pub reverse_charge: bool,
}

pub fn tax_for_account(conn: &mut DbConn, account_id: &str, amounts: &[i64]) -> Result<AccountTax, ApiError> {
    let buyer = Buyer::of_account(conn, account_id)?;
    let rules = tax_rules(conn)?;
    let settings = crate::catalog::service::settings(conn)?;
    let tax = tax_context(&rules, &settings, &buyer, &mut Problems::new());
    let lines: Vec<pricing::Taxed> = amounts.iter().map(|a| pricing::taxed(&tax, *a)).collect();
    let mut by_rule = vec![0i64; tax.rules.len()];
    for (i, v) in lines.iter().flat_map(|t| &t.taxes) {
        by_rule[*i] += v;
    }
    Ok(AccountTax {
        tax_lines: pricing::tax_lines(&tax, &by_rule),
        tax_minor: lines.iter().map(|t| t.tax_minor).sum(),
        total_minor: lines.iter().map(|t| t.total_minor).sum(),
        inclusive: tax.inclusive,
        reverse_charge: tax.reverse_charge && !tax.exempt,
        lines,
    })
}

/// The promo code's rule if it may be used now, else a problem on `promo_codes`.
fn promo_rule(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    code: &str,
    problems: &mut Problems,
) -> Result<Option<(PromoRow, PromoRule)>, ApiError> {
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
            add(problems, "promo_codes", message);
            Ok(None)
        }
        (None, Some(r)) => {
            let rule = r.to_rule()?;
            Ok(Some((r, rule)))
        }
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
    let mut promos = Vec::with_capacity(req.promo_codes.len());
    match conn {
        Some(conn) => {
            for code in &req.promo_codes {
                promos.extend(promo_rule(conn, now, code, &mut problems)?.map(|(_, rule)| rule));
            }
        }
        None if req.promo_codes.is_empty() => {}
        None => return Err(ApiError::internal("a promo code needs a database connection")),
    }
    price(cat, req, buyer, &promos, problems)
}

/// The quote for a cart whose promo codes were looked up; `problems` are those found so far,
/// answered together with the cart's own.
fn price(cat: &CachedCatalog, req: &QuoteRequest, buyer: &Buyer, promos: &[PromoRule], mut problems: Problems) -> Result<Quote, ApiError> {
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
    let mut who = if buyer.signed_in { buyer.clone() } else { Buyer { vat_status: buyer.vat_status.clone(), ..Buyer::guest(req) } };
    if who.country.is_none() {
        // A client with no address yet: the place chosen in the cart.
        who.country = req.country.clone();
        who.state = req.state.clone();
    }
    let tax = tax_context(&cat.tax_rules, &cat.settings, &who, &mut problems);
    match pricing::quote(catalog, req, currency, promos, &tax) {
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

/// The user's server cart (empty when they have none, or when the stored one no longer reads:
/// an older shape).
pub fn cart(conn: &mut DbConn, user_id: &str) -> Result<Cart, ApiError> {
    Ok(carts::body(conn, user_id)?.and_then(|b| serde_json::from_str(&b).ok()).unwrap_or_default())
}

/// Replaces the user's server cart.
pub fn save_cart(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str, cart: &Cart) -> Result<Cart, ApiError> {
    carts::store(conn, user_id, &json(cart)?, now_micros(now))?;
    Ok(cart.clone())
}

/// Adds a guest's cart to the user's server cart (on sign-in), in one transaction so two tabs
/// signing in at once both land. Lines that do not fit are left out (the answer shows what the
/// cart holds).
pub fn merge_cart(conn: &mut DbConn, now: DateTime<Utc>, user_id: &str, guest: Cart) -> Result<Cart, ApiError> {
    db::transaction(conn, |conn| {
        carts::lock(conn, user_id, now_micros(now))?;
        let mut mine = cart(conn, user_id)?;
        let dropped = mine.merge(guest);
        if dropped > 0 {
            tracing::info!(user_id, dropped, "cart merge: lines over the limit left out");
        }
        save_cart(conn, now, user_id, &mine)
    })
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
            stackable: body.stackable,
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

/// Who places an order, for which account, from where, under which idempotency key.
#[derive(Debug, Clone)]
pub struct Checkout {
    pub actor: Actor,
    pub account_id: String,
    pub placed_by: String,
    pub ip: Option<String>,
    pub idempotency_key: String,
}

/// What a checkout reaches besides the database.
pub struct Env<'a> {
    pub deps: &'a crate::deps::Deps,
    pub mail: &'a MailContext,
    pub catalog: &'a CachedCatalog,
}

/// `(order, created)`: a new order, or (`created` false) the one an earlier request with the
/// same idempotency key and body placed.
pub type Placed = (Order, bool);

fn request_hash(req: &QuoteRequest) -> Result<String, ApiError> {
    let body = serde_json::to_vec(req).map_err(ApiError::internal)?;
    Ok(hex::encode(sha2::Sha256::digest(&body)))
}

fn replay(conn: &mut DbConn, who: &Checkout, hash: &str) -> Result<Option<Placed>, ApiError> {
    match orders::by_key(conn, &who.account_id, &who.idempotency_key)? {
        Some(row) if row.request_hash == hash => Ok(Some((orders::load(conn, &row)?, false))),
        Some(_) => Err(ApiError::Conflict {
            code: "idempotency_key_reused",
            detail: "this Idempotency-Key was used for a different cart; use a new key for a new order".into(),
            field: Some("Idempotency-Key".into()),
        }),
        None => Ok(None),
    }
}

/// Places an order: in one transaction the promo use is counted (refused when used up), stock
/// is taken, the order gets the next gapless number, its items are stored with their prices
/// frozen, one pending service per unit is created, fraud screening may hold it, and the
/// confirmation e-mail is queued. The same idempotency key and body answer the same order.
pub fn checkout(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    env: &Env<'_>,
    who: &Checkout,
    req: &QuoteRequest,
    buyer: &Buyer,
) -> Result<Placed, ApiError> {
    let hash = request_hash(req)?;
    if let Some(done) = replay(conn, who, &hash)? {
        return Ok(done);
    }
    let placer = crate::accounts::users::find_user(conn, &who.placed_by)?;
    if placer.email_verified_at.is_none() {
        return Err(ApiError::EmailUnverified);
    }
    // A team member orders for the account holder; usually they are the same person.
    let holder = if who.account_id == who.placed_by { placer } else { crate::accounts::users::find_user(conn, &who.account_id)? };
    let placed = db::transaction(conn, |conn| place(conn, now, env, who, req, (buyer, &holder), &hash));
    match placed {
        // A request with the same key committed first (they raced): answer what it placed.
        Err(ApiError::Conflict { field: Some(f), .. }) if f == "idempotency_key" => {
            replay(conn, who, &hash)?.ok_or_else(|| ApiError::internal("idempotency conflict without an order"))
        }
        other => other,
    }
}

fn place(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    env: &Env<'_>,
    who: &Checkout,
    req: &QuoteRequest,
    (buyer, holder): (&Buyer, &crate::accounts::models::UserRow),
    hash: &str,
) -> Result<Placed, ApiError> {
    let Env { deps, mail, catalog: cat } = env;
    let actor = &who.actor;
    let mut problems = Problems::new();
    let mut promos = Vec::with_capacity(req.promo_codes.len());
    for code in &req.promo_codes {
        promos.extend(promo_rule(conn, now, code, &mut problems)?);
    }
    for (row, _) in &promos {
        // Counting the use first locks the promo's row (PostgreSQL) or holds the write lock
        // (SQLite): concurrent checkouts with one code take turns from here.
        let counted = diesel::update(promo_codes::table.find(&row.id))
            .filter(promo_codes::max_uses.is_null().or(promo_codes::uses.lt(promo_codes::max_uses.assume_not_null())))
            .set(promo_codes::uses.eq(promo_codes::uses + 1))
            .execute(conn)?;
        if counted == 0 {
            add(&mut problems, "promo_codes", format!("{} has been used up", row.code));
        }
        if row.once_per_client {
            let used: i64 = promo_uses::table
                .filter(promo_uses::promo_id.eq(&row.id))
                .filter(promo_uses::account_id.eq(&who.account_id))
                .count()
                .get_result(conn)?;
            if used > 0 {
                add(&mut problems, "promo_codes", format!("you have used {} before", row.code));
            }
        }
        if row.new_clients_only {
            let earlier: i64 = orders_t::table
                .filter(orders_t::account_id.eq(&who.account_id))
                .filter(orders_t::status.ne_all([OrderStatus::Cancelled.as_str(), OrderStatus::Fraud.as_str()]))
                .count()
                .get_result(conn)?;
            if earlier > 0 {
                add(&mut problems, "promo_codes", format!("{} is for new clients", row.code));
            }
        }
    }
    let rules: Vec<PromoRule> = promos.iter().map(|(_, rule)| rule.clone()).collect();
    let quote = price(cat, req, buyer, &rules, problems)?;
    // Stock is taken where it is counted.
    // Only products with a stock are updated (and so locked): checkouts of unlimited products
    // do not queue behind each other on a product row.
    let mut stock_changed = false;
    for (i, line) in req.lines.iter().enumerate() {
        let qty = i64::from(line.quantity);
        let taken = diesel::update(products::table.find(line.product_id.as_str()))
            .filter(products::stock.is_not_null().and(products::stock.ge(qty)))
            .set(products::stock.eq(products::stock - qty))
            .execute(conn)?;
        if taken > 0 {
            stock_changed = true;
            continue;
        }
        let stock: Option<i64> = products::table.find(line.product_id.as_str()).select(products::stock).first(conn)?;
        if stock.is_some() {
            return Err(ApiError::field(&format!("lines[{i}].quantity"), "not enough left in stock"));
        }
    }
    if stock_changed {
        // The storefront shows what is in stock.
        publish(conn, Change::CatalogChanged)?;
    }
    let at = now_micros(now);
    let order_id = ids::new_id();
    let mut reasons = deps.fraud.screen(
        conn,
        now,
        &Screening {
            account_id: &who.account_id,
            email: &holder.email,
            ip: who.ip.as_deref(),
            billing_country: buyer.country.as_deref(),
            total_minor: quote.total_minor,
        },
    )?;
    if let (true, Some(VatStatus::Unavailable(why))) = (quote.reverse_charge, &buyer.vat_status) {
        reasons.push(format!(
            "VAT id {} could not be confirmed with VIES ({why}); no VAT was charged",
            buyer.vat_id.as_deref().unwrap_or_default()
        ));
    }
    let status = match (reasons.is_empty(), cat.settings.manual_order_acceptance) {
        (false, _) => OrderStatus::InReview,
        (true, true) => OrderStatus::Pending,
        (true, false) => OrderStatus::Accepted,
    };
    // The number is taken last (below): the counter row stays locked from then until commit, so
    // concurrent checkouts overlap everything else they write.
    let mut row = OrderRow {
        id: order_id.clone(),
        number: format!("pending-{order_id}"),
        account_id: who.account_id.clone(),
        placed_by: who.placed_by.clone(),
        status: status.as_str().into(),
        currency: quote.currency.code().into(),
        subtotal_minor: quote.subtotal_minor,
        discount_minor: quote.discount_minor,
        tax_minor: quote.tax_minor,
        total_minor: quote.total_minor,
        tax_lines: json(&quote.tax_lines)?,
        tax_inclusive: quote.tax_inclusive,
        reverse_charge: quote.reverse_charge,
        // Codes are letters, digits, `-` and `_`: a comma separates them.
        promo_code: Some(quote.promo_codes.join(",")).filter(|c| !c.is_empty()),
        fraud_reasons: json(&reasons)?,
        cancel_reason: None,
        ip: who.ip.clone(),
        idempotency_key: who.idempotency_key.clone(),
        request_hash: hash.to_string(),
        created_at: at,
        updated_at: at,
    };
    diesel::insert_into(orders_t::table).values(&row).execute(conn)?;
    for (i, (line, q)) in req.lines.iter().zip(&quote.lines).enumerate() {
        let item = ItemRow {
            id: ids::new_id(),
            order_id: row.id.clone(),
            line_no: i as i32,
            product_id: q.product_id.to_string(),
            product_name: q.product_name.clone(),
            cycle: q.cycle.as_str().into(),
            quantity: q.quantity as i32,
            items: json(&q.items)?,
            subtotal_minor: q.subtotal_minor,
            discount_minor: q.discount_minor,
            tax_minor: q.tax_minor,
            total_minor: q.total_minor,
            renewal_minor: q.renewal_minor,
            config: json(line)?,
            domain: q.domain.as_ref().map(json).transpose()?,
        };
        diesel::insert_into(order_items::table).values(&item).execute(conn)?;
        let units = i64::from(q.quantity.max(1));
        let first_period: i64 = q.items.iter().map(|i| i.amount_minor).sum::<i64>() - q.discount_minor / units;
        for _ in 0..q.quantity {
            let service = ServiceRow {
                id: ids::new_id(),
                account_id: who.account_id.clone(),
                order_id: row.id.clone(),
                order_item_id: item.id.clone(),
                product_id: q.product_id.to_string(),
                status: ServiceStatus::Pending.as_str().into(),
                cycle: q.cycle.as_str().into(),
                currency: quote.currency.code().into(),
                first_minor: q.total_minor / units,
                recurring_minor: q.renewal_minor / units,
                domain: q.domain.as_ref().map(|d| d.name.to_ascii_lowercase()),
                created_at: at,
                updated_at: at,
                period_paid_minor: q.cycle.is_recurring().then_some(first_period.max(0)),
            };
            diesel::insert_into(services::table).values(&service).execute(conn)?;
        }
    }
    for (promo, _) in &promos {
        diesel::insert_into(promo_uses::table)
            .values((
                promo_uses::promo_id.eq(&promo.id),
                promo_uses::order_id.eq(&row.id),
                promo_uses::account_id.eq(&who.account_id),
                promo_uses::created_at.eq(at),
            ))
            .execute(conn)?;
    }
    // What was in the cart is now ordered.
    carts::clear(conn, &who.placed_by)?;
    let number = format!("ORD-{:06}", orders::next_number(conn, "order")?);
    diesel::update(orders_t::table.find(&row.id)).set(orders_t::number.eq(&number)).execute(conn)?;
    row.number = number.clone();
    audit::record(
        conn,
        now,
        actor,
        Event::new("order.placed").account(&who.account_id).target("order", &row.id).details(serde_json::json!({
            "number": number, "total_minor": quote.total_minor, "currency": quote.currency, "status": status, "fraud_reasons": reasons,
        })),
    )?;
    let order = orders::load(conn, &row)?;
    crate::billing::service::issue_for_order_in(conn, now, mail, &order)?;
    let lines: Vec<String> = order
        .items
        .iter()
        .map(|i| format!("{} × {} ({}): {}", i.quantity, i.product_name, i.cycle.label(), Money::new(i.total_minor, order.currency)))
        .collect();
    let vars = serde_json::json!({
        "first_name": holder.first_name,
        "order_number": number,
        "total": Money::new(order.total_minor, order.currency).to_string(),
        "lines": lines.join("\n"),
        "order_url": format!("{}/portal/orders/{}", mail.public_url, order.id),
    });
    outbox::queue_email(
        conn,
        now,
        mail,
        Outgoing {
            to: &holder.email,
            user_id: Some(&holder.id),
            template: "order_confirmation",
            category: Category::Transactional,
            vars: &vars,
        },
    )?;
    Ok((order, true))
}

/// A client's orders (or, with `account`, any account's for the back office).
pub fn list_orders(conn: &mut DbConn, filter: &OrderFilter, account: Option<&str>) -> Result<Page<OrderSummary>, ApiError> {
    orders::list(conn, filter, account)
}

/// One order; `account` limits it to that account's (another's is not found).
pub fn get_order(conn: &mut DbConn, id: &str, account: Option<&str>) -> Result<Order, ApiError> {
    let row = orders::find(conn, id)?.filter(|r| account.is_none_or(|a| r.account_id == a)).ok_or_else(|| ApiError::not_found("order"))?;
    orders::load(conn, &row)
}

/// What the back office does to an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Accept (manual acceptance, or a held order cleared).
    Accept,
    Cancel,
    Fraud,
}

/// Accepts, cancels (with a reason) or marks an order as fraud, in one transaction with its
/// audit entry. Cancelling or marking as fraud cancels its pending services, gives back stock and
/// the promo use.
pub fn decide(
    conn: &mut DbConn,
    now: DateTime<Utc>,
    actor: &Actor,
    id: &str,
    decision: Decision,
    reason: Option<&str>,
) -> Result<Order, ApiError> {
    db::transaction(conn, |conn| {
        let row = orders::find(conn, id)?.ok_or_else(|| ApiError::not_found("order"))?;
        let from = row.status()?;
        let to = match decision {
            Decision::Accept => OrderStatus::Accepted,
            Decision::Cancel => OrderStatus::Cancelled,
            Decision::Fraud => OrderStatus::Fraud,
        };
        let allowed = matches!(
            (from, to),
            (OrderStatus::Pending | OrderStatus::InReview, OrderStatus::Accepted | OrderStatus::Cancelled | OrderStatus::Fraud)
                | (OrderStatus::Accepted, OrderStatus::Cancelled)
        );
        if !allowed {
            return Err(ApiError::Conflict {
                code: "order_state",
                detail: format!("an order that is {} cannot become {}", from.as_str(), to.as_str()),
                field: Some("status".into()),
            });
        }
        let at = now_micros(now);
        diesel::update(orders_t::table.find(id))
            .set((orders_t::status.eq(to.as_str()), orders_t::cancel_reason.eq(reason), orders_t::updated_at.eq(at)))
            .execute(conn)?;
        if to != OrderStatus::Accepted {
            diesel::update(services::table.filter(services::order_id.eq(id)).filter(services::status.eq(ServiceStatus::Pending.as_str())))
                .set((services::status.eq(ServiceStatus::Cancelled.as_str()), services::updated_at.eq(at)))
                .execute(conn)?;
            let lines: Vec<(String, i32)> = order_items::table
                .filter(order_items::order_id.eq(id))
                .select((order_items::product_id, order_items::quantity))
                .load(conn)?;
            let mut restocked = 0;
            for (product, quantity) in lines {
                restocked += diesel::update(products::table.find(&product).filter(products::stock.is_not_null()))
                    .set(products::stock.eq(products::stock + i64::from(quantity)))
                    .execute(conn)?;
            }
            if restocked > 0 {
                publish(conn, Change::CatalogChanged)?;
            }
            let uses: Vec<String> = promo_uses::table.filter(promo_uses::order_id.eq(id)).select(promo_uses::promo_id).load(conn)?;
            for promo in uses {
                diesel::update(promo_codes::table.find(&promo).filter(promo_codes::uses.gt(0)))
                    .set(promo_codes::uses.eq(promo_codes::uses - 1))
                    .execute(conn)?;
            }
            diesel::delete(promo_uses::table.filter(promo_uses::order_id.eq(id))).execute(conn)?;
            crate::billing::service::cancel_for_order_in(conn, now, actor, id, reason.unwrap_or("the order was cancelled"))?;
        }
        if to == OrderStatus::Accepted {
            // Paid before it was accepted: its services go to provisioning now.
            crate::provisioning::service::order_ready_in(conn, now, id)?;
        }
        audit::record(
            conn,
            now,
            actor,
            Event::new(match decision {
                Decision::Accept => "order.accepted",
                Decision::Cancel => "order.cancelled",
                Decision::Fraud => "order.marked_fraud",
            })
            .account(&row.account_id)
            .target("order", id)
            .details(serde_json::json!({"number": row.number, "from": from, "reason": reason})),
        )?;
        get_order(conn, id, None)
    })
}

/// An order's invoice was paid (in the paying transaction): recorded on the order's trail. An
/// accepted order's services are then due for provisioning (the provisioning domain hooks in
/// here); a pending one still waits for acceptance when manual acceptance is on.
pub fn order_paid_in(conn: &mut DbConn, now: DateTime<Utc>, actor: &Actor, id: &str) -> Result<(), ApiError> {
    let row = orders::find(conn, id)?.ok_or_else(|| ApiError::not_found("order"))?;
    audit::record(
        conn,
        now,
        actor,
        Event::new("order.paid")
            .account(&row.account_id)
            .target("order", id)
            .details(serde_json::json!({"number": row.number, "status": row.status})),
    )?;
    if row.status()? == OrderStatus::Pending && crate::catalog::service::settings(conn)?.accept_on_payment {
        // Accepting hands its services to provisioning.
        decide(conn, now, actor, id, Decision::Accept, None)?;
        return Ok(());
    }
    crate::provisioning::service::order_ready_in(conn, now, id)
}

/// A value for a JSON text column.
fn json<T: serde::Serialize + ?Sized>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(ApiError::internal)
}
