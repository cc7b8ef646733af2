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

/// Deserializes JSON, naming the field that is wrong when there is one. The body is read as one
/// JSON value first (syntax errors and anything after the value are a 400 `malformed_json`), its
/// text checked for control characters (422 naming the field), and only then typed, so every
/// type error (also inside arrays of enums) is a 422 naming its path.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::bad_request("empty_body", "the request body is empty; a JSON object is expected"));
    }
    // `from_slice` also refuses trailing input: `{…} garbage` is not JSON.
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ApiError::bad_request("malformed_json", format!("the body is not valid JSON: {e}")))?;
    refuse_control_characters(&value, &mut String::new(), false)?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = strip_position(&e.into_inner().to_string());
        let field = missing_field(&message)
            .map(|f| if path == "." || path.is_empty() { f.to_string() } else { format!("{path}.{f}") })
            .unwrap_or_else(|| if path == "." || path.is_empty() { "body".to_string() } else { path });
        ApiError::field(&field, message)
    })
}

const CONTROL_MESSAGE: &str = "must not contain control characters";

/// Every string and key in `value` against [`keel_shared::validation::refused_control`]; the
/// error names the JSON path as serde_path_to_error does (`address.city`, `permissions[0]`).
fn refuse_control_characters(value: &serde_json::Value, path: &mut String, multi_line: bool) -> Result<(), ApiError> {
    use keel_shared::validation::{refused_control, MULTI_LINE_FIELDS};
    match value {
        serde_json::Value::String(s) if s.chars().any(|c| refused_control(c, multi_line)) => {
            Err(ApiError::field(if path.is_empty() { "body" } else { path }, CONTROL_MESSAGE))
        }
        serde_json::Value::Array(items) => items.iter().enumerate().try_for_each(|(i, item)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let r = refuse_control_characters(item, path, multi_line);
            path.truncate(len);
            r
        }),
        serde_json::Value::Object(map) => map.iter().try_for_each(|(key, item)| {
            let len = path.len();
            if len > 0 {
                path.push('.');
            }
            path.push_str(key);
            let r = if key.chars().any(|c| refused_control(c, false)) {
                Err(ApiError::field(path, CONTROL_MESSAGE))
            } else {
                refuse_control_characters(item, path, MULTI_LINE_FIELDS.contains(&key.as_str()))
            };
            path.truncate(len);
            r
        }),
        _ => Ok(()),
    }
}

/// True when the request path, percent-decoded, holds a control character: such a segment names
/// no resource (a 404 before any handler or query sees it).
pub fn path_has_control_characters(path: &str) -> bool {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                decoded.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).chars().any(|c| keel_shared::validation::refused_control(c, false))
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
        if k.chars().chain(v.chars()).any(|c| keel_shared::validation::refused_control(c, false)) {
            return Err((k.into_owned(), CONTROL_MESSAGE.into()));
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

/// The largest webhook body a gateway may send.
pub const WEBHOOK_LIMIT: usize = 256 * 1024;

/// A request's raw body (for signatures computed over the exact bytes), at most `limit` bytes:
/// larger is a 413 problem.
pub async fn raw_body(mut payload: actix_web::web::Payload, limit: usize) -> Result<actix_web::web::Bytes, ApiError> {
    use futures_util::StreamExt;
    let mut body = actix_web::web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::bad_request("bad_body", e.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
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
        let e = parse_json::<RegisterRequest>(br#"{"email": "a@b.co\u0000", "password": "x", "first_name": "a", "last_name": "b"}"#)
            .expect_err("control");
        assert_eq!(field_of(e), ["email"]);
        let e = parse_json::<serde_json::Value>(br#"{"a": [{"b": ["ok", "x\u0007"]}]}"#).expect_err("nested");
        assert_eq!(field_of(e), ["a[0].b[1]"]);
        let e = parse_json::<serde_json::Value>(br#"{"body_text": "a\n\tb", "x": {"body_html": "\r\n"}, "subject": "a\nb"}"#)
            .expect_err("one line");
        assert_eq!(field_of(e), ["subject"]);
        assert!(
            path_has_control_characters("/api/v1/x%00")
                && path_has_control_characters("/a/%1B")
                && path_has_control_characters("/a/%C2%85")
        );
        assert!(!path_has_control_characters("/api/v1/x%20y%2f%zz%"));
    }

    #[test]
    fn a_wrong_type_inside_an_array_of_enums_names_its_index() {
        use keel_shared::access::InviteMemberRequest;
        let e = parse_json::<InviteMemberRequest>(br#"{"email": "a@b.co", "permissions": [{}]}"#).expect_err("map in enum array");
        assert_eq!((e.code(), field_of(e)), ("validation_failed", vec!["permissions[0]".to_string()]));
        let e = parse_json::<InviteMemberRequest>(br#"{"email": "a@b.co", "permissions": ["billing", "x"]}"#).expect_err("unknown");
        assert_eq!(field_of(e), ["permissions[1]"]);
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
