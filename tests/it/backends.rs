//! Real servers started inside tests: an echo backend and a fake Lambda Invoke API.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

pub async fn serve<F, Fut>(handler: F) -> SocketAddr
where
    F: Fn(Request<hyper::body::Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = Response<Full<Bytes>>> + Send,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let handler = handler.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| {
                    let handler = handler.clone();
                    async move { Ok::<_, Infallible>(handler(req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

/// Answers every request with what it received, as JSON (`/slow...` waits 2 s first; a path
/// ending in `/status/{code}` answers that status; one ending in `/raw` answers the body alone).
pub async fn echo_backend() -> SocketAddr {
    serve(|req: Request<hyper::body::Incoming>| async move {
        let method = req.method().to_string();
        let path = req.uri().path().to_owned();
        let query = req.uri().query().map(str::to_owned);
        let headers: serde_json::Map<String, Value> = req
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), json!(v.to_str().unwrap_or(""))))
            .collect();
        let body = req.into_body().collect().await.unwrap().to_bytes();
        if path.starts_with("/slow") {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        let status = path
            .rsplit_once("/status/")
            .and_then(|(_, s)| s.parse().ok())
            .unwrap_or(200);
        if path.ends_with("/raw") {
            // The body back as it came, like a Lambda function URL answering `event.body`.
            return Response::new(Full::new(body));
        }
        let answer = json!({
            "method": method,
            "path": path,
            "query": query,
            "headers": headers,
            "body": String::from_utf8_lossy(&body),
            // As httpbin's `/post` has it: the body parsed, when it is JSON.
            "json": serde_json::from_slice::<Value>(&body).ok(),
        });
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .header("x-backend", "echo")
            .header("connection", "keep-alive")
            .body(Full::new(Bytes::from(answer.to_string())))
            .unwrap()
    })
    .await
}

/// Whether a request carries a valid SigV4 signature for `service`, by Gatehouse's own verifier
/// and the secret the tests configure (`secret`).
pub fn signed_for(parts: &http::request::Parts, body: &[u8], service: &str) -> bool {
    signed_with(parts, body, service, "secret")
}

/// Whether a request carries a valid SigV4 signature for `service` made with `secret`.
pub fn signed_with(parts: &http::request::Parts, body: &[u8], service: &str, secret: &str) -> bool {
    use gatehouse::sigv4;
    use sha2::Digest;
    let Some(header) = parts.headers.get("authorization").and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let Ok(auth) = sigv4::parse_authorization(header) else {
        return false;
    };
    let amz_date = parts
        .headers
        .get("x-amz-date")
        .and_then(|d| d.to_str().ok())
        .unwrap_or_default();
    let canonical = sigv4::canonical_request(
        parts.method.as_str(),
        parts.uri.path(),
        parts.uri.query().unwrap_or(""),
        &parts.headers,
        &auth.signed_headers,
        &hex::encode(sha2::Sha256::digest(body)),
    );
    auth.service == service && sigv4::signature_matches(&auth, secret, amz_date, &canonical)
}

/// A Lambda Invoke API whose functions behave by name: `echo` answers the event it got as the
/// body; `malformed` answers a bare string; `bare` a JSON object that is no proxy response; `error` is a function error; `slow` takes 2 s;
/// `custom` answers the proxy response in the event's `body`. For non-proxy integrations:
/// `identity` answers the event itself; `select_pattern` and `mapping_responses` are the
/// functions of AWS's recorded selection-pattern and response-template cases. `ls_aws_proxy`,
/// `ls_response_from_body` and `ls_nodejs_handler` are the LocalStack tests' `lambda_aws_proxy.py`,
/// `LAMBDA_RESPONSE_FROM_BODY` and `lambda_handler.js`, answering byte for byte as their runtimes
/// write JSON (the recordings' `Content-Length` counts those bytes).
pub async fn fake_lambda() -> SocketAddr {
    /// `v` as Python's `json.dumps` writes it: `", "` and `": "` between items, and every
    /// character but printable ASCII escaped when `ascii` (its default; the Lambda runtime
    /// writes a function's result with `ensure_ascii=False`).
    fn py_json(v: &Value, ascii: bool) -> String {
        match v {
            Value::String(s) => {
                let mut out = String::from("\"");
                for c in s.chars() {
                    match c {
                        '"' => out.push_str("\\\""),
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\r' => out.push_str("\\r"),
                        '\t' => out.push_str("\\t"),
                        '\u{8}' => out.push_str("\\b"),
                        '\u{c}' => out.push_str("\\f"),
                        c if c < ' ' || (ascii && c > '~') => {
                            let mut units = [0u16; 2];
                            for unit in c.encode_utf16(&mut units).iter() {
                                out.push_str(&format!("\\u{unit:04x}"));
                            }
                        }
                        c => out.push(c),
                    }
                }
                out.push('"');
                out
            }
            Value::Array(items) => {
                let items: Vec<String> = items.iter().map(|i| py_json(i, ascii)).collect();
                format!("[{}]", items.join(", "))
            }
            Value::Object(fields) => {
                let fields: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "{}: {}",
                            py_json(&Value::String(k.clone()), ascii),
                            py_json(v, ascii)
                        )
                    })
                    .collect();
                format!("{{{}}}", fields.join(", "))
            }
            other => other.to_string(),
        }
    }
    serve(|req: Request<hyper::body::Incoming>| async move {
        let path = req.uri().path().to_owned();
        let (parts, body) = req.into_parts();
        let body = body.collect().await.unwrap().to_bytes();
        let signed = signed_for(&parts, &body, "lambda");
        let function = path
            .strip_prefix("/2015-03-31/functions/")
            .and_then(|p| p.strip_suffix("/invocations"))
            .map(|f| percent_encoding::percent_decode_str(f).decode_utf8_lossy().into_owned())
            .unwrap_or_default();
        let name = function.rsplit(':').next().unwrap_or_default().to_owned();
        let event: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        // The LocalStack tests' functions: whether the answer is a function error, and the
        // answer as the function's runtime writes it. An empty payload is the event `{}`, as
        // Lambda gives it.
        let given = if body.is_empty() { json!({}) } else { event.clone() };
        let written: Option<(bool, String)> = match name.as_str() {
            // lambda_aws_proxy.py: the event, as the proxy response's body.
            "ls_aws_proxy" => Some((
                false,
                format!(
                    "{{\"statusCode\": 200, \"body\": {}, \"isBase64Encoded\": false}}",
                    py_json(&Value::String(py_json(&given, true)), false)
                ),
            )),
            // LAMBDA_RESPONSE_FROM_BODY: the JSON the event's body holds (base64-decoded when
            // the event says it is encoded); what Python raises otherwise.
            "ls_response_from_body" => {
                let raised = |kind: &str, message: &str| {
                    let error = json!({"errorMessage": message, "errorType": kind, "requestId": "r", "stackTrace": []});
                    (true, py_json(&error, false))
                };
                Some(match given.get("body") {
                    None => raised("KeyError", "'body'"),
                    Some(Value::String(text)) => {
                        let bytes = if given["isBase64Encoded"].as_bool() == Some(true) {
                            use base64::Engine;
                            base64::engine::general_purpose::STANDARD.decode(text).ok()
                        } else {
                            Some(text.as_bytes().to_vec())
                        };
                        match bytes.map(|b| serde_json::from_slice::<Value>(&b)) {
                            None => raised("Error", "Incorrect padding"),
                            Some(Ok(result)) => (false, py_json(&result, false)),
                            Some(Err(_)) => raised("JSONDecodeError", "Expecting value: line 1 column 1 (char 0)"),
                        }
                    }
                    Some(other) => {
                        let kind = match other {
                            Value::Null => "NoneType",
                            Value::Bool(_) => "bool",
                            Value::Number(n) if n.is_f64() => "float",
                            Value::Number(_) => "int",
                            Value::String(_) => "str",
                            Value::Array(_) => "list",
                            Value::Object(_) => "dict",
                        };
                        let message = format!("the JSON object must be str, bytes or bytearray, not {kind}");
                        raised("TypeError", message.as_str())
                    }
                })
            }
            // lambda_handler.js (Node): what it was given, quoted twice, as JSON.stringify does.
            "ls_nodejs_handler" => {
                let said = Value::String(format!("response from localstack lambda: {given}"));
                Some((
                    false,
                    format!(
                        "{{\"statusCode\":200,\"body\":{},\"isBase64Encoded\":false,\"headers\":{{}}}}",
                        Value::String(said.to_string())
                    ),
                ))
            }
            _ => None,
        };
        let (status, function_error, answer) = match name.as_str() {
            "echo" => (200, false, json!({"statusCode": 200, "headers": {"x-signed": signed.to_string()}, "body": event.to_string()})),
            "malformed" => (200, false, json!("just a string")),
            // A policy allowing everyone but callers from loopback (a condition on aws:SourceIp).
            "deny_local" => (200, false, json!({"principalId": "p2", "policyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"},
                {"Effect": "Deny", "Action": "execute-api:Invoke", "Resource": "*",
                 "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}}]}})),
            // A WebSocket `$connect` function choosing a subprotocol.
            "subprotocol" => (200, false, json!({"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "chat.v2"}})),
            // HTTP API authorizers: a simple response (2.0) and an IAM policy (1.0), allowing
            // the `authorization: allow` header; the simple one tells what its event held.
            "simple_auth" => {
                let allowed = event["headers"]["authorization"] == "allow";
                (200, false, json!({"isAuthorized": allowed, "context": {
                    "type": event["type"], "routeArn": event["routeArn"], "identity": event["identitySource"], "version": event["version"]}}))
            }
            "policy_auth" => {
                let effect = if event["headers"]["authorization"] == "allow" { "Allow" } else { "Deny" };
                (200, false, json!({"principalId": "p1", "policyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": effect, "Action": "execute-api:Invoke", "Resource": event["methodArn"]}]}}))
            }
            // An HTTP API's function answering bare JSON (payload 2.0 infers the rest).
            "bare" => (200, false, json!({"message": "hi", "n": 1})),
            "error" => (200, true, json!({"errorMessage": "boom", "errorType": "Error"})),
            "slow" => {
                tokio::time::sleep(Duration::from_secs(2)).await;
                (200, false, json!({"statusCode": 200, "body": "late"}))
            }
            // The function answers whatever proxy response the request body holds.
            "custom" => {
                let inner = event.get("body").and_then(Value::as_str).unwrap_or("null");
                (200, false, serde_json::from_str(inner).unwrap_or(Value::Null))
            }
            "identity" => (200, false, event),
            // lambda_select_pattern.py of the recordings.
            "select_pattern" => match event["statusCode"].as_str() {
                Some("200") => (200, false, json!("Pass")),
                Some(code @ ("400" | "500")) => {
                    let words = if code == "400" { "four hundred" } else { "five hundred" };
                    let message = format!("Error: Raising {words} from within the Lambda function");
                    (200, true, json!({"errorMessage": message, "errorType": "Exception", "requestId": "r", "stackTrace": []}))
                }
                _ => (200, false, json!("Error Value in the json request should either be 400 or 500 to demonstrate")),
            },
            // lambda_mapping_responses.py of the recordings.
            "mapping_responses" => {
                let status: i64 = event["body"]["httpStatus"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
                let body = if status >= 400 { "customerror" } else { "noerror" };
                (200, false, json!({"statusCode": 200, "body": body}))
            }
            // Says how it was invoked: `Event` (asynchronously) answers 202 and nothing, as Lambda does.
            "invocation_type" => match parts.headers.get("x-amz-invocation-type").and_then(|v| v.to_str().ok()) {
                Some("Event") => (202, false, Value::Null),
                other => (200, false, json!({"invocationType": other})),
            },
            _ if written.is_some() => (200, false, Value::Null),
            _ => (404, false, json!({"Type": "User", "message": format!("Function not found: {function}")})),
        };
        let (function_error, answer) = match written {
            Some(written) => written,
            None if status == 202 => (function_error, String::new()),
            None => (function_error, answer.to_string()),
        };
        let mut res = Response::builder().status(status).header("content-type", "application/json");
        if function_error {
            res = res.header("x-amz-function-error", "Unhandled");
        }
        res.body(Full::new(Bytes::from(answer))).unwrap()
    })
    .await
}

/// An HTTPS server with a self-signed certificate answering `{"tls": true, "path": ...}`.
pub async fn tls_backend() -> SocketAddr {
    tls_backend_demanding(None).await
}

/// [`tls_backend`] that admits only clients presenting a certificate `client_ca` (PEM) issued,
/// or is, when there is one.
pub async fn tls_backend_demanding(client_ca: Option<&str>) -> SocketAddr {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let key = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert = key.cert.der().clone();
    let private = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.signing_key.serialize_der()));
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(pem) => {
            let mut roots = rustls::RootCertStore::empty();
            roots
                .add(CertificateDer::from_pem_slice(pem.as_bytes()).unwrap())
                .unwrap();
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                std::sync::Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(verifier)
        }
    };
    let config = builder.with_single_cert(vec![cert], private).unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let svc = service_fn(|req: Request<hyper::body::Incoming>| async move {
                    let body = json!({"tls": true, "path": req.uri().path()}).to_string();
                    Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    addr
}

/// Sends its head and a first chunk at once, then the rest of the body 2 s later.
pub async fn trickling_backend() -> SocketAddr {
    use http_body_util::StreamBody;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let svc = service_fn(|_req: Request<hyper::body::Incoming>| async move {
                    let chunks = futures_util::stream::unfold(0, |n| async move {
                        match n {
                            0 => Some((
                                Ok::<_, Infallible>(hyper::body::Frame::data(Bytes::from("first "))),
                                1,
                            )),
                            1 => {
                                tokio::time::sleep(Duration::from_secs(2)).await;
                                Some((Ok(hyper::body::Frame::data(Bytes::from("late"))), 2))
                            }
                            _ => None,
                        }
                    });
                    Ok::<_, Infallible>(Response::new(StreamBody::new(chunks)))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    addr
}

/// A bare HTTP/1.1 server that counts the connections it accepts. It answers every request
/// with its path and keeps the connection open, except after a path starting `/close`: then it
/// hangs up right after answering, without saying so, as a server whose idle timeout fires does.
/// A path starting `/chunked` is answered in two chunks (with a trailer), one starting
/// `/until-close` with a body that ends when the connection does.
pub async fn counting_backend() -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = std::sync::Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        let mut chunk = [0u8; 4096];
                        match stream.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                    buf.drain(..end + 4);
                    let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
                    let answer = if path.starts_with("/chunked") {
                        let (a, b) = path.split_at(3);
                        format!(
                            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x};ext=1\r\n{b}\r\n0\r\nx-t: 1\r\n\r\n",
                            a.len(),
                            b.len()
                        )
                    } else if path.starts_with("/until-close") {
                        format!("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n{path}")
                    } else {
                        format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{path}",
                            path.len()
                        )
                    };
                    let hang_up = path.starts_with("/close") || path.starts_with("/until-close");
                    if stream.write_all(answer.as_bytes()).await.is_err() || hang_up {
                        return;
                    }
                }
            });
        }
    });
    (addr, accepted)
}

