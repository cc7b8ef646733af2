//! Amounts as people type and read them: major units ("19.99") turned into minor units with the
//! currency's exponent, and tax rates in percent ("9.97") as basis points, by integer arithmetic
//! on the decimal string, never through floats.

/// "19.99" with `exponent` 2 → 1999. Digits with at most `exponent` decimals; anything else
/// (a sign, letters, too many decimals, an overflow) is `None`.
pub fn parse_decimal(text: &str, exponent: u32) -> Option<i64> {
    let text = text.trim();
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || !digits(frac) || frac.len() > exponent as usize {
        return None;
    }
    let scale = 10i64.checked_pow(exponent)?;
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let frac_val: i64 = if frac.is_empty() { 0 } else { frac.parse().ok()? };
    let frac_scaled = frac_val.checked_mul(10i64.checked_pow(exponent - frac.len() as u32)?)?;
    whole.checked_mul(scale)?.checked_add(frac_scaled)
}

/// 1999 with `exponent` 2 → "19.99".
pub fn format_decimal(value: i64, exponent: u32) -> String {
    if exponent == 0 {
        return value.to_string();
    }
    let scale = 10i64.pow(exponent);
    let sign = if value < 0 { "-" } else { "" };
    let v = value.unsigned_abs();
    format!("{sign}{}.{:0width$}", v / scale as u64, v % scale as u64, width = exponent as usize)
}

/// A tax rate typed in percent ("20", "9.97", "7.5 %") → basis points (2000, 997, 750): at most
/// two decimals, 0 to 100 %; empty is 0.
pub fn parse_percent(text: &str) -> Option<u32> {
    let text = text.trim().trim_end_matches('%').trim();
    if text.is_empty() {
        return Some(0);
    }
    parse_decimal(text, 2).filter(|bp| *bp <= 10_000).and_then(|bp| u32::try_from(bp).ok())
}

/// Basis points as a percent without trailing zeros: 2000 → "20", 750 → "7.5", 997 → "9.97".
pub fn percent_text(bp: u32) -> String {
    let text = format_decimal(i64::from(bp), 2);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_become_minor_units_without_floats() {
        assert_eq!(parse_decimal("19.99", 2), Some(1999));
        assert_eq!(parse_decimal("24.9", 2), Some(2490));
        assert_eq!(parse_decimal("24", 2), Some(2400));
        assert_eq!(parse_decimal(".5", 2), Some(50));
        assert_eq!(parse_decimal("1500", 0), Some(1500));
        assert_eq!(parse_decimal("1.5", 0), None);
        assert_eq!(parse_decimal("1.234", 3), Some(1234));
        assert_eq!(parse_decimal("0.92", 6), Some(920_000));
        assert_eq!(parse_decimal("1.999", 2), None);
        assert_eq!(parse_decimal("-1", 2), None);
        assert_eq!(parse_decimal("abc", 2), None);
        assert_eq!(parse_decimal("", 2), None);
        assert_eq!(parse_decimal("99999999999999999999", 2), None);
        assert_eq!(format_decimal(1999, 2), "19.99");
        assert_eq!(format_decimal(5, 2), "0.05");
        assert_eq!(format_decimal(1500, 0), "1500");
    }

    #[test]
    fn percents_are_basis_points() {
        assert_eq!(parse_percent("20"), Some(2000));
        assert_eq!(parse_percent("9.97"), Some(997));
        assert_eq!(parse_percent(" 7.5 "), Some(750));
        assert_eq!(parse_percent("7.5 %"), Some(750));
        assert_eq!(parse_percent(""), Some(0));
        assert_eq!(parse_percent("100"), Some(10_000));
        assert_eq!(parse_percent("100.01"), None);
        assert_eq!(parse_percent("5.125"), None);
        assert_eq!(parse_percent("-5"), None);
        assert_eq!(percent_text(2000), "20");
        assert_eq!(percent_text(997), "9.97");
        assert_eq!(percent_text(750), "7.5");
        assert_eq!(percent_text(0), "0");
    }
}
