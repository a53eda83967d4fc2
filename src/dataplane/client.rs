//! The backend client: keep-alive HTTP/1.1 connections, plain or TLS (rustls with the webpki
//! roots), pooled per data-plane thread. Integrations with `tlsConfig.insecureSkipVerification`
//! use a second client that accepts any server certificate, as AWS does for them.
//!
//! The pool is Gatehouse's own, over hyper's connection API (`hyper::client::conn::http1`):
//! hyper_util's pooled client hashed every request's pool key with SipHash, spawned a task per
//! request to watch for the connection's return, and cost 13.5k of the 37k instructions of a
//! bare hyper proxy (callgrind). Here a connection goes back to its pool when its answer's body
//! has been read to the end, and a request that a pooled connection closed under it before
//! writing a byte is sent again on a fresh one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{HeaderValue, Request, Response, Uri};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tower::ServiceExt;

use super::{Body, BoxError};

/// Idle connections kept per backend (scheme and authority).
const MAX_IDLE_PER_BACKEND: usize = 1024;
/// An idle connection older than this is closed rather than reused.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);

/// A pooled HTTP/1.1 client for backends. Cloning shares the pool.
#[derive(Clone)]
pub struct BackendClient {
    connector: HttpsConnector<HttpConnector>,
    pool: Arc<Pool>,
}

/// Where a connection goes: requests to the same scheme and authority share connections.
#[derive(Clone)]
struct Key {
    https: bool,
    authority: Authority,
}

// By the authority's bytes as written: `Authority`'s own `Hash` lowercases byte by byte, and
// two spellings of one host merely get two pools.
impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.https == other.https && self.authority.as_str() == other.authority.as_str()
    }
}

impl Eq for Key {}

impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.https.hash(state);
        self.authority.as_str().hash(state);
    }
}

#[derive(Default)]
struct Pool {
    idle: Mutex<HashMap<Key, Vec<Idle>, foldhash::fast::RandomState>>,
}

struct Idle {
    sender: SendRequest<Body>,
    since: Instant,
}

impl Pool {
    /// The most recently used live connection to `key`, if any.
    fn checkout(&self, key: &Key) -> Option<SendRequest<Body>> {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.get_mut(key)?;
        while let Some(conn) = list.pop() {
            if !conn.sender.is_closed() && conn.since.elapsed() < IDLE_TIMEOUT {
                return Some(conn.sender);
            }
        }
        None
    }

    fn checkin(&self, key: Key, sender: SendRequest<Body>) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        let list = idle.entry(key).or_default();
        // The oldest connections go first: they are the likeliest to have timed out.
        if list.len() >= MAX_IDLE_PER_BACKEND
            || list.first().is_some_and(|c| c.since.elapsed() >= IDLE_TIMEOUT)
        {
            list.remove(0);
        }
        list.push(Idle {
            sender,
            since: Instant::now(),
        });
    }
}

impl BackendClient {
    fn new(tls: rustls::ClientConfig) -> Self {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(10)));
        // The TLS layer decides between http:// and https://.
        http.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Self {
            connector,
            pool: Arc::default(),
        }
    }

    /// Sends `req` (with an absolute URI) on a pooled connection, or a new one. The answer's body
    /// streams; its connection is reused once the body has been read to the end.
    pub async fn request(&self, mut req: Request<Body>) -> Result<Response<ResponseBody>, BoxError> {
        let (key, origin_form) = split_uri(req.uri())?;
        if !req.headers().contains_key(http::header::HOST) {
            req.headers_mut().insert(http::header::HOST, host_header(&key)?);
        }
        let uri = std::mem::replace(req.uri_mut(), origin_form);
        loop {
            let (mut sender, reused) = match self.pool.checkout(&key) {
                Some(sender) => (sender, true),
                // Boxed: connecting is rare, and its future would make every request's larger.
                None => (Box::pin(self.connect(&uri)).await?, false),
            };
            // A pooled connection is ready once it has seen the end of its last answer, which
            // may take its task one more turn; a closed one fails here.
            if let Err(e) = sender.ready().await {
                if reused {
                    continue;
                }
                return Err(e.into());
            }
            match sender.try_send_request(req).await {
                Ok(res) => {
                    let (parts, body) = res.into_parts();
                    let mut body = ResponseBody {
                        inner: body,
                        release: Some(Release {
                            pool: self.pool.clone(),
                            key,
                            sender,
                        }),
                    };
                    if http_body::Body::is_end_stream(&body.inner) {
                        body.release();
                    }
                    return Ok(Response::from_parts(parts, body));
                }
                // A reused connection closed before the request was written: try a fresh one.
                Err(mut e) => match e.take_message() {
                    Some(back) if reused => req = back,
                    _ => return Err(e.into_error().into()),
                },
            }
        }
    }

    async fn connect(&self, uri: &Uri) -> Result<SendRequest<Body>, BoxError> {
        let io = self.connector.clone().oneshot(uri.clone()).await?;
        let (sender, conn) = hyper::client::conn::http1::Builder::new().handshake(io).await?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "backend connection ended with an error");
            }
        });
        Ok(sender)
    }
}

