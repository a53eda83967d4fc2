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
/// functions of AWS's recorded selection-pattern and response-template cases.
pub async fn fake_lambda() -> SocketAddr {
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
            _ => (404, false, json!({"Type": "User", "message": format!("Function not found: {function}")})),
        };
        let mut res = Response::builder().status(status).header("content-type", "application/json");
        if function_error {
            res = res.header("x-amz-function-error", "Unhandled");
        }
        res.body(Full::new(Bytes::from(answer.to_string()))).unwrap()
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

/// SQS's query API, enough for SendMessage: answers XML as SQS does, 400 `MissingParameter`
/// without a MessageBody; everything received is kept.
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
            let n = {
                let mut log = log.lock().unwrap();
                log.push(got);
                log.len()
            };
            let (status, xml) = match message {
                Some(_) => (
                    200,
                    format!("<SendMessageResponse><SendMessageResult><MessageId>msg-{n}</MessageId></SendMessageResult></SendMessageResponse>"),
                ),
                None => (
                    400,
                    "<ErrorResponse><Error><Type>Sender</Type><Code>MissingParameter</Code><Message>The request must contain the parameter MessageBody.</Message></Error></ErrorResponse>".to_owned(),
                ),
            };
            Response::builder()
                .status(status)
                .header("content-type", "text/xml")
                .body(Full::new(Bytes::from(xml)))
                .unwrap()
        }
    })
    .await;
    (addr, received)
}

/// Objects a fake S3 holds: key (`bucket/key`) → body and Content-Type.
pub type Objects = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<String, (Bytes, String)>>>;

/// S3's object API, enough for PUT and GET: GET answers `response-content-type` as the
/// Content-Type when asked (as S3 does) and an ETag; a missing key is 404 `NoSuchKey`.
pub async fn fake_s3() -> (SocketAddr, Objects) {
    let objects: Objects = Default::default();
    let store = objects.clone();
    let addr = serve(move |req: Request<hyper::body::Incoming>| {
        let store = store.clone();
        async move {
            let (parts, body) = req.into_parts();
            let body = body.collect().await.unwrap().to_bytes();
            let key = percent_encoding::percent_decode_str(parts.uri.path().trim_start_matches('/'))
                .decode_utf8_lossy()
                .into_owned();
            let etag = |b: &[u8]| {
                use sha2::Digest;
                format!("\"{}\"", &hex::encode(sha2::Sha256::digest(b))[..32])
            };
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
                None => Response::builder()
                    .status(404)
                    .header("content-type", "application/xml")
                    .body(Full::new(Bytes::from_static(
                        b"<Error><Code>NoSuchKey</Code></Error>",
                    )))
                    .unwrap(),
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

/// AWS services on the JSON protocol (SQS, EventBridge, Kinesis, Step Functions), enough to
/// answer each action as the service does; a queue named `missing` is SQS's
/// `QueueDoesNotExist` (400). Every call is kept.
pub async fn fake_aws_json() -> (SocketAddr, std::sync::Arc<std::sync::Mutex<Vec<JsonCall>>>) {
    let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = calls.clone();
    let addr = serve(move |req: Request<hyper::body::Incoming>| {
        let log = log.clone();
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
            let signed_as = ["sqs", "events", "kinesis", "states", "appconfig"]
                .into_iter()
                .find(|s| signed_with(&parts, &body, s, ROLE_SECRET));
            let call = JsonCall {
                target: header("x-amz-target"),
                content_type: header("content-type"),
                body: serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
                signed_as,
                path: parts.uri.to_string(),
            };
            let (status, answer) = match call.target.as_str() {
                "AmazonSQS.SendMessage" if call.body["QueueUrl"].as_str().is_some_and(|q| q.ends_with("/missing")) => (
                    400,
                    serde_json::json!({"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "The specified queue does not exist."}),
                ),
                "AmazonSQS.SendMessage" => (
                    200,
                    serde_json::json!({"MD5OfMessageBody": "d41d8cd98f00b204e9800998ecf8427e", "MessageId": "5fea7756-0ea4-451a-a703-a558b933e274"}),
                ),
                "AWSEvents.PutEvents" => (
                    200,
                    serde_json::json!({"Entries": [{"EventId": "11710aed-b79e-4468-a20b-bb3c0c3b4860"}], "FailedEntryCount": 0}),
                ),
                "Kinesis_20131202.PutRecord" => (
                    200,
                    serde_json::json!({"SequenceNumber": "4960", "ShardId": "shardId-000000000000"}),
                ),
                "AWSStepFunctions.StartExecution" => (
                    200,
                    serde_json::json!({"executionArn": "arn:aws:states:us-east-1:000000000000:execution:m:e", "startDate": 1.7e9}),
                ),
                _ => (400, serde_json::json!({"__type": "UnknownOperationException"})),
            };
            log.lock().unwrap().push(call);
            Response::builder()
                .status(status)
                .header("content-type", "application/x-amz-json-1.0")
                .body(Full::new(Bytes::from(answer.to_string())))
                .unwrap()
        }
    })
    .await;
    (addr, calls)
}
