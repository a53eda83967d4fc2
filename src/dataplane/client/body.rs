//! A backend's answer: its head, and its body read from the connection as it is polled. The
//! connection goes back to the pool once the body has been read to its end.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body::{Frame, SizeHint};

use super::pool::{Conn, Key, Pool};
use crate::dataplane::BoxError;
use crate::dataplane::h1::client::{self as h1, Framing};
use crate::dataplane::h1::{Chunked, RawFields};

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
    pub(super) fn start(head: h1::Head, conn: Box<Conn>, pool: Arc<Pool>, key: Key) -> BackendResponse {
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
