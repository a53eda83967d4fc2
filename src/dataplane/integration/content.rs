//! Binary media: which payloads are binary (their media type is one of the API's
//! binaryMediaTypes) and the conversions `contentHandling` asks for, both ways, as AWS makes
//! them (`tests/data/aws-recorded/test_apigateway_s3`):
//!
//! - request: a text payload is UTF-8 (invalid bytes become U+FFFD); CONVERT_TO_TEXT
//!   base64-encodes a binary one before any template; CONVERT_TO_BINARY base64-decodes a text
//!   one after its template (not base64: 500).
//! - response: a text payload is decoded from base64 under CONVERT_TO_BINARY, or with no
//!   handling when the client accepts a binary type; a binary payload is base64-encoded under
//!   CONVERT_TO_TEXT, or with no handling when the client does not accept a binary type. A
//!   response template cannot read a binary payload (500).

use base64::Engine;
use bytes::Bytes;

use crate::dataplane::error::GatewayError;
use crate::domain::enums::ContentHandling;

/// Whether a media type is one of the API's binary media types (`*/*` and `type/*` included).
pub fn is_binary(media: &str, binary_types: &[String]) -> bool {
    binary_types.iter().any(|t| {
        let t = t.to_ascii_lowercase();
        t == media
            || t == "*/*"
            || t.strip_suffix("/*")
                .is_some_and(|prefix| media.split('/').next() == Some(prefix))
    })
}

/// Whether any type an `Accept` header lists is binary.
pub fn accepts_binary(accept: Option<&str>, binary_types: &[String]) -> bool {
    !binary_types.is_empty()
        && accept.is_some_and(|a| {
            a.split(',')
                .any(|t| is_binary(&super::media_type(t), binary_types))
        })
}

/// A payload on its way through the gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Valid UTF-8.
    Text(Bytes),
    Binary(Bytes),
}

impl Content {
    pub fn into_bytes(self) -> Bytes {
        match self {
            Content::Text(b) | Content::Binary(b) => b,
        }
    }
}

/// Bytes read as text: valid UTF-8 stays as it is (no copy), anything else is replaced.
pub fn text(bytes: Bytes) -> Content {
    match std::str::from_utf8(&bytes) {
        Ok(_) => Content::Text(bytes),
        Err(_) => Content::Text(Bytes::from(String::from_utf8_lossy(&bytes).into_owned())),
    }
}

fn encode(bytes: &[u8]) -> Content {
    Content::Text(Bytes::from(
        base64::engine::general_purpose::STANDARD.encode(bytes),
    ))
}

fn decode(text: &[u8]) -> Result<Content, GatewayError> {
    let trimmed = text.trim_ascii();
    base64::engine::general_purpose::STANDARD
        .decode(trimmed)
        .map(|b| Content::Binary(Bytes::from(b)))
        .map_err(|_| {
            tracing::debug!("payload is not base64 where contentHandling needs it");
            GatewayError::internal()
        })
}

/// The method request's payload as the request template (or passthrough) sees it.
pub fn request_in(body: Bytes, binary: bool, handling: Option<ContentHandling>) -> Content {
    match (binary, handling) {
        (true, Some(ContentHandling::ConvertToText)) => encode(&body),
        (true, _) => Content::Binary(body),
        (false, _) => text(body),
    }
}

/// The integration request's payload after its template (or passthrough).
pub fn request_out(
    payload: Content,
    binary: bool,
    handling: Option<ContentHandling>,
) -> Result<Content, GatewayError> {
    match (payload, handling) {
        (Content::Text(t), Some(ContentHandling::ConvertToBinary)) if !binary => decode(&t),
        (other, _) => Ok(other),
    }
}

/// The integration's answer, converted for the method response.
pub fn response(
    body: Bytes,
    payload_binary: bool,
    accept_binary: bool,
    handling: Option<ContentHandling>,
) -> Result<Content, GatewayError> {
    use ContentHandling::{ConvertToBinary, ConvertToText};
    match (payload_binary, handling, accept_binary) {
        (false, Some(ConvertToBinary), _) | (false, None, true) => decode(&body),
        (false, _, _) => Ok(text(body)),
        (true, Some(ConvertToText), _) | (true, None, false) => Ok(encode(&body)),
        (true, _, _) => Ok(Content::Binary(body)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ContentHandling::{ConvertToBinary as ToBinary, ConvertToText as ToText};

    const RAW: &[u8] = b"\x1f\x8b\x08\x00binary\xff\xfe";

    fn b64(b: &[u8]) -> Bytes {
        Bytes::from(base64::engine::general_purpose::STANDARD.encode(b))
    }

    #[test]
    fn binary_types_match_wildcards() {
        let types = vec!["image/*".to_owned(), "application/octet-stream".to_owned()];
        assert!(is_binary("image/png", &types));
        assert!(is_binary("application/octet-stream", &types));
        assert!(!is_binary("application/json", &types));
        assert!(accepts_binary(Some("text/html, image/webp;q=0.9"), &types));
        assert!(!accepts_binary(Some("text/html"), &types));
    }

    #[test]
    fn request_conversions() {
        let raw = Bytes::from_static(RAW);
        assert_eq!(request_in(raw.clone(), true, None), Content::Binary(raw.clone()));
        assert_eq!(
            request_in(raw.clone(), true, Some(ToText)),
            Content::Text(b64(RAW))
        );
        let mangled = request_in(raw.clone(), false, None).into_bytes();
        assert!(std::str::from_utf8(&mangled).unwrap().contains('\u{FFFD}'));
        let decoded = request_out(Content::Text(b64(RAW)), false, Some(ToBinary)).unwrap();
        assert_eq!(decoded, Content::Binary(raw.clone()));
        assert!(
            request_out(
                Content::Text(Bytes::from_static(b"plain text")),
                false,
                Some(ToBinary)
            )
            .is_err()
        );
        assert_eq!(
            request_out(Content::Binary(raw.clone()), true, Some(ToBinary)).unwrap(),
            Content::Binary(raw)
        );
    }

    #[test]
    fn response_conversions_follow_the_recorded_table() {
        let raw = Bytes::from_static(RAW);
        let enc = b64(RAW);
        // Text payload.
        assert_eq!(
            response(enc.clone(), false, true, None).unwrap(),
            Content::Binary(raw.clone())
        );
        assert!(response(raw.clone(), false, true, None).is_err());
        assert_eq!(
            response(enc.clone(), false, false, None).unwrap(),
            Content::Text(enc.clone())
        );
        assert_eq!(
            response(enc.clone(), false, true, Some(ToText)).unwrap(),
            Content::Text(enc.clone())
        );
        assert_eq!(
            response(enc.clone(), false, false, Some(ToBinary)).unwrap(),
            Content::Binary(raw.clone())
        );
        // Binary payload.
        assert_eq!(
            response(raw.clone(), true, true, None).unwrap(),
            Content::Binary(raw.clone())
        );
        assert_eq!(
            response(raw.clone(), true, false, None).unwrap(),
            Content::Text(enc.clone())
        );
        assert_eq!(
            response(raw.clone(), true, true, Some(ToText)).unwrap(),
            Content::Text(enc)
        );
        assert_eq!(
            response(raw.clone(), true, false, Some(ToBinary)).unwrap(),
            Content::Binary(raw)
        );
    }
}
