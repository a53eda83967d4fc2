//! The data plane: workers serving deployed APIs from an in-memory compiled configuration.
//!
//! A request goes through the steps of [`pipeline`] in AWS's order (resolve → canary → admit →
//! route → … → validate → integrate → respond);
//! every failure is turned into AWS's gateway response by the one rescue in [`error`]. The
//! hot path never touches Postgres: it reads an `Arc<RuntimeConfig>` swapped by the subscriber.

pub mod authorizer;
pub mod body;
pub mod cache;
pub mod client;
pub mod clock;
pub mod config;
pub mod context;
pub mod error;
pub mod h1;
pub mod identity;
pub mod integration;
pub mod jwt;
pub mod observe;
pub mod pipeline;
pub mod request;
pub mod server;
pub mod settings;
pub mod state;
pub mod template;
pub mod throttle;
pub mod timer;
pub mod trace;
pub mod usage;
pub mod websocket;

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

/// Headers that describe the connection or the message framing: never taken from a gateway
/// response's mapping (the server frames the body itself). Renamed `x-amzn-Remapped-{name}`, as
/// AWS renames what it keeps for itself.
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
    remap(headers, &FRAMING);
}

/// What AWS renames `x-amzn-Remapped-{name}` in a proxy integration's answer, a backend's
/// (HTTP_PROXY) or a function's (AWS_PROXY): its recordings show these four, and the backend's
/// other fields passing through (`WWW-Authenticate` and `Authorization` among them).
pub const PROXY_REMAPPED: [&str; 4] = ["connection", "content-length", "date", "server"];

/// Whether `name` (any case) is one of [`PROXY_REMAPPED`]; by length first, as the server
/// asks for each field a backend answers with.
pub fn is_proxy_remapped(name: &[u8]) -> bool {
    use h1::is_name;
    match name.len() {
        4 => is_name(name, b"date"),
        6 => is_name(name, b"server"),
        10 => is_name(name, b"connection"),
        14 => is_name(name, b"content-length"),
        _ => false,
    }
}

/// A Lambda function's answer headers: [`PROXY_REMAPPED`] renamed, `Transfer-Encoding` dropped,
/// and the other hop-by-hop ones renamed (the function does not speak for the client's
/// connection).
pub fn remap_proxy_headers(headers: &mut http::HeaderMap) {
    headers.remove(http::header::TRANSFER_ENCODING);
    remap(headers, &PROXY_REMAPPED);
    remap(
        headers,
        &["keep-alive", "te", "trailer", "upgrade", "proxy-connection"],
    );
}

/// What AWS renames `x-amzn-Remapped-{name}` when an integration response's mapping sets it
/// (its recordings of HTTP and AWS integrations mapping every such header).
pub const MAPPING_REMAPPED: [&str; 14] = [
    "authorization",
    "connection",
    "content-length",
    "content-md5",
    "date",
    "expect",
    "host",
    "max-forwards",
    "proxy-authenticate",
    "server",
    "trailer",
    "upgrade",
    "user-agent",
    "www-authenticate",
];

/// The headers an integration response mapped: [`MAPPING_REMAPPED`] renamed and
/// `Transfer-Encoding` dropped, as AWS does (`TE` passes, as it does on AWS); `Keep-Alive` and
/// `Proxy-Connection`, which the recordings do not cover, renamed.
pub fn remap_mapped_headers(headers: &mut http::HeaderMap) {
    headers.remove(http::header::TRANSFER_ENCODING);
    remap(headers, &MAPPING_REMAPPED);
    remap(headers, &["keep-alive", "proxy-connection"]);
}

/// Renames every value of the headers `names` to `x-amzn-remapped-{name}`.
fn remap(headers: &mut http::HeaderMap, names: &[&str]) {
    for &name in names {
        let values: Vec<http::HeaderValue> = headers.get_all(name).iter().cloned().collect();
        if values.is_empty() {
            continue;
        }
        headers.remove(name);
        if let Ok(remapped) = http::HeaderName::try_from(format!("x-amzn-remapped-{name}")) {
            for v in values {
                headers.append(remapped.clone(), v);
            }
        }
    }
}

/// A body that fails once its deadline passes: a backend that sends its head in time and then
/// trickles the rest cannot hold a connection past the integration's timeout. The timer is only
/// armed when the body has to wait, and the clock is read only for a body that goes on after
/// its first frame: most bodies arrive whole with their head and never need either.
pub struct Deadline<B> {
    inner: B,
    deadline: tokio::time::Instant,
    sleep: Option<std::pin::Pin<Box<tokio::time::Sleep>>>,
    /// Whether a frame has been passed on.
    started: bool,
}

