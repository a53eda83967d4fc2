//! The backend client: keep-alive HTTP/1.1 connections, plain or TLS (rustls with the webpki
//! roots), pooled per data-plane thread. Integrations with `tlsConfig.insecureSkipVerification`
//! use a second client that accepts any server certificate, as AWS does for them.
//!
//! The exchange is Gatehouse's own ([`super::h1::client`]: httparse for the answer head), on a connection the
//! request owns while it runs and its answer's body owns until read to the end, when the
//! connection goes back to the pool. hyper's client ran each connection as a task of its own, fed
//! through channels, so every request woke two tasks and crossed two channels; with hyper_util's
//! pool on top, that was 13.5k of a bare hyper proxy's 37k instructions per request
//! (callgrind). A request whose reused connection turns out closed before any answer arrives is
//! sent again on a new connection when that is safe: an idempotent method whose body is whole.
//!
//! The parts: [`pool`] (idle connections per backend), [`exchange`] (one request and its
//! answer's head on a connection), [`body`] (the answer's body, which hands the connection
//! back), [`tls`] (the two TLS client configurations).

mod body;
mod exchange;
mod pool;
mod tls;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use http::uri::Scheme;
use http::{Method, Request, Uri};
use http_body::Body as _;
use http_body_util::BodyExt;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use tokio::time::Instant as TokioInstant;
use tower::ServiceExt;

pub use body::{BackendResponse, ResponseBody};
pub use tls::{insecure, verifying, with};

use super::h1::client::{self as h1, RequestFraming};
use super::timer::LazyTimer;
use super::{Body, BoxError};
use exchange::exchange;
use pool::{Conn, Key, Pool, split_uri};

/// Request bodies up to this size are sent with their head in one write (and can be sent
/// again); larger or unsized ones stream.
const BUFFERED_BODY: u64 = 64 << 10;

/// When a request to a backend began (a reading of the clock its caller took) and by when its
/// answer's head must come.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub began: Instant,
    pub deadline: TokioInstant,
}

impl Budget {
    /// `timeout` from `began`.
    pub fn from(began: Instant, timeout: Duration) -> Self {
        Self {
            began,
            deadline: TokioInstant::from_std(began + timeout),
        }
    }

    /// `timeout` from now.
    pub fn starting_now(timeout: Duration) -> Self {
        Self::from(Instant::now(), timeout)
    }
}

/// A pooled HTTP/1.1 client for backends. Cloning shares the pool.
#[derive(Clone)]
pub struct BackendClient {
    connector: HttpsConnector<HttpConnector>,
    pool: Arc<Pool>,
}

impl BackendClient {
    pub(super) fn new(tls: rustls::ClientConfig) -> Self {
        Self::with_server_name(tls, None)
    }

    /// A client whose TLS sends and verifies `server_name` (when given) rather than the host of
    /// each request's URI.
    pub(super) fn with_server_name(
        tls: rustls::ClientConfig,
        server_name: Option<rustls::pki_types::ServerName<'static>>,
    ) -> Self {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        // The TLS layer decides between http:// and https://.
        http.enforce_http(false);
        let builder = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http();
        let builder = match server_name {
            Some(name) => builder.with_server_name_resolver(hyper_rustls::FixedServerNameResolver::new(name)),
            None => builder,
        };
        let connector = builder.enable_http1().wrap_connector(http);
        Self {
            connector,
            pool: Arc::default(),
        }
    }

