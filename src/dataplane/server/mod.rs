//! The data-plane listener: HTTP/1.1 with keep-alive, one task per connection ([`conn`]), every
//! request through the [`super::pipeline`].
//!
//! The connection loop is Gatehouse's own, on the [`super::h1`] codec, as the backend client is:
//! with hyper's server, a proxied request spent a third of its instructions in hyper's
//! dispatcher, its header-read timer and the moves of the service future (callgrind), and
//! matching nginx's throughput needed them gone.

mod conn;
mod date;
pub mod transport;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::net::{TcpListener, TcpStream};

use super::context::Peer;
use super::state::DataPlane;
use crate::tls::{TlsDomains, TlsSession};

/// Open client connections one data-plane thread holds at most.
pub const MAX_CONNECTIONS_PER_THREAD: usize = 16_384;

/// How long a stopping thread waits for its connections to finish (WebSocket sessions close
/// and run `$disconnect`; requests in flight are answered).
const DRAIN: Duration = Duration::from_secs(5);

/// Serves the data plane on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    dp: Arc<DataPlane>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    // The port clients connect to (`X-Forwarded-Port`).
    let port = listener.local_addr()?.port();
    accept(listener, shutdown, move |stream, remote| {
        let dp = dp.clone();
        async move {
            conn::serve(stream.into(), remote, Peer::new(remote, port), &dp).await;
        }
    })
    .await
}

/// How long a client has to complete its TLS handshake.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// Serves the data plane over TLS on `listener` until `shutdown` resolves: each connection's
/// configuration is its custom domain's, chosen by the name the client asks for (SNI). A
/// client that names no domain served over TLS is refused in the handshake.
pub async fn serve_tls(
    listener: TcpListener,
    dp: Arc<DataPlane>,
    domains: Arc<ArcSwap<TlsDomains>>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let port = listener.local_addr()?.port();
    accept(listener, shutdown, move |stream, remote| {
        let (dp, domains) = (dp.clone(), domains.clone());
        async move {
            let Some((stream, session)) = handshake(stream, &domains).await else {
                return;
            };
            let peer = Peer::new(remote, port).with_tls(session);
            conn::serve(stream.into(), remote, peer, &dp).await;
        }
    })
    .await
}

/// The TLS handshake of a connection, in the configuration of the domain it names.
async fn handshake(
    stream: TcpStream,
    domains: &ArcSwap<TlsDomains>,
) -> Option<(tokio_rustls::server::TlsStream<TcpStream>, TlsSession)> {
    let hello = tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream);
    let start = tokio::time::timeout(HANDSHAKE, hello).await.ok()?.ok()?;
    let name = start.client_hello().server_name()?.to_ascii_lowercase();
    let chosen = domains.load().config(&name)?;
    let stream = match tokio::time::timeout(HANDSHAKE, start.into_stream(chosen.config.clone())).await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            tracing::debug!(error = %e, server.name = %name, "TLS handshake failed");
            return None;
        }
        Err(_) => return None,
    };
    let chain = stream
        .get_ref()
        .1
        .peer_certificates()
        .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
        .unwrap_or_default();
    let session = TlsSession::new(&chosen, chain);
    Some((stream, session))
}

/// Accepts connections on `listener`, each served by `handle` on a task of its own, until
/// `shutdown` resolves; then waits for them to finish.
async fn accept<F>(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    handle: impl Fn(TcpStream, SocketAddr) -> F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    tokio::pin!(shutdown);
    let connections = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS_PER_THREAD));
    loop {
        // A bounded number of connections per thread: at the bound, accepting waits for one to end.
        let permit = tokio::select! {
            p = connections.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return Ok(()),
            },
            _ = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // Boxed at once: a connection's future is kilobytes (the largest of its states), and
        // each move of it (into the task, and tokio writing the task's stage when it ends)
        // copied all of it: 9 copies, ~100 KB of memcpy per connection, most of the cost of a
        // request on a connection of its own (callgrind, `Connection: close`).
        let served = Box::pin(handle(stream, remote));
        tokio::spawn(async move {
            let _permit = permit;
            served.await;
        });
    }
    // The listener goes first: with `SO_REUSEPORT`, the kernel would still queue new
    // connections on it for a thread that no longer accepts.
    drop(listener);
    drain(&connections).await
}

/// Waits, for [`DRAIN`] at most, for the thread's connections to end.
async fn drain(connections: &tokio::sync::Semaphore) -> std::io::Result<()> {
    let all = MAX_CONNECTIONS_PER_THREAD as u32;
    let _ = tokio::time::timeout(DRAIN, connections.acquire_many(all)).await;
    Ok(())
}

/// A listening socket with `SO_REUSEPORT`, so each data-plane thread accepts on its own
/// listener and the kernel spreads connections between them.
pub fn reuseport_listener(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(4096)?;
    Ok(socket.into())
}
