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

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body::{Body as _, Frame, SizeHint};
use http_body_util::BodyExt;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio::io::AsyncWriteExt;
use tower::ServiceExt;

use super::h1::client::{self as h1, Framing, RequestFraming};
use super::h1::{Chunked, RawFields};
use super::timer::LazyTimer;
use super::{Body, BoxError};
use tokio::time::Instant as TokioInstant;

/// Idle connections kept per backend (scheme and authority).
const MAX_IDLE_PER_BACKEND: usize = 1024;
/// An idle connection older than this is closed rather than reused.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// How often idle connections are looked over.
const SWEEP_EVERY: Duration = Duration::from_secs(30);
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

/// Where a connection goes: requests to the same scheme and authority share connections.
#[derive(Clone)]
struct Key {
    https: bool,
    authority: Authority,
}

impl Key {
    /// A key that names no backend, left behind where one is moved out.
    fn placeholder() -> Self {
        Key {
            https: false,
            authority: Authority::from_static("-"),
        }
    }
}

// By the authority's bytes as written: `Authority`'s own `Hash` lowercases byte by byte, and
// two spellings of one host merely get two pools.
impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.https == other.https && self.authority.as_str() == other.authority.as_str()
    }
}

impl Eq for Key {}

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.https.hash(state);
        self.authority.as_str().hash(state);
    }
}

type Stream = TokioIo<MaybeHttpsStream<TokioIo<tokio::net::TcpStream>>>;

/// One connection to a backend, with what has been read from it and not yet used.
struct Conn {
    io: Stream,
    buf: BytesMut,
    /// How much room the next read gets.
    read_size: usize,
    /// When the last request it carried began: the pool's idle timeout counts from there (a
    /// little early, which errs towards closing), and that reading was taken anyway.
    last_used: Instant,
    /// For the request's deadline while its answer's head is awaited.
    timer: LazyTimer,
}

impl Conn {
    fn tcp(&self) -> &tokio::net::TcpStream {
        match self.io.inner() {
            MaybeHttpsStream::Http(tcp) => tcp.inner(),
            MaybeHttpsStream::Https(tls) => tls.inner().get_ref().0.inner().inner(),
        }
    }

    /// Whether an idle connection can carry a request: nothing has arrived on it since its last
    /// answer, not even the backend's FIN. Asks the runtime's readiness, not the kernel.
    fn is_open(&self) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        self.tcp().poll_read_ready(&mut cx).is_pending()
    }

    /// Reads what the backend sent into `buf`; 0 at its end.
    /// Reads grow while they fill the buffer (a large body streaming in), up to 256 KiB.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        if self.buf.capacity() - self.buf.len() < 1024 {
            self.buf.reserve(self.read_size);
        }
        let room = self.buf.capacity() - self.buf.len();
        let n = std::task::ready!(tokio_util::io::poll_read_buf(
            Pin::new(&mut self.io),
            cx,
            &mut self.buf
        ))?;
        if n == room {
            self.read_size = (self.read_size * 2).min(256 << 10);
        }
        Poll::Ready(Ok(n))
    }

    async fn fill(&mut self) -> std::io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_fill(cx)).await
    }
}

#[derive(Default)]
struct Pool {
    backends: Mutex<HashMap<Key, Backend, foldhash::fast::RandomState>>,
    /// Whether the sweeper runs: started with the first idle connection.
    sweeping: AtomicBool,
}

/// One backend's idle connections, and its `Host` header, made once.
struct Backend {
    host: HeaderValue,
    // Boxed: a connection moves between the pool, a request's future and an answer's body, and
    // a TLS one is large; a box moves as one pointer.
    #[allow(clippy::vec_box)]
    idle: Vec<Box<Conn>>,
}

impl Pool {
    /// `write` given the `Host` header for `key`, which is made once per backend (and lent,
    /// not cloned: a clone is a shared count to raise and lower).
    fn with_host<R>(&self, key: &Key, write: impl FnOnce(&[u8]) -> R) -> Result<R, BoxError> {
        let mut backends = self.backends.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(b) = backends.get(key) {
            return Ok(write(b.host.as_bytes()));
        }
        let host = host_header(key)?;
        let written = write(host.as_bytes());
        backends.insert(
            key.clone(),
            Backend {
                host,
                idle: Vec::new(),
            },
        );
        Ok(written)
    }

    /// The most recently used open connection to `key`, if any, as of `now`.
    fn checkout(&self, key: &Key, now: Instant) -> Option<Box<Conn>> {
        let mut backends = self.backends.lock().unwrap_or_else(|p| p.into_inner());
        let backend = backends.get_mut(key)?;
        while let Some(conn) = backend.idle.pop() {
            if now.saturating_duration_since(conn.last_used) < IDLE_TIMEOUT && conn.is_open() {
                return Some(conn);
            }
        }
        None
    }