/// What a fake AWS service received: path, parameters (query and form body merged) and
/// whether the call was signed for the service.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub params: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub signed: bool,
    /// Signed with the credentials [`fake_sts`] hands out for a role.
    pub signed_by_role: bool,
    pub session_token: Option<String>,
}

/// The secret of the credentials [`fake_sts`] hands out.
pub const ROLE_SECRET: &str = "role-secret";

/// STS's AssumeRole (query API): answers temporary credentials (secret [`ROLE_SECRET`]) for any
/// role, to callers signed with the tests' secret; counts the calls.
pub async fn fake_sts() -> (SocketAddr, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = calls.clone();
    let addr = serve(move |req: Request<hyper::body::Incoming>| {
        let counter = counter.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            let params = gatehouse::domain::query::parse(&String::from_utf8_lossy(&body));
            let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            if !signed_for(&parts, &body, "sts") || param("Action").as_deref() != Some("AssumeRole") {
                return Response::builder().status(403).body(Full::new(Bytes::from_static(b"<ErrorResponse/>"))).unwrap();
            }
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let expiration = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
            let role = param("RoleArn").unwrap_or_default();
            let xml = format!(
                "<AssumeRoleResponse><AssumeRoleResult><AssumedRoleUser><Arn>{role}</Arn></AssumedRoleUser><Credentials><AccessKeyId>ASIAROLE</AccessKeyId><SecretAccessKey>{ROLE_SECRET}</SecretAccessKey><SessionToken>role-token</SessionToken><Expiration>{expiration}</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>"
            );
            Response::builder().header("content-type", "text/xml").body(Full::new(Bytes::from(xml))).unwrap()
        }
    })
    .await;
    (addr, calls)
}

