//! Exchange rates refreshed from the European Central Bank's daily reference rates
//! (`eurofxref-daily.xml`: `<Cube currency='USD' rate='1.0876'/>`, units per euro, published on
//! working days around 16:00 CET) when the commerce setting `refresh_rates` is on. The scheduled
//! task `commerce.refresh_rates` turns them into rates against the shop's default currency, in
//! millionths, with integer arithmetic only (rounded half away from zero), and writes them in one
//! transaction with an audit entry. Currencies the ECB does not list keep the rate an admin set.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use keel_shared::money::div_round_half_away;

/// Units of each currency per euro, in millionths (`USD` → 1_087_600), as published.
pub type PerEuro = Vec<(String, i64)>;

pub type Fetching<'a> = Pin<Box<dyn Future<Output = Result<PerEuro, String>> + Send + 'a>>;

/// Where reference rates come from.
pub trait RateSource: std::fmt::Debug + Send + Sync {
    fn fetch(&self) -> Fetching<'_>;
}

/// The ECB's daily reference rates over HTTP.
#[derive(Debug, Clone)]
pub struct Ecb {
    http: reqwest::Client,
    url: String,
}

/// Where the ECB publishes the day's rates.
pub const ECB_URL: &str = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml";

impl Ecb {
    pub fn new(url: &str) -> Result<Ecb, String> {
        let http = crate::outbound::client(Duration::from_secs(20))?;
        Ok(Ecb { http, url: url.to_string() })
    }
}

impl RateSource for Ecb {
    fn fetch(&self) -> Fetching<'_> {
        Box::pin(async move {
            let res = self.http.get(&self.url).send().await.map_err(|e| format!("ECB not reached: {e}"))?;
            let status = res.status();
            if !status.is_success() {
                return Err(format!("ECB answered HTTP {status}"));
            }
            let text = res.text().await.map_err(|e| format!("ECB answer: {e}"))?;
            parse_ecb(&text)
        })
    }
}

/// The `currency`/`rate` pairs of the ECB's XML (either quote style), EUR itself added at 1.
pub fn parse_ecb(xml: &str) -> Result<PerEuro, String> {
    let mut out = vec![("EUR".to_string(), 1_000_000)];
    for tag in xml.split('<').filter(|t| t.starts_with("Cube ") && t.contains("currency=")) {
        let (Some(code), Some(rate)) = (attribute(tag, "currency"), attribute(tag, "rate")) else {
            return Err(format!("a Cube element without currency and rate: <{}", tag.trim_end()));
        };
        let micros = decimal_micros(rate).ok_or_else(|| format!("{code}: '{rate}' is not a rate"))?;
        out.push((code.to_string(), micros));
    }
    if out.len() == 1 {
        return Err("the ECB answer holds no rates".into());
    }
    Ok(out)
}

fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!("{name}="))? + name.len() + 1;
    let quote = tag[start..].chars().next().filter(|q| *q == '\'' || *q == '"')?;
    let rest = &tag[start + 1..];
    Some(&rest[..rest.find(quote)?])
}

/// "1.0876" → 1_087_600: a positive decimal in millionths (digits past the sixth rounded half
/// away from zero).
pub fn decimal_micros(s: &str) -> Option<i64> {
    let (int, frac) = s.trim().split_once('.').unwrap_or((s.trim(), ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) || int.len() > 12 {
        return None;
    }
    let digits = frac.len().min(18);
    let num: i128 = format!("{int}{}", &frac[..digits]).parse().ok()?;
    let micros = div_round_half_away(num * 1_000_000, 10i128.pow(digits as u32));
    i64::try_from(micros).ok().filter(|m| *m > 0)
}

/// Each listed currency's rate against `default` in millionths (units of it per unit of the
/// default): `per_euro[x] / per_euro[default]`. `None` when the default is not listed.
pub fn against(per_euro: &PerEuro, default: &str) -> Option<Vec<(String, i64)>> {
    let base = i128::from(per_euro.iter().find(|(c, _)| c == default)?.1);
    Some(
        per_euro
            .iter()
            .filter_map(|(c, r)| i64::try_from(div_round_half_away(i128::from(*r) * 1_000_000, base)).ok().map(|m| (c.clone(), m)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
	<gesmes:subject>Reference rates</gesmes:subject>
	<Cube>
		<Cube time='2026-11-24'>
			<Cube currency='USD' rate='1.0876'/>
			<Cube currency='JPY' rate='162.47'/>
			<Cube currency="GBP" rate="0.85355"/>
			<Cube currency='INR' rate='91.0225'/>
		</Cube>
	</Cube>
</gesmes:Envelope>"#;

    #[test]
    fn reads_the_ecb_file_and_converts_to_the_default_currency() {
        let rates = parse_ecb(SAMPLE).unwrap();
        assert_eq!(rates[..3], [("EUR".into(), 1_000_000), ("USD".into(), 1_087_600), ("JPY".into(), 162_470_000)]);
        let usd = against(&rates, "USD").unwrap();
        let get = |c: &str| usd.iter().find(|(x, _)| x == c).unwrap().1;
        assert_eq!(get("USD"), 1_000_000);
        // 1 / 1.0876 = 0.919455…, 0.85355 / 1.0876 = 0.784801…
        assert_eq!((get("EUR"), get("GBP")), (919_456, 784_801));
        assert!(against(&rates, "CHF").is_none());
        assert!(parse_ecb("<html>maintenance</html>").is_err());
        assert!(parse_ecb("<Cube currency='USD' rate='abc'/>").is_err());
    }

    #[test]
    fn decimals_are_read_exactly() {
        assert_eq!(decimal_micros("1.0876"), Some(1_087_600));
        assert_eq!(decimal_micros("162.47"), Some(162_470_000));
        assert_eq!(decimal_micros("0.0000005"), Some(1));
        assert_eq!(decimal_micros("7"), Some(7_000_000));
        assert_eq!(decimal_micros("0"), None);
        assert_eq!(decimal_micros("-1.2"), None);
        assert_eq!(decimal_micros("1e3"), None);
    }
}
