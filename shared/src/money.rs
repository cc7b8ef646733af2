//! Money is an integer amount of minor units (cents) and an ISO-4217 currency. Never floats.
//!
//! Currencies are data, not a closed enum: [`Currency`] is any code of the ISO-4217 list below
//! (its minor-unit exponent and symbol are ISO facts: JPY has 0 decimals, KWD 3); which of them a
//! shop sells in, and at what exchange rate to its default currency, is the `currencies` table
//! (see [`CurrencyInfo`]). Converting a price uses [`convert`], whose rounding is written once
//! here: half away from zero, to the target currency's minor unit.

use serde::{Deserialize, Serialize};
use std::fmt;

/// ISO-4217 currencies Keel knows: (code, minor-unit exponent, symbol).
pub const ISO_4217: &[(&str, u32, &str)] = &[
    ("AED", 2, "AED "),
    ("ARS", 2, "AR$"),
    ("AUD", 2, "A$"),
    ("BGN", 2, "лв "),
    ("BHD", 3, "BD "),
    ("BRL", 2, "R$"),
    ("CAD", 2, "CA$"),
    ("CHF", 2, "CHF "),
    ("CLP", 0, "CLP$"),
    ("CNY", 2, "CN¥"),
    ("CZK", 2, "Kč "),
    ("DKK", 2, "kr "),
    ("EUR", 2, "€"),
    ("GBP", 2, "£"),
    ("HKD", 2, "HK$"),
    ("HUF", 2, "Ft "),
    ("IDR", 2, "Rp "),
    ("ILS", 2, "₪"),
    ("INR", 2, "₹"),
    ("ISK", 0, "kr "),
    ("JOD", 3, "JD "),
    ("JPY", 0, "¥"),
    ("KRW", 0, "₩"),
    ("KWD", 3, "KD "),
    ("MXN", 2, "MX$"),
    ("MYR", 2, "RM "),
    ("NGN", 2, "₦"),
    ("NOK", 2, "kr "),
    ("NZD", 2, "NZ$"),
    ("OMR", 3, "OMR "),
    ("PHP", 2, "₱"),
    ("PKR", 2, "Rs "),
    ("PLN", 2, "zł "),
    ("RON", 2, "lei "),
    ("SAR", 2, "SAR "),
    ("SEK", 2, "kr "),
    ("SGD", 2, "S$"),
    ("THB", 2, "฿"),
    ("TND", 3, "DT "),
    ("TRY", 2, "₺"),
    ("TWD", 2, "NT$"),
    ("UAH", 2, "₴"),
    ("USD", 2, "$"),
    ("VND", 0, "₫"),
    ("ZAR", 2, "R "),
];

/// An ISO-4217 currency code of [`ISO_4217`] (three upper-case letters). Serialised as `"USD"`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(u8);

impl Default for Currency {
    fn default() -> Self {
        Currency::USD
    }
}

impl Currency {
    pub const USD: Currency = Currency::known("USD");
    pub const EUR: Currency = Currency::known("EUR");
    pub const GBP: Currency = Currency::known("GBP");
    pub const INR: Currency = Currency::known("INR");
    pub const JPY: Currency = Currency::known("JPY");
    pub const KWD: Currency = Currency::known("KWD");

    /// Every currency of the ISO list, in code order.
    pub fn all() -> impl Iterator<Item = Currency> {
        (0..ISO_4217.len()).map(|i| Currency(i as u8))
    }

    const fn known(code: &str) -> Currency {
        let mut i = 0;
        while i < ISO_4217.len() {
            let c = ISO_4217[i].0.as_bytes();
            let b = code.as_bytes();
            if c[0] == b[0] && c[1] == b[1] && c[2] == b[2] {
                return Currency(i as u8);
            }
            i += 1;
        }
        panic!("not in ISO_4217")
    }

    pub fn code(self) -> &'static str {
        ISO_4217[self.0 as usize].0
    }

    pub fn symbol(self) -> &'static str {
        ISO_4217[self.0 as usize].2
    }

    /// Number of minor units in one major unit, as a power of ten (JPY 0, USD 2, KWD 3).
    pub fn exponent(self) -> u32 {
        ISO_4217[self.0 as usize].1
    }

    /// The currency with this code (any letter case), if Keel knows it.
    pub fn parse(code: &str) -> Option<Currency> {
        ISO_4217.iter().position(|(c, _, _)| c.eq_ignore_ascii_case(code)).map(|i| Currency(i as u8))
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(de)?;
        Currency::parse(&s).ok_or_else(|| serde::de::Error::custom("expected an ISO-4217 currency code Keel knows, such as USD"))
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Currency {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("ISO-4217 currency code"))
            .enum_values(Some(ISO_4217.iter().map(|(c, _, _)| *c)))
            .examples([serde_json::json!("USD")])
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Currency {}

/// A currency a shop sells in, as the `currencies` table holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrencyInfo {
    pub code: Currency,
    /// Minor-unit exponent (ISO-4217: JPY 0, USD 2, KWD 3).
    pub exponent: u32,
    pub symbol: String,
    /// Units of this currency one unit of the default currency buys, in millionths
    /// (`920000` = 0.92). The default currency's rate is 1,000,000.
    pub rate_micros: i64,
    /// The shop's default currency: prices are entered in it and others convert from it.
    pub is_default: bool,
}