/// SQS's query API, enough for SendMessage: answers XML as SQS does (JSON to `Accept:
/// application/json`), 400 `MissingParameter` without a MessageBody; everything received is
/// kept.
pub async fn fake_sqs() -> (SocketAddr, std::sync::Arc<std::sync::Mutex<Vec<Received>>>) {
    let received = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = received.clone();
    let addr = serve(move |req: Request<hyper::body::Incoming>| {
        let log = log.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            let mut params = gatehouse::domain::query::parse(parts.uri.query().unwrap_or(""));
            params.extend(gatehouse::domain::query::parse(&String::from_utf8_lossy(&body)));
            let got = Received {
                path: parts.uri.path().to_owned(),
                session_token: parts
                    .headers
                    .get("x-amz-security-token")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
                signed_by_role: signed_with(&parts, &body, "sqs", ROLE_SECRET),
                content_type: parts
                    .headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned),
                signed: signed_for(&parts, &body, "sqs"),
                params,
            };
            let message = got.params.iter().find(|(k, _)| k == "MessageBody").map(|(_, v)| v.clone());
            // The query API answers JSON to `Accept: application/json` (as API Gateway asks by
            // default: AWS's recorded templates read `$input.path('$.SendMessageResponse')`),
            // else XML.
            let wants_json = parts
                .headers
                .get("accept")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|a| a.contains("application/json"));
            let n = {
                let mut log = log.lock().unwrap();
                log.push(got);
                log.len()
            };
            let request_id = uuid::Uuid::new_v4().to_string();
            const MISSING: &str = "The request must contain the parameter MessageBody.";
            let (status, content_type, answer): (u16, &str, String) = match (message, wants_json) {
                (Some(message), false) => (
                    200,
                    "text/xml",
                    format!(
                        "<SendMessageResponse><SendMessageResult><MessageId>msg-{n}</MessageId><MD5OfMessageBody>{}</MD5OfMessageBody></SendMessageResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></SendMessageResponse>",
                        md5_hex(message.as_bytes())
                    ),
                ),
                (Some(message), true) => (
                    200,
                    "application/json",
                    json!({"SendMessageResponse": {
                        "ResponseMetadata": {"RequestId": request_id},
                        "SendMessageResult": {"MD5OfMessageAttributes": null, "MD5OfMessageBody": md5_hex(message.as_bytes()),
                            "MD5OfMessageSystemAttributes": null, "MessageId": format!("msg-{n}"), "SequenceNumber": null}}})
                    .to_string(),
                ),
                (None, false) => (
                    400,
                    "text/xml",
                    format!("<ErrorResponse><Error><Type>Sender</Type><Code>MissingParameter</Code><Message>{MISSING}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"),
                ),
                (None, true) => (
                    400,
                    "application/json",
                    json!({"Error": {"Type": "Sender", "Code": "MissingParameter", "Message": MISSING}, "RequestId": request_id})
                        .to_string(),
                ),
            };
            Response::builder()
                .status(status)
                .header("content-type", content_type)
                .body(Full::new(Bytes::from(answer)))
                .unwrap()
        }
    })
    .await;
    (addr, received)
}

