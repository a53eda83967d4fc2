//! WebSocket load for `scripts/bench-websocket.sh`:
//!
//! - `ws_load idle URL N SECS`: opens N connections (200 at a time), prints `open N` once they
//!   are, holds them SECS seconds, then closes them.
//! - `ws_load rtt URL CONNECTIONS MESSAGES`: each connection sends MESSAGES messages one after
//!   the other, each waiting for its route response; prints the round trip's p50/p99.
//! - `ws_load push URL CONNECTIONS_API KEY SECRET SECS CONCURRENCY`: one connection (its id from
//!   its first route response) receives what CONCURRENCY callers POST to it through the
//!   @connections API at CONNECTIONS_API (another worker's) for SECS seconds; prints the
//!   POSTs/s answered and the messages received.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(url: &str) -> Ws {
    loop {
        match tokio_tungstenite::connect_async(url).await {
            Ok((ws, _)) => return ws,
            Err(e) => {
                eprintln!("connect failed ({e}); retrying");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn round_trip(ws: &mut Ws, text: &str) -> Option<String> {
    ws.send(Message::text(text.to_owned())).await.ok()?;
    loop {
        match ws.next().await? {
            Ok(Message::Text(t)) => return Some(t.to_string()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    match arg(1).as_str() {
        "idle" => {
            let (url, n, secs): (String, usize, u64) =
                (arg(2), arg(3).parse().unwrap(), arg(4).parse().unwrap());
            let mut all = Vec::with_capacity(n);
            let mut pending = futures_util::stream::FuturesUnordered::new();
            let mut started = 0;
            while all.len() < n {
                while started < n && pending.len() < 200 {
                    pending.push(open(&url));
                    started += 1;
                }
                if let Some(ws) = pending.next().await {
                    all.push(ws);
                }
            }
            println!("open {}", all.len());
            tokio::time::sleep(Duration::from_secs(secs)).await;
            for mut ws in all {
                let _ = ws.close(None).await;
            }
        }
        "rtt" => {
            let (url, conns, messages): (String, usize, usize) =
                (arg(2), arg(3).parse().unwrap(), arg(4).parse().unwrap());
            let mut tasks = Vec::new();
            for _ in 0..conns {
                let url = url.clone();
                tasks.push(tokio::spawn(async move {
                    let mut ws = open(&url).await;
                    let mut times = Vec::with_capacity(messages);
                    for _ in 0..messages {
                        let t = Instant::now();
                        if round_trip(&mut ws, r#"{"action":"ping"}"#).await.is_none() {
                            break;
                        }
                        times.push(t.elapsed());
                    }
                    let _ = ws.close(None).await;
                    times
                }));
            }
            let started = Instant::now();
            let mut all = Vec::new();
            for t in tasks {
                all.extend(t.await.unwrap());
            }
            let elapsed = started.elapsed();
            all.sort();
            println!(
                "rtt connections={conns} messages={} p50={:?} p99={:?} ({:.0} msg/s)",
                all.len(),
                percentile(&all, 0.50),
                percentile(&all, 0.99),
                all.len() as f64 / elapsed.as_secs_f64()
            );
        }
        "push" => {
            let (url, api_url, key, secret) = (arg(2), arg(3), arg(4), arg(5));
            let (secs, concurrency): (u64, usize) = (arg(6).parse().unwrap(), arg(7).parse().unwrap());
            let mut ws = open(&url).await;
            let id = round_trip(&mut ws, "id?").await.expect("the connection's id");
            let count = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
            let counted = count.clone();
            let received = tokio::spawn(async move {
                while let Some(Ok(msg)) = ws.next().await {
                    if msg.is_text() {
                        counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    if msg.is_close() {
                        break;
                    }
                }
            });
            let config = aws_sdk_apigatewaymanagement::Config::builder()
                .behavior_version(aws_sdk_apigatewaymanagement::config::BehaviorVersion::latest())
                .region(aws_sdk_apigatewaymanagement::config::Region::new("us-east-1"))
                .credentials_provider(aws_sdk_apigatewaymanagement::config::Credentials::new(
                    key, secret, None, None, "load",
                ))
                .endpoint_url(api_url)
                .http_client(aws_smithy_http_client::Builder::new().build_http())
                .build();
            let client = aws_sdk_apigatewaymanagement::Client::from_conf(config);
            let deadline = Instant::now() + Duration::from_secs(secs);
            let mut tasks = Vec::new();
            for _ in 0..concurrency {
                let (client, id) = (client.clone(), id.clone());
                tasks.push(tokio::spawn(async move {
                    let (mut ok, mut failed) = (0u64, 0u64);
                    while Instant::now() < deadline {
                        let sent = client
                            .post_to_connection()
                            .connection_id(&id)
                            .data(aws_sdk_apigatewaymanagement::primitives::Blob::new("pushed"))
                            .send()
                            .await;
                        match sent {
                            Ok(_) => ok += 1,
                            Err(e) => {
                                if failed == 0 {
                                    eprintln!("a POST failed: {:?}", e.into_service_error());
                                }
                                failed += 1;
                            }
                        }
                    }
                    (ok, failed)
                }));
            }
            let (mut ok, mut failed) = (0, 0);
            for t in tasks {
                let (o, f) = t.await.unwrap();
                ok += o;
                failed += f;
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
            received.abort();
            println!(
                "push posts_ok={ok} failed={failed} received={} ({:.0} POST/s over {secs} s, concurrency {concurrency})",
                count.load(std::sync::atomic::Ordering::Relaxed),
                ok as f64 / secs as f64
            );
        }
        _ => eprintln!("usage: ws_load idle|rtt|push ..."),
    }
}
