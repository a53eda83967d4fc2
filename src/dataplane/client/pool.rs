//! The pool of idle keep-alive connections, per backend (scheme and authority), kept per
//! data-plane thread: a connection is checked out for one request and back in once its answer
//! has been read to the end; a sweeper closes the ones idle too long or closed by their backend.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::BytesMut;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderValue, Uri};
use hyper_rustls::MaybeHttpsStream;
use hyper_util::rt::TokioIo;

use crate::dataplane::BoxError;
use crate::dataplane::timer::LazyTimer;

/// Idle connections kept per backend (scheme and authority).
const MAX_IDLE_PER_BACKEND: usize = 1024;
/// An idle connection older than this is closed rather than reused.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// How often idle connections are looked over.
const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// Where a connection goes: requests to the same scheme and authority share connections.
#[derive(Clone)]
pub(super) struct Key {
    pub(super) https: bool,
    pub(super) authority: Authority,
}

impl Key {
    /// A key that names no backend, left behind where one is moved out.
    pub(super) fn placeholder() -> Self {
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

pub(super) type Stream = TokioIo<MaybeHttpsStream<TokioIo<tokio::net::TcpStream>>>;

/// One connection to a backend, with what has been read from it and not yet used.
pub(super) struct Conn {
    pub(super) io: Stream,
    pub(super) buf: BytesMut,
    /// How much room the next read gets.
    pub(super) read_size: usize,
    /// When the last request it carried began: the pool's idle timeout counts from there (a
    /// little early, which errs towards closing), and that reading was taken anyway.
    pub(super) last_used: Instant,
    /// For the request's deadline while its answer's head is awaited.
    pub(super) timer: LazyTimer,
}

impl Conn {
    pub(super) fn tcp(&self) -> &tokio::net::TcpStream {
        match self.io.inner() {
            MaybeHttpsStream::Http(tcp) => tcp.inner(),
            MaybeHttpsStream::Https(tls) => tls.inner().get_ref().0.inner().inner(),
        }
    }

    /// Whether an idle connection can carry a request: nothing has arrived on it since its last
    /// answer, not even the backend's FIN. Asks the runtime's readiness, not the kernel.
    pub(super) fn is_open(&self) -> bool {
        let mut cx = Context::from_waker(Waker::noop());
        self.tcp().poll_read_ready(&mut cx).is_pending()
    }

    /// Reads what the backend sent into `buf`; 0 at its end.
    /// Reads grow while they fill the buffer (a large body streaming in), up to 256 KiB.
    pub(super) fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
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

    pub(super) async fn fill(&mut self) -> std::io::Result<usize> {
        std::future::poll_fn(|cx| self.poll_fill(cx)).await
    }
}

#[derive(Default)]
pub(super) struct Pool {
    pub(super) backends: Mutex<HashMap<Key, Backend, foldhash::fast::RandomState>>,
    /// Whether the sweeper runs: started with the first idle connection.
    pub(super) sweeping: AtomicBool,
}

/// One backend's idle connections, and its `Host` header, made once.
pub(super) struct Backend {
    host: HeaderValue,
    // Boxed: a connection moves between the pool, a request's future and an answer's body, and
    // a TLS one is large; a box moves as one pointer.
    #[allow(clippy::vec_box)]
    idle: Vec<Box<Conn>>,
}

impl Pool {
    /// `write` given the `Host` header for `key`, which is made once per backend (and lent,
    /// not cloned: a clone is a shared count to raise and lower).
    pub(super) fn with_host<R>(&self, key: &Key, write: impl FnOnce(&[u8]) -> R) -> Result<R, BoxError> {
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
    pub(super) fn checkout(&self, key: &Key, now: Instant) -> Option<Box<Conn>> {
        let mut backends = self.backends.lock().unwrap_or_else(|p| p.into_inner());
        let backend = backends.get_mut(key)?;
        while let Some(conn) = backend.idle.pop() {
            if now.saturating_duration_since(conn.last_used) < IDLE_TIMEOUT && conn.is_open() {
                return Some(conn);
            }
        }
        None
    }

    pub(super) fn checkin(self: &Arc<Self>, key: Key, conn: Box<Conn>) {
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
    pub(super) fn sweep(&self) {
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

/// The pool key, and the request target in origin form (path and query).
pub(super) fn split_uri(uri: &Uri) -> Result<(Key, &str), BoxError> {
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
pub(super) fn host_header(key: &Key) -> Result<HeaderValue, BoxError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn the_sweep_closes_idle_connections_their_backend_closed() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = super::super::tls::verifying();
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
