//! One WebSocket connection, from the upgrade request to its close: `$connect` runs first (its
//! integration's non-2xx answer refuses the handshake with that status), then the handshake is
//! answered and the connection registered; each message goes to the route the API's selection
//! expression picks (else `$default`, else AWS's `Forbidden` error frame), and a route with a
//! route response sends its integration's answer back. Messages from the `@connections` API
//! arrive through the connection's outbox. The connection closes after 10 idle minutes or 2
//! hours; `$disconnect` runs however it ends.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Instant, SystemTime};

use crate::dataplane::server::transport::Transport;
use bytes::BytesMut;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig, frame::coding::CloseCode};

use super::access_log::{self, Logged};
use super::event::{ConnectionInfo, EventType, request_ids};
use super::integrate::{self, Answer, Call, Failure};
use super::{Handle, MAX_FRAME, MAX_LIFETIME, MAX_MESSAGE, Outgoing, connection_id, touch};
use crate::compiler::CompiledApi;
use crate::dataplane::config::StageRuntime;
use crate::dataplane::context::{Peer, RequestContext, RequestFields};
use crate::dataplane::h1::RawFields;
use crate::dataplane::state::DataPlane;

/// An upgrade request to a WebSocket API's stage, taken off the HTTP/1 connection.
pub struct Upgrade {
    pub parts: http::request::Parts,
    pub fields: RawFields,
    pub peer: Peer,
    pub stage: Arc<StageRuntime>,
}

/// The WebSocket API stage an upgrade request is for, when it is for one.
pub fn target(
    dp: &DataPlane,
    parts: &http::request::Parts,
    fields: &RawFields,
    peer: &Peer,
) -> Option<Arc<StageRuntime>> {
    let config = dp.runtime.load_full();
    let host = match parts.uri.authority() {
        Some(authority) => Some(authority.as_str().as_bytes()),
        None => fields.get(b"host"),
    };
    let kept = RequestFields {
        host,
        user_agent: None,
        trace_id: None,
    };
    let mut ctx = RequestContext::new(&parts.method, &parts.uri, kept, peer, Instant::now());
    let (stage, path) = crate::dataplane::pipeline::resolve::stage(&config, &dp.shared, &mut ctx).ok()?;
    // An API that disables its execute-api endpoint is refused by the plain request path
    // (its custom domains still serve it).
    let served = matches!(&*stage.api, CompiledApi::WebSocket(api)
        if !api.disable_execute_api_endpoint || ctx.base_path_matched.is_some());
    (served && path == "/").then(|| stage.clone())
}

/// The `domainName` events carry, which functions build their @connections URL from: the
/// Host the client used when it is this API's local execute-api name, else AWS's for the API
/// (never a name a client chose: the function would send its signed calls there).
fn domain_name(host: Option<&str>, api_id: &str, region: &str) -> String {
    let host = host.map(|h| h.split(':').next().unwrap_or(h));
    match host {
        Some(h) if h == format!("{api_id}.execute-api.localhost") => h.to_owned(),
        _ => format!("{api_id}.execute-api.{region}.amazonaws.com"),
    }
}

/// Whether a connect or a message of route `route_key` is within the stage's limits (the
/// route's `routeSettings`, else `defaultRouteSettings`, then the account's): each takes a
/// token of the worker's share of them.
async fn within_limits(dp: &DataPlane, stage: &StageRuntime, route_key: &str) -> bool {
    use crate::dataplane::throttle::Limit;
    let limiters = &dp.shared.limiters;
    let own = format!("{route_key}/ANY");
    let settings = &stage.stage.method_settings;
    let route = settings
        .get(&own)
        .or_else(|| settings.get("*/*"))
        .and_then(|s| Limit::of_method_setting(s.throttling_rate_limit, s.throttling_burst_limit))
        .map(|limit| {
            let name = format!("method/{}/{}/{own}", stage.api_id, stage.stage.stage_name);
            limiters.bucket(&name, limit)
        });
    let buckets: Vec<_> = route
        .into_iter()
        .chain(stage.account_bucket(limiters).cloned())
        .collect();
    limiters.take_all(&buckets).await.is_ok()
}

/// Tells the fleet's registry of the connection's activity, at most every
/// `websocket_activity` ([`super::ACTIVITY_REPORT`] by default).
fn report_activity(dp: &DataPlane, id: &str, reported: &mut Instant) {
    if reported.elapsed() >= dp.timeouts.websocket_activity {
        let registry = &dp.shared.websockets;
        registry.active(id);
        *reported = Instant::now();
    }
}

