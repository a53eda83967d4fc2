//! Integrations: where a method request goes, and how the answer comes back.

pub mod aws;
pub mod aws_action;
pub mod content;
pub mod http_api_event;
pub mod http_backend;
pub mod http_mapping;
pub mod lambda;
pub mod mock;
pub mod private;
pub mod service;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::BodyExt;

use super::context::RequestContext;
use super::error::{GatewayError, Side};
use super::request::MethodRequest;
use super::state::DataPlane;
use super::{Body, MAX_PAYLOAD, full_body};
use crate::compiler::{CompiledIntegration, CompiledMethod, MappingTemplate, ParamSource};
use crate::domain::enums::{IntegrationType, PassthroughBehavior};

pub async fn invoke(
    dp: &DataPlane,
    req: &mut MethodRequest<'_>,
    body: Payload,
    method: &CompiledMethod,
    integration: &CompiledIntegration,
    ctx: &mut RequestContext<'_>,
    path: &str,
) -> Result<Reply, GatewayError> {
    ctx.integration_started = std::time::Instant::now();
    // The request's future is as large as its largest integration's, and it is moved a few
    // times per request: the integrations with big futures (templates, SigV4, retries) are
    // boxed so that an HTTP_PROXY or MOCK request does not pay for copying their space.
    let res = match integration.kind {
        IntegrationType::Mock => mock::invoke(req, body, integration, ctx).await,
        IntegrationType::HttpProxy if integration.private_target.is_some() => {
            let reply = private::invoke(dp, req, body, integration, ctx, path).await;
            ctx.integration_latency_ms = Some(ctx.integration_started.elapsed().as_millis());
            return reply;
        }
        IntegrationType::HttpProxy => {
            let reply = http_backend::invoke_proxy(dp, req, body, integration, ctx, path).await;
            ctx.integration_latency_ms = Some(ctx.integration_started.elapsed().as_millis());
            return reply;
        }
        IntegrationType::Http => Box::pin(http_backend::invoke(dp, req, body, integration, ctx)).await,
        IntegrationType::AwsProxy if integration.aws_action.is_some() => {
            Box::pin(aws_action::invoke(dp, req, body, integration, ctx, path)).await
        }
        IntegrationType::AwsProxy => {
            Box::pin(lambda::invoke_proxy(
                dp,
                req,
                body,
                method,
                integration,
                ctx,
                path,
            ))
            .await
        }
        IntegrationType::Aws if integration.lambda.is_some() => {
            Box::pin(lambda::invoke(dp, req, body, integration, ctx)).await
        }
        IntegrationType::Aws => Box::pin(service::invoke(dp, req, body, integration, ctx)).await,
    };
    ctx.integration_latency_ms = Some(ctx.integration_started.elapsed().as_millis());
    // AWS answers with the request's trace id what an HTTP, AWS or Lambda integration answered
    // (as its recordings show), not a MOCK's answer, nor an HTTP_PROXY's (whose backend's
    // headers pass through), nor a gateway response.
    let traced = integration.kind != IntegrationType::Mock;
    res.map(|response| Reply {
        response,
        passed: None,
        traced,
    })
}

/// An integration's answer: the response, and for HTTP_PROXY the backend's header fields as
/// they arrived, for the server to write after the response's own.
pub struct Reply {
    pub response: Response<Body>,
    pub passed: Option<crate::dataplane::h1::RawFields>,
    /// Whether the answer carries the request's `X-Amzn-Trace-Id`.
    pub traced: bool,
}

impl From<Response<Body>> for Reply {
    fn from(response: Response<Body>) -> Self {
        Self {
            response,
            passed: None,
            traced: false,
        }
    }
}

/// The method request's body: still streaming, or already read (by request validation).
pub enum Payload {
    Streaming(super::body::RequestBody),
    Buffered(Bytes),
}

impl Payload {
    /// The whole body, refusing more than AWS's 10 MB.
    pub async fn collect(self) -> Result<Bytes, GatewayError> {
        match self {
            Payload::Buffered(b) => Ok(b),
            Payload::Streaming(body) => collect_limited(body).await,
        }
    }