/// The pool key and the origin-form URI (path and query) a request line carries.
fn split_uri(uri: &Uri) -> Result<(Key, Uri), BoxError> {
    let https = match uri.scheme() {
        Some(s) if *s == Scheme::HTTP => false,
        Some(s) if *s == Scheme::HTTPS => true,
        _ => return Err(format!("not an http(s) URI: {uri}").into()),
    };
    let authority = uri.authority().ok_or("a URI without a host")?.clone();
    let path = uri
        .path_and_query()
        .cloned()
        .unwrap_or_else(|| PathAndQuery::from_static("/"));
    Ok((Key { https, authority }, Uri::from(path)))
}

/// `Host`: the authority without user info, and without the scheme's default port.
fn host_header(key: &Key) -> Result<HeaderValue, BoxError> {
    let authority = key.authority.as_str();
    let host = match authority.as_bytes().iter().rposition(|&b| b == b'@') {
        Some(at) => &authority[at + 1..],
        None => authority,
    };
    let default_port = if key.https { ":443" } else { ":80" };
    let value = match host.strip_suffix(default_port) {
        Some(bare) => HeaderValue::from_str(bare),
        None => HeaderValue::from_str(host),
    };
    Ok(value?)
}

/// A backend answer's body. Read to its end, it hands its connection back to the pool;
/// dropped before, it takes the connection down with it.
pub struct ResponseBody {
    inner: Incoming,
    release: Option<Release>,
}

struct Release {
    pool: Arc<Pool>,
    key: Key,
    sender: SendRequest<Body>,
}

impl ResponseBody {
    fn release(&mut self) {
        if let Some(r) = self.release.take() {
            r.pool.checkin(r.key, r.sender);
        }
    }
}

impl http_body::Body for ResponseBody {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, hyper::Error>>> {
        let frame = ready!(std::pin::Pin::new(&mut self.inner).poll_frame(cx));
        match &frame {
            None => self.release(),
            Some(Ok(_)) if self.inner.is_end_stream() => self.release(),
            Some(Err(_)) => self.release = None,
            Some(Ok(_)) => {}
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client that verifies backends against the webpki root certificates.
pub fn verifying() -> BackendClient {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    BackendClient::new(tls)
}

/// A client that accepts any certificate (`tlsConfig.insecureSkipVerification`).
pub fn insecure() -> BackendClient {
    let tls = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCertificate(provider())))
        .with_no_client_auth();
    BackendClient::new(tls)
}

/// Skips certificate checks but still verifies the handshake signatures.
#[derive(Debug)]
struct AcceptAnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_header_drops_the_default_port_and_user_info() {
        let host = |uri: &str| {
            let (key, origin) = split_uri(&uri.parse().unwrap()).unwrap();
            (host_header(&key).unwrap(), origin.to_string())
        };
        assert_eq!(
            host("http://example.com:80/a?b=1"),
            ("example.com".parse().unwrap(), "/a?b=1".into())
        );
        assert_eq!(
            host("https://example.com:443"),
            ("example.com".parse().unwrap(), "/".into())
        );
        assert_eq!(
            host("http://u:p@example.com:8080/x"),
            ("example.com:8080".parse().unwrap(), "/x".into())
        );
        assert_eq!(
            host("https://example.com:80/"),
            ("example.com:80".parse().unwrap(), "/".into())
        );
        assert!(split_uri(&"/relative".parse().unwrap()).is_err());
        assert!(split_uri(&"ftp://example.com/".parse().unwrap()).is_err());
    }
}