/// Removes a connection from the registry however its session ends (a panic included).
struct Registered<'a> {
    registry: &'a super::Registry,
    id: &'a str,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.registry.remove(self.id);
    }
}

/// Sends a frame, within the worker's write timeout: a client that does not read is dropped.
async fn send<S>(ws: &mut WebSocketStream<S>, frame: Message, timeout: std::time::Duration) -> bool
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    matches!(tokio::time::timeout(timeout, ws.send(frame)).await, Ok(Ok(())))
}

/// How a handshake is refused: the status and body of its answer.
struct Refused {
    status: u16,
    body: std::borrow::Cow<'static, [u8]>,
}

impl Refused {
    fn new(status: u16, body: impl Into<std::borrow::Cow<'static, [u8]>>) -> Self {
        Self {
            status,
            body: body.into(),
        }
    }
}

const INTERNAL_ERROR: &[u8] = br#"{"message": "Internal server error"}"#;

/// `$connect`: the stage's limits, the route's authorizer, its API key and its integration
/// decide whether the client may connect; the subprotocol the integration chose.
async fn admit(
    dp: &DataPlane,
    stage: &StageRuntime,
    api: &crate::compiler::websocket::CompiledWebSocketApi,
    (parts, fields, peer): (&http::request::Parts, &RawFields, &Peer),
    info: &mut ConnectionInfo,
    request: &(String, String),
    integration_latency: &mut Option<std::time::Duration>,
) -> Result<Option<String>, Refused> {
    if !within_limits(dp, stage, "$connect").await {
        return Err(Refused::new(429, &br#"{"message": "Too Many Requests"}"#[..]));
    }
    let Some(route) = api.route("$connect") else {
        info.api_key = super::api_key::presented(dp, api, info, None);
        return Ok(None);
    };
    let said = super::authorize::connect(dp, stage, route, parts, fields, peer, info)
        .await
        .map_err(|super::authorize::Refusal(status, body)| Refused::new(status, body))?;
    info.authorizer = said.context;
    // The key the client presents meters `$connect` when it requires one, and the messages
    // of routes that do.
    info.api_key = super::api_key::presented(dp, api, info, said.usage_key.as_deref());
    if route.api_key_required {
        super::api_key::meter(dp, stage, info.api_key.as_ref())
            .await
            .map_err(|refused| {
                let body = json!({"message": refused.message()}).to_string();
                Refused::new(refused.status(), body.into_bytes())
            })?;
    }
    if let Some(v) = &route.validation {
        super::validate::handshake(v, info)
            .map_err(|message| Refused::new(400, json!({"message": message}).to_string().into_bytes()))?;
    }
    let call = Call {
        dp,
        stage,
        route,
        info,
        kind: EventType::Connect,
        body: None,
        request,
    };
    let began = Instant::now();
    let answer = integrate::invoke(call).await;
    *integration_latency = Some(began.elapsed());
    match answer {
        Ok(answer) if (200..300).contains(&answer.status) => Ok(answer.protocol),
        // Only an error status refuses as itself; anything else is the integration's fault.
        Ok(Answer { status, body, .. }) if (400..600).contains(&status) => {
            Err(Refused::new(status, body.to_vec()))
        }
        Ok(Answer { status, .. }) => {
            tracing::warn!(status, api.id = %info.api_id, "the $connect integration answered neither success nor error");
            Err(Refused::new(500, INTERNAL_ERROR))
        }
        Err(why) => {
            tracing::warn!(error = %why, api.id = %info.api_id, "the $connect integration failed");
            Err(Refused::new(500, INTERNAL_ERROR))
        }
    }
}

/// Serves the connection: `leftover` is what the client sent after its upgrade request.
pub async fn serve(dp: &DataPlane, mut stream: Transport, leftover: BytesMut, upgrade: Upgrade) {
    let Upgrade {
        parts,
        fields,
        peer,
        stage,
    } = upgrade;
    let CompiledApi::WebSocket(api) = &*stage.api else {
        return;
    };
    let text = |name: &[u8]| fields.get(name).and_then(|v| std::str::from_utf8(v).ok());
    let Some(key) = text(b"sec-websocket-key").map(str::to_owned) else {
        return;
    };
    let info = ConnectionInfo {
        connection_id: connection_id(),
        connected_at: SystemTime::now(),
        api_id: stage.api_id.clone(),
        stage: stage.stage.stage_name.clone(),
        domain_name: domain_name(text(b"host"), &stage.api_id, &stage.region),
        source_ip: peer.as_str().to_owned(),
        user_agent: text(b"user-agent").map(str::to_owned),
        headers: fields
            .iter()
            .filter_map(|(n, v)| {
                Some((
                    std::str::from_utf8(n).ok()?.to_owned(),
                    std::str::from_utf8(v).ok()?.to_owned(),
                ))
            })
            .collect(),
        query: parts
            .uri
            .query()
            .map(crate::domain::query::parse)
            .unwrap_or_default(),
        authorizer: None,
        api_key: None,
    };
    let mut info = info;

    use crate::dataplane::observe::WsMetric;
    dp.metrics.websocket(&info.api_id, &info.stage, WsMetric::Connect);
    let request = request_ids();
    let started = Instant::now();
    let mut integration_latency = None;
    let admitted = admit(
        dp,
        &stage,
        api,
        (&parts, &fields, &peer),
        &mut info,
        &request,
        &mut integration_latency,
    )
    .await;
    let count = |metric| dp.metrics.websocket(&info.api_id, &info.stage, metric);
    let logged = |status, error| Logged {
        info: &info,
        kind: EventType::Connect,
        route_key: "$connect",
        request: &request,
        started,
        status,
        integration_latency,
        error,
    };
    let protocol = match admitted {
        Ok(protocol) => {
            access_log::log(dp, &stage, &logged(200, None));
            protocol
        }
        Err(refused) => {
            count(if refused.status < 500 {
                WsMetric::ClientError
            } else {
                WsMetric::IntegrationError
            });
            let message = serde_json::from_slice::<serde_json::Value>(&refused.body).ok();
            // An integration's message may echo the client: no control character reaches a log.
            let message: Option<String> = message
                .as_ref()
                .and_then(|m| m["message"].as_str())
                .map(|m| m.chars().map(|c| if c.is_control() { ' ' } else { c }).collect());
            access_log::log(dp, &stage, &logged(refused.status, message.as_deref()));
            return refuse(&mut stream, refused.status, &refused.body).await;
        }
    };
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    // The subprotocol `$connect`'s integration chose, when it is one the client offered.
    let offered = text(b"sec-websocket-protocol").unwrap_or("");
    let protocol = protocol
        .filter(|p| offered.split(',').any(|o| o.trim() == p))
        .map(|p| format!("Sec-WebSocket-Protocol: {p}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n{protocol}\r\n"
    );
    // Flushed (over TLS the answer's tail may still be rustls's), within the write timeout.
    let sent = async {
        stream.write_all(head.as_bytes()).await?;
        stream.flush().await
    };
    if !matches!(tokio::time::timeout(dp.timeouts.write, sent).await, Ok(Ok(()))) {
        return;
    }
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(MAX_MESSAGE);
    config.max_frame_size = Some(MAX_FRAME);
    // Small buffers: a worker holds many idle connections.
    config.read_buffer_size = 8 << 10;
    config.write_buffer_size = 8 << 10;
    config.max_write_buffer_size = 256 << 10;
    let write_timeout = dp.timeouts.write;
    let mut ws =
        WebSocketStream::from_partially_read(stream, leftover.to_vec(), Role::Server, Some(config)).await;

    let (outbox, mut inbox) = tokio::sync::mpsc::unbounded_channel();
    let last_active = Arc::new(AtomicU64::new(super::epoch_ms(info.connected_at)));
    let handle = Arc::new(Handle {
        api_id: info.api_id.clone(),
        stage: info.stage.clone(),
        outbox,
        queued: std::sync::atomic::AtomicUsize::new(0),
        connected_at: info.connected_at,
        last_active: last_active.clone(),
        source_ip: info.source_ip.clone(),
        user_agent: info.user_agent.clone(),
    });
    let registry = &dp.shared.websockets;
    registry.insert(info.connection_id.clone(), handle.clone());
    let registered = Registered {
        registry,
        id: &info.connection_id,
    };
    tracing::debug!(connection.id = %info.connection_id, api.id = %info.api_id, "websocket connected");

    // When the registry was last told of the connection's activity (registering it told).
    let mut reported = Instant::now();
    let idle_timeout = dp.timeouts.websocket_idle;
    let idle = tokio::time::sleep(idle_timeout);
    let lifetime = tokio::time::sleep(MAX_LIFETIME);
    tokio::pin!(idle, lifetime);
    let mut draining = dp.shared.draining.clone();
    let drained = async move {
        match draining.as_mut() {
            Some(d) => {
                let _ = d.wait_for(|c| *c).await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::pin!(drained);
    // A mutual-TLS domain's new truststore may no longer vouch for the client.
    // (Asked only over TLS: the configuration is not loaded for each message of the others.)
    let vouched = || {
        peer.tls().is_none()
            || crate::dataplane::pipeline::resolve::vouched(&dp.runtime.load(), &dp.shared, &peer)
    };
    let close_reason: Option<(CloseCode, &str)> = loop {
        tokio::select! {
            incoming = ws.next() => match incoming {
                None => break None,
                Some(Err(e)) => {
                    use tokio_tungstenite::tungstenite::Error;
                    tracing::debug!(error = %e, connection.id = %info.connection_id, "websocket read failed");
                    break match e {
                        // A message or frame over the limits: 1009 (too big).
                        Error::Capacity(_) => Some((CloseCode::Size, "Message too big")),
                        Error::Utf8(_) => Some((CloseCode::Invalid, "Invalid UTF-8")),
                        Error::Protocol(_) => Some((CloseCode::Protocol, "Protocol error")),
                        _ => None,
                    };
                }
                Some(Ok(Message::Close(_))) => {
                    // The client's close is answered (tungstenite queued the reply).
                    let _ = tokio::time::timeout(write_timeout, ws.flush()).await;
                    break None;
                }
                Some(Ok(Message::Text(t))) => {
                    if !vouched() {
                        break Some((CloseCode::Policy, "Forbidden"));
                    }
                    touch(&last_active);
                    report_activity(dp, &info.connection_id, &mut reported);
                    idle.as_mut().reset(tokio::time::Instant::now() + idle_timeout);
                    let answer = on_message(dp, &stage, api, &info, t.as_bytes(), false).await;
                    if let Some(frame) = answer && !send(&mut ws, frame, write_timeout).await {
                        break None;
                    }
                }
                Some(Ok(Message::Binary(b))) => {
                    if !vouched() {
                        break Some((CloseCode::Policy, "Forbidden"));
                    }
                    touch(&last_active);
                    report_activity(dp, &info.connection_id, &mut reported);
                    idle.as_mut().reset(tokio::time::Instant::now() + idle_timeout);
                    let answer = on_message(dp, &stage, api, &info, &b, true).await;
                    if let Some(frame) = answer && !send(&mut ws, frame, write_timeout).await {
                        break None;
                    }
                }
                // Pings are answered (tungstenite queues the pong; a flush sends it).
                Some(Ok(_)) => {
                    idle.as_mut().reset(tokio::time::Instant::now() + idle_timeout);
                    if !matches!(tokio::time::timeout(write_timeout, ws.flush()).await, Ok(Ok(()))) {
                        break None;
                    }
                }
            },
            out = inbox.recv() => match out {
                Some(Outgoing::Message(bytes)) => {
                    handle.sent(bytes.len());
                    count(WsMetric::Message);
                    let frame = match String::from_utf8(bytes.to_vec()) {
                        Ok(text) => Message::text(text),
                        Err(_) => Message::binary(bytes),
                    };
                    if !send(&mut ws, frame, write_timeout).await {
                        break None;
                    }
                }
                Some(Outgoing::Close) | None => break Some((CloseCode::Normal, "")),
            },
            () = &mut idle => break Some((CloseCode::Away, "Going away")),
            () = &mut drained => break Some((CloseCode::Away, "Going away")),
            () = &mut lifetime => break Some((CloseCode::Away, "Going away")),
        }
    };
    drop(registered);
    if let Some((code, reason)) = close_reason {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), ws.close(Some(frame))).await;
    }
    // `$disconnect` runs its route's integration (when it has one) and is logged either way.
    let request = request_ids();
    let began = Instant::now();
    let (mut status, mut error, mut integration_latency) = (200, None, None);
    if let Some(route) = api.route("$disconnect") {
        let call = Call {
            dp,
            stage: &stage,
            route,
            info: &info,
            kind: EventType::Disconnect,
            body: None,
            request: &request,
        };
        let answer = integrate::invoke(call).await;
        integration_latency = Some(began.elapsed());
        if let Err(why) = answer {
            tracing::warn!(error = %why, api.id = %info.api_id, "the $disconnect integration failed");
            (status, error) = (500, Some("Internal server error"));
        }
    }
    let logged = Logged {
        info: &info,
        kind: EventType::Disconnect,
        route_key: "$disconnect",
        request: &request,
        started: began,
        status,
        integration_latency,
        error,
    };
    access_log::log(dp, &stage, &logged);
    tracing::debug!(connection.id = %info.connection_id, "websocket closed");
}

/// A message: its route's integration called, and what goes back to the client (the route
/// response, or AWS's error frame); its access log line.
async fn on_message(
    dp: &DataPlane,
    stage: &StageRuntime,
    api: &crate::compiler::websocket::CompiledWebSocketApi,
    info: &ConnectionInfo,
    body: &[u8],
    binary: bool,
) -> Option<Message> {
    use crate::dataplane::observe::WsMetric;
    dp.metrics.websocket(&info.api_id, &info.stage, WsMetric::Message);
    let request = request_ids();
    let started = Instant::now();
    let mut outcome = Outcome {
        route_key: "$default",
        status: 200,
        error: None,
        integration_latency: None,
    };
    let reply = route_message(dp, stage, api, info, (body, binary), &request, &mut outcome).await;
    match outcome.status {
        500.. => dp
            .metrics
            .websocket(&info.api_id, &info.stage, WsMetric::IntegrationError),
        400.. => dp
            .metrics
            .websocket(&info.api_id, &info.stage, WsMetric::ClientError),
        _ => {}
    }
    let logged = Logged {
        info,
        kind: EventType::Message,
        route_key: outcome.route_key,
        request: &request,
        started,
        status: outcome.status,
        integration_latency: outcome.integration_latency,
        error: outcome.error,
    };
    access_log::log(dp, stage, &logged);
    reply
}

/// What a message came to, for its access log line.
struct Outcome<'a> {
    route_key: &'a str,
    status: u16,
    error: Option<&'static str>,
    integration_latency: Option<std::time::Duration>,
}

impl Outcome<'_> {
    /// AWS's error frame for a message that failed with `status` and `message`.
    fn failed(
        &mut self,
        status: u16,
        message: &'static str,
        info: &ConnectionInfo,
        request: &(String, String),
    ) -> Option<Message> {
        (self.status, self.error) = (status, Some(message));
        Some(Message::text(
            json!({"message": message, "connectionId": info.connection_id, "requestId": request.0})
                .to_string(),
        ))
    }
}

async fn route_message<'a>(
    dp: &DataPlane,
    stage: &StageRuntime,
    api: &'a crate::compiler::websocket::CompiledWebSocketApi,
    info: &ConnectionInfo,
    (body, binary): (&[u8], bool),
    request: &(String, String),
    outcome: &mut Outcome<'a>,
) -> Option<Message> {
    let Some(route) = api.route_for(body) else {
        return outcome.failed(403, "Forbidden", info, request);
    };
    outcome.route_key = &route.route_key;
    if !within_limits(dp, stage, &route.route_key).await {
        return outcome.failed(429, "Too Many Requests", info, request);
    }
    if route.api_key_required {
        // The key's grant as the worker knows it now (a revoked key stops here).
        let runtime = dp.runtime.load_full();
        let metered = match runtime.stage(&info.api_id, &info.stage) {
            Some(now) => super::api_key::meter(dp, now, info.api_key.as_ref()).await,
            None => Err(super::api_key::Refused::Forbidden),
        };
        if let Err(refused) = metered {
            return outcome.failed(refused.status(), refused.message(), info, request);
        }
    }
    if let Some(v) = &route.validation {
        use super::validate::Invalid;
        let lookup =
            |name: &str| crate::dataplane::request::body_path(body, name.strip_prefix("request.body.")?);
        match super::validate::message(v, body, lookup) {
            Ok(()) => {}
            Err(Invalid::Body) => return outcome.failed(400, "Invalid request body", info, request),
            Err(Invalid::Model) => return outcome.failed(500, "Internal server error", info, request),
        }
    }
    let call = Call {
        dp,
        stage,
        route,
        info,
        kind: EventType::Message,
        body: Some((body, binary)),
        request,
    };
    let began = Instant::now();
    let answer = integrate::invoke(call).await;
    outcome.integration_latency = Some(began.elapsed());
    match answer {
        Ok(answer) if route.responds => Some(match String::from_utf8(answer.body.to_vec()) {
            Ok(text) if !answer.binary => Message::text(text),
            _ => Message::binary(answer.body),
        }),
        Ok(_) => None,
        Err(Failure::Unsupported) => outcome.failed(415, "Unsupported Media Type", info, request),
        Err(why) => {
            tracing::warn!(error = %why, route = %route.route_key, "a WebSocket integration failed");
            outcome.failed(500, "Internal server error", info, request)
        }
    }
}

/// Refuses the handshake with the `$connect` integration's status.
async fn refuse(stream: &mut Transport, status: u16, body: &[u8]) {
    let reason = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Refused");
    // One write: the head and the body reach the client together.
    let mut answer = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(body);
    let _ = stream.write_all(&answer).await;
    let _ = stream.shutdown().await;
}
