//! The event a WebSocket API's Lambda (AWS_PROXY) integration gets, as AWS documents it:
//! `requestContext` (routeKey, eventType CONNECT / MESSAGE / DISCONNECT, connectionId,
//! connectedAt, messageId, stage, domainName, apiId, requestId, identity, ...), the handshake's
//! headers and query string on `$connect`, and the message's body.

use std::time::SystemTime;

use serde_json::{Map, Value, json};

use super::epoch_ms;

/// What every event of a connection says about it.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    pub connection_id: String,
    pub connected_at: SystemTime,
    pub api_id: String,
    pub stage: String,
    pub domain_name: String,
    pub source_ip: String,
    pub user_agent: Option<String>,
    /// The handshake's headers and query string (for `$connect` and `$disconnect`).
    pub headers: Vec<(String, String)>,
    pub query: Vec<(String, String)>,
    /// What the `$connect` authorizer said of the client (`principalId` and its context), in
    /// every event of the connection.
    pub authorizer: Option<Value>,
    /// The keyed hash of the API key the client connected with, when `$connect` required
    /// one (never the key itself).
    pub api_key: Option<[u8; 32]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Connect,
    Message,
    Disconnect,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            EventType::Connect => "CONNECT",
            EventType::Message => "MESSAGE",
            EventType::Disconnect => "DISCONNECT",
        }
    }
}

/// A request id (a UUID) and AWS's short extended one.
pub fn request_ids() -> (String, String) {
    use base64::Engine;
    let bits: [u8; 16] = rand::random();
    let id = uuid::Builder::from_random_bytes(bits).into_uuid().to_string();
    let extended = base64::engine::general_purpose::STANDARD.encode(&bits[..11]);
    (id, extended)
}

/// The event of `kind` for route `route_key`; `body` for a message (text, or base64 for a
/// binary one).
pub fn event(
    info: &ConnectionInfo,
    kind: EventType,
    route_key: &str,
    body: Option<(&[u8], bool)>,
    request: &(String, String),
) -> Value {
    let context = request_context(info, kind, route_key, request);
    let mut event = Map::new();
    if kind != EventType::Message {
        use crate::dataplane::integration::lambda::single_and_multi;
        fn pairs(all: &[(String, String)]) -> (Value, Value) {
            single_and_multi(all.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        }
        let (headers, multi) = pairs(&info.headers);
        event.insert("headers".into(), headers);
        event.insert("multiValueHeaders".into(), multi);
        if kind == EventType::Connect && !info.query.is_empty() {
            let (single, multi) = pairs(&info.query);
            event.insert("queryStringParameters".into(), single);
            event.insert("multiValueQueryStringParameters".into(), multi);
        }
    }
    event.insert("requestContext".into(), Value::Object(context));
    match body {
        Some((bytes, binary)) => {
            use base64::Engine;
            let text = if binary {
                base64::engine::general_purpose::STANDARD.encode(bytes)
            } else {
                String::from_utf8_lossy(bytes).into_owned()
            };
            event.insert("body".into(), json!(text));
            event.insert("isBase64Encoded".into(), json!(binary));
        }
        None => {
            event.insert("isBase64Encoded".into(), json!(false));
        }
    }
    Value::Object(event)
}

/// The event's `requestContext`, which templates read as `$context` too.
pub fn request_context(
    info: &ConnectionInfo,
    kind: EventType,
    route_key: &str,
    request: &(String, String),
) -> Map<String, Value> {
    let now = SystemTime::now();
    let mut context = Map::new();
    context.insert("routeKey".into(), json!(route_key));
    if kind == EventType::Message {
        context.insert("messageId".into(), json!(request.1.clone()));
    }
    context.insert("eventType".into(), json!(kind.as_str()));
    context.insert("extendedRequestId".into(), json!(request.1));
    context.insert(
        "requestTime".into(),
        json!(
            chrono::DateTime::<chrono::Utc>::from(now)
                .format("%d/%b/%Y:%H:%M:%S %z")
                .to_string()
        ),
    );
    context.insert("messageDirection".into(), json!("IN"));
    context.insert("stage".into(), json!(info.stage));
    context.insert("connectedAt".into(), json!(epoch_ms(info.connected_at)));
    context.insert("requestTimeEpoch".into(), json!(epoch_ms(now)));
    let mut identity = Map::new();
    identity.insert("sourceIp".into(), json!(info.source_ip));
    if let Some(ua) = &info.user_agent {
        identity.insert("userAgent".into(), json!(ua));
    }
    context.insert("identity".into(), Value::Object(identity));
    context.insert("requestId".into(), json!(request.0));
    context.insert("domainName".into(), json!(info.domain_name));
    context.insert("connectionId".into(), json!(info.connection_id));
    context.insert("apiId".into(), json!(info.api_id));
    if let Some(a) = &info.authorizer {
        context.insert("authorizer".into(), a.clone());
    }
    if kind == EventType::Disconnect {
        context.insert("disconnectStatusCode".into(), json!(1000));
        context.insert("disconnectReason".into(), json!(""));
    }
    context
}
