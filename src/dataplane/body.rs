//! A request's body as the pipeline reads it: nothing, a buffer read with the head, or a stream
//! still arriving on the client's connection.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body::{Frame, SizeHint};
use tokio::net::TcpStream;
use tokio::sync::oneshot;

use crate::dataplane::server::transport::Transport;

use crate::dataplane::h1::Chunked;

pub struct RequestBody {
    kind: Kind,
}

enum Kind {
    Empty,
    /// Read whole with the head (a small body of known length).
    Full(Bytes),
    Streaming(Box<Streaming>),
}

/// A body read from the connection as the pipeline asks for it. It holds the connection's read
/// buffer while it does, and hands it back (with whatever followed the body) once read to the
/// end; a body dropped before then leaves the connection unusable, and it is closed.
struct Streaming {
    stream: Arc<Transport>,
    buf: BytesMut,
    framing: Framing,
    give_back: Option<oneshot::Sender<BytesMut>>,
    /// The `100 Continue` the client waits for, if it does: it goes out when the body is first
    /// read, unless the connection has begun the final answer ([`GoAhead`]).
    go_ahead: Option<Arc<GoAhead>>,
    /// The whole body must have arrived by then.
    deadline: tokio::time::Instant,
    /// Armed the first time the body has to wait.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

enum Framing {
    Length(u64),
    Chunked(Chunked),
}

impl RequestBody {
    pub fn empty() -> Self {
        Self { kind: Kind::Empty }
    }

    pub fn full(bytes: Bytes) -> Self {
        Self {
            kind: Kind::Full(bytes),
        }
    }

    /// A body of `length` bytes (or chunked, when `None`) still to come on `stream` before
    /// `deadline`, of which `buf` holds the first bytes; `go_ahead`: the client waits for a
    /// `100 Continue` before sending it (shared with the connection, which may begin the final
    /// answer first). The receiver gets the buffer back when the body is done.
    pub fn streaming(
        stream: Arc<Transport>,
        buf: BytesMut,
        length: Option<u64>,
        go_ahead: Option<Arc<GoAhead>>,
        deadline: tokio::time::Instant,
    ) -> (Self, oneshot::Receiver<BytesMut>) {
        let (give_back, returned) = oneshot::channel();
        let framing = match length {
            Some(n) => Framing::Length(n),
            None => Framing::Chunked(Chunked::default()),
        };
        let body = Streaming {
            stream,
            buf,
            framing,
            give_back: Some(give_back),
            go_ahead,
            deadline,
            timer: None,
        };
        (
            Self {
                kind: Kind::Streaming(Box::new(body)),
            },
            returned,
        )
    }
}

/// The interim answer a client that sent `Expect: 100-continue` waits for.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// How far a request's `100 Continue` went, shared by its body (which sends it) and the
/// connection (which answers): bytes of it written (0 to its length), [`GoAhead::SENT`] once
/// flushed, [`GoAhead::ANSWERING`] once the final answer began. The connection, starting the
/// answer, finishes a go-ahead the body left half written ([`GoAhead::answer_begins`]), so that
/// the client never reads an answer inside another. (The body is read on the connection's own
/// task, so the two never write at once.)
#[derive(Debug, Default)]
pub struct GoAhead(std::sync::atomic::AtomicUsize);

impl GoAhead {
    const SENT: usize = usize::MAX - 1;
    const ANSWERING: usize = usize::MAX;

    /// The final answer begins: what of the go-ahead must still precede it (the rest of a
    /// half-written one; nothing when none was begun, which is then never sent).
    pub fn answer_begins(&self) -> &'static [u8] {
        match self.0.swap(Self::ANSWERING, std::sync::atomic::Ordering::AcqRel) {
            n if n > 0 && n < CONTINUE.len() => &CONTINUE[n..],
            _ => &[],
        }
    }
}

