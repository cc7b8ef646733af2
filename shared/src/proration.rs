//! Changing a service's plan, options or add-ons in the middle of a paid period: what the change
//! costs. One function, [`prorate`], run by the API for the quote the portal shows before the
//! client confirms and again when they confirm, so the amount shown is the amount invoiced.
//!
//! The rule, written once here:
//! - **Calendar days of the current period.** The period runs from the last due date up to (not
//!   including) the next one. The days remaining count the day of the change: a change on the
//!   period's first day has the whole period remaining, one on its last day one day.
//! - **Per item.** Every item of the old price (the plan, each configurable option, each add-on)
//!   gets a credit line of `price × days remaining ÷ days in period`, and every item of the new
//!   price a charge line of the same, each rounded half up in the currency's minor units. An
//!   item that costs nothing gets no line.
//! - **A credit never exceeds what was paid for the period**: at most the unused share of what
//!   the client paid (`paid × days remaining ÷ days in period`, rounded the same way), so a
//!   service bought with a 100 % promo earns no credit. When the cap bites, the credit lines are
//!   lowered from the last one up.
//! - **Never a negative charge.** The net (charges less credits) is invoiced when positive; when
//!   negative it is the client's: account credit, or the change waits for the renewal (a billing
//!   setting). The next due date never changes.
//! - Prices here are before tax; tax is added to the net by the invoice, as for any line.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::catalog::BillingCycle;
use crate::money::div_round_half_away;
use crate::provisioning::due_date;

/// One item of a service's recurring price per period, before tax.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PriceItem {
    pub description: String,
    pub amount_minor: i64,
}

/// One line of a proration: a credit (negative) for an old item or a charge for a new one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProratedLine {
    pub description: String,
    /// Negative for a credit.
    pub amount_minor: i64,
}

/// What a change costs for the rest of the current period, before tax.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Proration {
    /// The current period's first day (the last due date).
    pub period_from: NaiveDate,
    /// The next due date: the day after the period's last day. It does not change.
    pub period_to: NaiveDate,
    /// The day of the change.
    pub change_on: NaiveDate,
    /// Days from the change to the next due date, the change day included.
    pub days_remaining: u32,
    pub days_in_period: u32,
    /// Credit lines for the old items, then charge lines for the new ones.
    pub lines: Vec<ProratedLine>,
    /// The sum of the credit lines, as a positive amount.
    pub credit_minor: i64,
    /// The sum of the charge lines.
    pub charge_minor: i64,
    /// `charge − credit`: invoiced when positive, the client's when negative.
    pub net_minor: i64,
}

/// The current period of a service anchored on `anchor` whose next due date is `next_due`: from
/// the last due date before `next_due` (counted from the anchor, as every due date is) to
/// `next_due`. `None` for one-time services or a next due date not after the anchor.
pub fn current_period(anchor: NaiveDate, cycle: BillingCycle, next_due: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
    if !cycle.is_recurring() || next_due <= anchor {
        return None;
    }
    let mut from = anchor;
    for n in 1..=12_000u32 {
        let d = due_date(anchor, cycle, n)?;
        if d >= next_due {
            return Some((from, next_due));
        }
        from = d;
    }
    None
}

/// `amount × num ÷ den`, rounded half up (amounts here are never negative).
fn share(amount: i64, num: u32, den: u32) -> i64 {
    i64::try_from(div_round_half_away(i128::from(amount) * i128::from(num), i128::from(den))).unwrap_or(i64::MAX)
}

