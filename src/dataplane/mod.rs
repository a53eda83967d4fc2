//! The data plane: workers serving deployed APIs from an in-memory compiled configuration.
//!
//! A request goes through [`pipeline`] in a fixed order (resolve → route → integrate → respond);
//! every failure is turned into AWS's gateway response by the one rescue in [`error`]. The
//! hot path never touches Postgres: it reads an `Arc<RuntimeConfig>` swapped by the subscriber.

pub mod client;
pub mod config;
pub mod context;
pub mod error;
pub mod integration;
pub mod observe;
pub mod pipeline;
pub mod request;
pub mod resolve;
pub mod router;
pub mod server;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::combinators::BoxBody;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Every response body: a whole buffer or a stream from a backend.
pub type Body = BoxBody<Bytes, BoxError>;

/// AWS's limit on request and response payloads.
pub const MAX_PAYLOAD: usize = 10 << 20;

pub fn full_body(bytes: Bytes) -> Body {
    http_body_util::Full::new(bytes)
        .map_err(|never| match never {})
        .boxed()
}

/// Headers that describe the connection or the message framing: never taken from a backend's
/// declared headers, a mapping or a gateway response (the server frames the body itself).
/// AWS renames them `X-Amzn-Remapped-{name}`; so does Gatehouse.
pub fn remap_framing_headers(headers: &mut http::HeaderMap) {
    const FRAMING: [&str; 8] = [
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "proxy-connection",
    ];
    for name in FRAMING {
        let values: Vec<http::HeaderValue> = match headers.remove(name) {
            Some(first) => std::iter::once(first)
                .chain(headers.get_all(name).iter().cloned())
                .collect(),
            None => continue,
        };
        if let Ok(remapped) = http::HeaderName::try_from(format!("x-amzn-remapped-{name}")) {
            for v in values {
                headers.append(remapped.clone(), v);
            }
        }
    }
}
