//! LocalStack's HTTP echo backend, for the recorded HTTP and HTTP_PROXY cases.

use super::*;

/// LocalStack's `create_echo_http_server`: a Lambda function URL running an echo handler. It
/// answers `{"args", "data", "domain", "headers", "method", "origin", "path"}`: the query
/// (repeated keys' values joined with `,`), the body (parsed when it is JSON), the `Host`, the
/// request's headers lowercased with those the function URL front adds, the method, the client's
/// address and the path. A path starting with `/trim-x-headers` is answered as the rest of it
/// without any `x-` header (the fixture's `trim_x_headers=True`). One starting with `/status/`
/// is LocalStack's `lambda_echo_status_code.py`: `{"status_code": N, "message": ""}` with the
/// status its last segment names.
pub async fn ls_http_echo() -> SocketAddr {
    serve(|req: Request<hyper::body::Incoming>| async move {
        // Every test client connects from the loopback address the fake listens on.
        const CLIENT: &str = "127.0.0.1";
        let method = req.method().to_string();
        // The function URL's event holds the path decoded.
        let decoded = percent_encoding::percent_decode_str(req.uri().path())
            .decode_utf8_lossy()
            .into_owned();
        let (trim, path) = match decoded.strip_prefix("/trim-x-headers") {
            Some("") => (true, "/".to_owned()),
            Some(rest) => (true, rest.to_owned()),
            None => (false, decoded.clone()),
        };
        let mut args = serde_json::Map::new();
        for pair in req.uri().query().unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
            let (k, v) = (decode(k), decode(v));
            match args.get_mut(&k) {
                Some(Value::String(joined)) => {
                    joined.push(',');
                    joined.push_str(&v);
                }
                _ => {
                    args.insert(k, Value::String(v));
                }
            }
        }
        let domain = req
            .headers()
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let mut headers = serde_json::Map::new();
        for (k, v) in req.headers() {
            let v = v.to_str().unwrap_or_default();
            match headers.get_mut(k.as_str()) {
                Some(Value::String(joined)) => {
                    joined.push(',');
                    joined.push_str(v);
                }
                _ => {
                    headers.insert(k.to_string(), json!(v));
                }
            }
        }
        // What the function URL front adds: the hop it saw, its port and scheme, its TLS.
        let forwarded = match headers.get("x-forwarded-for").and_then(Value::as_str) {
            Some(hops) => format!("{hops}, {CLIENT}"),
            None => CLIENT.to_owned(),
        };
        let port = domain.rsplit_once(':').map_or("80", |(_, p)| p).to_owned();
        headers.insert("x-forwarded-for".into(), json!(forwarded));
        headers.insert("x-forwarded-port".into(), json!(port));
        headers.insert("x-forwarded-proto".into(), json!("http"));
        headers.insert("x-amzn-tls-cipher-suite".into(), json!("ECDHE-RSA-AES128-GCM-SHA256"));
        headers.insert("x-amzn-tls-version".into(), json!("TLSv1.2"));
        headers.entry("x-amzn-trace-id").or_insert_with(|| {
            let id = uuid::Uuid::new_v4().simple().to_string();
            json!(format!("Root=1-{:08x}-{}", epoch_now(), &id[..24]))
        });
        let headers: serde_json::Map<String, Value> = headers
            .into_iter()
            .filter(|(k, _)| !trim || !k.starts_with("x-"))
            .collect();
        let body = req.into_body().collect().await.unwrap().to_bytes();
        let (status, answer) = if path.starts_with("/status/") {
            let last = path.rsplit('/').next().unwrap_or_default();
            match last.parse::<u16>().ok().filter(|s| (100u16..600).contains(s)) {
                Some(code) => (code, json!({"status_code": code, "message": ""})),
                None => (
                    400,
                    json!({"status_code": 400, "message": format!("No valid status found at end of path {path}")}),
                ),
            }
        } else {
            let data = if body.is_empty() {
                json!("")
            } else {
                serde_json::from_slice::<Value>(&body)
                    .unwrap_or_else(|_| json!(String::from_utf8_lossy(&body)))
            };
            let answer = json!({
                "args": args,
                "data": data,
                "domain": domain,
                "headers": headers,
                "method": method,
                "origin": CLIENT,
                "path": path,
            });
            (200, answer)
        };
        // With `Content-Length` (hyper's), as the function URL answers.
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .header("date", httpdate::fmt_http_date(std::time::SystemTime::now()))
            .header("connection", "keep-alive")
            .header("x-amzn-requestid", uuid::Uuid::new_v4().to_string())
            // A function URL answers with a trace id of its own (the recordings' HTTP_PROXY
            // answers pass it through).
            .header("x-amzn-trace-id", format!("Root=1-{:08x}-{}", 0x6756_0000u32, &uuid::Uuid::new_v4().simple().to_string()[..24]))
            .body(Full::new(Bytes::from(answer.to_string())))
            .unwrap()
    })
    .await
}
