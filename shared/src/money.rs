//! Money is an integer amount of minor units (cents) and an ISO-4217 currency. Never floats.

use serde::{Deserialize, Serialize};
use std::fmt;

/// ISO-4217 currency code (three upper-case letters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    #[default]
    Usd,
    Eur,
    Gbp,
    Inr,
}

impl Currency {
    pub const ALL: [Currency; 4] = [Currency::Usd, Currency::Eur, Currency::Gbp, Currency::Inr];

    pub fn code(self) -> &'static str {
        match self {
            Currency::Usd => "USD",
            Currency::Eur => "EUR",
            Currency::Gbp => "GBP",
            Currency::Inr => "INR",
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Currency::Usd => "$",
            Currency::Eur => "€",
            Currency::Gbp => "£",
            Currency::Inr => "₹",
        }
    }

    /// Number of minor units in one major unit, as a power of ten.
    pub fn exponent(self) -> u32 {
        2
    }

    pub fn parse(code: &str) -> Option<Currency> {
        Currency::ALL.into_iter().find(|c| c.code().eq_ignore_ascii_case(code))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount of money in integer minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Money {
    /// Amount in minor units (cents): 499 is 4.99.
    pub amount_minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount_minor: i64, currency: Currency) -> Self {
        Money { amount_minor, currency }
    }

    /// `Some(sum)` when both are in the same currency and the sum does not overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        self.amount_minor.checked_add(other.amount_minor).map(|a| Money::new(a, self.currency))
    }

    /// Formats as `$4.99`, `-€10.00`.
    pub fn display(&self) -> String {
        let scale = 10i64.pow(self.currency.exponent());
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let abs = self.amount_minor.unsigned_abs();
        let major = abs / scale as u64;
        let minor = abs % scale as u64;
        format!("{sign}{}{major}.{minor:0width$}", self.currency.symbol(), width = self.currency.exponent() as usize)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_minor_units() {
        assert_eq!(Money::new(499, Currency::Usd).display(), "$4.99");
        assert_eq!(Money::new(99999, Currency::Usd).display(), "$999.99");
        assert_eq!(Money::new(5, Currency::Eur).display(), "€0.05");
        assert_eq!(Money::new(-1000, Currency::Gbp).display(), "-£10.00");
        assert_eq!(Money::new(i64::MIN, Currency::Usd).display(), "-$92233720368547758.08");
    }

    #[test]
    fn adds_only_same_currency() {
        let a = Money::new(100, Currency::Usd);
        assert_eq!(a.checked_add(Money::new(1, Currency::Usd)), Some(Money::new(101, Currency::Usd)));
        assert_eq!(a.checked_add(Money::new(1, Currency::Eur)), None);
        assert_eq!(Money::new(i64::MAX, Currency::Usd).checked_add(Money::new(1, Currency::Usd)), None);
    }

    #[test]
    fn parses_codes() {
        assert_eq!(Currency::parse("usd"), Some(Currency::Usd));
        assert_eq!(Currency::parse("XXX"), None);
        assert_eq!(serde_json::to_string(&Currency::Eur).ok().as_deref(), Some("\"EUR\""));
    }
}
