//! `$context` of a request: what the request is, and what the pipeline learned about it so far.
//! Filled step by step; read by integrations, gateway responses and access logs.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use http::{HeaderName, HeaderValue};

use super::config::StageRuntime;
use super::identity::Authorization;
use super::trace::TraceId;
use crate::compiler::context::{ContextField, ContextVariable};
use crate::compiler::{CompiledApi, CompiledMethod};

/// What a request carries through the pipeline. Filled without allocating, nor touching a
/// shared count: what the request said and what the configuration says are lent by the request
/// and the configuration the request is served by (`'r`), and the ids are inline.
#[derive(Debug)]
pub struct RequestContext<'r> {
    /// The request's random bits, which its ids are made of.
    bits: u128,
    /// `$context.requestId` of a REST or WebSocket API (a UUID), made from `bits` when first
    /// read: an HTTP API's answers and events never show it.
    request_id: std::sync::OnceLock<InlineId<36>>,
    pub extended_request_id: InlineId<16>,
    /// `X-Amzn-Trace-Id`: the client's, or one made for the request.
    pub trace_id: TraceId,
    /// When the request's head had arrived, and its wall-clock time.
    pub started: Instant,
    pub request_time: SystemTime,
    /// When the integration was called (when the request arrived, until then).
    pub integration_started: Instant,
    pub http_method: http::Method,
    /// The request path as received (`/dev/pets/1` or the `/restapis/...` form).
    path: &'r str,
    pub protocol: &'static str,
    /// The client.
    pub source: &'r Peer,
    user_agent: Option<&'r str>,
    host: Option<&'r str>,
    /// The method that matched: its resource's id and path.
    pub method: Option<&'r Arc<CompiledMethod>>,
    pub is_canary: bool,
    /// The verb of the method that matched (`ANY` included): a bounded metrics label, unlike the
    /// request's own verb, which a client may invent.
    pub method_label: &'static str,
    /// The deployment serving this request, for its gateway responses.
    pub api: Option<&'r Arc<CompiledApi>>,
    /// The stage serving this request: its API, account, name, deployment and access log.
    pub stage_runtime: Option<&'r Arc<StageRuntime>>,
    /// The base path of the custom domain mapping that took the request (`""` for none):
    /// `None` when the request did not come through a custom domain.
    pub base_path_matched: Option<&'r str>,
    /// What the method's authorizer established about the caller.
    pub authorizer: Option<Arc<Authorization>>,
    /// The IAM caller who signed the request (AWS_IAM methods).
    pub caller: Option<Arc<super::config::Caller>>,
    /// How long the authorizer took (0 when its result was cached).
    pub authorizer_latency_ms: Option<u64>,
    /// The API key a method that requires one was called with, and what admits it.
    pub api_key: Option<Box<ApiKeyUse>>,
    /// The request's headers and parameters, kept only when a gateway response maps them.
    pub gateway_request: Option<Box<GatewayRequest>>,
    pub integration_latency_ms: Option<u128>,
    /// Whether the stage cache served the request (`None`: the method is not cached).
    pub cache_hit: Option<bool>,
    /// From the request's arrival to its answer being ready.
    pub latency_ms: u64,
    /// What mapping templates set in `$context.requestOverride` / `responseOverride`.
    pub overrides: Option<Box<Overrides>>,
    pub status: u16,
    pub response_length: u64,
    pub error_message: Option<String>,
    pub error_response_type: Option<&'static str>,
    /// What exactly failed (`$context.error.validationErrorString`).
    pub error_detail: Option<String>,
}

impl<'r> RequestContext<'r> {
    /// A request for `uri` (whose `Host`, `User-Agent` and `X-Amzn-Trace-Id` are given, as
    /// they arrived) from `source`, which arrived when it did.
    pub fn new(
        method: &http::Method,
        uri: &'r http::Uri,
        fields: RequestFields<'r>,
        source: &'r Peer,
        arrived: Instant,
    ) -> Self {
        let text = super::h1::text;
        // A userspace RNG: `Uuid::new_v4` would make a getrandom syscall per request.
        let bits: u128 = rand::random();
        let request_time = super::clock::wall(arrived);
        let trace_id = TraceId::of_request(fields.trace_id, request_time);
        Self {
            extended_request_id: extended_id(bits),
            bits,
            request_id: std::sync::OnceLock::new(),
            trace_id,
            started: arrived,
            request_time,
            integration_started: arrived,
            http_method: method.clone(),
            path: uri.path(),
            protocol: "HTTP/1.1",
            source,
            user_agent: fields.user_agent.and_then(text),
            host: fields.host.and_then(text),
            method: None,
            is_canary: false,
            method_label: "-",
            api: None,
            stage_runtime: None,
            base_path_matched: None,
            authorizer: None,
            caller: None,
            authorizer_latency_ms: None,
            api_key: None,
            gateway_request: None,
            integration_latency_ms: None,
            cache_hit: None,
            latency_ms: 0,
            overrides: None,
            status: 0,
            response_length: 0,
            error_message: None,
            error_response_type: None,
            error_detail: None,
        }
    }

