//! Step 10, integrate: the method's integration (MOCK, HTTP, HTTP_PROXY, AWS_PROXY for Lambda,
//! AWS), with the request and response mappings it involves ([`crate::dataplane::integration`]).
//! A method without one cannot serve: AWS's 500.

use std::sync::Arc;

use crate::compiler::CompiledMethod;
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::GatewayError;
use crate::dataplane::integration::{self, Payload, Reply};
use crate::dataplane::request::MethodRequest;
use crate::dataplane::server::DataPlane;

pub async fn call(
    dp: &DataPlane,
    request: &mut MethodRequest<'_>,
    body: Payload,
    method: &Arc<CompiledMethod>,
    path: &str,
    ctx: &mut RequestContext<'_>,
) -> Result<Reply, GatewayError> {
    let integration = method.integration.as_ref().ok_or_else(GatewayError::internal)?;
    integration::invoke(dp, request, body, method, integration, ctx, path).await
}