/// Objects a fake S3 holds: key (`bucket/key`) → body and Content-Type.
pub type Objects = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, (Bytes, String)>>>;

/// S3's object API, enough for PUT, GET and DELETE: GET answers `response-content-type` as
/// the Content-Type when asked (as S3 does); objects have the ETag S3 gives a single-part
/// upload (their MD5); a missing key is 404 `NoSuchKey`, with S3's XML error (its `HostId`
/// [`S3_HOST_ID`]). Bucket `apigw-binary-objects` holds from the start the objects AWS's
/// recorded binary response tests (test_apigateway_s3) put with S3's own PutObject:
/// `binary-raw` (gzip bytes, not UTF-8), `binary-encoded` (their base64) and `text`.
pub async fn fake_s3() -> (SocketAddr, Objects) {
    let objects: Objects = Default::default();
    {
        use base64::Engine;
        let raw = hex::decode("1f8b0800146cee6302ff4bcecf2d284a2d2e4e4d5148492c49d45128cec82fcd4951484a55c8cc2b4bccc94c51080d71d3b550282e29cacc4b0700b83910572f000000").unwrap();
        let encoded = base64::engine::general_purpose::STANDARD
            .encode(&raw)
            .into_bytes();
        let text = b"this is a UTF8 text typed object".to_vec();
        let mut seeded = objects.lock().unwrap();
        for (key, body) in [("binary-raw", raw), ("binary-encoded", encoded), ("text", text)] {
            seeded.insert(
                format!("apigw-binary-objects/{key}"),
                (Bytes::from(body), "binary/octet-stream".to_owned()),
            );
        }
    }
    let store = objects.clone();
    let addr = serve(move |req: Request<hyper::body::Incoming>| {
        let store = store.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            let key = percent_encoding::percent_decode_str(parts.uri.path().trim_start_matches('/'))
                .decode_utf8_lossy()
                .into_owned();
            let etag = |b: &[u8]| format!("\"{}\"", md5_hex(b));
            if parts.method == http::Method::DELETE {
                store.lock().unwrap().remove(&key);
                return Response::builder()
                    .status(204)
                    .body(Full::new(Bytes::new()))
                    .unwrap();
            }
            if parts.method == http::Method::PUT {
                let content_type = parts
                    .headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("binary/octet-stream")
                    .to_owned();
                let tag = etag(&body);
                store.lock().unwrap().insert(key, (body, content_type));
                return Response::builder()
                    .header("etag", tag)
                    .body(Full::new(Bytes::new()))
                    .unwrap();
            }
            let query = gatehouse::domain::query::parse(parts.uri.query().unwrap_or(""));
            let found = store.lock().unwrap().get(&key).cloned();
            match found {
                Some((body, stored_type)) => {
                    let content_type = query
                        .iter()
                        .find(|(k, _)| k == "response-content-type")
                        .map(|(_, v)| v.clone())
                        .unwrap_or(stored_type);
                    Response::builder()
                        .header("content-type", content_type)
                        .header("etag", etag(&body))
                        .body(Full::new(body))
                        .unwrap()
                }
                None => {
                    let object = key
                        .split_once('/')
                        .map_or("", |(_, k)| k)
                        .replace('&', "&amp;")
                        .replace('<', "&lt;")
                        .replace('>', "&gt;");
                    let request_id = uuid::Uuid::new_v4().simple().to_string()[..16].to_uppercase();
                    let xml = format!(
                        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>{object}</Key><RequestId>{request_id}</RequestId><HostId>{S3_HOST_ID}</HostId></Error>"
                    );
                    Response::builder()
                        .status(404)
                        .header("content-type", "application/xml")
                        .body(Full::new(Bytes::from(xml)))
                        .unwrap()
                }
            }
        }
    })
    .await;
    (addr, objects)
}

