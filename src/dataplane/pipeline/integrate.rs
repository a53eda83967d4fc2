//! Step 10, integrate: the method's integration (MOCK, HTTP, HTTP_PROXY, AWS_PROXY for Lambda,
//! AWS), with the request and response mappings it involves ([`crate::dataplane::integration`]).
//! A method without one cannot serve: AWS's 500. A body of unknown length (chunked) to an
//! HTTP_PROXY backend is read whole first, as AWS reads every body: one over 10 MB is a 413 and
//! a malformed one a 400 before anything reaches the backend, and the time it takes the client
//! to send it is not the backend's.

use std::sync::Arc;

use crate::compiler::CompiledMethod;
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::GatewayError;
use crate::dataplane::integration::{self, Payload, Reply};
use crate::dataplane::request::MethodRequest;
use crate::dataplane::state::DataPlane;
use crate::domain::enums::IntegrationType;

pub async fn call(
    dp: &DataPlane,
    request: &mut MethodRequest<'_>,
    body: Payload,
    method: &Arc<CompiledMethod>,
    path: &str,
    ctx: &mut RequestContext<'_>,
) -> Result<Reply, GatewayError> {
    let integration = method.integration.as_ref().ok_or_else(GatewayError::internal)?;
    let body = match body {
        Payload::Streaming(b)
            if integration.kind == IntegrationType::HttpProxy
                && http_body::Body::size_hint(&b).exact().is_none() =>
        {
            // Boxed: it is rare, and its state would make every request's future larger.
            Payload::Buffered(Box::pin(integration::collect_limited(b)).await?)
        }
        other => other,
    };
    integration::invoke(dp, request, body, method, integration, ctx, path).await
}
