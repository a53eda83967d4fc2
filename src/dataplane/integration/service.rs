//! AWS (non-proxy) service integrations: `arn:aws:apigateway:{region}:{service}:action/{Action}`
//! or `...:path/{path}`, called at the service's endpoint with the request template's output,
//! signed with SigV4; the answer goes through the integration responses by status code.

use http::{HeaderMap, HeaderValue, Request, Response, header};

use super::http_backend::{apply_header_mappings, apply_header_overrides, backend_url};
use super::{Payload, Selection, aws, integration_response, request_payload};
use crate::compiler::CompiledIntegration;
use crate::dataplane::Body;
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::GatewayError;
use crate::dataplane::request::MethodRequest;
use crate::dataplane::server::DataPlane;

pub async fn invoke(
    dp: &DataPlane,
    req: &mut MethodRequest<'_>,
    body: Payload,
    integration: &CompiledIntegration,
    ctx: &mut RequestContext,
) -> Result<Response<Body>, GatewayError> {
    let target = integration
        .aws_service
        .as_ref()
        .ok_or_else(GatewayError::internal)?;
    let body = body.collect().await?;
    req.body = Some(body.clone());
    let req = &*req;
    let (payload, content_type) = request_payload(integration, req, body, ctx)?;
    let endpoint = dp
        .aws
        .endpoint(&target.service, &target.region, target.subdomain.as_deref());
    let uri = backend_url(integration, req, ctx, false, &endpoint)?;
    let method = integration
        .http_method
        .clone()
        .unwrap_or_else(|| req.method.clone());
    let mut headers = HeaderMap::new();
    if let Some(ct) = content_type.and_then(|c| HeaderValue::try_from(c).ok()) {
        headers.insert(header::CONTENT_TYPE, ct);
    }
    // Mapped headers (a Content-Type such as `'application/x-www-form-urlencoded'` for query
    // APIs) win over the template's media type.
    apply_header_mappings(&mut headers, integration, req, ctx);
    apply_header_overrides(&mut headers, ctx);
    let mut request = Request::new(payload);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    let (parts, answer) = aws::call(dp, integration, request, &target.region, &target.service).await?;
    integration_response(
        integration,
        Selection::Status(parts.status.as_str()),
        Some(&parts.headers),
        answer,
        req,
        ctx,
    )
}