/// A test OpenID provider: a discovery document and a JWKS served over HTTP, and the keys
/// to sign tokens with (ES256, P-256). `rotate` adds a key the JWKS did not have.
pub struct OidcIssuer {
    pub url: String,
    keys: std::sync::Arc<std::sync::Mutex<Vec<(String, jsonwebtoken::EncodingKey, Value)>>>,
    /// How many times the JWKS was fetched.
    pub jwks_fetches: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl OidcIssuer {
    pub async fn start() -> Self {
        let keys = std::sync::Arc::new(std::sync::Mutex::new(vec![ec_key("k1")]));
        let fetches = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let listener_addr = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
        let (k, f, a) = (keys.clone(), fetches.clone(), listener_addr.clone());
        let addr = serve(move |req: Request<hyper::body::Incoming>| {
            let (keys, fetches, url) = (k.clone(), f.clone(), a.clone());
            async move {
                let url = url.get().cloned().unwrap_or_default();
                let body = match req.uri().path() {
                    "/.well-known/openid-configuration" => {
                        json!({"issuer": url, "jwks_uri": format!("{url}/jwks")})
                    }
                    "/jwks" => {
                        fetches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        let keys: Vec<Value> = keys
                            .lock()
                            .unwrap()
                            .iter()
                            .map(|(_, _, jwk)| jwk.clone())
                            .collect();
                        json!({"keys": keys})
                    }
                    _ => Value::Null,
                };
                Response::new(Full::new(Bytes::from(body.to_string())))
            }
        })
        .await;
        let url = format!("http://{addr}");
        listener_addr.set(url.clone()).unwrap();
        Self {
            url,
            keys,
            jwks_fetches: fetches,
        }
    }

    /// A token with `claims` (`iss` is this issuer's unless given), signed by key `kid`.
    pub fn token(&self, kid: &str, mut claims: Value) -> String {
        if claims.get("iss").is_none() {
            claims["iss"] = json!(self.url);
        }
        let keys = self.keys.lock().unwrap();
        let (_, key, _) = keys
            .iter()
            .find(|(k, _, _)| k == kid)
            .expect("a key of this issuer");
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, &claims, key).unwrap()
    }

