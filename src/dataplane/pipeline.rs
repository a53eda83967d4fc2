//! The request pipeline, one step after the other:
//!
//! 1. resolve: Host and path → API and stage (unknown: 403 Missing Authentication Token);
//! 2. canary pick: the stage's canary deployment for its share of requests;
//! 3. route: resource and method (unknown: 403 Missing Authentication Token);
//! 4. validate: required parameters, then the body against its model ([`super::validate`]);
//! 5. integration: MOCK, HTTP, HTTP_PROXY, AWS_PROXY (Lambda), AWS, with the request and
//!    response mapping templates they involve;
//! 6. respond: AWS's headers on every answer; failures go through [`super::error::rescue`].
//!
//! Authorizers, API keys and usage plans, throttling and caching take their places between 3
//! and 4 as they arrive.

use std::time::Instant;

use http::Response;
use rand::Rng;

use super::context::{InlineId, Peer, RequestContext, RequestFields};
use super::error::{GatewayError, rescue};
use super::h1::RawFields;
use super::integration::{Payload, Reply};
use super::request::{MethodRequest, decode_param, has_dot_segment, parse_query};
use super::server::{DataPlane, RequestBody};
use super::trace::TraceId;
use super::{Body, integration, resolve};
use crate::dataplane::config::RuntimeConfig;

/// A request's answer. The headers AWS adds to every answer are kept apart, for the server to
/// write after the response's own (which they replace): inserting them into the response's
/// header map cost more than writing them (hashing, growing the map, dropping it).
pub struct Answer {
    pub response: Response<Body>,
    /// When the answer was ready (its `Date`).
    pub ready: Instant,
    /// A backend's header fields passed through as they arrived (HTTP_PROXY).
    pub passed: Option<RawFields>,
    pub ids: Option<AnswerIds>,
}

/// `x-amzn-RequestId`, `x-amz-apigw-id` and, for the answers of integrations AWS traces,
/// `X-Amzn-Trace-Id`.
pub struct AnswerIds {
    request_id: InlineId<36>,
    extended_request_id: InlineId<16>,
    trace_id: Option<TraceId>,
}

