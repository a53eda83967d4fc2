//! `$context` of a request: what the request is, and what the pipeline learned about it so far.
//! Filled step by step; read by integrations, gateway responses and access logs.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use super::config::StageRuntime;
use crate::compiler::CompiledApi;

#[derive(Debug)]
pub struct RequestContext {
    pub request_id: String,
    pub extended_request_id: String,
    pub started: Instant,
    pub request_time: SystemTime,
    pub http_method: String,
    /// The full request path as received (`/dev/pets/1` or the `/restapis/...` form).
    pub path: String,
    pub protocol: &'static str,
    pub source_ip: String,
    pub user_agent: Option<String>,
    pub domain_name: Option<String>,
    pub api_id: Option<String>,
    pub account_id: Option<String>,
    pub stage: Option<String>,
    pub deployment_id: Option<String>,
    pub resource_id: Option<String>,
    pub resource_path: Option<String>,
    pub is_canary: bool,
    /// The verb of the method that matched (`ANY` included): a bounded metrics label, unlike the
    /// request's own verb, which a client may invent.
    pub method_label: &'static str,
    /// The deployment serving this request, for its gateway responses.
    pub api: Option<Arc<CompiledApi>>,
    /// The stage serving this request, for its access log.
    pub stage_runtime: Option<Arc<StageRuntime>>,
    /// The request's headers and parameters, kept only when a gateway response maps them.
    pub gateway_request: Option<Box<GatewayRequest>>,
    pub integration_latency_ms: Option<u128>,
    /// What mapping templates set in `$context.requestOverride` / `responseOverride`.
    pub overrides: Option<Box<super::integration::template::Overrides>>,
    pub status: u16,
    pub response_length: u64,
    pub error_message: Option<String>,
    pub error_response_type: Option<&'static str>,
}

impl RequestContext {
    pub fn new(
        method: &http::Method,
        path: &str,
        host: Option<&str>,
        user_agent: Option<&str>,
        remote: SocketAddr,
    ) -> Self {
        // A userspace RNG: `Uuid::new_v4` would make a getrandom syscall per request.
        let bits: u128 = rand::random();
        let uuid = uuid::Builder::from_random_bytes(bits.to_le_bytes()).into_uuid();
        let request_id = String::from(&*uuid.hyphenated().encode_lower(&mut uuid::Uuid::encode_buffer()));
        Self {
            extended_request_id: extended_id(bits),
            request_id,
            started: Instant::now(),
            request_time: SystemTime::now(),
            http_method: method.as_str().to_owned(),
            path: path.to_owned(),
            protocol: "HTTP/1.1",
            source_ip: ip_string(remote.ip()),
            user_agent: user_agent.map(str::to_owned),
            domain_name: host.map(|h| without_port(h).to_owned()),
            api_id: None,
            account_id: None,
            stage: None,
            deployment_id: None,
            resource_id: None,
            resource_path: None,
            is_canary: false,
            method_label: "-",
            api: None,
            stage_runtime: None,
            gateway_request: None,
            integration_latency_ms: None,
            overrides: None,
            status: 0,
            response_length: 0,
            error_message: None,
            error_response_type: None,
        }
    }

    /// `requestTime` in AWS's CLF format: `26/Nov/2026:02:27:00 +0000`.
    pub fn request_time_clf(&self) -> String {
        clf_time(self.request_time)
    }

    pub fn request_time_epoch_ms(&self) -> i64 {
        epoch_ms(self.request_time)
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
fn ip_string(ip: std::net::IpAddr) -> String {
    let std::net::IpAddr::V4(v4) = ip else {
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
fn extended_id(bits: u128) -> String {
    use base64::Engine;
    let mut id = base64::engine::general_purpose::STANDARD.encode(&bits.rotate_left(17).to_le_bytes()[..11]);
    id.truncate(15);
    id.push('=');
    id
}
