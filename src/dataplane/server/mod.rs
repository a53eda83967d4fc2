//! The data-plane listener: HTTP/1.1 with keep-alive, one task per connection ([`conn`]), every
//! request through the [`super::pipeline`].
//!
//! The connection loop is Gatehouse's own, on the [`super::h1`] codec, as the backend client is:
//! with hyper's server, a proxied request spent a third of its instructions in hyper's
//! dispatcher, its header-read timer and the moves of the service future (callgrind), and
//! matching nginx's throughput needed them gone.

mod conn;
mod date;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use super::state::DataPlane;

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
    tokio::pin!(shutdown);
    // The port clients connect to (`X-Forwarded-Port`).
    let port = listener.local_addr()?.port();
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
        let dp = dp.clone();
        tokio::spawn(async move {
            let _permit = permit;
            conn::serve(stream, remote, port, &dp).await;
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
