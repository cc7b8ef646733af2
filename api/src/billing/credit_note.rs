//! A credit note as a document (what `pdf.rs` and `ubl.rs` both print): the invoice it corrects,
//! whose frozen seller, buyer, currency and taxes it states, the refund it documents, and its
//! amount split into net and tax in the invoice's proportion.
//!
//! The split, in integer minor units: `tax = amount × invoice tax ÷ invoice total`, rounded half
//! up (amounts are positive, so half away from zero, Keel's one rounding rule), and
//! `net = amount − tax`. A reverse-charge or untaxed invoice's notes hold no tax.

use keel_shared::billing::{CreditNote, Invoice, Payment};
use keel_shared::money::div_round_half_away;

/// A credit note with what its documents say about it.
#[derive(Debug, Clone, Copy)]
pub struct Credited<'a> {
    pub invoice: &'a Invoice,
    pub note: &'a CreditNote,
    /// The refund (a negative payment on the invoice) the note documents, when it names one.
    pub refund: Option<&'a Payment>,
    /// The payment that refund gives back.
    pub refunded: Option<&'a Payment>,
    /// The amount less its tax.
    pub net_minor: i64,
    pub tax_minor: i64,
}

impl<'a> Credited<'a> {
    pub fn new(invoice: &'a Invoice, note: &'a CreditNote) -> Credited<'a> {
        let refund = note.payment_id.as_ref().and_then(|id| invoice.payments.iter().find(|p| p.id == *id));
        let refunded = refund.and_then(|r| r.refund_of.as_ref()).and_then(|id| invoice.payments.iter().find(|p| p.id == *id));
        let (net_minor, tax_minor) = split(note.amount_minor, invoice.tax_minor, invoice.total_minor);
        Credited { invoice, note, refund, refunded, net_minor, tax_minor }
    }

    /// The one line's text: "Refund: <reason>", or the payment given back when no reason was
    /// given.
    pub fn description(&self) -> String {
        let reason = self.note.reason.split_whitespace().collect::<Vec<_>>().join(" ");
        if !reason.is_empty() {
            return format!("Refund: {reason}");
        }
        match self.payment() {
            Some(p) => format!("Refund of {p}"),
            None => "Refund".to_string(),
        }
    }

    /// The payment the note gives money back on: "payment pi_… (Card (Stripe))".
    pub fn payment(&self) -> Option<String> {
        let p = self.refunded.or(self.refund)?;
        let reference = p.reference.trim();
        Some(if reference.is_empty() {
            format!("a payment by {}", p.gateway.label())
        } else {
            format!("payment {reference} ({})", p.gateway.label())
        })
    }
}

/// `amount` split into (net, tax) as an invoice of `total` holding `tax` splits: the tax is
/// `amount × tax ÷ total` rounded half up, the net the rest. Nothing to split by (a total of zero)
/// is all net.
pub fn split(amount: i64, tax: i64, total: i64) -> (i64, i64) {
    if total == 0 || tax == 0 {
        return (amount, 0);
    }
    let part = div_round_half_away(i128::from(amount) * i128::from(tax), i128::from(total));
    // |part| ≤ |amount| whenever |tax| ≤ |total|; anything else is clamped rather than wrapped.
    let part = i64::try_from(part).unwrap_or(if part > 0 { i64::MAX } else { i64::MIN });
    (amount.saturating_sub(part), part)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tax_is_the_invoices_share_rounded_half_up() {
        // 23.99 holding 4.00 of VAT: 5.00 back holds 0.8336… → 0.83.
        assert_eq!(split(500, 400, 2399), (417, 83));
        // Exactly half a cent rounds up: 1 × 1 / 2.
        assert_eq!(split(1, 1, 2), (0, 1));
        // All of it back: the invoice's own tax.
        assert_eq!(split(2399, 400, 2399), (1999, 400));
        // Reverse charge or untaxed: all net; a total of zero has nothing to split by.
        assert_eq!(split(500, 0, 2000), (500, 0));
        assert_eq!(split(500, 10, 0), (500, 0));
        // Large amounts do not overflow.
        assert_eq!(split(1_000_000_000_000, 200_000_000_000, 1_200_000_000_000), (833_333_333_333, 166_666_666_667));
    }
}
