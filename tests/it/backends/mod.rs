//! Real servers started inside tests: echo and other HTTP backends, a test OpenID provider,
//! and fakes of the AWS services integrations call (Lambda in `lambda`, the others in `aws`),
//! with LocalStack's HTTP echo (`http_echo`) for the recorded cases.

mod aws;
mod http_echo;
mod lambda;

pub use aws::*;
pub use http_echo::*;
pub use lambda::*;

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