    /// The request's UUID (`x-amzn-RequestId`, a REST API's `$context.requestId`).
    pub fn request_id(&self) -> &InlineId<36> {
        self.request_id.get_or_init(|| {
            let uuid = uuid::Builder::from_random_bytes(self.bits.to_le_bytes()).into_uuid();
            let mut id = InlineId([0; 36]);
            uuid.hyphenated().encode_lower(&mut id.0);
            id
        })
    }

    /// The answer is ready at `at`.
    pub fn finish(&mut self, at: Instant) {
        self.latency_ms = at.saturating_duration_since(self.started).as_millis() as u64;
    }

    /// The full request path as received (`/dev/pets/1` or the `/restapis/...` form).
    pub fn path(&self) -> &'r str {
        self.path
    }

    /// The Host header, port and all.
    pub fn host(&self) -> Option<&'r str> {
        self.host
    }

    pub fn user_agent(&self) -> Option<&'r str> {
        self.user_agent
    }

    /// The Host header's name, without its port.
    pub fn domain_name(&self) -> Option<&str> {
        self.host().map(without_port)
    }

    pub fn api_id(&self) -> Option<&str> {
        Some(&self.stage_runtime?.api_id)
    }

    pub fn account_id(&self) -> Option<&str> {
        Some(&self.stage_runtime?.account_id)
    }

    pub fn stage_name(&self) -> Option<&str> {
        Some(&self.stage_runtime?.stage.stage_name)
    }

    /// The deployment that serves the request: the canary's for a canary request.
    pub fn deployment_id(&self) -> Option<&str> {
        let stage = &self.stage_runtime?.stage;
        if self.is_canary {
            stage.canary_settings.as_ref()?.deployment_id.as_deref()
        } else {
            Some(&stage.deployment_id)
        }
    }

    /// The serving API's binaryMediaTypes (none before an API is known).
    pub fn binary_media_types(&self) -> &'r [String] {
        match self.api.map(|api| &**api) {
            Some(CompiledApi::Rest(api)) => api.binary_media_types.as_slice(),
            // HTTP APIs have no binary media types: a body that is not text is base64.
            Some(CompiledApi::Http(_) | CompiledApi::WebSocket(_)) | None => &[],
        }
    }

    pub fn resource_id(&self) -> Option<&str> {
        Some(&self.method?.resource_id)
    }

    pub fn resource_path(&self) -> Option<&str> {
        Some(&self.method?.resource_path)
    }

    /// The client's address as text.
    pub fn source_ip(&self) -> &str {
        self.source.as_str()
    }

    /// `requestTime` in AWS's CLF format: `26/Nov/2026:02:27:00 +0000`.
    pub fn request_time_clf(&self) -> String {
        clf_time(self.request_time)
    }

    pub fn request_time_epoch_ms(&self) -> i64 {
        epoch_ms(self.request_time)
    }

    /// The value of the `$context` variable `f` for this request, borrowed where it can be;
    /// `None` when the request has none (yet): no stage before one is resolved, no error
    /// unless a step failed. Templates, access logs and mappings all read `$context` here.
    pub fn field(&self, f: ContextField) -> Option<Cow<'_, str>> {
        use ContextField::*;
        let number = |n: u64| Cow::Owned(itoa::Buffer::new().format(n).to_owned());
        Some(match f {
            // HTTP APIs' request id is the short one they answer as `apigw-requestid`.
            RequestId if matches!(self.api.map(|a| &**a), Some(CompiledApi::Http(_))) => {
                Cow::Borrowed(self.extended_request_id.as_str())
            }
            RequestId => Cow::Borrowed(self.request_id().as_str()),
            ExtendedRequestId => Cow::Borrowed(self.extended_request_id.as_str()),
            HttpMethod => Cow::Borrowed(self.http_method.as_str()),
            Path => Cow::Borrowed(self.path()),
            Protocol => Cow::Borrowed(self.protocol),
            Stage => Cow::Borrowed(self.stage_name()?),
            ApiId => Cow::Borrowed(self.api_id()?),
            AccountId => Cow::Borrowed(self.account_id()?),
            DeploymentId => Cow::Borrowed(self.deployment_id()?),
            ResourceId => Cow::Borrowed(self.resource_id()?),
            ResourcePath => Cow::Borrowed(self.resource_path()?),
            RouteKey => Cow::Borrowed(self.method?.route_key.as_deref()?),
            DomainName => Cow::Borrowed(self.domain_name()?),
            DomainPrefix => Cow::Borrowed(self.domain_name()?.split('.').next()?),
            CustomDomainBasePathMatched => Cow::Borrowed(self.base_path_matched?),
            RequestTime => Cow::Owned(self.request_time_clf()),
            RequestTimeEpoch => Cow::Owned(self.request_time_epoch_ms().to_string()),
            IdentitySourceIp => Cow::Borrowed(self.source_ip()),
            IdentityUserAgent => Cow::Borrowed(self.user_agent()?),
            IdentityAccountId => Cow::Borrowed(self.caller.as_deref()?.config.account_id.as_str()),
            IdentityAccessKey => Cow::Borrowed(self.caller.as_deref()?.config.access_key_id.as_str()),
            IdentityUserArn => Cow::Borrowed(self.caller.as_deref()?.config.principal_arn.as_str()),
            IdentityCaller | IdentityUser => Cow::Borrowed(self.caller.as_deref()?.principal_id()),
            IdentityApiKey => Cow::Borrowed(&*self.api_key.as_deref()?.value),
            IdentityApiKeyId => Cow::Borrowed(&*self.api_key.as_deref()?.grant.key_id),
            IsCanaryRequest => Cow::Borrowed(if self.is_canary { "true" } else { "false" }),
            AuthorizerPrincipalId => Cow::Borrowed(self.authorizer.as_ref()?.principal_id.as_deref()?),
            AuthorizerIntegrationLatency => number(self.authorizer_latency_ms?),
            Status => number(u64::from(self.status)),
            ResponseLength => number(self.response_length),
            ResponseLatency => number(self.latency_ms),
            IntegrationLatency => number(self.integration_latency_ms? as u64),
            ErrorMessage => Cow::Borrowed(self.error_message.as_deref()?),
            // An authorizer's failure has no message: AWS's body says `{"message":null}`.
            ErrorMessageString => match self.error_message.as_deref()? {
                "" => Cow::Borrowed("null"),
                m => Cow::Owned(serde_json::to_string(m).ok()?),
            },
            ErrorResponseType => Cow::Borrowed(self.error_response_type?),
            ErrorValidationErrorString => {
                Cow::Borrowed(self.error_detail.as_deref().or(self.error_message.as_deref())?)
            }
            // A request is no WebSocket event.
            ConnectionId | EventType | MessageId | ConnectedAt | MessageDirection => return None,
        })
    }
}

