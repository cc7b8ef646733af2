//! The price of a cart: one function, [`quote`], run by the API for every quote and checkout and
//! by the browser for the configurator's live price ([`price_line`]), so both show the same
//! number. The API always recomputes; it never trusts a total sent by a client.
//!
//! Rules, written once here:
//! - A line's price is, per unit: the product's price for the cycle, plus each chosen option
//!   value's price (a quantity option: unit price × units; a yes/no option only when on), plus
//!   each chosen add-on's price, each with its setup fee; prices missing in the quote's currency
//!   come from [`Catalog::price_in`]. An option value or add-on with no price for the cycle costs
//!   nothing. The line's subtotal is (amounts + setup fees) × quantity.
//! - A promo code discounts the recurring amounts of the lines, products and cycles it applies to
//!   (never setup fees): a percentage (basis points) of the eligible amount, rounded half away
//!   from zero, or a fixed amount per unit, at most the eligible amount. A discount never exceeds
//!   its line. "Once" promos discount the first payment; "repeating" and "forever" also the
//!   renewal shown. Stackable codes combine: each takes its discount from what the ones before
//!   it left of each item (10 % then 10 % takes 19 %).
//! - **Tax is rounded per line**: each line's tax is computed from that line's discounted amount
//!   and rounded half away from zero; the totals are sums of the lines, so an invoice's lines
//!   always add up to its total. Level-1 rules apply to the net amount; a compound level-2 rule
//!   applies to net + level-1 tax (as in Québec's QST on GST), a non-compound one to the net.
//!   When prices include tax, the tax is taken out of the gross line amount
//!   (`gross × rate / (10000 + rate)`), so the total stays the listed price.
//! - Exempt clients and the EU reverse charge pay no tax; when prices include tax, they pay the
//!   net price.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::cart::{CartLine, ItemKind, Quote, QuoteItem, QuoteRequest, QuotedLine, TaxLine};
use crate::catalog::{BillingCycle, Catalog, OptionKind, Price};
use crate::ids::{AddonId, ProductId};
use crate::money::{div_round_half_away, Currency};

/// Field messages keyed by the request field they are about (`lines[0].options[1].value_id`).
pub type Problems = BTreeMap<String, Vec<String>>;

/// A tax that applies to the buyer (already chosen for their country and state).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxRule {
    pub name: String,
    /// Rate in basis points: 2000 = 20 %.
    pub rate_bp: u32,
    /// 1 or 2.
    pub level: u8,
    /// Level 2 only: charged on the net amount plus the level-1 tax.
    pub compound: bool,
}

/// How tax applies to this quote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxContext {
    pub rules: Vec<TaxRule>,
    /// Prices include tax.
    pub inclusive: bool,
    /// The client is tax-exempt.
    pub exempt: bool,
    /// EU reverse charge: no tax, the customer accounts for it.
    pub reverse_charge: bool,
}

crate::text_enum! {
    /// How a promo code takes money off.
    pub enum PromoKind {
        /// `value` basis points of the eligible amount (1500 = 15 %).
        Percent = "percent",
        /// `value` minor units of `currency` off each unit of an eligible line.
        Fixed = "fixed",
    }
}

crate::text_enum! {
    /// Which payments a promo code discounts.
    pub enum PromoDuration {
        /// The first payment only.
        Once = "once",
        /// The first payment and the renewals of the next `cycles` − 1 cycles.
        Repeating = "repeating",
        /// Every payment.
        Forever = "forever",
    }
}

/// A promo code's terms that depend on the cart. (Dates, uses and who may use it are checked by
/// the API against the database before it calls [`quote`].)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromoRule {
    pub code: String,
    pub kind: PromoKind,
    /// Basis points (percent) or minor units (fixed).
    pub value: i64,
    /// Fixed amounts: their currency (converted at the shop's rate into the quote's).
    pub currency: Option<Currency>,
    pub duration: PromoDuration,
    /// Repeating: how many payments it discounts (the first one included).
    pub duration_cycles: Option<u32>,
    /// Only the products listed (empty: all).
    pub product_ids: Vec<ProductId>,
    /// Only the cycles listed (empty: all).
    pub cycles: Vec<BillingCycle>,
    /// Also discounts these add-ons when attached to an eligible line.
    pub addon_ids: Vec<AddonId>,
    /// Minimum cart subtotal, in the shop's default currency (converted into the quote's).
    pub min_order_minor: Option<i64>,
    /// May be combined with other stackable codes.
    pub stackable: bool,
}

/// One line priced before discount and tax: its items per unit and sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinePrice {
    pub product_name: String,
    pub items: Vec<QuoteItem>,
    /// For each item, the add-on it is (None for the product and options).
    pub item_addons: Vec<Option<AddonId>>,
    /// Per unit: first-cycle amounts (without setup fees).
    pub amount_minor: i64,
    /// Per unit: setup fees.
    pub setup_fee_minor: i64,
    /// Per unit: each later cycle.
    pub renewal_minor: i64,
    /// (amount + setup fee) × quantity.
    pub subtotal_minor: i64,
}

fn push(p: &mut Problems, field: String, message: impl Into<String>) {
    p.entry(field).or_default().push(message.into());
}

fn overflow(p: &mut Problems, at: &str) {
    push(p, at.to_string(), "the amounts are too large");
}