impl Streaming {
    /// Sends the `100 Continue` the client waits for, if it does.
    fn poll_go_ahead(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        use std::sync::atomic::Ordering::{AcqRel, Acquire};
        let Some(go) = &self.go_ahead else {
            return Poll::Ready(Ok(()));
        };
        loop {
            match go.0.load(Acquire) {
                // Sent; or the final answer came first, and the client reads it instead (RFC
                // 9110 §10.1.1: the connection finishes a half-sent go-ahead before it).
                GoAhead::SENT | GoAhead::ANSWERING => break,
                n if n == CONTINUE.len() => {
                    // Over TLS, the records may still be rustls's: the client waits for them.
                    std::task::ready!(self.stream.poll_flush(cx))?;
                    let _ = go.0.compare_exchange(n, GoAhead::SENT, AcqRel, Acquire);
                    break;
                }
                sent => match std::task::ready!(self.stream.poll_write(cx, &CONTINUE[sent..])) {
                    Ok(0) => return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into())),
                    Ok(n) => {
                        // The connection may have begun the answer meanwhile: it then owns the rest.
                        let _ = go.0.compare_exchange(sent, sent + n, AcqRel, Acquire);
                    }
                    Err(e) => return Poll::Ready(Err(e)),
                },
            }
        }
        self.go_ahead = None;
        Poll::Ready(Ok(()))
    }

    /// Pending until the body's deadline, then its error.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let deadline = self.deadline;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        std::task::ready!(timer.as_mut().poll(cx));
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            "the client did not send the body in time",
        ))))
    }

    fn finish(&mut self) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if let Some(tx) = self.give_back.take() {
            let _ = tx.send(std::mem::take(&mut self.buf));
        }
        Poll::Ready(None)
    }

    fn poll_data(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        use std::io::{Error, ErrorKind};
        if self.give_back.is_none() {
            return Poll::Ready(None);
        }
        match self.poll_go_ahead(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(e))),
            Poll::Pending => return self.poll_deadline(cx),
        }
        loop {
            match &mut self.framing {
                Framing::Length(0) => return self.finish(),
                Framing::Length(left) if !self.buf.is_empty() => {
                    let n = (*left).min(self.buf.len() as u64);
                    *left -= n;
                    return Poll::Ready(Some(Ok(Frame::data(self.buf.split_to(n as usize).freeze()))));
                }
                Framing::Length(_) => {}
                Framing::Chunked(decoder) => match decoder.decode(&mut self.buf) {
                    Ok(Some(data)) => return Poll::Ready(Some(Ok(Frame::data(data)))),
                    Ok(None) if decoder.is_done() => return self.finish(),
                    Ok(None) => {}
                    Err(e) => return Poll::Ready(Some(Err(Error::new(ErrorKind::InvalidData, e)))),
                },
            }
            let filled = match self.stream.poll_fill(&mut self.buf, cx) {
                Poll::Ready(filled) => filled,
                Poll::Pending => return self.poll_deadline(cx),
            };
            match filled {
                Ok(0) => {
                    return Poll::Ready(Some(Err(Error::new(
                        ErrorKind::UnexpectedEof,
                        "the client closed the connection before the end of the body",
                    ))));
                }
                Ok(_) => {}
                Err(e) => return Poll::Ready(Some(Err(e))),
            }
        }
    }
}

impl http_body::Body for RequestBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match &mut self.kind {
            Kind::Empty => Poll::Ready(None),
            Kind::Full(bytes) if bytes.is_empty() => Poll::Ready(None),
            Kind::Full(bytes) => Poll::Ready(Some(Ok(Frame::data(std::mem::take(bytes))))),
            Kind::Streaming(body) => body.poll_data(cx),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Empty => true,
            Kind::Full(bytes) => bytes.is_empty(),
            Kind::Streaming(body) => body.give_back.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Empty => SizeHint::with_exact(0),
            Kind::Full(bytes) => SizeHint::with_exact(bytes.len() as u64),
            Kind::Streaming(body) => match body.framing {
                Framing::Length(left) => SizeHint::with_exact(left),
                Framing::Chunked(_) => SizeHint::default(),
            },
        }
    }
}

