//! EU VAT ids confirmed with VIES, the European Commission's VAT information exchange
//! (`POST {KEEL_VIES_URL}/check-vat-number`, JSON, no credentials; see ../shared/PROTOCOLS.md
//! §7), when the commerce setting `check_vat_online` is on. Answers are kept a day in
//! `vat_checks`, so a quote and its checkout agree and VIES is not asked on every request.
//! When VIES cannot answer (a member state's service down, too many requests), the reverse
//! charge is granted on the id's format and the order is held for review with the reason.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::Deserialize;

/// What VIES said of a VAT id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VatStatus {
    /// Registered; the trader's name when the member state discloses it.
    Valid { name: Option<String> },
    /// Not a registered VAT id.
    Invalid,
    /// No answer now (the error code or cause).
    Unavailable(String),
}

pub type Checking<'a> = Pin<Box<dyn Future<Output = VatStatus> + Send + 'a>>;

/// A VAT id check: VIES over HTTP, or a stand-in.
pub trait VatCheck: std::fmt::Debug + Send + Sync {
    /// Checks `number` (without its prefix) of member state `country` (VIES's code: `EL` for
    /// Greece).
    fn check<'a>(&'a self, country: &'a str, number: &'a str) -> Checking<'a>;
}

/// The VIES REST client.
#[derive(Debug, Clone)]
pub struct Vies {
    http: reqwest::Client,
    url: String,
}

impl Vies {
    pub fn new(url: &str) -> Result<Vies, String> {
        let http = crate::outbound::client(Duration::from_secs(10))?;
        Ok(Vies { http, url: url.trim_end_matches('/').to_string() })
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Answer {
    #[serde(default)]
    valid: Option<bool>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    error_wrappers: Vec<ErrorWrapper>,
}

#[derive(Debug, Deserialize)]
struct ErrorWrapper {
    error: String,
}

impl VatCheck for Vies {
    fn check<'a>(&'a self, country: &'a str, number: &'a str) -> Checking<'a> {
        Box::pin(async move {
            let body = serde_json::json!({"countryCode": country, "vatNumber": number});
            let res = match self.http.post(format!("{}/check-vat-number", self.url)).json(&body).send().await {
                Ok(res) => res,
                Err(e) => return VatStatus::Unavailable(format!("VIES not reached: {e}")),
            };
            let status = res.status();
            let answer: Answer = match res.json().await {
                Ok(a) => a,
                Err(e) => return VatStatus::Unavailable(format!("VIES answered HTTP {status} that does not read: {e}")),
            };
            interpret(answer, status.as_u16())
        })
    }
}

fn interpret(answer: Answer, status: u16) -> VatStatus {
    if let Some(e) = answer.error_wrappers.first() {
        // A malformed number is an answer; every other code (unavailable, too many requests,
        // blocked) means "ask again later".
        return if e.error == "INVALID_INPUT" { VatStatus::Invalid } else { VatStatus::Unavailable(e.error.clone()) };
    }
    match answer.valid {
        Some(true) => VatStatus::Valid { name: answer.name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty() && n != "---") },
        Some(false) => VatStatus::Invalid,
        None => VatStatus::Unavailable(format!("HTTP {status} without a verdict")),
    }
}

/// A VAT id as VIES takes it: (member state code, number), spaces, dots and dashes removed,
/// upper-cased; `None` when it does not start with two letters.
pub fn split(vat_id: &str) -> Option<(String, String)> {
    let clean: String = vat_id.chars().filter(|c| !matches!(c, ' ' | '.' | '-')).collect::<String>().to_ascii_uppercase();
    let prefix = clean.get(..2)?;
    if !prefix.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    Some((prefix.to_string(), clean[2..].to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(json: &str) -> VatStatus {
        interpret(serde_json::from_str(json).unwrap(), 200)
    }

    #[test]
    fn reads_the_documented_answers() {
        assert_eq!(
            answer(
                r#"{"countryCode":"DE","vatNumber":"123456789","requestDate":"2024-05-01T10:00:00.000Z","valid":true,"requestIdentifier":"","name":"---","address":"---"}"#
            ),
            VatStatus::Valid { name: None }
        );
        assert_eq!(answer(r#"{"valid":true,"name":"ACME BV"}"#), VatStatus::Valid { name: Some("ACME BV".into()) });
        assert_eq!(answer(r#"{"valid":false}"#), VatStatus::Invalid);
        assert_eq!(
            answer(r#"{"actionSucceed":false,"errorWrappers":[{"error":"MS_MAX_CONCURRENT_REQ","message":"busy"}]}"#),
            VatStatus::Unavailable("MS_MAX_CONCURRENT_REQ".into())
        );
        assert_eq!(answer(r#"{"actionSucceed":false,"errorWrappers":[{"error":"INVALID_INPUT"}]}"#), VatStatus::Invalid);
        assert!(matches!(answer("{}"), VatStatus::Unavailable(_)));
    }

    #[test]
    fn splits_ids_the_way_vies_takes_them() {
        assert_eq!(split("nl 8532.54-621B01"), Some(("NL".into(), "853254621B01".into())));
        assert_eq!(split("EL123456789"), Some(("EL".into(), "123456789".into())));
        assert_eq!(split("12"), None);
        assert_eq!(split("D"), None);
    }
}