/// Prices one cart line in `currency` (the live price of the configurator). `at` is the line's
/// field path (`lines[0]`), used to name problems.
pub fn price_line(catalog: &Catalog, line: &CartLine, currency: Currency, at: &str) -> Result<LinePrice, Problems> {
    let mut p = Problems::new();
    let Some(product) = catalog.product(&line.product_id) else {
        push(&mut p, format!("{at}.product_id"), "this product is not for sale");
        return Err(p);
    };
    if !product.in_stock {
        push(&mut p, format!("{at}.product_id"), format!("{} is out of stock", product.name));
    }
    if product.requires_domain && line.domain.is_none() {
        push(&mut p, format!("{at}.domain"), format!("{} needs a domain: register one, transfer one or use one you own", product.name));
    }
    let Some(base) = catalog.price_in(&product.prices, line.cycle, currency) else {
        push(
            &mut p,
            format!("{at}.cycle"),
            format!("{} is not offered {} in {currency}", product.name, line.cycle.label().to_ascii_lowercase()),
        );
        return Err(p);
    };
    let renews = line.cycle.is_recurring();
    let renewal_of = |price: &Price| if renews { price.renewal() } else { 0 };
    let mut items = vec![QuoteItem {
        kind: ItemKind::Product,
        description: product.name.clone(),
        amount_minor: base.amount_minor,
        setup_fee_minor: base.setup_fee_minor,
        renewal_minor: renewal_of(&base),
    }];
    let mut item_addons: Vec<Option<AddonId>> = vec![None];

    // Options: every chosen one must exist and be valid; unchosen ones take their default.
    for (i, choice) in line.options.iter().enumerate() {
        if !product.options.iter().any(|o| o.id == choice.option_id) {
            push(&mut p, format!("{at}.options[{i}].option_id"), format!("{} has no such option", product.name));
        } else if line.options[..i].iter().any(|c| c.option_id == choice.option_id) {
            push(&mut p, format!("{at}.options[{i}].option_id"), "this option is chosen twice");
        }
    }
    for option in &product.options {
        let index = line.options.iter().position(|c| c.option_id == option.id);
        let choice = index.map(|i| &line.options[i]);
        let field = |name: &str| match index {
            Some(i) => format!("{at}.options[{i}].{name}"),
            None => format!("{at}.options"),
        };
        let (value, units) = match option.kind {
            OptionKind::Dropdown | OptionKind::Radio => {
                let value = match choice.and_then(|c| c.value_id.as_ref()) {
                    Some(id) => option.values.iter().find(|v| v.id == *id),
                    None => option.values.first(),
                };
                match value {
                    Some(v) => (v, 1),
                    None => {
                        push(&mut p, field("value_id"), format!("{} has no such value", option.name));
                        continue;
                    }
                }
            }
            OptionKind::Quantity | OptionKind::YesNo => {
                let Some(value) = option.values.first() else { continue };
                let units = choice.and_then(|c| c.quantity);
                let units = match option.kind {
                    OptionKind::Quantity => {
                        let units = units.unwrap_or(option.min);
                        let step = option.step.max(1);
                        if units < option.min || units > option.max || (units - option.min) % step != 0 {
                            push(
                                &mut p,
                                field("quantity"),
                                format!("{} must be between {} and {} in steps of {step}", option.name, option.min, option.max),
                            );
                            continue;
                        }
                        units
                    }
                    _ => match units.unwrap_or(0) {
                        u @ (0 | 1) => u,
                        _ => {
                            push(&mut p, field("quantity"), format!("{} is 1 (yes) or 0 (no)", option.name));
                            continue;
                        }
                    },
                };
                if units == 0 {
                    continue;
                }
                (value, units)
            }
        };
        let price = catalog.price_in(&value.prices, line.cycle, currency);
        let (amount, setup, renewal) = price.as_ref().map_or((0, 0, 0), |pr| (pr.amount_minor, pr.setup_fee_minor, renewal_of(pr)));
        let (Some(amount), Some(renewal)) = (amount.checked_mul(units), renewal.checked_mul(units)) else {
            overflow(&mut p, at);
            continue;
        };
        let description = match option.kind {
            OptionKind::Quantity => format!("{}: {units} {}", option.name, option.unit).trim_end().to_string(),
            OptionKind::YesNo => option.name.clone(),
            _ => format!("{}: {}", option.name, value.label),
        };
        items.push(QuoteItem { kind: ItemKind::Option, description, amount_minor: amount, setup_fee_minor: setup, renewal_minor: renewal });
        item_addons.push(None);
    }

    for (i, addon_id) in line.addon_ids.iter().enumerate() {
        let field = format!("{at}.addon_ids[{i}]");
        if line.addon_ids[..i].contains(addon_id) {
            push(&mut p, field, "this add-on is chosen twice");
            continue;
        }
        let addon = catalog.addon(addon_id).filter(|_| product.addon_ids.contains(addon_id));
        let Some(addon) = addon else {
            push(&mut p, field, format!("this add-on is not available for {}", product.name));
            continue;
        };
        let Some(price) = catalog.price_in(&addon.prices, line.cycle, currency) else {
            push(&mut p, field, format!("{} is not offered {} in {currency}", addon.name, line.cycle.label().to_ascii_lowercase()));
            continue;
        };
        items.push(QuoteItem {
            kind: ItemKind::Addon,
            description: addon.name.clone(),
            amount_minor: price.amount_minor,
            setup_fee_minor: price.setup_fee_minor,
            renewal_minor: renewal_of(&price),
        });
        item_addons.push(Some(addon_id.clone()));
    }
    if !p.is_empty() {
        return Err(p);
    }
    let sum = |f: fn(&QuoteItem) -> i64| items.iter().try_fold(0i64, |acc, it| acc.checked_add(f(it)));
    let (Some(amount), Some(setup), Some(renewal)) = (sum(|i| i.amount_minor), sum(|i| i.setup_fee_minor), sum(|i| i.renewal_minor)) else {
        overflow(&mut p, at);
        return Err(p);
    };
    let Some(subtotal) = amount.checked_add(setup).and_then(|v| v.checked_mul(i64::from(line.quantity))) else {
        overflow(&mut p, at);
        return Err(p);
    };
    Ok(LinePrice {
        product_name: product.name.clone(),
        items,
        item_addons,
        amount_minor: amount,
        setup_fee_minor: setup,
        renewal_minor: renewal,
        subtotal_minor: subtotal,
    })
}