    /// The body to stream on to a backend, still within AWS's 10 MB.
    pub fn into_body(self) -> Body {
        match self {
            Payload::Buffered(b) => full_body(b),
            Payload::Streaming(body) => http_body_util::Limited::new(body, MAX_PAYLOAD)
                .map_err(super::BoxError::from)
                .boxed(),
        }
    }
}

/// Reads a whole request body, refusing more than AWS's 10 MB. Each piece is copied into one
/// buffer as it comes: kept as they are, a chunked body's pieces would each hold the read
/// buffer they were cut from (a body of a million one-byte chunks would hold gigabytes).
pub async fn collect_limited(body: super::body::RequestBody) -> Result<Bytes, GatewayError> {
    let mut body = std::pin::pin!(body);
    let mut whole = match http_body::Body::size_hint(&*body).exact() {
        Some(n) => bytes::BytesMut::with_capacity((n as usize).min(MAX_PAYLOAD)),
        None => bytes::BytesMut::new(),
    };
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| GatewayError::unreadable_body().caused_by(Side::Client, e))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        if whole.len() + data.len() > MAX_PAYLOAD {
            return Err(GatewayError::too_large().caused_by(Side::Client, "a body over 10 MB"));
        }
        // A body read whole with its head is one piece: taken as it is.
        if whole.is_empty() && http_body::Body::is_end_stream(&*body) {
            return Ok(data);
        }
        whole.extend_from_slice(&data);
    }
    Ok(whole.freeze())
}

/// The media type of a Content-Type value, without parameters, lowercased.
pub fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// What the integration request body is, per the templates and the passthrough behavior.
pub enum RequestBody<'a> {
    /// The template for the request's media type, and that media type.
    Template(&'a MappingTemplate, &'a str),
    Passthrough,
}

/// Chooses the request template for the request's Content-Type (absent means
/// `application/json`), or passthrough, or AWS's 415.
pub fn choose_request_template<'i>(
    integration: &'i CompiledIntegration,
    req: &MethodRequest<'_>,
) -> Result<RequestBody<'i>, GatewayError> {
    let ct = req
        .header("content-type")
        .map(media_type)
        .unwrap_or_else(|| "application/json".to_owned());
    if let Some((media, t)) = integration.request_templates.get_key_value(&ct) {
        return Ok(RequestBody::Template(t, media));
    }
    match (
        integration.passthrough_behavior,
        integration.request_templates.is_empty(),
    ) {
        (PassthroughBehavior::WhenNoMatch, _) | (PassthroughBehavior::WhenNoTemplates, true) => {
            Ok(RequestBody::Passthrough)
        }
        _ => Err(GatewayError::unsupported_media_type()),
    }
}

/// The integration request's body and Content-Type: the request template's output, or the
/// method request's own body passed through.
pub fn request_payload(
    integration: &CompiledIntegration,
    req: &MethodRequest<'_>,
    body: Bytes,
    ctx: &mut RequestContext<'_>,
) -> Result<(Bytes, Option<String>), GatewayError> {
    let binary_types = ctx.binary_media_types();
    let binary = req
        .header("content-type")
        .is_some_and(|ct| content::is_binary(&media_type(ct), binary_types));
    let input = content::request_in(body, binary, integration.content_handling);
    let (payload, content_type) = match choose_request_template(integration, req)? {
        RequestBody::Template(t, media) => {
            let out = super::template::render(t, &input.into_bytes(), req, ctx)?;
            (content::Content::Text(Bytes::from(out)), Some(media.to_owned()))
        }
        RequestBody::Passthrough => (input, req.header("content-type").map(str::to_owned)),
    };
    let payload = content::request_out(payload, binary, integration.content_handling)?;
    Ok((payload.into_bytes(), content_type))
}