    /// Sends `req` (with an absolute URI) on a pooled connection, or a new one, and reads the
    /// answer's head by the budget's deadline. The answer's body streams; its connection is reused once
    /// the body has been read to the end. The `Host` header is always the URI's, whatever
    /// `req`'s headers say.
    ///
    /// The head is encoded when this is called, not when the future first runs: the future
    /// then holds the encoded head and what it needs to send it, not the request it came from
    /// (an async fn keeps its argument, a copy of it, and its parts: 1.7 KB that were copied
    /// on each await up the stack of every proxied request).
    pub fn request(
        &self,
        req: Request<Body>,
        budget: Budget,
    ) -> impl Future<Output = Result<BackendResponse, RequestError>> + Send + '_ {
        let (parts, body) = req.into_parts();
        let fields = |out: &mut Vec<u8>| h1::write_header_map(out, &parts.headers);
        self.request_with_fields(&parts.method, &parts.uri, &fields, body, budget)
    }

    /// [`BackendClient::request`] of a request whose header fields `write_fields` writes (as
    /// [`h1::encode_head`] says), with no header map between them and the wire.
    pub fn request_with_fields<'s>(
        &'s self,
        method: &Method,
        uri: &Uri,
        write_fields: &dyn Fn(&mut Vec<u8>),
        body: Body,
        budget: Budget,
    ) -> impl Future<Output = Result<BackendResponse, RequestError>> + Send + use<'s> {
        let mut prepared = self.prepare(method, uri, write_fields, body);
        // Boxed: the state of sending and waiting is most of a proxied request's future, which
        // every caller up the stack would otherwise copy as it takes it in (three times over).
        Box::pin(async move {
            // By reference: moved out of the future's capture, it would be held twice.
            let Prepared {
                key,
                out,
                body,
                size,
                framing,
                head_request,
                idempotent,
            } = match &mut prepared {
                Ok(p) => p,
                Err(e) => return Err(std::mem::replace(e, RequestError::TimedOut)),
            };
            let (size, framing, head_request, idempotent) = (*size, *framing, *head_request, *idempotent);
            let Budget { began, deadline } = budget;
            // A small body goes out with the head, in one write; it can then be sent again. It
            // is at hand already (the server reads such bodies with their heads).
            let mut streamed = match size {
                Some(n) if n <= BUFFERED_BODY => {
                    // The body must be what its framing said, or the backend would read the
                    // rest as another request.
                    let mismatch =
                        || RequestError::from(BoxError::from("the request body does not match its length"));
                    let head_len = out.len();
                    while let Some(frame) = body.frame().await {
                        if let Ok(data) = frame.map_err(RequestError::Body)?.into_data() {
                            if (out.len() - head_len + data.len()) as u64 > n {
                                return Err(mismatch());
                            }
                            out.extend_from_slice(&data);
                        }
                    }
                    if (out.len() - head_len) as u64 != n {
                        return Err(mismatch());
                    }
                    None
                }
                _ => Some(std::mem::take(body)),
            };
            let replayable = streamed.is_none() && idempotent;
            loop {
                // Only now, with the body in hand: a connection taken while a slow client sends
                // its body would sit idle, unusable by others, and may time out meanwhile.
                let (mut conn, reused) = match self.pool.checkout(key, began) {
                    Some(conn) => (conn, true),
                    // Boxed: connecting is rare, and its future would make every request's larger.
                    None => match tokio::time::timeout_at(deadline, Box::pin(self.connect(key))).await {
                        Ok(conn) => (conn?, false),
                        Err(_) => return Err(RequestError::TimedOut),
                    },
                };
                conn.last_used = began;
                // The connection's own timer, moved forward lazily (a connection that times out
                // is dropped with it: what it would read next is unknown).
                let mut timer = std::mem::take(&mut conn.timer);
                let exchanged = {
                    let exchange =
                        std::pin::pin!(exchange(&mut conn, out, streamed.take(), framing, head_request));
                    timer.run_until(deadline, exchange).await
                };
                conn.timer = timer;
                match exchanged {
                    None => return Err(RequestError::TimedOut),
                    Some(Ok(head)) => {
                        // Moved out: the future ends here.
                        let key = std::mem::replace(key, Key::placeholder());
                        return Ok(ResponseBody::start(head, conn, self.pool.clone(), key));
                    }
                    Some(Err(e)) if e.before_answer && reused && replayable => {
                        tracing::debug!(error = %e.error, "pooled backend connection was closed; sending again");
                    }
                    Some(Err(e)) if e.request_body => return Err(RequestError::Body(e.error)),
                    Some(Err(e)) => return Err(e.error.into()),
                }
            }
        })
    }

    /// The request's head, encoded, with what sending it needs.
    fn prepare(
        &self,
        method: &Method,
        uri: &Uri,
        write_fields: &dyn Fn(&mut Vec<u8>),
        body: Body,
    ) -> Result<Prepared, RequestError> {
        let (key, target) = split_uri(uri)?;
        let size = body.size_hint().exact();
        let framing = match size {
            Some(0) if !matches!(*method, Method::POST | Method::PUT | Method::PATCH) => RequestFraming::None,
            Some(n) => RequestFraming::Length(n),
            None => RequestFraming::Chunked,
        };
        let mut out = Vec::with_capacity(256);
        self.pool.with_host(&key, |host| {
            h1::encode_head(&mut out, method, target, host, write_fields, framing)
        })?;
        Ok(Prepared {
            key,
            out,
            body,
            size,
            framing,
            head_request: *method == Method::HEAD,
            idempotent: method.is_idempotent(),
        })
    }

    async fn connect(&self, key: &Key) -> Result<Box<Conn>, BoxError> {
        let uri = Uri::builder()
            .scheme(if key.https { Scheme::HTTPS } else { Scheme::HTTP })
            .authority(key.authority.clone())
            .path_and_query("/")
            .build()?;
        let io = self.connector.clone().oneshot(uri).await?;
        Ok(Box::new(Conn {
            io: TokioIo::new(io),
            buf: BytesMut::new(),
            read_size: 8 << 10,
            last_used: Instant::now(),
            timer: LazyTimer::default(),
        }))
    }
}

