//! An open-loop load generator: sends requests at a fixed rate whatever the server's pace (a slow
//! server is not given time to catch up, as with wrk's closed loop) and measures each request
//! from when it was sent. Tokio's timer ticks in milliseconds, so requests leave in small bursts
//! (rate / 1000 per tick): the same for every target, so differences between targets are what
//! the proxy adds. Used by `scripts/bench-dataplane.sh` for the added latency at 5k req/s.
//!
//! Several URLs (comma-separated) take turns, as a load balancer spreading requests over
//! workers would; what the answers were is counted (`2xx=`, `429=`), for the accuracy of rate
//! limits (`scripts/bench-edge.sh`).
//!
//! `cargo run --release --example fixed_rate -- URL[,URL...] [HOST] [RATE=5000] [SECONDS=10]`

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(urls) = args.first().cloned() else {
        eprintln!("usage: fixed_rate URL [HOST] [RATE] [SECONDS]");
        std::process::exit(2);
    };
    let urls: Vec<String> = urls.split(',').map(str::to_owned).collect();
    let host = args.get(1).filter(|h| !h.is_empty()).cloned();
    let rate: u64 = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(5000);
    let seconds: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10);
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(512)
        .build_http();
    let total = rate * seconds;
    let interval = Duration::from_nanos(1_000_000_000 / rate);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(u16, Option<Duration>)>();
    let start = Instant::now();
    for i in 0..total {
        let due = start + interval * i as u32;
        tokio::time::sleep_until(due.into()).await;
        let url = urls[i as usize % urls.len()].clone();
        let (client, host, tx) = (client.clone(), host.clone(), tx.clone());
        tokio::spawn(async move {
            let sent = Instant::now();
            let mut req = hyper::Request::get(url.as_str());
            if let Some(h) = &host {
                req = req.header(hyper::header::HOST, h.as_str());
            }
            let (status, ok) = match client.request(req.body(Empty::new()).unwrap()).await {
                Ok(res) => {
                    let status = res.status();
                    (
                        status.as_u16(),
                        status.is_success() && res.into_body().collect().await.is_ok(),
                    )
                }
                Err(_) => (0, false),
            };
            let _ = tx.send((status, ok.then(|| sent.elapsed())));
        });
    }
    drop(tx);
    let mut latencies = Vec::with_capacity(total as usize);
    let (mut errors, mut throttled) = (0, 0);
    while let Some((status, r)) = rx.recv().await {
        match r {
            Some(l) => latencies.push(l),
            None => errors += 1,
        }
        if status == 429 {
            throttled += 1;
        }
    }
    latencies.sort();
    if latencies.is_empty() {
        latencies.push(Duration::ZERO);
    }
    let pct = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "rate={rate}/s n={} 2xx={} 429={throttled} errors={errors} p50={:.0}us p90={:.0}us p99={:.0}us p99.9={:.0}us",
        total,
        total as usize - errors,
        pct(0.5).as_secs_f64() * 1e6,
        pct(0.9).as_secs_f64() * 1e6,
        pct(0.99).as_secs_f64() * 1e6,
        pct(0.999).as_secs_f64() * 1e6,
    );
}
