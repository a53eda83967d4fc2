//! One client connection: requests read one after the other (pipelined ones too), each run
//! through the [`pipeline`] and answered in order, for as long as both sides keep the
//! connection alive.
//!
//! Limits: a request head must arrive whole within [`ClientTimeouts::head`] of the connection
//! going idle and be at most [`MAX_HEAD`] bytes
//! ([`MAX_HEADERS`](crate::dataplane::h1::MAX_HEADERS) fields, and AWS's 10,240 bytes of request
//! line and header values); a malformed one is answered 400 (431 when too large, 501 for a
//! transfer coding other than chunked) and the connection closed. A small body of known length
//! is read with its head; a larger or chunked one, or one whose client waits for
//! `100 Continue` (sent when the body is first read), streams to the integration as it asks for
//! it.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http::{Method, Request, StatusCode, Version};
use http_body::Body as _;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::transport::Transport;
use crate::dataplane::body::{GoAhead, READ_SIZE, RequestBody};
use crate::dataplane::context::Peer;
use crate::dataplane::h1::server::{self as h1, BodyFraming, Connection, RequestHead, ResponseFraming};
use crate::dataplane::h1::{MAX_HEAD, ProtocolError};
use crate::dataplane::pipeline::{self, Answer, AnswerIds};
use crate::dataplane::settings::ClientTimeouts;
use crate::dataplane::state::DataPlane;
use crate::dataplane::timer::LazyTimer;
use crate::dataplane::websocket::{self, session::Upgrade};

/// Bodies of known length up to this are read with their head, before the pipeline runs.
const BUFFERED_BODY: u64 = 64 << 10;
/// Answer bodies up to this are copied behind their head and sent in one write.
const COALESCED_BODY: usize = 16 << 10;
/// How long a closing connection waits for the client to close its side.
const LINGER: Duration = Duration::from_secs(2);

/// Serves the connection `stream` from `peer` (at `remote`).
pub async fn serve(stream: Transport, remote: SocketAddr, peer: Peer, dp: &DataPlane) {
    let mut conn = Conn {
        stream: Arc::new(stream),
        rbuf: BytesMut::with_capacity(READ_SIZE),
        wbuf: Vec::with_capacity(1024),
        timer: LazyTimer::default(),
        timeouts: dp.timeouts,
        now: std::time::Instant::now(),
        waited: false,
        go_ahead: None,
    };
    match conn.run(dp, peer).await {
        Ok(None) => {}
        // A WebSocket upgrade: the connection is the session's from here. Nothing else holds
        // the socket (an upgrade request has no body to stream).
        Ok(Some(upgrade)) => {
            let Conn { stream, rbuf, .. } = conn;
            match Arc::try_unwrap(stream) {
                // Boxed: a session's future is larger than the connection's other states, and
                // every connection's future would be as large (it is copied when it is boxed).
                Ok(stream) => {
                    Box::pin(crate::dataplane::websocket::session::serve(
                        dp, stream, rbuf, upgrade,
                    ))
                    .await
                }
                // Only a request body still being read holds the socket, and an upgrade has none.
                Err(_) => {
                    tracing::warn!(client = %remote, "an upgraded connection's socket is still shared; closed")
                }
            }
            return;
        }
        Err(e) => tracing::debug!(error = %e, client = %remote, "connection ended with an error"),
    }
    linger(&conn.stream).await;
}

