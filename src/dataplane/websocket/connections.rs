//! The `@connections` API of a WebSocket API's stage (`apigatewaymanagementapi`):
//! `POST /{stage}/@connections/{id}` sends a message to the connection, `GET` tells when it
//! connected, who it is and when it was last active, `DELETE` closes it. Calls are SigV4-signed
//! (`execute-api`) by a caller of the API's own account; a connection this worker does not hold
//! is gone (410). Any other request to a WebSocket stage is told to upgrade (426).

use bytes::Bytes;
use http::{HeaderValue, Method, Response, StatusCode};
use serde_json::json;

use super::{MAX_MESSAGE, Outgoing};
use crate::dataplane::body::RequestBody;
use crate::dataplane::config::RuntimeConfig;
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::GatewayError;
use crate::dataplane::h1::RawFields;
use crate::dataplane::integration::{Payload, Reply};
use crate::dataplane::request::MethodRequest;
use crate::dataplane::state::DataPlane;
use crate::domain::enums::GatewayResponseType;

/// An answer of the @connections API: its status, AWS's error type and a message.
fn answer(status: StatusCode, error: Option<&str>, body: Bytes) -> Reply {
    let mut res = Response::new(crate::dataplane::full_body(body));
    *res.status_mut() = status;
    res.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(kind) = error.and_then(|e| HeaderValue::from_str(e).ok()) {
        res.headers_mut().insert("x-amzn-errortype", kind);
    }
    Reply::from(res)
}

fn error(status: StatusCode, kind: &str, message: &str) -> Reply {
    answer(
        status,
        Some(kind),
        Bytes::from(json!({ "message": message }).to_string()),
    )
}

pub async fn handle<'r>(
    dp: &DataPlane,
    config: &'r RuntimeConfig,
    parts: &'r http::request::Parts,
    fields: &'r RawFields,
    body: RequestBody,
    path: &'r str,
    ctx: &mut RequestContext<'r>,
) -> Result<Reply, GatewayError> {
    let stage = ctx.stage_runtime.ok_or_else(GatewayError::internal)?;
    let Some(raw_id) = path
        .strip_prefix("/@connections/")
        .filter(|id| !id.is_empty() && !id.contains('/'))
    else {
        return Err(GatewayError::new(
            GatewayResponseType::Default4xx,
            426,
            "Upgrade Required",
        ));
    };
    let id = percent_encoding::percent_decode_str(raw_id).decode_utf8_lossy();
    // A message is 128 KB at most: a larger one is refused before it is read.
    if http_body::Body::size_hint(&body).lower() > MAX_MESSAGE as u64 {
        return Ok(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "PayloadTooLargeException",
            "Message too long: at most 128 KB",
        ));
    }
    let body = Payload::Streaming(body).collect().await?;
    let request = MethodRequest::of_head(parts, fields, &stage.stage.variables);
    // A caller of the API's own account, proven by its signature.
    let caller = match crate::dataplane::authorizer::iam::caller(
        config,
        &request,
        ctx.path(),
        &body,
        &stage.region,
        ctx.host(),
    ) {
        Ok(caller) => caller,
        Err(e) => return Ok(error(StatusCode::FORBIDDEN, "ForbiddenException", &e.message)),
    };
    // A caller of the API's account whose policies allow it to manage this connection.
    let arn = format!(
        "arn:aws:execute-api:{}:{}:{}/{}/{}/@connections/{id}",
        stage.region, stage.account_id, stage.api_id, stage.stage.stage_name, parts.method
    );
    if caller.config.account_id != stage.account_id
        || !crate::dataplane::pipeline::authorize::identity_allows(
            dp,
            &caller,
            "execute-api:ManageConnections",
            &arn,
            &request,
            ctx,
        )
    {
        return Ok(error(
            StatusCode::FORBIDDEN,
            "ForbiddenException",
            &format!(
                "User: {} is not authorized to perform: execute-api:ManageConnections on resource: {arn}",
                caller.config.principal_arn
            ),
        ));
    }
    let Some(connection) = dp
        .shared
        .websockets
        .get(&id, &stage.api_id, &stage.stage.stage_name)
    else {
        return Ok(elsewhere(dp, &id, stage, &parts.method, body).await);
    };
    Ok(match parts.method {
        Method::POST => {
            if body.len() > MAX_MESSAGE {
                return Ok(error(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "PayloadTooLargeException",
                    "Message too long: at most 128 KB",
                ));
            }
            match connection.offer(Outgoing::Message(body)) {
                Ok(()) => answer(StatusCode::OK, None, Bytes::new()),
                Err(super::Refused::Full) => error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "LimitExceededException",
                    "The connection is not reading its messages fast enough",
                ),
                Err(super::Refused::Closed) => {
                    answer(StatusCode::GONE, Some("GoneException"), Bytes::from_static(b"{}"))
                }
            }
        }
        Method::GET => {
            let last_active = connection.last_active.load(std::sync::atomic::Ordering::Relaxed);
            let body = connection.record(&id).get_connection(last_active);
            answer(StatusCode::OK, None, Bytes::from(body.to_string()))
        }
        Method::DELETE => {
            // Behind whatever messages the connection still has to send.
            match connection.offer(Outgoing::Close) {
                Ok(()) => answer(StatusCode::NO_CONTENT, None, Bytes::new()),
                Err(_) => answer(StatusCode::GONE, Some("GoneException"), Bytes::from_static(b"{}")),
            }
        }
        _ => error(
            StatusCode::METHOD_NOT_ALLOWED,
            "BadRequestException",
            "The @connections API takes POST, GET and DELETE",
        ),
    })
}