/// What changing from the `old` items to the `new` ones on `change_on` costs for the rest of the
/// period `[period_from, period_to)`, given that `paid_minor` was paid for the whole period
/// (see the module's rule). `None` when the change day is outside the period, or an amount is
/// negative.
pub fn prorate(
    period_from: NaiveDate,
    period_to: NaiveDate,
    change_on: NaiveDate,
    old: &[PriceItem],
    new: &[PriceItem],
    paid_minor: i64,
) -> Option<Proration> {
    if change_on < period_from || change_on >= period_to || paid_minor < 0 {
        return None;
    }
    if old.iter().chain(new).any(|i| i.amount_minor < 0) {
        return None;
    }
    let days_in_period = u32::try_from((period_to - period_from).num_days()).ok()?;
    let days_remaining = u32::try_from((period_to - change_on).num_days()).ok()?;
    let mut credits: Vec<ProratedLine> = old
        .iter()
        .filter(|i| i.amount_minor > 0)
        .map(|i| ProratedLine { description: i.description.clone(), amount_minor: share(i.amount_minor, days_remaining, days_in_period) })
        .collect();
    // The cap: never more back than the unused share of what was paid.
    let cap = share(paid_minor, days_remaining, days_in_period);
    let mut over = credits.iter().map(|l| l.amount_minor).sum::<i64>() - cap;
    for line in credits.iter_mut().rev() {
        if over <= 0 {
            break;
        }
        let take = over.min(line.amount_minor);
        line.amount_minor -= take;
        over -= take;
    }
    credits.retain(|l| l.amount_minor > 0);
    let credit_minor: i64 = credits.iter().map(|l| l.amount_minor).sum();
    let charges: Vec<ProratedLine> = new
        .iter()
        .filter(|i| i.amount_minor > 0)
        .map(|i| ProratedLine { description: i.description.clone(), amount_minor: share(i.amount_minor, days_remaining, days_in_period) })
        .collect();
    let charge_minor: i64 = charges.iter().map(|l| l.amount_minor).sum();
    let lines = credits
        .into_iter()
        .map(|l| ProratedLine { description: format!("Credit: {}", l.description), amount_minor: -l.amount_minor })
        .chain(charges)
        .collect();
    Some(Proration {
        period_from,
        period_to,
        change_on,
        days_remaining,
        days_in_period,
        lines,
        credit_minor,
        charge_minor,
        net_minor: charge_minor.checked_sub(credit_minor)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn items(list: &[(&str, i64)]) -> Vec<PriceItem> {
        list.iter().map(|(d, a)| PriceItem { description: d.to_string(), amount_minor: *a }).collect()
    }

    /// (period from, to, change day, old items, new items, paid) → (days remaining, days, lines, net).
    #[test]
    fn the_proration_table() {
        type Row = (
            (i32, u32, u32),
            (i32, u32, u32),
            (i32, u32, u32),
            Vec<(&'static str, i64)>,
            Vec<(&'static str, i64)>,
            i64,
            u32,
            u32,
            Vec<i64>,
            i64,
        );
        let rows: Vec<Row> = vec![
            // First day of a 30-day period: the whole period, every item in full.
            (
                (2026, 11, 1),
                (2026, 12, 1),
                (2026, 11, 1),
                vec![("Basic", 1000)],
                vec![("Pro", 2500)],
                1000,
                30,
                30,
                vec![-1000, 2500],
                1500,
            ),
            // Last day: one day of thirty.
            ((2026, 11, 1), (2026, 12, 1), (2026, 11, 30), vec![("Basic", 1000)], vec![("Pro", 2500)], 1000, 1, 30, vec![-33, 83], 50),
            // Half way through: 15 of 30 days; 33.33… rounds down, 83.33… down, 1666.5 up.
            (
                (2026, 11, 1),
                (2026, 12, 1),
                (2026, 11, 16),
                vec![("Basic", 1000)],
                vec![("Pro", 3333)],
                1000,
                15,
                30,
                vec![-500, 1667],
                1167,
            ),
            // February: 28 days; a change on the 15th leaves 14.
            ((2026, 2, 1), (2026, 3, 1), (2026, 2, 15), vec![("Basic", 999)], vec![("Pro", 1999)], 999, 14, 28, vec![-500, 1000], 500),
            // Leap February: 29 days, 15 left; 999 × 15 / 29 = 516.7 → 517.
            ((2028, 2, 1), (2028, 3, 1), (2028, 2, 15), vec![("Basic", 999)], vec![("Pro", 1999)], 999, 15, 29, vec![-517, 1034], 517),
            // Per item: plan, an option and an add-on each get their own credit and charge.
            (
                (2026, 1, 31),
                (2026, 2, 28),
                (2026, 2, 14),
                vec![("Plan", 1000), ("Disk: 10 GB", 300), ("Backups", 199)],
                vec![("Plan", 1000), ("Disk: 50 GB", 900)],
                1499,
                14,
                28,
                vec![-500, -150, -100, 500, 450],
                200,
            ),
            // A downgrade: a negative net (the client's, never a negative charge on an invoice).
            (
                (2026, 11, 1),
                (2026, 12, 1),
                (2026, 11, 11),
                vec![("Pro", 3000)],
                vec![("Basic", 900)],
                3000,
                20,
                30,
                vec![-2000, 600],
                -1400,
            ),
            // A 100 % promo: nothing was paid, so nothing is credited.
            ((2026, 11, 1), (2026, 12, 1), (2026, 11, 11), vec![("Basic", 1000)], vec![("Pro", 2500)], 0, 20, 30, vec![1667], 1667),
            // A 50 % promo: the credit is at most half; the cap lowers the last credit line first.
            (
                (2026, 11, 1),
                (2026, 12, 1),
                (2026, 11, 1),
                vec![("Plan", 800), ("Backups", 200)],
                vec![("Pro", 2000)],
                500,
                30,
                30,
                vec![-500, 2000],
                1500,
            ),
            // A year: 365 days, 100 remaining.
            (
                (2026, 3, 1),
                (2027, 3, 1),
                (2026, 11, 21),
                vec![("Basic", 12000)],
                vec![("Pro", 24000)],
                12000,
                100,
                365,
                vec![-3288, 6575],
                3287,
            ),
            // Free items make no lines.
            (
                (2026, 11, 1),
                (2026, 12, 1),
                (2026, 11, 1),
                vec![("Basic", 1000), ("Free SSL", 0)],
                vec![("Basic", 1000)],
                1000,
                30,
                30,
                vec![-1000, 1000],
                0,
            ),
        ];
        for (i, (from, to, on, old, new, paid, left, days, lines, net)) in rows.into_iter().enumerate() {
            let p = prorate(d(from.0, from.1, from.2), d(to.0, to.1, to.2), d(on.0, on.1, on.2), &items(&old), &items(&new), paid)
                .unwrap_or_else(|| panic!("row {i}: no proration"));
            assert_eq!((p.days_remaining, p.days_in_period), (left, days), "row {i}: days");
            assert_eq!(p.lines.iter().map(|l| l.amount_minor).collect::<Vec<_>>(), lines, "row {i}: lines");
            assert_eq!(p.net_minor, net, "row {i}: net");
            assert_eq!(p.charge_minor - p.credit_minor, p.net_minor, "row {i}: the lines add up");
            assert_eq!(p.lines.iter().map(|l| l.amount_minor).sum::<i64>(), p.net_minor, "row {i}: the lines add up");
            assert!(p.credit_minor <= paid, "row {i}: a credit above what was paid");
        }
    }

    #[test]
    fn change_days_outside_the_period_or_negative_amounts_are_refused() {
        let old = items(&[("Basic", 1000)]);
        assert!(prorate(d(2026, 11, 1), d(2026, 12, 1), d(2026, 12, 1), &old, &old, 1000).is_none());
        assert!(prorate(d(2026, 11, 1), d(2026, 12, 1), d(2026, 10, 31), &old, &old, 1000).is_none());
        assert!(prorate(d(2026, 11, 1), d(2026, 12, 1), d(2026, 11, 5), &items(&[("x", -1)]), &old, 1000).is_none());
        assert!(prorate(d(2026, 11, 1), d(2026, 12, 1), d(2026, 11, 5), &old, &old, -1).is_none());
    }

    #[test]
    fn the_current_period_is_counted_from_the_anchor() {
        let m = BillingCycle::Monthly;
        assert_eq!(current_period(d(2026, 1, 31), m, d(2026, 2, 28)), Some((d(2026, 1, 31), d(2026, 2, 28))));
        assert_eq!(current_period(d(2026, 1, 31), m, d(2026, 3, 31)), Some((d(2026, 2, 28), d(2026, 3, 31))));
        assert_eq!(current_period(d(2026, 1, 31), m, d(2026, 4, 30)), Some((d(2026, 3, 31), d(2026, 4, 30))));
        assert_eq!(current_period(d(2028, 2, 29), BillingCycle::Annually, d(2029, 2, 28)), Some((d(2028, 2, 29), d(2029, 2, 28))));
        assert_eq!(current_period(d(2026, 1, 31), m, d(2026, 1, 31)), None);
        assert_eq!(current_period(d(2026, 1, 31), BillingCycle::OneTime, d(2026, 3, 1)), None);
    }
}
