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
//!   renewal shown.
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
        push(&mut p, format!("{at}.cycle"), format!("{} is not offered {} in {currency}", product.name, line.cycle.label().to_lowercase()));
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
            push(&mut p, field, format!("{} is not offered {} in {currency}", addon.name, line.cycle.label().to_lowercase()));
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

/// The promo's discount on one unit's `amount` (first cycle or renewal), at most `amount`.
fn unit_discount(promo: &PromoRule, fixed_in_currency: i64, amount: i64) -> i64 {
    let off = match promo.kind {
        PromoKind::Percent => {
            i64::try_from(div_round_half_away(i128::from(amount) * i128::from(promo.value.clamp(0, 10_000)), 10_000)).unwrap_or(amount)
        }
        PromoKind::Fixed => fixed_in_currency,
    };
    off.clamp(0, amount.max(0))
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
    let net: i128;
    if tax.inclusive {
        let s1: i128 = level1.iter().map(|(_, r)| rate(r)).sum();
        let s2c: i128 = level2.iter().filter(|(_, r)| r.compound).map(|(_, r)| rate(r)).sum();
        let s2n: i128 = level2.iter().filter(|(_, r)| !r.compound).map(|(_, r)| rate(r)).sum();
        // gross = net × ((1 + s1) × (1 + s2c) + s2n), in basis points squared.
        let factor = (10_000 + s1) * (10_000 + s2c) + s2n * 10_000;
        net = div_round_half_away(i128::from(amount) * 100_000_000, factor);
    } else {
        net = i128::from(amount);
    }
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

/// Prices a whole cart in `currency`: every line, the promo's discounts, the taxes and the
/// totals. Every problem of the cart is returned at once, keyed by field.
pub fn quote(
    catalog: &Catalog,
    req: &QuoteRequest,
    currency: Currency,
    promo: Option<&PromoRule>,
    tax: &TaxContext,
) -> Result<Quote, Problems> {
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

    // The promo: which lines it applies to, and its fixed amount in this currency.
    let default = catalog.currency(catalog.default_currency);
    let to = catalog.currency(currency);
    let mut fixed = 0i64;
    if let Some(promo) = promo {
        let eligible = req.lines.iter().any(|l| applies(promo, l));
        if !eligible {
            push(&mut problems, "promo_code".into(), format!("{} does not apply to anything in your cart", promo.code));
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
                    "promo_code".into(),
                    format!("{} needs an order of at least {}", promo.code, crate::money::Money::new(m, currency)),
                ),
                None => push(&mut problems, "promo_code".into(), format!("{} cannot be used in {currency}", promo.code)),
            }
        }
        if promo.kind == PromoKind::Fixed {
            let from = promo.currency.and_then(|c| catalog.currency(c)).or(default);
            match (from, to) {
                (Some(f), Some(t)) => fixed = crate::money::convert(promo.value, f, t).unwrap_or(0),
                _ => push(&mut problems, "promo_code".into(), format!("{} cannot be used in {currency}", promo.code)),
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
        if let Some(promo) = promo.filter(|p| applies(p, line)) {
            for (item, addon) in lp.items.iter().zip(&lp.item_addons) {
                let counts = match addon {
                    None => true,
                    Some(a) => promo.addon_ids.contains(a),
                };
                if counts {
                    discount += unit_discount(promo, fixed, item.amount_minor);
                    if promo.discounts_renewals() {
                        renewal_discount += unit_discount(promo, fixed, item.renewal_minor);
                    }
                }
            }
            if promo.kind == PromoKind::Fixed {
                // A fixed amount is per unit of the line, not per item.
                discount = discount.min(fixed).min(lp.amount_minor);
                renewal_discount = renewal_discount.min(fixed).min(lp.renewal_minor);
            }
        }
        let discount = discount.saturating_mul(qty).min(lp.subtotal_minor);
        let after = lp.subtotal_minor - discount;
        let taxes = line_tax(tax, after);
        let mut line_tax_total = 0i64;
        for (i, t) in &taxes {
            tax_sums[*i] += t;
            line_tax_total += t;
        }
        let total = if tax.inclusive {
            if tax.exempt || tax.reverse_charge {
                // Listed prices hold tax this buyer does not owe: they pay the net.
                after - inclusive_tax_share(tax, after)
            } else {
                after
            }
        } else {
            after + line_tax_total
        };
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
    let tax_lines = if tax.exempt || tax.reverse_charge {
        Vec::new()
    } else {
        tax.rules
            .iter()
            .zip(&tax_sums)
            .map(|(r, amount)| TaxLine { name: r.name.clone(), rate_bp: r.rate_bp, amount_minor: *amount })
            .collect()
    };
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
        promo_code: promo.map(|p| p.code.clone()),
    })
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
