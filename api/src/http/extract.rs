//! Request extractors that turn bad input into precise problem answers: [`ValidJson`] and
//! [`ValidQuery`] deserialize with the failing field's path and then run the model's validator
//! rules, so a handler only ever sees a well-formed, valid value.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use validator::Validate;

use crate::error::ApiError;

/// Largest JSON body accepted (bytes).
pub const JSON_LIMIT: usize = 64 * 1024;

/// A JSON body, deserialized and validated.
#[derive(Debug)]
pub struct ValidJson<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidJson<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let mime = v.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        let declared_len = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::UnsupportedMediaType("the body must be JSON (Content-Type: application/json)".into()));
            }
            if declared_len.is_some_and(|n| n > JSON_LIMIT) {
                return Err(ApiError::PayloadTooLarge { limit: JSON_LIMIT });
            }
            let mut body = Vec::with_capacity(declared_len.unwrap_or(1024).min(JSON_LIMIT));
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| ApiError::bad_request("bad_body", format!("could not read the body: {e}")))?;
                if body.len() + chunk.len() > JSON_LIMIT {
                    return Err(ApiError::PayloadTooLarge { limit: JSON_LIMIT });
                }
                body.extend_from_slice(&chunk);
            }
            let value: T = parse_json(&body)?;
            value.validate()?;
            Ok(ValidJson(value))
        })
    }
}

/// Deserializes JSON, naming the field that is wrong when there is one.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("empty_body", "the request body is empty; a JSON object is expected"));
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {inner}"));
        }
        let message = strip_position(&inner.to_string());
        let field = missing_field(&message)
            .map(|f| if path == "." || path.is_empty() { f.to_string() } else { format!("{path}.{f}") })
            .unwrap_or_else(|| if path == "." || path.is_empty() { "body".to_string() } else { path });
        ApiError::field(&field, message)
    })?;
    // One JSON value and nothing after it but whitespace: `{…} garbage` is not JSON.
    de.end().map_err(|e| ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

/// Query parameters, deserialized and validated.
#[derive(Debug)]
pub struct ValidQuery<T>(pub T);

impl<T: DeserializeOwned + Validate + 'static> FromRequest for ValidQuery<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(ValidQuery))
    }
}

pub fn parse_query<T: DeserializeOwned + Validate>(query: &str) -> Result<T, ApiError> {
    let de = serde_urlencoded_de(query);
    let value: T = match de {
        Ok(v) => v,
        Err((field, message)) => return Err(ApiError::field(&field, message)),
    };
    value.validate()?;
    Ok(value)
}

/// Query strings go through serde_json values so errors can name the parameter: each `k=v` pair
/// becomes a JSON text field (`q=2026` searches for the text "2026"); the few numeric parameters
/// (the page query's) read a number from that text.
fn serde_urlencoded_de<T: DeserializeOwned>(query: &str) -> Result<T, (String, String)> {
    let mut map = serde_json::Map::new();
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        // The page query's numbers are checked here: inside a filter that flattens it, serde
        // loses the parameter's name on the way.
        if keel_shared::PageQuery::NUMBERS.contains(&k.as_ref()) && v.trim().parse::<u32>().is_err() {
            return Err((k.into_owned(), format!("expected a whole number from 0 to {}", u32::MAX)));
        }
        map.insert(k.into_owned(), serde_json::Value::String(v.into_owned()));
    }
    serde_path_to_error::deserialize(serde_json::Value::Object(map)).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let field = missing_field(&message).map(str::to_string).unwrap_or(path);
        (if field == "." { "query".into() } else { field }, message)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_shared::auth::RegisterRequest;
    use keel_shared::PageQuery;

    fn field_of(e: ApiError) -> Vec<String> {
        e.problem().errors.into_keys().collect()
    }

    #[test]
    fn names_the_wrong_field() {
        let e = parse_json::<RegisterRequest>(br#"{"email": 5, "password": "x", "first_name": "a", "last_name": "b"}"#)
            .expect_err("wrong type");
        assert_eq!(field_of(e), ["email"]);
        let e = parse_json::<RegisterRequest>(br#"{"email": "a@b.co"}"#).expect_err("missing");
        assert_eq!(field_of(e), ["password"]);
        let e = parse_json::<RegisterRequest>(br#"{"email": "#).expect_err("syntax");
        assert_eq!(e.code(), "malformed_json");
        assert_eq!(parse_json::<RegisterRequest>(b"  ").expect_err("empty").code(), "empty_body");
        let valid = r#"{"email": "a@b.co", "password": "correct horse", "first_name": "a", "last_name": "b"}"#;
        let e = parse_json::<RegisterRequest>(format!("{valid} this is not JSON").as_bytes()).expect_err("trailing");
        assert_eq!(e.code(), "malformed_json");
        assert_eq!(parse_json::<RegisterRequest>(format!("{valid}{{}}").as_bytes()).expect_err("two values").code(), "malformed_json");
        parse_json::<RegisterRequest>(format!("{valid} \r\n\t").as_bytes()).expect("trailing whitespace is fine");
    }

    #[test]
    fn query_errors_name_the_parameter() {
        let q: PageQuery = parse_query("page=2&per_page=10").expect("valid");
        assert_eq!((q.page, q.per_page), (2, 10));
        assert_eq!(field_of(parse_query::<PageQuery>("page=abc").expect_err("type")), ["page"]);
        assert_eq!(field_of(parse_query::<PageQuery>("per_page=1000").expect_err("range")), ["per_page"]);
        assert_eq!(field_of(parse_query::<PageQuery>("page=0").expect_err("range")), ["page"]);
        assert_eq!(field_of(parse_query::<PageQuery>("page=-1").expect_err("neg")), ["page"]);
    }

    #[test]
    fn a_filter_reads_its_flattened_page_query_and_text_that_looks_like_a_number() {
        use keel_shared::auth::ClientFilter;
        let f: ClientFilter = parse_query("q=2026&page=3&per_page=50&cursor=1.abc").expect("valid");
        assert_eq!(f.q.as_deref(), Some("2026"));
        assert_eq!((f.paging.page, f.paging.per_page, f.paging.cursor.as_deref()), (3, 50, Some("1.abc")));
        let f: ClientFilter = parse_query("").expect("defaults");
        assert_eq!((f.paging.page, f.paging.per_page), (1, 25));
        assert_eq!(field_of(parse_query::<ClientFilter>("per_page=0").expect_err("range")), ["per_page"]);
        assert_eq!(field_of(parse_query::<ClientFilter>("page=0").expect_err("range")), ["page"]);
        assert_eq!(field_of(parse_query::<ClientFilter>("page=x").expect_err("type")), ["page"]);
        assert_eq!(field_of(parse_query::<ClientFilter>("per_page=1e9").expect_err("type")), ["per_page"]);
    }
}