    /// Adds key `kid` to the issuer's JWKS.
    pub fn rotate(&self, kid: &str) {
        self.keys.lock().unwrap().push(ec_key(kid));
    }

    /// A token signed by a key that is not this issuer's, naming `kid`.
    pub fn forged(&self, kid: &str, claims: Value) -> String {
        let (_, key, _) = ec_key(kid);
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    }
}

/// A P-256 key pair: its name, its private key and its JWK.
fn ec_key(kid: &str) -> (String, jsonwebtoken::EncodingKey, Value) {
    use base64::Engine;
    let pair = rcgen::KeyPair::generate().unwrap();
    let raw = pair.public_key_raw();
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwk = json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
                     "x": b64(&raw[1..33]), "y": b64(&raw[33..65])});
    let key = jsonwebtoken::EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap();
    (kid.to_owned(), key, jwk)
}

/// Seconds since the epoch.
pub fn epoch_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A call to an AWS service's JSON protocol: the action (`X-Amz-Target`), its body, and
/// which service it was signed for by an assumed role.
#[derive(Debug, Clone)]
pub struct JsonCall {
    pub target: String,
    pub content_type: String,
    pub body: serde_json::Value,
    pub signed_as: Option<&'static str>,
    pub path: String,
}

/// AWS services on the JSON protocol (SQS, EventBridge, Kinesis, Step Functions, DynamoDB), and
/// SSM's GetParameter on its query protocol, enough to answer each action as the service does.
/// The action is the `X-Amz-Target` header's or, without one, the `Action` query parameter of
/// API Gateway's `action/{Action}` integrations: AWS's recordings (test_apigateway_kinesis,
/// _dynamodb, _stepfunctions, _ssm) show Kinesis, DynamoDB, Step Functions and SSM answering
/// those without a target, EventBridge needing one (its recorded template sets it). A queue
/// named `missing` is SQS's `QueueDoesNotExist` (400). Every DynamoDB table exists, keyed by
/// `id`, holding at first the items the recorded test put in ([`dynamodb`]); the one SSM
/// parameter is the recorded `param-test-123` ([`ssm_get_parameter`]). Every call is kept.
pub async fn fake_aws_json() -> (SocketAddr, std::sync::Arc<std::sync::Mutex<Vec<JsonCall>>>) {
    let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = calls.clone();
    let tables: DynamoTables = Default::default();
    let sequence = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let addr = serve(move |req: Request<hyper::body::Incoming>| {
        let (log, tables, sequence) = (log.clone(), tables.clone(), sequence.clone());
        async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            let header = |n: &str| {
                parts
                    .headers
                    .get(n)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned()
            };
            // Signed as an assumed role (the secret [`fake_sts`] hands out).
            let signed_as = ["sqs", "events", "kinesis", "states", "appconfig", "dynamodb", "ssm"]
                .into_iter()
                .find(|s| signed_with(&parts, &body, s, ROLE_SECRET));
            let parsed = serde_json::from_slice::<Value>(&body);
            let call = JsonCall {
                target: header("x-amz-target"),
                content_type: header("content-type"),
                body: parsed.as_ref().map_or(Value::Null, Value::clone),
                signed_as,
                path: parts.uri.to_string(),
            };
            let mut params = gatehouse::domain::query::parse(parts.uri.query().unwrap_or(""));
            if call.content_type.starts_with("application/x-www-form-urlencoded") {
                params.extend(gatehouse::domain::query::parse(&String::from_utf8_lossy(&body)));
            }
            let param = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
            let action = if call.target.is_empty() {
                param("Action").unwrap_or_default()
            } else {
                String::new()
            };
            let operation = match action.as_str() {
                "PutRecord" | "PutRecords" => format!("Kinesis_20131202.{action}"),
                "StartExecution" | "DeleteStateMachine" => format!("AWSStepFunctions.{action}"),
                "PutItem" | "Query" | "Scan" => format!("DynamoDB_20120810.{action}"),
                _ => call.target.clone(),
            };
            let (status, content_type, answer): (u16, &str, String) = if action == "GetParameter" {
                let wants_json = header("accept").contains("application/json");
                ssm_get_parameter(param("Name").as_deref(), wants_json)
            } else {
                let input = &call.body;
                let (status, answer) = match operation.as_str() {
                    _ if !body.is_empty() && parsed.is_err() => (
                        400,
                        aws_error("SerializationException", "The request body is not valid JSON."),
                    ),
                    "AmazonSQS.SendMessage" if input["QueueUrl"].as_str().is_some_and(|q| q.ends_with("/missing")) => (
                        400,
                        aws_error("com.amazonaws.sqs#QueueDoesNotExist", "The specified queue does not exist."),
                    ),
                    "AmazonSQS.SendMessage" => (
                        200,
                        json!({"MD5OfMessageBody": "d41d8cd98f00b204e9800998ecf8427e", "MessageId": "5fea7756-0ea4-451a-a703-a558b933e274"}),
                    ),
                    "AWSEvents.PutEvents" => put_events(input),
                    "Kinesis_20131202.PutRecord" => kinesis_put(input, &sequence, false),
                    "Kinesis_20131202.PutRecords" => kinesis_put(input, &sequence, true),
                    "AWSStepFunctions.StartExecution" => step_functions("StartExecution", input),
                    "AWSStepFunctions.DeleteStateMachine" => step_functions("DeleteStateMachine", input),
                    "DynamoDB_20120810.PutItem" => dynamodb("PutItem", input, &tables),
                    "DynamoDB_20120810.Query" => dynamodb("Query", input, &tables),
                    "DynamoDB_20120810.Scan" => dynamodb("Scan", input, &tables),
                    _ => (400, json!({"__type": "UnknownOperationException"})),
                };
                (status, "application/x-amz-json-1.0", answer.to_string())
            };
            log.lock().unwrap().push(call);
            Response::builder()
                .status(status)
                .header("content-type", content_type)
                .body(Full::new(Bytes::from(answer)))
                .unwrap()
        }
    })
    .await;
    (addr, calls)
}

