//! AWS (non-proxy) service integrations: `arn:aws:apigateway:{region}:{service}:action/{Action}`
//! or `...:path/{path}`, called at the service's endpoint with the request template's output,
//! signed with SigV4; the answer goes through the integration responses by status code.

use http::Response;

use super::http_backend::integration_request;
use super::{Payload, Selection, aws, integration_response};
use crate::compiler::CompiledIntegration;
use crate::dataplane::Body;
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::GatewayError;
use crate::dataplane::request::MethodRequest;
use crate::dataplane::state::DataPlane;

pub async fn invoke(
    dp: &DataPlane,
    req: &mut MethodRequest<'_>,
    body: Payload,
    integration: &CompiledIntegration,
    ctx: &mut RequestContext<'_>,
) -> Result<Response<Body>, GatewayError> {
    let target = integration
        .aws_service
        .as_ref()
        .ok_or_else(GatewayError::internal)?;
    let endpoint = dp
        .aws
        .endpoint(&target.service, &target.region, target.subdomain.as_deref());
    let mut request = integration_request(req, body, integration, ctx, &endpoint).await?;
    // JSON unless a mapping asks for another type: services of the query protocol (SQS, SSM)
    // then answer JSON too, as AWS's recordings show them answering API Gateway.
    request
        .headers_mut()
        .entry(http::header::ACCEPT)
        .or_insert(http::HeaderValue::from_static("application/json"));
    let req = &*req;
    let (parts, answer) = aws::call(dp, integration.into(), request, &target.region, &target.service).await?;
    integration_response(
        integration,
        Selection::Status(parts.status.as_str()),
        Some(&parts.headers),
        answer,
        req,
        ctx,
    )
}
