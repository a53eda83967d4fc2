//! Access logs of WebSocket events: one line per `$connect`, message and `$disconnect`, in the
//! stage's format, written where REST and HTTP API lines go. Variables are the event's
//! `requestContext` (`$context.connectionId`, `eventType`, `routeKey`, `messageId`,
//! `connectedAt`, `identity.sourceIp`, `authorizer.*`, ...) and what the event came to:
//! `status`, `error.message`, `integrationLatency` and `responseLatency` (milliseconds).

use std::borrow::Cow;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::event::{ConnectionInfo, EventType, request_context};
use crate::compiler::context::{ContextField, ContextVariable};
use crate::dataplane::config::StageRuntime;
use crate::dataplane::state::DataPlane;

/// One event, as it is logged.
pub struct Logged<'a> {
    pub info: &'a ConnectionInfo,
    pub kind: EventType,
    pub route_key: &'a str,
    pub request: &'a (String, String),
    /// When the event began.
    pub started: Instant,
    /// The status it came to: 200, or the refusal's (the handshake's status, the error
    /// frame's equivalent).
    pub status: u16,
    pub integration_latency: Option<Duration>,
    pub error: Option<&'a str>,
}

/// Writes the event's line, when the stage has an access log.
pub fn log(dp: &DataPlane, stage: &StageRuntime, event: &Logged<'_>) {
    if stage.access_log.is_none() {
        return;
    }
    let context = Value::Object(request_context(
        event.info,
        event.kind,
        event.route_key,
        event.request,
    ));
    let ms = |d: Duration| Cow::Owned(d.as_millis().to_string());
    dp.access_log(stage, |format| {
        format.render_with(|v| match v {
            ContextVariable::Field(f) => match f {
                ContextField::Status => Some(Cow::Owned(event.status.to_string())),
                ContextField::ResponseLatency => Some(ms(event.started.elapsed())),
                ContextField::IntegrationLatency => event.integration_latency.map(ms),
                ContextField::ErrorMessage => event.error.map(Cow::Borrowed),
                ContextField::ErrorMessageString => event
                    .error
                    .and_then(|e| serde_json::to_string(e).ok())
                    .map(Cow::Owned),
                other => dotted(&context, other.name()),
            },
            ContextVariable::Authorizer(key) => dotted(context.get("authorizer")?, key),
            ContextVariable::Claim(_) => None,
        })
    });
}

/// The text at a dotted path of the context (`identity.sourceIp`).
fn dotted<'v>(context: &'v Value, path: &str) -> Option<Cow<'v, str>> {
    let mut at = context;
    for part in path.split('.') {
        at = at.get(part)?;
    }
    match at {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}