/// Takes a promo's discount from what is `left` of the items of one unit (first cycle or
/// renewal) that it `counts`, and returns it: a percentage of each item, or a fixed amount per
/// unit taken from the items in turn. Never more than is left.
fn take(promo: &PromoRule, fixed_in_currency: i64, left: &mut [i64], counts: &[bool]) -> i64 {
    let mut budget = fixed_in_currency.max(0);
    let mut off = 0i64;
    for (left, _) in left.iter_mut().zip(counts).filter(|(_, c)| **c) {
        let amount = (*left).max(0);
        let d = match promo.kind {
            PromoKind::Percent => {
                i64::try_from(div_round_half_away(i128::from(amount) * i128::from(promo.value.clamp(0, 10_000)), 10_000)).unwrap_or(amount)
            }
            PromoKind::Fixed => budget,
        }
        .clamp(0, amount);
        if promo.kind == PromoKind::Fixed {
            budget -= d;
        }
        *left -= d;
        off += d;
    }
    off
}

/// Tax on one line: (per rule, its amount). `amount` is the line's discounted amount: net when
/// prices exclude tax, gross when they include it.
fn line_tax(tax: &TaxContext, amount: i64) -> Vec<(usize, i64)> {
    if tax.exempt || tax.reverse_charge || amount <= 0 {
        return Vec::new();
    }
    let rate = |r: &TaxRule| i128::from(r.rate_bp);
    let round = |n: i128, d: i128| i64::try_from(div_round_half_away(n, d)).unwrap_or(0);
    let level1: Vec<(usize, &TaxRule)> = tax.rules.iter().enumerate().filter(|(_, r)| r.level != 2).collect();
    let level2: Vec<(usize, &TaxRule)> = tax.rules.iter().enumerate().filter(|(_, r)| r.level == 2).collect();
    let net: i128 = if tax.inclusive {
        let s1: i128 = level1.iter().map(|(_, r)| rate(r)).sum();
        let s2c: i128 = level2.iter().filter(|(_, r)| r.compound).map(|(_, r)| rate(r)).sum();
        let s2n: i128 = level2.iter().filter(|(_, r)| !r.compound).map(|(_, r)| rate(r)).sum();
        // gross = net × ((1 + s1) × (1 + s2c) + s2n), in basis points squared.
        let factor = (10_000 + s1) * (10_000 + s2c) + s2n * 10_000;
        div_round_half_away(i128::from(amount) * 100_000_000, factor)
    } else {
        i128::from(amount)
    };
    let mut out = Vec::new();
    let mut level1_total = 0i128;
    for (i, r) in &level1 {
        let t = round(net * rate(r), 10_000);
        level1_total += i128::from(t);
        out.push((*i, t));
    }
    for (i, r) in &level2 {
        let base = if r.compound { net + level1_total } else { net };
        out.push((*i, round(base * rate(r), 10_000)));
    }
    if tax.inclusive {
        // The taxes are what the gross holds beyond the net; put any rounding remainder on the
        // first rule so net + taxes = gross exactly.
        let total: i64 = out.iter().map(|(_, t)| t).sum();
        let want = amount - i64::try_from(net).unwrap_or(amount);
        if let Some(first) = out.first_mut() {
            first.1 += want - total;
        }
    }
    out
}