impl RequestContext<'_> {
    /// The value of a `$context` name as mappings and access logs read it: a fixed variable, or
    /// what the authorizer passed on.
    pub fn variable(&self, v: &ContextVariable) -> Option<Cow<'_, str>> {
        match v {
            ContextVariable::Field(f) => self.field(*f),
            ContextVariable::Authorizer(key) => self.authorizer.as_deref()?.value(key),
            ContextVariable::Claim(name) => self.authorizer.as_deref()?.claim(name),
        }
    }
}

/// The API key a request was admitted with: its value (`$context.identity.apiKey`) and its
/// usage plan's grant.
#[derive(Debug)]
pub struct ApiKeyUse {
    pub value: Box<str>,
    pub grant: Arc<super::config::KeyGrant>,
}

/// What templates of one request have set in `$context.requestOverride` and
/// `$context.responseOverride`.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub request: serde_json::Map<String, serde_json::Value>,
    pub response: serde_json::Map<String, serde_json::Value>,
}

impl Overrides {
    fn section<'a>(
        map: &'a serde_json::Map<String, serde_json::Value>,
        name: &str,
    ) -> Vec<(&'a str, String)> {
        map.get(name)
            .and_then(|v| v.as_object())
            .map(|o| {
                o.iter()
                    .filter_map(|(k, v)| Some((k.as_str(), plain_string(v)?)))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn request_headers(&self) -> Vec<(&str, String)> {
        Self::section(&self.request, "header")
    }

    pub fn request_query(&self) -> Vec<(&str, String)> {
        Self::section(&self.request, "querystring")
    }

    pub fn request_path(&self) -> Vec<(&str, String)> {
        Self::section(&self.request, "path")
    }

    pub fn response_headers(&self) -> Vec<(&str, String)> {
        Self::section(&self.response, "header")
    }

    pub fn response_status(&self) -> Option<u16> {
        match self.response.get("status")? {
            serde_json::Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            serde_json::Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
        .filter(|s| (100..=599).contains(s))
    }

    /// Applies the response overrides to a method response.
    pub fn apply_to_response(&self, res: &mut http::Response<crate::dataplane::Body>) {
        if let Some(status) = self
            .response_status()
            .and_then(|s| http::StatusCode::from_u16(s).ok())
        {
            *res.status_mut() = status;
        }
        for (name, value) in self.response_headers() {
            if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
                res.headers_mut().insert(n, v);
            }
        }
    }
}

fn plain_string(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The header fields of a request the context keeps, as they arrived.
#[derive(Debug, Clone, Copy, Default)]
pub struct RequestFields<'r> {
    pub host: Option<&'r [u8]>,
    pub user_agent: Option<&'r [u8]>,
    pub trace_id: Option<&'r [u8]>,
}

/// The client at the other end of a connection, with its address written out once for all
/// the requests the connection carries (`X-Forwarded-For`, `$context.identity.sourceIp`), and
/// the port it connected to (`X-Forwarded-Port`).
#[derive(Debug, Clone)]
pub struct Peer {
    text: std::sync::Arc<str>,
    listen_port: u16,
    /// What the connection's TLS established, on a TLS listener.
    tls: Option<Arc<crate::tls::TlsSession>>,
}

impl Peer {
    /// The client at `addr`, connected to our `listen_port`.
    pub fn new(addr: SocketAddr, listen_port: u16) -> Self {
        Self {
            text: ip_string(addr.ip()).into(),
            listen_port,
            tls: None,
        }
    }

    /// The client of a TLS connection that established `session`.
    pub fn with_tls(mut self, session: crate::tls::TlsSession) -> Self {
        self.tls = Some(Arc::new(session));
        self
    }

    pub fn tls(&self) -> Option<&crate::tls::TlsSession> {
        self.tls.as_deref()
    }

    /// How the client reached us (`X-Forwarded-Proto`).
    pub fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "https" } else { "http" }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The port the client connected to (ours).
    pub fn listen_port(&self) -> u16 {
        self.listen_port
    }
}

/// A Host header's name, without its port (a byte scan: hosts are too short for `str::split`'s
/// searcher to pay off).
fn without_port(host: &str) -> &str {
    match host.bytes().rposition(|b| b == b':') {
        // An IPv6 literal's colons are inside its brackets.
        Some(i) if !host[i..].contains(']') => &host[..i],
        _ => host,
    }
}

/// A time in AWS's CLF format (`$context.requestTime`): `26/Nov/2026:02:27:00 +0000`.
pub fn clf_time(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t)
        .format("%d/%b/%Y:%H:%M:%S %z")
        .to_string()
}