/// `amount_minor` of `from` in `to`, at the shops's rates (each in millionths of the default
/// currency), rounded half away from zero to `to`'s minor unit. `None` on a non-positive rate or
/// when the result does not fit in an `i64`.
pub fn convert(amount_minor: i64, from: &CurrencyInfo, to: &CurrencyInfo) -> Option<i64> {
    if from.code == to.code {
        return Some(amount_minor);
    }
    if from.rate_micros <= 0 || to.rate_micros <= 0 {
        return None;
    }
    // amount / 10^exp_from / rate_from * rate_to * 10^exp_to, in integers.
    let num = i128::from(amount_minor).checked_mul(i128::from(to.rate_micros))?.checked_mul(10i128.checked_pow(to.code.exponent())?)?;
    let den = i128::from(from.rate_micros).checked_mul(10i128.checked_pow(from.code.exponent())?)?;
    i64::try_from(div_round_half_away(num, den)).ok()
}

/// `num / den` rounded half away from zero (`den` > 0). The one rounding rule of money in Keel.
pub fn div_round_half_away(num: i128, den: i128) -> i128 {
    let q = num / den;
    let r = num % den;
    if 2 * r.abs() >= den {
        q + num.signum()
    } else {
        q
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

    /// Formats as `$4.99`, `-€10.00`, `¥500`, `KD 1.250`.
    pub fn display(&self) -> String {
        let exponent = self.currency.exponent();
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let abs = self.amount_minor.unsigned_abs();
        if exponent == 0 {
            return format!("{sign}{}{abs}", self.currency.symbol());
        }
        let scale = 10u64.pow(exponent);
        let (major, minor) = (abs / scale, abs % scale);
        format!("{sign}{}{major}.{minor:0width$}", self.currency.symbol(), width = exponent as usize)
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
        assert_eq!(Money::new(499, Currency::USD).display(), "$4.99");
        assert_eq!(Money::new(99999, Currency::USD).display(), "$999.99");
        assert_eq!(Money::new(5, Currency::EUR).display(), "€0.05");
        assert_eq!(Money::new(-1000, Currency::GBP).display(), "-£10.00");
        assert_eq!(Money::new(i64::MIN, Currency::USD).display(), "-$92233720368547758.08");
        assert_eq!(Money::new(500, Currency::JPY).display(), "¥500");
        assert_eq!(Money::new(1250, Currency::KWD).display(), "KD 1.250");
    }

    #[test]
    fn adds_only_same_currency() {
        let a = Money::new(100, Currency::USD);
        assert_eq!(a.checked_add(Money::new(1, Currency::USD)), Some(Money::new(101, Currency::USD)));
        assert_eq!(a.checked_add(Money::new(1, Currency::EUR)), None);
        assert_eq!(Money::new(i64::MAX, Currency::USD).checked_add(Money::new(1, Currency::USD)), None);
    }

    #[test]
    fn parses_codes() {
        assert_eq!(Currency::parse("usd"), Some(Currency::USD));
        assert_eq!(Currency::parse("XXX"), None);
        assert_eq!(Currency::parse("US"), None);
        assert_eq!(serde_json::to_string(&Currency::EUR).ok().as_deref(), Some("\"EUR\""));
        assert_eq!(serde_json::from_str::<Currency>("\"JPY\"").ok(), Some(Currency::JPY));
        assert!(serde_json::from_str::<Currency>("\"ABC\"").is_err());
        for c in Currency::all() {
            assert_eq!(Currency::parse(c.code()), Some(c));
        }
        assert!(ISO_4217.windows(2).all(|w| w[0].0 < w[1].0), "the list stays sorted");
    }

    fn info(code: Currency, rate_micros: i64) -> CurrencyInfo {
        CurrencyInfo { code, exponent: code.exponent(), symbol: code.symbol().into(), rate_micros, is_default: false }
    }

    #[test]
    fn converts_between_exponents_rounding_half_away_from_zero() {
        let usd = info(Currency::USD, 1_000_000);
        let eur = info(Currency::EUR, 920_000);
        let jpy = info(Currency::JPY, 150_250_000);
        let kwd = info(Currency::KWD, 307_500);
        assert_eq!(convert(999, &usd, &usd), Some(999));
        assert_eq!(convert(999, &usd, &eur), Some(919)); // 9.1908 EUR
        assert_eq!(convert(1000, &usd, &eur), Some(920));
        assert_eq!(convert(999, &usd, &jpy), Some(1501)); // 1500.9975 JPY
        assert_eq!(convert(999, &usd, &kwd), Some(3072)); // 3.0719 KWD
        assert_eq!(convert(50, &usd, &info(Currency::USD, 1_000_000)), Some(50));
        assert_eq!(convert(-999, &usd, &eur), Some(-919));
        assert_eq!(convert(1, &eur, &usd), Some(1)); // 1.087 cents
        assert_eq!(convert(i64::MAX, &usd, &jpy), None);
        assert_eq!(convert(1, &usd, &info(Currency::EUR, 0)), None);
        assert_eq!(div_round_half_away(5, 2), 3);
        assert_eq!(div_round_half_away(-5, 2), -3);
        assert_eq!(div_round_half_away(4, 3), 1);
    }
}