/// A request ready to send: its head encoded, its body still to come.
struct Prepared {
    key: Key,
    /// The head, and a small body once read.
    out: Vec<u8>,
    body: Body,
    size: Option<u64>,
    framing: RequestFraming,
    head_request: bool,
    idempotent: bool,
}

/// Why a request got no answer.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("the backend did not answer in time")]
    TimedOut,
    /// The request's own body could not be read (the client's side).
    #[error("the request body could not be read: {0}")]
    Body(BoxError),
    #[error(transparent)]
    Failed(#[from] BoxError),
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use bytes::Bytes;
    use http_body::{Frame, SizeHint};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;

    /// A body that claims `claimed` bytes and yields `data`.
    struct Lying {
        claimed: u64,
        data: Option<Bytes>,
    }

    impl http_body::Body for Lying {
        type Data = Bytes;
        type Error = BoxError;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
            Poll::Ready(self.data.take().map(|d| Ok(Frame::data(d))))
        }

        fn size_hint(&self) -> SizeHint {
            SizeHint::with_exact(self.claimed)
        }
    }

    fn lying(claimed: u64, len: usize) -> Body {
        Lying {
            claimed,
            data: Some(Bytes::from(vec![b'x'; len])),
        }
        .boxed()
    }

    /// Reads one request head (and `body` bytes after it) from `stream`; false at its end.
    async fn read_request(stream: &mut tokio::net::TcpStream, body: usize) -> bool {
        let mut seen = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n")
                && seen.len() >= end + 4 + body
            {
                return true;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => seen.extend_from_slice(&chunk[..n]),
            }
        }
    }

    #[tokio::test]
    async fn a_body_unlike_its_declared_length_is_never_sent() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut all = Vec::new();
            let _ = stream.read_to_end(&mut all).await;
            all
        });
        let client = verifying();
        let post = |body| Request::post(format!("http://{addr}/")).body(body).unwrap();
        // Buffered: refused before any connection is made.
        assert!(client.request(post(lying(5, 3)), soon()).await.is_err());
        assert!(client.request(post(lying(5, 7)), soon()).await.is_err());
        // Streamed: cut off before the surplus reaches the backend.
        let big = BUFFERED_BODY + 10;
        assert!(
            client
                .request(post(lying(big, big as usize + 1)), soon())
                .await
                .is_err()
        );
        let sent = received.await.unwrap();
        let end = sent.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        assert!(
            sent.len() - end - 4 <= big as usize,
            "no byte past the declared length"
        );
    }

    #[tokio::test]
    async fn a_pooled_connection_closed_under_a_request_is_retried_only_when_safe() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Each connection answers its first request, then takes the next one and hangs up
        // without answering, as a server whose idle timeout fires just then does.
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = accepted.clone();
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                let n = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                tokio::spawn(async move {
                    if read_request(&mut stream, 0).await {
                        let answer = format!("HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n{n}");
                        stream.write_all(answer.as_bytes()).await.unwrap();
                        read_request(&mut stream, 0).await;
                    }
                });
            }
        });
        let client = verifying();
        let call = |method: Method| {
            let req = Request::builder()
                .method(method)
                .uri(format!("http://{addr}/"))
                .body(full(""))
                .unwrap();
            let client = client.clone();
            async move {
                let res = client.request(req, soon()).await?;
                Ok::<_, BoxError>(res.body.collect().await?.to_bytes())
            }
        };
        assert_eq!(call(Method::GET).await.unwrap(), "0");
        // The pooled connection fails under a GET: sent again on a new connection.
        assert_eq!(call(Method::GET).await.unwrap(), "1");
        assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 2);
        // Under a POST it is not: the backend may have acted on it.
        assert!(call(Method::POST).await.is_err());
    }

    fn soon() -> Budget {
        Budget::starting_now(Duration::from_secs(5))
    }

    fn full(s: &'static str) -> Body {
        crate::dataplane::full_body(Bytes::from_static(s.as_bytes()))
    }
}