impl<B> Deadline<B> {
    pub fn new(inner: B, deadline: tokio::time::Instant) -> Self {
        Self {
            inner,
            deadline,
            sleep: None,
            started: false,
        }
    }
}

impl<B> http_body::Body for Deadline<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, BoxError>>> {
        use std::future::Future;
        use std::task::Poll;
        let timed_out = || {
            Poll::Ready(Some(Err(
                "the integration timed out while sending its body".into()
            )))
        };
        match std::pin::Pin::new(&mut self.inner).poll_frame(cx) {
            // A body that never waits is still cut at its deadline; one that is whole at its
            // first frame came with its head, or while it was being read.
            Poll::Ready(Some(Ok(_)))
                if (self.started || !self.inner.is_end_stream())
                    && tokio::time::Instant::now() >= self.deadline =>
            {
                timed_out()
            }
            Poll::Ready(frame) => {
                self.started = true;
                Poll::Ready(frame.map(|r| r.map_err(Into::into)))
            }
            Poll::Pending => {
                let deadline = self.deadline;
                let sleep = self
                    .sleep
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                match sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => timed_out(),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::{BodyExt, Full};

    use super::*;

    #[test]
    fn the_fields_aws_renames_in_proxy_answers_are_known_in_any_case() {
        for name in PROXY_REMAPPED {
            assert!(is_proxy_remapped(name.as_bytes()), "{name}");
            assert!(is_proxy_remapped(name.to_uppercase().as_bytes()), "{name}");
        }
        for name in [
            "www-authenticate",
            "authorization",
            "x-amzn-trace-id",
            "servers",
            "te",
        ] {
            assert!(!is_proxy_remapped(name.as_bytes()), "{name}");
        }
    }

    #[test]
    fn remapping_renames_every_value_and_keeps_the_rest() {
        let mut h = http::HeaderMap::new();
        for (n, v) in [
            ("server", "a"),
            ("server", "b"),
            ("te", "trailers"),
            ("transfer-encoding", "gzip"),
            ("www-authenticate", "Basic"),
            ("x-mine", "1"),
        ] {
            h.append(n, http::HeaderValue::from_static(v));
        }
        let mut mapped = h.clone();
        remap_mapped_headers(&mut mapped);
        let all = |h: &http::HeaderMap, n: &str| {
            h.get_all(n)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(all(&mapped, "x-amzn-remapped-server"), ["a", "b"]);
        assert_eq!(all(&mapped, "x-amzn-remapped-www-authenticate"), ["Basic"]);
        assert_eq!(all(&mapped, "te"), ["trailers"], "AWS passes a mapped TE");
        assert!(
            mapped.get("transfer-encoding").is_none()
                && mapped.get("x-amzn-remapped-transfer-encoding").is_none()
        );
        assert_eq!(all(&mapped, "x-mine"), ["1"]);
        let mut proxied = h;
        remap_proxy_headers(&mut proxied);
        assert_eq!(all(&proxied, "x-amzn-remapped-server"), ["a", "b"]);
        assert_eq!(
            all(&proxied, "www-authenticate"),
            ["Basic"],
            "a function's challenge reaches the client"
        );
        assert_eq!(all(&proxied, "x-amzn-remapped-te"), ["trailers"]);
        assert!(
            proxied.get("transfer-encoding").is_none()
                && proxied.get("x-amzn-remapped-transfer-encoding").is_none()
        );
    }

    #[tokio::test]
    async fn a_deadline_passes_bodies_in_time_and_cuts_late_ones() {
        let now = tokio::time::Instant::now();
        let in_time = Deadline::new(
            Full::new(Bytes::from("hi")),
            now + std::time::Duration::from_secs(5),
        );
        assert_eq!(in_time.collect().await.unwrap().to_bytes(), "hi");
        // Ready at once but going on past its deadline: cut all the same.
        let frames = [
            Ok::<_, std::convert::Infallible>(http_body::Frame::data(Bytes::from("h"))),
            Ok(http_body::Frame::data(Bytes::from("i"))),
        ];
        let late = Deadline::new(
            http_body_util::StreamBody::new(futures_util::stream::iter(frames)),
            now,
        );
        assert!(late.collect().await.is_err());
        // Whole at its first frame: it came in time.
        let whole = Deadline::new(Full::new(Bytes::from("hi")), now);
        assert_eq!(whole.collect().await.unwrap().to_bytes(), "hi");
    }
}
