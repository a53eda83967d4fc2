//! The data plane's HTTP/1.1 listener, on the wire: a raw TCP client sends what ordinary
//! clients rarely do (pipelined requests, chunked bodies, `Expect: 100-continue`, HTTP/1.0,
//! malformed heads) and reads the answers byte for byte.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::backends::echo_backend;
use crate::helpers::*;

/// An answer as read off the wire.
#[derive(Debug)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Reads one answer (framed by Content-Length, or none) from `stream`, keeping what follows it
/// in `buf`. `head`: the request was HEAD.
async fn read_answer(stream: &mut TcpStream, buf: &mut Vec<u8>, head: bool) -> Answer {
    let (len, status, headers) = loop {
        let mut fields = [httparse::EMPTY_HEADER; 64];
        let mut res = httparse::Response::new(&mut fields);
        if let httparse::Status::Complete(len) = res.parse(buf).unwrap() {
            let headers = res
                .headers
                .iter()
                .map(|h| (h.name.to_owned(), String::from_utf8(h.value.to_vec()).unwrap()))
                .collect::<Vec<_>>();
            break (len, res.code.unwrap(), headers);
        }
        read_more(stream, buf).await;
    };
    buf.drain(..len);
    let mut answer = Answer {
        status,
        headers,
        body: Vec::new(),
    };
    assert!(
        answer.header("transfer-encoding").is_none(),
        "these answers have a known length"
    );
    let length: usize = match answer.header("content-length") {
        Some(_) if head => 0,
        Some(n) => n.parse().unwrap(),
        None => 0,
    };
    while buf.len() < length {
        read_more(stream, buf).await;
    }
    answer.body = buf.drain(..length).collect();
    answer
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) {
    let mut chunk = [0u8; 16 << 10];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
        .await
        .expect("an answer in time")
        .unwrap();
    assert!(n > 0, "closed early; have {:?}", String::from_utf8_lossy(buf));
    buf.extend_from_slice(&chunk[..n]);
}

/// Whether the server closes the connection (after any answer already read).
async fn closes(stream: &mut TcpStream) -> bool {
    let mut rest = Vec::new();
    matches!(
        tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await,
        Ok(Ok(0))
    )
}

/// A worker serving `ANY /{proxy+}` as HTTP_PROXY to an echo backend and `GET /pets` as MOCK,
/// on stage `s`; its address and the Host naming the API.
async fn wire_api(app: &TestApp) -> (gatehouse::server::Worker, String) {
    wire_api_timed(app, Default::default()).await
}

async fn wire_api_timed(
    app: &TestApp,
    timeouts: gatehouse::dataplane::settings::ClientTimeouts,
) -> (gatehouse::server::Worker, String) {
    let backend = echo_backend().await;
    let worker = WorkerBuilder::new(&app.control_plane_url()).timeouts(timeouts);
    proxy_api_on(app, &format!("http://{backend}/{{proxy}}"), worker).await
}

/// A worker serving `ANY /{proxy+}` as HTTP_PROXY to `uri` on stage `s`, and `GET /pets` as
/// MOCK; its address and the Host naming the API.
async fn proxy_api(app: &TestApp, uri: &str) -> (gatehouse::server::Worker, String) {
    proxy_api_on(app, uri, WorkerBuilder::new(&app.control_plane_url())).await
}