/// The `HostId` of [`fake_s3`]'s errors (one host answers them all).
pub const S3_HOST_ID: &str = "RmFrZVMzSG9zdC8xMjM0NTY3ODkwYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXo=";

/// MD5 of `data`, in hex: S3's ETag of a single-part upload, SQS's MD5OfMessageBody.
pub fn md5_hex(data: &[u8]) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(data))
}

/// An error of AWS's JSON protocol.
fn aws_error(kind: &str, message: &str) -> Value {
    json!({"__type": kind, "message": message})
}

/// EventBridge's PutEvents: an EventId for each entry whose Detail is a JSON object, the
/// `MalformedDetail` error for the others.
fn put_events(input: &Value) -> (u16, Value) {
    let Some(entries) = input["Entries"].as_array() else {
        return (
            400,
            aws_error(
                "ValidationException",
                "1 validation error detected: Value null at 'entries' failed to satisfy constraint: Member must not be null",
            ),
        );
    };
    let mut failed = 0;
    let results: Vec<Value> = entries
        .iter()
        .map(|entry| {
            let detail = entry["Detail"].as_str();
            if detail.is_none_or(|d| serde_json::from_str::<Value>(d).is_ok_and(|v| v.is_object())) {
                json!({"EventId": uuid::Uuid::new_v4().to_string()})
            } else {
                failed += 1;
                json!({"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."})
            }
        })
        .collect();
    (200, json!({"Entries": results, "FailedEntryCount": failed}))
}

/// Why Kinesis refuses a record of `request` (PutRecord's request is its one record): no
/// stream named, no partition key, data that is not base64.
fn kinesis_refusal(request: &Value, record: &Value) -> Option<Value> {
    use base64::Engine;
    if request["StreamName"].as_str().is_none() && request["StreamARN"].as_str().is_none() {
        return Some(aws_error(
            "InvalidArgumentException",
            "Either StreamName or StreamARN should be provided.",
        ));
    }
    let key = record["PartitionKey"].as_str().unwrap_or_default();
    if key.is_empty() || key.len() > 256 {
        return Some(aws_error(
            "ValidationException",
            "1 validation error detected: Value at 'partitionKey' failed to satisfy constraint: Member must have length between 1 and 256",
        ));
    }
    match record["Data"].as_str() {
        None => Some(aws_error(
            "ValidationException",
            "1 validation error detected: Value null at 'data' failed to satisfy constraint: Member must not be null",
        )),
        Some(data) if base64::engine::general_purpose::STANDARD.decode(data).is_err() => Some(aws_error(
            "SerializationException",
            "Base64 encoded data is not valid.",
        )),
        Some(_) => None,
    }
}