/// Closes a connection so that its last answer is not lost: closing a socket with unread input
/// resets it, and a reset can discard what the client has not read yet. The write side shuts
/// down first; what the client still sends is read and dropped until it closes too, for a
/// moment and a megabyte at most.
async fn linger(stream: &Transport) {
    if tokio::time::timeout(LINGER, stream.shutdown_write())
        .await
        .map_or(true, |r| r.is_err())
    {
        return;
    }
    let drain = async {
        let mut scratch = BytesMut::with_capacity(READ_SIZE);
        let mut left = 1usize << 20;
        while left > 0 {
            scratch.clear();
            match std::future::poll_fn(|cx| stream.poll_fill(&mut scratch, cx)).await {
                Ok(0) | Err(_) => return,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
}

struct Conn {
    stream: Arc<Transport>,
    /// Bytes read and not yet used: the next request's head, or a pipelined request.
    rbuf: BytesMut,
    /// The answer being written.
    wbuf: Vec<u8>,
    /// For the head and body timeouts.
    timer: LazyTimer,
    timeouts: ClientTimeouts,
    /// A recent reading of the clock, which the next head's deadline counts from: when the
    /// connection opened, then when the last answer was ready, or when its sending last
    /// waited.
    now: std::time::Instant,
    /// Whether sending the answer had to wait (for the client to read, or for its body).
    waited: bool,
    /// The request's `100 Continue`, which its body sends when first read and the answer must
    /// not interrupt.
    go_ahead: Option<Arc<GoAhead>>,
}

#[derive(Debug, thiserror::Error)]
enum ConnError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error("the client was idle, or sent or read too slowly")]
    TimedOut,
}

impl Conn {
    /// Serves requests until the connection ends, or until one asks to become a WebSocket of a
    /// WebSocket API's stage (returned, for its session to take the connection).
    async fn run(&mut self, dp: &DataPlane, peer: Peer) -> Result<Option<Upgrade>, ConnError> {
        loop {
            let head = match self.read_head().await {
                Ok(Some(head)) => head,
                Ok(None) => return Ok(None),
                Err(ConnError::Protocol(e)) => {
                    let status = match e {
                        ProtocolError::HeadTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                        ProtocolError::TransferCoding => StatusCode::NOT_IMPLEMENTED,
                        _ => StatusCode::BAD_REQUEST,
                    };
                    self.write_all_of(&refusal(status)).await?;
                    return Err(e.into());
                }
                Err(e) => return Err(e),
            };
            let RequestHead {
                method,
                uri,
                version,
                fields,
                framing,
                keep_alive,
                expect_continue,
            } = head;
            let arrived = std::time::Instant::now();
            let head_request = method == Method::HEAD;
            // An upgrade has no body: one with a body (or pipelined behind another, or over
            // HTTP/1.0) is served as a plain request, which a WebSocket stage refuses.
            let asks_upgrade = fields.get(b"upgrade").is_some();
            let upgrade = asks_upgrade
                && framing == BodyFraming::Empty
                && version == Version::HTTP_11
                && websocket::is_upgrade(&method, &fields);
            let (body, returned) = self.body(framing, expect_continue, arrived).await?;
            let (mut parts, ()) = Request::new(()).into_parts();
            parts.method = method;
            parts.uri = uri;
            parts.version = version;
            if upgrade && let Some(stage) = websocket::session::target(dp, &parts, &fields, &peer) {
                return Ok(Some(Upgrade {
                    parts,
                    fields,
                    peer,
                    stage,
                }));
            }

            let answer = pipeline::handle(dp, &parts, &fields, body, &peer, arrived).await;
            self.now = answer.ready;

            // A streamed body hands the read buffer back once read to its end; one the pipeline
            // left unread leaves the rest of it on the connection, which must then close. A
            // request that asked for an upgrade and was answered without one closes it too: a
            // proxy in front may already tunnel the connection.
            // A TLS client its domain's truststore no longer vouches for closes too: its
            // certificate cannot change on the connection, so the connection is of no more use.
            let refused = peer.tls().is_some_and(crate::tls::TlsSession::refused);
            let mut reusable = keep_alive && !asks_upgrade && !refused;
            if let Some(mut returned) = returned {
                match returned.try_recv() {
                    Ok(buf) => self.rbuf = buf,
                    Err(_) => reusable = false,
                }
            }
            // From here the answer is on the wire: a go-ahead not begun is never sent, one the
            // body left half written is finished first (an interim answer, then the final one).
            if let Some(go_ahead) = self.go_ahead.take() {
                let rest = go_ahead.answer_begins();
                if !rest.is_empty() {
                    self.write_all_of(rest).await?;
                }
            }
            let head = self.write_head(&answer, head_request, version, reusable);
            if !self.write_body(head, answer.response.into_body()).await? {
                return Ok(None);
            }
            if std::mem::take(&mut self.waited) {
                self.now = std::time::Instant::now();
            }
        }
    }

    /// The next request's head; `None` when the client closes the connection between requests.
    async fn read_head(&mut self) -> Result<Option<RequestHead>, ConnError> {
        let deadline = Instant::from_std(self.now + self.timeouts.head);
        // How far the buffer is known to hold no end of a head: a head sent a byte at a time is
        // parsed once it can be whole, not once per byte.
        let mut scanned = 0;
        loop {
            // The first look parses at once: the usual head arrives whole in one read.
            if scanned == 0 || h1::may_hold_head(&self.rbuf, scanned) {
                if let Some(head) = h1::parse_request(&mut self.rbuf)? {
                    return Ok(Some(head));
                }
            } else if self.rbuf.len() > MAX_HEAD {
                return Err(ProtocolError::HeadTooLarge.into());
            }
            scanned = self.rbuf.len();
            if self.fill_before(deadline).await? == 0 {
                return match self.rbuf.is_empty() {
                    true => Ok(None),
                    false => Err(ProtocolError::Unsupported("a head cut short").into()),
                };
            }
        }
    }

    /// The request's body: read now when small, else a stream the pipeline reads (with the
    /// receiver of the read buffer it hands back). Its deadlines count from when its head
    /// `arrived`.
    async fn body(
        &mut self,
        framing: BodyFraming,
        expect_continue: bool,
        arrived: std::time::Instant,
    ) -> Result<(RequestBody, Option<oneshot::Receiver<BytesMut>>), ConnError> {
        let length = match framing {
            BodyFraming::Empty => return Ok((RequestBody::empty(), None)),
            BodyFraming::Length(n) => Some(n),
            BodyFraming::Chunked => None,
        };
        let whole = length.is_some_and(|n| n <= self.rbuf.len() as u64);
        // A client waiting for `100 Continue` gets it when its body is first read: once the
        // request is routed and allowed, not for one refused without its body.
        let go_ahead = expect_continue && !whole;
        match length {
            Some(n) if n <= BUFFERED_BODY && !go_ahead => {
                let deadline = Instant::from_std(arrived + self.timeouts.head);
                while (self.rbuf.len() as u64) < n {
                    if self.fill_before(deadline).await? == 0 {
                        return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
                    }
                }
                Ok((RequestBody::full(self.rbuf.split_to(n as usize).freeze()), None))
            }
            _ => {
                let buf = std::mem::take(&mut self.rbuf);
                let deadline = Instant::from_std(arrived + self.timeouts.body);
                let go_ahead = go_ahead.then(|| {
                    let shared = Arc::new(GoAhead::default());
                    self.go_ahead = Some(shared.clone());
                    shared
                });
                let (body, returned) =
                    RequestBody::streaming(self.stream.clone(), buf, length, go_ahead, deadline);
                Ok((body, Some(returned)))
            }
        }
    }

    /// Reads more of the request into the buffer; 0 when the client has closed its side.
    async fn fill_before(&mut self, deadline: Instant) -> Result<usize, ConnError> {
        std::future::poll_fn(|cx| {
            if let Poll::Ready(r) = self.stream.poll_fill(&mut self.rbuf, cx) {
                return Poll::Ready(r.map_err(ConnError::from));
            }
            // Armed once per connection and moved forward only when it fires early: resetting
            // a timer on every request would cost more than the rest of reading it.
            self.timer
                .poll_passed(deadline, cx)
                .map(|()| Err(ConnError::TimedOut))
        })
        .await
    }

    /// Encodes the answer's head into the write buffer; how its body goes out. (Apart from
    /// [`Conn::write_body`] so that the future that waits holds the body, not the whole answer.)
    fn write_head(
        &mut self,
        answer: &Answer,
        head_request: bool,
        version: Version,
        keep_alive: bool,
    ) -> AnswerHead {
        let status = answer.response.status();
        let body = answer.response.body();
        let bodiless_status = status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED;
        // The answer to a HEAD says only the length the answer itself declares (that of the
        // GET), never the empty body it carries.
        let framing = match body.size_hint().exact() {
            _ if bodiless_status || head_request => ResponseFraming::Bare,
            Some(n) => ResponseFraming::Length(n),
            None if version == Version::HTTP_10 => ResponseFraming::Bare,
            None => ResponseFraming::Chunked,
        };
        let sends_body = !head_request && !bodiless_status;
        // A body of unknown length to an HTTP/1.0 client ends with the connection.
        let reusable = keep_alive && !(sends_body && framing == ResponseFraming::Bare);
        // Said either way, as AWS says it (`Connection: keep-alive` on every answer it keeps
        // the connection after, HTTP/1.1's too).
        let connection = if reusable {
            Connection::KeepAlive
        } else {
            Connection::Close
        };
        let ids = answer.ids.as_ref().map(AnswerIds::headers);
        self.wbuf.clear();
        let fields = h1::AnswerFields {
            headers: answer.response.headers(),
            passed: answer.passed.as_ref(),
        };
        h1::encode_response_head(
            &mut self.wbuf,
            status,
            fields,
            ids.as_ref().map_or(&[], |h| &h[..]),
            framing,
            head_request,
            connection,
            &super::date::of(crate::dataplane::clock::wall(answer.ready)),
        );
        AnswerHead {
            framing,
            sends_body,
            reusable,
        }
    }

    /// Sends the head in the write buffer and the body after it; whether the connection can
    /// carry another request.
    async fn write_body(
        &mut self,
        head: AnswerHead,
        mut body: crate::dataplane::Body,
    ) -> Result<bool, ConnError> {
        let AnswerHead {
            framing,
            sends_body,
            reusable,
        } = head;
        if !sends_body {
            self.flush().await?;
            return Ok(reusable);
        }

        let mut sent = 0u64;
        loop {
            // Frames that are ready join the head in one write; before waiting for one, what
            // is gathered goes out.
            let ready = Pin::new(&mut body).poll_frame(&mut Context::from_waker(Waker::noop()));
            let frame = match ready {
                Poll::Ready(frame) => frame,
                Poll::Pending => {
                    self.flush().await?;
                    self.waited = true;
                    std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
                }
            };
            let data = match frame {
                None => break,
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => data,
                    Err(_) => continue,
                },
                Some(Err(e)) => {
                    // The head is out: all that can be done is to cut the answer short.
                    self.flush().await?;
                    tracing::debug!(error = %e, "answer body failed; closing the connection");
                    return Ok(false);
                }
            };
            if data.is_empty() {
                continue;
            }
            sent += data.len() as u64;
            match framing {
                ResponseFraming::Length(n) if sent > n => {
                    tracing::debug!("answer body longer than its length; closing the connection");
                    self.flush().await?;
                    return Ok(false);
                }
                ResponseFraming::Chunked => {
                    use std::io::Write as _;
                    let _ = write!(self.wbuf, "{:x}\r\n", data.len());
                    self.put(data).await?;
                    self.wbuf.extend_from_slice(b"\r\n");
                }
                _ => self.put(data).await?,
            }
        }
        if framing == ResponseFraming::Chunked {
            self.wbuf.extend_from_slice(b"0\r\n\r\n");
        }
        self.flush().await?;
        Ok(reusable && !matches!(framing, ResponseFraming::Length(n) if sent != n))
    }

    /// Queues `data` behind what is gathered, or sends both when it is large.
    async fn put(&mut self, data: Bytes) -> Result<(), ConnError> {
        if self.wbuf.len() + data.len() <= COALESCED_BODY {
            self.wbuf.extend_from_slice(&data);
            return Ok(());
        }
        self.flush().await?;
        self.write_all_of(&data).await
    }

    async fn flush(&mut self) -> Result<(), ConnError> {
        let mut out = std::mem::take(&mut self.wbuf);
        let sent = self.write_all_of(&out).await;
        out.clear();
        self.wbuf = out;
        sent
    }

    /// Sends `data`, waiting while the client does not read, for up to the write timeout each
    /// time (on the connection's timer: `tokio::time::timeout` would make every answer's
    /// future carry a timer entry of its own).
    async fn write_all_of(&mut self, mut data: &[u8]) -> Result<(), ConnError> {
        let tls = matches!(*self.stream, Transport::Tls(_));
        while !data.is_empty() {
            let sent = match self.stream.try_write(data) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    self.waited = true;
                    let deadline = Instant::now() + self.timeouts.write;
                    let (stream, timer) = (&self.stream, &mut self.timer);
                    std::future::poll_fn(|cx| match stream.poll_write(cx, data) {
                        Poll::Ready(sent) => Poll::Ready(sent.map_err(ConnError::from)),
                        Poll::Pending => timer.poll_passed(deadline, cx).map(|()| Err(ConnError::TimedOut)),
                    })
                    .await?
                }
                sent => sent?,
            };
            if sent == 0 {
                return Err(std::io::Error::from(std::io::ErrorKind::WriteZero).into());
            }
            data = &data[sent..];
        }
        if tls {
            // What rustls still holds goes out before the answer counts as sent.
            let deadline = Instant::now() + self.timeouts.write;
            let (stream, timer) = (&self.stream, &mut self.timer);
            std::future::poll_fn(|cx| match stream.poll_flush(cx) {
                Poll::Ready(done) => Poll::Ready(done.map_err(ConnError::from)),
                Poll::Pending => timer.poll_passed(deadline, cx).map(|()| Err(ConnError::TimedOut)),
            })
            .await?;
        }
        Ok(())
    }
}

/// How an answer whose head is encoded goes on.
struct AnswerHead {
    framing: ResponseFraming,
    /// Whether a body follows the head (none for HEAD, 1xx, 204 and 304 answers).
    sends_body: bool,
    /// Whether the connection can carry another request after this answer.
    reusable: bool,
}

/// The answer to a request that cannot be read: no body, and the connection closes.
fn refusal(status: StatusCode) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    h1::encode_response_head(
        &mut out,
        status,
        h1::AnswerFields {
            headers: &http::HeaderMap::new(),
            passed: None,
        },
        &[],
        ResponseFraming::Length(0),
        false,
        Connection::Close,
        &super::date::of(std::time::SystemTime::now()),
    );
    out
}