/// Milliseconds since the epoch (`$context.requestTimeEpoch`).
pub fn epoch_ms(t: SystemTime) -> i64 {
    chrono::DateTime::<chrono::Utc>::from(t).timestamp_millis()
}

/// An address as text; IPv4 (most clients) without the formatting machinery.
pub fn ip_string(ip: IpAddr) -> String {
    let IpAddr::V4(v4) = ip else {
        return ip.to_string();
    };
    let mut s = String::with_capacity(15);
    for (i, octet) in v4.octets().into_iter().enumerate() {
        if i > 0 {
            s.push('.');
        }
        s.push_str(itoa::Buffer::new().format(octet));
    }
    s
}

/// What gateway-response mappings may read of the request.
#[derive(Debug, Default)]
pub struct GatewayRequest {
    pub headers: http::HeaderMap,
    pub query: Vec<(String, String)>,
    pub path_params: Vec<(String, String)>,
    pub variables: std::collections::BTreeMap<String, String>,
}

/// AWS's `x-amz-apigw-id` / `extendedRequestId` look like 16 base64 characters ending in `=`.
fn extended_id(bits: u128) -> InlineId<16> {
    use base64::Engine;
    let mut id = InlineId([b'='; 16]);
    let mut encoded = [0; 16];
    let n = base64::engine::general_purpose::STANDARD
        .encode_slice(&bits.rotate_left(17).to_le_bytes()[..11], &mut encoded)
        .unwrap_or(0);
    let n = n.min(15);
    id.0[..n].copy_from_slice(&encoded[..n]);
    id
}

/// An id of `N` ASCII characters, kept inline: request ids are made for every request.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct InlineId<const N: usize>([u8; N]);

impl<const N: usize> InlineId<N> {
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever written into an id.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl<const N: usize> std::ops::Deref for InlineId<N> {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> std::fmt::Display for InlineId<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<const N: usize> std::fmt::Debug for InlineId<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> serde::Serialize for InlineId<N> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