/// Kinesis's PutRecord, and PutRecords (`many`), to a stream of one shard: each record gets
/// the next sequence number.
fn kinesis_put(request: &Value, sequence: &std::sync::atomic::AtomicU64, many: bool) -> (u16, Value) {
    let shard = "shardId-000000000000";
    let next = || {
        let n = sequence.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        format!("4963{n:052}")
    };
    if !many {
        return match kinesis_refusal(request, request) {
            Some(refusal) => (400, refusal),
            None => (200, json!({"SequenceNumber": next(), "ShardId": shard})),
        };
    }
    let records = request["Records"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if records.is_empty() || records.len() > 500 {
        return (
            400,
            aws_error(
                "ValidationException",
                "1 validation error detected: Value at 'records' failed to satisfy constraint: Member must have length between 1 and 500",
            ),
        );
    }
    if let Some(refusal) = records.iter().find_map(|r| kinesis_refusal(request, r)) {
        return (400, refusal);
    }
    let answers: Vec<Value> = records
        .iter()
        .map(|_| json!({"SequenceNumber": next(), "ShardId": shard}))
        .collect();
    (200, json!({"FailedRecordCount": 0, "Records": answers}))
}

/// Step Functions' StartExecution (its `input` must be JSON) and DeleteStateMachine, of any
/// state machine.
fn step_functions(action: &str, request: &Value) -> (u16, Value) {
    let Some(machine) = request["stateMachineArn"]
        .as_str()
        .filter(|a| a.starts_with("arn:aws:states:") && a.contains(":stateMachine:"))
    else {
        return (
            400,
            aws_error(
                "InvalidArn",
                &format!(
                    "Invalid Arn: '{}'",
                    request["stateMachineArn"].as_str().unwrap_or_default()
                ),
            ),
        );
    };
    if action == "DeleteStateMachine" {
        return (200, json!({}));
    }
    match request.get("input") {
        None | Some(Value::Null) => {}
        Some(Value::String(input)) if serde_json::from_str::<Value>(input).is_ok() => {}
        Some(Value::String(_)) => {
            return (
                400,
                aws_error(
                    "InvalidExecutionInput",
                    "Invalid State Machine Execution Input: not JSON",
                ),
            );
        }
        Some(_) => {
            return (
                400,
                aws_error("SerializationException", "Expected a string for 'input'"),
            );
        }
    }
    let name = request["name"]
        .as_str()
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let execution = format!("{}:{name}", machine.replacen(":stateMachine:", ":execution:", 1));
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    (
        200,
        json!({"executionArn": execution, "startDate": millis as f64 / 1000.0}),
    )
}

/// [`fake_aws_json`]'s DynamoDB tables: name → items by their `id` (a string).
type DynamoTables = std::sync::Arc<
    std::sync::Mutex<std::collections::HashMap<String, std::collections::BTreeMap<String, Value>>>,
>;

/// DynamoDB's PutItem, Query (a key condition `id = :value`) and Scan. A table exists once
/// named, holding at first the items `test`, `test2` and `test 3` (what AWS's recorded
/// test_apigateway_dynamodb put in before calling the API); items come in `id` order.
fn dynamodb(action: &str, request: &Value, tables: &DynamoTables) -> (u16, Value) {
    const INVALID: &str = "com.amazon.coral.validate#ValidationException";
    let Some(table) = request["TableName"].as_str() else {
        return (
            400,
            aws_error(
                INVALID,
                "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null",
            ),
        );
    };
    let mut tables = tables.lock().unwrap();
    let items = tables.entry(table.to_owned()).or_insert_with(|| {
        ["test", "test2", "test 3"]
            .into_iter()
            .map(|id| (id.to_owned(), json!({"id": {"S": id}})))
            .collect()
    });
    let found = |matching: Vec<Value>| {
        let count = matching.len();
        (
            200,
            json!({"Count": count, "Items": matching, "ScannedCount": count}),
        )
    };
    match action {
        "PutItem" => match request["Item"]["id"]["S"].as_str() {
            Some(id) => {
                items.insert(id.to_owned(), request["Item"].clone());
                (200, json!({}))
            }
            None => (
                400,
                aws_error(
                    INVALID,
                    "One or more parameter values were invalid: Missing the key id in the item",
                ),
            ),
        },
        "Scan" => found(items.values().cloned().collect()),
        _ => {
            let condition = request["KeyConditionExpression"].as_str().unwrap_or_default();
            let wanted = condition
                .split_once('=')
                .filter(|(attribute, _)| attribute.trim() == "id")
                .map(|(_, name)| &request["ExpressionAttributeValues"][name.trim()])
                .filter(|v| !v.is_null());
            match wanted {
                Some(wanted) => found(
                    items
                        .values()
                        .filter(|item| item["id"] == *wanted)
                        .cloned()
                        .collect(),
                ),
                None => (400, aws_error(INVALID, "Invalid KeyConditionExpression")),
            }
        }
    }
}

/// SSM's GetParameter on its query protocol, as API Gateway's `ssm:action/GetParameter`
/// integrations call it: JSON when asked for (`wants_json`), else XML. The one parameter is
/// the `param-test-123` (`123`) AWS's recorded test_apigateway_ssm created.
fn ssm_get_parameter(name: Option<&str>, wants_json: bool) -> (u16, &'static str, String) {
    let request_id = uuid::Uuid::new_v4().to_string();
    match name {
        Some(name @ "param-test-123") => {
            let arn = format!("arn:aws:ssm:us-east-1:111111111111:parameter/{name}");
            if wants_json {
                let answer = json!({"GetParameterResponse": {
                    "GetParameterResult": {"Parameter": {
                        "ARN": arn, "DataType": "text", "LastModifiedDate": 1720811630.12, "Name": name,
                        "Selector": null, "SourceResult": null, "Type": "String", "Value": "123", "Version": 1}},
                    "ResponseMetadata": {"RequestId": request_id}}});
                (200, "application/json", answer.to_string())
            } else {
                let xml = format!(
                    "<GetParameterResponse xmlns=\"http://ssm.amazonaws.com/doc/2014-11-06/\"><GetParameterResult><Parameter><ARN>{arn}</ARN><DataType>text</DataType><LastModifiedDate>2024-07-12T19:13:50.120Z</LastModifiedDate><Name>{name}</Name><Type>String</Type><Value>123</Value><Version>1</Version></Parameter></GetParameterResult><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></GetParameterResponse>"
                );
                (200, "text/xml", xml)
            }
        }
        _ if wants_json => {
            let answer = json!({"Error": {"Code": "ParameterNotFound", "Message": null, "Type": "Sender"}, "RequestId": request_id});
            (400, "application/json", answer.to_string())
        }
        _ => {
            let xml = format!(
                "<ErrorResponse xmlns=\"http://ssm.amazonaws.com/doc/2014-11-06/\"><Error><Type>Sender</Type><Code>ParameterNotFound</Code></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
            );
            (400, "text/xml", xml)
        }
    }
}

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