    fn checkin(self: &Arc<Self>, key: Key, conn: Box<Conn>) {
        if !self.sweeping.load(Ordering::Relaxed) && !self.sweeping.swap(true, Ordering::Relaxed) {
            self.start_sweeper();
        }
        let now = conn.last_used;
        let mut backends = self.backends.lock().unwrap_or_else(|p| p.into_inner());
        // A backend may have been swept away while all its connections were busy.
        let list = match backends.entry(key) {
            Entry::Occupied(e) => &mut e.into_mut().idle,
            Entry::Vacant(v) => {
                let Ok(host) = host_header(v.key()) else {
                    return;
                };
                &mut v
                    .insert(Backend {
                        host,
                        idle: Vec::new(),
                    })
                    .idle
            }
        };
        // The oldest connections go first: they are the likeliest to have timed out.
        if list.len() >= MAX_IDLE_PER_BACKEND
            || list
                .first()
                .is_some_and(|c| now.saturating_duration_since(c.last_used) >= IDLE_TIMEOUT)
        {
            list.remove(0);
        }
        list.push(conn);
    }

    /// Closes the idle connections that timed out or that their backend closed, and forgets
    /// backends left without any: a backend that is never called again keeps no sockets.
    fn sweep(&self) {
        let mut backends = self.backends.lock().unwrap_or_else(|p| p.into_inner());
        backends.retain(|_, b| {
            b.idle
                .retain(|c| c.last_used.elapsed() < IDLE_TIMEOUT && c.is_open());
            !b.idle.is_empty()
        });
    }

    /// Sweeps every [`SWEEP_EVERY`] until the pool is dropped.
    fn start_sweeper(self: &Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            self.sweeping.store(false, Ordering::Relaxed);
            return;
        };
        let pool = Arc::downgrade(self);
        runtime.spawn(async move {
            let mut every = tokio::time::interval(SWEEP_EVERY);
            every.tick().await;
            loop {
                every.tick().await;
                match pool.upgrade() {
                    Some(pool) => pool.sweep(),
                    None => return,
                }
            }
        });
    }
}

/// How an exchange failed: `before_answer` when the connection failed before a byte of the
/// answer arrived, which on a reused connection means it was closed under the request.
struct ExchangeError {
    error: BoxError,
    before_answer: bool,
}