/// The room a read gets.
pub const READ_SIZE: usize = 8 << 10;

/// Reads what the client sent on a TCP connection into `buf`; 0 at its end. Shared by the
/// connection, for heads, and by streamed bodies, which read the same socket through their own
/// handle ([`Transport::poll_fill`]).
///
/// A read that leaves room in the buffer has drained the socket, and its readiness is cleared
/// with it, as tokio's own `poll_read` does: the next read then waits for the runtime to see
/// more arrive, instead of trying at once and finding nothing. Reading right after each answer
/// found nothing (EAGAIN) on most requests; those syscalls and the wakeups around them cost a
/// fifth of the throughput of a proxied request.
pub fn poll_fill_tcp(
    stream: &TcpStream,
    buf: &mut BytesMut,
    cx: &mut Context<'_>,
) -> Poll<std::io::Result<usize>> {
    use std::io::ErrorKind::WouldBlock;
    if buf.capacity() - buf.len() < 1024 {
        buf.reserve(READ_SIZE);
    }
    let room = buf.capacity() - buf.len();
    loop {
        std::task::ready!(stream.poll_read_ready(cx))?;
        let mut read = 0;
        // `try_io` clears the readiness it saw before the read when the closure says
        // WouldBlock: a short read says so, keeping what it read in `read`.
        let result = stream.try_io(tokio::io::Interest::READABLE, || {
            read = stream.try_read_buf(buf)?;
            match read {
                n if n > 0 && n < room => Err(WouldBlock.into()),
                n => Ok(n),
            }
        });
        match result {
            Ok(n) => return Poll::Ready(Ok(n)),
            Err(e) if e.kind() == WouldBlock && read > 0 => return Poll::Ready(Ok(read)),
            Err(e) if e.kind() == WouldBlock => continue,
            Err(e) => return Poll::Ready(Err(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A streamed body on a real socket, its client waiting for `100 Continue`; `answered`:
    /// whether the connection had begun the final answer before the body was first read.
    /// What the client received before the body was read whole.
    async fn first_read(answered: bool) -> Vec<u8> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        let flag = Arc::new(GoAhead::default());
        if answered {
            assert!(flag.answer_begins().is_empty(), "nothing of it was sent");
        }
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        let (body, _returned) = RequestBody::streaming(
            Arc::new(Transport::from(server)),
            BytesMut::new(),
            Some(4),
            Some(flag),
            deadline,
        );
        // The client sends its body at once (as one that stops waiting does).
        client.write_all(b"ping").await.unwrap();
        let read = body.collect().await.unwrap().to_bytes();
        assert_eq!(&read[..], b"ping");
        let mut got = vec![0u8; 64];
        let n = tokio::time::timeout(std::time::Duration::from_millis(200), client.read(&mut got))
            .await
            .map_or(0, |r| r.unwrap());
        got.truncate(n);
        got
    }

    #[test]
    fn an_answer_begun_finishes_a_half_written_go_ahead_first() {
        let go = GoAhead::default();
        go.0.store(10, Ordering::Release);
        assert_eq!(go.answer_begins(), &CONTINUE[10..]);
        // Once: the answer owns the rest.
        assert!(go.answer_begins().is_empty());
        let whole = GoAhead::default();
        whole.0.store(CONTINUE.len(), Ordering::Release);
        assert!(whole.answer_begins().is_empty(), "written whole: nothing to add");
        let sent = GoAhead::default();
        sent.0.store(GoAhead::SENT, Ordering::Release);
        assert!(sent.answer_begins().is_empty());
    }

    #[tokio::test]
    async fn the_go_ahead_is_sent_on_the_first_read_unless_the_answer_began() {
        assert_eq!(first_read(false).await, CONTINUE);
        assert!(
            first_read(true).await.is_empty(),
            "no interim answer once the final one is on its way"
        );
    }
}