async fn proxy_api_on(
    app: &TestApp,
    uri: &str,
    worker: WorkerBuilder,
) -> (gatehouse::server::Worker, String) {
    let c = app.client();
    let api = TestApi::create(&c, "wire").await;
    api.http_proxy("/{proxy+}", uri)
        .await
        .mock("/pets", "GET", r#"{"pets": ["rex"]}"#)
        .await
        .deploy("s")
        .await;
    let worker = worker.start().await;
    assert!(serving(&worker, &api.id, "s").await);
    (worker, format!("{}.execute-api.localhost", api.id))
}

#[tokio::test]
async fn pipelined_requests_and_every_body_framing_are_served_in_order_on_one_connection() {
    let app = spawn_app().await;
    let (worker, host) = wire_api(&app).await;
    let mut s = TcpStream::connect(worker.addr).await.unwrap();
    let mut buf = Vec::new();

    // Three requests in one write: a GET, a POST with a body, a HEAD.
    let pipelined = format!(
        "GET /s/a?x=1 HTTP/1.1\r\nHost: {host}\r\n\r\n\
         POST /s/b HTTP/1.1\r\nHost: {host}\r\nContent-Length: 5\r\n\r\nhello\
         HEAD /s/h HTTP/1.1\r\nHost: {host}\r\n\r\n"
    );
    s.write_all(pipelined.as_bytes()).await.unwrap();
    let a = read_answer(&mut s, &mut buf, false).await;
    assert_eq!((a.status, a.json()["path"].as_str()), (200, Some("/a")));
    assert_eq!(a.json()["query"], "x=1");
    assert!(a.header("date").is_some() && a.header("x-amzn-requestid").is_some());
    // AWS's spelling of its headers, as the recordings show it (an HTTP_PROXY answer carries
    // no trace id of the gateway's, and the backend's Date is renamed).
    assert!(a.header("x-amzn-trace-id").is_none(), "{:?}", a.headers);
    for name in ["x-amzn-RequestId", "x-amz-apigw-id", "x-amzn-Remapped-date"] {
        assert!(
            a.headers.iter().any(|(k, _)| k == name),
            "{name} in {:?}",
            a.headers
        );
    }
    // As AWS says it, on HTTP/1.1 too: the connection is kept, once.
    let connection: Vec<_> = a
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("connection"))
        .collect();
    assert_eq!(connection.len(), 1, "{:?}", a.headers);
    assert_eq!(a.header("connection"), Some("keep-alive"));
    let b = read_answer(&mut s, &mut buf, false).await;
    assert_eq!(b.json()["path"], "/b");
    assert_eq!(b.json()["body"], "hello");
    let head = read_answer(&mut s, &mut buf, true).await;
    assert_eq!(head.status, 200);
    // The backend's answer to HEAD declares the length its GET would have.
    assert!(
        head.header("content-length").is_some_and(|n| n != "0"),
        "{head:?}"
    );
    assert!(head.body.is_empty());

    // A chunked body, cut at odd places, then another request on the same connection: the
    // connection's buffer came back from the streamed body.
    s.write_all(
        format!("PUT /s/c HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel").as_bytes(),
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    s.write_all(b"lo\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n")
        .await
        .unwrap();
    s.write_all(format!("GET /s/pets HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let c = read_answer(&mut s, &mut buf, false).await;
    assert_eq!(c.json()["method"], "PUT");
    assert_eq!(c.json()["body"], "hello world");
    let pets = read_answer(&mut s, &mut buf, false).await;
    assert_eq!(pets.json(), serde_json::json!({"pets": ["rex"]}));

    // A body too large to read with its head streams to the backend, and the next request
    // still follows it.
    let big = "y".repeat(200 << 10);
    s.write_all(
        format!(
            "POST /s/big HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n\r\n{big}GET /s/after HTTP/1.1\r\nHost: {host}\r\n\r\n",
            big.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let big_answer = read_answer(&mut s, &mut buf, false).await;
    assert_eq!(big_answer.json()["body"].as_str().map(str::len), Some(big.len()));
    let after = read_answer(&mut s, &mut buf, false).await;
    assert_eq!(after.json()["path"], "/after");
    assert!(buf.is_empty());
}

#[tokio::test]
async fn expect_continue_http_1_0_and_unread_bodies() {
    let app = spawn_app().await;
    let (worker, host) = wire_api(&app).await;
    let mut buf = Vec::new();

    // The client waits for the go-ahead before sending its body.
    let mut s = TcpStream::connect(worker.addr).await.unwrap();
    s.write_all(
        format!("POST /s/e HTTP/1.1\r\nHost: {host}\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    let go = read_answer(&mut s, &mut buf, false).await;
    assert_eq!(go.status, 100);
    s.write_all(b"ping").await.unwrap();
    let e = read_answer(&mut s, &mut buf, false).await;
    assert_eq!((e.status, e.json()["body"].as_str()), (200, Some("ping")));

    // HTTP/1.0: closed after the answer unless the client asks for keep-alive.
    let mut s = TcpStream::connect(worker.addr).await.unwrap();
    s.write_all(format!("GET /s/pets HTTP/1.0\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let kept = read_answer(&mut s, &mut buf, false).await;
    assert_eq!(kept.header("connection"), Some("keep-alive"));
    s.write_all(format!("GET /s/pets HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let last = read_answer(&mut s, &mut buf, false).await;
    assert_eq!(last.status, 200);
    assert!(closes(&mut s).await);

    // `Connection: close` is honoured and said.
    let mut s = TcpStream::connect(worker.addr).await.unwrap();
    s.write_all(format!("GET /s/pets HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let closing = read_answer(&mut s, &mut buf, false).await;
    assert_eq!(closing.header("connection"), Some("close"));
    assert!(closes(&mut s).await);

    // A streamed body the gateway never reads (the route does not exist): answered, then the
    // connection closes, as the rest of that body is still on it.
    let mut s = TcpStream::connect(worker.addr).await.unwrap();
    s.write_all(
        format!("POST /nope/x HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    let refused = read_answer(&mut s, &mut buf, false).await;
    assert_eq!(refused.status, 403);
    assert_eq!(refused.header("connection"), Some("close"));
    assert!(closes(&mut s).await);
}

#[tokio::test]
async fn malformed_or_oversized_heads_are_refused_and_the_connection_closed() {
    let app = spawn_app().await;
    let (worker, host) = wire_api(&app).await;
    let many_fields = "X-A: 1\r\n".repeat(101);
    let huge_field = format!("X-Big: {}\r\n", "a".repeat(70 << 10));
    for (request, status) in [
        ("GET / HTTP/1.1\r\nBad Name: 1\r\n\r\n".to_owned(), 400),
        ("GET /s/a HTTP/9.9\r\n\r\n".to_owned(), 400),
        ("GET /s/a HTTP/1.1\r\n\r\n".to_owned(), 400),
        (
            format!("GET /s/a HTTP/1.1\r\nHost: {host}\r\nHost: other.example\r\n\r\n"),
            400,
        ),
        (
            format!(
                "POST /s/a HTTP/1.1\r\nHost: {host}\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
            ),
            400,
        ),
        (
            format!("POST /s/a HTTP/1.1\r\nHost: {host}\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"),
            400,
        ),
        (
            format!("POST /s/a HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: gzip\r\n\r\n"),
            501,
        ),
        (
            format!("GET /s/a HTTP/1.1\r\nHost: {host}\r\n{many_fields}\r\n"),
            431,
        ),
        (
            format!("GET /s/a HTTP/1.1\r\nHost: {host}\r\n{huge_field}\r\n"),
            431,
        ),
    ] {
        let mut s = TcpStream::connect(worker.addr).await.unwrap();
        // The server may answer before it has read all of an oversized head.
        let _ = s.write_all(request.as_bytes()).await;
        let mut buf = Vec::new();
        let answer = read_answer(&mut s, &mut buf, false).await;
        assert_eq!(answer.status, status, "{}", &request[..request.len().min(80)]);
        assert_eq!(answer.header("connection"), Some("close"));
        assert!(closes(&mut s).await);
    }

    // A client that closes in the middle of a head gets nothing, and the worker carries on.
    let mut s = TcpStream::connect(worker.addr).await.unwrap();
    s.write_all(b"GET /s/a HTTP/1.1\r\nHo").await.unwrap();
    drop(s);
    let mut s = TcpStream::connect(worker.addr).await.unwrap();
    s.write_all(format!("GET /s/pets HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    assert_eq!(read_answer(&mut s, &mut Vec::new(), false).await.status, 200);
}

#[tokio::test]
async fn slow_clients_are_cut_off_and_oversized_bodies_refused_unread() {
    let app = spawn_app().await;
    let timeouts = gatehouse::dataplane::settings::ClientTimeouts {
        head: Duration::from_millis(300),
        body: Duration::from_millis(500),
        write: Duration::from_millis(300),
        ..Default::default()
    };
    let (worker, host) = wire_api_timed(&app, timeouts).await;
    let within = |secs| Duration::from_secs(secs);

    // Half a head, then nothing: closed without an answer once the head timeout passes.
    let started = std::time::Instant::now();
    let mut s = TcpStream::connect(worker.addr).await.unwrap();
    s.write_all(b"GET /s/pets HTTP/1.1\r\nHo").await.unwrap();
    assert!(closes(&mut s).await);
    assert!(started.elapsed() < within(3));

    // An idle keep-alive connection goes the same way.
    let mut s = TcpStream::connect(worker.addr).await.unwrap();
    s.write_all(format!("GET /s/pets HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    assert_eq!(read_answer(&mut s, &mut Vec::new(), false).await.status, 200);
    assert!(closes(&mut s).await);

    // A chunked body that stops coming: the request fails at the body timeout and the
    // connection closes, instead of holding the backend and the worker.
    let started = std::time::Instant::now();
    let mut s = TcpStream::connect(worker.addr).await.unwrap();
    s.write_all(
        format!("PUT /s/slow HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel")
            .as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    let failed = read_answer(&mut s, &mut buf, false).await;
    assert!(failed.status >= 400, "{failed:?}");
    assert!(closes(&mut s).await);
    assert!(started.elapsed() < within(5));

    // A client that stops reading: once a write has waited past the write timeout, its answer
    // is cut off and the connection closes.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut s = socket.connect(worker.addr).await.unwrap();
    let body = vec![b'x'; 8 << 20];
    let head = format!(
        "POST /s/x/raw HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.unwrap();
    s.write_all(&body).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut got = Vec::new();
    let read = tokio::time::timeout(within(10), s.read_to_end(&mut got))
        .await
        .expect("the connection closes");
    assert!(
        read.is_err() || got.len() < body.len(),
        "the answer was cut off: {} bytes",
        got.len()
    );

    // A declared body over AWS's 10 MB is refused before a byte of it is read.
    let mut s = TcpStream::connect(worker.addr).await.unwrap();
    s.write_all(
        format!("POST /s/big HTTP/1.1\r\nHost: {host}\r\nContent-Length: 10485761\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let refused = read_answer(&mut s, &mut buf, false).await;
    assert_eq!(refused.status, 413);
    assert_eq!(refused.header("connection"), Some("close"));
}

/// A backend on the raw wire: it reads each request's head (and no body), answers it with
/// `answer`, and counts the connections it accepts. With `then_stop_reading`, it reads nothing
/// after its first answer on a connection, as a server that refuses an upload without reading it
/// does; its receive buffer is small, so a sender that does not notice is soon blocked.
struct RawBackend {
    addr: std::net::SocketAddr,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    heads: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl RawBackend {
    async fn start(answer: &'static str, then_stop_reading: bool) -> Self {
        use std::sync::atomic::Ordering;
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_recv_buffer_size(4096).unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(16).unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (count, seen) = (connections.clone(), heads.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = listener.accept().await else {
                    return;
                };
                count.fetch_add(1, Ordering::SeqCst);
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    loop {
                        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                            let mut chunk = [0u8; 4096];
                            match s.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        let end = buf.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                        seen.lock()
                            .unwrap()
                            .push(String::from_utf8_lossy(&buf[..end]).into_owned());
                        buf.drain(..end);
                        if s.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                        if then_stop_reading {
                            tokio::time::sleep(Duration::from_secs(60)).await;
                            return;
                        }
                    }
                });
            }
        });
        Self {
            addr,
            connections,
            heads,
        }
    }

    fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

/// Sends `raw` on a new connection and reads one answer.
async fn exchange(worker: &gatehouse::server::Worker, raw: &[u8]) -> Answer {
    let mut s = TcpStream::connect(worker.addr).await.unwrap();
    s.write_all(raw).await.unwrap();
    read_answer(&mut s, &mut Vec::new(), false).await
}

#[tokio::test]
async fn a_dot_segment_hidden_in_an_encoded_greedy_path_never_reaches_the_backend() {
    let app = spawn_app().await;
    let backend = RawBackend::start("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false).await;
    let (worker, host) = proxy_api(&app, &format!("http://{}/api/v1/{{proxy}}", backend.addr)).await;
    // `x/../../../admin` once decoded: the backend would resolve it to `/admin`.
    for climb in [
        "/s/pfx/x%2F..%2F..%2F..%2Fadmin",
        "/s/pfx/x%2f%2e%2e%2fadmin",
        "/s/x%2F..%5Cadmin",
        "/s/a/..;/admin",
    ] {
        let refused = exchange(
            &worker,
            format!("GET {climb} HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
        )
        .await;
        assert_eq!(refused.status, 400, "{climb}");
        assert_eq!(refused.json()["message"], "Invalid request path", "{climb}");
    }
    assert!(backend.heads().is_empty(), "{:?}", backend.heads());
    // An encoded slash that climbs nowhere still reaches the backend, as a path.
    let fine = exchange(
        &worker,
        format!("GET /s/pfx/x%2Fy.json HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(fine.status, 200);
    let heads = backend.heads();
    assert!(
        heads[0].starts_with("GET /api/v1/pfx/x/y.json HTTP/1.1\r\n"),
        "{heads:?}"
    );
}

#[tokio::test]
async fn malformed_chunked_bodies_are_400_and_oversized_ones_413_before_the_backend_sees_them() {
    let app = spawn_app().await;
    let backend = RawBackend::start("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false).await;
    let (worker, host) = proxy_api(&app, &format!("http://{}/{{proxy}}", backend.addr)).await;
    let chunked = format!("POST /s/up HTTP/1.1\r\nHost: {host}\r\nTransfer-Encoding: chunked\r\n\r\n");
    for bad in [
        "zz\r\nhello\r\n0\r\n\r\n",
        "5\r\nhelloXX0\r\n\r\n",
        "5;a\nb\r\nhello\r\n0\r\n\r\n",
    ] {
        let answer = exchange(&worker, format!("{chunked}{bad}").as_bytes()).await;
        assert_eq!(answer.status, 400, "{bad:?}");
        assert_eq!(answer.json()["message"], "Unable to read the request body");
        assert_eq!(answer.header("connection"), Some("close"));
    }
    // Over AWS's 10 MB in chunks: refused once the 10 MB are passed, nothing sent on.
    let mut s = TcpStream::connect(worker.addr).await.unwrap();
    s.write_all(chunked.as_bytes()).await.unwrap();
    let (mut read_half, mut write_half) = s.into_split();
    let writer = tokio::spawn(async move {
        let chunk = format!("100000\r\n{}\r\n", "z".repeat(1 << 20));
        for _ in 0..11 {
            if write_half.write_all(chunk.as_bytes()).await.is_err() {
                return;
            }
        }
        let _ = write_half.write_all(b"0\r\n\r\n").await;
    });
    let mut buf = Vec::new();
    let mut stream_answer = Vec::new();
    let too_large = loop {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), read_half.read(&mut chunk))
            .await
            .expect("an answer in time")
            .unwrap();
        assert!(n > 0, "closed without an answer");
        stream_answer.extend_from_slice(&chunk[..n]);
        if let Some(end) = stream_answer.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.extend_from_slice(&stream_answer[..end + 4]);
            break String::from_utf8_lossy(&buf).into_owned();
        }
    };
    assert!(too_large.starts_with("HTTP/1.1 413 "), "{too_large}");
    writer.abort();
    assert!(backend.heads().is_empty(), "{:?}", backend.heads());
    assert_eq!(backend.connections(), 0);
}

#[tokio::test]
async fn an_absolute_form_target_names_the_host_and_bad_hosts_are_refused() {
    let app = spawn_app().await;
    let (worker, host) = wire_api(&app).await;
    // The target's authority wins over the Host header (RFC 9112 §3.2.2).
    let answer = exchange(
        &worker,
        format!("GET http://{host}/s/pets HTTP/1.1\r\nHost: elsewhere.example\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(
        (answer.status, answer.json()),
        (200, serde_json::json!({"pets": ["rex"]}))
    );
    let answer = exchange(
        &worker,
        format!("GET http://elsewhere.example/s/pets HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 403, "the target's host names no API");
    for bad in [
        format!("Host: {host} x"),
        format!("Host: user@{host}"),
        format!("Host: {host}/s"),
        format!("Host: {host}:80:80"),
    ] {
        let mut s = TcpStream::connect(worker.addr).await.unwrap();
        s.write_all(format!("GET /s/pets HTTP/1.1\r\n{bad}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let answer = read_answer(&mut s, &mut Vec::new(), false).await;
        assert_eq!(answer.status, 400, "{bad}");
        assert!(closes(&mut s).await);
    }
}

#[tokio::test]
async fn a_backends_http_1_0_chunked_answer_is_read_and_its_connection_not_reused() {
    let app = spawn_app().await;
    let backend = RawBackend::start(
        "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        false,
    )
    .await;
    let (worker, host) = proxy_api(&app, &format!("http://{}/{{proxy}}", backend.addr)).await;
    let mut s = TcpStream::connect(worker.addr).await.unwrap();
    let mut buf = Vec::new();
    for n in 0..2 {
        s.write_all(format!("GET /s/a HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut head = loop {
            if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break String::from_utf8(buf.drain(..end + 4).collect()).unwrap();
            }
            read_more(&mut s, &mut buf).await;
        };
        assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
        // Passed on chunked; read to its end.
        while !buf.ends_with(b"0\r\n\r\n") {
            read_more(&mut s, &mut buf).await;
        }
        head.clear();
        buf.clear();
        assert_eq!(
            backend.connections(),
            n + 1,
            "HTTP/1.0 has no chunked framing to trust"
        );
    }
}

#[tokio::test]
async fn an_early_answer_during_an_upload_is_relayed_at_once_and_its_connection_dropped() {
    let app = spawn_app().await;
    // Refuses every upload after its head, and reads no more.
    let backend = RawBackend::start(
        "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\nConnection: keep-alive\r\n\r\nnope",
        true,
    )
    .await;
    let (worker, host) = proxy_api(&app, &format!("http://{}/{{proxy}}", backend.addr)).await;
    let body_len = 9 << 20;
    let mut s = TcpStream::connect(worker.addr).await.unwrap();
    s.write_all(
        format!("PUT /s/upload HTTP/1.1\r\nHost: {host}\r\nContent-Length: {body_len}\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let (mut read_half, mut write_half) = s.into_split();
    let writer = tokio::spawn(async move {
        let _ = write_half.write_all(&vec![b'u'; body_len]).await;
        write_half
    });
    let started = std::time::Instant::now();
    let mut got = Vec::new();
    let answer = loop {
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), read_half.read(&mut chunk))
            .await
            .expect("the backend's answer, long before the integration's 29 s timeout")
            .unwrap();
        assert!(n > 0, "closed without an answer");
        got.extend_from_slice(&chunk[..n]);
        if got.ends_with(b"nope") {
            break String::from_utf8_lossy(&got).into_owned();
        }
    };
    assert!(answer.starts_with("HTTP/1.1 413 "), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(8));
    writer.abort();
    // The refused connection is not pooled: the next request opens another.
    let next = exchange(
        &worker,
        format!("GET /s/next HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(next.status, 413);
    assert_eq!(backend.connections(), 2);
}

#[tokio::test]
async fn continue_waits_for_routing_and_expect_and_underscored_names_stay_behind() {
    let app = spawn_app().await;
    let (worker, host) = wire_api(&app).await;
    let expecting = |path: &str, length: u64| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nExpect: 100-continue\r\nContent-Length: {length}\r\n\r\n"
        )
    };
    // Refused before its body is wanted: the final answer, no go-ahead before it.
    for (path, length, status) in [("/nope/a", 5, 403), ("/s/big", 10_485_761, 413)] {
        let answer = exchange(&worker, expecting(path, length).as_bytes()).await;
        assert_eq!(answer.status, status, "{path}");
    }
    // Routed: the go-ahead, then the answer. The backend sees neither Expect nor a name with
    // `_` (nginx drops them too: `X_Forwarded_For` may be read as `X-Forwarded-For`).
    let mut s = TcpStream::connect(worker.addr).await.unwrap();
    let head = expecting("/s/e", 4).replace("\r\n\r\n", "\r\nX_Forwarded_For: 6.6.6.6\r\nX-Kept: 1\r\n\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let go = read_answer(&mut s, &mut buf, false).await;
    assert_eq!(go.status, 100);
    s.write_all(b"ping").await.unwrap();
    let echoed = read_answer(&mut s, &mut buf, false).await;
    assert_eq!(echoed.json()["body"], "ping");
    let headers = echoed.json()["headers"].clone();
    assert_eq!(headers["x-kept"], "1");
    assert!(headers.get("expect").is_none(), "{headers}");
    assert!(headers.get("x_forwarded_for").is_none(), "{headers}");
    assert!(!headers["x-forwarded-for"].as_str().unwrap().contains("6.6.6.6"));
}

#[tokio::test]
async fn heads_over_awss_limit_and_answers_over_10_mb_are_refused() {
    let app = spawn_app().await;
    let (worker, host) = wire_api(&app).await;
    // AWS counts the request line and the header values: 10,240 bytes at most.
    let line = "GET /s/pets HTTP/1.1".len();
    let fill = 10240 - line - host.len();
    let at = |extra: usize| {
        format!(
            "GET /s/pets HTTP/1.1\r\nHost: {host}\r\nX-Fill: {}\r\n\r\n",
            "f".repeat(fill + extra)
        )
    };
    assert_eq!(exchange(&worker, at(0).as_bytes()).await.status, 200);
    assert_eq!(exchange(&worker, at(1).as_bytes()).await.status, 431);

    // A backend declaring more than 10 MB: AWS's 502, and its connection dropped.
    let huge = RawBackend::start("HTTP/1.1 200 OK\r\nContent-Length: 10485761\r\n\r\n", false).await;
    let (worker, host) = proxy_api(&app, &format!("http://{}/{{proxy}}", huge.addr)).await;
    let answer = exchange(
        &worker,
        format!("GET /s/big HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes(),
    )
    .await;
    assert_eq!(answer.status, 502);
    assert_eq!(answer.json()["message"], "Internal server error");
}
