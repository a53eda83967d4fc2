//! The floor of a hyper proxy on this machine, for comparison with Gatehouse's data plane in
//! `scripts/bench-dataplane.sh`: one current-thread runtime per core (or per
//! `GATEHOUSE_DATA_PLANE_THREADS`, as the data plane has), each with its own SO_REUSEPORT
//! listener and pooled client, forwarding every request to one backend and nothing else.
//!
//! With `conn` as a third argument, each client connection instead owns one backend connection
//! made with `hyper::client::conn::http1` (no pool at all): the floor of a proxy that does
//! without hyper_util's pooled client.
//!
//! `cargo run --release --example bare_proxy -- LISTEN_ADDR BACKEND_ADDR [conn]`

use std::convert::Infallible;

use http_body_util::BodyExt;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let listen: std::net::SocketAddr = args.first().expect("LISTEN_ADDR").parse().unwrap();
    let backend = args.get(1).expect("BACKEND_ADDR").clone();
    let per_connection = args.get(2).is_some_and(|m| m == "conn");
    // As many threads as Gatehouse's data plane would run.
    let threads = std::env::var("GATEHOUSE_DATA_PLANE_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let listener = gatehouse::dataplane::server::reuseport_listener(listen).unwrap();
            let backend = backend.clone();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    let client: Client<_, hyper::body::Incoming> =
                        Client::builder(TokioExecutor::new()).build_http();
                    loop {
                        let (stream, _) = listener.accept().await.unwrap();
                        let _ = stream.set_nodelay(true);
                        if per_connection {
                            tokio::spawn(serve_with_own_backend(stream, backend.clone()));
                            continue;
                        }
                        let (client, backend) = (client.clone(), backend.clone());
                        tokio::spawn(async move {
                            let svc = service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                                let client = client.clone();
                                let uri = format!("http://{backend}{}", req.uri().path());
                                async move {
                                    *req.uri_mut() = uri.parse().unwrap();
                                    req.headers_mut().remove(hyper::header::HOST);
                                    let res = client.request(req).await.unwrap();
                                    Ok::<_, Infallible>(res.map(|b| b.boxed()))
                                }
                            });
                            let _ = hyper::server::conn::http1::Builder::new()
                                .serve_connection(TokioIo::new(stream), svc)
                                .await;
                        });
                    }
                });
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
}

/// Serves one client connection over one backend connection of its own.
async fn serve_with_own_backend(stream: tokio::net::TcpStream, backend: String) {
    let upstream = tokio::net::TcpStream::connect(&backend).await.unwrap();
    let _ = upstream.set_nodelay(true);
    let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(upstream))
        .await
        .unwrap();
    tokio::spawn(conn);
    let sender = std::sync::Arc::new(tokio::sync::Mutex::new(sender));
    let svc = service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        let sender = sender.clone();
        async move {
            *req.uri_mut() = req.uri().path().parse().unwrap();
            let mut sender = sender.lock().await;
            sender.ready().await.unwrap();
            let res = sender.send_request(req).await.unwrap();
            Ok::<_, Infallible>(res.map(|b| b.boxed()))
        }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .serve_connection(TokioIo::new(stream), svc)
        .await;
}
