//! A client connection's transport: plain TCP, or TLS on a worker's TLS listener. The
//! connection, its streamed request bodies and an upgraded WebSocket session read and write
//! it through a shared reference, as they did the bare socket.
//!
//! TCP keeps its fast path: reads that clear the socket's readiness when they drain it, and
//! writes tried at once. TLS goes through tokio-rustls behind a mutex held only inside one
//! poll (never across an await): the connection writes an answer while a streamed body may be
//! read by the integration, each polling in turn. A TLS read can need a write (a key update);
//! its waker then stands for both, which at worst delays a concurrent writer until the socket
//! next changes.

use std::io;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::dataplane::body::{READ_SIZE, poll_fill_tcp};

type TlsStream = tokio_rustls::server::TlsStream<TcpStream>;

pub enum Transport {
    Tcp(TcpStream),
    /// Boxed: a TLS stream is a kilobyte, and most connections are plain.
    Tls(Box<Mutex<TlsStream>>),
}

impl From<TcpStream> for Transport {
    fn from(s: TcpStream) -> Self {
        Transport::Tcp(s)
    }
}

impl From<TlsStream> for Transport {
    fn from(s: TlsStream) -> Self {
        Transport::Tls(Box::new(Mutex::new(s)))
    }
}

impl Transport {
    fn tls(m: &Mutex<TlsStream>) -> std::sync::MutexGuard<'_, TlsStream> {
        // A poll that panicked left the stream as rustls had it: still a stream.
        m.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads what the client sent into `buf`; 0 at its end.
    pub fn poll_fill(&self, buf: &mut BytesMut, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        match self {
            Transport::Tcp(s) => poll_fill_tcp(s, buf, cx),
            Transport::Tls(m) => {
                if buf.capacity() - buf.len() < 1024 {
                    buf.reserve(READ_SIZE);
                }
                let mut s = Self::tls(m);
                tokio_util::io::poll_read_buf(Pin::new(&mut *s), cx, buf)
            }
        }
    }

    /// Writes what it can of `data` now; `WouldBlock` when nothing can be.
    pub fn try_write(&self, data: &[u8]) -> io::Result<usize> {
        match self {
            Transport::Tcp(s) => s.try_write(data),
            Transport::Tls(_) => match self.poll_write(&mut Context::from_waker(Waker::noop()), data) {
                Poll::Ready(r) => r,
                Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
            },
        }
    }

    /// Writes some of `data`, waiting for the socket to take it.
    pub fn poll_write(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        match self {
            Transport::Tcp(s) => loop {
                match s.try_write(data) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        std::task::ready!(s.poll_write_ready(cx))?;
                    }
                    r => return Poll::Ready(r),
                }
            },
            Transport::Tls(m) => Pin::new(&mut *Self::tls(m)).poll_write(cx, data),
        }
    }

    /// Sends what TLS still holds of what was written (nothing to do for TCP).
    pub fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            Transport::Tcp(_) => Poll::Ready(Ok(())),
            Transport::Tls(m) => Pin::new(&mut *Self::tls(m)).poll_flush(cx),
        }
    }

    /// Ends the sending side: TLS's close_notify first, then the socket's FIN.
    pub async fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Transport::Tcp(s) => socket2::SockRef::from(s).shutdown(std::net::Shutdown::Write),
            // tokio-rustls shuts the socket's sending side down after its close_notify.
            Transport::Tls(m) => {
                std::future::poll_fn(|cx| Pin::new(&mut *Self::tls(m)).poll_shutdown(cx)).await
            }
        }
    }
}

/// An upgraded (WebSocket) connection owns its transport and reads and writes it as a stream.
impl AsyncRead for Transport {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Transport::Tls(m) => Pin::new(m.get_mut().unwrap_or_else(|e| e.into_inner())).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_write(cx, data),
            Transport::Tls(m) => {
                Pin::new(m.get_mut().unwrap_or_else(|e| e.into_inner())).poll_write(cx, data)
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_flush(cx),
            Transport::Tls(m) => Pin::new(m.get_mut().unwrap_or_else(|e| e.into_inner())).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Transport::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Transport::Tls(m) => Pin::new(m.get_mut().unwrap_or_else(|e| e.into_inner())).poll_shutdown(cx),
        }
    }
}
