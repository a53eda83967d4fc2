//! One request and its answer's head on a connection: the head (with a small body) written at
//! once, a larger body streamed while the connection is watched for an early answer, then the
//! answer's head read, interim (1xx) answers skipped.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::Poll;

use bytes::{Buf, Bytes};
use http_body::Body as _;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use super::pool::Conn;
use crate::dataplane::h1::client::{self as h1, RequestFraming};
use crate::dataplane::{Body, BoxError};

/// How an exchange failed.
pub(super) struct ExchangeError {
    pub(super) error: BoxError,
    /// The connection failed before a byte of the answer arrived, which on a reused connection
    /// means it was closed under the request.
    pub(super) before_answer: bool,
    /// The request's own body failed (the client's side: cut short, malformed, too slow).
    pub(super) request_body: bool,
}

impl ExchangeError {
    fn early(error: impl Into<BoxError>) -> Self {
        Self {
            error: error.into(),
            before_answer: true,
            request_body: false,
        }
    }

    fn late(error: impl Into<BoxError>) -> Self {
        Self {
            error: error.into(),
            before_answer: false,
            request_body: false,
        }
    }
}

/// Writes the request (its head and buffered body in `out`, then any streamed body) and reads
/// the answer's head, skipping interim (1xx) answers.
pub(super) async fn exchange(
    conn: &mut Conn,
    out: &[u8],
    streamed: Option<Body>,
    framing: RequestFraming,
    head_request: bool,
) -> Result<h1::Head, ExchangeError> {
    conn.io.write_all(out).await.map_err(ExchangeError::early)?;
    if let Some(body) = streamed
        && let Some(mut early) = upload(conn, body, framing, head_request).await?
    {
        // The backend answered before it had the whole body: what it did not read is still
        // on the connection, or was never sent.
        early.keep_alive = false;
        return Ok(early);
    }
    conn.io.flush().await.map_err(ExchangeError::early)?;
    let mut received = !conn.buf.is_empty();
    loop {
        if let Some(head) = answer_head(conn, head_request)? {
            return Ok(head);
        }
        match conn.fill().await {
            Ok(0) => {
                return Err(ExchangeError {
                    error: "the backend closed the connection without answering".into(),
                    before_answer: !received,
                    request_body: false,
                });
            }
            Ok(_) => received = true,
            Err(e) if !received => return Err(ExchangeError::early(e)),
            Err(e) => return Err(ExchangeError::late(e)),
        }
    }
}

/// The final answer's head, once the connection's buffer holds it (interim answers are
/// dropped).
#[inline]
fn answer_head(conn: &mut Conn, head_request: bool) -> Result<Option<h1::Head>, ExchangeError> {
    loop {
        match h1::parse_head(&mut conn.buf, head_request) {
            Ok(Some(head)) if head.status == http::StatusCode::SWITCHING_PROTOCOLS => {
                return Err(ExchangeError::late("the backend switched protocols"));
            }
            Ok(Some(head)) if head.status.is_informational() => continue,
            Ok(head) => return Ok(head),
            Err(e) => return Err(ExchangeError::late(e)),
        }
    }
}

/// Streams a request body, framed as `framing` says, while watching the connection for the
/// backend's answer: a backend may answer before it has read the body (a 413 for one too
/// large, a 401) and stop reading, and waiting to finish sending would hold the request until
/// its deadline. Such an answer's head is returned at once (what is left of the body is not
/// sent); `None` once the whole body is out.
async fn upload(
    conn: &mut Conn,
    mut body: Body,
    framing: RequestFraming,
    head_request: bool,
) -> Result<Option<h1::Head>, ExchangeError> {
    let mismatch = || ExchangeError::late("the request body does not match its length");
    let body_failed = |e: BoxError| ExchangeError {
        error: e,
        before_answer: false,
        request_body: true,
    };
    // What is framed and not yet written: a chunk is its size line, its data and its CRLF.
    let mut queue: VecDeque<Bytes> = VecDeque::new();
    let mut sent = 0u64;
    let mut ended = false;
    std::future::poll_fn(|cx| {
        loop {
            // An answer arriving while the body goes out.
            if let Poll::Ready(read) = conn.poll_fill(cx) {
                match read {
                    Ok(0) => {
                        return Poll::Ready(Err(ExchangeError {
                            error: "the backend closed the connection while the request body was sent".into(),
                            before_answer: conn.buf.is_empty(),
                            request_body: false,
                        }));
                    }
                    Ok(_) => match answer_head(conn, head_request)? {
                        Some(head) => return Poll::Ready(Ok(Some(head))),
                        None => continue,
                    },
                    Err(e) => return Poll::Ready(Err(ExchangeError::early(e))),
                }
            }
            if let Some(front) = queue.front_mut() {
                match Pin::new(&mut conn.io).poll_write(cx, front) {
                    Poll::Ready(Ok(0)) => {
                        let zero = std::io::Error::from(std::io::ErrorKind::WriteZero);
                        return Poll::Ready(Err(ExchangeError::early(zero)));
                    }
                    Poll::Ready(Ok(n)) => {
                        front.advance(n);
                        if front.is_empty() {
                            queue.pop_front();
                        }
                        continue;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(ExchangeError::early(e))),
                    Poll::Pending => return Poll::Pending,
                }
            }
            if ended {
                return Poll::Ready(Ok(None));
            }
            match Pin::new(&mut body).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    let Ok(data) = frame.into_data() else {
                        continue;
                    };
                    if data.is_empty() {
                        continue;
                    }
                    // More than the declared length would be read by the backend as another
                    // request.
                    sent += data.len() as u64;
                    if matches!(framing, RequestFraming::Length(n) if sent > n) {
                        return Poll::Ready(Err(mismatch()));
                    }
                    if framing == RequestFraming::Chunked {
                        queue.push_back(Bytes::from(format!("{:x}\r\n", data.len())));
                        queue.push_back(data);
                        queue.push_back(Bytes::from_static(b"\r\n"));
                    } else {
                        queue.push_back(data);
                    }
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(body_failed(e))),
                Poll::Ready(None) => {
                    ended = true;
                    match framing {
                        RequestFraming::Chunked => queue.push_back(Bytes::from_static(b"0\r\n\r\n")),
                        RequestFraming::Length(n) if sent != n => return Poll::Ready(Err(mismatch())),
                        _ => {}
                    }
                }
                Poll::Pending => return Poll::Pending,
            }
        }
    })
    .await
}