impl AnswerIds {
    /// The headers, spelled as AWS spells them.
    pub fn headers(&self) -> smallvec::SmallVec<[(&'static str, &[u8]); 3]> {
        let mut headers = smallvec::SmallVec::new();
        headers.push(("x-amzn-RequestId", self.request_id.as_bytes()));
        headers.push(("x-amz-apigw-id", self.extended_request_id.as_bytes()));
        if let Some(trace) = &self.trace_id {
            headers.push(("X-Amzn-Trace-Id", trace.as_bytes()));
        }
        headers
    }
}

/// Answers the request `parts` (whose header fields are `fields`, as they arrived) and `body`,
/// which `arrived` when it did. The parts are lent, not moved: an async fn holds what it is
/// given and what it moves it to, and every byte of its state is copied when its future is
/// moved into place.
pub async fn handle(
    dp: &DataPlane,
    parts: &http::request::Parts,
    fields: &RawFields,
    body: RequestBody,
    peer: &Peer,
    arrived: Instant,
) -> Answer {
    // One configuration for the whole request, whatever is swapped meanwhile.
    let config = dp.runtime.load_full();
    // A target in absolute form names the host, whatever the Host header says (RFC 9112
    // §3.2.2; the parser let only a valid `host[:port]` authority through).
    let host = match parts.uri.authority() {
        Some(authority) => Some(authority.as_str().as_bytes()),
        None => fields.get(b"host"),
    };
    let kept = RequestFields {
        host,
        user_agent: fields.get(b"user-agent"),
        trace_id: fields.get(b"x-amzn-trace-id"),
    };
    let mut ctx = RequestContext::new(&parts.method, &parts.uri, kept, peer, arrived);

    // Boxed: the request's future is moved into place a few times, and `run`'s state is most
    // of its size; one allocation costs less than copying kilobytes each time.
    let reply = match Box::pin(run(dp, &config, parts, fields, body, &mut ctx)).await {
        // An interim status (a Lambda function's, a mapping's) as the final answer would leave
        // the client waiting for another.
        Ok(reply) if reply.response.status().is_informational() => {
            Reply::from(rescue(GatewayError::internal(), &mut ctx))
        }
        Ok(reply) => reply,
        Err(e) => Reply::from(rescue(e, &mut ctx)),
    };
    let res = reply.response;
    ctx.status = res.status().as_u16();
    ctx.response_length = http_body::Body::size_hint(res.body()).exact().unwrap_or(0);
    let ready = Instant::now();
    ctx.finish(ready);
    dp.observe(&ctx);
    Answer {
        response: res,
        ready,
        passed: reply.passed,
        ids: Some(AnswerIds {
            request_id: ctx.request_id,
            extended_request_id: ctx.extended_request_id,
            trace_id: reply.traced.then_some(ctx.trace_id),
        }),
    }
}

async fn run<'r>(
    dp: &DataPlane,
    config: &'r RuntimeConfig,
    parts: &http::request::Parts,
    fields: &RawFields,
    body: RequestBody,
    ctx: &mut RequestContext<'r>,
) -> Result<Reply, GatewayError> {
    let (stage, path_len) = {
        let target =
            resolve::resolve(ctx.host(), parts.uri.path()).ok_or_else(GatewayError::missing_token)?;
        let stage = config
            .stage(target.api_id, target.stage)
            .ok_or_else(GatewayError::missing_token)?;
        (stage, target.path.len())
    };
    // The resource path is a suffix of the request path (or `/` when the request names none).
    let uri_path = parts.uri.path();
    let path = if path_len <= uri_path.len() && uri_path[uri_path.len() - path_len..].starts_with('/') {
        &uri_path[uri_path.len() - path_len..]
    } else {
        "/"
    };
    ctx.stage_runtime = Some(stage);

    let canary = stage
        .canary
        .as_ref()
        .filter(|c| c.percent > 0.0 && rand::rng().random_range(0.0..100.0) < c.percent);
    let (api, variables) = match canary {
        Some(c) => {
            ctx.is_canary = true;
            (&c.api, &c.variables)
        }
        None => (&stage.api, &stage.stage.variables),
    };
    ctx.api = Some(api);
    // A body declared larger than AWS accepts is refused before any of it is read.
    if http_body::Body::size_hint(&body).lower() > super::MAX_PAYLOAD as u64 {
        return Err(GatewayError::too_large());
    }
    if api.gateway_responses_read_request {
        ctx.gateway_request = Some(Box::new(super::context::GatewayRequest {
            headers: fields.to_header_map_lossy(0),
            query: parts.uri.query().map(parse_query).unwrap_or_default(),
            path_params: Vec::new(),
            variables: variables.clone(),
        }));
    }

    // Dot segments would let a path climb out of a backend URI's prefix once a server
    // normalises it; no API path needs them. Looked for in the decoded path: a `%2F` inside a
    // parameter is a `/` once the value is decoded and passed on.
    if path.bytes().any(|b| b == b'.' || b == b'%')
        && has_dot_segment(&percent_encoding::percent_decode_str(path).decode_utf8_lossy())
    {
        return Err(GatewayError::invalid_path());
    }
    if api.disable_execute_api_endpoint {
        return Err(GatewayError::new(
            crate::domain::enums::GatewayResponseType::AccessDenied,
            403,
            "Forbidden",
        ));
    }
    let matched = api.routes.lookup(path).ok_or_else(GatewayError::missing_token)?;
    let method = matched
        .value
        .method(parts.method.as_str())
        .ok_or_else(GatewayError::missing_token)?;
    if let Some(g) = ctx.gateway_request.as_mut() {
        g.path_params = matched
            .params
            .iter()
            .map(|(k, raw)| ((*k).to_owned(), decode_param(raw).into_owned()))
            .collect();
    }
    ctx.method = Some(method);
    ctx.method_label = method.http_method.as_str();
    let integration = method.integration.as_ref().ok_or_else(GatewayError::internal)?;

    let mut request = MethodRequest {
        method: parts.method.clone(),
        raw_query: parts.uri.query().map(str::to_owned),
        query: parts.uri.query().map(parse_query).unwrap_or_default(),
        path_params: matched
            .params
            .iter()
            .map(|(k, raw)| (*k, decode_param(raw), *raw))
            .collect(),
        fields,
        header_map: std::sync::OnceLock::new(),
        variables,
        body: None,
    };
    // Only a method with a validator waits for its body before its integration.
    let body = match method.validation.as_ref() {
        Some(v) => super::validate::check(v, &request, body).await?,
        None => Payload::Streaming(body),
    };
    integration::invoke(dp, &mut request, body, method, integration, ctx, path).await
}
