//! The data plane: workers serving deployed APIs from an in-memory compiled configuration.
//!
//! A request goes through [`pipeline`] in a fixed order (resolve → route → integrate → respond);
//! every failure is turned into AWS's gateway response by the one rescue in [`error`]. The
//! hot path never touches Postgres: it reads an `Arc<RuntimeConfig>` swapped by the subscriber.

pub mod client;
pub mod clock;
pub mod config;
pub mod context;
pub mod error;
pub mod h1;
pub mod integration;
pub mod observe;
pub mod pipeline;
pub mod request;
pub mod resolve;
pub mod router;
pub mod server;
pub mod timer;
pub mod validate;

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
    remap(headers, &FRAMING);
}

/// The answer fields AWS keeps for itself: what a backend or a mapping sets under these names
/// reaches the client as `x-amzn-Remapped-{name}` (AWS's recordings of HTTP, HTTP_PROXY and
/// AWS integrations).
pub const RESERVED_ANSWER_FIELDS: [&str; 14] = [
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

/// The headers an integration response mapped: AWS's reserved ones renamed, as AWS renames
/// them, `Transfer-Encoding` dropped (as AWS drops it) and the other framing ones renamed too.
pub fn remap_mapped_headers(headers: &mut http::HeaderMap) {
    headers.remove(http::header::TRANSFER_ENCODING);
    remap(headers, &RESERVED_ANSWER_FIELDS);
    remap(headers, &["keep-alive", "te", "proxy-connection"]);
}

fn remap(headers: &mut http::HeaderMap, names: &[&str]) {
    for &name in names {
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
