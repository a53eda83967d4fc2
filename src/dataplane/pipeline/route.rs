//! Step 4, route: the resource whose path matches (literal before `{param}` before `{greedy+}`)
//! and its method for the request's verb (or `ANY`); none is AWS's 403 Missing Authentication
//! Token. The method request (parameters decoded, query parsed) is made for the steps after.

use std::sync::Arc;

use crate::compiler::http_api::CompiledHttpApi;
use crate::compiler::{CompiledApi, CompiledMethod};
use crate::dataplane::context::RequestContext;
use crate::dataplane::error::GatewayError;
use crate::dataplane::h1::RawFields;
use crate::dataplane::request::{MethodRequest, decode_param, parse_query};

use super::canary::Deployment;

/// An HTTP API's route for the request: the most specific for its verb, else `$default`;
/// none is HTTP APIs' 404 Not Found.
pub fn http_route<'r>(
    api: &'r CompiledHttpApi,
    deployment: Deployment<'r>,
    parts: &'r http::request::Parts,
    fields: &'r RawFields,
    path: &'r str,
    ctx: &mut RequestContext<'r>,
) -> Result<(&'r Arc<CompiledMethod>, MethodRequest<'r>), GatewayError> {
    let matched = api
        .route(parts.method.as_str(), path)
        .ok_or_else(GatewayError::not_found)?;
    let method = matched.value;
    Ok((
        method,
        method_request(method, matched.params, deployment, parts, fields, ctx),
    ))
}

pub fn method<'r>(
    deployment: Deployment<'r>,
    parts: &'r http::request::Parts,
    fields: &'r RawFields,
    path: &'r str,
    ctx: &mut RequestContext<'r>,
) -> Result<(&'r Arc<CompiledMethod>, MethodRequest<'r>), GatewayError> {
    let CompiledApi::Rest(api) = &**deployment.api else {
        return Err(GatewayError::internal());
    };
    let matched = api.routes.lookup(path).ok_or_else(GatewayError::missing_token)?;
    let method = matched
        .value
        .method(parts.method.as_str())
        .ok_or_else(GatewayError::missing_token)?;
    Ok((
        method,
        method_request(method, matched.params, deployment, parts, fields, ctx),
    ))
}

/// The method request the steps after routing read: the route's path parameters decoded, the
/// query parsed.
fn method_request<'r>(
    method: &'r Arc<CompiledMethod>,
    params: Vec<(&'r str, &'r str)>,
    deployment: Deployment<'r>,
    parts: &'r http::request::Parts,
    fields: &'r RawFields,
    ctx: &mut RequestContext<'r>,
) -> MethodRequest<'r> {
    if let Some(g) = ctx.gateway_request.as_mut() {
        g.path_params = params
            .iter()
            .map(|(k, raw)| ((*k).to_owned(), decode_param(raw).into_owned()))
            .collect();
    }
    ctx.method = Some(method);
    ctx.method_label = method.http_method.as_str();
    MethodRequest {
        method: parts.method.clone(),
        raw_query: parts.uri.query().map(str::to_owned),
        query: parts.uri.query().map(parse_query).unwrap_or_default(),
        path_params: params
            .iter()
            .map(|(k, raw)| (*k, decode_param(raw), *raw))
            .collect(),
        fields,
        header_map: std::sync::OnceLock::new(),
        variables: deployment.variables,
        body: None,
    }
}