/// Prices a whole cart in `currency`: every line, the promos' discounts, the taxes and the
/// totals. Every problem of the cart is returned at once, keyed by field.
///
/// Several promos apply only when each of them is stackable; they take their discounts in the
/// order given, each from what the ones before it left (10 % and 10 % take 19 %), so the
/// discounts together never exceed the amount.
pub fn quote(catalog: &Catalog, req: &QuoteRequest, currency: Currency, promos: &[PromoRule], tax: &TaxContext) -> Result<Quote, Problems> {
    let mut problems = Problems::new();
    if catalog.currency(currency).is_none() {
        push(&mut problems, "currency".into(), format!("the shop does not sell in {currency}"));
        return Err(problems);
    }
    let mut priced = Vec::with_capacity(req.lines.len());
    for (i, line) in req.lines.iter().enumerate() {
        match price_line(catalog, line, currency, &format!("lines[{i}]")) {
            Ok(lp) => priced.push(lp),
            Err(p) => problems.extend(p),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let Some(subtotal) = priced.iter().try_fold(0i64, |acc, l| acc.checked_add(l.subtotal_minor)) else {
        overflow(&mut problems, "lines");
        return Err(problems);
    };

    // The promos: that they may be combined, which lines they apply to, and each one's fixed
    // amount in this currency.
    let default = catalog.currency(catalog.default_currency);
    let to = catalog.currency(currency);
    let mut fixed = vec![0i64; promos.len()];
    for (promo, fixed) in promos.iter().zip(fixed.iter_mut()) {
        if promos.len() > 1 && !promo.stackable {
            push(&mut problems, "promo_codes".into(), format!("{} cannot be combined with other codes", promo.code));
        }
        let eligible = req.lines.iter().any(|l| applies(promo, l));
        if !eligible {
            push(&mut problems, "promo_codes".into(), format!("{} does not apply to anything in your cart", promo.code));
        }
        if let Some(min) = promo.min_order_minor {
            let min_here = match (default, to) {
                (Some(d), Some(t)) => crate::money::convert(min, d, t),
                _ => None,
            };
            match min_here {
                Some(m) if subtotal >= m => {}
                Some(m) => push(
                    &mut problems,
                    "promo_codes".into(),
                    format!("{} needs an order of at least {}", promo.code, crate::money::Money::new(m, currency)),
                ),
                None => push(&mut problems, "promo_codes".into(), format!("{} cannot be used in {currency}", promo.code)),
            }
        }
        if promo.kind == PromoKind::Fixed {
            let from = promo.currency.and_then(|c| catalog.currency(c)).or(default);
            match (from, to) {
                (Some(f), Some(t)) => *fixed = crate::money::convert(promo.value, f, t).unwrap_or(0),
                _ => push(&mut problems, "promo_codes".into(), format!("{} cannot be used in {currency}", promo.code)),
            }
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    let mut lines = Vec::with_capacity(priced.len());
    let mut tax_sums: Vec<i64> = vec![0; tax.rules.len()];
    for (line, lp) in req.lines.iter().zip(priced) {
        let qty = i64::from(line.quantity);
        let (mut discount, mut renewal_discount) = (0i64, 0i64);
        // What is left of each item of one unit, first cycle and renewal, as promos take theirs.
        let mut left: Vec<i64> = lp.items.iter().map(|i| i.amount_minor).collect();
        let mut renewal_left: Vec<i64> = lp.items.iter().map(|i| i.renewal_minor).collect();
        for (promo, fixed) in promos.iter().zip(&fixed).filter(|(p, _)| applies(p, line)) {
            let counts: Vec<bool> = lp.item_addons.iter().map(|a| a.as_ref().is_none_or(|a| promo.addon_ids.contains(a))).collect();
            discount += take(promo, *fixed, &mut left, &counts);
            if promo.discounts_renewals() {
                renewal_discount += take(promo, *fixed, &mut renewal_left, &counts);
            }
        }
        let discount = discount.saturating_mul(qty).min(lp.subtotal_minor);
        let after = lp.subtotal_minor - discount;
        let Taxed { taxes, tax_minor: line_tax_total, total_minor: total } = taxed(tax, after);
        for (i, t) in &taxes {
            tax_sums[*i] += t;
        }
        let renewal = if line.cycle.is_recurring() { (lp.renewal_minor - renewal_discount).max(0).saturating_mul(qty) } else { 0 };
        lines.push(QuotedLine {
            product_id: line.product_id.clone(),
            product_name: lp.product_name,
            cycle: line.cycle,
            quantity: line.quantity,
            items: lp.items,
            subtotal_minor: lp.subtotal_minor,
            discount_minor: discount,
            tax_minor: line_tax_total,
            total_minor: total,
            renewal_minor: renewal,
            domain: line.domain.clone(),
        });
    }
    let sum = |f: fn(&QuotedLine) -> i64| lines.iter().map(f).sum::<i64>();
    let tax_lines = tax_lines(tax, &tax_sums);
    Ok(Quote {
        currency,
        subtotal_minor: sum(|l| l.subtotal_minor),
        discount_minor: sum(|l| l.discount_minor),
        tax_minor: sum(|l| l.tax_minor),
        total_minor: sum(|l| l.total_minor),
        lines,
        tax_lines,
        tax_inclusive: tax.inclusive,
        reverse_charge: tax.reverse_charge && !tax.exempt,
        promo_codes: promos.iter().map(|p| p.code.clone()).collect(),
    })
}

/// The tax breakdown of a quote or invoice: one line per rule with what its lines' taxes add up
/// to (`sums`, by rule index); none for an exempt buyer or the reverse charge.
pub fn tax_lines(tax: &TaxContext, sums: &[i64]) -> Vec<TaxLine> {
    if tax.exempt || tax.reverse_charge {
        return Vec::new();
    }
    tax.rules.iter().zip(sums).map(|(r, amount)| TaxLine { name: r.name.clone(), rate_bp: r.rate_bp, amount_minor: *amount }).collect()
}

/// An amount's tax and what it adds to a total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taxed {
    /// Per rule, by its index in the context's rules.
    pub taxes: Vec<(usize, i64)>,
    pub tax_minor: i64,
    pub total_minor: i64,
}

/// The tax on one line's amount (after discount) and the line's total, by the rules at the top
/// of this file: the one computation for quotes and for every other invoice line (prorated
/// changes, say). A negative amount, a credit, mirrors the positive one.
pub fn taxed(tax: &TaxContext, amount: i64) -> Taxed {
    if amount < 0 {
        let t = taxed(tax, amount.saturating_neg());
        return Taxed { taxes: t.taxes.into_iter().map(|(i, v)| (i, -v)).collect(), tax_minor: -t.tax_minor, total_minor: -t.total_minor };
    }
    let taxes = line_tax(tax, amount);
    let tax_minor: i64 = taxes.iter().map(|(_, t)| t).sum();
    let total_minor = if tax.inclusive {
        if tax.exempt || tax.reverse_charge {
            // Listed prices hold tax this buyer does not owe: they pay the net.
            amount - inclusive_tax_share(tax, amount)
        } else {
            amount
        }
    } else {
        amount + tax_minor
    };
    Taxed { taxes, tax_minor, total_minor }
}

/// For an exempt buyer under tax-inclusive prices: the tax the listed gross holds.
fn inclusive_tax_share(tax: &TaxContext, gross: i64) -> i64 {
    let charged = TaxContext { exempt: false, reverse_charge: false, ..tax.clone() };
    line_tax(&charged, gross).iter().map(|(_, t)| t).sum()
}

impl PromoRule {
    /// Whether the payments after the first are discounted too.
    pub fn discounts_renewals(&self) -> bool {
        match self.duration {
            PromoDuration::Once => false,
            PromoDuration::Repeating => self.duration_cycles.unwrap_or(1) > 1,
            PromoDuration::Forever => true,
        }
    }
}

/// Whether the promo applies to this line's product and cycle.
pub fn applies(promo: &PromoRule, line: &CartLine) -> bool {
    (promo.product_ids.is_empty() || promo.product_ids.contains(&line.product_id))
        && (promo.cycles.is_empty() || promo.cycles.contains(&line.cycle))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cart::{DomainAction, DomainChoice, OptionChoice};
    use crate::catalog::{Addon, ConfigOption, OptionValue, Product, ProductType};
    use crate::ids::{OptionId, OptionValueId};
    use crate::money::CurrencyInfo;
    use proptest::prelude::*;

    fn id(n: u32) -> String {
        format!("00000000-0000-7000-8000-{n:012}")
    }

    fn price(cycle: BillingCycle, amount_minor: i64, setup_fee_minor: i64) -> Price {
        Price { cycle, currency: Currency::USD, amount_minor, setup_fee_minor, renewal_minor: None }
    }

    fn info(code: Currency, rate_micros: i64, is_default: bool) -> CurrencyInfo {
        CurrencyInfo { code, exponent: code.exponent(), symbol: code.symbol().into(), rate_micros, is_default }
    }

    /// A VPS with RAM (dropdown), extra disk (quantity 0..500 step 50) and managed support
    /// (yes/no), two add-ons; a shared plan that needs a domain; USD default, EUR at 0.92.
    fn catalog(vps_monthly: i64, ram: i64, disk_unit: i64, support: i64, backups: i64, ip_setup: i64) -> Catalog {
        let m = BillingCycle::Monthly;
        let vps = Product {
            id: id(1).into(),
            slug: "vps".into(),
            name: "VPS".into(),
            product_type: ProductType::Vps,
            group_id: None,
            description: String::new(),
            features: vec![],
            featured: false,
            hidden: false,
            requires_domain: false,
            in_stock: true,
            prices: vec![
                price(m, vps_monthly, 0),
                Price { renewal_minor: Some(vps_monthly * 2), ..price(BillingCycle::Annually, vps_monthly * 10, 500) },
            ],
            options: vec![
                ConfigOption {
                    id: id(10).into(),
                    name: "RAM".into(),
                    kind: OptionKind::Dropdown,
                    values: vec![
                        OptionValue { id: id(11).into(), label: "4 GB".into(), prices: vec![] },
                        OptionValue { id: id(12).into(), label: "8 GB".into(), prices: vec![price(m, ram, 0)] },
                    ],
                    min: 0,
                    max: 0,
                    step: 1,
                    unit: String::new(),
                },
                ConfigOption {
                    id: id(20).into(),
                    name: "Extra disk".into(),
                    kind: OptionKind::Quantity,
                    values: vec![OptionValue { id: id(21).into(), label: "per GB".into(), prices: vec![price(m, disk_unit, 0)] }],
                    min: 0,
                    max: 500,
                    step: 50,
                    unit: "GB".into(),
                },
                ConfigOption {
                    id: id(30).into(),
                    name: "Managed support".into(),
                    kind: OptionKind::YesNo,
                    values: vec![OptionValue { id: id(31).into(), label: "Yes".into(), prices: vec![price(m, support, 0)] }],
                    min: 0,
                    max: 0,
                    step: 1,
                    unit: String::new(),
                },
            ],
            addon_ids: vec![id(40).into(), id(41).into()],
        };
        let shared = Product {
            id: id(2).into(),
            slug: "shared".into(),
            name: "Shared".into(),
            requires_domain: true,
            options: vec![],
            addon_ids: vec![id(40).into()],
            prices: vec![price(m, 499, 0)],
            ..vps.clone()
        };
        Catalog {
            default_currency: Currency::USD,
            currencies: vec![info(Currency::USD, 1_000_000, true), info(Currency::EUR, 920_000, false)],
            convert_missing_prices: true,
            tax_inclusive: false,
            groups: vec![],
            products: vec![vps, shared],
            addons: vec![
                Addon {
                    id: id(40).into(),
                    slug: "backups".into(),
                    name: "Backups".into(),
                    description: String::new(),
                    prices: vec![price(m, backups, 0)],
                },
                Addon {
                    id: id(41).into(),
                    slug: "ip".into(),
                    name: "IP".into(),
                    description: String::new(),
                    prices: vec![price(m, 300, ip_setup)],
                },
            ],
        }
    }

    fn vps_line(ram8: bool, disk: i64, support: bool, addons: &[u32], quantity: u32) -> CartLine {
        CartLine {
            product_id: id(1).into(),
            cycle: BillingCycle::Monthly,
            quantity,
            options: vec![
                OptionChoice { option_id: id(10).into(), value_id: Some(if ram8 { id(12) } else { id(11) }.into()), quantity: None },
                OptionChoice { option_id: id(20).into(), value_id: None, quantity: Some(disk) },
                OptionChoice { option_id: id(30).into(), value_id: None, quantity: Some(i64::from(support)) },
            ],
            addon_ids: addons.iter().map(|n| id(*n).into()).collect(),
            domain: None,
        }
    }

    fn request(lines: Vec<CartLine>) -> QuoteRequest {
        QuoteRequest { currency: None, lines, promo_codes: Vec::new(), country: None, state: None, vat_id: None }
    }

    fn vat(rate_bp: u32) -> TaxContext {
        TaxContext { rules: vec![TaxRule { name: "VAT".into(), rate_bp, level: 1, compound: false }], ..TaxContext::default() }
    }

    fn percent(bp: i64, duration: PromoDuration) -> PromoRule {
        PromoRule {
            code: "P".into(),
            kind: PromoKind::Percent,
            value: bp,
            currency: None,
            duration,
            duration_cycles: None,
            product_ids: vec![],
            cycles: vec![],
            addon_ids: vec![],
            min_order_minor: None,
            stackable: false,
        }
    }

    #[test]
    fn a_configured_vps_adds_options_and_addons_per_unit() {
        let cat = catalog(1999, 1000, 5, 1500, 299, 500);
        let line = vps_line(true, 100, true, &[40, 41], 2);
        let p = price_line(&cat, &line, Currency::USD, "lines[0]").expect("priced");
        // 1999 + 1000 + 100 × 5 + 1500 + 299 + 300, and the IP's setup fee.
        assert_eq!(p.amount_minor, 5598);
        assert_eq!(p.setup_fee_minor, 500);
        assert_eq!(p.subtotal_minor, (5598 + 500) * 2);
        assert_eq!(
            p.items.iter().map(|i| i.description.as_str()).collect::<Vec<_>>(),
            ["VPS", "RAM: 8 GB", "Extra disk: 100 GB", "Managed support", "Backups", "IP"]
        );
    }

    #[test]
    fn defaults_apply_to_options_not_chosen() {
        let cat = catalog(1999, 1000, 5, 1500, 299, 500);
        let line = CartLine { options: vec![], addon_ids: vec![], ..vps_line(false, 0, false, &[], 1) };
        let p = price_line(&cat, &line, Currency::USD, "lines[0]").expect("priced");
        assert_eq!(p.amount_minor, 1999, "first RAM value, no extra disk, no support");
    }

    #[test]
    fn every_problem_of_a_line_is_named() {
        let cat = catalog(1999, 1000, 5, 1500, 299, 500);
        let mut line = vps_line(true, 75, true, &[40, 40], 1);
        line.options[2].quantity = Some(2);
        line.options.push(OptionChoice { option_id: OptionId::from(id(99)), value_id: None, quantity: None });
        line.options[0].value_id = Some(OptionValueId::from(id(98)));
        let p = price_line(&cat, &line, Currency::USD, "lines[3]").expect_err("problems");
        let fields: Vec<&str> = p.keys().map(String::as_str).collect();
        assert_eq!(
            fields,
            [
                "lines[3].addon_ids[1]",
                "lines[3].options[0].value_id",
                "lines[3].options[1].quantity",
                "lines[3].options[2].quantity",
                "lines[3].options[3].option_id"
            ]
        );
        let shared = CartLine { product_id: id(2).into(), ..vps_line(false, 0, false, &[41], 1) };
        let p = price_line(&cat, &CartLine { options: vec![], ..shared }, Currency::USD, "lines[0]").expect_err("problems");
        assert!(p.contains_key("lines[0].domain") && p.contains_key("lines[0].addon_ids[0]"), "{p:?}");
        let fine = CartLine {
            product_id: id(2).into(),
            options: vec![],
            addon_ids: vec![],
            domain: Some(DomainChoice { action: DomainAction::Register, name: "example.com".into() }),
            ..vps_line(false, 0, false, &[], 1)
        };
        assert!(price_line(&cat, &fine, Currency::USD, "lines[0]").is_ok());
        let yearly = CartLine { cycle: BillingCycle::Quarterly, ..fine };
        assert!(price_line(&cat, &yearly, Currency::USD, "lines[0]").expect_err("not offered").contains_key("lines[0].cycle"));
    }

    #[test]
    fn renewal_prices_show_beside_the_first_term() {
        let cat = catalog(1000, 0, 0, 0, 0, 0);
        let line = CartLine { cycle: BillingCycle::Annually, options: vec![], addon_ids: vec![], ..vps_line(false, 0, false, &[], 1) };
        let q = quote(&cat, &request(vec![line]), Currency::USD, &[], &TaxContext::default()).expect("quote");
        assert_eq!((q.lines[0].subtotal_minor, q.lines[0].renewal_minor), (10_000 + 500, 2000));
    }

    #[test]
    fn missing_prices_convert_at_the_rate_rounding_half_away_from_zero() {
        let cat = catalog(1999, 1000, 5, 1500, 299, 500);
        let q = quote(&cat, &request(vec![vps_line(true, 0, false, &[], 1)]), Currency::EUR, &[], &TaxContext::default()).expect("quote");
        // 19.99 × 0.92 = 18.3908 → 18.39; 10.00 × 0.92 = 9.20.
        assert_eq!(q.total_minor, 1839 + 920);
        let no_convert = Catalog { convert_missing_prices: false, ..cat.clone() };
        assert!(quote(&no_convert, &request(vec![vps_line(true, 0, false, &[], 1)]), Currency::EUR, &[], &TaxContext::default()).is_err());
        assert!(quote(&cat, &request(vec![vps_line(true, 0, false, &[], 1)]), Currency::GBP, &[], &TaxContext::default()).is_err());
    }

    #[test]
    fn tax_is_rounded_per_line_and_summed() {
        let cat = catalog(1001, 0, 0, 0, 0, 0);
        let line = CartLine { options: vec![], addon_ids: vec![], ..vps_line(false, 0, false, &[], 1) };
        let q = quote(&cat, &request(vec![line.clone(), line.clone(), line]), Currency::USD, &[], &vat(1900)).expect("quote");
        // 10.01 × 19 % = 1.9019 → 1.90 per line; the total is 3 × 1.90, not 19 % of 30.03 (5.71).
        assert_eq!(q.lines.iter().map(|l| l.tax_minor).collect::<Vec<_>>(), [190, 190, 190]);
        assert_eq!((q.tax_minor, q.total_minor), (570, 3003 + 570));
        assert_eq!(q.tax_lines, vec![TaxLine { name: "VAT".into(), rate_bp: 1900, amount_minor: 570 }]);
    }

    #[test]
    fn a_compound_second_level_taxes_the_first() {
        let cat = catalog(10_000, 0, 0, 0, 0, 0);
        let line = CartLine { options: vec![], addon_ids: vec![], ..vps_line(false, 0, false, &[], 1) };
        let two = |compound| TaxContext {
            rules: vec![
                TaxRule { name: "GST".into(), rate_bp: 500, level: 1, compound: false },
                TaxRule { name: "QST".into(), rate_bp: 1000, level: 2, compound },
            ],
            ..TaxContext::default()
        };
        let q = quote(&cat, &request(vec![line.clone()]), Currency::USD, &[], &two(false)).expect("quote");
        assert_eq!(q.tax_minor, 500 + 1000);
        let q = quote(&cat, &request(vec![line.clone()]), Currency::USD, &[], &two(true)).expect("quote");
        assert_eq!(q.tax_minor, 500 + 1050);
        // Inclusive: the listed 100.00 holds both taxes; net 100 / 1.155 = 86.58.
        let q = quote(&cat, &request(vec![line]), Currency::USD, &[], &TaxContext { inclusive: true, ..two(true) }).expect("quote");
        assert_eq!(q.total_minor, 10_000);
        assert_eq!(q.tax_minor, 10_000 - 8658);
    }

    #[test]
    fn exempt_and_reverse_charge_pay_no_tax_and_the_net_of_inclusive_prices() {
        let cat = catalog(11_900, 0, 0, 0, 0, 0);
        let line = CartLine { options: vec![], addon_ids: vec![], ..vps_line(false, 0, false, &[], 1) };
        let q = quote(&cat, &request(vec![line.clone()]), Currency::USD, &[], &TaxContext { reverse_charge: true, ..vat(1900) })
            .expect("quote");
        assert_eq!((q.tax_minor, q.total_minor, q.reverse_charge), (0, 11_900, true));
        assert!(q.tax_lines.is_empty());
        let q = quote(&cat, &request(vec![line]), Currency::USD, &[], &TaxContext { exempt: true, inclusive: true, ..vat(1900) })
            .expect("quote");
        assert_eq!((q.tax_minor, q.total_minor), (0, 10_000));
    }

    #[test]
    fn promos_discount_what_they_apply_to() {
        let cat = catalog(2000, 1000, 5, 0, 300, 0);
        let line = vps_line(true, 0, false, &[40], 1);
        let q = quote(
            &cat,
            &request(vec![line.clone()]),
            Currency::USD,
            std::slice::from_ref(&percent(1000, PromoDuration::Once)),
            &TaxContext::default(),
        )
        .expect("quote");
        assert_eq!(q.discount_minor, 300, "10 % of product and options; the add-on is not listed");
        assert_eq!(q.lines[0].renewal_minor, 3300, "once: renewals are not discounted");
        let with_addon = PromoRule { addon_ids: vec![id(40).into()], ..percent(1000, PromoDuration::Forever) };
        let q = quote(&cat, &request(vec![line.clone()]), Currency::USD, std::slice::from_ref(&with_addon), &TaxContext::default())
            .expect("quote");
        assert_eq!((q.discount_minor, q.lines[0].renewal_minor), (330, 3300 - 330));
        let fixed = PromoRule { kind: PromoKind::Fixed, value: 10_000, ..percent(0, PromoDuration::Once) };
        let q =
            quote(&cat, &request(vec![line.clone()]), Currency::USD, std::slice::from_ref(&fixed), &TaxContext::default()).expect("quote");
        assert_eq!((q.discount_minor, q.total_minor), (3000, 300), "a fixed amount never exceeds what it discounts");
        let other = PromoRule { product_ids: vec![id(2).into()], ..percent(1000, PromoDuration::Once) };
        let p = quote(&cat, &request(vec![line.clone()]), Currency::USD, std::slice::from_ref(&other), &TaxContext::default())
            .expect_err("inapplicable");
        assert!(p.contains_key("promo_codes"));
        let min = PromoRule { min_order_minor: Some(5000), ..percent(1000, PromoDuration::Once) };
        let p = quote(&cat, &request(vec![line]), Currency::USD, std::slice::from_ref(&min), &TaxContext::default())
            .expect_err("below the minimum");
        assert_eq!(p["promo_codes"], vec!["P needs an order of at least $50.00".to_string()]);
    }

    #[test]
    fn stackable_promos_take_from_what_the_ones_before_left() {
        let cat = catalog(1999, 1000, 5, 1500, 299, 500);
        let line = vps_line(true, 0, false, &[], 1);
        let ten = |code: &str| PromoRule { code: code.into(), stackable: true, ..percent(1000, PromoDuration::Once) };
        let base = quote(&cat, &request(vec![line.clone()]), Currency::USD, &[], &TaxContext::default()).expect("quote").subtotal_minor;
        let q = quote(&cat, &request(vec![line.clone()]), Currency::USD, &[ten("A"), ten("B")], &TaxContext::default()).expect("quote");
        // Each item: 10 %, then 10 % of what is left (half away from zero).
        let tenth = |n: i64| (n + 5) / 10;
        let want: i64 = [1999i64, 1000].iter().map(|a| tenth(*a) + tenth(a - tenth(*a))).sum();
        assert_eq!(base, 2999);
        assert_eq!((q.discount_minor, q.promo_codes.clone()), (want, vec!["A".to_string(), "B".to_string()]));
        let all = PromoRule { kind: PromoKind::Fixed, value: 1_000_000, ..ten("C") };
        let q = quote(&cat, &request(vec![line.clone()]), Currency::USD, &[ten("A"), all.clone(), ten("B")], &TaxContext::default())
            .expect("quote");
        assert_eq!((q.discount_minor, q.total_minor), (base, 0), "together never more than the line");
        let alone = percent(1000, PromoDuration::Once);
        let p = quote(&cat, &request(vec![line]), Currency::USD, &[ten("A"), alone], &TaxContext::default()).expect_err("not stackable");
        assert_eq!(p["promo_codes"], vec!["P cannot be combined with other codes".to_string()]);
    }

    fn cart() -> impl Strategy<Value = Vec<CartLine>> {
        let line = (any::<bool>(), 0i64..=10, any::<bool>(), prop::sample::subsequence(vec![40u32, 41], 0..=2), 1u32..=5)
            .prop_map(|(ram8, disk, support, addons, qty)| vps_line(ram8, disk * 50, support, &addons, qty));
        prop::collection::vec(line, 1..10)
    }

    fn promo() -> impl Strategy<Value = Option<PromoRule>> {
        prop_oneof![
            Just(None),
            (1i64..=10_000, any::<bool>()).prop_map(|(v, forever)| Some(PromoRule {
                addon_ids: vec![id(40).into()],
                ..percent(v, if forever { PromoDuration::Forever } else { PromoDuration::Once })
            })),
            (1i64..=100_000).prop_map(|v| Some(PromoRule { kind: PromoKind::Fixed, value: v, ..percent(0, PromoDuration::Forever) })),
        ]
    }

    proptest! {
        #[test]
        fn totals_add_up_and_are_never_negative(
            prices in (0i64..100_000, 0i64..50_000, 0i64..100, 0i64..10_000, 0i64..5_000, 0i64..5_000),
            lines in cart(),
            promo in promo(),
            rates in prop::collection::vec(0u32..=3000, 0..3),
            inclusive in any::<bool>(),
            exempt in any::<bool>(),
        ) {
            let cat = catalog(prices.0, prices.1, prices.2, prices.3, prices.4, prices.5);
            let rules = rates.iter().enumerate().map(|(i, r)| TaxRule { name: format!("T{i}"), rate_bp: *r, level: if i == 2 { 2 } else { 1 }, compound: i == 2 }).collect();
            let tax = TaxContext { rules, inclusive, exempt, reverse_charge: false };
            let q = quote(&cat, &request(lines), Currency::USD, promo.as_slice(), &tax);
            let q = match q {
                Ok(q) => q,
                // Only a promo may be refused (nothing in the cart it applies to is impossible here).
                Err(p) => { prop_assert!(p.keys().all(|k| k == "promo_codes"), "{:?}", p); return Ok(()); }
            };
            for l in &q.lines {
                prop_assert!(l.discount_minor >= 0 && l.discount_minor <= l.subtotal_minor);
                prop_assert!(l.tax_minor >= 0 && l.total_minor >= 0 && l.renewal_minor >= 0);
                if inclusive {
                    let expected = if exempt { l.subtotal_minor - l.discount_minor - l.total_minor >= 0 } else { l.total_minor == l.subtotal_minor - l.discount_minor };
                    prop_assert!(expected);
                    prop_assert!(l.tax_minor <= l.total_minor);
                } else {
                    prop_assert_eq!(l.total_minor, l.subtotal_minor - l.discount_minor + l.tax_minor);
                }
                if exempt { prop_assert_eq!(l.tax_minor, 0); }
            }
            prop_assert_eq!(q.subtotal_minor, q.lines.iter().map(|l| l.subtotal_minor).sum::<i64>());
            prop_assert_eq!(q.discount_minor, q.lines.iter().map(|l| l.discount_minor).sum::<i64>());
            prop_assert_eq!(q.tax_minor, q.lines.iter().map(|l| l.tax_minor).sum::<i64>());
            prop_assert_eq!(q.total_minor, q.lines.iter().map(|l| l.total_minor).sum::<i64>());
            prop_assert_eq!(q.tax_minor, q.tax_lines.iter().map(|t| t.amount_minor).sum::<i64>());
            prop_assert!(q.total_minor >= 0);
        }

        #[test]
        fn per_line_tax_is_within_half_a_unit_per_line_of_the_exact_tax(amount in 0i64..1_000_000_000, rate in 0u32..=10_000) {
            let t = line_tax(&vat(rate), amount);
            let exact = i128::from(amount) * i128::from(rate);
            let got = i128::from(t.first().map_or(0, |x| x.1)) * 10_000;
            prop_assert!((got - exact).abs() <= 5_000);
        }

        #[test]
        fn inclusive_tax_plus_net_is_the_gross(amount in 0i64..1_000_000_000, r1 in 0u32..=5000, r2 in 0u32..=5000, compound in any::<bool>()) {
            let tax = TaxContext {
                rules: vec![TaxRule { name: "A".into(), rate_bp: r1, level: 1, compound: false }, TaxRule { name: "B".into(), rate_bp: r2, level: 2, compound }],
                inclusive: true,
                ..TaxContext::default()
            };
            let total: i64 = line_tax(&tax, amount).iter().map(|x| x.1).sum();
            prop_assert!(total >= 0 && total <= amount);
        }
    }
}
