//! HTTP APIs' private integrations (`connectionType: VPC_LINK`): the request passed through, as
//! HTTP_PROXY passes it, to the integration's private target. AWS names the target by a load
//! balancer listener's or a Cloud Map service's ARN; a worker maps such an ARN to the URL it
//! reaches it at with `--aws-endpoint ARN=URL` (or the integration names a URL itself).
//! As AWS does, the target gets the request's whole path, the stage's segment included (a
//! parameter mapping's `overwrite:path` changes it).

use std::future::Future;

use super::{Payload, Reply, http_backend};
use crate::compiler::CompiledIntegration;
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::GatewayError;
use crate::dataplane::request::MethodRequest;
use crate::dataplane::state::DataPlane;

pub fn invoke<'a>(
    dp: &'a DataPlane,
    req: &MethodRequest<'_>,
    body: Payload,
    integration: &CompiledIntegration,
    ctx: &RequestContext<'_>,
    path: &str,
) -> impl Future<Output = Result<Reply, GatewayError>> + Send + 'a {
    let uri = target_url(dp, integration, req, ctx, path);
    http_backend::proxy_to(dp, req, body, integration, ctx, path, uri)
}

/// The target's URL with the request's path (`/{stage}` first, unless the `$default` stage) and
/// query string.
fn target_url(
    dp: &DataPlane,
    integration: &CompiledIntegration,
    req: &MethodRequest<'_>,
    ctx: &RequestContext<'_>,
    path: &str,
) -> Result<http::Uri, GatewayError> {
    let target = integration
        .private_target
        .as_deref()
        .ok_or_else(GatewayError::internal)?;
    let base = if target.starts_with("http://") || target.starts_with("https://") {
        target
    } else {
        match dp.aws.endpoints.get(target) {
            Some(url) => url.as_str(),
            None => {
                tracing::warn!(
                    vpc.target = target,
                    "no URL for the private integration's target: give the worker --aws-endpoint ARN=URL"
                );
                return Err(GatewayError::internal());
            }
        }
    };
    let mut url = String::with_capacity(base.len() + path.len() + 64);
    url.push_str(base.trim_end_matches('/'));
    if let Some(stage) = ctx
        .stage_runtime
        .map(|s| s.stage.stage_name.as_str())
        .filter(|s| *s != "$default")
    {
        url.push('/');
        url.push_str(stage);
    }
    url.push_str(if path.is_empty() { "/" } else { path });
    // With no mapping of the query string, the request's own goes on.
    let mapped_query = integration
        .http_mapping
        .as_deref()
        .is_some_and(|m| !m.request.query.is_empty() || m.request.path.is_some());
    if !mapped_query && let Some(q) = req.raw_query.as_deref().filter(|q| !q.is_empty()) {
        url.push('?');
        url.push_str(q);
    }
    url.parse().map_err(|_| GatewayError::invalid_path())
}