/// An @connections call for a connection this worker does not hold: the control plane reaches
/// the worker that does, if any (else the connection is gone).
async fn elsewhere(
    dp: &DataPlane,
    id: &str,
    stage: &crate::dataplane::config::StageRuntime,
    method: &Method,
    body: Bytes,
) -> Reply {
    use base64::Engine;

    use crate::distribution::protocol::{ConnectionCall, ConnectionOp};
    let gone = || answer(StatusCode::GONE, Some("GoneException"), Bytes::from_static(b"{}"));
    let op = match *method {
        Method::POST if body.len() > MAX_MESSAGE => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PayloadTooLargeException",
                "Message too long: at most 128 KB",
            );
        }
        Method::POST => ConnectionOp::Post,
        Method::GET => ConnectionOp::Get,
        Method::DELETE => ConnectionOp::Delete,
        _ => {
            return error(
                StatusCode::METHOD_NOT_ALLOWED,
                "BadRequestException",
                "The @connections API takes POST, GET and DELETE",
            );
        }
    };
    let Some(relay) = dp.shared.websockets.relay() else {
        return gone();
    };
    let call = ConnectionCall {
        api_id: stage.api_id.clone(),
        stage: stage.stage.stage_name.clone(),
        op,
        data: base64::engine::general_purpose::STANDARD.encode(&body),
    };
    match relay.call(id, &call).await {
        Ok((status, answered)) if status.is_success() => match op {
            ConnectionOp::Get => answer(StatusCode::OK, None, answered),
            ConnectionOp::Delete => answer(StatusCode::NO_CONTENT, None, Bytes::new()),
            ConnectionOp::Post => answer(StatusCode::OK, None, Bytes::new()),
        },
        Ok((StatusCode::GONE | StatusCode::NOT_FOUND, _)) => gone(),
        Ok((StatusCode::TOO_MANY_REQUESTS, _)) => error(
            StatusCode::TOO_MANY_REQUESTS,
            "LimitExceededException",
            "The connection is not taking its messages fast enough",
        ),
        other => {
            tracing::warn!(answer = ?other.map(|(s, _)| s), "the control plane cannot reach the connection");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerErrorException",
                "The connection's worker cannot be reached",
            )
        }
    }
}
