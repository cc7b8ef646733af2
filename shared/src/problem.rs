//! RFC 9457 problem details: the body of every error the API returns
//! (`Content-Type: application/problem+json`).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An error answer. `code` is stable and snake_case, so clients can key messages on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI reference naming the problem type (`about:blank` or `/problems/<code>`).
    #[serde(rename = "type")]
    pub kind: String,
    /// Short human-readable summary of the problem type.
    pub title: String,
    /// HTTP status code.
    pub status: u16,
    /// Human-readable explanation of this occurrence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable machine-readable code, e.g. `validation_failed`, `not_found`.
    pub code: String,
    /// Per-field messages, keyed by the field's name (dotted for nested fields).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub errors: BTreeMap<String, Vec<String>>,
    /// The request id, to find the request in the server logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl Problem {
    /// The message for one field, if the problem names it.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.errors.get(name).and_then(|v| v.first()).map(String::as_str)
    }

    /// One line to show a person: the detail, else the title.
    pub fn message(&self) -> &str {
        self.detail.as_deref().unwrap_or(&self.title)
    }
}