/// What picks the integration response.
#[derive(Debug, Clone, Copy)]
pub enum Selection<'a> {
    /// The backend's status code (HTTP, MOCK, AWS services).
    Status(&'a str),
    /// A Lambda function's `errorMessage`; empty for a result, which takes the default response.
    Lambda(&'a str),
}

/// The integration response phase of non-proxy integrations: select the response by
/// `selection`, convert the payload (binary media), then map status, headers and body, and
/// apply what templates put in `$context.responseOverride`.
pub fn integration_response(
    integration: &CompiledIntegration,
    selection: Selection<'_>,
    backend_headers: Option<&HeaderMap>,
    backend_body: Bytes,
    req: &MethodRequest<'_>,
    ctx: &mut RequestContext<'_>,
) -> Result<Response<Body>, GatewayError> {
    let ir = match selection {
        Selection::Status(input) => integration.select_response(input),
        Selection::Lambda("") => integration.default_response(),
        Selection::Lambda(message) => integration.select_response(message),
    }
    .ok_or_else(GatewayError::internal)?;
    let accept = req.header("accept").map(media_type);
    let template = accept
        .as_deref()
        .and_then(|a| ir.response_templates.get_key_value(a))
        .or_else(|| ir.response_templates.get_key_value("application/json"))
        .or_else(|| ir.response_templates.iter().next());
    let backend_type = backend_headers
        .and_then(|h| h.get(http::header::CONTENT_TYPE))
        .and_then(|v| v.to_str().ok());
    let converted = if backend_body.is_empty() {
        content::Content::Text(Bytes::new())
    } else {
        let binary_types = ctx.binary_media_types();
        content::response(
            backend_body.clone(),
            backend_type.is_some_and(|ct| content::is_binary(&media_type(ct), binary_types)),
            content::accepts_binary(req.header("accept"), binary_types),
            ir.content_handling,
        )?
    };
    let (content_type, body) = match (template, converted) {
        (Some((ct, t)), content::Content::Text(text)) => {
            let out = super::template::render(t, &text, req, ctx)?;
            (Some(ct.clone()), Bytes::from(out))
        }
        (Some(_), content::Content::Binary(_)) => {
            tracing::debug!("a response template cannot read a binary payload");
            return Err(GatewayError::internal());
        }
        (None, converted) => (backend_type.map(str::to_owned), converted.into_bytes()),
    };
    let mut res = Response::new(full_body(body));
    *res.status_mut() = StatusCode::from_u16(ir.status_code).map_err(|_| GatewayError::internal())?;
    let headers = res.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_str(content_type.as_deref().unwrap_or("application/json"))
            .unwrap_or(HeaderValue::from_static("application/json")),
    );
    for (target, source) in &ir.response_parameters {
        let Some(name) = target.strip_prefix("method.response.header.") else {
            continue;
        };
        let value = match source {
            ParamSource::IntegrationResponseHeader(h) => backend_headers
                .and_then(|bh| bh.get(h.as_str()))
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            ParamSource::IntegrationResponseBody => Some(String::from_utf8_lossy(&backend_body).into_owned()),
            ParamSource::IntegrationResponseBodyPath(path) => super::request::body_path(&backend_body, path),
            other => req.source(other, ctx).map(|v| v.into_owned()),
        };
        if let Some(value) = value
            && let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(value))
        {
            headers.insert(n, v);
        }
    }
    if let Some(o) = &ctx.overrides {
        o.apply_to_response(&mut res);
    }
    super::remap_mapped_headers(res.headers_mut());
    Ok(res)
}

/// A backend's fields passed through as they arrived, made headers of the answer (those `keep`
/// says to keep), renamed where AWS renames them: its `Date`, `Server`, `Connection` and
/// `Content-Length`, and the gateway's own id header (an HTTP API's `apigw-requestid`), as
/// `x-amzn-Remapped-*`. For the HTTP API answers the gateway changes (CORS, response mappings).
pub fn absorb_passed(
    headers: &mut HeaderMap,
    passed: &crate::dataplane::h1::RawFields,
    keep: impl Fn(&[u8]) -> bool,
) {
    let mut backend = HeaderMap::new();
    passed.each_end_to_end(|name, value| {
        if !keep(name) {
            return;
        }
        let ours = name.eq_ignore_ascii_case(super::pipeline::AnswerIds::HTTP_API_NAME.as_bytes());
        let name = if ours {
            HeaderName::from_bytes(&[b"x-amzn-Remapped-".as_slice(), name].concat())
        } else {
            HeaderName::from_bytes(name)
        };
        if let (Ok(n), Ok(v)) = (name, HeaderValue::from_bytes(value)) {
            backend.append(n, v);
        }
    });
    super::remap_proxy_headers(&mut backend);
    for (name, value) in backend.iter() {
        headers.append(name.clone(), value.clone());
    }
}