impl BackendClient {
    fn new(tls: rustls::ClientConfig) -> Self {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        // The TLS layer decides between http:// and https://.
        http.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
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
                        if let Ok(data) = frame?.into_data() {
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

/// Writes the request (its head and buffered body in `out`, then any streamed body) and reads
/// the answer's head, skipping interim (1xx) answers.
async fn exchange(
    conn: &mut Conn,
    out: &[u8],
    streamed: Option<Body>,
    framing: RequestFraming,
    head_request: bool,
) -> Result<h1::Head, ExchangeError> {
    let early = |e: std::io::Error| ExchangeError {
        error: e.into(),
        before_answer: true,
    };
    let late = |e: BoxError| ExchangeError {
        error: e,
        before_answer: false,
    };
    conn.io.write_all(out).await.map_err(early)?;
    if let Some(mut body) = streamed {
        let mut sent = 0u64;
        let mismatch = || late("the request body does not match its length".into());
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame.map_err(late)?.into_data() else {
                continue;
            };
            if data.is_empty() {
                continue;
            }
            // More than the declared length would be read by the backend as another request.
            sent += data.len() as u64;
            if matches!(framing, RequestFraming::Length(n) if sent > n) {
                return Err(mismatch());
            }
            if framing == RequestFraming::Chunked {
                let mut size = format!("{:x}\r\n", data.len()).into_bytes();
                size.extend_from_slice(&data);
                size.extend_from_slice(b"\r\n");
                conn.io.write_all(&size).await.map_err(early)?;
            } else {
                conn.io.write_all(&data).await.map_err(early)?;
            }
        }
        match framing {
            RequestFraming::Chunked => conn.io.write_all(b"0\r\n\r\n").await.map_err(early)?,
            RequestFraming::Length(n) if sent != n => return Err(mismatch()),
            _ => {}
        }
    }
    conn.io.flush().await.map_err(early)?;
    let mut received = !conn.buf.is_empty();
    loop {
        match h1::parse_head(&mut conn.buf, head_request) {
            Ok(Some(head)) if head.status == http::StatusCode::SWITCHING_PROTOCOLS => {
                return Err(late("the backend switched protocols".into()));
            }
            Ok(Some(head)) if head.status.is_informational() => continue,
            Ok(Some(head)) => return Ok(head),
            Ok(None) => {}
            Err(e) => return Err(late(e.into())),
        }
        match conn.fill().await {
            Ok(0) => {
                return Err(ExchangeError {
                    error: "the backend closed the connection without answering".into(),
                    before_answer: !received,
                });
            }
            Ok(_) => received = true,
            Err(e) if !received => return Err(early(e)),
            Err(e) => return Err(late(e.into())),
        }
    }
}

/// The pool key, and the request target in origin form (path and query).
fn split_uri(uri: &Uri) -> Result<(Key, &str), BoxError> {
    let https = match uri.scheme() {
        Some(s) if *s == Scheme::HTTP => false,
        Some(s) if *s == Scheme::HTTPS => true,
        _ => return Err(format!("not an http(s) URI: {uri}").into()),
    };
    let authority = uri.authority().ok_or("a URI without a host")?.clone();
    let path = uri.path_and_query().map_or("/", PathAndQuery::as_str);
    Ok((Key { https, authority }, path))
}

/// `Host`: the authority without user info, and without the scheme's default port.
fn host_header(key: &Key) -> Result<HeaderValue, BoxError> {
    let authority = key.authority.as_str();
    let host = match authority.as_bytes().iter().rposition(|&b| b == b'@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    let default_port = if key.https { ":443" } else { ":80" };
    let value = match host.strip_suffix(default_port) {
        Some(bare) => HeaderValue::from_str(bare),
        None => HeaderValue::from_str(host),
    };
    Ok(value?)
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
    #[error(transparent)]
    Failed(#[from] BoxError),
}

/// A backend's answer: its status, its header fields as they arrived, and its body.
pub struct BackendResponse {
    pub status: StatusCode,
    pub fields: RawFields,
    pub body: ResponseBody,
}

impl BackendResponse {
    /// The answer with its fields in a header map.
    pub fn into_response(self) -> Result<Response<ResponseBody>, BoxError> {
        let mut res = Response::new(self.body);
        *res.status_mut() = self.status;
        *res.headers_mut() = self.fields.to_header_map()?;
        Ok(res)
    }
}

/// A backend answer's body, read from the connection as it is polled. Read to its end, it hands
/// the connection back to the pool (if the connection can carry another request); dropped
/// before, it closes the connection.
pub struct ResponseBody {
    /// Data already read (a small answer comes whole with its head), served first.
    ready: Option<Bytes>,
    state: BodyState,
    conn: Option<Box<Conn>>,
    keep_alive: bool,
    pool: Arc<Pool>,
    /// Where the connection goes back to (taken when it does).
    key: Option<Key>,
}

enum BodyState {
    Length(u64),
    Chunked(Chunked),
    UntilClose,
    Done,
}

impl ResponseBody {
    fn start(head: h1::Head, conn: Box<Conn>, pool: Arc<Pool>, key: Key) -> BackendResponse {
        let state = match head.framing {
            Framing::Empty => BodyState::Done,
            Framing::Length(n) => BodyState::Length(n),
            Framing::Chunked => BodyState::Chunked(Chunked::default()),
            Framing::UntilClose => BodyState::UntilClose,
        };
        let mut body = ResponseBody {
            ready: None,
            state,
            conn: Some(conn),
            keep_alive: head.keep_alive,
            pool,
            key: Some(key),
        };
        match body.state {
            BodyState::Done => body.finish(),
            // The usual small answer arrived whole: the connection is free at once.
            BodyState::Length(n) if body.buffered() >= n => {
                body.ready = body.conn.as_mut().map(|c| c.buf.split_to(n as usize).freeze());
                body.state = BodyState::Done;
                body.finish();
            }
            _ => {}
        }
        BackendResponse {
            status: head.status,
            fields: head.fields,
            body,
        }
    }

    fn buffered(&self) -> u64 {
        self.conn.as_ref().map_or(0, |c| c.buf.len() as u64)
    }

    /// The body has been read: the connection goes back to the pool if it can be reused.
    fn finish(&mut self) {
        self.state = BodyState::Done;
        if let Some(conn) = self.conn.take()
            && self.keep_alive
            && conn.buf.is_empty()
            && let Some(key) = self.key.take()
        {
            self.pool.checkin(key, conn);
        }
    }

    fn fail(&mut self, e: std::io::Error) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        self.state = BodyState::Done;
        self.conn = None;
        Poll::Ready(Some(Err(e)))
    }
}

impl http_body::Body for ResponseBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = self.get_mut();
        if let Some(data) = this.ready.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        loop {
            let Some(conn) = this.conn.as_mut() else {
                return Poll::Ready(None);
            };
            match &mut this.state {
                BodyState::Done => return Poll::Ready(None),
                BodyState::Length(left) if !conn.buf.is_empty() => {
                    let n = (*left).min(conn.buf.len() as u64);
                    let data = conn.buf.split_to(n as usize).freeze();
                    *left -= n;
                    if *left == 0 {
                        this.finish();
                    }
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                BodyState::Chunked(chunked) => match chunked.decode(&mut conn.buf) {
                    Ok(Some(data)) => return Poll::Ready(Some(Ok(Frame::data(data)))),
                    Ok(None) if chunked.is_done() => {
                        this.finish();
                        return Poll::Ready(None);
                    }
                    Ok(None) => {}
                    Err(e) => return this.fail(std::io::Error::new(std::io::ErrorKind::InvalidData, e)),
                },
                BodyState::UntilClose if !conn.buf.is_empty() => {
                    return Poll::Ready(Some(Ok(Frame::data(conn.buf.split().freeze()))));
                }
                BodyState::Length(_) | BodyState::UntilClose => {}
            }
            match std::task::ready!(conn.poll_fill(cx)) {
                Ok(0) if matches!(this.state, BodyState::UntilClose) => {
                    this.state = BodyState::Done;
                    this.conn = None;
                    return Poll::Ready(None);
                }
                Ok(0) => {
                    return this.fail(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the backend closed the connection mid-body",
                    ));
                }
                Ok(_) => {}
                Err(e) => return this.fail(e),
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ready.is_none() && matches!(self.state, BodyState::Done)
    }

    fn size_hint(&self) -> SizeHint {
        let ready = self.ready.as_ref().map_or(0, |b| b.len() as u64);
        match self.state {
            BodyState::Done => SizeHint::with_exact(ready),
            BodyState::Length(left) => SizeHint::with_exact(ready + left),
            _ => SizeHint::default(),
        }
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client that verifies backends against the webpki root certificates.
pub fn verifying() -> BackendClient {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    BackendClient::new(tls)
}

/// A client that accepts any certificate (`tlsConfig.insecureSkipVerification`).
pub fn insecure() -> BackendClient {
    let tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider())))
        .with_no_client_auth();
    BackendClient::new(tls)
}

/// Skips certificate checks but still verifies the handshake signatures.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

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

    #[tokio::test]
    async fn the_sweep_closes_idle_connections_their_backend_closed() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = verifying();
        let uri: Uri = format!("http://{addr}/").parse().unwrap();
        let (key, _) = split_uri(&uri).unwrap();
        let (open, closed) = (
            client.connect(&key).await.unwrap(),
            client.connect(&key).await.unwrap(),
        );
        let (kept, _) = listener.accept().await.unwrap();
        let (hung_up, _) = listener.accept().await.unwrap();
        drop(hung_up);
        client.pool.checkin(key.clone(), open);
        client.pool.checkin(key.clone(), closed);
        tokio::time::sleep(Duration::from_millis(100)).await;
        client.pool.sweep();
        assert_eq!(client.pool.backends.lock().unwrap()[&key].idle.len(), 1);
        drop(kept);
        tokio::time::sleep(Duration::from_millis(100)).await;
        client.pool.sweep();
        assert!(
            client.pool.backends.lock().unwrap().is_empty(),
            "the backend is forgotten"
        );
    }

    fn soon() -> Budget {
        Budget::starting_now(Duration::from_secs(5))
    }

    fn full(s: &'static str) -> Body {
        crate::dataplane::full_body(Bytes::from_static(s.as_bytes()))
    }

    #[test]
    fn host_header_drops_the_default_port_and_user_info() {
        let host = |uri: &str| {
            let uri: Uri = uri.parse().unwrap();
            let (key, origin) = split_uri(&uri).unwrap();
            (host_header(&key).unwrap(), origin.to_owned())
        };
        assert_eq!(
            host("http://example.com:80/a?b=1"),
            ("example.com".parse().unwrap(), "/a?b=1".into())
        );
        assert_eq!(
            host("https://example.com:443"),
            ("example.com".parse().unwrap(), "/".into())
        );
        assert_eq!(
            host("http://u:p@example.com:8080/x"),
            ("example.com:8080".parse().unwrap(), "/x".into())
        );
        assert_eq!(
            host("https://example.com:80/"),
            ("example.com:80".parse().unwrap(), "/".into())
        );
        assert!(split_uri(&"/relative".parse().unwrap()).is_err());
        assert!(split_uri(&"ftp://example.com/".parse().unwrap()).is_err());
    }
}
