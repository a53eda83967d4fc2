//! Extractors that fail the AWS way: JSON bodies and pagination parameters.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// A JSON body; malformed JSON is a `SerializationException`, an empty body is `{}`.
pub struct AwsJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for AwsJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| ApiError::bad_request("Unable to read request body"))?;
        parse_json(&bytes).map(AwsJson)
    }
}

/// A JSON body read the AWS way (for handlers that take bodies of more than one kind).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|e| ApiError::serialization(serialization_message(&e)))
}

/// AWS's (Java) words for a JSON value of the wrong type where a string was expected.
fn serialization_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    if !e.is_data() {
        return "Invalid JSON body".to_owned();
    }
    if text.contains("expected a string") {
        if text.starts_with("invalid type: integer") || text.starts_with("invalid type: floating point") {
            return "class com.amazon.coral.value.json.numbers.TruncatingBigNumber can not be converted to an String".into();
        }
        if text.starts_with("invalid type: boolean") {
            return "class java.lang.Boolean can not be converted to an String".into();
        }
    }
    text
}

/// Decoded `key=value` pairs of a query string.
pub fn form_pairs(query: &str) -> Vec<(String, String)> {
    crate::domain::query::parse(query)
}

/// The value of query parameter `name`, if present.
pub fn query_param(parts_query: Option<&str>, name: &str) -> Option<String> {
    form_pairs(parts_query.unwrap_or(""))
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}
